//! Names, params, `let` values and templates.
//!
//! [`resolve`] builds a [`Scope`]: every declared name (one namespace per project), duplicate
//! and `--var` checks. The scope then answers the questions lowering asks: what a name holds,
//! what a string's `{template}`s expand to, what an entity's ARN is. Values are computed on first
//! use and remembered; a `let` that refers to itself is reported once.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;

use crate::ast::*;
use crate::awsdb;
use crate::diag::{self, Code, Diagnostic};
use crate::source::Span;

/// The most items a value may expand to: a list, or the actions of a `let` or statement.
/// No IAM policy holds that many (the largest quota is 10,240 characters), and `let`s that
/// splice each other in twice (`let b = [a, a]`) would otherwise double at every line.
pub const MAX_VALUES: usize = 10_000;

/// The most bytes `{templates}` may splice into one string: ten times the largest IAM policy.
pub const MAX_TEMPLATE_BYTES: usize = 100_000;

/// How many `let`s (and params and settings, through templates) a value may go through before
/// its own: far more than any project needs, few enough that resolution cannot overflow the
/// stack.
pub const MAX_LET_DEPTH: usize = 100;

/// Compile options that name values: `--var NAME=VALUE`.
#[derive(Clone, Debug, Default)]
pub struct Vars(pub IndexMap<String, String>);

/// A declaration in the project's one namespace.
#[derive(Clone, Copy, Debug)]
pub enum Decl<'a> {
    Global(&'a GlobalSetting),
    Param(&'a Param),
    Let(&'a Let),
    Policy(&'a PolicyItem),
    Principal(&'a PrincipalItem),
}

impl<'a> Decl<'a> {
    pub fn name_span(&self) -> Span {
        match self {
            Decl::Global(g) => g.span,
            Decl::Param(p) => p.name.span,
            Decl::Let(l) => l.name.span,
            Decl::Policy(p) => p.name.span,
            Decl::Principal(p) => p.name.span,
        }
    }

    /// "a role", "a boundary", "a `let`", … for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Decl::Global(g) => match g.kind {
                GlobalKind::Account => "the account",
                GlobalKind::Partition => "the partition",
                GlobalKind::Region => "the region",
            },
            Decl::Param(_) => "a param",
            Decl::Let(_) => "a `let`",
            Decl::Policy(p) => match p.kind {
                PolicyKind::Managed => "a policy",
                PolicyKind::Boundary => "a boundary",
            },
            Decl::Principal(p) => match p.kind {
                PrincipalKind::Role => "a role",
                PrincipalKind::User => "a user",
                PrincipalKind::Group => "a group",
            },
        }
    }

    fn is_value(&self) -> bool {
        matches!(self, Decl::Global(_) | Decl::Param(_) | Decl::Let(_))
    }
}

/// A computed value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Num(String),
    Bool(bool),
    /// The ARN of a declared entity (`role X`, `boundary B`, …).
    Arn(String),
    List(Vec<(Val, Span)>),
    Actions(Vec<(String, Span)>),
}

impl Val {
    pub fn describe(&self) -> &'static str {
        match self {
            Val::Str(_) => "a string",
            Val::Num(_) => "a number",
            Val::Bool(_) => "a boolean",
            Val::Arn(_) => "an ARN",
            Val::List(_) => "a list",
            Val::Actions(_) => "actions",
        }
    }

    /// The text of a scalar value.
    pub fn text(&self) -> Option<String> {
        match self {
            Val::Str(s) | Val::Num(s) | Val::Arn(s) => Some(s.clone()),
            Val::Bool(b) => Some(b.to_string()),
            Val::List(_) | Val::Actions(_) => None,
        }
    }
}

/// The names of a project and what they hold.
pub struct Scope<'a> {
    /// Values: the settings, params and `let`s. Their names are iamx's own, exact in case.
    decls: IndexMap<String, Decl<'a>>,
    /// Entities: policies, boundaries and principals. Their names are IAM names, which ignore
    /// case. A value and an entity may share a name: where each is used says which is meant.
    entities: IndexMap<String, Decl<'a>>,
    vars: &'a Vars,
    memo: RefCell<HashMap<String, Option<Val>>>,
    stack: RefCell<Vec<(String, Span)>>,
    used: RefCell<HashSet<String>>,
    reported_no_account: RefCell<bool>,
    /// A chain of `let`s went deeper than [`MAX_LET_DEPTH`]: the lets under the cut were never
    /// reached, so unused-`let` warnings would be noise.
    too_deep: RefCell<bool>,
    diagnostics: RefCell<Vec<Diagnostic>>,
}

/// The names a `let` splices in: `let b = [a, a]` → `a`, `a`.
fn let_parts(l: &Let) -> Vec<&Ident> {
    match &l.value {
        LetValue::Value(Value::Name(n)) => vec![n],
        LetValue::Value(_) => Vec::new(),
        LetValue::List(list) => list
            .items
            .iter()
            .filter_map(|v| match v {
                Value::Name(n) => Some(n),
                _ => None,
            })
            .collect(),
        LetValue::Actions(items) => items
            .iter()
            .filter_map(|i| match i {
                ActionItem::Name(n) => Some(n),
                _ => None,
            })
            .collect(),
    }
}

