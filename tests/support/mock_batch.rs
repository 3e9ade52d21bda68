//! The mock's Batch API: `/v1/files` (upload, retrieve, content) and
//! `/v1/batches` (create, retrieve, cancel), in OpenAI's shapes. What llmdeck
//! sends is checked against OpenAI's schemas (the upload's fields, each JSONL
//! line's body, the batch to create) and so is every object the mock answers;
//! whatever fails is kept in `problems` for the tests to assert empty. A batch
//! is in progress for `polls` retrievals, then completes: each line answered as
//! the live endpoint would (the mock's queued replies, else the default
//! answer), except the lines told to fail, which go to the error file. Files
//! are deleted with `DELETE /v1/files/{id}` (recorded in `deleted`).

#![allow(dead_code)]

use std::collections::HashMap;

use serde_json::{Value, json};

use super::mock_responses::{self as responses, Parts};
use super::mock_server::{Mock, Received, Reply};
use super::openapi;

/// How a line of a batch fails.
#[derive(Debug, Clone)]
pub enum Fail {
    /// The request was answered with this status and error message.
    Status(u16, String),
    /// The request was never run (`error` set, no response): code and message.
    Error(String, String),
}

#[derive(Default)]
pub struct Batches {
    files: HashMap<String, File>,
    batches: HashMap<String, Batch>,
    next: u64,
    /// Retrievals a batch stays in progress for before it completes.
    pub polls: u32,
    /// Lines (from 0, in the input file's order) that fail, and how.
    pub fail: HashMap<usize, Fail>,
    /// The next batches fail validation with this message (about line 1).
    pub invalid: Option<String>,
    /// What llmdeck sent or the mock answered that OpenAI's schemas refuse.
    pub problems: Vec<String>,
    /// The files deleted (`DELETE /v1/files/{id}`), in order.
    pub deleted: Vec<String>,
    /// Deletes fail with a 500 while set.
    pub refuse_deletes: bool,
    /// A file's content is sent in pieces of this many bytes, this many ms apart.
    pub pace: Option<(usize, u64)>,
}

struct File {
    object: Value,
    bytes: Vec<u8>,
}

struct Batch {
    object: Value,
    polls: u32,
    polls_left: u32,
    lines: Vec<Value>,
}

const CREATED: i64 = 1_764_000_000;

fn error(status: u16, message: &str) -> (u16, Vec<u8>) {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
    (status, body.to_string().into_bytes())
}

