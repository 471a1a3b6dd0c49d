//! Wildcards (`*`, `?`) and IAM policy variables (`${aws:username}`, `${key, 'default'}`,
//! `${*}`, `${?}`, `${$}`), compiled once per policy so matching a request allocates nothing
//! unless the pattern holds a variable.

use super::Context;

/// One piece of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// Literal text (`${*}`, `${?}`, `${$}` end up here as literal characters).
    Text(String),
    /// `*`: any run of characters.
    Star,
    /// `?`: any one character.
    One,
    /// `${key}` or `${key, 'default'}`: the request's value of `key` (lower case), taken
    /// literally.
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A pattern from a policy: an action, a resource, or a condition value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pieces: Vec<Piece>,
    /// The pattern has no wildcard and no variable: compare as text.
    plain: Option<String>,
    has_vars: bool,
}

/// Symbols the matcher works on: a byte to match literally, or a wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sym {
    Byte(u8),
    Star,
    One,
}

impl Pattern {
    /// Compiles `text`. With `variables`, `${…}` are policy variables (Resource and condition
    /// values); without, they are literal text (Action). With `wildcards`, `*` and `?` are
    /// wildcards; without (StringEquals values), they are literal.
    pub fn new(text: &str, variables: bool, wildcards: bool) -> Pattern {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut literal = String::new();
        let mut has_vars = false;
        let mut rest = text;
        let flush = |literal: &mut String, pieces: &mut Vec<Piece>| {
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(literal)));
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
                            let (key, default) = match inner.split_once(',') {
                                Some((k, d)) => {
                                    let d = d.trim();
                                    let d = d
                                        .strip_prefix('\'')
                                        .and_then(|d| d.strip_suffix('\''))
                                        .unwrap_or(d);
                                    (k.trim(), Some(d.to_string()))
                                }
                                None => (inner.trim(), None),
                            };
                            pieces.push(Piece::Var {
                                key: key.to_ascii_lowercase(),
                                default,
                            });
                            has_vars = true;
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
        let plain = match pieces.as_slice() {
            [] => Some(String::new()),
            [Piece::Text(t)] => Some(t.clone()),
            _ => None,
        };
        Pattern {
            pieces,
            plain,
            has_vars,
        }
    }

    pub fn has_vars(&self) -> bool {
        self.has_vars
    }

    /// The pattern with the request's variables filled in, as symbols; `false` when a variable
    /// has no value and no default (the pattern then matches nothing).
    pub fn symbols(&self, context: &Context, out: &mut Vec<Sym>) -> bool {
        out.clear();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.extend(t.bytes().map(Sym::Byte)),
                Piece::Star => out.push(Sym::Star),
                Piece::One => out.push(Sym::One),
                Piece::Var { key, default } => match context.single(key).or(default.as_deref()) {
                    Some(value) => out.extend(value.bytes().map(Sym::Byte)),
                    None => return false,
                },
            }
        }
        true
    }

    /// Whether `text` matches; `ignore_case` compares ASCII letters without case.
    pub fn matches(&self, text: &str, context: &Context, ignore_case: bool) -> bool {
        if let Some(plain) = &self.plain {
            return if ignore_case {
                plain.eq_ignore_ascii_case(text)
            } else {
                plain == text
            };
        }
        SCRATCH.with(|scratch| {
            let mut symbols = scratch.borrow_mut();
            if !self.symbols(context, &mut symbols) {
                return false;
            }
            matches_symbols(&symbols, text.as_bytes(), ignore_case)
        })
    }

    /// The pattern's text with variables filled in (for `StringEquals` and the like); `None`
    /// when a variable has no value.
    pub fn text<'a>(&'a self, context: &Context, buf: &'a mut String) -> Option<&'a str> {
        if let Some(plain) = &self.plain {
            return Some(plain);
        }
        buf.clear();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => buf.push_str(t),
                Piece::Star => buf.push('*'),
                Piece::One => buf.push('?'),
                Piece::Var { key, default } => {
                    buf.push_str(context.single(key).or(default.as_deref())?)
                }
            }
        }
        Some(buf)
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<Sym>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Glob matching with one backtracking point per star: linear in practice.
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

/// `*`/`?` wildcard match of plain strings.
pub fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    SCRATCH.with(|scratch| {
        let mut symbols = scratch.borrow_mut();
        symbols.clear();
        symbols.extend(pattern.bytes().map(|b| match b {
            b'*' => Sym::Star,
            b'?' => Sym::One,
            b => Sym::Byte(b),
        }));
        matches_symbols(&symbols, text.as_bytes(), ignore_case)
    })
}

/// `ArnLike`/`ArnEquals`: each of the six colon-separated parts is matched on its own, so a `*`
/// in one part never spans a `:`; the resource part (the sixth) takes the rest.
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    let mut p = pattern.splitn(6, ':');
    let mut a = arn.splitn(6, ':');
    loop {
        match (p.next(), a.next()) {
            (None, None) => return true,
            (Some(ps), Some(as_)) => {
                if !wildcard(ps, as_, false) {
                    return false;
                }
            }
            _ => return false,
        }
    }
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
        assert!(wildcard(
            "ec2:Describe?nstances",
            "ec2:DescribeInstances",
            false
        ));
        assert!(!wildcard("?", "", false));
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
    }
}
