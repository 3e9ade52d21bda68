//! When to draw, and when to wake. Every change is on screen within one
//! interval of happening, and frames are at least an interval apart: 16 ms for
//! what the user does (a key, a resize) and for anything else, 33 ms while only
//! an answer's deltas wait. A streamed answer reads the same at 30 frames a
//! second (at 200 tokens/s, seven tokens a frame instead of three) and costs
//! half the frames: on a laptop's battery or a small VM, the frame is most of
//! what streaming costs. Within those rules the loop wakes as rarely as it can,
//! because each wake-up costs more than the frame it draws (on a virtual
//! machine, several times more):
//! - a draw waits for a wake-up that happens anyway (the next stream delta or
//!   key) rather than a timer of its own;
//! - while an answer flows, the thread is held asleep until the next frame
//!   (`hold`) instead of waking in `epoll_wait` for every token: what arrived
//!   meanwhile waits in the socket and is read, all at once, when it wakes.
//!   Terminal input ends a hold at once (`end_hold`), so typing during an
//!   answer is drawn at the user's pace, not the stream's. A wake-up that
//!   brings no delta ends the holding (a stalled stream, or the end of it, is
//!   waited for as any other event).

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// What changed, which says how soon it must be drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// Anything but a flowing answer: drawn within the short interval.
    Prompt,
    /// Only an answer's deltas: drawn within the stream's interval.
    Stream,
}

/// What one wake-up of the loop brought: stream deltas, anything else.
#[derive(Default)]
pub struct Woke {
    pub streamed: bool,
    pub other: bool,
}

impl Woke {
    pub fn saw(&mut self, stream_delta: bool) {
        self.streamed |= stream_delta;
        self.other |= !stream_delta;
    }

    /// Deltas alone keep to the stream's pace; a key, a timer or a
    /// background result is drawn at the short one.
    pub fn pace(&self) -> Pace {
        if self.streamed && !self.other {
            Pace::Stream
        } else {
            Pace::Prompt
        }
    }
}

pub struct Pacer {
    frame: Duration,
    stream_frame: Duration,
    last_draw: Option<Instant>,
    /// When the oldest change not yet on screen happened.
    waiting_since: Option<Instant>,
    /// Something other than a stream delta waits.
    prompt_waiting: bool,
}

impl Pacer {
    /// `frame` for what the user does, `stream_frame` (no shorter) for deltas.
    pub fn new(frame: Duration, stream_frame: Duration) -> Self {
        Self {
            frame,
            stream_frame: stream_frame.max(frame),
            last_draw: None,
            waiting_since: None,
            prompt_waiting: false,
        }
    }

    /// Something the screen shows changed at `now`.
    pub fn changed(&mut self, now: Instant, pace: Pace) {
        self.waiting_since.get_or_insert(now);
        self.prompt_waiting |= pace == Pace::Prompt;
    }

    /// The interval what waits may wait (and frames keep apart).
    fn interval(&self) -> Duration {
        if self.prompt_waiting {
            self.frame
        } else {
            self.stream_frame
        }
    }

    /// Draw now: something waits and the last frame is an interval old.
    pub fn due(&self, now: Instant) -> bool {
        self.waiting_since.is_some() && self.last_draw.is_none_or(|d| now >= d + self.interval())
    }

    /// The latest moment to draw what waits (none when nothing does).
    pub fn deadline(&self) -> Option<Instant> {
        // Changes after a draw are never older than it, so this also keeps
        // frames an interval apart.
        self.waiting_since.map(|oldest| oldest + self.interval())
    }

    /// `now` is when the frame started: frames are an interval apart from
    /// start to start, so a held wake-up an interval later is due.
    pub fn drawn(&mut self, now: Instant) {
        self.last_draw = Some(now);
        self.waiting_since = None;
        self.prompt_waiting = false;
    }

    /// Until when the thread may sleep through arriving tokens: after a
    /// wake-up that brought stream deltas, until the next frame is due (the
    /// deadline of what waits, or a stream interval after the last frame).
    pub fn sleep_until(&self, streamed: bool) -> Option<Instant> {
        if !streamed {
            return None;
        }
        self.deadline()
            .or_else(|| self.last_draw.map(|d| d + self.stream_frame))
    }
}

