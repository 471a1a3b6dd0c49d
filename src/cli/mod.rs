//! The `iamx` command: a thin layer over the library. The only module that touches files.
//!
//! Text goes out through `out!`/`outln!` and `err!`/`errln!` (see [`stdio`]), which keep write
//! errors; `print!` and `eprint!` would panic on them.
#![deny(clippy::print_stdout, clippy::print_stderr)]

/// `print!`, keeping a write error for [`stdio::finish`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::stdio::write($crate::cli::stdio::Stream::Stdout, format!($($arg)*).as_bytes())
    };
}

/// `println!`, keeping a write error for [`stdio::finish`].
macro_rules! outln {
    () => {
        out!("\n")
    };
    ($($arg:tt)*) => {
        out!("{}\n", format_args!($($arg)*))
    };
}

/// `eprint!`, keeping a write error for [`stdio::finish`].
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::cli::stdio::write($crate::cli::stdio::Stream::Stderr, format!($($arg)*).as_bytes())
    };
}

/// `eprintln!`, keeping a write error for [`stdio::finish`].
macro_rules! errln {
    ($($arg:tt)*) => {
        err!("{}\n", format_args!($($arg)*))
    };
}

mod actions;
mod build;
mod check;
mod diff;
mod doc;
mod fmt;
mod import;
pub mod inputs;
mod outdir;
pub mod simulate;
mod stdio;
mod test;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diag::{render, Diagnostic, Severity};
use crate::{Compilation, Options, Source};

/// Exit codes: 0 success (warnings allowed), 1 error diagnostics, 2 usage or I/O error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Diagnostics = 1,
    Usage = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "iamx",
    version = version(),
    about = "Compile .iamx files to validated AWS IAM policy documents",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile a project and write its policy documents and manifest.json.
    Build(build::BuildArgs),
    /// Compile a project and report diagnostics, writing nothing.
    Check(check::CheckArgs),
    /// List the actions a pattern or access-level selector stands for, from the AWS reference.
    Actions(actions::ActionsArgs),
    /// Run the project's `test` blocks and report each.
    Test(test::TestArgs),
    /// Evaluate a request as AWS would: against a project's principal, or raw JSON in batch.
    Simulate(simulate::SimulateArgs),
    /// Turn IAM JSON policy documents into `.iamx`, proved to build back to them.
    Import(import::ImportArgs),
    /// Rewrite `.iamx` files in the one canonical layout.
    Fmt(fmt::FmtArgs),
    /// Write documentation of the project: who each principal is and what it may do.
    Doc(doc::DocArgs),
    /// Compare two versions of a project or policy by what they allow: what a change grants or removes.
    Diff(diff::DiffArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// Rendered with the source, for people.
    Human,
    /// One JSON object per line, for editors and CI.
    Json,
    /// One SARIF 2.1.0 log on stdout, for code-scanning services.
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// What every compiling command takes.
#[derive(Args, Debug)]
pub struct CompileArgs {
    /// `.iamx` files, or directories holding them (searched recursively). All of them form one
    /// project with one namespace. `.json` files are IAM policy documents, checked on their own.
    /// `-` reads one `.iamx` file from standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Set a param: `--var env=prod`. May be repeated.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// The trust policy quota, if AWS raised it for the account (2048 by default, at most 4096).
    #[arg(long, value_name = "CHARS", default_value_t = 2048,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub trust_limit: u64,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Where the iamx book is published, for the links to each code's page in SARIF
    /// (`helpUri`). Defaults to `IAMX_DOCS_URL`, else the published book.
    #[arg(long, value_name = "URL", value_parser = parse_docs_url)]
    pub docs_url: Option<String>,
    /// Also print the warnings `@allow(CODE, "reason")` accepted, each with its reason.
    #[arg(long)]
    pub show_accepted: bool,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// What the `.json` policy documents among the inputs are; detected from their content
    /// when not given.
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: Option<JsonKindArg>,
    /// Let `policy X = json "…"` read files under DIR too. Without it, the documents it names
    /// must be inside the project: under a directory given as input, or beside a file given.
    /// May be repeated.
    #[arg(long, value_name = "DIR")]
    pub allow_include: Vec<PathBuf>,
    /// Split each customer managed policy over IAM's size quota into `NAME-1`, `NAME-2`, …,
    /// attached wherever it was (stable: a statement keeps its part when others change).
    #[arg(long)]
    pub split: bool,
    /// Before splitting, merge statements that differ only in actions, and collapse action
    /// lists into the shortest exact wildcards of the AWS service reference.
    #[arg(long)]
    pub compact: bool,
    /// The managed policies one role, user or group may have attached: 10 by default, up to
    /// 20 once AWS has raised the quota. Parts of split policies count.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub managed_policy_quota: u64,
}

/// `--docs-url`: an `http(s)://` or `file://` address, made to end in `/`.
fn parse_docs_url(text: &str) -> Result<String, String> {
    let ok = ["https://", "http://", "file://"]
        .iter()
        .any(|scheme| text.starts_with(scheme) && text.len() > scheme.len());
    if !ok || text.chars().any(char::is_whitespace) {
        return Err(format!(
            "`{text}` is not an http(s):// or file:// address, like `https://example.com/iamx/`"
        ));
    }
    Ok(if text.ends_with('/') {
        text.to_string()
    } else {
        format!("{text}/")
    })
}

/// The book's address: `--docs-url`, else `IAMX_DOCS_URL` when it is a valid address (an
/// invalid one is said once on stderr), else the published book.
pub fn docs_url(given: Option<&str>) -> String {
    if let Some(url) = given {
        return url.to_string();
    }
    match std::env::var("IAMX_DOCS_URL") {
        Ok(text) if !text.is_empty() => match parse_docs_url(&text) {
            Ok(url) => url,
            Err(problem) => {
                errln!("warning: IAMX_DOCS_URL ignored: {problem}");
                render::DEFAULT_DOCS_URL.to_string()
            }
        },
        _ => render::DEFAULT_DOCS_URL.to_string(),
    }
}

/// The directories `json` includes may read from: the project's (each input directory, and
/// the directory of each input file), then those `--allow-include` adds.
fn include_roots(args: &CompileArgs) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = args
        .inputs
        .iter()
        .map(|input| {
            if input.is_dir() {
                input.clone()
            } else {
                match input.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                    _ => PathBuf::from("."),
                }
            }
        })
        .collect();
    roots.extend(args.allow_include.iter().cloned());
    roots
}

