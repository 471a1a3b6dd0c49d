//! Syntax tree to the IAM model: each policy, boundary, principal and trust block becomes a
//! [`Document`], each statement keeps the spans it came from.

use indexmap::IndexMap;

use crate::ast::{self, *};
use crate::awsdb;
use crate::diag::{self, Code, Diagnostic};
use crate::iam::operators::{is_operator, operator_help};
use crate::iam::{self, Block, Document, DocumentKind, Spanned};
use crate::resolve::{Decl, Scope, Val};
use crate::source::Span;

/// Lowers every item of the project.
/// `included`: the documents of `policy X = json "…"` items, by the span of their path.
pub fn lower(
    modules: &[Module],
    scope: &Scope,
    included: &std::collections::HashMap<Span, iam::Policy>,
) -> iam::Project {
    let mut project = iam::Project {
        account: scope.declared_account(),
        partition: scope.partition(),
        ..Default::default()
    };
    for module in modules {
        for item in &module.items {
            match item {
                Item::Policy(p) => policy_item(scope, p, included, &mut project),
                Item::Principal(p) => principal_item(scope, p, &mut project),
                Item::Test(t) => {
                    let mut lowering = TestLowering {
                        scope,
                        principal: None,
                        bad_as: false,
                        attached: Vec::new(),
                        statements: Vec::new(),
                        expectations: Vec::new(),
                    };
                    lowering.entries(&t.entries);
                    project.tests.push(iam::TestCase {
                        name: scope.expand(&t.name).unwrap_or_else(|| t.name.raw.clone()),
                        span: Some(t.span),
                        expectations: lowering.expectations,
                    });
                }
                Item::ResourcePolicy(r) => resource_policy_item(scope, r, &mut project),
                Item::Setting(_) | Item::Param(_) | Item::Let(_) => {}
            }
        }
    }
    project
}

/// `resource policy NAME { … }`: a resource-based policy, written to
/// `resource-policies/NAME.json`. Its statements name principals, like a trust policy's, and
/// the resources of the service that holds it.
fn resource_policy_item(scope: &Scope, item: &ResourcePolicyItem, project: &mut iam::Project) {
    item_attributes(scope, &item.attributes, "a resource policy");
    let name = &item.name.name;
    let file = format!("resource-policies/{name}.json");
    if let Some(first) = project
        .documents
        .iter()
        .find(|d| d.kind == DocumentKind::Resource && d.file.eq_ignore_ascii_case(&file))
    {
        let case = if first.name == *name {
            String::new()
        } else {
            format!(
                " (their files differ only in case: `{}` is taken)",
                first.name
            )
        };
        let mut d = Diagnostic::new(
            Code::DuplicateName,
            format!("resource policy `{name}` is declared twice{case}"),
        )
        .at(item.name.span, "declared again here")
        .help("every resource policy is written to its own file: rename one of them");
        if let Some(span) = first.span {
            d = d.with_label(span, "first declared here");
        }
        scope.push(d);
        return;
    }
    let mut statements = Vec::new();
    let mut ok = true;
    let mut id: Option<(String, Span)> = None;
    for entry in &item.entries {
        let s = match entry {
            ResourceEntry::Id(text, span) => {
                if let Some((_, first)) = &id {
                    scope.push(
                        Diagnostic::new(Code::DuplicateSetting, "`id` is given twice")
                            .at(*span, "given again here")
                            .with_label(*first, "first given here")
                            .help("a policy document has one `Id`: keep one `id`"),
                    );
                } else if let Some(text) = scope.expand(text) {
                    id = Some((text, *span));
                }
                continue;
            }
            ResourceEntry::Statement(s) => s,
        };
        match trust_statement(scope, s) {
            Some(statement) => statements.push(statement),
            None => ok = false,
        }
    }
    let id = id.map(|(text, _)| text);
    if !ok {
        return;
    }
    project.documents.push(iam::Document {
        kind: DocumentKind::Resource,
        name: name.clone(),
        owner: None,
        file,
        policy: iam::Policy { statements, id },
        span: Some(item.name.span),
        split: false,
    });
}

/// Reports the second of two settings that may be given once.
fn once(scope: &Scope, seen: &mut IndexMap<&'static str, Span>, entry: &Entry) -> bool {
    let keyword = entry.keyword();
    if let Some(first) = seen.get(keyword) {
        scope.push(
            Diagnostic::new(
                Code::DuplicateSetting,
                format!("`{keyword}` is given twice"),
            )
            .at(entry.span(), "given again here")
            .with_label(*first, "first given here")
            .help(format!("keep one `{keyword}`")),
        );
        return false;
    }
    seen.insert(keyword, entry.span());
    true
}

fn check_name(scope: &Scope, ident: &Ident, what: &str, max: usize) {
    let valid = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if let Some(c) = ident.name.chars().find(|c| !valid(*c)) {
        scope.push(
            Diagnostic::new(
                Code::InvalidName,
                format!("`{}` is not a valid name for {what}", ident.name),
            )
            .at(
                ident.span,
                format!("{} is not allowed in IAM names", diag::describe_char(c)),
            )
            .help("IAM names hold ASCII letters, digits and `+ = , . @ _ -`"),
        );
    } else if ident.name.is_empty() {
        scope.push(
            Diagnostic::new(Code::InvalidName, format!("the name of {what} is empty"))
                .at(ident.span, "empty name")
                .help("give it a name"),
        );
    } else if ident.name == "." || ident.name == ".." {
        // IAM rejects them, and output files are named after principals and policies.
        scope.push(
            Diagnostic::new(
                Code::InvalidName,
                format!("`{}` is not a valid name for {what}", ident.name),
            )
            .at(
                ident.span,
                "`.` and `..` name directories, not IAM entities",
            )
            .help("IAM rejects the names `.` and `..`; add a letter or a digit"),
        );
    }
    if ident.name.len() > max {
        scope.push(
            Diagnostic::new(
                Code::InvalidName,
                format!("the name of {what} is longer than {max} characters"),
            )
            .at(ident.span, format!("{} characters", ident.name.len()))
            .help(format!("IAM limits the name of {what} to {max} characters")),
        );
    }
}

/// The inline policy whose name equals `name`, ignoring case: its files would be one file where
/// file names ignore case (macOS, Windows).
fn same_name<'m, V>(inline: &'m IndexMap<String, V>, name: &str) -> Option<(&'m str, &'m V)> {
    inline
        .iter()
        .find(|(taken, _)| taken.eq_ignore_ascii_case(name))
        .map(|(taken, v)| (taken.as_str(), v))
}

/// ` (… `Taken` is taken)` when two names differ only in case; nothing when they are equal.
/// Output files are named after inline policies: two that differ only in case would be one file
/// where file names ignore case (macOS, Windows).
fn case_note(taken: &str, name: &str) -> String {
    if taken == name {
        String::new()
    } else {
        format!(" (names ignore case: `{taken}` is taken)")
    }
}

fn description(scope: &Scope, entries: &[Entry]) -> Option<String> {
    entries.iter().find_map(|e| match e {
        Entry::Description(s, _) => scope.expand(s),
        _ => None,
    })
}

