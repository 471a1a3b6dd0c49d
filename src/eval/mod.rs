//! IAM policy evaluation: one request, the policies that apply to it, a decision.
//!
//! The logic follows the IAM User Guide, "Policy evaluation logic" and its pages
//! ("Determining whether a request is allowed or denied within an account", "Cross-account
//! policy evaluation logic", "Permissions boundaries for IAM entities", "IAM JSON policy
//! elements: NotPrincipal"), the AWS KMS Developer Guide ("Key policies in AWS KMS") and the
//! STS API Reference ("GetCallerIdentity"):
//!
//! 1. `sts:GetCallerIdentity` needs no permission: it is allowed even against a deny.
//! 2. An explicit `Deny` in any policy that applies wins. A resource policy's `NotPrincipal`
//!    spares a caller only when it lists every link of its chain (the account, the role and the
//!    session, or the account and the user), and never spares a user or role that has a
//!    permissions boundary.
//! 3. With SCPs, some SCP must allow (the root user included).
//! 4. A service principal (a caller that is not an ARN) has no identity policies: the resource
//!    or trust policy alone decides.
//! 5. In the principal's own account, a resource-based policy that grants the IAM user, the
//!    role session or the federated user session by its ARN (or `*`) allows on its own; a grant
//!    to the role's ARN still needs the boundary and session policies to allow; a grant to the
//!    account only delegates to the identity policies.
//! 6. Otherwise identity policies must allow, and the permissions boundary and session
//!    policies, when there are any, must allow too. A federated user session without session
//!    policies has no permissions; the account's root user has every permission.
//! 7. Across accounts, both the identity side and the resource policy must allow.
//! 8. A KMS key policy must grant the key's account (or the caller) before IAM policies count;
//!    `sts:AssumeRole*`, `sts:TagSession`, `sts:SetSourceIdentity` and `sts:SetContext` on a
//!    role need the role's trust policy to grant the caller or its account, even within the
//!    account ("Passing session tags in AWS STS", "Monitor and control actions taken with
//!    assumed roles": [`is_trust_action`]).
//! 9. A resource whose ARN names the account `aws` (`arn:aws:iam::aws:policy/…`) belongs to AWS,
//!    not to another account: identity policies alone allow reading it.
//! 10. A resource-based policy's grant to a user's ARN does not name that user's federated user
//!     sessions (`sts::…:federated-user/…`): only a grant to the session's own ARN allows on its
//!     own ("Permissions for GetFederationToken").
//!
//! Statements match as [`condition`] and [`pattern`] describe. Policies are compiled once
//! ([`CompiledPolicy`]); evaluating a request allocates nothing in the common case.

pub mod condition;
pub mod pattern;
pub mod project;
pub mod suite;

use crate::iam;
use crate::source::Span;
use condition::Condition;
use pattern::Pattern;

/// Whether the role's trust policy decides an action on a role: `sts:AssumeRole`,
/// `sts:AssumeRoleWithSAML`, `sts:AssumeRoleWithWebIdentity`, and the actions taken with them,
/// `sts:TagSession`, `sts:SetSourceIdentity` and `sts:SetContext` (IAM User Guide: "Passing
/// session tags in AWS STS", "Monitor and control actions taken with assumed roles").
pub fn is_trust_action(action: &str) -> bool {
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    service.eq_ignore_ascii_case("sts")
        && (name
            .get(..10)
            .is_some_and(|n| n.eq_ignore_ascii_case("AssumeRole"))
            || ["TagSession", "SetSourceIdentity", "SetContext"]
                .iter()
                .any(|a| name.eq_ignore_ascii_case(a)))
}

/// The request context: condition keys (lower case) and their values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    /// Each key with a hash of it, so lookups rarely compare text.
    entries: Vec<(u64, String, Vec<String>)>,
}

