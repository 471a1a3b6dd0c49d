//! Sets of strings written as IAM wildcard patterns, and the one question the proof asks of
//! them: is there a string that matches some pattern of every group and none of the
//! excluded ones? The answer is exact (a breadth-first search over the product of the
//! patterns' automata), and when it is yes it comes with the shortest such string, which
//! becomes the ARN or value a finding shows.
//!
//! `*` matches any run of characters and `?` any one; everything else is literal. A
//! pattern is a sequence of [`Sym`]s, so policy variables are filled in (or made wildcards)
//! before they get here.

use std::collections::HashMap;

/// One symbol of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sym {
    Byte(u8),
    /// `*`: any run of bytes.
    Star,
    /// `?`: any one byte.
    One,
    /// `*` inside one ARN part: any run of bytes but `:`.
    PartStar,
    /// `?` inside one ARN part: any one byte but `:`.
    PartOne,
}

/// An ARN pattern's wildcards in its first five parts (`arn`, partition, service, region,
/// account) stay within their part, as IAM matches ARNs part by part.
pub fn arn_parts(mut pattern: Vec<Sym>) -> Vec<Sym> {
    if !pattern.starts_with(&[
        Sym::Byte(b'a'),
        Sym::Byte(b'r'),
        Sym::Byte(b'n'),
        Sym::Byte(b':'),
    ]) {
        return pattern;
    }
    let mut colons = 0;
    for s in pattern.iter_mut() {
        match *s {
            Sym::Byte(b':') => {
                colons += 1;
                if colons == 5 {
                    break;
                }
            }
            Sym::Star => *s = Sym::PartStar,
            Sym::One => *s = Sym::PartOne,
            _ => {}
        }
    }
    pattern
}

/// A set of strings: those that match a pattern of every group of `all`, and no pattern of
/// `none`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lang {
    pub all: Vec<Vec<Vec<Sym>>>,
    pub none: Vec<Vec<Sym>>,
}

/// The search gave up: the set may or may not be empty. Callers count it as not empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

/// How many product states the search visits before giving up.
const STATE_LIMIT: usize = 200_000;

/// Text as a pattern: `*` and `?` are wildcards when `wildcards` holds.
pub fn glob(text: &str, wildcards: bool) -> Vec<Sym> {
    let mut out = Vec::with_capacity(text.len());
    for b in text.bytes() {
        out.push(match b {
            b'*' if wildcards => {
                if out.last() == Some(&Sym::Star) {
                    continue;
                }
                Sym::Star
            }
            b'?' if wildcards => Sym::One,
            b => Sym::Byte(b),
        });
    }
    out
}

/// Text matched literally.
pub fn exact(text: &str) -> Vec<Sym> {
    glob(text, false)
}

