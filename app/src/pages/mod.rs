//! The pages people see, as Leptos components rendered on the server.
//! Handlers load what a page needs first and hand it over as plain values,
//! so a page never waits on I/O while rendering and every page works
//! without JavaScript.

pub mod admin;
pub mod closure;
pub mod decommission;
pub mod gallery;
pub mod layout;
pub mod not_found;
pub mod server_error;
pub mod try_again;
pub mod upload;
pub mod uploaded;

use std::sync::{Arc, Mutex};

use axum::{body::Body, response::Response};
use http::{HeaderValue, Request, StatusCode};
use leptos::prelude::IntoView;

pub use layout::Layout;

/// Renders a whole page with `status`. `path` is the request path the page
/// answers, which Leptos exposes to components as the current URL.
pub async fn render<F, IV>(path: &str, status: StatusCode, page: F) -> Response
where
    F: Fn() -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    // Leptos appends small inline scripts to every page (resource stubs),
    // marked with a per-response nonce; the CSP must allow exactly that one.
    let nonce: Arc<Mutex<Option<String>>> = Arc::default();
    let slot = nonce.clone();
    let app = move || {
        *slot.lock().expect("nonce slot") = leptos::nonce::use_nonce().map(|n| n.to_string());
        page()
    };
    let render = leptos_axum::render_app_async_with_context(|| {}, app);
    let req = Request::get(path).body(Body::empty()).expect("a path taken from a routed request is a valid URI");
    let mut res = render(req).await;
    *res.status_mut() = status;
    let nonce = nonce.lock().expect("nonce slot").take();
    if let Some(csp) = nonce.and_then(|n| HeaderValue::from_str(&crate::headers::csp_with_nonce(&n)).ok()) {
        res.headers_mut().insert(http::header::CONTENT_SECURITY_POLICY, csp);
    }
    res.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
