//! Graders: what decides whether an answer passes. Beyond the plain
//! assertions (contains, regex, JSON, cost...), a judge model reading a
//! rubric, embedding similarity, and the user's own command. Each check has a
//! weight and gives a score in 0..=1; a case passes when every check passes,
//! or, with a threshold, when the weighted score reaches it. A grader that
//! cannot decide (a judge answering malformed JSON, a command not found)
//! marks the case errored: never passed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::chat::conversation::{AnswerStatus, Conversation};
use crate::chat::machine::Input;
use crate::chat::params::ResponseFormat;
use crate::context::Context;
use crate::library::assertions::{Assertion, Outcome};
use crate::provider::Provider;
use crate::usage::LedgerRow;

/// The model `similar` embeds with unless told otherwise.
pub const EMBEDDING_MODEL: &str = "text-embedding-3-small";
/// The only variables of llmdeck's environment a command grader sees.
const CHECK_ENV: [&str; 8] = [
    "PATH", "HOME", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ",
];
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub enum Grader {
    Assert(Assertion),
    /// `{ rubric = "...", threshold = 0.7, model = "..." }`: a judge model's verdict.
    Rubric(String),
    /// `{ similar = { value = "...", threshold = 0.8 } }`: cosine of embeddings.
    Similar {
        value: String,
        threshold: f64,
    },
    /// `{ command = ["python3", "check.py"] }`: answer on stdin, exit 0 passes.
    Command(Vec<String>),
}

/// One entry of a test's `assert` list: a grader with its weight and options.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub grader: Grader,
    pub weight: f64,
    /// The score a rubric verdict must reach (else the judge's own `pass`).
    pub threshold: Option<f64>,
    /// The judge or embedding model, else the run's.
    pub model: Option<String>,
}

impl From<Assertion> for Check {
    fn from(a: Assertion) -> Self {
        Self {
            grader: Grader::Assert(a),
            weight: 1.0,
            threshold: None,
            model: None,
        }
    }
}

fn unit(v: f64, what: &str) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{what} {v} is not between 0 and 1"))
    }
}

