//! The diagrams: the project's, and each principal's neighbourhood, as one graph drawn in
//! Mermaid (for the pages) and in Graphviz's DOT (`--graph dot`).
//!
//! Principals are grouped by path. A diagram with more than [`MAX_NODES`] principals
//! collapses them: one node per kind and path ("12 users under /dev/"), and one edge per
//! kind of link between two such nodes, with how many links it stands for.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::{Docs, Edge, PrincipalDoc};

/// Above this many principals, a diagram collapses them by kind and path.
pub const MAX_NODES: usize = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Principal,
    Group,
    Boundary,
    Outside,
    Many,
}

struct Node {
    label: String,
    shape: Shape,
    focus: bool,
}

/// A diagram, drawn in either language.
pub struct Graph {
    nodes: Vec<Node>,
    /// Paths, each with its nodes.
    clusters: Vec<(String, Vec<usize>)>,
    /// Nodes in no path: boundaries, services, accounts.
    loose: Vec<usize>,
    edges: Vec<(usize, usize, String)>,
    /// Principals drawn one by one, or collapsed by kind and path.
    pub collapsed: bool,
}

/// How edges name a principal: `user alice`.
pub fn principal_key(p: &PrincipalDoc) -> String {
    format!("{} {}", p.kind, p.name)
}

/// The principals by how edges name them, and the edges of each: made once per run.
pub struct Index<'a> {
    docs: &'a Docs,
    principals: BTreeMap<String, &'a PrincipalDoc>,
    keys: Vec<String>,
    edges_of: HashMap<&'a str, Vec<&'a Edge>>,
}

impl<'a> Index<'a> {
    pub fn new(docs: &'a Docs) -> Index<'a> {
        let mut edges_of: HashMap<&str, Vec<&Edge>> = HashMap::new();
        for e in &docs.edges {
            edges_of.entry(e.from.as_str()).or_default().push(e);
            if e.to != e.from {
                edges_of.entry(e.to.as_str()).or_default().push(e);
            }
        }
        Index {
            docs,
            principals: docs
                .principals
                .iter()
                .map(|p| (principal_key(p), p))
                .collect(),
            keys: docs.principals.iter().map(principal_key).collect(),
            edges_of,
        }
    }

    /// The principal edges name as `key` (`user alice`).
    pub fn principal(&self, key: &str) -> Option<&'a PrincipalDoc> {
        self.principals.get(key).copied()
    }
}

