//! The resizer's configuration, from `EASEL_*` environment variables.

use crate::bucket::BucketName;
use crate::image::{EncodeOptions, Limits, RenditionSpec, parse_renditions};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is not set")]
    Missing { var: &'static str },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResizerConfig {
    pub originals_bucket: BucketName,
    pub resized_bucket: BucketName,
    pub backup_bucket: BucketName,
    pub renditions: Vec<RenditionSpec>,
    pub limits: Limits,
    pub encode: EncodeOptions,
}

pub const ORIGINALS_BUCKET: &str = "EASEL_ORIGINALS_BUCKET";
pub const RESIZED_BUCKET: &str = "EASEL_RESIZED_BUCKET";
pub const BACKUP_BUCKET: &str = "EASEL_BACKUP_BUCKET";
pub const RENDITIONS: &str = "EASEL_RENDITIONS";
pub const MAX_PIXELS: &str = "EASEL_MAX_PIXELS";
pub const MAX_UPLOAD_BYTES: &str = "EASEL_MAX_UPLOAD_BYTES";
pub const JPEG_QUALITY: &str = "EASEL_JPEG_QUALITY";

impl ResizerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// `from_env` over any source of variables; tests use a map, since
    /// changing the process environment is unsafe in a threaded test run.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &'static str| lookup(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let bucket = |var: &'static str| -> Result<BucketName, ConfigError> {
            let name = get(var).ok_or(ConfigError::Missing { var })?;
            BucketName::parse(name).map_err(|e| ConfigError::Invalid { var, reason: e.to_string() })
        };
        let originals_bucket = bucket(ORIGINALS_BUCKET)?;
        let resized_bucket = bucket(RESIZED_BUCKET)?;
        let backup_bucket = bucket(BACKUP_BUCKET)?;
        // Writing renditions into the bucket that triggers us would invoke the
        // resizer on its own output, forever.
        for (var, name) in [(RESIZED_BUCKET, &resized_bucket), (BACKUP_BUCKET, &backup_bucket)] {
            if *name == originals_bucket {
                return Err(ConfigError::Invalid {
                    var,
                    reason: format!(
                        "must differ from {ORIGINALS_BUCKET}, or renditions would trigger the resizer again"
                    ),
                });
            }
        }

        let renditions = match get(RENDITIONS) {
            Some(s) => parse_renditions(&s).map_err(|e| ConfigError::Invalid { var: RENDITIONS, reason: e.0 })?,
            None => RenditionSpec::defaults(),
        };

        let mut limits = Limits::default();
        if let Some(v) = get(MAX_PIXELS) {
            limits.max_pixels = positive(MAX_PIXELS, &v)?;
        }
        if let Some(v) = get(MAX_UPLOAD_BYTES) {
            limits.max_bytes = positive(MAX_UPLOAD_BYTES, &v)?;
        }

        let mut encode = EncodeOptions::default();
        if let Some(v) = get(JPEG_QUALITY) {
            encode.jpeg_quality = match v.parse::<u8>() {
                Ok(q) if (1..=100).contains(&q) => q,
                _ => {
                    return Err(ConfigError::Invalid {
                        var: JPEG_QUALITY,
                        reason: format!("`{v}` is not a whole number from 1 to 100"),
                    });
                }
            };
        }

        Ok(ResizerConfig { originals_bucket, resized_bucket, backup_bucket, renditions, limits, encode })
    }
}

fn positive(var: &'static str, v: &str) -> Result<u64, ConfigError> {
    match v.replace('_', "").parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ConfigError::Invalid { var, reason: format!("`{v}` is not a positive whole number") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<ResizerConfig, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ResizerConfig::from_lookup(|k| map.get(k).cloned())
    }

    const BUCKETS: [(&str, &str); 3] =
        [(ORIGINALS_BUCKET, "easel-originals"), (RESIZED_BUCKET, "easel-resized"), (BACKUP_BUCKET, "easel-backup")];

    #[test]
    fn defaults_apply_when_optional_vars_are_absent() {
        let c = load(&BUCKETS).unwrap();
        assert_eq!(c.originals_bucket, "easel-originals");
        assert_eq!(c.resized_bucket, "easel-resized");
        assert_eq!(c.backup_bucket, "easel-backup");
        assert_eq!(c.renditions, RenditionSpec::defaults());
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.encode.jpeg_quality, 85);
    }

    #[test]
    fn optional_vars_are_read() {
        let mut vars = BUCKETS.to_vec();
        vars.extend([
            (RENDITIONS, "small=200x100"),
            (MAX_PIXELS, "1_000_000"),
            (MAX_UPLOAD_BYTES, "1048576"),
            (JPEG_QUALITY, "70"),
        ]);
        let c = load(&vars).unwrap();
        assert_eq!(c.renditions, vec![RenditionSpec::new("small", 200, 100)]);
        assert_eq!(c.limits.max_pixels, 1_000_000);
        assert_eq!(c.limits.max_bytes, 1_048_576);
        assert_eq!(c.encode.jpeg_quality, 70);
    }

    #[test]
    fn missing_bucket_is_named() {
        let err = load(&BUCKETS[..2]).unwrap_err();
        assert_eq!(err, ConfigError::Missing { var: BACKUP_BUCKET });
        assert_eq!(err.to_string(), "EASEL_BACKUP_BUCKET is not set");
    }

    #[test]
    fn malformed_values_name_their_variable() {
        for (var, value) in [
            (RENDITIONS, "thumb"),
            (MAX_PIXELS, "lots"),
            (MAX_PIXELS, "0"),
            (MAX_UPLOAD_BYTES, "-1"),
            (JPEG_QUALITY, "0"),
            (JPEG_QUALITY, "101"),
            (JPEG_QUALITY, "high"),
        ] {
            let mut vars = BUCKETS.to_vec();
            vars.push((var, value));
            let err = load(&vars).unwrap_err();
            assert!(matches!(err, ConfigError::Invalid { var: v, .. } if v == var), "{var}={value}: {err:?}");
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn output_bucket_equal_to_originals_is_refused() {
        let err = load(&[(ORIGINALS_BUCKET, "same"), (RESIZED_BUCKET, "same"), (BACKUP_BUCKET, "bkp")]).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { var: RESIZED_BUCKET, .. }));
        let err = load(&[(ORIGINALS_BUCKET, "same"), (RESIZED_BUCKET, "rsz"), (BACKUP_BUCKET, "same")]).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { var: BACKUP_BUCKET, .. }));
    }

    /// The console reads the same settings through this, so both hold names
    /// to S3's one rule.
    #[test]
    fn bucket_names_follow_s3s_rule() {
        for bad in ["Bad_Name", "ab", "with/slash", "-lead"] {
            let err = load(&[(ORIGINALS_BUCKET, bad), (RESIZED_BUCKET, "rsz"), (BACKUP_BUCKET, "bkp")]).unwrap_err();
            assert!(matches!(err, ConfigError::Invalid { var: ORIGINALS_BUCKET, .. }), "{bad}: {err:?}");
            assert!(err.to_string().contains("is not an S3 bucket name"), "{err}");
        }
    }
}
