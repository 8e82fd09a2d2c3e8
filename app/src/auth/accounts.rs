//! Account changes as whole operations: the change, its audit row, one
//! transaction. The console's handlers and `cargo ops create-admin` share
//! them, so both leave the same trail.

use sqlx::PgPool;
use uuid::Uuid;

use super::{
    Email, Role, User, password,
    users::{self, CreateUserError},
};
use crate::audit::{self, Actor, AuditAction, NewEvent, Origin};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Create(#[from] CreateUserError),
    #[error("no such account")]
    NotFound,
    #[error("you cannot do that to your own account")]
    OwnAccount,
    /// Easel is decommissioned: accounts no longer change.
    #[error(transparent)]
    Refused(#[from] crate::gate::Refused),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The decommission gate, for a change to accounts (whoever asks: the
/// accounts page or `cargo ops create-admin`).
async fn hold_gate(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), AccountError> {
    use crate::gate::{self, Change, GateError};
    gate::hold(tx, Change::Accounts).await.map_err(|e| match e {
        GateError::Refused(r) => AccountError::Refused(r),
        GateError::Db(e) => AccountError::Db(e),
    })
}

async fn hash_off_thread(pw: String) -> String {
    tokio::task::spawn_blocking(move || password::hash(&pw)).await.expect("hashing does not panic")
}

/// Creates an account with a one-time password, which is returned to be
/// handed over once.
pub async fn create(
    pool: &PgPool,
    email: &Email,
    role: Role,
    actor: &Actor,
    client_addr: Origin,
) -> Result<(User, String), AccountError> {
    let otp = password::one_time_password();
    let hash = hash_off_thread(otp.clone()).await;
    let mut tx = pool.begin().await?;
    hold_gate(&mut tx).await?;
    let user = users::create(&mut tx, email, role, &hash).await?;
    audit::append(
        &mut tx,
        NewEvent {
            actor: actor.clone(),
            action: AuditAction::UserCreated,
            subject: format!("user:{email}"),
            details: serde_json::json!({ "role": role.as_str() }),
            client_addr,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((user, otp))
}

/// Gives the account a new one-time password and ends its sessions.
pub async fn reset_password(
    pool: &PgPool,
    id: Uuid,
    by: &Actor,
    by_id: Option<Uuid>,
    client_addr: Origin,
) -> Result<(User, String), AccountError> {
    if by_id == Some(id) {
        return Err(AccountError::OwnAccount);
    }
    let user = users::find(pool, id).await?.ok_or(AccountError::NotFound)?;
    let otp = password::one_time_password();
    let hash = hash_off_thread(otp.clone()).await;
    let mut tx = pool.begin().await?;
    hold_gate(&mut tx).await?;
    users::set_password(&mut tx, id, &hash, true).await?;
    audit::append(
        &mut tx,
        NewEvent {
            actor: by.clone(),
            action: AuditAction::PasswordReset,
            subject: format!("user:{}", user.email),
            details: serde_json::json!({}),
            client_addr,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((user, otp))
}

/// Disables the account; its sessions end at once.
pub async fn disable(
    pool: &PgPool,
    id: Uuid,
    by: &Actor,
    by_id: Option<Uuid>,
    client_addr: Origin,
) -> Result<User, AccountError> {
    if by_id == Some(id) {
        return Err(AccountError::OwnAccount);
    }
    let user = users::find(pool, id).await?.ok_or(AccountError::NotFound)?;
    let mut tx = pool.begin().await?;
    hold_gate(&mut tx).await?;
    if users::disable(&mut tx, id).await? {
        audit::append(
            &mut tx,
            NewEvent {
                actor: by.clone(),
                action: AuditAction::UserDisabled,
                subject: format!("user:{}", user.email),
                details: serde_json::json!({}),
                client_addr,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(user)
}
