//! An in-process mock of the OpenAI API on 127.0.0.1 (port 0): `/v1/models`,
//! `/v1/chat/completions` (streamed and not), `/v1/embeddings`, and the Batch
//! API's `/v1/files` and `/v1/batches` (`mock_batch`), in OpenAI's exact shapes.
//! It records every request (headers and body) and can be told to misbehave.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::mock_responses::{self as responses, Parts};

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// What the next chat completion does.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Stream these text pieces, then finish with `finish_reason` and usage.
    Stream {
        pieces: Vec<String>,
        finish: String,
        gap_ms: u64,
    },
    /// Answer with this HTTP status and body.
    Status {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// Send these raw bytes as the 200 event-stream body, then close.
    Raw(Vec<u8>),
    /// Stream some pieces, then keep the connection open and silent.
    Stall { pieces: Vec<String> },
    /// Call these functions: (name, arguments JSON), streamed a few characters at a time.
    Calls(Vec<(String, String)>),
    /// A reasoning summary, then the answer.
    Think {
        summary: Vec<String>,
        pieces: Vec<String>,
    },
    /// Some text, then the answer is cut (`response.incomplete` / `finish_reason: length`).
    Incomplete { pieces: Vec<String>, reason: String },
    /// Responses only: hosted tool calls (finished output items such as a
    /// `web_search_call`), each streamed in progress then done, then the answer.
    Hosted {
        items: Vec<serde_json::Value>,
        pieces: Vec<String>,
    },
    /// Some text, then the server reports a failure (`response.failed` / an error chunk).
    Failed {
        pieces: Vec<String>,
        message: String,
    },
}

#[derive(Clone)]
pub struct Mock {
    pub base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
    replies: Arc<Mutex<Vec<Reply>>>,
    /// Connections closed by the client while we were still streaming.
    pub closed_early: Arc<Mutex<u32>>,
    /// Requests for this model get a 400 (to fail one target of a comparison).
    failing_model: Arc<Mutex<Option<String>>>,
    /// Answer with the whole object even when a stream was asked for.
    whole: Arc<Mutex<bool>>,
    /// Misbehaviour on every path, instead of the normal answers.
    hostile: Arc<Mutex<Option<Hostile>>>,
    /// Bytes of the last flood written before the client hung up (or all of them).
    pub flooded: Arc<Mutex<Option<usize>>>,
    /// The files and batches, and how batches go.
    pub batches: Arc<Mutex<super::mock_batch::Batches>>,
}

/// A server out to hurt the client, on every path while it is set.
#[derive(Debug, Clone)]
pub enum Hostile {
    /// `status`, then `prefix` and `unit` repeated up to `total` bytes, no length.
    Flood {
        status: u16,
        content_type: String,
        prefix: Vec<u8>,
        unit: Vec<u8>,
        total: usize,
    },
    /// `status` promising a long body, the first bytes of it, then silence.
    StallBody { status: u16, start: String },
    /// A 307 to the same path at another origin (`http://host:port`).
    Redirect(String),
}

pub const USAGE: &str = r#"{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":1000,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":120,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#;

