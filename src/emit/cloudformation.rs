//! The CloudFormation back end: one template, `cloudformation/template.json`.
//!
//! Policies and boundaries are `AWS::IAM::ManagedPolicy`; roles, users and groups are
//! `AWS::IAM::Role`, `AWS::IAM::User` and `AWS::IAM::Group`, naming the template's own
//! policies and groups with `Ref` so that CloudFormation creates them first. Strings are
//! written as they are: no `Fn::Sub` touches them, so IAM policy variables (`${aws:username}`)
//! reach AWS unchanged.

use serde_json::{json, Map, Value};

use super::names::{self, escape, PolicyRef};
use crate::iam::{self, DocumentKind, ManagedPolicyInfo, PrincipalInfo, PrincipalKind, Project};

/// The template's path in the output directory.
pub const PATH: &str = "cloudformation/template.json";

/// The logical ID of a managed policy or boundary.
pub fn policy_id(policy: &ManagedPolicyInfo) -> String {
    let kind = if policy.boundary {
        "Boundary"
    } else {
        "Policy"
    };
    format!("{kind}{}", escape(&policy.name))
}

/// The logical ID of a role, user or group.
pub fn principal_id(kind: PrincipalKind, name: &str) -> String {
    let kind = match kind {
        PrincipalKind::Role => "Role",
        PrincipalKind::User => "User",
        PrincipalKind::Group => "Group",
    };
    format!("{kind}{}", escape(name))
}

/// A policy ARN as the template writes it: `Ref` for its own policies, the ARN otherwise.
fn arn_value(project: &Project, arn: &str) -> Value {
    match names::policy_ref(project, arn) {
        PolicyRef::Own(i, _) => json!({ "Ref": policy_id(&project.policies[i]) }),
        PolicyRef::Aws(_) | PolicyRef::Other(_) => json!(arn),
    }
}

fn tags(principal: &PrincipalInfo) -> Value {
    Value::Array(
        principal
            .tags
            .iter()
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect(),
    )
}

/// The template: every resource, then an output for every ARN.
pub fn template(project: &Project) -> Value {
    let mut resources = Map::new();
    let mut outputs = Map::new();
    for policy in &project.policies {
        let id = policy_id(policy);
        let mut properties = Map::new();
        properties.insert("ManagedPolicyName".into(), json!(policy.name));
        properties.insert("Path".into(), json!(policy.path));
        if let Some(d) = names::description(&policy.description, &policy.docs) {
            properties.insert("Description".into(), json!(d));
        }
        properties.insert(
            "PolicyDocument".into(),
            iam::json::policy(&project.documents[policy.document].policy),
        );
        resources.insert(
            id.clone(),
            json!({ "Type": "AWS::IAM::ManagedPolicy", "Properties": properties }),
        );
        outputs.insert(
            format!("{id}Arn"),
            json!({
                "Description": format!("ARN of the {} `{}`", if policy.boundary { "boundary" } else { "managed policy" }, policy.name),
                "Value": { "Ref": id },
            }),
        );
    }
    for principal in &project.principals {
        let id = principal_id(principal.kind, &principal.name);
        let (resource_type, name_key) = match principal.kind {
            PrincipalKind::Role => ("AWS::IAM::Role", "RoleName"),
            PrincipalKind::User => ("AWS::IAM::User", "UserName"),
            PrincipalKind::Group => ("AWS::IAM::Group", "GroupName"),
        };
        let mut properties = Map::new();
        properties.insert(name_key.into(), json!(principal.name));
        properties.insert("Path".into(), json!(principal.path));
        let mut depends_on: Vec<String> = Vec::new();
        if principal.kind == PrincipalKind::Role {
            if let Some(d) = names::description(&principal.description, &principal.docs) {
                properties.insert("Description".into(), json!(d));
            }
            if let Some(&trust) = principal
                .documents
                .iter()
                .find(|&&i| project.documents[i].kind == DocumentKind::Trust)
            {
                let document = iam::json::policy(&project.documents[trust].policy);
                // A trust policy may name only principals that exist: the template's own ones
                // are created first.
                let mut strings = Vec::new();
                names::strings(&document, &mut strings);
                for s in strings {
                    if let Some(other) = names::principal_by_arn(project, &s) {
                        let other = principal_id(other.kind, &other.name);
                        if other != id && !depends_on.contains(&other) {
                            depends_on.push(other);
                        }
                    }
                }
                properties.insert("AssumeRolePolicyDocument".into(), document);
            }
        }
        if principal.kind == PrincipalKind::User && !principal.groups.is_empty() {
            let groups: Vec<Value> = principal
                .groups
                .iter()
                .map(|g| match names::group(project, g) {
                    Some(group) => json!({ "Ref": principal_id(group.kind, &group.name) }),
                    None => json!(g),
                })
                .collect();
            properties.insert("Groups".into(), Value::Array(groups));
        }
        if !principal.attached.is_empty() {
            let arns: Vec<Value> = principal
                .attached
                .iter()
                .map(|a| arn_value(project, &a.value))
                .collect();
            properties.insert("ManagedPolicyArns".into(), Value::Array(arns));
        }
        if let Some(boundary) = &principal.boundary {
            properties.insert(
                "PermissionsBoundary".into(),
                arn_value(project, &boundary.value),
            );
        }
        let inline: Vec<Value> = principal
            .documents
            .iter()
            .map(|&i| &project.documents[i])
            .filter(|d| d.kind != DocumentKind::Trust)
            .map(
                |d| json!({ "PolicyName": d.name, "PolicyDocument": iam::json::policy(&d.policy) }),
            )
            .collect();
        if !inline.is_empty() {
            properties.insert("Policies".into(), Value::Array(inline));
        }
        if principal.kind != PrincipalKind::Group && !principal.tags.is_empty() {
            properties.insert("Tags".into(), tags(principal));
        }
        let mut resource = Map::new();
        resource.insert("Type".into(), json!(resource_type));
        if !depends_on.is_empty() {
            resource.insert("DependsOn".into(), json!(depends_on));
        }
        resource.insert("Properties".into(), Value::Object(properties));
        resources.insert(id.clone(), Value::Object(resource));
        outputs.insert(
            format!("{id}Arn"),
            json!({
                "Description": format!("ARN of the {} `{}`", principal.kind.as_str(), principal.name),
                "Value": { "Fn::GetAtt": [id, "Arn"] },
            }),
        );
    }
    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    template.insert(
        "Description".into(),
        json!("IAM roles, users, groups and policies written by iamx"),
    );
    template.insert("Resources".into(), Value::Object(resources));
    if !outputs.is_empty() {
        template.insert("Outputs".into(), Value::Object(outputs));
    }
    Value::Object(template)
}
