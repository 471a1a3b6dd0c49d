//! Account snapshots: the JSON that `aws iam get-account-authorization-details` prints, read
//! into a [`Project`] so the guardrail analysis sees the account as it is: every user, group
//! and role with its policies, boundary, groups, tags and trust, and every customer managed
//! policy; and, for `iamx import --account`, descriptions, a role's `MaxSessionDuration` and
//! its instance profile (one, at the role's path; the others in
//! [`Project::other_profiles`]).
//!
//! Several files merge into one account (the pages of one paginated call, or calls with
//! different `--filter`s). Policy documents are read whether the CLI printed them as JSON
//! objects or the API returned them URL-encoded; spans point into the snapshot file, or, for a
//! URL-encoded document, into its decoded text. Bad input is reported, never a panic:
//! malformed JSON with the JSON reader's codes, a wrong structure as E0801, a name given twice as
//! E0802, a reference to a policy, boundary or group the snapshot does not hold as W0803 (and
//! that thing is then unknown to the analysis, never empty).

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::diag::{self, Code, Diagnostic};
use crate::iam::from_json::{self, JsonKind};
use crate::iam::json_text::{self, Node, Value};
use crate::iam::{
    self, Document, DocumentKind, ManagedPolicyInfo, PrincipalInfo, PrincipalKind, Project, Spanned,
};
use crate::source::{SourceMap, Span};
use crate::{Compilation, Source};

/// The top-level lists of a snapshot.
const LISTS: &[(&str, Option<PrincipalKind>)] = &[
    ("UserDetailList", Some(PrincipalKind::User)),
    ("GroupDetailList", Some(PrincipalKind::Group)),
    ("RoleDetailList", Some(PrincipalKind::Role)),
    ("Policies", None),
];

/// The largest snapshot file iamx reads: a large account's snapshot, AWS managed policies
/// included, is tens of megabytes, far over the limit for source files.
pub const MAX_SNAPSHOT_BYTES: usize = 512 * 1024 * 1024;

/// Reads the snapshots and analyses every boundary and principal of the account.
pub fn analyze(sources: Vec<Source>) -> Compilation {
    analyze_with_resources(sources, None)
}

/// [`analyze`], with the resources that run as a role (`--resources FILE`): see
/// [`read_resources`].
pub fn analyze_with_resources(sources: Vec<Source>, resources: Option<Source>) -> Compilation {
    let (mut map, project, mut diagnostics) = read(sources);
    let resources = resources.map(|r| read_resources(&mut map, r, &mut diagnostics));
    if diagnostics.iter().any(Diagnostic::is_error) {
        diag::sort(&mut diagnostics);
        return Compilation::without_project(map, diagnostics);
    }
    match project {
        Some(project) => finish(map, project, diagnostics, resources),
        None => Compilation::without_project(map, diagnostics),
    }
}

/// A resource that runs as a role: a Lambda function, an EC2 instance, a stack…
#[derive(Clone, Debug)]
pub struct RunsAs {
    pub arn: String,
    /// The role's ARN.
    pub role: String,
    /// Its tags: they decide `aws:ResourceTag` conditions.
    pub tags: Vec<(String, String)>,
    /// Where the entry is.
    pub span: Option<Span>,
    /// Where its role is.
    pub role_span: Option<Span>,
}

/// Reads a `--resources` file: a JSON list of `{"arn": "…", "role": "<role ARN>", "tags":
/// {"key": "value"}}` (`tags` optional). What does not fit is E0805; the entries that read are
/// kept.
pub fn read_resources(
    map: &mut SourceMap,
    source: Source,
    out: &mut Vec<Diagnostic>,
) -> Vec<RunsAs> {
    let Some(id) = crate::load_limited(
        map,
        source,
        MAX_SNAPSHOT_BYTES,
        "give fewer resources: only those that run as a role matter",
        out,
    ) else {
        return Vec::new();
    };
    let text = map.get(id).text.clone();
    let root = match json_text::parse(id, &text) {
        Ok(root) => root,
        Err(d) => {
            out.push(d);
            return Vec::new();
        }
    };
    let bad = |out: &mut Vec<Diagnostic>, span: Span, message: String, label: &str| {
        out.push(
            Diagnostic::new(Code::ResourcesUnreadable, message)
                .at(span, label)
                .help("write a list of `{\"arn\": \"…\", \"role\": \"<role ARN>\", \"tags\": {\"key\": \"value\"}}`, one for each resource that runs as a role (`tags` may be left out)"),
        );
    };
    let Value::Array(items) = &root.value else {
        bad(
            out,
            root.span,
            format!("the resources are {}, not a list", root.type_name()),
            "expected a list here",
        );
        return Vec::new();
    };
    let mut found = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.members().is_none() {
            bad(
                out,
                item.span,
                format!("resource {i} is {}, not an object", item.type_name()),
                "expected an object here",
            );
            continue;
        }
        let field = |key: &str, out: &mut Vec<Diagnostic>| match item.get(key) {
            None => {
                bad(
                    out,
                    item.span,
                    format!("resource {i} has no `{key}`"),
                    &format!("no `{key}` in this object"),
                );
                None
            }
            Some(m) => match m.value.as_str() {
                Some(v) if v.starts_with("arn:") => Some((v.to_string(), m.value.span)),
                Some(v) => {
                    bad(
                        out,
                        m.value.span,
                        format!("the `{key}` of resource {i}, `{v}`, is not an ARN"),
                        "expected an ARN",
                    );
                    None
                }
                None => {
                    bad(
                        out,
                        m.value.span,
                        format!(
                            "the `{key}` of resource {i} is {}, not a string",
                            m.value.type_name()
                        ),
                        "expected a string",
                    );
                    None
                }
            },
        };
        let arn = field("arn", out);
        let role = field("role", out);
        if let Some((r, span)) = &role {
            if !r.contains(":role/") {
                bad(
                    out,
                    *span,
                    format!("the `role` of resource {i}, `{r}`, is not a role's ARN"),
                    "expected `arn:aws:iam::ACCOUNT:role/NAME`",
                );
                continue;
            }
        }
        let mut tags = Vec::new();
        if let Some(m) = item.get("tags") {
            match m.value.members() {
                Some(members) => {
                    for t in members {
                        match t.value.as_str() {
                            Some(v) => tags.push((t.key.clone(), v.to_string())),
                            None => bad(
                                out,
                                t.value.span,
                                format!(
                                    "the tag `{}` of resource {i} is {}, not a string",
                                    t.key,
                                    t.value.type_name()
                                ),
                                "expected a string",
                            ),
                        }
                    }
                }
                None => bad(
                    out,
                    m.value.span,
                    format!(
                        "the `tags` of resource {i} are {}, not an object",
                        m.value.type_name()
                    ),
                    "expected an object of tag keys and values",
                ),
            }
        }
        if let (Some((arn, _)), Some((role, role_span))) = (arn, role) {
            found.push(RunsAs {
                arn,
                role,
                tags,
                span: Some(item.span),
                role_span: Some(role_span),
            });
        }
    }
    found
}

