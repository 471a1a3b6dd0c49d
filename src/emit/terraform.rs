//! The Terraform back end: `terraform/main.tf.json`, in Terraform's JSON syntax, usable as a
//! module.
//!
//! Every string in a `.tf.json` file is a template, so every literal is written with `${` as
//! `$${` and `%{` as `%%{`: IAM policy variables (`${aws:username}`) reach AWS unchanged. Policy
//! documents are inline `policy` strings, compact JSON. References between resources are
//! interpolations (`${aws_iam_policy.X.arn}`), so Terraform orders creation. Attachments are
//! one `aws_iam_*_policy_attachment` each: never the deprecated `inline_policy` or
//! `managed_policy_arns` arguments, never `aws_iam_policy_attachment` (exclusive across the
//! account).

use serde_json::{json, Map, Value};

use super::names::{self, escape, PolicyRef};
use crate::iam::{self, DocumentKind, PrincipalKind, Project};

/// The module's path in the output directory.
pub const PATH: &str = "terraform/main.tf.json";

/// A literal string, escaped so that Terraform's template syntax leaves it as it is.
pub fn literal(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

/// The inverse of [`literal`]: what Terraform makes of an escaped string.
pub fn unescape(s: &str) -> String {
    s.replace("$${", "${").replace("%%{", "%{")
}

/// A resource name: the escaped IAM name, behind `_` when it starts with a digit.
pub fn name(iam_name: &str) -> String {
    let escaped = escape(iam_name);
    if escaped.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{escaped}")
    } else {
        escaped
    }
}

fn principal_type(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::Role => "aws_iam_role",
        PrincipalKind::User => "aws_iam_user",
        PrincipalKind::Group => "aws_iam_group",
    }
}

fn policy_text(policy: &iam::Policy) -> Value {
    json!(literal(&iam::json::policy(policy).to_string()))
}

/// A policy ARN as the module writes it, and the name part of its attachment's resource name.
fn arn_value(project: &Project, arn: &str) -> (Value, String) {
    match names::policy_ref(project, arn) {
        PolicyRef::Own(i, policy) => (
            json!(format!(
                "${{aws_iam_policy.{}.arn}}",
                name(&project.policies[i].name)
            )),
            escape(policy),
        ),
        PolicyRef::Aws(policy) => (json!(literal(arn)), format!("aws_{}", escape(policy))),
        PolicyRef::Other(arn) => (json!(literal(arn)), format!("arn_{}", escape(arn))),
    }
}

