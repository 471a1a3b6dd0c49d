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
    // Non-ASCII text: every byte offset inside these is a place a slice can break.
    "é",
    "e\u{301}",
    "中文",
    "🦀",
    "\u{200b}",
    "\u{200f}",
    "\u{202e}",
    "İ",
    "ß",
    "\u{feff}",
    "ﬁ",
    "Ωμέγα",
    "\"ééééééééééééééééééééééééééééééééééééééééé\"",
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

// ---- Non-ASCII text in every position, over compile, JSON reading, `simulate --batch`, `test`.

/// Text that breaks code slicing at byte offsets: accents (precomposed and combining), CJK,
/// emoji, zero-width and right-to-left marks, characters whose case changes their length.
const NON_ASCII: &[&str] = &[
    "é",
    "e\u{301}",
    "中文",
    "名前",
    "🦀",
    "👩‍💻",
    "\u{200b}",
    "\u{200d}",
    "\u{200f}",
    "\u{202e}",
    "\u{2066}",
    "İ",
    "ß",
    "ﬁ",
    "\u{feff}",
    "Ωμέγα",
    "עברית",
    "a\u{0308}\u{0301}",
    "\u{10ffff}",
];

const ASCII_PIECES: &[&str] = &[
    "a",
    "Role",
    "s3",
    ":",
    "/",
    "*",
    "?",
    "-",
    "_",
    ".",
    "${aws:username}",
    "{account}",
    " ",
    "0",
    "GetObject",
    "AssumeRole",
    "arn",
    "aws",
];

impl Rng {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A short text mixing ASCII and non-ASCII pieces; sometimes long (past the 64- and
    /// 128-byte limits that messages and names clip at).
    fn text(&mut self) -> String {
        let mut out = String::new();
        let n = if self.below(8) == 0 {
            30 + self.below(60)
        } else {
            1 + self.below(6)
        };
        for _ in 0..n {
            if self.below(2) == 0 {
                out.push_str(self.pick(NON_ASCII));
            } else {
                out.push_str(self.pick(ASCII_PIECES));
            }
        }
        out
    }

    /// `base` with a non-ASCII text put at a random character boundary, or replaced by one.
    fn taint(&mut self, base: &str) -> String {
        match self.below(4) {
            0 => self.text(),
            1 => format!("{base}{}", self.text()),
            2 => format!("{}{base}", self.text()),
            _ => {
                let cuts: Vec<usize> = base
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([base.len()])
                    .collect();
                let at = cuts[self.below(cuts.len())];
                format!("{}{}{}", &base[..at], self.text(), &base[at..])
            }
        }
    }

    /// `base` with a non-ASCII text put at a random character boundary.
    fn taint_at_boundary(&mut self, base: &str) -> String {
        let mut at = self.below(base.len() + 1);
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        format!("{}{}{}", &base[..at], self.text(), &base[at..])
    }

    /// Either `base` untouched or tainted, so each input has only a few non-ASCII holes and
    /// gets far enough to reach the later stages.
    fn maybe(&mut self, base: &str) -> String {
        if self.below(3) == 0 {
            self.taint(base)
        } else {
            base.to_string()
        }
    }
}

/// A quoted iamx string of `text` (quotes and backslashes escaped).
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An iamx project with non-ASCII text in some of its names, strings, actions, ARNs, condition
/// keys and values, tags, and test blocks (which `compile` runs).
fn iamx_project(rng: &mut Rng) -> String {
    let role = rng.maybe("Deployer");
    let user = rng.maybe("alice");
    let policy = rng.maybe("ReadReports");
    let action = rng.maybe("s3:GetObject");
    let arn = rng.maybe("arn:aws:s3:::reports/*");
    let key = rng.maybe("aws:PrincipalTag/team");
    let value = rng.maybe("platform");
    let tag = rng.maybe("team");
    let sid = rng.maybe("ReadThem");
    let service = rng.maybe("lambda.amazonaws.com");
    let test = rng.maybe("reads");
    let expect_action = rng.maybe("s3:GetObject");
    let assume = rng.maybe("sts:AssumeRole");
    format!(
        r#"account "123456789012"

/// {doc}
policy {policy} {{
  @sid({sid})
  allow {action} on {arn_q}
    when {key} == {value_q}
}}

role {role} {{
  description {desc_q}
  trust {{
    allow service {service}
  }}
  attach policy {policy}
  tags {{ {tag_q} = {value_q} }}
}}

user {user} {{
  attach policy {policy}
}}

test {test_q} {{
  as user {user}
  expect allow {expect_action} on {arn_q}
  expect deny {assume} on "arn:aws:iam::123456789012:role/{role_raw}"
    when {key} == {value_q}
}}
"#,
        doc = rng.text(),
        arn_q = quoted(&arn),
        value_q = quoted(&value),
        desc_q = quoted(&rng.text()),
        tag_q = quoted(&tag),
        test_q = quoted(&test),
        role_raw = role.replace('"', ""),
    )
}

/// A JSON policy document with non-ASCII text in some of its keys and values.
fn json_policy(rng: &mut Rng) -> String {
    let mut s = |base: &str| serde_json::to_string(&rng.maybe(base)).unwrap();
    let version = s("2012-10-17");
    let sid = s("ReadThem");
    let effect_key = s("Effect");
    let effect = s("Allow");
    let action = s("s3:GetObject");
    let resource = s("arn:aws:s3:::reports/*");
    let operator = s("StringEquals");
    let key = s("aws:PrincipalTag/team");
    let key2 = s("AWS:PrincipalTag/Team");
    let value = s("platform");
    let principal = s("arn:aws:iam::123456789012:root");
    format!(
        r#"{{"Version": {version}, "Statement": [{{"Sid": {sid}, {effect_key}: {effect},
  "Principal": {{"AWS": {principal}}}, "Action": [{action}], "Resource": {resource},
  "Condition": {{{operator}: {{{key}: {value}, {key2}: [{value}]}}}}}}]}}"#
    )
}

