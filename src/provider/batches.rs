//! OpenAI's Batch API: a JSONL of requests uploaded to `/files` (purpose
//! `batch`), a batch created over it at `/batches`, retrieved until it is over,
//! its output and error files read back from `/files/{id}/content`, and each
//! file deleted (`DELETE /files/{id}`) once it is needed no more. Every
//! answer a batch gives is a whole response object, turned into the same
//! stream events a live request gives (`http::parse_whole`).

use reqwest::Method;
use serde_json::{Value, json};

use super::Provider;
use super::event::{ProviderError, StreamEvent};
use super::http::HttpClient;
use super::limits;
use crate::chat::params::Api;
use crate::chat::request::ChatRequest;

/// The batch's own endpoint for `api` (what each line's `url` and the batch name).
pub fn endpoint(api: Api) -> String {
    format!("/v1{}", api.path())
}

impl Provider {
    /// What a batch line carries: exactly the body a live request sends, less
    /// the streaming (a batch answers whole, and OpenAI refuses `stream` there).
    pub fn batch_body(&self, req: &ChatRequest) -> Value {
        let mut v: Value =
            serde_json::from_slice(&self.request_body(req)).expect("request bodies are JSON");
        if let Some(o) = v.as_object_mut() {
            o.remove("stream");
            o.remove("stream_options");
        }
        v
    }

    /// The wire API `req` goes over on this provider.
    pub fn api_for(&self, req: &ChatRequest) -> Api {
        match self {
            Self::Http(c) => super::http::api_of(c.endpoint(), req),
            Self::Record(inner, _) => inner.api_for(req),
            Self::Demo { .. } | Self::Replay(_) => req.params.api.unwrap_or(Api::Chat),
        }
    }
}

/// A batch as the server last described it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchState {
    pub id: String,
    /// validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled
    pub status: String,
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
    /// Why the whole batch failed (validation errors), when it did.
    pub errors: Vec<String>,
}

impl BatchState {
    fn from_json(v: &Value) -> Result<Self, ProviderError> {
        let id = v["id"]
            .as_str()
            .ok_or_else(|| ProviderError::Malformed("a batch without an id".into()))?;
        let file = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
        let count = |k: &str| v["request_counts"][k].as_u64().unwrap_or(0);
        Ok(Self {
            id: crate::log::scrub(id),
            status: crate::log::scrub(v["status"].as_str().unwrap_or("unknown")),
            total: count("total"),
            completed: count("completed"),
            failed: count("failed"),
            output_file_id: file("output_file_id"),
            error_file_id: file("error_file_id"),
            errors: v["errors"]["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    let line = e["line"]
                        .as_u64()
                        .map(|l| format!("line {l}: "))
                        .unwrap_or_default();
                    crate::log::scrub(&format!(
                        "{line}{}",
                        e["message"].as_str().unwrap_or("failed")
                    ))
                })
                .collect(),
        })
    }

    /// Whether the batch will change no more.
    pub fn is_over(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "failed" | "expired" | "cancelled"
        )
    }

    /// `in_progress · 3/10 done, 1 failed`
    pub fn line(&self) -> String {
        let failed = if self.failed > 0 {
            format!(", {} failed", self.failed)
        } else {
            String::new()
        };
        format!(
            "{} · {}/{} done{failed}",
            self.status,
            self.completed + self.failed,
            self.total
        )
    }
}

/// Ids go into paths: only what OpenAI's ids are made of.
fn checked_id(id: &str) -> Result<&str, ProviderError> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(id)
    } else {
        Err(ProviderError::Other(format!(
            "{:?} is not a batch or file id",
            crate::log::scrub(id)
        )))
    }
}

impl Provider {
    /// The HTTP client under this provider: batches need a real endpoint.
    fn http_client(&self) -> Result<&HttpClient, ProviderError> {
        match self {
            Self::Http(c) => Ok(c),
            Self::Record(inner, _) => inner.http_client(),
            Self::Demo { .. } | Self::Replay(_) => Err(ProviderError::Other(
                "a batch needs an HTTP endpoint (not the demo or a replay)".into(),
            )),
        }
    }

