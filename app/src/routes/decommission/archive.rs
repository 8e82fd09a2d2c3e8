use axum::{
    body::Body,
    extract::{Path, Request, State},
    response::{IntoResponse, Response},
};
use http::HeaderValue;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::{decommission::procedure, error::PageError, state::AppState};

/// The archive, streamed from `EASEL_ARCHIVE_DIR`, for a live receipt link.
pub async fn download_archive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let (file, name) =
        procedure::archive_for_link(&state.decommissioning(), &token).await.map_err(PageError::from_link)?;
    let res = ServeFile::new(&file)
        .oneshot(req)
        .await
        .map_err(|e| PageError::Unexpected(anyhow::Error::new(e).context("serving the archive")))?;
    let mut res = res.map(Body::new).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        res.headers_mut().insert(http::header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
