//! Checks against the embedded AWS service reference: actions that do not exist, resources an
//! action cannot take, condition keys nothing sets, operators and values that do not fit.

use crate::awsdb::{self, KeyType};
use crate::diag::{self, Code, Diagnostic};
use crate::iam::operators::is_operator;
use crate::iam::{self, DocumentKind, Statement};
use crate::source::Span;

/// An action of the reference, with its service.
type Known = (&'static awsdb::Service, &'static awsdb::Action);

fn at(d: Diagnostic, span: Option<Span>, label: impl Into<String>) -> Diagnostic {
    match span {
        Some(s) => d.at(s, label),
        None => d,
    }
}

/// The actions a statement's action list names, as far as the reference knows them. `None` when
/// the list holds `*` or something unknown, so applicability checks stay quiet.
struct Actions {
    /// One entry per written action: what it matches.
    written: Vec<(iam::Spanned<String>, Vec<Known>)>,
    complete: bool,
}

pub fn statement(kind: DocumentKind, statement: &Statement, out: &mut Vec<Diagnostic>) {
    let actions = statement
        .action
        .as_ref()
        .map(|block| actions(block, out))
        .unwrap_or(Actions {
            written: Vec::new(),
            complete: false,
        });
    let positive = statement.action.as_ref().is_some_and(|b| !b.not);
    if kind != DocumentKind::Trust {
        if let Some(resource) = &statement.resource {
            required_arn_parts(resource, out);
        }
    }
    if positive && actions.complete && kind != DocumentKind::Trust {
        if let Some(resource) = &statement.resource {
            if !resource.not {
                resources(&actions, resource, out);
            }
        }
    }
    for condition in &statement.conditions {
        condition_rules(condition, &actions, positive, out);
    }
    policy_variables(statement, out);
}

/// Policy variables (`${aws:username}`) in resources and condition values name keys AWS sets:
/// a misspelled one is never set, so the statement silently matches nothing (or, with a
/// default, always the default).
fn policy_variables(statement: &Statement, out: &mut Vec<Diagnostic>) {
    let resources = statement.resource.iter().flat_map(|b| {
        b.values
            .iter()
            .map(|v| (v.value.as_str(), v.span.or(b.span)))
    });
    let values = statement
        .conditions
        .iter()
        .flat_map(|c| c.values.iter().map(move |v| (v.as_str(), c.span)));
    let mut seen: Vec<String> = Vec::new();
    for (text, span) in resources.chain(values) {
        for key in iam::variable_keys(text) {
            let lower = key.to_ascii_lowercase();
            if seen.contains(&lower) || !lower.starts_with("aws:") {
                continue;
            }
            seen.push(lower);
            let mut found = Vec::new();
            if let KeyLookup::Unknown = known_key(key, span, &mut found) {
                for d in found {
                    let mut d = d;
                    d.message = format!("unknown policy variable `${{{key}}}`");
                    out.push(d);
                }
            }
        }
    }
}

/// The diagnostics for actions of a list that AWS does not know (unknown service or action,
/// patterns that match nothing), for lists that are not statements (a test's requests).
pub fn unknown_actions(block: &iam::Block) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    actions(block, &mut out);
    out
}

