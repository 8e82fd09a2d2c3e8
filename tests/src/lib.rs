//! Whole-system tests live in `tests/system/`; this library is empty on
//! purpose. Its binaries are others' `main.rs`, built here so those tests can
//! run them as processes: `easel-console` (the console's) and
//! `easel-ops-cli` (`cargo ops`).
