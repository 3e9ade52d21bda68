//! The async client. Every wire API and the offline demo speak through one
//! `Provider`, and every stream is normalised into `event::StreamEvent`.

pub mod batches;
pub mod chat_completions;
pub mod code;
pub mod demo;
/// The stream events every wire API is normalised into are the chat's vocabulary.
pub use crate::chat::event;
pub mod http;
pub mod limits;
pub mod org;
pub mod replay;
pub mod responses;
pub mod sse;
mod transfer;

use crate::chat::request::ChatRequest;
use crate::config::{Endpoint, Profile};
use event::{ProviderError, StreamEvent};
use http::{HttpClient, Timeouts};

#[derive(Debug, Clone)]
pub enum Provider {
    Demo {
        tokens_per_second: u32,
    },
    Http(Box<HttpClient>),
    /// Serves a recording: no network at all.
    Replay(std::sync::Arc<replay::Player>),
    /// Any provider, with what it streams saved to a recording.
    Record(Box<Provider>, std::sync::Arc<replay::Recorder>),
}

/// `--record` / `--replay`, for every provider a session makes.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub record: Option<std::path::PathBuf>,
    pub replay: Option<std::path::PathBuf>,
    pub replay_speed: f64,
}

impl Provider {
    pub fn new(
        profile: &Profile,
        timeouts: Timeouts,
        demo_tps: u32,
    ) -> Result<Self, ProviderError> {
        Ok(match &profile.endpoint {
            Endpoint::Demo => Self::Demo {
                tokens_per_second: demo_tps,
            },
            Endpoint::Http(endpoint) => {
                Self::Http(Box::new(HttpClient::new(endpoint.clone(), timeouts)?))
            }
        })
    }

    /// The remote MCP servers (`[mcp.NAME]` with `hosted = true`) whose url and
    /// headers join a request that names them, as it is sent.
    pub fn with_remote_mcp(
        self,
        remote: std::collections::BTreeMap<String, crate::chat::tools::RemoteMcp>,
    ) -> Self {
        match self {
            Self::Http(mut client) => {
                client.set_remote_mcp(remote);
                Self::Http(client)
            }
            Self::Record(inner, rec) => Self::Record(Box::new(inner.with_remote_mcp(remote)), rec),
            other => other,
        }
    }

    /// Wraps `self` for recording or replaces it by a player, as the session asks.
    pub fn with_session(self, session: &Session) -> Result<Self, String> {
        if let Some(path) = &session.replay {
            let player = replay::Player::new(replay::Recording::load(path)?, session.replay_speed);
            return Ok(Self::Replay(std::sync::Arc::new(player)));
        }
        if let Some(path) = &session.record {
            let recorder = replay::Recorder::new(path.clone())?;
            return Ok(Self::Record(Box::new(self), std::sync::Arc::new(recorder)));
        }
        Ok(self)
    }

    /// Streams the answer to `req`; the last event is always `End` or `Error`.
    /// Whatever the server wrote is scrubbed of secrets before anything
    /// (the conversation, its journal, a recording, the screen) sees it.
    pub async fn stream(&self, req: &ChatRequest, emit: &mut (dyn FnMut(StreamEvent) + Send)) {
        let emit = &mut |ev: StreamEvent| emit(ev.scrubbed());
        match self {
            Self::Demo { tokens_per_second } => demo::stream(req, *tokens_per_second, emit).await,
            Self::Http(client) => client.stream_chat(req, emit).await,
            Self::Replay(player) => player.stream(req, emit).await,
            Self::Record(inner, recorder) => {
                let start = std::time::Instant::now();
                let mut events = Vec::new();
                let mut tee = |ev: StreamEvent| {
                    events.push((start.elapsed().as_millis() as u64, ev.clone()));
                    emit(ev);
                };
                Box::pin(inner.stream(req, &mut tee)).await;
                recorder.save(req, events);
            }
        }
    }

    /// The models the endpoint offers (`GET /models`), or the demo's.
    pub async fn models(&self) -> Result<Vec<String>, ProviderError> {
        let listed = match self {
            Self::Demo { .. } => Ok(demo::MODELS.iter().map(|m| m.to_string()).collect()),
            Self::Http(client) => client.list_models().await,
            Self::Replay(player) => Ok(player.models()),
            Self::Record(inner, _) => Box::pin(inner.models()).await,
        };
        match listed {
            Ok(models) => Ok(models.iter().map(|m| crate::log::scrub(m)).collect()),
            Err(e) => Err(e.scrubbed()),
        }
    }

    /// POSTs a JSON body to `path` under the endpoint (`/embeddings`, say) and
    /// returns the JSON answer; `what` names it in errors.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<serde_json::Value, ProviderError> {
        match self {
            Self::Http(client) => client
                .post_json(path, body, what)
                .await
                .map_err(|e| e.scrubbed()),
            Self::Record(inner, _) => Box::pin(inner.post_json(path, body, what)).await,
            Self::Demo { .. } | Self::Replay(_) => Err(ProviderError::Other(format!(
                "{what} need an HTTP endpoint (not the demo or a replay)"
            ))),
        }
    }

    /// The exact JSON body this provider would send for `req`.
    pub fn request_body(&self, req: &ChatRequest) -> Vec<u8> {
        match self {
            Self::Http(client) => http::body(client.endpoint(), req),
            Self::Record(inner, _) => inner.request_body(req),
            Self::Demo { .. } | Self::Replay(_) => serde_json::to_vec(&chat_completions::body(
                req,
                chat_completions::MaxTokensField::MaxCompletionTokens,
            ))
            .expect("request bodies serialize"),
        }
    }
}
