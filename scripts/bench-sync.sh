#!/usr/bin/env bash
# bench-sync.sh [N] [PYTHON] : times `entente sync` against `entente pull` of the same
# collection in the same run, from an `entente serve` (log checked, the default for an entente
# source) and, when PYTHON names a venv with medallion 3.0.0 (interop/requirements.txt), from
# medallion's memory backend. N indicators (default 5000). Prints seconds and the ratio
# sync/pull: what syncing costs beyond reading the same pages (writing them into a data
# directory with the server's checks, and for entente the log's inclusion proofs).
#
#   ENTENTE_BIN=target/release/entente scripts/bench-sync.sh 5000 target/interop-venv/bin/python
set -euo pipefail
n=${1:-5000}
py=${2:-}
bin=${ENTENTE_BIN:-target/release/entente}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
ratio() { python3 -c "print(f'{($4 - $3) / ($2 - $1):.2f}')"; }

# N indicators as one bundle (STIX 2.1, valid patterns).
python3 - "$n" >"$work/bundle.json" <<'PY'
import json, sys, uuid
n = int(sys.argv[1])
objs = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
         "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
         "name": f"bench {i}", "pattern": f"[ipv4-addr:value = '10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}']",
         "pattern_type": "stix", "valid_from": "2024-05-01T00:00:00Z"} for i in range(n)]
json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, sys.stdout)
PY

# serve DIR -> sets base token shared
serve() {
    local dir=$1 port
    port=$(free_port)
    "$bin" serve --listen "127.0.0.1:$port" --data "$dir" >"$dir.out" 2>/dev/null &
    pids+=($!)
    for _ in $(seq 1 300); do grep -q '^http://' "$dir.out" 2>/dev/null && break; sleep 0.1; done
    base="http://127.0.0.1:$port"
    token=$(sed -n 's/^admin token: //p' "$dir.out")
    shared=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select id from collections where title='shared'\").fetchone()[0])" "$dir/entente.sqlite3")
}

serve "$work/source"
src_base=$base src_token=$token src_shared=$shared
"$bin" push --server "$src_base" --token "$src_token" --collection "$src_shared" "$work/bundle.json" >/dev/null
serve "$work/target"
tgt_shared=$shared

t0=$(now)
"$bin" pull --server "$src_base" --token "$src_token" --collection "$src_shared" --all-versions --out "$work/pulled.json" 2>/dev/null
t1=$(now)
out=$("$bin" sync --from "$src_base" --from-token "$src_token" --from-collection "$src_shared" \
    --data "$work/target" --collection "$tgt_shared" --state "$work/s1.json" 2>/dev/null)
t2=$(now)
echo "entente serve, $n objects: pull $(secs "$t0" "$t1") s, sync $(secs "$t1" "$t2") s ($out), sync/pull $(ratio "$t0" "$t1" "$t1" "$t2")"
t3=$(now)
out=$("$bin" sync --from "$src_base" --from-token "$src_token" --from-collection "$src_shared" \
    --data "$work/target" --collection "$tgt_shared" --state "$work/s1.json" 2>/dev/null)
t4=$(now)
echo "  second (incremental) pass: $(secs "$t3" "$t4") s ($out)"

if [[ -n "$py" ]]; then
    mport=$(free_port)
    mpid=$(bash "$here/../../shared/bench/medallion_up.sh" "$work/medallion" "$mport" "$py")
    pids+=("$mpid")
    mcol=91a7b528-80eb-42ed-a74d-c6fbd5a26116
    "$bin" push --server "http://127.0.0.1:$mport/taxii2/" --user admin --password Password0 \
        --collection "$mcol" "$work/bundle.json" >/dev/null
    serve "$work/target2"
    t0=$(now)
    "$bin" pull --server "http://127.0.0.1:$mport/taxii2/" --user admin --password Password0 \
        --collection "$mcol" --all-versions --out "$work/pulled2.json" 2>/dev/null
    t1=$(now)
    out=$("$bin" sync --from "http://127.0.0.1:$mport/taxii2/" --from-user admin --from-password Password0 \
        --from-collection "$mcol" --data "$work/target2" --collection "$shared" --state "$work/s2.json" 2>/dev/null)
    t2=$(now)
    echo "medallion, $n objects: pull $(secs "$t0" "$t1") s, sync $(secs "$t1" "$t2") s ($out), sync/pull $(ratio "$t0" "$t1" "$t1" "$t2")"
fi
