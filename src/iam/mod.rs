//! The AWS IAM policy model: plain data in source order, each element keeping the span it came
//! from so checks can point at the source. [`json`] turns it into the documents AWS reads.

pub mod arn;
pub mod from_json;
pub mod json;
pub mod json_text;

use indexmap::IndexMap;

pub mod operators;

use crate::source::Span;

/// The only policy language version iamx writes.
pub const VERSION: &str = "2012-10-17";

/// A value with the source span it came from, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Option<Span>,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Option<Span>) -> Spanned<T> {
        Spanned { value, span }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// `Action` or `NotAction`, `Resource` or `NotResource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub not: bool,
    pub values: Vec<Spanned<String>>,
    /// Where the whole list is written.
    pub span: Option<Span>,
}

/// `Principal`: either `"*"` or principals by kind (`AWS`, `Service`, `Federated`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Any(Option<Span>),
    Kinds(IndexMap<String, Vec<Spanned<String>>>),
}

/// One `operator: { key: values }` entry of a `Condition` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    /// The whole condition.
    pub span: Option<Span>,
    /// The key alone, for diagnostics about the key.
    pub key_span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<Spanned<String>>,
    pub effect: Spanned<Effect>,
    pub principal: Option<Principal>,
    /// The principal is written as `NotPrincipal`: every principal but those. Only policies
    /// read from JSON have it (iamx sources cannot say it), so it is `false` everywhere else.
    pub not_principal: bool,
    pub action: Option<Block>,
    pub resource: Option<Block>,
    pub conditions: Vec<Condition>,
    /// The whole statement in the source.
    pub span: Option<Span>,
    /// `///` doc comments on the statement.
    pub docs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub statements: Vec<Statement>,
    /// `Id`: a managed policy's `id "…"`, or a JSON document's.
    pub id: Option<String>,
}

impl Policy {
    /// The policy with every span removed: for documents that come from no source file of the
    /// compilation (AWS managed policies), so nothing points into a file that is not there.
    pub fn without_spans(mut self) -> Policy {
        for s in &mut self.statements {
            s.span = None;
            if let Some(sid) = &mut s.sid {
                sid.span = None;
            }
            s.effect.span = None;
            for block in [&mut s.action, &mut s.resource].into_iter().flatten() {
                block.span = None;
                for v in &mut block.values {
                    v.span = None;
                }
            }
            if let Some(Principal::Kinds(kinds)) = &mut s.principal {
                for v in kinds.values_mut().flatten() {
                    v.span = None;
                }
            }
            if let Some(Principal::Any(span)) = &mut s.principal {
                *span = None;
            }
            for c in &mut s.conditions {
                c.span = None;
                c.key_span = None;
            }
        }
        self
    }
}

/// What a policy document is for; decides its size limit and which elements it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Managed,
    Boundary,
    RoleInline,
    UserInline,
    GroupInline,
    Trust,
    /// A resource-based policy (S3 bucket, KMS key, …), read from JSON: iamx does not write them.
    Resource,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Managed => "managed",
            DocumentKind::Boundary => "boundary",
            DocumentKind::RoleInline => "role-inline",
            DocumentKind::UserInline => "user-inline",
            DocumentKind::GroupInline => "group-inline",
            DocumentKind::Trust => "trust",
            DocumentKind::Resource => "resource",
        }
    }

    /// Trust and resource policies name a `Principal`; identity policies must not.
    pub fn has_principal(self) -> bool {
        matches!(self, DocumentKind::Trust | DocumentKind::Resource)
    }
}

/// One policy document iamx writes.
#[derive(Clone, Debug)]
pub struct Document {
    pub kind: DocumentKind,
    /// The policy's name (for a trust policy, the role's).
    pub name: String,
    /// For inline and trust policies, the principal that holds it.
    pub owner: Option<String>,
    /// Output path relative to the output directory, with `/` separators.
    pub file: String,
    pub policy: Policy,
    /// Where it is named: the policy's name, or a trust block's `trust` keyword.
    pub span: Option<Span>,
    /// `@split`: split it when it is over its quota, even without `--split`.
    pub split: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    Role,
    User,
    Group,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Role => "role",
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
        }
    }
}

/// A role, user or group as deployed.
#[derive(Clone, Debug)]
pub struct PrincipalInfo {
    pub kind: PrincipalKind,
    pub name: String,
    pub path: String,
    /// `None` when the project declares no account.
    pub arn: Option<String>,
    pub boundary: Option<Spanned<String>>,
    pub attached: Vec<Spanned<String>>,
    /// Groups a user is in (names).
    pub groups: Vec<String>,
    pub tags: IndexMap<String, String>,
    pub description: Option<String>,
    pub docs: Vec<String>,
    /// Indices into [`Project::documents`]: inline policies, then the trust policy.
    pub documents: Vec<usize>,
    pub span: Option<Span>,
    /// Where the name is written.
    pub name_span: Option<Span>,
    /// It writes the identity side of its boundary's guard (`delegate`).
    pub delegates: bool,
    /// A role's `max session`, in seconds (`MaxSessionDuration`).
    pub max_session: Option<u32>,
    /// A role's `instance profile`: the profile's name.
    pub instance_profile: Option<String>,
    /// `@split` on the principal: its inline policies may move into managed parts.
    pub split: bool,
}

