//! The index structures: what turns one event into a short list of candidate indicators
//! without looking at every indicator.
//!
//! Every indexed comparison is registered under its object path (interned: one entry per
//! distinct `type:steps`), and every object type lists the paths that start from it. For an
//! event, each SCO of an indexed type walks each of its type's paths once, with the
//! evaluator's own path walk (`path::Path::any`, so references, list steps and `null`s are
//! followed exactly as evaluation follows them), views each reached value as the evaluator
//! does (`value::view`), and probes three structures:
//!
//! * **equality**: one hash table over (path, canonical key) for `=`, `IN` (every member is
//!   its own entry) and `NOT !=` (see `key` for the canonical form);
//! * **CIDR**: `ISSUBSET` networks in one hash table over (path, family, prefix length,
//!   masked address); a value is looked up once per distinct prefix length registered on its
//!   path (a handful in practice: /20–/24 in the generated workloads, at most 33 or 129);
//! * **text**: per path, one Aho-Corasick automaton over the required literals of the `LIKE`
//!   and `MATCHES` comparisons there (see `literal`), run over the value as the evaluator's
//!   regex sees it (NFC for strings, code points U+0000–U+00FF for binary values).
//!
//! A hit in any of them is a *posting*: (indicator, observation expression). Postings are
//! proposals only; the evaluator decides.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use hashbrown::{DefaultHashBuilder, HashMap};

use super::flat::{FlatBuilder, FlatTable};
use super::key::{self, Key, KeyRef, Kinds, Mode};
use crate::observation::Observation;
use crate::path::{Path, Step};
use crate::value::{self, Val};

/// One proposal: observation expression `leaf` (index into the compiled pattern's leaves)
/// of indicator `ind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Posting {
    pub ind: u32,
    pub leaf: u32,
}

/// The postings of one key; most keys belong to one indicator, so that case is inline.
#[derive(Debug, Clone)]
pub(crate) enum Postings {
    One(Posting),
    Many(Vec<Posting>),
}

impl Postings {
    fn push(&mut self, p: Posting) {
        match self {
            Postings::One(first) => *self = Postings::Many(vec![*first, p]),
            Postings::Many(v) => v.push(p),
        }
    }

    fn slice(&self) -> &[Posting] {
        match self {
            Postings::One(p) => std::slice::from_ref(p),
            Postings::Many(v) => v,
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Postings::One(_) => 0,
            Postings::Many(v) => v.capacity() * std::mem::size_of::<Posting>(),
        }
    }
}

/// What a comparison contributes to the index.
#[derive(Debug, Clone)]
pub(crate) enum Probe {
    /// Equality with this key.
    Eq(Key),
    /// `ISSUBSET` of this network (family, prefix, masked address).
    Cidr(bool, u8, u128),
    /// The value contains this literal.
    Text(Vec<u8>),
}

/// The hash of a path's identity: its type and steps (the rest of a compiled step follows
/// from the name), computed without building a key: interning runs once per probe, a
/// million times for a million indicators.
fn sig_hash(h: &DefaultHashBuilder, p: &Path) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut s = h.build_hasher();
    p.object_type.hash(&mut s);
    for step in &p.steps {
        match step {
            Step::Key { name, .. } => (0u8, name.as_str()).hash(&mut s),
            Step::Index(i) => (1u8, *i).hash(&mut s),
            Step::Any => 2u8.hash(&mut s),
        }
    }
    s.finish()
}

/// Whether two paths have the same identity (see [`sig_hash`]).
fn same_sig(a: &Path, b: &Path) -> bool {
    a.object_type == b.object_type
        && a.steps.len() == b.steps.len()
        && a.steps.iter().zip(&b.steps).all(|(x, y)| match (x, y) {
            (Step::Key { name: m, .. }, Step::Key { name: n, .. }) => m == n,
            (Step::Index(i), Step::Index(j)) => i == j,
            (Step::Any, Step::Any) => true,
            _ => false,
        })
}

/// Whether values reached by `p` are binary (see [`Path::binary`]).
pub(crate) fn binary(p: &Path) -> bool {
    p.binary()
}

