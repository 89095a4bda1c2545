//! C2SP tlog-tiles helpers: tile coordinates, the `tile/<L>/<N>[.p/<W>]` and
//! `tile/entries/<N>[.p/<W>]` paths, tile contents from a [`HashStore`], and entry bundles.
//!
//! A tile at level `L`, index `N` holds up to 256 consecutive hashes of tree level `8·L`:
//! hash `i` is the node `(8·L, N·256 + i)`, a complete subtree, so tile contents are plain
//! reads of the stored-hash scheme in [`crate::tree`]. A tree of size `s` has at level `L`
//! `floor(s / 256^(L+1))` full tiles and one partial tile of width `floor(s / 256^L) mod
//! 256` when that is non-zero.
//!
//! What it deliberately doesn't do: HTTP (caching headers and compression belong to the
//! server) or gzip.

use std::fmt;

use crate::error::{Error, Result};
use crate::hash::{HASH_SIZE, Hash};
use crate::tree::{HashStore, NodeId};

/// Hashes in a full tile.
pub const TILE_WIDTH: u16 = 256;

/// Tree levels spanned by one tile level.
pub const TILE_HEIGHT: u8 = 8;

/// Highest tile level a path may name (C2SP tlog-tiles: `<L>` is 0..=63).
pub const MAX_TILE_LEVEL: u8 = 63;

/// Whether a tile holds Merkle tree hashes or log entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// `tile/<L>/<N>`: concatenated 32-byte hashes.
    Hashes,
    /// `tile/entries/<N>`: an entry bundle (level 0 only).
    Entries,
}

/// One tile: level, index within the level, and width (256 when full).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile level `L` (tree level `8·L`).
    pub level: u8,
    /// Tile index `N` within the level.
    pub index: u64,
    /// Number of hashes (or entries), 1..=256; below 256 the tile is partial.
    pub width: u16,
}

/// `size >> shift` that is 0 instead of overflowing when `shift >= 64`.
fn shr(size: u64, shift: u32) -> u64 {
    size.checked_shr(shift).unwrap_or(0)
}

impl Tile {
    /// The tile at `level`, `index` as it stands in a tree of `size` leaves: full, partial,
    /// or `None` if the tree has no hashes there yet.
    pub fn in_tree(level: u8, index: u64, size: u64) -> Option<Self> {
        // Hashes available at tree level 8·L: one per complete subtree of 256^L leaves.
        let available = shr(size, u32::from(level) * u32::from(TILE_HEIGHT));
        let start = index.checked_mul(u64::from(TILE_WIDTH))?;
        let width = available.checked_sub(start)?.min(u64::from(TILE_WIDTH));
        (width > 0).then_some(Self {
            level,
            index,
            width: width as u16,
        })
    }

    /// The tiles a tree of `size` leaves has at `level`, full ones first then the partial
    /// one if any.
    pub fn all_in_tree(level: u8, size: u64) -> impl Iterator<Item = Tile> {
        let available = shr(size, u32::from(level) * u32::from(TILE_HEIGHT));
        let count = available.div_ceil(u64::from(TILE_WIDTH));
        (0..count).filter_map(move |i| Self::in_tree(level, i, size))
    }

    /// Checks that this exact tile (same width) exists in a tree of `size` leaves, which is
    /// what a server must check before serving it (C2SP tlog-tiles "Partial Tiles").
    pub fn check_in_tree(&self, size: u64) -> Result<()> {
        match Self::in_tree(self.level, self.index, size) {
            Some(t) if t.width == self.width => Ok(()),
            _ => Err(Error::TileNotInTree {
                path: self.path(),
                size,
            }),
        }
    }

    /// Checks that a tree of `size` leaves holds every hash (or entry) of this tile: the
    /// same tile, or a narrower version of it. A partial tile's content never changes, so a
    /// server may serve the partial tile of an earlier checkpoint after the tree grew; a
    /// client that read that checkpoint a moment before the next one was published asks for
    /// exactly such a tile.
    pub fn check_within(&self, size: u64) -> Result<()> {
        match Self::in_tree(self.level, self.index, size) {
            Some(t) if self.width >= 1 && self.width <= t.width => Ok(()),
            _ => Err(Error::TileNotInTree {
                path: self.path(),
                size,
            }),
        }
    }

    /// Whether this tile is full (256 wide).
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The tree nodes whose hashes make up this tile, in order.
    pub fn node_ids(&self) -> Result<Vec<NodeId>> {
        let tree_level = u32::from(self.level) * u32::from(TILE_HEIGHT);
        let first = self.index.checked_mul(u64::from(TILE_WIDTH));
        match (u8::try_from(tree_level), first) {
            (Ok(l), Some(first)) if l < 64 && self.width >= 1 && self.width <= TILE_WIDTH => Ok((0
                ..u64::from(self.width))
                .map(|i| NodeId::new(l, first + i))
                .collect()),
            _ => Err(Error::TileNotInTree {
                path: self.path(),
                size: u64::MAX,
            }),
        }
    }

