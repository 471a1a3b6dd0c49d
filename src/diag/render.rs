//! The only place that knows ariadne: diagnostics rendered for people, or as JSON lines.

use std::ops::Range;

use ariadne::{Config, IndexType, Label as AriadneLabel, Report, ReportKind};
use serde_json::{json, Map, Value};

use super::{Diagnostic, Severity};
use crate::source::{SourceMap, Span};

/// Renders one diagnostic for a terminal: the message, the source with its spans underlined,
/// and the help. `color` switches ANSI colours on. To render many, use a [`Renderer`], which
/// reads each file's lines once.
pub fn human(diagnostic: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    Renderer::new(sources).human(diagnostic, color)
}

/// Renders diagnostics against one source map, keeping each file's lines between calls.
pub struct Renderer<'a> {
    sources: &'a SourceMap,
    cache: Files,
}

/// The files ariadne reads, by name, split into lines on first use.
struct Files(std::collections::HashMap<String, ariadne::Source<String>>);

impl ariadne::Cache<String> for Files {
    type Storage = String;

    fn fetch(&mut self, id: &String) -> Result<&ariadne::Source<String>, impl std::fmt::Debug> {
        self.0.get(id).ok_or_else(|| format!("no source `{id}`"))
    }

    fn display<'b>(&self, id: &'b String) -> Option<impl std::fmt::Display + 'b> {
        Some(id.clone())
    }
}

