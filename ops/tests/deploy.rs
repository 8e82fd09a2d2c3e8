//! The AWS path: the committed template against the spec it comes from,
//! cfn-lint and checkov on it, the arm64 package, and `cargo ops deploy`
//! refusing plainly when there are no usable credentials. The tools come
//! from the pinned venv (`ops/aws/requirements.txt`), installed on first use.

use std::{
    collections::HashMap,
    io::Read,
    path::PathBuf,
    process::{Command, Output},
    time::{Duration, Instant},
};

use easel_app::storage::{
    BucketNames, BucketRole,
    spec::{LOCAL_ACCOUNT_ID, StackSpec},
};
use easel_ops::{
    deploy::{package, template},
    stack::{install, paths::workspace_root},
};
use easel_tests::TestDatabase;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";

/// One install for all the tests in this binary, which run in parallel.
async fn venv() -> PathBuf {
    static VENV: OnceCell<PathBuf> = OnceCell::const_new();
    VENV.get_or_init(|| async { install::aws_tools_venv().await.expect("installing the AWS tools venv") }).await.clone()
}

fn committed() -> Value {
    let text = std::fs::read_to_string(workspace_root().join(template::TEMPLATE_PATH)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn said(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_committed_template_is_the_one_the_spec_generates() {
    let text = std::fs::read_to_string(workspace_root().join(template::TEMPLATE_PATH)).unwrap();
    assert!(
        text == template::render(),
        "{} is stale: run `cargo ops template` and commit the result",
        template::TEMPLATE_PATH
    );
    assert!(text.len() < template::MAX_TEMPLATE_BODY, "the template no longer fits CloudFormation's inline limit");
}

/// Evaluates `Ref` and `Fn::Sub` the way CloudFormation would, with the
/// parameters' defaults and a given account and region. Refs to resources
/// stay as their logical ids.
fn resolve(v: &Value, params: &HashMap<String, Value>) -> Value {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key("Ref") => {
            let name = o["Ref"].as_str().unwrap();
            params.get(name).cloned().unwrap_or_else(|| json!(name))
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Sub") => {
            let mut s = o["Fn::Sub"].as_str().expect("only the one-string form of Fn::Sub is used").to_owned();
            while let Some(start) = s.find("${") {
                let end = start + s[start..].find('}').unwrap();
                let name = &s[start + 2..end];
                let value = text(params.get(name).unwrap_or_else(|| panic!("Fn::Sub names unknown ${{{name}}}")));
                s.replace_range(start..=end, &value);
            }
            json!(s)
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), resolve(v, params))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(|v| resolve(v, params)).collect()),
        other => other.clone(),
    }
}