fn actions(block: &iam::Block, out: &mut Vec<Diagnostic>) -> Actions {
    let mut written = Vec::new();
    let mut complete = true;
    let mut unknown_prefixes: Vec<String> = Vec::new();
    for action in &block.values {
        let text = action.value.as_str();
        if text == "*" || super::action_problem(text).is_some() {
            // `*`, or malformed (reported as such): nothing to look up.
            complete = false;
            continue;
        }
        let Some((prefix, name)) = text.split_once(':') else {
            complete = false;
            continue;
        };
        if prefix.contains(['*', '?']) {
            let matched = awsdb::actions_matching(text);
            if matched.is_empty() {
                out.push(at(
                    Diagnostic::new(
                        Code::PatternMatchesNothing,
                        format!("`{text}` matches no action"),
                    )
                    .help("check the pattern with `iamx actions`"),
                    action.span,
                    "no action of any service matches",
                ));
                complete = false;
            } else {
                written.push((action.clone(), matched));
            }
            continue;
        }
        let Some(service) = awsdb::service(prefix) else {
            complete = false;
            if unknown_prefixes
                .iter()
                .any(|p| p.eq_ignore_ascii_case(prefix))
            {
                continue; // reported once per statement
            }
            unknown_prefixes.push(prefix.to_string());
            let meant = service_by_name(prefix)
                .or_else(|| diag::suggest(prefix, awsdb::service_prefixes()));
            let help = diag::did_you_mean(meant).unwrap_or_else(|| {
                "service prefixes are listed in the AWS Service Authorization Reference".into()
            });
            out.push(at(
                Diagnostic::new(
                    Code::UnknownService,
                    format!("unknown service prefix `{prefix}`"),
                )
                .help(help),
                action.span,
                "no AWS service has this prefix",
            ));
            complete = false;
            continue;
        };
        let level = awsdb::AccessLevel::ALL
            .into_iter()
            .any(|l| l.selector_name() == name);
        if level {
            // An access-level selector, expanded when written in iamx; in JSON it is a typo.
        }
        if name.contains(['*', '?']) {
            let matched: Vec<Known> = service
                .actions_matching(name)
                .into_iter()
                .map(|a| (service, a))
                .collect();
            if matched.is_empty() {
                out.push(at(
                    Diagnostic::new(
                        Code::PatternMatchesNothing,
                        format!("`{text}` matches no action"),
                    )
                    .help(format!(
                        "list the service's actions: `iamx actions {prefix}:*`"
                    )),
                    action.span,
                    format!("no {prefix} action matches"),
                ));
                complete = false;
            } else {
                written.push((action.clone(), matched));
            }
            continue;
        }
        match service.action(name) {
            Some(a) => written.push((action.clone(), vec![(service, a)])),
            None => {
                let suggestion = diag::suggest(name, service.actions.iter().map(|a| a.name));
                let selector = awsdb::AccessLevel::ALL
                    .into_iter()
                    .find(|l| l.selector_name().eq_ignore_ascii_case(name));
                let help = match (suggestion, selector) {
                    (_, Some(l)) => format!(
                        "the access-level selector is written in lower case: `{}:{}`",
                        service.prefix,
                        l.selector_name()
                    ),
                    (Some(s), None) => format!("did you mean `{}:{s}`?", service.prefix),
                    (None, None) if level => String::new(),
                    (None, None) => {
                        format!("list the service's actions: `iamx actions {prefix}:*`")
                    }
                };
                let mut d = at(
                    Diagnostic::new(Code::UnknownAction, format!("unknown action `{text}`")),
                    action.span,
                    format!("{} has no action `{name}`", service.prefix),
                );
                if !help.is_empty() {
                    d = d.help(help);
                }
                out.push(d);
                complete = false;
            }
        }
    }
    Actions { written, complete }
}

/// The prefix of the service whose name, without spaces and vendor words, is `text`:
/// `cloudwatchlogs` is "Amazon CloudWatch Logs", prefix `logs`. Decodes every service, so it is
/// only for error messages.
pub fn service_by_name(text: &str) -> Option<&'static str> {
    let squash = |s: &str| -> String {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| {
                !w.is_empty() && !["amazon", "aws"].contains(&w.to_ascii_lowercase().as_str())
            })
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let wanted = squash(text);
    if wanted.is_empty() {
        return None;
    }
    awsdb::service_prefixes()
        .filter_map(awsdb::service)
        .find(|s| squash(s.name) == wanted)
        .map(|s| s.prefix)
}

