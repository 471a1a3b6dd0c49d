//! `--split`: a customer managed policy over IAM's size quota becomes several, `NAME-1`,
//! `NAME-2`, …, attached wherever it was.
//!
//! Identity policies are evaluated together, so spreading statements over several policies
//! attached to the same principals changes no decision. Which part a statement goes to depends
//! only on the statement (its `Sid`, or its text when it has none) and on the number of parts:
//! a jump consistent hash of it. Editing, adding or removing one statement changes the part
//! that holds it (two parts when an edit changes its `Sid`), as long as the number of parts
//! stays the same; packing in order would shift every later statement into another part. The
//! number of parts is the least, from `ceil(size / (0.75 × quota))` up, at which every part
//! fits, so it only grows when a part overflows. A part left empty is not written.
//!
//! Inline policies count together against the principal's quota (role 10,240, user 2,048,
//! group 5,120 characters). When they are over it, the largest are moved, whole, into customer
//! managed parts `PRINCIPAL-POLICY-1`, … (the same hashing, under the managed quota), attached
//! to the same principal, until the rest fit. Either happens for every policy with `--split`,
//! or only for those marked `@split` (a principal marked `@split` marks its inline policies).
//! Parts count against the principal's quota of attached managed policies: a split past it is
//! an error (E1105).

use crate::check::{size_limit, Limits};
use crate::diag::{Code, Diagnostic};
use crate::iam::{self, Document, DocumentKind, ManagedPolicyInfo, Policy, Project, Statement};