fn resolved(account: &str) -> Value {
    let t = committed();
    let mut params: HashMap<String, Value> = t["Parameters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, p)| (k.clone(), p.get("Default").cloned().unwrap_or(json!(format!("<{k}>")))))
        .collect();
    params.insert("AWS::AccountId".into(), json!(account));
    params.insert("AWS::Region".into(), json!(REGION));
    resolve(&t["Resources"], &params)
}

fn statements(policy: &Value) -> Vec<Value> {
    policy["Statement"].as_array().unwrap().clone()
}

#[test]
fn the_template_deploys_exactly_what_the_spec_says() {
    let res = resolved(ACCOUNT);
    let spec = StackSpec::new(REGION, ACCOUNT, BucketNames::with_prefix("easel"));

    for b in spec.buckets() {
        let id = template::bucket_logical_id(b.role);
        let p = &res[id]["Properties"];
        assert_eq!(p["BucketName"], b.name.as_str(), "{id}");
        assert_eq!(
            p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
            b.encryption
        );
        for flag in ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"] {
            assert_eq!(p["PublicAccessBlockConfiguration"][flag], b.block_public_access, "{id} {flag}");
        }
        assert_eq!(p["VersioningConfiguration"]["Status"] == "Enabled", b.versioned, "{id} versioning");
        assert_eq!(res[id]["DeletionPolicy"], "Retain", "{id}: deleting the stack must not delete artwork");
        // Only the originals trigger the resizer; a trigger on its output would loop.
        assert_eq!(p.get("NotificationConfiguration").is_some(), b.role == BucketRole::Originals, "{id}");

        let policy = &res[format!("{id}Policy")]["Properties"];
        assert_eq!(policy["Bucket"], id);
        assert_eq!(policy["PolicyDocument"], b.policy, "{id}'s policy differs from the spec");
        assert_eq!(statements(&b.policy)[0]["Condition"]["Bool"]["aws:SecureTransport"], "false");
    }

    let role = &res["ResizerRole"]["Properties"];
    assert_eq!(role["RoleName"], spec.resizer.role_name.as_str());
    assert_eq!(role["AssumeRolePolicyDocument"], spec.resizer_trust_policy());
    let granted = statements(&role["Policies"][0]["PolicyDocument"]);
    let from_spec = statements(&spec.resizer_role_policy());
    assert_eq!(granted[..from_spec.len()], from_spec[..], "the role's permissions differ from the spec");
    assert_eq!(granted.len(), from_spec.len() + 1, "one extra grant only: the on-failure destination");
    assert_eq!(granted[from_spec.len()]["Action"], json!(["sqs:SendMessage"]));
    assert_eq!(granted[from_spec.len()]["Resource"], json!({ "Fn::GetAtt": ["ResizerFailures", "Arn"] }));
    for s in &granted {
        assert!(!s["Action"].to_string().contains('*'), "wildcard action in {s}");
        assert!(!s["Resource"].as_str().is_some_and(|r| r == "*"), "wildcard resource in {s}");
    }

    let logs = &res["ResizerLogGroup"]["Properties"];
    assert_eq!(logs["LogGroupName"], spec.log_group());
    assert_eq!(logs["RetentionInDays"], spec.resizer.log_retention_days);

    let f = &res["Resizer"];
    let fp = &f["Properties"];
    assert_eq!(f["Type"], "AWS::Serverless::Function");
    assert_eq!(fp["FunctionName"], spec.resizer.function_name.as_str());
    assert_eq!(fp["MemorySize"], spec.resizer.memory_mb);
    assert_eq!(fp["Timeout"], spec.resizer.timeout_seconds);
    assert_eq!(fp["Runtime"], "provided.al2023");
    assert_eq!(fp["Handler"], "bootstrap");
    assert_eq!(fp["Architectures"], json!(["arm64"]));
    assert!(fp["ReservedConcurrentExecutions"].as_i64().is_some_and(|n| n > 0));
    assert_eq!(fp["Role"], json!({ "Fn::GetAtt": ["ResizerRole", "Arn"] }));
    assert_eq!(
        fp["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"],
        json!({ "Fn::GetAtt": ["ResizerFailures", "Arn"] })
    );
    // The function's environment is one the resizer accepts, and with the
    // template's defaults it is exactly the resizer's own defaults.
    let env = fp["Environment"]["Variables"].as_object().unwrap().clone();
    let config = easel_resizer::ResizerConfig::from_lookup(|k| {
        env.get(k).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
    })
    .expect("the template's environment is a valid resizer configuration");
    assert_eq!(config.originals_bucket, spec.buckets.originals);
    assert_eq!(config.resized_bucket, spec.buckets.resized);
    assert_eq!(config.backup_bucket, spec.buckets.backup);
    assert_eq!(config.renditions, easel_resizer::RenditionSpec::defaults());
    assert_eq!(config.limits, easel_resizer::Limits::default());
    assert_eq!(config.encode, easel_resizer::EncodeOptions::default());

    let perm = &res["ResizerInvokePermission"]["Properties"];
    assert_eq!(perm["Principal"], "s3.amazonaws.com");
    assert_eq!(perm["SourceArn"], format!("arn:aws:s3:::{}", spec.buckets.originals));
    assert_eq!(perm["SourceAccount"], ACCOUNT);
    let trigger = &res["OriginalsBucket"]["Properties"]["NotificationConfiguration"]["LambdaConfigurations"][0];
    assert_eq!(trigger["Event"], "s3:ObjectCreated:*");
    assert_eq!(trigger["Function"], json!({ "Fn::GetAtt": ["Resizer", "Arn"] }));

    for (alarm, metric) in [("ResizerErrorsAlarm", "Errors"), ("ResizerThrottlesAlarm", "Throttles")] {
        assert_eq!(res[alarm]["Properties"]["MetricName"], metric);
        assert_eq!(res[alarm]["Properties"]["Dimensions"][0]["Value"], "Resizer");
    }
}

