"""`entente sync` from the OASIS reference TAXII server (medallion) and from another
`entente serve` that receives writes during the sync.

Objects are written with the OASIS `stix2` library and put into the source through the OASIS
`taxii2-client`; `entente sync` copies them into a local data directory; what arrived is read
back through a real `entente serve` on that directory (`entente pull --all-versions`) and
compared, as (id, version) pairs and as objects, with what the source holds: every version
must arrive exactly once, and a second sync must fetch nothing new. The same sync also
runs into a PostgreSQL store (`--database URL`, a fresh database from `pg_fixtures`).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import stix2
from taxii2client.v21 import Collection, as_pages

from pg_fixtures import pg_database  # noqa: F401  (fixture)

MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
MEDALLION_USER, MEDALLION_PASSWORD = "admin", "Password0"
START_TIMEOUT = 60.0


class Bearer(requests.auth.AuthBase):
    """An entente API token for the OASIS client, whose own auth is Basic."""

    def __init__(self, token: str):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = "Bearer " + self.token
        return r


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EntenteServer:
    """A running `entente serve` on its own data directory."""

    def __init__(self, entente_bin: Path, data: Path, database: str | None = None):
        self.data = data
        # How `entente sync` reaches this store directly.
        self.store = ["--database", database] if database else ["--data", str(data)]
        port = free_port()
        self.proc = subprocess.Popen(
            [str(entente_bin), "serve", "--listen", f"127.0.0.1:{port}", *self.store],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.token = self.key = ""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            line = self.proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"entente serve on {data} did not start")
            line = line.strip()
            if line.startswith("admin token: "):
                self.token = line.removeprefix("admin token: ")
            elif line.startswith("log key: "):
                self.key = line.removeprefix("log key: ")
            elif line.startswith("http://"):
                self.base = line.removesuffix("/taxii2/").rstrip("/")
                break
        # The collection `shared` the first start creates, found as any TAXII client would.
        r = requests.get(
            f"{self.base}/default/collections/",
            headers={"Accept": "application/taxii+json;version=2.1"},
            auth=Bearer(self.token),
            timeout=30,
        )
        r.raise_for_status()
        (self.shared,) = [c["id"] for c in r.json()["collections"] if c["title"] == "shared"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def serve(entente_bin, tmp_path):
    started = []

    def start(name: str, database: str | None = None) -> EntenteServer:
        s = EntenteServer(entente_bin, tmp_path / name, database)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def medallion(tmp_path):
    """medallion 3.0.0 with its memory backend, as ../shared/bench/medallion_up.sh runs it:
    API root `api1` with a read/write collection; pages of at most 10 objects so that a
    sync must follow medallion's paging."""
    exe = Path(sys.executable).parent / "medallion"
    if not exe.is_file():
        pytest.fail(f"{exe} is missing: medallion is in interop/requirements.txt", pytrace=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    folder = tmp_path / "medallion"
    folder.mkdir()

    def collection(cid, title, rw):
        return {
            "id": cid, "title": title, "description": title, "can_read": rw, "can_write": rw,
            "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": [],
        }

    data = {
        "/discovery": {
            "title": "medallion", "description": "reference", "default": f"{base}/api1/",
            "api_roots": [f"{base}/api1/"],
        },
        "api1": {
            "information": {
                "title": "interop", "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10485760,
            },
            "status": [],
            "collections": [collection(MEDALLION_COLLECTION, "rw", True)],
        },
    }
    (folder / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
            "filename": str(folder / "data.json"),
        },
        "users": {MEDALLION_USER: MEDALLION_PASSWORD},
        "taxii": {"max_page_size": 10},
    }
    (folder / "config.json").write_text(json.dumps(config))
    log = open(folder / "server.log", "w")
    proc = subprocess.Popen(
        [str(exe), "--host", "127.0.0.1", "--port", str(port), "--log-level", "ERROR",
         str(folder / "config.json")],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"{base}/api1/collections/{MEDALLION_COLLECTION}/"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            Collection(url, user=MEDALLION_USER, password=MEDALLION_PASSWORD).refresh()
            break
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"medallion did not start: {(folder / 'server.log').read_text()}")
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def written_with_stix2() -> list:
    """A small graph written with the OASIS library, with a second version of one object."""
    identity = stix2.Identity(name="ACME CERT", identity_class="organization")
    objects = [identity]
    for n in range(23):
        objects.append(
            stix2.Indicator(
                name=f"bad host {n}",
                pattern=f"[ipv4-addr:value = '203.0.113.{n + 1}']",
                pattern_type="stix",
                valid_from="2024-05-01T00:00:00Z",
                created_by_ref=identity.id,
            )
        )
    malware = stix2.Malware(name="Example RAT", is_family=True, created_by_ref=identity.id)
    objects.append(malware)
    objects += [
        stix2.Relationship(objects[i], "indicates", malware, created_by_ref=identity.id)
        for i in range(1, 6)
    ]
    objects.append(objects[1].new_version(name="bad host 0 (confirmed)", confidence=90))
    return objects


def version_of(o: dict) -> tuple[str, str]:
    return (o["id"], o.get("modified") or o.get("created"))


def sync(entente, *args) -> tuple[int, int, int, int]:
    r = entente("sync", *args)
    assert r.returncode == 0, r.stderr
    last = [l for l in r.stdout.splitlines() if l.startswith("fetched ")][-1]
    return tuple(int(part.rsplit(" ", 1)[1]) for part in last.split(", "))


def pulled(entente, server: EntenteServer, out: Path) -> list[dict]:
    """Everything the server's collection `shared` holds, every version, through TAXII."""
    r = entente(
        "pull", "--server", server.base, "--token", server.token,
        "--collection", server.shared, "--all-versions", "--out", out,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())["objects"]