/// Analyses a compiled project together with the snapshots of its account: the project's
/// principals and policies are added to the snapshot's, and replace those of the same kind
/// and name. Compile the project with [`crate::Options::skip_guardrail`]: the analysis runs
/// here, on the whole.
pub fn analyze_with_project(compilation: Compilation, snapshots: Vec<Source>) -> Compilation {
    analyze_with_project_and_resources(compilation, snapshots, None)
}

/// [`analyze_with_project`], with the resources that run as a role.
pub fn analyze_with_project_and_resources(
    compilation: Compilation,
    snapshots: Vec<Source>,
    resources: Option<Source>,
) -> Compilation {
    let Compilation {
        sources: map,
        mut diagnostics,
        project,
        accepted,
        allowances,
        ..
    } = compilation;
    let (mut map, snapshot, found) = read_into(map, snapshots);
    diagnostics.extend(found);
    let before = diagnostics.len();
    let resources = resources.map(|r| read_resources(&mut map, r, &mut diagnostics));
    let unreadable = diagnostics[before..].iter().any(Diagnostic::is_error);
    let snapshot = snapshot.filter(|_| !unreadable);
    let (Some(declared), Some(mut account)) = (project, snapshot) else {
        return Compilation::without_project(map, diagnostics);
    };
    if let Some(own) = &declared.account {
        // The snapshot's account is the one its ARNs name (or none, if it names none).
        let named = account
            .principals
            .iter()
            .find_map(|p| p.arn.clone())
            .or_else(|| account.policies.iter().find_map(|p| p.arn.clone()));
        if named.is_some() && account.account.as_ref() != Some(own) {
            diagnostics.push(
                Diagnostic::new(
                    Code::SnapshotUnreadable,
                    format!(
                        "the project's account `{own}` is not the snapshot's, `{}`",
                        account.account.as_deref().unwrap_or_default()
                    ),
                )
                .help("give the snapshot of the account the project deploys to"),
            );
            return Compilation::without_project(map, diagnostics);
        }
        account.account = Some(own.clone());
        account.partition = declared.partition.clone();
    }
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    account.principals.retain(|p| {
        !declared
            .principals
            .iter()
            .any(|q| q.kind == p.kind && same(&q.name, &p.name))
    });
    account
        .policies
        .retain(|p| !declared.policies.iter().any(|q| same(&q.name, &p.name)));
    // The versions of the policies replaced go with them.
    let kept: std::collections::HashSet<String> = account
        .policies
        .iter()
        .filter_map(|p| p.arn.clone())
        .collect();
    account
        .other_versions
        .retain(|(arn, _, _)| kept.contains(arn));
    let roles: std::collections::HashSet<&str> = account
        .principals
        .iter()
        .filter_map(|p| p.arn.as_deref())
        .collect();
    account
        .other_profiles
        .retain(|p| roles.contains(p.role.as_str()));
    let offset = account.documents.len();
    account.documents.extend(declared.documents);
    account
        .policies
        .extend(declared.policies.into_iter().map(|mut p| {
            p.document += offset;
            p
        }));
    account
        .principals
        .extend(declared.principals.into_iter().map(|mut p| {
            for d in &mut p.documents {
                *d += offset;
            }
            p
        }));
    // A snapshot policy the project uses as a boundary is one now.
    let used: std::collections::HashSet<String> = account
        .principals
        .iter()
        .filter_map(|p| p.boundary.as_ref().map(|b| b.value.clone()))
        .collect();
    for p in &mut account.policies {
        if !p.boundary && p.arn.as_ref().is_some_and(|a| used.contains(a)) {
            p.boundary = true;
            p.guard = crate::guardrail::spec::recognize(&account.documents[p.document].policy);
        }
    }
    let mut c = finish(map, account, diagnostics, resources);
    // The project's `@allow`s reach the account analysis's warnings about what it declares;
    // those that accepted a warning of the compilation already are not asked again.
    let unused: Vec<crate::allow::Allowance> = allowances
        .into_iter()
        .filter(|a| !accepted.iter().any(|x| x.allowed_at == a.at))
        .collect();
    let complete = !c.has_errors();
    let mut later = crate::allow::apply(&unused, &mut c.diagnostics, complete);
    c.accepted = accepted;
    c.accepted.append(&mut later);
    diag::sort(&mut c.diagnostics);
    c
}

