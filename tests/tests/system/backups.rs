//! Backups against the emulator: verify, the dry run, a complete restore of
//! an emptied resized bucket, and a deleted bucket restored by a restore
//! interrupted half-way and resumed.

use std::time::Duration;

use easel_app::{audit::Actor, auth::Role, support::backups};
use easel_tests::eventually;
use image::ImageFormat;

use crate::helpers::{Staff, TestApp, image_bytes, spawn_app};

async fn empty_bucket(app: &TestApp, bucket: &str) -> usize {
    let keys = app.keys(bucket).await;
    for k in &keys {
        app.s3.delete_object().bucket(bucket).key(k).send().await.unwrap();
    }
    keys.len()
}

async fn wait_until_finished(app: &TestApp, staff: &Staff, path: &str) -> String {
    let finished = eventually(Duration::from_secs(30), || async {
        let r = staff.get(app, path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body.contains("finished:").then_some(r.body)
    })
    .await;
    finished.unwrap_or_else(|| panic!("the restore at {path} did not finish within 30 s"))
}

#[tokio::test]
async fn an_emptied_resized_bucket_is_restored_completely_after_a_dry_run() {
    let app = spawn_app().await;
    let support = app.signed_in(Role::Support).await;
    let a = app.upload_ok("a.png", image_bytes(120, 80, ImageFormat::Png)).await;
    let b = app.upload_ok("b.jpg", image_bytes(90, 160, ImageFormat::Jpeg)).await;
    app.wait_until_ready(a).await;
    app.wait_until_ready(b).await;
    let mut before = app.keys(&app.buckets.resized).await;
    before.sort();
    let r = support.get(&app, "/admin/backups").await;
    assert!(r.body.contains(&format!("{} objects, same sizes and checksums", before.len())), "{}", r.body);

    let n = empty_bucket(&app, &app.buckets.resized).await;
    assert_eq!(n, before.len());
    let r = support.get(&app, "/admin/backups").await;
    assert!(r.body.contains(&format!("{n} missing from")), "{}", r.body);
    assert!(r.body.contains(&format!("Dry run: a restore would copy {n} object(s)")), "{}", r.body);
    assert!(r.body.contains(&before[0]), "the dry run lists the keys");
    assert!(app.keys(&app.buckets.resized).await.is_empty(), "a dry run changes nothing");

    let r = support.post(&app, "/admin/backups/restore", &[("csrf", &support.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let progress = r.location.unwrap();
    assert!(progress.starts_with("/admin/backups/restore/"));
    let body = wait_until_finished(&app, &support, &progress).await;
    assert!(body.contains(&format!("finished: {n} of {n} copied (100%), 0 failed")), "{body}");

    let mut after = app.keys(&app.buckets.resized).await;
    after.sort();
    assert_eq!(after, before);
    let r = support.get(&app, "/admin/backups").await;
    assert!(r.body.contains(&format!("{n} objects, same sizes and checksums")), "{}", r.body);
    assert_eq!(app.get(&format!("/media/{a}/thumb")).await.status, 200);

    let rows: Vec<(String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT action, actor, details FROM audit_events WHERE action LIKE 'support.restore%' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("support.restore_started", support.email.as_str()));
    assert_eq!(rows[0].2["planned"], n);
    assert_eq!(rows[1].0, "support.restore_finished");
    assert_eq!((rows[1].2["copied"].as_i64(), rows[1].2["failed"].as_i64()), (Some(n as i64), Some(0)));
}

#[tokio::test]
async fn a_deleted_resized_bucket_comes_back_through_an_interrupted_and_resumed_restore() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let id = app.upload_ok("c.png", image_bytes(100, 100, ImageFormat::Png)).await;
    app.wait_until_ready(id).await;
    let n = empty_bucket(&app, &app.buckets.resized).await;
    assert!(n >= 3, "renditions and a manifest");
    app.s3.delete_bucket().bucket(&app.buckets.resized).send().await.unwrap();
    let r = admin.get(&app, "/admin/backups").await;
    assert!(r.body.contains("does not exist. A restore creates it"), "{}", r.body);

    // The restore copies one object, then stops as a crash would stop it.
    let support = app.support().await;
    let plan = backups::verify(&support).await.unwrap().restore_plan();
    assert_eq!(plan.len(), n);
    let actor = Actor::Staff { email: admin.email.clone(), role: "admin".into() };
    let run = backups::start(&app.pool, &plan, &actor, easel_app::audit::Origin::Local).await.unwrap();
    backups::execute(support.clone(), app.pool.clone(), run, Some(1)).await.unwrap();
    assert_eq!(app.keys(&app.buckets.resized).await.len(), 1, "the bucket was made again and one object copied");
    sqlx::query("UPDATE restore_runs SET heartbeat_at = now() - interval '1 minute' WHERE id = $1")
        .bind(run)
        .execute(&app.pool)
        .await
        .unwrap();

    let path = format!("/admin/backups/restore/{run}");
    let r = admin.get(&app, &path).await;
    assert!(r.body.contains(&format!("interrupted: 1 of {n} copied")), "{}", r.body);
    let r = admin.post(&app, &format!("{path}/resume"), &[("csrf", &admin.csrf)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some(path.as_str())), "{}", r.body);
    let body = wait_until_finished(&app, &admin, &path).await;
    assert!(body.contains(&format!("finished: {n} of {n} copied")), "{body}");
    assert_eq!(app.keys(&app.buckets.resized).await.len(), n);
    assert_eq!(app.get(&format!("/media/{id}/thumb")).await.status, 200);

    // The bucket came back as the spec says, not as a bare bucket.
    let r = admin.get(&app, "/admin/doctor").await;
    assert!(r.body.contains("All 24 checks pass"), "{:#?}", crate::doctor::failing(&r.body));
    let resumed: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'support.restore_resumed'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(resumed, 1);
    // Making the bucket again is audited as the doctor's fix it is.
    let recreated: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'support.doctor_fix_applied' AND subject = $1",
    )
    .bind(format!("bucket:{}", app.buckets.resized))
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(recreated.len(), 1, "{recreated:?}");
    assert_eq!(recreated[0]["recreated_bucket"], true);
    assert_eq!(recreated[0]["fix"], "resized.location");
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn two_starts_or_two_resumes_at_once_run_one_copier_and_finish_once() {
    let app = spawn_app().await;
    let support = app.signed_in(Role::Support).await;
    let other = app.signed_in(Role::Support).await;
    let id = app.upload_ok("d.png", image_bytes(100, 100, ImageFormat::Png)).await;
    app.wait_until_ready(id).await;
    let n = empty_bucket(&app, &app.buckets.resized).await;

    // Two starts at once: one run, the other refused by the database.
    let api = app.support().await;
    let plan = backups::verify(&api).await.unwrap().restore_plan();
    let actor = Actor::Staff { email: support.email.clone(), role: "support".into() };
    let (a, b) = tokio::join!(
        backups::start(&app.pool, &plan, &actor, easel_app::audit::Origin::Local),
        backups::start(&app.pool, &plan, &actor, easel_app::audit::Origin::Local)
    );
    let run = match (a, b) {
        (Ok(run), Err(backups::ClaimError::Busy(_))) | (Err(backups::ClaimError::Busy(_)), Ok(run)) => run,
        other => panic!("expected one start and one refusal: {other:?}"),
    };
    assert_eq!(count(&app, "SELECT count(*) FROM restore_runs").await, 1);
    // While it is unfinished, the page refuses another start too.
    let form_a = [("csrf", support.csrf.as_str())];
    let form_b = [("csrf", other.csrf.as_str())];
    let r = support.post(&app, "/admin/backups/restore", &form_a).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Another restore has not finished yet"), "{}", r.body);
    assert_eq!(count(&app, "SELECT count(*) FROM restore_runs").await, 1);

    // Not stale yet: resuming is refused, no copier starts.
    let path = format!("/admin/backups/restore/{run}");
    let resume = format!("{path}/resume");
    assert_eq!(support.post(&app, &resume, &form_a).await.status, 400);
    sqlx::query("UPDATE restore_runs SET heartbeat_at = now() - interval '1 minute' WHERE id = $1")
        .bind(run)
        .execute(&app.pool)
        .await
        .unwrap();
    // Interrupted, and resumed twice at once: one claim, one copier.
    let (a, b) = tokio::join!(support.post(&app, &resume, &form_a), other.post(&app, &resume, &form_b));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 400], "{}\n{}", a.body, b.body);
    let body = wait_until_finished(&app, &support, &path).await;
    assert!(body.contains(&format!("finished: {n} of {n} copied")), "{body}");
    // A finished run cannot be resumed again.
    assert_eq!(support.post(&app, &resume, &form_a).await.status, 400);
    // No wait needed: each resume's audit row commits before its answer, and
    // the finish's with the `finished_at` the page showed.
    assert_eq!(count(&app, "SELECT count(*) FROM audit_events WHERE action = 'support.restore_resumed'").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM audit_events WHERE action = 'support.restore_finished'").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM restore_runs WHERE finished_at IS NULL").await, 0);
    assert_eq!(app.keys(&app.buckets.resized).await.len(), n);
}

