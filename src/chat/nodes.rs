//! A conversation's message records. A finished message's record leaves the
//! heap for the spool (`chat::spool`): its JSON (as saved), followed by its
//! text, read back when something asks for that message.
//!
//! A long session keeps every record: on the heap each exchange's two were
//! ~1 KB for the session (the node, its answer's meta, the reply lists), and
//! the resident memory never stopped growing. Frozen, a message keeps a slot of
//! 48 bytes and its text's handle: what a walk of the whole history reads (a
//! request and its count, a lineage) is there, so such walks read nothing
//! back; once a block of 128 is full, even that leaves the heap (`paged`).
//! What is read back is kept, read-only, until the next `freeze` (after
//! each exchange, with the rest of its garbage): a frame reads the few
//! messages it shows. (Only the console freezes, after each exchange once
//! its work is done; the command line's short runs keep records on the heap.)

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::conversation::{AnswerStatus, Node, NodeId, Role};
use super::spool::{Span, keep_parts};
use super::text::Text;

mod paged;

#[derive(Default)]
pub struct Nodes {
    slots: Slots,
    /// Frozen records read back since the last `freeze`. `Index` hands out
    /// references into it: no `&self` method may remove or replace an entry
    /// (only add one); entries go under `&mut self` alone.
    thawed: Mutex<HashMap<NodeId, Thawed>>,
}

#[derive(Clone)]
enum Slot {
    Live(Box<Node>),
    Frozen(Frozen),
    /// What a record changed in the spool from outside was read back as (what
    /// its slot kept), to be written to: a reply added, an edit. Never frozen
    /// again nor saved: the copy on disk stays the good one.
    Spoiled(Box<Node>),
}

/// A record read back, at an address of its own that moving the table's
/// entries leaves alone (a `Box` moved may not keep borrows of it alive).
struct Thawed {
    node: std::ptr::NonNull<Node>,
    spoiled: bool,
}

// SAFETY: a `Thawed` owns its node as a `Box` would (the table that holds
// them is behind a Mutex, so only `Send` is needed).
unsafe impl Send for Thawed {}

impl Thawed {
    /// A record read back, and whether it is the spoiled one's (`Frozen::node`).
    fn new((node, spoiled): (Node, bool)) -> Self {
        Self {
            node: std::ptr::NonNull::from(Box::leak(Box::new(node))),
            spoiled,
        }
    }

    fn get(&self) -> &Node {
        // SAFETY: made from a leaked box that only `into_slot` and `drop` take back.
        unsafe { self.node.as_ref() }
    }

    /// The slot the record becomes once written to.
    fn into_slot(self) -> Slot {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: the box leaked in `new`, taken back once (`self` is not dropped).
        let node = unsafe { Box::from_raw(this.node.as_ptr()) };
        match this.spoiled {
            true => Slot::Spoiled(node),
            false => Slot::Live(node),
        }
    }
}

impl Drop for Thawed {
    fn drop(&mut self) {
        // SAFETY: the box leaked in `new`, taken back once.
        drop(unsafe { Box::from_raw(self.node.as_ptr()) });
    }
}

#[derive(Clone)]
struct Frozen {
    /// The record as JSON, its texts left out (`content`, `loose`: in the
    /// spool too, each shared as it was).
    record: Span,
    /// The record's keyed hash (`seal`): read back only as it was written.
    seal: u64,
    /// What a walk of the history reads of every message (a request, its
    /// token count, the lineage of a message) stays here, so that such a walk
    /// reads back no record: the text (shared, with its remembered counts, by
    /// every request that sends it), the role, the parent (`u32::MAX`: none),
    /// and whether the record holds anything more a request sends.
    content: Text,
    parent: u32,
    role: Role,
    plain: bool,
    /// An answer's reasoning, then the data of each file a message carries:
    /// read back as the texts they were, not decoded anew from the record
    /// (a file is sent with every request).
    loose: Option<Box<Loose>>,
}

/// The slots, in blocks of `BLOCK` allocated once each. A long session's
/// list in one vector moved to a block twice its size at each doubling,
/// leaving a hole of its old size, and the heap's bytes in use rose in steps.
/// A block is allocated once and never moves, and the save's copy is made
/// of blocks of the same sizes each exchange. A full block whose slots are
/// all frozen is paged: written to the spool too, it leaves the heap.
#[derive(Clone, Default)]
struct Slots(Vec<Block>);

#[derive(Clone)]
enum Block {
    Open(Vec<Slot>),
    Paged(paged::Paged),
}

/// Slots a block holds (6 KB).
const BLOCK: usize = 128;

