//! Reads an IAM policy written as JSON (identity, permissions boundary, role trust or
//! resource-based policy) into the [`iam`](super) model, with spans into the JSON text, so the
//! checks that run on compiled iamx sources run on existing JSON policies alike and point at the
//! exact line and column.
//!
//! The element grammar follows the IAM User Guide ("Grammar of the IAM JSON policy language" and
//! "IAM JSON policy elements reference"): keys are case-sensitive, unknown keys are rejected (AWS
//! rejects them too), repeated keys are rejected, and elements take the JSON types the grammar
//! gives them. Rules that hold for any policy, however it was written (a missing `Action`, an
//! empty list, a malformed ARN or Sid, …), are left to [`crate::check`]; this module reports what
//! only a JSON reader can see.

use indexmap::IndexMap;

use crate::diag::{self, Code, Diagnostic};
use crate::iam::json_text::{self, Member, Node, Value};
use crate::iam::{
    Block, Condition, Document, DocumentKind, Effect, Policy, Principal, Spanned, Statement,
};
use crate::lower::{all_operator_names, is_operator};
use crate::source::{FileId, Span};

/// What a JSON document is, as far as the reader can tell; a caller (`--kind`) may say instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonKind {
    /// An identity-based policy (a managed or inline policy of a user, group or role).
    Identity,
    /// A permissions boundary: an identity policy by grammar, never detected, only given.
    Boundary,
    /// A role trust policy: principals, `sts:AssumeRole*`-style actions, no `Resource`.
    Trust,
    /// A resource-based policy (S3 bucket, KMS key, SQS queue, …).
    Resource,
}

impl JsonKind {
    pub const ALL: &'static [JsonKind] = &[
        JsonKind::Identity,
        JsonKind::Boundary,
        JsonKind::Trust,
        JsonKind::Resource,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JsonKind::Identity => "identity",
            JsonKind::Boundary => "boundary",
            JsonKind::Trust => "trust",
            JsonKind::Resource => "resource",
        }
    }

    /// The kind named `text` (`identity`, `boundary`, `trust` or `resource`).
    pub fn parse(text: &str) -> Option<JsonKind> {
        JsonKind::ALL.iter().copied().find(|k| k.as_str() == text)
    }

    /// The document kind the checks use: an identity policy is checked as a managed policy
    /// (6,144 characters), a resource policy with the S3 bucket policy quota.
    pub fn document_kind(self) -> DocumentKind {
        match self {
            JsonKind::Identity => DocumentKind::Managed,
            JsonKind::Boundary => DocumentKind::Boundary,
            JsonKind::Trust => DocumentKind::Trust,
            JsonKind::Resource => DocumentKind::Resource,
        }
    }

    /// Whether its statements name a `Principal`.
    pub fn has_principal(self) -> bool {
        matches!(self, JsonKind::Trust | JsonKind::Resource)
    }
}

/// A policy read from JSON.
#[derive(Clone, Debug)]
pub struct JsonPolicy {
    pub policy: Policy,
    /// The kind the caller gave, or else the one detected.
    pub kind: JsonKind,
    /// The kind the statements suggest, whatever the caller said (see [`read_policy`]).
    pub detected: JsonKind,
    /// `Version`, as written (its span is the string literal).
    pub version: Option<Spanned<String>>,
    /// `Id`, as written.
    pub id: Option<Spanned<String>>,
    /// The top-level object.
    pub span: Span,
}

impl JsonPolicy {
    /// The policy as a document for [`crate::check::document_rules`] and the size check. Its
    /// span (where size diagnostics point) is the opening `{`.
    pub fn into_document(self, name: impl Into<String>) -> Document {
        let name = name.into();
        Document {
            kind: self.kind.document_kind(),
            file: name.clone(),
            name,
            owner: None,
            policy: self.policy,
            span: Some(Span {
                end: self.span.start + 1,
                ..self.span
            }),
        }
    }
}

