//! In an account, the roles are known: passing or assuming a role is an escalation only if the
//! role can do something the principal cannot already do.
//!
//! A principal with no boundary that may pass or assume a role is judged role by role, over
//! the roles of the snapshot it can reach (the [`Solver`](super::solve::Solver) names them one
//! at a time). A role can be reached when the principal's policies allow the request *and* the
//! role's trust policy lets it be used that way: assumed by the principal (its ARN, its
//! account, or anyone), or passed to a service (any `Service` principal). Each role reached is
//! compared with the principal as [`crate::diff`] compares two versions of one principal: the
//! role's effective permissions (identity ∩ boundary, minus denies) against the principal's.
//!
//! The verdict is sound, and says when it is not sure:
//! - an administrator, or a role with a permission the principal lacks on every reading of the
//!   conditions, is a sure escalation;
//! - a role whose gain shows only under conditions, or whose policies (or the principal's)
//!   iamx cannot read, and roles the snapshot does not hold (which may be created later, or
//!   belong to other accounts), make the finding *depend* on them, and it says on what;
//! - a role that holds nothing more is no escalation.
//!
//! Policy variables mean different things for the principal and the role: the comparison
//! reads them so that the principal is taken at its narrowest and the role at its broadest.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::diff;
use crate::eval::pattern::wildcard;
use crate::iam::{self, Effect, PrincipalKind, Project};

use super::lang::{self, Group, Lang, Names};
use super::solve::{Holder, KeySpace, Witness};
use super::vectors::Analysis;
use super::{Found, Lead, Subject, World};
use crate::diag::{Code, Diagnostic};

/// The most kinds of roles (roles alike: the same policies, boundary and trust) of the
/// snapshot compared one by one, for one principal and request.
const MAX_ROLES: usize = 64;

/// The roles of an account, and what every principal of it is allowed, for comparisons.
pub struct Known {
    roles: Vec<KnownRole>,
    by_arn: HashMap<String, usize>,
    names: Names,
    /// The roles a service may be trusted to use (passing them can give something), and the
    /// roles that trust more than named principals (the account, anyone, a pattern).
    passable: Names,
    assumable: Names,
    /// By principal ARN, the roles whose trust policy names it: in its own account, that
    /// alone lets it assume them, whatever its identity policies say.
    named: HashMap<String, Vec<usize>>,
    side: diff::Side,
    /// The customer managed policies (ARNs) with a version that is not their default and
    /// allows something the default does not: `iam:SetDefaultPolicyVersion` on them gives
    /// power. By ARN, that version's id.
    pub(crate) stronger_versions: HashMap<String, String>,
    /// [`Known::stronger_versions`] as a set of names.
    pub(crate) stronger_names: Names,
    /// Roles alike (the same policies, boundary and trust), as indices into `roles`, with
    /// their ARNs: a verdict holds for all of them.
    classes: Vec<(Vec<usize>, Names)>,
    /// Each role's class.
    class_of: Vec<usize>,
    /// Principals' policies by what they say, numbered: principals alike share verdicts.
    callers: RefCell<HashMap<String, usize>>,
    /// [`Known::caller_id`] by principal label.
    caller_ids: RefCell<HashMap<String, (usize, bool)>>,
    /// The resources that run as a role (`--resources`), when given.
    resources: Option<Vec<crate::account::RunsAs>>,
    /// Their ARNs.
    resource_names: Names,
    /// The administrators (ARNs): nothing gives them more, so they are not judged.
    admins: std::collections::HashSet<String>,
    /// Verdicts by principal (its policies' number) and class.
    verdicts: RefCell<HashMap<(usize, usize), Verdict>>,
    /// Judgements of users whose policies test nothing about who they are, by their
    /// policies' number and the request (passing or assuming): users alike are judged once.
    judged: RefCell<HashMap<(usize, bool), Judgement>>,
    /// The users and groups, for what taking a user's credentials or joining a group gives.
    others: Vec<KnownOther>,
    other_by_arn: HashMap<String, usize>,
    /// Users and groups alike (the same policies, groups and boundary): a verdict holds for
    /// all of them.
    other_classes: Vec<(Vec<usize>, Names)>,
    other_class_of: Vec<usize>,
    user_names: Names,
    group_names: Names,
    /// Verdicts by principal (its policies' number) and class of users and groups.
    other_verdicts: RefCell<HashMap<(usize, usize), Verdict>>,
}

/// A user or group of the account.
struct KnownOther {
    arn: String,
    name: String,
    kind: PrincipalKind,
    admin: bool,
    /// A group's members (ARNs).
    members: Vec<String>,
}

/// What statements say, spans aside: principals and roles alike share verdicts.
fn fingerprint(statements: &[iam::Statement]) -> String {
    format!(
        "{:?}",
        iam::Policy {
            statements: statements.to_vec(),
            id: None,
        }
        .without_spans()
        .statements
    )
}

/// What a subject of the comparison holds, spans aside.
fn subject_print(s: Option<&diff::Subject>) -> String {
    match s {
        None => "none".into(),
        Some(s) => format!(
            "{}|{}|{:?}",
            fingerprint(&s.identity),
            s.boundary
                .as_ref()
                .map_or_else(|| "-".to_string(), |b| fingerprint(b)),
            s.missing
        ),
    }
}

struct KnownRole {
    arn: String,
    name: String,
    /// `None` when the snapshot gives none: then anyone may be trusted.
    trust: Option<iam::Policy>,
    admin: bool,
}

/// A role against a principal.
#[derive(Clone, Debug)]
enum Verdict {
    /// It can do nothing the principal cannot.
    Weaker,
    /// It can do more: why.
    Stronger(String),
    /// It may: on what that depends.
    Depends(String),
}

/// What passing or assuming roles gives a principal.
#[derive(Clone)]
pub(crate) enum Judgement {
    /// Nothing it does not have.
    Clean,
    /// More, for sure: the request, the role, why.
    Sure {
        witness: Witness,
        role: String,
        why: String,
        /// The role's ARN, when it is no administrator: the path goes on through it.
        via: Option<String>,
    },
    /// Perhaps: the request, the role (`None`: a role the snapshot does not hold), on what.
    Depends {
        witness: Witness,
        role: Option<String>,
        what: String,
    },
}

