//! The deployment back ends: the CloudFormation template and the Terraform module of every
//! example, snapshotted, checked against the JSON target's documents, and checked for what
//! CloudFormation and Terraform need (cfn-lint where it is installed; Terraform's rules here).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn examples() -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    names.sort();
    names
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iamx-deploy-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// Builds an example to all three targets; returns the output directory.
fn build(example: &str) -> PathBuf {
    let out = scratch(example);
    let status = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(["build", &format!("examples/{example}"), "-o"])
        .arg(&out)
        .args(["--target", "json,cloudformation,terraform"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("iamx runs");
    assert_eq!(
        status.status.code(),
        Some(0),
        "{example}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    out
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Every policy document of the JSON target, by (owner or "", policy name).
fn json_documents(out: &Path) -> BTreeMap<(String, String), Value> {
    let manifest = read_json(&out.join("manifest.json"));
    let mut documents = BTreeMap::new();
    for p in manifest["policies"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap().to_string();
        documents.insert(
            (String::new(), name),
            read_json(&out.join(p["file"].as_str().unwrap())),
        );
    }
    for p in manifest["principals"].as_array().unwrap() {
        let owner = format!(
            "{}/{}",
            p["kind"].as_str().unwrap(),
            p["name"].as_str().unwrap()
        );
        for (name, file) in p["inline_policies"].as_object().unwrap() {
            documents.insert(
                (owner.clone(), name.clone()),
                read_json(&out.join(file.as_str().unwrap())),
            );
        }
        if let Some(trust) = p.get("trust_policy").and_then(Value::as_str) {
            documents.insert((owner.clone(), "trust".into()), read_json(&out.join(trust)));
        }
    }
    documents
}

#[test]
fn examples_match_their_snapshots() {
    for example in examples() {
        let out = build(&example);
        let template = fs::read_to_string(out.join("cloudformation/template.json")).unwrap();
        let module = fs::read_to_string(out.join("terraform/main.tf.json")).unwrap();
        insta::assert_snapshot!(format!("{example}-cloudformation"), template);
        insta::assert_snapshot!(format!("{example}-terraform"), module);
        let _ = fs::remove_dir_all(&out);
    }
}

#[test]
fn cloudformation_documents_equal_the_json_targets() {
    for example in examples() {
        let out = build(&example);
        let expected = json_documents(&out);
        let template = read_json(&out.join("cloudformation/template.json"));
        let mut found = BTreeMap::new();
        for resource in template["Resources"].as_object().unwrap().values() {
            let properties = &resource["Properties"];
            match resource["Type"].as_str().unwrap() {
                "AWS::IAM::InstanceProfile" => {
                    // Its one role is the template's own.
                    let roles = properties["Roles"].as_array().unwrap();
                    assert_eq!(roles.len(), 1, "{example}");
                    let role = roles[0]["Ref"].as_str().unwrap();
                    assert_eq!(
                        template["Resources"][role]["Type"], "AWS::IAM::Role",
                        "{example}"
                    );
                }
                "AWS::IAM::ManagedPolicy" => {
                    let name = properties["ManagedPolicyName"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    found.insert((String::new(), name), properties["PolicyDocument"].clone());
                }
                t => {
                    let (kind, key) = match t {
                        "AWS::IAM::Role" => ("role", "RoleName"),
                        "AWS::IAM::User" => ("user", "UserName"),
                        "AWS::IAM::Group" => ("group", "GroupName"),
                        other => panic!("{example}: unexpected resource type {other}"),
                    };
                    let owner = format!("{kind}/{}", properties[key].as_str().unwrap());
                    if let Some(trust) = properties.get("AssumeRolePolicyDocument") {
                        found.insert((owner.clone(), "trust".into()), trust.clone());
                    }
                    for p in properties
                        .get("Policies")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        found.insert(
                            (owner.clone(), p["PolicyName"].as_str().unwrap().to_string()),
                            p["PolicyDocument"].clone(),
                        );
                    }
                }
            }
        }
        assert_eq!(found, expected, "{example}");
        // Every resource has an output with its ARN.
        assert_eq!(
            template["Outputs"].as_object().unwrap().len(),
            template["Resources"].as_object().unwrap().len(),
            "{example}"
        );
        let _ = fs::remove_dir_all(&out);
    }
}

/// cfn-lint, pinned in CI, passes every example's template with no error, warning or
/// informational finding.
#[test]
fn cfn_lint_passes_every_example() {
    if Command::new("cfn-lint").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("IAMX_REQUIRE_CFN_LINT").is_none(),
            "`cfn-lint` is not installed, and IAMX_REQUIRE_CFN_LINT is set"
        );
        eprintln!("skipped: `cfn-lint` is not installed (CI installs it: see .ci/run)");
        return;
    }
    for example in examples() {
        let out = build(&example);
        let result = Command::new("cfn-lint")
            .arg(out.join("cloudformation/template.json"))
            .output()
            .unwrap();
        assert!(
            result.status.success() && result.stdout.is_empty(),
            "{example}: cfn-lint failed:\n{}{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
        let _ = fs::remove_dir_all(&out);
    }
}

/// Required arguments of each resource type iamx writes, and every argument it may write.
const SCHEMA: &[(&str, &[&str], &[&str])] = &[
    (
        "aws_iam_policy",
        &["policy"],
        &["name", "path", "description", "policy"],
    ),
    (
        "aws_iam_role",
        &["assume_role_policy"],
        &[
            "name",
            "path",
            "description",
            "assume_role_policy",
            "permissions_boundary",
            "tags",
            "depends_on",
            "max_session_duration",
        ],
    ),
    (
        "aws_iam_instance_profile",
        &["role"],
        &["name", "path", "role"],
    ),
    (
        "aws_iam_user",
        &["name"],
        &["name", "path", "permissions_boundary", "tags"],
    ),
    ("aws_iam_group", &["name"], &["name", "path"]),
    (
        "aws_iam_role_policy",
        &["role", "policy"],
        &["name", "role", "policy"],
    ),
    (
        "aws_iam_user_policy",
        &["user", "policy"],
        &["name", "user", "policy"],
    ),
    (
        "aws_iam_group_policy",
        &["group", "policy"],
        &["name", "group", "policy"],
    ),
    (
        "aws_iam_role_policy_attachment",
        &["role", "policy_arn"],
        &["role", "policy_arn"],
    ),
    (
        "aws_iam_user_policy_attachment",
        &["user", "policy_arn"],
        &["user", "policy_arn"],
    ),
    (
        "aws_iam_group_policy_attachment",
        &["group", "policy_arn"],
        &["group", "policy_arn"],
    ),
    (
        "aws_iam_user_group_membership",
        &["user", "groups"],
        &["user", "groups"],
    ),
];

/// Deprecated or account-exclusive: never written.
const FORBIDDEN: &[&str] = &[
    "inline_policy",
    "managed_policy_arns",
    "aws_iam_policy_attachment",
];

/// `${TYPE.NAME.ATTR}` interpolations in a string, as (TYPE, NAME); panics on any other
/// unescaped `${` or `%{`.
fn references(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(['$', '%']) {
        let after = &rest[i + 1..];
        if after.starts_with(rest[i..].chars().next().unwrap()) && after[1..].starts_with('{') {
            rest = &after[2..]; // `$${` or `%%{`: an escaped literal
            continue;
        }
        if !after.starts_with('{') {
            rest = after;
            continue;
        }
        assert!(rest[i..].starts_with("${"), "template directive in {s:?}");
        let end = after.find('}').expect("closed interpolation");
        let parts: Vec<&str> = after[1..end].split('.').collect();
        assert_eq!(parts.len(), 3, "unexpected interpolation in {s:?}");
        out.push((parts[0].to_string(), parts[1].to_string()));
        rest = &after[end + 1..];
    }
    out
}

fn check_module(label: &str, module: &Value, expected: &BTreeMap<(String, String), Value>) {
    let text = module.to_string();
    for word in FORBIDDEN {
        assert!(
            !text.contains(&format!("\"{word}\"")),
            "{label}: uses {word}"
        );
    }
    let resources = module["resource"].as_object().unwrap();
    let declared: BTreeSet<(String, String)> = resources
        .iter()
        .flat_map(|(t, of_type)| {
            of_type
                .as_object()
                .unwrap()
                .keys()
                .map(move |n| (t.clone(), n.clone()))
        })
        .collect();
    let mut found = BTreeMap::new();
    let mut strings = Vec::new();
    for (resource_type, of_type) in resources {
        let (_, required, allowed) = SCHEMA
            .iter()
            .find(|(t, _, _)| t == resource_type)
            .unwrap_or_else(|| panic!("{label}: unexpected resource type {resource_type}"));
        for (name, body) in of_type.as_object().unwrap() {
            assert!(
                name.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{label}: bad resource name {name}"
            );
            let body = body.as_object().unwrap();
            for argument in *required {
                assert!(
                    body.contains_key(*argument),
                    "{label}: {resource_type}.{name} lacks {argument}"
                );
            }
            for argument in body.keys() {
                assert!(
                    allowed.contains(&argument.as_str()),
                    "{label}: {resource_type}.{name} has {argument}"
                );
            }
            for dependency in body
                .get("depends_on")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (t, n) = dependency.as_str().unwrap().split_once('.').unwrap();
                assert!(
                    declared.contains(&(t.to_string(), n.to_string())),
                    "{label}: {t}.{n}"
                );
            }
            let mut parse = |key: &str, owner: String, policy: String| {
                if let Some(text) = body.get(key).and_then(Value::as_str) {
                    let unescaped = text.replace("$${", "${").replace("%%{", "%{");
                    found.insert(
                        (owner, policy),
                        serde_json::from_str::<Value>(&unescaped).unwrap(),
                    );
                }
            };
            let iam_name = |v: &Value| {
                v.as_str()
                    .unwrap()
                    .replace("$${", "${")
                    .replace("%%{", "%{")
            };
            match resource_type.as_str() {
                "aws_iam_policy" => parse("policy", String::new(), iam_name(&body["name"])),
                "aws_iam_role" => parse(
                    "assume_role_policy",
                    format!("role/{}", iam_name(&body["name"])),
                    "trust".into(),
                ),
                t if t.ends_with("_policy") => {
                    let kind = t.trim_start_matches("aws_iam_").trim_end_matches("_policy");
                    let owner = body[kind].as_str().unwrap();
                    let (ot, on) = references(owner).pop().expect("owner is a reference");
                    let owner_name = iam_name(&resources[&ot][&on]["name"]);
                    parse(
                        "policy",
                        format!("{kind}/{owner_name}"),
                        iam_name(&body["name"]),
                    );
                }
                _ => {}
            }
            strings.clear();
            collect(&Value::Object(body.clone()), &mut strings);
            for s in &strings {
                for reference in references(s) {
                    assert!(
                        declared.contains(&reference),
                        "{label}: {reference:?} is not declared"
                    );
                }
            }
        }
    }
    assert_eq!(&found, expected, "{label}");
    let outputs = module["output"].as_object().unwrap();
    let arns = declared
        .iter()
        .filter(|(t, _)| {
            matches!(
                t.as_str(),
                "aws_iam_policy"
                    | "aws_iam_role"
                    | "aws_iam_user"
                    | "aws_iam_group"
                    | "aws_iam_instance_profile"
            )
        })
        .count();
    assert_eq!(outputs.len(), arns, "{label}: an output per ARN");
    for output in outputs.values() {
        for reference in references(output["value"].as_str().unwrap()) {
            assert!(declared.contains(&reference), "{label}: {reference:?}");
        }
    }
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

#[test]
fn terraform_modules_are_well_formed() {
    for example in examples() {
        let out = build(&example);
        let expected = json_documents(&out);
        let module = read_json(&out.join("terraform/main.tf.json"));
        check_module(&example, &module, &expected);
        let _ = fs::remove_dir_all(&out);
    }
}

/// `terraform validate` where it is installed (it needs the AWS provider, so usually not).
#[test]
fn terraform_validates_where_installed() {
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("skipped: `terraform` is not installed; terraform_modules_are_well_formed checks the module");
        return;
    }
    let out = build("team-groups");
    let dir = out.join("terraform");
    let init = Command::new("terraform")
        .args(["init", "-backend=false"])
        .current_dir(&dir)
        .output()
        .unwrap();
    if !init.status.success() {
        eprintln!("skipped: `terraform init` failed (no provider download?)");
        return;
    }
    let validate = Command::new("terraform")
        .arg("validate")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stdout)
    );
}

