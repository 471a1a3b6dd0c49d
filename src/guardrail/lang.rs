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

/// A set of strings: those that match a member of every group of `all`, no pattern of
/// `none`, and no string of `none_names`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lang {
    pub all: Vec<Group>,
    pub none: Vec<Vec<Sym>>,
    /// Shared sets of exact strings excluded (principals declared one by one).
    pub none_names: Vec<Names>,
}

/// Alternatives: the strings that match one of `patterns`, or are one of `names`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Group {
    pub patterns: Vec<Vec<Sym>>,
    pub names: Option<Names>,
}

impl From<Vec<Vec<Sym>>> for Group {
    fn from(patterns: Vec<Vec<Sym>>) -> Group {
        Group {
            patterns,
            names: None,
        }
    }
}

impl Group {
    fn is_empty(&self) -> bool {
        self.patterns.is_empty() && self.names.as_ref().is_none_or(Names::is_empty)
    }

    /// Whether `*` is one of its patterns: then it is no constraint.
    fn is_everything(&self) -> bool {
        self.patterns.iter().any(|p| p.as_slice() == [Sym::Star])
    }
}

/// A set of exact strings made once and shared by every set that names it: hundreds or
/// thousands of declared principals or policies. It carries its trie and its fingerprint, so
/// a set that uses it is searched and compared in time that does not grow with it.
#[derive(Clone)]
pub struct Names(std::rc::Rc<NameSet>);

struct NameSet {
    /// Sorted, without repeats.
    strings: Vec<String>,
    trie: Trie,
    /// The bytes the strings use.
    bytes: [bool; 256],
    print: u64,
}

impl Names {
    pub fn new<I: IntoIterator<Item = String>>(strings: I) -> Names {
        let mut strings: Vec<String> = strings.into_iter().collect();
        strings.sort_unstable();
        strings.dedup();
        let mut trie = Trie::default();
        let mut bytes = [false; 256];
        let mut print = Print::new();
        for s in &strings {
            trie.insert_bytes(s.as_bytes());
            for &b in s.as_bytes() {
                bytes[b as usize] = true;
                print.eat(u64::from(b));
            }
            print.eat(300);
        }
        Names(std::rc::Rc::new(NameSet {
            strings,
            trie,
            bytes,
            print: print.0,
        }))
    }

    pub fn is_empty(&self) -> bool {
        self.0.strings.is_empty()
    }

    pub fn contains(&self, s: &str) -> bool {
        self.0
            .strings
            .binary_search_by(|x| x.as_str().cmp(s))
            .is_ok()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.strings.iter().map(String::as_str)
    }
}

impl PartialEq for Names {
    fn eq(&self, other: &Names) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
            || (self.0.print == other.0.print && self.0.strings == other.0.strings)
    }
}

impl Eq for Names {}

impl std::hash::Hash for Names {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.print.hash(state);
    }
}

impl PartialOrd for Names {
    fn partial_cmp(&self, other: &Names) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Names {
    fn cmp(&self, other: &Names) -> std::cmp::Ordering {
        if self == other {
            return std::cmp::Ordering::Equal;
        }
        (self.0.print, &self.0.strings).cmp(&(other.0.print, &other.0.strings))
    }
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Names({} strings, {:x})",
            self.0.strings.len(),
            self.0.print
        )
    }
}

/// FNV-1a over words, for fingerprints.
struct Print(u64);

