//! Output formats. Only this module decides file names and layouts.

pub mod account;
pub mod cloudformation;
pub mod names;
pub mod terraform;

use serde_json::{json, Map, Value};

use crate::iam::{self, Project};

/// What `iamx build --target` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// The policy documents and `manifest.json`, at the top of the output directory.
    Json,
    /// `cloudformation/template.json`.
    CloudFormation,
    /// `terraform/main.tf.json`.
    Terraform,
    /// `account/authorization-details.json`: the project as `get-account-authorization-details`
    /// prints an account.
    Account,
}

/// What the targets need beyond the compilation's own checks: CloudFormation's quotas
/// (E1101), and with either deployment back end, a creation order for trust (W1103).
pub fn check(project: &Project, targets: &[Target]) -> Vec<crate::diag::Diagnostic> {
    let mut out = Vec::new();
    if targets.contains(&Target::Account) && project.account.is_none() {
        let mut d = crate::diag::Diagnostic::new(
            crate::diag::Code::NoAccount,
            "`--target account` needs the account: the snapshot names every principal and policy by ARN",
        )
        .help("declare it: `account \"123456789012\"`, or take it from the command line: `param account`");
        let first = project
            .principals
            .iter()
            .find_map(|p| p.name_span.or(p.span).map(|s| (s, &p.name)))
            .or_else(|| {
                project
                    .policies
                    .iter()
                    .find_map(|p| p.span.map(|s| (s, &p.name)))
            });
        if let Some((span, name)) = first {
            d = d.at(span, format!("`{name}` has no ARN without it"));
        }
        out.push(d);
    }
    if targets.contains(&Target::CloudFormation) {
        out.extend(cloudformation::check(project));
    }
    if targets
        .iter()
        .any(|&t| matches!(t, Target::CloudFormation | Target::Terraform))
    {
        let (_, dropped) = names::trust_dependencies(project);
        for (truster, trusted) in dropped {
            let (a, b) = (&project.principals[truster], &project.principals[trusted]);
            let mut d = crate::diag::Diagnostic::new(
                crate::diag::Code::TrustCycle,
                format!(
                    "{} `{}` trusts {} `{}`, which trusts it back: a new stack cannot create either first",
                    a.kind.as_str(),
                    a.name,
                    b.kind.as_str(),
                    b.name
                ),
            )
            .help("IAM refuses a trust policy naming a principal that does not exist yet: create one of them first, or trust the account (`allow account`) with a condition on `aws:PrincipalArn`");
            if let Some(span) = a.name_span.or(a.span) {
                d = d.at(span, format!("trusts `{}`", b.name));
            }
            if let Some(span) = b.name_span.or(b.span) {
                d = d.with_label(span, format!("trusts `{}`", a.name));
            }
            out.push(d);
        }
    }
    out
}

/// The files of the given targets, in the order the targets are listed (each target once).
pub fn files_for(project: &Project, targets: &[Target]) -> Vec<Artifact> {
    let mut out = Vec::new();
    let mut done: Vec<Target> = Vec::new();
    for &target in targets {
        if done.contains(&target) {
            continue;
        }
        done.push(target);
        match target {
            Target::Json => out.extend(files(project)),
            Target::CloudFormation => {
                out.extend(cloudformation::templates(project).into_iter().map(
                    |(path, template)| Artifact {
                        path,
                        contents: iam::json::pretty(&template),
                    },
                ))
            }
            Target::Terraform => out.push(Artifact {
                path: terraform::PATH.into(),
                contents: iam::json::pretty(&terraform::module(project)),
            }),
            // Without an account, `check` has already stopped the build.
            Target::Account => out.extend(account::snapshot(project).map(|s| Artifact {
                path: account::PATH.into(),
                contents: iam::json::pretty(&s),
            })),
        }
    }
    out
}

/// One file to write: a path relative to the output directory (`/`-separated) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub path: String,
    pub contents: String,
}

