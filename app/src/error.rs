//! How failures reach people. Each error is mapped to a status and a page
//! here, once; details of server-side failures go to the log, never to the
//! page.
//!
//! Longer than the 500 lines we aim for (about 600 of code, 130 of tests) on
//! purpose: the rule is that every error type meets its status and page here
//! and nowhere else, so every mapping, and the middleware that renders
//! handlers' errors, sits in this one file.

use std::{
    any::Any,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    extract::Request,
    middleware::{Next, from_fn},
    response::{IntoResponse, Response},
};
use easel_resizer::image::ImageError;
use http::{HeaderValue, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;

use crate::{
    auth::accounts::AccountError,
    decommission::{DecommissionError, LinkRefused},
    pages,
    receive::{FileRefused, ReceiveError},
    storage::objects::StorageError,
    support::{backups::ClaimError, doctor::DoctorError, stuck::ResizeError},
};

/// Why an upload did not happen. Every variant leaves nothing stored.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("No file was chosen. Please choose a PNG or JPEG image to upload.")]
    NoFile,
    #[error("The file you chose is empty. Please choose a PNG or JPEG image.")]
    EmptyFile,
    #[error("The file is larger than the {} MB limit. Please upload a smaller image.", limit / (1024 * 1024))]
    TooLarge { limit: u64 },
    /// Several files, over what one upload may carry in all.
    #[error(
        "Together, the files are larger than the {} MB one upload may carry. Please upload fewer at a time.",
        cap / (1024 * 1024)
    )]
    TooMuch { cap: u64 },
    /// A file past `EASEL_MAX_FILES_PER_UPLOAD` in one submission.
    #[error("Only {max} files can be uploaded at a time, so this one was not read. Please upload it again.")]
    TooManyFiles { max: usize },
    #[error("{0}")]
    Image(#[from] ImageError),
    #[error("The upload did not arrive complete. Please try again.")]
    Malformed(String),
    #[error("Our file storage is not answering just now. Nothing was saved; please try again in a moment.")]
    Storage(#[from] StorageError),
    #[error("Our database is not answering just now. Nothing was saved; please try again in a moment.")]
    Database(#[from] sqlx::Error),
    /// The page deadline passed after the body arrived.
    #[error(
        "Easel did not finish in time: a service it depends on is slow. Nothing was saved; please try again in a moment."
    )]
    TimedOut,
    /// A decommission froze or closed uploads.
    #[error("Uploads are closed: Easel is being decommissioned.")]
    Closed(crate::gate::UploadGate),
    /// Our failure, not the file's: the image check panicked. The merchant
    /// must not be told their upload was broken.
    #[error("the image check failed: {0}")]
    Internal(String),
}

impl From<ReceiveError> for UploadError {
    fn from(e: ReceiveError) -> Self {
        match e {
            ReceiveError::NoFile => UploadError::NoFile,
            ReceiveError::EmptyFile => UploadError::EmptyFile,
            ReceiveError::TooLarge { limit } => UploadError::TooLarge { limit },
            ReceiveError::BodyTooLarge { cap } => UploadError::TooMuch { cap },
            ReceiveError::Malformed(why) => UploadError::Malformed(why),
        }
    }
}

impl From<FileRefused> for UploadError {
    fn from(e: FileRefused) -> Self {
        match e {
            FileRefused::Empty { .. } => UploadError::EmptyFile,
            FileRefused::TooLarge { limit, .. } => UploadError::TooLarge { limit },
        }
    }
}

