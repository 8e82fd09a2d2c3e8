//! Running Easel on AWS: the template generated from the stack spec, the
//! arm64 Lambda package, and the deployment that puts both in an account.

pub mod aws;
pub mod package;
pub mod template;
