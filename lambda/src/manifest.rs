//! `manifest.json`, written beside the renditions after all of them. Its
//! presence is what "resized" means to the web app.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub source_key: String,
    /// The original's ETag without quotes; a re-delivered event whose
    /// original still has this ETag needs no work.
    pub source_etag: String,
    pub renditions: Vec<ManifestEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub name: String,
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub bytes: u64,
}

impl Manifest {
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings and integers always serialises.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    pub fn entry(&self, name: &str) -> Option<&ManifestEntry> {
        self.renditions.iter().find(|e| e.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_with_stable_field_names() {
        let m = Manifest {
            source_key: "artwork/a.jpg".into(),
            source_etag: "abc123".into(),
            renditions: vec![ManifestEntry {
                name: "thumb".into(),
                key: "artwork/a/thumb.jpg".into(),
                width: 400,
                height: 300,
                content_type: "image/jpeg".into(),
                bytes: 12345,
            }],
        };
        let json: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
        assert_eq!(json["source_key"], "artwork/a.jpg");
        assert_eq!(json["source_etag"], "abc123");
        assert_eq!(json["renditions"][0]["content_type"], "image/jpeg");
        assert_eq!(json["renditions"][0]["bytes"], 12345);
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
        assert_eq!(m.entry("thumb").unwrap().width, 400);
        assert!(m.entry("display").is_none());
    }
}
