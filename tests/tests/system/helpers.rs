//! The whole-system tests' own helpers: `TestApp`, a console of each
//! test's own on its own database and buckets, with a method per thing a
//! test does to it; signed-in staff; replies and images.

use std::{collections::HashMap, sync::Arc, time::Duration};

use aws_sdk_s3::Client as S3;
use easel_app::{
    audit::Actor,
    auth::{Email, Role, accounts},
    storage::BucketNames,
};
use easel_ops::stack::{console, console::RunningConsole, fault_proxy::FaultProxy};
use easel_resizer::keys::ArtworkId;
use easel_tests::{TestDatabase, eventually, stack_var};
use reqwest::cookie::{CookieStore, Jar};
use sqlx::PgPool;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub pool: PgPool,
    pub s3: S3,
    pub buckets: BucketNames,
    /// The console's settings, for building what it builds (e.g. `support()`).
    pub settings: easel_app::settings::Settings,
    /// The settings it was given on top of the environment, for a console
    /// process of the same stack (`console_process`).
    overrides: HashMap<&'static str, String>,
    console: Option<RunningConsole>,
    /// Last, so it is dropped after the console and the pool that use it.
    _database: TestDatabase,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A console with some settings changed (e.g. a short throttle window).
pub async fn spawn_app_with(extra: &[(&'static str, &str)]) -> TestApp {
    spawn(extra, None).await
}

/// The proxies a console under test reaches S3 (and every AWS service)
/// and Postgres through, to pause or slow them for it alone.
pub struct Faults {
    pub aws: FaultProxy,
    pub db: FaultProxy,
    pub smtp: FaultProxy,
}

/// A console that reaches the emulator, Postgres and SMTP through `Faults`; the
/// test's own pool and S3 client go direct, to see what really happened.
pub async fn spawn_app_with_faults(extra: &[(&'static str, &str)]) -> (TestApp, Faults) {
    let proxy = |var: &'static str| async move {
        FaultProxy::in_front_of(&stack_var(var)).await.unwrap_or_else(|e| panic!("a proxy for {var}: {e}")).0
    };
    let faults = Faults {
        aws: proxy("EASEL_AWS_ENDPOINT").await,
        db: proxy("EASEL_TEST_DATABASE_URL").await,
        smtp: proxy("EASEL_SMTP_URL").await,
    };
    (spawn(extra, Some(&faults)).await, faults)
}

async fn spawn(extra: &[(&'static str, &str)], faults: Option<&Faults>) -> TestApp {
    let endpoint = stack_var("EASEL_AWS_ENDPOINT");
    let database = TestDatabase::create("easel_test").await;
    // The test's own pool is the owner's (it plays the insider, and
    // checks what really happened); the console gets its own role.
    let console_url = database.url_on(&stack_var("EASEL_TEST_CONSOLE_DATABASE_URL"));
    let buckets = BucketNames::with_prefix(&format!("t-{}", &database.tag()[..12]));
    // What the console is given: the services, or the proxies before them.
    let smtp = stack_var("EASEL_SMTP_URL");
    let (console_db, console_endpoint, console_smtp) = match faults {
        None => (console_url, endpoint.clone(), smtp),
        Some(f) => (f.db.url_for(&console_url), f.aws.url_for(&endpoint), f.smtp.url_for(&smtp)),
    };
    let mut overrides = HashMap::from([
        ("DATABASE_URL", console_db),
        ("EASEL_AWS_ENDPOINT", console_endpoint),
        ("EASEL_SMTP_URL", console_smtp),
        ("EASEL_HTTP_ADDR", "127.0.0.1:0".to_string()),
        ("EASEL_ORIGINALS_BUCKET", buckets.originals.to_string()),
        ("EASEL_RESIZED_BUCKET", buckets.resized.to_string()),
        ("EASEL_BACKUP_BUCKET", buckets.backup.to_string()),
    ]);
    overrides.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let settings = console::settings(overrides.clone()).expect("test settings");
    let running = console::start(&settings).await.expect("starting the console");
    let sdk = easel_resizer::aws::sdk_config(Some(&endpoint), &settings.aws.region).await;
    TestApp {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        pool: PgPool::connect(&database.url()).await.unwrap(),
        s3: easel_resizer::aws::s3_client(&sdk, true),
        buckets,
        settings: settings.clone(),
        overrides,
        console: Some(running),
        _database: database,
    }
}

pub struct ConsoleProcess {
    pub base: String,
    child: tokio::process::Child,
}

impl ConsoleProcess {
    /// SIGKILL: no shutdown, no rollback sent, as when the machine or the
    /// OOM killer takes it.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("killing easel-console");
    }
}

/// A signed-in staff member's browser: its own cookie jar.
pub struct Staff {
    pub email: String,
    pub password: String,
    pub http: reqwest::Client,
    pub jar: Arc<Jar>,
    pub csrf: String,
}

impl TestApp {
    /// Stops the console gracefully, as a deploy would; its AWS clients and
    /// pool go with it. The test's own pool and S3 client stay.
    pub async fn stop_console(&mut self) {
        if let Some(console) = self.console.take() {
            console.stop().await;
        }
    }

    /// Whether this test's console has stopped its local resizer for good
    /// (or runs none).
    pub fn resizer_stopped(&self) -> bool {
        self.console.as_ref().is_none_or(RunningConsole::invoker_stopped)
    }

    /// A second console on this test's database and buckets, run as a
    /// process of its own (the `easel-console` binary) so that the test can
    /// kill it with SIGKILL mid-request. It runs no resizer; this test's
    /// in-process console does. Killed when dropped.
    pub async fn console_process(&self, extra: &[(&'static str, &str)]) -> ConsoleProcess {
        let port = easel_ops::stack::process::free_port().unwrap();
        let log = std::env::temp_dir().join(format!("easel-console-{port}.log"));
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_easel-console"));
        cmd.envs(self.overrides.iter().map(|(k, v)| (*k, v.as_str())))
            .envs(extra.iter().copied())
            .env("EASEL_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("starting easel-console");
        easel_ops::stack::process::wait_for_port(
            port,
            "easel-console",
            Some(&mut child),
            &log,
            Duration::from_secs(60),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
        ConsoleProcess { base: format!("http://127.0.0.1:{port}"), child }
    }

    /// The support machinery as the console builds it, for driving a step
    /// directly (e.g. a restore interrupted half-way).
    pub async fn support(&self) -> std::sync::Arc<easel_app::support::Support> {
        let sdk =
            easel_resizer::aws::sdk_config(self.settings.aws.endpoint.as_deref(), &self.settings.aws.region).await;
        std::sync::Arc::new(self.settings.support_clients(&sdk))
    }

    /// Creates a staff account the way `cargo ops create-admin` and the
    /// accounts page do; returns its one-time password.
    pub async fn create_staff(&self, role: Role) -> (String, String) {
        let email = format!("{}-{}@example.org", role.as_str(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let (_, otp) = accounts::create(
            &self.pool,
            &Email::parse(&email).unwrap(),
            role,
            &Actor::System,
            easel_app::audit::Origin::Local,
        )
        .await
        .unwrap();
        (email, otp)
    }

    /// Closes every open window of failed sign-ins now, as the console's
    /// flusher does when a window ends: one audit row per account,
    /// address and window. Returns the rows appended.
    pub async fn flush_sign_in_failures(&self) -> usize {
        let later = time::OffsetDateTime::now_utc() + time::Duration::days(2);
        easel_app::auth::throttle::flush_closed(&self.pool, &self.settings.auth.throttle, later).await.unwrap()
    }

    pub fn browser(&self) -> reqwest::Client {
        self.browser_with_jar().0
    }

    /// A client with its own cookie jar, and the jar, to look into.
    pub fn browser_with_jar(&self) -> (reqwest::Client, Arc<Jar>) {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        (http, jar)
    }

    /// Posts the sign-in form as a browser would (fetching its CSRF token first).
    pub async fn sign_in_with(&self, http: &reqwest::Client, email: &str, password: &str) -> Reply {
        let form_page = reply(http.get(format!("{}/admin/login", self.base)).send().await.unwrap()).await;
        let csrf = csrf_in(&form_page.body).expect("the sign-in form has a CSRF field");
        let res = http
            .post(format!("{}/admin/login", self.base))
            .form(&[("email", email), ("password", password), ("csrf", csrf.as_str()), ("next", "/admin")])
            .send()
            .await
            .unwrap();
        reply(res).await
    }

    /// A fresh account of `role`, signed in, its one-time password changed.
    pub async fn signed_in(&self, role: Role) -> Staff {
        let (email, otp) = self.create_staff(role).await;
        let (http, jar) = self.browser_with_jar();
        let r = self.sign_in_with(&http, &email, &otp).await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/password")), "{}", r.body);
        let page = reply(http.get(format!("{}/admin/password", self.base)).send().await.unwrap()).await;
        let csrf = csrf_in(&page.body).expect("the password form has a CSRF field");
        let password = format!("{}-chosen-password", &email[..8]);
        let r = reply(
            http.post(format!("{}/admin/password", self.base))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("current", otp.as_str()),
                    ("new", password.as_str()),
                    ("confirm", password.as_str()),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 303, "changing the one-time password: {}", r.body);
        Staff { email, password, http, jar, csrf }
    }
}

impl Staff {
    /// The session token this browser holds, as an attacker who copied the
    /// cookie would have it.
    pub fn session_token(&self, app: &TestApp) -> String {
        let cookies = self.jar.cookies(&app.base.parse().unwrap()).expect("a session cookie");
        let cookies = cookies.to_str().unwrap();
        cookies.split("; ").find_map(|c| c.strip_prefix("easel_session=")).expect("an easel_session cookie").to_owned()
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> Reply {
        reply(self.http.get(format!("{}{path}", app.base)).send().await.unwrap()).await
    }

    pub async fn post(&self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Reply {
        reply(self.http.post(format!("{}{path}", app.base)).form(form).send().await.unwrap()).await
    }
}

/// The value of the first `csrf` hidden field in a page.
pub fn csrf_in(body: &str) -> Option<String> {
    let at = body.find(r#"name="csrf""#)?;
    let rest = &body[at..];
    let v = rest.split(r#"value=""#).nth(1)?;
    Some(v.split('"').next()?.to_owned())
}

pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Reply {
        let res = self.http.get(format!("{}{path}", self.base)).send().await.expect("GET");
        reply(res).await
    }

    /// Posts the upload form the way a browser does, with `file` as the
    /// artwork field (`None`: no file chosen).
    pub async fn upload(&self, file: Option<(&str, Vec<u8>)>) -> Reply {
        let part = match file {
            Some((name, bytes)) => {
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str("image/png").unwrap()
            }
            // What browsers send for an empty file input.
            None => {
                reqwest::multipart::Part::bytes(Vec::new()).file_name("").mime_str("application/octet-stream").unwrap()
            }
        };
        let form = reqwest::multipart::Form::new().part("artwork", part);
        let res = self.http.post(format!("{}/upload", self.base)).multipart(form).send().await.expect("POST /upload");
        reply(res).await
    }

    /// Uploads and returns the new artwork's id from the redirect.
    pub async fn upload_ok(&self, name: &str, bytes: Vec<u8>) -> ArtworkId {
        let r = self.upload(Some((name, bytes))).await;
        assert_eq!(r.status, 303, "upload of {name} refused: {}", r.body);
        let loc = r.location.expect("a redirect has a Location");
        ArtworkId::parse(loc.strip_prefix("/uploaded/").expect("redirects to the confirmation")).unwrap()
    }

    /// Polls the confirmation page until the resizer has finished.
    pub async fn wait_until_ready(&self, id: ArtworkId) -> Reply {
        let ready = eventually(Duration::from_secs(30), || async {
            let r = self.get(&format!("/uploaded/{id}")).await;
            assert_eq!(r.status, 200);
            r.body.contains("Ready:").then_some(r)
        })
        .await;
        ready.unwrap_or_else(|| panic!("artwork {id} was not resized within 30 s"))
    }

    pub async fn artwork_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM artworks").fetch_one(&self.pool).await.unwrap()
    }

    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let out = self.s3.list_objects_v2().bucket(bucket).send().await.expect("listing a bucket");
        out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
    }

    pub async fn object(&self, bucket: &str, key: &str) -> (Option<String>, Vec<u8>) {
        let out = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{bucket}/{key}: {e:?}"));
        let ct = out.content_type.clone();
        (ct, out.body.collect().await.unwrap().into_bytes().to_vec())
    }
}

pub async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    Reply { status, location, body: res.text().await.unwrap_or_default() }
}

/// A real photo-like image: a gradient, `w`×`h`, encoded as `format`.
pub fn image_bytes(w: u32, h: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

impl TestApp {
    /// Writes `bytes` as an original, straight to the bucket (its event fires).
    pub async fn put_original(&self, key: &str, bytes: Vec<u8>) {
        self.s3
            .put_object()
            .bucket(&self.buckets.originals)
            .key(key)
            .content_type("image/png")
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .unwrap();
    }

    /// An original the resizer cannot decode, with its row, as if an older
    /// console had let it through: a PNG signature and then nonsense.
    pub async fn unreadable_original(&self) -> (ArtworkId, String) {
        use easel_resizer::image::ImageFormat;
        let id = ArtworkId::new();
        let key = easel_resizer::keys::original_key(id, ImageFormat::Png);
        let bytes = [&b"\x89PNG\r\n\x1a\n"[..], &[7u8; 200][..]].concat();
        let row = easel_app::artworks::NewArtwork {
            id,
            original_key: &key,
            original_filename: "unreadable.png",
            format: ImageFormat::Png,
            width: 10,
            height: 10,
            bytes: bytes.len() as u64,
        };
        easel_app::artworks::insert(&self.pool, &row).await.unwrap();
        self.put_original(&key, bytes).await;
        (id, key)
    }
}
