//! The async client. Every wire API and the offline demo speak through one
//! `Provider`, and every stream is normalised into `event::StreamEvent`.

pub mod chat_completions;
pub mod code;
pub mod demo;
pub mod event;
pub mod http;
pub mod org;
pub mod sse;

use crate::chat::request::ChatRequest;
use crate::config::{Endpoint, Profile};
use event::{ProviderError, StreamEvent};
use http::{HttpClient, Timeouts};

#[derive(Debug, Clone)]
pub enum Provider {
    Demo { tokens_per_second: u32 },
    Http(Box<HttpClient>),
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

    /// Streams the answer to `req`; the last event is always `End` or `Error`.
    pub async fn stream(&self, req: &ChatRequest, emit: &mut (dyn FnMut(StreamEvent) + Send)) {
        match self {
            Self::Demo { tokens_per_second } => demo::stream(req, *tokens_per_second, emit).await,
            Self::Http(client) => client.stream_chat(req, emit).await,
        }
    }

    /// The models the endpoint offers (`GET /models`), or the demo's.
    pub async fn models(&self) -> Result<Vec<String>, ProviderError> {
        match self {
            Self::Demo { .. } => Ok(demo::MODELS.iter().map(|m| m.to_string()).collect()),
            Self::Http(client) => client.list_models().await,
        }
    }

    /// The exact JSON body this provider would send for `req`.
    pub fn request_body(&self, req: &ChatRequest) -> Vec<u8> {
        match self {
            Self::Http(client) => client.chat_body(req),
            Self::Demo { .. } => serde_json::to_vec(&chat_completions::body(
                req,
                chat_completions::MaxTokensField::MaxCompletionTokens,
            ))
            .expect("request bodies serialize"),
        }
    }
}