/// A message's slot, or its entry in a paged block.
enum At<'a> {
    Slot(&'a Slot),
    Paged(paged::Entry<'a>),
}

impl Slots {
    fn len(&self) -> usize {
        match self.0.split_last() {
            None => 0,
            Some((Block::Open(last), full)) => full.len() * BLOCK + last.len(),
            Some((Block::Paged(_), full)) => (full.len() + 1) * BLOCK,
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, slot: Slot) {
        match self.0.last_mut() {
            Some(Block::Open(block)) if block.len() < BLOCK => block.push(slot),
            _ => {
                let mut block = Vec::with_capacity(BLOCK);
                block.push(slot);
                self.0.push(Block::Open(block));
            }
        }
    }

    /// Message `id`'s slot, or its paged entry, read and checked (a few
    /// dozen bytes).
    fn at(&self, id: NodeId) -> At<'_> {
        match &self.0[id / BLOCK] {
            Block::Open(slots) => At::Slot(&slots[id % BLOCK]),
            Block::Paged(paged) => At::Paged(paged.entry(id, id % BLOCK)),
        }
    }

    /// Message `id`'s record, if on the heap (nothing read from the spool).
    fn on_heap(&self, id: NodeId) -> Option<&Node> {
        match &self.0[id / BLOCK] {
            Block::Open(slots) => match &slots[id % BLOCK] {
                Slot::Live(node) | Slot::Spoiled(node) => Some(node),
                Slot::Frozen(_) => None,
            },
            Block::Paged(_) => None,
        }
    }

    /// Message `id`'s slot, its block read back from its page first.
    fn open(&mut self, id: NodeId) -> &mut Slot {
        let b = id / BLOCK;
        &mut self.open_block(b)[id % BLOCK]
    }

    fn open_block(&mut self, b: NodeId) -> &mut Vec<Slot> {
        let block = &mut self.0[b];
        if let Block::Paged(paged) = block {
            *block = Block::Open(paged.unpage(b * BLOCK));
        }
        match block {
            Block::Open(slots) => slots,
            Block::Paged(_) => unreachable!("read back just above"),
        }
    }

    /// Every slot, every block read back from its page first.
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Slot> {
        for b in 0..self.0.len() {
            self.open_block(b);
        }
        self.0.iter_mut().flat_map(|block| match block {
            Block::Open(slots) => slots.iter_mut(),
            Block::Paged(_) => [].iter_mut(),
        })
    }
}

impl FromIterator<Slot> for Slots {
    fn from_iter<I: IntoIterator<Item = Slot>>(iter: I) -> Self {
        let mut slots = Self::default();
        for slot in iter {
            slots.push(slot);
        }
        slots
    }
}

/// Boxed thin: most records have none, and each slot is kept for the session.
#[derive(Clone)]
struct Loose(Vec<Text>);

impl Frozen {
    /// `node` written to the spool; `None` when it keeps nothing (a full
    /// disk, another system): the record stays on the heap as it was.
    fn new(node: &mut Node) -> Option<Frozen> {
        let parent = match node.parent {
            None => u32::MAX,
            Some(p) => u32::try_from(p).ok().filter(|&p| p != u32::MAX)?,
        };
        let content = std::mem::take(&mut node.content);
        let reasoning = node.meta.as_mut().map(|m| std::mem::take(&mut m.reasoning));
        let files: Vec<Text> = node
            .attachments
            .iter_mut()
            .map(|f| std::mem::take(&mut f.data))
            .collect();
        let record = serde_json::to_string(&*node);
        // A text spooled already stays where it is; one on the heap follows its record.
        let text = if content.is_spooled() {
            ""
        } else {
            content.as_str()
        };
        let span = record.as_deref().ok().and_then(|r| keep_parts(&[r, text]));
        let (Ok(record), Some(span)) = (record, span) else {
            node.content = content;
            if let (Some(meta), Some(reasoning)) = (&mut node.meta, reasoning) {
                meta.reasoning = reasoning;
            }
            for (file, data) in node.attachments.iter_mut().zip(files) {
                file.data = data;
            }
            return None;
        };
        let content = match text {
            "" => content,
            _ => Text::from_spool(span.from(record.len()), content.memo()),
        };
        let loose =
            (reasoning.as_ref().is_some_and(|r| !r.is_empty()) || !files.is_empty()).then(|| {
                Box::new(Loose(
                    std::iter::once(reasoning.unwrap_or_default())
                        .chain(files)
                        .map(|t| t.spooled().unwrap_or(t))
                        .collect(),
                ))
            });
        Some(Frozen {
            record: span.until(record.len()),
            seal: seal(&record),
            content,
            parent,
            role: node.role,
            plain: plain(node),
            loose,
        })
    }

    /// The record read back with its texts; `None` when it was changed in the
    /// file from outside (only a program of the same user, through /proc, can).
    fn thaw(&self) -> Option<Node> {
        // Copied first, then checked: bytes changed between the check and the
        // parse would be followed (and, no longer UTF-8, read as a `str`).
        let record = String::from_utf8(self.record.to_vec()).ok()?;
        if seal(&record) != self.seal {
            return None;
        }
        let mut node: Node = serde_json::from_str(&record).ok()?;
        node.content = self.content.clone();
        if let Some(Loose(loose)) = self.loose.as_deref() {
            if let (Some(meta), Some(reasoning)) = (&mut node.meta, loose.first()) {
                meta.reasoning = reasoning.clone();
            }
            for (file, data) in node.attachments.iter_mut().zip(loose.iter().skip(1)) {
                file.data = data.clone();
            }
        }
        Some(node)
    }

    /// The record read back, or the spoiled one's (true) when changed from outside.
    fn node(&self) -> (Node, bool) {
        match self.thaw() {
            Some(node) => (node, false),
            None => (self.spoiled(), true),
        }
    }

    /// What is read back of a spoiled record: what was kept here (role,
    /// parent, text), never what it says. Its links could send a walk of the
    /// tree round in circles; without them the shown path ends here.
    fn spoiled(&self) -> Node {
        spoiled(self.role, parent_id(self.parent), self.content.clone())
    }
}

/// A message read back as spoiled: what is known of it, and why it is so.
fn spoiled(role: Role, parent: Option<NodeId>, content: Text) -> Node {
    let mut node = Node::new(role, "", parent);
    node.content = content;
    if let Some(meta) = &mut node.meta {
        meta.status = AnswerStatus::Error;
        meta.error = Some(SPOILED.into());
    }
    node
}

const SPOILED: &str = "this message's record was changed on disk by another program";

/// Whether `node` is its role and text alone to a request.
fn plain(node: &Node) -> bool {
    node.attachments.is_empty()
        && node.tool_calls.is_empty()
        && node.call_id.is_none()
        && node.hosted.is_empty()
        && node.approved.is_none()
}

/// A hash of `record` keyed at random for this process: a record changed in
/// the file from outside no longer matches it.
fn seal(record: &str) -> u64 {
    super::spool::seal(&[record.as_bytes()])
}

/// What a walk of the history reads of a message without its record (a
/// request, its count, a lineage): a paged entry is read once for all of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Brief {
    pub role: Role,
    pub parent: Option<NodeId>,
    /// Whether its role and text are all a request sends of it (no files,
    /// calls or call id).
    pub plain: bool,
    pub content: Text,
}

