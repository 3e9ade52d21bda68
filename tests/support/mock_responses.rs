//! The mock's `/v1/responses`: OpenAI's named stream events (with
//! `sequence_number`, output items, content parts, function-call argument
//! deltas, reasoning summary deltas, `response.completed` with usage, and the
//! failure events), and the whole response object when not streamed.

#![allow(dead_code)]

use serde_json::{Value, json};

use super::mock_server::Reply;

pub const USAGE: &str = r#"{"input_tokens":1200,"input_tokens_details":{"cached_tokens":1000},"output_tokens":300,"output_tokens_details":{"reasoning_tokens":120},"total_tokens":1500}"#;

/// What a reply is made of, whichever API carries it.
pub struct Parts {
    pub summary: Vec<String>,
    pub pieces: Vec<String>,
    pub calls: Vec<(String, String)>,
    /// `max_output_tokens` and the like: the response ends incomplete.
    pub incomplete: Option<String>,
    /// The response fails after the pieces, with this message.
    pub failed: Option<String>,
    /// Hosted tool calls, as finished output items (Responses only).
    pub hosted: Vec<Value>,
}

impl Parts {
    pub fn of(reply: &Reply) -> Option<Self> {
        let mut p = Parts {
            summary: Vec::new(),
            pieces: Vec::new(),
            calls: Vec::new(),
            incomplete: None,
            failed: None,
            hosted: Vec::new(),
        };
        match reply {
            Reply::Stream { pieces, .. } => p.pieces = pieces.clone(),
            Reply::Calls(calls) => p.calls = calls.clone(),
            Reply::Hosted { items, pieces } => {
                p.hosted = items.clone();
                p.pieces = pieces.clone();
            }
            Reply::Think { summary, pieces } => {
                p.summary = summary.clone();
                p.pieces = pieces.clone();
            }
            Reply::Incomplete { pieces, reason } => {
                p.pieces = pieces.clone();
                p.incomplete = Some(reason.clone());
            }
            Reply::Failed { pieces, message } => {
                p.pieces = pieces.clone();
                p.failed = Some(message.clone());
            }
            _ => return None,
        }
        Some(p)
    }

    pub fn text(&self) -> String {
        self.pieces.concat()
    }
}

fn response(model: &str, status: &str, output: Vec<Value>, extra: Value) -> Value {
    let mut r = json!({
        "id": "resp_mock", "object": "response", "created_at": 1700000000,
        "status": status, "error": null, "incomplete_details": null,
        "instructions": null, "max_output_tokens": null, "model": model,
        "output": output, "parallel_tool_calls": true, "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null}, "store": false,
        "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
        "tools": [], "top_p": 1.0, "truncation": "disabled", "usage": null,
        "service_tier": "default", "metadata": {}
    });
    if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            r.insert(k.clone(), v.clone());
        }
    }
    r
}

/// The finished output items.
fn output(p: &Parts) -> Vec<Value> {
    let mut out = p.hosted.clone();
    if !p.summary.is_empty() {
        let summary: Vec<Value> = p
            .summary
            .iter()
            .map(|s| json!({"type": "summary_text", "text": s}))
            .collect();
        out.push(json!({"id": "rs_mock", "type": "reasoning", "summary": summary}));
    }
    if !p.pieces.is_empty() {
        out.push(json!({
            "id": "msg_mock", "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": p.text(), "annotations": []}]
        }));
    }
    for (i, (name, args)) in p.calls.iter().enumerate() {
        out.push(json!({
            "id": format!("fc_mock_{i}"), "type": "function_call", "status": "completed",
            "arguments": args, "call_id": format!("call_mock_{i}"), "name": name
        }));
    }
    out
}

fn finished(model: &str, p: &Parts) -> Value {
    let usage: Value = serde_json::from_str(USAGE).unwrap();
    match &p.incomplete {
        Some(reason) => response(
            model,
            "incomplete",
            output(p),
            json!({"usage": usage, "incomplete_details": {"reason": reason}}),
        ),
        None => response(model, "completed", output(p), json!({"usage": usage})),
    }
}

/// The whole response object (`stream` off).
pub fn whole(model: &str, p: &Parts) -> String {
    finished(model, p).to_string()
}

