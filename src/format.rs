//! The canonical layout of `.iamx` source: a printer from the syntax tree to text, used by
//! `iamx fmt` and by `iamx import`.
//!
//! The layout: two spaces of indentation; one statement per line when it fits in
//! [`WIDTH`] columns, else `on` and `when` on lines of their own and long lists filled up to the
//! width; one space around operators; one blank line between items that take more than a line,
//! and blank lines kept (one at most) where the source had them. Nothing is reordered.
//!
//! `//` and `/* */` comments are not in the syntax tree: the printer places them between the
//! items, entries, statements, clauses and list items they stand between (a trailing one at the
//! end of the line it followed; a statement with comments inside is laid out over several
//! lines), and [`format_source`] refuses a file with one it cannot place (inside `tags { … }`,
//! an `attach` or `groups` list, an `@sid(…)`, or the statement of a test's `given`), E1002,
//! rather than drop it. `///` doc comments are kept. Every result is parsed again and
//! must give the same syntax tree and comments as the input, or the file is refused (E1002).

use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The width lines are filled to.
pub const WIDTH: usize = 100;

const KEYWORDS: &[&str] = &[
    "account",
    "allow",
    "all",
    "and",
    "anyone",
    "any",
    "as",
    "attached",
    "attach",
    "aws",
    "boundary",
    "deny",
    "description",
    "exists",
    "expect",
    "explicit",
    "false",
    "federated",
    "given",
    "groups",
    "group",
    "implicit",
    "in",
    "let",
    "like",
    "missing",
    "not",
    "on",
    "param",
    "partition",
    "path",
    "policy",
    "region",
    "role",
    "service",
    "tags",
    "test",
    "to",
    "true",
    "trust",
    "user",
    "when",
];

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-.+".contains(c)
}

/// Whether `text` can be written as a bare identifier.
pub fn is_ident(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(ident_char)
        && !KEYWORDS.contains(&text)
}

/// Whether `text` is a condition key that needs no quotes.
pub fn is_key_token(text: &str) -> bool {
    let Some((prefix, rest)) = text.split_once(':') else {
        return false;
    };
    !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=+@$".contains(c))
}

fn is_dns_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        && !KEYWORDS.contains(&text)
}

fn is_aws_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+=.@/".contains(c))
}

/// A raw string (escapes as written) in quotes.
fn quoted(raw: &str) -> String {
    format!("\"{raw}\"")
}

