//! `llmdeck prompts`: the library from the command line — list, show, new,
//! run, test (a matrix that can gate CI), import and export.

use super::args::{ChatArgs, PromptsAction};
use super::out::{errln, outln};
use crate::chat::conversation::Role;
use crate::context::Context;
use crate::library::testing::{self, CaseResult};
use crate::library::{Library, import, search::Search};
use crate::usage::format_usd;

pub fn run(ctx: &Context, action: PromptsAction, models: &[String]) -> Result<(), String> {
    let dir = ctx.library_dir(&ctx.profile);
    let lib = Library::load(&dir);
    match action {
        PromptsAction::List { query, json } => list(&lib, query.as_deref(), json),
        PromptsAction::Show { name } => show(&lib, &name),
        PromptsAction::Init => {
            let done = crate::library::starter::install(&lib)?;
            for p in &done.written {
                outln!("{}", p.display());
            }
            for p in &done.kept {
                errln!("llmdeck: kept {} (already there)", p.display());
            }
            errln!("llmdeck: {}", done.summary(&dir));
            Ok(())
        }
        PromptsAction::New { name } => {
            let (file, text) = crate::library::compose::new_prompt(&name);
            let path = lib.create(&file, &text)?;
            outln!("{}", path.display());
            Ok(())
        }
        PromptsAction::Run { name, vars, json } => {
            let args = ChatArgs {
                library_prompt: Some(name),
                vars,
                json,
                ..ChatArgs::default()
            };
            super::chat::run(ctx, args, models)
        }
        PromptsAction::Test { name, json } => test(ctx, &lib, &name, models, json),
        PromptsAction::Import { path } => {
            for found in import::scan(&path)? {
                match lib.create(&found.file, &found.text) {
                    Ok(p) => outln!("imported {}", p.display()),
                    Err(e) => errln!("llmdeck: skipped: {e}"),
                }
            }
            Ok(())
        }
        PromptsAction::Export { name, vars } => {
            let p = lib.get(&name)?;
            let model =
                testing::model_for(p, models.first().map(String::as_str), &ctx.profile.model);
            let (mut conv, last) = testing::conversation(p, &vars.collect()?, &model)?;
            let at = conv.last();
            conv.append(at, Role::User, &last);
            outln!(
                "{}",
                crate::provider::chat_completions::to_request_json(&conv)
            );
            Ok(())
        }
    }
}

fn list(lib: &Library, query: Option<&str>, json: bool) -> Result<(), String> {
    let order = Search::default().run(&lib.entries, query.unwrap_or(""));
    if json {
        let items: Vec<serde_json::Value> = order
            .iter()
            .map(|&i| {
                let e = &lib.entries[i];
                match &e.prompt {
                    Ok(p) => serde_json::json!({
                        "name": p.meta.name, "path": e.path, "group": e.group(),
                        "version": p.version, "description": p.meta.description,
                        "tags": p.meta.tags, "model": p.meta.model,
                        "variables": p.meta.variables.iter().map(|v| &v.name).collect::<Vec<_>>(),
                        "tests": p.meta.tests.len(),
                    }),
                    Err(err) => serde_json::json!({
                        "name": e.name(), "path": e.path, "error": err.message, "line": err.line,
                    }),
                }
            })
            .collect();
        super::out::say_json(&items, false);
        return Ok(());
    }
    if lib.entries.is_empty() {
        outln!(
            "no prompts in {} (llmdeck prompts new NAME starts one)",
            lib.dir.display()
        );
    }
    for i in order {
        let e = &lib.entries[i];
        match &e.prompt {
            Ok(p) => outln!(
                "{:<28} {}  {:<24} {}",
                e.path.trim_end_matches(".md"),
                p.version,
                p.meta.tags.join(","),
                p.meta.description
            ),
            Err(err) => outln!(
                "{:<28} ERROR    {}:{}: {}",
                e.path.trim_end_matches(".md"),
                e.path,
                err.line,
                err.message
            ),
        }
    }
    Ok(())
}

