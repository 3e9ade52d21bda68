//! Chat Completions (`POST /chat/completions`): the request body, built with
//! async-openai's types so it follows OpenAI's schema, and the stream chunks,
//! parsed leniently so that Azure's and local servers' variants are understood.

use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls, ChatCompletionNamedToolChoice,
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestMessageContentPartFile, ChatCompletionRequestMessageContentPartImage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestToolMessage,
    ChatCompletionRequestUserMessage, ChatCompletionRequestUserMessageContent,
    ChatCompletionRequestUserMessageContentPart, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionToolChoiceOption, ChatCompletionTools, CreateChatCompletionRequest, FileObject,
    FunctionCall, FunctionName, FunctionObject, ImageUrl, ReasoningEffort as WireEffort,
    ResponseFormat as WireFormat, ResponseFormatJsonSchema, StopConfiguration, ToolChoiceOptions,
};
use serde::Deserialize;

use super::event::{FinishReason, ProviderError, StreamEvent, Usage, UsageSource};
use super::limits;
use crate::chat::conversation::Conversation;
use crate::chat::params::{ReasoningEffort, ResponseFormat};
use crate::chat::request::{ChatRequest, WireMessage, WireRole};
use crate::chat::tools::ToolChoice;

/// Which spelling of "max output tokens" the endpoint understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// OpenAI's current name.
    MaxCompletionTokens,
    /// The older name that most compatible servers (Ollama, vLLM, llama.cpp) read.
    MaxTokens,
}

/// The conversation as the body of a (non-streamed) Chat Completions request.
pub fn to_request_json(conv: &Conversation) -> String {
    let mut body = body(
        &ChatRequest::for_node(conv, conv.last()),
        MaxTokensField::MaxCompletionTokens,
    );
    body.stream = None;
    body.stream_options = None;
    serde_json::to_string_pretty(&body).expect("request bodies serialize")
}

/// The JSON body for a streamed request. Parameters left at default are absent.
#[allow(deprecated)] // `seed` and `max_tokens` are deprecated in the schema but still served
pub fn body(req: &ChatRequest, max_field: MaxTokensField) -> CreateChatCompletionRequest {
    let p = &req.params;
    let (max_completion_tokens, max_tokens) = match max_field {
        MaxTokensField::MaxCompletionTokens => (p.max_output_tokens, None),
        MaxTokensField::MaxTokens => (None, p.max_output_tokens),
    };
    let has_tools = !req.tools.is_empty();
    CreateChatCompletionRequest {
        messages: messages(&req.messages),
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
        reasoning_effort: p.reasoning_effort.map(effort),
        tools: has_tools.then(|| {
            req.tools
                .iter()
                .map(|t| {
                    ChatCompletionTools::Function(ChatCompletionTool {
                        function: FunctionObject {
                            name: t.name.clone(),
                            description: (!t.description.is_empty()).then(|| t.description.clone()),
                            parameters: Some(t.parameters.clone()),
                            strict: t.strict,
                        },
                    })
                })
                .collect()
        }),
        tool_choice: p
            .tool_choice
            .as_ref()
            .filter(|_| has_tools)
            .map(|c| match c {
                ToolChoice::Auto => ChatCompletionToolChoiceOption::Mode(ToolChoiceOptions::Auto),
                ToolChoice::None => ChatCompletionToolChoiceOption::Mode(ToolChoiceOptions::None),
                ToolChoice::Required => {
                    ChatCompletionToolChoiceOption::Mode(ToolChoiceOptions::Required)
                }
                ToolChoice::Function(name) => {
                    ChatCompletionToolChoiceOption::Function(ChatCompletionNamedToolChoice {
                        function: FunctionName { name: name.clone() },
                    })
                }
            }),
        parallel_tool_calls: p.parallel_tool_calls.filter(|_| has_tools),
        stream: Some(true),
        // Without this a stream reports no usage and costs would be guesses.
        stream_options: Some(ChatCompletionStreamOptions {
            include_usage: Some(true),
            include_obfuscation: None,
        }),
        ..Default::default()
    }
}

pub(crate) fn effort(e: ReasoningEffort) -> WireEffort {
    match e {
        ReasoningEffort::Minimal => WireEffort::Minimal,
        ReasoningEffort::Low => WireEffort::Low,
        ReasoningEffort::Medium => WireEffort::Medium,
        ReasoningEffort::High => WireEffort::High,
    }
}