/// The module: its provider requirement, every resource, then an output for every ARN.
pub fn module(project: &Project) -> Value {
    // Resource types in a fixed order; each holds its resources in source order.
    let types = [
        "aws_iam_policy",
        "aws_iam_group",
        "aws_iam_group_policy",
        "aws_iam_group_policy_attachment",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_role_policy_attachment",
        "aws_iam_instance_profile",
        "aws_iam_user",
        "aws_iam_user_policy",
        "aws_iam_user_policy_attachment",
        "aws_iam_user_group_membership",
    ];
    let mut resources: Map<String, Value> = types
        .iter()
        .map(|t| (t.to_string(), Value::Object(Map::new())))
        .collect();
    let mut add = |resource_type: &str, resource_name: String, body: Map<String, Value>| {
        if let Some(Value::Object(of_type)) = resources.get_mut(resource_type) {
            of_type.insert(resource_name, Value::Object(body));
        }
    };
    let mut outputs = Map::new();
    for policy in &project.policies {
        let n = name(&policy.name);
        let mut body = Map::new();
        body.insert("name".into(), json!(literal(&policy.name)));
        body.insert("path".into(), json!(literal(&policy.path)));
        if let Some(d) = names::description(&policy.description, &policy.docs) {
            body.insert("description".into(), json!(literal(&d)));
        }
        body.insert(
            "policy".into(),
            policy_text(&project.documents[policy.document].policy),
        );
        add("aws_iam_policy", n.clone(), body);
        let kind = if policy.boundary {
            "boundary"
        } else {
            "policy"
        };
        outputs.insert(
            format!("{kind}_{}_arn", escape(&policy.name)),
            json!({ "value": format!("${{aws_iam_policy.{n}.arn}}") }),
        );
    }
    let (dependencies, _) = names::trust_dependencies(project);
    for (index, principal) in project.principals.iter().enumerate() {
        let n = name(&principal.name);
        let ty = principal_type(principal.kind);
        let word = principal.kind.as_str();
        let reference = format!("${{{ty}.{n}.name}}");
        let mut body = Map::new();
        body.insert("name".into(), json!(literal(&principal.name)));
        body.insert("path".into(), json!(literal(&principal.path)));
        if principal.kind == PrincipalKind::Role {
            if let Some(d) = names::description(&principal.description, &principal.docs) {
                body.insert("description".into(), json!(literal(&d)));
            }
            if let Some(&trust) = principal
                .documents
                .iter()
                .find(|&&i| project.documents[i].kind == DocumentKind::Trust)
            {
                let policy = &project.documents[trust].policy;
                let depends_on: Vec<String> = dependencies[index]
                    .iter()
                    .map(|&j| {
                        let other = &project.principals[j];
                        format!("{}.{}", principal_type(other.kind), name(&other.name))
                    })
                    .collect();
                body.insert("assume_role_policy".into(), policy_text(policy));
                if !depends_on.is_empty() {
                    body.insert("depends_on".into(), json!(depends_on));
                }
            }
            if let Some(seconds) = principal.max_session {
                body.insert("max_session_duration".into(), json!(seconds));
            }
        }
        if let Some(boundary) = &principal.boundary {
            body.insert(
                "permissions_boundary".into(),
                arn_value(project, &boundary.value).0,
            );
        }
        if principal.kind != PrincipalKind::Group && !principal.tags.is_empty() {
            let tags: Map<String, Value> = principal
                .tags
                .iter()
                .map(|(k, v)| (literal(k), json!(literal(v))))
                .collect();
            body.insert("tags".into(), Value::Object(tags));
        }
        add(ty, n.clone(), body);
        for &i in &principal.documents {
            let document = &project.documents[i];
            if document.kind == DocumentKind::Trust {
                continue;
            }
            let mut body = Map::new();
            body.insert("name".into(), json!(literal(&document.name)));
            body.insert(word.into(), json!(reference));
            body.insert("policy".into(), policy_text(&document.policy));
            add(
                &format!("{ty}_policy"),
                format!("{n}_{}", escape(&document.name)),
                body,
            );
        }
        for attached in &principal.attached {
            let (arn, part) = arn_value(project, &attached.value);
            let mut body = Map::new();
            body.insert(word.into(), json!(reference));
            body.insert("policy_arn".into(), arn);
            add(
                &format!("{ty}_policy_attachment"),
                format!("{n}_{part}"),
                body,
            );
        }
        if principal.kind == PrincipalKind::User && !principal.groups.is_empty() {
            let groups: Vec<Value> = principal
                .groups
                .iter()
                .map(|g| match names::group(project, g) {
                    Some(group) => json!(format!("${{aws_iam_group.{}.name}}", name(&group.name))),
                    None => json!(literal(g)),
                })
                .collect();
            let mut body = Map::new();
            body.insert("user".into(), json!(reference));
            body.insert("groups".into(), Value::Array(groups));
            add("aws_iam_user_group_membership", n.clone(), body);
        }
        outputs.insert(
            format!("{word}_{}_arn", escape(&principal.name)),
            json!({ "value": format!("${{{ty}.{n}.arn}}") }),
        );
        if let Some(profile) = &principal.instance_profile {
            let mut body = Map::new();
            body.insert("name".into(), json!(literal(profile)));
            body.insert("path".into(), json!(literal(&principal.path)));
            body.insert("role".into(), json!(reference));
            add("aws_iam_instance_profile", n.clone(), body);
            outputs.insert(
                format!("instance_profile_{}_arn", escape(&principal.name)),
                json!({ "value": format!("${{aws_iam_instance_profile.{n}.arn}}") }),
            );
        }
    }
    resources.retain(|_, v| v.as_object().is_some_and(|o| !o.is_empty()));
    let mut module = Map::new();
    module.insert(
        "terraform".into(),
        json!({ "required_providers": { "aws": { "source": "hashicorp/aws", "version": ">= 4.0" } } }),
    );
    if !resources.is_empty() {
        module.insert("resource".into(), Value::Object(resources));
    }
    if !outputs.is_empty() {
        module.insert("output".into(), Value::Object(outputs));
    }
    Value::Object(module)
}
