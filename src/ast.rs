//! The typed syntax tree. Every node carries the byte span it came from.

use crate::source::{FileId, Span};

/// One parsed `.iamx` file.
#[derive(Clone, Debug)]
pub struct Module {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub enum Item {
    /// `account "…"`, `partition "…"`, `region "…"`.
    Setting(GlobalSetting),
    Param(Param),
    Let(Let),
    Policy(PolicyItem),
    Principal(PrincipalItem),
    Test(TestItem),
    ResourcePolicy(ResourcePolicyItem),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Setting(s) => s.span,
            Item::Param(p) => p.span,
            Item::Let(l) => l.span,
            Item::Policy(p) => p.span,
            Item::Principal(p) => p.span,
            Item::Test(t) => t.span,
            Item::ResourcePolicy(r) => r.span,
        }
    }
}

/// `test "name" { … }`: expectations about what principals may do.
#[derive(Clone, Debug)]
pub struct TestItem {
    pub docs: Vec<String>,
    pub name: Str,
    pub entries: Vec<TestEntry>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TestEntry {
    /// `as user NAME` / `as role NAME`: the principal of the expectations that follow.
    As {
        kind: PrincipalKind,
        name: Ident,
        span: Span,
    },
    /// `as "arn:…"`, `as federated NAME`, `as service NAME`: a caller outside the project, whose
    /// own policies the project does not hold.
    AsOutside {
        kind: OutsideKind,
        value: Str,
        span: Span,
    },
    Expect(Expectation),
    /// `given attached … { … }` or `given STATEMENT { … }`: the nested expectations run with a
    /// policy or statement added to the principal.
    Given {
        subject: GivenSubject,
        entries: Vec<TestEntry>,
        span: Span,
    },
}

/// How a test names a caller outside the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutsideKind {
    /// `as "arn:aws:iam::111122223333:role/Auditor"`: a user, role or account by ARN.
    Arn,
    /// `as federated token.actions.githubusercontent.com`: an identity provider's user.
    Federated,
    /// `as service lambda.amazonaws.com`: an AWS service.
    Service,
}

impl OutsideKind {
    /// The keyword before the name, if any.
    pub fn keyword(self) -> Option<&'static str> {
        match self {
            OutsideKind::Arn => None,
            OutsideKind::Federated => Some("federated"),
            OutsideKind::Service => Some("service"),
        }
    }
}