/// The policy language versions IAM knows, current first.
pub const VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];

const POLICY_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const PRINCIPAL_KEYS: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

/// The code for a missing `Version` when the policy uses no policy variables (it then means
/// nothing in practice, so this is only advice). No code fits yet; with `None` it is not
/// reported. A missing `Version` with policy variables is always reported, as
/// [`Code::NeverMatches`].
const MISSING_VERSION: Option<Code> = None;

/// Reads a JSON policy document.
///
/// Returns the policy when nothing is wrong enough to stop the checks, and every diagnostic,
/// warnings included. Malformed JSON gives exactly one diagnostic; otherwise every problem with
/// the policy's elements is reported.
///
/// `kind` is what the caller says the document is. Without it the kind is detected: no
/// `Principal` anywhere makes an identity policy; a principal in every statement makes a trust
/// policy when every action is `sts:AssumeRole*`, `sts:TagSession`, `sts:SetSourceIdentity` or
/// `sts:SetContext` and no statement has a `Resource`, else a resource-based policy; a mix is an
/// error.
pub fn read_policy(
    file: FileId,
    text: &str,
    kind: Option<JsonKind>,
) -> (Option<JsonPolicy>, Vec<Diagnostic>) {
    let root = match json_text::parse(file, text) {
        Ok(root) => root,
        Err(d) => return (None, vec![d]),
    };
    let mut reader = Reader { out: Vec::new() };
    let policy = reader.policy(&root, kind);
    let failed = reader.out.iter().any(Diagnostic::is_error);
    (policy.filter(|_| !failed), reader.out)
}

/// A statement read, with the key spans the kind rules need.
struct Read {
    statement: Statement,
    /// The `Principal` or `NotPrincipal` key.
    principal_key: Option<Span>,
    /// The `Resource` or `NotResource` key, and which.
    resource_key: Option<(Span, &'static str)>,
}

struct Reader {
    out: Vec<Diagnostic>,
}

impl Reader {
    fn policy(&mut self, root: &Node, given: Option<JsonKind>) -> Option<JsonPolicy> {
        let Some(members) = root.members() else {
            self.out.push(
                Diagnostic::new(
                    Code::WrongValueType,
                    format!("a policy is a JSON object, not {}", root.type_name()),
                )
                .at(root.span, format!("{} here", root.type_name()))
                .help("write `{\"Version\": \"2012-10-17\", \"Statement\": […]}`"),
            );
            return None;
        };
        let mut version = None;
        let mut id = None;
        let mut statement_member = None;
        for m in members {
            match m.key.as_str() {
                "Version" => version = self.string(m, "`Version`"),
                "Id" => id = self.string(m, "`Id`"),
                "Statement" => statement_member = Some(m),
                _ => self.unknown_key(m, POLICY_KEYS, "a policy"),
            }
        }
        if let Some(v) = &version {
            if !VERSIONS.contains(&v.value.as_str()) {
                let mut d = Diagnostic::new(
                    Code::WrongValueType,
                    format!("unknown policy language version `{}`", v.value),
                )
                .help("`Version` is the policy language's: `2012-10-17` (or the legacy `2008-10-17`), not a date of your own");
                if let Some(span) = v.span {
                    d = d.at(span, "not an IAM policy language version");
                }
                self.out.push(d);
            }
        }
        let Some(statement_member) = statement_member else {
            self.out.push(
                Diagnostic::new(Code::MissingElement, "policy has no `Statement`")
                    .at(root.span, "no `Statement` in this object")
                    .help("add `\"Statement\": [{\"Effect\": …, \"Action\": …, \"Resource\": …}]`"),
            );
            return None;
        };
        let nodes: Vec<&Node> = match &statement_member.value.value {
            Value::Object(_) => vec![&statement_member.value],
            Value::Array(items) => {
                if items.is_empty() {
                    self.out.push(
                        Diagnostic::new(Code::EmptyList, "policy has no statements")
                            .at(statement_member.value.span, "an empty list")
                            .help("a policy holds at least one statement"),
                    );
                }
                items.iter().collect()
            }
            _ => {
                self.wrong_type(
                    &statement_member.value,
                    "`Statement`",
                    "an object or an array of objects",
                );
                return None;
            }
        };
        let reads: Vec<Read> = nodes
            .into_iter()
            .filter_map(|n| self.statement(n))
            .collect();
        let detected = self.detect(&reads, given.is_none());
        let kind = given.unwrap_or(detected);
        self.kind_rules(&reads, kind);
        self.variables(&reads, version.as_ref(), root.span);
        Some(JsonPolicy {
            policy: Policy {
                statements: reads.into_iter().map(|r| r.statement).collect(),
            },
            kind,
            detected,
            version,
            id,
            span: root.span,
        })
    }

