//! The guardrail analysis, on pairs of small projects: one that opens a vector, one that
//! writes the same intent closed.
//!
//! - `tests/fixtures/guardrail/<NN>_<what>_vulnerable.iamx` and `…_safe.iamx`: every
//!   vulnerable file has its safe twin, and the other way round.
//! - The first line of each says what the guardrail must report: `// expect: W0601 W0604`
//!   (the exact set of W06xx and E062x codes), or `// expect: none`.
//! - A vulnerable file the analysis does not yet see right says so on its second line:
//!   `// today: W0606 — why` is what it reports today. The test holds the analysis to that,
//!   and fails once it reports the expected set: then delete the `today` line.
//! - A vulnerable file's guardrail report has something open (or, for E0621, no report: the
//!   project does not compile); a safe file has no diagnostics at all, and everything in its
//!   report is closed.
//! - `tests/snapshots/guardrail__<stem>.snap`: what a vulnerable file reports, rendered as a
//!   user sees it, then the `guardrail:` summary line. To accept changes:
//!   `INSTA_UPDATE=always cargo test --test guardrail`, then read the `.snap` files.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use iamx::{Compilation, Options, Source};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_dir() -> PathBuf {
    root().join("tests/fixtures/guardrail")
}

/// Every fixture, sorted by file name.
fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/guardrail exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "iamx"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in tests/fixtures/guardrail");
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Vulnerable,
    Safe,
}

/// `07_edit_boundary_policy_vulnerable` → (`07_edit_boundary_policy`, Vulnerable).
fn side(path: &Path) -> (String, Side) {
    let stem = stem(path);
    if let Some(pair) = stem.strip_suffix("_vulnerable") {
        (pair.to_string(), Side::Vulnerable)
    } else if let Some(pair) = stem.strip_suffix("_safe") {
        (pair.to_string(), Side::Safe)
    } else {
        panic!("{stem}: a guardrail fixture ends in `_vulnerable` or `_safe`");
    }
}

/// The codes a line lists: `W0601 W0606 — why` → {W0601, W0606}; `none — why` → {}.
fn listed_codes(text: &str) -> BTreeSet<String> {
    text.split_whitespace()
        .take_while(|w| *w != "—")
        .filter(|w| {
            w.len() == 5
                && (w.starts_with('W') || w.starts_with('E'))
                && w[1..].chars().all(|c| c.is_ascii_digit())
        })
        .map(str::to_string)
        .collect()
}

/// What a fixture's header says: the codes expected, and the codes reported today if the
/// analysis does not yet get it right.
struct Header {
    expect: BTreeSet<String>,
    today: Option<BTreeSet<String>>,
}

fn header(path: &Path, text: &str) -> Header {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let Some(expect) = first.strip_prefix("// expect:") else {
        panic!(
            "{}: the first line must be `// expect: CODES` or `// expect: none`",
            file_name(path)
        );
    };
    let expect_words: Vec<&str> = expect.split_whitespace().collect();
    assert!(
        !expect_words.is_empty()
            && (expect_words == ["none"]
                || expect_words.iter().all(|w| listed_codes(w).len() == 1)),
        "{}: `// expect:` lists codes, or says `none`: {first:?}",
        file_name(path)
    );
    let today = lines
        .next()
        .and_then(|l| l.strip_prefix("// today:"))
        .map(listed_codes);
    Header {
        expect: listed_codes(expect),
        today,
    }
}

/// Whether a code is one of the guardrail's: W06xx or E062x.
fn is_guardrail_code(code: &str) -> bool {
    code.starts_with("W06") || code.starts_with("E062")
}

fn guardrail_codes(result: &Compilation) -> BTreeSet<String> {
    result
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .filter(|c| is_guardrail_code(c))
        .map(str::to_string)
        .collect()
}

fn compile(name: &str, bytes: Vec<u8>) -> Compilation {
    catch_unwind(AssertUnwindSafe(|| {
        iamx::compile(vec![Source::new(name, bytes)], &Options::default())
    }))
    .unwrap_or_else(|_| panic!("the compiler panicked on {name}"))
}

fn render_guardrail(result: &Compilation) -> String {
    result
        .diagnostics
        .iter()
        .filter(|d| is_guardrail_code(d.code.as_str()))
        .map(|d| iamx::diag::render::human(d, &result.sources, false))
        .collect()
}

