//! When to draw. At most one frame per `frame` interval, and every change is
//! on screen within one interval of happening. Within those two rules a draw
//! waits for a wake-up that happens anyway (the next stream delta or key)
//! rather than a timer of its own: on a virtual machine each wake-up costs more
//! than the frame it draws, and a steady stream then needs no timer at all.

use std::time::{Duration, Instant};

pub struct Pacer {
    frame: Duration,
    last_draw: Option<Instant>,
    /// When the oldest change not yet on screen happened.
    waiting_since: Option<Instant>,
}

impl Pacer {
    pub fn new(frame: Duration) -> Self {
        Self {
            frame,
            last_draw: None,
            waiting_since: None,
        }
    }

    /// Something the screen shows changed at `now`.
    pub fn changed(&mut self, now: Instant) {
        self.waiting_since.get_or_insert(now);
    }

    /// Draw now: something waits and the last frame is an interval old.
    pub fn due(&self, now: Instant) -> bool {
        self.waiting_since.is_some() && self.last_draw.is_none_or(|d| now >= d + self.frame)
    }

    /// The latest moment to draw what waits (none when nothing does).
    pub fn deadline(&self) -> Option<Instant> {
        // Changes after a draw are never older than it, so this also keeps
        // frames an interval apart.
        self.waiting_since.map(|oldest| oldest + self.frame)
    }

    pub fn drawn(&mut self, now: Instant) {
        self.last_draw = Some(now);
        self.waiting_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(16);

    /// Runs arrivals (ms from the start) through the pacer as the app loop
    /// does: wake at each arrival or at the deadline, whichever comes first.
    /// Returns the draw times and those a timer woke for.
    fn replay(arrivals: &[u64]) -> (Vec<u64>, Vec<u64>) {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut pacer = Pacer::new(FRAME);
        let (mut draws, mut timer_draws) = (Vec::new(), Vec::new());
        let mut next = arrivals.iter().peekable();
        loop {
            let deadline = pacer.deadline();
            let arrival = next.peek().map(|&&ms| at(ms));
            let (now, by_timer) = match (arrival, deadline) {
                (Some(a), Some(d)) if d < a => (d, true),
                (Some(a), _) => {
                    next.next();
                    pacer.changed(a);
                    (a, false)
                }
                (None, Some(d)) => (d, true),
                (None, None) => break,
            };
            if pacer.due(now) {
                pacer.drawn(now);
                let ms = (now - t0).as_millis() as u64;
                draws.push(ms);
                if by_timer {
                    timer_draws.push(ms);
                }
            }
        }
        (draws, timer_draws)
    }

    fn assert_paced(arrivals: &[u64], draws: &[u64]) {
        for pair in draws.windows(2) {
            assert!(
                pair[1] - pair[0] >= 16,
                "two frames within 16 ms: {draws:?}"
            );
        }
        for a in arrivals {
            let shown = draws
                .iter()
                .find(|&&d| d >= *a)
                .expect("every change drawn");
            assert!(shown - a <= 16, "change at {a} ms waited until {shown} ms");
        }
    }

    #[test]
    fn a_steady_stream_draws_on_arriving_deltas_without_a_timer() {
        // 200 tokens/s: a delta every 5 ms.
        let arrivals: Vec<u64> = (0..400).map(|i| i * 5).collect();
        let (draws, timer_draws) = replay(&arrivals);
        assert_paced(&arrivals, &draws);
        // Only the deltas after the last frame wait for a timer, once.
        assert_eq!(timer_draws.len(), 1);
        assert!(
            timer_draws[0] > 1995,
            "a timer woke mid-stream: {timer_draws:?}"
        );
        assert!(
            draws.len() >= 95,
            "about 50 frames a second: {}",
            draws.len()
        );
    }

    #[test]
    fn a_lone_change_draws_at_once_and_a_burst_ends_on_screen_by_a_timer() {
        let arrivals = [0, 100, 103, 106];
        let (draws, timer_draws) = replay(&arrivals);
        assert_paced(&arrivals, &draws);
        assert_eq!(draws, vec![0, 100, 119]);
        assert_eq!(timer_draws, vec![119]);
    }

    #[test]
    fn nothing_waiting_means_no_deadline() {
        let mut pacer = Pacer::new(FRAME);
        assert_eq!(pacer.deadline(), None);
        let now = Instant::now();
        pacer.changed(now);
        assert!(pacer.due(now));
        pacer.drawn(now);
        assert_eq!(pacer.deadline(), None);
        assert!(!pacer.due(now + FRAME));
    }
}
