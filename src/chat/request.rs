//! What one request asks, independent of the wire API that will carry it.

use serde::{Deserialize, Serialize};

use super::attachment::Attachment;
use super::conversation::{Conversation, NodeId, Role};
use super::params::Params;
use super::text::Text;
use super::tools::{ToolCall, ToolDef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireRole {
    System,
    User,
    Assistant,
    /// A function's result, answering the call `tool_call_id`.
    Tool,
}

impl WireRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::Tool => "tool",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    pub role: WireRole,
    pub content: Text,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The calls an assistant message made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Tools OpenAI ran for an assistant message (its remote MCP calls go back
    /// as `mcp_call` items).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosted: Vec<super::tools::HostedCall>,
    /// A `Tool` message that answers a remote MCP server's approval request:
    /// whether the call is approved (the content is the reason when not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
}

impl WireMessage {
    pub fn text(role: WireRole, content: &str) -> Self {
        Self::of(role, content.into())
    }

    /// A message of text already held elsewhere (shared, not copied).
    pub fn of(role: WireRole, content: Text) -> Self {
        Self {
            role,
            content,
            attachments: Vec::new(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            hosted: Vec::new(),
            approved: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<WireMessage>,
    pub params: Params,
    pub tools: Vec<ToolDef>,
}

impl ChatRequest {
    /// The request that answers `upto` (the system prompt, then the branch down to it).
    pub fn for_node(conv: &Conversation, upto: NodeId) -> Self {
        let mut messages = Vec::new();
        if !conv.system.trim().is_empty() {
            messages.push(WireMessage::of(WireRole::System, conv.system.clone()));
        }
        for (id, brief) in conv.lineage(upto) {
            let role = match brief.role {
                Role::User => WireRole::User,
                Role::Assistant => WireRole::Assistant,
                Role::Tool => WireRole::Tool,
                Role::Root => continue,
            };
            // Most messages are their text alone: the record of a finished
            // one stays in the spool (`chat::nodes`).
            if brief.plain {
                messages.push(WireMessage::of(role, brief.content));
                continue;
            }
            let node = &conv.nodes[id];
            messages.push(WireMessage {
                role,
                content: node.content.clone(),
                attachments: node.attachments.clone(),
                tool_calls: node.tool_calls.clone(),
                tool_call_id: node.call_id.clone(),
                hosted: node.hosted.clone(),
                approved: node.approved,
            });
        }
        Self {
            model: conv.model.clone(),
            messages,
            params: conv.params.clone(),
            tools: conv.tools.clone(),
        }
    }

    /// The whole text a tokenizer must count.
    pub fn text_len(&self) -> usize {
        self.messages.iter().map(|m| m.content.len()).sum()
    }

    /// Input tokens of the attachments, which a text tokenizer cannot see.
    pub fn attachment_tokens(&self) -> u64 {
        self.messages
            .iter()
            .flat_map(|m| &m.attachments)
            .map(Attachment::estimated_tokens)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_shares_the_system_prompt_and_messages_it_sends_back() {
        let mut conv = Conversation::new("gpt-4o-mini", chrono::Utc::now());
        conv.system = "You answer in one line.".into();
        let question = conv.append(0, Role::User, "What is a token?");
        let request = ChatRequest::for_node(&conv, question);
        let sent: Vec<&str> = request
            .messages
            .iter()
            .map(|m| m.content.as_str())
            .collect();
        assert_eq!(sent, ["You answer in one line.", "What is a token?"]);
        assert!(std::ptr::eq(
            request.messages[0].content.as_str(),
            conv.system.as_str()
        ));
        assert!(std::ptr::eq(
            request.messages[1].content.as_str(),
            conv.nodes[question].content.as_str()
        ));
    }
}
