//! What one request asks, independent of the wire API that will carry it.

use serde::{Deserialize, Serialize};

use super::conversation::{Conversation, NodeId, Role};
use super::params::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireRole {
    System,
    User,
    Assistant,
}

impl WireRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    pub role: WireRole,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<WireMessage>,
    pub params: Params,
}

impl ChatRequest {
    /// The request that answers `upto` (the system prompt, then the branch down to it).
    pub fn for_node(conv: &Conversation, upto: NodeId) -> Self {
        let mut messages = Vec::new();
        if !conv.system.trim().is_empty() {
            messages.push(WireMessage {
                role: WireRole::System,
                content: conv.system.clone(),
            });
        }
        for id in conv.lineage(upto) {
            let node = &conv.nodes[id];
            let role = match node.role {
                Role::User => WireRole::User,
                Role::Assistant => WireRole::Assistant,
                Role::Root => continue,
            };
            messages.push(WireMessage {
                role,
                content: node.content.clone(),
            });
        }
        Self {
            model: conv.model.clone(),
            messages,
            params: conv.params.clone(),
        }
    }

    /// The whole text a tokenizer must count.
    pub fn text_len(&self) -> usize {
        self.messages.iter().map(|m| m.content.len()).sum()
    }
}
