//! The documentation as Markdown: `index.md`, one page per principal, one per customer
//! managed policy and boundary. Every sentence is written from the model's data here; keys,
//! values, ARNs and names go in code spans.

use std::fmt::Write as _;

use super::reach::{Cut, ResourceSet};
use super::{
    account_of, condition_words, graph, ConditionDoc, Docs, GrantGroup, OpeningDoc, PolicyDoc,
    PolicyLabel, PolicyRef, PrincipalDoc, ServiceDoc, StatementDoc, TrustDoc, WhoDoc,
};
use crate::awsdb::AccessLevel;
use crate::emit::Artifact;

/// The documentation as Markdown: `index.md` and one page per principal and policy.
pub fn markdown(docs: &Docs) -> Vec<Artifact> {
    let index = graph::Index::new(docs);
    let mut out = vec![Artifact {
        path: "index.md".into(),
        contents: index_page(docs, &index),
    }];
    for p in &docs.principals {
        out.push(Artifact {
            path: p.page.clone(),
            contents: principal_page(&index, p),
        });
    }
    for m in &docs.policies {
        out.push(Artifact {
            path: m.page.clone(),
            contents: policy_page(&index, m),
        });
    }
    out
}

fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn codes(values: &[String], last: &str) -> String {
    let quoted: Vec<String> = values.iter().map(|v| code(v)).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} {last} {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn capital(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

fn source_words(source: Option<&str>) -> String {
    source.map_or_else(String::new, |s| format!(" ({s})"))
}

/// A condition in words, with its IAM form.
fn condition(c: &ConditionDoc) -> String {
    let words = condition_words(&c.operator, &c.key, &c.values, &|s| code(s));
    if words.contains(&code(&c.key)) {
        format!("{words} ({})", code(&c.operator))
    } else {
        // The words do not name the key: the IAM form does.
        let values = match &c.values[..] {
            [one] => format!("{one:?}"),
            many => format!("{many:?}"),
        };
        format!(
            "{words} ({})",
            code(&format!("\"{}\": {{\"{}\": {values}}}", c.operator, c.key))
        )
    }
}

fn conditions(cs: &[ConditionDoc]) -> String {
    cs.iter().map(condition).collect::<Vec<_>>().join(" and ")
}

fn label_words(l: &PolicyLabel) -> String {
    let mut out = match l.kind {
        "inline" => format!("inline policy {}", code(&l.name)),
        "aws managed" => format!("AWS managed policy {}", code(&l.name)),
        "boundary" => format!("boundary {}", code(&l.name)),
        _ => format!("policy {}", code(&l.name)),
    };
    if let Some(g) = &l.group {
        let _ = write!(out, " of group {}", code(g));
    }
    out
}

fn statement_words(s: &StatementDoc) -> String {
    let mut out = label_words(&s.policy);
    if let Some(sid) = &s.sid {
        let _ = write!(out, ", statement {}", code(sid));
    }
    if s.policy.kind != "aws managed" {
        out.push_str(&source_words(s.source.as_deref()));
    }
    out
}

/// A statement's doc comments, as a line under it.
fn statement_docs(out: &mut String, s: &StatementDoc, indent: &str) {
    if !s.docs.is_empty() {
        let _ = writeln!(out, "{indent}- \"{}\"", s.docs.join(" "));
    }
}

/// The actions of a statement, in words.
fn actions_words(s: &StatementDoc) -> String {
    match (s.not_action, s.actions.is_empty()) {
        (false, true) => "no action".to_string(),
        (false, false) => codes(&s.actions, "and"),
        (true, true) => "every action".to_string(),
        (true, false) => format!("every action but {}", codes(&s.actions, "and")),
    }
}

fn resources_words(s: &StatementDoc) -> String {
    if s.not_resource {
        if s.resources.is_empty() {
            "every resource".into()
        } else {
            format!("every resource but {}", codes(&s.resources, "and"))
        }
    } else {
        codes(&s.resources, "and")
    }
}

/// A set of resources in words.
fn set_words(s: &ResourceSet) -> String {
    let mut parts = Vec::new();
    if !s.resources.is_empty() {
        let mut words = if s.resources.iter().any(|r| r == "*") {
            "`*`".to_string()
        } else {
            codes(&s.resources, "and")
        };
        if !s.except.is_empty() {
            let _ = write!(words, " except {}", codes(&s.except, "and"));
        }
        parts.push(words);
    }
    for [x, y] in &s.both {
        parts.push(format!(
            "what both {} and {} match (no one pattern writes it)",
            code(x),
            code(y)
        ));
    }
    parts.join("; and ")
}

fn cut_words(c: &Cut) -> String {
    let mut out = if c.whole && c.unless_conditions {
        return "the boundary lets it through only when the conditions below hold".to_string();
    } else if c.whole {
        "the boundary lets none of it through".to_string()
    } else {
        let mut words = format!("the boundary cuts it on {}", {
            if c.resources.iter().any(|r| r == "*") {
                "`*`".to_string()
            } else {
                codes(&c.resources, "and")
            }
        });
        if !c.except.is_empty() {
            let _ = write!(words, " except {}", codes(&c.except, "and"));
        }
        for w in &c.within {
            let _ = write!(words, ", within {}", codes(w, "or"));
        }
        words
    };
    if c.unless_conditions {
        out.push_str(", but for what its statements with conditions let through when those hold");
    }
    out
}

fn level_table(out: &mut String, services: &[ServiceDoc], link: bool) {
    out.push_str("| Service |");
    for l in AccessLevel::ALL {
        let _ = write!(out, " {} |", l.aws_name());
    }
    out.push_str("\n|---|");
    for _ in AccessLevel::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for s in services {
        if link {
            let _ = write!(out, "| [`{}`](#{}) |", s.prefix, s.prefix);
        } else {
            let _ = write!(out, "| `{}` |", s.prefix);
        }
        for c in &s.levels {
            let mut text = if c.total == 0 {
                "".to_string()
            } else if c.granted == 0 {
                "none".to_string()
            } else if c.granted == c.total {
                format!("all {}", c.total)
            } else {
                format!("some {}/{}", c.granted, c.total)
            };
            if c.granted > 0 && c.any_resource {
                text.push_str(" ✱");
            }
            if c.granted > 0 && c.level == AccessLevel::PermissionsManagement.aws_name() {
                text = format!("**{text}** ⚠");
            }
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    out.push_str(
        "\nCounts are actions out of the service's actions at that level. \
         ✱: some are on every resource (`*`). ⚠: permissions management.\n",
    );
}

/// Above this many actions, a page names the patterns that grant them rather than each one.
const MAX_LISTED: usize = 24;

fn group_head(out: &mut String, prefix: &str, g: &GrantGroup) {
    if g.all {
        let _ = writeln!(out, "- all {} actions (`{prefix}:*`)", g.actions.len());
    } else if g.actions.len() > MAX_LISTED {
        let patterns: Vec<String> = g.granted_by.iter().map(actions_words).collect();
        let _ = writeln!(
            out,
            "- {} actions: those of {}",
            g.actions.len(),
            patterns.join("; ")
        );
    } else {
        let _ = writeln!(out, "- {}", codes(&g.actions, "and"));
    }
}

fn grant_lines(out: &mut String, st: &StatementDoc, verb: &str) {
    let _ = writeln!(
        out,
        "  - {verb} {}: on {}",
        statement_words(st),
        resources_words(st)
    );
    statement_docs(out, st, "    ");
    for c in &st.conditions {
        let _ = writeln!(out, "    - when {}", condition(c));
    }
}

/// Above this many services, those an AWS managed policy grants plainly (no boundary
/// narrowing, nothing cut, no permissions management) share one entry per policy.
const MAX_SERVICES: usize = 24;

/// The statements a plain service's actions come from, without their action patterns; `None`
/// when the service is not plain.
fn plain_source(s: &ServiceDoc) -> Option<Vec<StatementDoc>> {
    let [g] = &s.grants[..] else {
        return None;
    };
    let manages = s
        .levels
        .iter()
        .any(|l| l.granted > 0 && l.level == AccessLevel::PermissionsManagement.aws_name());
    let plain = !manages
        && g.cut.is_empty()
        && !g.reach.iter().any(|r| r.narrowed)
        && g.granted_by
            .iter()
            .all(|st| st.policy.kind == "aws managed");
    plain.then(|| {
        g.granted_by
            .iter()
            .chain(&g.let_through_by)
            .map(|st| StatementDoc {
                actions: Vec::new(),
                ..st.clone()
            })
            .collect()
    })
}

/// What the principal may do, per service.
fn permission_list(out: &mut String, services: &[ServiceDoc]) {
    let mut shared: Vec<(Vec<StatementDoc>, Vec<&str>)> = Vec::new();
    if services.len() > MAX_SERVICES {
        for s in services {
            if let Some(key) = plain_source(s) {
                match shared.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, prefixes)) => prefixes.push(&s.prefix),
                    None => shared.push((key, vec![&s.prefix])),
                }
            }
        }
        shared.retain(|(_, prefixes)| prefixes.len() > 1);
    }
    for s in services {
        if shared
            .iter()
            .any(|(_, prefixes)| prefixes.contains(&s.prefix.as_str()))
        {
            continue;
        }
        let _ = writeln!(out, "\n#### {}\n\n{}\n", s.prefix, s.name);
        for g in &s.grants {
            group_head(out, &s.prefix, g);
            for st in &g.granted_by {
                grant_lines(out, st, "granted by");
            }
            for st in &g.let_through_by {
                grant_lines(out, st, "let through by");
            }
            if g.reach.iter().any(|r| r.narrowed) {
                for r in &g.reach {
                    let mut line = format!("  - so it may act on {}", set_words(&r.resources));
                    if !r.conditions.is_empty() {
                        let _ = write!(line, ", when {}", conditions(&r.conditions));
                    }
                    let _ = writeln!(out, "{line}");
                }
            }
            if !g.cut.is_empty() {
                out.push_str("  - the boundary cuts part of it: see [Cut by the boundary](#cut-by-the-boundary)\n");
            }
        }
    }
    for (statements, prefixes) in &shared {
        let _ = writeln!(
            out,
            "\n#### {} more services\n\nThe table above counts their actions. Each is granted by one AWS managed policy, the same for all, with nothing cut and no permissions management:\n",
            prefixes.len()
        );
        for st in statements {
            let verb = if st.policy.kind == "boundary" {
                "let through by"
            } else {
                "granted by"
            };
            let _ = writeln!(
                out,
                "- {verb} {}: on {}",
                statement_words(st),
                resources_words(st)
            );
        }
        let names: Vec<String> = prefixes.iter().map(|p| code(p)).collect();
        let _ = writeln!(out, "\n{}.", names.join(", "));
    }
}

/// What the boundary cuts, per service.
fn cut_list(out: &mut String, services: &[ServiceDoc]) {
    for s in services {
        let _ = writeln!(out, "\n#### {}\n\n{}\n", s.prefix, s.name);
        for g in &s.grants {
            group_head(out, &s.prefix, g);
            for c in &g.cut {
                let st = &g.granted_by[c.grant];
                grant_lines(out, st, "granted by");
                let _ = writeln!(out, "  - {}", cut_words(&c.cut));
            }
            for st in &g.let_through_by {
                grant_lines(out, st, "allowed only by");
            }
        }
    }
}

fn policy_ref_words(r: &PolicyRef) -> String {
    format!("{}{}", code(&r.name), source_words(r.source.as_deref()))
}

fn who_words(index: &graph::Index<'_>, w: &WhoDoc) -> String {
    if let Some(p) = w.principal.as_deref().and_then(|k| index.principal(k)) {
        return format!("[{} {}](../{})", p.kind, code(&p.name), p.page);
    }
    match w.kind.as_str() {
        "*" => "anyone".into(),
        "Service" => format!("the service {}", code(&w.value)),
        "Federated" => format!("users signed in through {}", code(&w.value)),
        "AWS" if w.value == "*" => "any AWS principal".into(),
        "AWS" => match account_of(&w.value) {
            Some(a) => format!(
                "the principals of account {} that its own policies allow",
                code(a)
            ),
            None => code(&w.value),
        },
        k => format!("{k} {}", code(&w.value)),
    }
}

fn trust_words(index: &graph::Index<'_>, t: &TrustDoc) -> String {
    let who: Vec<String> = t.who.iter().map(|w| who_words(index, w)).collect();
    let who = match who.len() {
        0 => "no one".to_string(),
        1 => who[0].clone(),
        n => format!("{} and {}", who[..n - 1].join(", "), who[n - 1]),
    };
    let may = if t.effect == "Allow" {
        "may"
    } else {
        "may not"
    };
    let what = match t.actions.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["sts:AssumeRole"] => "assume it".to_string(),
        ["sts:AssumeRoleWithWebIdentity"] => "assume it with a web identity token".to_string(),
        ["sts:AssumeRoleWithSAML"] => "assume it with a SAML assertion".to_string(),
        _ => codes(&t.actions, "and"),
    };
    let mut line = format!("{} {may} {what}", capital(&who));
    if !t.conditions.is_empty() {
        let _ = write!(line, ", when {}", conditions(&t.conditions));
    }
    line
}

