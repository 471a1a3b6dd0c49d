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

/// A fresh directory: one per call, as tests run in parallel and build the same examples.
fn scratch(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("iamx-deploy-{}-{n}-{name}", std::process::id()));
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

/// A project of `policies` managed policies, a boundary, and roles attaching some of them.
fn large_project(policies: usize) -> String {
    let mut source =
        String::from("account \"123456789012\"\n\nboundary Fence { allow s3:*, sqs:* on * }\n");
    for i in 0..policies {
        source.push_str(&format!(
            "policy Read{i} {{ allow s3:GetObject, s3:ListBucket on \"arn:aws:s3:::bucket-{i}\", \"arn:aws:s3:::bucket-{i}/*\" }}\n"
        ));
    }
    for r in 0..3 {
        source.push_str(&format!(
            "role Reader{r} {{\n  trust {{ allow service ec2.amazonaws.com }}\n  boundary Fence\n  attach Read{}, Read{}, aws ReadOnlyAccess\n  instance profile\n}}\n",
            r * 7,
            policies - 1 - r
        ));
    }
    source
}

/// Builds `source`, a project of one file, to `targets` in a fresh directory; returns the
/// output directory.
fn build_source(name: &str, source: &str, targets: &str) -> PathBuf {
    let dir = scratch(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("main.iamx"), source).unwrap();
    let out = dir.join("out");
    let result = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .arg("build")
        .arg(dir.join("main.iamx"))
        .arg("-o")
        .arg(&out)
        .args(["--target", targets])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// Builds `source` to the CloudFormation target; returns every template by its path.
fn cloudformation_of(name: &str, source: &str) -> (PathBuf, BTreeMap<String, Value>) {
    let out = build_source(name, source, "json,cloudformation");
    let templates = fs::read_dir(out.join("cloudformation"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                read_json(&p),
            )
        })
        .collect();
    (out, templates)
}

