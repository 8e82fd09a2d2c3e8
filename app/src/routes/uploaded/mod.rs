mod get;

pub use get::uploaded;
