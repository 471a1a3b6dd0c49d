//! `iamx diff`: what a change grants or removes, by meaning rather than by text.
//!
//! Each principal (and each managed policy, boundary and group) of the old and the new side
//! is reduced to its statements: identity `Allow`s, the boundary's `Allow`s and every `Deny`.
//! Then, for every action of the embedded reference matched by a statement of either side,
//! the resources the action is allowed on are compared exactly, as sets of IAM wildcard
//! patterns ([`Lang`]), in both directions. A resource in one set and not the other is shown
//! as a witness ARN.
//!
//! Conditions are free variables: each distinct condition (operator, key, values) is true or
//! false, independently of the others, and every combination is tried. Two conditions written
//! differently are therefore never assumed equal, so a change of condition reports what it
//! may broaden rather than "no change": sound, and conservative.

use std::collections::{BTreeMap, HashMap};

use crate::awsdb;
use crate::eval::project::managed_document;
use crate::guardrail::lang::{self, Group, Lang, Sym};
use crate::iam::{self, DocumentKind, Effect, PrincipalKind, Project};

/// At most this many distinct conditions are combined in every way for one action; past it,
/// each side is taken at its broadest (for what it gains) and narrowest (for what it keeps).
const MAX_VARIABLES: usize = 8;

/// What a side of the diff holds: subjects by label.
#[derive(Clone, Debug, Default)]
pub struct Side {
    pub subjects: BTreeMap<String, Subject>,
    /// Roles' trust grants: role label → normalised grants.
    pub trust: BTreeMap<String, Vec<String>>,
    /// Boundaries and principals of the guardrail analysis: label → closed.
    pub guardrail: BTreeMap<String, bool>,
}

/// A principal, group, managed policy or set of JSON documents: what it is allowed.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    pub identity: Vec<iam::Statement>,
    /// `None` without a boundary.
    pub boundary: Option<Vec<iam::Statement>>,
    /// Managed policies it names that neither side's project nor AWS's reference holds.
    pub missing: Vec<String>,
}

impl Side {
    /// The subjects of a compiled project.
    pub fn of_project(project: &Project, guardrail: Option<&crate::guardrail::Report>) -> Side {
        let mut side = Side::default();
        for p in &project.principals {
            let mut subject = Subject::default();
            let add = |holder: &iam::PrincipalInfo, subject: &mut Subject| {
                for &i in &holder.documents {
                    let doc = &project.documents[i];
                    if doc.kind != DocumentKind::Trust {
                        subject.identity.extend(doc.policy.statements.clone());
                    }
                }
                for a in &holder.attached {
                    match managed_document(project, &a.value) {
                        Some(d) => subject.identity.extend(d.statements),
                        None => subject.missing.push(a.value.clone()),
                    }
                }
            };
            add(p, &mut subject);
            if p.kind == PrincipalKind::User {
                for g in &p.groups {
                    if let Some(group) = project
                        .principals
                        .iter()
                        .find(|q| q.kind == PrincipalKind::Group && &q.name == g)
                    {
                        add(group, &mut subject);
                    }
                }
            }
            if let Some(b) = &p.boundary {
                match managed_document(project, &b.value) {
                    Some(d) => subject.boundary = Some(d.statements),
                    None => {
                        subject.missing.push(b.value.clone());
                        subject.boundary = Some(Vec::new());
                    }
                }
            }
            let label = format!("{} {}", p.kind.as_str(), p.name);
            if p.kind == PrincipalKind::Role {
                let mut grants: Vec<String> = p
                    .documents
                    .iter()
                    .map(|&i| &project.documents[i])
                    .filter(|d| d.kind == DocumentKind::Trust)
                    .flat_map(|d| trust_grants(&d.policy))
                    .collect();
                grants.sort();
                grants.dedup();
                side.trust.insert(label.clone(), grants);
            }
            side.subjects.insert(label, subject);
        }
        for m in &project.policies {
            let kind = if m.boundary { "boundary" } else { "policy" };
            side.subjects.insert(
                format!("{kind} {}", m.name),
                Subject {
                    identity: project.documents[m.document].policy.statements.clone(),
                    ..Subject::default()
                },
            );
        }
        if let Some(report) = guardrail {
            for b in &report.boundaries {
                side.guardrail
                    .insert(format!("boundary {}", b.name), b.closed);
            }
            for p in report.principals.iter().filter(|p| p.bounded) {
                side.guardrail
                    .insert(format!("principal {}", p.name), p.closed);
            }
        }
        side
    }

