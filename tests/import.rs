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
                if !iamx::import::same(&built, &original) {
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

/// Imports a document and asserts it builds back to it (normalized); returns the iamx text.
fn imports(json: &str, kind: Option<JsonKind>, account: Option<&str>) -> String {
    let (text, built) =
        round_trip("Imported", json, kind, account).unwrap_or_else(|e| panic!("{e}\n{json}"));
    let mut original: serde_json::Value = serde_json::from_str(json).unwrap();
    original["Version"] = serde_json::json!("2012-10-17");
    assert_eq!(
        built.to_string(),
        normalize(&original).to_string(),
        "\n{text}"
    );
    text
}

/// The codes of the diagnostics an import that fails gives.
fn refused(json: &str, kind: Option<JsonKind>) -> Vec<String> {
    refusal(json, kind)
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect()
}

/// The diagnostics of an import that must fail.
fn refusal(json: &str, kind: Option<JsonKind>) -> Vec<iamx::diag::Diagnostic> {
    let options = ImportOptions {
        name: "Imported".into(),
        kind,
        account: None,
    };
    match import(FileId(0), json, &options) {
        Ok((item, _)) => panic!("imported:\n{}", print(vec![item], None)),
        Err(ds) => ds,
    }
}

fn warnings(json: &str) -> Vec<String> {
    let options = ImportOptions {
        name: "Imported".into(),
        kind: None,
        account: None,
    };
    let (_, warnings) = import(FileId(0), json, &options).unwrap_or_else(|e| panic!("{e:?}"));
    warnings
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect()
}

#[test]
fn identity_policy_reads_as_iamx() {
    let text = imports(
        r#"{"Version": "2012-10-17", "Statement": [
          {"Sid": "Read", "Effect": "Allow",
           "Action": ["s3:GetObject", "s3:PutObject", "ec2:DescribeInstances", "s3:ListBucket"],
           "Resource": ["arn:aws:s3:::b-123456789012/home/${aws:username}/*", "arn:aws:s3:::{braces}"],
           "Condition": {"Bool": {"aws:SecureTransport": "true"},
                         "StringEquals": {"aws:PrincipalTag/team": ["a", "b"]},
                         "ForAllValues:StringEquals": {"aws:TagKeys": ["x", "y"]},
                         "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                         "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
                         "Null": {"aws:ResourceTag/x": "false"},
                         "StringEqualsIgnoreCase": {"aws:username": "Bob"},
                         "StringNotEqualsIfExists": {"aws:RequestedRegion": "us-east-1"},
                         "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                         "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:x"},
                         "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
          {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::x"}
        ]}"#,
        None,
        Some("123456789012"),
    );
    insta::assert_snapshot!(text);
}

#[test]
fn unusual_shapes_round_trip() {
    // Statement as an object, lower-case actions, `Principal: "*"` in a trust policy.
    imports(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "S3:getobject", "Resource": "*"}}"#,
        None,
        None,
    );
    imports(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}"#,
        Some(JsonKind::Trust),
        None,
    );
    // A trust policy of every principal kind, in its order, with explicit actions.
    imports(
        r#"{"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"], "AWS": "arn:aws:iam::123456789012:root"},
           "Action": ["sts:AssumeRole", "sts:TagSession"]},
          {"Sid": "Web", "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
           "Action": "sts:AssumeRoleWithWebIdentity",
           "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/r:*"}}}]}"#,
        Some(JsonKind::Trust),
        Some("123456789012"),
    );
    // Version 2008-10-17, or none, without policy variables: the same under 2012-10-17.
    for version in [r#""Version": "2008-10-17","#, ""] {
        let json = format!(
            r#"{{{version} "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}]}}"#
        );
        imports(&json, None, None);
        assert_eq!(warnings(&json), ["W1004"]);
    }
    // A very long list.
    let actions: Vec<String> = iamx::awsdb::actions_matching("ec2:Describe*")
        .iter()
        .map(|(s, a)| format!("\"{}:{}\"", s.prefix, a.name))
        .collect();
    assert!(actions.len() > 100);
    let json = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": [{}], "Resource": "*"}}]}}"#,
        actions.join(", ")
    );
    let text = imports(&json, None, None);
    assert!(
        text.lines().all(|l| l.len() <= iamx::format::WIDTH),
        "{text}"
    );
    // Values listed twice are written once: AWS reads them once.
    let json = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:getObject"], "Resource": ["*", "*"]}]}"#;
    imports(json, None, None);
    assert_eq!(warnings(json), ["W1003", "W1003"]);
}

