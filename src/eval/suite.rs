//! Runs a project's `test` blocks: each expectation is a request evaluated against the
//! principal's policies, with what `given` adds.

use super::{project, CompiledPolicy, Decision, DecisionKind, PolicySet, Request};
use crate::diag::{Code, Diagnostic};
use crate::iam::{self, Expectation, Outcome, Project, TestCase};

/// The result of one expectation.
pub struct Checked<'a> {
    pub expectation: &'a Expectation,
    /// `Err` when the request cannot be evaluated (a policy iamx has no document for).
    pub outcome: Result<(PolicySet, Request, Decision), String>,
}

impl Checked<'_> {
    pub fn passed(&self) -> bool {
        match &self.outcome {
            Ok((_, _, decision)) => meets(self.expectation.outcome, decision.kind),
            Err(_) => false,
        }
    }
}

/// The result of one `test` block.
pub struct TestResult<'a> {
    pub case: &'a TestCase,
    pub checked: Vec<Checked<'a>>,
}

impl TestResult<'_> {
    pub fn passed(&self) -> bool {
        self.checked.iter().all(Checked::passed)
    }
}

fn meets(expected: Outcome, got: DecisionKind) -> bool {
    matches!(
        (expected, got),
        (Outcome::Allow, DecisionKind::Allowed)
            | (
                Outcome::Deny,
                DecisionKind::ImplicitlyDenied | DecisionKind::ExplicitlyDenied
            )
            | (Outcome::ExplicitDeny, DecisionKind::ExplicitlyDenied)
            | (Outcome::ImplicitDeny, DecisionKind::ImplicitlyDenied)
    )
}

fn decision_words(kind: DecisionKind) -> &'static str {
    match kind {
        DecisionKind::Allowed => "allowed",
        DecisionKind::ImplicitlyDenied => "implicitly denied",
        DecisionKind::ExplicitlyDenied => "explicitly denied",
    }
}

/// Evaluates one expectation.
pub fn check<'a>(project: &Project, expectation: &'a Expectation) -> Checked<'a> {
    let outcome = (|| {
        let (kind, name) = match &expectation.principal {
            iam::Caller::Principal(kind, name) => (kind, name),
            iam::Caller::Outside(kind, id) => {
                return Ok(check_outside(project, expectation, *kind, id))
            }
        };
        let principal = project
            .principals
            .iter()
            .find(|p| p.kind == *kind && &p.name == name)
            .ok_or_else(|| format!("the project has no {} `{name}`", kind.as_str()))?;
        let missing = |arn: &str| {
            format!("`{arn}` is neither the project's policy nor an AWS managed policy, so iamx has no document to evaluate")
        };
        let mut set = project::policy_set(project, principal).map_err(|m| missing(&m.0))?;
        for attached in &expectation.attached {
            set.identity.push(
                project::managed(project, &attached.value)
                    .ok_or_else(|| missing(&attached.value))?,
            );
        }
        if !expectation.statements.is_empty() {
            let policy = iam::Policy {
                statements: expectation.statements.clone(),
            };
            set.identity
                .push(CompiledPolicy::new("given statements", &policy));
        }
        if super::is_trust_action(&expectation.action) {
            set.resource = project::trust_policy(project, &expectation.resource);
        }
        let mut request = Request::new(
            &project::caller_arn(project, principal),
            &expectation.action,
            &expectation.resource,
        );
        request.context = project::principal_context(project, principal);
        for (key, values) in &expectation.context {
            request.context.insert(key, values.clone());
        }
        let decision = set.evaluate(&request);
        Ok((set, request, decision))
    })();
    Checked {
        expectation,
        outcome,
    }
}

