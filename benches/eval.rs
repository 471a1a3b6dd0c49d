//! Decisions per second of the evaluation engine on one core.
//!
//! `cargo bench --bench eval` compiles one realistic policy set once (two identity policies
//! with 20 statements between them, a permissions boundary, an SCP, conditions with policy
//! variables, wildcards, NotAction/NotResource) and evaluates a batch of a few hundred varied
//! requests many times over, as `iamx simulate --batch` would after parsing.
//!
//! Options (after `--`): `--requests N` (default 400), `--seconds S` per run (default 1.0),
//! `--runs R` (default 5; the best run is reported), `--explain` (print how many requests each
//! explanation decided).

use std::hint::black_box;
use std::time::{Duration, Instant};

use iamx::cli::simulate::batch_line;
use iamx::eval::{DecisionKind, PolicySet, Request};
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";

fn identity_policies() -> Value {
    json!([
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ListBuckets", "Effect": "Allow",
                 "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": "arn:aws:s3:::*"},
                {"Sid": "ListOwnPrefix", "Effect": "Allow", "Action": "s3:ListBucket",
                 "Resource": "arn:aws:s3:::team-data",
                 "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}},
                {"Sid": "OwnObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject*"],
                 "Resource": "arn:aws:s3:::team-data/home/${aws:username}/*"},
                {"Sid": "TeamObjects", "Effect": "Allow", "Action": "s3:Get*",
                 "Resource": "arn:aws:s3:::team-data/teams/${aws:PrincipalTag/team, 'none'}/*"},
                {"Sid": "DescribeEc2", "Effect": "Allow", "Action": ["ec2:Describe*", "ec2:Get*"], "Resource": "*"},
                {"Sid": "RunSmallInstances", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
                 "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t3.*", "t4g.*"]},
                               "StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}},
                {"Sid": "ManageOwnInstances", "Effect": "Allow", "Action": ["ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances"],
                 "Resource": "arn:aws:ec2:*:111122223333:instance/*",
                 "Condition": {"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}},
                {"Sid": "OwnAccessKeys", "Effect": "Allow", "Action": ["iam:*AccessKey*", "iam:GetUser", "iam:ChangePassword"],
                 "Resource": "arn:aws:iam::111122223333:user/${aws:username}"},
                {"Sid": "TeamTables", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
                 "Resource": "arn:aws:dynamodb:*:111122223333:table/${aws:PrincipalTag/team}-*"},
                {"Sid": "OfficeHoursWrites", "Effect": "Deny", "Action": ["dynamodb:PutItem", "dynamodb:DeleteItem"], "Resource": "*",
                 "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}},
                {"Sid": "NoPlainText", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Sid": "FromOffice", "Effect": "Deny", "NotAction": ["iam:GetUser", "iam:ChangePassword", "sts:GetSessionToken"],
                 "Resource": "*",
                 "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24", "2001:db8::/32"]},
                               "Bool": {"aws:ViaAWSService": "false"}}}
            ]
        },
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:Describe*"],
                 "Resource": "arn:aws:logs:*:111122223333:log-group:/app/${aws:PrincipalTag/team}/*"},
                {"Sid": "Metrics", "Effect": "Allow", "Action": ["cloudwatch:GetMetricData", "cloudwatch:List*"], "Resource": "*"},
                {"Sid": "Queues", "Effect": "Allow", "Action": "sqs:SendMessage",
                 "Resource": "arn:aws:sqs:eu-west-1:111122223333:*",
                 "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sns:eu-west-1:111122223333:*"}}},
                {"Sid": "Functions", "Effect": "Allow", "Action": "lambda:InvokeFunction",
                 "Resource": "arn:aws:lambda:*:111122223333:function:${aws:PrincipalTag/team}-*"},
                {"Sid": "Decrypt", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                 "Condition": {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["team", "app"]}}},
                {"Sid": "TagOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                 "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["owner", "team", "cost-center"]},
                               "StringEquals": {"ec2:CreateAction": "RunInstances"}}},
                {"Sid": "NoOtherRegions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "cloudwatch:*"], "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}},
                {"Sid": "NoMfaNoDelete", "Effect": "Deny", "Action": ["s3:DeleteObject*", "ec2:TerminateInstances"], "Resource": "*",
                 "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
            ]
        }
    ])
}

