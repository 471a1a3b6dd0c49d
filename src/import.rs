//! JSON policy documents to idiomatic iamx: `iamx import`.
//!
//! A document is read with [`crate::iam::from_json`] (so malformed input gets the same
//! diagnostics as `iamx check`), turned into a syntax tree, and printed with
//! [`crate::format`]. The printed text is then lowered again and its JSON compared with the
//! input: a document iamx cannot say exactly is refused (E1001), never written differently.
//!
//! What counts as equal: the order of statements, actions, resources, principals, condition
//! operators, keys and values is kept; a one-element list equals its element, a number or
//! boolean condition value equals its text, and action names ignore case, as in AWS.

use serde_json::Value as Json;

use crate::ast::{self, *};
use crate::diag::{Code, Diagnostic};
use crate::iam::from_json::{self, JsonKind};
use crate::iam::{self, Principal};
use crate::resolve::Val;
use crate::source::{FileId, Span};

/// What `iamx import` is told.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The name of the policy (or role, for a trust policy).
    pub name: String,
    /// What the document is; detected when `None`.
    pub kind: Option<JsonKind>,
    /// The account ARNs are written against (`{account}`), if given.
    pub account: Option<String>,
}

/// The policy name a file's stem makes: characters iamx names cannot hold become `-`, and a
/// name that would not be an identifier gets a `_` in front (or after, for a keyword).
pub fn name_from_stem(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.+".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() {
        name = "Imported".to_string();
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    if !crate::format::is_ident(&name) {
        name.push('_');
    }
    name
}

fn nowhere() -> Span {
    Span::new(FileId(0), 0, 0)
}

fn str_(raw: String) -> Str {
    Str {
        raw,
        span: nowhere(),
    }
}

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: nowhere(),
    }
}

/// A string as written between quotes: `"`, `\`, line feeds and tabs escaped, braces escaped
/// outside `${…}` policy variables, and the account written `{account}` in ARNs.
pub(crate) fn escape(text: &str, account: Option<&str>) -> String {
    match account {
        Some(account) if text.starts_with("arn:") && text.contains(account) => text
            .split(account)
            .map(|piece| escape(piece, None))
            .collect::<Vec<_>>()
            .join("{account}"),
        _ => {
            let mut out = String::with_capacity(text.len());
            let mut rest = text;
            while let Some(c) = rest.chars().next() {
                if rest.starts_with("${") {
                    if let Some(end) = rest.find('}') {
                        out.push_str(&rest[..=end]);
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '{' => out.push_str("\\{"),
                    '}' => out.push_str("\\}"),
                    c => out.push(c),
                }
                rest = &rest[c.len_utf8()..];
            }
            out
        }
    }
}

fn is_action_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-*?".contains(c))
}

/// A refusal: the document, or a part of it, cannot be written in iamx exactly.
fn inexact(message: String, span: Option<Span>, label: &str, help: &str) -> Diagnostic {
    let d = Diagnostic::new(Code::ImportInexact, message).help(help.to_string());
    match span {
        Some(span) => d.at(span, label.to_string()),
        None => d,
    }
}

struct Importer<'o> {
    account: Option<&'o str>,
    /// Warnings: values listed twice, written once.
    warnings: std::cell::RefCell<Vec<Diagnostic>>,
}