/// An expectation of a caller outside the project. Its own policies are not the project's:
/// an ARN caller's identity side is taken to allow everything (so the project's trust,
/// resource policies and denies decide), and a federated or service caller has none (the trust
/// or resource policy alone decides).
fn check_outside(
    project: &Project,
    expectation: &Expectation,
    kind: crate::ast::OutsideKind,
    id: &str,
) -> (PolicySet, Request, Decision) {
    let mut set = PolicySet::default();
    let mut request = Request::new(id, &expectation.action, &expectation.resource);
    if kind == crate::ast::OutsideKind::Arn {
        let everything = iam::Policy {
            statements: vec![iam::Statement {
                sid: None,
                effect: iam::Spanned::new(iam::Effect::Allow, None),
                principal: None,
                not_principal: false,
                action: Some(iam::Block {
                    not: false,
                    values: vec![iam::Spanned::new("*".to_string(), None)],
                    span: None,
                }),
                resource: Some(iam::Block {
                    not: false,
                    values: vec![iam::Spanned::new("*".to_string(), None)],
                    span: None,
                }),
                conditions: Vec::new(),
                span: None,
                docs: Vec::new(),
            }],
        };
        set.identity.push(CompiledPolicy::new(
            "the caller's own policies (outside the project, taken to allow)",
            &everything,
        ));
        for (key, value) in outside_context(id) {
            request.context.insert(key, vec![value]);
        }
    }
    for attached in &expectation.attached {
        if let Some(policy) = project::managed(project, &attached.value) {
            set.identity.push(policy);
        }
    }
    if !expectation.statements.is_empty() {
        let policy = iam::Policy {
            statements: expectation.statements.clone(),
        };
        set.identity
            .push(CompiledPolicy::new("given statements", &policy));
    }
    if super::is_trust_action(&expectation.action) {
        set.resource = project::trust_policy(project, &expectation.resource);
    }
    for (key, values) in &expectation.context {
        request.context.insert(key, values.clone());
    }
    let decision = set.evaluate(&request);
    (set, request, decision)
}

/// The global keys AWS sets for a caller known by its ARN: its account, and its ARN (a role's
/// for a role session).
fn outside_context(arn: &str) -> Vec<(&'static str, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = parts.as_slice() else {
        return Vec::new();
    };
    let principal_arn = match (*service, resource.strip_prefix("assumed-role/")) {
        ("sts", Some(rest)) => {
            let role = rest.split('/').next().unwrap_or(rest);
            format!("arn:{partition}:iam::{account}:role/{role}")
        }
        _ => arn.to_string(),
    };
    vec![
        ("aws:PrincipalAccount", account.to_string()),
        ("aws:PrincipalArn", principal_arn),
    ]
}

/// Runs every test of a project.
pub fn run(project: &Project) -> Vec<TestResult<'_>> {
    project
        .tests
        .iter()
        .map(|case| TestResult {
            case,
            checked: case
                .expectations
                .iter()
                .map(|e| check(project, e))
                .collect(),
        })
        .collect()
}

/// The diagnostic of an expectation that is not met.
pub fn failure(case: &TestCase, checked: &Checked) -> Diagnostic {
    let e = checked.expectation;
    let subject = if e.resource == "*" {
        format!("`{}`", e.action)
    } else {
        format!("`{}` on `{}`", e.action, e.resource)
    };
    let mut d = match &checked.outcome {
        Ok((set, request, decision)) => {
            let mut d = Diagnostic::new(
                Code::TestFailed,
                format!(
                    "test `{}`: {subject} is {}, not {}",
                    case.name,
                    decision_words(decision.kind),
                    expected_words(e.outcome)
                ),
            )
            .help(set.explain(request, decision));
            for (at, span) in set.deciding_spans(decision) {
                if let Some(span) = span {
                    let verb = match decision.kind {
                        DecisionKind::ExplicitlyDenied => "denies",
                        _ => "allows",
                    };
                    let words = set.role_words(at.role, request);
                    d = d.with_label(span, format!("this {words} {verb} it"));
                }
            }
            if let Some(miss) = set.near_miss(request, decision) {
                match (set.span_of(miss.at), miss.condition_span) {
                    (_, Some(span)) => {
                        d = d.with_label(span, "this condition did not hold");
                    }
                    (Some(span), None) => {
                        d = d.with_label(
                            span,
                            "this statement matched, but a condition did not hold",
                        );
                    }
                    (None, None) => {}
                }
            }
            d
        }
        Err(why) => Diagnostic::new(
            Code::TestFailed,
            format!("test `{}`: {subject} cannot be evaluated", case.name),
        )
        .help(why.clone()),
    };
    if let Some(span) = e.outcome_span {
        d = d.at(span, format!("expected {}", e.outcome.words()));
    }
    for attached in &e.attached {
        if let Some(span) = attached.span {
            d = d.with_label(span, "given here");
        }
    }
    d
}

fn expected_words(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allow => "allowed as the test expects",
        Outcome::Deny => "denied as the test expects",
        Outcome::ExplicitDeny => "explicitly denied as the test expects",
        Outcome::ImplicitDeny => "implicitly denied as the test expects",
    }
}

/// Every unmet expectation of a project, as diagnostics.
pub fn failures(project: &Project) -> Vec<Diagnostic> {
    run(project)
        .iter()
        .flat_map(|r| {
            r.checked
                .iter()
                .filter(|c| !c.passed())
                .map(|c| failure(r.case, c))
                .collect::<Vec<_>>()
        })
        .collect()
}
