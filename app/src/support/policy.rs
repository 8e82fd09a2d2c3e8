//! A bucket policy, parsed and evaluated the way S3 decides a request:
//! statements whose Principal, Action, Resource and Condition all match the
//! request apply; any applying `Deny` wins, else any applying `Allow`
//! grants, else the request is implicitly denied. Pure logic, so the bucket
//! doctor's verdicts rest on tested code rather than a substring search.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction` (likewise for resources and principals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Is(Vec<String>),
    IsNot(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"` or `{"AWS": "*"}`: anyone, signed or not.
    Anyone,
    /// ARNs or account ids under `AWS`.
    Aws(Vec<String>),
    /// `Service`, `Federated` or `CanonicalUser` principals: never an IAM role.
    Other(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `None` with `not_principal: false` never occurs in a bucket policy; we
    /// refuse it when parsing.
    pub principal: Principal,
    pub not_principal: bool,
    pub action: Matcher,
    pub resource: Matcher,
    pub conditions: Vec<Condition>,
    /// The statement as written, for evidence.
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

/// One request to decide.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The caller's ARN (`None`: an anonymous request).
    pub principal: Option<&'a str>,
    pub action: &'a str,
    pub resource: &'a str,
    /// Condition keys and their values, e.g. `aws:SecureTransport` = `true`.
    pub context: HashMap<String, String>,
}

impl<'a> Request<'a> {
    pub fn new(principal: Option<&'a str>, action: &'a str, resource: &'a str) -> Self {
        let mut context = HashMap::new();
        context.insert("aws:securetransport".to_owned(), "true".to_owned());
        Self { principal, action, resource, context }
    }

    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.context.insert(key.to_ascii_lowercase(), value.to_owned());
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Granted by these statements (indices into the policy).
    Allowed(Vec<usize>),
    /// Refused by an explicit Deny; explicit Deny always wins.
    ExplicitDeny(Vec<usize>),
    /// Nothing grants it.
    ImplicitDeny,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed(_))
    }
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(|| PolicyError(format!("{what} must list strings"))))
            .collect(),
        _ => Err(PolicyError(format!("{what} must be a string or a list of strings"))),
    }
}

fn principal(v: &Value) -> Result<Principal, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principal::Anyone),
        Value::Object(map) => {
            let mut aws = Vec::new();
            let mut other = Vec::new();
            for (kind, ids) in map {
                let ids = strings(ids, "Principal")?;
                match kind.as_str() {
                    "AWS" if ids.iter().any(|i| i == "*") => return Ok(Principal::Anyone),
                    "AWS" => aws.extend(ids),
                    "Service" | "Federated" | "CanonicalUser" => other.extend(ids),
                    k => return Err(PolicyError(format!("unknown principal type `{k}`"))),
                }
            }
            Ok(if aws.is_empty() { Principal::Other(other) } else { Principal::Aws(aws) })
        }
        _ => Err(PolicyError("Principal must be \"*\" or an object such as {\"AWS\": ...}".into())),
    }
}

fn matcher(stmt: &serde_json::Map<String, Value>, is: &str, is_not: &str) -> Result<Matcher, PolicyError> {
    match (stmt.get(is), stmt.get(is_not)) {
        (Some(v), None) => Ok(Matcher::Is(strings(v, is)?)),
        (None, Some(v)) => Ok(Matcher::IsNot(strings(v, is_not)?)),
        (Some(_), Some(_)) => Err(PolicyError(format!("a statement has both {is} and {is_not}"))),
        (None, None) => Err(PolicyError(format!("a statement has neither {is} nor {is_not}"))),
    }
}