impl Importer<'_> {
    /// The values of a block with repeats left out (and reported): AWS reads a value listed
    /// twice as listed once, and iamx writes each once.
    fn once<'b>(
        &self,
        block: &'b iam::Block,
        what: &str,
        ignore_case: bool,
    ) -> Vec<&'b iam::Spanned<String>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for v in &block.values {
            let folded = if ignore_case {
                v.value.to_ascii_lowercase()
            } else {
                v.value.clone()
            };
            if seen.insert(folded) {
                out.push(v);
            } else {
                let mut d = Diagnostic::new(
                    Code::ImportDuplicate,
                    format!("{what} `{}` is listed twice; iamx writes it once", v.value),
                )
                .help("AWS reads a value listed twice as listed once: the policy means the same");
                if let Some(span) = v.span {
                    d = d.at(span, "listed again here");
                }
                self.warnings.borrow_mut().push(d);
            }
        }
        out
    }

    fn actions(&self, block: &iam::Block) -> Result<Vec<ActionItem>, Diagnostic> {
        let mut items: Vec<ActionItem> = Vec::new();
        let mut run: Vec<(String, String)> = Vec::new();
        let flush = |run: &mut Vec<(String, String)>, items: &mut Vec<ActionItem>| {
            if run.len() >= 2 {
                items.push(ActionItem::Group {
                    service: run[0].0.clone(),
                    names: run.iter().map(|(_, n)| (n.clone(), nowhere())).collect(),
                    span: nowhere(),
                });
            } else {
                for (p, n) in run.iter() {
                    items.push(ActionItem::Pattern(format!("{p}:{n}"), nowhere()));
                }
            }
            run.clear();
        };
        for action in self.once(block, "action", true) {
            let text = &action.value;
            if text == "*" {
                flush(&mut run, &mut items);
                items.push(ActionItem::Pattern("*".into(), nowhere()));
                continue;
            }
            let parts = text.split_once(':').filter(|(p, n)| {
                is_action_name(n)
                    && !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_*?".contains(c))
            });
            let Some((prefix, name)) = parts else {
                return Err(inexact(
                    format!("action `{text}` cannot be written in iamx"),
                    action.span,
                    "not `service:Action`",
                    "iamx writes actions as `service:Action`, with letters, digits, `-`, `_`, `*` and `?`",
                ));
            };
            let (prefix, name) = match crate::awsdb::action_spelling(prefix, name) {
                Some((p, n)) if !name.contains(['*', '?']) => (p.to_string(), n.to_string()),
                _ => (prefix.to_string(), name.to_string()),
            };
            if run.first().is_some_and(|(p, _)| *p != prefix) {
                flush(&mut run, &mut items);
            }
            run.push((prefix, name));
        }
        flush(&mut run, &mut items);
        Ok(items)
    }

    fn resources(&self, block: &iam::Block) -> ResourceClause {
        ResourceClause {
            not: block.not,
            items: self
                .once(block, "resource", false)
                .into_iter()
                .map(|v| {
                    if v.value == "*" {
                        ResourceItem::Any(nowhere())
                    } else {
                        ResourceItem::Str(str_(escape(&v.value, self.account)))
                    }
                })
                .collect(),
            span: nowhere(),
        }
    }

    fn string_value(&self, text: &str) -> ast::Value {
        ast::Value::Literal(Literal::Str(str_(escape(text, self.account))))
    }

    fn condition(&self, c: &iam::Condition) -> ast::Condition {
        let key = ConditionKey {
            name: c.key.clone(),
            span: nowhere(),
        };
        let make = |if_exists: bool, kind: ConditionKind| ast::Condition {
            key: key.clone(),
            if_exists,
            kind,
            span: nowhere(),
        };
        let (quantifier, rest) = if let Some(rest) = c.operator.strip_prefix("ForAnyValue:") {
            (Some(Quantifier::Any), rest)
        } else if let Some(rest) = c.operator.strip_prefix("ForAllValues:") {
            (Some(Quantifier::All), rest)
        } else {
            (None, c.operator.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) if !base.is_empty() => (base, true),
            _ => (rest, false),
        };
        let one = c.values.len() == 1;
        let first = c.values.first().map(String::as_str);
        if quantifier.is_none() && !if_exists && base == "Null" && one {
            match first {
                Some("true") => return make(false, ConditionKind::Presence { exists: false }),
                Some("false") => return make(false, ConditionKind::Presence { exists: true }),
                _ => {}
            }
        }
        if quantifier.is_none() && base == "Bool" && one {
            match first {
                Some("true") => return make(if_exists, ConditionKind::Bool { negated: false }),
                Some("false") => return make(if_exists, ConditionKind::Bool { negated: true }),
                _ => {}
            }
        }
        use CompareOp::*;
        let (single, many) = match base {
            "StringEquals" | "NumericEquals" | "DateEquals" | "ArnEquals" | "Bool"
            | "BinaryEquals" => (Some(Eq), Some(In)),
            "StringNotEquals" | "NumericNotEquals" | "DateNotEquals" | "ArnNotEquals" => {
                (Some(Ne), Some(NotIn))
            }
            "IpAddress" => (Some(In), Some(In)),
            "NotIpAddress" => (Some(NotIn), Some(NotIn)),
            "StringLike" | "ArnLike" => (Some(Like), Some(Like)),
            "StringNotLike" | "ArnNotLike" => (Some(NotLike), Some(NotLike)),
            "NumericLessThan" | "DateLessThan" => (Some(Lt), None),
            "NumericLessThanEquals" | "DateLessThanEquals" => (Some(Le), None),
            "NumericGreaterThan" | "DateGreaterThan" => (Some(Gt), None),
            "NumericGreaterThanEquals" | "DateGreaterThanEquals" => (Some(Ge), None),
            _ => (None, None),
        };
        let op = if one { single } else { many };
        let as_list = !one || matches!(base, "IpAddress" | "NotIpAddress");
        if let (Some(op), false) = (op, c.values.is_empty()) {
            // Typed literals first (numbers, booleans), then every value a string.
            for typed in [true, false] {
                let (vals, written): (Vec<Val>, Vec<ast::Value>) = c
                    .values
                    .iter()
                    .map(|v| {
                        if typed && base.starts_with("Numeric") && is_number(v) {
                            (
                                Val::Num(v.clone()),
                                ast::Value::Literal(Literal::Number(v.clone(), nowhere())),
                            )
                        } else if typed && base == "Bool" && (v == "true" || v == "false") {
                            (
                                Val::Bool(v == "true"),
                                ast::Value::Literal(Literal::Bool(v == "true", nowhere())),
                            )
                        } else {
                            (Val::Str(v.clone()), self.string_value(v))
                        }
                    })
                    .unzip();
                let chosen =
                    crate::lower::readable_operator(&c.key, quantifier, op, if_exists, &vals);
                if chosen.as_deref() == Some(c.operator.as_str()) {
                    let value = condition_value(written, as_list);
                    return make(
                        if_exists,
                        ConditionKind::Compare {
                            quantifier,
                            op,
                            op_span: nowhere(),
                            value,
                        },
                    );
                }
            }
        }
        let written = c.values.iter().map(|v| self.string_value(v)).collect();
        make(
            false,
            ConditionKind::Explicit {
                operator: c.operator.clone(),
                op_span: nowhere(),
                value: condition_value(written, !one),
            },
        )
    }

    fn conditions(&self, conditions: &[iam::Condition]) -> Vec<ast::Condition> {
        conditions.iter().map(|c| self.condition(c)).collect()
    }

    fn attributes(&self, s: &iam::Statement) -> Vec<Attribute> {
        s.sid
            .iter()
            .map(|sid| Attribute {
                name: ident("sid"),
                args: vec![(sid.value.clone(), nowhere())],
                span: nowhere(),
            })
            .collect()
    }

    fn statement(&self, s: &iam::Statement) -> Result<ast::Statement, Diagnostic> {
        if s.principal.is_some() {
            let what = if s.not_principal {
                "NotPrincipal"
            } else {
                "Principal"
            };
            return Err(inexact(
                format!("an identity policy has no `{what}`"),
                s.span,
                "this statement names a principal",
                "import it as a trust policy (`--as trust`); iamx does not write resource policies yet",
            ));
        }
        let Some(action) = &s.action else {
            return Err(inexact(
                "a statement without `Action` or `NotAction` cannot be written in iamx".into(),
                s.span,
                "no action",
                "give the statement its actions",
            ));
        };
        let Some(resource) = &s.resource else {
            return Err(inexact(
                "a statement without `Resource` or `NotResource` cannot be written in iamx".into(),
                s.span,
                "no resource",
                "give the statement its resources (`\"Resource\": \"*\"` for every one)",
            ));
        };
        Ok(ast::Statement {
            docs: Vec::new(),
            attributes: self.attributes(s),
            effect: effect(s.effect.value),
            effect_span: nowhere(),
            not_action: action.not,
            actions: self.actions(action)?,
            resource: Some(self.resources(resource)),
            conditions: self.conditions(&s.conditions),
            span: nowhere(),
        })
    }

    fn trust_statement(&self, s: &iam::Statement) -> Result<TrustStatement, Diagnostic> {
        self.principal_statement(s, false)
    }

    /// A statement that names principals: a trust policy's, or (`resource`) a resource-based
    /// policy's, which may also say `NotPrincipal`, `NotAction` and its resources.
    fn principal_statement(
        &self,
        s: &iam::Statement,
        resource_based: bool,
    ) -> Result<TrustStatement, Diagnostic> {
        let kind = if resource_based {
            "resource-based"
        } else {
            "trust"
        };
        let refuse = |what: &str, label: &str| {
            Err(inexact(
                format!("a {kind} statement with {what} cannot be written in iamx"),
                s.span,
                label,
                "iamx statements of trust and resource-based policies say who may act, what they may do, on what and when",
            ))
        };
        if s.not_principal && !resource_based {
            return refuse("`NotPrincipal`", "`NotPrincipal` here");
        }
        if s.resource.is_some() && !resource_based {
            return refuse("a resource", "`Resource` here");
        }
        let Some(principal) = &s.principal else {
            return refuse("no principal", "no `Principal`");
        };
        let mut principals = Vec::new();
        let mut federated = false;
        let mut saml = false;
        match principal {
            Principal::Any(_) => principals.push(TrustPrincipal::Anyone(nowhere())),
            Principal::Kinds(kinds) => {
                for (kind, values) in kinds {
                    for v in values {
                        let text = &v.value;
                        let p = match kind.as_str() {
                            "Service" => {
                                TrustPrincipal::Service(str_(escape(text, None)), nowhere())
                            }
                            "Federated" => {
                                federated = true;
                                saml |= text.contains(":saml-provider/");
                                TrustPrincipal::Federated(
                                    str_(escape(text, self.account)),
                                    nowhere(),
                                )
                            }
                            "AWS" if text == "*" => TrustPrincipal::Anyone(nowhere()),
                            "AWS"
                                if self
                                    .account
                                    .is_some_and(|a| *text == format!("arn:aws:iam::{a}:root")) =>
                            {
                                TrustPrincipal::Account(None, nowhere())
                            }
                            "AWS" => TrustPrincipal::Arn(str_(escape(text, self.account))),
                            other => {
                                return refuse(&format!("a `{other}` principal"), "this principal")
                            }
                        };
                        principals.push(p);
                    }
                }
            }
        }
        let Some(action) = &s.action else {
            return refuse("no action", "no `Action`");
        };
        if action.not && !resource_based {
            return refuse("`NotAction`", "`NotAction` here");
        }
        let default = if saml {
            "sts:AssumeRoleWithSAML"
        } else if federated {
            "sts:AssumeRoleWithWebIdentity"
        } else {
            "sts:AssumeRole"
        };
        // A trust statement leaves its one default action unsaid; a resource-based one has none.
        let actions = match action.values.as_slice() {
            [one] if one.value == default && !resource_based => None,
            _ => Some(self.actions(action)?),
        };
        Ok(TrustStatement {
            docs: Vec::new(),
            attributes: self.attributes(s),
            effect: effect(s.effect.value),
            effect_span: nowhere(),
            not_principal: s.not_principal,
            principals,
            not_action: action.not,
            actions,
            resource: s.resource.as_ref().map(|r| self.resources(r)),
            conditions: self.conditions(&s.conditions),
            span: nowhere(),
        })
    }
}

fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn condition_value(mut values: Vec<ast::Value>, list: bool) -> ConditionValue {
    if !list && values.len() == 1 {
        if let Some(v) = values.pop() {
            return ConditionValue::One(v);
        }
    }
    ConditionValue::List(List {
        items: values,
        span: nowhere(),
    })
}

fn effect(e: iam::Effect) -> ast::Effect {
    match e {
        iam::Effect::Allow => ast::Effect::Allow,
        iam::Effect::Deny => ast::Effect::Deny,
    }
}

/// The `account "…"` line of imported files.
pub fn account_item(account: &str) -> Item {
    Item::Setting(GlobalSetting {
        docs: Vec::new(),
        kind: GlobalKind::Account,
        value: str_(escape(account, None)),
        span: nowhere(),
    })
}

/// The text of imported items, with the account line first when one is given.
pub fn print(items: Vec<Item>, account: Option<&str>) -> String {
    let mut all = Vec::new();
    all.extend(account.map(account_item));
    all.extend(items);
    crate::format::print_module(
        &Module {
            file: FileId(0),
            items: all,
        },
        None,
    )
}

/// Imports one JSON document (`text`, in `file` of the caller's source map, for diagnostics).
/// Returns the item (a policy, a boundary or a role holding the trust policy), proved to build
/// to the document, with warnings (W1003); or the diagnostics that say why not.
pub fn import(
    file: FileId,
    text: &str,
    options: &ImportOptions,
) -> Result<(Item, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (read, diagnostics) = from_json::read_policy(file, text, options.kind);
    let Some(read) = read else {
        return Err(diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect());
    };
    let whole = Some(Span {
        end: read.span.start + 1,
        ..read.span
    });
    // Version 2008-10-17 (which a missing `Version` means) differs from 2012-10-17 only in policy
    // variables: without any, the document means the same under the version iamx writes.
    let variables = text.contains("${");
    let mut warnings = Vec::new();
    let older = match &read.version {
        Some(v) if v.value == iam::VERSION => None,
        Some(v) => Some((format!("`Version` `{}`", v.value), v.span)),
        None => Some(("no `Version`".to_string(), whole)),
    };
    if let Some((what, span)) = older {
        if variables {
            return Err(vec![inexact(
                format!("the policy has {what} and policy variables: iamx writes `{}`, where they would be replaced", iam::VERSION),
                span,
                "the policy's version",
                "under version 2008-10-17 (or none) `${…}` is taken literally; update the document to 2012-10-17 first if the variables are meant",
            )]);
        }
        let mut d = Diagnostic::new(
            Code::ImportVersion,
            format!("the policy has {what}; iamx writes `{}`", iam::VERSION),
        )
        .help("the versions differ only in policy variables, and this policy has none: it means the same");
        if let Some(span) = span {
            d = d.at(span, "this version");
        }
        warnings.push(d);
    }
    let importer = Importer {
        account: options.account.as_deref(),
        warnings: Default::default(),
    };
    let name = ident(&options.name);
    let item = match read.kind {
        JsonKind::Resource => {
            let mut entries = Vec::new();
            if let Some(id) = &read.id {
                entries.push(ResourceEntry::Id(str_(escape(&id.value, None)), nowhere()));
            }
            for s in &read.policy.statements {
                let statement = importer.principal_statement(s, true).map_err(|d| vec![d])?;
                entries.push(ResourceEntry::Statement(statement));
            }
            Item::ResourcePolicy(ResourcePolicyItem {
                docs: Vec::new(),
                attributes: Vec::new(),
                name,
                entries,
                span: nowhere(),
            })
        }
        JsonKind::Trust => {
            let statements = read
                .policy
                .statements
                .iter()
                .map(|s| importer.trust_statement(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|d| vec![d])?;
            Item::Principal(PrincipalItem {
                docs: Vec::new(),
                attributes: Vec::new(),
                kind: ast::PrincipalKind::Role,
                name,
                entries: vec![Entry::Trust(
                    statements,
                    nowhere(),
                    read.id.as_ref().map(|id| str_(escape(&id.value, None))),
                )],
                span: nowhere(),
            })
        }
        JsonKind::Identity | JsonKind::Boundary => {
            let mut statements = read
                .policy
                .statements
                .iter()
                .map(|s| importer.statement(s).map(Entry::Statement))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|d| vec![d])?;
            if let Some(id) = &read.id {
                statements.insert(0, Entry::Id(str_(escape(&id.value, None)), nowhere()));
            }
            Item::Policy(PolicyItem {
                docs: Vec::new(),
                attributes: Vec::new(),
                kind: if read.kind == JsonKind::Boundary {
                    PolicyKind::Boundary
                } else {
                    PolicyKind::Managed
                },
                name,
                entries: statements,
                json: None,
                span: nowhere(),
            })
        }
    };
    verify(&item, text, &read, options).map_err(|d| vec![d])?;
    warnings.extend(importer.warnings.into_inner());
    Ok((item, warnings))
}

