"""Authorization matrix: every TAXII route × role × collection kind × TLP 2.0 level.

The expected answers are DESIGN.md's "Access" policy written out as the small tables below;
they are not taken from the server's behaviour. In words:

- A collection grants read and/or write to organizations (restricted collections: to users
  named individually), or is public-read. Being a server administrator grants nothing.
- Where each TLP level may be stored: CLEAR anywhere; GREEN never in a public-read
  collection; AMBER and AMBER+STRICT only where the readers are named organizations;
  RED only in restricted collections. Anything else is refused with a reason, never stored.
- Reads never return an object to anyone outside its audience; a collection a caller may
  not read (nor write) is a 404, indistinguishable from one that does not exist; a refused
  POST or DELETE changes nothing.
- The API authenticates every request: no token is a 401 (the conformance probe requires it
  for discovery, API roots, collections and objects). The one case DESIGN.md leaves open is
  an anonymous read of a public-read collection ("public-read" may include callers without
  a token); there the server may answer 401 or serve the collection's CLEAR objects, and
  nothing else.

"Nothing leaks" is checked on every read: object lists, single objects, versions and the
manifest show exactly the objects visible to the caller; a hidden object answers like an
object that never existed; `more` is not true because of hidden objects.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from server_fixtures import (  # noqa: F401  (fixture)
    COLLECTIONS,
    ROLES,
    TAXII,
    TLP_LEVELS,
    entente_server,
    tlp_marking_ids,
)

# -- the policy, as tables -------------------------------------------------------------------

# Which TLP levels each kind of collection may hold (DESIGN.md "Access").
ALLOWED = {
    "public": {"CLEAR"},
    "granted": {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT"},
    "restricted": {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"},
}

# What each authenticated role may do with each collection: "R" read, "RW" read and write,
# "" nothing (hidden). Grants are made in server_fixtures.provision.
RIGHTS = {
    "outsider": {"public": "R", "granted": "", "restricted": ""},
    "admin": {"public": "R", "granted": "", "restricted": ""},
    "reader": {"public": "R", "granted": "R", "restricted": "R"},
    "writer": {"public": "RW", "granted": "RW", "restricted": "RW"},
}

# The most sensitive level each role is in the audience of, per collection it reads: the
# public (any caller) gets CLEAR; named organizations up to AMBER+STRICT; the individually
# named readers of a restricted collection up to RED.
AUDIENCE = {
    "outsider": {"public": "CLEAR"},
    "admin": {"public": "CLEAR"},
    "reader": {"public": "AMBER+STRICT", "granted": "AMBER+STRICT", "restricted": "RED"},
    "writer": {"public": "AMBER+STRICT", "granted": "AMBER+STRICT", "restricted": "RED"},
}


def may_read(role: str, coll: str) -> bool:
    """Whether an authenticated role may read (the anonymous case is handled apart)."""
    return "R" in RIGHTS.get(role, {}).get(coll, "")


def may_write(role: str, coll: str) -> bool:
    return "W" in RIGHTS.get(role, {}).get(coll, "")


def visible(role: str, coll: str, level: str) -> bool:
    top = AUDIENCE[role].get(coll)
    return top is not None and TLP_LEVELS.index(level) <= TLP_LEVELS.index(top)


def refused_status(role: str, coll: str) -> int:
    """The status of a write the role may not make: 401 without a token, 404 where the
    collection is hidden, 403 where the caller can see it but not write."""
    if role == "anonymous":
        return 401
    return 403 if may_read(role, coll) else 404


# -- fixture: the objects ------------------------------------------------------------------------


def obj(level: str, marking: str, coll: str, tag: str = "") -> dict:
    oid = f"indicator--{uuid.uuid4()}"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid,
        "created": "2024-06-01T00:00:00.000Z",
        "modified": "2024-06-01T00:00:00.000Z",
        "name": f"{coll} {level} {tag}".strip(),
        "pattern": f"[ipv4-addr:value = '192.0.2.{TLP_LEVELS.index(level) + 1}']",
        "pattern_type": "stix",
        "valid_from": "2024-06-01T00:00:00Z",
        "object_marking_refs": [marking],
    }


def post(session: requests.Session, url: str, objects: list[dict]) -> requests.Response:
    return session.post(
        url + "objects/",
        data=json.dumps({"objects": objects}),
        headers={"Content-Type": TAXII},
        timeout=60,
    )


def final_status(srv, session, status: dict) -> dict:
    for _ in range(100):
        if status.get("status") == "complete":
            return status
        r = session.get(f"{srv.api_root}status/{status['id']}/", timeout=30)
        r.raise_for_status()
        status = r.json()
    pytest.fail(f"status {status['id']} never completed")


class Matrix:
    """The server, the markings, and which objects are stored where (kept current)."""

    def __init__(self, srv, markings):
        self.srv = srv
        self.markings = markings
        self.stored: dict[str, dict[str, str]] = {c: {} for c in COLLECTIONS}  # id -> level
        self.setup_status: dict[str, dict] = {}
        self.refused: dict[str, set[str]] = {c: set() for c in COLLECTIONS}
        self.victims: dict[str, str] = {}
        self.setup_objects: dict[str, dict[str, dict]] = {}

    def url(self, coll: str) -> str:
        return self.srv.collection_url(coll)

    def expected_ids(self, role: str, coll: str) -> set[str]:
        return {i for i, lvl in self.stored[coll].items() if visible(role, coll, lvl)}

    def level_of(self, coll: str, oid: str) -> str | None:
        return self.stored[coll].get(oid)


@pytest.fixture(scope="module")
def matrix(entente_server, shared_dir):  # noqa: F811
    m = Matrix(entente_server, tlp_marking_ids(shared_dir))
    writer = entente_server.session("writer")
    for coll in COLLECTIONS:
        objects = {lvl: obj(lvl, m.markings[lvl], coll) for lvl in TLP_LEVELS}
        victim = obj("CLEAR", m.markings["CLEAR"], coll, "victim")
        r = post(writer, m.url(coll), [*objects.values(), victim])
        assert r.status_code == 202, f"setup POST to {coll}: HTTP {r.status_code} {r.text[:300]}"
        st = final_status(entente_server, writer, r.json())
        m.setup_status[coll] = st
        failed = {f["id"] for f in st.get("failures", [])}
        for lvl, o in objects.items():
            if lvl in ALLOWED[coll] and o["id"] not in failed:
                m.stored[coll][o["id"]] = lvl
            else:
                m.refused[coll].add(o["id"])
        if victim["id"] not in failed:
            m.stored[coll][victim["id"]] = "CLEAR"
            m.victims[coll] = victim["id"]
        m.setup_objects[coll] = objects
    return m


def cases():
    return [(r, c) for r in ROLES for c in COLLECTIONS]


def anonymous_public_read(r: requests.Response) -> bool:
    """The one open case (see the module doc): 401, or a read the test then checks."""
    assert r.status_code in (200, 401), f"anonymous read of a public collection: HTTP {r.status_code}"
    return r.status_code == 200


def read_expectation(role: str, coll: str, r: requests.Response) -> bool:
    """Asserts the status of a read of a collection route; True when content follows."""
    if role == "anonymous":
        if coll == "public":
            return anonymous_public_read(r)
        assert r.status_code == 401, f"HTTP {r.status_code}, want 401"
        return False
    if may_read(role, coll):
        assert r.status_code == 200, f"HTTP {r.status_code} {r.text[:200]}, want 200"
        return True
    assert r.status_code == 404, f"HTTP {r.status_code} {r.text[:200]}, want 404 (hidden)"
    assert r.text.find("indicator--") < 0, "a 404 body names objects"
    return False


def audience(role: str, coll: str) -> str:
    return "outsider" if role == "anonymous" else role


# -- the setup itself: storing by TLP level ---------------------------------------------------


@pytest.mark.parametrize("coll", COLLECTIONS)
def test_writer_post_refuses_disallowed_levels(matrix, coll):
    st = matrix.setup_status[coll]
    objects = matrix.setup_objects[coll]
    failures = {f["id"]: f for f in st.get("failures", [])}
    for lvl, o in objects.items():
        if lvl in ALLOWED[coll]:
            assert o["id"] not in failures, f"TLP:{lvl} refused in {coll}: {failures.get(o['id'])}"
        else:
            assert o["id"] in failures, f"TLP:{lvl} accepted in {coll}"
            assert failures[o["id"]].get("message"), f"TLP:{lvl} refused without a reason"
    assert st["success_count"] == len(ALLOWED[coll]) + 1
    assert st["failure_count"] == len(TLP_LEVELS) - len(ALLOWED[coll])


# Other ways of marking an object, each with the TLP level that decides where it may go: the
# TLP 1.0 marking-definition ids (STIX 2.1 §7.2.1.4), which the server maps; a marking it does
# not know, which counts as RED; a granular marking, which marks part of the object and so
# limits the whole object's audience; and two markings, of which the stricter decides.
TLP1 = {
    "WHITE": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "GREEN": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "AMBER": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "RED": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
VARIANTS = {
    "tlp1-white": ("CLEAR", lambda m: {"object_marking_refs": [TLP1["WHITE"]]}),
    "tlp1-green": ("GREEN", lambda m: {"object_marking_refs": [TLP1["GREEN"]]}),
    "tlp1-amber": ("AMBER", lambda m: {"object_marking_refs": [TLP1["AMBER"]]}),
    "tlp1-red": ("RED", lambda m: {"object_marking_refs": [TLP1["RED"]]}),
    "unknown-marking": ("RED", lambda m: {"object_marking_refs": [f"marking-definition--{uuid.uuid4()}"]}),
    "granular-red": (
        "RED",
        lambda m: {
            "object_marking_refs": [m["CLEAR"]],
            "description": "the part only named individuals may read",
            "granular_markings": [{"marking_ref": m["RED"], "selectors": ["description"]}],
        },
    ),
    "green-and-red": ("RED", lambda m: {"object_marking_refs": [m["GREEN"], m["RED"]]}),
}


@pytest.mark.parametrize("coll", COLLECTIONS)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_marking_variants_are_placed_by_their_level(matrix, variant, coll):
    level, extra = VARIANTS[variant]
    o = obj("CLEAR", matrix.markings["CLEAR"], coll, variant)
    o.update(extra(matrix.markings))
    writer = matrix.srv.session("writer")
    r = post(writer, matrix.url(coll), [o])
    assert r.status_code == 202, f"HTTP {r.status_code} {r.text[:200]}"
    st = final_status(matrix.srv, writer, r.json())
    if level in ALLOWED[coll]:
        assert st["success_count"] == 1, f"{variant} ({level}) refused in {coll}: {st.get('failures')}"
        matrix.stored[coll][o["id"]] = level
    else:
        assert st["failure_count"] == 1, f"{variant} (counts as TLP:{level}) accepted in {coll}"
        assert st["failures"][0].get("message")


# -- server-level routes ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_discovery_and_api_root(matrix, role):
    s = matrix.srv.session(role)
    for url in (matrix.srv.discovery, matrix.srv.api_root):
        r = s.get(url, timeout=30)
        assert r.status_code == (401 if role == "anonymous" else 200), f"{url}: HTTP {r.status_code}"


@pytest.mark.parametrize("role", ROLES)
def test_collections_list(matrix, role):
    r = matrix.srv.session(role).get(matrix.srv.api_root + "collections/", timeout=30)
    if role == "anonymous":
        assert r.status_code == 401
        return
    assert r.status_code == 200
    listed = {c["id"]: c for c in r.json().get("collections", [])}
    for coll in COLLECTIONS:
        cid = matrix.srv.collections[coll]
        if may_read(role, coll) or may_write(role, coll):
            assert cid in listed, f"{coll} not listed for {role}"
            assert listed[cid]["can_read"] == may_read(role, coll)
            assert listed[cid]["can_write"] == may_write(role, coll)
        else:
            assert cid not in listed, f"hidden collection {coll} listed for {role}"


@pytest.mark.parametrize("role,coll", cases())
def test_collection_resource(matrix, role, coll):
    r = matrix.srv.session(role).get(matrix.url(coll), timeout=30)
    if read_expectation(role, coll, r):
        c = r.json()
        assert c["id"] == matrix.srv.collections[coll]
        if role != "anonymous":
            assert c["can_read"] == may_read(role, coll)
            assert c["can_write"] == may_write(role, coll)


def test_unknown_collection_looks_like_hidden(matrix):
    s = matrix.srv.session("outsider")
    unknown = s.get(f"{matrix.srv.api_root}collections/{uuid.uuid4()}/", timeout=30)
    hidden = s.get(matrix.url("restricted"), timeout=30)
    assert unknown.status_code == hidden.status_code == 404
    assert set(unknown.json()) == set(hidden.json()), "404 bodies differ in shape"


# -- reads: nothing leaks ---------------------------------------------------------------------------


def returned_ids(envelope: dict) -> list[str]:
    return [o["id"] for o in envelope.get("objects", [])]


@pytest.mark.parametrize("role,coll", cases())
def test_objects_list(matrix, role, coll):
    s = matrix.srv.session(role)
    r = s.get(matrix.url(coll) + "objects/", params={"match[version]": "all", "limit": 1000}, timeout=30)
    if not read_expectation(role, coll, r):
        return
    got = returned_ids(r.json())
    want = matrix.expected_ids(audience(role, coll), coll)
    leaked = [(i, matrix.level_of(coll, i)) for i in got if i not in want]
    assert not leaked, f"objects outside {role}'s audience: {leaked}"
    assert set(got) == want, f"missing: {want - set(got)}"
    assert not r.json().get("more"), "more=true with every object on the page"
    if want:
        # `more` must not count hidden objects: ask for exactly the visible number.
        ids = ",".join(sorted(matrix.stored[coll]))
        r = s.get(matrix.url(coll) + "objects/", params={"match[id]": ids, "limit": len(want)}, timeout=30)
        assert r.status_code == 200
        assert set(returned_ids(r.json())) == want
        assert not r.json().get("more"), "more=true because of objects the caller cannot see"


@pytest.mark.parametrize("role,coll", cases())
def test_manifest(matrix, role, coll):
    r = matrix.srv.session(role).get(matrix.url(coll) + "manifest/", params={"limit": 1000}, timeout=30)
    if not read_expectation(role, coll, r):
        return
    got = returned_ids(r.json())
    want = matrix.expected_ids(audience(role, coll), coll)
    leaked = [(i, matrix.level_of(coll, i)) for i in got if i not in want]
    assert not leaked, f"manifest shows objects outside {role}'s audience: {leaked}"
    assert set(got) == want


@pytest.mark.parametrize("level", TLP_LEVELS)
@pytest.mark.parametrize("role,coll", cases())
def test_single_object_and_versions(matrix, role, coll, level):
    s = matrix.srv.session(role)
    oid = matrix.setup_objects[coll][level]["id"]
    never = f"indicator--{uuid.uuid4()}"
    stored = oid in matrix.stored[coll]
    for tail in ("", "versions/"):
        r = s.get(f"{matrix.url(coll)}objects/{oid}/{tail}", timeout=30)
        absent = s.get(f"{matrix.url(coll)}objects/{never}/{tail}", timeout=30)
        if role == "anonymous" and coll == "public" and r.status_code != 401:
            show = stored and visible("outsider", coll, level)
        elif role == "anonymous":
            assert r.status_code == 401, f"HTTP {r.status_code}"
            continue
        else:
            show = stored and may_read(role, coll) and visible(role, coll, level)
        if show:
            assert r.status_code == 200, f"{tail or 'object'}: HTTP {r.status_code}"
            body = r.json()
            if tail:
                assert body.get("versions"), "no versions"
            else:
                assert returned_ids(body) == [oid]
        else:
            # Hidden (or never stored): exactly the answer for an id that never existed.
            assert r.status_code == absent.status_code, (
                f"{tail or 'object'} of TLP:{level}: HTTP {r.status_code}, "
                f"but an unknown id gives {absent.status_code}"
            )
            assert oid not in r.text, f"{tail or 'object'} of TLP:{level} shows its id"
            if r.status_code == 200:
                assert not r.json().get("objects") and not r.json().get("versions")


@pytest.mark.parametrize("role,coll", cases())
def test_status_of_others_posts_does_not_leak(matrix, role, coll):
    st = matrix.setup_status[coll]
    r = matrix.srv.session(role).get(f"{matrix.srv.api_root}status/{st['id']}/", timeout=30)
    if role == "anonymous":
        assert r.status_code == 401
    elif role == "writer":
        assert r.status_code == 200 and r.json()["id"] == st["id"]
    elif not may_read(role, coll):
        # The status names the objects of a collection this caller may not even see.
        assert r.status_code == 404, f"HTTP {r.status_code}: {r.text[:200]}"
    else:
        assert r.status_code in (200, 404)


# -- writes: refused ones change nothing -----------------------------------------------------------


@pytest.mark.parametrize("role,coll", cases())
def test_post(matrix, role, coll):
    new = obj("CLEAR", matrix.markings["CLEAR"], coll, f"posted by {role}")
    r = post(matrix.srv.session(role), matrix.url(coll), [new])
    writer = matrix.srv.session("writer")
    if may_write(role, coll):
        assert r.status_code == 202, f"HTTP {r.status_code} {r.text[:200]}"
        st = final_status(matrix.srv, writer, r.json())
        assert st["success_count"] == 1, st
        matrix.stored[coll][new["id"]] = "CLEAR"
        return
    assert r.status_code == refused_status(role, coll), f"HTTP {r.status_code} {r.text[:200]}"
    check = writer.get(matrix.url(coll) + "objects/", params={"match[id]": new["id"]}, timeout=30)
    assert check.status_code == 200 and not check.json().get("objects"), "a refused POST stored its object"


# The writer's own delete is test_writer_deletes, after every refusal.
@pytest.mark.parametrize("role,coll", [(r, c) for r, c in cases() if r != "writer"])
def test_delete_refused(matrix, role, coll):
    victim = matrix.victims[coll]
    r = matrix.srv.session(role).delete(f"{matrix.url(coll)}objects/{victim}/", timeout=30)
    assert r.status_code == refused_status(role, coll), f"HTTP {r.status_code} {r.text[:200]}"
    check = matrix.srv.session("writer").get(f"{matrix.url(coll)}objects/{victim}/", timeout=30)
    assert check.status_code == 200 and returned_ids(check.json()) == [victim], "a refused DELETE deleted"


@pytest.mark.parametrize("coll", COLLECTIONS)
def test_writer_deletes(matrix, coll):
    s = matrix.srv.session("writer")
    victim = matrix.victims[coll]
    r = s.delete(f"{matrix.url(coll)}objects/{victim}/", timeout=30)
    assert r.status_code == 200, f"HTTP {r.status_code} {r.text[:200]}"
    matrix.stored[coll].pop(victim, None)
    assert s.get(f"{matrix.url(coll)}objects/{victim}/", timeout=30).status_code == 404