impl Known {
    /// The roles of a project read from a snapshot; `admins` are the ARNs of its
    /// administrators.
    pub fn of(
        project: &Project,
        admins: &[String],
        resources: Option<Vec<crate::account::RunsAs>>,
    ) -> Known {
        let mut roles = Vec::new();
        for p in &project.principals {
            if p.kind != PrincipalKind::Role {
                continue;
            }
            let Some(arn) = p.arn.clone() else { continue };
            let trust = p
                .documents
                .iter()
                .map(|&i| &project.documents[i])
                .find(|d| d.kind == iam::DocumentKind::Trust)
                .map(|d| d.policy.clone());
            roles.push(KnownRole {
                admin: admins.contains(&arn),
                arn,
                name: p.name.clone(),
                trust,
            });
        }
        let by_arn = roles
            .iter()
            .enumerate()
            .map(|(i, r)| (r.arn.clone(), i))
            .collect();
        let mut named: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in roles.iter().enumerate() {
            for s in r.trust.iter().flat_map(|t| &t.statements) {
                if s.effect.value != Effect::Allow
                    || s.not_principal
                    || !names_action(s, "sts:AssumeRole")
                {
                    continue;
                }
                if let Some(iam::Principal::Kinds(kinds)) = &s.principal {
                    for v in kinds.get("AWS").into_iter().flatten() {
                        let v = &v.value;
                        if v.contains(":user/") || v.contains(":role/") {
                            let list = named.entry(v.clone()).or_default();
                            if !list.contains(&i) {
                                list.push(i);
                            }
                        }
                    }
                }
            }
        }
        let mut stronger_versions: HashMap<String, String> = HashMap::new();
        for (arn, id, version) in &project.other_versions {
            if stronger_versions.contains_key(arn) {
                continue;
            }
            let Some(default) = crate::eval::project::managed_document(project, arn) else {
                continue;
            };
            let old = diff::Subject {
                identity: default.statements,
                ..diff::Subject::default()
            };
            let new = diff::Subject {
                identity: version.statements.clone(),
                ..diff::Subject::default()
            };
            if !diff::compare(arn, &old, &new).added.is_empty() {
                stronger_versions.insert(arn.clone(), id.clone());
            }
        }
        let side = diff::Side::of_project(project, None);
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut classes: Vec<(Vec<usize>, Names)> = Vec::new();
        let mut class_of = Vec::new();
        // Roles alike: managed policies by ARN, inline ones and the trust by what they say.
        let infos: HashMap<&str, &iam::PrincipalInfo> = project
            .principals
            .iter()
            .filter(|p| p.kind == PrincipalKind::Role)
            .filter_map(|p| Some((p.arn.as_deref()?, p)))
            .collect();
        for (i, r) in roles.iter().enumerate() {
            let held = infos.get(r.arn.as_str()).map(|p| {
                let mut attached: Vec<&str> = p.attached.iter().map(|a| a.value.as_str()).collect();
                attached.sort_unstable();
                let inline: Vec<String> = p
                    .documents
                    .iter()
                    .map(|&d| &project.documents[d])
                    .filter(|d| d.kind != iam::DocumentKind::Trust)
                    .map(|d| fingerprint(&d.policy.statements))
                    .collect();
                format!(
                    "{attached:?}|{:?}|{inline:?}",
                    p.boundary.as_ref().map(|b| &b.value)
                )
            });
            let key = format!(
                "{}|{:?}|{held:?}|{}",
                r.admin,
                named.get(&r.arn),
                r.trust
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |t| fingerprint(&t.statements))
            );
            let next = keys.len();
            let c = *keys.entry(key).or_insert(next);
            if c == classes.len() {
                classes.push((Vec::new(), Names::new(Vec::new())));
            }
            classes[c].0.push(i);
            class_of.push(c);
        }
        for (members, names) in &mut classes {
            *names = Names::new(members.iter().map(|&i| roles[i].arn.clone()));
        }
        let (partition, account) = (
            project.partition.clone(),
            project.account.clone().unwrap_or_default(),
        );
        // A caller no trust policy names: only trust that is not for named principals lets it.
        let nobody = format!("arn:{partition}:iam::{account}:user/#");
        let passable = Names::new(
            roles
                .iter()
                .filter(|r| trusted(r, &nobody, &account, &partition, true))
                .map(|r| r.arn.clone()),
        );
        let assumable = Names::new(
            roles
                .iter()
                .filter(|r| {
                    trusted(r, &nobody, &account, &partition, false)
                        || r.trust.iter().flat_map(|t| &t.statements).any(|s| {
                            matches!(&s.principal, Some(iam::Principal::Kinds(k))
                                if k.get("AWS").into_iter().flatten().any(|v| v.value.contains(['*', '?'])))
                        })
                })
                .map(|r| r.arn.clone()),
        );
        // Users and groups alike: managed policies by ARN, groups, inline policies by what
        // they say, boundary.
        let mut others = Vec::new();
        let mut other_keys: HashMap<String, usize> = HashMap::new();
        let mut other_classes: Vec<(Vec<usize>, Names)> = Vec::new();
        let mut other_class_of = Vec::new();
        for p in &project.principals {
            if p.kind == PrincipalKind::Role {
                continue;
            }
            let Some(arn) = p.arn.clone() else { continue };
            let mut attached: Vec<&str> = p.attached.iter().map(|a| a.value.as_str()).collect();
            attached.sort_unstable();
            let mut groups: Vec<&str> = p.groups.iter().map(String::as_str).collect();
            groups.sort_unstable();
            let inline: Vec<String> = p
                .documents
                .iter()
                .map(|&d| fingerprint(&project.documents[d].policy.statements))
                .collect();
            // A group allowed everything, with no condition and no deny, is an
            // administrators' group: joining it is becoming one.
            let admin = admins.contains(&arn)
                || (p.kind == PrincipalKind::Group
                    && side
                        .subjects
                        .get(&format!("group {}", p.name))
                        .is_some_and(|g| {
                            let star = |b: &Option<iam::Block>| {
                                b.as_ref().is_some_and(|b| {
                                    !b.not && b.values.iter().any(|v| v.value == "*")
                                })
                            };
                            g.missing.is_empty()
                                && g.identity.iter().all(|s| s.effect.value == Effect::Allow)
                                && g.identity.iter().any(|s| {
                                    s.conditions.is_empty() && star(&s.action) && star(&s.resource)
                                })
                        }));
            let key = format!(
                "{}|{admin}|{attached:?}|{groups:?}|{inline:?}|{:?}|{:?}",
                p.kind.as_str(),
                p.boundary.as_ref().map(|b| &b.value),
                named.get(&arn),
            );
            let members = if p.kind == PrincipalKind::Group {
                project
                    .principals
                    .iter()
                    .filter(|u| u.kind == PrincipalKind::User && u.groups.contains(&p.name))
                    .filter_map(|u| u.arn.clone())
                    .collect()
            } else {
                Vec::new()
            };
            let i = others.len();
            others.push(KnownOther {
                arn,
                name: p.name.clone(),
                kind: p.kind,
                admin,
                members,
            });
            let next = other_keys.len();
            let c = *other_keys.entry(key).or_insert(next);
            if c == other_classes.len() {
                other_classes.push((Vec::new(), Names::new(Vec::new())));
            }
            other_classes[c].0.push(i);
            other_class_of.push(c);
        }
        for (members, names) in &mut other_classes {
            *names = Names::new(members.iter().map(|&i| others[i].arn.clone()));
        }
        let of_kind = |kind: PrincipalKind| {
            Names::new(
                others
                    .iter()
                    .filter(|o| o.kind == kind)
                    .map(|o| o.arn.clone()),
            )
        };
        let (user_names, group_names) =
            (of_kind(PrincipalKind::User), of_kind(PrincipalKind::Group));
        Known {
            other_by_arn: others
                .iter()
                .enumerate()
                .map(|(i, o)| (o.arn.clone(), i))
                .collect(),
            others,
            other_classes,
            other_class_of,
            user_names,
            group_names,
            other_verdicts: RefCell::default(),
            passable,
            assumable,
            classes,
            class_of,
            callers: RefCell::default(),
            caller_ids: RefCell::default(),
            judged: RefCell::default(),
            admins: admins.iter().cloned().collect(),
            resource_names: Names::new(resources.iter().flatten().map(|r| r.arn.clone())),
            resources,
            stronger_names: Names::new(stronger_versions.keys().cloned()),
            stronger_versions,
            named,
            names: Names::new(roles.iter().map(|r| r.arn.clone())),
            by_arn,
            roles,
            side,
            verdicts: RefCell::default(),
        }
    }

    /// A role against a principal (its label in [`diff::Side`]: "user alice").
    /// The number of what a principal's policies say (a user's policies may name it by
    /// `${aws:username}`: its name is then part of what they say), and whether they test
    /// nothing about who makes the request.
    fn caller_id(&self, caller: &str, user_name: Option<&str>) -> (usize, bool) {
        if let Some(&found) = self.caller_ids.borrow().get(caller) {
            return found;
        }
        let found = self.caller_id_of(caller, user_name);
        self.caller_ids
            .borrow_mut()
            .insert(caller.to_string(), found);
        found
    }

    fn caller_id_of(&self, caller: &str, user_name: Option<&str>) -> (usize, bool) {
        let subject = self.side.subjects.get(caller);
        let print = subject_print(subject);
        let plain = !print.contains("${")
            && subject.is_some_and(|s| {
                s.identity
                    .iter()
                    .chain(s.boundary.iter().flatten())
                    .all(|st| st.conditions.is_empty())
            });
        let print = match user_name {
            Some(name) if print.contains("${") => format!("{name}|{print}"),
            _ => print,
        };
        let mut callers = self.callers.borrow_mut();
        let next = callers.len();
        (*callers.entry(print).or_insert(next), plain)
    }

    fn verdict(&self, caller: &str, user_name: Option<&str>, role: usize) -> Verdict {
        let (id, _) = self.caller_id(caller, user_name);
        let key = (id, self.class_of[role]);
        if let Some(v) = self.verdicts.borrow().get(&key) {
            return v.clone();
        }
        let mut v = self.compare(caller, user_name, role);
        if matches!(v, Verdict::Weaker) {
            v = self
                .through_named(caller, user_name, &self.roles[role].arn)
                .unwrap_or(v);
        }
        self.verdicts.borrow_mut().insert(key, v.clone());
        v
    }

    /// What the roles whose trust policy names a principal (`arn`) give it: it may assume
    /// them with no policy of its own allowing it, and then the roles that name those, up to
    /// a few steps.
    fn through_named(&self, caller: &str, user_name: Option<&str>, arn: &str) -> Option<Verdict> {
        self.named_from(caller, user_name, arn, &mut vec![arn.to_string()])
    }

    fn named_from(
        &self,
        caller: &str,
        user_name: Option<&str>,
        arn: &str,
        seen: &mut Vec<String>,
    ) -> Option<Verdict> {
        const STEPS: usize = 4;
        let mut depends = None;
        for &r in self.named.get(arn)? {
            let role = &self.roles[r];
            if seen.contains(&role.arn) {
                continue;
            }
            let found = match self.compare(caller, user_name, r) {
                Verdict::Weaker if seen.len() < STEPS => {
                    seen.push(role.arn.clone());
                    self.named_from(caller, user_name, &role.arn, seen)
                }
                Verdict::Weaker => None,
                other => Some(other),
            };
            match found {
                None | Some(Verdict::Weaker) => {}
                Some(Verdict::Stronger(why)) => {
                    return Some(Verdict::Stronger(format!(
                        "which can assume role `{}` (its trust policy names it), {why}",
                        role.name
                    )))
                }
                Some(Verdict::Depends(what)) => {
                    depends.get_or_insert(Verdict::Depends(what));
                }
            }
        }
        depends
    }

    /// A user or group against a principal, as [`Known::verdict`] for roles.
    fn other_verdict(&self, caller: &str, user_name: Option<&str>, other: usize) -> Verdict {
        let (id, _) = self.caller_id(caller, user_name);
        let key = (id, self.other_class_of[other]);
        if let Some(v) = self.other_verdicts.borrow().get(&key) {
            return v.clone();
        }
        let o = &self.others[other];
        let mut v = self.compare_label(
            caller,
            user_name,
            &format!("{} {}", o.kind.as_str(), o.name),
            o.admin,
            o.kind.as_str(),
        );
        if matches!(v, Verdict::Weaker) {
            v = self.through_named(caller, user_name, &o.arn).unwrap_or(v);
        }
        self.other_verdicts.borrow_mut().insert(key, v.clone());
        v
    }

    fn compare(&self, caller: &str, user_name: Option<&str>, role: usize) -> Verdict {
        let r = &self.roles[role];
        self.compare_label(
            caller,
            user_name,
            &format!("role {}", r.name),
            r.admin,
            "role",
        )
    }

    /// A principal of the account (its label in [`diff::Side`]) against the caller: what it
    /// may do that the caller may not. `what` names its kind in the words.
    fn compare_label(
        &self,
        caller: &str,
        user_name: Option<&str>,
        label: &str,
        admin: bool,
        what: &str,
    ) -> Verdict {
        if admin {
            return Verdict::Stronger(if what == "group" {
                "whose members are administrators".into()
            } else {
                "an administrator".into()
            });
        }
        let (Some(c), Some(s)) = (
            self.side.subjects.get(caller),
            self.side.subjects.get(label),
        ) else {
            return Verdict::Depends("what the snapshot holds of them".into());
        };
        if let Some(m) = c.missing.first() {
            return Verdict::Depends(format!(
                "what `{m}` allows the principal, which iamx cannot read"
            ));
        }
        if let Some(m) = s.missing.first() {
            return Verdict::Depends(format!(
                "what `{m}` allows the {what}, which iamx cannot read"
            ));
        }
        let mut old = diff::Subject {
            identity: narrowest(&c.identity, user_name),
            boundary: c.boundary.as_ref().map(|b| narrowest(b, user_name)),
            missing: Vec::new(),
        };
        let mut new = diff::Subject {
            identity: broadest(&s.identity),
            boundary: s.boundary.as_ref().map(|b| broadest(b)),
            missing: Vec::new(),
        };
        // A statement of the role's that the principal has too, word for word, gives it
        // nothing, when nothing of the principal's takes away (no deny, no boundary).
        if old.boundary.is_none() && old.identity.iter().all(|s| s.effect.value == Effect::Allow) {
            let bare = |s: &iam::Statement| {
                let mut s = s.clone();
                s.sid = None;
                fingerprint(std::slice::from_ref(&s))
            };
            let have: std::collections::HashSet<String> = old.identity.iter().map(bare).collect();
            new.identity
                .retain(|s| s.effect.value == Effect::Deny || !have.contains(&bare(s)));
            if !new.identity.iter().any(|s| s.effect.value == Effect::Allow) {
                return Verdict::Weaker;
            }
        }
        // Only the principal's statements about the services the role's allows name can tell
        // whether the role gains something.
        if let Some(services) = services_of(&new.identity) {
            // Denies stay: they narrow the principal, whatever they name.
            old.identity.retain(|s| {
                s.effect.value == Effect::Deny
                    || services_of(std::slice::from_ref(s))
                        .is_none_or(|own| !own.is_disjoint(&services))
            });
        }
        let found = diff::compare(label, &old, &new);
        let conditional = |action: &str| {
            old.identity
                .iter()
                .chain(old.boundary.iter().flatten())
                .chain(new.identity.iter())
                .chain(new.boundary.iter().flatten())
                .any(|s| !s.conditions.is_empty() && names_action(s, action))
        };
        let sure = found
            .added
            .iter()
            .find(|ch| ch.resource.is_some() && !conditional(&ch.action));
        if let Some(ch) = sure {
            return Verdict::Stronger(format!(
                "which can do more: `{}` on `{}`",
                ch.action,
                ch.resource.as_deref().unwrap_or("*")
            ));
        }
        match found.added.first() {
            None => Verdict::Weaker,
            Some(ch) => {
                let on = ch.resource.as_deref().unwrap_or("…");
                let when = if ch.when.is_empty() {
                    "the conditions of the principal's policies".to_string()
                } else {
                    ch.when.join(" and ")
                };
                Verdict::Depends(format!(
                    "conditions: the {what} is allowed `{}` on `{on}` when {when}, and the principal may not be",
                    ch.action
                ))
            }
        }
    }
}