/// Past one template's quotas (here 301 outputs), policies go to nested stacks: each fits,
/// every policy is in one, every reference to one names an output of its stack, and the
/// documents are the JSON target's.
#[test]
fn large_projects_nest_their_policies() {
    let (out, templates) = cloudformation_of("nested", &large_project(300));
    let top = &templates["template.json"];
    let resources = top["Resources"].as_object().unwrap();
    let stacks: Vec<(&String, &Value)> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudFormation::Stack")
        .collect();
    assert!(stacks.len() >= 2, "{} stacks", stacks.len());
    assert_eq!(templates.len(), stacks.len() + 1, "a file per stack");
    // Which stack outputs which policy ARN.
    let mut outputs_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut policies = BTreeMap::new();
    for (id, stack) in &stacks {
        let file = stack["Properties"]["TemplateURL"].as_str().unwrap();
        let child = &templates[file];
        let (resources, outputs) = (
            child["Resources"].as_object().unwrap(),
            child["Outputs"].as_object().unwrap(),
        );
        assert!(resources.len() <= 500 && outputs.len() <= 200, "{file}");
        assert!(
            fs::read_to_string(out.join("cloudformation").join(file))
                .unwrap()
                .len()
                <= 1_000_000
        );
        for (name, output) in outputs {
            let target = output["Value"]["Ref"].as_str().unwrap();
            assert!(resources.contains_key(target), "{file}: {name}");
        }
        outputs_of.insert(id.to_string(), outputs.keys().cloned().collect());
        for resource in resources.values() {
            assert_eq!(resource["Type"], "AWS::IAM::ManagedPolicy");
            let name = resource["Properties"]["ManagedPolicyName"]
                .as_str()
                .unwrap();
            let before = policies.insert(
                (String::new(), name.to_string()),
                resource["Properties"]["PolicyDocument"].clone(),
            );
            assert!(before.is_none(), "{name} is in two stacks");
        }
    }
    let expected: BTreeMap<_, _> = json_documents(&out)
        .into_iter()
        .filter(|((owner, _), _)| owner.is_empty())
        .collect();
    assert_eq!(policies, expected);
    // References from the top template name outputs of the stacks.
    let mut references = 0;
    let mut strings = Vec::new();
    fn get_atts(value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(args)) = map.get("Fn::GetAtt") {
                    out.push((
                        args[0].as_str().unwrap().to_string(),
                        args[1].as_str().unwrap().to_string(),
                    ));
                }
                map.values().for_each(|v| get_atts(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| get_atts(v, out)),
            _ => {}
        }
    }
    let mut atts = Vec::new();
    get_atts(&top["Resources"], &mut atts);
    for (id, attribute) in atts {
        if let Some(output) = attribute.strip_prefix("Outputs.") {
            assert!(outputs_of[&id].contains(output), "{id}.{output}");
            references += 1;
        }
    }
    assert_eq!(
        references,
        3 * 3,
        "three roles, a boundary and two policies each"
    );
    collect(top, &mut strings);
    assert!(strings
        .iter()
        .any(|s| s == "arn:aws:iam::aws:policy/ReadOnlyAccess"));
    // Roles and their instance profiles, with outputs, stay on top.
    assert_eq!(top["Outputs"].as_object().unwrap().len(), 6);
    if Command::new("cfn-lint").arg("--version").output().is_ok() {
        let mut lint = Command::new("cfn-lint");
        for file in templates.keys() {
            lint.arg(out.join("cloudformation").join(file));
        }
        let result = lint.output().unwrap();
        assert!(
            result.status.success() && result.stdout.is_empty(),
            "cfn-lint:\n{}{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

/// Adding a policy moves no other policy to another stack while the number of stacks stays
/// the same: CloudFormation would delete it from one and fail to create it, by its name, in
/// the other.
#[test]
fn nested_stacks_are_stable() {
    let stack_of = |templates: &BTreeMap<String, Value>| -> BTreeMap<String, String> {
        templates
            .iter()
            .filter(|(file, _)| file.as_str() != "template.json")
            .flat_map(|(file, t)| {
                t["Resources"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(move |id| (id.clone(), file.clone()))
            })
            .collect()
    };
    let (_, before) = cloudformation_of("stable-a", &large_project(300));
    let added = large_project(300).replacen(
        "policy Read0 ",
        "policy Added { allow s3:GetObject on \"arn:aws:s3:::added/*\" }\npolicy Read0 ",
        1,
    );
    let (_, after) = cloudformation_of("stable-b", &added);
    assert_eq!(before.len(), after.len(), "the number of stacks changed");
    let (a, b) = (stack_of(&before), stack_of(&after));
    assert_eq!(b.len(), a.len() + 1);
    for (id, file) in &a {
        assert_eq!(b.get(id), Some(file), "{id} moved");
    }
}

/// `iamx check --target` runs the back ends' checks, and writes nothing.
#[test]
fn check_runs_the_targets_checks() {
    let fixture = "tests/fixtures/diagnostics/E1101_too_many_outputs.iamx";
    let check = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_iamx"))
            .args(["check", fixture])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let plain = check(&[]);
    assert_eq!(
        plain.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    for targets in ["cloudformation", "json,cloudformation,terraform"] {
        let out = check(&["--target", targets]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("[E1101]"), "{stderr}");
    }
    let terraform = check(&["--target", "terraform"]);
    assert_eq!(terraform.status.code(), Some(0));
    let unknown = check(&["--target", "pulumi"]);
    assert_eq!(unknown.status.code(), Some(2));
}

/// A project whose managed and inline policies are split: both back ends list the parts,
/// attach them, and pass their checks.
#[test]
fn split_parts_deploy() {
    let mut source = String::from(
        "account \"123456789012\"\n\n@split\nuser alice {\n  path \"/team/\"\n  policy Reads {\n",
    );
    for i in 0..40 {
        source.push_str(&format!(
            "    @sid(Read{i:03})\n    allow s3:GetObject on \"arn:aws:s3:::bucket-{i:03}/reports/*\"\n"
        ));
    }
    source.push_str("  }\n  policy Small {\n    allow s3:ListAllMyBuckets on *\n  }\n}\n\n@split\npolicy Big {\n");
    for i in 0..80 {
        source.push_str(&format!(
            "  @sid(Write{i:03})\n  allow s3:PutObject on \"arn:aws:s3:::bucket-{i:03}/incoming/*\"\n"
        ));
    }
    source.push_str("}\n\nrole Writer {\n  trust { allow account }\n  attach Big\n}\n");
    let out = build_source("split-parts", &source, "json,cloudformation,terraform");
    let expected = json_documents(&out);
    let names: BTreeSet<&str> = expected.keys().map(|(_, n)| n.as_str()).collect();
    assert!(
        names.contains("Big-1") && names.contains("alice-Reads-1"),
        "{names:?}"
    );
    assert!(!names.contains("Reads"), "{names:?}");
    let module = read_json(&out.join("terraform/main.tf.json"));
    check_module("split", &module, &expected);
    let attachments = module["resource"]["aws_iam_user_policy_attachment"]
        .as_object()
        .unwrap();
    assert!(
        attachments
            .keys()
            .any(|k| k.contains("alice-Reads-1") || k.contains("aliceZ2DReadsZ2D1")),
        "{attachments:?}"
    );
    let template = read_json(&out.join("cloudformation/template.json"));
    let alice = &template["Resources"]["Useralice"]["Properties"];
    assert_eq!(
        alice["Policies"].as_array().unwrap().len(),
        1,
        "Small stays inline"
    );
    assert!(!alice["ManagedPolicyArns"].as_array().unwrap().is_empty());
    if Command::new("cfn-lint").arg("--version").output().is_ok() {
        let lint = Command::new("cfn-lint")
            .arg(out.join("cloudformation/template.json"))
            .output()
            .unwrap();
        assert!(
            lint.status.success() && lint.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&lint.stdout)
        );
    }
}
