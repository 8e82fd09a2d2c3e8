//! `cargo ops create-admin EMAIL`: another admin account, with a one-time
//! password printed once.

use anyhow::Context;
use easel_app::auth::{Email, Role, accounts};

use crate::stack::env_file;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// The new admin's e-mail address (their sign-in name).
    email: String,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let email = Email::parse(&opts.email)?;
    let pool = sqlx::PgPool::connect(&env_file::database_url()?).await.context("connecting to Postgres")?;
    easel_app::db::check_migrated(&pool).await?;
    let (user, otp) =
        accounts::create(&pool, &email, Role::Admin, &env_file::operator(), easel_app::audit::Origin::Local).await?;
    println!("Created admin {}.", user.email);
    println!("One-time password (shown only now; it must be changed at first sign-in): {otp}");
    Ok(())
}
