//! The host's layering, checked from its source: the modules import each other without cycles,
//! the domain (`model`) imports no I/O, no command-line parsing and no plugin contract, and clap
//! stays in the command-line layer. The guest SDK's modules have no cycles either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `crate::x` references per top-level module of a crate's `src/` (comments left out).
fn imports(src: &Path) -> BTreeMap<String, (BTreeSet<String>, String)> {
    let mut out: BTreeMap<String, (BTreeSet<String>, String)> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
            if top == "layers" {
                continue; // this file names what the others may not use
            }
            let code: String = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .map(|l| l.split("//").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            let (deps, text) = out.entry(top.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if name != top && !name.is_empty() {
                    deps.insert(name);
                }
            }
            text.push_str(&code);
        }
    }
    out
}

/// A cycle among the modules, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            return Some(path[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn graph(modules: &BTreeMap<String, (BTreeSet<String>, String)>) -> BTreeMap<String, BTreeSet<String>> {
    modules.iter().map(|(m, (deps, _))| (m.clone(), deps.clone())).collect()
}

#[test]
fn the_host_modules_import_each_other_without_cycles() {
    let modules = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(modules.len() > 15, "{:?}", modules.keys());
    assert_eq!(cycle(&graph(&modules)), None);
}

#[test]
fn the_domain_is_at_the_bottom() {
    let modules = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let (deps, code) = &modules["model"];
    assert!(deps.is_empty(), "model imports {deps:?}");
    for io in ["rdkafka", "ureq", "std::fs", "std::net", "tokio", "clap::", "wasmtime", "wit::"] {
        assert!(!code.contains(io), "model mentions {io}");
    }
}

#[test]
fn clap_stays_in_the_command_line_layer() {
    let modules = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let users: Vec<&str> = modules.iter().filter(|(_, (_, code))| code.contains("clap::")).map(|(m, _)| m.as_str()).collect();
    assert_eq!(users, ["cli"], "clap below the command-line layer");
}

#[test]
fn the_guest_sdk_modules_import_each_other_without_cycles() {
    let mut modules = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest/sdk/src"));
    // The crate root gathers the modules (re-exports, the export macro): it is not a layer.
    modules.remove("lib");
    let graph: BTreeMap<String, BTreeSet<String>> =
        graph(&modules).into_iter().map(|(m, deps)| (m, deps.into_iter().filter(|d| modules.contains_key(d)).collect())).collect();
    assert!(graph.contains_key("glue") && graph.contains_key("mapping"), "{graph:?}");
    assert_eq!(cycle(&graph), None);
}

#[test]
fn a_cycle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(m, d)| (m.to_owned(), BTreeSet::from([d.to_owned()])))
        .collect();
    assert_eq!(cycle(&graph), Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]));
}
