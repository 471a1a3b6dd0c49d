//! `iamx import`: every AWS managed policy imports to iamx that builds back to it, and the
//! unusual shapes AWS accepts either round-trip or are refused with E1001.

use iamx::iam::from_json::JsonKind;
use iamx::import::{import, normalize, print, ImportOptions};
use iamx::source::FileId;

/// Imports `json`, then builds the printed file and returns its one document, normalized.
fn round_trip(
    name: &str,
    json: &str,
    kind: Option<JsonKind>,
    account: Option<&str>,
) -> Result<(String, serde_json::Value), String> {
    let options = ImportOptions {
        name: name.to_string(),
        kind,
        account: account.map(str::to_string),
    };
    let (item, _warnings) = import(FileId(0), json, &options).map_err(|ds| {
        ds.iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let text = print(vec![item], account);
    let (project, diagnostics) = iamx::lower_sources(
        vec![iamx::Source::new("imported.iamx", text.clone())],
        &iamx::Options::default(),
    );
    let project = project
        .ok_or_else(|| format!("the imported file does not build: {diagnostics:?}\n{text}"))?;
    let document = &project.documents[0];
    Ok((text, normalize(&iamx::iam::json::policy(&document.policy))))
}

#[test]
fn every_aws_managed_policy_round_trips() {
    let started = std::time::Instant::now();
    let mut count = 0;
    let mut failures = Vec::new();
    for policy in iamx::awsdb::managed_policies() {
        count += 1;
        let name = iamx::import::name_from_stem(policy.name);
        match round_trip(&name, policy.document, Some(JsonKind::Identity), None) {
            Ok((text, built)) => {
                let original = normalize(&serde_json::from_str(policy.document).unwrap());
                if built.to_string() != original.to_string() {
                    failures.push(format!("{}: builds to something else\n{text}", policy.name));
                }
                // The imported file is in the canonical layout.
                let formatted = iamx::format::format_source(FileId(0), &text);
                if formatted.as_deref() != Ok(text.as_str()) {
                    failures.push(format!("{}: not formatted: {formatted:?}", policy.name));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", policy.name)),
        }
    }
    eprintln!(
        "{count} AWS managed policies imported and built back in {:?}",
        started.elapsed()
    );
    assert!(count >= 1500, "only {count} managed policies");
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}