/// E0413: an ARN whose region or account is empty, where every resource type of its service
/// that it could name has one (`arn:aws:dynamodb:::table/orders`). AWS matches no resource with
/// it: an `allow` grants nothing and, worse, a `deny` denies nothing. Only said when the
/// reference knows the service and some of its types fit the ARN otherwise.
fn required_arn_parts(block: &iam::Block, out: &mut Vec<Diagnostic>) {
    for resource in &block.values {
        let Ok(arn) = crate::iam::arn::parse(&resource.value) else {
            continue;
        };
        let kind = arn.resource.split(['/', ':']).next().unwrap_or("");
        // AWS's own shared resources (SSM documents, public parameters) have no account.
        let shared = awsdb::shared_with_empty_account(arn.service, kind);
        let (no_region, no_account) = (arn.region.is_empty(), arn.account.is_empty() && !shared);
        if !no_region && !no_account {
            continue;
        }
        let Some(service) = awsdb::service(arn.service) else {
            continue;
        };
        let resource_globs = glob_symbols(&resource.value, true);
        let part_empty = |t: &awsdb::ResourceType, index: usize| {
            t.arn.split(':').nth(index).is_some_and(str::is_empty)
        };
        let of_service = |t: &&awsdb::ResourceType| {
            t.arn
                .split(':')
                .nth(2)
                .is_some_and(|s| s.eq_ignore_ascii_case(arn.service))
        };
        let fits =
            |t: &awsdb::ResourceType| globs_intersect(&resource_globs, &glob_symbols(t.arn, false));
        // The common case first, and cheaply: a type whose format leaves the same parts empty
        // fits (an S3 bucket or object): nothing to say.
        if service
            .resource_types
            .iter()
            .filter(of_service)
            .filter(|t| (!no_region || part_empty(t, 3)) && (!no_account || part_empty(t, 4)))
            .any(fits)
        {
            continue;
        }
        // The service's types this ARN could name, empty parts allowed.
        let fitting: Vec<&awsdb::ResourceType> = service
            .resource_types
            .iter()
            .filter(of_service)
            .filter(|t| fits(t))
            .collect();
        if fitting.is_empty() {
            continue;
        }
        let needs = |index: usize| fitting.iter().all(|t| !part_empty(t, index));
        let missing = match (no_region && needs(3), no_account && needs(4)) {
            (true, true) => "no region and no account",
            (true, false) => "no region",
            (false, true) => "no account",
            (false, false) => continue,
        };
        let mut names: Vec<String> = fitting.iter().map(|t| format!("`{}`", t.name)).collect();
        let what = match names.len() {
            1 => format!("a {} {} ARN", arn.service, names[0]),
            n => {
                if n > 3 {
                    names.truncate(2);
                    names.push(format!("and {} more", n - 2));
                }
                format!(
                    "every {} resource type it could name ({})",
                    arn.service,
                    names.join(", ")
                )
            }
        };
        // The shortest formats show the point best.
        let mut shortest: Vec<&str> = fitting.iter().map(|t| t.arn).collect();
        shortest.sort_by_key(|f| f.len());
        let formats: Vec<String> = shortest.iter().take(2).map(|f| format!("`{f}`")).collect();
        out.push(at(
            Diagnostic::new(
                Code::MissingArnPart,
                format!(
                    "`{}` has {missing}, but {what} needs {}",
                    resource.value,
                    if missing.contains("and") { "both" } else { "one" }
                ),
            )
            .help({
                let region = if no_region { "*" } else { arn.region };
                let account = if no_account { "*" } else { arn.account };
                let prefix = resource.value.split(':').next().unwrap_or("arn");
                format!(
                    "AWS matches no resource with an empty part here: write it, or `*` for any, like `{prefix}:{}:{}:{region}:{account}:{}`; the format is {}",
                    arn.partition,
                    arn.service,
                    arn.resource,
                    formats.join(" or ")
                )
            }),
            resource.span,
            format!("{missing} here"),
        ));
    }
}

/// Whether a resource written in a policy can name a resource of a type whose ARN pattern is
/// `pattern` (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`): some ARN must match both.
/// Wildcards (`*`, `?`) and policy variables (`${aws:username}`) in the resource, and the
/// `${Placeholders}` of the pattern, match any text.
pub fn arn_fits(resource: &str, pattern: &str) -> bool {
    let a = glob_symbols(resource, true);
    let b = glob_symbols(pattern, false);
    globs_intersect(&a, &b)
}

/// A symbol of a glob: a loop (`*`, or a placeholder) or one character.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sym {
    /// Any run of characters.
    Star,
    /// Any run without `/` or `:`: a placeholder that names an id, a bucket or an ARN part.
    Segment,
    /// Any one character (`?`).
    One,
    Char(u8),
}

impl Sym {
    fn is_loop(self) -> bool {
        matches!(self, Sym::Star | Sym::Segment)
    }
}