impl Policy {
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let v: Value = serde_json::from_str(text).map_err(|e| PolicyError(format!("not JSON: {e}")))?;
        Policy::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Policy, PolicyError> {
        let obj = v.as_object().ok_or_else(|| PolicyError("a policy is a JSON object".into()))?;
        if let Some(version) = obj.get("Version")
            && version != "2012-10-17"
            && version != "2008-10-17"
        {
            return Err(PolicyError(format!("unknown policy Version {version}")));
        }
        let raw = match obj.get("Statement") {
            Some(Value::Array(s)) => s.clone(),
            Some(s @ Value::Object(_)) => vec![s.clone()],
            _ => return Err(PolicyError("a policy needs a Statement".into())),
        };
        let mut statements = Vec::with_capacity(raw.len());
        for s in raw {
            let m = s.as_object().ok_or_else(|| PolicyError("each statement is a JSON object".into()))?;
            let effect = match m.get("Effect").and_then(Value::as_str) {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                _ => return Err(PolicyError("Effect must be Allow or Deny".into())),
            };
            let (principal, not_principal) = match (m.get("Principal"), m.get("NotPrincipal")) {
                (Some(p), None) => (principal(p)?, false),
                (None, Some(p)) => (principal(p)?, true),
                _ => {
                    return Err(PolicyError(
                        "a bucket policy statement needs exactly one of Principal, NotPrincipal".into(),
                    ));
                }
            };
            let mut conditions = Vec::new();
            if let Some(c) = m.get("Condition") {
                let ops = c.as_object().ok_or_else(|| PolicyError("Condition must be an object".into()))?;
                for (operator, keys) in ops {
                    let keys = keys.as_object().ok_or_else(|| PolicyError(format!("{operator} must be an object")))?;
                    for (key, values) in keys {
                        let values = match values {
                            Value::Bool(b) => vec![b.to_string()],
                            Value::Number(n) => vec![n.to_string()],
                            v => strings(v, operator)?,
                        };
                        conditions.push(Condition { operator: operator.clone(), key: key.clone(), values });
                    }
                }
            }
            statements.push(Statement {
                sid: m.get("Sid").and_then(Value::as_str).map(str::to_owned),
                effect,
                principal,
                not_principal,
                action: matcher(m, "Action", "NotAction")?,
                resource: matcher(m, "Resource", "NotResource")?,
                conditions,
                raw: s.clone(),
            });
        }
        Ok(Policy { statements })
    }

    /// S3's decision for `req`.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        let applying: Vec<(usize, Effect)> =
            self.statements.iter().enumerate().filter(|(_, s)| s.applies_to(req)).map(|(i, s)| (i, s.effect)).collect();
        let denies: Vec<usize> = applying.iter().filter(|(_, e)| *e == Effect::Deny).map(|(i, _)| *i).collect();
        if !denies.is_empty() {
            return Decision::ExplicitDeny(denies);
        }
        let allows: Vec<usize> = applying.iter().map(|(i, _)| *i).collect();
        if allows.is_empty() { Decision::ImplicitDeny } else { Decision::Allowed(allows) }
    }
}

impl Statement {
    pub fn applies_to(&self, req: &Request<'_>) -> bool {
        let principal = self.principal_matches(req.principal) != self.not_principal;
        principal
            && matches(&self.action, req.action, false)
            && matches(&self.resource, req.resource, true)
            && self.conditions.iter().all(|c| c.holds(&req.context, self.effect))
    }

    fn principal_matches(&self, caller: Option<&str>) -> bool {
        match (&self.principal, caller) {
            (Principal::Anyone, _) => true,
            (_, None) => false,
            (Principal::Other(_), Some(_)) => false,
            (Principal::Aws(ids), Some(arn)) => ids.iter().any(|id| aws_principal_matches(id, arn)),
        }
    }

    /// The statement pretty-printed, for evidence on a page.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(&self.raw).unwrap_or_default()
    }
}

/// An `AWS` principal: the exact ARN, or the caller's account (by id or
/// `:root` ARN), which in a bucket policy hands the decision to the account.
fn aws_principal_matches(id: &str, caller_arn: &str) -> bool {
    if id == caller_arn {
        return true;
    }
    let account = caller_arn.split(':').nth(4).unwrap_or_default();
    !account.is_empty() && (id == account || id == format!("arn:aws:iam::{account}:root"))
}

