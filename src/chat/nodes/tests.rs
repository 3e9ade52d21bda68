//! The records' moves between the heap, the spool and its pages.

use super::*;
use crate::chat::conversation::AnswerMeta;

/// The spool is the process's: these tests take turns with it.
fn spooled() -> (std::sync::MutexGuard<'static, ()>, tempfile::TempDir) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    crate::chat::spool::keep_in(dir.path().to_path_buf());
    (turn, dir)
}

/// A tokenizer's stand-in: a text's words, each count added to `counted`.
fn counting(counted: &std::cell::Cell<usize>) -> impl Fn(&str) -> u64 + Copy + '_ {
    |s: &str| {
        counted.set(counted.get() + 1);
        s.split(' ').count() as u64
    }
}

fn answer(text: &str, parent: NodeId) -> Node {
    let mut node = Node::new(Role::Assistant, text, Some(parent));
    node.meta = Some(Box::new(AnswerMeta {
        model: Some("gpt-4o-mini".into()),
        cost_micros: Some(42),
        ..AnswerMeta::default()
    }));
    node
}

#[test]
fn a_frozen_record_reads_saves_and_changes_as_it_did_on_the_heap() {
    let _dir = spooled();
    let mut nodes = Nodes::from(vec![
        Node::new(Role::Root, "", None),
        Node::new(Role::User, "¿Qué? 日本語 🦀", Some(0)),
        answer("An answer\n\n| a | table |\n", 1),
    ]);
    nodes[0].children.push(1);
    nodes[1].children.push(2);
    let before = nodes.clone();
    let saved = serde_json::to_string(&nodes).unwrap();
    nodes.freeze(&[]);
    assert_eq!(nodes.live(), 0, "every record left the heap");
    assert_eq!(nodes, before, "read back the same");
    assert_eq!(
        serde_json::to_string(&nodes).unwrap(),
        saved,
        "saved the same"
    );
    assert_eq!(nodes[2].meta.as_ref().unwrap().cost_micros, Some(42));
    assert!(
        std::ptr::eq(&nodes[2], &nodes[2]),
        "read back once until the next freeze"
    );
    // Changed: on the heap again, and frozen again with the change.
    nodes[1].children.push(3);
    nodes.push(answer("another", 1));
    assert_eq!(nodes.live(), 2);
    nodes.freeze(&[3]);
    assert_eq!(nodes.live(), 1, "a growing answer stays where it grows");
    assert_eq!(nodes[1].children, [2, 3]);
    assert_eq!(nodes[3].content, "another");
}

#[test]
fn a_frozen_record_keeps_a_slot_on_the_heap() {
    assert!(std::mem::size_of::<Slot>() <= 48);
}

#[test]
fn a_growing_history_never_moves_its_slots() {
    let mut nodes = Nodes::from(vec![Node::new(Role::Root, "", None)]);
    let slot = |nodes: &Nodes| match nodes.slots.at(0) {
        At::Slot(slot) => slot as *const Slot,
        At::Paged(_) => unreachable!("nothing is paged without a spool"),
    };
    let first = slot(&nodes);
    for i in 0..1_000 {
        nodes.push(Node::new(Role::User, "more", Some(i)));
        // A moved list leaves its old block behind, a hole the heap keeps.
        assert!(std::ptr::eq(first, slot(&nodes)), "moved at {i}");
    }
    assert_eq!(nodes.len(), 1_001);
    assert_eq!(nodes.iter().count(), 1_001);
    assert_eq!(nodes[1_000].parent, Some(999));
    assert_eq!(nodes.last().unwrap().parent, Some(999));
}

