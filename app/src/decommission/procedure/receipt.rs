//! Step 4, the hand-over: the representative downloads the archive through
//! their link and signs for it, consenting, word for word, to the
//! destruction that follows.

use anyhow::Context;
use std::net::IpAddr;

use super::{
    DecommissionError, LinkRefused, Result, event,
    links::{claim, view_link},
};
use crate::audit::{self, Actor, AuditAction};
use crate::decommission::{
    Services, repo,
    stakeholder::StakeholderRole,
    step::{DecommissionStep, StepEvent},
};

/// The archive a receipt link may download, and its file name.
pub async fn archive_for_link(state: &Services, token: &str) -> Result<(std::path::PathBuf, String)> {
    let view = view_link(state, token).await?;
    if view.step != DecommissionStep::Handover {
        return Err(LinkRefused::Unknown.into());
    }
    let file = view.decommission.archive_file.context("the archive has no file")?;
    Ok((file.into(), format!("easel-archive-{}.zip", view.decommission.id)))
}

/// The words the representative ticks on the receipt, as stored with it.
pub fn receipt_consent(archive_sha256: &str) -> String {
    format!(
        "I confirm that I received Easel’s data archive with the SHA-256 {archive_sha256}, and I consent to the \
         destruction of Easel’s data."
    )
}

/// Step 4: the representative signs for the archive.
pub async fn sign_receipt(state: &Services, token: &str, full_name: &str, consent: bool, addr: IpAddr) -> Result<()> {
    let full_name = full_name.trim();
    if full_name.chars().count() < 2 || !consent {
        return Err(DecommissionError::Invalid(
            "To sign, type your full name and tick the box confirming you received the archive.".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    let (_, d, s) = claim(&mut tx, token).await?;
    if d.step != DecommissionStep::Handover || s.role != StakeholderRole::Representative {
        return Err(LinkRefused::Unknown.into());
    }
    let next = d.step.next(StepEvent::ReceiptSigned)?;
    let sha = d.archive_sha256.clone().context("a handed-over archive has a hash")?;
    let consent = receipt_consent(&sha);
    let receipt = repo::Receipt { full_name, by: &s.email, consent: &consent, addr, sha256: &sha };
    let at = repo::set_receipt(&mut tx, d.id, next, &receipt).await?;
    let details = serde_json::json!({
        "full_name": full_name, "stakeholder": s.email, "archive_sha256": sha, "consent": consent,
        "at": at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    });
    let actor = Actor::Stakeholder { email: s.email.clone() };
    audit::append(&mut tx, event(&actor, AuditAction::DecommissionReceiptSigned, d.id, details, addr)).await?;
    tx.commit().await?;
    Ok(())
}
