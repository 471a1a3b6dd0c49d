//! The names of IAM condition operators, as IAM JSON spells them: facts of the policy
//! language shared by lowering, checking and reading JSON.

use crate::diag;

/// Every operator of the IAM condition grammar, before `IfExists` and set prefixes.
pub const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// Whether `name` is a valid IAM condition operator: a base operator, optionally with
/// `ForAnyValue:`/`ForAllValues:` before and `IfExists` after (never on `Null`).
pub fn is_operator(name: &str) -> bool {
    let rest = name
        .strip_prefix("ForAnyValue:")
        .or_else(|| name.strip_prefix("ForAllValues:"))
        .unwrap_or(name);
    if OPERATORS.contains(&rest) {
        return true;
    }
    rest.strip_suffix("IfExists")
        .is_some_and(|base| base != "Null" && OPERATORS.contains(&base))
}

/// The help for an unknown operator: "did you mean", or why the name is wrong.
pub fn operator_help(operator: &str) -> String {
    let base = operator.rsplit(':').next().unwrap_or(operator);
    if base == "NullIfExists" {
        return "`Null` has no `IfExists` form: it already tests whether the key is present".into();
    }
    let names = all_operator_names();
    diag::did_you_mean(diag::suggest(operator, names.iter().map(String::as_str))).unwrap_or_else(
        || {
            "operators are named as in IAM JSON: `StringEqualsIgnoreCase`, `ForAnyValue:StringLike`, …"
                .into()
        },
    )
}

/// Every operator name IAM accepts, for "did you mean".
pub fn all_operator_names() -> Vec<String> {
    let mut names = Vec::new();
    for base in OPERATORS {
        for prefix in ["", "ForAnyValue:", "ForAllValues:"] {
            names.push(format!("{prefix}{base}"));
            if *base != "Null" {
                names.push(format!("{prefix}{base}IfExists"));
            }
        }
    }
    names
}