/// A name: bare when it can be, else quoted with `"` and `\` escaped.
fn name(text: &str) -> String {
    if is_ident(text) {
        text.to_string()
    } else {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn bare_or_quoted(raw: &str, bare: bool) -> String {
    if bare {
        raw.to_string()
    } else {
        quoted(raw)
    }
}

/// Prints a module. `source` is the text it was parsed from, if any: blank lines between
/// entries are kept where it had them, and so are its comments.
pub fn print_module(module: &Module, source: Option<&str>) -> String {
    print_with_comments(module, source).0
}

/// [`print_module`], and where the first comment is that the layout cannot place (inside a
/// statement or a one-line entry), if any.
fn print_with_comments(module: &Module, source: Option<&str>) -> (String, Option<usize>) {
    let mut p = Printer {
        out: String::new(),
        source,
        comments: source.map(comments).unwrap_or_default(),
        next: 0,
        misplaced: None,
    };
    let mut previous: Option<(&Item, bool)> = None;
    for item in &module.items {
        let mut blank = false;
        if let Some((prev, prev_multi)) = previous {
            blank = prev_multi || p.blank_between(prev.span(), item.span());
        }
        let start = p.out.len();
        p.comments_before(0, item.span().start as usize);
        let mark = p.out.len();
        p.item(item);
        // Blocks get a blank line on each side; one-line items only where the source has one.
        let multi = match item {
            Item::Policy(policy) => policy.json.is_none(),
            Item::Principal(_) | Item::Test(_) | Item::ResourcePolicy(_) => true,
            _ => false,
        };
        let _ = mark;
        if previous.is_some() && (blank || multi) {
            p.out.insert(start, '\n');
        }
        previous = Some((item, multi));
    }
    if let Some(text) = source {
        if p.next < p.comments.len() && previous.is_some() {
            // Comments after the last item: a blank line before them if the source has one.
            let last = previous.map(|(i, _)| i.span().end as usize).unwrap_or(0);
            let first = p.comments[p.next].start;
            if !p.comments[p.next].trailing && text[last..first].matches('\n').count() > 1 {
                p.out.push('\n');
            }
        }
        p.comments_before(0, text.len());
    }
    (p.out, p.misplaced)
}

/// A `//` or `/* */` comment of the source.
#[derive(Clone, Debug)]
struct Comment {
    start: usize,
    end: usize,
    text: String,
    /// Code comes before it on its line.
    trailing: bool,
}

fn comments(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = find_comment(&text[from..]) {
        let start = from + at;
        let end = if text[start..].starts_with("/*") {
            text[start..]
                .find("*/")
                .map_or(text.len(), |e| start + e + 2)
        } else {
            text[start..].find('\n').map_or(text.len(), |e| start + e)
        };
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        out.push(Comment {
            start,
            end,
            text: text[start..end].trim_end().to_string(),
            trailing: !text[line_start..start].trim().is_empty(),
        });
        from = end;
    }
    out
}

struct Printer<'s> {
    out: String,
    source: Option<&'s str>,
    comments: Vec<Comment>,
    /// The first comment not yet written.
    next: usize,
    /// The first comment found inside something printed on its own (a statement, a setting).
    misplaced: Option<usize>,
}

impl Printer<'_> {
    /// Writes the comments that start before `pos`: a trailing one at the end of the last line
    /// written, the others on lines of their own.
    fn comments_before(&mut self, indent: usize, pos: usize) {
        let mut last: Option<usize> = None;
        while let Some(c) = self.comments.get(self.next) {
            if c.start >= pos {
                break;
            }
            let c = c.clone();
            self.next += 1;
            if let Some(end) = last {
                if !c.trailing && self.blank_in(end, c.start) {
                    self.out.push('\n');
                }
            }
            last = Some(c.end);
            if c.trailing && self.out.ends_with('\n') && !self.out.is_empty() {
                self.out.pop();
                self.out.push_str("  ");
                self.out.push_str(&c.text);
                self.out.push('\n');
            } else {
                self.line(indent, &c.text);
            }
        }
        if let Some(end) = last {
            if self.blank_in(end, pos) {
                self.out.push('\n');
            }
        }
    }

    /// Where the gap before `pos` ends for blank lines: at the first comment not yet written,
    /// if one comes before `pos`.
    fn gap_end(&self, pos: u32) -> u32 {
        match self.comments.get(self.next) {
            Some(c) if c.start < pos as usize => c.start as u32,
            _ => pos,
        }
    }

    /// Notes comments that start before `end`, inside something just printed whole: they would
    /// be lost.
    fn inside(&mut self, end: u32) {
        if let Some(c) = self.comments.get(self.next) {
            if c.start < end as usize && self.misplaced.is_none() {
                self.misplaced = Some(c.start);
            }
        }
        while self
            .comments
            .get(self.next)
            .is_some_and(|c| c.start < end as usize)
        {
            self.next += 1;
        }
    }

    /// Whether the source has a blank line between two spans (before a comment that comes
    /// between them).
    fn blank_between(&self, a: Span, b: Span) -> bool {
        self.blank_in(a.end as usize, self.gap_end(b.start) as usize)
    }

    /// Whether the source has a blank line between two offsets.
    fn blank_in(&self, from: usize, to: usize) -> bool {
        let Some(text) = self.source else {
            return false;
        };
        if from >= to || to > text.len() {
            return false;
        }
        let between = &text[from..to];
        // Lines holding only white space, between the end of one and the start of the next.
        let mut lines = between.split('\n');
        lines.next();
        let mut inner: Vec<&str> = lines.collect();
        inner.pop();
        inner.iter().any(|l| l.trim().is_empty())
    }

    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn docs(&mut self, indent: usize, docs: &[String]) {
        for d in docs {
            if d.is_empty() {
                self.line(indent, "///");
            } else {
                self.line(indent, &format!("/// {d}"));
            }
        }
    }

    fn item(&mut self, item: &Item) {
        self.item_inner(item);
        if !matches!(
            item,
            Item::Principal(_) | Item::Test(_) | Item::ResourcePolicy(_)
        ) && !matches!(item, Item::Policy(p) if p.json.is_none())
        {
            self.inside(item.span().end);
        }
    }

    fn item_inner(&mut self, item: &Item) {
        match item {
            Item::Setting(s) => {
                self.docs(0, &s.docs);
                self.line(0, &format!("{} {}", s.kind.keyword(), quoted(&s.value.raw)));
            }
            Item::Param(param) => {
                self.docs(0, &param.docs);
                let mut text = format!("param {}", param.name.name);
                if let Some(default) = &param.default {
                    text.push_str(&format!(" = {}", literal(default)));
                }
                self.line(0, &text);
            }
            Item::Let(l) => {
                self.docs(0, &l.docs);
                let head = format!("let {} = ", l.name.name);
                let tokens = match &l.value {
                    LetValue::Value(v) => no_positions(vec![value(v)]),
                    LetValue::List(list) => {
                        let at = list
                            .items
                            .iter()
                            .map(|i| Some(i.span().start as usize))
                            .collect();
                        with_positions(list_tokens(list), at)
                    }
                    LetValue::Actions(actions) => {
                        with_positions(action_tokens(actions), action_positions(actions))
                    }
                };
                self.fill(0, &head, &tokens, 2);
            }
            Item::Policy(policy) => {
                self.docs(0, &policy.docs);
                self.attributes(0, &policy.attributes);
                if !policy.attributes.is_empty() {
                    self.comments_before(0, policy.name.span.start as usize);
                }
                let keyword = match policy.kind {
                    PolicyKind::Managed => "policy",
                    PolicyKind::Boundary => "boundary",
                };
                let head = format!("{keyword} {}", policy.name.name);
                if let Some(json) = &policy.json {
                    self.line(0, &format!("{head} = json {}", quoted(&json.raw)));
                } else {
                    self.block(0, &head, policy.span, &policy.entries, |p, e| p.entry(1, e));
                }
            }
            Item::Principal(principal) => {
                self.docs(0, &principal.docs);
                self.attributes(0, &principal.attributes);
                if !principal.attributes.is_empty() {
                    self.comments_before(0, principal.name.span.start as usize);
                }
                let head = format!(
                    "{} {}",
                    principal.kind.keyword(),
                    name(&principal.name.name)
                );
                self.block(0, &head, principal.span, &principal.entries, |p, e| {
                    p.entry(1, e)
                });
            }
            Item::Test(test) => {
                self.docs(0, &test.docs);
                let head = format!("test {}", quoted(&test.name.raw));
                self.test_entries(0, &head, test.span, &test.entries);
            }
            Item::ResourcePolicy(policy) => {
                self.docs(0, &policy.docs);
                self.attributes(0, &policy.attributes);
                let head = format!("resource policy {}", policy.name.name);
                self.block(0, &head, policy.span, &policy.entries, |p, e| match e {
                    ResourceEntry::Id(text, _) => p.line(1, &format!("id {}", quoted(&text.raw))),
                    ResourceEntry::Statement(s) => p.resource_statement(1, s),
                });
            }
        }
    }

    /// The principals of a trust or resource statement, each with where it is written.
    fn principal_tokens(s: &TrustStatement) -> Vec<Tok> {
        let principals = commas(s.principals.iter().map(trust_principal).collect());
        let at = s
            .principals
            .iter()
            .map(|p| Some(p.span().start as usize))
            .collect();
        with_positions(principals, at)
    }

    /// `on [not] RESOURCES`, each resource with where it is written.
    fn on_clause(r: &ResourceClause) -> (String, Vec<Tok>) {
        let prefix = if r.not { "on not" } else { "on" };
        let items = commas(r.items.iter().map(resource).collect());
        let at = r
            .items
            .iter()
            .map(|i| Some(i.span().start as usize))
            .collect();
        (prefix.to_string(), with_positions(items, at))
    }

    /// `head { … }` with each entry printed by `each`, blank lines and comments kept where the
    /// source had them. `span` is the whole block, its closing brace included.
    fn block<T: HasSpan>(
        &mut self,
        indent: usize,
        head: &str,
        span: Span,
        entries: &[T],
        mut each: impl FnMut(&mut Self, &T),
    ) {
        let commented = self
            .comments
            .get(self.next)
            .is_some_and(|c| c.start < span.end as usize && self.source.is_some());
        if entries.is_empty() && !commented {
            self.line(indent, &format!("{head} {{}}"));
            return;
        }
        self.line(indent, &format!("{head} {{"));
        let mut previous: Option<Span> = None;
        for entry in entries {
            if let Some(prev) = previous {
                if self.blank_between(prev, entry.span()) {
                    self.out.push('\n');
                }
            }
            self.comments_before(indent + 1, entry.span().start as usize);
            each(self, entry);
            if !entry.is_block() {
                self.inside(entry.span().end);
            }
            previous = Some(entry.span());
        }
        if self.source.is_some() {
            self.comments_before(indent + 1, (span.end as usize).saturating_sub(1));
        }
        self.line(indent, "}");
    }

    fn entry(&mut self, indent: usize, entry: &Entry) {
        match entry {
            Entry::Path(s, _) => self.line(indent, &format!("path {}", quoted(&s.raw))),
            Entry::Description(s, _) => {
                self.line(indent, &format!("description {}", quoted(&s.raw)))
            }
            Entry::Id(s, _) => self.line(indent, &format!("id {}", quoted(&s.raw))),
            Entry::Boundary(r, _) => self.line(indent, &format!("boundary {}", policy_ref(r))),
            Entry::Attach(refs, _) => {
                let tokens = commas(refs.iter().map(policy_ref).collect());
                self.fill(indent, "attach ", &no_positions(tokens), indent + 2);
            }
            Entry::Groups(groups, _) => {
                let tokens = commas(groups.iter().map(|g| name(&g.name)).collect());
                self.fill(indent, "groups ", &no_positions(tokens), indent + 2);
            }
            Entry::Tags(tags, _) => {
                let tokens = commas(
                    tags.iter()
                        .map(|t| {
                            let key = bare_or_quoted(&t.key.raw, is_ident(&t.key.raw));
                            format!("{key} = {}", quoted(&t.value.raw))
                        })
                        .collect(),
                );
                let one = format!("tags {{ {} }}", tokens.join(" "));
                if tags.is_empty() {
                    self.line(indent, "tags {}");
                } else if indent * 2 + one.len() <= WIDTH {
                    self.line(indent, &one);
                } else {
                    self.line(indent, "tags {");
                    for t in &tokens {
                        self.line(indent + 1, t);
                    }
                    self.line(indent, "}");
                }
            }
            Entry::Trust(statements, span, id) => {
                // The `id` first, then the statements, as one block.
                let mut entries: Vec<ResourceEntry> = Vec::new();
                if let Some(id) = id {
                    entries.push(ResourceEntry::Id(id.clone(), id.span));
                }
                entries.extend(statements.iter().cloned().map(ResourceEntry::Statement));
                self.block(indent, "trust", *span, &entries, |p, e| match e {
                    ResourceEntry::Id(text, _) => {
                        p.line(indent + 1, &format!("id {}", quoted(&text.raw)))
                    }
                    ResourceEntry::Statement(s) => p.trust_statement(indent + 1, s),
                });
            }
            Entry::Guard(guard) => {
                self.block(indent, "guard", guard.span, &guard.clauses, |p, c| {
                    p.guard_clause(indent + 1, c)
                });
            }
            Entry::Delegate(_) => self.line(indent, "delegate"),
            Entry::MaxSession(duration, ..) => {
                self.line(indent, &format!("max session {duration}"))
            }
            Entry::InstanceProfile(name, _) => match name {
                Some(n) => self.line(indent, &format!("instance profile {}", quoted(&n.raw))),
                None => self.line(indent, "instance profile"),
            },
            Entry::Policy(inline) => {
                self.docs(indent, &inline.docs);
                self.attributes(indent, &inline.attributes);
                if !inline.attributes.is_empty() {
                    self.comments_before(indent, inline.name.span.start as usize);
                }
                let head = format!("policy {}", inline.name.name);
                self.block(indent, &head, inline.span, &inline.statements, |p, s| {
                    p.statement(indent + 1, s)
                });
            }
            Entry::Statement(s) => self.statement(indent, s),
        }
    }

    fn guard_clause(&mut self, indent: usize, clause: &GuardClause) {
        let under = |u: &Option<Str>| match u {
            Some(s) => format!(" under {}", quoted(&s.raw)),
            None => String::new(),
        };
        let text = match clause {
            GuardClause::Create {
                kinds, under: u, ..
            } => {
                let kinds: Vec<&str> = kinds
                    .iter()
                    .map(|(k, _)| match k {
                        GuardKind::Users => "users",
                        GuardKind::Roles => "roles",
                    })
                    .collect();
                format!("create {}{}", kinds.join(", "), under(u))
            }
            GuardClause::Pass {
                under: u, services, ..
            } => {
                let mut text = format!("pass roles{}", under(u));
                if !services.is_empty() {
                    let names: Vec<String> = services
                        .iter()
                        .map(|(s, _)| bare_or_quoted(s, is_dns_name(s)))
                        .collect();
                    text.push_str(&format!(" to {}", names.join(", ")));
                }
                text
            }
            GuardClause::Manage { under: u, .. } => format!("manage policies{}", under(u)),
        };
        self.line(indent, &text);
    }

    fn attributes(&mut self, indent: usize, attributes: &[Attribute]) {
        for a in attributes {
            let text = if a.args.is_empty() {
                format!("@{}", a.name.name)
            } else {
                let args: Vec<String> = a
                    .args
                    .iter()
                    .map(|(arg, _)| bare_or_quoted(arg, is_ident(arg)))
                    .collect();
                format!("@{}({})", a.name.name, args.join(", "))
            };
            self.line(indent, &text);
        }
    }

    fn statement(&mut self, indent: usize, s: &Statement) {
        self.docs(indent, &s.docs);
        self.attributes(indent, &s.attributes);
        self.comments_before(indent, s.effect_span.start as usize);
        let mut head = effect(s.effect).to_string();
        if s.not_action {
            head.push_str(" not");
        }
        let actions = with_positions(action_tokens(&s.actions), action_positions(&s.actions));
        let on = s.resource.as_ref().map(Self::on_clause);
        let commented = self.commented(s.span);
        self.clauses(indent, &head, &actions, on, &s.conditions, commented);
    }

    /// Whether a comment not yet written starts inside `span`.
    fn commented(&self, span: Span) -> bool {
        self.source.is_some()
            && self
                .comments
                .get(self.next)
                .is_some_and(|c| c.start < span.end as usize)
    }

    /// `HEAD ACTIONS [on RESOURCES] [when CONDITIONS]`: one line when it fits, else `on` and
    /// each condition on lines of their own.
    fn clauses(
        &mut self,
        indent: usize,
        head: &str,
        actions: &[Tok],
        on: Option<(String, Vec<Tok>)>,
        conditions: &[Condition],
        commented: bool,
    ) {
        let join = |tokens: &[Tok]| {
            tokens
                .iter()
                .map(|t| t.0.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut one = head.to_string();
        if !actions.is_empty() {
            one.push(' ');
            one.push_str(&join(actions));
        }
        if let Some((prefix, items)) = &on {
            one.push_str(&format!(" {prefix} {}", join(items)));
        }
        let conds: Vec<Vec<Tok>> = conditions
            .iter()
            .map(|c| with_positions(condition_tokens(c), condition_positions(c)))
            .collect();
        for (i, c) in conds.iter().enumerate() {
            one.push_str(if i == 0 { " when " } else { " and " });
            one.push_str(&join(c));
        }
        if !commented && indent * 2 + one.len() <= WIDTH {
            self.line(indent, &one);
            return;
        }
        // `HEAD ACTIONS on RESOURCES` on one line if that fits, the conditions below.
        let mut first = head.to_string();
        if !actions.is_empty() {
            first.push(' ');
            first.push_str(&join(actions));
        }
        if let Some((prefix, items)) = &on {
            first.push_str(&format!(" {prefix} {}", join(items)));
        }
        if !commented && !conds.is_empty() && indent * 2 + first.len() <= WIDTH {
            self.line(indent, &first);
        } else {
            let head = if actions.is_empty() {
                head.to_string()
            } else {
                format!("{head} ")
            };
            self.fill(indent, &head, actions, indent + 2);
            if let Some((prefix, items)) = &on {
                if let Some(at) = items.first().and_then(|t| t.1) {
                    self.comments_before(indent + 1, at);
                }
                self.fill(indent + 1, &format!("{prefix} "), items, indent + 2);
            }
        }
        for (i, c) in conds.iter().enumerate() {
            if let Some(at) = c.first().and_then(|t| t.1) {
                self.comments_before(indent + 1 + usize::from(i > 0), at);
            }
            if i == 0 {
                self.fill(indent + 1, "when ", c, indent + 3);
            } else {
                self.fill(indent + 2, "and ", c, indent + 3);
            }
        }
    }

    /// Writes `prefix` and the tokens, separated by spaces, breaking lines before a token that
    /// would pass [`WIDTH`]; continuation lines are at `cont` levels of indentation. Comments
    /// of the source that come before a token are written before it: a trailing one ends the
    /// line, the others take lines of their own.
    fn fill(&mut self, indent: usize, prefix: &str, tokens: &[Tok], cont: usize) {
        let mut line = " ".repeat(indent * 2) + prefix;
        let mut fresh = true;
        for (t, at) in tokens {
            let pending = at.is_some_and(|at| {
                self.comments
                    .get(self.next)
                    .is_some_and(|c| c.start < at && self.source.is_some())
            });
            if pending {
                self.out.push_str(line.trim_end());
                self.out.push('\n');
                if let Some(at) = at {
                    self.comments_before(cont, *at);
                }
                line = " ".repeat(cont * 2);
                fresh = true;
            }
            if !fresh && line.len() + 1 + t.len() > WIDTH {
                self.out.push_str(line.trim_end());
                self.out.push('\n');
                line = " ".repeat(cont * 2);
                fresh = true;
            }
            if !fresh {
                line.push(' ');
            }
            line.push_str(t);
            fresh = false;
        }
        self.out.push_str(line.trim_end());
        self.out.push('\n');
    }

    fn trust_statement(&mut self, indent: usize, s: &TrustStatement) {
        self.docs(indent, &s.docs);
        self.attributes(indent, &s.attributes);
        self.comments_before(indent, s.effect_span.start as usize);
        let head = effect(s.effect).to_string();
        let mut tokens = Self::principal_tokens(s);
        if let Some(actions) = &s.actions {
            tokens.push(("to".to_string(), None));
            tokens.extend(with_positions(
                action_tokens(actions),
                action_positions(actions),
            ));
        }
        let commented = self.commented(s.span);
        self.clauses(indent, &head, &tokens, None, &s.conditions, commented);
    }

    /// `allow [not] PRINCIPALS to [not] ACTIONS [on [not] RESOURCES] [when CONDITIONS]`.
    fn resource_statement(&mut self, indent: usize, s: &TrustStatement) {
        self.docs(indent, &s.docs);
        self.attributes(indent, &s.attributes);
        self.comments_before(indent, s.effect_span.start as usize);
        let mut head = effect(s.effect).to_string();
        if s.not_principal {
            head.push_str(" not");
        }
        let mut tokens = Self::principal_tokens(s);
        tokens.push(("to".to_string(), None));
        if s.not_action {
            tokens.push(("not".to_string(), None));
        }
        if let Some(actions) = &s.actions {
            tokens.extend(with_positions(
                action_tokens(actions),
                action_positions(actions),
            ));
        }
        let on = s.resource.as_ref().map(Self::on_clause);
        let commented = self.commented(s.span);
        self.clauses(indent, &head, &tokens, on, &s.conditions, commented);
    }

    fn test_entries(&mut self, indent: usize, head: &str, span: Span, entries: &[TestEntry]) {
        self.block(indent, head, span, entries, |p, e| {
            p.test_entry(indent + 1, e)
        });
    }

    fn test_entry(&mut self, indent: usize, entry: &TestEntry) {
        match entry {
            TestEntry::As { kind, name: n, .. } => {
                self.line(indent, &format!("as {} {}", kind.keyword(), name(&n.name)))
            }
            TestEntry::AsOutside { kind, value, .. } => {
                let text = match kind.keyword() {
                    Some(keyword) => format!(
                        "as {keyword} {}",
                        bare_or_quoted(&value.raw, is_dns_name(&value.raw))
                    ),
                    None => format!("as {}", quoted(&value.raw)),
                };
                self.line(indent, &text)
            }
            TestEntry::Expect(e) => {
                self.docs(indent, &e.docs);
                let head = format!("expect {}", e.outcome.words());
                let actions =
                    with_positions(action_tokens(&e.actions), action_positions(&e.actions));
                let on = e.resource.as_ref().map(|r| {
                    (
                        "on".to_string(),
                        vec![(resource(r), Some(r.span().start as usize))],
                    )
                });
                let commented = self.commented(e.span);
                self.clauses(indent, &head, &actions, on, &e.context, commented);
            }
            TestEntry::Given {
                subject,
                entries,
                span,
            } => match subject {
                GivenSubject::Attached(r) => {
                    let head = format!("given attached {}", policy_ref(r));
                    self.inside(r.span().end);
                    self.test_entries(indent, &head, *span, entries);
                }
                GivenSubject::Statement(s) => {
                    // The statement on its own lines, then the block.
                    let mut inner = Printer {
                        out: String::new(),
                        source: None,
                        comments: Vec::new(),
                        next: 0,
                        misplaced: None,
                    };
                    inner.statement(indent, s);
                    self.inside(s.span.end);
                    let text = inner.out.trim_end().to_string();
                    let text = text.strip_prefix(&"  ".repeat(indent)).unwrap_or(&text);
                    self.test_entries(indent, &format!("given {text}"), *span, entries);
                }
            },
        }
    }
}

/// What has a span, for blank lines between entries.
trait HasSpan {
    fn span(&self) -> Span;

    /// Whether it is a block, which places the comments inside it itself.
    fn is_block(&self) -> bool {
        false
    }
}

impl HasSpan for Entry {
    fn span(&self) -> Span {
        Entry::span(self)
    }

    fn is_block(&self) -> bool {
        matches!(self, Entry::Trust(..) | Entry::Guard(_) | Entry::Policy(_))
    }
}

impl HasSpan for Statement {
    fn span(&self) -> Span {
        self.span
    }
}

impl HasSpan for ResourceEntry {
    fn span(&self) -> Span {
        ResourceEntry::span(self)
    }
}

impl HasSpan for TrustStatement {
    fn span(&self) -> Span {
        self.span
    }
}

impl HasSpan for GuardClause {
    fn span(&self) -> Span {
        match self {
            GuardClause::Create { span, .. }
            | GuardClause::Pass { span, .. }
            | GuardClause::Manage { span, .. } => *span,
        }
    }
}

impl HasSpan for TestEntry {
    fn span(&self) -> Span {
        match self {
            TestEntry::As { span, .. }
            | TestEntry::AsOutside { span, .. }
            | TestEntry::Given { span, .. } => *span,
            TestEntry::Expect(e) => e.span,
        }
    }

    fn is_block(&self) -> bool {
        matches!(self, TestEntry::Given { .. })
    }
}

fn effect(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    }
}

/// A token of a list, and where in the source the item it starts begins (if it starts one).
type Tok = (String, Option<usize>);

fn with_positions(tokens: Vec<String>, at: Vec<Option<usize>>) -> Vec<Tok> {
    let mut at = at.into_iter();
    tokens
        .into_iter()
        .map(|t| (t, at.next().flatten()))
        .collect()
}

fn no_positions(tokens: Vec<String>) -> Vec<Tok> {
    tokens.into_iter().map(|t| (t, None)).collect()
}

/// Where each token of [`action_tokens`] starts in the source.
fn action_positions(actions: &[ActionItem]) -> Vec<Option<usize>> {
    let mut out = Vec::new();
    for a in actions {
        match a {
            ActionItem::Pattern(_, span) => out.push(Some(span.start as usize)),
            ActionItem::Name(n) => out.push(Some(n.span.start as usize)),
            ActionItem::Group { names, span, .. } => {
                for (j, (_, name_span)) in names.iter().enumerate() {
                    let at = if j == 0 { span.start } else { name_span.start };
                    out.push(Some(at as usize));
                }
            }
        }
    }
    out
}

/// Where each token of [`condition_tokens`] starts in the source: the condition, and the
/// items of a list.
fn condition_positions(c: &Condition) -> Vec<Option<usize>> {
    let tokens = condition_tokens(c);
    let mut out = vec![None; tokens.len()];
    if let Some(first) = out.first_mut() {
        *first = Some(c.span.start as usize);
    }
    let list = match &c.kind {
        ConditionKind::Compare {
            value: ConditionValue::List(l),
            ..
        }
        | ConditionKind::Explicit {
            value: ConditionValue::List(l),
            ..
        } => Some(l),
        _ => None,
    };
    if let Some(list) = list {
        let n = list.items.len();
        if n > 0 && tokens.len() >= n {
            for (k, item) in list.items.iter().enumerate().skip(1) {
                out[tokens.len() - n + k] = Some(item.span().start as usize);
            }
        }
    }
    out
}

/// Adds a comma to every token but the last.
fn commas(mut tokens: Vec<String>) -> Vec<String> {
    let n = tokens.len();
    for t in tokens.iter_mut().take(n.saturating_sub(1)) {
        t.push(',');
    }
    tokens
}

fn action_tokens(actions: &[ActionItem]) -> Vec<String> {
    let mut tokens = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        let last = i + 1 == actions.len();
        match a {
            ActionItem::Pattern(p, _) => tokens.push(p.clone()),
            ActionItem::Name(n) => tokens.push(n.name.clone()),
            ActionItem::Group { service, names, .. } => {
                for (j, (n, _)) in names.iter().enumerate() {
                    let mut t = if j == 0 {
                        format!("{service}:{{{n}")
                    } else {
                        n.clone()
                    };
                    t.push(if j + 1 == names.len() { '}' } else { ',' });
                    tokens.push(t);
                }
            }
        }
        if !last {
            if let Some(t) = tokens.last_mut() {
                t.push(',');
            }
        }
    }
    tokens
}

