//! `/admin/uploads`: stuck and failed uploads, and "resize again" (single
//! and bulk).

mod get;
mod resize;

pub use get::stuck_uploads;
pub use resize::{resize_one, resize_selected};

use crate::{error::PageError, support::stuck::ResizeError};

impl From<ResizeError> for PageError {
    fn from(e: ResizeError) -> Self {
        match e {
            ResizeError::NotFound(_) => PageError::NotFound,
            ResizeError::OriginalGone { key } => PageError::BadRequest(format!(
                "The original {key} is no longer in the originals bucket, so there is nothing to resize. The merchant needs to upload it again."
            )),
            ResizeError::Storage(e) => e.into(),
            ResizeError::Refused(r) => r.into(),
            ResizeError::Spec(e) => PageError::from_aws_work(e),
            ResizeError::Redelivery(e) => e.failure.into(),
            // Some went: the page must say which, whatever the cause.
            ResizeError::Partial { sent, error } => PageError::Upstream(format!(
                "{error}. {sent} of the selected upload(s) were sent to the resizer before that (recorded in the audit log); \
                 resize the rest again."
            )),
            other => PageError::Unexpected(anyhow::Error::new(other).context("resize again")),
        }
    }
}
