//! The one description of Easel's AWS resources. `cargo ops provision`
//! applies it (to the local emulator or to AWS) and later checks compare the
//! live configuration against it, so "what we meant" is written down once.

use serde_json::{Value, json};

use super::{BucketNames, BucketRole};

/// moto's fixed account; real deployments read theirs from STS.
pub const LOCAL_ACCOUNT_ID: &str = "123456789012";

#[derive(Debug, Clone)]
pub struct StackSpec {
    pub region: String,
    pub account_id: String,
    pub buckets: BucketNames,
    pub resizer: ResizerSpec,
    /// Deny every request that does not use TLS. Always on in AWS. The local
    /// emulator speaks plain HTTP and does enforce an explicit Deny, so the
    /// local stack is the one place it is off (`StackSpec::local`).
    pub tls_only: bool,
}

#[derive(Debug, Clone)]
pub struct ResizerSpec {
    pub function_name: String,
    pub role_name: String,
    pub log_retention_days: i32,
    pub memory_mb: i32,
    pub timeout_seconds: i32,
}

impl Default for ResizerSpec {
    fn default() -> Self {
        Self {
            function_name: "easel-resizer".into(),
            role_name: "easel-resizer-role".into(),
            log_retention_days: 30,
            memory_mb: 1024,
            timeout_seconds: 60,
        }
    }
}

/// What one bucket must look like.
#[derive(Debug, Clone)]
pub struct BucketSpec {
    pub role: BucketRole,
    pub name: String,
    /// Default encryption algorithm (SSE-S3).
    pub encryption: &'static str,
    pub block_public_access: bool,
    pub versioned: bool,
    pub policy: Value,
}

impl StackSpec {
    pub fn new(region: impl Into<String>, account_id: impl Into<String>, buckets: BucketNames) -> Self {
        Self {
            region: region.into(),
            account_id: account_id.into(),
            buckets,
            resizer: ResizerSpec::default(),
            tls_only: true,
        }
    }

    /// The spec as applied to the local emulator (moto's account, no TLS).
    /// There each stack's bucket prefix names its function too (and so its
    /// log group): stacks that share one emulator, as the tests' do, never
    /// share a resizer, and a decommission removes only its own.
    pub fn local(region: impl Into<String>, buckets: BucketNames) -> Self {
        let mut spec = Self { tls_only: false, ..Self::new(region, LOCAL_ACCOUNT_ID, buckets) };
        if let Some(prefix) = spec.buckets.originals.strip_suffix("-originals") {
            spec.resizer.function_name = format!("{prefix}-resizer");
        }
        spec
    }

