use aws_sdk_s3::Client as S3Client;
use easel_resizer::image::Limits;
use sqlx::PgPool;

use crate::{decommission::DecommissionConfig, settings::AuthSettings, storage::BucketNames};

/// What every handler may need; cheap to clone (each field is a handle).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub limits: Limits,
    /// How many files, and bytes in all, one upload may carry.
    pub uploads: crate::settings::UploadLimits,
    pub auth: AuthSettings,
    /// Mailer, link base and archive place of the decommissioning procedure.
    pub decommission: DecommissionConfig,
    /// The AWS clients (S3 among them) and the bucket names, held here
    /// once: `s3()` and `buckets()` lend them to the upload and media pages.
    pub support: std::sync::Arc<crate::support::Support>,
    /// Where CPU-bound work runs (image checks, argon2): one at a time per
    /// core, so a burst waits its turn instead of taking every core from
    /// the pages and the database pool.
    pub cpu: crate::cpu::CpuBound,
    /// Refused sign-ins, counted in memory and written to the database
    /// every few seconds, so a flood of refusals writes nothing per request.
    pub refusals: std::sync::Arc<crate::auth::throttle::Refusals>,
    /// Told when a transaction queued mail, so the outbox's sender sends it
    /// at once rather than at its next look.
    pub mail_wake: std::sync::Arc<tokio::sync::Notify>,
    /// How long pages and outside calls may take.
    pub deadlines: crate::deadlines::Deadlines,
    /// The audit checkpoints' public key: the pages verify from the newest
    /// checkpoint it signed. `None`: no key is set, they walk the whole chain.
    pub audit_key: Option<ed25519_dalek::VerifyingKey>,
}

impl axum::extract::FromRef<AppState> for crate::proxies::TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        state.auth.trusted_proxies.clone()
    }
}

impl AppState {
    pub fn s3(&self) -> &S3Client {
        &self.support.s3
    }

    pub fn buckets(&self) -> &BucketNames {
        &self.support.buckets
    }

    /// What the decommissioning procedure works with, lent from here.
    pub fn decommissioning(&self) -> crate::decommission::Services {
        crate::decommission::Services {
            pool: self.pool.clone(),
            decommission: self.decommission.clone(),
            support: self.support.clone(),
            mail_wake: self.mail_wake.clone(),
            deadlines: self.deadlines.clone(),
            audit_key: self.audit_key,
        }
    }
}
