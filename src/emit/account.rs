//! The account back end: `account/authorization-details.json`, the project as the account
//! will hold it once deployed, in the shape `aws iam get-account-authorization-details`
//! prints. `iamx check --account` reads it back, and so do other tools that read that call's
//! output, before anything is deployed.
//!
//! Documents are JSON objects, as the AWS CLI prints them. What AWS assigns at creation is not
//! known before: ids are placeholders derived from the ARN (the right prefix, stable from
//! build to build), and dates are left out. AWS managed policies are named by ARN in
//! `AttachedManagedPolicies` only, as a filtered call lists them; resource-based policies
//! belong to their resources and are not part of this call.

use serde_json::{json, Map, Value};

use crate::iam::{self, DocumentKind, PrincipalKind, Project};

/// The snapshot's path in the output directory.
pub const PATH: &str = "account/authorization-details.json";

/// A placeholder for an id AWS assigns: `prefix` and 17 characters of AWS's id alphabet
/// (upper-case letters and digits 2 to 7), from two FNV-1a hashes of the ARN.
fn placeholder_id(prefix: &str, arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let hash = |seed: u64| {
        arn.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let (mut a, mut b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    let mut id = String::from(prefix);
    for i in 0..17 {
        let word = if i < 12 { &mut a } else { &mut b };
        id.push(ALPHABET[(*word & 31) as usize] as char);
        *word >>= 5;
    }
    id
}

fn tags(p: &iam::PrincipalInfo) -> Value {
    Value::Array(
        p.tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// `[{"PolicyName": …, "PolicyArn": …}]`: a policy's name is the last part of its ARN.
fn attached(p: &iam::PrincipalInfo) -> Value {
    Value::Array(
        p.attached
            .iter()
            .map(|a| {
                let name = a.value.rsplit('/').next().unwrap_or(&a.value);
                json!({"PolicyName": name, "PolicyArn": a.value})
            })
            .collect(),
    )
}

/// The snapshot, or `None` when the project declares no account (there are no ARNs).
pub fn snapshot(project: &Project) -> Option<Value> {
    let account = project.account.as_deref()?;
    let partition = &project.partition;
    let (mut users, mut groups, mut roles) = (Vec::new(), Vec::new(), Vec::new());
    for p in &project.principals {
        let arn = p.arn.clone()?;
        let mut inline = Vec::new();
        let mut trust = None;
        for &i in &p.documents {
            let d = &project.documents[i];
            let document = iam::json::policy(&d.policy);
            if d.kind == DocumentKind::Trust {
                trust = Some(document);
            } else {
                inline.push(json!({"PolicyName": d.name, "PolicyDocument": document}));
            }
        }
        let mut o = Map::new();
        o.insert("Path".into(), json!(p.path));
        let (name_key, id_key, id_prefix, list_key) = match p.kind {
            PrincipalKind::User => ("UserName", "UserId", "AIDA", "UserPolicyList"),
            PrincipalKind::Group => ("GroupName", "GroupId", "AGPA", "GroupPolicyList"),
            PrincipalKind::Role => ("RoleName", "RoleId", "AROA", "RolePolicyList"),
        };
        o.insert(name_key.into(), json!(p.name));
        o.insert(id_key.into(), json!(placeholder_id(id_prefix, &arn)));
        o.insert("Arn".into(), json!(arn));
        if p.kind == PrincipalKind::Role {
            let trust = trust.unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
            o.insert("AssumeRolePolicyDocument".into(), trust);
            let profiles: Vec<Value> = p
                .instance_profile
                .iter()
                .map(|name| {
                    let profile_arn =
                        format!("arn:{partition}:iam::{account}:instance-profile{}{name}", p.path);
                    json!({
                        "Path": p.path,
                        "InstanceProfileName": name,
                        "InstanceProfileId": placeholder_id("AIPA", &profile_arn),
                        "Arn": profile_arn,
                        "Roles": [{"Path": p.path, "RoleName": p.name, "RoleId": placeholder_id("AROA", &arn), "Arn": arn}],
                    })
                })
                .collect();
            o.insert("InstanceProfileList".into(), Value::Array(profiles));
        }
        o.insert(list_key.into(), Value::Array(inline));
        if p.kind == PrincipalKind::User {
            o.insert("GroupList".into(), json!(p.groups));
        }
        o.insert("AttachedManagedPolicies".into(), attached(p));
        if let Some(boundary) = &p.boundary {
            o.insert(
                "PermissionsBoundary".into(),
                json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary.value}),
            );
        }
        if p.kind != PrincipalKind::Group {
            o.insert("Tags".into(), tags(p));
        }
        if p.kind == PrincipalKind::Role {
            if let Some(seconds) = p.max_session {
                o.insert("MaxSessionDuration".into(), json!(seconds));
            }
            if let Some(description) = &p.description {
                o.insert("Description".into(), json!(description));
            }
        }
        match p.kind {
            PrincipalKind::User => users.push(Value::Object(o)),
            PrincipalKind::Group => groups.push(Value::Object(o)),
            PrincipalKind::Role => roles.push(Value::Object(o)),
        }
    }
    let mut policies = Vec::new();
    for policy in &project.policies {
        let arn = policy.arn.clone()?;
        let attachments = project
            .principals
            .iter()
            .filter(|p| p.attached.iter().any(|a| a.value == arn))
            .count();
        let boundaries = project
            .principals
            .iter()
            .filter(|p| p.boundary.as_ref().is_some_and(|b| b.value == arn))
            .count();
        let mut o = Map::new();
        o.insert("PolicyName".into(), json!(policy.name));
        o.insert("PolicyId".into(), json!(placeholder_id("ANPA", &arn)));
        o.insert("Arn".into(), json!(arn));
        o.insert("Path".into(), json!(policy.path));
        o.insert("DefaultVersionId".into(), json!("v1"));
        o.insert("AttachmentCount".into(), json!(attachments));
        o.insert("PermissionsBoundaryUsageCount".into(), json!(boundaries));
        o.insert("IsAttachable".into(), json!(true));
        if let Some(description) = &policy.description {
            o.insert("Description".into(), json!(description));
        }
        let document = iam::json::policy(&project.documents[policy.document].policy);
        o.insert(
            "PolicyVersionList".into(),
            json!([{"Document": document, "VersionId": "v1", "IsDefaultVersion": true}]),
        );
        policies.push(Value::Object(o));
    }
    Some(json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    }))
}

#[cfg(test)]
mod tests {
    use super::placeholder_id;

    #[test]
    fn placeholder_ids_look_like_aws_ids_and_differ_by_arn() {
        let a = placeholder_id("AIDA", "arn:aws:iam::123456789012:user/a");
        let b = placeholder_id("AIDA", "arn:aws:iam::123456789012:user/b");
        assert_eq!(a.len(), 21);
        assert!(a.starts_with("AIDA"));
        assert!(a[4..]
            .bytes()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)));
        assert_ne!(a, b);
        assert_eq!(
            a,
            placeholder_id("AIDA", "arn:aws:iam::123456789012:user/a")
        );
    }
}
