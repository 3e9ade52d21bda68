//! Terminal input read on its own task and sent to the app's channel.
//!
//! Polling crossterm's `EventStream` from the main loop's `select!` polls it
//! again on every wake-up (each streamed token), and each poll spins on
//! crossterm's reader lock while its thread waits for a key: some 27,000
//! `sched_yield` calls per 2,000-token answer. A task of its own is polled only
//! when input arrives.

use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::Msg;

pub struct TermInput(JoinHandle<()>);

impl TermInput {
    pub fn start(tx: UnboundedSender<Msg>) -> Self {
        Self(tokio::spawn(async move {
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
        }))
    }

    /// Stops reading before another program (an editor) takes the terminal:
    /// when this returns, the stream is dropped and its thread has let go.
    pub async fn stop(self) {
        self.0.abort();
        let _ = self.0.await;
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
