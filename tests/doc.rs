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

/// A larger example: groups, AWS managed policies expanded, principals without boundaries.
#[test]
fn team_groups_pages() {
    insta::assert_snapshot!(pages("team-groups", false));
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
    // Four backticks: the page has fenced blocks of its own (its diagram).
    let start = book.find("````markdown\n").expect("a markdown block") + "````markdown\n".len();
    let end = start + book[start..].find("\n````").expect("closed") + 1;
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
    let passers: Vec<(&str, &[String])> = worker
        .passed_by
        .iter()
        .map(|q| (q.name.as_str(), q.services.as_slice()))
        .collect();
    assert_eq!(
        passers,
        [("deployer", &["lambda.amazonaws.com".to_string()][..])]
    );
    let page = doc::markdown(&docs)
        .into_iter()
        .find(|a| a.path == "roles/Worker.md")
        .unwrap();
    assert!(
        page.contents.contains(
            "- [user `deployer`](../users/deployer.md) may pass it to `lambda.amazonaws.com`"
        ),
        "{}",
        page.contents
    );
}

/// The model and pages of a project written inline.
fn inline(source: &str) -> (doc::Docs, Vec<iamx::emit::Artifact>) {
    let compilation = compile(
        vec![Source::new("main.iamx", source.as_bytes().to_vec())],
        &Options::default(),
    );
    assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
    let project = compilation.project.as_ref().unwrap();
    let docs = doc::model(
        project,
        &compilation.sources,
        compilation.guardrail.as_ref(),
    );
    let pages = doc::markdown(&docs);
    (docs, pages)
}

fn page<'a>(pages: &'a [iamx::emit::Artifact], path: &str) -> &'a str {
    &pages.iter().find(|a| a.path == path).unwrap().contents
}

const NARROWED: &str = r#"account "123456789012"

boundary AppOnly {
  allow s3:GetObject, s3:PutObject on "arn:aws:s3:::bucket/app/*"
  allow s3:ListBucket on "arn:aws:s3:::bucket" when s3:prefix like "app/*"
}

user dev {
  boundary AppOnly
  allow s3:GetObject, s3:PutObject, s3:ListBucket, s3:DeleteObject on *
}

role Worker {
  trust {
    allow service lambda.amazonaws.com
    allow account "111122223333" when aws:MultiFactorAuthPresent
  }
  allow s3:GetObject on "arn:aws:s3:::bucket/*"
}
"#;

#[test]
fn effective_permissions_are_the_grants_intersected_with_the_boundary() {
    let (docs, pages) = inline(NARROWED);
    let dev = docs.principals.iter().find(|p| p.name == "dev").unwrap();
    let s3 = &dev.permissions[0];
    let get = s3
        .grants
        .iter()
        .find(|g| g.actions.contains(&"s3:GetObject".to_string()))
        .unwrap();
    // Granted on `*`, let through on the application's objects: it reaches those.
    assert_eq!(get.reach.len(), 1);
    assert_eq!(
        get.reach[0].resources.resources,
        ["arn:aws:s3:::bucket/app/*"]
    );
    assert!(get.reach[0].narrowed);
    // The boundary's condition joins the grant's.
    let list = s3
        .grants
        .iter()
        .find(|g| g.actions == ["s3:ListBucket"])
        .unwrap();
    assert_eq!(list.reach[0].resources.resources, ["arn:aws:s3:::bucket"]);
    assert_eq!(list.reach[0].conditions[0].key, "s3:prefix");
    // An action the boundary never names is not a permission.
    assert!(s3
        .grants
        .iter()
        .all(|g| !g.actions.contains(&"s3:DeleteObject".to_string())));
    let page = page(&pages, "users/dev.md");
    assert!(
        page.contains("  - so it may act on `arn:aws:s3:::bucket/app/*`\n"),
        "{page}"
    );
    assert!(
        page.contains("  - so it may act on `arn:aws:s3:::bucket`, when `s3:prefix` matches `app/*` (`StringLike`)\n"),
        "{page}"
    );
}

#[test]
fn cut_by_the_boundary_shows_partly_cut_actions() {
    let (docs, pages) = inline(NARROWED);
    let dev = docs.principals.iter().find(|p| p.name == "dev").unwrap();
    let cut = &dev.cut_by_boundary[0].grants;
    let delete = cut
        .iter()
        .find(|g| g.actions == ["s3:DeleteObject"])
        .unwrap();
    assert!(delete.cut[0].cut.whole);
    let get = cut
        .iter()
        .find(|g| g.actions.contains(&"s3:GetObject".to_string()))
        .unwrap();
    assert!(!get.cut[0].cut.whole, "partly cut");
    assert_eq!(get.cut[0].cut.except, ["arn:aws:s3:::bucket/app/*"]);
    let page = page(&pages, "users/dev.md");
    assert!(
        page.contains("  - the boundary cuts it on `*` except `arn:aws:s3:::bucket/app/*`\n"),
        "{page}"
    );
    assert!(
        page.contains("  - the boundary lets none of it through\n"),
        "{page}"
    );
    assert!(
        page.contains("  - the boundary lets it through only when the conditions below hold\n"),
        "{page}"
    );
}