thread_local! {
    static HOLD: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Input arrived since the last hold ended (or during one): the next hold ends
/// at once. Left set when no hold runs, so input just before one is not slept through.
static INPUT: AtomicBool = AtomicBool::new(false);
/// The thread in a hold, for `end_hold` to wake.
static HOLDER: Mutex<Option<Thread>> = Mutex::new(None);

/// Holds the thread asleep until `until` the next time the runtime would wait
/// for events (see `before_park`); `None` lets it wait for them as usual.
pub fn hold(until: Option<Instant>) {
    HOLD.set(until);
}

/// The runtime's `on_thread_park`: sleeps through a hold set on this thread,
/// until its time or until `end_hold`.
pub fn before_park() {
    let Some(until) = HOLD.take() else {
        return;
    };
    *HOLDER.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::thread::current());
    loop {
        let now = Instant::now();
        if INPUT.swap(false, Ordering::AcqRel) || now >= until {
            break;
        }
        // Wakes early on `end_hold`'s unpark (or spuriously: the loop looks again).
        std::thread::park_timeout(until - now);
    }
    *HOLDER.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Terminal input arrived (called from the thread that reads it): a hold in
/// progress ends now, and the next one does not begin.
pub fn end_hold() {
    INPUT.store(true, Ordering::Release);
    if let Some(t) = HOLDER.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        t.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(16);
    const STREAM_FRAME: Duration = Duration::from_millis(33);

    fn pacer() -> Pacer {
        Pacer::new(FRAME, STREAM_FRAME)
    }

    #[derive(Default)]
    struct Run {
        draws: Vec<u64>,
        /// Draws a timer of the pacer's own woke the loop for.
        timer_draws: Vec<u64>,
        wakes: Vec<u64>,
    }

    /// Runs stream deltas and keys (ms from the start) through the pacer as
    /// the app loop does: it wakes at an arrival or at the deadline, whichever
    /// comes first, or (`holding`, after a wake-up that brought deltas) at the
    /// hold or a key, whichever comes first, and then reads everything that
    /// arrived meanwhile.
    fn replay(deltas: &[u64], keys: &[u64], holding: bool) -> Run {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut pacer = pacer();
        let mut run = Run::default();
        let (mut next_delta, mut next_key, mut hold) = (0, 0, None);
        loop {
            let delta = deltas.get(next_delta).map(|&ms| at(ms));
            let key = keys.get(next_key).map(|&ms| at(ms));
            let arrival = match (delta, key) {
                (Some(d), Some(k)) => Some(d.min(k)),
                (d, k) => d.or(k),
            };
            let (now, by_timer) = match (hold.take(), arrival, pacer.deadline()) {
                // A key ends a hold (`end_hold`).
                (Some(h), _, _) => (key.map_or(h, |k| k.min(h)), false),
                (None, Some(a), Some(d)) if d < a => (d, true),
                (None, Some(a), _) => (a, false),
                (None, None, Some(d)) => (d, true),
                (None, None, None) => break,
            };
            run.wakes.push((now - t0).as_millis() as u64);
            assert!(
                run.wakes.len() < 10 * (deltas.len() + keys.len()) + 10,
                "the loop spins"
            );
            let mut streamed = false;
            while next_delta < deltas.len() && at(deltas[next_delta]) <= now {
                pacer.changed(now, Pace::Stream);
                streamed = true;
                next_delta += 1;
            }
            while next_key < keys.len() && at(keys[next_key]) <= now {
                pacer.changed(now, Pace::Prompt);
                next_key += 1;
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

    /// Frames at least `apart` ms apart, and each change on screen within `within` ms.
    fn assert_paced(arrivals: &[u64], draws: &[u64], apart: u64, within: u64) {
        for pair in draws.windows(2) {
            assert!(
                pair[1] - pair[0] >= apart,
                "two frames within {apart} ms: {draws:?}"
            );
        }
        for a in arrivals {
            let shown = draws
                .iter()
                .find(|&&d| d >= *a)
                .expect("every change drawn");
            assert!(
                shown - a <= within,
                "change at {a} ms waited until {shown} ms"
            );
        }
    }

    /// 200 tokens/s for two seconds: a delta every 5 ms.
    fn steady() -> Vec<u64> {
        (0..400).map(|i| i * 5).collect()
    }

    #[test]
    fn a_steady_stream_draws_on_arriving_deltas_without_a_timer() {
        let arrivals = steady();
        let run = replay(&arrivals, &[], false);
        assert_paced(&arrivals, &run.draws, 33, 33);
        // Only the deltas after the last frame may wait for a timer, once.
        assert!(
            run.timer_draws.len() <= 1 && run.timer_draws.iter().all(|&t| t > 1995),
            "a timer woke mid-stream: {:?}",
            run.timer_draws
        );
        assert!(
            run.draws.len() >= 50,
            "about 28 frames a second: {}",
            run.draws.len()
        );
    }

    #[test]
    fn while_an_answer_flows_the_loop_wakes_once_a_frame() {
        let arrivals = steady();
        let run = replay(&arrivals, &[], true);
        assert_paced(&arrivals, &run.draws, 33, 33);
        assert!(
            run.draws.len() >= 58,
            "about 30 frames a second: {}",
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
    fn a_key_during_an_answer_is_drawn_at_the_keys_pace() {
        // Keys typed while the answer flows, as a user types the next prompt.
        let keys: Vec<u64> = (0..10).map(|i| 301 + i * 97).collect();
        let deltas = steady();
        let run = replay(&deltas, &keys, true);
        assert_paced(&keys, &run.draws, 16, 16);
        assert_paced(&deltas, &run.draws, 16, 33);
        // The keys add frames, the answer keeps to its own pace otherwise.
        assert!(
            run.draws.len() <= 61 + keys.len(),
            "{} frames",
            run.draws.len()
        );
    }

    #[test]
    fn keys_alone_are_drawn_within_the_short_interval() {
        let keys = [0, 5, 10, 40, 41, 200];
        let run = replay(&[], &keys, false);
        assert_paced(&keys, &run.draws, 16, 16);
        assert_eq!(run.draws, vec![0, 21, 40, 57, 200]);
    }

    #[test]
    fn after_an_answer_nothing_wakes_the_loop_again() {
        // The replay ends when the pacer asks for neither a hold nor a
        // deadline: an idle hour (or day) after it costs no wake-up at all.
        let arrivals = steady();
        let run = replay(&arrivals, &[], true);
        let last = *run.draws.last().unwrap();
        let after: Vec<&u64> = run.wakes.iter().filter(|&&w| w > last).collect();
        // One held wake-up finds nothing and ends the holding; then none.
        assert!(after.len() <= 1, "woke after the answer at {after:?} ms");
        let mut pacer = pacer();
        let t = Instant::now();
        pacer.changed(t, Pace::Stream);
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
        let run = replay(&arrivals, &[], true);
        assert_paced(&arrivals, &run.draws, 33, 33);
        let stalled: Vec<&u64> = run.wakes.iter().filter(|&&w| w > 100 && w < 1100).collect();
        assert!(
            stalled.len() <= 1,
            "woke during the silence at {stalled:?} ms"
        );
    }

    #[test]
    fn a_lone_change_draws_at_once_and_a_burst_ends_on_screen_by_a_timer() {
        let arrivals = [0, 100, 103, 106];
        let run = replay(&arrivals, &[], false);
        assert_paced(&arrivals, &run.draws, 33, 33);
        assert_eq!(run.draws, vec![0, 100, 136]);
        assert_eq!(run.timer_draws, vec![136]);
    }

    #[test]
    fn nothing_waiting_means_no_deadline() {
        let mut pacer = pacer();
        assert_eq!(pacer.deadline(), None);
        let now = Instant::now();
        pacer.changed(now, Pace::Stream);
        assert!(pacer.due(now));
        pacer.drawn(now);
        assert_eq!(pacer.deadline(), None);
        pacer.changed(now + FRAME, Pace::Stream);
        assert!(
            !pacer.due(now + FRAME),
            "a delta waits for the stream's interval"
        );
        pacer.changed(now + FRAME, Pace::Prompt);
        assert!(pacer.due(now + FRAME), "a key does not");
    }

    #[test]
    fn input_ends_a_hold_and_a_hold_without_input_lasts() {
        // One test: both use the process-wide input flag.
        let start = Instant::now();
        let held = std::thread::spawn(|| {
            hold(Some(Instant::now() + Duration::from_secs(20)));
            before_park();
        });
        std::thread::sleep(Duration::from_millis(50));
        end_hold();
        held.join().unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "input did not end the hold"
        );
        let start = Instant::now();
        hold(Some(start + Duration::from_millis(40)));
        before_park();
        assert!(
            start.elapsed() >= Duration::from_millis(40),
            "the hold ended early"
        );
        // Input with no hold running ends the next one at once, so a key
        // read just before the loop sleeps is not slept through.
        end_hold();
        let start = Instant::now();
        hold(Some(start + Duration::from_secs(20)));
        before_park();
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
