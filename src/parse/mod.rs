//! Text to syntax tree. The only module that knows pest: pairs never leave it.
//!
//! One function per grammar rule; children are taken through [`Children`], which names the rule
//! it expects, so a grammar change that breaks an assumption is an error, not a panic.

mod rules;
pub mod scan;

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest::Parser;
use pest_derive::Parser;

use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

pub use rules::phrase;

#[derive(Parser)]
#[grammar = "../grammar/iamx.pest"]
pub struct IamxParser;

type Result<T> = std::result::Result<T, Diagnostic>;

/// Parses one file.
pub fn parse_file(file: FileId, text: &str) -> Result<Module> {
    scan::scan(file, text)?;
    let mut pairs = IamxParser::parse(Rule::file, text).map_err(|e| syntax_error(file, text, e))?;
    let p = Parsing { file };
    let file_pair = pairs
        .next()
        .ok_or_else(|| p.internal(Span::new(file, 0, 0)))?;
    let mut items = Vec::new();
    for pair in file_pair.into_inner() {
        match pair.as_rule() {
            Rule::EOI => {}
            _ => items.push(p.item(pair)?),
        }
    }
    Ok(Module { file, items })
}

/// Parses a text as one rule, for tests of the grammar.
pub fn parse_rule(rule: Rule, text: &str) -> std::result::Result<(), String> {
    match IamxParser::parse(rule, text) {
        Ok(pairs) => {
            let end = pairs.last().map_or(0, |p| p.as_span().end());
            if end == text.len() {
                Ok(())
            } else {
                Err(format!("stopped at byte {end}"))
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Rewords a pest error: what was found, and what could have come there, in words.
fn syntax_error(file: FileId, text: &str, error: pest::error::Error<Rule>) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&'static str> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().map(|r| rules::phrase(*r)).collect()
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    expected.retain(|p| seen.insert(*p));
    let mut pos = pos;
    let mut help_block = None;
    let mut expected: Vec<String> = expected.into_iter().map(str::to_string).collect();
    let found = token_at(text, pos);
    // "unexpected `trust`, expected … `trust` …": the keyword was right and what follows it
    // was not (`trust service …` for `trust { … }`). pest only reports rules, so the symbol
    // missed after the keyword is found by parsing again with every attempt tracked.
    if !found.is_empty() && expected.iter().any(|e| *e == format!("`{found}`")) {
        if let Some((further, tokens)) = furthest_tokens(text) {
            if further > pos && !tokens.is_empty() {
                if tokens == ["`{`"] {
                    help_block = Some(found.to_string());
                }
                pos = further;
                expected = tokens;
            }
        }
    }
    let found = token_at(text, pos);
    let span = Span::new(file, pos, pos + found.len());
    let message = if found.is_empty() {
        "unexpected end of file".to_string()
    } else if found.chars().any(char::is_control) {
        format!("unexpected `{}`", found.escape_debug())
    } else {
        format!("unexpected `{found}`")
    };
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    let label = match expected.len() {
        0 => "not expected here".to_string(),
        1 => format!("expected {}", expected[0]),
        n => format!(
            "expected {} or {}",
            expected[..n - 1].join(", "),
            expected[n - 1]
        ),
    };
    let mut diagnostic = Diagnostic::new(Code::Syntax, message).at(span, label);
    let after = text.get(pos + found.len()..).unwrap_or("");
    let before = text[..pos]
        .trim_end()
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or_default();
    if let Some(keyword) = help_block {
        diagnostic = diagnostic.help(format!("`{keyword}` opens a block: `{keyword} {{ … }}`"));
    } else if let Some(help) = syntax_help(found, before, after, &expected) {
        diagnostic = diagnostic.help(help);
    }
    diagnostic
}

/// Parses `text` again with every attempt tracked: the furthest position reached, and the
/// literal symbols that could have come there (`` `{` ``).
fn furthest_tokens(text: &str) -> Option<(usize, Vec<String>)> {
    // The switch is global to pest: one re-parse at a time, so that another thread's turning
    // it off cannot cut into this one.
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = DETAIL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    pest::set_error_detail(true);
    let result = IamxParser::parse(Rule::file, text);
    pest::set_error_detail(false);
    drop(guard);
    let attempts = result.err()?.parse_attempts()?;
    let mut tokens: Vec<String> = attempts
        .expected_tokens()
        .into_iter()
        .map(|t| t.to_string())
        // Literal symbols only: not character ranges (`a..z`) nor built-in rules.
        .filter(|t| !t.trim().is_empty() && !t.contains("..") && t != "BUILTIN_RULE")
        // Comments may come anywhere; they are never what is missing.
        .filter(|t| !t.starts_with("//") && t != "/*")
        .map(|t| format!("`{t}`"))
        .collect();
    tokens.sort();
    tokens.dedup();
    Some((attempts.max_position, tokens))
}

/// The word or character at a byte offset, for "unexpected `…`".
fn token_at(text: &str, pos: usize) -> &str {
    let Some(rest) = text.get(pos..) else {
        return "";
    };
    let Some(first) = rest.chars().next() else {
        return "";
    };
    let is_word = |c: char| c.is_alphanumeric() || "_-.:*?$/".contains(c);
    if is_word(first) {
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        crate::source::clip(&rest[..end], 64)
    } else {
        &rest[..first.len_utf8()]
    }
}

fn syntax_help(found: &str, before: &str, after: &str, expected: &[&str]) -> Option<String> {
    const KEYWORDS: &[&str] = &[
        "account",
        "partition",
        "region",
        "param",
        "let",
        "policy",
        "boundary",
        "role",
        "user",
        "group",
        "allow",
        "deny",
        "path",
        "attach",
        "groups",
        "tags",
        "trust",
        "description",
    ];
    if found.chars().all(char::is_alphabetic) && !found.is_empty() {
        if let Some(k) = crate::diag::suggest(found, KEYWORDS.iter().copied()) {
            if k != found {
                return Some(format!("did you mean `{k}`?"));
            }
        }
    }
    // A word of its own before a keyword: `managed policy X { … }`.
    let next: String = after
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    if !found.is_empty()
        && found.chars().all(char::is_alphabetic)
        && KEYWORDS.contains(&next.as_str())
        && expected.contains(&format!("`{next}`").as_str())
    {
        return Some(format!("remove `{found}`: this is written `{next} …`"));
    }
    let is_keyword = |w: &str| {
        !w.is_empty() && IamxParser::parse(Rule::keyword, w).is_ok_and(|p| p.as_str() == w)
    };
    // `allow "s3:GetObject"`: actions are written bare.
    if found == "\"" && expected.contains(&rules::phrase(Rule::action_pattern)) {
        let action = after.split('"').next().unwrap_or_default();
        if !action.is_empty() && action.len() <= 64 && !action.contains(char::is_whitespace) {
            return Some(format!(
                "remove the quotes: actions are written bare, `{action}`"
            ));
        }
        return Some("remove the quotes: actions are written bare, `s3:GetObject`".into());
    }
    // `tags { service = "x" }`: a key that is a keyword is quoted.
    if is_keyword(found) && expected.contains(&rules::phrase(Rule::tag)) {
        return Some(format!(
            "`{found}` is a keyword; quote it: `\"{found}\" = …`"
        ));
    }
    // `user test { … }`: a name that is a keyword is quoted.
    if is_keyword(found) && expected.contains(&rules::phrase(Rule::quoted_name)) {
        let kind = if ["user", "role", "group"].contains(&before) {
            format!("{before} ")
        } else {
            String::new()
        };
        return Some(format!(
            "`{found}` is a keyword; quote it: `{kind}\"{found}\"`"
        ));
    }
    if is_keyword(found) && expected.contains(&rules::phrase(Rule::ident)) {
        return Some(format!(
            "`{found}` is a keyword and cannot be a name here; choose another name"
        ));
    }
    if expected.contains(&"`on`") && found.starts_with('"') {
        return Some("resources come after `on`: `allow s3:GetObject on \"arn:…\"`".into());
    }
    None
}

struct Parsing {
    file: FileId,
}

/// Whether a text is only white space and comments.
fn only_trivia(mut text: &str) -> bool {
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return true;
        }
        if let Some(rest) = text.strip_prefix("//") {
            text = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.split_once("*/").map_or("", |(_, r)| r);
        } else {
            return false;
        }
    }
}

/// The children of a pair, taken in order by the rule each is expected to be.
struct Children<'i> {
    pairs: std::iter::Peekable<Pairs<'i, Rule>>,
    span: Span,
}