/// How [`diff::Side`] labels a principal ("user alice"), and a user's name (what
/// `${aws:username}` is in its policies).
fn caller_of(subject: &Subject) -> (String, Option<&str>) {
    let label = format!("{} {}", subject.kind.as_str(), subject.name);
    (
        label,
        (subject.kind == PrincipalKind::User).then_some(subject.name.as_str()),
    )
}

/// Whether a statement's `Action` (or `NotAction`) names an action.
fn names_action(s: &iam::Statement, action: &str) -> bool {
    match &s.action {
        None => true,
        Some(b) => b.values.iter().any(|v| wildcard(&v.value, action, true)) != b.not,
    }
}

/// Condition keys whose values depend on who makes the request: the same condition written
/// in the principal's policies and in the role's is not the same question.
fn about_the_caller(c: &iam::Condition) -> bool {
    let key = c.key.to_ascii_lowercase();
    key.starts_with("aws:principal")
        || matches!(
            key.as_str(),
            "aws:userid" | "aws:username" | "aws:sourceidentity" | "aws:federatedprovider"
        )
        || c.values.iter().any(|v| v.contains("${"))
}

/// Replaces each policy variable of a statement's actions and resources: `None` from `with`
/// means it has no value.
fn substitute(s: &iam::Statement, with: &dyn Fn(&str) -> Option<String>) -> Option<iam::Statement> {
    let mut s = s.clone();
    for block in [&mut s.action, &mut s.resource].into_iter().flatten() {
        for v in &mut block.values {
            let mut text = String::new();
            let mut rest = v.value.as_str();
            while let Some(start) = rest.find("${") {
                let end = rest[start..].find('}')? + start;
                text.push_str(&rest[..start]);
                text.push_str(&with(&rest[start + 2..end])?);
                rest = &rest[end + 1..];
            }
            text.push_str(rest);
            v.value = text;
        }
    }
    Some(s)
}

/// The principal's statements at their narrowest: its own user name where a variable names
/// it; an allow with another variable is left out, a deny's variable matches anything.
fn narrowest(statements: &[iam::Statement], user_name: Option<&str>) -> Vec<iam::Statement> {
    statements
        .iter()
        .filter_map(|s| {
            let known = |var: &str| {
                let v = var.to_ascii_lowercase();
                match (v.as_str(), user_name) {
                    ("aws:username", Some(name)) => Some(name.to_string()),
                    ("*" | "?" | "$", _) => Some(var.to_string()),
                    _ => None,
                }
            };
            match s.effect.value {
                Effect::Allow => substitute(s, &known),
                Effect::Deny => substitute(s, &|v| known(v).or_else(|| Some("*".into()))),
            }
        })
        .collect()
}