/// Whether some character fits both symbols.
fn overlap(a: Sym, b: Sym) -> bool {
    let separator = |c: u8| c == b'/' || c == b':';
    match (a, b) {
        (Sym::Char(x), Sym::Char(y)) => x == y,
        (Sym::Char(c), Sym::Segment) | (Sym::Segment, Sym::Char(c)) => !separator(c),
        _ => true,
    }
}

/// Placeholders that never hold `/` or `:`: the partition, region and account parts of an ARN,
/// and S3 bucket names. Others may (secret names, log groups and config rules hold `/`).
fn segment_placeholder(name: &str) -> bool {
    matches!(
        name,
        "Partition" | "Region" | "Account" | "AccountId" | "BucketName"
    )
}

fn glob_symbols(text: &str, wildcards: bool) -> Vec<Sym> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            if let Some(end) = text[i..].find('}') {
                let name = &text[i + 2..i + end];
                out.push(if !wildcards && segment_placeholder(name) {
                    Sym::Segment
                } else {
                    Sym::Star
                });
                i += end + 1;
                continue;
            }
        }
        match bytes[i] {
            b'*' if wildcards => out.push(Sym::Star),
            b'?' if wildcards => out.push(Sym::One),
            c => out.push(Sym::Char(c.to_ascii_lowercase())),
        }
        i += 1;
    }
    out
}

/// Whether two globs match a common string: reachability in the product of their automata.
fn globs_intersect(a: &[Sym], b: &[Sym]) -> bool {
    let w = b.len() + 1;
    let mut reach = vec![false; (a.len() + 1) * w];
    reach[0] = true;
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            if !reach[i * w + j] {
                continue;
            }
            let (sa, sb) = (a.get(i).copied(), b.get(j).copied());
            // A loop may end without consuming anything.
            if sa.is_some_and(Sym::is_loop) {
                reach[(i + 1) * w + j] = true;
            }
            if sb.is_some_and(Sym::is_loop) {
                reach[i * w + j + 1] = true;
            }
            // Both consume one common character; a loop stays where it is.
            if let (Some(x), Some(y)) = (sa, sb) {
                if overlap(x, y) {
                    let ni = if x.is_loop() { i } else { i + 1 };
                    let nj = if y.is_loop() { j } else { j + 1 };
                    reach[ni * w + nj] = true;
                }
            }
        }
    }
    reach[a.len() * w + b.len()]
}