fn policy_item(
    scope: &Scope,
    item: &PolicyItem,
    included: &std::collections::HashMap<Span, iam::Policy>,
    project: &mut iam::Project,
) {
    let (kind, dir) = match item.kind {
        PolicyKind::Managed => (DocumentKind::Managed, "policies"),
        PolicyKind::Boundary => (DocumentKind::Boundary, "boundaries"),
    };
    check_name(scope, &item.name, "a managed policy", 128);
    let what = match item.kind {
        PolicyKind::Managed => "a policy",
        PolicyKind::Boundary => "a boundary",
    };
    let attributes = item_attributes(scope, &item.attributes, what);
    let mut seen = IndexMap::new();
    let mut statements = Vec::new();
    for entry in &item.entries {
        match entry {
            Entry::Statement(s) => statements.extend(statement(scope, s, true)),
            Entry::Path(..) | Entry::Description(..) | Entry::Id(..) => {
                once(scope, &mut seen, entry);
            }
            Entry::Guard(_) if item.kind == PolicyKind::Boundary => {
                once(scope, &mut seen, entry);
            }
            other => not_allowed(scope, other, "a policy"),
        }
    }
    let path = scope.path(&item.entries);
    let arn = scope
        .has_account()
        .then(|| scope.decl_arn(&Decl::Policy(item), item.name.span))
        .flatten();
    if let Some(path) = &item.json {
        statements.extend(
            included
                .get(&path.span)
                .map(|p| p.statements.clone())
                .unwrap_or_default(),
        );
    }
    let written = item
        .entries
        .iter()
        .any(|e| matches!(e, Entry::Statement(_) | Entry::Guard(_)));
    if !written && item.json.is_none() {
        empty_policy(scope, "policy", &item.name.name, item.name.span);
    }
    let guard = guard_spec(scope, item);
    if let Some(spec) = &guard {
        if let (Some(arn), Some(account)) = (&arn, scope.account(spec.span.unwrap_or(item.span))) {
            let partition = scope.partition();
            let arns = crate::guardrail::spec::Arns {
                partition: &partition,
                account: &account,
                boundary: arn,
            };
            statements.extend(spec.boundary_statements(&arns));
        }
    }
    project.documents.push(Document {
        kind,
        name: item.name.name.clone(),
        owner: None,
        file: format!("{dir}/{}.json", item.name.name),
        policy: iam::Policy {
            statements,
            // `id "…"`, or the `Id` of the JSON document it is read from.
            id: item
                .entries
                .iter()
                .find_map(|e| match e {
                    Entry::Id(s, _) => scope.expand(s),
                    _ => None,
                })
                .or_else(|| {
                    let path = item.json.as_ref()?;
                    included.get(&path.span)?.id.clone()
                }),
        },
        span: Some(item.name.span),
        split: attributes.split,
    });
    project.policies.push(iam::ManagedPolicyInfo {
        name: item.name.name.clone(),
        path,
        arn,
        boundary: item.kind == PolicyKind::Boundary,
        guard,
        description: description(scope, &item.entries),
        docs: item.docs.clone(),
        document: project.documents.len() - 1,
        span: Some(item.span),
    });
}

/// A boundary's `guard { … }`, resolved; `None` when it has none (or it does not resolve).
pub fn guard_spec(scope: &Scope, item: &PolicyItem) -> Option<crate::guardrail::spec::GuardSpec> {
    let guard = item.entries.iter().find_map(|e| match e {
        Entry::Guard(g) => Some(g),
        _ => None,
    })?;
    if item.kind != PolicyKind::Boundary {
        return None;
    }
    let mut spec = crate::guardrail::spec::GuardSpec {
        users: false,
        roles: false,
        create_path: "/".into(),
        pass: None,
        manage_path: None,
        span: Some(guard.span),
        create_span: None,
        pass_span: None,
        manage_span: None,
    };
    let path = |under: &Option<Str>| match under {
        Some(s) => scope.path_of(s),
        None => Some("/".to_string()),
    };
    // A clause given twice: reported at the second, with the first labelled.
    let twice = |first: Option<Span>, span: Span, clause: &str, help: &str| -> bool {
        let Some(first) = first else {
            return false;
        };
        scope.push(
            Diagnostic::new(
                Code::DuplicateSetting,
                format!("`{clause}` is given twice in a guard"),
            )
            .at(span, "given again here")
            .with_label(first, "first given here")
            .help(help.to_string()),
        );
        true
    };
    for clause in &guard.clauses {
        match clause {
            GuardClause::Create { kinds, under, span } => {
                if twice(
                    spec.create_span,
                    *span,
                    "create",
                    "list every kind in one clause: `create users, roles under \"/dev/\"`",
                ) {
                    continue;
                }
                for (kind, _) in kinds {
                    match kind {
                        GuardKind::Users => spec.users = true,
                        GuardKind::Roles => spec.roles = true,
                    }
                }
                spec.create_path = path(under)?;
                spec.create_span = Some(*span);
            }
            GuardClause::Pass {
                under,
                services,
                span,
            } => {
                if twice(
                    spec.pass_span,
                    *span,
                    "pass",
                    "list every service in one clause: `pass roles under \"/dev/\" to lambda.amazonaws.com, ecs-tasks.amazonaws.com`",
                ) {
                    continue;
                }
                spec.pass = Some((
                    path(under)?,
                    services.iter().map(|(s, _)| s.clone()).collect(),
                ));
                spec.pass_span = Some(*span);
            }
            GuardClause::Manage { under, span } => {
                if twice(
                    spec.manage_span,
                    *span,
                    "manage",
                    "keep one `manage policies` clause",
                ) {
                    continue;
                }
                spec.manage_path = Some(path(under)?);
                spec.manage_span = Some(*span);
            }
        }
    }
    Some(spec)
}

/// A policy the source gives no statement: IAM rejects it.
fn empty_policy(scope: &Scope, what: &str, name: &str, span: Span) {
    scope.push(
        Diagnostic::new(
            Code::EmptyList,
            format!("{what} `{name}` has no statements"),
        )
        .at(span, "no statements")
        .help("IAM rejects a policy without statements: add one, or remove it"),
    );
}

fn not_allowed(scope: &Scope, entry: &Entry, what: &str) {
    let keyword = entry.keyword();
    let help = match keyword {
        "trust" => "only roles have a trust policy",
        "groups" => "only users are members of groups",
        "boundary" => "only users and roles carry a permissions boundary",
        "tags" => "IAM groups cannot be tagged",
        _ => "remove it",
    };
    scope.push(
        Diagnostic::new(
            Code::SettingNotAllowed,
            format!("`{keyword}` is not allowed in {what}"),
        )
        .at(entry.span(), "not allowed here")
        .help(help),
    );
}

