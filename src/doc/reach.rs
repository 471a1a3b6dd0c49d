//! What a grant and the boundary statement that lets it through reach together: the
//! resources both name, worked out with the guardrail's sets of ARN patterns
//! ([`crate::guardrail::lang`]), and what of a grant the boundary cuts.
//!
//! Two patterns whose intersection is one of them (`*` and `arn:aws:s3:::b/app/*`,
//! `arn:aws:s3:::b/*` and `arn:aws:s3:::b/app/*`) intersect exactly; two that merely overlap
//! (`arn:aws:s3:::b/*/logs` and `arn:aws:s3:::b/app/*`) are kept as a pair, because no one
//! IAM pattern writes what both match; two that share nothing drop out.

use serde::Serialize;

use crate::guardrail::lang::{self, Group, Lang, Sym};
use crate::iam::Statement;

/// A statement's `Resource` or `NotResource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resources {
    pub not: bool,
    pub values: Vec<String>,
}

impl Resources {
    pub fn of(s: &Statement) -> Resources {
        match &s.resource {
            None => Resources {
                not: false,
                values: vec!["*".to_string()],
            },
            Some(b) => Resources {
                not: b.not,
                values: b.values.iter().map(|v| v.value.clone()).collect(),
            },
        }
    }

    /// Every resource: `*`, or `NotResource` of nothing.
    pub fn every(&self) -> bool {
        if self.not {
            self.values.is_empty()
        } else {
            self.values.iter().any(|v| v == "*")
        }
    }

    /// The resources as a set.
    pub fn as_set(&self) -> ResourceSet {
        if self.every() {
            ResourceSet::every()
        } else if self.not {
            ResourceSet {
                resources: vec!["*".into()],
                except: self.values.clone(),
                both: Vec::new(),
            }
        } else {
            ResourceSet {
                resources: self.values.clone(),
                except: Vec::new(),
                both: Vec::new(),
            }
        }
    }
}

/// A set of resources, as data: those that match one of `resources`, or both patterns of a
/// pair of `both`, and none of `except`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ResourceSet {
    pub resources: Vec<String>,
    pub except: Vec<String>,
    /// Pairs of patterns that overlap: the resources both match are in the set. iamx cannot
    /// write them as one pattern, so it shows both.
    pub both: Vec<[String; 2]>,
}

impl ResourceSet {
    pub fn every() -> ResourceSet {
        ResourceSet {
            resources: vec!["*".into()],
            except: Vec::new(),
            both: Vec::new(),
        }
    }

    pub fn is_every(&self) -> bool {
        self.except.is_empty() && self.resources.iter().any(|r| r == "*")
    }

    /// Whether the set is exactly the statement's own resources.
    pub fn is(&self, r: &Resources) -> bool {
        *self == r.as_set()
    }
}

/// A pattern as the set machinery reads it: policy variables match anything, and an ARN's
/// wildcards stay within its parts.
fn pattern(text: &str) -> Vec<Sym> {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        plain.push_str(&rest[..i]);
        plain.push('*');
        rest = rest[i..].find('}').map_or("", |j| &rest[i + j + 1..]);
    }
    plain.push_str(rest);
    lang::arn_parts(lang::glob(&plain, true))
}

fn patterns(texts: &[String]) -> Vec<Vec<Sym>> {
    texts.iter().map(|t| pattern(t)).collect()
}

/// Whether the set is empty; a search too large to finish counts as not empty.
fn empty(l: &Lang) -> bool {
    matches!(l.witness(), Ok(None))
}

/// Whether every resource `x` matches is matched by one of `ys`.
fn within(x: &str, ys: &[String]) -> bool {
    let mut l = Lang::one_of(vec![pattern(x)]);
    l.none = patterns(ys);
    empty(&l)
}

fn disjoint(x: &str, y: &str) -> bool {
    empty(&Lang::one_of(vec![pattern(x)]).and(vec![pattern(y)]))
}

/// Patterns `xs` without what `ns` match: `None` when nothing is left.
fn outside(xs: &[String], ns: &[String]) -> Option<ResourceSet> {
    let kept: Vec<String> = xs.iter().filter(|x| !within(x, ns)).cloned().collect();
    if kept.is_empty() {
        return None;
    }
    let except = ns
        .iter()
        .filter(|n| kept.iter().any(|x| !disjoint(x, n)))
        .cloned()
        .collect();
    Some(ResourceSet {
        resources: kept,
        except,
        both: Vec::new(),
    })
}

