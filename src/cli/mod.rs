//! The headless commands: the same domain code as the console, for scripts and CI.

mod agent;
pub mod args;
mod budget;
pub mod chat;
mod chat_setup;
pub mod evals;
mod evals_batch;
pub mod models;
pub mod out;
mod pricing;
pub mod prompts;
pub mod usage;

use std::process::ExitCode;

use crate::config::profile::Overrides;
use crate::context::Context;
use args::{Cli, Cmd};
use out::{errln, outln};

pub fn run(cli: Cli) -> ExitCode {
    if let Some(path) = &cli.global.log
        && let Err(e) = crate::log::init(path)
    {
        return fail(&format!("cannot open the log {}: {e}", path.display()));
    }
    let overrides = Overrides {
        profile: cli.global.profile.clone(),
        base_url: cli.global.base_url.clone(),
        model: cli.global.model.first().cloned(),
        demo: cli.global.demo,
        api: cli.global.api,
    };
    let mut ctx = match Context::load(&overrides) {
        Ok(ctx) => ctx,
        Err(e) => return fail(&e.to_string()),
    };
    ctx.session = crate::provider::Session {
        record: cli.global.record.clone(),
        replay: cli.global.replay.clone(),
        replay_speed: cli.global.replay_speed.max(0.0),
    };
    ctx.allow_over_budget = cli.global.allow_over_budget;
    let result = match cli.command {
        None => crate::tui::app::run(ctx, cli.global.theme, cli.global.presenter)
            .map_err(|e| e.to_string()),
        Some(Cmd::Chat(args)) => {
            warn_all(&ctx);
            chat::run(&ctx, *args, &cli.global.model)
        }
        Some(Cmd::Models { json }) => {
            warn_all(&ctx);
            models::run(&ctx, json)
        }
        Some(Cmd::Usage(args)) => {
            warn_all(&ctx);
            usage::usage(&ctx, args)
        }
        Some(Cmd::Pricing(args)) => {
            warn_all(&ctx);
            usage::pricing(&ctx, args)
        }
        Some(Cmd::Team { action }) => {
            warn_all(&ctx);
            team(&ctx, action)
        }
        Some(Cmd::Prompts { action }) => {
            warn_all(&ctx);
            prompts::run(&ctx, action, &cli.global.model)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn warn_all(ctx: &Context) {
    for w in &ctx.warnings {
        crate::log::line("warning", w);
        errln!("llmdeck: warning: {w}");
    }
}

fn fail(message: &str) -> ExitCode {
    let line = message.lines().next().unwrap_or(message);
    errln!("llmdeck: {line}");
    ExitCode::FAILURE
}

/// A small runtime for one headless command.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// `llmdeck team push|status`.
fn team(ctx: &Context, action: args::TeamAction) -> Result<(), String> {
    let team = ctx
        .team()
        .ok_or("no [team] section in config.toml (see README)")?;
    let mut ledger = ctx.ledger()?;
    match action {
        args::TeamAction::Push => {
            let shown = team.as_ref().map(|t| t.shown.clone()).unwrap_or_default();
            let pushed = crate::runner::push_now(team, &mut ledger);
            let queued = crate::team::push::queued(&ledger).map_err(|e| e.to_string())?;
            match pushed {
                Ok(n) => {
                    outln!("pushed {n} rows to {shown}; {queued} queued");
                    Ok(())
                }
                Err(e) => Err(format!("team: offline, {queued} queued ({e})")),
            }
        }
        args::TeamAction::Status => {
            let team = team?;
            let queued = crate::team::push::queued(&ledger).map_err(|e| e.to_string())?;
            outln!(
                "team database {} as member {}; connection: {}; {queued} queued",
                team.shown,
                team.settings.member,
                team.transport.described()
            );
            Ok(())
        }
    }
}