fn resources(actions: &Actions, block: &iam::Block, out: &mut Vec<Diagnostic>) {
    if block.values.iter().any(|r| r.value == "*") {
        return;
    }
    // Malformed resources are reported as such (E0304); with none left, there is nothing to fit.
    let resource_globs: Vec<Vec<Sym>> = block
        .values
        .iter()
        .filter(|r| crate::iam::arn::parse(&r.value).is_ok())
        .map(|r| glob_symbols(&r.value, true))
        .collect();
    if resource_globs.is_empty() {
        return;
    }
    // Whether some resource of the statement fits a resource type, by the type's ARN pattern;
    // many actions share types (`s3:*`), so each type is matched once.
    let mut by_type: std::collections::HashMap<&'static str, bool> = Default::default();
    let mut fits = |service: &'static awsdb::Service, action: &'static awsdb::Action| -> bool {
        action
            .resource_types
            .iter()
            .filter_map(|t| service.resource_type(t.name))
            .any(|t| {
                *by_type.entry(t.arn).or_insert_with(|| {
                    let pattern = glob_symbols(t.arn, false);
                    resource_globs.iter().any(|r| globs_intersect(r, &pattern))
                })
            })
    };
    // Every action must be able to take at least one of the resources.
    let unusable: Vec<&(iam::Spanned<String>, Vec<Known>)> = actions
        .written
        .iter()
        .filter(|(_, known)| !known.iter().any(|(s, a)| fits(s, a)))
        .collect();
    // Actions that share one span came from one selector or `let`: one warning for them all.
    let shared = |span: Option<Span>| {
        span.is_some() && unusable.iter().filter(|(w, _)| w.span == span).count() > 1
    };
    let mut grouped: Vec<Option<Span>> = Vec::new();
    for (written, _) in unusable.iter().filter(|(w, _)| shared(w.span)) {
        if grouped.contains(&written.span) {
            continue;
        }
        grouped.push(written.span);
        let names: Vec<String> = unusable
            .iter()
            .filter(|(w, _)| w.span == written.span)
            .map(|(w, _)| format!("`{}`", w.value))
            .collect();
        let shown = if names.len() > 4 {
            format!("{}, and {} more", names[..4].join(", "), names.len() - 4)
        } else {
            names.join(", ")
        };
        out.push(at(
            Diagnostic::new(
                Code::ResourceMismatch,
                format!(
                    "no resource of the statement fits {} of the actions written here",
                    names.len()
                ),
            )
            .help(format!(
                "the statement grants none of {shown}; `iamx actions` shows the resource types each action takes"
            )),
            written.span,
            format!("{} of these actions take none of its resources", names.len()),
        ));
    }
    for (written, known) in unusable.iter().copied().filter(|(w, _)| !shared(w.span)) {
        let (service, first) = known[0];
        let wanted: Vec<String> = first
            .resource_types
            .iter()
            .filter_map(|t| service.resource_type(t.name))
            .map(|t| format!("`{}` ({})", t.arn, t.name))
            .collect();
        let (label, help) = if known.len() > 1 {
            (
                "no action this matches takes any resource of the statement".to_string(),
                "the statement grants none of these actions; check the resources against `iamx actions`".to_string(),
            )
        } else if wanted.is_empty() {
            (
                format!("`{}` takes no resource: it needs `*`", written.value),
                "this action does not support resource-level permissions: grant it in a statement whose resource is `*`".to_string(),
            )
        } else {
            (
                format!("`{}` takes no resource listed here", written.value),
                format!("it takes {}", wanted.join(" or ")),
            )
        };
        out.push(at(
            Diagnostic::new(
                Code::ResourceMismatch,
                format!("no resource of the statement fits `{}`", written.value),
            )
            .help(help),
            written.span,
            label,
        ));
    }
}

/// The family of values an operator compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpFamily {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// Splits `ForAnyValue:StringLikeIfExists` into its set prefix, family and base name.
fn operator_parts(operator: &str) -> Option<(Option<&str>, OpFamily, &str)> {
    let (set, rest) = match operator.split_once(':') {
        Some((set, rest)) => (Some(set), rest),
        None => (None, operator),
    };
    let base = rest.strip_suffix("IfExists").unwrap_or(rest);
    let family = if base.starts_with("String") {
        OpFamily::String
    } else if base.starts_with("Numeric") {
        OpFamily::Numeric
    } else if base.starts_with("Date") {
        OpFamily::Date
    } else if base == "Bool" {
        OpFamily::Bool
    } else if base == "BinaryEquals" {
        OpFamily::Binary
    } else if base.ends_with("IpAddress") {
        OpFamily::Ip
    } else if base.starts_with("Arn") {
        OpFamily::Arn
    } else if base == "Null" {
        OpFamily::Null
    } else {
        return None;
    };
    Some((set, family, base))
}