/// Builds the scope of a project: declarations, duplicates, `--var`s.
pub fn resolve<'a>(modules: &'a [Module], vars: &'a Vars) -> Scope<'a> {
    let mut scope = Scope {
        decls: IndexMap::new(),
        entities: IndexMap::new(),
        vars,
        memo: RefCell::default(),
        stack: RefCell::default(),
        used: RefCell::default(),
        reported_no_account: RefCell::new(false),
        too_deep: RefCell::new(false),
        diagnostics: RefCell::default(),
    };
    let mut by_lower: HashMap<String, Decl<'a>> = HashMap::new();
    for module in modules {
        for item in &module.items {
            let (name, decl) = match item {
                // Named apart: a resource policy is no IAM entity (see `lower`).
                Item::Test(_) | Item::ResourcePolicy(_) => continue,
                Item::Setting(g) => (g.kind.keyword().to_string(), Decl::Global(g)),
                Item::Param(p) => (p.name.name.clone(), Decl::Param(p)),
                Item::Let(l) => (l.name.name.clone(), Decl::Let(l)),
                Item::Policy(p) => (p.name.name.clone(), Decl::Policy(p)),
                Item::Principal(p) => (p.name.name.clone(), Decl::Principal(p)),
            };
            let first = if decl.is_value() {
                scope.decls.get(&name).copied()
            } else {
                by_lower.get(&name.to_ascii_lowercase()).copied()
            };
            if let Some(first) = first {
                let (message, help) = match (first, decl) {
                    (Decl::Global(_), Decl::Global(_)) => (
                        format!("`{name}` is set twice"),
                        format!("keep one `{name}`"),
                    ),
                    _ if first_name(&first).eq(&name) => (
                        format!("`{name}` is declared twice"),
                        "every name of its kind is unique in a project; rename one of them"
                            .to_string(),
                    ),
                    _ => (
                        format!(
                            "`{name}` is declared twice (IAM names ignore case: `{}` is taken)",
                            first_name(&first)
                        ),
                        "every name of its kind is unique in a project; rename one of them"
                            .to_string(),
                    ),
                };
                scope.push(
                    Diagnostic::new(Code::DuplicateName, message)
                        .at(decl.name_span(), "declared again here")
                        .with_label(first.name_span(), "first declared here")
                        .help(help),
                );
                continue;
            }
            if decl.is_value() {
                scope.decls.insert(name, decl);
            } else {
                by_lower.insert(name.to_ascii_lowercase(), decl);
                scope.entities.insert(name, decl);
            }
        }
    }
    for (name, _) in &vars.0 {
        match scope.decls.get(name) {
            Some(Decl::Param(_)) => {}
            Some(other) => {
                scope.push(
                    Diagnostic::new(
                        Code::UnknownVar,
                        format!("`--var {name}=…` names {}, not a param", other.describe()),
                    )
                    .at(other.name_span(), "declared here, not as a param")
                    .help(format!(
                        "only params take values from `--var`; declare it as `param {name} = …`"
                    )),
                );
            }
            None => {
                let params = scope.decls.iter().filter_map(|(n, d)| match d {
                    Decl::Param(_) => Some(n.as_str()),
                    _ => None,
                });
                let params: Vec<&str> = params.collect();
                let help = diag::did_you_mean(diag::suggest(name, params.iter().copied()))
                    .unwrap_or_else(|| match params.as_slice() {
                        [] => format!("the project declares no params; declare it: `param {name}`"),
                        _ => format!(
                            "the project's params are {}",
                            params
                                .iter()
                                .map(|p| format!("`{p}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                scope.push(
                    Diagnostic::new(
                        Code::UnknownVar,
                        format!("`--var {name}=…` names no param of the project"),
                    )
                    .help(help),
                );
            }
        }
    }
    for decl in scope.decls.values() {
        if let Decl::Param(p) = decl {
            if p.default.is_none() && !vars.0.contains_key(&p.name.name) {
                scope.push(
                    Diagnostic::new(
                        Code::MissingParam,
                        format!("param `{}` has no value", p.name.name),
                    )
                    .at(p.name.span, "declared here without a default")
                    .help(format!(
                        "pass `--var {}=VALUE`, or give it a default: `param {} = \"…\"`",
                        p.name.name, p.name.name
                    )),
                );
            }
        }
    }
    scope
}

fn first_name(decl: &Decl) -> String {
    match decl {
        Decl::Global(g) => g.kind.keyword().to_string(),
        Decl::Param(p) => p.name.name.clone(),
        Decl::Let(l) => l.name.name.clone(),
        Decl::Policy(p) => p.name.name.clone(),
        Decl::Principal(p) => p.name.name.clone(),
    }
}

impl<'a> Scope<'a> {
    pub fn push(&self, diagnostic: Diagnostic) {
        self.diagnostics.borrow_mut().push(diagnostic);
    }

    /// The diagnostics found so far, with the unused-`let` warnings added. Call once, at the end.
    pub fn finish(self) -> Vec<Diagnostic> {
        if *self.too_deep.borrow() {
            return self.diagnostics.into_inner();
        }
        for (name, decl) in &self.decls {
            if let Decl::Global(_) = decl {
                // Check every global setting, used or not.
                self.eval(name, decl);
            }
            if let Decl::Let(l) = decl {
                if !self.used.borrow().contains(name) {
                    // Compute it anyway, so its own errors are reported.
                    self.eval(name, decl);
                    self.push(
                        Diagnostic::new(Code::UnusedLet, format!("`{name}` is never used"))
                            .at(l.name.span, "declared here")
                            .help("remove it if nothing needs it"),
                    );
                }
            }
        }
        self.diagnostics.into_inner()
    }

    /// Every declaration: the values, then the entities.
    pub fn decls(&self) -> impl Iterator<Item = (&str, &Decl<'a>)> {
        self.decls
            .iter()
            .chain(&self.entities)
            .map(|(n, d)| (n.as_str(), d))
    }

    /// Reports a name that is not declared, with the closest one as "did you mean".
    fn unknown(&self, ident: &Ident, what: &str, filter: impl Fn(&Decl<'a>) -> bool) {
        let candidates = self
            .decls
            .iter()
            .chain(&self.entities)
            .filter(|(_, d)| filter(d))
            .map(|(n, _)| n.as_str());
        let suggestion = diag::suggest(&ident.name, candidates);
        if let Some(meant) = suggestion {
            // The name meant is used, in intent: no "unused" warning for it as well.
            self.used.borrow_mut().insert(meant.to_string());
        }
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let help = diag::did_you_mean(suggestion)
            .unwrap_or_else(|| format!("declare {article} {what} named `{}`", ident.name));
        self.push(
            Diagnostic::new(Code::UnknownName, format!("unknown name `{}`", ident.name))
                .at(ident.span, format!("no {what} has this name"))
                .help(help),
        );
    }

    /// The value a name holds: a param, a `let` or a global setting.
    pub fn value_of(&self, ident: &Ident) -> Option<Val> {
        let Some(decl) = (self.decls.get(&ident.name)).or_else(|| self.entities.get(&ident.name))
        else {
            // The settings have defaults or their own messages, as in `{account}`.
            match ident.name.as_str() {
                "partition" => return Some(Val::Str("aws".into())),
                "account" => {
                    self.report_no_account(ident.span, "`account` is used, but none is declared");
                    return None;
                }
                "region" => {
                    self.push(
                        Diagnostic::new(Code::UnknownName, "the region is not declared")
                            .at(ident.span, "the region is needed here")
                            .help("declare it: `region \"us-east-1\"`, or take it from the command line: `param region`"),
                    );
                    return None;
                }
                _ => {}
            }
            self.unknown(ident, "param or `let`", |d| d.is_value());
            return None;
        };
        if !decl.is_value() {
            let help = match decl {
                Decl::Policy(p) if p.kind == PolicyKind::Boundary => {
                    format!("write `boundary {}` for its ARN", ident.name)
                }
                Decl::Policy(_) => format!("write `policy {}` for its ARN", ident.name),
                Decl::Principal(p) => {
                    format!("write `{} {}` for its ARN", p.kind.keyword(), ident.name)
                }
                _ => String::new(),
            };
            self.push(
                Diagnostic::new(
                    Code::WrongKind,
                    format!("`{}` is {}, not a value", ident.name, decl.describe()),
                )
                .at(ident.span, "used as a value here")
                .with_label(decl.name_span(), "declared here")
                .help(help),
            );
            return None;
        }
        self.used.borrow_mut().insert(ident.name.clone());
        self.eval(&ident.name, decl)
    }

    fn eval(&self, name: &str, decl: &Decl<'a>) -> Option<Val> {
        if let Some(v) = self.memo.borrow().get(name) {
            return v.clone();
        }
        if let Some(pos) = self.stack.borrow().iter().position(|(n, _)| n == name) {
            let stack = self.stack.borrow();
            let chain: Vec<&str> = stack[pos..].iter().map(|(n, _)| n.as_str()).collect();
            let mut d = Diagnostic::new(
                Code::LetCycle,
                format!("`{name}` is defined in terms of itself"),
            )
            .at(decl.name_span(), "this value depends on itself")
            .help(format!("the cycle: {} → {name}", chain.join(" → ")));
            for (n, span) in stack[pos + 1..].iter() {
                d = d.with_label(*span, format!("through `{n}`"));
            }
            drop(stack);
            self.push(d);
            self.memo.borrow_mut().insert(name.to_string(), None);
            return None;
        }
        if self.stack.borrow().len() >= MAX_LET_DEPTH {
            self.report_too_deep(name, decl);
            self.memo.borrow_mut().insert(name.to_string(), None);
            return None;
        }
        self.stack
            .borrow_mut()
            .push((name.to_string(), decl.name_span()));
        let value = match decl {
            Decl::Global(g) => self.expand(&g.value).map(Val::Str),
            Decl::Param(p) => match self.vars.0.get(name) {
                // A `--var` takes the type of the param's default: `param max = 10` stays a number.
                Some(v) => Some(match &p.default {
                    Some(Literal::Number(..)) if v.trim().parse::<f64>().is_ok() => {
                        Val::Num(v.trim().to_string())
                    }
                    Some(Literal::Bool(..)) if v == "true" || v == "false" => {
                        Val::Bool(v == "true")
                    }
                    _ => Val::Str(v.clone()),
                }),
                None => match &p.default {
                    Some(lit) => self.literal(lit),
                    None => None,
                },
            },
            Decl::Let(l) => match &l.value {
                LetValue::Value(v) => self.value(v),
                LetValue::List(list) => self.list_for(list, Some(l)),
                LetValue::Actions(items) => match items.as_slice() {
                    [ActionItem::Name(alias)] => self.value_of(alias),
                    _ => self.actions_for(items, Some(l)).map(Val::Actions),
                },
            },
            Decl::Policy(_) | Decl::Principal(_) => None,
        };
        self.stack.borrow_mut().pop();
        let value = match (decl, value) {
            (Decl::Global(g), Some(Val::Str(s))) if g.kind == GlobalKind::Account => self
                .check_setting(g.kind, &s, g.value.span, None)
                .then_some(Val::Str(s)),
            (Decl::Global(g), Some(Val::Str(s))) => self
                .check_setting(g.kind, &s, g.value.span, None)
                .then_some(Val::Str(s)),
            (Decl::Param(p), Some(v)) if GlobalKind::named(name).is_some() => {
                let kind = GlobalKind::named(name).unwrap_or(GlobalKind::Account);
                let text = v.text().unwrap_or_default();
                // A value from `--var` has no place in the sources: the label goes on the
                // param's name and says where the value came from, never on the default.
                let (span, via_var) = match self.vars.0.get(name) {
                    Some(_) => (p.name.span, Some(name)),
                    None => (p.default.as_ref().map_or(p.name.span, Literal::span), None),
                };
                self.check_setting(kind, &text, span, via_var)
                    .then_some(Val::Str(text))
            }
            (_, v) => v,
        };
        if !self.memo.borrow().contains_key(name) {
            self.memo
                .borrow_mut()
                .insert(name.to_string(), value.clone());
        }
        value
    }

    /// A value over [`MAX_VALUES`] items: named by its `let`, with the chain of `let`s that
    /// multiplied it, or else the list or actions where it happened.
    fn report_too_many(&self, owner: Option<&Let>, span: Span) {
        let Some(owner) = owner else {
            self.push(
                Diagnostic::new(
                    Code::ValueTooLarge,
                    format!("value expands to more than {MAX_VALUES} items"),
                )
                .at(span, "the limit is passed here")
                .help("list fewer values; no IAM policy can hold this many"),
            );
            return;
        };
        // The chain: from the `let`, each time the name that holds the most.
        let mut chain = vec![owner.name.name.clone()];
        let mut seen: HashSet<String> = chain.iter().cloned().collect();
        let mut at = owner;
        while let Some(next) = self.largest_part(at) {
            if !seen.insert(next.name.name.clone()) {
                break;
            }
            chain.push(next.name.name.clone());
            at = next;
        }
        let mut d = Diagnostic::new(
            Code::ValueTooLarge,
            format!(
                "`{}` expands to more than {MAX_VALUES} items",
                owner.name.name
            ),
        )
        .at(owner.name.span, "this `let`");
        let mut labelled = HashSet::new();
        for part in let_parts(owner) {
            let size = self.size_of(&part.name);
            if labelled.insert(part.span) && labelled.len() <= 4 {
                let what = match size {
                    Some(n) => format!("`{}` holds {n} items", part.name),
                    None => format!("`{}` is too large itself", part.name),
                };
                d = d.with_label(part.span, what);
            }
        }
        let shown = if chain.len() > 6 {
            let mut shown: Vec<String> = chain[..3].iter().map(|n| format!("`{n}`")).collect();
            shown.push(format!("… ({} more)", chain.len() - 5));
            shown.extend(chain[chain.len() - 2..].iter().map(|n| format!("`{n}`")));
            shown
        } else {
            chain.iter().map(|n| format!("`{n}`")).collect()
        };
        let help = if chain.len() > 1 {
            format!(
                "the `let` chain {} splices values in more than once at each step, multiplying them; splice each `let` in once",
                shown.join(" → ")
            )
        } else {
            "list fewer values; no IAM policy can hold this many".to_string()
        };
        self.push(d.help(help));
    }

    /// Of the names a `let` splices in, the `let` whose value is largest.
    fn largest_part(&self, l: &Let) -> Option<&'a Let> {
        let mut best: Option<(usize, &'a Let)> = None;
        for part in let_parts(l) {
            let Some(Decl::Let(next)) = self.decls.get(&part.name) else {
                continue;
            };
            let size = self.size_of(&part.name).unwrap_or(usize::MAX);
            if best.is_none_or(|(b, _)| size > b) {
                best = Some((size, next));
            }
        }
        best.map(|(_, l)| l)
    }

    /// How many items a computed value holds; `None` if it failed or is not computed.
    fn size_of(&self, name: &str) -> Option<usize> {
        match self.memo.borrow().get(name)? {
            Some(Val::List(items)) => Some(items.len()),
            Some(Val::Actions(items)) => Some(items.len()),
            Some(_) => Some(1),
            None => None,
        }
    }

    /// A chain of values deeper than [`MAX_LET_DEPTH`]: reported once, at its start.
    fn report_too_deep(&self, name: &str, decl: &Decl<'a>) {
        *self.too_deep.borrow_mut() = true;
        let stack = self.stack.borrow();
        let Some((first, first_span)) = stack.first().cloned() else {
            return;
        };
        let next = stack.get(1).map_or(name.to_string(), |(n, _)| n.clone());
        drop(stack);
        self.push(
            Diagnostic::new(
                Code::LetTooDeep,
                format!("`{first}` is defined through more than {MAX_LET_DEPTH} `let`s"),
            )
            .at(first_span, "the chain starts here")
            .with_label(decl.name_span(), format!("iamx stops here, {MAX_LET_DEPTH} steps down"))
            .help(format!(
                "`{first}` → `{next}` → … → `{name}` → …: iamx follows at most {MAX_LET_DEPTH}; define the value more directly"
            )),
        );
    }

    /// An account id (twelve digits), a partition AWS has, or a region name of the AWS form
    /// (`us-east-1`, `us-gov-west-1`). `via_var` names the param when the value came from
    /// `--var`: the diagnostic then says so.
    fn check_setting(
        &self,
        kind: GlobalKind,
        value: &str,
        span: Span,
        via_var: Option<&str>,
    ) -> bool {
        const PARTITIONS: &[&str] = &[
            "aws",
            "aws-cn",
            "aws-us-gov",
            "aws-iso",
            "aws-iso-b",
            "aws-iso-e",
            "aws-iso-f",
            "aws-eusc",
        ];
        let (ok, code, what, expected, help) = match kind {
            GlobalKind::Account => (
                value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()),
                Code::InvalidAccount,
                "account id",
                "expected 12 digits".to_string(),
                "an account id is twelve digits, like `123456789012`".to_string(),
            ),
            GlobalKind::Partition => (
                PARTITIONS.contains(&value),
                Code::InvalidPlace,
                "partition",
                "not a partition".to_string(),
                format!(
                    "AWS partitions are {}",
                    PARTITIONS
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            GlobalKind::Region => {
                let parts: Vec<&str> = value.split('-').collect();
                let ok = parts.len() >= 3
                    && parts[0].len() == 2
                    && parts.iter().all(|p| {
                        !p.is_empty()
                            && p.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    })
                    && parts
                        .last()
                        .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
                (
                    ok,
                    Code::InvalidPlace,
                    "region",
                    "not a region".to_string(),
                    "a region is written like `us-east-1` or `eu-central-2`".to_string(),
                )
            }
        };
        if ok {
            return true;
        }
        let diagnostic = match via_var {
            None => {
                Diagnostic::new(code, format!("`{value}` is not an AWS {what}")).at(span, expected)
            }
            Some(name) => {
                Diagnostic::new(code, format!("`--var {name}={value}` is not an AWS {what}")).at(
                    span,
                    format!("the value comes from `--var {name}={value}` on the command line"),
                )
            }
        };
        self.push(diagnostic.help(help));
        false
    }

    pub fn literal(&self, literal: &Literal) -> Option<Val> {
        match literal {
            Literal::Str(s) => self.expand(s).map(Val::Str),
            Literal::Number(n, _) => Some(Val::Num(n.clone())),
            Literal::Bool(b, _) => Some(Val::Bool(*b)),
        }
    }

    /// A single value: a literal, an entity's ARN, or what a name holds.
    pub fn value(&self, value: &Value) -> Option<Val> {
        match value {
            Value::Literal(l) => self.literal(l),
            Value::Entity(e) => self.entity_arn(e).map(Val::Arn),
            Value::Name(n) => self.value_of(n),
        }
    }

    /// A list; names holding lists are spliced in.
    pub fn list(&self, list: &List) -> Option<Val> {
        self.list_for(list, None)
    }

    /// A list, the value of `owner` if it is a `let`'s.
    fn list_for(&self, list: &List, owner: Option<&Let>) -> Option<Val> {
        let mut out = Vec::new();
        let mut ok = true;
        // Items spliced in from names: what can multiply. Written items are bounded by the
        // input's size.
        let mut spliced = 0;
        for item in &list.items {
            let value = self.value(item);
            if let Some(Val::List(inner)) = &value {
                spliced += inner.len();
                if spliced > MAX_VALUES {
                    self.report_too_many(owner, item.span());
                    return None;
                }
            }
            match value {
                Some(Val::List(inner)) => out.extend(inner),
                Some(Val::Actions(_)) => {
                    self.push(
                        Diagnostic::new(
                            Code::WrongValueType,
                            "actions cannot be list values".to_string(),
                        )
                        .at(item.span(), "this holds actions"),
                    );
                    ok = false;
                }
                Some(v) => out.push((v, item.span())),
                None => ok = false,
            }
        }
        ok.then_some(Val::List(out))
    }

    /// Actions as written: patterns, groups expanded to `svc:Name`, names of `let`s spliced in.
    pub fn actions(&self, items: &[ActionItem]) -> Option<Vec<(String, Span)>> {
        self.actions_for(items, None)
    }

    /// Actions, the value of `owner` if they are a `let`'s.
    fn actions_for(
        &self,
        items: &[ActionItem],
        owner: Option<&Let>,
    ) -> Option<Vec<(String, Span)>> {
        let mut out = Vec::new();
        let mut ok = true;
        // Actions spliced in from names: what can multiply (see `list_for`).
        let mut spliced = 0;
        for item in items {
            match item {
                ActionItem::Pattern(p, span) => ok &= self.action_pattern(p, *span, &mut out),
                ActionItem::Group { service, names, .. } => {
                    for (name, span) in names {
                        ok &= self.action_pattern(&format!("{service}:{name}"), *span, &mut out);
                    }
                }
                ActionItem::Name(ident) => match self.value_of(ident) {
                    Some(Val::Actions(actions)) if spliced + actions.len() > MAX_VALUES => {
                        self.report_too_many(owner, ident.span);
                        return None;
                    }
                    Some(Val::Actions(actions)) => {
                        spliced += actions.len();
                        // Point at the use, so diagnostics show where the actions came in.
                        out.extend(actions.into_iter().map(|(a, _)| (a, ident.span)));
                    }
                    Some(other) => {
                        self.push(
                            Diagnostic::new(
                                Code::WrongValueType,
                                format!(
                                    "`{}` holds {}, not actions",
                                    ident.name,
                                    other.describe()
                                ),
                            )
                            .at(ident.span, "expected actions here")
                            .help(format!(
                                "a `let` of actions is written without quotes: `let {} = s3:GetObject, s3:PutObject`",
                                ident.name
                            )),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
            }
        }
        ok.then_some(out)
    }

    /// One action pattern; an access-level selector (`s3:read`) expands to the exact, sorted list
    /// of the service's actions whose primary access level it names.
    fn action_pattern(&self, pattern: &str, span: Span, out: &mut Vec<(String, Span)>) -> bool {
        let selector = pattern.split_once(':').and_then(|(prefix, name)| {
            let level = awsdb::AccessLevel::ALL
                .into_iter()
                .find(|l| l.selector_name() == name)?;
            Some((awsdb::service(prefix)?, level))
        });
        let Some((service, level)) = selector else {
            out.push((pattern.to_string(), span));
            return true;
        };
        let actions = awsdb::actions_with_primary_level(service.prefix, level);
        if actions.is_empty() {
            self.push(
                Diagnostic::new(
                    Code::PatternMatchesNothing,
                    format!("`{pattern}` selects no action"),
                )
                .at(
                    span,
                    format!("{} has no {} actions", service.prefix, level.aws_name()),
                )
                .help(format!("list them: `iamx actions {}:*`", service.prefix)),
            );
            return false;
        }
        out.extend(
            actions
                .into_iter()
                .map(|a| (format!("{}:{}", service.prefix, a.name), span)),
        );
        true
    }

    /// Expands `{name}` templates in a string and applies escapes. `${…}` (IAM policy variables)
    /// pass through untouched.
    pub fn expand(&self, s: &Str) -> Option<String> {
        let raw = &s.raw;
        let base = s.content_start();
        let at = |start: usize, end: usize| Span {
            file: s.span.file,
            start: base + start as u32,
            end: base + end as u32,
        };
        let mut out = String::with_capacity(raw.len());
        let mut ok = true;
        // Bytes spliced in from templates: what can multiply (see `list_for`).
        let mut spliced = 0;
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, other)) => out.push(other),
                    None => {}
                },
                '$' if raw[i + 1..].starts_with('{') => {
                    let Some(end) = raw[i..].find('}') else {
                        self.push(
                            Diagnostic::new(Code::BadTemplate, "unclosed policy variable `${`")
                                .at(at(i, raw.len()), "no `}` closes this")
                                .help("close it: `${aws:username}`"),
                        );
                        return None;
                    };
                    out.push_str(&raw[i..i + end + 1]);
                    while chars.peek().is_some_and(|(j, _)| *j <= i + end) {
                        chars.next();
                    }
                }
                '{' => {
                    let Some(len) = raw[i + 1..].find('}') else {
                        self.push(
                            Diagnostic::new(Code::BadTemplate, "unclosed template `{`")
                                .at(at(i, raw.len()), "no `}` closes this")
                                .help("close it (`{account}`), or write a literal brace as `\\{`"),
                        );
                        return None;
                    };
                    let name = &raw[i + 1..i + 1 + len];
                    let span = at(i, i + len + 2);
                    while chars.peek().is_some_and(|(j, _)| *j <= i + len + 1) {
                        chars.next();
                    }
                    match self.template(name, span) {
                        Some(text) if spliced + text.len() > MAX_TEMPLATE_BYTES => {
                            self.push(
                                Diagnostic::new(
                                    Code::ValueTooLarge,
                                    format!(
                                        "string expands to more than {MAX_TEMPLATE_BYTES} bytes"
                                    ),
                                )
                                .at(span, format!("`{name}` holds {} bytes", text.len()))
                                .help("templates that splice a value in more than once at each step multiply it; no IAM policy holds a string this long"),
                            );
                            return None;
                        }
                        Some(text) => {
                            spliced += text.len();
                            out.push_str(&text);
                        }
                        None => ok = false,
                    }
                }
                c => out.push(c),
            }
        }
        ok.then_some(out)
    }

    /// The text of `{name}` in a string.
    fn template(&self, name: &str, span: Span) -> Option<String> {
        let ident = Ident {
            name: name.to_string(),
            span,
        };
        if name == "partition" && !self.decls.contains_key("partition") {
            return Some("aws".to_string());
        }
        if name == "account" && !self.decls.contains_key("account") {
            self.no_account(span);
            return None;
        }
        if !self.decls.contains_key(name) {
            let candidates = self
                .decls
                .iter()
                .filter(|(_, d)| d.is_value())
                .map(|(n, _)| n.as_str())
                .chain(["account", "partition", "region"]);
            let help = if name == "region" {
                "declare the region: `region \"us-east-1\"`".to_string()
            } else if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                "a literal brace is written `\\{`; IAM policy variables start with `$`: `${aws:username}`".to_string()
            } else {
                diag::did_you_mean(diag::suggest(name, candidates)).unwrap_or_else(|| {
                    format!("declare it: `param {name}` or `let {name} = \"…\"`")
                })
            };
            self.push(
                Diagnostic::new(
                    Code::UnknownTemplate,
                    format!("unknown template variable `{{{name}}}`"),
                )
                .at(span, "nothing of this name to fill in")
                .help(help),
            );
            return None;
        }
        match self.value_of(&ident)? {
            v @ (Val::List(_) | Val::Actions(_)) => {
                self.push(
                    Diagnostic::new(
                        Code::WrongValueType,
                        format!(
                            "`{name}` holds {}, which cannot go in a string",
                            v.describe()
                        ),
                    )
                    .at(span, "expected a string, number or boolean"),
                );
                None
            }
            v => v.text(),
        }
    }

    fn no_account(&self, span: Span) {
        self.report_no_account(span, "an ARN needs the account, but none is declared");
    }

    fn report_no_account(&self, span: Span, message: &str) {
        if std::mem::replace(&mut *self.reported_no_account.borrow_mut(), true) {
            return;
        }
        self.push(
            Diagnostic::new(Code::NoAccount, message)
                .at(span, "the account is needed here")
                .help("declare it: `account \"123456789012\"`, or take it from the command line: `param account`"),
        );
    }

    /// The account id, reported missing at `span` if none is declared.
    pub fn account(&self, span: Span) -> Option<String> {
        match self.decls.get("account") {
            Some(_) => {
                let ident = Ident {
                    name: "account".into(),
                    span,
                };
                self.value_of(&ident)?.text()
            }
            None => {
                self.no_account(span);
                None
            }
        }
    }

    /// Whether the project declares its account (as `account` or a param or `let` of that name).
    pub fn has_account(&self) -> bool {
        self.decls.contains_key("account")
    }

    /// The account id if one is declared; never reports.
    pub fn declared_account(&self) -> Option<String> {
        let decl = self.decls.get("account")?;
        self.used.borrow_mut().insert("account".into());
        self.eval("account", decl)?.text()
    }

    pub fn partition(&self) -> String {
        match self.decls.get("partition") {
            Some(decl) => {
                self.used.borrow_mut().insert("partition".into());
                self.eval("partition", decl)
                    .and_then(|v| v.text())
                    .unwrap_or_else(|| "aws".into())
            }
            None => "aws".into(),
        }
    }

    /// The path of a policy or principal item (`/` when none is given), checked.
    pub fn path(&self, entries: &[Entry]) -> String {
        for entry in entries {
            if let Entry::Path(s, _) = entry {
                return self.path_of(s).unwrap_or_else(|| "/".into());
            }
        }
        "/".into()
    }

    /// A path written in a string, checked; `None` (reported) when it is not a valid IAM path.
    pub fn path_of(&self, s: &Str) -> Option<String> {
        let path = self.expand(s)?;
        let problem = if !path.starts_with('/') || !path.ends_with('/') {
            Some("a path starts and ends with `/`")
        } else if path.len() > 512 {
            Some("a path is at most 512 characters")
        } else if path.contains("//") {
            Some("a path has no empty segments")
        } else if !path.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            Some("a path holds printable ASCII characters only, no spaces")
        } else {
            None
        };
        if let Some(problem) = problem {
            self.push(
                Diagnostic::new(Code::InvalidPath, format!("invalid path `{path}`"))
                    .at(s.span, problem)
                    .help("write it like `/engineering/dev/`"),
            );
            return None;
        }
        Some(path)
    }

    /// Looks up a declared entity of one of the wanted kinds.
    pub fn entity(&self, ident: &Ident, wanted: &[EntityKind]) -> Option<Decl<'a>> {
        let matches = |d: &Decl| wanted.iter().any(|k| kind_matches(*k, d));
        let found = self
            .entities
            .get(&ident.name)
            .or_else(|| self.decls.get(&ident.name));
        let Some(decl) = found.copied() else {
            let what = wanted
                .iter()
                .map(|k| k.keyword())
                .collect::<Vec<_>>()
                .join(" or ");
            self.unknown(ident, &what, |d| matches(d));
            return None;
        };
        if !matches(&decl) {
            let wanted_text = wanted
                .iter()
                .map(|k| format!("a {}", k.keyword()))
                .collect::<Vec<_>>()
                .join(" or ");
            self.push(
                Diagnostic::new(
                    Code::WrongKind,
                    format!("`{}` is {}, not {wanted_text}", ident.name, decl.describe()),
                )
                .at(ident.span, format!("expected {wanted_text}"))
                .with_label(decl.name_span(), "declared here")
                .help_opt(wrong_kind_help(&decl, wanted, &ident.name)),
            );
            return None;
        }
        Some(decl)
    }

    /// The ARN of a declared policy, boundary or principal.
    pub fn decl_arn(&self, decl: &Decl<'a>, use_span: Span) -> Option<String> {
        let (kind, name, entries) = match decl {
            Decl::Policy(p) => ("policy", &p.name.name, &p.entries),
            Decl::Principal(p) => (p.kind.keyword(), &p.name.name, &p.entries),
            _ => return None,
        };
        let account = self.account(use_span)?;
        let partition = self.partition();
        let path = self.path(entries);
        Some(format!("arn:{partition}:iam::{account}:{kind}{path}{name}"))
    }

    /// `role X`, `boundary B`, …: the entity's ARN.
    pub fn entity_arn(&self, entity: &EntityRef) -> Option<String> {
        let decl = self.entity(&entity.name, &[entity.kind])?;
        self.decl_arn(&decl, entity.span)
    }

    /// A managed policy reference: its ARN, and the project's declaration when it is one.
    pub fn policy_ref(
        &self,
        policy: &PolicyRef,
        wanted: &[EntityKind],
    ) -> Option<(String, Option<&'a PolicyItem>)> {
        match policy {
            PolicyRef::Aws(name, span) => {
                let Some(policy) = awsdb::managed_policy(name) else {
                    let help = diag::did_you_mean(managed_policy_like(name).map(|p| p.name))
                        .unwrap_or_else(|| {
                            "write the name as the IAM console shows it, like `ReadOnlyAccess`"
                                .into()
                        });
                    self.push(
                        Diagnostic::new(
                            Code::UnknownManagedPolicy,
                            format!("unknown AWS managed policy `{name}`"),
                        )
                        .at(*span, "AWS has no managed policy of this name")
                        .help(help),
                    );
                    return None;
                };
                let partition = self.partition();
                let arn = match policy.arn.strip_prefix("arn:aws:") {
                    Some(rest) => format!("arn:{partition}:{rest}"),
                    None => policy.arn.to_string(),
                };
                Some((arn, None))
            }
            PolicyRef::Name(ident) => {
                let decl = self.entity(ident, wanted)?;
                let arn = self.decl_arn(&decl, ident.span)?;
                match decl {
                    Decl::Policy(p) => Some((arn, Some(p))),
                    _ => None,
                }
            }
            PolicyRef::Arn(s) => {
                let arn = self.expand(s)?;
                if let Some(problem) = crate::iam::arn::policy_arn_problem(&arn) {
                    let message = if arn.is_empty() {
                        "an empty string is not the ARN of a managed policy".to_string()
                    } else {
                        format!("`{arn}` is not the ARN of a managed policy")
                    };
                    let help = if wanted == [EntityKind::Boundary] {
                        "name a boundary of the project (`boundary DevBoundary`), or write its ARN: `arn:aws:iam::123456789012:policy/NAME`"
                    } else {
                        "name a policy of the project (`attach ReadLogs`), an AWS managed policy (`attach aws ReadOnlyAccess`), or write its ARN: `arn:aws:iam::123456789012:policy/NAME`"
                    };
                    self.push(
                        Diagnostic::new(Code::NotAPolicyArn, message)
                            .at(s.span, problem)
                            .help(help),
                    );
                    return None;
                }
                if let Some(rest) = aws_managed_policy_arn(&arn) {
                    if awsdb::managed_policy(&arn).is_none() {
                        let prefix = &arn[..arn.len() - rest.len()];
                        let help = diag::did_you_mean(
                            managed_policy_like(rest)
                                .map(|p| format!("{prefix}{}", policy_path_name(&p)))
                                .as_deref(),
                        )
                        .unwrap_or_else(|| {
                            "the ARN of an AWS managed policy is `arn:aws:iam::aws:policy/` and its path and name, as the IAM console shows them".into()
                        });
                        self.push(
                            Diagnostic::new(
                                Code::UnknownManagedPolicy,
                                format!("unknown AWS managed policy `{arn}`"),
                            )
                            .at(s.span, "AWS has no managed policy with this path and name")
                            .help(help),
                        );
                        return None;
                    }
                }
                Some((arn, None))
            }
        }
    }
}

/// The path and name in the ARN of an AWS managed policy (`arn:aws:iam::aws:policy/…`), in any
/// partition: `service-role/AWSLambdaBasicExecutionRole`.
fn aws_managed_policy_arn(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", "aws", resource] => resource.strip_prefix("policy/"),
        _ => None,
    }
}

