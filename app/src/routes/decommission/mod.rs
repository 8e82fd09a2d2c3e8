//! `/decommission/{token}`: where a stakeholder's mailed link leads. `GET`
//! shows a confirm page and changes nothing (mail scanners pre-fetch links);
//! only the `POST` from that page decides.

mod archive;
mod get;
mod post;
mod reason;

pub use archive::download_archive;
pub use get::confirm_page;
pub use post::decide;
pub use reason::reason_document;

use axum::{Router, response::Response, routing::get};
use http::{HeaderValue, StatusCode, header};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    decommission::{DecommissionError, LinkRefused},
    error::PageError,
    pages,
};

/// The link routes. A link's token is a credential: its pages are never
/// cached (a shared computer's back button, a proxy) and never named in a
/// `Referer`.
pub fn routes() -> Router<crate::state::AppState> {
    Router::new()
        .route("/decommission/{token}", get(confirm_page).post(decide))
        .route("/decommission/{token}/archive", get(download_archive))
        .route("/decommission/{token}/reason.pdf", get(reason_document))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
}

/// Refused links get their own plain page; nothing else about them is said.
pub async fn refusal(path: &str, e: DecommissionError) -> Response {
    match e {
        DecommissionError::Link(r) => {
            let status = match r {
                LinkRefused::Unknown => StatusCode::NOT_FOUND,
                _ => StatusCode::GONE,
            };
            pages::render(path, status, pages::decommission::refused_page(r.to_string())).await
        }
        DecommissionError::NotFound => {
            let msg = LinkRefused::Unknown.to_string();
            pages::render(path, StatusCode::NOT_FOUND, pages::decommission::refused_page(msg)).await
        }
        DecommissionError::Invalid(msg) => {
            pages::render(path, StatusCode::BAD_REQUEST, pages::admin::notice::page("Please check your input", msg))
                .await
        }
        other => PageError::from(other).into_page(path).await,
    }
}
