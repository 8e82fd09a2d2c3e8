//! `cargo ops doctor [--fix]` against the emulator: a broken setting fails
//! the run, `--fix` repairs it under the operator's name, the next run passes.

use std::process::Command;

use easel_app::storage::{BucketNames, spec::StackSpec};
use easel_tests::{TestDatabase, stack_var};

#[tokio::test]
async fn doctor_fails_a_broken_stack_then_fix_repairs_it_under_the_operators_name() {
    let endpoint = stack_var("EASEL_AWS_ENDPOINT");
    let db = TestDatabase::create("easel_cli").await;
    let url = db.url();
    let buckets = BucketNames::with_prefix(&format!("c-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]));
    let sdk = easel_resizer::aws::sdk_config(Some(&endpoint), "eu-west-1").await;
    easel_ops::provision::apply_local(&sdk, &StackSpec::local("eu-west-1", buckets.clone())).await.unwrap();
    let doctor = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_easel-ops"))
            .arg("doctor")
            .args(args)
            .env("DATABASE_URL", &url)
            .env("EASEL_AWS_ENDPOINT", &endpoint)
            .env("EASEL_AWS_REGION", "eu-west-1")
            .env("EASEL_ORIGINALS_BUCKET", buckets.originals.as_str())
            .env("EASEL_RESIZED_BUCKET", buckets.resized.as_str())
            .env("EASEL_BACKUP_BUCKET", buckets.backup.as_str())
            .env("USER", "ci-runner")
            .output()
            .unwrap()
    };
    let out = doctor(&[]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    let s3 = easel_resizer::aws::s3_client(&sdk, true);
    s3.delete_bucket_encryption().bucket(&buckets.resized).send().await.unwrap();
    let out = doctor(&[]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("FAIL  resized.encryption"), "{stdout}");
    assert!(stdout.contains("evidence: no default encryption configured"), "{stdout}");
    assert!(stderr.contains("1 check(s) fail: resized.encryption"), "{stderr}");

    let out = doctor(&["--fix"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("fix resized.encryption: applied"), "{stdout}");
    assert!(stdout.contains("+ default encryption: AES256"), "{stdout}");
    assert!(doctor(&[]).status.success());

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, subject FROM audit_events WHERE action = 'support.doctor_fix_applied'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows, vec![("cargo ops (ci-runner)".to_string(), format!("bucket:{}", buckets.resized))]);
}
