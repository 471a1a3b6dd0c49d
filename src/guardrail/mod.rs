//! The guardrail, proved: for every boundary and every principal, adversarial requests are
//! evaluated with the real policies, and each one that is allowed is an open vector.
//!
//! A boundary is *closed* when, whatever identity policy its holder has (the worst one:
//! `Allow *` on `*`), none of the vectors below is open. A principal is closed when its own
//! policies, within its boundary, open none; a principal that can change its own permissions
//! has exactly its boundary's power, so it is then checked with the worst identity policy too.
//!
//! The vectors (the book's "guardrail" page gives each one's public source):
//! W0601 create a user or role with no boundary, or another one; W0602 put another boundary
//! on, or remove one from, a user or role; W0603 edit the boundary policy; W0604 change its own
//! permissions when the boundary is open; W0605 pass a role the analysis cannot show bounded;
//! W0606 manage principals outside its reach (their policies, credentials, trust, groups);
//! W0607 pass such a role to a service that runs code; W0608 edit managed policies attached
//! elsewhere; W0609 run code as other principals (Lambda, SSM, EC2 Instance Connect);
//! W0610 assume roles outside its reach. Anything the analysis cannot show bounded is treated
//! as privileged.

use crate::diag::{Code, Diagnostic};
use crate::eval::pattern::wildcard;
use crate::eval::{project, CompiledPolicy, Context, Decision, DecisionKind, PolicySet, Request};
use spec as guard;
use spec::GuardSpec;

pub mod spec;
use crate::iam::{self, Effect, PrincipalKind, Project};
use crate::source::Span;

const REGION: &str = "us-east-1";
const ADMIN: &str = "AdministratorAccess";

