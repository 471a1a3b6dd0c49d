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
use crate::iam::operators::{all_operator_names, is_operator};
use crate::iam::{
    Block, Condition, Document, DocumentKind, Effect, Policy, Principal, Spanned, Statement,
};
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
            split: false,
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
const MISSING_VERSION: Option<Code> = Some(Code::MissingVersion);

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

/// [`read_policy`] on a JSON value already parsed: a policy document embedded in a larger JSON
/// file (an account snapshot), whose spans point into that file.
pub fn read_policy_node(
    root: &Node,
    kind: Option<JsonKind>,
) -> (Option<JsonPolicy>, Vec<Diagnostic>) {
    let mut reader = Reader { out: Vec::new() };
    let policy = reader.policy(root, kind);
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
        let mut misspelled = Vec::new();
        for m in members {
            match m.key.as_str() {
                "Version" => version = self.string(m, "`Version`"),
                "Id" => id = self.string(m, "`Id`"),
                "Statement" => statement_member = Some(m),
                _ => misspelled.extend(self.unknown_key(m, POLICY_KEYS, "a policy")),
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
            if misspelled.contains(&"Statement") {
                // Reported as an unknown key with "did you mean".
                return None;
            }
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
        let mut misspelled = Vec::new();
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
                    misspelled.extend(self.unknown_key(m, STATEMENT_KEYS, "a statement"));
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
            // A misspelled `Effect` is reported as an unknown key with "did you mean".
            None if misspelled.contains(&"Effect") => None,
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
                        let _ = self.unknown_key(member, PRINCIPAL_KEYS, &format!("`{key}`"));
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
        // Each key tested, by operator and lowercased key → its place in `out`.
        let mut tested: std::collections::HashMap<(String, String), usize> =
            std::collections::HashMap::new();
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
                // Exact repeats are caught by the JSON reader. Keys ignore case in IAM, and AWS
                // accepts one key written twice in different case: both entries are kept and
                // evaluated, and both must hold.
                let folded = (op.key.clone(), key.key.to_ascii_lowercase());
                if let Some(first) = tested.get(&folded).map(|&i| &out[i]) {
                    let mut d = Diagnostic::new(
                        Code::ConditionKeyCase,
                        format!(
                            "`{}` is tested again with `{}`, as `{}`",
                            first.key, op.key, key.key
                        ),
                    )
                    .at(key.key_span, "the same key in other case")
                    .help("condition keys ignore case: both tests apply and both must hold; to accept either value, list both values under one key");
                    if let Some(span) = first.key_span.or(first.span) {
                        d = d.with_label(span, "first tested here");
                    }
                    self.out.push(d);
                }
                tested.insert(folded, out.len());
                out.push(Condition {
                    operator: op.key.clone(),
                    key: key.key.clone(),
                    values,
                    span: Some(key.span()),
                    key_span: Some(key.key_span),
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

    /// Reports an unknown key; returns the known key it is likely a misspelling of.
    fn unknown_key(
        &mut self,
        m: &Member,
        known: &[&'static str],
        place: &str,
    ) -> Option<&'static str> {
        let suggestion = diag::suggest(&m.key, known.iter().copied());
        let help = match suggestion {
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
        suggestion
    }
}

/// Actions of a role trust policy.
fn is_trust_action(action: &str) -> bool {
    crate::eval::is_trust_action(action)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check;
    use crate::iam::json_text::MAX_DEPTH;

    const FILE: FileId = FileId(0);

    fn read(text: &str) -> (Option<JsonPolicy>, Vec<Diagnostic>) {
        read_policy(FILE, text, None)
    }

    fn slice(text: &str, span: Option<Span>) -> &str {
        let span = span.expect("a span");
        assert_eq!(span.file, FILE);
        &text[span.range()]
    }

    /// Reads a policy that must have no diagnostics at all.
    fn clean(text: &str) -> JsonPolicy {
        let (policy, diagnostics) = read(text);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        policy.expect("a policy")
    }

    /// Reads a policy with exactly one error and returns its code and the text under its span.
    fn error(text: &str) -> (Code, String, Diagnostic) {
        error_as(text, None)
    }

    fn error_as(text: &str, kind: Option<JsonKind>) -> (Code, String, Diagnostic) {
        let (policy, diagnostics) = read_policy(FILE, text, kind);
        assert!(policy.is_none(), "an error must withhold the policy");
        let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1, "{diagnostics:#?}");
        let d = errors[0].clone();
        (d.code, slice(text, d.span).to_string(), d)
    }

    /// The diagnostics the model checks give the policy.
    fn checked(policy: JsonPolicy) -> Vec<Diagnostic> {
        let document = policy.into_document("policy.json");
        let mut out = Vec::new();
        check::document_rules(&document, &mut out);
        out
    }

    const IDENTITY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadObjects",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:ListBucket"],
      "Resource": [
        "arn:aws:s3:::example-bucket",
        "arn:aws:s3:::example-bucket/*"
      ]
    },
    {
      "Effect": "Deny",
      "Action": "s3:DeleteObject",
      "Resource": "*"
    }
  ]
}"#;

    #[test]
    fn reads_an_identity_policy_with_spans() {
        let json = clean(IDENTITY);
        assert_eq!(json.kind, JsonKind::Identity);
        assert_eq!(json.detected, JsonKind::Identity);
        assert_eq!(json.version.as_ref().unwrap().value, "2012-10-17");
        assert_eq!(
            slice(IDENTITY, json.version.as_ref().unwrap().span),
            "\"2012-10-17\""
        );
        assert!(json.id.is_none());
        let statements = &json.policy.statements;
        assert_eq!(statements.len(), 2);

        let first = &statements[0];
        let sid = first.sid.as_ref().unwrap();
        assert_eq!(sid.value, "ReadObjects");
        assert_eq!(slice(IDENTITY, sid.span), "\"ReadObjects\"");
        assert_eq!(first.effect.value, Effect::Allow);
        assert_eq!(slice(IDENTITY, first.effect.span), "\"Allow\"");
        assert!(first.principal.is_none());
        assert!(!first.not_principal);
        let action = first.action.as_ref().unwrap();
        assert!(!action.not);
        assert_eq!(
            slice(IDENTITY, action.span),
            r#"["s3:GetObject", "s3:ListBucket"]"#
        );
        assert_eq!(action.values[1].value, "s3:ListBucket");
        assert_eq!(slice(IDENTITY, action.values[1].span), "\"s3:ListBucket\"");
        let resource = first.resource.as_ref().unwrap();
        assert_eq!(resource.values.len(), 2);
        assert_eq!(
            slice(IDENTITY, resource.values[1].span),
            "\"arn:aws:s3:::example-bucket/*\""
        );
        let statement_text = slice(IDENTITY, first.span);
        assert!(statement_text.starts_with("{\n      \"Sid\""));
        assert!(statement_text.ends_with("]\n    }"));

        let second = &statements[1];
        assert_eq!(second.effect.value, Effect::Deny);
        let action = second.action.as_ref().unwrap();
        assert_eq!(slice(IDENTITY, action.span), "\"s3:DeleteObject\"");
        assert_eq!(action.values.len(), 1);
        assert_eq!(second.resource.as_ref().unwrap().values[0].value, "*");

        let document = json.clone().into_document("read.json");
        assert_eq!(document.kind, DocumentKind::Managed);
        assert_eq!(slice(IDENTITY, document.span), "{");
        // What iamx would write for it is the same policy.
        let written = crate::iam::json::policy(&json.policy);
        let original: serde_json::Value = serde_json::from_str(IDENTITY).unwrap();
        assert_eq!(
            written["Statement"][0]["Action"],
            original["Statement"][0]["Action"]
        );
        assert!(checked(json).is_empty());
    }

    const TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Service": "ec2.amazonaws.com"},
      "Action": "sts:AssumeRole"
    },
    {
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::123456789012:root", "210987654321"]},
      "Action": ["sts:AssumeRole", "sts:TagSession"],
      "Condition": {"StringEquals": {"sts:ExternalId": "secret"}}
    },
    {
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/repo:*"}
      }
    }
  ]
}"#;

    #[test]
    fn reads_a_trust_policy() {
        let json = clean(TRUST);
        assert_eq!(json.kind, JsonKind::Trust);
        let statements = &json.policy.statements;
        let Some(Principal::Kinds(kinds)) = &statements[0].principal else {
            panic!("principal by kinds")
        };
        assert_eq!(kinds["Service"][0].value, "ec2.amazonaws.com");
        assert_eq!(
            slice(TRUST, kinds["Service"][0].span),
            "\"ec2.amazonaws.com\""
        );
        let Some(Principal::Kinds(kinds)) = &statements[1].principal else {
            panic!("principal by kinds")
        };
        assert_eq!(kinds["AWS"].len(), 2);
        assert_eq!(slice(TRUST, kinds["AWS"][1].span), "\"210987654321\"");
        assert!(statements.iter().all(|s| s.resource.is_none()));
        let condition = &statements[1].conditions[0];
        assert_eq!(condition.operator, "StringEquals");
        assert_eq!(condition.key, "sts:ExternalId");
        assert_eq!(condition.values, vec!["secret"]);
        assert_eq!(
            slice(TRUST, condition.span),
            "\"sts:ExternalId\": \"secret\""
        );
        assert_eq!(statements[2].conditions.len(), 2);
        let document = json.clone().into_document("trust.json");
        assert_eq!(document.kind, DocumentKind::Trust);
        let diagnostics = checked(json);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    }

    const BUCKET: &str = r#"{
  "Version": "2012-10-17",
  "Id": "BucketPolicy",
  "Statement": [
    {
      "Sid": "AllowRead",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:role/Reader"},
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::example-bucket/*"
    },
    {
      "Sid": "DenyInsecure",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::example-bucket", "arn:aws:s3:::example-bucket/*"],
      "Condition": {"Bool": {"aws:SecureTransport": false}}
    }
  ]
}"#;

    #[test]
    fn reads_a_bucket_policy() {
        let json = clean(BUCKET);
        assert_eq!(json.kind, JsonKind::Resource);
        let id = json.id.as_ref().unwrap();
        assert_eq!(id.value, "BucketPolicy");
        assert_eq!(slice(BUCKET, id.span), "\"BucketPolicy\"");
        let deny = &json.policy.statements[1];
        let Some(Principal::Any(span)) = &deny.principal else {
            panic!("principal *")
        };
        assert_eq!(slice(BUCKET, *span), "\"*\"");
        assert_eq!(deny.conditions[0].values, vec!["false"]);
        assert_eq!(
            slice(BUCKET, deny.conditions[0].span),
            "\"aws:SecureTransport\": false"
        );
        let document = json.clone().into_document("bucket.json");
        assert_eq!(document.kind, DocumentKind::Resource);
        assert_eq!(
            check::size_limit(document.kind, &check::Limits::default()),
            20_480
        );
        let diagnostics = checked(json);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    }

    #[test]
    fn a_resource_policy_statement_without_resource_is_reported_by_the_checks() {
        let text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"AWS": "123456789012"}, "Action": "s3:GetObject"}}"#;
        let json = clean(text);
        assert_eq!(json.kind, JsonKind::Resource);
        let diagnostics = checked(json);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        assert_eq!(diagnostics[0].code, Code::MissingElement);
    }

    #[test]
    fn condition_values_become_strings_as_written() {
        let text = r#"{"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
            "Condition": {
                "NumericLessThanEquals": {"s3:max-keys": 10},
                "Bool": {"aws:MultiFactorAuthPresent": true},
                "StringEquals": {"aws:PrincipalTag/team": ["a", 1.50, -2e3, false]},
                "ForAnyValue:StringLike": {"aws:TagKeys": ["env*"]}
            }
        }}"#;
        let json = clean(text);
        let conditions = &json.policy.statements[0].conditions;
        let got: Vec<(&str, &str, Vec<&str>)> = conditions
            .iter()
            .map(|c| {
                (
                    c.operator.as_str(),
                    c.key.as_str(),
                    c.values.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("NumericLessThanEquals", "s3:max-keys", vec!["10"]),
                ("Bool", "aws:MultiFactorAuthPresent", vec!["true"]),
                (
                    "StringEquals",
                    "aws:PrincipalTag/team",
                    vec!["a", "1.50", "-2e3", "false"]
                ),
                ("ForAnyValue:StringLike", "aws:TagKeys", vec!["env*"]),
            ]
        );
        assert_eq!(slice(text, conditions[0].span), "\"s3:max-keys\": 10");
        assert_eq!(
            slice(text, conditions[2].span),
            "\"aws:PrincipalTag/team\": [\"a\", 1.50, -2e3, false]"
        );
    }

    #[test]
    fn a_single_statement_object_is_one_statement() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}}"#;
        let json = clean(text);
        assert_eq!(json.policy.statements.len(), 1);
        assert_eq!(
            slice(text, json.policy.statements[0].span),
            r#"{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}"#
        );
    }

    #[test]
    fn not_action_and_not_resource() {
        let text = r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}
        ]}"#;
        let json = clean(text);
        let statements = &json.policy.statements;
        let action = statements[0].action.as_ref().unwrap();
        assert!(action.not);
        assert_eq!(slice(text, action.span), r#"["iam:*", "sts:*"]"#);
        assert!(!statements[0].resource.as_ref().unwrap().not);
        let resource = statements[1].resource.as_ref().unwrap();
        assert!(resource.not);
        assert_eq!(slice(text, resource.span), "\"arn:aws:s3:::secret/*\"");
        // The checks see them as they see iamx's `not`: `NotResource` with `Allow` warns.
        let diagnostics = checked(json);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        assert_eq!(diagnostics[0].code, Code::NotWithAllow);
        assert_eq!(
            slice(text, diagnostics[0].span),
            "\"arn:aws:s3:::secret/*\""
        );
    }

    #[test]
    fn not_principal_is_read_and_written_back() {
        let text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny",
            "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:role/Admin"},
            "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}"#;
        let json = clean(text);
        assert_eq!(json.kind, JsonKind::Resource);
        let statement = &json.policy.statements[0];
        assert!(statement.not_principal);
        let written = crate::iam::json::policy(&json.policy);
        assert!(written["Statement"][0].get("NotPrincipal").is_some());
        assert!(written["Statement"][0].get("Principal").is_none());
    }

    #[test]
    fn kind_given_overrides_detection() {
        let (policy, diagnostics) = read_policy(FILE, IDENTITY, Some(JsonKind::Boundary));
        assert!(diagnostics.is_empty());
        let policy = policy.unwrap();
        assert_eq!(policy.kind, JsonKind::Boundary);
        assert_eq!(policy.detected, JsonKind::Identity);
        assert_eq!(policy.into_document("b").kind, DocumentKind::Boundary);
        // A trust policy read as an identity policy: the checks report every principal.
        let (policy, _) = read_policy(FILE, TRUST, Some(JsonKind::Identity));
        let diagnostics = checked(policy.unwrap());
        let count = |code| diagnostics.iter().filter(|d| d.code == code).count();
        assert_eq!(count(Code::PrincipalOutsideTrust), 3, "{diagnostics:#?}");
        assert_eq!(count(Code::MissingElement), 3, "{diagnostics:#?}");
        // An action other than the trust ones makes a resource policy.
        let text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["sts:AssumeRole", "s3:GetObject"]}}"#;
        assert_eq!(read(text).0.unwrap().kind, JsonKind::Resource);
        assert_eq!(JsonKind::parse("trust"), Some(JsonKind::Trust));
        assert_eq!(JsonKind::parse("Trust"), None);
        for kind in JsonKind::ALL {
            assert_eq!(JsonKind::parse(kind.as_str()), Some(*kind));
        }
    }

    // ---- malformed JSON: one diagnostic, exact span ----

    #[test]
    fn malformed_json_is_one_diagnostic_with_an_exact_span() {
        let cases: &[(&str, Code, &str)] = &[
            (r#"{"Version": @}"#, Code::Syntax, "@"),
            (r#"{"Version": "2012-10-17"} x"#, Code::Syntax, "x"),
            (
                "{\"Version\": \"2012-10-17\n}",
                Code::UnterminatedString,
                "\"2012-10-17",
            ),
            (r#"{"Version": "2012"#, Code::UnterminatedString, "\"2012"),
            (r#"{"Statement": ["a", "b",]}"#, Code::Syntax, ","),
            (r#"{"Version": "2012-10-17",}"#, Code::Syntax, ","),
            (
                r#"{"Effect": "Allow", "Effect": "Deny"}"#,
                Code::DuplicateSetting,
                "\"Effect\"",
            ),
            (r#"{"Id": "a\xb"}"#, Code::InvalidEscape, "\\x"),
            (r#"{"Id": "\u12G4"}"#, Code::InvalidEscape, "\\u12G"),
            (r#"{"Id": "\ud800"}"#, Code::InvalidEscape, "\\ud800"),
            (r#"{"Statement": [{"Effect": "Allow"}"#, Code::Unclosed, "["),
            (r#"{"Statement": [1, 2}"#, Code::UnexpectedCloser, "}"),
            (r#"{"Statement": 1]"#, Code::UnexpectedCloser, "]"),
            (r#"{"Version": '2012-10-17'}"#, Code::Syntax, "'"),
            (
                "{\"Version\": \"2012-10-17\" // comment\n}",
                Code::Syntax,
                "/",
            ),
            (r#"{"Version": 012}"#, Code::Syntax, "012"),
            (r#"{"Version": 1.}"#, Code::Syntax, "1."),
            (r#"{"Version": -}"#, Code::Syntax, "-"),
            (r#"{"Version": True}"#, Code::Syntax, "True"),
            (r#"{"Version" "2012-10-17"}"#, Code::Syntax, "\""),
            (r#"{Version: 1}"#, Code::Syntax, "V"),
            (r#"{"Version": }"#, Code::Syntax, "}"),
            (r#"["a" "b"]"#, Code::Syntax, "\""),
            ("{\"Id\": \"tab\there\"}", Code::Syntax, "\t"),
            ("", Code::Syntax, ""),
            ("  \n ", Code::Syntax, ""),
            ("]", Code::Syntax, "]"),
        ];
        for (text, code, expected) in cases {
            let (policy, diagnostics) = read(text);
            assert!(policy.is_none(), "{text}");
            assert_eq!(diagnostics.len(), 1, "{text}: {diagnostics:#?}");
            assert_eq!(diagnostics[0].code, *code, "{text}: {diagnostics:#?}");
            assert_eq!(slice(text, diagnostics[0].span), *expected, "{text}");
        }
    }

    #[test]
    fn duplicate_keys_point_at_both() {
        let text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1", "aws:SourceVpc": "vpc-2"}}}}"#;
        let (code, at, d) = error(text);
        assert_eq!(code, Code::DuplicateSetting);
        assert_eq!(at, "\"aws:SourceVpc\"");
        assert!(d.span.unwrap().start > d.labels[0].span.start);
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        let (code, at, _) = error(&deep);
        assert_eq!(code, Code::TooDeep);
        assert_eq!(at, "[");
        let deep = format!("{}{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
        assert_eq!(error(&deep).0, Code::TooDeep);
        // Exactly the limit is fine for the JSON reader.
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(json_text::parse(FILE, &ok).is_ok());
        let over = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            json_text::parse(FILE, &over).unwrap_err().code,
            Code::TooDeep
        );
    }

    #[test]
    fn strings_are_unescaped_and_a_bom_is_skipped() {
        let text = "\u{feff}{\"Version\": \"2012-10-17\", \"Statement\": {\"Sid\": \"A\\u0042\\/\\ud83d\\ude00\\n\", \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::é/*\"}}";
        let json = clean(text);
        let statement = &json.policy.statements[0];
        assert_eq!(statement.sid.as_ref().unwrap().value, "AB/\u{1f600}\n");
        assert_eq!(
            slice(text, statement.resource.as_ref().unwrap().values[0].span),
            "\"arn:aws:s3:::é/*\""
        );
    }

    // ---- the IAM grammar ----

    fn statement_with(extra: &str) -> String {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"{extra}}}]}}"#
        )
    }

    #[test]
    fn grammar_errors_have_codes_and_spans() {
        let cases: Vec<(String, Code, &str, Option<&str>)> = vec![
            (
                r#"{"Version": "2012-10-17", "Statment": []}"#.into(),
                Code::UnknownAttribute,
                "\"Statment\"",
                Some("did you mean `Statement`?"),
            ),
            (
                statement_with(r#", "effect": "Deny""#),
                Code::UnknownAttribute,
                "\"effect\"",
                Some("keys are case-sensitive: write `Effect`"),
            ),
            (
                statement_with(r#", "Conditions": {}"#),
                Code::UnknownAttribute,
                "\"Conditions\"",
                Some("did you mean `Condition`?"),
            ),
            (
                r#"{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}}"#.into(),
                Code::WrongValueType,
                "\"allow\"",
                Some("`Effect` is case-sensitive: write `Allow`"),
            ),
            (
                r#"{"Version": "2012-10-17", "Statement": {"Action": "s3:GetObject", "Resource": "*"}}"#.into(),
                Code::MissingElement,
                r#"{"Action": "s3:GetObject", "Resource": "*"}"#,
                None,
            ),
            (
                r#"{"Version": "2012-10-17"}"#.into(),
                Code::MissingElement,
                r#"{"Version": "2012-10-17"}"#,
                None,
            ),
            (
                r#"{"Version": "2012-10-17", "Statement": []}"#.into(),
                Code::EmptyList,
                "[]",
                None,
            ),
            (
                r#"{"Version": "2024-01-01", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#.into(),
                Code::WrongValueType,
                "\"2024-01-01\"",
                None,
            ),
            (
                r#"{"Version": 2012, "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#.into(),
                Code::WrongValueType,
                "2012",
                None,
            ),
            (
                r#"["Version"]"#.into(),
                Code::WrongValueType,
                r#"["Version"]"#,
                None,
            ),
            (
                r#"{"Version": "2012-10-17", "Statement": "Allow"}"#.into(),
                Code::WrongValueType,
                "\"Allow\"",
                None,
            ),
            (
                r#"{"Version": "2012-10-17", "Statement": [["x"]]}"#.into(),
                Code::WrongValueType,
                "[\"x\"]",
                None,
            ),
            (
                statement_with(r#", "NotAction": "s3:PutObject""#),
                Code::DuplicateSetting,
                "\"NotAction\"",
                None,
            ),
            (
                statement_with(r#", "NotResource": "arn:aws:s3:::b""#),
                Code::DuplicateSetting,
                "\"NotResource\"",
                None,
            ),
            (
                statement_with(r#", "Sid": 1"#),
                Code::WrongValueType,
                "1",
                None,
            ),
            (
                r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": 5, "Resource": "*"}}"#.into(),
                Code::WrongValueType,
                "5",
                None,
            ),
            (
                r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", null], "Resource": "*"}}"#.into(),
                Code::WrongValueType,
                "null",
                None,
            ),
            (
                statement_with(r#", "Condition": {"StringEqual": {"aws:SourceVpc": "vpc-1"}}"#),
                Code::UnknownOperator,
                "\"StringEqual\"",
                Some("did you mean `StringEquals`?"),
            ),
            (
                statement_with(r#", "Condition": {"StringEquals": {"aws:SourceVpc": null}}"#),
                Code::WrongValueType,
                "null",
                None,
            ),
            (
                statement_with(r#", "Condition": {"StringEquals": {"aws:SourceVpc": ["a", {}]}}"#),
                Code::WrongValueType,
                "{}",
                None,
            ),
            (
                statement_with(r#", "Condition": {"StringEquals": {"aws:SourceVpc": []}}"#),
                Code::EmptyList,
                "[]",
                None,
            ),
            (
                statement_with(r#", "Condition": {"StringEquals": {}}"#),
                Code::EmptyList,
                "{}",
                None,
            ),
            (
                statement_with(r#", "Condition": {"StringEquals": "aws:SourceVpc"}"#),
                Code::WrongValueType,
                "\"aws:SourceVpc\"",
                None,
            ),
            (
                statement_with(r#", "Condition": ["StringEquals"]"#),
                Code::WrongValueType,
                "[\"StringEquals\"]",
                None,
            ),
        ];
        for (text, code, at, help) in &cases {
            let (got, got_at, d) = error(text);
            assert_eq!((got, got_at.as_str()), (*code, *at), "{text}: {d:#?}");
            if let Some(help) = help {
                assert_eq!(d.help.as_deref(), Some(*help), "{text}");
            }
        }
    }

    fn principal_statement(principal: &str, effect: &str) -> String {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "{effect}", {principal}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}}}"#
        )
    }

    #[test]
    fn principal_errors() {
        let cases: Vec<(String, Code, &str)> = vec![
            (
                principal_statement(r#""Principal": "arn:aws:iam::123456789012:root""#, "Allow"),
                Code::WrongValueType,
                "\"arn:aws:iam::123456789012:root\"",
            ),
            (
                principal_statement(r#""Principal": {"Services": "s3.amazonaws.com"}"#, "Allow"),
                Code::UnknownAttribute,
                "\"Services\"",
            ),
            (
                principal_statement(r#""Principal": {"aws": "123456789012"}"#, "Allow"),
                Code::UnknownAttribute,
                "\"aws\"",
            ),
            (
                principal_statement(r#""Principal": {"AWS": []}"#, "Allow"),
                Code::EmptyList,
                "[]",
            ),
            (
                principal_statement(r#""Principal": {}"#, "Allow"),
                Code::EmptyList,
                "{}",
            ),
            (
                principal_statement(r#""Principal": ["*"]"#, "Allow"),
                Code::WrongValueType,
                "[\"*\"]",
            ),
            (
                principal_statement(r#""Principal": {"AWS": [1]}"#, "Allow"),
                Code::WrongValueType,
                "1",
            ),
            (
                principal_statement(r#""Principal": "*", "NotPrincipal": "*""#, "Deny"),
                Code::DuplicateSetting,
                "\"NotPrincipal\"",
            ),
            (
                principal_statement(r#""NotPrincipal": {"AWS": "123456789012"}"#, "Allow"),
                Code::SettingNotAllowed,
                "\"NotPrincipal\"",
            ),
        ];
        for (text, code, at) in &cases {
            let (got, got_at, d) = error(text);
            assert_eq!((got, got_at.as_str()), (*code, *at), "{text}: {d:#?}");
        }
        let (_, _, d) = error(&principal_statement(
            r#""Principal": {"aws": "123456789012"}"#,
            "Allow",
        ));
        assert_eq!(
            d.help.as_deref(),
            Some("keys are case-sensitive: write `AWS`")
        );
    }

    #[test]
    fn trust_policies_take_no_resource_and_no_not_principal() {
        let text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}}"#;
        // Detected, a resource in it makes it a resource policy …
        assert_eq!(read(text).0.unwrap().kind, JsonKind::Resource);
        // … and read as a trust policy it is an error.
        let (code, at, _) = error_as(text, Some(JsonKind::Trust));
        assert_eq!(
            (code, at.as_str()),
            (Code::SettingNotAllowed, "\"Resource\"")
        );
        let text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny",
            "NotPrincipal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"}}"#;
        let (code, at, _) = error_as(text, Some(JsonKind::Trust));
        assert_eq!(
            (code, at.as_str()),
            (Code::SettingNotAllowed, "\"NotPrincipal\"")
        );
    }

    #[test]
    fn mixing_statements_with_and_without_principal_is_reported() {
        let text = r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}
        ]}"#;
        let (code, at, d) = error(text);
        assert_eq!(code, Code::MissingElement);
        assert_eq!(
            at,
            r#"{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}"#
        );
        assert_eq!(slice(text, Some(d.labels[0].span)), "\"Principal\"");
        // Given a kind, the reader accepts it and the checks report the statement.
        let (policy, diagnostics) = read_policy(FILE, text, Some(JsonKind::Resource));
        assert!(diagnostics.is_empty());
        let diagnostics = checked(policy.unwrap());
        let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, Code::MissingElement);
        // The public grant is a warning of its own.
        assert!(diagnostics.iter().any(|d| d.code == Code::PublicPrincipal));
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let text = r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Permit", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Actions": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Foo": {}}}
        ], "Ids": "x"}"#;
        let (policy, diagnostics) = read(text);
        assert!(policy.is_none());
        let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![
                Code::UnknownAttribute,
                Code::WrongValueType,
                Code::UnknownAttribute,
                Code::UnknownOperator
            ]
        );
    }

    #[test]
    fn a_key_in_two_cases_warns_and_keeps_both_tests() {
        let text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpc": "a", "AWS:sourcevpc": "b"}}}}"#;
        let (policy, diagnostics) = read(text);
        let policy = policy.expect("AWS accepts the document, and so does iamx");
        assert_eq!(policy.policy.statements[0].conditions.len(), 2);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        let d = &diagnostics[0];
        assert_eq!(d.code, Code::ConditionKeyCase);
        assert!(!d.is_error());
        assert_eq!(slice(text, d.span), "\"AWS:sourcevpc\"");
        assert_eq!(slice(text, Some(d.labels[0].span)), "\"aws:SourceVpc\"");
    }

    #[test]
    fn policy_variables_without_the_current_version_warn() {
        let text = r#"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/home/${aws:username}/*"}}"#;
        let (policy, diagnostics) = read(text);
        assert!(policy.is_some(), "a warning keeps the policy");
        assert_eq!(diagnostics.len(), 1);
        let d = &diagnostics[0];
        assert_eq!(d.code, Code::NeverMatches);
        assert!(!d.is_error());
        assert_eq!(
            slice(text, d.span),
            "\"arn:aws:s3:::b/home/${aws:username}/*\""
        );
        assert_eq!(slice(text, Some(d.labels[0].span)), "{");
        let legacy = text.replacen('{', r#"{"Version": "2008-10-17", "#, 1);
        let (_, diagnostics) = read(&legacy);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(
            slice(&legacy, Some(diagnostics[0].labels[0].span)),
            "\"2008-10-17\""
        );
        let current = text.replacen('{', r#"{"Version": "2012-10-17", "#, 1);
        assert!(read(&current).1.is_empty());
        // In a condition, the condition is pointed at.
        let text = r#"{"Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
            "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}}}"#;
        let (_, diagnostics) = read(text);
        assert_eq!(
            slice(text, diagnostics[0].span),
            "\"s3:prefix\": [\"home/${aws:username}/*\"]"
        );
        // Without variables a missing Version changes nothing.
        let text =
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#;
        assert!(read(text).1.iter().all(|d| !d.is_error()));
    }

    #[test]
    fn model_rules_are_left_to_the_checks() {
        let text = r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "One", "Effect": "Allow", "Resource": "*"},
            {"Sid": "One", "Effect": "Allow", "Action": [], "Resource": "bucket"},
            {"Sid": "Bad-Sid", "Effect": "Allow", "Action": "s3:GetObject"}
        ]}"#;
        let json = clean(text);
        let diagnostics = checked(json);
        let found: Vec<(Code, &str)> = diagnostics
            .iter()
            .map(|d| (d.code, slice(text, d.span)))
            .collect();
        assert!(
            found.contains(&(Code::DuplicateSid, "\"One\"")),
            "{found:#?}"
        );
        assert!(found.contains(&(Code::EmptyList, "[]")), "{found:#?}");
        assert!(
            found.contains(&(Code::InvalidArn, "\"bucket\"")),
            "{found:#?}"
        );
        assert!(
            found.contains(&(Code::InvalidSid, "\"Bad-Sid\"")),
            "{found:#?}"
        );
        assert!(
            found
                .iter()
                .filter(|(c, _)| *c == Code::MissingElement)
                .count()
                == 2,
            "{found:#?}"
        );
    }

    // ---- robustness ----

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn mutate(rng: &mut XorShift, text: &str) -> String {
        const PIECES: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            "\"",
            ",",
            ":",
            "\\",
            " ",
            "\n",
            "0",
            "1",
            "-",
            ".",
            "e",
            "true",
            "null",
            "\\u",
            "\\ud800",
            "é",
            "\u{1f600}",
            "\"Effect\"",
            "\"Allow\"",
            "\"*\"",
            "\"Principal\"",
            "\"NotPrincipal\"",
            "\"Condition\"",
            "{\"AWS\":\"*\"}",
            "[]",
            "{}",
            "\"Version\"",
            "\"2008-10-17\"",
            "${aws:username}",
            "\t",
            "\u{0}",
        ];
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(5) {
                0 if !bytes.is_empty() => {
                    let end = (at + 1 + rng.below(8)).min(bytes.len());
                    bytes.drain(at.min(end)..end);
                }
                1 => {
                    let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                    bytes.splice(at..at, piece.iter().copied());
                }
                2 if at < bytes.len() => {
                    let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                    bytes.splice(at..at + 1, piece.iter().copied());
                }
                3 => bytes.truncate(at),
                _ => {
                    // Duplicate a slice elsewhere.
                    let start = rng.below(bytes.len() + 1);
                    let end = (start + rng.below(40)).min(bytes.len());
                    let piece = bytes[start..end].to_vec();
                    let at = at.min(bytes.len());
                    bytes.splice(at..at, piece);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn mutated_policies_never_panic_and_spans_stay_in_bounds() {
        let seeds = [IDENTITY, TRUST, BUCKET];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut parsed = 0;
        for round in 0..6_000 {
            let text = mutate(&mut rng, seeds[round % seeds.len()]);
            let (policy, diagnostics) = read(&text);
            let spans = diagnostics
                .iter()
                .flat_map(|d| d.span.into_iter().chain(d.labels.iter().map(|l| l.span)));
            for span in spans {
                assert!(span.start <= span.end, "{text}");
                assert!(
                    text.get(span.range()).is_some(),
                    "span {span:?} in {text:?}"
                );
            }
            assert_eq!(
                policy.is_some(),
                !diagnostics.iter().any(Diagnostic::is_error),
                "{text}"
            );
            if diagnostics.is_empty() || policy.is_none() {
                assert!(!diagnostics.is_empty() || policy.is_some());
            }
            if let Some(policy) = policy {
                parsed += 1;
                let _ = checked(policy);
            }
            // The JSON layer agrees with serde_json, but for what it refuses on purpose.
            let ours = json_text::parse(FILE, &text);
            let theirs = serde_json::from_str::<serde_json::Value>(&text);
            match (&ours, &theirs) {
                (Ok(node), Ok(value)) => assert_eq!(&to_serde(node), value, "{text}"),
                (Err(_), Err(_)) => {}
                (Ok(_), Err(e)) => panic!("we accept what serde_json refuses ({e}): {text:?}"),
                (Err(d), Ok(_)) => assert!(
                    matches!(d.code, Code::DuplicateSetting | Code::TooDeep),
                    "we refuse what serde_json accepts: {d:#?} {text:?}"
                ),
            }
        }
        assert!(parsed > 100, "mutations too destructive: {parsed} parsed");
    }

    fn to_serde(node: &Node) -> serde_json::Value {
        use serde_json::Value as J;
        match &node.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => serde_json::from_str(n).expect("a number serde_json reads"),
            Value::String(s) => J::String(s.clone()),
            Value::Array(items) => J::Array(items.iter().map(to_serde).collect()),
            Value::Object(members) => J::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone(), to_serde(&m.value)))
                    .collect(),
            ),
        }
    }
}
