//! Checks over the IAM model: the rules AWS enforces when a policy is created, and statements
//! that cannot do what they seem to. They see only [`iam`] data, so they apply alike to policies
//! written in iamx and to policies read from JSON.

pub mod aws;

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic};
use crate::iam::{self, Document, DocumentKind, Effect, Project, Statement};
use crate::source::Span;

/// Limits that can be raised on the command line.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The trust policy quota: 2,048 by default, up to 4,096 on request to AWS.
    pub trust_policy: usize,
    /// Managed policies attached to one role, user or group: 10 by default, up to 20 on
    /// request to AWS.
    pub managed_policies: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            trust_policy: 2048,
            managed_policies: 10,
        }
    }
}

/// The quota for one document of a kind (characters without white space). Inline policies of a
/// role, user or group count together; see [`check`].
pub fn size_limit(kind: DocumentKind, limits: &Limits) -> usize {
    match kind {
        DocumentKind::Managed | DocumentKind::Boundary => 6_144,
        DocumentKind::RoleInline => 10_240,
        DocumentKind::UserInline => 2_048,
        DocumentKind::GroupInline => 5_120,
        DocumentKind::Trust => limits.trust_policy,
        // Quotas differ by service; this is the S3 bucket policy's (20 KB), among the largest.
        DocumentKind::Resource => 20_480,
    }
}

/// Runs every rule over a project.
pub fn check(project: &Project, limits: &Limits) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for document in &project.documents {
        out.extend(self::document(document, limits));
    }
    for principal in &project.principals {
        principal_rules(project, principal, limits, &mut out);
    }
    out
}

/// The rules for one document on its own: its statements, and its size unless it is an inline
/// policy (those count together per principal).
pub fn document(document: &Document, limits: &Limits) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    document_rules(document, &mut out);
    {
        if !matches!(
            document.kind,
            DocumentKind::RoleInline | DocumentKind::UserInline | DocumentKind::GroupInline
        ) {
            let size = iam::json::quota_size(&iam::json::policy(&document.policy));
            let limit = size_limit(document.kind, limits);
            if size > limit {
                let mut d = Diagnostic::new(
                    Code::PolicyTooLarge,
                    format!(
                        "{} policy `{}` is {size} characters, over the limit of {limit}",
                        kind_words(document.kind),
                        document.name
                    ),
                )
                .help(size_help(document.kind));
                if let Some(span) = document.span {
                    d = d.at(span, format!("{size} characters without white space"));
                }
                out.push(d);
            }
        }
    }
    out
}

fn kind_words(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Managed => "managed",
        DocumentKind::Boundary => "boundary",
        DocumentKind::RoleInline => "role inline",
        DocumentKind::UserInline => "user inline",
        DocumentKind::GroupInline => "group inline",
        DocumentKind::Trust => "trust",
        DocumentKind::Resource => "resource",
    }
}

fn size_help(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Trust => "AWS can raise the trust policy quota to 4,096 on request; then pass `--trust-limit 4096`",
        DocumentKind::Resource => "the quota depends on the service (20,480 for an S3 bucket policy); move grants into identity policies, or use wildcards and conditions to shorten lists",
        DocumentKind::Managed => "split it: build with `--split`, or write `@split` before the policy; or shorten it with `--compact`, wildcards and access levels",
        _ => "split it into several managed policies, or use wildcards and access levels to shorten action lists",
    }
}

