"""Fresh PostgreSQL databases for the interop suite's runs against the PostgreSQL backend.

The machine's PostgreSQL is reached through `psql` with the administrative URL in
ENTENTE_TEST_PG_URL (default `postgres://postgres@127.0.0.1:5432/postgres`: the trust-auth
server `.ci/run` expects). Every test run gets its own database, `entente_ci_<random>`,
created empty and dropped afterwards (with FORCE, so a server killed mid-test cannot keep
it alive), so runs never see each other's data.

ENTENTE_BACKEND selects the store of the session server of `server_fixtures`: `sqlite`
(the default, a data directory) or `postgres` (a fresh database); `.ci/run` runs the
server-facing test files once for each. An unreachable PostgreSQL is a failure with the
reason, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgres")


def backend() -> str:
    """The backend named by ENTENTE_BACKEND (default `sqlite`); anything else fails."""
    value = os.environ.get("ENTENTE_BACKEND", "") or "sqlite"
    if value not in BACKENDS:
        pytest.fail(f"ENTENTE_BACKEND={value!r}: expected one of {', '.join(BACKENDS)}", pytrace=False)
    return value


def admin_url() -> str:
    return os.environ.get("ENTENTE_TEST_PG_URL", "") or DEFAULT_ADMIN_URL


def _psql(sql: str, url: str | None = None) -> subprocess.CompletedProcess:
    psql = shutil.which("psql")
    if psql is None:
        pytest.fail("psql not found: the PostgreSQL runs need the PostgreSQL client (apt-get install postgresql-client)", pytrace=False)
    return subprocess.run(
        [psql, url or admin_url(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def psql(sql: str, url: str | None = None) -> str:
    """Runs one SQL command with psql; returns its unaligned output, fails loudly."""
    p = _psql(sql, url)
    if p.returncode != 0:
        pytest.fail(f"psql {sql!r} on {redact(url or admin_url())} failed: {p.stderr.strip()}", pytrace=False)
    return p.stdout.strip()


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def database_url(name: str) -> str:
    """The admin URL with its database replaced by `name`."""
    parts = urlsplit(admin_url())
    return urlunsplit(parts._replace(path="/" + name))


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """Creates `entente_ci_<random>`, yields its URL, and drops it afterwards."""
    name = "entente_ci_" + secrets.token_hex(6)
    psql(f"CREATE DATABASE {name}")
    try:
        yield database_url(name)
    finally:
        # Best effort: a failure to drop must not hide the test's own outcome, but it is
        # reported (pytest shows the warning).
        p = _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if p.returncode != 0:
            import warnings

            warnings.warn(f"could not drop database {name}: {p.stderr.strip()}", stacklevel=1)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped after it."""
    with fresh_database() as url:
        yield url