fn render_all(result: &Compilation) -> String {
    result
        .diagnostics
        .iter()
        .map(|d| iamx::diag::render::human(d, &result.sources, false))
        .collect()
}

fn set_text(codes: &BTreeSet<String>) -> String {
    if codes.is_empty() {
        "none".to_string()
    } else {
        codes.iter().cloned().collect::<Vec<_>>().join(" ")
    }
}

/// The closures of a report that are open, by name.
fn open_in(report: &iamx::guardrail::Report) -> Vec<String> {
    report
        .boundaries
        .iter()
        .map(|b| (b, "boundary"))
        .chain(report.principals.iter().map(|p| (p, "principal")))
        .filter(|(c, _)| !c.closed)
        .map(|(c, kind)| format!("{kind} {}", c.name))
        .collect()
}

#[test]
fn fixtures_come_in_pairs() {
    let mut vulnerable = BTreeSet::new();
    let mut safe = BTreeSet::new();
    for path in fixtures() {
        let (pair, side) = side(&path);
        let number = pair.split('_').next().unwrap_or_default();
        assert!(
            number.len() == 2 && number.chars().all(|c| c.is_ascii_digit()),
            "{}: names start with a two-digit number",
            file_name(&path)
        );
        match side {
            Side::Vulnerable => vulnerable.insert(pair),
            Side::Safe => safe.insert(pair),
        };
    }
    let lonely: Vec<&String> = vulnerable.symmetric_difference(&safe).collect();
    assert!(lonely.is_empty(), "fixtures without their twin: {lonely:?}");
    assert!(
        vulnerable.len() >= 30,
        "only {} pairs; the corpus keeps at least 30",
        vulnerable.len()
    );
}

#[test]
fn every_vector_has_a_vulnerable_fixture() {
    let mut covered = BTreeSet::new();
    for path in fixtures() {
        if side(&path).1 == Side::Vulnerable {
            let text = std::fs::read_to_string(&path).expect("readable fixture");
            covered.extend(header(&path, &text).expect);
        }
    }
    let missing: Vec<&str> = iamx::diag::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| is_guardrail_code(c) && !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "no vulnerable fixture expects {missing:?}"
    );
}

