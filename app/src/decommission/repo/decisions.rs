//! `stakeholder_decisions`: every approval or rejection made through a link.

use std::fmt;

use sqlx::{PgExecutor, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::decommission::step::DecommissionStep;

/// What a stakeholder said through their link. Stored as `as_str` spells
/// it; a word the `sqlx::Type` derive does not know is a decode error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Verdict {
    Approved,
    Rejected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::Rejected => "rejected",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Decision {
    pub stakeholder_id: Uuid,
    pub step: DecommissionStep,
    pub decision: Verdict,
    pub comment: String,
    pub at: OffsetDateTime,
    pub client_addr: String,
}

pub async fn decisions(db: impl PgExecutor<'_>, decommission: Uuid) -> Result<Vec<Decision>, sqlx::Error> {
    sqlx::query_as!(
        Decision,
        r#"SELECT d.stakeholder_id, d.step AS "step: DecommissionStep", d.decision AS "decision: Verdict", d.comment,
                  d.at, d.client_addr
           FROM stakeholder_decisions d JOIN stakeholders s ON s.id = d.stakeholder_id
           WHERE s.decommission_id = $1 ORDER BY d.id"#,
        decommission,
    )
    .fetch_all(db)
    .await
}

pub async fn insert_decision(
    tx: &mut Transaction<'_, Postgres>,
    stakeholder: Uuid,
    step: DecommissionStep,
    approved: bool,
    comment: &str,
    client_addr: std::net::IpAddr,
) -> Result<(), sqlx::Error> {
    let verdict = if approved { Verdict::Approved } else { Verdict::Rejected };
    sqlx::query!(
        "INSERT INTO stakeholder_decisions (stakeholder_id, step, decision, comment, client_addr) VALUES ($1, $2, $3, $4, $5)",
        stakeholder,
        step.as_str(),
        verdict.as_str(),
        comment,
        client_addr.to_string(),
    )
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
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "pending!" FROM stakeholders s WHERE s.decommission_id = $1 AND NOT EXISTS (
               SELECT 1 FROM stakeholder_decisions d
               WHERE d.stakeholder_id = s.id AND d.step = $2 AND d.decision = $3)"#,
        decommission,
        step.as_str(),
        Verdict::Approved.as_str(),
    )
    .fetch_one(&mut **tx)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_spells_each_verdict_as_as_str() {
        for verdict in [Verdict::Approved, Verdict::Rejected] {
            assert_eq!(crate::test_support::stored_as(&verdict), verdict.as_str());
        }
    }
}