/// The guardrail analysis of an account's project, with administrators listed once and
/// findings naming their principal.
fn finish(
    map: SourceMap,
    project: Project,
    mut diagnostics: Vec<Diagnostic>,
    resources: Option<Vec<RunsAs>>,
) -> Compilation {
    if let Some(list) = &resources {
        // A resource whose role the snapshot does not hold runs as something unknown.
        let roles: std::collections::HashSet<&str> = project
            .principals
            .iter()
            .filter(|p| p.kind == PrincipalKind::Role)
            .filter_map(|p| p.arn.as_deref())
            .collect();
        for r in list {
            if !roles.contains(r.role.as_str()) {
                let mut d = Diagnostic::new(
                    Code::ResourceRoleUnknown,
                    format!(
                        "resource `{}` runs as role `{}`, which the snapshot does not hold",
                        r.arn, r.role
                    ),
                )
                .help("iamx treats what it can do as unknown: give the snapshot of the account the role is in, or correct the ARN");
                if let Some(span) = r.role_span {
                    d = d.at(span, "not in the snapshot");
                }
                diagnostics.push(d);
            }
        }
    }
    // Administrators are listed once, as such: whatever else they can do is no escalation.
    let admins = administrators(&project);
    let admin_arns: Vec<String> = admins.iter().filter_map(|(p, _)| p.arn.clone()).collect();
    let known = crate::guardrail::roles::Known::of(&project, &admin_arns, resources);
    let (mut report, found) = crate::guardrail::analyze_account(&project, known);
    diagnostics.extend(found.into_iter().filter(|d| {
        !matches!(
            d.code,
            Code::GuardUnboundedPrincipal | Code::SnapshotDepends
        ) || !admins
            .iter()
            .any(|(p, _)| d.message.starts_with(&display(p)))
    }));
    report
        .principals
        .retain(|c| !admins.iter().any(|(p, _)| p.name == c.name));
    for (p, why) in &admins {
        let mut d = Diagnostic::new(
            Code::SnapshotAdministrator,
            format!("{} has no permissions boundary, and {why}", display(p)),
        )
        .help("it can do anything, so it is listed once, here, not as an escalation: whoever can become it (assume it, pass it, change its credentials or policies) is reported instead");
        if let Some(span) = p.name_span {
            d = d.at(span, "an administrator");
        }
        diagnostics.push(d);
    }
    // Each finding about a principal names it by ARN, for tools.
    let arns: HashMap<String, &str> = project
        .principals
        .iter()
        .filter_map(|p| Some((display(p), p.arn.as_deref()?)))
        .collect();
    for d in &mut diagnostics {
        let mut words = d.message.splitn(3, '`');
        if let (Some(kind), Some(name)) = (words.next(), words.next()) {
            if let Some(arn) = arns.get(&format!("{kind}`{name}`")) {
                d.principal = Some((*arn).into());
            }
        }
    }
    diag::sort(&mut diagnostics);
    Compilation {
        sources: map,
        diagnostics,
        accepted: Vec::new(),
        allowances: Vec::new(),
        project: Some(project),
        guardrail: Some(report),
    }
}

/// How messages name a principal: "role `Admin`".
fn display(p: &PrincipalInfo) -> String {
    format!("{} `{}`", p.kind.as_str(), p.name)
}

/// The users and roles with no boundary whose identity policies allow every action on every
/// resource with no condition, and deny nothing, with what says so. A policy iamx cannot read
/// makes nobody an administrator: it may deny.
fn administrators(project: &Project) -> Vec<(&PrincipalInfo, String)> {
    let groups: HashMap<&str, &PrincipalInfo> = project
        .principals
        .iter()
        .filter(|g| g.kind == PrincipalKind::Group)
        .map(|g| (g.name.as_str(), g))
        .collect();
    let star = |b: &Option<iam::Block>| {
        b.as_ref()
            .is_some_and(|b| !b.not && b.values.iter().any(|v| v.value == "*"))
    };
    let mut out = Vec::new();
    for p in &project.principals {
        if p.kind == PrincipalKind::Group || p.boundary.is_some() {
            continue;
        }
        let mut holders = vec![p];
        if p.kind == PrincipalKind::User {
            holders.extend(
                p.groups
                    .iter()
                    .filter_map(|g| groups.get(g.as_str()).copied()),
            );
        }
        let mut policies: Vec<(String, iam::Policy)> = Vec::new();
        let mut unknown = false;
        for h in &holders {
            for &i in &h.documents {
                let d = &project.documents[i];
                if d.kind != DocumentKind::Trust {
                    policies.push((format!("its inline policy `{}`", d.name), d.policy.clone()));
                }
            }
            for a in &h.attached {
                match crate::eval::project::managed_document(project, &a.value) {
                    Some(policy) => policies.push((format!("`{}`", a.value), policy)),
                    None => unknown = true,
                }
            }
        }
        let denies = policies
            .iter()
            .flat_map(|(_, p)| &p.statements)
            .any(|s| s.effect.value == iam::Effect::Deny);
        if unknown || denies {
            continue;
        }
        let grant = policies.iter().find(|(_, policy)| {
            policy.statements.iter().any(|s| {
                s.effect.value == iam::Effect::Allow
                    && s.conditions.is_empty()
                    && star(&s.action)
                    && star(&s.resource)
            })
        });
        if let Some((name, _)) = grant {
            out.push((p, format!("{name} allows every action on every resource")));
        }
    }
    out
}

/// Reads the snapshots into one project. The project is `None` when an error was found.
pub fn read(sources: Vec<Source>) -> (SourceMap, Option<Project>, Vec<Diagnostic>) {
    read_into(SourceMap::new(), sources)
}

