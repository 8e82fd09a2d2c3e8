//! Sending again, at any step with mail: a stakeholder's link (the old one
//! stops working), or a message the outbox could not deliver.

use std::net::IpAddr;
use uuid::Uuid;

use super::{DecommissionError, Result, event, links::queue_link, stakeholder};
use crate::audit::{self, Actor, AuditAction};
use crate::decommission::{Services, repo, stakeholder::StakeholderRole, step::DecommissionStep};
use crate::outbox;

/// A new link for one stakeholder; the old one stops working.
pub async fn resend(state: &Services, id: Uuid, stakeholder_id: Uuid, actor: &Actor, addr: IpAddr) -> Result<()> {
    let d = repo::find(&state.pool, id).await?.ok_or(DecommissionError::NotFound)?;
    let s = stakeholder(&state.pool, id, stakeholder_id).await?;
    let eligible = match d.step {
        DecommissionStep::Approval => {
            !repo::decisions(&state.pool, id).await?.iter().any(|x| x.stakeholder_id == s.id && x.step == d.step)
        }
        DecommissionStep::PlanApproval | DecommissionStep::Handover => s.role == StakeholderRole::Representative,
        _ => false,
    };
    if !eligible {
        return Err(DecommissionError::Invalid(format!("{} has no link to resend at this step.", s.email)));
    }
    let mut tx = state.pool.begin().await?;
    let ended = queue_link(&mut tx, state, id, &d.reason, &s, d.step).await?;
    let details = serde_json::json!({ "to": s.email, "step": d.step.as_str(), "links_ended": ended });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionLinkResent, id, details, addr)).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// A message the outbox could not deliver, queued again.
pub async fn send_mail_again(state: &Services, id: Uuid, mail: i64, actor: &Actor, addr: IpAddr) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    let to = outbox::send_again(&mut tx, id, mail).await?.ok_or_else(|| {
        DecommissionError::Invalid("That message is sent or under way; there is nothing to send again.".into())
    })?;
    let details = serde_json::json!({ "mail": mail, "to": to });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionMailRequeued, id, details, addr)).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}
