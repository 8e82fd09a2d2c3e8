//! Dependencies paused under a console of the test's own (through
//! `Faults`, never the shared stack's services): every page answers within
//! its deadline, and nothing is left behind once they resume.

use std::time::{Duration, Instant};

use easel_app::{
    artworks::orphans,
    audit::{self, Actor, AuditAction, NewEvent},
    auth::Role,
};
use easel_tests::eventually;
use image::ImageFormat as Fmt;

use crate::helpers::{TestApp, image_bytes, spawn_app_with, spawn_app_with_faults};

/// Short deadlines, so a fault costs seconds; each dependency's own
/// deadline ends before the page's, as `Deadlines::check` requires.
const QUICK: &[(&str, &str)] = &[
    ("EASEL_PAGE_DEADLINE_MS", "6000"),
    ("EASEL_AWS_CONNECT_TIMEOUT_MS", "500"),
    ("EASEL_AWS_ATTEMPT_TIMEOUT_MS", "1000"),
    ("EASEL_AWS_OPERATION_TIMEOUT_MS", "2500"),
    ("EASEL_DB_ACQUIRE_TIMEOUT_MS", "1500"),
    ("EASEL_DB_STATEMENT_TIMEOUT_MS", "3000"),
];
const PAGE_DEADLINE: Duration = Duration::from_millis(6000);
/// What a busy two-core machine may add to a deadline before the page is out.
const SLACK: Duration = Duration::from_secs(3);

/// Every original has its row and every row its original.
async fn originals_match_rows(app: &TestApp) {
    let mut objects = app.keys(&app.buckets.originals).await;
    objects.sort();
    let mut rows: Vec<String> = sqlx::query_scalar("SELECT original_key FROM artworks ORDER BY original_key")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    rows.sort();
    assert_eq!(objects, rows, "originals and rows differ");
}

#[tokio::test]
async fn s3_paused_during_an_upload_gives_a_503_in_time_and_leaves_no_orphan() {
    let (mut app, faults) = spawn_app_with_faults(QUICK).await;
    faults.aws.pause();
    let started = Instant::now();
    let r = app.upload(Some(("sea.jpg", image_bytes(640, 480, Fmt::Jpeg)))).await;
    let took = started.elapsed();
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("file storage is not answering"), "{}", r.body);
    assert!(r.body.contains("Nothing was saved"), "{}", r.body);
    assert!(took < PAGE_DEADLINE + SLACK, "answered after {took:?}");
    assert_eq!(app.artwork_count().await, 0);

    // The console goes (as after a crash or a deploy); then S3 resumes and
    // takes what it was sent while paused: the put the console gave up on
    // may land now, with no row.
    app.stop_console().await;
    faults.aws.resume();
    assert_eq!(faults.aws.settle(Duration::from_secs(30)).await, 0, "requests still in flight to S3");
    let landed = app.keys(&app.buckets.originals).await;

    let found = orphans::sweep(&app.pool, &app.s3, &app.buckets, Duration::ZERO).await.expect("the sweep runs");
    let removed: Vec<String> = found.originals_removed.iter().map(|r| r.key.clone()).collect();
    assert_eq!(removed, landed, "what landed is what was removed");
    originals_match_rows(&app).await;
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'artwork.orphan_removed'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, landed.len() as i64, "each removal is audited");
}

