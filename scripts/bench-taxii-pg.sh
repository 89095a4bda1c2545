#!/usr/bin/env bash
# TAXII ingest and paged-read speed of `entente serve` on PostgreSQL, one replica and two
# replicas, beside the embedded SQLite store, in the same run and with the same workload
# (shared/bench/taxii_load.py).
#
#   scripts/bench-taxii-pg.sh                        # COUNT=200000 LOADERS=2 BATCH=500 PAGE=1000
#   COUNT=1000000 scripts/bench-taxii-pg.sh          # the issue's 1,000,000 objects
#   CONFIGS="pg1 pg2" COUNT=50000 scripts/bench-taxii-pg.sh
#
# Each configuration gets a fresh store (a temporary data directory, or a fresh database
# `entente_bench_<random>` made through $ENTENTE_TEST_PG_URL, default
# postgres://postgres@127.0.0.1:5432/postgres, dropped afterwards) and the same load: LOADERS
# copies of taxii_load.py started together, each POSTing COUNT/LOADERS indicators (seeds
# SEED, SEED+1, ...) in envelopes of BATCH into the `shared` collection, then paging the
# whole collection with limit PAGE. The configurations differ only in where the loaders go:
#
#   sqlite  one `entente serve --data`, every loader on it
#   pg1     one `entente serve --database`, every loader on it
#   pg2     two replicas on one database, loader i on replica i mod 2
#
# so the client concurrency is the same in all three and pg2/pg1 isolates the replicas.
# Ingest objects/s = COUNT / the longest loader's ingest time (first POST to last status);
# page p99 is the worst of the loaders' p99s. At shutdown each PostgreSQL replica logs how
# long its envelope transactions held the log-append lock; the script sums them and prints
# the lock's busy share of the ingest time and the time it is held per envelope, which give
# the ingest ceiling of any number of replicas (docs/deploy.md, "What bounds scale-out").
#
# VERSION_FRACTION (default 0.1, taxii_load's own default) is the share of objects that are
# new versions of earlier ones; taxii_load's generator re-versions with a linear search, so
# its time grows with the square of the count (100,000 per loader did not finish generating
# in 6 minutes on a loaded 2-core machine): above 50,000 objects per loader the script uses
# 0 unless VERSION_FRACTION is set. ENTENTE_BIN picks a binary (default: cargo build
# --release). Servers listen on loopback and are stopped by PID on exit.
#
# Measured 2026-11-26, `COUNT=1000000 scripts/bench-taxii-pg.sh` (version fraction 0), all
# three in one run, 24 min 51 s wall, 1-minute load average 8-15 on the shared 2-core
# machine (other engineers' builds), PostgreSQL 15 with autovacuum off on the same cores:
#   sqlite  3,397 obj/s; paged GET p50 44 ms, p99 127 ms
#   pg1     3,324 obj/s (0.98x sqlite); p50 29 ms, p99 78 ms; lock held 151 ms per envelope
#           of 500, busy 100% of the ingest time -> ceiling ~3,300 obj/s; 2,232 B/object
#   pg2     3,341 obj/s (1.01x pg1); p50 25 ms, p99 75 ms; lock held 149 ms, busy 99%
# A page's statement is 1.1 ms of that at 1,000,000 objects (EXPLAIN ANALYZE); the rest is
# the loaded machine (a page of one object took 2-54 ms end to end meanwhile), so the 20 ms
# p99 target is not met here by either backend. docs/deploy.md has the discussion.
# Measured again 2026-11-26 22:08-22:25 UTC (release build of 055da67, other builds at nice 19,
# load 10-11), 16 min 50 s wall:
#   sqlite  3,562 obj/s; paged GET p50 27 ms, p99 68 ms
#   pg1     5,026 obj/s (1.41x sqlite); p50 20 ms, p99 52 ms; lock held 99.5 ms per envelope,
#           busy 100% -> ceiling ~5,000 obj/s
#   pg2     5,039 obj/s (1.00x pg1); p50 16 ms, p99 49 ms; lock held 97.9 ms, busy 99%
# Paged reads of a 1,000,000-object collection on PostgreSQL, 2026-11-27 (collection loaded
# by one taxii_load.py --count 1000000 --version-fraction 0 through one replica at load 6-7:
# 5,398 obj/s), read with taxii_load's own phase_read through a release build of bf72b6e:
# one reader at load 1.5-2.8: p50 8.49 / 7.95 ms, p99 18.77 / 16.27 ms (20 ms target met);
# two readers at once on the same replica: p50 12.5 ms, p99 29.8 / 33.5 ms (not met: the
# 2 cores carry both readers, the replica and PostgreSQL). The same SQLite collection read
# in the same minutes: p99 11.6 / 12.1 ms. A page costs the PostgreSQL replica ~4 ms of
# CPU (1001 rows through tokio-postgres, ~45% of it kernel time in socket reads and task
# wake-ups), SQLite ~2.5 ms.
# Paged reads again, 2026-11-27 05:31-06:03 UTC, after 54404f2 (the joined page: one
# statement, date_added and raw streamed into one buffer; no pool ping per hand-out). A
# fresh database loaded once by taxii_load.py --count 1000000 --version-fraction 0
# --skip-read through one replica (6,595 obj/s), then VACUUM ANALYZE objects; read by 1 or
# 2 copies of taxii_load's phase_read (limit 1000) at once on one replica, release builds of
# eddbb75 (old) and 54404f2 (new) alternated, each run a fresh `entente serve`. CPU per page
# = utime+stime over the read of the replica, and of every backend of the database, / pages.
# Load 5-7 throughout (other engineers' benchmarks at normal priority on the 2 cores):
#   2 readers (4 alternations)  replica 1.79-2.08 -> 1.02-1.35 ms, PostgreSQL 1.90-2.17 ->
#     1.50-1.83 ms per page (together ~4.0 -> ~2.7 ms, 0.67x); p50 9.2-15.8 -> 8.8-14.1 ms,
#     p99 30-54 -> 23-51 ms: at this load the 20 ms p99 is met by neither
#   1 reader (2 alternations)   replica 2.10-2.40 -> 1.15-1.26 ms, PostgreSQL 2.09-2.93 ->
#     1.63-1.76 ms; p50 6.3-9.7 -> 4.5-4.7 ms, p99 22.8-40.7 -> 18.1-21.1 ms
# Each reader's Python spends 5-7 ms of CPU per page itself (requests 1.5 ms, r.json()
# 2.4 ms), more than the replica and PostgreSQL together now. Where a page went before
# (strace -c, perf): 7 round trips to PostgreSQL (token, access, collection, page, and the
# pool's empty query at each of the 3 hand-outs); the replica 151 recvfrom, 90 epoll_wait,
# 77 futex per page (PostgreSQL 15 sends 8 KB per sendto, ~98 per page), 18% of its CPU in
# malloc/free, 7% memmove. After: 3 round trips, ~124 recvfrom, 68 epoll_wait, 58 futex
# per page; the rest of the replica is receiving those 8 KB pieces. PostgreSQL after: 32%
# of its CPU in pread of heap pages from the OS page cache (shared_buffers 128 MB against
# 1.1 GB of objects: ~140 preads per page), 17% in send, 8% planning (the page statement
# gets a custom plan each time). pgbench -M prepared of the page statement alone, backend
# CPU per execution: 8 columns 0.84-1.16 ms, date_added and raw only 0.66-0.80 ms; one row
# with string_agg(raw) 1.34-1.54 ms (with row_number() for `more` 1.58-1.76 ms), so the
# rows are streamed, not aggregated; random pages (read from the OS cache) 0.4-0.7 ms more
# than pages in shared_buffers. Tried without a clear result: TOKIO_WORKER_THREADS=1 on the
# replica (1.12-1.16 ms per page). Left: shared_buffers sized for the hot objects (an
# operator's setting, docs/deploy.md), buffered socket reads (recvfrom could halve; ~5% of
# the replica), generic plans for the page statement (~8% of PostgreSQL's share).
# Checked and not a cause: EXPLAIN (ANALYZE, BUFFERS) of a mid-collection page is an index
# scan of objects_pkey, 1,001 rows from 151 buffers (the heap is read in insertion order,
# ~7 rows per 8 KB page), 0.7 ms warm, 1.1 ms with 145 buffers read; `raw` is neither
# compressed nor TOASTed (613 bytes on average, pg_column_size 617), so storage settings
# (EXTERNAL, lz4) change nothing for these objects; results already travel in the binary
# format and the statement is prepared once per connection.
# SQLite, 2026-11-27 06:19-06:21 UTC, load 10-12, a data directory loaded the same way, 2
# readers: with 54404f2's trait default (query_objects' page joined into one buffer, then
# copied into the envelope) the server spent 2.05-2.17 ms per page against 1.95-2.00 ms for
# eddbb75 alternated with it: the join only added a copy of every body. The default now
# answers None and the route reads query_objects' page as before (the same code path as
# eddbb75 on SQLite). PostgreSQL in the same minutes, eddbb75 -> 54404f2: replica 2.06 ->
# 1.15 ms, PostgreSQL 2.17 -> 1.58 ms per page; p99 40-41 -> 25-28 ms.
# Quiet run 2026-11-27 06:38-06:46 UTC (nothing else running, load 1.3-1.9), release build
# of 20f160f, `ENTENTE_BIN=... COUNT=1000000 CONFIGS="pg1 pg2"`, then `CONFIGS=sqlite`:
#   pg1     12,415 obj/s; paged GET p50 5.48 ms, p99 13.38 ms (2 readers at once); lock
#           held 40.15 ms per envelope (62.9% of its transaction), busy 99.7% -> ceiling
#           12,454 obj/s; 2,235 B/object
#   pg2     12,166 obj/s (0.98x pg1); p50 4.43 ms, p99 10.96 ms; lock held 41.03 ms, busy
#           99.8%
#   sqlite  23,712 obj/s; p50 4.89 ms, p99 12.2 ms
# Issue 7's targets (p99 <= 20 ms at 1,000,000, two replicas >= 0.9x one) met on the quiet
# machine; at load 5-12 (helpers' builds) the same reads had p99 23-51 ms.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${ENTENTE_SHARED:-$root/../shared}"
bench="$shared/bench"
[[ -f "$bench/taxii_load.py" ]] || { echo "bench-taxii-pg: no $bench/taxii_load.py" >&2; exit 2; }

