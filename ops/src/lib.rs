//! `cargo ops`: starting, testing and provisioning Easel.

pub mod cli;
pub mod commands;
pub mod deploy;
pub mod invoker;
pub mod provision;
pub mod stack;