fn principal_item(scope: &Scope, item: &PrincipalItem, project: &mut iam::Project) {
    let (kind, what, dir, inline_kind, name_max) = match item.kind {
        ast::PrincipalKind::Role => (
            iam::PrincipalKind::Role,
            "a role",
            "roles",
            DocumentKind::RoleInline,
            64,
        ),
        ast::PrincipalKind::User => (
            iam::PrincipalKind::User,
            "a user",
            "users",
            DocumentKind::UserInline,
            64,
        ),
        ast::PrincipalKind::Group => (
            iam::PrincipalKind::Group,
            "a group",
            "groups",
            DocumentKind::GroupInline,
            128,
        ),
    };
    let name = &item.name.name;
    check_name(scope, &item.name, what, name_max);
    let mut seen = IndexMap::new();
    let mut boundary = None;
    let mut attached: Vec<Spanned<String>> = Vec::new();
    let mut groups = Vec::new();
    let mut tags = IndexMap::new();
    let mut trust = None;
    let attributes = item_attributes(scope, &item.attributes, what);
    let mut max_session_seconds = None;
    let mut instance_profile = None;
    let mut inline: IndexMap<String, (Span, Vec<iam::Statement>, Vec<String>, bool)> =
        IndexMap::new();
    let mut loose = Vec::new();
    let mut loose_span: Option<Span> = None;
    let mut delegate: Option<Span> = None;
    for entry in &item.entries {
        match entry {
            Entry::Path(..) | Entry::Description(..) => {
                once(scope, &mut seen, entry);
            }
            Entry::Boundary(policy, _) => {
                if kind == iam::PrincipalKind::Group {
                    not_allowed(scope, entry, what);
                } else if once(scope, &mut seen, entry) {
                    boundary = scope
                        .policy_ref(policy, &[EntityKind::Boundary])
                        .map(|(arn, _)| Spanned::new(arn, Some(policy.span())));
                }
            }
            Entry::Attach(policies, _) => {
                for policy in policies {
                    let Some((arn, _)) =
                        scope.policy_ref(policy, &[EntityKind::Policy, EntityKind::Boundary])
                    else {
                        continue;
                    };
                    if let Some(first) = attached.iter().find(|a| a.value == arn) {
                        let mut d = Diagnostic::new(
                            Code::DuplicateSetting,
                            format!("`{arn}` is attached twice"),
                        )
                        .at(policy.span(), "attached again here")
                        .help("attach each policy once");
                        if let Some(span) = first.span {
                            d = d.with_label(span, "first attached here");
                        }
                        scope.push(d);
                        continue;
                    }
                    attached.push(Spanned::new(arn, Some(policy.span())));
                }
            }
            Entry::Groups(names, _) => {
                if kind != iam::PrincipalKind::User {
                    not_allowed(scope, entry, what);
                    continue;
                }
                for group in names {
                    if scope.entity(group, &[EntityKind::Group]).is_some() {
                        if groups.contains(&group.name) {
                            scope.push(
                                Diagnostic::new(
                                    Code::DuplicateSetting,
                                    format!("group `{}` is listed twice", group.name),
                                )
                                .at(group.span, "listed again here")
                                .help("list each group once"),
                            );
                        } else {
                            groups.push(group.name.clone());
                        }
                    }
                }
            }
            Entry::Tags(list, _) => {
                if kind == iam::PrincipalKind::Group {
                    not_allowed(scope, entry, what);
                } else if once(scope, &mut seen, entry) {
                    tags = lower_tags(scope, list);
                }
            }
            Entry::Trust(statements, span, id) => {
                if kind != iam::PrincipalKind::Role {
                    not_allowed(scope, entry, what);
                } else if once(scope, &mut seen, entry) {
                    if statements.is_empty() {
                        let at = Span {
                            end: span.start + "trust".len() as u32,
                            ..*span
                        };
                        empty_policy(scope, "the trust policy of", name, at);
                    }
                    let lowered: Vec<_> = statements
                        .iter()
                        .filter_map(|s| trust_statement(scope, s))
                        .collect();
                    let id = id.as_ref().and_then(|s| scope.expand(s));
                    trust = Some((lowered, *span, id));
                }
            }
            Entry::Policy(p) => {
                check_name(scope, &p.name, "an inline policy", 128);
                if p.statements.is_empty() {
                    empty_policy(scope, "inline policy", &p.name.name, p.name.span);
                }
                let statements = p
                    .statements
                    .iter()
                    .filter_map(|s| statement(scope, s, true))
                    .collect();
                if let Some((taken, (first, ..))) = same_name(&inline, &p.name.name) {
                    let mut d = Diagnostic::new(
                        Code::DuplicateName,
                        format!(
                            "inline policy `{}` is declared twice{}",
                            p.name.name,
                            case_note(taken, &p.name.name)
                        ),
                    )
                    .at(p.name.span, "declared again here")
                    .with_label(*first, "first declared here");
                    if taken != p.name.name {
                        d = d.help("their output files would be one file where file names ignore case (macOS, Windows); rename one of them");
                    }
                    scope.push(d);
                    continue;
                }
                let split = item_attributes(scope, &p.attributes, "an inline policy").split;
                inline.insert(
                    p.name.name.clone(),
                    (p.name.span, statements, p.docs.clone(), split),
                );
            }
            Entry::Statement(s) => {
                loose_span = Some(loose_span.map_or(s.span, |l| l.to(s.span)));
                loose.extend(statement(scope, s, true));
            }
            Entry::MaxSession(text, at, _) => {
                if kind != iam::PrincipalKind::Role {
                    not_allowed(scope, entry, what);
                } else if once(scope, &mut seen, entry) {
                    max_session_seconds = max_session(scope, text, *at);
                }
            }
            Entry::InstanceProfile(profile, _) => {
                if kind != iam::PrincipalKind::Role {
                    not_allowed(scope, entry, what);
                } else if once(scope, &mut seen, entry) {
                    instance_profile = match profile {
                        Some(n) => {
                            let expanded = scope.expand(n);
                            if let Some(text) = &expanded {
                                let as_ident = Ident {
                                    name: text.clone(),
                                    span: n.span,
                                };
                                check_name(scope, &as_ident, "an instance profile", 128);
                            }
                            expanded
                        }
                        None => Some(name.clone()),
                    };
                }
            }
            Entry::Delegate(span) => {
                if kind == iam::PrincipalKind::Group {
                    not_allowed(scope, entry, what);
                } else if once(scope, &mut seen, entry) {
                    delegate = Some(*span);
                }
            }
            Entry::Guard(_) | Entry::Id(..) => not_allowed(scope, entry, what),
        }
    }
    if let Some(span) = delegate {
        let statements = delegation(scope, item, &attached, span);
        if !statements.is_empty() {
            let name = format!("{}Delegation", item.name.name);
            if let Some((taken, (first, ..))) = same_name(&inline, &name) {
                scope.push(
                    Diagnostic::new(
                        Code::DuplicateName,
                        format!(
                            "inline policy `{name}` is declared twice{}",
                            case_note(taken, &name)
                        ),
                    )
                    .at(
                        span,
                        format!("`delegate` writes the inline policy `{name}`"),
                    )
                    .with_label(*first, "a policy block of the same name")
                    .help("rename the policy block"),
                );
            } else {
                // What `delegate` writes may always move into a managed part when the
                // principal's inline quota cannot hold it (as if it carried `@split`).
                inline.insert(name, (span, statements, Vec::new(), true));
            }
        }
    }
    if let Some(span) = loose_span {
        let loose_name = format!("{name}Policy");
        if let Some((taken, (first, ..))) = same_name(&inline, &loose_name) {
            scope.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!(
                        "inline policy `{loose_name}` is declared twice{}",
                        case_note(taken, &loose_name)
                    ),
                )
                .at(
                    span,
                    format!("these statements form the inline policy `{loose_name}`"),
                )
                .with_label(*first, "a policy block of the same name")
                .help("move the statements into the policy block, or rename it"),
            );
        } else {
            inline.insert(loose_name, (span, loose, Vec::new(), false));
        }
    }
    if kind == iam::PrincipalKind::Role && trust.is_none() {
        scope.push(
            Diagnostic::new(
                Code::MissingTrust,
                format!("role `{name}` has no trust policy"),
            )
            .at(item.name.span, "nobody can assume this role")
            .help("say who may assume it: `trust { allow service ec2.amazonaws.com }`"),
        );
    }
    let path = scope.path(&item.entries);
    let arn = scope
        .has_account()
        .then(|| scope.decl_arn(&Decl::Principal(item), item.name.span))
        .flatten();
    let mut documents = Vec::new();
    for (policy_name, (span, statements, _docs, split)) in inline {
        project.documents.push(Document {
            kind: inline_kind,
            name: policy_name.clone(),
            owner: Some(name.clone()),
            file: format!("{dir}/{name}/policies/{policy_name}.json"),
            policy: iam::Policy {
                id: None,
                statements,
            },
            span: Some(span),
            split,
        });
        documents.push(project.documents.len() - 1);
    }
    if let Some((statements, span, id)) = trust {
        // Point at the `trust` keyword, not the whole block.
        let span = Span {
            end: span.start + "trust".len() as u32,
            ..span
        };
        project.documents.push(Document {
            kind: DocumentKind::Trust,
            name: name.clone(),
            owner: Some(name.clone()),
            file: format!("{dir}/{name}/trust.json"),
            policy: iam::Policy { id, statements },
            span: Some(span),
            split: false,
        });
        documents.push(project.documents.len() - 1);
    }
    project.principals.push(iam::PrincipalInfo {
        kind,
        name: name.clone(),
        path,
        arn,
        boundary,
        attached,
        groups,
        tags,
        description: description(scope, &item.entries),
        docs: item.docs.clone(),
        documents,
        span: Some(item.span),
        name_span: Some(item.name.span),
        delegates: delegate.is_some(),
        max_session: max_session_seconds,
        instance_profile,
        split: attributes.split,
    });
}

