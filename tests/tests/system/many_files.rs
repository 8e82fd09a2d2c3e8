//! One submission of several files, as a browser without JavaScript sends
//! it: each file judged on its own, and a summary page of every outcome.

use image::ImageFormat as Fmt;
use reqwest::multipart::{Form, Part};

use crate::helpers::{TestApp, image_bytes, reply, spawn_app, spawn_app_with};

async fn submit(app: &TestApp, files: &[(&str, Vec<u8>)]) -> crate::helpers::Reply {
    let form = files.iter().fold(Form::new(), |form, (name, bytes)| {
        form.part("artwork", Part::bytes(bytes.clone()).file_name(name.to_string()))
    });
    let mut r = reply(app.http.post(format!("{}/upload", app.base)).multipart(form).send().await.unwrap()).await;
    // Leptos marks where text it joined came from; the words are what count.
    r.body = r.body.replace("<!>", "");
    r
}

/// The ids the summary page links to, in order.
fn linked_ids(body: &str) -> Vec<String> {
    body.match_indices("href=\"/artworks/").map(|(at, m)| body[at + m.len()..].chars().take(36).collect()).collect()
}

#[tokio::test]
async fn several_files_without_javascript_each_get_their_outcome_on_one_page() {
    let app = spawn_app().await;
    let files = [
        ("harbour.png", image_bytes(640, 400, Fmt::Png)),
        ("notes.png", b"these are notes, not a picture".to_vec()),
        ("dunes.jpg", image_bytes(500, 300, Fmt::Jpeg)),
        ("empty.jpg", Vec::new()),
    ];
    let r = submit(&app, &files).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = &r.body;
    assert!(body.contains("2 of your artworks were uploaded."), "{body}");
    // In the order sent, each with its own words.
    let at = |needle: &str| body.find(needle).unwrap_or_else(|| panic!("{needle} missing: {body}"));
    assert!(
        at("harbour.png") < at("notes.png") && at("notes.png") < at("dunes.jpg") && at("dunes.jpg") < at("empty.jpg")
    );
    assert!(body.contains("notes.png</span> — Please try again: The file is not a PNG or JPEG image"), "{body}");
    assert!(body.contains("empty.jpg</span> — Please try again: The file you chose is empty."), "{body}");
    let ids = linked_ids(body);
    assert_eq!(ids.len(), 2, "{body}");

    // One artwork, one original and one audit row per accepted file; none for the others.
    assert_eq!(app.artwork_count().await, 2);
    let names: Vec<String> = sqlx::query_scalar("SELECT original_filename FROM artworks ORDER BY uploaded_at")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(names, ["harbour.png", "dunes.jpg"]);
    assert_eq!(app.keys(&app.buckets.originals).await.len(), 2);
    for id in &ids {
        let audited: i64 =
            sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'artwork.uploaded' AND subject = $1")
                .bind(format!("artwork:{id}"))
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(audited, 1, "artwork {id}");
        assert_eq!(app.get(&format!("/artworks/{id}")).await.status, 200);
    }

    // Nothing accepted: the summary still names each, with the refusal's status.
    let r = submit(&app, &[("a.png", b"nope".to_vec()), ("b.png", b"nor this".to_vec())]).await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert!(r.body.contains("a.png") && r.body.contains("b.png") && r.body.contains("Please try again"), "{}", r.body);
    assert_eq!(app.artwork_count().await, 2);
}

#[tokio::test]
async fn files_past_the_per_upload_limit_are_refused_on_their_own() {
    let app = spawn_app_with(&[("EASEL_MAX_FILES_PER_UPLOAD", "2")]).await;
    let png = || image_bytes(64, 64, Fmt::Png);
    let r = submit(&app, &[("one.png", png()), ("two.png", png()), ("three.png", png())]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("three.png</span> — Please try again: Only 2 files can be uploaded at a time"),
        "{}",
        r.body
    );
    assert_eq!(linked_ids(&r.body).len(), 2);
    assert_eq!(app.artwork_count().await, 2);
}
