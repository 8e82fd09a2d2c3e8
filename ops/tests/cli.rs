//! The `cargo ops` binary itself, run as people run it, against the test
//! stack's Postgres.

use std::process::Command;

use easel_app::audit::{self, Actor, AuditAction, NewEvent};
use easel_tests::{TestDatabase, stack_var};

fn ops(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_easel-ops")).args(args).env("DATABASE_URL", database_url).output().unwrap()
}

fn event(n: u32) -> NewEvent {
    NewEvent {
        actor: Actor::System,
        action: AuditAction::UserDisabled,
        subject: format!("n:{n}"),
        details: serde_json::json!({}),
        client_addr: easel_app::audit::Origin::Local,
    }
}

#[tokio::test]
async fn audit_verify_passes_an_intact_chain_and_names_a_tampered_row() {
    let db = TestDatabase::create("easel_cli").await;
    let url = db.url();
    let out = ops(&url, &["create-admin", "first.admin@example.org"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("One-time password"), "{said}");

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    for n in 0..3 {
        audit::record(&pool, event(n)).await.unwrap();
    }
    let out = ops(&url, &["audit", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact: 4 events"));

    let victim: i64 =
        sqlx::query_scalar("SELECT id FROM audit_events WHERE subject = 'n:1'").fetch_one(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE id = $1")
        .bind(victim)
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_or_delete")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);

    let out = ops(&url, &["audit", "verify"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("broken at event {victim}")), "{err}");
}

#[tokio::test]
async fn create_admin_refuses_a_bad_address_and_a_duplicate() {
    let db = TestDatabase::create("easel_cli").await;
    let url = db.url();
    let out = ops(&url, &["create-admin", "not-an-address"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an e-mail address"));
    assert!(ops(&url, &["create-admin", "a@example.org"]).status.success());
    let out = ops(&url, &["create-admin", "A@Example.org"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[path = "cli/doctor.rs"]
mod doctor;

#[tokio::test]
async fn audit_checkpoint_then_verify_names_a_truncated_tail() {
    let db = TestDatabase::create("easel_cli").await;
    let url = db.url();
    let out = ops(&url, &["create-admin", "checkpointed@example.org"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    for n in 0..3 {
        audit::record(&pool, event(n)).await.unwrap();
    }
    // A backup bucket of its own, where the checkpoints go.
    let endpoint = stack_var("EASEL_AWS_ENDPOINT");
    let sdk = easel_resizer::aws::sdk_config(Some(&endpoint), "eu-west-1").await;
    let s3 = easel_resizer::aws::s3_client(&sdk, true);
    let bucket = format!("cli-checkpoints-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    easel_app::storage::live::create_bucket(&s3, &bucket, "eu-west-1").await.unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_easel-ops"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("EASEL_BACKUP_BUCKET", &bucket)
            .env("EASEL_AWS_REGION", "eu-west-1")
            .output()
            .unwrap()
    };

    let out = run(&["audit", "checkpoint"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("Checkpoint 1 signed: events up to 4 (4 in all)"), "{said}");
    let out = run(&["audit", "verify"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("1 checkpoint(s) verified"), "{said}");

    // The insider, with the owner's credentials, removes the last row.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER USER").execute(&mut *tx).await.unwrap();
    sqlx::query("DELETE FROM audit_events WHERE id = 4").execute(&mut *tx).await.unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER USER").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let out = run(&["audit", "verify", "--full"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("truncated: checkpoint 1 covers events up to 4, but the trail ends at event 3"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Audit chain intact: 3 events"), "the chain alone misses it");
}
