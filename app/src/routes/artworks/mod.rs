//! `/artworks/{id}`: one artwork's own page, where gallery tiles and the
//! upload confirmation lead.

mod get;

pub use get::{artwork_page, load};
