//! The one question the proof asks, answered exhaustively: given a holder, its policies and a
//! class of requests (one action, a set of resources, constraints on some condition keys),
//! is there a request in the class that the policies allow?
//!
//! It is answered without probes. Resources are sets of ARNs written as patterns
//! ([`Lang`]); an allow of the identity side and an allow of the boundary must both match the
//! request, and every deny that names the action must be escaped: by a resource outside it,
//! or by one of its conditions failing. Conditions are split by who decides the key's value:
//! - the holder's own facts (`aws:PrincipalArn`, `aws:username`, its tags…): fixed,
//!   evaluated as AWS would;
//! - keys the request class fixes (`iam:PermissionsBoundary` when asking for "another
//!   boundary");
//! - resource tags the holder cannot set: as on a resource that lacks them;
//! - everything else (request parameters, tags it can set, network, MFA, time…): the caller
//!   chooses, any value or none, pattern matches included.
//!
//! Where a condition is beyond exact reasoning here (numbers, dates, addresses, set
//! operators, case-insensitive matches), the caller is taken to meet the allows and escape
//! the denies: the answer can only err towards "allowed", never towards "closed".

use crate::eval::condition::Condition as EvalCondition;
use crate::eval::Context;
use crate::iam::{self, Effect};

use super::lang::{self, Lang, Sym};

/// Who makes the requests.
#[derive(Clone, Debug)]
pub struct Holder {
    /// The request's principal (a user, a role session, a federated session).
    pub caller: String,
    /// Context keys AWS sets from who the caller is, in lower case with their values;
    /// principal keys missing here are missing from the request.
    pub facts: Context,
    /// Principal keys whose value the caller chooses (a role session's `aws:userid`); one
    /// that ends with `/` stands for every key it starts (`aws:principaltag/`: every tag).
    pub chosen: Vec<String>,
}

impl Holder {
    /// Whether the caller chooses the value of `key` (lower case).
    pub fn chooses(&self, key: &str) -> bool {
        chooses(&self.chosen, key)
    }

    /// The same holder, choosing its own tags.
    pub fn choosing_tags(&self) -> Holder {
        let mut out = self.clone();
        out.chosen.push("aws:principaltag/".into());
        out
    }
}

/// [`Holder::chooses`] over a list of chosen keys.
fn chooses(chosen: &[String], key: &str) -> bool {
    chosen
        .iter()
        .any(|c| c == key || (c.ends_with('/') && key.starts_with(c.as_str())))
}

/// Where a key's value comes from, for one request class.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeySpace {
    /// The request does not carry the key.
    Absent,
    /// One value from this set.
    In(Lang),
    /// Either missing, or one value from this set.
    AbsentOr(Lang),
}

/// A class of requests.
#[derive(Clone, Debug)]
pub struct Query {
    pub action: String,
    pub resource: Lang,
    /// Keys (lower case) the class fixes.
    pub keys: Vec<(String, KeySpace)>,
}

/// A policy of the set being analysed, with where it sits.
pub struct Side<'a> {
    pub policies: Vec<&'a iam::Policy>,
}

/// A request the policies allow, and the statements that allow it.
#[derive(Clone, Debug)]
pub struct Witness {
    pub action: String,
    /// `None` when the search gave up on the resource set (it is then counted as allowed).
    pub resource: Option<String>,
    /// Values the caller chose for keys: (key, value); no value means the key was left out.
    pub context: Vec<(String, Option<String>)>,
    /// (policy index, statement index) of the identity side's allow.
    pub identity: Option<(usize, usize)>,
    /// Statement index of the boundary's allow.
    pub boundary: Option<usize>,
}

/// The keys (lower case) a text names as policy variables: see [`iam::variable_keys`].
pub(crate) fn variables(text: &str) -> impl Iterator<Item = String> + '_ {
    iam::variable_keys(text).map(str::to_ascii_lowercase)
}