    async fn batch_call(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        cap: usize,
        what: &str,
    ) -> Result<Vec<u8>, ProviderError> {
        self.http_client()?
            .call(method, path, body, cap, what)
            .await
            .map_err(|e| e.scrubbed())
    }

    async fn batch_json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        what: &str,
    ) -> Result<Value, ProviderError> {
        let body = body.map(|b| {
            (
                "application/json",
                serde_json::to_vec(&b).expect("JSON values serialize"),
            )
        });
        let bytes = self
            .batch_call(method, path, body, limits::MAX_RESPONSE_BYTES, what)
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| ProviderError::Malformed(format!("{what}: {e}")))
    }

    /// Uploads `jsonl` as `filename` for a batch (multipart, purpose `batch`); its file id.
    pub async fn upload_batch_file(
        &self,
        filename: &str,
        jsonl: &[u8],
    ) -> Result<String, ProviderError> {
        let (content_type, body) = multipart(filename, jsonl);
        let bytes = self
            .batch_call(
                Method::POST,
                "/files",
                Some((&content_type, body)),
                limits::MAX_RESPONSE_BYTES,
                "the uploaded file",
            )
            .await?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::Malformed(format!("the uploaded file: {e}")))?;
        v["id"]
            .as_str()
            .map(crate::log::scrub)
            .ok_or_else(|| ProviderError::Malformed("the uploaded file has no id".into()))
    }

    /// Creates a batch over the uploaded `file_id`, to be done within 24 hours.
    pub async fn create_batch(
        &self,
        file_id: &str,
        api: Api,
        metadata: Value,
    ) -> Result<BatchState, ProviderError> {
        let body = json!({
            "input_file_id": checked_id(file_id)?,
            "endpoint": endpoint(api),
            "completion_window": "24h",
            "metadata": metadata,
        });
        let v = self
            .batch_json(Method::POST, "/batches", Some(body), "the new batch")
            .await?;
        BatchState::from_json(&v)
    }

    pub async fn retrieve_batch(&self, id: &str) -> Result<BatchState, ProviderError> {
        let path = format!("/batches/{}", checked_id(id)?);
        let v = self
            .batch_json(Method::GET, &path, None, "the batch")
            .await?;
        BatchState::from_json(&v)
    }

    pub async fn cancel_batch(&self, id: &str) -> Result<BatchState, ProviderError> {
        let path = format!("/batches/{}/cancel", checked_id(id)?);
        let v = self
            .batch_json(Method::POST, &path, None, "the cancelled batch")
            .await?;
        BatchState::from_json(&v)
    }

    /// The contents of an output or error file.
    pub async fn batch_file(&self, file_id: &str) -> Result<Vec<u8>, ProviderError> {
        let path = format!("/files/{}/content", checked_id(file_id)?);
        self.batch_call(
            Method::GET,
            &path,
            None,
            limits::MAX_BATCH_FILE_BYTES,
            "the batch's results",
        )
        .await
    }

    /// Deletes a file from the organisation's storage (`DELETE /files/{id}`);
    /// one already gone (404) is deleted too.
    pub async fn delete_file(&self, file_id: &str) -> Result<(), ProviderError> {
        let path = format!("/files/{}", checked_id(file_id)?);
        let v = match self
            .batch_json(Method::DELETE, &path, None, "the deleted file")
            .await
        {
            Err(ProviderError::Http { status: 404, .. }) => return Ok(()),
            other => other?,
        };
        if v["deleted"] == Value::Bool(true) {
            Ok(())
        } else {
            Err(ProviderError::Malformed(
                "the server did not say the file was deleted".into(),
            ))
        }
    }
}

/// A multipart/form-data body with the purpose and the file, and its content type.
fn multipart(filename: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = loop {
        let b = format!("llmdeck-{}", uuid::Uuid::now_v7().simple());
        if !file.windows(b.len()).any(|w| w == b.as_bytes()) {
            break b;
        }
    };
    let name: String = filename
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\'))
        .collect();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/jsonl\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// One line of a batch's output or error file.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchAnswer {
    pub custom_id: String,
    /// The answer's events (ending in `End` or `Error`), scrubbed.
    pub events: Vec<StreamEvent>,
}

