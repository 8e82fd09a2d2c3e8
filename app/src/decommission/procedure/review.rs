//! Step 7: the post-decommissioning review, which closes the request.

use std::net::IpAddr;
use uuid::Uuid;

use super::{DecommissionError, Result, event, locked};
use crate::audit::{self, Actor, AuditAction};
use crate::decommission::{Services, repo, step::StepEvent};

/// Step 7: the post-decommissioning review closes the request.
pub async fn record_review(state: &Services, id: Uuid, actor: &Actor, addr: IpAddr, review: &str) -> Result<()> {
    let review = review.trim();
    if review.is_empty() {
        return Err(DecommissionError::Invalid("Write the review before closing.".into()));
    }
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    let next = d.step.next(StepEvent::ReviewRecorded)?;
    repo::set_closed(&mut tx, id, next, review).await?;
    let details = serde_json::json!({ "review": review });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionClosed, id, details, addr)).await?;
    tx.commit().await?;
    Ok(())
}
