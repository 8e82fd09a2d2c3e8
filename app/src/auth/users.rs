use std::fmt;

use sqlx::{PgExecutor, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

/// What a staff account may do. Support staff troubleshoot; admins also
/// manage accounts and run the decommissioning procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Support,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "support" => Some(Role::Support),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff e-mail address, trimmed and lowercased: the account's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an e-mail address")]
pub struct InvalidEmail(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let e = raw.trim().to_lowercase();
        let ok = e.len() <= 254
            && !e.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
            && e.split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
        if ok { Ok(Email(e)) } else { Err(InvalidEmail(raw.chars().take(80).collect())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: Email,
    pub role: Role,
    pub must_change_password: bool,
    pub disabled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// A `users` row as selected, before its columns are parsed.
pub(crate) struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub must_change_password: bool,
    pub disabled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

impl TryFrom<UserRow> for User {
    type Error = sqlx::Error;
    fn try_from(r: UserRow) -> Result<Self, sqlx::Error> {
        Ok(User {
            id: r.id,
            email: Email::parse(&r.email).map_err(|e| sqlx::Error::Decode(e.into()))?,
            role: Role::parse(&r.role)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown role {:?}", r.role).into()))?,
            must_change_password: r.must_change_password,
            disabled_at: r.disabled_at,
            created_at: r.created_at,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account for {0} already exists")]
    Exists(Email),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Creates an account whose password must be changed at first sign-in.
pub async fn create(
    tx: &mut Transaction<'_, Postgres>,
    email: &Email,
    role: Role,
    password_hash: &str,
) -> Result<User, CreateUserError> {
    let row = sqlx::query_as!(
        UserRow,
        "INSERT INTO users (id, email, role, password_hash) VALUES ($1, $2, $3, $4)
         RETURNING id, email, role, must_change_password, disabled_at, created_at",
        Uuid::now_v7(),
        email.as_str(),
        role.as_str(),
        password_hash,
    )
    .fetch_one(&mut **tx)
    .await;
    match row {
        Ok(r) => Ok(r.try_into()?),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Err(CreateUserError::Exists(email.clone())),
        Err(e) => Err(e.into()),
    }
}

/// The account and its password hash, for signing in.
pub async fn find_for_sign_in(db: impl PgExecutor<'_>, email: &Email) -> Result<Option<(User, String)>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT id, email, role, must_change_password, disabled_at, created_at, password_hash FROM users WHERE email = $1",
        email.as_str(),
    )
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        let user = UserRow {
            id: r.id,
            email: r.email,
            role: r.role,
            must_change_password: r.must_change_password,
            disabled_at: r.disabled_at,
            created_at: r.created_at,
        };
        Ok((user.try_into()?, r.password_hash))
    })
    .transpose()
}

pub async fn password_hash(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", id).fetch_optional(db).await
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query_as!(
        UserRow,
        "SELECT id, email, role, must_change_password, disabled_at, created_at FROM users WHERE id = $1",
        id,
    )
    .fetch_optional(db)
    .await?;
    row.map(User::try_from).transpose()
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<User>, sqlx::Error> {
    let rows = sqlx::query_as!(
        UserRow,
        "SELECT id, email, role, must_change_password, disabled_at, created_at FROM users ORDER BY email",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(User::try_from).collect()
}

pub async fn count(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#).fetch_one(db).await
}

/// The support accounts still enabled (destruction disables them): id and e-mail.
pub async fn enabled_support(db: impl PgExecutor<'_>) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, email FROM users WHERE role = $1 AND disabled_at IS NULL ORDER BY email",
        Role::Support.as_str(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.email)).collect())
}

/// Disables the account and ends all its sessions. False if it was
/// already disabled or does not exist.
pub async fn disable(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("UPDATE users SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL", id)
        .execute(&mut **tx)
        .await?;
    sqlx::query!("DELETE FROM sessions WHERE user_id = $1", id).execute(&mut **tx).await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a new password hash. `one_time` forces a change at next sign-in;
/// an admin's reset also ends the account's sessions.
pub async fn set_password(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    hash: &str,
    one_time: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1", id, hash, one_time)
        .execute(&mut **tx)
        .await?;
    if one_time {
        sqlx::query!("DELETE FROM sessions WHERE user_id = $1", id).execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Ada@Example.ORG ").unwrap().as_str(), "ada@example.org");
        for bad in ["", "ada", "@example.org", "ada@", "ada@localhost", "a da@example.org", "a@b@c.org", "<a@b.org>"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Admin, Role::Support] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