impl Print {
    fn new() -> Print {
        Print(0xcbf2_9ce4_8422_2325)
    }
    fn eat(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x0100_0000_01b3);
    }
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
            all: vec![Group::from(patterns)],
            ..Lang::default()
        }
    }

    /// The strings of a group: patterns, and a shared set of names.
    pub fn one_of_group(group: Group) -> Lang {
        Lang {
            all: vec![group],
            ..Lang::default()
        }
    }

    pub fn and(mut self, group: Vec<Vec<Sym>>) -> Lang {
        self.all.push(Group::from(group));
        self
    }

    /// The strings of this set that are also in a group.
    pub fn and_group(mut self, group: Group) -> Lang {
        self.all.push(group);
        self
    }

    pub fn except(mut self, pattern: Vec<Sym>) -> Lang {
        self.none.push(pattern);
        self
    }

    /// Without a shared set of names.
    pub fn except_names(mut self, names: &Names) -> Lang {
        if !names.is_empty() {
            self.none_names.push(names.clone());
        }
        self
    }

    /// Whether `text` is excluded by name: one of the shared sets, or an exact pattern.
    fn excluded_by_name(&self, text: &str) -> bool {
        self.none_names.iter().any(|n| n.contains(text))
            || self.none.iter().any(|p| {
                p.len() == text.len() && p.iter().zip(text.bytes()).all(|(s, b)| *s == Sym::Byte(b))
            })
    }

    /// The shortest string in the set (`Ok(None)` when the set is empty).
    pub fn witness(&self) -> Result<Option<String>, TooLarge> {
        // Strings excluded one by one (shared sets of names, exact patterns such as the
        // principal analysed) rarely decide the answer: search without them first (an answer
        // shared by every principal), and with them only when the answer is one of them.
        let exact = |p: &Vec<Sym>| p.iter().all(|s| matches!(s, Sym::Byte(_)));
        if !self.none_names.is_empty() || self.none.iter().any(exact) {
            let mut loose = self.clone();
            loose.none_names.clear();
            loose.none.retain(|p| !exact(p));
            match loose.witness() {
                Ok(None) => return Ok(None),
                Ok(Some(w)) if !self.excluded_by_name(&w) => return Ok(Some(w)),
                _ => {}
            }
        }
        // Large sets written out pattern by pattern are searched directly: hashing them for
        // the memo would cost more than it saves.
        if self.size() > 64 {
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

    /// A hash of the set as written, in one pass; a shared set of names counts by its own
    /// fingerprint, so this does not grow with it.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Print::new();
        let pattern = |p: &[Sym], h: &mut Print| {
            for s in p {
                h.eat(match s {
                    Sym::Byte(b) => u64::from(*b),
                    Sym::Star => 256,
                    Sym::One => 257,
                    Sym::PartStar => 258,
                    Sym::PartOne => 259,
                });
            }
            h.eat(300);
        };
        for g in &self.all {
            for p in &g.patterns {
                pattern(p, &mut h);
            }
            if let Some(n) = &g.names {
                h.eat(302);
                h.eat(n.0.print);
            }
            h.eat(301);
        }
        for p in &self.none {
            pattern(p, &mut h);
        }
        for n in &self.none_names {
            h.eat(303);
            h.eat(n.0.print);
        }
        h.0
    }

    /// How many patterns the set is written with (a shared set of names counts as one).
    pub fn size(&self) -> usize {
        self.all
            .iter()
            .map(|g| g.patterns.len() + usize::from(g.names.is_some()))
            .sum::<usize>()
            + self.none.len()
            + self.none_names.len()
    }

    /// Groups and exclusions sorted and without repeats: one set, one spelling.
    fn canonical(&mut self) {
        for g in &mut self.all {
            g.patterns.sort();
            g.patterns.dedup();
        }
        self.all.sort();
        self.all.dedup();
        self.none.sort();
        self.none.dedup();
        self.none_names.sort();
        self.none_names.dedup();
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
        // Eight bytes at a time: long texts (statements' action lists) are hashed often.
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h ^ word).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        }
        for b in chunks.remainder() {
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
    match witness(lang, STATE_LIMIT) {
        // An answer from a set of names is a name the project declares: readable already.
        Ok(Some(plain))
            if lang
                .all
                .iter()
                .any(|g| g.names.as_ref().is_some_and(|n| n.contains(&plain))) =>
        {
            Ok(Some(plain))
        }
        Ok(Some(plain)) => {
            // An ARN whose region every pattern of a group leaves empty cannot avoid an
            // empty region: that try is skipped.
            let regionless = lang.all.iter().any(|g| {
                !g.is_everything()
                    && g.names.is_none()
                    && !g.patterns.is_empty()
                    && g.patterns.iter().all(|p| empty_region(p))
            });
            let tries: &[&[&str]] = if regionless {
                &[&["*/", "*:"]]
            } else {
                &[&["*/", "*:", "arn:*:*::*"], &["*/", "*:"]]
            };
            for avoid in tries {
                let avoid: Vec<Vec<Sym>> = avoid.iter().map(|p| glob(p, true)).collect();
                if !avoid.iter().any(|p| glob_match(p, plain.as_bytes())) {
                    return Ok(Some(plain));
                }
                let mut readable = lang.clone();
                readable.none.extend(avoid);
                // Readability is worth a short search only: the plain answer is as true.
                if let Ok(Some(w)) = witness(&readable, READABLE_LIMIT) {
                    return Ok(Some(w));
                }
            }
            Ok(Some(plain))
        }
        other => other,
    }
}

