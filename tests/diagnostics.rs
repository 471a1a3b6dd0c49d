//! Every diagnostic code, triggered from a small fixture and snapshotted as a user sees it.
//!
//! - `tests/fixtures/diagnostics/<CODE>_<case>.iamx`: one file each, compiled alone; the code in
//!   the name must be among the diagnostics. A first-line comment can set options:
//!   `// vars: name=value other=x` (as `--var`), `// trust-limit: 4096` or
//!   `// targets: cloudformation` (as `iamx build --target`) or `// split` (as `--split`).
//! - `tests/snapshots/diagnostics__<CODE>_<case>.snap`: the fixture followed by its diagnostics,
//!   rendered without colour. Review changes with `cargo insta review`.
//! - `book/src/diagnostics/<CODE>.md`: one page per code; the examples on it are compiled here
//!   too, so the book cannot drift from the compiler.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use iamx::diag::{render, Code, Diagnostic, Severity};
use iamx::{Compilation, Options, Source};

/// Codes with no fixture file, and why. Keep it short: a code that iamx source can trigger gets
/// a fixture.
const WITHOUT_FIXTURE: &[(&str, &str)] = &[
    // An 8 MiB fixture is not worth committing: `file_over_the_size_limit_is_refused` builds one.
    ("E0002", "generated in memory"),
    // Only policies read from JSON can get these: iamx syntax never puts a `Principal` in an
    // identity policy, and every iamx statement has its principal, action and resource (a missing
    // `on` is E0216). `json_only_codes_come_from_the_model_checks` covers them on the IAM model.
    ("E0310", "JSON input only"),
    // Account snapshots are not compiled: `tests/account.rs` triggers these from the snapshots
    // in `tests/fixtures/account/` (`bad_snapshots_are_diagnosed`).
    ("E0801", "account snapshots: tests/account.rs"),
    ("E0802", "account snapshots: tests/account.rs"),
    ("W0803", "account snapshots: tests/account.rs"),
    ("W0804", "account snapshots: tests/account.rs"),
    ("W0805", "account snapshots: tests/account.rs"),
    ("E0806", "account snapshots: tests/account.rs"),
    ("W0807", "account snapshots: tests/account.rs"),
    ("W0808", "iamx import --account: tests/account.rs"),
    ("E0809", "iamx import --account: tests/account.rs"),
    // `iamx import` and `iamx fmt` report these, not a compilation: their pages' examples are
    // run through them here (see `page_example`), and `tests/import.rs` and `tests/fmt.rs`
    // trigger each.
    ("E1001", "iamx import only"),
    ("E1002", "iamx fmt only"),
    ("W1003", "iamx import only"),
    ("W1004", "iamx import only"),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_dir() -> PathBuf {
    root().join("tests/fixtures/diagnostics")
}

fn book_dir() -> PathBuf {
    root().join("book/src/diagnostics")
}

/// Every fixture, sorted by file name.
fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/diagnostics exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "iamx" || e == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no fixtures in tests/fixtures/diagnostics"
    );
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The code a fixture is named for: `E0101_misspelled_keyword` → `E0101`.
fn fixture_code(path: &Path) -> String {
    let stem = stem(path);
    stem.split('_').next().unwrap_or_default().to_string()
}

