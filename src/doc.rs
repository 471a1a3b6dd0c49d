//! `iamx doc`: documentation generated from a compiled project. [`model`] gathers what the
//! pages say (who each principal is, what it may do after its boundary, what the boundary
//! cuts, the guardrail and the tests); [`markdown`] and [`json`] write it out.
//!
//! Effective permissions are worked out per action from the embedded AWS reference: an action
//! is granted when an `Allow` statement of the principal's identity policies (inline, attached,
//! its groups') names it, passes when an `Allow` statement of its boundary names it too, and is
//! lost when a `Deny` names it on every resource with no condition. Resources and conditions
//! are shown as written; they are not intersected.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::awsdb::{self, AccessLevel};
use crate::emit::Artifact;
use crate::eval::{project as evalproject, suite};
use crate::guardrail::Report;
use crate::iam::{DocumentKind, Effect, Policy, PrincipalInfo, PrincipalKind, Project, Statement};
use crate::source::{SourceMap, Span};

/// Everything the documentation says.
#[derive(Debug, Serialize)]
pub struct Docs {
    pub account: Option<String>,
    pub partition: String,
    pub guardrail: Option<String>,
    pub principals: Vec<PrincipalDoc>,
    pub policies: Vec<PolicyDoc>,
    pub tests: Vec<TestDoc>,
    /// Who is in which group, bounded by which boundary, trusted by which role.
    pub edges: Vec<Edge>,
}

/// An edge of the project diagram, between things named as `user alice`, `boundary B`,
/// `Service lambda.amazonaws.com`.
#[derive(Debug, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: &'static str,
}

/// Above this many principals, the index has no diagram.
const MAX_DIAGRAM: usize = 100;