/// The text canonicalisation for values on `p` (see `key`).
pub(crate) fn mode(p: &Path) -> Mode {
    let names: Vec<&str> = p
        .steps
        .iter()
        .map(|s| match s {
            Step::Key { name, .. } => name.as_str(),
            _ => "",
        })
        .collect();
    match names.as_slice() {
        [.., "hashes", last] if !last.is_empty() => Mode::Hash,
        [.., "value"] => Mode::Ip,
        _ => Mode::Plain,
    }
}

struct PathInfo {
    path: Path,
    /// The path is property steps only (no reference, no list step), so it can be walked on
    /// a raw SCO without the evaluator's model (see [`Index::quick`]).
    plain: bool,
    /// The path is property steps and single references (`*_ref`) only, so it can be walked
    /// over a scanned text (see [`Index::quick_text`]).
    scanned: bool,
    mode: Mode,
    kinds: Kinds,
    eq: bool,
    /// Distinct (IPv6?, prefix) of the CIDRs registered here, each with a 65,536-bit filter
    /// over the top 16 bits of its masked networks. Without it every address cost one table
    /// miss per prefix length (four in the bench mix), the largest share of an event's time;
    /// the filter (8 KiB, cache-resident) turns most of those into one bit test.
    cidr_lens: Vec<(bool, u8, Box<[u64]>)>,
    /// The equality keys registered here that are addresses ([`Key::Ip`]), by family (IPv4,
    /// IPv6): a 65,536-bit set of their top 16 bits, `None` when the family has none. An
    /// address value whose top 16 bits are not in it cannot have its own key in the table,
    /// so it is not looked up there: most addresses a sensor sees are in blocks no indicator
    /// names (private ranges above all), and each look-up reads a word of the table's filter,
    /// a cache miss at a million keys (`FlatTable::get` was ~11 % of a quiet line's time).
    ip_tops: [Option<Box<[u64]>>; 2],
    text: Option<TextIndex>,
}

impl PathInfo {
    /// Whether an address key `(v6, addr)` can be registered on this path (see
    /// [`PathInfo::ip_tops`]).
    #[inline]
    fn may_hold_ip(&self, v6: bool, addr: u128) -> bool {
        self.ip_tops[usize::from(v6)].as_deref().is_some_and(|set| {
            let top = top16(v6, addr);
            set[top / 64] & (1 << (top % 64)) != 0
        })
    }
}

#[derive(Default)]
struct TextBuild {
    ids: HashMap<Vec<u8>, u32>,
    postings: Vec<Postings>,
}

struct TextIndex {
    ac: AhoCorasick,
    postings: Vec<Postings>,
}

/// Collects probes; [`Builder::finish`] makes the [`Index`].
pub(crate) struct Builder {
    /// Path ids by [`sig_hash`].
    sigs: hashbrown::HashTable<u32>,
    paths: Vec<PathInfo>,
    texts: Vec<TextBuild>,
    types: HashMap<Box<str>, Vec<u32>>,
    eq: FlatBuilder,
    cidr: FlatBuilder,
    hasher: DefaultHashBuilder,
}

fn hash_cidr(h: &DefaultHashBuilder, pid: u32, v6: bool, prefix: u8, addr: u128) -> u64 {
    use std::hash::BuildHasher;
    h.hash_one((pid, v6, prefix, addr))
}

/// `addr` with the bits below `prefix` cleared, as `Net` masks.
pub(crate) fn masked(v6: bool, addr: u128, prefix: u8) -> u128 {
    let bits: u32 = if v6 { 128 } else { 32 };
    let host = bits - u32::from(prefix).min(bits);
    if host >= 128 {
        0
    } else {
        (addr >> host) << host
    }
}

/// The top 16 bits of an address, the CIDR filter's index.
fn top16(v6: bool, addr: u128) -> usize {
    (if v6 {
        addr >> 112
    } else {
        (addr >> 16) & 0xffff
    }) as usize
}