/// The principal keys (lower case) the policies test, in conditions or as variables: where
/// holders differ, only these can tell them apart. (The analysis itself uses a holder's ARN
/// only to leave the holder out of "outside its reach", which no holder kind changes.)
pub(crate) fn principal_keys_tested(policies: &[&iam::Policy]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in policies.iter().flat_map(|p| &p.statements) {
        for k in keys_read(s) {
            if principal_key(&k) && !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// The keys (lower case) a statement reads: its condition keys, and the variables in its
/// resources and condition values.
fn keys_read(s: &iam::Statement) -> Vec<String> {
    let mut out: Vec<String> = s
        .conditions
        .iter()
        .map(|c| c.key.to_ascii_lowercase())
        .collect();
    let texts = s.conditions.iter().flat_map(|c| c.values.iter()).chain(
        s.resource
            .iter()
            .flat_map(|b| b.values.iter().map(|v| &v.value)),
    );
    for t in texts {
        out.extend(variables(t));
    }
    out
}

/// A hash of what a statement says (not where it is written): see [`same_said`].
fn said_hash(s: &iam::Statement) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = lang::FnvHasher::default();
    (s.effect.value == Effect::Allow).hash(&mut h);
    s.principal.is_some().hash(&mut h);
    for block in [&s.action, &s.resource] {
        match block {
            Some(b) => {
                b.not.hash(&mut h);
                b.values.len().hash(&mut h);
                for v in &b.values {
                    v.value.hash(&mut h);
                }
            }
            None => 2u8.hash(&mut h),
        }
    }
    s.conditions.len().hash(&mut h);
    for c in &s.conditions {
        c.operator.hash(&mut h);
        c.key.hash(&mut h);
        c.values.hash(&mut h);
    }
    h.finish()
}

/// Whether two statements say the same to the solver: effect, whether they name a principal,
/// actions, resources and conditions (not their Sids, spans or docs).
fn same_said(a: &iam::Statement, b: &iam::Statement) -> bool {
    let block = |x: &Option<iam::Block>, y: &Option<iam::Block>| match (x, y) {
        (Some(x), Some(y)) => {
            x.not == y.not
                && x.values.len() == y.values.len()
                && x.values
                    .iter()
                    .zip(&y.values)
                    .all(|(v, w)| v.value == w.value)
        }
        (None, None) => true,
        _ => false,
    };
    a.effect.value == b.effect.value
        && a.principal.is_some() == b.principal.is_some()
        && block(&a.action, &b.action)
        && block(&a.resource, &b.resource)
        && a.conditions.len() == b.conditions.len()
        && a.conditions
            .iter()
            .zip(&b.conditions)
            .all(|(c, d)| c.operator == d.operator && c.key == d.key && c.values == d.values)
}

/// Statements and policies by what they say, numbered: [`Shared::table`].
#[derive(Default)]
pub struct PolicyTable {
    statements: std::collections::HashMap<u64, Vec<(iam::Statement, u32)>, lang::Fnv>,
    count: u32,
    /// Policies by the numbers of their statements.
    policies: std::collections::HashMap<Vec<u32>, u32, lang::Fnv>,
    /// Boundaries by ARN: their documents and numbers.
    boundaries: std::collections::HashMap<String, Vec<(iam::Policy, Numbers)>>,
    /// Per policy number, per action: the statements (indexes) that name it.
    naming: std::collections::HashMap<
        u32,
        std::collections::HashMap<String, std::rc::Rc<[usize]>, lang::Fnv>,
        lang::Fnv,
    >,
}

impl PolicyTable {
    fn statement(&mut self, s: &iam::Statement) -> u32 {
        let next = self.count;
        let entries = self.statements.entry(said_hash(s)).or_default();
        match entries.iter().find(|(t, _)| same_said(t, s)) {
            Some((_, n)) => *n,
            None => {
                entries.push((s.clone(), next));
                self.count += 1;
                next
            }
        }
    }

    /// A policy's number, and its statements'.
    fn policy(&mut self, p: &iam::Policy) -> Numbers {
        let ids: Vec<u32> = p.statements.iter().map(|s| self.statement(s)).collect();
        let next = self.policies.len() as u32;
        let id = *self.policies.entry(ids.clone()).or_insert(next);
        (id, ids)
    }

    /// [`PolicyTable::policy`] of a boundary, found by its ARN when its document is the same.
    fn boundary(&mut self, arn: &str, p: &iam::Policy) -> Numbers {
        if let Some((_, found)) = self
            .boundaries
            .get(arn)
            .and_then(|known| known.iter().find(|(q, _)| q == p))
        {
            return found.clone();
        }
        let found = self.policy(p);
        self.boundaries
            .entry(arn.to_string())
            .or_default()
            .push((p.clone(), found.clone()));
        found
    }

    /// The statements of policy `id` (which is `p`) that name `action`.
    fn naming(&mut self, id: u32, p: &iam::Policy, action: &str) -> std::rc::Rc<[usize]> {
        let per_action = self.naming.entry(id).or_default();
        if let Some(found) = per_action.get(action) {
            return found.clone();
        }
        let found: std::rc::Rc<[usize]> = p
            .statements
            .iter()
            .enumerate()
            .filter(|(_, s)| s.principal.is_none() && Solver::applies(s, action))
            .map(|(i, _)| i)
            .collect();
        per_action.insert(action.to_string(), found.clone());
        found
    }
}

/// A policy's number, and its statements'.
type Numbers = (u32, Vec<u32>);

/// The numbers of a holder's policies and of their statements: [`Shared::ids`].
pub struct Ids {
    identity: Vec<Numbers>,
    boundary: Option<Numbers>,
}

/// Keys the principal's identity fixes.
fn principal_key(key: &str) -> bool {
    key.starts_with("aws:principal")
        || matches!(
            key,
            "aws:username" | "aws:userid" | "aws:sourceidentity" | "aws:federatedprovider"
        )
}

fn resource_tag(key: &str) -> bool {
    key.split_once(':')
        .is_some_and(|(_, rest)| rest.starts_with("resourcetag/"))
}

/// Who decides a key.
enum Class {
    Fixed,
    Query,
    Free,
}

/// One statement of the set, ready to combine.
struct Stmt<'a> {
    s: &'a iam::Statement,
    at: (usize, usize),
}

pub struct Solver<'a> {
    pub holder: &'a Holder,
    /// Identity policies (each its statements); empty means "no identity policy".
    pub identity: &'a [&'a iam::Policy],
    pub boundary: Option<&'a iam::Policy>,
    /// Services whose resources' tags the holder can set (`*`: every service).
    pub settable_tags: &'a [String],
    /// Answers already found, by what they depend on: the statements that name the action
    /// (where they sit and what they say), the resources, the keys, and what of the holder
    /// those statements read. Actions named by the same statements share them, and so do
    /// principals whose policies say the same.
    pub memo: Option<Shared<'a>>,
}

