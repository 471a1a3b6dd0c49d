//! A strict JSON reader (RFC 8259) that keeps the byte span of every value and every object key,
//! so diagnostics about a policy read from JSON can point at the exact place in the file.
//!
//! It accepts exactly RFC 8259 JSON (plus a leading byte order mark, which the RFC lets a reader
//! ignore) and reports the first problem as one [`Diagnostic`] with a precise span. It never
//! panics, and nesting is limited to [`MAX_DEPTH`], so hostile input cannot exhaust the stack.
//! Duplicate keys in one object are rejected: the IAM grammar forbids them, and which value AWS
//! would keep is not something a checker should guess.

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// No policy nests more than five levels; 64 leaves room and keeps recursion shallow.
pub const MAX_DEPTH: usize = 64;

/// A JSON value. Numbers keep their text as written (`1.50` stays `1.50`).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    /// Members in source order; keys are unique.
    Object(Vec<Member>),
}

/// A value and where it is written: from its first to its last byte (quotes and brackets
/// included).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// One `"key": value` member of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: String,
    /// The key's string literal, quotes included.
    pub key_span: Span,
    pub value: Node,
}

impl Member {
    /// From the key's opening quote to the end of the value.
    pub fn span(&self) -> Span {
        self.key_span.to(self.value.span)
    }
}