#[test]
fn files_and_reasoning_are_read_back_as_the_texts_they_were() {
    let _dir = spooled();
    let mut question = Node::new(Role::User, "what is in it?", None);
    question
        .attachments
        .push(crate::chat::attachment::Attachment {
            name: "a.png".into(),
            mime: "image/png".into(),
            size: 3,
            width: None,
            height: None,
            pages: None,
            data: Text::from("iVBORw0KGgo="),
        });
    let mut reply = answer("a picture", 0);
    reply.meta.as_mut().unwrap().reasoning = Text::from("looked at it");
    let mut nodes = Nodes::from(vec![question, reply]);
    let before = nodes.clone();
    nodes.freeze(&[]);
    assert_eq!(nodes, before);
    let data = &nodes[0].attachments[0].data;
    assert!(data.is_spooled(), "the file's data in the spool");
    let at = data.as_ptr();
    nodes.freeze(&[]);
    assert_eq!(
        nodes[0].attachments[0].data.as_ptr(),
        at,
        "the same text each time, not decoded anew from the record"
    );
    let reasoning = &nodes[1].meta.as_ref().unwrap().reasoning;
    assert!(reasoning.is_spooled() && reasoning == "looked at it");
    assert!(!nodes.brief(0).plain && nodes.brief(1).plain);
}

#[test]
fn a_count_made_while_read_back_is_kept_with_the_record() {
    let _dir = spooled();
    let mut nodes = Nodes::from(vec![Node::new(Role::User, "three small words", None)]);
    nodes.freeze(&[]);
    let counted = std::cell::Cell::new(0);
    let count = counting(&counted);
    assert_eq!(nodes[0].content.tokens(0, count), 3);
    nodes.freeze(&[]);
    assert_eq!(nodes[0].content.tokens(0, count), 3);
    assert_eq!(counted.get(), 1, "counted once, across freezes");
}

/// A root and `n` messages under it, each the reply to the one before:
/// questions (every 25th with a file), answers with a meta (every 10th with
/// its reasoning).
fn history(n: usize) -> Nodes {
    let mut nodes = vec![Node::new(Role::Root, "", None)];
    for id in 1..=n {
        let text = format!("message {id}: ¿qué? 日本語 🦀 {}", "words ".repeat(id % 7));
        let mut node = match id % 2 {
            1 => Node::new(Role::User, &text, Some(id - 1)),
            _ => answer(&text, id - 1),
        };
        if id % 25 == 1 {
            node.attachments.push(crate::chat::attachment::Attachment {
                name: format!("{id}.png"),
                mime: "image/png".into(),
                size: 3,
                width: None,
                height: None,
                pages: None,
                data: Text::from(format!("iVBORw0KGgo{id}=")),
            });
        }
        if let Some(meta) = node.meta.as_mut().filter(|_| id % 10 == 0) {
            meta.reasoning = Text::from(format!("thought about {id}"));
        }
        nodes[id - 1].children.push(id);
        nodes.push(node);
    }
    Nodes::from(nodes)
}

/// Every message as a walk reads it without its record, as a request does.
fn walked(nodes: &Nodes) -> Vec<Brief> {
    (0..nodes.len()).map(|id| nodes.brief(id)).collect()
}

#[test]
fn a_full_block_of_frozen_records_leaves_the_heap_and_reads_the_same() {
    let _dir = spooled();
    let mut nodes = history(300);
    let before = nodes.clone();
    let walk = walked(&nodes);
    let saved = serde_json::to_string(&nodes).unwrap();
    nodes.freeze(&[]);
    assert_eq!(
        nodes.paged(),
        2 * BLOCK,
        "the two full blocks of 301 records"
    );
    assert_eq!(nodes.live(), 0);
    crate::chat::spool::release();
    assert_eq!(walked(&nodes), walk, "walked the same");
    assert_eq!(nodes, before, "read back the same");
    assert_eq!(
        serde_json::to_string(&nodes).unwrap(),
        saved,
        "saved the same"
    );
    assert_eq!(nodes[151].attachments[0].data, "iVBORw0KGgo151=");
    assert_eq!(
        nodes[200].meta.as_ref().unwrap().reasoning,
        "thought about 200"
    );
    assert!(!nodes.brief(151).plain && nodes.brief(150).plain);
    // Written to: its block comes back to the heap, the other stays paged.
    nodes[5].content.push_str(" (edited)");
    assert_eq!(nodes.paged(), BLOCK);
    assert!(nodes[5].content.ends_with("words  (edited)"));
    assert_eq!(nodes[6], before[6]);
    nodes.freeze(&[]);
    assert_eq!(nodes.paged(), 2 * BLOCK, "paged again");
    assert!(nodes.brief(5).content.ends_with(" (edited)"));
    let mut edited = before.clone();
    edited[5].content.push_str(" (edited)");
    assert_eq!(nodes, edited);
    // A block holding an answer still streaming stays on the heap.
    let mut growing = history(300);
    growing.freeze(&[200]);
    assert_eq!(growing.paged(), BLOCK);
    assert_eq!(growing.live(), 1);
}