/// IAM policy variables and names that escape alike reach both back ends unchanged.
#[test]
fn variables_and_awkward_names_survive() {
    let source = r#"account "123456789012"
user "team=data" { allow s3:GetObject on "arn:aws:s3:::home/${aws:username}/*" }
user "team.data" { allow s3:GetObject on "arn:aws:s3:::home/%\{x}/*" }
group "9lives" { allow s3:ListAllMyBuckets on * }
user "Z" { groups "9lives" }
"#;
    let compilation = iamx::compile(
        vec![iamx::Source::new("awkward.iamx", source)],
        &iamx::Options::default(),
    );
    let project = compilation.project.as_ref().expect("compiles");
    assert!(!compilation.diagnostics.iter().any(|d| d.is_error()));
    let template = iamx::emit::cloudformation::template(project);
    let resources = template["Resources"].as_object().unwrap();
    assert_eq!(resources.len(), 4);
    assert!(resources
        .keys()
        .all(|k| k.chars().all(|c| c.is_ascii_alphanumeric())));
    let text = template.to_string();
    assert!(text.contains("home/${aws:username}/*") && !text.contains("Fn::Sub"));
    let module = iamx::emit::terraform::module(project);
    let users = module["resource"]["aws_iam_user_policy"]
        .as_object()
        .unwrap();
    assert_eq!(users.len(), 2);
    let text = module.to_string();
    assert!(text.contains("home/$${aws:username}/*"), "{text}");
    assert!(text.contains("home/%%{x}/*"), "{text}");
    assert!(module["resource"]["aws_iam_group"]["_9lives"].is_object());
    let mut expected = BTreeMap::new();
    for d in &project.documents {
        let owner = d
            .owner
            .as_ref()
            .map(|o| format!("{}/{o}", if o == "9lives" { "group" } else { "user" }));
        expected.insert(
            (owner.unwrap_or_default(), d.name.clone()),
            iamx::iam::json::policy(&d.policy),
        );
    }
    check_module("awkward", &module, &expected);
}

