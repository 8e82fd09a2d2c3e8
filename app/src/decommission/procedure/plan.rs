//! Step 3, the admin's side: the plan (steps, timeline, resources,
//! contingency) is stored and its approval link goes to the representative.

use anyhow::Context;
use std::net::IpAddr;
use uuid::Uuid;

use super::{DecommissionError, Result, event, links::queue_links, locked, representative};
use crate::audit::{self, Actor, AuditAction};
use crate::decommission::{
    Services,
    repo::{self, Plan},
    step::{DecommissionStep, StepEvent},
};

/// Step 3: the admin's plan goes to the representative.
pub async fn submit_plan(state: &Services, id: Uuid, actor: &Actor, addr: IpAddr, plan: Plan) -> Result<()> {
    if [&plan.steps, &plan.timeline, &plan.resources, &plan.contingency].iter().any(|f| f.trim().is_empty()) {
        return Err(DecommissionError::Invalid(
            "Fill in every part of the plan: steps, timeline, resources and contingency.".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    let next = d.step.next(StepEvent::PlanSubmitted)?;
    repo::set_plan(&mut tx, id, next, &plan).await?;
    let details = serde_json::to_value(&plan).context("a plan serialises")?;
    audit::append(&mut tx, event(actor, AuditAction::DecommissionPlanSubmitted, id, details, addr)).await?;
    let to = representative(state, id).await?;
    queue_links(&mut tx, state, id, &d.reason, DecommissionStep::PlanApproval, &to).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}
