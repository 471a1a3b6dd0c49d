//! Which actions the proof must look at, classified from data rather than listed by hand:
//!
//! - **principal management**: every IAM action that is not Read or List and is authorized
//!   on a user, a role or a group (the embedded service reference);
//! - **identity providers**: every such IAM action on a SAML or OIDC provider;
//! - **running as a resource's role**: every Write or Permissions management action on a
//!   resource type that runs code or makes calls as a role attached to it (the curated
//!   `data/guardrail/escalations.json`, which cites a source per entry), unless its name says
//!   it only stops or removes (`notRunning`);
//! - **taking a passed role**: the actions that accept a role passed to their service
//!   (same file).
//!
//! The same file maps the public catalogues of escalation paths (Rhino Security Labs,
//! pathfinding.cloud, Bishop Fox iam-vulnerable) to iamx's codes, so a finding can name them.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::awsdb::{self, AccessLevel};
use crate::eval::pattern::wildcard;

use super::lang::{self, Lang};

const ESCALATIONS: &str = include_str!("../../data/guardrail/escalations.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Escalations {
    pub runners: Vec<Runner>,
    pub not_running: Vec<String>,
    /// Actions a `notRunning` pattern names that still act as the role.
    #[serde(default)]
    pub not_running_except: Vec<String>,
    pub pass_takers: Vec<PassTaker>,
    /// Actions that write a resource-based policy (or a KMS grant) that may name an IAM user
    /// or role session of the account: within the account, what it grants them their
    /// permissions boundaries do not limit.
    #[serde(default)]
    pub resource_policy_writers: Vec<Writer>,
    pub paths: Vec<CataloguePath>,
    /// Actions that read, though the reference gives them another level.
    #[serde(default)]
    pub reads_despite_level: Vec<ReadsDespiteLevel>,
}

/// An action that writes a resource-based policy: `resourcePolicyWriters`.
#[derive(Debug, Deserialize)]
pub struct Writer {
    pub action: String,
    /// The only actions what it writes can grant (a KMS grant's operations); every action on
    /// the resource when empty.
    #[serde(default)]
    pub grants: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct ReadsDespiteLevel {
    pub action: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Runner {
    pub service: String,
    pub resource_types: Vec<String>,
    pub runs_as: String,
}

#[derive(Debug, Deserialize)]
pub struct PassTaker {
    pub action: String,
    pub service: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CataloguePath {
    pub id: String,
    pub title: String,
    pub actions: Vec<String>,
    pub code: Option<String>,
    #[serde(default)]
    pub other_codes: Vec<String>,
}

/// The curated data, read once.
pub fn escalations() -> &'static Escalations {
    static DATA: OnceLock<Escalations> = OnceLock::new();
    DATA.get_or_init(|| {
        serde_json::from_str(ESCALATIONS)
            .expect("data/guardrail/escalations.json is checked by scripts/check-escalations")
    })
}

/// One action of the reference, with the resource types it is authorized on.
#[derive(Clone, Debug)]
pub struct Sensitive {
    /// `iam:AttachUserPolicy`.
    pub action: String,
    /// (service prefix, resource type name, required).
    pub resources: Vec<(&'static str, &'static str, bool)>,
}

fn writes(action: &awsdb::Action) -> bool {
    !matches!(
        action.access_levels.first(),
        Some(AccessLevel::Read | AccessLevel::List)
    )
}

fn sensitive(prefix: &'static str, a: &awsdb::Action) -> Sensitive {
    Sensitive {
        action: format!("{prefix}:{}", a.name),
        resources: a
            .resource_types
            .iter()
            .map(|r| (prefix, r.name, r.required))
            .collect(),
    }
}

/// IAM actions that change a principal of the given resource type (`user`, `role`,
/// `group`), or an identity provider (`saml-provider`, `oidc-provider`); computed once per
/// list of kinds.
pub fn iam_writes_on(kinds: &[&str]) -> &'static [Sensitive] {
    type Cache = std::sync::Mutex<Vec<(String, &'static [Sensitive])>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = kinds.join(",");
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache
        .lock()
        .ok()
        .and_then(|c| c.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
    {
        return found;
    }
    let found: &'static [Sensitive] = Box::leak(iam_writes_on_uncached(kinds).into_boxed_slice());
    if let Ok(mut c) = cache.lock() {
        c.push((key, found));
    }
    found
}

fn iam_writes_on_uncached(kinds: &[&str]) -> Vec<Sensitive> {
    let Some(iam) = awsdb::service("iam") else {
        return Vec::new();
    };
    iam.actions
        .iter()
        .filter(|a| writes(a))
        .filter(|a| a.resource_types.iter().any(|r| kinds.contains(&r.name)))
        .map(|a| sensitive("iam", a))
        .collect()
}

/// Actions that change what runs as a resource's role, with the runner they act on.
pub fn running_actions() -> &'static [(Sensitive, &'static Runner)] {
    static LIST: OnceLock<Vec<(Sensitive, &'static Runner)>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut out: Vec<(Sensitive, &'static Runner)> = Vec::new();
        for runner in &escalations().runners {
            out.extend(running_actions_of(runner).iter().cloned());
        }
        out
    })
}

