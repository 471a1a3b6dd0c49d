//! `--split`: parts fit the quota, decisions are unchanged, and parts are stable: one
//! statement added, removed or edited changes at most two parts (packing in order changes
//! many).

use iamx::eval::project::policy_set;
use iamx::eval::{DecisionKind, Request};
use iamx::iam::{
    Block, Document, DocumentKind, Effect, ManagedPolicyInfo, Policy, PrincipalInfo, PrincipalKind,
    Project, Spanned, Statement,
};
use iamx::split::{assign, split};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "s3:*",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:*",
    "sqs:SendMessage",
];

fn block(values: Vec<String>, not: bool) -> Block {
    Block {
        not,
        values: values.into_iter().map(|v| Spanned::new(v, None)).collect(),
        span: None,
    }
}

fn resource(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => "*".into(),
        1 => format!("arn:aws:s3:::bucket-{}/*", rng.below(8)),
        2 => format!("arn:aws:s3:::bucket-{}/reports/*", rng.below(8)),
        _ => format!(
            "arn:aws:dynamodb:eu-west-1:123456789012:table/t{}",
            rng.below(8)
        ),
    }
}

fn statement(rng: &mut Rng, n: usize) -> Statement {
    let actions = (0..1 + rng.below(3))
        .map(|_| ACTIONS[rng.below(ACTIONS.len())].to_string())
        .collect();
    let resources = (0..1 + rng.below(3)).map(|_| resource(rng)).collect();
    Statement {
        sid: (rng.below(3) > 0).then(|| Spanned::new(format!("S{n}"), None)),
        effect: Spanned::new(
            if rng.below(6) == 0 {
                Effect::Deny
            } else {
                Effect::Allow
            },
            None,
        ),
        principal: None,
        not_principal: false,
        action: Some(block(actions, rng.below(10) == 0)),
        resource: Some(block(resources, false)),
        conditions: Vec::new(),
        span: None,
        docs: Vec::new(),
    }
}

/// A project of one big managed policy, attached to a user.
fn project(statements: Vec<Statement>) -> Project {
    let arn = "arn:aws:iam::123456789012:policy/Big".to_string();
    Project {
        account: Some("123456789012".into()),
        partition: "aws".into(),
        documents: vec![Document {
            kind: DocumentKind::Managed,
            name: "Big".into(),
            owner: None,
            file: "policies/Big.json".into(),
            policy: Policy {
                statements,
                id: None,
            },
            span: None,
            split: false,
        }],
        principals: vec![PrincipalInfo {
            kind: PrincipalKind::User,
            name: "alice".into(),
            path: "/".into(),
            arn: Some("arn:aws:iam::123456789012:user/alice".into()),
            boundary: None,
            attached: vec![Spanned::new(arn.clone(), None)],
            groups: Vec::new(),
            tags: Default::default(),
            description: None,
            docs: Vec::new(),
            documents: Vec::new(),
            span: None,
            name_span: None,
            delegates: false,
            max_session: None,
            instance_profile: None,
            split: false,
        }],
        policies: vec![ManagedPolicyInfo {
            name: "Big".into(),
            path: "/".into(),
            arn: Some(arn),
            boundary: false,
            guard: None,
            description: None,
            docs: Vec::new(),
            document: 0,
            span: None,
        }],
        tests: Vec::new(),
        ..Project::default()
    }
}

fn size(policy: &Policy) -> usize {
    iamx::iam::json::quota_size(&iamx::iam::json::policy(policy))
}

