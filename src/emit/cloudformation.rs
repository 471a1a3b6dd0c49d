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

/// A policy ARN as the template writes it: `own` for the project's policies (a `Ref`, or in
/// a nested layout the output of the stack that holds it), the ARN otherwise.
fn arn_value(project: &Project, arn: &str, own: &dyn Fn(usize) -> Value) -> Value {
    match names::policy_ref(project, arn) {
        PolicyRef::Own(i, _) => own(i),
        PolicyRef::Aws(_) | PolicyRef::Other(_) => json!(arn),
    }
}

/// A `Ref` to a policy of the same template.
fn local_ref(project: &Project) -> impl Fn(usize) -> Value + '_ {
    move |i| json!({ "Ref": policy_id(&project.policies[i]) })
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
        policy_resource(project, policy, &mut resources, &mut outputs);
    }
    principal_resources(project, &local_ref(project), &mut resources, &mut outputs);
    document(resources, outputs, None)
}

/// A template of these resources and outputs.
fn document(
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
    parameters: Option<Map<String, Value>>,
) -> Value {
    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    template.insert(
        "Description".into(),
        json!("IAM roles, users, groups and policies written by iamx"),
    );
    if let Some(parameters) = parameters.filter(|p| !p.is_empty()) {
        template.insert("Parameters".into(), Value::Object(parameters));
    }
    template.insert("Resources".into(), Value::Object(resources));
    if !outputs.is_empty() {
        template.insert("Outputs".into(), Value::Object(outputs));
    }
    Value::Object(template)
}

