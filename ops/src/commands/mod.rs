pub mod audit;
pub mod bench;
pub mod create_admin;
pub mod deploy;
pub mod package;
pub mod template;
pub mod test;
pub mod up;
