//! `iamx simulate`: one request against a compiled project, or a batch of raw JSON requests.

use std::io::{BufRead, Write};
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
        // A policy too large for IAM decides requests all the same; split, it deploys.
        split: true,
        managed_policy_quota: 20,
        compact: false,
        docs_url: None,
        show_accepted: false,
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
    if crate::eval::is_trust_action(action) {
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
    if let Some(problem) = crate::check::action_problem(action) {
        errln!("warning: `{action}` is not an action AWS could know ({problem})");
    }
    for d in crate::check::aws::unknown_actions(&block) {
        let help = d.help.map(|h| format!(" ({h})")).unwrap_or_default();
        errln!("warning: {}{help}", d.message);
    }
    let decision = set.evaluate(&request);
    let reason = set.explain(&request, &decision);
    let mut spans = set.deciding_spans(&decision);
    if let Some(miss) = set.near_miss(&request, &decision) {
        spans.push((miss.at, miss.condition_span.or(set.span_of(miss.at))));
    }
    match args.format {
        Format::Json => {
            let statements: Vec<Value> = spans
                .iter()
                .map(|(at, span)| {
                    let policy = set.policy(*at);
                    let mut v = json!({
                        "policy": policy.map(|p| p.label.clone()),
                        "role": set.role_words(at.role, &request),
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
            outln!(
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
            outln!("{}: {reason}", decision.kind.as_str());
            for (_, span) in spans {
                if let Some(span) = span {
                    let (line, column) = compilation.sources.line_col(span.file, span.start);
                    outln!(
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

/// The longest batch line read: longer ones get an error line, and are skipped without being
/// held in memory.
pub const MAX_BATCH_LINE: usize = 1024 * 1024;

/// One line of a batch, as read.
#[derive(Debug, PartialEq, Eq)]
pub enum BatchLine {
    Text(String),
    /// Not UTF-8: the byte offset (in the line) of the first bad byte.
    NotUtf8(usize),
    /// Longer than [`MAX_BATCH_LINE`]: its length in bytes.
    TooLong(usize),
}

/// Reads the next line (without its `\n` or `\r\n`), holding at most `max` bytes of it:
/// `None` at the end of the input.
pub fn read_batch_line(
    reader: &mut dyn BufRead,
    max: usize,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<BatchLine>> {
    buf.clear();
    let mut len = 0usize;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (piece, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        len += piece.len();
        if len <= max {
            buf.extend_from_slice(piece);
        } else {
            buf.clear();
        }
        let used = done.unwrap_or(piece.len());
        reader.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if len > max {
        return Ok(Some(BatchLine::TooLong(len)));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(match std::str::from_utf8(buf) {
        Ok(text) => BatchLine::Text(text.to_string()),
        Err(e) => BatchLine::NotUtf8(e.valid_up_to()),
    }))
}

/// The answer to one batch line: a decision, or an error.
pub fn batch_record(n: usize, line: &BatchLine) -> Option<(Value, bool)> {
    let text = match line {
        BatchLine::Text(t) if t.trim().is_empty() => return None,
        BatchLine::Text(t) => t,
        BatchLine::NotUtf8(at) => {
            let error = format!("not UTF-8 text: byte {} of the line is invalid", at + 1);
            return Some((json!({"id": Value::Null, "line": n, "error": error}), false));
        }
        BatchLine::TooLong(len) => {
            let error = format!(
                "the line is {len} bytes long; a batch line has at most {MAX_BATCH_LINE} bytes"
            );
            return Some((json!({"id": Value::Null, "line": n, "error": error}), false));
        }
    };
    let parsed: Result<Value, String> =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"));
    let id = parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    Some(match parsed.and_then(|v| batch_line(&v)) {
        Ok((set, request)) => {
            let decision = set.evaluate(&request);
            (
                json!({
                    "id": id,
                    "decision": decision.kind.as_str(),
                    "reason": set.explain(&request, &decision),
                }),
                true,
            )
        }
        Err(error) => (json!({"id": id, "line": n, "error": error}), false),
    })
}

fn batch(path: &PathBuf) -> Exit {
    let stdin = std::io::stdin();
    let mut reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(stdin.lock())
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
    let mut out = stdout.lock();
    let mut failed = false;
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        n += 1;
        let line = match read_batch_line(&mut reader, MAX_BATCH_LINE, &mut buf) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                return fail(format!(
                    "cannot read `{}`: {}",
                    path.display(),
                    io_reason(&e)
                ))
            }
        };
        let Some((record, ok)) = batch_record(n, &line) else {
            continue;
        };
        failed |= !ok;
        // Each answer goes out as soon as it is made.
        // A write that fails (a closed pipe, a full disk) is recorded: the process then ends
        // as `stdio::finish` says (quietly for a closed pipe, exit 2 with a message otherwise).
        if let Err(e) = writeln!(out, "{record}").and_then(|()| out.flush()) {
            super::stdio::record(super::stdio::Stream::Stdout, e);
            return Exit::Usage;
        }
    }
    if failed {
        Exit::Diagnostics
    } else {
        Exit::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `input`, read through a buffer of `capacity` bytes (so lines cross the
    /// reader's chunks), with lines longer than `max` bytes refused.
    fn lines(input: &[u8], capacity: usize, max: usize) -> Vec<BatchLine> {
        let mut reader = std::io::BufReader::with_capacity(capacity, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = read_batch_line(&mut reader, max, &mut buf).unwrap() {
            out.push(line);
        }
        out
    }

    #[test]
    fn batch_lines_are_read_one_by_one_and_bounded() {
        let text = |t: &str| BatchLine::Text(t.to_string());
        let input = "ab\r\né🦀\n\nlast".as_bytes();
        for capacity in [1, 2, 3, 7, 64] {
            assert_eq!(
                lines(input, capacity, 100),
                [text("ab"), text("é🦀"), text(""), text("last")],
                "capacity {capacity}"
            );
        }
        // A long line is refused by its length, and the next line is read whole.
        for capacity in [1, 4, 64] {
            assert_eq!(
                lines(b"0123456789\nok\n", capacity, 5),
                [BatchLine::TooLong(10), text("ok")],
                "capacity {capacity}"
            );
        }
        // A line of exactly the limit is fine.
        assert_eq!(lines(b"12345", 2, 5), [text("12345")]);
        // An invalid byte spoils its own line only, and says where it is.
        assert_eq!(
            lines(b"ok\nab\xffc\n\xe9t\xc3\n", 3, 100),
            [text("ok"), BatchLine::NotUtf8(2), BatchLine::NotUtf8(0)]
        );
        assert!(lines(b"", 4, 100).is_empty());
    }

    #[test]
    fn each_batch_line_gets_an_answer_or_none_when_blank() {
        assert_eq!(batch_record(3, &BatchLine::Text("  \t".into())), None);
        let (record, ok) = batch_record(4, &BatchLine::NotUtf8(7)).unwrap();
        assert!(!ok);
        assert_eq!(record["line"], 4);
        assert_eq!(
            record["error"],
            "not UTF-8 text: byte 8 of the line is invalid"
        );
        let (record, ok) = batch_record(5, &BatchLine::TooLong(MAX_BATCH_LINE + 1)).unwrap();
        assert!(!ok);
        assert!(record["error"]
            .as_str()
            .unwrap()
            .contains("at most 1048576 bytes"));
        let line = r#"{"id": "é", "request": {"principal": "arn:aws:iam::111122223333:user/é", "action": "sts:AssumeRolé"}}"#;
        let (record, ok) = batch_record(6, &BatchLine::Text(line.into())).unwrap();
        assert!(ok, "{record}");
        assert_eq!(record["id"], "é");
        assert_eq!(record["decision"], "ImplicitlyDenied");
    }
}
