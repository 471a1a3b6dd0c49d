//! Condition operators as IAM evaluates them.
//!
//! Sources (AWS IAM User Guide):
//! - "IAM JSON policy elements: Condition operators": a key missing from the request makes a
//!   condition false, except for negated operators (`StringNotLike`, `ArnNotLike`, …), which are
//!   then true, `…IfExists` (true when the key is missing) and `Null`. Policy variables work
//!   only with the String, ARN and Bool families; Numeric, Date, Binary, IP address and `Null`
//!   values are taken literally. `ArnEquals` and `ArnLike` behave identically and match each of
//!   the six colon-separated parts on its own. Date values are W3C ISO 8601 or epoch seconds.
//!   IP values are CIDR ranges, IPv4 or IPv6; a bare address is a `/32` (`/128`).
//! - "Conditions with multiple context keys or values": several operators, and several keys
//!   under one operator, are ANDed; several values of one key are ORed, and NORed for a negated
//!   operator.
//! - "Single-valued vs. multivalued context keys" / "Set operators for multivalued context
//!   keys": multivalued keys need `ForAnyValue`/`ForAllValues`; `ForAllValues` is true and
//!   `ForAnyValue` false when the key is missing or resolves to an empty set. A plain operator
//!   compares one request value: given a key with several values it does not hold.
//! - "IAM policy elements: Variables and tags": a variable that cannot be resolved (no value,
//!   no default) matches nothing and can make the whole statement invalid, so a negated
//!   operator that refers to one does not hold either.
//! - "Condition keys are case-insensitive" ("IAM JSON policy elements: Condition").