impl Builder {
    pub fn new() -> Self {
        Builder {
            sigs: hashbrown::HashTable::new(),
            paths: Vec::new(),
            texts: Vec::new(),
            types: HashMap::new(),
            eq: FlatBuilder::default(),
            cidr: FlatBuilder::default(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    fn intern(&mut self, p: &Path) -> u32 {
        let hash = sig_hash(&self.hasher, p);
        let paths = &self.paths;
        if let Some(&pid) = self
            .sigs
            .find(hash, |&pid| same_sig(&paths[pid as usize].path, p))
        {
            return pid;
        }
        let pid = u32::try_from(self.paths.len()).unwrap_or(u32::MAX);
        let plain = p.steps.iter().all(|s| {
            matches!(
                s,
                Step::Key {
                    deref: crate::path::Deref::No,
                    ..
                }
            )
        });
        let scanned = p.steps.iter().all(|s| {
            matches!(
                s,
                Step::Key {
                    deref: crate::path::Deref::No | crate::path::Deref::One,
                    ..
                }
            )
        });
        self.paths.push(PathInfo {
            path: p.clone(),
            plain,
            scanned,
            mode: mode(p),
            kinds: Kinds::default(),
            eq: false,
            cidr_lens: Vec::new(),
            ip_tops: [None, None],
            text: None,
        });
        self.texts.push(TextBuild::default());
        self.types
            .entry(p.object_type.as_str().into())
            .or_default()
            .push(pid);
        let (paths, hasher) = (&self.paths, &self.hasher);
        self.sigs
            .insert_unique(hash, pid, |&q| sig_hash(hasher, &paths[q as usize].path));
        pid
    }

    /// Registers one probe of `posting` on path `p`.
    pub fn add(&mut self, p: &Path, probe: Probe, posting: Posting) {
        let pid = self.intern(p);
        let is_binary = binary(p);
        let info = &mut self.paths[pid as usize];
        match probe {
            Probe::Eq(k) => {
                info.eq = true;
                match &k {
                    Key::Octets(_) if !is_binary => info.kinds.octets = true,
                    Key::Time(_) => info.kinds.time = true,
                    &Key::Ip(v6, addr) => {
                        let top = top16(v6, addr);
                        let set = info.ip_tops[usize::from(v6)]
                            .get_or_insert_with(|| vec![0u64; 1024].into_boxed_slice());
                        set[top / 64] |= 1 << (top % 64);
                    }
                    _ => {}
                }
                let h = key::hash_key(&self.hasher, pid, k.as_ref());
                self.eq.push(h, posting);
            }
            Probe::Cidr(v6, prefix, addr) => {
                let slot = match info
                    .cidr_lens
                    .iter()
                    .position(|(f, l, _)| (*f, *l) == (v6, prefix))
                {
                    Some(i) => i,
                    None => {
                        info.cidr_lens
                            .push((v6, prefix, vec![0u64; 1024].into_boxed_slice()));
                        info.cidr_lens.len() - 1
                    }
                };
                let top = top16(v6, addr);
                info.cidr_lens[slot].2[top / 64] |= 1 << (top % 64);
                let h = hash_cidr(&self.hasher, pid, v6, prefix, addr);
                self.cidr.push(h, posting);
            }
            Probe::Text(lit) => {
                let t = &mut self.texts[pid as usize];
                match t.ids.get(&lit) {
                    Some(&id) => t.postings[id as usize].push(posting),
                    None => {
                        let id = u32::try_from(t.postings.len()).unwrap_or(u32::MAX);
                        t.ids.insert(lit, id);
                        t.postings.push(Postings::One(posting));
                    }
                }
            }
        }
    }

    /// Builds the automata and freezes the tables. Also returns the postings of any path
    /// whose automaton could not be built (only past the automaton's size limits), which the
    /// caller must evaluate unconditionally.
    pub fn finish(mut self) -> (Index, Vec<Posting>) {
        let mut unindexed = Vec::new();
        for (pid, t) in self.texts.into_iter().enumerate() {
            if t.postings.is_empty() {
                continue;
            }
            let mut lits: Vec<(Vec<u8>, u32)> = t.ids.into_iter().collect();
            lits.sort_by_key(|(_, id)| *id);
            match AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(lits.iter().map(|(l, _)| l))
            {
                Ok(ac) => {
                    self.paths[pid].text = Some(TextIndex {
                        ac,
                        postings: t.postings,
                    });
                }
                Err(_) => {
                    for p in &t.postings {
                        unindexed.extend_from_slice(p.slice());
                    }
                }
            }
        }
        for info in &mut self.paths {
            info.cidr_lens.sort_unstable_by_key(|(f, l, _)| (*f, *l));
        }
        let index = Index {
            paths: self.paths,
            type_list: self
                .types
                .iter()
                .map(|(ty, pids)| (ty.as_bytes().into(), pids.clone()))
                .collect(),
            types: self.types,
            eq: self.eq.finish(),
            cidr: self.cidr.finish(),
            hasher: self.hasher,
        };
        (index, unindexed)
    }
}

/// The frozen index.
pub(crate) struct Index {
    paths: Vec<PathInfo>,
    types: HashMap<Box<str>, Vec<u32>>,
    /// The same as a list, for [`Index::type_paths`].
    type_list: Vec<(Box<[u8]>, Vec<u32>)>,
    eq: FlatTable,
    cidr: FlatTable,
    hasher: DefaultHashBuilder,
}

/// Counters of one probe.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ProbeCount {
    /// Hash-table look-ups and automaton runs.
    pub lookups: u64,
}

impl Index {
    /// Appends the postings every value of `obs` proposes to `out`.
    pub fn probe(&self, obs: &Observation<'_>, out: &mut Vec<Posting>, count: &mut ProbeCount) {
        for sco in &obs.objects {
            let Some(pids) = self.types.get(sco.object_type()) else {
                continue;
            };
            for &pid in pids {
                let info = &self.paths[pid as usize];
                // The predicate never fails and always asks for more values, so the walk
                // visits every value the path reaches; its result carries nothing.
                let _ = info.path.any(obs, sco, &mut |v, bin| {
                    let Ok(val) = value::view(v, bin) else {
                        // The evaluator reports undecodable binary values as invalid input:
                        // nothing can match through them.
                        return Ok(false);
                    };
                    self.lookup(pid, info, &val, out, count, None);
                    Ok(false)
                });
            }
        }
    }

    /// Looks `val` up on path `pid`. With `later`, equality look-ups are not made but their
    /// hashes pushed there, for the caller to make together ([`Index::quick_text`]).
    fn lookup(
        &self,
        pid: u32,
        info: &PathInfo,
        val: &Val<'_>,
        out: &mut Vec<Posting>,
        count: &mut ProbeCount,
        mut later: Option<&mut Vec<u64>>,
    ) {
        if let Val::Str(s) = val {
            return self.lookup_text(pid, info, s.as_bytes(), out, count, later);
        }
        if info.eq {
            key::of_value(val, info.mode, info.kinds, None, &mut |k: KeyRef<'_>| {
                self.lookup_key(pid, info, k, out, count, later.as_deref_mut());
            });
        }
        if let Some(t) = &info.text {
            count.lookups += 1;
            if let Val::Bytes(b) = val {
                Self::scan_text(t, value::latin1_string(b).as_bytes(), out);
            }
        }
    }

    /// [`Index::lookup`] of a string value, given as its bytes, which must be UTF-8 (a
    /// `&str`'s, or a scanned value's: [`Index::quick_text`] looks those up without making
    /// them a `&str`, see `key::of_text`).
    fn lookup_text(
        &self,
        pid: u32,
        info: &PathInfo,
        text: &[u8],
        out: &mut Vec<Posting>,
        count: &mut ProbeCount,
        mut later: Option<&mut Vec<u64>>,
    ) {
        // A string is read as an address at most once, for both the equality key and the
        // CIDR look-ups.
        let ip = if info.mode == Mode::Ip || !info.cidr_lens.is_empty() {
            super::addr::parts(text)
        } else {
            None
        };
        if info.eq {
            key::of_text(text, info.mode, info.kinds, ip, &mut |k: KeyRef<'_>| {
                self.lookup_key(pid, info, k, out, count, later.as_deref_mut());
            });
        }
        if !info.cidr_lens.is_empty()
            && let Some((v6, addr, prefix)) = ip
        {
            for (fam, len, filter) in &info.cidr_lens {
                let (fam, len) = (*fam, *len);
                if fam != v6 || len > prefix {
                    continue;
                }
                let m = masked(v6, addr, len);
                let top = top16(v6, m);
                if filter[top / 64] & (1 << (top % 64)) == 0 {
                    continue;
                }
                count.lookups += 1;
                let h = hash_cidr(&self.hasher, pid, v6, len, m);
                out.extend_from_slice(self.cidr.get(h));
            }
        }
        if let Some(t) = &info.text {
            count.lookups += 1;
            if text.is_ascii() {
                // ASCII text is in NFC already; the quick check costs ~50 instructions.
                Self::scan_text(t, text, out);
            } else if let Ok(s) = std::str::from_utf8(text) {
                Self::scan_text(t, crate::text::nfc(s).as_bytes(), out);
            }
        }
    }

