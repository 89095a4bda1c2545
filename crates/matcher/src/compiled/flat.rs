//! A frozen, open-addressed table from 64-bit key hashes to runs of postings: the equality
//! and CIDR indexes of `index`.
//!
//! The index only *proposes* candidates (the evaluator decides), so a look-up may return
//! postings of a different key but must never miss the postings of its own. That allows a
//! table that keeps no keys at all: each slot is 8 bytes, a 32-bit tag taken from the key's
//! hash and the number of its run of postings. Keys whose 64-bit hashes are equal, or whose
//! tags are equal on one probe chain, share a run, which can only add candidates; a look-up
//! stops at the first slot with its tag or at an empty slot, and inserting stops at the
//! first slot with its tag too, so no key is ever hidden behind another. The chance that a
//! benign value meets a foreign tag is about one in 2^32 per slot it probes.
//!
//! Why: with a million indicators the previous `hashbrown` table held 64-byte entries with
//! boxed keys (about 150 bytes per indicator in all), and a miss, which is what almost
//! every event's value is, touched a control group, often an entry, and sometimes the key's
//! heap string: separate cache lines of a table far larger than the cache. Here a miss reads
//! one line of `slots` (8 per line, load at most two thirds) and nothing else, and most
//! misses not even that: a small blocked Bloom filter in front answers them first.

use super::index::Posting;

/// Marks an empty slot; tags are never zero.
const EMPTY: u32 = 0;

#[derive(Debug, Clone, Copy)]
struct Slot {
    tag: u32,
    run: u32,
}

/// The tag stored for `hash`: its high half, never [`EMPTY`].
fn tag(hash: u64) -> u32 {
    ((hash >> 32) as u32).max(1)
}

/// The filter word of `hash` (before masking) and the four bits it sets there: bits of the
/// hash that neither the home slot (low bits) nor the tag (high half) use directly, mixed.
#[inline]
fn filter_bits(hash: u64) -> (usize, u64) {
    let g = hash.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let bits = (1u64 << (g >> 58))
        | (1u64 << ((g >> 52) & 63))
        | (1u64 << ((g >> 46) & 63))
        | (1u64 << ((g >> 40) & 63));
    ((hash >> 20) as usize, bits)
}

/// Collects (hash, posting) pairs; [`FlatBuilder::finish`] freezes them.
#[derive(Debug, Default)]
pub(crate) struct FlatBuilder {
    pairs: Vec<(u64, Posting)>,
}

impl FlatBuilder {
    /// Registers `posting` under a key whose hash is `hash`.
    pub fn push(&mut self, hash: u64, posting: Posting) {
        self.pairs.push((hash, posting));
    }

    /// Builds the table.
    pub fn finish(self) -> FlatTable {
        let mut pairs = self.pairs;
        pairs.sort_unstable();
        pairs.dedup();
        let distinct = pairs.chunk_by(|a, b| a.0 == b.0).count().max(1);
        // Load at most two thirds (one third to two thirds, by the power of two): a miss
        // then probes at most about five slots on average (linear probing), mostly within
        // the one cache line of eight; a smaller table stays in cache more of the time.
        let cap = distinct
            .saturating_add(distinct / 2)
            .next_power_of_two()
            .max(16);
        let mask = cap - 1;
        let mut slots = vec![Slot { tag: EMPTY, run: 0 }; cap];
        // Where each pair went: (slot, posting), to lay the runs out afterwards.
        let mut placed: Vec<(u32, Posting)> = Vec::with_capacity(pairs.len());
        let mut runs = 0u32;
        for group in pairs.chunk_by(|a, b| a.0 == b.0) {
            let h = group[0].0;
            let t = tag(h);
            let mut i = (h as usize) & mask;
            loop {
                let s = &mut slots[i];
                if s.tag == EMPTY {
                    *s = Slot { tag: t, run: runs };
                    runs += 1;
                    break;
                }
                if s.tag == t {
                    break;
                }
                i = (i + 1) & mask;
            }
            let slot = i as u32;
            placed.extend(group.iter().map(|&(_, p)| (slot, p)));
        }
        // Runs in the order their slots were first filled.
        placed.sort_unstable_by_key(|&(slot, p)| (slots[slot as usize].run, p));
        placed.dedup();
        let mut starts = Vec::with_capacity(runs as usize + 1);
        let mut postings = Vec::with_capacity(placed.len());
        let mut last = None;
        for (slot, p) in placed {
            let run = slots[slot as usize].run;
            if last != Some(run) {
                starts.push(postings.len() as u32);
                last = Some(run);
            }
            postings.push(p);
        }
        starts.push(postings.len() as u32);
        // About 13 to 26 filter bits per distinct hash, by the power of two: with four bits
        // in one word, roughly one absent key in 50 to 200 gets through to the slots.
        let words = (distinct / 5).next_power_of_two().max(1);
        let mut filter = vec![0u64; words];
        for group in pairs.chunk_by(|a, b| a.0 == b.0) {
            let (w, bits) = filter_bits(group[0].0);
            filter[w & (words - 1)] |= bits;
        }
        FlatTable {
            filter_mask: words - 1,
            filter: filter.into_boxed_slice(),
            mask,
            slots: slots.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            postings: postings.into_boxed_slice(),
        }
    }
}