/// A managed policy or boundary, and the output of its ARN.
fn policy_resource(
    project: &Project,
    policy: &ManagedPolicyInfo,
    resources: &mut Map<String, Value>,
    outputs: &mut Map<String, Value>,
) {
    {
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
}

/// Every role, user and group, with their instance profiles, and the outputs of their ARNs.
fn principal_resources(
    project: &Project,
    own: &dyn Fn(usize) -> Value,
    resources: &mut Map<String, Value>,
    outputs: &mut Map<String, Value>,
) {
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
                .map(|a| arn_value(project, &a.value, own))
                .collect();
            properties.insert("ManagedPolicyArns".into(), Value::Array(arns));
        }
        if let Some(boundary) = &principal.boundary {
            properties.insert(
                "PermissionsBoundary".into(),
                arn_value(project, &boundary.value, own),
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
}

/// The templates to write: `template.json` alone when it fits CloudFormation's quotas;
/// otherwise the managed policies and boundaries go to nested stacks, `policies-N.json` beside
/// it, and `template.json` holds the stacks, the principals and their outputs.
///
/// A policy's stack is a jump consistent hash of its name over the number of stacks, the least
/// at which every stack fits: adding or removing a policy moves no other policy between
/// stacks while that number stays the same (CloudFormation would delete and recreate it).
pub fn templates(project: &Project) -> Vec<(String, Value)> {
    let single = template(project);
    if fits(&single) {
        return vec![(PATH.to_string(), single)];
    }
    nested(project)
}

/// The path of the `n`th nested stack's template (from 1), and its logical ID.
pub fn nested_path(n: usize) -> String {
    format!("cloudformation/policies-{n}.json")
}

pub fn nested_id(n: usize) -> String {
    format!("NestedStack{n}")
}

fn counts(template: &Value) -> (usize, usize) {
    let len = |key: &str| {
        template
            .get(key)
            .and_then(Value::as_object)
            .map_or(0, Map::len)
    };
    (len("Resources"), len("Outputs"))
}

fn fits(template: &Value) -> bool {
    let (resources, outputs) = counts(template);
    resources <= MAX_RESOURCES
        && outputs <= MAX_OUTPUTS
        && iam::json::pretty(template).len() <= MAX_BYTES
}

/// The nested layout: every policy in one of the fewest stacks that all fit.
fn nested(project: &Project) -> Vec<(String, Value)> {
    let count = project.policies.len();
    let keys: Vec<u64> = project
        .policies
        .iter()
        .map(|p| crate::split::fnv(&p.name))
        .collect();
    let bodies: Vec<(Map<String, Value>, Map<String, Value>)> = project
        .policies
        .iter()
        .map(|p| {
            let (mut resources, mut outputs) = (Map::new(), Map::new());
            policy_resource(project, p, &mut resources, &mut outputs);
            (resources, outputs)
        })
        .collect();
    let bytes: usize = bodies
        .iter()
        .map(|(r, o)| iam::json::pretty(&json!([r, o])).len())
        .sum();
    let mut stacks = count
        .div_ceil(MAX_OUTPUTS * 3 / 4)
        .max(bytes.div_ceil(MAX_BYTES * 3 / 4))
        .max(1);
    let (assignment, children) = loop {
        let assignment: Vec<usize> = keys
            .iter()
            .map(|&k| crate::split::jump(k, stacks))
            .collect();
        let mut children: Vec<(Map<String, Value>, Map<String, Value>)> =
            vec![(Map::new(), Map::new()); stacks];
        for (i, (resources, outputs)) in bodies.iter().enumerate() {
            let child = &mut children[assignment[i]];
            child.0.extend(resources.clone());
            child.1.extend(outputs.clone());
        }
        let documents: Vec<Value> = children
            .into_iter()
            .map(|(r, o)| document(r, o, None))
            .collect();
        if documents.iter().all(fits) || stacks >= count.max(1) {
            break (assignment, documents);
        }
        stacks += 1;
    };
    let own = |i: usize| {
        json!({ "Fn::GetAtt": [
            nested_id(assignment[i] + 1),
            format!("Outputs.{}Arn", policy_id(&project.policies[i])),
        ] })
    };
    let mut resources = Map::new();
    let mut out = Vec::new();
    for (n, child) in children.into_iter().enumerate() {
        if counts(&child).0 == 0 {
            continue;
        }
        resources.insert(
            nested_id(n + 1),
            json!({
                "Type": "AWS::CloudFormation::Stack",
                "Properties": { "TemplateURL": format!("policies-{}.json", n + 1) },
            }),
        );
        out.push((nested_path(n + 1), child));
    }
    let mut outputs = Map::new();
    principal_resources(project, &own, &mut resources, &mut outputs);
    let mut top = document(resources, outputs, None);
    if let Value::Object(map) = &mut top {
        // The stacks' local `TemplateURL`s are for `aws cloudformation package`, which
        // uploads them; cfn-lint warns of that (W3002), and it is meant.
        map.insert(
            "Metadata".into(),
            json!({ "cfn-lint": { "config": { "ignore_checks": ["W3002"] } } }),
        );
    }
    out.insert(0, (PATH.to_string(), top));
    out
}

/// CloudFormation's quotas on one template: resources, outputs, the body (uploaded to S3; a
/// body given inline may hold only 51,200 bytes), and the length of a logical ID.
pub const MAX_RESOURCES: usize = 500;
pub const MAX_OUTPUTS: usize = 200;
pub const MAX_BYTES: usize = 1_000_000;
pub const MAX_ID: usize = 255;

/// The template's quotas, checked (E1101): CloudFormation would refuse the template. Policies
/// past the quotas move to nested stacks; the principals stay in the top template, which must
/// fit.
pub fn check(project: &Project) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // Resources and outputs of the top template in its order: principals, each with its
    // instance profile.
    let principals: Vec<(String, String, Option<crate::source::Span>)> = project
        .principals
        .iter()
        .flat_map(|p| {
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
        })
        .collect();
    let policies = project.policies.iter().map(|p| {
        let kind = if p.boundary { "boundary" } else { "policy" };
        (policy_id(p), format!("{kind} `{}`", p.name), p.span)
    });
    for (id, what, span) in policies.clone().chain(principals.iter().cloned()) {
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
                d = d.at(span, "its name, escaped, is too long");
            }
            out.push(d);
        }
    }
    if !out.is_empty() {
        return out;
    }
    let help = "managed policies move to nested stacks, but roles, users and groups stay in the top template: deploy this project with `--target terraform`, or build it as several projects, one stack each";
    let layout = templates(project);
    // The top template: its own items are the principals (and, unnested, the policies first).
    let items: Vec<_> = if layout.len() == 1 {
        policies.chain(principals).collect()
    } else {
        principals
    };
    let stacks = layout.len() - 1;
    for (path, template) in &layout {
        let (resources, outputs) = counts(template);
        let top = path == PATH;
        for (count, limit, what) in [
            (outputs, MAX_OUTPUTS, "outputs"),
            (resources, MAX_RESOURCES, "resources"),
        ] {
            if count <= limit {
                continue;
            }
            let mut d = Diagnostic::new(
                Code::TemplateOverQuota,
                format!(
                    "the CloudFormation template `{}` has {count} {what}, over the limit of {limit}",
                    path.trim_start_matches("cloudformation/")
                ),
            )
            .help(help);
            // The item one past the limit, counting the nested stacks first.
            if let Some((_, item, Some(span))) = top
                .then(|| limit.checked_sub(if what == "resources" { stacks } else { 0 }))
                .flatten()
                .and_then(|at| items.get(at))
            {
                d = d.at(*span, format!("{item} is one too many"));
            }
            out.push(d);
            return out;
        }
        let bytes = iam::json::pretty(template).len();
        if bytes > MAX_BYTES {
            out.push(
                Diagnostic::new(
                    Code::TemplateOverQuota,
                    format!(
                        "the CloudFormation template `{}` is {bytes} bytes, over the limit of {MAX_BYTES}",
                        path.trim_start_matches("cloudformation/")
                    ),
                )
                .help(help),
            );
            return out;
        }
    }
    out
}
