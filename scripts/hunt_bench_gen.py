#!/usr/bin/env python3
"""Equality-heavy `entente hunt` workload at up to millions of indicators (stdlib only).

../shared/bench/pattern_bench_gen.py gives every IPv4 indicator its own /24 block and stops
near 600,000 indicators ("IOC IPv4 space exhausted"). Issue 4's target is stated at
1,000,000 equality-heavy indicators, so this generator hands out single addresses instead
and writes the same files in the same shapes, which bench-hunt.sh and
pattern_bench_ref.py read unchanged:

  indicators.json     a bundle of I indicators, one object per line
  observations.ndjson E lines, each a bundle: observed-data + the SCOs it references
  expected.json       ground truth by construction: per_event (single-event matches, by
                      0-based event index) and stream (multi-observation chains)
  meta.json           parameters and the realised mix

Mix (of I): 92 % single equalities (ipv4-addr 25, domain-name 25, url 15,
file:hashes.'SHA-256' 25, ipv6-addr 2), 2 % `IN` lists of IPv4 addresses, 2 % `ISSUBSET`
/24 networks, 1 % `LIKE` and 1 % `MATCHES` on domain names and URLs, and 2 % patterns over
several observations (AND and FOLLOWEDBY within a window, REPEATS, OR).

Ground truth is exact because every indicator owns values nothing else contains: its own
IPv4 address (or /24) from first octets benign traffic never uses, its own "zq" token in
domain names and URLs, its own random SHA-256. A fraction --hit-rate of the events carries
one indicator's value; multi-observation chains are planted into further events, each chain
within its pattern's window.

Usage: hunt_bench_gen.py --indicators 1000000 --events 1000000 --seed 7 --hit-rate 0.01 \\
           --out DIR
"""
import argparse
import datetime as dt
import json
import os
import random
import uuid

SCO_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 §2.9
BENIGN_OCTETS = [13, 20, 23, 34, 35, 40, 52, 54, 104, 142, 151, 157, 172, 192]
IOC_OCTETS = [5, 37, 45, 46, 77, 80, 91]          # single IOC addresses
CIDR_OCTET = 185                                  # IOC /24 networks
WORDS = ("google microsoft apple amazon cloudfront akamai github office windowsupdate "
         "slack zoom mozilla ubuntu debian python npmjs cdn static assets api login mail "
         "www portal update images corp intranet metrics telemetry auth files media video "
         "news shop store docs support status edge data sync backup").split()
TLDS = ["com", "net", "org", "io", "de", "co.uk", "cloud"]
IOC_TLDS = ["top", "xyz", "info", "ru", "biz", "club", "online"]
PATH_WORDS = "index login admin gate panel api upload download update cfg img js".split()
ALPHA = "abcdefghijklmnop0123456789"               # no q..z: "zq" marks an IOC token

