use easel_app::{
    audit::{
        self, Actor, AuditAction, ChainVerdict, NewEvent, anchor,
        checkpoint::{self, AuditKey, Finding, Signed, Statement},
    },
    auth::Role,
};
use easel_tests::eventually;
use image::ImageFormat as Fmt;

use crate::helpers::{TestApp, image_bytes, spawn_app};

fn event(n: usize) -> NewEvent {
    NewEvent {
        actor: Actor::System,
        action: AuditAction::UserCreated,
        subject: format!("test:{n}"),
        details: serde_json::json!({ "n": n, "nested": { "b": [1, 2.5, "x"], "a": null } }),
        client_addr: audit::Origin::Client(std::net::Ipv4Addr::LOCALHOST.into()),
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

fn audit_key() -> AuditKey {
    let path = std::env::var("EASEL_AUDIT_KEY_FILE").expect("`cargo ops test` sets EASEL_AUDIT_KEY_FILE");
    AuditKey::from_file(std::path::Path::new(&path)).unwrap()
}

/// The test console's checkpoints, outside its database.
fn vault(app: &TestApp) -> anchor::Vault {
    anchor::Vault { s3: app.s3.clone(), bucket: app.buckets.backup.to_string(), lock_days: 0 }
}

/// A checkpoint written now. The console's own writer may take the next
/// seq a moment before (it writes one as it starts): then again.
async fn checkpoint_now(app: &TestApp, key: &AuditKey) -> Statement {
    let written = eventually(std::time::Duration::from_secs(1), || async {
        anchor::checkpoint(&app.pool, &vault(app), key, false).await.unwrap()
    })
    .await;
    written.expect("no checkpoint could be written")
}

/// Ten events, a checkpoint, five more, another: the insider's starting point.
async fn checkpointed_trail() -> (TestApp, AuditKey, Statement, Statement) {
    let app = spawn_app().await;
    let key = audit_key();
    for n in 0..10 {
        audit::record(&app.pool, event(n)).await.unwrap();
    }
    let first = checkpoint_now(&app, &key).await;
    for n in 10..15 {
        audit::record(&app.pool, event(n)).await.unwrap();
    }
    let second = checkpoint_now(&app, &key).await;
    assert!(findings(&app, &key).await.is_empty(), "an untouched trail verifies");
    (app, key, first, second)
}

async fn findings(app: &TestApp, key: &AuditKey) -> Vec<Finding> {
    anchor::verify_all(&app.pool, &vault(app), &key.public(), true).await.unwrap().findings
}

/// What an insider with the database's owner credentials can do to the
/// trail's end: the triggers turned off for a moment.
async fn as_insider(app: &TestApp, sql: &str) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER USER").execute(&mut *tx).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut *tx).await.unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER USER").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_truncated_tail_is_named_though_the_chain_still_links() {
    let (app, key, _, second) = checkpointed_trail().await;
    as_insider(&app, &format!("DELETE FROM audit_events WHERE id > {}", second.last_id - 3)).await;
    assert!(
        matches!(audit::verify(&app.pool).await.unwrap(), ChainVerdict::Intact { .. }),
        "the chain alone misses it"
    );
    let found = findings(&app, &key).await;
    assert!(
        found.contains(&Finding::Truncated {
            seq: second.seq,
            last_id: second.last_id,
            trail_ends_at: second.last_id - 3
        }),
        "{found:?}"
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let recent = anchor::verify_recent(&app.pool, Some(&key.public())).await.unwrap();
    assert!(matches!(recent, ChainVerdict::Broken { id, .. } if id == second.last_id), "{recent:?}");
}

#[tokio::test]
async fn a_suffix_rewritten_with_fresh_hashes_is_named() {
    let (app, key, first, second) = checkpointed_trail().await;
    // Every row after the first checkpoint, its actor changed and its hash
    // (and the next row's link) computed afresh: the chain links again.
    let rows: Vec<audit::EventRow> = sqlx::query_as(
        "SELECT id, at, actor, role, action, subject, details, client_addr, prev_hash, hash FROM audit_events
         WHERE id > $1 ORDER BY id",
    )
    .bind(first.last_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut prev = first.head.to_vec();
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER USER").execute(&mut *tx).await.unwrap();
    for r in rows {
        let canonical =
            audit::canonical_form(r.id, r.at, "mallory", &r.role, &r.action, &r.subject, &r.details.0, &r.client_addr);
        let hash = audit::chain_hash(&prev, &canonical);
        sqlx::query("UPDATE audit_events SET actor = 'mallory', prev_hash = $2, hash = $3 WHERE id = $1")
            .bind(r.id)
            .bind(&prev)
            .bind(hash.as_slice())
            .execute(&mut *tx)
            .await
            .unwrap();
        prev = hash.to_vec();
    }
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER USER").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();

    assert!(
        matches!(audit::verify(&app.pool).await.unwrap(), ChainVerdict::Intact { .. }),
        "the chain alone misses it"
    );
    let found = findings(&app, &key).await;
    assert!(found.contains(&Finding::Rewritten { seq: second.seq, last_id: second.last_id }), "{found:?}");
    assert!(!found.iter().any(|f| matches!(f, Finding::Rewritten { seq, .. } if *seq == first.seq)), "{found:?}");
}

#[tokio::test]
async fn missing_and_forged_checkpoints_are_named() {
    let (app, key, first, second) = checkpointed_trail().await;
    app.s3.delete_object().bucket(&app.buckets.backup).key(Signed::object_key(first.seq)).send().await.unwrap();
    let found = findings(&app, &key).await;
    assert_eq!(found, vec![Finding::Missing { seq: first.seq, from: "S3" }]);

    // One signed with another key, in S3 where the next would go.
    let other = AuditKey::generate();
    let fake = checkpoint::next(Some(&second), second.last_id + 100, [7; 32], second.rows + 100, second.at);
    let body = serde_json::to_vec(&other.sign(&fake)).unwrap();
    app.s3
        .put_object()
        .bucket(&app.buckets.backup)
        .key(Signed::object_key(fake.seq))
        .body(body.into())
        .send()
        .await
        .unwrap();
    let found = findings(&app, &key).await;
    assert!(
        found.iter().any(|f| matches!(f, Finding::Forged { seq: Some(s), place: "S3", .. } if *s == fake.seq)),
        "{found:?}"
    );
    assert!(found.contains(&Finding::Missing { seq: fake.seq, from: "Postgres" }), "{found:?}");

    // The copy in Postgres of the newest, removed by the insider.
    sqlx::query("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER").execute(&app.pool).await.unwrap();
    sqlx::query("DELETE FROM audit_checkpoints WHERE seq = $1").bind(second.seq).execute(&app.pool).await.unwrap();
    sqlx::query("ALTER TABLE audit_checkpoints ENABLE TRIGGER USER").execute(&app.pool).await.unwrap();
    let found = findings(&app, &key).await;
    assert!(found.contains(&Finding::Missing { seq: second.seq, from: "Postgres" }), "{found:?}");
}

#[tokio::test]
async fn the_incremental_verdict_matches_a_full_verification() {
    let (app, key, _, second) = checkpointed_trail().await;
    for n in 15..40 {
        audit::record(&app.pool, event(n)).await.unwrap();
    }
    let full = audit::verify(&app.pool).await.unwrap();
    let recent = anchor::verify_recent(&app.pool, Some(&key.public())).await.unwrap();
    assert!(matches!(full, ChainVerdict::Intact { rows, .. } if rows as i64 > second.rows), "{full:?}");
    assert_eq!(recent, full);

    // A row after the newest checkpoint altered: both name it, alike.
    as_insider(&app, &format!("UPDATE audit_events SET actor = 'mallory' WHERE id = {}", second.last_id + 5)).await;
    let full = audit::verify(&app.pool).await.unwrap();
    let recent = anchor::verify_recent(&app.pool, Some(&key.public())).await.unwrap();
    assert!(matches!(full, ChainVerdict::Broken { id, .. } if id == second.last_id + 5), "{full:?}");
    assert_eq!(recent, full);

    // The pages show the same verdict.
    let staff = app.signed_in(Role::Admin).await;
    let page = staff.get(&app, "/admin/audit").await;
    let broken = format!("Audit chain BROKEN at event {}", second.last_id + 5);
    assert!(page.body.contains(&broken), "{}", page.body);
}

/// The console's credentials cannot do what the insider above did: its role
/// is no superuser, owns nothing, and may only add to and read the trail.
#[tokio::test]
async fn the_consoles_role_may_only_add_to_and_read_the_trail() {
    let app = spawn_app().await;
    let console = sqlx::PgPool::connect(app.settings.database_url.expose()).await.unwrap();
    let (superuser, owner): (bool, bool) = sqlx::query_as(
        "SELECT rolsuper, pg_has_role(current_user, (SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events'), 'USAGE')
         FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&console)
    .await
    .unwrap();
    assert!(!superuser && !owner, "the console's role is neither a superuser nor the owner");
    for sql in [
        "ALTER TABLE audit_events DISABLE TRIGGER USER",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete",
        "DELETE FROM audit_events",
        "UPDATE audit_events SET actor = 'mallory'",
        "TRUNCATE audit_events",
        "DROP TABLE audit_events",
        "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER",
        "DELETE FROM audit_checkpoints",
        "UPDATE audit_checkpoints SET statement = ''",
        "DELETE FROM _sqlx_migrations",
        "CREATE TABLE mine (a int)",
    ] {
        let refused = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&console).await.unwrap_err();
        let code = refused.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {refused}");
    }
    // What the console does, it still may.
    audit::record(&console, event(1)).await.unwrap();
    let verdict = audit::verify(&console).await.unwrap();
    assert!(matches!(verdict, ChainVerdict::Intact { .. }), "{verdict:?}");
}

/// The walk reads the trail a page at a time: a row altered on a later
/// page is named, and an intact trail is counted whole.
#[tokio::test]
async fn a_walk_across_pages_counts_every_row_and_names_one_on_a_later_page() {
    let app = spawn_app().await;
    let mut tx = app.pool.begin().await.unwrap();
    for n in 0..4_100 {
        audit::append(&mut tx, event(n)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let full = audit::verify(&app.pool).await.unwrap();
    assert!(matches!(full, ChainVerdict::Intact { rows: 4_100, .. }), "{full:?}");
    let victim: i64 = sqlx::query_scalar("SELECT id FROM audit_events ORDER BY id OFFSET 4050 LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    as_insider(&app, &format!("UPDATE audit_events SET subject = 'x' WHERE id = {victim}")).await;
    let broken = audit::verify(&app.pool).await.unwrap();
    assert!(matches!(broken, ChainVerdict::Broken { id, rows_checked: 4_050, .. } if id == victim), "{broken:?}");
}

/// With S3 Object Lock on the bucket (as the AWS template makes the backup
/// bucket), each checkpoint is put locked: its version cannot be deleted,
/// by the console's credentials or any other.
#[tokio::test]
async fn locked_checkpoints_cannot_be_deleted() {
    let app = spawn_app().await;
    let key = audit_key();
    let bucket = format!("t-locked-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    app.s3
        .create_bucket()
        .bucket(&bucket)
        .object_lock_enabled_for_bucket(true)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let vault = anchor::Vault { s3: app.s3.clone(), bucket: bucket.clone(), lock_days: 1 };
    audit::record(&app.pool, event(1)).await.unwrap();
    let st = anchor::checkpoint(&app.pool, &vault, &key, false).await.unwrap().expect("a checkpoint");
    let head = app.s3.head_object().bucket(&bucket).key(Signed::object_key(st.seq)).send().await.unwrap();
    assert_eq!(head.object_lock_mode(), Some(&aws_sdk_s3::types::ObjectLockMode::Compliance));
    let refused = app
        .s3
        .delete_object()
        .bucket(&bucket)
        .key(Signed::object_key(st.seq))
        .set_version_id(head.version_id().map(str::to_owned))
        .send()
        .await;
    assert!(refused.is_err(), "a locked checkpoint was deleted");
    let still = app.s3.head_object().bucket(&bucket).key(Signed::object_key(st.seq)).send().await;
    assert!(still.is_ok(), "the checkpoint is still there");
}