impl UploadError {
    pub fn status(&self) -> StatusCode {
        match self {
            UploadError::NoFile | UploadError::EmptyFile | UploadError::Malformed(_) => StatusCode::BAD_REQUEST,
            UploadError::TooLarge { .. } | UploadError::TooMuch { .. } | UploadError::TooManyFiles { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            UploadError::Image(e) => match e {
                ImageError::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ImageError::TooLarge { .. } | ImageError::TooManyPixels { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            UploadError::Storage(_) | UploadError::Database(_) | UploadError::TimedOut => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            UploadError::Closed(_) => StatusCode::FORBIDDEN,
            UploadError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the merchant is told: the error's words, except for our own
    /// failures, whose cause is for the log.
    pub fn for_merchant(&self) -> String {
        match self {
            UploadError::Internal(_) => {
                "Something went wrong on our side with this file. Nothing was saved; please try again.".into()
            }
            e => e.to_string(),
        }
    }

    /// Says in the log what became of an upload that did not happen.
    pub fn log(&self) {
        let status = self.status();
        match self {
            UploadError::Closed(_) => tracing::info!("upload refused: a decommission closed uploads"),
            UploadError::Internal(reason) => {
                tracing::error!(reason, "upload failed: internal error in the image check")
            }
            e if status.is_server_error() => tracing::error!(error = ?e, "upload failed on our side"),
            e => tracing::info!(reason = %e, status = status.as_u16(), "upload refused"),
        }
    }

    async fn into_page(self) -> Response {
        self.log();
        let status = self.status();
        match self {
            UploadError::Closed(gate) => pages::render("/upload", status, pages::closure::page(gate)).await,
            UploadError::Internal(_) => pages::render("/upload", status, pages::server_error::page()).await,
            e => pages::render("/upload", status, pages::try_again::page(e.to_string())).await,
        }
    }
}

/// Failures of the read-only pages.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    /// Signed in, but the role does not allow this; the page says what to
    /// do instead.
    #[error("forbidden: {}", .0.title)]
    Forbidden(Denied),
    /// A form without this session's CSRF token: forged, or from an old page.
    #[error("the form's CSRF token is missing or wrong")]
    CsrfRejected,
    #[error("{0}")]
    BadRequest(String),
    /// The request is sound but the state of things forbids it now (a
    /// decommission step out of turn, a second procedure).
    #[error("{0}")]
    Conflict(String),
    /// A stakeholder's mailed link that does nothing; it gets its own plain
    /// page, which says nothing else about it.
    #[error(transparent)]
    LinkRefused(LinkRefused),
    /// AWS (S3, CloudWatch Logs, Lambda, SQS, STS) failed: a 502 page with
    /// its message, not a generic error.
    #[error("{0}")]
    Upstream(String),
    /// The decommission gate refused a change (`decommission::gate`).
    #[error(transparent)]
    Refused(#[from] crate::gate::Refused),
    /// A dependency is down or did not answer within its deadline.
    #[error("{} is not answering", .0.what())]
    Unavailable(Unavailable),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why a signed-in person may not do something, in the words of the page
/// that tells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied {
    pub title: &'static str,
    pub why: &'static str,
}

impl Denied {
    /// The admin-only pages and actions, refused to support staff.
    pub const ADMINS_ONLY: Denied =
        Denied { title: "Not allowed", why: "Only admins may do this. Ask an admin if you need it done." };
}

/// What a 503 page says is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    Database,
    Storage,
    /// An AWS service other than S3 (S3 is `Storage`).
    Aws(crate::aws::Service),
    /// The page's own deadline passed, waiting on something.
    Slow,
}

impl Unavailable {
    pub fn what(self) -> &'static str {
        match self {
            Unavailable::Database => "Easel's database",
            Unavailable::Storage => "Easel's file storage (S3)",
            Unavailable::Aws(service) => service.name(),
            Unavailable::Slow => "A service Easel depends on",
        }
    }

    /// The 503 page's words.
    pub fn explanation(self) -> String {
        match self {
            // Cut off at the deadline, it may have been cut off after its
            // change was made.
            Unavailable::Slow => "A service Easel depends on did not answer in time, so this page could not be \
                                  finished. If you were changing something, check whether it was done before \
                                  trying again in a minute."
                .to_string(),
            _ => format!(
                "{} is not answering just now, so this page cannot be shown and nothing was changed. \
                 Please try again in a minute.",
                self.what()
            ),
        }
    }
}

impl From<crate::gate::GateError> for PageError {
    fn from(e: crate::gate::GateError) -> Self {
        match e {
            crate::gate::GateError::Refused(r) => r.into(),
            crate::gate::GateError::Db(e) => e.into(),
        }
    }
}

impl From<DecommissionError> for PageError {
    fn from(e: DecommissionError) -> Self {
        match e {
            DecommissionError::NotFound => PageError::NotFound,
            DecommissionError::Invalid(msg) => PageError::BadRequest(msg),
            e @ (DecommissionError::Transition(_) | DecommissionError::AlreadyOpen) => {
                PageError::Conflict(e.to_string())
            }
            DecommissionError::Link(refused) => PageError::LinkRefused(refused),
            DecommissionError::Unexpected(e) => PageError::Unexpected(e),
        }
    }
}

impl PageError {
    /// A failure behind a stakeholder's link: the link's own refusal page,
    /// also when the decommission it names is gone.
    pub fn from_link(e: DecommissionError) -> Self {
        match e {
            DecommissionError::NotFound => PageError::LinkRefused(LinkRefused::Unknown),
            other => other.into(),
        }
    }
}

impl From<DoctorError> for PageError {
    fn from(e: DoctorError) -> Self {
        match e {
            DoctorError::NoFix(reason) => PageError::BadRequest(reason),
            DoctorError::NotOffered(_) => PageError::NotFound,
            DoctorError::Config(e) => e.into(),
            DoctorError::Refused(r) => r.into(),
            // Asking STS for the account (the only other failure) is AWS too.
            DoctorError::Unexpected(e) => PageError::from_aws_work(e),
        }
    }
}

impl From<AccountError> for PageError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NotFound => PageError::NotFound,
            AccountError::Refused(r) => r.into(),
            AccountError::OwnAccount => PageError::BadRequest("You cannot do that to your own account.".into()),
            AccountError::Create(crate::auth::users::CreateUserError::Exists(email)) => {
                PageError::BadRequest(format!("An account for {email} already exists."))
            }
            other => PageError::Unexpected(other.into()),
        }
    }
}

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
                "Re-delivering the S3 event to {} failed: {}. {sent} of the selected upload(s) were sent to the resizer before that (recorded in the audit log); \
                 resize the rest again.",
                error.target,
                error.failure.page_text(),
            )),
            other => PageError::Unexpected(anyhow::Error::new(other).context("resize again")),
        }
    }
}