impl Check {
    fn from_value(v: Value) -> Result<Self, String> {
        let Value::Object(mut map) = v else {
            return Err("a check is a table like { contains = \"x\" }".into());
        };
        let weight = match map.remove("weight") {
            None => 1.0,
            Some(w) => match w.as_f64() {
                Some(w) if w.is_finite() && w > 0.0 => w,
                _ => return Err(format!("weight {w} must be a number above 0")),
            },
        };
        let threshold = match map.remove("threshold") {
            None => None,
            Some(t) => Some(unit(
                t.as_f64().ok_or("threshold must be a number")?,
                "threshold",
            )?),
        };
        let model = match map.remove("model") {
            None => None,
            Some(Value::String(m)) => Some(m),
            Some(_) => return Err("model must be a string".into()),
        };
        if map.len() != 1 {
            let keys: Vec<&String> = map.keys().collect();
            return Err(format!("a check names one grader, found {keys:?}"));
        }
        let (key, value) = map.into_iter().next().expect("one entry");
        let grader = match key.as_str() {
            "rubric" => Grader::Rubric(
                value
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or("rubric must be a non-empty string")?
                    .to_string(),
            ),
            "similar" => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Similar {
                    value: String,
                    threshold: Option<f64>,
                }
                let s: Similar = serde_json::from_value(value).map_err(|e| {
                    format!("similar = {{ value = \"...\", threshold = 0.8 }}: {e}")
                })?;
                let threshold = unit(s.threshold.or(threshold).unwrap_or(0.8), "threshold")?;
                Grader::Similar {
                    value: s.value,
                    threshold,
                }
            }
            "command" => {
                let argv: Vec<String> = serde_json::from_value(value)
                    .map_err(|_| "command is a list like [\"python3\", \"check.py\"]")?;
                if argv.first().is_none_or(|p| p.trim().is_empty()) {
                    return Err("command names a program first".into());
                }
                Grader::Command(argv)
            }
            _ => {
                let mut one = serde_json::Map::new();
                one.insert(key, value);
                Grader::Assert(
                    serde_json::from_value(Value::Object(one)).map_err(|e| e.to_string())?,
                )
            }
        };
        Ok(Self {
            grader,
            weight,
            threshold,
            model,
        })
    }

    fn to_value(&self) -> Value {
        let mut map = match &self.grader {
            Grader::Assert(a) => match serde_json::to_value(a) {
                Ok(Value::Object(m)) => m,
                _ => serde_json::Map::new(),
            },
            Grader::Rubric(r) => json!({ "rubric": r })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            Grader::Similar { value, threshold } => {
                json!({ "similar": { "value": value, "threshold": threshold } })
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            }
            Grader::Command(argv) => json!({ "command": argv })
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        if self.weight != 1.0 {
            map.insert("weight".into(), json!(self.weight));
        }
        if let (Some(t), false) = (
            self.threshold,
            matches!(self.grader, Grader::Similar { .. }),
        ) {
            map.insert("threshold".into(), json!(t));
        }
        if let Some(m) = &self.model {
            map.insert("model".into(), json!(m));
        }
        Value::Object(map)
    }

    /// The check with every `{{name}}` in its text filled from `values`.
    pub fn filled(&self, values: &BTreeMap<String, String>) -> Check {
        fn walk(v: &mut Value, values: &BTreeMap<String, String>) {
            match v {
                Value::String(s) if s.contains("{{") => {
                    *s = crate::library::prompt::fill(s, &|n| values.get(n).cloned());
                }
                Value::Array(a) => a.iter_mut().for_each(|x| walk(x, values)),
                Value::Object(m) => m.values_mut().for_each(|x| walk(x, values)),
                _ => {}
            }
        }
        let mut v = self.to_value();
        walk(&mut v, values);
        Check::from_value(v).unwrap_or_else(|_| self.clone())
    }

    pub fn label(&self) -> String {
        match &self.grader {
            Grader::Assert(a) => a.label(),
            Grader::Rubric(r) => format!("rubric {:?}", short(r)),
            Grader::Similar { value, threshold } => {
                format!("similar to {:?} ≥ {threshold}", short(value))
            }
            Grader::Command(argv) => format!("command {}", argv.join(" ")),
        }
    }
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Check::from_value(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

fn short(s: &str) -> String {
    let mut t: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        t.push('…');
    }
    t
}

/// What one check found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Verdict {
    pub check: String,
    pub pass: bool,
    pub score: f64,
    pub weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The grader could not decide: the case is errored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The weighted score of `verdicts` and whether the case passes (`None`: errored).
pub fn overall(verdicts: &[Verdict], threshold: Option<f64>) -> (f64, Option<bool>) {
    let total: f64 = verdicts.iter().map(|v| v.weight).sum();
    let score = if total > 0.0 {
        verdicts.iter().map(|v| v.weight * v.score).sum::<f64>() / total
    } else {
        1.0
    };
    if verdicts.iter().any(|v| v.error.is_some()) {
        return (score, None);
    }
    let pass = match threshold {
        Some(t) => score + 1e-9 >= t,
        None => verdicts.iter().all(|v| v.pass),
    };
    (score, Some(pass))
}

/// What the graders need: where to send judge and embedding calls, and where commands run.
pub struct Graders<'a> {
    pub ctx: &'a Context,
    /// Judge calls are requests like any other: answered from here when identical,
    pub cache: Option<&'a super::cache::Cache>,
    /// and not started once the budget is reached.
    pub gate: &'a std::sync::Mutex<crate::usage::gate::Gate>,
    pub provider: Provider,
    pub judge_model: String,
    pub embedding_model: String,
    /// Commands run here (the prompt file's folder), so `check.py` beside it is found.
    pub workdir: PathBuf,
}