/// FNV-1a, 64 bits: the same on every machine.
pub fn fnv(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Lamping and Veach's jump consistent hash: a bucket in `0..buckets`; going from `n` to `n+1`
/// buckets moves keys only into the new one.
pub fn jump(mut key: u64, buckets: usize) -> usize {
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as usize
}

/// What decides a statement's part.
pub fn statement_key(statement: &Statement) -> u64 {
    match &statement.sid {
        Some(sid) => fnv(&format!("sid:{}", sid.value)),
        None => fnv(&iam::json::statement(statement).to_string()),
    }
}

/// The statements' parts: for each part, the indices of its statements in source order.
/// `None` when one statement alone does not fit (its index).
pub fn assign(statements: &[Statement], limit: usize) -> Result<Vec<Vec<usize>>, usize> {
    assign_from(statements, limit, 2)
}

/// [`assign`], with at least `min` parts.
fn assign_from(
    statements: &[Statement],
    limit: usize,
    min: usize,
) -> Result<Vec<Vec<usize>>, usize> {
    let size = |indices: &[usize]| {
        iam::json::quota_size(&iam::json::policy(&Policy {
            statements: indices.iter().map(|&i| statements[i].clone()).collect(),
        }))
    };
    if let Some(big) = (0..statements.len()).find(|&i| size(&[i]) > limit) {
        return Err(big);
    }
    let keys: Vec<u64> = statements.iter().map(statement_key).collect();
    let total = size(&(0..statements.len()).collect::<Vec<_>>());
    let mut parts = total.div_ceil(limit * 3 / 4).max(min);
    loop {
        let mut buckets = vec![Vec::new(); parts];
        for (i, &key) in keys.iter().enumerate() {
            buckets[jump(key, parts)].push(i);
        }
        if buckets.iter().all(|b| size(b) <= limit) || parts >= statements.len() {
            return Ok(buckets);
        }
        parts += 1;
    }
}

/// Splits every customer managed policy over its quota, and moves inline policies over their
/// principal's quota into managed parts (`--split`). Boundaries are left whole: a principal has
/// one (E0305 reports them).
pub fn split(project: &mut Project, limits: &Limits) -> Vec<Diagnostic> {
    split_where(project, limits, true)
}

/// [`split`]: of every policy when `all`, otherwise of those marked `@split`.
pub fn split_where(project: &mut Project, limits: &Limits, all: bool) -> Vec<Diagnostic> {
    let before: Vec<usize> = project
        .principals
        .iter()
        .map(|p| p.attached.len())
        .collect();
    let mut out = Vec::new();
    out.extend(move_inline(project, limits, all));
    out.extend(split_managed(project, limits, all));
    out.extend(over_quota(project, limits, &before));
    out
}

fn split_managed(project: &mut Project, limits: &Limits, all: bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let limit = size_limit(DocumentKind::Managed, limits);
    let mut i = 0;
    while i < project.policies.len() {
        let info = project.policies[i].clone();
        let document = project.documents[info.document].clone();
        if info.boundary
            || !(all || document.split)
            || iam::json::quota_size(&iam::json::policy(&document.policy)) <= limit
        {
            i += 1;
            continue;
        }
        let statements = &document.policy.statements;
        let buckets = match assign(statements, limit) {
            Ok(buckets) => buckets,
            Err(big) => {
                let size = iam::json::quota_size(&iam::json::policy(&Policy {
                    statements: vec![statements[big].clone()],
                }));
                let mut d = Diagnostic::new(
                    Code::StatementTooLarge,
                    format!(
                        "a statement of policy `{}` is {size} characters alone, over the limit of {limit}: `--split` cannot split it",
                        info.name
                    ),
                )
                .help("shorten its lists: a wildcard or an access level (`s3:read`) says many at once; or write it as several statements");
                if let Some(span) = statements[big].span {
                    d = d.at(span, format!("{size} characters without white space"));
                }
                // The policy it is in: E0305 about that policy says nothing more.
                if let Some(span) = document.span {
                    d = d.with_label(span, "in this policy");
                }
                out.push(d);
                i += 1;
                continue;
            }
        };
        let mut parts: Vec<ManagedPolicyInfo> = Vec::new();
        for (n, bucket) in buckets.iter().enumerate() {
            if bucket.is_empty() {
                continue;
            }
            let name = format!("{}-{}", info.name, n + 1);
            if let Some(taken) = project
                .policies
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&name))
            {
                let mut d = Diagnostic::new(
                    Code::DuplicateName,
                    format!(
                        "`--split` names a part of policy `{}` `{name}`, and `{}` is taken",
                        info.name, taken.name
                    ),
                )
                .help(format!("rename policy `{}`", taken.name));
                if let Some(span) = taken.span {
                    d = d.at(span, "declared here");
                }
                out.push(d);
                continue;
            }
            let part = Document {
                kind: DocumentKind::Managed,
                name: name.clone(),
                owner: None,
                file: format!("policies/{name}.json"),
                policy: Policy {
                    statements: bucket.iter().map(|&s| statements[s].clone()).collect(),
                },
                span: document.span,
                split: false,
            };
            let index = if parts.is_empty() {
                project.documents[info.document] = part;
                info.document
            } else {
                project.documents.push(part);
                project.documents.len() - 1
            };
            parts.push(ManagedPolicyInfo {
                name: name.clone(),
                arn: info.arn.as_ref().map(|arn| format!("{arn}-{}", n + 1)),
                document: index,
                ..info.clone()
            });
        }
        if parts.is_empty() {
            i += 1;
            continue;
        }
        let count = parts.len();
        if let Some(old) = &info.arn {
            let new: Vec<String> = parts.iter().filter_map(|p| p.arn.clone()).collect();
            rename(project, old, &new);
            for principal in &mut project.principals {
                if let Some(at) = principal.attached.iter().position(|a| &a.value == old) {
                    let span = principal.attached[at].span;
                    let new: Vec<_> = parts
                        .iter()
                        .filter_map(|p| p.arn.clone())
                        .map(|arn| iam::Spanned::new(arn, span))
                        .collect();
                    principal.attached.splice(at..=at, new);
                }
            }
        }
        project.policies.splice(i..=i, parts);
        i += count;
    }
    out
}

/// The size of a policy as IAM counts it.
fn size(policy: &Policy) -> usize {
    iam::json::quota_size(&iam::json::policy(policy))
}