impl<'a> Renderer<'a> {
    pub fn new(sources: &'a SourceMap) -> Renderer<'a> {
        Renderer {
            sources,
            cache: Files(std::collections::HashMap::new()),
        }
    }

    fn load(&mut self, span: Span) {
        let file = self.sources.get(span.file);
        if !self.cache.0.contains_key(&file.name) {
            self.cache
                .0
                .insert(file.name.clone(), ariadne::Source::from(file.text.clone()));
        }
    }

    pub fn human(&mut self, diagnostic: &Diagnostic, color: bool) -> String {
        let sources = self.sources;
        if let Some(span) = diagnostic.span {
            self.load(span);
        }
        for label in &diagnostic.labels {
            self.load(label.span);
        }
        render_human(diagnostic, sources, color, &mut self.cache)
    }
}

fn render_human(
    diagnostic: &Diagnostic,
    sources: &SourceMap,
    color: bool,
    cache: &mut Files,
) -> String {
    let Some(span) = diagnostic.span else {
        return without_source(diagnostic);
    };
    let kind = match diagnostic.severity() {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
    };
    let id = |s: Span| sources.get(s.file).name.clone();
    let range = |s: Span| clamp(sources, s);
    let config = Config::default()
        .with_index_type(IndexType::Byte)
        .with_color(color);
    let mut builder: ariadne::ReportBuilder<'_, (String, Range<usize>)> =
        Report::build(kind, (id(span), range(span)))
            .with_code(diagnostic.code.as_str())
            .with_message(&diagnostic.message)
            .with_config(config);
    // Labels are ordered by place, so ariadne keeps those of one file in one excerpt.
    let mut spans: Vec<(Span, Option<&str>, bool)> =
        vec![(span, diagnostic.label.as_deref(), true)];
    spans.extend(
        diagnostic
            .labels
            .iter()
            .map(|l| (l.span, Some(l.message.as_str()), false)),
    );
    spans.sort_by_key(|(s, _, _)| (s.file, s.start, s.end));
    for (order, (label_span, message, is_primary)) in spans.into_iter().enumerate() {
        let mut label =
            AriadneLabel::new((id(label_span), range(label_span))).with_order(order as i32);
        if let Some(message) = message {
            label = label.with_message(message);
        }
        if color {
            label = label.with_color(match (is_primary, diagnostic.severity()) {
                (false, _) => ariadne::Color::Blue,
                (true, Severity::Error) => ariadne::Color::Red,
                (true, Severity::Warning) => ariadne::Color::Yellow,
            });
        }
        builder.add_label(label);
    }
    if let Some(help) = &diagnostic.help {
        builder.set_help(help);
    }
    let mut out = Vec::new();
    if builder.finish().write(cache, &mut out).is_err() {
        return without_source(diagnostic);
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    // ariadne pads some lines with trailing spaces; strip them so snapshots stay clean.
    let mut cleaned: String = text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    cleaned.push('\n');
    cleaned
}

/// A span clamped to its file and to character boundaries, so rendering never panics.
fn clamp(sources: &SourceMap, span: Span) -> Range<usize> {
    let text = &sources.get(span.file).text;
    let mut start = (span.start as usize).min(text.len());
    let mut end = (span.end as usize).clamp(start, text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

fn without_source(diagnostic: &Diagnostic) -> String {
    let mut out = format!(
        "{}[{}]: {}\n",
        diagnostic.severity().as_str(),
        diagnostic.code,
        diagnostic.message
    );
    if let Some(help) = &diagnostic.help {
        out.push_str(&format!("  help: {help}\n"));
    }
    out
}

/// One JSON object (one line) per diagnostic, for editors and CI.
pub fn json(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let mut object = Map::new();
    object.insert("code".into(), json!(diagnostic.code.as_str()));
    object.insert("severity".into(), json!(diagnostic.severity().as_str()));
    object.insert("message".into(), json!(diagnostic.message));
    match diagnostic.span {
        Some(span) => position(&mut object, sources, span),
        None => {
            for key in ["file", "line", "column", "end_line", "end_column"] {
                object.insert(key.into(), Value::Null);
            }
        }
    }
    let mut labels = Vec::new();
    if let (Some(span), Some(label)) = (diagnostic.span, &diagnostic.label) {
        labels.push(label_json(sources, span, label, true));
    }
    for label in &diagnostic.labels {
        labels.push(label_json(sources, label.span, &label.message, false));
    }
    object.insert("labels".into(), Value::Array(labels));
    object.insert("help".into(), json!(diagnostic.help));
    Value::Object(object).to_string()
}

fn label_json(sources: &SourceMap, span: Span, message: &str, primary: bool) -> Value {
    let mut object = Map::new();
    position(&mut object, sources, span);
    object.insert("message".into(), json!(message));
    object.insert("primary".into(), json!(primary));
    Value::Object(object)
}

fn position(object: &mut Map<String, Value>, sources: &SourceMap, span: Span) {
    let (line, column) = sources.line_col(span.file, span.start);
    let (end_line, end_column) = sources.line_col(span.file, span.end);
    object.insert("file".into(), json!(sources.get(span.file).name));
    object.insert("line".into(), json!(line));
    object.insert("column".into(), json!(column));
    object.insert("end_line".into(), json!(end_line));
    object.insert("end_column".into(), json!(end_column));
}

/// The diagnostics as one SARIF 2.1.0 log, for code-scanning services: one rule per code that
/// occurs (with its title and the book page that explains it), one result per diagnostic.
pub fn sarif(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut codes: Vec<super::Code> = diagnostics.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "shortDescription": {"text": c.title()},
                "help": {"text": format!("see book/src/diagnostics/{}.md", c.as_str())},
                "defaultConfiguration": {"level": level(c.severity())},
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "level": level(d.severity()),
                "message": {"text": text},
            });
            if let Some(span) = d.span {
                result["locations"] = json!([sarif_location(sources, span, d.label.as_deref())]);
            }
            if !d.labels.is_empty() {
                result["relatedLocations"] = Value::Array(
                    d.labels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            let mut loc = sarif_location(sources, l.span, Some(&l.message));
                            loc["id"] = json!(i);
                            loc
                        })
                        .collect(),
                );
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iamx",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn sarif_location(sources: &SourceMap, span: Span, message: Option<&str>) -> Value {
    let (line, column) = sources.line_col(span.file, span.start);
    let (end_line, end_column) = sources.line_col(span.file, span.end);
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": sources.get(span.file).name},
            "region": {
                "startLine": line,
                "startColumn": column,
                "endLine": end_line,
                "endColumn": end_column,
            },
        },
    });
    if let Some(message) = message {
        location["message"] = json!({"text": message});
    }
    location
}
