//! Paths to handlers, nothing else.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware::{from_fn, from_fn_with_state},
    routing::{get, post},
};

use crate::{
    error,
    gate::Change,
    guards::{
        decommission::{decommission_banner, gated},
        staff::{require_admin, require_staff},
    },
    headers,
    routes::{admin, artworks, assets, deadline, decommission as links, gallery, health, media, upload, uploaded},
    state::AppState,
};

pub fn router(state: AppState) -> Router {
    let gate_for = |change: Change| from_fn_with_state((state.clone(), change), gated);
    // The default group: whatever changes the client's data or what acts on
    // it. Frozen from the decommission's archive step on; a new route here
    // is frozen with it.
    let admin_repairs = Router::new()
        .route("/admin/doctor/fix/{fix}", get(admin::doctor::review_fix).post(admin::doctor::apply_fix))
        .route_layer(from_fn(require_admin));
    let data = Router::new()
        .route("/admin", get(admin::dashboard::dashboard))
        .route("/admin/doctor", get(admin::doctor::doctor))
        .route("/admin/backups", get(admin::backups::backups))
        .route("/admin/uploads", get(admin::uploads::stuck_uploads))
        .route("/admin/logs", get(admin::logs::logs))
        .route("/admin/uploads/resize", post(admin::uploads::resize_selected))
        .route("/admin/uploads/{id}/resize", post(admin::uploads::resize_one))
        .route("/admin/backups/restore", post(admin::backups::start_restore))
        .route("/admin/backups/restore/{id}", get(admin::backups::restore_progress))
        .route("/admin/backups/restore/{id}/resume", post(admin::backups::resume_restore))
        .route("/admin/audit", get(admin::audit::audit_list))
        .route("/admin/audit/export.csv", get(admin::audit::export_csv))
        .route("/admin/audit/export.jsonl", get(admin::audit::export_jsonl))
        .merge(admin_repairs)
        .route_layer(gate_for(Change::Data));
    // Staff accounts: managed until Easel is closed.
    let accounts = Router::new()
        .route("/admin/users", get(admin::users::accounts).post(admin::users::create_account))
        .route("/admin/users/{id}/disable", post(admin::users::disable_account))
        .route("/admin/users/{id}/reset", post(admin::users::reset_account))
        .route_layer(from_fn(require_admin))
        .route_layer(gate_for(Change::Accounts));
    // Past the gate: the procedure, which moves it (its steps are its own
    // state machine), and each person's own session and password.
    let procedure = Router::new()
        .route(
            "/admin/decommission",
            get(admin::decommission::decommission_page)
                .post(admin::decommission::open_request)
                .layer(DefaultBodyLimit::max(admin::decommission::MAX_FORM_BYTES)),
        )
        .route("/admin/decommission/{id}/plan", post(admin::decommission::submit_plan))
        .route("/admin/decommission/{id}/review", post(admin::decommission::record_review))
        // archive, destroy, notify: the steps whose form is only its CSRF token.
        .route("/admin/decommission/{id}/{step}", post(admin::decommission::take_step))
        .route("/admin/decommission/{id}/reason.pdf", get(admin::decommission::reason_pdf))
        .route("/admin/decommission/{id}/stakeholders/{sid}/resend", post(admin::decommission::resend_link))
        .route("/admin/decommission/{id}/mail/{mail}/send-again", post(admin::decommission::send_mail_again))
        .route_layer(from_fn(require_admin));
    let own = Router::new()
        .route("/admin/logout", post(admin::logout::sign_out))
        .route("/admin/sign-out-everywhere", post(admin::logout::sign_out_everywhere))
        .route("/admin/password", get(admin::password::password_form).post(admin::password::change_password));
    let staff = data
        .merge(accounts)
        .merge(procedure)
        .merge(own)
        // Inside the sign-in check: the decommission banner.
        .route_layer(from_fn_with_state(state.clone(), decommission_banner))
        // Added last, so it runs first: nobody reaches the routes above signed out.
        .route_layer(from_fn_with_state(state.clone(), require_staff));
    let bounded = Router::new()
        .route("/admin/login", get(admin::login::login_form).post(admin::login::sign_in))
        .merge(staff)
        .route("/", get(upload::upload_form))
        .route("/uploaded/{id}", get(uploaded::uploaded))
        .route("/gallery", get(gallery::gallery))
        .route("/artworks/{id}", get(artworks::artwork_page))
        .route("/media/{id}/{rendition}", get(media::rendition))
        .route("/style/easel.css", get(assets::stylesheet))
        .route("/static/upload.js", get(assets::upload_script))
        .route("/health", get(health::health))
        .merge(links::routes())
        .fallback(not_found)
        // Every page above answers within the page deadline, or with a 503.
        .layer(from_fn_with_state(state.clone(), deadline::page_deadline));
    let routes = Router::new()
        // The upload handler enforces its own limit while it streams, and
        // starts the page deadline once the body is in.
        .route("/upload", post(upload::upload_artwork).layer(DefaultBodyLimit::disable()))
        .merge(bounded)
        .with_state(state);
    // Every route, the upload and the fallback included: a panic or an
    // extractor's refusal still answers with one of our pages.
    headers::apply(error::apply(routes))
}

async fn not_found() -> crate::error::PageError {
    crate::error::PageError::NotFound
}