/// Where answers are kept: [`Solver::memo`].
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    /// Answers, for every principal of the world.
    pub answers: &'a std::cell::RefCell<Memo>,
    /// Statements and policies by what they say, numbered, with the statements of each that
    /// name an action: for every principal of the world.
    pub table: &'a std::cell::RefCell<PolicyTable>,
    /// The numbers of this holder's policies and statements, made when first needed.
    pub ids: &'a std::cell::OnceCell<Ids>,
    /// The boundary's ARN: its numbers are looked up by it (every holder of a boundary has
    /// the same document).
    pub boundary_arn: Option<&'a str>,
    /// What an action's answers depend on, per action: for one holder and its policies.
    pub parts: &'a std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Part>>>,
}

/// What the answers for one action depend on besides the request class, for one holder and
/// its policies: the statements that name the action (where they sit and what they say), and
/// what of the holder those statements read.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    statements: Vec<(usize, usize)>,
    /// What each says: its number in [`Shared::said`].
    said: Vec<u32>,
    /// Whether there is a boundary.
    bounded: bool,
    /// The holder's facts those statements read: (key, value, chosen by the caller).
    holder: Vec<(String, Option<Vec<String>>, bool)>,
    /// The services whose tags the holder can set, where a statement tests a resource tag.
    tags: Option<Vec<String>>,
    /// A hash of all the above.
    hash: u64,
}

impl std::hash::Hash for Part {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.hash.hash(state);
    }
}

