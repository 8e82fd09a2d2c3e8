use axum::{
    extract::{Query, State, rejection::QueryRejection},
    response::Response,
};
use easel_resizer::keys::ArtworkId;
use http::StatusCode;

use crate::{
    artworks::{self, PageCursor},
    error::PageError,
    pages::{self, gallery::GalleryModel},
    state::AppState,
};

pub const PER_PAGE: i64 = 24;

#[derive(serde::Deserialize)]
pub struct PageQuery {
    before: Option<String>,
    after: Option<String>,
}

impl PageQuery {
    /// A cursor that is not an artwork id is a broken link: 404, not a guess.
    fn cursor(&self) -> Result<PageCursor, PageError> {
        let parse = |s: &str| ArtworkId::parse(s).map_err(|_| PageError::NotFound);
        match (&self.before, &self.after) {
            (None, None) => Ok(PageCursor::Newest),
            (Some(b), None) => Ok(PageCursor::Before(parse(b)?)),
            (None, Some(a)) => Ok(PageCursor::After(parse(a)?)),
            (Some(_), Some(_)) => Err(PageError::NotFound),
        }
    }
}

pub async fn gallery(
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    if let Some(closed) = crate::routes::upload::closure_notice(&state, "/gallery").await? {
        return Ok(closed);
    }
    // A cursor query that does not parse is a broken link like a wrong id.
    let Ok(Query(q)) = query else {
        return Err(PageError::NotFound);
    };
    let page = artworks::gallery_page(&state.pool, q.cursor()?, PER_PAGE).await?;
    Ok(pages::render("/gallery", StatusCode::OK, pages::gallery::page(GalleryModel::from(page))).await)
}