/// The role's statements at their broadest: an allow's variable matches anything, a deny with
/// one is left out; conditions about the caller are the role's own questions.
fn broadest(statements: &[iam::Statement]) -> Vec<iam::Statement> {
    statements
        .iter()
        .filter_map(|s| {
            let seen = RefCell::new(Vec::new());
            let mut s = match s.effect.value {
                Effect::Allow => substitute(s, &|v| {
                    seen.borrow_mut().push(v.to_string());
                    Some("*".into())
                })?,
                Effect::Deny => substitute(s, &|_| None)?,
            };
            for c in &mut s.conditions {
                if about_the_caller(c) {
                    c.key = format!("{} (the role's)", c.key);
                }
            }
            // A variable taken to match anything is a condition: what it stands for in a
            // session of the role decides.
            for v in seen.into_inner() {
                s.conditions.push(iam::Condition {
                    operator: "matches".into(),
                    key: format!("${{{v}}}"),
                    values: vec!["anything".into()],
                    span: None,
                    key_span: None,
                });
            }
            Some(s)
        })
        .collect()
}

/// Whether a role's trust policy lets the principal assume it (`pass`: lets a service use
/// it). Conditions are taken to hold: the question is whether it may.
fn trusted(role: &KnownRole, caller: &str, account: &str, partition: &str, pass: bool) -> bool {
    let Some(trust) = &role.trust else {
        return true;
    };
    trust.statements.iter().any(|s| {
        if s.effect.value != Effect::Allow || !names_action(s, "sts:AssumeRole") {
            return false;
        }
        if s.not_principal {
            return true;
        }
        match &s.principal {
            None => false,
            Some(iam::Principal::Any(_)) => true,
            Some(iam::Principal::Kinds(kinds)) => kinds.iter().any(|(kind, values)| {
                if pass {
                    return kind == "Service";
                }
                kind == "AWS"
                    && values.iter().any(|v| {
                        let v = v.value.as_str();
                        v == "*"
                            || v == account
                            || v == format!("arn:{partition}:iam::{account}:root")
                            || wildcard(v, caller, false)
                    })
            }),
        }
    })
}

/// What passing (`pass`) or assuming roles gives the principal of an analysis.
fn judge(
    known: &Known,
    world: &World,
    analysis: &Analysis,
    subject: &Subject,
    pass: bool,
) -> Judgement {
    let action = if pass {
        "iam:PassRole"
    } else {
        "sts:AssumeRole"
    };
    let (caller, user_name) = caller_of(subject);
    let mut depends: Option<(Witness, Option<String>, String)> = None;
    // Only roles whose trust may let it: the others need no look.
    let named: Vec<Vec<lang::Sym>> = match known.named.get(&subject.arn) {
        Some(roles) if !pass => roles
            .iter()
            .map(|&i| lang::exact(&known.roles[i].arn))
            .collect(),
        _ => Vec::new(),
    };
    let mut space = Lang::one_of_group(Group {
        patterns: named,
        names: Some(if pass {
            known.passable.clone()
        } else {
            known.assumable.clone()
        }),
    })
    .except(lang::exact(&subject.arn));
    let mut exhausted = true;
    for _ in 0..MAX_ROLES {
        let Some(w) = analysis.solve(action, space.clone(), Vec::new()) else {
            exhausted = false;
            break;
        };
        let Some(arn) = w.resource.clone() else {
            depends.get_or_insert((w, None, "a set of roles too large to search".into()));
            exhausted = false;
            break;
        };
        let Some(&i) = known.by_arn.get(&arn) else {
            space = space.except(lang::exact(&arn));
            continue;
        };
        // The roles alike get the same verdict.
        space = space.except_names(&known.classes[known.class_of[i]].1);
        let role = &known.roles[i];
        if !trusted(role, &subject.arn, &world.account, &world.partition, pass) {
            continue;
        }
        match known.verdict(&caller, user_name, i) {
            Verdict::Weaker => {}
            Verdict::Stronger(why) => {
                return Judgement::Sure {
                    witness: w,
                    role: role.name.clone(),
                    why,
                    via: (!role.admin).then(|| role.arn.clone()),
                }
            }
            Verdict::Depends(what) => {
                depends.get_or_insert((w, Some(role.name.clone()), what));
            }
        }
    }
    if exhausted && depends.is_none() {
        if let Some(w) = analysis.solve(action, space, Vec::new()) {
            let what = format!(
                "roles of more than {MAX_ROLES} kinds it can {}, past what iamx compares one by one",
                if pass { "pass" } else { "assume" }
            );
            depends = Some((w, None, what));
        }
    }
    if depends.is_none() {
        // Roles the snapshot does not hold: someone may create them.
        let all = format!("arn:{}:iam::{}:role/*", world.partition, world.account);
        let future = Lang::one_of(vec![lang::glob(&all, true)])
            .except_names(&known.names)
            .except(lang::glob("*#*", true));
        if let Some(w) = analysis.solve(action, future, Vec::new()) {
            let what = format!(
                "which roles are created later: `{}` is not in the snapshot",
                w.resource.as_deref().unwrap_or("…")
            );
            depends = Some((w, None, what));
        }
    }
    if depends.is_none() && !pass {
        let others = Lang::one_of(vec![lang::glob(
            &format!("arn:{}:iam::*:role/*", world.partition),
            true,
        )])
        .except(lang::glob(
            &format!("arn:{}:iam::{}:*", world.partition, world.account),
            true,
        ));
        if let Some(w) = analysis.solve(action, others, Vec::new()) {
            let what = format!(
                "roles of other accounts, which the snapshot does not show: `{}`",
                w.resource.as_deref().unwrap_or("…")
            );
            depends = Some((w, None, what));
        }
    }
    match depends {
        Some((witness, role, what)) => Judgement::Depends {
            witness,
            role,
            what,
        },
        None => Judgement::Clean,
    }
}