#[test]
fn a_count_made_on_a_paged_text_is_kept_in_the_spool() {
    let _dir = spooled();
    let mut nodes = history(200);
    nodes.freeze(&[]);
    assert_eq!(nodes.paged(), BLOCK);
    let counted = std::cell::Cell::new(0);
    let count = counting(&counted);
    let words = nodes.brief(7).content.split(' ').count() as u64;
    // Each walk makes the text anew: the count made by the first is read by the next.
    assert_eq!(nodes.brief(7).content.tokens(0, count), words);
    crate::chat::spool::release();
    assert_eq!(nodes.brief(7).content.tokens(0, count), words);
    assert_eq!(nodes[7].content.tokens(0, count), words);
    assert_eq!(counted.get(), 1, "counted once");
    // Read back to be written to, and paged again: the count goes along.
    nodes[7].active = 0;
    assert_eq!(nodes.paged(), 0);
    nodes.freeze(&[]);
    assert_eq!(nodes.paged(), BLOCK);
    assert_eq!(nodes.brief(7).content.tokens(0, count), words);
    assert_eq!(counted.get(), 1, "counted once, across pages");
    assert_eq!(nodes.brief(7).content.tokens(1, count), words);
    assert_eq!(counted.get(), 2, "each tokenizer its own count");
}

/// Another program of the same user changes a paged entry through /proc
/// (here: makes a message its own parent, which would send every walk up the
/// tree round in circles). The entry reads as spoiled and hangs from nothing,
/// the save fails rather than write it over the good copy, the others read
/// as they were.
#[test]
fn an_entry_changed_in_the_spool_from_outside_is_never_followed() {
    let (_one, dir) = spooled();
    let mut nodes = history(200);
    let before = nodes.clone();
    nodes.freeze(&[]);
    assert_eq!(nodes.paged(), BLOCK);
    let (spool, found) = entries_in_spool(&dir, &before, 77);
    assert_eq!(found.len(), 1, "message 77's entry, once");
    // Bytes 28 to 32 of an entry: its parent.
    write_from_outside(&spool, found[0] + 28, &77u32.to_le_bytes());
    let mut at = Some(100);
    let mut steps = 0;
    while let Some(id) = at {
        assert!(steps <= 100, "the walk up from 100 went round in circles");
        at = nodes.brief(id).parent;
        steps += 1;
    }
    assert_eq!(nodes.brief(77).parent, None, "hangs from nothing");
    assert_eq!(
        nodes.brief(77).role,
        Role::Root,
        "a request sends nothing of it"
    );
    assert_eq!(
        nodes[77].meta.as_ref().unwrap().error.as_deref(),
        Some(SPOILED)
    );
    assert_eq!(nodes.brief(77).content, "");
    let error = serde_json::to_string(&nodes).unwrap_err().to_string();
    assert!(error.contains("changed on disk"), "{error}");
    for id in (0..nodes.len()).filter(|&id| id != 77) {
        assert_eq!(nodes[id], before[id], "message {id}");
    }
}

/// The spool's file (through this process's descriptor of it) and where in
/// it message `id`'s paged entries are, found by what `before` says of it:
/// its text's length, parent, role and plainness (bytes 24 to 34 of an entry).
fn entries_in_spool(
    dir: &tempfile::TempDir,
    before: &Nodes,
    id: NodeId,
) -> (std::path::PathBuf, Vec<usize>) {
    let spool = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .map(|fd| fd.path())
        .find(|fd| std::fs::read_link(fd).is_ok_and(|t| t.starts_with(dir.path())))
        .expect("the spool's descriptor");
    let bytes = std::fs::read(&spool).unwrap();
    let mut entry = (before[id].content.len() as u32).to_le_bytes().to_vec();
    entry.extend((before[id].parent.unwrap() as u32).to_le_bytes());
    entry.extend([
        before.brief(id).role as u8,
        u8::from(before.brief(id).plain),
    ]);
    let found = bytes
        .windows(entry.len())
        .enumerate()
        .filter(|(_, w)| *w == &entry[..])
        .map(|(at, _)| at - 24)
        .collect();
    (spool, found)
}

