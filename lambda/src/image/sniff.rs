//! Deciding what a file is from its first bytes, never from its name or the
//! browser's claim: a `.png` that is really a JPEG is a JPEG.

use serde::{Deserialize, Serialize};

/// The two formats Easel accepts, and the two it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Png,
    Jpeg,
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
// SOI followed by the first marker's 0xFF; a bare `FF D8` is too weak a
// signature to trust on its own.
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

impl ImageFormat {
    /// The format the bytes are, judged by magic bytes only.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(PNG_MAGIC) {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(JPEG_MAGIC) {
            Some(ImageFormat::Jpeg)
        } else {
            None
        }
    }

    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil;

    #[test]
    fn recognises_png_and_jpeg_by_content() {
        assert_eq!(ImageFormat::sniff(&testutil::rgb_png(4, 4)), Some(ImageFormat::Png));
        assert_eq!(ImageFormat::sniff(&testutil::rgb_jpeg(16, 16)), Some(ImageFormat::Jpeg));
    }

    #[test]
    fn rejects_other_formats_and_text() {
        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04";
        let webp = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00";
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#;
        let html = b"<html><body>not an image</body></html>";
        let text = b"hello, this is plain text";
        for bytes in [&gif[..], &webp[..], &svg[..], &html[..], &text[..], b"", b"\xff\xd8", b"\x89PNG"] {
            assert_eq!(ImageFormat::sniff(bytes), None, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn extensions_and_content_types() {
        assert_eq!(ImageFormat::Png.extension(), "png");
        assert_eq!(ImageFormat::Jpeg.extension(), "jpg");
        assert_eq!(ImageFormat::Png.content_type(), "image/png");
        assert_eq!(ImageFormat::Jpeg.content_type(), "image/jpeg");
    }

    #[test]
    fn serialises_lowercase() {
        assert_eq!(serde_json::to_string(&ImageFormat::Jpeg).unwrap(), "\"jpeg\"");
        assert_eq!(serde_json::from_str::<ImageFormat>("\"png\"").unwrap(), ImageFormat::Png);
    }
}
