//! Sign-in under attack: limits an attacker cannot turn into a lockout of
//! the real user, counting that concurrent attempts cannot outrun, an
//! audit trail that records a flood as one row per window, bounded
//! fields, and sessions that end with the password.

use easel_app::auth::Role;
use easel_tests::eventually;

use crate::helpers::{Reply, TestApp, csrf_in, reply, spawn_app, spawn_app_with};

/// A client whose requests seem to come from `addr`, through a balancer
/// the console trusts.
fn from_address(addr: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", addr.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn failure_audit_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'auth.sign_in_failed'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Every attempt is counted before the password is checked, under a row
/// lock: of 40 wrong passwords sent at once, exactly the limit reach the
/// password check (401); the rest are refused unchecked (429).
#[tokio::test]
async fn concurrent_wrong_attempts_never_exceed_the_limit() {
    let app = spawn_app().await;
    let (email, _) = app.create_staff(Role::Support).await;
    let attempts = (0..40).map(|_| {
        let (app, email) = (&app, &email);
        async move { app.sign_in_with(&app.browser(), email, "wrong password").await.status }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((checked, refused), (5, 35), "{statuses:?}");
}

/// A flood of wrong passwords from many addresses locks the account for
/// unknown devices, but its owner's browser, which signed in before,
/// still signs in on the first try.
#[tokio::test]
async fn a_flood_from_elsewhere_does_not_stop_a_known_device() {
    let app = spawn_app_with(&[("EASEL_TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    let owner = app.signed_in(Role::Admin).await;
    let r = owner.post(&app, "/admin/logout", &[("csrf", &owner.csrf)]).await;
    assert_eq!(r.status, 303);
    for i in 0..30 {
        let attacker = from_address(&format!("198.51.100.{i}"));
        let r = app.sign_in_with(&attacker, &owner.email, "guess").await;
        assert!(matches!(r.status, 401 | 429), "{}", r.status);
    }
    // The account is shut to unknown devices, even with the right password.
    let stranger = from_address("203.0.113.50");
    assert_eq!(app.sign_in_with(&stranger, &owner.email, &owner.password).await.status, 429);
    // The owner's own browser is not.
    let r = app.sign_in_with(&owner.http, &owner.email, &owner.password).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin")), "{}", r.body);
    // And the owner's sign-in does not lift the block the flood earned.
    let another = from_address("203.0.113.51");
    assert_eq!(app.sign_in_with(&another, &owner.email, &owner.password).await.status, 429);
}

/// Refused attempts append no audit row each; when the window closes one
/// row per account, address and window carries the counts.
#[tokio::test]
async fn throttled_attempts_are_audited_as_one_row_with_their_count() {
    let app = spawn_app().await;
    let (email, _) = app.create_staff(Role::Support).await;
    let before = failure_audit_rows(&app).await;
    let http = app.browser();
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(app.sign_in_with(&http, &email, "wrong").await.status);
    }
    assert_eq!(statuses.iter().filter(|&&s| s == 401).count(), 5, "{statuses:?}");
    assert_eq!(failure_audit_rows(&app).await, before, "no audit row per request");
    // Refusals are tallied in the console's memory and written every
    // couple of seconds; wait for them before closing the windows.
    let (Ok(refused) | Err(refused)) = eventually(std::time::Duration::from_secs(20), || async {
        let refused: i64 = sqlx::query_scalar("SELECT coalesce(sum(refused), 0) FROM login_failure_windows")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if refused == 20 { Ok(refused) } else { Err(refused) }
    })
    .await;
    assert!(refused == 20, "refusals written: {refused} of 20");

    let appended = app.flush_sign_in_failures().await;
    // One window for the account's five checked failures, one for the
    // refusals from this address.
    assert_eq!(appended, 2);
    let rows: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT subject, details FROM audit_events WHERE action = 'auth.sign_in_failed' ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let failed = rows.iter().find(|(s, _)| s == &format!("user:{email}")).expect("the account's window");
    assert_eq!((failed.1["count"].as_i64(), failed.1["failed"].as_i64()), (Some(5), Some(5)), "{rows:?}");
    assert_eq!(failed.1["reasons"]["wrong password"].as_i64(), Some(5));
    let refused = rows.iter().find(|(s, _)| s == "user:*").expect("the refusals' window");
    assert_eq!(refused.1["throttled"].as_i64(), Some(20), "{rows:?}");
    // The windows are gone once audited, and the chain is intact.
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM login_failure_windows").fetch_one(&app.pool).await.unwrap();
    assert_eq!(left, 0);
    assert!(matches!(
        easel_app::audit::verify(&app.pool).await.unwrap(),
        easel_app::audit::ChainVerdict::Intact { .. }
    ));
}

/// Over-long fields (and control characters, which Postgres would refuse)
/// are refused with a 400 page before any hashing or database write.
#[tokio::test]
async fn over_long_fields_are_refused_before_hashing() {
    let app = spawn_app().await;
    let (email, _) = app.create_staff(Role::Support).await;
    let long_email = format!("{}@example.org", "a".repeat(4000));
    let long_password = "p".repeat(5000);
    for (e, p) in [(long_email.as_str(), "whatever"), (email.as_str(), long_password.as_str())] {
        let r = app.sign_in_with(&app.browser(), e, p).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("at most 254 characters"), "{}", r.body);
    }
    let r = app.sign_in_with(&app.browser(), "a\0b@example.org", "whatever").await;
    assert_eq!(r.status, 400, "{}", r.body);
    let written: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM login_throttle) + (SELECT count(*) FROM login_failure_windows)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(written, 0, "nothing is counted or stored for a refused form");
}

async fn page(http: &reqwest::Client, app: &TestApp, path: &str) -> Reply {
    reply(http.get(format!("{}{path}", app.base)).send().await.unwrap()).await
}

/// Changing one's password ends one's other sessions and keeps this one;
/// "sign out everywhere" ends them all.
#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_sign_out_everywhere_ends_all() {
    let app = spawn_app().await;
    let me = app.signed_in(Role::Support).await;
    let other = app.browser();
    assert_eq!(app.sign_in_with(&other, &me.email, &me.password).await.status, 303);
    assert_eq!(page(&other, &app, "/admin").await.status, 200);

    let r = me
        .post(
            &app,
            "/admin/password",
            &[
                ("csrf", &me.csrf),
                ("current", &me.password),
                ("new", "another fine password"),
                ("confirm", "another fine password"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(page(&me.http, &app, "/admin").await.status, 200, "this session stays");
    assert_eq!(page(&other, &app, "/admin").await.status, 303, "the other session ended");

    let third = app.browser();
    assert_eq!(app.sign_in_with(&third, &me.email, "another fine password").await.status, 303);
    let form = page(&me.http, &app, "/admin/password").await;
    assert!(form.body.contains("Sign out everywhere"));
    let csrf = csrf_in(&form.body).unwrap();
    let r = me.post(&app, "/admin/sign-out-everywhere", &[("csrf", &csrf)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/login")));
    for http in [&me.http, &third] {
        assert_eq!(page(http, &app, "/admin").await.status, 303);
    }
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(sessions, 0);
}
