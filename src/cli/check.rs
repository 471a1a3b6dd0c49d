//! `iamx check`: compile and report, write nothing.

use clap::Args;

use super::{compile_inputs, report, CompileArgs, Exit};

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub compile: CompileArgs,
}

pub fn run(args: CheckArgs) -> Exit {
    let compilation = match compile_inputs(&args.compile) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let failed = report(&compilation, &args.compile);
    if let (Some(guardrail), super::MessageFormat::Human) =
        (&compilation.guardrail, args.compile.message_format)
    {
        if !guardrail.boundaries.is_empty() || !guardrail.principals.is_empty() {
            eprintln!("{}", guardrail.summary());
        }
    }
    if failed {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}
