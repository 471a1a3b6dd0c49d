//! `--compact` never changes what a policy allows or denies, for any action of the embedded
//! service reference: checked action by action on every example and on a sample of AWS
//! managed policies. And it makes them smaller.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use iamx::compact::compact_policy;
use iamx::eval::pattern::wildcard;
use iamx::iam::{self, Policy, Statement};

/// Every action of the reference a policy could match: those of the services it names.
fn candidates(policy: &Policy) -> Vec<String> {
    let mut prefixes = BTreeSet::new();
    for statement in &policy.statements {
        for value in statement.action.iter().flat_map(|b| &b.values) {
            if let Some((prefix, _)) = value.value.split_once(':') {
                if let Some(service) = iamx::awsdb::service(prefix) {
                    prefixes.insert(service.prefix);
                }
            }
        }
    }
    prefixes
        .into_iter()
        .filter_map(iamx::awsdb::service)
        .flat_map(|s| {
            s.actions
                .iter()
                .map(move |a| format!("{}:{}", s.prefix, a.name))
        })
        .collect()
}

/// A statement without its actions and Sid, as text.
fn shape(statement: &Statement) -> String {
    let mut bare = statement.clone();
    bare.sid = None;
    if let Some(block) = &mut bare.action {
        if !block.not {
            bare.action = None;
        }
    }
    iam::json::statement(&bare).to_string()
}

/// For each shape of statement (effect, resources, conditions, and a `NotAction` list
/// whole), the actions its statements match.
fn matched(policy: &Policy, actions: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for statement in &policy.statements {
        let entry = out.entry(shape(statement)).or_default();
        let Some(block) = &statement.action else {
            continue;
        };
        for action in actions {
            let hit = block
                .values
                .iter()
                .any(|v| wildcard(&v.value, action, true));
            if hit != block.not {
                entry.insert(action.clone());
            }
        }
    }
    out
}

fn size(policy: &Policy) -> usize {
    iam::json::quota_size(&iam::json::policy(policy))
}

/// Compacts a policy and checks it; returns (size before, size after).
fn check(label: &str, policy: &Policy) -> (usize, usize) {
    let compacted = compact_policy(policy);
    let actions = candidates(policy);
    assert_eq!(
        matched(policy, &actions),
        matched(&compacted, &actions),
        "{label}: compacting changed what is matched"
    );
    // Idempotent: compacting twice gives the same.
    assert_eq!(compact_policy(&compacted), compacted, "{label}");
    let (before, after) = (size(policy), size(&compacted));
    assert!(after <= before, "{label}: {before} → {after}");
    (before, after)
}

#[test]
fn examples_compact_to_the_same_actions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut documents = 0;
    for example in std::fs::read_dir(&root).unwrap() {
        let dir = example.unwrap().path();
        let mut sources = Vec::new();
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            sources.push(iamx::Source::new(
                path.to_string_lossy(),
                std::fs::read(&path).unwrap(),
            ));
        }
        let (project, diagnostics) = iamx::lower_sources(sources, &Default::default());
        let project = project.unwrap_or_else(|| panic!("{}: {diagnostics:?}", dir.display()));
        for document in &project.documents {
            check(
                &format!("{}: {}", dir.display(), document.file),
                &document.policy,
            );
            documents += 1;
        }
    }
    assert!(documents > 10);
}

#[test]
fn aws_managed_policies_compact_to_the_same_actions() {
    let all: Vec<_> = iamx::awsdb::managed_policies().collect();
    assert!(all.len() > 500);
    let (mut before, mut after, mut checked) = (0, 0, 0);
    // Every 25th, and a few large ones that list many actions.
    let picked = all.iter().enumerate().filter(|(i, p)| {
        i % 25 == 0
            || [
                "ViewOnlyAccess",
                "SecurityAudit",
                "AWSLambda_ReadOnlyAccess",
                "AmazonEC2ReadOnlyAccess",
            ]
            .contains(&p.name)
    });
    for (_, managed) in picked {
        let (read, _) = iamx::iam::from_json::read_policy(
            iamx::source::FileId(0),
            managed.document,
            Some(iamx::iam::from_json::JsonKind::Identity),
        );
        let Some(read) = read else { continue };
        let (b, a) = check(managed.name, &read.policy);
        before += b;
        after += a;
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} policies read");
    assert!(after < before, "nothing got smaller");
    eprintln!(
        "{checked} AWS managed policies: {before} characters, compacted {after} ({:.1}% smaller)",
        100.0 * (before - after) as f64 / before as f64
    );
}

/// What `--compact` does to a small policy, written out.
#[test]
fn statements_merge_and_lists_collapse() {
    let source = r#"account "123456789012"
policy P {
  allow s3:GetObject on "arn:aws:s3:::b/*"
  allow s3:GetObjectAcl, s3:GetObjectAttributes on "arn:aws:s3:::b/*"
  @sid(Named)
  allow s3:PutObject on "arn:aws:s3:::b/*"
  allow ec2:Describe* on *
  allow ec2:DescribeInstances on *
  deny not s3:GetObject, s3:PutObject on *
}
"#;
    let options = iamx::Options {
        compact: true,
        ..Default::default()
    };
    let compilation = iamx::compile(vec![iamx::Source::new("main.iamx", source)], &options);
    let project = compilation.project.as_ref().expect("compiles");
    let text = iam::json::pretty(&iam::json::policy(&project.documents[0].policy));
    insta::assert_snapshot!(text);
}
