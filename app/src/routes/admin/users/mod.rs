mod create;
mod disable;
mod get;
mod reset;

pub use create::create_account;
pub use disable::disable_account;
pub use get::accounts;
pub use reset::reset_account;
