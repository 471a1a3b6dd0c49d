//! `iamx build`: compile and write the documents, atomically, or check them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{compile_inputs, fail, io_reason, report, CompileArgs, Exit};
use crate::emit::{self, Artifact};

#[derive(Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    pub compile: CompileArgs,
    /// The output directory (replaced whole on success), or `-` for one JSON bundle on stdout.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Write nothing; exit 1 when the files in the output directory differ from what a build
    /// would write.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: BuildArgs) -> Exit {
    if let Some(json) = args
        .compile
        .inputs
        .iter()
        .find(|p| crate::is_json(&p.to_string_lossy()))
    {
        return fail(format!(
            "`{}` is a JSON policy document: `iamx build` compiles .iamx files; check it with `iamx check`",
            json.display()
        ));
    }
    if args.output.as_os_str() == "-" && args.compile.message_format == super::MessageFormat::Sarif
    {
        return fail("`-o -` and `--message-format sarif` both write to stdout: write the outputs to a directory");
    }
    let compilation = match compile_inputs(&args.compile) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let failed = report(&compilation, &args.compile);
    let Some(project) = compilation.project.as_ref().filter(|_| !failed) else {
        return Exit::Diagnostics;
    };
    if args.output.as_os_str() == "-" {
        if args.check {
            return fail("`--check` needs an output directory, not `-`");
        }
        print!("{}", emit::bundle(project));
        return Exit::Success;
    }
    let artifacts = emit::files(project);
    if args.check {
        return check_outputs(&args.output, &artifacts);
    }
    if up_to_date(&args.output, &artifacts) {
        // Nothing changed: leave the files (and their modification times) alone.
        return Exit::Success;
    }
    match write_atomically(&args.output, &artifacts) {
        Ok(()) => Exit::Success,
        Err(message) => fail(message),
    }
}

/// Whether the directory holds exactly the artifacts, byte for byte.
fn up_to_date(dir: &Path, artifacts: &[Artifact]) -> bool {
    let mut on_disk = BTreeMap::new();
    if !dir.is_dir() || read_tree(dir, dir, &mut on_disk).is_err() {
        return false;
    }
    on_disk.len() == artifacts.len()
        && artifacts.iter().all(|a| {
            on_disk
                .get(&a.path)
                .is_some_and(|b| b == a.contents.as_bytes())
        })
}

/// Compares what is on disk with what a build would write.
fn check_outputs(dir: &Path, artifacts: &[Artifact]) -> Exit {
    let mut on_disk = BTreeMap::new();
    if dir.is_dir() {
        if let Err(e) = read_tree(dir, dir, &mut on_disk) {
            return fail(e);
        }
    }
    let mut stale = Vec::new();
    for artifact in artifacts {
        match on_disk.remove(&artifact.path) {
            None => stale.push(format!("missing: {}", artifact.path)),
            Some(bytes) if bytes != artifact.contents.as_bytes() => {
                stale.push(format!("differs: {}", artifact.path))
            }
            Some(_) => {}
        }
    }
    stale.extend(on_disk.into_keys().map(|p| format!("extra:   {p}")));
    if stale.is_empty() {
        return Exit::Success;
    }
    eprintln!(
        "error: the outputs in `{}` are stale; run `iamx build` again",
        dir.display()
    );
    for line in &stale {
        eprintln!("  {line}");
    }
    Exit::Diagnostics
}

fn read_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> Result<(), String> {
    let entries = fs::read_dir(dir)
        .map_err(|e| format!("cannot read `{}`: {}", dir.display(), io_reason(&e)))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_tree(root, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = fs::read(&path)
                .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
            out.insert(rel, bytes);
        }
    }
    Ok(())
}

/// Writes every artifact into a fresh sibling directory, then swaps it in place of `dir`, so
/// readers see the old outputs or the new ones, never a mix, and no stale file survives.
fn write_atomically(dir: &Path, artifacts: &[Artifact]) -> Result<(), String> {
    let name = dir
        .file_name()
        .ok_or_else(|| format!("`{}` cannot be an output directory", dir.display()))?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(format!("`{}` exists and is not a directory", dir.display()));
        }
        let empty = fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !dir.join("manifest.json").is_file() {
            return Err(format!(
                "refusing to replace `{}`: it holds files iamx did not write (no manifest.json)",
                dir.display()
            ));
        }
    }
    fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create `{}`: {}", parent.display(), io_reason(&e)))?;
    let pid = std::process::id();
    let staging = parent.join(format!(".{name}.iamx-new-{pid}"));
    let _ = fs::remove_dir_all(&staging);
    let written = (|| -> std::io::Result<()> {
        fs::create_dir_all(&staging)?;
        for artifact in artifacts {
            let path = staging.join(&artifact.path);
            if let Some(p) = path.parent() {
                fs::create_dir_all(p)?;
            }
            fs::write(&path, &artifact.contents)?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&staging);
        return Err(format!(
            "cannot write to `{}`: {}",
            parent.display(),
            io_reason(&e)
        ));
    }
    let old = parent.join(format!(".{name}.iamx-old-{pid}"));
    let had_old = dir.exists();
    if had_old {
        if let Err(e) = fs::rename(dir, &old) {
            let _ = fs::remove_dir_all(&staging);
            return Err(format!(
                "cannot replace `{}`: {}",
                dir.display(),
                io_reason(&e)
            ));
        }
    }
    if let Err(e) = fs::rename(&staging, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&staging);
        return Err(format!(
            "cannot replace `{}`: {}",
            dir.display(),
            io_reason(&e)
        ));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}