#[test]
fn what_iamx_cannot_say_is_refused() {
    let statement = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}"}"#;
    // Policy variables under 2008-10-17 are taken literally: iamx would change that.
    assert_eq!(
        refused(
            &format!(r#"{{"Version": "2008-10-17", "Statement": [{statement}]}}"#),
            None
        ),
        ["E1001"]
    );
    assert_eq!(
        refused(&format!(r#"{{"Statement": [{statement}]}}"#), None),
        ["E1001"]
    );
    // `Id` in a trust policy is kept too: `trust { id "…" … }`.
    let text = imports(
        r#"{"Version": "2012-10-17", "Id": "x", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#,
        Some(JsonKind::Trust),
        None,
    );
    assert!(text.contains("trust {\n    id \"x\"\n"), "{text}");
    let text = imports(
        &format!(
            r#"{{"Version": "2012-10-17", "Id": "legacy {{x}}", "Statement": [{statement}]}}"#
        ),
        Some(JsonKind::Boundary),
        None,
    );
    assert!(
        text.starts_with("boundary Imported {\n  id \"legacy"),
        "{text}"
    );
    // A condition key twice in different case under one operator.
    assert_eq!(
        refused(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                "Condition": {"StringEquals": {"aws:username": "a", "AWS:UserName": "b"}}}]}"#,
            None
        ),
        ["E1001"]
    );
    // A principal kind iamx has no word for; `NotPrincipal` outside a resource-based policy.
    assert_eq!(
        refused(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"CanonicalUser": "79a5"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}"#,
            None
        ),
        ["E1001"]
    );
    assert_eq!(
        refused(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]}"#,
            Some(JsonKind::Trust)
        ),
        // The reader refuses `NotPrincipal` in a trust policy, as AWS does.
        ["E0208"]
    );
    // A bare account id as principal is kept as written.
    let text = imports(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}]}"#,
        Some(JsonKind::Trust),
        None,
    );
    assert!(text.contains(r#"allow "111122223333""#), "{text}");
}

#[test]
fn bad_input_points_at_the_json() {
    // Malformed JSON, not a policy, an unknown element, a wrong type.
    assert_eq!(
        refused(r#"{"Version": "2012-10-17", "Statement": ["#, None),
        ["E0105"]
    );
    assert!(!refused("[1, 2]", None).is_empty());
    assert!(!refused(r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Acton": "s3:*", "Resource": "*"}]}"#, None).is_empty());
    assert!(!refused(r#"{"Version": "2012-10-17", "Statement": [{"Effect": 1, "Action": "s3:*", "Resource": "*"}]}"#, None).is_empty());
}

/// Every JSON document among the fixtures (AWS managed samples, diagnostics, CLI inputs):
/// import either proves its output or refuses with diagnostics; it never panics.
#[test]
fn every_json_fixture_imports_or_is_refused() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut files,
    );
    assert!(files.len() > 20);
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let options = ImportOptions {
            name: "Imported".into(),
            kind: None,
            account: None,
        };
        let result = std::panic::catch_unwind(|| import(FileId(0), &text, &options));
        match result {
            Err(_) => panic!("import panicked on {}", file.display()),
            Ok(Err(diagnostics)) => assert!(
                diagnostics.iter().any(|d| d.is_error()),
                "{}: refused without an error",
                file.display()
            ),
            Ok(Ok(_)) => {}
        }
    }
}

/// Each error of a refused import with the line of the JSON it points at.
fn refused_at(json: &str, kind: Option<JsonKind>) -> Vec<(String, usize)> {
    refusal(json, kind)
        .iter()
        .map(|d| {
            let span = d.span.expect("the diagnostic points at the JSON");
            let line = json[..span.start as usize].matches('\n').count() + 1;
            (d.code.as_str().to_string(), line)
        })
        .collect()
}

#[test]
fn bad_input_points_at_the_line() {
    // Malformed JSON: where it breaks.
    let codes = refused_at("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\",, \"Action\": \"s3:*\"}\n  ]\n}\n", None);
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0].1, 4, "{codes:?}");
    // Not a policy: an object without `Statement`.
    let codes = refused_at(
        "{\n  \"Version\": \"2012-10-17\",\n  \"Rules\": []\n}\n",
        None,
    );
    assert!(!codes.is_empty());
    assert!(codes.iter().any(|(_, line)| *line == 3), "{codes:?}");
    // An unknown element, on its line.
    let codes = refused_at(
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n    \"Acton\": \"s3:*\",\n    \"Resource\": \"*\"\n  }]\n}\n",
        None,
    );
    assert!(codes.iter().any(|(_, line)| *line == 5), "{codes:?}");
    // A value of the wrong type, on its line.
    let codes = refused_at(
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n    \"Action\": \"s3:*\",\n    \"Resource\": 7\n  }]\n}\n",
        None,
    );
    assert!(codes.iter().any(|(_, line)| *line == 6), "{codes:?}");
    // What iamx cannot say, on its line: a `CanonicalUser` principal.
    let codes = refused_at(
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Principal\": {\"CanonicalUser\": \"79a5\"}, \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/*\"}]\n}\n",
        Some(JsonKind::Resource),
    );
    assert_eq!(codes, [("E1001".to_string(), 4)]);
}

#[test]
fn resource_based_policies_round_trip() {
    // A bucket policy with every element a resource-based policy may have: an `Id`, Sids,
    // `NotPrincipal`, `NotAction`, `NotResource`, anyone, and a condition.
    let text = imports(
        r#"{"Version": "2012-10-17", "Id": "reports-bucket-policy", "Statement": [
            {"Sid": "ReporterReads", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam::123456789012:role/Reporter", "arn:aws:iam::111122223333:root"]},
             "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::reports/*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "NotAction": "s3:GetObject",
             "NotResource": "arn:aws:s3:::reports/public/*"}]}"#,
        Some(JsonKind::Resource),
        Some("123456789012"),
    );
    assert!(text.contains("resource policy Imported {"), "{text}");
    assert!(
        text.contains("deny not \"111122223333\" to not s3:GetObject on not"),
        "{text}"
    );
    // A key policy, told apart from an identity policy by its `Principal` without `--as`.
    let text = imports(
        r#"{"Version": "2012-10-17", "Id": "key-default-1", "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "AllowCloudTrail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
             "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:123456789012:trail/*"}}}]}"#,
        None,
        Some("123456789012"),
    );
    assert!(text.contains("allow account to kms:* on *"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn real_world_shapes_round_trip() {
    // Mixed-case actions next to AWS's spelling, in one list, in their order.
    imports(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["EC2:describeInstances", "s3:GetObject", "s3:LISTBUCKET"], "Resource": "*"}]}"#,
        None,
        None,
    );
    // Condition keys differing in case under different operators: each operator tests its own.
    imports(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}, "StringLike": {"AWS:PrincipalTag/Team": "b*"}}}]}"#,
        None,
        None,
    );
    // `Principal: "*"` with a condition, as an identity-less trust.
    imports(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ["111122223333", "444455556666"]}}}}"#,
        Some(JsonKind::Trust),
        None,
    );
    // A long list of resources, and of condition values, in their order.
    let buckets: Vec<String> = (0..300)
        .map(|i| format!("\"arn:aws:s3:::bucket-{:03}/*\"", 299 - i))
        .collect();
    let values: Vec<String> = (0..200).map(|i| format!("\"10.{i}.0.0/16\"")).collect();
    let json = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Action": "s3:*", "Resource": [{}],
            "Condition": {{"NotIpAddress": {{"aws:SourceIp": [{}]}}}}}}]}}"#,
        buckets.join(", "),
        values.join(", ")
    );
    let text = imports(&json, None, None);
    assert!(
        text.lines().all(|l| l.len() <= iamx::format::WIDTH),
        "{text}"
    );
}

