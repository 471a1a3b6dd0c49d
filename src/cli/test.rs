//! `iamx test`: run the project's `test` blocks and report each.

use clap::Args;

use super::{compile_inputs_with, report, CompileArgs, Exit};
use crate::diag::render;
use crate::eval::suite;

#[derive(Args, Debug)]
pub struct TestArgs {
    #[command(flatten)]
    pub compile: CompileArgs,
}

pub fn run(args: TestArgs) -> Exit {
    if let Some(json) = args
        .compile
        .inputs
        .iter()
        .find(|p| crate::is_json(&p.to_string_lossy()))
    {
        return super::fail(format!(
            "`{}` is a JSON policy document: `iamx test` runs the `test` blocks of .iamx files; check it with `iamx check`, or evaluate requests against it with `iamx simulate --batch`",
            json.display()
        ));
    }
    let compilation = match compile_inputs_with(&args.compile, |o| o.skip_tests = true) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    if report(&compilation, &args.compile) {
        return Exit::Diagnostics;
    }
    let Some(project) = compilation.project.as_ref() else {
        return Exit::Diagnostics;
    };
    let color = super::use_color(args.compile.color);
    let results = suite::run(project);
    let (mut passed, mut failed) = (0, 0);
    for result in &results {
        let ok = result.passed();
        let checks = result.checked.len();
        outln!(
            "test \"{}\" ({checks} expectation{}) ... {}",
            result.case.name,
            if checks == 1 { "" } else { "s" },
            if ok { "ok" } else { "FAILED" }
        );
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    // One renderer for all failures: it splits each file into lines once.
    let mut renderer = render::Renderer::new(&compilation.sources);
    for result in results.iter().filter(|r| !r.passed()) {
        for checked in result.checked.iter().filter(|c| !c.passed()) {
            let d = suite::failure(result.case, checked);
            let text = match args.compile.message_format {
                super::MessageFormat::Human => renderer.human(&d, color),
                super::MessageFormat::Json | super::MessageFormat::Sarif => {
                    render::json(&d, &compilation.sources) + "\n"
                }
            };
            out!("\n{text}");
        }
    }
    outln!("\n{passed} passed, {failed} failed");
    if failed > 0 {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}
