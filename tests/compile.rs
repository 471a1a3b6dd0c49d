//! Every fixture under `tests/fixtures/compile/` and every example compiles without errors; the
//! JSON it produces (every document and the manifest) is pinned by a snapshot.

use std::fs;
use std::path::{Path, PathBuf};

use iamx::{compile, emit, Options, Source};

fn sources_in(path: &Path) -> Vec<Source> {
    let mut files: Vec<PathBuf> = if path.is_dir() {
        fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "iamx"))
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            Source::new(name, fs::read(f).unwrap())
        })
        .collect()
}

/// Compiles, fails the test with rendered diagnostics on any error, returns the bundle.
fn bundle(path: &Path) -> String {
    let result = compile(sources_in(path), &Options::default());
    let rendered: String = result
        .diagnostics
        .iter()
        .map(|d| iamx::diag::render::human(d, &result.sources, false))
        .collect();
    // Guardrail warnings are pinned by the guardrail tests; nothing else may be reported.
    let unexpected = result
        .diagnostics
        .iter()
        .any(|d| d.is_error() || !d.code.as_str().starts_with("W06"));
    assert!(
        !unexpected,
        "{} has diagnostics:\n{rendered}",
        path.display()
    );
    emit::bundle(result.project.as_ref().unwrap())
}

#[test]
fn fixtures_compile_to_the_pinned_json() {
    let mut fixtures: Vec<PathBuf> = fs::read_dir("tests/fixtures/compile")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "iamx"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 5);
    for fixture in fixtures {
        let name = fixture.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("fixture_{name}"), bundle(&fixture));
    }
}

#[test]
fn examples_compile_to_the_pinned_json() {
    let mut examples: Vec<PathBuf> = fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    examples.sort();
    assert!(examples.len() >= 4);
    for example in examples {
        let name = example.file_name().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("example_{name}"), bundle(&example));
    }
}

/// The seed scenario: the two documents must equal, as JSON values, the policies of the story.
#[test]
fn company_xyz_matches_the_seed_policies() {
    let result = compile(
        sources_in(Path::new("examples/company-xyz")),
        &Options::default(),
    );
    let project = result.project.expect("compiles");
    let doc = |file: &str| -> serde_json::Value {
        let d = project
            .documents
            .iter()
            .find(|d| d.file == file)
            .expect(file);
        iamx::iam::json::policy(&d.policy)
    };
    let boundary = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowIAMRoleCreation",
                "Effect": "Allow",
                "Action": ["iam:ListUsers", "iam:GetAccountPasswordPolicy", "iam:CreateUser", "iam:AttachUserPolicy"],
                "Resource": "*"
            },
            {"Sid": "AllowS3Access", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
        ]
    });
    assert_eq!(
        doc("boundaries/CompanyXYZPermissionsBoundary.json"),
        boundary
    );
    let steve = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CreateOrChangeOnlyWithBoundary",
                "Effect": "Allow",
                "Action": [
                    "iam:AttachUserPolicy", "iam:CreateUser", "iam:DeleteUserPolicy",
                    "iam:DetachUserPolicy", "iam:PutUserPermissionsBoundary", "iam:PutUserPolicy"
                ],
                "Resource": "*",
                "Condition": {"ArnEquals": {
                    "iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/CompanyXYZPermissionsBoundary"
                }}
            },
            {"Sid": "s3BucketsAccess", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
        ]
    });
    assert_eq!(
        doc("users/DeveloperSteve/policies/SteveDeveloper.json"),
        steve
    );
}

#[test]
fn output_is_deterministic() {
    let a = bundle(Path::new("tests/fixtures/compile/conditions.iamx"));
    let b = bundle(Path::new("tests/fixtures/compile/conditions.iamx"));
    assert_eq!(a, b);
}

#[test]
fn params_take_vars() {
    let mut options = Options::default();
    options.vars.0.insert("env".into(), "prod".into());
    options
        .vars
        .0
        .insert("account".into(), "210987654321".into());
    let result = compile(sources_in(Path::new("examples/multi-env")), &options);
    let project = result.project.expect("compiles");
    let deployer = project
        .principals
        .iter()
        .find(|p| p.name == "Deployer")
        .unwrap();
    assert_eq!(
        deployer.arn.as_deref(),
        Some("arn:aws:iam::210987654321:role/prod/Deployer")
    );
    assert_eq!(
        deployer.attached[0].value,
        "arn:aws:iam::210987654321:policy/prod/DeployPipeline"
    );
}

/// The tour in README.md compiles, passes its test, and its guardrail is closed.
#[test]
fn readme_example_compiles_and_is_closed() {
    let readme = fs::read_to_string("README.md").unwrap();
    let start = readme.find("```iamx\n").expect("README shows iamx") + "```iamx\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let result = compile(
        vec![Source::new("main.iamx", &readme[start..end])],
        &Options::default(),
    );
    let rendered: String = result
        .diagnostics
        .iter()
        .map(|d| iamx::diag::render::human(d, &result.sources, false))
        .collect();
    assert!(result.diagnostics.is_empty(), "{rendered}");
    let guardrail = result.guardrail.expect("analysed");
    assert!(guardrail.boundaries.iter().all(|b| b.closed));
    assert!(guardrail.principals.iter().all(|p| p.closed));
    assert_eq!(result.project.unwrap().tests.len(), 1);
}
