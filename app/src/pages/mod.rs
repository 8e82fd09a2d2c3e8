//! The pages people see, as Leptos components rendered on the server.
//! Handlers load what a page needs first and hand it over as plain values,
//! so a page never waits on I/O while rendering and every page works
//! without JavaScript.

pub mod admin;
pub mod artwork;
pub mod closure;
pub mod decommission;
pub mod gallery;
pub mod layout;
pub mod not_found;
pub mod server_error;
pub mod try_again;
pub mod upload;
pub mod uploaded;
pub mod uploads;

use std::sync::{Arc, Mutex};

use axum::{body::Body, response::Response};
use http::{HeaderValue, Request, StatusCode};
use leptos::prelude::IntoView;

pub use layout::{Layout, NextSteps};

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
    let mut req = Request::new(Body::empty());
    *req.uri_mut() = page_uri(path);
    let mut res = render(req).await;
    *res.status_mut() = status;
    let nonce = nonce.lock().expect("nonce slot").take();
    if let Some(csp) = nonce.and_then(|n| HeaderValue::from_str(&crate::headers::csp_with_nonce(&n)).ok()) {
        res.headers_mut().insert(http::header::CONTENT_SECURITY_POLICY, csp);
    }
    res.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The URI Leptos sees as the current URL. Handlers name their page by paths
/// built from decoded segments (`/media/{id}/…`), and a client can have
/// percent-encoded anything into those: a space, a newline, a lone `%`. Such
/// a path is encoded again rather than trusted to be a URI.
fn page_uri(path: &str) -> http::Uri {
    /// Everything but what RFC 3986 allows bare in a path.
    const NOT_IN_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'!')
        .remove(b'$')
        .remove(b'&')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')')
        .remove(b'*')
        .remove(b'+')
        .remove(b',')
        .remove(b';')
        .remove(b'=')
        .remove(b':')
        .remove(b'@');
    http::Uri::try_from(path)
        .or_else(|_| http::Uri::try_from(percent_encoding::utf8_percent_encode(path, NOT_IN_PATH).to_string()))
        .unwrap_or_else(|_| http::Uri::from_static("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_path_becomes_a_uri() {
        assert_eq!(page_uri("/media/abc/thumb"), "/media/abc/thumb");
        assert_eq!(page_uri("/admin/audit?from=x"), "/admin/audit?from=x");
        assert_eq!(page_uri("/media/a b/\n%"), "/media/a%20b/%0A%25");
        assert_eq!(page_uri("/uploaded/\u{0}\u{7f}\u{fffd}é"), "/uploaded/%00%7F%EF%BF%BD%C3%A9");
        assert_eq!(page_uri(""), "/");
        for c in (0..=0x10ffu32).filter_map(char::from_u32) {
            let path = format!("/x/{c}{c}/{}", c.to_string().repeat(300));
            let _ = page_uri(&path);
        }
    }

    #[tokio::test]
    async fn a_page_renders_for_a_path_that_is_no_uri() {
        let _ = any_spawner::Executor::init_tokio();
        let res = render("/media/a\nb %/x", StatusCode::NOT_FOUND, not_found::page()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("We could not find that page"));
    }
}