/// The resources both name; `None` when they share none.
pub fn intersect(g: &Resources, b: &Resources) -> Option<ResourceSet> {
    if g.every() {
        return Some(b.as_set());
    }
    if b.every() {
        return Some(g.as_set());
    }
    match (g.not, b.not) {
        (false, false) => {
            let mut resources: Vec<String> = Vec::new();
            let mut both: Vec<[String; 2]> = Vec::new();
            for x in &g.values {
                for y in &b.values {
                    if within(x, std::slice::from_ref(y)) {
                        resources.push(x.clone());
                    } else if within(y, std::slice::from_ref(x)) {
                        resources.push(y.clone());
                    } else if !disjoint(x, y) {
                        both.push([x.clone(), y.clone()]);
                    }
                }
            }
            resources.sort();
            resources.dedup();
            both.sort();
            both.dedup();
            (!resources.is_empty() || !both.is_empty()).then_some(ResourceSet {
                resources,
                except: Vec::new(),
                both,
            })
        }
        (false, true) => outside(&g.values, &b.values),
        (true, false) => outside(&b.values, &g.values),
        (true, true) => {
            let mut except: Vec<String> = g.values.iter().chain(&b.values).cloned().collect();
            except.sort();
            except.dedup();
            Some(ResourceSet {
                resources: vec!["*".into()],
                except,
                both: Vec::new(),
            })
        }
    }
}

/// A set without what a `Deny` with no condition names: `None` when nothing is left.
pub fn subtract(set: ResourceSet, d: &Resources) -> Option<ResourceSet> {
    if d.every() {
        return None;
    }
    let ResourceSet {
        resources,
        mut except,
        both,
    } = set;
    if d.not {
        // Denied everywhere but `d.values`: what is left is within them.
        let mut kept = Vec::new();
        let mut pairs: Vec<[String; 2]> = Vec::new();
        for x in &resources {
            if x == "*" || within(x, &d.values) {
                if x == "*" {
                    kept.extend(d.values.iter().cloned());
                } else {
                    kept.push(x.clone());
                }
                continue;
            }
            for n in &d.values {
                if within(n, std::slice::from_ref(x)) {
                    kept.push(n.clone());
                } else if !disjoint(x, n) {
                    pairs.push([x.clone(), n.clone()]);
                }
            }
        }
        for [x, y] in both {
            if d.values
                .iter()
                .any(|n| !disjoint(&x, n) && !disjoint(&y, n))
            {
                pairs.push([x, y]);
            }
        }
        kept.sort();
        kept.dedup();
        pairs.sort();
        pairs.dedup();
        except.retain(|e| kept.iter().any(|k| !disjoint(k, e)));
        return (!kept.is_empty() || !pairs.is_empty()).then_some(ResourceSet {
            resources: kept,
            except,
            both: pairs,
        });
    }
    let kept: Vec<String> = resources
        .into_iter()
        .filter(|x| !within(x, &d.values))
        .collect();
    let both: Vec<[String; 2]> = both
        .into_iter()
        .filter(|[x, y]| !within(x, &d.values) && !within(y, &d.values))
        .collect();
    if kept.is_empty() && both.is_empty() {
        return None;
    }
    for n in &d.values {
        let touches = kept.iter().any(|x| !disjoint(x, n))
            || both.iter().any(|[x, y]| !disjoint(x, n) && !disjoint(y, n));
        if touches && !except.contains(n) {
            except.push(n.clone());
        }
    }
    except.sort();
    Some(ResourceSet {
        resources: kept,
        except,
        both,
    })
}

/// What the boundary cuts of a grant's resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cut {
    /// All of it: no statement of the boundary lets any of its resources through.
    pub whole: bool,
    /// The resources cut: the grant's, but for `except`, and (when the boundary is written
    /// with `NotResource`) only those within every list of `within`.
    pub resources: Vec<String>,
    pub except: Vec<String>,
    pub within: Vec<Vec<String>>,
    /// Statements of the boundary name the action with conditions: they let some of the cut
    /// through, when their conditions hold.
    pub unless_conditions: bool,
}