fn principal_rules(
    project: &Project,
    principal: &iam::PrincipalInfo,
    limits: &Limits,
    out: &mut Vec<Diagnostic>,
) {
    // Inline policies of one principal count together.
    let inline: Vec<&Document> = principal
        .documents
        .iter()
        .map(|&i| &project.documents[i])
        .filter(|d| d.kind != DocumentKind::Trust)
        .collect();
    if let Some(first) = inline.first() {
        let total: usize = inline
            .iter()
            .map(|d| iam::json::quota_size(&iam::json::policy(&d.policy)))
            .sum();
        let limit = size_limit(first.kind, limits);
        if total > limit {
            let mut d = Diagnostic::new(
                Code::PolicyTooLarge,
                format!(
                    "the inline policies of {} `{}` total {total} characters, over the limit of {limit}",
                    principal.kind.as_str(),
                    principal.name
                ),
            )
            .help("move statements into managed policies and attach them: `--split`, or `@split` before the principal, does it");
            if let Some(span) = principal.name_span.or(principal.span) {
                d = d.at(span, format!("{total} characters without white space"));
            }
            for doc in &inline {
                if let Some(span) = doc.span {
                    let size = iam::json::quota_size(&iam::json::policy(&doc.policy));
                    d = d.with_label(span, format!("`{}`: {size} characters", doc.name));
                }
            }
            out.push(d);
        }
    }
    let count = principal.attached.len();
    let quota = limits.managed_policies.min(20);
    if count > quota {
        let (code, message, help) = if count > 20 {
            (
                Code::TooManyManagedPolicies,
                format!(
                    "{} `{}` has {count} managed policies attached; IAM allows at most 20",
                    principal.kind.as_str(),
                    principal.name
                ),
                "combine policies: no quota increase goes past 20",
            )
        } else {
            (
                Code::ManyManagedPolicies,
                format!(
                    "{} `{}` has {count} managed policies attached; the {} quota is {quota}",
                    principal.kind.as_str(),
                    principal.name,
                    if quota == 10 { "default" } else { "given" }
                ),
                "the quota can be raised to 20 on request to AWS; otherwise combine policies",
            )
        };
        let mut d = Diagnostic::new(code, message).help(help);
        let eleventh = principal.attached.get(if count > 20 { 20 } else { quota });
        if let Some(span) = eleventh.and_then(|a| a.span).or(principal.span) {
            d = d.at(span, "one too many from here on");
        }
        out.push(d);
    }
}

/// Rules on one document's statements.
pub fn document_rules(document: &Document, out: &mut Vec<Diagnostic>) {
    let mut sids: HashMap<&str, Option<Span>> = HashMap::new();
    for statement in &document.policy.statements {
        if let Some(sid) = &statement.sid {
            sid_rules(sid, &mut sids, out);
        }
        statement_rules(document.kind, statement, out);
        aws::statement(document.kind, statement, out);
    }
}

fn sid_rules<'a>(
    sid: &'a iam::Spanned<String>,
    seen: &mut HashMap<&'a str, Option<Span>>,
    out: &mut Vec<Diagnostic>,
) {
    if sid.value.is_empty() || !sid.value.chars().all(|c| c.is_ascii_alphanumeric()) {
        let bad = sid.value.chars().find(|c| !c.is_ascii_alphanumeric());
        let label = match bad {
            Some(c) => format!("{} is not allowed in a Sid", crate::diag::describe_char(c)),
            None => "a Sid cannot be empty".to_string(),
        };
        // Suggest a fix only when dropping characters keeps the Sid recognisable.
        let fixed: String = sid
            .value
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let message = if sid.value.is_empty() {
            "invalid Sid: it is empty".to_string()
        } else {
            format!("invalid Sid `{}`", sid.value)
        };
        let mut d = Diagnostic::new(Code::InvalidSid, message).help(
            if fixed.is_empty() || !sid.value.is_ascii() {
                "a Sid holds only ASCII letters and digits".to_string()
            } else {
                format!("a Sid holds only ASCII letters and digits: `{fixed}`")
            },
        );
        if let Some(span) = sid.span {
            d = d.at(span, label);
        }
        out.push(d);
    }
    if let Some(first) = seen.get(sid.value.as_str()) {
        let mut d = Diagnostic::new(
            Code::DuplicateSid,
            format!("Sid `{}` is used twice in one policy", sid.value),
        )
        .help("each statement of a policy needs its own Sid");
        if let Some(span) = sid.span {
            d = d.at(span, "used again here");
        }
        if let Some(span) = first {
            d = d.with_label(*span, "first used here");
        }
        out.push(d);
    } else {
        seen.insert(&sid.value, sid.span);
    }
}

fn at(d: Diagnostic, span: Option<Span>, label: &str) -> Diagnostic {
    match span {
        Some(s) => d.at(s, label),
        None => d,
    }
}

