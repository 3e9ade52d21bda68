//! How much a server may make us hold. Everything a server can grow (an SSE
//! event, a whole answer, an error body, a model list, the organization's
//! pages, the number of tool calls) stops at one of these; going over ends the
//! request with a message, and what had arrived before is kept. The reads of
//! whole bodies that keep to them are here too.

use std::time::Duration;

use super::event::ProviderError;

const MIB: usize = 1024 * 1024;

/// One SSE line, or one event's `data:` lines joined. The largest legitimate
/// event is `response.completed`, which repeats the whole answer (well under 1 MiB).
pub const MAX_EVENT_BYTES: usize = 16 * MIB;

/// A whole streamed answer. 128k output tokens at ~250 bytes of SSE framing each
/// are about 32 MiB, so this leaves four times that.
pub const MAX_STREAM_BYTES: usize = 128 * MIB;

/// A whole (non-streamed) response: one answer as a single JSON object, the
/// same size class as one event.
pub const MAX_RESPONSE_BYTES: usize = MAX_EVENT_BYTES;

/// A batch's output or error file: 50,000 answers (the most one batch holds)
/// of several KiB each.
pub const MAX_BATCH_FILE_BYTES: usize = 512 * MIB;

/// An HTTP error body: only its message is shown, and only its first 300 characters.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// `GET /models`: OpenRouter's list, the largest known, is about 1 MiB.
pub const MAX_MODELS_BYTES: usize = 8 * MIB;

/// One page of the organization's Usage or Costs API (31 daily buckets).
pub const MAX_ORG_PAGE_BYTES: usize = 8 * MIB;

/// All pages of one `usage sync` request together.
pub const MAX_ORG_TOTAL_BYTES: usize = 64 * MIB;

pub use crate::chat::event::{MAX_TOOL_CALLS, tool_call_index};

/// The message for a body that went over its cap.
pub fn too_large(what: &str, cap: usize) -> ProviderError {
    ProviderError::Other(format!("{what} is larger than {} — refused", human(cap)))
}

fn human(bytes: usize) -> String {
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

/// At most `cap` bytes of a body, and whether that was all of it. The rest is
/// left unread: dropping the response then closes the connection.
async fn read_capped(
    resp: &mut reqwest::Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), ProviderError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|_| ProviderError::Interrupted)? {
        if out.len() + chunk.len() > cap {
            out.extend_from_slice(&chunk[..cap - out.len()]);
            return Ok((out, false));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, true))
}

/// A whole body of at most `cap` bytes, arrived within `wait`; `what` names
/// it in the messages.
pub async fn read_body(
    mut resp: reqwest::Response,
    cap: usize,
    wait: Duration,
    what: &str,
) -> Result<Vec<u8>, ProviderError> {
    match tokio::time::timeout(wait, read_capped(&mut resp, cap)).await {
        Err(_) => Err(ProviderError::Stalled(wait.as_secs())),
        Ok(Err(e)) => Err(e),
        Ok(Ok((_, false))) => Err(too_large(what, cap)),
        Ok(Ok((body, true))) => Ok(body),
    }
}

/// A whole body of at most `cap` bytes that keeps arriving: no more than
/// `idle` between two chunks, however long the whole takes (a batch's file on
/// a slow link); `what` names it in the messages.
pub async fn read_moving(
    mut resp: reqwest::Response,
    cap: usize,
    idle: Duration,
    what: &str,
) -> Result<Vec<u8>, ProviderError> {
    let mut out = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(idle, resp.chunk()).await {
            Err(_) => return Err(ProviderError::Stalled(idle.as_secs())),
            Ok(chunk) => chunk.map_err(|_| ProviderError::Interrupted)?,
        };
        let Some(chunk) = chunk else {
            return Ok(out);
        };
        if out.len() + chunk.len() > cap {
            return Err(too_large(what, cap));
        }
        out.extend_from_slice(&chunk);
    }
}

/// A response's body, or the server's error (its own message when it sent one).
pub async fn body_of(
    resp: reqwest::Response,
    cap: usize,
    wait: Duration,
    what: &str,
) -> Result<Vec<u8>, ProviderError> {
    if !resp.status().is_success() {
        return Err(http_error(resp, wait).await);
    }
    read_body(resp, cap, wait, what).await
}

/// The error a non-success status stands for: the server's own message when
/// its body has one, else the body's start. An error body that is endless or
/// never ends is cut at its cap or at `wait`, with the status still reported.
pub async fn http_error(mut resp: reqwest::Response, wait: Duration) -> ProviderError {
    let status = resp.status().as_u16();
    let read = tokio::time::timeout(wait, read_capped(&mut resp, MAX_ERROR_BODY_BYTES)).await;
    let (message, code) = match read {
        Err(_) => (
            format!("the error body did not arrive within {} s", wait.as_secs()),
            None,
        ),
        Ok(read) => {
            let body = read.map(|(body, _)| body).unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            super::chat_completions::error_message(&text)
                .unwrap_or_else(|| (text.chars().take(300).collect(), None))
        }
    };
    ProviderError::Http {
        status,
        message,
        code,
    }
}
