//! Known-answer tests of the evaluation engine, each fixed by the AWS documentation page (and
//! the example in it) that its `doc` names; property tests over random policies; and the real
//! binary's `simulate --batch`.
//!
//! Pages cited are from the AWS IAM User Guide unless said otherwise; "(ex. …)" names the
//! example on the page the case reproduces.

use std::io::Write;
use std::process::{Command, Stdio};

use iamx::cli::simulate::batch_line;
use iamx::eval::DecisionKind::{self, Allowed, ExplicitlyDenied, ImplicitlyDenied};
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/Bob";
const CARLOS: &str = "arn:aws:iam::123456789012:user/carlossalazar";
const ROLE: &str = "arn:aws:iam::111122223333:role/examplerole";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/examplerole/examplerolesessionname";
const FEDERATED: &str = "arn:aws:sts::111122223333:federated-user/exampleuser";
const OTHER_USER: &str = "arn:aws:iam::444455556666:user/User2";
const BUCKET_OBJECT: &str = "arn:aws:s3:::amzn-s3-demo-bucket/key";

// The pages.
const EVAL: &str = "Policy evaluation logic";
const DENY_ALLOW: &str =
    "Policy evaluation logic: Determining whether a request is allowed or denied within an account";
const EXPLICIT_IMPLICIT: &str =
    "Policy evaluation logic: The difference between explicit and implicit denies";
const CROSS: &str = "Cross-account policy evaluation logic";
const BOUNDARIES: &str = "Permissions boundaries for IAM entities";
const ACTION: &str = "IAM JSON policy elements: Action";
const NOT_ACTION: &str = "IAM JSON policy elements: NotAction";
const RESOURCE: &str = "IAM JSON policy elements: Resource";
const NOT_RESOURCE: &str = "IAM JSON policy elements: NotResource";
const NOT_PRINCIPAL: &str = "IAM JSON policy elements: NotPrincipal";
const VARIABLES: &str = "IAM policy elements: Variables and tags";
const CONDITION: &str = "IAM JSON policy elements: Condition";
const OPERATORS: &str = "IAM JSON policy elements: Condition operators";
const MULTI: &str = "Conditions with multiple context keys or values";
const SETS: &str = "Single-valued vs. multivalued context keys";
const MULTI_EXAMPLES: &str = "Multivalued context key examples";
const ROLES_VS_RESOURCES: &str = "How IAM roles differ from resource-based policies";
const SWITCH_ROLES: &str = "Granting a user permissions to switch roles";
const KMS: &str = "AWS KMS Developer Guide: Key policies";
const STS_GCI: &str = "AWS STS API Reference: GetCallerIdentity";

fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// One batch line under construction.
#[derive(Clone)]
struct T {
    line: Value,
}

impl T {
    fn new(principal: &str, action: &str, resource: &str) -> T {
        T {
            line: json!({
                "identity": [], "boundary": null, "scps": [], "resource_policy": null,
                "session": [],
                "request": {"principal": principal, "action": action, "resource": resource, "context": {}}
            }),
        }
    }
    fn push(mut self, field: &str, statements: Value) -> T {
        self.line[field]
            .as_array_mut()
            .unwrap()
            .push(policy(statements));
        self
    }
    /// An identity policy.
    fn id(self, statements: Value) -> T {
        self.push("identity", statements)
    }
    fn scp(self, statements: Value) -> T {
        self.push("scps", statements)
    }
    fn session(self, statements: Value) -> T {
        self.push("session", statements)
    }
    fn boundary(mut self, statements: Value) -> T {
        self.line["boundary"] = policy(statements);
        self
    }
    /// The resource's policy (a bucket, key or trust policy).
    fn rp(mut self, statements: Value) -> T {
        self.line["resource_policy"] = policy(statements);
        self
    }
    fn ctx(mut self, key: &str, value: impl Into<Value>) -> T {
        self.line["request"]["context"][key] = value.into();
        self
    }
    fn decide(&self) -> (DecisionKind, String) {
        let (set, request) = batch_line(&self.line).unwrap_or_else(|e| panic!("{e}"));
        let d = set.evaluate(&request);
        (d.kind, set.explain(&request, &d))
    }
}

fn allow(action: impl Into<Value>, resource: impl Into<Value>) -> Value {
    json!({"Effect": "Allow", "Action": action.into(), "Resource": resource.into()})
}

fn deny(action: impl Into<Value>, resource: impl Into<Value>) -> Value {
    json!({"Effect": "Deny", "Action": action.into(), "Resource": resource.into()})
}

fn with(mut statement: Value, condition: Value) -> Value {
    statement["Condition"] = condition;
    statement
}

/// A statement of a resource-based policy granting `principal`.
fn grant(principal: Value, action: impl Into<Value>, resource: impl Into<Value>) -> Value {
    json!({"Effect": "Allow", "Principal": principal, "Action": action.into(), "Resource": resource.into()})
}

fn aws(arn: &str) -> Value {
    json!({"AWS": arn})
}

struct Case {
    name: &'static str,
    /// The page (and example) that fixes the answer.
    doc: &'static str,
    t: T,
    want: DecisionKind,
    /// Words the explanation must contain, when the reason matters.
    reason: Option<&'static str>,
}

fn case(name: &'static str, doc: &'static str, t: T, want: DecisionKind) -> Case {
    Case {
        name,
        doc,
        t,
        want,
        reason: None,
    }
}

fn because(mut c: Case, reason: &'static str) -> Case {
    c.reason = Some(reason);
    c
}