#[test]
fn parts_fit_and_decisions_are_unchanged() {
    let concrete_actions = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:GetBucketPolicy",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",
        "sqs:DeleteQueue",
    ];
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let statements: Vec<Statement> = (0..150 + rng.below(150))
            .map(|n| statement(&mut rng, n))
            .collect();
        let whole = project(statements.clone());
        assert!(
            size(&whole.documents[0].policy) > 6144,
            "seed {seed}: not over the quota"
        );
        let mut parts = whole.clone();
        assert!(
            split(&mut parts, &Default::default()).is_empty(),
            "seed {seed}"
        );
        // Every part fits, every statement is in exactly one part, all are attached.
        assert!(parts.policies.len() >= 2);
        let mut seen = Vec::new();
        for p in &parts.policies {
            let document = &parts.documents[p.document].policy;
            assert!(
                size(document) <= 6144,
                "seed {seed}: {} is {}",
                p.name,
                size(document)
            );
            assert!(p.name.starts_with("Big-"));
            seen.extend(document.statements.iter().cloned());
        }
        assert_eq!(seen.len(), statements.len());
        assert!(statements.iter().all(|s| seen.contains(s)));
        assert_eq!(parts.principals[0].attached.len(), parts.policies.len());
        // The evaluator decides every request alike.
        let before = policy_set(&whole, &whole.principals[0]).unwrap();
        let after = policy_set(&parts, &parts.principals[0]).unwrap();
        let mut requests = 0;
        for action in concrete_actions {
            for b in 0..9 {
                for resource in [
                    format!("arn:aws:s3:::bucket-{b}/reports/x"),
                    format!("arn:aws:s3:::bucket-{b}/y"),
                    format!("arn:aws:dynamodb:eu-west-1:123456789012:table/t{b}"),
                ] {
                    let request =
                        Request::new("arn:aws:iam::123456789012:user/alice", action, &resource);
                    let (a, b): (DecisionKind, DecisionKind) = (
                        before.evaluate(&request).kind,
                        after.evaluate(&request).kind,
                    );
                    assert_eq!(a, b, "seed {seed}: {action} on {resource}");
                    requests += 1;
                }
            }
        }
        assert!(requests > 100);
    }
}

/// Part contents as sets of statements, to count the parts a change rewrites.
fn changed(
    before: &[Statement],
    after: &[Statement],
    pack: impl Fn(&[Statement]) -> Vec<Vec<usize>>,
) -> usize {
    let parts = |statements: &[Statement]| -> Vec<Vec<Statement>> {
        pack(statements)
            .into_iter()
            .map(|p| p.into_iter().map(|i| statements[i].clone()).collect())
            .collect()
    };
    let (a, b) = (parts(before), parts(after));
    let n = a.len().max(b.len());
    (0..n).filter(|&i| a.get(i) != b.get(i)).count()
}

/// Packing in order, the usual way: fill a part, then the next.
fn sequential(statements: &[Statement]) -> Vec<Vec<usize>> {
    let mut parts: Vec<Vec<usize>> = vec![Vec::new()];
    for i in 0..statements.len() {
        let mut trial: Vec<Statement> = parts
            .last()
            .unwrap()
            .iter()
            .map(|&j| statements[j].clone())
            .collect();
        trial.push(statements[i].clone());
        if size(&Policy {
            statements: trial,
            id: None,
        }) > 6144
        {
            parts.push(Vec::new());
        }
        parts.last_mut().unwrap().push(i);
    }
    parts
}

#[test]
fn one_change_rewrites_at_most_two_parts() {
    let hashed = |s: &[Statement]| assign(s, 6144).unwrap();
    let (mut worst_hashed, mut worst_sequential) = (0, 0);
    let (mut compared, mut skipped) = (0, 0);
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let base: Vec<Statement> = (0..200).map(|n| statement(&mut rng, n)).collect();
        let mut changes: Vec<Vec<Statement>> = Vec::new();
        // Add one at the front, remove one near the front, edit one (same Sid or none).
        let mut added = base.clone();
        added.insert(0, statement(&mut rng, 10_000));
        changes.push(added);
        let mut removed = base.clone();
        removed.remove(3);
        changes.push(removed);
        let mut edited = base.clone();
        let sid = edited[5].sid.clone();
        edited[5] = statement(&mut rng, 5);
        edited[5].sid = sid;
        changes.push(edited);
        for after in &changes {
            if hashed(&base).len() != hashed(after).len() {
                skipped += 1;
                continue; // the number of parts changed: no promise
            }
            let h = changed(&base, after, hashed);
            assert!(h <= 2, "seed {seed}: {h} parts rewritten");
            worst_hashed = worst_hashed.max(h);
            compared += 1;
            worst_sequential = worst_sequential.max(changed(&base, after, sequential));
        }
    }
    assert!(
        compared >= 30,
        "only {compared} changes kept the number of parts"
    );
    // Packing in order moves every later statement when one early one is added or removed.
    assert!(
        worst_sequential > 2,
        "sequential packing rewrote at most {worst_sequential}"
    );
    eprintln!("parts rewritten by one change: hashed at most {worst_hashed}, sequential at most {worst_sequential} ({compared} changes; {skipped} changed the number of parts)");
}