/// Options from a fixture's first line: `// vars: a=1 b=2` or `// trust-limit: 4096`.
fn options_for(path: &Path, bytes: &[u8]) -> Options {
    let mut options = Options::default();
    let text = String::from_utf8_lossy(bytes);
    let first = text.lines().next().unwrap_or_default();
    if let Some(vars) = first.strip_prefix("// vars:") {
        for pair in vars.split_whitespace() {
            let (name, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: `{pair}` is not NAME=VALUE", path.display()));
            options.vars.0.insert(name.to_string(), value.to_string());
        }
    } else if let Some(limit) = first.strip_prefix("// trust-limit:") {
        options.limits.trust_policy = limit
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{}: bad trust limit `{limit}`", path.display()));
    } else if first.trim() == "// split" {
        options.split = true;
    } else if let Some(targets) = first.strip_prefix("// targets:") {
        for target in targets.split(',').map(str::trim) {
            options.targets.push(match target {
                "json" => iamx::emit::Target::Json,
                "cloudformation" => iamx::emit::Target::CloudFormation,
                "terraform" => iamx::emit::Target::Terraform,
                "account" => iamx::emit::Target::Account,
                _ => panic!("{}: unknown target `{target}`", path.display()),
            });
        }
    }
    options
}

/// Compiles one source alone, turning a panic into a test failure that names the input.
fn compile_one(name: &str, bytes: Vec<u8>, options: &Options) -> Compilation {
    let source = Source::new(name, bytes);
    catch_unwind(AssertUnwindSafe(|| iamx::compile(vec![source], options)))
        .unwrap_or_else(|_| panic!("the compiler panicked on {name}"))
}

fn compile_fixture(path: &Path) -> (Vec<u8>, Compilation) {
    let bytes = std::fs::read(path).expect("readable fixture");
    let options = options_for(path, &bytes);
    let result = compile_one(&file_name(path), bytes.clone(), &options);
    (bytes, result)
}

fn codes(result: &Compilation) -> Vec<&'static str> {
    result.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn render_all(result: &Compilation) -> String {
    result
        .diagnostics
        .iter()
        .map(|d| render::human(d, &result.sources, false))
        .collect()
}

/// What a snapshot holds: the fixture as written, then what the user sees.
fn snapshot_text(path: &Path, bytes: &[u8], result: &Compilation) -> String {
    let mut source = String::from_utf8_lossy(bytes).into_owned();
    if !source.is_empty() && !source.ends_with('\n') {
        source.push('\n');
    }
    format!(
        "=== {}\n{source}=== {} diagnostic{}\n{}",
        file_name(path),
        result.diagnostics.len(),
        if result.diagnostics.len() == 1 {
            ""
        } else {
            "s"
        },
        render_all(result)
    )
}

#[test]
fn every_fixture_emits_its_code() {
    let mut failures = Vec::new();
    for path in fixtures() {
        let name = file_name(&path);
        let (bytes, result) = match catch_unwind(|| compile_fixture(&path)) {
            Ok(r) => r,
            Err(_) => {
                failures.push(format!("{name}: the compiler panicked"));
                continue;
            }
        };
        let code = fixture_code(&path);
        let emitted = codes(&result);
        if !emitted.contains(&code.as_str()) {
            failures.push(format!(
                "{name}: expected {code}, got [{}]\n{}",
                emitted.join(", "),
                render_all(&result)
            ));
            continue;
        }
        if Code::parse(&code).is_some_and(|c| c.severity() == Severity::Error)
            && !result.has_errors()
        {
            failures.push(format!(
                "{name}: {code} is an error, yet compilation succeeded"
            ));
        }
        for d in &result.diagnostics {
            let one_line = |s: &str| !s.is_empty() && !s.contains('\n') && !s.ends_with('.');
            if !one_line(&d.message) || d.help.as_deref().is_some_and(|h| !one_line(h)) {
                failures.push(format!(
                    "{name}: {} message and help are one line, with no final period: {:?} / {:?}",
                    d.code, d.message, d.help
                ));
            }
        }
        let text = snapshot_text(&path, &bytes, &result);
        let snapshot = catch_unwind(|| {
            insta::with_settings!({
                description => name.clone(),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(stem(&path), text);
            });
        });
        if snapshot.is_err() {
            failures.push(format!(
                "{name}: snapshot differs (run `cargo insta review`)"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
}

/// A snapshot whose fixture is gone would never be checked again: delete it.
#[test]
fn every_snapshot_has_a_fixture() {
    let stems: BTreeSet<String> = fixtures().iter().map(|p| stem(p)).collect();
    let dir = root().join("tests/snapshots");
    let mut orphans: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|f| {
                    f.strip_prefix("diagnostics__")
                        .and_then(|f| f.strip_suffix(".snap"))
                        .is_some_and(|s| !stems.contains(s))
                })
                .collect()
        })
        .unwrap_or_default();
    orphans.sort();
    assert!(
        orphans.is_empty(),
        "snapshots without a fixture in tests/fixtures/diagnostics; delete them:\n{}",
        orphans.join("\n")
    );
}

/// Checks one line of `--message-format json` output: every field there, with the right type.
fn check_json(name: &str, d: &Diagnostic, line: &str) -> Result<(), String> {
    let fail = |what: String| Err(format!("{name}: {}: {what}\n{line}", d.code));
    if line.contains('\n') {
        return fail("a JSON diagnostic is one line".into());
    }
    let value: serde_json::Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return fail(format!("not JSON: {e}")),
    };
    let Some(object) = value.as_object() else {
        return fail("not a JSON object".into());
    };
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
        if !object.contains_key(key) {
            return fail(format!("no `{key}`"));
        }
    }
    if object["code"] != d.code.as_str() {
        return fail("wrong `code`".into());
    }
    if object["severity"] != d.severity().as_str() {
        return fail("wrong `severity`".into());
    }
    if object["message"] != d.message.as_str() {
        return fail("wrong `message`".into());
    }
    if !(object["help"].is_string() || object["help"].is_null()) {
        return fail("`help` is a string or null".into());
    }
    let placed = d.span.is_some();
    if placed != object["file"].is_string() {
        return fail("`file` is a string exactly when the diagnostic has a place".into());
    }
    for key in ["line", "column", "end_line", "end_column"] {
        let ok = if placed {
            object[key].as_u64().is_some_and(|n| n >= 1)
        } else {
            object[key].is_null()
        };
        if !ok {
            return fail(format!(
                "`{key}` is a 1-based number, or null without a place"
            ));
        }
    }
    let Some(labels) = object["labels"].as_array() else {
        return fail("`labels` is an array".into());
    };
    for label in labels {
        for key in [
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "message",
            "primary",
        ] {
            if label.get(key).is_none() {
                return fail(format!("a label has no `{key}`"));
            }
        }
    }
    Ok(())
}