impl From<ClaimError> for PageError {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::Db(e) => e.into(),
            ClaimError::Refused(r) => r.into(),
            other => PageError::BadRequest(other.to_string()),
        }
    }
}

impl From<crate::aws::Service> for Unavailable {
    fn from(service: crate::aws::Service) -> Self {
        match service {
            crate::aws::Service::S3 => Unavailable::Storage,
            other => Unavailable::Aws(other),
        }
    }
}

/// Whether a database error means Postgres is down, unreachable or too slow
/// (worth a 503 and a retry) rather than a bug of ours.
pub fn database_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::WorkerCrashed => true,
        // query_canceled (our statement_timeout), admin_shutdown,
        // crash_shutdown, cannot_connect_now, too_many_connections.
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("57014" | "57P01" | "57P02" | "57P03" | "53300"))
        }
        _ => false,
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        if database_unavailable(&e) {
            tracing::warn!(error = %e, "the database is unavailable");
            return PageError::Unavailable(Unavailable::Database);
        }
        PageError::Unexpected(anyhow::Error::new(e).context("database query"))
    }
}

impl From<crate::cpu::Panicked> for PageError {
    fn from(e: crate::cpu::Panicked) -> Self {
        PageError::Unexpected(anyhow::Error::new(e))
    }
}

impl From<StorageError> for PageError {
    fn from(e: StorageError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "file storage is unavailable");
            return PageError::Unavailable(Unavailable::Storage);
        }
        PageError::Unexpected(anyhow::Error::new(e))
    }
}

impl From<crate::aws::AwsError> for PageError {
    fn from(e: crate::aws::AwsError) -> Self {
        PageError::from_aws_work(anyhow::Error::new(e))
    }
}

impl From<crate::storage::live::ConfigError> for PageError {
    fn from(e: crate::storage::live::ConfigError) -> Self {
        PageError::from_aws_work(anyhow::Error::new(e))
    }
}

/// The failed AWS call `cause` is or carries (storage's errors carry one
/// with the bucket and key it was about).
fn aws_call<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a crate::aws::AwsError> {
    cause
        .downcast_ref::<crate::aws::AwsError>()
        .or_else(|| cause.downcast_ref::<StorageError>().and_then(StorageError::call))
        .or_else(|| cause.downcast_ref::<crate::storage::live::ConfigError>().and_then(|c| c.call()))
}