fn edges(project: &Project) -> Vec<Edge> {
    let mut out = Vec::new();
    let name = |p: &PrincipalInfo| format!("{} {}", p.kind.as_str(), p.name);
    for p in &project.principals {
        for g in &p.groups {
            out.push(Edge {
                from: name(p),
                to: format!("group {g}"),
                label: "member of",
            });
        }
        if let Some(b) = &p.boundary {
            out.push(Edge {
                from: name(p),
                to: format!("boundary {}", policy_name(&b.value)),
                label: "bounded by",
            });
        }
        for &i in &p.documents {
            let doc = &project.documents[i];
            if doc.kind != DocumentKind::Trust {
                continue;
            }
            for st in doc
                .policy
                .statements
                .iter()
                .filter(|st| st.effect.value == Effect::Allow)
            {
                let whos: Vec<String> = match &st.principal {
                    Some(crate::iam::Principal::Any(_)) => vec!["anyone".to_string()],
                    Some(crate::iam::Principal::Kinds(kinds)) => kinds
                        .iter()
                        .flat_map(|(k, vs)| {
                            vs.iter().map(move |v| {
                                project
                                    .principals
                                    .iter()
                                    .find(|q| q.arn.as_deref() == Some(v.value.as_str()))
                                    .map_or_else(|| format!("{k} {}", v.value), name)
                            })
                        })
                        .collect(),
                    None => Vec::new(),
                };
                for who in whos {
                    out.push(Edge {
                        from: who,
                        to: name(p),
                        label: "may assume",
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.from, &a.to, a.label).cmp(&(&b.from, &b.to, b.label)));
    out.dedup_by(|a, b| a.from == b.from && a.to == b.to && a.label == b.label);
    out
}

/// The project diagram, in Mermaid.
fn diagram(docs: &Docs) -> String {
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut nodes = String::new();
    let mut lines = String::new();
    let mut id = |name: &str, nodes: &mut String| -> String {
        let next = ids.len();
        let n = *ids.entry(name.to_string()).or_insert(next);
        if n == next {
            let label = name.replace('"', "#quot;");
            let shape = if name.starts_with("boundary ") {
                format!("n{n}{{{{\"{label}\"}}}}")
            } else if name.starts_with("group ") {
                format!("n{n}([\"{label}\"])")
            } else {
                format!("n{n}[\"{label}\"]")
            };
            let _ = writeln!(nodes, "  {shape}");
        }
        format!("n{n}")
    };
    let names: Vec<String> = docs
        .principals
        .iter()
        .map(|p| format!("{} {}", p.kind, p.name))
        .collect();
    for n in &names {
        id(n, &mut nodes);
    }
    for e in &docs.edges {
        let from = id(&e.from, &mut nodes);
        let to = id(&e.to, &mut nodes);
        let arrow = if e.label == "bounded by" {
            "-.->"
        } else {
            "-->"
        };
        let _ = writeln!(lines, "  {from} {arrow}|{}| {to}", e.label);
    }
    format!("```mermaid\nflowchart LR\n{nodes}{lines}```\n")
}

#[derive(Debug, Serialize)]
pub struct PolicyDoc {
    pub name: String,
    pub boundary: bool,
    pub arn: Option<String>,
    pub source: Option<String>,
    pub docs: Vec<String>,
    /// `closed` or `open`, for a boundary the guardrail analysed.
    pub guardrail: Option<String>,
    /// Principals that attach it, or carry it as their boundary (`user DeveloperSteve`).
    pub used_by: Vec<String>,
    /// The page, relative to the documentation directory.
    pub page: String,
    pub statements: Vec<StatementDoc>,
}

#[derive(Debug, Serialize)]
pub struct TestDoc {
    pub name: String,
    pub source: Option<String>,
    pub expectations: usize,
    pub passed: bool,
}

/// A policy as a principal holds it.
#[derive(Debug, Serialize)]
pub struct PolicyRef {
    pub name: String,
    pub arn: Option<String>,
    /// `file:line`, or `aws managed` for AWS's policies.
    pub source: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PrincipalDoc {
    pub kind: &'static str,
    pub name: String,
    /// The page, relative to the documentation directory.
    pub page: String,
    pub arn: Option<String>,
    pub path: String,
    pub source: Option<String>,
    pub description: Option<String>,
    pub docs: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub groups: Vec<String>,
    pub members: Vec<String>,
    pub boundary: Option<PolicyRef>,
    pub attached: Vec<PolicyRef>,
    pub inline: Vec<PolicyRef>,
    /// `closed`, `open`, `unbounded, closed` or `unbounded, can escalate`.
    pub guardrail: Option<String>,
    pub permissions: Vec<ServiceDoc>,
    pub cut_by_boundary: Vec<ServiceDoc>,
    pub denies: Vec<StatementDoc>,
    pub trusted: Vec<String>,
    /// The project's principals that may pass it (`iam:PassRole`), with the services, in words.
    pub passed_by: Vec<String>,
    pub tests: Vec<ExpectationDoc>,
    /// Managed policies iamx has no document for: their permissions are not shown.
    pub unknown_policies: Vec<String>,
}

/// The actions of one service a principal may do (or loses to its boundary).
#[derive(Debug, Serialize)]
pub struct ServiceDoc {
    pub prefix: String,
    pub name: String,
    /// One per access level, in [`AccessLevel::ALL`] order.
    pub levels: Vec<LevelCell>,
    pub grants: Vec<GrantGroup>,
}

#[derive(Debug, Serialize)]
pub struct LevelCell {
    pub level: &'static str,
    pub granted: usize,
    pub total: usize,
    /// Some of the actions are granted on every resource (`*`).
    pub any_resource: bool,
}

/// Actions granted by the same statements.
#[derive(Debug, Serialize)]
pub struct GrantGroup {
    pub actions: Vec<String>,
    /// All the service's actions.
    pub all: bool,
    pub granted_by: Vec<StatementDoc>,
    /// The boundary statement that lets them through.
    pub boundary: Option<StatementDoc>,
}

/// A statement, in words, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StatementDoc {
    /// `Allow` or `Deny`.
    pub effect: &'static str,
    pub policy: String,
    pub sid: Option<String>,
    pub source: Option<String>,
    /// The `Action` patterns as written (for a grant: those of its service only).
    pub actions: Vec<String>,
    /// They are written as `NotAction`: every action but those.
    pub not_action: bool,
    pub resources: String,
    pub conditions: Vec<String>,
    /// Its `///` doc comments.
    pub docs: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ExpectationDoc {
    pub test: String,
    pub expect: String,
    pub action: String,
    pub resource: String,
    pub passed: bool,
}

/// Where a span starts, as `file:line`.
fn location(sources: &SourceMap, span: Option<Span>) -> Option<String> {
    let span = span?;
    if span.file.0 as usize >= sources.files().count() {
        return None;
    }
    let (line, _) = sources.line_col(span.file, span.start);
    Some(format!("{}:{line}", sources.get(span.file).name))
}

fn page_of(p: &PrincipalInfo) -> String {
    format!("{}s/{}.md", p.kind.as_str(), p.name)
}

fn list_words(block: Option<&crate::iam::Block>, every: &str) -> String {
    match block {
        None => every.to_string(),
        Some(b) => {
            let values: Vec<String> = b.values.iter().map(|v| format!("`{}`", v.value)).collect();
            if b.not {
                format!("everything but {}", values.join(", "))
            } else {
                values.join(", ")
            }
        }
    }
}

fn condition_words(c: &crate::iam::Condition) -> String {
    let values: Vec<String> = c.values.iter().map(|v| format!("`{v}`")).collect();
    let values = values.join(" or ");
    let op = c.operator.as_str();
    let plain = op
        .strip_prefix("ForAnyValue:")
        .or_else(|| op.strip_prefix("ForAllValues:"))
        .unwrap_or(op);
    let plain = plain.strip_suffix("IfExists").unwrap_or(plain);
    let verb = match plain {
        "StringEquals" | "ArnEquals" | "NumericEquals" | "DateEquals" => "is",
        "StringNotEquals" | "ArnNotEquals" | "NumericNotEquals" | "DateNotEquals" => "is not",
        "StringLike" | "ArnLike" => "matches",
        "StringNotLike" | "ArnNotLike" => "does not match",
        "StringEqualsIgnoreCase" => "is, in any case,",
        "Bool" => "is",
        "Null" => "is absent:",
        "IpAddress" => "is in",
        "NotIpAddress" => "is not in",
        "NumericLessThan" | "DateLessThan" => "is less than",
        "NumericGreaterThan" | "DateGreaterThan" => "is greater than",
        _ => "",
    };
    if verb.is_empty() {
        format!("`{op}` `{}` {values}", c.key)
    } else {
        format!("`{}` {verb} {values} (`{op}`)", c.key)
    }
}

fn statement_doc(
    sources: &SourceMap,
    policy: &str,
    source: Option<&str>,
    s: &Statement,
) -> StatementDoc {
    StatementDoc {
        effect: s.effect.value.as_str(),
        policy: policy.to_string(),
        sid: s.sid.as_ref().map(|sid| sid.value.clone()),
        source: location(sources, s.span).or_else(|| source.map(str::to_string)),
        actions: s
            .action
            .as_ref()
            .map(|b| b.values.iter().map(|v| v.value.clone()).collect())
            .unwrap_or_default(),
        not_action: s.action.as_ref().is_some_and(|b| b.not),
        resources: list_words(s.resource.as_ref(), "every resource"),
        conditions: s.conditions.iter().map(condition_words).collect(),
        docs: s.docs.clone(),
    }
}

/// The actions a statement's `Action` or `NotAction` names, as `(prefix, name)`.
fn statement_actions(s: &Statement) -> Vec<(&'static str, &'static str)> {
    let Some(block) = &s.action else {
        return Vec::new();
    };
    let mut named: Vec<(&'static str, &'static str)> = Vec::new();
    if block.not {
        let excluded: Vec<(&'static str, &'static str)> = block
            .values
            .iter()
            .flat_map(|v| awsdb::actions_matching(&v.value))
            .map(|(s, a)| (s.prefix, a.name))
            .collect();
        for (s, a) in awsdb::actions_matching("*") {
            if !excluded.contains(&(s.prefix, a.name)) {
                named.push((s.prefix, a.name));
            }
        }
    } else {
        for v in &block.values {
            named.extend(
                awsdb::actions_matching(&v.value)
                    .into_iter()
                    .map(|(s, a)| (s.prefix, a.name)),
            );
        }
    }
    named.sort_unstable();
    named.dedup();
    named
}

fn on_every_resource(s: &Statement) -> bool {
    s.resource
        .as_ref()
        .is_some_and(|b| !b.not && b.values.iter().any(|v| v.value == "*"))
}

/// A policy a principal holds, labelled.
struct Held {
    label: String,
    source: Option<String>,
    policy: Policy,
}

fn held_policies(
    project: &Project,
    sources: &SourceMap,
    principal: &PrincipalInfo,
    unknown: &mut Vec<String>,
) -> Vec<Held> {
    let mut held = Vec::new();
    let mut holders = vec![principal];
    if principal.kind == PrincipalKind::User {
        holders.extend(project.principals.iter().filter(|g| {
            g.kind == PrincipalKind::Group && principal.groups.iter().any(|n| n == &g.name)
        }));
    }
    for p in holders {
        let via = if std::ptr::eq(p, principal) {
            String::new()
        } else {
            format!(" (group `{}`)", p.name)
        };
        for &i in &p.documents {
            let doc = &project.documents[i];
            if doc.kind != DocumentKind::Trust {
                held.push(Held {
                    label: format!("inline `{}`{via}", doc.name),
                    source: location(sources, doc.span),
                    policy: doc.policy.clone(),
                });
            }
        }
        for a in &p.attached {
            match evalproject::managed_document(project, &a.value) {
                Some(policy) => held.push(Held {
                    label: format!("`{}`{via}", policy_name(&a.value)),
                    source: project
                        .policies
                        .iter()
                        .find(|m| m.arn.as_deref() == Some(a.value.as_str()))
                        .map_or(Some("aws managed".into()), |m| location(sources, m.span)),
                    policy,
                }),
                None => unknown.push(a.value.clone()),
            }
        }
    }
    held
}

/// Whether an action pattern can match actions of service `prefix`.
fn pattern_names_service(pattern: &str, prefix: &str) -> bool {
    match pattern.split_once(':') {
        Some((service, _)) => awsdb::wildcard_match(service, prefix),
        None => pattern.contains('*'),
    }
}

/// The actions of a statement, in words.
fn actions_words(s: &StatementDoc) -> String {
    let values: Vec<String> = s.actions.iter().map(|a| format!("`{a}`")).collect();
    match (s.not_action, values.is_empty()) {
        (false, true) => "no action".to_string(),
        (false, false) => values.join(", "),
        (true, true) => "every action".to_string(),
        (true, false) => format!("every action but {}", values.join(", ")),
    }
}

fn policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[derive(Default)]
struct ActionFacts {
    /// Indices into the statement table.
    grants: Vec<usize>,
    boundary: Option<usize>,
    any_resource: bool,
}

/// A statement of the table, with only the action patterns that name service `prefix`.
fn for_service(table: &[StatementDoc], i: usize, prefix: &str) -> StatementDoc {
    let mut doc = table[i].clone();
    doc.actions.retain(|a| pattern_names_service(a, prefix));
    doc
}

fn service_docs(
    facts: BTreeMap<(&'static str, &'static str), ActionFacts>,
    table: &[StatementDoc],
) -> Vec<ServiceDoc> {
    let mut by_service: BTreeMap<&'static str, Vec<(&'static str, ActionFacts)>> = BTreeMap::new();
    for ((prefix, name), f) in facts {
        by_service.entry(prefix).or_default().push((name, f));
    }
    let mut out = Vec::new();
    for (prefix, actions) in by_service {
        let Some(service) = awsdb::service(prefix) else {
            continue;
        };
        let levels = AccessLevel::ALL
            .iter()
            .map(|&level| {
                let total = service
                    .actions
                    .iter()
                    .filter(|a| a.primary_access_level() == level)
                    .count();
                let in_level: Vec<&(&str, ActionFacts)> = actions
                    .iter()
                    .filter(|(n, _)| {
                        service
                            .action(n)
                            .is_some_and(|a| a.primary_access_level() == level)
                    })
                    .collect();
                LevelCell {
                    level: level.aws_name(),
                    granted: in_level.len(),
                    total,
                    any_resource: in_level.iter().any(|(_, f)| f.any_resource),
                }
            })
            .collect();
        let mut keyed: Vec<(Vec<usize>, Option<usize>, Vec<String>)> = Vec::new();
        let count = actions.len();
        for (name, f) in actions {
            let action = format!("{prefix}:{name}");
            match keyed
                .iter_mut()
                .find(|(g, b, _)| *g == f.grants && *b == f.boundary)
            {
                Some((_, _, names)) => names.push(action),
                None => keyed.push((f.grants, f.boundary, vec![action])),
            }
        }
        let mut groups: Vec<GrantGroup> = keyed
            .into_iter()
            .map(|(grants, boundary, actions)| GrantGroup {
                actions,
                all: false,
                granted_by: grants
                    .iter()
                    .map(|&i| for_service(table, i, prefix))
                    .collect(),
                boundary: boundary.map(|i| for_service(table, i, prefix)),
            })
            .collect();
        if groups.len() == 1 && count == service.actions.len() {
            groups[0].all = true;
        }
        out.push(ServiceDoc {
            prefix: prefix.to_string(),
            name: service.name.to_string(),
            levels,
            grants: groups,
        });
    }
    out
}

fn principal_doc(
    project: &Project,
    sources: &SourceMap,
    report: Option<&Report>,
    results: &[suite::TestResult<'_>],
    p: &PrincipalInfo,
) -> PrincipalDoc {
    let mut unknown = Vec::new();
    let held = held_policies(project, sources, p, &mut unknown);
    let boundary_ref = p.boundary.as_ref().map(|b| PolicyRef {
        name: policy_name(&b.value).to_string(),
        arn: Some(b.value.clone()),
        source: project
            .policies
            .iter()
            .find(|m| m.arn.as_deref() == Some(b.value.as_str()))
            .map_or(Some("aws managed".into()), |m| location(sources, m.span)),
    });
    let boundary = p.boundary.as_ref().and_then(|b| {
        let doc = evalproject::managed_document(project, &b.value);
        if doc.is_none() {
            unknown.push(b.value.clone());
        }
        doc.map(|d| Held {
            label: format!("boundary `{}`", policy_name(&b.value)),
            source: boundary_ref.as_ref().and_then(|r| r.source.clone()),
            policy: d,
        })
    });
    // Actions denied outright: by a `Deny` on every resource with no condition.
    let mut denied: Vec<(&'static str, &'static str)> = Vec::new();
    let mut denies = Vec::new();
    for h in held.iter().chain(boundary.iter()) {
        for s in &h.policy.statements {
            if s.effect.value == Effect::Deny {
                denies.push(statement_doc(sources, &h.label, h.source.as_deref(), s));
                if s.conditions.is_empty() && on_every_resource(s) {
                    denied.extend(statement_actions(s));
                }
            }
        }
    }
    denied.sort_unstable();
    let mut table: Vec<StatementDoc> = Vec::new();
    let mut passes: BTreeMap<(&'static str, &'static str), usize> = BTreeMap::new();
    if let Some(b) = &boundary {
        for s in &b.policy.statements {
            if s.effect.value == Effect::Allow {
                table.push(statement_doc(sources, &b.label, b.source.as_deref(), s));
                for a in statement_actions(s) {
                    passes.entry(a).or_insert(table.len() - 1);
                }
            }
        }
    }
    let mut granted: BTreeMap<(&'static str, &'static str), ActionFacts> = BTreeMap::new();
    let mut cut: BTreeMap<(&'static str, &'static str), ActionFacts> = BTreeMap::new();
    for h in &held {
        for s in &h.policy.statements {
            if s.effect.value != Effect::Allow {
                continue;
            }
            table.push(statement_doc(sources, &h.label, h.source.as_deref(), s));
            let doc = table.len() - 1;
            let any = on_every_resource(s);
            for a in statement_actions(s) {
                if denied.binary_search(&a).is_ok() {
                    continue;
                }
                let through = passes.get(&a).copied();
                let target = if boundary.is_some() && through.is_none() {
                    &mut cut
                } else {
                    &mut granted
                };
                let f = target.entry(a).or_default();
                if !f.grants.contains(&doc) {
                    f.grants.push(doc);
                }
                f.any_resource |= any;
                f.boundary = through;
            }
        }
    }
    let guardrail = report.and_then(|r| {
        r.principals
            .iter()
            .find(|c| c.name == p.name)
            .map(|c| match (c.bounded, c.closed) {
                (true, true) => "closed".to_string(),
                (true, false) => "open".to_string(),
                (false, true) => "unbounded, cannot escalate".to_string(),
                (false, false) => "unbounded, can escalate".to_string(),
            })
    });
    let mut trusted = Vec::new();
    for &i in &p.documents {
        let doc = &project.documents[i];
        if doc.kind == DocumentKind::Trust {
            for s in &doc.policy.statements {
                let who = match &s.principal {
                    Some(crate::iam::Principal::Any(_)) => "anyone".to_string(),
                    Some(crate::iam::Principal::Kinds(kinds)) => kinds
                        .iter()
                        .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k} `{}`", v.value)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => "no one".to_string(),
                };
                let verb = if s.effect.value == Effect::Allow {
                    "may"
                } else {
                    "may not"
                };
                let mut line = format!("{who} {verb} {}", list_words(s.action.as_ref(), "act"));
                let conditions: Vec<String> = s.conditions.iter().map(condition_words).collect();
                if !conditions.is_empty() {
                    let _ = write!(line, ", when {}", conditions.join(" and "));
                }
                trusted.push(line);
            }
        }
    }
    let mut tests = Vec::new();
    for r in results {
        for c in &r.checked {
            let e = c.expectation;
            if e.principal == (p.kind, p.name.clone()) {
                tests.push(ExpectationDoc {
                    test: r.case.name.clone(),
                    expect: if e.attached.is_empty() && e.statements.is_empty() {
                        e.outcome.words().to_string()
                    } else {
                        format!("{}, given more policies", e.outcome.words())
                    },
                    action: e.action.clone(),
                    resource: e.resource.clone(),
                    passed: c.passed(),
                });
            }
        }
    }
    let members = if p.kind == PrincipalKind::Group {
        project
            .principals
            .iter()
            .filter(|u| u.kind == PrincipalKind::User && u.groups.contains(&p.name))
            .map(|u| u.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    PrincipalDoc {
        kind: p.kind.as_str(),
        name: p.name.clone(),
        page: page_of(p),
        arn: p.arn.clone(),
        path: p.path.clone(),
        source: location(sources, p.name_span.or(p.span)),
        description: p.description.clone(),
        docs: p.docs.clone(),
        tags: p.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        groups: p.groups.clone(),
        members,
        boundary: boundary_ref,
        attached: p
            .attached
            .iter()
            .map(|a| PolicyRef {
                name: policy_name(&a.value).to_string(),
                arn: Some(a.value.clone()),
                source: project
                    .policies
                    .iter()
                    .find(|m| m.arn.as_deref() == Some(a.value.as_str()))
                    .map_or(Some("aws managed".into()), |m| location(sources, m.span)),
            })
            .collect(),
        inline: p
            .documents
            .iter()
            .map(|&i| &project.documents[i])
            .filter(|d| d.kind != DocumentKind::Trust)
            .map(|d| PolicyRef {
                name: d.name.clone(),
                arn: None,
                source: location(sources, d.span),
            })
            .collect(),
        guardrail,
        permissions: service_docs(granted, &table),
        cut_by_boundary: service_docs(cut, &table),
        denies,
        trusted,
        passed_by: Vec::new(),
        tests,
        unknown_policies: unknown,
    }
}

/// Fills in who may pass each role: the principals whose permissions name `iam:PassRole`,
/// evaluated against the role's ARN for each service its trust policy names.
fn pass_roles(project: &Project, principals: &[&PrincipalInfo], docs: &mut [PrincipalDoc]) {
    let passers: Vec<usize> = docs
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.kind != "group"
                && d.permissions.iter().any(|s| {
                    s.prefix == "iam"
                        && s.grants
                            .iter()
                            .any(|g| g.actions.iter().any(|a| a == "iam:PassRole"))
                })
        })
        .map(|(i, _)| i)
        .collect();
    if passers.is_empty() {
        return;
    }
    let sets: Vec<Option<crate::eval::PolicySet>> = passers
        .iter()
        .map(|&i| evalproject::policy_set(project, principals[i]).ok())
        .collect();
    for (r, role) in principals.iter().enumerate() {
        let Some(arn) = role
            .arn
            .as_deref()
            .filter(|_| role.kind == PrincipalKind::Role)
        else {
            continue;
        };
        let mut services: Vec<&str> = role
            .documents
            .iter()
            .map(|&i| &project.documents[i])
            .filter(|d| d.kind == DocumentKind::Trust)
            .flat_map(|d| &d.policy.statements)
            .filter_map(|st| match &st.principal {
                Some(crate::iam::Principal::Kinds(kinds)) => kinds.get("Service"),
                _ => None,
            })
            .flatten()
            .map(|v| v.value.as_str())
            .collect();
        services.sort_unstable();
        services.dedup();
        for (&i, set) in passers.iter().zip(&sets) {
            let Some(set) = set else { continue };
            let p = principals[i];
            let mut to = Vec::new();
            for service in &services {
                let mut request = crate::eval::Request::new(
                    &evalproject::caller_arn(project, p),
                    "iam:PassRole",
                    arn,
                );
                request.context = evalproject::principal_context(project, p);
                request
                    .context
                    .insert("iam:PassedToService", vec![service.to_string()]);
                if set.evaluate(&request).kind == crate::eval::DecisionKind::Allowed {
                    to.push(format!("`{service}`"));
                }
            }
            if !to.is_empty() {
                let line = format!(
                    "[{} `{}`](../{}), to {}",
                    p.kind.as_str(),
                    p.name,
                    page_of(p),
                    to.join(", ")
                );
                docs[r].passed_by.push(line);
            }
        }
    }
}

/// Gathers the documentation of a compiled project.
pub fn model(project: &Project, sources: &SourceMap, report: Option<&Report>) -> Docs {
    let results = suite::run(project);
    let mut principals: Vec<&PrincipalInfo> = project.principals.iter().collect();
    principals.sort_by(|a, b| (a.kind.as_str(), &a.name).cmp(&(b.kind.as_str(), &b.name)));
    let mut docs: Vec<PrincipalDoc> = principals
        .iter()
        .map(|p| principal_doc(project, sources, report, &results, p))
        .collect();
    pass_roles(project, &principals, &mut docs);
    let principals = docs;
    let mut policies: Vec<PolicyDoc> = project
        .policies
        .iter()
        .map(|m| {
            let arn = m.arn.clone();
            let used_by = project
                .principals
                .iter()
                .filter(|p| {
                    let by_arn = |v: &str| arn.as_deref() == Some(v);
                    p.attached.iter().any(|a| by_arn(&a.value))
                        || p.boundary.as_ref().is_some_and(|b| by_arn(&b.value))
                })
                .map(|p| format!("{} {}", p.kind.as_str(), p.name))
                .collect();
            PolicyDoc {
                name: m.name.clone(),
                boundary: m.boundary,
                arn,
                source: location(sources, m.span),
                docs: m.docs.clone(),
                guardrail: report.and_then(|r| {
                    r.boundaries
                        .iter()
                        .find(|c| m.boundary && c.name == m.name)
                        .map(|c| if c.closed { "closed" } else { "open" }.to_string())
                }),
                used_by,
                page: format!("policies/{}.md", m.name),
                statements: project.documents[m.document]
                    .policy
                    .statements
                    .iter()
                    .map(|st| statement_doc(sources, &m.name, None, st))
                    .collect(),
            }
        })
        .collect();
    policies.sort_by(|a, b| (a.boundary, &a.name).cmp(&(b.boundary, &b.name)));
    let tests = results
        .iter()
        .map(|r| TestDoc {
            name: r.case.name.clone(),
            source: location(sources, r.case.span),
            expectations: r.checked.len(),
            passed: r.passed(),
        })
        .collect();
    Docs {
        account: project.account.clone(),
        partition: project.partition.clone(),
        guardrail: report.map(Report::summary),
        principals,
        policies,
        tests,
        edges: edges(project),
    }
}

/// The documentation as one JSON file, `docs.json`.
pub fn json(docs: &Docs) -> Vec<Artifact> {
    let mut contents = serde_json::to_string_pretty(docs).unwrap_or_default();
    contents.push('\n');
    vec![Artifact {
        path: "docs.json".into(),
        contents,
    }]
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn source_words(source: Option<&str>) -> String {
    source.map_or_else(String::new, |s| format!(" ({s})"))
}

fn statement_words(s: &StatementDoc) -> String {
    let mut out = s.policy.clone();
    if let Some(sid) = &s.sid {
        let _ = write!(out, ", statement `{sid}`");
    }
    out.push_str(&source_words(s.source.as_deref()));
    if !s.docs.is_empty() {
        let _ = write!(out, ": \"{}\"", s.docs.join(" "));
    }
    out
}

fn level_table(out: &mut String, services: &[ServiceDoc], link: bool) {
    out.push_str("| Service |");
    for l in AccessLevel::ALL {
        let _ = write!(out, " {} |", l.aws_name());
    }
    out.push_str("\n|---|");
    for _ in AccessLevel::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for s in services {
        if link {
            let _ = write!(out, "| [`{}`](#{}) |", s.prefix, s.prefix);
        } else {
            let _ = write!(out, "| `{}` |", s.prefix);
        }
        for c in &s.levels {
            let mut text = if c.total == 0 {
                "".to_string()
            } else if c.granted == 0 {
                "none".to_string()
            } else if c.granted == c.total {
                format!("all {}", c.total)
            } else {
                format!("some {}/{}", c.granted, c.total)
            };
            if c.granted > 0 && c.any_resource {
                text.push_str(" ✱");
            }
            if c.granted > 0 && c.level == AccessLevel::PermissionsManagement.aws_name() {
                text = format!("**{text}** ⚠");
            }
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    out.push_str(
        "\nCounts are actions granted out of the service's actions at that level. \
         ✱: some are granted on every resource (`*`). ⚠: permissions management.\n",
    );
}

/// Above this many actions, a page names the patterns that grant them rather than each one.
const MAX_LISTED: usize = 24;

fn grant_list(out: &mut String, services: &[ServiceDoc], through: bool) {
    for s in services {
        let _ = writeln!(out, "\n#### {}\n\n{}\n", s.prefix, s.name);
        for g in &s.grants {
            if g.all {
                let _ = writeln!(out, "- all {} actions (`{}:*`)", g.actions.len(), s.prefix);
            } else if g.actions.len() > MAX_LISTED {
                let patterns: Vec<String> = g.granted_by.iter().map(actions_words).collect();
                let _ = writeln!(
                    out,
                    "- {} actions: those of {}",
                    g.actions.len(),
                    patterns.join("; ")
                );
            } else {
                let names: Vec<String> = g.actions.iter().map(|a| format!("`{a}`")).collect();
                let _ = writeln!(out, "- {}", names.join(", "));
            }
            for st in &g.granted_by {
                let _ = writeln!(
                    out,
                    "  - granted by {}: on {}",
                    statement_words(st),
                    st.resources
                );
                for c in &st.conditions {
                    let _ = writeln!(out, "    - when {c}");
                }
            }
            if through {
                if let Some(b) = &g.boundary {
                    let _ = writeln!(out, "  - let through by {}", statement_words(b));
                }
            }
        }
    }
}

fn policy_ref_words(r: &PolicyRef) -> String {
    format!("`{}`{}", r.name, source_words(r.source.as_deref()))
}

/// The principal's page.
fn principal_page(docs: &Docs, p: &PrincipalDoc) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} `{}`\n", capital(p.kind), p.name);
    for line in &p.docs {
        let _ = writeln!(out, "{line}");
    }
    if !p.docs.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "[Back to the index](../index.md)\n");
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(out, "| Kind | {} |", p.kind);
    if let Some(arn) = &p.arn {
        let _ = writeln!(out, "| ARN | `{arn}` |");
    }
    let _ = writeln!(out, "| Path | `{}` |", p.path);
    if let Some(source) = &p.source {
        let _ = writeln!(out, "| Source | {source} |");
    }
    if let Some(d) = &p.description {
        let _ = writeln!(out, "| Description | {} |", cell(d));
    }
    if !p.tags.is_empty() {
        let tags: Vec<String> = p.tags.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
        let _ = writeln!(out, "| Tags | {} |", cell(&tags.join(", ")));
    }
    if !p.groups.is_empty() {
        let groups: Vec<String> = p
            .groups
            .iter()
            .map(|g| format!("[`{g}`](../groups/{g}.md)"))
            .collect();
        let _ = writeln!(out, "| Groups | {} |", groups.join(", "));
    }
    if !p.members.is_empty() {
        let members: Vec<String> = p
            .members
            .iter()
            .map(|u| format!("[`{u}`](../users/{u}.md)"))
            .collect();
        let _ = writeln!(out, "| Members | {} |", members.join(", "));
    }
    let boundary = p
        .boundary
        .as_ref()
        .map_or("none".to_string(), policy_ref_words);
    let _ = writeln!(out, "| Boundary | {} |", cell(&boundary));
    let attached: Vec<String> = p.attached.iter().map(policy_ref_words).collect();
    let _ = writeln!(
        out,
        "| Attached policies | {} |",
        if attached.is_empty() {
            "none".into()
        } else {
            cell(&attached.join(", "))
        }
    );
    let inline: Vec<String> = p.inline.iter().map(policy_ref_words).collect();
    let _ = writeln!(
        out,
        "| Inline policies | {} |",
        if inline.is_empty() {
            "none".into()
        } else {
            cell(&inline.join(", "))
        }
    );
    if let Some(g) = &p.guardrail {
        let _ = writeln!(out, "| Guardrail | {g} |");
    }
    out.push_str("\n## Effective permissions\n\n");
    if p.kind == "group" {
        out.push_str("What the group's policies give each of its members (before their own policies and boundaries).\n\n");
    } else if p.boundary.is_some() {
        out.push_str("What its identity policies grant and its boundary lets through.\n\n");
    } else {
        out.push_str("What its identity policies grant: it has no boundary.\n\n");
    }
    for u in &p.unknown_policies {
        let _ = writeln!(
            out,
            "iamx has no document for `{u}`: what it grants is not shown.\n"
        );
    }
    if p.permissions.is_empty() {
        out.push_str("Nothing.\n");
    } else {
        level_table(&mut out, &p.permissions, true);
        grant_list(&mut out, &p.permissions, true);
    }
    if p.boundary.is_some() {
        out.push_str("\n## Cut by the boundary\n\n");
        if p.cut_by_boundary.is_empty() {
            out.push_str(
                "Nothing: the boundary lets through every action the identity policies grant.\n",
            );
        } else {
            out.push_str("Granted by its identity policies, but no statement of the boundary allows them.\n\n");
            level_table(&mut out, &p.cut_by_boundary, false);
            grant_list(&mut out, &p.cut_by_boundary, false);
        }
    }
    out.push_str("\n## Explicit denies\n\n");
    if p.denies.is_empty() {
        out.push_str("None.\n");
    }
    for d in &p.denies {
        let _ = writeln!(
            out,
            "- {} on {}, by {}",
            actions_words(d),
            d.resources,
            statement_words(d)
        );
        for c in &d.conditions {
            let _ = writeln!(out, "  - when {c}");
        }
    }
    if p.kind == "role" {
        out.push_str("\n## Who can assume it\n\n");
        if p.trusted.is_empty() {
            out.push_str("No one.\n");
        }
        for t in &p.trusted {
            let _ = writeln!(out, "- {t}");
        }
        out.push_str("\n## Who can pass it\n\n");
        if p.passed_by.is_empty() {
            out.push_str("No principal of the project may pass it to a service that trusts it.\n");
        }
        for t in &p.passed_by {
            let _ = writeln!(out, "- {t}");
        }
    }
    if let Some(g) = &p.guardrail {
        out.push_str("\n## The guardrail\n\n");
        let boundary = p
            .boundary
            .as_ref()
            .map_or(String::new(), |b| format!("`{}`", b.name));
        let words = match g.as_str() {
            "closed" => format!(
                "Closed: the analysis proved that nothing it may do takes it, or a principal it creates, outside its boundary {boundary}. See [the guardrail](../index.md#guardrail)."
            ),
            "open" => format!(
                "Open: it can reach permissions its boundary {boundary} does not give. `iamx check` reports how, as warnings."
            ),
            "unbounded, cannot escalate" => "It has no boundary, and the analysis found no way for it to give itself more permissions.".to_string(),
            _ => "It has no boundary, and can give itself more permissions. `iamx check` reports how, as warnings.".to_string(),
        };
        let _ = writeln!(out, "{words}");
    }
    out.push_str("\n## Tests\n\n");
    if p.tests.is_empty() {
        out.push_str("No test names it.\n");
    } else {
        out.push_str("| Test | Expects | Action | Resource | Result |\n|---|---|---|---|---|\n");
        for t in &p.tests {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | `{}` | {} |",
                cell(&t.test),
                t.expect,
                t.action,
                cell(&t.resource),
                if t.passed { "passes" } else { "fails" }
            );
        }
    }
    let _ = docs;
    out
}

fn capital(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

fn index_page(docs: &Docs) -> String {
    let mut out = String::from("# IAM documentation\n\n");
    match &docs.account {
        Some(a) => {
            let _ = writeln!(out, "Account `{a}`, partition `{}`.\n", docs.partition);
        }
        None => {
            let _ = writeln!(
                out,
                "No account declared; partition `{}`.\n",
                docs.partition
            );
        }
    }
    if !docs.principals.is_empty() {
        out.push_str("## Diagram\n\n");
        if docs.principals.len() > MAX_DIAGRAM {
            let _ = writeln!(
                out,
                "{} principals are too many for one readable diagram.\n",
                docs.principals.len()
            );
        } else {
            out.push_str("Who is in which group, who carries which boundary, and who may assume which role.\n\n");
            out.push_str(&diagram(docs));
            out.push('\n');
        }
    }
    out.push_str("## Principals\n\n");
    if docs.principals.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| Principal | Kind | Path | Boundary | Guardrail | Services |\n|---|---|---|---|---|---|\n");
        for p in &docs.principals {
            let services: Vec<String> = p
                .permissions
                .iter()
                .map(|s| format!("`{}`", s.prefix))
                .collect();
            let _ = writeln!(
                out,
                "| [`{}`]({}) | {} | `{}` | {} | {} | {} |",
                p.name,
                p.page,
                p.kind,
                p.path,
                p.boundary
                    .as_ref()
                    .map_or("none".into(), |b| format!("`{}`", b.name)),
                p.guardrail.as_deref().unwrap_or(""),
                services.join(", ")
            );
        }
    }
    out.push_str("\n## Policies and boundaries\n\n");
    if docs.policies.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| Policy | Kind | Source | Used by | Guardrail |\n|---|---|---|---|---|\n");
        for m in &docs.policies {
            let used: Vec<String> = m.used_by.iter().map(|u| format!("`{u}`")).collect();
            let _ = writeln!(
                out,
                "| [`{}`]({}) | {} | {} | {} | {} |",
                m.name,
                m.page,
                if m.boundary { "boundary" } else { "policy" },
                m.source.as_deref().unwrap_or(""),
                if used.is_empty() {
                    "no one".to_string()
                } else {
                    used.join(", ")
                },
                m.guardrail.as_deref().unwrap_or("")
            );
        }
        for m in docs.policies.iter().filter(|m| !m.docs.is_empty()) {
            let _ = writeln!(out, "\n### `{}`\n\n{}", m.name, m.docs.join("\n"));
        }
    }
    out.push_str("\n## Guardrail\n\n");
    let _ = writeln!(
        out,
        "{}",
        docs.guardrail
            .as_deref()
            .map_or("The guardrail was not analysed.".to_string(), |g| {
                format!("{}.", capital(g.strip_prefix("guardrail: ").unwrap_or(g)))
            })
    );
    out.push_str("\n## Tests\n\n");
    if docs.tests.is_empty() {
        out.push_str("None.\n");
    } else {
        let passed = docs.tests.iter().filter(|t| t.passed).count();
        let _ = writeln!(out, "{passed} of {} pass.\n", docs.tests.len());
        out.push_str("| Test | Expectations | Source | Result |\n|---|---|---|---|\n");
        for t in &docs.tests {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&t.name),
                t.expectations,
                t.source.as_deref().unwrap_or(""),
                if t.passed { "passes" } else { "fails" }
            );
        }
    }
    out
}