/// The stream: `event:` name and `data:` JSON of each event, in order.
pub fn events(model: &str, p: &Parts) -> Vec<(String, String)> {
    let mut out: Vec<Value> = Vec::new();
    let created = response(model, "in_progress", Vec::new(), json!({}));
    out.push(json!({"type": "response.created", "response": created}));
    out.push(json!({"type": "response.in_progress", "response": created}));
    // A type this client has never heard of: it must be skipped.
    out.push(json!({"type": "response.future_feature.delta", "delta": "ignore me"}));
    let mut index = 0;
    for item in &p.hosted {
        // In progress, the tool's own progress events, then the finished item.
        let mut started = item.clone();
        if started.get("status").is_some() {
            started["status"] = json!("in_progress");
        }
        for key in ["results", "outputs", "output", "error"] {
            if started.get(key).is_some() {
                started[key] = Value::Null;
            }
        }
        if item["type"] == "mcp_call" {
            started["arguments"] = json!("");
        }
        if item["type"] == "mcp_list_tools" {
            started["tools"] = json!([]);
        }
        out.push(
            json!({"type": "response.output_item.added", "output_index": index, "item": started}),
        );
        let kind = item["type"].as_str().unwrap_or("");
        let id = &item["id"];
        let phases: &[&str] = match kind {
            "web_search_call" => &["in_progress", "searching", "completed"],
            "file_search_call" => &["in_progress", "searching", "completed"],
            "code_interpreter_call" => &["in_progress", "interpreting", "completed"],
            // A remote MCP server's events (`response.mcp_call.*`, `response.mcp_list_tools.*`).
            "mcp_call" if item["error"].is_null() => &["in_progress", "completed"],
            "mcp_call" => &["in_progress", "failed"],
            "mcp_list_tools" if item["error"].is_null() => &["in_progress", "completed"],
            "mcp_list_tools" => &["in_progress", "failed"],
            _ => &[],
        };
        for (n, phase) in phases.iter().enumerate() {
            if kind == "mcp_call" && n == 1 {
                // The arguments stream before the call runs.
                let args = item["arguments"].as_str().unwrap_or("");
                let chars: Vec<char> = args.chars().collect();
                for c in chars.chunks(7) {
                    let delta: String = c.iter().collect();
                    out.push(json!({"type": "response.mcp_call_arguments.delta", "output_index": index, "item_id": id, "delta": delta}));
                }
                out.push(json!({"type": "response.mcp_call_arguments.done", "output_index": index, "item_id": id, "arguments": args}));
            }
            out.push(json!({"type": format!("response.{kind}.{phase}"), "output_index": index, "item_id": id}));
        }
        out.push(json!({"type": "response.output_item.done", "output_index": index, "item": item}));
        index += 1;
    }
    if !p.summary.is_empty() {
        let item = json!({"id": "rs_mock", "type": "reasoning", "summary": []});
        out.push(
            json!({"type": "response.output_item.added", "output_index": index, "item": item}),
        );
        for (si, s) in p.summary.iter().enumerate() {
            let part = json!({"type": "summary_text", "text": ""});
            out.push(json!({"type": "response.reasoning_summary_part.added", "item_id": "rs_mock", "output_index": index, "summary_index": si, "part": part}));
            for word in s.split_inclusive(' ') {
                out.push(json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_mock", "output_index": index, "summary_index": si, "delta": word}));
            }
            out.push(json!({"type": "response.reasoning_summary_text.done", "item_id": "rs_mock", "output_index": index, "summary_index": si, "text": s}));
            out.push(json!({"type": "response.reasoning_summary_part.done", "item_id": "rs_mock", "output_index": index, "summary_index": si, "part": {"type": "summary_text", "text": s}}));
        }
        out.push(json!({"type": "response.output_item.done", "output_index": index, "item": output(p)[p.hosted.len()]}));
        index += 1;
    }
    if !p.pieces.is_empty() {
        let item = json!({"id": "msg_mock", "type": "message", "status": "in_progress", "role": "assistant", "content": []});
        out.push(
            json!({"type": "response.output_item.added", "output_index": index, "item": item}),
        );
        out.push(json!({"type": "response.content_part.added", "item_id": "msg_mock", "output_index": index, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}));
        for piece in &p.pieces {
            out.push(json!({"type": "response.output_text.delta", "item_id": "msg_mock", "output_index": index, "content_index": 0, "delta": piece, "logprobs": []}));
        }
        if p.failed.is_none() {
            out.push(json!({"type": "response.output_text.done", "item_id": "msg_mock", "output_index": index, "content_index": 0, "text": p.text(), "logprobs": []}));
            out.push(json!({"type": "response.content_part.done", "item_id": "msg_mock", "output_index": index, "content_index": 0, "part": {"type": "output_text", "text": p.text(), "annotations": []}}));
        }
        index += 1;
    }
    for (i, (name, args)) in p.calls.iter().enumerate() {
        let id = format!("fc_mock_{i}");
        let item = json!({"id": id, "type": "function_call", "status": "in_progress", "arguments": "", "call_id": format!("call_mock_{i}"), "name": name});
        out.push(
            json!({"type": "response.output_item.added", "output_index": index, "item": item}),
        );
        let bytes: Vec<char> = args.chars().collect();
        for chunk in bytes.chunks(7) {
            let delta: String = chunk.iter().collect();
            out.push(json!({"type": "response.function_call_arguments.delta", "item_id": id, "output_index": index, "delta": delta}));
        }
        out.push(json!({"type": "response.function_call_arguments.done", "item_id": id, "output_index": index, "name": name, "arguments": args}));
        index += 1;
    }
    match (&p.failed, &p.incomplete) {
        (Some(message), _) => {
            let failed = response(
                model,
                "failed",
                Vec::new(),
                json!({"error": {"code": "server_error", "message": message}}),
            );
            out.push(json!({"type": "response.failed", "response": failed}));
        }
        (None, Some(_)) => {
            out.push(json!({"type": "response.incomplete", "response": finished(model, p)}))
        }
        (None, None) => {
            out.push(json!({"type": "response.completed", "response": finished(model, p)}))
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(n, mut ev)| {
            ev["sequence_number"] = json!(n);
            (ev["type"].as_str().unwrap().to_string(), ev.to_string())
        })
        .collect()
}

/// Chat Completions chunks for the same parts (`data:` payloads, without `[DONE]`).
pub fn chat_chunks(model: &str, p: &Parts, include_usage: bool) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1700000000,
               "model": model, "system_fingerprint": "fp_mock",
               "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
        .to_string()
    };
    let mut out = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for s in &p.summary {
        out.push(chunk(json!({"reasoning_content": s}), Value::Null));
    }
    for piece in &p.pieces {
        out.push(chunk(json!({"content": piece}), Value::Null));
    }
    for (i, (name, args)) in p.calls.iter().enumerate() {
        out.push(chunk(
            json!({"tool_calls": [{"index": i, "id": format!("call_mock_{i}"), "type": "function", "function": {"name": name, "arguments": ""}}]}),
            Value::Null,
        ));
        let chars: Vec<char> = args.chars().collect();
        for c in chars.chunks(7) {
            let piece: String = c.iter().collect();
            out.push(chunk(
                json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
                Value::Null,
            ));
        }
    }
    if let Some(message) = &p.failed {
        out.push(json!({"error": {"message": message, "type": "server_error"}}).to_string());
        return out;
    }
    let finish = match (&p.incomplete, p.calls.is_empty()) {
        (Some(_), _) => "length",
        (None, false) => "tool_calls",
        (None, true) => "stop",
    };
    out.push(chunk(json!({}), json!(finish)));
    if include_usage {
        out.push(format!(
            r#"{{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"{model}","system_fingerprint":"fp_mock","choices":[],"usage":{}}}"#,
            super::mock_server::USAGE
        ));
    }
    out
}