/// What a console killed between the put and the commit leaves (an
/// original with no row), renditions of neither, and a row whose original
/// was deleted behind Easel's back: each resolved once its grace period is
/// over, audited, and shown on the support page.
#[tokio::test]
async fn the_sweep_resolves_what_faults_leave_after_the_grace_period() {
    let (app, _faults) = spawn_app_with_faults(QUICK).await;
    let kept = app.upload_ok("kept.jpg", image_bytes(300, 200, Fmt::Jpeg)).await;
    let lost = app.upload_ok("lost.jpg", image_bytes(300, 200, Fmt::Jpeg)).await;
    let jpeg = easel_resizer::image::ImageFormat::Jpeg;
    let lost_key = easel_resizer::keys::original_key(lost, jpeg);
    app.s3.delete_object().bucket(&app.buckets.originals).key(&lost_key).send().await.unwrap();
    let orphan = easel_resizer::keys::original_key(easel_resizer::keys::ArtworkId::new(), jpeg);
    app.put_original(&orphan, image_bytes(300, 200, Fmt::Jpeg)).await;
    let stray_key = easel_resizer::keys::rendition_key(
        &easel_resizer::keys::original_key(easel_resizer::keys::ArtworkId::new(), jpeg),
        "thumb",
        jpeg,
    );
    app.s3
        .put_object()
        .bucket(&app.buckets.resized)
        .key(&stray_key)
        .body(image_bytes(40, 20, Fmt::Jpeg).into())
        .send()
        .await
        .unwrap();

    // The resizer renders the orphan too (S3 told it); its manifest comes last.
    let manifest = easel_resizer::keys::manifest_key(&orphan);
    let rendered =
        eventually(Duration::from_secs(10), || async { app.keys(&app.buckets.resized).await.contains(&manifest) })
            .await;
    assert!(rendered, "the resizer rendered the orphan");

    let young = orphans::sweep(&app.pool, &app.s3, &app.buckets, Duration::from_secs(3600)).await.unwrap();
    assert!(young.is_empty(), "acted within the grace period: {young:?}");
    let found = orphans::sweep(&app.pool, &app.s3, &app.buckets, Duration::ZERO).await.unwrap();
    assert_eq!(found.originals_removed.len(), 1, "{found:?}");
    assert_eq!(found.originals_removed[0].key, orphan);
    assert!(found.originals_removed[0].renditions >= 2, "its renditions went with it: {found:?}");
    let stray_folder = format!("{}/", stray_key.rsplit_once('/').unwrap().0);
    assert_eq!(found.renditions_removed, vec![(stray_folder, 1)]);
    assert_eq!(found.originals_missing, vec![lost_key.clone()]);
    assert!(!app.keys(&app.buckets.resized).await.contains(&stray_key));
    assert_eq!(app.artwork_count().await, 2, "rows are never removed ({kept} and {lost} stay)");
    // Once only: a second sweep finds nothing new.
    let again = orphans::sweep(&app.pool, &app.s3, &app.buckets, Duration::ZERO).await.unwrap();
    assert!(again.is_empty(), "{again:?}");

    let support = app.signed_in(easel_app::auth::Role::Support).await;
    let page = support.get(&app, "/admin/uploads").await;
    assert!(page.body.contains(&lost_key), "the missing original is listed: {}", page.body);
    assert!(page.body.contains(&orphan), "the removal is listed: {}", page.body);
    assert!(page.body.contains("artwork.orphan_renditions_removed"), "{}", page.body);
}

#[tokio::test]
async fn postgres_paused_gives_503_pages_on_merchant_and_admin_pages() {
    let (app, faults) = spawn_app_with_faults(QUICK).await;
    let staff = app.signed_in(Role::Admin).await;
    faults.db.pause();
    for path in ["/", "/gallery", "/uploaded/00000000-0000-0000-0000-000000000000"] {
        let started = Instant::now();
        let r = app.get(path).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert!(r.body.contains("not answering") || r.body.contains("did not answer in time"), "{path}: {}", r.body);
        assert!(started.elapsed() < PAGE_DEADLINE + SLACK, "{path} took {:?}", started.elapsed());
    }
    for path in ["/admin", "/admin/uploads", "/admin/audit"] {
        let started = Instant::now();
        let r = staff.get(&app, path).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert!(started.elapsed() < PAGE_DEADLINE + SLACK, "{path} took {:?}", started.elapsed());
    }
    let r = app.upload(Some(("sea.jpg", image_bytes(64, 64, Fmt::Jpeg)))).await;
    assert_eq!(r.status, 503, "{}", r.body);

    faults.db.resume();
    assert_eq!(app.get("/gallery").await.status, 200, "the console recovers once Postgres does");
}