/// `service-role/AWSLambdaBasicExecutionRole`: an AWS managed policy's path and name, as its ARN
/// ends.
fn policy_path_name(policy: &awsdb::ManagedPolicy) -> String {
    format!("{}{}", policy.path.trim_start_matches('/'), policy.name)
}

/// The AWS managed policy a mistaken `path/Name` most likely means: the same name under its own
/// path; a name that starts with the given one (`AmazonS3ReadOnly` → `AmazonS3ReadOnlyAccess`),
/// the shortest; else the closest name by edits.
fn managed_policy_like(given: &str) -> Option<awsdb::ManagedPolicy> {
    let bare = given.rsplit('/').next().unwrap_or(given);
    if bare.is_empty() {
        return None;
    }
    if let Some(p) = awsdb::managed_policy(bare) {
        return Some(p);
    }
    let lower = bare.to_ascii_lowercase();
    let longer = awsdb::managed_policy_names()
        .filter(|n| bare.len() >= 4 && n.to_ascii_lowercase().starts_with(&lower))
        .min_by_key(|n| n.len());
    let name = longer.or_else(|| diag::suggest(bare, awsdb::managed_policy_names()))?;
    awsdb::managed_policy(name)
}

fn kind_matches(kind: EntityKind, decl: &Decl) -> bool {
    match (kind, decl) {
        (EntityKind::Policy, Decl::Policy(p)) => p.kind == PolicyKind::Managed,
        (EntityKind::Boundary, Decl::Policy(p)) => p.kind == PolicyKind::Boundary,
        (EntityKind::Role, Decl::Principal(p)) => p.kind == PrincipalKind::Role,
        (EntityKind::User, Decl::Principal(p)) => p.kind == PrincipalKind::User,
        (EntityKind::Group, Decl::Principal(p)) => p.kind == PrincipalKind::Group,
        _ => false,
    }
}

/// How to fix a reference to the wrong kind of item.
fn wrong_kind_help(decl: &Decl, wanted: &[EntityKind], name: &str) -> Option<String> {
    match (decl, wanted) {
        (Decl::Policy(p), [EntityKind::Boundary]) if p.kind == PolicyKind::Managed => Some(format!(
            "a permissions boundary is declared with `boundary {name} {{ … }}`; to grant its permissions instead, `attach {name}`"
        )),
        (Decl::Principal(p), _) => Some(format!(
            "`{name}` is {}: refer to it as `{} {name}`",
            decl.describe(),
            p.kind.keyword()
        )),
        (Decl::Policy(p), _) => Some(format!(
            "refer to it as `{} {name}`",
            match p.kind {
                PolicyKind::Managed => "policy",
                PolicyKind::Boundary => "boundary",
            }
        )),
        _ => None,
    }
}
