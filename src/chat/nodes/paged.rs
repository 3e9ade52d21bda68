//! A full block of frozen slots written to the spool as well: the block
//! leaves the heap but for where it is (its bytes, the segments its texts
//! are in).
//!
//! Frozen, a message still kept a slot and its text's handle on the heap
//! (~100 bytes): a session of a thousand exchanges held 0.2 MB that nothing
//! would ever give back. Paged, each message is an entry of fixed size in the
//! spool, read (copied, then checked) when a walk of the history asks for it.
//!
//! Bytes: the entries, then each entry's token counts (a `Tally`: written
//! again when a count is made, each with its own tag), then the loose texts
//! (reasoning, files) the entries name. Each entry is sealed with the id of
//! its message and the copy it is in (`copy`): an entry of another block,
//! another conversation, or this block before it was paged again, copied over
//! it from outside, reads as spoiled like any other change.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{BLOCK, Brief, Frozen, Loose, Slot, parent_id};
use crate::chat::conversation::{Node, NodeId, Role};
use crate::chat::spool::{Anchor, Span, TALLIED, Tally, keep_bytes, seal};
use crate::chat::text::{TOKENIZERS, Text};

/// What a block of slots became in the spool.
#[derive(Clone)]
pub(super) struct Paged {
    bytes: Span,
    /// The segments its texts are in, kept mapped; an entry names one by
    /// its place here.
    anchors: Box<[Anchor]>,
    /// This copy's number, unique in the process, in every seal and tag.
    copy: u64,
}

/// One entry: the record's span and seal, the text's span, parent, role,
/// whether it is plain, where its loose texts are and how many, and the
/// entry's own seal.
const ENTRY: usize = 48;
/// A span written down: its segment's place in `anchors`, start and length.
const SPAN: usize = 10;
/// The counts of one entry's text.
const COUNTS: usize = TALLIED * TOKENIZERS;
/// The segment of an empty text (which is in none).
const NOWHERE: u16 = u16::MAX;
/// Where the counts start (a paged block is always a full one).
const COUNTS_AT: usize = BLOCK * ENTRY;
/// Where the loose texts start.
const LOOSE_AT: usize = BLOCK * (ENTRY + COUNTS);

impl Paged {
    /// `slots` (a full block, `first` the id of its first) written to the
    /// spool; `None` when one is not frozen with every text in the spool, or
    /// the spool keeps nothing.
    pub(super) fn new(first: NodeId, slots: &[Slot]) -> Option<Paged> {
        if slots.len() != BLOCK {
            return None;
        }
        static COPIES: AtomicU64 = AtomicU64::new(0);
        let copy = COPIES.fetch_add(1, Ordering::Relaxed);
        let mut anchors: Vec<Anchor> = Vec::new();
        let mut entries = Vec::with_capacity(slots.len() * ENTRY);
        let mut counts = Vec::with_capacity(slots.len() * COUNTS);
        let mut loose = Vec::new();
        for (i, slot) in slots.iter().enumerate() {
            let Slot::Frozen(frozen) = slot else {
                return None;
            };
            let at = entries.len();
            put_span(&mut entries, &mut anchors, Some(&frozen.record))?;
            entries.extend(frozen.seal.to_le_bytes());
            put_text(&mut entries, &mut anchors, &frozen.content)?;
            entries.extend(frozen.parent.to_le_bytes());
            entries.push(role_byte(frozen.role));
            entries.push(u8::from(frozen.plain));
            let texts = frozen.loose.as_deref().map_or(&[][..], |l| &l.0);
            let from = loose.len();
            entries.extend(u32::try_from(from / SPAN).ok()?.to_le_bytes());
            entries.extend(u16::try_from(texts.len()).ok()?.to_le_bytes());
            for text in texts {
                put_text(&mut loose, &mut anchors, text)?;
            }
            let seal = entry_seal(copy, first + i, &entries[at..], &loose[from..]);
            entries.extend(seal.to_le_bytes());
            debug_assert_eq!(entries.len() - at, ENTRY);
            let key = tally_key(copy, i);
            for (t, &memo) in frozen.content.memo().iter().enumerate() {
                counts.extend(Tally::bytes(key, t, memo));
            }
        }
        u16::try_from(anchors.len()).ok().filter(|&n| n < NOWHERE)?;
        let bytes = keep_bytes(&[&entries, &counts, &loose])?;
        Some(Paged {
            bytes,
            anchors: anchors.into_boxed_slice(),
            copy,
        })
    }

