//! Conversations on disk: one JSON file each, written atomically, plus a
//! journal of each answer being streamed (`super::journal`) so a killed
//! process loses nothing that was on screen. Loading replays the journals.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::conversation::{AnswerStatus, Conversation, NodeId};
use super::lock::{ConversationLock, Held};
use crate::config::files::{is_plain_name, open_private_append, write_private};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}:{1}: {2}")]
    Parse(PathBuf, usize, String),
    #[error("{0:?} is not a conversation id (letters, digits, - and _ only)")]
    BadId(String),
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub id: String,
    pub title: String,
    pub updated: DateTime<Utc>,
    pub messages: usize,
    /// Set when the file could not be read: listed with its error, never overwritten.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct JournalLine {
    node: NodeId,
    /// Where in the answer `text` starts: replaying over a snapshot that
    /// already holds it adds nothing twice. (Absent in journals of 0.1.)
    #[serde(default)]
    at: Option<usize>,
    text: String,
}

impl Store {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The journal of one conversation written by llmdeck 0.1, before each
    /// answer had its own.
    fn shared_journal(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.journal"))
    }

    fn journal(&self, id: &str, node: NodeId) -> PathBuf {
        self.dir.join(format!("{id}.{node}.journal"))
    }

    /// Every path is made from a checked id: an id is never a path.
    fn checked(id: &str) -> Result<&str, StoreError> {
        if is_plain_name(id) {
            Ok(id)
        } else {
            Err(StoreError::BadId(id.to_string()))
        }
    }

    pub fn save(&self, conv: &Conversation) -> Result<(), StoreError> {
        let path = self.file(Self::checked(&conv.id)?);
        // Fails only for a record spoiled in the spool: the copy on disk stays.
        let json = serde_json::to_vec_pretty(conv)
            .map_err(|e| StoreError::Io(path.clone(), std::io::Error::other(e)))?;
        write_private(&path, &json).map_err(|e| StoreError::Io(path.clone(), e))?;
        let _ = std::fs::remove_file(self.shared_journal(&conv.id));
        Ok(())
    }

    /// Removes the journals of answers a saved snapshot holds whole.
    pub fn retire_journals(&self, id: &str, nodes: &[NodeId]) {
        if Self::checked(id).is_err() {
            return;
        }
        for &node in nodes {
            let _ = std::fs::remove_file(self.journal(id, node));
        }
    }

    /// The journal of answer `node`, opened for appending.
    pub fn open_journal(&self, id: &str, node: NodeId) -> Result<std::fs::File, StoreError> {
        let path = self.journal(Self::checked(id)?, node);
        open_private_append(&path).map_err(|e| StoreError::Io(path, e))
    }

    /// Appends `text`, which starts at byte `at` of the answer; a single
    /// write, so a kill leaves at most a torn last line.
    pub fn write_journal(
        file: &mut std::fs::File,
        node: NodeId,
        at: usize,
        text: &str,
    ) -> Result<(), StoreError> {
        let mut line = serde_json::to_vec(&JournalLine {
            node,
            at: Some(at),
            text: text.to_string(),
        })
        .expect("journal lines serialize");
        line.push(b'\n');
        file.write_all(&line)
            .map_err(|e| StoreError::Io(PathBuf::from("journal"), e))
    }

    pub fn load(&self, id: &str) -> Result<Conversation, StoreError> {
        let path = self.file(Self::checked(id)?);
        let text = std::fs::read_to_string(&path).map_err(|e| StoreError::Io(path.clone(), e))?;
        let mut conv: Conversation = serde_json::from_str(&text)
            .map_err(|e| StoreError::Parse(path.clone(), e.line(), e.to_string()))?;
        if conv.nodes.is_empty() {
            return Err(StoreError::Parse(path, 1, "no root message".into()));
        }
        // The file's name is its id, whatever the content says: an `id` of
        // "../../x" in a file someone sent must not decide where it is saved.
        conv.id = id.to_string();
        // A function's name becomes a file name when it is edited.
        if let Some(t) = conv.tools.iter().find(|t| !is_plain_name(&t.name)) {
            return Err(StoreError::Parse(
                path,
                1,
                format!("function name {:?} must be letters, digits, _ or -", t.name),
            ));
        }
        self.replay_journal(&mut conv);
        // An answer still "streaming" on disk was cut off by a crash or a kill.
        for node in conv.nodes.iter_mut() {
            if let Some(meta) = node.meta.as_mut()
                && meta.status == AnswerStatus::Streaming
            {
                meta.status = AnswerStatus::Interrupted;
                meta.error
                    .get_or_insert_with(|| "llmdeck stopped before the answer finished".into());
            }
        }
        Ok(conv)
    }

    /// Answers still streaming in the snapshot get back what their journals hold.
    fn replay_journal(&self, conv: &mut Conversation) {
        let mut texts: Vec<String> = std::fs::read_to_string(self.shared_journal(&conv.id))
            .into_iter()
            .collect();
        for (node, n) in conv.nodes.iter().enumerate() {
            if n.is_streaming() {
                texts.extend(std::fs::read_to_string(self.journal(&conv.id, node)));
            }
        }
        // A torn last line (killed mid-write) simply fails to parse and is skipped.
        for line in texts.iter().flat_map(|t| t.lines()) {
            let Ok(j) = serde_json::from_str::<JournalLine>(line) else {
                continue;
            };
            let Some(node) = conv.nodes.get_mut(j.node) else {
                continue;
            };
            let have = node.content.len();
            match j.at {
                None => node.content.push_str(&j.text),
                // What the snapshot lacks of this line, if it joins up.
                Some(at) if at <= have && have < at + j.text.len() => {
                    if let Some(rest) = j.text.get(have - at..) {
                        node.content.push_str(rest);
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// Every conversation, newest first. Unreadable files are listed with their error.
    pub fn list(&self) -> Vec<Summary> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<Summary> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let id = name.strip_suffix(".json")?.to_string();
                if id.starts_with('.') {
                    return None;
                }
                Some(match self.load(&id) {
                    Ok(c) => Summary {
                        title: c.display_title(),
                        updated: c.updated,
                        messages: c.path().len(),
                        id,
                        error: None,
                    },
                    Err(err) => Summary {
                        title: name.clone(),
                        updated: DateTime::<Utc>::MIN_UTC,
                        messages: 0,
                        id,
                        error: Some(err.to_string()),
                    },
                })
            })
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.updated));
        out
    }

    /// The lock of conversation `id`: `Ok(Err(held))` when another process has it.
    pub fn lock(&self, id: &str) -> Result<Result<ConversationLock, Held>, String> {
        let id = Self::checked(id).map_err(|e| e.to_string())?;
        ConversationLock::try_acquire(&self.dir, id)
            .map_err(|e| format!("cannot lock conversation {id}: {e}"))
    }

    /// The lock of `id`, waiting up to `patience` for another process to let go.
    pub fn lock_waiting(
        &self,
        id: &str,
        patience: std::time::Duration,
        waiting: impl FnOnce(&Held),
    ) -> Result<ConversationLock, String> {
        let id = Self::checked(id).map_err(|e| e.to_string())?;
        ConversationLock::acquire_waiting(&self.dir, id, patience, waiting)
    }

    pub fn delete(&self, id: &str) -> Result<(), StoreError> {
        let path = self.file(Self::checked(id)?);
        let _ = std::fs::remove_file(self.shared_journal(id));
        let prefix = format!("{id}.");
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".journal") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        std::fs::remove_file(&path).map_err(|e| StoreError::Io(path, e))
    }
}
