//! The guardrail, proved: for every boundary and every principal, each way out of a boundary
//! is asked as a question about *every* request of its class, and answered exactly.
//!
//! A boundary is *closed* when, whatever identity policy its holder has (the worst one:
//! `Allow *` on `*`), and whatever kind of holder it is (a user, a role session, a federated
//! session), no request of any class below is allowed. A principal is closed when its own
//! policies, within its boundary, allow none; a principal that can change its own permissions
//! has exactly its boundary's power, so it is then checked with the worst identity policy too.
//!
//! The classes (the book's "guardrail" page states the guarantee and its assumptions):
//! W0601 create a user or role with no boundary, or another one; W0602 put another boundary
//! on, or remove one from, a user or role; W0603 edit the boundary policy; W0604 change its own
//! permissions when the boundary is open; W0605 pass a role outside its reach; W0606 change
//! principals outside its reach (policies, credentials, trust, paths, groups) or identity
//! providers; W0607 pass such a role to a service that runs code; W0608 edit managed policies
//! attached elsewhere; W0609 run code as a resource's role; W0610 assume roles outside its
//! reach; W0612 grant itself, through a resource-based policy, what the boundary does not.
//!
//! One door, a file per idea: [`spec`] (the guard and its lowering), [`classes`] (which
//! actions each class asks about, from data), [`vectors`] (reach and the classes), [`solve`]
//! (one class of requests against a policy set), [`lang`] (sets of ARNs and values as
//! patterns), and this module (holders, findings and their diagnostics).

use crate::diag::{Code, Diagnostic};
use crate::eval::pattern::wildcard;
use crate::eval::{project, Context};
use crate::iam::{self, Effect, PrincipalKind, Project};
use crate::source::Span;
use lang::Names;
use solve::{principal_keys_tested, Holder, Witness};
use spec::GuardSpec;

pub mod classes;
pub mod lang;
pub mod roles;
pub mod solve;
pub mod spec;
pub mod vectors;

/// Closure of one boundary or principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closure {
    pub name: String,
    pub closed: bool,
    /// Principals only: whether it carries a boundary at all.
    pub bounded: bool,
    /// The diagnostics reported about it: the requests that open it (`iamx doc` shows them).
    pub findings: Vec<Diagnostic>,
}

/// What the analysis found, besides its diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub boundaries: Vec<Closure>,
    pub principals: Vec<Closure>,
    /// Why nothing was analysed, when nothing could be.
    pub skipped: Option<String>,
}

impl Report {
    /// `guardrail: 1 boundary closed, 1 open; 2 principals closed, 1 open, 1 unbounded`.
    pub fn summary(&self) -> String {
        if let Some(why) = &self.skipped {
            return format!("guardrail: not analysed: {why}");
        }
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("{n} {one}")
            } else {
                format!("{n} {many}")
            }
        };
        let mut parts = Vec::new();
        if !self.boundaries.is_empty() {
            let closed = self.boundaries.iter().filter(|b| b.closed).count();
            parts.push(format!(
                "{} closed, {} open",
                plural(closed, "boundary", "boundaries"),
                self.boundaries.len() - closed
            ));
        }
        let bounded: Vec<&Closure> = self.principals.iter().filter(|p| p.bounded).collect();
        if !bounded.is_empty() {
            let closed = bounded.iter().filter(|p| p.closed).count();
            parts.push(format!(
                "{} closed, {} open",
                plural(closed, "bounded principal", "bounded principals"),
                bounded.len() - closed
            ));
        }
        let unbounded = self.principals.len() - bounded.len();
        if unbounded > 0 {
            // An escalation that depends on what an account snapshot does not show (W0805)
            // is counted apart: it is not a sure one.
            let (mut open, mut may) = (0, 0);
            for p in self.principals.iter().filter(|p| !p.bounded && !p.closed) {
                if !p.findings.is_empty()
                    && p.findings.iter().all(|d| d.code == Code::SnapshotDepends)
                {
                    may += 1;
                } else {
                    open += 1;
                }
            }
            let may = if may > 0 {
                format!(", {may} may, depending on what the snapshot does not show")
            } else {
                String::new()
            };
            parts.push(format!(
                "{} without a boundary ({open} can escalate{may})",
                plural(unbounded, "principal", "principals")
            ));
        }
        if parts.is_empty() {
            "guardrail: no boundaries or principals".to_string()
        } else {
            format!("guardrail: {}", parts.join("; "))
        }
    }
}

/// One principal as the analysis sees it: its identity policies and boundary, as written.
pub struct Subject {
    pub name: String,
    /// How messages name it: "user `DeveloperSteve`".
    pub display: String,
    pub kind: PrincipalKind,
    /// Its IAM ARN (user or role).
    pub arn: String,
    /// The ARN requests come from (the user, or a session of the role).
    pub caller: String,
    pub identity: Vec<(String, iam::Policy)>,
    pub boundary: Option<BoundaryInfo>,
    /// Its own customer managed policies (their ARNs): editing them changes its permissions.
    pub own_policies: Vec<String>,
    pub context: Context,
    /// Where to point when a finding has no statement of its own.
    pub span: Option<Span>,
    /// It asked for the guardrail with `delegate`.
    pub delegates: bool,
    /// It carries a boundary iamx has no document for (so it counts as unbounded).
    pub unknown_boundary: Option<String>,
}

