use sha2::{Digest, Sha256};
use time::{OffsetDateTime, format_description::FormatItem, macros::format_description};

/// The `prev_hash` of the first row.
pub const GENESIS: [u8; 32] = [0; 32];

/// Who did something. Staff by account, merchants anonymously, operators by
/// the name they run `cargo ops` under, stakeholders through their links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    Staff {
        email: String,
        role: String,
    },
    Operator {
        name: String,
    },
    /// A decommissioning stakeholder, acting through a mailed link.
    Stakeholder {
        email: String,
    },
    System,
}

impl Actor {
    pub fn name(&self) -> &str {
        match self {
            Actor::Anonymous => "anonymous",
            Actor::Staff { email, .. } => email,
            Actor::Operator { name } => name,
            Actor::Stakeholder { email } => email,
            Actor::System => "system",
        }
    }

    pub fn role(&self) -> &str {
        match self {
            Actor::Anonymous => "merchant",
            Actor::Staff { role, .. } => role,
            Actor::Operator { .. } => "operator",
            Actor::Stakeholder { .. } => "stakeholder",
            Actor::System => "system",
        }
    }
}

/// Every kind of state change Easel records. Stored as its `as_str` form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ArtworkUploaded,
    SignedIn,
    SignInFailed,
    SignedOut,
    UserCreated,
    UserDisabled,
    PasswordReset,
    PasswordChanged,
    /// `cargo ops up` dropped rows whose originals the emulator forgot.
    ArtworksForgotten,
    /// An original with no row (a crash or a timeout between its put and
    /// its row), removed with its renditions after the grace period.
    ArtworkOrphanRemoved,
    /// Renditions whose artwork has neither a row nor an original, removed.
    ArtworkRenditionsOrphanRemoved,
    /// An artwork's original is gone from the originals bucket.
    ArtworkOriginalMissing,
    DecommissionOpened,
    DecommissionMailSent,
    DecommissionLinkResent,
    /// A message the outbox failed to send, queued again by an admin.
    DecommissionMailRequeued,
    DecommissionApproved,
    DecommissionRejected,
    DecommissionPlanSubmitted,
    DecommissionPlanApproved,
    DecommissionPlanRejected,
    DecommissionArchiveStarted,
    DecommissionArchiveBuilt,
    DecommissionArchiveFailed,
    DecommissionReceiptSigned,
    /// Destruction began (a run that stops half-way is then on record).
    DecommissionDestroyStarted,
    DecommissionDestroyFailed,
    DecommissionDestroyed,
    /// `cargo ops remove-stack`: the AWS stack (function, queues, alarms, log group) deleted after destruction.
    DecommissionStackRemoved,
    DecommissionCompletionNotified,
    DecommissionClosed,
    /// Support: a bucket doctor fix applied (web or `cargo ops doctor --fix`).
    DoctorFixApplied,
    /// Support: "resize again" re-delivered S3 events to the resizer.
    ResizeRequested,
    RestoreStarted,
    RestoreResumed,
    RestoreFinished,
}

