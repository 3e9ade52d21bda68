//! The Responses API (`POST /responses`): the request body, built with
//! async-openai's types and stateless (the whole conversation sent as input
//! items, `store` off unless the profile turns it on), and the named stream
//! events, normalised into the same `StreamEvent`s as Chat Completions.

use async_openai::types::mcp::{
    MCPTool, MCPToolAllowedTools, MCPToolApprovalSetting, MCPToolRequireApproval,
};
use async_openai::types::responses::{
    CodeInterpreterTool, CodeInterpreterToolContainer, CreateResponse, EasyInputContent,
    EasyInputMessage, FileSearchTool, FunctionCallOutput, FunctionCallOutputItemParam,
    FunctionTool, FunctionToolCall, ImageDetail, InputContent, InputFileContent, InputImageContent,
    InputItem, InputParam, InputTextContent, Item, MCPApprovalRequest, MCPApprovalResponse,
    MCPToolCall, MCPToolCallError, MCPToolCallStatus, MCPToolExecutionError, MessageType,
    Reasoning, ReasoningSummary as WireSummary, ResponseFormatJsonSchema, ResponseTextParam, Role,
    TextResponseFormatConfiguration, Tool, ToolChoiceFunction, ToolChoiceOptions, ToolChoiceParam,
    WebSearchTool,
};
use serde::Deserialize;
use serde_json::Value;

use super::chat_completions::effort;
use super::event::{FinishReason, ProviderError, StreamEvent, Usage, UsageSource};
use super::limits;
use crate::chat::params::{ReasoningSummary, ResponseFormat};
use crate::chat::request::{ChatRequest, WireMessage, WireRole};
use crate::chat::tools::{HostedCall, HostedTool, RemoteMcp, ToolChoice};

/// The JSON body for a streamed, stateless request.
pub fn body(req: &ChatRequest, store: bool) -> CreateResponse {
    let p = &req.params;
    let has_tools = !req.tools.is_empty() || !p.hosted.is_empty();
    let instructions = req
        .messages
        .iter()
        .filter(|m| m.role == WireRole::System)
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    let input = req
        .messages
        .iter()
        .filter(|m| m.role != WireRole::System)
        .flat_map(items)
        .collect();
    CreateResponse {
        model: Some(req.model.clone()),
        input: InputParam::Items(input),
        instructions: (!instructions.is_empty()).then_some(instructions),
        max_output_tokens: p.max_output_tokens,
        temperature: p.temperature,
        top_p: p.top_p,
        text: match &p.response_format {
            ResponseFormat::Text => None,
            ResponseFormat::JsonObject => Some(TextResponseFormatConfiguration::JsonObject),
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => Some(TextResponseFormatConfiguration::JsonSchema(
                ResponseFormatJsonSchema {
                    description: None,
                    name: name.clone(),
                    schema: schema.clone(),
                    strict: Some(*strict),
                },
            )),
        }
        .map(|format| ResponseTextParam {
            format,
            verbosity: None,
        }),
        reasoning: (p.reasoning_effort.is_some() || p.reasoning_summary.is_some()).then(|| {
            Reasoning {
                effort: p.reasoning_effort.map(effort),
                summary: p.reasoning_summary.map(|s| match s {
                    ReasoningSummary::Auto => WireSummary::Auto,
                    ReasoningSummary::Concise => WireSummary::Concise,
                    ReasoningSummary::Detailed => WireSummary::Detailed,
                }),
                ..Default::default()
            }
        }),
        tools: has_tools.then(|| {
            req.tools
                .iter()
                .map(|t| {
                    Tool::Function(FunctionTool {
                        name: t.name.clone(),
                        description: (!t.description.is_empty()).then(|| t.description.clone()),
                        parameters: Some(t.parameters.clone()),
                        // Responses makes functions strict when this is absent, and
                        // strict rejects optional properties: say what the tool says.
                        strict: Some(t.strict.unwrap_or(false)),
                        ..Default::default()
                    })
                })
                .chain(p.hosted.iter().map(hosted))
                .collect()
        }),
        tool_choice: p
            .tool_choice
            .as_ref()
            .filter(|_| has_tools)
            .map(|c| match c {
                ToolChoice::Auto => ToolChoiceParam::Option(ToolChoiceOptions::Auto),
                ToolChoice::None => ToolChoiceParam::Option(ToolChoiceOptions::None),
                ToolChoice::Required => ToolChoiceParam::Option(ToolChoiceOptions::Required),
                ToolChoice::Function(name) => {
                    ToolChoiceParam::Function(ToolChoiceFunction { name: name.clone() })
                }
            }),
        parallel_tool_calls: p.parallel_tool_calls.filter(|_| has_tools),
        store: Some(store),
        stream: Some(true),
        ..Default::default()
    }
}