/// A boundary: its ARN, its document, its guard.
#[derive(Clone)]
pub struct BoundaryInfo {
    pub name: String,
    pub arn: String,
    pub label: String,
    pub policy: iam::Policy,
    pub guard: Option<GuardSpec>,
    pub span: Option<Span>,
}

/// See [`World::declared`].
pub type DeclaredCache = std::collections::HashMap<(String, String), std::rc::Rc<Declared>>;

/// The principals of one kind the project declares that reach alone does not settle, for one
/// boundary.
pub struct Declared {
    /// With the boundary outside the path: within reach after all.
    pub excluded: Names,
    /// Under the path without the boundary: outside reach after all.
    pub exceptions: Names,
}

/// The customer managed policies, for one boundary: attached only within its reach, and the
/// others.
pub struct Attached {
    pub within: Names,
    pub elsewhere: Names,
}

impl World {
    /// `principals` by ARN.
    pub fn index(&self) -> &std::collections::HashMap<String, usize> {
        self.by_arn.get_or_init(|| {
            self.principals
                .iter()
                .enumerate()
                .map(|(i, (arn, _, _))| (arn.clone(), i))
                .collect()
        })
    }
}

/// What the rest of the account holds: other principals and where policies are attached.
#[derive(Default)]
pub struct World {
    pub partition: String,
    pub account: String,
    /// Other principals: (ARN, kind, boundary ARN).
    pub principals: Vec<(String, PrincipalKind, Option<String>)>,
    /// Customer managed policies and the principals (ARNs) they are attached to; `None`
    /// when that is not known (JSON input), so they may be attached anywhere.
    pub attachments: Vec<(String, Option<Vec<String>>)>,
    /// Groups (ARNs), their members (ARNs), and whether they carry any policy.
    pub groups: Vec<(String, Vec<String>, bool)>,
    /// `principals` by ARN, made when first needed.
    pub by_arn: std::cell::OnceCell<std::collections::HashMap<String, usize>>,
    /// What the analyses found of the declared principals, per boundary and kind.
    pub declared: std::cell::RefCell<DeclaredCache>,
    /// Per boundary (ARN), what its holder with the worst identity policy can do, when that
    /// does not depend on who the holder is: reused for principals that can change their own
    /// permissions.
    pub(crate) worst:
        std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Vec<Found>>>>,
    /// The project's boundaries (ARNs): each is "another boundary" to the others.
    pub boundaries: Vec<String>,
    /// The ARNs of `attachments` and `boundaries`, made when first needed.
    pub(crate) policy_names: std::cell::OnceCell<Names>,
    /// The AWS managed policies that hold a `Deny`, made when first needed.
    pub(crate) deny_policies: std::cell::OnceCell<Names>,
    /// The groups that carry policies, made when first needed.
    pub(crate) groups_with_policies: std::cell::OnceCell<Names>,
    /// The answers of every analysis, shared by principals whose policies say the same: see
    /// [`solve::Solver::memo`].
    pub(crate) solves: std::cell::RefCell<solve::Memo>,
    /// Per boundary (ARN), what its allows name: see [`vectors::Analysis`].
    #[allow(clippy::type_complexity)]
    pub(crate) sides: std::cell::RefCell<
        std::collections::HashMap<
            String,
            Vec<(
                iam::Policy,
                (std::rc::Rc<vectors::Services>, std::rc::Rc<vectors::Allows>),
            )>,
        >,
    >,
    /// Statements and policies by what they say: see [`solve::Shared::table`].
    pub(crate) table: std::cell::RefCell<solve::PolicyTable>,
    /// Per boundary (ARN), where the customer managed policies are attached.
    pub(crate) attached:
        std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Attached>>>,
    /// In an account: its roles, to judge passing and assuming them by what they hold.
    pub known: Option<roles::Known>,
    /// In an account: each principal's (ARN) sure escalation, to follow paths through roles.
    pub(crate) leads: std::cell::RefCell<std::collections::HashMap<String, Lead>>,
}

/// A principal's first sure escalation: the step, and the role it goes on through.
#[derive(Clone, Debug)]
pub(crate) struct Lead {
    /// "role `deployer`".
    pub who: String,
    /// Each sure way it escalates: the first is the one its finding names.
    pub steps: Vec<LeadStep>,
}

/// One sure way a principal escalates.
#[derive(Clone, Debug)]
pub(crate) struct LeadStep {
    /// "can assume role `Admin`, an administrator".
    pub message: String,
    /// The request, and the statement that allows it.
    pub request: String,
    pub span: Option<Span>,
    /// The role it goes through, when the escalation goes on with that role's own.
    pub via: Option<String>,
}

/// The holders a boundary is analysed for: a user, a role session, and a federated session.
/// Each sees different context keys (a role session has no `aws:username`), so a guard must
/// hold for all three.
fn boundary_holders(world: &World) -> Vec<(String, Holder)> {
    let p = &world.partition;
    let a = &world.account;
    let mut out = Vec::new();
    let user = format!("arn:{p}:iam::{a}:user/iamx-holder");
    let mut facts = Context::default();
    facts.insert("aws:username", vec!["iamx-holder".into()]);
    facts.insert("aws:userid", vec!["AIDAIAMXHOLDER".into()]);
    facts.insert("aws:PrincipalArn", vec![user.clone()]);
    facts.insert("aws:PrincipalAccount", vec![a.clone()]);
    facts.insert("aws:PrincipalType", vec!["User".into()]);
    out.push((
        "a user".to_string(),
        Holder {
            caller: user,
            facts,
            chosen: Vec::new(),
        },
    ));
    let role = format!("arn:{p}:iam::{a}:role/iamx-holder-role");
    out.push((
        "a role session".to_string(),
        role_session(world, &role, None),
    ));
    out.push((
        "a federated session".to_string(),
        federated_session(world, "iamx-holder", None),
    ));
    out
}