    /// One equality key of a value on path `pid`: its postings, or with `later` its hash.
    #[inline]
    fn lookup_key(
        &self,
        pid: u32,
        info: &PathInfo,
        k: KeyRef<'_>,
        out: &mut Vec<Posting>,
        count: &mut ProbeCount,
        later: Option<&mut Vec<u64>>,
    ) {
        if let KeyRef::Ip(v6, addr) = k
            && !info.may_hold_ip(v6, addr)
        {
            return;
        }
        count.lookups += 1;
        let h = key::hash_key(&self.hasher, pid, k);
        match later {
            Some(hashes) => hashes.push(h),
            None => out.extend_from_slice(self.eq.get(h)),
        }
    }

    /// The postings of every literal of `t` that occurs in `hay`.
    fn scan_text(t: &TextIndex, hay: &[u8], out: &mut Vec<Posting>) {
        for m in t.ac.find_overlapping_iter(hay) {
            out.extend_from_slice(t.postings[m.pattern().as_usize()].slice());
        }
    }

    /// The paths of objects of type `ty`. A scanned line's few objects are looked up here:
    /// a handful of types have indexed paths, and comparing a type's bytes with each
    /// (lengths first) costs less than hashing it for the map and comparing the key found
    /// with a `memcmp` call.
    #[inline]
    fn type_paths(&self, ty: &[u8]) -> Option<&[u32]> {
        self.type_list
            .iter()
            .find(|(t, _)| super::raw::same(t, ty))
            .map(|(_, pids)| pids.as_slice())
    }