impl AuditAction {
    pub const ALL: [AuditAction; 36] = [
        AuditAction::ArtworkUploaded,
        AuditAction::SignedIn,
        AuditAction::SignInFailed,
        AuditAction::SignedOut,
        AuditAction::UserCreated,
        AuditAction::UserDisabled,
        AuditAction::PasswordReset,
        AuditAction::PasswordChanged,
        AuditAction::ArtworksForgotten,
        AuditAction::ArtworkOrphanRemoved,
        AuditAction::ArtworkRenditionsOrphanRemoved,
        AuditAction::ArtworkOriginalMissing,
        AuditAction::DecommissionOpened,
        AuditAction::DecommissionMailSent,
        AuditAction::DecommissionLinkResent,
        AuditAction::DecommissionMailRequeued,
        AuditAction::DecommissionApproved,
        AuditAction::DecommissionRejected,
        AuditAction::DecommissionPlanSubmitted,
        AuditAction::DecommissionPlanApproved,
        AuditAction::DecommissionPlanRejected,
        AuditAction::DecommissionArchiveStarted,
        AuditAction::DecommissionArchiveBuilt,
        AuditAction::DecommissionArchiveFailed,
        AuditAction::DecommissionReceiptSigned,
        AuditAction::DecommissionDestroyStarted,
        AuditAction::DecommissionDestroyFailed,
        AuditAction::DecommissionDestroyed,
        AuditAction::DecommissionStackRemoved,
        AuditAction::DecommissionCompletionNotified,
        AuditAction::DecommissionClosed,
        AuditAction::DoctorFixApplied,
        AuditAction::ResizeRequested,
        AuditAction::RestoreStarted,
        AuditAction::RestoreResumed,
        AuditAction::RestoreFinished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ArtworkUploaded => "artwork.uploaded",
            AuditAction::SignedIn => "auth.signed_in",
            AuditAction::SignInFailed => "auth.sign_in_failed",
            AuditAction::SignedOut => "auth.signed_out",
            AuditAction::UserCreated => "user.created",
            AuditAction::UserDisabled => "user.disabled",
            AuditAction::PasswordReset => "user.password_reset",
            AuditAction::PasswordChanged => "user.password_changed",
            AuditAction::ArtworksForgotten => "artwork.forgotten_missing_original",
            AuditAction::ArtworkOrphanRemoved => "artwork.orphan_removed",
            AuditAction::ArtworkRenditionsOrphanRemoved => "artwork.orphan_renditions_removed",
            AuditAction::ArtworkOriginalMissing => "artwork.original_missing",
            AuditAction::DecommissionOpened => "decommission.opened",
            AuditAction::DecommissionMailSent => "decommission.mail_sent",
            AuditAction::DecommissionLinkResent => "decommission.link_resent",
            AuditAction::DecommissionMailRequeued => "decommission.mail_requeued",
            AuditAction::DecommissionApproved => "decommission.approved",
            AuditAction::DecommissionRejected => "decommission.rejected",
            AuditAction::DecommissionPlanSubmitted => "decommission.plan_submitted",
            AuditAction::DecommissionPlanApproved => "decommission.plan_approved",
            AuditAction::DecommissionPlanRejected => "decommission.plan_rejected",
            AuditAction::DecommissionArchiveStarted => "decommission.archive_started",
            AuditAction::DecommissionArchiveBuilt => "decommission.archive_built",
            AuditAction::DecommissionArchiveFailed => "decommission.archive_failed",
            AuditAction::DecommissionReceiptSigned => "decommission.receipt_signed",
            AuditAction::DecommissionDestroyStarted => "decommission.destroy_started",
            AuditAction::DecommissionDestroyFailed => "decommission.destroy_failed",
            AuditAction::DecommissionDestroyed => "decommission.destroyed",
            AuditAction::DecommissionStackRemoved => "decommission.stack_removed",
            AuditAction::DecommissionCompletionNotified => "decommission.completion_notified",
            AuditAction::DecommissionClosed => "decommission.closed",
            AuditAction::DoctorFixApplied => "support.doctor_fix_applied",
            AuditAction::ResizeRequested => "support.resize_requested",
            AuditAction::RestoreStarted => "support.restore_started",
            AuditAction::RestoreResumed => "support.restore_resumed",
            AuditAction::RestoreFinished => "support.restore_finished",
        }
    }
}

const AT_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The exact bytes a row's hash covers: a JSON object with sorted keys and
/// no spaces. `at` is in UTC with microseconds, Postgres's own precision, so
/// the form read back from the table is the form that was hashed.
#[allow(clippy::too_many_arguments)]
pub fn canonical_form(
    id: i64,
    at: OffsetDateTime,
    actor: &str,
    role: &str,
    action: &str,
    subject: &str,
    details: &serde_json::Value,
    client_addr: &str,
) -> String {
    let at = at.to_offset(time::UtcOffset::UTC).format(AT_FORMAT).expect("a timestamp formats");
    // serde_json's map is a BTreeMap (no `preserve_order`), so keys come out sorted at every depth.
    serde_json::json!({
        "action": action,
        "actor": actor,
        "at": at,
        "client_addr": client_addr,
        "details": details,
        "id": id,
        "role": role,
        "subject": subject,
    })
    .to_string()
}

/// `SHA-256(prev_hash || canonical form)`.
pub fn chain_hash(prev_hash: &[u8], canonical: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev_hash);
    h.update(canonical.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn form(details: serde_json::Value) -> String {
        canonical_form(
            7,
            datetime!(2026-11-25 10:00:00.123456 +01:00),
            "a@b.c",
            "admin",
            "user.created",
            "user:x",
            &details,
            "127.0.0.1",
        )
    }

    #[test]
    fn the_canonical_form_is_sorted_compact_and_in_utc() {
        let f = form(serde_json::json!({"z": 1, "a": {"y": true, "b": "x"}}));
        assert_eq!(
            f,
            r#"{"action":"user.created","actor":"a@b.c","at":"2026-11-25T09:00:00.123456Z","client_addr":"127.0.0.1","details":{"a":{"b":"x","y":true},"z":1},"id":7,"role":"admin","subject":"user:x"}"#
        );
    }

    #[test]
    fn any_change_to_a_row_or_its_predecessor_changes_the_hash() {
        let base = chain_hash(&GENESIS, &form(serde_json::json!({})));
        assert_ne!(base, chain_hash(&GENESIS, &form(serde_json::json!({"k": 1}))));
        assert_ne!(base, chain_hash(&[1; 32], &form(serde_json::json!({}))));
        assert_eq!(base, chain_hash(&GENESIS, &form(serde_json::json!({}))));
    }

    #[test]
    fn action_names_are_unique() {
        let mut names: Vec<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
    }
}
