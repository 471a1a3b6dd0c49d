//! The one registry of diagnostic codes.
//!
//! A code is `E` (error) or `W` (warning) and four digits; the first two digits name the stage:
//! `00` input, `01` syntax, `02` names and values (resolve), `03` IAM rules, `04` AWS facts, `06` the guardrail, `07` tests,
//! `08` account snapshots, `10` import and fmt, `11` deployment targets.
//! Every code has a page in the book (`book/src/diagnostics/<CODE>.md`) and a fixture
//! (`tests/fixtures/diagnostics/<CODE>_<case>.iamx`); a test fails when either is missing.

use super::Severity;

macro_rules! codes {
    ($($variant:ident = $code:literal, $title:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant),* }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as written: `E0101`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }

            /// A short title, used for the book's index.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),* }
            }
        }
    };
}

codes! {
    // 00: input
    InvalidUtf8 = "E0001", "file is not valid UTF-8";
    FileTooLarge = "E0002", "file is too large";
    NothingDeclared = "E0003", "file declares nothing";
    UnknownVar = "E0004", "`--var` names no param";
    MissingParam = "E0005", "param has no value";
    // 01: syntax
    Syntax = "E0101", "unexpected input";
    UnterminatedString = "E0102", "unterminated string";
    UnterminatedComment = "E0103", "unterminated block comment";
    TooDeep = "E0104", "nesting too deep";
    Unclosed = "E0105", "unclosed delimiter";
    UnexpectedCloser = "E0106", "unexpected closing delimiter";
    InvalidEscape = "E0107", "invalid escape in string";
    // 02: names and values
    UnknownName = "E0201", "unknown name";
    DuplicateName = "E0202", "duplicate name";
    WrongKind = "E0203", "reference to the wrong kind of item";
    LetCycle = "E0204", "`let` refers to itself";
    UnknownTemplate = "E0205", "unknown template variable";
    UnusedLet = "W0206", "unused `let`";
    DuplicateSetting = "E0207", "setting given twice";
    SettingNotAllowed = "E0208", "setting not allowed here";
    NoAccount = "E0209", "no account for an ARN";
    UnknownAttribute = "E0210", "unknown attribute";
    WrongValueType = "E0211", "value of the wrong type";
    InvalidPath = "E0212", "invalid path";
    InvalidName = "E0213", "invalid IAM name";
    UnknownOperator = "E0214", "unknown condition operator";
    OperatorMismatch = "E0215", "operator does not fit the value";
    MissingResource = "E0216", "statement has no resource";
    DuplicateCondition = "E0217", "condition key and operator given twice";
    InvalidTag = "E0218", "invalid tag";
    InvalidAccount = "E0219", "invalid account id";
    BadTemplate = "E0220", "malformed template";
    MissingTrust = "E0221", "role has no trust policy";
    IncludeUnreadable = "E0222", "JSON policy document cannot be read";
    InvalidPlace = "E0223", "invalid partition or region";
    NotAPolicyArn = "E0224", "not the ARN of a managed policy";
    ValueTooLarge = "E0225", "value expands to too many items";
    LetTooDeep = "E0226", "`let` chain too deep";
    UnusedAllow = "W0227", "`@allow` that accepts no warning";
    // 03: IAM rules
    InvalidSid = "E0301", "invalid Sid";
    DuplicateSid = "E0302", "duplicate Sid";
    EmptyList = "E0303", "empty list";
    InvalidArn = "E0304", "malformed ARN";
    PolicyTooLarge = "E0305", "policy too large";
    ManyManagedPolicies = "W0306", "more than 10 managed policies";
    TooManyManagedPolicies = "E0307", "more than 20 managed policies";
    NotWithAllow = "W0308", "`NotAction` or `NotResource` with `Allow`";
    NeverMatches = "W0309", "statement can never match";
    PrincipalOutsideTrust = "E0310", "`Principal` outside a trust or resource policy";
    MissingElement = "E0311", "policy element missing";
    InvalidAction = "E0312", "malformed action";
    MissingVersion = "W0313", "policy has no `Version`";
    InvalidPrincipal = "E0314", "malformed principal";
    TrustActionNotSts = "E0315", "trust policy grants an action other than `sts:`";
    PublicPrincipal = "W0316", "anyone may act, with no condition";
    DuplicateValue = "W0317", "value listed twice";
    WebIdentityUnscoped = "W0318", "web identity trust without a subject condition";
    ConditionKeyCase = "W0319", "condition key tested twice in different case";
    UnknownServicePrincipal = "W0320", "unknown service principal";
    // 04: AWS facts (the embedded service reference)
    UnknownService = "E0401", "unknown service prefix";
    UnknownAction = "E0402", "unknown action";
    PatternMatchesNothing = "E0403", "action pattern matches no action";
    ResourceMismatch = "W0404", "resource fits no resource type of the action";
    UnknownConditionKey = "E0405", "unknown condition key";
    KeyNotApplicable = "W0406", "condition key does not apply to the actions";
    OperatorKeyType = "E0407", "operator does not fit the condition key's type";
    InvalidConditionValue = "E0408", "condition value does not fit the operator";
    MultiValuedKeyWithoutSet = "W0409", "multi-valued key without `any` or `all`";
    SetOperatorOnSingleValuedKey = "W0410", "`any` or `all` on a single-valued key";
    UnknownManagedPolicy = "E0411", "unknown AWS managed policy";
    StringOperatorOnTypedKey = "W0412", "string operator on a key of another type";
    MissingArnPart = "E0413", "ARN without the region or account its resource type needs";
    // 06: the guardrail
    GuardCreateUnbounded = "W0601", "can create a principal without the boundary";
    GuardChangeBoundary = "W0602", "can change or remove a permissions boundary";
    GuardEditBoundary = "W0603", "can edit the boundary policy";
    GuardSelfEdit = "W0604", "can change its own permissions past an open boundary";
    GuardPassUnbounded = "W0605", "can pass a role not shown to be bounded";
    GuardOutsideReach = "W0606", "can manage principals outside the boundary";
    GuardPassAndRun = "W0607", "can pass a role to a service that runs code";
    GuardEditPoliciesElsewhere = "W0608", "can edit policies attached elsewhere";
    GuardRunAsOthers = "W0609", "can run code as other principals";
    GuardAssumeOutside = "W0610", "can assume roles outside the boundary";
    GuardUnboundedPrincipal = "W0611", "unbounded principal can escalate";
    GuardResourcePolicyGrant = "W0612", "can grant itself through a resource-based policy";
    GuardedButOpen = "E0620", "guarded boundary or delegating principal is open";
    DelegateWithoutGuard = "E0621", "`delegate` without a guarded boundary";
    // 07: tests
    TestFailed = "E0701", "test expectation not met";
    TestWithoutPrincipal = "E0702", "expectation without a principal";
    TestActionPattern = "E0703", "expectation names an action pattern";
    TestContextForm = "E0704", "test context not set with `==`";
    TestPrincipal = "E0705", "test caller that cannot make a request";
    // 08: account snapshots
    SnapshotUnreadable = "E0801", "account snapshot cannot be read";
    SnapshotDuplicate = "E0802", "principal or policy given twice";
    SnapshotDangling = "W0803", "reference to something the snapshot does not hold";
    SnapshotAdministrator = "W0804", "administrator without a boundary";
    SnapshotDepends = "W0805", "escalation depends on what the snapshot does not show";
    ResourcesUnreadable = "E0806", "`--resources` file cannot be read";
    ResourceRoleUnknown = "W0807", "resource runs as a role the snapshot does not hold";
    AccountImportLoss = "W0808", "imported account loses what iamx does not write";
    AccountImportInexact = "E0809", "account snapshot cannot be written in iamx";
    // 10: import and fmt
    ImportInexact = "E1001", "JSON policy cannot be written in iamx exactly";
    FmtUnfaithful = "E1002", "file `iamx fmt` cannot lay out without a loss";
    ImportDuplicate = "W1003", "value listed twice in an imported policy";
    ImportVersion = "W1004", "imported policy has an older `Version`, or none";
    // 11: deployment targets
    TemplateOverQuota = "E1101", "CloudFormation template over its quotas";
    StatementTooLarge = "E1102", "statement too large to split";
    TrustCycle = "W1103", "principals trust each other in a cycle";
    SessionOutOfRange = "E1104", "`max session` out of range";
    SplitOverManagedQuota = "E1105", "split needs more managed policies than a principal may have";
}

impl Code {
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// Looks a code up by its text (`"E0101"`).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
