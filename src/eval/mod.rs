//! IAM policy evaluation: one request, the policies that apply to it, a decision.
//!
//! The logic follows the IAM User Guide, "Policy evaluation logic" and its pages
//! ("Evaluating policies within a single account", "Cross-account policy evaluation logic",
//! "Permissions boundaries for IAM entities", "How AWS KMS key policies work",
//! "Role trust policies"):
//!
//! 1. An explicit `Deny` in any policy that applies wins.
//! 2. With SCPs, some SCP must allow.
//! 3. In the principal's own account, a resource-based policy that grants the IAM user, or the
//!    role session, by its ARN allows on its own; a grant to the role's ARN still needs the
//!    boundary (and session policies) to allow; a grant to the account only delegates to the
//!    identity policies.
//! 4. Otherwise identity policies must allow, and the permissions boundary and session
//!    policies, when there are any, must allow too.
//! 5. Across accounts, both the identity side and the resource policy must allow.
//! 6. A KMS key policy must grant the key's account (or the caller) before IAM policies count;
//!    `sts:AssumeRole` needs the role's trust policy to grant the caller or its account.
//!
//! Policies are compiled once ([`CompiledPolicy`]); evaluating a request allocates nothing in
//! the common case.

pub mod condition;
pub mod pattern;
pub mod project;
pub mod suite;

use crate::iam;
use crate::source::Span;
use condition::Condition;
use pattern::Pattern;

/// The request context: condition keys (lower case) and their values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    entries: Vec<(String, Vec<String>)>,
}

impl Context {
    /// Sets a key (any case) to one or several values.
    pub fn insert(&mut self, key: &str, values: Vec<String>) {
        let key = key.to_ascii_lowercase();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = values,
            None => self.entries.push((key, values)),
        }
    }

    /// The values of a key, given in lower case.
    pub fn get(&self, key_lower: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k == key_lower)
            .map(|(_, v)| v.as_slice())
    }

    /// The value of a single-valued key (policy variables take only those).
    pub fn single(&self, key_lower: &str) -> Option<&str> {
        match self.get(key_lower) {
            Some([one]) => Some(one),
            _ => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

/// What is asked: who, what action, on which resource, in what context.
#[derive(Clone, Debug)]
pub struct Request {
    /// The caller's ARN: a user, a role, an assumed-role session, or a service principal.
    pub principal: String,
    pub action: String,
    /// The resource's ARN, or `*` for actions without resource-level permissions.
    pub resource: String,
    pub context: Context,
}

impl Request {
    pub fn new(principal: &str, action: &str, resource: &str) -> Request {
        Request {
            principal: principal.to_string(),
            action: action.to_string(),
            resource: resource.to_string(),
            context: Context::default(),
        }
    }

    /// The caller's account, from its ARN.
    pub fn principal_account(&self) -> Option<&str> {
        arn_account(&self.principal)
    }

    /// The resource's account: the one in its ARN, or the caller's for ARNs without one (S3)
    /// and for `*`.
    pub fn resource_account(&self) -> Option<&str> {
        arn_account(&self.resource).or_else(|| self.principal_account())
    }
}

fn arn_account(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    (!account.is_empty() && arn.starts_with("arn:")).then_some(account)
}

/// What a policy is to the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyRole {
    Identity,
    Boundary,
    Scp,
    Resource,
    Session,
}

impl PolicyRole {
    pub fn words(self) -> &'static str {
        match self {
            PolicyRole::Identity => "identity policy",
            PolicyRole::Boundary => "permissions boundary",
            PolicyRole::Scp => "service control policy",
            PolicyRole::Resource => "resource-based policy",
            PolicyRole::Session => "session policy",
        }
    }
}

/// A principal entry of a resource-based or trust policy.
#[derive(Clone, Debug)]
enum PrincipalEntry {
    Anyone,
    /// `AWS`: an account (`123456789012` or `arn:…:root`), a role, a user or a session.
    Aws(String),
    /// `Service` or `Federated`: matched by name.
    Named(String),
}

#[derive(Clone, Debug)]
struct PrincipalBlock {
    not: bool,
    entries: Vec<PrincipalEntry>,
}

/// How a resource-based policy names the caller, which decides what else must allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grantee {
    /// The caller's account (root, or the account id): delegates to identity policies.
    Account,
    /// The role the caller's session belongs to: still bounded by the boundary.
    Role,
    /// The caller itself (user or session ARN, service, or `*`).
    Caller,
}

#[derive(Clone, Debug)]
struct CompiledStatement {
    effect: iam::Effect,
    principal: Option<PrincipalBlock>,
    actions: Option<(bool, Vec<Pattern>)>,
    resources: Option<(bool, Vec<Pattern>)>,
    conditions: Vec<Condition>,
}

