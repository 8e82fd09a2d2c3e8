//! No import cycles between the top-level modules of `app/src` or
//! `lambda/src` (ARCHITECTURE.md, "Layers"): every `crate::` path in a
//! module's files is an edge to the top-level module it names, and the
//! graph they make must have no cycle. A scan of the source text is
//! enough: `crate::` paths are how this code base reaches across modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `source` names through `crate::` paths, grouped
/// imports (`crate::{a, b::c}`) included; comments are skipped.
fn named_modules(source: &str) -> BTreeSet<String> {
    let code: String = source.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Names at depth 1: right after the brace or a comma.
            let (mut depth, mut expect_name) = (1, true);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => expect_name = true,
                    c if c.is_whitespace() => {}
                    _ if expect_name && depth == 1 => {
                        out.insert(ident(&group[i..]));
                        expect_name = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// Top-level module → the modules it names → the files that name them.
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("under src").to_string_lossy().into_owned();
        let top = rel.split('/').next().unwrap_or("").trim_end_matches(".rs").to_owned();
        if matches!(top.as_str(), "lib" | "main" | "bin") {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("a readable source file");
        let node = graph.entry(top.clone()).or_default();
        for named in named_modules(&source) {
            if named != top {
                node.entry(named).or_default().insert(rel.clone());
            }
        }
    }
    graph
}

/// One cycle, as the path that closes it, if there is any.
fn a_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(|m| m.keys()) {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn assert_acyclic(crate_dir: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(crate_dir).join("src");
    let graph = graph(&src);
    assert!(graph.len() > 5, "{}: found only {} modules", src.display(), graph.len());
    if let Some(cycle) = a_cycle(&graph) {
        let edges: Vec<String> = cycle
            .windows(2)
            .map(|w| {
                let files: Vec<&String> = graph[&w[0]][&w[1]].iter().take(3).collect();
                format!("  {} -> {} (in {files:?})", w[0], w[1])
            })
            .collect();
        panic!("{crate_dir}/src has an import cycle:\n{}", edges.join("\n"));
    }
}

#[test]
fn app_top_level_modules_import_no_cycle() {
    assert_acyclic("app");
}

/// ARCHITECTURE.md's layers: the domain knows nothing of settings or the web,
/// and the settings nothing of the web.
#[test]
fn domain_modules_import_neither_settings_nor_the_web_layer() {
    const DOMAIN: [&str; 9] =
        ["artworks", "audit", "auth", "gate", "decommission", "storage", "support", "outbox", "mail"];
    const ABOVE: [&str; 11] = [
        "settings",
        "state",
        "error",
        "extract",
        "guards",
        "routes",
        "pages",
        "router",
        "client_addr",
        "headers",
        "startup",
    ];
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let mut wrong = Vec::new();
    for module in DOMAIN {
        let named = graph.get(module).unwrap_or_else(|| panic!("no module {module} in app/src"));
        for (target, files) in named {
            if ABOVE.contains(&target.as_str()) {
                wrong.push(format!("  {module} -> {target} (in {files:?})"));
            }
        }
    }
    for (target, files) in &graph["settings"] {
        if ABOVE.contains(&target.as_str()) {
            wrong.push(format!("  settings -> {target} (in {files:?})"));
        }
    }
    assert!(wrong.is_empty(), "modules import from above them:\n{}", wrong.join("\n"));
    assert!(graph["gate"].is_empty(), "gate imports {:?}", graph["gate"]);
}

#[test]
fn lambda_top_level_modules_import_no_cycle() {
    assert_acyclic("lambda");
}

#[test]
fn the_scan_reads_grouped_imports_and_finds_cycles() {
    let names =
        named_modules("use crate::{a::{x, y}, b, c::z};\nuse crate::d::e; // crate::ignored\nlet v = crate::f::g();");
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["a", "b", "c", "d", "f"]);
    let mut graph = Graph::new();
    let edge = |g: &mut Graph, a: &str, b: &str| {
        g.entry(a.into()).or_default().entry(b.into()).or_default().insert(format!("{a}.rs"));
    };
    edge(&mut graph, "state", "settings");
    edge(&mut graph, "settings", "auth");
    assert_eq!(a_cycle(&graph), None);
    edge(&mut graph, "auth", "state");
    let cycle = a_cycle(&graph).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
}
