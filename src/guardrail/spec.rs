//! The permissions-boundary guardrail, written once: what a boundary's `guard { … }` lowers to
//! inside the boundary, and what a principal's `delegate` lowers to on the identity side.
//!
//! The actions come from the AWS service reference: the IAM actions that take the
//! `iam:PermissionsBoundary` condition key (creating and managing users and roles), so the
//! guard follows AWS as that list grows.

use crate::awsdb::{self, AccessLevel};
use crate::iam::{Block, Condition, Effect, Spanned, Statement};
use crate::source::Span;

pub use crate::iam::GuardSpec;

/// The guard iamx wrote into a boundary document, read back from its statements' Sids: so
/// that a built boundary, checked as JSON, is analysed with the reach its source had.
/// `None` when the document has no statement of a guard.
pub fn recognize(policy: &crate::iam::Policy) -> Option<GuardSpec> {
    fn sid(s: &Statement) -> &str {
        s.sid.as_ref().map_or("", |x| x.value.as_str())
    }
    if !policy
        .statements
        .iter()
        .any(|s| sid(s).starts_with("Guard"))
    {
        return None;
    }
    let resources = |name: &str| -> Vec<String> {
        policy
            .statements
            .iter()
            .filter(|s| sid(s) == name)
            .flat_map(|s| s.resource.iter().flat_map(|b| b.values.iter()))
            .map(|v| v.value.clone())
            .collect()
    };
    // `arn:P:iam::A:user/dev/*` → ("user", "/dev/").
    let kind_path = |arn: &str| -> Option<(String, String)> {
        let rest = arn.splitn(6, ':').nth(5)?;
        let (kind, path) = rest.split_once('/')?;
        let path = path.strip_suffix('*')?;
        Some((kind.to_string(), format!("/{path}")))
    };
    let mut spec = GuardSpec {
        users: false,
        roles: false,
        create_path: "/".to_string(),
        pass: None,
        manage_path: None,
        span: None,
        create_span: None,
        pass_span: None,
        manage_span: None,
    };
    for arn in resources("GuardManageOnlyWithThisBoundary") {
        if let Some((kind, path)) = kind_path(&arn) {
            match kind.as_str() {
                "user" => spec.users = true,
                "role" => spec.roles = true,
                _ => continue,
            }
            spec.create_path = path;
        }
    }
    if let Some((_, path)) = resources("GuardPassRolesUnderPath")
        .first()
        .and_then(|a| kind_path(a))
    {
        let services = policy
            .statements
            .iter()
            .filter(|s| sid(s) == "GuardPassRolesUnderPath")
            .flat_map(|s| s.conditions.iter())
            .filter(|c| c.key.eq_ignore_ascii_case("iam:PassedToService"))
            .flat_map(|c| c.values.iter().cloned())
            .collect();
        spec.pass = Some((path, services));
    }
    spec.manage_path = resources("GuardManagePoliciesUnderPath")
        .first()
        .and_then(|a| kind_path(a))
        .map(|(_, path)| path);
    Some(spec)
}

/// Where the principals and policies a guard writes live.
pub struct Arns<'a> {
    pub partition: &'a str,
    pub account: &'a str,
    /// The boundary's own ARN.
    pub boundary: &'a str,
}

impl Arns<'_> {
    fn under(&self, kind: &str, path: &str) -> String {
        format!("arn:{}:iam::{}:{kind}{path}*", self.partition, self.account)
    }
}

/// The IAM actions that create or manage a user (`user`) or a role (`role`) and take the
/// `iam:PermissionsBoundary` key, without the `Delete…PermissionsBoundary` ones, in AWS's
/// spelling, sorted.
pub fn managing_actions(kind: &str) -> Vec<String> {
    boundary_key_actions(kind)
        .into_iter()
        .filter(|a| !is_boundary_removal(a))
        .collect()
}

/// `iam:DeleteUserPermissionsBoundary` and `iam:DeleteRolePermissionsBoundary`, from the data.
pub fn boundary_removal_actions() -> Vec<String> {
    let mut all = boundary_key_actions("user");
    all.extend(boundary_key_actions("role"));
    all.retain(|a| is_boundary_removal(a));
    all
}

fn is_boundary_removal(action: &str) -> bool {
    action.starts_with("iam:Delete") && action.ends_with("PermissionsBoundary")
}

