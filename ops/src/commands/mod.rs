pub mod test;
pub mod up;