fn resource(r: &ResourceItem) -> String {
    match r {
        ResourceItem::Any(_) => "*".to_string(),
        ResourceItem::Str(s) => quoted(&s.raw),
        ResourceItem::Entity(e) => entity(e),
        ResourceItem::Name(n) => n.name.clone(),
    }
}

fn entity(e: &EntityRef) -> String {
    format!("{} {}", e.kind.keyword(), name(&e.name.name))
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Str(s) => quoted(&s.raw),
        Literal::Number(n, _) => n.clone(),
        Literal::Bool(b, _) => b.to_string(),
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Literal(l) => literal(l),
        Value::Entity(e) => entity(e),
        Value::Name(n) => n.name.clone(),
    }
}

/// `[a, b]` as tokens: `[a,` `b]`.
fn list_tokens(list: &List) -> Vec<String> {
    if list.items.is_empty() {
        return vec!["[]".to_string()];
    }
    let mut tokens = commas(list.items.iter().map(value).collect());
    if let Some(first) = tokens.first_mut() {
        first.insert(0, '[');
    }
    if let Some(last) = tokens.last_mut() {
        last.push(']');
    }
    tokens
}

fn policy_ref(r: &PolicyRef) -> String {
    match r {
        PolicyRef::Aws(n, _) => format!("aws {}", bare_or_quoted(n, is_aws_name(n))),
        PolicyRef::Name(n) => n.name.clone(),
        PolicyRef::Arn(s) => quoted(&s.raw),
    }
}

