//! `/admin`: sign-in, the dashboard, accounts and the audit trail. Every
//! route but the sign-in page sits behind `guards::staff`.

pub mod audit;
pub mod backups;
pub mod dashboard;
pub mod decommission;
pub mod doctor;
pub mod login;
pub mod logout;
pub mod logs;
pub mod password;
pub mod uploads;
pub mod users;
