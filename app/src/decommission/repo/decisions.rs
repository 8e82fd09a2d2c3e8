//! `stakeholder_decisions`: every approval or rejection made through a link.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::decommission::step::DecommissionStep;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Decision {
    pub stakeholder_id: Uuid,
    pub step: String,
    pub decision: String,
    pub comment: String,
    pub at: OffsetDateTime,
    pub client_addr: String,
}

pub async fn decisions(db: impl PgExecutor<'_>, decommission: Uuid) -> Result<Vec<Decision>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.stakeholder_id, d.step, d.decision, d.comment, d.at, d.client_addr
         FROM stakeholder_decisions d JOIN stakeholders s ON s.id = d.stakeholder_id
         WHERE s.decommission_id = $1 ORDER BY d.id",
    )
    .bind(decommission)
    .fetch_all(db)
    .await
}

pub async fn insert_decision(
    tx: &mut Transaction<'_, Postgres>,
    stakeholder: Uuid,
    step: DecommissionStep,
    approved: bool,
    comment: &str,
    client_addr: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stakeholder_decisions (stakeholder_id, step, decision, comment, client_addr) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(stakeholder)
    .bind(step.as_str())
    .bind(if approved { "approved" } else { "rejected" })
    .bind(comment)
    .bind(client_addr)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many stakeholders of `decommission` have not yet approved at `step`.
pub async fn pending_approvals(
    tx: &mut Transaction<'_, Postgres>,
    decommission: Uuid,
    step: DecommissionStep,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM stakeholders s WHERE s.decommission_id = $1 AND NOT EXISTS (
             SELECT 1 FROM stakeholder_decisions d WHERE d.stakeholder_id = s.id AND d.step = $2 AND d.decision = 'approved')",
    )
    .bind(decommission)
    .bind(step.as_str())
    .fetch_one(&mut **tx)
    .await
}
