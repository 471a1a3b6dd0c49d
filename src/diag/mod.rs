//! Diagnostics as plain data. Rendering (ariadne, JSON) lives in [`render`] and happens once, at
//! the edge.

pub mod codes;
pub mod render;

pub use codes::Code;

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary label: a span with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding: a code, a one-line lowercase message, where it is, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// Where the problem is; `None` for problems with no place in the source (a `--var`).
    pub span: Option<Span>,
    /// The message under the primary span.
    pub label: Option<String>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// The ARN of the principal a finding is about, when it is about one (account analysis):
    /// `"principal"` in JSON lines and in SARIF result properties.
    pub principal: Option<Box<str>>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span: None,
            label: None,
            labels: Vec::new(),
            help: None,
            principal: None,
        }
    }

    /// Sets the primary span and its label.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.span = Some(span);
        let label = label.into();
        self.label = (!label.is_empty()).then_some(label);
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Sorts diagnostics by place, then code, and drops exact duplicates, so output is deterministic.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.span.map(|s| (s.file, s.start, s.end));
        key(a)
            .cmp(&key(b))
            .then(a.code.cmp(&b.code))
            .then(a.message.cmp(&b.message))
    });
    diagnostics.dedup();
}

/// "did you mean": the candidate closest to `input` by edit distance (ignoring case, adjacent
/// transpositions counting once), when it is close enough to be a likely typo.
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    crate::awsdb::suggest(input, candidates)
}

/// Formats "did you mean `x`?" help, if there is a suggestion.
pub fn did_you_mean(suggestion: Option<&str>) -> Option<String> {
    suggestion.map(|s| format!("did you mean `{s}`?"))
}

/// A character for a message: `x` in backticks, or its name when backticks would hide it.
pub fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        c if c.is_control() || c.is_whitespace() => format!("the character U+{:04X}", c as u32),
        '`' => "a backtick".to_string(),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggest_picks_the_closest_and_refuses_far_ones() {
        let names = ["Developer", "Deployer", "Auditor"];
        assert_eq!(suggest("Deployr", names), Some("Deployer"));
        assert_eq!(suggest("developer", names), Some("Developer"));
        assert_eq!(suggest("Zzzzzz", names), None);
        assert_eq!(
            suggest("GetObjekt", ["GetObject", "PutObject"]),
            Some("GetObject")
        );
        assert_eq!(suggest("Deplyoer", names), Some("Deployer"));
        let policies = ["AmazonS3FullAccess", "AmazonS3ReadOnlyAccess"];
        assert_eq!(
            suggest("AmazonS3ReadAccess", policies),
            Some("AmazonS3ReadOnlyAccess")
        );
    }

    #[test]
    fn every_code_is_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert_eq!(text.len(), 5);
            assert!(text.starts_with('E') || text.starts_with('W'));
            assert!(text[1..].chars().all(|c| c.is_ascii_digit()));
            assert_eq!(Code::parse(text), Some(*code));
        }
    }
}
