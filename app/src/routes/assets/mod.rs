//! The stylesheet and the one small script, compiled into the binary so the
//! console runs from any working directory.

use axum::response::IntoResponse;
use http::{HeaderValue, header};

const STYLESHEET: &str = include_str!("../../../../style/easel.css");
const UPLOAD_SCRIPT: &str = include_str!("../../../../style/upload.js");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        body,
    )
}

pub async fn stylesheet() -> impl IntoResponse {
    asset("text/css; charset=utf-8", STYLESHEET)
}

pub async fn upload_script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", UPLOAD_SCRIPT)
}