/// A tool OpenAI runs, as the request names it.
fn hosted(t: &HostedTool) -> Tool {
    match t {
        HostedTool::WebSearch => Tool::WebSearch(WebSearchTool::default()),
        HostedTool::FileSearch { vector_store_ids } => Tool::FileSearch(FileSearchTool {
            vector_store_ids: vector_store_ids.clone(),
            ..Default::default()
        }),
        HostedTool::CodeInterpreter => Tool::CodeInterpreter(CodeInterpreterTool {
            container: CodeInterpreterToolContainer::Auto(Default::default()),
            ..Default::default()
        }),
        // Its url and headers join as the request is sent (`with_remote`).
        // Every call asks for approval: llmdeck's own approval answers it.
        HostedTool::Mcp { server } => Tool::Mcp(MCPTool {
            server_label: server.clone(),
            require_approval: Some(MCPToolRequireApproval::ApprovalSetting(
                MCPToolApprovalSetting::Always,
            )),
            ..Default::default()
        }),
    }
}

/// The body with each remote MCP server's url, headers and allowed tools
/// from `remote` (the config, read as the request is sent: they are never
/// kept with the conversation). A server the config lacks is an error.
pub fn with_remote(
    mut body: CreateResponse,
    remote: &std::collections::BTreeMap<String, RemoteMcp>,
) -> Result<CreateResponse, String> {
    for tool in body.tools.iter_mut().flatten() {
        let Tool::Mcp(t) = tool else { continue };
        let r = remote.get(&t.server_label).ok_or_else(|| {
            format!(
                "remote MCP server {:?}: config.toml has no [mcp.{}] with url and hosted = true",
                t.server_label, t.server_label
            )
        })?;
        t.server_url = Some(r.url.clone());
        if !r.headers.is_empty() {
            t.headers = Some(serde_json::json!(r.headers));
        }
        t.allowed_tools = r.allowed_tools.clone().map(MCPToolAllowedTools::List);
    }
    Ok(body)
}

/// One message of the conversation as input items: a message, and for an
/// answer that called functions, one `function_call` item per call.
fn items(m: &WireMessage) -> Vec<InputItem> {
    let message = |role: Role, content: EasyInputContent| {
        InputItem::EasyMessage(EasyInputMessage {
            r#type: MessageType::Message,
            role,
            content,
            phase: None,
        })
    };
    match m.role {
        WireRole::System => Vec::new(),
        WireRole::User if m.attachments.is_empty() => {
            vec![message(
                Role::User,
                EasyInputContent::Text(m.content.to_string()),
            )]
        }
        WireRole::User => {
            let mut parts = vec![InputContent::InputText(InputTextContent {
                text: m.content.to_string(),
                prompt_cache_breakpoint: None,
            })];
            parts.extend(m.attachments.iter().map(|a| {
                if a.is_image() {
                    InputContent::InputImage(InputImageContent {
                        detail: ImageDetail::Auto,
                        image_url: Some(a.data_url()),
                        ..Default::default()
                    })
                } else {
                    InputContent::InputFile(InputFileContent {
                        file_data: Some(a.data_url()),
                        filename: Some(a.name.clone()),
                        ..Default::default()
                    })
                }
            }));
            vec![message(Role::User, EasyInputContent::ContentList(parts))]
        }
        WireRole::Assistant => {
            // The remote MCP calls OpenAI ran came before the text.
            let mut out: Vec<InputItem> = m
                .hosted
                .iter()
                .filter(|h| h.tool == "mcp")
                .map(|h| {
                    InputItem::Item(Item::McpCall(MCPToolCall {
                        arguments: h.arguments.clone(),
                        id: h.id.clone(),
                        name: h.name.clone(),
                        server_label: h.server.clone(),
                        approval_request_id: (!h.approval_request_id.is_empty())
                            .then(|| h.approval_request_id.clone()),
                        // Its kind is not kept: the text goes back as the tool's own error.
                        error: (!h.error.is_empty()).then(|| {
                            MCPToolCallError::McpToolExecutionError(MCPToolExecutionError {
                                content: Value::String(h.error.clone()),
                            })
                        }),
                        output: (!h.output.is_empty()).then(|| h.output.clone()),
                        status: Some(match h.status.as_str() {
                            "failed" => MCPToolCallStatus::Failed,
                            "incomplete" => MCPToolCallStatus::Incomplete,
                            _ => MCPToolCallStatus::Completed,
                        }),
                    }))
                })
                .collect();
            if !m.content.is_empty() {
                out.push(message(
                    Role::Assistant,
                    EasyInputContent::Text(m.content.to_string()),
                ));
            }
            out.extend(m.tool_calls.iter().map(|c| match &c.server {
                Some(server) => InputItem::Item(Item::McpApprovalRequest(MCPApprovalRequest {
                    arguments: c.arguments.clone(),
                    id: c.id.clone(),
                    name: c.name.clone(),
                    server_label: server.clone(),
                })),
                None => InputItem::Item(Item::FunctionCall(FunctionToolCall {
                    arguments: c.arguments.clone(),
                    call_id: c.id.clone(),
                    name: c.name.clone(),
                    namespace: None,
                    id: None,
                    status: None,
                    caller: None,
                    r#async: None,
                })),
            }));
            out
        }
        WireRole::Tool => match m.approved {
            Some(approve) => vec![InputItem::Item(Item::McpApprovalResponse(
                MCPApprovalResponse {
                    approval_request_id: m.tool_call_id.clone().unwrap_or_default(),
                    approve,
                    id: None,
                    reason: (!approve && !m.content.is_empty()).then(|| m.content.to_string()),
                },
            ))],
            None => vec![InputItem::Item(Item::FunctionCallOutput(
                FunctionCallOutputItemParam {
                    call_id: m.tool_call_id.clone(),
                    output: tool_output(m),
                    id: None,
                    status: None,
                    name: None,
                    namespace: None,
                    caller: None,
                },
            ))],
        },
    }
}

