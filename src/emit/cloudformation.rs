//! The CloudFormation back end: one template, `cloudformation/template.json`.
//!
//! Policies and boundaries are `AWS::IAM::ManagedPolicy`; roles, users and groups are
//! `AWS::IAM::Role`, `AWS::IAM::User` and `AWS::IAM::Group`, naming the template's own
//! policies and groups with `Ref` so that CloudFormation creates them first. Strings are
//! written as they are: no `Fn::Sub` touches them, so IAM policy variables (`${aws:username}`)
//! reach AWS unchanged.

use serde_json::{json, Map, Value};

use super::names::{self, escape, PolicyRef};
use crate::diag::{Code, Diagnostic};
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

/// The logical ID of a role's instance profile.
pub fn instance_profile_id(role: &str) -> String {
    format!("InstanceProfile{}", escape(role))
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
    let (dependencies, _) = names::trust_dependencies(project);
    for (index, principal) in project.principals.iter().enumerate() {
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
                depends_on = dependencies[index]
                    .iter()
                    .map(|&j| {
                        let other = &project.principals[j];
                        principal_id(other.kind, &other.name)
                    })
                    .collect();
                properties.insert("AssumeRolePolicyDocument".into(), document);
            }
            if let Some(seconds) = principal.max_session {
                properties.insert("MaxSessionDuration".into(), json!(seconds));
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
        if let Some(profile) = &principal.instance_profile {
            let profile_id = instance_profile_id(&principal.name);
            resources.insert(
                profile_id.clone(),
                json!({
                    "Type": "AWS::IAM::InstanceProfile",
                    "Properties": {
                        "InstanceProfileName": profile,
                        "Path": principal.path,
                        "Roles": [{ "Ref": id }],
                    },
                }),
            );
            outputs.insert(
                format!("{profile_id}Arn"),
                json!({
                    "Description": format!("ARN of the instance profile `{profile}` of role `{}`", principal.name),
                    "Value": { "Fn::GetAtt": [profile_id, "Arn"] },
                }),
            );
        }
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

/// CloudFormation's quotas on one template: resources, outputs, the body (uploaded to S3; a
/// body given inline may hold only 51,200 bytes), and the length of a logical ID.
pub const MAX_RESOURCES: usize = 500;
pub const MAX_OUTPUTS: usize = 200;
pub const MAX_BYTES: usize = 1_000_000;
pub const MAX_ID: usize = 255;

/// The template's quotas, checked (E1101): CloudFormation would refuse the template.
pub fn check(project: &Project) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // Resources and outputs in the template's order: policies, then principals.
    let items: Vec<(String, String, Option<crate::source::Span>)> = project
        .policies
        .iter()
        .map(|p| {
            let kind = if p.boundary { "boundary" } else { "policy" };
            (policy_id(p), format!("{kind} `{}`", p.name), p.span)
        })
        .chain(project.principals.iter().flat_map(|p| {
            let principal = (
                principal_id(p.kind, &p.name),
                format!("{} `{}`", p.kind.as_str(), p.name),
                p.name_span.or(p.span),
            );
            let profile = p.instance_profile.as_ref().map(|name| {
                (
                    instance_profile_id(&p.name),
                    format!("instance profile `{name}`"),
                    p.name_span.or(p.span),
                )
            });
            std::iter::once(principal).chain(profile)
        }))
        .collect();
    let help = "deploy this project with `--target terraform`, or build it as several projects, one stack each";
    for (limit, what) in [(MAX_OUTPUTS, "outputs"), (MAX_RESOURCES, "resources")] {
        if items.len() > limit {
            let mut d = Diagnostic::new(
                Code::TemplateOverQuota,
                format!(
                    "the CloudFormation template has {} {what}, over the limit of {limit}",
                    items.len()
                ),
            )
            .help(help);
            if let Some(span) = items[limit].2 {
                d = d.at(span, format!("{} is one too many", items[limit].1));
            }
            out.push(d);
            break;
        }
    }
    for (id, what, span) in &items {
        if id.len() + "Arn".len() > MAX_ID {
            let mut d = Diagnostic::new(
                Code::TemplateOverQuota,
                format!(
                    "the CloudFormation logical ID of {what} is {} characters, over the limit of {MAX_ID}",
                    id.len() + "Arn".len()
                ),
            )
            .help("give it a shorter name, or fewer characters other than letters and digits");
            if let Some(span) = span {
                d = d.at(*span, "its name, escaped, is too long");
            }
            out.push(d);
        }
    }
    if out.is_empty() {
        let bytes = iam::json::pretty(&template(project)).len();
        if bytes > MAX_BYTES {
            out.push(
                Diagnostic::new(
                    Code::TemplateOverQuota,
                    format!(
                        "the CloudFormation template is {bytes} bytes, over the limit of {MAX_BYTES}"
                    ),
                )
                .help(help),
            );
        }
    }
    out
}