    /// JSON identity policy documents, as the policies of one principal.
    pub fn of_documents(policies: Vec<iam::Policy>) -> Side {
        let mut side = Side::default();
        side.subjects.insert(
            "policies".into(),
            Subject {
                identity: policies.into_iter().flat_map(|p| p.statements).collect(),
                ..Subject::default()
            },
        );
        side
    }
}

/// A trust policy's grants, one line each: `Allow sts:AssumeRole to AWS arn:… when …`.
fn trust_grants(policy: &iam::Policy) -> Vec<String> {
    let mut out = Vec::new();
    for s in &policy.statements {
        let effect = s.effect.value.as_str();
        let mut actions: Vec<String> = s
            .action
            .iter()
            .flat_map(|b| {
                b.values.iter().map(move |v| {
                    // AWS's spelling, so that case alone is no change.
                    let a = v
                        .value
                        .split_once(':')
                        .and_then(|(p, n)| awsdb::action_spelling(p, n))
                        .map(|(p, n)| format!("{p}:{n}"))
                        .unwrap_or_else(|| v.value.clone());
                    if b.not {
                        format!("not {a}")
                    } else {
                        a
                    }
                })
            })
            .collect();
        actions.sort();
        let conditions = condition_words(&s.conditions);
        let not = if s.not_principal { "all but " } else { "" };
        let principals: Vec<String> = match &s.principal {
            Some(iam::Principal::Any(_)) => vec!["anyone".into()],
            Some(iam::Principal::Kinds(kinds)) => kinds
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k} `{}`", v.value)))
                .collect(),
            None => vec!["no one".into()],
        };
        for p in principals {
            for a in &actions {
                let mut line = format!("{effect} `{a}` to {not}{p}");
                if !conditions.is_empty() {
                    line.push_str(&format!(" when {conditions}"));
                }
                out.push(line);
            }
        }
    }
    out
}

/// One condition, canonical: the operator, the key in lower case, the values sorted.
fn condition_key(c: &iam::Condition) -> String {
    let mut values = c.values.clone();
    values.sort();
    values.dedup();
    format!(
        "`{}` {} {}",
        c.key.to_lowercase(),
        c.operator,
        values.join(", ")
    )
}

fn condition_words(conditions: &[iam::Condition]) -> String {
    let mut keys: Vec<String> = conditions.iter().map(condition_key).collect();
    keys.sort();
    keys.dedup();
    keys.join(" and ")
}

/// A statement reduced to what the comparison needs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stmt {
    allow: bool,
    /// `NotAction`, and the action patterns in lower case.
    not_action: bool,
    actions: Vec<String>,
    /// `NotResource`, and the resource patterns.
    not_resource: bool,
    resources: Vec<Vec<Sym>>,
    /// Indices into the shared condition table.
    conditions: Vec<usize>,
}

/// The statements of one subject on one side, by role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Reduced {
    identity: Vec<Stmt>,
    boundary: Option<Vec<Stmt>>,
}

fn reduce(statements: &[iam::Statement], table: &mut Vec<String>) -> Vec<Stmt> {
    statements
        .iter()
        .filter(|s| s.principal.is_none())
        .map(|s| {
            let (not_action, actions) = match &s.action {
                Some(b) => (
                    b.not,
                    b.values.iter().map(|v| v.value.to_lowercase()).collect(),
                ),
                None => (true, Vec::new()),
            };
            let (not_resource, resources) = match &s.resource {
                Some(b) => (
                    b.not,
                    b.values
                        .iter()
                        .map(|v| lang::arn_parts(lang::glob(&v.value, true)))
                        .collect(),
                ),
                None => (true, Vec::new()),
            };
            let mut conditions: Vec<usize> = s
                .conditions
                .iter()
                .map(|c| {
                    let key = condition_key(c);
                    match table.iter().position(|k| *k == key) {
                        Some(i) => i,
                        None => {
                            table.push(key);
                            table.len() - 1
                        }
                    }
                })
                .collect();
            conditions.sort_unstable();
            conditions.dedup();
            Stmt {
                allow: s.effect.value == Effect::Allow,
                not_action,
                actions,
                not_resource,
                resources,
                conditions,
            }
        })
        .collect()
}

