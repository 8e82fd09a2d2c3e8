//! Step 1 → 2: the admin opens the request (the stakeholders, the point of
//! contact, the reason written or as a PDF), and every stakeholder's link
//! to approve it is queued in the same transaction.

use sha2::{Digest, Sha256};
use std::net::IpAddr;
use uuid::Uuid;

use super::{DecommissionError, Result, event, links::queue_links};
use crate::audit::{self, Actor, AuditAction};
use crate::decommission::Services;
use crate::decommission::{repo, stakeholder::NewStakeholder, step::DecommissionStep};

/// Step 1: what the admin fills in.
pub struct OpenRequest {
    pub stakeholders: Vec<NewStakeholder>,
    pub point_of_contact: String,
    pub reason: String,
    pub reason_pdf: Option<(String, Vec<u8>)>,
}

/// Step 1 → 2: opens the request and mails every stakeholder their link.
pub async fn open(state: &Services, actor: &Actor, addr: IpAddr, req: OpenRequest) -> Result<Uuid> {
    if req.point_of_contact.trim().is_empty() {
        return Err(DecommissionError::Invalid("Name the point of contact.".into()));
    }
    if req.reason.trim().is_empty() && req.reason_pdf.is_none() {
        return Err(DecommissionError::Invalid(
            "Give the reason: write it, or attach the reason document (PDF).".into(),
        ));
    }
    if let Some((_, bytes)) = &req.reason_pdf
        && !bytes.starts_with(b"%PDF-")
    {
        return Err(DecommissionError::Invalid("The reason document must be a PDF file.".into()));
    }
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    let inserted = repo::insert(
        &mut tx,
        &repo::NewDecommission {
            id,
            opened_by: actor.name(),
            point_of_contact: req.point_of_contact.trim(),
            reason: req.reason.trim(),
            reason_pdf: req.reason_pdf.as_ref().map(|(n, b)| (n.as_str(), b.as_slice())),
        },
    )
    .await;
    match inserted {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(DecommissionError::AlreadyOpen),
        other => other?,
    }
    let stakeholders = repo::insert_stakeholders(&mut tx, id, &req.stakeholders).await?;
    let details = serde_json::json!({
        "point_of_contact": req.point_of_contact.trim(),
        "reason": req.reason.trim(),
        "reason_pdf": req.reason_pdf.as_ref().map(|(name, bytes)| serde_json::json!({
            "name": name, "bytes": bytes.len(), "sha256": hex::encode(Sha256::digest(bytes)),
        })),
        "stakeholders": stakeholders.iter().map(|s| serde_json::json!({
            "name": s.name, "email": s.email, "role": s.role.as_str(),
        })).collect::<Vec<_>>(),
    });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionOpened, id, details, addr)).await?;
    queue_links(&mut tx, state, id, req.reason.trim(), DecommissionStep::Approval, &stakeholders).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(id)
}