count="${COUNT:-200000}"
loaders="${LOADERS:-2}"
batch="${BATCH:-500}"
page="${PAGE:-1000}"
seed="${SEED:-1}"
configs="${CONFIGS:-sqlite pg1 pg2}"
per_loader=$((count / loaders))
if [[ -n "${VERSION_FRACTION:-}" ]]; then
    version_fraction="$VERSION_FRACTION"
elif ((per_loader > 50000)); then
    version_fraction=0
else
    version_fraction=0.1
fi
pg_url="${ENTENTE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
command -v psql >/dev/null || { echo "bench-taxii-pg: psql not found" >&2; exit 2; }
psql "$pg_url" -X -q -t -A -c 'SELECT 1' >/dev/null ||
    { echo "bench-taxii-pg: PostgreSQL not reachable through ENTENTE_TEST_PG_URL" >&2; exit 2; }

venv="${VENV:-/tmp/entente-taxii-bench-venv}"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import requests' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input requests
fi
py="$venv/bin/python"

if [[ -z "${ENTENTE_BIN:-}" ]]; then
    (cd "$root" && cargo build --release --locked -p entente-cli)
    ENTENTE_BIN="${CARGO_TARGET_DIR:-$root/target}/release/entente"
fi

work="$(mktemp -d)"
pids=()
databases=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for db in "${databases[@]}"; do
        psql "$pg_url" -X -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