/// IAM wildcard match, case-insensitive (both in lower case).
fn wild(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

impl Stmt {
    fn matches_action(&self, action: &str) -> bool {
        let hit = self
            .actions
            .iter()
            .any(|p| wild(p.as_bytes(), action.as_bytes()));
        hit != self.not_action
    }

    /// The set, intersected with this statement's resources.
    fn intersect(&self, mut l: Lang) -> Lang {
        if self.not_resource {
            l.none.extend(self.resources.iter().cloned());
        } else {
            l.all.push(Group::from(self.resources.clone()));
        }
        l
    }

    /// The set, without this statement's resources.
    fn subtract(&self, mut l: Lang) -> Lang {
        if self.not_resource {
            l.all.push(Group::from(self.resources.clone()));
        } else {
            l.none.extend(self.resources.iter().cloned());
        }
        l
    }
}

/// A difference found for one action.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub action: String,
    pub service: String,
    pub level: String,
    /// A resource allowed on one side and not the other (`None`: the search gave up, counted
    /// as a difference).
    pub resource: Option<String>,
    /// The resources of the statement that allows it, as written (`not …` for `NotResource`).
    pub under: Vec<String>,
    /// The conditions assumed true where the difference shows; empty when it shows with none.
    pub when: Vec<String>,
}

/// What one subject gains and loses.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SubjectDiff {
    pub subject: String,
    pub added: Vec<Change>,
    pub removed: Vec<Change>,
    /// Conditions take part in the comparison of some action.
    pub conditional: bool,
    pub missing: Vec<String>,
}

/// The whole comparison.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Diff {
    pub added_subjects: Vec<SubjectDiff>,
    pub removed_subjects: Vec<SubjectDiff>,
    pub changed: Vec<SubjectDiff>,
    /// Role → grants added, grants removed.
    pub trust: Vec<TrustDiff>,
    pub guardrail: Vec<GuardrailDiff>,
    pub verdict: Verdict,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TrustDiff {
    pub role: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct GuardrailDiff {
    pub subject: String,
    /// `None`: not on that side.
    pub old_closed: Option<bool>,
    pub new_closed: Option<bool>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Broadens,
    Narrows,
    Both,
    #[default]
    NoChange,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Broadens => "broadens",
            Verdict::Narrows => "narrows",
            Verdict::Both => "both",
            Verdict::NoChange => "no change in effect",
        }
    }
}

/// Every action of the reference, `prefix:name` in lower case, with AWS's spelling, service
/// and primary access level.
fn universe() -> &'static [(String, String, String, String)] {
    static ALL: std::sync::OnceLock<Vec<(String, String, String, String)>> =
        std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut out = Vec::new();
        for prefix in awsdb::service_prefixes() {
            if let Some(s) = awsdb::service(prefix) {
                for a in &s.actions {
                    let full = format!("{prefix}:{}", a.name);
                    out.push((
                        full.to_lowercase(),
                        full,
                        prefix.to_string(),
                        a.primary_access_level().to_string(),
                    ));
                }
            }
        }
        out
    })
}

/// The indices in [`universe`] of the actions an action pattern (lower case) matches,
/// computed once per pattern.
fn matching(pattern: &str) -> std::rc::Rc<Vec<usize>> {
    thread_local! {
        static CACHE: std::cell::RefCell<HashMap<String, std::rc::Rc<Vec<usize>>>> =
            Default::default();
    }
    if let Some(hit) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return hit;
    }
    let found: Vec<usize> = if pattern.contains(['*', '?']) {
        universe()
            .iter()
            .enumerate()
            .filter(|(_, (lower, ..))| wild(pattern.as_bytes(), lower.as_bytes()))
            .map(|(i, _)| i)
            .collect()
    } else {
        universe()
            .iter()
            .position(|(lower, ..)| lower == pattern)
            .into_iter()
            .collect()
    };
    let found = std::rc::Rc::new(found);
    CACHE.with(|c| {
        c.borrow_mut()
            .insert(pattern.to_string(), std::rc::Rc::clone(&found))
    });
    found
}

