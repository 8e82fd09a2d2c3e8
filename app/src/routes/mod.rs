//! One folder per page, one file per method.

pub mod admin;
pub mod artworks;
pub mod assets;
pub mod deadline;
pub mod decommission;
pub mod gallery;
pub mod health;
pub mod media;
pub mod upload;
pub mod uploaded;
