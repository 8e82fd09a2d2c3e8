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
    #[error(
        "the database's schema is older than this console: migration {version} ({description}) has not run. \
         Run `cargo ops migrate` with the owner's credentials (EASEL_OWNER_DATABASE_URL): the console's own role \
         may not change the schema"
    )]
    Behind { version: i64, description: String },
    #[error("reading which migrations ran: {0}")]
    Query(sqlx::Error),
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

/// Applies what has not run yet. Only the owner may: see
/// `migrations/20261204000006_console_role.sql`.
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Fails, naming the first, when a migration this build knows has not run.
/// The console asks this at start-up instead of migrating: its role may
/// not change the schema.
pub async fn check_migrated(pool: &PgPool) -> Result<(), DbError> {
    // Unchecked: `_sqlx_migrations` is the migrator's table, not our schema, and may not exist yet (handled below).
    let applied: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(pool).await {
            Ok(v) => v,
            // undefined_table: nothing ever ran.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(DbError::Query(e)),
        };
    match MIGRATOR.iter().find(|m| !applied.contains(&m.version)) {
        Some(m) => Err(DbError::Behind { version: m.version, description: m.description.to_string() }),
        None => Ok(()),
    }
}