/// The lines of an output or error file, each as the events of its answer: a
/// 200 is parsed as `api`'s whole response; any other status, or an `error`,
/// is that request's error. A line that is not JSON is named in the problems.
pub fn answers(api: Api, file: &[u8]) -> (Vec<BatchAnswer>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in file.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("line {}: not JSON ({e})", n + 1));
                continue;
            }
        };
        let Some(custom_id) = v["custom_id"].as_str() else {
            problems.push(format!("line {}: no custom_id", n + 1));
            continue;
        };
        let status = v["response"]["status_code"].as_u64();
        let body = &v["response"]["body"];
        let mut events = Vec::new();
        let error = if !v["error"].is_null() {
            let message = v["error"]["message"]
                .as_str()
                .unwrap_or("the request failed in the batch");
            Some(ProviderError::Other(match v["error"]["code"].as_str() {
                Some(code) => format!("{code}: {message}"),
                None => message.to_string(),
            }))
        } else if status != Some(200) {
            let text = body.to_string();
            let (message, code) = super::chat_completions::error_message(&text)
                .unwrap_or_else(|| (text.chars().take(300).collect(), None));
            Some(ProviderError::Http {
                status: status.unwrap_or(0) as u16,
                message,
                code,
            })
        } else {
            super::http::parse_whole(api, &body.to_string(), &mut events).err()
        };
        if error.is_none() {
            // Batch answers are billed at the batch rates, whatever the body says.
            events.push(StreamEvent::ServiceTier("batch".into()));
        }
        events.push(match error {
            Some(e) => StreamEvent::Error(e),
            None => StreamEvent::End,
        });
        out.push(BatchAnswer {
            custom_id: crate::log::scrub(custom_id),
            events: events.into_iter().map(StreamEvent::scrubbed).collect(),
        });
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_line_is_an_answer_and_an_error_line_its_reason() {
        let file = concat!(
            r#"{"id":"r1","custom_id":"a","response":{"status_code":200,"request_id":"q","body":{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}},"error":null}"#,
            "\n",
            r#"{"id":"r2","custom_id":"b","response":{"status_code":400,"request_id":"q","body":{"error":{"message":"bad model","type":"invalid_request_error","code":"model_not_found"}}},"error":null}"#,
            "\n",
            r#"{"id":"r3","custom_id":"c","response":null,"error":{"code":"batch_expired","message":"not run in time"}}"#,
            "\nnot json\n"
        );
        let (answers, problems) = answers(Api::Chat, file.as_bytes());
        assert_eq!(
            problems,
            ["line 4: not JSON (expected ident at line 1 column 2)"]
        );
        assert_eq!(answers.len(), 3);
        assert!(
            answers[0]
                .events
                .contains(&StreamEvent::TextDelta("Hi".into()))
        );
        assert_eq!(
            answers[0].events[answers[0].events.len() - 2..],
            [StreamEvent::ServiceTier("batch".into()), StreamEvent::End]
        );
        let error = |a: &BatchAnswer| match a.events.last() {
            Some(StreamEvent::Error(e)) => e.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(error(&answers[1]), "HTTP 400: bad model");
        assert_eq!(error(&answers[2]), "batch_expired: not run in time");
    }

    #[test]
    fn the_upload_is_multipart_with_the_purpose_and_a_safe_file_name() {
        let (ctype, body) = multipart("run \"x\".jsonl", b"{}\n");
        let boundary = ctype
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")), "{text}");
        assert!(text.contains("name=\"purpose\"\r\n\r\nbatch\r\n"), "{text}");
        assert!(text.contains("filename=\"runx.jsonl\""), "{text}");
        assert!(
            text.ends_with(&format!("{{}}\n\r\n--{boundary}--\r\n")),
            "{text}"
        );
    }

    #[test]
    fn an_id_that_could_change_the_path_is_refused() {
        assert!(checked_id("batch_abc-123").is_ok());
        for bad in ["", "../files", "a/b", "a?b", "a b"] {
            assert!(checked_id(bad).is_err(), "{bad}");
        }
    }
}