/// What the boundary's statements `bs` (with whether each has conditions) cut of a grant on
/// `g`; `None` when it lets all of it through.
pub fn cut(g: &Resources, bs: &[(&Resources, bool)]) -> Option<Cut> {
    let plain: Vec<&Resources> = bs.iter().filter(|(_, c)| !c).map(|(r, _)| *r).collect();
    let unless_conditions = bs.iter().any(|(_, c)| *c);
    if plain.iter().any(|b| b.every()) {
        return None;
    }
    let whole = plain.iter().all(|b| intersect(g, b).is_none());
    let written = g.as_set();
    if whole {
        return Some(Cut {
            whole,
            resources: written.resources,
            except: written.except,
            within: Vec::new(),
            unless_conditions,
        });
    }
    // What is left of the grant once the boundary's unconditional statements have let
    // their resources through.
    let allowed: Vec<String> = plain
        .iter()
        .filter(|b| !b.not)
        .flat_map(|b| b.values.iter().cloned())
        .collect();
    let within: Vec<Vec<String>> = plain
        .iter()
        .filter(|b| b.not)
        .map(|b| b.values.clone())
        .collect();
    let mut left = if g.every() || g.not {
        Lang::any()
    } else {
        Lang::one_of(patterns(&g.values))
    };
    if g.not {
        left.none.extend(patterns(&g.values));
    }
    left.none.extend(patterns(&allowed));
    for w in &within {
        left.all.push(Group::from(patterns(w)));
    }
    if empty(&left) {
        return None;
    }
    let mut except = written.except;
    except.extend(allowed.into_iter().filter(|a| {
        written
            .resources
            .iter()
            .any(|x| x == "*" || !disjoint(x, a))
    }));
    except.sort();
    except.dedup();
    Some(Cut {
        whole,
        resources: written.resources,
        except,
        within,
        unless_conditions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(values: &[&str]) -> Resources {
        Resources {
            not: false,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn not(values: &[&str]) -> Resources {
        Resources {
            not: true,
            ..r(values)
        }
    }

    fn set(resources: &[&str], except: &[&str]) -> ResourceSet {
        ResourceSet {
            resources: resources.iter().map(|v| v.to_string()).collect(),
            except: except.iter().map(|v| v.to_string()).collect(),
            both: Vec::new(),
        }
    }

    #[test]
    fn every_resource_narrows_to_the_boundary() {
        let app = r(&["arn:aws:s3:::bucket/app/*"]);
        assert_eq!(
            intersect(&r(&["*"]), &app),
            Some(set(&["arn:aws:s3:::bucket/app/*"], &[]))
        );
        assert_eq!(
            intersect(&app, &r(&["*"])),
            Some(set(&["arn:aws:s3:::bucket/app/*"], &[]))
        );
    }

    #[test]
    fn the_narrower_pattern_wins_and_disjoint_ones_drop_out() {
        let bucket = r(&["arn:aws:s3:::bucket/*", "arn:aws:s3:::other/*"]);
        let app = r(&["arn:aws:s3:::bucket/app/*"]);
        assert_eq!(
            intersect(&bucket, &app),
            Some(set(&["arn:aws:s3:::bucket/app/*"], &[]))
        );
        assert_eq!(
            intersect(&r(&["arn:aws:s3:::other/*"]), &app),
            None,
            "no resource is in both"
        );
    }

    #[test]
    fn overlapping_patterns_are_kept_as_a_pair() {
        let logs = r(&["arn:aws:s3:::bucket/*/logs"]);
        let app = r(&["arn:aws:s3:::bucket/app/*"]);
        let both = intersect(&logs, &app).unwrap();
        assert!(both.resources.is_empty());
        assert_eq!(
            both.both,
            [[
                "arn:aws:s3:::bucket/*/logs".to_string(),
                "arn:aws:s3:::bucket/app/*".to_string()
            ]]
        );
    }

    #[test]
    fn not_resource_subtracts() {
        let bucket = r(&["arn:aws:s3:::bucket/*"]);
        let secret = not(&["arn:aws:s3:::bucket/secret/*", "arn:aws:s3:::other/*"]);
        assert_eq!(
            intersect(&bucket, &secret),
            Some(set(
                &["arn:aws:s3:::bucket/*"],
                &["arn:aws:s3:::bucket/secret/*"]
            ))
        );
        assert_eq!(intersect(&r(&["arn:aws:s3:::other/x"]), &secret), None);
    }

    #[test]
    fn denies_with_no_condition_are_taken_out() {
        let app = set(&["arn:aws:s3:::bucket/app/*"], &[]);
        assert_eq!(
            subtract(app.clone(), &r(&["arn:aws:s3:::bucket/app/secret/*"])),
            Some(set(
                &["arn:aws:s3:::bucket/app/*"],
                &["arn:aws:s3:::bucket/app/secret/*"]
            ))
        );
        assert_eq!(subtract(app.clone(), &r(&["arn:aws:s3:::bucket/*"])), None);
        assert_eq!(
            subtract(app.clone(), &r(&["arn:aws:s3:::other/*"])),
            Some(app.clone()),
            "a deny elsewhere changes nothing"
        );
        // Denied everywhere but the application's objects: on `*`, only those are left.
        assert_eq!(
            subtract(ResourceSet::every(), &not(&["arn:aws:s3:::bucket/app/*"])),
            Some(app.clone())
        );
        assert_eq!(
            subtract(
                set(&["arn:aws:s3:::other/*"], &[]),
                &not(&["arn:aws:s3:::bucket/app/*"])
            ),
            None
        );
    }

    #[test]
    fn a_grant_on_every_resource_is_partly_cut_by_a_narrower_boundary() {
        let app = r(&["arn:aws:s3:::bucket/app/*"]);
        let c = cut(&r(&["*"]), &[(&app, false)]).unwrap();
        assert!(!c.whole);
        assert_eq!(c.resources, ["*"]);
        assert_eq!(c.except, ["arn:aws:s3:::bucket/app/*"]);
        assert_eq!(cut(&app, &[(&r(&["arn:aws:s3:::bucket/*"]), false)]), None);
        let whole = cut(&app, &[(&r(&["arn:aws:s3:::other/*"]), false)]).unwrap();
        assert!(whole.whole);
        let conditional = cut(&app, &[(&r(&["*"]), true)]).unwrap();
        assert!(conditional.whole && conditional.unless_conditions);
    }
}
