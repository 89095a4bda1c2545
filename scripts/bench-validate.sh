#!/usr/bin/env bash
# Side-by-side speed of `entente validate` (release build) and the OASIS reference validator
# (stix2-validator, as pinned in interop/requirements.txt) on the same STIX bundle, by
# default MITRE ATT&CK Mobile 17.1 (decompressed first, so neither tool pays for gzip).
#
#   scripts/bench-validate.sh [BUNDLE.json[.gz]]
#
# entente is timed as a whole process (start-up included), best of 5. The reference is timed
# in-process around `validate_file`, best of 3, so Python start-up and imports are NOT
# charged to it: the ratio printed is conservative. Both must judge the bundle valid, or the
# comparison would be meaningless and the script fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${ENTENTE_SHARED:-$root/../shared}"
input="${1:-$shared/data/attack-stix21/mobile-attack-17.1.json.gz}"
[[ -f "$input" ]] || { echo "bench-validate: no such file: $input" >&2; exit 2; }

if [[ -z "${ENTENTE_BIN:-}" ]]; then
    (cd "$root" && cargo build --release --locked -p entente-cli)
    ENTENTE_BIN="${CARGO_TARGET_DIR:-$root/target}/release/entente"
fi

venv="${VENV:-$root/target/interop-venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        -r "$root/interop/requirements.txt"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
plain="$work/$(basename "${input%.gz}")"
if [[ "$input" == *.gz ]]; then gzip -dc "$input" > "$plain"; else cp "$input" "$plain"; fi

ENTENTE_BIN="$ENTENTE_BIN" "$venv/bin/python" - "$plain" <<'PY'
import os, subprocess, sys, time
from stix2validator import ValidationOptions, validate_file
import stix2validator

path = sys.argv[1]
size_mb = os.path.getsize(path) / 1e6
entente = os.environ["ENTENTE_BIN"]

def best(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)

def run_entente():
    proc = subprocess.run([entente, "validate", path], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"entente validate exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr}")

def run_reference():
    result = validate_file(path, ValidationOptions(version="2.1"))
    if not result.is_valid:
        sys.exit("stix2-validator judged the bundle invalid; the comparison would be meaningless")

run_entente()  # warm the page cache
ours = best(5, run_entente)
ref = best(3, run_reference)
print(f"input: {os.path.basename(path)}, {size_mb:.2f} MB")
print(f"entente validate          {ours:8.3f} s  {size_mb / ours:8.1f} MB/s  (process, best of 5)")
print(f"stix2-validator {stix2validator.__version__:9} {ref:8.3f} s  {size_mb / ref:8.1f} MB/s  (in-process, best of 3)")
print(f"ratio: entente is {ref / ours:.1f}x faster")
PY
