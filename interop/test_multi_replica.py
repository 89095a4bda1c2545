"""Several `entente serve` replicas on one PostgreSQL database (issue #7, item 5).

Three replicas start together on a fresh database (`pg_fixtures.fresh_database`); writers
POST envelopes through all of them at once while readers page the collection through all of
them (each request of a reader goes to the next replica, so `next` tokens and `added_after`
cursors cross replicas). Afterwards:

- every acknowledged object (a `successes` entry of a status resource) is in the
  collection exactly once, and nothing else is;
- every reader saw every object exactly once, in date_added order (checked against the
  manifest's date_added), and the `X-TAXII-Date-Added-First/Last` headers of its pages
  never went backwards;
- every replica serves the same signed checkpoint, and `entente verify` accepts the log
  through each replica in turn with one state file (so the checkpoints of different
  replicas are consistent with each other), and finds every object included.

A second test kills one replica with SIGKILL while writers are POSTing through it and shows
that every acknowledged object survived, through another replica.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from pg_fixtures import pg_database  # noqa: F401  (fixture)
from server_fixtures import TAXII, free_port

START_TIMEOUT = 90.0
WRITERS_PER_REPLICA = 2
ENVELOPES_PER_WRITER = 8
OBJECTS_PER_ENVELOPE = 25
READERS = 3
PAGE = 37  # deliberately not a divisor of the envelope size


@dataclass
class Replica:
    proc: subprocess.Popen
    base: str
    output: list[str] = field(default_factory=list)
    token: str | None = None
    vkey: str | None = None

    def tail(self) -> str:
        return "".join(self.output[-40:])


def start_replicas(bin_path: Path, url: str, n: int) -> list[Replica]:
    """Starts `n` replicas at the same moment on `url` and waits until each serves."""
    replicas = []
    for _ in range(n):
        port = free_port()
        proc = subprocess.Popen(
            [str(bin_path), "serve", "--database", url, "--listen", f"127.0.0.1:{port}",
             "--log-origin", "entente/replicas.test", "--db-max-connections", "8"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        replicas.append(Replica(proc=proc, base=f"http://127.0.0.1:{port}"))
    ready = [threading.Event() for _ in replicas]

    def pump(r: Replica, done: threading.Event) -> None:
        assert r.proc.stdout is not None
        for line in r.proc.stdout:
            r.output.append(line)
            if m := re.match(r"^admin token: (\S+)\s*$", line):
                r.token = m.group(1)
            if m := re.match(r"^log key: (\S+)\s*$", line):
                r.vkey = m.group(1)
            if re.match(r"^http://\S+/taxii2/\s*$", line):
                done.set()

    for r, done in zip(replicas, ready):
        threading.Thread(target=pump, args=(r, done), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    for r, done in zip(replicas, ready):
        while not done.wait(0.2):
            if r.proc.poll() is not None or time.monotonic() > deadline:
                stop_all(replicas)
                pytest.fail(f"a replica did not start; output:\n{r.tail()}", pytrace=False)
    return replicas


def stop_all(replicas: list[Replica]) -> None:
    for r in replicas:
        if r.proc.poll() is None:
            r.proc.terminate()
    for r in replicas:
        try:
            r.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            r.proc.kill()
            r.proc.wait(timeout=20)


def session(token: str) -> requests.Session:
    s = requests.Session()
    s.headers["Accept"] = TAXII
    s.headers["Authorization"] = "Bearer " + token
    return s


def shared_collection(base: str, token: str) -> str:
    s = session(token)
    cols = s.get(f"{base}/default/collections/", timeout=30)
    cols.raise_for_status()
    (cid,) = [c["id"] for c in cols.json()["collections"] if c["title"] == "shared"]
    return cid


def indicator(writer: int, envelope: int, i: int) -> dict:
    n = (writer * 1000 + envelope) * 100 + i
    stamp = "2026-01-01T00:00:00.000Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "name": f"replica test {writer}/{envelope}/{i}",
        "pattern": f"[ipv4-addr:value = '10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}']",
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": stamp,
    }


@dataclass
class Writer:
    """POSTs envelopes through the given replicas in turn; keeps what was acknowledged."""

    number: int
    bases: list[str]
    token: str
    objects_url: str  # relative to a base: /default/collections/<id>/objects/
    acknowledged: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    refused: int = 0  # POSTs that got no answer (a replica killed under them)

    def run(self, envelopes: int, tolerate_dead: bool = False) -> None:
        s = session(self.token)
        for e in range(envelopes):
            base = self.bases[(self.number + e) % len(self.bases)]
            objs = [indicator(self.number, e, i) for i in range(OBJECTS_PER_ENVELOPE)]
            body = json.dumps({"objects": objs})
            try:
                r = s.post(base + self.objects_url, data=body,
                           headers={"Content-Type": TAXII}, timeout=120)
            except requests.RequestException as err:
                if tolerate_dead:
                    self.refused += 1
                    continue
                self.errors.append(f"POST via {base}: {err}")
                continue
            if r.status_code not in (200, 202):
                self.errors.append(f"POST via {base}: HTTP {r.status_code} {r.text[:200]}")
                continue
            st = r.json()
            if st.get("status") != "complete" or st.get("failure_count", 0):
                self.errors.append(f"POST via {base}: status {json.dumps(st)[:300]}")
            for ok in st.get("successes", []):
                self.acknowledged.add(ok["id"])


@dataclass
class Reader:
    """Pages the collection while it is written, each request through the next replica."""

    number: int
    bases: list[str]
    token: str
    objects_url: str
    writers_done: threading.Event
    seen: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0

    def run(self) -> None:
        s = session(self.token)
        cursor: str | None = None  # X-TAXII-Date-Added-Last of the last non-empty page
        next_token: str | None = None
        while True:
            final = self.writers_done.is_set() and next_token is None
            params: dict[str, str | int] = {"limit": PAGE}
            if next_token is not None:
                params["next"] = next_token
            elif cursor is not None:
                params["added_after"] = cursor
            base = self.bases[(self.number + self.requests) % len(self.bases)]
            self.requests += 1
            try:
                r = s.get(base + self.objects_url, params=params, timeout=60)
            except requests.RequestException as err:
                self.errors.append(f"GET via {base}: {err}")
                return
            if r.status_code != 200:
                self.errors.append(f"GET via {base} {params}: HTTP {r.status_code} {r.text[:200]}")
                return
            env = r.json()
            objs = env.get("objects", [])
            if objs:
                first = r.headers.get("X-TAXII-Date-Added-First")
                last = r.headers.get("X-TAXII-Date-Added-Last")
                if not first or not last:
                    self.errors.append(f"page without X-TAXII-Date-Added headers via {base}")
                    return
                if cursor is not None and not parse_ts(first) > parse_ts(cursor):
                    self.errors.append(f"page via {base} starts at {first}, not after {cursor}")
                if parse_ts(last) < parse_ts(first):
                    self.errors.append(f"page via {base}: last {last} before first {first}")
                cursor = last
                self.seen.extend(o["id"] for o in objs)
            if env.get("more"):
                next_token = env.get("next")
                if next_token is None:
                    self.errors.append(f"more without next via {base}")
                    return
                continue
            next_token = None
            if final:
                # This request started after every write was acknowledged and found
                # nothing more: the reader has caught up for good.
                return
            if not objs:
                time.sleep(0.02)


def parse_ts(value: str) -> tuple[str, str]:
    """A TAXII timestamp as a comparable value (fraction digits padded to microseconds)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", value)
    assert m, f"not a timestamp: {value}"
    return m.group(1), (m.group(2) or "").ljust(9, "0")


