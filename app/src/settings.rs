//! Configuration, layered from the environment. Every variable has a local
//! default; a malformed value stops start-up with a message naming it.
//! The README's settings table lists the same variables — keep them in step.
//!
//! One file although it passes 500 lines with its tests: every variable is
//! read here, next to its default and its error, so the README's table maps
//! onto one place; the parsing each needs lives with its type elsewhere.

use crate::receive::drain_cap;
use std::{fmt, net::SocketAddr, str::FromStr};

use easel_resizer::config::{self, ConfigError, ResizerConfig};

use std::time::Duration;

use crate::{
    auth::{sessions::SessionPolicy, throttle::ThrottlePolicy},
    deadlines::Deadlines,
    decommission::DecommissionSettings,
    mail::SmtpUrl,
    outbox::RetryPolicy,
    proxies::TrustedProxies,
    storage::BucketNames,
};

#[derive(Debug, thiserror::Error)]
#[error("{var} is not valid: {reason} (got {value:?})")]
pub struct SettingsError {
    pub var: &'static str,
    pub value: String,
    pub reason: String,
}

/// A database URL. It carries a password, so `Debug` never prints it.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep scheme, host and database; drop the credentials.
        let redacted = match (self.0.find("://"), self.0.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}://***@{}", &self.0[..scheme], &self.0[at + 1..])
            }
            _ => self.0.clone(),
        };
        f.write_str(&redacted)
    }
}

#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// `Some` for a local emulator (moto); `None` means real AWS.
    pub endpoint: Option<String>,
    pub region: String,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
    /// `EASEL_TRUSTED_PROXIES`: balancers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

/// The support console: when an upload counts as stuck, and which mail
/// server the dashboard's health check knocks on.
#[derive(Debug, Clone)]
pub struct SupportSettings {
    /// `EASEL_STUCK_AFTER_SECONDS`: an original without renditions this long
    /// after upload is listed as stuck.
    pub stuck_after: Duration,
    /// `host:port` of `EASEL_SMTP_URL` (no credentials), the same server
    /// the decommissioning mail goes through.
    pub smtp_probe: Option<String>,
    /// `EASEL_ORPHAN_GRACE_SECONDS`: how old an original with no row must be
    /// before the orphan sweep removes it (longer than any upload takes).
    pub orphan_grace: Duration,
    /// `EASEL_ORPHAN_SWEEP_SECONDS`: how often the sweep runs.
    pub orphan_every: Duration,
    /// `EASEL_MAIL_RETRY_SECONDS`, `EASEL_MAIL_MAX_ATTEMPTS`: the outbox's retries.
    pub mail_retry: RetryPolicy,
}

/// The audit trail's signed checkpoints (`crate::audit::checkpoint`).
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// `EASEL_AUDIT_KEY_FILE`: the Ed25519 signing key's seed, in hex. Unset,
    /// no checkpoints are written and pages re-walk the whole chain.
    pub key_file: Option<std::path::PathBuf>,
    /// `EASEL_AUDIT_CHECKPOINT_SECONDS`: the longest time between checkpoints.
    pub every: Duration,
    /// `EASEL_AUDIT_CHECKPOINT_ROWS`: a checkpoint sooner once this many rows
    /// were added, so the pages' walk stays short under a flood.
    pub rows: i64,
    /// `EASEL_AUDIT_LOCK_DAYS`: how long each checkpoint object is kept under
    /// S3 Object Lock (compliance mode); 0 (the default), not locked. The
    /// backup bucket must have Object Lock (the AWS template turns it on).
    pub lock_days: u32,
}

/// How much one submission may carry (`EASEL_MAX_FILES_PER_UPLOAD`,
/// `EASEL_MAX_UPLOAD_TOTAL_BYTES`); each file on its own is held to the
/// image limits' `max_bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    pub max_files: usize,
    /// The whole request body, every file and the form's framing.
    pub max_total_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub http_addr: SocketAddr,
    pub database_url: DatabaseUrl,
    pub aws: AwsSettings,
    pub buckets: BucketNames,
    /// Buckets, renditions, limits and encoding: shared with the resizer.
    pub resizer: ResizerConfig,
    /// How many files, and how many bytes in all, one upload may carry.
    pub uploads: UploadLimits,
    /// Mail, links and the archive of the decommissioning procedure.
    pub decommission: DecommissionSettings,
    pub auth: AuthSettings,
    pub support: SupportSettings,
    pub audit: AuditSettings,
    /// How long each outside call, and each page, may take.
    pub deadlines: Deadlines,
}

pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_REGION: &str = "eu-west-1";

impl Settings {
    /// The support console's AWS clients and what they look for.
    pub fn support_clients(&self, sdk: &aws_config::SdkConfig) -> crate::support::Support {
        crate::support::Support::new(
            sdk,
            self.aws.endpoint.is_some(),
            self.aws.region.clone(),
            self.buckets.clone(),
            self.support.stuck_after,
            self.support.smtp_probe.clone(),
        )
    }

    /// Reads every setting from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup`, so tests and `cargo ops` can layer
    /// their own values over the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |var: &'static str, default: &str| {
            lookup(var).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
        };
        let http_addr: SocketAddr = parse(&get("EASEL_HTTP_ADDR", DEFAULT_HTTP_ADDR), "EASEL_HTTP_ADDR")?;
        let database_url = lookup("DATABASE_URL").filter(|v| !v.is_empty()).ok_or_else(|| SettingsError {
            var: "DATABASE_URL",
            value: String::new(),
            reason: "it must be set (`cargo ops up` sets it for you)".into(),
        })?;
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            return Err(SettingsError {
                var: "DATABASE_URL",
                value: DatabaseUrl::new(&database_url).redacted(),
                reason: "it must start with postgres://".into(),
            });
        }
        let endpoint = lookup("EASEL_AWS_ENDPOINT").filter(|v| !v.is_empty());
        if let Some(e) = &endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err(SettingsError {
                var: "EASEL_AWS_ENDPOINT",
                value: e.clone(),
                reason: "it must be an http:// or https:// URL".into(),
            });
        }
        let region = get("EASEL_AWS_REGION", DEFAULT_REGION);
        // The image pipeline's settings are the resizer's own, read by the
        // resizer's parser so the console and the Lambda cannot disagree; the
        // console only adds default bucket names.
        let d = BucketNames::with_prefix(BucketNames::DEFAULT_PREFIX);
        let resizer = ResizerConfig::from_lookup(|k| {
            lookup(k).filter(|v| !v.is_empty()).or_else(|| match k {
                config::ORIGINALS_BUCKET => Some(d.originals.to_string()),
                config::RESIZED_BUCKET => Some(d.resized.to_string()),
                config::BACKUP_BUCKET => Some(d.backup.to_string()),
                _ => None,
            })
        })
        .map_err(|e| match e {
            ConfigError::Missing { var } => {
                SettingsError { var, value: String::new(), reason: "it must be set".into() }
            }
            ConfigError::Invalid { var, reason } => {
                SettingsError { var, value: lookup(var).unwrap_or_default(), reason }
            }
        })?;
        let buckets = BucketNames {
            originals: resizer.originals_bucket.clone(),
            resized: resizer.resized_bucket.clone(),
            backup: resizer.backup_bucket.clone(),
        };
        if !resizer.renditions.iter().any(|r| r.name == "thumb") {
            return Err(SettingsError {
                var: config::RENDITIONS,
                value: lookup(config::RENDITIONS).unwrap_or_default(),
                reason: "the gallery needs a rendition named `thumb`".into(),
            });
        }
        let file_max = resizer.limits.max_bytes;
        let max_total_bytes: u64 = parse(
            &get("EASEL_MAX_UPLOAD_TOTAL_BYTES", &drain_cap(file_max).to_string()),
            "EASEL_MAX_UPLOAD_TOTAL_BYTES",
        )?;
        if max_total_bytes < file_max {
            return Err(SettingsError {
                var: "EASEL_MAX_UPLOAD_TOTAL_BYTES",
                value: max_total_bytes.to_string(),
                reason: format!("it must be at least EASEL_MAX_UPLOAD_BYTES ({file_max}), or no file fits"),
            });
        }
        let max_files: u64 = parse(&get("EASEL_MAX_FILES_PER_UPLOAD", "20"), "EASEL_MAX_FILES_PER_UPLOAD")?;
        if !(1..=1000).contains(&max_files) {
            return Err(SettingsError {
                var: "EASEL_MAX_FILES_PER_UPLOAD",
                value: max_files.to_string(),
                reason: "it must be from 1 to 1000".into(),
            });
        }
        let uploads = UploadLimits { max_files: max_files as usize, max_total_bytes };
        let minutes = |var: &'static str, default: &str| -> Result<Duration, SettingsError> {
            let n: u64 = parse(&get(var, default), var)?;
            if n == 0 {
                return Err(SettingsError { var, value: n.to_string(), reason: "it must be at least 1".into() });
            }
            Ok(Duration::from_secs(n * 60))
        };
        let at_least_one = |var: &'static str, default: &str| -> Result<i64, SettingsError> {
            let n: i64 = parse(&get(var, default), var)?;
            if n < 1 {
                return Err(SettingsError { var, value: n.to_string(), reason: "it must be at least 1".into() });
            }
            Ok(n)
        };
        let throttle_secs: u64 = parse(&get("EASEL_LOGIN_THROTTLE_SECONDS", "900"), "EASEL_LOGIN_THROTTLE_SECONDS")?;
        let auth = AuthSettings {
            sessions: SessionPolicy {
                idle: minutes("EASEL_SESSION_IDLE_MINUTES", "30")?,
                absolute: minutes("EASEL_SESSION_MAX_MINUTES", "720")?,
                // Browsers drop Secure cookies on plain http; only loopback runs without TLS.
                secure_cookie: !http_addr.ip().is_loopback(),
            },
            throttle: ThrottlePolicy {
                window: Duration::from_secs(throttle_secs.max(1)),
                max_per_account: at_least_one("EASEL_LOGIN_MAX_FAILURES", "5")?,
                max_per_address: at_least_one("EASEL_LOGIN_MAX_PER_ADDRESS", "20")?,
            },
            trusted_proxies: TrustedProxies::parse(&get("EASEL_TRUSTED_PROXIES", "")).map_err(|reason| {
                SettingsError {
                    var: "EASEL_TRUSTED_PROXIES",
                    value: lookup("EASEL_TRUSTED_PROXIES").unwrap_or_default(),
                    reason,
                }
            })?,
        };
        let stuck_secs: u64 = parse(&get("EASEL_STUCK_AFTER_SECONDS", "300"), "EASEL_STUCK_AFTER_SECONDS")?;
        let support = SupportSettings {
            stuck_after: Duration::from_secs(stuck_secs),
            smtp_probe: smtp_host_port(&get("EASEL_SMTP_URL", DEFAULT_SMTP_URL)),
            orphan_grace: Duration::from_secs(parse(
                &get("EASEL_ORPHAN_GRACE_SECONDS", "3600"),
                "EASEL_ORPHAN_GRACE_SECONDS",
            )?),
            orphan_every: Duration::from_secs(
                parse::<u64>(&get("EASEL_ORPHAN_SWEEP_SECONDS", "600"), "EASEL_ORPHAN_SWEEP_SECONDS")?.max(1),
            ),
            mail_retry: RetryPolicy {
                first_wait: Duration::from_secs(
                    parse::<u64>(&get("EASEL_MAIL_RETRY_SECONDS", "30"), "EASEL_MAIL_RETRY_SECONDS")?.max(1),
                ),
                max_attempts: at_least_one("EASEL_MAIL_MAX_ATTEMPTS", "8")?.min(1000) as i32,
                // Well past SMTP's deadline for a whole message (a handful of commands).
                lease: Duration::from_secs(300),
            },
        };
        let decommission = decommission_settings(&get)?;
        let deadlines = deadlines(&get)?;
        let audit = AuditSettings {
            key_file: lookup("EASEL_AUDIT_KEY_FILE").filter(|v| !v.is_empty()).map(Into::into),
            every: Duration::from_secs(
                at_most(&get("EASEL_AUDIT_CHECKPOINT_SECONDS", "3600"), "EASEL_AUDIT_CHECKPOINT_SECONDS", 30 * 86_400)?
                    .max(1),
            ),
            rows: at_least_one("EASEL_AUDIT_CHECKPOINT_ROWS", "10000")?,
            // S3 takes retention dates up to year 9999; a century is plenty.
            lock_days: at_most(&get("EASEL_AUDIT_LOCK_DAYS", "0"), "EASEL_AUDIT_LOCK_DAYS", 36_500)? as u32,
        };
        Ok(Self {
            audit,
            deadlines,
            decommission,
            support,
            auth,
            http_addr,
            database_url: DatabaseUrl::new(database_url),
            aws: AwsSettings { endpoint, region },
            buckets,
            resizer,
            uploads,
        })
    }
}

