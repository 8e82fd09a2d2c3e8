//! Every route in the router, asked for with hostile path segments and query
//! values, answers with one of the console's own pages: a 4xx page (or, for
//! a signed-out visitor of the admin area, a redirect to the sign-in page),
//! never a 5xx, never a bare text rejection and never a reset connection.
//! Afterwards the console still answers `/health`.
//!
//! The routes are read from the router's source (`app/src/router.rs` and the
//! link routes it merges), so a route added there is swept here without
//! anyone remembering to list it.
//!
//! Requests go over a raw TCP connection so that the request target reaches
//! the console byte for byte: an HTTP client library would normalise `..`,
//! re-encode escapes or refuse some of them.

use std::time::Duration;

use easel_app::auth::Role;
use futures_util::{StreamExt, stream};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{TestApp, spawn_app};

const ROUTER_RS: &str = include_str!("../../../app/src/router.rs");
/// `links::routes()`, which `router.rs` merges.
const LINK_ROUTES_RS: &str = include_str!("../../../app/src/routes/decommission/mod.rs");

/// Path segments as they appear on the wire (already percent-encoded where
/// needed, so the request line itself is valid HTTP).
fn hostile_segments() -> Vec<String> {
    let mut v: Vec<String> = [
        // Percent-escapes that are not UTF-8, or decode to control characters.
        "%FF",
        "%C3%28",
        "%ED%A0%80",
        "%00",
        "%0A",
        "%0D%0A",
        "%09",
        "%7F",
        "%1B%5B31m",
        // Spaces, escapes of escapes, separators, markup.
        "%20",
        "a%20b",
        "%25",
        "%25FF",
        "%",
        "%2",
        "%2F",
        "%5C",
        "%2E%2E",
        "%3F",
        "%23",
        "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "%7Bid%7D",
        // Unicode that looks harmless or tricks displays.
        "%E2%80%AE",
        "%F0%9F%8E%A8",
        "%C3%A9",
        // Wrong types and edge numbers.
        "-1",
        "0",
        "18446744073709551616",
        "1e309",
        "NaN",
        "null",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "00000000-0000-0000-0000-00000000000%FF",
        "archive",
        "reason.pdf",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    v.push("a".repeat(4000));
    v.push("%FF".repeat(1000));
    v.push("%C3%A9".repeat(500));
    v
}

/// Query values, as they appear on the wire. Every field at once with the
/// longest stays under hyper's 64 KiB limit on a request target (past it,
/// hyper answers 414 before the console sees the request).
fn hostile_values() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "%FF",
        "%00",
        "%0A",
        "%0D%0A",
        "a%20b",
        "%25",
        "%",
        "%3C%3E%22",
        "%E2%80%AE",
        "-1",
        "99999999999999999999",
        "NaN",
        "abc",
        // Dates and times far outside the calendar, or at its very edges.
        "9999-12-31",
        "10000-01-01",
        "-9999-01-01",
        "0000-01-01",
        "%2B99999-01-01",
        "2026-02-30",
        "9999-12-31T23:59",
        "9999-12-31T23:59:59",
        "-9999-01-01T00:00",
        "0001-01-01T00:00",
        "1970-01-01T00:00",
        "1969-12-31T23:59",
        "2026-13-01T25:61",
        // Paths a sign-in could be sent on to.
        "/admin%0A",
        "/admin/%FF",
        "/admin/%C3%A9",
        "//evil.example",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    v.push("9".repeat(3000));
    v.push("%FF".repeat(1000));
    v
}

