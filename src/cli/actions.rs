//! `iamx actions PATTERN…`: what patterns or access-level selectors expand to.

use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use super::Exit;
use crate::awsdb::{self, AccessLevel};
use crate::diag;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ActionsArgs {
    /// Actions (`s3:GetObject`), patterns (`s3:Get*`, `*:Describe*`) or access-level
    /// selectors (`s3:read`, `iam:permissions`). With several, the actions any of them stands
    /// for, each once.
    #[arg(value_name = "PATTERN", required = true)]
    pub patterns: Vec<String>,
    /// How to print the actions.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The actions a pattern stands for, as iamx expands it in a statement.
pub fn expand(pattern: &str) -> Vec<(&'static awsdb::Service, &'static awsdb::Action)> {
    if let Some((prefix, name)) = pattern.split_once(':') {
        let level = AccessLevel::ALL
            .into_iter()
            .find(|l| l.selector_name() == name);
        if let (Some(level), Some(service)) = (level, awsdb::service(prefix)) {
            return awsdb::actions_with_primary_level(service.prefix, level)
                .into_iter()
                .map(|a| (service, a))
                .collect();
        }
    }
    awsdb::actions_matching(pattern)
}

pub fn run(args: ActionsArgs) -> Exit {
    let mut actions = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut failed = false;
    for pattern in &args.patterns {
        let expanded = expand(pattern);
        if expanded.is_empty() {
            no_match(pattern);
            failed = true;
        }
        for (service, action) in expanded {
            if seen.insert((service.prefix, action.name)) {
                actions.push((service, action));
            }
        }
    }
    if failed {
        return Exit::Diagnostics;
    }
    match args.format {
        Format::Text => out!("{}", text(&actions)),
        Format::Json => outln!("{}", json(&actions)),
    }
    Exit::Success
}

/// Says that a pattern matches no action, with a did-you-mean.
fn no_match(pattern: &str) {
    errln!("error: `{pattern}` matches no action");
    if let Some((prefix, name)) = pattern.split_once(':') {
        let help = match awsdb::service(prefix) {
            None => diag::did_you_mean(
                crate::check::aws::service_by_name(prefix)
                    .or_else(|| diag::suggest(prefix, awsdb::service_prefixes())),
            ),
            Some(service) => {
                // An action name, or an access-level selector, misspelled.
                let selectors = AccessLevel::ALL.map(|l| l.selector_name());
                let names = service
                    .actions
                    .iter()
                    .map(|a| a.name)
                    .chain(selectors.iter().copied());
                diag::suggest(name, names)
                    .map(|s| format!("did you mean `{}:{s}`?", service.prefix))
                    .or_else(|| {
                        name.contains('-').then(|| {
                            "access-level selectors are `list`, `read`, `write`, `tagging` and `permissions`".to_string()
                        })
                    })
            }
        };
        if let Some(help) = help {
            errln!("  help: {help}");
        }
    }
}

fn levels(action: &awsdb::Action) -> String {
    action
        .access_levels
        .iter()
        .map(|l| l.aws_name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per action: name, access levels (the specific one first), resource types (`name*`
/// when required; `*` when the action takes no resource type).
pub fn text(actions: &[(&'static awsdb::Service, &'static awsdb::Action)]) -> String {
    let names: Vec<String> = actions
        .iter()
        .map(|(s, a)| format!("{}:{}", s.prefix, a.name))
        .collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let level_width = actions
        .iter()
        .map(|(_, a)| levels(a).len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for ((_, action), name) in actions.iter().zip(&names) {
        let resources = if action.resource_types.is_empty() {
            "*".to_string()
        } else {
            action
                .resource_types
                .iter()
                .map(|r| format!("{}{}", r.name, if r.required { "*" } else { "" }))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let line = format!(
            "{name:<width$}  {:<level_width$}  {resources}",
            levels(action)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn json(actions: &[(&'static awsdb::Service, &'static awsdb::Action)]) -> String {
    let items: Vec<Value> = actions
        .iter()
        .map(|(service, action)| {
            json!({
                "action": format!("{}:{}", service.prefix, action.name),
                "access_levels": action.access_levels.iter().map(|l| l.aws_name()).collect::<Vec<_>>(),
                "resource_types": action.resource_types.iter().map(|r| json!({
                    "name": r.name,
                    "required": r.required,
                    "arn": service.resource_type(r.name).map(|t| t.arn),
                })).collect::<Vec<_>>(),
                "condition_keys": action.all_condition_keys().collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&Value::Array(items)).unwrap_or_default()
}