impl Graders<'_> {
    /// Grades one answer; `input` is what was sent, `values` the case's variables.
    /// Returns the verdict and the ledger rows of any calls made (tagged `grader`).
    pub async fn grade(
        &self,
        check: &Check,
        input: &str,
        outcome: &Outcome,
        values: &BTreeMap<String, String>,
    ) -> (Verdict, Vec<LedgerRow>) {
        let mut rows = Vec::new();
        let decided: Result<(bool, f64, Option<String>), String> = match &check.grader {
            Grader::Assert(a) => Ok(match a.check(outcome) {
                None => (true, 1.0, None),
                Some(why) => (false, 0.0, Some(why)),
            }),
            Grader::Rubric(rubric) => {
                let model = check.model.as_deref().unwrap_or(&self.judge_model);
                let (verdict, r) = self.judge(model, rubric, input, &outcome.text).await;
                rows = r;
                verdict.map(|(pass, score, reason)| {
                    let pass = check.threshold.map_or(pass, |t| score + 1e-9 >= t);
                    (pass, score, Some(reason))
                })
            }
            Grader::Similar { value, threshold } => {
                let model = check.model.as_deref().unwrap_or(&self.embedding_model);
                let (cos, r) = self.similarity(model, &outcome.text, value).await;
                rows = r;
                cos.map(|c| {
                    (
                        c + 1e-9 >= *threshold,
                        c.clamp(0.0, 1.0),
                        Some(format!("cosine {c:.3}")),
                    )
                })
            }
            Grader::Command(argv) => self.command(argv, &outcome.text, values).await,
        };
        for row in &mut rows {
            row.tags = vec!["grader".into()];
        }
        let verdict = match decided {
            Ok((pass, score, reason)) => Verdict {
                check: check.label(),
                pass,
                score,
                weight: check.weight,
                reason,
                error: None,
            },
            Err(e) => Verdict {
                check: check.label(),
                pass: false,
                score: 0.0,
                weight: check.weight,
                reason: None,
                error: Some(e),
            },
        };
        (verdict, rows)
    }

    /// Asks the judge for `{pass, score, reason}` through structured output.
    async fn judge(
        &self,
        model: &str,
        rubric: &str,
        input: &str,
        answer: &str,
    ) -> (Result<(bool, f64, String), String>, Vec<LedgerRow>) {
        let mut conv = Conversation::new(model, Utc::now());
        conv.title = "grader".into();
        conv.system = "You grade an answer against a rubric. Reply with JSON only: \
            pass (the answer meets the rubric), score (0 to 1, how well), reason (one sentence)."
            .into();
        conv.params.response_format = ResponseFormat::JsonSchema {
            name: "verdict".into(),
            schema: json!({
                "type": "object",
                "properties": {
                    "pass": {"type": "boolean"},
                    "score": {"type": "number"},
                    "reason": {"type": "string"}
                },
                "required": ["pass", "score", "reason"],
                "additionalProperties": false
            }),
            strict: true,
        };
        let text = format!(
            "Rubric:\n{rubric}\n\nThe request the answer replies to:\n<<<\n{input}\n>>>\n\nThe answer:\n<<<\n{answer}\n>>>"
        );
        let mut m = self.ctx.machine(conv, &self.ctx.profile, "test");
        let first = m.handle(Input::Send(text), Instant::now(), Utc::now());
        let cached = super::cache::replay(self.ctx, &self.provider, &mut m, &first, self.cache, 1);
        let rows = match cached {
            Some(_) => Vec::new(),
            None => {
                let estimate: i64 = first
                    .iter()
                    .filter_map(|e| match e {
                        crate::chat::machine::Effect::Start { request, .. } => {
                            Some(crate::usage::gate::estimate(&m, request))
                        }
                        _ => None,
                    })
                    .sum();
                let admitted = {
                    let g = self.gate.lock().unwrap_or_else(|e| e.into_inner());
                    g.check(estimate)
                };
                if let Err(why) = admitted {
                    return (Err(format!("the judge was not asked: {why}")), Vec::new());
                }
                super::cache::send(
                    self.ctx,
                    self.provider.clone(),
                    &mut m,
                    first,
                    self.cache,
                    1,
                    |t| verdict_of(t).is_ok(),
                )
                .await
            }
        };
        let node = &m.conv.nodes[m.conv.last()];
        let meta = node.meta.clone().unwrap_or_default();
        if meta.status != AnswerStatus::Done {
            let why = meta.error.unwrap_or_else(|| "did not finish".into());
            return (Err(format!("the judge ({model}) failed: {why}")), rows);
        }
        let parsed = verdict_of(&node.content).map_err(|e| {
            format!(
                "the judge ({model}) answered malformed JSON ({e}): {:?}",
                short(&node.content)
            )
        });
        (parsed, rows)
    }

    /// The cosine similarity of the embeddings of `a` and `b` (one request for both).
    async fn similarity(
        &self,
        model: &str,
        a: &str,
        b: &str,
    ) -> (Result<f64, String>, Vec<LedgerRow>) {
        let body = json!({ "model": model, "input": [a, b], "encoding_format": "float" });
        let started = Instant::now();
        let got = self
            .provider
            .post_json("/embeddings", &body, "embeddings")
            .await
            .map_err(|e| format!("embeddings ({model}): {e}"));
        let ms = started.elapsed().as_millis() as u64;
        let reply = match got {
            Ok(v) => v,
            Err(e) => return (Err(e), vec![self.embedding_row(model, 0, ms, true)]),
        };
        let tokens = reply["usage"]["prompt_tokens"].as_u64().unwrap_or(0);
        let row = self.embedding_row(model, tokens, ms, false);
        let vector = |i: usize| -> Option<Vec<f64>> {
            let item = reply["data"]
                .as_array()?
                .iter()
                .find(|d| d["index"].as_u64() == Some(i as u64))?;
            item["embedding"]
                .as_array()?
                .iter()
                .map(Value::as_f64)
                .collect()
        };
        let cos = match (vector(0), vector(1)) {
            (Some(x), Some(y)) if x.len() == y.len() && !x.is_empty() => cosine(&x, &y),
            _ => Err(format!(
                "embeddings ({model}): the reply has no two vectors of one size"
            )),
        };
        (cos, vec![row])
    }

    fn embedding_row(&self, model: &str, tokens: u64, ms: u64, failed: bool) -> LedgerRow {
        let origin = crate::context::origin(&self.ctx.profile, "test");
        let usage = crate::provider::event::Usage {
            input: tokens,
            ..Default::default()
        };
        let endpoint = self.ctx.price_endpoint(&self.ctx.profile);
        let cost =
            crate::usage::cost::cost(&self.ctx.prices(), &endpoint, model, &usage, None, None);
        LedgerRow {
            id: uuid::Uuid::now_v7().to_string(),
            ts: Utc::now(),
            source: origin.source,
            profile: origin.profile,
            host: origin.host,
            api: "embeddings".into(),
            model_requested: model.to_string(),
            model_reported: None,
            service_tier: None,
            usage,
            cost_micros: if failed { Some(0) } else { cost.micros },
            cost_source: cost.source,
            rates: cost.rates,
            ttft_ms: None,
            duration_ms: Some(ms),
            status: if failed {
                crate::usage::ledger::Status::Error
            } else {
                crate::usage::ledger::Status::Ok
            },
            error_kind: failed.then(|| "embeddings".into()),
            conversation_id: None,
            prompt: None,
            tags: Vec::new(),
        }
    }

    /// Runs the user's check: the answer on stdin, the case's values in the
    /// environment as `LLMDECK_VAR_<name>` (beside `CHECK_ENV`, nothing else);
    /// exit 0 passes, stdout is the reason.
    async fn command(
        &self,
        argv: &[String],
        answer: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<(bool, f64, Option<String>), String> {
        use tokio::io::AsyncWriteExt;
        let shown = argv.join(" ");
        let mut cmd = tokio::process::Command::new(&argv[0]);
        // The check gets the case's values and what finding and running its
        // tools needs, never llmdeck's environment (API and admin keys, team
        // passwords, header secrets).
        cmd.env_clear();
        for name in CHECK_ENV {
            if let Some(v) = std::env::var_os(name) {
                cmd.env(name, v);
            }
        }
        cmd.args(&argv[1..])
            .current_dir(&self.workdir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            // Its own process group: a Ctrl-C at the terminal is llmdeck's to
            // handle (it stops the run cleanly), not a failure of the check.
            .process_group(0)
            .kill_on_drop(true);
        for (k, v) in values {
            cmd.env(format!("LLMDECK_VAR_{k}"), v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("command {shown}: cannot start: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A check that does not read its input is fine: a closed pipe is not an error.
            let _ = stdin.write_all(answer.as_bytes()).await;
        }
        let out = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| {
                format!(
                    "command {shown}: still running after {} s",
                    COMMAND_TIMEOUT.as_secs()
                )
            })?
            .map_err(|e| format!("command {shown}: {e}"))?;
        let said = |b: &[u8]| crate::log::scrub(&short_text(&String::from_utf8_lossy(b)));
        let stdout = said(&out.stdout);
        let reason = if stdout.is_empty() && !out.status.success() {
            said(&out.stderr)
        } else {
            stdout
        };
        let reason = match out.status.code() {
            Some(0) => reason,
            Some(code) if reason.is_empty() => format!("exit {code}"),
            Some(code) => format!("exit {code}: {reason}"),
            None => return Err(format!("command {shown}: killed by a signal")),
        };
        let pass = out.status.success();
        Ok((
            pass,
            if pass { 1.0 } else { 0.0 },
            (!reason.is_empty()).then_some(reason),
        ))
    }
}

/// A judge's `{pass, score, reason}`, the score within 0..=1.
fn verdict_of(text: &str) -> Result<(bool, f64, String), String> {
    #[derive(Deserialize)]
    struct Said {
        pass: bool,
        score: f64,
        reason: String,
    }
    let s: Said = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
    Ok((s.pass, unit(s.score, "score")?, s.reason))
}

/// At most 500 characters of a command's output, trimmed.
fn short_text(s: &str) -> String {
    let s = s.trim();
    let mut t: String = s.chars().take(500).collect();
    if s.chars().count() > 500 {
        t.push('…');
    }
    t
}

pub fn cosine(x: &[f64], y: &[f64]) -> Result<f64, String> {
    let dot: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
    let nx = x.iter().map(|a| a * a).sum::<f64>().sqrt();
    let ny = y.iter().map(|a| a * a).sum::<f64>().sqrt();
    if nx == 0.0 || ny == 0.0 {
        return Err("an embedding of length zero".into());
    }
    Ok(dot / (nx * ny))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml_text: &str) -> Result<Check, String> {
        #[derive(Deserialize)]
        struct W {
            c: Check,
        }
        toml::from_str::<W>(&format!("c = {toml_text}"))
            .map(|w| w.c)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn checks_read_and_write_back() {
        for text in [
            r#"{ contains = "x", weight = 2.0 }"#,
            r#"{ rubric = "is polite", threshold = 0.7, model = "gpt-4o" }"#,
            r#"{ similar = { value = "Paris", threshold = 0.9 } }"#,
            r#"{ command = ["python3", "check.py"] }"#,
        ] {
            let c = check(text).unwrap();
            let back = toml::to_string(&c.to_value()).unwrap();
            let again: Check = toml::from_str::<Value>(&back)
                .map_err(|e| e.to_string())
                .and_then(Check::from_value)
                .unwrap();
            assert_eq!(c, again, "{text}");
        }
        assert_eq!(check(r#"{ contains = "x" }"#).unwrap().weight, 1.0);
    }

    #[test]
    fn bad_checks_say_what_is_wrong() {
        assert!(
            check(r#"{ contains = "x", weight = 0 }"#)
                .unwrap_err()
                .contains("weight")
        );
        assert!(
            check(r#"{ rubric = "x", threshold = 7 }"#)
                .unwrap_err()
                .contains("between 0 and 1")
        );
        assert!(
            check(r#"{ command = [] }"#)
                .unwrap_err()
                .contains("program")
        );
        assert!(
            check(r#"{ contains = "x", regex = "y" }"#)
                .unwrap_err()
                .contains("one grader")
        );
        assert!(
            check(r#"{ contain = "x" }"#)
                .unwrap_err()
                .contains("contain")
        );
    }

    #[test]
    fn placeholders_in_checks_are_filled_from_the_row() {
        let c = check(r#"{ equals = "{{expected}}" }"#).unwrap();
        let values = BTreeMap::from([("expected".to_string(), "Paris".to_string())]);
        assert_eq!(c.filled(&values).label(), "equals \"Paris\"");
        // A value the row lacks stays visible rather than silently empty.
        assert_eq!(
            c.filled(&BTreeMap::new()).label(),
            "equals \"{{expected}}\""
        );
    }

    fn v(pass: bool, score: f64, weight: f64) -> Verdict {
        Verdict {
            check: String::new(),
            pass,
            score,
            weight,
            reason: None,
            error: None,
        }
    }

    #[test]
    fn weights_and_a_threshold_decide_the_case() {
        let vs = [v(true, 1.0, 3.0), v(false, 0.0, 1.0)];
        assert_eq!(overall(&vs, None), (0.75, Some(false)));
        assert_eq!(overall(&vs, Some(0.7)), (0.75, Some(true)));
        assert_eq!(overall(&vs, Some(0.8)), (0.75, Some(false)));
        let mut errored = vs.to_vec();
        errored[0].error = Some("judge".into());
        assert_eq!(overall(&errored, Some(0.1)).1, None);
        assert_eq!(cosine(&[1.0, 0.0], &[1.0, 0.0]), Ok(1.0));
        assert!(cosine(&[0.0], &[1.0]).is_err());
    }
}
