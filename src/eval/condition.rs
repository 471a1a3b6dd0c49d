//! Condition operators as IAM evaluates them.
//!
//! Sources (AWS IAM User Guide): "IAM JSON policy elements: Condition operators",
//! "Single-valued vs. multivalued context keys" (set operators and their empty-set behaviour),
//! "…IfExists condition operators", "Condition operator to check existence of condition keys".

use super::pattern::{arn_like, Pattern};
use super::Context;
use crate::check::aws::{is_cidr, is_date};

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
            ArnNotEquals => ArnEquals,
            ArnNotLike => ArnLike,
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
    key_lower: String,
    base: Base,
    set: SetOp,
    if_exists: bool,
    values: Vec<Value>,
}

/// A policy value, parsed once for its operator family.
#[derive(Clone, Debug)]
struct Value {
    pattern: Pattern,
    number: Option<f64>,
    date: Option<f64>,
    net: Option<Net>,
}

impl Condition {
    /// `None` for an operator IAM does not know (the checks report those).
    pub fn new(operator: &str, key: &str, values: &[String]) -> Option<Condition> {
        let (set, rest) = match operator.split_once(':') {
            Some(("ForAnyValue", rest)) => (SetOp::ForAnyValue, rest),
            Some(("ForAllValues", rest)) => (SetOp::ForAllValues, rest),
            Some(_) => return None,
            None => (SetOp::None, operator),
        };
        let (base_name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let base = Base::parse(base_name)?;
        let wildcards = matches!(
            base.positive(),
            Base::StringLike | Base::ArnLike | Base::ArnEquals
        );
        let values = values
            .iter()
            .map(|v| Value {
                pattern: Pattern::new(v, true, wildcards),
                number: v.trim().parse::<f64>().ok(),
                date: parse_date(v),
                net: Net::parse(v),
            })
            .collect();
        Some(Condition {
            operator: operator.to_string(),
            key: key.to_string(),
            key_lower: key.to_ascii_lowercase(),
            base,
            set,
            if_exists,
            values,
        })
    }

    /// Whether the condition holds for a request context.
    pub fn holds(&self, context: &Context) -> bool {
        let found = context.get(&self.key_lower);
        if self.base == Base::Null {
            // `Null: true` asks for the key to be missing; several values are ORed.
            let missing = found.is_none_or(|v| v.is_empty());
            return self.values.iter().any(|v| {
                let want = v
                    .pattern
                    .text(context, &mut String::new())
                    .map(|t| t.eq_ignore_ascii_case("true"));
                want == Some(missing)
            });
        }
        let values: &[String] = match found {
            Some(v) => v,
            None => {
                return match self.set {
                    // ForAllValues is true of the empty set; ForAnyValue false.
                    SetOp::ForAllValues => true,
                    SetOp::ForAnyValue => self.if_exists,
                    SetOp::None => self.if_exists || self.base.negated(),
                };
            }
        };
        match self.set {
            SetOp::ForAnyValue => values.iter().any(|v| self.one(v, context)),
            SetOp::ForAllValues => values.iter().all(|v| self.one(v, context)),
            // A plain operator on a multi-valued key: a positive one holds when some value
            // matches, a negated one when none does.
            SetOp::None => {
                if self.base.negated() {
                    values.iter().all(|v| self.one(v, context))
                } else {
                    values.iter().any(|v| self.one(v, context))
                }
            }
        }
    }

    /// The operator applied to one request value against the policy's values (ORed).
    fn one(&self, request: &str, context: &Context) -> bool {
        let positive = self.base.positive();
        let any = self
            .values
            .iter()
            .any(|v| compare(positive, v, request, context));
        if self.base.negated() {
            !any
        } else {
            any
        }
    }
}

fn compare(base: Base, policy: &Value, request: &str, context: &Context) -> bool {
    use Base::*;
    let number = |v: &Value| -> Option<(f64, f64)> {
        let p = if v.pattern.has_vars() {
            v.pattern
                .text(context, &mut String::new())?
                .trim()
                .parse()
                .ok()?
        } else {
            v.number?
        };
        Some((request.trim().parse().ok()?, p))
    };
    let date = |v: &Value| -> Option<(f64, f64)> {
        let p = if v.pattern.has_vars() {
            parse_date(v.pattern.text(context, &mut String::new())?)?
        } else {
            v.date?
        };
        Some((parse_date(request)?, p))
    };
    match base {
        StringEquals => policy.pattern.matches(request, context, false),
        StringEqualsIgnoreCase => policy.pattern.matches(request, context, true),
        StringLike => policy.pattern.matches(request, context, false),
        NumericEquals => number(policy).is_some_and(|(r, p)| r == p),
        NumericLessThan => number(policy).is_some_and(|(r, p)| r < p),
        NumericLessThanEquals => number(policy).is_some_and(|(r, p)| r <= p),
        NumericGreaterThan => number(policy).is_some_and(|(r, p)| r > p),
        NumericGreaterThanEquals => number(policy).is_some_and(|(r, p)| r >= p),
        DateEquals => date(policy).is_some_and(|(r, p)| r == p),
        DateLessThan => date(policy).is_some_and(|(r, p)| r < p),
        DateLessThanEquals => date(policy).is_some_and(|(r, p)| r <= p),
        DateGreaterThan => date(policy).is_some_and(|(r, p)| r > p),
        DateGreaterThanEquals => date(policy).is_some_and(|(r, p)| r >= p),
        Bool => policy
            .pattern
            .text(context, &mut String::new())
            .is_some_and(|p| p.eq_ignore_ascii_case(request.trim())),
        BinaryEquals => policy.pattern.matches(request, context, false),
        IpAddress => match (&policy.net, request.trim().parse::<std::net::IpAddr>()) {
            (Some(net), Ok(ip)) => net.contains(ip),
            _ => false,
        },
        ArnEquals | ArnLike => {
            let mut buf = String::new();
            policy
                .pattern
                .text(context, &mut buf)
                .is_some_and(|p| arn_like(p, request))
        }
        // Negated operators never reach here: `one` complements their positive form.
        _ => false,
    }
}

/// A CIDR range (or a single address).
#[derive(Clone, Copy, Debug)]
struct Net {
    addr: std::net::IpAddr,
    bits: u32,
}

impl Net {
    fn parse(text: &str) -> Option<Net> {
        let text = text.trim();
        if !is_cidr(text) {
            return None;
        }
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let addr: std::net::IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b.parse().ok()?,
            None => max,
        };
        Some(Net { addr, bits })
    }

