//! How failures reach people. Each error is mapped to a status and a page
//! here, once; details of server-side failures go to the log, never to the
//! page.

use axum::response::Response;
use easel_resizer::image::ImageError;
use http::StatusCode;

use crate::{pages, storage::objects::StorageError};

/// Why an upload did not happen. Every variant leaves nothing stored.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("No file was chosen. Please choose a PNG or JPEG image to upload.")]
    NoFile,
    #[error("The file you chose is empty. Please choose a PNG or JPEG image.")]
    EmptyFile,
    #[error("The file is larger than the {} MB limit. Please upload a smaller image.", limit / (1024 * 1024))]
    TooLarge { limit: u64 },
    #[error("{0}")]
    Image(#[from] ImageError),
    #[error("The upload did not arrive complete. Please try again.")]
    Malformed(String),
    #[error("We could not store your artwork just now. Nothing was saved; please try again in a moment.")]
    Storage(#[from] StorageError),
    #[error("We could not store your artwork just now. Nothing was saved; please try again in a moment.")]
    Database(#[from] sqlx::Error),
    /// A decommission froze or closed uploads.
    #[error("Uploads are closed: Easel is being decommissioned.")]
    Closed(crate::decommission::repo::UploadGate),
}

impl UploadError {
    pub fn status(&self) -> StatusCode {
        match self {
            UploadError::NoFile | UploadError::EmptyFile | UploadError::Malformed(_) => StatusCode::BAD_REQUEST,
            UploadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Image(e) => match e {
                ImageError::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ImageError::TooLarge { .. } | ImageError::TooManyPixels { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            UploadError::Storage(_) | UploadError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
            UploadError::Closed(_) => StatusCode::FORBIDDEN,
        }
    }

    pub async fn into_page(self) -> Response {
        let status = self.status();
        if let UploadError::Closed(gate) = self {
            tracing::info!("upload refused: a decommission closed uploads");
            return pages::render("/upload", status, pages::closure::page(gate)).await;
        }
        if status.is_server_error() {
            tracing::error!(error = ?self, "upload failed on our side");
        } else {
            tracing::info!(reason = %self, status = status.as_u16(), "upload refused");
        }
        pages::render("/upload", status, pages::try_again::page(self.to_string())).await
    }
}

/// Failures of the read-only pages.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    /// Signed in, but the role does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// A form without this session's CSRF token: forged, or from an old page.
    #[error("the form's CSRF token is missing or wrong")]
    CsrfRejected,
    #[error("{0}")]
    BadRequest(String),
    /// AWS (S3, CloudWatch Logs, Lambda, SQS, STS) failed: a 502 page with
    /// its message, not a generic error.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError::Unexpected(anyhow::Error::new(e).context("database query"))
    }
}

impl From<StorageError> for PageError {
    fn from(e: StorageError) -> Self {
        PageError::Unexpected(anyhow::Error::new(e))
    }
}

impl PageError {
    pub async fn into_page(self, path: &str) -> Response {
        match self {
            PageError::NotFound => pages::render(path, StatusCode::NOT_FOUND, pages::not_found::page()).await,
            PageError::Forbidden => {
                let msg = "Only admins may do this. Ask an admin if you need it done.".to_string();
                pages::render(path, StatusCode::FORBIDDEN, pages::admin::notice::page("Not allowed", msg)).await
            }
            PageError::CsrfRejected => {
                let msg =
                    "This form is out of date or did not come from Easel. Go back, reload the page and try again."
                        .to_string();
                pages::render(path, StatusCode::FORBIDDEN, pages::admin::notice::page("Form expired", msg)).await
            }
            PageError::BadRequest(msg) => {
                pages::render(path, StatusCode::BAD_REQUEST, pages::admin::notice::page("Please check your input", msg))
                    .await
            }
            PageError::Upstream(msg) => {
                tracing::warn!(error = %msg, path, "AWS failed");
                let msg = format!(
                    "AWS did not answer as expected, so this page cannot be shown or the change was not made: {msg}"
                );
                pages::render(path, StatusCode::BAD_GATEWAY, pages::admin::notice::page("AWS failed", msg)).await
            }
            PageError::Unexpected(e) => {
                tracing::error!(error = ?e, path, "page failed");
                pages::render(path, StatusCode::INTERNAL_SERVER_ERROR, pages::server_error::page()).await
            }
        }
    }
}