fn role_session(world: &World, role_arn: &str, tags: Option<&Context>) -> Holder {
    let name = role_arn.rsplit('/').next().unwrap_or("role");
    let mut facts = tags.cloned().unwrap_or_default();
    facts.insert("aws:PrincipalArn", vec![role_arn.to_string()]);
    facts.insert("aws:PrincipalAccount", vec![world.account.clone()]);
    facts.insert("aws:PrincipalType", vec!["AssumedRole".into()]);
    Holder {
        caller: format!(
            "arn:{}:sts::{}:assumed-role/{name}/iamx-session",
            world.partition, world.account
        ),
        facts,
        // The session name, part of `aws:userid`, is the caller's to choose.
        chosen: vec!["aws:userid".into()],
    }
}

/// A session a user makes with `sts:GetFederationToken`: the user's policies and boundary
/// apply, but it has no `aws:username`.
fn federated_session(world: &World, user_name: &str, tags: Option<&Context>) -> Holder {
    let mut facts = tags.cloned().unwrap_or_default();
    let arn = format!(
        "arn:{}:sts::{}:federated-user/{user_name}",
        world.partition, world.account
    );
    facts.insert("aws:PrincipalArn", vec![arn.clone()]);
    facts.insert("aws:PrincipalAccount", vec![world.account.clone()]);
    facts.insert("aws:PrincipalType", vec!["FederatedUser".into()]);
    Holder {
        caller: arn,
        facts,
        chosen: vec!["aws:userid".into()],
    }
}

/// The holders a principal is analysed as.
fn principal_holders(world: &World, subject: &Subject) -> Vec<(String, Holder)> {
    let mut tags = Context::default();
    for (k, v) in subject.context.iter() {
        if k.starts_with("aws:principaltag/") {
            tags.insert(k, v.to_vec());
        }
    }
    match subject.kind {
        PrincipalKind::Role => vec![(
            "a session".to_string(),
            role_session(world, &subject.arn, Some(&tags)),
        )],
        _ => {
            let user = Holder {
                caller: subject.caller.clone(),
                facts: subject.context.clone(),
                chosen: Vec::new(),
            };
            let name = subject.arn.rsplit('/').next().unwrap_or(&subject.name);
            vec![
                ("the user".to_string(), user),
                (
                    "a federated session".to_string(),
                    federated_session(world, name, Some(&tags)),
                ),
            ]
        }
    }
}

/// One finding, with the holder it was found for.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    finding: vectors::Finding,
    /// How the holder is named when it is not the first kind tried: "a role session".
    holder: Option<String>,
    /// Index of the identity policies the finding was made with: 0 its own, 1 the worst.
    worst: bool,
}

/// The findings over every holder, one per code and message.
fn findings_over(
    world: &World,
    subject: &Subject,
    holders: &[(String, Holder)],
    identity: &[&iam::Policy],
    worst: bool,
) -> Vec<Found> {
    findings_and_self_edit(world, subject, holders, identity, worst, false).0
}

/// [`findings_over`], and, when asked, the first request with which a holder can change its
/// own permissions (with the same analyses).
fn findings_and_self_edit(
    world: &World,
    subject: &Subject,
    holders: &[(String, Holder)],
    identity: &[&iam::Policy],
    worst: bool,
    self_edit: bool,
) -> (Vec<Found>, Option<Witness>) {
    let mut edit: Option<Witness> = None;
    let mut out: Vec<Found> = Vec::new();
    // Holders the policies cannot tell apart (they test none of the keys where they differ)
    // are analysed once.
    let mut policies: Vec<&iam::Policy> = identity.to_vec();
    if let Some(b) = &subject.boundary {
        policies.push(&b.policy);
    }
    let keys = principal_keys_tested(&policies);
    // Where the policies test the holder's tags, a holder that can set its own tags chooses
    // them: a session's tags are given when it is made, and a user may tag itself.
    let tests_tags = keys.iter().any(|k| k.starts_with("aws:principaltag/"));
    let mut seen: Vec<Signature> = Vec::new();
    for (i, (label, holder)) in holders.iter().enumerate() {
        let tagging;
        let holder = if tests_tags && can_choose_own_tags(world, subject, holder, identity) {
            tagging = holder.choosing_tags();
            &tagging
        } else {
            holder
        };
        let signature: Signature = keys
            .iter()
            .map(|k| {
                (
                    k.clone(),
                    holder.facts.get(k).map(<[String]>::to_vec),
                    holder.chooses(k),
                )
            })
            .collect();
        if seen.contains(&signature) {
            continue;
        }
        seen.push(signature);
        let analysis = vectors::Analysis::new(world, subject, holder, identity.to_vec());
        if self_edit && edit.is_none() {
            edit = analysis.self_edit();
        }
        for f in analysis.vectors() {
            if out
                .iter()
                .any(|o| o.finding.code == f.code && o.finding.message == f.message)
            {
                continue;
            }
            out.push(Found {
                finding: f,
                holder: (i > 0).then(|| label.clone()),
                worst,
            });
        }
    }
    (out, edit)
}