fn assert_no_panic(what: &str, input: &str, f: impl FnOnce() + std::panic::UnwindSafe) {
    if std::panic::catch_unwind(f).is_err() {
        panic!("panic in {what} on input:\n{input}\n{input:?}");
    }
}

#[test]
fn non_ascii_in_every_position_never_panics_compile_or_test() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..iterations(1500) {
        let project = iamx_project(&mut rng);
        assert_no_panic("compile", &project, || {
            codes(project.clone());
        });
        // Character-level mutations of the project: non-ASCII text at any boundary.
        let mutated = rng.taint(&project);
        assert_no_panic("compile", &mutated, || {
            codes(mutated.clone());
        });
    }
}

#[test]
fn non_ascii_text_spliced_into_the_examples_never_panics() {
    // Every example and fixture, with non-ASCII text put at character boundaries: in names,
    // strings, actions, ARNs, keys, comments, between tokens.
    let seeds: Vec<String> = seeds()
        .into_iter()
        .filter_map(|s| String::from_utf8(s).ok())
        .collect();
    let mut rng = Rng(0x00c0_ffee_d00d_5eed);
    for _ in 0..iterations(1500) {
        let mut input = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(3) {
            input = rng.taint_at_boundary(&input);
        }
        assert_no_panic("compile", &input, || {
            codes(input.clone());
        });
    }
}

#[test]
fn non_ascii_in_json_policies_never_panics() {
    use iamx::iam::from_json::{read_policy, JsonKind};
    use iamx::source::FileId;
    let mut rng = Rng(0x0bad_cafe_f00d_1234);
    for _ in 0..iterations(1500) {
        let mut text = json_policy(&mut rng);
        if rng.below(3) == 0 {
            text = rng.taint(&text);
        }
        assert_no_panic("read_policy", &text, || {
            for kind in [None, Some(JsonKind::Identity), Some(JsonKind::Boundary)] {
                let _ = read_policy(FileId(0), &text, kind);
            }
        });
        // Through compile, as `iamx check policy.json` reads it, with every diagnostic rendered.
        assert_no_panic("compile of a JSON policy", &text, || {
            let result = compile(
                vec![Source::new("policy.json", text.clone())],
                &Options::default(),
            );
            for d in &result.diagnostics {
                let _ = render::human(d, &result.sources, false);
                let _ = render::json(d, &result.sources);
            }
        });
    }
}

