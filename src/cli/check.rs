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
    if report(&compilation, &args.compile) {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}
