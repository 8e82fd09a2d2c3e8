//! The signed-in console's pages.

pub mod audit;
pub mod dashboard;
mod layout;
pub mod login;
pub mod notice;
pub mod password;
pub mod users;

pub use layout::{AdminLayout, CsrfField, StaffView};
