//! `iamx import`: JSON policy documents to `.iamx`, printed or written one file per input.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{display_path, fail, io_reason, use_color, Color, Exit};
use crate::diag::render;
use crate::iam::from_json::JsonKind;
use crate::import::{self, ImportOptions};
use crate::source::SourceMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    /// An identity-based policy: `policy NAME { … }`.
    Policy,
    /// A permissions boundary: `boundary NAME { … }`.
    Boundary,
    /// A role trust policy: `role NAME { trust { … } }`.
    Trust,
    /// A resource-based policy (refused: iamx does not write them yet).
    Resource,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// IAM JSON policy documents.
    #[arg(required_unless_present = "account", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The name of the policy (or role); the file's stem by default. Only with one file.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// What the documents are; detected from their content when not given.
    #[arg(long = "as", value_enum, value_name = "KIND")]
    pub kind: Option<ImportKind>,
    /// The project's account: ARNs holding it are written with `{account}`, and the output
    /// declares it. Or an account snapshot (`aws iam get-account-authorization-details`,
    /// a `.json` file; the FILEs are more pages of it): the whole account is written into
    /// `-o DIR` as a project.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Write one `NAME.iamx` per input into DIR (and `account.iamx` with `--account`) instead
    /// of printing.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

pub fn run(args: ImportArgs) -> Exit {
    if let Some(snapshot) = args.account.as_deref().filter(|a| a.ends_with(".json")) {
        return run_account(Path::new(snapshot), &args);
    }
    if args.name.is_some() && args.files.len() > 1 {
        return fail("`--name` names one policy: give one file with it");
    }
    if let Some(account) = &args.account {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return fail(format!(
                "`{account}` is not an AWS account id (twelve digits)"
            ));
        }
    }
    let kind = args.kind.map(|k| match k {
        ImportKind::Policy => JsonKind::Identity,
        ImportKind::Boundary => JsonKind::Boundary,
        ImportKind::Trust => JsonKind::Trust,
        ImportKind::Resource => JsonKind::Resource,
    });
    let mut map = SourceMap::new();
    let mut imported = Vec::new();
    let mut diagnostics = Vec::new();
    let mut warnings_found = Vec::new();
    for file in &args.files {
        let text = match std::fs::read(file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    return fail(format!(
                        "cannot read `{}`: it is not UTF-8 text",
                        file.display()
                    ))
                }
            },
            Err(e) => {
                return fail(format!(
                    "cannot read `{}`: {}",
                    file.display(),
                    io_reason(&e)
                ))
            }
        };
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| import::name_from_stem(&stem));
        if !crate::format::is_ident(&name) {
            return fail(format!(
                "`{name}` is not an iamx name: use letters, digits, `_`, `-`, `.` and `+`, starting with a letter"
            ));
        }
        if imported
            .iter()
            .any(|(n, _): &(String, _)| n.eq_ignore_ascii_case(&name))
        {
            return fail(format!(
                "two inputs make the name `{name}`: import them one at a time with `--name`"
            ));
        }
        let id = map.add(display_path(file), text.clone());
        let options = ImportOptions {
            name: name.clone(),
            kind,
            account: args.account.clone(),
        };
        match import::import(id, &text, &options) {
            Ok((item, warnings)) => {
                imported.push((name, item));
                warnings_found.extend(warnings);
            }
            Err(found) => diagnostics.extend(found),
        }
    }
    let mut renderer = render::Renderer::new(&map);
    let color = use_color(args.color);
    for d in diagnostics.iter().chain(&warnings_found) {
        err!("{}", renderer.human(d, color));
    }
    if !diagnostics.is_empty() {
        errln!("iamx: import failed; nothing was written");
        return Exit::Diagnostics;
    }
    let account = args.account.as_deref();
    match &args.out {
        None => {
            let items = imported.into_iter().map(|(_, item)| item).collect();
            out!("{}", import::print(items, account));
            Exit::Success
        }
        Some(dir) => {
            let mut files: Vec<(PathBuf, String)> = imported
                .into_iter()
                .map(|(name, item)| {
                    (
                        dir.join(format!("{name}.iamx")),
                        import::print(vec![item], None),
                    )
                })
                .collect();
            if let Some(account) = account {
                files.push((
                    dir.join("account.iamx"),
                    import::print(Vec::new(), Some(account)),
                ));
            }
            write_and_say(dir, &files)
        }
    }
}

/// Writes new files into `dir` (created if missing), each whole or not at all: refuses before
/// writing anything when one of them exists.
fn write_new(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create `{}`: {}", dir.display(), io_reason(&e)))?;
    for (path, _) in files {
        if path.symlink_metadata().is_ok() {
            return Err(format!(
                "`{}` exists: iamx import writes new files only; move it away or choose another directory",
                display_path(path)
            ));
        }
    }
    for (path, text) in files {
        super::fmt::write_atomic(path, text)?;
    }
    Ok(())
}

/// `iamx import --account SNAPSHOT.json [PAGES…] -o DIR`: the whole account as a project.
fn run_account(snapshot: &Path, args: &ImportArgs) -> Exit {
    let Some(dir) = &args.out else {
        return fail("with `--account SNAPSHOT.json`, give the directory to write the project into: `-o DIR`");
    };
    if args.name.is_some() || args.kind.is_some() {
        return fail("`--name` and `--as` name one document: with `--account SNAPSHOT.json`, every name comes from the snapshot");
    }
    let mut sources = Vec::new();
    for file in std::iter::once(snapshot).chain(args.files.iter().map(PathBuf::as_path)) {
        match std::fs::read(file) {
            Ok(bytes) => sources.push(crate::Source::new(display_path(file), bytes)),
            Err(e) => {
                return fail(format!(
                    "cannot read `{}`: {}",
                    file.display(),
                    io_reason(&e)
                ))
            }
        }
    }
    let imported = crate::account_import::import_account(sources);
    let mut renderer = render::Renderer::new(&imported.sources);
    let color = use_color(args.color);
    for d in &imported.diagnostics {
        err!("{}", renderer.human(d, color));
    }
    let Some(files) = imported.files else {
        errln!("iamx: import failed; nothing was written");
        return Exit::Diagnostics;
    };
    let files: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|(name, text)| (dir.join(name), text))
        .collect();
    write_and_say(dir, &files)
}

/// Writes new files (none if one is there already), and says each one it wrote.
fn write_and_say(dir: &Path, files: &[(PathBuf, String)]) -> Exit {
    match write_new(dir, files) {
        Ok(()) => {
            for (path, _) in files {
                errln!("wrote {}", display_path(path));
            }
            Exit::Success
        }
        Err(e) => fail(e),
    }
}