impl DatabaseUrl {
    pub fn redacted(&self) -> String {
        format!("{self:?}")
    }
}

/// The local maildev of `cargo ops up` (see `EASEL_LOCAL_SMTP_PORT`).
pub const DEFAULT_SMTP_URL: &str = "smtp://127.0.0.1:54325";

fn decommission_settings(get: &dyn Fn(&'static str, &str) -> String) -> Result<DecommissionSettings, SettingsError> {
    let smtp = get("EASEL_SMTP_URL", DEFAULT_SMTP_URL);
    if !["smtp://", "smtps://"].iter().any(|s| smtp.starts_with(s)) {
        return Err(SettingsError {
            var: "EASEL_SMTP_URL",
            value: format!("{:?}", SmtpUrl::new(smtp)),
            reason: "it must start with smtp:// or smtps://".into(),
        });
    }
    let public = get("EASEL_PUBLIC_URL", "");
    let public_url = if public.is_empty() {
        None
    } else if public.starts_with("http://") || public.starts_with("https://") {
        Some(public.trim_end_matches('/').to_owned())
    } else {
        return Err(SettingsError {
            var: "EASEL_PUBLIC_URL",
            value: public,
            reason: "it must be an http:// or https:// URL".into(),
        });
    };
    let link_days: u32 = parse(&get("EASEL_DECOMMISSION_LINK_DAYS", "7"), "EASEL_DECOMMISSION_LINK_DAYS")?;
    if !(1..=90).contains(&link_days) {
        return Err(SettingsError {
            var: "EASEL_DECOMMISSION_LINK_DAYS",
            value: link_days.to_string(),
            reason: "it must be between 1 and 90".into(),
        });
    }
    let mail_from = get("EASEL_MAIL_FROM", "Easel <easel@localhost>");
    if mail_from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(SettingsError {
            var: "EASEL_MAIL_FROM",
            value: mail_from,
            reason: "it must be a mail address".into(),
        });
    }
    Ok(DecommissionSettings {
        smtp_url: SmtpUrl::new(smtp),
        mail_from,
        public_url,
        link_days,
        archive_dir: get("EASEL_ARCHIVE_DIR", ".easel/archives").into(),
        resizer_wait: Duration::from_secs(at_most(
            &get("EASEL_ARCHIVE_RESIZER_WAIT_SECONDS", "300"),
            "EASEL_ARCHIVE_RESIZER_WAIT_SECONDS",
            86_400,
        )?),
    })
}

