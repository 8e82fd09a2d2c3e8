use axum::{extract::State, http::StatusCode};

use crate::state::AppState;

/// `GET /health`: 200 when the database answers. `cargo ops` waits on it.
pub async fn health(State(state): State<AppState>) -> StatusCode {
    match sqlx::query_scalar!("SELECT 1").fetch_one(&state.pool).await {
        Ok(_) => StatusCode::OK,
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
