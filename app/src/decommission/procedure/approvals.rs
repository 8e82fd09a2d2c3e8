//! Steps 2 and 3, the stakeholders' side: a decision through a link. At
//! step 2 every stakeholder approves the request (one rejection halts it);
//! at step 3 the representative approves the plan (which freezes uploads
//! and starts the archive step) or sends it back.

use super::{DecommissionError, LinkRefused, Result, event, links::claim};
use crate::audit::{self, Actor, AuditAction};
use crate::decommission::{
    Services, repo,
    step::{DecommissionStep, StepEvent},
};
use std::net::IpAddr;

/// What a decision led to, for the page that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionOutcome {
    Recorded,
    Halted,
    AllApproved,
    PlanApproved,
    PlanRejected,
}

/// Steps 2 and 3: a stakeholder approves or rejects through their link.
pub async fn decide(
    state: &Services,
    token: &str,
    approve: bool,
    comment: &str,
    addr: IpAddr,
) -> Result<DecisionOutcome> {
    let comment = comment.trim();
    if !approve && comment.is_empty() {
        return Err(DecommissionError::Invalid("Please say why you reject: the comment is required.".into()));
    }
    let mut tx = state.pool.begin().await?;
    let (_, d, s) = claim(&mut tx, token).await?;
    let actor = Actor::Stakeholder { email: s.email.clone() };
    let who =
        serde_json::json!({ "stakeholder": s.email, "name": s.name, "role": s.role.as_str(), "comment": comment });
    repo::insert_decision(&mut tx, s.id, d.step, approve, comment, addr).await?;
    let outcome = match (d.step, approve) {
        (DecommissionStep::Approval, true) => {
            let all = repo::pending_approvals(&mut tx, d.id, d.step).await? == 0;
            if all {
                let next = d.step.next(StepEvent::AllApproved)?;
                repo::set_step(&mut tx, d.id, next).await?;
            }
            let mut details = who;
            details["all_approved"] = all.into();
            audit::append(&mut tx, event(&actor, AuditAction::DecommissionApproved, d.id, details, addr)).await?;
            if all { DecisionOutcome::AllApproved } else { DecisionOutcome::Recorded }
        }
        (DecommissionStep::Approval, false) => {
            let next = d.step.next(StepEvent::Rejected)?;
            let reason = format!("{} ({}) rejected: {comment}", s.name, s.role);
            repo::set_halted(&mut tx, d.id, next, &reason).await?;
            audit::append(&mut tx, event(&actor, AuditAction::DecommissionRejected, d.id, who, addr)).await?;
            DecisionOutcome::Halted
        }
        (DecommissionStep::PlanApproval, true) => {
            let next = d.step.next(StepEvent::PlanApproved)?;
            repo::set_step(&mut tx, d.id, next).await?;
            repo::set_plan_comment(&mut tx, d.id, comment).await?;
            // The archive step starts here, and with it the upload freeze.
            repo::freeze_uploads(&mut tx, d.id).await?;
            let mut details = who;
            details["uploads_frozen"] = true.into();
            audit::append(&mut tx, event(&actor, AuditAction::DecommissionPlanApproved, d.id, details, addr)).await?;
            DecisionOutcome::PlanApproved
        }
        (DecommissionStep::PlanApproval, false) => {
            let next = d.step.next(StepEvent::PlanRejected)?;
            repo::set_step(&mut tx, d.id, next).await?;
            repo::set_plan_comment(&mut tx, d.id, comment).await?;
            audit::append(&mut tx, event(&actor, AuditAction::DecommissionPlanRejected, d.id, who, addr)).await?;
            DecisionOutcome::PlanRejected
        }
        // A receipt link cannot approve anything.
        _ => return Err(LinkRefused::Unknown.into()),
    };
    tx.commit().await?;
    Ok(outcome)
}
