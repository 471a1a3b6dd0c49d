//! The ways out of a boundary, each asked of the [`Solver`] as one class of requests per
//! action, over every action the data classifies (see [`super::classes`]).
//!
//! Reach: the principals a boundary's holder may create and manage are those under its
//! guard's path (where the guard lets it create only principals that carry the boundary),
//! those the project declares with the boundary, and the holder itself. The project's own
//! declarations are facts: a principal it declares under the path *without* the boundary is
//! outside reach.

use crate::diag::Code;
use crate::eval::pattern::wildcard;
use crate::iam::{self, PrincipalKind};

use super::classes::{self, Sensitive};
use super::lang::{self, Group, Lang, Names};
use super::solve::{Holder, KeySpace, Query, Solver, Witness};
use super::spec;
use super::{Attached, BoundaryInfo, Declared, Subject, World};

/// One open way out.
#[derive(Clone, Debug)]
pub struct Finding {
    pub code: Code,
    pub message: String,
    pub witness: Witness,
    /// Public catalogue entries the finding belongs to.
    pub catalogue: Vec<&'static str>,
    /// In an account: what the snapshot does not show that decides whether this escalates
    /// (`None`: it does for sure). See [`super::roles`].
    pub depends: Option<String>,
    /// In an account: the role (ARN) it escalates through, when that role is no administrator
    /// itself; the path goes on with that role's own findings.
    pub via: Option<String>,
}

impl Finding {
    /// A finding, with the catalogue entries its code and action belong to.
    pub fn new(code: Code, message: String, witness: Witness) -> Finding {
        Finding {
            catalogue: classes::catalogue_ids(code.as_str(), &witness.action),
            code,
            message,
            witness,
            depends: None,
            via: None,
        }
    }
}

/// The first request that gets out, as a finding.
fn found<I>(code: Code, message: String, tries: I) -> Option<Finding>
where
    I: IntoIterator<Item = Option<Witness>>,
{
    tries
        .into_iter()
        .flatten()
        .next()
        .map(|w| Finding::new(code, message, w))
}

pub struct Analysis<'a> {
    pub world: &'a World,
    pub subject: &'a Subject,
    pub holder: &'a Holder,
    pub identity: Vec<&'a iam::Policy>,
    settable_tags: Vec<String>,
    /// The services the identity side's allows may name, and the boundary's.
    services: [std::rc::Rc<Services>; 2],
    /// The actions the identity side's allows name, and the boundary's (`None`: no boundary).
    allows: (Allows, Option<std::rc::Rc<Allows>>),
    /// See [`super::solve::Shared::ids`].
    ids: std::cell::OnceCell<super::solve::Ids>,
    /// See [`super::solve::Shared::parts`].
    parts: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<super::solve::Part>>>,
}

/// What a boundary's allows name: its services and its actions.
pub(crate) type Side = (std::rc::Rc<Services>, std::rc::Rc<Allows>);

/// The actions a side's allows name (statements with no principal), for a quick look.
#[derive(Default)]
pub(crate) struct Allows {
    /// Action names without wildcards, in lower case.
    exact: std::collections::HashSet<String>,
    /// Action patterns with wildcards.
    wild: Vec<String>,
    /// `NotAction` lists: each allows every action it does not name.
    not: Vec<Vec<String>>,
}

impl Allows {
    fn of(policies: &[&iam::Policy]) -> Allows {
        let mut out = Allows::default();
        for p in policies {
            for s in &p.statements {
                if s.effect.value != iam::Effect::Allow || s.principal.is_some() {
                    continue;
                }
                let Some(b) = &s.action else { continue };
                if b.not {
                    out.not
                        .push(b.values.iter().map(|v| v.value.clone()).collect());
                    continue;
                }
                for v in &b.values {
                    if v.value.contains(['*', '?']) {
                        out.wild.push(v.value.clone());
                    } else {
                        out.exact.insert(v.value.to_ascii_lowercase());
                    }
                }
            }
        }
        out
    }

    fn names(&self, action: &str) -> bool {
        self.exact.contains(&action.to_ascii_lowercase())
            || self.wild.iter().any(|p| wildcard(p, action, true))
            || self
                .not
                .iter()
                .any(|values| !values.iter().any(|v| wildcard(v, action, true)))
    }
}

/// The services a policy's allows may name.
pub(crate) enum Services {
    /// Any service: `*`, `NotAction`, or no policy to limit it.
    All,
    /// Action patterns' service parts (lower case); `wild` when one has a wildcard.
    Named { parts: Vec<String>, wild: bool },
}

impl Services {
    /// The services of the actions a side's allows name.
    fn of(allows: &Allows) -> Services {
        if !allows.not.is_empty() || allows.wild.iter().any(|v| v == "*") {
            return Services::All;
        }
        let mut parts: Vec<String> = Vec::new();
        for v in allows.exact.iter().chain(&allows.wild) {
            let svc = v.split_once(':').map_or(v.as_str(), |(s, _)| s);
            let svc = svc.to_ascii_lowercase();
            if !parts.contains(&svc) {
                parts.push(svc);
            }
        }
        let wild = parts.iter().any(|p| p.contains(['*', '?']));
        Services::Named { parts, wild }
    }