    /// A quick look at a raw document, before the evaluator's model is built: whether any
    /// posting can fire. Walks the plain paths of every object that could be an SCO (a
    /// superset of the SCOs the model would hold), the same steps the evaluator's walk takes
    /// for such paths; an object with a non-plain indexed path, or an observed-data whose
    /// `first_observed` does not read, answers [`Quick::Load`]. Otherwise also returns the
    /// latest `first_observed`, which the stream's expiry needs.
    ///
    /// Measured on the bench workload (4 SCOs per event): building the model alone ran at
    /// 0.73 M events per CPU-second, so events that propose nothing skip it.
    pub fn quick(
        &self,
        doc: &serde_json::Value,
        out: &mut Vec<Posting>,
        count: &mut ProbeCount,
    ) -> Quick {
        let mut q = QuickWalk {
            index: self,
            out,
            count,
            latest: None,
            load: false,
        };
        q.document(doc);
        if q.load || !q.out.is_empty() {
            Quick::Load
        } else {
            Quick::Nothing(q.latest)
        }
    }

    /// [`Index::quick`] over a document's text, scanned by `raw::Scanner` instead of parsed:
    /// the observation windows when nothing can match, `None` (load the document) when the
    /// scan cannot vouch for the text (see the `raw` module) or any posting fires. Every
    /// object the scan found is walked as a possible SCO (a superset of the model's), a
    /// `*_ref` step is followed to the first object of the document with that id (the one
    /// the model would resolve it to, when it resolves at all), and values are viewed exactly
    /// as the evaluator views them.
    ///
    /// The equality look-ups are made last, all together (their hashes gathered in
    /// `hashes`): with a million keys each reads a random word of a filter larger than the
    /// core's cache, and reads that do not wait for one another overlap. Made one at a time
    /// amid the walk they were 12-14 % of a quiet line's time (`perf record`).
    ///
    /// `utf8`: the caller knows `text` is UTF-8 (else the scan checks, see
    /// `raw::Scanner::scan_bytes`).
    pub fn quick_text(
        &self,
        text: &[u8],
        utf8: bool,
        scan: &mut super::raw::Scanner,
        hashes: &mut Vec<u64>,
        out: &mut Vec<Posting>,
        count: &mut ProbeCount,
    ) -> Option<super::raw::Windows> {
        hashes.clear();
        let windows = scan.scan_bytes(text, utf8)?;
        for i in 0..scan.items.len() {
            let ty = scan.items[i].ty.bytes(text);
            let Some(pids) = self.type_paths(ty) else {
                continue;
            };
            for &pid in pids {
                let info = &self.paths[pid as usize];
                if !info.scanned {
                    return None;
                }
                self.walk_text(text, scan, i, pid, info, hashes, out, count)
                    .ok()?;
            }
        }
        // No early exit: every filter word is read before any is tested.
        let hit = hashes
            .iter()
            .fold(false, |hit, &h| hit | !self.eq.get(h).is_empty());
        (out.is_empty() && !hit).then_some(windows)
    }

