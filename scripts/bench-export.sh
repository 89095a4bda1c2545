#!/usr/bin/env bash
# `entente export` on a generated workload of N indicators (scripts/export_bench_gen.py: IPv4,
# domains, URLs, SHA-256, MD5; 3% not exportable, 1% revoked), one run per format, each
# checked against the generator's counts and timed against the issue's target (10 s for
# 1,000,000 indicators to zeek-intel and suricata-dataset), from the file and then from a
# local collection holding the same objects. The floor beside it is reading
# the same file once (`cat > /dev/null`), measured in the same run.
#
#   scripts/bench-export.sh                 # N=1000000 SEED=7
#   N=100000 scripts/bench-export.sh
#   LOCAL=0 scripts/bench-export.sh         # the file only, not the local collection
#
# ENTENTE_BIN picks a binary (default: cargo build --release).
#
# Measured 2026-11-26 (release build at d19d137, N=1000000 SEED=7, 386 MB NDJSON, on the shared
# 2-core machine at load average 7-11, so wall time is about twice the CPU time; the export
# is single-threaded): CPU (user+sys) zeek-intel 6.4 s, suricata-dataset 7.1 s, csv 6.5 s,
# stix 6.6 s; wall 12.1 / 14.8 / 11.5 / 13.0 s; peak RSS 1.96 GiB; counts equal the
# generator's (959,920 exported, 30,149 not exportable, 9,931 revoked). Before the borrowing
# reader (sensors::record) the same run took 13.0 / 15.1 s CPU and 4.0 GiB.
#
# Measured again 2026-11-26 19:51-19:56 UTC (LOCAL=0, N=1000000 SEED=7, load average 11.6-13.2
# on the 2 shared cores, so wall is 6-9x CPU and says nothing about the target), after
# `Exported` borrows from the objects (no copy of each indicator's JSON, id, name, producer)
# and the state's value sets are sorted once: CPU zeek-intel 5.90+4.95 s, suricata-dataset
# 6.81+2.62 s, csv 6.01+1.87 s, stix 5.64+2.15 s; wall 97.4 / 79.9 / 58.8 / 35.7 s (cat floor
# 2.4 s); peak RSS 1415 MiB (was 1.96 GiB); counts equal the generator's. From a local
# collection (the import benchmark's 1,000,000 IOC indicators, by hand, load 9.6-13.2):
# zeek-intel 9.56+8.29 s CPU, 99.1 s wall; suricata-dataset 10.39+7.14 s CPU, 111.2 s wall;
# peak RSS 1.5 GiB. Neither meets 10 s: the user time is parse and select (as from a file)
# plus the store's paged query; the sys time is SQLite reading its pages through pread.
#
# Measured 2026-11-26 23:20-23:40 UTC by hand (the same N=1000000 SEED=7 files; the local
# collection imported once with `entente import stix`), release binaries of 055da67 (before)
# and 7774781 (after: sensors::Selector decides each object as it is read, a data directory
# is read by SqliteStore::scan_latest on a thread of its own), alternated, load 3.2-6 on the
# 2 shared cores (noisy: two runs of one binary differ by up to 1.5 s of user time). CPU
# user+sys: file zeek-intel 5.88+1.92 / 4.88+1.71 -> 6.41+1.83 / 6.18+1.59 s (no gain);
# file suricata-dataset 6.40+1.71 / 6.15+1.78 -> 5.31+1.36 s; local zeek-intel 9.18+2.87 /
# 9.22+2.90 -> 5.44+1.57 / 7.26+1.42 s; local suricata-dataset 11.11+2.53 -> 9.16+1.41 /
# 9.02+1.69 s. Wall (load 3-4, so only indicative): file 6.8-8.4 s, local zeek-intel 7.3 s
# (was 13.0-13.5 s). Peak RSS from a file 1.45-1.51 GB -> 0.97-0.99 GB; from a local
# collection 2.5 GB both, most of it the mapped 1.3 GB database file. Outputs (the Intel
# file, every dataset file and the rules, stderr, the state minus its `created`) are
# cmp-identical to the before-binary's. Left: the file path's CPU is serde parsing, pattern
# parsing and the sorts of the state and the datasets; the 10 s target is met on CPU but
# wall under load is not measurable here.
# Measured 2026-11-27 03:02 UTC, this script, N=1000000, ENTENTE_BIN = release build of
# bf72b6e, load 1.3-1.4 (nothing else running): from the file zeek-intel 4.15 s wall,
# suricata-dataset 5.04 s, csv 4.51 s, stix 4.70 s; from a local collection 4.43 / 5.68 /
# 4.20 / 4.78 s; counts equal the generator's. Both targets (10 s) met. Peak RSS from the
# collection 2.8-3.2 GiB: since d05315b every connection maps the whole 1.1 GB database
# file, and RSS counts those shared file pages once per mapping (from the file: 0.97 GiB).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${N:-1000000}"
seed="${SEED:-7}"
work="${WORK:-$(mktemp -d)}"
mkdir -p "$work"

