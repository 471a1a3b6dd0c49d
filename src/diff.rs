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
    /// Roles' trust grants: role label → grants.
    pub trust: BTreeMap<String, Vec<Grant>>,
    /// Boundaries and principals of the guardrail analysis: label → closed.
    pub guardrail: BTreeMap<String, bool>,
    /// Guarded boundaries' clauses, as written: label → clauses.
    pub guards: BTreeMap<String, Vec<String>>,
    /// Principals that `delegate`: labels.
    pub delegates: Vec<String>,
    /// Subjects' ARNs, where the project declares an account: label → ARN. A subject whose
    /// ARN is the same on both sides is the same subject, whatever its label.
    pub arns: BTreeMap<String, String>,
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
                let mut grants: Vec<Grant> = p
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
            if let Some(arn) = &p.arn {
                side.arns.insert(label.clone(), arn.clone());
            }
            if p.delegates {
                side.delegates.push(label.clone());
            }
            side.subjects.insert(label, subject);
        }
        for m in &project.policies {
            let kind = if m.boundary { "boundary" } else { "policy" };
            if let Some(arn) = &m.arn {
                side.arns.insert(format!("{kind} {}", m.name), arn.clone());
            }
            if let Some(g) = &m.guard {
                side.guards
                    .insert(format!("{kind} {}", m.name), guard_clauses(g));
            }
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

impl Side {
    /// A role's trust policy read from JSON, as the trust of one role.
    pub fn of_trust(policy: &iam::Policy) -> Side {
        let mut side = Side::default();
        let mut grants = trust_grants(policy);
        grants.sort();
        grants.dedup();
        side.trust.insert("trust policy".into(), grants);
        side
    }

    /// A resource-based policy read from JSON: one subject per principal it names, holding
    /// every statement that applies to that principal (its own, `Principal: "*"`, and a
    /// `NotPrincipal` that does not name it); `anyone` holds what applies to a principal
    /// named nowhere. An account ID is its root's ARN; other principals are matched as
    /// written.
    pub fn of_resource_policy(policy: &iam::Policy) -> Side {
        let names = |s: &iam::Statement| -> Vec<String> {
            match &s.principal {
                Some(iam::Principal::Any(_)) => vec!["anyone".into()],
                Some(iam::Principal::Kinds(kinds)) => kinds
                    .iter()
                    .flat_map(|(k, vs)| {
                        vs.iter().map(move |v| {
                            let v = &v.value;
                            // `{"AWS": "*"}` is everyone, as `"*"` is.
                            if k == "AWS" && v == "*" {
                                "anyone".to_string()
                            } else if k == "AWS"
                                && v.len() == 12
                                && v.bytes().all(|b| b.is_ascii_digit())
                            {
                                format!("{k} arn:aws:iam::{v}:root")
                            } else {
                                format!("{k} {v}")
                            }
                        })
                    })
                    .collect(),
                None => Vec::new(),
            }
        };
        let mut principals: Vec<String> = policy.statements.iter().flat_map(names).collect();
        principals.push("anyone".into());
        principals.sort();
        principals.dedup();
        let mut side = Side::default();
        for p in principals {
            let applies = |s: &iam::Statement| {
                let named = names(s);
                if s.not_principal {
                    // Every principal but those spared (and `anyone` stands for the others).
                    // AWS checks the account, then the principal: a user is spared when both
                    // are listed; a role never is, as its sessions are what make requests.
                    let account = p
                        .strip_prefix("AWS arn:")
                        .and_then(|rest| rest.split(':').nth(3))
                        .map(|id| format!("AWS arn:aws:iam::{id}:root"));
                    let role = p.contains(":role/");
                    let spared = named.iter().any(|n| n == "anyone")
                        || (named.contains(&p)
                            && !role
                            && account
                                .as_ref()
                                .is_none_or(|a| *a == p || named.contains(a)));
                    p == "anyone" || !spared
                } else {
                    named.contains(&p) || named.iter().any(|n| n == "anyone")
                }
            };
            let statements: Vec<iam::Statement> = policy
                .statements
                .iter()
                .filter(|s| applies(s))
                .map(|s| iam::Statement {
                    principal: None,
                    not_principal: false,
                    ..s.clone()
                })
                .collect();
            side.subjects.insert(
                format!("principal {p}"),
                Subject {
                    identity: statements,
                    ..Subject::default()
                },
            );
        }
        side
    }
}

/// A guard's clauses, in the words of the language.
fn guard_clauses(g: &iam::GuardSpec) -> Vec<String> {
    let mut out = Vec::new();
    let kinds: Vec<&str> = [(g.users, "users"), (g.roles, "roles")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, k)| *k)
        .collect();
    if !kinds.is_empty() {
        out.push(format!(
            "create {} under \"{}\"",
            kinds.join(", "),
            g.create_path
        ));
    }
    if let Some((path, services)) = &g.pass {
        let mut text = format!("pass roles under \"{path}\"");
        if !services.is_empty() {
            text.push_str(&format!(" to {}", services.join(", ")));
        }
        out.push(text);
    }
    if let Some(path) = &g.manage_path {
        out.push(format!("manage policies under \"{path}\""));
    }
    out
}