    pub fn role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account_id, self.resizer.role_name)
    }

    pub fn function_arn(&self) -> String {
        format!("arn:aws:lambda:{}:{}:function:{}", self.region, self.account_id, self.resizer.function_name)
    }

    pub fn log_group(&self) -> String {
        format!("/aws/lambda/{}", self.resizer.function_name)
    }

    /// The local stand-in for the Lambda trigger: the originals bucket's
    /// events go to this queue and `cargo ops up`'s invoker drains it.
    pub fn event_queue_name(&self) -> String {
        format!("{}-events", self.buckets.originals)
    }

    pub fn buckets(&self) -> Vec<BucketSpec> {
        BucketRole::ALL.iter().map(|&role| self.bucket(role)).collect()
    }

    pub fn bucket(&self, role: BucketRole) -> BucketSpec {
        let name = self.buckets.get(role).to_owned();
        BucketSpec {
            role,
            encryption: "AES256",
            block_public_access: true,
            versioned: role == BucketRole::Backup,
            policy: self.bucket_policy(role, &name),
            name: name.to_string(),
        }
    }

    /// TLS only for everyone, plus exactly what the resizer needs: read the
    /// originals; read (for its re-delivery check) and write renditions.
    fn bucket_policy(&self, role: BucketRole, name: &str) -> Value {
        let resizer_actions: &[&str] = match role {
            BucketRole::Originals => &["s3:GetObject"],
            BucketRole::Resized | BucketRole::Backup => &["s3:GetObject", "s3:PutObject"],
        };
        let mut statements = vec![json!({
            "Sid": "ResizerObjectAccess",
            "Effect": "Allow",
            "Principal": { "AWS": self.role_arn() },
            "Action": resizer_actions,
            "Resource": format!("arn:aws:s3:::{name}/*")
        })];
        if self.tls_only {
            statements.insert(
                0,
                json!({
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")],
                    "Condition": { "Bool": { "aws:SecureTransport": "false" } }
                }),
            );
        }
        json!({ "Version": "2012-10-17", "Statement": statements })
    }

    /// The resizer role's own permissions in AWS: the object access its bucket
    /// policy grants, plus `s3:ListBucket`, without which S3 answers a missing
    /// key with 403 instead of 404, and the resizer reads "no manifest yet"
    /// (and "original gone") from a 404. Plus writing to its own log group.
    /// The emulator does not check identity policies, so only the AWS
    /// template uses this.
    pub fn resizer_role_policy(&self) -> Value {
        let mut statements: Vec<Value> = Vec::new();
        for bucket in self.buckets() {
            let grant = bucket.policy["Statement"]
                .as_array()
                .and_then(|s| s.iter().find(|s| s["Sid"] == "ResizerObjectAccess"))
                .expect("every bucket policy grants the resizer object access");
            statements.push(json!({
                "Sid": format!("{}Objects", capitalised(bucket.role.as_str())),
                "Effect": "Allow",
                "Action": grant["Action"].clone(),
                "Resource": grant["Resource"].clone()
            }));
        }
        statements.push(json!({
            "Sid": "TellMissingFromForbidden",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": self.buckets().iter().map(|b| format!("arn:aws:s3:::{}", b.name)).collect::<Vec<_>>()
        }));
        statements.push(json!({
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:aws:logs:{}:{}:log-group:{}:*", self.region, self.account_id, self.log_group())
        }));
        json!({ "Version": "2012-10-17", "Statement": statements })
    }

    /// Lets Lambda assume the resizer's role.
    pub fn resizer_trust_policy(&self) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": "lambda.amazonaws.com" },
                "Action": "sts:AssumeRole"
            }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> StackSpec {
        StackSpec::new("eu-west-1", LOCAL_ACCOUNT_ID, BucketNames::with_prefix("easel"))
    }

    #[test]
    fn only_backup_is_versioned_and_all_are_private_and_encrypted() {
        for b in spec().buckets() {
            assert_eq!(b.versioned, b.role == BucketRole::Backup, "{}", b.name);
            assert!(b.block_public_access);
            assert_eq!(b.encryption, "AES256");
        }
    }

    #[test]
    fn policies_deny_plain_http_and_grant_the_resizer_least_privilege() {
        let s = spec();
        let originals = s.bucket(BucketRole::Originals).policy;
        assert_eq!(originals["Statement"][0]["Effect"], "Deny");
        assert_eq!(originals["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"], "false");
        assert_eq!(originals["Statement"][1]["Action"], json!(["s3:GetObject"]));
        assert_eq!(originals["Statement"][1]["Principal"]["AWS"], s.role_arn());
        let resized = s.bucket(BucketRole::Resized).policy;
        assert_eq!(resized["Statement"][1]["Action"], json!(["s3:GetObject", "s3:PutObject"]));
        assert_eq!(resized["Statement"][1]["Resource"], "arn:aws:s3:::easel-resized/*");
    }

    #[test]
    fn only_the_local_spec_allows_plain_http() {
        let local = StackSpec::local("eu-west-1", BucketNames::with_prefix("easel"));
        for b in local.buckets() {
            let statements = b.policy["Statement"].as_array().unwrap().clone();
            assert_eq!(statements.len(), 1, "{}", b.name);
            assert_eq!(statements[0]["Effect"], "Allow");
        }
        assert_eq!(spec().bucket(BucketRole::Backup).policy["Statement"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn each_local_stack_names_its_own_function() {
        let s = StackSpec::local("eu-west-1", BucketNames::with_prefix("t-1234"));
        assert_eq!(s.resizer.function_name, "t-1234-resizer");
        assert_eq!(s.log_group(), "/aws/lambda/t-1234-resizer");
        let default = StackSpec::local("eu-west-1", BucketNames::with_prefix(BucketNames::DEFAULT_PREFIX));
        assert_eq!(default.resizer.function_name, "easel-resizer");
    }

    #[test]
    fn names_follow_the_function() {
        let s = spec();
        assert_eq!(s.log_group(), "/aws/lambda/easel-resizer");
        assert_eq!(s.function_arn(), "arn:aws:lambda:eu-west-1:123456789012:function:easel-resizer");
        assert_eq!(s.event_queue_name(), "easel-originals-events");
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod role_policy_tests {
    use super::*;

    #[test]
    fn the_role_policy_mirrors_the_bucket_grants_and_can_tell_missing_keys() {
        let s = StackSpec::new("eu-west-1", LOCAL_ACCOUNT_ID, BucketNames::with_prefix("easel"));
        let p = s.resizer_role_policy();
        let st = p["Statement"].as_array().unwrap();
        assert_eq!(st[0]["Action"], json!(["s3:GetObject"]));
        assert_eq!(st[0]["Resource"], "arn:aws:s3:::easel-originals/*");
        assert_eq!(st[2]["Action"], json!(["s3:GetObject", "s3:PutObject"]));
        assert_eq!(st[3]["Action"], json!(["s3:ListBucket"]));
        assert_eq!(st[3]["Resource"][2], "arn:aws:s3:::easel-backup");
        assert_eq!(st[4]["Resource"], "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/easel-resizer:*");
    }
}