fn opening_words(o: &OpeningDoc) -> String {
    let by = match o.by.strip_prefix("boundary ") {
        Some(b) => format!("Whoever carries boundary {}", code(b)),
        None if o.by == "it" => "It".to_string(),
        None => capital(&o.by),
    };
    let mut line = format!("- {by} {}.", o.what);
    if let (Some(a), Some(r)) = (&o.action, &o.resource) {
        let _ = write!(line, " The request: {} on {}", code(a), code(r));
        let context: Vec<String> = o
            .context
            .iter()
            .map(|c| match c.strip_prefix("no ") {
                Some(k) => format!("no {}", code(k)),
                None => match c.split_once(" = ") {
                    Some((k, v)) => format!("{} set to {}", code(k), code(v)),
                    None => code(c),
                },
            })
            .collect();
        if !context.is_empty() {
            let _ = write!(line, ", with {}", context.join(" and "));
        }
        match &o.source {
            Some(s) => {
                let _ = write!(line, "; the statement at {s} allows it");
            }
            None => line.push_str("; its policies allow it"),
        }
        let _ = write!(line, " (warning {}).", o.code);
    }
    if let Some(f) = &o.fix {
        let _ = write!(line, " To close it: {f}.");
    }
    line
}

/// `8069` as `8,069`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a principal may do, may never do, and why, in a few sentences.
fn summary(p: &PrincipalDoc) -> String {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{} {many}", thousands(n))
        }
    };
    let mut out = Vec::new();
    let actions: usize = p
        .permissions
        .iter()
        .flat_map(|s| &s.levels)
        .map(|l| l.granted)
        .sum();
    if actions == 0 {
        out.push("It may do nothing.".to_string());
    } else {
        let services: Vec<String> = p.permissions.iter().map(|s| s.prefix.clone()).collect();
        let manage: usize = p
            .permissions
            .iter()
            .flat_map(|s| &s.levels)
            .filter(|l| l.level == AccessLevel::PermissionsManagement.aws_name())
            .map(|l| l.granted)
            .sum();
        let mut line = format!(
            "It may use {} of {}",
            plural(actions, "action", "actions"),
            plural(services.len(), "service", "services"),
        );
        if services.len() <= 8 {
            let _ = write!(line, " ({})", codes(&services, "and"));
        }
        if manage > 0 {
            let _ = write!(line, ", {manage} of them to manage permissions");
        }
        line.push('.');
        out.push(line);
    }
    match &p.boundary {
        None => out.push("It has no permissions boundary.".to_string()),
        Some(b) => {
            let (mut whole, mut part) = (0, 0);
            for g in p.cut_by_boundary.iter().flat_map(|s| &s.grants) {
                if g.reach.is_empty() {
                    whole += g.actions.len();
                } else {
                    part += g.actions.len();
                }
            }
            out.push(match (whole, part) {
                (0, 0) => format!(
                    "Its boundary {} lets through all its identity policies grant.",
                    code(&b.name)
                ),
                _ => {
                    let mut cut = Vec::new();
                    if whole > 0 {
                        cut.push(format!("{} it is granted", plural(whole, "action", "actions")));
                    }
                    if part > 0 {
                        cut.push(format!("part of {}", plural(part, "other", "others")));
                    }
                    format!(
                        "Its boundary {} takes away {}: see [Cut by the boundary](#cut-by-the-boundary).",
                        code(&b.name),
                        cut.join(", and ")
                    )
                }
            });
        }
    }
    if !p.denies.is_empty() {
        out.push(format!(
            "{} it actions: see [Explicit denies](#explicit-denies).",
            capital(&plural(
                p.denies.len(),
                "statement denies",
                "statements deny"
            ))
        ));
    }
    match p.guardrail.as_deref() {
        Some("closed") => out.push(
            "The guardrail is closed: nothing it may do takes it outside its boundary.".into(),
        ),
        Some("open") => out.push(format!(
            "The guardrail is open: {} out of its boundary (see [The guardrail](#the-guardrail)).",
            plural(p.openings.len(), "request gets", "requests get")
        )),
        Some("unbounded, can escalate") => out.push(format!(
            "It can give itself more permissions: {} (see [The guardrail](#the-guardrail)).",
            plural(p.openings.len(), "request does it", "requests do it")
        )),
        _ => {}
    }
    out.join(" ") + "\n"
}