#[test]
fn splitting_is_deterministic() {
    let mut rng = Rng(7);
    let statements: Vec<Statement> = (0..300).map(|n| statement(&mut rng, n)).collect();
    assert_eq!(assign(&statements, 6144), assign(&statements, 6144));
}

/// A statement that names a split policy by ARN names every part: here the identity side of
/// `delegate`, which denies new versions of the principal's own policies.
#[test]
fn references_to_a_split_policy_name_every_part() {
    let mut source = include_str!("../examples/company-xyz-guarded/main.iamx").replacen(
        "  delegate\n",
        "  delegate\n  attach Big\n",
        1,
    );
    source.push_str("policy Big {\n");
    for i in 0..60 {
        source.push_str(&format!(
            "  @sid(Customer{i:03})\n  allow s3:GetObject, s3:PutObject on \"arn:aws:s3:::customer-uploads-{i:03}/incoming/*\", \"arn:aws:s3:::customer-uploads-{i:03}/processed/*\"\n"
        ));
    }
    source.push_str("}\n");
    let options = iamx::Options {
        split: true,
        ..Default::default()
    };
    let compilation = iamx::compile(vec![iamx::Source::new("main.iamx", source)], &options);
    let project = compilation.project.as_ref().expect("compiles");
    let parts: Vec<&str> = project
        .policies
        .iter()
        .filter(|p| p.name.starts_with("Big-"))
        .filter_map(|p| p.arn.as_deref())
        .collect();
    assert!(parts.len() >= 2);
    let old = "arn:aws:iam::123456789012:policy/Big\"";
    let delegation = project
        .documents
        .iter()
        .find(|d| d.name == "DeveloperSteveDelegation")
        .unwrap();
    let text = iamx::iam::json::policy(&delegation.policy).to_string();
    assert!(!text.contains(old), "{text}");
    for part in &parts {
        assert!(text.contains(&format!("\"{part}\"")), "{part} in {text}");
    }
    let steve = project
        .principals
        .iter()
        .find(|p| p.name == "DeveloperSteve")
        .unwrap();
    let attached: Vec<&str> = steve.attached.iter().map(|a| a.value.as_str()).collect();
    assert_eq!(attached, parts);
}

/// However many parts a policy needs, every statement is in one: a principal that cannot
/// attach them all gets E1105 (not E0307 too), not a policy with statements left out.
#[test]
fn no_statement_is_left_out_of_many_parts() {
    let mut source = String::from("account \"123456789012\"\npolicy Huge {\n");
    for i in 0..2000 {
        source.push_str(&format!(
            "  @sid(S{i})\n  allow s3:GetObject on \"arn:aws:s3:::bucket-{i}/*\"\n"
        ));
    }
    source.push_str("}\nrole R { trust { allow account } attach Huge }\n");
    let options = iamx::Options {
        split: true,
        ..Default::default()
    };
    let compilation = iamx::compile(
        vec![iamx::Source::new("main.iamx", source.clone())],
        &options,
    );
    let codes: Vec<&str> = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert!(codes.contains(&"E1105"), "{codes:?}");
    assert!(!codes.contains(&"E0307"), "{codes:?}");
    // Unattached, the same policy splits into more than 20 parts holding every statement.
    let source = source.replace(" attach Huge", "");
    let compilation = iamx::compile(vec![iamx::Source::new("main.iamx", source)], &options);
    let project = compilation.project.as_ref().expect("compiles");
    assert!(project.policies.len() > 20);
    let statements: usize = project
        .policies
        .iter()
        .map(|p| project.documents[p.document].policy.statements.len())
        .sum();
    assert_eq!(statements, 2000);
}