/// Whether every string `pattern` matches is an ARN with an empty region: it starts with
/// `arn:`, and its partition and service are literal text followed by `::`.
fn empty_region(pattern: &[Sym]) -> bool {
    let arn = [
        Sym::Byte(b'a'),
        Sym::Byte(b'r'),
        Sym::Byte(b'n'),
        Sym::Byte(b':'),
    ];
    if !pattern.starts_with(&arn) {
        return false;
    }
    let mut colons = 0;
    for (i, s) in pattern.iter().enumerate() {
        match s {
            Sym::Byte(b':') => {
                colons += 1;
                if colons == 3 {
                    return pattern.get(i + 1) == Some(&Sym::Byte(b':'));
                }
            }
            Sym::Byte(_) => {}
            _ => return false,
        }
    }
    false
}

/// How many product states a search for a more readable answer visits before it settles for
/// the plain one.
const READABLE_LIMIT: usize = 2_000;

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
        let bytes: Option<Vec<u8>> = pattern
            .iter()
            .map(|s| match s {
                Sym::Byte(b) => Some(*b),
                _ => None,
            })
            .collect();
        if let Some(bytes) = bytes {
            self.insert_bytes(&bytes);
        }
    }

    fn insert_bytes(&mut self, bytes: &[u8]) {
        if self.children.is_empty() {
            self.children.push(Vec::new());
            self.ends.push(false);
        }
        let mut node = 0usize;
        for b in bytes {
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

/// Whether `text` matches `pattern`, by dynamic programming over the two (no automaton
/// to build: for checking a few strings).
fn glob_match(pattern: &[Sym], text: &[u8]) -> bool {
    // row[j]: the pattern so far matches text[..j].
    let mut row = vec![false; text.len() + 1];
    row[0] = true;
    for s in pattern {
        let mut next = vec![false; text.len() + 1];
        match s {
            Sym::Star | Sym::PartStar => {
                let mut on = false;
                for j in 0..=text.len() {
                    if j > 0 && on && (*s == Sym::Star || text[j - 1] != b':') {
                        next[j] = true;
                    } else {
                        on = false;
                    }
                    if row[j] {
                        on = true;
                        next[j] = true;
                    }
                }
            }
            _ => {
                for j in 1..=text.len() {
                    let b = text[j - 1];
                    let ok = match s {
                        Sym::Byte(c) => *c == b,
                        Sym::One => true,
                        Sym::PartOne => b != b':',
                        _ => false,
                    };
                    next[j] = row[j - 1] && ok;
                }
            }
        }
        row = next;
    }
    row[text.len()]
}

/// Whether every string `pattern` matches is one `by` matches, seen plainly: they are the
/// same, or `by` is a literal prefix and `*` that `pattern` starts with.
pub(crate) fn covered(pattern: &[Sym], by: &[Sym]) -> bool {
    if pattern == by {
        return true;
    }
    match by.split_last() {
        Some((Sym::Star, prefix)) => {
            prefix.iter().all(|s| matches!(s, Sym::Byte(_))) && pattern.starts_with(prefix)
        }
        _ => false,
    }
}

/// Whether no string matches both patterns, seen plainly: their literal starts differ.
pub(crate) fn apart(a: &[Sym], b: &[Sym]) -> bool {
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (Sym::Byte(x), Sym::Byte(y)) if x != y => return true,
            (Sym::Byte(_), Sym::Byte(_)) => {}
            _ => return false,
        }
    }
    // One is a literal prefix of the other: apart when the shorter is all literal (so its
    // strings end there) and the longer needs at least one more byte.
    let ends = |short: &[Sym], long: &[Sym]| {
        short.iter().all(|s| matches!(s, Sym::Byte(_)))
            && long.len() > short.len()
            && long[short.len()..]
                .iter()
                .any(|s| matches!(s, Sym::Byte(_) | Sym::One | Sym::PartOne))
    };
    ends(a, b) || ends(b, a)
}

