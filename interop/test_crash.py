"""SIGKILL of `entente serve` during a bulk POST, on the embedded SQLite store (issue 5).

The server answers POSTs with a `pending` status and stores envelopes on one writer task
(queued ingest, the default on a data directory). The test posts envelope after envelope,
reads each status back (a success is only ever listed after its commit), kills the server
with SIGKILL while envelopes are still queued, starts it again on the same data directory
and pages through the collection: every object a status listed as a success is there,
exactly once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid

import pytest
import requests

from pg_fixtures import backend
from server_fixtures import TAXII, free_port, start_server, stop_server

# The PostgreSQL backend has its own test (test_multi_replica.py, a killed replica); this one
# is about the embedded store, so it runs once, in the SQLite pass of the suite.
pytestmark = pytest.mark.skipif(backend() == "postgres", reason="embedded-store test")

ENVELOPE = 200


def indicator() -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2024-02-01T00:00:00.000Z",
        "modified": "2024-02-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.9']",
        "pattern_type": "stix",
        "valid_from": "2024-02-01T00:00:00Z",
    }


def session(token: str) -> requests.Session:
    s = requests.Session()
    s.headers.update({"Accept": TAXII, "Authorization": "Bearer " + token})
    return s


def shared_collection(s: requests.Session, base: str) -> str:
    cols = s.get(f"{base}/default/collections/", timeout=30).json()["collections"]
    return next(c["id"] for c in cols if c["title"] == "shared")


def all_ids(s: requests.Session, objects_url: str) -> list[str]:
    ids, params = [], {"limit": 1000}
    while True:
        r = s.get(objects_url, params=params, timeout=60)
        assert r.status_code == 200, r.text[:300]
        env = r.json()
        ids += [o["id"] for o in env.get("objects", [])]
        if not env.get("more"):
            return ids
        params = {"limit": 1000, "next": env["next"]}


def test_sigkill_mid_ingest_loses_no_acknowledged_object(entente_bin, tmp_path):
    data = tmp_path / "data"
    proc, server, token = start_server(entente_bin, data)
    restarted = None
    try:
        s = session(token)
        collection = shared_collection(s, server.base)
        objects_url = f"{server.base}/default/collections/{collection}/objects/"
        acknowledged: set[str] = set()
        queued: list[str] = []  # status ids not yet seen complete, oldest first
        posted = 0
        while len(acknowledged) < 5 * ENVELOPE:
            body = json.dumps({"objects": [indicator() for _ in range(ENVELOPE)]})
            r = s.post(objects_url, data=body, headers={"Content-Type": TAXII}, timeout=60)
            assert r.status_code == 202, r.text[:300]
            posted += 1
            queued.append(r.json()["id"])
            # Read back the status of the envelope posted two before this one.
            if len(queued) > 2:
                sid = queued.pop(0)
                st = s.get(f"{server.base}/default/status/{sid}/", timeout=60).json()
                assert st["status"] == "complete", st
                acknowledged.update(d["id"] for d in st["successes"])
        # Two more envelopes, answered `pending`, then the kill while they are queued.
        for _ in range(2):
            body = json.dumps({"objects": [indicator() for _ in range(ENVELOPE)]})
            r = s.post(objects_url, data=body, headers={"Content-Type": TAXII}, timeout=60)
            assert r.status_code == 202
            assert r.json()["status"] == "pending", "queued ingest is the default on a data dir"
            posted += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)
        assert proc.returncode == -signal.SIGKILL

        port = free_port()
        restarted = subprocess.Popen(
            [str(entente_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if s.get(f"{base}/taxii2/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the restarted server never answered"
            time.sleep(0.2)
        ids = all_ids(s, f"{base}/default/collections/{collection}/objects/")
        assert len(ids) == len(set(ids)), "an object stored twice"
        missing = acknowledged - set(ids)
        assert not missing, f"{len(missing)} acknowledged objects lost with the killed server"
        # Envelopes are all-or-nothing, and nothing was stored that was not posted.
        assert len(ids) % ENVELOPE == 0 and len(ids) <= posted * ENVELOPE
    finally:
        stop_server(proc)
        if restarted is not None:
            stop_server(restarted)
