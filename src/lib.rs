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

pub mod account;
pub mod account_import;
pub mod allow;
pub mod ast;
pub mod awsdb;
pub mod check;
pub mod cli;
pub mod compact;
pub mod diag;
pub mod diff;
pub mod doc;
pub mod emit;
pub mod eval;
pub mod format;
pub mod guardrail;
pub mod iam;
pub mod import;
pub mod lower;
pub mod parse;
pub mod resolve;
pub mod source;
pub mod split;

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
    /// Set when the reader stopped before the end, the file being larger than
    /// [`MAX_SOURCE_BYTES`]: its size, if known. Such a source is refused (E0002).
    pub over_limit: Option<Option<u64>>,
}

impl Source {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Source {
        Source {
            name: name.into(),
            bytes: bytes.into(),
            over_limit: None,
        }
    }

    /// A file the reader did not read whole, being larger than [`MAX_SOURCE_BYTES`]: its
    /// size if known (a regular file's), `None` for a stream.
    pub fn over_limit(name: impl Into<String>, size: Option<u64>) -> Source {
        Source {
            name: name.into(),
            bytes: Vec::new(),
            over_limit: Some(size),
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
    /// Leave the guardrail analysis unrun (`iamx check --account` runs it on the project and
    /// the account together).
    pub skip_guardrail: bool,
    /// Reads the JSON documents `policy X = json "path"` names. The library does no I/O of its
    /// own: without a loader, such policies are an error.
    pub loader: Option<Loader>,
    /// The back ends the outputs are written for: what they need is checked too (a
    /// CloudFormation template's quotas, E1101; an order of creation, W1103). Empty or `json`
    /// alone: nothing more.
    pub targets: Vec<emit::Target>,
    /// `--split`: customer managed policies over their quota become several (see [`split`]).
    pub split: bool,
    /// `--compact`: statements merged and action lists collapsed, exactly (see [`compact`]).
    pub compact: bool,
}

/// Reads a file named by a source: `(source name, path as written) → text`.
#[derive(Clone)]
pub struct Loader(pub std::sync::Arc<LoadFn>);

/// `(source name, path as written) → text, or why not`.
pub type LoadFn = dyn Fn(&str, &str) -> Result<String, LoadError> + Send + Sync;

/// Why a loader could not read a file: a one-line message, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub message: String,
    pub help: Option<String>,
}

impl From<String> for LoadError {
    fn from(message: String) -> LoadError {
        LoadError {
            message,
            help: None,
        }
    }
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Loader")
    }
}

impl Loader {
    /// A loader that reads files relative to the directory of the source that names them,
    /// from inside the current directory only: [`Loader::files_under`] the current directory.
    pub fn files() -> Loader {
        Loader::files_under(vec![std::path::PathBuf::from(".")])
    }

    /// A loader that reads files relative to the directory of the source that names them, if
    /// they are inside one of `roots` once symlinks are resolved (what the command does, with
    /// the project's directories and those `--allow-include` names). It reads regular files
    /// only, and none larger than [`MAX_SOURCE_BYTES`].
    pub fn files_under(roots: Vec<std::path::PathBuf>) -> Loader {
        // Roots that do not exist hold no file: leave them out.
        let roots: Vec<std::path::PathBuf> = roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .collect();
        Loader(std::sync::Arc::new(move |source: &str, path: &str| {
            read_included(source, path, Some(&roots))
        }))
    }

    /// A loader that reads any file a source names, wherever it is: for sources the user
    /// wrote. Regular files only, and none larger than [`MAX_SOURCE_BYTES`].
    pub fn files_anywhere() -> Loader {
        Loader(std::sync::Arc::new(|source: &str, path: &str| {
            read_included(source, path, None)
        }))
    }
}

