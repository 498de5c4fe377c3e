//! The crate's modules import downward only (`ARCHITECTURE.md`, "Layers").
//!
//! Reads every file under `src/`, resolves each `crate::…` and `super::…`
//! path to the module that defines it (by the files on disk), and checks:
//! - every top-level module has a place in [`LAYERS`], and imports only
//!   modules of lower layers (a new module, or a new upward import, fails
//!   here with the files that make it);
//! - no two submodules of one module import each other, directly or round
//!   a longer cycle.
//!
//! Test code (`#[cfg(test)]` modules, `tests.rs`, `*_tests.rs`, `tests/` folders) is left
//! out: it may reach anywhere. `cargo test --test module_layers --
//! --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules from the bottom up. A module may import any module of
/// a lower layer, none of its own layer or above.
const LAYERS: &[&[&str]] = &[
    // Words and tools every stage may use; they import nothing of ours.
    &["vocabulary", "metrics", "compute", "prerequisites"],
    &["models"],
    // Stages and stores that stand on the words alone.
    &["audio", "store", "clinic"],
    &[
        "stt",
        "tts",
        "nlu",
        "scheduling",
        "tasks",
        "staff",
        "settings",
        "audit",
    ],
    // The pure dialogue; the call loop (knows no clinic, no carrier).
    &["dialogue", "call"],
    // The front desk runs the dialogue for a call; carriers drive the call
    // loop; the staff API; the local caller.
    &["desk", "telephony", "web", "caller"],
    // The staff dashboard: pages over the staff API and its policy.
    &["dashboard"],
    &["app"],
    // Tools that start the whole application; the fuzz targets, which
    // reach into every stage that reads outside input.
    &["bench", "replay", "fuzzing"],
];

/// The crate root files; they declare modules and use everything.
const ROOTS: &[&str] = &["lib.rs", "main.rs"];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A module path, e.g. `["stt", "engine"]`.
type ModPath = Vec<String>;

fn module_exists(path: &[String]) -> bool {
    let mut p = src_dir();
    for seg in path {
        p.push(seg);
    }
    p.is_dir() || p.with_extension("rs").is_file()
}

