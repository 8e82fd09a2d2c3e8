use easel_resizer::keys::{ArtworkId, original_key, rendition_key};
use image::ImageFormat as Fmt;

use crate::helpers::{image_bytes, spawn_app};

#[tokio::test]
async fn an_upload_is_stored_resized_into_both_buckets_and_shown_in_the_gallery() {
    let app = spawn_app().await;
    let id = app.upload_ok("sunset at sea.jpg", image_bytes(2400, 1200, Fmt::Jpeg)).await;

    // The original and its row exist together.
    let key = original_key(id, easel_resizer::image::ImageFormat::Jpeg);
    assert_eq!(app.keys(&app.buckets.originals).await, vec![key.clone()]);
    let (ct, _) = app.object(&app.buckets.originals, &key).await;
    assert_eq!(ct.as_deref(), Some("image/jpeg"));
    let (name, width): (String, i32) = sqlx::query_as("SELECT original_filename, width FROM artworks WHERE id = $1")
        .bind(id.as_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((name.as_str(), width), ("sunset at sea.jpg", 2400));

    // The confirmation page offers the way on, then shows the thumbnail.
    let first = app.get(&format!("/uploaded/{id}")).await;
    assert!(first.body.contains("Upload Another Artwork") && first.body.contains("Open Gallery"), "{}", first.body);
    let ready = app.wait_until_ready(id).await;
    assert!(ready.body.contains(&format!("/media/{id}/thumb")), "{}", ready.body);

    // Renditions of the right size, in resized and in backup.
    for bucket in [&app.buckets.resized, &app.buckets.backup] {
        for (name, w, h) in [("thumb", 400, 200), ("display", 1600, 800)] {
            let (ct, bytes) =
                app.object(bucket, &rendition_key(&key, name, easel_resizer::image::ImageFormat::Jpeg)).await;
            assert_eq!(ct.as_deref(), Some("image/jpeg"), "{bucket} {name}");
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (w, h), "{bucket} {name}");
        }
    }

    // Listed in the gallery, served by the console (the buckets stay private).
    let gallery = app.get("/gallery").await;
    assert!(gallery.body.contains("sunset at sea.jpg"), "{}", gallery.body);
    assert!(gallery.body.contains(&format!("/media/{id}/display 1600w")), "srcset: {}", gallery.body);
    let thumb = app.http.get(format!("{}/media/{id}/thumb", app.base)).send().await.unwrap();
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    assert_eq!(image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap().width(), 400);
}

#[tokio::test]
async fn every_try_again_case_explains_itself_and_stores_nothing() {
    let app = spawn_app().await;
    let mut truncated = image_bytes(800, 600, Fmt::Jpeg);
    truncated.truncate(truncated.len() / 2);
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 44, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 68, 1, 0, 59]);
    let webp = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
        .to_vec();
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#.to_vec();
    // A valid PNG header that claims 20000×20000 (400 MP): a decompression bomb.
    let bomb = png_claiming(20_000, 20_000);
    let oversized = vec![0xFFu8; 26 * 1024 * 1024];

    let cases: Vec<(&str, Option<(&str, Vec<u8>)>, u16, &str)> = vec![
        ("no file chosen", None, 400, "No file was chosen"),
        ("empty file", Some(("empty.png", Vec::new())), 400, "is empty"),
        ("GIF named .png", Some(("cat.png", gif)), 415, "not a PNG or JPEG"),
        ("WebP", Some(("photo.webp", webp)), 415, "not a PNG or JPEG"),
        ("SVG named .jpg", Some(("logo.jpg", svg)), 415, "not a PNG or JPEG"),
        ("text", Some(("notes.jpeg", b"hello, this is not an image".to_vec())), 415, "not a PNG or JPEG"),
        ("truncated JPEG", Some(("half.jpg", truncated)), 422, ""),
        ("over the size limit", Some(("huge.jpg", oversized)), 413, "25 MB"),
        ("over the pixel limit", Some(("bomb.png", bomb)), 413, "megapixels"),
    ];
    for (what, file, status, reason) in cases {
        let r = app.upload(file).await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert!(r.body.contains("Upload Artwork Again"), "{what}: {}", r.body);
        assert!(r.body.contains("Please try again"), "{what}");
        assert!(r.body.contains(reason), "{what}: wanted {reason:?} in {}", r.body);
    }
    assert_eq!(app.artwork_count().await, 0, "a refused upload left a row");
    assert!(app.keys(&app.buckets.originals).await.is_empty(), "a refused upload left an object");
}