/// Closure of one boundary or principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closure {
    pub name: String,
    pub closed: bool,
    /// Principals only: whether it carries a boundary at all.
    pub bounded: bool,
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
            let open = self
                .principals
                .iter()
                .filter(|p| !p.bounded && !p.closed)
                .count();
            parts.push(format!(
                "{} without a boundary ({open} can escalate)",
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

/// What the rest of the account holds: other principals and where policies are attached.
#[derive(Default)]
pub struct World {
    pub partition: String,
    pub account: String,
    /// Other principals: (ARN, kind, boundary ARN).
    pub principals: Vec<(String, PrincipalKind, Option<String>)>,
    /// Customer managed policies and the principals (ARNs) they are attached to.
    pub attachments: Vec<(String, Vec<String>)>,
    /// The project's boundaries (ARNs): each is "another boundary" to the others.
    pub boundaries: Vec<String>,
}

struct Finding {
    code: Code,
    message: String,
    decision: Decision,
    set_index: usize,
    request: Request,
}

/// The policy set a subject evaluates with, and the raw policies (for resource candidates).
struct Evaluator {
    set: PolicySet,
    raw: Vec<iam::Policy>,
}

fn worst_identity() -> iam::Policy {
    let star = |v: &str| iam::Block {
        not: false,
        values: vec![iam::Spanned::new(v.to_string(), None)],
        span: None,
    };
    iam::Policy {
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

impl Evaluator {
    fn new(identity: &[(String, iam::Policy)], boundary: Option<&BoundaryInfo>) -> Evaluator {
        let mut set = PolicySet::default();
        let mut raw = Vec::new();
        for (label, policy) in identity {
            set.identity
                .push(CompiledPolicy::new(label.clone(), policy));
            raw.push(policy.clone());
        }
        if let Some(b) = boundary {
            set.boundary = Some(CompiledPolicy::new(b.label.clone(), &b.policy));
            raw.push(b.policy.clone());
        }
        Evaluator { set, raw }
    }

    /// Where, in the statement a decision names, the request's action is written.
    fn action_span(&self, at: crate::eval::StatementRef, action: &str) -> Option<Span> {
        let index = match at.role {
            crate::eval::PolicyRole::Identity => at.policy,
            crate::eval::PolicyRole::Boundary => self.set.identity.len(),
            _ => return None,
        };
        let statement = self.raw.get(index)?.statements.get(at.statement)?;
        let block = statement.action.as_ref()?;
        if block.not {
            return block.span;
        }
        block
            .values
            .iter()
            .find(|a| wildcard(&a.value, action, true))
            .and_then(|a| a.span)
    }

    /// Resources the policies name for an action, made concrete: `*` and `?` and variables
    /// filled with probe text. These catch grants scoped to a path or a name prefix.
    fn candidates(&self, action: &str, service: &str) -> Vec<String> {
        let mut out = Vec::new();
        for policy in &self.raw {
            for s in &policy.statements {
                if s.effect.value != Effect::Allow {
                    continue;
                }
                let (Some(actions), Some(resources)) = (&s.action, &s.resource) else {
                    continue;
                };
                let names = actions
                    .values
                    .iter()
                    .any(|a| wildcard(&a.value, action, true));
                if names == actions.not || resources.not {
                    continue;
                }
                for r in &resources.values {
                    let concrete = concrete(&r.value);
                    if concrete.split(':').nth(2) == Some(service) && !out.contains(&concrete) {
                        out.push(concrete);
                    }
                }
            }
        }
        out
    }
}

/// Keys a caller controls or can meet by how it calls: a condition on them does not stop an
/// adversary who is the principal.
fn caller_controlled(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
        "aws:sourceip",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:vpcsourceip",
        "aws:requestedregion",
        "aws:currenttime",
        "aws:epochtime",
        "aws:securetransport",
        "aws:useragent",
        "aws:referer",
        "aws:tokenissuetime",
        "aws:tagkeys",
    ]
    .contains(&key.as_str())
        || key.starts_with("aws:requesttag/")
}

/// For each caller-controlled key the allow statements test, a value that meets the first
/// such test.
fn satisfying_context(policies: &[&iam::Policy]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for policy in policies {
        for s in policy
            .statements
            .iter()
            .filter(|s| s.effect.value == Effect::Allow)
        {
            for c in &s.conditions {
                if !caller_controlled(&c.key)
                    || out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&c.key))
                {
                    continue;
                }
                let Some(value) = c.values.first() else {
                    continue;
                };
                let base = c.operator.rsplit(':').next().unwrap_or(&c.operator);
                let base = base.strip_suffix("IfExists").unwrap_or(base);
                let meeting = match base {
                    "Bool"
                    | "StringEquals"
                    | "StringEqualsIgnoreCase"
                    | "ArnEquals"
                    | "DateEquals"
                    | "NumericEquals" => value.clone(),
                    "StringLike" | "ArnLike" => concrete(value),
                    "IpAddress" => value.split('/').next().unwrap_or(value).to_string(),
                    "NumericLessThan" | "NumericLessThanEquals" => "0".to_string(),
                    "NumericGreaterThan" | "NumericGreaterThanEquals" => value
                        .parse::<f64>()
                        .map(|v| (v + 1.0).to_string())
                        .unwrap_or_else(|_| value.clone()),
                    "DateLessThan" | "DateLessThanEquals" => "1970-01-01T00:00:00Z".to_string(),
                    "DateGreaterThan" | "DateGreaterThanEquals" => {
                        "2999-01-01T00:00:00Z".to_string()
                    }
                    "Null" if value == "false" => "iamx-probe".to_string(),
                    _ => continue,
                };
                out.push((c.key.clone(), meeting));
            }
        }
    }
    out
}

/// A pattern made into one ARN it matches.
fn concrete(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("${") {
            if let Some(end) = rest.find('}') {
                out.push_str("iamx-probe");
                rest = &rest[end + 1..];
                continue;
            }
        }
        match c {
            '*' => out.push_str("iamx-probe"),
            '?' => out.push('x'),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

struct Analysis<'a> {
    world: &'a World,
    subject: &'a Subject,
    /// Values of caller-controlled keys that meet the policies' conditions.
    satisfy: Vec<(String, String)>,
    /// The boundary's reach: ARN patterns of principals it may create and manage.
    reach: Vec<String>,
    evaluators: Vec<Evaluator>,
}

impl<'a> Analysis<'a> {
    fn arn(&self, kind: &str, path_name: &str) -> String {
        format!(
            "arn:{}:iam::{}:{kind}/{path_name}",
            self.world.partition, self.world.account
        )
    }

    fn boundary_arn(&self) -> Option<&str> {
        self.subject.boundary.as_ref().map(|b| b.arn.as_str())
    }

    /// Whether a principal ARN is within the boundary's reach: under the guard's path, or
    /// known to carry the same boundary, or the subject itself.
    fn within_reach(&self, arn: &str) -> bool {
        if arn == self.subject.arn {
            return true;
        }
        let Some(boundary) = self.boundary_arn() else {
            return false;
        };
        self.reach.iter().any(|r| wildcard(r, arn, false))
            || self
                .world
                .principals
                .iter()
                .any(|(p, _, b)| p == arn && b.as_deref() == Some(boundary))
    }

    fn request(&self, action: &str, resource: &str, context: &[(&str, String)]) -> Request {
        let mut request = Request::new(&self.subject.caller, action, resource);
        request.context = self.subject.context.clone();
        // The caller meets the conditions it controls: MFA, network, region, time, tags on
        // the request.
        for (k, v) in &self.satisfy {
            request.context.insert(k, vec![v.clone()]);
        }
        for (k, v) in context {
            request.context.insert(k, vec![v.clone()]);
        }
        request
    }

    /// The first request of the list allowed by evaluator `e`.
    fn allowed(&self, e: usize, requests: Vec<Request>) -> Option<(Request, Decision)> {
        requests.into_iter().find_map(|r| {
            let d = self.evaluators[e].set.evaluate(&r);
            (d.kind == DecisionKind::Allowed).then_some((r, d))
        })
    }

    fn finding(
        &self,
        e: usize,
        code: Code,
        message: String,
        requests: Vec<Request>,
    ) -> Option<Finding> {
        self.allowed(e, requests)
            .map(|(request, decision)| Finding {
                code,
                message,
                decision,
                set_index: e,
                request,
            })
    }

    /// Principals to aim a request at: a probe outside any reach, the ARNs the policies name
    /// for the action, and one of the project's principals per boundary they carry (the
    /// evaluation depends on the ARN only through the policies' resource patterns, which the
    /// named ARNs cover).
    fn principal_targets(&self, kind: &str, e: usize, action: &str) -> Vec<String> {
        let mut targets = vec![self.arn(kind, "iamx-probe-outside")];
        targets.extend(self.evaluators[e].candidates(action, "iam"));
        let mut seen: Vec<&Option<String>> = Vec::new();
        for (arn, k, boundary) in &self.world.principals {
            if k.as_str() == kind && !seen.contains(&boundary) {
                seen.push(boundary);
                targets.push(arn.clone());
            }
        }
        targets.retain(|t| t.contains(&format!(":{kind}/")));
        targets.dedup();
        targets
    }

    /// Every vector but self-editing, with evaluator `e`.
    fn vectors(&self, e: usize) -> Vec<Finding> {
        let mut out = Vec::new();
        let admin = format!("arn:{}:iam::aws:policy/{ADMIN}", self.world.partition);
        // Another boundary: a made-up one, and each of the project's other boundaries.
        let mut other_boundaries = vec![self.arn("policy", "iamx-probe/OtherBoundary")];
        other_boundaries.extend(
            self.world
                .boundaries
                .iter()
                .filter(|b| Some(b.as_str()) != self.boundary_arn())
                .cloned(),
        );
        let own_boundary = self.boundary_arn().map(str::to_string);
        for (kind, create) in [("user", "iam:CreateUser"), ("role", "iam:CreateRole")] {
            let mut targets = self.principal_targets(kind, e, create);
            targets.push(self.arn(kind, "iamx-probe-new"));
            let none: Vec<Request> = targets
                .iter()
                .map(|t| self.request(create, t, &[]))
                .collect();
            let other: Vec<Request> = targets
                .iter()
                .flat_map(|t| {
                    other_boundaries
                        .iter()
                        .map(|b| self.request(create, t, &[("iam:PermissionsBoundary", b.clone())]))
                })
                .collect();
            out.extend(
                self.finding(
                    e,
                    Code::GuardCreateUnbounded,
                    format!("can create a {kind} with no permissions boundary"),
                    none,
                )
                .or_else(|| {
                    self.finding(
                        e,
                        Code::GuardCreateUnbounded,
                        format!("can create a {kind} with another permissions boundary"),
                        other,
                    )
                }),
            );
            let put = if kind == "user" {
                "iam:PutUserPermissionsBoundary"
            } else {
                "iam:PutRolePermissionsBoundary"
            };
            let delete = if kind == "user" {
                "iam:DeleteUserPermissionsBoundary"
            } else {
                "iam:DeleteRolePermissionsBoundary"
            };
            let mut targets = self.principal_targets(kind, e, put);
            if self.subject.kind.as_str() == kind {
                targets.push(self.subject.arn.clone());
            }
            let puts = targets
                .iter()
                .flat_map(|t| {
                    other_boundaries
                        .iter()
                        .map(|b| self.request(put, t, &[("iam:PermissionsBoundary", b.clone())]))
                })
                .collect();
            let mut carried: Vec<(&str, String)> = Vec::new();
            if let Some(b) = &own_boundary {
                carried.push(("iam:PermissionsBoundary", b.clone()));
            }
            let mut delete_targets = self.principal_targets(kind, e, delete);
            if self.subject.kind.as_str() == kind {
                delete_targets.push(self.subject.arn.clone());
            }
            let deletes = delete_targets
                .iter()
                .map(|t| self.request(delete, t, &carried))
                .collect();
            out.extend(
                self.finding(
                    e,
                    Code::GuardChangeBoundary,
                    format!("can put another permissions boundary on a {kind}"),
                    puts,
                )
                .or_else(|| {
                    self.finding(
                        e,
                        Code::GuardChangeBoundary,
                        format!("can remove the permissions boundary of a {kind}"),
                        deletes,
                    )
                }),
            );
        }
        if let Some(b) = &own_boundary {
            let edits = guard::POLICY_EDITS
                .iter()
                .map(|a| self.request(a, b, &[]))
                .collect();
            out.extend(self.finding(
                e,
                Code::GuardEditBoundary,
                "can edit its own permissions boundary policy".into(),
                edits,
            ));
        }
        // Principals outside its reach: their policies, credentials, trust and groups.
        let mut outside = Vec::new();
        for (kind, actions) in [
            (
                "user",
                vec![
                    "iam:AttachUserPolicy",
                    "iam:PutUserPolicy",
                    "iam:CreateAccessKey",
                    "iam:UpdateAccessKey",
                    "iam:CreateLoginProfile",
                    "iam:UpdateLoginProfile",
                    "iam:UploadSSHPublicKey",
                    "iam:CreateServiceSpecificCredential",
                ],
            ),
            (
                "role",
                vec![
                    "iam:AttachRolePolicy",
                    "iam:PutRolePolicy",
                    "iam:UpdateAssumeRolePolicy",
                ],
            ),
        ] {
            for action in actions {
                for target in self.principal_targets(kind, e, action) {
                    if self.within_reach(&target) {
                        continue;
                    }
                    let carried = self
                        .world
                        .principals
                        .iter()
                        .find(|(a, _, _)| *a == target)
                        .and_then(|(_, _, b)| b.clone());
                    let mut context = Vec::new();
                    if action.contains("Attach") {
                        context.push(("iam:PolicyARN", admin.clone()));
                    }
                    if let Some(b) = carried {
                        context.push(("iam:PermissionsBoundary", b));
                    }
                    outside.push(self.request(action, &target, &context));
                }
            }
        }
        for action in guard::GROUP_MANAGEMENT {
            let context = if action.contains("Attach") {
                vec![("iam:PolicyARN", admin.clone())]
            } else {
                Vec::new()
            };
            for group in self.principal_targets("group", e, action) {
                if !self.group_within_reach(&group) {
                    outside.push(self.request(action, &group, &context));
                }
            }
        }
        out.extend(self.finding(
            e,
            Code::GuardOutsideReach,
            "can change the permissions or credentials of principals outside its reach".into(),
            outside,
        ));
        // Roles it may pass.
        let services = [
            "ec2.amazonaws.com",
            "lambda.amazonaws.com",
            "ecs-tasks.amazonaws.com",
            "glue.amazonaws.com",
            "cloudformation.amazonaws.com",
            "codebuild.amazonaws.com",
            "sagemaker.amazonaws.com",
        ];
        let mut roles = self.principal_targets("role", e, "iam:PassRole");
        roles.retain(|r| !self.within_pass_reach(r));
        let mut passes = Vec::new();
        for role in &roles {
            for service in services {
                passes.push(self.request(
                    "iam:PassRole",
                    role,
                    &[("iam:PassedToService", service.to_string())],
                ));
            }
        }
        if let Some(pass) = self.finding(
            e,
            Code::GuardPassUnbounded,
            "can pass a role the analysis cannot show to be bounded".into(),
            passes,
        ) {
            out.push(pass);
            // Every service such a role can be passed to, and that runs code under it.
            for service in services {
                let to_service: Vec<Request> = roles
                    .iter()
                    .map(|r| {
                        self.request(
                            "iam:PassRole",
                            r,
                            &[("iam:PassedToService", service.to_string())],
                        )
                    })
                    .collect();
                if self.allowed(e, to_service).is_none() {
                    continue;
                }
                if let Some(combo) = self.compute_combo(e, service) {
                    out.push(combo);
                    break;
                }
            }
        }
        // Policies attached elsewhere.
        let mut elsewhere = vec![self.arn("policy", "iamx-probe-elsewhere")];
        // Policies the guard lets its holder manage are its own; so are the project's policies
        // attached only within its reach. Other policies the statements name may be attached
        // anywhere.
        let managed_path = self
            .subject
            .boundary
            .as_ref()
            .and_then(|b| b.guard.as_ref())
            .and_then(|g| g.manage_path.clone())
            .filter(|p| p != "/");
        let policy_root = format!(
            "arn:{}:iam::{}:policy",
            self.world.partition, self.world.account
        );
        for candidate in self.evaluators[e].candidates("iam:CreatePolicyVersion", "iam") {
            let under_managed = managed_path
                .as_ref()
                .is_some_and(|p| candidate.starts_with(&format!("{policy_root}{p}")));
            let known_within = self.world.attachments.iter().any(|(policy, holders)| {
                *policy == candidate && holders.iter().all(|h| self.within_reach(h))
            });
            if !under_managed && !known_within {
                elsewhere.push(candidate);
            }
        }
        for (policy, holders) in &self.world.attachments {
            if holders.iter().any(|h| !self.within_reach(h)) {
                elsewhere.push(policy.clone());
            }
        }
        elsewhere.retain(|p| {
            p.contains(":policy/")
                && Some(p.as_str()) != self.boundary_arn()
                && !self.subject.own_policies.contains(p)
        });
        let edits = elsewhere
            .iter()
            .flat_map(|p| {
                ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]
                    .into_iter()
                    .map(|a| self.request(a, p, &[]))
            })
            .collect();
        out.extend(self.finding(
            e,
            Code::GuardEditPoliciesElsewhere,
            "can edit managed policies attached to principals outside its reach".into(),
            edits,
        ));
        // Running code as others.
        let function = format!(
            "arn:{}:lambda:{REGION}:{}:function:iamx-probe",
            self.world.partition, self.world.account
        );
        let instance = format!(
            "arn:{}:ec2:{REGION}:{}:instance/i-0123456789abcdef0",
            self.world.partition, self.world.account
        );
        let document = format!(
            "arn:{}:ssm:{REGION}::document/AWS-RunShellScript",
            self.world.partition
        );
        let p = &self.world.partition;
        let a = &self.world.account;
        let code = vec![
            self.request("lambda:UpdateFunctionCode", &function, &[]),
            self.request("lambda:UpdateFunctionConfiguration", &function, &[]),
            self.request(
                "ecs:ExecuteCommand",
                &format!("arn:{p}:ecs:{REGION}:{a}:task/iamx-probe/0123456789abcdef"),
                &[],
            ),
            self.request(
                "glue:UpdateDevEndpoint",
                &format!("arn:{p}:glue:{REGION}:{a}:devEndpoint/iamx-probe"),
                &[],
            ),
            self.request(
                "cloudformation:UpdateStack",
                &format!("arn:{p}:cloudformation:{REGION}:{a}:stack/iamx-probe/0123"),
                &[],
            ),
            self.request(
                "codebuild:StartBuild",
                &format!("arn:{p}:codebuild:{REGION}:{a}:project/iamx-probe"),
                &[],
            ),
            self.request(
                "sagemaker:CreatePresignedNotebookInstanceUrl",
                &format!("arn:{p}:sagemaker:{REGION}:{a}:notebook-instance/iamx-probe"),
                &[],
            ),
            self.request("ssm:SendCommand", &instance, &[]),
            self.request("ssm:SendCommand", &document, &[]),
            self.request("ssm:StartSession", &instance, &[]),
            self.request("ec2-instance-connect:SendSSHPublicKey", &instance, &[]),
        ];
        out.extend(self.finding(
            e,
            Code::GuardRunAsOthers,
            "can run code as other principals".into(),
            code,
        ));
        // Assuming roles.
        let mut assumable = self.principal_targets("role", e, "sts:AssumeRole");
        assumable.extend(self.evaluators[e].candidates("sts:AssumeRole", "iam"));
        assumable.retain(|r| !self.within_reach(r));
        let assumes = assumable
            .iter()
            .map(|r| self.request("sts:AssumeRole", r, &[]))
            .collect();
        out.extend(self.finding(
            e,
            Code::GuardAssumeOutside,
            "can assume roles outside its reach".into(),
            assumes,
        ));
        out
    }

    /// Groups carry no boundary: within reach only under the path where its guard creates users.
    fn group_within_reach(&self, group: &str) -> bool {
        let Some(spec) = self
            .subject
            .boundary
            .as_ref()
            .and_then(|b| b.guard.as_ref())
        else {
            return false;
        };
        spec.users
            && spec.create_path != "/"
            && wildcard(
                &format!(
                    "arn:{}:iam::{}:group{}*",
                    self.world.partition, self.world.account, spec.create_path
                ),
                group,
                false,
            )
    }

    /// Passing is safe for roles the guard lets it pass, under a path only roles created with
    /// the boundary can have.
    fn within_pass_reach(&self, role: &str) -> bool {
        let Some(b) = &self.subject.boundary else {
            return false;
        };
        let Some(spec) = &b.guard else {
            return self.within_reach(role);
        };
        let arns = guard::Arns {
            partition: &self.world.partition,
            account: &self.world.account,
            boundary: &b.arn,
        };
        match &spec.pass {
            Some((path, _)) if spec.roles && path.starts_with(&spec.create_path) && path != "/" => {
                wildcard(
                    &format!("arn:{}:iam::{}:role{path}*", arns.partition, arns.account),
                    role,
                    false,
                )
            }
            _ => self.within_reach(role),
        }
    }

    /// A service that runs code under a passed role.
    fn compute_combo(&self, e: usize, service: &str) -> Option<Finding> {
        let account = &self.world.account;
        let p = &self.world.partition;
        let requests: Vec<(&str, String)> = match service {
            "ec2.amazonaws.com" => vec![(
                "ec2:RunInstances",
                format!("arn:{p}:ec2:{REGION}:{account}:instance/*"),
            )],
            "lambda.amazonaws.com" => vec![(
                "lambda:CreateFunction",
                format!("arn:{p}:lambda:{REGION}:{account}:function:iamx-probe"),
            )],
            "ecs-tasks.amazonaws.com" => vec![
                (
                    "ecs:RunTask",
                    format!("arn:{p}:ecs:{REGION}:{account}:task-definition/iamx-probe:1"),
                ),
                ("ecs:RegisterTaskDefinition", "*".into()),
            ],
            "glue.amazonaws.com" => vec![
                (
                    "glue:CreateDevEndpoint",
                    format!("arn:{p}:glue:{REGION}:{account}:devEndpoint/iamx-probe"),
                ),
                (
                    "glue:CreateJob",
                    format!("arn:{p}:glue:{REGION}:{account}:job/iamx-probe"),
                ),
            ],
            "cloudformation.amazonaws.com" => vec![(
                "cloudformation:CreateStack",
                format!("arn:{p}:cloudformation:{REGION}:{account}:stack/iamx-probe/*"),
            )],
            "codebuild.amazonaws.com" => vec![(
                "codebuild:CreateProject",
                format!("arn:{p}:codebuild:{REGION}:{account}:project/iamx-probe"),
            )],
            "sagemaker.amazonaws.com" => vec![
                (
                    "sagemaker:CreateNotebookInstance",
                    format!("arn:{p}:sagemaker:{REGION}:{account}:notebook-instance/iamx-probe"),
                ),
                (
                    "sagemaker:CreateTrainingJob",
                    format!("arn:{p}:sagemaker:{REGION}:{account}:training-job/iamx-probe"),
                ),
            ],
            _ => Vec::new(),
        };
        let service_name = service.split('.').next().unwrap_or(service).to_string();
        self.finding(
            e,
            Code::GuardPassAndRun,
            format!("can run code as such a role, through {service_name}"),
            requests
                .into_iter()
                .map(|(a, r)| self.request(a, &r, &[]))
                .collect(),
        )
    }

    /// Whether the subject can change its own permissions; with which request.
    fn self_edit(&self, e: usize) -> Option<(Request, Decision)> {
        let admin = format!("arn:{}:iam::aws:policy/{ADMIN}", self.world.partition);
        let (attach, put) = match self.subject.kind {
            PrincipalKind::Role => ("iam:AttachRolePolicy", "iam:PutRolePolicy"),
            _ => ("iam:AttachUserPolicy", "iam:PutUserPolicy"),
        };
        let mut context = vec![("iam:PolicyARN", admin)];
        if let Some(b) = self.boundary_arn() {
            context.push(("iam:PermissionsBoundary", b.to_string()));
        }
        let mut requests = vec![
            self.request(attach, &self.subject.arn, &context),
            self.request(put, &self.subject.arn, &context),
        ];
        for policy in &self.subject.own_policies {
            for action in ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"] {
                requests.push(self.request(action, policy, &[]));
            }
        }
        self.allowed(e, requests)
    }
}

