//! Wildcards (`*`, `?`) and IAM policy variables (`${aws:username}`, `${key, 'default'}`,
//! `${*}`, `${?}`, `${$}`), compiled once per policy so matching a request allocates nothing.
//!
//! Sources (AWS IAM User Guide): "IAM JSON policy elements: Resource" (wildcards in ARNs),
//! "IAM policy elements: Variables and tags" (variables, the special `${*}`, `${?}`, `${$}`,
//! default values `${key, 'default'}`, unresolvable variables), "IAM JSON policy elements:
//! Condition operators" (ARN operators match each of the six colon-separated parts on its own).

use super::{key_hash, Context};

/// One piece of a pattern with policy variables.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// Literal text (`${*}`, `${?}`, `${$}` end up here as literal characters).
    Text(Box<str>),
    /// `*`: any run of characters.
    Star,
    /// `?`: any one character.
    One,
    /// `${key}` or `${key, 'default'}`: the request's value of `key` (lower case), taken
    /// literally (a `*` in the value is not a wildcard).
    Var {
        key: Box<str>,
        hash: u64,
        default: Option<Box<str>>,
    },
}

/// How a compiled pattern matches, fastest first.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// No wildcard, no variable: compare as text.
    Exact(Box<str>),
    /// `*` alone: anything.
    Any,
    /// `text*`: a prefix.
    Prefix(Box<str>),
    /// Wildcards without variables.
    Glob(Box<[Seg]>),
    /// With policy variables.
    Vars(Box<[Piece]>),
}

/// A piece of a variable-free glob.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Lit(Box<[u8]>),
    Star,
    One,
}

/// A pattern from a policy: an action, a resource, or a condition value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    kind: Kind,
}

/// Symbols the matcher works on: a byte to match literally, or a wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sym {
    Byte(u8),
    Star,
    One,
}

/// A token of a pattern being matched: literal bytes or a wildcard.
#[derive(Clone, Copy, Debug)]
enum Tok<'a> {
    Lit(&'a [u8]),
    Star,
    One,
}

/// Up to this many tokens are matched from the stack; longer patterns use the heap.
const STACK_TOKENS: usize = 24;

