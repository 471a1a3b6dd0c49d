//! `iamx doc`: write the project's documentation, atomically, or check it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{compile_inputs, fail, outdir, report, CompileArgs, Exit};
use crate::doc;

/// What `--format` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    /// `index.md` and one page per principal.
    Markdown,
    /// `docs.json`: the same content as data.
    Json,
}

/// What `--graph` writes besides the pages' Mermaid diagrams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz: `diagram.dot`, and one `.dot` file beside each principal's page.
    Dot,
}

#[derive(Args, Debug)]
pub struct DocArgs {
    #[command(flatten)]
    pub compile: CompileArgs,
    /// The output directory (replaced whole on success).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value_t = DocFormat::Markdown)]
    pub format: DocFormat,
    /// Also write the diagrams in this format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub graph: Option<GraphFormat>,
    /// Write nothing; exit 1 when the files in the output directory differ from what
    /// `iamx doc` would write.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: DocArgs) -> Exit {
    if let Some(json) = args
        .compile
        .inputs
        .iter()
        .find(|p| crate::is_json(&p.to_string_lossy()))
    {
        return fail(format!(
            "`{}` is a JSON policy document: `iamx doc` documents .iamx projects",
            json.display()
        ));
    }
    if args.output.as_os_str() == "-" {
        return fail("`iamx doc` writes a directory: give one with `-o`");
    }
    let compilation = match compile_inputs(&args.compile) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let failed = report(&compilation, &args.compile);
    let Some(project) = compilation.project.as_ref().filter(|_| !failed) else {
        return Exit::Diagnostics;
    };
    let docs = doc::model(
        project,
        &compilation.sources,
        compilation.guardrail.as_ref(),
    );
    let mut artifacts = match args.format {
        DocFormat::Markdown => doc::markdown(&docs),
        DocFormat::Json => doc::json(&docs),
    };
    if args.graph == Some(GraphFormat::Dot) {
        artifacts.extend(doc::dot(&docs));
    }
    artifacts.push(outdir::marker());
    super::build::check_or_write(
        &args.output,
        &artifacts,
        args.check,
        super::build::Stale {
            what: "the documentation",
            are: "is",
            command: "iamx doc",
        },
    )
}