/// The statement a finding points at: the identity grant for a principal, the boundary's
/// allow for a boundary (whose identity side is the worst policy, with no place in the source).
fn place(
    evaluator: &Evaluator,
    decision: &Decision,
    action: &str,
    prefer_boundary: bool,
) -> (Option<Span>, Vec<(Span, String)>) {
    let spans = evaluator.set.deciding_spans(decision);
    let mut primary = None;
    let mut labels = Vec::new();
    for (at, span) in spans {
        let Some(span) = evaluator.action_span(at, action).or(span) else {
            continue;
        };
        let is_boundary = at.role == crate::eval::PolicyRole::Boundary;
        if primary.is_none() && (is_boundary == prefer_boundary) {
            primary = Some(span);
        } else {
            labels.push((span, format!("the {} allows it", at.role.words())));
        }
    }
    if primary.is_none() && !labels.is_empty() {
        primary = Some(labels.remove(0).0);
    }
    (primary, labels)
}

fn describe_request(request: &Request) -> String {
    let mut text = format!("`{}` on `{}`", request.action, request.resource);
    let keys: Vec<String> = [
        "iam:PermissionsBoundary",
        "iam:PassedToService",
        "iam:PolicyARN",
    ]
    .iter()
    .filter_map(|k| {
        request
            .context
            .single(&k.to_ascii_lowercase())
            .map(|v| format!("{k} = {v}"))
    })
    .collect();
    if !keys.is_empty() {
        text.push_str(&format!(" ({})", keys.join(", ")));
    }
    text
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
    let subject = Subject {
        name: boundary.name.clone(),
        display: format!("the holder of boundary `{}`", boundary.name),
        kind: PrincipalKind::User,
        arn: format!(
            "arn:{}:iam::{}:user/iamx-probe-holder",
            world.partition, world.account
        ),
        caller: format!(
            "arn:{}:iam::{}:user/iamx-probe-holder",
            world.partition, world.account
        ),
        identity: vec![("the worst identity policy".into(), worst_identity())],
        boundary: Some(boundary.clone()),
        own_policies: Vec::new(),
        context: {
            let holder = format!(
                "arn:{}:iam::{}:user/iamx-probe-holder",
                world.partition, world.account
            );
            let mut context = Context::default();
            context.insert("aws:username", vec!["iamx-probe-holder".into()]);
            context.insert("aws:PrincipalArn", vec![holder]);
            context.insert("aws:PrincipalAccount", vec![world.account.clone()]);
            context.insert("aws:PrincipalType", vec!["User".into()]);
            context
        },
        span: boundary.span,
        delegates: false,
        unknown_boundary: None,
    };
    let analysis = Analysis::new(world, &subject, false);
    let findings = analysis.vectors(0);
    let mut out = Vec::new();
    for f in &findings {
        let evaluator = &analysis.evaluators[f.set_index];
        let (primary, labels) = place(evaluator, &f.decision, &f.request.action, true);
        let mut d = Diagnostic::new(
            f.code,
            format!(
                "boundary `{}` is open: its holder {}",
                boundary.name, f.message
            ),
        )
        .help(fix_for(f.code, &boundary.name, boundary.guard.as_ref()));
        if let Some(span) = primary.or(boundary.span) {
            d = d.at(span, format!("allows {}", describe_request(&f.request)));
        }
        for (span, label) in labels {
            d = d.with_label(span, label);
        }
        out.push(d);
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
        .map(|f| (f.code, f.message.clone()))
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
        (Code::GuardRunAsOthers, _) => "allow these actions only on resources its holder's own roles use (a name prefix or tag), or not at all".into(),
        (Code::GuardAssumeOutside, _) => "allow `sts:AssumeRole` only on roles that carry the boundary".into(),
        _ => narrow,
    }
}