/// A function's result: its text, and the images its tool gave as
/// `input_image` parts of the output (which the Responses API accepts).
fn tool_output(m: &WireMessage) -> FunctionCallOutput {
    let images: Vec<_> = m.attachments.iter().filter(|a| a.is_image()).collect();
    if images.is_empty() {
        return FunctionCallOutput::Text(m.content.to_string());
    }
    let mut parts = vec![InputContent::InputText(InputTextContent {
        text: m.content.to_string(),
        prompt_cache_breakpoint: None,
    })];
    parts.extend(images.into_iter().map(|a| {
        InputContent::InputImage(InputImageContent {
            detail: ImageDetail::Auto,
            image_url: Some(a.data_url()),
            ..Default::default()
        })
    }));
    FunctionCallOutput::Content(parts)
}

/// Reads the named events of one response stream. Function calls are
/// numbered in the order they appear, whatever their `output_index`.
#[derive(Debug, Default)]
pub struct Decoder {
    /// `output_index` of each function call seen, by call number.
    calls: Vec<u64>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    delta: String,
    output_index: Option<u64>,
    summary_index: Option<u64>,
    item: Option<Value>,
    response: Option<Value>,
    message: Option<String>,
    code: Option<Value>,
}

impl Decoder {
    /// Handles one SSE event; `Ok(true)` when the response is over.
    pub fn event(
        &mut self,
        name: Option<&str>,
        data: &str,
        out: &mut Vec<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        let mut ev: Event = serde_json::from_str(data).map_err(|e| {
            let shown: String = data.chars().take(120).collect();
            ProviderError::Malformed(format!("{e} in {shown:?}"))
        })?;
        if ev.kind.is_empty() {
            ev.kind = name.unwrap_or_default().to_string();
        }
        match ev.kind.as_str() {
            "response.created" => {
                let model = ev.response.as_ref().and_then(|r| r["model"].as_str());
                out.push(StreamEvent::Started {
                    model: model.map(str::to_string),
                });
            }
            "response.output_text.delta" | "response.refusal.delta" if !ev.delta.is_empty() => {
                out.push(StreamEvent::TextDelta(ev.delta))
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta"
                if !ev.delta.is_empty() =>
            {
                out.push(StreamEvent::ReasoningDelta(ev.delta))
            }
            "response.reasoning_summary_part.added" if ev.summary_index.unwrap_or(0) > 0 => {
                out.push(StreamEvent::ReasoningDelta("\n\n".into()))
            }
            "response.output_item.added" => {
                if let Some(item) = ev.item.filter(|i| i["type"] == "function_call") {
                    let index = limits::tool_call_index(self.calls.len() as u64)?;
                    self.calls.push(ev.output_index.unwrap_or(0));
                    out.push(StreamEvent::ToolCallDelta {
                        index,
                        id: item["call_id"].as_str().map(str::to_string),
                        name: item["name"].as_str().map(str::to_string),
                        arguments: item["arguments"].as_str().unwrap_or("").to_string(),
                    });
                }
            }
            "response.output_item.done"
                if ev
                    .item
                    .as_ref()
                    .is_some_and(|i| i["type"] == "mcp_approval_request") =>
            {
                let item = ev.item.unwrap_or_default();
                let index = limits::tool_call_index(self.calls.len() as u64)?;
                self.calls.push(ev.output_index.unwrap_or(0));
                out.push(approval(index, &item));
            }
            "response.output_item.done" => {
                out.extend(
                    ev.item
                        .as_ref()
                        .and_then(HostedCall::from_item)
                        .map(|c| StreamEvent::Hosted(Box::new(c))),
                );
            }
            "response.function_call_arguments.delta" => {
                let at = ev.output_index.unwrap_or(0);
                if let Some(index) = self.calls.iter().position(|o| *o == at) {
                    out.push(StreamEvent::ToolCallDelta {
                        index: index as u32,
                        id: None,
                        name: None,
                        arguments: ev.delta,
                    });
                }
            }
            "response.completed" | "response.incomplete" => {
                if let Some(r) = &ev.response {
                    finish(r, !self.calls.is_empty(), out);
                }
                return Ok(true);
            }
            "response.failed" => {
                let err = ev.response.as_ref().map(|r| &r["error"]);
                return Err(ProviderError::Server(failure(
                    err.and_then(|e| e["message"].as_str()),
                    err.map(|e| &e["code"]),
                )));
            }
            "error" => {
                return Err(ProviderError::Server(failure(
                    ev.message.as_deref(),
                    ev.code.as_ref(),
                )));
            }
            // Every other event (and any new one) carries nothing we show.
            _ => {}
        }
        Ok(false)
    }
}

/// An `mcp_approval_request` item as the call of the answer at `index`.
fn approval(index: u32, item: &Value) -> StreamEvent {
    let s = |k: &str| item[k].as_str().unwrap_or_default().to_string();
    StreamEvent::McpApproval {
        index,
        server: s("server_label"),
        id: s("id"),
        name: s("name"),
        arguments: s("arguments"),
    }
}

fn failure(message: Option<&str>, code: Option<&Value>) -> String {
    let message = message.unwrap_or("the response failed");
    match code.and_then(Value::as_str) {
        Some(code) => format!("{message} ({code})"),
        None => message.to_string(),
    }
}

/// Usage, service tier and finish reason of a finished response object.
fn finish(r: &Value, called: bool, out: &mut Vec<StreamEvent>) {
    if let Some(tier) = r["service_tier"].as_str().filter(|t| !t.is_empty()) {
        out.push(StreamEvent::ServiceTier(tier.to_string()));
    }
    if let Some(u) = r.get("usage").filter(|u| u.is_object()) {
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        out.push(StreamEvent::Usage(Usage {
            input: n(&u["input_tokens"]),
            cached_input: n(&u["input_tokens_details"]["cached_tokens"]),
            cache_write: 0,
            output: n(&u["output_tokens"]),
            reasoning: n(&u["output_tokens_details"]["reasoning_tokens"]),
            input_audio: n(&u["input_tokens_details"]["audio_tokens"]),
            output_audio: n(&u["output_tokens_details"]["audio_tokens"]),
            source: UsageSource::Reported,
        }));
        out.extend(
            u["cost"]
                .as_f64()
                .and_then(crate::provider::event::server_cost),
        );
    }
    let reason = match r["incomplete_details"]["reason"].as_str() {
        Some(reason) => FinishReason::parse(reason),
        None if called => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    };
    out.push(StreamEvent::Finish(reason));
}

/// A whole (non-streamed) response object as the events a stream would have given.
pub fn parse_response(text: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
    let r: Value = serde_json::from_str(text)
        .map_err(|e| ProviderError::Malformed(format!("response body: {e}")))?;
    if r["status"] == "failed" {
        return Err(ProviderError::Server(failure(
            r["error"]["message"].as_str(),
            Some(&r["error"]["code"]),
        )));
    }
    out.push(StreamEvent::Started {
        model: r["model"].as_str().map(str::to_string),
    });
    let mut calls = 0u32;
    for item in r["output"].as_array().into_iter().flatten() {
        match item["type"].as_str() {
            Some("reasoning") => {
                for s in item["summary"].as_array().into_iter().flatten() {
                    if let Some(t) = s["text"].as_str() {
                        out.push(StreamEvent::ReasoningDelta(t.to_string()));
                    }
                }
            }
            Some("message") => {
                for c in item["content"].as_array().into_iter().flatten() {
                    if let Some(t) = c["text"].as_str().or(c["refusal"].as_str()) {
                        out.push(StreamEvent::TextDelta(t.to_string()));
                    }
                }
            }
            Some("mcp_approval_request") => {
                out.push(approval(limits::tool_call_index(calls.into())?, item));
                calls += 1;
            }
            Some(_) if HostedCall::from_item(item).is_some() => {
                out.extend(HostedCall::from_item(item).map(|c| StreamEvent::Hosted(Box::new(c))));
            }
            Some("function_call") => {
                out.push(StreamEvent::ToolCallDelta {
                    index: limits::tool_call_index(calls.into())?,
                    id: item["call_id"].as_str().map(str::to_string),
                    name: item["name"].as_str().map(str::to_string),
                    arguments: item["arguments"].as_str().unwrap_or("").to_string(),
                });
                calls += 1;
            }
            _ => {}
        }
    }
    finish(&r, calls > 0, out);
    Ok(())
}