fn deadlines(get: &dyn Fn(&'static str, &str) -> String) -> Result<Deadlines, SettingsError> {
    let d = Deadlines::default();
    let millis = |var: &'static str, default: Duration| -> Result<Duration, SettingsError> {
        let n: u64 = parse(&get(var, &default.as_millis().to_string()), var)?;
        if n == 0 {
            return Err(SettingsError { var, value: n.to_string(), reason: "it must be at least 1".into() });
        }
        Ok(Duration::from_millis(n))
    };
    let deadlines = Deadlines {
        page: millis("EASEL_PAGE_DEADLINE_MS", d.page)?,
        db_acquire: millis("EASEL_DB_ACQUIRE_TIMEOUT_MS", d.db_acquire)?,
        db_statement: millis("EASEL_DB_STATEMENT_TIMEOUT_MS", d.db_statement)?,
        aws_connect: millis("EASEL_AWS_CONNECT_TIMEOUT_MS", d.aws_connect)?,
        aws_attempt: millis("EASEL_AWS_ATTEMPT_TIMEOUT_MS", d.aws_attempt)?,
        aws_operation: millis("EASEL_AWS_OPERATION_TIMEOUT_MS", d.aws_operation)?,
        smtp: millis("EASEL_SMTP_TIMEOUT_MS", d.smtp)?,
    };
    deadlines.check().map_err(|e| SettingsError {
        var: "EASEL_PAGE_DEADLINE_MS",
        value: get("EASEL_PAGE_DEADLINE_MS", &d.page.as_millis().to_string()),
        reason: e.0,
    })?;
    Ok(deadlines)
}