    fn statement(&mut self, node: &Node) -> Option<Read> {
        let Some(members) = node.members() else {
            self.wrong_type(node, "a statement", "an object `{…}`");
            return None;
        };
        let mut ok = true;
        let mut sid = None;
        let mut effect = None;
        let mut principal: Option<&Member> = None;
        let mut action: Option<&Member> = None;
        let mut resource: Option<&Member> = None;
        let mut condition = None;
        for m in members {
            let slot = match m.key.as_str() {
                "Sid" => {
                    sid = Some(m);
                    continue;
                }
                "Effect" => {
                    effect = Some(m);
                    continue;
                }
                "Condition" => {
                    condition = Some(m);
                    continue;
                }
                "Principal" | "NotPrincipal" => &mut principal,
                "Action" | "NotAction" => &mut action,
                "Resource" | "NotResource" => &mut resource,
                _ => {
                    self.unknown_key(m, STATEMENT_KEYS, "a statement");
                    ok = false;
                    continue;
                }
            };
            match slot {
                Some(first) => {
                    // Exact repeats are caught by the JSON reader: this is `X` with `NotX`.
                    self.out.push(
                        Diagnostic::new(
                            Code::DuplicateSetting,
                            format!("statement has both `{}` and `{}`", first.key, m.key),
                        )
                        .at(m.key_span, "given here")
                        .with_label(first.key_span, "and here")
                        .help(format!(
                            "a statement has `{}` or `{}`, not both",
                            first.key, m.key
                        )),
                    );
                    ok = false;
                }
                None => *slot = Some(m),
            }
        }
        let sid = match sid {
            Some(m) => {
                let s = self.string(m, "`Sid`");
                ok &= s.is_some();
                s
            }
            None => None,
        };
        let effect = match effect {
            Some(m) => self.effect(m),
            None => {
                self.out.push(
                    Diagnostic::new(Code::MissingElement, "statement has no `Effect`")
                        .at(node.span, "no `Effect` in this statement")
                        .help("add `\"Effect\": \"Allow\"` or `\"Effect\": \"Deny\"`"),
                );
                None
            }
        };
        let principal_read = principal.map(|m| self.principal(m));
        let action_read = action.map(|m| self.block(m, m.key == "NotAction"));
        let resource_read = resource.map(|m| self.block(m, m.key == "NotResource"));
        let conditions = match condition {
            Some(m) => self.conditions(m),
            None => Some(Vec::new()),
        };
        let (Some(effect), Some(conditions)) = (effect, conditions) else {
            return None;
        };
        let principal_value = match principal_read {
            Some(None) => return None,
            Some(Some(p)) => Some(p),
            None => None,
        };
        let action_value = match action_read {
            Some(None) => return None,
            other => other.flatten(),
        };
        let resource_value = match resource_read {
            Some(None) => return None,
            other => other.flatten(),
        };
        if !ok {
            return None;
        }
        Some(Read {
            statement: Statement {
                sid,
                effect,
                principal: principal_value,
                not_principal: principal.is_some_and(|m| m.key == "NotPrincipal"),
                action: action_value,
                resource: resource_value,
                conditions,
                span: Some(node.span),
                docs: Vec::new(),
            },
            principal_key: principal.map(|m| m.key_span),
            resource_key: resource.map(|m| {
                let key = if m.key == "NotResource" {
                    "NotResource"
                } else {
                    "Resource"
                };
                (m.key_span, key)
            }),
        })
    }