    /// Message `id`'s entry, `i`th of the block: read and checked.
    pub(super) fn entry(&self, id: NodeId, i: usize) -> Entry<'_> {
        Entry::read(self, id, i).unwrap_or(Entry {
            paged: self,
            i,
            bytes: None,
            loose: Vec::new(),
        })
    }

    /// The block's slots again (to be written to), `first` the id of its first.
    pub(super) fn unpage(&self, first: NodeId) -> Vec<Slot> {
        (0..BLOCK)
            .map(|i| match self.entry(first + i, i).frozen() {
                Some(frozen) => Slot::Frozen(frozen),
                None => Slot::Spoiled(Box::new(spoiled())),
            })
            .collect()
    }

    fn span(&self, b: &[u8]) -> Option<Span> {
        let anchor = u16::from_le_bytes([b[0], b[1]]);
        let start = u32::from_le_bytes(b[2..6].try_into().ok()?);
        let len = u32::from_le_bytes(b[6..10].try_into().ok()?);
        self.anchors.get(usize::from(anchor))?.span(start, len)
    }

    /// A text written down by `put_text`, its counts kept in `home` if given.
    fn text(&self, b: &[u8], home: Option<Tally>) -> Option<Text> {
        if u16::from_le_bytes([b[0], b[1]]) == NOWHERE {
            return Some(Text::default());
        }
        Some(Text::from_page(self.span(b)?, [0; TOKENIZERS], home))
    }
}

/// A message's entry as read (`bytes`: `None` when spoiled from outside).
pub(super) struct Entry<'a> {
    paged: &'a Paged,
    i: usize,
    bytes: Option<[u8; ENTRY]>,
    /// Its loose texts, written down.
    loose: Vec<u8>,
}