#[test]
fn every_fixture_renders_as_json_lines() {
    let mut failures = Vec::new();
    for path in fixtures() {
        let (_, result) = compile_fixture(&path);
        for d in &result.diagnostics {
            let line = render::json(d, &result.sources);
            if let Err(e) = check_json(&file_name(&path), d, &line) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
}

/// A source one byte over the limit: a generated file gone wrong.
fn oversized_source() -> Vec<u8> {
    let mut text = String::from("account \"123456789012\"\n");
    let line = "// generated padding: iamx refuses files this large before reading them\n";
    while text.len() <= iamx::MAX_SOURCE_BYTES {
        text.push_str(line);
    }
    let mut bytes = text.into_bytes();
    bytes.truncate(iamx::MAX_SOURCE_BYTES + 1);
    bytes
}

#[test]
fn file_over_the_size_limit_is_refused() {
    let result = compile_one("main.iamx", oversized_source(), &Options::default());
    assert_eq!(codes(&result), ["E0002"], "{}", render_all(&result));
    assert!(result.project.is_none());
    let d = &result.diagnostics[0];
    let rendered = render::human(d, &result.sources, false);
    assert!(rendered.contains("main.iamx"), "{rendered}");
    check_json("main.iamx", d, &render::json(d, &result.sources)).unwrap();
}

/// Diagnostics of the checks on IAM model documents that only JSON input can produce: the
/// codes iamx source cannot reach, rendered as the command line shows them (with no source).
fn model_check_cases() -> Vec<(&'static str, Vec<Diagnostic>)> {
    use iamx::iam::{Block, Document, DocumentKind, Effect, Policy, Principal, Spanned, Statement};

    let block = |values: &[&str]| Block {
        not: false,
        values: values
            .iter()
            .map(|v| Spanned::new(v.to_string(), None))
            .collect(),
        span: None,
    };
    let statement =
        |principal: Option<Principal>, action: Option<Block>, resource: Option<Block>| Statement {
            sid: None,
            effect: Spanned::new(Effect::Allow, None),
            principal,
            not_principal: false,
            action,
            resource,
            conditions: Vec::new(),
            span: None,
            docs: Vec::new(),
        };
    let check = |kind: DocumentKind, statement: Statement| {
        let document = Document {
            kind,
            name: "FromJson".into(),
            owner: None,
            file: "policies/FromJson.json".into(),
            policy: Policy {
                statements: vec![statement],
                id: None,
            },
            span: None,
            split: false,
        };
        let mut out = Vec::new();
        iamx::check::document_rules(&document, &mut out);
        out
    };
    vec![
        (
            "E0310: `\"Principal\": \"*\"` in a managed policy",
            check(
                DocumentKind::Managed,
                statement(
                    Some(Principal::Any(None)),
                    Some(block(&["s3:GetObject"])),
                    Some(block(&["*"])),
                ),
            ),
        ),
        (
            "E0311: no `Action`",
            check(
                DocumentKind::Managed,
                statement(None, None, Some(block(&["*"]))),
            ),
        ),
        (
            "E0311: no `Resource`",
            check(
                DocumentKind::Managed,
                statement(None, Some(block(&["s3:GetObject"])), None),
            ),
        ),
        (
            "E0311: a trust statement with no `Principal`",
            check(
                DocumentKind::Trust,
                statement(None, Some(block(&["sts:AssumeRole"])), None),
            ),
        ),
        (
            // iamx source reaches E0303 only through conditions and resources.
            "E0303: `\"Action\": []`",
            check(
                DocumentKind::Managed,
                statement(None, Some(block(&[])), Some(block(&["*"]))),
            ),
        ),
    ]
}

/// The codes only JSON input can reach still come from the checks, which see only the IAM model.
#[test]
fn json_only_codes_come_from_the_model_checks() {
    let sources = iamx::source::SourceMap::new();
    for (case, diagnostics) in model_check_cases() {
        let expected = &case[..5];
        let got: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(got, [expected], "{case}");
        for d in &diagnostics {
            check_json(case, d, &render::json(d, &sources)).unwrap();
        }
    }
}

/// A fenced code block of a book page: its info string and its text.
struct Fence {
    info: String,
    text: String,
}

fn fences(markdown: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    let mut current: Option<Fence> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match (&mut current, trimmed.strip_prefix("```")) {
            (None, Some(info)) => {
                current = Some(Fence {
                    info: info.trim().to_string(),
                    text: String::new(),
                })
            }
            (Some(_), Some(rest)) if rest.trim().is_empty() => out.extend(current.take()),
            (Some(fence), _) => {
                fence.text.push_str(line);
                fence.text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

fn book_pages() -> BTreeMap<String, String> {
    let mut pages = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(book_dir()) else {
        return pages;
    };
    for entry in entries {
        let path = entry.expect("readable directory entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = std::fs::read_to_string(&path).expect("a page is UTF-8");
            pages.insert(stem(&path), text);
        }
    }
    pages
}

#[test]
fn every_code_has_a_fixture_and_a_page() {
    let mut problems = Vec::new();
    let registry: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let exempt: BTreeSet<&str> = WITHOUT_FIXTURE.iter().map(|(c, _)| *c).collect();
    let mut with_fixture = BTreeSet::new();
    for path in fixtures() {
        let code = fixture_code(&path);
        if !registry.contains(code.as_str()) {
            problems.push(format!(
                "fixture {} names {code}, which is not in src/diag/codes.rs",
                file_name(&path)
            ));
        }
        if stem(&path).len() <= code.len() + 1 {
            problems.push(format!(
                "fixture {} needs a case name: <CODE>_<case>.iamx",
                file_name(&path)
            ));
        }
        with_fixture.insert(code);
    }
    for code in &exempt {
        if !registry.contains(code) {
            problems.push(format!(
                "WITHOUT_FIXTURE lists {code}, which is not in the registry"
            ));
        }
        if with_fixture.contains(*code) {
            problems.push(format!(
                "{code} has a fixture now: remove it from WITHOUT_FIXTURE"
            ));
        }
    }
    let pages = book_pages();
    for code in Code::ALL {
        let text = code.as_str();
        if !with_fixture.contains(text) && !exempt.contains(text) {
            problems.push(format!(
                "{text} has no fixture: add tests/fixtures/diagnostics/{text}_<case>.iamx"
            ));
        }
        match pages.get(text) {
            None => problems.push(format!(
                "{text} has no page: add book/src/diagnostics/{text}.md"
            )),
            Some(page) => {
                let title = format!("# {text}: {}", code.title());
                if page.lines().next() != Some(title.as_str()) {
                    problems.push(format!(
                        "book/src/diagnostics/{text}.md starts with `{title}`"
                    ));
                }
            }
        }
    }
    for name in pages.keys() {
        if name != "index" && !registry.contains(name.as_str()) {
            problems.push(format!(
                "book/src/diagnostics/{name}.md names a code that is not in src/diag/codes.rs"
            ));
        }
    }
    match pages.get("index") {
        None => problems.push("book/src/diagnostics/index.md is missing".into()),
        Some(index) => {
            for code in Code::ALL {
                let link = format!("[{code}]({code}.md)");
                if !index.contains(&link) {
                    problems.push(format!("index.md does not link {code}: `{link}`"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// The example of a book page, compiled and rendered.
struct Example {
    /// What the compiler reports for it.
    rendered: String,
    /// The ```` ```iamx ```` block it is, if it is one (a warning's example compiles).
    block: Option<usize>,
    /// The ```` ```text ```` block that shows what it reports.
    output: usize,
}

/// Finds a page's example. Most are an ```` ```iamx,error ```` block (```` ```iamx ```` for a
/// warning) that gives the page's code, followed by a ```` ```text ```` block of its output.
/// Some cannot be: an invalid-UTF-8 file is shown lossily in a ```` ```text ```` block (`�`
/// stands for the byte `0xFC`), an 8 MiB file is only described, `--var` comes from a
/// ```` ```console ```` block, and JSON-only codes come from [`model_check_cases`].
fn page_example(code: Code, blocks: &[Fence]) -> Result<Example, String> {
    let name = code.as_str();
    let text_after = |at: Option<usize>| {
        let from = at.map_or(0, |i| i + 1);
        (from..blocks.len())
            .find(|&i| blocks[i].info == "text")
            .ok_or_else(|| "no ```text block with the output".to_string())
    };
    let first = |info: &str| blocks.iter().position(|b| b.info == info);
    let compile = |text: &[u8], options: &Options| {
        render_all(&compile_one("main.iamx", text.to_vec(), options))
    };
    match name {
        "E0001" => {
            let source = text_after(None)?;
            let bytes: Vec<u8> = blocks[source]
                .text
                .split('\u{FFFD}')
                .collect::<Vec<_>>()
                .join("\u{1}")
                .bytes()
                .map(|b| if b == 1 { 0xFC } else { b })
                .collect();
            Ok(Example {
                rendered: compile(&bytes, &Options::default()),
                block: None,
                output: text_after(Some(source))?,
            })
        }
        // A chain of more than 100 `let`s, 201 groups, 500 statements or 180 buckets is too long to show, and a
        // target is an option: the page shows what the fixture reports.
        "E0226" | "E1101" | "E1102" | "W1103" | "E1105" => {
            let path = fixture_dir().join(match name {
                "E0226" => "E0226_long_let_chain.iamx",
                "E1101" => "E1101_too_many_outputs.iamx",
                "E1105" => "E1105_parts_over_the_quota.iamx",
                "W1103" => "W1103_roles_trust_each_other.iamx",
                _ => "E1102_one_statement_over_the_quota.iamx",
            });
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            Ok(Example {
                rendered: compile(&bytes, &options_for(&path, &bytes)),
                block: None,
                output: text_after(None)?,
            })
        }
        "E0002" => Ok(Example {
            rendered: compile(&oversized_source(), &Options::default()),
            block: None,
            output: text_after(None)?,
        }),
        "E0004" => {
            let at = first("iamx").ok_or("no ```iamx block")?;
            let command = &blocks[first("console").ok_or("no ```console block")?].text;
            let mut options = Options::default();
            let mut words = command.split_whitespace();
            while let Some(word) = words.next() {
                if word == "--var" {
                    let (k, v) = words
                        .next()
                        .and_then(|kv| kv.split_once('='))
                        .ok_or("`--var` without NAME=VALUE")?;
                    options.vars.0.insert(k.to_string(), v.to_string());
                }
            }
            Ok(Example {
                rendered: compile(blocks[at].text.as_bytes(), &options),
                block: None,
                output: text_after(Some(at))?,
            })
        }
        // What `iamx import` says of the page's ```json block.
        "E1001" | "W1003" | "W1004" => {
            let at = first("json").ok_or("no ```json block")?;
            let text = &blocks[at].text;
            let mut sources = iamx::source::SourceMap::new();
            let id = sources.add("policy.json", text.clone());
            let options = iamx::import::ImportOptions {
                name: "Imported".into(),
                kind: None,
                account: None,
            };
            let found = match iamx::import::import(id, text, &options) {
                Ok((_, warnings)) => warnings,
                Err(errors) => errors,
            };
            Ok(Example {
                rendered: found
                    .iter()
                    .map(|d| render::human(d, &sources, false))
                    .collect(),
                block: None,
                output: text_after(Some(at))?,
            })
        }
        // What `iamx fmt` says of the page's first ```iamx block.
        "E1002" => {
            let at = first("iamx").ok_or("no ```iamx block")?;
            let text = &blocks[at].text;
            let mut sources = iamx::source::SourceMap::new();
            let id = sources.add("main.iamx", text.clone());
            let rendered = match iamx::format::format_source(id, text) {
                Ok(_) => String::new(),
                Err(d) => render::human(&d, &sources, false),
            };
            Ok(Example {
                rendered,
                block: None,
                output: text_after(Some(at))?,
            })
        }
        // Account snapshot codes: a ```` ```json,account ```` block is a snapshot, checked as
        // `iamx check --account snapshot.json` does.
        _ if name.get(1..3) == Some("08") => {
            let at = first("json,account").ok_or("no ```json,account block")?;
            let source = Source::new("snapshot.json", blocks[at].text.as_bytes().to_vec());
            // A ```` ```json,resources ```` block is given as `--resources resources.json`.
            let resources = first("json,resources")
                .map(|r| Source::new("resources.json", blocks[r].text.as_bytes().to_vec()));
            // `iamx import --account` gives the import codes.
            if matches!(name, "W0808" | "E0809") {
                let imported = catch_unwind(AssertUnwindSafe(|| {
                    iamx::account_import::import_account(vec![source])
                }))
                .map_err(|_| "the import panicked".to_string())?;
                if !imported.diagnostics.iter().any(|d| d.code.as_str() == name) {
                    return Err(format!("the ```json,account block does not give {name}"));
                }
                return Ok(Example {
                    rendered: imported
                        .diagnostics
                        .iter()
                        .map(|d| render::human(d, &imported.sources, false))
                        .collect(),
                    block: Some(at),
                    output: text_after(Some(at))?,
                });
            }
            let result = catch_unwind(AssertUnwindSafe(|| {
                iamx::account::analyze_with_resources(vec![source], resources)
            }))
            .map_err(|_| "the analysis panicked".to_string())?;
            if !codes(&result).contains(&name) {
                return Err(format!("the ```json,account block does not give {name}"));
            }
            Ok(Example {
                rendered: render_all(&result),
                block: Some(at),
                output: text_after(Some(at))?,
            })
        }
        _ if WITHOUT_FIXTURE.iter().any(|(c, _)| *c == name) => {
            let sources = iamx::source::SourceMap::new();
            let output = text_after(None)?;
            let shown = blocks[output].text.trim_end();
            let renders: Vec<String> = model_check_cases()
                .into_iter()
                .filter(|(case, _)| case.starts_with(name))
                .map(|(_, ds)| {
                    ds.iter()
                        .map(|d| render::human(d, &sources, false))
                        .collect()
                })
                .collect();
            // The page shows one of the cases; if it shows none, fail with them all.
            let rendered = match renders.iter().find(|r| r.trim_end() == shown) {
                Some(r) => r.clone(),
                None => renders.join("\n"),
            };
            Ok(Example {
                rendered,
                block: None,
                output,
            })
        }
        _ => {
            let wanted = if code.severity() == Severity::Warning {
                "iamx"
            } else {
                "iamx,error"
            };
            for (i, block) in blocks.iter().enumerate() {
                // A ```json,check block is a JSON policy document, checked as `iamx check` does.
                let file = match block.info.as_str() {
                    info if info == wanted => "main.iamx",
                    "json,check" => "policy.json",
                    _ => continue,
                };
                {
                    let result =
                        compile_one(file, block.text.as_bytes().to_vec(), &Options::default());
                    if codes(&result).contains(&name) {
                        return Ok(Example {
                            rendered: render_all(&result),
                            block: Some(i),
                            output: text_after(Some(i))?,
                        });
                    }
                }
            }
            Err(format!("no ```{wanted} block that gives {name}"))
        }
    }
}

/// Each page's example gives its code and shows the real output; every other ```` ```iamx ````
/// block (a fix) compiles with no diagnostics at all.
#[test]
fn book_examples_match_the_compiler() {
    let mut problems = Vec::new();
    for (name, page) in book_pages() {
        let Some(code) = Code::parse(&name) else {
            continue;
        };
        let blocks = fences(&page);
        let example = match page_example(code, &blocks) {
            Ok(example) => example,
            Err(e) => {
                problems.push(format!("{name}.md: {e}"));
                continue;
            }
        };
        let shown = blocks[example.output].text.trim_end();
        if shown != example.rendered.trim_end() && std::env::var_os("IAMX_BLESS_BOOK").is_some() {
            // `IAMX_BLESS_BOOK=1`: show what the compiler now says (then read `git diff book/`).
            let rendered = example.rendered.trim_end();
            let updated = if shown.is_empty() {
                // An empty block: fill it (replacing "" would write at the top of the page).
                page.replacen("```text\n```", &format!("```text\n{rendered}\n```"), 1)
            } else {
                page.replacen(shown, rendered, 1)
            };
            std::fs::write(book_dir().join(format!("{name}.md")), updated).expect("writable page");
        } else if shown != example.rendered.trim_end() {
            problems.push(format!(
                "{name}.md: the ```text block after the example is not its output, which is:\n{}",
                example.rendered
            ));
        }
        for (i, block) in blocks.iter().enumerate() {
            let compiled = || {
                compile_one(
                    "main.iamx",
                    block.text.as_bytes().to_vec(),
                    &Options::default(),
                )
            };
            match block.info.as_str() {
                "iamx,error" if !compiled().has_errors() => {
                    problems.push(format!("{name}.md: an ```iamx,error block compiles"));
                }
                "iamx" if example.block != Some(i) => {
                    let result = compiled();
                    if !result.diagnostics.is_empty() {
                        problems.push(format!(
                            "{name}.md: an ```iamx block (a fix) has diagnostics:\n{}",
                            render_all(&result)
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n\n"));
}