    fn names(&self, prefix: &str) -> bool {
        match self {
            Services::All => true,
            Services::Named { parts, .. } => parts.iter().any(|p| wildcard(p, prefix, true)),
        }
    }
}

impl<'a> Analysis<'a> {
    pub fn new(
        world: &'a World,
        subject: &'a Subject,
        holder: &'a Holder,
        identity: Vec<&'a iam::Policy>,
    ) -> Analysis<'a> {
        let mut a = Analysis {
            world,
            subject,
            holder,
            identity,
            settable_tags: Vec::new(),
            services: [Services::All.into(), Services::All.into()],
            allows: (Allows::default(), None),
            ids: Default::default(),
            parts: Default::default(),
        };
        let side = a.boundary().map(|b| a.boundary_side(b));
        let identity = Allows::of(&a.identity);
        a.services = [
            Services::of(&identity).into(),
            side.clone().map_or_else(|| Services::All.into(), |s| s.0),
        ];
        a.allows = (identity, side.map(|s| s.1));
        // Which resources' tags it can set matters only to conditions on resource tags: most
        // principals test none, and the search is not cheap.
        let tests_tags = a
            .identity
            .iter()
            .copied()
            .chain(a.boundary().map(|b| &b.policy))
            .flat_map(|p| &p.statements)
            .flat_map(|s| &s.conditions)
            .any(|c| c.key.to_ascii_lowercase().contains("resourcetag/"));
        if tests_tags {
            a.settable_tags = a.tags_it_can_set();
        }
        a
    }

    /// What the boundary's allows name, made once per boundary for every holder.
    fn boundary_side(&self, b: &BoundaryInfo) -> Side {
        let mut cache = self.world.sides.borrow_mut();
        let known = cache.entry(b.arn.clone()).or_default();
        if let Some((_, side)) = known.iter().find(|(p, _)| *p == b.policy) {
            return side.clone();
        }
        let allows = Allows::of(&[&b.policy]);
        let side = (
            std::rc::Rc::new(Services::of(&allows)),
            std::rc::Rc::new(allows),
        );
        known.push((b.policy.clone(), side.clone()));
        side
    }

    fn boundary(&self) -> Option<&'a BoundaryInfo> {
        self.subject.boundary.as_ref()
    }

    /// Whether both sides have an allow that may name an action of the service, judged from
    /// the service part of their action patterns (no service data is read).
    pub(crate) fn names_service(&self, prefix: &str) -> bool {
        self.services.iter().all(|s| s.names(prefix))
    }

    /// Whether both sides have an allow that names the action (a cheap first look).
    pub(crate) fn could_allow(&self, action: &str) -> bool {
        self.allows.0.names(action) && self.allows.1.as_ref().is_none_or(|b| b.names(action))
    }

    fn solver(&self) -> Solver<'_> {
        Solver {
            holder: self.holder,
            identity: &self.identity,
            boundary: self.boundary().map(|b| &b.policy),
            settable_tags: &self.settable_tags,
            memo: Some(super::solve::Shared {
                answers: &self.world.solves,
                table: &self.world.table,
                ids: &self.ids,
                boundary_arn: self.boundary().map(|b| b.arn.as_str()),
                parts: &self.parts,
            }),
        }
    }

    fn arn(&self, kind: &str, rest: &str) -> String {
        format!(
            "arn:{}:iam::{}:{kind}/{rest}",
            self.world.partition, self.world.account
        )
    }

    /// The services the identity side may reach at all: actions of other services need no
    /// look.
    fn may_name(&self, action: &str) -> bool {
        let service = action.split(':').next().unwrap_or("");
        self.services[0].names(service)
    }

    pub(crate) fn solve(
        &self,
        action: &str,
        resource: Lang,
        keys: Vec<(String, KeySpace)>,
    ) -> Option<Witness> {
        if !self.may_name(action) {
            return None;
        }
        self.solver().solve(&Query {
            action: action.to_string(),
            resource,
            keys,
        })
    }

    /// Services whose resources it can tag: conditions on their resource tags are then its
    /// to meet (any key, any value: which keys it may set is not reasoned about yet).
    fn tags_it_can_set(&self) -> Vec<String> {
        let solver = Solver {
            holder: self.holder,
            identity: &self.identity,
            boundary: self.boundary().map(|b| &b.policy),
            settable_tags: &[],
            memo: None,
        };
        let mut out = Vec::new();
        // Where the identity side names its services outright, only those need a look.
        let prefixes: Vec<&str> = match &*self.services[0] {
            Services::Named { parts, wild: false } => crate::awsdb::service_prefixes()
                .filter(|p| parts.iter().any(|x| x == p))
                .collect(),
            _ => crate::awsdb::service_prefixes().collect(),
        };
        for prefix in prefixes {
            if !self.names_service(prefix) {
                continue;
            }
            let actions = tagging_actions_of(prefix);
            if actions.is_empty() {
                continue;
            }
            let can = actions.iter().any(|action| {
                solver.could_allow(action)
                    && solver
                        .solve(&Query {
                            action: action.clone(),
                            resource: Lang::any(),
                            keys: Vec::new(),
                        })
                        .is_some()
            });
            if can {
                out.push(prefix.to_string());
            }
        }
        out
    }

    // ----- reach ---------------------------------------------------------------------

    fn guard(&self) -> Option<&'a spec::GuardSpec> {
        self.boundary().and_then(|b| b.guard.as_ref())
    }

    /// ARN patterns of principals of a kind the guard creates (only with the boundary).
    fn reach_patterns(&self, kind: &str) -> Vec<String> {
        let Some(g) = self.guard() else {
            return Vec::new();
        };
        let creates = match kind {
            "user" => g.users,
            "role" => g.roles,
            // Groups under the path where it creates users: it manages their members.
            "group" => g.users,
            _ => false,
        };
        if creates {
            vec![format!(
                "arn:{}:iam::{}:{kind}{}*",
                self.world.partition, self.world.account, g.create_path
            )]
        } else {
            Vec::new()
        }
    }

    fn carries_boundary(&self, boundary: Option<&str>) -> bool {
        self.boundary()
            .is_some_and(|b| boundary == Some(b.arn.as_str()))
    }

    /// The principals of a kind outside its reach, as sets of ARNs.
    fn outside(&self, kind: &str) -> Vec<Lang> {
        let reach = self.reach_patterns(kind);
        let all = self.arn(kind, "*");
        // `#` is no IAM name's character: the guard's stand-in for a missing user name.
        let mut space = Lang::one_of(vec![lang::glob(&all, true)]).except(lang::glob("*#*", true));
        for r in &reach {
            space = space.except(lang::glob(r, true));
        }
        // The holder itself is left out; where reach or the kind leaves it out already, the
        // set is written without it, so that principals alike share their answers.
        let reach_globs: Vec<Vec<lang::Sym>> = reach.iter().map(|r| lang::glob(r, true)).collect();
        let all_glob = lang::glob(&all, true);
        let leave_out = |space: Lang, pattern: Vec<lang::Sym>| {
            if lang::apart(&pattern, &all_glob)
                || reach_globs.iter().any(|r| lang::covered(&pattern, r))
            {
                space
            } else {
                space.except(pattern)
            }
        };
        space = leave_out(space, lang::exact(&self.subject.arn));
        if let Some(me) = self.holder.facts.single("aws:principalarn") {
            space = leave_out(space, lang::exact(me));
        }
        // User names are unique whatever the path: every `user/…/NAME` is the holder.
        if kind == "user" && self.subject.kind == PrincipalKind::User {
            let name = self.subject.arn.rsplit('/').next().unwrap_or("");
            space = leave_out(space, lang::exact(&self.arn("user", name)));
            space = leave_out(
                space,
                lang::glob(
                    &format!("{}/*/{name}", self.arn("user", "").trim_end_matches('/')),
                    true,
                ),
            );
        }
        // What the project declares, per boundary and kind: computed once for every holder
        // and every principal with the boundary.
        let declared = self.declared(kind, &reach);
        let mut out = vec![space.except_names(&declared.excluded)];
        // Declared under the path without the boundary: one set of them all.
        if !declared.exceptions.is_empty() {
            let mut them = Lang::one_of_group(Group {
                patterns: Vec::new(),
                names: Some(declared.exceptions.clone()),
            });
            if declared.exceptions.contains(&self.subject.arn) {
                them = them.except(lang::exact(&self.subject.arn));
            }
            out.push(them);
        }
        out
    }

    /// The principals of a kind the project declares that reach alone does not settle: those
    /// with the boundary outside the path (excluded from "outside"), and those without it
    /// under the path (outside after all). Cached per boundary and kind in the world: it
    /// does not depend on the principal analysed, which is left out of "outside" on its own.
    fn declared(&self, kind: &str, reach: &[String]) -> std::rc::Rc<Declared> {
        let key = (
            self.boundary().map(|b| b.arn.clone()).unwrap_or_default(),
            kind.to_string(),
        );
        if let Some(found) = self.world.declared.borrow().get(&key) {
            return found.clone();
        }
        let mut excluded = Vec::new();
        let mut exceptions = Vec::new();
        if kind == "group" {
            for (group, members, _) in &self.world.groups {
                if members.iter().all(|m| self.within_world(m)) {
                    excluded.push(group.clone());
                } else if reach.iter().any(|r| wildcard(r, group, false)) {
                    exceptions.push(group.clone());
                }
            }
        } else {
            for (arn, k, boundary) in &self.world.principals {
                if k.as_str() != kind {
                    continue;
                }
                let in_reach = reach.iter().any(|r| wildcard(r, arn, false));
                if self.carries_boundary(boundary.as_deref()) {
                    // Under the path it is excluded already.
                    if !in_reach {
                        excluded.push(arn.clone());
                    }
                } else if in_reach {
                    exceptions.push(arn.clone());
                }
            }
        }
        let found = std::rc::Rc::new(Declared {
            excluded: Names::new(excluded),
            exceptions: Names::new(exceptions),
        });
        self.world.declared.borrow_mut().insert(key, found.clone());
        found
    }

    /// Whether a principal is within reach: itself, one the project declares with the
    /// boundary, or one under the guard's path that the project does not declare without it.
    fn within(&self, arn: &str) -> bool {
        arn == self.subject.arn || self.within_world(arn)
    }

    /// [`Analysis::within`] but for the principal analysed, which counts as any other: what
    /// holds for every principal with the boundary.
    fn within_world(&self, arn: &str) -> bool {
        if let Some(&i) = self.world.index().get(arn) {
            return self.carries_boundary(self.world.principals[i].2.as_deref());
        }
        let kind = arn
            .split(':')
            .nth(5)
            .and_then(|r| r.split('/').next())
            .unwrap_or("");
        self.reach_patterns(kind)
            .iter()
            .any(|r| wildcard(r, arn, false))
    }

    /// Policy ARNs that exist or that it can create: AWS managed ones, the project's, and any
    /// in the account if it may create policies.
    fn policies(&self) -> Group {
        let mut patterns = vec![lang::glob(
            &format!("arn:{}:iam::aws:policy/*", self.world.partition),
            true,
        )];
        let account_policies = self.arn("policy", "*");
        if self
            .solve(
                "iam:CreatePolicy",
                Lang::one_of(vec![lang::glob(&account_policies, true)]),
                Vec::new(),
            )
            .is_some()
        {
            patterns.push(lang::glob(&account_policies, true));
        }
        let names = self.world.policy_names.get_or_init(|| {
            Names::new(
                self.world
                    .attachments
                    .iter()
                    .map(|(p, _)| p.clone())
                    .chain(self.world.boundaries.iter().cloned()),
            )
        });
        Group {
            patterns,
            names: Some(names.clone()),
        }
    }

    /// Managed policies whose removal may give power, as values of `iam:PolicyARN`: any
    /// customer managed policy (its document may hold a `Deny`), and the AWS managed
    /// policies that hold one.
    fn removable_denies(&self) -> Lang {
        let names = self.world.deny_policies.get_or_init(|| {
            let partition = format!("arn:{}:", self.world.partition);
            Names::new(
                crate::awsdb::managed_policies()
                    .filter(|p| p.document.contains("Deny"))
                    .map(|p| p.arn.replacen("arn:aws:", &partition, 1)),
            )
        });
        Lang::one_of_group(Group {
            patterns: vec![lang::glob(&self.arn("policy", "*"), true)],
            names: Some(names.clone()),
        })
    }

    /// Another boundary, tried first with AdministratorAccess (the plainest witness).
    fn solve_other_boundary(&self, action: &str, space: Lang) -> Option<Witness> {
        let admin = format!(
            "arn:{}:iam::aws:policy/AdministratorAccess",
            self.world.partition
        );
        self.solve(
            action,
            space.clone(),
            vec![(
                Self::pb(),
                KeySpace::In(Lang::one_of(vec![lang::exact(&admin)])),
            )],
        )
        .or_else(|| {
            self.solve(
                action,
                space,
                vec![(Self::pb(), KeySpace::In(self.other_boundaries()))],
            )
        })
    }

    fn other_boundaries(&self) -> Lang {
        let mut l = Lang::one_of_group(self.policies());
        if let Some(b) = self.boundary() {
            l = l.except(lang::exact(&b.arn));
        }
        l
    }

    // ----- the vectors -----------------------------------------------------------------

    fn pb() -> String {
        "iam:permissionsboundary".to_string()
    }

    /// Every way out, with this holder and its policies.
    pub fn vectors(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        // W0601: create a principal with no boundary, or another one.
        for kind in ["user", "role"] {
            let create = if kind == "user" {
                "iam:CreateUser"
            } else {
                "iam:CreateRole"
            };
            let all = Lang::one_of(vec![lang::glob(&self.arn(kind, "*"), true)]);
            out.extend(found(
                Code::GuardCreateUnbounded,
                format!("can create a {kind} with no permissions boundary"),
                [self.solve(create, all.clone(), vec![(Self::pb(), KeySpace::Absent)])],
            ));
            if !out.iter().any(|f: &Finding| {
                f.witness.action == create && f.code == Code::GuardCreateUnbounded
            }) {
                out.extend(found(
                    Code::GuardCreateUnbounded,
                    format!("can create a {kind} with another permissions boundary"),
                    [self.solve_other_boundary(create, all)],
                ));
            }
        }
        // W0602: put another boundary on a principal, or remove one.
        for kind in ["user", "role"] {
            let (put, delete) = if kind == "user" {
                (
                    "iam:PutUserPermissionsBoundary",
                    "iam:DeleteUserPermissionsBoundary",
                )
            } else {
                (
                    "iam:PutRolePermissionsBoundary",
                    "iam:DeleteRolePermissionsBoundary",
                )
            };
            let all = Lang::one_of(vec![lang::glob(&self.arn(kind, "*"), true)]);
            let changed = found(
                Code::GuardChangeBoundary,
                format!("can put another permissions boundary on a {kind}"),
                [self.solve_other_boundary(put, all.clone())],
            )
            .or_else(|| {
                found(
                    Code::GuardChangeBoundary,
                    format!("can remove the permissions boundary of a {kind}"),
                    [self.solve(delete, all, Vec::new())],
                )
            });
            out.extend(changed);
        }
        // W0603: edit the boundary policy (an AWS managed one no one can edit).
        if let Some(b) = self
            .boundary()
            .filter(|b| b.arn.split(':').nth(4) != Some("aws"))
        {
            let it = Lang::one_of(vec![lang::exact(&b.arn)]);
            out.extend(found(
                Code::GuardEditBoundary,
                "can edit its own permissions boundary policy".into(),
                spec::POLICY_EDITS
                    .iter()
                    .map(|a| self.solve(a, it.clone(), Vec::new())),
            ));
        }
        // W0606: change principals outside its reach, or identity providers.
        out.extend(self.outside_reach());
        // W0605 and W0607: pass a role outside its reach.
        let outside_roles = self.outside("role");
        let pass = found(
            Code::GuardPassUnbounded,
            "can pass a role the analysis cannot show to be bounded".into(),
            outside_roles
                .iter()
                .map(|space| self.solve("iam:PassRole", space.clone(), Vec::new())),
        );
        if let Some(pass) = pass {
            out.push(pass);
            // A service that runs code or makes calls as the role passed to it, and that it
            // may pass such a role to.
            for taker in &classes::escalations().pass_takers {
                let service_prefix = taker.action.split(':').next().unwrap_or("");
                if !classes::escalations()
                    .runners
                    .iter()
                    .any(|r| r.service == service_prefix)
                {
                    continue;
                }
                let to = KeySpace::In(Lang::one_of(vec![lang::exact(&taker.service)]));
                let passes = outside_roles.iter().any(|space| {
                    self.solve(
                        "iam:PassRole",
                        space.clone(),
                        vec![("iam:passedtoservice".into(), to.clone())],
                    )
                    .is_some()
                });
                if !passes {
                    continue;
                }
                if let Some(w) = self.solve(&taker.action, Lang::any(), Vec::new()) {
                    let service = taker.service.split('.').next().unwrap_or(&taker.service);
                    out.push(Finding::new(
                        Code::GuardPassAndRun,
                        format!("can run code as such a role, through {service}"),
                        w,
                    ));
                    break;
                }
            }
        }
        // W0608: edit managed policies attached outside its reach.
        out.extend(self.policies_elsewhere());
        // W0609: run code as other principals through a resource's role.
        out.extend(self.run_as_others());
        // W0612: grant itself, through a resource-based policy, what the boundary does not.
        out.extend(self.resource_policy_grant());
        // W0610: assume roles outside its reach.
        // Roles of other accounts too: assuming them leaves the boundary as well.
        let mut assumable = outside_roles.clone();
        assumable.push(
            Lang::one_of(vec![lang::glob(
                &format!("arn:{}:iam::*:role/*", self.world.partition),
                true,
            )])
            .except(lang::glob(
                &format!("arn:{}:iam::{}:*", self.world.partition, self.world.account),
                true,
            )),
        );
        out.extend(found(
            Code::GuardAssumeOutside,
            "can assume roles outside its reach".into(),
            assumable
                .iter()
                .map(|space| self.solve("sts:AssumeRole", space.clone(), Vec::new())),
        ));
        out
    }

    fn outside_reach(&self) -> Option<Finding> {
        let mut outside: std::collections::HashMap<&str, Vec<Lang>> = Default::default();
        self.changes(
            "can change the permissions or credentials of principals outside its reach",
            &mut |kind, action| {
                if action == "iam:AddUserToGroup" {
                    // Adding a user to a group is authorized on the group alone: the user may
                    // be anyone outside reach, so every group that may carry power counts.
                    return self.powerful_groups();
                }
                outside
                    .entry(kind)
                    .or_insert_with(|| self.outside(kind))
                    .clone()
            },
        )
    }

    /// A change (W0606) to the principals `within` gives, by kind and action, as sets of
    /// ARNs; then changes to identity providers. Creating principals and changing
    /// boundaries are not among them: they are W0601 and W0602.
    pub(crate) fn changes(
        &self,
        message: &str,
        within: &mut dyn FnMut(&'static str, &str) -> Vec<Lang>,
    ) -> Option<Finding> {
        let message = message.to_string();
        for kind in ["user", "role", "group"] {
            for s in classes::iam_writes_on(&[kind]) {
                if !self.could_allow(&s.action) {
                    continue;
                }
                // Creating principals and changing boundaries are W0601 and W0602.
                // Removing a policy counts: it may hold a `Deny`. Tags count: conditions on
                // `aws:PrincipalTag` anywhere may grant by them.
                if harmless(&s.action)
                    || matches!(
                        s.action.as_str(),
                        "iam:CreateUser" | "iam:CreateRole" | "iam:PassRole"
                    )
                    || s.action.ends_with("PermissionsBoundary")
                {
                    continue;
                }
                let spaces: Vec<Lang> = if s.action == "iam:AddUserToGroup"
                    || s.resources.iter().any(|(_, r, _)| *r == kind)
                {
                    within(kind, &s.action)
                } else {
                    continue;
                };
                let keys = if takes_boundary_key(s) {
                    // An outside principal carries no boundary, or another one.
                    vec![(Self::pb(), KeySpace::AbsentOr(self.other_boundaries()))]
                } else {
                    Vec::new()
                };
                for space in spaces {
                    let Some(mut w) = self.solve_attaching(&s.action, space.clone(), keys.clone())
                    else {
                        continue;
                    };
                    // Detaching a managed policy gives power only if it holds a `Deny`.
                    if s.action.starts_with("iam:Detach") {
                        let mut keys = keys.clone();
                        keys.push((
                            "iam:policyarn".into(),
                            KeySpace::In(self.removable_denies()),
                        ));
                        match self.solve(&s.action, space, keys) {
                            Some(found) => w = found,
                            None => continue,
                        }
                    }
                    return Some(Finding::new(Code::GuardOutsideReach, message.clone(), w));
                }
            }
        }
        for s in classes::iam_writes_on(&["saml-provider", "oidc-provider"]) {
            if let Some(w) = self.solve(&s.action, Lang::any(), Vec::new()) {
                return Some(Finding::new(
                    Code::GuardOutsideReach,
                    "can change identity providers, and so become any role that trusts them".into(),
                    w,
                ));
            }
        }
        None
    }

    /// [`Analysis::solve`] for an action that may attach a managed policy: attaching an AWS
    /// managed policy that only reads gives nothing to escalate with, so such witnesses are
    /// set aside and the question asked again.
    fn solve_attaching(
        &self,
        action: &str,
        space: Lang,
        mut keys: Vec<(String, KeySpace)>,
    ) -> Option<Witness> {
        if !action.contains("Attach") {
            return self.solve(action, space, keys);
        }
        // AdministratorAccess first: the plainest witness.
        let admin = format!(
            "arn:{}:iam::aws:policy/AdministratorAccess",
            self.world.partition
        );
        let mut first = keys.clone();
        first.retain(|(k, _)| k != "iam:policyarn");
        first.push((
            "iam:policyarn".into(),
            KeySpace::In(Lang::one_of(vec![lang::exact(&admin)])),
        ));
        if let Some(w) = self.solve(action, space.clone(), first) {
            return Some(w);
        }
        let mut policies = Lang::one_of_group(self.policies()).except(lang::exact(&admin));
        for _ in 0..16 {
            keys.retain(|(k, _)| k != "iam:policyarn");
            keys.push(("iam:policyarn".into(), KeySpace::In(policies.clone())));
            let w = self.solve(action, space.clone(), keys.clone())?;
            let attached = w
                .context
                .iter()
                .find(|(k, _)| k == "iam:policyarn")
                .and_then(|(_, v)| v.clone());
            match attached {
                Some(arn) if classes::read_only_managed(&arn) => {
                    policies = policies.except(lang::exact(&arn));
                }
                _ => return Some(w),
            }
        }
        None
    }

    /// Groups whose members gain something: groups outside reach (undeclared ones may hold
    /// anything), the project's groups with policies, and groups it may give policies to.
    fn powerful_groups(&self) -> Vec<Lang> {
        let mut out = self.outside("group");
        let with_policies = self.world.groups_with_policies.get_or_init(|| {
            Names::new(
                self.world
                    .groups
                    .iter()
                    .filter(|(_, _, has_policies)| *has_policies)
                    .map(|(g, _, _)| g.clone()),
            )
        });
        if !with_policies.is_empty() {
            out.push(Lang::one_of_group(Group {
                patterns: Vec::new(),
                names: Some(with_policies.clone()),
            }));
        }
        let all = Lang::one_of(vec![lang::glob(&self.arn("group", "*"), true)]);
        for a in ["iam:AttachGroupPolicy", "iam:PutGroupPolicy"] {
            if let Some(w) = self.solve(a, all.clone(), Vec::new()) {
                if let Some(r) = w.resource {
                    // Any group it may change counts (the witness is one of them).
                    out.push(Lang::one_of(vec![lang::exact(&r)]));
                }
                out.push(all.clone());
                break;
            }
        }
        out
    }

    fn policies_elsewhere(&self) -> Option<Finding> {
        let edits = ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"];
        if !edits.iter().any(|a| self.could_allow(a)) {
            return None;
        }
        let mut space = Lang::one_of(vec![lang::glob(&self.arn("policy", "*"), true)]);
        if let Some(path) = self
            .guard()
            .and_then(|g| g.manage_path.as_deref())
            .filter(|p| *p != "/")
        {
            space = space.except(lang::glob(
                &format!(
                    "arn:{}:iam::{}:policy{path}*",
                    self.world.partition, self.world.account
                ),
                true,
            ));
        }
        if let Some(b) = self.boundary() {
            space = space.except(lang::exact(&b.arn));
        }
        for own in &self.subject.own_policies {
            space = space.except(lang::exact(own));
        }
        let attached = self.attached();
        let mut elsewhere = Lang::one_of_group(Group {
            patterns: Vec::new(),
            names: Some(attached.elsewhere.clone()),
        });
        for own in &self.subject.own_policies {
            elsewhere = elsewhere.except(lang::exact(own));
        }
        let spaces = [space.except_names(&attached.within), elsewhere];
        // In an account, making another version the default gives power only where a version
        // allows more than the default.
        let versions = |a: &str, space: &Lang| match (&self.world.known, a) {
            (Some(known), "iam:SetDefaultPolicyVersion") => space.clone().and_group(Group {
                patterns: Vec::new(),
                names: Some(known.stronger_names.clone()),
            }),
            _ => space.clone(),
        };
        found(
            Code::GuardEditPoliciesElsewhere,
            "can edit managed policies attached to principals outside its reach".into(),
            spaces.iter().flat_map(|space| {
                edits
                    .into_iter()
                    .map(|a| self.solve(a, versions(a, space), Vec::new()))
            }),
        )
    }

    /// The customer managed policies attached only within reach, and the others. Computed
    /// once per boundary; the principal analysed counts as within reach, so where that is
    /// not already so for every principal with the boundary, it is computed for this one.
    fn attached(&self) -> std::rc::Rc<Attached> {
        let split = |within: &dyn Fn(&str) -> bool| {
            let (mut inside, mut outside) = (Vec::new(), Vec::new());
            for (policy, holders) in &self.world.attachments {
                match holders {
                    Some(h) if h.iter().all(|h| within(h)) => inside.push(policy.clone()),
                    _ => outside.push(policy.clone()),
                }
            }
            std::rc::Rc::new(Attached {
                within: Names::new(inside),
                elsewhere: Names::new(outside),
            })
        };
        if !self.within_world(&self.subject.arn) {
            return split(&|h| self.within(h));
        }
        let key = self.boundary().map(|b| b.arn.clone()).unwrap_or_default();
        if let Some(found) = self.world.attached.borrow().get(&key) {
            return found.clone();
        }
        let found = split(&|h| self.within_world(h));
        self.world.attached.borrow_mut().insert(key, found.clone());
        found
    }

    /// W0612: within its account, a resource-based policy (or a KMS grant) that names a user
    /// or a role session grants it what it says whatever the permissions boundary says. A
    /// holder that may write one on a resource of the account can grant itself there what its
    /// boundary does not allow (and no deny takes away).
    fn resource_policy_grant(&self) -> Option<Finding> {
        let boundary = &self.boundary()?.policy;
        let allow_all = spec::allow_all();
        for writer in &classes::escalations().resource_policy_writers {
            let (prefix, _) = writer.action.split_once(':')?;
            if !self.names_service(prefix) || !self.could_allow(&writer.action) {
                continue;
            }
            let Some((service, action)) = crate::awsdb::action_by_full_name(&writer.action) else {
                continue;
            };
            for t in &action.resource_types {
                let [own, _] = classes::resource_spaces(
                    prefix,
                    t.name,
                    &self.world.partition,
                    &self.world.account,
                );
                let Some(w) = self.solve(&writer.action, own, Vec::new()) else {
                    continue;
                };
                let Some(resource) = w.resource.clone() else {
                    continue;
                };
                let one = || Lang::one_of(vec![lang::exact(&resource)]);
                let ask = |identity: &[&iam::Policy], action: &str| {
                    Solver {
                        holder: self.holder,
                        identity,
                        boundary: None,
                        settable_tags: &[],
                        memo: None,
                    }
                    .solve(&Query {
                        action: action.to_string(),
                        resource: one(),
                        keys: Vec::new(),
                    })
                    .is_some()
                };
                let mut denies: Vec<&iam::Policy> = vec![&allow_all, boundary];
                denies.extend(self.identity.iter().copied());
                // An action on that kind of resource the boundary never allows there, and no
                // deny forbids.
                // Writes first, then permissions management, reads, lists and tags: the
                // plainest example of what it gains.
                // (Creating the resource is no use: it is there already.)
                let rank = |a: &crate::awsdb::Action| match a.primary_access_level() {
                    crate::awsdb::AccessLevel::Write if !a.name.starts_with("Create") => 0,
                    crate::awsdb::AccessLevel::PermissionsManagement => 1,
                    crate::awsdb::AccessLevel::Read => 2,
                    crate::awsdb::AccessLevel::List => 3,
                    _ => 4,
                };
                let mut candidates: Vec<&crate::awsdb::Action> = service
                    .actions
                    .iter()
                    .filter(|a| a.resource_type(t.name).is_some())
                    .filter(|a| {
                        writer.grants.is_empty()
                            || writer
                                .grants
                                .iter()
                                .any(|g| g.eq_ignore_ascii_case(&format!("{prefix}:{}", a.name)))
                    })
                    .collect();
                candidates.sort_by_key(|a| rank(a));
                let gained = candidates.into_iter().find_map(|a| {
                    let full = format!("{prefix}:{}", a.name);
                    (full != writer.action && !ask(&[boundary], &full) && ask(&denies, &full))
                        .then_some(full)
                });
                if let Some(gained) = gained {
                    return Some(Finding::new(
                        Code::GuardResourcePolicyGrant,
                        format!(
                            "can grant itself `{gained}` on `{resource}` through {} (`{}`), which its permissions boundary does not limit",
                            if writer.action.ends_with("Grant") {
                                "a grant"
                            } else {
                                "the resource's policy"
                            },
                            writer.action
                        ),
                        w,
                    ));
                }
            }
        }
        None
    }

    fn run_as_others(&self) -> Option<Finding> {
        let runners = classes::escalations()
            .runners
            .iter()
            .filter(|r| self.names_service(&r.service))
            .flat_map(|r| classes::running_actions_of(r).iter());
        for (s, runner) in runners {
            if !self.could_allow(&s.action) {
                continue;
            }
            // The request must be allowed on every resource type the action requires, and
            // on one of the runner's types it involves (the resource whose role runs).
            let mut witness: Option<Witness> = None;
            let mut all = true;
            let mut runner_types = 0;
            let mut runner_witness: Option<Witness> = None;
            for (service, rtype, required) in &s.resources {
                let is_runner = runner.resource_types.iter().any(|t| t == rtype);
                if !is_runner && !required {
                    continue;
                }
                if is_runner {
                    runner_types += 1;
                    if runner_witness.is_some() && !required {
                        continue;
                    }
                }
                let found = classes::resource_spaces(
                    service,
                    rtype,
                    &self.world.partition,
                    &self.world.account,
                )
                .into_iter()
                .find_map(|space| self.solve(&s.action, space, Vec::new()));
                match found {
                    Some(w) => {
                        if is_runner {
                            runner_witness.get_or_insert(w);
                        } else {
                            witness.get_or_insert(w);
                        }
                    }
                    None if *required => {
                        all = false;
                        break;
                    }
                    None => {}
                }
            }
            if runner_types > 0 && runner_witness.is_none() {
                all = false;
            }
            let mut witness = runner_witness.or(witness);
            if s.resources.is_empty() {
                witness = self.solve(&s.action, Lang::any(), Vec::new());
                all = witness.is_some();
            }
            if let (true, Some(w)) = (all, witness) {
                return Some(Finding::new(
                    Code::GuardRunAsOthers,
                    format!(
                        "can run code as other principals ({} runs as {})",
                        s.action, runner.runs_as
                    ),
                    w,
                ));
            }
        }
        None
    }

    /// Whether the holder, a user, may tag itself.
    pub fn can_tag_itself(&self) -> bool {
        let me = Lang::one_of(vec![lang::exact(&self.subject.arn)]);
        self.solve("iam:TagUser", me, Vec::new()).is_some()
    }

    /// Whether the holder can change its own permissions; with which request.
    pub fn self_edit(&self) -> Option<Witness> {
        let kind = match self.subject.kind {
            PrincipalKind::Role => "role",
            _ => "user",
        };
        let me = Lang::one_of(vec![lang::exact(&self.subject.arn)]);
        let carried = match self.boundary() {
            Some(b) => KeySpace::In(Lang::one_of(vec![lang::exact(&b.arn)])),
            None => KeySpace::Absent,
        };
        let mut tries = Vec::new();
        for s in classes::iam_writes_on(&[kind]) {
            let name = s.action.as_str();
            let edits = name.contains("Policy") && !name.contains("PermissionsBoundary");
            if !edits && name != "iam:AddUserToGroup" {
                continue;
            }
            let space = if name == "iam:AddUserToGroup" {
                Lang::one_of(vec![lang::glob(&self.arn("group", "*"), true)])
            } else {
                me.clone()
            };
            let keys = if takes_boundary_key(s) {
                vec![(Self::pb(), carried.clone())]
            } else {
                Vec::new()
            };
            tries.push((s.action.clone(), space, keys));
        }
        for policy in &self.subject.own_policies {
            for a in ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"] {
                // In an account, only a version that allows more than the default gives power.
                if a == "iam:SetDefaultPolicyVersion"
                    && self
                        .world
                        .known
                        .as_ref()
                        .is_some_and(|k| !k.stronger_versions.contains_key(policy))
                {
                    continue;
                }
                tries.push((
                    a.to_string(),
                    Lang::one_of(vec![lang::exact(policy)]),
                    Vec::new(),
                ));
            }
        }
        tries
            .into_iter()
            .find_map(|(a, space, keys)| self.solve(&a, space, keys))
    }
}

