use axum::{
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use easel_resizer::keys::ArtworkId;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::{
    artworks::{self, ArtworkStatus},
    error::PageError,
    extract::PathOr404,
    state::AppState,
    storage::objects,
};

pub async fn rendition(
    State(state): State<AppState>,
    PathOr404((id, name)): PathOr404<(ArtworkId, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let artwork = artworks::find(&state.pool, id).await?.ok_or(PageError::NotFound)?;
    let ArtworkStatus::Ready { renditions, .. } = &artwork.status else {
        return Err(PageError::NotFound);
    };
    // Only keys the resizer reported are ever read: the name picks one, it
    // never builds a key.
    let rendition = renditions.get(&name).ok_or(PageError::NotFound)?;
    let buckets = [state.buckets().resized.as_str(), state.buckets().backup.as_str()];
    let Some(object) = objects::get_first(&state.s3(), &buckets, &rendition.key).await? else {
        return Err(PageError::Unexpected(anyhow::anyhow!(
            "rendition {} is missing from both {buckets:?}",
            rendition.key
        )));
    };
    if let (Some(etag), Some(wanted)) = (&object.etag, headers.get(header::IF_NONE_MATCH))
        && wanted.as_bytes() == etag.as_bytes()
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    // Renditions are web-sized (a few hundred KB), so reading one whole is
    // simpler than streaming and lets us send an exact Content-Length.
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| PageError::Unexpected(anyhow::anyhow!("reading {}: {e}", rendition.key)))?
        .into_bytes();
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    let content_type = object.content_type.unwrap_or_else(|| rendition.content_type.clone());
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(etag) = object.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        h.insert(header::ETAG, etag);
    }
    // Renditions never change under a key; a new upload gets a new id.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(res)
}
