//! Record and replay: `--record FILE` saves every streamed answer with its
//! timing; `--replay FILE` serves them again with no network, at the original
//! pace (or faster), so a rehearsed demo runs when the venue's Wi-Fi does not.
//! A recording holds the requests it answers (model and messages) and the
//! events, never a key or a header.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::event::{ProviderError, StreamEvent};
use crate::chat::request::{ChatRequest, WireMessage};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// Which request this answers.
    pub model: String,
    pub messages: Vec<WireMessage>,
    /// Each event with the milliseconds since the request began.
    pub events: Vec<(u64, StreamEvent)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Recording {
    pub llmdeck_recording: u32,
    pub answers: Vec<Recorded>,
}

impl Recording {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}:{}: not an llmdeck recording: {e}",
                path.display(),
                e.line()
            )
        })
    }
}

/// Appends what a provider streams to a recording file, rewritten atomically
/// after each answer so a crash never leaves half a file.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    recording: Mutex<Recording>,
}

impl Recorder {
    pub fn new(path: PathBuf) -> Result<Self, String> {
        // Recording onto an existing file adds to it.
        let recording = if path.exists() {
            Recording::load(&path)?
        } else {
            Recording {
                llmdeck_recording: 1,
                answers: Vec::new(),
            }
        };
        Ok(Self {
            path,
            recording: Mutex::new(recording),
        })
    }

    pub fn save(&self, req: &ChatRequest, events: Vec<(u64, StreamEvent)>) {
        let Ok(mut rec) = self.recording.lock() else {
            return;
        };
        rec.answers.push(Recorded {
            model: req.model.clone(),
            messages: req.messages.clone(),
            events,
        });
        let json = serde_json::to_vec_pretty(&*rec).expect("recordings serialize");
        if let Err(e) = crate::config::files::write_private(&self.path, &json) {
            crate::log::line(
                "record",
                &format!("could not write {}: {e}", self.path.display()),
            );
        }
    }
}

/// Serves a recording.
#[derive(Debug)]
pub struct Player {
    recording: Recording,
    /// 1.0 = as recorded, 2.0 = twice as fast, 0 = at once.
    speed: f64,
    /// How many times each answer was served: the same question asked again gets the next take.
    served: Mutex<Vec<usize>>,
}

impl Player {
    pub fn new(recording: Recording, speed: f64) -> Self {
        let n = recording.answers.len();
        Self {
            recording,
            speed,
            served: Mutex::new(vec![0; n]),
        }
    }

    /// The models the recording has answers from.
    pub fn models(&self) -> Vec<String> {
        let mut m: Vec<String> = self
            .recording
            .answers
            .iter()
            .map(|a| a.model.clone())
            .collect();
        m.sort();
        m.dedup();
        m
    }

    fn find(&self, req: &ChatRequest) -> Option<&Recorded> {
        let mut served = self.served.lock().ok()?;
        let matches: Vec<usize> = (0..self.recording.answers.len())
            .filter(|i| {
                let a = &self.recording.answers[*i];
                a.model == req.model && a.messages == req.messages
            })
            .collect();
        let least = *matches.iter().min_by_key(|i| served[**i])?;
        served[least] += 1;
        Some(&self.recording.answers[least])
    }

    pub async fn stream(&self, req: &ChatRequest, emit: &mut (dyn FnMut(StreamEvent) + Send)) {
        let Some(answer) = self.find(req) else {
            let last = req
                .messages
                .last()
                .map(|m| m.content.chars().take(40).collect::<String>())
                .unwrap_or_default();
            return emit(StreamEvent::Error(ProviderError::Other(format!(
                "no recording answers this request ({}, last message {last:?}); the file has {} answers",
                req.model,
                self.recording.answers.len()
            ))));
        };
        let start = Instant::now();
        for (at, event) in &answer.events {
            if self.speed > 0.0 {
                let due = Duration::from_secs_f64(*at as f64 / 1000.0 / self.speed);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
            emit(event.clone());
        }
    }
}