#[allow(deprecated)] // `function_call` is deprecated and left out
fn message(m: &WireMessage) -> ChatCompletionRequestMessage {
    match m.role {
        WireRole::System => ChatCompletionRequestMessage::System(
            ChatCompletionRequestSystemMessage::from(m.content.as_str()),
        ),
        WireRole::User if m.attachments.is_empty() => ChatCompletionRequestMessage::User(
            ChatCompletionRequestUserMessage::from(m.content.as_str()),
        ),
        WireRole::User => {
            let mut parts = vec![ChatCompletionRequestUserMessageContentPart::Text(
                m.content.as_str().into(),
            )];
            parts.extend(m.attachments.iter().map(|a| {
                if a.is_image() {
                    ChatCompletionRequestUserMessageContentPart::ImageUrl(
                        ChatCompletionRequestMessageContentPartImage {
                            image_url: ImageUrl {
                                url: a.data_url(),
                                detail: None,
                            },
                            prompt_cache_breakpoint: None,
                        },
                    )
                } else {
                    ChatCompletionRequestUserMessageContentPart::File(
                        ChatCompletionRequestMessageContentPartFile {
                            file: FileObject {
                                file_data: Some(a.data_url()),
                                file_id: None,
                                filename: Some(a.name.clone()),
                            },
                            prompt_cache_breakpoint: None,
                        },
                    )
                }
            }));
            ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
                content: ChatCompletionRequestUserMessageContent::Array(parts),
                name: None,
            })
        }
        WireRole::Assistant if m.tool_calls.is_empty() => ChatCompletionRequestMessage::Assistant(
            ChatCompletionRequestAssistantMessage::from(m.content.as_str()),
        ),
        WireRole::Assistant => {
            ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage {
                content: (!m.content.is_empty()).then(|| m.content.as_str().into()),
                tool_calls: Some(
                    m.tool_calls
                        .iter()
                        .map(|c| {
                            ChatCompletionMessageToolCalls::Function(
                                ChatCompletionMessageToolCall {
                                    id: c.id.clone(),
                                    function: FunctionCall {
                                        name: c.name.clone(),
                                        arguments: c.arguments.clone(),
                                    },
                                },
                            )
                        })
                        .collect(),
                ),
                ..Default::default()
            })
        }
        WireRole::Tool => ChatCompletionRequestMessage::Tool(ChatCompletionRequestToolMessage {
            content: m.content.as_str().into(),
            tool_call_id: m.tool_call_id.clone().unwrap_or_default(),
        }),
    }
}

/// The messages on the wire. A remote MCP server's approval requests and
/// their answers (Responses only) have no form here: they are left out. A tool
/// message is text only, so the images tools gave follow their results as one
/// user message (after the last result of the answer, where the API allows it).
fn messages(all: &[WireMessage]) -> Vec<ChatCompletionRequestMessage> {
    let mut out = Vec::new();
    let mut images: Vec<(String, crate::chat::attachment::Attachment)> = Vec::new();
    for (i, m) in all.iter().enumerate() {
        if m.approved.is_some() {
            continue;
        }
        if m.tool_calls.iter().any(|c| c.server.is_some()) {
            let mut local = m.clone();
            local.tool_calls.retain(|c| c.server.is_none());
            if !local.content.is_empty() || !local.tool_calls.is_empty() {
                out.push(message(&local));
            }
        } else {
            out.push(message(m));
        }
        if m.role == WireRole::Tool {
            let id = m.tool_call_id.clone().unwrap_or_default();
            images.extend(
                m.attachments
                    .iter()
                    .filter(|a| a.is_image())
                    .map(|a| (id.clone(), a.clone())),
            );
        }
        let more_results = all
            .get(i + 1)
            .is_some_and(|n| n.role == WireRole::Tool && n.approved.is_none());
        if !images.is_empty() && !more_results {
            let names: Vec<String> = images
                .iter()
                .map(|(id, a)| format!("{} ({id})", a.name))
                .collect();
            let mut user = WireMessage::text(
                WireRole::User,
                &format!(
                    "The images the tool calls above returned: {}",
                    names.join(", ")
                ),
            );
            user.attachments = images.drain(..).map(|(_, a)| a).collect();
            out.push(message(&user));
        }
    }
    out
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
    /// Absent in a whole (non-streamed) message: the position counts then.
    index: Option<u64>,
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
    /// OpenRouter: what the request cost, in USD.
    cost: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u64,
    /// Some proxies (LiteLLM for Anthropic) report cache writes here.
    #[serde(default)]
    cache_creation_tokens: u64,
    #[serde(default)]
    audio_tokens: u64,
}

