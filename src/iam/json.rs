//! The iam model as AWS policy JSON. Key order is fixed (Version, Statement; in a statement Sid,
//! Effect, Principal, Action/NotAction, Resource/NotResource, Condition) and the rest follows the
//! source, so output is byte-for-byte deterministic.

use serde_json::{Map, Value};

use super::{Block, Condition, Policy, Principal, Statement, VERSION};

pub fn policy(policy: &Policy) -> Value {
    let mut object = Map::new();
    object.insert("Version".into(), Value::String(VERSION.into()));
    if let Some(id) = &policy.id {
        object.insert("Id".into(), Value::String(id.clone()));
    }
    object.insert(
        "Statement".into(),
        Value::Array(policy.statements.iter().map(statement).collect()),
    );
    Value::Object(object)
}

pub fn statement(statement: &Statement) -> Value {
    let mut object = Map::new();
    if let Some(sid) = &statement.sid {
        object.insert("Sid".into(), Value::String(sid.value.clone()));
    }
    object.insert(
        "Effect".into(),
        Value::String(statement.effect.value.as_str().into()),
    );
    if let Some(principal) = &statement.principal {
        let key = if statement.not_principal {
            "NotPrincipal"
        } else {
            "Principal"
        };
        object.insert(key.into(), principal_value(principal));
    }
    if let Some(action) = &statement.action {
        let key = if action.not { "NotAction" } else { "Action" };
        object.insert(key.into(), block(action));
    }
    if let Some(resource) = &statement.resource {
        let key = if resource.not {
            "NotResource"
        } else {
            "Resource"
        };
        object.insert(key.into(), block(resource));
    }
    if !statement.conditions.is_empty() {
        object.insert("Condition".into(), conditions(&statement.conditions));
    }
    Value::Object(object)
}

/// One value is written as a string, several as a list.
fn one_or_many<'a>(values: impl ExactSizeIterator<Item = &'a String>) -> Value {
    let mut values = values.map(|v| Value::String(v.clone())).collect::<Vec<_>>();
    if values.len() == 1 {
        values.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(values)
    }
}

fn block(block: &Block) -> Value {
    one_or_many(block.values.iter().map(|v| &v.value))
}

fn principal_value(principal: &Principal) -> Value {
    match principal {
        Principal::Any(_) => Value::String("*".into()),
        Principal::Kinds(kinds) => {
            let mut object = Map::new();
            for (kind, values) in kinds {
                object.insert(kind.clone(), one_or_many(values.iter().map(|v| &v.value)));
            }
            Value::Object(object)
        }
    }
}

fn conditions(conditions: &[Condition]) -> Value {
    let mut by_operator: Map<String, Value> = Map::new();
    for condition in conditions {
        let entry = by_operator
            .entry(condition.operator.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(keys) = entry {
            keys.insert(condition.key.clone(), one_or_many(condition.values.iter()));
        }
    }
    Value::Object(by_operator)
}

/// Pretty JSON with a final newline: the form iamx writes to files.
pub fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// The size AWS counts against a policy quota: characters, not counting white space.
pub fn quota_size(value: &Value) -> usize {
    value
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}
