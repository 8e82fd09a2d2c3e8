//! A browser against a private console, for the benchmarks that time pages
//! (`signin`, `audit`), and the latency figures they print.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, bail};
use easel_app::auth::{Email, Role, accounts};
use reqwest::cookie::Jar;
use sqlx::PgPool;

use crate::stack::env_file;

/// One answer, read whole.
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

pub async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Reply { status, location, body: res.text().await.unwrap_or_default() }
}

/// The value of the first `csrf` hidden field in a page.
pub fn csrf_in(body: &str) -> Option<String> {
    let at = body.find(r#"name="csrf""#)?;
    let v = body[at..].split(r#"value=""#).nth(1)?;
    Some(v.split('"').next()?.to_owned())
}

/// A browser: its own cookie jar, redirects not followed.
pub fn browser() -> anyhow::Result<(reqwest::Client, Arc<Jar>)> {
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()?;
    Ok((http, jar))
}

/// Signs in as a browser does: the form (for its CSRF token), then the POST.
pub async fn sign_in(http: &reqwest::Client, base: &str, email: &str, password: &str) -> anyhow::Result<Reply> {
    let form = reply(http.get(format!("{base}/admin/login")).send().await?).await;
    let csrf = csrf_in(&form.body).with_context(|| format!("no CSRF field on the sign-in form ({})", form.status))?;
    let res = http
        .post(format!("{base}/admin/login"))
        .form(&[("email", email), ("password", password), ("csrf", csrf.as_str()), ("next", "/admin")])
        .send()
        .await?;
    Ok(reply(res).await)
}

/// A new admin, signed in once in `browser` with the one-time password
/// and then its own: the session a person has after their first sign-in.
pub struct NewAdmin {
    pub email: String,
    pub password: &'static str,
    pub browser: reqwest::Client,
    pub jar: Arc<Jar>,
    pub csrf: String,
}

pub async fn new_admin(pool: &PgPool, base: &str) -> anyhow::Result<NewAdmin> {
    let email = format!("admin-{}@easel.test", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (_, otp) = accounts::create(
        pool,
        &Email::parse(&email)?,
        Role::Admin,
        &env_file::operator(),
        easel_app::audit::Origin::Local,
    )
    .await?;
    let (browser, jar) = browser()?;
    let r = sign_in(&browser, base, &email, &otp).await?;
    if (r.status, r.location.as_deref()) != (303, Some("/admin/password")) {
        bail!("the admin's first sign-in answered {} {:?}: {}", r.status, r.location, r.body);
    }
    let page = reply(browser.get(format!("{base}/admin/password")).send().await?).await;
    let csrf = csrf_in(&page.body).context("no CSRF field on the password form")?;
    let password = "a long and well-chosen admin password";
    let r = reply(
        browser
            .post(format!("{base}/admin/password"))
            .form(&[("csrf", csrf.as_str()), ("current", &otp), ("new", password), ("confirm", password)])
            .send()
            .await?,
    )
    .await;
    if r.status != 303 {
        bail!("changing the one-time password answered {}: {}", r.status, r.body);
    }
    Ok(NewAdmin { email, password, browser, jar, csrf })
}

/// Nearest-rank percentile (`p` in percent) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