/// A policy ready to evaluate, with what explanations need to name its statements.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    /// How explanations name the policy: `boundary CompanyXYZPermissionsBoundary`.
    pub label: String,
    statements: Vec<CompiledStatement>,
    /// Per statement: its Sid and its span in the source.
    pub origins: Vec<(Option<String>, Option<Span>)>,
}

impl CompiledPolicy {
    pub fn new(label: impl Into<String>, policy: &iam::Policy) -> CompiledPolicy {
        let mut statements = Vec::with_capacity(policy.statements.len());
        let mut origins = Vec::with_capacity(policy.statements.len());
        for s in &policy.statements {
            let principal = s.principal.as_ref().map(|p| PrincipalBlock {
                not: s.not_principal,
                entries: match p {
                    iam::Principal::Any(_) => vec![PrincipalEntry::Anyone],
                    iam::Principal::Kinds(kinds) => kinds
                        .iter()
                        .flat_map(|(kind, values)| {
                            values
                                .iter()
                                .map(move |v| match (kind.as_str(), v.value.as_str()) {
                                    ("AWS", "*") => PrincipalEntry::Anyone,
                                    ("AWS", arn) => PrincipalEntry::Aws(arn.to_string()),
                                    (_, name) => PrincipalEntry::Named(name.to_string()),
                                })
                        })
                        .collect(),
                },
            });
            let block = |b: &Option<iam::Block>, variables: bool| {
                b.as_ref().map(|b| {
                    (
                        b.not,
                        b.values
                            .iter()
                            .map(|v| Pattern::new(&v.value, variables, true))
                            .collect(),
                    )
                })
            };
            statements.push(CompiledStatement {
                effect: s.effect.value,
                principal,
                actions: block(&s.action, false),
                resources: block(&s.resource, true),
                conditions: s
                    .conditions
                    .iter()
                    .filter_map(|c| Condition::new(&c.operator, &c.key, &c.values))
                    .collect(),
            });
            origins.push((s.sid.as_ref().map(|s| s.value.clone()), s.span));
        }
        CompiledPolicy {
            label: label.into(),
            statements,
            origins,
        }
    }

    /// The first statement of `effect` that applies to the request, and how it names the
    /// caller (for policies with principals).
    fn find(&self, effect: iam::Effect, request: &Request) -> Option<(usize, Grantee)> {
        let mut best: Option<(usize, Grantee)> = None;
        for (i, s) in self.statements.iter().enumerate() {
            if s.effect != effect {
                continue;
            }
            let grantee = match &s.principal {
                None => Grantee::Caller,
                Some(block) => match principal_match(block, request) {
                    Some(g) => g,
                    None => continue,
                },
            };
            if !statement_applies(s, request) {
                continue;
            }
            // Among allows, the strongest grant decides (a grant to the caller beats one to
            // its account).
            if effect == iam::Effect::Deny {
                return Some((i, grantee));
            }
            if best.is_none_or(|(_, g)| grantee > g) {
                best = Some((i, grantee));
            }
        }
        best
    }
}

fn list_matches(
    list: &Option<(bool, Vec<Pattern>)>,
    text: &str,
    request: &Request,
    ignore_case: bool,
) -> bool {
    match list {
        None => true,
        Some((not, patterns)) => {
            let any = patterns
                .iter()
                .any(|p| p.matches(text, &request.context, ignore_case));
            any != *not
        }
    }
}

fn statement_applies(s: &CompiledStatement, request: &Request) -> bool {
    list_matches(&s.actions, &request.action, request, true)
        && list_matches(&s.resources, &request.resource, request, false)
        && s.conditions.iter().all(|c| c.holds(&request.context))
}

/// How (if at all) a principal block names the caller.
fn principal_match(block: &PrincipalBlock, request: &Request) -> Option<Grantee> {
    let caller = request.principal.as_str();
    let account = request.principal_account();
    let mut best: Option<Grantee> = None;
    for entry in &block.entries {
        let grantee = match entry {
            PrincipalEntry::Anyone => Some(Grantee::Caller),
            PrincipalEntry::Named(name) => (name == caller).then_some(Grantee::Caller),
            PrincipalEntry::Aws(value) => aws_principal_match(value, caller, account),
        };
        if grantee > best {
            best = grantee;
        }
    }
    match (block.not, best) {
        (false, found) => found,
        // NotPrincipal: everyone but those listed.
        (true, Some(_)) => None,
        (true, None) => Some(Grantee::Caller),
    }
}