/// See [`Solver::memo`].
/// Answers by a hash of what they depend on; the keys are compared whole.
pub type Memo = std::collections::HashMap<u64, Vec<(MemoKey, Option<Witness>)>, lang::Fnv>;

/// What a class's answer depends on besides the action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoKey {
    part: std::rc::Rc<Part>,
    resource: Lang,
    /// The resource set's fingerprint: what is hashed of it.
    print: u64,
    keys: Vec<(String, KeySpace)>,
    service: String,
}

/// A condition's string patterns for a present value: (negated, patterns); `None` when the
/// operator is not a plain string or ARN match.
fn string_patterns(c: &iam::Condition, facts: &Context) -> Option<(bool, Vec<Vec<Sym>>)> {
    if c.operator.contains(':') {
        return None; // ForAnyValue / ForAllValues
    }
    let base = c.operator.strip_suffix("IfExists").unwrap_or(&c.operator);
    let (negated, wildcards) = match base {
        "StringEquals" => (false, false),
        "StringNotEquals" => (true, false),
        "StringLike" | "ArnEquals" | "ArnLike" => (false, true),
        "StringNotLike" | "ArnNotEquals" | "ArnNotLike" => (true, true),
        _ => return None,
    };
    let mut out = Vec::new();
    for v in &c.values {
        out.push(substitute(v, wildcards, facts, Free::Unknown)?);
    }
    Some((negated, out))
}

/// What a variable the facts do not hold becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Free {
    /// The whole pattern is beyond reasoning.
    Unknown,
    /// Any text (the caller chooses it).
    Star,
}

/// A pattern with policy variables filled from the facts. A variable of a principal key the
/// facts lack makes the pattern match nothing (`Some(None)`, as AWS does); one the caller
/// chooses, or any other key, becomes `free`.
fn substitute(text: &str, wildcards: bool, facts: &Context, free: Free) -> Option<Vec<Sym>> {
    match fill(text, wildcards, facts, &[], free) {
        Filled::Pattern(p) => Some(p),
        Filled::Unresolved | Filled::Unknown => None,
    }
}

enum Filled {
    Pattern(Vec<Sym>),
    /// A variable has no value: the pattern matches nothing.
    Unresolved,
    Unknown,
}

fn fill(text: &str, wildcards: bool, facts: &Context, chosen: &[String], free: Free) -> Filled {
    if !text.contains("${") {
        return Filled::Pattern(lang::glob(text, wildcards));
    }
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                let inner = &after[..end];
                rest = &after[end + 1..];
                match inner {
                    "*" | "?" | "$" => out.extend(lang::exact(inner)),
                    _ => {
                        let (key, default) = match inner.split_once(',') {
                            Some((k, d)) => {
                                (k.trim(), Some(d.trim().trim_matches('\'').to_string()))
                            }
                            None => (inner.trim(), None),
                        };
                        let key = key.to_ascii_lowercase();
                        if chooses(chosen, &key) {
                            match free {
                                Free::Star => out.push(Sym::Star),
                                Free::Unknown => return Filled::Unknown,
                            }
                        } else if let Some(v) = facts.single(&key) {
                            out.extend(lang::exact(v));
                        } else if principal_key(&key) {
                            match default {
                                Some(d) => out.extend(lang::exact(&d)),
                                None => return Filled::Unresolved,
                            }
                        } else {
                            match free {
                                Free::Star => out.push(Sym::Star),
                                Free::Unknown => return Filled::Unknown,
                            }
                        }
                    }
                }
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        let piece = &rest[..c.len_utf8()];
        out.extend(lang::glob(piece, wildcards));
        rest = &rest[c.len_utf8()..];
    }
    Filled::Pattern(out)
}

/// A statement's resources for one side: Resource patterns (a group the resource must
/// match), or NotResource ones (patterns it must not match).
enum Res {
    In(Vec<Vec<Sym>>),
    NotIn(Vec<Vec<Sym>>),
    /// Matches nothing, or makes the statement not apply.
    Never,
}