/// The findings of a principal with no boundary, with passing and assuming roles judged by
/// what the account's roles hold.
pub(crate) fn refine(
    world: &World,
    known: &Known,
    subject: &Subject,
    holder: &Holder,
    identity: &[&iam::Policy],
    mut findings: Vec<Found>,
) -> Vec<Found> {
    // One analysis of the principal, made when first needed: it is not cheap.
    let cell: std::cell::OnceCell<Analysis> = std::cell::OnceCell::new();
    let lazy = || cell.get_or_init(|| Analysis::new(world, subject, holder, identity.to_vec()));
    let (caller, user_name) = caller_of(subject);
    // Running code as a resource's role: that role decides.
    let ran = findings
        .iter()
        .any(|f| f.finding.code == Code::GuardRunAsOthers);
    if findings
        .iter()
        .any(|f| f.finding.code == Code::GuardRunAsOthers)
        && !known.admins.contains(&subject.arn)
    {
        let analysis = lazy();
        findings.retain_mut(|f| {
            if f.finding.code != Code::GuardRunAsOthers {
                return true;
            }
            match run_as(
                known,
                world,
                analysis,
                &caller,
                user_name,
                &f.finding.witness,
                identity,
            ) {
                Judgement::Clean => false,
                Judgement::Sure {
                    witness,
                    role,
                    why,
                    via,
                } => {
                    f.finding.message = format!(
                        "can run code as role `{role}` (`{}` on `{}`), {why}",
                        witness.action,
                        witness.resource.as_deref().unwrap_or("…")
                    );
                    f.finding.witness = witness;
                    f.finding.via = via;
                    true
                }
                Judgement::Depends { witness, what, .. } => {
                    f.finding.witness = witness;
                    f.finding.depends = Some(what);
                    true
                }
            }
        });
    }
    // Most principals test no resource tag: nothing to look at.
    let tests_tags = identity
        .iter()
        .flat_map(|p| &p.statements)
        .flat_map(|s| &s.conditions)
        .any(|c| c.key.to_ascii_lowercase().contains("resourcetag/"));
    if !ran && tests_tags && !known.admins.contains(&subject.arn) {
        let analysis = lazy();
        findings.extend(tag_gated_run_as(
            known, world, analysis, &caller, user_name, identity,
        ));
    }
    // Changing other principals, and editing managed policies attached elsewhere: only where
    // it can become what changes, or take over something stronger.
    type Judge = fn(&Known, &World, &Analysis, &Subject, bool) -> Option<Change>;
    let judges: [(Code, Judge); 2] = [
        (Code::GuardOutsideReach, change_others),
        (Code::GuardEditPoliciesElsewhere, edit_policies),
    ];
    for (code, judge) in judges {
        if known.admins.contains(&subject.arn) || !findings.iter().any(|f| f.finding.code == code) {
            continue;
        }
        let change = judge(known, world, lazy(), subject, ran);
        findings.retain_mut(|f| {
            if f.finding.code != code {
                return true;
            }
            let Some(change) = change.clone() else {
                return false;
            };
            f.finding.message = change.message;
            f.finding.witness = change.witness;
            f.finding.via = change.via;
            f.finding.depends = change.depends;
            true
        });
    }
    let touches = |c: Code| matches!(c, Code::GuardPassUnbounded | Code::GuardAssumeOutside);
    let named = known.named.get(&subject.arn);
    if known.admins.contains(&subject.arn)
        || (!findings.iter().any(|f| touches(f.finding.code)) && named.is_none())
    {
        return findings;
    }
    let analysis = lazy();
    // What passing gives: `None` when nothing.
    let mut passed: Option<Option<String>> = None;
    findings.retain_mut(|f| {
        let pass = match f.finding.code {
            Code::GuardPassUnbounded => true,
            Code::GuardAssumeOutside => false,
            _ => return true,
        };
        let verb = if pass { "pass" } else { "assume" };
        let (id, plain) = known.caller_id(&caller, user_name);
        let reuse = plain && subject.kind == PrincipalKind::User;
        let cached = known
            .judged
            .borrow()
            .get(&(id, pass))
            .cloned()
            .filter(|_| reuse);
        let judgement = cached.unwrap_or_else(|| {
            let j = judge(known, world, analysis, subject, pass);
            if reuse {
                known.judged.borrow_mut().insert((id, pass), j.clone());
            }
            j
        });
        match judgement {
            Judgement::Clean => {
                if pass {
                    passed = Some(None);
                }
                false
            }
            Judgement::Sure {
                witness,
                role,
                why,
                via,
            } => {
                f.finding.message = format!("can {verb} role `{role}`, {why}");
                f.finding.witness = witness;
                f.finding.via = via;
                true
            }
            Judgement::Depends {
                witness,
                role,
                what,
            } => {
                f.finding.message = match role {
                    Some(r) => format!("can {verb} role `{r}`"),
                    None => format!("can {verb} roles the snapshot does not hold"),
                };
                f.finding.witness = witness;
                if pass {
                    passed = Some(Some(what.clone()));
                }
                f.finding.depends = Some(what);
                true
            }
        }
    });
    // Roles whose trust policy names it: it may assume them with no identity policy.
    let sure_assume = |findings: &[Found]| {
        findings
            .iter()
            .any(|f| f.finding.code == Code::GuardAssumeOutside && f.finding.depends.is_none())
    };
    for &i in named.into_iter().flatten() {
        if sure_assume(&findings) {
            break;
        }
        let role = &known.roles[i];
        if role.arn == subject.arn {
            continue;
        }
        let witness = Witness {
            action: "sts:AssumeRole".into(),
            resource: Some(role.arn.clone()),
            context: Vec::new(),
            identity: None,
            boundary: None,
        };
        let message = format!(
            "can assume role `{}` (its trust policy names it)",
            role.name
        );
        let mut finding = super::vectors::Finding::new(Code::GuardAssumeOutside, message, witness);
        match known.verdict(&caller, user_name, i) {
            Verdict::Weaker => continue,
            Verdict::Stronger(why) => {
                finding.message = format!("{}, {why}", finding.message);
                finding.via = (!role.admin).then(|| role.arn.clone());
                findings.retain(|f| f.finding.code != Code::GuardAssumeOutside);
            }
            Verdict::Depends(what) => {
                if findings
                    .iter()
                    .any(|f| f.finding.code == Code::GuardAssumeOutside)
                {
                    continue;
                }
                finding.depends = Some(what);
            }
        }
        findings.push(Found {
            finding,
            holder: None,
            worst: false,
        });
    }
    match passed {
        // Running code as a role it cannot pass, or one that gives it nothing, is no way out.
        Some(None) => findings.retain(|f| f.finding.code != Code::GuardPassAndRun),
        Some(Some(what)) => {
            for f in &mut findings {
                if f.finding.code == Code::GuardPassAndRun {
                    f.finding.depends = Some(what.clone());
                }
            }
        }
        None => {}
    }
    findings
}

/// Adds to a principal's finding the path it escalates by, when it goes through roles that
/// are no administrators: the shortest, in steps, found breadth first over every sure way out
/// of each principal on the way. A step that does not go through a role (an administrator
/// assumed, its own permissions changed, another user's keys) ends the path.
pub(crate) fn show_path(leads: &HashMap<String, Lead>, arn: &str, d: &mut Diagnostic) {
    if !leads.contains_key(arn) {
        return;
    }
    // Breadth first: `parent[x]` is the principal and step that reach `x`.
    let mut parent: HashMap<&str, (&str, usize)> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([arn]);
    let mut end: Option<(&str, usize)> = None;
    while let Some(at) = queue.pop_front() {
        let Some(lead) = leads.get(at) else { continue };
        // A way out that ends here, before going further.
        if let Some(i) = lead.steps.iter().position(|s| s.via.is_none()) {
            end = Some((at, i));
            break;
        }
        for (i, step) in lead.steps.iter().enumerate() {
            let Some(next) = step.via.as_deref() else {
                continue;
            };
            if next != arn && !parent.contains_key(next) && leads.contains_key(next) {
                parent.insert(next, (at, i));
                queue.push_back(next);
            }
        }
    }
    let Some((mut at, last)) = end else { return };
    // The steps, from the principal to the end.
    let mut chain: Vec<(&str, usize)> = vec![(at, last)];
    while let Some(&(from, i)) = parent.get(at) {
        chain.push((from, i));
        at = from;
    }
    chain.reverse();
    if chain.len() < 2 || chain.len() > 16 {
        return;
    }
    let mut steps = Vec::new();
    for (n, &(who, i)) in chain.iter().enumerate() {
        let lead = &leads[who];
        let step = &lead.steps[i];
        if n == 0 {
            steps.push(format!("1. {} {}", lead.who, step.message));
            continue;
        }
        steps.push(format!("{}. then {} {}", n + 1, lead.who, step.message));
        if let Some(span) = step.span {
            d.labels.push(crate::diag::Label {
                span,
                message: format!("step {}: {} allows {}", n + 1, lead.who, step.request),
            });
        }
    }
    let path = format!("the path, in {} steps: {}", steps.len(), steps.join("; "));
    d.help = Some(match d.help.take() {
        Some(h) => format!("{h}; {path}"),
        None => path,
    });
}

/// What a principal with no boundary does when it changes its own permissions.
pub(crate) fn self_edit_words(known: &Known, request: &Witness) -> String {
    let on = request.resource.as_deref().unwrap_or("…");
    match (
        request.action.as_str(),
        known.stronger_versions.get(on),
    ) {
        ("iam:SetDefaultPolicyVersion", Some(id)) => format!(
            "can change its own permissions: make version `{id}` of its policy `{on}` the default, which allows more"
        ),
        _ => format!(
            "can change its own permissions (`{}` on `{on}`), and so do anything",
            request.action
        ),
    }
}

/// What changing other principals gives a principal with no boundary.
#[derive(Clone)]
struct Change {
    witness: Witness,
    message: String,
    /// The principal (ARN) the path goes on through, when it is no administrator.
    via: Option<String>,
    /// On what the escalation depends, when it is not sure.
    depends: Option<String>,
}

impl Change {
    /// A change whose escalation depends on something: on what.
    fn depending(message: impl Into<String>, on: String, witness: Witness) -> Change {
        Change {
            witness,
            message: message.into(),
            via: None,
            depends: Some(on),
        }
    }
}

/// How many principals of one kind a change is checked on one by one, past the classes of
/// principals alike.
const MAX_TARGETS: usize = 64;