/// The support pages call AWS: with the emulator paused each answers a 503
/// that names the service within the page deadline (not a 502 "AWS failed"
/// with a timeout's text), and the dashboard's dependency panel shows which
/// dependencies are down.
#[tokio::test]
async fn aws_paused_gives_503_pages_naming_it_on_the_support_pages() {
    let (app, faults) = spawn_app_with_faults(QUICK).await;
    let id = app.upload_ok("sea.jpg", image_bytes(64, 64, Fmt::Jpeg)).await;
    let staff = app.signed_in(Role::Admin).await;
    faults.aws.pause();
    let named = |r: &crate::helpers::Reply, what: &str, path: &str| {
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert!(r.body.contains(what), "{path} names {what}: {}", r.body);
        assert!(r.body.contains("nothing was changed"), "{path}: {}", r.body);
    };
    for (path, what) in [
        ("/admin/doctor", "file storage (S3)"),
        ("/admin/backups", "file storage (S3)"),
        ("/admin/logs", "CloudWatch Logs"),
    ] {
        let started = Instant::now();
        let r = staff.get(&app, path).await;
        named(&r, what, path);
        assert!(started.elapsed() < PAGE_DEADLINE + SLACK, "{path} took {:?}", started.elapsed());
    }
    let path = format!("/admin/uploads/{id}/resize");
    let started = Instant::now();
    let r = staff.post(&app, &path, &[("csrf", &staff.csrf)]).await;
    named(&r, "file storage (S3)", &path);
    assert!(started.elapsed() < PAGE_DEADLINE + SLACK, "{path} took {:?}", started.elapsed());
    let resent: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'support.resize_requested'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(resent, 0, "nothing was sent, so nothing is recorded");

    let r = staff.get(&app, "/admin").await;
    assert_eq!(r.status, 200, "the dashboard shows the outage rather than failing: {}", r.body);
    let down = r.body.matches("health down").count();
    assert_eq!(down, 2, "S3 and CloudWatch Logs are down, Postgres and SMTP up: {}", r.body);

    faults.aws.resume();
    assert_eq!(staff.get(&app, "/admin/doctor").await.status, 200, "the doctor recovers once AWS does");
}

/// The audit trail's lock is not held across the S3 put: with S3 paused,
/// four uploads all reach it at once. (Holding the lock, the second would
/// wait in Postgres for the first, which waits for S3.) Counted at the
/// proxy, not timed.
#[tokio::test]
async fn concurrent_uploads_reach_s3_together() {
    // Deadlines long enough that no attempt times out (and retries) while
    // the test counts.
    let (app, faults) = spawn_app_with_faults(&[
        ("EASEL_PAGE_DEADLINE_MS", "50000"),
        ("EASEL_AWS_ATTEMPT_TIMEOUT_MS", "30000"),
        ("EASEL_AWS_OPERATION_TIMEOUT_MS", "40000"),
    ])
    .await;
    faults.aws.pause();
    let app = std::sync::Arc::new(app);
    let uploads: Vec<_> = (0..4)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { app.upload(Some((&format!("{i}.jpg"), image_bytes(200, 100, Fmt::Jpeg)))).await })
        })
        .collect();
    // Four puts, plus at most one poll of the local invoker's queue.
    let together = faults.aws.wait_for_stalled(4, Duration::from_secs(20)).await;
    faults.aws.resume();
    for u in uploads {
        let r = u.await.unwrap();
        assert_eq!(r.status, 303, "{}", r.body);
    }
    assert!(together, "fewer than four puts were held at once: uploads are serialised");
    assert_eq!(app.artwork_count().await, 4);
    originals_match_rows(&app).await;
}

/// A merchant who closes the tab while the put is under way: the console
/// drops the upload with the connection (its transaction rolls back), the
/// put may still land once S3 answers, and the sweep restores the
/// invariant.
#[tokio::test]
async fn a_client_gone_mid_upload_leaves_nothing_once_swept() {
    let (mut app, faults) = spawn_app_with_faults(&[
        ("EASEL_PAGE_DEADLINE_MS", "50000"),
        ("EASEL_AWS_ATTEMPT_TIMEOUT_MS", "30000"),
        ("EASEL_AWS_OPERATION_TIMEOUT_MS", "40000"),
    ])
    .await;
    faults.aws.pause();
    let upload = {
        let (http, base) = (app.http.clone(), app.base.clone());
        tokio::spawn(async move {
            let part = reqwest::multipart::Part::bytes(image_bytes(640, 480, Fmt::Jpeg)).file_name("gone.jpg");
            let form = reqwest::multipart::Form::new().part("artwork", part);
            http.post(format!("{base}/upload")).multipart(form).send().await
        })
    };
    assert!(faults.aws.wait_for_stalled(1, Duration::from_secs(20)).await, "the put never reached S3");
    upload.abort();
    let _ = upload.await;

    app.stop_console().await;
    faults.aws.resume();
    assert_eq!(faults.aws.settle(Duration::from_secs(30)).await, 0, "requests still in flight to S3");
    assert_eq!(app.artwork_count().await, 0, "no row for an upload whose client left");
    orphans::sweep(&app.pool, &app.s3, &app.buckets, Duration::ZERO).await.expect("the sweep runs");
    originals_match_rows(&app).await;
}