/// What another program of the same user can do: write to the spool through /proc.
fn write_from_outside(spool: &std::path::Path, at: usize, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new().write(true).open(spool).unwrap();
    file.write_all_at(bytes, at as u64).unwrap();
    crate::chat::spool::release();
}

/// An entry of the block as it was paged before, copied from outside over the
/// one paged since (both sealed, for the same message): it reads as spoiled,
/// not as the older record (which would lose the replies made since).
#[test]
fn an_older_copy_of_an_entry_put_back_from_outside_reads_as_spoiled() {
    let (_one, dir) = spooled();
    let mut nodes = history(200);
    let before = nodes.clone();
    nodes.freeze(&[]);
    nodes[5].active = 0;
    nodes.freeze(&[]);
    assert_eq!(nodes.paged(), BLOCK, "paged again");
    let (spool, found) = entries_in_spool(&dir, &before, 77);
    assert_eq!(
        found.len(),
        2,
        "message 77's entry in the old copy and the new"
    );
    let old = std::fs::read(&spool).unwrap()[found[0]..found[0] + 48].to_vec();
    assert_eq!(nodes[77], before[77]);
    write_from_outside(&spool, found[1], &old);
    assert_eq!(nodes.brief(77).parent, None, "read as spoiled");
    let error = serde_json::to_string(&nodes).unwrap_err().to_string();
    assert!(error.contains("changed on disk"), "{error}");
}

/// A paged text's count changed from outside (here: made to read 0 tokens)
/// is not believed: it is counted again.
#[test]
fn a_count_changed_in_the_spool_from_outside_is_made_again() {
    let (_one, dir) = spooled();
    let mut nodes = history(200);
    let before = nodes.clone();
    nodes.freeze(&[]);
    let counted = std::cell::Cell::new(0);
    let count = counting(&counted);
    let words = nodes.brief(7).content.tokens(0, count);
    let (spool, found) = entries_in_spool(&dir, &before, 7);
    // The block's counts follow its 128 entries, 16 bytes an entry.
    let at = found[0] - 7 * 48 + 128 * 48 + 7 * 16;
    let bytes = std::fs::read(&spool).unwrap();
    assert_eq!(
        bytes[at..at + 4],
        (words as u32 + 1).to_le_bytes(),
        "the count"
    );
    write_from_outside(&spool, at, &1u32.to_le_bytes());
    assert_eq!(nodes.brief(7).content.tokens(0, count), words);
    assert_eq!(counted.get(), 2, "counted again");
}

/// A paged text made invalid UTF-8 from outside reads cut off: what it is
/// counted as then is not kept, so putting its bytes back after the count
/// does not leave a count of nothing for every later request.
#[test]
fn a_count_made_while_a_text_is_spoiled_from_outside_is_not_kept() {
    let (_one, dir) = spooled();
    let mut nodes = history(200);
    let before = nodes.clone();
    nodes.freeze(&[]);
    let (spool, _) = entries_in_spool(&dir, &before, 9);
    let text = before[9].content.as_bytes().to_vec();
    let bytes = std::fs::read(&spool).unwrap();
    let at = bytes
        .windows(text.len())
        .position(|w| w == text)
        .expect("the text");
    write_from_outside(&spool, at, &[0xFF]);
    let count = |s: &str| s.split_whitespace().count() as u64;
    assert_eq!(nodes.brief(9).content.tokens(0, count), 0, "read cut off");
    write_from_outside(&spool, at, &text[..1]);
    assert_eq!(
        nodes.brief(9).content.tokens(0, count),
        count(before[9].content.as_str())
    );
}