/// Every policy document, then `manifest.json`, each as pretty JSON with a final newline.
pub fn files(project: &Project) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = project
        .documents
        .iter()
        .map(|d| Artifact {
            path: d.file.clone(),
            contents: iam::json::pretty(&iam::json::policy(&d.policy)),
        })
        .collect();
    out.push(Artifact {
        path: "manifest.json".into(),
        contents: iam::json::pretty(&manifest(project)),
    });
    out
}

/// Who is who: every principal with its boundary, attachments and files; every managed policy.
pub fn manifest(project: &Project) -> Value {
    let principals: Vec<Value> = project
        .principals
        .iter()
        .map(|p| {
            let mut object = Map::new();
            object.insert("kind".into(), json!(p.kind.as_str()));
            object.insert("name".into(), json!(p.name));
            object.insert("path".into(), json!(p.path));
            object.insert("arn".into(), json!(p.arn));
            if p.kind != iam::PrincipalKind::Group {
                object.insert(
                    "boundary".into(),
                    json!(p.boundary.as_ref().map(|b| b.value.clone())),
                );
            }
            object.insert(
                "attached".into(),
                json!(p
                    .attached
                    .iter()
                    .map(|a| a.value.clone())
                    .collect::<Vec<_>>()),
            );
            if p.kind == iam::PrincipalKind::User {
                object.insert("groups".into(), json!(p.groups));
            }
            if p.kind != iam::PrincipalKind::Group {
                object.insert(
                    "tags".into(),
                    Value::Object(p.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
                );
            }
            if let Some(description) = &p.description {
                object.insert("description".into(), json!(description));
            }
            let mut inline = Map::new();
            let mut trust = None;
            for &i in &p.documents {
                let document = &project.documents[i];
                if document.kind == iam::DocumentKind::Trust {
                    trust = Some(document.file.clone());
                } else {
                    inline.insert(document.name.clone(), json!(document.file));
                }
            }
            object.insert("inline_policies".into(), Value::Object(inline));
            if p.kind == iam::PrincipalKind::Role {
                object.insert("trust_policy".into(), json!(trust));
                if let Some(seconds) = p.max_session {
                    object.insert("max_session".into(), json!(seconds));
                }
                if let Some(profile) = &p.instance_profile {
                    object.insert("instance_profile".into(), json!(profile));
                }
            }
            Value::Object(object)
        })
        .collect();
    let policies: Vec<Value> = project
        .policies
        .iter()
        .map(|p| {
            let mut object = Map::new();
            object.insert(
                "kind".into(),
                json!(if p.boundary { "boundary" } else { "managed" }),
            );
            object.insert("name".into(), json!(p.name));
            object.insert("path".into(), json!(p.path));
            object.insert("arn".into(), json!(p.arn));
            if let Some(description) = &p.description {
                object.insert("description".into(), json!(description));
            }
            object.insert("file".into(), json!(project.documents[p.document].file));
            Value::Object(object)
        })
        .collect();
    let mut object = Map::new();
    object.insert("account".into(), json!(project.account));
    object.insert("partition".into(), json!(project.partition));
    object.insert("principals".into(), Value::Array(principals));
    object.insert("policies".into(), Value::Array(policies));
    // Resource-based policies belong to their resources: listed only when the project has any.
    let resource: Vec<Value> = project
        .documents
        .iter()
        .filter(|d| d.kind == iam::DocumentKind::Resource)
        .map(|d| json!({"name": d.name, "file": d.file}))
        .collect();
    if !resource.is_empty() {
        object.insert("resource_policies".into(), Value::Array(resource));
    }
    Value::Object(object)
}

/// Everything in one JSON value, for `-o -`: the manifest and every document by its path.
pub fn bundle(project: &Project) -> String {
    let mut documents = Map::new();
    for d in &project.documents {
        documents.insert(d.file.clone(), iam::json::policy(&d.policy));
    }
    let mut object = Map::new();
    object.insert("manifest".into(), manifest(project));
    object.insert("documents".into(), Value::Object(documents));
    iam::json::pretty(&Value::Object(object))
}
