//! `iamx diff`: changes that mean nothing say so, changes that grant or remove access are
//! reported with the principal and the actions, and `--fail-on broadening` gates on them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::run;

/// A scratch directory holding two projects, `old/` and `new/`, one `main.iamx` each.
fn pair(name: &str, old: &str, new: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iamx-diff-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    for (side, text) in [("old", old), ("new", new)] {
        fs::create_dir_all(dir.join(side)).unwrap();
        fs::write(dir.join(side).join("main.iamx"), text).unwrap();
    }
    dir
}

fn diff(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let old = dir.join("old");
    let new = dir.join("new");
    let mut args = vec!["diff", old.to_str().unwrap(), new.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

fn verdict(name: &str, old: &str, new: &str) -> String {
    let dir = pair(name, old, new);
    let (code, stdout, stderr) = diff(&dir, &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    value["verdict"].as_str().unwrap().to_string()
}

const BASE: &str = r#"account "123456789012"

role App {
  trust {
    allow service lambda.amazonaws.com
  }
  policy Data {
    @sid(Read)
    allow s3:GetObject, s3:ListBucket on "arn:aws:s3:::orders", "arn:aws:s3:::orders/*"
    @sid(Queue)
    allow sqs:SendMessage on "arn:aws:sqs:eu-west-1:123456789012:orders"
    deny s3:GetObject on "arn:aws:s3:::orders/secret/*"
  }
}
"#;

#[test]
fn reordering_statements_is_no_change() {
    let new = r#"account "123456789012"

role App {
  trust {
    allow service lambda.amazonaws.com
  }
  policy Data {
    deny s3:GetObject on "arn:aws:s3:::orders/secret/*"
    @sid(Queue)
    allow sqs:SendMessage on "arn:aws:sqs:eu-west-1:123456789012:orders"
    @sid(Read)
    allow s3:GetObject, s3:ListBucket on "arn:aws:s3:::orders", "arn:aws:s3:::orders/*"
  }
}
"#;
    assert_eq!(verdict("reorder", BASE, new), "no_change");
}

#[test]
fn splitting_statements_and_renaming_sids_is_no_change() {
    let new = r#"account "123456789012"

role App {
  trust {
    allow service lambda.amazonaws.com
  }
  policy Data {
    @sid(ReadObjects)
    allow s3:GetObject on "arn:aws:s3:::orders", "arn:aws:s3:::orders/*"
    @sid(ListIt)
    allow s3:ListBucket on "arn:aws:s3:::orders"
    allow s3:ListBucket on "arn:aws:s3:::orders/*"
    allow sqs:SendMessage on "arn:aws:sqs:eu-west-1:123456789012:orders"
    deny s3:GetObject on "arn:aws:s3:::orders/secret/*"
  }
}
"#;
    assert_eq!(verdict("split", BASE, new), "no_change");
    // And merging them back.
    assert_eq!(verdict("merge", new, BASE), "no_change");
}

#[test]
fn moving_a_statement_to_an_attached_policy_is_no_change() {
    let new = r#"account "123456789012"

policy Queue {
  allow sqs:SendMessage on "arn:aws:sqs:eu-west-1:123456789012:orders"
}

role App {
  trust {
    allow service lambda.amazonaws.com
  }
  attach Queue
  policy Data {
    allow s3:GetObject, s3:ListBucket on "arn:aws:s3:::orders", "arn:aws:s3:::orders/*"
    deny s3:GetObject on "arn:aws:s3:::orders/secret/*"
  }
}
"#;
    let dir = pair("move", BASE, new);
    let (code, stdout, _) = diff(&dir, &["--format", "json"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The new managed policy is a subject of its own; the role's permissions do not change.
    assert!(value["changed"].as_array().unwrap().is_empty(), "{stdout}");
    assert_eq!(value["added_subjects"][0]["subject"], "policy Queue");
}

#[test]
fn a_wildcard_and_the_actions_it_matches_today_are_no_change() {
    let explicit: Vec<String> = iamx::awsdb::actions_matching("s3:Get*")
        .into_iter()
        .map(|(s, a)| format!("{}:{}", s.prefix, a.name))
        .collect();
    let policy = |actions: &str| {
        format!(
            "account \"123456789012\"\n\nuser reader {{\n  policy Read {{\n    allow {actions} on *\n  }}\n}}\n"
        )
    };
    assert!(explicit.len() > 10);
    assert_eq!(
        verdict(
            "wildcard",
            &policy("s3:Get*"),
            &policy(&explicit.join(", "))
        ),
        "no_change"
    );
    // One action fewer is a narrowing, of that action alone.
    let fewer = explicit[1..].join(", ");
    let dir = pair("wildcard-fewer", &policy("s3:Get*"), &policy(&fewer));
    let (_, stdout, _) = diff(&dir, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "narrows");
    let removed = value["changed"][0]["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["action"].as_str(), Some(explicit[0].as_str()));
}

#[test]
fn the_same_project_is_no_change() {
    for example in [
        "company-xyz",
        "team-groups",
        "lambda-service-role",
        "multi-env",
    ] {
        let path = format!("examples/{example}");
        let (code, stdout, stderr) = run(&["diff", &path, &path]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, "verdict: no change in effect\n", "{example}");
    }
}

/// A change that widens a resource, adds a wildcard, drops a condition and trusts a new
/// principal: each is reported as broadening, with the principal and the actions.
const BROADER: &str = r#"account "123456789012"

role App {
  trust {
    allow service lambda.amazonaws.com
    allow account "111122223333"
  }
  policy Data {
    @sid(Read)
    allow s3:GetObject, s3:ListBucket on "arn:aws:s3:::*"
    @sid(Queue)
    allow sqs:*Message on "arn:aws:sqs:eu-west-1:123456789012:orders"
    deny s3:GetObject on "arn:aws:s3:::orders/secret/*"
  }
}
"#;

#[test]
fn broadening_is_reported_with_the_principal_and_actions() {
    let dir = pair("broaden", BASE, BROADER);
    let (code, stdout, _) = diff(&dir, &["--format", "json"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "broadens");
    let app = &value["changed"][0];
    assert_eq!(app["subject"], "role App");
    let actions: Vec<&str> = app["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "s3:GetObject",
            "s3:ListBucket",
            "sqs:DeleteMessage",
            "sqs:ReceiveMessage"
        ]
    );
    assert!(app["removed"].as_array().unwrap().is_empty());
    // The witness is outside the old bucket, and not the denied prefix.
    let witness = app["added"][0]["resource"].as_str().unwrap();
    assert!(witness.starts_with("arn:aws:s3:::"), "{witness}");
    assert!(!witness.starts_with("arn:aws:s3:::orders/"), "{witness}");
    assert_eq!(value["trust"][0]["role"], "role App");
    let trusted = &value["trust"][0]["principals"];
    assert_eq!(trusted.as_array().unwrap().len(), 1, "{stdout}");
    assert_eq!(
        trusted[0]["principal"],
        "AWS `arn:aws:iam::111122223333:root`"
    );
    assert_eq!(trusted[0]["broadens"], true);
}

#[test]
fn narrowing_is_reported_and_does_not_fail_the_gate() {
    let dir = pair("narrow", BROADER, BASE);
    let (code, stdout, _) = diff(&dir, &["--fail-on", "broadening"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.starts_with("verdict: narrows\n"), "{stdout}");
}

#[test]
fn fail_on_broadening_exits_1() {
    let dir = pair("gate", BASE, BROADER);
    let (code, _, _) = diff(&dir, &["--fail-on", "broadening"]);
    assert_eq!(code, 1);
    let (code, _, _) = diff(&dir, &[]);
    assert_eq!(code, 0);
    let same = pair("gate-same", BASE, BASE);
    let (code, _, _) = diff(&same, &["--fail-on", "broadening"]);
    assert_eq!(code, 0);
}

#[test]
fn removing_a_condition_broadens_and_says_conditions_differ() {
    let old = r#"account "123456789012"

user dev {
  policy P {
    allow ec2:StartInstances on * when aws:ResourceTag/team == "dev"
  }
}
"#;
    let new = r#"account "123456789012"

user dev {
  policy P {
    allow ec2:StartInstances on *
  }
}
"#;
    let dir = pair("condition", old, new);
    let (code, stdout, _) = diff(&dir, &["--fail-on", "broadening"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("`ec2:StartInstances` on `*`"), "{stdout}");
    assert!(stdout.contains("conditions take part"), "{stdout}");
    // The same condition on both sides is no change.
    assert_eq!(verdict("condition-same", old, old), "no_change");
}

#[test]
fn json_documents_are_compared_too() {
    let dir = std::env::temp_dir().join(format!("iamx-diff-{}-json", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("old.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"}]}"#,
    )
    .unwrap();
    fs::write(
        dir.join("new.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    )
    .unwrap();
    let (code, stdout, stderr) = run(&[
        "diff",
        dir.join("old.json").to_str().unwrap(),
        dir.join("new.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "verdict: no change in effect\n");
}

#[test]
fn a_side_that_does_not_compile_is_a_usage_error() {
    let dir = pair("broken", BASE, "role {");
    let (code, _, stderr) = diff(&dir, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("does not compile"), "{stderr}");
}

#[test]
fn the_guarded_example_human() {
    let (code, stdout, _) = run(&[
        "diff",
        "examples/company-xyz",
        "examples/company-xyz-guarded",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn the_guarded_example_markdown() {
    let (code, stdout, _) = run(&[
        "diff",
        "examples/company-xyz",
        "examples/company-xyz-guarded",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn broadening_human() {
    let dir = pair("broaden-human", BASE, BROADER);
    let (_, stdout, _) = diff(&dir, &[]);
    insta::assert_snapshot!(stdout);
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "s3:*",
    "sqs:SendMessage",
    "*",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::a/*",
    "arn:aws:s3:::a/b",
    "arn:aws:s3:::b*",
    "arn:aws:sqs:us-east-1:111122223333:q",
    "arn:aws:s3:::a/${aws:username}",
    "arn:aws:s3:::a/?",
];
const CONDITIONS: &[&str] = &[
    "",
    "",
    r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":"x"}}"#,
    r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":["x","y"]}}"#,
];

fn random_policy(rng: &mut Rng, statements: usize, allow_only: bool) -> iamx::iam::Policy {
    let mut out = Vec::new();
    for _ in 0..statements {
        let effect = if allow_only || rng.next() % 4 != 0 {
            "Allow"
        } else {
            "Deny"
        };
        let not_action = if rng.next() % 6 == 0 { "Not" } else { "" };
        let not_resource = if rng.next() % 6 == 0 { "Not" } else { "" };
        let actions = [rng.pick(ACTIONS), rng.pick(ACTIONS)];
        let resources = [rng.pick(RESOURCES), rng.pick(RESOURCES)];
        let condition = rng.pick(CONDITIONS);
        out.push(format!(
            r#"{{"Effect":"{effect}","{not_action}Action":["{}","{}"],"{not_resource}Resource":["{}","{}"]{condition}}}"#,
            actions[0], actions[1], resources[0], resources[1]
        ));
    }
    policy_of(&out, iamx::iam::from_json::JsonKind::Identity)
}

fn side(identity: &iamx::iam::Policy, boundary: Option<&iamx::iam::Policy>) -> iamx::diff::Side {
    let mut side = iamx::diff::Side::default();
    side.subjects.insert(
        "user u".into(),
        iamx::diff::Subject {
            identity: identity.statements.clone(),
            boundary: boundary.map(|b| b.statements.clone()),
            missing: Vec::new(),
        },
    );
    side
}

fn allowed(
    identity: &iamx::iam::Policy,
    boundary: Option<&iamx::iam::Policy>,
    request: &iamx::eval::Request,
) -> bool {
    use iamx::eval::{CompiledPolicy, DecisionKind, PolicySet};
    let set = PolicySet {
        identity: vec![CompiledPolicy::new("identity", identity)],
        boundary: boundary.map(|b| CompiledPolicy::new("boundary", b)),
        ..PolicySet::default()
    };
    set.evaluate(request).kind == DecisionKind::Allowed
}

/// Random pairs of policies: a verdict that denies a broadening (or a narrowing) is never
/// contradicted by a sampled request evaluated as AWS would.
#[test]
fn verdicts_agree_with_evaluation_of_sampled_requests() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let requests: Vec<iamx::eval::Request> = {
        let mut out = Vec::new();
        for action in [
            "s3:GetObject",
            "s3:PutObject",
            "s3:GetBucketAcl",
            "sqs:SendMessage",
        ] {
            for resource in [
                "arn:aws:s3:::a/b",
                "arn:aws:s3:::a/c",
                "arn:aws:s3:::bb",
                "arn:aws:s3:::a/u",
                "arn:aws:s3:::a/uu",
                "arn:aws:sqs:us-east-1:111122223333:q",
                "arn:aws:sqs:us-east-1:111122223333:r",
                "*",
            ] {
                for team in [None, Some("x"), Some("y"), Some("z")] {
                    // The user `b` (one character, as `a/?` matches) and the user `u`.
                    for user in ["b", "u", "uu"] {
                        let mut r = iamx::eval::Request::new(
                            &format!("arn:aws:iam::111122223333:user/{user}"),
                            action,
                            resource,
                        );
                        r.context.insert("aws:username", vec![user.to_string()]);
                        if let Some(t) = team {
                            r.context
                                .insert("aws:PrincipalTag/team", vec![t.to_string()]);
                        }
                        out.push(r);
                    }
                }
            }
        }
        out
    };
    let (mut no_change, mut cases) = (0, 0);
    for _ in 0..150 {
        let n = 1 + (rng.next() % 3) as usize;
        let old = random_policy(&mut rng, n, false);
        // Half the time a small edit of the old policy, else an unrelated one.
        let new = if rng.next() % 2 == 0 {
            let mut p = old.clone();
            let extra = random_policy(&mut rng, 1, false);
            if rng.next() % 2 == 0 && p.statements.len() > 1 {
                p.statements.reverse();
            } else {
                p.statements.extend(extra.statements);
            }
            p
        } else {
            random_policy(&mut rng, n, false)
        };
        let boundary = (rng.next() % 3 == 0).then(|| random_policy(&mut rng, 1, true));
        let d = iamx::diff::diff(
            &side(&old, boundary.as_ref()),
            &side(&new, boundary.as_ref()),
        );
        let broadens = matches!(
            d.verdict,
            iamx::diff::Verdict::Broadens | iamx::diff::Verdict::Both
        );
        let narrows = matches!(
            d.verdict,
            iamx::diff::Verdict::Narrows | iamx::diff::Verdict::Both
        );
        cases += 1;
        no_change += usize::from(!broadens && !narrows);
        for r in &requests {
            let (a, b) = (
                allowed(&old, boundary.as_ref(), r),
                allowed(&new, boundary.as_ref(), r),
            );
            assert!(
                broadens || !b || a,
                "said not broadening, but {} on {} ({:?}) is newly allowed:\nold {old:#?}\nnew {new:#?}\nboundary {boundary:#?}",
                r.action,
                r.resource,
                r.context.iter().collect::<Vec<_>>()
            );
            assert!(
                narrows || !a || b,
                "said not narrowing, but {} on {} is no longer allowed:\nold {old:#?}\nnew {new:#?}",
                r.action,
                r.resource
            );
        }
    }
    // The generator makes both kinds of pairs.
    assert!(no_change > 5 && no_change < cases, "{no_change} of {cases}");
}

#[test]
fn removing_a_guard_broadens_the_boundary_and_its_holders() {
    let old = r#"account "123456789012"

boundary Dev {
  allow iam:*, s3:* on *
  guard {
    create users under "/dev/"
  }
}

user lead {
  path "/dev/"
  boundary Dev
  allow iam:CreateUser, iam:AttachUserPolicy on "arn:aws:iam::123456789012:user/*"
}
"#;
    let new = old.replace("  guard {\n    create users under \"/dev/\"\n  }\n", "");
    assert_ne!(old, new);
    let dir = pair("guard", old, &new);
    let (code, stdout, stderr) = diff(&dir, &["--format", "json", "--fail-on", "broadening"]);
    assert_eq!(code, 1, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "broadens", "{stdout}");
    let subjects: Vec<&str> = value["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["boundary Dev", "user lead"]);
    let lead: Vec<&str> = value["changed"][1]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert!(lead.contains(&"iam:CreateUser"), "{lead:?}");
    assert!(value["changed"][1]["removed"]
        .as_array()
        .unwrap()
        .is_empty());
    // The clause itself is listed, and the boundary is now open.
    assert_eq!(value["guards"][0]["boundary"], "boundary Dev");
    assert_eq!(
        value["guards"][0]["removed"][0],
        r#"create users under "/dev/""#
    );
    assert_eq!(value["guards"][0]["guard_now"], false);
    let (_, human, _) = diff(&dir, &[]);
    assert!(
        human.contains("  boundary Dev: guard clause removed: create users under \"/dev/\"\n"),
        "{human}"
    );
    assert!(
        human.contains("  boundary Dev: closed before, open now\n"),
        "{human}"
    );
    // Added back, the other way: a clause added narrows.
    let back = pair("guard-back", &new, old);
    let (_, stdout, _) = diff(&back, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        value["guards"][0]["added"][0],
        r#"create users under "/dev/""#
    );
    assert_eq!(value["verdict"], "narrows", "{stdout}");
}

#[test]
fn an_operator_named_or_written_as_eq_is_no_change() {
    let policy = |condition: &str| {
        format!(
            "account \"123456789012\"\n\nuser dev {{\n  policy P {{\n    allow ec2:StartInstances on * when {condition}\n  }}\n}}\n"
        )
    };
    assert_eq!(
        verdict(
            "operator",
            &policy(r#"aws:ResourceTag/team == "dev""#),
            &policy(r#"aws:ResourceTag/team StringEquals "dev""#)
        ),
        "no_change"
    );
    // Another value is a change, both ways.
    assert_eq!(
        verdict(
            "operator-value",
            &policy(r#"aws:ResourceTag/team == "dev""#),
            &policy(r#"aws:ResourceTag/team == "ops""#)
        ),
        "both"
    );
}

#[test]
fn git_compares_a_revision_with_the_working_tree() {
    let dir = std::env::temp_dir().join(format!("iamx-diff-{}-git", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("iam")).unwrap();
    fs::write(dir.join("iam/main.iamx"), BASE).unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(["-c", "user.name=iamx", "-c", "user.email=iamx@example.com"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    let project = dir.join("iam");
    let file = project.join("main.iamx");
    // Unchanged: no change, for the directory and for the file.
    for path in [&project, &file] {
        let (code, stdout, stderr) = run(&["diff", "--git", "HEAD", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, "verdict: no change in effect\n");
    }
    fs::write(&file, BROADER).unwrap();
    let (code, stdout, stderr) = run(&[
        "diff",
        "--git",
        "HEAD",
        project.to_str().unwrap(),
        "--fail-on",
        "broadening",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.starts_with("verdict: broadens\n"), "{stdout}");
    let (code, _, stderr) = run(&["diff", "--git", "no-such-rev", project.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: cannot read `"), "{stderr}");
    let (code, _, stderr) = run(&["diff", project.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("`--git REV`"), "{stderr}");
}

#[test]
fn sarif_has_a_result_per_change() {
    let dir = pair("sarif", BASE, BROADER);
    let (code, stdout, _) = diff(&dir, &["--format", "sarif"]);
    assert_eq!(code, 0);
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let rules: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    // The role's new actions, and its new trust.
    assert_eq!(rules, ["broadens", "broadens"]);
    assert_eq!(log["runs"][0]["properties"]["verdict"], "broadens");
}

/// A user policy granting `iam:GetUser` on one resource.
fn user_policy(resources: &str, extra: &str) -> String {
    format!(
        "account \"111122223333\"\n\nuser dev {{\n  policy P {{\n    allow iam:GetUser on {resources}\n{extra}  }}\n}}\n"
    )
}

#[test]
fn a_policy_variable_is_any_value_not_its_text() {
    // Fifteen `?` match the text `${aws:username}`, fifteen characters, but not the names of
    // real users: the variable is not covered, so this may broaden.
    let old = user_policy(r#""arn:aws:iam::111122223333:user/???????????????""#, "");
    let new = user_policy(r#""arn:aws:iam::111122223333:user/${aws:username}""#, "");
    let dir = pair("variable-text", &old, &new);
    let (code, stdout, stderr) = diff(&dir, &["--fail-on", "broadening"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // Both ways: the old names of fifteen characters are not all covered by the new either.
    assert!(stdout.starts_with("verdict: both\n"), "{stdout}");
    assert!(
        stdout.contains("`iam:GetUser` on `arn:aws:iam::111122223333:user/${aws:username}`"),
        "{stdout}"
    );
    assert!(stdout.contains("`iam:GetUser`"), "{stdout}");
    assert!(stdout.contains("${aws:username}"), "{stdout}");
    assert!(stdout.contains("policy variables take part"), "{stdout}");
    // Covered for every value: `user/*` holds any name.
    let wide = user_policy(r#""arn:aws:iam::111122223333:user/*""#, "");
    assert_eq!(verdict("variable-covered", &wide, &new), "narrows");
}

#[test]
fn the_same_policy_variable_on_both_sides_is_no_change() {
    let policy = user_policy(r#""arn:aws:iam::111122223333:user/${aws:username}""#, "");
    assert_eq!(verdict("variable-same", &policy, &policy), "no_change");
    // The same statement with a variable, next to a statement that changes for the same
    // action: only the change is reported.
    let old = user_policy(
        r#""arn:aws:iam::111122223333:user/${aws:username}""#,
        "    allow iam:GetUser on \"arn:aws:iam::111122223333:user/ops/*\"\n",
    );
    let new = user_policy(
        r#""arn:aws:iam::111122223333:user/${aws:username}""#,
        "    allow iam:GetUser on \"arn:aws:iam::111122223333:user/dev/*\"\n",
    );
    let dir = pair("variable-twin", &old, &new);
    let (_, stdout, _) = diff(&dir, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "both", "{stdout}");
    let user = &value["changed"][0];
    assert_eq!(
        user["added"][0]["under"][0],
        "arn:aws:iam::111122223333:user/dev/*"
    );
    assert_eq!(
        user["removed"][0]["under"][0],
        "arn:aws:iam::111122223333:user/ops/*"
    );
    assert_eq!(user["added"].as_array().unwrap().len(), 1, "{stdout}");
    assert_eq!(user["removed"].as_array().unwrap().len(), 1, "{stdout}");
}

#[test]
fn a_policy_variable_in_a_condition_value_is_compared_as_one_unknown() {
    let policy = |value: &str| {
        format!(
            "account \"111122223333\"\n\nuser dev {{\n  policy P {{\n    allow s3:ListBucket on \"arn:aws:s3:::home\" when s3:prefix like \"{value}\"\n  }}\n}}\n"
        )
    };
    let var = policy("home/${aws:username}/*");
    assert_eq!(verdict("condvar-same", &var, &var), "no_change");
    // Against one user's literal name: the variable may be another value, so a change both
    // ways, never "no change".
    let literal = policy("home/steve/*");
    assert_eq!(verdict("condvar-literal", &var, &literal), "both");
}

#[test]
fn the_same_arn_under_another_label_is_a_rename() {
    // A managed policy declared as a boundary instead: the same ARN, `policy/Shared`.
    let old = r#"account "123456789012"

policy Shared {
  allow s3:GetObject on "arn:aws:s3:::shared/*"
}
"#;
    let new = old.replace("policy Shared", "boundary Shared");
    let dir = pair("rename", old, &new);
    let (code, stdout, stderr) = diff(&dir, &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "no_change", "{stdout}");
    assert!(
        value["added_subjects"].as_array().unwrap().is_empty(),
        "{stdout}"
    );
    assert!(
        value["removed_subjects"].as_array().unwrap().is_empty(),
        "{stdout}"
    );
    assert_eq!(value["renamed"][0]["old"], "policy Shared");
    assert_eq!(value["renamed"][0]["new"], "boundary Shared");
    assert_eq!(
        value["renamed"][0]["arn"],
        "arn:aws:iam::123456789012:policy/Shared"
    );
    let (_, human, _) = diff(&dir, &[]);
    assert_eq!(
        human,
        "verdict: no change in effect\n\nboundary Shared (renamed from policy Shared: the same ARN)\n  allows the same as before\n\nguardrail\n  boundary Shared: absent before, closed now\n"
    );
}

#[test]
fn the_same_name_under_another_path_is_the_same_principal_moved() {
    let old = r#"account "123456789012"

user dev {
  path "/a/"
  allow s3:GetObject on "arn:aws:s3:::shared/*"
}
"#;
    let new = old.replace("/a/", "/b/");
    let dir = pair("moved", old, &new);
    let (_, stdout, _) = diff(&dir, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "no_change", "{stdout}");
    assert_eq!(value["changed"][0]["subject"], "user dev");
    assert_eq!(
        value["changed"][0]["arn_changed"][1],
        "arn:aws:iam::123456789012:user/b/dev"
    );
    assert!(value["renamed"].as_array().unwrap().is_empty());
    let (_, human, _) = diff(&dir, &[]);
    assert!(
        human.contains("user dev (ARN changed from arn:aws:iam::123456789012:user/a/dev to arn:aws:iam::123456789012:user/b/dev)\n  allows the same as before\n"),
        "{human}"
    );
}

/// A role trusting `trust`, for the trust tests.
fn trusting(trust: &str) -> String {
    format!(
        "account \"123456789012\"\n\nrole App {{\n  trust {{\n{trust}  }}\n  allow s3:ListAllMyBuckets on *\n}}\n"
    )
}

#[test]
fn trust_is_compared_as_principals_and_their_conditions() {
    let open = trusting("    allow account \"111122223333\"\n");
    let guarded =
        trusting("    allow account \"111122223333\" when aws:PrincipalTag/team == \"ops\"\n");
    // A condition added to the same principal: it can no longer assume the role in some
    // requests; one principal, changed, not one grant removed and one added.
    let dir = pair("trust-cond", &open, &guarded);
    let (_, stdout, _) = diff(&dir, &[]);
    assert_eq!(
        stdout,
        "verdict: narrows\n\ntrust\n  role App: trusts AWS `arn:aws:iam::111122223333:root` less widely: now `sts:AssumeRole` when `aws:principaltag/team` StringEquals ops; before `sts:AssumeRole`\n"
    );
    // And removed: more widely, a broadening.
    let dir = pair("trust-uncond", &guarded, &open);
    let (code, stdout, _) = diff(&dir, &["--fail-on", "broadening"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("more widely"), "{stdout}");
    // One principal swapped for another: one newly trusted, one no longer.
    let other = trusting("    allow account \"444455556666\"\n");
    let dir = pair("trust-swap", &open, &other);
    let (_, stdout, _) = diff(&dir, &[]);
    assert!(stdout.starts_with("verdict: both\n"), "{stdout}");
    assert!(
        stdout.contains(
            "role App: newly trusts AWS `arn:aws:iam::444455556666:root`: `sts:AssumeRole`\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "role App: no longer trusts AWS `arn:aws:iam::111122223333:root`: `sts:AssumeRole`\n"
        ),
        "{stdout}"
    );
    // A principal added next to one kept: only it is reported.
    let both = trusting("    allow account \"111122223333\"\n    allow account \"444455556666\"\n");
    let dir = pair("trust-add", &open, &both);
    let (_, stdout, _) = diff(&dir, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "broadens");
    let principals = value["trust"][0]["principals"].as_array().unwrap();
    assert_eq!(principals.len(), 1, "{stdout}");
    assert_eq!(
        principals[0]["principal"],
        "AWS `arn:aws:iam::444455556666:root`"
    );
}

/// Writes `old.json` and `new.json` and runs `iamx diff` on them.
fn json_pair(name: &str, old: &str, new: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("iamx-diff-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("old.json"), old).unwrap();
    fs::write(dir.join("new.json"), new).unwrap();
    let (o, n) = (dir.join("old.json"), dir.join("new.json"));
    let mut args = vec!["diff", o.to_str().unwrap(), n.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn resource_policies_are_compared_per_principal() {
    let bucket =
        |statements: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    let read = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}"#;
    let write = r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::data/*"}"#;
    let old = bucket(read);
    // Reordered, and the same: no change.
    let (code, stdout, stderr) = json_pair("resource-same", &old, &old, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "verdict: no change in effect\n");
    // A grant to another principal: it broadens, for that principal and that action.
    let new = bucket(&format!("{write},{read}"));
    let (code, stdout, _) = json_pair("resource-add", &old, &new, &["--format", "json"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "broadens", "{stdout}");
    // Before, it had what anyone had: nothing.
    assert_eq!(value["changed"].as_array().unwrap().len(), 1, "{stdout}");
    let added = &value["changed"][0];
    assert_eq!(
        added["subject"],
        "principal AWS arn:aws:iam::111122223333:root"
    );
    assert_eq!(added["added"][0]["action"], "s3:PutObject");
    // A grant to anyone: every principal gains, the named ones included.
    let anyone = r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public/*"}"#;
    let new = bucket(&format!("{read},{anyone}"));
    let (_, stdout, _) = json_pair("resource-anyone", &old, &new, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "broadens", "{stdout}");
    let changed: Vec<&str> = value["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        [
            "principal AWS arn:aws:iam::111122223333:role/reader",
            "principal anyone"
        ],
        "{stdout}"
    );
    // A denial of the only principal dropped while anyone is allowed: a broadening for it.
    let deny = r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/reader"},"Action":"s3:GetObject","Resource":"*"}"#;
    let (code, stdout, _) = json_pair(
        "resource-deny",
        &bucket(&format!("{anyone},{deny}")),
        &bucket(anyone),
        &["--fail-on", "broadening"],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("principal AWS arn:aws:iam::111122223333:role/reader"),
        "{stdout}"
    );
}

#[test]
fn trust_policies_in_json_are_compared_as_trust() {
    let trust = |principal: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let (code, stdout, stderr) = json_pair(
        "trust-json",
        &trust("lambda.amazonaws.com"),
        &trust("ec2.amazonaws.com"),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "verdict: both\n\ntrust\n  trust policy: newly trusts Service `ec2.amazonaws.com`: `sts:AssumeRole`\n  trust policy: no longer trusts Service `lambda.amazonaws.com`: `sts:AssumeRole`\n"
    );
}

#[test]
fn swapping_a_boundary_for_a_broader_one_broadens_its_holder() {
    let old = r#"account "123456789012"

boundary Narrow {
  allow s3:* on *
}

boundary Wide {
  allow s3:*, ec2:* on *
}

user dev {
  boundary Narrow
  allow s3:GetObject, ec2:StartInstances on *
}
"#;
    let new = old.replace(
        "boundary Narrow\n  allow s3:G",
        "boundary Wide\n  allow s3:G",
    );
    assert_ne!(old, new);
    let dir = pair("boundary-swap", old, &new);
    let (code, stdout, _) = diff(&dir, &["--format", "json", "--fail-on", "broadening"]);
    assert_eq!(code, 1, "{stdout}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "broadens");
    assert_eq!(value["changed"].as_array().unwrap().len(), 1, "{stdout}");
    assert_eq!(value["changed"][0]["subject"], "user dev");
    let added: Vec<&str> = value["changed"][0]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(added, ["ec2:StartInstances"]);
}

fn random_resource_policy(rng: &mut Rng, statements: usize) -> iamx::iam::Policy {
    const PRINCIPALS: &[&str] = &[
        r#""Principal":{"AWS":"arn:aws:iam::111122223333:role/a"}"#,
        r#""Principal":{"AWS":"arn:aws:iam::111122223333:role/b"}"#,
        r#""Principal":{"AWS":["arn:aws:iam::111122223333:role/a","arn:aws:iam::111122223333:role/b"]}"#,
        r#""Principal":"*""#,
        r#""Principal":{"AWS":"*"}"#,
        r#""Principal":{"AWS":"arn:aws:iam::111122223333:user/u"}"#,
    ];
    const NOT_PRINCIPALS: &[&str] = &[
        r#""NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/a"}"#,
        r#""NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/u","arn:aws:iam::111122223333:root"]}"#,
        r#""NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/a","111122223333"]}"#,
        r#""NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/u"}"#,
    ];
    let mut out = Vec::new();
    for _ in 0..statements {
        let deny = rng.next() % 4 == 0;
        let principal = if deny && rng.next() % 3 == 0 {
            rng.pick(NOT_PRINCIPALS)
        } else {
            rng.pick(PRINCIPALS)
        };
        let effect = if deny { "Deny" } else { "Allow" };
        let actions = [rng.pick(&ACTIONS[..4]), rng.pick(&ACTIONS[..4])];
        let resources = [rng.pick(&RESOURCES[1..4]), rng.pick(&RESOURCES[1..4])];
        let condition = rng.pick(CONDITIONS);
        out.push(format!(
            r#"{{"Effect":"{effect}",{principal},"Action":["{}","{}"],"Resource":["{}","{}"]{condition}}}"#,
            actions[0], actions[1], resources[0], resources[1]
        ));
    }
    policy_of(&out, iamx::iam::from_json::JsonKind::Resource)
}

/// Random pairs of resource-based policies: a verdict that denies a broadening (or a
/// narrowing) is never contradicted by a request of a named or an unnamed principal.
#[test]
fn resource_policy_verdicts_agree_with_evaluation() {
    use iamx::eval::{CompiledPolicy, DecisionKind, PolicySet};
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let allowed = |policy: &iamx::iam::Policy, r: &iamx::eval::Request| {
        let set = PolicySet {
            resource: Some(CompiledPolicy::new("resource", policy)),
            ..PolicySet::default()
        };
        set.evaluate(r).kind == DecisionKind::Allowed
    };
    let mut requests = Vec::new();
    // Roles' sessions (what makes a role's requests), and users.
    for who in [
        "sts::111122223333:assumed-role/a/s",
        "sts::111122223333:assumed-role/b/s",
        "sts::111122223333:assumed-role/c/s",
        "iam::111122223333:user/u",
        "iam::111122223333:user/v",
    ] {
        for action in ["s3:GetObject", "s3:PutObject", "s3:GetBucketAcl"] {
            for resource in ["arn:aws:s3:::a/b", "arn:aws:s3:::a/c", "arn:aws:s3:::bb"] {
                for team in [None, Some("x"), Some("z")] {
                    let mut r =
                        iamx::eval::Request::new(&format!("arn:aws:{who}"), action, resource);
                    if let Some(t) = team {
                        r.context
                            .insert("aws:PrincipalTag/team", vec![t.to_string()]);
                    }
                    requests.push(r);
                }
            }
        }
    }
    let (mut some_allowed, mut no_change) = (0, 0);
    for _ in 0..250 {
        let n = 1 + (rng.next() % 3) as usize;
        let old = random_resource_policy(&mut rng, n);
        let new = if rng.next() % 2 == 0 {
            let mut p = old.clone();
            p.statements
                .extend(random_resource_policy(&mut rng, 1).statements);
            p
        } else {
            random_resource_policy(&mut rng, n)
        };
        let d = iamx::diff::diff(
            &iamx::diff::Side::of_resource_policy(&old),
            &iamx::diff::Side::of_resource_policy(&new),
        );
        let broadens = matches!(
            d.verdict,
            iamx::diff::Verdict::Broadens | iamx::diff::Verdict::Both
        );
        let narrows = matches!(
            d.verdict,
            iamx::diff::Verdict::Narrows | iamx::diff::Verdict::Both
        );
        no_change += usize::from(!broadens && !narrows);
        for r in &requests {
            let (a, b) = (allowed(&old, r), allowed(&new, r));
            some_allowed += usize::from(a || b);
            assert!(
                broadens || !b || a,
                "said not broadening, but {} {} on {} is newly allowed:\nold {old:#?}\nnew {new:#?}",
                r.principal,
                r.action,
                r.resource
            );
            assert!(
                narrows || !a || b,
                "said not narrowing, but {} {} on {} ({:?}) is no longer allowed:\nold {}\nnew {}\n{d:#?}",
                r.principal,
                r.action,
                r.resource,
                r.context.iter().collect::<Vec<_>>(),
                iamx::iam::json::policy(&old),
                iamx::iam::json::policy(&new)
            );
        }
    }
    assert!(some_allowed > 100, "{some_allowed}");
    assert!(no_change > 3, "{no_change}");
}

/// A generated policy: its statements (JSON objects), read as a document of `kind`.
fn policy_of(statements: &[String], kind: iamx::iam::from_json::JsonKind) -> iamx::iam::Policy {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    );
    let (read, found) =
        iamx::iam::from_json::read_policy(iamx::source::FileId(0), &text, Some(kind));
    read.unwrap_or_else(|| panic!("{text}: {found:?}")).policy
}
