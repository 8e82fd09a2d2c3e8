//! Events: `originals.trigger` (a new original invokes the resizer) and,
//! for the buckets the resizer writes to, `{role}.no-loop` (a rendition it
//! writes must not invoke it again).

use super::model::{Aspect, Check, Fix, Status, unreadable};
use crate::storage::{
    BucketRole,
    live::{LiveBucket, NotificationTarget},
    spec::StackSpec,
};
use crate::support::trigger::ResizerTrigger;

pub(super) fn check(spec: &StackSpec, trigger: &ResizerTrigger, role: BucketRole, b: &LiveBucket) -> Check {
    let want = spec.bucket(role);
    let id = |kind: &str| format!("{role}.{kind}");
    if let Some(e) = b.unreadable("notifications") {
        let (kind, title) = if role == BucketRole::Originals {
            ("trigger", "New originals trigger the resizer".to_string())
        } else {
            ("no-loop", format!("Writes to the {role} bucket cannot trigger the resizer"))
        };
        return unreadable(id(kind), title, e);
    }
    let to_resizer: Vec<&NotificationTarget> = b.notifications.iter().filter(|t| trigger.is_target(t)).collect();
    let listed = |ts: &[&NotificationTarget]| ts.iter().map(|t| t.describe()).collect::<Vec<_>>();
    if role == BucketRole::Originals {
        let firing = to_resizer.iter().any(|t| t.fires_on_created("artwork/0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f.jpg"));
        let mut evidence = listed(&b.notifications.iter().collect::<Vec<_>>());
        if evidence.is_empty() {
            evidence.push("the bucket has no notification configuration".into());
        }
        Check {
            id: id("trigger"),
            title: "New originals trigger the resizer".to_string(),
            status: if firing { Status::Pass } else { Status::Fail },
            evidence,
            remedy: if firing {
                String::new()
            } else {
                format!(
                    "Uploads are stored but never resized. Add an s3:ObjectCreated:* notification to {} (the fix does, keeping any other notifications).",
                    trigger.describe()
                )
            },
            fix: (!firing).then_some(Fix { role, aspect: Aspect::Notifications }),
        }
    } else {
        let looping = !to_resizer.is_empty();
        Check {
            id: id("no-loop"),
            title: format!("Writes to the {role} bucket cannot trigger the resizer"),
            status: if looping { Status::Fail } else { Status::Pass },
            evidence: if looping {
                listed(&to_resizer)
            } else {
                vec![format!("no notification of {} reaches {}", want.name, trigger.describe())]
            },
            remedy: if looping {
                "The resizer writes here, so this notification would make it trigger itself (it refuses such events, but each one is a wasted invocation). Remove it; the fix does, keeping other notifications."
                    .into()
            } else {
                String::new()
            },
            fix: looping.then_some(Fix { role, aspect: Aspect::Notifications }),
        }
    }
}