/// The identity-side statements of `delegate`, from the guard of the principal's boundary.
fn delegation(
    scope: &Scope,
    item: &PrincipalItem,
    attached: &[Spanned<String>],
    span: Span,
) -> Vec<iam::Statement> {
    let boundary = item.entries.iter().find_map(|e| match e {
        Entry::Boundary(policy, _) => Some(policy),
        _ => None,
    });
    let found = boundary.and_then(|b| scope.policy_ref(b, &[EntityKind::Boundary]));
    let spec = found
        .as_ref()
        .and_then(|(_, item)| item.and_then(|i| guard_spec(scope, i)));
    let (Some((arn, _)), Some(spec)) = (found.as_ref(), spec) else {
        let (message, help) = match boundary {
            None => (
                format!("`{}` delegates, but has no permissions boundary", item.name.name),
                "`delegate` writes the identity side of a boundary's guard: give it `boundary NAME`, a boundary with `guard { … }`".to_string(),
            ),
            Some(_) => (
                format!("`{}` delegates, but its boundary has no guard", item.name.name),
                "add `guard { create users, roles under \"/path/\" }` to the boundary; `delegate` derives its statements from it".to_string(),
            ),
        };
        scope.push(
            Diagnostic::new(Code::DelegateWithoutGuard, message)
                .at(span, "nothing to delegate")
                .help(help),
        );
        return Vec::new();
    };
    let Some(account) = scope.account(span) else {
        return Vec::new();
    };
    let partition = scope.partition();
    let arns = crate::guardrail::spec::Arns {
        partition: &partition,
        account: &account,
        boundary: arn,
    };
    // Its own customer managed policies get no new versions.
    let own: Vec<String> = attached
        .iter()
        .filter(|a| !a.value.contains(":iam::aws:policy/"))
        .map(|a| a.value.clone())
        .collect();
    spec.delegate_statements(&arns, &own, Some(span))
}

fn lower_tags(scope: &Scope, tags: &[Tag]) -> IndexMap<String, String> {
    let mut out: IndexMap<String, String> = IndexMap::new();
    let mut first_span: IndexMap<String, Span> = IndexMap::new();
    let valid_char = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    for tag in tags {
        let (Some(key), Some(value)) = (scope.expand(&tag.key), scope.expand(&tag.value)) else {
            continue;
        };
        let chars_help = "tags hold letters, digits, spaces and `_ . : / = + - @`";
        let problem = if key.is_empty() || key.chars().count() > 128 {
            Some((
                tag.key.span,
                "a tag key has 1 to 128 characters".to_string(),
                "shorten the key, or give it a name".to_string(),
            ))
        } else if key.to_ascii_lowercase().starts_with("aws:") {
            Some((
                tag.key.span,
                "the `aws:` prefix is reserved for AWS".to_string(),
                format!("drop the prefix: `{}`", &key[4..]),
            ))
        } else if value.chars().count() > 256 {
            Some((
                tag.value.span,
                "a tag value has at most 256 characters".to_string(),
                "shorten the value".to_string(),
            ))
        } else if let Some(c) = key.chars().chain(value.chars()).find(|c| !valid_char(*c)) {
            let span = if key.contains(c) {
                tag.key.span
            } else {
                tag.value.span
            };
            Some((
                span,
                format!("{} is not allowed in tags", diag::describe_char(c)),
                chars_help.to_string(),
            ))
        } else {
            None
        };
        if let Some((span, label, help)) = problem {
            let name = if key.is_empty() {
                "invalid tag: the key is empty".to_string()
            } else {
                format!("invalid tag `{key}`")
            };
            scope.push(
                Diagnostic::new(Code::InvalidTag, name)
                    .at(span, label)
                    .help(help),
            );
            continue;
        }
        let lower = key.to_lowercase();
        if let Some(first) = first_span.get(&lower) {
            scope.push(
                Diagnostic::new(Code::InvalidTag, format!("tag `{key}` is given twice"))
                    .at(tag.key.span, "given again here")
                    .with_label(*first, "first given here")
                    .help("tag keys are unique, ignoring case"),
            );
            continue;
        }
        first_span.insert(lower, tag.key.span);
        out.insert(key, value);
    }
    if out.len() > 50 {
        if let Some(tag) = tags.get(50) {
            scope.push(
                Diagnostic::new(Code::InvalidTag, "more than 50 tags")
                    .at(tag.span, "the 51st tag")
                    .help("IAM allows at most 50 tags on a principal"),
            );
        }
    }
    out
}

/// The `Sid` from `@sid(Name)`; reports unknown attributes.
fn attributes(scope: &Scope, attributes: &[Attribute]) -> Option<Spanned<String>> {
    let mut sid: Option<Spanned<String>> = None;
    for attribute in attributes {
        match attribute.name.name.as_str() {
            "sid" => {
                let [(text, span)] = attribute.args.as_slice() else {
                    let (message, label) = if attribute.args.is_empty() {
                        ("`@sid` needs a name", "no name given")
                    } else {
                        ("`@sid` takes one name", "more than one given")
                    };
                    scope.push(
                        Diagnostic::new(Code::UnknownAttribute, message)
                            .at(attribute.span, label)
                            .help("write `@sid(AllowReads)`"),
                    );
                    continue;
                };
                if let Some(first) = &sid {
                    let mut d = Diagnostic::new(Code::DuplicateSetting, "`@sid` is given twice")
                        .at(attribute.span, "given again here")
                        .help("a statement has one Sid: keep one `@sid`");
                    if let Some(s) = first.span {
                        d = d.with_label(s, "first given here");
                    }
                    scope.push(d);
                    continue;
                }
                sid = Some(Spanned::new(text.clone(), Some(*span)));
            }
            // Read with the project's other `@allow`s (see `allow`).
            "allow" => {}
            "split" => scope.push(
                Diagnostic::new(
                    Code::UnknownAttribute,
                    "`@split` applies to a policy, not a statement",
                )
                .at(attribute.name.span, "on a statement")
                .help("write `@split` before the `policy` it should split"),
            ),
            other => {
                let help = diag::did_you_mean(diag::suggest(other, ["sid", "allow"]))
                    .unwrap_or_else(|| {
                        "the known attributes are `@sid(Name)` and `@allow(CODE, \"reason\")`"
                            .into()
                    });
                scope.push(
                    Diagnostic::new(
                        Code::UnknownAttribute,
                        format!("unknown attribute `@{other}`"),
                    )
                    .at(attribute.name.span, "not a known attribute")
                    .help(help),
                );
            }
        }
    }
    sid
}

/// What the attributes of an item (a policy, boundary, role, user, group or inline policy)
/// say. The only one known is `@split`; unknown ones are reported with a "did you mean".
#[derive(Clone, Copy, Debug, Default)]
struct ItemAttributes {
    split: bool,
}

/// Reads an item's attributes; `what` names the item for messages ("a boundary").
fn item_attributes(scope: &Scope, attributes: &[Attribute], what: &str) -> ItemAttributes {
    let mut out = ItemAttributes::default();
    let mut seen: Option<Span> = None;
    for attribute in attributes {
        match attribute.name.name.as_str() {
            "split" => {
                if let Some((_, span)) = attribute.args.first() {
                    scope.push(
                        Diagnostic::new(Code::UnknownAttribute, "`@split` takes no arguments")
                            .at(*span, "not expected")
                            .help("write `@split` alone"),
                    );
                }
                if what == "a boundary" {
                    scope.push(
                        Diagnostic::new(
                            Code::UnknownAttribute,
                            "`@split` does not apply to a boundary",
                        )
                        .at(attribute.name.span, "on a boundary")
                        .help("a principal has one permissions boundary: it cannot be split into several; shorten it instead"),
                    );
                    continue;
                }
                if let Some(first) = seen {
                    scope.push(
                        Diagnostic::new(Code::DuplicateSetting, "`@split` is given twice")
                            .at(attribute.span, "given again here")
                            .with_label(first, "first given here")
                            .help("keep one `@split`"),
                    );
                }
                seen = Some(attribute.span);
                out.split = true;
            }
            "allow" => {}
            "sid" => scope.push(
                Diagnostic::new(
                    Code::UnknownAttribute,
                    format!("`@sid` applies to a statement, not to {what}"),
                )
                .at(attribute.name.span, "not a statement")
                .help("write `@sid(Name)` before a statement inside it"),
            ),
            other => {
                let help = diag::did_you_mean(diag::suggest(other, ["split", "allow"]))
                    .unwrap_or_else(|| format!("the attributes known on {what} are `@split` and `@allow(CODE, \"reason\")`"));
                scope.push(
                    Diagnostic::new(
                        Code::UnknownAttribute,
                        format!("unknown attribute `@{other}`"),
                    )
                    .at(attribute.name.span, "not a known attribute")
                    .help(help),
                );
            }
        }
    }
    out
}

