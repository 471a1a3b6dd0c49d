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
    let mut i = 0;
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
