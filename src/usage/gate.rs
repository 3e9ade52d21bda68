//! The budget gate every path that sends a request goes through (the console,
//! `chat`, `prompts run`, `prompts test`): your budgets (the profile's, else the
//! global ones) and the team's, against what was spent plus what this request
//! is estimated at.

use chrono::{DateTime, Utc};

use super::budget::{Budgets, micros};
use super::format_usd;

/// The team's budgets and the team's spend (micro-dollars) today and this month.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TeamSpend {
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
    pub today: i64,
    pub month: i64,
}

/// Why a request estimated at `estimate` should not go without a yes, if it should not.
/// `hard_stop` makes every budget in force a stop, the team's included.
pub fn ask_before(
    budgets: &Budgets,
    spent: (i64, i64),
    team: Option<&TeamSpend>,
    estimate: i64,
) -> Option<String> {
    if let Some(why) = budgets.ask_before(spent.0, spent.1, estimate) {
        return Some(why);
    }
    let team = team.filter(|_| budgets.hard_stop)?;
    for (name, spent, budget) in [
        ("team daily", team.today, team.daily_usd),
        ("team monthly", team.month, team.monthly_usd),
    ] {
        if let Some(b) = budget.map(micros)
            && spent + estimate > b
        {
            return Some(format!(
                "This request would take the {name} spend to {} of the {} budget.",
                format_usd(spent + estimate),
                format_usd(b)
            ));
        }
    }
    None
}

/// What to do when a budget says to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverBudget {
    /// No one to ask (not a terminal): refuse.
    Refuse,
    /// `--allow-over-budget`, or a yes already given for this run.
    Allow,
}

/// The gate of one run: the spend it started from, plus what it sent since.
#[derive(Debug, Clone)]
pub struct Gate {
    pub budgets: Budgets,
    pub spent: (i64, i64),
    pub team: Option<TeamSpend>,
    pub over: OverBudget,
}

impl Gate {
    /// Ok when the request may go; else why not, naming the budget.
    pub fn check(&self, estimate: i64) -> Result<(), String> {
        match ask_before(&self.budgets, self.spent, self.team.as_ref(), estimate) {
            Some(why) if self.over == OverBudget::Refuse => Err(why),
            _ => Ok(()),
        }
    }

    /// Counts `micros` more spent in this run (an estimate, or a correction of one).
    pub fn add(&mut self, micros: i64) {
        self.spent.0 += micros;
        self.spent.1 += micros;
        if let Some(t) = &mut self.team {
            t.today += micros;
            t.month += micros;
        }
    }
}

/// What a request will cost at least: its input as counted, plus the output cap
/// when one is set (0 when the model is unpriced or local).
pub fn estimate(
    machine: &crate::chat::machine::Machine,
    request: &crate::chat::request::ChatRequest,
) -> i64 {
    estimate_in(machine, request, None)
}

/// What the loop's next step (`Input::Continue`) would cost at least: the
/// conversation up to its tool results, as the request that continues it.
pub fn next_step_estimate(machine: &crate::chat::machine::Machine) -> i64 {
    let conv = &machine.conv;
    estimate(
        machine,
        &crate::chat::request::ChatRequest::for_node(conv, conv.last()),
    )
}

/// `estimate` in a service tier (`batch`: what a batch run is checked at).
pub fn estimate_in(
    machine: &crate::chat::machine::Machine,
    request: &crate::chat::request::ChatRequest,
    tier: Option<&str>,
) -> i64 {
    let usage = crate::chat::event::Usage {
        input: crate::chat::tokens::count_request(request),
        output: request.params.max_output_tokens.unwrap_or(0) as u64,
        ..Default::default()
    };
    machine.price_in(&request.model, &usage, tier).unwrap_or(0)
}

/// Your spend today and this month from the ledger, as the status bar counts it.
pub fn local_spend(ledger: &super::Ledger, now: DateTime<Utc>) -> Result<(i64, i64), String> {
    let t = super::spend::totals(ledger, now).map_err(|e| e.to_string())?;
    Ok((t.today.0, t.month.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hard(daily: f64) -> Budgets {
        Budgets {
            daily_usd: Some(daily),
            hard_stop: true,
            ..Budgets::default()
        }
    }

    #[test]
    fn the_team_budget_stops_when_yours_does_not() {
        let team = TeamSpend {
            daily_usd: Some(5.0),
            today: 4_900_000,
            ..TeamSpend::default()
        };
        let why = ask_before(&hard(100.0), (0, 0), Some(&team), 200_000).unwrap();
        assert!(why.contains("team daily spend to $5.10"), "{why}");
        assert_eq!(ask_before(&hard(100.0), (0, 0), Some(&team), 50_000), None);
        // Without hard_stop a budget only warns, the team's too.
        let soft = Budgets::default();
        assert_eq!(ask_before(&soft, (0, 0), Some(&team), 200_000), None);
    }

    #[test]
    fn a_run_counts_what_it_sent_and_allow_lets_it_through() {
        let mut gate = Gate {
            budgets: hard(1.0),
            spent: (900_000, 900_000),
            team: None,
            over: OverBudget::Refuse,
        };
        assert!(gate.check(50_000).is_ok());
        gate.add(50_000);
        let err = gate.check(100_000).unwrap_err();
        assert!(err.contains("daily spend to $1.05"), "{err}");
        gate.over = OverBudget::Allow;
        assert!(gate.check(100_000).is_ok());
    }
}