impl<'i> Children<'i> {
    /// A principal's name: an identifier or a quoted name.
    fn name(&mut self) -> Result<Pair<'i, Rule>> {
        match self.peek() {
            Some(Rule::quoted_name) => self.take(Rule::quoted_name),
            _ => self.take(Rule::ident),
        }
    }

    fn peek(&mut self) -> Option<Rule> {
        self.pairs.peek().map(|p| p.as_rule())
    }

    fn take(&mut self, rule: Rule) -> Result<Pair<'i, Rule>> {
        match self.pairs.next() {
            Some(p) if p.as_rule() == rule => Ok(p),
            _ => Err(internal(self.span, rule)),
        }
    }

    fn optional(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        if self.peek() == Some(rule) {
            self.pairs.next()
        } else {
            None
        }
    }

    fn any(&mut self) -> Result<Pair<'i, Rule>> {
        self.pairs
            .next()
            .ok_or_else(|| internal(self.span, Rule::EOI))
    }
}

fn internal(span: Span, rule: Rule) -> Diagnostic {
    Diagnostic::new(Code::Syntax, "the parser could not read this")
        .at(span, format!("internal: expected {}", rules::phrase(rule)))
}

impl Parsing {
    /// A pair's span, ending at its last token: pest's spans of compound rules take in the
    /// white space and comments after an optional part that was not there.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        fn end(pair: &Pair<Rule>) -> usize {
            let full = pair.as_span().end();
            let Some(last) = pair.clone().into_inner().last() else {
                return full;
            };
            let last_end = end(&last);
            let after = pair
                .as_str()
                .get(last_end - pair.as_span().start()..)
                .unwrap_or("");
            if only_trivia(after) {
                last_end
            } else {
                full // a closing `"`, `]` or `}` of the rule itself
            }
        }
        Span::new(self.file, pair.as_span().start(), end(pair))
    }

    fn internal(&self, span: Span) -> Diagnostic {
        internal(span, Rule::file)
    }

    fn children<'i>(&self, pair: Pair<'i, Rule>) -> Children<'i> {
        let span = self.span(&pair);
        Children {
            pairs: pair.into_inner().peekable(),
            span,
        }
    }

    fn item(&self, pair: Pair<Rule>) -> Result<Item> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::account_item => self.global(pair, GlobalKind::Account),
            Rule::partition_item => self.global(pair, GlobalKind::Partition),
            Rule::region_item => self.global(pair, GlobalKind::Region),
            Rule::param_item => self.param(pair),
            Rule::let_item => self.let_item(pair),
            Rule::policy_item => self.policy_item(pair, PolicyKind::Managed),
            Rule::boundary_item => self.policy_item(pair, PolicyKind::Boundary),
            Rule::role_item => self.principal_item(pair, PrincipalKind::Role),
            Rule::user_item => self.principal_item(pair, PrincipalKind::User),
            Rule::group_item => self.principal_item(pair, PrincipalKind::Group),
            Rule::test_item => self.test_item(pair),
            Rule::resource_policy_item => self.resource_policy_item(pair),
            _ => Err(internal(span, Rule::item)),
        }
    }

    fn docs(&self, pair: Pair<Rule>) -> Vec<String> {
        pair.into_inner()
            .map(|d| {
                let text = d.as_str().trim_start_matches("///");
                text.strip_prefix(' ')
                    .unwrap_or(text)
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    /// A name: an identifier, or a quoted name (`"alice@example.com"`, without its quotes).
    fn ident(&self, pair: Pair<Rule>) -> Ident {
        let text = pair.as_str();
        let name = match pair.as_rule() {
            Rule::quoted_name => text
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(text)
                .replace("\\\"", "\"")
                .replace("\\\\", "\\"),
            _ => text.to_string(),
        };
        Ident {
            name,
            span: self.span(&pair),
        }
    }

    /// A quoted string, or a bare DNS name (`lambda.amazonaws.com`): a string without quotes,
    /// whose span is widened by one on each side so that `content_start` points at its first
    /// character, as for a quoted one.
    fn name_str(&self, p: Pair<Rule>) -> Str {
        match p.as_rule() {
            Rule::string => self.string(p),
            _ => {
                let span = self.span(&p);
                Str {
                    raw: p.as_str().to_string(),
                    span: Span {
                        start: span.start.saturating_sub(1),
                        end: span.end + 1,
                        ..span
                    },
                }
            }
        }
    }

    fn string(&self, pair: Pair<Rule>) -> Str {
        let span = self.span(&pair);
        let raw = pair.as_str();
        let raw = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(raw);
        Str {
            raw: raw.to_string(),
            span,
        }
    }

    fn global(&self, pair: Pair<Rule>, kind: GlobalKind) -> Result<Item> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        c.any()?; // keyword
        let value = self.string(c.take(Rule::string)?);
        Ok(Item::Setting(GlobalSetting {
            docs,
            kind,
            value,
            span,
        }))
    }

    fn param(&self, pair: Pair<Rule>) -> Result<Item> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        c.take(Rule::kw_param)?;
        let name = self.ident(c.take(Rule::param_name)?);
        let default = match c.pairs.next() {
            Some(p) => Some(self.literal(p)?),
            None => None,
        };
        Ok(Item::Param(Param {
            docs,
            name,
            default,
            span,
        }))
    }

    fn literal(&self, pair: Pair<Rule>) -> Result<Literal> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::string => Ok(Literal::Str(self.string(pair))),
            Rule::number => Ok(Literal::Number(pair.as_str().to_string(), span)),
            Rule::boolean => {
                let inner = self.children(pair).any()?;
                Ok(Literal::Bool(inner.as_rule() == Rule::kw_true, span))
            }
            _ => Err(internal(span, Rule::literal)),
        }
    }

    fn let_item(&self, pair: Pair<Rule>) -> Result<Item> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        c.take(Rule::kw_let)?;
        let name = self.ident(c.take(Rule::ident)?);
        let value_pair = c.take(Rule::let_value)?;
        let inner = self.children(value_pair).any()?;
        let value = match inner.as_rule() {
            Rule::list => LetValue::List(self.list(inner)?),
            Rule::action_items => LetValue::Actions(self.action_items(inner)?),
            _ => LetValue::Value(self.value(inner)?),
        };
        Ok(Item::Let(Let {
            docs,
            name,
            value,
            span,
        }))
    }

    fn value(&self, pair: Pair<Rule>) -> Result<Value> {
        match pair.as_rule() {
            Rule::entity_ref => Ok(Value::Entity(self.entity_ref(pair)?)),
            Rule::ident | Rule::setting_ref => Ok(Value::Name(self.ident(pair))),
            _ => Ok(Value::Literal(self.literal(pair)?)),
        }
    }

    fn list(&self, pair: Pair<Rule>) -> Result<List> {
        let span = self.span(&pair);
        let items = pair
            .into_inner()
            .map(|p| self.value(p))
            .collect::<Result<Vec<_>>>()?;
        Ok(List { items, span })
    }

    fn entity_ref(&self, pair: Pair<Rule>) -> Result<EntityRef> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let kind_pair = c.take(Rule::entity_kind)?;
        let kind = match self.children(kind_pair).any()?.as_rule() {
            Rule::kw_role => EntityKind::Role,
            Rule::kw_user => EntityKind::User,
            Rule::kw_group => EntityKind::Group,
            Rule::kw_policy => EntityKind::Policy,
            _ => EntityKind::Boundary,
        };
        let name = self.ident(c.name()?);
        Ok(EntityRef { kind, name, span })
    }

    fn policy_item(&self, pair: Pair<Rule>, kind: PolicyKind) -> Result<Item> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        let attributes = self.attributes(&mut c)?;
        c.any()?; // keyword
        let name = self.ident(c.take(Rule::ident)?);
        let mut json = None;
        if let Some(source) = c.optional(Rule::json_source) {
            let mut s = self.children(source);
            s.take(Rule::kw_json)?;
            json = Some(self.string(s.take(Rule::string)?));
        }
        let entries = c.pairs.map(|p| self.entry(p)).collect::<Result<Vec<_>>>()?;
        Ok(Item::Policy(PolicyItem {
            docs,
            attributes,
            kind,
            name,
            entries,
            json,
            span,
        }))
    }

    fn guard(&self, pair: Pair<Rule>) -> Result<Guard> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        c.take(Rule::kw_guard)?;
        let mut clauses = Vec::new();
        for clause in c.pairs {
            let clause_span = self.span(&clause);
            let rule = clause.as_rule();
            let mut under = None;
            let mut kinds = Vec::new();
            let mut services = Vec::new();
            for part in clause.into_inner() {
                match part.as_rule() {
                    Rule::guard_under => {
                        let mut u = self.children(part);
                        u.take(Rule::kw_under)?;
                        under = Some(self.string(u.take(Rule::string)?));
                    }
                    Rule::guard_kind => {
                        let kind_span = self.span(&part);
                        let kind = match self.children(part).any()?.as_rule() {
                            Rule::kw_users => GuardKind::Users,
                            _ => GuardKind::Roles,
                        };
                        kinds.push((kind, kind_span));
                    }
                    Rule::service_name => {
                        let name_span = self.span(&part);
                        let inner = self.children(part).any()?;
                        let name = match inner.as_rule() {
                            Rule::string => self.string(inner).raw,
                            _ => inner.as_str().to_string(),
                        };
                        services.push((name, name_span));
                    }
                    _ => {}
                }
            }
            clauses.push(match rule {
                Rule::guard_create => GuardClause::Create {
                    kinds,
                    under,
                    span: clause_span,
                },
                Rule::guard_pass => GuardClause::Pass {
                    under,
                    services,
                    span: clause_span,
                },
                Rule::guard_manage => GuardClause::Manage {
                    under,
                    span: clause_span,
                },
                _ => return Err(internal(clause_span, Rule::guard_clause)),
            });
        }
        Ok(Guard { clauses, span })
    }

    fn principal_item(&self, pair: Pair<Rule>, kind: PrincipalKind) -> Result<Item> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        let attributes = self.attributes(&mut c)?;
        c.any()?; // keyword
        let name = self.ident(c.name()?);
        let entries = c.pairs.map(|p| self.entry(p)).collect::<Result<Vec<_>>>()?;
        Ok(Item::Principal(PrincipalItem {
            docs,
            attributes,
            kind,
            name,
            entries,
            span,
        }))
    }

    fn entry(&self, pair: Pair<Rule>) -> Result<Entry> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        if rule == Rule::statement {
            return Ok(Entry::Statement(self.statement(pair)?));
        }
        if rule == Rule::inline_policy {
            return Ok(Entry::Policy(self.inline_policy(pair)?));
        }
        if rule == Rule::guard_block {
            return Ok(Entry::Guard(self.guard(pair)?));
        }
        if rule == Rule::delegate_setting {
            return Ok(Entry::Delegate(span));
        }
        if rule == Rule::max_session_setting {
            let mut c = self.children(pair);
            c.take(Rule::kw_max)?;
            c.take(Rule::kw_session)?;
            let duration = c.take(Rule::duration)?;
            let at = self.span(&duration);
            return Ok(Entry::MaxSession(duration.as_str().to_string(), at, span));
        }
        if rule == Rule::instance_profile_setting {
            let mut c = self.children(pair);
            c.take(Rule::kw_instance)?;
            c.take(Rule::kw_profile)?;
            let name = c.optional(Rule::string).map(|s| self.string(s));
            return Ok(Entry::InstanceProfile(name, span));
        }
        let mut c = self.children(pair);
        c.any()?; // keyword
        Ok(match rule {
            Rule::path_setting => Entry::Path(self.string(c.take(Rule::string)?), span),
            Rule::description_setting => {
                Entry::Description(self.string(c.take(Rule::string)?), span)
            }
            Rule::id_setting => Entry::Id(self.string(c.take(Rule::string)?), span),
            Rule::boundary_setting => Entry::Boundary(self.policy_ref(c.any()?)?, span),
            Rule::attach_setting => Entry::Attach(
                c.pairs.map(|p| self.policy_ref(p)).collect::<Result<_>>()?,
                span,
            ),
            Rule::groups_setting => Entry::Groups(c.pairs.map(|p| self.ident(p)).collect(), span),
            Rule::tags_setting => {
                Entry::Tags(c.pairs.map(|p| self.tag(p)).collect::<Result<_>>()?, span)
            }
            Rule::trust_block => {
                let id = match c.optional(Rule::id_setting) {
                    Some(setting) => {
                        let mut e = self.children(setting);
                        e.take(Rule::kw_id)?;
                        Some(self.string(e.take(Rule::string)?))
                    }
                    None => None,
                };
                Entry::Trust(
                    c.pairs
                        .map(|p| self.trust_statement(p))
                        .collect::<Result<_>>()?,
                    span,
                    id,
                )
            }
            _ => return Err(internal(span, Rule::principal_entry)),
        })
    }

    fn tag(&self, pair: Pair<Rule>) -> Result<Tag> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let key_pair = c.any()?;
        let key = match key_pair.as_rule() {
            Rule::string => self.string(key_pair),
            _ => {
                let span = self.span(&key_pair);
                Str {
                    raw: key_pair.as_str().to_string(),
                    // An identifier key has no quotes; widen by one on each side so
                    // `content_start` still points at its first character.
                    span: Span {
                        start: span.start.saturating_sub(1),
                        ..span
                    },
                }
            }
        };
        let value = self.string(c.take(Rule::string)?);
        Ok(Tag { key, value, span })
    }

    fn inline_policy(&self, pair: Pair<Rule>) -> Result<InlinePolicy> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        let attributes = self.attributes(&mut c)?;
        c.take(Rule::kw_policy)?;
        let name = self.ident(c.take(Rule::ident)?);
        let statements = c.pairs.map(|p| self.statement(p)).collect::<Result<_>>()?;
        Ok(InlinePolicy {
            docs,
            attributes,
            name,
            statements,
            span,
        })
    }

    fn policy_ref(&self, pair: Pair<Rule>) -> Result<PolicyRef> {
        let span = self.span(&pair);
        let inner = self.children(pair).any()?;
        match inner.as_rule() {
            Rule::aws_policy_ref => {
                let mut c = self.children(inner);
                c.take(Rule::kw_aws)?;
                let name_pair = c.any()?;
                let name = match name_pair.as_rule() {
                    Rule::string => self.string(name_pair).raw,
                    _ => name_pair.as_str().to_string(),
                };
                Ok(PolicyRef::Aws(name, span))
            }
            Rule::ident => Ok(PolicyRef::Name(self.ident(inner))),
            Rule::named_policy_ref => {
                let mut c = self.children(inner);
                c.any()?; // `policy` or `boundary`
                Ok(PolicyRef::Name(self.ident(c.take(Rule::ident)?)))
            }
            Rule::string => Ok(PolicyRef::Arn(self.string(inner))),
            _ => Err(internal(span, Rule::policy_ref)),
        }
    }

    fn attributes(&self, c: &mut Children) -> Result<Vec<Attribute>> {
        let mut attributes = Vec::new();
        while let Some(pair) = c.optional(Rule::attribute) {
            let span = self.span(&pair);
            let mut a = self.children(pair);
            let name = self.ident(a.take(Rule::attribute_name)?);
            let mut args = Vec::new();
            while let Some(arg) = a.optional(Rule::attribute_arg) {
                let inner = self.children(arg).any()?;
                let span = self.span(&inner);
                let text = match inner.as_rule() {
                    Rule::string => self.string(inner).raw,
                    _ => inner.as_str().to_string(),
                };
                args.push((text, span));
            }
            attributes.push(Attribute { name, args, span });
        }
        Ok(attributes)
    }

    fn effect(&self, pair: Pair<Rule>) -> Result<(Effect, Span)> {
        let span = self.span(&pair);
        let inner = self.children(pair).any()?;
        let effect = match inner.as_rule() {
            Rule::kw_allow => Effect::Allow,
            _ => Effect::Deny,
        };
        Ok((effect, span))
    }

    /// `on [not] RESOURCES`, from the `on` on.
    fn on_clause(&self, c: &mut Children) -> Result<ResourceClause> {
        let on = c.take(Rule::kw_on)?;
        let not = c.optional(Rule::not_marker).is_some();
        let items_pair = c.take(Rule::resource_items)?;
        let span = self.span(&on).to(self.span(&items_pair));
        let items = items_pair
            .into_inner()
            .map(|p| self.resource_item(p))
            .collect::<Result<_>>()?;
        Ok(ResourceClause { not, items, span })
    }

    fn statement(&self, pair: Pair<Rule>) -> Result<Statement> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        let attributes = self.attributes(&mut c)?;
        let (effect, effect_span) = self.effect(c.take(Rule::effect)?)?;
        let not_action = c.optional(Rule::not_marker).is_some();
        let actions = self.action_items(c.take(Rule::action_items)?)?;
        let mut resource = None;
        let mut conditions = Vec::new();
        while let Some(rule) = c.peek() {
            match rule {
                Rule::kw_on => resource = Some(self.on_clause(&mut c)?),
                Rule::kw_when => {
                    c.take(Rule::kw_when)?;
                    conditions = self.conditions(c.take(Rule::conditions)?)?;
                }
                _ => return Err(internal(span, Rule::statement)),
            }
        }
        Ok(Statement {
            docs,
            attributes,
            effect,
            effect_span,
            not_action,
            actions,
            resource,
            conditions,
            span,
        })
    }

    fn action_items(&self, pair: Pair<Rule>) -> Result<Vec<ActionItem>> {
        pair.into_inner().map(|p| self.action_item(p)).collect()
    }

    fn action_item(&self, pair: Pair<Rule>) -> Result<ActionItem> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::action_pattern => Ok(ActionItem::Pattern(pair.as_str().to_string(), span)),
            Rule::ident => Ok(ActionItem::Name(self.ident(pair))),
            Rule::action_group => {
                let mut c = self.children(pair);
                let head = c.take(Rule::group_head)?;
                let service = head
                    .as_str()
                    .trim_end_matches('{')
                    .trim_end_matches(':')
                    .to_string();
                let names = c
                    .pairs
                    .map(|p| (p.as_str().to_string(), self.span(&p)))
                    .collect();
                Ok(ActionItem::Group {
                    service,
                    names,
                    span,
                })
            }
            _ => Err(internal(span, Rule::action_item)),
        }
    }

    fn resource_item(&self, pair: Pair<Rule>) -> Result<ResourceItem> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::any_resource => Ok(ResourceItem::Any(span)),
            Rule::string => Ok(ResourceItem::Str(self.string(pair))),
            Rule::entity_ref => Ok(ResourceItem::Entity(self.entity_ref(pair)?)),
            Rule::ident | Rule::setting_ref => Ok(ResourceItem::Name(self.ident(pair))),
            _ => Err(internal(span, Rule::resource_item)),
        }
    }

    fn conditions(&self, pair: Pair<Rule>) -> Result<Vec<Condition>> {
        pair.into_inner()
            .filter(|p| p.as_rule() != Rule::kw_and)
            .map(|p| self.condition(p))
            .collect()
    }

    fn condition_key(&self, pair: Pair<Rule>) -> Result<ConditionKey> {
        let span = self.span(&pair);
        let inner = self.children(pair).any()?;
        let name = match inner.as_rule() {
            Rule::string => self.string(inner).raw,
            _ => inner.as_str().to_string(),
        };
        Ok(ConditionKey { name, span })
    }

    fn condition_value(&self, pair: Pair<Rule>) -> Result<ConditionValue> {
        match pair.as_rule() {
            Rule::list => Ok(ConditionValue::List(self.list(pair)?)),
            _ => Ok(ConditionValue::One(self.value(pair)?)),
        }
    }

    fn condition(&self, pair: Pair<Rule>) -> Result<Condition> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut c = self.children(pair);
        match rule {
            Rule::explicit_condition => {
                let key = self.condition_key(c.take(Rule::condition_key)?)?;
                let op = c.take(Rule::operator_name)?;
                let op_span = self.span(&op);
                let value = self.condition_value(c.any()?)?;
                Ok(Condition {
                    key,
                    if_exists: false,
                    kind: ConditionKind::Explicit {
                        operator: op.as_str().to_string(),
                        op_span,
                        value,
                    },
                    span,
                })
            }
            Rule::presence_condition => {
                let key = self.condition_key(c.take(Rule::condition_key)?)?;
                let if_exists = c.optional(Rule::if_exists).is_some();
                let exists = c.any()?.as_rule() == Rule::kw_exists;
                Ok(Condition {
                    key,
                    if_exists,
                    kind: ConditionKind::Presence { exists },
                    span,
                })
            }
            Rule::quantified_condition | Rule::compare_condition => {
                let quantifier = match c.optional(Rule::quantifier) {
                    Some(q) => Some(match self.children(q).any()?.as_rule() {
                        Rule::kw_any => Quantifier::Any,
                        _ => Quantifier::All,
                    }),
                    None => None,
                };
                let key = self.condition_key(c.take(Rule::condition_key)?)?;
                let if_exists = c.optional(Rule::if_exists).is_some();
                let op_pair = c.take(Rule::compare_op)?;
                let op_span = self.span(&op_pair);
                let op = match self.children(op_pair).any()?.as_rule() {
                    Rule::op_eq => CompareOp::Eq,
                    Rule::op_ne => CompareOp::Ne,
                    Rule::op_le => CompareOp::Le,
                    Rule::op_ge => CompareOp::Ge,
                    Rule::op_lt => CompareOp::Lt,
                    Rule::op_gt => CompareOp::Gt,
                    Rule::op_not_like => CompareOp::NotLike,
                    Rule::op_like => CompareOp::Like,
                    Rule::op_not_in => CompareOp::NotIn,
                    _ => CompareOp::In,
                };
                let value = self.condition_value(c.any()?)?;
                Ok(Condition {
                    key,
                    if_exists,
                    kind: ConditionKind::Compare {
                        quantifier,
                        op,
                        op_span,
                        value,
                    },
                    span,
                })
            }
            Rule::bool_condition => {
                let negated = c.optional(Rule::not_marker).is_some();
                let key = self.condition_key(c.take(Rule::condition_key)?)?;
                let if_exists = c.optional(Rule::if_exists).is_some();
                Ok(Condition {
                    key,
                    if_exists,
                    kind: ConditionKind::Bool { negated },
                    span,
                })
            }
            _ => Err(internal(span, Rule::condition)),
        }
    }

    fn test_item(&self, pair: Pair<Rule>) -> Result<Item> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        c.take(Rule::kw_test)?;
        let name = self.string(c.take(Rule::string)?);
        let entries = c.pairs.map(|p| self.test_entry(p)).collect::<Result<_>>()?;
        Ok(Item::Test(TestItem {
            docs,
            name,
            entries,
            span,
        }))
    }

    fn test_entry(&self, pair: Pair<Rule>) -> Result<TestEntry> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut c = self.children(pair);
        match rule {
            Rule::test_as => {
                c.take(Rule::kw_as)?;
                let first = c.any()?;
                let outside = match first.as_rule() {
                    Rule::kw_role => None,
                    Rule::kw_user => None,
                    Rule::kw_federated => Some((OutsideKind::Federated, c.any()?)),
                    Rule::kw_service => Some((OutsideKind::Service, c.any()?)),
                    _ => Some((OutsideKind::Arn, first.clone())),
                };
                if let Some((kind, value)) = outside {
                    let value = self.name_str(value);
                    return Ok(TestEntry::AsOutside { kind, value, span });
                }
                let kind = match first.as_rule() {
                    Rule::kw_role => PrincipalKind::Role,
                    _ => PrincipalKind::User,
                };
                let name = self.ident(c.name()?);
                Ok(TestEntry::As { kind, name, span })
            }
            Rule::test_expect => {
                let docs = self.docs(c.take(Rule::docs)?);
                c.take(Rule::kw_expect)?;
                let outcome_pair = c.take(Rule::expectation)?;
                let outcome_span = self.span(&outcome_pair);
                let mut o = self.children(outcome_pair);
                let outcome = match o.any()?.as_rule() {
                    Rule::kw_explicit => Outcome::ExplicitDeny,
                    Rule::kw_implicit => Outcome::ImplicitDeny,
                    Rule::kw_allow => Outcome::Allow,
                    _ => Outcome::Deny,
                };
                let actions = self.action_items(c.take(Rule::action_items)?)?;
                let mut resource = None;
                let mut context = Vec::new();
                while let Some(rule) = c.peek() {
                    match rule {
                        Rule::kw_on => {
                            c.take(Rule::kw_on)?;
                            resource = Some(self.resource_item(c.any()?)?);
                        }
                        Rule::kw_when => {
                            c.take(Rule::kw_when)?;
                            context = self.conditions(c.take(Rule::conditions)?)?;
                        }
                        _ => return Err(internal(span, Rule::test_expect)),
                    }
                }
                Ok(TestEntry::Expect(Expectation {
                    docs,
                    outcome,
                    outcome_span,
                    actions,
                    resource,
                    context,
                    span,
                }))
            }
            Rule::test_given => {
                c.take(Rule::kw_given)?;
                let subject_pair = c.take(Rule::given_subject)?;
                let mut sc = self.children(subject_pair);
                let subject = match sc.peek() {
                    Some(Rule::kw_attached) => {
                        sc.take(Rule::kw_attached)?;
                        sc.optional(Rule::kw_policy);
                        GivenSubject::Attached(self.policy_ref(sc.take(Rule::policy_ref)?)?)
                    }
                    _ => GivenSubject::Statement(self.statement(sc.take(Rule::statement)?)?),
                };
                let entries = c.pairs.map(|p| self.test_entry(p)).collect::<Result<_>>()?;
                Ok(TestEntry::Given {
                    subject,
                    entries,
                    span,
                })
            }
            _ => Err(internal(span, Rule::test_entry)),
        }
    }

    /// A statement naming principals: a trust policy's, or a resource-based policy's
    /// (`allow [not] PRINCIPALS to [not] ACTIONS [on [not] RESOURCES] [when CONDITIONS]`).
    fn trust_statement(&self, pair: Pair<Rule>) -> Result<TrustStatement> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        let attributes = self.attributes(&mut c)?;
        let (effect, effect_span) = self.effect(c.take(Rule::effect)?)?;
        // `not`, `to not` and `on` come only in a resource-based policy (the grammar says where).
        let not_principal = c.optional(Rule::not_marker).is_some();
        let mut principals = Vec::new();
        while let Some(p) = c.optional(Rule::trust_principal) {
            principals.push(self.trust_principal(p)?);
        }
        let (mut not_action, mut actions, mut resource) = (false, None, None);
        let mut conditions = Vec::new();
        while let Some(rule) = c.peek() {
            match rule {
                Rule::kw_to => {
                    c.take(Rule::kw_to)?;
                    not_action = c.optional(Rule::action_not).is_some();
                    actions = Some(self.action_items(c.take(Rule::action_items)?)?);
                }
                Rule::kw_on => resource = Some(self.on_clause(&mut c)?),
                Rule::kw_when => {
                    c.take(Rule::kw_when)?;
                    conditions = self.conditions(c.take(Rule::conditions)?)?;
                }
                _ => return Err(internal(span, Rule::trust_statement)),
            }
        }
        Ok(TrustStatement {
            docs,
            attributes,
            effect,
            effect_span,
            not_principal,
            principals,
            not_action,
            actions,
            resource,
            conditions,
            span,
        })
    }

    /// `resource policy NAME { description … id … STATEMENTS }`.
    fn resource_policy_item(&self, pair: Pair<Rule>) -> Result<Item> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let docs = self.docs(c.take(Rule::docs)?);
        let attributes = self.attributes(&mut c)?;
        c.take(Rule::kw_resource)?;
        c.take(Rule::kw_policy)?;
        let name = self.ident(c.take(Rule::ident)?);
        let mut entries = Vec::new();
        for entry in c.pairs.by_ref() {
            match entry.as_rule() {
                Rule::id_setting => {
                    let at = self.span(&entry);
                    let mut e = self.children(entry);
                    e.take(Rule::kw_id)?;
                    entries.push(ResourceEntry::Id(self.string(e.take(Rule::string)?), at));
                }
                Rule::resource_statement => {
                    entries.push(ResourceEntry::Statement(self.trust_statement(entry)?))
                }
                _ => return Err(internal(span, Rule::resource_policy_item)),
            }
        }
        Ok(Item::ResourcePolicy(ResourcePolicyItem {
            docs,
            attributes,
            name,
            entries,
            span,
        }))
    }

    fn trust_principal(&self, pair: Pair<Rule>) -> Result<TrustPrincipal> {
        let span = self.span(&pair);
        let inner = self.children(pair).any()?;
        let rule = inner.as_rule();
        let mut c = self.children(inner);
        let name_of = |p: Pair<Rule>| self.name_str(p);
        Ok(match rule {
            Rule::service_principal => {
                c.take(Rule::kw_service)?;
                TrustPrincipal::Service(name_of(c.any()?), span)
            }
            Rule::federated_principal => {
                c.take(Rule::kw_federated)?;
                TrustPrincipal::Federated(name_of(c.any()?), span)
            }
            Rule::account_principal => {
                c.take(Rule::kw_account)?;
                let value = match c.pairs.next() {
                    Some(p) if p.as_rule() == Rule::string => {
                        Some(Value::Literal(Literal::Str(self.string(p))))
                    }
                    Some(p) => Some(Value::Name(self.ident(p))),
                    None => None,
                };
                TrustPrincipal::Account(value, span)
            }
            Rule::entity_principal => {
                let kind = c.any()?.as_rule();
                let name = self.ident(c.name()?);
                if kind == Rule::kw_role {
                    TrustPrincipal::Role(name, span)
                } else {
                    TrustPrincipal::User(name, span)
                }
            }
            Rule::anyone_principal => TrustPrincipal::Anyone(span),
            Rule::arn_principal => TrustPrincipal::Arn(self.string(c.take(Rule::string)?)),
            _ => return Err(internal(span, Rule::trust_principal)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_rule, Rule};

    fn accepts(rule: Rule, text: &str) {
        if let Err(e) = parse_rule(rule, text) {
            panic!("{rule:?} should accept {text:?}: {e}");
        }
    }

    fn rejects(rule: Rule, text: &str) {
        assert!(
            parse_rule(rule, text).is_err(),
            "{rule:?} should reject {text:?}"
        );
    }

    #[test]
    fn identifiers_exclude_keywords_but_not_their_prefixes() {
        accepts(Rule::ident, "Developer");
        accepts(Rule::ident, "my-role.v2+x");
        accepts(Rule::ident, "allowance");
        accepts(Rule::ident, "roles");
        rejects(Rule::ident, "allow");
        rejects(Rule::ident, "role");
        rejects(Rule::ident, "9lives");
        accepts(Rule::param_name, "account");
        accepts(Rule::param_name, "env");
    }

    #[test]
    fn strings_and_escapes() {
        accepts(Rule::string, r#""plain""#);
        accepts(Rule::string, r#""with \"quote\" and \{brace}""#);
        accepts(Rule::string, r#""arn:aws:s3:::b/${aws:username}/*""#);
        rejects(Rule::string, "\"no\nnewline\"");
        rejects(Rule::string, "\"open");
    }

    #[test]
    fn numbers_and_booleans() {
        accepts(Rule::number, "3600");
        accepts(Rule::number, "-1.5");
        rejects(Rule::number, "12abc");
        accepts(Rule::boolean, "true");
        rejects(Rule::boolean, "truthy");
    }

    #[test]
    fn action_forms() {
        accepts(Rule::action_items, "s3:GetObject");
        accepts(Rule::action_items, "s3:Get*, ec2:Describe?nstances");
        accepts(Rule::action_items, "*");
        accepts(Rule::action_items, "iam:{CreateUser, AttachUserPolicy,}");
        accepts(Rule::action_items, "ReadOnly, s3:read");
        rejects(Rule::action_items, "s3:");
        rejects(Rule::action_items, "iam:{}");
    }

    #[test]
    fn resource_forms() {
        accepts(Rule::resource_items, "*");
        accepts(
            Rule::resource_items,
            r#""arn:aws:s3:::b", role Deployer, boundary B, Buckets"#,
        );
        rejects(Rule::resource_items, "role");
    }

    #[test]
    fn condition_forms() {
        for text in [
            r#"aws:username == "alice""#,
            r#"aws:PrincipalTag/team != "x""#,
            r#"s3:prefix like "home/*""#,
            r#"s3:prefix not like "tmp/*""#,
            "aws:MultiFactorAuthAge < 3600",
            "aws:MultiFactorAuthAge? <= 3600",
            r#"aws:SourceIp in ["10.0.0.0/8"]"#,
            r#"aws:SourceIp not in ["10.0.0.0/8"]"#,
            "aws:RequestTag/x exists",
            "aws:RequestTag/x missing",
            r#"any aws:TagKeys in ["a", "b"]"#,
            r#"all aws:TagKeys like "t*""#,
            "aws:SecureTransport",
            "not aws:SecureTransport",
            "aws:MultiFactorAuthPresent?",
            r#"aws:userid StringEqualsIgnoreCase "X""#,
            r#"aws:TagKeys ForAnyValue:StringLike ["a*"]"#,
            r#"token.actions.githubusercontent.com:sub like "repo:o/*""#,
            r#""aws:PrincipalTag/with space" == "y""#,
            "iam:PermissionsBoundary == boundary B",
        ] {
            accepts(Rule::conditions, text);
        }
        accepts(
            Rule::conditions,
            "aws:SecureTransport and aws:username == \"a\"",
        );
        rejects(Rule::conditions, "== \"a\"");
    }

    #[test]
    fn statements_and_items() {
        accepts(Rule::statement, "allow s3:GetObject on *");
        accepts(Rule::statement, "/// doc\n@sid(A) deny not iam:* on not \"arn:aws:iam::1:role/x\" when aws:SecureTransport");
        accepts(
            Rule::statement,
            "allow s3:GetObject when aws:SecureTransport on *",
        );
        rejects(Rule::statement, "permit s3:GetObject on *");
        accepts(Rule::file, "");
        accepts(Rule::file, "// comment only\n/* block */");
        accepts(
            Rule::file,
            "account \"123456789012\"\nparam env = \"dev\"\nlet x = [\"a\", 1, true]",
        );
        accepts(Rule::file, "role R { path \"/x/\" trust { allow service ec2.amazonaws.com, account, role R to sts:AssumeRole } boundary aws PowerUserAccess attach P, aws service-role/X tags { a = \"b\", \"c d\" = \"e\" } }");
        accepts(
            Rule::file,
            "user U { groups G1, G2  policy Inline { allow s3:* on * } }",
        );
        rejects(Rule::file, "role { }");
        rejects(Rule::file, "policy P { allow }");
    }
}