/// The frozen table; see the module docs.
#[derive(Debug)]
pub(crate) struct FlatTable {
    /// A blocked Bloom filter over the hashes (one 64-bit word per look-up), about 1/5 word
    /// per key: small enough to stay in cache where `slots` (8 bytes per slot) does not, so
    /// most absent keys cost no memory access that misses the cache.
    filter: Box<[u64]>,
    filter_mask: usize,
    mask: usize,
    slots: Box<[Slot]>,
    /// Run `r` is `postings[starts[r]..starts[r + 1]]`.
    starts: Box<[u32]>,
    postings: Box<[Posting]>,
}

impl Default for FlatTable {
    fn default() -> Self {
        FlatBuilder::default().finish()
    }
}

impl FlatTable {
    /// The postings of every key sharing `hash`'s slot (empty when there is none).
    #[inline]
    pub fn get(&self, hash: u64) -> &[Posting] {
        let (w, bits) = filter_bits(hash);
        if self.filter[w & self.filter_mask] & bits != bits {
            return &[];
        }
        let t = tag(hash);
        let mut i = (hash as usize) & self.mask;
        loop {
            let s = self.slots[i];
            if s.tag == t {
                let r = s.run as usize;
                let (a, b) = (self.starts[r] as usize, self.starts[r + 1] as usize);
                return &self.postings[a..b];
            }
            if s.tag == EMPTY {
                return &[];
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.filter.len() * std::mem::size_of::<u64>()
            + self.slots.len() * std::mem::size_of::<Slot>()
            + self.starts.len() * std::mem::size_of::<u32>()
            + self.postings.len() * std::mem::size_of::<Posting>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ind: u32, leaf: u32) -> Posting {
        Posting { ind, leaf }
    }

    #[test]
    fn finds_every_registered_posting_and_nothing_for_absent_hashes() {
        let mut b = FlatBuilder::default();
        let hash = |k: u64| k.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (k << 40);
        for k in 0..10_000u64 {
            b.push(hash(k), p(k as u32, 0));
            if k % 7 == 0 {
                b.push(hash(k), p(k as u32 + 1, 2));
            }
        }
        // A duplicate registration is kept once.
        b.push(hash(3), p(3, 0));
        let t = b.finish();
        for k in 0..10_000u64 {
            let got = t.get(hash(k));
            assert!(got.contains(&p(k as u32, 0)), "key {k}");
            assert_eq!(got.contains(&p(k as u32 + 1, 2)), k % 7 == 0, "key {k}");
        }
        assert_eq!(t.get(hash(3)), &[p(3, 0)]);
        let absent = (10_000..20_000u64).filter(|&k| !t.get(hash(k)).is_empty());
        assert_eq!(absent.count(), 0);
    }

    #[test]
    fn colliding_tags_share_a_run_instead_of_hiding_each_other() {
        let mut b = FlatBuilder::default();
        // Same tag (high half) and same home slot, different hashes.
        let (h1, h2) = ((7u64 << 32) | 5, (7u64 << 32) | (5 + (1 << 20)));
        b.push(h1, p(1, 0));
        b.push(h2, p(2, 0));
        // Same home slot, different tags: a probe chain.
        let h3 = (9u64 << 32) | 5;
        b.push(h3, p(3, 0));
        let t = b.finish();
        assert_eq!(t.get(h1), &[p(1, 0), p(2, 0)]);
        assert_eq!(t.get(h2), &[p(1, 0), p(2, 0)]);
        assert_eq!(t.get(h3), &[p(3, 0)]);
        assert!(t.get((11u64 << 32) | 5).is_empty());
    }

    #[test]
    fn a_zero_high_half_still_gets_a_non_empty_tag() {
        let mut b = FlatBuilder::default();
        b.push(42, p(9, 1));
        let t = b.finish();
        assert_eq!(t.get(42), &[p(9, 1)]);
        assert!(FlatTable::default().get(42).is_empty());
    }
}