/// A hash of a (lower-case) condition key, for [`Context::get_hashed`].
pub fn key_hash(key_lower: &str) -> u64 {
    // FNV-1a: short keys, computed once per key of a policy or a request.
    key_lower.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Context {
    /// Sets a key (any case) to one or several values.
    pub fn insert(&mut self, key: &str, values: Vec<String>) {
        let key = key.to_ascii_lowercase();
        let hash = key_hash(&key);
        match self
            .entries
            .iter_mut()
            .find(|(h, k, _)| *h == hash && *k == key)
        {
            Some(entry) => entry.2 = values,
            None => self.entries.push((hash, key, values)),
        }
    }

    /// The values of a key, given in lower case.
    pub fn get(&self, key_lower: &str) -> Option<&[String]> {
        self.get_hashed(key_hash(key_lower), key_lower)
    }

    /// The values of a key, given in lower case with its [`key_hash`].
    pub fn get_hashed(&self, hash: u64, key_lower: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(h, k, _)| *h == hash && k == key_lower)
            .map(|(_, _, v)| v.as_slice())
    }

    /// The value of a single-valued key (policy variables take only those).
    pub fn single(&self, key_lower: &str) -> Option<&str> {
        self.single_hashed(key_hash(key_lower), key_lower)
    }

    /// [`Context::single`] with the key's [`key_hash`].
    pub fn single_hashed(&self, hash: u64, key_lower: &str) -> Option<&str> {
        match self.get_hashed(hash, key_lower) {
            Some([one]) => Some(one),
            _ => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries
            .iter()
            .map(|(_, k, v)| (k.as_str(), v.as_slice()))
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
    arn_parts(arn).map(|p| p[4]).filter(|a| !a.is_empty())
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
    /// `"*"` or `{"AWS": "*"}`.
    Anyone,
    /// `AWS`: an account, as `123456789012` or `arn:aws:iam::123456789012:root`.
    Account(Box<str>),
    /// `AWS`: a user, role, role session or federated user by ARN; for a role ARN, its
    /// account and name, which name every session of the role too.
    Arn {
        arn: Box<str>,
        role: Option<(Box<str>, Box<str>)>,
    },
    /// `Service`, `Federated` or `CanonicalUser`: matched by name.
    Named(Box<str>),
}

impl PrincipalEntry {
    fn aws(value: &str) -> PrincipalEntry {
        if value == "*" {
            return PrincipalEntry::Anyone;
        }
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            return PrincipalEntry::Account(value.into());
        }
        let parts = arn_parts(value);
        match parts {
            Some([_, _, _, _, account, "root"]) => PrincipalEntry::Account(account.into()),
            Some([_, _, "iam", _, account, resource]) if resource.starts_with("role/") => {
                let name = resource.rsplit('/').next().unwrap_or(resource);
                PrincipalEntry::Arn {
                    arn: value.into(),
                    role: Some((account.into(), name.into())),
                }
            }
            _ => PrincipalEntry::Arn {
                arn: value.into(),
                role: None,
            },
        }
    }
}

/// The six colon-separated parts of an ARN (the last takes the rest), without allocating.
fn arn_parts(arn: &str) -> Option<[&str; 6]> {
    if !arn.starts_with("arn:") {
        return None;
    }
    let bytes = arn.as_bytes();
    let mut parts = [""; 6];
    let mut start = 0;
    let mut n = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' {
            parts[n] = &arn[start..i];
            start = i + 1;
            n += 1;
            if n == 5 {
                break;
            }
        }
    }
    if n < 5 {
        return None;
    }
    parts[5] = &arn[start..];
    Some(parts)
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

/// What kind of principal makes the request, read from its ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallerKind<'a> {
    /// `arn:aws:iam::A:user/…`
    User,
    /// `arn:aws:iam::A:role/…`: a role named by its own ARN.
    Role,
    /// `arn:aws:sts::A:assumed-role/ROLE/SESSION`
    Session { role: &'a str },
    /// `arn:aws:sts::A:federated-user/NAME` (from `GetFederationToken`).
    FederatedUser,
    /// `arn:aws:iam::A:root` (or a bare account id): the account's root user.
    Root,
    /// Another ARN.
    OtherArn,
    /// Not an ARN: a service principal (`ec2.amazonaws.com`) or an identity provider.
    Named,
}

/// The caller, parsed once per request.
#[derive(Clone, Copy, Debug)]
struct Caller<'a> {
    arn: &'a str,
    account: Option<&'a str>,
    kind: CallerKind<'a>,
}

