//! The HTTP side of the provider: one reqwest client with our timeouts, the
//! headers a profile asks for, retries before the first byte, and the stream
//! read through our own SSE parser so that every fault ends in a clear event.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use super::chat_completions::{self, MaxTokensField};
use super::event::{ProviderError, StreamEvent};
use super::limits;
use super::responses;
use super::sse::{SseError, SseEvent, SseParser};
use super::transfer::Moved;
use crate::chat::params::Api;
use crate::chat::request::ChatRequest;
use crate::config::profile::{AuthStyle, HttpEndpoint, OPENAI_BASE_URL};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    pub connect_secs: u64,
    /// Reasoning models can think for minutes before they send anything.
    pub first_byte_secs: u64,
    /// The longest silence between two chunks once the answer has begun.
    pub idle_secs: u64,
    pub max_attempts: u32,
    /// A server asking us to wait longer than this is reported, not obeyed.
    pub max_retry_wait_secs: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect_secs: 10,
            first_byte_secs: 300,
            idle_secs: 60,
            max_attempts: 3,
            max_retry_wait_secs: 30,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpClient {
    /// Built on first use: TLS set-up and root certificates cost memory that an
    /// idle console should not pay.
    client: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    endpoint: HttpEndpoint,
    headers: HeaderMap,
    timeouts: Timeouts,
    /// Remote MCP servers by name: url and headers (secrets) for the requests
    /// that name them.
    remote_mcp: std::sync::Arc<std::collections::BTreeMap<String, crate::chat::tools::RemoteMcp>>,
}

impl HttpClient {
    pub fn new(endpoint: HttpEndpoint, timeouts: Timeouts) -> Result<Self, ProviderError> {
        let headers = headers(&endpoint)?;
        Ok(Self {
            client: Default::default(),
            endpoint,
            headers,
            timeouts,
            remote_mcp: Default::default(),
        })
    }

    pub fn set_remote_mcp(
        &mut self,
        remote: std::collections::BTreeMap<String, crate::chat::tools::RemoteMcp>,
    ) {
        self.remote_mcp = std::sync::Arc::new(remote);
    }

    /// The bytes sent: the wire body, with the remote MCP servers' url and
    /// headers filled in (only here, on their way out).
    fn send_body(&self, req: &ChatRequest) -> Result<Vec<u8>, ProviderError> {
        body_with_remote(&self.endpoint, req, &self.remote_mcp).map_err(ProviderError::Other)
    }

