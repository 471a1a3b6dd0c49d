//! The `iamx` command as a user runs it: exit codes, stdout, stderr, files written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `iamx` in the crate root; returns a transcript: the command, exit code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("iamx runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn transcript(args: &[&str]) -> String {
    let (code, stdout, stderr) = run(args);
    format!(
        "$ iamx {}\nexit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        args.join(" ")
    )
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iamx-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
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
    assert_eq!(stdout, "");
    insta::assert_snapshot!(stderr);
    for line in stderr.lines() {
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
    insta::assert_snapshot!(stdout);
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
