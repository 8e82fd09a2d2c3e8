//! `upload_gate`, the procedure's side: uploads freeze when the plan is
//! approved and close when the data is destroyed (`crate::gate` reads it).

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

pub async fn freeze_uploads(tx: &mut Transaction<'_, Postgres>, by: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE upload_gate SET frozen_at = coalesce(frozen_at, now()), frozen_by = $1", by)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn close_uploads(tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE upload_gate SET closed = true").execute(&mut **tx).await?;
    Ok(())
}
