mod create;
mod disable;
mod get;
mod reset;

pub use create::create_account;
pub use disable::disable_account;
pub use get::accounts;
pub use reset::reset_account;

use crate::{auth::accounts::AccountError, error::PageError};

impl From<AccountError> for PageError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NotFound => PageError::NotFound,
            AccountError::Refused(r) => r.into(),
            AccountError::OwnAccount => PageError::BadRequest("You cannot do that to your own account.".into()),
            AccountError::Create(crate::auth::users::CreateUserError::Exists(email)) => {
                PageError::BadRequest(format!("An account for {email} already exists."))
            }
            other => PageError::Unexpected(other.into()),
        }
    }
}