    fn client(&self) -> Result<&reqwest::Client, ProviderError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        // One process-wide crypto provider; a second install is harmless and ignored.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(self.timeouts.connect_secs))
            .user_agent(concat!("llmdeck/", env!("CARGO_PKG_VERSION")))
            .redirect(same_origin_redirects());
        if never_tls(&self.endpoint.base_url) {
            // The system's roots are not read (5 ms and ~150 KB at the first
            // request), and the store left empty would refuse any certificate.
            builder = builder.tls_certs_only(Vec::new());
        }
        let client = builder
            .build()
            .map_err(|e| ProviderError::Other(format!("cannot start the HTTP client: {e}")))?;
        Ok(self.client.get_or_init(|| client))
    }

    pub fn endpoint(&self) -> &HttpEndpoint {
        &self.endpoint
    }

    fn url(&self, path: &str) -> String {
        url(&self.endpoint, path)
    }

    /// Streams an answer over the request's wire API; every event goes to
    /// `emit`, ending with `End` or `Error`.
    pub async fn stream_chat(&self, req: &ChatRequest, emit: &mut (dyn FnMut(StreamEvent) + Send)) {
        let api = api_of(&self.endpoint, req);
        let body = match self.send_body(req) {
            Ok(b) => b,
            Err(e) => return emit(StreamEvent::Error(e)),
        };
        let started = Instant::now();
        let mut emit = |ev: StreamEvent| {
            match &ev {
                StreamEvent::End => crate::log::line(
                    "end",
                    &format!("ok after {} ms", started.elapsed().as_millis()),
                ),
                StreamEvent::Error(e) => crate::log::line(
                    "end",
                    &format!(
                        "{} after {} ms: {e}",
                        e.kind(),
                        started.elapsed().as_millis()
                    ),
                ),
                _ => {}
            }
            emit(ev)
        };
        let response = match self.send_with_retries(api, body, &mut emit).await {
            Ok(r) => r,
            Err(e) => return emit(StreamEvent::Error(e)),
        };
        emit(StreamEvent::Started { model: None });
        // A LiteLLM proxy says what the request cost in a header.
        let cost = response
            .headers()
            .get("x-litellm-response-cost")
            .and_then(|v| v.to_str().ok()?.trim().parse::<f64>().ok())
            .and_then(crate::provider::event::server_cost);
        let mut emit = |ev: StreamEvent| match (&ev, cost.clone()) {
            // Given just before the end, so it follows any usage the body reports.
            (StreamEvent::End, Some(c)) => {
                emit(c);
                emit(ev)
            }
            _ => emit(ev),
        };
        let is_json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            // A server that ignores `stream: true` answers with the whole object.
            return self.read_whole(api, response, &mut emit).await;
        }
        self.read_stream(Decoder::new(api), response, &mut emit)
            .await;
    }

    async fn read_whole(
        &self,
        api: Api,
        response: reqwest::Response,
        emit: &mut (dyn FnMut(StreamEvent) + Send),
    ) {
        let wait = Duration::from_secs(self.timeouts.idle_secs);
        let read = limits::read_body(response, limits::MAX_RESPONSE_BYTES, wait, "the response");
        let text = match read.await.map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                let e = ProviderError::Malformed("invalid UTF-8 in the response".into());
                return emit(StreamEvent::Error(e));
            }
            Err(e) => return emit(StreamEvent::Error(e)),
        };
        let mut events = Vec::new();
        let parsed = parse_whole(api, &text, &mut events);
        events.into_iter().for_each(&mut *emit);
        emit(match parsed {
            Ok(()) => StreamEvent::End,
            Err(e) => StreamEvent::Error(e),
        });
    }

    async fn send_with_retries(
        &self,
        api: Api,
        body: Vec<u8>,
        emit: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<reqwest::Response, ProviderError> {
        let t = self.timeouts;
        let mut attempt = 1;
        if crate::log::enabled() {
            let headers = crate::log::headers(
                self.headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or("?"))),
            );
            crate::log::line(
                "request",
                &format!(
                    "POST {} [{headers}] {} bytes",
                    crate::log::url(&self.url(api.path())),
                    body.len()
                ),
            );
        }
        // Built once (what cannot be built fails every attempt): each attempt
        // sends a clone, whose body shares the bytes, a long session's whole history.
        let client = self.client()?;
        let request = client
            .post(self.url(api.path()))
            .headers(self.headers.clone())
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(body)
            .build()
            .map_err(|e| ProviderError::Connect(describe(&e)))?;
        loop {
            let send = client.execute(
                request
                    .try_clone()
                    .expect("a request whose body is bytes clones"),
            );
            let outcome = match tokio::time::timeout(Duration::from_secs(t.first_byte_secs), send)
                .await
            {
                Err(_) => Err((
                    ProviderError::FirstByteTimeout(t.first_byte_secs),
                    None,
                    false,
                )),
                // A refused redirect would be refused again.
                Ok(Err(e)) => Err((ProviderError::Connect(describe(&e)), None, !e.is_redirect())),
                Ok(Ok(resp)) if resp.status().is_success() => Ok(resp),
                Ok(Ok(resp)) => {
                    let wait = retry_after(resp.headers());
                    let error = limits::http_error(resp, Duration::from_secs(t.idle_secs)).await;
                    let retryable = matches!(
                        &error,
                        ProviderError::Http { status, code, .. }
                            if matches!(status, 408 | 409 | 429 | 500..=599)
                                && code.as_deref() != Some("insufficient_quota")
                    );
                    Err((error, wait, retryable))
                }
            };
            let (error, asked_wait, retryable) = match outcome {
                Ok(resp) => {
                    crate::log::line(
                        "response",
                        &format!("HTTP {} (attempt {attempt})", resp.status().as_u16()),
                    );
                    return Ok(resp);
                }
                Err(e) => e,
            };
            crate::log::line("failed", &format!("attempt {attempt}: {error}"));
            if !retryable || attempt >= t.max_attempts {
                return Err(error);
            }
            let wait = match asked_wait {
                Some(w) if w > Duration::from_secs(t.max_retry_wait_secs) => {
                    return Err(ProviderError::Other(format!(
                        "{error} — the server asks to retry in {} s, longer than the {} s cap",
                        w.as_secs(),
                        t.max_retry_wait_secs
                    )));
                }
                Some(w) => w,
                None => backoff(attempt),
            };
            crate::log::line("retry", &format!("in {} ms", wait.as_millis()));
            emit(StreamEvent::Retrying {
                attempt: attempt + 1,
                of: t.max_attempts,
                wait_ms: wait.as_millis() as u64,
                reason: error.to_string(),
            });
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn read_stream(
        &self,
        mut decoder: Decoder,
        response: reqwest::Response,
        emit: &mut (dyn FnMut(StreamEvent) + Send),
    ) {
        let t = self.timeouts;
        let mut body = response.bytes_stream();
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        let mut finished = false;
        let mut received_any = false;
        loop {
            let limit = if received_any {
                t.idle_secs
            } else {
                t.first_byte_secs
            };
            let next = match tokio::time::timeout(Duration::from_secs(limit), body.next()).await {
                Err(_) if received_any => {
                    return emit(StreamEvent::Error(ProviderError::Stalled(limit)));
                }
                Err(_) => return emit(StreamEvent::Error(ProviderError::FirstByteTimeout(limit))),
                Ok(n) => n,
            };
            let at_end = next.is_none();
            let parsed = match next {
                Some(Ok(bytes)) => {
                    received_any = true;
                    parser.push(&bytes)
                }
                Some(Err(_)) => return emit(StreamEvent::Error(ProviderError::Interrupted)),
                None => parser.finish().map(|e| e.into_iter().collect()),
            };
            let sse = match parsed {
                Ok(sse) => sse,
                Err(e) => return emit(StreamEvent::Error(sse_error(e))),
            };
            for ev in sse {
                events.clear();
                let over = decoder.feed(&ev, &mut events);
                for e in events.drain(..) {
                    finished |= matches!(e, StreamEvent::Finish(_));
                    emit(e);
                }
                match over {
                    Ok(false) => {}
                    Ok(true) => return emit(StreamEvent::End),
                    Err(e) => return emit(StreamEvent::Error(e)),
                }
            }
            if let Some(e) = parser.take_error() {
                return emit(StreamEvent::Error(sse_error(e)));
            }
            if at_end {
                // Closed without [DONE]: complete only if the answer said it finished.
                return emit(if finished {
                    StreamEvent::End
                } else {
                    StreamEvent::Error(ProviderError::Interrupted)
                });
            }
        }
    }

    /// One JSON request and its JSON answer (embeddings, batches): no stream,
    /// the answer capped like any whole response.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<serde_json::Value, ProviderError> {
        let body = serde_json::to_vec(body).expect("JSON values serialize");
        let bytes = self
            .call(
                reqwest::Method::POST,
                path,
                Some(("application/json", body)),
                limits::MAX_RESPONSE_BYTES,
                what,
            )
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| ProviderError::Malformed(format!("{what}: {e}")))
    }

    /// One request to `path` under the endpoint (with `body` and its content
    /// type, if any) and its whole answer, at most `cap` bytes; a non-success
    /// status is the server's error. No retries: the callers poll again.
    ///
    /// No total timeout: a batch's file of hundreds of MB on a slow link takes
    /// what it takes. What is bounded is silence: the body sent must keep
    /// moving (`idle_secs` between two pieces), the answer must begin within
    /// `first_byte_secs` of the body's end (plus as long as the body took to
    /// go), and its body must keep arriving (`idle_secs` between two chunks).
    /// A hung connection fails at one of them.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        cap: usize,
        what: &str,
    ) -> Result<Vec<u8>, ProviderError> {
        let idle = Duration::from_secs(self.timeouts.idle_secs);
        let first_byte = Duration::from_secs(self.timeouts.first_byte_secs);
        let moved = Moved::new(body.is_none());
        let mut req = self
            .client()?
            .request(method, self.url(path))
            .headers(self.headers.clone());
        if let Some((content_type, bytes)) = body {
            req = req
                .header("content-type", content_type)
                .header("content-length", bytes.len())
                .body(moved.body(bytes));
        }
        let resp = moved
            .watch(req.send(), idle, first_byte)
            .await?
            .map_err(|e| ProviderError::Connect(describe(&e)))?;
        if !resp.status().is_success() {
            return Err(limits::http_error(resp, idle).await);
        }
        limits::read_moving(resp, cap, idle, what).await
    }

    pub async fn list_models(&self) -> Result<Vec<String>, ProviderError> {
        #[derive(Deserialize)]
        struct List {
            data: Vec<Model>,
        }
        #[derive(Deserialize)]
        struct Model {
            id: String,
        }
        // The request's timeout bounds the body too.
        let wait = Duration::from_secs(self.timeouts.connect_secs + 20);
        let resp = self
            .client()?
            .get(self.url("/models"))
            .headers(self.headers.clone())
            .timeout(wait)
            .send()
            .await
            .map_err(|e| ProviderError::Connect(describe(&e)))?;
        let body = limits::body_of(resp, limits::MAX_MODELS_BYTES, wait, "the model list").await?;
        let list: List = serde_json::from_slice(&body)
            .map_err(|e| ProviderError::Malformed(format!("model list: {e}")))?;
        let mut ids: Vec<String> = list.data.into_iter().map(|m| m.id).collect();
        ids.sort();
        Ok(ids)
    }
}

