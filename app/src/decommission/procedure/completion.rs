//! Step 6: every stakeholder is told the decommissioning is complete.

use std::net::IpAddr;
use uuid::Uuid;

use super::{Result, event, locked};
use crate::audit::{self, Actor, AuditAction};
use crate::decommission::{
    Services,
    mail::completion_letter,
    repo,
    step::{DecommissionStep, StepEvent},
};
use crate::outbox::{self, Outgoing};

/// Step 6: every stakeholder is told. The letters are queued with the step
/// change; the outbox delivers them, and the page shows each one's state.
pub async fn notify_completion(state: &Services, id: Uuid, actor: &Actor, addr: IpAddr) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    let next = d.step.next(StepEvent::CompletionSent)?;
    let everyone = repo::stakeholders(&mut *tx, id).await?;
    let sha = d.archive_sha256.clone().unwrap_or_default();
    for s in &everyone {
        let letter = completion_letter(&s.name, &sha, &d.point_of_contact);
        let mail = Outgoing {
            decommission: Some(id),
            stakeholder: Some(s.id),
            to_name: &s.name,
            to_addr: &s.email,
            purpose: DecommissionStep::Notify.as_str(),
            subject: &letter.subject,
            body: &letter.body,
        };
        outbox::enqueue(&mut tx, &mail).await?;
    }
    repo::set_step(&mut tx, id, next).await?;
    let details = serde_json::json!({ "to": everyone.iter().map(|s| &s.email).collect::<Vec<_>>() });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionCompletionNotified, id, details, addr)).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}
