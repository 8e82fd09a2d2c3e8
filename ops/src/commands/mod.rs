pub mod audit;
pub mod create_admin;
pub mod test;
pub mod up;