fn parse<T: FromStr>(value: &str, var: &'static str) -> Result<T, SettingsError>
where
    T::Err: fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| SettingsError { var, value: value.to_owned(), reason: e.to_string() })
}

/// A count of seconds or days with an upper bound: past it, times and
/// durations computed from it would overflow (a panic in a background task).
fn at_most(value: &str, var: &'static str, max: u64) -> Result<u64, SettingsError> {
    let n: u64 = parse(value, var)?;
    if n > max {
        return Err(SettingsError { var, value: value.to_owned(), reason: format!("it must be at most {max}") });
    }
    Ok(n)
}

/// `host:port` of an `smtp://` or `smtps://` URL, without credentials.
fn smtp_host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.contains(':') {
        Some(host_port.to_owned())
    } else {
        Some(format!("{host_port}:{}", if scheme == "smtps" { 465 } else { 25 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    const DB: (&str, &str) = ("DATABASE_URL", "postgres://easel:secret@127.0.0.1:5432/easel");

    #[test]
    fn defaults_apply_when_only_the_database_is_given() {
        let s = with(&[DB]).unwrap();
        assert_eq!(s.http_addr.to_string(), DEFAULT_HTTP_ADDR);
        assert_eq!(s.resizer.limits.max_bytes, 25 * 1024 * 1024);
        assert_eq!(s.resizer.renditions.len(), 2);
        assert_eq!(s.buckets.originals, "easel-originals");
        assert!(s.aws.endpoint.is_none());
    }

    #[test]
    fn malformed_values_name_their_variable() {
        for (var, value) in [
            ("EASEL_HTTP_ADDR", "localhost"),
            ("EASEL_MAX_UPLOAD_BYTES", "lots"),
            ("EASEL_ORIGINALS_BUCKET", "Bad_Name"),
            ("EASEL_JPEG_QUALITY", "0"),
            ("EASEL_AWS_ENDPOINT", "127.0.0.1:5000"),
            ("EASEL_RENDITIONS", "display=1600"),
            ("EASEL_STUCK_AFTER_SECONDS", "soon"),
            ("EASEL_MAX_FILES_PER_UPLOAD", "0"),
            ("EASEL_MAX_UPLOAD_TOTAL_BYTES", "1000"),
            ("EASEL_SMTP_URL", "mail.example:25"),
            ("EASEL_PUBLIC_URL", "easel.example"),
            ("EASEL_DECOMMISSION_LINK_DAYS", "0"),
            ("EASEL_MAIL_FROM", "not an address"),
            ("EASEL_TRUSTED_PROXIES", "10.0.0.0/8, lb.internal"),
            // Past these, a background task would overflow a time and panic.
            ("EASEL_AUDIT_CHECKPOINT_SECONDS", "18446744073709551615"),
            ("EASEL_AUDIT_LOCK_DAYS", "4000000000"),
            ("EASEL_ARCHIVE_RESIZER_WAIT_SECONDS", "999999999999"),
        ] {
            let err = with(&[DB, (var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{err}");
        }
        assert_eq!(with(&[]).unwrap_err().var, "DATABASE_URL");
    }

    #[test]
    fn the_smtp_probe_is_host_and_port_without_credentials() {
        assert_eq!(smtp_host_port("smtp://127.0.0.1:2525").as_deref(), Some("127.0.0.1:2525"));
        assert_eq!(smtp_host_port("smtps://user:secret@mail.example.org").as_deref(), Some("mail.example.org:465"));
        assert_eq!(smtp_host_port("smtp://mail.example.org/?tls=required").as_deref(), Some("mail.example.org:25"));
        assert_eq!(smtp_host_port("mail.example.org"), None);
        let s = with(&[DB, ("EASEL_SMTP_URL", "smtp://u:p@127.0.0.1:2525")]).unwrap();
        assert_eq!(s.support.smtp_probe.as_deref(), Some("127.0.0.1:2525"));
        assert_eq!(s.support.stuck_after.as_secs(), 300);
    }

    #[test]
    fn database_url_debug_hides_the_password() {
        let s = with(&[DB]).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("127.0.0.1:5432/easel"));
    }
}