impl Mock {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let mock = Mock {
            base_url: format!("http://{addr}/v1"),
            received: Arc::default(),
            replies: Arc::default(),
            closed_early: Arc::default(),
            failing_model: Arc::default(),
            whole: Arc::default(),
            hostile: Arc::default(),
            flooded: Arc::default(),
            batches: Arc::default(),
        };
        let m = mock.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let m = m.clone();
                tokio::spawn(async move { m.serve(sock).await });
            }
        });
        mock
    }

    /// Starts on its own thread and runtime, for tests that run the real binary.
    pub fn start_in_background() -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                tx.send(Mock::start().await).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    }

    pub fn force_whole(&self, on: bool) {
        *self.whole.lock().unwrap() = on;
    }

    pub fn fail_model(&self, model: &str) {
        *self.failing_model.lock().unwrap() = Some(model.to_string());
    }

    pub fn misbehave(&self, hostile: Hostile) {
        *self.hostile.lock().unwrap() = Some(hostile);
    }

    pub fn push(&self, reply: Reply) {
        self.replies.lock().unwrap().push(reply);
    }

    /// The next queued reply, else the default answer.
    pub fn next_reply(&self) -> Reply {
        let mut r = self.replies.lock().unwrap();
        if r.is_empty() {
            Reply::Stream {
                pieces: vec!["Hello".into(), " from".into(), " the mock.".into()],
                finish: "stop".into(),
                gap_ms: 0,
            }
        } else {
            r.remove(0)
        }
    }

    /// Batches stay in progress for `n` looks, then complete.
    pub fn batch_polls(&self, n: u32) {
        self.batches.lock().unwrap().polls = n;
    }

    /// Every batch in progress completes at its next look.
    pub fn batches_ready(&self) {
        self.batches.lock().unwrap().ready();
    }

    /// Cancels batch `id` as its owner would elsewhere (the dashboard).
    pub fn cancel_batch(&self, id: &str) {
        self.batches.lock().unwrap().cancel(id);
    }

    /// Line `line` (from 0) of the next batches fails so.
    pub fn batch_fail(&self, line: usize, fail: super::mock_batch::Fail) {
        self.batches.lock().unwrap().fail.insert(line, fail);
    }

    /// The next batches fail validation as a whole, with `message`.
    pub fn batch_invalid(&self, message: &str) {
        self.batches.lock().unwrap().invalid = Some(message.to_string());
    }

    /// The files deleted so far, and the ones still stored.
    pub fn batch_files(&self) -> (Vec<String>, Vec<String>) {
        let b = self.batches.lock().unwrap();
        (b.deleted.clone(), b.stored())
    }

    /// Deletes fail (500) while `on`.
    pub fn refuse_deletes(&self, on: bool) {
        self.batches.lock().unwrap().refuse_deletes = on;
    }

    /// Files' contents are sent `piece` bytes at a time, `gap_ms` apart.
    pub fn pace_files(&self, piece: usize, gap_ms: u64) {
        self.batches.lock().unwrap().pace = Some((piece, gap_ms));
    }

    /// No line of the next batches fails.
    pub fn batch_fail_none(&self) {
        self.batches.lock().unwrap().fail.clear();
    }

    /// What the Batch API part of the mock found against OpenAI's schemas.
    pub fn batch_problems(&self) -> Vec<String> {
        self.batches.lock().unwrap().problems.clone()
    }

    pub fn batch_requests(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path.starts_with("/v1/batches") || r.path.starts_with("/v1/files"))
            .collect()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Requests to a path ending in `suffix` (query left out).
    fn requests_to(&self, suffix: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path.split('?').next().unwrap_or("").ends_with(suffix))
            .collect()
    }

    pub fn chat_requests(&self) -> Vec<Received> {
        self.requests_to("/chat/completions")
    }

    pub fn embedding_requests(&self) -> Vec<Received> {
        self.requests_to("/embeddings")
    }

    pub fn responses_requests(&self) -> Vec<Received> {
        self.requests_to("/responses")
    }

    async fn serve(&self, mut sock: TcpStream) {
        loop {
            let Some(req) = read_request(&mut sock).await else {
                return;
            };
            self.received.lock().unwrap().push(req.clone());
            let hostile = self.hostile.lock().unwrap().clone();
            if let Some(h) = hostile {
                return self.hurt(sock, h, &req.path).await;
            }
            let path = req.path.split('?').next().unwrap_or("").to_string();
            if path == "/v1/models" {
                let body = r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"id":"o4-mini","object":"model","created":1744225351,"owned_by":"system"}]}"#;
                respond(&mut sock, 200, "application/json", body.as_bytes(), &[]).await;
                continue;
            }
            if path.starts_with("/v1/files") || path.starts_with("/v1/batches") {
                let (status, body) = self.batches.lock().unwrap().route(self, &req, &path);
                let content = path.ends_with("/content") && status == 200;
                let ctype = if content {
                    "application/octet-stream"
                } else {
                    "application/json"
                };
                let pace = self.batches.lock().unwrap().pace;
                match pace {
                    Some((piece, gap_ms)) if content => {
                        let head = format!(
                            "HTTP/1.1 200 X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        let _ = sock.write_all(head.as_bytes()).await;
                        for part in body.chunks(piece) {
                            if sock.write_all(part).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(gap_ms)).await;
                        }
                    }
                    _ => respond(&mut sock, status, ctype, &body, &[]).await,
                }
                continue;
            }
            if path == "/v1/embeddings" {
                let (status, body) = responses::embeddings(&req.body);
                respond(&mut sock, status, "application/json", body.as_bytes(), &[]).await;
                continue;
            }
            if path.starts_with("/v1/organization/") {
                let body = org_page(&path, req.path.contains("page=p2"));
                respond(&mut sock, 200, "application/json", body.as_bytes(), &[]).await;
                continue;
            }
            let is_responses = path == "/v1/responses";
            if path != "/v1/chat/completions" && !is_responses {
                respond(
                    &mut sock,
                    404,
                    "application/json",
                    br#"{"error":{"message":"not found","type":"invalid_request_error"}}"#,
                    &[],
                )
                .await;
                continue;
            }
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let model = body["model"].as_str().unwrap_or("gpt-4o-mini").to_string();
            let stream = body["stream"].as_bool().unwrap_or(false) && !*self.whole.lock().unwrap();
            if self.failing_model.lock().unwrap().as_deref() == Some(model.as_str()) {
                let body = format!(
                    r#"{{"error":{{"message":"The model `{model}` does not exist","type":"invalid_request_error","code":"model_not_found"}}}}"#
                );
                respond(&mut sock, 404, "application/json", body.as_bytes(), &[]).await;
                continue;
            }
            let reply = self.next_reply();
            match reply {
                Reply::Status {
                    status,
                    body,
                    headers,
                } => {
                    let h: Vec<(&str, &str)> = headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    respond(&mut sock, status, "application/json", body.as_bytes(), &h).await;
                }
                Reply::Raw(bytes) => {
                    let _ = sock.write_all(sse_head().as_bytes()).await;
                    let _ = sock.write_all(&bytes).await;
                    return;
                }
                Reply::Stall { pieces } if is_responses => {
                    let _ = sock.write_all(sse_head().as_bytes()).await;
                    let parts = Parts::of(&Reply::Failed {
                        pieces,
                        message: String::new(),
                    })
                    .unwrap();
                    // Everything up to the text, then silence.
                    for (e, d) in responses::events(&model, &parts)
                        .into_iter()
                        .filter(|(e, _)| e != "response.failed")
                    {
                        let _ = sock
                            .write_all(format!("event: {e}\ndata: {d}\n\n").as_bytes())
                            .await;
                    }
                    let mut buf = [0u8; 1];
                    let _ = sock.read(&mut buf).await;
                    *self.closed_early.lock().unwrap() += 1;
                    return;
                }
                Reply::Stall { pieces } => {
                    let _ = sock.write_all(sse_head().as_bytes()).await;
                    for p in &pieces {
                        let c = chunk(
                            &model,
                            &format!(r#"{{"content":{}}}"#, serde_json::to_string(p).unwrap()),
                            "null",
                        );
                        let _ = sock.write_all(format!("data: {c}\n\n").as_bytes()).await;
                    }
                    // Hold the connection until the client goes away.
                    let mut buf = [0u8; 1];
                    let _ = sock.read(&mut buf).await;
                    *self.closed_early.lock().unwrap() += 1;
                    return;
                }
                other if stream => {
                    let gap_ms = match &other {
                        Reply::Stream { gap_ms, .. } => *gap_ms,
                        _ => 0,
                    };
                    let mut parts = Parts::of(&other).expect("a reply with content");
                    if let Reply::Stream { finish, .. } = &other
                        && finish == "length"
                    {
                        parts.incomplete = Some("max_output_tokens".into());
                    }
                    if sock.write_all(sse_head().as_bytes()).await.is_err() {
                        return;
                    }
                    let blocks: Vec<String> = if is_responses {
                        responses::events(&model, &parts)
                            .into_iter()
                            .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
                            .collect()
                    } else {
                        let usage = body["stream_options"]["include_usage"].as_bool() == Some(true);
                        let mut b: Vec<String> = responses::chat_chunks(&model, &parts, usage)
                            .into_iter()
                            .map(|c| format!("data: {c}\n\n"))
                            .collect();
                        if parts.failed.is_none() {
                            b.push("data: [DONE]\n\n".into());
                        }
                        b
                    };
                    for block in blocks {
                        if sock.write_all(block.as_bytes()).await.is_err() {
                            *self.closed_early.lock().unwrap() += 1;
                            return;
                        }
                        if gap_ms > 0 {
                            tokio::time::sleep(Duration::from_millis(gap_ms)).await;
                        }
                    }
                    return;
                }
                other => {
                    let parts = Parts::of(&other).expect("a reply with content");
                    let body = if is_responses {
                        responses::whole(&model, &parts)
                    } else {
                        responses::chat_whole(&model, &parts)
                    };
                    respond(&mut sock, 200, "application/json", body.as_bytes(), &[]).await;
                }
            }
        }
    }
}

