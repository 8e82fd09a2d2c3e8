//! The decommissioning SOP end to end: mail read from the real SMTP sink
//! (maildev), links followed as a stakeholder would, the archive opened and
//! checked, the buckets listed afterwards.

use std::{io::Read, time::Duration};

use easel_app::auth::Role;
use easel_tests::eventually;
use sha2::{Digest, Sha256};

use crate::helpers::{Reply, Staff, TestApp, image_bytes, reply, spawn_app_with, spawn_app_with_faults};

/// A console whose archives go to a private temporary folder.
async fn spawn() -> TestApp {
    let dir = std::env::temp_dir().join(format!("easel-archives-{}", uuid::Uuid::new_v4().simple()));
    spawn_app_with(&[("EASEL_ARCHIVE_DIR", dir.to_str().unwrap())]).await
}

fn inbox_url() -> String {
    std::env::var("EASEL_MAIL_INBOX_URL")
        .expect("EASEL_MAIL_INBOX_URL is not set: run these tests through `cargo ops test`")
}

/// Every message in the sink (shared by all tests: filter by recipient).
async fn all_mail() -> Vec<serde_json::Value> {
    let http = reqwest::Client::new();
    for path in ["/email", "/api/email"] {
        if let Ok(res) = http.get(format!("{}{path}", inbox_url())).send().await
            && res.status().is_success()
            && let Ok(serde_json::Value::Array(list)) = res.json::<serde_json::Value>().await
        {
            return list;
        }
    }
    panic!("the mail sink at {} did not list its messages", inbox_url());
}

fn sent_to(m: &serde_json::Value, email: &str) -> bool {
    m["to"].as_array().is_some_and(|to| to.iter().any(|t| t["address"].as_str() == Some(email)))
}

/// The messages to `email` whose subject contains `subject`, waiting for
/// at least `count` of them.
async fn mail_to(email: &str, subject: &str, count: usize) -> Vec<serde_json::Value> {
    let found = eventually(Duration::from_secs(10), || async {
        let found: Vec<_> = all_mail()
            .await
            .into_iter()
            .filter(|m| sent_to(m, email) && m["subject"].as_str().is_some_and(|s| s.contains(subject)))
            .collect();
        (found.len() >= count).then_some(found)
    })
    .await;
    found.unwrap_or_else(|| panic!("no mail “{subject}” reached {email}"))
}

/// The link in the newest mail to `email` about `subject`, as a path.
async fn link_for(app: &TestApp, email: &str, subject: &str, count: usize) -> String {
    let mails = mail_to(email, subject, count).await;
    let text = mails.last().unwrap()["text"].as_str().expect("a text body").to_owned();
    let at = text.find(&format!("{}/decommission/", app.base)).expect("the mail carries a link to this console");
    let link: String = text[at..].chars().take_while(|c| !c.is_whitespace()).collect();
    link.strip_prefix(&app.base).unwrap().to_owned()
}

struct People {
    rep: String,
    boss: String,
    user: String,
}

fn people() -> People {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
    People {
        rep: format!("rep-{tag}@client.example"),
        boss: format!("boss-{tag}@client.example"),
        user: format!("user-{tag}@client.example"),
    }
}

async fn open_request(app: &TestApp, admin: &Staff, p: &People) -> Reply {
    let list =
        format!("Rita Rep, {}, representative\nBo Boss, {}, management\nUma User, {}, user\n", p.rep, p.boss, p.user);
    let pdf = b"%PDF-1.4\n% the reason document\n".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("csrf", admin.csrf.clone())
        .text("stakeholders", list)
        .text("point_of_contact", "Levin Dsouza, support@easel.example")
        .text("reason", "The product is replaced by a newer one.")
        .part(
            "reason_pdf",
            reqwest::multipart::Part::bytes(pdf).file_name("reason.pdf").mime_str("application/pdf").unwrap(),
        );
    reply(admin.http.post(format!("{}/admin/decommission", app.base)).multipart(form).send().await.unwrap()).await
}

async fn step(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT step FROM decommissions WHERE step <> 'halted'").fetch_one(&app.pool).await.unwrap()
}

