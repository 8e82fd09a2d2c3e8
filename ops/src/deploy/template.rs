//! The AWS template (CloudFormation, SAM form), generated from the same
//! `StackSpec` that `cargo ops up` applies to the emulator. The spec is run
//! once with CloudFormation placeholders (`${OriginalsBucketName}`,
//! `${AWS::AccountId}`, …) in place of names, and every string that came out
//! holding a placeholder becomes an `Fn::Sub`; so bucket policies, the role's
//! permissions and the log group are the spec's own output, not a copy.
//! `cargo ops template` writes it to `ops/aws/template.json`; a test fails
//! when the committed file and this code disagree.

use easel_app::{
    settings::DEFAULT_REGION,
    storage::{BucketNames, BucketRole, spec::StackSpec},
};
use easel_resizer::{BucketName, EncodeOptions, Limits};
use serde_json::{Map, Value, json};

pub const TEMPLATE_PATH: &str = "ops/aws/template.json";

/// Lambda's default account concurrency is 1000 (often 10 on new accounts);
/// a burst of uploads must not take all of it from other functions.
pub const RESERVED_CONCURRENCY: i32 = 10;
/// CloudFormation refuses an inline `TemplateBody` larger than this.
pub const MAX_TEMPLATE_BODY: usize = 51_200;

/// Logical ids, shared with `deploy` and the tests.
pub fn bucket_logical_id(role: BucketRole) -> &'static str {
    match role {
        BucketRole::Originals => "OriginalsBucket",
        BucketRole::Resized => "ResizedBucket",
        BucketRole::Backup => "BackupBucket",
    }
}

pub fn bucket_parameter(role: BucketRole) -> &'static str {
    match role {
        BucketRole::Originals => "OriginalsBucketName",
        BucketRole::Resized => "ResizedBucketName",
        BucketRole::Backup => "BackupBucketName",
    }
}

/// The production spec with the template's defaults: what `deploy` deploys
/// when given no names, and what the tests resolve the template against.
pub fn default_spec(region: &str, account_id: &str) -> StackSpec {
    StackSpec::new(region, account_id, BucketNames::with_prefix(BucketNames::DEFAULT_PREFIX))
}

fn symbolic_spec() -> StackSpec {
    let mut spec = StackSpec::new(
        "${AWS::Region}",
        "${AWS::AccountId}",
        BucketNames {
            originals: BucketName::cloudformation_parameter("OriginalsBucketName"),
            resized: BucketName::cloudformation_parameter("ResizedBucketName"),
            backup: BucketName::cloudformation_parameter("BackupBucketName"),
        },
    );
    spec.resizer.function_name = "${FunctionName}".into();
    spec.resizer.role_name = "${ResizerRoleName}".into();
    spec
}

/// Turns every string holding a `${…}` placeholder into an `Fn::Sub`.
fn substitute(v: Value) -> Value {
    match v {
        Value::String(s) if s.contains("${") => json!({ "Fn::Sub": s }),
        Value::Array(a) => Value::Array(a.into_iter().map(substitute).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, substitute(v))).collect()),
        other => other,
    }
}

fn sub(s: &str) -> Value {
    json!({ "Fn::Sub": s })
}

fn r(name: &str) -> Value {
    json!({ "Ref": name })
}

/// A justified checkov suppression, kept beside the resource it is about.
fn skip(id: &str, why: &str) -> Value {
    json!({ "id": id, "comment": why })
}