#[test]
fn vulnerable_fixtures_report_their_vectors() {
    let mut failures = Vec::new();
    for path in fixtures() {
        if side(&path).1 != Side::Vulnerable {
            continue;
        }
        let name = file_name(&path);
        let bytes = std::fs::read(&path).expect("readable fixture");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let header = header(&path, &text);
        if header.expect.is_empty() {
            failures.push(format!(
                "{name}: a vulnerable fixture expects at least one code"
            ));
            continue;
        }
        let result = compile(&name, bytes);
        let got = guardrail_codes(&result);
        let want = match &header.today {
            Some(today) => {
                if *today == header.expect {
                    failures.push(format!(
                        "{name}: the analysis reports what it should now ({}): delete the `// today:` line",
                        set_text(today)
                    ));
                }
                today
            }
            None => &header.expect,
        };
        if got != *want {
            failures.push(format!(
                "{name}: expected {}{}, got {}\n{}",
                set_text(want),
                if header.today.is_some() {
                    format!(" (today; it should be {})", set_text(&header.expect))
                } else {
                    String::new()
                },
                set_text(&got),
                render_all(&result)
            ));
        }
        // The report agrees with the diagnostics.
        let summary = match &result.guardrail {
            Some(report) => {
                let open = open_in(report);
                if want.is_empty() != open.is_empty() {
                    failures.push(format!(
                        "{name}: reports {}, and its guardrail report has open: {open:?}",
                        set_text(want)
                    ));
                }
                report.summary()
            }
            None => {
                if !want.contains("E0621") {
                    failures.push(format!(
                        "{name}: no guardrail report\n{}",
                        render_all(&result)
                    ));
                }
                "guardrail: not analysed (the project has errors)".to_string()
            }
        };
        let rendered = format!("{}{summary}\n", render_guardrail(&result));
        let snapshot = catch_unwind(AssertUnwindSafe(|| {
            insta::with_settings!({
                description => name.clone(),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(stem(&path), rendered);
            });
        }));
        if snapshot.is_err() {
            failures.push(format!("{name}: snapshot differs (see above)"));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
}

#[test]
fn safe_fixtures_are_closed() {
    let mut failures = Vec::new();
    for path in fixtures() {
        if side(&path).1 != Side::Safe {
            continue;
        }
        let name = file_name(&path);
        let bytes = std::fs::read(&path).expect("readable fixture");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let header = header(&path, &text);
        if !header.expect.is_empty() || header.today.is_some() {
            failures.push(format!("{name}: a safe fixture says `// expect: none`"));
        }
        let result = compile(&name, bytes);
        if !result.diagnostics.is_empty() {
            failures.push(format!(
                "{name}: a safe fixture reports nothing, but:\n{}",
                render_all(&result)
            ));
            continue;
        }
        match &result.guardrail {
            None => failures.push(format!("{name}: no guardrail report")),
            Some(report) => {
                let open = open_in(report);
                if !open.is_empty() {
                    failures.push(format!("{name}: open in the report: {open:?}"));
                }
                if report.boundaries.is_empty() && report.principals.is_empty() {
                    failures.push(format!("{name}: the report covers nothing"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
}

/// A snapshot whose fixture is gone would never be checked again: delete it.
#[test]
fn every_snapshot_has_a_vulnerable_fixture() {
    let stems: BTreeSet<String> = fixtures()
        .iter()
        .filter(|p| side(p).1 == Side::Vulnerable)
        .map(|p| stem(p))
        .collect();
    let mut orphans: Vec<String> = std::fs::read_dir(root().join("tests/snapshots"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|f| {
                    f.strip_prefix("guardrail__")
                        .and_then(|f| f.strip_suffix(".snap"))
                        .is_some_and(|s| !stems.contains(s))
                })
                .collect()
        })
        .unwrap_or_default();
    orphans.sort();
    assert!(
        orphans.is_empty(),
        "snapshots without a vulnerable fixture (delete them): {orphans:?}"
    );
}

fn compile_example(dir: &str) -> Compilation {
    let path = root().join("examples").join(dir).join("main.iamx");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    compile(&format!("examples/{dir}/main.iamx"), bytes)
}

/// The seed story: Steve's boundary is open three ways.
#[test]
fn seed_example_is_open_three_ways() {
    let result = compile_example("company-xyz");
    let codes: Vec<&str> = result
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .filter(|c| is_guardrail_code(c))
        .collect();
    assert_eq!(codes.len(), 3, "{}", render_all(&result));
    let set: BTreeSet<&str> = codes.into_iter().collect();
    assert_eq!(
        set,
        BTreeSet::from(["W0601", "W0604", "W0606"]),
        "{}",
        render_all(&result)
    );
    assert!(!result.has_errors(), "{}", render_all(&result));
    let report = result.guardrail.expect("the seed compiles");
    assert_eq!(
        open_in(&report),
        [
            "boundary CompanyXYZPermissionsBoundary",
            "principal DeveloperSteve"
        ]
    );
    assert_eq!(
        report.summary(),
        "guardrail: 0 boundaries closed, 1 open; 0 bounded principals closed, 1 open"
    );
}

/// The seed story, fixed with `guard` and `delegate`.
#[test]
fn guarded_seed_example_is_closed() {
    let result = compile_example("company-xyz-guarded");
    assert!(result.diagnostics.is_empty(), "{}", render_all(&result));
    let report = result.guardrail.expect("the guarded seed compiles");
    assert!(open_in(&report).is_empty(), "{report:?}");
    assert_eq!(report.boundaries.len(), 1);
    assert_eq!(report.principals.len(), 1);
    assert_eq!(
        report.summary(),
        "guardrail: 1 boundary closed, 0 open; 1 bounded principal closed, 0 open"
    );
}

/// The built JSON of a project, analysed as `iamx check identity.json… --boundary b.json`
/// analyses it: per delegating principal, its inline documents and its boundary's.
fn json_verdicts(project: &iamx::iam::Project) -> Vec<(String, BTreeSet<String>)> {
    let files = iamx::emit::files(project);
    let read = |path: &str| -> Source {
        let artifact = files
            .iter()
            .find(|a| a.path == path)
            .unwrap_or_else(|| panic!("{path} is built"));
        Source::new(path, artifact.contents.clone())
    };
    let manifest: serde_json::Value = serde_json::from_str(
        &files
            .iter()
            .find(|a| a.path == "manifest.json")
            .expect("a manifest")
            .contents,
    )
    .expect("the manifest is JSON");
    let mut out = Vec::new();
    for p in manifest["principals"].as_array().expect("principals") {
        let Some(boundary) = p["boundary"].as_str() else {
            continue;
        };
        let boundary_file = manifest["policies"]
            .as_array()
            .expect("policies")
            .iter()
            .find(|q| q["arn"] == boundary)
            .and_then(|q| q["file"].as_str())
            .expect("the boundary is the project's");
        let identity: Vec<Source> = p["inline_policies"]
            .as_object()
            .expect("inline policies")
            .values()
            .map(|f| read(f.as_str().expect("a path")))
            .collect();
        let result = iamx::analyze_principal(
            identity,
            Some(read(boundary_file)),
            vec![(boundary.to_string(), read(boundary_file))],
            &Options::default(),
        );
        out.push((
            p["name"].as_str().unwrap_or("").to_string(),
            guardrail_codes(&result),
        ));
    }
    out
}

/// The guarded seed, built and checked as JSON, is closed as its source is.
#[test]
fn built_json_of_the_guarded_seed_is_closed_too() {
    let result = compile_example("company-xyz-guarded");
    let project = result.project.as_ref().expect("it compiles");
    let verdicts = json_verdicts(project);
    assert_eq!(verdicts.len(), 1);
    for (name, codes) in verdicts {
        assert!(codes.is_empty(), "{name}: the JSON reports {codes:?}");
    }
}

/// Each deny statement of the guard closes a way out: without it, the proof (on the source
/// and on the built JSON) reports the boundary open, and the example's test fails.
/// `GuardDenyOutsidePath` is not among them: it keeps the team's principals under its path,
/// but a principal created elsewhere still carries the boundary, so nothing is opened.
#[test]
fn every_guard_statement_of_the_guarded_seed_is_needed() {
    let result = compile_example("company-xyz-guarded");
    let project = result.project.as_ref().expect("it compiles");
    let boundary = project
        .policies
        .iter()
        .find(|p| p.boundary)
        .expect("a boundary");
    let statements = &project.documents[boundary.document].policy.statements;
    let mut tried = 0;
    for (i, s) in statements.iter().enumerate() {
        let sid = s.sid.as_ref().map(|x| x.value.clone()).unwrap_or_default();
        if !sid.starts_with("Guard")
            || s.effect.value != iamx::iam::Effect::Deny
            || sid == "GuardDenyOutsidePath"
        {
            continue;
        }
        tried += 1;
        let mut mutant = project.clone();
        mutant.documents[boundary.document]
            .policy
            .statements
            .remove(i);
        let (report, _) = iamx::guardrail::analyze(&mutant);
        assert!(
            !report.boundaries[0].closed,
            "without {sid}, the source still proves the boundary closed"
        );
        let json = json_verdicts(&mutant);
        assert!(
            json.iter().any(|(_, codes)| !codes.is_empty()),
            "without {sid}, the built JSON still proves the principal closed"
        );
        let failed = iamx::eval::suite::run(&mutant).iter().any(|t| !t.passed());
        assert!(failed, "without {sid}, the example's test still passes");
    }
    assert!(tried >= 8, "the guard has its deny statements ({tried})");
}

/// JSON mode: a managed policy given with `--managed` may be attached anywhere, so editing it
/// is open (the list of where it is attached is unknown, not empty).
#[test]
fn json_managed_policies_with_unknown_attachments_are_elsewhere() {
    let identity = Source::new(
        "identity.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "iam:CreatePolicyVersion",
            "Resource": "arn:aws:iam::123456789012:policy/Shared"}]}"#,
    );
    let shared = Source::new(
        "shared.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "s3:GetObject", "Resource": "*"}]}"#,
    );
    let result = iamx::analyze_principal(
        vec![identity],
        None,
        vec![(
            "arn:aws:iam::123456789012:policy/Shared".to_string(),
            shared,
        )],
        &Options::default(),
    );
    let codes = guardrail_codes(&result);
    assert!(
        codes.contains("W0611"),
        "editing a policy that may be attached anywhere: {codes:?}\n{}",
        render_all(&result)
    );
}

/// Every path of the public catalogues (data/guardrail/escalations.json) is found: a boundary
/// that allows exactly its actions is reported open, with the path's code, and the finding's
/// catalogue names the path.
#[test]
fn every_catalogue_path_is_covered() {
    let data = iamx::guardrail::classes::escalations();
    let mut missed = Vec::new();
    let mut covered = 0;
    for path in &data.paths {
        let Some(code) = &path.code else {
            continue;
        };
        let actions = path.actions.join(", ");
        let source =
            format!("account \"123456789012\"\n\nboundary B {{\n  allow {actions} on *\n}}\n");
        let result = compile("catalogue.iamx", source.into_bytes());
        if result.has_errors() {
            missed.push(format!(
                "{}: does not compile:\n{}",
                path.id,
                render_all(&result)
            ));
            continue;
        }
        let codes = guardrail_codes(&result);
        let mut wanted: Vec<&str> = vec![code.as_str()];
        wanted.extend(path.other_codes.iter().map(String::as_str));
        if !wanted.iter().any(|c| codes.contains(*c)) {
            missed.push(format!("{}: wants {wanted:?}, reports {codes:?}", path.id));
            continue;
        }
        let named = wanted.iter().any(|c| {
            path.actions
                .iter()
                .any(|a| iamx::guardrail::classes::catalogue_ids(c, a).contains(&path.id.as_str()))
        });
        if !named {
            missed.push(format!("{}: no finding names it", path.id));
            continue;
        }
        covered += 1;
    }
    assert!(
        missed.is_empty(),
        "{} of the paths missed:\n{}",
        missed.len(),
        missed.join("\n")
    );
    assert!(covered > 100, "{covered} paths covered");
}

/// An AWS managed boundary cannot be edited by anyone: no W0603 for it, though its holder
/// may hold `iam:*` (IAMFullAccess) and AdministratorAccess. Everything else stays open.
#[test]
fn an_aws_managed_boundary_is_not_editable() {
    let source = "account \"123456789012\"\n\
                  user u {\n  boundary aws IAMFullAccess\n  attach aws AdministratorAccess\n}\n";
    let result = compile("main.iamx", source.as_bytes().to_vec());
    let codes = guardrail_codes(&result);
    assert!(!codes.contains("W0603"), "{}", render_all(&result));
    assert!(
        codes.contains("W0601") && codes.contains("W0602"),
        "{}",
        render_all(&result)
    );
}

/// `delegate` with every guard clause still fits a user's inline quota (2,048 characters),
/// beside a statement of the user's own: what the guard derives must stay deployable.
#[test]
fn a_delegating_user_with_a_full_guard_stays_deployable_and_closed() {
    let source = r#"account "123456789012"

boundary Guarded {
  allow s3:*, dynamodb:*, logs:*, sqs:* on *
  guard {
    create users, roles under "/teams/"
    pass roles under "/teams/" to lambda.amazonaws.com
    manage policies under "/teams/"
  }
}

user lead {
  path "/teams/"
  boundary Guarded
  delegate
  allow s3:PutObject on "arn:aws:s3:::team-lead/*"
  allow sqs:SendMessage on "arn:aws:sqs:us-east-1:123456789012:lead" when aws:SourceAccount == "123456789012"
}
"#;
    let result = compile("quota.iamx", source.as_bytes().to_vec());
    let codes: Vec<&str> = result.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert!(!codes.contains(&"E0305"), "{}", render_all(&result));
    assert!(!result.has_errors(), "{}", render_all(&result));
    // With the clean-up statement, the delegation is over a user's 2,048-character inline
    // quota: it moves, whole, into a managed part attached to the user, and the guard stays
    // closed with the part among the user's own policies.
    let project = result.project.as_ref().unwrap();
    let lead = &project.principals[0];
    let attached: Vec<&str> = lead.attached.iter().map(|a| a.value.as_str()).collect();
    assert_eq!(
        attached,
        ["arn:aws:iam::123456789012:policy/teams/lead-leadDelegation-1"]
    );
    let bundle = iamx::emit::bundle(project);
    let text = bundle
        .split("\"policies/lead-leadDelegation-1.json\"")
        .last()
        .expect("the delegation's managed part");
    assert!(text.contains("CleanUpUnderPath"), "{text}");
    assert!(text.contains("NoNewVersionsOfOwnPolicies"), "{text}");
    let report = result.guardrail.as_ref().unwrap();
    assert!(report.boundaries.iter().all(|b| b.closed), "{report:?}");
}
