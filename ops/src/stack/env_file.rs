//! `.easel/stack.env`: the addresses a running `cargo ops up` wrote, so the
//! other commands find its database without being told.

use anyhow::bail;

use super::paths::StackDir;

/// `DATABASE_URL` from the environment, else from a running `cargo ops up`.
pub fn database_url() -> anyhow::Result<String> {
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    let path = StackDir::up().stack_env();
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Some(url) = text.lines().find_map(|l| l.strip_prefix("DATABASE_URL="))
    {
        return Ok(url.to_owned());
    }
    bail!("no database to use: start Easel with `cargo ops up` (in another terminal) or set DATABASE_URL")
}

/// The database as its owner, for migrations: `EASEL_OWNER_DATABASE_URL`
/// (the environment, else a running `cargo ops up`), else `DATABASE_URL`.
pub fn owner_database_url() -> anyhow::Result<String> {
    match setting("EASEL_OWNER_DATABASE_URL") {
        Some(url) => Ok(url),
        None => database_url(),
    }
}

/// `var` from the environment, else from a running `cargo ops up`'s
/// `.easel/stack.env`.
pub fn setting(var: &str) -> Option<String> {
    if let Ok(v) = std::env::var(var)
        && !v.is_empty()
    {
        return Some(v);
    }
    let text = std::fs::read_to_string(StackDir::up().stack_env()).ok()?;
    text.lines().find_map(|l| l.strip_prefix(var)?.strip_prefix('=')).map(str::to_owned)
}

/// Settings as the console would read them, with what a running `cargo ops
/// up` wrote filling in what the environment does not say.
pub fn settings(need_database: bool) -> anyhow::Result<easel_app::settings::Settings> {
    let database = database_url();
    if need_database {
        database.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    easel_app::settings::Settings::from_lookup(|k| match k {
        "DATABASE_URL" => Some(database.as_ref().cloned().unwrap_or_else(|_| "postgres://unused/unused".into())),
        "EASEL_AWS_ENDPOINT" | "EASEL_AWS_REGION" | "EASEL_AUDIT_KEY_FILE" | "EASEL_BACKUP_BUCKET" => setting(k),
        _ => std::env::var(k).ok(),
    })
    .map_err(|e| anyhow::anyhow!("reading Easel's settings: {e}"))
}

/// How `cargo ops` names the person running it in the audit trail.
pub fn operator() -> easel_app::audit::Actor {
    let who = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    easel_app::audit::Actor::Operator { name: format!("cargo ops ({who})") }
}
