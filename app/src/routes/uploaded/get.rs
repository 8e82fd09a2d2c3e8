use axum::{
    extract::{Path, State},
    response::Response,
};
use easel_resizer::keys::ArtworkId;
use http::StatusCode;

use crate::{error::PageError, pages, routes::artworks::load, state::AppState};

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
