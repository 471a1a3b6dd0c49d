//! `iamx simulate`: one request against a compiled project, or a batch of raw JSON requests.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use super::{fail, io_reason, report, CompileArgs, Exit};
use crate::eval::{project, CompiledPolicy, Context, PolicySet, Request};
use crate::iam::from_json::{read_policy, JsonKind};
use crate::iam::PrincipalKind;
use crate::source::FileId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Evaluate raw JSON requests, one per line, from FILE (`-` for stdin), instead of a project.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["principal", "words"])]
    pub batch: Option<PathBuf>,
    /// The principal making the request: `user/NAME` or `role/NAME` of the project.
    #[arg(
        long = "as",
        value_name = "KIND/NAME",
        required_unless_present = "batch"
    )]
    pub principal: Option<String>,
    /// The request's context: `--context aws:SourceIp=10.1.2.3`; repeat a key for several values.
    #[arg(long, value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// How to print the decision.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// ACTION [RESOURCE] INPUT...: the action, the resource's ARN (or `*`, the default), then
    /// the project's `.iamx` files or directories.
    #[arg(value_name = "ACTION [RESOURCE] INPUT", num_args = 0..)]
    pub words: Vec<String>,
    #[command(flatten)]
    pub compile: SimulateCompileArgs,
}

/// The compile flags simulate shares (inputs come from the positional words).
#[derive(Args, Debug)]
pub struct SimulateCompileArgs {
    /// Set a param: `--var env=prod`.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = super::parse_var)]
    pub vars: Vec<(String, String)>,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = super::Color::Auto)]
    pub color: super::Color,
}

pub fn run(args: SimulateArgs) -> Exit {
    match &args.batch {
        Some(path) => batch(path),
        None => one(&args),
    }
}

fn one(args: &SimulateArgs) -> Exit {
    let Some(who) = &args.principal else {
        return fail("`--as KIND/NAME` names the principal");
    };
    let mut words = args.words.iter();
    let Some(action) = words.next() else {
        return fail(
            "name the action to simulate: `iamx simulate --as user/NAME s3:GetObject DIR`",
        );
    };
    let rest: Vec<&String> = words.collect();
    let (resource, inputs) = match rest.first() {
        Some(r) if r.starts_with("arn:") || r.as_str() == "*" => (r.to_string(), &rest[1..]),
        _ => ("*".to_string(), &rest[..]),
    };
    if inputs.is_empty() {
        return fail("name the project to simulate against: `.iamx` files or a directory");
    }
    let compile = CompileArgs {
        inputs: inputs.iter().map(PathBuf::from).collect(),
        vars: args.compile.vars.clone(),
        trust_limit: 2048,
        message_format: super::MessageFormat::Human,
        color: args.compile.color,
        deny_warnings: false,
        kind: None,
        allow_include: Vec::new(),
    };
    // The project's tests may fail: simulate is how one finds out why.
    let compilation = match super::compile_inputs_with(&compile, |o| o.skip_tests = true) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    // Only errors stop a simulation; the project's warnings are `iamx check`'s to report.
    if compilation.has_errors() {
        report(&compilation, &compile);
        return Exit::Diagnostics;
    }
    let Some(project) = compilation.project else {
        return Exit::Diagnostics;
    };
    let (kind, name) = match who.split_once('/') {
        Some(("user", n)) => (PrincipalKind::User, n),
        Some(("role", n)) => (PrincipalKind::Role, n),
        _ => return fail(format!("`--as {who}`: write `user/NAME` or `role/NAME`")),
    };
    let Some(principal) = project
        .principals
        .iter()
        .find(|p| p.kind == kind && p.name == name)
    else {
        let names = project
            .principals
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.name.as_str());
        let hint = crate::diag::did_you_mean(crate::diag::suggest(name, names))
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        return fail(format!(
            "the project has no {} `{name}`{hint}",
            kind.as_str()
        ));
    };
    let mut set = match project::policy_set(&project, principal) {
        Ok(set) => set,
        Err(missing) => {
            return fail(format!(
                "the policy `{}` is neither the project's nor an AWS managed policy, so it cannot be evaluated",
                missing.0
            ))
        }
    };
    if action.to_ascii_lowercase().starts_with("sts:assumerole") {
        set.resource = project::trust_policy(&project, &resource);
    }
    let mut request = Request::new(&project::caller_arn(&project, principal), action, &resource);
    request.context = project::principal_context(&project, principal);
    for pair in &args.context {
        let Some((key, value)) = pair.split_once('=') else {
            return fail(format!("`--context {pair}`: write KEY=VALUE"));
        };
        let mut values = request
            .context
            .get(&key.to_ascii_lowercase())
            .map(|v| v.to_vec())
            .unwrap_or_default();
        if args
            .context
            .iter()
            .filter(|p| p.starts_with(&format!("{key}=")))
            .count()
            > 1
        {
            values.push(value.to_string());
        } else {
            values = vec![value.to_string()];
        }
        request.context.insert(key, values);
    }
    // A misspelled action is denied like any other: say so, rather than let it look real.
    let block = crate::iam::Block {
        not: false,
        values: vec![crate::iam::Spanned::new(action.to_string(), None)],
        span: None,
    };
    for d in crate::check::aws::unknown_actions(&block) {
        let help = d.help.map(|h| format!(" ({h})")).unwrap_or_default();
        eprintln!("warning: {}{help}", d.message);
    }
    let decision = set.evaluate(&request);
    let reason = set.explain(&request, &decision);
    let spans = set.deciding_spans(&decision);
    match args.format {
        Format::Json => {
            let statements: Vec<Value> = spans
                .iter()
                .map(|(at, span)| {
                    let policy = set.policy(*at);
                    let mut v = json!({
                        "policy": policy.map(|p| p.label.clone()),
                        "role": at.role.words(),
                        "sid": policy.and_then(|p| p.origins.get(at.statement)).and_then(|o| o.0.clone()),
                    });
                    if let Some(span) = span {
                        let (line, column) = compilation.sources.line_col(span.file, span.start);
                        v["file"] = json!(compilation.sources.get(span.file).name);
                        v["line"] = json!(line);
                        v["column"] = json!(column);
                    }
                    v
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "principal": request.principal,
                    "action": request.action,
                    "resource": request.resource,
                    "decision": decision.kind.as_str(),
                    "reason": reason,
                    "statements": statements,
                }))
                .unwrap_or_default()
            );
        }
        Format::Text => {
            println!("{}: {reason}", decision.kind.as_str());
            for (_, span) in spans {
                if let Some(span) = span {
                    let (line, column) = compilation.sources.line_col(span.file, span.start);
                    println!(
                        "  at {}:{line}:{column}",
                        compilation.sources.get(span.file).name
                    );
                }
            }
        }
    }
    Exit::Success
}