fn statement_rules(kind: DocumentKind, statement: &Statement, out: &mut Vec<Diagnostic>) {
    let effect = statement.effect.value;
    match (&statement.principal, kind.has_principal()) {
        (Some(principal), false) => {
            let span = match principal {
                iam::Principal::Any(s) => *s,
                iam::Principal::Kinds(k) => k.values().flatten().find_map(|v| v.span),
            }
            .or(statement.span);
            out.push(at(
                Diagnostic::new(
                    Code::PrincipalOutsideTrust,
                    "an identity policy cannot name a `Principal`",
                )
                .help(
                    "the principal of an identity policy is whoever holds it; remove `Principal`",
                ),
                span,
                "`Principal` here",
            ));
        }
        (None, true) if kind == DocumentKind::Resource => out.push(at(
            Diagnostic::new(
                Code::MissingElement,
                "resource policy statement has no `Principal`",
            )
            .help("say whom the statement allows or denies access"),
            statement.span,
            "no principal",
        )),
        (None, true) => out.push(at(
            Diagnostic::new(Code::MissingElement, "trust statement has no `Principal`")
                .help("say who may assume the role"),
            statement.span,
            "no principal",
        )),
        _ => {}
    }
    match &statement.action {
        None => out.push(at(
            Diagnostic::new(Code::MissingElement, "statement has no `Action`")
                .help("every statement names the actions it allows or denies"),
            statement.span,
            "no action",
        )),
        Some(block) if block.values.is_empty() => out.push(at(
            Diagnostic::new(Code::EmptyList, "statement has an empty action list")
                .help("an empty list matches nothing; name at least one action"),
            block.span.or(statement.span),
            "no actions",
        )),
        Some(block) => {
            for action in &block.values {
                if let Some(problem) = action_problem(&action.value) {
                    out.push(at(
                        Diagnostic::new(
                            Code::InvalidAction,
                            format!("malformed action `{}`", action.value),
                        )
                        .help("an action is `service:Action`, like `s3:GetObject`, or `*`"),
                        action.span,
                        problem,
                    ));
                }
            }
            if block.not && effect == Effect::Allow {
                out.push(at(
                    Diagnostic::new(Code::NotWithAllow, "`NotAction` with `Allow` allows every action not listed")
                        .help("this grants every present and future action of every service but these; list what is allowed instead, or pair it with a narrow resource"),
                    block.span.or(statement.span),
                    "`NotAction` in an `Allow`",
                ));
            }
            if block.not && block.values.iter().any(|a| a.value == "*") {
                out.push(at(
                    Diagnostic::new(Code::NeverMatches, "this statement can never match")
                        .help("`NotAction` of `*` excludes every action"),
                    block.span.or(statement.span),
                    "not *",
                ));
            }
        }
    }
    if kind == DocumentKind::Trust {
        // Trust policies have no resource: the role is the resource.
    } else {
        match &statement.resource {
            None => out.push(at(
                Diagnostic::new(Code::MissingElement, "statement has no `Resource`")
                    .help("say what it applies to: `\"Resource\": \"*\"` or a list of ARNs"),
                statement.span,
                "no resource",
            )),
            Some(block) if block.values.is_empty() => out.push(at(
                Diagnostic::new(Code::EmptyList, "statement has an empty resource list")
                    .help("an empty list matches nothing; name at least one resource, or `*`"),
                block.span.or(statement.span),
                "no resources",
            )),
            Some(block) => {
                for resource in &block.values {
                    if resource.value == "*" {
                        continue;
                    }
                    if let Err(problem) = iam::arn::parse(&resource.value) {
                        let message = if resource.value.is_empty() {
                            "an empty resource is not an ARN".to_string()
                        } else {
                            format!("`{}` is not an ARN", resource.value)
                        };
                        out.push(at(
                            Diagnostic::new(Code::InvalidArn, message)
                            .help("an ARN reads `arn:partition:service:region:account:resource`, like `arn:aws:s3:::my-bucket/*`"),
                            resource.span,
                            problem,
                        ));
                    }
                }
                if block.not && effect == Effect::Allow {
                    out.push(at(
                        Diagnostic::new(Code::NotWithAllow, "`NotResource` with `Allow` allows every resource not listed")
                            .help("this grants the actions on every present and future resource but these; list the resources instead"),
                        block.span.or(statement.span),
                        "`NotResource` in an `Allow`",
                    ));
                }
                if block.not && block.values.iter().any(|r| r.value == "*") {
                    out.push(at(
                        Diagnostic::new(Code::NeverMatches, "this statement can never match")
                            .help("`NotResource` of `*` excludes every resource"),
                        block.span.or(statement.span),
                        "not *",
                    ));
                }
            }
        }
    }
    if let Some(principal) = statement
        .principal
        .as_ref()
        .filter(|_| kind.has_principal())
    {
        principal_element_rules(kind, statement, principal, out);
    }
    contradictions(statement, out);
}