/// `--kind`: what a JSON policy document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum JsonKindArg {
    /// An identity-based policy (managed or inline).
    Identity,
    /// A permissions boundary.
    Boundary,
    /// A role trust policy.
    Trust,
    /// A resource-based policy (bucket, key, queue, …).
    Resource,
}

impl From<JsonKindArg> for crate::iam::from_json::JsonKind {
    fn from(kind: JsonKindArg) -> Self {
        use crate::iam::from_json::JsonKind;
        match kind {
            JsonKindArg::Identity => JsonKind::Identity,
            JsonKindArg::Boundary => JsonKind::Boundary,
            JsonKindArg::Trust => JsonKind::Trust,
            JsonKindArg::Resource => JsonKind::Resource,
        }
    }
}

/// `iamx --version`: the compiler's version, then the AWS data's date and sources.
fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(version_text)
}

fn version_text() -> String {
    let mut text = env!("CARGO_PKG_VERSION").to_string();
    text.push_str("\naws data");
    if let Some(date) = crate::awsdb::data_date() {
        text.push_str(&format!(" of {date}"));
    }
    text.push(':');
    let sources: Vec<String> = crate::awsdb::data_sources()
        .iter()
        .map(|(package, version)| format!("{package} {version}"))
        .collect();
    text.push_str(&format!(" {}", sources.join(", ")));
    text
}

pub(crate) fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, found `{text}`")),
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let (stream, exit) = if e.use_stderr() {
                (stdio::Stream::Stderr, Exit::Usage)
            } else {
                (stdio::Stream::Stdout, Exit::Success)
            };
            if let Err(error) = e.print() {
                stdio::record(stream, error);
            }
            return stdio::finish(exit);
        }
    };
    let exit = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Check(args) => check::run(args),
        Command::Actions(args) => actions::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Test(args) => test::run(args),
        Command::Import(args) => import::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Doc(args) => doc::run(args),
        Command::Diff(args) => diff::run(args),
    };
    stdio::finish(exit)
}

/// Prints an I/O or usage problem (not a diagnostic: it has no place in a source).
pub fn fail(message: impl std::fmt::Display) -> Exit {
    errln!("error: {message}");
    Exit::Usage
}

/// Every `.iamx` file named or under a named directory (see [`inputs::collect`]), sorted by
/// the path shown in diagnostics, so that the order of the arguments (or a shell's collation
/// of `iam/*.iamx`) changes nothing.
pub fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = inputs::collect(inputs)
        .map_err(|e| e.to_string())?
        .files
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    files.sort_by_cached_key(|f| display_path(f));
    files.dedup_by(|a, b| display_path(a) == display_path(b));
    Ok(files)
}

/// An I/O error in words, without Rust's "(os error 2)".
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text.to_lowercase(),
    }
}

/// Reads the inputs and compiles them; `Err` is an exit for I/O or usage problems.
pub fn compile_inputs(args: &CompileArgs) -> Result<Compilation, Exit> {
    compile_inputs_with(args, |_| {})
}

