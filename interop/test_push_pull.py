"""`entente push` and `entente pull` through a real `entente serve`.

A round trip must give back what was pushed, byte for byte in content (DESIGN.md: "what a
client posted is what a client gets back"). The objects pushed are written here with
deliberately unusual but valid JSON (key order, spacing, escapes, number forms), one object
per line of an NDJSON file, so that any re-serialisation on the way shows; the pulled
bundle's object texts are cut out of it by position, never re-serialised.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
import stix2

from server_fixtures import entente_server, tlp_marking_ids  # noqa: F401  (fixture)


def odd_json(obj: dict) -> str:
    """A valid JSON text of `obj` that no serialiser would produce by default."""
    items = list(obj.items())[::-1]  # reversed key order
    parts = [f'{json.dumps(k)} :  {json.dumps(v, ensure_ascii=True, separators=(" , ", ":"))}' for k, v in items]
    return "{  " + " ,".join(parts) + "   }"


def indicator(n: int, modified: str = "2024-02-01T00:00:00.000Z") -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2024-02-01T00:00:00.000Z",
        "modified": modified,
        "name": f"r\u00e9seau n\u00b0{n} \u2014 \"quoted\" \\ slash/",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250 + 1}']",
        "pattern_type": "stix",
        "valid_from": "2024-02-01T00:00:00Z",
        "confidence": 85,
        "x_score": 1.5e3,
    }


def pulled_texts(text: str) -> list[str]:
    """The exact text of each object of a bundle, without normalising it.

    `raw_decode` reports where each value ends, so each object's text is a slice of the
    output as the server (through `entente pull`) produced it.
    """
    decoder = json.JSONDecoder()
    start = text.index('"objects":[') + len('"objects":[')
    out, pos = [], start
    while True:
        while text[pos] in " \t\r\n,":
            pos += 1
        if text[pos] == "]":
            return out
        _, end = decoder.raw_decode(text, pos)
        out.append(text[pos:end])
        pos = end


@pytest.fixture(scope="module")
def remote(entente_server, entente):  # noqa: F811
    def run(command: str, *args, token_role: str = "writer", collection: str = "scratch"):
        return entente(
            command,
            "--server", entente_server.base,
            "--token", entente_server.tokens[token_role],
            "--collection", entente_server.collections[collection],
            *args,
        )

    return run


def test_round_trip_is_byte_identical(remote, tmp_path):
    objects = [indicator(n) for n in range(1200)]  # more than one envelope and one page
    texts = [odd_json(o) for o in objects]
    for t, o in zip(texts, objects):
        assert json.loads(t) == o
    src = tmp_path / "in.ndjson"
    src.write_text("\n".join(texts) + "\n")
    p = remote("push", src, "--batch", "500")
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"^1200 objects in \d+ envelopes: 1200 succeeded, 0 failed, 0 pending$", p.stdout, re.M), p.stdout
    out = tmp_path / "out.json"
    p = remote("pull", "--out", out, "--limit", "250")
    assert p.returncode == 0, p.stderr
    got = pulled_texts(out.read_text())
    by_id = {json.loads(t)["id"]: t for t in got}
    assert len(by_id) == len(got), "an object came back twice"
    for t, o in zip(texts, objects):
        assert by_id.get(o["id"]) == t, f"{o['id']} came back as {by_id.get(o['id'])!r}"
    bundle = stix2.parse(out.read_text(), allow_custom=True)
    assert len(bundle.objects) == len(got)
    assert not list(tmp_path.glob(".*.partial")), "the temporary file was left behind"


def test_oasis_bundle_round_trip(remote, shared_dir, tmp_path):
    src = shared_dir / "data" / "oasis-stix21" / "cti-documentation" / "examples" / "example_json" / "apt1.json"
    want = json.loads(src.read_text())["objects"]
    p = remote("push", src)
    assert p.returncode == 0, p.stdout + p.stderr
    p = remote("pull")  # to stdout
    assert p.returncode == 0, p.stderr
    got = {o["id"]: o for o in json.loads(p.stdout)["objects"]}
    for o in want:
        assert got.get(o["id"]) == o, o["id"]


def test_latest_versus_all_versions(remote, tmp_path):
    first = indicator(7, modified="2024-03-01T00:00:00.000Z")
    second = dict(first, modified="2024-04-01T00:00:00.000Z", confidence=10)
    src = tmp_path / "versions.json"
    src.write_text(json.dumps([first, second]))
    p = remote("push", src)
    assert p.returncode == 0, p.stdout + p.stderr
    latest = json.loads(remote("pull").stdout)["objects"]
    mine = [o for o in latest if o["id"] == first["id"]]
    assert [o["modified"] for o in mine] == [second["modified"]]
    every = json.loads(remote("pull", "--all-versions").stdout)["objects"]
    mine = sorted(o["modified"] for o in every if o["id"] == first["id"])
    assert mine == [first["modified"], second["modified"]]


def test_added_after_in_the_future_is_empty(remote):
    p = remote("pull", "--added-after", "2999-01-01T00:00:00Z")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["objects"] == []


def test_basic_auth(entente_server, entente):  # noqa: F811
    p = entente(
        "pull",
        "--server", entente_server.discovery,
        "--user", "writer",
        "--password", entente_server.tokens["writer"],
        "--collection", entente_server.collections["scratch"],
        "--type", "indicator",
    )
    assert p.returncode == 0, p.stderr
    objects = json.loads(p.stdout)["objects"]
    assert objects and all(o["type"] == "indicator" for o in objects)


def test_refused_object_is_reported_and_exit_1(remote, shared_dir, tmp_path):
    red = tlp_marking_ids(shared_dir)["RED"]
    ok = indicator(1)
    refused = dict(indicator(2), object_marking_refs=[red])
    src = tmp_path / "mixed.json"
    src.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [ok, refused]}))
    # TLP:RED is accepted only in restricted collections (DESIGN.md), scratch is not one.
    p = remote("push", src)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "2 objects in 1 envelopes: 1 succeeded, 1 failed, 0 pending" in p.stdout, p.stdout
    assert f"failed: {refused['id']}" in p.stdout, p.stdout


def test_hidden_collection_is_a_clear_error(remote, tmp_path):
    src = tmp_path / "one.json"
    src.write_text(json.dumps(indicator(3)))
    p = remote("push", src, token_role="outsider", collection="restricted")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "HTTP 404" in p.stderr, p.stderr
    p = remote("pull", token_role="outsider", collection="granted")
    assert p.returncode == 2 and "HTTP 404" in p.stderr, p.stderr


def test_wrong_token_is_a_clear_error(entente_server, entente):  # noqa: F811
    p = entente(
        "pull",
        "--server", entente_server.base,
        "--token", "not-a-token",
        "--collection", entente_server.collections["scratch"],
    )
    assert p.returncode == 2 and "HTTP 401" in p.stderr, p.stderr