fn trust_principal(p: &TrustPrincipal) -> String {
    match p {
        TrustPrincipal::Service(s, _) => {
            format!("service {}", bare_or_quoted(&s.raw, is_dns_name(&s.raw)))
        }
        TrustPrincipal::Account(None, _) => "account".to_string(),
        TrustPrincipal::Account(Some(v), _) => format!("account {}", value(v)),
        TrustPrincipal::Federated(s, _) => {
            format!("federated {}", bare_or_quoted(&s.raw, is_dns_name(&s.raw)))
        }
        TrustPrincipal::Role(n, _) => format!("role {}", name(&n.name)),
        TrustPrincipal::User(n, _) => format!("user {}", name(&n.name)),
        TrustPrincipal::Anyone(_) => "anyone".to_string(),
        TrustPrincipal::Arn(s) => quoted(&s.raw),
    }
}

fn condition_tokens(c: &Condition) -> Vec<String> {
    let key = bare_or_quoted(&c.key.name, is_key_token(&c.key.name));
    let key = if c.if_exists { format!("{key}?") } else { key };
    let values = |v: &ConditionValue| match v {
        ConditionValue::One(v) => vec![value(v)],
        ConditionValue::List(l) => list_tokens(l),
    };
    let mut tokens = Vec::new();
    match &c.kind {
        ConditionKind::Compare {
            quantifier,
            op,
            value: v,
            ..
        } => {
            match quantifier {
                Some(Quantifier::Any) => tokens.push("any".to_string()),
                Some(Quantifier::All) => tokens.push("all".to_string()),
                None => {}
            }
            tokens.push(key);
            tokens.push(op.as_str().to_string());
            tokens.extend(values(v));
        }
        ConditionKind::Explicit {
            operator, value: v, ..
        } => {
            tokens.push(key);
            tokens.push(operator.clone());
            tokens.extend(values(v));
        }
        ConditionKind::Presence { exists } => {
            tokens.push(key);
            tokens.push(if *exists { "exists" } else { "missing" }.to_string());
        }
        ConditionKind::Bool { negated } => {
            if *negated {
                tokens.push("not".to_string());
            }
            tokens.push(key);
        }
    }
    tokens
}

