//! The signed-in console's pages.

pub mod audit;
pub mod backups;
pub mod dashboard;
pub mod decommission;
pub mod doctor;
mod layout;
pub mod login;
pub mod logs;
pub mod notice;
pub mod password;
pub mod stuck;
pub mod users;
pub mod when;

pub use layout::{AdminLayout, ButtonForm, CsrfField, StaffView};
