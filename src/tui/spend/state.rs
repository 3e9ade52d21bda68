//! The Spend pane's own state: which view of the ledger is asked for, what
//! came back, and where the cursor is. Loading happens off the UI thread.

use chrono::{DateTime, Utc};

use crate::usage::report::{Filter, GroupBy, RequestRow, days_back, month_start};
use crate::usage::spend::Spend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Days7,
    Days30,
    Days90,
    Month,
}

impl Range {
    pub fn label(self) -> &'static str {
        match self {
            Range::Days7 => "last 7 days",
            Range::Days30 => "last 30 days",
            Range::Days90 => "last 90 days",
            Range::Month => "month to date",
        }
    }
    fn next(self) -> Self {
        match self {
            Range::Days7 => Range::Days30,
            Range::Days30 => Range::Days90,
            Range::Days90 => Range::Month,
            Range::Month => Range::Days7,
        }
    }
    fn since(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Range::Days7 => days_back(now, 7),
            Range::Days30 => days_back(now, 30),
            Range::Days90 => days_back(now, 90),
            Range::Month => month_start(now),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Cost,
    Requests,
    Tokens,
    Name,
}

impl Sort {
    pub fn label(self) -> &'static str {
        match self {
            Sort::Cost => "cost",
            Sort::Requests => "requests",
            Sort::Tokens => "tokens",
            Sort::Name => "name",
        }
    }
    fn next(self) -> Self {
        match self {
            Sort::Cost => Sort::Requests,
            Sort::Requests => Sort::Tokens,
            Sort::Tokens => Sort::Name,
            Sort::Name => Sort::Cost,
        }
    }
}

pub struct Drill {
    pub key: String,
    pub rows: Vec<RequestRow>,
    pub selected: usize,
}

pub struct SpendPane {
    pub range: Range,
    pub by: GroupBy,
    pub sort: Sort,
    pub model: Option<String>,
    pub profile: Option<String>,
    pub data: Option<Spend>,
    pub error: Option<String>,
    pub selected: usize,
    pub drill: Option<Drill>,
    pub org: bool,
    /// Figures from the team database instead of this machine's ledger.
    pub team: bool,
    /// Bumped on every request for data, so a late answer to an old question is dropped.
    pub generation: u64,
}

impl Default for SpendPane {
    fn default() -> Self {
        Self {
            range: Range::Days30,
            by: GroupBy::Model,
            sort: Sort::Cost,
            model: None,
            profile: None,
            data: None,
            error: None,
            selected: 0,
            drill: None,
            org: false,
            team: false,
            generation: 0,
        }
    }
}

impl SpendPane {
    pub fn filter(&self, now: DateTime<Utc>) -> Filter {
        Filter {
            since: self.range.since(now),
            until: now + chrono::Days::new(1),
            model: self.model.clone(),
            profile: self.profile.clone(),
        }
    }

    pub fn next_range(&mut self) {
        self.range = self.range.next();
    }

    pub fn next_sort(&mut self) {
        self.sort = self.sort.next();
        self.apply_sort();
    }

    pub fn step_grouping(&mut self, delta: isize) {
        // The team view offers only the groupings the team database keeps.
        let all: Vec<GroupBy> = GroupBy::ALL
            .into_iter()
            .filter(|g| !self.team || g.team_key().is_some() || *g == self.by)
            .collect();
        let i = all.iter().position(|g| *g == self.by).unwrap_or(0) as isize;
        self.by = all[(i + delta).rem_euclid(all.len() as isize) as usize];
        self.selected = 0;
    }

    /// Cycles a filter through the values seen, then back to "all".
    pub fn cycle(current: &mut Option<String>, values: &[String]) {
        let next = match current
            .as_ref()
            .and_then(|c| values.iter().position(|v| v == c))
        {
            None => values.first().cloned(),
            Some(i) => values.get(i + 1).cloned(),
        };
        *current = next;
    }

    /// Orders the rows as asked (days always in date order).
    pub fn apply_sort(&mut self) {
        let (sort, by) = (self.sort, self.by);
        if let Some(data) = self.data.as_mut() {
            if by == GroupBy::Day {
                data.rows.sort_by(|a, b| a.key.cmp(&b.key));
                return;
            }
            data.rows.sort_by(|a, b| match sort {
                Sort::Cost => b.cost_micros.cmp(&a.cost_micros),
                Sort::Requests => b.requests.cmp(&a.requests),
                Sort::Tokens => {
                    (b.input_tokens + b.output_tokens).cmp(&(a.input_tokens + a.output_tokens))
                }
                Sort::Name => a.key.cmp(&b.key),
            });
        }
    }
}