/// Principals that IAM would reject, trust policy actions, and grants to anyone.
fn principal_element_rules(
    kind: DocumentKind,
    statement: &Statement,
    principal: &iam::Principal,
    out: &mut Vec<Diagnostic>,
) {
    let mut public = None;
    match principal {
        iam::Principal::Any(span) => public = Some(*span),
        iam::Principal::Kinds(kinds) => {
            for (kind_name, values) in kinds {
                for value in values {
                    if value.value == "*" && kind_name == "AWS" {
                        public = Some(value.span);
                        continue;
                    }
                    if let Some((label, help)) = principal_problem(kind_name, &value.value) {
                        let shown = if value.value.is_empty() {
                            format!("empty `{kind_name}` principal")
                        } else {
                            format!("malformed `{kind_name}` principal `{}`", value.value)
                        };
                        out.push(at(
                            Diagnostic::new(Code::InvalidPrincipal, shown).help(help),
                            value.span.or(statement.span),
                            &label,
                        ));
                    } else if kind_name == "Service" {
                        if let Some(fixed) = service_principal_typo(&value.value) {
                            out.push(at(
                                Diagnostic::new(
                                    Code::UnknownServicePrincipal,
                                    format!("unknown service principal `{}`", value.value),
                                )
                                .help(format!("did you mean `{fixed}`?")),
                                value.span.or(statement.span),
                                "no AWS service has this principal name",
                            ));
                        }
                    }
                }
            }
        }
    }
    if let Some(span) = public {
        if statement.effect.value == Effect::Allow && statement.conditions.is_empty() {
            let what = if kind == DocumentKind::Trust {
                "anyone, in any AWS account, may assume this role"
            } else {
                "anyone, signed in to AWS or not, gets these actions"
            };
            out.push(at(
                Diagnostic::new(Code::PublicPrincipal, what)
                    .help("name the accounts, roles or services that need it, or add a condition such as `aws:PrincipalOrgID`"),
                span.or(statement.span),
                "every principal",
            ));
        }
    }
    if kind == DocumentKind::Trust && statement.effect.value == Effect::Allow {
        if let iam::Principal::Kinds(kinds) = principal {
            for value in kinds.get("Federated").into_iter().flatten() {
                web_identity_rules(statement, value, out);
            }
        }
    }
    if kind == DocumentKind::Trust {
        if let Some(block) = &statement.action {
            for action in &block.values {
                let sts = action
                    .value
                    .split_once(':')
                    .is_some_and(|(p, _)| p.eq_ignore_ascii_case("sts"));
                if !sts && action.value != "*" {
                    out.push(at(
                        Diagnostic::new(
                            Code::TrustActionNotSts,
                            format!("a trust policy cannot grant `{}`", action.value),
                        )
                        .help("a trust policy says who may assume the role: `sts:AssumeRole`, `sts:AssumeRoleWithSAML`, `sts:AssumeRoleWithWebIdentity`, `sts:TagSession`, `sts:SetSourceIdentity`; grant other actions in the role's permissions policies"),
                        action.span.or(block.span),
                        "not an `sts:` action",
                    ));
                }
            }
        }
    }
}

