//! Account snapshots (`aws iam get-account-authorization-details`): read, merged, checked.
//!
//! Fixtures are in `tests/fixtures/account/`: a delegated admin whose boundary is closed and one
//! whose boundary is open, the closed one again with every document URL-encoded and split in
//! two pages, unbounded principals with classic escalations, and broken snapshots in `bad/`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use iamx::diag::render;
use iamx::{Compilation, Source};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/account")
        .join(name)
}

fn source(name: &str) -> Source {
    Source::new(
        name,
        std::fs::read(fixture(name)).expect("readable fixture"),
    )
}

/// Analyses snapshots, turning a panic into a failure that names them.
fn analyze(names: &[&str]) -> Compilation {
    let sources = names.iter().map(|n| source(n)).collect();
    catch_unwind(AssertUnwindSafe(|| iamx::account::analyze(sources)))
        .unwrap_or_else(|_| panic!("the analysis panicked on {names:?}"))
}

/// The principal a diagnostic is about: the first name in backticks of its message
/// (`user `alice` has no …` → `alice`).
fn named(d: &iamx::diag::Diagnostic) -> &str {
    d.message.split('`').nth(1).unwrap_or("")
}

/// Each diagnostic's code and the principal it is about.
fn found(c: &Compilation) -> Vec<(&'static str, &str)> {
    c.diagnostics
        .iter()
        .map(|d| (d.code.as_str(), named(d)))
        .collect()
}

fn codes(c: &Compilation) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

/// The summary line, then every diagnostic as a user sees it.
fn rendered(c: &Compilation) -> String {
    let mut text = match &c.guardrail {
        Some(report) => format!("{}\n", report.summary()),
        None => "not analysed\n".to_string(),
    };
    for d in &c.diagnostics {
        text.push_str(&render::human(d, &c.sources, false));
    }
    text
}

#[test]
fn safe_delegated_admin_is_closed() {
    let c = analyze(&["safe_delegated_admin.json"]);
    assert_eq!(codes(&c), Vec::<&str>::new(), "{}", rendered(&c));
    let report = c.guardrail.as_ref().unwrap();
    assert!(report.boundaries.iter().all(|b| b.closed));
    assert!(report.principals.iter().all(|p| p.closed && p.bounded));
    // The user, the role; the group is not a principal that makes requests.
    assert_eq!(report.principals.len(), 2);
    insta::assert_snapshot!(rendered(&c), @"guardrail: 1 boundary closed, 0 open; 2 bounded principals closed, 0 open");
}

#[test]
fn snapshot_becomes_a_project() {
    let c = analyze(&["safe_delegated_admin.json"]);
    let project = c.project.as_ref().unwrap();
    assert_eq!(project.account.as_deref(), Some("123456789012"));
    let steve = project
        .principals
        .iter()
        .find(|p| p.name == "DeveloperSteve")
        .unwrap();
    assert_eq!(steve.path, "/developers/");
    assert_eq!(steve.groups, ["developers"]);
    assert_eq!(steve.tags.get("team").map(String::as_str), Some("dev"));
    assert_eq!(
        steve.boundary.as_ref().map(|b| b.value.as_str()),
        Some("arn:aws:iam::123456789012:policy/CompanyXYZPermissionsBoundary")
    );
    assert_eq!(steve.documents.len(), 2);
    let role = project
        .principals
        .iter()
        .find(|p| p.name == "app-runner")
        .unwrap();
    assert!(role
        .documents
        .iter()
        .any(|&i| project.documents[i].kind == iamx::iam::DocumentKind::Trust));
    // The default version (v2, guarded), not v1 (open).
    let boundary = &project.policies[0];
    assert!(boundary.boundary);
    assert!(boundary.guard.is_some());
}

#[test]
fn vulnerable_delegated_admin_is_open() {
    let c = analyze(&["vulnerable_delegated_admin.json"]);
    assert_eq!(codes(&c), ["W0604", "W0601", "W0606"]);
    insta::assert_snapshot!(rendered(&c));
}

#[test]
fn url_encoded_documents_read_as_objects() {
    let plain = analyze(&["safe_delegated_admin.json"]);
    let encoded = analyze(&["safe_delegated_admin_encoded.json"]);
    assert_eq!(codes(&encoded), codes(&plain));
    assert_eq!(encoded.guardrail, plain.guardrail);
    let (a, b) = (plain.project.unwrap(), encoded.project.unwrap());
    assert_eq!(a.documents.len(), b.documents.len());
    for (x, y) in a.documents.iter().zip(&b.documents) {
        assert_eq!(x.name, y.name);
        assert_eq!(
            x.policy.clone().without_spans(),
            y.policy.clone().without_spans()
        );
    }
}

#[test]
fn pages_merge_into_one_account() {
    let whole = analyze(&["safe_delegated_admin.json"]);
    let pages = analyze(&["page_1.json", "page_2.json"]);
    assert_eq!(codes(&pages), codes(&whole));
    assert_eq!(pages.guardrail, whole.guardrail);
    // One page alone lacks the boundary: a dangling reference, and a principal whose boundary
    // is unknown counts as unbounded. The page says more follow, and none is given.
    let first = analyze(&["page_1.json"]);
    insta::assert_snapshot!(rendered(&first));
}

#[test]
fn unbounded_principals_that_can_escalate() {
    let c = analyze(&["unbounded_escalations.json"]);
    // alice assumes the admin role, bob edits policies; carol reads S3 and is not reported.
    assert!(!rendered(&c).contains("carol"));
    insta::assert_snapshot!(rendered(&c));
}

#[test]
fn bad_snapshots_are_diagnosed() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["bad/truncated.json"], &["E0102"]),
        (&["bad/wrong_type.json"], &["E0801"]),
        (&["bad/not_a_snapshot.json"], &["E0801"]),
        (&["bad/bad_encoding.json"], &["E0801"]),
        (&["bad/no_default_version.json"], &["E0801"]),
        (
            &["bad/other_account.json", "unbounded_escalations.json"],
            &["E0801"],
        ),
        (
            &["unbounded_escalations.json", "bad/duplicate_user.json"],
            &["E0802"],
        ),
        (&["bad/dangling.json"], &["W0611", "W0803", "W0803"]),
    ];
    let mut all = String::new();
    for (names, expected) in cases {
        let c = analyze(names);
        assert_eq!(codes(&c), *expected, "{names:?}:\n{}", rendered(&c));
        if expected.iter().any(|e| e.starts_with('E')) {
            assert!(c.project.is_none() && c.guardrail.is_none(), "{names:?}");
        }
        all.push_str(&format!("=== {}\n{}", names.join(" "), rendered(&c)));
    }
    insta::assert_snapshot!(all);
}

