//! `iamx doc`: the generated pages of the examples (snapshots), their determinism, and
//! `--check` as a user runs it.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use iamx::{compile, doc, Options, Source};

/// The example's sources, named as the command line names them.
fn sources(example: &str) -> Vec<Source> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "iamx"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let name = format!(
                "examples/{example}/{}",
                f.file_name().unwrap().to_string_lossy()
            );
            Source::new(name, fs::read(f).unwrap())
        })
        .collect()
}

/// Every page of the example's documentation, each under a header naming its file.
fn pages(example: &str, json: bool) -> String {
    let compilation = compile(sources(example), &Options::default());
    assert!(!compilation.has_errors(), "{example} does not compile");
    let project = compilation.project.as_ref().unwrap();
    let docs = doc::model(
        project,
        &compilation.sources,
        compilation.guardrail.as_ref(),
    );
    let artifacts = if json {
        doc::json(&docs)
    } else {
        doc::markdown(&docs)
    };
    artifacts
        .iter()
        .map(|a| format!("=== {}\n{}", a.path, a.contents))
        .collect()
}

#[test]
fn company_xyz_guarded_pages() {
    insta::assert_snapshot!(pages("company-xyz-guarded", false));
}

#[test]
fn lambda_service_role_pages() {
    insta::assert_snapshot!(pages("lambda-service-role", false));
}

#[test]
fn lambda_service_role_json() {
    insta::assert_snapshot!(pages("lambda-service-role", true));
}

#[test]
fn pages_are_deterministic() {
    for example in ["company-xyz-guarded", "team-groups", "multi-env"] {
        for json in [false, true] {
            assert_eq!(pages(example, json), pages(example, json), "{example}");
        }
    }
}

/// Runs `iamx` in the crate root; returns the exit code and stderr.
fn run(args: &[&str]) -> (i32, String) {
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
fn check_exits_1_when_the_docs_are_stale() {
    let dir = std::env::temp_dir().join(format!("iamx-doc-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let out = dir.join("docs");
    let o = out.to_str().unwrap();
    let example = "examples/company-xyz-guarded";
    // Nothing written yet: stale.
    assert_eq!(run(&["doc", example, "-o", o, "--check"]).0, 1);
    assert!(!out.exists(), "--check writes nothing");
    assert_eq!(run(&["doc", example, "-o", o]), (0, String::new()));
    assert!(out.join("index.md").is_file());
    assert!(out.join("users/DeveloperSteve.md").is_file());
    assert_eq!(
        run(&["doc", example, "-o", o, "--check"]),
        (0, String::new())
    );
    // Written again, nothing changes.
    let before = fs::read_to_string(out.join("users/DeveloperSteve.md")).unwrap();
    assert_eq!(run(&["doc", example, "-o", o]).0, 0);
    assert_eq!(
        fs::read_to_string(out.join("users/DeveloperSteve.md")).unwrap(),
        before
    );
    // Edited by hand: stale, and the file is named.
    fs::write(out.join("index.md"), "# edited\n").unwrap();
    let (code, stderr) = run(&["doc", example, "-o", o, "--check"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("is stale; run `iamx doc` again"),
        "{stderr}"
    );
    assert!(stderr.contains("index.md"), "{stderr}");
    // Another format is stale too; writing it replaces the directory whole.
    assert_eq!(
        run(&["doc", example, "-o", o, "--format", "json", "--check"]).0,
        1
    );
    assert_eq!(run(&["doc", example, "-o", o, "--format", "json"]).0, 0);
    assert!(out.join("docs.json").is_file());
    assert!(!out.join("index.md").exists());
    // A project that does not compile writes nothing and exits 1.
    let bad = dir.join("bad.iamx");
    fs::write(&bad, "policy P { allow s3:GetObject }\n").unwrap();
    assert_eq!(run(&["doc", bad.to_str().unwrap(), "-o", o]).0, 1);
    assert!(out.join("docs.json").is_file());
    // Usage errors exit 2.
    assert_eq!(run(&["doc", example, "-o", "-"]).0, 2);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_book_shows_a_page_as_generated() {
    let book =
        fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("book/src/doc.md"))
            .unwrap();
    let start = book.find("```markdown\n").expect("a markdown block") + "```markdown\n".len();
    let end = start + book[start..].find("\n```").expect("closed") + 1;
    let compilation = compile(sources("company-xyz-guarded"), &Options::default());
    let project = compilation.project.as_ref().unwrap();
    let docs = doc::model(
        project,
        &compilation.sources,
        compilation.guardrail.as_ref(),
    );
    let page = doc::markdown(&docs)
        .into_iter()
        .find(|a| a.path == "users/DeveloperSteve.md")
        .unwrap();
    assert_eq!(
        &book[start..end],
        page.contents,
        "book/src/doc.md shows a stale page: paste `users/DeveloperSteve.md` again"
    );
}

#[test]
fn a_role_page_names_who_may_pass_it_and_to_which_service() {
    let source = r#"account "123456789012"

role Worker {
  trust { allow service lambda.amazonaws.com }
  allow s3:GetObject on "arn:aws:s3:::b/*"
}

user deployer {
  allow iam:PassRole on role Worker when iam:PassedToService == "lambda.amazonaws.com"
}

user other {
  allow iam:PassRole on role Worker when iam:PassedToService == "ec2.amazonaws.com"
}
"#;
    let compilation = compile(
        vec![Source::new("main.iamx", source.as_bytes().to_vec())],
        &Options::default(),
    );
    assert!(!compilation.has_errors());
    let project = compilation.project.as_ref().unwrap();
    let docs = doc::model(
        project,
        &compilation.sources,
        compilation.guardrail.as_ref(),
    );
    let worker = docs.principals.iter().find(|p| p.name == "Worker").unwrap();
    assert_eq!(
        worker.passed_by,
        ["[user `deployer`](../users/deployer.md), to `lambda.amazonaws.com`"]
    );
}
