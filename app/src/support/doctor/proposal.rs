//! What a fix would change, before anything is written: the aspect's text
//! as it is and as the spec wants it (`propose`), accepted only when a
//! failing check offers it (`review`), and its audit row once applied.

use super::diff::{DiffLine, line_diff};
use super::model::{Aspect, DoctorError, Fix, LiveStack};
use super::{diagnose, fixes};
use crate::audit::Origin;
use crate::storage::{
    BucketRole,
    live::{LiveBucket, NotificationTarget},
    spec::StackSpec,
};
use crate::support::trigger::ResizerTrigger;

/// What a fix would write, as text lines for a diff.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub fix: Fix,
    pub bucket: String,
    pub before: String,
    pub after: String,
}

impl Proposal {
    pub fn changes_something(&self) -> bool {
        self.before != self.after
    }

    pub fn diff(&self) -> Vec<DiffLine> {
        line_diff(&self.before, &self.after)
    }

    /// The audit row of an applied fix: what it was, before and after, plus
    /// any `extra` fields of the caller's.
    pub async fn record(
        &self,
        pool: &sqlx::PgPool,
        actor: &crate::audit::Actor,
        client_addr: Origin,
        extra: serde_json::Value,
    ) -> Result<(), sqlx::Error> {
        let mut details =
            serde_json::json!({ "fix": self.fix.to_string(), "before": self.before, "after": self.after });
        if let (Some(d), serde_json::Value::Object(more)) = (details.as_object_mut(), extra) {
            d.extend(more);
        }
        crate::support::record(
            pool,
            actor,
            crate::audit::AuditAction::DoctorFixApplied,
            format!("bucket:{}", self.bucket),
            details,
            client_addr,
        )
        .await
    }
}

pub(super) fn desired_notifications(fix: Fix, trigger: &ResizerTrigger, b: &LiveBucket) -> Vec<NotificationTarget> {
    let mut kept: Vec<NotificationTarget> = b.notifications.iter().filter(|t| !trigger.is_target(t)).cloned().collect();
    if fix.role == BucketRole::Originals {
        kept.push(trigger.notification());
    }
    kept
}

fn notifications_text(ts: &[NotificationTarget]) -> String {
    if ts.is_empty() {
        return "(no notifications)".into();
    }
    ts.iter().map(|t| format!("{}: {}", t.id.as_deref().unwrap_or("-"), t.describe())).collect::<Vec<_>>().join("\n")
}

fn pretty_policy(b: &LiveBucket) -> String {
    match (&b.policy, b.policy_json()) {
        (_, Some(v)) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        (Some(raw), None) => raw.clone(),
        (None, None) => "(no policy)".into(),
    }
}

/// The change `fix` would make to the bucket as it is now.
pub fn propose(spec: &StackSpec, trigger: &ResizerTrigger, live: &LiveStack, fix: Fix) -> Proposal {
    let b = live.bucket(fix.role);
    let want = spec.bucket(fix.role);
    let (before, after) = match fix.aspect {
        Aspect::Location => (
            if b.exists {
                format!("bucket {} in {}", b.name, b.region.as_deref().unwrap_or("?"))
            } else {
                format!("(no bucket {})", b.name)
            },
            format!("bucket {} in {}", want.name, spec.region),
        ),
        Aspect::Policy => (pretty_policy(b), serde_json::to_string_pretty(&want.policy).unwrap_or_default()),
        Aspect::Encryption => (
            format!("default encryption: {}", b.encryption.as_deref().unwrap_or("off")),
            format!(
                "default encryption: {}",
                b.encryption.as_deref().filter(|_| b.encryption.is_some()).unwrap_or(want.encryption)
            ),
        ),
        Aspect::PublicAccess => {
            let p = b.public_access.clone().unwrap_or_default();
            (
                format!(
                    "BlockPublicAcls={}\nIgnorePublicAcls={}\nBlockPublicPolicy={}\nRestrictPublicBuckets={}",
                    p.block_public_acls, p.ignore_public_acls, p.block_public_policy, p.restrict_public_buckets
                ),
                "BlockPublicAcls=true\nIgnorePublicAcls=true\nBlockPublicPolicy=true\nRestrictPublicBuckets=true"
                    .into(),
            )
        }
        Aspect::Versioning => (
            format!("versioning: {}", b.versioning.as_deref().unwrap_or("never enabled")),
            "versioning: Enabled".into(),
        ),
        Aspect::Notifications => {
            (notifications_text(&b.notifications), notifications_text(&desired_notifications(fix, trigger, b)))
        }
    };
    Proposal { fix, bucket: want.name, before, after }
}

/// The change `fix` would make, if a check failing now offers it (or it
/// would change nothing): the doctor writes only what a failing check asks
/// for, never an aspect the spec leaves alone (`resized.versioning`).
pub fn review(spec: &StackSpec, trigger: &ResizerTrigger, live: &LiveStack, fix: Fix) -> Result<Proposal, DoctorError> {
    let proposal = propose(spec, trigger, live, fix);
    if proposal.changes_something() && !fixes(&diagnose(spec, trigger, live)).contains(&fix) {
        return Err(DoctorError::NotOffered(fix));
    }
    Ok(proposal)
}