impl Node {
    /// The value's type with an article, for messages: "a string", "an array", …
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn members(&self) -> Option<&[Member]> {
        match &self.value {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The member named `key`, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Member> {
        self.members()?.iter().find(|m| m.key == key)
    }
}

/// Parses one JSON text. The whole text must be one value, with only white space around it.
pub fn parse(file: FileId, text: &str) -> Result<Node, Diagnostic> {
    let mut parser = Parser {
        file,
        text,
        bytes: text.as_bytes(),
        pos: 0,
        open: Vec::new(),
    };
    // RFC 8259 §8.1: a parser may ignore a byte order mark.
    if text.starts_with('\u{feff}') {
        parser.pos = '\u{feff}'.len_utf8();
    }
    parser.skip_ws();
    if parser.pos >= parser.bytes.len() {
        let end = text.len();
        return Err(Diagnostic::new(Code::Syntax, "expected a JSON value; the file is empty")
            .at(parser.span(end, end), "nothing here")
            .help("a policy is a JSON object: `{\"Version\": \"2012-10-17\", \"Statement\": […]}`"));
    }
    let node = parser.value()?;
    parser.skip_ws();
    if parser.pos < parser.bytes.len() {
        let found = parser.describe_here();
        let d = match parser.bytes[parser.pos] {
            b'}' | b']' => Diagnostic::new(Code::UnexpectedCloser, format!("unexpected {found}"))
                .at(parser.char_span(parser.pos), "nothing to close here")
                .with_label(node.span, "the JSON value ends here")
                .help("remove it, or add the opening delimiter it closes"),
            _ => Diagnostic::new(
                Code::Syntax,
                format!("unexpected {found} after the end of the JSON value"),
            )
            .at(parser.char_span(parser.pos), "expected the end of the file")
            .with_label(node.span, "the JSON value ends here")
            .help("a JSON file holds exactly one value; put several statements in the `Statement` array"),
        };
        return Err(d);
    }
    Ok(node)
}

struct Parser<'a> {
    file: FileId,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Where each open `[` or `{` is, outermost first.
    open: Vec<usize>,
}

impl Parser<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    /// The span of the character at `at` (empty at the end of the text).
    fn char_span(&self, at: usize) -> Span {
        let len = self
            .text
            .get(at..)
            .and_then(|s| s.chars().next())
            .map_or(0, char::len_utf8);
        self.span(at, at + len)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// What is at the current position, for messages: "`x`", "end of file".
    fn describe_here(&self) -> String {
        match self.text.get(self.pos..).and_then(|s| s.chars().next()) {
            None => "end of file".to_string(),
            Some(c) if c.is_control() || c.is_whitespace() => {
                format!("character U+{:04X}", c as u32)
            }
            Some(c) => format!("`{c}`"),
        }
    }

    fn value(&mut self) -> Result<Node, Diagnostic> {
        let start = self.pos;
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let (s, span) = self.string()?;
                Ok(Node { value: Value::String(s), span })
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'a'..=b'z' | b'A'..=b'Z' | b'_') => self.word(),
            Some(b'\'') => Err(Diagnostic::new(Code::Syntax, "JSON strings are written in double quotes")
                .at(self.char_span(start), "single quote here")
                .help("write `\"text\"`, not `'text'`")),
            Some(b'/') => Err(Diagnostic::new(Code::Syntax, "JSON has no comments")
                .at(self.char_span(start), "comment starts here")
                .help("remove the comment; IAM accepts only plain JSON")),
            Some(b'}' | b']') => Err(Diagnostic::new(
                Code::Syntax,
                format!("expected a value, found {}", self.describe_here()),
            )
            .at(self.char_span(start), "a value should come before this")
            .help("write a value here, like `\"text\"`, or remove what comes before")),
            None => Err(self.unclosed()),
            Some(_) => Err(Diagnostic::new(
                Code::Syntax,
                format!("expected a value, found {}", self.describe_here()),
            )
            .at(self.char_span(start), "not the start of a JSON value")
            .help("a JSON value is a string in double quotes, a number, `true`, `false`, `null`, an array `[…]` or an object `{…}`")),
        }
    }

    /// The end of the text came before the innermost open delimiter was closed.
    fn unclosed(&self) -> Diagnostic {
        let end = self.text.len();
        match self.open.last() {
            Some(&at) => {
                let open = self.bytes[at];
                Diagnostic::new(Code::Unclosed, format!("unclosed `{}`", open as char))
                    .at(self.span(at, at + 1), "opened here and never closed")
                    .with_label(self.span(end, end), "the file ends here")
                    .help(format!("add the matching `{}`", closer(open) as char))
            }
            None => Diagnostic::new(
                Code::Syntax,
                "expected a JSON value, found the end of the file",
            )
            .at(self.span(end, end), "the file ends here"),
        }
    }

    fn enter(&mut self) -> Result<(), Diagnostic> {
        let at = self.pos;
        self.open.push(at);
        if self.open.len() > MAX_DEPTH {
            let outer = self.open[0];
            return Err(Diagnostic::new(
                Code::TooDeep,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            )
            .at(self.span(at, at + 1), "too deep here")
            .with_label(self.span(outer, outer + 1), "outermost opened here")
            .help("IAM policies nest only a few levels deep"));
        }
        self.pos += 1;
        Ok(())
    }

    /// After a value in an array or object: `,`, the closer, or an error.
    /// Returns `true` when the container continues (a `,` was read).
    fn after_item(&mut self, close: u8, what: &str) -> Result<bool, Diagnostic> {
        self.skip_ws();
        let open_at = *self.open.last().unwrap_or(&0);
        match self.peek() {
            Some(b',') => {
                let comma = self.pos;
                self.pos += 1;
                self.skip_ws();
                match self.peek() {
                    Some(c @ (b']' | b'}')) => {
                        let d = if c == close {
                            Diagnostic::new(Code::Syntax, "trailing comma")
                                .at(
                                    self.span(comma, comma + 1),
                                    format!("no {what} follows this comma"),
                                )
                                .help("JSON allows no comma after the last element; remove it")
                        } else {
                            self.mismatched(c, open_at)
                        };
                        Err(d)
                    }
                    None => Err(self.unclosed()),
                    _ => Ok(true),
                }
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(false)
            }
            Some(c @ (b']' | b'}')) => Err(self.mismatched(c, open_at)),
            None => Err(self.unclosed()),
            Some(_) => Err(Diagnostic::new(
                Code::Syntax,
                format!(
                    "expected `,` or `{}`, found {}",
                    close as char,
                    self.describe_here()
                ),
            )
            .at(
                self.char_span(self.pos),
                format!("expected `,` or `{}` before this", close as char),
            )
            .with_label(
                self.span(open_at, open_at + 1),
                format!("in the {} opened here", container(close)),
            )
            .help(format!("separate {what}s with commas"))),
        }
    }

    fn mismatched(&self, found: u8, open_at: usize) -> Diagnostic {
        let open = self.bytes[open_at];
        Diagnostic::new(
            Code::UnexpectedCloser,
            format!("unexpected `{}`", found as char),
        )
        .at(
            self.span(self.pos, self.pos + 1),
            format!("expected `{}` here", closer(open) as char),
        )
        .with_label(
            self.span(open_at, open_at + 1),
            format!("`{}` opened here", open as char),
        )
        .help(format!(
            "close the `{}` before this `{}`",
            open as char, found as char
        ))
    }

    fn array(&mut self) -> Result<Node, Diagnostic> {
        let start = self.pos;
        self.enter()?;
        let mut items = Vec::new();
        self.skip_ws();
        match self.peek() {
            Some(b']') => self.pos += 1,
            Some(b'}') => return Err(self.mismatched(b'}', start)),
            Some(b',') => {
                return Err(Diagnostic::new(Code::Syntax, "expected a value, found `,`")
                    .at(self.char_span(self.pos), "no value before this comma")
                    .help("remove the comma"))
            }
            _ => loop {
                items.push(self.value()?);
                if !self.after_item(b']', "value")? {
                    break;
                }
            },
        }
        self.open.pop();
        Ok(Node {
            value: Value::Array(items),
            span: self.span(start, self.pos),
        })
    }

    fn object(&mut self) -> Result<Node, Diagnostic> {
        let start = self.pos;
        self.enter()?;
        let mut members: Vec<Member> = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        self.skip_ws();
        match self.peek() {
            Some(b'}') => self.pos += 1,
            Some(b']') => return Err(self.mismatched(b']', start)),
            _ => loop {
                let member = self.member()?;
                if let Some(&first) = seen.get(&member.key) {
                    return Err(Diagnostic::new(
                        Code::DuplicateSetting,
                        format!("key `{}` appears twice in one object", member.key),
                    )
                    .at(member.key_span, "given again here")
                    .with_label(first, "first given here")
                    .help("IAM forbids repeated keys, and which value would count is not defined; keep one (to test several values, list them in an array)"));
                }
                seen.insert(member.key.clone(), member.key_span);
                members.push(member);
                if !self.after_item(b'}', "member")? {
                    break;
                }
            },
        }
        self.open.pop();
        Ok(Node {
            value: Value::Object(members),
            span: self.span(start, self.pos),
        })
    }

    fn member(&mut self) -> Result<Member, Diagnostic> {
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.unclosed()),
            Some(b'\'') => {
                return Err(
                    Diagnostic::new(Code::Syntax, "JSON keys are written in double quotes")
                        .at(self.char_span(self.pos), "single quote here")
                        .help("write `\"Key\"`, not `'Key'`"),
                )
            }
            Some(b',') => {
                return Err(Diagnostic::new(Code::Syntax, "expected a key, found `,`")
                    .at(self.char_span(self.pos), "no member before this comma")
                    .help("remove the comma"))
            }
            Some(_) => {
                return Err(Diagnostic::new(
                    Code::Syntax,
                    format!(
                        "expected a key in double quotes, found {}",
                        self.describe_here()
                    ),
                )
                .at(self.char_span(self.pos), "expected `\"` here")
                .help("object keys are strings: `\"Effect\": \"Allow\"`"))
            }
        }
        let (key, key_span) = self.string()?;
        self.skip_ws();
        match self.peek() {
            Some(b':') => self.pos += 1,
            None => return Err(self.unclosed()),
            Some(_) => {
                return Err(Diagnostic::new(
                    Code::Syntax,
                    format!("expected `:` after the key, found {}", self.describe_here()),
                )
                .at(self.char_span(self.pos), "expected `:` here")
                .with_label(key_span, "this key")
                .help("a member reads `\"Key\": value`"))
            }
        }
        self.skip_ws();
        let value = self.value()?;
        Ok(Member {
            key,
            key_span,
            value,
        })
    }

    /// A string literal at the current `"`: its text and its span, quotes included.
    fn string(&mut self) -> Result<(String, Span), Diagnostic> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.unterminated(start, self.pos));
            };
            match b {
                b'"' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    return Ok((out, self.span(start, self.pos)));
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.pos]);
                    out.push(self.escape(start)?);
                    run = self.pos;
                }
                b'\n' | b'\r' => return Err(self.unterminated(start, self.pos)),
                0x00..=0x1f => {
                    let c = b as char;
                    let suggestion = match c {
                        '\t' => "write a tab as `\\t`".to_string(),
                        _ => format!("write it as `\\u{:04x}`", b),
                    };
                    return Err(Diagnostic::new(
                        Code::Syntax,
                        format!("control character U+{:04X} in a string", b),
                    )
                    .at(self.span(self.pos, self.pos + 1), "not allowed unescaped")
                    .help(suggestion));
                }
                _ => self.pos += 1,
            }
        }
    }

    fn unterminated(&self, start: usize, end: usize) -> Diagnostic {
        Diagnostic::new(Code::UnterminatedString, "unterminated string")
            .at(self.span(start, end), "this string has no closing quote")
            .help("JSON strings end on the line they start; close it with `\"`")
    }

    /// One escape at the current `\`; leaves the position after it.
    fn escape(&mut self, string_start: usize) -> Result<char, Diagnostic> {
        let at = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let high = self.hex4(at)?;
                return match high {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.pos..self.pos + 2) != Some(&b"\\u"[..]) {
                            return Err(self.bad_escape(
                                at,
                                self.pos,
                                "a high surrogate must be followed by a `\\u` low surrogate",
                            ));
                        }
                        let second = self.pos;
                        self.pos += 2;
                        let low = self.hex4(second)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.bad_escape(at, self.pos, "a high surrogate must be followed by a low surrogate (`\\udc00`–`\\udfff`)"));
                        }
                        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(code)
                            .ok_or_else(|| self.bad_escape(at, self.pos, "not a character"))
                    }
                    0xDC00..=0xDFFF => Err(self.bad_escape(
                        at,
                        self.pos,
                        "a low surrogate must follow a high surrogate",
                    )),
                    _ => char::from_u32(high)
                        .ok_or_else(|| self.bad_escape(at, self.pos, "not a character")),
                };
            }
            None | Some(b'\n' | b'\r') => return Err(self.unterminated(string_start, self.pos)),
            Some(_) => {
                let end = self.char_span(self.pos).end as usize;
                let shown = &self.text[at..end];
                return Err(Diagnostic::new(
                    Code::InvalidEscape,
                    format!("invalid escape `{shown}` in string"),
                )
                .at(self.span(at, end), "not a JSON escape")
                .help("JSON escapes are `\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and `\\uXXXX`; write a backslash as `\\\\`"));
            }
        };
        self.pos += 1;
        Ok(c)
    }

    /// Four hex digits at the current position (after `\u`).
    fn hex4(&mut self, escape_start: usize) -> Result<u32, Diagnostic> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = self.peek().and_then(|b| (b as char).to_digit(16));
            match digit {
                Some(d) => {
                    value = value * 16 + d;
                    self.pos += 1;
                }
                None => {
                    let end = self.char_span(self.pos).end as usize;
                    return Err(self.bad_escape(
                        escape_start,
                        end,
                        "`\\u` takes exactly four hex digits",
                    ));
                }
            }
        }
        Ok(value)
    }

    fn bad_escape(&self, start: usize, end: usize, help: &str) -> Diagnostic {
        let end = end.max(start + 1).min(self.text.len());
        let shown = self.text.get(start..end).unwrap_or("\\");
        Diagnostic::new(
            Code::InvalidEscape,
            format!("invalid escape `{shown}` in string"),
        )
        .at(self.span(start, end), "not a valid `\\u` escape")
        .help(help.to_string())
    }

    /// A number, strictly by the RFC grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Node, Diagnostic> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.bad_number(start, "JSON numbers have no leading zeros; to keep them, write the value as a string: `\"0123\"`"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.bad_number(start, "a minus sign must be followed by digits")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.bad_number(start, "a decimal point must be followed by digits"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.bad_number(start, "an exponent must have digits"));
            }
            self.digits();
        }
        Ok(Node {
            value: Value::Number(self.text[start..self.pos].to_string()),
            span: self.span(start, self.pos),
        })
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn bad_number(&self, start: usize, help: &str) -> Diagnostic {
        // Show the whole malformed token.
        let mut end = self.pos;
        while let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.bytes.get(end) {
            end += 1;
        }
        let end = end.max(start + 1).min(self.text.len());
        let shown = self.text.get(start..end).unwrap_or("-");
        Diagnostic::new(Code::Syntax, format!("malformed number `{shown}`"))
            .at(self.span(start, end), "not a JSON number")
            .help(help.to_string())
    }

    /// `true`, `false` or `null`; any other word is an error.
    fn word(&mut self) -> Result<Node, Diagnostic> {
        let start = self.pos;
        while let Some(b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_') = self.peek() {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        let value = match word {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => {
                let help = match word.to_ascii_lowercase().as_str() {
                    "true" | "false" | "null" => format!(
                        "JSON literals are lower case: `{}`",
                        word.to_ascii_lowercase()
                    ),
                    "none" => "JSON writes no value as `null`".to_string(),
                    "nan" | "infinity" | "undefined" => format!("JSON has no `{word}`"),
                    _ => format!("if this is text, put it in double quotes: `\"{word}\"`"),
                };
                return Err(
                    Diagnostic::new(Code::Syntax, format!("`{word}` is not a JSON value"))
                        .at(self.span(start, self.pos), "expected a value")
                        .help(help),
                );
            }
        };
        Ok(Node {
            value,
            span: self.span(start, self.pos),
        })
    }
}

fn closer(open: u8) -> u8 {
    if open == b'{' {
        b'}'
    } else {
        b']'
    }
}

fn container(close: u8) -> &'static str {
    if close == b'}' {
        "object"
    } else {
        "array"
    }
}
