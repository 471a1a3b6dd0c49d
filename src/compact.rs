//! `--compact`: smaller policies that allow and deny exactly what they did.
//!
//! Two rewrites, on every identity policy and boundary (trust and resource policies are left
//! as written):
//!
//! 1. **Merge** statements that differ only in their actions: the same effect, resources and
//!    conditions, `Action` (never `NotAction`, where a longer list says less). A statement
//!    with a `Sid` is never merged into another (its `Sid` names it), but statements without
//!    one merge into the first of their shape, which keeps its place and its `Sid`.
//! 2. **Collapse** each `Action` list, service by service, into the shortest list of names
//!    and wildcards that matches exactly the same actions of the embedded service reference:
//!    `s3:GetObject, s3:GetObjectAcl, …` becomes `s3:GetObject*` only when every action
//!    `s3:GetObject*` matches was in the list. A wildcard is written only where it covers two
//!    actions or more, and the collapsed list replaces the old one only when it is shorter.
//!    Patterns of services the reference does not know, wildcards over services (`*:Get*`)
//!    and names it does not know are kept as they are.
//!
//! So no request for an action the reference knows is decided differently; the tests check
//! it action by action on the examples and on AWS managed policies. An action AWS adds later
//! may match a wildcard `--compact` wrote where the list named actions one by one: that is
//! the price of a wildcard, and why `--compact` is an option.

use std::collections::HashMap;

use crate::awsdb;
use crate::iam::{self, Block, DocumentKind, Policy, Project, Spanned, Statement};

/// Compacts every identity policy and boundary of the project.
pub fn compact(project: &mut Project) {
    for document in &mut project.documents {
        if matches!(document.kind, DocumentKind::Trust | DocumentKind::Resource) {
            continue;
        }
        document.policy = compact_policy(&document.policy);
    }
}

/// One policy, compacted.
pub fn compact_policy(policy: &Policy) -> Policy {
    let mut statements = merge(&policy.statements);
    for statement in &mut statements {
        if let Some(block) = statement.action.as_mut().filter(|b| !b.not) {
            collapse(block);
        }
    }
    Policy { statements }
}

/// What a statement says besides its actions, as text: statements that merge have the same.
fn shape(statement: &Statement) -> String {
    let mut bare = statement.clone();
    bare.sid = None;
    bare.action = None;
    iam::json::statement(&bare).to_string()
}

fn merge(statements: &[Statement]) -> Vec<Statement> {
    let mut out: Vec<Statement> = Vec::new();
    let mut first: HashMap<String, usize> = HashMap::new();
    for statement in statements {
        let mergeable =
            statement.principal.is_none() && statement.action.as_ref().is_some_and(|b| !b.not);
        if !mergeable {
            out.push(statement.clone());
            continue;
        }
        let key = shape(statement);
        if statement.sid.is_none() {
            if let Some(&at) = first.get(&key) {
                let (Some(into), Some(from)) = (out[at].action.as_mut(), &statement.action) else {
                    continue;
                };
                for value in &from.values {
                    if !into
                        .values
                        .iter()
                        .any(|v| v.value.eq_ignore_ascii_case(&value.value))
                    {
                        into.values.push(value.clone());
                    }
                }
                continue;
            }
        }
        first.entry(key).or_insert(out.len());
        out.push(statement.clone());
    }
    out
}

/// The JSON length of a list of actions, to compare lists.
fn length(values: &[Spanned<String>]) -> usize {
    values.iter().map(|v| v.value.len() + 3).sum()
}

/// Rewrites an `Action` list into the shortest exact one (see the module's documentation).
fn collapse(block: &mut Block) {
    if let Some(star) = block.values.iter().find(|v| v.value == "*") {
        block.values = vec![star.clone()];
        return;
    }
    // Values by service, in the order services first appear; the rest kept as written.
    let mut kept: Vec<Spanned<String>> = Vec::new();
    let mut services: Vec<(
        &'static awsdb::Service,
        Vec<bool>,
        Option<crate::source::Span>,
    )> = Vec::new();
    for value in &block.values {
        let Some((prefix, name)) = value.value.split_once(':') else {
            kept.push(value.clone());
            continue;
        };
        let service = (!prefix.contains(['*', '?']))
            .then(|| awsdb::service(prefix))
            .flatten();
        let Some(service) = service else {
            kept.push(value.clone());
            continue;
        };
        let matched = service.actions_matching(name);
        if matched.is_empty() {
            kept.push(value.clone());
            continue;
        }
        let at = match services
            .iter()
            .position(|(s, ..)| std::ptr::eq(*s, service))
        {
            Some(at) => at,
            None => {
                services.push((service, vec![false; service.actions.len()], value.span));
                services.len() - 1
            }
        };
        for action in matched {
            if let Some(i) = service.actions.iter().position(|a| std::ptr::eq(a, action)) {
                services[at].1[i] = true;
            }
        }
    }
    let mut out = kept;
    for (service, chosen, span) in services {
        for pattern in cover(service, &chosen) {
            out.push(Spanned::new(format!("{}:{pattern}", service.prefix), span));
        }
    }
    if length(&out) < length(&block.values) {
        block.values = out;
    }
}

/// The fewest names and wildcards (as written after the prefix) that match exactly the
/// chosen actions of a service, among prefixes of their names.
pub fn cover(service: &awsdb::Service, chosen: &[bool]) -> Vec<String> {
    // Actions in case-insensitive name order: those a prefix matches are a run of them.
    let mut order: Vec<usize> = (0..service.actions.len()).collect();
    order.sort_by_key(|&i| service.actions[i].name.to_ascii_lowercase());
    let lower: Vec<String> = order
        .iter()
        .map(|&i| service.actions[i].name.to_ascii_lowercase())
        .collect();
    // chosen_before[k]: how many of the first k actions (in that order) are chosen.
    let mut chosen_before = vec![0usize; order.len() + 1];
    for (k, &i) in order.iter().enumerate() {
        chosen_before[k + 1] = chosen_before[k] + usize::from(chosen[i]);
    }
    if chosen_before[order.len()] == order.len() {
        return vec!["*".into()];
    }
    let run = |prefix: &str| {
        let from = lower.partition_point(|n| n.as_str() < prefix);
        let to = from + lower[from..].partition_point(|n| n.starts_with(prefix));
        (from, to)
    };
    // For each chosen action, its shortest prefix whose every match is chosen.
    let mut patterns: Vec<(String, bool)> = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if !chosen[i] {
            continue;
        }
        let name = service.actions[i].name;
        let mut pick = (name.to_string(), false);
        for end in 1..=name.len() {
            if !name.is_char_boundary(end) {
                continue;
            }
            let (from, to) = run(&lower[k][..end]);
            let all_chosen = chosen_before[to] - chosen_before[from] == to - from;
            if all_chosen && to - from >= 2 {
                pick = (name[..end].to_string(), true);
                break;
            }
            if all_chosen && to - from == 1 {
                break; // only this action: its name says it best
            }
        }
        patterns.push(pick);
    }
    // Drop what a shorter wildcard already covers.
    let wildcards: Vec<String> = patterns
        .iter()
        .filter(|(_, wild)| *wild)
        .map(|(p, _)| p.to_ascii_lowercase())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (pattern, wild) in patterns {
        let lowered = pattern.to_ascii_lowercase();
        let covered = wildcards
            .iter()
            .any(|w| lowered.starts_with(w.as_str()) && (!wild || w.len() < lowered.len()));
        if covered {
            continue;
        }
        let text = if wild { format!("{pattern}*") } else { pattern };
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}
