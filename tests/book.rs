//! The book's examples are tests.
//!
//! Every fenced block of iamx in `book/src/**/*.md` is compiled on its own, as one file named
//! `main.iamx`:
//!
//! * ```` ```iamx ```` blocks must compile without errors (warnings are allowed); the JSON
//!   bundle they compile to (`iamx build -o -`) is snapshotted, followed by any warnings;
//! * ```` ```iamx,error ```` blocks must fail with at least one error; their rendered
//!   diagnostics are snapshotted.
//!
//! The book can never show stale output:
//!
//! * every ```` ```json ```` block that follows an ```` ```iamx ```` block (with prose, other
//!   json blocks or its warnings between them, but no other code block) must equal, as a JSON value, one of the documents
//!   that block compiles to, its `manifest.json`, or the whole `-o -` bundle;
//! * outside `diagnostics/`, a ```` ```text ```` block that directly follows an iamx block
//!   must be exactly the diagnostics that block renders (errors, or the warnings of a block
//!   that compiles); show commands in ```` ```console ```` blocks instead. An example that
//!   compiles with warnings must show them that way, so no page shows a warning silently.
//!
//! Snapshots are named after the page and the block's index on it (`reference__conditions-03`)
//! and live in `tests/snapshots/book__*.snap`. A snapshot that no block produces any more is an
//! error, so renumbered blocks never leave stale files behind.
//!
//! To accept changed output: `INSTA_UPDATE=always cargo test --test book`, then read the
//! `.snap` files before committing them. `IAMX_BLESS_BOOK=1` also rewrites the ```` ```text ````
//! blocks that show diagnostics with what the compiler now reports (then read `git diff
//! book/`); CI never sets it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One fenced code block of a page.
#[derive(Debug)]
struct Block {
    /// The info string after the opening fence: `iamx`, `iamx,error`, `json`, …
    info: String,
    text: String,
    /// 1-based line of the opening fence.
    line: usize,
}

/// What kind of iamx block a fence opens, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IamxKind {
    Ok,
    Error,
}

fn iamx_kind(info: &str) -> Result<Option<IamxKind>, String> {
    let mut parts = info.split(',').map(str::trim);
    if parts.next() != Some("iamx") {
        return Ok(None);
    }
    let attributes: Vec<&str> = parts.collect();
    match attributes.as_slice() {
        [] => Ok(Some(IamxKind::Ok)),
        ["error"] => Ok(Some(IamxKind::Error)),
        _ => Err(format!(
            "unknown iamx block `{info}`: write ```iamx or ```iamx,error"
        )),
    }
}

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("book")
        .join("src")
}

