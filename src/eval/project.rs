//! The policies that apply to a principal of a compiled project, and the request context AWS
//! fills in for it.

use std::collections::HashMap;

use super::{CompiledPolicy, Context, PolicySet};
use crate::awsdb;
use crate::iam::{self, DocumentKind, PrincipalInfo, PrincipalKind, Project};
use crate::source::FileId;

/// An AWS managed policy's default version, compiled; `None` if the reference has no such
/// policy (or its document does not read).
pub fn aws_managed(arn_or_name: &str) -> Option<CompiledPolicy> {
    let policy = awsdb::managed_policy(arn_or_name)?;
    aws_managed_document(arn_or_name)
        .map(|document| CompiledPolicy::new(format!("aws {}", policy.name), &document))
}

/// The default version of an AWS managed policy, read once per process (per thread) from the
/// embedded data, without spans (it comes from no source file of the compilation).
pub fn aws_managed_document(arn_or_name: &str) -> Option<iam::Policy> {
    thread_local! {
        static CACHE: std::cell::RefCell<HashMap<String, Option<iam::Policy>>> = Default::default();
    }
    if let Some(hit) = CACHE.with(|c| c.borrow().get(arn_or_name).cloned()) {
        return hit;
    }
    let document = awsdb::managed_policy(arn_or_name).and_then(|policy| {
        let (read, _) = iam::from_json::read_policy(
            FileId(u32::MAX),
            policy.document,
            Some(iam::from_json::JsonKind::Identity),
        );
        read.map(|r| r.policy.without_spans())
    });
    CACHE.with(|c| {
        c.borrow_mut()
            .insert(arn_or_name.to_string(), document.clone())
    });
    document
}

/// The document of a managed policy by ARN: the project's own, or AWS's.
pub fn managed_document(project: &Project, arn: &str) -> Option<iam::Policy> {
    if let Some(p) = project
        .policies
        .iter()
        .find(|p| p.arn.as_deref() == Some(arn))
    {
        return Some(project.documents[p.document].policy.clone());
    }
    aws_managed_document(arn)
}

/// A managed policy by ARN: the project's own, or AWS's.
pub fn managed(project: &Project, arn: &str) -> Option<CompiledPolicy> {
    if let Some(p) = project
        .policies
        .iter()
        .find(|p| p.arn.as_deref() == Some(arn))
    {
        let doc = &project.documents[p.document];
        let kind = if p.boundary { "boundary" } else { "policy" };
        return Some(CompiledPolicy::new(
            format!("{kind} {}", p.name),
            &doc.policy,
        ));
    }
    if arn.contains(":iam::aws:policy/") {
        return aws_managed(arn);
    }
    None
}

/// Why a principal's policies could not all be found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingPolicy(pub String);

/// The identity policies of a principal (inline, attached, and its groups'), and its boundary.
/// Managed policies that are neither the project's nor AWS's are reported as missing.
pub fn policy_set(
    project: &Project,
    principal: &PrincipalInfo,
) -> Result<PolicySet, MissingPolicy> {
    let mut set = PolicySet::default();
    let add_principal = |p: &PrincipalInfo, set: &mut PolicySet| -> Result<(), MissingPolicy> {
        for &i in &p.documents {
            let doc = &project.documents[i];
            if doc.kind != DocumentKind::Trust {
                set.identity.push(CompiledPolicy::new(
                    format!("{} {} inline {}", p.kind.as_str(), p.name, doc.name),
                    &doc.policy,
                ));
            }
        }
        for attached in &p.attached {
            let policy = managed(project, &attached.value)
                .ok_or_else(|| MissingPolicy(attached.value.clone()))?;
            set.identity.push(policy);
        }
        Ok(())
    };
    add_principal(principal, &mut set)?;
    if principal.kind == PrincipalKind::User {
        for group in &principal.groups {
            if let Some(g) = project
                .principals
                .iter()
                .find(|p| p.kind == PrincipalKind::Group && &p.name == group)
            {
                add_principal(g, &mut set)?;
            }
        }
    }
    if let Some(boundary) = &principal.boundary {
        set.boundary = Some(
            managed(project, &boundary.value)
                .ok_or_else(|| MissingPolicy(boundary.value.clone()))?,
        );
    }
    Ok(set)
}

/// The caller's ARN for a principal: the user, or a session of the role.
pub fn caller_arn(project: &Project, principal: &PrincipalInfo) -> String {
    let account = project.account.as_deref().unwrap_or("123456789012");
    match principal.kind {
        PrincipalKind::Role => format!(
            "arn:{}:sts::{account}:assumed-role/{}/iamx-session",
            project.partition, principal.name
        ),
        _ => principal.arn.clone().unwrap_or_else(|| {
            format!(
                "arn:{}:iam::{account}:{}{}{}",
                project.partition,
                principal.kind.as_str(),
                principal.path,
                principal.name
            )
        }),
    }
}

/// The context keys AWS sets for every request of a principal: `aws:username` (users),
/// `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`, and
/// `aws:PrincipalTag/…` from its tags.
pub fn principal_context(project: &Project, principal: &PrincipalInfo) -> Context {
    let mut context = Context::default();
    let account = project
        .account
        .clone()
        .unwrap_or_else(|| "123456789012".into());
    let arn = principal.arn.clone().unwrap_or_default();
    let one = |v: String| vec![v];
    match principal.kind {
        PrincipalKind::User => {
            context.insert("aws:username", one(principal.name.clone()));
            context.insert("aws:PrincipalType", one("User".into()));
            context.insert(
                "aws:userid",
                one(format!("AIDA{}", fake_id(&principal.name))),
            );
        }
        PrincipalKind::Role => {
            context.insert("aws:PrincipalType", one("AssumedRole".into()));
            context.insert(
                "aws:userid",
                one(format!("AROA{}:iamx-session", fake_id(&principal.name))),
            );
        }
        PrincipalKind::Group => {}
    }
    context.insert("aws:PrincipalArn", one(arn));
    context.insert("aws:PrincipalAccount", one(account));
    for (k, v) in &principal.tags {
        context.insert(&format!("aws:PrincipalTag/{k}"), one(v.clone()));
    }
    context
}

/// A stable stand-in for the unique id AWS gives a principal.
fn fake_id(name: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016X}")
}

/// The trust policy of a role of the project, compiled: the resource policy of
/// `sts:AssumeRole` on that role.
pub fn trust_policy(project: &Project, role_arn: &str) -> Option<CompiledPolicy> {
    let role = project
        .principals
        .iter()
        .find(|p| p.kind == PrincipalKind::Role && p.arn.as_deref() == Some(role_arn))?;
    let doc = role
        .documents
        .iter()
        .map(|&i| &project.documents[i])
        .find(|d| d.kind == DocumentKind::Trust)?;
    Some(CompiledPolicy::new(
        format!("role {} trust", role.name),
        &doc.policy,
    ))
}
