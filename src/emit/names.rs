//! Identifiers for the deployment back ends, made from IAM names: alphanumeric, deterministic
//! and collision-free.

use crate::iam::{PrincipalInfo, PrincipalKind, Project};

/// `name` with every character but ASCII letters and digits written as `Z` and two hex digits,
/// and `Z` itself as `ZZ`. Decoding is unambiguous (`Z` is not a hex digit), so two names never
/// give one identifier: `team=data` is `teamZ3Ddata`, `team.data` is `teamZ2Edata`.
pub fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        match b {
            b'Z' => out.push_str("ZZ"),
            b if b.is_ascii_alphanumeric() => out.push(b as char),
            b => out.push_str(&format!("Z{b:02X}")),
        }
    }
    out
}

/// The description a resource gets: its `description`, or the first line of its `///` doc.
pub fn description(description: &Option<String>, docs: &[String]) -> Option<String> {
    description.clone().or_else(|| {
        docs.iter()
            .flat_map(|d| d.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string)
    })
}

/// What an ARN a principal names is, within the project.
pub enum PolicyRef<'a> {
    /// A managed policy or boundary the project declares (index into `Project::policies`).
    Own(usize, &'a str),
    /// An AWS managed policy: its name with its path (`service-role/AWSLambdaBasicExecutionRole`).
    Aws(&'a str),
    /// Any other ARN.
    Other(&'a str),
}

pub fn policy_ref<'a>(project: &'a Project, arn: &'a str) -> PolicyRef<'a> {
    if let Some(i) = project
        .policies
        .iter()
        .position(|p| p.arn.as_deref() == Some(arn))
    {
        return PolicyRef::Own(i, &project.policies[i].name);
    }
    let aws = format!("arn:{}:iam::aws:policy/", project.partition);
    match arn.strip_prefix(&aws) {
        Some(name) => PolicyRef::Aws(name),
        None => PolicyRef::Other(arn),
    }
}

/// The project's group of this name, if any.
pub fn group<'a>(project: &'a Project, name: &str) -> Option<&'a PrincipalInfo> {
    project
        .principals
        .iter()
        .find(|p| p.kind == PrincipalKind::Group && p.name == name)
}

/// Which principals each principal's trust policy names (indices into `Project::principals`,
/// in the order named): those must exist first, as IAM refuses a trust policy naming a
/// principal that does not. An edge that would close a cycle (roles that trust each other) is
/// left out, and returned as `(truster, trusted)`: no order of creation works for it.
pub fn trust_dependencies(project: &Project) -> (Vec<Vec<usize>>, Vec<(usize, usize)>) {
    let n = project.principals.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut dropped = Vec::new();
    for (i, principal) in project.principals.iter().enumerate() {
        for &d in &principal.documents {
            let document = &project.documents[d];
            if document.kind != crate::iam::DocumentKind::Trust {
                continue;
            }
            let mut found = Vec::new();
            strings(&crate::iam::json::policy(&document.policy), &mut found);
            for s in found {
                let Some(j) = project
                    .principals
                    .iter()
                    .position(|p| p.arn.as_deref() == Some(s.as_str()))
                else {
                    continue;
                };
                if j == i || edges[i].contains(&j) {
                    continue;
                }
                if reaches(&edges, j, i) {
                    dropped.push((i, j));
                } else {
                    edges[i].push(j);
                }
            }
        }
    }
    (edges, dropped)
}

/// Whether `to` can be reached from `from` along the edges.
fn reaches(edges: &[Vec<usize>], from: usize, to: usize) -> bool {
    let mut seen = vec![false; edges.len()];
    let mut stack = vec![from];
    while let Some(at) = stack.pop() {
        if at == to {
            return true;
        }
        if !std::mem::replace(&mut seen[at], true) {
            stack.extend(edges[at].iter().copied());
        }
    }
    false
}

/// Every string in a JSON value, depth first.
pub fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_are_alphanumeric_and_distinct() {
        let names = [
            "team=data",
            "team.data",
            "teamZ3Ddata",
            "Z",
            "ZZ",
            "a_b",
            "a-b",
            "a+b",
        ];
        let escaped: Vec<String> = names.iter().map(|n| escape(n)).collect();
        for (i, e) in escaped.iter().enumerate() {
            assert!(e.chars().all(|c| c.is_ascii_alphanumeric()), "{e}");
            for other in &escaped[i + 1..] {
                assert_ne!(e, other);
            }
        }
        assert_eq!(escape("team=data"), "teamZ3Ddata");
    }
}