/// AWS's own short answer, if `cause` is a failed AWS call: the service or
/// bucket, the call, and what AWS said. A page shows this, never the SDK's
/// chain (request ids, the HTTP exchange), which goes to the log.
fn aws_answer(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    use crate::storage::live::ConfigError;
    if let Some(aws) = cause.downcast_ref::<crate::aws::AwsError>() {
        return Some(aws.page_text());
    }
    match cause.downcast_ref::<ConfigError>() {
        Some(ConfigError::S3 { bucket, call }) => {
            return Some(format!("{} on bucket {bucket} failed: {}", call.op, call.answer));
        }
        // Our own refusal, in our own words.
        Some(refused @ ConfigError::InvalidPolicy { .. }) => return Some(refused.to_string()),
        None => {}
    }
    match cause.downcast_ref::<StorageError>() {
        Some(StorageError::S3 { bucket, key, call }) => {
            Some(format!("S3 {} on {bucket}/{key} failed: {}", call.op, call.answer))
        }
        _ => None,
    }
}

impl PageError {
    /// The failure of work that calls AWS (and perhaps Postgres), carried in
    /// an `anyhow` chain: a 503 naming the first dependency in the chain
    /// that did not answer, else AWS's answer as a 502.
    pub fn from_aws_work(e: anyhow::Error) -> Self {
        for cause in e.chain() {
            if let Some(aws) = aws_call(cause)
                && aws.unavailable
            {
                tracing::warn!(error = %format!("{e:#}"), service = aws.service.name(), "an AWS service is unavailable");
                return PageError::Unavailable(aws.service.into());
            }
            if let Some(db) = cause.downcast_ref::<sqlx::Error>()
                && database_unavailable(db)
            {
                tracing::warn!(error = %format!("{e:#}"), "the database is unavailable");
                return PageError::Unavailable(Unavailable::Database);
            }
        }
        // The page names what we were doing (the outermost context, when it
        // is ours) and AWS's short answer; the whole chain goes to the log.
        tracing::warn!(error = %format!("{e:#}"), "AWS refused");
        let Some(answer) = e.chain().find_map(aws_answer) else {
            // No AWS call in the chain: every message in it is ours.
            return PageError::Upstream(format!("{e:#}"));
        };
        let doing = e.to_string();
        let ours = e.chain().next().is_some_and(|top| aws_answer(top).is_none());
        PageError::Upstream(if ours { format!("{doing}: {answer}") } else { answer })
    }

    pub fn status(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Forbidden(_) | PageError::CsrfRejected | PageError::Refused(_) => StatusCode::FORBIDDEN,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::LinkRefused(LinkRefused::Unknown) => StatusCode::NOT_FOUND,
            PageError::LinkRefused(_) => StatusCode::GONE,
            PageError::Upstream(_) => StatusCode::BAD_GATEWAY,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    async fn into_page(self, path: &str) -> Response {
        let status = self.status();
        let notice =
            |title: &'static str, msg: String| pages::render(path, status, pages::admin::notice::page(title, msg));
        match self {
            PageError::NotFound => pages::render(path, status, pages::not_found::page()).await,
            PageError::Forbidden(denied) => notice(denied.title, denied.why.to_string()).await,
            PageError::CsrfRejected => {
                let msg =
                    "This form is out of date or did not come from Easel. Go back, reload the page and try again.";
                notice("Form expired", msg.to_string()).await
            }
            PageError::Refused(why) => {
                let title = match why {
                    crate::gate::Refused::Frozen => "Data frozen",
                    crate::gate::Refused::Decommissioned => "Read-only",
                };
                notice(title, why.to_string()).await
            }
            PageError::BadRequest(msg) => notice("Please check your input", msg).await,
            PageError::Conflict(msg) => notice("Not now", msg).await,
            PageError::LinkRefused(why) => {
                pages::render(path, status, pages::decommission::refused_page(why.to_string())).await
            }
            PageError::Upstream(msg) => {
                tracing::warn!(error = %msg, path, "AWS failed");
                let msg = format!(
                    "AWS did not answer as expected, so this page cannot be shown or the change was not made: {msg}"
                );
                notice("AWS failed", msg).await
            }
            PageError::Unavailable(what) => {
                let mut res = notice("Temporarily unavailable", what.explanation()).await;
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
                res
            }
            PageError::Unexpected(e) => {
                tracing::error!(error = ?e, path, "page failed");
                pages::render(path, status, pages::server_error::page()).await
            }
        }
    }
}

/// A handler's failure on its way out: a bare status now, rendered into its
/// page by `bare_answers_as_pages`, which knows the path (and rendering is
/// async, which `IntoResponse` is not). So handlers return
/// `Result<_, PageError>` and use `?`, and this file stays the one place
/// that turns an error into what a person sees.
#[derive(Clone)]
struct Unrendered(Arc<Mutex<Option<Failure>>>);

enum Failure {
    Page(PageError),
    Upload(UploadError),
}

impl Failure {
    fn into_response(self, status: StatusCode) -> Response {
        let mut res = status.into_response();
        res.extensions_mut().insert(Unrendered(Arc::new(Mutex::new(Some(self)))));
        res
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        Failure::Page(self).into_response(status)
    }
}

impl IntoResponse for UploadError {
    fn into_response(self) -> Response {
        let status = self.status();
        Failure::Upload(self).into_response(status)
    }
}

/// Panics and the answers axum makes before a handler runs get the app's
/// pages too. Wraps every route (and the fallback): the outer layer renders
/// what the inner one leaves bare.
pub fn apply<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(CatchPanicLayer::custom(panicked)).layer(from_fn(bare_answers_as_pages))
}

