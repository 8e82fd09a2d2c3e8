mod get;

pub use get::rendition;