/// What changing other principals gives a principal with no boundary (`ran`: it may run code
/// in resources, so the roles they run as are its too):
/// - taking a user's credentials, or making a role trust it, is becoming that principal: an
///   escalation when it can do more (the users and roles the snapshot does not hold, which
///   someone may create, make it depend);
/// - adding itself to a group is one when the group can do more;
/// - changing the permissions of a principal is one only when it can become that principal
///   (or is in that group): a principal it cannot become gains, but it does not.
///
/// Changes to identity providers stay sure: roles that trust them are anyone's who can.
fn change_others(
    known: &Known,
    world: &World,
    analysis: &Analysis,
    subject: &Subject,
    ran: bool,
) -> Option<Change> {
    let (caller, user_name) = caller_of(subject);
    let solve_any = |actions: &[&str], space: &Lang| {
        actions
            .iter()
            .find_map(|a| analysis.solve(a, space.clone(), Vec::new()))
    };
    let of = |names: &Names| {
        Lang::one_of_group(Group {
            patterns: Vec::new(),
            names: Some(names.clone()),
        })
    };
    let me = lang::exact(&subject.arn);
    let mut depends: Option<Change> = None;
    let sure = |w: Witness, message: String, via: Option<String>| Change {
        witness: w,
        message,
        via,
        depends: None,
    };
    let credentials: Vec<&str> = super::spec::USER_CREDENTIALS.to_vec();
    // A stronger principal that is no administrator: the answer unless one is found.
    let mut stronger: Option<Change> = None;
    let trust = ["iam:UpdateAssumeRolePolicy"];
    // Becoming users and roles that can do more, class by class.
    for (actions, names, kind) in [
        (&credentials[..], &known.user_names, "user"),
        (&trust[..], &known.names, "role"),
    ] {
        let mut space = of(names).except(me.clone());
        let mut exhausted = true;
        for _ in 0..MAX_ROLES {
            let Some(w) = solve_any(actions, &space) else {
                exhausted = false;
                break;
            };
            let Some(arn) = w.resource.clone() else {
                exhausted = false;
                depends.get_or_insert(Change::depending(
                    format!("can take over {kind}s"),
                    format!("a set of {kind}s too large to search"),
                    w,
                ));
                break;
            };
            // The principal of the snapshot, its verdict, and those alike.
            let target = if kind == "user" {
                known.other_by_arn.get(&arn).map(|&i| {
                    let o = &known.others[i];
                    let class = &known.other_classes[known.other_class_of[i]].1;
                    let verdict = known.other_verdict(&caller, user_name, i);
                    (verdict, o.name.clone(), o.admin, class.clone())
                })
            } else {
                known.by_arn.get(&arn).map(|&i| {
                    let r = &known.roles[i];
                    let class = &known.classes[known.class_of[i]].1;
                    (
                        known.verdict(&caller, user_name, i),
                        r.name.clone(),
                        r.admin,
                        class.clone(),
                    )
                })
            };
            let Some((verdict, name, admin, class)) = target else {
                space = space.except(lang::exact(&arn));
                continue;
            };
            space = space.except_names(&class);
            let taking = if kind == "user" {
                format!("can take the credentials of user `{name}` (`{}`)", w.action)
            } else {
                format!(
                    "can make role `{name}` trust it (`{}`) and assume it",
                    w.action
                )
            };
            match verdict {
                Verdict::Weaker => {}
                // An administrator, or a principal one step from one, ends the search: the
                // first found is the answer.
                Verdict::Stronger(why) if admin || why.ends_with("an administrator") => {
                    return Some(sure(w, format!("{taking}, {why}"), (!admin).then_some(arn)));
                }
                Verdict::Stronger(why) => {
                    stronger.get_or_insert_with(|| sure(w, format!("{taking}, {why}"), Some(arn)));
                }
                Verdict::Depends(what) => {
                    depends.get_or_insert(Change::depending(taking, what, w));
                }
            }
        }
        if exhausted && depends.is_none() {
            if let Some(w) = solve_any(actions, &space) {
                depends = Some(Change::depending(format!("can take over {kind}s"), format!(
                        "{kind}s of more than {MAX_ROLES} kinds it can take over, past what iamx compares one by one: `{}`",
                        w.resource.as_deref().unwrap_or("…")
                    ), w));
            }
        }
        if depends.is_none() {
            // The ones the snapshot does not hold: someone may create them.
            let all = format!("arn:{}:iam::{}:{kind}/*", world.partition, world.account);
            let future = Lang::one_of(vec![lang::glob(&all, true)])
                .except_names(names)
                .except(lang::glob("*#*", true))
                .except(me.clone());
            if let Some(w) = solve_any(actions, &future) {
                depends = Some(Change::depending(
                    format!("can take over {kind}s"),
                    format!(
                        "which {kind}s are created later: `{}` is not in the snapshot",
                        w.resource.as_deref().unwrap_or("…")
                    ),
                    w,
                ));
            }
        }
    }
    if stronger.is_some() {
        return stronger;
    }
    // Joining a group that can do more.
    {
        let mut space = of(&known.group_names);
        for _ in 0..MAX_ROLES {
            let Some(w) = analysis.solve("iam:AddUserToGroup", space.clone(), Vec::new()) else {
                break;
            };
            let Some(&i) = w.resource.as_ref().and_then(|a| known.other_by_arn.get(a)) else {
                break;
            };
            space = space.except_names(&known.other_classes[known.other_class_of[i]].1);
            let name = known.others[i].name.clone();
            match known.other_verdict(&caller, user_name, i) {
                Verdict::Weaker => {}
                Verdict::Stronger(why) => {
                    return Some(sure(
                        w,
                        format!("can add itself to group `{name}`, {why}"),
                        None,
                    ));
                }
                Verdict::Depends(what) => {
                    depends.get_or_insert(Change::depending(
                        format!("can add itself to group `{name}`"),
                        what,
                        w,
                    ));
                }
            }
        }
        // The groups the snapshot does not hold: someone may create them, with power.
        let all = format!("arn:{}:iam::{}:group/*", world.partition, world.account);
        let future = Lang::one_of(vec![lang::glob(&all, true)])
            .except_names(&known.group_names)
            .except(lang::glob("*#*", true));
        if let Some(w) = analysis.solve("iam:AddUserToGroup", future, Vec::new()) {
            depends.get_or_insert(Change::depending(
                "can add users to groups",
                format!(
                    "which groups are created later: `{}` is not in the snapshot",
                    w.resource.as_deref().unwrap_or("…")
                ),
                w,
            ));
        }
    }
    // Changing what a principal it can become may do; a group, when it or one it can become
    // is a member, or it can join. The principals each change reaches are looked at one by
    // one; those it can become are then asked about as the guardrail asks (a detached
    // policy must hold a `Deny`, say).
    let mut reached: HashMap<&'static str, Vec<String>> = HashMap::new();
    let mut how_of: HashMap<String, String> = HashMap::new();
    let mut first_unchecked: Option<Witness> = None;
    let mut within = |kind: &'static str, action: &str| -> Vec<Lang> {
        if credentials.contains(&action)
            || action == "iam:UpdateAssumeRolePolicy"
            || action == "iam:AddUserToGroup"
        {
            return Vec::new();
        }
        let names = match kind {
            "user" => &known.user_names,
            "role" => &known.names,
            _ => &known.group_names,
        };
        let mut space = of(names);
        if kind != "group" {
            // Its own permissions are W0604.
            space = space.except(me.clone());
        }
        for arn in how_of.keys() {
            space = space.except(lang::exact(arn));
        }
        let mut exhausted = true;
        for _ in 0..MAX_TARGETS {
            let Some(w) = analysis.solve(action, space.clone(), Vec::new()) else {
                exhausted = false;
                break;
            };
            let Some(arn) = w.resource.clone() else {
                first_unchecked.get_or_insert(w);
                exhausted = false;
                break;
            };
            space = space.except(lang::exact(&arn));
            let how = if kind == "group" {
                let Some(&i) = known.other_by_arn.get(&arn) else {
                    continue;
                };
                let group = &known.others[i];
                let joins = subject.kind == PrincipalKind::User
                    && analysis
                        .solve(
                            "iam:AddUserToGroup",
                            Lang::one_of(vec![lang::exact(&arn)]),
                            Vec::new(),
                        )
                        .is_some();
                if joins {
                    Some(format!("group `{}`, which it can join", group.name))
                } else {
                    group
                        .members
                        .iter()
                        .find_map(|m| {
                            becomes(known, world, analysis, subject, ran, m).map(|how| (m, how))
                        })
                        .map(|(m, how)| {
                            let member = m.rsplit('/').next().unwrap_or(m);
                            if how == "itself" {
                                format!("group `{}`, which it is in", group.name)
                            } else {
                                format!("group `{}`, which has user `{member}`, {how}", group.name)
                            }
                        })
                }
            } else {
                becomes(known, world, analysis, subject, ran, &arn).map(|how| {
                    format!("{kind} `{}`, {how}", arn.rsplit('/').next().unwrap_or(&arn))
                })
            };
            if let Some(how) = how {
                how_of.insert(arn.clone(), how);
                reached.entry(kind).or_default().push(arn);
            }
        }
        if exhausted {
            if let Some(w) = analysis.solve(action, space, Vec::new()) {
                first_unchecked.get_or_insert(w);
            }
        }
        match reached.get(kind) {
            Some(arns) => vec![of(&Names::new(arns.iter().cloned()))],
            None => Vec::new(),
        }
    };
    let changed = analysis.changes("", &mut within);
    if let Some(f) = changed {
        let target = f.witness.resource.clone().unwrap_or_default();
        let Some(how) = how_of.get(&target) else {
            return Some(sure(
                f.witness,
                "can change identity providers, and so become any role that trusts them".into(),
                None,
            ));
        };
        let via = (!target.contains(":group/") && target != subject.arn).then_some(target.clone());
        return Some(sure(
            f.witness.clone(),
            format!(
                "can change the permissions of {how} (`{}`)",
                f.witness.action
            ),
            via,
        ));
    }
    if let Some(w) = first_unchecked {
        depends.get_or_insert(Change::depending("can change the permissions of principals", format!(
                "whether it can become one of the more than {MAX_TARGETS} principals it can change, past what iamx checks one by one: `{}`",
                w.resource.as_deref().unwrap_or("…")
            ), w));
    }
    depends
}