/// Whether some session of this test's database waits for an advisory lock
/// (pg_locks covers the whole cluster, where other tests run too).
async fn someone_waits_for_an_advisory_lock(app: &TestApp) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// A console process killed with SIGKILL after the original's put and
/// before the commit of its row leaves an original with no row and an
/// upload registered that no one will finish. Restarted, the console's
/// sweep resolves both, audited, and the invariant holds.
#[tokio::test]
async fn a_console_killed_between_put_and_commit_is_reconciled_once_restarted() {
    let app = spawn_app_with(&[]).await;
    let console = app.console_process(&[]).await;
    // The upload's commit appends its audit row, which takes the trail's
    // lock first: held here, the upload puts its original and then waits.
    let mut held = app.pool.begin().await.unwrap();
    let event = NewEvent {
        actor: Actor::Operator { name: "test".into() },
        action: AuditAction::ArtworkUploaded,
        subject: "holding the lock".into(),
        details: serde_json::json!({}),
        client_addr: audit::Origin::Local,
    };
    audit::append(&mut held, event).await.unwrap();
    let form = reqwest::multipart::Form::new()
        .part("artwork", reqwest::multipart::Part::bytes(image_bytes(320, 200, Fmt::Jpeg)).file_name("sea.jpg"));
    let upload = tokio::spawn(reqwest::Client::new().post(format!("{}/upload", console.base)).multipart(form).send());
    let between = eventually(Duration::from_secs(30), || async {
        !app.keys(&app.buckets.originals).await.is_empty() && someone_waits_for_an_advisory_lock(&app).await
    })
    .await;
    assert!(between, "the upload put its original and waits to commit");

    console.kill().await;
    assert!(upload.await.unwrap().is_err(), "the merchant got no answer");
    held.rollback().await.unwrap();
    let landed = app.keys(&app.buckets.originals).await;
    assert_eq!(landed.len(), 1);
    let orphan = landed[0].clone();
    assert_eq!(app.artwork_count().await, 0, "the row died with the console");
    let registered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM uploads_in_flight").fetch_one(&app.pool).await.unwrap();
    assert_eq!(registered, 1, "the upload is still registered as under way");
    // The resizer rendered it (S3 told it); waited for, so nothing lands
    // after the sweep.
    let manifest = easel_resizer::keys::manifest_key(&orphan);
    let rendered =
        eventually(Duration::from_secs(30), || async { app.keys(&app.buckets.resized).await.contains(&manifest) })
            .await;
    assert!(rendered, "the resizer rendered the orphan");

    let restarted = app.console_process(&[("EASEL_ORPHAN_GRACE_SECONDS", "0")]).await;
    let folder = manifest.rsplit_once('/').unwrap().0.to_owned();
    let resolved = eventually(Duration::from_secs(30), || async {
        let registered: i64 =
            sqlx::query_scalar("SELECT count(*) FROM uploads_in_flight").fetch_one(&app.pool).await.unwrap();
        app.keys(&app.buckets.originals).await.is_empty()
            && !app.keys(&app.buckets.resized).await.iter().any(|k| k.starts_with(&folder))
            && registered == 0
    })
    .await;
    assert!(resolved, "the start-up sweep removed the original, its renditions and the registration");
    originals_match_rows(&app).await;
    let audited: Vec<String> =
        sqlx::query_scalar("SELECT subject FROM audit_events WHERE action = 'artwork.orphan_removed' ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(audited, vec![format!("original:{orphan}")], "the removal is audited once");
    let verdict = audit::verify(&app.pool).await.unwrap();
    assert!(matches!(verdict, audit::ChainVerdict::Intact { .. }), "{verdict:?}");
    drop(restarted);
}
