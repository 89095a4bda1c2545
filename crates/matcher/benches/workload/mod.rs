//! A synthetic hunting workload shaped like `shared/bench/pattern_bench_gen.py`'s, generated
//! in Rust so benches and the resident-size example need no files: indicators in its mix
//! (about 70 % single equalities on IPv4, domain, URL and SHA-256, 8 % `IN` lists, 7 %
//! `ISSUBSET`, 5 % `LIKE`, 5 % `MATCHES`, 5 % multi-observation with `WITHIN`/`FOLLOWEDBY`/
//! `REPEATS`) and events in its templates (conn, dns, http, file) with benign values, a given
//! fraction of them carrying an indicator's value. Deterministic for a seed.

#![allow(
    dead_code,
    reason = "shared by the bench and the example, which use different parts"
)]

use jiff::Timestamp;
use matcher::compiled::Indicator;
use serde_json::{Value, json};

/// SplitMix64: a tiny deterministic generator (no `rand` needed for a fixed workload).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn mix(k: u64) -> u64 {
    Rng::new(k ^ 0x5eed).next()
}

fn ioc_ip(k: u64, host: u64) -> String {
    format!(
        "{}.{}.{}.{}",
        45 + (k >> 16) % 40,
        (k >> 8) & 255,
        k & 255,
        1 + host % 250
    )
}

fn ioc_domain(k: u64) -> String {
    format!("zx{k:x}.top")
}

fn ioc_url(k: u64) -> String {
    format!("http://zx{k:x}.xyz/gate/{}.php", k % 977)
}

fn ioc_sha(k: u64) -> String {
    format!(
        "{:016x}{:016x}{:016x}{:016x}",
        mix(k),
        mix(k + 1),
        mix(k + 2),
        mix(k + 3)
    )
}

/// The indicator kinds, by share of 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EqIp,
    EqDomain,
    EqUrl,
    EqSha,
    InIp,
    Cidr,
    LikeDomain,
    MatchesUrl,
    Multi,
}

pub fn kind(k: u64) -> Kind {
    match (k * 37) % 100 {
        0..25 => Kind::EqIp,
        25..45 => Kind::EqDomain,
        45..55 => Kind::EqUrl,
        55..70 => Kind::EqSha,
        70..78 => Kind::InIp,
        78..85 => Kind::Cidr,
        85..90 => Kind::LikeDomain,
        90..95 => Kind::MatchesUrl,
        _ => Kind::Multi,
    }
}

/// The pattern of indicator `k`.
pub fn pattern(k: u64) -> String {
    match kind(k) {
        Kind::EqIp => format!("[ipv4-addr:value = '{}']", ioc_ip(k, 7)),
        Kind::EqDomain => format!("[domain-name:value = '{}']", ioc_domain(k)),
        Kind::EqUrl => format!("[url:value = '{}']", ioc_url(k)),
        Kind::EqSha => format!("[file:hashes.'SHA-256' = '{}']", ioc_sha(k)),
        Kind::InIp => {
            let n = 3 + k % 6;
            let vals: Vec<String> = (0..n).map(|j| format!("'{}'", ioc_ip(k, j))).collect();
            format!("[ipv4-addr:value IN ({})]", vals.join(", "))
        }
        Kind::Cidr => {
            let prefix = [24, 24, 23, 22, 20][(k % 5) as usize];
            format!(
                "[ipv4-addr:value ISSUBSET '{}.{}.{}.0/{prefix}']",
                100 + (k >> 16) % 40,
                (k >> 8) & 255,
                k & 255 & !((1u64 << (24 - prefix)) - 1)
            )
        }
        Kind::LikeDomain => format!("[domain-name:value LIKE '%.zx{k:x}.top']"),
        Kind::MatchesUrl => {
            format!("[url:value MATCHES '^https?://zx{k:x}\\\\.[a-z]+/[a-z]+/[0-9]+\\\\.php$']")
        }
        Kind::Multi => match k % 3 {
            0 => format!(
                "([ipv4-addr:value = '{}'] AND [domain-name:value = '{}']) WITHIN 300 SECONDS",
                ioc_ip(k, 9),
                ioc_domain(k)
            ),
            1 => format!(
                "([file:hashes.'SHA-256' = '{}'] FOLLOWEDBY [url:value = '{}']) WITHIN 600 SECONDS",
                ioc_sha(k),
                ioc_url(k)
            ),
            _ => format!(
                "[domain-name:value = '{}'] REPEATS 3 TIMES WITHIN 3600 SECONDS",
                ioc_domain(k)
            ),
        },
    }
}

/// Indicators `0..n`, generated lazily.
pub fn indicators(n: u64) -> impl Iterator<Item = Indicator> {
    (0..n).map(|k| {
        let mut i = Indicator::new(
            format!(
                "indicator--{:08x}-0000-4000-8000-{:012x}",
                k >> 16,
                mix(k) & 0xffff_ffff_ffff
            ),
            pattern(k),
        );
        i.name = Some(format!("bench {:?} #{k}", kind(k)));
        i.valid_from = Some("2024-01-01T00:00:00Z".into());
        i
    })
}

fn benign_ip(r: &mut Rng) -> String {
    format!("13.{}.{}.{}", r.below(256), r.below(256), 1 + r.below(250))
}

