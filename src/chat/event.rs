//! The one event type every wire API (Chat Completions, Responses, the demo)
//! is normalised into. Nothing past the provider knows which API spoke. It is
//! the chat's vocabulary (the provider speaks it; `chat` never imports `provider`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamEvent {
    /// The server answered (first byte); carries the model it reports, if any.
    Started {
        model: Option<String>,
    },
    /// Waiting before another attempt; nothing has been received yet.
    Retrying {
        attempt: u32,
        of: u32,
        wait_ms: u64,
        reason: String,
    },
    /// The processing tier the server used (`default`, `flex`, `priority`...): it sets the price.
    ServiceTier(String),
    TextDelta(String),
    ReasoningDelta(String),
    ToolCallDelta {
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    Usage(Usage),
    /// A remote MCP server's call OpenAI asks approval for (`mcp_approval_request`):
    /// a call of the answer at `index`, numbered with its function calls.
    McpApproval {
        index: u32,
        server: String,
        id: String,
        name: String,
        arguments: String,
    },
    /// A tool OpenAI ran itself (web search, file search, code interpreter) finished.
    /// Boxed: the largest event, and rare.
    Hosted(Box<crate::chat::tools::HostedCall>),
    /// What the server says the request cost, in micro-dollars (OpenRouter's
    /// `usage.cost`, LiteLLM's `x-litellm-response-cost`): it wins over a price list.
    ServerCost(i64),
    Finish(FinishReason),
    /// The stream ended normally. Always the last event unless `Error` is.
    End,
    /// The stream failed; partial text already delivered stays valid.
    Error(ProviderError),
}

/// A cost in USD as a server reports it → micro-dollars; only a positive, finite
/// figure counts (LiteLLM sends 0 when it could not price a request).
pub fn server_cost(usd: f64) -> Option<StreamEvent> {
    (usd.is_finite() && usd > 0.0).then(|| {
        let micros = (usd * 1e6)
            .round()
            .min(crate::usage::prices::MAX_REQUEST_MICROS as f64);
        StreamEvent::ServerCost(micros as i64)
    })
}

/// Token counts of one request. `source` says whether the server reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input: u64,
    pub cached_input: u64,
    pub cache_write: u64,
    /// Includes reasoning tokens, as the API counts them.
    pub output: u64,
    pub reasoning: u64,
    /// Audio tokens among the input and the output (audio models price them apart).
    #[serde(default)]
    pub input_audio: u64,
    #[serde(default)]
    pub output_audio: u64,
    pub source: UsageSource,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageSource {
    #[default]
    Reported,
    Estimated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ContentFilter,
    ToolCalls,
    Other(String),
}