/// [`running_actions`] of one runner, computed when first asked (decoding only its service).
pub fn running_actions_of(runner: &'static Runner) -> &'static [(Sensitive, &'static Runner)] {
    type Cache = std::sync::Mutex<Vec<(usize, &'static [(Sensitive, &'static Runner)])>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = runner as *const Runner as usize;
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache
        .lock()
        .ok()
        .and_then(|c| c.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
    {
        return found;
    }
    let list: &'static [(Sensitive, &'static Runner)] =
        Box::leak(running_actions_uncached(runner).into_boxed_slice());
    if let Ok(mut c) = cache.lock() {
        c.push((key, list));
    }
    list
}

fn running_actions_uncached(runner: &'static Runner) -> Vec<(Sensitive, &'static Runner)> {
    {
        let data = escalations();
        let mut out = Vec::new();
        {
            let Some(service) = awsdb::service(&runner.service) else {
                return out;
            };
            for a in &service.actions {
                let full = format!("{}:{}", service.prefix, a.name);
                // An action that makes a new resource with a passed role runs as the role
                // passed: that is W0605 and W0607. (One that changes an existing resource runs
                // as the role it has, whether or not it can also take a new one.)
                let creates = ["Create", "Run", "Register", "Put"]
                    .iter()
                    .any(|verb| a.name.starts_with(verb));
                if creates && data.pass_takers.iter().any(|t| t.action == full) {
                    continue;
                }
                if !writes(a)
                    || a.access_levels.first() == Some(&AccessLevel::Tagging)
                    || (data.not_running.iter().any(|p| wildcard(p, a.name, false))
                        && !data
                            .not_running_except
                            .iter()
                            .any(|e| *e == format!("{}:{}", service.prefix, a.name)))
                    || !a
                        .resource_types
                        .iter()
                        .any(|r| runner.resource_types.iter().any(|t| t == r.name))
                {
                    continue;
                }
                out.push((sensitive(service.prefix, a), runner));
            }
        }
        // The plainest way to run code first, so a finding names it.
        let rank = |action: &str| {
            let name = action.split(':').nth(1).unwrap_or(action);
            [
                "Update", "Send", "Start", "Execute", "Create", "Add", "Modify", "Put",
            ]
            .iter()
            .position(|verb| name.starts_with(verb))
            .unwrap_or(usize::MAX)
        };
        out.sort_by_key(|(s, _)| rank(&s.action));
        out
    }
}

/// Catalogue entries a finding of `code` on `action` belongs to.
pub fn catalogue_ids(code: &str, action: &str) -> Vec<&'static str> {
    escalations()
        .paths
        .iter()
        .filter(|p| {
            (p.code.as_deref() == Some(code) || p.other_codes.iter().any(|c| c == code))
                && p.actions.iter().any(|a| a.eq_ignore_ascii_case(action))
        })
        .map(|p| p.id.as_str())
        .collect()
}