def test_sync_from_medallion_brings_every_version_once(entente, medallion, serve, tmp_path):
    objects = written_with_stix2()
    source = Collection(
        f"{medallion}/api1/collections/{MEDALLION_COLLECTION}/",
        user=MEDALLION_USER, password=MEDALLION_PASSWORD,
    )
    # Three envelopes, so that the objects get different date_added values.
    for part in (objects[:10], objects[10:25], objects[25:]):
        status = source.add_objects(stix2.Bundle(objects=part, allow_custom=True).serialize())
        assert status.status == "complete" and status.failure_count == 0, status
    in_medallion = []
    for page in as_pages(source.get_objects, per_request=10, version="all"):
        in_medallion += page.get("objects", [])
    expected = {version_of(json.loads(o.serialize())) for o in objects}
    assert sorted(version_of(o) for o in in_medallion) == sorted(expected)

    target = serve("target")
    state = tmp_path / "sync.json"
    args = [
        "--from", f"{medallion}/taxii2/", "--from-user", MEDALLION_USER,
        "--from-password", MEDALLION_PASSWORD, "--from-collection", MEDALLION_COLLECTION,
        *target.store, "--collection", target.shared, "--state", state, "--limit", "7",
    ]
    fetched, created, unchanged, refused = sync(entente, *args)
    assert (created, refused) == (len(expected), 0)
    assert fetched == created + unchanged

    got = pulled(entente, target, tmp_path / "got.json")
    assert sorted(version_of(o) for o in got) == sorted(expected), "each version exactly once"
    by_version = {version_of(o): o for o in in_medallion}
    for o in got:
        assert o == by_version[version_of(o)], f"{o['id']} changed on the way"

    # Incremental: nothing new at the source, nothing fetched (added_after is exclusive).
    assert sync(entente, *args) == (0, 0, 0, 0)

    # New objects at the source arrive on the next pass, and only they are created.
    more = [stix2.Indicator(name=f"late {n}", pattern=f"[domain-name:value = 'late{n}.example']",
                            pattern_type="stix", valid_from="2024-05-02T00:00:00Z")
            for n in range(4)]
    source.add_objects(stix2.Bundle(objects=more).serialize())
    assert sync(entente, *args) == (4, 4, 0, 0)
    got = pulled(entente, target, tmp_path / "got2.json")
    assert len(got) == len(expected) + 4
    assert len({version_of(o) for o in got}) == len(got)


def test_sync_from_entente_receiving_writes(entente, serve, tmp_path):
    source = serve("source")
    target = serve("target")
    collection = Collection(
        f"{source.base}/default/collections/{source.shared}/", auth=Bearer(source.token)
    )
    written: list[dict] = []

    def write(batches: int):
        for b in range(batches):
            part = [stix2.Indicator(name=f"batch {b} n {n}",
                                    pattern=f"[ipv4-addr:value = '198.51.100.{n + 1}']",
                                    pattern_type="stix", valid_from="2024-05-01T00:00:00Z")
                    for n in range(12)]
            if written:
                part.append(stix2.parse(json.dumps(written[b]), allow_custom=True)
                            .new_version(confidence=50 + b))
            status = collection.add_objects(stix2.Bundle(objects=part).serialize())
            assert status.failure_count == 0, status
            written.extend(json.loads(o.serialize()) for o in part)
            time.sleep(0.1)

    write(2)
    writer = threading.Thread(target=write, args=(8,))
    writer.start()
    state = tmp_path / "sync.json"
    args = [
        "--from", source.base, "--from-token", source.token, "--from-log-key", source.key,
        "--from-collection", source.shared, *target.store,
        "--collection", target.shared, "--state", state, "--limit", "9",
    ]
    created_total = passes = 0
    while True:
        done = not writer.is_alive()
        fetched, created, unchanged, refused = sync(entente, *args)
        assert refused == 0 and fetched == created + unchanged
        created_total += created
        passes += 1
        if done:
            break
    writer.join()
    assert passes >= 2, "the sync ran while the source was written to"

    expected = sorted(version_of(o) for o in written)
    got = pulled(entente, target, tmp_path / "got.json")
    assert sorted(version_of(o) for o in got) == expected, "each version exactly once"
    assert created_total == len(expected)
    from_source = pulled(entente, source, tmp_path / "source.json")
    assert sorted(json.dumps(o, sort_keys=True) for o in got) == sorted(
        json.dumps(o, sort_keys=True) for o in from_source
    )


def test_sync_into_postgresql(entente, serve, pg_database, tmp_path):  # noqa: F811
    """`--database URL`: the same sync into a PostgreSQL store (the target server runs on it)."""
    source = serve("source")
    target = serve("target", database=pg_database)
    collection = Collection(
        f"{source.base}/default/collections/{source.shared}/", auth=Bearer(source.token)
    )
    objects = written_with_stix2()
    status = collection.add_objects(stix2.Bundle(objects=objects).serialize())
    assert status.failure_count == 0, status
    args = [
        "--from", source.base, "--from-token", source.token,
        "--from-collection", source.shared, *target.store,
        "--collection", target.shared, "--state", tmp_path / "sync.json", "--limit", "10",
    ]
    assert sync(entente, *args) == (len(objects), len(objects), 0, 0)
    got = pulled(entente, target, tmp_path / "got.json")
    assert sorted(version_of(o) for o in got) == sorted(
        version_of(json.loads(o.serialize())) for o in objects
    )
    assert sync(entente, *args) == (0, 0, 0, 0)