/// Where a `//` or `/* */` comment starts in `text`, outside strings, if it has one.
/// `///` doc comments are not counted (they are in the syntax tree); `////` is.
pub fn find_comment(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => return Some(i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let doc = bytes.get(i + 2) == Some(&b'/') && bytes.get(i + 3) != Some(&b'/');
                if !doc {
                    return Some(i);
                }
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The syntax tree as text with every span left out: two trees that say the same thing, however
/// laid out, give the same text.
pub fn shape(module: &Module) -> String {
    let text = format!("{:?}", module.items);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("Span { file: FileId(") {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(end) => rest = &rest[i + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Formats one `.iamx` file. Refuses (with a diagnostic, the text untouched) a file that does
/// not parse, that holds a comment the layout cannot place (inside a statement or a one-line
/// entry), or whose formatted text would not parse to the same syntax tree and comments.
pub fn format_source(file: FileId, text: &str) -> Result<String, Diagnostic> {
    let module = crate::parse::parse_file(file, text)?;
    let (formatted, misplaced) = print_with_comments(&module, Some(text));
    if let Some(at) = misplaced {
        return Err(Diagnostic::new(
            Code::FmtUnfaithful,
            "`iamx fmt` has no place for this comment",
        )
        .at(Span::new(file, at, at + 2), "this comment would be lost")
        .help("the file is left as it is; move the comment to a line of its own before the entry, or after it"));
    }
    let again = crate::parse::parse_file(file, &formatted);
    let texts = |t: &str| comments(t).into_iter().map(|c| c.text).collect::<Vec<_>>();
    let same = again.as_ref().is_ok_and(|m| shape(m) == shape(&module))
        && texts(&formatted) == texts(text);
    if !same {
        return Err(Diagnostic::new(
            Code::FmtUnfaithful,
            "`iamx fmt` cannot lay this file out without changing it",
        )
        .at(Span::new(file, 0, text.len().min(1)), "this file")
        .help("the file is left as it is; please report it, with the file"));
    }
    Ok(formatted)
}
