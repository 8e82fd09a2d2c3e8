//! The procedure's operations, one file per step of the SOP: each checks
//! the step, changes it with its audit row in one transaction, and queues
//! in it the mail that step calls for (`crate::outbox` sends it).
//!
//! 1. `open.rs`: the request, with its reason; links to every stakeholder.
//! 2. `approvals.rs`: each stakeholder approves or rejects by link.
//! 3. `plan.rs`: the admin's plan; `approvals.rs` again for the
//!    representative's verdict on it (approval freezes uploads).
//! 4. `archiving.rs`: the archive, built and verified in the background;
//!    `receipt.rs`: the representative downloads it and signs for it.
//! 5. `destruction.rs`: the data, the resizer and support access go.
//! 6. `completion.rs`: everyone is told.
//! 7. `review.rs`: the review closes the request.
//!
//! Beside them: `links.rs` (links made, checked and claimed) and
//! `resend.rs` (a link or a message sent again). Invariants: the order of
//! the steps is written only in `DecommissionStep::next`, which every
//! operation asks before it changes anything; the row is locked
//! (`locked`) while a step changes; a link works once, for its step only.

mod approvals;
mod archiving;
mod completion;
mod destruction;
mod links;
mod open;
mod plan;
mod receipt;
mod resend;
mod review;

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{
    Services,
    repo::{self, Decommission, Stakeholder},
    stakeholder::StakeholderRole,
    step::{DecommissionStep, TransitionError},
};
use crate::audit::{Actor, AuditAction, NewEvent, Origin};

pub use approvals::{DecisionOutcome, decide};
pub use archiving::start_archive;
pub use completion::notify_completion;
pub use destruction::destroy;
pub use links::{LinkView, view_link};
pub use open::{OpenRequest, open};
pub use plan::submit_plan;
pub use receipt::{archive_for_link, receipt_consent, sign_receipt};
pub use resend::{resend, send_mail_again};
pub use review::record_review;

/// Why a link does nothing. Each gets its own plain page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    #[error("This link is not valid. Check that you copied the whole link from the e-mail.")]
    Unknown,
    #[error("This link has already been used. Each link works once.")]
    Used,
    #[error("This link has expired. Ask the point of contact to send you a new one.")]
    Expired,
    #[error("This link was replaced by a newer one. Use the link in the most recent e-mail.")]
    Replaced,
    #[error("This step of the decommissioning is over, so this link no longer applies.")]
    StepOver,
}

#[derive(Debug, thiserror::Error)]
pub enum DecommissionError {
    #[error("no such decommission")]
    NotFound,
    #[error("A decommission is already under way (or Easel is already decommissioned).")]
    AlreadyOpen,
    #[error("{0}")]
    Invalid(String),
    #[error("This cannot be done now: the decommission is at “{}”.", .0.from.label())]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Link(#[from] LinkRefused),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for DecommissionError {
    fn from(e: sqlx::Error) -> Self {
        DecommissionError::Unexpected(anyhow::Error::new(e).context("decommission database work"))
    }
}

type Result<T, E = DecommissionError> = std::result::Result<T, E>;

/// The audit row of a change to decommission `id`.
fn event(
    actor: &Actor,
    action: AuditAction,
    id: Uuid,
    details: serde_json::Value,
    from: impl Into<Origin>,
) -> NewEvent {
    NewEvent { actor: actor.clone(), action, subject: format!("decommission:{id}"), details, client_addr: from.into() }
}

/// The decommission, locked until `tx` ends: its step changes one at a time.
async fn locked(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<Decommission> {
    repo::lock(tx, id).await?.ok_or(DecommissionError::NotFound)
}

/// Stakeholder `s` of decommission `d`.
async fn stakeholder(db: impl sqlx::PgExecutor<'_>, d: Uuid, s: Uuid) -> Result<Stakeholder> {
    repo::stakeholders(db, d).await?.into_iter().find(|x| x.id == s).ok_or(DecommissionError::NotFound)
}

/// The representative, as the list `links::queue_links` takes.
async fn representative(state: &Services, id: Uuid) -> Result<Vec<Stakeholder>> {
    Ok(repo::stakeholders(&state.pool, id)
        .await?
        .into_iter()
        .filter(|s| s.role == StakeholderRole::Representative)
        .collect())
}

/// The words of the banner every admin page shows while a decommission is
/// under way (or after it closed).
pub fn banner(step: DecommissionStep) -> String {
    match step {
        DecommissionStep::Closed => "Easel has been decommissioned. The console is read-only.".to_string(),
        step if step.read_only() => {
            format!("Decommissioning under way — step {}. Data destroyed; the console is read-only.", step.label())
        }
        step if step.uploads_frozen() => {
            format!("Decommissioning under way — step {}. Uploads are frozen.", step.label())
        }
        step => format!("Decommissioning under way — step {}.", step.label()),
    }
}