/// Compares two sides.
pub fn diff(old: &Side, new: &Side) -> Diff {
    let mut out = Diff::default();
    let empty = Subject::default();
    let mut labels: Vec<&String> = old.subjects.keys().chain(new.subjects.keys()).collect();
    labels.sort();
    labels.dedup();
    for label in labels {
        let (o, n) = (old.subjects.get(label), new.subjects.get(label));
        let d = compare(label, o.unwrap_or(&empty), n.unwrap_or(&empty));
        match (o, n) {
            (None, Some(_)) => out.added_subjects.push(d),
            (Some(_), None) => out.removed_subjects.push(d),
            _ => {
                if !d.added.is_empty() || !d.removed.is_empty() || !d.missing.is_empty() {
                    out.changed.push(d);
                }
            }
        }
    }
    let mut roles: Vec<&String> = old.trust.keys().chain(new.trust.keys()).collect();
    roles.sort();
    roles.dedup();
    for role in roles {
        let none = Vec::new();
        let o = old.trust.get(role).unwrap_or(&none);
        let n = new.trust.get(role).unwrap_or(&none);
        let added: Vec<String> = n.iter().filter(|g| !o.contains(g)).cloned().collect();
        let removed: Vec<String> = o.iter().filter(|g| !n.contains(g)).cloned().collect();
        if !added.is_empty() || !removed.is_empty() {
            out.trust.push(TrustDiff {
                role: role.clone(),
                added,
                removed,
            });
        }
    }
    let mut names: Vec<&String> = old.guardrail.keys().chain(new.guardrail.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (o, n) = (
            old.guardrail.get(name).copied(),
            new.guardrail.get(name).copied(),
        );
        if o != n {
            out.guardrail.push(GuardrailDiff {
                subject: name.clone(),
                old_closed: o,
                new_closed: n,
            });
        }
    }
    let broadens = out.added_subjects.iter().any(|d| !d.added.is_empty())
        || out
            .changed
            .iter()
            .any(|d| !d.added.is_empty() || !d.missing.is_empty())
        || out.trust.iter().any(|t| !t.added.is_empty())
        || out
            .guardrail
            .iter()
            .any(|g| g.new_closed == Some(false) && g.old_closed != Some(false));
    let narrows = out.removed_subjects.iter().any(|d| !d.removed.is_empty())
        || out.changed.iter().any(|d| !d.removed.is_empty())
        || out.trust.iter().any(|t| !t.removed.is_empty())
        || out
            .guardrail
            .iter()
            .any(|g| g.new_closed == Some(true) && g.old_closed == Some(false));
    out.verdict = match (broadens, narrows) {
        (true, true) => Verdict::Both,
        (true, false) => Verdict::Broadens,
        (false, true) => Verdict::Narrows,
        (false, false) => Verdict::NoChange,
    };
    out
}

