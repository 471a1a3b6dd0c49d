//! Source files and byte spans.

use std::fmt;

/// The index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file. Equality of syntax nodes never looks at spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary: how
/// text is shortened for messages without cutting a multi-byte character in two.
pub fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One input file: a display name and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    /// Where each line starts, and whether the text is ASCII: computed on first use, so that
    /// finding the line and column of many places costs a search each, not a scan.
    lines: std::sync::OnceLock<LineIndex>,
}

#[derive(Clone, Debug)]
struct LineIndex {
    starts: Vec<usize>,
    ascii: bool,
}

impl SourceFile {
    fn line_index(&self) -> &LineIndex {
        self.lines.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(
                self.text
                    .bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            );
            LineIndex {
                starts,
                ascii: self.text.is_ascii(),
            }
        })
    }
}

/// All the files of one compilation, addressed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
            lines: std::sync::OnceLock::new(),
        });
        FileId(self.files.len() as u32 - 1)
    }

    /// The file of an id. An id from another map yields an empty, nameless file rather than
    /// a panic.
    pub fn get(&self, id: FileId) -> &SourceFile {
        static NONE: SourceFile = SourceFile {
            name: String::new(),
            text: String::new(),
            lines: std::sync::OnceLock::new(),
        };
        self.files.get(id.0 as usize).unwrap_or(&NONE)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        text.get(span.range()).unwrap_or("")
    }

    /// The 1-based line of a byte offset, and the byte range of that line (without its `\n`).
    pub fn line_range(&self, file: FileId, offset: usize) -> (usize, std::ops::Range<usize>) {
        let file = self.get(file);
        let index = file.line_index();
        let offset = offset.min(file.text.len());
        let line = index
            .starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let start = index.starts[line - 1];
        let end = index
            .starts
            .get(line)
            .map_or(file.text.len(), |next| next - 1);
        (line, start..end.max(start))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: u32) -> (usize, usize) {
        let file = self.get(file);
        let text = &file.text;
        let mut offset = (offset as usize).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let index = file.line_index();
        // The last line start at or before the offset.
        let line = index.starts.partition_point(|&start| start <= offset);
        let line_start = index.starts[line.saturating_sub(1)];
        let col = if index.ascii {
            offset - line_start
        } else {
            text[line_start..offset].chars().count()
        };
        (line.max(1), col + 1)
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan the line index replaced: what `line_col` must still answer.
    fn scanned(text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    #[test]
    fn line_col_agrees_with_a_scan_at_every_offset() {
        for text in [
            "",
            "\n",
            "a\nbc\n\nd",
            "é\nßx\n€€\n",
            "one line, no newline",
            "\n\néa",
        ] {
            let mut map = SourceMap::new();
            let id = map.add("f", text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    map.line_col(id, offset as u32),
                    scanned(text, offset),
                    "{text:?} at {offset}"
                );
            }
        }
    }
}