fn renditions_default() -> String {
    easel_resizer::image::RenditionSpec::defaults()
        .iter()
        .map(|r| {
            if r.max_width == r.max_height {
                format!("{}={}", r.name, r.max_width)
            } else {
                format!("{}={}x{}", r.name, r.max_width, r.max_height)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn generate() -> Value {
    let spec = symbolic_spec();
    let defaults = default_spec(DEFAULT_REGION, "000000000000");
    let limits = Limits::default();

    let mut parameters = Map::new();
    for role in BucketRole::ALL {
        parameters.insert(
            bucket_parameter(role).into(),
            json!({
                "Type": "String",
                "Default": defaults.buckets.get(role),
                "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                "Description": format!("Name of the {role} bucket (globally unique; becomes EASEL_{}_BUCKET)", role.as_str().to_uppercase())
            }),
        );
    }
    parameters.insert(
        "FunctionName".into(),
        json!({ "Type": "String", "Default": defaults.resizer.function_name, "Description": "Name of the resizer function" }),
    );
    parameters.insert(
        "ResizerRoleName".into(),
        json!({ "Type": "String", "Default": defaults.resizer.role_name, "Description": "Name of the resizer's IAM role" }),
    );
    parameters.insert(
        "ResizerMemory".into(),
        json!({ "Type": "Number", "Default": defaults.resizer.memory_mb, "MinValue": 128, "MaxValue": 10240,
                "Description": "Resizer memory in MB (CPU grows with it)" }),
    );
    parameters.insert(
        "ResizerTimeout".into(),
        json!({ "Type": "Number", "Default": defaults.resizer.timeout_seconds, "MinValue": 1, "MaxValue": 900,
                "Description": "Resizer timeout in seconds" }),
    );
    parameters.insert(
        "ResizerReservedConcurrency".into(),
        json!({ "Type": "Number", "Default": RESERVED_CONCURRENCY, "MinValue": 1,
                "Description": "Most resizer invocations at once" }),
    );
    parameters.insert(
        "Renditions".into(),
        json!({ "Type": "String", "Default": renditions_default(), "Description": "EASEL_RENDITIONS" }),
    );
    parameters.insert(
        "MaxPixels".into(),
        json!({ "Type": "Number", "Default": limits.max_pixels, "MinValue": 1, "Description": "EASEL_MAX_PIXELS" }),
    );
    parameters.insert(
        "MaxUploadBytes".into(),
        json!({ "Type": "Number", "Default": limits.max_bytes, "MinValue": 1, "Description": "EASEL_MAX_UPLOAD_BYTES" }),
    );
    parameters.insert(
        "JpegQuality".into(),
        json!({ "Type": "Number", "Default": EncodeOptions::default().jpeg_quality, "MinValue": 1, "MaxValue": 100,
                "Description": "EASEL_JPEG_QUALITY" }),
    );
    parameters.insert(
        "Region".into(),
        json!({ "Type": "String", "Default": DEFAULT_REGION,
                "Description": "EASEL_AWS_REGION of the console; the stack refuses to deploy anywhere else" }),
    );
    parameters.insert(
        "CodeBucket".into(),
        json!({ "Type": "String", "Description": "Bucket holding the resizer package (set by cargo ops deploy)" }),
    );
    parameters.insert(
        "CodeKey".into(),
        json!({ "Type": "String", "Description": "Key of the resizer package zip (set by cargo ops deploy)" }),
    );
    parameters.insert(
        "AlarmEmail".into(),
        json!({ "Type": "String", "Default": "", "Description": "Address that receives the alarms (empty: none)" }),
    );

    let mut resources = Map::new();
    for b in spec.buckets() {
        let mut props = json!({
            "BucketName": r(bucket_parameter(b.role)),
            "BucketEncryption": { "ServerSideEncryptionConfiguration": [
                { "ServerSideEncryptionByDefault": { "SSEAlgorithm": b.encryption } }
            ] },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": b.block_public_access,
                "IgnorePublicAcls": b.block_public_access,
                "BlockPublicPolicy": b.block_public_access,
                "RestrictPublicBuckets": b.block_public_access
            },
            "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] }
        });
        if b.versioned {
            props["VersioningConfiguration"] = json!({ "Status": "Enabled" });
        }
        if b.role == BucketRole::Backup {
            // The audit trail's signed checkpoints go here (audit-checkpoints/),
            // each put locked in compliance mode for EASEL_AUDIT_LOCK_DAYS: not
            // even the console's role can delete one. No default retention, so
            // the backup renditions stay deletable by restore and destruction.
            props["ObjectLockEnabled"] = json!(true);
        }
        let mut skips = vec![skip(
            "CKV_AWS_18",
            "No server access logging: it needs a fourth bucket (itself unlogged) and the console's audit trail \
             records every upload, restore and destruction already. Turn on CloudTrail S3 data events if required.",
        )];
        if !b.versioned {
            skips.push(skip(
                "CKV_AWS_21",
                "Only the backup bucket is versioned (the spec). Originals get server-made, never-reused keys so \
                 nothing overwrites them, renditions are re-made from originals, and the decommissioning SOP must be \
                 able to destroy data for good.",
            ));
        }
        let mut bucket = json!({
            "Type": "AWS::S3::Bucket",
            // Artwork outlives the stack: deleting the stack must not delete
            // merchants' files; the decommissioning SOP destroys them on purpose.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": props,
            "Metadata": { "checkov": { "skip": skips } }
        });
        if b.role == BucketRole::Originals {
            bucket["Properties"]["NotificationConfiguration"] = json!({
                "LambdaConfigurations": [{ "Event": "s3:ObjectCreated:*", "Function": { "Fn::GetAtt": ["Resizer", "Arn"] } }]
            });
            // S3 checks it may invoke the function when the notification is set.
            bucket["DependsOn"] = json!(["ResizerInvokePermission"]);
        }
        resources.insert(bucket_logical_id(b.role).into(), bucket);
        resources.insert(
            format!("{}Policy", bucket_logical_id(b.role)),
            json!({
                "Type": "AWS::S3::BucketPolicy",
                // The policy names the role by ARN; S3 rejects a principal that does not exist yet.
                "DependsOn": ["ResizerRole"],
                "Properties": { "Bucket": r(bucket_logical_id(b.role)), "PolicyDocument": substitute(b.policy.clone()) }
            }),
        );
    }

    let mut role_policy = substitute(spec.resizer_role_policy());
    role_policy["Statement"].as_array_mut().expect("statements").push(json!({
        "Sid": "OnFailureDestination",
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": { "Fn::GetAtt": ["ResizerFailures", "Arn"] }
    }));
    resources.insert(
        "ResizerRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": r("ResizerRoleName"),
                "Description": "Easel's resizer Lambda",
                "AssumeRolePolicyDocument": substitute(spec.resizer_trust_policy()),
                "Policies": [{ "PolicyName": "easel-resizer", "PolicyDocument": role_policy }]
            }
        }),
    );
    resources.insert(
        "ResizerLogGroup".into(),
        json!({
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": { "LogGroupName": sub(&spec.log_group()), "RetentionInDays": spec.resizer.log_retention_days },
            "Metadata": { "checkov": { "skip": [
                skip("CKV_AWS_158", "CloudWatch Logs encrypts every group at rest with a service key; the resizer logs \
                      object keys and outcomes, no secrets or image data, so a customer key adds cost and key-policy \
                      upkeep without protecting anything more.")
            ] } }
        }),
    );
    resources.insert(
        "ResizerFailures".into(),
        json!({
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": sub("${FunctionName}-failures"),
                "SqsManagedSseEnabled": true,
                "MessageRetentionPeriod": 1_209_600
            },
            "Metadata": { "checkov": { "skip": [
                skip("CKV_AWS_27", "The queue is encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), \
                      which this rule does not recognise: it only accepts a KMS key, which would also need key \
                      grants for Lambda's destination delivery.")
            ] } }
        }),
    );
    resources.insert(
        "Resizer".into(),
        json!({
            "Type": "AWS::Serverless::Function",
            // Created first, the group keeps its retention; otherwise Lambda
            // would make /aws/lambda/<name> itself, kept forever.
            "DependsOn": ["ResizerLogGroup"],
            "Properties": {
                "FunctionName": r("FunctionName"),
                "Description": "Easel: resizes originals into web renditions",
                "CodeUri": { "Bucket": r("CodeBucket"), "Key": r("CodeKey") },
                "Handler": "bootstrap",
                "Runtime": "provided.al2023",
                "Architectures": ["arm64"],
                "MemorySize": r("ResizerMemory"),
                "Timeout": r("ResizerTimeout"),
                "ReservedConcurrentExecutions": r("ResizerReservedConcurrency"),
                "Role": { "Fn::GetAtt": ["ResizerRole", "Arn"] },
                "Environment": { "Variables": {
                    easel_resizer::config::ORIGINALS_BUCKET: r("OriginalsBucketName"),
                    easel_resizer::config::RESIZED_BUCKET: r("ResizedBucketName"),
                    easel_resizer::config::BACKUP_BUCKET: r("BackupBucketName"),
                    easel_resizer::config::RENDITIONS: r("Renditions"),
                    easel_resizer::config::MAX_PIXELS: r("MaxPixels"),
                    easel_resizer::config::MAX_UPLOAD_BYTES: r("MaxUploadBytes"),
                    easel_resizer::config::JPEG_QUALITY: r("JpegQuality")
                } },
                "EventInvokeConfig": {
                    "MaximumRetryAttempts": 2,
                    "MaximumEventAgeInSeconds": 21_600,
                    "DestinationConfig": { "OnFailure": {
                        "Type": "SQS", "Destination": { "Fn::GetAtt": ["ResizerFailures", "Arn"] }
                    } }
                }
            },
            "Metadata": { "checkov": { "skip": [
                skip("CKV_AWS_116", "Failed asynchronous invocations go to the ResizerFailures queue through an \
                      on-failure destination (EventInvokeConfig), which supersedes a DLQ and also records the error."),
                skip("CKV_AWS_117", "The resizer talks only to S3 and CloudWatch Logs over TLS with IAM auth; a VPC \
                      would need NAT or endpoints and adds cold-start time for no reachable private resource."),
                skip("CKV_AWS_173", "The environment holds bucket names and image limits only, no secrets; Lambda \
                      encrypts it at rest with its service key.")
            ] } }
        }),
    );
    resources.insert(
        "ResizerInvokePermission".into(),
        json!({
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": r("Resizer"),
                "Principal": "s3.amazonaws.com",
                "SourceArn": sub("arn:aws:s3:::${OriginalsBucketName}"),
                // Bucket names are global: without the account, a bucket of
                // that name in another account could invoke the function.
                "SourceAccount": r("AWS::AccountId")
            }
        }),
    );

    let actions = json!({ "Fn::If": ["HasAlarmEmail", [r("AlarmTopic")], r("AWS::NoValue")] });
    let lambda_alarm = |metric: &str, what: &str| {
        json!({
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": sub(&format!("${{FunctionName}}-{}", metric.to_lowercase())),
                "AlarmDescription": what,
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{ "Name": "FunctionName", "Value": r("Resizer") }],
                "Statistic": "Sum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": actions.clone()
            }
        })
    };
    resources.insert(
        "ResizerErrorsAlarm".into(),
        lambda_alarm("Errors", "The resizer failed an invocation (see its log group)"),
    );
    resources.insert(
        "ResizerThrottlesAlarm".into(),
        lambda_alarm("Throttles", "The resizer was throttled: raise ResizerReservedConcurrency"),
    );
    resources.insert(
        "ResizerFailuresAlarm".into(),
        json!({
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": sub("${FunctionName}-failed-events"),
                "AlarmDescription": "Uploads the resizer gave up on are waiting in the failures queue",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{ "Name": "QueueName", "Value": { "Fn::GetAtt": ["ResizerFailures", "QueueName"] } }],
                "Statistic": "Maximum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": actions
            }
        }),
    );
    resources.insert(
        "AlarmTopic".into(),
        json!({
            "Type": "AWS::SNS::Topic",
            "Condition": "HasAlarmEmail",
            "Properties": {
                "TopicName": sub("${FunctionName}-alarms"),
                "Subscription": [{ "Protocol": "email", "Endpoint": r("AlarmEmail") }]
            },
            "Metadata": { "checkov": { "skip": [
                skip("CKV_AWS_26", "CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS \
                      key, and the messages only name an alarm and a metric; a customer key would be needed for \
                      nothing confidential.")
            ] } }
        }),
    );

    let mut outputs = Map::new();
    for role in BucketRole::ALL {
        outputs.insert(
            bucket_parameter(role).into(),
            json!({ "Description": format!("EASEL_{}_BUCKET", role.as_str().to_uppercase()), "Value": r(bucket_logical_id(role)) }),
        );
    }
    outputs.insert("Region".into(), json!({ "Description": "EASEL_AWS_REGION", "Value": r("AWS::Region") }));
    outputs.insert(
        "ResizerArn".into(),
        json!({ "Description": "The resizer function", "Value": { "Fn::GetAtt": ["Resizer", "Arn"] } }),
    );
    outputs.insert(
        "ResizerLogGroupName".into(),
        json!({ "Description": "The resizer's CloudWatch Logs group", "Value": r("ResizerLogGroup") }),
    );
    outputs.insert(
        "FailedEventsQueueUrl".into(),
        json!({ "Description": "Events the resizer gave up on", "Value": r("ResizerFailures") }),
    );

    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Easel: artwork buckets, the resizer Lambda and its trigger, logs and alarms. \
                        Generated from app/src/storage/spec.rs by `cargo ops template`; do not edit by hand.",
        "Parameters": parameters,
        "Conditions": { "HasAlarmEmail": { "Fn::Not": [{ "Fn::Equals": [r("AlarmEmail"), ""] }] } },
        "Rules": { "RegionMatchesTheConsole": {
            "Assertions": [{
                "Assert": { "Fn::Equals": [r("AWS::Region"), r("Region")] },
                "AssertDescription": "The stack must be deployed in the Region parameter (the console's EASEL_AWS_REGION)"
            }]
        } },
        "Resources": resources,
        "Outputs": outputs
    })
}

/// The template as committed: pretty JSON with a final newline.
pub fn render() -> String {
    let mut s = serde_json::to_string_pretty(&generate()).expect("a JSON value always serialises");
    s.push('\n');
    s
}
