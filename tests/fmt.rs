//! `iamx fmt`: over every `.iamx` file of the examples and fixtures, and every iamx block of the
//! book, formatting is idempotent and changes nothing a build writes; files with comments keep
//! them (snapshots of tricky cases in `tests/fixtures/fmt/`).

use std::path::{Path, PathBuf};

use iamx::format::format_source;
use iamx::source::FileId;
use iamx::{Options, Source};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn iamx_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            iamx_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "iamx") {
            out.push(path);
        }
    }
}

/// Options from a fixture's first line, as `tests/diagnostics.rs` reads them.
fn options_for(text: &str) -> Options {
    let mut options = Options::default();
    if let Some(vars) = text.lines().next().and_then(|l| l.strip_prefix("// vars:")) {
        for pair in vars.split_whitespace() {
            if let Some((n, v)) = pair.split_once('=') {
                options.vars.0.insert(n.to_string(), v.to_string());
            }
        }
    }
    options.loader = Some(iamx::Loader::files_anywhere());
    options
}

/// What a build of these sources gives: its files, or its diagnostics' codes.
fn build(sources: Vec<(String, String)>, options: &Options) -> String {
    let sources = sources
        .into_iter()
        .map(|(name, text)| Source::new(name, text))
        .collect();
    let result = iamx::compile(sources, options);
    match &result.project {
        Some(project) if !result.has_errors() => iamx::emit::files(project)
            .into_iter()
            .map(|a| format!("== {}\n{}", a.path, a.contents))
            .collect(),
        _ => {
            let codes: Vec<&str> = result.diagnostics.iter().map(|d| d.code.as_str()).collect();
            format!("errors: {codes:?}")
        }
    }
}

/// Formats a text, checks it is idempotent, and returns it (`None` if it does not parse).
fn formatted(name: &str, text: &str) -> Option<String> {
    if iamx::parse::parse_file(FileId(0), text).is_err() {
        return None;
    }
    let once = format_source(FileId(0), text)
        .unwrap_or_else(|d| panic!("{name}: fmt refused a file that parses: {}", d.message));
    let twice = format_source(FileId(0), &once).unwrap_or_else(|d| panic!("{name}: {}", d.message));
    assert_eq!(once, twice, "{name}: fmt is not idempotent");
    assert!(
        once.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .all(|l| l.len() <= iamx::format::WIDTH || !l.contains(", ")),
        "{name}: a list passes the width:\n{once}"
    );
    Some(once)
}

#[test]
fn fixtures_format_idempotently_and_build_the_same() {
    let mut files = Vec::new();
    iamx_files(&root().join("tests/fixtures"), &mut files);
    let mut formatted_count = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // not UTF-8: a fixture of E0001
        };
        let name = path.to_string_lossy().into_owned();
        let Some(after) = formatted(&name, &text) else {
            continue;
        };
        formatted_count += 1;
        let options = options_for(&text);
        assert_eq!(
            build(vec![(name.clone(), text.clone())], &options),
            build(vec![(name.clone(), after)], &options),
            "{name}: fmt changed what it builds to"
        );
    }
    assert!(
        formatted_count > 200,
        "only {formatted_count} fixtures formatted"
    );
}

#[test]
fn examples_are_formatted_and_build_the_same() {
    let dir = root().join("examples");
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    projects.sort();
    for project in projects {
        let mut files = Vec::new();
        iamx_files(&project, &mut files);
        let mut before = Vec::new();
        let mut after = Vec::new();
        for path in files {
            let name = path.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let out = formatted(&name, &text).expect("examples parse");
            // `iamx fmt --check examples/` passes: the examples are in the canonical layout.
            assert_eq!(out, text, "{name} is not formatted: run `iamx fmt {name}`");
            before.push((name.clone(), text));
            after.push((name, out));
        }
        let options = options_for("");
        assert_eq!(build(before, &options), build(after, &options));
    }
}

/// Every page of the book (`book/src`, its folders too).
fn book_pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "md") {
                out.push(p);
            }
        }
    }
    let mut pages = Vec::new();
    walk(&root().join("book/src"), &mut pages);
    pages
}

#[test]
fn book_blocks_format_idempotently_and_build_the_same() {
    let pages = book_pages();
    let mut blocks = 0;
    for page in pages {
        // Its example is the file fmt refuses.
        if page.ends_with("diagnostics/E1002.md") {
            continue;
        }
        let text = std::fs::read_to_string(&page).unwrap();
        let mut block: Option<String> = None;
        for line in text.lines() {
            match &mut block {
                None if line.trim_start().starts_with("```iamx") => block = Some(String::new()),
                Some(b) if line.trim_start().starts_with("```") => {
                    let name = format!("{}#{blocks}", page.display());
                    if let Some(after) = formatted(&name, b) {
                        let options = options_for(b);
                        assert_eq!(
                            build(vec![("main.iamx".into(), b.clone())], &options),
                            build(vec![("main.iamx".into(), after)], &options),
                            "{name}: fmt changed what it builds to"
                        );
                        blocks += 1;
                    }
                    block = None;
                }
                Some(b) => {
                    b.push_str(line);
                    b.push('\n');
                }
                None => {}
            }
        }
    }
    assert!(blocks > 50, "only {blocks} book blocks");
}