/// What `new` allows that `old` does not, and the reverse, for one subject.
pub fn compare(label: &str, old: &Subject, new: &Subject) -> SubjectDiff {
    let mut table = Vec::new();
    let reduce_side = |s: &Subject, table: &mut Vec<String>| Reduced {
        identity: reduce(&s.identity, table),
        boundary: s.boundary.as_ref().map(|b| reduce(b, table)),
    };
    let o = reduce_side(old, &mut table);
    let n = reduce_side(new, &mut table);
    // A policy neither side can see, newly named: it may grant anything.
    let mut missing: Vec<String> = new
        .missing
        .iter()
        .filter(|m| !old.missing.contains(m))
        .cloned()
        .collect();
    missing.sort();
    missing.dedup();
    let mut out = SubjectDiff {
        subject: label.to_string(),
        missing,
        ..SubjectDiff::default()
    };
    // The same statements (in the same order) allow the same: nothing to search.
    if o == n {
        return out;
    }
    // Every statement of both sides, numbered: an action's signature is the statements that
    // match it, and actions with one signature share one answer.
    let all: Vec<&Stmt> = [&o, &n]
        .iter()
        .flat_map(|r| r.identity.iter().chain(r.boundary.iter().flatten()))
        .collect();
    // Only identity `Allow`s can grant: an action none of them matches is allowed on neither
    // side.
    let granting: Vec<&Stmt> = o
        .identity
        .iter()
        .chain(n.identity.iter())
        .filter(|s| s.allow)
        .collect();
    if granting.is_empty() {
        return out;
    }
    let mut actions: Vec<(String, String, String, String)> = Vec::new();
    let mut picked = vec![false; universe().len()];
    for s in &granting {
        if s.not_action {
            for (i, (lower, ..)) in universe().iter().enumerate() {
                picked[i] |= s.matches_action(lower);
            }
        } else {
            for a in &s.actions {
                for &i in matching(a).iter() {
                    picked[i] = true;
                }
            }
        }
    }
    for (i, entry) in universe().iter().enumerate() {
        if picked[i] {
            actions.push(entry.clone());
        }
    }
    // Actions written out that the reference does not hold are compared too.
    for s in &granting {
        if s.not_action {
            continue;
        }
        for a in &s.actions {
            if !a.contains(['*', '?']) && !actions.iter().any(|x| &x.0 == a) {
                let service = a.split(':').next().unwrap_or("").to_string();
                actions.push((a.clone(), a.clone(), service, "unknown".into()));
            }
        }
    }
    let mut by_signature: HashMap<Vec<bool>, Vec<usize>> = HashMap::new();
    for (i, (lower, ..)) in actions.iter().enumerate() {
        let sig: Vec<bool> = all.iter().map(|s| s.matches_action(lower)).collect();
        by_signature.entry(sig).or_default().push(i);
    }
    let mut signatures: Vec<(Vec<bool>, Vec<usize>)> = by_signature.into_iter().collect();
    signatures.sort_by_key(|(_, v)| v[0]);
    for (_, members) in signatures {
        let probe = &actions[members[0]].0;
        let pick = |r: &Reduced| Reduced {
            identity: r
                .identity
                .iter()
                .filter(|s| s.matches_action(probe))
                .cloned()
                .collect(),
            boundary: r.boundary.as_ref().map(|b| {
                b.iter()
                    .filter(|s| s.matches_action(probe))
                    .cloned()
                    .collect()
            }),
        };
        let (po, pn) = (pick(&o), pick(&n));
        let (gained, lost, conditional) = compare_action(&po, &pn, &table);
        out.conditional |= conditional && (gained.is_some() || lost.is_some());
        let change = |found: &(Option<String>, Vec<String>, Vec<String>), i: usize| {
            let (_, spelled, service, level) = &actions[i];
            Change {
                action: spelled.clone(),
                service: service.clone(),
                level: level.clone(),
                resource: found.0.clone(),
                under: found.1.clone(),
                when: found.2.clone(),
            }
        };
        if let Some(g) = &gained {
            out.added.extend(members.iter().map(|&i| change(g, i)));
        }
        if let Some(l) = &lost {
            out.removed.extend(members.iter().map(|&i| change(l, i)));
        }
    }
    out.added.sort_by(|a, b| a.action.cmp(&b.action));
    out.removed.sort_by(|a, b| a.action.cmp(&b.action));
    out
}

/// A resource (or `None`: undecided), the allowing statement's resources, the conditions.
type Found = Option<(Option<String>, Vec<String>, Vec<String>)>;
/// A resource (or `None`: undecided) and the allowing statement's resources.
type Gain = Option<(Option<String>, Vec<String>)>;

/// For one action: a resource (and the conditions assumed) `new` allows and `old` does not,
/// and the reverse; and whether conditions took part.
fn compare_action(old: &Reduced, new: &Reduced, table: &[String]) -> (Found, Found, bool) {
    let mut vars: Vec<usize> = [old, new]
        .iter()
        .flat_map(|r| r.identity.iter().chain(r.boundary.iter().flatten()))
        .flat_map(|s| s.conditions.iter().copied())
        .collect();
    vars.sort_unstable();
    vars.dedup();
    let conditional = !vars.is_empty();
    if vars.len() > MAX_VARIABLES {
        // Too many to combine: each side at its broadest against the other at its narrowest.
        let broad = |s: &Stmt| s.allow || s.conditions.is_empty();
        let narrow = |s: &Stmt| !s.allow || s.conditions.is_empty();
        let words = vec!["some of the conditions".to_string()];
        let gained = gain(new, old, &broad, &narrow).map(|(w, u)| (w, u, words.clone()));
        let lost = gain(old, new, &broad, &narrow).map(|(w, u)| (w, u, words.clone()));
        return (gained, lost, conditional);
    }
    // Every combination of the conditions, fewest true first: the first difference found is
    // shown with the fewest conditions.
    let mut masks: Vec<u32> = (0..1u32 << vars.len()).collect();
    masks.sort_by_key(|m| (m.count_ones(), *m));
    let (mut gained, mut lost) = (None, None);
    for mask in masks {
        if gained.is_some() && lost.is_some() {
            break;
        }
        let active = |s: &Stmt| {
            s.conditions.iter().all(|c| {
                vars.iter()
                    .position(|v| v == c)
                    .is_some_and(|i| mask & (1 << i) != 0)
            })
        };
        let words = || {
            vars.iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, &v)| table[v].clone())
                .collect::<Vec<_>>()
        };
        if gained.is_none() {
            if let Some((w, u)) = gain(new, old, &active, &active) {
                gained = Some((w, u, words()));
            }
        }
        if lost.is_none() {
            if let Some((w, u)) = gain(old, new, &active, &active) {
                lost = Some((w, u, words()));
            }
        }
    }
    (gained, lost, conditional)
}