/// Whether a holder can set its own tags: a role or federated session, whose tags are given
/// when it is made (who makes it is not followed), or a user whose policies let it tag itself.
fn can_choose_own_tags(
    world: &World,
    subject: &Subject,
    holder: &Holder,
    identity: &[&iam::Policy],
) -> bool {
    match holder.facts.single("aws:principaltype") {
        Some("User") => {
            vectors::Analysis::new(world, subject, holder, identity.to_vec()).can_tag_itself()
        }
        _ => true,
    }
}

/// What tells holders apart: per principal key the policies test, its value and whether the
/// caller chooses it.
type Signature = Vec<(String, Option<Vec<String>>, bool)>;

/// What a diagnostic says of a finding's holder.
fn as_holder(found: &Found) -> String {
    match &found.holder {
        Some(h) => format!(" (as {h})"),
        None => String::new(),
    }
}

/// Where, in a statement, the request's action is written.
fn action_span(statement: &iam::Statement, action: &str) -> Option<Span> {
    let block = statement.action.as_ref()?;
    if block.not {
        return block.span.or(statement.span);
    }
    block
        .values
        .iter()
        .find(|a| wildcard(&a.value, action, true))
        .and_then(|a| a.span)
        .or(statement.span)
}

/// The statements a finding points at: the identity grant for a principal, the boundary's
/// allow for a boundary (whose identity side is the worst policy, with no place in the source).
fn place(
    identity: &[(String, &iam::Policy)],
    boundary: Option<&BoundaryInfo>,
    w: &Witness,
    prefer_boundary: bool,
) -> (Option<Span>, Vec<(Span, String)>) {
    let mut spans: Vec<(bool, Span)> = Vec::new();
    if let Some((p, s)) = w.identity {
        if let Some(span) = identity
            .get(p)
            .and_then(|(_, policy)| policy.statements.get(s))
            .and_then(|st| action_span(st, &w.action))
        {
            spans.push((false, span));
        }
    }
    if let (Some(i), Some(b)) = (w.boundary, boundary) {
        if let Some(span) = b
            .policy
            .statements
            .get(i)
            .and_then(|st| action_span(st, &w.action))
        {
            spans.push((true, span));
        }
    }
    let mut primary = None;
    let mut labels = Vec::new();
    for (is_boundary, span) in spans {
        if primary.is_none() && is_boundary == prefer_boundary {
            primary = Some(span);
        } else {
            let who = if is_boundary {
                "the permissions boundary"
            } else {
                "an identity policy"
            };
            labels.push((span, format!("{who} allows it")));
        }
    }
    if primary.is_none() && !labels.is_empty() {
        primary = Some(labels.remove(0).0);
    }
    (primary, labels)
}

/// The request of a finding, as a message shows it.
fn describe_request(w: &Witness) -> String {
    let resource = match w.resource.as_deref() {
        None => "…",
        Some("") => "*",
        Some(r) => r,
    };
    let mut text = format!("`{}` on `{resource}`", w.action);
    let keys: Vec<String> = w
        .context
        .iter()
        .filter(|(k, v)| {
            matches!(
                k.as_str(),
                "iam:permissionsboundary" | "iam:passedtoservice" | "iam:policyarn"
            ) || (k.starts_with("aws:principaltag/") && v.is_some())
        })
        .map(|(k, v)| {
            let tag;
            let key = match k.as_str() {
                "iam:permissionsboundary" => "iam:PermissionsBoundary",
                "iam:passedtoservice" => "iam:PassedToService",
                "iam:policyarn" => "iam:PolicyARN",
                _ => {
                    // The holder's own tag, which it chose.
                    tag = format!("aws:PrincipalTag/{}", &k["aws:principaltag/".len()..]);
                    tag.as_str()
                }
            };
            match v {
                Some(v) => format!("{key} = {v}"),
                None => format!("no {key}"),
            }
        })
        .collect();
    if !keys.is_empty() {
        text.push_str(&format!(" ({})", keys.join(", ")));
    }
    text
}

/// A finding as a diagnostic: the message, the fix with the catalogue entries, the request
/// that gets out on the statement that allows it, and the other statements that do.
fn finding_diagnostic(
    finding: &vectors::Finding,
    message: String,
    fix: String,
    at: Option<Span>,
    labels: Vec<(Span, String)>,
) -> Diagnostic {
    let mut d = Diagnostic::new(finding.code, message).help(format!("{fix}{}", known_as(finding)));
    if let Some(span) = at {
        d = d.at(
            span,
            format!("allows {}", describe_request(&finding.witness)),
        );
    }
    for (span, label) in labels {
        d = d.with_label(span, label);
    }
    d
}

/// The catalogue entries of a finding, for its help: the first three.
fn known_as(f: &vectors::Finding) -> String {
    match f.catalogue.len() {
        0 => String::new(),
        1..=3 => format!(" (known as {})", f.catalogue.join(", ")),
        n => format!(
            " (known as {}, and {} more)",
            f.catalogue[..3].join(", "),
            n - 3
        ),
    }
}