/// Turns the SSE events of one wire API into stream events.
enum Decoder {
    Chat(chat_completions::Decoder),
    Responses(responses::Decoder),
}

impl Decoder {
    fn new(api: Api) -> Self {
        match api {
            Api::Chat => Self::Chat(Default::default()),
            Api::Responses => Self::Responses(Default::default()),
        }
    }

    /// `Ok(true)` when the answer is over.
    fn feed(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<bool, ProviderError> {
        match self {
            Self::Chat(_) if ev.data.trim() == "[DONE]" => Ok(true),
            Self::Chat(d) => d.chunk(&ev.data, out).map(|()| false),
            Self::Responses(d) => d.event(ev.event.as_deref(), &ev.data, out),
        }
    }
}

fn sse_error(e: SseError) -> ProviderError {
    ProviderError::Malformed(e.to_string())
}

/// `path` under the endpoint, with the profile's query parameters.
pub fn url(endpoint: &HttpEndpoint, path: &str) -> String {
    let mut url = format!("{}{}", endpoint.base_url, path);
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in &endpoint.query {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(v);
        sep = '&';
    }
    url
}

/// OpenAI reads `max_completion_tokens`; compatible servers mostly `max_tokens`.
pub fn max_tokens_field(endpoint: &HttpEndpoint) -> MaxTokensField {
    if endpoint.base_url == OPENAI_BASE_URL {
        MaxTokensField::MaxCompletionTokens
    } else {
        MaxTokensField::MaxTokens
    }
}

/// The wire API a request to `endpoint` goes over: the conversation's choice, else the profile's.
pub fn api_of(endpoint: &HttpEndpoint, req: &ChatRequest) -> Api {
    req.params.api.unwrap_or(endpoint.api)
}

/// A whole (non-streamed) answer of `api` as the events its stream would have
/// given (without the final `End`): a server that ignored `stream`, or a batch's answer.
pub fn parse_whole(api: Api, text: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
    match api {
        Api::Chat => chat_completions::parse_chunk(text, out),
        Api::Responses => responses::parse_response(text, out),
    }
}

/// The exact bytes a request to `endpoint` sends.
pub fn body(endpoint: &HttpEndpoint, req: &ChatRequest) -> Vec<u8> {
    match api_of(endpoint, req) {
        Api::Chat => serde_json::to_vec(&chat_completions::body(req, max_tokens_field(endpoint))),
        Api::Responses => serde_json::to_vec(&responses::body(req, endpoint.store)),
    }
    .expect("request bodies serialize")
}

/// The bytes a request to `endpoint` sends once the remote MCP servers it
/// names get their url, headers and allowed tools from `remote` (view code
/// passes placeholders: the same body, its secrets read from the environment).
pub fn body_with_remote(
    endpoint: &HttpEndpoint,
    req: &ChatRequest,
    remote: &std::collections::BTreeMap<String, crate::chat::tools::RemoteMcp>,
) -> Result<Vec<u8>, String> {
    let has_remote = req
        .params
        .hosted
        .iter()
        .any(|h| matches!(h, crate::chat::tools::HostedTool::Mcp { .. }));
    if !has_remote || api_of(endpoint, req) != Api::Responses {
        return Ok(body(endpoint, req));
    }
    let wire = responses::with_remote(responses::body(req, endpoint.store), remote)?;
    Ok(serde_json::to_vec(&wire).expect("request bodies serialize"))
}

/// The headers a profile sends. Bad values are a message, never a panic.
fn headers(endpoint: &HttpEndpoint) -> Result<HeaderMap, ProviderError> {
    let mut map = HeaderMap::new();
    let mut put = |name: &str, value: &str, secret: bool| -> Result<(), ProviderError> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ProviderError::Other(format!("invalid header name {name:?} in profile"))
        })?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            ProviderError::Other(if secret {
                "the API key contains characters that cannot be sent in a header".into()
            } else {
                format!("invalid value for header {name} in profile")
            })
        })?;
        value.set_sensitive(secret);
        map.insert(name, value);
        Ok(())
    };
    if let Some(key) = &endpoint.key {
        match endpoint.auth {
            AuthStyle::Bearer => put("authorization", &format!("Bearer {}", key.expose()), true)?,
            AuthStyle::ApiKey => put("api-key", key.expose(), true)?,
        }
    }
    if let Some(org) = &endpoint.organization {
        put("openai-organization", org, false)?;
    }
    if let Some(project) = &endpoint.project {
        put("openai-project", project, false)?;
    }
    for (k, v) in &endpoint.headers {
        put(k, v, false)?;
    }
    Ok(map)
}