/// Every `.md` file under `dir`, as paths relative to it with `/` separators, sorted.
fn pages(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                let rel = path.strip_prefix(root).expect("under the root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The fenced code blocks of a Markdown page (``` and ~~~ fences, indented up to 3 spaces).
fn blocks(page: &str, markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let fence_char = match trimmed.chars().next() {
            Some(c @ ('`' | '~')) if indent <= 3 => c,
            _ => continue,
        };
        let fence_len = trimmed.chars().take_while(|&c| c == fence_char).count();
        if fence_len < 3 {
            continue;
        }
        let info = trimmed[fence_len..].trim().to_string();
        let mut text = String::new();
        let mut closed = false;
        for (_, body) in lines.by_ref() {
            let t = body.trim_start();
            let closing = t.chars().take_while(|&c| c == fence_char).count();
            if closing >= fence_len && t[closing..].trim().is_empty() {
                closed = true;
                break;
            }
            // Content lines lose at most the fence's own indentation.
            let strip = body.len() - body.trim_start_matches(' ').len();
            text.push_str(&body[strip.min(indent)..]);
            text.push('\n');
        }
        assert!(closed, "{page}:{}: code block is never closed", n + 1);
        out.push(Block {
            info,
            text,
            line: n + 1,
        });
    }
    out
}

/// A snapshot name from a page path and a block index: `reference/conditions.md`, 3 →
/// `reference__conditions-03`.
fn snapshot_name(page: &str, index: usize) -> String {
    let stem = page.strip_suffix(".md").unwrap_or(page);
    let stem: String = stem
        .replace('/', "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}-{index:02}")
}

fn render_all(result: &iamx::Compilation, severity: Option<iamx::diag::Severity>) -> String {
    result
        .diagnostics
        .iter()
        .filter(|d| severity.is_none_or(|s| d.severity() == s))
        .map(|d| iamx::diag::render::human(d, &result.sources, false))
        .collect()
}

/// What an ok block may be shown as: each document, the manifest, the whole bundle.
fn shown_forms(bundle: &Value) -> Vec<&Value> {
    let mut forms = vec![bundle];
    if let Some(manifest) = bundle.get("manifest") {
        forms.push(manifest);
    }
    if let Some(Value::Object(documents)) = bundle.get("documents") {
        forms.extend(documents.values());
    }
    forms
}

#[test]
fn book_examples_compile_and_match_their_snapshots() {
    let src = book_src();
    let pages = pages(&src);
    assert!(!pages.is_empty(), "no pages under {}", src.display());

    let mut failures: Vec<String> = Vec::new();
    let mut snapshots: Vec<(String, String, String)> = Vec::new(); // (name, source, output)
    let mut iamx_blocks = 0;
    let bless = std::env::var_os("IAMX_BLESS_BOOK").is_some();

    for page in &pages {
        // (first content line, content line count, new text), for `IAMX_BLESS_BOOK`.
        let mut rewrites: Vec<(usize, usize, String)> = Vec::new();
        let markdown = std::fs::read_to_string(src.join(page))
            .unwrap_or_else(|e| panic!("cannot read {page}: {e}"));
        let checks_text_output = !page.starts_with("diagnostics/");
        let mut index = 0;
        // The bundle of the last ok iamx block, while only json blocks have followed it.
        let mut last_ok: Option<(usize, Value)> = None;
        // The rendered diagnostics of the last iamx block, for the block right after it, and
        // whether that block must show them (an ok block that warns).
        let mut last_rendered: Option<(usize, String, bool)> = None;

        for block in blocks(page, &markdown) {
            let at = format!("{page}:{}", block.line);
            let kind = match iamx_kind(&block.info) {
                Ok(kind) => kind,
                Err(message) => {
                    failures.push(format!("{at}: {message}"));
                    continue;
                }
            };
            let rendered_before = last_rendered.take();
            if let Some((line, rendered, true)) = &rendered_before {
                if checks_text_output && block.info.trim() != "text" {
                    failures.push(format!(
                        "{page}:{line}: this example warns; show the warnings in a ```text block \
                         right after it, or change the example:\n{rendered}"
                    ));
                }
            }
            let Some(kind) = kind else {
                let lang = block.info.split(',').next().unwrap_or("").trim();
                if lang == "json" {
                    if let Some((line, bundle)) = &last_ok {
                        match serde_json::from_str::<Value>(&block.text) {
                            Err(e) => {
                                failures.push(format!("{at}: json block does not parse: {e}"))
                            }
                            Ok(shown) => {
                                let forms = shown_forms(bundle);
                                if !forms.contains(&&shown) && bless {
                                    // The form most like what the page showed.
                                    let old = block.text.lines().collect::<BTreeSet<_>>();
                                    let best = forms.iter().max_by_key(|f| {
                                        let text =
                                            serde_json::to_string_pretty(f).unwrap_or_default();
                                        text.lines().filter(|l| old.contains(l)).count()
                                    });
                                    if let Some(best) = best {
                                        rewrites.push((
                                            block.line,
                                            block.text.lines().count(),
                                            serde_json::to_string_pretty(best).unwrap_or_default(),
                                        ));
                                    }
                                } else if !forms.contains(&&shown) {
                                    failures.push(format!(
                                        "{at}: this json is not what the iamx block at line {line} compiles to; \
                                         it compiles to:\n{}",
                                        serde_json::to_string_pretty(bundle).unwrap_or_default()
                                    ));
                                }
                            }
                        }
                    }
                    continue;
                }
                if lang == "text" && checks_text_output {
                    if let Some((line, rendered, _)) = rendered_before {
                        if block.text.trim_end() != rendered.trim_end() && bless {
                            rewrites.push((
                                block.line,
                                block.text.lines().count(),
                                rendered.trim_end().to_string(),
                            ));
                        } else if block.text.trim_end() != rendered.trim_end() {
                            failures.push(format!(
                                "{at}: this text is not what the iamx block at line {line} reports; \
                                 it reports:\n{rendered}"
                            ));
                        }
                        // The block's warnings may come between it and its json.
                        continue;
                    }
                }
                last_ok = None;
                continue;
            };
            last_ok = None;
            iamx_blocks += 1;
            let name = snapshot_name(page, index);
            index += 1;

            let result = iamx::compile(
                vec![iamx::Source::new("main.iamx", block.text.clone())],
                &iamx::Options::default(),
            );
            let output = match kind {
                IamxKind::Ok => {
                    if result.has_errors() {
                        failures.push(format!(
                            "{at}: ```iamx block does not compile:\n{}",
                            render_all(&result, None)
                        ));
                        continue;
                    }
                    let Some(project) = result.project.as_ref() else {
                        failures.push(format!("{at}: no project although no errors"));
                        continue;
                    };
                    let bundle = iamx::emit::bundle(project);
                    let value: Value = serde_json::from_str(&bundle).expect("the bundle is JSON");
                    last_ok = Some((block.line, value));
                    let warnings = render_all(&result, Some(iamx::diag::Severity::Warning));
                    last_rendered = Some((block.line, warnings.clone(), !warnings.is_empty()));
                    if warnings.is_empty() {
                        bundle
                    } else {
                        format!("{bundle}\n--- warnings ---\n{warnings}")
                    }
                }
                IamxKind::Error => {
                    if !result.has_errors() {
                        failures.push(format!(
                            "{at}: ```iamx,error block compiles without errors{}",
                            if result.diagnostics.is_empty() {
                                String::new()
                            } else {
                                format!(" (only warnings):\n{}", render_all(&result, None))
                            }
                        ));
                        continue;
                    }
                    let rendered = render_all(&result, None);
                    last_rendered = Some((block.line, rendered.clone(), false));
                    rendered
                }
            };
            snapshots.push((name, block.text.clone(), output));
        }
        if let Some((line, rendered, true)) = last_rendered {
            if checks_text_output {
                failures.push(format!(
                    "{page}:{line}: this example warns; show the warnings in a ```text block \
                     right after it, or change the example:\n{rendered}"
                ));
            }
        }
        if !rewrites.is_empty() {
            let mut lines: Vec<String> = markdown.lines().map(str::to_string).collect();
            for (fence, count, text) in rewrites.into_iter().rev() {
                lines.splice(fence..fence + count, text.lines().map(str::to_string));
            }
            let mut out = lines.join("\n");
            out.push('\n');
            std::fs::write(src.join(page), out).expect("the page is writable");
        }
    }
    assert!(iamx_blocks > 0, "the book has no iamx blocks");

    // Snapshots no block produces any more.
    let names: BTreeSet<&str> = snapshots.iter().map(|(n, ..)| n.as_str()).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("snapshots");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut orphans: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|f| {
                let name = f.strip_prefix("book__")?.strip_suffix(".snap")?.to_string();
                (!names.contains(name.as_str())).then_some(f)
            })
            .collect();
        orphans.sort();
        for file in orphans {
            failures.push(format!(
                "tests/snapshots/{file}: no book block has this snapshot any more; delete it"
            ));
        }
    }

    for (name, source, output) in &snapshots {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            insta::with_settings!({
                description => source.as_str(),
                omit_expression => true,
                prepend_module_to_snapshot => true,
            }, {
                insta::assert_snapshot!(name.as_str(), output);
            });
        }));
        if outcome.is_err() {
            failures.push(format!("snapshot `{name}` differs (see above)"));
        }
    }

    if !failures.is_empty() {
        let mut message = format!("{} problem(s) in the book:\n", failures.len());
        for f in &failures {
            let _ = writeln!(message, "\n{f}");
        }
        panic!("{message}");
    }
}

