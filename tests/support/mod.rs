//! Test helpers shared by the integration tests.

#![allow(dead_code)]

pub mod mock_responses;
pub mod mock_server;
pub mod openapi;
pub mod tmux;

use std::sync::Arc;

use chrono::Utc;
use llmdeck::chat::conversation::Conversation;
use llmdeck::chat::machine::{Effect, Machine, Origin};
use llmdeck::usage::PriceTable;

/// A state machine over a new conversation with `model`, priced with the embedded table.
pub fn machine(model: &str) -> Machine {
    let origin = Origin {
        source: "test".into(),
        profile: "p".into(),
        host: "h".into(),
        api: "chat".into(),
    };
    Machine::new(
        Conversation::new(model, Utc::now()),
        origin,
        Arc::new(PriceTable::embedded()),
    )
}

/// The id of the request an input started.
pub fn started(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Start { request_id, .. } => Some(*request_id),
            _ => None,
        })
        .expect("a request was started")
}
