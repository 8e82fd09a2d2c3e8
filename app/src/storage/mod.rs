//! Everything Easel keeps in S3: which buckets exist and what each is for
//! (`BucketRole`), the provisioning spec both `cargo ops` and the checks use,
//! and the object operations the pages need.

mod buckets;
pub mod live;
pub mod objects;
pub mod policy;
pub mod spec;

pub use buckets::{BucketNames, BucketRole};