/// [`compile_inputs`], with a last say on the options.
pub fn compile_inputs_with(
    args: &CompileArgs,
    adjust: impl FnOnce(&mut Options),
) -> Result<Compilation, Exit> {
    let mut found = inputs::collect(&args.inputs).map_err(fail)?;
    for skipped in &found.skipped {
        errln!("warning: {skipped}");
    }
    // Sorted by the path diagnostics show: the order of the arguments (or a shell's collation
    // of `iam/*.iamx`) changes nothing.
    found.files.sort_by_cached_key(|(f, _)| display_path(f));
    found
        .files
        .dedup_by(|a, b| display_path(&a.0) == display_path(&b.0));
    let mut sources = Vec::with_capacity(found.files.len());
    for (file, kind) in &found.files {
        let name = if *kind == inputs::FileKind::Stdin {
            inputs::STDIN_NAME.to_string()
        } else {
            display_path(file)
        };
        match inputs::read(file, *kind).map_err(fail)? {
            inputs::Read::Bytes(bytes) => sources.push(Source::new(name, bytes)),
            inputs::Read::TooLarge(size) => sources.push(Source::over_limit(name, size)),
        }
    }
    let mut options = Options::default();
    options.vars.0.extend(args.vars.iter().cloned());
    options.limits.trust_policy = args.trust_limit as usize;
    options.json_kind = args.kind.map(Into::into);
    options.loader = Some(crate::Loader::files_under(include_roots(args)));
    options.split = args.split;
    options.compact = args.compact;
    options.limits.managed_policies = args.managed_policy_quota as usize;
    adjust(&mut options);
    Ok(crate::compile(sources, &options))
}

/// A path as shown in diagnostics: as given, with `/` separators.
fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

/// Whether to colour output written to a terminal.
pub fn use_color(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Prints the diagnostics and says whether they fail the command: rendered for people on
/// stderr, or, with `--message-format json|sarif`, in that format alone on stdout.
pub fn report(compilation: &Compilation, args: &CompileArgs) -> bool {
    report_with(compilation, &[], args)
}

/// [`report`], with more diagnostics than the compilation's (a test run's failures): in one
/// SARIF log with them.
pub fn report_with(compilation: &Compilation, extra: &[Diagnostic], args: &CompileArgs) -> bool {
    let color = use_color(args.color);
    let all: Vec<&Diagnostic> = compilation.diagnostics.iter().chain(extra).collect();
    // An accepted warning, shown with where it was accepted and why.
    let shown = |a: &crate::allow::Accepted| {
        a.diagnostic
            .clone()
            .with_label(a.allowed_at, format!("accepted here: {}", a.reason))
    };
    match args.message_format {
        MessageFormat::Sarif => {
            let owned: Vec<Diagnostic> = all.iter().map(|d| (*d).clone()).collect();
            // Accepted warnings are always in the log, as suppressed results with their reason.
            let suppressed: Vec<(Diagnostic, String)> = compilation
                .accepted
                .iter()
                .map(|a| (a.diagnostic.clone(), a.reason.clone()))
                .collect();
            let docs = docs_url(args.docs_url.as_deref());
            out!(
                "{}",
                render::sarif_suppressed(&owned, &suppressed, &compilation.sources, &docs)
            );
        }
        MessageFormat::Json => {
            for d in &all {
                outln!("{}", render::json(d, &compilation.sources));
            }
            if args.show_accepted {
                for a in &compilation.accepted {
                    outln!(
                        "{}",
                        render::json_accepted(&a.diagnostic, &compilation.sources, &a.reason)
                    );
                }
            }
        }
        MessageFormat::Human => {
            let mut renderer = render::Renderer::new(&compilation.sources);
            for d in &all {
                err!("{}", renderer.human(d, color));
            }
            if args.show_accepted {
                for a in &compilation.accepted {
                    err!("{}", renderer.human(&shown(a), color));
                }
            }
        }
    }
    let errors = count(&compilation.diagnostics, Severity::Error);
    let warnings = count(&compilation.diagnostics, Severity::Warning);
    let accepted = compilation.accepted.len();
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    if args.message_format == MessageFormat::Human && (errors > 0 || warnings > 0 || accepted > 0) {
        let mut summary = match (errors, warnings) {
            (0, 0) => String::new(),
            (0, w) => plural(w, "warning"),
            (e, 0) => plural(e, "error"),
            (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
        };
        if accepted > 0 {
            let words = format!("{} accepted", plural(accepted, "warning"));
            summary = if summary.is_empty() {
                words
            } else {
                format!("{summary} ({words})")
            };
        }
        let verdict = if failed { "failed" } else { "passed" };
        errln!("iamx: {verdict} with {summary}");
    }
    failed
}

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity() == severity)
        .count()
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
