//! Chat Completions (`POST /chat/completions`): the request body, built with
//! async-openai's types so it follows OpenAI's schema, and the stream chunks,
//! parsed leniently so that Azure's and local servers' variants are understood.

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    ChatCompletionStreamOptions, CreateChatCompletionRequest, ReasoningEffort as WireEffort,
    ResponseFormat as WireFormat, ResponseFormatJsonSchema, StopConfiguration,
};
use serde::Deserialize;

use super::event::{FinishReason, ProviderError, StreamEvent, Usage, UsageSource};
use crate::chat::params::{ReasoningEffort, ResponseFormat};
use crate::chat::request::{ChatRequest, WireRole};

/// Which spelling of "max output tokens" the endpoint understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// OpenAI's current name.
    MaxCompletionTokens,
    /// The older name that most compatible servers (Ollama, vLLM, llama.cpp) read.
    MaxTokens,
}

/// The JSON body for a streamed request. Parameters left at default are absent.
#[allow(deprecated)] // `seed` and `max_tokens` are deprecated in the schema but still served
pub fn body(req: &ChatRequest, max_field: MaxTokensField) -> CreateChatCompletionRequest {
    let p = &req.params;
    let messages = req
        .messages
        .iter()
        .map(|m| match m.role {
            WireRole::System => ChatCompletionRequestMessage::System(
                ChatCompletionRequestSystemMessage::from(m.content.as_str()),
            ),
            WireRole::User => ChatCompletionRequestMessage::User(
                ChatCompletionRequestUserMessage::from(m.content.as_str()),
            ),
            WireRole::Assistant => ChatCompletionRequestMessage::Assistant(
                ChatCompletionRequestAssistantMessage::from(m.content.as_str()),
            ),
        })
        .collect();
    let (max_completion_tokens, max_tokens) = match max_field {
        MaxTokensField::MaxCompletionTokens => (p.max_output_tokens, None),
        MaxTokensField::MaxTokens => (None, p.max_output_tokens),
    };
    CreateChatCompletionRequest {
        messages,
        model: req.model.clone(),
        temperature: p.temperature,
        top_p: p.top_p,
        max_completion_tokens,
        max_tokens,
        presence_penalty: p.presence_penalty,
        frequency_penalty: p.frequency_penalty,
        seed: p.seed,
        stop: match p.stop.len() {
            0 => None,
            _ => Some(StopConfiguration::StringArray(p.stop.clone())),
        },
        response_format: match &p.response_format {
            ResponseFormat::Text => None,
            ResponseFormat::JsonObject => Some(WireFormat::JsonObject),
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => Some(WireFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    description: None,
                    name: name.clone(),
                    schema: schema.clone(),
                    strict: Some(*strict),
                },
            }),
        },
        reasoning_effort: p.reasoning_effort.map(|e| match e {
            ReasoningEffort::Minimal => WireEffort::Minimal,
            ReasoningEffort::Low => WireEffort::Low,
            ReasoningEffort::Medium => WireEffort::Medium,
            ReasoningEffort::High => WireEffort::High,
        }),
        stream: Some(true),
        // Without this a stream reports no usage and costs would be guesses.
        stream_options: Some(ChatCompletionStreamOptions {
            include_usage: Some(true),
            include_obfuscation: None,
        }),
        ..Default::default()
    }
}

#[derive(Debug, Deserialize)]
struct Chunk {
    model: Option<String>,
    service_tier: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
    error: Option<WireError>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    delta: Option<Delta>,
    /// Non-streamed responses carry `message` instead of `delta`.
    message: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    content: Option<String>,
    /// DeepSeek, vLLM and Ollama name the reasoning text differently.
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: u32,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u64,
    /// Some proxies (LiteLLM for Anthropic) report cache writes here.
    #[serde(default)]
    cache_creation_tokens: u64,
}

#[derive(Debug, Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: u64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireError {
    #[serde(default)]
    pub message: String,
    pub code: Option<serde_json::Value>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        let (cached, write) = u
            .prompt_tokens_details
            .map(|d| (d.cached_tokens, d.cache_creation_tokens))
            .unwrap_or_default();
        Usage {
            input: u.prompt_tokens,
            cached_input: cached,
            cache_write: write,
            output: u.completion_tokens,
            reasoning: u
                .completion_tokens_details
                .map(|d| d.reasoning_tokens)
                .unwrap_or(0),
            source: UsageSource::Reported,
        }
    }
}

/// Turns one `data:` payload into events. `[DONE]` is handled by the caller.
pub fn parse_chunk(data: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
    let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
        let mut shown: String = data.chars().take(120).collect();
        if data.chars().count() > 120 {
            shown.push('…');
        }
        ProviderError::Malformed(format!("{e} in {shown:?}"))
    })?;
    if let Some(err) = chunk.error {
        return Err(ProviderError::Server(err.message));
    }
    if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
        out.push(StreamEvent::Started { model: Some(model) });
    }
    if let Some(tier) = chunk.service_tier.filter(|t| !t.is_empty()) {
        out.push(StreamEvent::ServiceTier(tier));
    }
    // Azure sends chunks with empty `choices` (prompt filter results); they carry nothing.
    for choice in chunk.choices {
        if let Some(delta) = choice.delta.or(choice.message) {
            if let Some(r) = delta
                .reasoning_content
                .or(delta.reasoning)
                .filter(|s| !s.is_empty())
            {
                out.push(StreamEvent::ReasoningDelta(r));
            }
            if let Some(text) = delta.content.filter(|s| !s.is_empty()) {
                out.push(StreamEvent::TextDelta(text));
            }
            if let Some(refusal) = delta.refusal.filter(|s| !s.is_empty()) {
                out.push(StreamEvent::TextDelta(refusal));
            }
            for call in delta.tool_calls {
                let (name, arguments) = call
                    .function
                    .map(|f| (f.name, f.arguments.unwrap_or_default()))
                    .unwrap_or_default();
                out.push(StreamEvent::ToolCallDelta {
                    index: call.index,
                    id: call.id,
                    name,
                    arguments,
                });
            }
        }
        if let Some(reason) = choice.finish_reason {
            out.push(StreamEvent::Finish(FinishReason::parse(&reason)));
        }
    }
    if let Some(usage) = chunk.usage {
        out.push(StreamEvent::Usage(usage.into()));
    }
    Ok(())
}

/// The message inside an error body (`{"error": {"message": ...}}`), if any.
pub fn error_message(body: &str) -> Option<(String, Option<String>)> {
    #[derive(Deserialize)]
    struct Body {
        error: WireError,
    }
    let b: Body = serde_json::from_str(body).ok()?;
    let code = b.error.code.map(|c| match c {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    });
    Some((b.error.message, code.or(b.error.kind)))
}