/// A whole (non-streamed) chat completion for the same parts.
pub fn chat_whole(model: &str, p: &Parts) -> String {
    let calls: Vec<Value> = p
        .calls
        .iter()
        .enumerate()
        .map(|(i, (name, args))| json!({"id": format!("call_mock_{i}"), "type": "function", "function": {"name": name, "arguments": args}}))
        .collect();
    let mut message =
        json!({"role": "assistant", "content": p.text(), "refusal": null, "annotations": []});
    if !calls.is_empty() {
        message["tool_calls"] = json!(calls);
        message["content"] = Value::Null;
    }
    let finish = if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    json!({"id": "chatcmpl-mock", "object": "chat.completion", "created": 1700000000, "model": model,
           "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
           "usage": serde_json::from_str::<Value>(super::mock_server::USAGE).unwrap(),
           "service_tier": "default", "system_fingerprint": "fp_mock"})
    .to_string()
}

/// The mock's `/v1/embeddings`: a `CreateEmbeddingResponse` where each input's
/// vector counts its letters a–z (case-folded), so texts with the same letters
/// are similar (cosine near 1) and unlike texts are not. A body OpenAI would
/// refuse gets a 400.
pub fn embeddings(body: &[u8]) -> (u16, String) {
    let req: Value = serde_json::from_slice(body).unwrap_or_default();
    let inputs: Vec<String> = match &req["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    if inputs.is_empty() || req["model"].as_str().is_none() {
        let e = r#"{"error":{"message":"'input' and 'model' are required","type":"invalid_request_error","param":null,"code":null}}"#;
        return (400, e.to_string());
    }
    let tokens: usize = inputs
        .iter()
        .map(|s| s.split_whitespace().count().max(1))
        .sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut v = [0.0f64; 26];
            for c in text.chars().filter(char::is_ascii_alphabetic) {
                v[(c.to_ascii_lowercase() as u8 - b'a') as usize] += 1.0;
            }
            json!({"object": "embedding", "index": i, "embedding": v.to_vec()})
        })
        .collect();
    let out = json!({
        "object": "list",
        "data": data,
        "model": req["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    (200, out.to_string())
}