/// Prefixes of a snapshot, and the snapshot with each value replaced by one of another type:
/// diagnostics, never a panic.
#[test]
fn broken_snapshots_never_panic() {
    let text = std::fs::read_to_string(fixture("safe_delegated_admin_encoded.json")).unwrap();
    for end in (0..text.len()).step_by(41) {
        let source = Source::new("cut.json", text.as_bytes()[..end].to_vec());
        let c = catch_unwind(AssertUnwindSafe(|| iamx::account::analyze(vec![source])))
            .unwrap_or_else(|_| panic!("panicked on the first {end} bytes"));
        assert!(c.has_errors(), "the first {end} bytes read without error");
    }
    let value: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("safe_delegated_admin.json")).unwrap(),
    )
    .unwrap();
    let paths = json_paths(&value);
    for path in paths.iter().skip(1) {
        for replacement in [
            serde_json::json!(7),
            serde_json::json!("%zz"),
            serde_json::json!(null),
        ] {
            let mut broken = value.clone();
            *broken.pointer_mut(path).unwrap() = replacement.clone();
            let source = Source::new("broken.json", broken.to_string().into_bytes());
            // Read only: the analysis of what reads is covered above, and is slower.
            catch_unwind(AssertUnwindSafe(|| iamx::account::read(vec![source])))
                .unwrap_or_else(|_| panic!("panicked with {path} = {replacement}"));
        }
    }
}

/// Every place in a JSON value, as JSON pointers (the root first, as "").
fn json_paths(value: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    walk(x, format!("{at}/{k}"), out);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

/// Runs `iamx` in the crate root: exit code and stderr.
fn iamx(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("iamx runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn check_account_exit_codes() {
    let dir = "tests/fixtures/account/";
    let f = |name: &str| format!("{dir}{name}");
    let safe = f("safe_delegated_admin.json");
    let open = f("vulnerable_delegated_admin.json");
    let (code, stderr) = iamx(&["check", "--account", &safe]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        "guardrail: 1 boundary closed, 0 open; 2 bounded principals closed, 0 open\n"
    );
    // Pages in any order.
    let (code, _) = iamx(&["check", "--account", &f("page_2.json"), &f("page_1.json")]);
    assert_eq!(code, 0);
    // Warnings pass unless denied.
    assert_eq!(iamx(&["check", "--account", &open]).0, 0);
    assert_eq!(iamx(&["check", "--account", "--deny-warnings", &open]).0, 1);
    // Errors in the snapshot fail.
    assert_eq!(
        iamx(&["check", "--account", &f("bad/wrong_type.json")]).0,
        1
    );
    // Usage and I/O errors.
    let (code, stderr) = iamx(&["check", "--account", &f("missing.json")]);
    assert_eq!(code, 2, "{stderr}");
    // A directory is a project, and a project alone is no account.
    let (code, stderr) = iamx(&["check", "--account", dir]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("give the account's snapshot"), "{stderr}");
    assert_eq!(iamx(&["check", "--account", "--principal", &safe]).0, 2);
    // JSON lines, alone on stdout, name the code and the file.
    let output = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(["check", "--account", "--message-format", "json", &open])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("iamx runs");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines
        .iter()
        .all(|l| l["code"].as_str().unwrap().starts_with("W06")));
    assert!(stdout.contains("vulnerable_delegated_admin.json"));
    // A finding about a principal names it; a boundary's findings name none.
    let named: Vec<Option<&str>> = lines.iter().map(|l| l["principal"].as_str()).collect();
    assert_eq!(
        named,
        [
            Some("arn:aws:iam::123456789012:user/developers/DeveloperSteve"),
            None,
            None
        ]
    );
    // SARIF: in the result's properties.
    let output = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(["check", "--account", "--message-format", "sarif", &open])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("iamx runs");
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).expect("SARIF is JSON");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results[0]["properties"]["principal"],
        "arn:aws:iam::123456789012:user/developers/DeveloperSteve"
    );
    assert!(results[1].get("properties").is_none());
}

