//! `iamx check`: compile and report, write nothing.

use clap::Args;

use super::{compile_inputs_with, report, CompileArgs, Exit};

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub compile: CompileArgs,
    /// Analyse the `.json` inputs as the identity policies of one principal, bounded by this
    /// permissions boundary document.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<std::path::PathBuf>,
    /// The document of a managed policy the analysed policies refer to by ARN:
    /// `--managed arn:aws:iam::123456789012:policy/DevBoundary=boundary.json`.
    #[arg(long, value_name = "ARN=FILE", value_parser = super::parse_var)]
    pub managed: Vec<(String, String)>,
    /// Analyse the `.json` inputs as the identity policies of one principal, with no boundary.
    #[arg(long)]
    pub principal: bool,
    /// The inputs are snapshots of one account (`aws iam get-account-authorization-details`):
    /// analyse every boundary and principal in it.
    #[arg(long, conflicts_with_all = ["boundary", "managed", "principal"])]
    pub account: bool,
    /// Also run the checks of these back ends, as a comma list (`cloudformation`: the
    /// template's quotas; `cloudformation`, `terraform`: an order of creation), writing nothing.
    #[arg(long, value_name = "TARGETS", value_delimiter = ',', conflicts_with_all = ["boundary", "managed", "principal", "account"])]
    pub target: Vec<super::build::TargetArg>,
    /// With `--account`: the resources that run as a role (Lambda functions, instances,
    /// stacks…), a JSON list of `{"arn": …, "role": …, "tags": {…}}`.
    #[arg(long, value_name = "FILE", requires = "account")]
    pub resources: Option<std::path::PathBuf>,
}

pub fn run(args: CheckArgs) -> Exit {
    let compilation = if args.account {
        match account(&args) {
            Ok(c) => c,
            Err(exit) => return exit,
        }
    } else if args.boundary.is_some() || !args.managed.is_empty() || args.principal {
        match principal(&args) {
            Ok(c) => c,
            Err(exit) => return exit,
        }
    } else {
        let targets: Vec<crate::emit::Target> = args.target.iter().map(|&t| t.into()).collect();
        match compile_inputs_with(&args.compile, |o| o.targets = targets) {
            Ok(c) => c,
            Err(exit) => return exit,
        }
    };
    let failed = report(&compilation, &args.compile);
    if let (Some(guardrail), super::MessageFormat::Human) =
        (&compilation.guardrail, args.compile.message_format)
    {
        if !guardrail.boundaries.is_empty()
            || !guardrail.principals.is_empty()
            || guardrail.skipped.is_some()
        {
            errln!("{}", guardrail.summary());
        }
    }
    if failed {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}

fn read(path: &std::path::Path) -> Result<crate::Source, Exit> {
    let bytes = std::fs::read(path).map_err(|e| {
        super::fail(format!(
            "cannot read `{}`: {}",
            path.display(),
            super::io_reason(&e)
        ))
    })?;
    Ok(crate::Source::new(
        path.to_string_lossy().replace('\\', "/"),
        bytes,
    ))
}

/// `iamx check identity.json … --boundary b.json --managed ARN=FILE`: one principal.
fn principal(args: &CheckArgs) -> Result<crate::Compilation, Exit> {
    let mut identity = Vec::new();
    for input in &args.compile.inputs {
        if !crate::is_json(&input.to_string_lossy()) {
            return Err(super::fail(format!(
                "`{}`: with `--boundary`, `--managed` or `--principal`, the inputs are the principal's JSON identity policies",
                input.display()
            )));
        }
        identity.push(read(input)?);
    }
    let boundary = match &args.boundary {
        Some(b) => Some(read(b)?),
        None => None,
    };
    let mut managed = Vec::new();
    for (arn, file) in &args.managed {
        managed.push((arn.clone(), read(std::path::Path::new(file))?));
    }
    let mut options = crate::Options::default();
    options.limits.trust_policy = args.compile.trust_limit as usize;
    Ok(crate::analyze_principal(
        identity, boundary, managed, &options,
    ))
}

/// `iamx check --account snapshot.json … [PROJECT]`: every boundary and principal of one
/// account; the `.json` inputs are the snapshots, the others (directories, `.iamx` files) a
/// project whose declarations are added to the account's.
fn account(args: &CheckArgs) -> Result<crate::Compilation, Exit> {
    let (snapshots, project): (Vec<_>, Vec<_>) = args
        .compile
        .inputs
        .iter()
        .partition(|i| !i.is_dir() && crate::is_json(&i.to_string_lossy()));
    if snapshots.is_empty() {
        return Err(super::fail(
            "with `--account`, give the account's snapshot: the `.json` output of `aws iam get-account-authorization-details`",
        ));
    }
    let mut sources = Vec::new();
    for input in snapshots {
        // Refused whole before reading when larger than any snapshot iamx reads.
        let too_large = std::fs::metadata(input)
            .ok()
            .map(|m| m.len())
            .filter(|&len| len > crate::account::MAX_SNAPSHOT_BYTES as u64);
        match too_large {
            Some(len) => sources.push(crate::Source::over_limit(
                input.to_string_lossy().replace('\\', "/"),
                Some(len),
            )),
            None => sources.push(read(input)?),
        }
    }
    let resources = match &args.resources {
        Some(path) => Some(read(path)?),
        None => None,
    };
    if project.is_empty() {
        return Ok(crate::account::analyze_with_resources(sources, resources));
    }
    let project_args = super::CompileArgs {
        inputs: project.into_iter().cloned().collect(),
        vars: args.compile.vars.clone(),
        allow_include: args.compile.allow_include.clone(),
        docs_url: args.compile.docs_url.clone(),
        show_accepted: args.compile.show_accepted,
        ..args.compile
    };
    let compilation = super::compile_inputs_with(&project_args, |o| o.skip_guardrail = true)?;
    Ok(crate::account::analyze_with_project_and_resources(
        compilation,
        sources,
        resources,
    ))
}
