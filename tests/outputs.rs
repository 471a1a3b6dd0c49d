//! Output paths come from names: whatever the names, no two outputs share a file (even where file
//! names ignore case), and no path leaves the output directory.

use std::collections::BTreeMap;

use iamx::{compile, emit, Options, Source};

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Names chosen to collide: case variants, the default inline policy name of a principal,
/// `.`/`..`, and names of the layout's own files and directories.
const NAMES: &[&str] = &[
    "a",
    "A",
    "aPolicy",
    "APolicy",
    "Apolicy",
    "aDelegation",
    ".",
    "..",
    "...",
    "trust",
    "trust.json",
    "policies",
    "manifest.json",
    "manifest",
    "roles",
    "b.json",
    "B.JSON",
];

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

fn random_project(rng: &mut Rng) -> String {
    let mut text = String::from("account \"123456789012\"\n");
    for _ in 0..(1 + rng.next() % 5) {
        let name = quoted(rng.pick(NAMES));
        let body = "allow s3:GetObject on *";
        let mut inline = String::new();
        for _ in 0..(rng.next() % 3) {
            let policy = rng.pick(NAMES);
            // Inline policy names are identifiers: only the ones that are.
            if policy.chars().all(|c| c.is_ascii_alphanumeric()) {
                inline.push_str(&format!("  policy {policy} {{ {body} }}\n"));
            }
        }
        let loose = if rng.next() % 2 == 0 { body } else { "" };
        match rng.next() % 5 {
            0 => text.push_str(&format!(
                "role {name} {{\n  trust {{ allow account }}\n{inline}  {loose}\n}}\n"
            )),
            1 => text.push_str(&format!("user {name} {{\n{inline}  {body}\n}}\n")),
            2 => text.push_str(&format!("group {name} {{\n{inline}  {body}\n}}\n")),
            3 => {
                let policy = rng.pick(NAMES);
                if policy.chars().all(|c| c.is_ascii_alphanumeric()) {
                    text.push_str(&format!("policy {policy} {{ {body} }}\n"));
                }
            }
            _ => {
                let policy = rng.pick(NAMES);
                if policy.chars().all(|c| c.is_ascii_alphanumeric()) {
                    text.push_str(&format!("boundary {policy} {{ {body} }}\n"));
                }
            }
        }
    }
    text
}

/// Why a path is not safe to write under the output directory, if it is not.
fn unsafe_path(path: &str) -> Option<&'static str> {
    if path.starts_with('/') || path.contains('\\') {
        return Some("absolute, or with a backslash");
    }
    path.split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
        .then_some("an empty, `.` or `..` component")
}

#[test]
fn no_two_principals_or_policies_map_to_one_output_path() {
    let mut rng = Rng(0x15_15_15_15);
    let (mut compiled, mut refused) = (0, 0);
    for _ in 0..400 {
        let text = random_project(&mut rng);
        let result = compile(
            vec![Source::new("main.iamx", text.clone())],
            &Options::default(),
        );
        let Some(project) = result.project.as_ref().filter(|_| !result.has_errors()) else {
            refused += 1;
            continue;
        };
        compiled += 1;
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for artifact in emit::files(project) {
            if let Some(why) = unsafe_path(&artifact.path) {
                panic!("`{}` is {why}, from:\n{text}", artifact.path);
            }
            let folded = artifact.path.to_ascii_lowercase();
            if let Some(first) = seen.insert(folded, artifact.path.clone()) {
                panic!(
                    "`{first}` and `{}` are one file where names ignore case, from:\n{text}",
                    artifact.path
                );
            }
        }
        // A file and a directory may not share a name either.
        for folded in seen.keys() {
            let mut prefix = String::new();
            for part in folded
                .rsplit_once('/')
                .map_or("", |(dir, _)| dir)
                .split('/')
            {
                prefix.push_str(part);
                assert!(
                    !seen.contains_key(&prefix),
                    "`{prefix}` is a file and a directory, from:\n{text}"
                );
                prefix.push('/');
            }
        }
    }
    // Both sides were exercised: projects that compile, and ones refused for their names.
    assert!(compiled > 50, "only {compiled} projects compiled");
    assert!(refused > 50, "only {refused} projects were refused");
}

#[test]
fn dot_names_are_refused() {
    for source in [
        "account \"123456789012\"\nuser \"..\" { allow s3:GetObject on * }\n",
        "account \"123456789012\"\nrole \".\" { trust { allow account } }\n",
        "account \"123456789012\"\ngroup \"..\" { allow s3:GetObject on * }\n",
    ] {
        let result = compile(vec![Source::new("main.iamx", source)], &Options::default());
        let codes: Vec<&str> = result.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["E0213"], "{source}");
        assert!(result.project.is_none() || result.has_errors());
    }
}