fn show(lib: &Library, name: &str) -> Result<(), String> {
    let p = lib.get(name)?;
    let entry = lib.find(name).expect("found above");
    outln!("{}  version {}", p.meta.name, p.version);
    outln!("file: {}", lib.path_of(entry).display());
    if !p.meta.description.is_empty() {
        outln!("{}", p.meta.description);
    }
    if let Some(m) = &p.meta.model {
        outln!("model: {m}");
    }
    for v in &p.meta.variables {
        let mut facts = Vec::new();
        if v.required {
            facts.push("required".to_string());
        }
        if let Some(d) = &v.default {
            facts.push(format!("default {d:?}"));
        }
        outln!(
            "  {{{{{}}}}}  {}  {}",
            v.name,
            facts.join(", "),
            v.description
        );
    }
    outln!("tests: {}", p.meta.tests.len());
    for (role, text) in &p.messages {
        outln!("\n# {}\n\n{}", role.as_str(), text);
    }
    Ok(())
}

fn test(
    ctx: &Context,
    lib: &Library,
    name: &str,
    models: &[String],
    json: bool,
) -> Result<(), String> {
    let p = lib.get(name)?;
    // Asked once, up front, when already over; then the run stops at the budget.
    let mut gate = super::budget::open(ctx);
    super::budget::confirm(&mut gate, 0)?;
    let gate = std::sync::Mutex::new(gate);
    let (results, rows) = super::runtime()?.block_on(testing::run_tests(ctx, p, models, &gate))?;
    crate::runner::record(ctx, &rows);
    let failed = results.iter().filter(|r| !r.pass).count();
    let skipped = results.iter().filter(|r| r.skipped).count();
    if json {
        super::out::say_json(
            &serde_json::json!({"prompt": p.meta.name, "version": p.version, "passed": results.len() - failed, "failed": failed, "results": results}),
            false,
        );
    } else {
        outln!("{}", matrix(&results).trim_end_matches('\n'));
    }
    match (failed, skipped) {
        (0, _) => Ok(()),
        (n, 0) => Err(format!("{n} of {} test runs failed", results.len())),
        (n, s) => Err(format!(
            "{n} of {} test runs failed, {s} of them skipped: budget reached (--allow-over-budget runs them)",
            results.len()
        )),
    }
}

/// Cases down, targets across: ✓/✗ with cost, latency and tokens; then every failure.
pub fn matrix(results: &[CaseResult]) -> String {
    let mut targets: Vec<&str> = Vec::new();
    let mut cases: Vec<&str> = Vec::new();
    for r in results {
        if !targets.contains(&r.target.as_str()) {
            targets.push(&r.target);
        }
        if !cases.contains(&r.case.as_str()) {
            cases.push(&r.case);
        }
    }
    let width = cases
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let cell = |r: &CaseResult| {
        if r.skipped {
            return "- skipped (budget)".to_string();
        }
        format!(
            "{} {} {} {}t",
            if r.pass { "✓" } else { "✗" },
            r.cost_micros
                .map(format_usd)
                .unwrap_or_else(|| "unpriced".into()),
            r.latency_ms
                .map(|ms| format!("{ms}ms"))
                .unwrap_or_else(|| "-".into()),
            r.tokens
        )
    };
    let col = results
        .iter()
        .map(|r| cell(r).chars().count())
        .chain(targets.iter().map(|t| t.chars().count()))
        .max()
        .unwrap_or(8);
    let mut out = format!("{:<width$}", "case");
    for t in &targets {
        out.push_str(&format!("  {t:<col$}"));
    }
    out.push('\n');
    for c in &cases {
        out.push_str(&format!("{c:<width$}"));
        for t in &targets {
            let shown = results
                .iter()
                .find(|r| r.case == *c && r.target == *t)
                .map(cell)
                .unwrap_or_default();
            out.push_str(&format!("  {shown:<col$}"));
        }
        out.push('\n');
    }
    for r in results.iter().filter(|r| !r.pass) {
        for f in &r.failures {
            out.push_str(&format!("✗ {} × {}: {f}\n", r.case, r.target));
        }
    }
    let passed = results.iter().filter(|r| r.pass).count();
    out.push_str(&format!("{passed}/{} passed\n", results.len()));
    out
}
