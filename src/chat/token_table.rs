//! The tokenizer's lookup table: built from a vocabulary by `build.rs` at
//! compile time and read in place by `tokens`, so counting needs no heap and
//! only the pages of the table and vocabulary a text touches become resident.
//!
//! Slots (little-endian u32) hold the token's place in the rank-ordered
//! vocabulary (low bits: 1 + offset of its length byte; 0 = empty) and a tag
//! of its hash (high bits). A place orders tokens as their rank does, so no
//! table of ranks is needed.

/// Low bits of a slot. The vocabularies are under 2 MiB.
pub const PLACE_BITS: u32 = 21;
pub const PLACE_MASK: u32 = (1 << PLACE_BITS) - 1;

/// FNV-1a: short keys, no allocation, stable everywhere.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Home slot (low hash bits) and tag (high hash bits, in the slot's high bits).
pub fn slot_and_tag(bytes: &[u8], slots: usize) -> (usize, u32) {
    let h = fnv1a(bytes);
    (h as usize & (slots - 1), (h >> 32) as u32 & !PLACE_MASK)
}

/// The token whose length byte is at `place`.
pub fn token_at(vocab: &[u8], place: usize) -> &[u8] {
    let len = usize::from(vocab[place]);
    &vocab[place + 1..place + 1 + len]
}

/// The table of `vocab` (entries of a length byte and the token's bytes, in
/// rank order), as little-endian bytes. At least five slots for every four
/// tokens: short probe runs, and the tag settles nearly every mismatch.
#[allow(dead_code)] // used by build.rs, which includes this file
pub fn build(vocab: &[u8]) -> Vec<u8> {
    assert!(
        vocab.len() < PLACE_MASK as usize,
        "vocabulary fits the slot"
    );
    let mut places = Vec::new();
    let mut at = 0;
    while at < vocab.len() {
        places.push(at);
        at += 1 + usize::from(vocab[at]);
    }
    let slots = (places.len() * 5 / 4).next_power_of_two();
    let mut table = vec![0u32; slots];
    for place in places {
        let (mut slot, tag) = slot_and_tag(token_at(vocab, place), slots);
        while table[slot] != 0 {
            slot = (slot + 1) & (slots - 1);
        }
        table[slot] = tag | (place as u32 + 1);
    }
    table.iter().flat_map(|s| s.to_le_bytes()).collect()
}