fn aws_principal_match(value: &str, caller: &str, account: Option<&str>) -> Option<Grantee> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return (Some(value) == account).then_some(Grantee::Account);
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [_, _, service, _, acct, resource] = parts.as_slice() else {
        return None;
    };
    if *resource == "root" {
        return (Some(*acct) == account).then_some(Grantee::Account);
    }
    if value == caller {
        return Some(if resource.starts_with("role/") {
            Grantee::Role
        } else {
            Grantee::Caller
        });
    }
    // A role ARN names every session of the role: arn:aws:sts::A:assumed-role/Name/session.
    if *service == "iam" {
        if let Some(role_path) = resource.strip_prefix("role/") {
            let role_name = role_path.rsplit('/').next().unwrap_or(role_path);
            let session = caller.splitn(6, ':').collect::<Vec<_>>();
            if let [_, _, "sts", _, caller_acct, res] = session.as_slice() {
                if caller_acct == acct {
                    if let Some(rest) = res.strip_prefix("assumed-role/") {
                        if rest.split('/').next() == Some(role_name) {
                            return Some(Grantee::Role);
                        }
                    }
                }
            }
        }
    }
    None
}

/// The policies that apply to a request.
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    /// Identity policies: inline, attached managed, and those of the user's groups.
    pub identity: Vec<CompiledPolicy>,
    pub boundary: Option<CompiledPolicy>,
    pub scps: Vec<CompiledPolicy>,
    /// The resource's policy: a bucket or key policy, or for `sts:AssumeRole*` the role's trust
    /// policy.
    pub resource: Option<CompiledPolicy>,
    pub session: Vec<CompiledPolicy>,
}

/// The outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allowed => "Allowed",
            DecisionKind::ImplicitlyDenied => "ImplicitlyDenied",
            DecisionKind::ExplicitlyDenied => "ExplicitlyDenied",
        }
    }
}

/// A statement of a policy of the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementRef {
    pub role: PolicyRole,
    /// Index among the policies of that role (0 for the boundary and the resource policy).
    pub policy: usize,
    pub statement: usize,
}

/// Why the decision is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// An explicit deny in this statement.
    Denied(StatementRef),
    /// Allowed by these statements (an identity allow, or a resource grant), with the
    /// boundary's allow when there is a boundary.
    AllowedBy {
        grant: StatementRef,
        boundary: Option<StatementRef>,
    },
    NoScpAllows,
    NoIdentityAllows,
    BoundaryDoesNotAllow,
    SessionDoesNotAllow,
    /// Across accounts, the resource's policy must grant too.
    ResourcePolicyDoesNotAllow,
    /// A KMS key policy must grant the account or the caller.
    KeyPolicyDoesNotAllow,
    /// The role's trust policy must grant the caller or its account.
    TrustPolicyDoesNotAllow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub kind: DecisionKind,
    pub reason: Reason,
}

impl PolicySet {
    fn policies(&self, role: PolicyRole) -> &[CompiledPolicy] {
        match role {
            PolicyRole::Identity => &self.identity,
            PolicyRole::Boundary => self.boundary.as_slice(),
            PolicyRole::Scp => &self.scps,
            PolicyRole::Resource => self.resource.as_slice(),
            PolicyRole::Session => &self.session,
        }
    }

    fn find(
        &self,
        role: PolicyRole,
        effect: iam::Effect,
        request: &Request,
    ) -> Option<(StatementRef, Grantee)> {
        self.policies(role).iter().enumerate().find_map(|(i, p)| {
            p.find(effect, request).map(|(statement, grantee)| {
                (
                    StatementRef {
                        role,
                        policy: i,
                        statement,
                    },
                    grantee,
                )
            })
        })
    }

    /// The policy a statement reference points at.
    pub fn policy(&self, at: StatementRef) -> Option<&CompiledPolicy> {
        self.policies(at.role).get(at.policy)
    }