if [[ -z "${ENTENTE_BIN:-}" ]]; then
    (cd "$root" && cargo build --release --locked -p entente-cli)
    ENTENTE_BIN="${CARGO_TARGET_DIR:-$root/target}/release/entente"
fi

input="$work/indicators.ndjson"
if [[ ! -s "$input" || ! -s "$work/expected.json" ]]; then
    python3 "$root/scripts/export_bench_gen.py" --indicators "$n" --seed "$seed" --out "$input" \
        > "$work/expected.json"
fi
expected="$(cat "$work/expected.json")"
want() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$expected" "$1"; }
echo "workload: $n indicators, $(du -m "$input" | cut -f1) MB ($input); expected $expected"

floor_start=$(date +%s.%N)
cat "$input" > /dev/null
floor=$(echo "$(date +%s.%N) - $floor_start" | bc)
echo "floor: cat of the input ${floor} s"

status=0
# One export: $1 names the source in the output, $2 the format, the rest the source's flags.
run() {
    local label="$1" format="$2"
    shift 2
    local out="$work/out-$label-$format"
    rm -rf "$out" "$out.state.json"
    local start wall user sys rss summary exported refused revoked verdict target
    start=$(date +%s.%N)
    /usr/bin/time -f "%e %U %S %M" -o "$work/$format.time" \
        "$ENTENTE_BIN" export "$format" "$@" --out "$out" \
        > "$work/$format.summary" 2> "$work/$format.stderr"
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    read -r _ user sys rss < "$work/$format.time"
    summary="$(cat "$work/$format.summary")"
    exported="$(sed -E 's/.* of ([0-9]+) indicators.*/\1/' <<< "$summary")"
    refused="$(sed -E 's/.*not exportable ([0-9]+),.*/\1/' <<< "$summary")"
    revoked="$(sed -E 's/.*revoked ([0-9]+),.*/\1/' <<< "$summary")"
    verdict=ok
    if [[ "$exported" != "$(want exported)" || "$refused" != "$(want not_exportable)" || "$revoked" != "$(want revoked)" ]]; then
        verdict="WRONG COUNTS"
        status=1
    fi
    target=""
    if [[ "$format" == zeek-intel || "$format" == suricata-dataset ]]; then
        if (( $(echo "$wall * 1000000 / $n <= 10" | bc) )); then target=", within target"; else target=", OVER TARGET"; status=1; fi
    fi
    printf '%-5s %-17s %6.2f s wall (%.1fx the cat floor), cpu %s+%s s, peak RSS %d MiB, %s%s\n    %s\n' \
        "$label" "$format" "$wall" "$(echo "$wall / $floor" | bc -l)" "$user" "$sys" "$((rss / 1024))" \
        "$verdict" "$target" "$summary"
}

for format in zeek-intel suricata-dataset csv stix; do
    run file "$format" --file "$input"
done

# The same indicators in a local collection, which is what a user exports from: imported
# once with `entente import stix` (not timed; kept in the work dir for the next run).
if [[ "${LOCAL:-1}" == 1 ]]; then
    data="$work/data"
    if [[ ! -s "$work/collection.id" ]]; then
        rm -rf "$data"
        "$ENTENTE_BIN" admin --data "$data" root create default >/dev/null
        "$ENTENTE_BIN" admin --data "$data" collection create default bench 2>/dev/null \
            > "$work/collection.id.partial"
        echo "importing the workload into $data (not timed) ..."
        /usr/bin/time -f "   import stix: wall %e s, cpu %U+%S s" "$ENTENTE_BIN" import stix \
            --data "$data" --collection "$(cat "$work/collection.id.partial")" "$input"
        mv "$work/collection.id.partial" "$work/collection.id"
    fi
    for format in zeek-intel suricata-dataset csv stix; do
        run local "$format" --data "$data" --collection "$(cat "$work/collection.id")"
    done
fi
exit "$status"