/// A web identity (OIDC) provider trusted with no condition on who the token is for: every
/// workload the provider issues tokens to (every GitHub repository, every pool) may assume the
/// role.
fn web_identity_rules(
    statement: &Statement,
    provider: &iam::Spanned<String>,
    out: &mut Vec<Diagnostic>,
) {
    let name = provider.value.as_str();
    let host = name.rsplit("oidc-provider/").next().unwrap_or(name);
    let (needed, example): (&[&str], String) = if name.contains(":oidc-provider/") {
        (&["sub"], format!("{host}:sub"))
    } else if name == "cognito-identity.amazonaws.com" {
        (&["aud"], "cognito-identity.amazonaws.com:aud".to_string())
    } else {
        return;
    };
    let on_subject = |c: &&iam::Condition| {
        let key = c.key.to_ascii_lowercase();
        needed
            .iter()
            .any(|n| key.ends_with(&format!(":{n}")) && key.starts_with(&host.to_ascii_lowercase()))
    };
    // A condition counts when it narrows the subject: a positive match, with no value that
    // matches the subjects of anyone (one that starts with `*`, or on GitHub `repo:*`: any
    // repository of any owner).
    let narrows = |c: &&iam::Condition| {
        let base = c.operator.rsplit(':').next().unwrap_or(&c.operator);
        let base = base.strip_suffix("IfExists").unwrap_or(base);
        let positive = matches!(
            base,
            "StringEquals" | "StringLike" | "StringEqualsIgnoreCase"
        );
        positive
            && !c.values.is_empty()
            && !c
                .values
                .iter()
                .any(|v| v.starts_with('*') || v.to_ascii_lowercase().starts_with("repo:*"))
    };
    let subject: Vec<&iam::Condition> = statement.conditions.iter().filter(on_subject).collect();
    if subject.iter().any(narrows) {
        return;
    }
    if let Some(c) = subject.first() {
        // A condition on the subject that lets every subject through.
        out.push(at(
            Diagnostic::new(
                Code::WebIdentityUnscoped,
                format!("any holder of a token from `{host}` may assume this role"),
            )
            .help(format!(
                "name the subjects: `{example} like \"repo:ORG/REPO:ref:refs/heads/main\"` on GitHub, not a pattern that matches every one"
            )),
            c.span.or(statement.span),
            "this condition matches every subject",
        ));
        return;
    }
    let span = provider.span.or(statement.span);
    out.push(at(
        Diagnostic::new(
            Code::WebIdentityUnscoped,
            format!("any holder of a token from `{host}` may assume this role"),
        )
        .help(format!(
            "say whose tokens: a condition on `{example}` (for GitHub, the repository and branch: `{example} like \"repo:ORG/REPO:ref:refs/heads/main\"`)"
        )),
        span,
        "trusted without a condition on the token's subject",
    ));
}

/// Service principals whose first label is not a service prefix of the reference.
const PRINCIPALS_NOT_PREFIXES: &[&str] = &[
    "ecs-tasks",
    "edgelambda",
    "spotfleet",
    "ec2fleet",
    "monitoring",
    "vpc-flow-logs",
    "replication",
    "pods",
];

/// The first labels of the service principals AWS's managed policies name
/// (`application-insights` of `application-insights.amazonaws.com`), read once from the data.
fn named_in_managed_policies() -> &'static std::collections::HashSet<String> {
    static NAMES: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut out = std::collections::HashSet::new();
        for policy in crate::awsdb::managed_policies() {
            let text = policy.document;
            let mut rest = text;
            while let Some(at) = rest.find(".amazonaws.com\"") {
                let before = &rest[..at];
                let start = before.rfind('"').map_or(0, |q| q + 1);
                let name = &before[start..];
                let first = name.split('.').next().unwrap_or(name);
                if !first.is_empty()
                    && first
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    out.insert(first.to_ascii_lowercase());
                }
                rest = &rest[at + 1..];
            }
        }
        out
    })
}

