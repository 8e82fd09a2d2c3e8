//! What every crate's integration tests share: waiting for what happens in
//! the background (`eventually`), a database of each test's own that goes
//! when the test ends (`TestDatabase`), and the settings `cargo ops test`
//! gives the tests (`stack_var`).
//!
//! The package's binaries are others' `main.rs`, built here so the
//! whole-system tests in `tests/system/` can run them as processes:
//! `easel-console` (the console's) and `easel-ops-cli` (`cargo ops`).

mod database;
mod eventually;

pub use database::TestDatabase;
pub use eventually::{Outcome, eventually};

/// A setting `cargo ops test` gives the tests (the test stack's addresses);
/// missing, the test stops and says how to run it.
pub fn stack_var(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run these tests through `cargo ops test`, which starts the stack they need")
    })
}