/// A role whose inline policies are over its quota (10,240 characters), from generated
/// statements: one small policy and one big one.
fn inline_project(big: Vec<Statement>, small: Vec<Statement>) -> Project {
    let document = |name: &str, statements: Vec<Statement>| Document {
        kind: DocumentKind::RoleInline,
        name: name.into(),
        owner: Some("worker".into()),
        file: format!("roles/worker/policies/{name}.json"),
        policy: Policy {
            statements,
            id: None,
        },
        span: None,
        split: false,
    };
    Project {
        account: Some("123456789012".into()),
        partition: "aws".into(),
        documents: vec![document("Big", big), document("Small", small)],
        principals: vec![PrincipalInfo {
            kind: PrincipalKind::Role,
            name: "worker".into(),
            path: "/app/".into(),
            arn: Some("arn:aws:iam::123456789012:role/app/worker".into()),
            boundary: None,
            attached: Vec::new(),
            groups: Vec::new(),
            tags: Default::default(),
            description: None,
            docs: Vec::new(),
            documents: vec![0, 1],
            span: None,
            name_span: None,
            delegates: false,
            max_session: None,
            instance_profile: None,
            split: false,
        }],
        policies: Vec::new(),
        tests: Vec::new(),
        ..Project::default()
    }
}

/// Every request over the generated actions and resources decides alike for the principal.
fn same_decisions(label: &str, before: &Project, after: &Project) -> usize {
    let actions = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:GetBucketPolicy",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",
        "sqs:DeleteQueue",
    ];
    let a = policy_set(before, &before.principals[0]).unwrap();
    let b = policy_set(after, &after.principals[0]).unwrap();
    let mut requests = 0;
    for action in actions {
        for n in 0..9 {
            for resource in [
                format!("arn:aws:s3:::bucket-{n}/reports/x"),
                format!("arn:aws:s3:::bucket-{n}/y"),
                format!("arn:aws:dynamodb:eu-west-1:123456789012:table/t{n}"),
            ] {
                let request = Request::new(
                    before.principals[0].arn.as_deref().unwrap(),
                    action,
                    &resource,
                );
                assert_eq!(
                    a.evaluate(&request).kind,
                    b.evaluate(&request).kind,
                    "{label}: {action} on {resource}"
                );
                requests += 1;
            }
        }
    }
    requests
}

#[test]
fn inline_policies_over_the_quota_move_into_managed_parts() {
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0xd1b5_4a32_d192_ed03));
        let big: Vec<Statement> = (0..250 + rng.below(100))
            .map(|n| statement(&mut rng, n))
            .collect();
        let small: Vec<Statement> = (0..5).map(|n| statement(&mut rng, 1000 + n)).collect();
        let whole = inline_project(big.clone(), small.clone());
        let total = size(&whole.documents[0].policy) + size(&whole.documents[1].policy);
        assert!(total > 10_240, "seed {seed}: not over the quota");
        let mut parts = whole.clone();
        let limits = iamx::check::Limits {
            managed_policies: 20,
            ..Default::default()
        };
        let found = split(&mut parts, &limits);
        assert!(found.is_empty(), "seed {seed}: {found:?}");
        let worker = &parts.principals[0];
        // The big policy moved, the small one stayed inline.
        let inline: Vec<&str> = worker
            .documents
            .iter()
            .map(|&d| parts.documents[d].name.as_str())
            .collect();
        assert_eq!(inline, ["Small"], "seed {seed}");
        assert!(parts.policies.len() >= 2, "seed {seed}");
        let mut seen = Vec::new();
        for (k, p) in parts.policies.iter().enumerate() {
            let document = &parts.documents[p.document];
            assert_eq!(document.kind, DocumentKind::Managed);
            assert!(size(&document.policy) <= 6144, "seed {seed}: {}", p.name);
            assert!(p.name.starts_with("worker-Big-"), "{}", p.name);
            assert_eq!(
                p.arn.as_deref(),
                Some(format!("arn:aws:iam::123456789012:policy/app/{}", p.name).as_str())
            );
            assert_eq!(worker.attached[k].value, *p.arn.as_ref().unwrap());
            seen.extend(document.policy.statements.iter().cloned());
        }
        assert_eq!(seen.len(), big.len(), "seed {seed}");
        assert!(big.iter().all(|s| seen.contains(s)));
        assert!(same_decisions(&format!("seed {seed}"), &whole, &parts) > 100);
    }
}

