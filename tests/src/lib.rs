//! Whole-system tests live in `tests/system/`; this library is empty on
//! purpose. The package's one binary, `easel-console`, is the console's own
//! `main.rs`, built here so those tests can run it as a process.