#[derive(Debug, Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: u64,
    #[serde(default)]
    audio_tokens: u64,
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
        let (cached, write, input_audio) = u
            .prompt_tokens_details
            .map(|d| (d.cached_tokens, d.cache_creation_tokens, d.audio_tokens))
            .unwrap_or_default();
        let (reasoning, output_audio) = u
            .completion_tokens_details
            .map(|d| (d.reasoning_tokens, d.audio_tokens))
            .unwrap_or_default();
        Usage {
            input: u.prompt_tokens,
            cached_input: cached,
            cache_write: write,
            output: u.completion_tokens,
            reasoning,
            input_audio,
            output_audio,
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
            for (i, call) in delta.tool_calls.into_iter().enumerate() {
                let index = limits::tool_call_index(call.index.unwrap_or(i as u64))?;
                let (name, arguments) = call
                    .function
                    .map(|f| (f.name, f.arguments.unwrap_or_default()))
                    .unwrap_or_default();
                out.push(StreamEvent::ToolCallDelta {
                    index,
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
        let cost = usage.cost.and_then(crate::provider::event::server_cost);
        out.push(StreamEvent::Usage(usage.into()));
        out.extend(cost);
    }
    Ok(())
}

/// Reads the chunks of one streamed answer. Every chunk repeats the model (and
/// OpenAI's the service tier): each is reported when it first appears or
/// changes, not as an event per token.
#[derive(Debug, Default)]
pub struct Decoder {
    model: Option<String>,
    tier: Option<String>,
}

impl Decoder {
    pub fn chunk(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let from = out.len();
        parse_chunk(data, out)?;
        let mut i = 0;
        out.retain(|ev| {
            i += 1;
            let (seen, value) = match ev {
                _ if i <= from => return true,
                StreamEvent::Started { model: Some(m) } => (&mut self.model, m),
                StreamEvent::ServiceTier(t) => (&mut self.tier, t),
                _ => return true,
            };
            let new = seen.as_ref() != Some(value);
            if new {
                *seen = Some(value.clone());
            }
            new
        });
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_tokens_are_read_from_the_usage_details() {
        let mut out = Vec::new();
        parse_chunk(
            r#"{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":50,
               "prompt_tokens_details":{"cached_tokens":10,"audio_tokens":40},
               "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":30}}}"#,
            &mut out,
        )
        .unwrap();
        let usage = out.iter().find_map(|e| match e {
            StreamEvent::Usage(u) => Some(*u),
            _ => None,
        });
        let u = usage.expect("usage is reported");
        assert_eq!(
            (u.input_audio, u.output_audio, u.cached_input),
            (40, 30, 10)
        );
    }

    #[test]
    fn the_model_and_tier_are_reported_when_they_first_appear_or_change() {
        let chunk = |model: &str, tier: &str| {
            format!(
                r#"{{"model":"{model}","service_tier":"{tier}","choices":[{{"delta":{{"content":"x"}}}}]}}"#
            )
        };
        let mut decoder = Decoder::default();
        let mut out = Vec::new();
        for (model, tier) in [
            ("a", "default"),
            ("a", "default"),
            ("b", "default"),
            ("b", "flex"),
        ] {
            decoder.chunk(&chunk(model, tier), &mut out).unwrap();
        }
        let text = StreamEvent::TextDelta("x".into());
        let started = |m: &str| StreamEvent::Started {
            model: Some(m.into()),
        };
        let tier = |t: &str| StreamEvent::ServiceTier(t.into());
        assert_eq!(
            out,
            [
                started("a"),
                tier("default"),
                text.clone(),
                text.clone(),
                started("b"),
                text.clone(),
                tier("flex"),
                text,
            ]
        );
    }
}