impl FinishReason {
    pub fn parse(s: &str) -> Self {
        match s {
            "stop" | "end_turn" | "completed" => Self::Stop,
            "length" | "max_tokens" | "max_output_tokens" => Self::Length,
            "content_filter" => Self::ContentFilter,
            "tool_calls" | "function_call" => Self::ToolCalls,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length (max tokens reached)",
            Self::ContentFilter => "content filter",
            Self::ToolCalls => "tool calls",
            Self::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderError {
    #[error("HTTP {status}: {message}")]
    Http {
        status: u16,
        message: String,
        code: Option<String>,
    },
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("no answer within {0} s (first-byte timeout)")]
    FirstByteTimeout(u64),
    #[error("stream stalled: nothing received for {0} s")]
    Stalled(u64),
    #[error("connection closed before the answer finished")]
    Interrupted,
    #[error("malformed chunk from the server: {0}")]
    Malformed(String),
    #[error("server error in stream: {0}")]
    Server(String),
    #[error("{0}")]
    Other(String),
}

impl StreamEvent {
    /// The event with every known secret scrubbed from what the server wrote
    /// (a server may echo a key back: in a 401 body, an error event, the text,
    /// the model or tier it reports), and its token counts held to what one
    /// request can have.
    pub fn scrubbed(self) -> Self {
        use crate::log::{scrub, scrub_owned};
        match self {
            Self::Started { model } => Self::Started {
                model: model.map(|m| scrub(&m)),
            },
            Self::ServiceTier(t) => Self::ServiceTier(scrub(&t)),
            Self::ToolCallDelta {
                index,
                id,
                name,
                arguments,
            } => Self::ToolCallDelta {
                index,
                id: id.map(|i| scrub(&i)),
                name: name.map(|n| scrub(&n)),
                arguments: scrub_owned(arguments),
            },
            Self::Finish(FinishReason::Other(r)) => Self::Finish(FinishReason::Other(scrub(&r))),
            Self::Usage(u) => Self::Usage(u.held()),
            Self::TextDelta(t) => Self::TextDelta(scrub_owned(t)),
            Self::ReasoningDelta(t) => Self::ReasoningDelta(scrub_owned(t)),
            Self::Retrying {
                attempt,
                of,
                wait_ms,
                reason,
            } => Self::Retrying {
                attempt,
                of,
                wait_ms,
                reason: scrub(&reason),
            },
            Self::Error(e) => Self::Error(e.scrubbed()),
            Self::Hosted(call) => Self::Hosted(Box::new(call.scrubbed())),
            Self::McpApproval {
                index,
                server,
                id,
                name,
                arguments,
            } => Self::McpApproval {
                index,
                server: scrub(&server),
                id: scrub(&id),
                name: scrub(&name),
                arguments: scrub_owned(arguments),
            },
            // Held to the cap where it is read (`usage::cost`).
            Self::ServerCost(c) => Self::ServerCost(c),
            Self::Finish(f) => Self::Finish(f),
            Self::End => Self::End,
        }
    }
}

/// The most tokens one count of one request may say: far above any model's
/// context (millions), far below what would overflow the ledger's sums.
/// Tool calls in one answer. Parallel calls are a handful in practice; the
/// index a server sends sizes a list, so it is checked against this.
pub const MAX_TOOL_CALLS: u32 = 128;

/// A tool call's index, or a malformed stream when it is out of range.
pub fn tool_call_index(index: u64) -> Result<u32, ProviderError> {
    if index < u64::from(MAX_TOOL_CALLS) {
        return Ok(index as u32);
    }
    Err(ProviderError::Malformed(format!(
        "tool call index {index} is out of range (at most {MAX_TOOL_CALLS} calls per answer)"
    )))
}

pub const MAX_TOKENS: u64 = 1_000_000_000;

impl Usage {
    /// Every count held to `MAX_TOKENS`: a server's figures are not trusted to
    /// be sane, and the ledger and the team database add them up.
    pub fn held(self) -> Self {
        Self {
            input: self.input.min(MAX_TOKENS),
            cached_input: self.cached_input.min(MAX_TOKENS),
            cache_write: self.cache_write.min(MAX_TOKENS),
            output: self.output.min(MAX_TOKENS),
            reasoning: self.reasoning.min(MAX_TOKENS),
            input_audio: self.input_audio.min(MAX_TOKENS),
            output_audio: self.output_audio.min(MAX_TOKENS),
            source: self.source,
        }
    }
}

impl ProviderError {
    /// The error with every known secret scrubbed from its text.
    pub fn scrubbed(self) -> Self {
        use crate::log::scrub;
        match self {
            Self::Http {
                status,
                message,
                code,
            } => Self::Http {
                status,
                message: scrub(&message),
                code: code.map(|c| scrub(&c)),
            },
            Self::Connect(m) => Self::Connect(scrub(&m)),
            Self::Malformed(m) => Self::Malformed(scrub(&m)),
            Self::Server(m) => Self::Server(scrub(&m)),
            Self::Other(m) => Self::Other(scrub(&m)),
            other => other,
        }
    }

    /// A short machine-readable kind for the ledger.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Http { .. } => "http",
            Self::Connect(_) => "connect",
            Self::FirstByteTimeout(_) => "timeout",
            Self::Stalled(_) => "stalled",
            Self::Interrupted => "interrupted",
            Self::Malformed(_) => "malformed",
            Self::Server(_) => "server",
            Self::Other(_) => "other",
        }
    }

    /// Faults after the answer began: the partial answer is kept as interrupted.
    pub fn is_mid_stream(&self) -> bool {
        matches!(
            self,
            Self::Stalled(_) | Self::Interrupted | Self::Malformed(_) | Self::Server(_)
        )
    }
}
