"""A real `entente serve` for the TAXII interop tests, with an account for every role.

Imported by the `test_taxii_*`, `test_authz_matrix` and `test_push_pull` modules (pytest
finds fixtures imported into a test module). One server runs per session, on a free loopback port
with its data directory under pytest's tmp_path; it is provisioned only through the
documented CLI (`entente admin --data DIR ...`, which works while the server runs) and
stopped at the end of the session. With ENTENTE_BACKEND=postgres (`pg_fixtures`) the server
runs on a fresh PostgreSQL database (`--database URL`), dropped at the end of the session,
and `entente admin --database URL` provisions it.

Accounts (organization / user), created by `provision`:

- admin     — the admin organization and user `entente serve` creates on first start
              (its token is read from the `admin token: <TOKEN>` line);
- readers   / reader    — granted read;
- writers   / writer    — granted read-write;
- outsiders / outsider  — granted nothing (the "wrong organization").

Collections under the default API root:

- public     — `--public-read`; readers read, writers read-write;
- granted    — readers read, writers read-write (organization grants);
- restricted — `--restricted`; reader read, writer read-write;
- scratch    — writers read-write only: the collection the OASIS client, the conformance
               probe and the push/pull round trip write into;
- dropbox    — writers write only, and bulletin — writers read only: collections the writer
               sees with `can_read` or `can_write` false, which the conformance probe needs.

No grant is given to the admin organization: DESIGN.md makes access a matter of grants, and
being an administrator does not put a user in the audience of what others share.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from pg_fixtures import backend, fresh_database

TAXII = "application/taxii+json;version=2.1"

# The TLP 2.0 marking-definition files of the shared data set, by level.
TLP_FILES = {
    "CLEAR": "tlp-clear.json",
    "GREEN": "tlp-green.json",
    "AMBER": "tlp-amber.json",
    "AMBER+STRICT": "tlp-amber+strict.json",
    "RED": "tlp-red.json",
}
TLP_LEVELS = list(TLP_FILES)

ROLES = ["anonymous", "outsider", "admin", "reader", "writer"]
COLLECTIONS = ["public", "granted", "restricted"]

START_TIMEOUT = 90.0


def tlp_marking_ids(shared_dir: Path) -> dict[str, str]:
    """The marking-definition id of every TLP 2.0 level, read from the shared data."""
    folder = shared_dir / "data" / "stix21-tlp2-markings"
    ids = {}
    for level, name in TLP_FILES.items():
        bundle = json.loads((folder / name).read_text())
        (marking,) = [o for o in bundle["objects"] if o["type"] == "marking-definition"]
        ids[level] = marking["id"]
    return ids


@dataclass
class Server:
    """A running `entente serve` and the accounts and collections made for the tests."""

    base: str
    data: Path
    bin: Path
    tokens: dict[str, str] = field(default_factory=dict)
    collections: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    # How `entente serve` and `entente admin` find the store: `--data DIR` by default,
    # `--database URL` on PostgreSQL.
    store_args: list[str] = field(default_factory=list)

    @property
    def store(self) -> list[str]:
        return self.store_args or ["--data", str(self.data)]

    @property
    def discovery(self) -> str:
        return self.base + "/taxii2/"

    @property
    def api_root(self) -> str:
        """The default API root's URL, from discovery (as any client would find it)."""
        r = self.session("writer").get(self.discovery, timeout=30)
        r.raise_for_status()
        d = r.json()
        root = d.get("default") or d["api_roots"][0]
        return requests.compat.urljoin(self.discovery, root).rstrip("/") + "/"

    def collection_url(self, name: str) -> str:
        return f"{self.api_root}collections/{self.collections[name]}/"

    def session(self, role: str) -> requests.Session:
        """A requests session with the role's bearer token (none for `anonymous`)."""
        s = requests.Session()
        s.headers["Accept"] = TAXII
        if role != "anonymous":
            s.headers["Authorization"] = "Bearer " + self.tokens[role]
        return s

    def admin(self, *args: str) -> str:
        """Runs `entente admin --data DIR ARGS...` (or `--database URL`); returns stdout
        stripped, fails loudly."""
        p = subprocess.run(
            [str(self.bin), "admin", *self.store, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if p.returncode != 0:
            pytest.fail(
                f"entente admin {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}",
                pytrace=False,
            )
        return p.stdout.strip()

    def server_log(self) -> str:
        return "".join(self.log[-50:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    bin_path: Path, data: Path, store_args: list[str] | None = None
) -> tuple[subprocess.Popen, Server, str]:
    """Starts `entente serve` and waits for its admin token and a working discovery URL.

    `store_args` replaces `--data DATA` (e.g. `["--database", URL]`)."""
    port = free_port()
    store = store_args or ["--data", str(data)]
    proc = subprocess.Popen(
        [str(bin_path), "serve", *store, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
    )
    server = Server(
        base=f"http://127.0.0.1:{port}", data=data, bin=bin_path, store_args=list(store_args or [])
    )
    token_box: list[str] = []
    seen_token = threading.Event()

    def pump() -> None:
        # Reads the server's output for the whole session, so its pipe never fills up.
        assert proc.stdout is not None
        for line in proc.stdout:
            server.log.append(line)
            m = re.match(r"^admin token: (\S+)\s*$", line)
            if m and not token_box:
                token_box.append(m.group(1))
                seen_token.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not seen_token.wait(0.2):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            pytest.fail(
                "entente serve printed no 'admin token: <TOKEN>' line; output:\n"
                + server.server_log(),
                pytrace=False,
            )
    token = token_box[0]
    while True:
        try:
            r = requests.get(
                server.discovery,
                headers={"Accept": TAXII, "Authorization": "Bearer " + token},
                timeout=5,
            )
            if r.status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            pytest.fail(
                "entente serve never answered GET /taxii2/ with 200; output:\n"
                + server.server_log(),
                pytrace=False,
            )
        time.sleep(0.2)
    return proc, server, token


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def provision(server: Server) -> None:
    """Organizations, users, tokens, collections and grants, through `entente admin`."""
    a = server.admin
    for role, org in [("reader", "readers"), ("writer", "writers"), ("outsider", "outsiders")]:
        a("org", "create", org)
        a("user", "create", role, "--org", org)
        server.tokens[role] = a("token", "create", role)
    c = server.collections
    c["public"] = a("collection", "create", "default", "matrix public", "--public-read")
    c["granted"] = a("collection", "create", "default", "matrix granted")
    c["restricted"] = a("collection", "create", "default", "matrix restricted", "--restricted")
    c["scratch"] = a("collection", "create", "default", "scratch")
    for name in ("public", "granted"):
        a("grant", c[name], "readers", "read")
        a("grant", c[name], "writers", "read-write")
    # Restricted: readers are named individually (DESIGN.md, TLP:RED).
    grant_user(server, c["restricted"], "reader", "read")
    grant_user(server, c["restricted"], "writer", "read-write")
    a("grant", c["scratch"], "writers", "read-write")
    c["dropbox"] = a("collection", "create", "default", "dropbox")
    a("grant", c["dropbox"], "writers", "write")
    c["bulletin"] = a("collection", "create", "default", "bulletin")
    a("grant", c["bulletin"], "writers", "read")
    for name, cid in c.items():
        if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", cid):
            pytest.fail(f"collection create printed {cid!r} for {name}, not an id alone", pytrace=False)


def grant_user(server: Server, collection: str, user: str, perm: str) -> None:
    """A grant to one user: restricted collections name their readers individually."""
    server.admin("grant-user", collection, user, perm)


@pytest.fixture(scope="session")
def entente_server(entente_bin: Path, tmp_path_factory: pytest.TempPathFactory):
    """The running, provisioned server (on ENTENTE_BACKEND's store); stopped at the end of
    the session."""
    data = tmp_path_factory.mktemp("entente") / "data"
    with contextlib.ExitStack() as stack:
        store_args = None
        if backend() == "postgres":
            store_args = ["--database", stack.enter_context(fresh_database())]
        proc, server, token = start_server(entente_bin, data, store_args)
        stack.callback(stop_server, proc)
        server.tokens["admin"] = token
        provision(server)
        yield server