/// `max session`: the seconds a duration says (`3600`, `3600s`, `90m`, `12h`), checked against
/// IAM's range for `MaxSessionDuration`, one to twelve hours.
fn max_session(scope: &Scope, text: &str, span: Span) -> Option<u32> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let scale: u64 = match unit {
        'h' => 3600,
        'm' => 60,
        _ => 1,
    };
    let seconds = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale));
    match seconds {
        Some(s) if (MIN_SESSION..=MAX_SESSION).contains(&s) => Some(s as u32),
        _ => {
            let said = match seconds {
                Some(s) => format!("{s} seconds"),
                None => "too long".to_string(),
            };
            scope.push(
                Diagnostic::new(
                    Code::SessionOutOfRange,
                    format!("`max session {text}` is outside IAM's range of 1 to 12 hours"),
                )
                .at(span, said)
                .help("write a duration from `3600` (`1h`) to `43200` (`12h`) seconds"),
            );
            None
        }
    }
}

/// IAM's range for a role's `MaxSessionDuration`, in seconds.
pub(crate) const MIN_SESSION: u64 = 3_600;
pub(crate) const MAX_SESSION: u64 = 43_200;

fn effect(effect: ast::Effect, span: Span) -> Spanned<iam::Effect> {
    let effect = match effect {
        ast::Effect::Allow => iam::Effect::Allow,
        ast::Effect::Deny => iam::Effect::Deny,
    };
    Spanned::new(effect, Some(span))
}

/// AWS's spelling of an action written in another case (`s3:getobject` → `s3:GetObject`).
fn canonical_action(action: String) -> String {
    if action.contains(['*', '?']) {
        return action;
    }
    let spelled = action
        .split_once(':')
        .and_then(|(prefix, name)| awsdb::action_spelling(prefix, name));
    match spelled {
        Some((prefix, name)) => format!("{prefix}:{name}"),
        None => action,
    }
}

fn action_block(scope: &Scope, not: bool, items: &[ActionItem]) -> Option<Block> {
    let actions: Vec<(String, Span)> = scope
        .actions(items)?
        .into_iter()
        .map(|(a, s)| (canonical_action(a), s))
        .collect();
    let span = items
        .first()
        .map(|f| f.span().to(items[items.len() - 1].span()));
    Some(Block {
        not,
        values: dedupe(scope, "action", actions, true),
        span,
    })
}

/// Drops values listed twice (IAM accepts them, but they say nothing), with a warning where
/// both were written out; a value that a selector or a `let` brings in again (its span shared
/// with other values) is dropped quietly.
fn dedupe(
    scope: &Scope,
    what: &str,
    values: Vec<(String, Span)>,
    ignore_case: bool,
) -> Vec<Spanned<String>> {
    // How many values each span stands for: a span of one value was written; a span of
    // several is a name spliced in (a `let`), whose repeats are not the writer's.
    let mut per_span: std::collections::HashMap<Span, usize> = std::collections::HashMap::new();
    for (_, span) in &values {
        *per_span.entry(*span).or_default() += 1;
    }
    let written = |span: Span| per_span.get(&span) == Some(&1);
    let mut out: Vec<Spanned<String>> = Vec::with_capacity(values.len());
    // Each value kept, by its text (lowercased when case is ignored) → its place in `out`.
    let mut kept: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (value, span) in values.iter().cloned() {
        let folded = if ignore_case {
            value.to_ascii_lowercase()
        } else {
            value.clone()
        };
        let first = kept.get(&folded).map(|&i| &out[i]);
        if let Some(first) = first {
            if first.span != Some(span) && written(span) && first.span.is_some_and(written) {
                let mut d = Diagnostic::new(
                    Code::DuplicateValue,
                    format!("{what} `{value}` is listed twice"),
                )
                .at(span, "listed again here")
                .help("remove one");
                if let Some(s) = first.span {
                    d = d.with_label(s, "first listed here");
                }
                scope.push(d);
            }
            continue;
        }
        kept.insert(folded, out.len());
        out.push(Spanned::new(value, Some(span)));
    }
    out
}

/// Lowers an identity statement. `None` when part of it could not be lowered (already reported).
fn statement(scope: &Scope, s: &ast::Statement, needs_resource: bool) -> Option<iam::Statement> {
    let sid = attributes(scope, &s.attributes);
    let action = action_block(scope, s.not_action, &s.actions);
    let resource = match &s.resource {
        Some(clause) => resources(scope, clause),
        None => {
            if needs_resource {
                scope.push(
                    Diagnostic::new(Code::MissingResource, "statement has no resource")
                        .at(s.span, "no `on …` in this statement")
                        .help("say what it applies to: `on *` for everything, or `on \"arn:…\"`"),
                );
            }
            None
        }
    };
    let conditions = conditions(scope, &s.conditions);
    let action = match (action, &resource) {
        (Some(action), Some(resource)) if !s.not_action => {
            selected_for_resources(scope, &s.actions, action, resource)
        }
        (action, _) => action,
    };
    Some(iam::Statement {
        sid,
        effect: effect(s.effect, s.effect_span),
        principal: None,
        not_principal: false,
        action: Some(action?),
        resource: if needs_resource {
            Some(resource?)
        } else {
            None
        },
        conditions: conditions?,
        span: Some(s.span),
        docs: s.docs.clone(),
    })
}

/// An access-level selector written with resources (`allow s3:read on "arn:aws:s3:::b/*"`)
/// keeps only the actions that apply to at least one resource's type, read from the ARN
/// formats of the reference, as policy_sentry does: the others could never match. A selector
/// that keeps none is an error (E0403). Explicit patterns (`s3:Get*`), `let`s, `*` resources
/// and `not on` are left as written.
fn selected_for_resources(
    scope: &Scope,
    items: &[ActionItem],
    mut action: Block,
    resource: &Block,
) -> Option<Block> {
    if resource.not || resource.values.iter().any(|r| r.value == "*") {
        return Some(action);
    }
    let mut selectors: Vec<(String, Span)> = Vec::new();
    for item in items {
        match item {
            ActionItem::Pattern(p, span) if is_selector(p) => selectors.push((p.clone(), *span)),
            ActionItem::Group { service, names, .. } => {
                for (name, span) in names {
                    let full = format!("{service}:{name}");
                    if is_selector(&full) {
                        selectors.push((full, *span));
                    }
                }
            }
            _ => {}
        }
    }
    if selectors.is_empty() {
        return Some(action);
    }
    let fits = |full: &str| -> bool {
        let Some((service, a)) = awsdb::action_by_full_name(full) else {
            return true;
        };
        a.resource_types
            .iter()
            .filter_map(|t| service.resource_type(t.name))
            .any(|t| {
                resource
                    .values
                    .iter()
                    .any(|r| crate::check::aws::arn_fits(&r.value, t.arn))
            })
    };
    let mut ok = true;
    for (selector, span) in &selectors {
        let (selector, span) = (selector.as_str(), *span);
        let from_it = |v: &Spanned<String>| v.span == Some(span);
        if !action.values.iter().any(from_it) {
            continue;
        }
        let before = action.values.len();
        action.values.retain(|v| !from_it(v) || fits(&v.value));
        if action.values.len() == before {
            continue;
        }
        if !action.values.iter().any(from_it) {
            let shown: Vec<String> = resource
                .values
                .iter()
                .take(2)
                .map(|r| format!("`{}`", r.value))
                .collect();
            let mut d = Diagnostic::new(
                Code::PatternMatchesNothing,
                format!("`{selector}` selects no action that applies to these resources"),
            )
            .at(span, "none of its actions takes a resource listed here")
            .help(format!(
                "no `{selector}` action takes {}; `iamx actions {selector}` lists its actions and the resource types each takes",
                shown.join(" or ")
            ));
            if let Some(list) = resource.span {
                d = d.with_label(list, "the resources");
            }
            scope.push(d);
            ok = false;
        }
    }
    ok.then_some(action)
}

/// Whether an action pattern is an access-level selector of a known service (`s3:read`).
fn is_selector(pattern: &str) -> bool {
    pattern.split_once(':').is_some_and(|(prefix, name)| {
        awsdb::AccessLevel::ALL
            .into_iter()
            .any(|l| l.selector_name() == name)
            && awsdb::service(prefix).is_some()
    })
}

