//! The bucket doctor's policy parser and evaluator, on any JSON text.

use serde_json::Value;

use app::{Decision, Effect, Matcher, Policy, Principal, Request, Statement};

/// `easel_app::storage::policy`, compiled from its own source file. The file
/// is pure logic (serde_json and thiserror only), and depending on the whole
/// console would put Leptos, sqlx and four more AWS SDKs into every
/// instrumented fuzz build, and make an unfinished edit anywhere in `app/`
/// stop the image targets from building. Should the file start using the
/// rest of the console, this stops compiling, in `cargo ops test`.
#[path = "../../app/src/storage/policy.rs"]
pub mod app;

const ROLE: &str = "arn:aws:iam::123456789012:role/easel-resizer-role";
const ACCOUNT_ROOT: &str = "arn:aws:iam::123456789012:root";
const OBJECT: &str = "arn:aws:s3:::easel-originals/artwork/0190c0de/original.jpg";
const BUCKET: &str = "arn:aws:s3:::easel-originals";

/// Strings taken from the policy itself are cut to this many characters, so
/// that wildcard matching (quadratic at worst) stays quick per execution.
const MAX_DERIVED: usize = 256;

/// Parsing never panics; on a policy that parses, every decision is
/// consistent with the statements it names (a Deny that applies always wins,
/// an Allow is only reported when it applies) and an added deny-everything
/// statement refuses every request.
pub fn bucket_policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut policy) = Policy::parse(text) else { return };
    for s in &policy.statements {
        let _ = s.pretty();
    }
    let derived = derived_strings(&policy);
    let mut requests = Vec::new();
    for principal in [Some(ROLE), Some(ACCOUNT_ROOT), None] {
        for action in ["s3:GetObject", "s3:PutObject", "s3:ListBucket"] {
            for resource in [OBJECT, BUCKET] {
                requests.push(Request::new(principal, action, resource));
            }
        }
        requests.push(Request::new(principal, "s3:GetObject", OBJECT).with("aws:SecureTransport", "false"));
        for s in &derived {
            requests.push(Request::new(principal, s, s));
            requests.push(Request::new(Some(s), "s3:GetObject", OBJECT).with("aws:SourceIp", s));
        }
    }
    for req in &requests {
        check_decision(&policy, req);
    }

    policy.statements.push(Statement {
        sid: Some("FuzzDenyAll".into()),
        effect: Effect::Deny,
        principal: Principal::Anyone,
        not_principal: false,
        action: Matcher::Is(vec!["*".into()]),
        resource: Matcher::Is(vec!["*".into()]),
        conditions: Vec::new(),
        raw: Value::Null,
    });
    let last = policy.statements.len() - 1;
    for req in &requests {
        match policy.evaluate(req) {
            Decision::ExplicitDeny(ix) => assert!(ix.contains(&last), "the deny-all statement is not among {ix:?}"),
            other => panic!("a deny-everything statement did not refuse {req:?}: {other:?}"),
        }
    }
}

/// Actions, resources and principals the policy names, so wildcards meet
/// values they may or may not match.
fn derived_strings(policy: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    for s in &policy.statements {
        for m in [&s.action, &s.resource] {
            let (Matcher::Is(v) | Matcher::IsNot(v)) = m;
            out.extend(v.iter().take(2).cloned());
        }
        if let Principal::Aws(ids) | Principal::Other(ids) = &s.principal {
            out.extend(ids.iter().take(2).cloned());
        }
    }
    out.truncate(8);
    for s in &mut out {
        if let Some((at, _)) = s.char_indices().nth(MAX_DERIVED) {
            s.truncate(at);
        }
    }
    out
}

fn check_decision(policy: &Policy, req: &Request<'_>) {
    let decision = policy.evaluate(req);
    assert_eq!(decision, policy.evaluate(req), "the same request decided twice");
    assert_eq!(decision.is_allowed(), matches!(decision, Decision::Allowed(_)));
    let judged: Vec<(Effect, Option<bool>)> =
        policy.statements.iter().map(|s| (s.effect, s.applicability(req))).collect();
    let applying = |effect: Effect, a: Option<bool>| judged.contains(&(effect, a));
    let named = |ix: &Vec<usize>, effect: Option<Effect>, a: Option<bool>| {
        assert!(!ix.is_empty(), "{decision:?} names no statement");
        for &i in ix {
            let (e, applies) = *judged.get(i).unwrap_or_else(|| panic!("{decision:?} names a missing statement"));
            assert!(
                effect.is_none_or(|effect| effect == e) && applies == a,
                "{decision:?}: statement {i} is {e:?} {applies:?}"
            );
        }
    };
    match &decision {
        Decision::ExplicitDeny(ix) => named(ix, Some(Effect::Deny), Some(true)),
        Decision::Allowed(ix) => {
            named(ix, Some(Effect::Allow), Some(true));
            assert!(!applying(Effect::Deny, Some(true)) && !applying(Effect::Deny, None), "{decision:?} past a Deny");
        }
        Decision::Indeterminate(ix) => {
            named(ix, None, None);
            assert!(!applying(Effect::Deny, Some(true)), "{decision:?} though a Deny applies");
        }
        Decision::ImplicitDeny => {
            assert!(judged.iter().all(|(_, a)| *a == Some(false)), "implicit deny though a statement may apply")
        }
    }
    for (s, (_, applies)) in policy.statements.iter().zip(&judged) {
        assert_eq!(s.applies_to(req), *applies != Some(false));
    }
}