fn s3_get(principal: &str) -> T {
    T::new(principal, "s3:GetObject", BUCKET_OBJECT)
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let all = allow("*", "*");

    // ---- Policy evaluation logic: explicit deny wins everywhere; implicit deny by default.
    v.push(because(
        case(
            "no policy: implicit deny",
            DENY_ALLOW,
            s3_get(ALICE),
            ImplicitlyDenied,
        ),
        "no identity policy allows",
    ));
    v.push(case(
        "identity allow",
        EVAL,
        s3_get(ALICE).id(json!([allow("s3:GetObject", "*")])),
        Allowed,
    ));
    v.push(case(
        "identity deny beats identity allow",
        DENY_ALLOW,
        s3_get(ALICE).id(json!([all, deny("s3:*", "*")])),
        ExplicitlyDenied,
    ));
    v.push(case(
        "deny in a second identity policy beats the first's allow",
        DENY_ALLOW,
        s3_get(ALICE)
            .id(json!([all]))
            .id(json!([deny("s3:GetObject", BUCKET_OBJECT)])),
        ExplicitlyDenied,
    ));
    v.push(because(
        case(
            "resource-policy deny beats identity allow",
            DENY_ALLOW,
            s3_get(ALICE)
                .id(json!([all]))
                .rp(json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}])),
            ExplicitlyDenied,
        ),
        "resource-based policy",
    ));
    v.push(because(
        case(
            "SCP deny beats identity allow",
            DENY_ALLOW,
            s3_get(ALICE)
                .id(json!([all]))
                .scp(json!([all, deny("s3:*", "*")])),
            ExplicitlyDenied,
        ),
        "service control policy",
    ));
    v.push(because(
        case(
            "boundary deny beats identity and boundary allows",
            BOUNDARIES,
            s3_get(ALICE)
                .id(json!([all]))
                .boundary(json!([all, deny("s3:GetObject", "*")])),
            ExplicitlyDenied,
        ),
        "permissions boundary",
    ));
    v.push(because(
        case(
            "session-policy deny beats identity allow",
            DENY_ALLOW,
            s3_get(SESSION)
                .id(json!([all]))
                .session(json!([all, deny("s3:*", "*")])),
            ExplicitlyDenied,
        ),
        "session policy",
    ));
    v.push(case(
        "identity deny beats a bucket policy granting the user",
        EVAL,
        s3_get(ALICE)
            .id(json!([deny("s3:*", "*")]))
            .rp(json!([grant(
                aws(ALICE),
                "s3:*",
                "arn:aws:s3:::amzn-s3-demo-bucket/*"
            )])),
        ExplicitlyDenied,
    ));
    v.push(case(
        "a deny for another resource does not apply",
        DENY_ALLOW,
        s3_get(ALICE).id(json!([all, deny("s3:*", "arn:aws:s3:::other/*")])),
        Allowed,
    ));
    v.push(case(
        "a deny for another action does not apply",
        DENY_ALLOW,
        s3_get(ALICE).id(json!([all, deny("s3:PutObject", "*")])),
        Allowed,
    ));
    // The Carlos example (identity policy and bucket policy from the page).
    let carlos_identity = json!([
        {"Sid": "AllowS3ListRead", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints", "s3:ListAllMyBuckets"],
         "Resource": "arn:aws:s3:::*"},
        {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]},
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"}
    ]);
    let carlos_bucket = json!([grant(
        aws(CARLOS),
        "s3:*",
        json!(["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"])
    )]);
    v.push(because(
        case(
            "Carlos saves to carlossalazar-logs",
            "Policy evaluation logic (ex. Carlos, carlossalazar-logs)",
            T::new(
                CARLOS,
                "s3:PutObject",
                "arn:aws:s3:::carlossalazar-logs/file",
            )
            .id(carlos_identity.clone()),
            ExplicitlyDenied,
        ),
        "DenyS3Logs",
    ));
    v.push(case(
        "Carlos saves to carlossalazar: both policies allow",
        "Policy evaluation logic (ex. Carlos, carlossalazar bucket)",
        T::new(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/file")
            .id(carlos_identity.clone())
            .rp(carlos_bucket.clone()),
        Allowed,
    ));
    v.push(case(
        "Carlos: the bucket policy alone allows within the account",
        "Policy evaluation logic (ex. Carlos: if one of the policy types allows and the other doesn't, still allowed)",
        T::new(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/file")
            .id(json!([carlos_identity[0].clone()]))
            .rp(carlos_bucket),
        Allowed,
    ));
    v.push(case(
        "Carlos lists his buckets",
        "Policy evaluation logic (ex. Carlos, AllowS3ListRead)",
        T::new(CARLOS, "s3:ListAllMyBuckets", "arn:aws:s3:::*").id(carlos_identity),
        Allowed,
    ));
    // The AllowGetList / DenyReports example.
    let get_list = json!([
        {"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
        {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"}
    ]);
    v.push(case(
        "iam:GetUser is allowed",
        "Policy evaluation logic: explicit and implicit denies (ex. AllowGetList)",
        T::new(ALICE, "iam:GetUser", "*").id(get_list.clone()),
        Allowed,
    ));
    v.push(case(
        "iam:CreatePolicy is implicitly denied",
        "Policy evaluation logic: explicit and implicit denies (ex. iam:CreatePolicy implicitly denied)",
        T::new(ALICE, "iam:CreatePolicy", "*").id(get_list.clone()),
        ImplicitlyDenied,
    ));
    v.push(case(
        "iam:GetOrganizationsAccessReport is explicitly denied",
        "Policy evaluation logic: explicit and implicit denies (ex. DenyReports)",
        T::new(ALICE, "iam:GetOrganizationsAccessReport", "*").id(get_list.clone()),
        ExplicitlyDenied,
    ));
    v.push(case(
        "iam:GenerateCredentialReport stays denied when another policy allows it",
        EXPLICIT_IMPLICIT,
        T::new(ALICE, "iam:GenerateCredentialReport", "*")
            .id(get_list)
            .id(json!([allow("iam:GenerateCredentialReport", "*")])),
        ExplicitlyDenied,
    ));

    // ---- SCPs.
    v.push(because(
        case(
            "an SCP that allows nothing relevant",
            "Policy evaluation logic: Organizations SCPs (implicit deny when no SCP allows)",
            s3_get(ALICE)
                .id(json!([all]))
                .scp(json!([allow("ec2:*", "*")])),
            ImplicitlyDenied,
        ),
        "no service control policy allows",
    ));
    v.push(case(
        "SCP and identity both allow",
        "Policy evaluation logic: Evaluating identity-based policies with Organizations SCPs",
        s3_get(ALICE)
            .id(json!([allow("s3:*", "*")]))
            .scp(json!([all])),
        Allowed,
    ));
    v.push(case(
        "the SCP allows but no identity policy does",
        "Policy evaluation logic: Evaluating identity-based policies with Organizations SCPs",
        s3_get(ALICE).scp(json!([all])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "SCP, boundary and identity must all allow",
        "Permissions boundaries: Organizations SCPs (all three must allow)",
        s3_get(ALICE)
            .id(json!([all]))
            .boundary(json!([all]))
            .scp(json!([allow("ec2:*", "*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "an SCP also limits a bucket policy's grant",
        "Policy evaluation logic: SCPs (resource-based policies grant only if the SCP allows)",
        s3_get(ALICE)
            .rp(json!([grant(aws(ALICE), "s3:*", "*")]))
            .scp(json!([allow("ec2:*", "*")])),
        ImplicitlyDenied,
    ));

    // ---- Action and NotAction.
    v.push(case(
        "action names ignore case in the policy",
        "IAM JSON policy elements: Action (iam:ListAccessKeys is IAM:listaccesskeys)",
        T::new(ALICE, "iam:ListAccessKeys", "*").id(json!([allow("IAM:listaccesskeys", "*")])),
        Allowed,
    ));
    v.push(case(
        "action names ignore case in the request",
        ACTION,
        T::new(ALICE, "S3:getobject", BUCKET_OBJECT).id(json!([allow("s3:GetObject", "*")])),
        Allowed,
    ));
    v.push(case(
        "s3:* covers every S3 action",
        "IAM JSON policy elements: Action (ex. all Amazon S3 actions)",
        T::new(ALICE, "s3:PutObject", BUCKET_OBJECT).id(json!([allow("s3:*", "*")])),
        Allowed,
    ));
    v.push(case(
        "s3:* does not cover another service",
        ACTION,
        T::new(ALICE, "s3express:CreateSession", "*").id(json!([allow("s3:*", "*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "iam:*AccessKey* covers iam:CreateAccessKey",
        "IAM JSON policy elements: Action (ex. iam:*AccessKey*)",
        T::new(ALICE, "iam:CreateAccessKey", "*").id(json!([allow("iam:*AccessKey*", "*")])),
        Allowed,
    ));
    v.push(case(
        "iam:*AccessKey* covers iam:ListAccessKeys",
        "IAM JSON policy elements: Action (ex. iam:*AccessKey*)",
        T::new(ALICE, "iam:ListAccessKeys", "*").id(json!([allow("iam:*AccessKey*", "*")])),
        Allowed,
    ));
    v.push(case(
        "iam:*AccessKey* does not cover iam:CreateUser",
        ACTION,
        T::new(ALICE, "iam:CreateUser", "*").id(json!([allow("iam:*AccessKey*", "*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "? matches one character",
        ACTION,
        T::new(ALICE, "ec2:DescribeInstances", "*")
            .id(json!([allow("ec2:Describe?nstances", "*")])),
        Allowed,
    ));
    v.push(case(
        "? matches exactly one character",
        ACTION,
        T::new(ALICE, "ec2:DescribeXXnstances", "*")
            .id(json!([allow("ec2:Describe?nstances", "*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "s3:Get* does not cover ec2:GetConsoleOutput",
        ACTION,
        T::new(ALICE, "ec2:GetConsoleOutput", "*").id(json!([allow("s3:Get*", "*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "* covers every action",
        ACTION,
        T::new(ALICE, "dynamodb:DeleteTable", "*").id(json!([all])),
        Allowed,
    ));
    let not_iam = json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]);
    v.push(case(
        "Allow with NotAction iam:* allows S3",
        "IAM JSON policy elements: NotAction (ex. all services except IAM)",
        s3_get(ALICE).id(not_iam.clone()),
        Allowed,
    ));
    v.push(case(
        "Allow with NotAction iam:* does not allow IAM",
        "IAM JSON policy elements: NotAction (ex. all services except IAM)",
        T::new(ALICE, "iam:CreateUser", "*").id(not_iam),
        ImplicitlyDenied,
    ));
    v.push(case(
        "NotAction ignores case too",
        NOT_ACTION,
        T::new(ALICE, "IAM:CreateUser", "*")
            .id(json!([{"Effect": "Allow", "NotAction": "iam:createuser", "Resource": "*"}])),
        ImplicitlyDenied,
    ));
    let mfa_deny = json!([all, {"Sid": "DenyAllUsersNotUsingMFA", "Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                               "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]);
    v.push(case(
        "Deny NotAction iam:* without MFA denies S3",
        "IAM JSON policy elements: NotAction (ex. DenyAllUsersNotUsingMFA)",
        T::new(ALICE, "s3:ListBucket", "arn:aws:s3:::b").id(mfa_deny.clone()),
        ExplicitlyDenied,
    ));
    v.push(case(
        "Deny NotAction iam:* without MFA spares IAM",
        "IAM JSON policy elements: NotAction (ex. DenyAllUsersNotUsingMFA)",
        T::new(ALICE, "iam:ChangePassword", "*").id(mfa_deny.clone()),
        Allowed,
    ));
    v.push(case(
        "Deny NotAction iam:* with MFA does not deny",
        "IAM JSON policy elements: NotAction (ex. DenyAllUsersNotUsingMFA)",
        T::new(ALICE, "s3:ListBucket", "arn:aws:s3:::b")
            .id(mfa_deny)
            .ctx("aws:MultiFactorAuthPresent", "true"),
        Allowed,
    ));

    // ---- Resource and NotResource.
    v.push(case(
        "a resource named exactly",
        "IAM JSON policy elements: Resource (ex. an Amazon SQS queue)",
        T::new(
            ALICE,
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-2:111122223333:queue1",
        )
        .id(json!([allow(
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-2:111122223333:queue1"
        )])),
        Allowed,
    ));
    v.push(case(
        "another resource is not covered",
        RESOURCE,
        T::new(
            ALICE,
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-2:111122223333:queue2",
        )
        .id(json!([allow(
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-2:111122223333:queue1"
        )])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "bucket/* covers the bucket's objects",
        "IAM JSON policy elements: Resource (ex. all items within my_corporate_bucket)",
        T::new(
            ALICE,
            "s3:GetObject",
            "arn:aws:s3:::my_corporate_bucket/a/b.txt",
        )
        .id(json!([allow(
            "s3:GetObject",
            "arn:aws:s3:::my_corporate_bucket/*"
        )])),
        Allowed,
    ));
    v.push(case(
        "bucket/* does not cover the bucket itself",
        RESOURCE,
        T::new(ALICE, "s3:ListBucket", "arn:aws:s3:::my_corporate_bucket")
            .id(json!([allow("s3:*", "arn:aws:s3:::my_corporate_bucket/*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "user/accounting/* covers users under the path",
        "IAM JSON policy elements: Resource (ex. users whose path is /accounting)",
        T::new(
            ALICE,
            "iam:GetUser",
            "arn:aws:iam::111122223333:user/accounting/jane",
        )
        .id(json!([allow(
            "iam:GetUser",
            "arn:aws:iam::111122223333:user/accounting/*"
        )])),
        Allowed,
    ));
    v.push(case(
        "resource ARNs are case-sensitive",
        RESOURCE,
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::Bucket/x")
            .id(json!([allow("s3:GetObject", "arn:aws:s3:::bucket/*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "? in a resource matches one character",
        "IAM JSON policy elements: Resource (wildcards * and ? within ARN segments)",
        T::new(
            ALICE,
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-2:111122223333:table/books_table",
        )
        .id(json!([allow(
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-?:111122223333:table/*_table"
        )])),
        Allowed,
    ));
    v.push(case(
        "several resources are ORed",
        "IAM JSON policy elements: Resource (ex. two DynamoDB tables)",
        T::new(
            ALICE,
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-2:111122223333:table/magazines_table",
        )
        .id(json!([allow(
            "dynamodb:*",
            json!([
                "arn:aws:dynamodb:us-east-2:111122223333:table/books_table",
                "arn:aws:dynamodb:us-east-2:111122223333:table/magazines_table"
            ])
        )])),
        Allowed,
    ));
    v.push(case(
        "an action without resource-level permissions needs Resource *",
        "IAM JSON policy elements: Resource (actions that apply to all resources use *)",
        T::new(ALICE, "s3:ListAllMyBuckets", "*").id(json!([allow("s3:*", "arn:aws:s3:::b/*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "Resource * covers a request on *",
        RESOURCE,
        T::new(ALICE, "s3:ListAllMyBuckets", "*").id(json!([allow("s3:*", "*")])),
        Allowed,
    ));
    let not_hr = json!([all, {"Effect": "Deny", "Action": "s3:*",
        "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}]);
    v.push(case(
        "Deny with NotResource denies everything else",
        "IAM JSON policy elements: NotResource (ex. deny all S3 except HRBucket/Payroll)",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::HRBucket/Other/x").id(not_hr.clone()),
        ExplicitlyDenied,
    ));
    v.push(case(
        "Deny with NotResource spares the listed resources",
        "IAM JSON policy elements: NotResource (ex. deny all S3 except HRBucket/Payroll)",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/x").id(not_hr),
        Allowed,
    ));
    v.push(case(
        "Allow with NotResource allows everything but the listed",
        NOT_RESOURCE,
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::public/x").id(
            json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}]),
        ),
        Allowed,
    ));
    v.push(case(
        "Allow with NotResource does not allow the listed",
        NOT_RESOURCE,
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::secret/x").id(
            json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}]),
        ),
        ImplicitlyDenied,
    ));

    // ---- Policy variables.
    let home = json!([
        {"Action": ["s3:ListBucket"], "Effect": "Allow", "Resource": ["arn:aws:s3:::mybucket"],
         "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}},
        {"Action": ["s3:GetObject", "s3:PutObject"], "Effect": "Allow", "Resource": ["arn:aws:s3:::mybucket/${aws:username}/*"]}
    ]);
    v.push(case(
        "${aws:username} in Resource: own folder",
        "IAM policy elements: Variables and tags (ex. mybucket/${aws:username}/*)",
        T::new(
            ALICE,
            "s3:GetObject",
            "arn:aws:s3:::mybucket/alice/notes.txt",
        )
        .id(home.clone())
        .ctx("aws:username", "alice"),
        Allowed,
    ));
    v.push(case(
        "${aws:username} in Resource: someone else's folder",
        "IAM policy elements: Variables and tags (ex. mybucket/${aws:username}/*)",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::mybucket/bob/notes.txt")
            .id(home.clone())
            .ctx("aws:username", "alice"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "${aws:username} missing: the resource matches nothing",
        "IAM policy elements: Variables and tags (a key not present makes the match fail)",
        T::new(
            ALICE,
            "s3:GetObject",
            "arn:aws:s3:::mybucket/alice/notes.txt",
        )
        .id(home.clone()),
        ImplicitlyDenied,
    ));
    v.push(case(
        "${aws:username} in StringLike s3:prefix",
        "IAM policy elements: Variables and tags (ex. s3:prefix ${aws:username}/*)",
        T::new(ALICE, "s3:ListBucket", "arn:aws:s3:::mybucket")
            .id(home.clone())
            .ctx("aws:username", "alice")
            .ctx("s3:prefix", "alice/docs"),
        Allowed,
    ));
    v.push(case(
        "${aws:username} in StringLike: another prefix",
        "IAM policy elements: Variables and tags (ex. s3:prefix ${aws:username}/*)",
        T::new(ALICE, "s3:ListBucket", "arn:aws:s3:::mybucket")
            .id(home)
            .ctx("aws:username", "alice")
            .ctx("s3:prefix", "bob/"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "a principal tag as a variable",
        "IAM policy elements: Variables and tags (ex. bucket/${aws:PrincipalTag/department})",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::bucket/hr")
            .id(json!([allow(
                "s3:GetObject",
                "arn:aws:s3:::bucket/${aws:PrincipalTag/department}"
            )]))
            .ctx("aws:PrincipalTag/department", "hr"),
        Allowed,
    ));
    let team = json!([allow(
        "s3:GetObject",
        "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'company-wide'}/*"
    )]);
    v.push(case(
        "a default value stands in for a missing key",
        "IAM policy elements: Variables and tags: Specifying default values",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::bucket/company-wide/x").id(team.clone()),
        Allowed,
    ));
    v.push(case(
        "a default value is not used when the key is present",
        "IAM policy elements: Variables and tags: Specifying default values",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::bucket/company-wide/x")
            .id(team)
            .ctx("aws:PrincipalTag/team", "red"),
        ImplicitlyDenied,
    ));
    let star = json!([allow("s3:GetObject", "arn:aws:s3:::b/${*}")]);
    v.push(case(
        "${*} is a literal asterisk",
        "IAM policy elements: Variables and tags: Special characters (${*})",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::b/*").id(star.clone()),
        Allowed,
    ));
    v.push(case(
        "${*} is not a wildcard",
        "IAM policy elements: Variables and tags: Special characters (${*})",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::b/anything").id(star),
        ImplicitlyDenied,
    ));
    v.push(case(
        "${?} is a literal question mark",
        "IAM policy elements: Variables and tags: Special characters (${?})",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::b/x")
            .id(json!([allow("s3:GetObject", "arn:aws:s3:::b/${?}")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "${$} is a literal dollar sign",
        "IAM policy elements: Variables and tags: Special characters (${$})",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::b/$x")
            .id(json!([allow("s3:GetObject", "arn:aws:s3:::b/${$}x")])),
        Allowed,
    ));
    v.push(case(
        "a * in a variable's value is not a wildcard",
        VARIABLES,
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::b/abc/x")
            .id(json!([allow(
                "s3:GetObject",
                "arn:aws:s3:::b/${aws:username}/*"
            )]))
            .ctx("aws:username", "a*"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "a multivalued key is not a policy variable",
        "Single-valued vs. multivalued context keys (a multivalued key cannot be a policy variable)",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::b/a/x")
            .id(json!([allow("s3:GetObject", "arn:aws:s3:::b/${aws:TagKeys}/*")]))
            .ctx("aws:TagKeys", json!(["a", "b"])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "variable names ignore case",
        "IAM policy elements: Variables and tags (key names are case-insensitive)",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::b/alice")
            .id(json!([allow(
                "s3:GetObject",
                "arn:aws:s3:::b/${AWS:UserName}"
            )]))
            .ctx("aws:username", "alice"),
        Allowed,
    ));
    let owner = json!([
        allow("ec2:StopInstances", "*"),
        with(
            deny("ec2:StopInstances", "*"),
            json!({"StringNotEquals": {"aws:ResourceTag/owner": "${aws:username}"}})
        )
    ]);
    v.push(case(
        "a variable in a condition value: the owner",
        "IAM policy elements: Variables and tags: Condition element (string operators)",
        T::new(ALICE, "ec2:StopInstances", "*")
            .id(owner.clone())
            .ctx("aws:username", "alice")
            .ctx("aws:ResourceTag/owner", "alice"),
        Allowed,
    ));
    v.push(case(
        "a variable in a condition value: not the owner",
        "IAM policy elements: Variables and tags: Condition element (string operators)",
        T::new(ALICE, "ec2:StopInstances", "*")
            .id(owner.clone())
            .ctx("aws:username", "alice")
            .ctx("aws:ResourceTag/owner", "bob"),
        ExplicitlyDenied,
    ));
    v.push(case(
        "an unresolvable variable invalidates the statement, even a negated one",
        "IAM policy elements: Variables and tags (if AWS cannot resolve a variable, the entire statement can be invalid)",
        T::new(ALICE, "ec2:StopInstances", "*")
            .id(owner)
            .ctx("aws:ResourceTag/owner", "bob"),
        Allowed,
    ));
    v.push(case(
        "a variable in an ARN condition",
        "IAM JSON policy elements: Condition operators: ARN (policy variables are supported)",
        T::new(ALICE, "sqs:SendMessage", "*")
            .id(json!([with(allow("sqs:SendMessage", "*"),
                json!({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:${aws:username}-topic"}}))]))
            .ctx("aws:username", "alice")
            .ctx("aws:SourceArn", "arn:aws:sns:us-east-2:111122223333:alice-topic"),
        Allowed,
    ));
    v.push(case(
        "no policy variables in Numeric values",
        "IAM policy elements: Variables and tags: Condition element (not Numeric, Date, Boolean, Binary, IP, Null)",
        T::new(ALICE, "s3:ListBucket", "*")
            .id(json!([with(allow("s3:ListBucket", "*"),
                json!({"NumericEquals": {"s3:max-keys": "${aws:PrincipalTag/limit}"}}))]))
            .ctx("aws:PrincipalTag/limit", "10")
            .ctx("s3:max-keys", "10"),
        ImplicitlyDenied,
    ));

    // ---- String operators.
    let johndoe = |op: &str| {
        json!([with(
            allow("s3:*", "*"),
            json!({op: {"aws:username": "johndoe"}})
        )])
    };
    v.push(case(
        "StringEquals matches exactly",
        "IAM JSON policy elements: Condition (ex. StringEquals aws:username johndoe)",
        s3_get(ALICE)
            .id(johndoe("StringEquals"))
            .ctx("aws:username", "johndoe"),
        Allowed,
    ));
    v.push(case(
        "StringEquals is case-sensitive",
        "IAM JSON policy elements: Condition (ex. users named JohnDoe are denied)",
        s3_get(ALICE)
            .id(johndoe("StringEquals"))
            .ctx("aws:username", "JohnDoe"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "StringEqualsIgnoreCase ignores case",
        "IAM JSON policy elements: Condition (ex. StringEqualsIgnoreCase matches johndoe or JohnDoe)",
        s3_get(ALICE).id(johndoe("StringEqualsIgnoreCase")).ctx("aws:username", "JohnDoe"),
        Allowed,
    ));
    v.push(case(
        "StringNotEquals holds for another value",
        OPERATORS,
        s3_get(ALICE)
            .id(johndoe("StringNotEquals"))
            .ctx("aws:username", "jane"),
        Allowed,
    ));
    v.push(case(
        "StringNotEquals fails for the value",
        OPERATORS,
        s3_get(ALICE)
            .id(johndoe("StringNotEquals"))
            .ctx("aws:username", "johndoe"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "StringNotEquals holds when the key is missing",
        "IAM JSON policy elements: Condition operators (negated operators are true when the key is not present)",
        s3_get(ALICE).id(johndoe("StringNotEquals")),
        Allowed,
    ));
    v.push(case(
        "StringEquals fails when the key is missing",
        "IAM JSON policy elements: Condition operators (a missing key does not match: false)",
        s3_get(ALICE).id(johndoe("StringEquals")),
        ImplicitlyDenied,
    ));
    v.push(case(
        "StringNotEqualsIgnoreCase fails for the value in another case",
        OPERATORS,
        s3_get(ALICE)
            .id(johndoe("StringNotEqualsIgnoreCase"))
            .ctx("aws:username", "JOHNDOE"),
        ImplicitlyDenied,
    ));
    let instance = |op: &str, values: Value| {
        json!([with(
            allow("ec2:RunInstances", "*"),
            json!({op: {"ec2:InstanceType": values}})
        )])
    };
    v.push(case(
        "StringLike with *",
        "IAM JSON policy elements: Condition operators: String (StringLike wildcards)",
        T::new(ALICE, "ec2:RunInstances", "*")
            .id(instance("StringLike", json!(["t1.*", "t2.*", "m3.*"])))
            .ctx("ec2:InstanceType", "t2.micro"),
        Allowed,
    ));
    v.push(case(
        "StringLike with ?",
        "IAM JSON policy elements: Condition operators: String (StringLike single-character wildcard)",
        T::new(ALICE, "ec2:RunInstances", "*")
            .id(instance("StringLike", json!("t?.micro")))
            .ctx("ec2:InstanceType", "t3.micro"),
        Allowed,
    ));
    v.push(case(
        "StringLike without a match",
        OPERATORS,
        T::new(ALICE, "ec2:RunInstances", "*")
            .id(instance("StringLike", json!(["t1.*", "t2.*", "m3.*"])))
            .ctx("ec2:InstanceType", "m5.large"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "StringEquals takes * literally",
        "IAM JSON policy elements: Condition operators: String (wildcards only with StringLike)",
        T::new(ALICE, "ec2:RunInstances", "*")
            .id(instance("StringEquals", json!("t2.*")))
            .ctx("ec2:InstanceType", "t2.micro"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "StringNotLike holds when the key is missing",
        "IAM JSON policy elements: Condition operators (ex. StringNotLike with the key not present is true)",
        T::new(ALICE, "ec2:RunInstances", "*").id(instance("StringNotLike", json!("m*"))),
        Allowed,
    ));
    let teams = |op: &str| {
        json!([with(
            allow("s3:*", "*"),
            json!({op: {"aws:PrincipalTag/team": ["red", "blue"]}})
        )])
    };
    v.push(case(
        "several values are ORed",
        "Conditions with multiple context keys or values (values of one key are ORed)",
        s3_get(ALICE)
            .id(teams("StringEquals"))
            .ctx("aws:PrincipalTag/team", "blue"),
        Allowed,
    ));
    v.push(case(
        "several values of a negated operator are NORed: one matches",
        "Conditions with multiple context keys or values (negated operator values are NORed)",
        s3_get(ALICE)
            .id(teams("StringNotEquals"))
            .ctx("aws:PrincipalTag/team", "blue"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "several values of a negated operator are NORed: none matches",
        "Conditions with multiple context keys or values (negated operator values are NORed)",
        s3_get(ALICE)
            .id(teams("StringNotEquals"))
            .ctx("aws:PrincipalTag/team", "green"),
        Allowed,
    ));
    let two_keys = json!([with(
        allow("s3:*", "*"),
        json!({"StringEquals": {
        "aws:PrincipalTag/department": ["finance", "hr", "legal"], "aws:PrincipalTag/role": ["audit", "security"]}})
    )]);
    v.push(case(
        "several keys under one operator are ANDed: both match",
        "Conditions with multiple context keys or values (ex. department and role tags)",
        s3_get(ALICE)
            .id(two_keys.clone())
            .ctx("aws:PrincipalTag/department", "hr")
            .ctx("aws:PrincipalTag/role", "audit"),
        Allowed,
    ));
    v.push(case(
        "several keys under one operator are ANDed: one fails",
        "Conditions with multiple context keys or values (ex. department and role tags)",
        s3_get(ALICE)
            .id(two_keys)
            .ctx("aws:PrincipalTag/department", "hr")
            .ctx("aws:PrincipalTag/role", "dev"),
        ImplicitlyDenied,
    ));
    let two_ops = json!([with(
        allow("s3:*", "*"),
        json!({
        "StringEquals": {"aws:PrincipalTag/department": "hr"},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/*"}})
    )]);
    v.push(case(
        "several operators are ANDed: both hold",
        "Conditions with multiple context keys or values (operators are ANDed)",
        s3_get(ALICE)
            .id(two_ops.clone())
            .ctx("aws:PrincipalTag/department", "hr")
            .ctx("aws:PrincipalArn", ALICE),
        Allowed,
    ));
    v.push(case(
        "several operators are ANDed: one fails",
        "Conditions with multiple context keys or values (operators are ANDed)",
        s3_get(ALICE)
            .id(two_ops)
            .ctx("aws:PrincipalTag/department", "hr")
            .ctx("aws:PrincipalArn", ROLE),
        ImplicitlyDenied,
    ));
    v.push(case(
        "condition key names ignore case",
        "IAM JSON policy elements: Condition (aws:SourceIP is AWS:SourceIp)",
        s3_get(ALICE)
            .id(json!([with(
                allow("s3:*", "*"),
                json!({"IpAddress": {"aws:SourceIP": "203.0.113.0/24"}})
            )]))
            .ctx("AWS:sourceip", "203.0.113.9"),
        Allowed,
    ));

    // ---- Numeric operators.
    let max_keys = |op: &str| {
        json!([with(
            allow("s3:ListBucket", "arn:aws:s3:::example_bucket"),
            json!({op: {"s3:max-keys": "10"}})
        )])
    };
    let list = || T::new(ALICE, "s3:ListBucket", "arn:aws:s3:::example_bucket");
    v.push(case(
        "NumericLessThanEquals: 10 keys",
        "IAM JSON policy elements: Condition operators: Numeric (ex. s3:max-keys up to 10)",
        list()
            .id(max_keys("NumericLessThanEquals"))
            .ctx("s3:max-keys", "10"),
        Allowed,
    ));
    v.push(case(
        "NumericLessThanEquals: 11 keys",
        "IAM JSON policy elements: Condition operators: Numeric (ex. s3:max-keys up to 10)",
        list()
            .id(max_keys("NumericLessThanEquals"))
            .ctx("s3:max-keys", "11"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "NumericLessThanEquals: key missing",
        "IAM JSON policy elements: Condition operators: Numeric (a missing key does not match)",
        list().id(max_keys("NumericLessThanEquals")),
        ImplicitlyDenied,
    ));
    v.push(case(
        "NumericEquals compares numbers, not text",
        "IAM JSON policy elements: Condition operators: Numeric (integer or decimal values)",
        list()
            .id(max_keys("NumericEquals"))
            .ctx("s3:max-keys", "10.0"),
        Allowed,
    ));
    v.push(case(
        "NumericLessThan is strict",
        OPERATORS,
        list()
            .id(max_keys("NumericLessThan"))
            .ctx("s3:max-keys", "10"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "NumericGreaterThan with a decimal",
        OPERATORS,
        list()
            .id(max_keys("NumericGreaterThan"))
            .ctx("s3:max-keys", "10.5"),
        Allowed,
    ));
    v.push(case(
        "NumericGreaterThanEquals with a larger number",
        OPERATORS,
        list()
            .id(max_keys("NumericGreaterThanEquals"))
            .ctx("s3:max-keys", "100"),
        Allowed,
    ));
    v.push(case(
        "NumericNotEquals with another number",
        OPERATORS,
        list()
            .id(max_keys("NumericNotEquals"))
            .ctx("s3:max-keys", "9"),
        Allowed,
    ));
    v.push(case(
        "a value that is not a number does not match",
        "IAM JSON policy elements: Condition operators: Numeric",
        list()
            .id(max_keys("NumericLessThanEquals"))
            .ctx("s3:max-keys", "ten"),
        ImplicitlyDenied,
    ));

    // ---- Date operators.
    let issued = |op: &str, value: &str| {
        json!([with(
            allow("iam:*AccessKey*", "*"),
            json!({op: {"aws:TokenIssueTime": value}})
        )])
    };
    let keys = || {
        T::new(
            ALICE,
            "iam:CreateAccessKey",
            "arn:aws:iam::111122223333:user/alice",
        )
    };
    v.push(case(
        "DateGreaterThan: credentials issued after the date",
        "IAM JSON policy elements: Condition operators: Date (ex. aws:TokenIssueTime after 2020-01-01T00:00:01Z)",
        keys()
            .id(issued("DateGreaterThan", "2020-01-01T00:00:01Z"))
            .ctx("aws:TokenIssueTime", "2020-06-01T12:00:00Z"),
        Allowed,
    ));
    v.push(case(
        "DateGreaterThan: credentials issued before the date",
        "IAM JSON policy elements: Condition operators: Date (ex. aws:TokenIssueTime)",
        keys()
            .id(issued("DateGreaterThan", "2020-01-01T00:00:01Z"))
            .ctx("aws:TokenIssueTime", "2019-12-31T23:59:59Z"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "DateGreaterThan: no temporary credentials, no key",
        "IAM JSON policy elements: Condition operators: Date (ex. an IAM user with access keys is denied)",
        keys().id(issued("DateGreaterThan", "2020-01-01T00:00:01Z")),
        ImplicitlyDenied,
    ));
    v.push(case(
        "DateLessThan with aws:CurrentTime",
        OPERATORS,
        keys()
            .id(json!([with(
                allow("iam:*", "*"),
                json!({"DateLessThan": {"aws:CurrentTime": "2030-12-31T23:59:59Z"}})
            )]))
            .ctx("aws:CurrentTime", "2026-05-01T08:00:00Z"),
        Allowed,
    ));
    v.push(case(
        "an epoch request value against an ISO 8601 policy value",
        "IAM JSON policy elements: Condition operators: Date (ISO 8601 or epoch time)",
        keys()
            .id(json!([with(
                allow("iam:*", "*"),
                json!({"DateGreaterThanEquals": {"aws:EpochTime": "2020-01-01T00:00:00Z"}})
            )]))
            .ctx("aws:EpochTime", "1577836800"),
        Allowed,
    ));
    v.push(case(
        "an epoch policy value against an ISO 8601 request value",
        "IAM JSON policy elements: Condition operators: Date (ISO 8601 or epoch time)",
        keys()
            .id(issued("DateLessThan", "1577836800"))
            .ctx("aws:TokenIssueTime", "2019-12-31T23:59:59Z"),
        Allowed,
    ));
    v.push(case(
        "time zones are honoured",
        "IAM JSON policy elements: Condition operators: Date (W3C ISO 8601 formats)",
        keys()
            .id(issued("DateEquals", "2020-01-01T00:00:00Z"))
            .ctx("aws:TokenIssueTime", "2020-01-01T01:00:00+01:00"),
        Allowed,
    ));
    v.push(case(
        "DateNotEquals with another instant",
        OPERATORS,
        keys()
            .id(issued("DateNotEquals", "2020-01-01T00:00:00Z"))
            .ctx("aws:TokenIssueTime", "2020-01-01T00:00:01Z"),
        Allowed,
    ));
    v.push(case(
        "a date without a time is midnight UTC",
        "IAM JSON policy elements: Condition operators: Date (W3C ISO 8601 formats)",
        keys()
            .id(issued("DateLessThanEquals", "2020-01-02"))
            .ctx("aws:TokenIssueTime", "2020-01-02T00:00:00Z"),
        Allowed,
    ));

    // ---- Bool, Binary.
    let tls = json!([all, {"Sid": "BooleanExample", "Action": "s3:*", "Effect": "Deny",
        "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]);
    let doc_bucket = || T::new(ALICE, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/x");
    v.push(case(
        "Bool: a request without TLS is denied",
        "IAM JSON policy elements: Condition operators: Boolean (ex. BooleanExample)",
        doc_bucket()
            .id(tls.clone())
            .ctx("aws:SecureTransport", "false"),
        ExplicitlyDenied,
    ));
    v.push(case(
        "Bool: a request over TLS is not denied",
        "IAM JSON policy elements: Condition operators: Boolean (ex. BooleanExample)",
        doc_bucket().id(tls).ctx("aws:SecureTransport", "true"),
        Allowed,
    ));
    let binary = json!([with(
        allow("s3:*", "*"),
        json!({"BinaryEquals": {"s3:x-amz-meta-key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}})
    )]);
    v.push(case(
        "BinaryEquals: the same base-64 value",
        "IAM JSON policy elements: Condition operators: Binary (ex. QmluYXJ5VmFsdWVJbkJhc2U2NA==)",
        s3_get(ALICE)
            .id(binary.clone())
            .ctx("s3:x-amz-meta-key", "QmluYXJ5VmFsdWVJbkJhc2U2NA=="),
        Allowed,
    ));
    v.push(case(
        "BinaryEquals: another value",
        "IAM JSON policy elements: Condition operators: Binary",
        s3_get(ALICE)
            .id(binary)
            .ctx("s3:x-amz-meta-key", "T3RoZXI="),
        ImplicitlyDenied,
    ));

    // ---- IP address operators.
    let from = |op: &str, values: Value| {
        json!([with(
            allow("iam:*AccessKey*", "*"),
            json!({op: {"aws:SourceIp": values}})
        )])
    };
    let ip_key = || T::new(ALICE, "iam:CreateAccessKey", "*");
    v.push(case(
        "IpAddress: inside the range",
        "IAM JSON policy elements: Condition operators: IP address (ex. 203.0.113.0/24)",
        ip_key()
            .id(from("IpAddress", json!("203.0.113.0/24")))
            .ctx("aws:SourceIp", "203.0.113.200"),
        Allowed,
    ));
    v.push(case(
        "IpAddress: outside the range",
        "IAM JSON policy elements: Condition operators: IP address (ex. 203.0.113.0/24)",
        ip_key()
            .id(from("IpAddress", json!("203.0.113.0/24")))
            .ctx("aws:SourceIp", "198.51.100.7"),
        ImplicitlyDenied,
    ));
    let mixed = json!(["203.0.113.0/24", "2001:DB8:1234:5678::/64"]);
    v.push(case(
        "IpAddress: an IPv6 address in an IPv6 range",
        "IAM JSON policy elements: Condition operators: IP address (ex. mixing IPv4 and IPv6)",
        ip_key()
            .id(from("IpAddress", mixed.clone()))
            .ctx("aws:SourceIp", "2001:db8:1234:5678:abcd::1"),
        Allowed,
    ));
    v.push(case(
        "IpAddress: an IPv6 address outside the range",
        "IAM JSON policy elements: Condition operators: IP address (ex. mixing IPv4 and IPv6)",
        ip_key()
            .id(from("IpAddress", mixed))
            .ctx("aws:SourceIp", "2001:db8:1234:5679::1"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "IpAddress: an address without a prefix is a /32",
        "IAM JSON policy elements: Condition operators: IP address (default prefix /32)",
        ip_key()
            .id(from("IpAddress", json!("203.0.113.5")))
            .ctx("aws:SourceIp", "203.0.113.6"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "IpAddress: no aws:SourceIp (a VPC endpoint request)",
        "IAM JSON policy elements: Condition operators: IP address (key absent through a VPC endpoint: false)",
        ip_key().id(from("IpAddress", json!("203.0.113.0/24"))),
        ImplicitlyDenied,
    ));
    v.push(case(
        "NotIpAddress: outside the range",
        OPERATORS,
        ip_key()
            .id(from("NotIpAddress", json!("203.0.113.0/24")))
            .ctx("aws:SourceIp", "198.51.100.7"),
        Allowed,
    ));
    v.push(case(
        "NotIpAddress: the key missing",
        "IAM JSON policy elements: Condition operators (negated operators are true when the key is not present)",
        ip_key().id(from("NotIpAddress", json!("203.0.113.0/24"))),
        Allowed,
    ));

    // ---- ARN operators.
    let sns = |op: &str, value: &str| {
        json!([with(
            allow("sqs:SendMessage", "*"),
            json!({op: {"aws:SourceArn": value}})
        )])
    };
    let send = || {
        T::new(
            ALICE,
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-2:111122223333:QUEUE-ID",
        )
    };
    v.push(case(
        "ArnEquals: the topic",
        "IAM JSON policy elements: Condition operators: ARN (ex. SQS queue and SNS topic)",
        send()
            .id(sns(
                "ArnEquals",
                "arn:aws:sns:us-east-2:123456789012:TOPIC-ID",
            ))
            .ctx(
                "aws:SourceArn",
                "arn:aws:sns:us-east-2:123456789012:TOPIC-ID",
            ),
        Allowed,
    ));
    v.push(case(
        "ArnEquals: another topic",
        "IAM JSON policy elements: Condition operators: ARN (ex. SQS queue and SNS topic)",
        send()
            .id(sns(
                "ArnEquals",
                "arn:aws:sns:us-east-2:123456789012:TOPIC-ID",
            ))
            .ctx("aws:SourceArn", "arn:aws:sns:us-east-2:123456789012:OTHER"),
        ImplicitlyDenied,
    ));
    let finance =
        "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
    v.push(case(
        "ArnLike matches part by part: a * does not span colons",
        "IAM JSON policy elements: Condition operators: ARN (ex. finance/* fails with ArnLike)",
        send()
            .id(sns(
                "ArnLike",
                "arn:aws:someservice:*:111122223333:finance/*",
            ))
            .ctx("aws:SourceArn", finance),
        ImplicitlyDenied,
    ));
    v.push(case(
        "StringLike on the same ARN succeeds",
        "IAM JSON policy elements: Condition operators: ARN (ex. finance/* succeeds with StringLike)",
        send()
            .id(sns("StringLike", "arn:aws:someservice:*:111122223333:finance/*"))
            .ctx("aws:SourceArn", finance),
        Allowed,
    ));
    v.push(case(
        "ArnLike with wildcards in several parts",
        "IAM JSON policy elements: Condition operators: ARN (each part can include * and ?)",
        send().id(sns("ArnLike", "arn:aws:sns:*:*:TOPIC-??")).ctx(
            "aws:SourceArn",
            "arn:aws:sns:eu-west-1:999999999999:TOPIC-ID",
        ),
        Allowed,
    ));
    v.push(case(
        "ArnLike is case-sensitive",
        "IAM JSON policy elements: Condition operators: ARN (case-sensitive matching)",
        send().id(sns("ArnLike", "arn:aws:sns:*:*:topic-*")).ctx(
            "aws:SourceArn",
            "arn:aws:sns:eu-west-1:999999999999:TOPIC-ID",
        ),
        ImplicitlyDenied,
    ));
    v.push(case(
        "ArnNotLike holds when the key is missing",
        "IAM JSON policy elements: Condition operators (ex. ArnNotLike with the key not present is true)",
        send().id(sns("ArnNotLike", "arn:aws:sns:*:*:*")),
        Allowed,
    ));
    v.push(case(
        "ArnNotEquals with another ARN",
        OPERATORS,
        send()
            .id(sns(
                "ArnNotEquals",
                "arn:aws:sns:us-east-2:123456789012:TOPIC-ID",
            ))
            .ctx("aws:SourceArn", "arn:aws:sns:us-east-2:123456789012:OTHER"),
        Allowed,
    ));

    // ---- …IfExists and Null.
    let run = json!([{"Sid": "RunInstance", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
        "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}}]);
    let run_on = |resource: &str| T::new(ALICE, "ec2:RunInstances", resource);
    v.push(case(
        "StringLikeIfExists: a resource without the key",
        "IAM JSON policy elements: Condition operators: IfExists (ex. RunInstance on images, key pairs)",
        run_on("arn:aws:ec2:us-east-1::image/ami-1").id(run.clone()),
        Allowed,
    ));
    v.push(case(
        "StringLikeIfExists: an allowed instance type",
        "IAM JSON policy elements: Condition operators: IfExists (ex. RunInstance)",
        run_on("arn:aws:ec2:us-east-1:111122223333:instance/*")
            .id(run.clone())
            .ctx("ec2:InstanceType", "t2.micro"),
        Allowed,
    ));
    v.push(case(
        "StringLikeIfExists: another instance type",
        "IAM JSON policy elements: Condition operators: IfExists (ex. RunInstance)",
        run_on("arn:aws:ec2:us-east-1:111122223333:instance/*")
            .id(run)
            .ctx("ec2:InstanceType", "m5.large"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "Deny with StringNotEqualsIfExists still denies when the tag is missing",
        "IAM JSON policy elements: Condition operators: IfExists (Deny with StringNotEqualsIfExists denies a missing tag)",
        s3_get(ALICE).id(json!([all, with(deny("s3:*", "*"),
            json!({"StringNotEqualsIfExists": {"aws:ResourceTag/env": "dev"}}))])),
        ExplicitlyDenied,
    ));
    let temp = json!([{"Action": "ec2:*", "Effect": "Allow", "Resource": "*",
        "Condition": {"Null": {"aws:TokenIssueTime": "true"}}}]);
    v.push(case(
        "Null true: long-term credentials",
        "IAM JSON policy elements: Condition operators: Null (ex. aws:TokenIssueTime must not exist)",
        T::new(ALICE, "ec2:DescribeInstances", "*").id(temp.clone()),
        Allowed,
    ));
    v.push(case(
        "Null true: temporary credentials",
        "IAM JSON policy elements: Condition operators: Null (ex. aws:TokenIssueTime must not exist)",
        T::new(ALICE, "ec2:DescribeInstances", "*")
            .id(temp)
            .ctx("aws:TokenIssueTime", "2024-01-01T00:00:00Z"),
        ImplicitlyDenied,
    ));
    v.push(case(
        "Null false: the key is present",
        "IAM JSON policy elements: Condition operators: Null (false: the key exists)",
        s3_get(ALICE)
            .id(json!([with(
                allow("s3:*", "*"),
                json!({"Null": {"aws:PrincipalTag/team": "false"}})
            )]))
            .ctx("aws:PrincipalTag/team", "red"),
        Allowed,
    ));

    // ---- Set operators.
    let get_item = json!([{"Effect": "Allow", "Action": "dynamodb:GetItem",
        "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/Thread",
        "Condition": {"ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]}}}]);
    let thread = |action: &str| {
        T::new(
            ALICE,
            action,
            "arn:aws:dynamodb:us-east-1:111122223333:table/Thread",
        )
    };
    v.push(case(
        "ForAllValues: every requested attribute is listed",
        "Conditions with multiple context keys or values: ForAllValues (ex. PostDateTime and Message)",
        thread("dynamodb:GetItem")
            .id(get_item.clone())
            .ctx("dynamodb:requestedAttributes", json!(["PostDateTime", "Message"])),
        Allowed,
    ));
    v.push(case(
        "ForAllValues: one attribute is not listed",
        "Conditions with multiple context keys or values: ForAllValues (ex. PostDateTime and UserName)",
        thread("dynamodb:GetItem")
            .id(get_item.clone())
            .ctx("dynamodb:requestedAttributes", json!(["PostDateTime", "UserName"])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "ForAllValues: the key missing is true",
        "Single-valued vs. multivalued context keys: ForAllValues (true when the key is not in the request)",
        thread("dynamodb:GetItem").id(get_item.clone()),
        Allowed,
    ));
    v.push(case(
        "ForAllValues: an empty set is true",
        "Creating a condition that tests multiple key values (ForAllValues returns true for an empty data set)",
        thread("dynamodb:GetItem")
            .id(get_item)
            .ctx("dynamodb:requestedAttributes", json!([])),
        Allowed,
    ));
    let put_item = json!([allow("dynamodb:*", "*"), {"Effect": "Deny", "Action": "dynamodb:PutItem",
        "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/Thread",
        "Condition": {"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}}}]);
    v.push(case(
        "ForAnyValue: one attribute is listed",
        "Conditions with multiple context keys or values: ForAnyValue (ex. UserName, Message, PostDateTime)",
        thread("dynamodb:PutItem")
            .id(put_item.clone())
            .ctx("dynamodb:requestedAttributes", json!(["UserName", "Message", "PostDateTime"])),
        ExplicitlyDenied,
    ));
    v.push(case(
        "ForAnyValue: no attribute is listed",
        "Conditions with multiple context keys or values: ForAnyValue (ex. just UserName)",
        thread("dynamodb:PutItem")
            .id(put_item.clone())
            .ctx("dynamodb:requestedAttributes", json!(["UserName"])),
        Allowed,
    ));
    v.push(case(
        "ForAnyValue: the key missing is false",
        "Single-valued vs. multivalued context keys: ForAnyValue (false when the key is not in the request)",
        thread("dynamodb:PutItem").id(put_item.clone()),
        Allowed,
    ));
    v.push(case(
        "ForAnyValue: an empty set is false",
        "Creating a condition that tests multiple key values (ForAnyValue returns false for an empty data set)",
        thread("dynamodb:PutItem")
            .id(put_item)
            .ctx("dynamodb:requestedAttributes", json!([])),
        Allowed,
    ));
    let restricted = json!([all, {"Sid": "DenyRestrictedTags", "Effect": "Deny", "Action": ["iam:Tag*", "iam:UnTag*"],
        "Resource": ["*"], "Condition": {"Null": {"aws:TagKeys": "false"},
        "ForAllValues:StringLike": {"aws:TagKeys": ["key1*", "key2*", "key3*"]}}}]);
    let tag = || T::new(ALICE, "iam:TagUser", "arn:aws:iam::111122223333:user/bob");
    v.push(case(
        "Null false guards ForAllValues: no tag keys",
        "Multivalued context key examples (ex. DenyRestrictedTags with Null false)",
        tag().id(restricted.clone()),
        Allowed,
    ));
    v.push(case(
        "Null false guards ForAllValues: only restricted keys",
        "Multivalued context key examples (ex. DenyRestrictedTags)",
        tag()
            .id(restricted.clone())
            .ctx("aws:TagKeys", json!(["key1a", "key2b"])),
        ExplicitlyDenied,
    ));
    v.push(case(
        "Null false guards ForAllValues: a key outside the list",
        "Multivalued context key examples (ex. DenyRestrictedTags: every value must match)",
        tag()
            .id(restricted)
            .ctx("aws:TagKeys", json!(["key1a", "other"])),
        Allowed,
    ));
    let not_key1 = json!([all, {"Sid": "DenyRestrictedTags", "Effect": "Deny", "Action": ["iam:Tag*", "iam:UnTag*"],
        "Resource": ["*"], "Condition": {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}}]);
    v.push(case(
        "ForAllValues:StringNotLike: no key with the prefix",
        "Multivalued context key examples (ex. deny a single policy condition value: keys without key1)",
        tag().id(not_key1.clone()).ctx("aws:TagKeys", json!(["key2", "key3"])),
        ExplicitlyDenied,
    ));
    v.push(case(
        "ForAllValues:StringNotLike: a key with the prefix",
        "Multivalued context key examples (ex. deny a single policy condition value)",
        tag()
            .id(not_key1.clone())
            .ctx("aws:TagKeys", json!(["key1a", "key2"])),
        Allowed,
    ));
    v.push(case(
        "ForAllValues:StringNotLike: no tag keys at all",
        "Multivalued context key examples (ForAllValues returns true if there are no context keys)",
        tag().id(not_key1),
        ExplicitlyDenied,
    ));
    let tag_keys = |op: &str| {
        json!([with(
            allow("iam:Tag*", "*"),
            json!({op: {"aws:TagKeys": "owner"}})
        )])
    };
    v.push(case(
        "a plain operator on a multivalued key does not hold",
        "Single-valued vs. multivalued context keys (multivalued context keys require a set operator)",
        tag().id(tag_keys("StringEquals")).ctx("aws:TagKeys", json!(["owner", "team"])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "a plain negated operator on a multivalued key does not hold either",
        "Single-valued vs. multivalued context keys (multivalued context keys require a set operator)",
        tag().id(tag_keys("StringNotEquals")).ctx("aws:TagKeys", json!(["cost", "team"])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "a plain operator on a single value",
        "Single-valued vs. multivalued context keys (single-valued keys take plain operators)",
        tag()
            .id(tag_keys("StringEquals"))
            .ctx("aws:TagKeys", json!(["owner"])),
        Allowed,
    ));
    v.push(case(
        "ForAnyValue on a multivalued key",
        "Single-valued vs. multivalued context keys: ForAnyValue (at least one value matches)",
        tag()
            .id(tag_keys("ForAnyValue:StringEquals"))
            .ctx("aws:TagKeys", json!(["owner", "team"])),
        Allowed,
    ));

    // ---- Permissions boundaries.
    let shirley_boundary = json!([allow(json!(["s3:*", "cloudwatch:*", "ec2:*"]), "*")]);
    let shirley = "arn:aws:iam::111122223333:user/ShirleyRodriguez";
    v.push(because(
        case(
            "Shirley cannot create a user: the boundary does not allow it",
            "Permissions boundaries for IAM entities (ex. ShirleyRodriguez and iam:CreateUser)",
            T::new(shirley, "iam:CreateUser", "*")
                .id(json!([allow("iam:CreateUser", "*")]))
                .boundary(shirley_boundary.clone()),
            ImplicitlyDenied,
        ),
        "permissions boundary",
    ));
    v.push(case(
        "Shirley's S3 permission is within the boundary",
        "Permissions boundaries for IAM entities (ex. ShirleyRodriguez: add a policy with S3 actions)",
        T::new(shirley, "s3:GetObject", BUCKET_OBJECT)
            .id(json!([allow("s3:*", "*")]))
            .boundary(shirley_boundary.clone()),
        Allowed,
    ));
    v.push(because(
        case(
            "a boundary does not grant on its own",
            "Permissions boundaries for IAM entities (a boundary does not provide permissions on its own)",
            T::new(shirley, "s3:GetObject", BUCKET_OBJECT).boundary(shirley_boundary),
            ImplicitlyDenied,
        ),
        "no identity policy allows",
    ));
    let x_company = json!([
        {"Sid": "ServiceBoundaries", "Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*", "dynamodb:*"], "Resource": "*"},
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"]}
    ]);
    v.push(case(
        "XCompanyBoundaries denies the logs bucket",
        "Permissions boundaries: delegating responsibility (ex. XCompanyBoundaries DenyS3Logs)",
        T::new(ALICE, "s3:GetObject", "arn:aws:s3:::logs/x")
            .id(json!([all]))
            .boundary(x_company),
        ExplicitlyDenied,
    ));
    let zhang = json!([{"Sid": "CreateOrChangeOnlyWithBoundary", "Effect": "Allow",
        "Action": ["iam:CreateUser", "iam:DeleteUserPolicy", "iam:AttachUserPolicy", "iam:DetachUserPolicy", "iam:PutUserPermissionsBoundary"],
        "Resource": "*", "Condition": {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::111122223333:policy/XCompanyBoundaries"}}}]);
    let zhang_user = "arn:aws:iam::111122223333:user/Zhang";
    v.push(case(
        "Zhang creates a user with the boundary",
        "Permissions boundaries: delegating responsibility (ex. CreateOrChangeOnlyWithBoundary)",
        T::new(
            zhang_user,
            "iam:CreateUser",
            "arn:aws:iam::111122223333:user/new",
        )
        .id(json!([allow("iam:*", "*")]))
        .boundary(zhang.clone())
        .ctx(
            "iam:PermissionsBoundary",
            "arn:aws:iam::111122223333:policy/XCompanyBoundaries",
        ),
        Allowed,
    ));
    v.push(case(
        "Zhang creates a user without the boundary",
        "Permissions boundaries: delegating responsibility (ex. CreateOrChangeOnlyWithBoundary)",
        T::new(
            zhang_user,
            "iam:CreateUser",
            "arn:aws:iam::111122223333:user/new",
        )
        .id(json!([allow("iam:*", "*")]))
        .boundary(zhang),
        ImplicitlyDenied,
    ));
    // Same-account resource-based policies and implicit denies ("Determining whether a request
    // is allowed or denied within an account", the principal types).
    let narrow = json!([allow("ec2:*", "*")]);
    v.push(because(
        case(
            "a grant to the IAM user ARN is not limited by the boundary",
            "Policy evaluation logic: resource-based policies (IAM user ARN: not limited by implicit deny in identity policy or boundary)",
            s3_get(ALICE)
                .boundary(narrow.clone())
                .rp(json!([grant(aws(ALICE), "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/*")])),
            Allowed,
        ),
        "resource-based policy",
    ));
    v.push(because(
        case(
            "a grant to the role ARN is limited by the boundary",
            "Policy evaluation logic: resource-based policies (IAM role ARN: limited by implicit deny in a boundary)",
            s3_get(SESSION)
                .boundary(narrow.clone())
                .rp(json!([grant(aws(ROLE), "s3:GetObject", "*")])),
            ImplicitlyDenied,
        ),
        "permissions boundary",
    ));
    v.push(case(
        "a grant to the role ARN within the boundary needs no identity policy",
        "Policy evaluation logic: resource-based policies (IAM role ARN: only boundary and session policy limit it)",
        s3_get(SESSION)
            .boundary(json!([allow("s3:*", "*")]))
            .rp(json!([grant(aws(ROLE), "s3:GetObject", "*")])),
        Allowed,
    ));
    v.push(case(
        "a grant to the role session ARN is not limited by the boundary",
        "Policy evaluation logic: resource-based policies (IAM role session: not limited by identity, boundary or session policy)",
        s3_get(SESSION)
            .boundary(narrow.clone())
            .session(json!([allow("ec2:*", "*")]))
            .rp(json!([grant(aws(SESSION), "s3:GetObject", "*")])),
        Allowed,
    ));
    v.push(case(
        "a grant to the account delegates to identity policies: none allows",
        "How IAM roles differ from resource-based policies: delegating AWS permissions (account principal)",
        s3_get(ALICE).rp(json!([grant(aws(ACCOUNT), "s3:*", "*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "a grant to the account, the identity policy allows, the boundary does not",
        "Permissions boundaries: resource-based policies (boundaries limit identity-based permissions)",
        s3_get(ALICE)
            .id(json!([allow("s3:*", "*")]))
            .boundary(narrow.clone())
            .rp(json!([grant(aws("arn:aws:iam::111122223333:root"), "s3:*", "*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "within the account, the identity policy alone allows",
        "Policy evaluation logic: Evaluating identity-based policies with resource-based policies (union)",
        s3_get(ALICE)
            .id(json!([allow("s3:*", "*")]))
            .rp(json!([grant(aws(BOB), "s3:*", "*")])),
        Allowed,
    ));
    v.push(because(
        case(
            "NotPrincipal with Deny always denies a principal with a boundary",
            "Permissions boundaries for IAM entities (NotPrincipal with Deny always denies a principal with a boundary)",
            s3_get(ALICE)
                .id(json!([all]))
                .boundary(json!([all]))
                .rp(json!([{"Effect": "Deny", "NotPrincipal": {"AWS": [ALICE, "arn:aws:iam::111122223333:root"]},
                    "Action": "s3:*", "Resource": "*"}])),
            ExplicitlyDenied,
        ),
        "resource-based policy",
    ));
    // Session principals ("Determining whether a request is allowed…": session policies).
    v.push(case(
        "a role session without session policies has its role's permissions",
        "Policy evaluation logic: session policies (no session policy and a role session: Allow)",
        s3_get(SESSION).id(json!([allow("s3:*", "*")])),
        Allowed,
    ));
    v.push(because(
        case(
            "a federated user session without session policies has none",
            "Policy evaluation logic: session policies (no session policy and not a role session: implicit deny)",
            s3_get(FEDERATED).id(json!([allow("s3:*", "*")])),
            ImplicitlyDenied,
        ),
        "no session policy allows",
    ));
    v.push(case(
        "a grant to the federated user session ARN allows directly",
        "Policy evaluation logic: resource-based policies (IAM federated user sessions: granted directly to the session)",
        s3_get(FEDERATED).rp(json!([grant(aws(FEDERATED), "s3:GetObject", "*")])),
        Allowed,
    ));
    let session_get = json!([allow("s3:GetObject", "*")]);
    v.push(case(
        "a session policy limits the role's permissions",
        "Policy evaluation logic (session's permissions are the intersection of identity and session policies)",
        T::new(SESSION, "s3:PutObject", BUCKET_OBJECT)
            .id(json!([allow("s3:*", "*")]))
            .session(session_get.clone()),
        ImplicitlyDenied,
    ));
    v.push(case(
        "within the session policy",
        "Policy evaluation logic (session's permissions are the intersection of identity and session policies)",
        s3_get(SESSION)
            .id(json!([allow("s3:*", "*")]))
            .session(session_get.clone()),
        Allowed,
    ));
    v.push(because(
        case(
            "a grant to the role ARN is limited by the session policy",
            "Policy evaluation logic: resource-based policies (IAM role ARN: limited by implicit deny in a session policy)",
            T::new(SESSION, "s3:PutObject", BUCKET_OBJECT)
                .session(session_get)
                .rp(json!([grant(aws(ROLE), "s3:*", "*")])),
            ImplicitlyDenied,
        ),
        "no session policy allows",
    ));

    // ---- Cross-account.
    // S3 ARNs carry no account (batch mode then takes the caller's), so the shared resource of
    // these cases is an SQS queue in AccountA standing for the page's BucketA.
    let queue = "arn:aws:sqs:us-east-1:111122223333:QueueA";
    v.push(because(
        case(
            "across accounts the identity policy alone is not enough",
            "Cross-account policy evaluation logic (the resource-based policy must allow too)",
            T::new(OTHER_USER, "sqs:ReceiveMessage", queue).id(json!([allow("sqs:*", "*")])),
            ImplicitlyDenied,
        ),
        "another account",
    ));
    let account_b_full = json!([grant(aws(OTHER), "sqs:*", queue)]);
    let into_a = |action: &str| T::new(OTHER_USER, action, queue);
    let read_only = json!([allow(
        json!(["sqs:ReceiveMessage", "sqs:GetQueueAttributes"]),
        "*"
    )]);
    v.push(case(
        "the bucket grants the other account, the identity policy does not allow",
        "Cross-account policy evaluation logic (both evaluations must allow)",
        into_a("sqs:ReceiveMessage").rp(account_b_full.clone()),
        ImplicitlyDenied,
    ));
    v.push(case(
        "User2 reads BucketA: both sides allow",
        "How IAM roles differ from resource-based policies (ex. AccountA grants AccountB, User2 read-only)",
        into_a("sqs:ReceiveMessage")
            .id(read_only.clone())
            .rp(account_b_full.clone()),
        Allowed,
    ));
    v.push(case(
        "User2 cannot write BucketA: only read was delegated",
        "How IAM roles differ from resource-based policies (ex. User2 can view but not create objects)",
        into_a("sqs:SendMessage")
            .id(read_only)
            .rp(account_b_full.clone()),
        ImplicitlyDenied,
    ));
    v.push(case(
        "AccountB's root user has the account's access to BucketA",
        "How IAM roles differ from resource-based policies (ex. the AccountB root user has full access to BucketA)",
        T::new("arn:aws:iam::444455556666:root", "sqs:SendMessage", queue).rp(account_b_full.clone()),
        Allowed,
    ));
    v.push(case(
        "a cross-account grant to the user ARN still needs the identity policy",
        "Cross-account policy evaluation logic (the requester's identity-based policy must allow)",
        into_a("sqs:ReceiveMessage").rp(json!([grant(aws(OTHER_USER), "sqs:*", "*")])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "a cross-account grant to the user ARN with the identity policy",
        "Cross-account policy evaluation logic (resource policy names the principal; identity policy allows)",
        into_a("sqs:ReceiveMessage")
            .id(json!([allow("sqs:ReceiveMessage", "*")]))
            .rp(json!([grant(aws(OTHER_USER), "sqs:*", "*")])),
        Allowed,
    ));
    v.push(case(
        "across accounts the boundary still limits the identity side",
        "Cross-account policy evaluation logic (the trusted account's evaluation includes the boundary)",
        into_a("sqs:ReceiveMessage")
            .id(json!([allow("sqs:*", "*")]))
            .boundary(json!([allow("ec2:*", "*")]))
            .rp(account_b_full),
        ImplicitlyDenied,
    ));

    // ---- KMS key policies.
    let key = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let decrypt = |principal: &str| T::new(principal, "kms:Decrypt", key);
    let default_key_policy = json!([{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]);
    v.push(case(
        "the default key policy lets IAM policies allow",
        "AWS KMS Developer Guide: Default key policy (allows access to the AWS account and enables IAM policies)",
        decrypt(ALICE)
            .id(json!([allow("kms:Decrypt", key)]))
            .rp(default_key_policy.clone()),
        Allowed,
    ));
    v.push(case(
        "the default key policy alone does not allow a user",
        "AWS KMS Developer Guide: Default key policy (IAM policies must still allow the principal)",
        decrypt(ALICE).rp(default_key_policy),
        ImplicitlyDenied,
    ));
    v.push(because(
        case(
            "without the account in the key policy, IAM policies do not count",
            "AWS KMS Developer Guide: Key policies (unless the key policy allows it, IAM policies cannot allow access to a KMS key)",
            decrypt(ALICE)
                .id(json!([allow("kms:*", "*")]))
                .rp(json!([grant(aws(BOB), "kms:*", "*")])),
            ImplicitlyDenied,
        ),
        "key policy",
    ));
    v.push(case(
        "a key policy granting the user allows without an IAM policy",
        "AWS KMS Developer Guide: Key policies (a key policy can give principals access on its own)",
        decrypt(ALICE).rp(json!([grant(aws(ALICE), json!(["kms:Decrypt", "kms:Encrypt"]), "*")])),
        Allowed,
    ));
    v.push(case(
        "a key in another account: its key policy and the IAM policy both allow",
        "AWS KMS Developer Guide: Allowing users in other accounts to use a KMS key (key policy and IAM policy)",
        decrypt(OTHER_USER)
            .id(json!([allow("kms:Decrypt", key)]))
            .rp(json!([grant(aws("arn:aws:iam::444455556666:root"), "kms:Decrypt", "*")])),
        Allowed,
    ));
    v.push(case(
        "a key in another account: the IAM policy is missing",
        "AWS KMS Developer Guide: Allowing users in other accounts to use a KMS key (both must allow)",
        decrypt(OTHER_USER).rp(json!([grant(aws("arn:aws:iam::444455556666:root"), "kms:Decrypt", "*")])),
        ImplicitlyDenied,
    ));

    // ---- Role trust policies and sts:AssumeRole.
    let role_arn = "arn:aws:iam::111122223333:role/Test-reader";
    let assume = |principal: &str| T::new(principal, "sts:AssumeRole", role_arn);
    let trust = |principal: Value| json!([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]);
    v.push(case(
        "a trusted account's user with sts:AssumeRole",
        "Granting a user permissions to switch roles (trust policy names the account; user policy allows sts:AssumeRole)",
        assume(OTHER_USER)
            .id(json!([allow("sts:AssumeRole", "arn:aws:iam::111122223333:role/Test*")]))
            .rp(trust(aws(OTHER))),
        Allowed,
    ));
    v.push(case(
        "a trusted account's user without sts:AssumeRole",
        "Granting a user permissions to switch roles (the trusted account must give users permission)",
        assume(OTHER_USER).rp(trust(aws(OTHER))),
        ImplicitlyDenied,
    ));
    v.push(because(
        case(
            "an untrusted account's user, whatever its policies",
            "Policy evaluation logic: role trust policies must explicitly allow the principal",
            assume(OTHER_USER)
                .id(json!([all]))
                .rp(trust(aws("999999999999"))),
            ImplicitlyDenied,
        ),
        "trust policy",
    ));
    v.push(because(
        case(
            "within the account too, the trust policy must allow",
            "Policy evaluation logic: role trust policies are an exception (they must explicitly allow the principal)",
            assume(ALICE).id(json!([all])).rp(trust(json!({"Service": "ec2.amazonaws.com"}))),
            ImplicitlyDenied,
        ),
        "trust policy",
    ));
    v.push(case(
        "a trust policy naming the user in the account allows on its own",
        "Policy evaluation logic: resource-based policies (IAM user ARN grant, same account)",
        assume(ALICE).rp(trust(aws(ALICE))),
        Allowed,
    ));
    v.push(case(
        "a trust policy naming the account needs the user's policy",
        "Granting a user permissions to switch roles (Resource *: any role whose trust policy names the account)",
        assume(ALICE)
            .id(json!([allow("sts:AssumeRole", "*")]))
            .rp(trust(aws("arn:aws:iam::111122223333:root"))),
        Allowed,
    ));
    v.push(case(
        "a service assumes its role",
        "How IAM roles differ from resource-based policies (a service can be the principal)",
        assume("ec2.amazonaws.com").rp(trust(json!({"Service": "ec2.amazonaws.com"}))),
        Allowed,
    ));
    v.push(case(
        "another service is not trusted",
        SWITCH_ROLES,
        assume("lambda.amazonaws.com").rp(trust(json!({"Service": "ec2.amazonaws.com"}))),
        ImplicitlyDenied,
    ));
    let external = json!([{"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "Unique-ID-1234"}}}]);
    v.push(case(
        "the external ID matches",
        "How to use an external ID when granting access to your AWS resources (trust policy condition)",
        assume(OTHER_USER)
            .id(json!([allow("sts:AssumeRole", "*")]))
            .rp(external.clone())
            .ctx("sts:ExternalId", "Unique-ID-1234"),
        Allowed,
    ));
    v.push(case(
        "the external ID is missing",
        "How to use an external ID when granting access to your AWS resources (trust policy condition)",
        assume(OTHER_USER)
            .id(json!([allow("sts:AssumeRole", "*")]))
            .rp(external),
        ImplicitlyDenied,
    ));

    // The reason names the trust statement whose condition failed (issue 14).
    v.push(because(
        case(
            "a wrong external ID: the reason names the condition",
            "How to use an external ID when granting access to your AWS resources (trust policy condition)",
            assume(OTHER_USER)
                .id(json!([allow("sts:AssumeRole", "*")]))
                .rp(json!([{"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": "Unique-ID-1234"}}}]))
                .ctx("sts:ExternalId", "Unique-ID-9999"),
            ImplicitlyDenied,
        ),
        "statement `Partner` of trust policy `resource_policy` matched, but `sts:ExternalId` was `Unique-ID-9999`, not `Unique-ID-1234`",
    ));
    v.push(because(
        case(
            "an allowed assume names the trust statement",
            "Granting a user permissions to switch roles (trust policy names the account; user policy allows sts:AssumeRole)",
            assume(OTHER_USER)
                .id(json!([allow("sts:AssumeRole", "*")]))
                .rp(json!([{"Sid": "TrustOther", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole"}])),
            Allowed,
        ),
        "and statement `TrustOther` of trust policy `resource_policy` grants it",
    ));

    // ---- Actions a trust policy decides besides sts:AssumeRole (issue 14).
    let tags_trust =
        json!([{"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"}]);
    for action in ["sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"] {
        let page: &'static str = match action {
            "sts:TagSession" => "Passing session tags in AWS STS (the role's trust policy must allow sts:TagSession)",
            "sts:SetSourceIdentity" => "Monitor and control actions taken with assumed roles (the role's trust policy must allow sts:SetSourceIdentity)",
            _ => "AWS STS API Reference: AssumeRole, ProvidedContexts (the role's trust policy must allow sts:SetContext)",
        };
        let name: &'static str = Box::leak(
            format!("{action}: the identity policy alone is not enough within the account")
                .into_boxed_str(),
        );
        v.push(because(
            case(
                name,
                page,
                T::new(ALICE, action, role_arn)
                    .id(json!([all]))
                    .rp(tags_trust.clone()),
                ImplicitlyDenied,
            ),
            "trust policy",
        ));
        let name: &'static str = Box::leak(
            format!("{action}: allowed when the trust policy allows it").into_boxed_str(),
        );
        v.push(case(
            name,
            page,
            T::new(ALICE, action, role_arn)
                .rp(json!([{"Effect": "Allow", "Principal": {"AWS": ALICE},
                "Action": ["sts:AssumeRole", action]}])),
            Allowed,
        ));
    }
    v.push(case(
        "sts:TagSession across accounts needs both the trust and the identity policy",
        "Passing session tags in AWS STS (the role's trust policy must allow sts:TagSession)",
        T::new(OTHER_USER, "sts:TagSession", role_arn)
            .rp(json!([{"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": ["sts:AssumeRole", "sts:TagSession"]}])),
        ImplicitlyDenied,
    ));

    // ---- AWS-owned resources (account `aws`) are not another account's (issue 14).
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    v.push(case(
        "reading an AWS managed policy needs only the identity policy",
        "AWS managed policies (created and administered by AWS; readable with iam:GetPolicyVersion)",
        T::new(ALICE, "iam:GetPolicyVersion", admin).id(json!([allow("iam:GetPolicy*", "*")])),
        Allowed,
    ));
    v.push(case(
        "an AWS-owned resource still needs the identity policy",
        "AWS managed policies (created and administered by AWS; readable with iam:GetPolicyVersion)",
        T::new(ALICE, "iam:GetPolicyVersion", admin),
        ImplicitlyDenied,
    ));
    v.push(case(
        "a SageMaker public hub is AWS's, not another account's",
        "Policy evaluation logic (a request within the account needs only an identity-based allow)",
        T::new(
            ROLE,
            "sagemaker:DescribeHub",
            "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub",
        )
        .id(json!([allow("sagemaker:DescribeHub", "*")])),
        Allowed,
    ));

    // ---- ForAnyValue…IfExists with the key absent or empty (issue 14).
    let any_tag = with(
        allow("s3:GetObject", "*"),
        json!({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}}),
    );
    v.push(case(
        "ForAnyValue:…IfExists is false when the key is missing",
        "Set operators for multivalued context keys (ForAnyValue: false when the key is missing or empty; IfExists does not change it)",
        s3_get(ALICE).id(json!([any_tag.clone()])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "ForAnyValue:…IfExists is false when the key is an empty set",
        "Set operators for multivalued context keys (ForAnyValue: false when the key is missing or empty; IfExists does not change it)",
        s3_get(ALICE).id(json!([any_tag.clone()])).ctx("aws:TagKeys", json!([])),
        ImplicitlyDenied,
    ));
    v.push(case(
        "ForAnyValue:…IfExists holds when a value matches",
        SETS,
        s3_get(ALICE)
            .id(json!([any_tag]))
            .ctx("aws:TagKeys", json!(["team", "cost"])),
        Allowed,
    ));
    v.push(case(
        "ForAllValues:…IfExists stays true when the key is missing",
        "Set operators for multivalued context keys (ForAllValues: true when the key is missing or empty)",
        s3_get(ALICE).id(json!([with(
            allow("s3:GetObject", "*"),
            json!({"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["team"]}})
        )])),
        Allowed,
    ));

    // ---- One key twice, in two cases, under one operator: both tests apply (issue 14).
    let two_cases = with(
        allow("s3:GetObject", "*"),
        json!({"StringEquals": {"aws:ResourceTag/team": "platform", "AWS:ResourceTag/team": "platform"}}),
    );
    v.push(case(
        "a key written in two cases: both hold",
        "IAM JSON policy elements: Condition (condition key names are not case-sensitive; keys under one operator are ANDed)",
        s3_get(ALICE).id(json!([two_cases])).ctx("aws:ResourceTag/team", "platform"),
        Allowed,
    ));
    let two_values = with(
        allow("s3:GetObject", "*"),
        json!({"StringEquals": {"aws:ResourceTag/team": "platform", "AWS:ResourceTag/team": "security"}}),
    );
    v.push(because(
        case(
            "a key written in two cases with two values: both must hold",
            "Conditions with multiple context keys or values (keys under one operator are ANDed)",
            s3_get(ALICE)
                .id(json!([two_values]))
                .ctx("aws:ResourceTag/team", "platform"),
            ImplicitlyDenied,
        ),
        "matched, but `AWS:ResourceTag/team` was `platform`, not `security`",
    ));

    // ---- Explanations name the condition that failed (issue 14).
    v.push(because(
        case(
            "the reason names the condition that kept an identity statement from allowing",
            "AWS KMS Developer Guide: kms:ViaService (the request must come through the named service)",
            T::new(ROLE, "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/1234abcd")
                .id(json!([{"Sid": "DecryptWithOrdersKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                    "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]))
                .ctx("kms:ViaService", "ec2.us-east-1.amazonaws.com"),
            ImplicitlyDenied,
        ),
        "statement `DecryptWithOrdersKey` of identity policy `identity[0]` matched, but `kms:ViaService` was `ec2.us-east-1.amazonaws.com`, not `s3.us-east-1.amazonaws.com`",
    ));
    v.push(because(
        case(
            "the reason says when the condition's key was not in the request",
            OPERATORS,
            s3_get(ALICE).id(json!([with(
                allow("s3:GetObject", "*"),
                json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
            )])),
            ImplicitlyDenied,
        ),
        "matched, but `aws:SourceIp` was not in the request",
    ));

    // ---- A user's federated sessions are not the user (issue 14).
    let fed_alice = "arn:aws:sts::111122223333:federated-user/alice";
    v.push(because(
        case(
            "a grant to the user's ARN does not cover the user's federated session",
            "Permissions for GetFederationToken (a resource-based policy must name the federated user session itself)",
            s3_get(fed_alice).rp(json!([grant(aws(ALICE), "s3:GetObject", "*")])),
            ImplicitlyDenied,
        ),
        "no identity policy allows",
    ));
    v.push(because(
        case(
            "a grant to the user's ARN does not lift the session policy's limit",
            "Permissions for GetFederationToken (the session's permissions are the user's policies and the session policy together)",
            s3_get(fed_alice)
                .id(json!([allow("s3:GetObject", "*")]))
                .rp(json!([grant(aws(ALICE), "s3:GetObject", "*")])),
            ImplicitlyDenied,
        ),
        "no session policy allows",
    ));
    v.push(case(
        "the federated session with its user's policy and a session policy",
        "Permissions for GetFederationToken (the session's permissions are the user's policies and the session policy together)",
        s3_get(fed_alice)
            .id(json!([allow("s3:GetObject", "*")]))
            .session(json!([allow("s3:*", "*")]))
            .rp(json!([grant(aws(ALICE), "s3:GetObject", "*")])),
        Allowed,
    ));

    // ---- NotPrincipal.
    let not_bob = |listed: Value| {
        json!([grant(json!("*"), "s3:*", "*"), {"Effect": "Deny", "NotPrincipal": {"AWS": listed},
        "Action": "s3:*", "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"]}])
    };
    let bucketname =
        |principal: &str| T::new(principal, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/x");
    let bob_and_account = json!([
        "arn:aws:iam::444455556666:user/Bob",
        "arn:aws:iam::444455556666:root"
    ]);
    v.push(case(
        "NotPrincipal spares Bob when Bob and his account are listed",
        "IAM JSON policy elements: NotPrincipal (ex. IAM user in the same or a different account)",
        bucketname("arn:aws:iam::444455556666:user/Bob")
            .id(json!([allow("s3:*", "*")]))
            .rp(not_bob(bob_and_account.clone())),
        Allowed,
    ));
    v.push(case(
        "NotPrincipal denies everyone else",
        "IAM JSON policy elements: NotPrincipal (ex. all principals except Bob are denied)",
        bucketname("arn:aws:iam::444455556666:user/Alice")
            .id(json!([allow("s3:*", "*")]))
            .rp(not_bob(bob_and_account)),
        ExplicitlyDenied,
    ));
    v.push(case(
        "NotPrincipal without the account may deny Bob through his account",
        "IAM JSON policy elements: NotPrincipal (with only Bob's ARN, the policy might deny Bob's account)",
        bucketname("arn:aws:iam::444455556666:user/Bob")
            .id(json!([allow("s3:*", "*")]))
            .rp(not_bob(json!(["arn:aws:iam::444455556666:user/Bob"]))),
        ExplicitlyDenied,
    ));
    let audit_session = "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app";
    let audit = json!([
        audit_session,
        "arn:aws:iam::444455556666:role/cross-account-read-only-role",
        "arn:aws:iam::444455556666:root"
    ]);
    v.push(case(
        "NotPrincipal spares the session listed with its role and account",
        "IAM JSON policy elements: NotPrincipal (ex. IAM role in the same or different account)",
        bucketname(audit_session)
            .id(json!([allow("s3:*", "*")]))
            .rp(not_bob(audit.clone())),
        Allowed,
    ));
    v.push(case(
        "NotPrincipal denies another session of the same role",
        "IAM JSON policy elements: NotPrincipal (ex. the assumed-role user is identified by its session name)",
        bucketname("arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/other-app")
            .id(json!([allow("s3:*", "*")]))
            .rp(not_bob(audit)),
        ExplicitlyDenied,
    ));

    // ---- Special principals and actions.
    v.push(because(
        case(
            "sts:GetCallerIdentity needs no permission, even against a deny",
            STS_GCI,
            T::new(ALICE, "sts:GetCallerIdentity", "*").id(json!([deny("*", "*")])),
            Allowed,
        ),
        "needs no permission",
    ));
    v.push(because(
        case(
            "the root user has full access in its account",
            "Policy evaluation logic (all requests are implicitly denied except for the root user, which has full access)",
            T::new("arn:aws:iam::111122223333:root", "s3:DeleteBucket", "arn:aws:s3:::b"),
            Allowed,
        ),
        "root user",
    ));
    v.push(case(
        "an SCP limits the root user too",
        "Policy evaluation logic: SCPs (the SCP maximum applies to principals in member accounts, including the root user)",
        T::new("arn:aws:iam::111122223333:root", "s3:DeleteBucket", "arn:aws:s3:::b")
            .scp(json!([all, deny("s3:DeleteBucket", "*")])),
        ExplicitlyDenied,
    ));
    v
}

#[test]
fn known_answers() {
    let cases = cases();
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        assert!(names.insert(c.name), "two cases named `{}`", c.name);
        assert!(!c.doc.trim().is_empty(), "`{}` cites no page", c.name);
        let (kind, reason) = c.t.decide();
        let reason_ok = c.reason.is_none_or(|r| reason.contains(r));
        if kind != c.want || !reason_ok {
            failures.push(format!(
                "{}\n    doc: {}\n    want {:?}{}, got {:?}: {reason}",
                c.name,
                c.doc,
                c.want,
                c.reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                kind
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 120, "only {} cases", cases.len());
    // Every kind of outcome is covered, and so are the pages the engine follows.
    for kind in [Allowed, ImplicitlyDenied, ExplicitlyDenied] {
        assert!(cases.iter().any(|c| c.want == kind));
    }
    for page in [
        EVAL,
        DENY_ALLOW,
        CROSS,
        BOUNDARIES,
        ACTION,
        NOT_ACTION,
        RESOURCE,
        NOT_RESOURCE,
        NOT_PRINCIPAL,
        VARIABLES,
        CONDITION,
        OPERATORS,
        MULTI,
        SETS,
        MULTI_EXAMPLES,
        ROLES_VS_RESOURCES,
        SWITCH_ROLES,
        KMS,
        STS_GCI,
        EXPLICIT_IMPLICIT,
    ] {
        // The page's own title: after "Guide:" or a parent page's name.
        let key = page.rsplit(": ").next().unwrap();
        assert!(
            cases.iter().any(|c| c.doc.contains(key)),
            "no case cites {page}"
        );
    }
}

// ---- The real binary: `iamx simulate --batch -`.

fn run_batch(input: &str) -> (Option<i32>, Vec<Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamx"))
        .args(["simulate", "--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let lines = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect();
    (output.status.code(), lines)
}

#[test]
fn the_binary_evaluates_a_batch_and_reports_bad_lines_without_stopping() {
    let input = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/batch.jsonl"),
    )
    .unwrap();
    let (code, lines) = run_batch(&input);
    // Some line failed: the exit code says so, but every other line was evaluated.
    assert_eq!(code, Some(1));
    assert_eq!(lines.len(), 7, "{lines:#?}");
    let decision = |id: &str| {
        lines
            .iter()
            .find(|l| l["id"] == id)
            .and_then(|l| l["decision"].as_str())
            .unwrap_or_else(|| panic!("no decision for {id}: {lines:#?}"))
            .to_string()
    };
    // IAM policy elements: Variables and tags (ex. ${aws:username} in Resource).
    assert_eq!(decision("own-folder"), "Allowed");
    // Permissions boundaries for IAM entities (ex. ShirleyRodriguez and iam:CreateUser).
    assert_eq!(decision("bounded"), "ImplicitlyDenied");
    // Policy evaluation logic: an explicit deny in an SCP wins.
    assert_eq!(decision("scp-deny"), "ExplicitlyDenied");
    // Cross-account policy evaluation logic: both sides allow.
    assert_eq!(decision("cross-account"), "Allowed");
    // Single-valued vs. multivalued context keys: ForAllValues, one value outside the list.
    assert_eq!(decision("tag-keys"), "ImplicitlyDenied");
    // The malformed lines: an error line each, with its line number, in input order.
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].as_str().unwrap().contains("not JSON"));
    assert_eq!(lines[4]["id"], "no-request");
    assert!(lines[4]["error"]
        .as_str()
        .unwrap()
        .contains("`request` is missing"));
    // Explanations name the deciding statement's policy.
    let reason = lines[3]["reason"].as_str().unwrap();
    assert!(reason.contains("service control policy"), "{reason}");
}

#[test]
fn the_binary_answers_the_issue_14_fixture_as_its_pages_say() {
    // Each line carries the page that fixes its answer (`doc`) and the answer (`want`).
    let input = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/eval/issue14_known_answers.jsonl"),
    )
    .unwrap();
    let wanted: Vec<Value> = input
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (code, lines) = run_batch(&input);
    assert_eq!(code, Some(0), "{lines:#?}");
    assert_eq!(lines.len(), wanted.len());
    for (got, want) in lines.iter().zip(&wanted) {
        assert!(want["doc"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(got["id"], want["id"]);
        assert_eq!(got["decision"], want["want"], "{}: {got}", want["doc"]);
    }
}

#[test]
fn the_binary_agrees_with_the_library_on_the_known_answers() {
    let cases = cases();
    let input: String = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut line = c.t.line.clone();
            line["id"] = json!(i);
            format!("{line}\n")
        })
        .collect();
    let (code, lines) = run_batch(&input);
    assert_eq!(code, Some(0));
    assert_eq!(lines.len(), cases.len());
    for (line, c) in lines.iter().zip(&cases) {
        assert_eq!(
            line["decision"].as_str(),
            Some(format!("{:?}", c.want).as_str()),
            "{}: {line}",
            c.name
        );
    }
}

// ---- Property tests over random policies and requests (a small deterministic generator).

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn shuffle<X>(&mut self, items: &mut [X]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "ec2:DescribeInstances",
    "iam:CreateUser",
    "kms:Decrypt",
    "sqs:SendMessage",
];
const ACTION_PATTERNS: &[&str] = &[
    "*",
    "s3:*",
    "s3:Get*",
    "S3:getobject",
    "s3:?utObject",
    "ec2:Describe*",
    "iam:*User",
    "kms:*",
    "sqs:SendMessage",
];
const RESOURCES: &[&str] = &[
    "arn:aws:s3:::data/alice/a.txt",
    "arn:aws:s3:::data/bob/b.txt",
    "arn:aws:s3:::data",
    "*",
    "arn:aws:sqs:us-east-1:111122223333:q",
    "arn:aws:sqs:us-east-1:444455556666:q",
];
const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::data/*",
    "arn:aws:s3:::data/${aws:username}/*",
    "arn:aws:s3:::data",
    "arn:aws:sqs:*:111122223333:*",
    "arn:aws:s?s:us-east-1:*:q",
];
const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:user/bob",
    "arn:aws:sts::111122223333:assumed-role/dev/s1",
    "arn:aws:iam::444455556666:user/carol",
];
const GRANTEES: &[&str] = &[
    "*",
    "111122223333",
    "arn:aws:iam::444455556666:root",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:role/dev",
    "arn:aws:sts::111122223333:assumed-role/dev/s1",
];

fn random_condition(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => json!({"StringEquals": {"aws:PrincipalTag/team": rng.pick(&["red", "blue"])}}),
        1 => json!({"StringNotEquals": {"aws:PrincipalTag/team": ["red", "green"]}}),
        2 => json!({"IpAddress": {"aws:SourceIp": rng.pick(&["10.0.0.0/8", "2001:db8::/32"])}}),
        3 => json!({"Bool": {"aws:SecureTransport": rng.pick(&["true", "false"])}}),
        4 => json!({"ForAnyValue:StringLike": {"aws:TagKeys": ["own*", "team"]}}),
        5 => json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["owner", "team"]}}),
        6 => json!({"NumericLessThanIfExists": {"s3:max-keys": "10"}}),
        _ => json!({"Null": {"aws:PrincipalTag/team": rng.pick(&["true", "false"])}}),
    }
}

fn random_statement(rng: &mut Rng, effect: &str, principal: bool) -> Value {
    let actions: Vec<&str> = (0..1 + rng.below(2))
        .map(|_| rng.pick(ACTION_PATTERNS))
        .collect();
    let resources: Vec<&str> = (0..1 + rng.below(2))
        .map(|_| rng.pick(RESOURCE_PATTERNS))
        .collect();
    let mut s = json!({"Effect": effect});
    s[if rng.chance(15) {
        "NotAction"
    } else {
        "Action"
    }] = json!(actions);
    s[if rng.chance(10) {
        "NotResource"
    } else {
        "Resource"
    }] = json!(resources);
    if rng.chance(40) {
        s["Condition"] = random_condition(rng);
    }
    if principal {
        s["Principal"] = json!({"AWS": rng.pick(GRANTEES)});
    }
    s
}

fn random_policy(rng: &mut Rng, principal: bool) -> Value {
    let n = 1 + rng.below(4);
    let statements: Vec<Value> = (0..n)
        .map(|_| {
            let effect = if rng.chance(25) { "Deny" } else { "Allow" };
            random_statement(rng, effect, principal)
        })
        .collect();
    policy(json!(statements))
}

fn random_line(rng: &mut Rng, resource_policy: bool) -> Value {
    let identity: Vec<Value> = (0..rng.below(3))
        .map(|_| random_policy(rng, false))
        .collect();
    let mut context = json!({});
    if rng.chance(70) {
        context["aws:username"] = json!(rng.pick(&["alice", "bob"]));
    }
    if rng.chance(60) {
        context["aws:PrincipalTag/team"] = json!(rng.pick(&["red", "blue", "green"]));
    }
    if rng.chance(60) {
        context["aws:SourceIp"] = json!(rng.pick(&["10.1.2.3", "192.0.2.1", "2001:db8::1"]));
    }
    if rng.chance(60) {
        context["aws:SecureTransport"] = json!(rng.pick(&["true", "false"]));
    }
    if rng.chance(50) {
        let keys: Vec<&str> = (0..rng.below(3))
            .map(|_| rng.pick(&["owner", "team", "secret"]))
            .collect();
        context["aws:TagKeys"] = json!(keys);
    }
    if rng.chance(30) {
        context["s3:max-keys"] = json!(rng.pick(&["5", "50"]));
    }
    json!({
        "identity": identity,
        "boundary": if rng.chance(50) { random_policy(rng, false) } else { Value::Null },
        "scps": (0..rng.below(2)).map(|_| random_policy(rng, false)).collect::<Vec<_>>(),
        "session": (0..rng.below(2)).map(|_| random_policy(rng, false)).collect::<Vec<_>>(),
        "resource_policy": if resource_policy && rng.chance(60) { random_policy(rng, true) } else { Value::Null },
        "request": {
            "principal": rng.pick(PRINCIPALS),
            "action": rng.pick(ACTIONS),
            "resource": rng.pick(RESOURCES),
            "context": context,
        }
    })
}

fn decide(line: &Value) -> DecisionKind {
    let (set, request) = batch_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    set.evaluate(&request).kind
}

const ROUNDS: usize = 3000;

#[test]
fn adding_a_deny_statement_never_allows() {
    let mut rng = Rng(0x5eed_0001);
    let mut changed = 0;
    for _ in 0..ROUNDS {
        let line = random_line(&mut rng, true);
        let before = decide(&line);
        let mut after_line = line.clone();
        let deny = random_statement(&mut rng, "Deny", false);
        // Into any policy of the set (a principal for the resource policy's statement).
        let slot = match rng.below(5) {
            0 => "identity",
            1 => "scps",
            2 => "session",
            3 => "boundary",
            _ => "resource_policy",
        };
        match slot {
            "boundary" | "resource_policy" => {
                let mut deny = deny;
                if slot == "resource_policy" {
                    deny["Principal"] = json!({"AWS": rng.pick(GRANTEES)});
                }
                match &mut after_line[slot] {
                    Value::Null => after_line[slot] = policy(json!([deny])),
                    doc => doc["Statement"].as_array_mut().unwrap().push(deny),
                }
            }
            _ => {
                let docs = after_line[slot].as_array_mut().unwrap();
                if docs.is_empty() || rng.chance(50) {
                    docs.push(policy(json!([deny])));
                } else {
                    let i = rng.below(docs.len());
                    docs[i]["Statement"].as_array_mut().unwrap().push(deny);
                }
            }
        }
        // Adding a boundary, SCP or session policy where there was none adds a limit, too.
        let after = decide(&after_line);
        if after != before {
            changed += 1;
        }
        assert!(
            !(before != Allowed && after == Allowed),
            "a Deny turned {before:?} into Allowed:\nbefore {line}\nafter {after_line}"
        );
        if before == ExplicitlyDenied {
            assert_eq!(after, ExplicitlyDenied, "{after_line}");
        }
    }
    assert!(
        changed > ROUNDS / 50,
        "the added denies changed only {changed} decisions"
    );
}

#[test]
fn an_identity_allow_never_reaches_past_the_boundary() {
    let mut rng = Rng(0x5eed_0002);
    let mut allowed = 0;
    for _ in 0..ROUNDS {
        let mut line = random_line(&mut rng, false);
        if line["boundary"].is_null() {
            line["boundary"] = random_policy(&mut rng, false);
        }
        let allow = random_statement(&mut rng, "Allow", false);
        line["identity"]
            .as_array_mut()
            .unwrap()
            .push(policy(json!([allow])));
        if decide(&line) != Allowed {
            continue;
        }
        allowed += 1;
        // Then the boundary itself, as the only policy, allows the request.
        let mut boundary_only = line.clone();
        boundary_only["identity"] = json!([line["boundary"].clone()]);
        boundary_only["boundary"] = Value::Null;
        boundary_only["scps"] = json!([]);
        boundary_only["session"] = json!([]);
        assert_eq!(
            decide(&boundary_only),
            Allowed,
            "allowed beyond the boundary: {line}"
        );
    }
    assert!(
        allowed > ROUNDS / 50,
        "only {allowed} requests were allowed"
    );
}

#[test]
fn the_decision_does_not_depend_on_statement_order() {
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..ROUNDS {
        let line = random_line(&mut rng, true);
        let before = decide(&line);
        let mut shuffled = line.clone();
        for slot in ["identity", "scps", "session"] {
            let docs = shuffled[slot].as_array_mut().unwrap();
            rng.shuffle(docs);
            for doc in docs.iter_mut() {
                rng.shuffle(doc["Statement"].as_array_mut().unwrap());
            }
        }
        for slot in ["boundary", "resource_policy"] {
            if let Some(statements) = shuffled[slot]
                .get_mut("Statement")
                .and_then(Value::as_array_mut)
            {
                rng.shuffle(statements);
            }
        }
        assert_eq!(decide(&shuffled), before, "\n{line}\n{shuffled}");
    }
}

/// "IAM JSON policy elements: Version": in the `2008-10-17` language (also a document with no
/// `Version`), policy variables are plain text, not replaced.
#[test]
fn policy_variables_need_the_2012_language() {
    let line = |version: Option<&str>| {
        let mut document = json!({"Statement": [{
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/${aws:username}/*"
        }]});
        if let Some(v) = version {
            document["Version"] = json!(v);
        }
        json!({
            "identity": [document],
            "request": {
                "principal": "arn:aws:iam::111122223333:user/alice",
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::b/alice/report.csv",
                "context": {"aws:username": "alice"}
            }
        })
    };
    let decide = |v: Option<&str>| {
        let (set, request) = batch_line(&line(v)).unwrap();
        set.evaluate(&request).kind
    };
    assert_eq!(decide(Some("2012-10-17")), Allowed);
    assert_eq!(decide(Some("2008-10-17")), ImplicitlyDenied);
    assert_eq!(decide(None), ImplicitlyDenied);
}