use super::pattern::{ArnPattern, Pattern};
use super::{key_hash, Context};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Base {
    fn parse(name: &str) -> Option<Base> {
        use Base::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Negated operators are true when no policy value matches, and when the key is missing.
    fn negated(self) -> bool {
        use Base::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// The positive operator a negated one is the complement of.
    fn positive(self) -> Base {
        use Base::*;
        match self {
            StringNotEquals => StringEquals,
            StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
            StringNotLike => StringLike,
            NumericNotEquals => NumericEquals,
            DateNotEquals => DateEquals,
            NotIpAddress => IpAddress,
            ArnNotEquals | ArnEquals | ArnNotLike => ArnLike,
            other => other,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    None,
    ForAnyValue,
    ForAllValues,
}

/// One `operator: { key: values }` entry, ready to evaluate.
#[derive(Clone, Debug)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    key_lower: Box<str>,
    key_hash: u64,
    /// The positive form of the operator.
    base: Base,
    negated: bool,
    set: SetOp,
    if_exists: bool,
    values: Values,
    /// The policy's values as written, for explanations.
    texts: Box<[Box<str>]>,
    /// Some value holds a policy variable.
    has_vars: bool,
}

/// The policy's values, parsed once for the operator's family.
#[derive(Clone, Debug)]
enum Values {
    /// String operators and `Bool` (variables allowed).
    Patterns(Box<[Pattern]>),
    /// ARN operators (variables and wildcards, part by part).
    Arns(Box<[ArnPattern]>),
    /// Numeric operators: `None` for a value that is not a number (it matches nothing).
    Numbers(Box<[Option<Decimal>]>),
    /// Date operators: `None` for a value that is not a date.
    Dates(Box<[Option<Instant>]>),
    /// `BinaryEquals`: base-64 text, compared byte for byte.
    Binary(Box<[Box<str>]>),
    /// IP address operators: `None` for a value that is not a CIDR range or address.
    Nets(Box<[Option<Net>]>),
    /// `Null`: `true` (the key must be missing) or `false` (present).
    Null(Box<[Option<bool>]>),
}

impl Condition {
    /// `None` for an operator IAM does not know (the checks report those).
    pub fn new(operator: &str, key: &str, values: &[String]) -> Option<Condition> {
        Condition::with_variables(operator, key, values, true)
    }

    /// [`Condition::new`]; without `variables` (a policy of the `2008-10-17` language),
    /// `${…}` in values is plain text.
    pub fn with_variables(
        operator: &str,
        key: &str,
        values: &[String],
        variables: bool,
    ) -> Option<Condition> {
        let (set, rest) = match operator.split_once(':') {
            Some(("ForAnyValue", rest)) => (SetOp::ForAnyValue, rest),
            Some(("ForAllValues", rest)) => (SetOp::ForAllValues, rest),
            Some(_) => return None,
            None => (SetOp::None, operator),
        };
        let (base_name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) if b != "Null" => (b, true),
            Some(_) => return None,
            None => (rest, false),
        };
        let named = Base::parse(base_name)?;
        let base = named.positive();
        let texts = values.iter().map(|v| v.as_str().into()).collect();
        use Base::*;
        let values = match base {
            StringEquals | StringEqualsIgnoreCase => Values::Patterns(
                values
                    .iter()
                    .map(|v| Pattern::new(v, variables, false))
                    .collect(),
            ),
            StringLike => Values::Patterns(
                values
                    .iter()
                    .map(|v| Pattern::new(v, variables, true))
                    .collect(),
            ),
            Bool => Values::Patterns(
                values
                    .iter()
                    .map(|v| Pattern::new(v, variables, false))
                    .collect(),
            ),
            ArnLike => Values::Arns(
                values
                    .iter()
                    .map(|v| ArnPattern::new(v, variables))
                    .collect(),
            ),
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => {
                Values::Numbers(values.iter().map(|v| Decimal::parse(v)).collect())
            }
            DateEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => {
                Values::Dates(values.iter().map(|v| parse_instant(v)).collect())
            }
            BinaryEquals => Values::Binary(values.iter().map(|v| v.as_str().into()).collect()),
            IpAddress => Values::Nets(values.iter().map(|v| Net::parse(v)).collect()),
            Null => Values::Null(
                values
                    .iter()
                    .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                        "true" => Some(true),
                        "false" => Some(false),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => return None,
        };
        let has_vars = match &values {
            Values::Patterns(p) => p.iter().any(Pattern::has_vars),
            Values::Arns(_) => true,
            _ => false,
        };
        Some(Condition {
            operator: operator.to_string(),
            key: key.to_string(),
            key_lower: key.to_ascii_lowercase().into_boxed_str(),
            key_hash: key_hash(&key.to_ascii_lowercase()),
            base,
            negated: named.negated(),
            set,
            if_exists,
            values,
            texts,
            has_vars,
        })
    }

    /// Whether the condition holds for a request context.
    pub fn holds(&self, context: &Context) -> bool {
        // A key given with no value is an empty set: as good as missing.
        let found = context
            .get_hashed(self.key_hash, &self.key_lower)
            .filter(|v| !v.is_empty());
        if let Values::Null(wanted) = &self.values {
            // `Null: true` asks for the key to be missing; several values are ORed.
            let missing = found.is_none();
            return wanted.contains(&Some(missing));
        }
        let Some(values) = found else {
            return match self.set {
                // ForAllValues is true of the empty set; ForAnyValue false, and `IfExists`
                // does not change that ("Set operators for multivalued context keys").
                SetOp::ForAllValues => true,
                SetOp::ForAnyValue => false,
                SetOp::None => self.if_exists || self.negated,
            };
        };
        // A negated operator whose value cannot be resolved makes the statement invalid.
        if self.negated && self.has_vars && !self.resolves(context) {
            return false;
        }
        match self.set {
            SetOp::ForAnyValue => values.iter().any(|v| self.one(v, context)),
            SetOp::ForAllValues => values.iter().all(|v| self.one(v, context)),
            // A plain operator compares a single value: a multivalued key needs a set
            // operator.
            SetOp::None => match values {
                [one] => self.one(one, context),
                _ => false,
            },
        }
    }

    /// Why the condition does not hold for a request context, in words:
    /// "`kms:ViaService` was `ec2.us-east-1.amazonaws.com`, not `s3.us-east-1.amazonaws.com`".
    pub fn why_not(&self, context: &Context) -> String {
        let key = &self.key;
        let op = &self.operator;
        let found = context
            .get_hashed(self.key_hash, &self.key_lower)
            .filter(|v| !v.is_empty());
        let wanted = quoted_list(self.texts.iter().map(|t| &**t), "or");
        if let Values::Null(_) = &self.values {
            let asked =
                crate::source::clip(self.texts.first().map_or("", |t| &**t), 16).escape_debug();
            return match found {
                None => format!("`{key}` was not in the request, and `{op}: {asked}` asks for it"),
                Some(v) => format!(
                    "`{key}` was {}, and `{op}: {asked}` asks for it to be absent",
                    shown_values(v)
                ),
            };
        }
        let Some(values) = found else {
            return match self.set {
                SetOp::ForAnyValue => {
                    format!("`{key}` was not in the request, and `{op}` needs at least one value")
                }
                _ => format!("`{key}` was not in the request"),
            };
        };
        if self.negated && self.has_vars && !self.resolves(context) {
            return format!("a policy variable in `{key}`'s values has no value in the request");
        }
        let shown = shown_values(values);
        if self.set == SetOp::None && values.len() > 1 {
            return format!(
                "`{key}` had {} values ({shown}), and `{op}` compares one",
                values.len()
            );
        }
        if self.negated {
            return format!("`{key}` was {shown}, which `{op}` excludes ({wanted})");
        }
        if self.set != SetOp::None {
            return format!("`{key}` was {shown}, and `{op}` asks for {wanted}");
        }
        if op.contains("Like") {
            format!("`{key}` was {shown}, which does not match {wanted}")
        } else if op.contains("Equals") || self.base == Base::Bool {
            format!("`{key}` was {shown}, not {wanted}")
        } else {
            format!("`{key}` was {shown}, and `{op}` asks for {wanted}")
        }
    }

    fn resolves(&self, context: &Context) -> bool {
        match &self.values {
            Values::Patterns(p) => p.iter().all(|p| p.resolves(context)),
            Values::Arns(p) => p.iter().all(|p| p.resolves(context)),
            _ => true,
        }
    }

    /// The operator applied to one request value against the policy's values: ORed for a
    /// positive operator, NORed for a negated one.
    fn one(&self, request: &str, context: &Context) -> bool {
        let any = self.any_matches(request, context);
        any != self.negated
    }

    fn any_matches(&self, request: &str, context: &Context) -> bool {
        use Base::*;
        match &self.values {
            Values::Patterns(patterns) => match self.base {
                StringEquals | StringLike => {
                    patterns.iter().any(|p| p.matches(request, context, false))
                }
                StringEqualsIgnoreCase => {
                    if request.is_ascii() {
                        patterns.iter().any(|p| p.matches(request, context, true))
                    } else {
                        let mut buf = String::new();
                        patterns.iter().any(|p| {
                            p.text(context, &mut buf)
                                .is_some_and(|t| unicode_eq_ignore_case(t, request))
                        })
                    }
                }
                // Bool: `true` or `false`, without case.
                _ => {
                    let request = request.trim();
                    patterns.iter().any(|p| match p.exact() {
                        Some(t) => t.trim().eq_ignore_ascii_case(request),
                        None => {
                            let mut buf = String::new();
                            p.text(context, &mut buf)
                                .is_some_and(|t| t.trim().eq_ignore_ascii_case(request))
                        }
                    })
                }
            },
            Values::Arns(arns) => arns.iter().any(|a| a.matches(request, context)),
            Values::Numbers(numbers) => {
                let Some(r) = DecimalRef::parse(request) else {
                    return false;
                };
                numbers.iter().flatten().any(|p| {
                    let ord = r.cmp(&p.as_ref());
                    match self.base {
                        NumericEquals => ord.is_eq(),
                        NumericLessThan => ord.is_lt(),
                        NumericLessThanEquals => ord.is_le(),
                        NumericGreaterThan => ord.is_gt(),
                        _ => ord.is_ge(),
                    }
                })
            }
            Values::Dates(dates) => {
                let Some(r) = parse_instant(request) else {
                    return false;
                };
                dates.iter().flatten().any(|p| {
                    let ord = r.cmp(p);
                    match self.base {
                        DateEquals => ord.is_eq(),
                        DateLessThan => ord.is_lt(),
                        DateLessThanEquals => ord.is_le(),
                        DateGreaterThan => ord.is_gt(),
                        _ => ord.is_ge(),
                    }
                })
            }
            Values::Binary(values) => values.iter().any(|v| **v == *request),
            Values::Nets(nets) => match request.trim().parse::<std::net::IpAddr>() {
                Ok(ip) => nets.iter().flatten().any(|n| n.contains(ip)),
                Err(_) => false,
            },
            Values::Null(_) => false,
        }
    }
}

/// Values for a message: each in backticks, clipped, at most three and a count of the rest.
fn quoted_list<'a>(items: impl ExactSizeIterator<Item = &'a str>, last: &str) -> String {
    let total = items.len();
    let shown: Vec<String> = items
        .take(3)
        .map(|v| {
            let clipped = crate::source::clip(v, 80);
            let more = if clipped.len() < v.len() { "…" } else { "" };
            format!("`{}{more}`", clipped.escape_debug())
        })
        .collect();
    match shown.as_slice() {
        [] => "no value".to_string(),
        [one] => one.clone(),
        [init @ .., end] if total == shown.len() => {
            format!("{} {last} {end}", init.join(", "))
        }
        _ => format!("{} {last} {} more", shown.join(", "), total - shown.len()),
    }
}

/// A request's values for a message: `v`, or [`a`, `b`].
fn shown_values(values: &[String]) -> String {
    match values {
        [one] => quoted_list(std::iter::once(one.as_str()), "and"),
        _ => format!(
            "[{}]",
            quoted_list(values.iter().map(String::as_str), "and")
        ),
    }
}

/// Case-insensitive comparison beyond ASCII (`StringEqualsIgnoreCase` on non-ASCII text).
fn unicode_eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// A decimal number compared exactly (no floating-point rounding): sign, integer digits
/// without leading zeros, fraction digits without trailing zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    int: Box<str>,
    frac: Box<str>,
}

/// A borrowed decimal, for request values (no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DecimalRef<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

impl Decimal {
    /// An integer or decimal (`10`, `-2.5`, `+0.10`); `None` for anything else.
    pub fn parse(text: &str) -> Option<Decimal> {
        let d = DecimalRef::parse(text)?;
        Some(Decimal {
            negative: d.negative,
            int: d.int.into(),
            frac: d.frac.into(),
        })
    }

    fn as_ref(&self) -> DecimalRef<'_> {
        DecimalRef {
            negative: self.negative,
            int: &self.int,
            frac: &self.frac,
        }
    }
}

