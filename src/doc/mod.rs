//! `iamx doc`: documentation generated from a compiled project. [`model`] gathers what the
//! pages say (who each principal is, what it may do after its boundary, what the boundary
//! cuts, the guardrail and the tests); [`markdown`] and [`json`] write it out, and
//! [`graph`] draws the diagrams.
//!
//! Effective permissions are worked out per action from the embedded AWS reference: an action
//! is granted when an `Allow` statement of the principal's identity policies (inline, attached,
//! its groups') names it, passes when an `Allow` statement of its boundary names it too, and is
//! lost when a `Deny` names it on every resource with no condition. What it reaches is the
//! intersection of each grant with each boundary statement that lets it through: the
//! resources both name ([`reach`]) and the conditions of both.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use serde::Serialize;

use crate::awsdb::{self, AccessLevel};
use crate::diag::Diagnostic;
use crate::emit::Artifact;
use crate::eval::{project as evalproject, suite};
use crate::guardrail::Report;
use crate::iam::{DocumentKind, Effect, Policy, PrincipalInfo, PrincipalKind, Project, Statement};
use crate::source::{SourceMap, Span};

pub mod graph;
mod markdown;
pub mod reach;

pub use markdown::markdown;
use reach::Resources;

/// Everything the documentation says.
#[derive(Debug, Serialize)]
pub struct Docs {
    pub account: Option<String>,
    pub partition: String,
    /// The guardrail's summary, in words.
    pub guardrail: Option<String>,
    pub principals: Vec<PrincipalDoc>,
    pub policies: Vec<PolicyDoc>,
    pub tests: Vec<TestDoc>,
    /// Who is in which group, bounded by which boundary, may assume or pass which role.
    pub edges: Vec<Edge>,
}

/// An edge of the diagrams, between things named as `user alice`, `boundary B`,
/// `service lambda.amazonaws.com`, `account 111122223333`.
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// `member of`, `bounded by`, `may assume`, `may pass to lambda.amazonaws.com`.
    pub label: String,
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
    /// For an open boundary: the requests its holders can make to get out.
    pub openings: Vec<OpeningDoc>,
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
    /// A role's `max session`, in seconds.
    pub max_session: Option<u32>,
    /// A role's `instance profile`: the profile's name.
    pub instance_profile: Option<String>,
    /// `closed`, `open`, `unbounded, cannot escalate` or `unbounded, can escalate`.
    pub guardrail: Option<String>,
    /// When the guardrail is open: the requests that open it (its own findings, then its
    /// boundary's).
    pub openings: Vec<OpeningDoc>,
    pub permissions: Vec<ServiceDoc>,
    pub cut_by_boundary: Vec<ServiceDoc>,
    pub denies: Vec<StatementDoc>,
    pub trusted: Vec<TrustDoc>,
    /// The project's principals that may pass it (`iam:PassRole`), with the services.
    pub passed_by: Vec<PassDoc>,
    pub tests: Vec<ExpectationDoc>,
    /// Managed policies iamx has no document for: their permissions are not shown.
    pub unknown_policies: Vec<String>,
}

/// One statement of a trust policy: who may (or may not) assume the role, and when.
#[derive(Debug, Serialize)]
pub struct TrustDoc {
    pub effect: &'static str,
    pub who: Vec<WhoDoc>,
    pub actions: Vec<String>,
    pub conditions: Vec<ConditionDoc>,
}

/// A principal a trust policy names.
#[derive(Debug, Serialize)]
pub struct WhoDoc {
    /// `AWS`, `Service`, `Federated`, `CanonicalUser`, or `*` for anyone.
    pub kind: String,
    pub value: String,
    /// The project's principal it is, as `user alice`, when it is one.
    pub principal: Option<String>,
}

/// A principal of the project that may pass a role, and to which services.
#[derive(Debug, Serialize)]
pub struct PassDoc {
    pub kind: &'static str,
    pub name: String,
    pub page: String,
    pub services: Vec<String>,
}

/// A request that gets out of the guardrail, as the analysis found it.
#[derive(Debug, Serialize)]
pub struct OpeningDoc {
    /// The warning's code (`W0601`).
    pub code: &'static str,
    /// Who makes it: the principal itself, or whoever carries its boundary.
    pub by: String,
    /// What it can do, in words (`can create a user with no permissions boundary`).
    pub what: String,
    /// The request: action, resource and the context keys that matter.
    pub action: Option<String>,
    pub resource: Option<String>,
    pub context: Vec<String>,
    /// The statement that allows it (`file:line`).
    pub source: Option<String>,
    pub fix: Option<String>,
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
    /// Some of the actions are granted (or cut) on every resource (`*`).
    pub any_resource: bool,
}

