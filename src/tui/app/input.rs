//! Terminal input read on its own task and sent to the app's channel.
//!
//! Polling crossterm's `EventStream` from the main loop's `select!` polls it
//! again on every wake-up (each streamed token), and each poll spins on
//! crossterm's reader lock while its thread waits for a key: some 27,000
//! `sched_yield` calls per 2,000-token answer. A task of its own is polled only
//! when input arrives.
//!
//! A second task watches for the terminal going away, which crossterm does not
//! report (`hung_up`).

use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::Msg;

pub struct TermInput {
    events: JoinHandle<()>,
    hang_up: JoinHandle<()>,
}

impl TermInput {
    pub fn start(tx: UnboundedSender<Msg>) -> Self {
        let quit = tx.clone();
        let hang_up = tokio::spawn(async move {
            if hung_up().await.is_ok() {
                let _ = quit.send(Msg::Quit);
            }
        });
        let events = tokio::spawn(async move {
            let mut events = EventStream::new();
            loop {
                let msg = match next_ending_hold(&mut events).await {
                    Some(Ok(ev)) => Msg::Term(ev),
                    // The terminal is gone: nothing more can be typed.
                    Some(Err(_)) | None => Msg::Quit,
                };
                let last = matches!(msg, Msg::Quit);
                if tx.send(msg).is_err() || last {
                    return;
                }
            }
        });
        Self { events, hang_up }
    }

    /// Stops reading before another program (an editor) takes the terminal:
    /// when this returns, the stream is dropped and its thread has let go.
    pub async fn stop(self) {
        self.hang_up.abort();
        self.events.abort();
        let _ = self.events.await;
    }
}

/// Resolves once the terminal has hung up (its window closed, the SSH link
/// dropped). crossterm 0.29's reader never says so (crossterm#793): its thread
/// re-reads the dead terminal, which answers end-of-file at once, without end,
/// at 100% of a core. A SIGHUP usually ends the console first, but none comes
/// when the terminal was not the console's session's or a wrapper (sudo,
/// strace) led that session. The kernel marks the hang-up on the terminal's
/// descriptor, which the runtime's poller watches here, without a thread.
async fn hung_up() -> std::io::Result<()> {
    use std::io::IsTerminal;
    use tokio::io::{Interest, unix::AsyncFd};
    // The descriptor crossterm reads: standard input if it is the terminal.
    let tty: std::os::fd::OwnedFd = if std::io::stdin().is_terminal() {
        std::os::fd::AsFd::as_fd(&std::io::stdin()).try_clone_to_owned()?
    } else {
        std::fs::File::open("/dev/tty")?.into()
    };
    // SAFETY: the AsyncFd owns the descriptor, open and unchanged until it drops.
    let tty = unsafe { AsyncFd::register_with_interest(tty, Interest::READABLE)? };
    loop {
        let mut ready = tty.readable().await?;
        if ready.ready().is_read_closed() {
            return Ok(());
        }
        // Only input: crossterm reads it; wait for the next change.
        ready.clear_ready();
    }
}

/// The next terminal event; crossterm's reader thread, when it finds one,
/// also ends the loop's hold (`pacer::end_hold`): a key typed while an answer
/// streams is drawn at once, not after the stream's next frame.
async fn next_ending_hold(events: &mut EventStream) -> Option<std::io::Result<Event>> {
    std::future::poll_fn(|cx| {
        let waker = Waker::from(Arc::new(EndsHold(cx.waker().clone())));
        events.poll_next_unpin(&mut Context::from_waker(&waker))
    })
    .await
}

struct EndsHold(Waker);

impl Wake for EndsHold {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        crate::tui::pacer::end_hold();
        self.0.wake_by_ref();
    }
}
