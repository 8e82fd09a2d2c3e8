//! `/decommission/{token}`: where a stakeholder's mailed link leads. `GET`
//! shows a confirm page and changes nothing (mail scanners pre-fetch links);
//! only the `POST` from that page decides. A refused link gets its own
//! plain page (`PageError::from_link`), which says nothing else about it.

mod archive;
mod get;
mod post;
mod reason;

pub use archive::download_archive;
pub use get::confirm_page;
pub use post::decide;
pub use reason::reason_document;

use axum::{Router, routing::get};
use http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

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