/// Whether a principal with no boundary can become a user or role of the snapshot (`arn`),
/// and how: take a user's credentials; make a role trust it, assume it, pass it to a service,
/// or run code in a resource that runs as it (`ran`: it may run code in resources).
fn becomes(
    known: &Known,
    world: &World,
    analysis: &Analysis,
    subject: &Subject,
    ran: bool,
    arn: &str,
) -> Option<&'static str> {
    let one = Lang::one_of(vec![lang::exact(arn)]);
    if arn == subject.arn {
        return Some("itself");
    }
    if arn.contains(":user/") {
        return super::spec::USER_CREDENTIALS
            .iter()
            .any(|a| analysis.solve(a, one.clone(), Vec::new()).is_some())
            .then_some("whose credentials it can take");
    }
    if analysis
        .solve("iam:UpdateAssumeRolePolicy", one.clone(), Vec::new())
        .is_some()
    {
        return Some("which it can make trust it");
    }
    let i = *known.by_arn.get(arn)?;
    let role = &known.roles[i];
    let named = known
        .named
        .get(&subject.arn)
        .is_some_and(|n| n.contains(&i));
    if named
        || (trusted(role, &subject.arn, &world.account, &world.partition, false)
            && analysis
                .solve("sts:AssumeRole", one.clone(), Vec::new())
                .is_some())
    {
        return Some("which it can assume");
    }
    if trusted(role, &subject.arn, &world.account, &world.partition, true)
        && analysis.solve("iam:PassRole", one, Vec::new()).is_some()
    {
        return Some("which it can pass to a service");
    }
    if ran && known.resources.iter().flatten().any(|r| r.role == arn) {
        return Some("which a resource it may run code in runs as");
    }
    None
}

/// What editing customer managed policies gives a principal with no boundary: a new version
/// (or another version made the default, where one allows more) of a policy attached to a
/// principal it can become, or to a group it or such a principal is in, is an escalation; a
/// policy attached elsewhere, or nowhere, gives it nothing. Policies the snapshot does not
/// hold make it depend on where they will be attached.
fn edit_policies(
    known: &Known,
    world: &World,
    analysis: &Analysis,
    subject: &Subject,
    ran: bool,
) -> Option<Change> {
    let edits = ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"];
    let solve = |space: &Lang| {
        edits.iter().find_map(|&a| {
            let space = if a == "iam:SetDefaultPolicyVersion" {
                space.clone().and_group(Group {
                    patterns: Vec::new(),
                    names: Some(known.stronger_names.clone()),
                })
            } else {
                space.clone()
            };
            analysis.solve(a, space, Vec::new())
        })
    };
    let holders: HashMap<&str, &Vec<String>> = world
        .attachments
        .iter()
        .filter_map(|(p, h)| Some((p.as_str(), h.as_ref()?)))
        .collect();
    let known_policies = Names::new(world.attachments.iter().map(|(p, _)| p.clone()));
    let mut space = Lang::one_of_group(Group {
        patterns: Vec::new(),
        names: Some(known_policies.clone()),
    });
    for own in &subject.own_policies {
        space = space.except(lang::exact(own));
    }
    let mut exhausted = true;
    for _ in 0..MAX_TARGETS {
        let Some(w) = solve(&space) else {
            exhausted = false;
            break;
        };
        let Some(arn) = w.resource.clone() else {
            exhausted = false;
            break;
        };
        space = space.except(lang::exact(&arn));
        let name = arn.rsplit('/').next().unwrap_or(&arn).to_string();
        for h in holders.get(arn.as_str()).into_iter().flat_map(|h| h.iter()) {
            let how = if h.contains(":group/") {
                known.other_by_arn.get(h).and_then(|&i| {
                    let group = &known.others[i];
                    group.members.iter().find_map(|m| {
                        let how = becomes(known, world, analysis, subject, ran, m)?;
                        Some(if how == "itself" {
                            format!("group `{}`, which it is in", group.name)
                        } else {
                            let member = m.rsplit('/').next().unwrap_or(m);
                            format!("group `{}`, which has user `{member}`, {how}", group.name)
                        })
                    })
                })
            } else {
                becomes(known, world, analysis, subject, ran, h).map(|how| {
                    let kind = if h.contains(":user/") { "user" } else { "role" };
                    format!("{kind} `{}`, {how}", h.rsplit('/').next().unwrap_or(h))
                })
            };
            if let Some(how) = how {
                let via = (!h.contains(":group/") && *h != subject.arn).then(|| h.clone());
                return Some(Change {
                    message: format!(
                        "can edit policy `{name}` (`{}`), attached to {how}",
                        w.action
                    ),
                    witness: w,
                    via,
                    depends: None,
                });
            }
        }
    }
    let more = if exhausted { solve(&space) } else { None };
    if let Some(w) = more {
        return Some(Change::depending("can edit managed policies", format!(
                "where the more than {MAX_TARGETS} policies it can edit are attached, past what iamx checks one by one: `{}`",
                w.resource.as_deref().unwrap_or("…")
            ), w));
    }
    // Policies the snapshot does not hold: someone may create them, and attach them.
    let all = format!("arn:{}:iam::{}:policy/*", world.partition, world.account);
    let mut future = Lang::one_of(vec![lang::glob(&all, true)]).except_names(&known_policies);
    for own in &subject.own_policies {
        future = future.except(lang::exact(own));
    }
    let w = solve(&future)?;
    Some(Change::depending("can edit managed policies", format!(
            "which policies are created later, and where they are attached: `{}` is not in the snapshot",
            w.resource.as_deref().unwrap_or("…")
        ), w))
}

/// The resource tag keys (`aws:ResourceTag/…`, `SERVICE:ResourceTag/…`; lower case) the
/// statements naming an action test, each free to hold any value or none: the tags of a
/// resource whose tags are not known.
fn any_tags(identity: &[&iam::Policy], action: &str) -> Vec<(String, KeySpace)> {
    let mut keys: Vec<String> = Vec::new();
    for s in identity.iter().flat_map(|p| &p.statements) {
        if !names_action(s, action) {
            continue;
        }
        for c in &s.conditions {
            let key = c.key.to_ascii_lowercase();
            if key
                .split_once(':')
                .is_some_and(|(_, rest)| rest.starts_with("resourcetag/"))
                && !keys.contains(&key)
            {
                keys.push(key);
            }
        }
    }
    keys.into_iter()
        .map(|k| (k, KeySpace::In(Lang::any())))
        .collect()
}