fn condition_rules(
    condition: &iam::Condition,
    actions: &Actions,
    positive: bool,
    out: &mut Vec<Diagnostic>,
) {
    let key = condition.key.as_str();
    if !is_operator(&condition.operator) {
        let help = crate::iam::operators::operator_help(&condition.operator);
        out.push(at(
            Diagnostic::new(
                Code::UnknownOperator,
                format!("unknown condition operator `{}`", condition.operator),
            )
            .help(help),
            condition.span,
            "not an IAM condition operator",
        ));
        return;
    }
    let Some((set, family, base)) = operator_parts(&condition.operator) else {
        return;
    };
    values(condition, family, base, out);
    let key_type = match known_key(key, condition.key_span.or(condition.span), out) {
        KeyLookup::Known(t) => t,
        KeyLookup::Foreign | KeyLookup::Unknown => return,
    };
    applicability(condition, actions, positive, out);
    if family != OpFamily::Null {
        let element = key_type.element_type();
        if family == OpFamily::String
            && matches!(element, KeyType::Bool | KeyType::Numeric | KeyType::Date)
        {
            // IAM compares the text, which works for exact values but not as the type means.
            out.push(at(
                Diagnostic::new(
                    Code::StringOperatorOnTypedKey,
                    format!(
                        "`{}` compares `{key}`, a {} key, as text",
                        condition.operator,
                        key_type.aws_name()
                    ),
                )
                .help(format!(
                    "use an operator for {} values{}",
                    element.aws_name(),
                    operator_hint(element)
                )),
                condition.span,
                format!("`{key}` is {}", key_type.aws_name()),
            ));
        }
        let fits = match family {
            // Strings and ARNs compare alike: AWS's own policies use `ArnLike` on string keys
            // that hold ARNs, and `StringLike` on ARN keys.
            OpFamily::String => !matches!(element, KeyType::IpAddress | KeyType::Binary),
            OpFamily::Arn => matches!(element, KeyType::Arn | KeyType::String),
            // aws:EpochTime is documented as Date and Numeric.
            OpFamily::Numeric => {
                element == KeyType::Numeric
                    || (element == KeyType::Date && key.eq_ignore_ascii_case("aws:EpochTime"))
            }
            OpFamily::Date => element == KeyType::Date,
            OpFamily::Bool => element == KeyType::Bool,
            OpFamily::Binary => element == KeyType::Binary,
            OpFamily::Ip => element == KeyType::IpAddress,
            OpFamily::Null => true,
        };
        if !fits {
            out.push(at(
                Diagnostic::new(
                    Code::OperatorKeyType,
                    format!(
                        "`{}` does not fit `{key}`, a key of type {}",
                        condition.operator,
                        key_type.aws_name()
                    ),
                )
                .help(format!(
                    "use an operator for {} values{}",
                    key_type.element_type().aws_name(),
                    operator_hint(element)
                )),
                condition.span,
                format!("`{key}` is {}", key_type.aws_name()),
            ));
        }
        match (set, key_type.is_multi_valued() && fits) {
            (None, true) => out.push(at(
                Diagnostic::new(
                    Code::MultiValuedKeyWithoutSet,
                    format!("`{key}` holds several values, but `{}` compares one", condition.operator),
                )
                .help("say whether any or all of its values must match: `any key == …` (ForAnyValue) or `all key == …` (ForAllValues)"),
                condition.span,
                "multi-valued key",
            )),
            (Some(set), false) => {
                let why = if set == "ForAllValues" {
                    "`ForAllValues` is also true when the key is missing or empty, so the condition holds in every request without the key; drop `ForAllValues:` (in iamx, `all`)"
                } else {
                    "a single-valued key needs no set operator: drop `ForAnyValue:` (in iamx, `any`)"
                };
                out.push(at(
                    Diagnostic::new(
                        Code::SetOperatorOnSingleValuedKey,
                        format!("`{set}` on `{key}`, which holds a single value"),
                    )
                    .help(why),
                    condition.span,
                    "single-valued key",
                ));
            }
            _ => {}
        }
    }
}

fn operator_hint(element: KeyType) -> &'static str {
    match element {
        KeyType::String => ": `==`, `like` (StringEquals, StringLike)",
        KeyType::Arn => ": `==`, `like` (ArnEquals, ArnLike)",
        KeyType::Numeric => ": `==`, `<`, `>=` (Numeric…)",
        KeyType::Date => ": `<`, `>=` with a date (Date…)",
        KeyType::Bool => ": the bare key, or `not key` (Bool)",
        KeyType::IpAddress => ": `in [\"10.0.0.0/8\"]` (IpAddress)",
        _ => "",
    }
}

enum KeyLookup {
    Known(KeyType),
    /// A key of an identity provider the reference does not list (`oidc.example.com:sub`).
    Foreign,
    Unknown,
}