#[test]
fn snapshots_have_a_limit_of_their_own() {
    // Far over the limit for source files, under the one for snapshots.
    const { assert!(iamx::account::MAX_SNAPSHOT_BYTES > iamx::MAX_SOURCE_BYTES) };
    let big = Source::over_limit("big.json", Some(600 * 1024 * 1024));
    let c = iamx::account::analyze(vec![big]);
    assert_eq!(codes(&c), ["E0002"]);
    insta::assert_snapshot!(rendered(&c), @r"
    not analysed
    [E0002] Error: file is 629145600 bytes; iamx reads files of at most 536870912 bytes
       ╭─[ big.json:1:1 ]
       │
     1 │
       │ │
       │ ╰─ this file
       │
       │ Help: give the snapshot in pages: the API's `--max-items` and `--starting-token` make pages of the same call, and iamx merges them
    ───╯
    ");
}

#[test]
fn administrators_are_listed_once() {
    let admin = serde_json::json!({"PolicyName": "AdministratorAccess",
        "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"});
    let deny = serde_json::json!([{"PolicyName": "no-iam", "PolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}}]);
    let user = |name: &str, group: &str, inline: serde_json::Value| {
        serde_json::json!({"UserName": name, "Arn": format!("arn:aws:iam::123456789012:user/{name}"),
            "GroupList": [group], "UserPolicyList": inline})
    };
    let snapshot = serde_json::json!({
        "UserDetailList": [user("root-ish", "admins", serde_json::json!([])),
                           user("careful", "admins", deny)],
        "GroupDetailList": [{"GroupName": "admins", "Arn": "arn:aws:iam::123456789012:group/admins",
                             "AttachedManagedPolicies": [admin]}],
    });
    let source = Source::new("snapshot.json", snapshot.to_string().into_bytes());
    let c = iamx::account::analyze(vec![source]);
    // An administrator through its group: W0804, not W0611. One with a Deny is not one, and
    // is judged as any other.
    let found = found(&c);
    // Here, with no `iam:*`, what it can get depends on the roles that resources run as, and
    // on roles not created yet: W0805.
    assert_eq!(found, [("W0804", "root-ish"), ("W0805", "careful")]);
    let report = c.guardrail.unwrap();
    assert_eq!(report.principals.len(), 1);
    assert_eq!(report.principals[0].name, "careful");
}

/// Vulnerable and safe variants of two classic paths, for principals with no boundary: passing
/// a role to Lambda and assuming a role, where the role is an administrator or a weak one.
#[test]
fn unbounded_pairs() {
    let c = analyze(&["unbounded_pairs.json"]);
    let found = found(&c);
    // Every vulnerable variant is found, and the administrator is listed once.
    for vulnerable in ["pass-vuln", "assume-vuln"] {
        assert!(found.contains(&("W0611", vulnerable)), "{found:?}");
    }
    assert!(found.contains(&("W0804", "lambda-admin")), "{found:?}");
    assert!(found.contains(&("W0804", "ops-admin")), "{found:?}");
    // The safe variants are clean: the role passed or assumed holds nothing the principal
    // does not have already.
    for safe in ["pass-safe", "assume-safe"] {
        assert!(!found.iter().any(|(_, who)| *who == safe), "{found:?}");
    }
    insta::assert_snapshot!(rendered(&c));
}

/// Passing and assuming roles, judged by what the roles hold and whom they trust: sure
/// escalations (W0611), clean principals, and findings that depend on what the snapshot does
/// not show (W0805), each saying on what.
#[test]
fn roles_judged_by_what_they_hold() {
    let c = analyze(&["role_verdicts.json"]);
    let found = found(&c);
    assert_eq!(
        found,
        [
            ("W0611", "trusted-vuln"),
            ("W0805", "cond-depends"),
            ("W0805", "future-depends"),
            ("W0805", "variable-depends"),
            ("W0611", "wild-vuln"),
            ("W0805", "wild-weak"),
            ("W0804", "locked-admin"),
            ("W0804", "named-admin"),
        ]
    );
    // The W0805 findings say what they depend on.
    for d in c.diagnostics.iter().filter(|d| d.code.as_str() == "W0805") {
        assert!(d.message.contains("depends on"), "{}", d.message);
        assert!(d.principal.is_some(), "{}", d.message);
    }
    insta::assert_snapshot!(rendered(&c));
}

/// Escalations through roles that are no administrators are followed to their end: the path,
/// step by step, each with its request and the statement that allows it. A role whose trust
/// policy names a principal can be assumed by it with no identity policy.
#[test]
fn escalation_paths() {
    let c = analyze(&["paths.json"]);
    let found = found(&c);
    assert_eq!(
        found,
        [
            ("W0611", "dev"),
            ("W0611", "intern"),
            ("W0611", "deployer"),
            ("W0611", "ops"),
            ("W0804", "helper"),
        ]
    );
    // dev → deployer → ops → intern's access keys → helper, an administrator whose trust
    // policy names intern.
    let dev = &c.diagnostics[0];
    assert!(
        dev.help
            .as_deref()
            .unwrap()
            .contains("the path, in 4 steps"),
        "{:?}",
        dev.help
    );
    assert_eq!(dev.labels.len(), 3);
    // The auditor's named role holds nothing more.
    assert!(!found.iter().any(|(_, who)| *who == "auditor"));
    insta::assert_snapshot!(rendered(&c));
}

/// Policy versions that are not the default: making one the default gives power only when it
/// allows more than the default, and only to a principal that can use what it is attached to
/// (`other-vuln` passes role `app` to Lambda; `app-shared`'s other version allows `s3:*`). With
/// no boundary, changing its own permissions is an escalation.
#[test]
fn policy_versions() {
    let c = analyze(&["policy_versions.json"]);
    let mut found = found(&c);
    found.sort();
    assert_eq!(
        found,
        [
            ("W0611", "other-vuln"),
            ("W0611", "own-vuln"),
            ("W0611", "self-put")
        ]
    );
    let project = c.project.as_ref().unwrap();
    assert_eq!(project.other_versions.len(), 4);
    insta::assert_snapshot!(rendered(&c));
}

/// Resources that run as a role (`--resources`): updating a function's code runs as its role,
/// judged as any role; without the file, that depends on the roles, and says so.
#[test]
fn resources_run_as_their_role() {
    let without = analyze(&["run_as.json"]);
    assert_eq!(
        found(&without),
        [
            ("W0805", "coder-vuln"),
            ("W0805", "coder-safe"),
            ("W0805", "coder-any"),
            ("W0804", "lambda-admin"),
        ]
    );
    let with = iamx::account::analyze_with_resources(
        vec![source("run_as.json")],
        Some(source("run_as_resources.json")),
    );
    // coder-safe updates a function whose role holds what it has already.
    assert_eq!(
        found(&with),
        [
            ("W0611", "coder-vuln"),
            ("W0611", "coder-any"),
            ("W0804", "lambda-admin"),
            (
                "W0807",
                "arn:aws:lambda:us-east-1:123456789012:function:fn-gone"
            ),
        ]
    );
    insta::assert_snapshot!(rendered(&with));
    // A file that does not fit: E0806 with a span, and no analysis.
    let bad = iamx::account::analyze_with_resources(
        vec![source("run_as.json")],
        Some(source("bad/resources.json")),
    );
    assert!(
        codes(&bad).iter().all(|c| *c == "E0806"),
        "{}",
        rendered(&bad)
    );
    assert_eq!(codes(&bad).len(), 5);
    assert!(bad.guardrail.is_none());
    insta::assert_snapshot!("bad_resources", rendered(&bad));
    // The CLI: `--resources` needs `--account`.
    let dir = "tests/fixtures/account/";
    let (code, stderr) = iamx(&[
        "check",
        "--account",
        &format!("{dir}run_as.json"),
        "--resources",
        &format!("{dir}run_as_resources.json"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("[W0611]") && stderr.contains("[W0807]"),
        "{stderr}"
    );
    let (code, _) = iamx(&[
        "check",
        "--resources",
        &format!("{dir}run_as_resources.json"),
        &format!("{dir}run_as.json"),
    ]);
    assert_eq!(code, 2);
}

/// A project's declarations join the account's, and replace those of the same name: the
/// guarded example closes the open delegated admin of the snapshot.
#[test]
fn project_declarations_join_the_account() {
    let open = "tests/fixtures/account/vulnerable_delegated_admin.json";
    let (code, stderr) = iamx(&["check", "--account", open, "examples/company-xyz-guarded"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        "guardrail: 1 boundary closed, 0 open; 2 bounded principals closed, 0 open\n"
    );
    // The open example declares the same open boundary: still open.
    let (_, stderr) = iamx(&["check", "--account", open, "examples/company-xyz"]);
    assert!(stderr.contains("[W0601]"), "{stderr}");
    // A project alone is not an account.
    let (code, stderr) = iamx(&["check", "--account", "examples/company-xyz"]);
    assert_eq!(code, 2, "{stderr}");
    // Library: a project of another account.
    let mut options = iamx::Options {
        skip_guardrail: true,
        ..iamx::Options::default()
    };
    options.skip_tests = true;
    let project = iamx::compile(
        vec![Source::new(
            "main.iamx",
            "account \"210987654321\"\nrole ops {\n  trust { allow account }\n}\n",
        )],
        &options,
    );
    assert!(project.project.is_some());
    let c = iamx::account::analyze_with_project(
        project,
        vec![source(open.rsplit_once("account/").unwrap().1)],
    );
    assert_eq!(codes(&c), ["E0801"], "{}", rendered(&c));
    assert!(c.diagnostics[0].message.contains("`210987654321`"));
}

/// `iamx import --account`, then the project built again: every document of the snapshot as
/// JSON values, and every principal's path, ARN, boundary, attachments, groups and tags.
/// The project `iamx import --account` wrote, compiled (its own checks only).
fn build_imported(files: &[(String, String)]) -> Compilation {
    let options = iamx::Options {
        skip_guardrail: true,
        skip_tests: true,
        ..iamx::Options::default()
    };
    iamx::compile(
        files
            .iter()
            .map(|(n, t)| Source::new(n.as_str(), t.clone().into_bytes()))
            .collect(),
        &options,
    )
}

fn round_trip(names: &[&str]) -> Vec<String> {
    round_trip_sources(names, names.iter().map(|n| source(n)).collect())
}

fn round_trip_sources(names: &[&str], sources: Vec<Source>) -> Vec<String> {
    let imported = iamx::account_import::import_account(sources.clone());
    let files = imported.files.unwrap_or_else(|| {
        let mut text = String::new();
        for d in &imported.diagnostics {
            text.push_str(&render::human(d, &imported.sources, false));
        }
        panic!("{names:?} did not import:\n{text}")
    });
    let compiled = build_imported(&files);
    assert!(!compiled.has_errors(), "{names:?}: {}", rendered(&compiled));
    let built = compiled.project.unwrap();
    let (_, original, _) = iamx::account::read(sources);
    let original = original.unwrap();
    assert_eq!(built.account, original.account);
    let json = |p: &iamx::iam::Policy| iamx::iam::json::policy(p);
    let same = |a: &iamx::iam::Policy, b: &iamx::iam::Policy, what: &str| {
        assert!(
            iamx::import::same(&json(a), &json(b)),
            "{names:?}: {what} differs:\n{}\n{}",
            json(a),
            json(b)
        );
    };
    for p in &original.policies {
        let q = built
            .policies
            .iter()
            .find(|q| q.name == p.name)
            .unwrap_or_else(|| panic!("{names:?}: policy {} not built", p.name));
        assert_eq!((&q.path, &q.arn, q.boundary), (&p.path, &p.arn, p.boundary));
        same(
            &original.documents[p.document].policy,
            &built.documents[q.document].policy,
            &p.name,
        );
    }
    assert_eq!(built.policies.len(), original.policies.len());
    let mut seen = Vec::new();
    for p in &original.principals {
        let q = built
            .principals
            .iter()
            .find(|q| q.kind == p.kind && q.name == p.name)
            .unwrap_or_else(|| panic!("{names:?}: {} {} not built", p.kind.as_str(), p.name));
        let values = |v: &[iamx::iam::Spanned<String>]| {
            let mut v: Vec<String> = v.iter().map(|x| x.value.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(
            (&q.path, &q.arn, &q.groups, &q.tags),
            (&p.path, &p.arn, &p.groups, &p.tags),
            "{}",
            p.name
        );
        assert_eq!(
            q.boundary.as_ref().map(|b| &b.value),
            p.boundary.as_ref().map(|b| &b.value)
        );
        assert_eq!(values(&q.attached), values(&p.attached), "{}", p.name);
        assert_eq!(q.documents.len(), p.documents.len(), "{}", p.name);
        for &i in &p.documents {
            let d = &original.documents[i];
            let e = q
                .documents
                .iter()
                .map(|&j| &built.documents[j])
                .find(|e| {
                    e.kind == d.kind
                        && (d.kind == iamx::iam::DocumentKind::Trust || e.name == d.name)
                })
                .unwrap_or_else(|| panic!("{names:?}: {} of {} not built", d.name, p.name));
            same(&d.policy, &e.policy, &d.file);
        }
        seen.push(p.name.clone());
    }
    assert_eq!(built.principals.len(), original.principals.len());
    seen
}

#[test]
fn import_account_round_trips() {
    for names in [
        &["safe_delegated_admin.json"][..],
        &["safe_delegated_admin_encoded.json"],
        &["page_1.json", "page_2.json"],
        &["vulnerable_delegated_admin.json"],
        &["unbounded_escalations.json"],
        &["unbounded_pairs.json"],
        &["role_verdicts.json"],
        &["paths.json"],
        &["policy_versions.json"],
        &["run_as.json"],
        // Made by `bench/gen_account.py 60`: boundaries, groups, trust between roles, classic
        // escalations, URL-encoded documents.
        &["generated_60.json"],
    ] {
        round_trip(names);
    }
}

/// What the imported project looks like, and what iamx says it does not write.
#[test]
fn import_account_output() {
    let imported = iamx::account_import::import_account(vec![source("safe_delegated_admin.json")]);
    let files = imported.files.unwrap();
    let mut text = String::new();
    for d in &imported.diagnostics {
        text.push_str(&render::human(d, &imported.sources, false));
    }
    for (name, body) in &files {
        text.push_str(&format!("=== {name}\n{body}"));
    }
    assert_eq!(
        imported
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect::<Vec<_>>(),
        ["W0808"]
    );
    insta::assert_snapshot!(text);
}

/// A name iamx cannot write is an error, and nothing is written.
#[test]
fn import_account_refuses_what_it_cannot_write() {
    let snapshot = serde_json::json!({
        "UserDetailList": [{"UserName": "alice@example.com", "Path": "/",
            "Arn": "arn:aws:iam::123456789012:user/alice@example.com"}],
    });
    let imported = iamx::account_import::import_account(vec![Source::new(
        "snapshot.json",
        snapshot.to_string().into_bytes(),
    )]);
    assert!(imported.files.is_none());
    assert_eq!(
        imported
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect::<Vec<_>>(),
        ["E0809"]
    );
}

#[test]
fn import_account_cli() {
    let dir = std::env::temp_dir().join(format!("iamx-import-account-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_string_lossy().into_owned();
    let snapshot = "tests/fixtures/account/safe_delegated_admin.json";
    let (code, stderr) = iamx(&["import", "--account", snapshot, "-o", &out]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("[W0808]") && stderr.contains("wrote"),
        "{stderr}"
    );
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "account.iamx",
            "groups.iamx",
            "policies.iamx",
            "roles.iamx",
            "users.iamx"
        ]
    );
    // The project builds, and is formatted.
    let (code, stderr) = iamx(&["check", &out]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = iamx(&["fmt", "--check", &out]);
    assert_eq!(code, 0, "{stderr}");
    // Files are new: a second import refuses, and writes nothing.
    let (code, stderr) = iamx(&["import", "--account", snapshot, "-o", &out]);
    assert_eq!(code, 2, "{stderr}");
    // A snapshot with errors writes nothing.
    let other = dir.join("bad");
    let (code, _) = iamx(&[
        "import",
        "--account",
        "tests/fixtures/account/bad/wrong_type.json",
        "-o",
        &other.to_string_lossy(),
    ]);
    assert_eq!(code, 1);
    assert!(!other.exists());
    // `-o` is needed.
    assert_eq!(iamx(&["import", "--account", snapshot]).0, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The escalation catalogue of `bench/gen_account.py`: every `vuln-` principal is reported as
/// an escalation (W0611), no `safe-` one is reported at all.
fn catalogue_holds(label: &str, c: &Compilation) {
    let project = c.project.as_ref().expect("analysed");
    let mut vulnerable = 0;
    for p in &project.principals {
        if p.name.starts_with("vuln-") {
            vulnerable += 1;
            assert!(
                c.diagnostics
                    .iter()
                    .any(|d| d.code.as_str() == "W0611" && named(d) == p.name),
                "{label}: {} is not reported",
                p.name
            );
        }
    }
    assert!(
        vulnerable >= 7,
        "{label}: {vulnerable} vulnerable principals"
    );
    for d in &c.diagnostics {
        assert!(
            !named(d).starts_with("safe-"),
            "{label}: a safe principal is reported: {}",
            d.message
        );
    }
}

#[test]
fn generated_catalogue() {
    catalogue_holds("generated_60.json", &analyze(&["generated_60.json"]));
}

/// Snapshots of several sizes from the generator (when `python3` is there to run it): the
/// catalogue holds, and import → build gives the account back.
#[test]
fn generated_snapshots() {
    let generator = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen_account.py");
    for n in [120, 400] {
        let output = match Command::new("python3")
            .arg(&generator)
            .arg(n.to_string())
            .output()
        {
            Ok(output) => output,
            Err(e) => {
                eprintln!(
                    "generated_snapshots: python3 cannot run ({e}); generated_60.json stands in"
                );
                return;
            }
        };
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let label = format!("gen_account.py {n}");
        let snapshot = Source::new(format!("generated-{n}.json"), output.stdout);
        let c = iamx::account::analyze(vec![snapshot.clone()]);
        assert!(!c.has_errors(), "{label}: {}", rendered(&c));
        catalogue_holds(&label, &c);
        let seen = round_trip_sources(&[&label], vec![snapshot]);
        assert!(seen.len() > n, "{label}: {} principals", seen.len());
    }
}

/// Every pair of `tests/fixtures/guardrail/`, deployed: each project built as the account
/// it makes (`iamx build --target account`), with a holder for each boundary no one holds,
/// then analysed as an account. The account analysis finds every vector the project
/// analysis finds, and a safe project's account is clean.
#[test]
fn guardrail_pairs_as_accounts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/guardrail");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "iamx"))
        .collect();
    files.sort();
    let guardrail = |codes: &[&str]| -> std::collections::BTreeSet<String> {
        codes
            .iter()
            .filter(|c| c.starts_with("W06") || c.starts_with("W08"))
            .map(|c| c.to_string())
            .collect()
    };
    let mut table = String::new();
    let mut compared = 0;
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let project = iamx::compile(
            vec![Source::new(&name, std::fs::read(&file).unwrap())],
            &iamx::Options::default(),
        );
        // The vulnerable twins that do not compile (E0621) have no account to deploy.
        let Some(p) = project.project.as_ref().filter(|_| !project.has_errors()) else {
            continue;
        };
        let mut snapshot = iamx::emit::account::snapshot(p).expect("an account");
        hold_every_boundary(&mut snapshot);
        let text = serde_json::to_string_pretty(&snapshot).unwrap();
        let c = catch_unwind(AssertUnwindSafe(|| {
            iamx::account::analyze(vec![Source::new("snapshot.json", text)])
        }))
        .unwrap_or_else(|_| panic!("{name}: the analysis panicked"));
        let in_project = guardrail(&codes(&project));
        let in_account = guardrail(&codes(&c));
        if name.ends_with("_safe.iamx") {
            assert!(
                c.diagnostics.is_empty(),
                "{name}: the safe account is not clean:\n{}",
                rendered(&c)
            );
        } else {
            assert!(
                !in_account.is_empty(),
                "{name}: the account analysis finds nothing"
            );
            // An escalation the project's analysis is sure of may depend, in the account, on
            // principals created later (W0805): the account holds no stronger one yet.
            let found = |code: &String| {
                in_account.contains(code) || (code == "W0611" && in_account.contains("W0805"))
            };
            assert!(
                in_project.iter().all(found),
                "{name}: the project finds {in_project:?}, the account {in_account:?}"
            );
        }
        compared += 1;
        let list = |s: &std::collections::BTreeSet<String>| {
            s.iter().cloned().collect::<Vec<_>>().join(" ")
        };
        table.push_str(&format!(
            "{name}: project [{}] account [{}]\n",
            list(&in_project),
            list(&in_account)
        ));
    }
    assert!(compared >= 100, "only {compared} fixtures compared");
    insta::assert_snapshot!(table);
}

/// A boundary no one holds lets no one out: the fixtures declare boundaries for holders to
/// come, so each boundary of the snapshot no principal holds gets one, a user allowed
/// everything inside it.
fn hold_every_boundary(snapshot: &mut serde_json::Value) {
    let unheld: Vec<String> = snapshot["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["PermissionsBoundaryUsageCount"] == 0 && p["AttachmentCount"] == 0)
        .map(|p| p["Arn"].as_str().unwrap().to_string())
        .collect();
    let account = unheld
        .first()
        .map(|arn| arn.split(':').nth(4).unwrap().to_string());
    let users = snapshot["UserDetailList"].as_array_mut().unwrap();
    for (i, arn) in unheld.iter().enumerate() {
        let account = account.as_deref().unwrap();
        users.push(serde_json::json!({
            "Path": "/",
            "UserName": format!("holder-{i}"),
            "Arn": format!("arn:aws:iam::{account}:user/holder-{i}"),
            "UserPolicyList": [],
            "GroupList": [],
            "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}],
            "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn},
            "Tags": []
        }));
    }
}

/// `iamx build --target account` on every example: the snapshot reads back as the project it
/// came from (principals, attachments, boundaries, memberships, tags, every document), imports
/// back into a project that builds to it, and passes `iamx check --account`'s reader cleanly.
#[test]
fn examples_deploy_as_accounts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut examples: Vec<String> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    examples.sort();
    for example in examples {
        let out = std::env::temp_dir().join(format!(
            "iamx-account-target-{}-{example}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&out);
        let run = Command::new(env!("CARGO_BIN_EXE_iamx"))
            .args([
                "build",
                &format!("examples/{example}"),
                "--target",
                "json,account",
                "-o",
            ])
            .arg(&out)
            .current_dir(root)
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{example}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = std::fs::read(out.join("account/authorization-details.json")).unwrap();
        let _ = std::fs::remove_dir_all(&out);
        let compiled = iamx::compile(
            example_sources(&root.join("examples").join(&example)),
            &iamx::Options::default(),
        );
        let project = compiled.project.expect("the example compiles");
        let (_, read, diagnostics) =
            iamx::account::read(vec![Source::new("snapshot.json", text.clone())]);
        assert!(
            diagnostics.is_empty(),
            "{example}: the snapshot reads with diagnostics"
        );
        let read = read.unwrap();
        assert_eq!(read.account, project.account, "{example}");
        let json = |p: &iamx::iam::Policy| iamx::iam::json::policy(p);
        {
            let (a, b) = (&project, &read);
            assert_eq!(a.principals.len(), b.principals.len(), "{example}");
            assert_eq!(a.policies.len(), b.policies.len(), "{example}");
            for p in &a.principals {
                let q = b
                    .principals
                    .iter()
                    .find(|q| q.kind == p.kind && q.name == p.name)
                    .unwrap_or_else(|| panic!("{example}: {} not in the snapshot", p.name));
                let values = |v: &[iamx::iam::Spanned<String>]| {
                    v.iter().map(|x| x.value.clone()).collect::<Vec<_>>()
                };
                assert_eq!(
                    (&q.path, &q.arn, &q.groups, &q.tags, values(&q.attached)),
                    (&p.path, &p.arn, &p.groups, &p.tags, values(&p.attached)),
                    "{example}: {}",
                    p.name
                );
                assert_eq!(
                    q.boundary.as_ref().map(|b| &b.value),
                    p.boundary.as_ref().map(|b| &b.value)
                );
                let docs = |project: &iamx::iam::Project, p: &iamx::iam::PrincipalInfo| {
                    p.documents
                        .iter()
                        .map(|&i| {
                            (
                                project.documents[i].kind,
                                json(&project.documents[i].policy),
                            )
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(docs(b, q), docs(a, p), "{example}: {}", p.name);
            }
            for p in &a.policies {
                let q = b.policies.iter().find(|q| q.name == p.name).unwrap();
                assert_eq!((&q.arn, &q.path, q.boundary), (&p.arn, &p.path, p.boundary));
                assert_eq!(
                    json(&b.documents[q.document].policy),
                    json(&a.documents[p.document].policy)
                );
            }
        }
        round_trip_sources(&[&example], vec![Source::new("snapshot.json", text)]);
    }
}

fn example_sources(dir: &Path) -> Vec<Source> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(example_sources(&path));
        } else if path.extension().is_some_and(|e| e == "iamx") {
            out.push(Source::new(
                path.to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            ));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The public escalation catalogues (Rhino Security Labs, pathfinding.cloud, IAM Vulnerable:
/// `data/guardrail/escalations.json`) as one account, written by `bench/gen_catalogue.py`: for
/// every path, a vulnerable principal with no boundary is a sure escalation (W0611), and its
/// safe twin, allowed the same actions on what leaves the path shut once the account is known,
/// is not reported at all. The checked-in files are the generator's output.
#[test]
fn catalogue_pairs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (snapshot, resources) = ("catalogue.json", "catalogue_resources.json");
    let dir = std::env::temp_dir().join(format!("iamx-catalogue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    match Command::new("python3")
        .arg(root.join("bench/gen_catalogue.py"))
        .arg(dir.join(snapshot))
        .arg(dir.join(resources))
        .output()
    {
        Ok(run) => {
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            for name in [snapshot, resources] {
                assert!(
                    std::fs::read(dir.join(name)).unwrap() == std::fs::read(fixture(name)).unwrap(),
                    "tests/fixtures/account/{name} is not what bench/gen_catalogue.py writes: run it again"
                );
            }
        }
        Err(e) => {
            eprintln!("catalogue_pairs: python3 cannot run ({e}); the checked-in files stand in")
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let c = iamx::account::analyze_with_resources(vec![source(snapshot)], Some(source(resources)));
    assert!(!c.has_errors(), "{}", rendered(&c));
    let project = c.project.as_ref().unwrap();
    let mut table = String::new();
    let mut pairs = 0;
    for p in &project.principals {
        let Some(n) = p.name.strip_prefix("vuln-") else {
            continue;
        };
        pairs += 1;
        let id = p.tags.get("path").cloned().unwrap_or_default();
        let found: Vec<&iamx::diag::Diagnostic> = c
            .diagnostics
            .iter()
            .filter(|d| named(d) == p.name)
            .collect();
        assert!(
            found.len() == 1 && found[0].code.as_str() == "W0611",
            "{id}: vulnerable `{}` gives {:?}",
            p.name,
            found.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        let safe = format!("safe-{n}");
        let against: Vec<&String> = c
            .diagnostics
            .iter()
            .filter(|d| named(d) == safe)
            .map(|d| &d.message)
            .collect();
        assert!(
            against.is_empty(),
            "{id}: safe `{safe}` is reported: {against:?}"
        );
        let message = found[0].message.split_once(", and ").map_or("", |(_, m)| m);
        table.push_str(&format!("{id}: {message}\n"));
    }
    assert!(pairs >= 120, "{pairs} pairs");
    insta::assert_snapshot!(table);
}

/// A role's instance profile, `MaxSessionDuration` and `Description`, and a policy's
/// `Description`, as a snapshot has them: `iamx import --account` writes them, formatted, and
/// the project builds to the same `manifest.json` fields. A role's second profile, or one at
/// another path, is a note (W0808) naming it.
#[test]
fn import_account_keeps_profiles_sessions_and_descriptions() {
    let name = "profiles_and_descriptions.json";
    round_trip(&[name]);
    let imported = iamx::account_import::import_account(vec![source(name)]);
    let files = imported.files.unwrap();
    let notes: Vec<(&str, &str)> = imported
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.message.as_str()))
        .collect();
    assert_eq!(
        notes,
        [
            ("W0808", "role `batch` is in instance profiles iamx does not write (`batch-legacy` at path `/legacy/`); iamx writes `batch-profile`"),
            ("W0808", "role `web` is in instance profiles iamx does not write (`web-spare`); iamx writes `web`"),
            ("W0808", "role `legacy-only` is in instance profiles iamx does not write (`legacy-only` at path `/old/`); iamx writes none"),
        ]
    );
    // Each note points at the role and at the profiles it loses.
    assert!(imported
        .diagnostics
        .iter()
        .all(|d| d.span.is_some() && d.labels.len() == 1));

    // Built in the library: the same settings as the snapshot read.
    let compiled = build_imported(&files);
    assert!(!compiled.has_errors(), "{}", rendered(&compiled));
    let built = compiled.project.unwrap();
    let (_, original, _) = iamx::account::read(vec![source(name)]);
    let original = original.unwrap();
    let settings = |project: &iamx::iam::Project| {
        let mut principals: Vec<_> = project
            .principals
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.instance_profile.clone(),
                    p.max_session,
                    p.description.clone(),
                )
            })
            .collect();
        principals.sort();
        let mut policies: Vec<_> = project
            .policies
            .iter()
            .map(|p| (p.name.clone(), p.description.clone()))
            .collect();
        policies.sort();
        (principals, policies)
    };
    assert_eq!(settings(&built), settings(&original));
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        settings(&original),
        (
            vec![
                ("ana".into(), None, None, None),
                (
                    "batch".into(),
                    some("batch-profile"),
                    Some(5400),
                    some("Batch jobs: \"nightly\" and {weekly}, see ${aws:username}\nSecond line")
                ),
                ("lambda-plain".into(), None, None, None),
                ("legacy-only".into(), None, Some(3601), None),
                (
                    "report-runner".into(),
                    some("report-runner"),
                    Some(7200),
                    some("Runs the monthly report on an EC2 instance")
                ),
                ("web".into(), some("web"), Some(43200), None),
            ],
            vec![
                (
                    "ReadReports".into(),
                    some("Read the {account}'s \"monthly\" reports")
                ),
                ("Unused".into(), None),
            ]
        )
    );

    // Through the command line: formatted, and `manifest.json` has the fields.
    let dir = std::env::temp_dir().join(format!("iamx-import-profiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (project_dir, out_dir) = (dir.join("iam"), dir.join("out"));
    let snapshot = format!("tests/fixtures/account/{name}");
    let (code, stderr) = iamx(&[
        "import",
        "--account",
        &snapshot,
        "-o",
        &project_dir.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = iamx(&["fmt", "--check", &project_dir.to_string_lossy()]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = iamx(&[
        "build",
        &project_dir.to_string_lossy(),
        "-o",
        &out_dir.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    for p in &original.principals {
        let m = manifest["principals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == p.name.as_str())
            .unwrap_or_else(|| panic!("{} not in the manifest", p.name));
        assert_eq!(
            m.get("instance_profile").and_then(|v| v.as_str()),
            p.instance_profile.as_deref(),
            "{}",
            p.name
        );
        assert_eq!(
            m.get("max_session").and_then(|v| v.as_u64()),
            p.max_session.map(u64::from),
            "{}",
            p.name
        );
        assert_eq!(
            m.get("description").and_then(|v| v.as_str()),
            p.description.as_deref(),
            "{}",
            p.name
        );
    }
    for p in &original.policies {
        let m = manifest["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == p.name.as_str())
            .unwrap_or_else(|| panic!("{} not in the manifest", p.name));
        assert_eq!(
            m.get("description").and_then(|v| v.as_str()),
            p.description.as_deref(),
            "{}",
            p.name
        );
    }

    let mut text = String::new();
    for d in &imported.diagnostics {
        text.push_str(&render::human(d, &imported.sources, false));
    }
    for (name, body) in &files {
        text.push_str(&format!("=== {name}\n{body}"));
    }
    insta::assert_snapshot!(text);
}

/// A `MaxSessionDuration` that is not whole seconds from one to twelve hours, and a
/// `Description` or an instance profile's name that is not a string, are broken snapshots
/// (E0801), each pointed at.
#[test]
fn bad_sessions_and_descriptions_are_diagnosed() {
    let mut all = String::new();
    for (name, fields) in [
        (
            "bad/max_session.json",
            &[
                "RoleDetailList[0].MaxSessionDuration",
                "RoleDetailList[1].MaxSessionDuration",
                "RoleDetailList[2].MaxSessionDuration",
            ],
        ),
        (
            "bad/description.json",
            &[
                "RoleDetailList[0].Description",
                "RoleDetailList[1].InstanceProfileList[0].InstanceProfileName",
                "Policies[0].Description",
            ],
        ),
    ] {
        let c = analyze(&[name]);
        assert_eq!(codes(&c), ["E0801"; 3], "{name}:\n{}", rendered(&c));
        assert!(c.project.is_none() && c.guardrail.is_none(), "{name}");
        for (d, field) in c.diagnostics.iter().zip(fields) {
            assert!(
                d.message.starts_with(&format!("`{field}` is ")),
                "{name}: {}",
                d.message
            );
            assert!(d.span.is_some(), "{name}: {}", d.message);
        }
        all.push_str(&format!("=== {name}\n{}", rendered(&c)));
    }
    insta::assert_snapshot!(all);
}

/// An example's instance profile, session and description go through `iamx build --target
/// account`, the snapshot reader and `iamx import --account`, and come back the same.
#[test]
fn example_profiles_survive_an_account_round_trip() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("examples/lambda-service-role");
    let out = std::env::temp_dir().join(format!("iamx-account-profiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let (code, stderr) = iamx(&[
        "build",
        &dir.to_string_lossy(),
        "--target",
        "account",
        "-o",
        &out.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read(out.join("account/authorization-details.json")).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    let imported = iamx::account_import::import_account(vec![Source::new("snapshot.json", text)]);
    assert!(imported.diagnostics.is_empty());
    let files = imported.files.unwrap();
    let options = iamx::Options {
        skip_guardrail: true,
        skip_tests: true,
        ..iamx::Options::default()
    };
    let compile = |sources| iamx::compile(sources, &options).project.unwrap();
    let again = compile(
        files
            .iter()
            .map(|(n, t)| Source::new(n.as_str(), t.clone().into_bytes()))
            .collect(),
    );
    let example = compile(example_sources(&dir));
    let settings = |project: &iamx::iam::Project| {
        project
            .principals
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.instance_profile.clone(),
                    p.max_session,
                    p.description.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(settings(&again), settings(&example));
    assert!(settings(&example)
        .iter()
        .any(|(_, profile, session, _)| profile.is_some() && session.is_some()));
    assert!(settings(&example).iter().any(|(.., d)| d.is_some()));
}

/// A description with a control character iamx strings cannot hold (a carriage return) is
/// left out with a note (W0808); the rest is written.
#[test]
fn import_account_notes_descriptions_it_cannot_write() {
    let snapshot = serde_json::json!({
        "RoleDetailList": [{"RoleName": "runner", "Path": "/",
            "Arn": "arn:aws:iam::123456789012:role/runner",
            "Description": "line one\r\nline two", "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}],
    });
    let imported = iamx::account_import::import_account(vec![Source::new(
        "snapshot.json",
        snapshot.to_string().into_bytes(),
    )]);
    let notes: Vec<(&str, &str)> = imported
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.message.as_str()))
        .collect();
    assert_eq!(
        notes,
        [(
            "W0808",
            "role `runner` has a description iamx cannot write; it is left out"
        )]
    );
    let files = imported.files.unwrap();
    let roles = &files.iter().find(|(n, _)| n == "roles.iamx").unwrap().1;
    assert!(
        !roles.contains("description") && roles.contains("max session 1h"),
        "{roles}"
    );
}

/// A project's `@allow`s reach the account analysis's warnings about what the project
/// declares: an accepted escalation is counted, not printed; an `@allow` that accepts nothing,
/// there either, is W0227.
#[test]
fn project_allows_reach_account_findings() {
    let dir = std::env::temp_dir().join(format!("iamx-account-allow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("main.iamx"),
        r#"account "123456789012"

@allow(W0611, "break-glass user, watched by the SOC")
user breakglass {
  allow sts:AssumeRole on "arn:aws:iam::123456789012:role/Admin"
}

@allow(W0611, "nothing to accept here")
user reader {
  allow s3:GetObject on "arn:aws:s3:::reports/*"
}
"#,
    )
    .unwrap();
    let snapshot = fixture("unbounded_escalations.json");
    let (code, out) = iamx(&[
        "check",
        "--account",
        &snapshot.to_string_lossy(),
        &dir.join("main.iamx").to_string_lossy(),
        "--color",
        "never",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("user `breakglass`"), "{out}");
    assert!(out.contains("user `alice`"), "{out}");
    assert!(out.contains("[W0227]"), "{out}");
    assert!(out.contains("(1 warning accepted)"), "{out}");
}

/// Resource tags decide: a principal allowed to update the code of functions tagged
/// `team=ops` runs code as the administrator role the `report` function (tagged so) runs as;
/// one allowed the `team=data` functions reaches only `ingest`, which holds nothing, and the
/// functions `--resources` does not list, whose tags and roles are unknown (W0805); one allowed
/// `ingest` alone, with no condition, is not reported. Without the file, tags and roles are all
/// unknown.
#[test]
fn resource_tags_decide() {
    let with = iamx::account::analyze_with_resources(
        vec![source("run_as_tags.json")],
        Some(source("run_as_tags_resources.json")),
    );
    assert_eq!(
        found(&with),
        [
            ("W0611", "ops-dev"),
            ("W0805", "data-dev"),
            ("W0804", "Admin")
        ],
        "{}",
        rendered(&with)
    );
    assert!(with.diagnostics[0].message.contains("function:report"));
    let without = analyze(&["run_as_tags.json"]);
    assert_eq!(
        found(&without),
        [
            ("W0805", "ops-dev"),
            ("W0805", "data-dev"),
            ("W0805", "plain"),
            ("W0804", "Admin")
        ],
        "{}",
        rendered(&without)
    );
}

/// Who can become whom, for principals with no boundary: changing a principal is an
/// escalation with a way to become it (its keys, its trust, joining the group), never alone;
/// roles that name a principal in their trust policy are followed, several steps deep; a
/// condition the caller meets (MFA) or a `NotResource` does not hide an administrator.
#[test]
fn who_becomes_whom() {
    let c = analyze(&["who_becomes_whom.json"]);
    for clean in [
        "empower-only",
        "attach-only",
        "attach-role-only",
        "own-keys",
        "weakling",
    ] {
        assert!(
            !c.diagnostics.iter().any(|d| named(d) == clean),
            "{clean} is reported:\n{}",
            rendered(&c)
        );
    }
    for escalates in [
        "join-and-empower",
        "attach-and-keys",
        "trust-and-attach",
        "keys-of-named",
        "keys-of-chain",
        "password-of-group-admin",
        "detach-deny-and-keys",
        "keys-with-mfa",
        "keys-but-self",
    ] {
        assert!(
            c.diagnostics
                .iter()
                .any(|d| named(d) == escalates && d.code.as_str() == "W0611"),
            "{escalates} is not a sure escalation:\n{}",
            rendered(&c)
        );
    }
    let table: String = c
        .diagnostics
        .iter()
        .map(|d| format!("{} {}\n", d.code.as_str(), d.message))
        .collect();
    insta::assert_snapshot!(table);
}

/// Snapshots that read but hold odd things (a name where a list was, an empty document, a
/// strange ARN) never panic the analysis of who can become whom.
#[test]
fn odd_accounts_never_panic_the_analysis() {
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("who_becomes_whom.json")).unwrap())
            .unwrap();
    let paths = json_paths(&value);
    let mut analysed = 0;
    for path in paths.iter().skip(1).step_by(5) {
        for replacement in [
            serde_json::json!([]),
            serde_json::json!("arn:aws:iam::123456789012:user/*"),
            serde_json::json!({"Version": "2012-10-17", "Statement": []}),
        ] {
            let mut odd = value.clone();
            *odd.pointer_mut(path).unwrap() = replacement.clone();
            let text = odd.to_string().into_bytes();
            let (_, read, _) = iamx::account::read(vec![Source::new("odd.json", text.clone())]);
            if read.is_none() {
                continue;
            }
            analysed += 1;
            catch_unwind(AssertUnwindSafe(|| {
                iamx::account::analyze(vec![Source::new("odd.json", text)])
            }))
            .unwrap_or_else(|_| panic!("the analysis panicked with {path} = {replacement}"));
        }
    }
    assert!(analysed > 50, "only {analysed} odd accounts read");
}

/// Names with non-ASCII text (IAM refuses them, but a snapshot is a file anyone can write)
/// are compared and reported as any other: the same verdicts as with the ASCII names. The
/// comparison of a weaker user once cut such a name inside a character, and panicked.
#[test]
fn non_ascii_names_give_the_same_verdicts() {
    let text = std::fs::read_to_string(fixture("who_becomes_whom.json")).unwrap();
    let odd = text
        .replace("weakling", "wéäk-ling✓")
        .replace("named-user", "名前")
        .replace("chain-user", "çhåin");
    let ascii = analyze(&["who_becomes_whom.json"]);
    let c = catch_unwind(AssertUnwindSafe(|| {
        iamx::account::analyze(vec![Source::new("odd.json", odd)])
    }))
    .expect("the analysis of non-ASCII names does not panic");
    assert_eq!(codes(&c), codes(&ascii), "{}", rendered(&c));
    assert!(
        c.diagnostics
            .iter()
            .any(|d| d.message.contains("user `wéäk-ling✓`")),
        "{}",
        rendered(&c)
    );
}