/// Reads `path` relative to the directory of `source`, confined to `roots` if given.
fn read_included(
    source: &str,
    path: &str,
    roots: Option<&[std::path::PathBuf]>,
) -> Result<String, LoadError> {
    use cli::inputs::{read, FileKind, Read};
    let base = std::path::Path::new(source)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    let full = base.join(path);
    let cannot =
        |e: std::io::Error| format!("cannot read `{}`: {}", full.display(), cli::io_reason(&e));
    // The file itself, symlinks resolved: what is checked is what is read.
    let real = std::fs::canonicalize(&full).map_err(cannot)?;
    if let Some(roots) = roots {
        if !roots.iter().any(|root| real.starts_with(root)) {
            return Err(LoadError {
                message: format!("`{path}` is outside the project directory"),
                help: Some(
                    "iamx reads included documents only from inside the project; to allow \
                     another directory, pass `--allow-include DIR`"
                        .to_string(),
                ),
            });
        }
    }
    let bytes = match read(&real, FileKind::Regular) {
        Ok(Read::Bytes(bytes)) => bytes,
        Ok(Read::TooLarge(size)) => {
            let size = size.map_or(format!("over {MAX_SOURCE_BYTES} bytes"), |s| {
                format!("{s} bytes")
            });
            return Err(LoadError {
                message: format!("`{}` is {size}", full.display()),
                help: Some(format!(
                    "iamx reads policy documents of at most {MAX_SOURCE_BYTES} bytes"
                )),
            });
        }
        Err(_) if !real.is_file() => {
            return Err(LoadError {
                message: format!("cannot read `{}`: it is not a regular file", full.display()),
                help: Some(
                    "iamx reads policy documents from regular files only, not from FIFOs, \
                     devices or sockets"
                        .to_string(),
                ),
            })
        }
        Err(why) => return Err(why.into()),
    };
    String::from_utf8(bytes)
        .map_err(|_| format!("cannot read `{}`: it is not UTF-8 text", full.display()).into())
}

/// Reads the JSON documents that `policy X = json "…"` items name, into the source map; the
/// documents by the span of their path string.
fn load_included(
    map: &mut SourceMap,
    modules: &[ast::Module],
    options: &Options,
    diagnostics: &mut Vec<Diagnostic>,
) -> std::collections::HashMap<Span, iam::Policy> {
    let mut out = std::collections::HashMap::new();
    for module in modules {
        for item in &module.items {
            let ast::Item::Policy(p) = item else { continue };
            let Some(path) = &p.json else { continue };
            let source_name = map.get(module.file).name.clone();
            let text = match &options.loader {
                Some(loader) => (loader.0)(&source_name, &path.raw),
                None => Err(LoadError::from(
                    "this build reads no files (no loader was given)".to_string(),
                )),
            };
            let text = match text {
                Ok(t) => t,
                Err(why) => {
                    let help = why
                        .help
                        .unwrap_or_else(|| "the path is relative to the file that names it".into());
                    diagnostics.push(
                        Diagnostic::new(Code::IncludeUnreadable, why.message)
                            .at(path.span, "this document")
                            .help(help),
                    );
                    continue;
                }
            };
            let name = match std::path::Path::new(&source_name).parent() {
                Some(dir) if !dir.as_os_str().is_empty() => {
                    format!("{}/{}", dir.display(), path.raw)
                }
                _ => path.raw.clone(),
            };
            let id = map.add(name, text);
            let kind = match p.kind {
                ast::PolicyKind::Boundary => iam::from_json::JsonKind::Boundary,
                ast::PolicyKind::Managed => iam::from_json::JsonKind::Identity,
            };
            let (policy, found) = iam::from_json::read_policy(id, &map.get(id).text, Some(kind));
            diagnostics.extend(found);
            if let Some(policy) = policy {
                out.insert(path.span, policy.policy);
            }
        }
    }
    out
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
    /// Warnings an `@allow(CODE, "reason")` accepted: not among `diagnostics`.
    pub accepted: Vec<allow::Accepted>,
    /// The project's `@allow`s, for analyses that add warnings later (an account's, with
    /// `iamx check --account`).
    pub allowances: Vec<allow::Allowance>,
    pub project: Option<iam::Project>,
    /// The guardrail's closure per boundary and principal, when the project compiled.
    pub guardrail: Option<guardrail::Report>,
}

