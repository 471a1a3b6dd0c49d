//! `iamx build`: compile and write the documents, atomically, or check them.

use std::fs;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{compile_inputs_with, fail, io_reason, outdir, report, CompileArgs, Exit};
use crate::emit::{self, Artifact, Target};

/// A back end `--target` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// The policy documents and `manifest.json`, at the top of DIR.
    Json,
    /// `DIR/cloudformation/template.json`.
    #[value(name = "cloudformation")]
    CloudFormation,
    /// `DIR/terraform/main.tf.json`.
    Terraform,
    /// `DIR/account/authorization-details.json`: the account once deployed, as
    /// `aws iam get-account-authorization-details` prints it.
    Account,
}

impl From<TargetArg> for Target {
    fn from(t: TargetArg) -> Target {
        match t {
            TargetArg::Json => Target::Json,
            TargetArg::CloudFormation => Target::CloudFormation,
            TargetArg::Terraform => Target::Terraform,
            TargetArg::Account => Target::Account,
        }
    }
}

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
    /// What to write, as a comma list: `json` (the documents and `manifest.json`),
    /// `cloudformation` (`DIR/cloudformation/template.json`), `terraform`
    /// (`DIR/terraform/main.tf.json`), `account` (`DIR/account/authorization-details.json`).
    #[arg(
        long,
        value_name = "TARGETS",
        value_delimiter = ',',
        default_value = "json"
    )]
    pub target: Vec<TargetArg>,
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
    if args.output.as_os_str() == "-" && args.compile.message_format != super::MessageFormat::Human
    {
        return fail("`-o -` and `--message-format json|sarif` both write to stdout: write the outputs to a directory");
    }
    let targets: Vec<Target> = args.target.iter().map(|&t| t.into()).collect();
    if args.output.as_os_str() == "-" && targets.iter().any(|&t| t != Target::Json) {
        return fail("`-o -` prints the JSON bundle only: write the other targets to a directory");
    }
    let compilation = match compile_inputs_with(&args.compile, |o| o.targets = targets.clone()) {
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
        out!("{}", emit::bundle(project));
        return Exit::Success;
    }
    let mut artifacts = emit::files_for(project, &targets);
    artifacts.push(outdir::marker());
    check_or_write(
        &args.output,
        &artifacts,
        args.check,
        Stale {
            what: "the outputs",
            are: "are",
            command: "iamx build",
        },
    )
}

/// How `--check` names what it found stale: "the outputs … are stale; run `iamx build`".
pub(super) struct Stale {
    pub what: &'static str,
    pub are: &'static str,
    pub command: &'static str,
}

/// With `check`, compares what is on disk with the artifacts; otherwise writes them.
pub(super) fn check_or_write(
    dir: &Path,
    artifacts: &[Artifact],
    check: bool,
    stale: Stale,
) -> Exit {
    if check {
        return check_outputs(dir, artifacts, stale);
    }
    match build_into(dir, artifacts) {
        Ok(warnings) => {
            for warning in warnings {
                errln!("warning: {warning}");
            }
            Exit::Success
        }
        Err(message) => fail(message),
    }
}

/// Replaces the output directory with the artifacts, unless it already holds exactly them;
/// returns what went wrong without stopping the build.
pub(super) fn build_into(dir: &Path, artifacts: &[Artifact]) -> Result<Vec<String>, String> {
    outdir::check_name(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create `{}`: {}", parent.display(), io_reason(&e)))?;
    }
    let _lock = outdir::Lock::exclusive(dir, || {
        errln!(
            "iamx: waiting for another build of `{}` to finish",
            dir.display()
        );
    })?;
    let mut warnings = outdir::remove_stale(dir);
    outdir::owned(dir)?;
    if outdir::compare(dir, artifacts, true)?.is_empty() {
        // Nothing changed: leave the files (and their modification times) alone.
        return Ok(warnings);
    }
    warnings.extend(outdir::replace(dir, artifacts)?.warnings);
    Ok(warnings)
}

/// Compares what is on disk with what the command would write.
fn check_outputs(dir: &Path, artifacts: &[Artifact], stale_as: Stale) -> Exit {
    let compared =
        outdir::Lock::shared(dir).and_then(|_lock| outdir::compare(dir, artifacts, false));
    let stale = match compared {
        Ok(stale) => stale,
        Err(message) => return fail(message),
    };
    if stale.is_empty() {
        return Exit::Success;
    }
    let Stale { what, are, command } = stale_as;
    errln!(
        "error: {what} in `{}` {are} stale; run `{command}` again",
        dir.display()
    );
    for (path, difference) in &stale {
        errln!("  {}", difference.line(path));
    }
    Exit::Diagnostics
}
