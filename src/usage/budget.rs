//! Budgets: daily and monthly limits (global, or per profile), a warning
//! threshold, an optional hard stop, and a confirmation for one costly request.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budgets {
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
    /// Fraction of a budget at which the status bar warns.
    pub warn_at: f64,
    /// Ask before a request that would take spend over a budget.
    pub hard_stop: bool,
    /// Ask before one request whose estimated cost is above this.
    pub confirm_above_usd: Option<f64>,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            daily_usd: None,
            monthly_usd: None,
            warn_at: 0.8,
            hard_stop: false,
            confirm_above_usd: None,
        }
    }
}

pub fn micros(usd: f64) -> i64 {
    (usd * 1e6).round() as i64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Fine,
    Warning,
    Over,
}

impl Budgets {
    /// Where `spent` stands against `budget_usd`.
    pub fn level(&self, spent: i64, budget_usd: Option<f64>) -> Level {
        match budget_usd.map(micros) {
            Some(b) if spent >= b => Level::Over,
            Some(b) if spent as f64 >= b as f64 * self.warn_at => Level::Warning,
            _ => Level::Fine,
        }
    }

    /// Why a request estimated at `estimate` should be confirmed first, if it should.
    pub fn ask_before(&self, today: i64, month: i64, estimate: i64) -> Option<String> {
        if let Some(limit) = self.confirm_above_usd.map(micros)
            && estimate > limit
        {
            return Some(format!(
                "This request is estimated at {}, above your {} confirmation threshold.",
                super::format_usd(estimate),
                super::format_usd(limit)
            ));
        }
        if !self.hard_stop {
            return None;
        }
        for (name, spent, budget) in [
            ("daily", today, self.daily_usd),
            ("monthly", month, self.monthly_usd),
        ] {
            if let Some(b) = budget.map(micros)
                && spent + estimate > b
            {
                return Some(format!(
                    "This request would take the {name} spend to {} of the {} budget.",
                    super::format_usd(spent + estimate),
                    super::format_usd(b)
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_questions() {
        let b = Budgets {
            daily_usd: Some(1.0),
            monthly_usd: Some(10.0),
            hard_stop: true,
            confirm_above_usd: Some(0.5),
            ..Budgets::default()
        };
        assert_eq!(b.level(700_000, b.daily_usd), Level::Fine);
        assert_eq!(b.level(800_000, b.daily_usd), Level::Warning);
        assert_eq!(b.level(1_000_000, b.daily_usd), Level::Over);
        assert_eq!(b.level(5, None), Level::Fine);
        assert!(
            b.ask_before(0, 0, 600_000)
                .unwrap()
                .contains("above your $0.50")
        );
        assert!(
            b.ask_before(900_000, 0, 200_000)
                .unwrap()
                .contains("daily spend to $1.10")
        );
        assert_eq!(b.ask_before(100_000, 100_000, 1_000), None);
        let soft = Budgets {
            hard_stop: false,
            ..b
        };
        assert_eq!(soft.ask_before(900_000, 0, 200_000), None);
    }
}