async fn decommission_id(app: &TestApp) -> uuid::Uuid {
    sqlx::query_scalar("SELECT id FROM decommissions ORDER BY opened_at DESC LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn post_link(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Reply {
    reply(app.http.post(format!("{}{path}", app.base)).form(form).send().await.unwrap()).await
}

async fn approve(app: &TestApp, path: &str) -> Reply {
    post_link(app, path, &[("decision", "approve"), ("comment", "Fine by me.")]).await
}

/// Whether `bucket` has any event notification. Read raw: the emulator answers
/// an empty configuration with a root element the SDK does not parse.
async fn has_notifications(bucket: &str) -> bool {
    let endpoint = std::env::var("EASEL_AWS_ENDPOINT").unwrap();
    let url = format!("{}/{bucket}?notification", endpoint.trim_end_matches('/'));
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    ["QueueConfiguration", "CloudFunctionConfiguration", "TopicConfiguration"].iter().any(|c| body.contains(c))
}

async fn stakeholder_id(app: &TestApp, email: &str) -> uuid::Uuid {
    sqlx::query_scalar("SELECT id FROM stakeholders WHERE email = $1").bind(email).fetch_one(&app.pool).await.unwrap()
}

/// How many audit rows record `action`.
async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// How many sessions of this test's database wait for a lock now
/// (`pg_stat_activity` covers the whole cluster, where other tests run too).
async fn sessions_waiting_for_a_lock(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// The keys of every version and delete marker still in `bucket`.
async fn versions_left(app: &TestApp, bucket: &str) -> Vec<String> {
    let out = app.s3.list_object_versions().bucket(bucket).send().await.unwrap();
    let versions = out.versions().iter().filter_map(|v| v.key());
    versions.chain(out.delete_markers().iter().filter_map(|m| m.key())).map(str::to_owned).collect()
}

#[tokio::test]
async fn the_whole_procedure_runs_from_request_to_closed() {
    let app = spawn().await;
    let art = app.upload_ok("sunset.png", image_bytes(640, 400, image::ImageFormat::Png)).await;
    app.wait_until_ready(art).await;
    let admin = app.signed_in(Role::Admin).await;
    let support = app.signed_in(Role::Support).await;
    let p = people();

    // 1. Request.
    let r = open_request(&app, &admin, &p).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = decommission_id(&app).await;
    let page = admin.get(&app, "/admin").await;
    assert!(page.body.contains("Decommissioning under way"), "the banner shows on every admin page");

    // Destruction is refused before anything else happened.
    let r = admin.post(&app, &format!("/admin/decommission/{id}/destroy"), &[("csrf", &admin.csrf)]).await;
    assert_eq!(r.status, 409, "{}", r.body);

    // 2. Every stakeholder approves through their mailed link.
    for who in [&p.rep, &p.boss, &p.user] {
        let link = link_for(&app, who, "approval is requested", 1).await;
        let confirm = app.get(&link).await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        assert!(confirm.body.contains("Approve"));
        let pdf = app.get(&format!("{link}/reason.pdf")).await;
        assert_eq!(pdf.status, 200, "the stakeholder can read the reason document");
        assert!(pdf.body.starts_with("%PDF-"));
        let r = approve(&app, &link).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(step(&app).await, "plan");

    // 3. Plan, approved by the representative.
    let plan = [
        ("csrf", admin.csrf.as_str()),
        ("steps", "Archive, hand over, destroy."),
        ("timeline", "One week."),
        ("resources", "One admin."),
        ("contingency", "Restore from the archive."),
    ];
    let r = admin.post(&app, &format!("/admin/decommission/{id}/plan"), &plan).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let link = link_for(&app, &p.rep, "approve the plan", 1).await;
    assert!(app.get(&link).await.body.contains("One week."));
    assert_eq!(approve(&app, &link).await.status, 200);
    assert_eq!(step(&app).await, "archive");

    // Uploads are frozen from the archive step on.
    let form = app.get("/").await;
    assert!(form.body.contains("Uploads are paused") && !form.body.contains("upload-form"), "{}", form.body);
    let refused = app.upload(Some(("late.png", image_bytes(64, 64, image::ImageFormat::Png)))).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(app.artwork_count().await, 1);
    // So are the console's own changes to the archived data.
    let r = admin.post(&app, "/admin/uploads/resize", &[("csrf", &admin.csrf)]).await;
    assert_eq!(r.status, 403, "re-making renditions while archiving: {}", r.body);
    let r = admin.post(&app, "/admin/backups/restore", &[("csrf", &admin.csrf)]).await;
    assert_eq!(r.status, 403, "restoring a backup while archiving: {}", r.body);

    // 4. The archive: built, verified, handed over. The backup bucket also
    // holds an object bigger than the archive's copy chunks and progress
    // step, and one whose key would climb out of a naive unzip's folder.
    let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let big_sha = hex::encode(Sha256::digest(&big));
    let bucket = &app.buckets.backup;
    app.s3.put_object().bucket(bucket).key("decommission-test/big.bin").body(big.into()).send().await.unwrap();
    let evil = "..\\..\\evil.txt";
    app.s3.put_object().bucket(bucket).key(evil).body(b"evil".to_vec().into()).send().await.unwrap();
    let r = admin.post(&app, &format!("/admin/decommission/{id}/archive"), &[("csrf", &admin.csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    eventually(Duration::from_secs(30), || async { step(&app).await == "handover" }).await;
    let progress: String =
        sqlx::query_scalar("SELECT archive_state || ': ' || archive_progress FROM decommissions WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(step(&app).await, "handover", "the archive was not built within 30 s: {progress}");
    let r = admin.post(&app, &format!("/admin/decommission/{id}/destroy"), &[("csrf", &admin.csrf)]).await;
    assert_eq!(r.status, 409, "destruction before the receipt must be refused: {}", r.body);
    assert_eq!(app.keys(&app.buckets.originals).await.len(), 1);

    let link = link_for(&app, &p.rep, "archive is ready", 1).await;
    let confirm = app.get(&link).await;
    assert!(confirm.body.contains("Download the archive"));
    let zip_bytes = app.http.get(format!("{}{link}/archive", app.base)).send().await.unwrap().bytes().await.unwrap();
    let archive_sha = hex::encode(Sha256::digest(&zip_bytes));
    let (stored_sha, head): (String, String) =
        sqlx::query_as("SELECT archive_sha256, audit_head FROM decommissions WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(archive_sha, stored_sha);
    check_archive(&app, &zip_bytes, &head, art).await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes.to_vec())).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains('\\') && n.split('/').all(|s| s != ".." && !s.is_empty())), "{names:?}");
    assert!(names.contains(&"buckets/backup/..%5C..%5Cevil.txt".to_string()), "{names:?}");
    let mut streamed = Vec::new();
    zip.by_name("buckets/backup/decommission-test/big.bin").unwrap().read_to_end(&mut streamed).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&streamed)), big_sha, "a large object arrives whole");

    let r = post_link(&app, &link, &[("decision", "receipt"), ("full_name", "Rita Rep")]).await;
    assert_eq!(r.status, 400, "a receipt without consent is refused: {}", r.body);
    let r = post_link(&app, &link, &[("decision", "receipt"), ("full_name", "Rita Rep"), ("consent", "yes")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (name, receipt_sha, consent, by, addr): (String, String, String, String, String) = sqlx::query_as(
        "SELECT receipt_name, receipt_sha256, receipt_consent, receipt_by, receipt_addr FROM decommissions WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((name.as_str(), receipt_sha.as_str()), ("Rita Rep", archive_sha.as_str()));
    assert!(consent.contains(&archive_sha) && consent.contains("consent to the destruction"), "{consent}");
    assert_eq!(by, p.rep);
    assert!(!addr.is_empty());
    // Signed once: the receipt link is spent, and the archive is no longer offered.
    let again = post_link(&app, &link, &[("decision", "receipt"), ("full_name", "Eve"), ("consent", "yes")]).await;
    assert_eq!(again.status, 410, "{}", again.body);
    assert_eq!(app.get(&format!("{link}/archive")).await.status, 410);

    // 5. Destroy and remove.
    assert!(has_notifications(&app.buckets.originals).await, "provisioning set the resizer's trigger");
    // As if an earlier run stopped half-way: one object and the policy of
    // the originals bucket already gone. And a delete marker in the
    // versioned backup bucket, which must go too.
    let key = app.keys(&app.buckets.originals).await.remove(0);
    app.s3.delete_object().bucket(&app.buckets.originals).key(&key).send().await.unwrap();
    app.s3.delete_bucket_policy().bucket(&app.buckets.originals).send().await.unwrap();
    let marker = "decommission-test/removed.txt";
    app.s3.put_object().bucket(&app.buckets.backup).key(marker).body(b"x".to_vec().into()).send().await.unwrap();
    app.s3.delete_object().bucket(&app.buckets.backup).key(marker).send().await.unwrap();
    let markers = app.s3.list_object_versions().bucket(&app.buckets.backup).send().await.unwrap();
    assert!(!markers.delete_markers().is_empty(), "the backup bucket keeps a delete marker");
    // Two admins click at once while the row is held, as by a destruction
    // under way: both wait and nothing starts. Once it is free, one destroys
    // holding it throughout; the other waits for that, and is told it is done.
    let url = format!("/admin/decommission/{id}/destroy");
    let csrf = [("csrf", admin.csrf.as_str())];
    let mut held = app.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM decommissions WHERE id = $1 FOR UPDATE").bind(id).execute(&mut *held).await.unwrap();
    let (a, b, ()) = tokio::join!(admin.post(&app, &url, &csrf), admin.post(&app, &url, &csrf), async {
        let both_wait = eventually(Duration::from_secs(10), || async { sessions_waiting_for_a_lock(&app).await >= 2 });
        assert!(both_wait.await, "both clicks wait for the decommission's row");
        assert_eq!(audited(&app, "decommission.destroy_started").await, 0, "nothing starts while the row is held");
        held.rollback().await.unwrap();
    });
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "{} / {}", a.body, b.body);
    assert_eq!(audited(&app, "decommission.destroyed").await, 1);
    assert_eq!(audited(&app, "decommission.destroy_started").await, 1, "the refused click started nothing");
    let archive_file: String = sqlx::query_scalar("SELECT archive_file FROM decommissions WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!std::path::Path::new(&archive_file).exists(), "the console's copy of the archive is destroyed too");
    for bucket in [&app.buckets.originals, &app.buckets.resized] {
        assert_eq!(versions_left(&app, bucket).await, Vec::<String>::new(), "{bucket} is not empty");
    }
    // What stays in the backup bucket is the audit trail's signed
    // checkpoints, the steps of the procedure among them, and nothing else.
    let left = versions_left(&app, &app.buckets.backup).await;
    assert!(!left.is_empty(), "the checkpoints are kept");
    assert!(left.iter().all(|k| k.starts_with(easel_app::audit::checkpoint::PREFIX)), "{left:?}");
    for bucket in [&app.buckets.originals, &app.buckets.resized, &app.buckets.backup] {
        assert!(app.s3.get_bucket_policy().bucket(bucket).send().await.is_err(), "{bucket} still has a policy");
        assert!(!has_notifications(bucket).await, "{bucket} still sends events");
    }
    // Nothing Easel configured is left: the resizer's function, its queue, its log group.
    let support_clients = app.support().await;
    let spec = support_clients.spec().await.unwrap();
    let function = support_clients.lambda.get_function().function_name(&spec.resizer.function_name).send().await;
    assert!(function.is_err(), "the function {} is gone", spec.resizer.function_name);
    let queue = support_clients.sqs.get_queue_url().queue_name(spec.event_queue_name()).send().await;
    assert!(queue.is_err(), "the queue {} is gone", spec.event_queue_name());
    let groups =
        support_clients.logs.describe_log_groups().log_group_name_prefix(spec.log_group()).send().await.unwrap();
    assert!(groups.log_groups().is_empty(), "the log group {} is gone", spec.log_group());
    let disabled: bool = sqlx::query_scalar("SELECT disabled_at IS NOT NULL FROM users WHERE email = $1")
        .bind(&support.email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(disabled, "support accounts are disabled");
    let r = admin
        .post(&app, "/admin/users", &[("csrf", &admin.csrf), ("email", "new@x.example"), ("role", "support")])
        .await;
    assert_eq!(r.status, 403, "the console is read-only: {}", r.body);
    assert!(app.get("/").await.body.contains("Easel is closed"));
    for page in ["/gallery".to_string(), format!("/uploaded/{art}")] {
        let r = app.get(&page).await;
        assert!(r.body.contains("Easel is closed"), "{page} shows the closure notice, not broken images: {}", r.body);
    }

    // 6. Completion mail to everyone; 7. review.
    // Two clicks at once still mail each stakeholder once (counted below).
    let url = format!("/admin/decommission/{id}/notify");
    let (a, b) = tokio::join!(admin.post(&app, &url, &csrf), admin.post(&app, &url, &csrf));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "{} / {}", a.body, b.body);
    for who in [&p.rep, &p.boss, &p.user] {
        mail_to(who, "has been decommissioned", 1).await;
    }
    let r = admin
        .post(&app, &format!("/admin/decommission/{id}/review"), &[("csrf", &admin.csrf), ("review", "Went well.")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(step(&app).await, "closed");
    every_write_path_refuses(&app, &admin, art).await;

    // Every step is in the audit trail, and the chain is intact.
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_events WHERE subject = $1 ORDER BY id")
        .bind(format!("decommission:{id}"))
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for a in [
        "decommission.opened",
        "decommission.mail_sent",
        "decommission.approved",
        "decommission.plan_submitted",
        "decommission.plan_approved",
        "decommission.archive_started",
        "decommission.archive_built",
        "decommission.receipt_signed",
        "decommission.destroy_started",
        "decommission.destroyed",
        "decommission.completion_notified",
        "decommission.closed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
    let mails: i64 = sqlx::query_scalar("SELECT count(*) FROM outbound_mail WHERE decommission_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(mails, 3 + 1 + 1 + 3, "approval, plan, archive and completion mail are recorded");
    let verdict = easel_app::audit::verify(&app.pool).await.unwrap();
    assert!(matches!(verdict, easel_app::audit::ChainVerdict::Intact { .. }), "{verdict:?}");
}

/// The manifest lists every file with its hash, the audit export ends in the
/// manifest's head, and that head is a row of the live chain.
async fn check_archive(app: &TestApp, zip_bytes: &[u8], head: &str, art: easel_resizer::keys::ArtworkId) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut buf = Vec::new();
        zip.by_name(name).unwrap_or_else(|_| panic!("{name} is in the archive")).read_to_end(&mut buf).unwrap();
        buf
    };
    let manifest: serde_json::Value = serde_json::from_slice(&read("manifest.json")).unwrap();
    assert_eq!(manifest["audit_chain_head"].as_str(), Some(head));
    let files = manifest["files"].as_array().unwrap();
    for f in files {
        let bytes = read(f["path"].as_str().unwrap());
        assert_eq!(hex::encode(Sha256::digest(&bytes)), f["sha256"].as_str().unwrap(), "{}", f["path"]);
    }
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.iter().any(|p| p.starts_with(&format!("buckets/originals/artwork/{art}"))), "{paths:?}");
    assert!(paths.iter().any(|p| p.starts_with("buckets/resized/")), "{paths:?}");
    assert!(paths.iter().any(|p| p.starts_with("buckets/backup/")), "{paths:?}");
    assert!(paths.contains(&"decommission/reason.pdf"));
    let audit = String::from_utf8(read("database/audit_events.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["hash"].as_str(), Some(head));
    let in_chain: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM audit_events WHERE hash = $1)")
        .bind(hex::decode(head).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(in_chain);
    let users = String::from_utf8(read("database/users.jsonl")).unwrap();
    assert!(!users.contains("argon2"), "password hashes stay out of the archive");
    // Complete by construction: the newest upload and rendition it holds,
    // every rendition of every upload, and the resizer's logs.
    assert_eq!(manifest["last_upload"]["id"].as_str(), Some(art.to_string().as_str()), "{manifest}");
    let newest = manifest["last_rendition"]["key"].as_str().unwrap_or_default();
    assert!(newest.contains(&art.to_string()), "{manifest}");
    assert_eq!(manifest["not_rendered"], serde_json::json!([]));
    let keys: Vec<String> = sqlx::query_scalar("SELECT original_key FROM artworks").fetch_all(&app.pool).await.unwrap();
    for key in keys {
        let m = easel_resizer::keys::manifest_key(&key);
        assert!(paths.contains(&format!("buckets/resized/{m}").as_str()), "{m} is archived: {paths:?}");
    }
    let logs = String::from_utf8(read("logs/resizer.jsonl")).unwrap();
    assert!(manifest["resizer_log_events"].as_u64().unwrap_or(0) > 0, "{manifest}");
    assert!(logs.lines().count() as u64 == manifest["resizer_log_events"].as_u64().unwrap());
    assert!(logs.contains(&art.to_string()), "the resizer's log of the upload is archived");
    standalone_verifier_checks(zip_bytes);
}

/// The archive's own verifier (Python, no Easel), as the client would run
/// it: a real archive passes; altered ones do not, each for its reason.
fn standalone_verifier_checks(zip_bytes: &[u8]) {
    let dir = std::env::temp_dir().join(format!("easel-verify-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut buf = Vec::new();
        zip.by_name(name).unwrap_or_else(|_| panic!("{name} is in the archive")).read_to_end(&mut buf).unwrap();
        buf
    };
    let script = dir.join("verify_audit.py");
    std::fs::write(&script, read("audit/verify_audit.py")).unwrap();
    let audit = String::from_utf8(read("database/audit_events.jsonl")).unwrap();
    let run = |bytes: &[u8]| {
        let path = dir.join(format!("{}.zip", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, bytes).unwrap();
        let out = std::process::Command::new("python3").arg(&script).arg(&path).output().expect("running python3");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };

    let (code, said) = run(zip_bytes);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("VERIFIED: the archive and its audit trail check out"), "{said}");
    let signed: usize = said
        .lines()
        .find_map(|l| l.strip_prefix("checkpoints: ")?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(signed >= 1, "the procedure's steps were checkpointed: {said}");

    // One event's actor changed, the manifest left alone: the file is altered.
    let tampered = audit.replacen("\"actor\":\"", "\"actor\":\"x", 1);
    let (code, said) = run(&rewritten(zip_bytes, &[("database/audit_events.jsonl", tampered.clone())], false));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("altered file: database/audit_events.jsonl"), "{said}");
    // The same with the manifest made to match: the chain names the event.
    let (code, said) = run(&rewritten(zip_bytes, &[("database/audit_events.jsonl", tampered)], true));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("its contents do not match its hash (altered)"), "{said}");
    // Another key in place of Easel's: every checkpoint is forged.
    let other = easel_app::audit::checkpoint::AuditKey::generate();
    let key = format!("{}\n", hex::encode(other.public().to_bytes()));
    let (code, said) = run(&rewritten(zip_bytes, &[("audit/public-key.txt", key)], true));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("forged checkpoint: audit/checkpoints/"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The archive with some files replaced; with `fix_manifest`, the
/// manifest's hashes and sizes made to match them.
fn rewritten(zip_bytes: &[u8], changes: &[(&str, String)], fix_manifest: bool) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes.to_vec())).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut manifest: serde_json::Value = {
        let mut buf = Vec::new();
        zip.by_name("manifest.json").unwrap().read_to_end(&mut buf).unwrap();
        serde_json::from_slice(&buf).unwrap()
    };
    if fix_manifest {
        for f in manifest["files"].as_array_mut().unwrap() {
            if let Some((_, text)) = changes.iter().find(|(n, _)| Some(*n) == f["path"].as_str()) {
                f["sha256"] = hex::encode(Sha256::digest(text.as_bytes())).into();
                f["bytes"] = text.len().into();
            }
        }
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf).unwrap();
        let bytes = match changes.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => text.clone().into_bytes(),
            None if name == "manifest.json" => serde_json::to_vec_pretty(&manifest).unwrap(),
            None => buf,
        };
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_rejection_halts_the_request_with_its_reason() {
    let app = spawn().await;
    let admin = app.signed_in(Role::Admin).await;
    let p = people();
    assert_eq!(open_request(&app, &admin, &p).await.status, 303);
    let id = decommission_id(&app).await;

    let boss = link_for(&app, &p.boss, "approval is requested", 1).await;
    let r = post_link(&app, &boss, &[("decision", "reject"), ("comment", "")]).await;
    assert_eq!(r.status, 400, "a rejection needs its reason: {}", r.body);
    let r = post_link(&app, &boss, &[("decision", "reject"), ("comment", "We still need it.")]).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let (s, reason): (String, String) = sqlx::query_as("SELECT step, halted_reason FROM decommissions WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(s, "halted");
    assert!(reason.contains("We still need it."), "{reason}");
    let rep = link_for(&app, &p.rep, "approval is requested", 1).await;
    assert_eq!(approve(&app, &rep).await.status, 410, "the other links end with the request");
    let page = admin.get(&app, "/admin/decommission").await;
    assert!(page.body.contains("We still need it."), "the halted request shows its reason");
    assert!(!page.body.contains("Decommissioning under way"));
    assert_eq!(audited(&app, "decommission.rejected").await, 1);
    // A new request may follow a halted one.
    assert_eq!(open_request(&app, &admin, &people()).await.status, 303);
}

#[tokio::test]
async fn links_refuse_reuse_expiry_tampering_and_replacement_and_get_changes_nothing() {
    let app = spawn().await;
    let admin = app.signed_in(Role::Admin).await;
    let p = people();
    assert_eq!(open_request(&app, &admin, &p).await.status, 303);
    let id = decommission_id(&app).await;
    let unused = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM approval_tokens WHERE used_at IS NULL AND ended_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };

    // A mail scanner's pre-fetch: GET twice, nothing changes.
    let rep = link_for(&app, &p.rep, "approval is requested", 1).await;
    let audit_rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events").fetch_one(&app.pool).await.unwrap()
    };
    let before = (unused().await, audit_rows().await);
    for _ in 0..2 {
        assert_eq!(app.get(&rep).await.status, 200);
    }
    assert_eq!((unused().await, audit_rows().await), before, "GET changed something");
    let res = app.http.get(format!("{}{rep}", app.base)).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store", "a page reached by a credential is never cached");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    // A POST that is not the page's form: a plain refusal, nothing decided.
    let r = reply(app.http.post(format!("{}{rep}", app.base)).body("decision=approve").send().await.unwrap()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!((unused().await, audit_rows().await), before, "a malformed POST changed something");
    let decided: i64 =
        sqlx::query_scalar("SELECT count(*) FROM stakeholder_decisions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(decided, 0);

    // Used once, then refused.
    assert_eq!(approve(&app, &rep).await.status, 200);
    let again = approve(&app, &rep).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("already been used"), "{}", again.body);
    assert!(app.get(&rep).await.body.contains("already been used"));

    // Tampered or forged: refused, nothing changes.
    let boss = link_for(&app, &p.boss, "approval is requested", 1).await;
    let last = boss.chars().last().unwrap();
    let tampered = format!("{}{}", &boss[..boss.len() - 1], if last == '0' { '1' } else { '0' });
    for bad in [tampered.as_str(), "/decommission/not-a-token", &format!("{boss}0")] {
        let r = approve(&app, bad).await;
        assert!(r.status == 404, "{bad}: {}", r.status);
        assert!(r.body.contains("not valid") || r.status == 404);
    }
    // A decision link cannot download anything.
    assert_eq!(app.get(&format!("{boss}/archive")).await.status, 404);

    // Expired.
    let hash = Sha256::digest(boss.rsplit('/').next().unwrap().as_bytes()).to_vec();
    sqlx::query("UPDATE approval_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = $1")
        .bind(&hash)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = approve(&app, &boss).await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("expired"), "{}", r.body);

    // Resent: the old link ends, the new one works.
    let user_old = link_for(&app, &p.user, "approval is requested", 1).await;
    let sid = stakeholder_id(&app, &p.user).await;
    let r = admin
        .post(&app, &format!("/admin/decommission/{id}/stakeholders/{sid}/resend"), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let user_new = link_for(&app, &p.user, "approval is requested", 2).await;
    assert_ne!(user_old, user_new);
    let r = approve(&app, &user_old).await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("replaced"), "{}", r.body);
    assert_eq!(approve(&app, &user_new).await.status, 200);
    // The representative already decided: there is nothing to resend them,
    // and the page offers nothing.
    let rep_id = stakeholder_id(&app, &p.rep).await;
    let page = admin.get(&app, "/admin/decommission").await;
    assert!(!page.body.contains(&format!("stakeholders/{rep_id}/resend")), "{}", page.body);
    assert!(page.body.contains(&format!("stakeholders/{}/resend", stakeholder_id(&app, &p.boss).await)));
    let r = admin
        .post(&app, &format!("/admin/decommission/{id}/stakeholders/{rep_id}/resend"), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(step(&app).await, "approval", "the boss's expired link left one approval missing");
    assert_eq!(audited(&app, "decommission.link_resent").await, 1);
}

#[tokio::test]
async fn one_link_posted_twice_at_once_decides_once() {
    let app = spawn().await;
    let admin = app.signed_in(Role::Admin).await;
    let p = people();
    assert_eq!(open_request(&app, &admin, &p).await.status, 303);
    let boss = link_for(&app, &p.boss, "approval is requested", 1).await;
    let (a, b, c) = tokio::join!(approve(&app, &boss), approve(&app, &boss), async {
        post_link(&app, &boss, &[("decision", "reject"), ("comment", "No.")]).await
    });
    let mut statuses = [a.status, b.status, c.status];
    statuses.sort();
    assert_eq!(statuses, [200, 410, 410], "exactly one decision: {} / {} / {}", a.body, b.body, c.body);
    let decided: i64 =
        sqlx::query_scalar("SELECT count(*) FROM stakeholder_decisions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(decided, 1);
    let decisions = audited(&app, "decommission.approved").await + audited(&app, "decommission.rejected").await;
    assert_eq!(decisions, 1, "one decision in the audit trail");
}

#[tokio::test]
async fn stakeholder_names_cannot_forge_mail_headers() {
    let app = spawn().await;
    let admin = app.signed_in(Role::Admin).await;
    let list = "Rita\rBcc: eve@evil.example, rita@client.example, representative\n";
    let form = reqwest::multipart::Form::new()
        .text("csrf", admin.csrf.clone())
        .text("stakeholders", list)
        .text("point_of_contact", "Levin Dsouza")
        .text("reason", "Replaced.");
    let r =
        reply(admin.http.post(format!("{}/admin/decommission", app.base)).multipart(form).send().await.unwrap()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let opened: i64 = sqlx::query_scalar("SELECT count(*) FROM decommissions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(opened, 0);
}

#[tokio::test]
async fn the_reason_document_must_really_be_a_pdf() {
    let app = spawn().await;
    let admin = app.signed_in(Role::Admin).await;
    let p = people();
    let list = format!("Rita Rep, {}, representative\n", p.rep);
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("csrf", admin.csrf.clone())
        .text("stakeholders", list)
        .text("point_of_contact", "Levin Dsouza")
        .text("reason", "Replaced.")
        .part(
            "reason_pdf",
            reqwest::multipart::Part::bytes(html).file_name("reason.pdf").mime_str("application/pdf").unwrap(),
        );
    let r =
        reply(admin.http.post(format!("{}/admin/decommission", app.base)).multipart(form).send().await.unwrap()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("must be a PDF"), "{}", r.body);

    // A real one is served as a download that no browser renders or sniffs.
    assert_eq!(open_request(&app, &admin, &p).await.status, 303);
    let id = decommission_id(&app).await;
    let res = admin.http.get(format!("{}/admin/decommission/{id}/reason.pdf", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["content-type"], "application/pdf");
    assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(h["x-content-type-options"], "nosniff");
}

/// Mail goes through the outbox: with SMTP down the request still opens,
/// its links wait as failing messages the page shows (and offers to send
/// again), and once SMTP is back each stakeholder gets their link once: a
/// message another console's sender holds, only once that sender's lease ends.
#[tokio::test]
async fn smtp_down_while_a_request_opens_queues_the_links_and_delivers_each_once() {
    let dir = std::env::temp_dir().join(format!("easel-archives-{}", uuid::Uuid::new_v4().simple()));
    let (app, faults) = spawn_app_with_faults(&[
        ("EASEL_ARCHIVE_DIR", dir.to_str().unwrap()),
        ("EASEL_SMTP_TIMEOUT_MS", "500"),
        ("EASEL_MAIL_RETRY_SECONDS", "1"),
    ])
    .await;
    let admin = app.signed_in(Role::Admin).await;
    let p = people();
    faults.smtp.pause();
    let opened = open_request(&app, &admin, &p).await;
    assert_eq!(opened.status, 303, "the request opens with SMTP down: {}", opened.body);

    // Each link's first attempt fails; the page says so.
    let failing = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbound_mail WHERE status = 'failing'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    eventually(Duration::from_secs(15), || async { failing().await == 3 }).await;
    assert_eq!(failing().await, 3, "three links are failing while SMTP is down");
    let page = admin.get(&app, "/admin/decommission").await;
    assert_eq!(page.body.matches("failing: ").count(), 6, "each link's state, in both tables: {}", page.body);
    assert!(page.body.contains("Send again now"), "{}", page.body);
    for email in [&p.rep, &p.boss, &p.user] {
        assert!(all_mail().await.iter().all(|m| !sent_to(m, email)), "{email} got mail while SMTP was down");
    }

    // An admin may send one again at once.
    let one: i64 = sqlx::query_scalar("SELECT id FROM outbound_mail WHERE to_addr = $1")
        .bind(&p.rep)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let id = decommission_id(&app).await;
    let again =
        admin.post(&app, &format!("/admin/decommission/{id}/mail/{one}/send-again"), &[("csrf", &admin.csrf)]).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(audited(&app, "decommission.mail_requeued").await, 1);

    // Another console's sender holds the first message in line (its lease
    // is live), which is due now: this console's sender must leave it alone
    // while it sends the others, and send it once the lease ends.
    let (held, held_to): (i64, String) =
        sqlx::query_as("SELECT id, to_addr FROM outbound_mail ORDER BY id LIMIT 1").fetch_one(&app.pool).await.unwrap();
    let leased = eventually(Duration::from_secs(10), || async {
        // Not while this console's sender holds it itself.
        sqlx::query(
            "UPDATE outbound_mail SET lease_until = now() + interval '1 hour', next_attempt_at = now()
             WHERE id = $1 AND (lease_until IS NULL OR lease_until < now())",
        )
        .bind(held)
        .execute(&app.pool)
        .await
        .unwrap()
        .rows_affected()
            == 1
    })
    .await;
    assert!(leased, "the other sender's lease is set");
    faults.smtp.resume();
    for email in [&p.rep, &p.boss, &p.user].into_iter().filter(|e| **e != held_to) {
        mail_to(email, "", 1).await;
    }
    assert!(all_mail().await.iter().all(|m| !sent_to(m, &held_to)), "a message another sender holds was sent");
    sqlx::query("UPDATE outbound_mail SET lease_until = NULL WHERE id = $1")
        .bind(held)
        .execute(&app.pool)
        .await
        .unwrap();
    mail_to(&held_to, "", 1).await;
    // SMTP takes a message a moment before the sender records it as sent.
    let unsent = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbound_mail WHERE status <> 'sent'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    eventually(Duration::from_secs(10), || async { unsent().await == 0 }).await;
    assert_eq!(unsent().await, 0, "every link is recorded as sent");
    for email in [&p.rep, &p.boss, &p.user] {
        let got = all_mail().await.into_iter().filter(|m| sent_to(m, email)).count();
        assert_eq!(got, 1, "{email} got {got} messages");
    }
    assert_eq!(audited(&app, "decommission.mail_sent").await, 3);
    let page = admin.get(&app, "/admin/decommission").await;
    assert!(page.body.matches("sent ").count() >= 3, "{}", page.body);
}

/// What a closed Easel holds: rows, accounts, restores, and every object
/// version and setting in its buckets (the audit checkpoints aside: they
/// are written on, as the trail is).
async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["artworks", "users WHERE disabled_at IS NULL", "restore_runs", "audit_events"] {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&app.pool)
            .await
            .unwrap();
        out.push(format!("{table}: {n}"));
    }
    for bucket in [&app.buckets.originals, &app.buckets.resized, &app.buckets.backup] {
        let mut keys = versions_left(app, bucket).await;
        keys.retain(|k| !k.starts_with(easel_app::audit::checkpoint::PREFIX));
        out.push(format!("{bucket}: {keys:?}"));
        out.push(format!("{bucket} policy: {}", app.s3.get_bucket_policy().bucket(bucket).send().await.is_ok()));
        out.push(format!("{bucket} notifications: {}", has_notifications(bucket).await));
    }
    out
}

/// After a full decommission, every way to change something refuses: the
/// console's routes, the operations behind them as `cargo ops` and the
/// background tasks call them, `cargo ops up`'s provisioning, and `cargo
/// ops` itself; and nothing changed.
async fn every_write_path_refuses(app: &TestApp, admin: &Staff, art: easel_resizer::keys::ArtworkId) {
    use easel_app::{
        audit::Actor,
        auth::{Email, Role, accounts},
        gate::Refused,
        support::{backups, doctor, stuck},
    };
    let before = snapshot(app).await;
    let user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email <> $1 LIMIT 1")
        .bind(&admin.email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let art_s = art.to_string();
    let routes: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/admin/uploads/resize".into(), vec![("ids", art_s.as_str())]),
        (format!("/admin/uploads/{art}/resize"), vec![]),
        ("/admin/backups/restore".into(), vec![]),
        ("/admin/doctor/fix/originals.notifications".into(), vec![]),
        ("/admin/users".into(), vec![("email", "late@x.example"), ("role", "support")]),
        (format!("/admin/users/{user}/disable"), vec![]),
        (format!("/admin/users/{user}/reset"), vec![]),
    ];
    for (path, form) in routes {
        let mut form = form;
        form.push(("csrf", &admin.csrf));
        let r = admin.post(app, &path, &form).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert!(r.body.contains("decommissioned"), "{path}: {}", r.body);
    }

    // The operations themselves, as their other callers reach them.
    let support = app.support().await;
    let operator = Actor::Operator { name: "test".into() };
    let fix = doctor::Fix::parse("originals.notifications").unwrap();
    assert!(matches!(
        doctor::apply(&app.pool, &support, fix).await,
        Err(doctor::DoctorError::Refused(Refused::Decommissioned))
    ));
    let email = Email::parse("late@x.example").unwrap();
    assert!(matches!(
        accounts::create(&app.pool, &email, Role::Admin, &operator, easel_app::audit::Origin::Local).await,
        Err(accounts::AccountError::Refused(Refused::Decommissioned))
    ));
    assert!(matches!(
        backups::start(&app.pool, &[], &operator, easel_app::audit::Origin::Local).await,
        Err(backups::ClaimError::Refused(Refused::Decommissioned))
    ));
    assert!(matches!(
        stuck::resize_again(&app.pool, &support, &[art], &operator, easel_app::audit::Origin::Local).await,
        Err(stuck::ResizeError::Refused(Refused::Decommissioned))
    ));
    let swept = easel_app::artworks::orphans::sweep(&app.pool, &app.s3, &app.buckets, Duration::ZERO).await.unwrap();
    assert!(swept.is_empty(), "{swept:?}");
    // `cargo ops up` starts a console on it, provisioning nothing.
    let console = easel_ops::stack::console::start(&app.settings).await.unwrap();
    assert_eq!(console.provisioned.as_ref().err(), Some(&Refused::Decommissioned));
    console.stop().await;

    // `cargo ops` itself, pointed at this stack.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_easel-ops-cli"))
            .args(args)
            .env("DATABASE_URL", app.settings.database_url.expose())
            .env("EASEL_ORIGINALS_BUCKET", app.buckets.originals.as_str())
            .env("EASEL_RESIZED_BUCKET", app.buckets.resized.as_str())
            .env("EASEL_BACKUP_BUCKET", app.buckets.backup.as_str())
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    for args in [&["doctor", "--fix"][..], &["create-admin", "later@x.example"][..]] {
        let (ok, _, err) = cli(args);
        assert!(!ok, "cargo ops {args:?} succeeded");
        assert!(err.contains("decommissioned"), "cargo ops {args:?}: {err}");
    }
    // The doctor expects the destroyed state, and offers no fix.
    let (_, out, err) = cli(&["doctor"]);
    assert!(out.contains("originals.trigger") && out.contains("decommissioned: as intended"), "{out}{err}");
    assert!(!out.contains("fix:"), "{out}");
    let page = admin.get(app, "/admin/doctor").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("decommissioned: as intended"), "{}", page.body);
    assert_eq!(snapshot(app).await, before, "nothing changed");
}

/// The archive waits for the resizer: an upload accepted before the freeze
/// whose renditions are not there yet is waited for, and one the resizer
/// never renders is named once the wait is over.
#[tokio::test]
async fn the_archive_waits_for_the_resizer_and_names_what_it_never_rendered() {
    use easel_app::decommission::archive::wait_for_renditions;
    let app = spawn().await;
    let art = app.upload_ok("late.png", image_bytes(320, 200, image::ImageFormat::Png)).await;
    app.wait_until_ready(art).await;
    let key: String = sqlx::query_scalar("SELECT original_key FROM artworks WHERE id = $1")
        .bind(art.as_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // As if the resizer had not finished: no manifest, the row not ready.
    let manifest = easel_resizer::keys::manifest_key(&key);
    let (_, saved) = app.object(&app.buckets.resized, &manifest).await;
    let unrender = || async {
        app.s3.delete_object().bucket(&app.buckets.resized).key(&manifest).send().await.unwrap();
        sqlx::query("UPDATE artworks SET resized_at = NULL, renditions = NULL WHERE id = $1")
            .bind(art.as_uuid())
            .execute(&app.pool)
            .await
            .unwrap();
    };
    unrender().await;

    let quiet = |_: String| async {};
    let (pool, s3, resized) = (app.pool.clone(), app.s3.clone(), app.buckets.resized.clone());
    let started = std::time::Instant::now();
    let waiting = tokio::spawn(async move {
        wait_for_renditions(&pool, &s3, &resized, Duration::from_secs(30), |_: String| async {}).await
    });
    // Time passing is what is tested here (it keeps waiting, at least this
    // long), so a fixed sleep, not a wait for something to happen.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "it waits while the manifest is missing");
    app.s3.put_object().bucket(&app.buckets.resized).key(&manifest).body(saved.into()).send().await.unwrap();
    let missing = waiting.await.unwrap().unwrap();
    assert_eq!(missing, Vec::<String>::new());
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // Gone again, for good (the reconciler, not frozen here, had marked the row ready).
    unrender().await;
    let missing =
        wait_for_renditions(&app.pool, &app.s3, &app.buckets.resized, Duration::from_secs(2), quiet).await.unwrap();
    assert_eq!(missing, vec![key], "named once the wait is over");
}

/// The local resizer asks the gate too: once Easel is decommissioned it
/// stops, so an original that reaches the bucket behind Easel's back stays
/// unrendered, its event left in the queue.
#[tokio::test]
async fn the_local_resizer_stops_once_easel_is_decommissioned() {
    use aws_sdk_sqs::types::QueueAttributeName;
    let app = spawn().await;
    sqlx::query("UPDATE upload_gate SET frozen_at = now(), closed = true").execute(&app.pool).await.unwrap();
    // The invoker asks between its one-second polls: one it is in may still
    // take a message; the next ask stops it.
    let stopped = eventually(Duration::from_secs(10), || async { app.resizer_stopped() }).await;
    assert!(stopped, "the local resizer stops once Easel is decommissioned");
    let support = app.support().await;
    let queue = support.spec().await.unwrap().event_queue_name();
    let url = support.sqs.get_queue_url().queue_name(&queue).send().await.unwrap().queue_url().unwrap().to_owned();
    let waiting = || async {
        let attrs = support
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        let n = attrs.attributes().and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages).cloned());
        n.and_then(|n| n.parse::<u32>().ok()).unwrap_or(0)
    };
    let key = easel_resizer::keys::original_key(
        easel_resizer::keys::ArtworkId::new(),
        easel_resizer::image::ImageFormat::Png,
    );
    app.put_original(&key, image_bytes(64, 64, image::ImageFormat::Png)).await;
    assert!(eventually(Duration::from_secs(10), || async { waiting().await >= 1 }).await, "S3 queued the event");
    // The invoker, the queue's only reader, has stopped: no wait can change what follows.
    assert!(waiting().await >= 1, "the event is still queued");
    let manifest = easel_resizer::keys::manifest_key(&key);
    assert!(!app.keys(&app.buckets.resized).await.contains(&manifest), "nothing was rendered");
}

#[tokio::test]
async fn stakeholder_mail_has_a_text_and_an_html_part_with_the_same_working_link() {
    let app = spawn().await;
    let admin = app.signed_in(Role::Admin).await;
    let p = people();
    assert_eq!(open_request(&app, &admin, &p).await.status, 303);
    let mail = mail_to(&p.boss, "approval is requested", 1).await.pop().unwrap();
    // The message as it went over SMTP (the sink's parsed headers omit its type).
    let id = mail["id"].as_str().expect("the sink names each message");
    let mut source = String::new();
    for path in ["/api/email", "/email"] {
        let res = reqwest::get(format!("{}{path}/{id}/source", inbox_url())).await.unwrap();
        if res.status().is_success() {
            source = res.text().await.unwrap();
            break;
        }
    }
    assert!(source.contains("Content-Type: multipart/alternative"), "{source}");
    assert!(source.contains("Content-Type: text/plain") && source.contains("Content-Type: text/html"), "{source}");
    let (text, html) = (mail["text"].as_str().expect("a text part"), mail["html"].as_str().expect("an HTML part"));
    let link = link_for(&app, &p.boss, "approval is requested", 1).await;
    let url = format!("{}{link}", app.base);
    assert!(text.contains(&url), "{text}");
    // The HTML says the same words, with the link as a button.
    assert!(html.contains(&format!("<a href=\"{url}\"")), "{html}");
    for words in ["we request your approval to decommission Easel.", "Approve or reject, with a comment, here:"] {
        assert!(text.contains(words) && html.contains(words), "{words}");
    }
    // Nothing loads from elsewhere: no images, no stylesheets, no tracking.
    for remote in ["<img", "<link", "src=", "url("] {
        assert!(!html.contains(remote), "{remote}: {html}");
    }
    // The button's link works, and opening it still decides nothing.
    let unused = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM approval_tokens WHERE used_at IS NULL AND ended_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = unused().await;
    let page = app.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Approve"), "{}", page.body);
    assert_eq!(unused().await, before, "opening the link used it");
    assert_eq!(approve(&app, &link).await.status, 200);
    assert_eq!(unused().await, before - 1, "the link's form decides once");
}
