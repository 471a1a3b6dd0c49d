//! ARN shape: `arn:partition:service:region:account:resource`.

/// The parts of an ARN. Policy variables (`${aws:username}`) may hold colons and are kept whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Why a string is not an ARN, in words for a diagnostic label.
pub fn parse(text: &str) -> Result<Arn<'_>, &'static str> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() && parts.len() < 5 {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            match text[i..].find('}') {
                Some(end) => {
                    i += end + 1;
                    continue;
                }
                None => return Err("a `${` policy variable is not closed"),
            }
        }
        if bytes[i] == b':' {
            parts.push(&text[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    if parts.len() < 5 {
        return Err("an ARN has six parts: `arn:partition:service:region:account:resource`");
    }
    let resource = &text[start..];
    if let Some(i) = resource.rfind("${") {
        if !resource[i..].contains('}') {
            return Err("a `${` policy variable is not closed");
        }
    }
    if parts[0] != "arn" && parts[0] != "*" {
        return Err("an ARN starts with `arn:`");
    }
    if parts[1].is_empty() {
        return Err("the partition is empty");
    }
    if parts[2].is_empty() {
        return Err("the service is empty");
    }
    if resource.is_empty() {
        return Err("the resource part is empty");
    }
    Ok(Arn {
        partition: parts[1],
        service: parts[2],
        region: parts[3],
        account: parts[4],
        resource,
    })
}

/// Why a string is not the ARN of one managed policy
/// (`arn:aws:iam::123456789012:policy/PATH/NAME`, or `arn:aws:iam::aws:policy/NAME`), in words
/// for a diagnostic label; `None` when it is one.
pub fn policy_arn_problem(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        return Some("the ARN is empty");
    }
    let arn = match parse(text) {
        Ok(arn) => arn,
        Err(problem) => return Some(problem),
    };
    if !text.starts_with("arn:") {
        return Some("an ARN starts with `arn:`");
    }
    if arn.service != "iam" {
        return Some("a managed policy ARN names the service `iam`");
    }
    if !arn.region.is_empty() {
        return Some("IAM ARNs have no region: `arn:aws:iam::ACCOUNT:policy/NAME`");
    }
    let account_ok = arn.account == "aws"
        || (arn.account.len() == 12 && arn.account.bytes().all(|b| b.is_ascii_digit()));
    if !account_ok {
        return Some("the account is 12 digits, or `aws` for an AWS managed policy");
    }
    let Some(rest) = arn.resource.strip_prefix("policy/") else {
        return Some("the resource of a managed policy ARN is `policy/NAME`");
    };
    if text.contains(['*', '?']) || text.contains("${") {
        return Some("an attached policy is one policy: no wildcards or variables");
    }
    if rest.rsplit('/').next().is_none_or(str::is_empty) {
        return Some("the ARN ends without a policy name");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arns_with_variables_and_colons_in_the_resource() {
        let arn = parse("arn:aws:s3:::bucket/${aws:username}/*").unwrap();
        assert_eq!(arn.service, "s3");
        assert_eq!(arn.resource, "bucket/${aws:username}/*");
        let arn = parse("arn:aws:logs:us-east-1:123456789012:log-group:/a:*").unwrap();
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource, "log-group:/a:*");
    }

    #[test]
    fn policy_arns_name_one_managed_policy() {
        for good in [
            "arn:aws:iam::123456789012:policy/ReadLogs",
            "arn:aws:iam::123456789012:policy/teams/ReadLogs",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws-cn:iam::aws:policy/service-role/AWSLambdaRole",
        ] {
            assert_eq!(policy_arn_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "not an arn",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:123456789012:policy/P",
            "arn:aws:iam::12345:policy/P",
            "arn:aws:iam::123456789012:role/P",
            "arn:aws:iam::123456789012:policy/",
            "arn:aws:iam::123456789012:policy/Read*",
            "*:aws:iam::123456789012:policy/P",
        ] {
            assert!(policy_arn_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn rejects_malformed_arns() {
        assert!(parse("arn:aws:s3").is_err());
        assert!(parse("bucket/key").is_err());
        assert!(parse("arn::s3:::b").is_err());
        assert!(parse("arn:aws::::x").is_err());
        assert!(parse("arn:aws:s3:::").is_err());
        assert!(parse("arn:aws:s3:::${aws:username").is_err());
    }
}