/// Actions granted by the same statements and let through by the same boundary statements.
#[derive(Clone, Debug, Serialize)]
pub struct GrantGroup {
    pub actions: Vec<String>,
    /// All the service's actions.
    pub all: bool,
    pub granted_by: Vec<StatementDoc>,
    /// The boundary statements that name them.
    pub let_through_by: Vec<StatementDoc>,
    /// What the principal may do with them: for each grant and each boundary statement,
    /// the resources both name and the conditions of both.
    pub reach: Vec<ReachDoc>,
    /// What the boundary cuts of each grant.
    pub cut: Vec<CutDoc>,
}

/// One grant through one boundary statement.
#[derive(Clone, Debug, Serialize)]
pub struct ReachDoc {
    /// Index into `granted_by`.
    pub grant: usize,
    /// Index into `let_through_by`; `None` without a boundary.
    pub through: Option<usize>,
    #[serde(flatten)]
    pub resources: reach::ResourceSet,
    /// The grant's conditions and the boundary statement's: all must hold.
    pub conditions: Vec<ConditionDoc>,
    /// The boundary narrows the grant: fewer resources or more conditions.
    pub narrowed: bool,
}

/// What the boundary cuts of one grant.
#[derive(Clone, Debug, Serialize)]
pub struct CutDoc {
    /// Index into `granted_by`.
    pub grant: usize,
    #[serde(flatten)]
    pub cut: reach::Cut,
}

/// Which policy a statement is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyLabel {
    /// `inline`, `managed`, `aws managed` or `boundary`.
    pub kind: &'static str,
    pub name: String,
    /// The group it comes through, for a user.
    pub group: Option<String>,
}

/// A statement, as data, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementDoc {
    /// `Allow` or `Deny`.
    pub effect: &'static str,
    pub policy: PolicyLabel,
    pub sid: Option<String>,
    pub source: Option<String>,
    /// The `Action` patterns as written (for a grant: those of its service only).
    pub actions: Vec<String>,
    /// They are written as `NotAction`: every action but those.
    pub not_action: bool,
    pub resources: Vec<String>,
    /// They are written as `NotResource`: every resource but those.
    pub not_resource: bool,
    pub conditions: Vec<ConditionDoc>,
    /// Its `///` doc comments.
    pub docs: Vec<String>,
}

/// A condition: its IAM form, and in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConditionDoc {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    /// In plain words: `iam:PermissionsBoundary is arn:aws:iam::123456789012:policy/B`.
    pub words: String,
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

/// A condition in words; `code` writes a key or a value (as a code span, or as it is).
pub(crate) fn condition_words(
    operator: &str,
    key: &str,
    values: &[String],
    code: &dyn Fn(&str) -> String,
) -> String {
    let one = |v: &str| values.len() == 1 && values[0].eq_ignore_ascii_case(v);
    match (operator, key.to_ascii_lowercase().as_str()) {
        ("Bool", "aws:multifactorauthpresent") if one("true") => {
            return "the caller signed in with MFA".into()
        }
        ("Bool" | "BoolIfExists", "aws:multifactorauthpresent") if one("false") => {
            return "the caller did not sign in with MFA".into()
        }
        ("Bool", "aws:securetransport") if one("true") => {
            return "the request comes over TLS (HTTPS)".into()
        }
        ("Bool", "aws:securetransport") if one("false") => {
            return "the request does not come over TLS".into()
        }
        ("Null", _) if one("true") => return format!("{} is absent", code(key)),
        ("Null", _) if one("false") => return format!("{} is present", code(key)),
        _ => {}
    }
    let (set, op) = if let Some(op) = operator.strip_prefix("ForAnyValue:") {
        (Some("one of the values of"), op)
    } else if let Some(op) = operator.strip_prefix("ForAllValues:") {
        (Some("every value of"), op)
    } else {
        (None, operator)
    };
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (op, false),
    };
    let quoted: Vec<String> = values.iter().map(|v| code(v)).collect();
    let either = |words: &[String], last: &str| match words.len() {
        0 => "nothing".to_string(),
        1 => words[0].clone(),
        n => format!("{} {last} {}", words[..n - 1].join(", "), words[n - 1]),
    };
    let any = either(&quoted, "or");
    let verb = match op {
        "StringEquals" | "ArnEquals" | "NumericEquals" | "DateEquals" | "Bool" | "BinaryEquals" => {
            format!("is {any}")
        }
        "StringEqualsIgnoreCase" => format!("is {any}, in any case"),
        "StringNotEquals"
        | "ArnNotEquals"
        | "NumericNotEquals"
        | "DateNotEquals"
        | "StringNotEqualsIgnoreCase" => {
            if quoted.len() > 1 {
                format!("is none of {}", either(&quoted, "and"))
            } else {
                format!("is not {any}")
            }
        }
        "StringLike" | "ArnLike" => format!("matches {any}"),
        "StringNotLike" | "ArnNotLike" => {
            if quoted.len() > 1 {
                format!("matches none of {}", either(&quoted, "and"))
            } else {
                format!("does not match {any}")
            }
        }
        "IpAddress" => format!("is in {any}"),
        "NotIpAddress" => format!("is in none of {}", either(&quoted, "and")),
        "NumericLessThan" => format!("is less than {any}"),
        "NumericLessThanEquals" => format!("is at most {any}"),
        "NumericGreaterThan" => format!("is more than {any}"),
        "NumericGreaterThanEquals" => format!("is at least {any}"),
        "DateLessThan" => format!("is before {any}"),
        "DateLessThanEquals" => format!("is at or before {any}"),
        "DateGreaterThan" => format!("is after {any}"),
        "DateGreaterThanEquals" => format!("is at or after {any}"),
        _ => {
            return format!(
                "{} holds for {} and {}",
                code(operator),
                code(key),
                either(&quoted, "or")
            )
        }
    };
    let subject = match set {
        Some(set) => format!("{set} {}", code(key)),
        None => code(key),
    };
    if if_exists {
        format!("{subject} {verb}, or is absent")
    } else {
        format!("{subject} {verb}")
    }
}

