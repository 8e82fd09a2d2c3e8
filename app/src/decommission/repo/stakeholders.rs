//! `stakeholders`: who must approve a request, in the order they were typed.

use sqlx::{PgExecutor, Postgres, Transaction};
use uuid::Uuid;

use crate::decommission::stakeholder::{NewStakeholder, StakeholderRole};

#[derive(Debug, Clone, sqlx::FromRow)]
struct StakeholderRow {
    id: Uuid,
    name: String,
    email: String,
    role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stakeholder {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: StakeholderRole,
}

pub async fn insert_stakeholders(
    tx: &mut Transaction<'_, Postgres>,
    decommission: Uuid,
    list: &[NewStakeholder],
) -> Result<Vec<Stakeholder>, sqlx::Error> {
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO stakeholders (id, decommission_id, position, name, email, role) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(decommission)
        .bind(i as i32)
        .bind(&s.name)
        .bind(s.email.as_str())
        .bind(s.role.as_str())
        .execute(&mut **tx)
        .await?;
        out.push(Stakeholder { id, name: s.name.clone(), email: s.email.to_string(), role: s.role });
    }
    Ok(out)
}

pub async fn stakeholders(db: impl PgExecutor<'_>, decommission: Uuid) -> Result<Vec<Stakeholder>, sqlx::Error> {
    let rows: Vec<StakeholderRow> =
        sqlx::query_as("SELECT id, name, email, role FROM stakeholders WHERE decommission_id = $1 ORDER BY position")
            .bind(decommission)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| Stakeholder {
            id: r.id,
            name: r.name,
            email: r.email,
            role: StakeholderRole::parse(&r.role).unwrap_or(StakeholderRole::User),
        })
        .collect())
}
