"""A headless Chromium and a UI-shaped `entente serve` for the browser tests (issue 9).

Imported by `test_ui_browser.py`. The browser is Debian's `chromium` (installed by `.ci/run`
when /usr/bin/chromium is missing), driven by Playwright through `executable_path`: no
browser is ever downloaded (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 in `.ci/run`, and this suite
never runs `playwright install`). A missing browser fails the tests, never skips them: a
skipped browser suite looks exactly like a passing one in CI output.

The server is its own `entente serve` (not the session's TAXII one, whose grants the
authorization matrix pins down), provisioned through the documented CLI and the TAXII API
with two organizations that share some intelligence and keep some to themselves:

- acme / alice   — reads and writes `Shared intel`; alone (named individually) in the
                   restricted `Acme red`, which holds a TLP:RED indicator;
- globex / bob   — reads and writes `Shared intel`; nothing else;
- admin          — the administrator `entente serve` creates on first start (no grants).

`Shared intel` holds real OASIS example bundles (Poison Ivy, the sighting example) plus
objects that point at the TLP:RED indicator (a relationship and a sighting), so that every
page that resolves references is exercised by the cross-organization check.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from server_fixtures import TAXII, Server, start_server, stop_server, tlp_marking_ids

CHROMIUM = Path(os.environ.get("ENTENTE_CHROMIUM", "/usr/bin/chromium"))
REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("ENTENTE_UI_SCREENSHOTS", REPO_ROOT / "target" / "ui-screenshots"))

# Laptop and phone viewports the screenshots are taken at (issue 9: "laptop and phone widths").
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}

EXAMPLES = Path("data/oasis-stix21/cti-documentation/examples/example_json")


@dataclass
class UiWorld:
    """The running server and the facts the browser tests check against."""

    server: Server
    users: dict[str, str] = field(default_factory=dict)  # user name -> token
    collections: dict[str, str] = field(default_factory=dict)  # title -> id
    red_id: str = ""
    red_name: str = ""
    red_pattern_value: str = ""
    shared_malware_id: str = ""
    shared_indicator_id: str = ""
    sighted_indicator_id: str = ""

    @property
    def ui(self) -> str:
        return self.server.base + "/ui/"

    def taxii(self, user: str) -> requests.Session:
        s = requests.Session()
        s.headers["Accept"] = TAXII
        s.headers["Authorization"] = "Bearer " + self.users[user]
        return s

    def objects_url(self, title: str) -> str:
        return f"{self.server.base}/default/collections/{self.collections[title]}/objects/"

    def post(self, user: str, title: str, objects: list[dict]) -> dict:
        r = self.taxii(user).post(
            self.objects_url(title),
            data=json.dumps({"objects": objects}),
            headers={"Content-Type": TAXII},
            timeout=60,
        )
        assert r.status_code == 202, r.text
        status = r.json()
        assert status["failure_count"] == 0, status
        # Queued ingest answers `pending`; the status resource waits for the store.
        deadline = time.monotonic() + 60
        while status["status"] != "complete" and time.monotonic() < deadline:
            status = self.taxii(user).get(
                f"{self.server.base}/default/status/{status['id']}/", timeout=60
            ).json()
        assert status["status"] == "complete" and status["failure_count"] == 0, status
        return status

    def visible_ids(self, user: str, title: str) -> set[str]:
        """Every object id `user` may read in a collection, through the TAXII API."""
        ids: set[str] = set()
        url, params = self.objects_url(title), {"limit": "1000"}
        while True:
            r = self.taxii(user).get(url, params=params, timeout=60)
            if r.status_code != 200:
                return ids
            body = r.json()
            ids.update(o["id"] for o in body.get("objects", []))
            if not body.get("more"):
                return ids
            params["next"] = body["next"]


def _load_bundle(shared_dir: Path, name: str) -> list[dict]:
    return json.loads((shared_dir / EXAMPLES / name).read_text())["objects"]


def _now() -> str:
    return "2026-01-15T10:00:00.000Z"


def provision(world: UiWorld, shared_dir: Path) -> None:
    """Organizations, users, collections, grants and objects for the browser tests."""
    s = world.server
    a = s.admin
    for org, user in [("acme", "alice"), ("globex", "bob")]:
        a("org", "create", org)
        a("user", "create", user, "--org", org)
        world.users[user] = a("token", "create", user)
    world.users["admin"] = s.tokens["admin"]
    c = world.collections
    c["Shared intel"] = a("collection", "create", "default", "Shared intel")
    a("grant", c["Shared intel"], "acme", "read-write")
    a("grant", c["Shared intel"], "globex", "read-write")
    c["Acme red"] = a("collection", "create", "default", "Acme red", "--restricted")
    a("grant-user", c["Acme red"], "alice", "read-write")

    marking = tlp_marking_ids(shared_dir)
    poisonivy = _load_bundle(shared_dir, "poisonivy.json")
    sighting_example = _load_bundle(shared_dir, "sighting-of-an-indicator.json")
    world.post("alice", "Shared intel", poisonivy + sighting_example)
    world.shared_malware_id = next(o["id"] for o in poisonivy if o["type"] == "malware")
    world.sighted_indicator_id = next(o["id"] for o in sighting_example if o["type"] == "indicator")

    # A TLP:RED indicator that only alice may read, with a name and pattern value that
    # appear nowhere else: if either shows up in bob's browser, it leaked.
    tag = uuid.uuid4().hex[:12]
    world.red_name = f"Red secret {tag}"
    world.red_pattern_value = f"red-{tag}.example.net"
    world.red_id = f"indicator--{uuid.uuid4()}"
    red = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": world.red_id,
        "created": _now(),
        "modified": _now(),
        "name": world.red_name,
        "description": f"Only for alice {tag}",
        "pattern": f"[domain-name:value = '{world.red_pattern_value}']",
        "pattern_type": "stix",
        "valid_from": _now(),
        "object_marking_refs": [marking["RED"]],
    }
    world.post("alice", "Acme red", [red])

    # Shared (TLP:CLEAR) objects that point at the RED indicator: a relationship to the
    # shared malware and a sighting of it. Bob may read them; the UI must not resolve the
    # RED end for him (no name, no pattern, no link that opens it).
    world.shared_indicator_id = f"indicator--{uuid.uuid4()}"
    partner = f"identity--{uuid.uuid4()}"
    shared = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": partner,
            "created": _now(),
            "modified": _now(),
            "name": "Globex SOC",
            "identity_class": "organization",
        },
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": world.shared_indicator_id,
            "created": _now(),
            "modified": _now(),
            "name": "Poison Ivy C2 domain",
            "pattern": "[domain-name:value = 'pivy-c2.example.org']",
            "pattern_type": "stix",
            "valid_from": _now(),
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": f"relationship--{uuid.uuid4()}",
            "created": _now(),
            "modified": _now(),
            "relationship_type": "indicates",
            "source_ref": world.red_id,
            "target_ref": world.shared_malware_id,
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": f"relationship--{uuid.uuid4()}",
            "created": _now(),
            "modified": _now(),
            "relationship_type": "indicates",
            "source_ref": world.shared_indicator_id,
            "target_ref": world.shared_malware_id,
        },
    ]
    for n, (of, count) in enumerate([(world.red_id, 7), (world.shared_indicator_id, 3), (world.shared_indicator_id, 2)]):
        shared.append(
            {
                "type": "sighting",
                "spec_version": "2.1",
                "id": f"sighting--{uuid.uuid4()}",
                "created_by_ref": partner,
                "created": f"2026-01-1{5 + n}T10:00:00.000Z",
                "modified": f"2026-01-1{5 + n}T10:00:00.000Z",
                "first_seen": f"2026-01-1{5 + n}T08:00:00.000Z",
                "last_seen": f"2026-01-1{5 + n}T09:00:00.000Z",
                "count": count,
                "sighting_of_ref": of,
            }
        )
    world.post("bob", "Shared intel", shared)


@pytest.fixture(scope="module")
def ui_world(entente_bin: Path, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A provisioned `entente serve` for the UI; stopped when the module's tests are done."""
    data = tmp_path_factory.mktemp("entente-ui") / "data"
    proc, server, token = start_server(entente_bin, data)
    server.tokens["admin"] = token
    try:
        world = UiWorld(server=server)
        provision(world, shared_dir)
        yield world
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium through Playwright; fails (never skips) when missing."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} is not an executable Chromium: .ci/run installs Debian's chromium "
            "(set ENTENTE_CHROMIUM to use another)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium refuses its setuid sandbox.
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield b
        finally:
            b.close()


def screenshot(page, name: str) -> None:
    """Writes `name-laptop.png` and `name-phone.png` of the page as it is now.

    The viewport is resized (the page lays itself out again, without reloading, so the
    result of a POST can be pictured too) and the whole length is captured: the picture is
    what a person at that width would scroll through.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    if original:
        page.set_viewport_size(original)
