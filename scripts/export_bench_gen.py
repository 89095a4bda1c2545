#!/usr/bin/env python3
"""Generates the `entente export` benchmark workload: N STIX 2.1 indicators as NDJSON.

Mix (by a seeded RNG, so a seed always gives the same file): 40% IPv4 addresses, 30% domain
names, 15% URLs, 10% SHA-256, 5% MD5; of those, 3% are not exportable (an AND with a port)
and 1% revoked; 20 producer identities come first. Prints the expected counts as JSON on
stdout so the benchmark can check the export's summary line.

    python3 scripts/export_bench_gen.py --indicators 1000000 --seed 7 --out indicators.ndjson
"""

from __future__ import annotations

import argparse
import json
import random


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--indicators", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    identities = [f"identity--{i:08x}-0000-4000-8000-000000000000" for i in range(20)]
    counts = {"indicators": a.indicators, "exported": 0, "not_exportable": 0, "revoked": 0}
    with open(a.out, "w") as out:
        for i, ident in enumerate(identities):
            out.write(json.dumps({
                "type": "identity", "spec_version": "2.1", "id": ident,
                "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
                "name": f"Producer {i}", "identity_class": "organization"}) + "\n")
        for n in range(a.indicators):
            r = rng.random()
            if r < 0.40:
                value = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                pattern = f"[ipv4-addr:value = '{value}']"
            elif r < 0.70:
                pattern = f"[domain-name:value = 'h{rng.getrandbits(40):x}.example{n % 97}.test']"
            elif r < 0.85:
                pattern = (f"[url:value = 'http://d{rng.getrandbits(32):x}.test/p/{rng.getrandbits(32):x}"
                           f"?q={n}']")
            elif r < 0.95:
                pattern = f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']"
            else:
                pattern = f"[file:hashes.MD5 = '{rng.getrandbits(128):032x}']"
            extra = {}
            s = rng.random()
            if s < 0.03:
                pattern = f"[network-traffic:dst_ref.value = '10.0.0.{n % 250}' AND network-traffic:dst_port = {n % 65535}]"
                counts["not_exportable"] += 1
            elif s < 0.04:
                extra["revoked"] = True
                counts["revoked"] += 1
            else:
                counts["exported"] += 1
            obj = {
                "type": "indicator", "spec_version": "2.1",
                "id": f"indicator--{n:08x}-0000-4000-8000-{rng.getrandbits(48):012x}",
                "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
                "created_by_ref": identities[n % len(identities)],
                "name": f"generated {n}", "pattern": pattern, "pattern_type": "stix",
                "valid_from": "2025-01-01T00:00:00Z", **extra,
            }
            out.write(json.dumps(obj) + "\n")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
