//! `llmdeck usage` and `llmdeck pricing`: the ledger and the price table, for people and scripts.

use chrono::Utc;

use super::args::{Format, PricingAction, PricingArgs, UsageAction, UsageArgs};
use super::out::{errln, outln};
use crate::context::Context;
use crate::usage::format_usd;
use crate::usage::report::{self, Row};

pub fn usage(ctx: &Context, args: UsageArgs) -> Result<(), String> {
    let now = Utc::now();
    if let Some(UsageAction::Sync { since }) = &args.action {
        return sync(ctx, report::parse_since(since, now)?);
    }
    let since = report::parse_since(&args.since, now)?;
    let until = match &args.until {
        Some(d) => report::parse_date(d)? + chrono::Days::new(1),
        None => now + chrono::Days::new(1),
    };
    let filter = report::Filter::days(since, until);
    let rows = if args.team {
        let team = ctx
            .team()
            .ok_or("--team needs a [team] section in config.toml (see README)")??;
        super::runtime()?.block_on(async {
            let mut client = team.connect().await?;
            crate::team::within(&team.shown, async {
                crate::team::schema::migrate(&mut client).await?;
                crate::team::query::group(&client, args.by, &filter).await
            })
            .await
        })?
    } else {
        let ledger = ctx.ledger()?;
        report::group(&ledger, args.by, &filter).map_err(|e| e.to_string())?
    };
    match args.format() {
        Format::Json => super::out::say_json(&rows, true),
        Format::Csv => {
            outln!(
                "key,requests,input_tokens,cached_tokens,output_tokens,reasoning_tokens,cost_usd,unpriced"
            );
            for r in &rows {
                outln!(
                    "{},{},{},{},{},{},{},{}",
                    csv(&r.key),
                    r.requests,
                    r.input_tokens,
                    r.cached_tokens,
                    r.output_tokens,
                    r.reasoning_tokens,
                    format_usd(r.cost_micros).trim_start_matches('$'),
                    r.unpriced
                );
            }
        }
        Format::Table => table(&rows),
    }
    Ok(())
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn table(rows: &[Row]) {
    if rows.is_empty() {
        outln!("no requests in this period");
        return;
    }
    let w = rows
        .iter()
        .map(|r| r.key.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    outln!(
        "{:<w$}  {:>8}  {:>12}  {:>12}  {:>12}",
        "",
        "requests",
        "input tok",
        "output tok",
        "cost"
    );
    let mut total = 0;
    for r in rows {
        let cost = if r.unpriced == r.requests {
            "unpriced".to_string()
        } else if r.unpriced > 0 {
            format!("{} +{} unpriced", format_usd(r.cost_micros), r.unpriced)
        } else {
            format_usd(r.cost_micros)
        };
        total += r.cost_micros;
        outln!(
            "{:<w$}  {:>8}  {:>12}  {:>12}  {:>12}",
            r.key,
            r.requests,
            r.input_tokens,
            r.output_tokens,
            cost
        );
    }
    outln!(
        "{:<w$}  {:>8}  {:>12}  {:>12}  {:>12}",
        "total",
        "",
        "",
        "",
        format_usd(total)
    );
}

pub fn pricing(ctx: &Context, args: PricingArgs) -> Result<(), String> {
    match &args.action {
        Some(PricingAction::Import { file }) => return import(ctx, file),
        Some(PricingAction::Reprice { model }) => return super::pricing::reprice(ctx, model),
        None => {}
    }
    let prices = ctx.prices();
    let models: Vec<_> = prices.models().collect();
    if args.json {
        let list: Vec<_> = models
            .iter()
            .map(|(name, p)| {
                serde_json::json!({
                    "model": name,
                    "input_per_million_usd": p.rates.input as f64 / 1000.0,
                    "cached_input_per_million_usd": p.rates.cached_input as f64 / 1000.0,
                    "output_per_million_usd": p.rates.output as f64 / 1000.0,
                    "long_context": p.long_context.iter().map(|(above, r)| serde_json::json!({
                        "above_input_tokens": above,
                        "input_per_million_usd": r.input as f64 / 1000.0,
                        "output_per_million_usd": r.output as f64 / 1000.0,
                    })).collect::<Vec<_>>(),
                    "tiers": p.tiers.iter().map(|(name, r)| (name.clone(), serde_json::json!({
                    "input_per_million_usd": r.input as f64 / 1000.0,
                    "cached_input_per_million_usd": r.cached_input as f64 / 1000.0,
                    "output_per_million_usd": r.output as f64 / 1000.0,
                }))).collect::<serde_json::Map<_, _>>(),
                "source": p.source,
                    "date": p.date,
                })
            })
            .collect();
        super::out::say_json(&list, true);
        return Ok(());
    }
    let catalog = prices.catalog();
    if let Some(Err(e)) = prices.imported_catalog() {
        errln!("llmdeck: warning: {e} — the built-in catalog is used");
    }
    let total: usize = catalog.providers.iter().map(|p| p.models().len()).sum();
    outln!(
        "catalog: {} ({}), {} providers, {total} models (provider chosen by the profile's base URL)",
        catalog.source,
        catalog.date,
        catalog.providers.len()
    );
    for p in &catalog.providers {
        outln!(
            "  {:<28} {:<28} {:>5} models",
            p.id,
            p.name,
            p.models().len()
        );
    }
    outln!("\nprice table (checked OpenAI prices, then yours: prices.toml and imports win)");
    outln!(
        "USD per 1M tokens        input   cached   output   tiers                  source (date)"
    );
    for (name, p) in models {
        let tiers: Vec<&str> = p.tiers.keys().map(String::as_str).collect();
        outln!(
            "{:<22} {:>7.3}  {:>7.3}  {:>7.3}   {:<22} {} ({})",
            name,
            p.rates.input as f64 / 1000.0,
            p.rates.cached_input as f64 / 1000.0,
            p.rates.output as f64 / 1000.0,
            tiers.join(","),
            p.source,
            p.date
        );
    }
    Ok(())
}

/// `pricing import FILE`: genai-prices' JSON (their list of providers) becomes the
/// catalog; litellm's becomes the imported price table. Checked whole before it is kept.
fn import(ctx: &Context, file: &std::path::Path) -> Result<(), String> {
    let json = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let date = Utc::now().format("%Y-%m-%d").to_string();
    let shown = |e: String| format!("{}: {e}", file.display());
    let (target, text, what) = if json.trim_start().starts_with('[') {
        let catalog = crate::usage::catalog::Catalog::parse(&json, &date).map_err(shown)?;
        let n: usize = catalog.providers.iter().map(|p| p.models().len()).sum();
        let what = format!(
            "{n} model prices of {} providers (genai-prices)",
            catalog.providers.len()
        );
        (ctx.paths.imported_catalog_file(), json, what)
    } else {
        let (text, n) = crate::usage::prices::import_litellm(&json, &date).map_err(shown)?;
        (
            ctx.paths.imported_prices_file(),
            text,
            format!("{n} model prices"),
        )
    };
    crate::config::files::write_atomic(&target, text.as_bytes())
        .map_err(|e| format!("{}: {e}", target.display()))?;
    outln!("imported {what} into {}", target.display());
    Ok(())
}

fn sync(ctx: &Context, since: chrono::DateTime<Utc>) -> Result<(), String> {
    let key = std::env::var("OPENAI_ADMIN_KEY")
        .ok()
        .and_then(|k| crate::config::Secret::new(&k))
        .ok_or(
            "set OPENAI_ADMIN_KEY (an organization admin key) to sync the Usage and Costs API",
        )?;
    let base = crate::usage::sync::admin_base_url(&ctx.settings, &ctx.profile)?;
    let done = super::runtime()?.block_on(crate::usage::sync::sync(
        &base,
        key,
        &ctx.paths.ledger_file(),
        since,
    ))?;
    outln!(
        "synced {} usage rows and {} cost rows since {} ({} in costs)",
        done.usage_rows,
        done.cost_rows,
        since.format("%Y-%m-%d"),
        format_usd(done.cost_micros)
    );
    Ok(())
}
