"""Shared fixtures for the interop suite: entente beside the OASIS reference tools.

The suite needs two inputs, given by `.ci/run` as environment variables:

- ENTENTE_BIN: the release `entente` binary under test;
- ENTENTE_SHARED: the shared data set (the directory holding `data/`).

Neither is optional. A missing input fails every test that needs it with a message saying
what to set; nothing is skipped, because a skipped interop suite looks exactly like a
passing one in CI output.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

INTEROP_DIR = Path(__file__).resolve().parent


def _require_env(name: str, what: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} is not set: it must name {what} (.ci/run sets it)", pytrace=False)
    return value


def shared_dir_from_env() -> Path | None:
    """The shared data directory, or None when ENTENTE_SHARED is unset.

    Used at collection time (to parametrize over data files), where failing is not possible;
    tests parametrized from it fail through the `shared_dir` fixture instead.
    """
    value = os.environ.get("ENTENTE_SHARED", "")
    return Path(value) if value else None


@pytest.fixture(scope="session")
def entente_bin() -> Path:
    path = Path(_require_env("ENTENTE_BIN", "the release entente binary"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"ENTENTE_BIN={path} is not an executable file", pytrace=False)
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = Path(_require_env("ENTENTE_SHARED", "the shared data directory (holding data/)"))
    if not (path / "data").is_dir():
        pytest.fail(f"ENTENTE_SHARED={path} has no data/ directory", pytrace=False)
    return path


@pytest.fixture(scope="session")
def entente(entente_bin: Path):
    """Runs `entente ARGS...` and returns the CompletedProcess (text mode, no check)."""

    def run(*args: str | os.PathLike, stdin: str | None = None, timeout: float = 300):
        return subprocess.run(
            [str(entente_bin), *map(str, args)],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