/// The parts a moved inline policy becomes are as stable as a managed policy's: one change to
/// its statements rewrites at most two.
#[test]
fn moved_inline_parts_are_stable() {
    let parts_of = |big: &[Statement]| -> Vec<(String, Vec<Statement>)> {
        let mut project = inline_project(big.to_vec(), Vec::new());
        project.documents.pop();
        project.principals[0].documents = vec![0];
        assert!(split(&mut project, &Default::default()).is_empty());
        project
            .policies
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    project.documents[p.document].policy.statements.clone(),
                )
            })
            .collect()
    };
    let mut compared = 0;
    for seed in 1..=8u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let base: Vec<Statement> = (0..300).map(|n| statement(&mut rng, n)).collect();
        let mut added = base.clone();
        added.insert(0, statement(&mut rng, 20_000));
        let mut removed = base.clone();
        removed.remove(2);
        let before = parts_of(&base);
        for after in [parts_of(&added), parts_of(&removed)] {
            if after.len() != before.len() {
                continue;
            }
            let rewritten = before.iter().zip(&after).filter(|(a, b)| a != b).count();
            assert!(rewritten <= 2, "seed {seed}: {rewritten} parts rewritten");
            compared += 1;
        }
    }
    assert!(
        compared >= 10,
        "only {compared} changes kept the number of parts"
    );
}

fn compile(source: &str, split: bool, quota: usize) -> iamx::Compilation {
    let mut options = iamx::Options {
        split,
        ..Default::default()
    };
    options.limits.managed_policies = quota;
    iamx::compile(vec![iamx::Source::new("main.iamx", source)], &options)
}