#[tokio::test]
async fn a_jpeg_named_png_is_accepted_as_the_jpeg_it_is() {
    let app = spawn_app().await;
    let id: ArtworkId = app.upload_ok("actually-a-jpeg.png", image_bytes(300, 200, Fmt::Jpeg)).await;
    let format: String = sqlx::query_scalar("SELECT format FROM artworks WHERE id = $1")
        .bind(id.as_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(format, "jpeg");
    assert_eq!(app.keys(&app.buckets.originals).await, vec![format!("artwork/{id}.jpg")]);
}

#[tokio::test]
async fn a_form_posted_without_multipart_gets_the_try_again_page() {
    let app = spawn_app().await;
    let r = app.http.post(format!("{}/upload", app.base)).form(&[("artwork", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Upload Artwork Again"));
    assert_eq!(app.artwork_count().await, 0);
}

#[tokio::test]
async fn unknown_or_malformed_artwork_links_are_404_pages() {
    let app = spawn_app().await;
    for path in
        ["/uploaded/not-an-id", &format!("/uploaded/{}", ArtworkId::new()), "/media/nope/thumb", "/no/such/page"]
    {
        let r = app.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.body.contains("could not find"), "{path}: {}", r.body);
    }
}

/// A small, well-formed PNG whose header claims `w`×`h`: a decompression
/// bomb's shape (its one IDAT chunk holds a few zero bytes).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // zlib.compress(bytes(100))
    let idat = [120, 156, 99, 96, 160, 61, 0, 0, 0, 100, 0, 1];
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr[..]), (b"IDAT", &idat[..]), (b"IEND", &[][..])] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    out
}

/// PNG's chunk checksum (CRC-32/ISO-HDLC).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A stranger's body that never ends a part's headers (or never reaches the
/// first boundary), streamed without a length: the parser used to keep all
/// of it and search it again with every piece that arrived. It is refused
/// once the framing limit runs out, long before the body's limit.
#[tokio::test]
async fn endless_headers_are_refused_after_a_few_kilobytes() {
    use std::sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    };

    let app = spawn_app().await;
    let boundary = "EndlessBoundary";
    for (what, opening) in [
        ("headers", format!("--{boundary}\r\nContent-Disposition: form-data; name=\"artwork\"\r\nX-Pad: ")),
        ("preamble", "no boundary, ever: ".to_string()),
    ] {
        let sent = Arc::new(AtomicU64::new(0));
        // Up to 64 MB in 4 KB pieces; the refusal must come long before.
        let pieces = futures_util::stream::iter((0..16 * 1024).map({
            let sent = sent.clone();
            let opening = opening.clone();
            move |i| {
                let piece = if i == 0 { opening.clone().into_bytes() } else { vec![b'a'; 4096] };
                sent.fetch_add(piece.len() as u64, Ordering::Relaxed);
                Ok::<_, std::io::Error>(piece)
            }
        }));
        let res = app
            .http
            .post(format!("{}/upload", app.base))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(reqwest::Body::wrap_stream(pieces))
            .send()
            .await;
        // The console answers and closes while the client still sends, so
        // the client may see the 400 or only the connection's reset: no
        // lingering for a stranger's body.
        match res {
            Ok(res) => assert_eq!(res.status(), 400, "{what}"),
            Err(e) => assert!(e.is_request() || e.is_body(), "{what}: {e:?}"),
        }
        let sent = sent.load(Ordering::Relaxed);
        // 16 KB of framing, plus what the sockets and hyper buffer on the way.
        assert!(sent < 8 * 1024 * 1024, "{what}: the console read {sent} bytes before refusing");
    }
    assert_eq!(app.artwork_count().await, 0);
}