/// One grant of a trust policy: an effect, one principal, one action, its conditions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub allow: bool,
    /// `AWS `arn:…``, `Service `…``, `anyone`; `all but …` for `NotPrincipal`.
    pub principal: String,
    /// AWS's spelling; `not …` for `NotAction`.
    pub action: String,
    /// Canonical conditions, sorted.
    pub conditions: Vec<String>,
}

impl Grant {
    /// The action and its conditions, in words.
    fn words(&self) -> String {
        let mut line = format!("`{}`", self.action);
        if !self.allow {
            line = format!("deny {line}");
        }
        if !self.conditions.is_empty() {
            line.push_str(&format!(" when {}", self.conditions.join(" and ")));
        }
        line
    }

    /// Whether this grant allows at least what `other` allows: the same principal (or
    /// anyone), an action that covers the other's, and no condition the other lacks (each
    /// condition a free variable).
    fn covers(&self, other: &Grant) -> bool {
        let plain =
            |g: &Grant| !g.principal.starts_with("all but ") && !g.action.starts_with("not ");
        if !(self.allow && other.allow) {
            return self == other;
        }
        if !plain(self) || !plain(other) {
            return self.principal == other.principal
                && self.action == other.action
                && self.conditions.iter().all(|c| other.conditions.contains(c));
        }
        (self.principal == other.principal || self.principal == "anyone")
            && wild(
                self.action.to_lowercase().as_bytes(),
                other.action.to_lowercase().as_bytes(),
            )
            && self.conditions.iter().all(|c| other.conditions.contains(c))
    }
}

/// A trust policy's grants, one per principal and action.
fn trust_grants(policy: &iam::Policy) -> Vec<Grant> {
    let mut out = Vec::new();
    for s in &policy.statements {
        let allow = s.effect.value == Effect::Allow;
        let actions: Vec<String> = s
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
        let mut conditions: Vec<String> = s.conditions.iter().map(condition_key).collect();
        conditions.sort();
        conditions.dedup();
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
                out.push(Grant {
                    allow,
                    principal: format!("{not}{p}"),
                    action: a.clone(),
                    conditions: conditions.clone(),
                });
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

/// A statement reduced to what the comparison needs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stmt {
    allow: bool,
    /// `NotAction`, and the action patterns in lower case.
    not_action: bool,
    actions: Vec<String>,
    /// `NotResource`, and the resource patterns, a policy variable made `*`.
    not_resource: bool,
    resources: Vec<Vec<Sym>>,
    /// Per pattern: it holds a policy variable.
    variable: Vec<bool>,
    /// The patterns as written.
    written: Vec<String>,
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
            let (not_resource, written): (bool, Vec<String>) = match &s.resource {
                Some(b) => (b.not, b.values.iter().map(|v| v.value.clone()).collect()),
                None => (true, Vec::new()),
            };
            let (resources, variable) = written.iter().map(|w| resource_pattern(w)).unzip();
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
                variable,
                written,
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

/// A resource as a pattern: a policy variable (`${aws:username}`) becomes `*`, its value at
/// its broadest; the escapes `${*}`, `${?}` and `${$}` are the literal characters. Also
/// whether it held a variable.
fn resource_pattern(text: &str) -> (Vec<Sym>, bool) {
    let mut out: Vec<Sym> = Vec::with_capacity(text.len());
    let mut variable = false;
    let star = |out: &mut Vec<Sym>| {
        if out.last() != Some(&Sym::Star) {
            out.push(Sym::Star);
        }
    };
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                match after[..end].trim() {
                    "*" => out.push(Sym::Byte(b'*')),
                    "?" => out.push(Sym::Byte(b'?')),
                    "$" => out.push(Sym::Byte(b'$')),
                    _ => {
                        variable = true;
                        star(&mut out);
                    }
                }
                rest = &after[end + 1..];
                continue;
            }
        }
        // A character at a time: a name may hold non-ASCII text, of several bytes.
        let c = rest.chars().next().unwrap_or_default();
        match c {
            '*' => star(&mut out),
            '?' => out.push(Sym::One),
            _ => out.extend(
                rest.as_bytes()[..c.len_utf8()]
                    .iter()
                    .map(|&b| Sym::Byte(b)),
            ),
        }
        rest = &rest[c.len_utf8()..];
    }
    (lang::arn_parts(out), variable)
}