/// The local stack differs from AWS in one deliberate way: no TLS-only
/// statement, because the emulator speaks plain HTTP.
#[test]
fn the_local_spec_differs_from_the_template_only_by_tls() {
    let res = resolved(LOCAL_ACCOUNT_ID);
    let local = StackSpec::local(REGION, BucketNames::with_prefix("easel"));
    for b in local.buckets() {
        let deployed =
            statements(&res[format!("{}Policy", template::bucket_logical_id(b.role))]["Properties"]["PolicyDocument"]);
        let without_tls: Vec<Value> = deployed.into_iter().filter(|s| s["Sid"] != "DenyInsecureTransport").collect();
        assert_eq!(without_tls, statements(&b.policy), "{}", b.name);
    }
}

#[tokio::test]
async fn the_template_passes_cfn_lint() {
    let venv = venv().await;
    let started = Instant::now();
    let out =
        Command::new(venv.join("bin/cfn-lint")).arg(workspace_root().join(template::TEMPLATE_PATH)).output().unwrap();
    println!("cfn-lint took {:.1?}", started.elapsed());
    // cfn-lint's exit code is a bit set: errors, warnings and informational findings all fail this test.
    assert!(out.status.success(), "cfn-lint found problems:\n{}", said(&out));
}

#[tokio::test]
async fn checkov_finds_nothing_that_is_not_reasoned_about() {
    let venv = venv().await;
    let started = Instant::now();
    let out = Command::new(venv.join("bin/checkov"))
        .arg("-f")
        .arg(workspace_root().join(template::TEMPLATE_PATH))
        .args(["--framework", "cloudformation", "--output", "json", "--skip-download", "--compact"])
        .env("LOG_LEVEL", "ERROR")
        .output()
        .unwrap();
    println!("checkov took {:.1?}", started.elapsed());
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov printed no JSON report ({e}):\n{}", said(&out)));
    let results = &report["results"];
    let failed: Vec<String> = results["failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {} on {}", c["check_id"], c["check_name"], c["resource"]))
        .collect();
    assert!(failed.is_empty(), "checkov findings without a reasoned skip:\n{}", failed.join("\n"));
    assert!(results["passed_checks"].as_array().unwrap().len() > 20, "checkov ran almost no checks: {report}");

    let skipped = results["skipped_checks"].as_array().unwrap();
    for c in skipped {
        let why = c["check_result"]["suppress_comment"].as_str().unwrap_or_default();
        assert!(why.len() > 40, "{} on {} is skipped without a reason", c["check_id"], c["resource"]);
    }
    // Every skip written in the template must still be needed, or it is noise.
    let t = committed();
    for (id, res) in t["Resources"].as_object().unwrap() {
        for s in res["Metadata"]["checkov"]["skip"].as_array().into_iter().flatten() {
            let check = s["id"].as_str().unwrap();
            assert!(
                skipped
                    .iter()
                    .any(|c| c["check_id"] == check && c["resource"].as_str().unwrap().ends_with(id.as_str())),
                "{id} skips {check}, which checkov no longer reports there; remove the skip"
            );
        }
    }
}