/// One line of a batch: a request with non-ASCII text in some of its fields, policies from
/// [`json_policy`], or a broken line (bad JSON, a cut multi-byte character, invalid UTF-8).
fn batch_line(rng: &mut Rng) -> Vec<u8> {
    let policy = json_policy(rng);
    // On one line: the policy as JSON text without its line breaks (`{}` if it is not JSON).
    let policy = serde_json::from_str::<serde_json::Value>(&policy)
        .map_or_else(|_| "{}".to_string(), |v| v.to_string());
    let mut s = |base: &str| serde_json::to_string(&rng.maybe(base)).unwrap();
    let line = format!(
        r#"{{"id": {id}, "identity": [{policy}], "resource_policy": {policy}, "request": {{"principal": {principal}, "action": {action}, "resource": {resource}, "context": {{{key}: {value}, {key2}: [{value}]}}}}}}"#,
        id = s("id"),
        principal = s("arn:aws:iam::123456789012:user/alice"),
        action = s("sts:AssumeRole"),
        resource = s("arn:aws:iam::123456789012:role/Deployer"),
        key = s("aws:PrincipalTag/team"),
        key2 = s("sts:ExternalId"),
        value = s("platform"),
    );
    let mut bytes = line.into_bytes();
    match rng.below(8) {
        // Cut anywhere, possibly inside a character.
        0 => bytes.truncate(rng.below(bytes.len() + 1)),
        // An invalid byte.
        1 => {
            let at = rng.below(bytes.len() + 1);
            bytes.insert(at, 0xff);
        }
        // Non-ASCII text anywhere, even outside strings.
        2 => {
            let text = String::from_utf8(bytes).unwrap();
            bytes = rng.taint(&text).into_bytes();
        }
        _ => {}
    }
    bytes
}

#[test]
fn non_ascii_batch_lines_never_panic_and_each_gets_an_answer() {
    let mut rng = Rng(0xfeed_beef_0123_4567);
    let batches = iterations(1500) / 100 + 1;
    for _ in 0..batches {
        let lines: Vec<Vec<u8>> = (0..100).map(|_| batch_line(&mut rng)).collect();
        let mut input = Vec::new();
        for l in &lines {
            input.extend_from_slice(l);
            input.push(b'\n');
        }
        let output = run_iamx(&["simulate", "--batch", "-"], &input);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(0 | 1)) && !stderr.contains("panicked"),
            "exit {:?}: {stderr}\ninput:\n{}",
            output.status.code(),
            String::from_utf8_lossy(&input)
        );
        let stdout = String::from_utf8(output.stdout).expect("the answers are UTF-8");
        let answers: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("every answer is one JSON line"))
            .collect();
        let expected = lines
            .iter()
            .filter(|l| !String::from_utf8_lossy(l).trim().is_empty())
            .count();
        assert_eq!(answers.len(), expected, "one answer per line:\n{stdout}");
        for a in &answers {
            assert!(
                a.get("decision").is_some() != a.get("error").is_some(),
                "a decision or an error: {a}"
            );
        }
    }
}

#[test]
fn non_ascii_projects_never_panic_the_commands() {
    let mut rng = Rng(0x5eed_0000_1111_2222);
    let dir = std::env::temp_dir().join(format!("iamx-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..iterations(1500) / 50 + 1 {
        let project = iamx_project(&mut rng);
        let path = dir.join(format!("p{i}.iamx"));
        std::fs::write(&path, &project).unwrap();
        let file = path.to_str().unwrap();
        let who = format!("user/{}", rng.maybe("alice"));
        let action = rng.maybe("sts:AssumeRole");
        let resource = format!("arn:aws:iam::123456789012:role/{}", rng.maybe("Deployer"));
        let context = format!("{}={}", rng.maybe("aws:PrincipalTag/team"), rng.text());
        let runs: [Vec<&str>; 5] = [
            vec!["test", file],
            vec!["check", file],
            vec!["check", file, "--message-format", "json"],
            vec!["check", file, "--message-format", "sarif"],
            vec![
                "simulate",
                "--as",
                &who,
                &action,
                &resource,
                file,
                "--context",
                &context,
            ],
        ];
        for args in &runs {
            let output = run_iamx(args, b"");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                matches!(output.status.code(), Some(0..=2)) && !stderr.contains("panicked"),
                "iamx {args:?}: exit {:?}: {stderr}\n{project}",
                output.status.code()
            );
        }
        std::fs::remove_file(&path).unwrap();
    }
    let _ = std::fs::remove_dir(&dir);
}

fn run_iamx(args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}