#[test]
fn summary_lists_every_diagnostic_code() {
    let summary = std::fs::read_to_string(book_src().join("SUMMARY.md")).expect("SUMMARY.md");
    let mut missing = Vec::new();
    for code in iamx::diag::Code::ALL {
        let line = format!(
            "  - [{}: {}](diagnostics/{}.md)",
            code.as_str(),
            code.title(),
            code.as_str()
        );
        if !summary.lines().any(|l| l == line) {
            missing.push(line);
        }
    }
    assert!(
        missing.is_empty(),
        "SUMMARY.md lacks these lines:\n{}",
        missing.join("\n")
    );
}

#[test]
fn summary_links_to_existing_pages() {
    let src = book_src();
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).expect("SUMMARY.md");
    let mut missing = Vec::new();
    for line in summary.lines() {
        let Some(start) = line.find("](") else {
            continue;
        };
        let rest = &line[start + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = &rest[..end];
        // Diagnostics pages are written separately; only check the rest here.
        if target.starts_with("diagnostics/") {
            continue;
        }
        if !src.join(target).is_file() {
            missing.push(target.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "SUMMARY.md links to missing pages: {missing:?}"
    );
}

#[test]
fn fences_are_found() {
    let md = "text\n```iamx\npolicy P { allow s3:GetObject on * }\n```\n\n  ```json\n  {}\n  ```\n";
    let found = blocks("t.md", md);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].info, "iamx");
    assert_eq!(found[0].text, "policy P { allow s3:GetObject on * }\n");
    assert_eq!(found[1].info, "json");
    assert_eq!(found[1].text, "{}\n");
    assert_eq!(iamx_kind("iamx,error"), Ok(Some(IamxKind::Error)));
    assert_eq!(iamx_kind("json"), Ok(None));
    assert!(iamx_kind("iamx,ignore").is_err());
    assert_eq!(
        snapshot_name("reference/conditions.md", 3),
        "reference__conditions-03"
    );
}