    /// The leaf indices `start..end` an entry bundle at this index and width holds.
    pub fn entry_range(&self) -> (u64, u64) {
        let start = self.index.saturating_mul(u64::from(TILE_WIDTH));
        (start, start.saturating_add(u64::from(self.width)))
    }

    /// `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.suffix())
    }

    /// `tile/entries/<N>[.p/<W>]`.
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.suffix())
    }

    fn suffix(&self) -> String {
        let n = encode_index(self.index);
        if self.is_full() {
            n
        } else {
            format!("{n}.p/{}", self.width)
        }
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// Encodes a tile index as zero-padded 3-digit path elements, all but the last prefixed
/// with `x`: `1234067` → `x001/x234/067` (C2SP tlog-tiles "Merkle Tree").
pub fn encode_index(n: u64) -> String {
    let mut groups = Vec::new();
    let mut rest = n;
    loop {
        groups.push(rest % 1000);
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Decodes an index written by [`encode_index`]; only that exact form is accepted (no
/// leading `x000` groups), so every index has one path.
pub fn decode_index(text: &str) -> Result<u64> {
    let groups: Vec<&str> = text.split('/').collect();
    let last = groups.len() - 1;
    let mut n: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i == last {
            *g
        } else {
            g.strip_prefix('x')
                .ok_or(Error::MalformedTilePath("index element without 'x' prefix"))?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::MalformedTilePath("index element is not 3 digits"));
        }
        if i == 0 && i != last && digits == "000" {
            return Err(Error::MalformedTilePath("index has a leading zero element"));
        }
        let v: u64 = digits
            .parse()
            .map_err(|_| Error::MalformedTilePath("index element is not 3 digits"))?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(v))
            .ok_or(Error::MalformedTilePath("index does not fit in 64 bits"))?;
    }
    Ok(n)
}

/// Parses a small decimal with no leading zeros, in `min..=max`.
fn parse_small(text: &str, min: u16, max: u16, what: &'static str) -> Result<u16> {
    if text.is_empty()
        || text.len() > 3
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return Err(Error::MalformedTilePath(what));
    }
    match text.parse::<u16>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(Error::MalformedTilePath(what)),
    }
}

/// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (relative to the log's
/// prefix, without a leading slash).
pub fn parse_tile_path(path: &str) -> Result<(TileKind, Tile)> {
    let rest = path
        .strip_prefix("tile/")
        .ok_or(Error::MalformedTilePath("does not start with tile/"))?;
    let (level_text, rest) = rest
        .split_once('/')
        .ok_or(Error::MalformedTilePath("no level"))?;
    let (kind, level) = if level_text == "entries" {
        (TileKind::Entries, 0)
    } else {
        let l = parse_small(
            level_text,
            0,
            u16::from(MAX_TILE_LEVEL),
            "level is not 0..=63",
        )?;
        (TileKind::Hashes, l as u8)
    };
    let (index_text, width) = match rest.split_once(".p/") {
        Some((n, w)) => (
            n,
            parse_small(w, 1, TILE_WIDTH - 1, "width is not 1..=255")?,
        ),
        None => (rest, TILE_WIDTH),
    };
    let index = decode_index(index_text)?;
    Ok((
        kind,
        Tile {
            level,
            index,
            width,
        },
    ))
}

/// The contents of a hash tile: its hashes concatenated, read with one batched call.
pub fn tile_data(store: &(impl HashStore + ?Sized), tile: &Tile) -> Result<Vec<u8>> {
    let hashes = store.nodes(&tile.node_ids()?)?;
    let mut out = Vec::with_capacity(hashes.len() * HASH_SIZE);
    for h in &hashes {
        out.extend_from_slice(h);
    }
    Ok(out)
}

/// Splits tile contents into hashes; fails unless the length is `width · 32`.
pub fn tile_hashes(data: &[u8], width: u16) -> Result<Vec<Hash>> {
    if data.len() != usize::from(width) * HASH_SIZE {
        return Err(Error::MalformedBundle("tile length is not width × 32"));
    }
    Ok(data
        .chunks_exact(HASH_SIZE)
        .map(|c| {
            let mut h = [0u8; HASH_SIZE];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// Encodes entries as an entry bundle: each entry prefixed with its length as a big-endian
/// uint16 (C2SP tlog-tiles "Log entries").
pub fn encode_entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| Error::EntryTooLarge(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Decodes an entry bundle into its entries; fails on a truncated length or entry.
pub fn decode_entry_bundle(data: &[u8]) -> Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(Error::MalformedBundle("truncated length prefix"))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(Error::MalformedBundle("truncated entry"));
        }
        let (entry, tail) = tail.split_at(len);
        out.push(entry);
        rest = tail;
    }
    Ok(out)
}
