//! `iamx import --account`: an account snapshot written as an `.iamx` project.
//!
//! Every customer managed policy (its default version, description) and boundary, and every
//! user, group and role with its path, tags, boundary, attachments, inline policies, groups and
//! trust policy, and a role's description, `max session` and instance profile. Each document
//! goes through [`crate::import::import`], so it is proved to build to the snapshot's JSON, or
//! refused; AWS managed policies are written `aws NAME`; the account is the snapshot's. What
//! iamx cannot write is reported: names iamx cannot spell and documents it cannot say exactly
//! are errors (nothing is written); the versions of a policy besides its default, a role's
//! instance profiles besides the one it holds, and a description with control characters are
//! a note (W0808).

use crate::ast::{self, Entry, Ident, Item, PolicyRef, Str};
use crate::diag::{self, Code, Diagnostic};
use crate::iam::from_json::JsonKind;
use crate::iam::{self, DocumentKind, PrincipalKind, Project};
use crate::import::{self, ImportOptions};
use crate::source::{FileId, SourceMap, Span};
use crate::Source;

/// The project's files, by name, and the diagnostics; no files when an error was found.
pub struct Imported {
    pub sources: SourceMap,
    pub files: Option<Vec<(String, String)>>,
    pub diagnostics: Vec<Diagnostic>,
}

fn nowhere() -> Span {
    Span::new(FileId(0), 0, 0)
}

fn str_(text: &str, account: Option<&str>) -> Str {
    Str {
        raw: import::escape(text, account),
        span: nowhere(),
    }
}

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: nowhere(),
    }
}

/// Reads the snapshots and writes the account as a project.
pub fn import_account(sources: Vec<Source>) -> Imported {
    let (mut map, project, mut diagnostics) = crate::account::read(sources);
    let Some(project) = project else {
        return Imported {
            sources: map,
            files: None,
            diagnostics,
        };
    };
    let files = write(&mut map, &project, &mut diagnostics);
    diag::sort(&mut diagnostics);
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    Imported {
        sources: map,
        files: files.filter(|_| !failed),
        diagnostics,
    }
}

/// A name iamx can write as an identifier.
fn spellable(
    name: &str,
    what: &str,
    span: Option<Span>,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    if crate::format::is_ident(name) {
        return true;
    }
    let mut d = Diagnostic::new(
        Code::AccountImportInexact,
        format!("{what} `{name}` has a name iamx cannot write"),
    )
    .help("iamx names hold letters, digits and `_-.+`, and start with a letter or `_`: rename it in the account, or leave it out of the snapshot");
    if let Some(span) = span {
        d = d.at(span, "this name");
    }
    diagnostics.push(d);
    false
}

/// One document through `iamx import`: the item it becomes.
fn document(
    map: &mut SourceMap,
    project: &Project,
    index: usize,
    name: &str,
    kind: JsonKind,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Item> {
    let doc = &project.documents[index];
    let text = iam::json::pretty(&iam::json::policy(&doc.policy));
    let id = map.add(format!("{} (as written)", doc.file), text.clone());
    let options = ImportOptions {
        name: name.to_string(),
        kind: Some(kind),
        account: project.account.clone(),
    };
    match import::import(id, &text, &options) {
        Ok((item, _warnings)) => Some(item),
        Err(found) => {
            for mut d in found {
                // Point at the document in the snapshot, where there is one.
                if let Some(span) = doc.span {
                    d = d.with_label(span, "the document in the snapshot");
                }
                diagnostics.push(d);
            }
            None
        }
    }
}

/// A `description "…"` entry, or a note (W0808) when iamx cannot write it: a string holds
/// no control characters besides newlines and tabs.
fn description(
    text: Option<&str>,
    what: &str,
    span: Option<Span>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Entry> {
    let text = text?;
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Some(Entry::Description(str_(text, None), nowhere()));
    }
    let mut d = Diagnostic::new(
        Code::AccountImportLoss,
        format!("{what} has a description iamx cannot write; it is left out"),
    )
    .help("an iamx string holds no control characters besides newlines and tabs: add the description to the project without them");
    if let Some(span) = span {
        d = d.at(span, "its description holds a control character");
    }
    diagnostics.push(d);
    None
}

/// A session duration as one writes it: `12h`, `90m`, or seconds.
fn duration(seconds: u32) -> String {
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        seconds.to_string()
    }
}

