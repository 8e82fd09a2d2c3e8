//! `/artworks/<id>`: one artwork's page through its states, and the pages
//! that lead to it.

use std::time::Duration;

use easel_resizer::keys::ArtworkId;
use image::ImageFormat as Fmt;

use easel_tests::eventually;

use crate::helpers::{image_bytes, spawn_app_with};

#[tokio::test]
async fn the_artwork_page_shows_processing_then_failed_or_ready() {
    // An original without renditions for 2 s is past hope here.
    let app = spawn_app_with(&[("EASEL_STUCK_AFTER_SECONDS", "2")]).await;

    // An original the resizer cannot read: processing, then failed.
    let (broken, _) = app.unreadable_original().await;
    let path = format!("/artworks/{broken}");
    let first = app.get(&path).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains("Processing: we are preparing this artwork"), "{}", first.body);
    assert!(first.body.contains("http-equiv=\"refresh\""), "it updates without script: {}", first.body);
    let failed = eventually(Duration::from_secs(15), || async {
        app.get(&path).await.body.contains("We could not prepare this artwork for the gallery.")
    })
    .await;
    assert!(failed, "the page says plainly that the resize failed: {}", app.get(&path).await.body);
    assert!(!app.get(&path).await.body.contains("http-equiv=\"refresh\""), "a failed artwork stops reloading");

    // A good upload: ready, with every rendition in srcset and its facts.
    let id = app.upload_ok("harbour at dusk.png", image_bytes(2400, 1200, Fmt::Png)).await;
    let uploaded = app.wait_until_ready(id).await;
    let page = format!("/artworks/{id}");
    assert!(uploaded.body.contains(&format!("href=\"{page}\"")), "the confirmation links to it: {}", uploaded.body);
    assert!(uploaded.body.contains(&format!("/media/{id}/thumb")), "and shows the thumbnail: {}", uploaded.body);
    let ready = app.get(&page).await;
    assert_eq!(ready.status, 200);
    let body = &ready.body;
    assert!(body.contains(&format!("src=\"/media/{id}/display\"")), "{body}");
    assert!(body.contains(&format!("/media/{id}/thumb 400w, /media/{id}/display 1600w")), "srcset: {body}");
    assert!(body.contains("2400 × 1200 pixels, PNG"), "{body}");
    assert!(body.contains("Uploaded") && body.contains(" UTC</time>"), "{body}");
    assert!(body.contains("harbour at dusk.png") && body.contains("href=\"/gallery\""), "{body}");

    // The gallery's tile leads to the page, not to a bare image.
    let gallery = app.get("/gallery").await;
    assert!(gallery.body.contains(&format!("<a href=\"{page}\"")), "{}", gallery.body);

    // Ids that name nothing.
    for missing in [format!("/artworks/{}", ArtworkId::new()), "/artworks/not-an-id".to_string()] {
        assert_eq!(app.get(&missing).await.status, 404, "{missing}");
    }
}
