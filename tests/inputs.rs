//! Inputs iamx did not write: symlink loops, FIFOs, devices, huge and sparse files, entries
//! that cannot be read, and `json` includes outside the project. Each once hung iamx, read
//! without bound, or lost files silently (issue 15). Every command runs in a scratch directory
//! with a deadline, so a regression fails instead of hanging the suite.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch("inputs", name)
}

/// Runs `iamx` in `dir`, killed after a minute; returns a transcript: the command, exit code,
/// stdout, stderr.
fn transcript(dir: &Path, args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("iamx runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`iamx {}` did not finish in a minute", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    format!(
        "$ iamx {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

const POLICY: &str = "account \"123456789012\"\npolicy ReadLogs { allow logs:GetLogEvents on * }\n";

/// A project with two links to itself and one to its parent: walked once, not 2^40 times.
#[test]
fn symlink_loops_are_walked_once_and_said() {
    let dir = scratch("loops");
    fs::create_dir_all(dir.join("iam/teams")).unwrap();
    fs::write(dir.join("iam/main.iamx"), POLICY).unwrap();
    fs::write(
        dir.join("iam/teams/ops.iamx"),
        "role ops { trust { allow account }\n  attach ReadLogs }\n",
    )
    .unwrap();
    symlink(".", dir.join("iam/again")).unwrap();
    symlink(".", dir.join("iam/once-more")).unwrap();
    symlink("..", dir.join("iam/teams/up")).unwrap();
    insta::assert_snapshot!(transcript(&dir, &["check", "iam"]));
}

/// A FIFO named like a source would block the read forever: it is skipped, and said so.
#[test]
fn a_fifo_among_the_sources_is_skipped_not_waited_on() {
    let dir = scratch("fifo");
    fs::create_dir_all(dir.join("iam")).unwrap();
    fs::write(dir.join("iam/main.iamx"), POLICY).unwrap();
    mkfifo(&dir.join("iam/pipe.iamx"));
    symlink("/dev/zero", dir.join("iam/zero.iamx")).unwrap();
    insta::assert_snapshot!(transcript(&dir, &["check", "iam"]));
}

/// A FIFO named on the command line (as `iam/*.iamx` names it) is not waited on either: with
/// no writer it reads as empty.
#[test]
fn a_fifo_named_on_the_command_line_is_not_waited_on() {
    let dir = scratch("fifo-named");
    fs::create_dir_all(dir.join("iam")).unwrap();
    fs::write(dir.join("iam/main.iamx"), POLICY).unwrap();
    mkfifo(&dir.join("iam/pipe.iamx"));
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "check",
            "iam/main.iamx",
            "iam/pipe.iamx",
            "--color",
            "never"
        ]
    ));
}

/// A sparse 3 GB file is refused from its size, before reading; `/dev/zero` named on the
/// command line is read only to just past the limit.
#[test]
fn huge_files_and_endless_devices_are_refused_without_reading_them() {
    let dir = scratch("huge");
    fs::create_dir_all(dir.join("iam")).unwrap();
    fs::write(dir.join("iam/main.iamx"), POLICY).unwrap();
    let sparse = fs::File::create(dir.join("iam/generated.iamx")).unwrap();
    sparse.set_len(3 << 30).unwrap();
    drop(sparse);
    insta::assert_snapshot!(transcript(
        &dir,
        &["check", "iam", "--message-format", "json"]
    ));
    insta::assert_snapshot!(transcript(
        &dir,
        &["check", "/dev/zero", "--color", "never"]
    ));
}

/// An entry that cannot be examined stops the command: the project would silently lose it.
#[test]
fn an_entry_that_cannot_be_read_is_an_error() {
    let dir = scratch("dangling");
    fs::create_dir_all(dir.join("iam")).unwrap();
    fs::write(dir.join("iam/main.iamx"), POLICY).unwrap();
    symlink("moved-away.iamx", dir.join("iam/teams.iamx")).unwrap();
    insta::assert_snapshot!(transcript(&dir, &["check", "iam"]));
}

/// A directory that cannot be listed is an error, not an empty directory. (Root can list
/// anything: then there is nothing to test.)
#[test]
fn a_directory_that_cannot_be_listed_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("locked");
    fs::create_dir_all(dir.join("iam/locked")).unwrap();
    fs::write(dir.join("iam/main.iamx"), POLICY).unwrap();
    fs::write(
        dir.join("iam/locked/ops.iamx"),
        "role ops { trust { allow account } }\n",
    )
    .unwrap();
    fs::set_permissions(dir.join("iam/locked"), fs::Permissions::from_mode(0o000)).unwrap();
    let listable = fs::read_dir(dir.join("iam/locked")).is_ok();
    let out = transcript(&dir, &["check", "iam"]);
    fs::set_permissions(dir.join("iam/locked"), fs::Permissions::from_mode(0o755)).unwrap();
    if listable {
        eprintln!("running as a user who can list any directory: nothing to test");
        return;
    }
    assert!(out.contains("exit: 2"), "{out}");
    assert!(
        out.contains("error: cannot read directory `iam/locked`: permission denied"),
        "{out}"
    );
}

fn include_project(dir: &Path, path: &str) {
    fs::create_dir_all(dir.join("iam")).unwrap();
    fs::write(
        dir.join("iam/main.iamx"),
        format!("account \"123456789012\"\npolicy Legacy = json \"{path}\"\n"),
    )
    .unwrap();
}

const DOCUMENT: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"}]}"#;

/// `json "../…"` reads nothing outside the project, so no file's text is echoed in a
/// diagnostic, unless `--allow-include` names its directory.
#[test]
fn includes_stay_in_the_project_unless_allowed() {
    let dir = scratch("outside");
    fs::create_dir_all(dir.join("secrets")).unwrap();
    fs::write(dir.join("secrets/hostname"), "secret-host-name\n").unwrap();
    fs::write(dir.join("secrets/legacy.json"), DOCUMENT).unwrap();
    include_project(&dir, "../secrets/hostname");
    let refused = transcript(&dir, &["check", "iam", "--color", "never"]);
    assert!(!refused.contains("secret-host-name"), "{refused}");
    insta::assert_snapshot!(refused);
    // A symlink inside the project to a file outside it is outside too.
    symlink("../secrets/hostname", dir.join("iam/hostname.json")).unwrap();
    include_project(&dir, "hostname.json");
    let refused = transcript(&dir, &["check", "iam", "--color", "never"]);
    assert!(
        refused.contains("`hostname.json` is outside the project directory"),
        "{refused}"
    );
    assert!(!refused.contains("secret-host-name"), "{refused}");
    // Allowed, the document is read.
    include_project(&dir, "../secrets/legacy.json");
    insta::assert_snapshot!(transcript(
        &dir,
        &[
            "check",
            "iam",
            "--allow-include",
            "secrets",
            "--color",
            "never"
        ]
    ));
}

/// Includes get the limits of sources: regular files only, 8 MiB.
#[test]
fn includes_are_regular_files_within_the_size_limit() {
    let dir = scratch("include-limits");
    include_project(&dir, "pipe.json");
    mkfifo(&dir.join("iam/pipe.json"));
    insta::assert_snapshot!(transcript(&dir, &["check", "iam", "--color", "never"]));
    fs::remove_file(dir.join("iam/pipe.json")).unwrap();
    let sparse = fs::File::create(dir.join("iam/pipe.json")).unwrap();
    sparse.set_len(3 << 30).unwrap();
    drop(sparse);
    insta::assert_snapshot!(transcript(&dir, &["check", "iam", "--color", "never"]));
}
