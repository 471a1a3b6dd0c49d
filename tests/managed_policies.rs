//! Real AWS managed policies as input for `iamx check`-style JSON checking.
//!
//! `tests/fixtures/aws-managed/<Name>.json` holds the default-version document of a sample of AWS
//! managed policies, copied from the embedded data (`data/managed-policies/<Name>.json`, field
//! `document`): big and small ones, identity policies of every path (`/`, `/service-role/`,
//! `/aws-service-role/`, `/job-function/`, `/root-task/`), conditions of every operator family
//! AWS uses, `NotAction` and `NotResource`, wildcards, and a few on which iamx has findings.
//!
//! Each document is compiled alone, as `<Name>.json`, with default options (so the kind is
//! detected and sizes are not checked). The test asserts that nothing panics, that the error
//! codes are exactly those of [`EXPECTED`], and snapshots every rendered diagnostic, warnings
//! included, in `tests/snapshots/managed_policies__diagnostics.snap`.
//!
//! When the embedded data is regenerated, `fixtures_equal_the_embedded_documents` says which
//! fixtures to refresh (copy the `document` field again, pretty-printed with two spaces).
//! To accept new output: `INSTA_UPDATE=always cargo test --test managed_policies`, then read the
//! snapshot before committing it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use iamx::diag::Severity;

