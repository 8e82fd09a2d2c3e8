//! The S3 key scheme shared by the web app and the resizer.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::image::ImageFormat;

/// The server-made identity of one uploaded artwork. UUIDv7, so keys sort by
/// upload time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArtworkId(uuid::Uuid);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an artwork id")]
pub struct InvalidArtworkId(String);

impl ArtworkId {
    #[allow(clippy::new_without_default)] // a fresh id is not a "default" value
    pub fn new() -> Self {
        ArtworkId(uuid::Uuid::now_v7())
    }

    pub fn parse(s: &str) -> Result<Self, InvalidArtworkId> {
        uuid::Uuid::try_parse(s).map(ArtworkId).map_err(|_| InvalidArtworkId(s.chars().take(64).collect()))
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl From<uuid::Uuid> for ArtworkId {
    fn from(u: uuid::Uuid) -> Self {
        ArtworkId(u)
    }
}

impl FromStr for ArtworkId {
    type Err = InvalidArtworkId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArtworkId::parse(s)
    }
}

impl fmt::Display for ArtworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// `artwork/<id>.<ext>`
pub fn original_key(id: ArtworkId, format: ImageFormat) -> String {
    format!("artwork/{id}.{}", format.extension())
}

/// The original key without the extension of its last path segment; the
/// folder that holds all of that artwork's derived objects.
fn stem(original_key: &str) -> &str {
    let name_start = original_key.rfind('/').map_or(0, |i| i + 1);
    match original_key[name_start..].rfind('.') {
        // A leading dot (".hidden") is a name, not an extension.
        Some(dot) if dot > 0 => &original_key[..name_start + dot],
        _ => original_key,
    }
}

/// `"uploads/my photo.jpeg"` → `"uploads/my photo/thumb.jpg"`.
pub fn rendition_key(original_key: &str, rendition: &str, format: ImageFormat) -> String {
    format!("{}/{rendition}.{}", stem(original_key), format.extension())
}

/// `"artwork/<id>.png"` → `"artwork/<id>/manifest.json"`.
pub fn manifest_key(original_key: &str) -> String {
    format!("{}/manifest.json", stem(original_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artwork_ids_round_trip() {
        let id = ArtworkId::new();
        assert_eq!(id.as_uuid().get_version_num(), 7);
        assert_eq!(ArtworkId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(id.to_string().len(), 36);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<ArtworkId>(&json).unwrap(), id);
        assert!(ArtworkId::parse("../../etc/passwd").is_err());
        assert!(ArtworkId::parse("").is_err());
    }

    #[test]
    fn later_ids_sort_later() {
        let a = ArtworkId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = ArtworkId::new();
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn key_scheme_for_server_made_keys() {
        let id = ArtworkId::parse("0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f").unwrap();
        let key = original_key(id, ImageFormat::Jpeg);
        assert_eq!(key, "artwork/0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f.jpg");
        assert_eq!(
            rendition_key(&key, "thumb", ImageFormat::Png),
            "artwork/0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f/thumb.png"
        );
        assert_eq!(manifest_key(&key), "artwork/0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f/manifest.json");
        assert_eq!(original_key(id, ImageFormat::Png), "artwork/0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f.png");
    }

    #[test]
    fn key_scheme_for_any_key() {
        assert_eq!(rendition_key("uploads/my photo.jpeg", "thumb", ImageFormat::Jpeg), "uploads/my photo/thumb.jpg");
        assert_eq!(
            rendition_key("artwork/my café photo.jpg", "display", ImageFormat::Jpeg),
            "artwork/my café photo/display.jpg"
        );
        assert_eq!(rendition_key("noext", "thumb", ImageFormat::Png), "noext/thumb.png");
        assert_eq!(rendition_key("a.b/c", "thumb", ImageFormat::Png), "a.b/c/thumb.png");
        assert_eq!(rendition_key("x/.hidden", "thumb", ImageFormat::Png), "x/.hidden/thumb.png");
        assert_eq!(rendition_key("x/archive.tar.gz", "thumb", ImageFormat::Png), "x/archive.tar/thumb.png");
        assert_eq!(manifest_key("uploads/my photo.jpeg"), "uploads/my photo/manifest.json");
    }
}
