//! `iamx test`: run the project's `test` blocks and report each.

use clap::Args;

use super::{compile_inputs_with, report, report_with, CompileArgs, Exit};
use crate::diag::{render, Diagnostic};
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
    let human = args.compile.message_format == super::MessageFormat::Human;
    // With `--message-format json|sarif`, stdout gets that format alone: the compilation's
    // diagnostics and the failures together, once the tests have run; the report for people
    // goes to stderr.
    let compile_failed = compilation
        .diagnostics
        .iter()
        .any(|d| d.severity() == crate::diag::Severity::Error)
        || (args.compile.deny_warnings && !compilation.diagnostics.is_empty());
    if (human || compile_failed || compilation.project.is_none())
        && report(&compilation, &args.compile)
    {
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
        let line = format!(
            "test \"{}\" ({checks} expectation{}) ... {}",
            result.case.name,
            if checks == 1 { "" } else { "s" },
            if ok { "ok" } else { "FAILED" }
        );
        if human {
            outln!("{line}");
        } else {
            errln!("{line}");
        }
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    let failures: Vec<Diagnostic> = results
        .iter()
        .filter(|r| !r.passed())
        .flat_map(|r| {
            r.checked
                .iter()
                .filter(|c| !c.passed())
                .map(|c| suite::failure(r.case, c))
        })
        .collect();
    if human {
        // One renderer for all failures: it splits each file into lines once.
        let mut renderer = render::Renderer::new(&compilation.sources);
        for d in &failures {
            out!("\n{}", renderer.human(d, color));
        }
        outln!("\n{passed} passed, {failed} failed");
    } else {
        report_with(&compilation, &failures, &args.compile);
        errln!("{passed} passed, {failed} failed");
    }
    if failed > 0 {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}
