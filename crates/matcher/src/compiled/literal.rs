//! Required literals of a regex: a set of strings such that every match of the regex
//! contains at least one of them. The compiled matcher feeds these to one Aho-Corasick
//! automaton per object path, so that a `LIKE` or `MATCHES` comparison is evaluated only on
//! values that contain one of its literals.
//!
//! The analysis runs on the regex the evaluator itself runs (`text::Like::source`,
//! `text::Matches::sources`), parsed with `regex-syntax` under the same defaults as the
//! `regex` crate, so the literals are those of exactly the language the evaluator accepts.
//! It is the classic one (as in code-search trigram indexes, simplified to whole literals):
//! every sub-expression gets an *exact* set (the finite set of strings it matches, when that
//! set is small) and a *required* set (every match contains a member); a concatenation
//! crosses adjacent exact sets into longer literals and keeps the most selective set seen, an
//! alternation unions its branches' sets, and anything that can match the empty string
//! requires nothing. Sets are capped ([`MAX_SET`]) so the analysis stays linear in the size of
//! the regex.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Most strings in one exact or required set.
const MAX_SET: usize = 16;
/// Most characters a class may hold and still count as an exact set (`[Kk]` is two
/// literals, `[a-z]` is "any").
const MAX_CLASS: u32 = 4;

type Set = Vec<Vec<u8>>;

#[derive(Default)]
struct Info {
    /// The node matches exactly one of these strings.
    exact: Option<Set>,
    /// Every match of the node contains one of these strings.
    required: Option<Set>,
}

/// The required literals of `source` (a `regex` crate pattern), most selective first found;
/// `None` when no non-empty literal is required (or the source does not parse, which cannot
/// happen for a source the evaluator compiled).
pub(crate) fn required(source: &str) -> Option<Set> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(source)
        .ok()?;
    let info = analyse(&hir);
    better(info.exact, info.required).filter(useful)
}

/// A set is a usable prefilter when it is non-empty and none of its members is empty (an
/// empty member is contained in every value).
fn useful(s: &Set) -> bool {
    !s.is_empty() && s.iter().all(|m| !m.is_empty())
}

/// Selectivity of a set: its shortest member's length, fewer members breaking ties. Longer
/// literals occur in fewer values.
fn score(s: &Set) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = s.iter().map(Vec::len).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(s.len()))
}

fn better(a: Option<Set>, b: Option<Set>) -> Option<Set> {
    match (a.filter(useful), b.filter(useful)) {
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn cross(a: &Set, b: &Set) -> Option<Set> {
    if a.len().saturating_mul(b.len()) > MAX_SET {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Some(out)
}

fn class_set(c: &Class) -> Option<Set> {
    let mut out = Vec::new();
    match c {
        Class::Unicode(u) => {
            let mut n = 0u32;
            for r in u.ranges() {
                n = n.saturating_add(u32::from(r.end()) - u32::from(r.start()) + 1);
                if n > MAX_CLASS {
                    return None;
                }
                for ch in r.start()..=r.end() {
                    let mut buf = [0u8; 4];
                    out.push(ch.encode_utf8(&mut buf).as_bytes().to_vec());
                }
            }
        }
        Class::Bytes(b) => {
            let mut n = 0u32;
            for r in b.ranges() {
                n = n.saturating_add(u32::from(r.end()) - u32::from(r.start()) + 1);
                if n > MAX_CLASS {
                    return None;
                }
                for byte in r.start()..=r.end() {
                    out.push(vec![byte]);
                }
            }
        }
    }
    // An empty class matches nothing; no literal describes that, and "requires nothing" is
    // the safe answer.
    (!out.is_empty()).then_some(out)
}

fn analyse(h: &Hir) -> Info {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Info {
            exact: Some(vec![Vec::new()]),
            required: None,
        },
        HirKind::Literal(l) => Info {
            exact: Some(vec![l.0.to_vec()]),
            required: None,
        },
        HirKind::Class(c) => Info {
            exact: class_set(c),
            required: None,
        },
        HirKind::Capture(c) => analyse(&c.sub),
        HirKind::Repetition(r) => {
            if r.min == 0 {
                return Info::default();
            }
            let sub = analyse(&r.sub);
            if r.min == 1 && r.max == Some(1) {
                return sub;
            }
            // At least one copy of the operand occurs in every match.
            Info {
                exact: None,
                required: better(sub.exact, sub.required),
            }
        }
        HirKind::Concat(parts) => {
            let mut run: Option<Set> = Some(vec![Vec::new()]);
            let mut all_exact = true;
            let mut best: Option<Set> = None;
            for p in parts {
                let info = analyse(p);
                match (&run, &info.exact) {
                    (Some(r), Some(e)) => match cross(r, e) {
                        Some(joined) => {
                            run = Some(joined);
                            continue;
                        }
                        None => {
                            all_exact = false;
                            best = better(best, run.take());
                            run = info.exact.clone();
                        }
                    },
                    (None, Some(e)) => {
                        // After a non-exact part a new run starts with this one.
                        run = Some(e.clone());
                    }
                    (_, None) => {
                        all_exact = false;
                        best = better(best, run.take());
                        best = better(best, info.required);
                        run = Some(vec![Vec::new()]);
                    }
                }
            }
            let exact = if all_exact { run.clone() } else { None };
            Info {
                exact,
                required: better(best, run),
            }
        }
        HirKind::Alternation(branches) => {
            let infos: Vec<Info> = branches.iter().map(analyse).collect();
            let exact = infos.iter().try_fold(Vec::new(), |mut acc: Set, i| {
                for s in i.exact.as_ref()? {
                    if !acc.contains(s) {
                        acc.push(s.clone());
                    }
                }
                (acc.len() <= MAX_SET).then_some(acc)
            });
            let required = infos.into_iter().try_fold(Vec::new(), |mut acc: Set, i| {
                for s in better(i.exact, i.required)? {
                    if !acc.contains(&s) {
                        acc.push(s);
                    }
                }
                (acc.len() <= 4 * MAX_SET).then_some(acc)
            });
            Info { exact, required }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::required;

    fn lits(src: &str) -> Option<Vec<String>> {
        required(src).map(|s| {
            s.into_iter()
                .map(|b| String::from_utf8(b).unwrap())
                .collect()
        })
    }

    #[test]
    fn like_sources() {
        assert_eq!(
            lits(r"(?s)\A.*\.zxabc\.top\z"),
            Some(vec![".zxabc.top".into()])
        );
        assert_eq!(
            lits(r"(?s)\Ahttp://.*\.zxq\....api/.*\z"),
            Some(vec!["http://".into()])
        );
        assert_eq!(lits(r"(?s)\A.*\z"), None);
    }

    #[test]
    fn regex_sources() {
        assert_eq!(
            lits(r"(?s)^https?://zxabcde\.[a-z]+/[a-z]+/[a-f0-9]{8}\.php(?:\n?\z)"),
            Some(vec!["://zxabcde.".into()])
        );
        let alt = lits(r"(?s)^[a-z]+[0-9]{1,2}\.zxq\.(top|xyz)$").unwrap();
        assert!(alt.contains(&".zxq.top".to_owned()), "{alt:?}");
        assert_eq!(lits("a?b?"), None);
        assert_eq!(lits("(?i)ab").map(|v| v.len()), Some(4));
        assert_eq!(lits("foo|bar"), Some(vec!["foo".into(), "bar".into()]));
        assert_eq!(lits("foo|b*"), None);
    }
}