/// The build script of the "Library use" page, run against a temporary directory: the API it
/// shows must exist and behave as the page says.
#[test]
fn library_page_build_script_works() {
    let root = std::env::temp_dir().join(format!("iamx-book-library-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let iam = root.join("iam");
    std::fs::create_dir_all(&iam).expect("temp dir");
    std::fs::write(
        iam.join("main.iamx"),
        "param env = \"dev\"\naccount \"123456789012\"\n\
         role Deployer {\n  path \"/{env}/\"\n  trust { allow account }\n  attach Legacy\n}\n\
         policy Legacy = json \"legacy.json\"\n",
    )
    .expect("write source");
    std::fs::write(
        iam.join("legacy.json"),
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"}]}"#,
    )
    .expect("write included document");
    std::fs::write(iam.join("notes.txt"), "not iamx").expect("write other file");

    // As on the page, with `iam` and `OUT_DIR` replaced by the temporary directory.
    let mut paths: Vec<_> = std::fs::read_dir(&iam)
        .expect("iam/ exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "iamx"))
        .collect();
    paths.sort();
    let sources = paths
        .iter()
        .map(|path| iamx::Source::new(path.display().to_string(), std::fs::read(path).unwrap()))
        .collect();
    let mut options = iamx::Options {
        loader: Some(iamx::Loader::files_under(vec![iam.clone()])),
        ..Default::default()
    };
    options.vars.0.insert("env".to_string(), "prod".to_string());
    let result = iamx::compile(sources, &options);
    let rendered: String = result
        .diagnostics
        .iter()
        .map(|d| iamx::diag::render::human(d, &result.sources, false))
        .collect();
    assert!(rendered.is_empty(), "{rendered}");
    let Some(project) = result.project else {
        panic!("the IAM sources have errors");
    };
    let out = root.join("out").join("iam");
    for file in iamx::emit::files(&project) {
        let path = out.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, file.contents).unwrap();
    }

    let legacy = std::fs::read_to_string(out.join("policies/Legacy.json")).expect("included");
    assert!(legacy.contains("logs:GetLogEvents"), "{legacy}");
    let trust = std::fs::read_to_string(out.join("roles/Deployer/trust.json")).expect("trust");
    assert!(trust.contains("arn:aws:iam::123456789012:root"), "{trust}");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
    assert!(
        manifest.contains("arn:aws:iam::123456789012:role/prod/Deployer"),
        "{manifest}"
    );
    let files = iamx::emit::files(&project);
    assert_eq!(files.last().map(|f| f.path.as_str()), Some("manifest.json"));
    let _ = std::fs::remove_dir_all(&root);
}

/// An mdBook heading id: lower case, letters, digits, `-` and `_` kept, spaces made `-`.
fn heading_id(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() => Some(c.to_ascii_lowercase()),
            '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

/// The ids of a page's headings (outside code blocks).
fn heading_ids(markdown: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut in_code = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code && line.starts_with('#') {
            ids.insert(heading_id(line.trim_start_matches('#')));
        }
    }
    ids
}

/// Every relative link of the pages outside `diagnostics/` leads to a page that exists, and
/// to a heading of it when it names one.
#[test]
fn links_between_pages_resolve() {
    let src = book_src();
    let mut broken = Vec::new();
    for page in pages(&src) {
        if page.starts_with("diagnostics/") || page == "SUMMARY.md" {
            continue;
        }
        let markdown = std::fs::read_to_string(src.join(&page)).expect("page");
        let dir = Path::new(&page)
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let mut in_code = false;
        for line in markdown.lines() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code {
                continue;
            }
            let mut rest = line;
            while let Some(start) = rest.find("](") {
                rest = &rest[start + 2..];
                let Some(end) = rest.find(')') else { break };
                let target = &rest[..end];
                rest = &rest[end..];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target, None),
                };
                let linked = if file.is_empty() {
                    src.join(&page)
                } else {
                    src.join(&dir).join(file)
                };
                let Ok(text) = std::fs::read_to_string(&linked) else {
                    broken.push(format!("{page}: `{target}`: no such page"));
                    continue;
                };
                if let Some(anchor) = anchor {
                    if !heading_ids(&text).contains(anchor) {
                        broken.push(format!("{page}: `{target}`: no such heading"));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn heading_ids_follow_mdbook() {
    assert_eq!(heading_id(" `manifest.json`"), "manifestjson");
    assert_eq!(heading_id(" Params and `--var`"), "params-and---var");
    assert_eq!(heading_id(" The hole"), "the-hole");
}