/// Lowers the printed item and compares its JSON with the input's.
fn verify(
    item: &Item,
    input: &str,
    read: &from_json::JsonPolicy,
    options: &ImportOptions,
) -> Result<(), Diagnostic> {
    let whole = Some(Span {
        end: read.span.start + 1,
        ..read.span
    });
    let text = print(vec![item.clone()], options.account.as_deref());
    let (project, diagnostics) = crate::lower_sources(
        vec![crate::Source::new("import.iamx", text)],
        &crate::Options::default(),
    );
    let document = project.and_then(|p| p.documents.into_iter().next());
    let Some(document) = document else {
        let why = diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.message.clone())
            .unwrap_or_default();
        return Err(inexact(
            format!("the policy cannot be written in iamx exactly: {why}"),
            whole,
            "this policy",
            "iamx refuses to write a file that builds to something else",
        ));
    };
    let built = normalize(&iam::json::policy(&document.policy));
    let mut original: Json = serde_json::from_str(input).unwrap_or(Json::Null);
    if let Json::Object(object) = &mut original {
        // An older or missing version was found to mean the same (see `import`).
        object.insert("Version".into(), Json::String(iam::VERSION.into()));
    }
    let original = normalize(&original);
    if same(&built, &original) {
        return Ok(());
    }
    // Point at the first statement that differs.
    let statements = |v: &Json| v.get("Statement").and_then(Json::as_array).cloned();
    let (a, b) = (
        statements(&built).unwrap_or_default(),
        statements(&original).unwrap_or_default(),
    );
    let index = (0..a.len().max(b.len()))
        .find(|&i| a.get(i).map(Json::to_string) != b.get(i).map(Json::to_string))
        .unwrap_or(0);
    let span = read
        .policy
        .statements
        .get(index)
        .and_then(|s| s.span)
        .or(whole);
    let element = match (a.get(index), b.get(index)) {
        (Some(x), Some(y)) => [
            "Sid",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Principal",
            "Condition",
        ]
        .into_iter()
        .find(|k| x.get(k).map(Json::to_string) != y.get(k).map(Json::to_string)),
        _ => None,
    };
    let what = match element {
        Some(e) => format!("its `{e}`"),
        None => "it".to_string(),
    };
    Err(inexact(
        format!(
            "statement {} cannot be written in iamx exactly: iamx would build {what} differently",
            index + 1
        ),
        span,
        "this statement",
        "iamx tests each condition key once per operator, ignoring case; change the document, or write this statement by hand",
    ))
}