impl<'a> Solver<'a> {
    fn class(&self, key: &str, query: &Query) -> Class {
        if let Some((_, space)) = query.keys.iter().find(|(k, _)| k == key) {
            let _ = space;
            return Class::Query;
        }
        if self.holder.chooses(key) {
            return Class::Free;
        }
        if principal_key(key) {
            return Class::Fixed;
        }
        if resource_tag(key) {
            // The resource's service: the action's, or the one its ARNs name (an EC2
            // instance of `ssm:SendCommand` is tagged with `ec2:CreateTags`).
            let service = query.action.split(':').next().unwrap_or("");
            let mut services = vec![service.to_string()];
            for group in &query.resource.all {
                for p in &group.patterns {
                    let text = lang::show(p);
                    if let Some(s) = text.split(':').nth(2) {
                        if !s.contains(['*', '?']) && !services.iter().any(|x| x == s) {
                            services.push(s.to_string());
                        }
                    }
                }
            }
            if self
                .settable_tags
                .iter()
                .any(|t| t == "*" || services.iter().any(|s| t.eq_ignore_ascii_case(s)))
            {
                return Class::Free;
            }
            return Class::Fixed;
        }
        Class::Free
    }

    /// Whether some allow of each side names the action: nothing else can be allowed.
    pub fn could_allow(&self, action: &str) -> bool {
        let allows = |p: &iam::Policy| {
            p.statements.iter().any(|s| {
                s.effect.value == Effect::Allow && s.principal.is_none() && Self::applies(s, action)
            })
        };
        self.identity.iter().any(|p| allows(p)) && self.boundary.is_none_or(allows)
    }

    fn applies(s: &iam::Statement, action: &str) -> bool {
        let Some(block) = &s.action else {
            return false;
        };
        let hit = block
            .values
            .iter()
            .any(|a| crate::eval::pattern::wildcard(&a.value, action, true));
        hit != block.not
    }

    /// The resource patterns of a statement; `allow` says which way free variables lean.
    fn resources(&self, s: &iam::Statement, allow: bool) -> Res {
        let Some(block) = &s.resource else {
            return Res::Never;
        };
        let mut out = Vec::new();
        // An allow leans wide; a deny leans narrow: the caller picks the value that helps it.
        let lean_wide = allow != block.not;
        for r in &block.values {
            match fill(
                &r.value,
                true,
                &self.holder.facts,
                &self.holder.chosen,
                Free::Star,
            ) {
                Filled::Pattern(p) => {
                    if !lean_wide && p.contains(&Sym::Star) && has_free_var(&r.value, self) {
                        continue; // the caller makes it miss
                    }
                    out.push(lang::arn_parts(p))
                }
                Filled::Unresolved if block.not => return Res::Never,
                Filled::Unresolved | Filled::Unknown => {}
            }
        }
        if block.not {
            Res::NotIn(out)
        } else if out.is_empty() {
            Res::Never
        } else {
            Res::In(out)
        }
    }