/// Moves inline policies of principals over their inline quota into managed parts.
fn move_inline(project: &mut Project, limits: &Limits, all: bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let managed_limit = size_limit(DocumentKind::Managed, limits);
    for p in 0..project.principals.len() {
        let principal = project.principals[p].clone();
        let inline: Vec<usize> = principal
            .documents
            .iter()
            .copied()
            .filter(|&d| project.documents[d].kind != DocumentKind::Trust)
            .collect();
        let Some(&first) = inline.first() else {
            continue;
        };
        let limit = size_limit(project.documents[first].kind, limits);
        let sizes: Vec<usize> = inline
            .iter()
            .map(|&d| size(&project.documents[d].policy))
            .collect();
        let mut total: usize = sizes.iter().sum();
        if total <= limit {
            continue;
        }
        // Movable policies, largest first (source order among equals).
        let mut movable: Vec<usize> = (0..inline.len())
            .filter(|&k| all || principal.split || project.documents[inline[k]].split)
            .collect();
        movable.sort_by_key(|&k| std::cmp::Reverse(sizes[k]));
        let mut moved = Vec::new();
        for k in movable {
            if total <= limit {
                break;
            }
            total -= sizes[k];
            moved.push(inline[k]);
        }
        // Source order, so parts are attached in the order the policies are written.
        moved.sort_unstable();
        let mut new_arns = Vec::new();
        for d in moved {
            let document = project.documents[d].clone();
            let base = format!("{}-{}", principal.name, document.name);
            let statements = &document.policy.statements;
            let buckets = match assign_from(statements, managed_limit, 1) {
                Ok(buckets) => buckets,
                Err(big) => {
                    out.push(too_large(
                        &document,
                        &statements[big],
                        managed_limit,
                        "it would move into a managed policy",
                    ));
                    continue;
                }
            };
            let mut indices = Vec::new();
            let mut infos = Vec::new();
            for (n, bucket) in buckets.iter().enumerate() {
                if bucket.is_empty() {
                    continue;
                }
                let name = format!("{base}-{}", n + 1);
                if let Some(d) = taken(
                    project,
                    &name,
                    &format!(
                        "inline policy `{}` of {} `{}`",
                        document.name,
                        principal.kind.as_str(),
                        principal.name
                    ),
                ) {
                    out.push(d);
                    indices.clear();
                    break;
                }
                let arn = project.account.as_ref().map(|account| {
                    format!(
                        "arn:{}:iam::{account}:policy{}{name}",
                        project.partition, principal.path
                    )
                });
                indices.push(Document {
                    kind: DocumentKind::Managed,
                    name: name.clone(),
                    owner: None,
                    file: format!("policies/{name}.json"),
                    policy: Policy {
                        statements: bucket.iter().map(|&s| statements[s].clone()).collect(),
                    },
                    span: document.span,
                    split: false,
                });
                infos.push(ManagedPolicyInfo {
                    name,
                    path: principal.path.clone(),
                    arn,
                    boundary: false,
                    guard: None,
                    description: Some(format!(
                        "Part of the inline policy {} of {} {}, split by iamx",
                        document.name,
                        principal.kind.as_str(),
                        principal.name
                    )),
                    docs: Vec::new(),
                    document: 0,
                    span: document.span,
                });
            }
            if indices.is_empty() {
                continue;
            }
            // The inline document becomes the first part; the others are added.
            for (k, (part, mut info)) in indices.into_iter().zip(infos).enumerate() {
                info.document = if k == 0 {
                    project.documents[d] = part;
                    d
                } else {
                    project.documents.push(part);
                    project.documents.len() - 1
                };
                if let Some(arn) = &info.arn {
                    project.principals[p]
                        .attached
                        .push(iam::Spanned::new(arn.clone(), document.span));
                    new_arns.push(arn.clone());
                }
                project.policies.push(info);
            }
            project.principals[p].documents.retain(|&x| x != d);
        }
        if principal.delegates && !new_arns.is_empty() {
            own_policies(project, p, &new_arns);
        }
    }
    out
}

/// A delegating principal denies itself new versions of its own managed policies: its new
/// parts are its own too.
fn own_policies(project: &mut Project, principal: usize, arns: &[String]) {
    let arns_held: Vec<String> = project.principals[principal]
        .attached
        .iter()
        .map(|a| a.value.clone())
        .collect();
    let mut documents: Vec<usize> = project.principals[principal].documents.clone();
    documents.extend(
        project
            .policies
            .iter()
            .filter(|p| p.arn.as_ref().is_some_and(|a| arns_held.contains(a)))
            .map(|p| p.document),
    );
    let mut found = false;
    for &d in &documents {
        for statement in &mut project.documents[d].policy.statements {
            if statement.sid.as_ref().map(|s| s.value.as_str()) != Some(OWN) {
                continue;
            }
            found = true;
            if let Some(resource) = &mut statement.resource {
                let span = resource.values.first().and_then(|v| v.span);
                for arn in arns {
                    if !resource.values.iter().any(|v| &v.value == arn) {
                        resource.values.push(iam::Spanned::new(arn.clone(), span));
                    }
                }
            }
        }
    }
    if found {
        return;
    }
    // It had no managed policy of its own: its delegation policy (inline, or moved into
    // parts itself) gets the statement.
    let name = &project.principals[principal].name;
    let delegation = format!("{name}Delegation");
    let moved = format!("{name}-{delegation}-");
    let at = documents.iter().copied().find(|&d| {
        let document = &project.documents[d].name;
        document == &delegation || document.starts_with(&moved)
    });
    if let Some(d) = at {
        let span = project.documents[d].span;
        project.documents[d]
            .policy
            .statements
            .push(crate::guardrail::spec::no_new_versions(arns, span));
    }
}

