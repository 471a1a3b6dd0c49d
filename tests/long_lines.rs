//! Human diagnostics on long lines and far-apart labels, which once cost time in proportion to
//! the line (or the lines between labels) for every diagnostic: a one-line JSON document with
//! 2,000 diagnostics took 27 s. A long line is shown as a window around its labels, and labels
//! far apart in sections of their own; positions stay those of the file.

use iamx::diag::render::{self, Renderer};
use iamx::{compile, Compilation, Options, Source};

/// One line of JSON: `n` statements, each with an unknown action.
fn one_line_json(n: usize) -> String {
    let statements: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"Effect": "Allow", "Action": "s3:GetObjectt{i}", "Resource": "*"}}"#))
        .collect();
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
        statements.join(", ")
    )
}

fn render_all(result: &Compilation, color: bool) -> Vec<String> {
    let mut renderer = Renderer::new(&result.sources);
    result
        .diagnostics
        .iter()
        .map(|d| renderer.human(d, color))
        .collect()
}

/// The `file:line:column` of a rendered diagnostic's header.
fn header(rendered: &str) -> &str {
    let start = rendered.find("─[ ").map_or(0, |i| i + "─[ ".len());
    let end = rendered[start..]
        .find(" ]")
        .map_or(rendered.len(), |i| start + i);
    &rendered[start..end]
}

/// Removes ANSI colour escapes.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_long_line_is_shown_as_a_window_around_the_labels() {
    let text = one_line_json(12);
    let result = compile(
        vec![Source::new("policy.json", text.clone())],
        &Options::default(),
    );
    assert_eq!(result.diagnostics.len(), 12);
    let rendered = render_all(&result, false);
    for (d, r) in result.diagnostics.iter().zip(&rendered) {
        // The header gives the place in the file, as the JSON format does.
        let json: serde_json::Value =
            serde_json::from_str(&render::json(d, &result.sources)).unwrap();
        let expected = format!("policy.json:{}:{}", json["line"], json["column"]);
        assert_eq!(header(r), expected, "{r}");
        // A window, not the line: each diagnostic's size is bounded, whatever the line's.
        assert!(r.len() < 2_000, "{r}");
    }
    // Coloured, the same text.
    let coloured = render_all(&result, true);
    for (c, r) in coloured.iter().zip(&rendered) {
        assert_eq!(plain(c), *r);
    }
    insta::assert_snapshot!(format!("{}\n{}", rendered[0], rendered[5]));
}

#[test]
fn labels_far_apart_get_sections_of_their_own_with_their_line_numbers() {
    let mut text = String::from(
        "account \"123456789012\"\nrole app {\n  trust { allow account }\n  allow s3:GetObject on *\n}\n",
    );
    text.push_str(&"\n".repeat(100));
    text.push_str(
        "test \"reads\" {\n  as role app\n  expect deny s3:GetObject on \"arn:aws:s3:::b/k\"\n}\n",
    );
    let result = compile(vec![Source::new("main.iamx", text)], &Options::default());
    let rendered = render_all(&result, false);
    assert_eq!(rendered.len(), 1, "{rendered:?}");
    assert!(
        rendered[0].contains("\n   4 │   allow s3:GetObject on *\n"),
        "{}",
        rendered[0]
    );
    assert!(
        rendered[0].contains("\n 108 │   expect deny"),
        "{}",
        rendered[0]
    );
    let coloured = render_all(&result, true);
    assert_eq!(plain(&coloured[0]), rendered[0]);
    insta::assert_snapshot!(rendered[0]);
}

/// A label over several lines is shown whole, far from the other.
#[test]
fn a_label_over_several_lines_far_from_another_is_shown_whole() {
    let mut text = String::from(
        "account \"123456789012\"\nrole app {\n  trust { allow account }\n  allow s3:GetObject\n    on *\n}\n",
    );
    text.push_str(&"\n".repeat(100));
    text.push_str(
        "test \"reads\" {\n  as role app\n  expect deny s3:GetObject on \"arn:aws:s3:::b/k\"\n}\n",
    );
    let result = compile(vec![Source::new("main.iamx", text)], &Options::default());
    let rendered = render_all(&result, false);
    assert_eq!(rendered.len(), 1, "{rendered:?}");
    assert!(
        rendered[0].contains("\n   4 │ ╭─▶   allow s3:GetObject\n"),
        "{}",
        rendered[0]
    );
    assert!(
        rendered[0].contains("\n   5 │ ├─▶     on *\n"),
        "{}",
        rendered[0]
    );
    assert!(
        rendered[0].contains("\n 109 │   expect deny"),
        "{}",
        rendered[0]
    );
    let coloured = render_all(&result, true);
    assert_eq!(plain(&coloured[0]), rendered[0]);
}

/// Labels within a few lines of each other stay in one section, as before.
#[test]
fn labels_close_together_stay_in_one_section() {
    let text = "account \"123456789012\"\npolicy P {\n  allow s3:GetObject, s3:GetObject on *\n}\n";
    let result = compile(vec![Source::new("main.iamx", text)], &Options::default());
    let rendered = render_all(&result, false);
    assert!(!rendered.is_empty());
    for r in &rendered {
        assert!(!r.contains("├─["), "{r}");
    }
}
