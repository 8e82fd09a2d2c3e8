//! The decommissioning SOP (see the closure document), run by the console:
//! request → stakeholders approve by mailed link → plan, approved by the
//! representative → archive of all data, signed for → destruction and
//! removal → completion mail → review. Each step is a state
//! ([`DecommissionStep`]); every move is one transaction with its audit row.

pub mod archive;
pub mod destroy;
pub mod mail;
pub mod procedure;
pub mod repo;
pub mod stakeholder;
pub mod step;
pub mod token;
pub mod versions;

use std::path::PathBuf;

use crate::mail::{Mailer, SmtpUrl};

pub use procedure::{DecommissionError, LinkRefused};
pub use stakeholder::{NewStakeholder, StakeholderRole};
pub use step::{DecommissionStep, StepEvent, TransitionError};
pub use token::LinkToken;

/// The settings behind the procedure (see the README's settings table).
#[derive(Debug, Clone)]
pub struct DecommissionSettings {
    /// `EASEL_SMTP_URL`.
    pub smtp_url: SmtpUrl,
    /// `EASEL_MAIL_FROM`.
    pub mail_from: String,
    /// `EASEL_PUBLIC_URL`: where links in mail point; unset means the
    /// console's own listening address.
    pub public_url: Option<String>,
    /// `EASEL_DECOMMISSION_LINK_DAYS`.
    pub link_days: u32,
    /// `EASEL_ARCHIVE_DIR`.
    pub archive_dir: PathBuf,
    /// `EASEL_ARCHIVE_RESIZER_WAIT_SECONDS`: how long the archive waits for
    /// the resizer to render the uploads accepted before the freeze.
    pub resizer_wait: std::time::Duration,
}

/// What the running console needs for the procedure.
#[derive(Debug, Clone)]
pub struct DecommissionConfig {
    pub mailer: Mailer,
    /// No trailing slash.
    pub public_url: String,
    pub link_days: u32,
    pub archive_dir: PathBuf,
    pub resizer_wait: std::time::Duration,
}

impl DecommissionConfig {
    pub fn link(&self, token: &LinkToken) -> String {
        format!("{}/decommission/{}", self.public_url, token.as_str())
    }
}

/// What the procedure works with: the database, its mail and archive
/// settings, and the AWS clients it archives and destroys through. The
/// console's `AppState` lends one (`AppState::decommissioning`), so the
/// procedure knows nothing of the web layer. Every field is a handle to
/// state held once (a pool, an `Arc`), never a second copy of it: the S3
/// client and the bucket names are `support`'s.
#[derive(Clone)]
pub struct Services {
    pub pool: sqlx::PgPool,
    pub decommission: DecommissionConfig,
    pub support: std::sync::Arc<crate::support::Support>,
    /// Told when a transaction queued mail (the outbox sends it at once).
    pub mail_wake: std::sync::Arc<tokio::sync::Notify>,
    pub deadlines: crate::deadlines::Deadlines,
    pub audit_key: Option<ed25519_dalek::VerifyingKey>,
}

impl Services {
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.support.s3
    }

    pub fn buckets(&self) -> &crate::storage::BucketNames {
        &self.support.buckets
    }
}

/// Which decommission a request names: its id, parsed once at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct DecommissionId(pub uuid::Uuid);