/// The JSON a policy means, for comparison: `Statement` a list; statement keys sorted; actions,
/// resources, principals and condition values lists of strings (actions lower-cased); an action
/// or resource listed twice listed once.
pub fn normalize(policy: &Json) -> Json {
    let mut out = serde_json::Map::new();
    let Some(object) = policy.as_object() else {
        return policy.clone();
    };
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort();
    for key in keys {
        let value = &object[key];
        let value = if key == "Statement" {
            let list = match value {
                Json::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            Json::Array(list.iter().map(statement).collect())
        } else {
            value.clone()
        };
        out.insert(key.clone(), value);
    }
    Json::Object(out)
}

/// Whether two JSON values are equal with the order of object keys (condition operators and
/// keys, principal kinds) counted: `==` on maps ignores it.
pub fn same(a: &Json, b: &Json) -> bool {
    serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
}

fn strings(value: &Json, lower: bool) -> Json {
    let one = |v: &Json| {
        let text = match v {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        Json::String(if lower { text.to_lowercase() } else { text })
    };
    match value {
        Json::Array(items) => Json::Array(items.iter().map(one).collect()),
        other => Json::Array(vec![one(other)]),
    }
}

fn once(list: Json) -> Json {
    match list {
        Json::Array(items) => {
            let mut out: Vec<Json> = Vec::new();
            for item in items {
                if !out.contains(&item) {
                    out.push(item);
                }
            }
            Json::Array(out)
        }
        other => other,
    }
}

fn statement(s: &Json) -> Json {
    let Some(object) = s.as_object() else {
        return s.clone();
    };
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort();
    let mut out = serde_json::Map::new();
    for key in keys {
        let v = &object[key];
        let value = match key.as_str() {
            "Action" | "NotAction" => once(strings(v, true)),
            "Resource" | "NotResource" => once(strings(v, false)),
            "Principal" | "NotPrincipal" => match v {
                Json::Object(kinds) => Json::Object(
                    kinds
                        .iter()
                        .map(|(k, v)| (k.clone(), strings(v, false)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "Condition" => match v {
                Json::Object(ops) => Json::Object(
                    ops.iter()
                        .map(|(op, keys)| {
                            let keys = match keys {
                                Json::Object(keys) => Json::Object(
                                    keys.iter()
                                        .map(|(k, v)| (k.clone(), strings(v, false)))
                                        .collect(),
                                ),
                                other => other.clone(),
                            };
                            (op.clone(), keys)
                        })
                        .collect(),
                ),
                other => other.clone(),
            },
            _ => v.clone(),
        };
        out.insert(key.clone(), value);
    }
    Json::Object(out)
}
