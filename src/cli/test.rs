//! `iamx test`: run the project's `test` blocks and report each.

use clap::{Args, ValueEnum};

use super::{compile_inputs_with, report, report_with, CompileArgs, Exit};
use crate::diag::{render, Diagnostic, Severity};
use crate::eval::suite::{self, TestResult};
use crate::source::SourceMap;

#[derive(Args, Debug)]
pub struct TestArgs {
    #[command(flatten)]
    pub compile: CompileArgs,
    /// How to report the tests: `human`, or `junit` for a JUnit XML report on stdout, which CI
    /// systems show as test results (everything else then goes to stderr).
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// A line per test, and the failures rendered with their source.
    Human,
    /// A JUnit XML report on stdout: one `testcase` per `test` block.
    Junit,
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
    if args.format == TestFormat::Junit {
        return run_junit(args);
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

/// `--format junit`: the report on stdout, everything for people on stderr. A project that does
/// not compile is reported as one `testcase` in error, so that CI shows why no test ran.
fn run_junit(args: TestArgs) -> Exit {
    if args.compile.message_format != super::MessageFormat::Human {
        return super::fail(
            "`--format junit` writes the JUnit report on stdout; it cannot share it with `--message-format json|sarif`",
        );
    }
    let compilation = match compile_inputs_with(&args.compile, |o| o.skip_tests = true) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let compile_failed = report(&compilation, &args.compile);
    let project = match compilation.project.as_ref() {
        Some(project) if !compile_failed => project,
        _ => {
            let errors: Vec<&Diagnostic> = compilation
                .diagnostics
                .iter()
                .filter(|d| d.severity() == Severity::Error || args.compile.deny_warnings)
                .collect();
            let mut renderer = render::Renderer::new(&compilation.sources);
            let text: String = errors.iter().map(|d| renderer.human(d, false)).collect();
            let first = errors.first().map_or(String::new(), |d| d.message.clone());
            out!("{}", junit_compile_error(&first, &text));
            return Exit::Diagnostics;
        }
    };
    let results = suite::run(project);
    let failed = results.iter().filter(|r| !r.passed()).count();
    for result in &results {
        errln!(
            "test \"{}\" ... {}",
            result.case.name,
            if result.passed() { "ok" } else { "FAILED" }
        );
    }
    errln!("{} passed, {failed} failed", results.len() - failed);
    out!("{}", junit(&results, &compilation.sources));
    if failed > 0 {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}

/// The JUnit XML report of a test run: one `testsuite` named `iamx`, one `testcase` per `test`
/// block (its expectations are its assertions), and each failing one's failures rendered with
/// their source, without colour. Deterministic: no times, no host names.
pub fn junit(results: &[TestResult], sources: &SourceMap) -> String {
    let failed = results.iter().filter(|r| !r.passed()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"iamx\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">\n",
        results.len()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"iamx\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">\n",
        results.len()
    ));
    let mut renderer = render::Renderer::new(sources);
    for result in results {
        let case = result.case;
        let mut attributes = format!(
            "name=\"{}\" assertions=\"{}\"",
            xml(&case.name),
            result.checked.len()
        );
        if let Some(span) = case.span {
            let (line, _) = sources.line_col(span.file, span.start);
            let file = &sources.get(span.file).name;
            attributes.push_str(&format!(
                " classname=\"{}\" file=\"{}\" line=\"{line}\"",
                xml(file),
                xml(file)
            ));
        }
        if result.passed() {
            out.push_str(&format!("    <testcase {attributes}/>\n"));
            continue;
        }
        let failures: Vec<Diagnostic> = result
            .checked
            .iter()
            .filter(|c| !c.passed())
            .map(|c| suite::failure(case, c))
            .collect();
        let first = failures
            .first()
            .map_or(String::new(), |d| d.message.clone());
        let text: String = failures.iter().map(|d| renderer.human(d, false)).collect();
        out.push_str(&format!("    <testcase {attributes}>\n"));
        out.push_str(&format!(
            "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
            xml(&first),
            crate::diag::Code::TestFailed.as_str(),
            xml(&text)
        ));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// The report of a project that does not compile: one `testcase` in error.
fn junit_compile_error(message: &str, text: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"iamx\" tests=\"1\" failures=\"0\" errors=\"1\">\n\
         \x20 <testsuite name=\"iamx\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n\
         \x20   <testcase name=\"the project compiles\">\n\
         \x20     <error message=\"{}\" type=\"compile\">{}</error>\n\
         \x20   </testcase>\n\
         \x20 </testsuite>\n\
         </testsuites>\n",
        xml(message),
        xml(text)
    )
}

/// Text as XML character data or an attribute value: the five special characters escaped, and
/// the characters XML 1.0 cannot hold at all (most control characters) replaced by U+FFFD.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_specials_and_replaces_what_xml_cannot_hold() {
        assert_eq!(xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml("tab\tline\n"), "tab\tline\n");
        assert_eq!(xml("bell\u{7}esc\u{1b}[0m"), "bell\u{FFFD}esc\u{FFFD}[0m");
        assert_eq!(xml("é 😀 \u{200F}"), "é 😀 \u{200F}");
    }
}
