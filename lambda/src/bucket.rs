//! S3 bucket names, checked once against S3's naming rule wherever a name
//! enters Easel (the resizer's and the console's settings alike), so a typo
//! fails at start-up rather than on the first upload.

use std::{fmt, ops::Deref, str::FromStr};

/// A name S3 would accept for a general-purpose bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct BucketName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an S3 bucket name: 3–63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit"
)]
pub struct BucketNameError(pub String);

impl BucketName {
    pub fn parse(name: impl Into<String>) -> Result<Self, BucketNameError> {
        let name = name.into();
        let b = name.as_bytes();
        let ok = (3..=63).contains(&b.len())
            && b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric();
        if ok { Ok(BucketName(name)) } else { Err(BucketNameError(name)) }
    }

    /// `${Param}`: a CloudFormation template's reference to the parameter
    /// that will name the bucket when the stack is deployed (the template
    /// holds the parameter to S3's rule itself).
    pub fn cloudformation_parameter(param: &str) -> Self {
        BucketName(format!("${{{param}}}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BucketName {
    type Err = BucketNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BucketName::parse(s)
    }
}

impl Deref for BucketName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for BucketName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The AWS SDK's builders take `impl Into<String>`.
impl From<&BucketName> for String {
    fn from(b: &BucketName) -> String {
        b.0.clone()
    }
}

impl From<BucketName> for String {
    fn from(b: BucketName) -> String {
        b.0
    }
}

impl PartialEq<str> for BucketName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for BucketName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3s_rule() {
        for good in ["abc", "easel-originals", "t-1234.resized", &"a".repeat(63)] {
            assert_eq!(BucketName::parse(good).unwrap().as_str(), good);
        }
        for bad in ["ab", "Bad_Name", "-lead", "trail-", "has space", "a/b", "", &"a".repeat(64), "UPPER"] {
            assert_eq!(BucketName::parse(bad), Err(BucketNameError(bad.to_string())), "{bad}");
        }
    }
}
