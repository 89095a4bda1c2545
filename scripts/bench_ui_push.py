#!/usr/bin/env python3
"""bench_ui_push.py [N] [ROUNDS] — times the web UI's push and sightings pages against the
TAXII API in the same run, on one `entente serve` (release binary from $ENTENTE_BIN,
default target/release/entente). Run by hand, never by .ci/run.

- push: ROUNDS envelopes of N fresh indicators (default 500, 10 rounds) through
  `POST /ui/push` (form, CSRF, the page rendered) and as many through the TAXII
  `POST .../objects/`; prints the median wall time of each and the ratio UI/API — what the
  page costs beyond the ingest path it shares with the API.
- sightings: 5000 sightings of 500 indicators by 20 partners, then the median of ROUNDS
  `GET /ui/sightings` against the median of `GET /ui/collections` (the cheapest page).

Needs `requests` (interop venv: target/interop-venv/bin/python).

    ENTENTE_BIN=target/release/entente target/interop-venv/bin/python scripts/bench_ui_push.py
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

TAXII = "application/taxii+json;version=2.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def indicators(n: int) -> list[dict]:
    out = []
    for i in range(n):
        out.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.uuid4()}",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "name": f"bench {i}",
                "pattern": f"[ipv4-addr:value = '10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            }
        )
    return out


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    binary = os.environ.get("ENTENTE_BIN", "target/release/entente")
    work = Path(tempfile.mkdtemp())
    port = free_port()
    proc = subprocess.Popen(
        [binary, "serve", "--data", str(work / "data"), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    token_box: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.match(r"^admin token: (\S+)", line)
            if m and not token_box:
                token_box.append(m.group(1))
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        if not ready.wait(60):
            sys.exit("entente serve printed no admin token")
        token = token_box[0]
        base = f"http://127.0.0.1:{port}"
        api = requests.Session()
        api.headers.update({"Accept": TAXII, "Authorization": f"Bearer {token}"})
        while True:
            try:
                if api.get(base + "/taxii2/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        cols = api.get(base + "/default/collections/", timeout=30).json()["collections"]
        shared = next(c["id"] for c in cols if c["title"] == "shared")
        objects_url = f"{base}/default/collections/{shared}/objects/"

        ui = requests.Session()
        form = ui.get(base + "/ui/signin", timeout=30).text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)
        r = ui.post(
            base + "/ui/signin",
            data={"csrf": csrf, "user": "admin", "token": token},
            allow_redirects=False,
            timeout=30,
        )
        assert r.status_code == 303, r.text
        page = ui.get(base + "/ui/push", timeout=30).text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)

        ui_times, api_times = [], []
        for _ in range(rounds):
            body = json.dumps({"objects": indicators(n)})
            t = time.perf_counter()
            r = api.post(objects_url, data=body, headers={"Content-Type": TAXII}, timeout=120)
            api_times.append(time.perf_counter() - t)
            assert r.status_code == 202 and r.json()["success_count"] == n, r.text
            text = json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": indicators(n)})
            t = time.perf_counter()
            r = ui.post(base + "/ui/push", data={"csrf": csrf, "collection": shared, "text": text}, timeout=120)
            ui_times.append(time.perf_counter() - t)
            assert r.status_code == 200 and f">{n} stored<" in r.text, r.text[:2000]
        print(f"push {n} indicators, median of {rounds}: UI {median_ms(ui_times):.1f} ms, "
              f"TAXII {median_ms(api_times):.1f} ms, ratio UI/TAXII {statistics.median(ui_times) / statistics.median(api_times):.2f}")

        targets = [o["id"] for o in indicators(500)]
        partners = [f"identity--{uuid.uuid4()}" for _ in range(20)]
        batch = [
            {"type": "identity", "spec_version": "2.1", "id": p, "created": "2026-01-01T00:00:00.000Z",
             "modified": "2026-01-01T00:00:00.000Z", "name": f"partner {i}", "identity_class": "organization"}
            for i, p in enumerate(partners)
        ]
        for i in range(5000):
            day = 1 + i % 28
            batch.append({
                "type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                "created": f"2026-02-{day:02}T00:00:00.000Z", "modified": f"2026-02-{day:02}T00:00:00.000Z",
                "sighting_of_ref": targets[i % len(targets)], "created_by_ref": partners[i % len(partners)],
                "count": 1 + i % 5, "first_seen": f"2026-02-{day:02}T00:00:00Z", "last_seen": f"2026-02-{day:02}T01:00:00Z",
            })
        for k in range(0, len(batch), 1000):
            r = api.post(objects_url, data=json.dumps({"objects": batch[k:k + 1000]}), headers={"Content-Type": TAXII}, timeout=120)
            assert r.status_code == 202 and r.json()["failure_count"] == 0, r.text
        sightings, collections = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            r = ui.get(base + "/ui/sightings", timeout=120)
            sightings.append(time.perf_counter() - t)
            assert r.status_code == 200 and "5000 sightings of 500 objects" in r.text, r.text[:2000]
            t = time.perf_counter()
            r = ui.get(base + "/ui/collections", timeout=120)
            collections.append(time.perf_counter() - t)
            assert r.status_code == 200
        print(f"sightings page, 5000 sightings / 500 indicators / 20 partners, median of {rounds}: "
              f"{median_ms(sightings):.1f} ms; collections page {median_ms(collections):.1f} ms; "
              f"ratio {statistics.median(sightings) / statistics.median(collections):.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