/// Roles that trust each other: the dependency that would close the cycle is left out (a cycle
/// is an error to both engines), with W1103.
#[test]
fn trust_cycles_are_broken_and_reported() {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/diagnostics/W1103_roles_trust_each_other.iamx"),
    )
    .unwrap();
    let options = iamx::Options {
        targets: vec![
            iamx::emit::Target::CloudFormation,
            iamx::emit::Target::Terraform,
        ],
        ..Default::default()
    };
    let compilation = iamx::compile(vec![iamx::Source::new("main.iamx", source)], &options);
    let codes: Vec<&str> = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, ["W1103"]);
    let project = compilation.project.as_ref().unwrap();
    let template = iamx::emit::cloudformation::template(project);
    let resources = template["Resources"].as_object().unwrap();
    assert_eq!(
        resources["RolePrimary"]["DependsOn"],
        serde_json::json!(["RoleStandby"])
    );
    assert!(resources["RoleStandby"].get("DependsOn").is_none());
    let module = iamx::emit::terraform::module(project);
    let roles = &module["resource"]["aws_iam_role"];
    assert_eq!(
        roles["Primary"]["depends_on"],
        serde_json::json!(["aws_iam_role.Standby"])
    );
    assert!(roles["Standby"].get("depends_on").is_none());
    if Command::new("cfn-lint").arg("--version").output().is_ok() {
        let dir = scratch("cycle");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("template.json");
        fs::write(&path, iamx::iam::json::pretty(&template)).unwrap();
        let result = Command::new("cfn-lint").arg(&path).output().unwrap();
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stdout)
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
