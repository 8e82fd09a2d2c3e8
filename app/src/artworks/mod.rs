//! Artworks: the rows behind the merchant pages, and the reconciler that
//! notices when the resizer has finished one.

pub mod in_flight;
pub mod orphans;
mod progress;
pub mod reconcile;
mod repo;

pub use progress::{Progress, artwork_path};
pub use repo::{Artwork, ArtworkStatus, GalleryPage, NewArtwork, PageCursor, Rendition, Renditions};
pub use repo::{counts, find, gallery_page, insert, last_upload, mark_ready, processing_since, unrendered_keys};

/// Where the console serves an artwork's rendition (`routes/media`). Buckets
/// stay private; the console reads them and streams the bytes.
pub fn media_path(id: easel_resizer::keys::ArtworkId, rendition: &str) -> String {
    format!("/media/{id}/{rendition}")
}