/// [`read`], adding the snapshots to a map that holds other files already.
fn read_into(
    map: SourceMap,
    sources: Vec<Source>,
) -> (SourceMap, Option<Project>, Vec<Diagnostic>) {
    let mut reader = Reader {
        map,
        out: Vec::new(),
        principals: Vec::new(),
        policies: Vec::new(),
        account: None,
        other_accounts: Vec::new(),
        truncated: None,
        last_page: None,
    };
    for source in sources {
        let name = source.name.clone();
        let Some(id) = crate::load_limited(
            &mut reader.map,
            source,
            MAX_SNAPSHOT_BYTES,
            "give the snapshot in pages: the API's `--max-items` and `--starting-token` make pages of the same call, and iamx merges them",
            &mut reader.out,
        ) else {
            continue;
        };
        let text = reader.map.get(id).text.clone();
        match json_text::parse(id, &text) {
            Ok(root) => reader.snapshot(&name, &root),
            Err(d) => reader.out.push(d),
        }
    }
    let project = reader.project();
    let failed = reader.out.iter().any(Diagnostic::is_error);
    let mut out = reader.out;
    diag::sort(&mut out);
    (reader.map, project.filter(|_| !failed), out)
}

/// A user, group or role as the snapshot gives it.
struct Principal {
    kind: PrincipalKind,
    name: Spanned<String>,
    path: String,
    arn: String,
    span: Span,
    /// Inline policies: name, document, where the document is.
    inline: Vec<(String, iam::Policy, Option<Span>)>,
    trust: Option<(iam::Policy, Option<Span>)>,
    attached: Vec<Spanned<String>>,
    boundary: Option<Spanned<String>>,
    groups: Vec<Spanned<String>>,
    tags: IndexMap<String, String>,
    /// A role's `Description`, `MaxSessionDuration` and instance profiles (name, path).
    description: Option<String>,
    max_session: Option<u32>,
    profiles: Vec<(Spanned<String>, String)>,
}

/// A customer managed policy: its default version.
struct Policy {
    name: Spanned<String>,
    path: String,
    arn: String,
    document: Option<(iam::Policy, Option<Span>)>,
    /// The other versions: id and document.
    others: Vec<(String, iam::Policy)>,
    description: Option<String>,
}

struct Reader {
    map: SourceMap,
    out: Vec<Diagnostic>,
    principals: Vec<Principal>,
    policies: Vec<Policy>,
    /// The partition and account, and the ARN they were first read from.
    account: Option<(String, String, Spanned<String>)>,
    /// Other accounts found, each reported once.
    other_accounts: Vec<String>,
    /// The first page that says more follow, and the first that does not.
    truncated: Option<Span>,
    last_page: Option<Span>,
}

