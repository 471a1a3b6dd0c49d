//! A quick lexical pass before pest: finds unterminated strings and comments, unbalanced or
//! too deeply nested delimiters and bad escapes, and reports them precisely. It also keeps
//! pest's recursive descent away from input nested deep enough to exhaust the stack.

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// No real policy nests deeper than a handful of blocks.
pub const MAX_DEPTH: usize = 32;

pub fn scan(file: FileId, text: &str) -> Result<(), Diagnostic> {
    let bytes = text.as_bytes();
    let span = |start: usize, end: usize| Span::new(file, start, end);
    let mut stack: Vec<(u8, usize)> = Vec::new();
    // A byte order mark is allowed at the very start; the grammar skips it.
    let mut i = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let start = i;
                match text[i + 2..].find("*/") {
                    Some(end) => i = i + 2 + end + 2,
                    None => {
                        return Err(Diagnostic::new(
                            Code::UnterminatedComment,
                            "unterminated block comment",
                        )
                        .at(span(start, start + 2), "this comment is never closed")
                        .help("close it with `*/`"));
                    }
                }
                continue;
            }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => {
                            let end = i;
                            return Err(Diagnostic::new(
                                Code::UnterminatedString,
                                "unterminated string",
                            )
                            .at(span(start, end), "this string has no closing quote")
                            .help("strings end on the line they start; close it with `\"`"));
                        }
                        Some(b'"') => break,
                        Some(b'\\') => {
                            let escape_start = i;
                            i += 1;
                            match bytes.get(i) {
                                Some(b'"' | b'\\' | b'n' | b't' | b'{' | b'}') => {}
                                Some(b'\n') | None => {
                                    return Err(Diagnostic::new(
                                        Code::UnterminatedString,
                                        "unterminated string",
                                    )
                                    .at(span(start, i), "this string has no closing quote")
                                    .help(
                                        "strings end on the line they start; close it with `\"`",
                                    ));
                                }
                                Some(_) => {
                                    let c = text[i..].chars().next().unwrap_or('?');
                                    return Err(Diagnostic::new(
                                        Code::InvalidEscape,
                                        format!("invalid escape `\\{c}` in string"),
                                    )
                                    .at(
                                        span(escape_start, i + c.len_utf8()),
                                        "not a known escape",
                                    )
                                    .help(
                                        "known escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\{` and `\\}`",
                                    ));
                                }
                            }
                        }
                        Some(_) => {}
                    }
                    i += 1;
                }
            }
            open @ (b'{' | b'[' | b'(') => {
                stack.push((open, i));
                if stack.len() > MAX_DEPTH {
                    return Err(Diagnostic::new(
                        Code::TooDeep,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                    )
                    .at(span(i, i + 1), "too deep here")
                    .with_label(span(stack[0].1, stack[0].1 + 1), "outermost opened here")
                    .help("iamx blocks and lists nest only a few levels deep"));
                }
            }
            close @ (b'}' | b']' | b')') => {
                let want = match close {
                    b'}' => b'{',
                    b']' => b'[',
                    _ => b'(',
                };
                match stack.pop() {
                    Some((open, _)) if open == want => {}
                    Some((open, at)) => {
                        return Err(Diagnostic::new(
                            Code::UnexpectedCloser,
                            format!("unexpected `{}`", close as char),
                        )
                        .at(
                            span(i, i + 1),
                            format!("expected `{}` here", closer(open) as char),
                        )
                        .with_label(span(at, at + 1), format!("`{}` opened here", open as char))
                        .help(format!(
                            "close the `{}` before this `{}`",
                            open as char, close as char
                        )));
                    }
                    None => {
                        return Err(Diagnostic::new(
                            Code::UnexpectedCloser,
                            format!("unexpected `{}`", close as char),
                        )
                        .at(span(i, i + 1), "nothing to close here")
                        .help("remove it, or add the opening delimiter it closes"));
                    }
                }
            }
            b'a' if text[i..].starts_with("arn:")
                && !i
                    .checked_sub(1)
                    .is_some_and(|p| is_word_byte(bytes[p]) || bytes[p] == b'"') =>
            {
                return Err(unquoted_arn(file, text, i));
            }
            b'\'' => return Err(wrong_quotes(file, text, i, '\'')),
            0xE2 if text[i..].starts_with(['\u{201C}', '\u{201D}', '\u{2018}', '\u{2019}']) => {
                let c = text[i..].chars().next().unwrap_or('"');
                return Err(wrong_quotes(file, text, i, c));
            }
            0x80.. => {
                let c = text
                    .get(i..)
                    .and_then(|t| t.chars().next())
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                return Err(Diagnostic::new(
                    Code::Syntax,
                    format!("unexpected non-ASCII character `{}`", c.escape_debug()),
                )
                .at(
                    Span::new(file, i, i + c.len_utf8()),
                    "names and keywords are ASCII",
                )
                .help("IAM names use ASCII letters, digits and `_+=,.@-`; other text goes in a string"));
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(&(open, at)) = stack.last() {
        let end = text.len();
        return Err(
            Diagnostic::new(Code::Unclosed, format!("unclosed `{}`", open as char))
                .at(span(at, at + 1), "opened here and never closed")
                .with_label(span(end, end), "the file ends here")
                .help(format!("add the matching `{}`", closer(open) as char)),
        );
    }
    Ok(())
}

fn closer(open: u8) -> u8 {
    match open {
        b'{' => b'}',
        b'[' => b']',
        _ => b')',
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/' | b'$' | b'*')
}

/// The line around a byte offset: its start and end.
fn line_at(text: &str, at: usize) -> (usize, usize) {
    let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
    (start, end)
}

/// A line as it reads fixed, for a help; left out when the line is long.
fn fixed_line(line: &str) -> Option<String> {
    let line = line.trim();
    (line.chars().count() <= 100).then(|| line.to_string())
}

/// An ARN written without quotes: `allow s3:GetObject on arn:aws:s3:::b/*` would otherwise be
/// read as the start of a `/*` comment.
fn unquoted_arn(file: FileId, text: &str, at: usize) -> Diagnostic {
    let rest = &text[at..];
    let len = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | '{' | '}' | '[' | ']' | '(' | ')'))
        .unwrap_or(rest.len());
    let arn = &rest[..len];
    let (start, end) = line_at(text, at);
    let fixed = format!(
        "{}\"{arn}\"{}",
        &text[start..at],
        &text[at + len..end].trim_end_matches('\r')
    );
    let mut d = Diagnostic::new(Code::Syntax, "quote the ARN").at(
        Span::new(file, at, at + len),
        "an ARN is a string: it needs double quotes",
    );
    if let Some(line) = fixed_line(&fixed) {
        d = d.help(format!("write it `{line}`"));
    }
    d
}

/// A string in single or curly quotes.
fn wrong_quotes(file: FileId, text: &str, at: usize, quote: char) -> Diagnostic {
    let (start, end) = line_at(text, at);
    let line = &text[start..end];
    let fixed: String = line
        .chars()
        .map(|c| match c {
            '\'' | '\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}' => '"',
            c => c,
        })
        .collect();
    let message = if quote == '\'' {
        "use double quotes for strings"
    } else {
        "use straight double quotes"
    };
    let label = if quote == '\'' {
        "iamx strings are in double quotes `\"`".to_string()
    } else {
        format!("`{quote}` is a typographic quote, not `\"`")
    };
    let mut d = Diagnostic::new(Code::Syntax, message)
        .at(Span::new(file, at, at + quote.len_utf8()), label);
    if let Some(line) = fixed_line(&fixed) {
        d = d.help(format!("write it `{line}`"));
    }
    d
}