fn boundary() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "ec2:*", "dynamodb:*", "logs:*", "cloudwatch:*", "sqs:*", "lambda:*", "kms:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["iam:*AccessKey*", "iam:GetUser", "iam:ChangePassword"],
             "Resource": "arn:aws:iam::*:user/${aws:username}"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::audit-logs", "arn:aws:s3:::audit-logs/*"]},
            {"Effect": "Deny", "Action": "ec2:*", "Resource": "arn:aws:ec2:*:*:instance/i-0prod*"},
            {"Effect": "Deny", "NotAction": "iam:ChangePassword", "Resource": "*",
             "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "43200"}}}
        ]
    })
}

fn scp() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["organizations:*", "account:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:user/*", "arn:aws:iam::*:role/*", "arn:aws:sts::*:assumed-role/*"]}}}
        ]
    })
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn request(rng: &mut Rng) -> Value {
    let user = rng.pick(&["alice", "bob", "carol", "dave", "erin"]);
    let team = rng.pick(&["red", "blue", "green"]);
    let other = rng.pick(&["alice", "bob", "mallory"]);
    let (action, resource) = match rng.next() % 16 {
        0 => (
            "s3:GetObject",
            format!("arn:aws:s3:::team-data/home/{user}/notes.txt"),
        ),
        1 => (
            "s3:PutObject",
            format!("arn:aws:s3:::team-data/home/{other}/x.bin"),
        ),
        2 => (
            "s3:GetObject",
            format!("arn:aws:s3:::team-data/teams/{team}/plan.md"),
        ),
        3 => ("s3:ListBucket", "arn:aws:s3:::team-data".to_string()),
        4 => ("s3:DeleteObject", format!("arn:aws:s3:::audit-logs/{user}")),
        5 => ("ec2:DescribeInstances", "*".to_string()),
        6 => (
            "ec2:RunInstances",
            "arn:aws:ec2:eu-west-1:111122223333:instance/*".to_string(),
        ),
        7 => (
            "ec2:TerminateInstances",
            format!(
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-0{}",
                rng.pick(&["prod1", "dev42", "abc"])
            ),
        ),
        8 => (
            "iam:CreateAccessKey",
            format!("arn:aws:iam::111122223333:user/{other}"),
        ),
        9 => (
            "dynamodb:PutItem",
            format!("arn:aws:dynamodb:eu-west-1:111122223333:table/{team}-orders"),
        ),
        10 => (
            "logs:PutLogEvents",
            format!("arn:aws:logs:eu-west-1:111122223333:log-group:/app/{team}/web:log-stream:a"),
        ),
        11 => (
            "sqs:SendMessage",
            "arn:aws:sqs:eu-west-1:111122223333:jobs".to_string(),
        ),
        12 => (
            "lambda:InvokeFunction",
            format!("arn:aws:lambda:eu-west-1:111122223333:function:{team}-resize"),
        ),
        13 => (
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd".to_string(),
        ),
        14 => (
            "ec2:CreateTags",
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc".to_string(),
        ),
        _ => ("cloudwatch:GetMetricData", "*".to_string()),
    };
    let mut context = json!({
        "aws:username": user,
        "aws:PrincipalTag/team": team,
        "aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
        "aws:SourceIp": rng.pick(&["192.0.2.10", "203.0.113.77", "192.0.2.200", "2001:db8::5", "203.0.113.9", "192.0.2.33", "2001:db8:1::9", "198.51.100.3"]),
        "aws:SecureTransport": if rng.chance(95) { "true" } else { "false" },
        "aws:CurrentTime": rng.pick(&["2025-03-01T10:00:00Z", "2026-11-30T17:45:10Z", "2024-02-29T23:59:59+01:00", "2031-06-01T08:30:00Z"]),
        "aws:RequestedRegion": rng.pick(&["eu-west-1", "eu-west-1", "eu-central-1", "eu-west-1", "eu-central-1", "eu-west-1", "eu-west-1", "us-east-1"]),
        "aws:ViaAWSService": "false",
        "aws:MultiFactorAuthAge": rng.pick(&["300", "3600", "1200", "600", "7200", "60", "30", "86400"]),
    });
    let c = context.as_object_mut().unwrap();
    if rng.chance(85) {
        c.insert("aws:MultiFactorAuthPresent".into(), json!("true"));
    }
    match action {
        "s3:ListBucket" => {
            c.insert(
                "s3:prefix".into(),
                json!(format!("home/{}/", rng.pick(&[user, "mallory"]))),
            );
        }
        "ec2:RunInstances" => {
            c.insert(
                "ec2:InstanceType".into(),
                json!(rng.pick(&["t3.micro", "m5.large"])),
            );
        }
        "ec2:TerminateInstances" => {
            c.insert(
                "aws:ResourceTag/owner".into(),
                json!(rng.pick(&[user, "mallory"])),
            );
        }
        "sqs:SendMessage" => {
            c.insert(
                "aws:SourceArn".into(),
                json!(rng.pick(&[
                    "arn:aws:sns:eu-west-1:111122223333:orders",
                    "arn:aws:sns:us-east-1:999999999999:evil"
                ])),
            );
        }
        "kms:Decrypt" => {
            c.insert(
                "kms:EncryptionContextKeys".into(),
                json!(["app", rng.pick(&["team", "tenant"])]),
            );
        }
        "ec2:CreateTags" => {
            c.insert(
                "aws:TagKeys".into(),
                json!(["owner", rng.pick(&["team", "secret"])]),
            );
            c.insert("ec2:CreateAction".into(), json!("RunInstances"));
        }
        _ => {}
    }
    json!({
        "identity": identity_policies(),
        "boundary": boundary(),
        "scps": [scp()],
        "request": {
            "principal": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            "action": action,
            "resource": resource,
            "context": context,
        }
    })
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let n: usize = arg("--requests")
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let seconds: f64 = arg("--seconds").and_then(|v| v.parse().ok()).unwrap_or(1.0);
    let runs: usize = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(5);

    // Compile once: the policy set of the first line serves every request.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let lines: Vec<Value> = (0..n).map(|_| request(&mut rng)).collect();
    let compile_start = Instant::now();
    let (set, _) = batch_line(&lines[0]).expect("the benchmark's policies read");
    let compile_time = compile_start.elapsed();
    let requests: Vec<Request> = lines
        .iter()
        .map(|l| batch_line(l).expect("a request").1)
        .collect();
    let statements = |s: &PolicySet| {
        let count = |p: &iamx::eval::CompiledPolicy| p.origins.len();
        (
            s.identity.iter().map(count).sum::<usize>(),
            s.boundary.as_ref().map_or(0, count),
            s.scps.iter().map(count).sum::<usize>(),
        )
    };
    let (ids, bs, scps) = statements(&set);

    let mut tally = [0usize; 3];
    for r in &requests {
        tally[match set.evaluate(r).kind {
            DecisionKind::Allowed => 0,
            DecisionKind::ImplicitlyDenied => 1,
            DecisionKind::ExplicitlyDenied => 2,
        }] += 1;
    }
    println!(
        "eval bench: {n} requests; {ids} identity statements, {bs} boundary statements, {scps} SCP statements; compiled in {:.1} µs",
        compile_time.as_secs_f64() * 1e6
    );
    if std::env::args().any(|a| a == "--explain") {
        let mut reasons = std::collections::BTreeMap::new();
        for r in &requests {
            let d = set.evaluate(r);
            *reasons.entry(set.explain(r, &d)).or_insert(0usize) += 1;
        }
        for (reason, count) in reasons {
            println!("{count:5}  {reason}");
        }
    }
    println!(
        "decisions: {} allowed, {} implicitly denied, {} explicitly denied",
        tally[0], tally[1], tally[2]
    );

    let best = measure(&set, &requests, runs, seconds, "all");
    // The slowest path: allowed requests scan every deny, then the allows, boundary and SCP.
    let allowed: Vec<Request> = requests
        .iter()
        .filter(|r| set.evaluate(r).kind == DecisionKind::Allowed)
        .cloned()
        .collect();
    let best_allowed = measure(&set, &allowed, runs, seconds, "allowed only");
    println!(
        "best: {:.0} decisions/s on one core ({:.0} ns/decision); allowed requests only: {:.0} decisions/s ({:.0} ns)",
        best,
        1e9 / best,
        best_allowed,
        1e9 / best_allowed
    );
}

/// The best rate of `runs` runs of `seconds` each over the batch.
fn measure(set: &PolicySet, requests: &[Request], runs: usize, seconds: f64, what: &str) -> f64 {
    let mut best = 0.0f64;
    for run in 0..runs {
        let budget = Duration::from_secs_f64(seconds);
        let start = Instant::now();
        let mut decisions = 0u64;
        let mut allowed = 0u64;
        while start.elapsed() < budget {
            for r in requests {
                if black_box(set).evaluate(black_box(r)).kind == DecisionKind::Allowed {
                    allowed += 1;
                }
            }
            decisions += requests.len() as u64;
        }
        let rate = decisions as f64 / start.elapsed().as_secs_f64();
        black_box(allowed);
        println!(
            "{what}, run {}: {:>12.0} decisions/s ({:.0} ns/decision)",
            run + 1,
            rate,
            1e9 / rate
        );
        best = best.max(rate);
    }
    best
}
