use axum::{
    Extension,
    extract::{Query, State},
    response::Response,
};
use http::StatusCode;

use crate::{
    audit,
    auth::Session,
    error::PageError,
    pages::{self, admin::dashboard::DashboardModel},
    state::AppState,
    support::dashboard,
};

#[derive(serde::Deserialize)]
pub struct DashboardQuery {
    notice: Option<String>,
}

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, PageError> {
    let (artworks, processing) = crate::artworks::counts(&state.pool).await?;
    let notice = match q.notice.as_deref() {
        Some("password-changed") => Some("Your password was changed.".to_string()),
        _ => None,
    };
    let support = &state.support;
    let days = dashboard::days(&state.pool, support.stuck_after).await?;
    let (health, errors) = tokio::join!(dashboard::health(&state.pool, support), dashboard::recent_errors(support, 10));
    let m = DashboardModel {
        staff: (&session).into(),
        notice,
        artworks,
        processing,
        chain: audit::anchor::verify_recent(&state.pool, state.audit_key.as_ref()).await?,
        last_day: dashboard::last_day(&state.pool, support.stuck_after).await?,
        week: dashboard::totals(&days),
        chart_svg: dashboard::chart_svg(&days),
        days,
        health,
        errors: errors.map_err(|e| {
            tracing::warn!(error = %e, "the dashboard could not read the resizer's errors");
            e.page_text()
        }),
    };
    Ok(pages::render("/admin", StatusCode::OK, pages::admin::dashboard::page(m)).await)
}