/// The values most likely to break a field's parsing, sent one field at a time.
fn sharp_values() -> Vec<String> {
    let mut v: Vec<String> = [
        "%FF",
        "%00",
        "99999999999999999999",
        "10000-01-01",
        "-9999-01-01T00:00",
        "9999-12-31",
        "9999-12-31T23:59:59",
        "0001-01-01T00:00",
        "/admin%0A",
        "/admin/%C3%A9",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    v.push("9".repeat(5000));
    v
}

/// The fields the pages' query structs read (the gallery's cursors, the
/// audit and log filters, the doctor's and dashboard's notices, the sign-in
/// page's `next`), plus one nobody reads. Every GET route gets all of them:
/// a route that does not read a field must ignore it.
const QUERY_FIELDS: &[&str] = &[
    "before",
    "after",
    "from",
    "to",
    "actor",
    "action",
    "subject",
    "q",
    "errors",
    "stream",
    "token",
    "limit",
    "fixed",
    "unchanged",
    "notice",
    "requested",
    "next",
    "zz",
];

#[derive(Debug, Clone)]
struct Route {
    path: String,
    methods: Vec<&'static str>,
}

impl Route {
    fn has_params(&self) -> bool {
        self.path.contains('{')
    }

    fn admin(&self) -> bool {
        (self.path == "/admin" || self.path.starts_with("/admin/")) && self.path != "/admin/login"
    }

    /// The path with every `{param}` replaced by `segment`.
    fn with(&self, segment: &str) -> String {
        let mut out = String::new();
        let mut rest = self.path.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').expect("a closed {param}") + open;
            out.push_str(segment);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Every `.route("PATH", METHODS)` in `src` (line comments dropped), with
/// the HTTP methods METHODS names.
fn routes_in(src: &str) -> Vec<Route> {
    let code: String = src.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let lit = rest.trim_start().strip_prefix('"').expect(".route( starts with a string literal");
        let end = lit.find('"').expect("a closed string literal");
        let path = lit[..end].to_owned();
        // The method expression runs to the parenthesis that closes `.route(`.
        let expr = &lit[end + 1..];
        let mut depth = 1;
        let mut stop = expr.len();
        for (i, c) in expr.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        stop = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let expr = &expr[..stop];
        let methods = [("get", "GET"), ("post", "POST"), ("put", "PUT"), ("patch", "PATCH"), ("delete", "DELETE")]
            .into_iter()
            .filter(|(m, _)| {
                expr.match_indices(&format!("{m}(")).any(|(i, _)| {
                    i == 0 || !expr[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            })
            .map(|(_, method)| method)
            .collect::<Vec<_>>();
        assert!(!methods.is_empty(), "no method found for {path}: {expr}");
        out.push(Route { path, methods });
    }
    out
}

/// The router's routes, as its source declares them.
fn every_route() -> Vec<Route> {
    // Only these routers are merged in; a new one must be read here too
    // (those built in router.rs itself are read with it).
    let merges: Vec<&str> = ROUTER_RS
        .match_indices(".merge(")
        .map(|(i, _)| {
            let arg = &ROUTER_RS[i + ".merge(".len()..];
            arg[..arg.find(')').unwrap()].trim()
        })
        .collect();
    for m in &merges {
        assert!(
            ["admin_repairs", "accounts", "procedure", "own", "staff", "bounded", "links::routes("].contains(m),
            "router.rs merges {m}: read its routes here too"
        );
    }
    assert!(!ROUTER_RS.contains(".nest("), "router.rs nests a router: read its routes here too");
    let mut routes = routes_in(ROUTER_RS);
    routes.extend(routes_in(LINK_ROUTES_RS));
    // A sanity check of the parsing, not a list to keep up to date.
    for known in ["/", "/upload", "/uploaded/{id}", "/media/{id}/{rendition}", "/admin/audit", "/admin/logs"] {
        assert!(routes.iter().any(|r| r.path == known), "{known} not found in router.rs: {routes:?}");
    }
    assert!(routes.len() >= 30, "only {} routes read from router.rs", routes.len());
    routes
}

struct Answer {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: String,
}

/// One request over its own connection, the target sent exactly as given.
async fn raw(
    app: &TestApp,
    method: &str,
    target: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Result<Answer, String> {
    let addr = app.base.strip_prefix("http://").unwrap();
    let mut conn = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: text/html\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: easel_session={c}\r\n"));
    }
    let body = form.unwrap_or("");
    if method != "GET" {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    conn.write_all(req.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), conn.read_to_end(&mut bytes))
        .await
        .map_err(|_| "no answer within 60 s".to_string())?
        .map_err(|e| format!("connection broken: {e}"))?;
    if bytes.is_empty() {
        return Err("connection closed without an answer".into());
    }
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    Ok(Answer {
        status,
        content_type: header("content-type").unwrap_or_default(),
        location: header("location"),
        body: body.to_owned(),
    })
}

fn is_page(a: &Answer) -> bool {
    a.content_type.starts_with("text/html") && a.body.to_ascii_lowercase().contains("<html")
}

/// What a request must get.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// A refusal: a 4xx page.
    Refused,
    /// Signed out in the admin area: a redirect to the sign-in page.
    SignIn,
    /// Anything but a failure: a 2xx or 3xx, or a 4xx page.
    NoFailure,
}

fn check(a: &Answer, expect: Expect) -> Result<(), String> {
    let page = is_page(a);
    let ok = match expect {
        Expect::Refused => (400..500).contains(&a.status) && page,
        Expect::SignIn => {
            (300..400).contains(&a.status) && a.location.as_deref().is_some_and(|l| l.starts_with("/admin/login"))
        }
        Expect::NoFailure => a.status < 400 || ((400..500).contains(&a.status) && page),
    };
    if ok {
        return Ok(());
    }
    let snippet: String = a.body.chars().take(200).collect();
    Err(format!("expected {expect:?}, got {} {:?} location {:?}: {snippet:?}", a.status, a.content_type, a.location))
}

struct Case {
    method: &'static str,
    target: String,
    cookie: Option<String>,
    form: Option<String>,
    expect: Expect,
}

/// Runs every case, a few at a time; returns every failure.
async fn sweep(app: &TestApp, cases: Vec<Case>) -> Vec<String> {
    let total = cases.len();
    let failures: Vec<String> = stream::iter(cases)
        .map(|c| async move {
            let answer = raw(app, c.method, &c.target, c.cookie.as_deref(), c.form.as_deref()).await;
            let target: String = c.target.chars().take(120).collect();
            answer.and_then(|a| check(&a, c.expect)).err().map(|e| format!("{} {target}: {e}", c.method))
        })
        .buffer_unordered(6)
        .filter_map(|f| async move { f })
        .collect()
        .await;
    eprintln!("{total} requests, {} failed", failures.len());
    failures
}

fn report(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} answers were not pages:\n{}",
        failures.len(),
        failures.iter().take(60).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[tokio::test]
async fn hostile_path_segments_get_a_refusal_page_on_every_route() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let token = admin.session_token(&app);
    let routes = every_route();
    let mut cases = Vec::new();
    for route in routes.iter().filter(|r| r.has_params()) {
        for segment in hostile_segments() {
            let target = route.with(&segment);
            for &method in &route.methods {
                // With the session's CSRF token, so a POST gets past it to the path's parsing.
                let form = Some(format!("csrf={}", admin.csrf));
                if route.admin() {
                    // Signed out, the guard answers before any handler.
                    cases.push(Case {
                        method,
                        target: target.clone(),
                        cookie: None,
                        form: None,
                        expect: Expect::SignIn,
                    });
                    cases.push(Case {
                        method,
                        target: target.clone(),
                        cookie: Some(token.clone()),
                        form,
                        expect: Expect::Refused,
                    });
                } else {
                    cases.push(Case { method, target: target.clone(), cookie: None, form, expect: Expect::Refused });
                }
            }
        }
    }
    let failures = sweep(&app, cases).await;
    assert_eq!(app.get("/health").await.status, 200, "the console is still up");
    // The session survived the sweep: nothing signed it out.
    assert_eq!(admin.get(&app, "/admin").await.status, 200);
    report(&failures);
}

#[tokio::test]
async fn hostile_query_values_never_fail_a_route() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let token = admin.session_token(&app);
    let routes = every_route();
    let mut cases = Vec::new();
    let plausible = "00000000-0000-0000-0000-000000000000";
    for route in &routes {
        // A path the route matches, so the query reaches its handler.
        let path = route.with(plausible);
        // Signed in everywhere: the admin pages run their handlers, and the
        // sign-in page follows `next` for a signed-in visitor.
        let cookie = Some(token.clone());
        for &method in &route.methods {
            if method == "GET" {
                // Every field at once with each value, then each field alone
                // with the values that break types, so one refusal does not
                // hide another field's handling.
                for value in hostile_values() {
                    let query: Vec<String> = QUERY_FIELDS.iter().map(|f| format!("{f}={value}")).collect();
                    let target = format!("{path}?{}", query.join("&"));
                    cases.push(Case {
                        method: "GET",
                        target,
                        cookie: cookie.clone(),
                        form: None,
                        expect: Expect::NoFailure,
                    });
                }
                for field in QUERY_FIELDS {
                    for value in sharp_values() {
                        let target = format!("{path}?{field}={value}");
                        cases.push(Case {
                            method: "GET",
                            target,
                            cookie: cookie.clone(),
                            form: None,
                            expect: Expect::NoFailure,
                        });
                    }
                }
            } else if route.path != "/admin/logout" {
                // Forms ignore the query; without a CSRF token each is refused with a page.
                for value in hostile_values() {
                    let target = format!("{path}?zz={value}&csrf={value}");
                    cases.push(Case { method, target, cookie: cookie.clone(), form: None, expect: Expect::Refused });
                }
            }
        }
    }
    // Filters that are read must be refused when they are not dates in the calendar.
    for (path, field) in [
        ("/admin/audit", "from"),
        ("/admin/audit", "to"),
        ("/admin/audit/export.csv", "to"),
        ("/admin/audit/export.jsonl", "from"),
        ("/admin/logs", "from"),
        ("/admin/logs", "to"),
    ] {
        for value in ["10000-01-01", "-9999-01-01T00:00", "0000-01-01", "2026-13-01T25:61", "%FF", "%00"] {
            let target = format!("{path}?{field}={value}");
            cases.push(Case {
                method: "GET",
                target,
                cookie: Some(token.clone()),
                form: None,
                expect: Expect::Refused,
            });
        }
    }
    for value in ["9999-12-31", "-9999-01-01", "0000-01-01"] {
        let target = format!("/admin/audit?to={value}&from={value}");
        cases.push(Case { method: "GET", target, cookie: Some(token.clone()), form: None, expect: Expect::NoFailure });
    }
    // Wrong types in typed fields.
    for target in
        ["/admin/logs?limit=abc", "/admin/audit?before=abc", "/admin/uploads?requested=-1", "/gallery?before=%FF"]
    {
        cases.push(Case {
            method: "GET",
            target: target.into(),
            cookie: Some(token.clone()),
            form: None,
            expect: Expect::Refused,
        });
    }
    let failures = sweep(&app, cases).await;
    assert_eq!(app.get("/health").await.status, 200, "the console is still up");
    assert_eq!(admin.get(&app, "/admin").await.status, 200);
    report(&failures);
}
