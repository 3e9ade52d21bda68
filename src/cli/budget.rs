//! Budgets on the command line: the same gate as the console. On a terminal a
//! request over a budget is asked about; otherwise it is refused, naming the
//! budget, unless `--allow-over-budget` was given for this run.

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;

use super::out::errln;
use crate::context::Context;
use crate::usage::gate::{Gate, OverBudget, TeamSpend, local_spend};

/// The gate of this run: the ledger's spend, and the team's when `[team]` is set
/// and answers within a few seconds (else its budgets are not checked, and it says so).
pub fn open(ctx: &Context) -> Gate {
    let now = Utc::now();
    let spent = match ctx.ledger().and_then(|l| local_spend(&l, now)) {
        Ok(s) => s,
        Err(e) => {
            errln!("llmdeck: warning: spend unknown, budgets counted from zero: {e}");
            (0, 0)
        }
    };
    let team = ctx.team().and_then(|team| {
        let settings = ctx.settings.team.as_ref()?;
        if settings.daily_usd.is_none() && settings.monthly_usd.is_none() {
            return None;
        }
        match team_totals(team) {
            Ok(t) => Some(TeamSpend {
                daily_usd: settings.daily_usd,
                monthly_usd: settings.monthly_usd,
                today: t.today.0,
                month: t.month.0,
            }),
            Err(e) => {
                errln!("llmdeck: warning: team budgets not checked: {e}");
                None
            }
        }
    });
    Gate {
        budgets: ctx.budgets(&ctx.profile),
        spent,
        team,
        over: if ctx.allow_over_budget {
            OverBudget::Allow
        } else {
            OverBudget::Refuse
        },
    }
}

fn team_totals(
    team: Result<crate::team::Team, String>,
) -> Result<crate::usage::spend::Totals, String> {
    let team = team?;
    super::runtime()?.block_on(async {
        let work = async {
            let client = team.connect().await?;
            crate::team::query::totals(&client, Utc::now()).await
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), work)
            .await
            .map_err(|_| format!("{} did not answer within 5 s", team.shown))?
    })
}

/// Lets a request estimated at `estimate` through, asking on a terminal (a yes
/// holds for the rest of the run); refuses it with the budget named otherwise.
pub fn confirm(gate: &mut Gate, estimate: i64) -> Result<(), String> {
    let Err(why) = gate.check(estimate) else {
        return Ok(());
    };
    if std::io::stdin().is_terminal() {
        let mut err = std::io::stderr();
        let _ = write!(err, "llmdeck: {why} Send anyway? (y/n) ");
        let _ = err.flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        if matches!(line.trim(), "y" | "Y" | "yes") {
            gate.over = OverBudget::Allow;
            return Ok(());
        }
        return Err("not sent: over budget".into());
    }
    Err(format!(
        "{why} Not sent; --allow-over-budget sends anyway for this run."
    ))
}