impl Pattern {
    /// Compiles `text`. With `variables`, `${…}` are policy variables (Resource and condition
    /// values); without, they are literal text (Action). With `wildcards`, `*` and `?` are
    /// wildcards; without (StringEquals values), they are literal.
    pub fn new(text: &str, variables: bool, wildcards: bool) -> Pattern {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let flush = |literal: &mut String, pieces: &mut Vec<Piece>| {
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(literal).into_boxed_str()));
            }
        };
        while let Some(c) = rest.chars().next() {
            if variables && rest.starts_with("${") {
                if let Some(end) = rest.find('}') {
                    let inner = &rest[2..end];
                    rest = &rest[end + 1..];
                    match inner {
                        "*" | "?" | "$" => literal.push_str(inner),
                        _ => {
                            flush(&mut literal, &mut pieces);
                            let (key, default) = parse_variable(inner);
                            let key = key.to_ascii_lowercase();
                            pieces.push(Piece::Var {
                                hash: key_hash(&key),
                                key: key.into_boxed_str(),
                                default: default.map(Into::into),
                            });
                        }
                    }
                    continue;
                }
            }
            match c {
                '*' if wildcards => {
                    flush(&mut literal, &mut pieces);
                    if pieces.last() != Some(&Piece::Star) {
                        pieces.push(Piece::Star);
                    }
                }
                '?' if wildcards => {
                    flush(&mut literal, &mut pieces);
                    pieces.push(Piece::One);
                }
                c => literal.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        flush(&mut literal, &mut pieces);
        let kind = if pieces.iter().any(|p| matches!(p, Piece::Var { .. })) {
            Kind::Vars(pieces.into_boxed_slice())
        } else {
            match pieces.as_slice() {
                [] => Kind::Exact("".into()),
                [Piece::Text(t)] => Kind::Exact(t.clone()),
                [Piece::Star] => Kind::Any,
                [Piece::Text(t), Piece::Star] => Kind::Prefix(t.clone()),
                _ => Kind::Glob(
                    pieces
                        .iter()
                        .map(|p| match p {
                            Piece::Text(t) => Seg::Lit(t.as_bytes().into()),
                            Piece::Star => Seg::Star,
                            _ => Seg::One,
                        })
                        .collect(),
                ),
            }
        };
        Pattern { kind }
    }

    /// Whether the pattern holds a policy variable.
    pub fn has_vars(&self) -> bool {
        matches!(self.kind, Kind::Vars(_))
    }

    /// Whether every variable of the pattern has a value in the request (or a default).
    pub fn resolves(&self, context: &Context) -> bool {
        match &self.kind {
            Kind::Vars(pieces) => pieces.iter().all(|p| match p {
                Piece::Var { key, hash, default } => {
                    default.is_some() || context.single_hashed(*hash, key).is_some()
                }
                _ => true,
            }),
            _ => true,
        }
    }

    /// The pattern's literal text when it has neither wildcard nor variable.
    pub fn exact(&self) -> Option<&str> {
        match &self.kind {
            Kind::Exact(t) => Some(t),
            _ => None,
        }
    }

    /// The pattern with the request's variables filled in, as symbols; `false` when a variable
    /// has no value and no default (the pattern then matches nothing).
    pub fn symbols(&self, context: &Context, out: &mut Vec<Sym>) -> bool {
        out.clear();
        let mut push = |tok: Tok| match tok {
            Tok::Lit(l) => out.extend(l.iter().map(|&b| Sym::Byte(b))),
            Tok::Star => out.push(Sym::Star),
            Tok::One => out.push(Sym::One),
        };
        match &self.kind {
            Kind::Exact(t) => push(Tok::Lit(t.as_bytes())),
            Kind::Any => push(Tok::Star),
            Kind::Prefix(t) => {
                push(Tok::Lit(t.as_bytes()));
                push(Tok::Star);
            }
            Kind::Glob(segs) => segs.iter().for_each(|s| push(seg_tok(s))),
            Kind::Vars(pieces) => {
                for p in pieces.iter() {
                    match piece_tok(p, context) {
                        Some(t) => push(t),
                        None => return false,
                    }
                }
            }
        }
        true
    }

    /// Whether `text` matches; `ignore_case` compares ASCII letters without case. A pattern
    /// whose variable has no value and no default matches nothing.
    pub fn matches(&self, text: &str, context: &Context, ignore_case: bool) -> bool {
        let text = text.as_bytes();
        let eq = |a: &[u8], b: &[u8]| {
            if ignore_case {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        match &self.kind {
            Kind::Exact(t) => eq(t.as_bytes(), text),
            Kind::Any => true,
            Kind::Prefix(p) => text.len() >= p.len() && eq(p.as_bytes(), &text[..p.len()]),
            Kind::Glob(segs) => with_tokens(
                segs.len(),
                |i| Some(seg_tok(&segs[i])),
                |toks| glob(toks, text, ignore_case),
            )
            .unwrap_or(false),
            Kind::Vars(pieces) => with_tokens(
                pieces.len(),
                |i| piece_tok(&pieces[i], context),
                |toks| glob(toks, text, ignore_case),
            )
            .unwrap_or(false),
        }
    }

    /// The pattern's text with variables filled in (for `Bool` and the like); `None` when a
    /// variable has no value. Wildcards are written back as `*` and `?`.
    pub fn text<'a>(&'a self, context: &'a Context, buf: &'a mut String) -> Option<&'a str> {
        match &self.kind {
            Kind::Exact(t) => return Some(t),
            Kind::Any => return Some("*"),
            _ => {}
        }
        buf.clear();
        let mut syms = Vec::new();
        if !self.symbols(context, &mut syms) {
            return None;
        }
        let mut bytes = Vec::with_capacity(syms.len());
        for s in syms {
            bytes.push(match s {
                Sym::Byte(b) => b,
                Sym::Star => b'*',
                Sym::One => b'?',
            });
        }
        buf.push_str(&String::from_utf8_lossy(&bytes));
        Some(buf)
    }
}

/// `key, 'default'` inside `${…}`: the key and its default, if any.
fn parse_variable(inner: &str) -> (&str, Option<&str>) {
    match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d);
            (k.trim(), Some(d))
        }
        None => (inner.trim(), None),
    }
}

fn seg_tok(s: &Seg) -> Tok<'_> {
    match s {
        Seg::Lit(l) => Tok::Lit(l),
        Seg::Star => Tok::Star,
        Seg::One => Tok::One,
    }
}

/// A piece as a token, its variable filled in; `None` when the variable has no value.
fn piece_tok<'a>(p: &'a Piece, context: &'a Context) -> Option<Tok<'a>> {
    Some(match p {
        Piece::Text(t) => Tok::Lit(t.as_bytes()),
        Piece::Star => Tok::Star,
        Piece::One => Tok::One,
        Piece::Var { key, hash, default } => Tok::Lit(
            context
                .single_hashed(*hash, key)
                .or(default.as_deref())?
                .as_bytes(),
        ),
    })
}