/// IAM writes on principals of a kind that take `iam:PermissionsBoundary`, read from the
/// data once per kind.
fn boundary_key_actions(kind: &str) -> Vec<String> {
    static KINDS: std::sync::OnceLock<Vec<(&'static str, Vec<String>)>> =
        std::sync::OnceLock::new();
    let kinds = KINDS.get_or_init(|| {
        ["user", "role", "group"]
            .into_iter()
            .map(|k| (k, boundary_key_actions_from_data(k)))
            .collect()
    });
    match kinds.iter().find(|(k, _)| *k == kind) {
        Some((_, actions)) => actions.clone(),
        None => boundary_key_actions_from_data(kind),
    }
}

fn boundary_key_actions_from_data(kind: &str) -> Vec<String> {
    let Some(iam) = awsdb::service("iam") else {
        return Vec::new();
    };
    iam.actions
        .iter()
        .filter(|a| a.has_condition_key("iam:PermissionsBoundary"))
        .filter(|a| {
            !matches!(
                a.primary_access_level(),
                AccessLevel::Read | AccessLevel::List
            )
        })
        .filter(|a| a.resource_types.iter().any(|r| r.name == kind))
        .map(|a| format!("iam:{}", a.name))
        .collect()
}

/// Editing a managed policy: what must never happen to the boundary itself.
pub const POLICY_EDITS: &[&str] = &[
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
];

/// Creating and editing customer managed policies.
pub const POLICY_MANAGEMENT: &[&str] = &[
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
];

/// Credentials of a user: whoever can make them can act as the user.
pub const USER_CREDENTIALS: &[&str] = &[
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey",
    "iam:UpdateLoginProfile",
    "iam:UploadSSHPublicKey",
    "iam:UploadSigningCertificate",
];

/// What `delegate` lets its holder undo for users under the path: delete them, their
/// credentials, and their tags. (Taking a user out of a group is left out: it may take away a
/// group's `Deny`.)
pub const USER_CLEANUP: &[&str] = &[
    "iam:DeleteUser",
    "iam:TagUser",
    "iam:UntagUser",
    "iam:DeleteAccessKey",
    "iam:DeleteLoginProfile",
    "iam:DeleteSSHPublicKey",
    "iam:DeleteSigningCertificate",
    "iam:DeleteServiceSpecificCredential",
];

/// What `delegate` lets its holder undo for roles under the path, beyond `iam:DeleteRole`
/// (granted with the boundary condition): their tags.
pub const ROLE_CLEANUP: &[&str] = &["iam:TagRole", "iam:UntagRole"];

/// Group membership and group policies: groups carry no boundary, so changing them changes
/// what their (possibly unbounded) members may do.
pub const GROUP_MANAGEMENT: &[&str] = &[
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:DeleteGroupPolicy",
    "iam:DetachGroupPolicy",
    "iam:PutGroupPolicy",
    "iam:RemoveUserFromGroup",
];

/// Group policies: the guard lets no group be given power (see `GuardDenyGroupPolicies`).
pub const GROUP_POLICIES: &[&str] = &[
    "iam:AttachGroupPolicy",
    "iam:DeleteGroupPolicy",
    "iam:DetachGroupPolicy",
    "iam:PutGroupPolicy",
];

/// IAM actions that change a user or a role and are not Read or List, from the data, without
/// those the guard governs on their own: creating, policies and boundaries (they take
/// `iam:PermissionsBoundary`), credentials, and `iam:PassRole`; and without service-linked
/// roles, which give no one power. Tags are in: `aws:PrincipalTag` conditions anywhere may
/// grant by them.
pub fn principal_changes(kind: &str) -> Vec<String> {
    iam_changes(&[kind], |a| !a.has_condition_key("iam:PermissionsBoundary"))
        .into_iter()
        .filter(|a| {
            !USER_CREDENTIALS.contains(&a.as_str())
                && !GROUP_MANAGEMENT.contains(&a.as_str())
                && a != "iam:PassRole"
                && !a.ends_with("ServiceLinkedRole")
        })
        .collect()
}

/// IAM actions that change a group or its members, from the data, without its policies
/// (`GROUP_POLICIES`, denied everywhere) and tags.
pub fn group_changes() -> Vec<String> {
    iam_changes(&["group"], |a| {
        a.primary_access_level() != AccessLevel::Tagging
    })
    .into_iter()
    .filter(|a| !GROUP_POLICIES.contains(&a.as_str()))
    .collect()
}

/// IAM actions that change a SAML or OIDC identity provider, from the data.
pub fn identity_provider_changes() -> Vec<String> {
    iam_changes(&["saml-provider", "oidc-provider"], |_| true)
}

/// The IAM actions that are not Read or List, are authorized on one of the resource types
/// `kinds`, and pass `keep`; in AWS's spelling, in the data's order.
fn iam_changes(kinds: &[&str], keep: impl Fn(&awsdb::Action) -> bool) -> Vec<String> {
    let Some(iam) = awsdb::service("iam") else {
        return Vec::new();
    };
    iam.actions
        .iter()
        .filter(|a| {
            !matches!(
                a.primary_access_level(),
                AccessLevel::Read | AccessLevel::List
            )
        })
        .filter(|a| a.resource_types.iter().any(|r| kinds.contains(&r.name)))
        .filter(|a| keep(a))
        .map(|a| format!("iam:{}", a.name))
        .collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

/// The identity side of `delegate`'s denial of new versions of the principal's own managed
/// policies (`NoNewVersionsOfOwnPolicies`).
pub fn no_new_versions(own_policies: &[String], span: Option<Span>) -> Statement {
    statement(
        "NoNewVersionsOfOwnPolicies",
        Effect::Deny,
        strings(POLICY_EDITS),
        false,
        own_policies.to_vec(),
        Vec::new(),
        span,
    )
}

/// A policy that allows every action on every resource: with other policies, the question is
/// then only whether one of their denies applies.
pub fn allow_all() -> crate::iam::Policy {
    crate::iam::Policy {
        statements: vec![statement(
            "AllowAll",
            Effect::Allow,
            vec!["*".into()],
            false,
            vec!["*".into()],
            Vec::new(),
            None,
        )],
        id: None,
    }
}

fn statement(
    sid: &str,
    effect: Effect,
    actions: Vec<String>,
    not_resource: bool,
    resources: Vec<String>,
    conditions: Vec<(&str, &str, Vec<String>)>,
    span: Option<Span>,
) -> Statement {
    let spanned = |v: Vec<String>| v.into_iter().map(|a| Spanned::new(a, span)).collect();
    Statement {
        sid: Some(Spanned::new(sid.to_string(), span)),
        effect: Spanned::new(effect, span),
        principal: None,
        not_principal: false,
        action: Some(Block {
            not: false,
            values: spanned(actions),
            span,
        }),
        resource: Some(Block {
            not: not_resource,
            values: spanned(resources),
            span,
        }),
        conditions: conditions
            .into_iter()
            .map(|(operator, key, values)| Condition {
                operator: operator.to_string(),
                key: key.to_string(),
                values,
                span,
                key_span: span,
            })
            .collect(),
        span,
        docs: Vec::new(),
    }
}

impl GuardSpec {
    fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.users {
            kinds.push("user");
        }
        if self.roles {
            kinds.push("role");
        }
        kinds
    }

    /// The principals this guard lets its holder create and manage: their ARN patterns.
    pub fn reach(&self, arns: &Arns) -> Vec<String> {
        self.kinds()
            .into_iter()
            .map(|k| arns.under(k, &self.create_path))
            .collect()
    }

    /// The statements the guard adds to its boundary.
    pub fn boundary_statements(&self, arns: &Arns) -> Vec<Statement> {
        let mut out = Vec::new();
        let kinds = self.kinds();
        let managing: Vec<String> = kinds.iter().flat_map(|k| managing_actions(k)).collect();
        let every_managing: Vec<String> = ["user", "role"]
            .iter()
            .flat_map(|k| managing_actions(k))
            .collect();
        let boundary_is = |op: &'static str| {
            vec![(
                op,
                "iam:PermissionsBoundary",
                vec![arns.boundary.to_string()],
            )]
        };
        let reach = self.reach(arns);
        if !managing.is_empty() {
            out.push(statement(
                "GuardManageOnlyWithThisBoundary",
                Effect::Allow,
                managing.clone(),
                false,
                reach.clone(),
                boundary_is("ArnEquals"),
                self.create_span,
            ));
        }
        out.push(statement(
            "GuardDenyOtherBoundaries",
            Effect::Deny,
            every_managing,
            false,
            vec!["*".into()],
            boundary_is("ArnNotEquals"),
            self.span,
        ));
        out.push(statement(
            "GuardDenyBoundaryRemoval",
            Effect::Deny,
            boundary_removal_actions(),
            false,
            vec!["*".into()],
            Vec::new(),
            self.span,
        ));
        // Without `manage policies`, `GuardDenyEditingPolicies` below covers the boundary too.
        if self.manage_path.is_some() {
            out.push(statement(
                "GuardProtectThisBoundary",
                Effect::Deny,
                strings(POLICY_EDITS),
                false,
                vec![arns.boundary.to_string()],
                Vec::new(),
                self.span,
            ));
        }
        if !managing.is_empty() && self.create_path != "/" {
            out.push(statement(
                "GuardDenyOutsidePath",
                Effect::Deny,
                managing,
                true,
                reach,
                Vec::new(),
                self.create_span,
            ));
        }
        // Credentials and groups: only for users under the guarded path, or the holder itself,
        // on any path (user names are unique, paths aside). `aws:username` exists for users
        // only: without the default, a role or federated session would make the variable
        // unresolvable and the whole statement would not apply.
        let holder = vec![
            format!(
                "arn:{}:iam::{}:user/${{aws:username, '#'}}",
                arns.partition, arns.account
            ),
            format!(
                "arn:{}:iam::{}:user/*/${{aws:username, '#'}}",
                arns.partition, arns.account
            ),
        ];
        let mut users_reach = holder.clone();
        if self.users && self.create_path != "/" {
            users_reach.insert(0, arns.under("user", &self.create_path));
        }
        if self.users && self.create_path != "/" {
            out.push(statement(
                "GuardCredentialsUnderPath",
                Effect::Allow,
                strings(USER_CREDENTIALS),
                false,
                vec![arns.under("user", &self.create_path)],
                Vec::new(),
                self.create_span,
            ));
        }
        out.push(statement(
            "GuardDenyOtherCredentials",
            Effect::Deny,
            strings(USER_CREDENTIALS),
            true,
            users_reach,
            Vec::new(),
            self.span,
        ));
        // Every other change to a user or role outside its reach (path, trust, tags, MFA,
        // SSH keys…): the actions come from the service reference.
        for kind in ["user", "role"] {
            let creates = (kind == "user" && self.users) || (kind == "role" && self.roles);
            let mut keep = if kind == "user" {
                holder.clone()
            } else {
                Vec::new()
            };
            if creates {
                keep.insert(0, arns.under(kind, &self.create_path));
            }
            let actions = principal_changes(kind);
            if actions.is_empty() || (creates && self.create_path == "/") {
                continue;
            }
            let (not, resources) = if keep.is_empty() {
                (false, vec!["*".to_string()])
            } else {
                (true, keep)
            };
            out.push(statement(
                if kind == "user" {
                    "GuardDenyChangingOtherUsers"
                } else {
                    "GuardDenyChangingOtherRoles"
                },
                Effect::Deny,
                actions,
                not,
                resources,
                Vec::new(),
                self.span,
            ));
        }
        // Groups carry no boundary, and adding a user is authorized on the group alone: so
        // membership only of groups under the path, and no group policies at all (a group
        // under the path with power would give it to any user added).
        let groups = if self.users && self.create_path != "/" {
            (true, vec![arns.under("group", &self.create_path)])
        } else {
            (false, vec!["*".to_string()])
        };
        out.push(statement(
            "GuardDenyOtherGroups",
            Effect::Deny,
            group_changes(),
            groups.0,
            groups.1,
            Vec::new(),
            self.span,
        ));
        out.push(statement(
            "GuardDenyGroupPolicies",
            Effect::Deny,
            strings(GROUP_POLICIES),
            false,
            vec!["*".to_string()],
            Vec::new(),
            self.span,
        ));
        // Identity providers: whoever changes one becomes any role that trusts it.
        let providers = identity_provider_changes();
        if !providers.is_empty() {
            out.push(statement(
                "GuardDenyIdentityProviders",
                Effect::Deny,
                providers,
                false,
                vec!["*".to_string()],
                Vec::new(),
                self.span,
            ));
        }
        match &self.pass {
            Some((path, services)) => {
                let conditions = if services.is_empty() {
                    Vec::new()
                } else {
                    vec![("StringEquals", "iam:PassedToService", services.clone())]
                };
                out.push(statement(
                    "GuardPassRolesUnderPath",
                    Effect::Allow,
                    vec!["iam:PassRole".into()],
                    false,
                    vec![arns.under("role", path)],
                    conditions,
                    self.pass_span,
                ));
                out.push(statement(
                    "GuardDenyPassingOtherRoles",
                    Effect::Deny,
                    vec!["iam:PassRole".into()],
                    true,
                    vec![arns.under("role", path)],
                    Vec::new(),
                    self.pass_span,
                ));
                if !services.is_empty() {
                    out.push(statement(
                        "GuardDenyPassingToOtherServices",
                        Effect::Deny,
                        vec!["iam:PassRole".into()],
                        false,
                        vec!["*".into()],
                        vec![("StringNotEquals", "iam:PassedToService", services.clone())],
                        self.pass_span,
                    ));
                }
            }
            None => out.push(statement(
                "GuardDenyPassRole",
                Effect::Deny,
                vec!["iam:PassRole".into()],
                false,
                vec!["*".into()],
                Vec::new(),
                self.span,
            )),
        }
        match &self.manage_path {
            Some(path) => {
                out.push(statement(
                    "GuardManagePoliciesUnderPath",
                    Effect::Allow,
                    strings(POLICY_MANAGEMENT),
                    false,
                    vec![arns.under("policy", path)],
                    Vec::new(),
                    self.manage_span,
                ));
                out.push(statement(
                    "GuardDenyEditingOtherPolicies",
                    Effect::Deny,
                    strings(POLICY_EDITS),
                    true,
                    vec![arns.under("policy", path)],
                    Vec::new(),
                    self.manage_span,
                ));
            }
            None => out.push(statement(
                "GuardDenyEditingPolicies",
                Effect::Deny,
                strings(POLICY_EDITS),
                false,
                vec!["*".into()],
                Vec::new(),
                self.span,
            )),
        }
        out
    }

    /// The identity-side statements of `delegate`: the same rights, granted to the principal,
    /// and no new versions of its own managed policies.
    pub fn delegate_statements(
        &self,
        arns: &Arns,
        own_policies: &[String],
        span: Option<Span>,
    ) -> Vec<Statement> {
        let mut out = Vec::new();
        let managing: Vec<String> = self
            .kinds()
            .iter()
            .flat_map(|k| managing_actions(k))
            .collect();
        if !managing.is_empty() {
            out.push(statement(
                "CreateOrChangeOnlyWithBoundary",
                Effect::Allow,
                managing,
                false,
                self.reach(arns),
                vec![(
                    "ArnEquals",
                    "iam:PermissionsBoundary",
                    vec![arns.boundary.to_string()],
                )],
                span,
            ));
        }
        if self.users && self.create_path != "/" {
            out.push(statement(
                "ManageCredentialsUnderPath",
                Effect::Allow,
                strings(USER_CREDENTIALS),
                false,
                vec![arns.under("user", &self.create_path)],
                Vec::new(),
                span,
            ));
        }
        // Cleaning up what it created, within the reach, where the guard lets it.
        if self.create_path != "/" && (self.users || self.roles) {
            let mut actions: Vec<String> = Vec::new();
            let mut resources = Vec::new();
            if self.users {
                actions.extend(strings(USER_CLEANUP));
                resources.push(arns.under("user", &self.create_path));
            }
            if self.roles {
                actions.extend(strings(ROLE_CLEANUP));
                resources.push(arns.under("role", &self.create_path));
            }
            out.push(statement(
                "CleanUpUnderPath",
                Effect::Allow,
                actions,
                false,
                resources,
                Vec::new(),
                span,
            ));
        }
        if let Some((path, services)) = &self.pass {
            let conditions = if services.is_empty() {
                Vec::new()
            } else {
                vec![("StringEquals", "iam:PassedToService", services.clone())]
            };
            out.push(statement(
                "PassRolesUnderPath",
                Effect::Allow,
                vec!["iam:PassRole".into()],
                false,
                vec![arns.under("role", path)],
                conditions,
                span,
            ));
        }
        if let Some(path) = &self.manage_path {
            out.push(statement(
                "ManagePoliciesUnderPath",
                Effect::Allow,
                strings(POLICY_MANAGEMENT),
                false,
                vec![arns.under("policy", path)],
                Vec::new(),
                span,
            ));
        }
        if !own_policies.is_empty() {
            out.push(no_new_versions(own_policies, span));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Today's actions that take `iam:PermissionsBoundary`, from the embedded data: if AWS adds
    /// one, this test says so, and the guard covers it already.
    #[test]
    fn managing_actions_come_from_the_data() {
        assert_eq!(
            managing_actions("user"),
            [
                "iam:AttachUserPolicy",
                "iam:CreateUser",
                "iam:DeleteUserPolicy",
                "iam:DetachUserPolicy",
                "iam:PutUserPermissionsBoundary",
                "iam:PutUserPolicy",
            ]
        );
        assert_eq!(
            managing_actions("role"),
            [
                "iam:AttachRolePolicy",
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ]
        );
        assert_eq!(
            boundary_removal_actions(),
            [
                "iam:DeleteUserPermissionsBoundary",
                "iam:DeleteRolePermissionsBoundary"
            ]
        );
    }
}