    /// Walks one scanned path from item `root` and looks its value up. `Err` when the value
    /// needs the full model (a negative number, whose JSON reading has a corner at `-0`).
    #[allow(clippy::too_many_arguments)]
    fn walk_text(
        &self,
        text: &[u8],
        scan: &super::raw::Scanner,
        root: usize,
        pid: u32,
        info: &PathInfo,
        hashes: &mut Vec<u64>,
        out: &mut Vec<Posting>,
        count: &mut ProbeCount,
    ) -> Result<(), ()> {
        use super::raw::Span;
        enum Node {
            Item(usize),
            Value(Span),
        }
        let mut node = Node::Item(root);
        let mut bin = None;
        for step in &info.path.steps {
            let Step::Key {
                name,
                deref,
                bin: b,
            } = step
            else {
                return Err(());
            };
            let child = match node {
                Node::Item(i) => scan.member(text, i, name),
                // Only an object can be stepped into (a null or anything else reaches
                // nothing, as in the evaluator's walk).
                Node::Value(span) => scan.member_of(text, span, name),
            };
            let Some(child) = child else {
                return Ok(());
            };
            node = match deref {
                crate::path::Deref::No => Node::Value(child),
                crate::path::Deref::One => {
                    let target = child.string_bytes(text).and_then(|id| scan.by_id(text, id));
                    match target {
                        Some(t) => Node::Item(t),
                        None => return Ok(()),
                    }
                }
                crate::path::Deref::Many => return Err(()),
            };
            // A followed reference starts afresh, as the evaluator's walk does.
            bin = match deref {
                crate::path::Deref::One => None,
                _ => *b,
            };
        }
        let val = match node {
            // A path ending in a reference reaches an object.
            Node::Item(_) => Val::Other,
            Node::Value(span) => match text.get(span.start as usize) {
                // A string the evaluator views as text (`view_str` without a binary kind):
                // looked up as the bytes it is.
                Some(b'"') if bin.is_none() => {
                    if let Some(s) = span.string_bytes(text) {
                        self.lookup_text(pid, info, s, out, count, Some(hashes));
                    }
                    return Ok(());
                }
                Some(b'"') => match span.string_str(text).map(|s| value::view_str(s, bin)) {
                    Some(Ok(v)) => v,
                    // Undecodable binary: the evaluator reports invalid input, nothing
                    // matches through it.
                    _ => return Ok(()),
                },
                Some(b't') => Val::Bool(true),
                Some(b'f') => Val::Bool(false),
                Some(b'0'..=b'9') => {
                    // A number token is ASCII.
                    let t = std::str::from_utf8(span.bytes(text)).map_err(|_| ())?;
                    match t.parse::<u64>() {
                        Ok(u) => Val::Num(value::Num::Int(i128::from(u))),
                        Err(_) => {
                            // serde_json reads integers past u64 and fractions as f64, and
                            // with float_roundtrip exactly as `str::parse` does.
                            match t.parse::<f64>() {
                                Ok(f) => Val::Num(value::Num::Float(f)),
                                Err(_) => return Err(()),
                            }
                        }
                    }
                }
                Some(b'-') => return Err(()),
                _ => Val::Other,
            },
        };
        self.lookup(pid, info, &val, out, count, Some(hashes));
        Ok(())
    }

