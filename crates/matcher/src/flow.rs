//! Exact answers for patterns without time constraints, by maximum flow.
//!
//! When every operator of a pattern is AND (or REPEATS, which §9.5.1 defines as AND-ed
//! copies), a binding is exactly an assignment of each observation expression occurrence to a
//! distinct observation instance that satisfies it: a bipartite b-matching between
//! expressions (demand: how often each occurs) and observations (capacity:
//! `number_observed`). Maximum flow decides it in polynomial time, where a backtracking
//! search can take factorial time to prove that no assignment exists (ten expressions
//! competing for nine observations).
//!
//! For patterns that also have FOLLOWEDBY, WITHIN or START/STOP, dropping those constraints
//! gives a necessary condition: if even the relaxed problem has no solution, the pattern
//! cannot match, and the search is skipped. Patterns with OR are left to the search.

use crate::compile::{Kind, Node};
use crate::search::Cand;

/// The relaxation of a tree: how many observations each leaf needs, and whether the tree had
/// time constraints; `None` when it contains OR.
pub(crate) fn demands(n: &Node, leaves: usize) -> Option<(Vec<u64>, bool)> {
    let mut need = vec![0u64; leaves];
    let timed = walk(n, 1, &mut need)?;
    Some((need, timed))
}

fn walk(n: &Node, times: u64, need: &mut [u64]) -> Option<bool> {
    Some(match &n.kind {
        Kind::Leaf(l) => {
            need[*l] = need[*l].saturating_add(times);
            false
        }
        Kind::And(kids) => {
            let mut timed = false;
            for k in kids {
                timed |= walk(k, times, need)?;
            }
            timed
        }
        Kind::FollowedBy(a, b) => {
            walk(a, times, need)?;
            walk(b, times, need)?;
            true
        }
        Kind::Within(c, _) | Kind::StartStop(c, _, _) => {
            walk(c, times, need)?;
            true
        }
        Kind::Repeats(c, k) => walk(c, times.saturating_mul(*k), need)?,
        Kind::Or(..) => return None,
    })
}

/// Solves the b-matching; on success, how many instances of each observation each leaf uses,
/// as (leaf, observation index, count) triples.
pub(crate) fn assign(
    need: &[u64],
    cands: &[Vec<Cand>],
    capacity: &[u64],
) -> Option<Vec<(usize, usize, u64)>> {
    // Nodes: source, one per leaf, one per observation, sink.
    let leaves = need.len();
    let obs = capacity.len();
    let (source, sink) = (0, leaves + obs + 1);
    let mut g = Graph::new(leaves + obs + 2);
    let total: u64 = need.iter().fold(0u64, |a, &b| a.saturating_add(b));
    for (l, &d) in need.iter().enumerate() {
        if d > 0 {
            g.edge(source, 1 + l, d);
            for c in &cands[l] {
                g.edge(1 + l, 1 + leaves + c.obs as usize, d);
            }
        }
    }
    for (o, &cap) in capacity.iter().enumerate() {
        g.edge(1 + leaves + o, sink, cap.min(total));
    }
    if g.max_flow(source, sink) < total {
        return None;
    }
    let mut out = Vec::new();
    for l in 0..leaves {
        for &e in &g.adj[1 + l] {
            let edge = &g.edges[e];
            // Forward leaf→observation edges only (reverse edges have `orig` 0).
            let used = edge.orig.saturating_sub(edge.cap);
            if edge.to > leaves && edge.to <= leaves + obs && used > 0 {
                out.push((l, edge.to - 1 - leaves, used));
            }
        }
    }
    Some(out)
}

struct Edge {
    to: usize,
    cap: u64,
    orig: u64,
}

/// A residual graph for Edmonds–Karp (BFS augmenting paths). The flow is at most the number
/// of observations one binding needs (bounded by `max_binding_size`), so few augmentations
/// are ever made.
struct Graph {
    edges: Vec<Edge>,
    adj: Vec<Vec<usize>>,
}

impl Graph {
    fn new(n: usize) -> Graph {
        Graph {
            edges: Vec::new(),
            adj: vec![Vec::new(); n],
        }
    }

    fn edge(&mut self, a: usize, b: usize, cap: u64) {
        self.adj[a].push(self.edges.len());
        self.edges.push(Edge {
            to: b,
            cap,
            orig: cap,
        });
        self.adj[b].push(self.edges.len());
        self.edges.push(Edge {
            to: a,
            cap: 0,
            orig: 0,
        });
    }

    fn max_flow(&mut self, s: usize, t: usize) -> u64 {
        let mut flow = 0u64;
        loop {
            // BFS for a shortest augmenting path; `via[v]` is the edge that reached v.
            let mut via = vec![usize::MAX; self.adj.len()];
            let mut queue = std::collections::VecDeque::from([s]);
            let mut seen = vec![false; self.adj.len()];
            seen[s] = true;
            while let Some(v) = queue.pop_front() {
                if v == t {
                    break;
                }
                for &e in &self.adj[v] {
                    let to = self.edges[e].to;
                    if !seen[to] && self.edges[e].cap > 0 {
                        seen[to] = true;
                        via[to] = e;
                        queue.push_back(to);
                    }
                }
            }
            if !seen[t] {
                return flow;
            }
            let mut bottleneck = u64::MAX;
            let mut v = t;
            while v != s {
                let e = via[v];
                bottleneck = bottleneck.min(self.edges[e].cap);
                v = self.edges[e ^ 1].to;
            }
            let mut v = t;
            while v != s {
                let e = via[v];
                self.edges[e].cap -= bottleneck;
                self.edges[e ^ 1].cap += bottleneck;
                v = self.edges[e ^ 1].to;
            }
            flow = flow.saturating_add(bottleneck);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands(list: &[&[u32]]) -> Vec<Vec<Cand>> {
        list.iter()
            .map(|os| {
                os.iter()
                    .map(|&o| Cand {
                        obs: o,
                        roots: vec![0],
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn hall_violation_is_found() {
        // Three expressions share two observations; a fourth has its own.
        let c = cands(&[&[0, 1], &[0, 1], &[0, 1], &[2]]);
        assert!(assign(&[1, 1, 1, 1], &c, &[1, 1, 1]).is_none());
        let a = assign(&[1, 1, 0, 1], &c, &[1, 1, 1]).unwrap();
        assert_eq!(a.iter().map(|x| x.2).sum::<u64>(), 3);
        // Capacity (number_observed) counts.
        assert!(assign(&[1, 1, 1, 1], &c, &[2, 1, 1]).is_some());
    }
}
