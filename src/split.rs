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

use crate::check::{size_limit, Limits};
use crate::diag::{Code, Diagnostic};
use crate::iam::{self, Document, DocumentKind, ManagedPolicyInfo, Policy, Project, Statement};

/// FNV-1a, 64 bits: the same on every machine.
fn fnv(text: &str) -> u64 {
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
    let mut parts = total.div_ceil(limit * 3 / 4).max(2);
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

/// Splits every customer managed policy over its quota. Boundaries are left whole: a principal
/// has one (E0305 reports them).
pub fn split(project: &mut Project, limits: &Limits) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let limit = size_limit(DocumentKind::Managed, limits);
    let mut i = 0;
    while i < project.policies.len() {
        let info = project.policies[i].clone();
        let document = project.documents[info.document].clone();
        if info.boundary || iam::json::quota_size(&iam::json::policy(&document.policy)) <= limit {
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