/// Every fixture, with the error codes iamx reports on it (warnings are in the snapshot only).
///
/// An error on an AWS managed policy is a claim that AWS's own policy names something the
/// Service Authorization Reference does not have; each one says why that is a real fact.
const EXPECTED: &[(&str, &[&str])] = &[
    // The best-known policies.
    ("AdministratorAccess", &[]),
    ("PowerUserAccess", &[]), // NotAction with Allow: W0308
    // `deepcomposer` (AWS DeepComposer) and `iot1click` (AWS IoT 1-Click), both discontinued:
    // their prefixes are gone from the reference, and ReadOnlyAccess still lists their actions.
    ("ReadOnlyAccess", &["E0401"]),
    // `deepracer`: AWS DeepRacer's prefix is no longer in the reference.
    ("SecurityAudit", &["E0401"]),
    ("ViewOnlyAccess", &[]),
    ("AmazonS3FullAccess", &[]),
    ("AmazonS3ReadOnlyAccess", &[]),
    ("AmazonEC2FullAccess", &[]),
    ("IAMFullAccess", &[]),
    ("IAMUserChangePassword", &[]),
    ("AWSLambdaBasicExecutionRole", &[]),
    ("AWSLambda_FullAccess", &[]),
    ("AmazonDynamoDBFullAccess", &[]),
    ("AmazonEKSClusterPolicy", &[]),
    ("AmazonSSMManagedInstanceCore", &[]),
    ("CloudWatchAgentServerPolicy", &[]),
    // Job functions.
    ("Billing", &[]),
    ("DataScientist", &[]), // NotResource with Allow: W0308
    ("DatabaseAdministrator", &[]),
    ("NetworkAdministrator", &[]),
    ("SystemAdministrator", &[]),
    ("SupportUser", &[]),
    // Root tasks: NotAction, NotResource, StringNotLike, StringNotEqualsIfExists.
    ("S3UnlockBucketPolicy", &[]),
    ("SQSUnlockQueuePolicy", &[]),
    ("IAMAuditRootUserCredentials", &[]),
    // Rare operators: NumericGreaterThanEquals, ArnNotLike, ForAllValues:ArnEquals,
    // StringEqualsIgnoreCase, StringNotLikeIfExists, ForAllValues:StringNotEquals, Bool,
    // ArnEquals, ArnLikeIfExists, ForAnyValue:StringEquals; action wildcards in the middle of a
    // name (`sagemaker:*HumanLoop`).
    ("AWSManagedServices_ContactsServiceRolePolicy", &[]),
    ("AWSPrivateCAUser", &[]),
    ("AWSIdentityCenterExternalManagementPolicy", &[]),
    ("AWSAppFabricServiceRolePolicy", &[]),
    ("AmazonSecurityLakePermissionsBoundary", &[]),
    ("ROSAControlPlaneOperatorPolicy", &[]),
    ("AWSElementalMediaStoreFullAccess", &[]),
    ("AWSIQPermissionServiceRolePolicy", &[]),
    (
        "AWSSystemsManagerJustInTimeNodeAccessRolePropagationPolicy",
        &[],
    ),
    ("AmazonEBSCSIDriverPolicyV2", &[]),
    ("AmazonAugmentedAIFullAccess", &[]),
    // Service-linked role policies.
    ("AutoScalingServiceRolePolicy", &[]),
    ("AmazonECSServiceRolePolicy", &[]),
    ("AmazonGuardDutyServiceRolePolicy", &[]),
    ("AWSServiceRoleForAmazonEKSNodegroup", &[]),
    ("AmazonRDSServiceRolePolicy", &[]),
    // `deeplens`: AWS DeepLens reached end of life in January 2024 and left the reference.
    ("AWSDeepLensServiceRolePolicy", &["E0401"]),
    // `zocalo` is Amazon WorkDocs' prefix; WorkDocs reached end of support in April 2025 and
    // left the reference.
    ("AmazonZocaloReadOnlyAccess", &["E0401"]),
    // CloudHSM Classic's actions (`CreateLunaClient`, `DescribeHapg`, …): CloudHSM Classic is
    // retired, and today's `cloudhsm` service has none of them.
    ("RDSCloudHsmAuthorizationRole", &["E0402"]),
    // `arn:aws:organizations::*:` has an empty resource part: it is not the ARN of any
    // Organizations resource, so the statement's resource matches nothing.
    ("AmazonDevOpsGuruOrganizationsAccess", &["E0304"]),
    // `aws:PrincipalOrgMasterAccountId` is not a documented global condition key (the IAM User
    // Guide and the reference list none of this name).
    ("AWSSSOServiceRolePolicy", &["E0405"]),
    // `route53-recovery-control-config:DescribeRoutingControlByName` is not in the reference;
    // the service documents `DescribeRoutingControl`.
    (
        "AmazonRoute53RecoveryControlConfigReadOnlyAccess",
        &["E0402"],
    ),
    // `cloud9:ValidateEnvironmentName` is no longer an action of AWS Cloud9 (and AWS CodeStar
    // itself was discontinued in 2024).
    ("AWSCodeStarFullAccess", &["E0402"]),
    // A `Deny` with `NotAction` whose list names `qapps:ImportDocumentToQApp` and
    // `qapps:ImportDocumentToQAppSession`, which the reference does not have (it has
    // `qapps:ImportDocument`): a wrong name in a NotAction list of a Deny denies the action
    // it meant to exempt.
    (
        "AWSIAMIdentityCenterAllowListForIdentityContext",
        &["E0402"],
    ),
    // `mobilehub`: AWS Mobile Hub was retired in favour of Amplify and left the reference.
    ("AWSMobileHub_ReadOnly", &["E0401"]),
    // `lakeformation:GlueARN` is not a Lake Formation condition key in the reference.
    ("AmazonDataZoneGlueManageAccessRolePolicy", &["E0405"]),
    // Warnings only: W0412 (a Bool key compared as a string), W0410 (ForAnyValue on a
    // single-valued key), W0409 (a multi-valued key without a set operator), W0404.
    ("AIOpsAssistantPolicy", &[]),
    ("AmazonEKSVPCResourceController", &[]),
    ("CloudTrailEventContext", &[]),
    ("AmazonMacieHandshakeRole", &[]),
    ("AWSSecurityHubServiceRolePolicy", &[]),
];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-managed")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(format!("{name}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The names of the fixture files, sorted.
fn fixture_names() -> BTreeSet<String> {
    std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/aws-managed exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_fixture_is_in_the_table() {
    let files = fixture_names();
    let listed: BTreeSet<String> = EXPECTED.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        listed.len(),
        EXPECTED.len(),
        "a policy is listed twice in EXPECTED"
    );
    let unlisted: Vec<&String> = files.difference(&listed).collect();
    let missing: Vec<&String> = listed.difference(&files).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "fixtures not in EXPECTED: {unlisted:?}; EXPECTED entries without a fixture: {missing:?}"
    );
    assert!(
        EXPECTED.len() >= 50,
        "keep a sample of at least 50 policies"
    );
}