fn codes(compilation: &iamx::Compilation) -> Vec<&str> {
    compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

/// `statements` statements of about 100 characters each, as iamx source.
fn statements(prefix: &str, count: usize) -> String {
    (0..count)
        .map(|i| {
            format!("    @sid({prefix}{i:03})\n    allow s3:GetObject on \"arn:aws:s3:::{prefix}-bucket-{i:03}/reports/*\"\n")
        })
        .collect()
}

/// `@split` splits its policy without `--split`; policies not marked stay whole (E0305).
#[test]
fn split_attribute_marks_one_policy() {
    let source = format!(
        "account \"123456789012\"\n@split\npolicy Marked {{\n{}}}\npolicy Unmarked {{\n{}}}\nrole R {{\n  trust {{ allow account }}\n  attach Marked\n}}\n",
        statements("m", 90),
        statements("u", 90)
    );
    let compilation = compile(&source, false, 10);
    assert_eq!(codes(&compilation), ["E0305"]);
    assert!(compilation.diagnostics[0].message.contains("`Unmarked`"));
    let source = source
        .replace(
            "policy Unmarked {\n",
            "policy Unmarked {\n    allow s3:ListAllMyBuckets on *\n}\npolicy Rest {\n",
        )
        .replace(&statements("u", 90), "    allow s3:ListBucket on *\n");
    let compilation = compile(&source, false, 10);
    let project = compilation.project.as_ref().expect("compiles");
    let names: Vec<&str> = project.policies.iter().map(|p| p.name.as_str()).collect();
    let parts = names.len() - 2;
    assert!(parts >= 2, "{names:?}");
    assert!(names[..parts].iter().all(|n| n.starts_with("Marked-")));
    assert_eq!(names[parts..], ["Unmarked", "Rest"]);
    // The role has every part attached, in order.
    let role: Vec<&str> = project.principals[0]
        .attached
        .iter()
        .map(|a| a.value.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(role, names[..parts]);
}

/// `@split` on a principal, or on one of its inline policies, moves inline policies over the
/// principal's quota (a user's 2,048 characters) into managed parts.
#[test]
fn split_attribute_on_a_principal_or_an_inline_policy() {
    let user = |principal_attr: &str, policy_attr: &str| {
        format!(
            "account \"123456789012\"\n{principal_attr}user alice {{\n  path \"/team/\"\n  {policy_attr}policy Reads {{\n{}  }}\n  policy Small {{\n    allow s3:ListAllMyBuckets on *\n  }}\n}}\n",
            statements("r", 30)
        )
    };
    let plain = compile(&user("", ""), false, 10);
    assert_eq!(codes(&plain), ["E0305"]);
    for source in [user("@split\n", ""), user("", "@split\n  ")] {
        let compilation = compile(&source, false, 10);
        let project = compilation.project.as_ref().expect("compiles");
        let alice = &project.principals[0];
        assert_eq!(
            alice
                .attached
                .iter()
                .map(|a| a.value.as_str())
                .collect::<Vec<_>>(),
            ["arn:aws:iam::123456789012:policy/team/alice-Reads-1"]
        );
        let files = iamx::emit::files(project);
        assert!(files
            .iter()
            .any(|f| f.path == "policies/alice-Reads-1.json"));
        assert!(files
            .iter()
            .any(|f| f.path == "users/alice/policies/Small.json"));
    }
}

/// Parts past the managed policy quota are E1105, at 10 by default; a raised quota lets them
/// through (with no W0306, which says the same).
#[test]
fn parts_count_against_the_managed_policy_quota() {
    let mut source = String::from("account \"123456789012\"\n@split\npolicy Wide {\n");
    source.push_str(&statements("w", 500));
    source.push_str("}\nrole R {\n  trust { allow account }\n  attach Wide\n}\n");
    let compilation = compile(&source, false, 10);
    assert_eq!(codes(&compilation), ["E1105"]);
    let d = &compilation.diagnostics[0];
    assert!(d.message.contains("role `R`"), "{}", d.message);
    assert!(d
        .help
        .as_deref()
        .unwrap_or("")
        .contains("--managed-policy-quota"));
    let compilation = compile(&source, false, 20);
    assert_eq!(codes(&compilation), Vec::<&str>::new());
    let project = compilation.project.as_ref().unwrap();
    assert!(project.principals[0].attached.len() > 10);
}

/// A delegating user whose inline policies move into managed parts denies itself new
/// versions of those parts too, as of its other managed policies.
#[test]
fn moved_parts_of_a_delegating_principal_are_its_own() {
    let mut reads = String::from("  @split\n  policy Reads {\n");
    reads.push_str(&statements("r", 30));
    reads.push_str("  }\n");
    let source = include_str!("../examples/company-xyz-guarded/main.iamx").replacen(
        "  delegate\n",
        &format!("  delegate\n  attach aws ReadOnlyAccess\n{reads}"),
        1,
    );
    let compilation = compile(&source, false, 10);
    let project = compilation
        .project
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", codes(&compilation)));
    let steve = project
        .principals
        .iter()
        .find(|p| p.delegates)
        .expect("a delegating principal");
    let parts: Vec<&str> = steve
        .attached
        .iter()
        .map(|a| a.value.as_str())
        .filter(|a| a.contains("-Reads-"))
        .collect();
    assert!(!parts.is_empty(), "{:?}", steve.attached);
    let denial = project
        .documents
        .iter()
        .flat_map(|d| &d.policy.statements)
        .find(|s| {
            s.sid
                .as_ref()
                .is_some_and(|s| s.value == "NoNewVersionsOfOwnPolicies")
        })
        .expect("the delegation denies new versions of its own policies");
    let resources: Vec<&str> = denial
        .resource
        .iter()
        .flat_map(|b| &b.values)
        .map(|v| v.value.as_str())
        .collect();
    for part in parts {
        assert!(resources.contains(&part), "{part} not in {resources:?}");
    }
}