/// `Allow *` on `*`: what a holder that can change its own policies can give itself.
fn worst_identity() -> iam::Policy {
    let star = |v: &str| iam::Block {
        not: false,
        values: vec![iam::Spanned::new(v.to_string(), None)],
        span: None,
    };
    iam::Policy {
        id: None,
        statements: vec![iam::Statement {
            sid: None,
            effect: iam::Spanned::new(Effect::Allow, None),
            principal: None,
            not_principal: false,
            action: Some(star("*")),
            resource: Some(star("*")),
            conditions: Vec::new(),
            span: None,
            docs: Vec::new(),
        }],
    }
}

/// Analyses one principal: its own policies, within its boundary; and, if it can change its
/// own permissions, the boundary's full power.
pub fn analyze_principal(world: &World, subject: &Subject) -> (bool, Vec<Diagnostic>) {
    principal_findings(world, subject, &[])
}

/// [`analyze_principal`]; findings its boundary's analysis reported already are not repeated
/// (the principal is still open).
fn principal_findings(
    world: &World,
    subject: &Subject,
    reported: &[(Code, String)],
) -> (bool, Vec<Diagnostic>) {
    let holders = principal_holders(world, subject);
    let own: Vec<&iam::Policy> = subject.identity.iter().map(|(_, p)| p).collect();
    let labelled: Vec<(String, &iam::Policy)> = subject
        .identity
        .iter()
        .map(|(l, p)| (l.clone(), p))
        .collect();
    let (mut findings, edit) = findings_and_self_edit(world, subject, &holders, &own, false, true);
    let mut out = Vec::new();
    let who = subject.display.clone();
    if subject.boundary.is_none() {
        if let Some(known) = &world.known {
            findings = roles::refine(world, known, subject, &holders[0].1, &own, findings);
            // With no boundary, changing its own permissions is every permission.
            if let Some(request) = &edit {
                let mut finding = vectors::Finding::new(
                    Code::GuardSelfEdit,
                    roles::self_edit_words(known, request),
                    request.clone(),
                );
                finding.catalogue = classes::catalogue_ids("W0604", &request.action);
                findings.insert(
                    0,
                    Found {
                        finding,
                        holder: None,
                        worst: false,
                    },
                );
            }
        }
        if findings.is_empty() {
            return (true, out);
        }
        // Sure findings first: the verdict is theirs when there is one.
        findings.sort_by_key(|f| f.finding.depends.is_some());
        let what: Vec<String> = findings
            .iter()
            .enumerate()
            .map(|(i, f)| match &f.finding.depends {
                Some(on) if i > 0 => {
                    format!("{}{} (depending on {on})", f.finding.message, as_holder(f))
                }
                _ => format!("{}{}", f.finding.message, as_holder(f)),
            })
            .collect();
        let lacks = match &subject.unknown_boundary {
            Some(arn) => format!("carries the boundary `{arn}`, which iamx has no document for"),
            None => "has no permissions boundary".to_string(),
        };
        let mut d = match &findings[0].finding.depends {
            None => Diagnostic::new(
                Code::GuardUnboundedPrincipal,
                format!("{who} {lacks}, and {}", what[0]),
            ),
            Some(on) => Diagnostic::new(
                Code::SnapshotDepends,
                format!(
                    "{who} {lacks}, and {}: whether that escalates depends on {on}",
                    what[0]
                ),
            ),
        }
        .help(if what.len() > 1 {
            format!(
                "give it a boundary with a guard, and `delegate`; besides, it can {}",
                what[1..]
                    .iter()
                    .map(|w| w.strip_prefix("can ").unwrap_or(w))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        } else {
            "give it a boundary with a guard, and `delegate`".to_string()
        });
        let (primary, _) = place(&labelled, None, &findings[0].finding.witness, false);
        if world.known.is_some() && findings[0].finding.depends.is_none() {
            // Every sure way out, so that a path through roles can be the shortest.
            let steps = findings
                .iter()
                .zip(&what)
                .enumerate()
                .filter(|(_, (f, _))| f.finding.depends.is_none())
                .map(|(i, (f, message))| LeadStep {
                    message: message.clone(),
                    request: describe_request(&f.finding.witness),
                    span: if i == 0 {
                        primary.or(subject.span)
                    } else {
                        place(&labelled, None, &f.finding.witness, false)
                            .0
                            .or(subject.span)
                    },
                    via: f.finding.via.clone(),
                })
                .collect();
            world.leads.borrow_mut().insert(
                subject.arn.clone(),
                Lead {
                    who: who.clone(),
                    steps,
                },
            );
        }
        if let Some(span) = primary.or(subject.span) {
            d = d.at(
                span,
                format!("allows {}", describe_request(&findings[0].finding.witness)),
            );
        }
        out.push(d);
        return (false, out);
    }
    for f in &findings {
        if reported
            .iter()
            .any(|(c, m)| *c == f.finding.code && *m == f.finding.message)
        {
            continue;
        }
        let (primary, labels) = place(
            &labelled,
            subject.boundary.as_ref(),
            &f.finding.witness,
            false,
        );
        out.push(finding_diagnostic(
            &f.finding,
            format!("{who} {}{}", f.finding.message, as_holder(f)),
            fix_for(
                f.finding.code,
                subject.boundary.as_ref().map_or("", |b| b.name.as_str()),
                subject.boundary.as_ref().and_then(|b| b.guard.as_ref()),
            ),
            primary.or(subject.span),
            labels,
        ));
    }
    let mut closed = findings.is_empty();
    // A principal that can change its own permissions has its boundary's power.
    if let Some(request) = edit {
        let worst_policy = worst_identity();
        // The boundary's own analysis answers this, when it does not depend on the holder.
        let cached = subject
            .boundary
            .as_ref()
            .and_then(|b| world.worst.borrow().get(&b.arn).cloned());
        let worse: Vec<Found> = match cached {
            // The boundary's holder was a stand-in: where it names itself, it names this one.
            Some(found) => {
                let stand_in = boundary_holders(world).swap_remove(0).1.caller;
                found
                    .iter()
                    .cloned()
                    .map(|mut f| {
                        if f.finding.witness.resource.as_deref() == Some(stand_in.as_str()) {
                            f.finding.witness.resource = Some(subject.arn.clone());
                        }
                        f
                    })
                    .collect()
            }
            None => findings_over(world, subject, &holders, &[&worst_policy], true),
        };
        if !worse.is_empty() {
            closed = false;
            let then: Vec<String> = worse
                .iter()
                .map(|f| {
                    let m = f
                        .finding
                        .message
                        .strip_prefix("can ")
                        .unwrap_or(&f.finding.message);
                    format!("{m}{}", as_holder(f))
                })
                .collect();
            let (primary, labels) = place(&labelled, subject.boundary.as_ref(), &request, false);
            let subject_word = match subject.kind {
                PrincipalKind::Role => "it",
                _ => "the user",
            };
            let mut d = Diagnostic::new(
                Code::GuardSelfEdit,
                format!(
                    "{who} can change its own permissions, and then {}",
                    then[0]
                ),
            )
            .help(format!(
                "its boundary is all that limits {subject_word} then{}; {}, or stop `{}` from changing its own policies",
                if then.len() > 1 {
                    format!(" (it can also {})", then[1..].join(", "))
                } else {
                    String::new()
                },
                if subject.boundary.as_ref().is_some_and(|b| b.guard.is_some()) {
                    "the boundary's guard does not close it: see the warnings on the boundary"
                } else {
                    "close the boundary with a guard"
                },
                subject.name
            ));
            if let Some(span) = primary.or(subject.span) {
                d = d.at(span, format!("allows {}", describe_request(&request)));
            }
            for (span, label) in labels {
                d = d.with_label(span, label);
            }
            // Point at what the worst policy then reaches in the boundary.
            if let (Some(first), Some(b)) = (worse.first(), subject.boundary.as_ref()) {
                debug_assert!(first.worst);
                let (span, _) = place(&[], Some(b), &first.finding.witness, true);
                if let Some(span) = span {
                    d = d.with_label(
                        span,
                        format!(
                            "then the boundary allows {}",
                            describe_request(&first.finding.witness)
                        ),
                    );
                }
            }
            out.push(d);
        }
    }
    if !closed && subject.delegates {
        let mut d = Diagnostic::new(
            Code::GuardedButOpen,
            format!("{who} delegates, but is not closed"),
        )
        .help("the W06xx warnings on it and on its boundary say which requests it can still make");
        if let Some(span) = subject.span {
            d = d.at(span, "declared here");
        }
        out.push(d);
    }
    (closed, out)
}

/// Analyses one boundary with the worst identity policy.
pub fn analyze_boundary(world: &World, boundary: &BoundaryInfo) -> (bool, Vec<Diagnostic>) {
    let (closed, out, _) = boundary_findings(world, boundary);
    (closed, out)
}

/// [`analyze_boundary`], with the findings (code and message) for principals to skip.
fn boundary_findings(
    world: &World,
    boundary: &BoundaryInfo,
) -> (bool, Vec<Diagnostic>, Vec<(Code, String)>) {
    let holders = boundary_holders(world);
    let subject = Subject {
        name: boundary.name.clone(),
        display: format!("the holder of boundary `{}`", boundary.name),
        kind: PrincipalKind::User,
        arn: holders[0].1.caller.clone(),
        caller: holders[0].1.caller.clone(),
        identity: Vec::new(),
        boundary: Some(boundary.clone()),
        own_policies: Vec::new(),
        context: holders[0].1.facts.clone(),
        span: boundary.span,
        delegates: false,
        unknown_boundary: None,
    };
    let worst = worst_identity();
    let findings = findings_over(world, &subject, &holders, &[&worst], true);
    // Who the holder is matters only through the principal keys the boundary tests; its own
    // user name and id only name the holder itself, the same for every holder.
    let independent = principal_keys_tested(&[&boundary.policy])
        .iter()
        .all(|k| matches!(k.as_str(), "aws:username" | "aws:userid"));
    if independent {
        world
            .worst
            .borrow_mut()
            .insert(boundary.arn.clone(), std::rc::Rc::new(findings.clone()));
    }
    let mut out = Vec::new();
    for f in &findings {
        let (primary, labels) = place(&[], Some(boundary), &f.finding.witness, true);
        out.push(finding_diagnostic(
            &f.finding,
            format!(
                "boundary `{}` is open: its holder{} {}",
                boundary.name,
                as_holder(f),
                f.finding.message
            ),
            fix_for(f.finding.code, &boundary.name, boundary.guard.as_ref()),
            primary.or(boundary.span),
            labels,
        ));
    }
    let closed = findings.is_empty();
    if !closed && boundary.guard.is_some() {
        let mut d = Diagnostic::new(
            Code::GuardedButOpen,
            format!(
                "boundary `{}` has a guard, but is not closed",
                boundary.name
            ),
        )
        .help("the W06xx warnings on the boundary say which requests its holder can still make");
        if let Some(spec) = &boundary.guard {
            if let Some(span) = spec.span {
                d = d.at(span, "this guard does not close it");
            }
        }
        out.push(d);
    }
    let raw = findings
        .iter()
        .map(|f| (f.finding.code, f.finding.message.clone()))
        .collect();
    (closed, out, raw)
}

fn fix_for(code: Code, boundary: &str, guard: Option<&GuardSpec>) -> String {
    let add = |clause: &str| format!("add `guard {{ {clause} }}` to boundary `{boundary}`");
    let narrow = format!(
        "narrow this statement: the guard of `{boundary}` denies what it can name, but not this"
    );
    match (code, guard) {
        (Code::GuardCreateUnbounded | Code::GuardChangeBoundary | Code::GuardOutsideReach, None) => {
            add("create users, roles under \"/path/\"")
        }
        (Code::GuardEditBoundary, None) => format!(
            "add a guard to boundary `{boundary}`: even an empty `guard {{ }}` protects the boundary policy"
        ),
        (Code::GuardPassUnbounded | Code::GuardPassAndRun, None) => {
            add("create roles under \"/path/\"  pass roles under \"/path/\" to SERVICE")
        }
        (Code::GuardPassUnbounded | Code::GuardPassAndRun, Some(g))
            if g.pass.as_ref().is_some_and(|(p, _)| p != "/" && !p.starts_with(&g.create_path)) =>
        {
            "pass roles only under the path where the guard creates them: only those are sure to carry the boundary".to_string()
        }
        (Code::GuardPassUnbounded | Code::GuardPassAndRun, Some(g)) if g.pass.is_some() && !g.roles => {
            "passing is safe only for roles the guard creates: add `roles` to its `create` clause, under the path it passes".to_string()
        }
        (Code::GuardPassUnbounded | Code::GuardPassAndRun, Some(g))
            if g.pass.as_ref().is_some_and(|(p, _)| p == "/") =>
        {
            "pass roles under a path of their own: under `/`, roles without the boundary can be passed too".to_string()
        }
        (Code::GuardEditPoliciesElsewhere, None) => add("manage policies under \"/path/\""),
        (Code::GuardEditPoliciesElsewhere, Some(g)) if g.manage_path.as_deref() == Some("/") => {
            "manage policies under a path of their own: under `/`, they include policies attached to anyone".to_string()
        }
        (Code::GuardRunAsOthers, _) => "allow these actions only on resources tagged as the team's, with a tag its holder cannot set (a name prefix does not do: a resource of that name may run with any role), or not at all".into(),
        (Code::GuardAssumeOutside, _) => "allow `sts:AssumeRole` only on roles that carry the boundary".into(),
        (Code::GuardResourcePolicyGrant, _) => format!(
            "leave the action that writes the resource's policy out of boundary `{boundary}`, or allow there what such a policy could grant: within the account, a grant to a user or a role session by name passes the boundary"
        ),
        _ => narrow,
    }
}

/// The analysis of a compiled project: every boundary, every user and role.
pub fn analyze(project: &Project) -> (Report, Vec<Diagnostic>) {
    analyze_in(project, None)
}

/// [`analyze`] for an account, whose roles are `known`: see [`roles`].
pub fn analyze_account(project: &Project, known: roles::Known) -> (Report, Vec<Diagnostic>) {
    analyze_in(project, Some(known))
}

fn analyze_in(project: &Project, known: Option<roles::Known>) -> (Report, Vec<Diagnostic>) {
    let mut report = Report::default();
    let mut out = Vec::new();
    let Some(account) = project.account.clone() else {
        let bounded = project.policies.iter().any(|p| p.boundary)
            || project.principals.iter().any(|p| p.boundary.is_some());
        if bounded {
            report.skipped =
                Some("the project declares no account, so its ARNs are unknown".into());
        }
        return (report, out);
    };
    // Who carries each managed policy, and each group's members, in one pass: a policy
    // attached to a group reaches its members.
    let mut members: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for u in &project.principals {
        for g in &u.groups {
            members.entry(g.as_str()).or_default().extend(u.arn.clone());
        }
    }
    let mut carriers: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for q in &project.principals {
        for a in &q.attached {
            let holders = carriers.entry(a.value.as_str()).or_default();
            holders.extend(q.arn.clone());
            if q.kind == PrincipalKind::Group {
                holders.extend(members.get(q.name.as_str()).into_iter().flatten().cloned());
            }
        }
    }
    let world = World {
        partition: project.partition.clone(),
        account,
        principals: project
            .principals
            .iter()
            .filter_map(|p| {
                Some((
                    p.arn.clone()?,
                    p.kind,
                    p.boundary.as_ref().map(|b| b.value.clone()),
                ))
            })
            .collect(),
        attachments: project
            .policies
            .iter()
            .filter(|p| !p.boundary)
            .filter_map(|p| {
                let arn = p.arn.clone()?;
                let holders = carriers.get(arn.as_str()).cloned().unwrap_or_default();
                Some((arn, Some(holders)))
            })
            .collect(),
        boundaries: project
            .policies
            .iter()
            .filter(|p| p.boundary)
            .filter_map(|p| p.arn.clone())
            .collect(),
        groups: project
            .principals
            .iter()
            .filter(|g| g.kind == PrincipalKind::Group)
            .filter_map(|g| {
                let members = members.get(g.name.as_str()).cloned().unwrap_or_default();
                let has_policies = !g.documents.is_empty() || !g.attached.is_empty();
                Some((g.arn.clone()?, members, has_policies))
            })
            .collect(),
        known,
        ..World::default()
    };
    let by_arn: std::collections::HashMap<&str, usize> = project
        .policies
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((p.arn.as_deref()?, i)))
        .collect();
    let groups: std::collections::HashMap<&str, &iam::PrincipalInfo> = project
        .principals
        .iter()
        .filter(|q| q.kind == PrincipalKind::Group)
        .map(|q| (q.name.as_str(), q))
        .collect();
    // A managed policy's document: the project's own, or AWS's.
    let managed = |arn: &str| -> Option<iam::Policy> {
        match by_arn.get(arn) {
            Some(&i) => Some(
                project.documents[project.policies[i].document]
                    .policy
                    .clone(),
            ),
            None => project::aws_managed_document(arn),
        }
    };
    let boundary_info = |arn: &str| -> Option<BoundaryInfo> {
        let p = &project.policies[*by_arn.get(arn)?];
        Some(BoundaryInfo {
            name: p.name.clone(),
            arn: arn.to_string(),
            label: format!("boundary {}", p.name),
            policy: project.documents[p.document].policy.clone(),
            guard: p.guard.clone(),
            span: p.span,
        })
    };
    let mut reported: Vec<(String, Vec<(Code, String)>)> = Vec::new();
    // Principals (ARNs) with findings, and where their first diagnostic is.
    let mut paths: Vec<(String, usize)> = Vec::new();
    for p in project.policies.iter().filter(|p| p.boundary) {
        let Some(info) = p.arn.as_deref().and_then(boundary_info) else {
            continue;
        };
        let (closed, found, raw) = boundary_findings(&world, &info);
        reported.push((info.arn.clone(), raw));
        report.boundaries.push(Closure {
            name: p.name.clone(),
            closed,
            bounded: true,
            findings: found.clone(),
        });
        out.extend(found);
    }
    for principal in project
        .principals
        .iter()
        .filter(|p| p.kind != PrincipalKind::Group)
    {
        let Some(arn) = principal.arn.clone() else {
            continue;
        };
        let mut identity = Vec::new();
        let mut documents = principal.documents.clone();
        let mut attached = principal.attached.clone();
        if principal.kind == PrincipalKind::User {
            for g in &principal.groups {
                if let Some(group) = groups.get(g.as_str()) {
                    documents.extend(group.documents.iter().copied());
                    attached.extend(group.attached.iter().cloned());
                }
            }
        }
        for &i in &documents {
            let d = &project.documents[i];
            if d.kind != iam::DocumentKind::Trust {
                identity.push((format!("inline {}", d.name), d.policy.clone()));
            }
        }
        let mut unknown = false;
        for a in &attached {
            match managed(&a.value) {
                Some(policy) => identity.push((a.value.clone(), policy)),
                None => unknown = true,
            }
        }
        let boundary = principal.boundary.as_ref().and_then(|b| {
            boundary_info(&b.value).or_else(|| {
                let policy = managed(&b.value)?;
                Some(BoundaryInfo {
                    name: b.value.rsplit('/').next().unwrap_or(&b.value).to_string(),
                    arn: b.value.clone(),
                    label: format!("boundary {}", b.value),
                    policy,
                    guard: None,
                    span: b.span,
                })
            })
        });
        if unknown {
            // A managed policy iamx has no document for: whatever it allows is unknown, so
            // the principal is treated as having the worst identity policy.
            identity.push((
                "an attached policy iamx cannot read".into(),
                worst_identity(),
            ));
        }
        let unknown_boundary = principal
            .boundary
            .as_ref()
            .filter(|_| boundary.is_none())
            .map(|b| b.value.clone());
        let own_policies = attached
            .iter()
            .filter(|a| !a.value.contains(":iam::aws:policy/"))
            .map(|a| a.value.clone())
            .collect();
        let subject = Subject {
            name: principal.name.clone(),
            display: format!("{} `{}`", principal.kind.as_str(), principal.name),
            kind: principal.kind,
            caller: project::caller_arn(project, principal),
            arn,
            identity,
            boundary,
            own_policies,
            context: project::principal_context(project, principal),
            span: principal.name_span,
            delegates: principal.delegates,
            unknown_boundary,
        };
        let skip = subject
            .boundary
            .as_ref()
            .and_then(|b| reported.iter().find(|(arn, _)| *arn == b.arn))
            .map_or(&[][..], |(_, raw)| raw.as_slice());
        let (closed, found) = principal_findings(&world, &subject, skip);
        if world.known.is_some() && !closed {
            paths.push((subject.arn.clone(), out.len()));
        }
        report.principals.push(Closure {
            name: principal.name.clone(),
            closed,
            bounded: subject.boundary.is_some(),
            findings: found.clone(),
        });
        out.extend(found);
    }
    // Escalations through roles go on with the role's own: the path, step by step.
    let leads = world.leads.borrow();
    for (arn, at) in paths {
        if let Some(d) = out.get_mut(at) {
            if d.code == Code::GuardUnboundedPrincipal {
                roles::show_path(&leads, &arn, d);
            }
        }
    }
    (report, out)
}