/// `retry-after-ms`, then `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Some(Duration::from_millis(ms.max(0.0) as u64));
    }
    let value = get("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return Some(Duration::from_millis((secs.max(0.0) * 1000.0) as u64));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Exponential backoff with jitter: 0.5 s, 1 s, 2 s... capped at 8 s, ±25 %.
fn backoff(attempt: u32) -> Duration {
    let base = (500u64 << (attempt - 1).min(4)).min(8000);
    let nanos = Instant::now().elapsed().as_nanos() as u64 ^ std::process::id() as u64;
    let seed = nanos.wrapping_add(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0),
    );
    let jitter = (seed % 500) as i64 - 250; // -250..250 per mille of a quarter
    Duration::from_millis((base as i64 + base as i64 * jitter / 1000) as u64)
}

/// Redirects are followed only within the origin (scheme, host, port) they
/// come from. reqwest's default drops `Authorization` on the way to another
/// host but keeps `api-key` and a profile's own headers, and lets https go to
/// http; a key, a gateway header or the admin key must reach neither.
pub(crate) fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let refused = match attempt.previous().last() {
            _ if attempt.previous().len() > 5 => Some("too many redirects".to_string()),
            Some(from) => cross_origin(from, attempt.url()),
            None => None,
        };
        match refused {
            Some(why) => attempt.error(why),
            None => attempt.follow(),
        }
    })
}