/// A resource `a` allows and `b` does not, with the statements active as said; `Some(None)`
/// when the search gave up (counted as a difference).
fn gain(
    a: &Reduced,
    b: &Reduced,
    active_a: &dyn Fn(&Stmt) -> bool,
    active_b: &dyn Fn(&Stmt) -> bool,
) -> Gain {
    let allows = |stmts: &[Stmt], active: &dyn Fn(&Stmt) -> bool| -> Vec<Stmt> {
        stmts
            .iter()
            .filter(|s| s.allow && active(s))
            .cloned()
            .collect()
    };
    let denies = |r: &Reduced, active: &dyn Fn(&Stmt) -> bool| -> Vec<Stmt> {
        r.identity
            .iter()
            .chain(r.boundary.iter().flatten())
            .filter(|s| !s.allow && active(s))
            .cloned()
            .collect()
    };
    let a_id = allows(&a.identity, active_a);
    let a_bound = a.boundary.as_ref().map(|b| allows(b, active_a));
    let a_deny = denies(a, active_a);
    let b_id = allows(&b.identity, active_b);
    let b_bound = b.boundary.as_ref().map(|x| allows(x, active_b));
    let b_deny = denies(b, active_b);
    let any = Stmt {
        allow: true,
        not_action: true,
        actions: Vec::new(),
        not_resource: true,
        resources: Vec::new(),
        conditions: Vec::new(),
    };
    let a_bound = a_bound.unwrap_or_else(|| vec![any.clone()]);
    // The shortest string is often not an ARN (``): an ARN is looked for first when there is
    // one to show.
    let search = |l: &Lang| -> Option<Option<String>> {
        match l.witness() {
            Ok(Some(w)) if w.starts_with("arn:") => Some(Some(w)),
            Ok(Some(w)) => match l.clone().and(vec![lang::glob("arn:*", true)]).witness() {
                Ok(Some(arn)) => Some(Some(arn)),
                _ => Some(Some(w)),
            },
            Ok(None) => None,
            Err(lang::TooLarge) => Some(None),
        }
    };
    for i in &a_id {
        let under: Vec<String> = i
            .resources
            .iter()
            .map(|r| {
                let text = lang::show(r);
                if i.not_resource {
                    format!("not {text}")
                } else {
                    text
                }
            })
            .collect();
        let search = |l: &Lang| search(l).map(|w| (w, under.clone()));
        for j in &a_bound {
            let mut base = j.intersect(i.intersect(Lang::any()));
            for d in &a_deny {
                base = d.subtract(base);
            }
            // Not allowed by `b`'s identity policies.
            let mut l = base.clone();
            for s in &b_id {
                l = s.subtract(l);
            }
            if let Some(w) = search(&l) {
                return Some(w);
            }
            // Not allowed by `b`'s boundary.
            if let Some(bb) = &b_bound {
                let mut l = base.clone();
                for s in bb {
                    l = s.subtract(l);
                }
                if let Some(w) = search(&l) {
                    return Some(w);
                }
            }
            // Denied by `b`.
            for d in &b_deny {
                if let Some(w) = search(&d.intersect(base.clone())) {
                    return Some(w);
                }
            }
        }
    }
    None
}
