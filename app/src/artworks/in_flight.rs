//! Uploads under way (`uploads_in_flight`): how an upload stores its
//! original without holding a database connection, and yet a decommission's
//! archive never starts while one is half-way.
//!
//! An upload registers under the shared upload gate and commits at once,
//! puts its original with no connection held, then writes its row and
//! unregisters in one transaction. A freeze takes the gate exclusively, so
//! once it commits no upload can register; the archive then waits for those
//! registered before to finish (`wait_until_none`). An upload abandoned
//! (its page deadline passed, its console died) leaves a registration that
//! no one waits for past the page deadline, and the orphan sweep forgets it.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};

pub async fn register(db: impl PgExecutor<'_>, original_key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("INSERT INTO uploads_in_flight (original_key) VALUES ($1)", original_key).execute(db).await?;
    Ok(())
}

pub async fn unregister(db: impl PgExecutor<'_>, original_key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM uploads_in_flight WHERE original_key = $1", original_key).execute(db).await?;
    Ok(())
}

/// Uploads registered less than `deadline` ago (older ones were abandoned:
/// no upload outlives its page deadline).
pub async fn under_way(db: impl PgExecutor<'_>, deadline: Duration) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM uploads_in_flight WHERE started_at > now() - make_interval(secs => $1)"#,
        deadline.as_secs_f64(),
    )
    .fetch_one(db)
    .await
}

/// Waits until no upload is under way; each wait is reported to `waiting`
/// with how many are.
pub async fn wait_until_none(
    pool: &PgPool,
    deadline: Duration,
    mut waiting: impl FnMut(i64),
) -> Result<(), sqlx::Error> {
    loop {
        let n = under_way(pool, deadline).await?;
        if n == 0 {
            return Ok(());
        }
        waiting(n);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Forgets registrations older than `age`; returns how many.
pub async fn forget_abandoned(db: impl PgExecutor<'_>, age: Duration) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM uploads_in_flight WHERE started_at < now() - make_interval(secs => $1)",
        age.as_secs_f64(),
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