impl At<'_> {
    fn brief(&self) -> Brief {
        match self {
            At::Slot(Slot::Live(node) | Slot::Spoiled(node)) => Brief {
                role: node.role,
                parent: node.parent,
                plain: plain(node),
                content: node.content.clone(),
            },
            At::Slot(Slot::Frozen(frozen)) => Brief {
                role: frozen.role,
                parent: parent_id(frozen.parent),
                plain: frozen.plain,
                content: frozen.content.clone(),
            },
            At::Paged(entry) => entry.brief(),
        }
    }
}

/// A parent as a frozen slot or an entry keeps it (`u32::MAX`: none).
fn parent_id(parent: u32) -> Option<NodeId> {
    (parent != u32::MAX).then_some(parent as NodeId)
}

impl Slot {
    /// The record on the heap, read back first if frozen (`cached`: a copy
    /// already read back, taken instead of reading it again).
    fn live(&mut self, cached: Option<Thawed>) -> &mut Node {
        if let Slot::Frozen(frozen) = self {
            *self = cached
                .unwrap_or_else(|| Thawed::new(frozen.node()))
                .into_slot();
        }
        match self {
            Slot::Live(node) | Slot::Spoiled(node) => node,
            Slot::Frozen(_) => unreachable!("read back just above"),
        }
    }
}

impl Nodes {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn push(&mut self, node: Node) {
        self.slots.push(Slot::Live(Box::new(node)));
    }

    pub fn get(&self, id: NodeId) -> Option<&Node> {
        (id < self.len()).then(|| &self[id])
    }