    /// Approximate heap bytes of the index (tables, keys, postings; automata by their own
    /// estimate).
    pub fn heap_bytes(&self) -> usize {
        let mut n = self.eq.heap_bytes() + self.cidr.heap_bytes();
        for p in &self.paths {
            if let Some(t) = &p.text {
                n += t.ac.memory_usage() + t.postings.capacity() * std::mem::size_of::<Postings>();
                n += t.postings.iter().map(Postings::heap_bytes).sum::<usize>();
            }
        }
        n
    }

    /// How many distinct paths are indexed.
    pub fn paths(&self) -> usize {
        self.paths.len()
    }
}

/// What [`Index::quick`] found.
pub(crate) enum Quick {
    /// Something may match, or the document needs the full model: load it.
    Load,
    /// Nothing can match; the latest `first_observed` of its observations.
    Nothing(Option<jiff::Timestamp>),
}

struct QuickWalk<'i, 'o> {
    index: &'i Index,
    out: &'o mut Vec<Posting>,
    count: &'o mut ProbeCount,
    latest: Option<jiff::Timestamp>,
    load: bool,
}

impl QuickWalk<'_, '_> {
    fn document(&mut self, doc: &serde_json::Value) {
        match doc {
            serde_json::Value::Array(items) => {
                for item in items {
                    self.item(item, true);
                }
            }
            other => self.item(other, true),
        }
    }

    fn item(&mut self, v: &serde_json::Value, top: bool) {
        use crate::observation::get;
        if self.load {
            return;
        }
        let Some(ty) = get(v, "type").and_then(serde_json::Value::as_str) else {
            // The model refuses objects without a type: let it say so.
            self.load = true;
            return;
        };
        match ty {
            // The model refuses a bundle inside a bundle: let it say so.
            "bundle" if !top => self.load = true,
            "bundle" => {
                if let Some(items) = get(v, "objects").and_then(serde_json::Value::as_array) {
                    for item in items {
                        self.item(item, false);
                    }
                }
            }
            _ if ty == "observed-data"
                || (get(v, "first_observed").is_some() && get(v, "objects").is_some()) =>
            {
                match get(v, "first_observed")
                    .and_then(serde_json::Value::as_str)
                    .map(crate::timestamp::parse)
                {
                    Some(Ok(t)) => self.latest = self.latest.max(Some(t)),
                    _ => self.load = true,
                }
                if let Some(embedded) = get(v, "objects").and_then(serde_json::Value::as_object) {
                    for sco in embedded.values() {
                        self.sco(sco);
                    }
                }
            }
            _ => self.sco(v),
        }
    }

    fn sco(&mut self, v: &serde_json::Value) {
        use crate::observation::get;
        let Some(ty) = get(v, "type").and_then(serde_json::Value::as_str) else {
            return;
        };
        let Some(pids) = self.index.types.get(ty) else {
            return;
        };
        for &pid in pids {
            let info = &self.index.paths[pid as usize];
            if !info.plain {
                self.load = true;
                return;
            }
            // The evaluator's walk for property steps: a null cannot be stepped into, a
            // missing key reaches nothing, the last step's name says whether it is binary.
            let mut cur = Some(v);
            let mut bin = None;
            for step in &info.path.steps {
                if let Step::Key { name, bin: b, .. } = step {
                    cur = cur.filter(|c| !c.is_null()).and_then(|c| get(c, name));
                    bin = *b;
                }
            }
            let Some(value) = cur else {
                continue;
            };
            if let Ok(val) = value::view(value, bin) {
                self.index
                    .lookup(pid, info, &val, self.out, self.count, None);
            }
        }
    }
}
