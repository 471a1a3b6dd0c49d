//! Name matching: case-insensitive order, IAM wildcards, condition key
//! templates and "did you mean" suggestions.

use std::cmp::Ordering;

/// Orders `a` and `b` ignoring ASCII case.
pub(crate) fn cmp_ci(a: &str, b: &str) -> Ordering {
    let a = a.bytes().map(|c| c.to_ascii_lowercase());
    let b = b.bytes().map(|c| c.to_ascii_lowercase());
    a.cmp(b)
}

/// Byte length of the UTF-8 character that starts with byte `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Whether `text` matches the IAM wildcard `pattern`: `*` matches any run of
/// characters (also none), `?` exactly one character; everything else
/// matches itself, ignoring ASCII case. Runs in O(len(pattern) * len(text))
/// at worst.
///
/// ```
/// use iamx::awsdb::wildcard_match;
/// assert!(wildcard_match("s3:Get*", "s3:GetObject"));
/// assert!(wildcard_match("*:get?bject", "s3:GetObject"));
/// ```
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position after the last `*` in the pattern and where in the text its
    // match currently ends.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                pi += 1;
                star = Some((pi, ti));
                continue;
            }
            Some(b'?') => {
                pi += 1;
                ti += char_len(t[ti]);
                continue;
            }
            Some(&c) if c.eq_ignore_ascii_case(&t[ti]) => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                let nt = st + char_len(t[st]);
                star = Some((sp, nt));
                pi = sp;
                ti = nt;
            }
            _ => return false,
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'*')
}

/// The placeholders of a condition key template: `${Name}` or `<name>`.
/// Returns the pieces of `template` as (literal, followed by a placeholder).
fn template_pieces(template: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut rest = template;
    loop {
        let dollar = rest.find("${").map(|i| (i, "}"));
        let angle = rest.find('<').map(|i| (i, ">"));
        let next = match (dollar, angle) {
            (Some(d), Some(a)) => Some(if d.0 <= a.0 { d } else { a }),
            (d, a) => d.or(a),
        };
        let Some((start, close)) = next else {
            out.push((rest, false));
            return out;
        };
        match rest[start..].find(close) {
            Some(end) => {
                out.push((&rest[..start], true));
                rest = &rest[start + end + close.len()..];
            }
            None => {
                out.push((rest, false));
                return out;
            }
        }
    }
}

/// Whether condition key name `template` contains a placeholder
/// (`${TagKey}`, `<key>`).
pub(crate) fn is_template(template: &str) -> bool {
    template.contains("${") || template.contains('<')
}

/// Number of literal (non-placeholder) bytes in `template`: the more, the
/// more specific a matching template is.
pub(crate) fn literal_len(template: &str) -> usize {
    template_pieces(template).iter().map(|p| p.0.len()).sum()
}

/// Whether condition key `name` is the key `template` names, ignoring ASCII
/// case. Placeholders in the template (`${TagKey}`, `<key>`) match one or
/// more characters of any kind (tag keys may contain `/` and `:`):
/// `aws:RequestTag/${TagKey}` matches `aws:RequestTag/team` and
/// `aws:requesttag/${TagKey}`; `s3:ExistingObjectTag/<key>` matches
/// `s3:ExistingObjectTag/classification`.
pub fn key_name_matches(template: &str, name: &str) -> bool {
    if !is_template(template) {
        return template.eq_ignore_ascii_case(name);
    }
    // Cheap rejection: the literal text before the first placeholder.
    let head = template.find(['$', '<']).unwrap_or(template.len());
    let (t, n) = (template.as_bytes(), name.as_bytes());
    if n.len() < head || !n[..head].eq_ignore_ascii_case(&t[..head]) {
        return false;
    }
    fn go(pieces: &[(&str, bool)], name: &[u8]) -> bool {
        let Some(((lit, hole), rest)) = pieces.split_first() else {
            return name.is_empty();
        };
        let lit = lit.as_bytes();
        if name.len() < lit.len() || !name[..lit.len()].eq_ignore_ascii_case(lit) {
            return false;
        }
        let name = &name[lit.len()..];
        if !hole {
            return go(rest, name);
        }
        (1..=name.len()).any(|i| go(rest, &name[i..]))
    }
    go(&template_pieces(template), name.as_bytes())
}

/// Optimal-string-alignment (Damerau-Levenshtein) distance between `a` and
/// `b`, ignoring case; `None` once it exceeds `max`.
fn distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let w = b.len() + 1;
    let mut prev2 = vec![0usize; w];
    let mut prev: Vec<usize> = (0..w).collect();
    let mut cur = vec![0usize; w];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..w {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[w - 1]).filter(|&d| d <= max)
}

fn lower_chars(s: &str) -> Vec<char> {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// "Did you mean": the candidate closest to `input` by edit distance
/// (insertions, deletions, substitutions and transpositions of adjacent
/// characters; case-insensitive), if it is close enough: at most
/// `max(1, len(input) / 3)` edits. On a tie the earliest candidate wins.
///
/// ```
/// use iamx::awsdb::{self, suggest};
/// let s3 = awsdb::service("s3").unwrap();
/// assert_eq!(suggest("GetObjekt", s3.actions.iter().map(|a| a.name)), Some("GetObject"));
/// ```
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let a = lower_chars(input);
    let max = (a.len() / 3).max(1);
    let common_prefix = |c: &str| {
        input
            .chars()
            .zip(c.chars())
            .take_while(|(x, y)| x.eq_ignore_ascii_case(y))
            .count()
    };
    let mut best: Option<(usize, usize, &'a str)> = None;
    let mut b = Vec::new();
    for c in candidates {
        if best.is_some_and(|(d, p, _)| d == 0 && p == a.len()) {
            break;
        }
        let limit = best.map_or(max, |(d, _, _)| d);
        // Cheap rejection before any work: lengths too far apart.
        if c.len().abs_diff(input.len()) > limit && c.is_ascii() && input.is_ascii() {
            continue;
        }
        b.clear();
        b.extend(c.chars().map(|ch| ch.to_ascii_lowercase()));
        if let Some(d) = distance(&a, &b, limit) {
            // Ties go to the longer common prefix: `AmazonS3ReadAccess` is closer in meaning to
            // `AmazonS3ReadOnlyAccess` than to `AmazonS3FullAccess`.
            let p = common_prefix(c);
            if best.is_none_or(|(bd, bp, _)| d < bd || (d == bd && p > bp)) {
                best = Some((d, p, c));
            }
        }
    }
    best.map(|(_, _, c)| c)
}