fn resources(scope: &Scope, clause: &ResourceClause) -> Option<Block> {
    let mut values: Vec<(String, Span)> = Vec::new();
    let mut ok = true;
    for item in &clause.items {
        let span = item.span();
        let value = match item {
            ResourceItem::Any(_) => Some(Val::Str("*".into())),
            ResourceItem::Str(s) => scope.expand(s).map(Val::Str),
            ResourceItem::Entity(e) => scope.entity_arn(e).map(Val::Arn),
            ResourceItem::Name(n) => scope.value_of(n),
        };
        let flat = match value {
            Some(Val::List(items)) => items.into_iter().map(|(v, _)| v).collect(),
            Some(v) => vec![v],
            None => {
                ok = false;
                continue;
            }
        };
        for v in flat {
            match v {
                Val::Str(s) | Val::Arn(s) => values.push((s, span)),
                other => {
                    scope.push(
                        Diagnostic::new(
                            Code::WrongValueType,
                            format!("a resource is an ARN, not {}", other.describe()),
                        )
                        .at(span, "expected an ARN or `*`"),
                    );
                    ok = false;
                }
            }
        }
    }
    ok.then_some(Block {
        not: clause.not,
        values: dedupe(scope, "resource", values, false),
        span: Some(clause.span),
    })
}

/// What kind of values a condition compares, read from the values themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Arn,
    Ip,
    Binary,
}

fn looks_like_cidr(s: &str) -> bool {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let bits_ok = |max: u32| bits.is_none_or(|b| b.parse::<u32>().is_ok_and(|n| n <= max));
    if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        return bits_ok(32);
    }
    addr.contains(':') && addr.parse::<std::net::Ipv6Addr>().is_ok() && bits_ok(128)
}

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// The family of a condition key's type in the AWS service reference, if the key is known.
fn key_family(key: &str) -> Option<Family> {
    use awsdb::KeyType::*;
    let family = match awsdb::condition_key_type(key)?.element_type() {
        String => Family::String,
        Arn => Family::Arn,
        Bool => Family::Bool,
        Numeric => Family::Numeric,
        Date => Family::Date,
        IpAddress => Family::Ip,
        Binary => Family::Binary,
        _ => return None,
    };
    Some(family)
}

fn family_of(values: &[(Val, Span)]) -> Family {
    let all = |f: fn(&Val) -> bool| !values.is_empty() && values.iter().all(|(v, _)| f(v));
    if values.iter().any(|(v, _)| matches!(v, Val::Bool(_))) {
        Family::Bool
    } else if all(|v| matches!(v, Val::Num(_))) {
        Family::Numeric
    } else if all(|v| matches!(v, Val::Arn(_)) || matches!(v, Val::Str(s) if s.starts_with("arn:")))
    {
        Family::Arn
    } else if all(|v| matches!(v, Val::Str(s) if looks_like_cidr(s))) {
        Family::Ip
    } else if all(|v| matches!(v, Val::Str(s) if looks_like_date(s))) {
        Family::Date
    } else {
        Family::String
    }
}

fn condition_values(scope: &Scope, value: &ConditionValue) -> Option<Vec<(Val, Span)>> {
    match value {
        ConditionValue::One(v) => match scope.value(v)? {
            Val::List(items) => Some(items),
            other => Some(vec![(other, v.span())]),
        },
        ConditionValue::List(list) => match scope.list(list)? {
            Val::List(items) => Some(items),
            _ => None,
        },
    }
}

fn family_name(family: Family) -> &'static str {
    match family {
        Family::String => "String",
        Family::Numeric => "Numeric",
        Family::Date => "Date",
        Family::Bool => "Bool",
        Family::Arn => "ARN",
        Family::Ip => "IPAddress",
        Family::Binary => "Binary",
    }
}

fn family_plural(family: Family) -> &'static str {
    match family {
        Family::String => "strings",
        Family::Numeric => "numbers",
        Family::Date => "dates",
        Family::Bool => "booleans",
        Family::Arn => "ARNs",
        Family::Ip => "IP addresses",
        Family::Binary => "binary values",
    }
}

fn mismatch(scope: &Scope, op: CompareOp, op_span: Span, family: Family, why: &str, help: &str) {
    let what = family_plural(family);
    scope.push(
        Diagnostic::new(
            Code::OperatorMismatch,
            format!("`{}` does not compare {what}", op.as_str()),
        )
        .at(op_span, why.to_string())
        .help(help.to_string()),
    );
}

/// The IAM operator for a readable comparison; `why` says where the family came from, for the
/// label of a mismatch.
fn compare_operator(
    scope: &Scope,
    op: CompareOp,
    op_span: Span,
    family: Family,
    why: &str,
) -> Option<&'static str> {
    match operator_table(op, family) {
        Ok(operator) => Some(operator),
        Err(help) => {
            mismatch(scope, op, op_span, family, why, help);
            None
        }
    }
}

/// The IAM operator of a readable comparison of a family, or why there is none.
fn operator_table(op: CompareOp, family: Family) -> Result<&'static str, &'static str> {
    use CompareOp::*;
    use Family::*;
    match (op, family) {
        (Eq | In, String) => Ok("StringEquals"),
        (Ne | NotIn, String) => Ok("StringNotEquals"),
        (Eq | In, Date) => Ok("DateEquals"),
        (Ne | NotIn, Date) => Ok("DateNotEquals"),
        (Eq | In, Numeric) => Ok("NumericEquals"),
        (Ne | NotIn, Numeric) => Ok("NumericNotEquals"),
        (Eq | In, Bool) => Ok("Bool"),
        (Eq | In, Arn) => Ok("ArnEquals"),
        (Ne | NotIn, Arn) => Ok("ArnNotEquals"),
        (Eq | In, Ip) => Ok("IpAddress"),
        (Eq | In, Binary) => Ok("BinaryEquals"),
        (Ne | NotIn, Ip) => Ok("NotIpAddress"),
        (Like, String | Date) => Ok("StringLike"),
        (NotLike, String | Date) => Ok("StringNotLike"),
        (Like, Arn) => Ok("ArnLike"),
        (NotLike, Arn) => Ok("ArnNotLike"),
        (Lt, Numeric) => Ok("NumericLessThan"),
        (Le, Numeric) => Ok("NumericLessThanEquals"),
        (Gt, Numeric) => Ok("NumericGreaterThan"),
        (Ge, Numeric) => Ok("NumericGreaterThanEquals"),
        (Lt, Date) => Ok("DateLessThan"),
        (Le, Date) => Ok("DateLessThanEquals"),
        (Gt, Date) => Ok("DateGreaterThan"),
        (Ge, Date) => Ok("DateGreaterThanEquals"),
        // No operator of the family does this comparison.
        (Ne | NotIn, Binary) => Err("IAM compares binary values only for equality: `BinaryEquals`"),
        (Ne | NotIn, Bool) => {
            Err("IAM has no negated Bool operator: write `key == false`, or `not key`")
        }
        (Lt | Le | Gt | Ge, _) => {
            Err("ordering compares numbers (`10`) or dates (`\"2026-01-01T00:00:00Z\"`)")
        }
        (Like | NotLike, Ip) => {
            Err("IP addresses are matched by range: `key in [\"10.20.0.0/16\"]`")
        }
        (Like | NotLike, _) => Err("`like` matches strings and ARNs with `*` and `?`"),
    }
}

/// The operator iamx gives `[any|all] key[?] OP values`, as lowering would choose it (from the
/// key's type, else from the values); `None` where it would report a mismatch. For `iamx import`,
/// which writes a readable condition only where it lowers to the operator it read.
pub fn readable_operator(
    key: &str,
    quantifier: Option<Quantifier>,
    op: CompareOp,
    if_exists: bool,
    values: &[Val],
) -> Option<String> {
    let family = key_family(key).unwrap_or_else(|| {
        let spanned: Vec<(Val, Span)> = values
            .iter()
            .map(|v| (v.clone(), Span::new(crate::source::FileId(0), 0, 0)))
            .collect();
        family_of(&spanned)
    });
    let base = operator_table(op, family).ok()?;
    let prefix = match quantifier {
        Some(Quantifier::Any) => "ForAnyValue:",
        Some(Quantifier::All) => "ForAllValues:",
        None => "",
    };
    let suffix = if if_exists { "IfExists" } else { "" };
    Some(format!("{prefix}{base}{suffix}"))
}