/// Whether requests to `base_url` can never speak TLS: a plain-http endpoint
/// (a local server, a proxy; redirects keep to its origin) reached directly,
/// not through a proxy from the environment, which may be an https one.
fn never_tls(base_url: &str) -> bool {
    let proxied = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    plain_http(base_url) && !proxied
}

fn plain_http(base_url: &str) -> bool {
    reqwest::Url::parse(base_url.trim()).is_ok_and(|u| u.scheme() == "http")
}

/// Why a redirect from `from` to `to` is refused, if it is.
fn cross_origin(from: &reqwest::Url, to: &reqwest::Url) -> Option<String> {
    let (from, to) = (from.origin(), to.origin());
    (from != to).then(|| {
        format!(
            "{} sent us on to {}, another origin: credentials go only where the profile says",
            from.ascii_serialization(),
            to.ascii_serialization()
        )
    })
}

/// Connection errors without reqwest's nesting, which hides the cause (and
/// without the URL, whose query may hold a secret).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut msg = if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_redirect() {
        "redirect not followed".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_ms_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn only_a_plain_http_endpoint_goes_without_the_systems_roots() {
        for url in [
            "http://127.0.0.1:8080/v1",
            "HTTP://localhost/v1",
            " http://gateway/v1",
        ] {
            assert!(plain_http(url), "{url}");
        }
        // Spelled any way, https keeps the system's roots.
        for url in [
            "https://api.openai.com/v1",
            "HTTPS://x/v1",
            " https://x/v1",
            "",
            "x",
        ] {
            assert!(!plain_http(url), "{url}");
        }
    }

    #[test]
    fn redirects_stay_within_their_origin() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let from = url("https://api.openai.com/v1/models");
        assert_eq!(
            cross_origin(&from, &url("https://api.openai.com/v1/models/")),
            None
        );
        for to in [
            "http://api.openai.com/v1/models",
            "https://api.openai.com:8443/v1/models",
            "https://evil.example/v1/models",
        ] {
            assert!(cross_origin(&from, &url(to)).is_some(), "{to}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        // Many samples an attempt: every one within ±25 % of its base, the
        // middle of them near the base, the spread real, doubling to the cap.
        let mut medians = Vec::new();
        for attempt in 1..=7u32 {
            let base = (500u64 << (attempt - 1)).min(8000) as f64;
            let mut ms: Vec<f64> = (0..2000)
                .map(|_| backoff(attempt).as_secs_f64() * 1000.0)
                .collect();
            ms.sort_by(f64::total_cmp);
            assert!(
                ms[0] >= base * 0.75 && ms[ms.len() - 1] <= base * 1.25,
                "attempt {attempt}: {} .. {}",
                ms[0],
                ms[ms.len() - 1]
            );
            let median = ms[ms.len() / 2];
            assert!(
                (median - base).abs() <= base * 0.1,
                "attempt {attempt}: median {median} for {base}"
            );
            // Jittered, not one value: retries of many clients do not line up.
            assert!(
                ms[ms.len() * 9 / 10] - ms[ms.len() / 10] >= base * 0.2,
                "attempt {attempt}: too little spread"
            );
            medians.push(median);
        }
        for w in medians.windows(2) {
            assert!(
                w[1] >= w[0] * 1.6 || w[1] >= 8000.0 * 0.9,
                "grows: {medians:?}"
            );
        }
        assert!(backoff(30) <= Duration::from_millis(10_000));
    }
}
