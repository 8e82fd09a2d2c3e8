//! Easel's web console: the merchant pages (upload, confirmation, gallery)
//! rendered on the server with Leptos on axum, and the storage and database
//! access behind them.

pub mod artworks;
pub mod audit;
pub mod auth;
pub mod aws;
pub mod client_addr;
pub mod cpu;
pub mod db;
pub mod deadlines;
pub mod decommission;
pub mod error;
pub mod extract;
pub mod gate;
pub mod guards;
pub mod headers;
pub mod mail;
pub mod outbox;
pub mod pages;
pub mod proxies;
pub mod receive;
pub mod router;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod storage;
pub mod support;
#[cfg(test)]
mod test_support;