db_url() { "$py" -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$pg_url" "$1"; }

# start NAME STORE-ARGS...: starts a server, logging to $work/NAME.log; sets $port.
start() {
    local name="$1"
    shift
    port="$(free_port)"
    RUST_LOG="warn,entente::commands::serve=info" \
        "$ENTENTE_BIN" serve "$@" --listen "127.0.0.1:$port" --log-origin entente/bench \
        > "$work/$name.log" 2>&1 &
    pids+=($!)
    eval "pid_$name=$!"
    for _ in $(seq 1 300); do
        grep -qs '^http://.*/taxii2/$' "$work/$name.log" && return 0
        sleep 0.2
    done
    cat "$work/$name.log" >&2
    echo "bench-taxii-pg: $name did not start" >&2
    exit 1
}

# stop NAME: SIGTERM, wait (the replica logs its lock figures as it exits).
stop() {
    local pid
    eval "pid=\$pid_$1"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

admin_token() { sed -n 's/^admin token: \([^ ]*\)$/\1/p' "$work"/"$1"*.log | head -1; }

shared_collection() {
    "$py" - "$1" "$2" <<'PY'
import sys, requests
base, token = sys.argv[1], sys.argv[2]
h = {"Accept": "application/taxii+json;version=2.1", "Authorization": "Bearer " + token}
d = requests.get(base + "/taxii2/", headers=h).json()
root = requests.compat.urljoin(base + "/taxii2/", d["default"])
cols = requests.get(root + "collections/", headers=h).json()["collections"]
print(next(c["id"] for c in cols if c["title"] == "shared"))
PY
}

# load CONFIG TOKEN COLLECTION PORT...: LOADERS loaders at once, loader i on port i mod n.
load() {
    local config="$1" token="$2" collection="$3"
    shift 3
    local ports=("$@") lp=() i
    for ((i = 0; i < loaders; i++)); do
        local p="${ports[$((i % ${#ports[@]}))]}"
        "$py" "$bench/taxii_load.py" --url "http://127.0.0.1:$p/taxii2/" --token "$token" \
            --collection "$collection" --count "$per_loader" --batch "$batch" --page "$page" \
            --seed "$((seed + i))" --version-fraction "$version_fraction" \
            --label "$config/$i" > "$work/$config.load$i.json" 2> "$work/$config.load$i.err" &
        lp+=($!)
    done
    for i in "${!lp[@]}"; do
        wait "${lp[$i]}" || { cat "$work/$config.load$i.err" >&2; echo "bench-taxii-pg: loader $i of $config failed" >&2; exit 1; }
    done
}

for config in $configs; do
    echo "== $config: $count objects ($loaders loaders x $per_loader, version fraction $version_fraction)" >&2
    case "$config" in
        sqlite)
            start sqlite --data "$work/sqlite-data"
            ports=("$port")
            ;;
        pg1 | pg2)
            db="entente_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
            psql "$pg_url" -X -q -c "CREATE DATABASE $db" >/dev/null
            databases+=("$db")
            url="$(db_url "$db")"
            start "${config}a" --database "$url"
            ports=("$port")
            if [[ "$config" == pg2 ]]; then
                start "${config}b" --database "$url"
                ports+=("$port")
            fi
            ;;
        *) echo "bench-taxii-pg: unknown configuration $config" >&2; exit 2 ;;
    esac
    token="$(admin_token "$config")"
    [[ -n "$token" ]] || { echo "bench-taxii-pg: no admin token from $config" >&2; exit 1; }
    collection="$(shared_collection "http://127.0.0.1:${ports[0]}" "$token")"
    load "$config" "$token" "$collection" "${ports[@]}"
    if [[ "$config" != sqlite ]]; then
        psql "$url" -X -q -t -A -c "SELECT pg_database_size(current_database())" > "$work/$config.dbsize"
    fi
    case "$config" in
        sqlite) stop sqlite ;;
        pg1) stop pg1a ;;
        pg2) stop pg2a; stop pg2b ;;
    esac