fn takes_boundary_key(s: &Sensitive) -> bool {
    // Read from the data once.
    static TAKING: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    let taking = TAKING.get_or_init(|| {
        crate::awsdb::service("iam")
            .map(|iam| {
                iam.actions
                    .iter()
                    .filter(|a| a.has_condition_key("iam:PermissionsBoundary"))
                    .map(|a| format!("iam:{}", a.name).to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default()
    });
    taking.contains(&s.action.to_ascii_lowercase())
}

/// IAM writes on a principal that take power away and give none: deleting it or its
/// credentials. (Deleting a policy is not here: an inline deny removed is power given.)
pub fn harmless(action: &str) -> bool {
    matches!(
        action,
        "iam:DeleteUser"
            | "iam:DeleteRole"
            | "iam:DeleteGroup"
            | "iam:DeleteAccessKey"
            | "iam:DeleteLoginProfile"
            | "iam:DeleteSSHPublicKey"
            | "iam:DeleteSigningCertificate"
            | "iam:DeleteServiceSpecificCredential"
            | "iam:DeactivateMFADevice"
            | "iam:DeleteServiceLinkedRole"
            | "iam:CreateServiceLinkedRole"
            | "iam:GetServiceLinkedRoleDeletionStatus"
    )
}

/// Actions that put tags on the resources of one service.
fn tagging_actions_of(prefix: &str) -> Vec<String> {
    let Some(service) = crate::awsdb::service(prefix) else {
        return Vec::new();
    };
    service
        .actions
        .iter()
        .filter(|a| {
            a.access_levels.first() == Some(&crate::awsdb::AccessLevel::Tagging)
                && (a.name.starts_with("Tag")
                    || a.name.starts_with("Create")
                    || a.name.starts_with("Add"))
        })
        .map(|a| format!("{prefix}:{}", a.name))
        .collect()
}