impl<'a> DecimalRef<'a> {
    fn parse(text: &'a str) -> Option<DecimalRef<'a>> {
        let text = text.trim();
        let (negative, digits) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        // Zero has no sign.
        let negative = negative && !(int.is_empty() && frac.is_empty());
        Some(DecimalRef {
            negative,
            int,
            frac,
        })
    }

    fn cmp_magnitude(&self, other: &DecimalRef) -> std::cmp::Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(other.int))
            .then_with(|| self.frac.cmp(other.frac))
    }

    fn cmp(&self, other: &DecimalRef) -> std::cmp::Ordering {
        match (self.negative, other.negative) {
            (false, true) => std::cmp::Ordering::Greater,
            (true, false) => std::cmp::Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

/// A point in time: seconds since the epoch and nanoseconds, compared exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    seconds: i64,
    nanos: u32,
}

impl Instant {
    pub fn seconds(self) -> i64 {
        self.seconds
    }
}

/// A date in one of the W3C profiles of ISO 8601 (`2020-01-01`, `2020-01-01T00:00Z`,
/// `2020-01-01T00:00:00.5+01:00`, …; without a zone, UTC), or epoch seconds (`1577836800`).
pub fn parse_instant(text: &str) -> Option<Instant> {
    let text = text.trim();
    let b = text.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b.iter().all(u8::is_ascii_digit) {
        return Some(Instant {
            seconds: text.parse().ok()?,
            nanos: 0,
        });
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = b.get(r)?;
        if s.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(s).ok()?.parse().ok()
        } else {
            None
        }
    };
    let year = digits(0..4)?;
    let (month, day, mut i) = match (b.get(4), b.get(7)) {
        (Some(b'-'), Some(b'-')) => (digits(5..7)?, digits(8..10)?, 10),
        (Some(b'-'), None) => (digits(5..7)?, 1, 7),
        (None, _) => (1, 1, 4),
        _ => return None,
    };
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0u32;
    if i < b.len() {
        if b[i] != b'T' && b[i] != b't' {
            return None;
        }
        i += 1;
        let hour = digits(i..i + 2)?;
        if b.get(i + 2) != Some(&b':') {
            return None;
        }
        let minute = digits(i + 3..i + 5)?;
        i += 5;
        let mut second = 0;
        if b.get(i) == Some(&b':') {
            second = digits(i + 1..i + 3)?;
            i += 3;
            if b.get(i) == Some(&b'.') {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i == start {
                    return None;
                }
                let frac = &text[start..i];
                let mut n: u32 = 0;
                for (k, c) in frac.bytes().take(9).enumerate() {
                    n += u32::from(c - b'0') * 10u32.pow(8 - k as u32);
                }
                nanos = n;
            }
        }
        if hour > 24 || minute > 59 || second > 60 {
            return None;
        }
        seconds += hour * 3600 + minute * 60 + second;
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) => {
                let zh = digits(i + 1..i + 3)?;
                let zm = match b.get(i + 3) {
                    Some(b':') => digits(i + 4..i + 6)?,
                    _ => digits(i + 3..i + 5)?,
                };
                let end = if b.get(i + 3) == Some(&b':') {
                    i + 6
                } else {
                    i + 5
                };
                if end != b.len() {
                    return None;
                }
                let offset = zh * 3600 + zm * 60;
                seconds -= if sign == b'+' { offset } else { -offset };
            }
            _ => return None,
        }
    }
    Some(Instant { seconds, nanos })
}