/// The pattern as text, for messages.
pub fn show(pattern: &[Sym]) -> String {
    let bytes: Vec<u8> = pattern
        .iter()
        .map(|s| match s {
            Sym::Byte(b) => *b,
            Sym::Star | Sym::PartStar => b'*',
            Sym::One | Sym::PartOne => b'?',
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &[Sym], text: &str) -> bool {
    let alphabet: Vec<u8> = (0..=255).collect();
    let nfa = Nfa::new(pattern, &alphabet);
    let mut bits = vec![0u64; nfa.words];
    nfa.start(&mut bits);
    for &b in text.as_bytes() {
        let mut next = vec![0u64; nfa.words];
        nfa.step(&bits, b as usize, &mut next);
        bits = next;
    }
    nfa.accepts(&bits)
}

impl Lang {
    /// Every string.
    pub fn any() -> Lang {
        Lang::default()
    }

    /// The strings that match one of `patterns`.
    pub fn one_of(patterns: Vec<Vec<Sym>>) -> Lang {
        Lang {
            all: vec![patterns],
            none: Vec::new(),
        }
    }

    pub fn and(mut self, group: Vec<Vec<Sym>>) -> Lang {
        self.all.push(group);
        self
    }

    pub fn except(mut self, pattern: Vec<Sym>) -> Lang {
        self.none.push(pattern);
        self
    }

    /// The shortest string in the set (`Ok(None)` when the set is empty).
    pub fn witness(&self) -> Result<Option<String>, TooLarge> {
        // Large sets (many principals named one by one) are searched directly: hashing them
        // for the memo would cost more than it saves.
        if self.none.len() > 64 {
            // Most answers do not need the strings excluded one by one: search without them
            // first, and with them only when the answer is one of them.
            let exact = |p: &Vec<Sym>| p.iter().all(|s| matches!(s, Sym::Byte(_)));
            let mut loose = self.clone();
            loose.none.retain(|p| !exact(p));
            if loose.none.len() < self.none.len() {
                match witness_readable(&loose) {
                    Ok(None) => return Ok(None),
                    Ok(Some(w))
                        if !self.none.iter().any(|p| {
                            exact(p)
                                && p.len() == w.len()
                                && p.iter().zip(w.bytes()).all(|(s, b)| *s == Sym::Byte(b))
                        }) =>
                    {
                        return Ok(Some(w))
                    }
                    _ => {}
                }
            }
            return witness_readable(self);
        }
        let mut key = self.clone();
        key.canonical();
        // Looked up by a fingerprint computed in one pass (hashing each symbol through
        // `Hash` costs more than the search it saves), then compared whole.
        type Entries = Vec<(Lang, Result<Option<String>, TooLarge>)>;
        thread_local! {
            static MEMO: std::cell::RefCell<HashMap<u64, Entries, Fnv>> =
                std::cell::RefCell::new(HashMap::default());
        }
        let print = key.fingerprint();
        let hit = MEMO.with(|m| {
            m.borrow()
                .get(&print)
                .and_then(|e| e.iter().find(|(l, _)| *l == key).map(|(_, r)| r.clone()))
        });
        if let Some(found) = hit {
            return found;
        }
        let found = witness_readable(&key);
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() > 100_000 {
                m.clear();
            }
            m.entry(print).or_default().push((key, found.clone()));
        });
        found
    }

    /// A hash of the set as written, in one pass.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |x: u64| h = (h ^ x).wrapping_mul(0x0100_0000_01b3);
        let pattern = |p: &[Sym], eat: &mut dyn FnMut(u64)| {
            for s in p {
                eat(match s {
                    Sym::Byte(b) => u64::from(*b),
                    Sym::Star => 256,
                    Sym::One => 257,
                    Sym::PartStar => 258,
                    Sym::PartOne => 259,
                });
            }
            eat(300);
        };
        for g in &self.all {
            for p in g {
                pattern(p, &mut eat);
            }
            eat(301);
        }
        for p in &self.none {
            pattern(p, &mut eat);
        }
        h
    }

    /// How many patterns the set is written with.
    pub fn size(&self) -> usize {
        self.all.iter().map(Vec::len).sum::<usize>() + self.none.len()
    }

    /// Groups and exclusions sorted and without repeats: one set, one spelling.
    fn canonical(&mut self) {
        for g in &mut self.all {
            g.sort();
            g.dedup();
        }
        self.all.sort();
        self.all.dedup();
        self.none.sort();
        self.none.dedup();
    }
}

/// FNV-1a: the states hashed are short runs of words, and need no protection from floods.
#[derive(Default)]
pub struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
    fn write_u64(&mut self, n: u64) {
        let h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        self.0 = (h ^ n).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
}

pub type Fnv = std::hash::BuildHasherDefault<FnvHasher>;

/// A pattern as an automaton: positions 0..=len, a set of them live at a time, stepped
/// bit-parallel (one mask per byte: the positions that byte moves on from).
struct Nfa<'a> {
    syms: &'a [Sym],
    words: usize,
    /// Per byte, `words` words: positions holding that byte, `?`, or (but for `:`) a `?`
    /// within an ARN part.
    advance: Vec<u64>,
    /// Per byte, `words` words: positions holding `*`, or (but for `:`) a `*` within a part.
    stay: Vec<u64>,
    /// Positions holding either kind of `*`: they may also match nothing.
    stars: Vec<u64>,
}

