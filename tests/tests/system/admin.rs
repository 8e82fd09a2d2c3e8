use easel_app::auth::Role;
use easel_tests::eventually;

use crate::helpers::{csrf_in, reply, spawn_app, spawn_app_with};

const GET_ROUTES: &[&str] = &[
    "/admin",
    "/admin/audit",
    "/admin/users",
    "/admin/password",
    "/admin/audit/export.csv",
    "/admin/audit/export.jsonl",
];

#[tokio::test]
async fn every_admin_route_refuses_the_anonymous() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4();
    for path in GET_ROUTES {
        let r = app.get(path).await;
        assert_eq!(r.status, 303, "GET {path}");
        assert!(r.location.as_deref().unwrap().starts_with("/admin/login?next="), "GET {path}: {:?}", r.location);
        assert!(r.body.is_empty(), "GET {path} leaked a body");
    }
    let disable = format!("/admin/users/{id}/disable");
    let reset = format!("/admin/users/{id}/reset");
    for path in ["/admin/logout", "/admin/users", "/admin/password", disable.as_str(), reset.as_str()] {
        let r = reply(
            app.http
                .post(format!("{}{path}", app.base))
                .form(&[("csrf", "x"), ("email", "a@b.org")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/login")), "POST {path}");
    }
    assert_eq!(easel_app::auth::users::count(&app.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn support_staff_are_refused_what_only_admins_may_do() {
    let app = spawn_app().await;
    let support = app.signed_in(Role::Support).await;
    assert_eq!(support.get(&app, "/admin").await.status, 200);
    assert_eq!(support.get(&app, "/admin/audit").await.status, 200);
    let r = support.get(&app, "/admin/users").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Only admins"), "{}", r.body);
    let r = support
        .post(&app, "/admin/users", &[("csrf", &support.csrf), ("email", "new@example.org"), ("role", "admin")])
        .await;
    assert_eq!(r.status, 403);
    let (victim, _) = app.create_staff(Role::Support).await;
    let victim_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(&victim).fetch_one(&app.pool).await.unwrap();
    let r = support.post(&app, &format!("/admin/users/{victim_id}/disable"), &[("csrf", &support.csrf)]).await;
    assert_eq!(r.status, 403);
    let created: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'new@example.org'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(created, 0);
    let disabled: bool = sqlx::query_scalar("SELECT disabled_at IS NOT NULL FROM users WHERE id = $1")
        .bind(victim_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!disabled);
}

#[tokio::test]
async fn forged_or_missing_csrf_tokens_are_refused() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    for form in [
        vec![("email", "x1@example.org"), ("role", "support")],
        vec![("csrf", "forged"), ("email", "x1@example.org"), ("role", "support")],
    ] {
        let r = admin.post(&app, "/admin/users", &form).await;
        assert_eq!(r.status, 403, "{form:?}");
        assert!(r.body.contains("out of date"), "{}", r.body);
    }
    // Another session's token is as good as forged.
    let other = app.signed_in(Role::Admin).await;
    let r = admin
        .post(&app, "/admin/users", &[("csrf", &other.csrf), ("email", "x1@example.org"), ("role", "support")])
        .await;
    assert_eq!(r.status, 403);
    let r = admin.post(&app, "/admin/logout", &[]).await;
    assert_eq!(r.status, 403, "sign-out needs the token too");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'x1@example.org'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // With the right token it works, and shows the one-time password once.
    let r = admin
        .post(&app, "/admin/users", &[("csrf", &admin.csrf), ("email", "x1@example.org"), ("role", "support")])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains("One-time password"));

    // The sign-in form's double-submit token: a post without the cookie fails.
    let (email, otp) = app.create_staff(Role::Support).await;
    let page = app.get("/admin/login").await;
    let token = csrf_in(&page.body).unwrap();
    let r = reply(
        app.http
            .post(format!("{}/admin/login", app.base))
            .form(&[("email", email.as_str()), ("password", otp.as_str()), ("csrf", token.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "a sign-in form posted from elsewhere");
}

#[tokio::test]
async fn stolen_looking_sessions_are_refused() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;

    // Signed out: the old cookie is worthless.
    let leaver = app.signed_in(Role::Support).await;
    let stolen = leaver.session_token(&app);
    assert_eq!(leaver.post(&app, "/admin/logout", &[("csrf", &leaver.csrf)]).await.status, 303);
    assert_eq!(with_cookie(&app, &stolen, "/admin").await, 303);

    // Idle too long: refused and removed.
    let idle = app.signed_in(Role::Support).await;
    let cookie = idle.session_token(&app);
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '31 minutes'").execute(&app.pool).await.unwrap();
    assert_eq!(with_cookie(&app, &cookie, "/admin").await, 303);
    // (Every session was aged, the admin's too; sign the admin in again.)
    let admin_http = app.browser();
    assert_eq!(app.sign_in_with(&admin_http, &admin.email, &admin.password).await.status, 303);
    let admin_csrf =
        csrf_in(&reply(admin_http.get(format!("{}/admin/users", app.base)).send().await.unwrap()).await.body).unwrap();

    // A disabled account: its live session ends and it cannot sign in again.
    let victim = app.signed_in(Role::Support).await;
    let victim_cookie = victim.session_token(&app);
    assert_eq!(with_cookie(&app, &victim_cookie, "/admin").await, 200);
    let victim_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&victim.email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = reply(
        admin_http
            .post(format!("{}/admin/users/{victim_id}/disable", app.base))
            .form(&[("csrf", admin_csrf.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(with_cookie(&app, &victim_cookie, "/admin").await, 303);
    let again = app.sign_in_with(&app.browser(), &victim.email, &victim.password).await;
    assert_eq!(again.status, 403);
    assert!(again.body.contains("disabled"), "{}", again.body);

    // Absolute lifetime: even an active session ends.
    let old = app.signed_in(Role::Support).await;
    let cookie = old.session_token(&app);
    sqlx::query("UPDATE sessions SET created_at = now() - interval '13 hours'").execute(&app.pool).await.unwrap();
    assert_eq!(with_cookie(&app, &cookie, "/admin").await, 303);
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_before_anything_else() {
    let app = spawn_app().await;
    let (email, otp) = app.create_staff(Role::Admin).await;
    let http = app.browser();
    let r = app.sign_in_with(&http, &email, &otp).await;
    assert_eq!(r.location.as_deref(), Some("/admin/password"));
    let r = reply(http.get(format!("{}/admin/audit", app.base)).send().await.unwrap()).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/password")));
    let page = reply(http.get(format!("{}/admin/password", app.base)).send().await.unwrap()).await;
    assert!(page.body.contains("one-time password"));
    let csrf = csrf_in(&page.body).unwrap();
    for (current, new, confirm, why) in [
        ("wrong-old-password", "a fine new password", "a fine new password", "current password is not right"),
        (otp.as_str(), "short", "short", "at least 12"),
        (otp.as_str(), "a fine new password", "a different one!!", "differ"),
    ] {
        let r = reply(
            http.post(format!("{}/admin/password", app.base))
                .form(&[("csrf", csrf.as_str()), ("current", current), ("new", new), ("confirm", confirm)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 422, "{why}");
        assert!(r.body.contains(why), "{why}: {}", r.body);
    }
    let r = reply(
        http.post(format!("{}/admin/password", app.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current", otp.as_str()),
                ("new", "a fine new password"),
                ("confirm", "a fine new password"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(reply(http.get(format!("{}/admin/audit", app.base)).send().await.unwrap()).await.status, 200);
    // The one-time password no longer works.
    assert_eq!(app.sign_in_with(&app.browser(), &email, &otp).await.status, 401);
}

#[tokio::test]
async fn sign_in_throttling_kicks_in_and_recovers_after_the_window() {
    let app = spawn_app_with(&[("EASEL_LOGIN_THROTTLE_SECONDS", "3"), ("EASEL_LOGIN_MAX_FAILURES", "3")]).await;
    let (email, otp) = app.create_staff(Role::Support).await;
    let http = app.browser();
    for _ in 0..3 {
        let r = app.sign_in_with(&http, &email, "not the password").await;
        assert_eq!(r.status, 401);
        assert!(r.body.contains("not right"));
    }
    // Now even the right password is refused, with a clear message.
    let r = app.sign_in_with(&http, &email, &otp).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many failed sign-ins"), "{}", r.body);
    // The block lasts the 3 s window: a real expiry, waited for on the
    // clock the console judges it by (Postgres's), not guessed at.
    eventually(std::time::Duration::from_secs(10), || async {
        sqlx::query_scalar::<_, bool>("SELECT NOT EXISTS (SELECT 1 FROM login_throttle WHERE blocked_until > now())")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    })
    .await;
    let r = app.sign_in_with(&http, &email, &otp).await;
    assert_eq!(r.status, 303, "after the window: {}", r.body);
}

#[tokio::test]
async fn admins_create_reset_and_disable_accounts() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let r = admin
        .post(
            &app,
            "/admin/users",
            &[("csrf", &admin.csrf), ("email", "  New.Person@Example.org "), ("role", "support")],
        )
        .await;
    assert_eq!(r.status, 201);
    let otp = r.body.split(r#"class="secret">"#).nth(1).unwrap().split('<').next().unwrap().to_owned();
    let page = admin.get(&app, "/admin/users").await;
    assert!(page.body.contains("new.person@example.org"));
    let r = admin
        .post(&app, "/admin/users", &[("csrf", &admin.csrf), ("email", "new.person@example.org"), ("role", "support")])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("already exists"));
    let r = admin
        .post(&app, "/admin/users", &[("csrf", &admin.csrf), ("email", "not-an-address"), ("role", "support")])
        .await;
    assert_eq!(r.status, 400);

    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'new.person@example.org'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = admin.post(&app, &format!("/admin/users/{id}/reset"), &[("csrf", &admin.csrf)]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        app.sign_in_with(&app.browser(), "new.person@example.org", &otp).await.status,
        401,
        "the old one-time password is void"
    );
    let my_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&admin.email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = admin.post(&app, &format!("/admin/users/{my_id}/disable"), &[("csrf", &admin.csrf)]).await;
    assert_eq!(r.status, 400, "an admin cannot lock themselves out");

    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_events WHERE actor = $1 ORDER BY id")
        .bind(&admin.email)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for wanted in ["auth.signed_in", "user.password_changed", "user.created", "user.password_reset"] {
        assert!(actions.iter().any(|a| a == wanted), "{wanted} missing from {actions:?}");
    }
}

async fn with_cookie(app: &crate::helpers::TestApp, cookie: &str, path: &str) -> u16 {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .header("cookie", format!("easel_session={cookie}"))
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// Behind a trusted balancer the audit trail and the throttle see the client
/// named in `X-Forwarded-For`; from any other peer the header is ignored, or
/// an attacker could pick the address their failures are counted against.
#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_trusted_proxies() {
    for (trusted, expected) in [("127.0.0.0/8", "203.0.113.7"), ("", "127.0.0.1"), ("10.0.0.0/8", "127.0.0.1")] {
        let app = spawn_app_with(&[("EASEL_TRUSTED_PROXIES", trusted)]).await;
        let (email, _) = app.create_staff(Role::Support).await;
        let mut headers = reqwest::header::HeaderMap::new();
        // A forged entry first, then the one the balancer appended.
        headers.insert("x-forwarded-for", "198.51.100.1, 203.0.113.7".parse().unwrap());
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        assert_eq!(app.sign_in_with(&http, &email, "not the password").await.status, 401);
        let counted: String = sqlx::query_scalar("SELECT key FROM login_throttle WHERE scope = 'address'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        app.flush_sign_in_failures().await;
        let (audited, counted): (String, String) = sqlx::query_as(
            "SELECT (SELECT client_addr FROM audit_events WHERE action = 'auth.sign_in_failed' ORDER BY id DESC LIMIT 1),
                    $1",
        )
        .bind(counted)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!((audited.as_str(), counted.as_str()), (expected, expected), "trusted proxies {trusted:?}");
    }
}
