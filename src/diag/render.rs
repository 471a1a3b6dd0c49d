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
        // An excerpt of a file is keyed by `\0N\0name`: shown as is, for `renumber` to find
        // and clean.
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
        if let Some(text) = self.windowed(diagnostic, color) {
            return text;
        }
        if let Some(span) = diagnostic.span {
            self.load(span);
        }
        for label in &diagnostic.labels {
            self.load(label.span);
        }
        let locate = |s: Span| (sources.get(s.file).name.clone(), clamp(sources, s));
        render_human(diagnostic, color, &mut self.cache, &locate)
    }

    /// A diagnostic on lines longer than [`LONG_LINE`] (a one-line JSON document, say),
    /// rendered with only a window of each long line around its labels: the whole line for
    /// each of many diagnostics would make output, and time, grow with the square of the line.
    /// Labels far apart get excerpts of their own. `None` when no label is on a long line and
    /// none are far apart, or a label on several lines crosses a long one, or labels are in
    /// several files.
    fn windowed(&mut self, diagnostic: &Diagnostic, color: bool) -> Option<String> {
        let sources = self.sources;
        let primary = diagnostic.span?;
        let file = primary.file;
        let spans: Vec<Span> = std::iter::once(primary)
            .chain(diagnostic.labels.iter().map(|l| l.span))
            .collect();
        if spans.iter().any(|s| s.file != file) {
            return None;
        }
        let text = &sources.get(file).text;
        // Per line touched: its range, and the ranges of the labels on it.
        let mut lines: std::collections::BTreeMap<usize, (Range<usize>, Vec<Range<usize>>)> =
            std::collections::BTreeMap::new();
        for span in &spans {
            let range = clamp(sources, *span);
            let (line, bounds) = sources.line_range(file, range.start);
            if range.end > bounds.end {
                // A label over several lines: every one of them is shown whole, so none may
                // be long.
                let (mut at, mut bounds) = (line, bounds);
                loop {
                    if bounds.len() > LONG_LINE {
                        return None;
                    }
                    let last = range.end <= bounds.end;
                    let next = bounds.end + 1;
                    lines.entry(at).or_insert((bounds, Vec::new()));
                    if last || next > text.len() {
                        break;
                    }
                    (at, bounds) = sources.line_range(file, next);
                }
                continue;
            }
            lines
                .entry(line)
                .or_insert((bounds, Vec::new()))
                .1
                .push(range);
        }
        let far_apart = lines
            .keys()
            .zip(lines.keys().skip(1))
            .any(|(a, b)| b - a > MAX_GAP);
        if !far_apart && lines.values().all(|(bounds, _)| bounds.len() <= LONG_LINE) {
            return None;
        }
        // The excerpts: runs of touched lines less than `MAX_GAP` apart, each its own source
        // for ariadne (which walks every line between two labels), with blank lines between
        // touched ones so that line numbers stay right. Of a long line, only windows around
        // its labels, joined by `…`.
        let name = sources.get(file).name.clone();
        // Per excerpt: its first line and text.
        let mut excerpts: Vec<(usize, String)> = Vec::new();
        // Per line: its excerpt, and its windows.
        let mut windows: std::collections::BTreeMap<usize, (usize, Vec<Window>)> =
            std::collections::BTreeMap::new();
        let mut at_line = 0;
        for (&line, (bounds, ranges)) in &mut lines {
            match excerpts.last_mut() {
                Some((_, excerpt)) if line - at_line <= MAX_GAP => {
                    while at_line < line {
                        excerpt.push('\n');
                        at_line += 1;
                    }
                }
                _ => {
                    excerpts.push((line, String::new()));
                    at_line = line;
                }
            }
            let index = excerpts.len() - 1;
            let excerpt = &mut excerpts[index].1;
            let mut cuts: Vec<(usize, usize)> = Vec::new();
            if bounds.len() <= LONG_LINE {
                cuts.push((bounds.start, bounds.end));
            } else {
                ranges.sort_by_key(|r| r.start);
                for r in ranges.iter() {
                    let from = r.start.saturating_sub(CONTEXT).max(bounds.start);
                    let to = (r.end + CONTEXT).min(bounds.end);
                    match cuts.last_mut() {
                        Some(last) if from <= last.1 => last.1 = last.1.max(to),
                        _ => cuts.push((from, to)),
                    }
                }
                for cut in &mut cuts {
                    while !text.is_char_boundary(cut.0) {
                        cut.0 -= 1;
                    }
                    while !text.is_char_boundary(cut.1) {
                        cut.1 += 1;
                    }
                }
            }
            let mut end = bounds.start;
            let mut placed = Vec::new();
            for (from, to) in cuts {
                if from > end {
                    excerpt.push_str(ELLIPSIS);
                }
                placed.push((from, to, excerpt.len()));
                excerpt.push_str(&text[from..to]);
                end = to;
            }
            if end < bounds.end {
                excerpt.push_str(ELLIPSIS);
            }
            windows.insert(line, (index, placed));
        }
        // Keyed by a NUL, the excerpt's number and a NUL before the name, which is what shows.
        let key = |index: usize| format!("\u{0}{index}\u{0}{name}");
        // ariadne numbers the margin from 1 whatever the offset: `renumber` puts the numbers
        // right afterwards.
        for (index, (first, excerpt)) in excerpts.iter().enumerate() {
            let source = ariadne::Source::from(excerpt.clone()).with_display_line_offset(first - 1);
            self.cache.0.insert(key(index), source);
        }
        let locate = |s: Span| {
            let range = clamp(sources, s);
            let (line, _) = sources.line_range(file, range.start);
            let (index, (from, _, at)) = windows
                .get(&line)
                .and_then(|(index, ws)| {
                    let w = ws
                        .iter()
                        .find(|(from, to, _)| *from <= range.start && range.start <= *to)?;
                    Some((*index, *w))
                })
                .unwrap_or((0, (range.start, range.end, 0)));
            let start = at + (range.start - from);
            (key(index), start..start + range.len())
        };
        let rendered = render_human(diagnostic, color, &mut self.cache, &locate);
        // ariadne's `file:line:column` counts columns in the excerpt: give the file's.
        let (line, column) = sources.line_col(file, primary.start);
        let in_excerpt = {
            let (id, range) = locate(primary);
            let excerpt = id
                .split('\u{0}')
                .nth(1)
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| excerpts.get(i))
                .map_or("", |(_, e)| e.as_str());
            let start = range.start.min(excerpt.len());
            let line_start = excerpt[..start].rfind('\n').map_or(0, |i| i + 1);
            excerpt[line_start..start].chars().count() + 1
        };
        let rendered = rendered.replacen(
            &format!("{name}:{line}:{in_excerpt}"),
            &format!("{name}:{line}:{column}"),
            1,
        );
        let firsts: Vec<usize> = excerpts.iter().map(|(first, _)| *first).collect();
        let last = lines.keys().last().copied().unwrap_or(1);
        Some(renumber(&rendered, &firsts, last))
    }
}