#[derive(Clone, Debug)]
pub enum GivenSubject {
    Attached(PolicyRef),
    Statement(Statement),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    /// Either kind of deny.
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

/// `expect allow|deny ACTIONS [on RESOURCE] [when CONTEXT]`.
#[derive(Clone, Debug)]
pub struct Expectation {
    pub docs: Vec<String>,
    pub outcome: Outcome,
    pub outcome_span: Span,
    pub actions: Vec<ActionItem>,
    pub resource: Option<ResourceItem>,
    pub context: Vec<Condition>,
    pub span: Span,
}

/// A name as written, with its span.
#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal. `raw` is the text between the quotes, escapes not yet applied, so that
/// template errors can point inside the string; `span` covers the quotes.
#[derive(Clone, Debug)]
pub struct Str {
    pub raw: String,
    pub span: Span,
}

impl Str {
    /// Byte offset in the source of the first character inside the quotes.
    pub fn content_start(&self) -> u32 {
        self.span.start + 1
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalKind {
    Account,
    Partition,
    Region,
}

impl GlobalKind {
    pub fn keyword(self) -> &'static str {
        match self {
            GlobalKind::Account => "account",
            GlobalKind::Partition => "partition",
            GlobalKind::Region => "region",
        }
    }

    /// The setting a param of this name stands for: `param region` is the region.
    pub fn named(name: &str) -> Option<GlobalKind> {
        match name {
            "account" => Some(GlobalKind::Account),
            "partition" => Some(GlobalKind::Partition),
            "region" => Some(GlobalKind::Region),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct GlobalSetting {
    pub docs: Vec<String>,
    pub kind: GlobalKind,
    pub value: Str,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub docs: Vec<String>,
    pub name: Ident,
    pub default: Option<Literal>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Let {
    pub docs: Vec<String>,
    pub name: Ident,
    pub value: LetValue,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum LetValue {
    Value(Value),
    List(List),
    /// Action patterns, or a single name (an alias of another `let`).
    Actions(Vec<ActionItem>),
}

#[derive(Clone, Debug)]
pub enum Literal {
    Str(Str),
    Number(String, Span),
    Bool(bool, Span),
}

impl Literal {
    pub fn span(&self) -> Span {
        match self {
            Literal::Str(s) => s.span,
            Literal::Number(_, span) | Literal::Bool(_, span) => *span,
        }
    }
}

/// A single value: a literal, a reference to an entity (its ARN), or a name.
#[derive(Clone, Debug)]
pub enum Value {
    Literal(Literal),
    Entity(EntityRef),
    Name(Ident),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Literal(l) => l.span(),
            Value::Entity(e) => e.span,
            Value::Name(n) => n.span,
        }
    }
}

#[derive(Clone, Debug)]
pub struct List {
    pub items: Vec<Value>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Managed,
    Boundary,
}

/// `policy Name { … }` or `boundary Name { … }`, or `policy Name = json "file.json"`.
#[derive(Clone, Debug)]
pub struct PolicyItem {
    pub docs: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub kind: PolicyKind,
    pub name: Ident,
    pub entries: Vec<Entry>,
    /// The JSON document the policy is read from, when it is written `= json "path"`.
    pub json: Option<Str>,
    pub span: Span,
}

/// `guard { … }` in a boundary.
#[derive(Clone, Debug)]
pub struct Guard {
    pub clauses: Vec<GuardClause>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardKind {
    Users,
    Roles,
}

#[derive(Clone, Debug)]
pub enum GuardClause {
    /// `create users, roles [under "/path/"]`.
    Create {
        kinds: Vec<(GuardKind, Span)>,
        under: Option<Str>,
        span: Span,
    },
    /// `pass roles [under "/path/"] [to service, …]`.
    Pass {
        under: Option<Str>,
        services: Vec<(String, Span)>,
        span: Span,
    },
    /// `manage policies [under "/path/"]`.
    Manage { under: Option<Str>, span: Span },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    Role,
    User,
    Group,
}

impl PrincipalKind {
    pub fn keyword(self) -> &'static str {
        match self {
            PrincipalKind::Role => "role",
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
        }
    }
}

/// `role Name { … }`, `user Name { … }`, `group Name { … }`.
#[derive(Clone, Debug)]
pub struct PrincipalItem {
    pub docs: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub kind: PrincipalKind,
    pub name: Ident,
    pub entries: Vec<Entry>,
    pub span: Span,
}

/// What a policy or principal body holds. The grammar lets a policy body hold only paths,
/// descriptions and statements; resolve reports settings that do not fit their item.
#[derive(Clone, Debug)]
pub enum Entry {
    Path(Str, Span),
    Description(Str, Span),
    /// `id "…"`: a managed policy's or boundary's JSON `Id`.
    Id(Str, Span),
    Boundary(PolicyRef, Span),
    Attach(Vec<PolicyRef>, Span),
    Groups(Vec<Ident>, Span),
    Tags(Vec<Tag>, Span),
    /// `trust { [id "…"] STATEMENTS }`: the statements, the block, and the document's `Id`.
    Trust(Vec<TrustStatement>, Span, Option<Str>),
    Guard(Guard),
    /// `delegate`: the identity-side statements of the boundary's guard.
    Delegate(Span),
    /// `max session 12h`: the duration as written (digits and an optional unit) and its span.
    MaxSession(String, Span, Span),
    /// `instance profile ["Name"]`.
    InstanceProfile(Option<Str>, Span),
    Policy(InlinePolicy),
    Statement(Statement),
}

impl Entry {
    pub fn span(&self) -> Span {
        match self {
            Entry::Path(_, s)
            | Entry::Description(_, s)
            | Entry::Id(_, s)
            | Entry::Boundary(_, s)
            | Entry::Attach(_, s)
            | Entry::Groups(_, s)
            | Entry::Tags(_, s)
            | Entry::Trust(_, s, _)
            | Entry::Delegate(s)
            | Entry::MaxSession(_, _, s)
            | Entry::InstanceProfile(_, s) => *s,
            Entry::Guard(g) => g.span,
            Entry::Policy(p) => p.span,
            Entry::Statement(s) => s.span,
        }
    }

    /// The keyword that starts the entry, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            Entry::Path(..) => "path",
            Entry::Description(..) => "description",
            Entry::Id(..) => "id",
            Entry::Boundary(..) => "boundary",
            Entry::Attach(..) => "attach",
            Entry::Groups(..) => "groups",
            Entry::Tags(..) => "tags",
            Entry::Trust(..) => "trust",
            Entry::Guard(..) => "guard",
            Entry::Delegate(..) => "delegate",
            Entry::MaxSession(..) => "max session",
            Entry::InstanceProfile(..) => "instance profile",
            Entry::Policy(..) => "policy",
            Entry::Statement(..) => "statement",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Tag {
    pub key: Str,
    pub value: Str,
    pub span: Span,
}

/// A named inline policy inside a principal.
#[derive(Clone, Debug)]
pub struct InlinePolicy {
    pub docs: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub name: Ident,
    pub statements: Vec<Statement>,
    pub span: Span,
}

/// A reference to a managed policy.
#[derive(Clone, Debug)]
pub enum PolicyRef {
    /// `aws Name` or `aws "path/Name"`: an AWS managed policy.
    Aws(String, Span),
    /// A policy or boundary of the project.
    Name(Ident),
    /// A policy ARN written out.
    Arn(Str),
}

impl PolicyRef {
    pub fn span(&self) -> Span {
        match self {
            PolicyRef::Aws(_, s) => *s,
            PolicyRef::Name(i) => i.span,
            PolicyRef::Arn(s) => s.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// `@name` or `@name(arg, …)` before a statement or an item; each argument is a string or a
/// name, kept as its text.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: Ident,
    pub args: Vec<(String, Span)>,
    pub span: Span,
}

/// `allow|deny [not] ACTIONS [on [not] RESOURCES] [when CONDITIONS]`.
#[derive(Clone, Debug)]
pub struct Statement {
    pub docs: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub effect: Effect,
    pub effect_span: Span,
    pub not_action: bool,
    pub actions: Vec<ActionItem>,
    pub resource: Option<ResourceClause>,
    pub conditions: Vec<Condition>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ActionItem {
    /// `s3:GetObject`, `s3:Get*`, `*`.
    Pattern(String, Span),
    /// `iam:{CreateUser, AttachUserPolicy}`.
    Group {
        service: String,
        names: Vec<(String, Span)>,
        span: Span,
    },
    /// A `let` holding actions.
    Name(Ident),
}

impl ActionItem {
    pub fn span(&self) -> Span {
        match self {
            ActionItem::Pattern(_, s) => *s,
            ActionItem::Group { span, .. } => *span,
            ActionItem::Name(i) => i.span,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ResourceClause {
    pub not: bool,
    pub items: Vec<ResourceItem>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ResourceItem {
    Any(Span),
    Str(Str),
    Entity(EntityRef),
    Name(Ident),
}

impl ResourceItem {
    pub fn span(&self) -> Span {
        match self {
            ResourceItem::Any(s) => *s,
            ResourceItem::Str(s) => s.span,
            ResourceItem::Entity(e) => e.span,
            ResourceItem::Name(i) => i.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    Role,
    User,
    Group,
    Policy,
    Boundary,
}

impl EntityKind {
    pub fn keyword(self) -> &'static str {
        match self {
            EntityKind::Role => "role",
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Policy => "policy",
            EntityKind::Boundary => "boundary",
        }
    }
}

/// `role Name`, `boundary Name`, …: the ARN of a declared entity.
#[derive(Clone, Debug)]
pub struct EntityRef {
    pub kind: EntityKind,
    pub name: Ident,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ConditionKey {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    NotLike,
    In,
    NotIn,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Like => "like",
            CompareOp::NotLike => "not like",
            CompareOp::In => "in",
            CompareOp::NotIn => "not in",
        }
    }
}

#[derive(Clone, Debug)]
pub enum ConditionValue {
    One(Value),
    List(List),
}

impl ConditionValue {
    pub fn span(&self) -> Span {
        match self {
            ConditionValue::One(v) => v.span(),
            ConditionValue::List(l) => l.span,
        }
    }
}

#[derive(Clone, Debug)]
pub enum ConditionKind {
    /// `k == v`, `any k in [...]`, …
    Compare {
        quantifier: Option<Quantifier>,
        op: CompareOp,
        op_span: Span,
        value: ConditionValue,
    },
    /// `k StringEqualsIgnoreCase "v"`: any IAM operator by name.
    Explicit {
        operator: String,
        op_span: Span,
        value: ConditionValue,
    },
    /// `k exists` / `k missing`.
    Presence { exists: bool },
    /// A bare Bool key, or `not key`.
    Bool { negated: bool },
}

#[derive(Clone, Debug)]
pub struct Condition {
    pub key: ConditionKey,
    pub if_exists: bool,
    pub kind: ConditionKind,
    pub span: Span,
}

/// A statement of a role's trust policy.
#[derive(Clone, Debug)]
pub struct TrustStatement {
    pub docs: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub effect: Effect,
    pub effect_span: Span,
    /// `allow not account "…" to …`: `NotPrincipal` (resource-based policies only).
    pub not_principal: bool,
    pub principals: Vec<TrustPrincipal>,
    /// `to not ACTIONS`: `NotAction` (resource-based policies only).
    pub not_action: bool,
    pub actions: Option<Vec<ActionItem>>,
    /// `on RESOURCES` (resource-based policies only).
    pub resource: Option<ResourceClause>,
    pub conditions: Vec<Condition>,
    pub span: Span,
}

/// `resource policy NAME { … }`: a resource-based policy, with its statements.
#[derive(Clone, Debug)]
pub struct ResourcePolicyItem {
    pub docs: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub name: Ident,
    pub entries: Vec<ResourceEntry>,
    pub span: Span,
}

/// What a resource policy body holds.
#[derive(Clone, Debug)]
pub enum ResourceEntry {
    /// `id "…"`: the document's `Id`.
    Id(Str, Span),
    Statement(TrustStatement),
}

impl ResourceEntry {
    pub fn span(&self) -> Span {
        match self {
            ResourceEntry::Id(_, span) => *span,
            ResourceEntry::Statement(s) => s.span,
        }
    }
}

#[derive(Clone, Debug)]
pub enum TrustPrincipal {
    Service(Str, Span),
    /// `account` (this account) or `account "111122223333"`.
    Account(Option<Value>, Span),
    Federated(Str, Span),
    Role(Ident, Span),
    User(Ident, Span),
    Anyone(Span),
    Arn(Str),
}

impl TrustPrincipal {
    pub fn span(&self) -> Span {
        match self {
            TrustPrincipal::Service(_, s)
            | TrustPrincipal::Account(_, s)
            | TrustPrincipal::Federated(_, s)
            | TrustPrincipal::Role(_, s)
            | TrustPrincipal::User(_, s)
            | TrustPrincipal::Anyone(s) => *s,
            TrustPrincipal::Arn(s) => s.span,
        }
    }
}