/// A customer managed policy or boundary the project declares.
#[derive(Clone, Debug)]
pub struct ManagedPolicyInfo {
    pub name: String,
    pub path: String,
    /// `None` when the project declares no account.
    pub arn: Option<String>,
    pub boundary: bool,
    /// A boundary's `guard { … }`.
    pub guard: Option<GuardSpec>,
    pub description: Option<String>,
    pub docs: Vec<String>,
    /// Index into [`Project::documents`].
    pub document: usize,
    pub span: Option<Span>,
}

/// Everything a compilation produces: the documents and who holds them.
#[derive(Clone, Debug, Default)]
pub struct Project {
    pub account: Option<String>,
    pub partition: String,
    pub documents: Vec<Document>,
    pub principals: Vec<PrincipalInfo>,
    pub policies: Vec<ManagedPolicyInfo>,
    /// `test` blocks, resolved.
    pub tests: Vec<TestCase>,
    /// Account snapshots only: the versions of customer managed policies that are not their
    /// default, as (policy ARN, version id, document). `iam:SetDefaultPolicyVersion` makes
    /// one of them the policy.
    pub other_versions: Vec<(String, String, Policy)>,
    /// Account snapshots only: the instance profiles of roles that a project cannot state (a
    /// role holds one, at its own path, in iamx): a role's second profile, or one at another
    /// path.
    pub other_profiles: Vec<OtherProfile>,
}

/// An instance profile of a snapshot's role that is not the role's `instance profile`.
#[derive(Clone, Debug)]
pub struct OtherProfile {
    /// The role's ARN.
    pub role: String,
    pub name: String,
    pub path: String,
    /// Where its name is in the snapshot.
    pub span: Option<Span>,
}

/// A `test` block: expectations about requests of the project's principals.
#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    pub span: Option<Span>,
    pub expectations: Vec<Expectation>,
}

/// What a test expects of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
    ExplicitDeny,
    ImplicitDeny,
}

impl Outcome {
    pub fn words(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::ExplicitDeny => "explicit deny",
            Outcome::ImplicitDeny => "implicit deny",
        }
    }
}

/// Who makes a test's requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A role or user of the project, by name.
    Principal(PrincipalKind, String),
    /// A caller outside the project: an ARN (a user, role or account of any account), an
    /// identity provider's user (`Federated`), or a service (`Service`). Its own policies are
    /// not the project's: the project's trust and resource policies decide.
    Outside(crate::ast::OutsideKind, String),
}

impl PartialEq<(PrincipalKind, String)> for Caller {
    fn eq(&self, other: &(PrincipalKind, String)) -> bool {
        matches!(self, Caller::Principal(kind, name) if *kind == other.0 && *name == other.1)
    }
}

/// One `expect`, with the principal and `given` additions in force where it stands.
#[derive(Clone, Debug)]
pub struct Expectation {
    pub principal: Caller,
    pub outcome: Outcome,
    pub action: String,
    pub resource: String,
    /// Context keys (as written) and values the request carries, beyond the principal's own.
    pub context: Vec<(String, Vec<String>)>,
    /// Managed policies `given attached` (ARNs), with where each was given.
    pub attached: Vec<Spanned<String>>,
    /// Statements `given` inline.
    pub statements: Vec<Statement>,
    pub span: Option<Span>,
    /// Where the expected outcome is written.
    pub outcome_span: Option<Span>,
}

/// A boundary's guard, resolved: paths expanded, services listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardSpec {
    pub users: bool,
    pub roles: bool,
    /// Where principals may be created and managed (`/` when no `under` is given).
    pub create_path: String,
    /// `pass roles under P to S…`: the path and the services.
    pub pass: Option<(String, Vec<String>)>,
    /// `manage policies under P`.
    pub manage_path: Option<String>,
    pub span: Option<Span>,
    pub create_span: Option<Span>,
    pub pass_span: Option<Span>,
    pub manage_span: Option<Span>,
}

/// The keys a text names as policy variables, as written: `aws:username` of `${aws:username}`
/// or `${aws:username, 'default'}`; not the literals `${*}`, `${?}`, `${$}`.
pub fn variable_keys(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut rest = text;
    std::iter::from_fn(move || loop {
        let at = rest.find("${")?;
        let after = &rest[at + 2..];
        let end = after.find('}')?;
        let key = after[..end].split(',').next().unwrap_or("").trim();
        rest = &after[end + 1..];
        if !matches!(key, "*" | "?" | "$" | "") {
            return Some(key);
        }
    })
}
