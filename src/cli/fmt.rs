//! `iamx fmt`: rewrites `.iamx` files in the canonical layout.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{display_path, fail, io_reason, use_color, Color, Exit};
use crate::diag::render;
use crate::source::SourceMap;

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// `.iamx` files, or directories holding them (searched recursively); `-` formats stdin to
    /// stdout.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Write nothing; list the files that would change, each with a unified diff of the
    /// change, and exit 1 if any would.
    #[arg(long)]
    pub check: bool,
    /// With `--check`, list the files only, without the diffs.
    #[arg(long, requires = "check")]
    pub list: bool,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

pub fn run(args: FmtArgs) -> Exit {
    let mut map = SourceMap::new();
    let mut diagnostics = Vec::new();
    let mut changed = Vec::new();
    let stdin = args.inputs.iter().any(|p| p.as_os_str() == "-");
    if stdin {
        if args.inputs.len() > 1 {
            return fail("`-` formats stdin alone: give no other input with it");
        }
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            return fail(format!("cannot read stdin: {}", io_reason(&e)));
        }
        let id = map.add("<stdin>", text.clone());
        match crate::format::format_source(id, &text) {
            Ok(formatted) => {
                if args.check {
                    if formatted != text {
                        outln!("<stdin>");
                        if !args.list {
                            out!("{}", unified("<stdin>", &text, &formatted));
                        }
                        return Exit::Diagnostics;
                    }
                } else {
                    out!("{formatted}");
                }
                return Exit::Success;
            }
            Err(d) => {
                if !args.check {
                    out!("{text}");
                }
                diagnostics.push(d);
            }
        }
    } else {
        let files = match super::collect_inputs(&args.inputs) {
            Ok(files) => files,
            Err(e) => return fail(e),
        };
        let files: Vec<PathBuf> = files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "iamx"))
            .collect();
        for file in files {
            let text = match std::fs::read(&file) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(_) => {
                        return fail(format!(
                            "cannot read `{}`: it is not UTF-8 text",
                            display_path(&file)
                        ))
                    }
                },
                Err(e) => {
                    return fail(format!(
                        "cannot read `{}`: {}",
                        display_path(&file),
                        io_reason(&e)
                    ))
                }
            };
            let id = map.add(display_path(&file), text.clone());
            match crate::format::format_source(id, &text) {
                Ok(formatted) if formatted != text => changed.push((file, text, formatted)),
                Ok(_) => {}
                Err(d) => diagnostics.push(d),
            }
        }
    }
    let mut renderer = render::Renderer::new(&map);
    let color = use_color(args.color);
    for d in &diagnostics {
        err!("{}", renderer.human(d, color));
    }
    for (file, text, formatted) in &changed {
        if args.check {
            outln!("{}", display_path(file));
            if !args.list {
                out!("{}", unified(&display_path(file), text, formatted));
            }
        } else if let Err(e) = write_atomic(file, formatted) {
            return fail(e);
        }
    }
    if !diagnostics.is_empty() || (args.check && !changed.is_empty()) {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}

/// What formatting would change, as a unified diff (three lines of context), headed with
/// the file as it is and as it would be.
pub fn unified(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(name, &format!("{name} (formatted)"))
        .missing_newline_hint(true)
        .to_string()
}

/// Writes a file whole or not at all: into a temporary file beside it, then renamed over it.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    // A symbolic link stays one: what is replaced is the file it points to.
    let real = std::fs::canonicalize(path).ok();
    let shown = path;
    let path = real.as_deref().unwrap_or(path);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.iamx-{}.tmp", std::process::id()));
    let cannot =
        |e: std::io::Error| format!("cannot write `{}`: {}", display_path(shown), io_reason(&e));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        // Keep the permissions of the file replaced.
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(cannot(e));
    }
    Ok(())
}
