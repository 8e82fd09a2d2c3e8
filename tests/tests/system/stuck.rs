//! Stuck and failed uploads: an original the resizer fails on is listed
//! with the reason from its logs; an upload whose event never arrived is
//! listed as never seen; "resize again" (single and bulk) re-delivers a
//! genuine S3 event and both get their renditions.

use std::time::Duration;

use aws_sdk_s3::types::NotificationConfiguration;
use easel_app::auth::Role;
use easel_resizer::keys::ArtworkId;

use easel_tests::eventually;

use crate::helpers::{TestApp, image_bytes, spawn_app_with};

/// The row of the stuck page for `id`, once it reads as `kind`.
async fn wait_for_row(app: &TestApp, staff: &crate::helpers::Staff, id: ArtworkId, kind: &str) -> String {
    let row = eventually(Duration::from_secs(20), || async {
        let r = staff.get(app, "/admin/uploads").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let at = r.body.find(&format!(r#"id="stuck-{id}""#))?;
        let start = r.body[..at].rfind("<tr").unwrap();
        let row = r.body[start..].split("</tr>").next().unwrap().to_owned();
        row.contains(&format!("stuck {kind}")).then_some(row)
    })
    .await;
    row.unwrap_or_else(|| panic!("upload {id} never showed as {kind}"))
}

#[tokio::test]
async fn failed_and_unseen_uploads_are_listed_with_their_reason_and_resized_again() {
    let app = spawn_app_with(&[("EASEL_STUCK_AFTER_SECONDS", "0")]).await;
    let support = app.signed_in(Role::Support).await;

    let (broken, broken_key) = app.unreadable_original().await;
    let row = wait_for_row(&app, &support, broken, "failed").await;
    // The reason is the resizer's own, from its log line: a decode error.
    assert!(row.contains("The resizer failed: The image file is damaged or incomplete."), "{row}");
    assert!(row.contains(&format!("/admin/logs?q={broken_key}")), "{row}");

    // Events stop reaching the resizer; an upload now goes unnoticed.
    app.s3
        .put_bucket_notification_configuration()
        .bucket(&app.buckets.originals)
        .notification_configuration(NotificationConfiguration::builder().build())
        .send()
        .await
        .unwrap();
    let unseen = app.upload_ok("unseen.png", image_bytes(64, 64, image::ImageFormat::Png)).await;
    let row = wait_for_row(&app, &support, unseen, "never-seen").await;
    assert!(row.contains("never mention this key"), "{row}");

    // The broken original is replaced (no event fires now), then resized again on its own…
    app.put_original(&broken_key, image_bytes(50, 40, image::ImageFormat::Png)).await;
    let r = support.post(&app, &format!("/admin/uploads/{broken}/resize"), &[("csrf", &support.csrf)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/uploads?requested=1")), "{}", r.body);
    app.wait_until_ready(broken).await;

    // …and the unseen one in bulk.
    let r = support.post(&app, "/admin/uploads/resize", &[("csrf", &support.csrf), ("ids", &unseen.to_string())]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/uploads?requested=1")), "{}", r.body);
    app.wait_until_ready(unseen).await;
    let r = support.get(&app, "/admin/uploads").await;
    assert!(r.body.contains("0 original(s) without renditions"), "{}", r.body);

    // A forged bulk request changes nothing.
    let r = support.post(&app, "/admin/uploads/resize", &[("csrf", "forged"), ("ids", &unseen.to_string())]).await;
    assert_eq!(r.status, 403);
    // Nor does a malformed id or more than 200 ids: refused before anything is sent.
    let r = support.post(&app, "/admin/uploads/resize", &[("csrf", &support.csrf), ("ids", "not-an-id")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let id = unseen.to_string();
    let mut form: Vec<(&str, &str)> = vec![("csrf", &support.csrf)];
    form.extend(std::iter::repeat_n(("ids", id.as_str()), 201));
    let r = support.post(&app, "/admin/uploads/resize", &form).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("at most 200"), "{}", r.body);
    let requests: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT actor, details FROM audit_events WHERE action = 'support.resize_requested' ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].0, support.email);
    assert_eq!(requests[0].1["keys"][0], broken_key.as_str());
}