fn condition_doc(c: &crate::iam::Condition) -> ConditionDoc {
    ConditionDoc {
        operator: c.operator.clone(),
        key: c.key.clone(),
        values: c.values.clone(),
        words: condition_words(&c.operator, &c.key, &c.values, &|s| s.to_string()),
    }
}

fn statement_doc(
    sources: &SourceMap,
    policy: &PolicyLabel,
    source: Option<&str>,
    s: &Statement,
) -> StatementDoc {
    let r = Resources::of(s);
    StatementDoc {
        effect: s.effect.value.as_str(),
        policy: policy.clone(),
        sid: s.sid.as_ref().map(|sid| sid.value.clone()),
        source: location(sources, s.span).or_else(|| source.map(str::to_string)),
        actions: s
            .action
            .as_ref()
            .map(|b| b.values.iter().map(|v| v.value.clone()).collect())
            .unwrap_or_default(),
        not_action: s.action.as_ref().is_some_and(|b| b.not),
        resources: r.values,
        not_resource: r.not,
        conditions: s.conditions.iter().map(condition_doc).collect(),
        docs: s.docs.clone(),
    }
}

type Action = (&'static str, &'static str);

/// The actions a statement's `Action` or `NotAction` names, as `(prefix, name)`, sorted.
fn statement_actions(s: &Statement) -> Vec<Action> {
    let Some(block) = &s.action else {
        return Vec::new();
    };
    let mut named: Vec<Action> = Vec::new();
    if block.not {
        let mut excluded: Vec<Action> = block
            .values
            .iter()
            .flat_map(|v| awsdb::actions_matching(&v.value))
            .map(|(s, a)| (s.prefix, a.name))
            .collect();
        excluded.sort_unstable();
        for (s, a) in awsdb::actions_matching("*") {
            if excluded.binary_search(&(s.prefix, a.name)).is_err() {
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

/// What `iamx doc` works out once per policy rather than once per principal that holds it:
/// managed documents, and the actions each statement names (AWS managed policies such as
/// `ReadOnlyAccess` name thousands).
#[derive(Default)]
struct Cache {
    documents: HashMap<String, Option<Rc<Policy>>>,
    actions: HashMap<(String, usize), Rc<Vec<Action>>>,
    rows: HashMap<(String, &'static str, usize, Option<String>), Rc<Row>>,
}

impl Cache {
    /// Statement `i` of a held policy, as a row of the table.
    fn row(&mut self, sources: &SourceMap, h: &Held, i: usize, s: &Statement) -> Rc<Row> {
        self.rows
            .entry((h.key.clone(), h.label.kind, i, h.label.group.clone()))
            .or_insert_with(|| {
                Rc::new(Row::new(
                    statement_doc(sources, &h.label, h.source.as_deref(), s),
                    s,
                ))
            })
            .clone()
    }

    fn document(&mut self, project: &Project, arn: &str) -> Option<Rc<Policy>> {
        self.documents
            .entry(arn.to_string())
            .or_insert_with(|| evalproject::managed_document(project, arn).map(Rc::new))
            .clone()
    }

    /// The actions statement `i` of the policy `key` names.
    fn actions(&mut self, key: &str, i: usize, s: &Statement) -> Rc<Vec<Action>> {
        self.actions
            .entry((key.to_string(), i))
            .or_insert_with(|| Rc::new(statement_actions(s)))
            .clone()
    }
}

/// A policy a principal holds, labelled.
struct Held {
    label: PolicyLabel,
    /// What the cache knows it by: the managed policy's ARN, or the inline document's index.
    key: String,
    source: Option<String>,
    policy: Rc<Policy>,
}

fn managed_source(project: &Project, sources: &SourceMap, arn: &str) -> Option<String> {
    project
        .policies
        .iter()
        .find(|m| m.arn.as_deref() == Some(arn))
        .map_or(Some("aws managed".into()), |m| location(sources, m.span))
}

fn held_policies(
    project: &Project,
    sources: &SourceMap,
    cache: &mut Cache,
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
        let group = (!std::ptr::eq(p, principal)).then(|| p.name.clone());
        for &i in &p.documents {
            let doc = &project.documents[i];
            if doc.kind != DocumentKind::Trust {
                held.push(Held {
                    label: PolicyLabel {
                        kind: "inline",
                        name: doc.name.clone(),
                        group: group.clone(),
                    },
                    key: format!("document {i}"),
                    source: location(sources, doc.span),
                    policy: Rc::new(doc.policy.clone()),
                });
            }
        }
        for a in &p.attached {
            match cache.document(project, &a.value) {
                Some(policy) => {
                    let source = managed_source(project, sources, &a.value);
                    held.push(Held {
                        label: PolicyLabel {
                            kind: if source.as_deref() == Some("aws managed") {
                                "aws managed"
                            } else {
                                "managed"
                            },
                            name: policy_name(&a.value).to_string(),
                            group: group.clone(),
                        },
                        key: a.value.clone(),
                        source,
                        policy,
                    });
                }
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

fn policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A statement of the table: its words, its resources, and its action patterns by the
/// service they name.
struct Row {
    doc: StatementDoc,
    resources: Resources,
    /// Indices into `doc.actions` of the patterns naming one service (`s3:Get*`).
    by_service: HashMap<String, Vec<usize>>,
    /// Those whose service part has wildcards (`*`, `s*:Get*`).
    wild: Vec<usize>,
}

impl Row {
    fn new(doc: StatementDoc, s: &Statement) -> Row {
        let mut by_service: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wild = Vec::new();
        for (i, a) in doc.actions.iter().enumerate() {
            match a.split_once(':') {
                Some((service, _)) if !service.contains(['*', '?']) => {
                    by_service
                        .entry(service.to_ascii_lowercase())
                        .or_default()
                        .push(i);
                }
                _ => wild.push(i),
            }
        }
        Row {
            doc,
            resources: Resources::of(s),
            by_service,
            wild,
        }
    }
}

/// A statement of the table, with only the action patterns that name service `prefix`.
fn for_service(table: &[Rc<Row>], i: usize, prefix: &str) -> StatementDoc {
    let row = &table[i];
    let mut kept: Vec<usize> = row.by_service.get(prefix).cloned().unwrap_or_default();
    kept.extend(
        row.wild
            .iter()
            .copied()
            .filter(|&j| pattern_names_service(&row.doc.actions[j], prefix)),
    );
    kept.sort_unstable();
    StatementDoc {
        effect: row.doc.effect,
        policy: row.doc.policy.clone(),
        sid: row.doc.sid.clone(),
        source: row.doc.source.clone(),
        actions: kept.iter().map(|&j| row.doc.actions[j].clone()).collect(),
        not_action: row.doc.not_action,
        resources: row.doc.resources.clone(),
        not_resource: row.doc.not_resource,
        conditions: row.doc.conditions.clone(),
        docs: row.doc.docs.clone(),
    }
}

/// The statements that name an action: the grants and the boundary's.
type Key = (Vec<usize>, Vec<usize>, Vec<usize>);

/// The group of actions granted by `grants` and named by the boundary's `throughs`: what
/// they reach and what the boundary cuts.
fn grant_group(
    table: &[Rc<Row>],
    (grants, throughs, denied_on): &Key,
    deny_on: &[Resources],
    bounded: bool,
    prefix: &str,
    actions: Vec<String>,
) -> GrantGroup {
    let mut reach = Vec::new();
    let mut cut = Vec::new();
    for (gi, &g) in grants.iter().enumerate() {
        let gr = &table[g];
        // What the denies without conditions take out of a set of resources.
        let less_denied = |set: reach::ResourceSet| {
            denied_on
                .iter()
                .try_fold(set, |set, &d| reach::subtract(set, &deny_on[d]))
        };
        if !bounded {
            if let Some(resources) = less_denied(gr.resources.as_set()) {
                reach.push(ReachDoc {
                    grant: gi,
                    through: None,
                    narrowed: !resources.is(&gr.resources),
                    resources,
                    conditions: gr.doc.conditions.clone(),
                });
            }
            continue;
        }
        for (bi, &b) in throughs.iter().enumerate() {
            let br = &table[b];
            if let Some(resources) =
                reach::intersect(&gr.resources, &br.resources).and_then(less_denied)
            {
                let mut conditions = gr.doc.conditions.clone();
                for c in &br.doc.conditions {
                    if !conditions.contains(c) {
                        conditions.push(c.clone());
                    }
                }
                reach.push(ReachDoc {
                    grant: gi,
                    through: Some(bi),
                    narrowed: !resources.is(&gr.resources)
                        || conditions.len() > gr.doc.conditions.len(),
                    resources,
                    conditions,
                });
            }
        }
        let bs: Vec<(&Resources, bool)> = throughs
            .iter()
            .map(|&b| (&table[b].resources, !table[b].doc.conditions.is_empty()))
            .collect();
        if let Some(c) = reach::cut(&gr.resources, &bs) {
            cut.push(CutDoc { grant: gi, cut: c });
        }
    }
    GrantGroup {
        actions,
        all: false,
        granted_by: grants
            .iter()
            .map(|&i| for_service(table, i, prefix))
            .collect(),
        let_through_by: throughs
            .iter()
            .map(|&i| for_service(table, i, prefix))
            .collect(),
        reach,
        cut,
    }
}

/// Per service: the level table and the groups, of the actions `keep` keeps.
fn service_docs(
    groups: &BTreeMap<&'static str, Vec<(GrantGroup, Vec<&'static str>)>>,
    keep: &dyn Fn(&GrantGroup) -> bool,
    any: &dyn Fn(&GrantGroup) -> bool,
) -> Vec<ServiceDoc> {
    let mut out = Vec::new();
    for (&prefix, gs) in groups {
        let Some(service) = awsdb::service(prefix) else {
            continue;
        };
        let kept: Vec<&(GrantGroup, Vec<&'static str>)> =
            gs.iter().filter(|(g, _)| keep(g)).collect();
        if kept.is_empty() {
            continue;
        }
        // Each action's level, looked up once; the service's totals, counted once.
        let slot = |level: AccessLevel| AccessLevel::ALL.iter().position(|&l| l == level);
        let mut total = [0usize; 5];
        for a in &service.actions {
            if let Some(i) = slot(a.primary_access_level()) {
                total[i] += 1;
            }
        }
        let mut granted = [0usize; 5];
        let mut any_resource = [false; 5];
        for (g, names) in &kept {
            let every = any(g);
            for n in names {
                if let Some(i) = service
                    .action(n)
                    .and_then(|a| slot(a.primary_access_level()))
                {
                    granted[i] += 1;
                    any_resource[i] |= every;
                }
            }
        }
        let levels = AccessLevel::ALL
            .iter()
            .enumerate()
            .map(|(i, &level)| LevelCell {
                level: level.aws_name(),
                granted: granted[i],
                total: total[i],
                any_resource: any_resource[i],
            })
            .collect();
        let count: usize = kept.iter().map(|(_, n)| n.len()).sum();
        let mut grants: Vec<GrantGroup> = kept.iter().map(|(g, _)| g.clone()).collect();
        if grants.len() == 1 && count == service.actions.len() {
            grants[0].all = true;
        }
        out.push(ServiceDoc {
            prefix: prefix.to_string(),
            name: service.name.to_string(),
            levels,
            grants,
        });
    }
    out
}

/// The warnings the guardrail reported about a principal or a boundary, as openings.
fn openings(sources: &SourceMap, by: &str, found: &[Diagnostic]) -> Vec<OpeningDoc> {
    found
        .iter()
        .filter_map(|d| {
            let request = d.label.as_deref()?.strip_prefix("allows `")?;
            let (action, rest) = request.split_once("` on `")?;
            let (resource, rest) = rest.split_once('`')?;
            let context = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .map(|r| r.split(", ").map(str::to_string).collect())
                .unwrap_or_default();
            let what = match d.message.split_once(": its holder ") {
                Some((_, what)) => what.to_string(),
                None => d
                    .message
                    .split_once("` ")
                    .map_or(d.message.clone(), |(_, w)| w.to_string()),
            };
            Some(OpeningDoc {
                code: d.code.as_str(),
                by: by.to_string(),
                what,
                action: Some(action.to_string()),
                resource: Some(resource.to_string()),
                context,
                source: location(sources, d.span),
                fix: d.help.clone(),
            })
        })
        .collect()
}

fn who_of(project: &Project, kind: &str, value: &str) -> WhoDoc {
    WhoDoc {
        kind: kind.to_string(),
        value: value.to_string(),
        principal: project
            .principals
            .iter()
            .find(|q| q.arn.as_deref() == Some(value))
            .map(|q| format!("{} {}", q.kind.as_str(), q.name)),
    }
}

fn trust_docs(project: &Project, p: &PrincipalInfo) -> Vec<TrustDoc> {
    let mut trusted = Vec::new();
    for &i in &p.documents {
        let doc = &project.documents[i];
        if doc.kind != DocumentKind::Trust {
            continue;
        }
        for s in &doc.policy.statements {
            let who = match &s.principal {
                Some(crate::iam::Principal::Any(_)) => vec![WhoDoc {
                    kind: "*".into(),
                    value: "*".into(),
                    principal: None,
                }],
                Some(crate::iam::Principal::Kinds(kinds)) => kinds
                    .iter()
                    .flat_map(|(k, vs)| vs.iter().map(move |v| (k, v)))
                    .map(|(k, v)| who_of(project, k, &v.value))
                    .collect(),
                None => Vec::new(),
            };
            trusted.push(TrustDoc {
                effect: s.effect.value.as_str(),
                who,
                actions: s
                    .action
                    .as_ref()
                    .map(|b| b.values.iter().map(|v| v.value.clone()).collect())
                    .unwrap_or_default(),
                conditions: s.conditions.iter().map(condition_doc).collect(),
            });
        }
    }
    trusted
}

fn principal_doc(
    project: &Project,
    sources: &SourceMap,
    report: Option<&Report>,
    results: &[suite::TestResult<'_>],
    cache: &mut Cache,
    p: &PrincipalInfo,
) -> PrincipalDoc {
    let mut unknown = Vec::new();
    let held = held_policies(project, sources, cache, p, &mut unknown);
    let boundary_ref = p.boundary.as_ref().map(|b| PolicyRef {
        name: policy_name(&b.value).to_string(),
        arn: Some(b.value.clone()),
        source: managed_source(project, sources, &b.value),
    });
    let boundary = p.boundary.as_ref().and_then(|b| {
        let doc = cache.document(project, &b.value);
        if doc.is_none() {
            unknown.push(b.value.clone());
        }
        doc.map(|d| Held {
            label: PolicyLabel {
                kind: "boundary",
                name: policy_name(&b.value).to_string(),
                group: None,
            },
            key: b.value.clone(),
            source: boundary_ref.as_ref().and_then(|r| r.source.clone()),
            policy: d,
        })
    });
    // Actions denied outright: by a `Deny` on every resource with no condition.
    let mut denied: Vec<Action> = Vec::new();
    // Denies with no condition on some resources: the actions each names, and where.
    let mut denied_on: Vec<(Rc<Vec<Action>>, Resources)> = Vec::new();
    let mut denies = Vec::new();
    for h in held.iter().chain(boundary.iter()) {
        for (i, s) in h.policy.statements.iter().enumerate() {
            if s.effect.value == Effect::Deny {
                denies.push(statement_doc(sources, &h.label, h.source.as_deref(), s));
                if s.conditions.is_empty() && on_every_resource(s) {
                    denied.extend(cache.actions(&h.key, i, s).iter().copied());
                } else if s.conditions.is_empty() {
                    denied_on.push((cache.actions(&h.key, i, s), Resources::of(s)));
                }
            }
        }
    }
    denied.sort_unstable();
    let mut table: Vec<Rc<Row>> = Vec::new();
    let mut passes: HashMap<Action, Vec<usize>> = HashMap::new();
    if let Some(b) = &boundary {
        for (i, s) in b.policy.statements.iter().enumerate() {
            if s.effect.value == Effect::Allow {
                table.push(cache.row(sources, b, i, s));
                for &a in cache.actions(&b.key, i, s).iter() {
                    passes.entry(a).or_default().push(table.len() - 1);
                }
            }
        }
    }
    let mut grants: BTreeMap<Action, Vec<usize>> = BTreeMap::new();
    for h in &held {
        for (i, s) in h.policy.statements.iter().enumerate() {
            if s.effect.value != Effect::Allow {
                continue;
            }
            table.push(cache.row(sources, h, i, s));
            let row = table.len() - 1;
            for &a in cache.actions(&h.key, i, s).iter() {
                if denied.binary_search(&a).is_err() {
                    let g = grants.entry(a).or_default();
                    if g.last() != Some(&row) {
                        g.push(row);
                    }
                }
            }
        }
    }
    // Actions named by the same statements share what they reach.
    let mut keyed: BTreeMap<&'static str, Vec<(Key, Vec<&'static str>)>> = BTreeMap::new();
    for ((prefix, name), g) in grants {
        let on: Vec<usize> = denied_on
            .iter()
            .enumerate()
            .filter(|(_, (actions, _))| actions.binary_search(&(prefix, name)).is_ok())
            .map(|(i, _)| i)
            .collect();
        let key = (
            g,
            passes.get(&(prefix, name)).cloned().unwrap_or_default(),
            on,
        );
        let service = keyed.entry(prefix).or_default();
        match service.iter_mut().find(|(k, _)| *k == key) {
            Some((_, names)) => names.push(name),
            None => service.push((key, vec![name])),
        }
    }
    let bounded = boundary.is_some();
    let deny_on: Vec<Resources> = denied_on.into_iter().map(|(_, r)| r).collect();
    let groups: BTreeMap<&'static str, Vec<(GrantGroup, Vec<&'static str>)>> = keyed
        .into_iter()
        .map(|(prefix, gs)| {
            let built = gs
                .into_iter()
                .map(|(key, names)| {
                    let actions = names.iter().map(|n| format!("{prefix}:{n}")).collect();
                    (
                        grant_group(&table, &key, &deny_on, bounded, prefix, actions),
                        names,
                    )
                })
                .collect();
            (prefix, built)
        })
        .collect();
    let permissions = service_docs(&groups, &|g| !g.reach.is_empty(), &|g| {
        g.reach.iter().any(|r| r.resources.is_every())
    });
    let cut_by_boundary = if bounded {
        service_docs(&groups, &|g| !g.cut.is_empty(), &|g| {
            g.cut
                .iter()
                .any(|c| c.cut.resources.iter().any(|r| r == "*"))
        })
    } else {
        Vec::new()
    };
    let closure = report.and_then(|r| r.principals.iter().find(|c| c.name == p.name));
    let guardrail = closure.map(|c| {
        match (c.bounded, c.closed) {
            (true, true) => "closed",
            (true, false) => "open",
            (false, true) => "unbounded, cannot escalate",
            (false, false) => "unbounded, can escalate",
        }
        .to_string()
    });
    let mut opened = Vec::new();
    if let Some(c) = closure.filter(|c| !c.closed) {
        opened.extend(openings(sources, "it", &c.findings));
        let carried = p.boundary.as_ref().and_then(|b| {
            let name = policy_name(&b.value);
            report?.boundaries.iter().find(|c| c.name == name)
        });
        if let Some(b) = carried {
            opened.extend(openings(
                sources,
                &format!("boundary {}", b.name),
                &b.findings,
            ));
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
        max_session: p.max_session,
        instance_profile: p.instance_profile.clone(),
        boundary: boundary_ref,
        attached: p
            .attached
            .iter()
            .map(|a| PolicyRef {
                name: policy_name(&a.value).to_string(),
                arn: Some(a.value.clone()),
                source: managed_source(project, sources, &a.value),
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
        openings: opened,
        permissions,
        cut_by_boundary,
        denies,
        trusted: trust_docs(project, p),
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
    if passers.is_empty() || !principals.iter().any(|p| p.kind == PrincipalKind::Role) {
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
                    to.push(service.to_string());
                }
            }
            if !to.is_empty() {
                docs[r].passed_by.push(PassDoc {
                    kind: p.kind.as_str(),
                    name: p.name.clone(),
                    page: page_of(p),
                    services: to,
                });
            }
        }
    }
}

/// The diagrams' edges: group membership, boundaries, trust and pass-role.
fn edges(docs: &[PrincipalDoc]) -> Vec<Edge> {
    let mut out = Vec::new();
    for p in docs {
        let name = format!("{} {}", p.kind, p.name);
        for g in &p.groups {
            out.push(Edge {
                from: name.clone(),
                to: format!("group {g}"),
                label: "member of".into(),
            });
        }
        if let Some(b) = &p.boundary {
            out.push(Edge {
                from: name.clone(),
                to: format!("boundary {}", b.name),
                label: "bounded by".into(),
            });
        }
        for t in p.trusted.iter().filter(|t| t.effect == "Allow") {
            for w in &t.who {
                out.push(Edge {
                    from: w.principal.clone().unwrap_or_else(|| who_node(w)),
                    to: name.clone(),
                    label: "may assume".into(),
                });
            }
        }
        for q in &p.passed_by {
            out.push(Edge {
                from: format!("{} {}", q.kind, q.name),
                to: name.clone(),
                label: format!("may pass to {}", q.services.join(", ")),
            });
        }
    }
    out.sort_by(|a, b| (&a.from, &a.to, &a.label).cmp(&(&b.from, &b.to, &b.label)));
    out.dedup_by(|a, b| a.from == b.from && a.to == b.to && a.label == b.label);
    out
}

/// How a diagram names what a trust policy names that is not one of the project's
/// principals.
fn who_node(w: &WhoDoc) -> String {
    match w.kind.as_str() {
        "*" => "anyone".into(),
        "Service" => format!("service {}", w.value),
        "Federated" => format!("federated {}", w.value),
        "AWS" => match account_of(&w.value) {
            Some(a) => format!("account {a}"),
            None => w.value.clone(),
        },
        k => format!("{k} {}", w.value),
    }
}

/// The account an `AWS` principal stands for as a whole: `111122223333` or
/// `arn:aws:iam::111122223333:root`.
pub(crate) fn account_of(value: &str) -> Option<&str> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value);
    }
    let rest = value.strip_prefix("arn:")?;
    let (_, rest) = rest.split_once(":iam::")?;
    let account = rest.strip_suffix(":root")?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// Gathers the documentation of a compiled project.
pub fn model(project: &Project, sources: &SourceMap, report: Option<&Report>) -> Docs {
    let results = suite::run(project);
    let mut principals: Vec<&PrincipalInfo> = project.principals.iter().collect();
    principals.sort_by(|a, b| (a.kind.as_str(), &a.name).cmp(&(b.kind.as_str(), &b.name)));
    let mut cache = Cache::default();
    let mut docs: Vec<PrincipalDoc> = principals
        .iter()
        .map(|p| principal_doc(project, sources, report, &results, &mut cache, p))
        .collect();
    pass_roles(project, &principals, &mut docs);
    let edges = edges(&docs);
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
            let closure =
                report.and_then(|r| r.boundaries.iter().find(|c| m.boundary && c.name == m.name));
            let label = PolicyLabel {
                kind: if m.boundary { "boundary" } else { "managed" },
                name: m.name.clone(),
                group: None,
            };
            PolicyDoc {
                name: m.name.clone(),
                boundary: m.boundary,
                arn,
                source: location(sources, m.span),
                docs: m.docs.clone(),
                guardrail: closure.map(|c| if c.closed { "closed" } else { "open" }.to_string()),
                openings: closure
                    .map(|c| openings(sources, "whoever carries it", &c.findings))
                    .unwrap_or_default(),
                used_by,
                page: format!("policies/{}.md", m.name),
                statements: project.documents[m.document]
                    .policy
                    .statements
                    .iter()
                    .map(|st| statement_doc(sources, &label, None, st))
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
        guardrail: report.map(|r| {
            let s = r.summary();
            s.strip_prefix("guardrail: ")
                .map_or(s.clone(), str::to_string)
        }),
        principals,
        policies,
        tests,
        edges,
    }
}

/// The documentation as one JSON file, `docs.json`: data and plain text, no Markdown.
pub fn json(docs: &Docs) -> Vec<Artifact> {
    let mut contents = serde_json::to_string_pretty(docs).unwrap_or_default();
    contents.push('\n');
    vec![Artifact {
        path: "docs.json".into(),
        contents,
    }]
}

/// The diagrams in Graphviz's DOT language: `diagram.dot` for the project, and one beside
/// each principal's page.
pub fn dot(docs: &Docs) -> Vec<Artifact> {
    let index = graph::Index::new(docs);
    let mut out = vec![Artifact {
        path: "diagram.dot".into(),
        contents: graph::build(&index, None).dot("project"),
    }];
    for p in &docs.principals {
        out.push(Artifact {
            path: p.page.replace(".md", ".dot"),
            contents: graph::build(&index, Some(p)).dot(&p.name),
        });
    }
    out
}
