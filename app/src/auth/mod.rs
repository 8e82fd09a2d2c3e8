//! Staff accounts, passwords, sessions and sign-in throttling, and the
//! middleware that guards everything under `/admin`.

pub mod accounts;
pub mod csrf;
pub mod devices;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod users;

pub use sessions::Session;
pub use users::{Email, Role, User};
