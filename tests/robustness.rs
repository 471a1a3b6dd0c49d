//! Bad input never panics: every malformed input gets a coded, spanned diagnostic.

use iamx::diag::{render, Code};
use iamx::{compile, Options, Source};

/// Compiles one file, renders every diagnostic both ways (rendering must not panic either), and
/// returns the codes.
fn codes(bytes: impl Into<Vec<u8>>) -> Vec<Code> {
    codes_with(bytes, &Options::default())
}

fn codes_with(bytes: impl Into<Vec<u8>>, options: &Options) -> Vec<Code> {
    let result = compile(vec![Source::new("input.iamx", bytes)], options);
    for d in &result.diagnostics {
        let _ = render::human(d, &result.sources, false);
        let _ = render::json(d, &result.sources);
        if d.code != Code::UnknownVar {
            assert!(d.span.is_some(), "{} has no span: {}", d.code, d.message);
        }
    }
    assert_eq!(result.project.is_some(), !result.has_errors());
    result.diagnostics.iter().map(|d| d.code).collect()
}

fn assert_code(bytes: impl Into<Vec<u8>>, code: Code) {
    let bytes = bytes.into();
    let found = codes(bytes.clone());
    assert!(
        found.contains(&code),
        "expected {code} for {:?}, got {found:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
    );
}

#[test]
fn every_listed_bad_input_gets_its_code() {
    assert_code("", Code::NothingDeclared);
    assert_code("// only a comment\n", Code::NothingDeclared);
    assert_code(
        b"policy P { allow s3:\xff\xfe on * }".to_vec(),
        Code::InvalidUtf8,
    );
    assert_code(b"\x00\x01\x02binary".to_vec(), Code::Syntax);
    assert_code(
        "account \"123456789012\nrole R {}",
        Code::UnterminatedString,
    );
    assert_code("/* never closed\npolicy P { }", Code::UnterminatedComment);
    assert_code("policy P { allow s3:GetObject on *", Code::Unclosed);
    assert_code(
        "policy P { allow s3:GetObject on * }}",
        Code::UnexpectedCloser,
    );
    assert_code(
        "policy P { allow s3:GetObject on * ]",
        Code::UnexpectedCloser,
    );
    assert_code(
        format!("let x = {}{}", "[".repeat(10_000), "]".repeat(10_000)),
        Code::TooDeep,
    );
    assert_code(
        format!("policy P {}{}", "{".repeat(10_000), "}".repeat(10_000)),
        Code::TooDeep,
    );
    assert_code("polcy P { allow s3:GetObject on * }", Code::Syntax);
    assert_code("policy P { permit s3:GetObject on * }", Code::Syntax);
    assert_code(
        "policy P { allow s3:GetObject on * }\npolicy P { allow s3:GetObject on * }",
        Code::DuplicateName,
    );
    assert_code(
        "account \"123456789012\"\npolicy P { allow s3:GetObject on role Nobody }",
        Code::UnknownName,
    );
    assert_code(
        "let a = b\nlet b = a\npolicy P { allow a on * }",
        Code::LetCycle,
    );
    assert_code(
        "let a = \"{b}\"\nlet b = \"{a}\"\npolicy P { allow s3:GetObject on a }",
        Code::LetCycle,
    );
    assert_code(
        "policy P { allow s3:GetObject on \"bucket/key\" }",
        Code::InvalidArn,
    );
    assert_code(
        "policy P { allow s3:GetObject on \"arn:aws:s3\" }",
        Code::InvalidArn,
    );
    assert_code(
        "policy P { allow s3:GetObject on \"a\\qb\" }",
        Code::InvalidEscape,
    );
    let mut options = Options::default();
    options.vars.0.insert("nope".into(), "x".into());
    let found = codes_with("policy P { allow s3:GetObject on * }", &options);
    assert!(found.contains(&Code::UnknownVar), "{found:?}");
}

#[test]
fn a_20_megabyte_file_is_refused_quickly() {
    let big = "// padding\n".repeat(20 * 1024 * 1024 / 11 + 1);
    assert!(big.len() >= 20 * 1024 * 1024);
    assert_code(big, Code::FileTooLarge);
}

/// `let lN = [lN-1, lN-1]` doubles a list at each line: stopped at the limit, with one error,
/// instead of taking all memory (24 lines were 16 million values).
#[test]
fn doubling_lets_end_in_one_error() {
    for (kind, first, step) in [
        (
            "list",
            r#"let l0 = ["10.0.0.0/8"]"#,
            "let l{i} = [l{j}, l{j}]",
        ),
        ("actions", "let l0 = s3:GetObject", "let l{i} = l{j}, l{j}"),
    ] {
        let mut text = format!("account \"123456789012\"\n{first}\n");
        for i in 1..40 {
            let line = step
                .replace("{i}", &i.to_string())
                .replace("{j}", &(i - 1).to_string());
            text.push_str(&line);
            text.push('\n');
        }
        let uses = if kind == "list" {
            "allow s3:GetObject on * when aws:SourceIp in l39"
        } else {
            "allow l39 on *"
        };
        text.push_str(&format!("policy P {{ {uses} }}\n"));
        let found = codes(text);
        let errors: Vec<&Code> = found
            .iter()
            .filter(|c| c.as_str().starts_with('E'))
            .collect();
        assert_eq!(errors, [&Code::ValueTooLarge], "{kind}: {found:?}");
    }
}