/// The response `CatchPanicLayer` gives for a panic, with the panic's
/// message, so `bare_answers_as_pages` can log it with the path.
#[derive(Clone, Debug)]
struct Panicked(String);

/// A panic anywhere under the router: an opaque 500, marked for
/// `bare_answers_as_pages`. Without it, the client's connection would just
/// be reset.
fn panicked(err: Box<dyn Any + Send + 'static>) -> Response {
    let reason = crate::cpu::panic_message(&*err);
    let mut res = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    res.extensions_mut().insert(Panicked(reason));
    res
}

/// Answers the app did not render become its pages: a panic (marked by
/// `panicked`), axum's extractor rejections (plain text: a path segment that
/// is not UTF-8, a query field of the wrong type, a body that is not the
/// form), the router's empty 405, a file service's empty 404. The app's own
/// refusals are pages already and pass untouched, as do its deliberate
/// bodiless answers (`/health`'s 503, a 304).
async fn bare_answers_as_pages(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    let status = res.status();
    let unrendered = res.extensions_mut().remove::<Unrendered>().and_then(|u| u.0.lock().ok()?.take());
    if let Some(failure) = unrendered {
        let mut page = match failure {
            Failure::Page(e) => e.into_page(&path).await,
            Failure::Upload(e) => e.into_page().await,
        };
        // Layers between here and the handler spoke to the bare answer
        // (the link routes' `Referrer-Policy`, a cleared cookie).
        keep_headers(res.headers(), &mut page);
        return page;
    }
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut page = if let Some(Panicked(reason)) = res.extensions().get::<Panicked>() {
        tracing::error!(path = shortened(&path), reason, "request handling panicked");
        pages::render(&path, status, pages::server_error::page()).await
    } else if status.is_client_error() && !content_type.starts_with("text/html") {
        let (parts, body) = res.into_parts();
        // axum says why in the body (e.g. "Cannot parse `abc` to a `u32`"): for the log only.
        let why = axum::body::to_bytes(body, 1024).await.unwrap_or_default();
        tracing::info!(
            status = status.as_u16(),
            path = shortened(&path),
            reason = %String::from_utf8_lossy(&why),
            "request refused before its handler"
        );
        let mut page = refusal_page(&path, status).await;
        // What the refusal said in its headers still holds (`Allow` on a 405).
        keep_headers(&parts.headers, &mut page);
        page
    } else if status.is_server_error() && content_type.starts_with("text/plain") {
        // axum's own 500s (a missing extension): a bug of ours, said in text.
        tracing::error!(status = status.as_u16(), path = shortened(&path), "axum refused the request on our side");
        pages::render(&path, status, pages::server_error::page()).await
    } else {
        return res;
    };
    *page.status_mut() = status;
    page.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page
}

/// The headers of a bare answer its page does not set itself.
fn keep_headers(bare: &http::HeaderMap, page: &mut Response) {
    let own: Vec<_> = page.headers().keys().cloned().collect();
    for (name, value) in bare {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !own.contains(name) {
            page.headers_mut().append(name, value.clone());
        }
    }
}

