//! The bucket doctor against the emulator: each check broken on purpose,
//! failed by the doctor, repaired by its fix, passed by the next run.

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, NotificationConfiguration};
use easel_app::auth::Role;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// The opening tag of the element the doctor page shows a check in.
fn check_tag<'a>(body: &'a str, id: &str) -> Option<&'a str> {
    let at = body.find(&format!(r#"id="{id}""#))?;
    let start = body[..at].rfind('<')?;
    let end = at + body[at..].find('>')?;
    Some(&body[start..end])
}

/// The result (`pass`/`warn`/`fail`) the doctor page shows for a check.
pub fn check_status(body: &str, id: &str) -> Option<String> {
    let tag = check_tag(body, id)?;
    let class = tag.split(r#"class=""#).nth(1)?.split('"').next()?;
    class.strip_prefix("check ").map(str::to_owned)
}

/// Whether the check's evidence and remedy are shown unfolded.
fn is_open(body: &str, id: &str) -> bool {
    check_tag(body, id).is_some_and(|tag| tag.split_whitespace().any(|a| a == "open" || a.starts_with("open=")))
}

/// The ids of the checks that fail, with their evidence, for messages.
pub fn failing(body: &str) -> Vec<String> {
    body.split("<details ")
        .filter(|row| row.split('>').next().is_some_and(|tag| tag.contains("check fail")))
        .map(|row| row.split("</details>").next().unwrap_or_default().to_owned())
        .collect()
}

/// The checks in the order the page lists them.
fn listed(body: &str) -> Vec<String> {
    body.split("<details ")
        .skip(1)
        .filter_map(|row| row.split(r#"id=""#).nth(1)?.split('"').next().map(str::to_owned))
        .collect()
}

fn role_arn() -> String {
    "arn:aws:iam::123456789012:role/easel-resizer-role".into()
}

/// One way to break the stack, and the check that must catch it.
struct Breakage {
    name: &'static str,
    check: &'static str,
    fix: &'static str,
    evidence: &'static str,
}

const BREAKAGES: &[Breakage] = &[
    Breakage { name: "wrong region", check: "backup.location", fix: "backup.location", evidence: "is in us-west-2" },
    Breakage {
        name: "policy missing PutObject",
        check: "resized.resizer-access",
        fix: "resized.policy",
        evidence: "s3:PutObject on arn:aws:s3:::",
    },
    Breakage {
        name: "grant by wildcard",
        check: "backup.least-privilege",
        fix: "backup.policy",
        evidence: "also grants the resizer s3:DeleteObject",
    },
    Breakage {
        name: "encryption off",
        check: "resized.encryption",
        fix: "resized.encryption",
        evidence: "no default encryption",
    },
    Breakage {
        name: "notification removed",
        check: "originals.trigger",
        fix: "originals.notifications",
        evidence: "no notification configuration",
    },
];

async fn break_it(app: &TestApp, b: &Breakage) {
    let s3 = &app.s3;
    match b.name {
        "wrong region" => {
            // The console's audit checkpoints are in it, and it is
            // versioned: every version must go before the bucket can.
            let listed = s3.list_object_versions().bucket(&app.buckets.backup).send().await.unwrap();
            for v in listed.versions() {
                s3.delete_object()
                    .bucket(&app.buckets.backup)
                    .key(v.key().unwrap())
                    .set_version_id(v.version_id().map(str::to_owned))
                    .send()
                    .await
                    .unwrap();
            }
            s3.delete_bucket().bucket(&app.buckets.backup).send().await.unwrap();
            let sdk =
                easel_resizer::aws::sdk_config(Some(&std::env::var("EASEL_AWS_ENDPOINT").unwrap()), "us-west-2").await;
            easel_resizer::aws::s3_client(&sdk, true)
                .create_bucket()
                .bucket(&app.buckets.backup)
                .create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from("us-west-2"))
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        "policy missing PutObject" => {
            let name = &app.buckets.resized;
            let policy = json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "ResizerObjectAccess", "Effect": "Allow", "Principal": {"AWS": role_arn()},
                "Action": ["s3:GetObject"], "Resource": format!("arn:aws:s3:::{name}/*")
            }]});
            s3.put_bucket_policy().bucket(name).policy(policy.to_string()).send().await.unwrap();
        }
        "grant by wildcard" => {
            let name = &app.buckets.backup;
            let policy = json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "ResizerObjectAccess", "Effect": "Allow", "Principal": {"AWS": role_arn()},
                "Action": "s3:*", "Resource": format!("arn:aws:s3:::{name}/*")
            }]});
            s3.put_bucket_policy().bucket(name).policy(policy.to_string()).send().await.unwrap();
        }
        "encryption off" => {
            s3.delete_bucket_encryption().bucket(&app.buckets.resized).send().await.unwrap();
        }
        "notification removed" => {
            s3.put_bucket_notification_configuration()
                .bucket(&app.buckets.originals)
                .notification_configuration(NotificationConfiguration::builder().build())
                .send()
                .await
                .unwrap();
        }
        other => unreachable!("{other}"),
    }
}