#[test]
fn comments_stay_where_they_were() {
    let dir = root().join("tests/fixtures/fmt");
    let mut files = Vec::new();
    iamx_files(&dir, &mut files);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let out = formatted(&name, &text).unwrap();
        insta::assert_snapshot!(name, out);
    }
}

#[test]
fn a_comment_fmt_cannot_place_is_refused_not_lost() {
    let text = "user u {\n  tags {\n    team = \"a\",  // why\n  }\n}\n";
    let d = format_source(FileId(0), text).unwrap_err();
    assert_eq!(d.code.as_str(), "E1002");
}

/// The blocks of a book page with this info string, in order.
fn book_blocks(page: &str, info: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("book/src").join(page)).unwrap();
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        match &mut block {
            None if line == format!("```{info}") => block = Some(String::new()),
            Some(b) if line == "```" => {
                out.push(b.clone());
                block = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn the_book_shows_what_fmt_does() {
    let blocks = book_blocks("fmt.md", "iamx");
    assert_eq!(format_source(FileId(0), &blocks[0]).unwrap(), blocks[1]);
}

#[test]
fn the_book_shows_what_import_does() {
    let iamx = &book_blocks("import.md", "iamx")[0];
    let json = &book_blocks("import.md", "json")[0];
    let options = iamx::import::ImportOptions {
        name: "ReadReports".into(),
        kind: None,
        account: Some("123456789012".into()),
    };
    let (item, warnings) = iamx::import::import(FileId(0), json, &options).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(&iamx::import::print(vec![item], Some("123456789012")), iamx);
}

/// Every iamx block of the book that is a complete file (it parses) is in the layout of
/// `iamx fmt`, but the one `fmt.md` shows before formatting. A block that only shows a
/// fragment (it does not parse alone) is not a file, and not checked.
#[test]
fn book_blocks_are_formatted() {
    let mut pages = book_pages();
    pages.sort();
    let mut unformatted = Vec::new();
    let mut checked = 0;
    for page in pages {
        let relative = page
            .strip_prefix(root().join("book/src"))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (i, block) in book_blocks(&relative, "iamx").iter().enumerate() {
            // The messy file `fmt` is shown formatting.
            if relative == "fmt.md" && i == 0 {
                continue;
            }
            if iamx::parse::parse_file(FileId(0), block).is_err() {
                continue;
            }
            let Ok(after) = format_source(FileId(0), block) else {
                continue; // E1002's example: a comment fmt cannot place
            };
            checked += 1;
            if after != *block {
                unformatted.push(format!(
                    "{relative} block {i}:\n{}",
                    similar::TextDiff::from_lines(block.as_str(), after.as_str()).unified_diff()
                ));
            }
        }
    }
    assert!(checked > 50, "only {checked} book blocks");
    assert!(
        unformatted.is_empty(),
        "{} book blocks are not formatted:\n{}",
        unformatted.len(),
        unformatted.join("\n")
    );
}

/// The fixtures that are projects as a user writes them (the guardrail catalogue and the
/// `test` fixtures) are in the canonical layout; CI checks them with `iamx fmt --check`. The
/// others are inputs in layouts `fmt` would not write on purpose: the parser's and the
/// diagnostics' fixtures, `fmt`'s own messy inputs, and the `compile`/`cli` fixtures whose
/// line numbers other tests pin.
#[test]
fn canonical_fixtures_are_formatted() {
    let mut files = Vec::new();
    for dir in ["tests/fixtures/guardrail", "tests/fixtures/tests"] {
        iamx_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 100, "{}", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.to_string_lossy().into_owned();
        let out = formatted(&name, &text).expect("fixtures parse");
        assert_eq!(out, text, "{name} is not formatted: run `iamx fmt {name}`");
    }
}

/// `iamx fmt --check` names each file that would change and shows the change as a unified
/// diff; `--list` names the files alone.
#[test]
fn check_shows_a_unified_diff() {
    let dir = std::env::temp_dir().join(format!("iamx-fmt-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("main.iamx");
    let messy = "account   \"123456789012\"\npolicy P {\n  allow s3:GetObject on *\n}\n";
    std::fs::write(&file, messy).unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_iamx"))
            .arg("fmt")
            .arg("--check")
            .args(extra)
            .arg(&file)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let name = file.to_string_lossy().into_owned();
    let (code, stdout) = run(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stdout,
        format!(
            "{name}\n--- {name}\n+++ {name} (formatted)\n@@ -1,4 +1,5 @@\n-account   \"123456789012\"\n+account \"123456789012\"\n+\n policy P {{\n   allow s3:GetObject on *\n }}\n"
        )
    );
    let (code, stdout) = run(&["--list"]);
    assert_eq!(code, Some(1));
    assert_eq!(stdout, format!("{name}\n"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), messy);
}
