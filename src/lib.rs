//! iamx: a compiler for a small policy-as-code language for AWS IAM.
//!
//! ```text
//! source ─▶ parse (ast) ─▶ resolve (scope) ─▶ lower (iam model) ─▶ check ─▶ emit
//! ```
//!
//! [`compile`] runs the whole pipeline with no I/O: sources in, documents and diagnostics out.
//! It is what the `iamx` command calls, and what a build script calls:
//!
//! ```
//! let sources = vec![iamx::Source::new("main.iamx", r#"
//!     account "123456789012"
//!     policy ReadLogs { allow logs:GetLogEvents on * }
//! "#)];
//! let result = iamx::compile(sources, &iamx::Options::default());
//! assert!(!result.has_errors());
//! let files = iamx::emit::files(result.project.as_ref().unwrap());
//! assert_eq!(files[0].path, "policies/ReadLogs.json");
//! ```

pub mod ast;
pub mod awsdb;
pub mod check;
pub mod cli;
pub mod diag;
pub mod emit;
pub mod eval;
pub mod guard;
pub mod iam;
pub mod lower;
pub mod parse;
pub mod resolve;
pub mod source;

use diag::{Code, Diagnostic};
use source::{SourceMap, Span};

pub use resolve::Vars;

/// The largest source file iamx reads: far above any real project, low enough to stay fast.
pub const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;

/// One input: a display name (usually the path) and its bytes, not yet known to be UTF-8.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Source {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Source {
        Source {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

/// What a compilation may be told.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Values for params: `--var NAME=VALUE`.
    pub vars: Vars,
    pub limits: check::Limits,
    /// What JSON policy documents among the sources are; detected from their content if `None`.
    pub json_kind: Option<iam::from_json::JsonKind>,
    /// Leave the project's `test` blocks unrun (`iamx test` runs them itself, to report each).
    pub skip_tests: bool,
}

/// Whether a source is an IAM JSON policy document (by its name) rather than `.iamx`.
pub fn is_json(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".json")
}

/// The result of [`compile`]: the sources (to render diagnostics against), every diagnostic
/// sorted by place, and the project when there were no errors.
#[derive(Debug)]
pub struct Compilation {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub project: Option<iam::Project>,
    /// The guardrail's closure per boundary and principal, when the project compiled.
    pub guardrail: Option<check::guardrail::Report>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads the bytes of a source into the map, checking size and encoding.
fn load(
    map: &mut SourceMap,
    source: Source,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<source::FileId> {
    if source.bytes.len() > MAX_SOURCE_BYTES {
        let id = map.add(source.name, "");
        diagnostics.push(
            Diagnostic::new(
                Code::FileTooLarge,
                format!(
                    "file is {} bytes; iamx reads files of at most {} bytes",
                    source.bytes.len(),
                    MAX_SOURCE_BYTES
                ),
            )
            .at(Span::new(id, 0, 0), "this file")
            .help("split the project into several files in one directory"),
        );
        return None;
    }
    match String::from_utf8(source.bytes) {
        Ok(text) => Some(map.add(source.name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let id = map.add(source.name, text);
            diagnostics.push(
                Diagnostic::new(Code::InvalidUtf8, "file is not valid UTF-8")
                    .at(Span::new(id, at, at + 1), "this byte is not UTF-8")
                    .help("iamx reads UTF-8 text: convert the file to UTF-8 (it may be Latin-1), or leave binary files out"),
            );
            None
        }
    }
}

/// Parses every source. Files that fail to load or parse are reported and left out.
pub fn parse_sources(sources: Vec<Source>) -> (SourceMap, Vec<ast::Module>, Vec<Diagnostic>) {
    let mut map = SourceMap::new();
    let mut diagnostics = Vec::new();
    let modules = parse_into(&mut map, sources, &mut diagnostics);
    (map, modules, diagnostics)
}

fn parse_into(
    map: &mut SourceMap,
    sources: Vec<Source>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<ast::Module> {
    let mut modules = Vec::new();
    for source in sources {
        let Some(id) = load(map, source, diagnostics) else {
            continue;
        };
        match parse::parse_file(id, &map.get(id).text) {
            Ok(module) => {
                if module.items.is_empty() {
                    let len = map.get(id).text.len();
                    diagnostics.push(
                        Diagnostic::new(
                            Code::NothingDeclared,
                            format!("`{}` declares nothing", map.get(id).name),
                        )
                        .at(Span::new(id, 0, len.min(1)), "no items in this file")
                        .help(
                            "declare a policy, boundary, role, user or group, or remove the file",
                        ),
                    );
                }
                modules.push(module);
            }
            Err(d) => diagnostics.push(d),
        }
    }
    modules
}

/// Reads and checks IAM JSON policy documents: the same rules as for compiled policies, with
/// spans in the JSON text.
fn check_json(
    map: &mut SourceMap,
    sources: Vec<Source>,
    options: &Options,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for source in sources {
        let name = source.name.clone();
        let Some(id) = load(map, source, diagnostics) else {
            continue;
        };
        let (policy, found) = iam::from_json::read_policy(id, &map.get(id).text, options.json_kind);
        diagnostics.extend(found);
        if let Some(policy) = policy {
            let stem = name
                .rsplit('/')
                .next()
                .unwrap_or(&name)
                .trim_end_matches(".json")
                .to_string();
            let document = policy.into_document(stem);
            let mut found = check::document(&document, &options.limits);
            if options.json_kind.is_none() {
                // Whether a detected identity policy is customer managed or inline (or AWS
                // managed, with a quota of its own) is unknown: sizes are checked with `--kind`.
                found.retain(|d| d.code != Code::PolicyTooLarge);
            }
            diagnostics.extend(found);
        }
    }
}

/// Compiles a project: every source is one file of it, sharing one namespace.
///
/// Sources named `*.json` are IAM JSON policy documents: they are checked with the same rules,
/// but are not part of the project and produce no output.
pub fn compile(sources: Vec<Source>, options: &Options) -> Compilation {
    let (json, sources): (Vec<Source>, Vec<Source>) =
        sources.into_iter().partition(|s| is_json(&s.name));
    let mut map = SourceMap::new();
    let mut diagnostics = Vec::new();
    let has_iamx = !sources.is_empty();
    let modules = parse_into(&mut map, sources, &mut diagnostics);
    check_json(&mut map, json, options, &mut diagnostics);
    if !has_iamx {
        diag::sort(&mut diagnostics);
        return Compilation {
            sources: map,
            diagnostics,
            project: None,
            guardrail: None,
        };
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        // Names declared in a file that did not parse would all look unknown: stop here.
        diag::sort(&mut diagnostics);
        return Compilation {
            sources: map,
            diagnostics,
            project: None,
            guardrail: None,
        };
    }
    let scope = resolve::resolve(&modules, &options.vars);
    let project = lower::lower(&modules, &scope);
    diagnostics.extend(scope.finish());
    diagnostics.extend(check::check(&project, &options.limits));
    if !options.skip_tests && !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.extend(eval::suite::failures(&project));
    }
    let mut guardrail = None;
    if !diagnostics.iter().any(Diagnostic::is_error) {
        let (report, found) = check::guardrail::analyze(&project);
        diagnostics.extend(found);
        guardrail = Some(report);
    }
    diag::sort(&mut diagnostics);
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    Compilation {
        sources: map,
        diagnostics,
        project: (!failed).then_some(project),
        guardrail,
    }
}