fn known_key(key: &str, span: Option<Span>, out: &mut Vec<Diagnostic>) -> KeyLookup {
    if let Some(t) = awsdb::condition_key_type(key) {
        return KeyLookup::Known(t);
    }
    let prefix = key.split(':').next().unwrap_or("");
    if !key.contains(':') || (prefix.contains('.') && awsdb::service(prefix).is_none()) {
        return KeyLookup::Foreign;
    }
    let candidates: Vec<&str> = if prefix.eq_ignore_ascii_case("aws") {
        awsdb::global_condition_keys().map(|(k, _)| k).collect()
    } else {
        awsdb::condition_key_names()
            .filter(|k| {
                k.split(':')
                    .next()
                    .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            })
            .collect()
    };
    let help =
        diag::did_you_mean(diag::suggest(key, candidates.iter().copied())).unwrap_or_else(|| {
            if prefix.eq_ignore_ascii_case("aws") {
                "no global condition key has this name; the IAM User Guide lists them (`aws:SourceIp`, `aws:PrincipalTag/…`, …)".to_string()
            } else if awsdb::service(prefix).is_none() {
                format!("`{prefix}` is not an AWS service prefix")
            } else {
                format!("{prefix} defines no key of this name; `iamx actions {prefix}:* --format json` lists the keys of each action")
            }
        });
    out.push(at(
        Diagnostic::new(
            Code::UnknownConditionKey,
            format!("unknown condition key `{key}`"),
        )
        .help(help),
        span,
        "AWS sets no key of this name",
    ));
    KeyLookup::Unknown
}

/// Whether the service documents `key` on some of its actions: then an action that does not
/// list it does not get it. (A key the service lists but no action does is taken to apply to
/// all of them.)
fn listed_on_some_action(service: &awsdb::Service, key: &str) -> bool {
    service.actions.iter().any(|a| a.has_condition_key(key))
}

/// A known key that none of the statement's actions (or their services) is documented to set.
fn applicability(
    condition: &iam::Condition,
    actions: &Actions,
    positive: bool,
    out: &mut Vec<Diagnostic>,
) {
    let key = condition.key.as_str();
    if !positive || !actions.complete || actions.written.is_empty() {
        return;
    }
    if awsdb::global_condition_key(key).is_some() || key.to_ascii_lowercase().starts_with("aws:") {
        return;
    }
    let applies = actions
        .written
        .iter()
        .flat_map(|(_, k)| k.iter())
        .any(|(service, action)| {
            action.has_condition_key(key)
                || (service.condition_key(key).is_some() && !listed_on_some_action(service, key))
        });
    if applies {
        return;
    }
    let names: Vec<String> = actions
        .written
        .iter()
        .take(3)
        .map(|(w, _)| format!("`{}`", w.value))
        .collect();
    out.push(at(
        Diagnostic::new(
            Code::KeyNotApplicable,
            format!("`{key}` does not apply to {}", names.join(", ")),
        )
        .help("AWS does not set this key for these actions, so the condition never holds (an `IfExists` one always does); move it to a statement whose actions take it"),
        condition.key_span.or(condition.span),
        "no action here has this key",
    ));
}

fn values(condition: &iam::Condition, family: OpFamily, base: &str, out: &mut Vec<Diagnostic>) {
    for value in &condition.values {
        if value.contains("${") {
            continue; // a policy variable: its value is known only at request time
        }
        let problem = match family {
            OpFamily::Numeric => value.parse::<f64>().is_err().then_some("not a number"),
            OpFamily::Date => (!is_date(value))
                .then_some("not a date (ISO 8601, like `2026-01-01T00:00:00Z`, or epoch seconds)"),
            OpFamily::Bool | OpFamily::Null => (!value.eq_ignore_ascii_case("true")
                && !value.eq_ignore_ascii_case("false"))
            .then_some("not `true` or `false`"),
            OpFamily::Ip => (!is_cidr(value)).then_some("not an IP address or CIDR range"),
            OpFamily::Binary => (!is_base64(value)).then_some("not base64"),
            OpFamily::Arn if base == "ArnEquals" || base == "ArnNotEquals" => {
                (value != "*" && crate::iam::arn::parse(value).is_err()).then_some("not an ARN")
            }
            _ => None,
        };
        if let Some(problem) = problem {
            out.push(at(
                Diagnostic::new(
                    Code::InvalidConditionValue,
                    format!("`{value}` does not fit `{}`", condition.operator),
                )
                .help(format!(
                    "`{}` compares {}",
                    condition.operator,
                    family_words(family)
                )),
                condition.span,
                problem,
            ));
        }
    }
}