/// `RoleDetailList[0].RolePolicyList[1]`: where a value is, for messages.
fn at(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl Reader {
    fn unreadable(&mut self, span: Span, message: String, label: &str, help: &str) {
        self.out.push(
            Diagnostic::new(Code::SnapshotUnreadable, message)
                .at(span, label)
                .help(help),
        );
    }

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.unreadable(
            node.span,
            format!("`{what}` is {}, not {expected}", node.type_name()),
            &format!("{} here", node.type_name()),
            "write it as `aws iam get-account-authorization-details` prints it",
        );
    }

    /// A member that must be there.
    fn required<'a>(&mut self, object: &'a Node, key: &str, what: &str) -> Option<&'a Node> {
        match object.get(key) {
            Some(m) => Some(&m.value),
            None => {
                self.unreadable(
                    object.span,
                    format!("`{what}` has no `{key}`"),
                    &format!("no `{key}` in this object"),
                    "each entry of the snapshot has the fields AWS documents for it: take the snapshot again with the AWS CLI",
                );
                None
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match node.as_str() {
            Some(s) => Some(Spanned::new(s.to_string(), Some(node.span))),
            None => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    fn required_string(&mut self, object: &Node, key: &str, what: &str) -> Option<Spanned<String>> {
        let node = self.required(object, key, what)?;
        self.string(node, &at(what, key))
    }

    /// An optional list: empty when absent, `None` (reported) when not a list.
    fn list<'a>(&mut self, object: &'a Node, key: &str, what: &str) -> Option<&'a [Node]> {
        match object.get(key) {
            None => Some(&[]),
            Some(m) => match &m.value.value {
                Value::Array(items) => Some(items),
                Value::Null => Some(&[]),
                _ => {
                    self.wrong_type(&m.value, &at(what, key), "a list");
                    None
                }
            },
        }
    }

    fn object<'a>(&mut self, node: &'a Node, what: &str) -> Option<&'a Node> {
        if node.members().is_some() {
            Some(node)
        } else {
            self.wrong_type(node, what, "an object");
            None
        }
    }

    fn snapshot(&mut self, file: &str, root: &Node) {
        if root.members().is_none() {
            self.unreadable(
                root.span,
                format!(
                    "an account snapshot is a JSON object, not {}",
                    root.type_name()
                ),
                &format!("{} here", root.type_name()),
                "give the output of `aws iam get-account-authorization-details --output json`",
            );
            return;
        }
        if !LISTS.iter().any(|(key, _)| root.get(key).is_some()) {
            self.unreadable(
                root.span,
                "this JSON object is not an account snapshot".to_string(),
                "no `UserDetailList`, `GroupDetailList`, `RoleDetailList` or `Policies` here",
                "give the output of `aws iam get-account-authorization-details --output json`; a single policy is checked without `--account`",
            );
            return;
        }
        // A page that says more follow (`IsTruncated`, or the CLI's `NextToken`), or the last
        // page.
        let truncated = root
            .get("IsTruncated")
            .filter(|m| m.value.value == Value::Bool(true))
            .or_else(|| root.get("NextToken"));
        match truncated {
            Some(m) => self.truncated.get_or_insert(m.key_span.to(m.value.span)),
            None => self.last_page.get_or_insert(root.span),
        };
        for (key, kind) in LISTS {
            let Some(items) = self.list(root, key, "") else {
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let what = format!("{key}[{i}]");
                let Some(item) = self.object(item, &what) else {
                    continue;
                };
                match kind {
                    Some(kind) => self.principal(file, *kind, item, &what),
                    None => self.policy(file, item, &what),
                }
            }
        }
    }

    /// Checks an ARN of the account and records the account and partition.
    fn arn(&mut self, arn: &Spanned<String>, kind: &str, what: &str) -> bool {
        let parts: Vec<&str> = arn.value.splitn(6, ':').collect();
        let span = arn
            .span
            .unwrap_or(Span::new(crate::source::FileId(0), 0, 0));
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && !parts[1].is_empty()
            && parts[2] == "iam"
            && parts[3].is_empty()
            && parts[5].starts_with(&format!("{kind}/"));
        if !ok {
            self.unreadable(
                span,
                format!("`{}` is not the ARN of an IAM {kind}", arn.value),
                "malformed ARN",
                &format!("`{what}` is `arn:aws:iam::ACCOUNT:{kind}/PATH/NAME`"),
            );
            return false;
        }
        let (partition, account) = (parts[1], parts[4]);
        if account == "aws" {
            return true;
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            self.unreadable(
                span,
                format!("`{}` does not name an account", arn.value),
                "no 12-digit account id",
                &format!("`{what}` is `arn:aws:iam::ACCOUNT:{kind}/PATH/NAME`"),
            );
            return false;
        }
        match &self.account {
            None => {
                self.account = Some((partition.to_string(), account.to_string(), arn.clone()));
                true
            }
            Some((p, a, _)) if p == partition && a == account => true,
            Some(_)
                if self
                    .other_accounts
                    .contains(&format!("{partition}:{account}")) =>
            {
                false
            }
            Some((_, _, first)) => {
                let first = first.clone();
                self.other_accounts.push(format!("{partition}:{account}"));
                let mut d = Diagnostic::new(
                    Code::SnapshotUnreadable,
                    format!(
                        "the snapshots hold more than one account: `{}` and `{}`",
                        first.value, arn.value
                    ),
                )
                .at(span, "another account")
                .help("give the snapshots of one account at a time");
                if let Some(first) = first.span {
                    d = d.with_label(first, "the first account");
                }
                self.out.push(d);
                false
            }
        }
    }

    /// A policy document: a JSON object, or a URL-encoded string (as the IAM API returns it).
    fn document(
        &mut self,
        file: &str,
        node: &Node,
        kind: JsonKind,
        what: &str,
    ) -> Option<(iam::Policy, Option<Span>)> {
        let brace = |span: Span| Span {
            end: span.start + 1,
            ..span
        };
        match &node.value {
            Value::Object(_) => {
                let (policy, found) = from_json::read_policy_node(node, Some(kind));
                self.out.extend(found);
                policy.map(|p| (p.policy, Some(brace(node.span))))
            }
            Value::String(encoded) => {
                let text = match url_decode(encoded) {
                    Ok(text) => text,
                    Err(why) => {
                        self.unreadable(
                            node.span,
                            format!("`{what}` is a string, but not a URL-encoded policy: {why}"),
                            "this document",
                            "a document is a JSON object, or the URL-encoded text of one as the IAM API returns it",
                        );
                        return None;
                    }
                };
                // Shown laid out, so that diagnostics point at a line of their own; the text
                // that does not parse is shown as it is.
                let text = match json_text::parse(crate::source::FileId(u32::MAX), &text) {
                    Ok(node) => {
                        let mut pretty = String::new();
                        lay_out(&node, 0, &mut pretty);
                        pretty.push('\n');
                        pretty
                    }
                    Err(_) => text,
                };
                let id = self
                    .map
                    .add(format!("{file} ({what}, decoded)"), text.clone());
                let (policy, found) = from_json::read_policy(id, &text, Some(kind));
                self.out.extend(found);
                policy.map(|p| (p.policy, Some(brace(p.span))))
            }
            _ => {
                self.wrong_type(node, what, "a policy document");
                None
            }
        }
    }

    fn principal(&mut self, file: &str, kind: PrincipalKind, item: &Node, what: &str) {
        let (name_key, inline_key) = match kind {
            PrincipalKind::User => ("UserName", "UserPolicyList"),
            PrincipalKind::Group => ("GroupName", "GroupPolicyList"),
            PrincipalKind::Role => ("RoleName", "RolePolicyList"),
        };
        let name = self.required_string(item, name_key, what);
        let arn = self.required_string(item, "Arn", what);
        let path = match item.get("Path") {
            Some(m) => self.string(&m.value, &at(what, "Path")).map(|p| p.value),
            None => Some("/".to_string()),
        };
        let (Some(name), Some(arn), Some(path)) = (name, arn, path) else {
            return;
        };
        if !self.arn(&arn, kind.as_str(), &at(what, "Arn")) {
            return;
        }
        let mut inline = Vec::new();
        let inline_kind = JsonKind::Identity;
        if let Some(items) = self.list(item, inline_key, what) {
            for (i, p) in items.iter().enumerate() {
                let w = format!("{}[{i}]", at(what, inline_key));
                let Some(p) = self.object(p, &w) else {
                    continue;
                };
                let pname = self.required_string(p, "PolicyName", &w);
                let doc = self
                    .required(p, "PolicyDocument", &w)
                    .and_then(|d| self.document(file, d, inline_kind, &at(&w, "PolicyDocument")));
                if let (Some(pname), Some((policy, span))) = (pname, doc) {
                    inline.push((pname.value, policy, span));
                }
            }
        }
        let trust = match (kind, item.get("AssumeRolePolicyDocument")) {
            (PrincipalKind::Role, Some(m)) => self.document(
                file,
                &m.value,
                JsonKind::Trust,
                &at(what, "AssumeRolePolicyDocument"),
            ),
            _ => None,
        };
        let mut attached = Vec::new();
        if let Some(items) = self.list(item, "AttachedManagedPolicies", what) {
            for (i, a) in items.iter().enumerate() {
                let w = format!("{}[{i}]", at(what, "AttachedManagedPolicies"));
                if let Some(a) = self.object(a, &w) {
                    if let Some(arn) = self.required_string(a, "PolicyArn", &w) {
                        if self.arn(&arn, "policy", &at(&w, "PolicyArn")) {
                            attached.push(arn);
                        }
                    }
                }
            }
        }
        let mut boundary = None;
        if let Some(m) = item.get("PermissionsBoundary") {
            let w = at(what, "PermissionsBoundary");
            if let Some(b) = self.object(&m.value, &w) {
                if let Some(arn) = self.required_string(b, "PermissionsBoundaryArn", &w) {
                    if self.arn(&arn, "policy", &at(&w, "PermissionsBoundaryArn")) {
                        boundary = Some(arn);
                    }
                }
            }
        }
        let mut groups = Vec::new();
        if kind == PrincipalKind::User {
            if let Some(items) = self.list(item, "GroupList", what) {
                for (i, g) in items.iter().enumerate() {
                    groups.extend(self.string(g, &format!("{}[{i}]", at(what, "GroupList"))));
                }
            }
        }
        let mut tags = IndexMap::new();
        if let Some(items) = self.list(item, "Tags", what) {
            for (i, t) in items.iter().enumerate() {
                let w = format!("{}[{i}]", at(what, "Tags"));
                if let Some(t) = self.object(t, &w) {
                    let key = self.required_string(t, "Key", &w);
                    let value = self.required_string(t, "Value", &w);
                    if let (Some(k), Some(v)) = (key, value) {
                        tags.insert(k.value, v.value);
                    }
                }
            }
        }
        let (mut description, mut max_session, mut profiles) = (None, None, Vec::new());
        if kind == PrincipalKind::Role {
            // Instance profiles, the session duration and the description change nothing the
            // analysis asks; `iamx import --account` writes them.
            if let Some(items) = self.list(item, "InstanceProfileList", what) {
                for (i, p) in items.iter().enumerate() {
                    let w = format!("{}[{i}]", at(what, "InstanceProfileList"));
                    let Some(p) = self.object(p, &w) else {
                        continue;
                    };
                    let name = self.required_string(p, "InstanceProfileName", &w);
                    let path = match p.get("Path") {
                        Some(m) => self.string(&m.value, &at(&w, "Path")).map(|p| p.value),
                        None => Some("/".to_string()),
                    };
                    if let (Some(name), Some(path)) = (name, path) {
                        profiles.push((name, path));
                    }
                }
            }
            if let Some(m) = item.get("MaxSessionDuration") {
                max_session = self.session(&m.value, &at(what, "MaxSessionDuration"));
            }
            description = self.description(item, what);
        }
        self.principals.push(Principal {
            kind,
            name,
            path,
            arn: arn.value,
            span: item.span,
            inline,
            trust,
            attached,
            boundary,
            groups,
            tags,
            description,
            max_session,
            profiles,
        });
    }

    /// An optional `Description`: a string.
    fn description(&mut self, item: &Node, what: &str) -> Option<String> {
        let m = item.get("Description")?;
        self.string(&m.value, &at(what, "Description"))
            .map(|d| d.value)
    }

    /// A role's `MaxSessionDuration`: whole seconds in IAM's range, one to twelve hours.
    fn session(&mut self, node: &Node, what: &str) -> Option<u32> {
        let Value::Number(text) = &node.value else {
            self.wrong_type(node, what, "a number");
            return None;
        };
        let range = crate::lower::MIN_SESSION..=crate::lower::MAX_SESSION;
        let (why, label) = match text.parse::<u64>() {
            Ok(seconds) if range.contains(&seconds) => return u32::try_from(seconds).ok(),
            Ok(_) => (
                "outside IAM's range of 3600 to 43200 seconds",
                "not from 3600 to 43200",
            ),
            Err(_) => ("not a whole number of seconds", "not a whole number"),
        };
        self.unreadable(
            node.span,
            format!("`{what}` is `{text}`, {why}"),
            label,
            "a role's `MaxSessionDuration` is from 3600 (one hour) to 43200 (twelve hours) seconds: take the snapshot again with the AWS CLI",
        );
        None
    }

    fn policy(&mut self, file: &str, item: &Node, what: &str) {
        let name = self.required_string(item, "PolicyName", what);
        let arn = self.required_string(item, "Arn", what);
        let path = match item.get("Path") {
            Some(m) => self.string(&m.value, &at(what, "Path")).map(|p| p.value),
            None => Some("/".to_string()),
        };
        let default = match item.get("DefaultVersionId") {
            Some(m) => self.string(&m.value, &at(what, "DefaultVersionId")),
            None => None,
        };
        let description = self.description(item, what);
        let (Some(name), Some(arn), Some(path)) = (name, arn, path) else {
            return;
        };
        if !self.arn(&arn, "policy", &at(what, "Arn")) {
            return;
        }
        let Some(versions) = self.list(item, "PolicyVersionList", what) else {
            return;
        };
        let mut document = None;
        let mut others = Vec::new();
        let mut found_default = false;
        for (i, v) in versions.iter().enumerate() {
            let w = format!("{}[{i}]", at(what, "PolicyVersionList"));
            let Some(v) = self.object(v, &w) else {
                continue;
            };
            let is_default = match v.get("IsDefaultVersion").map(|m| &m.value) {
                Some(Node {
                    value: Value::Bool(b),
                    ..
                }) => *b,
                Some(other) => {
                    self.wrong_type(other, &at(&w, "IsDefaultVersion"), "a boolean");
                    false
                }
                None => {
                    let id = v.get("VersionId").and_then(|m| m.value.as_str());
                    id.is_some() && id == default.as_ref().map(|d| d.value.as_str())
                }
            };
            let Some(node) = self.required(v, "Document", &w) else {
                continue;
            };
            // Every version is read, so a broken one is reported; only the default is used.
            let read = self.document(file, node, JsonKind::Identity, &at(&w, "Document"));
            if is_default && !found_default {
                found_default = true;
                document = read;
            } else if let Some((policy, _)) = read {
                let id = v
                    .get("VersionId")
                    .and_then(|m| m.value.as_str())
                    .unwrap_or("?")
                    .to_string();
                others.push((id, policy));
            }
        }
        // AWS managed policies are taken from the embedded data, like everywhere in iamx.
        if arn.value.contains(":iam::aws:policy/") {
            return;
        }
        if !found_default && !versions.is_empty() {
            self.unreadable(
                item.span,
                format!("policy `{}` has no default version", name.value),
                "no version here has `\"IsDefaultVersion\": true`",
                "a managed policy has exactly one default version: take the snapshot again with the AWS CLI",
            );
            return;
        }
        self.policies.push(Policy {
            name,
            path,
            arn: arn.value,
            document,
            others,
            description,
        });
    }

    /// A name given twice: same kind (or policy) and the same name, case aside, as IAM has it.
    fn duplicate(&mut self, what: &str, name: &Spanned<String>, first: &Spanned<String>) {
        let mut d = Diagnostic::new(
            Code::SnapshotDuplicate,
            format!("{what} `{}` is given twice", name.value),
        )
        .help("IAM names are unique in an account (case aside): give each page of the snapshot once, and the snapshots of one account");
        if let Some(span) = name.span {
            d = d.at(span, "given again here");
        }
        if let Some(span) = first.span {
            d = d.with_label(span, "first given here");
        }
        self.out.push(d);
    }

    fn dangling(&mut self, span: Option<Span>, message: String, help: &str) {
        let mut d = Diagnostic::new(Code::SnapshotDangling, message).help(help);
        if let Some(span) = span {
            d = d.at(span, "not in the snapshot");
        }
        self.out.push(d);
    }

    /// The project: every principal and customer managed policy, with what they refer to
    /// checked.
    fn project(&mut self) -> Option<Project> {
        let (partition, account) = match &self.account {
            Some((p, a, _)) => (p.clone(), a.clone()),
            None => {
                if self.out.iter().any(Diagnostic::is_error) {
                    return None;
                }
                ("aws".to_string(), "123456789012".to_string())
            }
        };
        let mut project = Project {
            account: Some(account),
            partition,
            ..Project::default()
        };
        if let (Some(span), None) = (self.truncated, self.last_page) {
            self.out.push(
                Diagnostic::new(
                    Code::SnapshotDangling,
                    "the snapshot says more pages follow, and none of the files is the last page",
                )
                .at(span, "more pages follow this one")
                .help("the principals of the missing pages are not analysed, and what refers to them is unknown: give every page, or let the AWS CLI follow them (leave out `--max-items`)"),
            );
        }
        let policies = std::mem::take(&mut self.policies);
        let principals = std::mem::take(&mut self.principals);
        // Duplicates.
        let mut seen: HashMap<String, Spanned<String>> = HashMap::new();
        for p in &policies {
            let key = p.name.value.to_lowercase();
            match seen.get(&key) {
                Some(first) => {
                    let first = first.clone();
                    self.duplicate("policy", &p.name, &first);
                }
                None => {
                    seen.insert(key, p.name.clone());
                }
            }
        }
        let mut seen: HashMap<(&str, String), Spanned<String>> = HashMap::new();
        for p in &principals {
            let key = (p.kind.as_str(), p.name.value.to_lowercase());
            match seen.get(&key) {
                Some(first) => {
                    let first = first.clone();
                    self.duplicate(p.kind.as_str(), &p.name, &first);
                }
                None => {
                    seen.insert(key, p.name.clone());
                }
            }
        }
        let boundaries: std::collections::HashSet<&str> = principals
            .iter()
            .filter_map(|p| p.boundary.as_ref().map(|b| b.value.as_str()))
            .collect();
        let known: HashMap<&str, usize> = policies
            .iter()
            .enumerate()
            .map(|(i, p)| (p.arn.as_str(), i))
            .collect();
        let groups: std::collections::HashSet<String> = principals
            .iter()
            .filter(|p| p.kind == PrincipalKind::Group)
            .map(|p| p.name.value.clone())
            .collect();
        for p in &policies {
            let is_boundary = boundaries.contains(p.arn.as_str());
            let (policy, span) = p.document.clone().unwrap_or_else(|| {
                // A policy with no versions listed: nothing it allows is known.
                (
                    iam::Policy {
                        id: None,
                        statements: Vec::new(),
                    },
                    None,
                )
            });
            let kind = if is_boundary {
                DocumentKind::Boundary
            } else {
                DocumentKind::Managed
            };
            let guard = is_boundary
                .then(|| crate::guardrail::spec::recognize(&policy))
                .flatten();
            project.documents.push(Document {
                kind,
                name: p.name.value.clone(),
                owner: None,
                file: format!("policies/{}.json", p.name.value),
                policy,
                span,
                split: false,
            });
            for (id, policy) in &p.others {
                project
                    .other_versions
                    .push((p.arn.clone(), id.clone(), policy.clone()));
            }
            project.policies.push(ManagedPolicyInfo {
                name: p.name.value.clone(),
                path: p.path.clone(),
                arn: Some(p.arn.clone()),
                boundary: is_boundary,
                guard,
                description: p.description.clone(),
                docs: Vec::new(),
                document: project.documents.len() - 1,
                span: p.name.span,
            });
        }
        let known_policy = |arn: &str| {
            known.contains_key(arn) || crate::eval::project::aws_managed_document(arn).is_some()
        };
        for mut p in principals {
            // A role holds one instance profile in iamx, at the role's path: the first that
            // fits; the others are kept for `iamx import --account` to name.
            let mut instance_profile = None;
            for (name, path) in std::mem::take(&mut p.profiles) {
                if instance_profile.is_none() && path == p.path && profile_name_fits(&name.value) {
                    instance_profile = Some(name.value);
                } else {
                    project.other_profiles.push(iam::OtherProfile {
                        role: p.arn.clone(),
                        name: name.value,
                        path,
                        span: name.span,
                    });
                }
            }
            let dir = match p.kind {
                PrincipalKind::User => "users",
                PrincipalKind::Group => "groups",
                PrincipalKind::Role => "roles",
            };
            let inline_kind = match p.kind {
                PrincipalKind::User => DocumentKind::UserInline,
                PrincipalKind::Group => DocumentKind::GroupInline,
                PrincipalKind::Role => DocumentKind::RoleInline,
            };
            let mut documents = Vec::new();
            for (name, policy, span) in p.inline {
                project.documents.push(Document {
                    kind: inline_kind,
                    file: format!("{dir}/{}/{name}.json", p.name.value),
                    name,
                    owner: Some(p.name.value.clone()),
                    policy,
                    span,
                    split: false,
                });
                documents.push(project.documents.len() - 1);
            }
            if let Some((policy, span)) = p.trust {
                project.documents.push(Document {
                    kind: DocumentKind::Trust,
                    name: p.name.value.clone(),
                    owner: Some(p.name.value.clone()),
                    file: format!("{dir}/{}/trust.json", p.name.value),
                    policy,
                    span,
                    split: false,
                });
                documents.push(project.documents.len() - 1);
            }
            let mut attached = Vec::new();
            for a in p.attached {
                if !known_policy(&a.value) {
                    let message = if a.value.contains(":iam::aws:policy/") {
                        format!(
                            "{} `{}` has the AWS managed policy `{}` attached, which iamx has no document for",
                            p.kind.as_str(), p.name.value, a.value
                        )
                    } else {
                        format!(
                            "{} `{}` has the policy `{}` attached, which the snapshot does not hold",
                            p.kind.as_str(), p.name.value, a.value
                        )
                    };
                    self.dangling(
                        a.span,
                        message,
                        "iamx treats it as allowing anything: give the snapshot with every policy (`get-account-authorization-details` without `--filter`)",
                    );
                }
                attached.push(a);
            }
            if let Some(b) = &p.boundary {
                if !known_policy(&b.value) {
                    self.dangling(
                        b.span,
                        format!(
                            "{} `{}` has the permissions boundary `{}`, which the snapshot does not hold",
                            p.kind.as_str(), p.name.value, b.value
                        ),
                        "iamx cannot rely on a boundary it cannot read, so it treats the principal as unbounded: give the snapshot with every policy (`get-account-authorization-details` without `--filter`)",
                    );
                }
            }
            let mut member_of = Vec::new();
            for g in &p.groups {
                if groups.contains(&g.value) {
                    member_of.push(g.value.clone());
                } else {
                    self.dangling(
                        g.span,
                        format!(
                            "user `{}` is in the group `{}`, which the snapshot does not hold",
                            p.name.value, g.value
                        ),
                        "iamx treats the group as allowing anything: give the snapshot with every group (`get-account-authorization-details` without `--filter`)",
                    );
                    // Unknown, not empty: an attachment iamx cannot read stands for it.
                    let arn = format!(
                        "arn:{}:iam::{}:group/{}",
                        project.partition,
                        project.account.as_deref().unwrap_or_default(),
                        g.value
                    );
                    attached.push(Spanned::new(arn, g.span));
                }
            }
            project.principals.push(PrincipalInfo {
                kind: p.kind,
                name: p.name.value.clone(),
                path: p.path,
                arn: Some(p.arn),
                boundary: p.boundary,
                attached,
                groups: member_of,
                tags: p.tags,
                description: p.description,
                docs: Vec::new(),
                documents,
                span: Some(p.span),
                name_span: p.name.span,
                delegates: false,
                max_session: p.max_session,
                instance_profile,
                split: false,
            });
        }
        Some(project)
    }
}