#[tokio::test]
async fn package_builds_a_zip_whose_bootstrap_is_an_aarch64_executable() {
    venv().await;
    let zip = package::zip_path();
    let _ = std::fs::remove_file(&zip);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_easel-ops")).arg("package").output().unwrap();
    println!("cargo ops package took {:.1?}", started.elapsed());
    assert!(out.status.success(), "{}", said(&out));

    let bytes = std::fs::read(&zip).expect("package wrote no zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("the package is a zip");
    assert_eq!(archive.len(), 1, "only `bootstrap` belongs in the package");
    let mut entry = archive.by_name("bootstrap").expect("`bootstrap` at the zip's root");
    assert!(entry.unix_mode().is_some_and(|m| m & 0o100 != 0), "`bootstrap` must be executable");
    let mut header = [0u8; 20];
    entry.read_exact(&mut header).unwrap();
    assert_eq!(&header[..4], b"\x7fELF");
    assert_eq!(header[4], 2, "64-bit");
    assert_eq!(u16::from_le_bytes([header[18], header[19]]), 183, "e_machine must be EM_AARCH64");
}

fn deploy_with(env: &[(&str, &str)]) -> (Output, Duration) {
    ops_without_credentials(&["deploy"], env)
}

/// `cargo ops ARGS` where no AWS credentials can be found.
fn ops_without_credentials(args: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let home = std::env::temp_dir().join(format!("easel-deploy-test-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_easel-ops"));
    cmd.args(args);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "EASEL_AWS_ENDPOINT",
        "DATABASE_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        // Not an EC2 instance: don't wait for its metadata service.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied());
    let started = Instant::now();
    (cmd.output().unwrap(), started.elapsed())
}

#[test]
fn deploy_says_plainly_when_there_are_no_usable_credentials() {
    let (out, took) = deploy_with(&[]);
    assert!(!out.status.success());
    let text = said(&out);
    assert!(text.contains("no AWS credentials found"), "{text}");
    assert!(text.contains("AWS_PROFILE"), "it should say how to provide them: {text}");
    assert!(!text.contains("Building"), "nothing may be built before the credentials check: {text}");
    assert!(took < Duration::from_secs(15), "took {took:?}");

    // Credentials AWS rejects (or cannot check: no network) are named as such, quickly.
    let (out, took) = deploy_with(&[
        ("AWS_ACCESS_KEY_ID", "AKIAEASELTESTBOGUS00"),
        ("AWS_SECRET_ACCESS_KEY", "bogus/bogus/bogus/bogus/bogus/bogus/bogus0"),
    ]);
    assert!(!out.status.success());
    let text = said(&out);
    assert!(
        text.contains("did not accept the AWS credentials")
            || text.contains("could not reach AWS to check the AWS credentials"),
        "{text}"
    );
    assert!(!text.contains("Building"), "{text}");
    assert!(took < Duration::from_secs(60), "took {took:?}");

    let (out, _) = deploy_with(&[("EASEL_AWS_ENDPOINT", "http://127.0.0.1:1")]);
    assert!(!out.status.success());
    assert!(said(&out).contains("only deploys to real AWS"), "{}", said(&out));
}

/// A database of its own; with `decommissioned`, as a finished
/// decommission leaves it (the gate closed).
async fn database(decommissioned: bool) -> TestDatabase {
    let db = TestDatabase::create("easel_deploy").await;
    if decommissioned {
        let pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
        sqlx::query("UPDATE upload_gate SET frozen_at = now(), closed = true").execute(&pool).await.unwrap();
    }
    db
}

/// The AWS stack goes only after a decommission, and a decommissioned Easel
/// is not deployed again.
#[tokio::test]
async fn remove_stack_waits_for_a_decommission_and_deploy_refuses_after_one() {
    let open = database(false).await;
    let (out, _) = ops_without_credentials(&["remove-stack"], &[("DATABASE_URL", &open.url())]);
    assert!(!out.status.success());
    assert!(said(&out).contains("Easel is not decommissioned"), "{}", said(&out));

    let decommissioned = database(true).await;
    let closed = decommissioned.url();
    // Past the gate, the credentials are the next thing checked.
    let (out, _) = ops_without_credentials(&["remove-stack"], &[("DATABASE_URL", &closed)]);
    assert!(!out.status.success());
    assert!(said(&out).contains("no AWS credentials found"), "{}", said(&out));

    let (out, _) = ops_without_credentials(&["deploy"], &[("DATABASE_URL", &closed)]);
    assert!(!out.status.success());
    let text = said(&out);
    assert!(text.contains("decommissioned"), "{text}");
    assert!(!text.contains("Building") && !text.contains("credentials"), "refused before anything else: {text}");
}