    fn effect(&mut self, m: &Member) -> Option<Spanned<Effect>> {
        let text = self.string(m, "`Effect`")?;
        let effect = match text.value.as_str() {
            "Allow" => Effect::Allow,
            "Deny" => Effect::Deny,
            other => {
                let help = match diag::suggest(other, ["Allow", "Deny"]) {
                    Some(s) if s.eq_ignore_ascii_case(other) => {
                        format!("`Effect` is case-sensitive: write `{s}`")
                    }
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`Effect` is `Allow` or `Deny`".to_string(),
                };
                self.out.push(
                    Diagnostic::new(
                        Code::WrongValueType,
                        format!("`Effect` is `Allow` or `Deny`, not `{other}`"),
                    )
                    .at(m.value.span, "not an effect")
                    .help(help),
                );
                return None;
            }
        };
        Some(Spanned::new(effect, Some(m.value.span)))
    }

    fn principal(&mut self, m: &Member) -> Option<Principal> {
        let key = m.key.as_str();
        match &m.value.value {
            Value::String(s) if s == "*" => Some(Principal::Any(Some(m.value.span))),
            Value::String(s) => {
                let help = if s.starts_with("arn:") || s.chars().all(|c| c.is_ascii_digit()) {
                    format!("an account, user or role goes under `AWS`: `\"{key}\": {{\"AWS\": \"{s}\"}}`")
                } else if s.ends_with(".amazonaws.com") {
                    format!("a service goes under `Service`: `\"{key}\": {{\"Service\": \"{s}\"}}`")
                } else {
                    format!("write `\"{key}\": \"*\"` for everyone, or `\"{key}\": {{\"AWS\": \"arn:…\"}}`")
                };
                self.out.push(
                    Diagnostic::new(
                        Code::WrongValueType,
                        format!("`{key}` is `\"*\"` or an object of principals by type"),
                    )
                    .at(m.value.span, "a bare string other than `\"*\"`")
                    .help(help),
                );
                None
            }
            Value::Object(members) => {
                if members.is_empty() {
                    self.out.push(
                        Diagnostic::new(Code::EmptyList, format!("`{key}` names no principal"))
                            .at(m.value.span, "an empty object")
                            .help("name principals by type: `{\"AWS\": \"arn:…\"}`, `{\"Service\": \"…\"}`, `{\"Federated\": \"…\"}`"),
                    );
                    return None;
                }
                let mut kinds = IndexMap::new();
                let mut ok = true;
                for member in members {
                    if !PRINCIPAL_KEYS.contains(&member.key.as_str()) {
                        self.unknown_key(member, PRINCIPAL_KEYS, &format!("`{key}`"));
                        ok = false;
                        continue;
                    }
                    let what = format!("`{}` in `{key}`", member.key);
                    match self.strings(&member.value, &what, false) {
                        Some(values) => {
                            kinds.insert(member.key.clone(), values);
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Principal::Kinds(kinds))
            }
            _ => {
                self.wrong_type(&m.value, &format!("`{key}`"), "`\"*\"` or an object");
                None
            }
        }
    }

    fn block(&mut self, m: &Member, not: bool) -> Option<Block> {
        let what = format!("`{}`", m.key);
        // An empty list is read as such: the checks report it for either way of writing it.
        let values = self.strings(&m.value, &what, true)?;
        Some(Block {
            not,
            values,
            span: Some(m.value.span),
        })
    }

    /// A string or an array of strings. With `allow_empty` false, an empty array is reported.
    fn strings(
        &mut self,
        node: &Node,
        what: &str,
        allow_empty: bool,
    ) -> Option<Vec<Spanned<String>>> {
        match &node.value {
            Value::String(s) => Some(vec![Spanned::new(s.clone(), Some(node.span))]),
            Value::Array(items) => {
                if items.is_empty() && !allow_empty {
                    self.out.push(
                        Diagnostic::new(Code::EmptyList, format!("{what} is an empty list"))
                            .at(node.span, "an empty list")
                            .help("give at least one value"),
                    );
                    return None;
                }
                let mut ok = true;
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    match &item.value {
                        Value::String(s) => values.push(Spanned::new(s.clone(), Some(item.span))),
                        _ => {
                            self.wrong_type(item, &format!("an element of {what}"), "a string");
                            ok = false;
                        }
                    }
                }
                ok.then_some(values)
            }
            _ => {
                self.wrong_type(node, what, "a string or an array of strings");
                None
            }
        }
    }

    fn conditions(&mut self, m: &Member) -> Option<Vec<Condition>> {
        let Some(operators) = m.value.members() else {
            self.wrong_type(
                &m.value,
                "`Condition`",
                "an object: `{\"Operator\": {\"key\": value}}`",
            );
            return None;
        };
        let mut ok = true;
        let mut out: Vec<Condition> = Vec::new();
        for op in operators {
            if !is_operator(&op.key) {
                let names = all_operator_names();
                let help = diag::did_you_mean(diag::suggest(
                    &op.key,
                    names.iter().map(String::as_str),
                ))
                .unwrap_or_else(|| {
                    "operators are like `StringEquals`, `ArnLike`, `ForAnyValue:StringLike`, `BoolIfExists`".into()
                });
                self.out.push(
                    Diagnostic::new(
                        Code::UnknownOperator,
                        format!("unknown condition operator `{}`", op.key),
                    )
                    .at(op.key_span, "not an IAM condition operator")
                    .help(help),
                );
                ok = false;
                continue;
            }
            let Some(keys) = op.value.members() else {
                self.wrong_type(
                    &op.value,
                    &format!("the value of `{}`", op.key),
                    "an object of condition keys: `{\"aws:SourceAccount\": \"…\"}`",
                );
                ok = false;
                continue;
            };
            if keys.is_empty() {
                self.out.push(
                    Diagnostic::new(
                        Code::EmptyList,
                        format!("`{}` tests no condition key", op.key),
                    )
                    .at(op.value.span, "an empty object")
                    .help("name at least one key, or remove the operator"),
                );
                ok = false;
                continue;
            }
            for key in keys {
                let Some(values) = self.condition_values(key) else {
                    ok = false;
                    continue;
                };
                // Exact repeats are caught by the JSON reader; keys ignore case in IAM.
                if let Some(first) = out
                    .iter()
                    .find(|c| c.operator == op.key && c.key.eq_ignore_ascii_case(&key.key))
                {
                    let mut d = Diagnostic::new(
                        Code::DuplicateCondition,
                        format!(
                            "`{}` is tested twice with `{}` in one statement",
                            key.key, op.key
                        ),
                    )
                    .at(key.key_span, "tested again here")
                    .help("condition keys ignore case, so these are one key; list every value under one of them");
                    if let Some(span) = first.span {
                        d = d.with_label(span, "first tested here");
                    }
                    self.out.push(d);
                    ok = false;
                    continue;
                }
                out.push(Condition {
                    operator: op.key.clone(),
                    key: key.key.clone(),
                    values,
                    span: Some(key.span()),
                });
            }
        }
        ok.then_some(out)
    }

    /// A condition value: a string, number or boolean, or a non-empty array of them; each
    /// becomes a string (numbers as written, `true` as `"true"`).
    fn condition_values(&mut self, key: &Member) -> Option<Vec<String>> {
        let what = format!("the value of `{}`", key.key);
        let expected = "a string, a number, a boolean, or an array of them";
        let one = |node: &Node| match &node.value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        match &key.value.value {
            Value::Array(items) => {
                if items.is_empty() {
                    self.out.push(
                        Diagnostic::new(
                            Code::EmptyList,
                            format!("`{}` is compared with no values", key.key),
                        )
                        .at(key.value.span, "an empty list matches nothing")
                        .help("give at least one value"),
                    );
                    return None;
                }
                let mut values = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    match one(item) {
                        Some(v) => values.push(v),
                        None => {
                            self.wrong_type(
                                item,
                                &format!("an element of {what}"),
                                "a string, a number or a boolean",
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(values)
            }
            _ => match one(&key.value) {
                Some(v) => Some(vec![v]),
                None => {
                    self.wrong_type(&key.value, &what, expected);
                    None
                }
            },
        }
    }

    /// The kind the statements suggest. A mix of statements with and without a principal is
    /// reported when `report_mix` (when the caller gave no kind; otherwise the checks report
    /// each statement that does not fit the kind given).
    fn detect(&mut self, reads: &[Read], report_mix: bool) -> JsonKind {
        let with: Vec<&Read> = reads
            .iter()
            .filter(|r| r.statement.principal.is_some())
            .collect();
        if with.is_empty() {
            return JsonKind::Identity;
        }
        let mut some_trust_action = false;
        let trust = with.iter().all(|r| {
            let s = &r.statement;
            let actions_fit = match &s.action {
                None => true,
                Some(block) => {
                    let fit = !block.not && block.values.iter().all(|a| is_trust_action(&a.value));
                    some_trust_action |= fit && !block.values.is_empty();
                    fit
                }
            };
            !s.not_principal && s.resource.is_none() && actions_fit
        }) && some_trust_action;
        let kind = if trust {
            JsonKind::Trust
        } else {
            JsonKind::Resource
        };
        if report_mix {
            let without: Vec<&Read> = reads
                .iter()
                .filter(|r| r.statement.principal.is_none())
                .collect();
            if let (Some(first_without), Some(first_with)) = (without.first(), with.first()) {
                let mut d = Diagnostic::new(
                    Code::MissingElement,
                    "policy mixes statements with and without a `Principal`",
                )
                .help(format!(
                    "every statement of a trust or resource policy names a principal, and no statement of an identity policy does; read as a {} policy, {} of {} statements have none",
                    kind.as_str(),
                    without.len(),
                    reads.len()
                ));
                if let Some(span) = first_without.statement.span {
                    d = d.at(span, "no `Principal` in this statement");
                }
                if let Some(span) = first_with.principal_key {
                    d = d.with_label(span, "but this statement has one");
                }
                self.out.push(d);
            }
        }
        kind
    }

    /// What only some kinds allow: `NotPrincipal` (only with `Deny`, never in a trust policy)
    /// and `Resource` (never in a trust policy).
    fn kind_rules(&mut self, reads: &[Read], kind: JsonKind) {
        for r in reads {
            let s = &r.statement;
            if s.not_principal {
                if let Some(span) = r.principal_key {
                    if kind == JsonKind::Trust {
                        self.out.push(
                            Diagnostic::new(
                                Code::SettingNotAllowed,
                                "a role trust policy cannot use `NotPrincipal`",
                            )
                            .at(span, "not allowed in a trust policy")
                            .help("name who may assume the role in `Principal`"),
                        );
                    } else if s.effect.value == Effect::Allow {
                        let mut d = Diagnostic::new(
                            Code::SettingNotAllowed,
                            "`NotPrincipal` is supported only with `\"Effect\": \"Deny\"`",
                        )
                        .at(span, "`NotPrincipal` with `Allow`")
                        .help("name the principals to allow in `Principal` instead");
                        if let Some(effect) = s.effect.span {
                            d = d.with_label(effect, "`Allow` here");
                        }
                        self.out.push(d);
                    }
                }
            }
            if kind == JsonKind::Trust {
                if let Some((span, key)) = r.resource_key {
                    self.out.push(
                        Diagnostic::new(
                            Code::SettingNotAllowed,
                            format!("a role trust policy cannot have `{key}`"),
                        )
                        .at(span, "not allowed in a trust policy")
                        .help("the role itself is the resource of its trust policy; remove it"),
                    );
                }
            }
        }
    }

    /// Under `2008-10-17` (also what a missing `Version` means) policy variables like
    /// `${aws:username}` are not substituted: they match only themselves.
    fn variables(&mut self, reads: &[Read], version: Option<&Spanned<String>>, root: Span) {
        if version.is_some_and(|v| v.value != "2008-10-17") {
            return;
        }
        let first = reads.iter().find_map(|r| first_variable(&r.statement));
        match first {
            Some(span) => {
                let mut d = Diagnostic::new(
                    Code::NeverMatches,
                    "policy variables are not substituted in this policy",
                )
                .at(span, "`${…}` here is matched as written")
                .help("policy variables need `\"Version\": \"2012-10-17\"`; without it they match only the literal text");
                d = match version.and_then(|v| v.span) {
                    Some(v) => d.with_label(v, "legacy policy language version"),
                    None => d.with_label(
                        Span {
                            end: root.start + 1,
                            ..root
                        },
                        "no `Version`: this policy is read as `2008-10-17`",
                    ),
                };
                self.out.push(d);
            }
            None => {
                if let (Some(code), None) = (MISSING_VERSION, version) {
                    self.out.push(
                        Diagnostic::new(code, "policy has no `Version`")
                            .at(
                                Span {
                                    end: root.start + 1,
                                    ..root
                                },
                                "no `Version` in this object",
                            )
                            .help("add `\"Version\": \"2012-10-17\"`; without it the legacy `2008-10-17` language applies"),
                    );
                }
            }
        }
    }

    /// A string-valued member.
    fn string(&mut self, m: &Member, what: &str) -> Option<Spanned<String>> {
        match &m.value.value {
            Value::String(s) => Some(Spanned::new(s.clone(), Some(m.value.span))),
            _ => {
                self.wrong_type(&m.value, what, "a string");
                None
            }
        }
    }

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        let found = node.type_name();
        self.out.push(
            Diagnostic::new(
                Code::WrongValueType,
                format!("{what} must be {expected}, not {found}"),
            )
            .at(node.span, format!("{found} here")),
        );
    }

    fn unknown_key(&mut self, m: &Member, known: &[&str], place: &str) {
        let help = match diag::suggest(&m.key, known.iter().copied()) {
            Some(s) if s.eq_ignore_ascii_case(&m.key) => {
                format!("keys are case-sensitive: write `{s}`")
            }
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "{place} holds only {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.out.push(
            Diagnostic::new(
                Code::UnknownAttribute,
                format!("unknown key `{}` in {place}", m.key),
            )
            .at(m.key_span, "not an element IAM knows here")
            .help(help),
        );
    }
}

/// Actions of a role trust policy.
fn is_trust_action(action: &str) -> bool {
    let lower = action.to_ascii_lowercase();
    match lower.strip_prefix("sts:") {
        Some(name) => {
            name.starts_with("assumerole")
                || matches!(name, "tagsession" | "setsourceidentity" | "setcontext")
        }
        None => false,
    }
}

/// Where the first policy variable of a statement is written.
fn first_variable(s: &Statement) -> Option<Span> {
    let has = |v: &str| v.contains("${");
    let principals = match &s.principal {
        Some(Principal::Kinds(kinds)) => kinds.values().flatten().collect(),
        _ => Vec::new(),
    };
    principals
        .into_iter()
        .chain(s.action.iter().flat_map(|b| &b.values))
        .chain(s.resource.iter().flat_map(|b| &b.values))
        .find(|v| has(&v.value))
        .and_then(|v| v.span)
        .or_else(|| {
            s.conditions
                .iter()
                .find(|c| has(&c.key) || c.values.iter().any(|v| has(v)))
                .and_then(|c| c.span)
        })
}