impl Stmt {
    fn has_variables(&self) -> bool {
        self.variable.iter().any(|v| *v)
    }

    /// The statement with its policy variables taken as any value (`broad`: it matches at
    /// least every resource it can match for some value) or as no value (it matches at most
    /// the resources it matches for every value). A pattern with a variable is `*` where it
    /// stands in the broad reading of `Resource` (the narrow reading of `NotResource`), and
    /// is left out in the other.
    fn taken(&self, broad: bool) -> Stmt {
        if !self.has_variables() {
            return self.clone();
        }
        let keep = |i: usize| !self.variable[i] || broad != self.not_resource;
        let indices: Vec<usize> = (0..self.resources.len()).filter(|&i| keep(i)).collect();
        Stmt {
            resources: indices.iter().map(|&i| self.resources[i].clone()).collect(),
            variable: vec![false; indices.len()],
            written: indices.iter().map(|&i| self.written[i].clone()).collect(),
            ..self.clone()
        }
    }

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
    /// Its label on the old side, when that was another (the same ARN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Its ARN before and now, when the label is the same and the ARN is not (a path
    /// changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn_changed: Option<(String, String)>,
    pub added: Vec<Change>,
    pub removed: Vec<Change>,
    /// Conditions take part in the comparison of some action.
    pub conditional: bool,
    /// Policy variables take part in the comparison of some action that changed: what is
    /// shown may hold for no real value of them.
    pub variables: bool,
    pub missing: Vec<String>,
}

/// The whole comparison.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Diff {
    pub added_subjects: Vec<SubjectDiff>,
    pub removed_subjects: Vec<SubjectDiff>,
    pub changed: Vec<SubjectDiff>,
    /// Subjects with the same ARN under another label (also in `changed`).
    pub renamed: Vec<Rename>,
    /// Role → grants added, grants removed.
    pub trust: Vec<TrustDiff>,
    /// Guard clauses added to or removed from a boundary.
    pub guards: Vec<GuardClauses>,
    pub guardrail: Vec<GuardrailDiff>,
    pub verdict: Verdict,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GuardClauses {
    pub boundary: String,
    /// Whether the boundary has a `guard` block on each side.
    pub guard_before: bool,
    pub guard_now: bool,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Rename {
    pub old: String,
    pub new: String,
    pub arn: String,
}

/// Who can newly assume a role, or no longer can: per principal.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TrustDiff {
    pub role: String,
    pub principals: Vec<TrustChange>,
}

impl TrustDiff {
    pub fn broadens(&self) -> bool {
        self.principals.iter().any(|p| p.broadens)
    }

    pub fn narrows(&self) -> bool {
        self.principals.iter().any(|p| p.narrows)
    }
}

/// One principal's grants in a role's trust policy, before and now.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TrustChange {
    pub principal: String,
    /// Its grants: the action and the conditions, in words.
    pub before: Vec<String>,
    pub now: Vec<String>,
    /// It may assume the role in a request where it could not before (a grant not covered by
    /// the old ones, or a denial gone).
    pub broadens: bool,
    /// The reverse.
    pub narrows: bool,
}