def manifest_order(base: str, token: str, collection: str) -> list[tuple[str, str]]:
    """(date_added, id) of every object, through the manifest endpoint, paged."""
    s = session(token)
    out, next_token = [], None
    while True:
        params: dict[str, str | int] = {"limit": 500}
        if next_token:
            params["next"] = next_token
        r = s.get(f"{base}/default/collections/{collection}/manifest/", params=params, timeout=60)
        assert r.status_code == 200, r.text[:300]
        env = r.json()
        out.extend((o["date_added"], o["id"]) for o in env.get("objects", []))
        if not env.get("more"):
            return out
        next_token = env["next"]


def run_threads(targets) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
        assert not t.is_alive(), "a writer or reader did not finish within 600 s"


def test_replicas_share_one_store_and_one_log(entente_bin, pg_database, tmp_path):  # noqa: F811
    replicas = start_replicas(entente_bin, pg_database, 3)
    try:
        tokens = [r.token for r in replicas if r.token]
        assert len(tokens) == 1, "exactly one of the replicas starting together sets up " \
            f"the installation and prints its admin token; got {len(tokens)}"
        token = tokens[0]
        vkeys = {r.vkey for r in replicas}
        assert len(vkeys) == 1 and None not in vkeys, f"replicas print different log keys: {vkeys}"
        (vkey,) = vkeys
        bases = [r.base for r in replicas]
        collection = shared_collection(bases[0], token)
        objects_url = f"/default/collections/{collection}/objects/"

        writers = [Writer(i, bases, token, objects_url)
                   for i in range(WRITERS_PER_REPLICA * len(replicas))]
        done = threading.Event()
        readers = [Reader(i, bases, token, objects_url, done) for i in range(READERS)]

        def write_all() -> None:
            run_threads([lambda w=w: w.run(ENVELOPES_PER_WRITER) for w in writers])
            done.set()

        run_threads([write_all, *[r.run for r in readers]])

        errors = [e for w in writers for e in w.errors] + [e for r in readers for e in r.errors]
        assert not errors, "\n".join(errors[:20])
        acknowledged = set().union(*(w.acknowledged for w in writers))
        expected = len(writers) * ENVELOPES_PER_WRITER * OBJECTS_PER_ENVELOPE
        assert len(acknowledged) == expected

        # Stored: every acknowledged object exactly once, in one date_added order that every
        # replica reports alike.
        orders = [manifest_order(b, token, collection) for b in bases]
        assert orders[0] == orders[1] == orders[2], "replicas disagree on the collection"
        ids = [i for _, i in orders[0]]
        assert len(ids) == len(set(ids)), "an object is stored twice"
        assert set(ids) == acknowledged
        dates = [parse_ts(d) for d, _ in orders[0]]
        assert all(a < b for a, b in zip(dates, dates[1:])), "date_added is not strictly increasing"
        position = {i: n for n, i in enumerate(ids)}

        for r in readers:
            assert len(r.seen) == len(set(r.seen)), f"reader {r.number} saw an object twice"
            assert set(r.seen) == acknowledged, f"reader {r.number} missed " \
                f"{len(acknowledged - set(r.seen))} objects"
            assert [position[i] for i in r.seen] == sorted(position[i] for i in r.seen), \
                f"reader {r.number} saw objects out of date_added order"
            assert r.requests > len(bases), "each reader used every replica"

        # The log: one linear log. After the signing interval every replica serves the
        # same checkpoint (same key, same tree; Ed25519 is deterministic).
        time.sleep(1.5)
        notes = [requests.get(b + "/log/checkpoint", timeout=30) for b in bases]
        assert all(n.status_code == 200 for n in notes)
        assert len({n.text for n in notes}) == 1, "replicas serve different checkpoints:\n" + \
            "\n".join(n.text for n in notes)
        size = int(notes[0].text.splitlines()[1])
        assert size >= expected, f"log has {size} entries for {expected} objects"

        # One state file for all replicas: each run checks the replica's checkpoint against
        # the one the previous replica served. The first run also checks every object's
        # inclusion (the slow part); the others check signature and consistency.
        state = tmp_path / "verify-state"
        for n, b in enumerate(bases):
            objects = ["--collection", collection, "--token", token] if n == 0 else []
            p = subprocess.run(
                [str(entente_bin), "verify", "--server", b, "--key", vkey, "--state", str(state),
                 *objects],
                capture_output=True, text=True, timeout=600, check=False,
            )
            assert p.returncode == 0, f"verify via {b} exited {p.returncode}: {p.stderr.strip()}"
    finally:
        stop_all(replicas)