impl<'a> Caller<'a> {
    fn parse(arn: &'a str) -> Caller<'a> {
        if arn.len() == 12 && arn.bytes().all(|b| b.is_ascii_digit()) {
            return Caller {
                arn,
                account: Some(arn),
                kind: CallerKind::Root,
            };
        }
        let Some([_, _, service, _, account, resource]) = arn_parts(arn) else {
            return Caller {
                arn,
                account: None,
                kind: CallerKind::Named,
            };
        };
        let kind = match (service, resource) {
            ("iam", "root") => CallerKind::Root,
            ("iam", r) if r.starts_with("user/") => CallerKind::User,
            ("iam", r) if r.starts_with("role/") => CallerKind::Role,
            ("sts", r) if r.starts_with("assumed-role/") => CallerKind::Session {
                role: r["assumed-role/".len()..].split('/').next().unwrap_or(""),
            },
            ("sts", r) if r.starts_with("federated-user/") => CallerKind::FederatedUser,
            _ => CallerKind::OtherArn,
        };
        Caller {
            arn,
            account: (!account.is_empty()).then_some(account),
            kind,
        }
    }

    /// An IAM user or role (session): what a permissions boundary can be attached to.
    fn is_iam_entity(&self) -> bool {
        matches!(
            self.kind,
            CallerKind::User | CallerKind::Role | CallerKind::Session { .. }
        )
    }

    /// How one principal entry names the caller, if it does.
    fn named_by(&self, entry: &PrincipalEntry) -> Option<Grantee> {
        match entry {
            PrincipalEntry::Anyone => Some(Grantee::Caller),
            PrincipalEntry::Account(a) => (self.kind != CallerKind::Named
                && self.account == Some(&**a))
            .then_some(Grantee::Account),
            PrincipalEntry::Arn { arn, role } => {
                if **arn == *self.arn {
                    return Some(if role.is_some() {
                        Grantee::Role
                    } else {
                        Grantee::Caller
                    });
                }
                match (role, self.kind) {
                    (Some((account, name)), CallerKind::Session { role })
                        if self.account == Some(&**account) && **name == *role =>
                    {
                        Some(Grantee::Role)
                    }
                    _ => None,
                }
            }
            // An OIDC provider is named in trust policies by its ARN, and its users are known
            // by its host (`token.actions.githubusercontent.com`): either names it.
            PrincipalEntry::Named(name) => (**name == *self.arn
                || (!self.arn.starts_with("arn:")
                    && name
                        .rsplit_once(":oidc-provider/")
                        .is_some_and(|(_, host)| host == self.arn)))
            .then_some(Grantee::Caller),
        }
    }
}

#[derive(Clone, Debug)]
struct CompiledStatement {
    effect: iam::Effect,
    principal: Option<PrincipalBlock>,
    actions: Option<Block>,
    resources: Option<Block>,
    conditions: Vec<Condition>,
    /// Per condition, its place in the source.
    condition_spans: Vec<Option<Span>>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`, compiled.
#[derive(Clone, Debug)]
struct Block {
    not: bool,
    patterns: Vec<Pattern>,
    has_vars: bool,
    /// For actions: the one service prefix every pattern names literally (`s3` of `s3:Get*`),
    /// to pass over statements about other services at once.
    service: Option<Box<str>>,
}

impl Block {
    fn new(block: &iam::Block, variables: bool) -> Block {
        let patterns: Vec<Pattern> = block
            .values
            .iter()
            .map(|v| Pattern::new(&v.value, variables, true))
            .collect();
        Block {
            not: block.not,
            has_vars: patterns.iter().any(Pattern::has_vars),
            patterns,
            service: None,
        }
    }

    /// An `Action`/`NotAction` block: case-insensitive, no variables.
    fn actions(block: &iam::Block) -> Block {
        let mut compiled = Block::new(block, false);
        let prefix = |v: &str| -> Option<String> {
            let (service, _) = v.split_once(':')?;
            (!service.contains(['*', '?'])).then(|| service.to_ascii_lowercase())
        };
        let mut services = block.values.iter().map(|v| prefix(&v.value));
        if let Some(Some(first)) = services.next() {
            if services.all(|s| s.as_deref() == Some(first.as_str())) {
                compiled.service = Some(first.into_boxed_str());
            }
        }
        compiled
    }

    /// Whether the block covers `text` (whose service prefix is `service`, for actions). A
    /// pattern whose variable cannot be resolved matches nothing, and makes a `Not…` block
    /// invalid (the statement then does not apply).
    fn covers(&self, text: &str, service: &str, context: &Context, ignore_case: bool) -> bool {
        let any = self
            .service
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(service))
            && self
                .patterns
                .iter()
                .any(|p| p.matches(text, context, ignore_case));
        if self.not {
            // An unresolvable variable makes the statement invalid.
            let invalid = self.has_vars && self.patterns.iter().any(|p| !p.resolves(context));
            !any && !invalid
        } else {
            any
        }
    }
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

/// What evaluating one request needs besides the request itself.
struct Eval<'a> {
    request: &'a Request,
    /// The service prefix of the action (`s3` of `s3:GetObject`).
    service: &'a str,
    caller: Caller<'a>,
    /// The caller has a permissions boundary (a resource policy's `NotPrincipal` with `Deny`
    /// then always applies to it).
    has_boundary: bool,
}

impl CompiledPolicy {
    pub fn new(label: impl Into<String>, policy: &iam::Policy) -> CompiledPolicy {
        CompiledPolicy::with_variables(label, policy, true)
    }

    /// [`CompiledPolicy::new`]; without `variables` (a document of the legacy `2008-10-17`
    /// language, or with no `Version`), `${…}` in resources and condition values is plain text,
    /// as IAM reads it.
    pub fn with_variables(
        label: impl Into<String>,
        policy: &iam::Policy,
        variables: bool,
    ) -> CompiledPolicy {
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
                            values.iter().map(move |v| match kind.as_str() {
                                "AWS" => PrincipalEntry::aws(&v.value),
                                _ => PrincipalEntry::Named(v.value.as_str().into()),
                            })
                        })
                        .collect(),
                },
            });
            statements.push(CompiledStatement {
                effect: s.effect.value,
                principal,
                actions: s.action.as_ref().map(Block::actions),
                resources: s.resource.as_ref().map(|b| Block::new(b, variables)),
                conditions: Vec::new(),
                condition_spans: Vec::new(),
            });
            if let Some(compiled) = statements.last_mut() {
                for c in &s.conditions {
                    if let Some(condition) =
                        Condition::with_variables(&c.operator, &c.key, &c.values, variables)
                    {
                        compiled.conditions.push(condition);
                        compiled.condition_spans.push(c.span);
                    }
                }
            }
            origins.push((s.sid.as_ref().map(|s| s.value.clone()), s.span));
        }
        CompiledPolicy {
            label: label.into(),
            statements,
            origins,
        }
    }

    /// The first `Allow` statement whose action, resource and principal match the request but
    /// one of whose conditions does not hold: the statement and that condition.
    fn near_miss(&self, eval: &Eval) -> Option<(usize, &Condition, Option<Span>)> {
        let request = eval.request;
        let context = &request.context;
        self.statements.iter().enumerate().find_map(|(i, s)| {
            let matched = s.effect == iam::Effect::Allow
                && s.actions
                    .as_ref()
                    .is_none_or(|b| b.covers(&request.action, eval.service, context, true))
                && s.resources
                    .as_ref()
                    .is_none_or(|b| b.covers(&request.resource, "", context, false))
                && s.principal
                    .as_ref()
                    .is_none_or(|b| principal_match(b, iam::Effect::Allow, eval).is_some());
            if !matched {
                return None;
            }
            let j = s.conditions.iter().position(|c| !c.holds(context))?;
            Some((
                i,
                &s.conditions[j],
                s.condition_spans.get(j).copied().flatten(),
            ))
        })
    }

    /// The first statement of `effect` that applies to the request, and how it names the
    /// caller (for policies with principals). Among allows, the strongest grant wins.
    fn find(&self, effect: iam::Effect, eval: &Eval) -> Option<(usize, Grantee)> {
        let mut best: Option<(usize, Grantee)> = None;
        for (i, s) in self.statements.iter().enumerate() {
            if s.effect != effect || !statement_applies(s, eval) {
                continue;
            }
            let grantee = match &s.principal {
                None => Grantee::Caller,
                Some(block) => match principal_match(block, effect, eval) {
                    Some(g) => g,
                    None => continue,
                },
            };
            if effect == iam::Effect::Deny || grantee == Grantee::Caller {
                return Some((i, grantee));
            }
            if best.is_none_or(|(_, g)| grantee > g) {
                best = Some((i, grantee));
            }
        }
        best
    }
}

fn statement_applies(s: &CompiledStatement, eval: &Eval) -> bool {
    let request = eval.request;
    let context = &request.context;
    s.actions
        .as_ref()
        .is_none_or(|b| b.covers(&request.action, eval.service, context, true))
        && s.resources
            .as_ref()
            .is_none_or(|b| b.covers(&request.resource, "", context, false))
        && s.conditions.iter().all(|c| c.holds(context))
}

/// How (if at all) a principal block names the caller.
fn principal_match(block: &PrincipalBlock, effect: iam::Effect, eval: &Eval) -> Option<Grantee> {
    let caller = &eval.caller;
    if !block.not {
        return block
            .entries
            .iter()
            .filter_map(|e| caller.named_by(e))
            .max();
    }
    // `NotPrincipal`: everyone but those listed. A `Deny` with `NotPrincipal` always applies
    // to a user or role that has a permissions boundary ("Permissions boundaries for IAM
    // entities").
    if effect == iam::Effect::Deny && eval.has_boundary && caller.is_iam_entity() {
        return Some(Grantee::Caller);
    }
    // AWS may check the account, then the role, then the session or user ("NotPrincipal"):
    // the caller is spared only when every one of them is listed.
    let (mut anyone, mut itself, mut role, mut account) = (false, false, false, false);
    for entry in &block.entries {
        match (entry, caller.named_by(entry)) {
            (PrincipalEntry::Anyone, _) => anyone = true,
            (PrincipalEntry::Account(_), Some(_)) => account = true,
            (PrincipalEntry::Arn { arn, .. }, Some(_)) if **arn == *caller.arn => itself = true,
            (PrincipalEntry::Arn { .. }, Some(_)) => role = true,
            (PrincipalEntry::Named(_), Some(_)) => itself = true,
            _ => {}
        }
    }
    let spared = anyone
        || match caller.kind {
            CallerKind::Named => itself,
            CallerKind::Root => account,
            CallerKind::Session { .. } => itself && role && account,
            _ => itself && account,
        };
    (!spared).then_some(Grantee::Caller)
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

/// A statement that matched a request but for one of its conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearMiss {
    pub at: StatementRef,
    /// The condition's failure in words: "`kms:ViaService` was `…`, not `…`".
    pub why: String,
    /// Where the condition is written.
    pub condition_span: Option<Span>,
}

/// Why the decision is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// An explicit deny in this statement.
    Denied(StatementRef),
    /// Allowed by these statements (an identity allow, or a resource grant), with the
    /// boundary's allow when there is a boundary, and the resource (or trust, or key) policy's
    /// grant when it took one besides the identity allow.
    AllowedBy {
        grant: StatementRef,
        boundary: Option<StatementRef>,
        resource: Option<StatementRef>,
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
    /// The account's root user: every action unless a policy denies it or no SCP allows it.
    RootUser,
    /// An action that needs no permission (`sts:GetCallerIdentity`).
    NoPermissionRequired,
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
        eval: &Eval,
    ) -> Option<(StatementRef, Grantee)> {
        self.policies(role).iter().enumerate().find_map(|(i, p)| {
            p.find(effect, eval).map(|(statement, grantee)| {
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
        let implicit = |reason| decide(DecisionKind::ImplicitlyDenied, reason);
        let action = request.action.as_str();
        // "GetCallerIdentity" (AWS STS API Reference): no permissions are required, and an
        // explicit deny does not stop it.
        if action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
            return decide(DecisionKind::Allowed, Reason::NoPermissionRequired);
        }
        let eval = self.eval(request);
        let (caller, service) = (eval.caller, eval.service);
        // 1. An explicit deny in any policy wins.
        for role in [Scp, Resource, Identity, Boundary, Session] {
            if let Some((at, _)) = self.find(role, Deny, &eval) {
                return decide(DecisionKind::ExplicitlyDenied, Reason::Denied(at));
            }
        }
        // 2. With SCPs, some SCP must allow.
        if !self.scps.is_empty() && self.find(Scp, Allow, &eval).is_none() {
            return implicit(Reason::NoScpAllows);
        }
        let resource_grant = self.find(Resource, Allow, &eval);
        let kms = service.eq_ignore_ascii_case("kms") && self.resource.is_some();
        let assume = is_trust_action(action) && self.resource.is_some();
        let must_grant = if kms {
            Reason::KeyPolicyDoesNotAllow
        } else if assume {
            Reason::TrustPolicyDoesNotAllow
        } else {
            Reason::ResourcePolicyDoesNotAllow
        };
        // A service principal or identity provider has no identity policies: the resource
        // (or trust) policy alone decides.
        if caller.kind == CallerKind::Named {
            return match resource_grant {
                Some((grant, _)) => decide(
                    DecisionKind::Allowed,
                    Reason::AllowedBy {
                        grant,
                        boundary: None,
                        resource: None,
                    },
                ),
                None => implicit(must_grant),
            };
        }
        let resource_account = arn_parts(&request.resource)
            .map(|p| p[4])
            .filter(|a| !a.is_empty())
            .or(caller.account);
        // A resource of the account `aws` is AWS's own (a managed policy, a public hub): not
        // another account's.
        let same_account = caller.account.is_some()
            && (resource_account == caller.account || resource_account == Some("aws"));
        // The boundary and session policies, checked only when needed.
        let boundary = || -> Result<Option<StatementRef>, Decision> {
            match &self.boundary {
                None => Ok(None),
                Some(_) => self
                    .find(Boundary, Allow, &eval)
                    .map(|(at, _)| Some(at))
                    .ok_or(implicit(Reason::BoundaryDoesNotAllow)),
            }
        };
        let session = || -> Result<(), Decision> {
            // A federated user session without session policies has no permissions; a role
            // session without them has its role's ("Policy evaluation logic").
            let ok = if self.session.is_empty() {
                caller.kind != CallerKind::FederatedUser
            } else {
                self.find(Session, Allow, &eval).is_some()
            };
            ok.then_some(())
                .ok_or(implicit(Reason::SessionDoesNotAllow))
        };
        // The identity side: identity ∩ boundary ∩ session; the root user has every
        // permission of its account.
        let identity_side = |resource: Option<StatementRef>| -> Decision {
            let grant = self.find(Identity, Allow, &eval).map(|(at, _)| at);
            if caller.kind == CallerKind::Root {
                return match grant {
                    Some(grant) => decide(
                        DecisionKind::Allowed,
                        Reason::AllowedBy {
                            grant,
                            boundary: None,
                            resource,
                        },
                    ),
                    None => decide(DecisionKind::Allowed, Reason::RootUser),
                };
            }
            let Some(grant) = grant else {
                return implicit(Reason::NoIdentityAllows);
            };
            let boundary = match boundary() {
                Ok(b) => b,
                Err(d) => return d,
            };
            if let Err(d) = session() {
                return d;
            }
            decide(
                DecisionKind::Allowed,
                Reason::AllowedBy {
                    grant,
                    boundary,
                    resource,
                },
            )
        };
        match resource_grant {
            // Key and trust policies must grant even within the account; across accounts
            // every resource policy must.
            None if kms || assume || !same_account => implicit(must_grant),
            None => identity_side(None),
            Some((grant, grantee)) if same_account => match grantee {
                // A grant to the user, the session, or anyone allows on its own.
                Grantee::Caller => decide(
                    DecisionKind::Allowed,
                    Reason::AllowedBy {
                        grant,
                        boundary: None,
                        resource: None,
                    },
                ),
                // A grant to the role is still limited by the boundary and session policies.
                Grantee::Role => {
                    let boundary = match boundary() {
                        Ok(b) => b,
                        Err(d) => return d,
                    };
                    match session() {
                        Ok(()) => decide(
                            DecisionKind::Allowed,
                            Reason::AllowedBy {
                                grant,
                                boundary,
                                resource: None,
                            },
                        ),
                        Err(d) => d,
                    }
                }
                // A grant to the account delegates to the identity policies.
                Grantee::Account => identity_side(Some(grant)),
            },
            // Across accounts both sides must allow.
            Some((grant, _)) => identity_side(Some(grant)),
        }
    }

    /// What evaluating a request needs besides the policies: its parsed caller and service.
    fn eval<'a>(&self, request: &'a Request) -> Eval<'a> {
        let action = request.action.as_str();
        Eval {
            request,
            service: action.split_once(':').map_or(action, |(s, _)| s),
            caller: Caller::parse(&request.principal),
            has_boundary: self.boundary.is_some(),
        }
    }

    /// How explanations call a policy of a role: a resource policy is a trust policy for the
    /// actions a trust policy decides, and a key policy for KMS.
    pub fn role_words(&self, role: PolicyRole, request: &Request) -> &'static str {
        match role {
            PolicyRole::Resource if is_trust_action(&request.action) => "trust policy",
            PolicyRole::Resource
                if request
                    .action
                    .split_once(':')
                    .is_some_and(|(s, _)| s.eq_ignore_ascii_case("kms")) =>
            {
                "key policy"
            }
            other => other.words(),
        }
    }

    /// How explanations name a statement: "statement `Sid` of identity policy `label`".
    fn statement_words(&self, at: StatementRef, request: &Request) -> String {
        let Some(policy) = self.policy(at) else {
            return "a statement".into();
        };
        let which = match &policy.origins.get(at.statement) {
            Some((Some(sid), _)) => format!("statement `{sid}`"),
            _ => format!("statement {}", at.statement + 1),
        };
        format!(
            "{which} of {} `{}`",
            self.role_words(at.role, request),
            policy.label
        )
    }

    /// For an implicit deny, the statement that matched the action, the resource and the
    /// caller but whose condition did not hold, with that condition's failure in words.
    pub fn near_miss(&self, request: &Request, decision: &Decision) -> Option<NearMiss> {
        let role = match decision.reason {
            Reason::NoIdentityAllows => PolicyRole::Identity,
            Reason::BoundaryDoesNotAllow => PolicyRole::Boundary,
            Reason::SessionDoesNotAllow => PolicyRole::Session,
            Reason::NoScpAllows => PolicyRole::Scp,
            Reason::ResourcePolicyDoesNotAllow
            | Reason::KeyPolicyDoesNotAllow
            | Reason::TrustPolicyDoesNotAllow => PolicyRole::Resource,
            _ => return None,
        };
        let eval = self.eval(request);
        self.policies(role).iter().enumerate().find_map(|(i, p)| {
            p.near_miss(&eval)
                .map(|(statement, condition, condition_span)| NearMiss {
                    at: StatementRef {
                        role,
                        policy: i,
                        statement,
                    },
                    why: condition.why_not(&request.context),
                    condition_span,
                })
        })
    }

    /// The decision in words, naming the statements that decided it, and for an implicit deny
    /// the condition that kept a matching statement from allowing.
    pub fn explain(&self, request: &Request, decision: &Decision) -> String {
        let name = |at: StatementRef| self.statement_words(at, request);
        let action = &request.action;
        let base = match decision.reason {
            Reason::Denied(at) => format!("{} explicitly denies {action}", name(at)),
            Reason::AllowedBy {
                grant,
                boundary,
                resource,
            } => {
                let mut words = format!("{} allows {action}", name(grant));
                if let Some(b) = boundary {
                    words.push_str(&format!(", within {}", name(b)));
                }
                if let Some(r) = resource {
                    words.push_str(&format!(", and {} grants it", name(r)));
                }
                words
            }
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
                "the key policy allows {action} to neither the caller nor its account"
            ),
            Reason::TrustPolicyDoesNotAllow => format!(
                "the role's trust policy allows {action} to neither the caller nor its account"
            ),
            Reason::RootUser => format!(
                "the account's root user may {action}: no policy denies it"
            ),
            Reason::NoPermissionRequired => format!("{action} needs no permission"),
        };
        match self.near_miss(request, decision) {
            Some(NearMiss { at, why, .. }) => {
                let base = match decision.reason {
                    // The statement did name the caller: only its condition failed.
                    Reason::KeyPolicyDoesNotAllow => {
                        format!("the key policy does not allow {action}")
                    }
                    Reason::TrustPolicyDoesNotAllow => {
                        format!("the role's trust policy does not allow {action}")
                    }
                    _ => base,
                };
                format!("{base}: {} matched, but {why}", name(at))
            }
            None => base,
        }
    }

    /// The source spans of the statements a decision names.
    pub fn deciding_spans(&self, decision: &Decision) -> Vec<(StatementRef, Option<Span>)> {
        let refs: Vec<StatementRef> = match decision.reason {
            Reason::Denied(at) => vec![at],
            Reason::AllowedBy {
                grant,
                boundary,
                resource,
            } => std::iter::once(grant)
                .chain(boundary)
                .chain(resource)
                .collect(),
            _ => Vec::new(),
        };
        refs.into_iter().map(|at| (at, self.span_of(at))).collect()
    }

    /// The source span of a statement.
    pub fn span_of(&self, at: StatementRef) -> Option<Span> {
        self.policy(at)
            .and_then(|p| p.origins.get(at.statement))
            .and_then(|(_, s)| *s)
    }
}
