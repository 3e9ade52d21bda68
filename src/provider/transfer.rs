//! A request whose body must keep moving: sent in pieces, each one taken by
//! the connection is progress, and the answer must begin within a time that
//! grows with how long the body took (no total limit on a large transfer).

use std::time::{Duration, Instant};

use super::event::ProviderError;

/// How far a request's body has gone: when it began, when its last piece
/// was taken by the connection, and whether that was the last one.
#[derive(Clone)]
pub struct Moved(std::sync::Arc<std::sync::Mutex<Progress>>);

#[derive(Clone, Copy, PartialEq)]
struct Progress {
    began: Instant,
    last: Instant,
    sent: bool,
}

/// The pieces a body is sent in: each one taken is progress.
const PIECE: usize = 64 * 1024;

impl Moved {
    pub fn new(sent: bool) -> Self {
        let now = Instant::now();
        Self(std::sync::Arc::new(std::sync::Mutex::new(Progress {
            began: now,
            last: now,
            sent,
        })))
    }

    fn get(&self) -> Progress {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mark(&self, sent: bool) {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        p.last = Instant::now();
        p.sent = sent;
    }

    /// `bytes` as a body sent piece by piece, each piece marking progress.
    pub fn body(&self, bytes: Vec<u8>) -> reqwest::Body {
        let pieces = bytes.len().div_ceil(PIECE);
        let moved = self.clone();
        let stream = futures_util::stream::iter((0..pieces).map(move |i| {
            let piece = bytes[i * PIECE..((i + 1) * PIECE).min(bytes.len())].to_vec();
            moved.mark(i + 1 == pieces);
            Ok::<_, std::io::Error>(piece)
        }));
        if pieces == 0 {
            self.mark(true);
        }
        reqwest::Body::wrap_stream(stream)
    }

    /// `send` until it answers, as long as the body keeps moving (`idle`
    /// between two pieces) and, once it is all handed over, the answer begins
    /// within `first_byte` plus as long again as the body took: what the
    /// connection's buffers still hold drains at the pace the body went.
    pub async fn watch<T>(
        &self,
        send: impl std::future::Future<Output = T>,
        idle: Duration,
        first_byte: Duration,
    ) -> Result<T, ProviderError> {
        let mut send = std::pin::pin!(send);
        loop {
            let p = self.get();
            let wait = if p.sent {
                first_byte + (p.last - p.began)
            } else {
                idle
            };
            tokio::select! {
                r = &mut send => return Ok(r),
                () = tokio::time::sleep_until((p.last + wait).into()) => {
                    if self.get() == p {
                        return Err(if p.sent {
                            ProviderError::FirstByteTimeout(wait.as_secs())
                        } else {
                            ProviderError::Other(format!(
                                "the request's body stalled: nothing sent for {} s",
                                wait.as_secs()
                            ))
                        });
                    }
                }
            }
        }
    }
}
