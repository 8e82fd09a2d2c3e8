use axum::{
    extract::{Path, State},
    response::Response,
};
use easel_resizer::keys::ArtworkId;
use http::StatusCode;
use time::OffsetDateTime;

use crate::{
    artworks::{self, ArtworkStatus, reconcile},
    error::PageError,
    pages,
    state::AppState,
};

pub async fn artwork_page(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let path = format!("/artworks/{id}");
    if let Some(closed) = crate::routes::upload::closure_notice(&state, &path).await? {
        return Ok(closed);
    }
    // The closure notice first: once closed, every id shows it, known or not.
    let id = ArtworkId::parse(&id).map_err(|_| PageError::NotFound)?;
    let artwork = load(&state, id).await?;
    let progress = artwork.progress(OffsetDateTime::now_utc(), state.support.stuck_after);
    Ok(pages::render(&path, StatusCode::OK, pages::artwork::page(artwork, progress)).await)
}

/// The artwork, with its renditions looked for now if it is still
/// processing: its merchant is watching, so the page need not wait for the
/// reconciler's sweep.
pub async fn load(state: &AppState, id: ArtworkId) -> Result<artworks::Artwork, PageError> {
    let mut artwork = artworks::find(&state.pool, id).await?.ok_or(PageError::NotFound)?;
    if artwork.status == ArtworkStatus::Processing {
        artwork.status = reconcile::refresh(&state.pool, state.s3(), &state.buckets().resized, &artwork)
            .await
            .map_err(|e| PageError::Unexpected(e.into()))?;
    }
    Ok(artwork)
}