fn benign_domain(r: &mut Rng) -> String {
    const WORDS: &[&str] = &["www", "api", "cdn", "mail", "static", "login", "update"];
    format!(
        "{}.site{}.com",
        WORDS[r.below(WORDS.len() as u64) as usize],
        r.below(5000)
    )
}

/// One event document (STIX 2.1 observed-data with `object_refs` and its SCOs) at `t`; with
/// `plant`, it carries a value of indicator `plant`.
pub fn event(r: &mut Rng, t: Timestamp, plant: Option<u64>) -> Value {
    let mut objects: Vec<Value> = Vec::new();
    let mut n = 0u32;
    let mut id = |ty: &str| {
        n += 1;
        format!("{ty}--00000000-0000-4000-8000-{n:012}")
    };
    let mut ip = benign_ip(r);
    let mut domain = benign_domain(r);
    let mut url = format!("https://{domain}/index.html?q={}", r.below(100_000));
    let mut sha = format!(
        "{:016x}{:016x}{:016x}{:016x}",
        r.next(),
        r.next(),
        r.next(),
        r.next()
    );
    let mut template = r.below(100);
    if let Some(k) = plant {
        match kind(k) {
            Kind::EqIp => ip = ioc_ip(k, 7),
            Kind::InIp => ip = ioc_ip(k, 1),
            Kind::Cidr => ip = format!("{}.{}.{}.9", 100 + (k >> 16) % 40, (k >> 8) & 255, k & 255),
            Kind::EqDomain | Kind::Multi => domain = ioc_domain(k),
            Kind::LikeDomain => domain = format!("cdn.zx{k:x}.top"),
            Kind::EqUrl => url = ioc_url(k),
            Kind::MatchesUrl => url = format!("https://zx{k:x}.xyz/panel/42.php"),
            Kind::EqSha => sha = ioc_sha(k),
        }
        template = match kind(k) {
            Kind::EqIp | Kind::InIp | Kind::Cidr => 0,
            Kind::EqDomain | Kind::LikeDomain | Kind::Multi => 40,
            Kind::EqUrl | Kind::MatchesUrl => 60,
            Kind::EqSha => 90,
        };
    }
    match template {
        0..35 => {
            let src = id("ipv4-addr");
            let dst = id("ipv4-addr");
            objects.push(json!({"type": "ipv4-addr", "id": src, "value": format!("10.0.{}.{}", r.below(256), 1 + r.below(250))}));
            objects.push(json!({"type": "ipv4-addr", "id": dst, "value": ip}));
            objects.push(json!({"type": "network-traffic", "id": id("network-traffic"), "src_ref": src,
                "dst_ref": dst, "dst_port": 443, "src_port": 1024 + r.below(60000), "protocols": ["ipv4", "tcp"]}));
        }
        35..60 => {
            let a = id("ipv4-addr");
            objects.push(json!({"type": "ipv4-addr", "id": a, "value": ip}));
            objects.push(json!({"type": "domain-name", "id": id("domain-name"), "value": domain, "resolves_to_refs": [a]}));
        }
        60..80 => {
            let a = id("ipv4-addr");
            objects.push(json!({"type": "ipv4-addr", "id": a, "value": ip}));
            objects.push(json!({"type": "domain-name", "id": id("domain-name"), "value": domain, "resolves_to_refs": [a]}));
            objects.push(json!({"type": "url", "id": id("url"), "value": url}));
        }
        _ => {
            objects.push(
                json!({"type": "file", "id": id("file"), "hashes": {"SHA-256": sha},
                "name": format!("doc{}.pdf", r.below(100)), "size": r.below(5_000_000)}),
            );
        }
    }
    let stamp = t.to_string();
    let refs: Vec<Value> = objects.iter().map(|o| o["id"].clone()).collect();
    let mut items = vec![
        json!({"type": "observed-data", "id": "observed-data--00000000-0000-4000-8000-000000000000",
        "first_observed": stamp, "last_observed": stamp, "number_observed": 1, "object_refs": refs}),
    ];
    items.extend(objects);
    Value::Array(items)
}

/// Events one every 500 ms from 2024-03-01, a `hit_rate` share carrying the value of a random
/// indicator below `indicators`: an endless, deterministic sequence (see [`events`]).
pub struct EventGen {
    r: Rng,
    i: i64,
    start: Timestamp,
    indicators: u64,
    hit_rate: f64,
}

impl EventGen {
    pub fn new(indicators: u64, hit_rate: f64, seed: u64) -> Self {
        EventGen {
            r: Rng::new(seed),
            i: 0,
            start: "2024-03-01T00:00:00Z"
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH),
            indicators,
            hit_rate,
        }
    }
}

impl Iterator for EventGen {
    type Item = (Value, Timestamp);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.start + jiff::SignedDuration::from_millis(500 * self.i);
        self.i += 1;
        let r = &mut self.r;
        let plant =
            ((r.below(1_000_000) as f64) < self.hit_rate * 1e6).then(|| r.below(self.indicators));
        Some((event(r, t, plant), t))
    }
}

/// The first `count` events of [`EventGen`].
pub fn events(count: usize, indicators: u64, hit_rate: f64, seed: u64) -> Vec<(Value, Timestamp)> {
    EventGen::new(indicators, hit_rate, seed)
        .take(count)
        .collect()
}
