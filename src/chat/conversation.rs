//! A conversation is a tree: editing an earlier message or regenerating an
//! answer adds a sibling, so every branch stays reachable. The path shown is
//! found by following each node's active child from the root.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::attachment::Attachment;
use super::event::{FinishReason, Usage};
use super::nodes::{Brief, Nodes};
use super::params::Params;
use super::path::Path;
use super::text::Text;
use super::tools::{ToolCall, ToolDef};

pub type NodeId = usize;
pub const ROOT: NodeId = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The invisible root every first message hangs from.
    Root,
    User,
    Assistant,
    /// A function's result, typed or picked by the user for a call of the answer above.
    Tool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStatus {
    #[default]
    Done,
    Streaming,
    /// Cancelled by the user; the partial answer is kept.
    Stopped,
    /// The stream broke (or the process died) mid-answer.
    Interrupted,
    Error,
}

/// What we know about how an answer came to be.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerMeta {
    pub status: AnswerStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// The compare target that asked for it (`model[@profile][?params]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Micro-dollars; `None` when the model has no known price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_micros: Option<i64>,
    /// Where the cost came from (server, catalog, override, estimated, local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_source: Option<crate::usage::cost::CostSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish: Option<FinishReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The reasoning summary a reasoning model streamed before its answer.
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub reasoning: Text,
}