def test_killed_replica_loses_no_acknowledged_object(entente_bin, pg_database):  # noqa: F811
    replicas = start_replicas(entente_bin, pg_database, 2)
    try:
        (token,) = [r.token for r in replicas if r.token]
        bases = [r.base for r in replicas]
        collection = shared_collection(bases[0], token)
        objects_url = f"/default/collections/{collection}/objects/"
        victim = replicas[1]
        # Writers POST only through the victim, so the kill lands mid-write.
        writers = [Writer(i, [victim.base], token, objects_url) for i in range(4)]

        def kill_when_busy() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if sum(len(w.acknowledged) for w in writers) >= 3 * OBJECTS_PER_ENVELOPE:
                    break
                time.sleep(0.01)
            victim.proc.send_signal(signal.SIGKILL)

        run_threads([*[lambda w=w: w.run(40, tolerate_dead=True) for w in writers], kill_when_busy])
        victim.proc.wait(timeout=20)
        assert victim.proc.returncode == -signal.SIGKILL
        refused = sum(w.refused for w in writers)
        assert refused > 0, "the kill landed after the writers had finished"
        acknowledged = set().union(*(w.acknowledged for w in writers))
        assert acknowledged, "nothing was acknowledged before the kill"

        ids = [i for _, i in manifest_order(replicas[0].base, token, collection)]
        assert len(ids) == len(set(ids))
        missing = acknowledged - set(ids)
        assert not missing, f"{len(missing)} acknowledged objects lost with the killed replica"
        # Envelopes are all-or-nothing: what is stored beyond the acknowledged objects is
        # whole envelopes committed just before the kill whose answers were lost.
        assert (len(ids) - len(acknowledged)) % OBJECTS_PER_ENVELOPE == 0
    finally:
        stop_all(replicas)