/// Running code in existing resources whose tags the policies test: the analysis of the
/// guardrail takes tags the holder cannot set as not there; in an account, a listed resource
/// has the tags `--resources` gives it, and another any tags. The first action that gives
/// something, judged as [`run_as`] judges; `None` when none does.
fn tag_gated_run_as(
    known: &Known,
    world: &World,
    analysis: &Analysis,
    caller: &str,
    user_name: Option<&str>,
    identity: &[&iam::Policy],
) -> Option<Found> {
    for runner in &super::classes::escalations().runners {
        if !analysis.names_service(&runner.service) {
            continue;
        }
        for (s, _) in super::classes::running_actions_of(runner) {
            if !analysis.could_allow(&s.action) {
                continue;
            }
            let keys = any_tags(identity, &s.action);
            if keys.is_empty() {
                // Without tag conditions, the guardrail's analysis answered already.
                continue;
            }
            let Some(first) = analysis.solve(&s.action, Lang::any(), keys) else {
                continue;
            };
            let mut finding = super::vectors::Finding::new(
                Code::GuardRunAsOthers,
                format!("can run code as other principals (`{}`)", s.action),
                first.clone(),
            );
            match run_as(known, world, analysis, caller, user_name, &first, identity) {
                Judgement::Clean => continue,
                Judgement::Sure {
                    witness,
                    role,
                    why,
                    via,
                } => {
                    finding.message = format!(
                        "can run code as role `{role}` (`{}` on `{}`), {why}",
                        witness.action,
                        witness.resource.as_deref().unwrap_or("…")
                    );
                    finding.witness = witness;
                    finding.via = via;
                }
                Judgement::Depends { witness, what, .. } => {
                    finding.witness = witness;
                    finding.depends = Some(what);
                }
            }
            return Some(Found {
                finding,
                holder: None,
                worst: false,
            });
        }
    }
    None
}

/// What running code as resources' roles gives a principal, from the first request that does
/// (`first`): each listed resource it may make that request on runs as a known role, judged
/// as a role it assumes; resources not listed run as roles unknown.
fn run_as(
    known: &Known,
    world: &World,
    analysis: &Analysis,
    caller: &str,
    user_name: Option<&str>,
    first: &Witness,
    identity: &[&iam::Policy],
) -> Judgement {
    let action = first.action.as_str();
    let Some(list) = &known.resources else {
        return Judgement::Depends {
            witness: first.clone(),
            role: None,
            what: "which role each resource runs as, which the snapshot does not show (give them with `--resources`)".into(),
        };
    };
    // The services whose ARNs the action takes (`ssm:SendCommand` takes EC2 instances):
    // from the reference; any service when it does not know the action.
    let services: Option<Vec<&str>> = crate::awsdb::action_by_full_name(action).map(|(s, a)| {
        a.resource_types
            .iter()
            .filter_map(|t| s.resource_type(t.name))
            .filter_map(|t| t.arn.split(':').nth(2))
            .collect()
    });
    let mut depends: Option<(Witness, String)> = None;
    for r in list {
        if let (Some(services), Some(service)) = (&services, r.arn.split(':').nth(2)) {
            if !services.contains(&service) {
                continue;
            }
        }
        let keys = r
            .tags
            .iter()
            .map(|(k, v)| {
                (
                    format!("aws:resourcetag/{}", k.to_ascii_lowercase()),
                    super::solve::KeySpace::In(Lang::one_of(vec![lang::exact(v)])),
                )
            })
            .collect();
        let Some(w) = analysis.solve(action, Lang::one_of(vec![lang::exact(&r.arn)]), keys) else {
            continue;
        };
        let Some(&i) = known.by_arn.get(&r.role) else {
            depends.get_or_insert((
                w,
                format!(
                    "what role `{}`, which `{}` runs as and the snapshot does not hold, can do",
                    r.role, r.arn
                ),
            ));
            continue;
        };
        match known.verdict(caller, user_name, i) {
            Verdict::Weaker => {}
            Verdict::Stronger(why) => {
                let role = &known.roles[i];
                return Judgement::Sure {
                    witness: w,
                    role: role.name.clone(),
                    why,
                    via: (!role.admin).then(|| role.arn.clone()),
                };
            }
            Verdict::Depends(what) => {
                depends.get_or_insert((w, what));
            }
        }
    }
    if depends.is_none() {
        // Resources the file does not list, of the types that run as a role (an instance, not
        // the document `ssm:SendCommand` also takes): their role is unknown, and so are their
        // tags.
        let prefix = action.split(':').next().unwrap_or("");
        let mut spaces: Vec<Lang> = super::classes::escalations()
            .runners
            .iter()
            .filter(|r| r.service == prefix)
            .flat_map(|r| &r.resource_types)
            .flat_map(|t| {
                super::classes::resource_spaces(prefix, t, &world.partition, &world.account)
            })
            // AWS's own resources (account `aws`, a built-in code interpreter) run as no role
            // of anyone's account.
            .map(|space| {
                space.except_names(&known.resource_names).except(lang::glob(
                    &format!("arn:{}:*:*:aws:*", world.partition),
                    true,
                ))
            })
            .collect();
        if spaces.is_empty() {
            // An ARN pattern has its six parts: `arn:aws:*` would match none.
            let all = format!("arn:{}:*:*:*:*", world.partition);
            spaces.push(
                Lang::one_of(vec![lang::glob(&all, true)]).except_names(&known.resource_names),
            );
        }
        let tags = any_tags(identity, action);
        if let Some(w) = spaces
            .into_iter()
            .find_map(|space| analysis.solve(action, space, tags.clone()))
        {
            let what = format!(
                "which role the resources `--resources` does not list run as, such as `{}`",
                w.resource.as_deref().unwrap_or("…")
            );
            depends = Some((w, what));
        }
    }
    match depends {
        Some((witness, what)) => Judgement::Depends {
            witness,
            role: None,
            what,
        },
        None => Judgement::Clean,
    }
}

/// The services (lower case) the allows among statements name; `None`: any service (`*`,
/// `NotAction`, a wildcard in the service part).
fn services_of(statements: &[iam::Statement]) -> Option<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    for s in statements {
        if s.effect.value != Effect::Allow {
            continue;
        }
        let block = s.action.as_ref()?;
        if block.not {
            return None;
        }
        for v in &block.values {
            let service = v.value.split(':').next().unwrap_or("").to_ascii_lowercase();
            if service.contains(['*', '?']) || !v.value.contains(':') {
                return None;
            }
            out.insert(service);
        }
    }
    Some(out)
}

#[cfg(test)]
mod path_tests {
    use super::show_path;
    use crate::diag::{Code, Diagnostic};
    use crate::guardrail::{Lead, LeadStep};
    use std::collections::HashMap;

    fn step(message: &str, via: Option<&str>) -> LeadStep {
        LeadStep {
            message: message.into(),
            request: format!("request of {message}"),
            span: None,
            via: via.map(str::to_string),
        }
    }

    fn lead(who: &str, steps: Vec<LeadStep>) -> Lead {
        Lead {
            who: who.into(),
            steps,
        }
    }

    #[test]
    fn the_path_shown_is_the_shortest_not_the_first_found() {
        // dev's first way out goes through a (three more steps); its second through b (one).
        let mut leads = HashMap::new();
        leads.insert(
            "dev".to_string(),
            lead(
                "user dev",
                vec![step("assumes a", Some("a")), step("assumes b", Some("b"))],
            ),
        );
        leads.insert(
            "a".to_string(),
            lead("role a", vec![step("assumes c", Some("c"))]),
        );
        leads.insert(
            "c".to_string(),
            lead("role c", vec![step("assumes b", Some("b"))]),
        );
        leads.insert(
            "b".to_string(),
            lead("role b", vec![step("takes a user's keys", None)]),
        );
        let mut d = Diagnostic::new(Code::GuardUnboundedPrincipal, "dev escalates");
        show_path(&leads, "dev", &mut d);
        let help = d.help.unwrap();
        assert!(
            help.contains(
                "the path, in 2 steps: 1. user dev assumes b; 2. then role b takes a user's keys"
            ),
            "{help}"
        );
        // A cycle with no way out shows no path, and does not loop.
        let mut cycle = HashMap::new();
        cycle.insert(
            "x".to_string(),
            lead("role x", vec![step("assumes y", Some("y"))]),
        );
        cycle.insert(
            "y".to_string(),
            lead("role y", vec![step("assumes x", Some("x"))]),
        );
        let mut d = Diagnostic::new(Code::GuardUnboundedPrincipal, "x escalates");
        show_path(&cycle, "x", &mut d);
        assert!(d.help.is_none());
    }
}