/// The principal's page.
fn principal_page(index: &graph::Index<'_>, p: &PrincipalDoc) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} {}\n", capital(p.kind), code(&p.name));
    for line in &p.docs {
        let _ = writeln!(out, "{line}");
    }
    if !p.docs.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "[Back to the index](../index.md)\n");
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(out, "| Kind | {} |", p.kind);
    if let Some(arn) = &p.arn {
        let _ = writeln!(out, "| ARN | {} |", code(arn));
    }
    let _ = writeln!(out, "| Path | {} |", code(&p.path));
    if let Some(source) = &p.source {
        let _ = writeln!(out, "| Source | {source} |");
    }
    if let Some(d) = &p.description {
        let _ = writeln!(out, "| Description | {} |", cell(d));
    }
    if let Some(seconds) = p.max_session {
        let _ = writeln!(out, "| Sessions last at most | {} |", duration(seconds));
    }
    if let Some(profile) = &p.instance_profile {
        let _ = writeln!(out, "| Instance profile | {} |", code(profile));
    }
    if !p.tags.is_empty() {
        let tags: Vec<String> = p
            .tags
            .iter()
            .map(|(k, v)| code(&format!("{k}={v}")))
            .collect();
        let _ = writeln!(out, "| Tags | {} |", cell(&tags.join(", ")));
    }
    if !p.groups.is_empty() {
        let groups: Vec<String> = p
            .groups
            .iter()
            .map(|g| format!("[{}](../groups/{g}.md)", code(g)))
            .collect();
        let _ = writeln!(out, "| Groups | {} |", groups.join(", "));
    }
    if !p.members.is_empty() {
        let members: Vec<String> = p
            .members
            .iter()
            .map(|u| format!("[{}](../users/{u}.md)", code(u)))
            .collect();
        let _ = writeln!(out, "| Members | {} |", members.join(", "));
    }
    let boundary = p.boundary.as_ref().map_or("none".to_string(), |b| {
        format!(
            "[{}](../policies/{}.md){}",
            code(&b.name),
            b.name,
            source_words(b.source.as_deref())
        )
        .replace(
            &format!(
                "[{}](../policies/{}.md) (aws managed)",
                code(&b.name),
                b.name
            ),
            &format!("{} (aws managed)", code(&b.name)),
        )
    });
    let _ = writeln!(out, "| Boundary | {} |", cell(&boundary));
    let list = |refs: &[PolicyRef]| -> String {
        if refs.is_empty() {
            "none".into()
        } else {
            cell(
                &refs
                    .iter()
                    .map(policy_ref_words)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        }
    };
    let _ = writeln!(out, "| Attached policies | {} |", list(&p.attached));
    let _ = writeln!(out, "| Inline policies | {} |", list(&p.inline));
    if let Some(g) = &p.guardrail {
        let _ = writeln!(out, "| Guardrail | {g} |");
    }
    if p.kind != "group" {
        out.push_str("\n## In short\n\n");
        out.push_str(&summary(p));
    }
    let picture = graph::build(index, Some(p));
    if picture.edges_len() > 0 {
        out.push_str("\n## Diagram\n\n");
        out.push_str(match (p.kind, p.boundary.is_some()) {
            ("group", _) => "Its members",
            ("user", true) => "Its groups and its boundary",
            ("user", false) => "Its groups",
            (_, true) => "Its boundary, and who may assume or pass it",
            (_, false) => "Who may assume or pass it",
        });
        if picture.collapsed {
            out.push_str("; the other principals are collapsed by kind and path, each edge counting the links it stands for");
        }
        out.push_str(".\n\n");
        out.push_str(&picture.mermaid());
    }
    out.push_str("\n## Effective permissions\n\n");
    if p.kind == "group" {
        out.push_str("What the group's policies give each of its members (before their own policies and boundaries).\n\n");
    } else if p.boundary.is_some() {
        out.push_str("What its identity policies grant and its boundary lets through: for each action, the resources both name and the conditions of both.\n\n");
    } else {
        out.push_str("What its identity policies grant: it has no boundary.\n\n");
    }
    for u in &p.unknown_policies {
        let _ = writeln!(
            out,
            "iamx has no document for {}: what it grants is not shown.\n",
            code(u)
        );
    }
    if p.permissions.is_empty() {
        out.push_str("Nothing.\n");
    } else {
        level_table(&mut out, &p.permissions, true);
        permission_list(&mut out, &p.permissions);
    }
    if p.boundary.is_some() {
        out.push_str("\n## Cut by the boundary\n\n");
        if p.cut_by_boundary.is_empty() {
            out.push_str(
                "Nothing: the boundary lets through every action the identity policies grant, on every resource they name.\n",
            );
        } else {
            out.push_str("Granted by its identity policies, but cut by the boundary, in whole or in part.\n\n");
            level_table(&mut out, &p.cut_by_boundary, false);
            cut_list(&mut out, &p.cut_by_boundary);
        }
    }
    out.push_str("\n## Explicit denies\n\n");
    if p.denies.is_empty() {
        out.push_str("None.\n");
    }
    for d in &p.denies {
        let _ = writeln!(
            out,
            "- {} on {}, by {}",
            actions_words(d),
            resources_words(d),
            statement_words(d)
        );
        statement_docs(&mut out, d, "  ");
        for c in &d.conditions {
            let _ = writeln!(out, "  - when {}", condition(c));
        }
    }
    if p.kind == "role" {
        out.push_str("\n## Who can assume it\n\n");
        if p.trusted.is_empty() {
            out.push_str("No one.\n");
        }
        for t in &p.trusted {
            let _ = writeln!(out, "- {}", trust_words(index, t));
        }
        out.push_str("\n## Who can pass it\n\n");
        if p.passed_by.is_empty() {
            out.push_str("No principal of the project may pass it to a service that trusts it.\n");
        }
        for q in &p.passed_by {
            let _ = writeln!(
                out,
                "- [{} {}](../{}) may pass it to {}",
                q.kind,
                code(&q.name),
                q.page,
                codes(&q.services, "and")
            );
        }
    }
    if let Some(g) = &p.guardrail {
        out.push_str("\n## The guardrail\n\n");
        let boundary = p
            .boundary
            .as_ref()
            .map_or(String::new(), |b| format!(" {}", code(&b.name)));
        let words = match g.as_str() {
            "closed" => format!(
                "Closed: the analysis proved that nothing it may do takes it, or a principal it creates, outside its boundary{boundary}. See [the guardrail](../index.md#guardrail)."
            ),
            "open" => format!(
                "Open: these requests get out of its boundary{boundary}. `iamx check` reports each as a warning."
            ),
            "unbounded, cannot escalate" => "It has no boundary, and the analysis found no way for it to give itself more permissions.".to_string(),
            _ => "It has no boundary, and these requests give it more permissions. `iamx check` reports each as a warning.".to_string(),
        };
        let _ = writeln!(out, "{words}");
        if !p.openings.is_empty() {
            out.push('\n');
        }
        for o in &p.openings {
            let _ = writeln!(out, "{}", opening_words(o));
        }
    }
    out.push_str("\n## Tests\n\n");
    if p.tests.is_empty() {
        out.push_str("No test names it.\n");
    } else {
        out.push_str("| Test | Expects | Action | Resource | Result |\n|---|---|---|---|---|\n");
        for t in &p.tests {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&t.test),
                t.expect,
                code(&t.action),
                cell(&code(&t.resource)),
                if t.passed { "passes" } else { "fails" }
            );
        }
    }
    out
}