/// Reads one policy document of a batch line.
fn document(value: &Value, what: &str, kind: Option<JsonKind>) -> Result<CompiledPolicy, String> {
    let text = value.to_string();
    let (policy, diagnostics) = read_policy(FileId(0), &text, kind);
    match policy {
        Some(p) => {
            // Policy variables are substituted only in the `2012-10-17` language.
            let variables = p.version.as_ref().is_some_and(|v| v.value == "2012-10-17");
            Ok(CompiledPolicy::with_variables(what, &p.policy, variables))
        }
        None => Err(format!(
            "{what}: {}",
            diagnostics
                .iter()
                .find(|d| d.is_error())
                .map_or("not a policy document".to_string(), |d| d.message.clone())
        )),
    }
}

fn documents(
    value: Option<&Value>,
    what: &str,
    kind: Option<JsonKind>,
) -> Result<Vec<CompiledPolicy>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, d)| document(d, &format!("{what}[{i}]"), kind))
            .collect(),
        Some(_) => Err(format!("`{what}` is a list of policy documents")),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses one batch line into a policy set and a request.
pub fn batch_line(line: &Value) -> Result<(PolicySet, Request), String> {
    let object = line.as_object().ok_or("a line is a JSON object")?;
    let mut set = PolicySet {
        identity: documents(object.get("identity"), "identity", Some(JsonKind::Identity))?,
        scps: documents(object.get("scps"), "scps", Some(JsonKind::Identity))?,
        session: documents(object.get("session"), "session", Some(JsonKind::Identity))?,
        ..Default::default()
    };
    match object.get("boundary") {
        None | Some(Value::Null) => {}
        Some(doc) => set.boundary = Some(document(doc, "boundary", Some(JsonKind::Boundary))?),
    }
    match object.get("resource_policy") {
        None | Some(Value::Null) => {}
        Some(doc) => set.resource = Some(document(doc, "resource_policy", None)?),
    }
    let request = object
        .get("request")
        .and_then(Value::as_object)
        .ok_or("`request` is missing")?;
    let field = |name: &str| -> Result<String, String> {
        request
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("`request.{name}` is missing"))
    };
    let mut req = Request::new(
        &field("principal")?,
        &field("action")?,
        request
            .get("resource")
            .and_then(Value::as_str)
            .unwrap_or("*"),
    );
    let mut context = Context::default();
    if let Some(map) = request.get("context") {
        let map = map.as_object().ok_or("`request.context` is an object")?;
        for (key, value) in map {
            let values = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|v| {
                        text(v).ok_or_else(|| {
                            format!("context key `{key}`: values are strings, numbers or booleans")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![text(other).ok_or_else(|| {
                    format!(
                        "context key `{key}`: a value is a string, a number, a boolean or a list"
                    )
                })?],
            };
            context.insert(key, values);
        }
    }
    req.context = context;
    Ok((set, req))
}

fn batch(path: &PathBuf) -> Exit {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(path) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                return fail(format!(
                    "cannot read `{}`: {}",
                    path.display(),
                    io_reason(&e)
                ))
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = false;
    for (n, line) in reader.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                return fail(format!(
                    "cannot read `{}`: {}",
                    path.display(),
                    io_reason(&e)
                ))
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<Value, String> =
            serde_json::from_str(&line).map_err(|e| format!("not JSON: {e}"));
        let id = parsed
            .as_ref()
            .ok()
            .and_then(|v| v.get("id"))
            .cloned()
            .unwrap_or(Value::Null);
        let result = parsed.and_then(|v| batch_line(&v));
        let record = match result {
            Ok((set, request)) => {
                let decision = set.evaluate(&request);
                json!({
                    "id": id,
                    "decision": decision.kind.as_str(),
                    "reason": set.explain(&request, &decision),
                })
            }
            Err(error) => {
                failed = true;
                json!({"id": id, "line": n + 1, "error": error})
            }
        };
        if writeln!(out, "{record}").is_err() {
            return Exit::Usage;
        }
    }
    let _ = out.flush();
    if failed {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}