#[test]
fn fixtures_equal_the_embedded_documents() {
    let mut stale = Vec::new();
    for (name, _) in EXPECTED {
        let policy = iamx::awsdb::managed_policy(name)
            .unwrap_or_else(|| panic!("`{name}` is not an embedded AWS managed policy"));
        assert_eq!(policy.name, *name, "the fixture's name is AWS's spelling");
        let embedded = policy
            .document_json()
            .expect("the embedded document is JSON");
        let committed: serde_json::Value = serde_json::from_slice(&fixture(name))
            .unwrap_or_else(|e| panic!("{name}.json is not JSON: {e}"));
        if embedded != committed {
            stale.push(*name);
        }
    }
    assert!(
        stale.is_empty(),
        "these fixtures differ from the embedded data (regenerated?); copy the `document` of \
         data/managed-policies/<Name>.json again: {stale:?}"
    );
}

#[test]
fn managed_policies_check_as_expected() {
    let mut failures = Vec::new();
    let mut snapshot = String::new();
    for (name, expected) in EXPECTED {
        let bytes = fixture(name);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            iamx::compile(
                vec![iamx::Source::new(format!("{name}.json"), bytes)],
                &iamx::Options::default(),
            )
        }));
        let result = match outcome {
            Ok(result) => result,
            Err(_) => {
                failures.push(format!("{name}: iamx panicked"));
                continue;
            }
        };
        assert!(
            result.project.is_none(),
            "{name}: JSON inputs make no project"
        );
        let errors: BTreeSet<&str> = result
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.as_str())
            .collect();
        let wanted: BTreeSet<&str> = expected.iter().copied().collect();
        if errors != wanted {
            failures.push(format!(
                "{name}: error codes {errors:?}, expected {wanted:?}"
            ));
        }
        let warnings = result
            .diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Warning)
            .count();
        let _ = writeln!(
            snapshot,
            "=== {name}: {} error(s), {warnings} warning(s)",
            result.diagnostics.len() - warnings
        );
        for d in &result.diagnostics {
            snapshot.push_str(&iamx::diag::render::human(d, &result.sources, false));
        }
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!("diagnostics", snapshot);
        });
    }));
    if outcome.is_err() {
        failures.push("the diagnostics snapshot differs (see above)".to_string());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Many JSON documents are checked on several threads: the findings are those of each document
/// checked alone, whatever the number of cores.
#[test]
fn many_documents_checked_together_give_each_ones_findings() {
    let policies: Vec<(String, String)> = iamx::awsdb::managed_policies()
        .take(200)
        .map(|p| (format!("{}.json", p.name), p.document.to_string()))
        .collect();
    assert!(
        policies.len() >= 64,
        "enough documents to share between threads"
    );
    let render = |c: &iamx::Compilation| -> Vec<String> {
        c.diagnostics
            .iter()
            .map(|d| iamx::diag::render::json(d, &c.sources))
            .collect()
    };
    let together = iamx::compile(
        policies
            .iter()
            .map(|(name, text)| iamx::Source::new(name.clone(), text.clone().into_bytes()))
            .collect(),
        &iamx::Options::default(),
    );
    let mut alone: Vec<String> = Vec::new();
    for (name, text) in &policies {
        let c = iamx::compile(
            vec![iamx::Source::new(name.clone(), text.clone().into_bytes())],
            &iamx::Options::default(),
        );
        alone.extend(render(&c));
    }
    let mut together = render(&together);
    together.sort();
    alone.sort();
    assert!(!alone.is_empty(), "the sample has findings to compare");
    assert_eq!(together, alone);
}