fn conditions(scope: &Scope, conditions: &[ast::Condition]) -> Option<Vec<iam::Condition>> {
    let mut out: Vec<iam::Condition> = Vec::new();
    let mut ok = true;
    for c in conditions {
        let Some(lowered) = condition(scope, c) else {
            ok = false;
            continue;
        };
        if let Some(first) = out
            .iter()
            .find(|o| o.operator == lowered.operator && o.key.eq_ignore_ascii_case(&lowered.key))
        {
            let mut d = Diagnostic::new(
                Code::DuplicateCondition,
                format!(
                    "`{}` is tested twice with `{}` in one statement",
                    c.key.name, lowered.operator
                ),
            )
            .at(c.span, "tested again here")
            .help("a statement holds each key once per operator; to accept several values, list them: `key == [\"a\", \"b\"]`");
            if let Some(span) = first.span {
                d = d.with_label(span, "first tested here");
            }
            scope.push(d);
            ok = false;
            continue;
        }
        out.push(lowered);
    }
    ok.then_some(out)
}

fn condition(scope: &Scope, c: &ast::Condition) -> Option<iam::Condition> {
    let key = c.key.name.clone();
    let suffix = if c.if_exists { "IfExists" } else { "" };
    let texts = |values: Vec<(Val, Span)>| -> Vec<String> {
        values.into_iter().filter_map(|(v, _)| v.text()).collect()
    };
    let (operator, values) = match &c.kind {
        ConditionKind::Presence { exists } => {
            if c.if_exists {
                scope.push(
                    Diagnostic::new(
                        Code::OperatorMismatch,
                        "`?` has no meaning with `exists` or `missing`",
                    )
                    .at(c.key.span, "remove the `?`")
                    .help("`exists` and `missing` already test whether the key is in the request"),
                );
                return None;
            }
            ("Null".to_string(), vec![(!exists).to_string()])
        }
        ConditionKind::Bool { negated } => (format!("Bool{suffix}"), vec![(!negated).to_string()]),
        ConditionKind::Compare {
            quantifier,
            op,
            op_span,
            value,
        } => {
            let values = condition_values(scope, value)?;
            let (family, why) = match key_family(&key) {
                Some(family) => {
                    let name = family_name(family);
                    let article = if name.starts_with(['A', 'I']) {
                        "an"
                    } else {
                        "a"
                    };
                    (family, format!("`{key}` is {article} {name} key"))
                }
                None => {
                    let family = family_of(&values);
                    (family, format!("the values are {}", family_plural(family)))
                }
            };
            let base = compare_operator(scope, *op, *op_span, family, &why)?;
            let prefix = match quantifier {
                Some(Quantifier::Any) => "ForAnyValue:",
                Some(Quantifier::All) => "ForAllValues:",
                None => "",
            };
            (format!("{prefix}{base}{suffix}"), texts(values))
        }
        ConditionKind::Explicit {
            operator,
            op_span,
            value,
        } => {
            if !is_operator(operator) {
                let help = operator_help(operator);
                scope.push(
                    Diagnostic::new(
                        Code::UnknownOperator,
                        format!("unknown condition operator `{operator}`"),
                    )
                    .at(*op_span, "not an IAM condition operator")
                    .help(help),
                );
                return None;
            }
            let values = condition_values(scope, value)?;
            (operator.clone(), texts(values))
        }
    };
    if values.is_empty() {
        scope.push(
            Diagnostic::new(
                Code::EmptyList,
                format!("`{key}` is compared with no values"),
            )
            .at(c.span, "an empty list matches nothing")
            .help("give at least one value"),
        );
        return None;
    }
    Some(iam::Condition {
        operator,
        key,
        values,
        span: Some(c.span),
        key_span: Some(c.key.span),
    })
}

