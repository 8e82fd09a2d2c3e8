//! `stakeholders`: who must approve a request, in the order they were typed.

use sqlx::{PgExecutor, Postgres, Transaction};
use uuid::Uuid;

use crate::decommission::stakeholder::{NewStakeholder, StakeholderRole};

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
        // The list comes from one form of bounded size: far fewer than i32::MAX lines.
        let position = i32::try_from(i).unwrap_or(i32::MAX);
        sqlx::query!(
            "INSERT INTO stakeholders (id, decommission_id, position, name, email, role) VALUES ($1, $2, $3, $4, $5, $6)",
            id,
            decommission,
            position,
            &s.name,
            s.email.as_str(),
            s.role.as_str(),
        )
        .execute(&mut **tx)
        .await?;
        out.push(Stakeholder { id, name: s.name.clone(), email: s.email.to_string(), role: s.role });
    }
    Ok(out)
}

pub async fn stakeholders(db: impl PgExecutor<'_>, decommission: Uuid) -> Result<Vec<Stakeholder>, sqlx::Error> {
    sqlx::query_as!(
        Stakeholder,
        r#"SELECT id, name, email, role AS "role: StakeholderRole" FROM stakeholders
           WHERE decommission_id = $1 ORDER BY position"#,
        decommission,
    )
    .fetch_all(db)
    .await
}