/// A name iamx can give an instance profile: IAM's characters, 1 to 128 of them.
fn profile_name_fits(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// Writes a JSON value with two-space indentation, numbers as written.
fn lay_out(node: &Node, depth: usize, out: &mut String) {
    let indent = |out: &mut String, depth: usize| out.push_str(&"  ".repeat(depth));
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => out.push_str(&quote(s)),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(out, depth + 1);
                lay_out(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Object(members) if members.is_empty() => out.push_str("{}"),
        Value::Object(members) => {
            out.push_str("{\n");
            for (i, m) in members.iter().enumerate() {
                indent(out, depth + 1);
                out.push_str(&quote(&m.key));
                out.push_str(": ");
                lay_out(&m.value, depth + 1, out);
                out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
            }
            indent(out, depth);
            out.push('}');
        }
    }
}

/// Decodes `%XX` escapes (RFC 3986, as the IAM API encodes documents); `+` stays `+`.
fn url_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    return Err(format!(
                        "`%` at character {i} is not followed by two hex digits"
                    ))
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded bytes are not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::url_decode;

    #[test]
    fn url_decoding() {
        assert_eq!(url_decode("%7B%22a%22%3A1%7D").unwrap(), "{\"a\":1}");
        assert_eq!(url_decode("a+b").unwrap(), "a+b");
        assert!(url_decode("%7").is_err());
        assert!(url_decode("%zz").is_err());
        assert!(url_decode("%FF").is_err());
        assert_eq!(url_decode("caf%C3%A9").unwrap(), "café");
    }
}