/// `id "…"` in a managed policy or boundary is the document's `Id`; given twice, an error.
#[test]
fn a_policy_id_is_written_into_its_document() {
    let compile = |text: &str| {
        let result = iamx::compile(
            vec![iamx::Source::new("main.iamx", text)],
            &iamx::Options::default(),
        );
        let codes: Vec<String> = result
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.as_str().to_string())
            .collect();
        let files = result
            .project
            .filter(|_| codes.is_empty())
            .map(|p| iamx::emit::files(&p));
        (files, codes)
    };
    let (files, codes) = compile(
        "account \"123456789012\"\n\npolicy Legacy {\n  id \"legacy-admin\"\n  allow s3:* on *\n}\n",
    );
    assert!(codes.is_empty(), "{codes:?}");
    let file = files
        .unwrap()
        .into_iter()
        .find(|f| f.path == "policies/Legacy.json")
        .unwrap();
    assert!(
        file.contents
            .starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"legacy-admin\",\n"),
        "{}",
        file.contents
    );
    let (_, codes) = compile(
        "account \"123456789012\"\n\npolicy Legacy {\n  id \"a\"\n  id \"b\"\n  allow s3:* on *\n}\n",
    );
    assert_eq!(codes, ["E0207"]);
    // A name may still be `id`.
    let (_, codes) = compile("account \"123456789012\"\n\npolicy id {\n  allow s3:* on *\n}\n");
    assert!(codes.is_empty(), "{codes:?}");
}

/// A policy read from a JSON document (`= json "…"`) keeps the document's `Id`.
#[test]
fn an_included_document_keeps_its_id() {
    let dir = std::env::temp_dir().join(format!("iamx-import-id-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("iam")).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/with-id.json"),
        dir.join("iam/legacy.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("iam/main.iamx"),
        "account \"123456789012\"\n\npolicy Legacy = json \"legacy.json\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_iamx"))
        .arg("build")
        .arg(dir.join("iam"))
        .arg("-o")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = std::fs::read_to_string(dir.join("out/policies/Legacy.json")).unwrap();
    assert!(
        built.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"legacy\",\n"),
        "{built}"
    );
}
