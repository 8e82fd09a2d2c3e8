//! The one place the workspace builds AWS configuration, so the app, the ops
//! CLI and the Lambda agree on how to reach a local emulator.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};

/// Points every client at a local emulator instead of AWS.
pub const ENDPOINT_VAR: &str = "EASEL_AWS_ENDPOINT";
pub const REGION_VAR: &str = "EASEL_AWS_REGION";
pub const DEFAULT_REGION: &str = "eu-west-1";

/// `EASEL_AWS_ENDPOINT`, when set and non-empty.
pub fn endpoint_from_env() -> Option<String> {
    std::env::var(ENDPOINT_VAR).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `AWS_REGION` (set by Lambda itself), else `EASEL_AWS_REGION`, else
/// eu-west-1.
pub fn region_from_env() -> String {
    ["AWS_REGION", REGION_VAR]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|v| v.trim().to_owned())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_REGION.to_owned())
}

/// With an `endpoint` (a local emulator) the config uses that URL and, unless
/// `AWS_ACCESS_KEY_ID` is set, the emulator's conventional `test`/`test`
/// credentials, so nothing local depends on a developer's real AWS profile.
pub async fn sdk_config(endpoint: Option<&str>, region: &str) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(Credentials::new("test", "test", None, None, "easel-local"));
        }
    }
    loader.load().await
}

/// `local` selects path-style addressing, since an emulator on an IP address
/// cannot serve `bucket.host` names.
pub fn s3_client(cfg: &SdkConfig, local: bool) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(cfg);
    if local {
        // moto computes CRC checksums wrongly unless optional Python packages
        // are installed, and enforces none; only real S3 needs them.
        builder = builder
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}
