//! `/admin/logs`: the resizer's CloudWatch Logs.

mod get;

pub use get::logs;