#[tokio::test]
async fn a_freshly_provisioned_stack_passes_and_support_sees_no_fix_button() {
    let app = spawn_app().await;
    let support = app.signed_in(Role::Support).await;
    let r = support.get(&app, "/admin/doctor").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("All 24 checks pass"), "{:#?}", failing(&r.body));
    assert_eq!(check_status(&r.body, "originals.resizer-access").as_deref(), Some("pass"));
    // Locally the spec leaves the TLS-only Deny out: a warning, with the reason.
    assert_eq!(check_status(&r.body, "resized.tls-only").as_deref(), Some("warn"));
    assert!(!r.body.contains("Review the fix"));
}

#[tokio::test]
async fn each_broken_check_fails_its_fix_repairs_it_and_the_next_run_passes() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let support = app.signed_in(Role::Support).await;
    for b in BREAKAGES {
        break_it(&app, b).await;

        let r = support.get(&app, "/admin/doctor").await;
        assert_eq!(r.status, 200);
        assert_eq!(check_status(&r.body, b.check).as_deref(), Some("fail"), "{}: {:#?}", b.name, failing(&r.body));
        assert!(r.body.contains(b.evidence), "{}: evidence {:?} missing: {}", b.name, b.evidence, r.body);
        // Listed first, among the failures, with its evidence unfolded.
        let order = listed(&r.body);
        let fails = failing(&r.body).len();
        assert!(order[..fails].contains(&b.check.to_string()), "{}: {order:?}", b.name);
        assert_eq!(check_status(&r.body, &order[0]).as_deref(), Some("fail"), "{}: {order:?}", b.name);
        assert!(is_open(&r.body, b.check), "{}: {:?}", b.name, check_tag(&r.body, b.check));
        assert!(!is_open(&r.body, "originals.resizer-access"), "a passing check stays folded");
        assert!(r.body.contains("An admin can apply the recommended fix"), "{}", b.name);
        // Support staff may look but not fix.
        let path = format!("/admin/doctor/fix/{}", b.fix);
        assert_eq!(support.get(&app, &path).await.status, 403, "{}", b.name);
        assert_eq!(support.post(&app, &path, &[("csrf", &support.csrf)]).await.status, 403, "{}", b.name);
        assert_eq!(check_status(&support.get(&app, "/admin/doctor").await.body, b.check).as_deref(), Some("fail"));

        // The admin sees the diff first, then applies it.
        let page = admin.get(&app, "/admin/doctor").await;
        assert!(page.body.contains(&format!(r#"href="{path}""#)), "{}: {}", b.name, page.body);
        let diff = admin.get(&app, &path).await;
        assert_eq!(diff.status, 200, "{}: {}", b.name, diff.body);
        assert!(diff.body.contains("<ins>") && diff.body.contains("Apply this fix"), "{}: {}", b.name, diff.body);
        let r = admin.post(&app, &path, &[("csrf", &admin.csrf)]).await;
        assert_eq!(r.status, 303, "{}: {}", b.name, r.body);
        assert_eq!(r.location.as_deref(), Some(format!("/admin/doctor?fixed={}", b.fix).as_str()));

        let r = admin.get(&app, "/admin/doctor").await;
        assert_eq!(check_status(&r.body, b.check).as_deref(), Some("pass"), "{}: {}", b.name, r.body);
        assert!(r.body.contains("All 24 checks pass"), "{}: {:#?}", b.name, failing(&r.body));
        // Applying it again changes nothing and records nothing.
        let r = admin.post(&app, &path, &[("csrf", &admin.csrf)]).await;
        assert_eq!(r.location.as_deref(), Some(format!("/admin/doctor?unchanged={}", b.fix).as_str()), "{}", b.name);
    }
    let fixes: Vec<(String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT actor, subject, details FROM audit_events WHERE action = 'support.doctor_fix_applied' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(fixes.len(), BREAKAGES.len(), "{fixes:?}");
    assert!(fixes.iter().all(|(actor, _, _)| *actor == admin.email));
    assert_eq!(fixes[3].1, format!("bucket:{}", app.buckets.resized));
    assert_eq!(fixes[3].2["fix"], "resized.encryption");

    // After all that, uploads still go through: the stack really works again.
    let id = app.upload_ok("after.png", crate::helpers::image_bytes(64, 48, image::ImageFormat::Png)).await;
    app.wait_until_ready(id).await;
}

#[tokio::test]
async fn only_fixes_a_failing_check_offers_are_applied_and_forged_forms_change_nothing() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    // The spec leaves versioning off on resized: no check offers turning it on.
    let path = "/admin/doctor/fix/resized.versioning";
    assert_eq!(admin.get(&app, path).await.status, 404);
    assert_eq!(admin.post(&app, path, &[("csrf", &admin.csrf)]).await.status, 404);
    let v = app.s3.get_bucket_versioning().bucket(&app.buckets.resized).send().await;
    assert!(v.map(|o| o.status().is_none()).unwrap_or(true), "versioning was turned on");

    // A forged form does not apply a fix that is offered.
    app.s3.delete_bucket_encryption().bucket(&app.buckets.resized).send().await.unwrap();
    let r = admin.post(&app, "/admin/doctor/fix/resized.encryption", &[("csrf", "forged")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("Form expired"), "{}", r.body);
    let r = admin.get(&app, "/admin/doctor").await;
    assert_eq!(check_status(&r.body, "resized.encryption").as_deref(), Some("fail"));
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'support.doctor_fix_applied'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audited, 0);
}

#[tokio::test]
async fn the_support_pages_refuse_the_anonymous() {
    let app = spawn_app().await;
    for path in ["/admin/doctor", "/admin/doctor/fix/backup.policy", "/admin/uploads", "/admin/logs", "/admin/backups"]
    {
        let r = app.get(path).await;
        assert_eq!(r.status, 303, "GET {path}");
        assert!(r.location.as_deref().unwrap().starts_with("/admin/login?next="), "GET {path}");
    }
    let id = uuid::Uuid::new_v4();
    for path in [
        "/admin/doctor/fix/backup.policy".to_string(),
        "/admin/uploads/resize".into(),
        format!("/admin/uploads/{id}/resize"),
        "/admin/backups/restore".into(),
        format!("/admin/backups/restore/{id}/resume"),
    ] {
        let r = crate::helpers::reply(
            app.http.post(format!("{}{path}", app.base)).form(&[("csrf", "x")]).send().await.unwrap(),
        )
        .await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/login")), "POST {path}");
    }
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action LIKE 'support.%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 0);
}