#[test]
fn trust_is_in_plain_words_with_the_iam_form() {
    let (_, pages) = inline(NARROWED);
    let page = page(&pages, "roles/Worker.md");
    assert!(
        page.contains("- The service `lambda.amazonaws.com` may assume it\n"),
        "{page}"
    );
    assert!(
        page.contains("- The principals of account `111122223333` that its own policies allow may assume it, when the caller signed in with MFA (`\"Bool\": {\"aws:MultiFactorAuthPresent\": \"true\"}`)\n"),
        "{page}"
    );
}

#[test]
fn an_open_principal_page_names_the_requests_that_open_it() {
    let compilation = compile(sources("company-xyz"), &Options::default());
    let project = compilation.project.as_ref().unwrap();
    let docs = doc::model(
        project,
        &compilation.sources,
        compilation.guardrail.as_ref(),
    );
    let steve = docs
        .principals
        .iter()
        .find(|p| p.name == "DeveloperSteve")
        .unwrap();
    let codes: Vec<&str> = steve.openings.iter().map(|o| o.code).collect();
    assert_eq!(codes, ["W0604", "W0601", "W0606"]);
    let create = &steve.openings[1];
    assert_eq!(create.action.as_deref(), Some("iam:CreateUser"));
    assert_eq!(create.context, ["no iam:PermissionsBoundary"]);
    assert_eq!(
        create.source.as_deref(),
        Some("examples/company-xyz/main.iamx:7")
    );
    let pages = doc::markdown(&docs);
    let page = page(&pages, "users/DeveloperSteve.md");
    assert!(page.contains("- Whoever carries boundary `CompanyXYZPermissionsBoundary` can create a user with no permissions boundary. The request: `iam:CreateUser` on `arn:aws:iam::123456789012:user/x`, with no `iam:PermissionsBoundary`; the statement at examples/company-xyz/main.iamx:7 allows it (warning W0601)."), "{page}");
    // A closed one says so, and lists nothing.
    let (docs, _) = {
        let c = compile(sources("company-xyz-guarded"), &Options::default());
        let p = c.project.as_ref().unwrap();
        (doc::model(p, &c.sources, c.guardrail.as_ref()), ())
    };
    assert!(docs.principals.iter().all(|p| p.openings.is_empty()));
}

/// Every string of a JSON value, with the key it is under.
fn strings<'a>(v: &'a serde_json::Value, key: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
    match v {
        serde_json::Value::String(s) => out.push((key, s)),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, key, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| strings(x, k, out)),
        _ => {}
    }
}

#[test]
fn json_carries_data_not_markdown() {
    for example in [
        "company-xyz",
        "company-xyz-guarded",
        "team-groups",
        "multi-env",
        "lambda-service-role",
    ] {
        let json = pages(example, true);
        let json = json.split_once('\n').unwrap().1;
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut all = Vec::new();
        strings(&value, "", &mut all);
        for (key, s) in all {
            // Doc comments are the author's, and a finding's words and fix are the
            // warning's, as `iamx check` prints them.
            if matches!(key, "docs" | "what" | "fix") {
                continue;
            }
            assert!(
                !s.contains('`') && !s.contains("](") && !s.contains("**"),
                "{example}: {key}: {s}"
            );
        }
    }
}