fn family_words(family: OpFamily) -> &'static str {
    match family {
        OpFamily::String => "strings",
        OpFamily::Numeric => "numbers",
        OpFamily::Date => "dates",
        OpFamily::Bool => "`true` and `false`",
        OpFamily::Binary => "base64-encoded bytes",
        OpFamily::Ip => "IP addresses and CIDR ranges",
        OpFamily::Arn => "ARNs",
        OpFamily::Null => "`true` (missing) and `false` (present)",
    }
}

/// ISO 8601 dates as IAM reads them (`2026-01-01`, `2026-01-01T12:00:00Z`, with fractions or
/// offsets), or epoch seconds.
pub fn is_date(value: &str) -> bool {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let b = value.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 10
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
    {
        return false;
    }
    let month: u32 = value[5..7].parse().unwrap_or(0);
    let day: u32 = value[8..10].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let rest = &value[10..];
    if rest.is_empty() {
        return true;
    }
    let Some(time) = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t')) else {
        return false;
    };
    let t = time.as_bytes();
    let tdigits =
        |r: std::ops::Range<usize>| t.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if !tdigits(0..2) || t.get(2) != Some(&b':') || !tdigits(3..5) {
        return false;
    }
    let mut i = 5;
    if t.get(i) == Some(&b':') {
        if !tdigits(i + 1..i + 3) {
            return false;
        }
        i += 3;
        if t.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while t.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return false;
            }
        }
    }
    let zone = &time[i..];
    zone.is_empty()
        || zone.eq_ignore_ascii_case("z")
        || (zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone.as_bytes()[3] == b':'
            && zone[1..3]
                .bytes()
                .chain(zone[4..].bytes())
                .all(|c| c.is_ascii_digit()))
}

/// An IPv4 or IPv6 address, with an optional prefix length.
pub fn is_cidr(value: &str) -> bool {
    let (addr, bits) = match value.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (value, None),
    };
    let bits_ok = |max: u32| bits.is_none_or(|b| b.parse::<u32>().is_ok_and(|n| n <= max));
    if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        return bits_ok(32);
    }
    addr.parse::<std::net::Ipv6Addr>().is_ok() && bits_ok(128)
}

fn is_base64(value: &str) -> bool {
    let trimmed = value.trim_end_matches('=');
    value.len() % 4 == 0
        && value.len() - trimmed.len() <= 2
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_fits_by_pattern() {
        let object = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        let bucket = "arn:${Partition}:s3:::${BucketName}";
        assert!(arn_fits("arn:aws:s3:::data/*", object));
        assert!(arn_fits("arn:aws:s3:::data/${aws:username}/x", object));
        assert!(!arn_fits("arn:aws:s3:::data", object));
        assert!(arn_fits("arn:aws:s3:::data", bucket));
        // A wildcard bucket name could be a bucket or, with a `/` in the match, an object.
        assert!(arn_fits("arn:aws:s3:::data*", object));
        assert!(arn_fits("arn:aws:s3:::data*", bucket));
        // A bucket name holds no `/`: `data/*` names objects only.
        assert!(!arn_fits("arn:aws:s3:::data/*", bucket));
        // Secret names and log group names do hold `/`.
        assert!(arn_fits(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/ci/*",
            "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}"
        ));
        assert!(arn_fits(
            "arn:aws:logs:*:*:log-group:/aws/lambda/*",
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}"
        ));
        assert!(!arn_fits(
            "arn:aws:dynamodb:us-east-1:123456789012:table/t",
            bucket
        ));
        assert!(arn_fits(
            "arn:aws:iam::*:role/x",
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"
        ));
        assert!(arn_fits("arn:aws:s3:::b?cket", bucket));
    }

    #[test]
    fn dates_and_networks() {
        assert!(is_date("2026-01-01"));
        assert!(is_date("2026-01-01T00:00:00Z"));
        assert!(is_date("2026-01-01T00:00:00.123+02:00"));
        assert!(is_date("1700000000"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("yesterday"));
        assert!(is_cidr("10.0.0.0/8"));
        assert!(is_cidr("2001:db8::/32"));
        assert!(is_cidr("192.0.2.1"));
        assert!(!is_cidr("10.0.0.0/33"));
        assert!(!is_cidr("10.0.0"));
        assert!(is_base64("QUJD"));
        assert!(!is_base64("not base64!"));
    }
}