    /// Every statement of the set that names the action, by role.
    /// This holder's numbers: [`Shared::ids`].
    fn ids(&self, shared: Shared<'a>) -> &'a Ids {
        shared.ids.get_or_init(|| {
            let mut table = shared.table.borrow_mut();
            Ids {
                identity: self.identity.iter().map(|p| table.policy(p)).collect(),
                boundary: self.boundary.map(|b| match shared.boundary_arn {
                    Some(arn) => table.boundary(arn, b),
                    None => table.policy(b),
                }),
            }
        })
    }

    fn statements(&self, action: &str) -> (Vec<Stmt<'a>>, Vec<Stmt<'a>>, Vec<Stmt<'a>>) {
        let mut identity = Vec::new();
        let mut boundary = Vec::new();
        let mut denies = Vec::new();
        // Which statements name the action is known per policy, for every principal.
        if let Some(shared) = self.memo {
            let ids = self.ids(shared);
            let mut table = shared.table.borrow_mut();
            for (p, policy) in self.identity.iter().enumerate() {
                for &i in table.naming(ids.identity[p].0, policy, action).iter() {
                    let s = &policy.statements[i];
                    let st = Stmt { s, at: (p, i) };
                    match s.effect.value {
                        Effect::Allow => identity.push(st),
                        Effect::Deny => denies.push(st),
                    }
                }
            }
            if let (Some(b), Some((id, _))) = (self.boundary, &ids.boundary) {
                for &i in table.naming(*id, b, action).iter() {
                    let s = &b.statements[i];
                    let st = Stmt {
                        s,
                        at: (usize::MAX, i),
                    };
                    match s.effect.value {
                        Effect::Allow => boundary.push(st),
                        Effect::Deny => denies.push(st),
                    }
                }
            }
            return (identity, boundary, denies);
        }
        for (p, policy) in self.identity.iter().enumerate() {
            for (i, s) in policy.statements.iter().enumerate() {
                if s.principal.is_some() || !Self::applies(s, action) {
                    continue;
                }
                let st = Stmt { s, at: (p, i) };
                match s.effect.value {
                    Effect::Allow => identity.push(st),
                    Effect::Deny => denies.push(st),
                }
            }
        }
        if let Some(b) = self.boundary {
            for (i, s) in b.statements.iter().enumerate() {
                if s.principal.is_some() || !Self::applies(s, action) {
                    continue;
                }
                let st = Stmt {
                    s,
                    at: (usize::MAX, i),
                };
                match s.effect.value {
                    Effect::Allow => boundary.push(st),
                    Effect::Deny => denies.push(st),
                }
            }
        }
        (identity, boundary, denies)
    }

    /// A request of the class the set allows, if there is one.
    pub fn solve(&self, query: &Query) -> Option<Witness> {
        let Some(shared) = self.memo.filter(|_| query.resource.size() <= 64) else {
            let (identity, boundary, denies) = self.statements(&query.action);
            return self.solve_with(query, &identity, &boundary, &denies);
        };
        let part = self.part(shared, &query.action);
        // Settable tags depend on the action's service.
        let service = query.action.split(':').next().unwrap_or("");
        let print = query.resource.fingerprint();
        let hash = {
            use std::hash::{Hash, Hasher};
            let mut h = lang::FnvHasher::default();
            part.hash.hash(&mut h);
            print.hash(&mut h);
            for b in service.bytes() {
                b.to_ascii_lowercase().hash(&mut h);
            }
            query.keys.len().hash(&mut h);
            h.finish()
        };
        let same = |k: &MemoKey| {
            k.print == print
                && k.part == part
                && k.service.eq_ignore_ascii_case(service)
                && k.resource == query.resource
                && k.keys == query.keys
        };
        if let Some(entries) = shared.answers.borrow().get(&hash) {
            if let Some((_, found)) = entries.iter().find(|(k, _)| same(k)) {
                return found.clone().map(|mut w| {
                    w.action = query.action.clone();
                    w
                });
            }
        }
        let (identity, boundary, denies) = self.statements(&query.action);
        let found = self.solve_with(query, &identity, &boundary, &denies);
        let key = MemoKey {
            part,
            resource: query.resource.clone(),
            print,
            keys: query.keys.clone(),
            service: service.to_ascii_lowercase(),
        };
        shared
            .answers
            .borrow_mut()
            .entry(hash)
            .or_default()
            .push((key, found.clone()));
        found
    }

    /// [`Part`] of an action, made once per holder and policies.
    fn part(&self, shared: Shared<'a>, action: &str) -> std::rc::Rc<Part> {
        if let Some(found) = shared.parts.borrow().get(action) {
            return found.clone();
        }
        let (identity, boundary, denies) = self.statements(action);
        let all = || identity.iter().chain(&boundary).chain(&denies);
        let mut read: Vec<String> = Vec::new();
        for st in all() {
            for k in keys_read(st.s) {
                if !read.contains(&k) {
                    read.push(k);
                }
            }
        }
        read.sort_unstable();
        let tags = read
            .iter()
            .any(|k| resource_tag(k))
            .then(|| self.settable_tags.to_vec());
        let ids = self.ids(shared);
        let said: Vec<u32> = all()
            .map(|st| match st.at {
                (usize::MAX, i) => ids.boundary.as_ref().map_or(u32::MAX, |b| b.1[i]),
                (p, i) => ids.identity[p].1[i],
            })
            .collect();
        let mut part = Part {
            statements: all().map(|st| st.at).collect(),
            said,
            bounded: self.boundary.is_some(),
            holder: read
                .into_iter()
                .map(|k| {
                    let value = self.holder.facts.get(&k).map(<[String]>::to_vec);
                    let chosen = self.holder.chooses(&k);
                    (k, value, chosen)
                })
                .collect(),
            tags,
            hash: 0,
        };
        part.hash = {
            use std::hash::{Hash, Hasher};
            let mut h = lang::FnvHasher::default();
            part.statements.hash(&mut h);
            part.said.hash(&mut h);
            part.bounded.hash(&mut h);
            part.holder.hash(&mut h);
            part.tags.hash(&mut h);
            h.finish()
        };
        let part = std::rc::Rc::new(part);
        shared
            .parts
            .borrow_mut()
            .insert(action.to_string(), part.clone());
        part
    }

    fn solve_with(
        &self,
        query: &Query,
        identity: &[Stmt],
        boundary: &[Stmt],
        denies: &[Stmt],
    ) -> Option<Witness> {
        let no_boundary = [None];
        let boundary_choices: Vec<Option<&Stmt>> = if self.boundary.is_some() {
            boundary.iter().map(Some).collect()
        } else {
            no_boundary.to_vec()
        };
        for ia in identity {
            for ba in &boundary_choices {
                let mut state = State::new(query);
                if !self.require(&mut state, ia.s, query) {
                    continue;
                }
                if let Some(ba) = ba {
                    if !self.require(&mut state, ba.s, query) {
                        continue;
                    }
                }
                if matches!(state.resource.witness(), Ok(None)) {
                    continue;
                }
                let mut budget = 4096usize;
                if let Some(mut w) = self.escape(&state, denies, 0, query, &mut budget) {
                    w.identity = Some(ia.at);
                    w.boundary = ba.map(|b| b.at.1);
                    return Some(w);
                }
            }
        }
        None
    }

    /// Adds what an allow needs; `false` when it cannot match.
    fn require(&self, state: &mut State, s: &iam::Statement, query: &Query) -> bool {
        match self.resources(s, true) {
            Res::Never => return false,
            Res::In(group) => state.resource.all.push(group.into()),
            Res::NotIn(none) => state.resource.none.extend(none),
        }
        for c in &s.conditions {
            if !self.condition(state, c, true, query) {
                return false;
            }
        }
        true
    }

    /// Adds a condition that must hold (`must`) or fail; `false` when that is impossible.
    fn condition(&self, state: &mut State, c: &iam::Condition, must: bool, query: &Query) -> bool {
        let key = c.key.to_ascii_lowercase();
        match self.class(&key, query) {
            Class::Fixed => {
                let Some(compiled) = EvalCondition::new(&c.operator, &c.key, &c.values) else {
                    return true;
                };
                compiled.holds(&self.holder.facts) == must
            }
            Class::Query | Class::Free => {
                state.keys.push((key, c.clone(), must));
                true
            }
        }
    }

    /// Escapes denies `from..`, depth first over the ways to escape each.
    fn escape(
        &self,
        state: &State,
        denies: &[Stmt],
        from: usize,
        query: &Query,
        budget: &mut usize,
    ) -> Option<Witness> {
        if *budget == 0 {
            // Too many combinations to try: count the class as allowed.
            return self.finish(state, query, true);
        }
        *budget -= 1;
        let Some(d) = denies.get(from) else {
            return self.finish(state, query, false);
        };
        // Escape by resource.
        match self.resources(d.s, false) {
            Res::Never => return self.escape(state, denies, from + 1, query, budget),
            Res::In(patterns) => {
                let mut next = state.clone();
                next.resource.none.extend(patterns);
                // No resource left: nothing below can succeed.
                if !matches!(next.resource.witness(), Ok(None)) {
                    if let Some(w) = self.escape(&next, denies, from + 1, query, budget) {
                        return Some(w);
                    }
                }
            }
            Res::NotIn(patterns) => {
                let mut next = state.clone();
                next.resource.all.push(patterns.into());
                if !matches!(next.resource.witness(), Ok(None)) {
                    if let Some(w) = self.escape(&next, denies, from + 1, query, budget) {
                        return Some(w);
                    }
                }
            }
        }
        // Or by one of its conditions failing.
        for c in &d.s.conditions {
            let mut next = state.clone();
            if !self.condition(&mut next, c, false, query) {
                continue;
            }
            if let Some(w) = self.escape(&next, denies, from + 1, query, budget) {
                return Some(w);
            }
        }
        None
    }

    /// Whether the gathered constraints can all be met, and by what.
    fn finish(&self, state: &State, query: &Query, gave_up: bool) -> Option<Witness> {
        let resource = match state.resource.witness() {
            Ok(Some(r)) => Some(r),
            Ok(None) if !gave_up => return None,
            _ => None,
        };
        let mut context = Vec::new();
        let mut keys: Vec<&str> = state.keys.iter().map(|(k, _, _)| k.as_str()).collect();
        for (k, _) in &query.keys {
            keys.push(k);
        }
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let constraints: Vec<(&iam::Condition, bool)> = state
                .keys
                .iter()
                .filter(|(k, _, _)| k == key)
                .map(|(_, c, m)| (c, *m))
                .collect();
            let space = query.keys.iter().find(|(k, _)| k == key).map(|(_, s)| s);
            match self.key_value(key, &constraints, space) {
                Some(v) => context.push((key.to_string(), v)),
                None if gave_up => {}
                None => return None,
            }
        }
        Some(Witness {
            action: query.action.clone(),
            resource,
            context,
            identity: None,
            boundary: None,
        })
    }