/// The instance profiles of a role that iamx does not write (W0808): a role holds one, at its
/// own path.
fn other_profiles(project: &Project, p: &iam::PrincipalInfo, diagnostics: &mut Vec<Diagnostic>) {
    let lost: Vec<&iam::OtherProfile> = project
        .other_profiles
        .iter()
        .filter(|o| p.arn.as_deref() == Some(o.role.as_str()))
        .collect();
    if lost.is_empty() {
        return;
    }
    let named = lost
        .iter()
        .map(|o| {
            if o.path != p.path {
                format!("`{}` at path `{}`", o.name, o.path)
            } else {
                format!("`{}`", o.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let kept = match &p.instance_profile {
        Some(name) => format!("iamx writes `{name}`"),
        None => "iamx writes none".to_string(),
    };
    let mut d = Diagnostic::new(
        Code::AccountImportLoss,
        format!(
            "role `{}` is in instance profiles iamx does not write ({named}); {kept}",
            p.name
        ),
    )
    .help("an iamx role has one instance profile, at the role's path: deploying the project leaves the others in the account as they are");
    if let Some(span) = p.name_span {
        d = d.at(span, "this role");
    }
    for o in &lost {
        if let Some(span) = o.span {
            d = d.with_label(span, "not written");
        }
    }
    diagnostics.push(d);
}

fn policy_ref(project: &Project, arn: &str) -> PolicyRef {
    if let Some(rest) = arn.split_once(":iam::aws:policy/").map(|(_, r)| r) {
        return PolicyRef::Aws(rest.to_string(), nowhere());
    }
    match project
        .policies
        .iter()
        .find(|p| p.arn.as_deref() == Some(arn))
    {
        Some(p) => PolicyRef::Name(ident(&p.name)),
        None => PolicyRef::Arn(str_(arn, project.account.as_deref())),
    }
}

fn write(
    map: &mut SourceMap,
    project: &Project,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<(String, String)>> {
    let account = project.account.as_deref();
    let mut policies = Vec::new();
    for p in &project.policies {
        if !spellable(&p.name, "policy", p.span, diagnostics) {
            continue;
        }
        let kind = if p.boundary {
            JsonKind::Boundary
        } else {
            JsonKind::Identity
        };
        let Some(mut item) = document(map, project, p.document, &p.name, kind, diagnostics) else {
            continue;
        };
        if let Item::Policy(policy) = &mut item {
            let mut at = 0;
            if p.path != "/" {
                policy
                    .entries
                    .insert(at, Entry::Path(str_(&p.path, account), nowhere()));
                at += 1;
            }
            let what = format!("policy `{}`", p.name);
            if let Some(d) = description(p.description.as_deref(), &what, p.span, diagnostics) {
                policy.entries.insert(at, d);
            }
        }
        let others = project
            .other_versions
            .iter()
            .filter(|(arn, _, _)| p.arn.as_deref() == Some(arn.as_str()))
            .map(|(_, id, _)| format!("`{id}`"))
            .collect::<Vec<_>>();
        if !others.is_empty() {
            let mut d = Diagnostic::new(
                Code::AccountImportLoss,
                format!(
                    "policy `{}` has versions besides its default ({}); iamx writes the default",
                    p.name,
                    others.join(", ")
                ),
            )
            .help("a project states one document per policy: deploying it makes that the default version, and the others stay as they are in the account");
            if let Some(span) = p.span {
                d = d.at(span, "this policy");
            }
            diagnostics.push(d);
        }
        policies.push(item);
    }
    let mut by_kind: [Vec<Item>; 3] = Default::default();
    for p in &project.principals {
        let what = p.kind.as_str();
        if !spellable(&p.name, what, p.name_span, diagnostics) {
            continue;
        }
        let mut entries = Vec::new();
        if p.path != "/" {
            entries.push(Entry::Path(str_(&p.path, account), nowhere()));
        }
        let named = format!("{what} `{}`", p.name);
        entries.extend(description(
            p.description.as_deref(),
            &named,
            p.name_span,
            diagnostics,
        ));
        if let Some(b) = &p.boundary {
            entries.push(Entry::Boundary(policy_ref(project, &b.value), nowhere()));
        }
        let attached: Vec<PolicyRef> = p
            .attached
            .iter()
            .filter(|a| !a.value.contains(":group/"))
            .map(|a| policy_ref(project, &a.value))
            .collect();
        if !attached.is_empty() {
            entries.push(Entry::Attach(attached, nowhere()));
        }
        if !p.groups.is_empty() {
            entries.push(Entry::Groups(
                p.groups.iter().map(|g| ident(g)).collect(),
                nowhere(),
            ));
        }
        if !p.tags.is_empty() {
            entries.push(Entry::Tags(
                p.tags
                    .iter()
                    .map(|(k, v)| ast::Tag {
                        key: str_(k, None),
                        value: str_(v, None),
                        span: nowhere(),
                    })
                    .collect(),
                nowhere(),
            ));
        }
        // The settings first (the trust policy, the session, the instance profile), then the
        // inline policies.
        let mut ok = true;
        let mut inline = Vec::new();
        for &i in &p.documents {
            let d = &project.documents[i];
            if d.kind == DocumentKind::Trust {
                match document(map, project, i, &p.name, JsonKind::Trust, diagnostics) {
                    Some(Item::Principal(role)) => entries.extend(role.entries),
                    _ => ok = false,
                }
                continue;
            }
            if !spellable(&d.name, "inline policy", d.span, diagnostics) {
                ok = false;
                continue;
            }
            match document(map, project, i, &d.name, JsonKind::Identity, diagnostics) {
                Some(Item::Policy(policy)) => {
                    let statements = policy
                        .entries
                        .into_iter()
                        .filter_map(|e| match e {
                            Entry::Statement(s) => Some(s),
                            _ => None,
                        })
                        .collect();
                    inline.push(Entry::Policy(ast::InlinePolicy {
                        docs: Vec::new(),
                        attributes: Vec::new(),
                        name: ident(&d.name),
                        statements,
                        span: nowhere(),
                    }));
                }
                _ => ok = false,
            }
        }
        if let Some(seconds) = p.max_session {
            entries.push(Entry::MaxSession(duration(seconds), nowhere(), nowhere()));
        }
        if let Some(profile) = &p.instance_profile {
            // A profile named like the role is written without its name.
            let name = (profile != &p.name).then(|| str_(profile, None));
            entries.push(Entry::InstanceProfile(name, nowhere()));
        }
        other_profiles(project, p, diagnostics);
        entries.extend(inline);
        if !ok {
            continue;
        }
        let (kind, slot) = match p.kind {
            PrincipalKind::Group => (ast::PrincipalKind::Group, 0),
            PrincipalKind::User => (ast::PrincipalKind::User, 1),
            PrincipalKind::Role => (ast::PrincipalKind::Role, 2),
        };
        by_kind[slot].push(Item::Principal(ast::PrincipalItem {
            docs: Vec::new(),
            attributes: Vec::new(),
            kind,
            name: ident(&p.name),
            entries,
            span: nowhere(),
        }));
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return None;
    }
    let mut files = vec![(
        "account.iamx".to_string(),
        import::print(Vec::new(), account),
    )];
    let [groups, users, roles] = by_kind;
    for (name, items) in [
        ("policies.iamx", policies),
        ("groups.iamx", groups),
        ("users.iamx", users),
        ("roles.iamx", roles),
    ] {
        if !items.is_empty() {
            files.push((name.to_string(), import::print(items, None)));
        }
    }
    Some(files)
}