impl Compilation {
    /// A compilation that stopped before it had a project: its diagnostics, sorted.
    fn without_project(sources: SourceMap, mut diagnostics: Vec<Diagnostic>) -> Compilation {
        diag::sort(&mut diagnostics);
        Compilation {
            sources,
            diagnostics,
            accepted: Vec::new(),
            allowances: Vec::new(),
            project: None,
            guardrail: None,
        }
    }

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
    load_limited(
        map,
        source,
        MAX_SOURCE_BYTES,
        "split the project into several files in one directory",
        diagnostics,
    )
}

/// [`load`], with a size limit of its own and the help for a file over it.
fn load_limited(
    map: &mut SourceMap,
    source: Source,
    limit: usize,
    split: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<source::FileId> {
    let over_limit = match source.over_limit {
        Some(size) => Some(size),
        None if source.bytes.len() > limit => Some(Some(source.bytes.len() as u64)),
        None => None,
    };
    if let Some(size) = over_limit {
        let id = map.add(source.name, "");
        let message = match size {
            Some(size) => {
                format!("file is {size} bytes; iamx reads files of at most {limit} bytes")
            }
            None => format!("file is over {limit} bytes, the most iamx reads"),
        };
        diagnostics.push(
            Diagnostic::new(Code::FileTooLarge, message)
                .at(Span::new(id, 0, 0), "this file")
                .help(split),
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
    let mut loaded = Vec::new();
    for source in sources {
        let name = source.name.clone();
        if let Some(id) = load(map, source, diagnostics) {
            loaded.push((id, name));
        }
    }
    let map: &SourceMap = map;
    let check_one = |(id, name): &(source::FileId, String)| -> Vec<Diagnostic> {
        let (policy, mut out) =
            iam::from_json::read_policy(*id, &map.get(*id).text, options.json_kind);
        if let Some(policy) = policy {
            let stem = name
                .rsplit('/')
                .next()
                .unwrap_or(name)
                .trim_end_matches(".json")
                .to_string();
            let document = policy.into_document(stem);
            let mut found = check::document(&document, &options.limits);
            if options.json_kind.is_none() {
                // Whether a detected identity policy is customer managed or inline (or AWS
                // managed, with a quota of its own) is unknown: sizes are checked with `--kind`.
                found.retain(|d| d.code != Code::PolicyTooLarge);
            }
            out.extend(found);
        }
        out
    };
    // Documents are checked apart from each other: many of them (a directory of exported
    // policies) are shared between the machine's cores, and the findings put back in order.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || loaded.len() < 64 {
        for file in &loaded {
            diagnostics.extend(check_one(file));
        }
        return;
    }
    let chunk = loaded.len().div_ceil(threads);
    let results: Vec<Vec<Diagnostic>> = std::thread::scope(|scope| {
        let handles: Vec<_> = loaded
            .chunks(chunk)
            .map(|files| scope.spawn(move || files.iter().flat_map(check_one).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(found) => found,
                // A panic is a bug: it goes on as one, never as findings quietly lost.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    diagnostics.extend(results.into_iter().flatten());
}

/// Parses, resolves and lowers `.iamx` sources, without the checks: the documents iamx would
/// write for them, or `None` with the diagnostics when they do not lower. `iamx import` reads its
/// own output back with it, to prove the file says what the JSON said.
pub fn lower_sources(
    sources: Vec<Source>,
    options: &Options,
) -> (Option<iam::Project>, Vec<Diagnostic>) {
    let mut map = SourceMap::new();
    let mut diagnostics = Vec::new();
    let modules = parse_into(&mut map, sources, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    let included = std::collections::HashMap::new();
    let scope = resolve::resolve(&modules, &options.vars);
    let project = lower::lower(&modules, &scope, &included);
    diagnostics.extend(scope.finish());
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    ((!failed).then_some(project), diagnostics)
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
    // Without `.iamx` sources there is no project; with a file that did not parse, its names
    // would all look unknown: stop here.
    if !has_iamx || diagnostics.iter().any(Diagnostic::is_error) {
        return Compilation::without_project(map, diagnostics);
    }
    let included = load_included(&mut map, &modules, options, &mut diagnostics);
    let (allowances, malformed) = allow::collect(&modules);
    diagnostics.extend(malformed);
    let scope = resolve::resolve(&modules, &options.vars);
    let mut project = lower::lower(&modules, &scope, &included);
    diagnostics.extend(scope.finish());
    // Policies `--split` could not split: their E0305 would only repeat E1102.
    if options.compact && !diagnostics.iter().any(Diagnostic::is_error) {
        compact::compact(&mut project);
    }
    let mut unsplit = Vec::new();
    let marked =
        project.documents.iter().any(|d| d.split) || project.principals.iter().any(|p| p.split);
    if (options.split || marked) && !diagnostics.iter().any(Diagnostic::is_error) {
        let found = split::split_where(&mut project, &options.limits, options.split);
        // The attachments E1105 points at: W0306 and E0307 about them would only repeat it.
        unsplit.extend(
            found
                .iter()
                .filter(|d| d.code == Code::SplitOverManagedQuota)
                .flat_map(|d| d.labels.iter().map(|l| l.span)),
        );
        unsplit.extend(
            found
                .iter()
                .filter(|d| d.code == Code::StatementTooLarge)
                .flat_map(|d| d.labels.iter().map(|l| l.span)),
        );
        diagnostics.extend(found);
    }
    diagnostics.extend(
        check::check(&project, &options.limits)
            .into_iter()
            .filter(|d| {
                !matches!(
                    d.code,
                    Code::PolicyTooLarge | Code::ManyManagedPolicies | Code::TooManyManagedPolicies
                ) || !d.span.is_some_and(|s| unsplit.contains(&s))
            }),
    );
    if !options.skip_tests && !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.extend(eval::suite::failures(&project));
    }
    let mut guardrail = None;
    if !options.skip_guardrail && !diagnostics.iter().any(Diagnostic::is_error) {
        let (report, found) = guardrail::analyze(&project);
        diagnostics.extend(found);
        guardrail = Some(report);
    }
    if !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.extend(emit::check(&project, &options.targets));
    }
    // An `@allow` that accepts nothing is said only when every check ran: after an error, or
    // without the guardrail or the tests, its warning may just not have been looked for.
    let complete = !options.skip_guardrail
        && !options.skip_tests
        && !diagnostics.iter().any(Diagnostic::is_error);
    let accepted = allow::apply(&allowances, &mut diagnostics, complete);
    diag::sort(&mut diagnostics);
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    Compilation {
        sources: map,
        diagnostics,
        accepted,
        allowances,
        project: (!failed).then_some(project),
        guardrail,
    }
}

/// The guardrail analysis of one principal written as JSON: its identity policy documents,
/// its permissions boundary, and the managed policies they refer to by ARN (`--managed
/// ARN=FILE`; a boundary the principal must hand on, say). Findings point into the JSON.
pub fn analyze_principal(
    identity: Vec<Source>,
    boundary: Option<Source>,
    managed: Vec<(String, Source)>,
    options: &Options,
) -> Compilation {
    use guardrail::{BoundaryInfo, Subject, World};
    let mut map = SourceMap::new();
    let mut diagnostics = Vec::new();
    let read = |map: &mut SourceMap,
                source: Source,
                kind: iam::from_json::JsonKind,
                diagnostics: &mut Vec<Diagnostic>|
     -> Option<(String, iam::Document)> {
        let name = source.name.clone();
        let id = load(map, source, diagnostics)?;
        let (policy, found) = iam::from_json::read_policy(id, &map.get(id).text, Some(kind));
        diagnostics.extend(found);
        let stem = name
            .rsplit('/')
            .next()
            .unwrap_or(&name)
            .trim_end_matches(".json")
            .to_string();
        let document = policy?.into_document(stem);
        diagnostics.extend(check::document(&document, &options.limits));
        Some((name, document))
    };
    use iam::from_json::JsonKind;
    let identity: Vec<(String, iam::Document)> = identity
        .into_iter()
        .filter_map(|s| read(&mut map, s, JsonKind::Identity, &mut diagnostics))
        .collect();
    let boundary_source = boundary.as_ref().map(|b| b.name.clone());
    let boundary = boundary.and_then(|s| read(&mut map, s, JsonKind::Boundary, &mut diagnostics));
    let managed: Vec<(String, String, iam::Document)> = managed
        .into_iter()
        .filter_map(|(arn, s)| {
            let file = s.name.clone();
            read(&mut map, s, JsonKind::Identity, &mut diagnostics).map(|(_, d)| (arn, file, d))
        })
        .collect();
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Compilation::without_project(map, diagnostics);
    }
    // The account: the first one an ARN of the documents names.
    let account = managed
        .iter()
        .map(|(arn, _, _)| arn.clone())
        .chain(identity.iter().chain(boundary.iter()).flat_map(|(_, d)| {
            d.policy
                .statements
                .iter()
                .flat_map(|s| {
                    s.resource
                        .iter()
                        .flat_map(|r| r.values.iter().map(|v| v.value.clone()))
                })
                .collect::<Vec<_>>()
        }))
        .find_map(|arn| {
            let account = arn.split(':').nth(4)?.to_string();
            (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
        })
        .unwrap_or_else(|| "123456789012".to_string());
    let partition = "aws".to_string();
    // The boundary's ARN: given with `--managed ARN=FILE`, or else the one boundary ARN the
    // identity policies name in `iam:PermissionsBoundary` conditions.
    let named: Vec<String> = {
        let mut named: Vec<String> = identity
            .iter()
            .flat_map(|(_, d)| d.policy.statements.iter())
            .flat_map(|s| s.conditions.iter())
            .filter(|c| c.key.eq_ignore_ascii_case("iam:PermissionsBoundary"))
            .flat_map(|c| c.values.iter().cloned())
            .collect();
        named.sort();
        named.dedup();
        named
    };
    let boundary = boundary.map(|(name, document)| {
        let arn = managed
            .iter()
            .find(|(_, file, _)| Some(file) == boundary_source.as_ref())
            .map(|(arn, _, _)| arn.clone())
            .or_else(|| (named.len() == 1).then(|| named[0].clone()))
            .unwrap_or_else(|| format!("arn:{partition}:iam::{account}:policy/{}", document.name));
        let stem = arn.rsplit('/').next().unwrap_or(&arn).to_string();
        BoundaryInfo {
            name: stem,
            label: format!("boundary {name}"),
            arn,
            // A boundary iamx built: its guard, read back.
            guard: guardrail::spec::recognize(&document.policy),
            policy: document.policy,
            span: document.span,
        }
    });
    let world = World {
        partition: partition.clone(),
        account: account.clone(),
        principals: Vec::new(),
        attachments: managed
            .iter()
            // Where they are attached is not known: anywhere.
            .map(|(arn, _, _)| (arn.clone(), None))
            .collect(),
        groups: Vec::new(),
        boundaries: boundary.iter().map(|b| b.arn.clone()).collect(),
        ..World::default()
    };
    let arn = format!("arn:{partition}:iam::{account}:user/iamx-principal");
    let mut context = eval::Context::default();
    context.insert("aws:username", vec!["iamx-principal".into()]);
    context.insert("aws:PrincipalArn", vec![arn.clone()]);
    context.insert("aws:PrincipalAccount", vec![account.clone()]);
    let subject = Subject {
        name: "the principal".into(),
        display: "the principal of these policies".into(),
        kind: iam::PrincipalKind::User,
        arn: arn.clone(),
        caller: arn,
        identity: identity
            .into_iter()
            .map(|(name, d)| (name, d.policy))
            .collect(),
        boundary: boundary.clone(),
        own_policies: Vec::new(),
        context,
        span: None,
        delegates: false,
        unknown_boundary: None,
    };
    let mut report = guardrail::Report::default();
    if let Some(b) = &boundary {
        let (closed, found) = guardrail::analyze_boundary(&world, b);
        report.boundaries.push(guardrail::Closure {
            name: b.name.clone(),
            closed,
            bounded: true,
            findings: found.clone(),
        });
        diagnostics.extend(found);
    }
    let (closed, found) = guardrail::analyze_principal(&world, &subject);
    report.principals.push(guardrail::Closure {
        name: subject.name.clone(),
        closed,
        bounded: boundary.is_some(),
        findings: found.clone(),
    });
    diagnostics.extend(found);
    diag::sort(&mut diagnostics);
    Compilation {
        sources: map,
        diagnostics,
        accepted: Vec::new(),
        allowances: Vec::new(),
        project: None,
        guardrail: Some(report),
    }
}
