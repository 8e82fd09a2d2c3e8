//! `approval_tokens`: the links' tokens, stored only hashed; each is bound
//! to one stakeholder and one step, expires, is used once, and ends when a
//! newer link for the same stakeholder and step is sent.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::decommission::{step::DecommissionStep, token::TokenHash};

/// Ends every live link of `stakeholder` for `step`; returns how many.
pub async fn end_tokens(
    tx: &mut Transaction<'_, Postgres>,
    stakeholder: Uuid,
    step: DecommissionStep,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE approval_tokens SET ended_at = now()
         WHERE stakeholder_id = $1 AND step = $2 AND used_at IS NULL AND ended_at IS NULL",
        stakeholder,
        step.as_str(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

pub async fn insert_token(
    tx: &mut Transaction<'_, Postgres>,
    hash: &TokenHash,
    decommission: Uuid,
    stakeholder: Uuid,
    step: DecommissionStep,
    valid_days: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO approval_tokens (token_hash, decommission_id, stakeholder_id, step, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(days => $5))",
        &hash.0,
        decommission,
        stakeholder,
        step.as_str(),
        i32::try_from(valid_days).unwrap_or(i32::MAX),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub decommission_id: Uuid,
    pub stakeholder_id: Uuid,
    pub step: DecommissionStep,
    pub expired: bool,
    pub used_at: Option<OffsetDateTime>,
    pub ended_at: Option<OffsetDateTime>,
}

pub async fn find_token(db: impl PgExecutor<'_>, hash: &TokenHash) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        r#"SELECT decommission_id, stakeholder_id, step AS "step: DecommissionStep", expires_at <= now() AS "expired!",
                  used_at, ended_at
           FROM approval_tokens WHERE token_hash = $1"#,
        &hash.0,
    )
    .fetch_optional(db)
    .await
}

/// The token row, locked so two submissions of one link cannot both decide.
pub async fn lock_token(tx: &mut Transaction<'_, Postgres>, hash: &TokenHash) -> Result<Option<TokenRow>, sqlx::Error> {
    let held = sqlx::query_scalar!("SELECT token_hash FROM approval_tokens WHERE token_hash = $1 FOR UPDATE", &hash.0)
        .fetch_optional(&mut **tx)
        .await?;
    match held {
        Some(_) => find_token(&mut **tx, hash).await,
        None => Ok(None),
    }
}

pub async fn use_token(tx: &mut Transaction<'_, Postgres>, hash: &TokenHash) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE approval_tokens SET used_at = now() WHERE token_hash = $1", &hash.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
