use axum::{
    extract::{Path, State},
    response::Response,
};
use easel_resizer::keys::ArtworkId;
use http::StatusCode;

use crate::{
    artworks::{self, ArtworkStatus, reconcile},
    error::PageError,
    pages,
    state::AppState,
};

pub async fn uploaded(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let path = format!("/uploaded/{id}");
    if let Some(closed) = crate::routes::upload::closure_notice(&state, &path).await? {
        return Ok(closed);
    }
    // The closure notice first: once closed, every id shows it, known or not.
    let id = ArtworkId::parse(&id).map_err(|_| PageError::NotFound)?;
    let artwork = load(&state, id).await?;
    Ok(pages::render(&path, StatusCode::OK, pages::uploaded::page(artwork)).await)
}

async fn load(state: &AppState, id: ArtworkId) -> Result<artworks::Artwork, PageError> {
    let mut artwork = artworks::find(&state.pool, id).await?.ok_or(PageError::NotFound)?;
    if artwork.status == ArtworkStatus::Processing {
        // The merchant is watching: look now rather than wait for the sweep.
        artwork.status = reconcile::refresh(&state.pool, &state.s3(), &state.buckets().resized, &artwork)
            .await
            .map_err(|e| PageError::Unexpected(e.into()))?;
    }
    Ok(artwork)
}