/// The trust of one role, before and now, as sets of principals and their conditions.
fn compare_trust(role: &str, old: &[Grant], new: &[Grant]) -> Option<TrustDiff> {
    // An allow of one side that no allow of the other covers.
    let uncovered = |other: &[Grant], g: &Grant| !other.iter().any(|x| x.covers(g));
    let mut principals: Vec<&String> = old.iter().chain(new).map(|g| &g.principal).collect();
    principals.sort();
    principals.dedup();
    let mut out = Vec::new();
    for p in principals {
        let before: Vec<&Grant> = old.iter().filter(|g| &g.principal == p).collect();
        let now: Vec<&Grant> = new.iter().filter(|g| &g.principal == p).collect();
        // New allows not covered by the old grants; old denials gone.
        let broadens = now.iter().any(|g| g.allow && uncovered(old, g))
            || before.iter().any(|g| !g.allow && !new.contains(g));
        let narrows = before.iter().any(|g| g.allow && uncovered(new, g))
            || now.iter().any(|g| !g.allow && !old.contains(g));
        let same = before.len() == now.len() && before.iter().all(|g| now.contains(g));
        if same {
            continue;
        }
        let words = |gs: &[&Grant]| -> Vec<String> {
            let mut w: Vec<String> = gs.iter().map(|g| g.words()).collect();
            w.sort();
            w.dedup();
            w
        };
        out.push(TrustChange {
            principal: p.clone(),
            before: words(&before),
            now: words(&now),
            broadens,
            narrows,
        });
    }
    (!out.is_empty()).then(|| TrustDiff {
        role: role.to_string(),
        principals: out,
    })
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
    let renames = renames(old, new);
    // The old side's labels, as the new side says them.
    let mut old_subjects: BTreeMap<String, &Subject> = BTreeMap::new();
    for (label, subject) in &old.subjects {
        let key = renames.get(label).unwrap_or(label).clone();
        old_subjects.insert(key, subject);
    }
    let moved = |label: &String| {
        matches!(
            (old.arns.get(label), new.arns.get(label)),
            (Some(a), Some(b)) if a != b
        ) && !renames.contains_key(label)
    };
    let mut labels: Vec<&String> = old_subjects.keys().chain(new.subjects.keys()).collect();
    labels.sort();
    labels.dedup();
    for label in labels {
        let (mut o, mut n) = (old_subjects.get(label).copied(), new.subjects.get(label));
        // A resource-based policy: a principal one side does not name gets what that side
        // gives anyone.
        if label.starts_with("principal ") {
            o = o.or_else(|| old_subjects.get("principal anyone").copied());
            n = n.or_else(|| new.subjects.get("principal anyone"));
        }
        let mut d = compare(label, o.unwrap_or(&empty), n.unwrap_or(&empty));
        d.renamed_from = renames
            .iter()
            .find(|(_, to)| *to == label)
            .map(|(from, _)| from.clone());
        // The same label with another ARN (its path changed): still the same subject, and
        // said so.
        if o.is_some() && n.is_some() && moved(label) {
            d.arn_changed = old
                .arns
                .get(label)
                .cloned()
                .zip(new.arns.get(label).cloned());
        }
        match (o, n) {
            (None, Some(_)) => out.added_subjects.push(d),
            (Some(_), None) => out.removed_subjects.push(d),
            _ => {
                if !d.added.is_empty()
                    || !d.removed.is_empty()
                    || !d.missing.is_empty()
                    || d.renamed_from.is_some()
                    || d.arn_changed.is_some()
                {
                    out.changed.push(d);
                }
            }
        }
    }
    for (from, to) in &renames {
        out.renamed.push(Rename {
            old: from.clone(),
            new: to.clone(),
            arn: new.arns.get(to).cloned().unwrap_or_default(),
        });
    }
    let old_trust: BTreeMap<String, &Vec<Grant>> = old
        .trust
        .iter()
        .map(|(k, v)| (renames.get(k).unwrap_or(k).clone(), v))
        .collect();
    let mut roles: Vec<&String> = old_trust.keys().chain(new.trust.keys()).collect();
    roles.sort();
    roles.dedup();
    for role in roles {
        let none = Vec::new();
        let o = old_trust.get(role).copied().unwrap_or(&none);
        let n = new.trust.get(role).unwrap_or(&none);
        if let Some(t) = compare_trust(role, o, n) {
            out.trust.push(t);
        }
    }
    // The guardrail names principals by name alone (`principal NAME`).
    let guard_name = |label: &String| -> String {
        let Some(to) = renames.get(label) else {
            return label.clone();
        };
        if label.starts_with("boundary ") {
            return to.clone();
        }
        let name = |l: &str| {
            l.split_once(' ')
                .map_or(l.to_string(), |(_, n)| n.to_string())
        };
        format!("principal {}", name(to))
    };
    let mut old_guardrail: BTreeMap<String, bool> = BTreeMap::new();
    for (k, v) in &old.guardrail {
        let renamed = renames
            .keys()
            .find(|l| {
                *l == k
                    || k.strip_prefix("principal ").is_some_and(|n| {
                        !l.starts_with("boundary ")
                            && !l.starts_with("policy ")
                            && l.ends_with(&format!(" {n}"))
                    })
            })
            .map(guard_name);
        old_guardrail.insert(renamed.unwrap_or_else(|| k.clone()), *v);
    }
    let mut names: Vec<&String> = old_guardrail.keys().chain(new.guardrail.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (o, n) = (
            old_guardrail.get(name).copied(),
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
    let old_guards: BTreeMap<String, &Vec<String>> = old
        .guards
        .iter()
        .map(|(k, v)| (renames.get(k).unwrap_or(k).clone(), v))
        .collect();
    let mut guarded: Vec<&String> = old_guards.keys().chain(new.guards.keys()).collect();
    guarded.sort();
    guarded.dedup();
    for boundary in guarded {
        let none = Vec::new();
        let o = old_guards.get(boundary).copied().unwrap_or(&none);
        let n = new.guards.get(boundary).unwrap_or(&none);
        let added: Vec<String> = n.iter().filter(|c| !o.contains(c)).cloned().collect();
        let removed: Vec<String> = o.iter().filter(|c| !n.contains(c)).cloned().collect();
        // A boundary that is not on the new side is reported as removed already.
        if (!added.is_empty() || !removed.is_empty())
            && (new.subjects.contains_key(boundary) || old_subjects.contains_key(boundary))
        {
            out.guards.push(GuardClauses {
                boundary: boundary.clone(),
                guard_before: old_guards.contains_key(boundary),
                guard_now: new.guards.contains_key(boundary),
                added,
                removed,
            });
        }
    }
    let broadens = out.added_subjects.iter().any(|d| !d.added.is_empty())
        || out
            .changed
            .iter()
            .any(|d| !d.added.is_empty() || !d.missing.is_empty())
        || out.trust.iter().any(TrustDiff::broadens)
        || out.guards.iter().any(|g| !g.removed.is_empty())
        || out
            .guardrail
            .iter()
            .any(|g| g.new_closed == Some(false) && g.old_closed != Some(false));
    let narrows = out.removed_subjects.iter().any(|d| !d.removed.is_empty())
        || out.changed.iter().any(|d| !d.removed.is_empty())
        || out.trust.iter().any(TrustDiff::narrows)
        || out.guards.iter().any(|g| !g.added.is_empty())
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

/// Subjects known by another label on the new side: old label → new label, for each
/// subject of one side only whose ARN a subject of the other side only has.
fn renames(old: &Side, new: &Side) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut taken: Vec<&String> = Vec::new();
    for (label, arn) in &old.arns {
        if new.subjects.contains_key(label) {
            continue;
        }
        let twin = new
            .arns
            .iter()
            .find(|(l, a)| *a == arn && !old.subjects.contains_key(*l) && !taken.contains(l));
        if let Some((to, _)) = twin {
            taken.push(to);
            out.insert(label.clone(), to.clone());
        }
    }
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
        if po == pn {
            continue;
        }
        let (gained, lost, conditional) = compare_action(&po, &pn, &table);
        out.conditional |= conditional && (gained.is_some() || lost.is_some());
        let variables = [&po, &pn]
            .iter()
            .flat_map(|r| r.identity.iter().chain(r.boundary.iter().flatten()))
            .any(Stmt::has_variables);
        out.variables |= variables && (gained.is_some() || lost.is_some());
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
    // Policy variables: `a` (what may gain) is taken at its broadest, allowing every resource
    // it allows for some value and denying only what it denies for every value; `b` at its
    // narrowest. A statement written the same on both sides allows the same for every value,
    // so it is set against its twin instead, when the boundaries and denials are the same.
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
    let taken = |stmts: Vec<Stmt>, broad: bool| -> Vec<Stmt> {
        stmts.iter().map(|s| s.taken(broad)).collect()
    };
    let a_bound = a.boundary.as_ref().map(|b| allows(b, active_a));
    let b_bound = b.boundary.as_ref().map(|x| allows(x, active_b));
    let (a_deny, b_deny) = (denies(a, active_a), denies(b, active_b));
    let b_id = allows(&b.identity, active_b);
    let same_limits = a_bound == b_bound
        && a_deny.iter().all(|d| b_deny.contains(d))
        && b_deny.iter().all(|d| a_deny.contains(d));
    let a_id: Vec<Stmt> = allows(&a.identity, active_a)
        .into_iter()
        .filter(|i| !(i.has_variables() && same_limits && b_id.contains(i)))
        .map(|i| i.taken(true))
        .collect();
    let a_bound = a_bound.map(|b| taken(b, true));
    let a_deny = taken(a_deny, false);
    let b_id = taken(b_id, false);
    let b_bound = b_bound.map(|b| taken(b, false));
    let b_deny = taken(b_deny, true);
    let any = Stmt {
        allow: true,
        not_action: true,
        actions: Vec::new(),
        not_resource: true,
        resources: Vec::new(),
        variable: Vec::new(),
        written: Vec::new(),
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
            .written
            .iter()
            .map(|r| {
                let text = r.clone();
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
