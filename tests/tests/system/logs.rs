//! The resizer's logs as the logs page shows them: grouped per invocation,
//! errors marked, text and error filters applied on our side, paging by
//! `nextToken`, and figures from the REPORT lines.

use std::time::Duration;

use easel_app::auth::Role;
use easel_tests::eventually;

use crate::helpers::{image_bytes, spawn_app};

#[tokio::test]
async fn logs_group_invocations_mark_errors_filter_and_page() {
    let app = spawn_app().await;
    let support = app.signed_in(Role::Support).await;
    let good = app.upload_ok("good.png", image_bytes(80, 60, image::ImageFormat::Png)).await;
    app.wait_until_ready(good).await;
    // An original the resizer cannot read.
    let (_, bad_key) = app.unreadable_original().await;

    // Both invocations show up (the log group is shared by every test on
    // this emulator, so search for our own keys).
    let (Ok(body) | Err(body)) = eventually(Duration::from_secs(20), || async {
        let body = support.get(&app, &format!("/admin/logs?q={bad_key}")).await.body;
        if body.contains("invocation error") { Ok(body) } else { Err(body) }
    })
    .await;
    assert!(body.contains(r#"class="invocation error""#), "{body}");
    assert!(body.contains(r#"<mark class="error-line">"#), "{body}");
    assert!(body.contains("RequestId "), "{body}");
    assert!(body.contains("1 invocation(s) shown"), "{body}");

    let good_key = format!("artwork/{good}.png");
    let r = support.get(&app, &format!("/admin/logs?q={good_key}")).await;
    assert!(r.body.contains("1 invocation(s) shown"), "{}", r.body);
    assert!(
        r.body.contains(r#"\"event\":\"resized\""#)
            || r.body.contains("&quot;event&quot;:&quot;resized&quot;")
            || r.body.contains(r#""event":"resized""#),
        "{}",
        r.body
    );
    assert!(!r.body.contains(r#"class="invocation error""#));
    // The error filter hides it; the text search is case-insensitive.
    let r = support.get(&app, &format!("/admin/logs?q={}&errors=on", good_key.to_uppercase())).await;
    assert!(r.body.contains("0 invocation(s) shown"), "{}", r.body);
    let r = support.get(&app, &format!("/admin/logs?q={}&errors=on", bad_key.to_uppercase())).await;
    assert!(r.body.contains("1 invocation(s) shown"), "{}", r.body);

    // Figures come from REPORT lines.
    let r = support.get(&app, "/admin/logs").await;
    assert!(r.body.contains(r#"<td class="invocations">"#), "{}", r.body);
    assert!(r.body.contains(" ms</td>"), "{}", r.body);

    // Paging: two events a page, following the nextToken links.
    let mut path = "/admin/logs?limit=2".to_string();
    let mut pages = 0;
    loop {
        let r = support.get(&app, &path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("from 2 events read") || !r.body.contains("next-page"), "{}", r.body);
        pages += 1;
        let Some(at) = r.body.find(r#"id="next-page" href=""#) else { break };
        let href = r.body[at + r#"id="next-page" href=""#.len()..].split('"').next().unwrap();
        path = href.replace("&amp;", "&");
        if pages > 50 {
            break;
        }
    }
    assert!(pages >= 3, "at least 5 lines per invocation, two per page: {pages} page(s)");
    // The next link pins the range it was read with (an empty To was "now").
    let r = support.get(&app, "/admin/logs?limit=2").await;
    let at = r.body.find(r#"id="next-page" href=""#).expect("a next page");
    let href = r.body[at..].split('"').nth(3).unwrap().replace("&amp;", "&");
    let param = |name: &str| {
        href.split(['?', '&']).find_map(|p| p.strip_prefix(&format!("{name}="))).unwrap_or_default().to_owned()
    };
    assert!(param("to").starts_with("20") && param("from").starts_with("20"), "{href}");
    assert!(r.body.contains("from the 2 events read for this page only"), "{}", r.body);

    // A token of someone else's making never crashes the page (the emulator
    // answers with no events; CloudWatch refuses it, which is a 400).
    let r = support.get(&app, "/admin/logs?token=not-a-token").await;
    assert!(matches!(r.status, 200 | 400), "{}", r.body);

    // A malformed time is a plain refusal, not a crash.
    assert_eq!(support.get(&app, "/admin/logs?from=yesterday").await.status, 400);
}
