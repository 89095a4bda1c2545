"""`entente import` output judged by the OASIS validator (stix2-validator).

Imports the CIRCL MISP feed, a hand-written MISP event with composite attributes, objects,
galaxies and TLP tags (the `feeds` crate's test fixture), and two maltrail trail files into a
fresh local store, reads every stored object back from the store's SQLite file, and runs the
reference validator over each one: everything entente emits must be valid STIX 2.1 to the
reference too. The import's summary line must also add up.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from stix2validator import ValidationOptions, validate_instance

from conftest import INTEROP_DIR

MIXED_EVENT = INTEROP_DIR.parent / "crates/feeds/tests/data/misp-event-mixed.json"
SUMMARY = re.compile(r"^created (\d+), updated (\d+), unchanged (\d+), refused (\d+)$")


def _collection(entente, data: Path) -> str:
    assert entente("admin", "--data", data, "root", "create", "default").returncode == 0
    made = entente("admin", "--data", data, "collection", "create", "default", "imports")
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def _import(entente, data: Path, cid: str, *args) -> tuple[int, int, int, int]:
    run = entente("import", *args[:1], "--data", data, "--collection", cid, *args[1:])
    assert run.returncode in (0, 1), run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1, run.stdout
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    refused = int(match.group(4))
    # Exit 1 exactly when something was refused, and each refusal is on stderr.
    assert (run.returncode == 1) == (refused > 0)
    assert run.stderr.count("refused: ") >= refused
    return tuple(int(g) for g in match.groups())


def test_imported_objects_are_valid_to_the_reference(entente, shared_dir: Path, tmp_path: Path):
    data = tmp_path / "data"
    cid = _collection(entente, data)
    feed = shared_dir / "data/misp-feed-circl/feed"
    created, _, _, refused = _import(entente, data, cid, "misp-feed", feed)
    assert created > 125 and refused == 0
    created_mixed, _, _, _ = _import(entente, data, cid, "misp-feed", MIXED_EVENT)
    assert created_mixed > 10
    trails = [shared_dir / "data/maltrail/static/malware" / f for f in ("zeus.txt", "emotet.txt")]
    trails = [t for t in trails if t.exists()]
    assert trails, "maltrail trail files missing"
    _import(entente, data, cid, "iocs", *trails)

    # Again: nothing new.
    again = _import(entente, data, cid, "misp-feed", feed)
    assert again[0] == 0 and again[1] == 0

    with sqlite3.connect(data / "entente.sqlite3") as db:
        rows = [r[0] for r in db.execute("SELECT raw FROM objects")]
    assert len(rows) > 500
    options = ValidationOptions(version="2.1")
    failures = []
    types = set()
    for raw in rows:
        obj = json.loads(raw)
        types.add(obj["type"])
        result = validate_instance(obj, options)
        if not result.is_valid:
            failures.append(f"{obj['id']}: " + "; ".join(str(e) for e in result.errors))
    assert not failures, "\n".join(failures[:20])
    for t in ("report", "identity", "indicator", "observed-data", "attack-pattern", "marking-definition"):
        assert t in types, t