/// The graph of the whole project (`focus` `None`) or of one principal's neighbourhood.
pub fn build(index: &Index<'_>, focus: Option<&PrincipalDoc>) -> Graph {
    let docs = index.docs;
    let principals = &index.principals;
    let focus_key = focus.map(principal_key);
    let edges: Vec<&Edge> = match &focus_key {
        None => docs.edges.iter().collect(),
        Some(f) => index.edges_of.get(f.as_str()).cloned().unwrap_or_default(),
    };
    let keys = &index.keys;
    // The principals drawn, in order.
    let mut drawn: Vec<&str> = match &focus_key {
        None => keys.iter().map(String::as_str).collect(),
        Some(f) => {
            let mut keys: Vec<&str> = vec![f.as_str()];
            for e in &edges {
                for k in [e.from.as_str(), e.to.as_str()] {
                    if principals.contains_key(k) && !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
            keys
        }
    };
    drawn.sort_by_key(|k| {
        (
            focus_key.as_deref() != Some(*k),
            principals.get(*k).map(|p| (&p.path, p.kind, &p.name)),
        )
    });
    let collapsed = drawn.len() > MAX_NODES;
    let mut g = Graph {
        nodes: Vec::new(),
        clusters: Vec::new(),
        loose: Vec::new(),
        edges: Vec::new(),
        collapsed,
    };
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    // What each key is drawn as: itself, or its kind and path when others share them.
    let bucket = |key: &str| -> Option<String> {
        match principals.get(key) {
            Some(p) if collapsed && focus_key.as_deref() != Some(key) => {
                Some(format!("{}s under {}", p.kind, p.path))
            }
            _ => None,
        }
    };
    let mut many: BTreeMap<String, usize> = BTreeMap::new();
    for k in &drawn {
        if let Some(b) = bucket(k) {
            *many.entry(b).or_default() += 1;
        }
    }
    let drawn_as = |key: &str| -> String {
        match bucket(key) {
            Some(b) if many.get(&b).is_some_and(|&n| n > 1) => b,
            _ => key.to_string(),
        }
    };
    let mut node = |g: &mut Graph, key: &str| -> usize {
        let as_key = drawn_as(key);
        if let Some(&i) = ids.get(&as_key) {
            return i;
        }
        let i = g.nodes.len();
        let p = principals.get(key);
        let is_many = p.is_some() && as_key != key;
        let (label, shape) = match p {
            Some(p) if is_many => {
                let n = many.get(&as_key).copied().unwrap_or(1);
                (
                    format!(
                        "{n} {}{} under {}",
                        p.kind,
                        if n == 1 { "" } else { "s" },
                        p.path
                    ),
                    Shape::Many,
                )
            }
            Some(p) if p.kind == "group" => (key.to_string(), Shape::Group),
            Some(_) => (key.to_string(), Shape::Principal),
            None if key.starts_with("boundary ") => (key.to_string(), Shape::Boundary),
            None => (key.to_string(), Shape::Outside),
        };
        g.nodes.push(Node {
            label,
            shape,
            focus: focus_key.as_deref() == Some(key),
        });
        ids.insert(as_key, i);
        match p {
            Some(p) => match g.clusters.iter_mut().find(|(path, _)| *path == p.path) {
                Some((_, members)) => members.push(i),
                None => g.clusters.push((p.path.clone(), vec![i])),
            },
            None => g.loose.push(i),
        }
        i
    };
    for k in &drawn {
        node(&mut g, k);
    }
    let mut counted: BTreeMap<(usize, usize, &str), usize> = BTreeMap::new();
    for e in &edges {
        let from = node(&mut g, &e.from);
        let to = node(&mut g, &e.to);
        *counted.entry((from, to, e.label.as_str())).or_default() += 1;
    }
    g.edges = counted
        .into_iter()
        .map(|((from, to, label), n)| {
            let label = if n > 1 {
                format!("{label} ×{n}")
            } else {
                label.to_string()
            };
            (from, to, label)
        })
        .collect();
    g
}

impl Graph {
    /// How many edges it draws.
    pub fn edges_len(&self) -> usize {
        self.edges.len()
    }

    /// The graph in Mermaid, as a fenced block.
    pub fn mermaid(&self) -> String {
        let label = |s: &str| s.replace('"', "#quot;");
        let node = |out: &mut String, i: usize, indent: &str| {
            let n = &self.nodes[i];
            let text = label(&n.label);
            let shape = match n.shape {
                Shape::Boundary => format!("n{i}{{{{\"{text}\"}}}}"),
                Shape::Group => format!("n{i}([\"{text}\"])"),
                Shape::Outside => format!("n{i}>\"{text}\"]"),
                Shape::Many => format!("n{i}[[\"{text}\"]]"),
                Shape::Principal => format!("n{i}[\"{text}\"]"),
            };
            let _ = writeln!(out, "{indent}{shape}");
        };
        let mut out = String::from("```mermaid\nflowchart LR\n");
        for (c, (path, members)) in self.clusters.iter().enumerate() {
            let _ = writeln!(out, "  subgraph p{c}[\"path {}\"]", label(path));
            for &i in members {
                node(&mut out, i, "    ");
            }
            out.push_str("  end\n");
        }
        for &i in &self.loose {
            node(&mut out, i, "  ");
        }
        for (from, to, text) in &self.edges {
            let arrow = if text.starts_with("bounded by") {
                "-.->"
            } else {
                "-->"
            };
            let _ = writeln!(out, "  n{from} {arrow}|\"{}\"| n{to}", label(text));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.focus {
                let _ = writeln!(out, "  style n{i} stroke-width:3px");
            }
        }
        out.push_str("```\n");
        out
    }

    /// The graph in Graphviz's DOT language.
    pub fn dot(&self, name: &str) -> String {
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let node = |out: &mut String, i: usize, indent: &str| {
            let n = &self.nodes[i];
            let shape = match n.shape {
                Shape::Boundary => "hexagon",
                Shape::Group => "ellipse",
                Shape::Outside => "cds",
                Shape::Many => "box3d",
                Shape::Principal => "box",
            };
            let bold = if n.focus { ", penwidth=3" } else { "" };
            let _ = writeln!(
                out,
                "{indent}n{i} [label={}, shape={shape}{bold}];",
                quote(&n.label)
            );
        };
        let mut out = format!(
            "digraph {} {{\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
            quote(name)
        );
        for (c, (path, members)) in self.clusters.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph cluster_{c} {{\n    label={};",
                quote(&format!("path {path}"))
            );
            for &i in members {
                node(&mut out, i, "    ");
            }
            out.push_str("  }\n");
        }
        for &i in &self.loose {
            node(&mut out, i, "  ");
        }
        for (from, to, text) in &self.edges {
            let style = if text.starts_with("bounded by") {
                ", style=dashed"
            } else {
                ""
            };
            let _ = writeln!(out, "  n{from} -> n{to} [label={}{style}];", quote(text));
        }
        out.push_str("}\n");
        out
    }
}
