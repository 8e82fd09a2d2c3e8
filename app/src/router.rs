//! Paths to handlers, nothing else.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware::{from_fn, from_fn_with_state},
    routing::{get, post},
};

use crate::{
    auth::middleware::{require_admin, require_staff},
    headers,
    routes::{admin, assets, gallery, health, media, upload, uploaded},
    state::AppState,
};

pub fn router(state: AppState) -> Router {
    let admins_only = Router::new()
        .route("/admin/users", get(admin::users::accounts).post(admin::users::create_account))
        .route("/admin/users/{id}/disable", post(admin::users::disable_account))
        .route("/admin/users/{id}/reset", post(admin::users::reset_account))
        .route_layer(from_fn(require_admin));
    let staff = Router::new()
        .route("/admin", get(admin::dashboard::dashboard))
        .route("/admin/logout", post(admin::logout::sign_out))
        .route("/admin/password", get(admin::password::password_form).post(admin::password::change_password))
        .route("/admin/audit", get(admin::audit::audit_list))
        .route("/admin/audit/export.csv", get(admin::audit::export_csv))
        .route("/admin/audit/export.jsonl", get(admin::audit::export_jsonl))
        .merge(admins_only)
        // Added last, so it runs first: nobody reaches the routes above signed out.
        .route_layer(from_fn_with_state(state.clone(), require_staff));
    let routes = Router::new()
        .route("/admin/login", get(admin::login::login_form).post(admin::login::sign_in))
        .merge(staff)
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
