use easel_app::{
    artworks::{self, NewArtwork, Renditions},
    routes::gallery::PER_PAGE,
};
use easel_resizer::{image::ImageFormat, keys::ArtworkId, manifest::ManifestEntry};
use image::ImageFormat as Fmt;

use crate::helpers::{image_bytes, spawn_app};

#[tokio::test]
async fn an_empty_gallery_says_so_and_links_to_the_upload_form() {
    let app = spawn_app().await;
    let r = app.get("/gallery").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("No artwork here yet"), "{}", r.body);
    assert!(!r.body.contains("rel=\"next\"") && !r.body.contains("rel=\"prev\""));
}

#[tokio::test]
async fn the_gallery_pages_newest_first_with_rel_links() {
    let app = spawn_app().await;
    // Arrange: more finished artworks than fit on one page, oldest first.
    let total = PER_PAGE as usize + 5;
    let mut ids = Vec::new();
    for n in 0..total {
        let id = ArtworkId::new();
        let key = format!("artwork/{id}.jpg");
        artworks::insert(
            &app.pool,
            &NewArtwork {
                id,
                original_key: &key,
                original_filename: &format!("piece-{n:03}.jpg"),
                format: ImageFormat::Jpeg,
                width: 10,
                height: 10,
                bytes: 1,
            },
        )
        .await
        .unwrap();
        let thumb = ManifestEntry {
            name: "thumb".into(),
            key: format!("artwork/{id}/thumb.jpg"),
            width: 10,
            height: 10,
            content_type: "image/jpeg".into(),
            bytes: 1,
        };
        assert!(artworks::mark_ready(&app.pool, id, &Renditions(vec![thumb])).await.unwrap());
        ids.push(id);
        // UUIDv7 orders by millisecond; keep the order unambiguous.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }

    let first = app.get("/gallery").await;
    let newest = format!("piece-{:03}.jpg", total - 1);
    assert!(
        first.body.find(&newest).unwrap() < first.body.find(&format!("piece-{:03}.jpg", total - 2)).unwrap(),
        "newest first"
    );
    assert!(!first.body.contains("piece-000.jpg"), "the oldest is on page two");
    assert!(!first.body.contains("rel=\"prev\""));
    let next = href_of(&first.body, "next").expect("a rel=next link");
    assert_eq!(next, format!("/gallery?before={}", ids[5]));

    let second = app.get(&next).await;
    assert_eq!(second.status, 200);
    for n in 0..5 {
        assert!(second.body.contains(&format!("piece-{n:03}.jpg")));
    }
    assert!(!second.body.contains("rel=\"next\""), "the last page has no next");
    let prev = href_of(&second.body, "prev").expect("a rel=prev link");
    let back = app.get(&prev).await;
    assert!(back.body.contains(&newest), "prev leads back to the newest page");

    assert_eq!(app.get("/gallery?before=garbage").await.status, 404);
}

#[tokio::test]
async fn file_names_are_shown_escaped() {
    let app = spawn_app().await;
    let name = "<img src=x onerror=alert(1)>.png";
    let id = app.upload_ok(name, image_bytes(64, 64, Fmt::Png)).await;
    let page = app.wait_until_ready(id).await;
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;.png"), "{}", page.body);
    let gallery = app.get("/gallery").await;
    assert!(!gallery.body.contains("<img src=x"));
    assert!(gallery.body.contains("&lt;img src=x onerror=alert(1)&gt;.png"));
}

#[tokio::test]
async fn pages_carry_security_headers_and_buckets_stay_private() {
    let app = spawn_app().await;
    let res = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    let h = res.headers();
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    let body = res.text().await.unwrap();
    assert!(body.contains("enctype=\"multipart/form-data\""), "{body}");
    for bucket in [&app.buckets.originals, &app.buckets.resized, &app.buckets.backup] {
        let pab = app.s3.get_public_access_block().bucket(bucket).send().await.unwrap();
        let c = pab.public_access_block_configuration().unwrap();
        assert_eq!((c.block_public_acls(), c.restrict_public_buckets()), (Some(true), Some(true)), "{bucket}");
        let policy = app.s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
        let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
        for s in policy["Statement"].as_array().unwrap() {
            assert!(!(s["Effect"] == "Allow" && s["Principal"] == "*"), "{bucket} grants the public: {s}");
        }
    }
}

fn href_of(body: &str, rel: &str) -> Option<String> {
    let at = body.find(&format!("rel=\"{rel}\""))?;
    let tag_start = body[..at].rfind('<')?;
    let tag = &body[tag_start..at + body[at..].find('>')?];
    let href = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}