fn index_page(docs: &Docs, index: &graph::Index<'_>) -> String {
    let mut out = String::from("# IAM documentation\n\n");
    match &docs.account {
        Some(a) => {
            let _ = writeln!(
                out,
                "Account {}, partition {}.\n",
                code(a),
                code(&docs.partition)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "No account declared; partition {}.\n",
                code(&docs.partition)
            );
        }
    }
    if !docs.principals.is_empty() {
        out.push_str("## Diagram\n\n");
        let picture = graph::build(index, None);
        if picture.collapsed {
            let _ = writeln!(
                out,
                "Who is in which group, who carries which boundary, and who may assume or pass which role. The {} principals are collapsed by kind and path, each edge counting the links it stands for; each principal's page draws its own.\n",
                docs.principals.len()
            );
        } else {
            out.push_str("Who is in which group, who carries which boundary, and who may assume or pass which role.\n\n");
        }
        out.push_str(&picture.mermaid());
        out.push('\n');
    }
    out.push_str("## Principals\n\n");
    if docs.principals.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| Principal | Kind | Path | Boundary | Guardrail | Services |\n|---|---|---|---|---|---|\n");
        for p in &docs.principals {
            let services: Vec<String> = p.permissions.iter().map(|s| code(&s.prefix)).collect();
            let services = if services.len() > 8 {
                vec![format!("{} services", services.len())]
            } else {
                services
            };
            let _ = writeln!(
                out,
                "| [{}]({}) | {} | {} | {} | {} | {} |",
                code(&p.name),
                p.page,
                p.kind,
                code(&p.path),
                p.boundary.as_ref().map_or("none".into(), |b| code(&b.name)),
                p.guardrail.as_deref().unwrap_or(""),
                services.join(", ")
            );
        }
    }
    out.push_str("\n## Policies and boundaries\n\n");
    if docs.policies.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| Policy | Kind | Source | Used by | Guardrail |\n|---|---|---|---|---|\n");
        for m in &docs.policies {
            let used: Vec<String> = m.used_by.iter().map(|u| code(u)).collect();
            let _ = writeln!(
                out,
                "| [{}]({}) | {} | {} | {} | {} |",
                code(&m.name),
                m.page,
                if m.boundary { "boundary" } else { "policy" },
                m.source.as_deref().unwrap_or(""),
                if used.is_empty() {
                    "no one".to_string()
                } else {
                    used.join(", ")
                },
                m.guardrail.as_deref().unwrap_or("")
            );
        }
        for m in docs.policies.iter().filter(|m| !m.docs.is_empty()) {
            let _ = writeln!(out, "\n### {}\n\n{}", code(&m.name), m.docs.join("\n"));
        }
    }
    out.push_str("\n## Guardrail\n\n");
    let _ = writeln!(
        out,
        "{}",
        docs.guardrail
            .as_deref()
            .map_or("The guardrail was not analysed.".to_string(), |g| {
                format!("{}.", capital(g))
            })
    );
    out.push_str("\n## Tests\n\n");
    if docs.tests.is_empty() {
        out.push_str("None.\n");
    } else {
        let passed = docs.tests.iter().filter(|t| t.passed).count();
        let _ = writeln!(out, "{passed} of {} pass.\n", docs.tests.len());
        out.push_str("| Test | Expectations | Source | Result |\n|---|---|---|---|\n");
        for t in &docs.tests {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&t.name),
                t.expectations,
                t.source.as_deref().unwrap_or(""),
                if t.passed { "passes" } else { "fails" }
            );
        }
    }
    out
}

