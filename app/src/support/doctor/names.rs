//! `stack.distinct-buckets`: the originals, resized and backup buckets are
//! three buckets, not one bucket under two roles.

use super::model::{Check, Status};
use crate::storage::{BucketRole, spec::StackSpec};

pub(super) fn distinct_buckets(spec: &StackSpec) -> Check {
    let names: Vec<(BucketRole, String)> =
        BucketRole::ALL.into_iter().map(|r| (r, spec.buckets.get(r).to_string())).collect();
    let clashes: Vec<String> = names
        .iter()
        .enumerate()
        .flat_map(|(i, (a, an))| names[i + 1..].iter().filter(move |(_, bn)| bn == an).map(move |(b, _)| (a, b, an)))
        .map(|(a, b, n)| format!("the {a} and {b} buckets are both named {n}"))
        .collect();
    Check {
        id: "stack.distinct-buckets".into(),
        title: "The originals, resized and backup buckets are three different buckets".into(),
        status: if clashes.is_empty() { Status::Pass } else { Status::Fail },
        evidence: if clashes.is_empty() {
            names.iter().map(|(r, n)| format!("{r}: {n}")).collect()
        } else {
            clashes.clone()
        },
        remedy: if clashes.is_empty() {
            String::new()
        } else {
            "Give each role its own bucket (EASEL_BUCKET_* settings): with resized = originals every rendition the \
             resizer writes triggers it again, and a backup in the same bucket protects nothing."
                .into()
        },
        fix: None,
    }
}