KINDS = [("eq_ipv4", 25), ("eq_domain", 25), ("eq_url", 15), ("eq_sha256", 25),
         ("eq_ipv6", 2), ("in_ipv4", 2), ("cidr_ipv4", 2), ("like_domain", 0.5),
         ("like_url", 0.5), ("match_domain", 0.5), ("match_url", 0.5), ("multi_and", 0.5),
         ("multi_followedby", 0.5), ("multi_repeats", 0.5), ("multi_or", 0.5)]


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def esc(s):
    """STIX pattern string literal: only \\ and ' are escaped."""
    return s.replace("\\", "\\\\").replace("'", "\\'")


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.next_ip = 0
        self.next_net = 0
        # an odd multiplier permutes the 2^24 addresses below each IOC octet
        self.mult = 0x9E3779 | 1

    def uuid4(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    @staticmethod
    def sco_id(typ, value):
        s = json.dumps({"value": value}, separators=(",", ":"), ensure_ascii=False)
        return "%s--%s" % (typ, uuid.uuid5(SCO_NS, s))

    def ioc_ip(self):
        k = self.next_ip
        self.next_ip += 1
        octet, n = IOC_OCTETS[k % len(IOC_OCTETS)], k // len(IOC_OCTETS)
        if n >= 1 << 24:
            raise SystemExit("IOC IPv4 space exhausted")
        n = (n * self.mult) & 0xFFFFFF
        return "%d.%d.%d.%d" % (octet, n >> 16, (n >> 8) & 255, n & 255)

    def ioc_net(self):
        n = self.next_net
        self.next_net += 1
        if n >= 1 << 16:
            raise SystemExit("IOC /24 space exhausted")
        n = (n * 40503) & 0xFFFF
        return CIDR_OCTET, n >> 8, n & 255

    @staticmethod
    def token(k):
        # bijective scramble of k over 26^7 values: unique, random-looking
        k = (k * 15485863 + 7654321) % (len(ALPHA) ** 7)
        s = ""
        for _ in range(7):
            s = ALPHA[k % len(ALPHA)] + s
            k //= len(ALPHA)
        return "zq" + s

    def benign_ip(self):
        r = self.r
        if r.random() < 0.35:
            return "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255))
        return "%d.%d.%d.%d" % (r.choice(BENIGN_OCTETS), r.randrange(256), r.randrange(256),
                                r.randrange(1, 255))

    def benign_domain(self):
        r = self.r
        parts = [r.choice(WORDS) for _ in range(r.choice((1, 2, 2, 3)))]
        return ".".join(parts) + "." + r.choice(TLDS)

    def benign_url(self, domain):
        r = self.r
        path = "/".join(r.choice(WORDS) for _ in range(r.randrange(1, 4)))
        q = "?q=%d" % r.randrange(10 ** 6) if r.random() < 0.3 else ""
        return "https://%s/%s%s" % (domain, path, q)

    def sha256(self):
        return "%064x" % self.r.getrandbits(256)


def make_indicator(g, k, kind):
    """(pattern, spec): spec says what to plant so that an event matches."""
    r = g.r
    tok = g.token(k)

    def domain():
        return "%s%s.%s" % (r.choice(["", "cdn.", "login.", "update.", "mail."]), tok,
                            r.choice(IOC_TLDS))

    def url():
        return "http://%s/%s/%s.php?id=%d" % (domain(), r.choice(PATH_WORDS),
                                              r.choice(PATH_WORDS), r.randrange(10 ** 5))

    if kind == "eq_ipv4":
        v = g.ioc_ip()
        return "[ipv4-addr:value = '%s']" % v, {"obj": "ipv4", "sample": [v]}
    if kind == "eq_ipv6":
        v = "2001:db8:%x:%x::%x" % (k >> 16, k & 0xFFFF, r.randrange(1, 0xFFFF))
        return "[ipv6-addr:value = '%s']" % v, {"obj": "ipv6", "sample": [v]}
    if kind == "eq_domain":
        v = domain()
        return "[domain-name:value = '%s']" % esc(v), {"obj": "domain", "sample": [v]}
    if kind == "eq_url":
        v = url()
        return "[url:value = '%s']" % esc(v), {"obj": "url", "sample": [v]}
    if kind == "eq_sha256":
        v = g.sha256()
        return "[file:hashes.'SHA-256' = '%s']" % v, {"obj": "file", "sample": [v]}
    if kind == "in_ipv4":
        vs = sorted({g.ioc_ip() for _ in range(r.randrange(3, 9))})
        return ("[ipv4-addr:value IN (%s)]" % ", ".join("'%s'" % v for v in vs),
                {"obj": "ipv4", "sample": vs})
    if kind == "cidr_ipv4":
        o, b2, b3 = g.ioc_net()
        vs = ["%d.%d.%d.%d" % (o, b2, b3, r.randrange(1, 255)) for _ in range(4)]
        return ("[ipv4-addr:value ISSUBSET '%d.%d.%d.0/24']" % (o, b2, b3),
                {"obj": "ipv4", "sample": vs})
    if kind == "like_domain":
        tld = r.choice(IOC_TLDS)
        vs = ["%s.%s.%s" % (w, tok, tld) for w in r.sample(WORDS, 3)]
        return "[domain-name:value LIKE '%%.%s.%s']" % (tok, tld), {"obj": "domain", "sample": vs}
    if kind == "like_url":
        w = r.choice(PATH_WORDS)
        vs = ["http://%s.%s.top/%s/%s" % (r.choice(WORDS), tok, w, r.choice(PATH_WORDS))
              for _ in range(3)]
        return ("[url:value LIKE 'http://%%.%s.___/%s/%%']" % (tok, w),
                {"obj": "url", "sample": vs})
    if kind == "match_domain":
        vs = ["%s%d.%s.%s" % (r.choice(WORDS), r.randrange(100), tok, r.choice(IOC_TLDS))
              for _ in range(3)]
        rx = "^[a-z]+[0-9]{1,2}\\.%s\\.(%s)$" % (tok, "|".join(IOC_TLDS))
        return "[domain-name:value MATCHES '%s']" % esc(rx), {"obj": "domain", "sample": vs}
    if kind == "match_url":
        vs = ["http%s://%s.%s/%s/%s.php" % (r.choice(["", "s"]), tok, r.choice(IOC_TLDS),
                                            r.choice(PATH_WORDS),
                                            "".join(r.choice("abcdef0123") for _ in range(8)))
              for _ in range(3)]
        rx = "^https?://%s\\.[a-z]+/[a-z]+/[a-f0-9]{8}\\.php$" % tok
        return "[url:value MATCHES '%s']" % esc(rx), {"obj": "url", "sample": vs}
    ip, dom, u, h = g.ioc_ip(), domain(), url(), g.sha256()
    if kind == "multi_and":
        return ("([ipv4-addr:value = '%s'] AND [domain-name:value = '%s']) WITHIN 600 SECONDS"
                % (ip, dom), {"chain": [("ipv4", ip), ("domain", dom)]})
    if kind == "multi_followedby":
        return ("([file:hashes.'SHA-256' = '%s'] FOLLOWEDBY [url:value = '%s']) WITHIN 600 "
                "SECONDS" % (h, esc(u)), {"chain": [("file", h), ("url", u)]})
    if kind == "multi_repeats":
        n = r.choice([2, 3])
        return ("[domain-name:value = '%s'] REPEATS %d TIMES WITHIN 3600 SECONDS" % (dom, n),
                {"chain": [("domain", dom)] * n})
    if kind == "multi_or":
        return ("[url:value = '%s'] OR [file:hashes.'SHA-256' = '%s']" % (esc(u), h),
                {"or": [("url", u), ("file", h)]})
    raise ValueError(kind)


def build_event(g, t, plant):
    """One bundle line; plant: list of (object kind, value), at most one per kind."""
    r = g.r
    pv = dict(plant or [])
    if "file" in pv:
        tmpl = "file"
    elif "url" in pv:
        tmpl = "http"
    elif "domain" in pv:
        tmpl = r.choice(["dns", "http"])
    elif "ipv4" in pv or "ipv6" in pv:
        tmpl = r.choice(["conn", "dns", "http"])
    else:
        tmpl = r.choices(["conn", "dns", "http", "file"], [35, 25, 20, 20])[0]
    scos = []

    def add(typ, **props):
        o = {"type": typ, "spec_version": "2.1"}
        if "value" in props:
            o["id"] = g.sco_id(typ, props["value"])
        else:
            o["id"] = "%s--%s" % (typ, g.uuid4())
        o.update(props)
        if all(s["id"] != o["id"] for s in scos):
            scos.append(o)
        return o["id"]

    def addr():
        if "ipv6" in pv:
            return add("ipv6-addr", value=pv["ipv6"])
        return add("ipv4-addr", value=pv.get("ipv4") or g.benign_ip())

    def local():
        return add("ipv4-addr", value="10.%d.%d.%d" % (r.randrange(256), r.randrange(256),
                                                       r.randrange(1, 255)))

    if tmpl == "conn":
        src, dst = local(), addr()
        add("network-traffic", src_ref=src, dst_ref=dst,
            dst_port=r.choice([443, 443, 443, 80, 53, 22, 8080]),
            src_port=r.randrange(1024, 65536), protocols=["ipv4", "tcp"])
    elif tmpl == "dns":
        ip = addr()
        add("domain-name", value=pv.get("domain") or g.benign_domain(), resolves_to_refs=[ip])
    elif tmpl == "http":
        u = pv.get("url")
        d = pv.get("domain") or (u.split("/")[2] if u else g.benign_domain())
        ip = addr()
        add("domain-name", value=d, resolves_to_refs=[ip])
        add("url", value=u or g.benign_url(d))
        add("network-traffic", src_ref=local(), dst_ref=ip, dst_port=443,
            src_port=r.randrange(1024, 65536), protocols=["ipv4", "tcp", "tls"])
    else:
        add("file", hashes={"SHA-256": pv.get("file") or g.sha256(),
                            "MD5": "%032x" % r.getrandbits(128)},
            name="%s%d.%s" % (r.choice(WORDS), r.randrange(100),
                              r.choice(["exe", "dll", "pdf", "docx", "js"])),
            size=r.randrange(1000, 5_000_000))
    od = {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--" + g.uuid4(),
          "created": ts(t), "modified": ts(t), "first_observed": ts(t), "last_observed": ts(t),
          "number_observed": 1, "object_refs": [o["id"] for o in scos]}
    return {"type": "bundle", "id": "bundle--" + g.uuid4(), "objects": [od] + scos}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--indicators", type=int, required=True)
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hit-rate", type=float, default=0.01)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    g = Gen(a.seed)
    r = g.r
    os.makedirs(a.out, exist_ok=True)
    t0 = dt.datetime(2024, 3, 1)

    # exact mix by largest remainder, shuffled
    tot = sum(w for _, w in KINDS)
    raw = [(k, a.indicators * w / tot) for k, w in KINDS]
    counts = {k: int(x) for k, x in raw}
    for k, x in sorted(raw, key=lambda kx: -(kx[1] - int(kx[1])))[:a.indicators - sum(counts.values())]:
        counts[k] += 1
    kinds = [k for k, _ in KINDS for _ in range(counts[k])]
    r.shuffle(kinds)
    created = ts(t0 - dt.timedelta(days=30))
    specs = []
    with open(os.path.join(a.out, "indicators.json"), "w") as f:
        f.write('{"type":"bundle","id":"bundle--%s","objects":[\n' % g.uuid4())
        for k, kind in enumerate(kinds):
            pat, spec = make_indicator(g, k, kind)
            iid = "indicator--" + g.uuid4()
            o = {"type": "indicator", "spec_version": "2.1", "id": iid, "created": created,
                 "modified": created, "name": "hunt bench %s #%d" % (kind, k),
                 "indicator_types": ["malicious-activity"], "pattern": pat,
                 "pattern_type": "stix", "pattern_version": "2.1", "valid_from": created}
            f.write(("," if k else "") + json.dumps(o, separators=(",", ":")) + "\n")
            specs.append((iid, kind, spec))
        f.write("]}\n")

    # planting: single-event hits first, then chains into untouched events
    plant, single, stream = {}, {}, []
    events = list(range(a.events))
    r.shuffle(events)
    single_ok = [s for s in specs if "chain" not in s[2]]
    n_hit = min(a.events, round(a.hit_rate * a.events)) if single_ok else 0
    for e in events[:n_hit]:
        iid, kind, s = r.choice(single_ok)
        pl = r.choice(s["or"]) if "or" in s else (s["obj"], r.choice(s["sample"]))
        plant[e] = [pl]
        single[e] = {iid}
    used = set(events[:n_hit])
    chains = [(iid, s["chain"]) for iid, _, s in specs if "chain" in s]
    r.shuffle(chains)
    budget = max(1 if chains and a.hit_rate > 0 else 0, round(0.2 * a.hit_rate * a.events))
    for iid, chain in chains:
        if budget <= 0:
            break
        # events 1-30 apart at 2 per second: well inside the 600 s windows
        start = r.randrange(max(1, a.events - 40 * len(chain)))
        chosen, e = [], start
        while len(chosen) < len(chain) and e < a.events:
            if e not in used:
                chosen.append(e)
            e += r.randrange(1, 30)
        if len(chosen) < len(chain):
            continue
        for e, pl in zip(chosen, chain):
            plant[e] = [pl]
            used.add(e)
        stream.append({"indicator": iid, "events": chosen})
        budget -= len(chain)

    with open(os.path.join(a.out, "observations.ndjson"), "w") as f:
        for e in range(a.events):
            t = t0 + dt.timedelta(milliseconds=500 * e)
            f.write(json.dumps(build_event(g, t, plant.get(e)), separators=(",", ":")) + "\n")
    with open(os.path.join(a.out, "expected.json"), "w") as f:
        json.dump({"per_event": {str(e): sorted(v) for e, v in sorted(single.items())},
                   "stream": stream,
                   "note": "exact by construction (hunt_bench_gen.py)"}, f, indent=1)
    meta = {"indicators": a.indicators, "events": a.events, "seed": a.seed,
            "hit_rate": a.hit_rate, "mix": counts, "events_hitting_alone": len(single),
            "stream_chains": len(stream), "generator": "hunt_bench_gen.py v1"}
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