    fn contains(&self, ip: std::net::IpAddr) -> bool {
        match (self.addr, ip) {
            (std::net::IpAddr::V4(net), std::net::IpAddr::V4(ip)) => {
                let mask = if self.bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.bits)
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (std::net::IpAddr::V6(net), std::net::IpAddr::V6(ip)) => {
                let mask = if self.bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.bits)
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            // An IPv4 address written as IPv4-mapped IPv6 matches an IPv4 range.
            (std::net::IpAddr::V4(_), std::net::IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(v4) => self.contains(std::net::IpAddr::V4(v4)),
                None => false,
            },
            _ => false,
        }
    }
}

/// Seconds since the epoch of an ISO 8601 date or date-time, or of epoch seconds.
pub fn parse_date(text: &str) -> Option<f64> {
    let text = text.trim();
    if !is_date(text) {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (y, m, d) = (num(&text[0..4])?, num(&text[5..7])?, num(&text[8..10])?);
    let mut seconds = days_from_civil(y, m, d) as f64 * 86_400.0;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(seconds);
    }
    let time = &rest[1..];
    let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, ""),
    };
    let mut parts = clock.split(':');
    let h = num(parts.next()?)?;
    let min = num(parts.next()?)?;
    let sec: f64 = parts.next().map_or(Some(0.0), |s| s.parse().ok())?;
    seconds += (h * 3600 + min * 60) as f64 + sec;
    if zone.len() == 6 {
        let sign = if zone.starts_with('-') { -1.0 } else { 1.0 };
        let offset = (num(&zone[1..3])? * 3600 + num(&zone[4..6])? * 60) as f64;
        seconds -= sign * offset;
    }
    Some(seconds)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_epoch_seconds() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_date("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_date("2020-01-01T00:00:00Z"), Some(1_577_836_800.0));
        assert_eq!(
            parse_date("2020-01-01T01:00:00+01:00"),
            Some(1_577_836_800.0)
        );
        assert_eq!(parse_date("1577836800"), Some(1_577_836_800.0));
        assert_eq!(parse_date("2020-01-01T00:00:00.5Z"), Some(1_577_836_800.5));
        assert_eq!(parse_date("not a date"), None);
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
    }
}