fn trust_statement(scope: &Scope, s: &TrustStatement) -> Option<iam::Statement> {
    let sid = attributes(scope, &s.attributes);
    let mut kinds: IndexMap<String, Vec<Spanned<String>>> = IndexMap::new();
    let mut anyone: Option<Span> = None;
    let mut federated_saml = false;
    let mut ok = true;
    for principal in &s.principals {
        let span = principal.span();
        let mut add = |kind: &str, value: String| {
            kinds
                .entry(kind.to_string())
                .or_default()
                .push(Spanned::new(value, Some(span)));
        };
        match principal {
            TrustPrincipal::Service(name, _) => match scope.expand(name) {
                Some(name) => add("Service", name),
                None => ok = false,
            },
            TrustPrincipal::Federated(name, _) => match scope.expand(name) {
                Some(name) => {
                    federated_saml |= name.contains(":saml-provider/");
                    add("Federated", name);
                }
                None => ok = false,
            },
            TrustPrincipal::Account(value, _) => {
                let account = match value {
                    None => scope.account(span),
                    Some(v) => scope.value(v).and_then(|v| v.text()),
                };
                match account {
                    Some(a) if a.starts_with("arn:") => add("AWS", a),
                    Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => {
                        let partition = scope.partition();
                        add("AWS", format!("arn:{partition}:iam::{a}:root"));
                    }
                    Some(a) => {
                        scope.push(
                            Diagnostic::new(
                                Code::InvalidAccount,
                                format!("`{a}` is not an AWS account id"),
                            )
                            .at(span, "expected 12 digits")
                            .help("an account id is twelve digits, like `123456789012`"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            TrustPrincipal::Role(ident, _) | TrustPrincipal::User(ident, _) => {
                let kind = if matches!(principal, TrustPrincipal::Role(..)) {
                    EntityKind::Role
                } else {
                    EntityKind::User
                };
                match scope
                    .entity(ident, &[kind])
                    .and_then(|d| scope.decl_arn(&d, ident.span))
                {
                    Some(arn) => add("AWS", arn),
                    None => ok = false,
                }
            }
            TrustPrincipal::Anyone(span) => anyone = Some(*span),
            TrustPrincipal::Arn(text) => match scope.expand(text) {
                Some(arn) if arn.contains(":saml-provider/") => {
                    federated_saml = true;
                    add("Federated", arn);
                }
                Some(arn) if arn.contains(":oidc-provider/") => add("Federated", arn),
                Some(arn) => add("AWS", arn),
                None => ok = false,
            },
        }
    }
    let principal = match anyone {
        Some(span) if kinds.is_empty() => iam::Principal::Any(Some(span)),
        Some(span) => {
            kinds
                .entry("AWS".to_string())
                .or_default()
                .push(Spanned::new("*".to_string(), Some(span)));
            iam::Principal::Kinds(kinds.clone())
        }
        None => iam::Principal::Kinds(kinds.clone()),
    };
    let action = match &s.actions {
        Some(items) => action_block(scope, s.not_action, items),
        None => {
            let default = if federated_saml {
                "sts:AssumeRoleWithSAML"
            } else if kinds.contains_key("Federated") {
                "sts:AssumeRoleWithWebIdentity"
            } else {
                "sts:AssumeRole"
            };
            Some(Block {
                not: false,
                values: vec![Spanned::new(default.to_string(), Some(s.effect_span))],
                span: Some(s.effect_span),
            })
        }
    };
    // AWS accepts `NotPrincipal` only in a `Deny`, as the JSON reader says too.
    if s.not_principal && s.effect == ast::Effect::Allow {
        scope.push(
            Diagnostic::new(
                Code::SettingNotAllowed,
                "`allow not` (`NotPrincipal`) is supported only with `deny`",
            )
            .at(s.effect_span, "`allow` here")
            .help("name the principals to allow instead: `allow account \"111122223333\" to …`"),
        );
        ok = false;
    }
    // `on RESOURCES`: a resource-based policy's statements only.
    let resource = match &s.resource {
        Some(clause) => {
            let block = resources(scope, clause);
            ok &= block.is_some();
            block
        }
        None => None,
    };
    let conditions = conditions(scope, &s.conditions);
    if !ok {
        return None;
    }
    Some(iam::Statement {
        sid,
        effect: effect(s.effect, s.effect_span),
        principal: Some(principal),
        not_principal: s.not_principal,
        action: Some(action?),
        resource,
        conditions: conditions?,
        span: Some(s.span),
        docs: s.docs.clone(),
    })
}

/// `as "arn:…"`, `as federated NAME`, `as service NAME`: the caller, checked. An ARN must name a
/// principal (a user, a role, a role session or an account's root); a federated caller is an
/// identity provider (`cognito-identity.amazonaws.com`, an OIDC host, or a SAML or OIDC
/// provider's ARN); a service is a service principal.
fn outside_caller(scope: &Scope, kind: ast::OutsideKind, value: &Str) -> Option<iam::Caller> {
    let text = scope.expand(value)?;
    let problem = match kind {
        ast::OutsideKind::Arn => {
            let parts: Vec<&str> = text.splitn(6, ':').collect();
            match parts.as_slice() {
                ["arn", _, "iam", "", account, resource]
                    if account.len() == 12
                        && (*resource == "root"
                            || resource.starts_with("user/")
                            || resource.starts_with("role/")) =>
                {
                    None
                }
                ["arn", _, "sts", "", account, resource]
                    if account.len() == 12
                        && (resource.starts_with("assumed-role/")
                            || resource.starts_with("federated-user/")) =>
                {
                    None
                }
                _ => Some(
                    "a caller is the ARN of a user, a role, a role session or an account's `root`",
                ),
            }
        }
        ast::OutsideKind::Federated | ast::OutsideKind::Service
            if text.is_empty() || text.contains(char::is_whitespace) =>
        {
            Some("a name without spaces is expected")
        }
        ast::OutsideKind::Service if text.starts_with("arn:") => {
            Some("a service principal is a name like `lambda.amazonaws.com`, not an ARN")
        }
        _ => None,
    };
    if let Some(problem) = problem {
        scope.push(
            Diagnostic::new(Code::TestPrincipal, format!("`{text}` cannot make a request"))
                .at(value.span, problem)
                .help("write `as \"arn:aws:iam::111122223333:role/Auditor\"`, `as federated token.actions.githubusercontent.com` or `as service lambda.amazonaws.com`"),
        );
        return None;
    }
    Some(iam::Caller::Outside(kind, text))
}

/// Lowers the entries of a `test` block, keeping the principal and the `given`s in force.
struct TestLowering<'s, 'a> {
    scope: &'s Scope<'a>,
    principal: Option<iam::Caller>,
    /// An `as` named no known principal: it is reported once, not at every expectation after it.
    bad_as: bool,
    attached: Vec<Spanned<String>>,
    statements: Vec<iam::Statement>,
    expectations: Vec<iam::Expectation>,
}

impl TestLowering<'_, '_> {
    fn entries(&mut self, entries: &[TestEntry]) {
        let outer = (self.principal.clone(), self.bad_as);
        for entry in entries {
            match entry {
                TestEntry::As { kind, name, .. } => {
                    let (entity, kind) = match kind {
                        ast::PrincipalKind::Role => (EntityKind::Role, iam::PrincipalKind::Role),
                        _ => (EntityKind::User, iam::PrincipalKind::User),
                    };
                    if self.scope.entity(name, &[entity]).is_some() {
                        self.principal = Some(iam::Caller::Principal(kind, name.name.clone()));
                        self.bad_as = false;
                    } else {
                        self.principal = None;
                        self.bad_as = true;
                    }
                }
                TestEntry::AsOutside { kind, value, .. } => {
                    self.principal = outside_caller(self.scope, *kind, value);
                    self.bad_as = self.principal.is_none();
                }
                TestEntry::Expect(e) => self.expect(e),
                TestEntry::Given {
                    subject, entries, ..
                } => {
                    let (attached, statements) = (self.attached.len(), self.statements.len());
                    match subject {
                        GivenSubject::Attached(policy) => {
                            if let Some((arn, _)) = self
                                .scope
                                .policy_ref(policy, &[EntityKind::Policy, EntityKind::Boundary])
                            {
                                self.attached.push(Spanned::new(arn, Some(policy.span())));
                            }
                        }
                        GivenSubject::Statement(s) => {
                            self.statements.extend(statement(self.scope, s, true));
                        }
                    }
                    self.entries(entries);
                    self.attached.truncate(attached);
                    self.statements.truncate(statements);
                }
            }
        }
        (self.principal, self.bad_as) = outer;
    }

    fn expect(&mut self, e: &ast::Expectation) {
        let scope = self.scope;
        let Some(principal) = self.principal.clone() else {
            if self.bad_as {
                return; // the `as` is reported already
            }
            scope.push(
                Diagnostic::new(
                    Code::TestWithoutPrincipal,
                    "this expectation has no principal",
                )
                .at(e.span, "who makes this request?")
                .help("say who does, before the expectations: `as user NAME` or `as role NAME`"),
            );
            return;
        };
        let outcome = match e.outcome {
            ast::Outcome::Allow => iam::Outcome::Allow,
            ast::Outcome::Deny => iam::Outcome::Deny,
            ast::Outcome::ExplicitDeny => iam::Outcome::ExplicitDeny,
            ast::Outcome::ImplicitDeny => iam::Outcome::ImplicitDeny,
        };
        let Some(actions) = scope.actions(&e.actions) else {
            return;
        };
        let resource = match &e.resource {
            None | Some(ResourceItem::Any(_)) => Some("*".to_string()),
            Some(ResourceItem::Str(s)) => scope.expand(s),
            Some(ResourceItem::Entity(entity)) => scope.entity_arn(entity),
            Some(ResourceItem::Name(n)) => match scope.value_of(n) {
                Some(Val::Str(s) | Val::Arn(s)) => Some(s),
                Some(other) => {
                    scope.push(
                        Diagnostic::new(
                            Code::WrongValueType,
                            format!("a request's resource is one ARN, not {}", other.describe()),
                        )
                        .at(n.span, "expected one ARN"),
                    );
                    None
                }
                None => None,
            },
        };
        let context = self.context(&e.context);
        let (Some(resource), Some(context)) = (resource, context) else {
            return;
        };
        for (action, span) in actions {
            if action.contains(['*', '?']) {
                scope.push(
                    Diagnostic::new(
                        Code::TestActionPattern,
                        format!("`{action}` is a pattern, not one action"),
                    )
                    .at(span, "a request has one action")
                    .help("name each action the test makes: `expect allow s3:GetObject, s3:PutObject on …`"),
                );
                continue;
            }
            // A misspelled action is always denied: `expect deny` would pass and prove nothing.
            let checked = crate::check::aws::unknown_actions(&Block {
                not: false,
                values: vec![Spanned::new(action.clone(), Some(span))],
                span: Some(span),
            });
            if !checked.is_empty() {
                for d in checked {
                    scope.push(d);
                }
                continue;
            }
            self.expectations.push(iam::Expectation {
                principal: principal.clone(),
                outcome,
                action: canonical_action(action),
                resource: resource.clone(),
                context: context.clone(),
                attached: self.attached.clone(),
                statements: self.statements.clone(),
                span: Some(e.span),
                outcome_span: Some(e.outcome_span),
            });
        }
    }

    /// The request context an expectation sets: `key == value`, `key == [a, b]`, `key`,
    /// `not key`.
    fn context(&self, conditions: &[ast::Condition]) -> Option<Vec<(String, Vec<String>)>> {
        let mut out = Vec::new();
        let mut ok = true;
        for c in conditions {
            let values = match &c.kind {
                ConditionKind::Compare {
                    quantifier: None,
                    op: CompareOp::Eq | CompareOp::In,
                    value,
                    ..
                } if !c.if_exists => condition_values(self.scope, value)
                    .map(|vs| vs.into_iter().filter_map(|(v, _)| v.text()).collect()),
                ConditionKind::Bool { negated } if !c.if_exists => {
                    Some(vec![(!negated).to_string()])
                }
                _ => {
                    self.scope.push(
                        Diagnostic::new(
                            Code::TestContextForm,
                            "a test's `when` sets the request's context",
                        )
                        .at(c.span, "not a value for the request")
                        .help("give each key its value: `key == \"value\"`, `key == [\"a\", \"b\"]`, or a bare Bool key (`aws:SecureTransport`, `not aws:SecureTransport`)"),
                    );
                    None
                }
            };
            match values {
                Some(v) => out.push((c.key.name.clone(), v)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}