    /// Evaluates one request.
    pub fn evaluate(&self, request: &Request) -> Decision {
        use iam::Effect::{Allow, Deny};
        use PolicyRole::*;
        let decide = |kind, reason| Decision { kind, reason };
        for role in [Scp, Resource, Identity, Boundary, Session] {
            if let Some((at, _)) = self.find(role, Deny, request) {
                return decide(DecisionKind::ExplicitlyDenied, Reason::Denied(at));
            }
        }
        if !self.scps.is_empty() && self.find(Scp, Allow, request).is_none() {
            return decide(DecisionKind::ImplicitlyDenied, Reason::NoScpAllows);
        }
        let resource_grant = self.find(Resource, Allow, request);
        let identity = self.find(Identity, Allow, request).map(|(at, _)| at);
        let boundary = match &self.boundary {
            None => Ok(None),
            Some(_) => self
                .find(Boundary, Allow, request)
                .map(|(at, _)| Some(at))
                .ok_or(()),
        };
        let session_ok = self.session.is_empty() || self.find(Session, Allow, request).is_some();
        let same_account = request.principal_account() == request.resource_account();
        let service = request.action.split(':').next().unwrap_or("");
        let kms = service.eq_ignore_ascii_case("kms") && self.resource.is_some();
        let assume = service.eq_ignore_ascii_case("sts")
            && request
                .action
                .to_ascii_lowercase()
                .starts_with("sts:assumerole")
            && self.resource.is_some();

        // The identity side: identity ∩ boundary ∩ session.
        let identity_side = || -> Result<Decision, Decision> {
            let Some(grant) = identity else {
                return Err(decide(
                    DecisionKind::ImplicitlyDenied,
                    Reason::NoIdentityAllows,
                ));
            };
            let Ok(boundary) = boundary else {
                return Err(decide(
                    DecisionKind::ImplicitlyDenied,
                    Reason::BoundaryDoesNotAllow,
                ));
            };
            if !session_ok {
                return Err(decide(
                    DecisionKind::ImplicitlyDenied,
                    Reason::SessionDoesNotAllow,
                ));
            }
            Ok(decide(
                DecisionKind::Allowed,
                Reason::AllowedBy { grant, boundary },
            ))
        };
        let must_grant = if kms {
            Some(Reason::KeyPolicyDoesNotAllow)
        } else if assume {
            Some(Reason::TrustPolicyDoesNotAllow)
        } else if !same_account {
            Some(Reason::ResourcePolicyDoesNotAllow)
        } else {
            None
        };
        match (resource_grant, must_grant) {
            (None, Some(reason)) => decide(DecisionKind::ImplicitlyDenied, reason),
            (None, None) => identity_side().unwrap_or_else(|d| d),
            (Some((grant, grantee)), _) if same_account => match grantee {
                // A grant to the user or session ARN allows on its own.
                Grantee::Caller => decide(
                    DecisionKind::Allowed,
                    Reason::AllowedBy {
                        grant,
                        boundary: None,
                    },
                ),
                // A grant to the role ARN is still bounded.
                Grantee::Role => match boundary {
                    Err(()) => decide(DecisionKind::ImplicitlyDenied, Reason::BoundaryDoesNotAllow),
                    Ok(_) if !session_ok => {
                        decide(DecisionKind::ImplicitlyDenied, Reason::SessionDoesNotAllow)
                    }
                    Ok(boundary) => {
                        decide(DecisionKind::Allowed, Reason::AllowedBy { grant, boundary })
                    }
                },
                // A grant to the account delegates to the identity policies.
                Grantee::Account => identity_side().unwrap_or_else(|d| d),
            },
            // Across accounts both sides must allow.
            (Some(_), _) => identity_side().unwrap_or_else(|d| d),
        }
    }

    /// The decision in words, naming the statements that decided it.
    pub fn explain(&self, request: &Request, decision: &Decision) -> String {
        let name = |at: StatementRef| -> String {
            let Some(policy) = self.policy(at) else {
                return "a statement".into();
            };
            let which = match &policy.origins.get(at.statement) {
                Some((Some(sid), _)) => format!("statement `{sid}`"),
                _ => format!("statement {}", at.statement + 1),
            };
            format!("{which} of {} `{}`", at.role.words(), policy.label)
        };
        let action = &request.action;
        match decision.reason {
            Reason::Denied(at) => format!("{} explicitly denies {action}", name(at)),
            Reason::AllowedBy { grant, boundary } => match boundary {
                Some(b) => format!("{} allows {action}, within {}", name(grant), name(b)),
                None => format!("{} allows {action}", name(grant)),
            },
            Reason::NoScpAllows => format!("no service control policy allows {action}"),
            Reason::NoIdentityAllows => format!("no identity policy allows {action}"),
            Reason::BoundaryDoesNotAllow => match &self.boundary {
                Some(b) => format!("the permissions boundary `{}` does not allow {action}", b.label),
                None => format!("the permissions boundary does not allow {action}"),
            },
            Reason::SessionDoesNotAllow => format!("no session policy allows {action}"),
            Reason::ResourcePolicyDoesNotAllow => format!(
                "the resource is in another account, and its resource-based policy does not allow {action}"
            ),
            Reason::KeyPolicyDoesNotAllow => format!(
                "the key policy grants neither the caller nor its account {action}"
            ),
            Reason::TrustPolicyDoesNotAllow => {
                "the role's trust policy grants neither the caller nor its account".to_string()
            }
        }
    }

    /// The source spans of the statements a decision names.
    pub fn deciding_spans(&self, decision: &Decision) -> Vec<(StatementRef, Option<Span>)> {
        let refs: Vec<StatementRef> = match decision.reason {
            Reason::Denied(at) => vec![at],
            Reason::AllowedBy { grant, boundary } => {
                std::iter::once(grant).chain(boundary).collect()
            }
            _ => Vec::new(),
        };
        refs.into_iter()
            .map(|at| {
                let span = self
                    .policy(at)
                    .and_then(|p| p.origins.get(at.statement))
                    .and_then(|(_, s)| *s);
                (at, span)
            })
            .collect()
    }
}
