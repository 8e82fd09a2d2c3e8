use easel_app::{
    audit::{self, Actor, AuditAction, ChainVerdict, NewEvent},
    auth::Role,
};
use image::ImageFormat as Fmt;

use crate::helpers::{image_bytes, spawn_app};

fn event(n: usize) -> NewEvent {
    NewEvent {
        actor: Actor::System,
        action: AuditAction::UserCreated,
        subject: format!("test:{n}"),
        details: serde_json::json!({ "n": n, "nested": { "b": [1, 2.5, "x"], "a": null } }),
        client_addr: "127.0.0.1".into(),
    }
}

#[tokio::test]
async fn many_concurrent_writers_make_one_unbroken_chain() {
    let app = spawn_app().await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let pool = app.pool.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    let mut tx = pool.begin().await.unwrap();
                    audit::append(&mut tx, event(w * 100 + i)).await.unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let verdict = audit::verify(&app.pool).await.unwrap();
    assert!(matches!(verdict, ChainVerdict::Intact { rows: 200, head: Some(_) }), "{verdict:?}");
    // No fork: every row has a different predecessor.
    let distinct: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT prev_hash) FROM audit_events").fetch_one(&app.pool).await.unwrap();
    assert_eq!(distinct, 200);
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_audit_row() {
    let app = spawn_app().await;
    let mut tx = app.pool.begin().await.unwrap();
    audit::append(&mut tx, event(1)).await.unwrap();
    tx.rollback().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&app.pool).await.unwrap();
    assert_eq!(n, 0);
    let mut tx = app.pool.begin().await.unwrap();
    audit::append(&mut tx, event(2)).await.unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(audit::verify(&app.pool).await.unwrap(), ChainVerdict::Intact { rows: 1, .. }));
}

#[tokio::test]
async fn updates_deletes_and_truncates_are_refused() {
    let app = spawn_app().await;
    let mut tx = app.pool.begin().await.unwrap();
    audit::append(&mut tx, event(1)).await.unwrap();
    tx.commit().await.unwrap();
    for sql in ["UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events", "TRUNCATE audit_events"] {
        let err = sqlx::query(sql).execute(&app.pool).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert!(matches!(audit::verify(&app.pool).await.unwrap(), ChainVerdict::Intact { rows: 1, .. }));
}

#[tokio::test]
async fn a_row_altered_behind_the_triggers_back_is_named() {
    let app = spawn_app().await;
    for n in 0..5 {
        let mut tx = app.pool.begin().await.unwrap();
        audit::append(&mut tx, event(n)).await.unwrap();
        tx.commit().await.unwrap();
    }
    let third: i64 = sqlx::query_scalar("SELECT id FROM audit_events ORDER BY id OFFSET 2 LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // As a superuser would: switch the guard off, edit, switch it on again.
    let mut conn = app.pool.acquire().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_events SET details = '{\"n\": 999}' WHERE id = $1")
        .bind(third)
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_or_delete")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    match audit::verify(&app.pool).await.unwrap() {
        ChainVerdict::Broken { id, reason, rows_checked } => {
            assert_eq!(id, third);
            assert_eq!(rows_checked, 2);
            assert!(reason.contains("altered"), "{reason}");
        }
        other => panic!("tampering went unnoticed: {other:?}"),
    }
    let admin = app.signed_in(Role::Admin).await;
    let page = admin.get(&app, "/admin/audit").await;
    assert!(page.body.contains(&format!("BROKEN at event {third}")), "{}", page.body);
}

#[tokio::test]
async fn uploads_and_sign_ins_are_recorded_with_the_client_address() {
    let app = spawn_app().await;
    let id = app.upload_ok("dawn.png", image_bytes(50, 40, Fmt::Png)).await;
    let (email, _) = app.create_staff(Role::Support).await;
    assert_eq!(app.sign_in_with(&app.browser(), &email, "wrong password!").await.status, 401);
    assert_eq!(app.flush_sign_in_failures().await, 1);
    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT actor, action, subject, client_addr FROM audit_events ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(
        rows.contains(&("anonymous".into(), "artwork.uploaded".into(), format!("artwork:{id}"), "127.0.0.1".into())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("anonymous".into(), "auth.sign_in_failed".into(), format!("user:{email}"), "127.0.0.1".into())),
        "{rows:?}"
    );
    assert!(matches!(audit::verify(&app.pool).await.unwrap(), ChainVerdict::Intact { .. }));
}

#[tokio::test]
async fn the_audit_page_filters_pages_and_exports_with_the_chain_head() {
    let app = spawn_app().await;
    for n in 0..60 {
        let mut tx = app.pool.begin().await.unwrap();
        audit::append(&mut tx, event(n)).await.unwrap();
        tx.commit().await.unwrap();
    }
    let admin = app.signed_in(Role::Admin).await;
    let page = admin.get(&app, "/admin/audit?action=user.created").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("test:59") && !page.body.contains("test:5<"), "newest first, 50 a page");
    assert!(page.body.contains("rel=\"next\""));
    let page = admin.get(&app, "/admin/audit?subject=TEST:7").await;
    assert!(page.body.contains("test:7<") && !page.body.contains("test:8<"), "{}", page.body);
    assert_eq!(admin.get(&app, "/admin/audit?from=yesterday").await.status, 400);
    let signed_in = admin.get(&app, &format!("/admin/audit?actor={}&action=auth.signed_in", admin.email)).await;
    assert!(signed_in.body.contains("auth.signed_in"));

    let head = match audit::verify(&app.pool).await.unwrap() {
        ChainVerdict::Intact { head: Some(h), .. } => h,
        other => panic!("{other:?}"),
    };
    let res = admin.http.get(format!("{}/admin/audit/export.csv", app.base)).send().await.unwrap();
    assert_eq!(res.headers()["x-audit-chain-head"], head.as_str());
    let csv = res.text().await.unwrap();
    let last = csv.lines().last().unwrap();
    assert_eq!(last, format!("chain_head,,,,,,,,,{head}"));
    assert!(csv.lines().nth(1).unwrap().starts_with("1,"), "oldest first");

    let jsonl = admin
        .http
        .get(format!("{}/admin/audit/export.jsonl?action=user.created", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // 60 test events, the signed-in admin's own account creation, the head.
    assert_eq!(lines.len(), 62);
    assert_eq!(lines[61]["chain_head"], head.as_str());
    assert_eq!(lines[0]["subject"], "test:0");
    assert_eq!(lines[0]["details"]["nested"]["b"][1], 2.5);
}