async fn refusal_page(path: &str, status: StatusCode) -> Response {
    match status {
        StatusCode::NOT_FOUND => PageError::NotFound.into_page(path).await,
        StatusCode::METHOD_NOT_ALLOWED => {
            let msg = "This address does not take that kind of request. Follow a link or a form from Easel.";
            pages::render(path, status, pages::admin::notice::page("Not available here", msg.to_string())).await
        }
        _ => {
            let msg = "Easel could not read this address or form. Check the link, or go back and try again.";
            pages::render(path, status, pages::admin::notice::page("Please check your input", msg.to_string())).await
        }
    }
}

/// A hostile path can be kilobytes long; the log gets its start.
fn shortened(path: &str) -> String {
    const MAX_CHARS: usize = 200;
    match path.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => format!("{}…", &path[..at]),
        None => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use axum::{
        body::Body,
        extract::{Path, Query},
        routing::get,
    };
    use tower::ServiceExt;

    use super::*;

    async fn answer(app: &Router, method: &str, uri: &str) -> (StatusCode, http::HeaderMap, String) {
        let req = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
    }

    fn is_page(headers: &http::HeaderMap, body: &str) -> bool {
        headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html") && body.contains("<html")
    }

    #[derive(serde::Deserialize)]
    struct Typed {
        #[allow(dead_code)]
        n: u32,
    }

    async fn boom() -> &'static str {
        panic!("the secret reason")
    }

    fn app() -> Router {
        // Leptos renders through a global executor (startup does the same).
        let _ = any_spawner::Executor::init_tokio();
        apply(
            Router::new()
                .route("/boom", get(boom))
                .route("/n/{n}", get(|Path(n): Path<u32>| async move { n.to_string() }))
                .route("/s/{s}", get(|Path(s): Path<String>| async move { s }))
                .route("/q", get(|Query(_): Query<Typed>| async { "ok" }))
                .route("/health", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
                .route(
                    "/refused/{secret}",
                    get(|| async { Err::<(), _>(PageError::Conflict("Not at this step.".into())) }).layer(
                        tower_http::set_header::SetResponseHeaderLayer::overriding(
                            header::REFERRER_POLICY,
                            HeaderValue::from_static("no-referrer"),
                        ),
                    ),
                )
                .route("/link/{secret}", get(|| async { Err::<(), _>(PageError::LinkRefused(LinkRefused::Used)) }))
                .route("/admins-only", get(|| async { Err::<(), _>(PageError::Forbidden(Denied::ADMINS_ONLY)) }))
                .route(
                    "/denied",
                    get(|| async {
                        let denied = Denied { title: "An admin must do this", why: "Ask an admin to recreate it." };
                        Err::<(), _>(PageError::Forbidden(denied))
                    }),
                )
                .route("/aws-refused", get(|| async { Err::<(), _>(PageError::from(access_denied())) }))
                .route(
                    "/aws-refused-while",
                    get(|| async {
                        let work = anyhow::Error::new(access_denied()).context("writing the bucket policy");
                        Err::<(), _>(PageError::from_aws_work(work))
                    }),
                ),
        )
    }

    /// S3 refusing a call, as the SDK reports it: a code, a message, and an
    /// HTTP answer carrying a request id.
    fn access_denied() -> crate::aws::AwsError {
        use aws_sdk_s3::{
            config::http::HttpResponse, error::ErrorMetadata, operation::put_bucket_policy::PutBucketPolicyError,
            primitives::SdkBody,
        };
        let meta = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("Access Denied")
            .custom("s3_extended_request_id", "SECRET-REQUEST-ID")
            .build();
        let raw = HttpResponse::new(
            403.try_into().unwrap(),
            SdkBody::from("<Error><RequestId>SECRET-REQUEST-ID</RequestId></Error>"),
        );
        let e = aws_sdk_s3::error::SdkError::service_error(PutBucketPolicyError::generic(meta), raw);
        crate::aws::AwsError::new(crate::aws::Service::S3, "PutBucketPolicy", e)
    }

    #[tokio::test]
    async fn aws_refusing_shows_its_short_answer_never_the_sdk_chain() {
        let refused = access_denied();
        assert!(refused.detail.contains("SECRET-REQUEST-ID"), "the log keeps the whole story: {}", refused.detail);
        let (status, headers, body) = answer(&app(), "GET", "/aws-refused").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert!(is_page(&headers, &body), "{body}");
        assert!(body.contains("Amazon S3 PutBucketPolicy failed: AccessDenied: Access Denied"), "{body}");
        assert!(!body.contains("SECRET-REQUEST-ID") && !body.contains("service error"), "{body}");
        // Inside our own work, the page also says what we were doing.
        let (status, _, body) = answer(&app(), "GET", "/aws-refused-while").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert!(
            body.contains("writing the bucket policy: Amazon S3 PutBucketPolicy failed: AccessDenied: Access Denied"),
            "{body}"
        );
        assert!(!body.contains("SECRET-REQUEST-ID"), "{body}");
    }

    #[tokio::test]
    async fn a_refusal_says_in_its_own_words_what_to_do_instead() {
        let app = app();
        let (status, headers, body) = answer(&app, "GET", "/admins-only").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(is_page(&headers, &body), "{body}");
        assert!(body.contains("Not allowed") && body.contains("Only admins may do this"), "{body}");
        let (status, _, body) = answer(&app, "GET", "/denied").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("An admin must do this") && body.contains("Ask an admin to recreate it."), "{body}");
        assert!(!body.contains("Only admins may do this"), "{body}");
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_server_error_page() {
        let (status, headers, body) = answer(&app(), "GET", "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(is_page(&headers, &body), "{body}");
        assert!(body.contains("Something went wrong on our side"), "{body}");
        assert!(!body.contains("secret"), "the page says nothing of the cause: {body}");
    }

    #[tokio::test]
    async fn rejections_before_the_handler_answer_a_page() {
        let app = app();
        for uri in ["/n/abc", "/n/99999999999", "/s/%FF", "/s/%C3%28", "/q?n=-1", "/q?n=%00", "/q"] {
            let (status, headers, body) = answer(&app, "GET", uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert!(is_page(&headers, &body), "{uri}: {body}");
            assert!(body.contains("Please check your input"), "{uri}: {body}");
        }
        let (status, headers, body) = answer(&app, "POST", "/n/1").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(is_page(&headers, &body), "{body}");
        assert_eq!(headers[header::ALLOW], "GET,HEAD");
    }

    #[tokio::test]
    async fn answers_that_are_not_failures_pass_untouched() {
        let app = app();
        let (status, headers, body) = answer(&app, "GET", "/n/7").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "7"));
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
        // A deliberate bodiless 503 stays one: `cargo ops` reads only its status.
        let (status, _, body) = answer(&app, "GET", "/health").await;
        assert_eq!((status, body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, ""));
    }

    #[tokio::test]
    async fn a_handler_error_is_rendered_once_here_with_its_status() {
        let app = app();
        let (status, headers, body) = answer(&app, "GET", "/refused/tok3n-s3cret").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(is_page(&headers, &body), "{body}");
        assert!(body.contains("Not at this step."), "{body}");
        // What layers between here and the handler said still holds.
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        // A link's token is a credential: the page never repeats its path.
        assert!(!body.contains("tok3n-s3cret"), "{body}");
        let (status, headers, body) = answer(&app, "GET", "/link/tok3n-s3cret").await;
        assert_eq!(status, StatusCode::GONE);
        assert!(is_page(&headers, &body) && body.contains("already been used"), "{body}");
        assert!(!body.contains("tok3n-s3cret"), "{body}");
    }

    #[test]
    fn each_decommission_refusal_has_one_status() {
        use crate::decommission::{DecommissionStep, StepEvent};
        let transition = DecommissionStep::Approval.next(StepEvent::ReceiptSigned).unwrap_err();
        let cases: [(DecommissionError, StatusCode); 5] = [
            (DecommissionError::NotFound, StatusCode::NOT_FOUND),
            (DecommissionError::AlreadyOpen, StatusCode::CONFLICT),
            (DecommissionError::Invalid("x".into()), StatusCode::BAD_REQUEST),
            (DecommissionError::Transition(transition), StatusCode::CONFLICT),
            (DecommissionError::Link(LinkRefused::Unknown), StatusCode::NOT_FOUND),
        ];
        for (e, status) in cases {
            assert_eq!(PageError::from(e).status(), status);
        }
        // Behind a link, a decommission that is gone is the link's refusal.
        let e = PageError::from_link(DecommissionError::NotFound);
        assert!(matches!(e, PageError::LinkRefused(LinkRefused::Unknown)));
    }

    #[test]
    fn long_paths_are_shortened_for_the_log() {
        assert_eq!(shortened("/a"), "/a");
        let long = "é".repeat(500);
        assert_eq!(shortened(&long).chars().count(), 201);
    }
}