impl<'a> Analysis<'a> {
    fn new(world: &'a World, subject: &'a Subject, with_worst: bool) -> Analysis<'a> {
        let reach = subject
            .boundary
            .as_ref()
            .and_then(|b| {
                b.guard.as_ref().map(|g| {
                    g.reach(&guard::Arns {
                        partition: &world.partition,
                        account: &world.account,
                        boundary: &b.arn,
                    })
                })
            })
            .unwrap_or_default();
        let mut evaluators = vec![Evaluator::new(&subject.identity, subject.boundary.as_ref())];
        if with_worst {
            evaluators.push(Evaluator::new(
                &[("the worst identity policy".into(), worst_identity())],
                subject.boundary.as_ref(),
            ));
        }
        let mut policies: Vec<&iam::Policy> = subject.identity.iter().map(|(_, p)| p).collect();
        if let Some(b) = &subject.boundary {
            policies.push(&b.policy);
        }
        Analysis {
            world,
            subject,
            satisfy: satisfying_context(&policies),
            reach,
            evaluators,
        }
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
    let analysis = Analysis::new(world, subject, true);
    let findings = analysis.vectors(0);
    let mut out = Vec::new();
    let who = subject.display.clone();
    if subject.boundary.is_none() {
        if findings.is_empty() {
            return (true, out);
        }
        let what: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        let lacks = match &subject.unknown_boundary {
            Some(arn) => format!("carries the boundary `{arn}`, which iamx has no document for"),
            None => "has no permissions boundary".to_string(),
        };
        let mut d = Diagnostic::new(
            Code::GuardUnboundedPrincipal,
            format!("{who} {lacks}, and {}", what[0]),
        )
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
        let (primary, _) = place(
            &analysis.evaluators[0],
            &findings[0].decision,
            &findings[0].request.action,
            false,
        );
        if let Some(span) = primary.or(subject.span) {
            d = d.at(
                span,
                format!("allows {}", describe_request(&findings[0].request)),
            );
        }
        out.push(d);
        return (false, out);
    }
    for f in &findings {
        if reported
            .iter()
            .any(|(c, m)| *c == f.code && *m == f.message)
        {
            continue;
        }
        let evaluator = &analysis.evaluators[f.set_index];
        let (primary, labels) = place(evaluator, &f.decision, &f.request.action, false);
        let mut d = Diagnostic::new(f.code, format!("{who} {}", f.message)).help(fix_for(
            f.code,
            subject.boundary.as_ref().map_or("", |b| b.name.as_str()),
            subject.boundary.as_ref().and_then(|b| b.guard.as_ref()),
        ));
        if let Some(span) = primary.or(subject.span) {
            d = d.at(span, format!("allows {}", describe_request(&f.request)));
        }
        for (span, label) in labels {
            d = d.with_label(span, label);
        }
        out.push(d);
    }
    let mut closed = findings.is_empty();
    // A principal that can change its own permissions has its boundary's power.
    if let Some((request, decision)) = analysis.self_edit(0) {
        let worse = analysis.vectors(1);
        if !worse.is_empty() {
            closed = false;
            let then: Vec<&str> = worse
                .iter()
                .map(|f| f.message.strip_prefix("can ").unwrap_or(&f.message))
                .collect();
            let (primary, labels) =
                place(&analysis.evaluators[0], &decision, &request.action, false);
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
            if let Some(first) = worse.first() {
                let evaluator = &analysis.evaluators[first.set_index];
                for (at, span) in evaluator.set.deciding_spans(&first.decision) {
                    let span = evaluator.action_span(at, &first.request.action).or(span);
                    if let (Some(span), crate::eval::PolicyRole::Boundary) = (span, at.role) {
                        d = d.with_label(
                            span,
                            format!(
                                "then the boundary allows {}",
                                describe_request(&first.request)
                            ),
                        );
                    }
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

/// The analysis of a compiled project: every boundary, every user and role.
pub fn analyze(project: &Project) -> (Report, Vec<Diagnostic>) {
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
                let holders = project
                    .principals
                    .iter()
                    .filter(|q| q.attached.iter().any(|a| a.value == arn))
                    .filter_map(|q| q.arn.clone())
                    .collect();
                Some((arn, holders))
            })
            .collect(),
        boundaries: project
            .policies
            .iter()
            .filter(|p| p.boundary)
            .filter_map(|p| p.arn.clone())
            .collect(),
    };
    let boundary_info = |arn: &str| -> Option<BoundaryInfo> {
        let p = project
            .policies
            .iter()
            .find(|p| p.arn.as_deref() == Some(arn))?;
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
    for p in project.policies.iter().filter(|p| p.boundary) {
        let Some(info) = p.arn.as_deref().and_then(boundary_info) else {
            continue;
        };
        let (closed, found, raw) = boundary_findings(&world, &info);
        out.extend(found);
        reported.push((info.arn.clone(), raw));
        report.boundaries.push(Closure {
            name: p.name.clone(),
            closed,
            bounded: true,
        });
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
                if let Some(group) = project
                    .principals
                    .iter()
                    .find(|q| q.kind == PrincipalKind::Group && &q.name == g)
                {
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
            match project::managed_document(project, &a.value) {
                Some(policy) => identity.push((a.value.clone(), policy)),
                None => unknown = true,
            }
        }
        let boundary = principal.boundary.as_ref().and_then(|b| {
            boundary_info(&b.value).or_else(|| {
                let policy = project::managed_document(project, &b.value)?;
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
        let own_policies = principal
            .attached
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
        out.extend(found);
        report.principals.push(Closure {
            name: principal.name.clone(),
            closed,
            bounded: subject.boundary.is_some(),
        });
    }
    (report, out)
}