/// Puts right the margin's line numbers of a report whose excerpts ariadne numbered from 1:
/// each excerpt's lines are shifted by its first line, and the margin widened to the largest.
/// The excerpt a section shows is named in its header (`\0N\0name`), which is cleaned here.
/// Colour escapes are passed through: positions count visible characters only.
fn renumber(rendered: &str, firsts: &[usize], last_line: usize) -> String {
    let mut lines = rendered.lines();
    let mut out = String::with_capacity(rendered.len());
    if let Some(message) = lines.next() {
        out.push_str(message);
        out.push('\n');
    }
    let lines: Vec<&str> = lines.collect();
    // ariadne indents the header by the margin's width and two.
    let old = lines
        .first()
        .map_or(0, |l| visible(l).take_while(|(_, c)| *c == ' ').count())
        .saturating_sub(2);
    let new = last_line.to_string().len().max(old);
    let pad = new - old;
    let mut offset = 0;
    for line in lines {
        if let Some(at) = line.find('\u{0}') {
            // A header: `╭─[ \0N\0name:line:col ]`.
            let rest = &line[at + 1..];
            let (index, tail) = rest.split_once('\u{0}').unwrap_or(("0", rest));
            offset = index
                .parse::<usize>()
                .ok()
                .and_then(|i| firsts.get(i))
                .map_or(0, |first| first - 1);
            out.push_str(&" ".repeat(pad));
            out.push_str(&line[..at]);
            out.push_str(tail);
            out.push('\n');
            continue;
        }
        // The margin: a space, then the line number right-aligned in `old` characters.
        let margin: Vec<(usize, char)> = visible(line).take(old + 1).collect();
        let field: String = margin.iter().skip(1).map(|(_, c)| *c).collect();
        let number = field.trim_start();
        if margin.len() == old + 1
            && margin[0].1 == ' '
            && !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
        {
            let n: usize = number.parse().unwrap_or(0);
            let (start, _) = margin[1];
            let (last, c) = margin[old];
            out.push_str(&line[..start]);
            out.push_str(&format!("{:>new$}", n + offset));
            out.push_str(&line[last + c.len_utf8()..]);
        } else if let Some(&(at, '─')) = margin.first() {
            out.push_str(&line[..at]);
            out.push_str(&"─".repeat(pad));
            out.push_str(&line[at..]);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The visible characters of a line and their byte offsets, skipping ANSI escapes
/// (`ESC [ … letter`).
fn visible(line: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut chars = line.char_indices();
    std::iter::from_fn(move || loop {
        let (i, c) = chars.next()?;
        if c != '\u{1b}' {
            return Some((i, c));
        }
        for (_, c) in chars.by_ref() {
            if c.is_ascii_alphabetic() {
                break;
            }
        }
    })
}

/// A window of a line in an excerpt: where it starts in the file, where it ends, and where it
/// starts in the excerpt.
type Window = (usize, usize, usize);

/// Labels more lines apart than this are shown in excerpts of their own.
const MAX_GAP: usize = 40;
/// Lines longer than this (in bytes) are shown as a window around the labels on them.
const LONG_LINE: usize = 400;
/// How much of a long line is shown on each side of the labels.
const CONTEXT: usize = 60;
/// Marks where a long line was cut.
const ELLIPSIS: &str = "…";

fn render_human(
    diagnostic: &Diagnostic,
    color: bool,
    cache: &mut Files,
    locate: &dyn Fn(Span) -> (String, Range<usize>),
) -> String {
    let Some(span) = diagnostic.span else {
        return without_source(diagnostic);
    };
    let kind = match diagnostic.severity() {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
    };
    let id = |s: Span| locate(s).0;
    let range = |s: Span| locate(s).1;
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
    if let Some(arn) = &diagnostic.principal {
        object.insert("principal".into(), json!(arn));
    }
    Value::Object(object).to_string()
}

/// [`json`] of a warning an `@allow` accepted, with its reason as `accepted`.
pub fn json_accepted(diagnostic: &Diagnostic, sources: &SourceMap, reason: &str) -> String {
    let text = json(diagnostic, sources);
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(mut object)) => {
            object.insert("accepted".into(), json!(reason));
            Value::Object(object).to_string()
        }
        _ => text,
    }
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

/// Where the book is published, for links to the page of each code: `DOCS/diagnostics/E0101.html`.
pub const DEFAULT_DOCS_URL: &str = "https://iamx.dev/";

/// The address of a code's page in the book published at `docs` (which ends in `/`).
pub fn code_url(docs: &str, code: super::Code) -> String {
    format!("{docs}diagnostics/{}.html", code.as_str())
}

/// The diagnostics as one SARIF 2.1.0 log, for code-scanning services: one rule per code that
/// occurs (with its title and the book page that explains it), one result per diagnostic.
pub fn sarif(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    sarif_with_docs(diagnostics, sources, DEFAULT_DOCS_URL)
}

/// [`sarif`], with the rules' `helpUri` in the book published at `docs` (ending in `/`).
pub fn sarif_with_docs(diagnostics: &[Diagnostic], sources: &SourceMap, docs: &str) -> String {
    sarif_suppressed(diagnostics, &[], sources, docs)
}

/// [`sarif_with_docs`], with the warnings an `@allow` accepted as results suppressed in the
/// source, each with its reason as the justification.
pub fn sarif_suppressed(
    diagnostics: &[Diagnostic],
    suppressed: &[(Diagnostic, String)],
    sources: &SourceMap,
    docs: &str,
) -> String {
    let mut codes: Vec<super::Code> = diagnostics
        .iter()
        .chain(suppressed.iter().map(|(d, _)| d))
        .map(|d| d.code)
        .collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            let url = code_url(docs, *c);
            json!({
                "id": c.as_str(),
                "shortDescription": {"text": c.title()},
                "helpUri": url,
                "help": {"text": format!("see {url}")},
                "defaultConfiguration": {"level": level(c.severity())},
            })
        })
        .collect();
    let justified = suppressed.iter().map(|(d, why)| (d, Some(why.as_str())));
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| (d, None))
        .chain(justified)
        .map(|(d, why): (&Diagnostic, Option<&str>)| {
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
            if let Some(arn) = &d.principal {
                result["properties"] = json!({"principal": arn});
            }
            if let Some(why) = why {
                result["suppressions"] = json!([{"kind": "inSource", "justification": why}]);
            }
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