impl Mock {
    async fn hurt(&self, mut sock: TcpStream, hostile: Hostile, path: &str) {
        match hostile {
            Hostile::Flood {
                status,
                content_type,
                prefix,
                unit,
                total,
            } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n"
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let filler = unit.repeat(64 * 1024 / unit.len() + 1);
                let mut block = prefix;
                let mut sent = 0;
                while sent < total {
                    block.truncate(total - sent);
                    if sock.write_all(&block).await.is_err() {
                        break;
                    }
                    sent += block.len();
                    block.clone_from(&filler);
                }
                *self.flooded.lock().unwrap() = Some(sent);
            }
            Hostile::StallBody { status, start } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{start}"
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let mut buf = [0u8; 1];
                let _ = sock.read(&mut buf).await;
                *self.closed_early.lock().unwrap() += 1;
            }
            Hostile::Redirect(origin) => {
                let location = format!("{origin}{path}");
                respond(
                    &mut sock,
                    307,
                    "text/plain",
                    b"",
                    &[("location", &location)],
                )
                .await;
            }
        }
    }
}

fn sse_head() -> String {
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n".to_string()
}

pub fn chunk(model: &str, delta: &str, finish: &str) -> String {
    format!(
        r#"{{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"{model}","system_fingerprint":"fp_mock","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]}}"#
    )
}