impl Entry<'_> {
    /// Copied first, then checked: bytes changed between the check and the
    /// use would be followed.
    fn read(paged: &Paged, id: NodeId, i: usize) -> Option<Entry<'_>> {
        let mut bytes = [0; ENTRY];
        if !paged.bytes.read_at(i * ENTRY, &mut bytes) {
            return None;
        }
        let first = u32::from_le_bytes(bytes[34..38].try_into().ok()?) as usize;
        let count = usize::from(u16::from_le_bytes([bytes[38], bytes[39]]));
        // Within what was written, checked before any room is made for it.
        let at = first.checked_mul(SPAN)?.checked_add(LOOSE_AT)?;
        if at.checked_add(count * SPAN)? > paged.bytes.len() {
            return None;
        }
        let mut loose = vec![0; count * SPAN];
        if !paged.bytes.read_at(at, &mut loose) {
            return None;
        }
        let sealed = u64::from_le_bytes(bytes[40..48].try_into().ok()?);
        (entry_seal(paged.copy, id, &bytes[..40], &loose) == sealed).then_some(Entry {
            paged,
            i,
            bytes: Some(bytes),
            loose,
        })
    }

    /// What a walk reads of it. A spoiled one is as the root to a walk: it
    /// hangs from nothing and a request sends nothing of it (its role lost).
    pub(super) fn brief(&self) -> Brief {
        let Some(b) = self.bytes else {
            return Brief {
                role: Role::Root,
                parent: None,
                plain: false,
                content: Text::default(),
            };
        };
        Brief {
            role: byte_role(b[32]),
            parent: parent_id(u32::from_le_bytes([b[28], b[29], b[30], b[31]])),
            plain: b[33] == 1,
            content: self.content(),
        }
    }

    /// Its text, which remembers its counts in the spool.
    fn content(&self) -> Text {
        let Some(b) = self.bytes else {
            return Text::default();
        };
        let text = self.paged.text(&b[18..28], Some(self.home()));
        text.unwrap_or_default()
    }

    /// The slot it was; `None` when spoiled from outside.
    pub(super) fn frozen(&self) -> Option<Frozen> {
        let b = self.bytes?;
        let loose = self
            .loose
            .chunks(SPAN)
            .map(|t| self.paged.text(t, None))
            .collect::<Option<Vec<Text>>>()?;
        Some(Frozen {
            record: self.paged.span(&b[..10])?,
            seal: u64::from_le_bytes(b[10..18].try_into().ok()?),
            content: self.content(),
            parent: u32::from_le_bytes(b[28..32].try_into().ok()?),
            role: byte_role(b[32]),
            plain: b[33] == 1,
            loose: (!loose.is_empty()).then(|| Box::new(Loose(loose))),
        })
    }

    /// The record it reads as: its own, or the spoiled one's.
    pub(super) fn node(&self) -> (Node, bool) {
        match self.frozen() {
            Some(frozen) => frozen.node(),
            None => (spoiled(), true),
        }
    }

    /// Where its text's counts are kept.
    fn home(&self) -> Tally {
        let span = self.paged.bytes.from(COUNTS_AT + self.i * COUNTS);
        Tally::new(span.until(COUNTS), tally_key(self.paged.copy, self.i))
    }
}

/// The seal of message `id`'s entry (its first 40 bytes) and its loose texts
/// in copy `copy`.
fn entry_seal(copy: u64, id: NodeId, entry: &[u8], loose: &[u8]) -> u64 {
    seal(&[&copy.to_le_bytes(), &id.to_le_bytes(), entry, loose])
}

/// The key of the `i`th entry's counts in copy `copy`.
fn tally_key(copy: u64, i: usize) -> u64 {
    copy * BLOCK as u64 + i as u64
}

/// A message spoiled in the spool from outside, its entry too: nothing it
/// said is kept (not even its place in the tree), so it hangs from nothing.
fn spoiled() -> Node {
    super::spoiled(Role::Assistant, None, Text::default())
}

fn put_span(out: &mut Vec<u8>, anchors: &mut Vec<Anchor>, span: Option<&Span>) -> Option<()> {
    let Some(span) = span else {
        out.extend(NOWHERE.to_le_bytes());
        out.extend([0; SPAN - 2]);
        return Some(());
    };
    let place = match anchors.iter().position(|a| a.holds(span)) {
        Some(place) => place,
        None => {
            anchors.push(span.anchor());
            anchors.len() - 1
        }
    };
    out.extend(u16::try_from(place).ok()?.to_le_bytes());
    out.extend(span.start().to_le_bytes());
    out.extend(u32::try_from(span.len()).ok()?.to_le_bytes());
    Some(())
}

/// A text in the spool, or an empty one; `None` for any other (on the heap).
fn put_text(out: &mut Vec<u8>, anchors: &mut Vec<Anchor>, text: &Text) -> Option<()> {
    match text.span() {
        Some(span) => put_span(out, anchors, Some(span)),
        None if text.is_empty() => put_span(out, anchors, None),
        None => None,
    }
}

fn role_byte(role: Role) -> u8 {
    match role {
        Role::Root => 0,
        Role::User => 1,
        Role::Assistant => 2,
        Role::Tool => 3,
    }
}

fn byte_role(b: u8) -> Role {
    match b {
        0 => Role::Root,
        1 => Role::User,
        3 => Role::Tool,
        _ => Role::Assistant,
    }
}
