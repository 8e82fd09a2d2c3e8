//! Whole-system tests: the console, the S3 trigger and the resizer,
//! against the real local stack that `cargo ops test` starts (Postgres,
//! the moto server over HTTP). Each test gets its own database and its own
//! buckets.

mod admin;
mod artwork_page;
mod audit;
mod backups;
mod dashboard;
mod decommission;
mod doctor;
mod faults;
mod gallery;
mod helpers;
mod hostile_urls;
mod logs;
mod many_files;
mod queries;
mod signin;
mod stuck;
mod upload;