/// The documentation as Markdown: `index.md` and one page per principal.
pub fn markdown(docs: &Docs) -> Vec<Artifact> {
    let mut out = vec![Artifact {
        path: "index.md".into(),
        contents: index_page(docs),
    }];
    for p in &docs.principals {
        out.push(Artifact {
            path: p.page.clone(),
            contents: principal_page(docs, p),
        });
    }
    for m in &docs.policies {
        out.push(Artifact {
            path: m.page.clone(),
            contents: policy_page(docs, m),
        });
    }
    out
}

/// The page of a customer managed policy or boundary.
fn policy_page(docs: &Docs, m: &PolicyDoc) -> String {
    let kind = if m.boundary { "Boundary" } else { "Policy" };
    let mut out = format!("# {kind} `{}`\n\n", m.name);
    for line in &m.docs {
        let _ = writeln!(out, "{line}");
    }
    if !m.docs.is_empty() {
        out.push('\n');
    }
    out.push_str("[Back to the index](../index.md)\n\n| | |\n|---|---|\n");
    if let Some(arn) = &m.arn {
        let _ = writeln!(out, "| ARN | `{arn}` |");
    }
    if let Some(source) = &m.source {
        let _ = writeln!(out, "| Source | {source} |");
    }
    let used: Vec<String> = m
        .used_by
        .iter()
        .map(|u| {
            match docs
                .principals
                .iter()
                .find(|p| format!("{} {}", p.kind, p.name) == *u)
            {
                Some(p) => format!("[{} `{}`](../{})", p.kind, p.name, p.page),
                None => format!("`{u}`"),
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "| {} | {} |",
        if m.boundary {
            "Carried by"
        } else {
            "Attached to"
        },
        if used.is_empty() {
            "no one".to_string()
        } else {
            used.join(", ")
        }
    );
    if let Some(g) = &m.guardrail {
        let _ = writeln!(out, "| Guardrail | {g} |");
    }
    out.push_str("\n## Statements\n\n");
    if m.statements.is_empty() {
        out.push_str("None.\n");
    }
    for s in &m.statements {
        let verb = if s.effect == "Allow" {
            "Allows"
        } else {
            "Denies"
        };
        let mut head = format!("- {verb} {} on {}", actions_words(s), s.resources);
        if let Some(sid) = &s.sid {
            let _ = write!(head, ", statement `{sid}`");
        }
        head.push_str(&source_words(s.source.as_deref()));
        let _ = writeln!(out, "{head}");
        for d in &s.docs {
            let _ = writeln!(out, "  - {d}");
        }
        for c in &s.conditions {
            let _ = writeln!(out, "  - when {c}");
        }
    }
    out
}
