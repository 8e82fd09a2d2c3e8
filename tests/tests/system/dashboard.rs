//! The dashboard at a glance: figures and a server-drawn chart, each
//! dependency's health, and the latest resizer error.

use std::time::Duration;

use easel_app::auth::Role;
use easel_tests::eventually;

use crate::helpers::{image_bytes, spawn_app_with};

#[tokio::test]
async fn the_dashboard_shows_figures_a_chart_health_and_the_latest_error() {
    let app = spawn_app_with(&[("EASEL_STUCK_AFTER_SECONDS", "0")]).await;
    let support = app.signed_in(Role::Support).await;
    let good = app.upload_ok("good.png", image_bytes(64, 64, image::ImageFormat::Png)).await;
    app.wait_until_ready(good).await;
    let (_, bad_key) = app.unreadable_original().await;

    let (Ok(body) | Err(body)) = eventually(Duration::from_secs(20), || async {
        let body = support.get(&app, "/admin").await.body;
        if body.contains(&bad_key) { Ok(body) } else { Err(body) }
    })
    .await;
    assert!(body.contains(&bad_key), "the latest errors name the key: {body}");
    assert!(
        body.contains(
            "<strong>2</strong> uploaded, <strong>1</strong> resized, <strong>1</strong> failed in the last 24 hours"
        ),
        "{body}"
    );
    assert!(body.contains("<svg") && body.contains(r#"class="bar uploads""#), "{body}");
    assert!(body.contains("Uploads, resized and failed artworks per day"), "{body}");
    for service in ["Postgres", "S3", "CloudWatch Logs"] {
        let at = body.find(&format!("<td>{service}</td>")).unwrap_or_else(|| panic!("{service}: {body}"));
        let row = &body[body[..at].rfind("<tr").unwrap()..at];
        assert!(row.contains("health ok"), "{service} is down: {body}");
    }
    assert!(body.contains("<td>SMTP</td>"));
    for link in ["/admin/doctor", "/admin/uploads", "/admin/logs", "/admin/backups"] {
        assert!(body.contains(&format!(r#"href="{link}""#)), "{link}");
    }
}
