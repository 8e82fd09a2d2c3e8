mod get;

pub use get::rendition;

use easel_resizer::keys::ArtworkId;

/// Where the console serves an artwork's rendition. Buckets stay private;
/// the console reads them and streams the bytes.
pub fn media_path(id: ArtworkId, rendition: &str) -> String {
    format!("/media/{id}/{rendition}")
}