impl Batches {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:04}mock", self.next)
    }

    fn check(&mut self, schema: &str, what: &str, v: &Value) {
        if let Err(e) = openapi::validate(schema, v) {
            self.problems.push(format!("{what} against {schema}: {e}"));
        }
    }

    fn file_object(&mut self, filename: &str, purpose: &str, bytes: Vec<u8>) -> Value {
        let id = self.id("file-");
        let object = json!({
            "id": id, "object": "file", "bytes": bytes.len(), "created_at": CREATED,
            "filename": filename, "purpose": purpose, "status": "processed",
        });
        self.check("OpenAIFile", "the file the mock answers", &object);
        self.files.insert(
            id,
            File {
                object: object.clone(),
                bytes,
            },
        );
        object
    }

    /// `POST /v1/files`: the multipart upload of a batch's JSONL.
    fn upload(&mut self, req: &Received) -> (u16, Vec<u8>) {
        let Some(parts) = multipart(req) else {
            self.problems
                .push("the upload is not multipart/form-data".into());
            return error(400, "expected multipart/form-data");
        };
        let field = |name: &str| parts.iter().find(|p| p.name == name);
        let (Some(purpose), Some(file)) = (field("purpose"), field("file")) else {
            self.problems
                .push("the upload lacks purpose or file".into());
            return error(400, "'file' and 'purpose' are required");
        };
        let purpose = String::from_utf8_lossy(&purpose.body).to_string();
        let text = String::from_utf8_lossy(&file.body).to_string();
        self.check(
            "CreateFileRequest",
            "the upload",
            &json!({"file": text, "purpose": purpose}),
        );
        if purpose != "batch" {
            self.problems
                .push(format!("the upload's purpose is {purpose:?}"));
        }
        let mut ids = std::collections::HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                self.problems.push(format!("line {}: not JSON", n + 1));
                continue;
            };
            let id = v["custom_id"].as_str().unwrap_or("");
            if id.is_empty() || !ids.insert(id.to_string()) {
                self.problems.push(format!(
                    "line {}: custom_id {id:?} missing or repeated",
                    n + 1
                ));
            }
            if v["method"] != "POST" {
                self.problems
                    .push(format!("line {}: method is not POST", n + 1));
            }
            let schema = match v["url"].as_str() {
                Some("/v1/chat/completions") => "CreateChatCompletionRequest",
                Some("/v1/responses") => "CreateResponse",
                other => {
                    self.problems.push(format!("line {}: url {other:?}", n + 1));
                    continue;
                }
            };
            self.check(schema, &format!("line {}'s body", n + 1), &v["body"]);
            if v["body"]["stream"] == json!(true) {
                self.problems
                    .push(format!("line {}: a batch cannot stream", n + 1));
            }
        }
        let name = file.filename.clone().unwrap_or_default();
        let object = self.file_object(&name, &purpose, file.body.clone());
        (200, object.to_string().into_bytes())
    }

    /// `DELETE /v1/files/{id}`: gone from storage, recorded.
    fn delete(&mut self, id: &str) -> (u16, Vec<u8>) {
        if self.refuse_deletes {
            return error(
                500,
                "The server had an error while processing your request.",
            );
        }
        if self.files.remove(id).is_none() {
            return error(404, &format!("No such File object: {id}"));
        }
        self.deleted.push(id.to_string());
        let object = json!({"id": id, "object": "file", "deleted": true});
        self.check(
            "DeleteFileResponse",
            "the deleted file the mock answers",
            &object,
        );
        (200, object.to_string().into_bytes())
    }

    /// The ids of the files still stored.
    pub fn stored(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.files.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// `POST /v1/batches`.
    fn create(&mut self, req: &Received) -> (u16, Vec<u8>) {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        self.check("CreateBatchRequest", "the batch to create", &body);
        let input = body["input_file_id"].as_str().unwrap_or("");
        let Some(file) = self.files.get(input) else {
            return error(400, &format!("No such File object: {input}"));
        };
        if file.object["purpose"] != "batch" {
            return error(400, "the file's purpose is not batch");
        }
        let lines: Vec<Value> = String::from_utf8_lossy(&file.bytes)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let endpoint = body["endpoint"].as_str().unwrap_or("");
        if let Some(l) = lines.iter().find(|l| l["url"] != endpoint) {
            self.problems.push(format!(
                "the batch's endpoint {endpoint} is not the url of {}",
                l["custom_id"]
            ));
        }
        let id = self.id("batch_");
        let object = json!({
            "id": id, "object": "batch", "endpoint": endpoint, "errors": null,
            "input_file_id": input, "completion_window": body["completion_window"],
            "status": "validating", "output_file_id": null, "error_file_id": null,
            "created_at": CREATED, "in_progress_at": null, "expires_at": CREATED + 86_400,
            "finalizing_at": null, "completed_at": null, "failed_at": null, "expired_at": null,
            "cancelling_at": null, "cancelled_at": null,
            "request_counts": {"total": lines.len(), "completed": 0, "failed": 0},
            "metadata": body["metadata"],
        });
        let polls_left = self.polls;
        self.batches.insert(
            id,
            Batch {
                object: object.clone(),
                polls: polls_left,
                polls_left,
                lines,
            },
        );
        (200, self.answer(object))
    }

    fn answer(&mut self, object: Value) -> Vec<u8> {
        let mut shown = object.clone();
        // The schema's optional timestamps are integers when present: nulls are left out.
        if let Some(o) = shown.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
        self.check("Batch", "the batch the mock answers", &shown);
        shown.to_string().into_bytes()
    }

    /// `GET /v1/batches/{id}`: in progress for `polls` looks, then completed.
    fn retrieve(&mut self, mock: &Mock, id: &str) -> (u16, Vec<u8>) {
        let Some(b) = self.batches.get_mut(id) else {
            return error(404, &format!("No batch found with id '{id}'."));
        };
        let status = b.object["status"].as_str().unwrap_or("").to_string();
        let invalid = self.invalid.clone();
        let b = self.batches.get_mut(id).expect("found above");
        match status.as_str() {
            "validating" if invalid.is_some() => {
                b.object["status"] = json!("failed");
                b.object["failed_at"] = json!(CREATED + 1);
                b.object["errors"] = json!({"object": "list", "data": [
                    {"code": "invalid_request", "message": invalid, "param": "body", "line": 1}
                ]});
            }
            "cancelling" => {
                b.object["status"] = json!("cancelled");
                b.object["cancelled_at"] = json!(CREATED + 60);
            }
            "validating" | "in_progress" if b.polls_left > 0 => {
                b.polls_left -= 1;
                // Some of the lines done on each look, none failed yet.
                let total = b.lines.len() as u32;
                let done = total * (b.polls - b.polls_left) / (b.polls + 1);
                b.object["status"] = json!("in_progress");
                b.object["in_progress_at"] = json!(CREATED + 1);
                b.object["request_counts"]["completed"] = json!(done);
            }
            "validating" | "in_progress" => {
                let lines = b.lines.clone();
                let endpoint = b.object["endpoint"].as_str().unwrap_or("").to_string();
                let (ok, failed) = self.complete(mock, &endpoint, &lines);
                let output = (!ok.is_empty()).then(|| self.result_file(id, "output", &ok));
                let errors = (!failed.is_empty()).then(|| self.result_file(id, "error", &failed));
                let b = self.batches.get_mut(id).expect("found above");
                b.object["status"] = json!("completed");
                b.object["finalizing_at"] = json!(CREATED + 2);
                b.object["completed_at"] = json!(CREATED + 3);
                b.object["output_file_id"] = json!(output);
                b.object["error_file_id"] = json!(errors);
                b.object["request_counts"] =
                    json!({"total": lines.len(), "completed": ok.len(), "failed": failed.len()});
            }
            _ => {}
        }
        let object = self.batches[id].object.clone();
        (200, self.answer(object))
    }

    /// `POST /v1/batches/{id}/cancel` (the user cancels it elsewhere, in a test).
    pub fn cancel(&mut self, id: &str) -> (u16, Vec<u8>) {
        let Some(b) = self.batches.get_mut(id) else {
            return error(404, &format!("No batch found with id '{id}'."));
        };
        if matches!(
            b.object["status"].as_str(),
            Some("validating" | "in_progress")
        ) {
            b.object["status"] = json!("cancelling");
            b.object["cancelling_at"] = json!(CREATED + 30);
        }
        let object = b.object.clone();
        (200, self.answer(object))
    }

    /// Each line's answer (`ok`) or failure (`failed`), as output file lines.
    fn complete(
        &mut self,
        mock: &Mock,
        endpoint: &str,
        lines: &[Value],
    ) -> (Vec<Value>, Vec<Value>) {
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let custom_id = line["custom_id"].clone();
            let id = format!("batch_req_{i:04}");
            match self.fail.get(&i) {
                Some(Fail::Status(status, message)) => failed.push(json!({
                    "id": id, "custom_id": custom_id, "error": null,
                    "response": {"status_code": status, "request_id": format!("req_{i}"),
                                 "body": {"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}}},
                })),
                Some(Fail::Error(code, message)) => failed.push(json!({
                    "id": id, "custom_id": custom_id, "response": null,
                    "error": {"code": code, "message": message},
                })),
                None => {
                    let model = line["body"]["model"].as_str().unwrap_or("gpt-4o-mini");
                    let reply = mock.next_reply();
                    let parts = Parts::of(&reply).unwrap_or_else(|| {
                        Parts::of(&Reply::Stream {
                            pieces: vec!["Hello from the mock.".into()],
                            finish: "stop".into(),
                            gap_ms: 0,
                        })
                        .unwrap()
                    });
                    let body = if endpoint == "/v1/responses" {
                        responses::whole(model, &parts)
                    } else {
                        responses::chat_whole(model, &parts)
                    };
                    let body: Value = serde_json::from_str(&body).unwrap();
                    ok.push(json!({
                        "id": id, "custom_id": custom_id, "error": null,
                        "response": {"status_code": 200, "request_id": format!("req_{i}"), "body": body},
                    }));
                }
            }
        }
        (ok, failed)
    }

    fn result_file(&mut self, batch: &str, kind: &str, lines: &[Value]) -> String {
        let mut bytes = Vec::new();
        for l in lines {
            bytes.extend_from_slice(l.to_string().as_bytes());
            bytes.push(b'\n');
        }
        let name = format!("{batch}_{kind}.jsonl");
        self.file_object(&name, "batch_output", bytes)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Every batch in progress completes at its next look.
    pub fn ready(&mut self) {
        for b in self.batches.values_mut() {
            b.polls_left = 0;
        }
    }

    /// Routes one request under `/v1/files` or `/v1/batches`: the status and JSON (or file) body.
    pub fn route(&mut self, mock: &Mock, req: &Received, path: &str) -> (u16, Vec<u8>) {
        let parts: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("POST", ["files"]) => self.upload(req),
            ("GET", ["files", id]) => match self.files.get(*id) {
                Some(f) => (200, f.object.to_string().into_bytes()),
                None => error(404, &format!("No such File object: {id}")),
            },
            ("GET", ["files", id, "content"]) => match self.files.get(*id) {
                Some(f) => (200, f.bytes.clone()),
                None => error(404, &format!("No such File object: {id}")),
            },
            ("DELETE", ["files", id]) => self.delete(id),
            ("POST", ["batches"]) => self.create(req),
            ("GET", ["batches", id]) => self.retrieve(mock, id),
            ("POST", ["batches", id, "cancel"]) => self.cancel(id),
            _ => error(404, "not found"),
        }
    }
}

struct Part {
    name: String,
    filename: Option<String>,
    body: Vec<u8>,
}

/// The parts of a multipart/form-data body.
fn multipart(req: &Received) -> Option<Vec<Part>> {
    let ctype = req.header("content-type")?;
    let boundary = ctype
        .strip_prefix("multipart/form-data; boundary=")?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &req.body;
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(at) = body[i..]
        .windows(delimiter.len())
        .position(|w| w == delimiter.as_bytes())
    {
        starts.push(i + at);
        i += at + delimiter.len();
    }
    let mut parts = Vec::new();
    for pair in starts.windows(2) {
        let chunk = &body[pair[0] + delimiter.len()..pair[1]];
        let chunk = chunk.strip_prefix(b"\r\n")?;
        let chunk = chunk.strip_suffix(b"\r\n")?;
        let split = chunk.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&chunk[..split]).to_string();
        let value = |key: &str| {
            let at = head.find(&format!("{key}=\""))? + key.len() + 2;
            let end = head[at..].find('"')? + at;
            Some(head[at..end].to_string())
        };
        parts.push(Part {
            name: value("name")?,
            filename: value("filename"),
            body: chunk[split + 4..].to_vec(),
        });
    }
    Some(parts)
}