    /// A value of one key that meets its constraints: `Some(None)` for "leave it out".
    fn key_value(
        &self,
        key: &str,
        constraints: &[(&iam::Condition, bool)],
        space: Option<&KeySpace>,
    ) -> Option<Option<String>> {
        let absent_ok = || {
            constraints.iter().all(|(c, must)| {
                EvalCondition::new(&c.operator, &c.key, &c.values)
                    .is_none_or(|e| e.holds(&Context::default()) == *must)
            })
        };
        let mut lang = match space {
            Some(KeySpace::Absent) => return absent_ok().then_some(None),
            Some(KeySpace::In(l)) => l.clone(),
            Some(KeySpace::AbsentOr(l)) => {
                if absent_ok() {
                    return Some(None);
                }
                l.clone()
            }
            None => {
                if absent_ok() {
                    return Some(None);
                }
                Lang::any()
            }
        };
        let mut exact = true;
        for (c, must) in constraints {
            if c.operator.starts_with("Null") {
                // Present: `Null: false` holds, `Null: true` fails.
                let wants_missing = c.values.iter().all(|v| v == "true");
                if wants_missing == *must {
                    return None;
                }
                continue;
            }
            match string_patterns(c, &self.holder.facts) {
                Some((negated, patterns)) => {
                    if negated != *must {
                        lang.all.push(patterns.into());
                    } else {
                        lang.none.extend(patterns);
                    }
                }
                None => exact = false,
            }
        }
        let _ = key;
        match lang.witness() {
            Ok(Some(v)) => Some(Some(v)),
            Ok(None) if exact => None,
            // Beyond exact reasoning: counted as met.
            _ => Some(Some("…".to_string())),
        }
    }
}

fn has_free_var(text: &str, solver: &Solver) -> bool {
    variables(text).any(|key| {
        solver.holder.chooses(&key)
            || (solver.holder.facts.single(&key).is_none() && !principal_key(&key))
    })
}

/// What a combination of statements needs so far.
#[derive(Clone)]
struct State {
    resource: Lang,
    /// (key, condition, must hold).
    keys: Vec<(String, iam::Condition, bool)>,
}

impl State {
    fn new(query: &Query) -> State {
        let mut resource = query.resource.clone();
        for group in &mut resource.all {
            for p in group.patterns.iter_mut() {
                *p = lang::arn_parts(std::mem::take(p));
            }
        }
        for p in &mut resource.none {
            *p = lang::arn_parts(std::mem::take(p));
        }
        State {
            resource,
            keys: Vec::new(),
        }
    }
}