/// A well-formed service principal that no service has, where a close one exists: the one
/// meant (`lamdba.amazonaws.com`, `lambda.amazonaws.cm`, `ec2.amazon.com`).
fn service_principal_typo(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let (name, domain) = lower.split_once('.')?;
    let prefixes = crate::awsdb::service_prefixes;
    let known = |n: &str| {
        prefixes().any(|p| p == n)
            || PRINCIPALS_NOT_PREFIXES.contains(&n)
            || named_in_managed_policies().contains(n)
    };
    let domains = ["amazonaws.com", "amazonaws.com.cn", "amazonaws.eu"];
    let amazon = domains
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")));
    if !amazon {
        let name = if known(name) {
            name
        } else {
            crate::diag::suggest(name, prefixes())?
        };
        return Some(format!("{name}.amazonaws.com"));
    }
    // `delivery.logs.amazonaws.com`, regional names: not judged.
    if domain != "amazonaws.com" || known(name) {
        return None;
    }
    crate::diag::suggest(name, prefixes()).map(|p| format!("{p}.amazonaws.com"))
}

/// What is wrong with a principal value of a kind, if anything: (label, help).
fn principal_problem(kind: &str, value: &str) -> Option<(String, String)> {
    let dns = |v: &str| {
        v.contains('.')
            && v.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    match kind {
        "Service" if !dns(value) => Some((
            "a service principal is a DNS name".into(),
            format!(
                "service principals read like `{}.amazonaws.com`",
                if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    "ec2"
                } else {
                    value
                }
            ),
        )),
        "AWS" => {
            let account = value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit());
            let arn = iam::arn::parse(value).is_ok_and(|a| {
                (a.service.eq_ignore_ascii_case("iam") || a.service.eq_ignore_ascii_case("sts"))
                    && a.account.len() == 12
                    && a.account.bytes().all(|b| b.is_ascii_digit())
            });
            (!account && !arn).then(|| {
                (
                    "not an account id or an IAM ARN".into(),
                    "an `AWS` principal is an account (`123456789012`, or `arn:aws:iam::123456789012:root`), a role, a user or a session ARN".into(),
                )
            })
        }
        "Federated" => {
            let provider = iam::arn::parse(value).is_ok_and(|a| {
                a.resource.starts_with("saml-provider/") || a.resource.starts_with("oidc-provider/")
            });
            (!provider && !dns(value)).then(|| {
                (
                    "not an identity provider".into(),
                    "a federated principal is a SAML or OIDC provider ARN, or a web identity provider such as `cognito-identity.amazonaws.com`".into(),
                )
            })
        }
        "CanonicalUser" => (value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| {
                (
                    "not a canonical user id".into(),
                    "a canonical user id is 64 hexadecimal digits".into(),
                )
            }),
        _ => None,
    }
}

/// Why an action is malformed, if it is.
pub(crate) fn action_problem(action: &str) -> Option<&'static str> {
    if action == "*" {
        return None;
    }
    let Some((service, name)) = action.split_once(':') else {
        return Some("no `:` between service and action");
    };
    if service.is_empty() {
        return Some("the service prefix is empty");
    }
    if !service
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?')
    {
        return Some("a service prefix is letters, digits and `-`");
    }
    if name.is_empty() {
        return Some("the action name is empty");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?' || c == '-')
    {
        return Some("an action name is letters and digits, with `*` and `?` as wildcards");
    }
    None
}

/// Conditions that exclude each other: a key required missing and also compared.
fn contradictions(statement: &Statement, out: &mut Vec<Diagnostic>) {
    for missing in statement
        .conditions
        .iter()
        .filter(|c| c.operator == "Null" && c.values.iter().all(|v| v == "true"))
    {
        let clash = statement.conditions.iter().find(|c| {
            c.key.eq_ignore_ascii_case(&missing.key)
                && c.operator != "Null"
                && !c.operator.ends_with("IfExists")
                && !c.operator.starts_with("ForAllValues:")
                && !c.operator.contains("Not")
        });
        if let Some(clash) = clash {
            let mut d = Diagnostic::new(Code::NeverMatches, "this statement can never match")
                .help(format!(
                    "`{}` cannot be missing and compared at once; use `{}?` (IfExists) to accept a missing key",
                    missing.key, missing.key
                ));
            if let Some(span) = clash.span {
                d = d.at(span, "needs the key present");
            }
            if let Some(span) = missing.span {
                d = d.with_label(span, "needs the key missing");
            }
            out.push(d);
        }
    }
}