/// `let sN = "{sN-1}{sN-1}"` doubles a string at each line: one error at the limit.
#[test]
fn doubling_templates_end_in_one_error() {
    let mut text = String::from("account \"123456789012\"\nlet s0 = \"abcdefgh\"\n");
    for i in 1..50 {
        text.push_str(&format!("let s{i} = \"{{s{j}}}{{s{j}}}\"\n", j = i - 1));
    }
    text.push_str("policy P { allow s3:GetObject on * when aws:UserAgent == s49 }\n");
    let found = codes(text);
    let errors: Vec<&Code> = found
        .iter()
        .filter(|c| c.as_str().starts_with('E'))
        .collect();
    assert_eq!(errors, [&Code::ValueTooLarge], "{found:?}");
}

/// A chain of 6,000 `let`s, each naming the next, once overflowed the stack: now one error,
/// however the chain is reached (values, actions, templates). Runs on a test thread's small
/// stack, in a debug build.
#[test]
fn long_let_chains_end_in_one_error() {
    for (first, step, last) in [
        ("let l0 = l1", "let l{i} = l{j}", r#"let l6000 = "x""#),
        (
            "let l0 = l1",
            "let l{i} = l{j}",
            "let l6000 = s3:GetObject, s3:PutObject",
        ),
        (
            r#"let l0 = "{l1}""#,
            r#"let l{i} = "{l{j}}""#,
            r#"let l6000 = "x""#,
        ),
    ] {
        let mut text = String::from("account \"123456789012\"\n");
        text.push_str("policy P { allow s3:GetObject on * when aws:UserAgent == l0 }\n");
        text.push_str(first);
        text.push('\n');
        for i in 1..6000 {
            let line = step
                .replace("{j}", &(i + 1).to_string())
                .replace("{i}", &i.to_string());
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str(last);
        text.push('\n');
        let found = codes(text);
        assert_eq!(found, [Code::LetTooDeep], "{first}");
    }
    // Up to the limit, a chain is followed.
    let mut text = String::from("account \"123456789012\"\n");
    text.push_str("policy P { allow s3:GetObject on * when aws:UserAgent == l0 }\n");
    for i in 0..99 {
        text.push_str(&format!("let l{i} = l{}\n", i + 1));
    }
    text.push_str("let l99 = \"x\"\n");
    assert_eq!(codes(text), []);
}

#[test]
fn deep_but_legal_nesting_is_fine() {
    let found =
        codes("let x = [\"a\", \"b\"]\npolicy P { allow s3:ListBucket on * when s3:prefix == x }");
    assert!(found.is_empty(), "{found:?}");
}

/// How many inputs a fuzz test tries: `IAMX_FUZZ_ITERATIONS` for a longer local run.
fn iterations(default: usize) -> usize {
    std::env::var("IAMX_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for dir in [
        "tests/fixtures/compile",
        "tests/fixtures/guardrail",
        "examples/company-xyz-guarded",
        "examples/company-xyz",
        "examples/multi-env",
        "examples/lambda-service-role",
        "examples/team-groups",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e == "iamx") {
                seeds.push(std::fs::read(p).unwrap());
            }
        }
    }
    seeds
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    ",",
    "=",
    "==",
    "!=",
    "<",
    "?",
    "*",
    ":",
    "/",
    "//",
    "/*",
    "*/",
    "///",
    "\\",
    "${",
    "{account}",
    "{x}",
    "allow",
    "deny",
    "not",
    "on",
    "when",
    "and",
    "any",
    "all",
    "in",
    "like",
    "role",
    "user",
    "group",
    "policy",
    "boundary",
    "let",
    "param",
    "account",
    "trust",
    "attach",
    "aws",
    "@sid(",
    "s3:Get*",
    "iam:{A, B}",
    "arn:aws:s3:::b/*",
    "\n",
    " ",
    "é",
    "\u{0}",
    "true",
    "12",
    "guard {",
    "create users",
    "pass roles",
    "manage policies",
    "under \"/x/\"",
    "delegate",
    "test \"t\" {",
    "as user",
    "expect allow",
    "expect deny",
    "given attached aws AdministratorAccess {",
    "= json \"x.json\"",
    "boundary B",
    "s3:read",
    "iam:permissions",
];

#[test]
fn mutated_inputs_never_panic() {
    let seeds = seeds();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..iterations(4000) {
        let mut input = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(input.len() + 1);
            match rng.below(4) {
                0 => {
                    let end = (at + 1 + rng.below(20)).min(input.len());
                    input.drain(at.min(end)..end);
                }
                1 => {
                    let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                    input.splice(at..at, token.iter().copied());
                }
                2 => {
                    if at < input.len() {
                        input[at] = rng.next() as u8;
                    }
                }
                _ => {
                    let from = rng.below(input.len());
                    let end = (from + rng.below(40)).min(input.len());
                    let chunk = input[from..end].to_vec();
                    input.splice(at..at, chunk);
                }
            }
        }
        let result = std::panic::catch_unwind(|| codes(input.clone()));
        assert!(
            result.is_ok(),
            "panic on input:\n{}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..iterations(3000) {
        let mut input = String::new();
        for _ in 0..rng.below(60) {
            input.push_str(TOKENS[rng.below(TOKENS.len())]);
            if rng.below(3) == 0 {
                input.push(' ');
            }
        }
        let result = std::panic::catch_unwind(|| codes(input.clone()));
        assert!(result.is_ok(), "panic on input:\n{input}");
    }
}
