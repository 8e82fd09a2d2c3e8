//! Paths to handlers, nothing else.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};

use crate::{
    headers,
    routes::{assets, gallery, health, media, upload, uploaded},
    state::AppState,
};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(upload::upload_form))
        // The upload handler enforces its own limit while it streams.
        .route("/upload", post(upload::upload_artwork).layer(DefaultBodyLimit::disable()))
        .route("/uploaded/{id}", get(uploaded::uploaded))
        .route("/gallery", get(gallery::gallery))
        .route("/media/{id}/{rendition}", get(media::rendition))
        .route("/style/easel.css", get(assets::stylesheet))
        .route("/static/upload.js", get(assets::upload_script))
        .route("/health", get(health::health))
        .fallback(not_found)
        .with_state(state);
    headers::apply(routes)
}

async fn not_found(uri: http::Uri) -> axum::response::Response {
    crate::error::PageError::NotFound.into_page(uri.path()).await
}
