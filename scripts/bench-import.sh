#!/usr/bin/env bash
# `entente import iocs` of a generated list of N IOC lines into a fresh local SQLite
# collection (the issue's target: 1,000,000 lines in at most 10 s), then the same list again
# (everything unchanged), each timed end to end (read, detect, build STIX, compare with the
# collection, store with the transparency log, fsync).
#
#   scripts/bench-import.sh                 # N=1000000
#   N=200000 BATCH=10000 scripts/bench-import.sh
#
# ENTENTE_BIN picks a binary (default: cargo build --release). BATCH sets --batch (objects per
# transaction). The reference in the same run is `entente validate` over the STIX the import
# stored (pulled back out with sqlite3 when it is installed): parse + validate of the same
# objects, without the store.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lines="${N:-1000000}"
work="${WORK:-$(mktemp -d)}"
mkdir -p "$work"

if [[ -z "${ENTENTE_BIN:-}" ]]; then
    (cd "$root" && cargo build --release --locked -p entente-cli)
    ENTENTE_BIN="${CARGO_TARGET_DIR:-$root/target}/release/entente"
fi

python3 "$root/scripts/import_bench_gen.py" --lines "$lines" --out "$work/iocs.txt"
data="$work/data"
"$ENTENTE_BIN" admin --data "$data" root create default >/dev/null
id="$("$ENTENTE_BIN" admin --data "$data" collection create default bench 2>/dev/null)"
batch=()
if [[ -n "${BATCH:-}" ]]; then batch=(--batch "$BATCH"); fi

echo "== first import: $lines lines into an empty collection"
/usr/bin/time -f "wall %e s, cpu %U+%S s, peak RSS %M KiB" \
    "$ENTENTE_BIN" import iocs --data "$data" --collection "$id" "${batch[@]}" "$work/iocs.txt"
echo "== second import: the same lines (all unchanged)"
/usr/bin/time -f "wall %e s, cpu %U+%S s, peak RSS %M KiB" \
    "$ENTENTE_BIN" import iocs --data "$data" --collection "$id" "${batch[@]}" "$work/iocs.txt"
ls -l "$data"/entente.sqlite3* | awk '{print "   " $5 " bytes " $9}'

if command -v sqlite3 >/dev/null; then
    echo "== reference: entente validate over the $lines stored indicators (no store)"
    sqlite3 "$data/entente.sqlite3" "SELECT raw FROM objects" >"$work/stored.ndjson"
    /usr/bin/time -f "wall %e s, cpu %U+%S s, peak RSS %M KiB" \
        "$ENTENTE_BIN" validate "$work/stored.ndjson" 2>&1 | tail -2
fi
echo "work dir: $work"
