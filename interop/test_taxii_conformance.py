"""`../shared/bench/taxii_conformance.py` against `entente serve`: every check must pass.

The probe is a black-box list of the client-observable MUSTs of TAXII 2.1, one named check
each. It runs with the writer's token on the scratch collection (readable and writable by
the writers only) and the outsider's token as the second user, who must be refused. It
writes its own uniquely-identified objects, so sharing the scratch collection with the
other modules is safe.
"""

from __future__ import annotations

import subprocess
import sys

from server_fixtures import entente_server  # noqa: F401  (fixture)


def test_conformance_probe_all_pass(entente_server, shared_dir):  # noqa: F811
    probe = shared_dir / "bench" / "taxii_conformance.py"
    assert probe.is_file(), f"{probe} is missing"
    p = subprocess.run(
        [
            sys.executable,
            str(probe),
            "--url", entente_server.discovery,
            "--token", entente_server.tokens["writer"],
            "--token2", entente_server.tokens["outsider"],
            "--collection", entente_server.collections["scratch"],
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = p.stdout.strip().splitlines()
    failed = [line for line in lines if line.startswith("FAIL ")]
    assert lines, f"the probe printed nothing; stderr:\n{p.stderr}"
    assert not failed and p.returncode == 0, "\n".join(failed + lines[-1:])
    last = lines[-1]
    assert last.endswith(" 0 failed"), last
    passed = int(last.split()[0])
    skipped = [line for line in lines if line.startswith("SKIP ")]
    # Every check applies to entente (second user and no-access collections exist), so a
    # skip means a setup step of the probe failed silently.
    assert not skipped, "\n".join(skipped)
    assert passed >= 50, last
