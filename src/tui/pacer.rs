//! When to draw, and when to wake. At most one frame per `frame` interval,
//! and every change is on screen within one interval of happening. Within
//! those rules the loop wakes as rarely as it can, because each wake-up costs
//! more than the frame it draws (on a virtual machine, several times more):
//! - a draw waits for a wake-up that happens anyway (the next stream delta or
//!   key) rather than a timer of its own;
//! - while an answer flows, the thread is held asleep until the next frame
//!   (`hold`) instead of waking in `epoll_wait` for every token: what arrived
//!   meanwhile waits in the socket and is read, all at once, when it wakes.
//!   A wake-up that brings no delta ends the holding (a stalled stream, or the
//!   end of it, is waited for as any other event).

use std::cell::Cell;
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

    /// `now` is when the frame started: frames are an interval apart from
    /// start to start, so a held wake-up an interval later is due.
    pub fn drawn(&mut self, now: Instant) {
        self.last_draw = Some(now);
        self.waiting_since = None;
    }

    /// Until when the thread may sleep through arriving tokens: after a
    /// wake-up that brought stream deltas, until the next frame is due (the
    /// deadline of what waits, or an interval after the last frame).
    pub fn sleep_until(&self, streamed: bool) -> Option<Instant> {
        if !streamed {
            return None;
        }
        self.deadline()
            .or_else(|| self.last_draw.map(|d| d + self.frame))
    }
}

thread_local! {
    static HOLD: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Holds the thread asleep until `until` the next time the runtime would wait
/// for events (see `before_park`); `None` lets it wait for them as usual.
pub fn hold(until: Option<Instant>) {
    HOLD.set(until);
}

/// The runtime's `on_thread_park`: sleeps through a hold set on this thread.
pub fn before_park() {
    if let Some(until) = HOLD.take() {
        let now = Instant::now();
        if until > now {
            std::thread::sleep(until - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(16);

    #[derive(Default)]
    struct Run {
        draws: Vec<u64>,
        /// Draws a timer of the pacer's own woke the loop for.
        timer_draws: Vec<u64>,
        wakes: Vec<u64>,
    }

    /// Runs arrivals (ms from the start) through the pacer as the app loop
    /// does: it wakes at an arrival or at the deadline, whichever comes first,
    /// or (`holding`, after a wake-up that brought deltas) only at the hold,
    /// and then reads everything that arrived meanwhile.
    fn replay(arrivals: &[u64], holding: bool) -> Run {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut pacer = Pacer::new(FRAME);
        let mut run = Run::default();
        let (mut next, mut hold) = (0, None);
        loop {
            let arrival = arrivals.get(next).map(|&ms| at(ms));
            let (now, by_timer) = match (hold.take(), arrival, pacer.deadline()) {
                (Some(h), _, _) => (h, false),
                (None, Some(a), Some(d)) if d < a => (d, true),
                (None, Some(a), _) => (a, false),
                (None, None, Some(d)) => (d, true),
                (None, None, None) => break,
            };
            run.wakes.push((now - t0).as_millis() as u64);
            assert!(run.wakes.len() < 10 * arrivals.len() + 10, "the loop spins");
            let mut streamed = false;
            while next < arrivals.len() && at(arrivals[next]) <= now {
                pacer.changed(now);
                streamed = true;
                next += 1;
            }
            if pacer.due(now) {
                pacer.drawn(now);
                let ms = (now - t0).as_millis() as u64;
                run.draws.push(ms);
                if by_timer {
                    run.timer_draws.push(ms);
                }
            }
            if holding {
                hold = pacer.sleep_until(streamed);
            }
        }
        run
    }

    /// Frames at least 16 ms apart, and each change on screen within 16 ms.
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

    /// 200 tokens/s for two seconds: a delta every 5 ms.
    fn steady() -> Vec<u64> {
        (0..400).map(|i| i * 5).collect()
    }

    #[test]
    fn a_steady_stream_draws_on_arriving_deltas_without_a_timer() {
        let arrivals = steady();
        let run = replay(&arrivals, false);
        assert_paced(&arrivals, &run.draws);
        // Only the deltas after the last frame wait for a timer, once.
        assert_eq!(run.timer_draws.len(), 1);
        assert!(
            run.timer_draws[0] > 1995,
            "a timer woke mid-stream: {:?}",
            run.timer_draws
        );
        assert!(
            run.draws.len() >= 95,
            "about 50 frames a second: {}",
            run.draws.len()
        );
    }

    #[test]
    fn while_an_answer_flows_the_loop_wakes_once_a_frame() {
        let arrivals = steady();
        let run = replay(&arrivals, true);
        assert_paced(&arrivals, &run.draws);
        assert!(
            run.draws.len() >= 120,
            "about 60 frames a second: {}",
            run.draws.len()
        );
        assert!(
            run.wakes.len() <= run.draws.len() + 2,
            "{} wake-ups for {} frames (400 deltas)",
            run.wakes.len(),
            run.draws.len()
        );
    }

    #[test]
    fn after_an_answer_nothing_wakes_the_loop_again() {
        // The replay ends when the pacer asks for neither a hold nor a
        // deadline: an idle hour (or day) after it costs no wake-up at all.
        let arrivals = steady();
        let run = replay(&arrivals, true);
        let last = *run.draws.last().unwrap();
        let after: Vec<&u64> = run.wakes.iter().filter(|&&w| w > last).collect();
        // One held wake-up finds nothing and ends the holding; then none.
        assert!(after.len() <= 1, "woke after the answer at {after:?} ms");
        let mut pacer = Pacer::new(FRAME);
        let t = Instant::now();
        pacer.changed(t);
        pacer.drawn(t);
        assert_eq!((pacer.deadline(), pacer.sleep_until(false)), (None, None));
    }

    #[test]
    fn a_stalled_stream_is_waited_for_not_polled() {
        // Deltas, a second of silence, deltas again.
        let arrivals: Vec<u64> = (0..20)
            .map(|i| i * 5)
            .chain((0..20).map(|i| 1100 + i * 5))
            .collect();
        let run = replay(&arrivals, true);
        assert_paced(&arrivals, &run.draws);
        let stalled: Vec<&u64> = run.wakes.iter().filter(|&&w| w > 100 && w < 1100).collect();
        assert!(
            stalled.len() <= 1,
            "woke during the silence at {stalled:?} ms"
        );
    }

    #[test]
    fn a_lone_change_draws_at_once_and_a_burst_ends_on_screen_by_a_timer() {
        let arrivals = [0, 100, 103, 106];
        let run = replay(&arrivals, false);
        assert_paced(&arrivals, &run.draws);
        assert_eq!(run.draws, vec![0, 100, 119]);
        assert_eq!(run.timer_draws, vec![119]);
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
