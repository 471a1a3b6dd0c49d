//! `@allow(CODE, "reason")`: a warning accepted for one item or statement, with the reason
//! written next to it, as clippy's `#[allow]` does for Rust. An accepted warning is not printed;
//! it is counted, listed on demand, and carried in SARIF as a suppression. An `@allow` that
//! accepts nothing is itself a warning, so that accepted warnings never go stale.

use crate::ast::{Attribute, Entry, Item, Module};
use crate::diag::{self, Code, Diagnostic, Severity};
use crate::source::Span;

/// One `@allow`: the code it accepts, why, and where it reaches (the item or statement it is
/// written on).
#[derive(Clone, Debug)]
pub struct Allowance {
    pub code: Code,
    pub reason: String,
    /// The item or statement: warnings whose place is inside it are accepted.
    pub reach: Span,
    /// The attribute itself.
    pub at: Span,
}

/// A warning accepted by an `@allow`, with its reason.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub diagnostic: Diagnostic,
    pub reason: String,
    /// Where the `@allow` is written.
    pub allowed_at: Span,
}

/// Every `@allow` of the sources, and the diagnostics of the malformed ones.
pub fn collect(modules: &[Module]) -> (Vec<Allowance>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut read = |attributes: &[Attribute], reach: Span| {
        for a in attributes.iter().filter(|a| a.name.name == "allow") {
            match allowance(a, reach) {
                Ok(allowance) => out.push(allowance),
                Err(d) => problems.push(d),
            }
        }
    };
    for module in modules {
        for item in &module.items {
            let (attributes, entries, span) = match item {
                Item::Policy(p) => (&p.attributes, &p.entries, p.span),
                Item::Principal(p) => (&p.attributes, &p.entries, p.span),
                Item::ResourcePolicy(r) => {
                    read(&r.attributes, r.span);
                    for entry in &r.entries {
                        if let crate::ast::ResourceEntry::Statement(s) = entry {
                            read(&s.attributes, s.span);
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            read(attributes, span);
            for entry in entries {
                match entry {
                    Entry::Statement(s) => read(&s.attributes, s.span),
                    Entry::Policy(inline) => {
                        read(&inline.attributes, inline.span);
                        for s in &inline.statements {
                            read(&s.attributes, s.span);
                        }
                    }
                    Entry::Trust(statements, _, _) => {
                        for s in statements {
                            read(&s.attributes, s.span);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    (out, problems)
}

/// Reads one `@allow(CODE, "reason")`.
fn allowance(a: &Attribute, reach: Span) -> Result<Allowance, Diagnostic> {
    let usage = "write `@allow(W0611, \"break-glass role, approved in SEC-42\")`";
    let [(code_text, code_span), (reason, reason_span)] = a.args.as_slice() else {
        let (message, label) = match a.args.len() {
            0 => ("`@allow` needs a code and a reason", "nothing given"),
            1 => (
                "`@allow` needs a reason",
                "say why the warning is accepted here",
            ),
            _ => ("`@allow` takes one code and one reason", "more given"),
        };
        return Err(Diagnostic::new(Code::UnknownAttribute, message)
            .at(a.span, label)
            .help(format!("{usage}; one `@allow` per code")));
    };
    let Some(code) = Code::parse(code_text) else {
        let warnings = Code::ALL
            .iter()
            .filter(|c| c.severity() == Severity::Warning)
            .map(|c| c.as_str());
        let help = diag::did_you_mean(diag::suggest(code_text, warnings))
            .unwrap_or_else(|| format!("name a warning's code: {usage}"));
        return Err(Diagnostic::new(
            Code::UnknownAttribute,
            format!("`{code_text}` is not a diagnostic code"),
        )
        .at(*code_span, "no such code")
        .help(help));
    };
    if code.severity() == Severity::Error {
        return Err(Diagnostic::new(
            Code::UnknownAttribute,
            format!("`{code_text}` is an error, which cannot be accepted"),
        )
        .at(*code_span, "an error")
        .help(
            "`@allow` accepts warnings; an error is something AWS or iamx cannot build: fix it",
        ));
    }
    if reason.trim().is_empty() {
        return Err(
            Diagnostic::new(Code::UnknownAttribute, "`@allow` needs a reason")
                .at(*reason_span, "empty")
                .help(usage),
        );
    }
    Ok(Allowance {
        code,
        reason: reason.clone(),
        reach,
        at: a.span,
    })
}

/// Takes out of `diagnostics` the warnings an `@allow` accepts, and adds a warning for each
/// `@allow` that accepts none. A warning is accepted when its code is the allowance's and its
/// place is within the item or statement the `@allow` is written on.
pub fn apply(
    allowances: &[Allowance],
    diagnostics: &mut Vec<Diagnostic>,
    complete: bool,
) -> Vec<Accepted> {
    if allowances.is_empty() {
        return Vec::new();
    }
    let mut used = vec![false; allowances.len()];
    let mut accepted = Vec::new();
    diagnostics.retain(|d| {
        if d.severity() != Severity::Warning {
            return true;
        }
        let Some(span) = d.span else {
            return true;
        };
        // The innermost `@allow` that reaches the warning (a statement's, before its item's).
        let found = allowances
            .iter()
            .enumerate()
            .filter(|(_, a)| a.code == d.code && within(span, a.reach))
            .min_by_key(|(_, a)| a.reach.end - a.reach.start);
        match found {
            Some((i, a)) => {
                used[i] = true;
                accepted.push(Accepted {
                    diagnostic: d.clone(),
                    reason: a.reason.clone(),
                    allowed_at: a.at,
                });
                false
            }
            None => true,
        }
    });
    for (a, used) in allowances.iter().zip(used) {
        if !used && complete {
            diagnostics.push(
                Diagnostic::new(
                    Code::UnusedAllow,
                    format!("`@allow({})` accepts no warning", a.code.as_str()),
                )
                .at(a.at, format!("no {} is reported here", a.code.as_str()))
                .help("remove it: what it accepted is gone, or it is on the wrong item"),
            );
        }
    }
    accepted
}

fn within(inner: Span, outer: Span) -> bool {
    inner.file == outer.file && inner.start >= outer.start && inner.end <= outer.end
}
