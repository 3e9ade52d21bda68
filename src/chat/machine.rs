//! The conversation state machine: `handle(input) -> effects`, no I/O.
//! The TUI and the CLI feed it keys and stream events and carry out the
//! effects (start or abort a request, save, journal a delta, write a ledger row).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::conversation::{AnswerStatus, Conversation, NodeId, Role};
use super::event::{ProviderError, StreamEvent, Usage, UsageSource};
use super::request::ChatRequest;
use super::tokens;
use crate::usage::PriceTable;
use crate::usage::ledger::{LedgerRow, Status};

/// Where requests come from, for the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: String,
    pub profile: String,
    pub host: String,
    pub api: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Send the draft as a new user message.
    Send(String),
    Stream(u64, StreamEvent),
    /// Esc: stop the answer, keep what came.
    Cancel,
    /// Replace an earlier user message: a new branch beside the old one.
    Edit {
        node: NodeId,
        text: String,
    },
    /// Ask again for the last answer: a new branch beside it.
    Regenerate,
    /// Ask again for an earlier answer (or answer a message again): a new
    /// branch beside it, which becomes the branch shown.
    RegenerateAt(NodeId),
    /// Send the draft to several models at once: their answers are sibling
    /// branches of one question, shown side by side; the first one is active.
    Compare {
        text: String,
        targets: Vec<super::compare::Target>,
    },
    SwitchBranch {
        node: NodeId,
        delta: isize,
    },
    /// A file for the next message (read and checked by the caller).
    Attach(super::attachment::Attachment),
    /// Drop the files waiting for the next message.
    Detach,
    /// The result of one call of the last answer; once every call has one,
    /// the conversation continues.
    ToolResult {
        call_id: String,
        output: String,
    },
    /// A result, as `ToolResult`, but the conversation waits for `Continue`
    /// even after the last one (the console checks the budgets first).
    KeepToolResult {
        call_id: String,
        output: String,
    },
    /// Ask the model to go on from the tool results, when all are in.
    Continue,
    /// A call the agent loop handled: the tool's result with the images it
    /// gave (sent to the model as attachments), or for a remote MCP server's
    /// call, whether it is approved (`output` then is the reason when not).
    /// Like `KeepToolResult`, the loop goes on with `Continue` (budgets first).
    ToolRan {
        call_id: String,
        output: String,
        images: Vec<super::attachment::Attachment>,
        approved: Option<bool>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Start {
        request_id: u64,
        request: Box<ChatRequest>,
        /// Another profile to send it through (compare), else the conversation's.
        profile: Option<String>,
    },
    Abort {
        request_id: u64,
    },
    /// Write the whole conversation (atomically).
    Save,
    /// Append a delta of the answer being streamed (starting at byte `at` of
    /// it), so a killed process loses nothing that was shown.
    Journal {
        node: NodeId,
        at: usize,
        text: String,
    },
    Record(Box<LedgerRow>),
}

#[derive(Debug, Clone)]
pub struct ActiveStream {
    pub request_id: u64,
    /// The profile it goes through, when not the conversation's.
    pub via: Option<super::compare::Via>,
    pub node: NodeId,
    pub request: ChatRequest,
    started: Instant,
    first_token: Option<Instant>,
    /// What the server said it cost, if it did.
    server_cost: Option<i64>,
}

pub struct Machine {
    pub conv: Conversation,
    /// Answers being streamed: one, or one per model when comparing.
    pub streams: Vec<ActiveStream>,
    /// A transient line for the status bar ("retrying in 2 s (attempt 2 of 3)").
    pub notice: Option<String>,
    pub origin: Origin,
    /// Files that go with the next message sent.
    pub attachments: Vec<super::attachment::Attachment>,
    prices: Arc<PriceTable>,
    /// Where the conversation's requests go, for their price.
    pub endpoint: crate::usage::cost::Endpoint,
    next_request: u64,
}

impl Machine {
    pub fn new(conv: Conversation, origin: Origin, prices: Arc<PriceTable>) -> Self {
        Self {
            conv,
            streams: Vec::new(),
            notice: None,
            origin,
            attachments: Vec::new(),
            prices,
            endpoint: Default::default(),
            next_request: 1,
        }
    }

    pub fn is_streaming(&self) -> bool {
        !self.streams.is_empty()
    }

    /// Whether `node` is an answer being streamed now.
    pub fn is_streaming_node(&self, node: NodeId) -> bool {
        self.streams.iter().any(|s| s.node == node)
    }