done

"$py" - "$work" "$count" "$batch" $configs <<'PY'
import glob, json, os, re, sys
work, count, batch, configs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
rows = {}
for c in configs:
    runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(work, c + ".load*.json")))]
    for r in runs:
        print(json.dumps(r))
    ingest_s = max(r["ingest"]["seconds"] for r in runs)
    ok = sum(r["ingest"]["success_count"] for r in runs)
    p99 = max(r["read"]["page_p99_ms"] for r in runs)
    p50 = max(r["read"]["page_p50_ms"] for r in runs)
    pages = sum(r["read"]["pages"] for r in runs)
    held = total = waiting = txs = 0.0
    for log in glob.glob(os.path.join(work, c + "*.log")):
        for line in open(log):
            m = re.search(r"log lock: (\d+) write transactions, ([\d.]+) ms in them, ([\d.]+) ms waiting for the lock, ([\d.]+) ms holding it", line)
            if m:
                txs += int(m.group(1)); total += float(m.group(2))
                waiting += float(m.group(3)); held += float(m.group(4))
    size = None
    if os.path.exists(os.path.join(work, c + ".dbsize")):
        size = int(open(os.path.join(work, c + ".dbsize")).read().strip())
    rows[c] = dict(ops=count / ingest_s, ok=ok, p50=p50, p99=p99, pages=pages, ingest_s=ingest_s,
                   txs=txs, held=held, total=total, waiting=waiting, size=size)
print()
for c, r in rows.items():
    line = (f"{c:7} ingest {r['ops']:9.0f} obj/s ({r['ok']} stored, {r['ingest_s']:.1f} s); "
            f"paged GET p50 {r['p50']} ms, p99 {r['p99']} ms ({r['pages']} pages over the loaders)")
    if r["size"]:
        line += f"; database {r['size'] / 2**20:.0f} MiB ({r['size'] / r['ok']:.0f} B/object)"
    print(line)
    if r["txs"]:
        busy = r["held"] / 1000 / r["ingest_s"]
        per = r["held"] / r["txs"]
        print(f"        log lock: {int(r['txs'])} envelopes, held {per:.2f} ms each "
              f"({r['held'] / r['total'] * 100:.1f}% of their transaction time; waiting {r['waiting'] / r['txs']:.2f} ms each); "
              f"busy {busy * 100:.1f}% of the ingest time -> ceiling {batch / per * 1000:.0f} obj/s "
              f"(= {1 / busy:.1f}x this run's rate)")
if "pg1" in rows and "pg2" in rows:
    print(f"two replicas / one replica ingest: {rows['pg2']['ops'] / rows['pg1']['ops']:.2f}x")
if "sqlite" in rows:
    for c in ("pg1", "pg2"):
        if c in rows:
            print(f"{c} / sqlite ingest: {rows[c]['ops'] / rows['sqlite']['ops']:.2f}x")
PY
