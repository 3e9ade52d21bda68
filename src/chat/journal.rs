//! The journals of answers being streamed, appended on the console's own
//! thread before each frame shows their text: a killed process loses nothing
//! that was on screen. An append is one small write, like the frame's own to
//! the terminal; handing it to the writer thread cost more, in waking that
//! thread every frame, than the write itself.
//!
//! Each answer has its own file (`Store::open_journal`), so a snapshot being
//! written on the writer thread retires the journals of finished answers
//! without racing the appends of the next one; and each line says where in
//! the answer it starts, so replaying a journal over a snapshot that already
//! holds part of it adds nothing twice.

use std::fs::File;

use super::conversation::{Conversation, NodeId};
use super::store::{Store, StoreError};

pub struct Journal {
    store: Store,
    open: Vec<(String, NodeId, File)>,
    /// Deltas gathered since the last `flush`: answer, where the text
    /// starts in it, the text. One append a frame instead of one per token.
    pending: Vec<(NodeId, usize, String)>,
}

impl Journal {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            open: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Gathers a delta of answer `node` starting at byte `at`, for the next `flush`.
    pub fn add(&mut self, node: NodeId, at: usize, text: &str) {
        match self.pending.last_mut() {
            Some((n, _, pending)) if *n == node => pending.push_str(text),
            _ => self.pending.push((node, at, text.to_string())),
        }
    }

    /// Appends what was gathered to the journals of conversation `id`; the
    /// last failure, if any.
    pub fn flush(&mut self, id: &str) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut self.pending);
        let failed = pending
            .into_iter()
            .filter_map(|(node, at, text)| self.append(id, node, at, &text).err())
            .last();
        failed.map_or(Ok(()), Err)
    }

    /// Appends `text`, which starts at byte `at` of answer `node` of conversation `id`.
    fn append(&mut self, id: &str, node: NodeId, at: usize, text: &str) -> Result<(), StoreError> {
        let i = match self.open.iter().position(|(c, n, _)| c == id && *n == node) {
            Some(i) => i,
            None => {
                let file = self.store.open_journal(id, node)?;
                self.open.push((id.to_string(), node, file));
                self.open.len() - 1
            }
        };
        Store::write_journal(&mut self.open[i].2, node, at, text)
    }

    /// Closes the journals of `conv`'s answers that no longer stream: a
    /// snapshot of `conv` taken now holds them whole, and retires them once written.
    pub fn finished(&mut self, conv: &Conversation) -> Vec<NodeId> {
        let streaming = |node: NodeId| conv.nodes.get(node).is_some_and(|n| n.is_streaming());
        let mut done = Vec::new();
        self.open.retain(|(id, node, _)| {
            let finished = *id == conv.id && !streaming(*node);
            if finished {
                done.push(*node);
            }
            !finished
        });
        done
    }
}
