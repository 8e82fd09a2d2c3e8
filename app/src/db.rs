//! The Postgres pool and the schema migrations, which only ever move forward.

use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::{deadlines::Deadlines, settings::DatabaseUrl};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to Postgres at {url}: {source}. Is it running? `cargo ops up` starts a local one.")]
    Connect { url: String, source: sqlx::Error },
    #[error("applying database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The pool, with the deadlines of `deadlines` (see `crate::deadlines`).
pub async fn connect(url: &DatabaseUrl, deadlines: &Deadlines) -> Result<PgPool, DbError> {
    let failed = |source| DbError::Connect { url: url.redacted(), source };
    let options: PgConnectOptions = url.expose().parse().map_err(failed)?;
    // Set per connection, so no statement of ours runs longer, whatever it
    // waits on (a lock, I/O, a plan gone wrong).
    let statement_timeout = deadlines.db_statement.as_millis().to_string();
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(deadlines.db_acquire)
        .connect_with(options.options([("statement_timeout", statement_timeout.as_str())]))
        .await
        .map_err(failed)
}

pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}
