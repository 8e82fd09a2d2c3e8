use std::{collections::HashMap, time::Duration};

use aws_sdk_s3::Client as S3;
use easel_app::storage::BucketNames;
use easel_ops::stack::{console, console::RunningConsole, postgres::create_database};
use easel_resizer::keys::ArtworkId;
use sqlx::PgPool;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub pool: PgPool,
    pub s3: S3,
    pub buckets: BucketNames,
    _console: RunningConsole,
}

fn required(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run these tests through `cargo ops test`, which starts the stack they need")
    })
}

pub async fn spawn_app() -> TestApp {
    let maintenance = required("EASEL_TEST_DATABASE_URL");
    let endpoint = required("EASEL_AWS_ENDPOINT");
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let db_name = format!("easel_test_{tag}");
    create_database(&maintenance, &db_name).await.expect("creating the test database");
    let (server, _) = maintenance.rsplit_once('/').expect("a database URL ends in /<database>");
    let database_url = format!("{server}/{db_name}");
    let buckets = BucketNames::with_prefix(&format!("t-{}", &tag[..12]));
    let settings = console::settings(HashMap::from([
        ("DATABASE_URL", database_url.clone()),
        ("EASEL_AWS_ENDPOINT", endpoint.clone()),
        ("EASEL_HTTP_ADDR", "127.0.0.1:0".to_string()),
        ("EASEL_ORIGINALS_BUCKET", buckets.originals.clone()),
        ("EASEL_RESIZED_BUCKET", buckets.resized.clone()),
        ("EASEL_BACKUP_BUCKET", buckets.backup.clone()),
    ]))
    .expect("test settings");
    let running = console::start(&settings).await.expect("starting the console");
    let sdk = easel_resizer::aws::sdk_config(Some(&endpoint), &settings.aws.region).await;
    TestApp {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        pool: PgPool::connect(&database_url).await.unwrap(),
        s3: easel_resizer::aws::s3_client(&sdk, true),
        buckets,
        _console: running,
    }
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
        for _ in 0..150 {
            let r = self.get(&format!("/uploaded/{id}")).await;
            assert_eq!(r.status, 200);
            if r.body.contains("Ready:") {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("artwork {id} was not resized within 30 s");
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

async fn reply(res: reqwest::Response) -> Reply {
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