#[tokio::test]
async fn support_cannot_restore_into_a_deleted_bucket_and_forged_forms_change_nothing() {
    let app = spawn_app().await;
    let support = app.signed_in(Role::Support).await;
    let admin = app.signed_in(Role::Admin).await;
    let id = app.upload_ok("e.png", image_bytes(80, 60, ImageFormat::Png)).await;
    app.wait_until_ready(id).await;
    empty_bucket(&app, &app.buckets.resized).await;

    // Forged forms: refused before anything happens.
    for staff in [&support, &admin] {
        let r = staff.post(&app, "/admin/backups/restore", &[("csrf", "forged")]).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("Form expired"), "{}", r.body);
    }
    assert_eq!(count(&app, "SELECT count(*) FROM restore_runs").await, 0);

    app.s3.delete_bucket().bucket(&app.buckets.resized).send().await.unwrap();
    let r = support.post(&app, "/admin/backups/restore", &[("csrf", &support.csrf)]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("An admin must recreate the bucket"), "{}", r.body);
    assert_eq!(count(&app, "SELECT count(*) FROM restore_runs").await, 0);
    let api = app.support().await;
    assert!(!backups::bucket_exists(&api.s3, &app.buckets.resized).await.unwrap(), "support recreated the bucket");

    // An interrupted run: support may not resume it either while the bucket is gone; forged resumes do nothing.
    let plan = backups::verify(&api).await.unwrap().restore_plan();
    let actor = Actor::Staff { email: admin.email.clone(), role: "admin".into() };
    let run = backups::start(&app.pool, &plan, &actor, easel_app::audit::Origin::Local).await.unwrap();
    sqlx::query("UPDATE restore_runs SET heartbeat_at = now() - interval '1 minute' WHERE id = $1")
        .bind(run)
        .execute(&app.pool)
        .await
        .unwrap();
    let resume = format!("/admin/backups/restore/{run}/resume");
    let r = admin.post(&app, &resume, &[("csrf", "forged")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = support.post(&app, &resume, &[("csrf", &support.csrf)]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("An admin must recreate the bucket"), "{}", r.body);
    assert_eq!(count(&app, "SELECT count(*) FROM audit_events WHERE action = 'support.restore_resumed'").await, 0);
    assert!(!backups::bucket_exists(&api.s3, &app.buckets.resized).await.unwrap());
}