/// Seconds since the epoch of a date (for callers that want a number).
pub fn parse_date(text: &str) -> Option<f64> {
    parse_instant(text).map(|i| i.seconds as f64 + f64::from(i.nanos) / 1e9)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A CIDR range (or a single address).
#[derive(Clone, Copy, Debug)]
pub struct Net {
    addr: std::net::IpAddr,
    bits: u32,
}

impl Net {
    pub fn parse(text: &str) -> Option<Net> {
        let text = text.trim();
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let addr: std::net::IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) if !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()) => b.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (bits <= max).then_some(Net { addr, bits })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        match (self.addr, ip) {
            (V4(net), V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - self.bits).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (V6(net), V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - self.bits).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            // An IPv4 address written as IPv4-mapped IPv6 matches an IPv4 range.
            (V4(_), V6(ip)) => match ip.to_ipv4_mapped() {
                Some(v4) => self.contains(V4(v4)),
                None => false,
            },
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why `operator: {key: values}` does not hold for a context of `(key, values)` pairs.
    fn why_not(operator: &str, key: &str, values: &[&str], context: &[(&str, &[&str])]) -> String {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let condition = Condition::new(operator, key, &values).expect("a known operator");
        let mut ctx = Context::default();
        for (k, v) in context {
            ctx.insert(k, v.iter().map(|s| s.to_string()).collect());
        }
        assert!(!condition.holds(&ctx), "{operator} {key} holds");
        condition.why_not(&ctx)
    }

    #[test]
    fn failed_conditions_are_explained_by_operator() {
        let via = "kms:ViaService";
        assert_eq!(
            why_not(
                "StringEquals",
                via,
                &["s3.amazonaws.com"],
                &[(via, &["ec2.amazonaws.com"])]
            ),
            "`kms:ViaService` was `ec2.amazonaws.com`, not `s3.amazonaws.com`"
        );
        assert_eq!(
            why_not("StringEquals", via, &["a", "b", "c", "d"], &[(via, &["x"])]),
            "`kms:ViaService` was `x`, not `a`, `b`, `c` or 1 more"
        );
        assert_eq!(
            why_not(
                "StringLike",
                "s3:prefix",
                &["home/*"],
                &[("s3:prefix", &["tmp/"])]
            ),
            "`s3:prefix` was `tmp/`, which does not match `home/*`"
        );
        assert_eq!(
            why_not("StringNotEquals", via, &["a", "b"], &[(via, &["b"])]),
            "`kms:ViaService` was `b`, which `StringNotEquals` excludes (`a` or `b`)"
        );
        assert_eq!(
            why_not("IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &[]),
            "`aws:SourceIp` was not in the request"
        );
        assert_eq!(
            why_not("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", &["team"], &[]),
            "`aws:TagKeys` was not in the request, and `ForAnyValue:StringEqualsIfExists` needs at least one value"
        );
        assert_eq!(
            why_not(
                "StringEquals",
                "aws:TagKeys",
                &["a"],
                &[("aws:TagKeys", &["a", "b"])]
            ),
            "`aws:TagKeys` had 2 values ([`a` and `b`]), and `StringEquals` compares one"
        );
        assert_eq!(
            why_not(
                "NumericLessThan",
                "s3:max-keys",
                &["10"],
                &[("s3:max-keys", &["20"])]
            ),
            "`s3:max-keys` was `20`, and `NumericLessThan` asks for `10`"
        );
        assert_eq!(
            why_not(
                "Null",
                "aws:TokenIssueTime",
                &["true"],
                &[("aws:TokenIssueTime", &["t"])]
            ),
            "`aws:TokenIssueTime` was `t`, and `Null: true` asks for it to be absent"
        );
        // Long and non-ASCII values are clipped on a character boundary, control and
        // invisible characters shown escaped.
        let long = "é".repeat(60);
        let said = why_not("StringEquals", via, &["x"], &[(via, &[long.as_str()])]);
        assert!(said.contains(&format!("`{}…`", "é".repeat(40))), "{said}");
        let said = why_not("StringEquals", via, &["x"], &[(via, &["a\u{200b}\n"])]);
        assert!(said.contains("`a\\u{200b}\\n`"), "{said}");
    }

    #[test]
    fn for_any_value_if_exists_is_false_without_the_key() {
        let c = Condition::new(
            "ForAnyValue:StringEqualsIfExists",
            "aws:TagKeys",
            &["team".into()],
        )
        .unwrap();
        let mut ctx = Context::default();
        assert!(!c.holds(&ctx));
        ctx.insert("aws:TagKeys", Vec::new());
        assert!(!c.holds(&ctx));
        ctx.insert("aws:TagKeys", vec!["team".into()]);
        assert!(c.holds(&ctx));
        let all = Condition::new(
            "ForAllValues:StringEqualsIfExists",
            "aws:TagKeys",
            &["team".into()],
        )
        .unwrap();
        assert!(all.holds(&Context::default()));
        let plain =
            Condition::new("StringEqualsIfExists", "aws:TagKeys", &["team".into()]).unwrap();
        assert!(plain.holds(&Context::default()));
    }

    #[test]
    fn dates_parse_to_epoch_seconds() {
        let s = |t: &str| parse_instant(t).map(Instant::seconds);
        assert_eq!(s("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(s("1970-01-02"), Some(86_400));
        assert_eq!(s("2020-01-01T00:00:00Z"), Some(1_577_836_800));
        assert_eq!(s("2020-01-01T01:00:00+01:00"), Some(1_577_836_800));
        assert_eq!(s("2019-12-31T19:00:00-05:00"), Some(1_577_836_800));
        assert_eq!(s("2020-01-01T00:00Z"), Some(1_577_836_800));
        assert_eq!(s("1577836800"), Some(1_577_836_800));
        assert_eq!(s("2020-02-30"), None);
        assert_eq!(s("not a date"), None);
        assert_eq!(
            parse_instant("2020-01-01T00:00:00.5Z"),
            Some(Instant {
                seconds: 1_577_836_800,
                nanos: 500_000_000
            })
        );
        assert!(parse_instant("2020-01-01T00:00:00.5Z") > parse_instant("2020-01-01T00:00:00Z"));
        assert_eq!(parse_date("2020-01-01T00:00:00.5Z"), Some(1_577_836_800.5));
    }

    #[test]
    fn decimals_compare_exactly() {
        fn d(t: &str) -> DecimalRef<'_> {
            DecimalRef::parse(t).unwrap()
        }
        use std::cmp::Ordering::*;
        assert_eq!(d("10").cmp(&d("10.0")), Equal);
        assert_eq!(d("-0").cmp(&d("0")), Equal);
        assert_eq!(d("9").cmp(&d("10")), Less);
        assert_eq!(d("-9").cmp(&d("-10")), Greater);
        assert_eq!(d("0.5").cmp(&d(".50")), Equal);
        assert_eq!(d("9007199254740993").cmp(&d("9007199254740992")), Greater);
        assert!(DecimalRef::parse("1e3").is_none());
        assert!(DecimalRef::parse("NaN").is_none());
        assert!(DecimalRef::parse("").is_none());
        let p = Decimal::parse("10").unwrap();
        assert_eq!(d("9").cmp(&p.as_ref()), Less);
        assert_eq!(d("10.00").cmp(&p.as_ref()), Equal);
    }

    #[test]
    fn networks_contain_addresses() {
        let net = Net::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let net = Net::parse("2001:db8::/32").unwrap();
        assert!(net.contains("2001:db8::1".parse().unwrap()));
        assert!(!net.contains("2001:db9::1".parse().unwrap()));
        assert!(Net::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Net::parse("::/0")
            .unwrap()
            .contains("2001:db8::1".parse().unwrap()));
        assert!(Net::parse("10.0.0.0/33").is_none());
        assert!(Net::parse("10.0.0.0/").is_none());
    }
}