/// The `Sid` of `delegate`'s denial of new versions of the principal's own policies.
const OWN: &str = "NoNewVersionsOfOwnPolicies";

/// E0202 when a part's name is taken by a policy of the project.
fn taken(project: &Project, name: &str, what: &str) -> Option<Diagnostic> {
    let taken = project
        .policies
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))?;
    let mut d = Diagnostic::new(
        Code::DuplicateName,
        format!(
            "splitting {what} names a part `{name}`, and `{}` is taken",
            taken.name
        ),
    )
    .help(format!("rename policy `{}`", taken.name));
    if let Some(span) = taken.span {
        d = d.at(span, "declared here");
    }
    Some(d)
}

/// E1102: a statement alone over the limit.
fn too_large(document: &Document, statement: &Statement, limit: usize, why: &str) -> Diagnostic {
    let size = size(&Policy {
        statements: vec![statement.clone()],
    });
    let mut d = Diagnostic::new(
        Code::StatementTooLarge,
        format!(
            "a statement of policy `{}` is {size} characters alone, over the limit of {limit}: it cannot be split",
            document.name
        ),
    )
    .help(format!("{why}; shorten its lists: a wildcard or an access level (`s3:read`) says many at once; or write it as several statements"));
    if let Some(span) = statement.span {
        d = d.at(span, format!("{size} characters without white space"));
    }
    if let Some(span) = document.span {
        d = d.with_label(span, "in this policy");
    }
    d
}

/// E1105: a principal that splitting gave more managed policies than its quota.
fn over_quota(project: &Project, limits: &Limits, before: &[usize]) -> Vec<Diagnostic> {
    let quota = limits.managed_policies;
    let mut out = Vec::new();
    for (p, principal) in project.principals.iter().enumerate() {
        let count = principal.attached.len();
        if count <= quota || before.get(p).is_some_and(|&b| b >= count) {
            continue;
        }
        let mut d = Diagnostic::new(
            Code::SplitOverManagedQuota,
            format!(
                "after splitting, {} `{}` has {count} managed policies attached, over its quota of {quota}",
                principal.kind.as_str(),
                principal.name
            ),
        )
        .help(if quota < 20 {
            "shorten the policies first (`--compact`, wildcards, access levels); or, once AWS has raised the quota (up to 20), pass `--managed-policy-quota 20`"
        } else {
            "shorten the policies first (`--compact`, wildcards, access levels): no quota increase goes past 20"
        });
        if let Some(span) = principal.name_span.or(principal.span) {
            d = d.at(span, format!("{count} managed policies"));
        }
        let mut labelled = Vec::new();
        for a in &principal.attached[quota.min(count)..] {
            if let Some(span) = a.span.filter(|s| !labelled.contains(s)) {
                labelled.push(span);
                d = d.with_label(span, "parts of this policy are over the quota");
            }
        }
        out.push(d);
    }
    out
}

/// Where a statement names a split policy by its ARN (a resource, a condition value: the
/// identity side of `delegate` denies new versions of a principal's own policies), it names
/// every part instead. A list means any of its values, for `ArnNotEquals` too ("none of"), so
/// this says of the parts what was said of the whole.
fn rename(project: &mut Project, old: &str, new: &[String]) {
    for document in &mut project.documents {
        for statement in &mut document.policy.statements {
            for block in [&mut statement.action, &mut statement.resource]
                .into_iter()
                .flatten()
            {
                while let Some(at) = block.values.iter().position(|v| v.value == old) {
                    let span = block.values[at].span;
                    let parts = new.iter().map(|arn| iam::Spanned::new(arn.clone(), span));
                    block.values.splice(at..=at, parts);
                }
            }
            for condition in &mut statement.conditions {
                while let Some(at) = condition.values.iter().position(|v| v == old) {
                    condition.values.splice(at..=at, new.iter().cloned());
                }
            }
        }
    }
}