impl<'a> Nfa<'a> {
    /// The automaton of `syms`, with masks for the bytes of `alphabet` only (a step takes
    /// the byte's index in it).
    fn new(syms: &'a [Sym], alphabet: &[u8]) -> Nfa<'a> {
        let words = (syms.len() + 1).div_ceil(64);
        let mut advance = vec![0u64; alphabet.len() * words];
        let mut stay = vec![0u64; alphabet.len() * words];
        let mut stars = vec![0u64; words];
        for (i, s) in syms.iter().enumerate() {
            let (w, m) = (i / 64, 1u64 << (i % 64));
            for (k, &byte) in alphabet.iter().enumerate() {
                let colon = byte == b':';
                let moves = match s {
                    Sym::Byte(b) => *b == byte,
                    Sym::One => true,
                    Sym::PartOne => !colon,
                    _ => false,
                };
                let stays = match s {
                    Sym::Star => true,
                    Sym::PartStar => !colon,
                    _ => false,
                };
                if moves {
                    advance[k * words + w] |= m;
                }
                if stays {
                    stay[k * words + w] |= m;
                }
            }
            if matches!(s, Sym::Star | Sym::PartStar) {
                stars[w] |= m;
            }
        }
        Nfa {
            syms,
            words,
            advance,
            stay,
            stars,
        }
    }

    /// Adds the positions reachable through `*` (which may match nothing).
    fn close(&self, bits: &mut [u64]) {
        loop {
            // Shift `bits & stars` left by one, word by word, adding what is new.
            let mut carry = 0u64;
            let mut grew = false;
            for (word, stars) in bits.iter_mut().zip(&self.stars) {
                let masked = *word & stars;
                let shifted = (masked << 1) | carry;
                carry = masked >> 63;
                let add = shifted & !*word;
                if add != 0 {
                    *word |= add;
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
    }

    fn start(&self, out: &mut [u64]) {
        out[0] |= 1;
        self.close(out);
    }

    /// One step on the byte at index `k` of the alphabet.
    fn step(&self, from: &[u64], k: usize, out: &mut [u64]) {
        let at = k * self.words;
        let mut carry = 0u64;
        for i in 0..self.words {
            let moving = from[i] & self.advance[at + i];
            out[i] = (moving << 1) | carry | (from[i] & self.stay[at + i]);
            carry = moving >> 63;
        }
        self.close(out);
    }

    fn accepts(&self, bits: &[u64]) -> bool {
        let n = self.syms.len();
        bits[n / 64] & (1 << (n % 64)) != 0
    }
}

/// [`witness`], preferring a readable one when there is one: no empty name (`role/`), no
/// empty region.
fn witness_readable(lang: &Lang) -> Result<Option<String>, TooLarge> {
    match witness(lang) {
        Ok(Some(plain)) => {
            for avoid in [&["*/", "*:", "arn:*:*::*"][..], &["*/", "*:"]] {
                let mut readable = lang.clone();
                for p in avoid {
                    readable.none.push(glob(p, true));
                }
                if let Ok(Some(w)) = witness(&readable) {
                    return Ok(Some(w));
                }
            }
            Ok(Some(plain))
        }
        other => other,
    }
}

/// No node of the trie: no excluded string starts with what was read.
const DEAD: u64 = u64::MAX;

/// Exact strings, as a trie whose nodes are numbered from the root, 0.
#[derive(Default)]
struct Trie {
    /// Per node, its children by byte, sorted.
    children: Vec<Vec<(u8, u64)>>,
    /// Per node, whether a string ends there.
    ends: Vec<bool>,
}

impl Trie {
    fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    fn insert(&mut self, pattern: &[Sym]) {
        if self.children.is_empty() {
            self.children.push(Vec::new());
            self.ends.push(false);
        }
        let mut node = 0usize;
        for s in pattern {
            let Sym::Byte(b) = s else { return };
            node = match self.children[node].binary_search_by_key(b, |(c, _)| *c) {
                Ok(i) => self.children[node][i].1 as usize,
                Err(i) => {
                    let child = self.children.len();
                    self.children.push(Vec::new());
                    self.ends.push(false);
                    self.children[node].insert(i, (*b, child as u64));
                    child
                }
            };
        }
        self.ends[node] = true;
    }

    fn step(&self, node: u64, byte: u8) -> u64 {
        if node == DEAD {
            return DEAD;
        }
        let children = &self.children[node as usize];
        match children.binary_search_by_key(&byte, |(c, _)| *c) {
            Ok(i) => children[i].1,
            Err(_) => DEAD,
        }
    }

    fn terminal(&self, node: u64) -> bool {
        node != DEAD && self.ends[node as usize]
    }
}

fn witness(lang: &Lang) -> Result<Option<String>, TooLarge> {
    // A group with `*` in it is no constraint.
    let groups: Vec<&Vec<Vec<Sym>>> = lang
        .all
        .iter()
        .filter(|g| !g.iter().any(|p| p.as_slice() == [Sym::Star]))
        .collect();
    if groups.iter().any(|g| g.is_empty()) {
        return Ok(None);
    }
    if lang.none.iter().any(|p| p.as_slice() == [Sym::Star]) {
        return Ok(None);
    }
    // The alphabet: every literal byte, and one byte no pattern names.
    let mut alphabet: Vec<u8> = Vec::new();
    for p in groups.iter().flat_map(|g| g.iter()).chain(&lang.none) {
        for s in p {
            if let Sym::Byte(b) = s {
                if !alphabet.contains(b) {
                    alphabet.push(*b);
                }
            }
        }
    }
    alphabet.sort_unstable();
    // The byte no pattern names comes first, so wildcards are filled with it: `x` where
    // it can be.
    if let Some(other) = b"xz0123456789abcdefghijklmnopqrstuvwy-_"
        .iter()
        .chain((1u8..=255).collect::<Vec<u8>>().iter())
        .find(|b| !alphabet.contains(b))
    {
        alphabet.insert(0, *other);
    }
    // Every automaton, groups' members first, then the excluded patterns.
    let mut nfas: Vec<Nfa> = Vec::new();
    let mut group_of: Vec<Option<usize>> = Vec::new();
    // A large group of exact strings (principals named one by one) is one trie.
    let exact = |p: &Vec<Sym>| p.iter().all(|s| matches!(s, Sym::Byte(_)));
    let mut group_tries: Vec<(usize, Trie)> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        if group.len() > 8 && group.iter().all(exact) {
            let mut trie = Trie::default();
            for p in group.iter() {
                trie.insert(p);
            }
            group_tries.push((g, trie));
            continue;
        }
        for p in group.iter() {
            nfas.push(Nfa::new(p, &alphabet));
            group_of.push(Some(g));
        }
    }
    // Many exact strings excluded (principals named one by one) become one trie, not one
    // automaton each.
    let exact = |p: &Vec<Sym>| p.iter().all(|s| matches!(s, Sym::Byte(_)));
    let exacts: Vec<&Vec<Sym>> = lang.none.iter().filter(|p| exact(p)).collect();
    let use_trie = exacts.len() > 8;
    let mut trie = Trie::default();
    for p in &lang.none {
        if use_trie && exact(p) {
            trie.insert(p);
        } else {
            nfas.push(Nfa::new(p, &alphabet));
            group_of.push(None);
        }
    }
    let offsets: Vec<usize> = nfas
        .iter()
        .scan(0, |acc, n| {
            let at = *acc;
            *acc += n.words;
            Some(at)
        })
        .collect();
    let nfa_width: usize = nfas.iter().map(|n| n.words).sum();
    // The tries' nodes follow the automata in a state: the exclusions' first (`DEAD`: no
    // excluded string ahead), then one per group trie.
    let width = nfa_width + 1 + group_tries.len();
    let accepting = |state: &[u64]| -> bool {
        if trie.terminal(state[nfa_width]) {
            return false;
        }
        let mut met = vec![false; groups.len()];
        for (k, (g, t)) in group_tries.iter().enumerate() {
            if t.terminal(state[nfa_width + 1 + k]) {
                met[*g] = true;
            }
        }
        for (i, n) in nfas.iter().enumerate() {
            let bits = &state[offsets[i]..offsets[i] + n.words];
            if n.accepts(bits) {
                match group_of[i] {
                    Some(g) => met[g] = true,
                    None => return false,
                }
            }
        }
        met.iter().all(|m| *m)
    };
    // A group none of whose members is live is dead: nothing from here can be accepted.
    let alive = |state: &[u64]| -> bool {
        let mut live = vec![false; groups.len()];
        for (k, (g, _)) in group_tries.iter().enumerate() {
            if state[nfa_width + 1 + k] != DEAD {
                live[*g] = true;
            }
        }
        for (i, n) in nfas.iter().enumerate() {
            if let Some(g) = group_of[i] {
                if state[offsets[i]..offsets[i] + n.words]
                    .iter()
                    .any(|w| *w != 0)
                {
                    live[g] = true;
                }
            }
        }
        live.iter().all(|l| *l)
    };
    let mut start = vec![0u64; width];
    for (i, n) in nfas.iter().enumerate() {
        n.start(&mut start[offsets[i]..offsets[i] + n.words]);
    }
    start[nfa_width] = if trie.is_empty() { DEAD } else { 0 };
    for k in 0..group_tries.len() {
        start[nfa_width + 1 + k] = 0;
    }
    let mut seen: HashMap<Vec<u64>, (usize, u8), Fnv> = HashMap::default();
    let mut states: Vec<Vec<u64>> = vec![start.clone()];
    seen.insert(start, (usize::MAX, 0));
    let mut parent: Vec<(usize, u8)> = vec![(usize::MAX, 0)];
    let mut at = 0;
    while at < states.len() {
        if accepting(&states[at]) {
            let mut bytes = Vec::new();
            let mut i = at;
            while parent[i].0 != usize::MAX {
                bytes.push(parent[i].1);
                i = parent[i].0;
            }
            bytes.reverse();
            return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
        }
        let mut next = vec![0u64; width];
        for (k, &byte) in alphabet.iter().enumerate() {
            for (i, n) in nfas.iter().enumerate() {
                let (lo, hi) = (offsets[i], offsets[i] + n.words);
                n.step(&states[at][lo..hi], k, &mut next[lo..hi]);
            }
            next[nfa_width] = trie.step(states[at][nfa_width], byte);
            for (k, (_, t)) in group_tries.iter().enumerate() {
                next[nfa_width + 1 + k] = t.step(states[at][nfa_width + 1 + k], byte);
            }
            if !alive(&next) || seen.contains_key(&next) {
                continue;
            }
            if states.len() >= STATE_LIMIT {
                return Err(TooLarge);
            }
            seen.insert(next.clone(), (at, byte));
            states.push(next.clone());
            parent.push((at, byte));
        }
        at += 1;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(all: &[&[&str]], none: &[&str]) -> Lang {
        Lang {
            all: all
                .iter()
                .map(|g| g.iter().map(|p| glob(p, true)).collect())
                .collect(),
            none: none.iter().map(|p| glob(p, true)).collect(),
        }
    }

    #[test]
    fn intersections_and_exclusions() {
        let w = lang(
            &[&["arn:aws:iam::1:user/*"]],
            &["arn:aws:iam::1:user/dev/*"],
        )
        .witness()
        .unwrap()
        .unwrap();
        assert!(w.starts_with("arn:aws:iam::1:user/"));
        assert!(!w.starts_with("arn:aws:iam::1:user/dev/"));
        // Covered by the union of two exclusions, though by neither alone.
        assert_eq!(
            lang(&[&["a*"]], &["a", "a?*"]).witness().unwrap(),
            None,
            "`a*` is `a` plus `a?*`"
        );
        assert_eq!(
            lang(&[&["user/dev/*"], &["user/ops/*"]], &[]).witness(),
            Ok(None)
        );
        assert_eq!(
            lang(&[&["user/*/x"], &["user/dev/*"]], &[]).witness(),
            Ok(Some("user/dev/x".into()))
        );
        assert_eq!(lang(&[&["*"]], &["*"]).witness(), Ok(None));
        assert_eq!(lang(&[&["p/B"]], &["p/B"]).witness(), Ok(None));
        // ARN parts: the region's `*` does not reach into the resource.
        let part = |t: &str| arn_parts(glob(t, true));
        let l = Lang {
            all: vec![
                vec![part("arn:aws:ssm:*:1:managed-instance/*")],
                vec![part("arn:aws:ssm:*::document/D")],
            ],
            none: Vec::new(),
        };
        assert_eq!(l.witness(), Ok(None));
        let other = lang(&[&["p/DevBoundary*"]], &["p/DevBoundary"])
            .witness()
            .unwrap()
            .unwrap();
        assert!(other.starts_with("p/DevBoundary") && other.len() > "p/DevBoundary".len());
    }

    #[test]
    fn many_exact_alternatives_use_one_trie() {
        let names: Vec<String> = (0..50).map(|i| format!("role/t/p{i}")).collect();
        let group: Vec<Vec<Sym>> = names.iter().map(|n| exact(n)).collect();
        let mut l = Lang::one_of(group.clone()).and(vec![glob("role/t/p4*", true)]);
        let w = l.witness().unwrap().unwrap();
        assert!(names.contains(&w) && w.starts_with("role/t/p4"), "{w}");
        for n in names.iter().filter(|n| n.starts_with("role/t/p4")) {
            l.none.push(exact(n));
        }
        assert_eq!(l.witness(), Ok(None));
    }

    #[test]
    fn many_exact_exclusions_use_one_trie() {
        let names: Vec<String> = (0..200).map(|i| format!("user/p{i}")).collect();
        let mut l = lang(&[&["user/p?"]], &[]);
        for n in &names {
            l.none.push(exact(n));
        }
        // Every `user/p?` with a digit is excluded; a letter is not.
        let w = l.witness().unwrap().unwrap();
        assert!(w.starts_with("user/p") && !names.contains(&w), "{w}");
        let mut all_digits = lang(&[&["user/p?"]], &[]);
        for d in 0..10 {
            all_digits.none.push(exact(&format!("user/p{d}")));
        }
        for c in b'a'..=b'z' {
            all_digits.none.push(exact(&format!("user/p{}", c as char)));
        }
        let w = all_digits.witness().unwrap();
        assert!(
            w.as_deref()
                .is_none_or(|w| !w.ends_with(|c: char| c.is_ascii_alphanumeric())),
            "{w:?}"
        );
    }

    #[test]
    fn witnesses_match_what_they_claim() {
        let cases: &[(&[&[&str]], &[&str])] = &[
            (&[&["a*b?c"], &["*c"]], &["ab?c"]),
            (&[&["x/*/y/*"]], &["x/a/*", "*/y/b"]),
            (&[&["arn:*:s3:::b/*"]], &["arn:aws:s3:::b/private/*"]),
        ];
        for (all, none) in cases {
            let l = lang(all, none);
            let w = l.witness().unwrap().expect("not empty");
            for g in &l.all {
                assert!(g.iter().any(|p| matches(p, &w)), "{w} in every group");
            }
            for p in &l.none {
                assert!(!matches(p, &w), "{w} matches no exclusion");
            }
        }
    }
}