    pub fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        (id < self.len()).then(|| &mut self[id])
    }

    pub fn last(&self) -> Option<&Node> {
        self.len().checked_sub(1).map(|id| &self[id])
    }

    pub fn last_mut(&mut self) -> Option<&mut Node> {
        let id = self.len().checked_sub(1)?;
        Some(&mut self[id])
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            nodes: self,
            ids: 0..self.len(),
        }
    }

    /// Every record, on the heap from now on (until the next `freeze`).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Node> {
        let mut thawed = std::mem::take(self.thawed_mut());
        self.slots
            .iter_mut()
            .enumerate()
            .map(move |(id, slot)| slot.live(thawed.remove(&id)))
    }

    /// Message `id`'s role, parent, text and plainness, without reading its
    /// record back.
    pub fn brief(&self, id: NodeId) -> Brief {
        self.slots.at(id).brief()
    }

    /// How many records are on the heap (the rest are in the spool).
    pub fn live(&self) -> usize {
        self.slots
            .0
            .iter()
            .filter_map(|block| match block {
                Block::Open(slots) => Some(slots),
                Block::Paged(_) => None,
            })
            .flatten()
            .filter(|s| !matches!(s, Slot::Frozen(_)))
            .count()
    }

    /// How many records are paged (`paged`): not even a slot on the heap.
    pub fn paged(&self) -> usize {
        let blocks = self.slots.0.iter();
        BLOCK * blocks.filter(|b| matches!(b, Block::Paged(_))).count()
    }

    /// Moves every record but those in `growing` (answers streaming now) to
    /// the spool, and lets go of those read back since the last time.
    pub fn freeze(&mut self, growing: &[NodeId]) {
        // Its table goes too: a walk of the whole path (a branch switched,
        // an export) made it as large as the history, for the session.
        drop(std::mem::take(self.thawed_mut()));
        let blocks = self.slots.0.len();
        for (b, block) in self.slots.0.iter_mut().enumerate() {
            let Block::Open(slots) = block else { continue };
            for (i, slot) in slots.iter_mut().enumerate() {
                if let Slot::Live(node) = slot
                    && !growing.contains(&(b * BLOCK + i))
                {
                    match Frozen::new(node) {
                        Some(frozen) => *slot = Slot::Frozen(frozen),
                        // No spool (the command line, another system) or a
                        // full disk: the rest would fail the same way.
                        None => return,
                    }
                }
            }
            // Not the last block: its last message gets the next one as its
            // reply, a write to its record that would read the block back.
            if b + 1 < blocks
                && let Some(paged) = paged::Paged::new(b * BLOCK, slots)
            {
                *block = Block::Paged(paged);
            }
        }
    }

    fn thawed_mut(&mut self) -> &mut HashMap<NodeId, Thawed> {
        self.thawed.get_mut().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::ops::Index<NodeId> for Nodes {
    type Output = Node;

    fn index(&self, id: NodeId) -> &Node {
        if let Some(node) = self.slots.on_heap(id) {
            return node;
        }
        let mut thawed = self.thawed.lock().unwrap_or_else(|e| e.into_inner());
        let node: *const Node = thawed
            .entry(id)
            .or_insert_with(|| {
                Thawed::new(match self.slots.at(id) {
                    At::Slot(Slot::Frozen(frozen)) => frozen.node(),
                    At::Paged(entry) => entry.node(),
                    At::Slot(Slot::Live(_) | Slot::Spoiled(_)) => unreachable!("returned above"),
                })
            })
            .get();
        // SAFETY: the node has an address of its own (`Thawed`), which moving
        // the map's entries leaves alone, and its entry is neither replaced nor
        // removed while `self` is borrowed (only `&mut self` methods remove entries).
        unsafe { &*node }
    }
}

impl std::ops::IndexMut<NodeId> for Nodes {
    fn index_mut(&mut self, id: NodeId) -> &mut Node {
        let cached = self.thawed_mut().remove(&id);
        self.slots.open(id).live(cached)
    }
}

pub struct Iter<'a> {
    nodes: &'a Nodes,
    ids: std::ops::Range<NodeId>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Node;

    fn next(&mut self) -> Option<&'a Node> {
        self.ids.next().map(|id| &self.nodes[id])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ids.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.ids.next_back().map(|id| &self.nodes[id])
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Nodes {
    type Item = &'a Node;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl From<Vec<Node>> for Nodes {
    fn from(nodes: Vec<Node>) -> Self {
        Self {
            slots: nodes.into_iter().map(|n| Slot::Live(Box::new(n))).collect(),
            thawed: Mutex::default(),
        }
    }
}

impl Clone for Nodes {
    fn clone(&self) -> Self {
        Self {
            slots: self.slots.clone(),
            thawed: Mutex::default(),
        }
    }
}

impl PartialEq for Nodes {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl std::fmt::Debug for Nodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Nodes {
    /// As a list of nodes; a frozen one is read back for it alone, not kept
    /// (a save runs on the writer thread, on its own copy).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for id in 0..self.len() {
            let read_back = match self.slots.at(id) {
                At::Slot(Slot::Live(node)) => {
                    seq.serialize_element(node)?;
                    continue;
                }
                At::Slot(Slot::Frozen(frozen)) => frozen.node(),
                At::Paged(entry) => entry.node(),
                At::Slot(Slot::Spoiled(_)) => return Err(serde::ser::Error::custom(SPOILED)),
            };
            match read_back {
                (node, false) => seq.serialize_element(&node)?,
                // Never saved over the good copy on disk, written to or not.
                (_, true) => return Err(serde::ser::Error::custom(SPOILED)),
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Nodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<Node>::deserialize(d).map(Self::from)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests;