/// The page of a customer managed policy or boundary.
fn policy_page(index: &graph::Index<'_>, m: &PolicyDoc) -> String {
    let kind = if m.boundary { "Boundary" } else { "Policy" };
    let mut out = format!("# {kind} {}\n\n", code(&m.name));
    for line in &m.docs {
        let _ = writeln!(out, "{line}");
    }
    if !m.docs.is_empty() {
        out.push('\n');
    }
    out.push_str("[Back to the index](../index.md)\n\n| | |\n|---|---|\n");
    if let Some(arn) = &m.arn {
        let _ = writeln!(out, "| ARN | {} |", code(arn));
    }
    if let Some(source) = &m.source {
        let _ = writeln!(out, "| Source | {source} |");
    }
    let used: Vec<String> = m
        .used_by
        .iter()
        .map(|u| match index.principal(u) {
            Some(p) => format!("[{} {}](../{})", p.kind, code(&p.name), p.page),
            None => code(u),
        })
        .collect();
    let _ = writeln!(
        out,
        "| {} | {} |",
        if m.boundary {
            "Carried by"
        } else {
            "Attached to"
        },
        if used.is_empty() {
            "no one".to_string()
        } else {
            used.join(", ")
        }
    );
    if let Some(g) = &m.guardrail {
        let _ = writeln!(out, "| Guardrail | {g} |");
    }
    out.push_str("\n## Statements\n\n");
    if m.statements.is_empty() {
        out.push_str("None.\n");
    }
    for s in &m.statements {
        let verb = if s.effect == "Allow" {
            "Allows"
        } else {
            "Denies"
        };
        let mut head = format!("- {verb} {} on {}", actions_words(s), resources_words(s));
        if let Some(sid) = &s.sid {
            let _ = write!(head, ", statement {}", code(sid));
        }
        head.push_str(&source_words(s.source.as_deref()));
        let _ = writeln!(out, "{head}");
        for d in &s.docs {
            let _ = writeln!(out, "  - {d}");
        }
        for c in &s.conditions {
            let _ = writeln!(out, "  - when {}", condition(c));
        }
    }
    if let Some(g) = &m.guardrail {
        out.push_str("\n## The guardrail\n\n");
        if g == "closed" {
            out.push_str("Closed: whatever identity policies its holders get, the analysis proved that they cannot get out of it, nor create principals that do. See [the guardrail](../index.md#guardrail).\n");
        } else {
            out.push_str("Open: with every identity policy it lets through, its holders can make these requests and get out of it. `iamx check` reports each as a warning.\n\n");
            for o in &m.openings {
                let _ = writeln!(out, "{}", opening_words(o));
            }
        }
    }
    out
}

/// Seconds in words: `12 hours`, `90 minutes`, `3,700 seconds`.
fn duration(seconds: u32) -> String {
    let (n, unit) = if seconds % 3600 == 0 {
        (seconds / 3600, "hour")
    } else if seconds % 60 == 0 {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