/// Builds `n` tokens (on the stack when few) and runs `f` on them; `None` when a token could
/// not be made (a variable without value).
fn with_tokens<'a, R>(
    n: usize,
    tok: impl Fn(usize) -> Option<Tok<'a>>,
    f: impl FnOnce(&[Tok<'a>]) -> R,
) -> Option<R> {
    if n <= STACK_TOKENS {
        let mut toks = [Tok::Star; STACK_TOKENS];
        for (i, slot) in toks.iter_mut().enumerate().take(n) {
            *slot = tok(i)?;
        }
        Some(f(&toks[..n]))
    } else {
        let toks = (0..n).map(tok).collect::<Option<Vec<_>>>()?;
        Some(f(&toks))
    }
}

/// Glob matching over literal runs and wildcards, backtracking only to the last star: linear
/// in practice, and allocation-free.
fn glob(toks: &[Tok], text: &[u8], ignore_case: bool) -> bool {
    let eq = |a: &[u8], b: &[u8]| {
        if ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let n = text.len();
    let (mut ti, mut t) = (0usize, 0usize);
    // After a star: the token after it, and where in the text its run ends for now.
    let mut star: Option<(usize, usize)> = None;
    loop {
        let advanced = match toks.get(ti) {
            Some(Tok::Star) => {
                if ti + 1 == toks.len() {
                    return true;
                }
                star = Some((ti + 1, t));
                ti += 1;
                true
            }
            Some(Tok::One) => {
                if t < n {
                    // One character, not one byte.
                    t += utf8_len(text[t]).min(n - t);
                    ti += 1;
                    true
                } else {
                    false
                }
            }
            Some(Tok::Lit(l)) => {
                if n - t >= l.len() && eq(l, &text[t..t + l.len()]) {
                    t += l.len();
                    ti += 1;
                    true
                } else {
                    false
                }
            }
            None => {
                if t == n {
                    return true;
                }
                false
            }
        };
        if advanced {
            continue;
        }
        match star {
            Some((after, end)) if end < n => {
                let end = end + utf8_len(text[end]).min(n - end);
                star = Some((after, end));
                ti = after;
                t = end;
            }
            _ => return false,
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xff => 4,
        _ => 1,
    }
}

/// Glob matching of symbols (a pattern already filled in).
pub fn matches_symbols(pattern: &[Sym], text: &[u8], ignore_case: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Sym::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Sym::One) => {
                p += 1;
                t += 1;
            }
            Some(Sym::Byte(b)) if eq(*b, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|s| *s == Sym::Star)
}

/// `*`/`?` wildcard match of plain strings (no compilation, no allocation).
pub fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let eq = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(b'?') => {
                // One character, not one byte.
                pi += 1;
                ti += utf8_len(t[ti]).min(t.len() - ti);
            }
            Some(&b) if eq(b, t[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    let next = st + utf8_len(t[st]).min(t.len() - st);
                    pi = sp + 1;
                    ti = next;
                    star = Some((sp, next));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// An ARN pattern of an `Arn…` condition: its six colon-separated parts, each matched on its
/// own so that a `*` never spans a `:` (the sixth, the resource, takes the rest of the ARN).
/// Variables are filled in inside their part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArnPattern {
    /// `None` when the policy value is not an ARN (fewer than six parts): it matches nothing.
    parts: Option<Box<[Pattern]>>,
}

impl ArnPattern {
    pub fn new(text: &str, variables: bool) -> ArnPattern {
        // Split on colons outside `${…}`.
        let mut parts = Vec::with_capacity(6);
        let mut start = 0;
        let mut depth = false;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() && parts.len() < 5 {
            match bytes[i] {
                b'$' if variables && bytes.get(i + 1) == Some(&b'{') => depth = true,
                b'}' if depth => depth = false,
                b':' if !depth => {
                    parts.push(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        parts.push(&text[start..]);
        ArnPattern {
            parts: (parts.len() == 6).then(|| {
                parts
                    .iter()
                    .map(|p| Pattern::new(p, variables, true))
                    .collect()
            }),
        }
    }

    /// Whether every variable has a value or a default.
    pub fn resolves(&self, context: &Context) -> bool {
        self.parts
            .iter()
            .flat_map(|p| p.iter())
            .all(|p| p.resolves(context))
    }

    pub fn matches(&self, arn: &str, context: &Context) -> bool {
        let Some(parts) = &self.parts else {
            return false;
        };
        let mut a = arn.splitn(6, ':');
        for p in parts.iter() {
            match a.next() {
                Some(segment) if p.matches(segment, context, false) => {}
                _ => return false,
            }
        }
        true
    }
}

/// `ArnLike`/`ArnEquals` of plain strings: each of the six colon-separated parts is matched on
/// its own.
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    ArnPattern::new(pattern, false).matches(arn, &Context::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::default();
        for (k, v) in pairs {
            c.insert(k, vec![v.to_string()]);
        }
        c
    }

    #[test]
    fn wildcards_match_any_run_and_one_character() {
        assert!(wildcard("s3:Get*", "s3:GetObject", false));
        assert!(wildcard("s3:get*", "s3:GetObject", true));
        assert!(!wildcard("s3:get*", "s3:GetObject", false));
        assert!(wildcard("*", "", false));
        assert!(wildcard("a*b*c", "aXXbYYc", false));
        assert!(!wildcard("a*b*c", "aXXbYY", false));
        assert!(wildcard("a*b*c", "abcbc", false));
        assert!(wildcard("*ab", "aab", false));
        assert!(wildcard("*a?b*", "xxaZbyy", false));
        assert!(!wildcard("*a?b", "xxaZby", false));
        assert!(wildcard(
            "ec2:Describe?nstances",
            "ec2:DescribeInstances",
            false
        ));
        assert!(!wildcard("?", "", false));
        assert!(wildcard("?", "é", false));
        assert!(wildcard("", "", false));
        assert!(!wildcard("", "a", false));
    }

    #[test]
    fn glob_agrees_with_symbol_matching() {
        // A small exhaustive check over a three-letter alphabet.
        let alphabet = ['a', 'b', '*', '?'];
        let texts = ["", "a", "b", "ab", "ba", "aab", "abab", "bbb", "abba"];
        let mut patterns = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for p in &patterns {
                for c in alphabet {
                    next.push(format!("{p}{c}"));
                }
            }
            patterns.extend(next);
        }
        for p in &patterns {
            let syms: Vec<Sym> = p
                .bytes()
                .map(|b| match b {
                    b'*' => Sym::Star,
                    b'?' => Sym::One,
                    b => Sym::Byte(b),
                })
                .collect();
            for t in texts {
                let expected = matches_symbols(&syms, t.as_bytes(), false);
                assert_eq!(wildcard(p, t, false), expected, "{p} vs {t}");
                assert_eq!(
                    Pattern::new(p, false, true).matches(t, &Context::default(), false),
                    expected,
                    "{p} vs {t}"
                );
            }
        }
    }

    #[test]
    fn variables_fill_in_literally_with_defaults() {
        let c = ctx(&[("aws:username", "al*ce")]);
        let p = Pattern::new("arn:aws:s3:::b/${aws:username}/*", true, true);
        assert!(p.matches("arn:aws:s3:::b/al*ce/x", &c, false));
        // The `*` of the value is literal, not a wildcard.
        assert!(!p.matches("arn:aws:s3:::b/alXce/x", &c, false));
        let p = Pattern::new("home/${aws:PrincipalTag/team, 'none'}/", true, true);
        assert!(p.matches("home/none/", &c, false));
        let p = Pattern::new("home/${aws:PrincipalTag/team}/", true, true);
        assert!(!p.matches("home//", &c, false));
        assert!(!p.resolves(&c));
        let p = Pattern::new("a${*}b${?}c${$}", true, true);
        assert!(p.matches("a*b?c$", &c, false));
        assert!(!p.matches("aXb?c$", &c, false));
    }

    #[test]
    fn arn_like_matches_part_by_part() {
        assert!(arn_like(
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::123456789012:role/x"
        ));
        assert!(!arn_like(
            "arn:aws:iam::*",
            "arn:aws:iam::123456789012:role/x"
        ));
        assert!(arn_like("arn:aws:s3:::b/*", "arn:aws:s3:::b/a:b/c"));
        assert!(!arn_like(
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
        ));
        let c = ctx(&[("aws:username", "bob")]);
        let p = ArnPattern::new(
            "arn:aws:iam::${aws:PrincipalAccount, '1'}:user/${aws:username}",
            true,
        );
        assert!(p.matches("arn:aws:iam::1:user/bob", &c));
        assert!(!p.matches("arn:aws:iam::2:user/bob", &c));
    }
}