async fn respond(
    sock: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = sock.write_all(head.as_bytes()).await;
    let _ = sock.write_all(body).await;
}

async fn read_request(sock: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

/// Two pages of Usage or Costs buckets: yesterday on the first, today on the second.
fn org_page(path: &str, second: bool) -> String {
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let start = if second { today } else { today - 86_400 };
    let results = if path.ends_with("/costs") {
        let (a, b) = if second {
            ("0.25", "0.5")
        } else {
            ("1.5", "0.75")
        };
        format!(
            r#"[{{"object":"organization.costs.result","amount":{{"value":{a},"currency":"usd"}},"line_item":"gpt-4o, input","project_id":"proj_a"}},
                {{"object":"organization.costs.result","amount":{{"value":{b},"currency":"usd"}},"line_item":"gpt-4o, output","project_id":"proj_b"}}]"#
        )
    } else {
        r#"[{"object":"organization.usage.completions.result","input_tokens":1000,"output_tokens":500,"input_cached_tokens":200,"input_audio_tokens":0,"output_audio_tokens":0,"num_model_requests":4,"project_id":"proj_a","user_id":null,"api_key_id":null,"model":"gpt-4o","batch":null}]"#.to_string()
    };
    let (more, next) = if second {
        ("false", "null")
    } else {
        ("true", "\"p2\"")
    };
    format!(
        r#"{{"object":"page","data":[{{"object":"bucket","start_time":{start},"end_time":{},"results":{results}}}],"has_more":{more},"next_page":{next}}}"#,
        start + 86_400
    )
}
