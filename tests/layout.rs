//! The floor plan (ARCHITECTURE.md) checked mechanically: which module may
//! name which, read from the source's non-comment lines. A rule broken here is
//! a knot coming back; the message says which file and line.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The module a file under src/ is: `tui/spend/view.rs` → `crate::tui::spend::view`.
fn module_of(rel: &str) -> String {
    let path = rel.trim_end_matches(".rs").trim_end_matches("/mod");
    format!("crate::{}", path.replace('/', "::"))
}

/// The line with `super::` written out as the full path, and one level of
/// `{a, b}` groups after a `crate::tui::` path spread into one path each.
fn absolute(rel: &str, line: &str) -> String {
    let module = module_of(rel);
    let parent = &module[..module.rfind("::").unwrap_or(module.len())];
    let line = line.replace("super::", &format!("{parent}::"));
    let mut out = String::new();
    let mut rest = line.as_str();
    while let Some(at) = rest.find("crate::tui::") {
        let path_end = rest[at..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(rest.len(), |e| at + e);
        out.push_str(&rest[..path_end]);
        rest = &rest[path_end..];
        if let (true, Some(close)) = (rest.starts_with('{'), rest.find('}')) {
            let prefix = out[out.rfind("crate::tui::").unwrap_or(0)..].to_string();
            for item in rest[1..close].split(',') {
                out.push_str(&format!(" {prefix}{}", item.trim()));
            }
            rest = &rest[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// (file relative to src/, line number, line) for every line of code (not a comment).
fn code_lines(under: &str) -> Vec<(String, usize, String)> {
    let src = Path::new(ROOT).join("src");
    let mut out = Vec::new();
    for file in rust_files(&src.join(under)) {
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        for (i, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let t = line.trim_start();
            if !t.starts_with("//") {
                out.push((rel.clone(), i + 1, line.to_string()));
            }
        }
    }
    out
}

/// Every `crate::tui::…` path a line names, as its first two segments after `tui`.
fn tui_paths(line: &str) -> Vec<String> {
    line.match_indices("crate::tui::")
        .map(|(at, m)| {
            line[at + m.len()..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .take(2)
                .collect::<Vec<_>>()
                .join("::")
        })
        .filter(|p| !p.is_empty())
        .collect()
}

fn broken(rule: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{rule}:\n{}", found.join("\n"));
}

/// The lines under each of `dirs` that name any of `names`, as `file:line: text`.
fn naming(dirs: &[&str], names: &[&str]) -> Vec<String> {
    dirs.iter()
        .flat_map(|dir| code_lines(dir))
        .filter(|(_, _, l)| names.iter().any(|n| l.contains(n)))
        .map(|(f, n, l)| format!("{f}:{n}: {l}"))
        .collect()
}

#[test]
fn config_knows_nothing_of_the_terminal() {
    let found = naming(&["config"], &["ratatui", "crate::tui"]);
    broken("config/ names the terminal (themes are data there)", found);
}

#[test]
fn chat_never_imports_provider() {
    let found = naming(&["chat"], &["crate::provider"]);
    broken(
        "chat/ names provider/ (provider depends on chat, not back)",
        found,
    );
}

#[test]
fn the_domain_never_imports_a_face() {
    let domain = ["chat", "usage", "library", "team", "provider", "config"];
    let found = naming(&domain, &["crate::tui", "crate::cli"]);
    broken("the domain names the console or the command line", found);
}

#[test]
fn rooms_name_outside_themselves_by_full_path_only() {
    // So the scans below see every import: `super::super::x` would hide one.
    let found = naming(&["tui"], &["super::super"]);
    broken("a relative path climbs out of its room", found);
}

#[test]
fn the_core_names_no_room_but_their_plain_state() {
    let found = code_lines("tui/core")
        .into_iter()
        .flat_map(|(f, n, l)| {
            tui_paths(&absolute(&f, &l))
                .into_iter()
                .filter(|p| !p.starts_with("core") && !p.ends_with("::state"))
                .map(move |p| format!("{f}:{n}: crate::tui::{p}"))
        })
        .collect();
    broken("tui/core names something above it", found);
}

#[test]
fn panes_never_name_each_other() {
    let panes = ["playground", "spend", "library"];
    let mut found = Vec::new();
    for pane in panes {
        for (f, n, l) in code_lines(&format!("tui/{pane}")) {
            for p in tui_paths(&absolute(&f, &l)) {
                let room = p.split("::").next().unwrap_or("");
                if panes.contains(&room) && room != pane {
                    found.push(format!("{f}:{n}: crate::tui::{p}"));
                }
            }
        }
    }
    broken(
        "a pane names another pane (go through core or an overlay)",
        found,
    );
}

#[test]
fn views_import_no_update_code() {
    let views = rust_files(&Path::new(ROOT).join("src/tui"))
        .into_iter()
        .map(|p| {
            p.strip_prefix(Path::new(ROOT).join("src"))
                .unwrap()
                .display()
                .to_string()
        })
        .filter(|p| {
            p.starts_with("tui/views/")
                || p.ends_with("/view.rs")
                || p == "tui/playground/transcript.rs"
                || p == "tui/playground/extras.rs"
        })
        .collect::<Vec<_>>();
    assert!(views.len() >= 8, "views found: {views:?}");
    let forbidden = ["update", "keys", "effects", "app", "worker", "command"];
    let mut found = Vec::new();
    for (f, n, l) in code_lines("tui") {
        if !views.contains(&f) {
            continue;
        }
        for p in tui_paths(&absolute(&f, &l)) {
            if p.split("::").any(|seg| forbidden.contains(&seg)) {
                found.push(format!("{f}:{n}: crate::tui::{p}"));
            }
        }
    }
    broken("a view names update code", found);
}

#[test]
fn no_file_is_over_800_lines() {
    let mut found = Vec::new();
    for dir in ["src", "tests", "benches"] {
        for file in rust_files(&Path::new(ROOT).join(dir)) {
            let n = std::fs::read_to_string(&file).unwrap().lines().count();
            if n > 800 {
                found.push(format!("{}: {n} lines", file.display()));
            }
        }
    }
    broken("files over 800 lines", found);
}

#[test]
fn the_path_scanner_sees_imports() {
    assert_eq!(
        tui_paths("use crate::tui::core::state::{Level, State}; crate::tui::spend::keys::apply(s)"),
        ["core::state", "spend::keys"]
    );
    let line = absolute("tui/views/mod.rs", "use super::{library, update};");
    assert_eq!(tui_paths(&line), ["library", "update"], "{line}");
    let line = absolute("tui/spend/view.rs", "use super::keys::apply;");
    assert_eq!(tui_paths(&line), ["spend::keys"], "{line}");
}
