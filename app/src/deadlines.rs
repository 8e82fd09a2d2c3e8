//! How long the console waits for what it depends on. Every call that
//! leaves the process has a deadline, so a paused or dead dependency costs a
//! page its deadline and a clear 503, never a hang:
//!
//! - AWS (S3, CloudWatch Logs, Lambda, SQS, STS): the SDK's own timeouts,
//!   connect, per attempt and per operation, with its standard retries
//!   inside the operation's deadline;
//! - Postgres: the pool's acquire timeout, which covers connecting and the
//!   health check of an idle connection, and a server-side
//!   `statement_timeout`;
//! - SMTP: connecting, then one whole message (`mail::Mailer`).
//!
//! A stopped server cannot enforce its own `statement_timeout`, and a query
//! on a connection already in hand has no client-side limit in sqlx, so
//! `page` is the backstop: no page takes longer than that, whatever it waits
//! on (the body of an upload excepted: a merchant's slow uplink is not a
//! fault).

use std::time::Duration;

use aws_config::{retry::RetryConfig, timeout::TimeoutConfig};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlines {
    /// `EASEL_PAGE_DEADLINE_MS`: the longest any page takes.
    pub page: Duration,
    /// `EASEL_DB_ACQUIRE_TIMEOUT_MS`: waiting for a pooled connection.
    pub db_acquire: Duration,
    /// `EASEL_DB_STATEMENT_TIMEOUT_MS`: Postgres cancels a statement after this.
    pub db_statement: Duration,
    /// `EASEL_AWS_CONNECT_TIMEOUT_MS`
    pub aws_connect: Duration,
    /// `EASEL_AWS_ATTEMPT_TIMEOUT_MS`: one try of a call, and the longest
    /// silence while reading its answer.
    pub aws_attempt: Duration,
    /// `EASEL_AWS_OPERATION_TIMEOUT_MS`: a call with all its retries.
    pub aws_operation: Duration,
    /// `EASEL_SMTP_TIMEOUT_MS`: connecting, then sending one whole message.
    pub smtp: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            page: Duration::from_secs(20),
            db_acquire: Duration::from_secs(5),
            db_statement: Duration::from_secs(10),
            aws_connect: Duration::from_secs(3),
            aws_attempt: Duration::from_secs(10),
            aws_operation: Duration::from_secs(15),
            smtp: Duration::from_secs(10),
        }
    }
}

/// A setting that breaks the order the deadlines must keep.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct Inconsistent(pub String);

impl Deadlines {
    /// Each dependency's own deadline must end before the page's, so a page
    /// can say which one failed instead of only that time ran out.
    pub fn check(&self) -> Result<(), Inconsistent> {
        let page = self.page;
        for (name, d) in [
            ("EASEL_DB_ACQUIRE_TIMEOUT_MS", self.db_acquire),
            ("EASEL_DB_STATEMENT_TIMEOUT_MS", self.db_statement),
            ("EASEL_AWS_OPERATION_TIMEOUT_MS", self.aws_operation),
        ] {
            if d >= page {
                return Err(Inconsistent(format!(
                    "{name} ({} ms) must be shorter than EASEL_PAGE_DEADLINE_MS ({} ms)",
                    d.as_millis(),
                    page.as_millis()
                )));
            }
        }
        if self.aws_attempt > self.aws_operation || self.aws_connect > self.aws_attempt {
            return Err(Inconsistent(
                "the AWS timeouts must grow: connect ≤ attempt ≤ operation (EASEL_AWS_*_TIMEOUT_MS)".into(),
            ));
        }
        Ok(())
    }

    /// The SDK's timeouts.
    pub fn aws_timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.aws_connect)
            .read_timeout(self.aws_attempt)
            .operation_attempt_timeout(self.aws_attempt)
            .operation_timeout(self.aws_operation)
            .build()
    }

    /// The SDK's standard retries (three attempts with jittered backoff),
    /// all within `aws_operation`.
    pub fn aws_retries(&self) -> RetryConfig {
        RetryConfig::standard()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_keep_every_dependency_inside_the_page_deadline() {
        assert_eq!(Deadlines::default().check(), Ok(()));
    }

    #[test]
    fn a_dependency_allowed_longer_than_the_page_is_refused_by_name() {
        let d = Deadlines { aws_operation: Duration::from_secs(30), ..Deadlines::default() };
        assert!(d.check().unwrap_err().0.contains("EASEL_AWS_OPERATION_TIMEOUT_MS"));
        let d = Deadlines { aws_attempt: Duration::from_secs(20), ..Deadlines::default() };
        assert!(d.check().unwrap_err().0.contains("connect ≤ attempt ≤ operation"));
    }
}