#[test]
fn graphviz_accepts_the_dot_files() {
    if Command::new("dot").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("IAMX_REQUIRE_DOT").is_none(),
            "Graphviz's `dot` is not installed, and IAMX_REQUIRE_DOT is set"
        );
        eprintln!("skipped: Graphviz's `dot` is not installed (CI installs it: see .ci/run)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("iamx-dot-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.iamx");
    fs::write(&big, many_principals(200)).unwrap();
    let mut inputs: Vec<String> = [
        "company-xyz",
        "company-xyz-guarded",
        "team-groups",
        "multi-env",
        "lambda-service-role",
    ]
    .iter()
    .map(|e| format!("examples/{e}"))
    .collect();
    inputs.push(big.to_str().unwrap().to_string());
    for (i, input) in inputs.iter().enumerate() {
        let out = dir.join(format!("docs-{i}"));
        let (code, stderr) = run(&["doc", input, "-o", out.to_str().unwrap(), "--graph", "dot"]);
        assert_eq!(code, 0, "{input}: {stderr}");
        let mut files = vec![out.join("diagram.dot")];
        for kind in ["users", "roles", "groups"] {
            if let Ok(entries) = fs::read_dir(out.join(kind)) {
                files.extend(
                    entries
                        .map(|e| e.unwrap().path())
                        .filter(|p| p.extension().is_some_and(|e| e == "dot")),
                );
            }
        }
        assert!(files.len() > 1, "{input}: no per-principal .dot files");
        for f in files {
            let result = Command::new("dot").arg("-Tsvg").arg(&f).output().unwrap();
            assert!(
                result.status.success(),
                "{}: dot rejects it:\n{}",
                f.display(),
                String::from_utf8_lossy(&result.stderr)
            );
        }
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// A project of `n` principals under four paths: users in a group, roles trusted by a
/// service and passed by a deployer.
fn many_principals(n: usize) -> String {
    let mut out = String::from("account \"123456789012\"\n\nboundary B {\n  allow s3:*, iam:PassRole on *\n}\n\ngroup Everyone {\n  allow s3:ListAllMyBuckets on *\n}\n\nuser deployer {\n  allow iam:PassRole on \"arn:aws:iam::123456789012:role/*\"\n}\n");
    for i in 0..n {
        let path = ["/a/", "/b/", "/c/", "/d/"][i % 4];
        if i % 2 == 0 {
            out.push_str(&format!("\nuser u{i} {{\n  path \"{path}\"\n  boundary B\n  groups Everyone\n  allow s3:GetObject on \"arn:aws:s3:::b{i}/*\"\n}}\n"));
        } else {
            out.push_str(&format!("\nrole r{i} {{\n  path \"{path}\"\n  boundary B\n  trust {{ allow service lambda.amazonaws.com }}\n  allow s3:GetObject on \"arn:aws:s3:::b{i}/*\"\n}}\n"));
        }
    }
    out
}

#[test]
fn diagrams_collapse_by_path_when_large() {
    let (docs, pages) = inline(&many_principals(200));
    assert_eq!(docs.principals.len(), 202);
    let index = page(&pages, "index.md");
    let diagram = &index[index.find("```mermaid").unwrap()..];
    let diagram = &diagram[..diagram.find("\n```\n").unwrap()];
    // One node per kind and path, not one per principal.
    assert!(diagram.contains("[[\"50 users under /a/\"]]"), "{diagram}");
    assert!(diagram.contains("may assume ×50"), "{diagram}");
    // Alone under its path, a principal is drawn as itself.
    assert!(diagram.contains("[\"user deployer\"]"), "{diagram}");
    let nodes = diagram
        .lines()
        .filter(|l| l.trim_start().starts_with('n') && !l.contains("--"))
        .count();
    assert!(nodes < 20, "{nodes} nodes:\n{diagram}");
    // A group of 100 members draws its members collapsed too; a small neighbourhood does not.
    let group = page(&pages, "groups/Everyone.md");
    assert!(group.contains("[[\"50 users under /a/\"]]"), "{group}");
    assert!(group.contains("member of ×50"), "{group}");
    let user = page(&pages, "users/u0.md");
    assert!(user.contains("n0[\"user u0\"]"), "{user}");
    assert!(user.contains("style n0 stroke-width:3px"), "{user}");
    // Who may pass a role is an edge of its diagram.
    let role = page(&pages, "roles/r1.md");
    assert!(role.contains("may pass to lambda.amazonaws.com"), "{role}");
}

#[test]
fn denies_with_no_condition_are_taken_out_of_what_it_may_act_on() {
    let (docs, pages) = inline(
        r#"account "123456789012"

user reader {
  allow s3:GetObject on "arn:aws:s3:::bucket/*"
  deny s3:GetObject on "arn:aws:s3:::bucket/secret/*"
  deny s3:GetObject on "arn:aws:s3:::bucket/mfa/*" when aws:MultiFactorAuthPresent? == false
}
"#,
    );
    let reader = &docs.principals[0];
    let get = &reader.permissions[0].grants[0];
    assert_eq!(get.reach[0].resources.resources, ["arn:aws:s3:::bucket/*"]);
    // The deny with a condition is listed, not subtracted.
    assert_eq!(
        get.reach[0].resources.except,
        ["arn:aws:s3:::bucket/secret/*"]
    );
    let page = page(&pages, "users/reader.md");
    assert!(
        page.contains(
            "  - so it may act on `arn:aws:s3:::bucket/*` except `arn:aws:s3:::bucket/secret/*`\n"
        ),
        "{page}"
    );
}