fn matches(m: &Matcher, value: &str, case_sensitive: bool) -> bool {
    let any = |patterns: &Vec<String>| patterns.iter().any(|p| glob(p, value, case_sensitive));
    match m {
        Matcher::Is(p) => any(p),
        Matcher::IsNot(p) => !any(p),
    }
}

/// IAM wildcards: `*` is any run of characters, `?` exactly one.
pub fn glob(pattern: &str, value: &str, case_sensitive: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if case_sensitive {
        (pattern.chars().collect(), value.chars().collect())
    } else {
        (pattern.to_lowercase().chars().collect(), value.to_lowercase().chars().collect())
    };
    let (mut pi, mut vi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

impl Condition {
    /// Whether the condition holds for `context`. An operator this code does
    /// not know is read cautiously: it never lets an Allow grant, and it
    /// always lets a Deny refuse.
    pub fn holds(&self, context: &HashMap<String, String>, effect: Effect) -> bool {
        let (op, if_exists) = match self.operator.strip_suffix("IfExists") {
            Some(op) => (op, true),
            None => (self.operator.as_str(), false),
        };
        let actual = context.get(&self.key.to_ascii_lowercase());
        if op == "Null" {
            let wants_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return actual.is_none() == wants_absent;
        }
        let negated = op.contains("Not");
        let Some(actual) = actual else {
            // A missing key: negated operators match, others do not, and
            // `...IfExists` matches either way.
            return if_exists || negated;
        };
        let any = |f: &dyn Fn(&str) -> bool| self.values.iter().any(|v| f(v));
        match op {
            "Bool" => any(&|v| v.eq_ignore_ascii_case(actual)),
            "StringEquals" | "ArnEquals" => any(&|v| v == actual),
            "StringNotEquals" | "ArnNotEquals" => !any(&|v| v == actual),
            "StringEqualsIgnoreCase" => any(&|v| v.eq_ignore_ascii_case(actual)),
            "StringNotEqualsIgnoreCase" => !any(&|v| v.eq_ignore_ascii_case(actual)),
            "StringLike" | "ArnLike" => any(&|v| glob(v, actual, true)),
            "StringNotLike" | "ArnNotLike" => !any(&|v| glob(v, actual, true)),
            _ => effect == Effect::Deny,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROLE: &str = "arn:aws:iam::123456789012:role/easel-resizer-role";
    const OBJ: &str = "arn:aws:s3:::easel-resized/artwork/x/thumb.jpg";

    fn policy(statements: Value) -> Policy {
        Policy::from_value(&json!({ "Version": "2012-10-17", "Statement": statements })).unwrap()
    }

    fn allowed(p: &Policy, action: &str) -> bool {
        p.evaluate(&Request::new(Some(ROLE), action, OBJ)).is_allowed()
    }

    #[test]
    fn wildcards_in_actions_are_case_insensitive_and_in_resources_are_not() {
        let p = policy(json!([{
            "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": ["s3:Get*"], "Resource": "arn:aws:s3:::easel-resized/*"
        }]));
        assert!(allowed(&p, "s3:GetObject"));
        assert!(allowed(&p, "S3:getobject"));
        assert!(!allowed(&p, "s3:PutObject"));
        assert!(!p.evaluate(&Request::new(Some(ROLE), "s3:GetObject", "arn:aws:s3:::Easel-resized/a")).is_allowed());
        assert!(glob("s3:*", "s3:PutObject", false));
        assert!(glob("a?c", "abc", true) && !glob("a?c", "ac", true));
        assert!(glob("*", "", true));
    }

    #[test]
    fn not_action_grants_everything_else() {
        let p = policy(json!([{
            "Effect": "Allow", "Principal": {"AWS": [ROLE]}, "NotAction": "s3:PutObject", "Resource": "*"
        }]));
        assert!(allowed(&p, "s3:GetObject"));
        assert!(!allowed(&p, "s3:PutObject"));
    }

    #[test]
    fn an_explicit_deny_wins_over_any_allow() {
        let p = policy(json!([
            {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": {"AWS": ROLE}, "Action": "s3:PutObject", "Resource": OBJ}
        ]));
        assert_eq!(p.evaluate(&Request::new(Some(ROLE), "s3:PutObject", OBJ)), Decision::ExplicitDeny(vec![1]));
        assert_eq!(p.evaluate(&Request::new(Some(ROLE), "s3:GetObject", OBJ)), Decision::Allowed(vec![0]));
        assert_eq!(p.evaluate(&Request::new(None, "s3:GetObject", OBJ)), Decision::Allowed(vec![0]));
    }

    #[test]
    fn principals_match_by_arn_account_or_anyone_but_never_a_service() {
        let other_role = "arn:aws:iam::123456789012:role/other";
        let p =
            policy(json!([{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": "*"}]));
        assert!(!p.evaluate(&Request::new(Some(other_role), "s3:GetObject", OBJ)).is_allowed());
        assert!(!p.evaluate(&Request::new(None, "s3:GetObject", OBJ)).is_allowed());
        let p = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "s3:GetObject", "Resource": "*"}]),
        );
        assert!(allowed(&p, "s3:GetObject"));
        let p = policy(
            json!([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "s3:*", "Resource": "*"}]),
        );
        assert!(!allowed(&p, "s3:GetObject"));
        let p = policy(json!([{"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"}]));
        assert!(!matches!(p.evaluate(&Request::new(Some(ROLE), "s3:GetObject", OBJ)), Decision::ExplicitDeny(_)));
        assert!(matches!(p.evaluate(&Request::new(Some(other_role), "s3:GetObject", OBJ)), Decision::ExplicitDeny(_)));
    }

    #[test]
    fn the_tls_deny_applies_only_to_plain_http() {
        let p = policy(json!([
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::easel-resized", "arn:aws:s3:::easel-resized/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::easel-resized/*"}
        ]));
        assert!(allowed(&p, "s3:GetObject"));
        let plain = Request::new(Some(ROLE), "s3:GetObject", OBJ).with("aws:SecureTransport", "false");
        assert_eq!(p.evaluate(&plain), Decision::ExplicitDeny(vec![0]));
    }

    #[test]
    fn conditions_follow_iam_rules_for_missing_keys_and_unknown_operators() {
        let ctx: HashMap<String, String> = HashMap::from([("aws:sourceip".into(), "10.0.0.1".into())]);
        let c =
            |op: &str, key: &str, v: &str| Condition { operator: op.into(), key: key.into(), values: vec![v.into()] };
        assert!(c("StringLike", "aws:SourceIp", "10.*").holds(&ctx, Effect::Allow));
        assert!(!c("StringEquals", "aws:PrincipalTag/x", "y").holds(&ctx, Effect::Allow));
        assert!(c("StringNotEquals", "aws:PrincipalTag/x", "y").holds(&ctx, Effect::Allow));
        assert!(c("StringEqualsIfExists", "aws:PrincipalTag/x", "y").holds(&ctx, Effect::Allow));
        assert!(c("Null", "aws:PrincipalTag/x", "true").holds(&ctx, Effect::Allow));
        assert!(!c("IpAddress", "aws:SourceIp", "10.0.0.0/8").holds(&ctx, Effect::Allow));
        assert!(c("IpAddress", "aws:SourceIp", "10.0.0.0/8").holds(&ctx, Effect::Deny));
    }

    #[test]
    fn malformed_policies_are_refused_with_a_reason() {
        for (text, needle) in [
            ("nope", "not JSON"),
            (r#"{"Statement": []}"#, ""),
            (r#"{"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}"#, "Effect"),
            (r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#, "Principal"),
            (r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Resource": "*"}]}"#, "Action"),
            (r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": 3, "Resource": "*"}]}"#, "Action"),
        ] {
            match Policy::parse(text) {
                Err(e) => assert!(e.0.contains(needle), "{text}: {e}"),
                Ok(p) => assert!(p.statements.is_empty(), "{text}"),
            }
        }
    }
}
