"""The OASIS TAXII client (taxii2-client, pinned) drives a full session against `entente serve`.

Discover, list API roots and collections, add objects (OASIS STIX 2.1 examples), poll the
status, page through the collection with `as_pages`, read one object, its versions and the
manifest, delete, and check the deletion. Everything the server returns that holds STIX is
parsed by the OASIS `stix2` library (`allow_custom=True`, as the examples carry none but a
server may add nothing else either).

The writer's token is used throughout (Bearer through a requests auth hook, since the
client's own auth is Basic); one test logs in with Basic (user name + API token), which
entente accepts too.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import requests
import stix2
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from server_fixtures import TAXII, entente_server  # noqa: F401  (fixture)

# OASIS example bundles without markings (marked ones belong to the authorization matrix).
EXAMPLES = [
    "indicator-for-malicious-url.json",
    "malware-indicator-for-file-hash.json",
    "sighting-of-an-indicator.json",
    "sighting-of-observed-data.json",
    "threat-actor-leveraging-attack-patterns-and-malware.json",
    "identifying-a-threat-actor-profile.json",
    "poisonivy.json",
]


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = "Bearer " + self.token
        return r


def example_objects(shared_dir: Path) -> list[dict]:
    folder = shared_dir / "data" / "oasis-stix21" / "cti-documentation" / "examples" / "example_json"
    seen, out = set(), []
    for name in EXAMPLES:
        for o in json.loads((folder / name).read_text())["objects"]:
            key = (o["id"], o.get("modified", o.get("created")))
            if key not in seen:
                seen.add(key)
                out.append(o)
    return out


def parse_all(objects):
    for o in objects:
        stix2.parse(o, allow_custom=True)


@pytest.fixture(scope="module")
def session(entente_server, shared_dir):  # noqa: F811
    auth = Bearer(entente_server.tokens["writer"])
    server = Server(entente_server.discovery, auth=auth)
    objects = example_objects(shared_dir)
    return {"server": server, "auth": auth, "objects": objects, "srv": entente_server}


def scratch(session) -> Collection:
    srv = session["srv"]
    return Collection(srv.collection_url("scratch"), auth=session["auth"])


def test_discovery_and_api_roots(session):
    server = session["server"]
    assert server.title
    assert server.api_roots, "discovery lists no API root"
    default = server.default
    assert isinstance(default, ApiRoot)
    assert default.url.rstrip("/") + "/" == session["srv"].api_root
    assert any(v.replace(" ", "") == TAXII for v in default.versions)
    assert isinstance(default.max_content_length, int) and default.max_content_length > 0


def test_collections_listed_with_rights(session):
    srv = session["srv"]
    root = ApiRoot(srv.api_root, auth=session["auth"])
    by_id = {c.id: c for c in root.collections}
    s = by_id.get(srv.collections["scratch"])
    assert s is not None, "scratch collection not listed for its writer"
    assert s.can_read and s.can_write
    assert srv.collections["dropbox"] in by_id and not by_id[srv.collections["dropbox"]].can_read
    assert not by_id[srv.collections["bulletin"]].can_write


def test_add_objects_and_poll_status(session):
    col = scratch(session)
    objects = session["objects"]
    status = col.add_objects({"objects": objects}, wait_for_completion=True, poll_interval=0.2, timeout=60)
    assert status.status == "complete", status
    assert status.total_count == len(objects)
    assert status.failure_count == 0, status.failures
    assert status.success_count == len(objects)
    again = ApiRoot(session["srv"].api_root, auth=session["auth"]).get_status(status.id)
    assert again.status == "complete" and again.success_count == len(objects)


def test_page_through_with_as_pages(session):
    col = scratch(session)
    want = {o["id"] for o in session["objects"]}
    got, pages = [], 0
    for envelope in as_pages(col.get_objects, per_request=25):
        pages += 1
        got.extend(envelope.get("objects", []))
    assert pages >= len(want) // 25, f"{pages} pages for {len(want)} objects"
    ids = [o["id"] for o in got]
    assert len(ids) == len(set(ids)), "an object came back twice while paging"
    assert want <= set(ids)
    parse_all(got)


def test_filters_and_single_object(session):
    col = scratch(session)
    indicator = next(o for o in session["objects"] if o["type"] == "indicator")
    env = col.get_objects(type="indicator")
    assert env["objects"] and all(o["type"] == "indicator" for o in env["objects"])
    parse_all(env["objects"])
    env = col.get_object(indicator["id"])
    assert [o["id"] for o in env["objects"]] == [indicator["id"]]
    assert env["objects"][0] == indicator, "object did not come back as posted"
    parse_all(env["objects"])


def test_versions_and_manifest(session):
    col = scratch(session)
    base = next(o for o in session["objects"] if o["type"] == "malware")
    newer = dict(base, modified="2030-01-01T00:00:00.000Z", description="a later version")
    status = col.add_objects({"objects": [newer]}, poll_interval=0.2)
    assert status.success_count == 1, status.failures
    versions = col.object_versions(base["id"])["versions"]
    assert len(versions) == 2 and versions[-1].startswith("2030-01-01T00:00:00")
    latest = col.get_object(base["id"])["objects"]
    assert [o["modified"] for o in latest] == [newer["modified"]]
    every = col.get_object(base["id"], version="all")["objects"]
    assert len(every) == 2
    parse_all(every)
    records = []
    for page in as_pages(col.get_manifest, per_request=50):
        records.extend(page.get("objects", []))
    mine = [r for r in records if r["id"] == base["id"]]
    assert mine and all({"id", "date_added", "version"} <= r.keys() for r in records)
    assert {o["id"] for o in session["objects"]} <= {r["id"] for r in records}


def test_delete_object(session):
    col = scratch(session)
    victim = next(o for o in session["objects"] if o["type"] == "threat-actor")
    col.delete_object(victim["id"])
    with pytest.raises(requests.HTTPError) as err:
        col.get_object(victim["id"])
    assert err.value.response.status_code == 404
    assert all(o["id"] != victim["id"] for o in col.get_objects()["objects"])


def test_basic_auth_with_token_as_password(session):
    srv = session["srv"]
    server = Server(srv.discovery, user="writer", password=srv.tokens["writer"])
    assert server.api_roots


def test_add_new_object_roundtrip_parses(session):
    col = scratch(session)
    ind = stix2.Indicator(
        id=f"indicator--{uuid.uuid4()}",
        pattern="[ipv4-addr:value = '203.0.113.7']",
        pattern_type="stix",
        valid_from="2024-01-01T00:00:00Z",
    )
    status = col.add_objects(json.dumps({"objects": [json.loads(ind.serialize())]}), poll_interval=0.2)
    assert status.success_count == 1, status.failures
    back = stix2.parse(col.get_object(ind.id)["objects"][0], allow_custom=True)
    assert back.id == ind.id and back.pattern == ind.pattern