/// The ARN pattern of a resource type, placeholders made wildcards, in one partition and
/// account.
pub fn resource_pattern(
    service: &str,
    resource_type: &str,
    partition: &str,
    account: &str,
) -> String {
    let Some(arn) = awsdb::service(service)
        .and_then(|s| s.resource_types.iter().find(|r| r.name == resource_type))
        .map(|r| r.arn)
    else {
        return "*".to_string();
    };
    let mut out = String::new();
    let mut rest = arn;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        match &after[..end] {
            "Partition" => out.push_str(partition),
            "Account" if account == "\u{0}" => out.push('*'),
            "Account" => out.push_str(account),
            _ => out.push('*'),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The ARNs of a resource type in one partition: those of the account first, then those of
/// any other (AWS's own documents have none, shared ones another).
pub fn resource_spaces(
    service: &str,
    resource_type: &str,
    partition: &str,
    account: &str,
) -> [Lang; 2] {
    let own = resource_pattern(service, resource_type, partition, account);
    let any = resource_pattern(service, resource_type, partition, "\u{0}");
    [
        Lang::one_of(vec![lang::glob(&own, true)]),
        Lang::one_of(vec![lang::glob(&any, true)]).except(lang::glob(&own, true)),
    ]
}

/// Whether an AWS managed policy only reads: every action it allows is a Read or List action
/// in the service reference, or is named as one that reads (`Get…`, `List…`, `Describe…`;
/// the reference gives a few of those another level), or is one the curated data says
/// reads. Attaching one gives nothing to escalate with.
pub fn read_only_managed(arn: &str) -> bool {
    let reads = |service: &str, a: &awsdb::Action| {
        matches!(
            a.access_levels.first(),
            Some(AccessLevel::Read | AccessLevel::List)
        ) || ["Get", "List", "Describe", "BatchGet"]
            .iter()
            .any(|verb| a.name.starts_with(verb))
            || escalations().reads_despite_level.iter().any(|r| {
                r.action
                    .eq_ignore_ascii_case(&format!("{service}:{}", a.name))
            })
    };
    crate::eval::project::aws_managed_document(arn).is_some_and(|policy| {
        policy.statements.iter().all(|s| {
            s.effect.value == crate::iam::Effect::Deny
                || s.action.as_ref().is_some_and(|b| {
                    !b.not
                        && b.values.iter().all(|a| {
                            awsdb::actions_matching(&a.value)
                                .iter()
                                .all(|(svc, act)| reads(svc.prefix, act))
                        })
                })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_policies_are_told_apart() {
        let doc =
            crate::eval::project::aws_managed_document("arn:aws:iam::aws:policy/ReadOnlyAccess")
                .expect("embedded");
        let mut writes = Vec::new();
        for s in &doc.statements {
            for a in &s.action.as_ref().unwrap().values {
                for (svc, act) in awsdb::actions_matching(&a.value) {
                    if !matches!(
                        act.access_levels.first(),
                        Some(AccessLevel::Read | AccessLevel::List)
                    ) {
                        writes.push(format!("{}:{}", svc.prefix, act.name));
                    }
                }
            }
        }
        assert!(
            read_only_managed("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            "{writes:?}"
        );
        assert!(read_only_managed(
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
        ));
        assert!(!read_only_managed(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(!read_only_managed(
            "arn:aws:iam::aws:policy/PowerUserAccess"
        ));
    }

    #[test]
    fn the_data_file_reads_and_names_real_actions() {
        let data = escalations();
        assert!(data.paths.len() > 50, "the three catalogues");
        assert!(!running_actions().is_empty());
        let names: Vec<&str> = running_actions()
            .iter()
            .map(|(s, _)| s.action.as_str())
            .collect();
        for wanted in [
            "lambda:UpdateFunctionCode",
            "states:UpdateStateMachine",
            "ssm:SendCommand",
            "codebuild:StartBuildBatch",
        ] {
            assert!(names.contains(&wanted), "{wanted} runs code as a role");
        }
        assert!(!names.contains(&"lambda:DeleteFunction"));
        let users: Vec<String> = iam_writes_on(&["user"])
            .iter()
            .map(|s| s.action.clone())
            .collect();
        assert!(users.contains(&"iam:UpdateUser".to_string()));
        assert!(!users.contains(&"iam:GetUser".to_string()));
    }
}
