//! `iamx diff OLD NEW`: what a change grants or removes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{compile_inputs_with, report, CompileArgs, Exit};
use crate::diff::{Change, Diff, Side, SubjectDiff, Verdict};

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old side: a project directory, an `.iamx` file, or a JSON policy document.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The new side, of the same kinds. With `--git`, give one path only: the new side.
    #[arg(value_name = "NEW")]
    pub new: Option<PathBuf>,
    /// Compare the path as it is at this git revision (old) with the working tree (new).
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// How to print the comparison.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Exit 1 when the change broadens anything.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
    /// Set a param on both sides: `--var env=prod`. May be repeated.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = super::parse_var)]
    pub vars: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Plain text, for a terminal.
    Human,
    /// Markdown, to paste as a pull-request comment.
    Markdown,
    /// One JSON object.
    Json,
    /// One SARIF 2.1.0 log: a result for each broadening (warning) and narrowing (note).
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Anything newly allowed, anyone newly trusted, a boundary newly open.
    Broadening,
}

/// How many actions of one group are named before "and N more".
const SHOWN: usize = 12;

/// How many services the summary of a subject names before "and N more services".
const SERVICES: usize = 8;

pub fn run(args: DiffArgs) -> Exit {
    let (old_path, new_path, scratch) = match (&args.git, &args.new) {
        (None, Some(new)) => (args.old.clone(), new.clone(), None),
        (Some(rev), None) => match checkout(rev, &args.old) {
            Ok((old, dir)) => (old, args.old.clone(), Some(dir)),
            Err(exit) => return exit,
        },
        (None, None) => {
            return super::fail("give the old side and the new, or `--git REV` and one path")
        }
        (Some(_), Some(_)) => return super::fail("with `--git`, give one path: the new side"),
    };
    let sides = side(&old_path, &args).and_then(|old| Ok((old, side(&new_path, &args)?)));
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    let (old, new) = match sides {
        Ok(s) => s,
        Err(exit) => return exit,
    };
    let diff = crate::diff::diff(&old, &new);
    match args.format {
        DiffFormat::Json => match serde_json::to_string_pretty(&diff) {
            Ok(text) => outln!("{text}"),
            Err(e) => return super::fail(format!("cannot write the diff as JSON: {e}")),
        },
        DiffFormat::Sarif => out!("{}", sarif(&diff)),
        DiffFormat::Human => out!("{}", render(&diff, false)),
        DiffFormat::Markdown => out!("{}", render(&diff, true)),
    }
    let broadened = matches!(diff.verdict, Verdict::Broadens | Verdict::Both);
    if args.fail_on == Some(FailOn::Broadening) && broadened {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}

/// The path as it is at git revision `rev`, written to a scratch directory: the path's copy,
/// and the directory to remove after.
fn checkout(rev: &str, path: &Path) -> Result<(PathBuf, PathBuf), Exit> {
    use std::process::{Command, Stdio};
    if rev.starts_with('-') || rev.is_empty() {
        return Err(super::fail(format!("`{rev}` is not a git revision")));
    }
    let scratch = std::env::temp_dir().join(format!("iamx-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let failed = |why: String| {
        let _ = std::fs::remove_dir_all(&scratch);
        super::fail(format!(
            "cannot read `{}` at `{rev}`: {why}",
            path.display()
        ))
    };
    std::fs::create_dir_all(&scratch).map_err(|e| failed(super::io_reason(&e)))?;
    let (dir, object, name) = if path.is_dir() {
        // Run in the directory, `git archive` writes the revision's files under it only.
        (path.to_path_buf(), rev.to_string(), None)
    } else {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name else {
            return Err(failed("not a file or directory".into()));
        };
        (parent, format!("{rev}:./{name}"), Some(name))
    };
    let output = match &name {
        None => Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(["archive", "--format=tar", &object])
            .stderr(Stdio::piped())
            .output(),
        Some(_) => Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(["show", &object])
            .stderr(Stdio::piped())
            .output(),
    }
    .map_err(|e| failed(format!("cannot run git: {}", super::io_reason(&e))))?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        let why = why
            .lines()
            .next()
            .unwrap_or("git failed")
            .trim()
            .to_lowercase();
        return Err(failed(why));
    }
    match name {
        Some(name) => {
            let file = scratch.join(&name);
            std::fs::write(&file, &output.stdout).map_err(|e| failed(super::io_reason(&e)))?;
            Ok((file, scratch))
        }
        None => {
            let tar = scratch.join("old.tar");
            std::fs::write(&tar, &output.stdout).map_err(|e| failed(super::io_reason(&e)))?;
            let tree = scratch.join("old");
            std::fs::create_dir_all(&tree).map_err(|e| failed(super::io_reason(&e)))?;
            let status = Command::new("tar")
                .arg("-xf")
                .arg(&tar)
                .arg("-C")
                .arg(&tree)
                .status()
                .map_err(|e| failed(format!("cannot run tar: {}", super::io_reason(&e))))?;
            if !status.success() {
                return Err(failed("tar failed".into()));
            }
            Ok((tree, scratch))
        }
    }
}

/// One side: JSON documents are one principal's identity policies; anything else a project.
fn side(path: &Path, args: &DiffArgs) -> Result<Side, Exit> {
    if !path.is_dir() && crate::is_json(&path.to_string_lossy()) {
        let text = std::fs::read_to_string(path).map_err(|e| {
            super::fail(format!(
                "cannot read `{}`: {}",
                path.display(),
                super::io_reason(&e)
            ))
        })?;
        let (policy, found) = crate::iam::from_json::read_policy(
            crate::source::FileId(0),
            &text,
            Some(crate::iam::from_json::JsonKind::Identity),
        );
        return match policy {
            Some(p) if !found.iter().any(crate::diag::Diagnostic::is_error) => {
                Ok(Side::of_documents(vec![p.policy]))
            }
            _ => Err(super::fail(format!(
                "`{}` is not a JSON policy document iamx can read: run `iamx check` on it",
                path.display()
            ))),
        };
    }
    let compile = CompileArgs {
        inputs: vec![path.to_path_buf()],
        vars: args.vars.clone(),
        trust_limit: 2048,
        message_format: super::MessageFormat::Human,
        color: super::Color::Auto,
        deny_warnings: false,
        kind: None,
        allow_include: Vec::new(),
        split: false,
        managed_policy_quota: 10,
        compact: false,
        docs_url: None,
        show_accepted: false,
    };
    // The guardrail's findings (an open guarded boundary is an error to `check`) are part of
    // what is compared, not a reason to refuse: it runs on its own, after.
    let compilation = compile_inputs_with(&compile, |o| {
        o.skip_tests = true;
        o.skip_guardrail = true;
    })?;
    match &compilation.project {
        Some(project) if !compilation.has_errors() => {
            let (guardrail, _) = crate::guardrail::analyze(project);
            Ok(Side::of_project(project, Some(&guardrail)))
        }
        _ => {
            report(&compilation, &compile);
            Err(super::fail(format!(
                "`{}` does not compile, so it cannot be compared",
                path.display()
            )))
        }
    }
}

/// The report as text or Markdown.
fn render(diff: &Diff, markdown: bool) -> String {
    let mut o = String::new();
    let heading = |o: &mut String, text: &str| {
        if markdown {
            o.push_str(&format!("\n### {text}\n\n"));
        } else {
            o.push_str(&format!("\n{text}\n"));
        }
    };
    let bullet = if markdown { "- " } else { "  " };
    if markdown {
        o.push_str(&format!("**iamx diff: {}**\n", diff.verdict.words()));
    } else {
        o.push_str(&format!("verdict: {}\n", diff.verdict.words()));
    }
    for d in &diff.added_subjects {
        heading(&mut o, &format!("{} (added)", code(&d.subject, markdown)));
        subject(&mut o, d, markdown, bullet);
    }
    for d in &diff.removed_subjects {
        heading(&mut o, &format!("{} (removed)", code(&d.subject, markdown)));
        subject(&mut o, d, markdown, bullet);
    }
    for d in &diff.changed {
        heading(&mut o, &code(&d.subject, markdown));
        subject(&mut o, d, markdown, bullet);
    }
    if !diff.trust.is_empty() {
        heading(&mut o, "trust");
        for t in &diff.trust {
            for g in &t.added {
                o.push_str(&format!("{bullet}{}: newly trusts: {g}\n", t.role));
            }
            for g in &t.removed {
                o.push_str(&format!("{bullet}{}: no longer trusts: {g}\n", t.role));
            }
        }
    }
    if !diff.guardrail.is_empty() {
        heading(&mut o, "guardrail");
        let word = |c: Option<bool>| match c {
            Some(true) => "closed",
            Some(false) => "open",
            None => "absent",
        };
        for g in &diff.guardrail {
            o.push_str(&format!(
                "{bullet}{}: {} before, {} now\n",
                g.subject,
                word(g.old_closed),
                word(g.new_closed)
            ));
        }
    }
    o
}

fn code(text: &str, markdown: bool) -> String {
    if markdown {
        format!("`{text}`")
    } else {
        text.to_string()
    }
}

/// One subject's changes: a summary by service and access level, then the actions.
fn subject(o: &mut String, d: &SubjectDiff, markdown: bool, bullet: &str) {
    if d.added.is_empty() && d.removed.is_empty() && d.missing.is_empty() {
        o.push_str(&format!("{bullet}no permissions\n"));
    }
    for m in &d.missing {
        o.push_str(&format!(
            "{bullet}may broaden: attaches `{m}`, which neither side holds\n"
        ));
    }
    for (word, changes) in [("allowed", &d.added), ("no longer allowed", &d.removed)] {
        if changes.is_empty() {
            continue;
        }
        // By service, then access level.
        let mut levels: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
        for c in changes.iter() {
            *levels
                .entry(&c.service)
                .or_default()
                .entry(&c.level)
                .or_default() += 1;
        }
        let mut summary: Vec<String> = levels
            .iter()
            .take(SERVICES)
            .map(|(s, ls)| {
                let ls: Vec<String> = ls.iter().map(|(l, n)| format!("{n} {l}")).collect();
                format!("{s} ({})", ls.join(", "))
            })
            .collect();
        if levels.len() > SERVICES {
            summary.push(format!("and {} more services", levels.len() - SERVICES));
        }
        o.push_str(&format!(
            "{bullet}{word}: {} {}: {}\n",
            changes.len(),
            if changes.len() == 1 {
                "action"
            } else {
                "actions"
            },
            summary.join(", ")
        ));
        // Grouped by the resource and conditions shown.
        let mut groups: BTreeMap<(String, String), Vec<&Change>> = BTreeMap::new();
        for c in changes.iter() {
            let under: Vec<String> = c.under.iter().map(|u| format!("`{u}`")).collect();
            let mut resource = under.join(", ");
            match &c.resource {
                Some(r) if r.is_empty() || c.under.len() == 1 && c.under[0] == *r => {}
                Some(r) => resource.push_str(&format!(", such as `{r}`")),
                None => resource.push_str(" (undecided: counted as a change)"),
            }
            let when = if c.when.is_empty() {
                String::new()
            } else {
                format!(" when {}", c.when.join(" and "))
            };
            groups.entry((resource, when)).or_default().push(c);
        }
        let indent = if markdown { "  - " } else { "      " };
        for ((resource, when), cs) in groups {
            let mut names: Vec<String> = cs
                .iter()
                .take(SHOWN)
                .map(|c| format!("`{}`", c.action))
                .collect();
            if cs.len() > SHOWN {
                names.push(format!("and {} more", cs.len() - SHOWN));
            }
            o.push_str(&format!(
                "{indent}{} on {resource}{when}\n",
                names.join(", ")
            ));
        }
    }
    if d.conditional && (!d.added.is_empty() || !d.removed.is_empty()) {
        o.push_str(&format!(
            "{bullet}conditions take part: each distinct condition is taken as true or false independently of the others, so a change shown may hold only in some requests\n"
        ));
    }
}

/// The comparison as a SARIF log: no locations (a change is in what is allowed, not at one
/// place), one result per subject and direction.
fn sarif(diff: &Diff) -> String {
    use serde_json::json;
    let mut results = Vec::new();
    let mut push = |rule: &str, text: String| {
        let level = if rule == "broadens" {
            "warning"
        } else {
            "note"
        };
        results.push(json!({"ruleId": rule, "level": level, "message": {"text": text}}));
    };
    let example = |c: &Change| match &c.resource {
        Some(r) if !r.is_empty() => format!("`{}` on `{r}`", c.action),
        _ => format!("`{}`", c.action),
    };
    for d in diff
        .added_subjects
        .iter()
        .chain(&diff.removed_subjects)
        .chain(&diff.changed)
    {
        if let Some(c) = d.added.first() {
            push(
                "broadens",
                format!(
                    "`{}` is newly allowed {} action(s), such as {}",
                    d.subject,
                    d.added.len(),
                    example(c)
                ),
            );
        }
        for m in &d.missing {
            push(
                "broadens",
                format!("`{}` attaches `{m}`, which neither side holds", d.subject),
            );
        }
        if let Some(c) = d.removed.first() {
            push(
                "narrows",
                format!(
                    "`{}` is no longer allowed {} action(s), such as {}",
                    d.subject,
                    d.removed.len(),
                    example(c)
                ),
            );
        }
    }
    for t in &diff.trust {
        for g in &t.added {
            push("broadens", format!("`{}` newly trusts: {g}", t.role));
        }
        for g in &t.removed {
            push("narrows", format!("`{}` no longer trusts: {g}", t.role));
        }
    }
    for g in &diff.guardrail {
        match (g.old_closed, g.new_closed) {
            (_, Some(false)) => push("broadens", format!("`{}` is now open", g.subject)),
            (Some(false), Some(true)) => push("narrows", format!("`{}` is now closed", g.subject)),
            _ => {}
        }
    }
    let rule = |id: &str, text: &str, level: &str| json!({"id": id, "shortDescription": {"text": text}, "defaultConfiguration": {"level": level}});
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iamx",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": [
                    rule("broadens", "the change allows something new", "warning"),
                    rule("narrows", "the change no longer allows something", "note"),
                ],
            }},
            "results": results,
            "properties": {"verdict": diff.verdict.words()},
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