impl AnswerMeta {
    /// Output tokens per second over the time after the first token.
    pub fn tokens_per_second(&self) -> Option<f64> {
        let usage = self.usage?;
        let streaming_ms = self.duration_ms?.saturating_sub(self.ttft_ms.unwrap_or(0));
        (streaming_ms > 0 && usage.output > 0)
            .then(|| usage.output as f64 * 1000.0 / streaming_ms as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub role: Role,
    pub content: Text,
    pub parent: Option<NodeId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<NodeId>,
    /// Index into `children` of the branch being shown.
    #[serde(default)]
    pub active: usize,
    /// An answer's (boxed: most messages are not answers, and each record is
    /// kept for the whole session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Box<AnswerMeta>>,
    /// A question sent to several models at once: its answers are shown side by side.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compare: bool,
    /// Files sent with a user message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Functions an answer asked to call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Calls of tools OpenAI ran itself for this answer (Responses API).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosted: Vec<super::tools::HostedCall>,
    /// The call a `Tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// A `Tool` message that answers a remote MCP server's approval request:
    /// whether the call was approved (the content is the reason when not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
}

impl Node {
    pub fn new(role: Role, content: &str, parent: Option<NodeId>) -> Self {
        Self {
            role,
            content: content.into(),
            parent,
            children: Vec::new(),
            active: 0,
            meta: (role == Role::Assistant).then(Box::default),
            compare: false,
            attachments: Vec::new(),
            tool_calls: Vec::new(),
            hosted: Vec::new(),
            call_id: None,
            approved: None,
        }
    }

    /// An answer still being streamed (on disk: cut off by a kill).
    pub fn is_streaming(&self) -> bool {
        self.meta
            .as_ref()
            .is_some_and(|m| m.status == AnswerStatus::Streaming)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptRef {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub title: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Shared with every request like a message's text, and counted once.
    #[serde(default)]
    pub system: Text,
    pub model: String,
    #[serde(default)]
    pub params: Params,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<PromptRef>,
    /// Functions the model may call in this conversation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolDef>,
    /// Finished ones in the spool (`chat::nodes`).
    pub nodes: Nodes,
    /// The shown path, remembered until another branch is shown (a message
    /// added extends it): the screen asks for it several times a frame, and it
    /// is as long as the history.
    #[serde(skip)]
    path_cache: PathCache,
}

/// Memos that never take part in equality: the shown path, and the title
/// made of its first message, with which message and its length then. The title bar
/// reads it every frame, and a spooled text read is mapped back and checked
/// whole each time.
#[derive(Debug, Default)]
struct PathCache {
    path: std::sync::OnceLock<Path>,
    title: std::sync::Mutex<Option<(NodeId, usize, String)>>,
}

impl PathCache {
    fn title(&self) -> std::sync::MutexGuard<'_, Option<(NodeId, usize, String)>> {
        self.title.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clone for PathCache {
    fn clone(&self) -> Self {
        Self {
            path: self.path.clone(),
            title: std::sync::Mutex::new(self.title().clone()),
        }
    }
}

impl PartialEq for PathCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Conversation {
    pub fn new(model: &str, now: DateTime<Utc>) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            title: String::new(),
            created: now,
            updated: now,
            system: Text::default(),
            model: model.to_string(),
            params: Params::default(),
            prompt: None,
            tools: Vec::new(),
            nodes: vec![Node::new(Role::Root, "", None)].into(),
            path_cache: PathCache::default(),
        }
    }

    /// Moves the record of every message but those in `growing` (answers
    /// streaming now), with its text, reasoning and files, and the system
    /// prompt out of the heap into the spool (`chat::spool`, `chat::nodes`).
    pub fn spool(&mut self, growing: &[NodeId]) {
        if let Some(spooled) = self.system.spooled() {
            self.system = spooled;
        }
        self.nodes.freeze(growing);
    }

    /// The title shown in lists: the user's, or the first words of the first message.
    pub fn display_title(&self) -> String {
        if !self.title.is_empty() {
            return self.title.clone();
        }
        let Some(first) = self.path().first() else {
            return "New conversation".into();
        };
        let content = &self.nodes[first].content;
        let mut memo = self.path_cache.title();
        if let Some((id, len, title)) = &*memo
            && (*id, *len) == (first, content.len())
        {
            return title.clone();
        }
        let line = content.lines().next().unwrap_or("").trim();
        let title = if line.is_empty() {
            "New conversation".into()
        } else {
            let mut t: String = line.chars().take(40).collect();
            if line.chars().count() > 40 {
                t.push('…');
            }
            t
        };
        *memo = Some((first, content.len(), title.clone()));
        title
    }

    /// The messages shown: from the root, following each active child.
    pub fn path(&self) -> Path {
        self.path_cache
            .path
            .get_or_init(|| {
                let mut at = ROOT;
                std::iter::from_fn(|| {
                    let child = *self.nodes[at].children.get(self.nodes[at].active)?;
                    at = child;
                    Some(child)
                })
                // A record is read back only as written, so its links lead
                // down the tree; bounded all the same.
                .take_while(|&child| child < self.nodes.len())
                .take(self.nodes.len())
                .collect()
            })
            .clone()
    }

    /// Whether the last question shown was sent to several models side by side.
    pub fn comparing(&self) -> bool {
        let path = self.path();
        path.iter()
            .rev()
            .map(|id| &self.nodes[id])
            .find(|n| n.role == Role::User)
            .is_some_and(|n| n.compare)
    }

    pub fn last(&self) -> NodeId {
        self.path().last().unwrap_or(ROOT)
    }

    /// Adds a message under `parent` and makes it the active branch.
    pub fn append(&mut self, parent: NodeId, role: Role, content: &str) -> NodeId {
        let shown = self.path_cache.path.get().cloned();
        self.path_cache = PathCache::default();
        let id = self.nodes.len();
        self.nodes.push(Node::new(role, content, Some(parent)));
        let p = &mut self.nodes[parent];
        // Most messages get one reply, kept for the whole session: room for
        // that one (Vec's first growth makes room for four).
        p.children.reserve_exact(1);
        p.children.push(id);
        p.active = p.children.len() - 1;
        // The path shown to `parent`, then the new message: walking it again
        // from the root would read every record back from the spool.
        let kept = match parent {
            ROOT => Some(0),
            _ => shown
                .as_ref()
                .and_then(|path| path.position(parent))
                .map(|at| at + 1),
        };
        if let (Some(path), Some(kept)) = (shown, kept) {
            let _ = self.path_cache.path.set(path.cut_and_push(kept, id));
        }
        id
    }

    /// (position, count) of `id` among its siblings, both 1-based for display.
    pub fn branch_of(&self, id: NodeId) -> (usize, usize) {
        match self.nodes[id].parent {
            Some(p) => {
                let siblings = &self.nodes[p].children;
                let pos = siblings.iter().position(|c| *c == id).unwrap_or(0);
                (pos + 1, siblings.len())
            }
            None => (1, 1),
        }
    }

    /// Shows the previous (`-1`) or next (`+1`) sibling of `id`; returns the one now shown.
    pub fn switch_branch(&mut self, id: NodeId, delta: isize) -> NodeId {
        self.path_cache = PathCache::default();
        let Some(p) = self.nodes[id].parent else {
            return id;
        };
        let n = self.nodes[p].children.len() as isize;
        // A parent read back as spoiled lists no children.
        if n == 0 {
            return id;
        }
        let pos = self.nodes[p]
            .children
            .iter()
            .position(|c| *c == id)
            .unwrap_or(0) as isize;
        let next = (pos + delta).clamp(0, n - 1) as usize;
        self.nodes[p].active = next;
        self.nodes[p].children[next]
    }

    /// Makes `id` the shown branch at its level.
    pub fn switch_to(&mut self, id: NodeId) {
        if let Some(p) = self.nodes.get(id).and_then(|n| n.parent)
            && let Some(pos) = self.nodes[p].children.iter().position(|c| *c == id)
        {
            self.path_cache = PathCache::default();
            self.nodes[p].active = pos;
        }
    }

    /// Messages from the root down to and including `id`, each as a walk
    /// reads it (`Brief`: its record is not read back).
    pub fn lineage(&self, id: NodeId) -> Vec<(NodeId, Brief)> {
        let mut out = Vec::new();
        let mut at = Some(id);
        while let Some(n) = at.filter(|n| *n != ROOT) {
            let brief = self.nodes.brief(n);
            at = brief.parent;
            out.push((n, brief));
        }
        out.reverse();
        out
    }

    /// The calls of the last answer on the shown path still waiting for a result.
    pub fn pending_calls(&self) -> Vec<ToolCall> {
        let path = self.path();
        let mut answered = Vec::new();
        for id in path.iter().rev() {
            let node = &self.nodes[id];
            match node.role {
                Role::Tool => answered.extend(node.call_id.clone()),
                Role::Assistant => {
                    let done = node
                        .meta
                        .as_ref()
                        .is_none_or(|m| m.status == AnswerStatus::Done);
                    return node
                        .tool_calls
                        .iter()
                        .filter(|c| done && !answered.contains(&c.id))
                        .cloned()
                        .collect();
                }
                _ => return Vec::new(),
            }
        }
        Vec::new()
    }

    /// Total cost of every answer in every branch, in micro-dollars.
    pub fn total_cost_micros(&self) -> i64 {
        self.nodes
            .iter()
            .filter_map(|n| n.meta.as_ref()?.cost_micros)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remembered_title_follows_the_first_message_through_branches_and_growth() {
        let mut c = Conversation::new("m", Utc::now());
        assert_eq!(c.display_title(), "New conversation");
        let first = c.append(ROOT, Role::User, "Hello");
        assert_eq!(c.display_title(), "Hello");
        // Asked again: the same, from the memo.
        assert_eq!(c.display_title(), "Hello");
        let other = c.append(ROOT, Role::User, "A sibling question\nwith more");
        assert_eq!(c.display_title(), "A sibling question");
        c.switch_branch(other, -1);
        assert_eq!(c.display_title(), "Hello");
        // Text added to it in place (a journal's, when a conversation is opened).
        c.nodes[first].content.push_str(" world");
        assert_eq!(c.display_title(), "Hello world");
        c.title = "Mine".into();
        assert_eq!(c.display_title(), "Mine");
    }

    /// Each message's record is kept for the whole session: what grows as it
    /// goes on is these, so each holds no more than it needs.
    #[test]
    fn a_messages_record_holds_room_for_just_the_replies_it_has() {
        let mut c = Conversation::new("m", Utc::now());
        let question = c.append(ROOT, Role::User, "Hello");
        let answer = c.append(question, Role::Assistant, "Hi");
        assert_eq!(
            c.nodes[question].children.capacity(),
            1,
            "one reply, room for one"
        );
        let again = c.append(question, Role::Assistant, "Hello!");
        assert_eq!(
            c.nodes[question].children,
            [answer, again],
            "branches still add up"
        );
    }
}
