//! Terminal input read on its own task and sent to the app's channel.
//!
//! Polling crossterm's `EventStream` from the main loop's `select!` polls it
//! again on every wake-up (each streamed token), and each poll spins on
//! crossterm's reader lock while its thread waits for a key: some 27,000
//! `sched_yield` calls per 2,000-token answer. A task of its own is polled only
//! when input arrives.

use crossterm::event::EventStream;
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
                let msg = match events.next().await {
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