fn witness(lang: &Lang, limit: usize) -> Result<Option<String>, TooLarge> {
    // A group with `*` in it is no constraint.
    let groups: Vec<&Group> = lang.all.iter().filter(|g| !g.is_everything()).collect();
    if groups.iter().any(|g| g.is_empty()) {
        return Ok(None);
    }
    if lang.none.iter().any(|p| p.as_slice() == [Sym::Star]) {
        return Ok(None);
    }
    // Patterns that cannot meet any member of another group (their literal starts differ),
    // and patterns an exclusion covers, are dropped: a group left with none is empty.
    let pruned: Vec<Group> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| Group {
            patterns: g
                .patterns
                .iter()
                .filter(|p| {
                    groups.iter().enumerate().all(|(j, other)| {
                        i == j
                            || other.names.is_some()
                            || other.patterns.iter().any(|q| !apart(p, q))
                    }) && !lang.none.iter().any(|by| covered(p, by))
                })
                .cloned()
                .collect(),
            names: g.names.clone(),
        })
        .collect();
    if pruned.iter().any(Group::is_empty) {
        return Ok(None);
    }
    let groups: Vec<&Group> = pruned.iter().collect();
    // A group of a few exact strings: the answer is one of them, the shortest (then the
    // first in byte order, as the search would find it) that meets the rest.
    let exact = |p: &Vec<Sym>| p.iter().all(|s| matches!(s, Sym::Byte(_)));
    if let Some(g) = groups
        .iter()
        .filter(|g| g.names.is_none() && g.patterns.len() <= 64 && g.patterns.iter().all(exact))
        .min_by_key(|g| g.patterns.len())
    {
        let mut candidates: Vec<Vec<u8>> = g
            .patterns
            .iter()
            .map(|p| {
                p.iter()
                    .map(|s| match s {
                        Sym::Byte(b) => *b,
                        _ => 0,
                    })
                    .collect()
            })
            .collect();
        candidates.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        let found = candidates.into_iter().find(|c| {
            let text = String::from_utf8_lossy(c);
            groups.iter().all(|g| {
                g.patterns.iter().any(|p| glob_match(p, c))
                    || g.names.as_ref().is_some_and(|n| n.contains(&text))
            }) && !lang.none.iter().any(|p| glob_match(p, c))
                && !lang.none_names.iter().any(|n| n.contains(&text))
        });
        return Ok(found.map(|c| String::from_utf8_lossy(&c).into_owned()));
    }
    // The alphabet: every literal byte, and one byte no pattern names.
    let mut used = [false; 256];
    for p in groups
        .iter()
        .flat_map(|g| g.patterns.iter())
        .chain(&lang.none)
    {
        for s in p {
            if let Sym::Byte(b) = s {
                used[*b as usize] = true;
            }
        }
    }
    for n in groups
        .iter()
        .filter_map(|g| g.names.as_ref())
        .chain(&lang.none_names)
    {
        for (b, u) in n.0.bytes.iter().enumerate() {
            used[b] |= u;
        }
    }
    let mut alphabet: Vec<u8> = (0..=255u8).filter(|b| used[*b as usize]).collect();
    // The byte no pattern names comes first, so wildcards are filled with it: `x` where
    // it can be.
    if let Some(other) = b"xz0123456789abcdefghijklmnopqrstuvwy-_"
        .iter()
        .copied()
        .chain(1u8..=255)
        .find(|b| !used[*b as usize])
    {
        alphabet.insert(0, other);
    }
    // Every automaton, groups' members first, then the excluded patterns.
    let mut nfas: Vec<Nfa> = Vec::new();
    let mut group_of: Vec<Option<usize>> = Vec::new();
    // Many exact strings (principals named one by one) are one trie, not one automaton each;
    // shared sets of names bring their own.
    let mut owned: Vec<(Option<usize>, Trie)> = Vec::new();
    let mut shared: Vec<(Option<usize>, &Trie)> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let many = group.patterns.iter().filter(|p| exact(p)).count() > 8;
        let mut trie = Trie::default();
        for p in &group.patterns {
            if many && exact(p) {
                trie.insert(p);
            } else {
                nfas.push(Nfa::new(p, &alphabet));
                group_of.push(Some(g));
            }
        }
        if many {
            owned.push((Some(g), trie));
        }
        if let Some(n) = &group.names {
            shared.push((Some(g), &n.0.trie));
        }
    }
    let many = lang.none.iter().filter(|p| exact(p)).count() > 8;
    let mut trie = Trie::default();
    for p in &lang.none {
        if many && exact(p) {
            trie.insert(p);
        } else {
            nfas.push(Nfa::new(p, &alphabet));
            group_of.push(None);
        }
    }
    if many {
        owned.push((None, trie));
    }
    for n in &lang.none_names {
        shared.push((None, &n.0.trie));
    }
    // Every trie with its role: `Some(group)` for alternatives, `None` for exclusions.
    let tries: Vec<(Option<usize>, &Trie)> = owned
        .iter()
        .map(|(g, t)| (*g, t))
        .chain(shared.iter().copied())
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let offsets: Vec<usize> = nfas
        .iter()
        .scan(0, |acc, n| {
            let at = *acc;
            *acc += n.words;
            Some(at)
        })
        .collect();
    let nfa_width: usize = nfas.iter().map(|n| n.words).sum();
    // A state: the automata's positions, then one trie node per trie (`DEAD`: no string of
    // it starts with what was read).
    let width = nfa_width + tries.len();
    let accepting = |state: &[u64]| -> bool {
        let mut met = vec![false; groups.len()];
        for (k, (g, t)) in tries.iter().enumerate() {
            if t.terminal(state[nfa_width + k]) {
                match g {
                    Some(g) => met[*g] = true,
                    None => return false,
                }
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
        for (k, (g, _)) in tries.iter().enumerate() {
            if let Some(g) = g {
                if state[nfa_width + k] != DEAD {
                    live[*g] = true;
                }
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
    let mut seen: HashMap<Vec<u64>, (usize, u8), Fnv> = HashMap::default();
    let mut states: Vec<Vec<u64>> = vec![start.clone()];
    seen.insert(start, (usize::MAX, 0));
    let mut parent: Vec<(usize, u8)> = vec![(usize::MAX, 0)];
    // Breadth first finds the shortest string. But where a group is a set of names, every
    // string is about as long as every other, and breadth first would walk all of them
    // before it reaches one: depth first finds one in time that does not grow with them.
    let depth_first = groups.iter().any(|g| g.names.is_some());
    // A group that is only a set of names drives the search: from each state only the bytes
    // its trie goes on with need a look.
    let driver = tries.iter().position(|(g, _)| {
        g.is_some_and(|g| groups[g].patterns.is_empty() && groups[g].names.is_some())
    });
    let mut index_of = [usize::MAX; 256];
    for (k, &b) in alphabet.iter().enumerate() {
        index_of[b as usize] = k;
    }
    let mut stack: Vec<usize> = vec![0];
    let mut at = 0;
    loop {
        if depth_first {
            match stack.pop() {
                Some(i) => at = i,
                None => break,
            }
        } else if at >= states.len() {
            break;
        }
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
        let pushed = states.len();
        let bytes: Vec<(usize, u8)> = match driver {
            Some(j) => {
                let node = states[at][nfa_width + j];
                if node == DEAD {
                    Vec::new()
                } else {
                    tries[j].1.children[node as usize]
                        .iter()
                        .map(|(b, _)| (index_of[*b as usize], *b))
                        .collect()
                }
            }
            None => alphabet.iter().copied().enumerate().collect(),
        };
        for (k, byte) in bytes {
            for (i, n) in nfas.iter().enumerate() {
                let (lo, hi) = (offsets[i], offsets[i] + n.words);
                n.step(&states[at][lo..hi], k, &mut next[lo..hi]);
            }
            for (j, (_, t)) in tries.iter().enumerate() {
                next[nfa_width + j] = t.step(states[at][nfa_width + j], byte);
            }
            if !alive(&next) || seen.contains_key(&next) {
                continue;
            }
            if states.len() >= limit {
                return Err(TooLarge);
            }
            seen.insert(next.clone(), (at, byte));
            states.push(next.clone());
            parent.push((at, byte));
        }
        if depth_first {
            // The alphabet's first byte is tried first.
            stack.extend((pushed..states.len()).rev());
        } else {
            at += 1;
        }
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
                .map(|g| Group::from(g.iter().map(|p| glob(p, true)).collect::<Vec<_>>()))
                .collect(),
            none: none.iter().map(|p| glob(p, true)).collect(),
            none_names: Vec::new(),
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
        let l = Lang::one_of(vec![part("arn:aws:ssm:*:1:managed-instance/*")])
            .and(vec![part("arn:aws:ssm:*::document/D")]);
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
                assert!(
                    g.patterns.iter().any(|p| matches(p, &w)),
                    "{w} in every group"
                );
            }
            for p in &l.none {
                assert!(!matches(p, &w), "{w} matches no exclusion");
            }
        }
    }

    /// Every string of `alphabet` up to `n` bytes.
    fn strings(alphabet: &[u8], n: usize) -> Vec<Vec<u8>> {
        let mut out = vec![Vec::new()];
        let mut level = vec![Vec::new()];
        for _ in 0..n {
            let mut next = Vec::new();
            for s in &level {
                for &b in alphabet {
                    let mut t: Vec<u8> = s.clone();
                    t.push(b);
                    next.push(t);
                }
            }
            out.extend(next.iter().cloned());
            level = next;
        }
        out
    }

    /// Small patterns over `ab:` with every kind of symbol.
    fn patterns() -> Vec<Vec<Sym>> {
        let syms = [
            Sym::Byte(b'a'),
            Sym::Byte(b'b'),
            Sym::Byte(b':'),
            Sym::Star,
            Sym::One,
            Sym::PartStar,
            Sym::PartOne,
        ];
        let mut out = vec![Vec::new()];
        let mut level = vec![Vec::new()];
        for _ in 0..3 {
            let mut next = Vec::new();
            for p in &level {
                for s in syms {
                    let mut q: Vec<Sym> = p.clone();
                    q.push(s);
                    next.push(q);
                }
            }
            out.extend(next.iter().cloned());
            level = next;
        }
        out
    }

    #[test]
    fn the_plain_matcher_agrees_with_the_automaton() {
        let texts = strings(b"ab:", 4);
        for p in patterns() {
            for t in &texts {
                let text = std::str::from_utf8(t).unwrap();
                assert_eq!(
                    glob_match(&p, t),
                    matches(&p, text),
                    "{} on {text}",
                    show(&p)
                );
            }
        }
    }

    #[test]
    fn plain_shortcuts_are_sound() {
        // `apart` and `covered` may say "don't know", never something false.
        let texts = strings(b"ab:", 4);
        let all = patterns();
        let short: Vec<&Vec<Sym>> = all.iter().filter(|p| p.len() <= 2).collect();
        let pairs = all
            .iter()
            .flat_map(|a| short.iter().flat_map(move |b| [(a, *b), (*b, a)]));
        for (a, b) in pairs {
            {
                let both = texts.iter().any(|t| glob_match(a, t) && glob_match(b, t));
                if apart(a, b) {
                    assert!(!both, "{} and {} share a string", show(a), show(b));
                }
                if covered(a, b) {
                    assert!(
                        texts.iter().all(|t| !glob_match(a, t) || glob_match(b, t)),
                        "{} is not within {}",
                        show(a),
                        show(b)
                    );
                }
            }
        }
    }

    #[test]
    fn shared_names_exclude_and_offer_like_patterns() {
        let names: Vec<String> = (0..300).map(|i| format!("role/t/p{i}")).collect();
        let set = Names::new(names.clone());
        // Excluded: the answer is never one of them.
        let some: Vec<String> = (0..10).map(|i| format!("role/t/p{i}")).collect();
        let l = Lang::one_of(some.iter().map(|n| exact(n)).collect()).except_names(&set);
        assert_eq!(l.witness(), Ok(None));
        let l = Lang::one_of(vec![glob("role/t/p*", true)]).except_names(&set);
        let w = l.witness().unwrap().unwrap();
        assert!(w.starts_with("role/t/p") && !set.contains(&w), "{w}");
        // Offered: the answer is one of them, and meets the other groups.
        let l = Lang::one_of_group(Group {
            patterns: Vec::new(),
            names: Some(set.clone()),
        })
        .and(vec![glob("role/t/p29?", true)])
        .except(exact("role/t/p290"));
        let w = l.witness().unwrap().unwrap();
        assert!(set.contains(&w) && w.starts_with("role/t/p29") && w != "role/t/p290");
        let l = Lang::one_of_group(Group {
            patterns: Vec::new(),
            names: Some(set.clone()),
        })
        .and(vec![glob("role/u/*", true)]);
        assert_eq!(l.witness(), Ok(None));
        // Sets with the same strings are the same set.
        assert_eq!(set, Names::new(names.into_iter().rev()));
    }
}
