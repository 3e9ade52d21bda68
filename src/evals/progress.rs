//! The progress line of a run on stderr, when it is a terminal: cases done,
//! pass rate so far, spend so far (answers and graders), and an ETA.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::library::testing::CaseResult;

pub struct Progress {
    /// Cases expected (a guess when a dataset has rows that will be skipped).
    total: usize,
    done: usize,
    passed: usize,
    spent: i64,
    started: Instant,
    last_drawn: Option<Instant>,
    on: bool,
}

impl Progress {
    pub fn new(total: usize, on: bool) -> Self {
        Self {
            total,
            done: 0,
            passed: 0,
            spent: 0,
            started: Instant::now(),
            last_drawn: None,
            on,
        }
    }

    pub fn add(&mut self, r: &CaseResult) {
        self.done += 1;
        self.passed += usize::from(r.pass);
        self.spent += r.cost_micros.unwrap_or(0) + r.grader_cost_micros;
        // At most ten redraws a second: a fast run is not slowed by its own progress.
        if self.on
            && self
                .last_drawn
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(100))
        {
            self.last_drawn = Some(Instant::now());
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K{}", self.line());
            let _ = err.flush();
        }
    }

    /// `12/40 cases · 83% pass · $0.0123 · ETA 8s`
    pub fn line(&self) -> String {
        let rate = (self.passed * 100).checked_div(self.done).unwrap_or(0);
        let total = self.total.max(self.done);
        let eta = if self.done == 0 || total == self.done {
            String::new()
        } else {
            let per = self.started.elapsed().as_secs_f64() / self.done as f64;
            format!(" · ETA {:.0}s", per * (total - self.done) as f64)
        };
        format!(
            "{}/{total} cases · {rate}% pass · {}{eta}",
            self.done,
            crate::usage::format_usd(self.spent)
        )
    }

    /// Clears the line, leaving the terminal as it was.
    pub fn finish(&mut self) {
        if self.on && self.last_drawn.is_some() {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_passes_spend_and_time_left() {
        let mut p = Progress::new(4, false);
        assert_eq!(p.line(), "0/4 cases · 0% pass · $0.00");
        let pass = CaseResult {
            pass: true,
            cost_micros: Some(1500),
            grader_cost_micros: 500,
            ..CaseResult::default()
        };
        p.add(&pass);
        p.add(&CaseResult::default());
        let line = p.line();
        assert!(
            line.starts_with("2/4 cases · 50% pass · $0.002 · ETA"),
            "{line}"
        );
        assert!(line.contains("ETA"), "{line}");
    }
}
