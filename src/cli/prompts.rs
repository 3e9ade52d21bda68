//! `llmdeck prompts`: the library from the command line — list, show, new,
//! run, test (a matrix that can gate CI), import and export.

use super::args::{ChatArgs, PromptsAction};
use super::out::{errln, outln};
use crate::chat::conversation::Role;
use crate::context::Context;
use crate::library::testing;
use crate::library::{Library, import, search::Search};

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
        PromptsAction::Test { name, json, eval } => match (&eval.resume, name) {
            (Some(id), _) => super::evals_batch::resume(ctx, id, json, &eval),
            (None, Some(name)) => super::evals::test(ctx, &lib, &name, models, json, &eval),
            (None, None) => Err("prompts test needs a prompt's NAME (or --resume)".into()),
        },
        PromptsAction::Runs {
            name,
            open,
            json,
            reports,
        } => super::evals::runs(ctx, name.as_deref(), open.as_deref(), json, &reports),
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