    /// Moves every finished message's record and text out of the heap (`Conversation::spool`).
    pub fn spool(&mut self) {
        let growing: Vec<NodeId> = self.streams.iter().map(|s| s.node).collect();
        self.conv.spool(&growing);
    }

    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }

    /// New prices (the price form wrote prices.toml), for answers from now on.
    pub fn set_prices(&mut self, prices: Arc<PriceTable>) {
        self.prices = prices;
    }

    /// Prices this conversation's unpriced answers of `model`; how many were.
    pub fn reprice(&mut self, model: &str) -> usize {
        let mut n = 0;
        for i in 0..self.conv.nodes.len() {
            let Some(meta) = &self.conv.nodes[i].meta else {
                continue;
            };
            let shown = meta.model.as_deref().unwrap_or(&self.conv.model);
            let (Some(usage), None, true) = (meta.usage, meta.cost_micros, shown == model) else {
                continue;
            };
            let tier = meta.service_tier.clone();
            let c = crate::usage::cost::cost(
                &self.prices,
                &self.endpoint,
                model,
                &usage,
                tier.as_deref(),
                None,
            );
            if c.micros.is_some() {
                let meta = self.conv.nodes[i].meta.as_mut().expect("checked above");
                meta.cost_micros = c.micros;
                meta.cost_source = c.source;
                n += 1;
            }
        }
        n
    }

    /// What `usage` of `model` costs on this conversation's endpoint (`None`: unpriced).
    pub fn price_of(&self, model: &str, usage: &Usage) -> Option<i64> {
        self.price_in(model, usage, None)
    }

    /// A hosted tool's fee per call for `model` on this conversation's endpoint.
    pub fn tool_fee(&self, model: &str, tool: &str) -> Option<i64> {
        crate::usage::cost::tool_fee(&self.prices, &self.endpoint, model, tool)
    }

    /// What `usage` of `model` costs in the service `tier` (`batch`: the Batch API's rates).
    pub fn price_in(&self, model: &str, usage: &Usage, tier: Option<&str>) -> Option<i64> {
        crate::usage::cost::cost(&self.prices, &self.endpoint, model, usage, tier, None).micros
    }

    pub fn handle(&mut self, input: Input, now: Instant, wall: DateTime<Utc>) -> Vec<Effect> {
        match input {
            Input::Send(text) => {
                if self.is_streaming() || text.trim().is_empty() {
                    return Vec::new();
                }
                let parent = self.conv.last();
                let user = self.conv.append(parent, Role::User, &text);
                self.conv.nodes[user].attachments = std::mem::take(&mut self.attachments);
                self.start_answer(user, now, wall)
            }
            Input::Attach(file) => {
                let mut all = self.attachments.clone();
                all.push(file);
                match super::attachment::check_total(&all) {
                    Ok(()) => {
                        self.attachments = all;
                        self.notice = None;
                    }
                    Err(e) => self.notice = Some(e),
                }
                Vec::new()
            }
            Input::Detach => {
                self.attachments.clear();
                Vec::new()
            }
            Input::ToolResult { call_id, output } => {
                let kept = self.tool_result(call_id, output, Vec::new(), None, wall);
                if kept.is_empty() {
                    return kept;
                }
                // After the last result: the answer (saved with its start).
                let started = self.handle(Input::Continue, now, wall);
                if started.is_empty() { kept } else { started }
            }
            Input::KeepToolResult { call_id, output } => {
                self.tool_result(call_id, output, Vec::new(), None, wall)
            }
            Input::Continue => match self.next_step() {
                Some(last) => self.start_answer(last, now, wall),
                None => Vec::new(),
            },
            Input::ToolRan {
                call_id,
                output,
                images,
                approved,
            } => self.tool_result(call_id, output, images, approved, wall),
            Input::Edit { node, text } => {
                if self.is_streaming() || text.trim().is_empty() {
                    return Vec::new();
                }
                let Some(parent) = self.conv.nodes.get(node).and_then(|n| n.parent) else {
                    return Vec::new();
                };
                if self.conv.nodes[node].role != Role::User {
                    return Vec::new();
                }
                let user = self.conv.append(parent, Role::User, &text);
                self.start_answer(user, now, wall)
            }
            Input::Regenerate => {
                let last = self.conv.last();
                self.handle(Input::RegenerateAt(last), now, wall)
            }
            Input::RegenerateAt(node) => {
                let Some(at) = self.conv.nodes.get(node) else {
                    return Vec::new();
                };
                if self.is_streaming() {
                    return Vec::new();
                }
                let user = match at.role {
                    Role::Assistant => at.parent.unwrap_or(node),
                    Role::User | Role::Tool => node,
                    Role::Root => return Vec::new(),
                };
                self.start_answer(user, now, wall)
            }
            Input::SwitchBranch { node, delta } => {
                if self.is_streaming() || node >= self.conv.nodes.len() {
                    return Vec::new();
                }
                self.conv.switch_branch(node, delta);
                self.conv.updated = wall;
                vec![Effect::Save]
            }
            Input::Cancel => {
                let ids: Vec<u64> = self.streams.iter().map(|s| s.request_id).collect();
                let mut effects = Vec::new();
                for request_id in ids {
                    effects.push(Effect::Abort { request_id });
                    effects.extend(self.finish(request_id, AnswerStatus::Stopped, None, now, wall));
                }
                effects
            }
            Input::Compare { text, targets } => {
                if self.is_streaming() || text.trim().is_empty() || targets.is_empty() {
                    return Vec::new();
                }
                let parent = self.conv.last();
                let user = self.conv.append(parent, Role::User, &text);
                self.conv.nodes[user].compare = true;
                let mut effects = vec![Effect::Save];
                let mut first = None;
                for target in targets {
                    let (node, start) = self.start_one(user, Some(target), now, wall);
                    first.get_or_insert(node);
                    effects.push(start);
                }
                // The first model's answer is the branch the conversation continues on.
                if let Some(node) = first {
                    self.conv.switch_to(node);
                }
                effects
            }
            Input::Stream(id, event) => self.on_event(id, event, now, wall),
        }
    }

    /// The result of one pending call, kept (`Continue` starts the next answer).
    /// A result typed for a remote MCP server's call refuses it, with the
    /// text as the reason.
    fn tool_result(
        &mut self,
        call_id: String,
        output: String,
        images: Vec<super::attachment::Attachment>,
        approved: Option<bool>,
        wall: DateTime<Utc>,
    ) -> Vec<Effect> {
        let pending = self.conv.pending_calls();
        let Some(call) = pending.iter().find(|c| c.id == call_id) else {
            return Vec::new();
        };
        if self.is_streaming() {
            return Vec::new();
        }
        let approved = call.server.as_ref().map(|_| approved.unwrap_or(false));
        let parent = self.conv.last();
        let node = self.conv.append(parent, Role::Tool, &output);
        self.conv.nodes[node].call_id = Some(call_id);
        self.conv.nodes[node].approved = approved;
        // Images as the model's input, within what one request may carry.
        let mut kept = Vec::new();
        for image in images {
            kept.push(image);
            if super::attachment::check_total(&kept).is_err() {
                kept.pop();
                break;
            }
        }
        self.conv.nodes[node].attachments = kept;
        self.conv.updated = wall;
        vec![Effect::Save]
    }

    /// The tool result `Continue` would answer from: every call of the last
    /// answer has its result and nothing streams.
    pub fn next_step(&self) -> Option<NodeId> {
        let last = self.conv.last();
        let ready = !self.is_streaming()
            && self.conv.nodes[last].role == Role::Tool
            && self.conv.pending_calls().is_empty();
        ready.then_some(last)
    }

    fn start_answer(&mut self, user: NodeId, now: Instant, wall: DateTime<Utc>) -> Vec<Effect> {
        let (_, start) = self.start_one(user, None, now, wall);
        vec![Effect::Save, start]
    }

    /// Adds an empty answer under `user` and the request that fills it
    /// (with `model` instead of the conversation's, when comparing).
    fn start_one(
        &mut self,
        user: NodeId,
        target: Option<super::compare::Target>,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> (NodeId, Effect) {
        let mut request = ChatRequest::for_node(&self.conv, user);
        let mut label = None;
        let mut via = None;
        if let Some(t) = target {
            request.model = t.model;
            if let Some(p) = t.params {
                request.params = p;
            }
            via = t.profile;
            label = Some(t.label);
        }
        let node = self.conv.append(user, Role::Assistant, "");
        if let Some(meta) = self.conv.nodes[node].meta.as_mut() {
            meta.status = AnswerStatus::Streaming;
            meta.model = Some(request.model.clone());
            meta.target = label;
        }
        let request_id = self.next_request;
        self.next_request += 1;
        let profile = via.as_ref().map(|v| v.name.clone());
        self.streams.push(ActiveStream {
            request_id,
            via,
            node,
            request: request.clone(),
            started: now,
            first_token: None,
            server_cost: None,
        });
        self.notice = None;
        self.conv.updated = wall;
        (
            node,
            Effect::Start {
                request_id,
                request: Box::new(request),
                profile,
            },
        )
    }

    fn on_event(
        &mut self,
        id: u64,
        event: StreamEvent,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> Vec<Effect> {
        let Some(stream) = self.streams.iter_mut().find(|s| s.request_id == id) else {
            return Vec::new(); // a late event of a cancelled request
        };
        let node = stream.node;
        let meta = self.conv.nodes[node]
            .meta
            .get_or_insert_with(Default::default);
        match event {
            StreamEvent::Started { model } => {
                if model.is_some() {
                    meta.model = model;
                }
                self.notice = None;
                Vec::new()
            }
            StreamEvent::Retrying {
                attempt,
                of,
                wait_ms,
                reason,
            } => {
                self.notice = Some(format!(
                    "{reason} — retrying in {} s (attempt {attempt} of {of}), Esc cancels",
                    wait_ms.div_ceil(1000)
                ));
                Vec::new()
            }
            StreamEvent::TextDelta(text) => {
                stream.first_token.get_or_insert(now);
                let at = self.conv.nodes[node].content.len();
                self.conv.nodes[node].content.push_str(&text);
                vec![Effect::Journal { node, at, text }]
            }
            StreamEvent::ReasoningDelta(text) => {
                stream.first_token.get_or_insert(now);
                meta.reasoning.push_str(&text);
                Vec::new()
            }
            StreamEvent::ToolCallDelta {
                index,
                id: call_id,
                name,
                arguments,
            } => {
                // The index sizes the list: a recording or a provider that let a
                // huge one through must not make us allocate it.
                let at = match super::event::tool_call_index(index.into()) {
                    Ok(at) => at as usize,
                    Err(e) => return self.on_event(id, StreamEvent::Error(e), now, wall),
                };
                stream.first_token.get_or_insert(now);
                let calls = &mut self.conv.nodes[node].tool_calls;
                if calls.len() <= at {
                    calls.resize(at + 1, Default::default());
                }
                let call = &mut calls[at];
                if let Some(call_id) = call_id.filter(|i| !i.is_empty()) {
                    call.id = call_id;
                }
                if let Some(name) = name.filter(|n| !n.is_empty()) {
                    call.name = name;
                }
                call.arguments.push_str(&arguments);
                Vec::new()
            }
            StreamEvent::McpApproval {
                index,
                server,
                id: call_id,
                name,
                arguments,
            } => {
                let at = match super::event::tool_call_index(index.into()) {
                    Ok(at) => at as usize,
                    Err(e) => return self.on_event(id, StreamEvent::Error(e), now, wall),
                };
                stream.first_token.get_or_insert(now);
                let calls = &mut self.conv.nodes[node].tool_calls;
                if calls.len() <= at {
                    calls.resize(at + 1, Default::default());
                }
                calls[at] = super::tools::ToolCall {
                    id: call_id,
                    name,
                    arguments,
                    server: Some(server),
                };
                Vec::new()
            }
            StreamEvent::ServiceTier(tier) => {
                meta.service_tier = Some(tier);
                Vec::new()
            }
            StreamEvent::Usage(usage) => {
                meta.usage = Some(usage);
                Vec::new()
            }
            StreamEvent::Hosted(call) => {
                stream.first_token.get_or_insert(now);
                // As many as tool calls at most: a server cannot grow the answer without end.
                let hosted = &mut self.conv.nodes[node].hosted;
                if hosted.len() < super::event::MAX_TOOL_CALLS as usize {
                    hosted.push(*call);
                }
                Vec::new()
            }
            StreamEvent::ServerCost(micros) => {
                stream.server_cost = Some(micros);
                Vec::new()
            }
            StreamEvent::Finish(reason) => {
                meta.finish = Some(reason);
                Vec::new()
            }
            StreamEvent::End => self.finish(id, AnswerStatus::Done, None, now, wall),
            StreamEvent::Error(e) => {
                let status = if e.is_mid_stream() && !self.conv.nodes[node].content.is_empty() {
                    AnswerStatus::Interrupted
                } else {
                    AnswerStatus::Error
                };
                self.finish(id, status, Some(e), now, wall)
            }
        }
    }

    fn finish(
        &mut self,
        id: u64,
        status: AnswerStatus,
        error: Option<ProviderError>,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> Vec<Effect> {
        let Some(at) = self.streams.iter().position(|s| s.request_id == id) else {
            return Vec::new();
        };
        let stream = self.streams.remove(at);
        let node = &mut self.conv.nodes[stream.node];
        // Each delta was scrubbed as it came, but a secret the server echoed
        // over several deltas is whole only now: the answer kept is scrubbed whole.
        let scrub = crate::log::scrub;
        // scrub returns a new string: the slack the answer grew with is not kept.
        node.content = scrub(&node.content).into();
        for call in &mut node.tool_calls {
            call.arguments = scrub(&call.arguments);
        }
        if let Some(meta) = node.meta.as_mut() {
            meta.reasoning = scrub(&meta.reasoning).into();
        }
        // A result must name its call: servers that send no id get one.
        for (i, call) in node.tool_calls.iter_mut().enumerate() {
            if call.id.is_empty() {
                call.id = format!("call_{}_{i}", stream.node);
            }
        }
        let content = node.content.clone();
        let meta = node.meta.get_or_insert_with(Default::default);
        meta.status = status;
        meta.error = error.as_ref().map(|e| e.to_string());
        meta.ttft_ms = stream
            .first_token
            .map(|t| t.duration_since(stream.started).as_millis() as u64);
        meta.duration_ms = Some(now.duration_since(stream.started).as_millis() as u64);
        // A stream that ended without usage is estimated with the tokenizer, and says so.
        let usage = match meta.usage {
            Some(u) => u,
            None if status == AnswerStatus::Error && content.is_empty() => Usage {
                source: UsageSource::Estimated,
                ..Usage::default()
            },
            None => Usage {
                input: tokens::count_request(&stream.request),
                output: tokens::count_text(&stream.request.model, &content),
                source: UsageSource::Estimated,
                ..Usage::default()
            },
        };
        meta.usage = Some(usage);
        let model = meta
            .model
            .clone()
            .unwrap_or_else(|| stream.request.model.clone());
        let endpoint = match &stream.via {
            Some(via) => via.endpoint.clone(),
            None => self.endpoint.clone(),
        };
        let tier = meta.service_tier.clone();
        let price = |model: &str| {
            crate::usage::cost::cost(
                &self.prices,
                &endpoint,
                model,
                &usage,
                tier.as_deref(),
                stream.server_cost,
            )
        };
        // The model the server reports, else the one asked for.
        let mut cost = price(&model);
        if cost.micros.is_none() && model != stream.request.model {
            cost = price(&stream.request.model);
        }
        meta.cost_micros = cost.micros;
        meta.cost_source = cost.source;
        let row = LedgerRow {
            id: uuid::Uuid::now_v7().to_string(),
            ts: wall,
            source: self.origin.source.clone(),
            profile: stream
                .via
                .as_ref()
                .map(|v| v.name.clone())
                .unwrap_or_else(|| self.origin.profile.clone()),
            host: stream
                .via
                .as_ref()
                .map(|v| v.host.clone())
                .unwrap_or_else(|| self.origin.host.clone()),
            // A conversation may ask for the other wire API than its profile's.
            api: match stream.request.params.api {
                Some(api) if self.origin.api != "demo" => api.label().to_string(),
                _ => self.origin.api.clone(),
            },
            model_requested: stream.request.model.clone(),
            model_reported: meta.model.clone(),
            service_tier: tier.clone(),
            usage,
            cost_micros: meta.cost_micros,
            cost_source: cost.source,
            rates: cost.rates,
            ttft_ms: meta.ttft_ms,
            duration_ms: meta.duration_ms,
            status: match status {
                AnswerStatus::Done | AnswerStatus::Streaming => Status::Ok,
                AnswerStatus::Stopped => Status::Cancelled,
                AnswerStatus::Interrupted => Status::Interrupted,
                AnswerStatus::Error => Status::Error,
            },
            error_kind: error.map(|e| e.kind().to_string()),
            conversation_id: Some(self.conv.id.clone()),
            prompt: self
                .conv
                .prompt
                .as_ref()
                .map(|p| (p.name.clone(), p.version.clone())),
            tags: Vec::new(),
        };
        self.conv.updated = wall;
        self.notice = None;
        vec![Effect::Save, Effect::Record(Box::new(row))]
    }
}