/// The module a file defines: `src/stt/engine.rs` → `stt::engine`,
/// `src/stt/mod.rs` → `stt`.
fn module_of(file: &Path) -> ModPath {
    let rel = file.strip_prefix(src_dir()).unwrap();
    let mut parts: ModPath = rel
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn is_test_file(module: &ModPath) -> bool {
    module.iter().any(|s| s == "tests" || s.ends_with("_tests"))
}

/// The file's code without comments and without `#[cfg(test)]` modules.
fn product_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            // Skip the attribute and the item it guards: a `mod x;` line or
            // a `mod x { … }` block (by brace depth).
            let mut depth = 0i32;
            let mut opened = false;
            for l in lines.by_ref() {
                let code = l.split("//").next().unwrap_or("");
                depth += code.matches('{').count() as i32;
                depth -= code.matches('}').count() as i32;
                opened |= code.contains('{');
                if (opened && depth <= 0) || (!opened && code.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line.split(" // ").next().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Module paths named in `code` (written in `module`), resolved to the
/// longest prefix that is a module on disk.
fn referenced_modules(module: &ModPath, text: &str) -> BTreeSet<ModPath> {
    let mut found = BTreeSet::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(pos) = text[from..].find(start) {
            let at = from + pos;
            from = at + start.len();
            // A whole-word match only (`crate::` not inside `foo_crate::`).
            if at > 0 {
                let prev = text[..at].chars().last().unwrap();
                if prev.is_alphanumeric() || prev == '_' {
                    continue;
                }
            }
            // The base module the path starts from.
            let mut base: ModPath = if start == "crate::" {
                vec![]
            } else {
                // `super` of a file module is its parent; of `x/mod.rs`, the
                // parent of `x`.
                let mut b = module.clone();
                b.pop();
                b
            };
            let mut rest = &text[at + start.len()..];
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
            for path in expand_use_tree(rest) {
                let mut full = base.clone();
                let mut best = None;
                for seg in path {
                    full.push(seg);
                    if module_exists(&full) {
                        best = Some(full.clone());
                    } else {
                        break;
                    }
                }
                if let Some(m) = best {
                    found.insert(m);
                }
            }
        }
    }
    found
}

/// The paths of a use tree after `crate::`: `a::b::{c, d::e}` → `a::b::c`,
/// `a::b::d::e`; `a::B` → `a::B`. Only identifier segments are returned.
fn expand_use_tree(rest: &str) -> Vec<Vec<String>> {
    let mut prefix = Vec::new();
    let mut s = rest;
    loop {
        let ident: String = s
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        s = &s[ident.len()..];
        prefix.push(ident);
        if let Some(r) = s.strip_prefix("::") {
            s = r;
            if let Some(r) = s.strip_prefix('{') {
                // A group: split at top-level commas up to the matching brace.
                let mut depth = 1;
                let mut item = String::new();
                let mut items = Vec::new();
                for c in r.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        items.push(std::mem::take(&mut item));
                        break;
                    }
                    if c == ',' && depth == 1 {
                        items.push(std::mem::take(&mut item));
                    } else {
                        item.push(c);
                    }
                }
                let mut out = vec![prefix.clone()];
                for it in items {
                    for tail in expand_use_tree(it.trim()) {
                        let mut p = prefix.clone();
                        p.extend(tail);
                        out.push(p);
                    }
                }
                return out;
            }
        } else {
            break;
        }
    }
    vec![prefix]
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Who imports whom: (from, to) → the files that make the edge.
type Graph = BTreeMap<(String, String), BTreeSet<String>>;

/// The module graph at two levels: between top-level modules, and between
/// the submodules of each module.
fn graphs() -> (Graph, Graph) {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut top = Graph::new();
    let mut inner = Graph::new();
    for file in files {
        let rel = file.strip_prefix(src_dir()).unwrap().display().to_string();
        if ROOTS.contains(&rel.as_str()) {
            continue;
        }
        let module = module_of(&file);
        if is_test_file(&module) {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for target in referenced_modules(&module, &product_code(&text)) {
            if target[0] != module[0] {
                top.entry((module[0].clone(), target[0].clone()))
                    .or_default()
                    .insert(rel.clone());
            } else if module.len() > 1 && target.len() > 1 && module[1] != target[1] {
                inner
                    .entry((
                        format!("{}::{}", module[0], module[1]),
                        format!("{}::{}", target[0], target[1]),
                    ))
                    .or_default()
                    .insert(rel.clone());
            }
        }
    }
    (top, inner)
}

/// Strongly connected components with more than one node.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = graph.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for ((a, b), _) in graph.range((n.clone(), String::new())..) {
                if *a != n {
                    break;
                }
                if seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut placed = BTreeSet::new();
    for n in &nodes {
        if placed.contains(*n) || !reachable[n].contains(*n) {
            continue;
        }
        let comp: Vec<String> = nodes
            .iter()
            .filter(|m| reachable[n].contains(**m) && reachable[*m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        placed.extend(comp.iter().cloned());
        out.push(comp);
    }
    out
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn print_graph(title: &str, graph: &Graph) {
    println!("{title}");
    let mut by_from: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for (a, b) in graph.keys() {
        by_from.entry(a).or_default().push(b);
    }
    for (from, tos) in by_from {
        let tos: Vec<&str> = tos.iter().map(|s| s.as_str()).collect();
        println!("  {from} -> {}", tos.join(", "));
    }
}

#[test]
fn modules_import_downward_only() {
    let (top, inner) = graphs();
    print_graph("top-level modules:", &top);
    print_graph("submodules:", &inner);

    let mut problems = Vec::new();
    let mut modules = BTreeSet::new();
    for entry in fs::read_dir(src_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if ROOTS.contains(&name.as_str()) {
            continue;
        }
        modules.insert(name.trim_end_matches(".rs").to_string());
    }
    for m in &modules {
        if layer_of(m).is_none() {
            problems.push(format!(
                "module `{m}` has no layer: add it to LAYERS in tests/module_layers.rs and to ARCHITECTURE.md"
            ));
        }
    }
    for ((from, to), files) in &top {
        if let (Some(lf), Some(lt)) = (layer_of(from), layer_of(to))
            && lt >= lf
        {
            problems.push(format!(
                "`{from}` (layer {lf}) imports `{to}` (layer {lt}) in {}",
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    for comp in cycles(&top).into_iter().chain(cycles(&inner)) {
        problems.push(format!("import cycle: {}", comp.join(" ↔ ")));
    }
    assert!(
        problems.is_empty(),
        "the module layers are broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_imports_and_cycles() {
    // The parser: groups, nested groups, `super::` chains.
    let paths = expand_use_tree("a::{b, c::{d, E}}, f");
    assert!(paths.contains(&vec!["a".to_string(), "b".to_string()]));
    assert!(paths.contains(&vec!["a".into(), "c".into(), "d".into()]));
    assert!(paths.contains(&vec!["a".into(), "c".into(), "E".into()]));
    // A real cross-module import of this crate is found…
    let refs = referenced_modules(
        &vec!["call".into(), "session".into()],
        "use crate::stt::{Hint, SpeechToText};\nuse super::speaker::Speaker;",
    );
    assert!(refs.contains(&vec!["stt".to_string()]), "{refs:?}");
    assert!(
        refs.contains(&vec!["call".to_string(), "speaker".to_string()]),
        "{refs:?}"
    );
    // …test modules and comments are not.
    let code = product_code(
        "// use crate::app;\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::app;\n}\nfn g() {}\n",
    );
    assert!(!code.contains("crate::app"), "{code}");
    assert!(code.contains("fn g()"));
    // A two-module cycle is reported.
    let mut g = Graph::new();
    g.insert(("a".into(), "b".into()), BTreeSet::new());
    g.insert(("b".into(), "a".into()), BTreeSet::new());
    g.insert(("b".into(), "c".into()), BTreeSet::new());
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string()]]);
}
