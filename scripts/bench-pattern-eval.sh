#!/usr/bin/env bash
# Single-pattern evaluation speed: entente's matcher (criterion bench `eval`, release build)
# against the OASIS reference matcher (stix2-matcher 3.0.0) on the same public vectors
# (shared/data/stix-patterns/matcher_vectors.json), printed as ns per evaluation and a ratio.
#
#   scripts/bench-pattern-eval.sh
#
# Both sides compile each pattern once, outside the timing, and time matching the vector's
# already-decoded JSON observed-data: entente's `load_and_evaluate` (build the observation
# model, then evaluate) against the reference's `Pattern.match(list)` (which also builds its
# model on every call). Vectors one side rejects (parse errors, spec deviations) are skipped
# by that side; the counts are printed. The reference runs in a venv under /tmp ($VENV).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${ENTENTE_SHARED:-$root/../shared}"
export ENTENTE_PATTERN_VECTORS="${ENTENTE_PATTERN_VECTORS:-$shared/data/stix-patterns}"
vectors="$ENTENTE_PATTERN_VECTORS/matcher_vectors.json"
[[ -f "$vectors" ]] || { echo "bench-pattern-eval: no vectors at $vectors" >&2; exit 2; }

venv="${VENV:-/tmp/entente-pattern-bench-venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        stix2-matcher==3.0.0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! (cd "$root" && cargo bench -p entente-matcher --bench eval -- --output-format bencher) \
    > "$work/rust.out" 2> "$work/rust.err"; then
    cat "$work/rust.err" >&2
    exit 1
fi
rust_n="$(sed -n 's/^eval bench: \([0-9]*\) vectors per iteration$/\1/p' "$work/rust.err" | head -1)"
rust_median="$(sed -n 's/^eval bench: median load+evaluate \([0-9]*\) ns$/\1/p' "$work/rust.err" | head -1)"
rust_ns_iter="$(sed -n 's#^test eval/load_and_evaluate \.\.\. bench: *\([0-9,]*\) ns/iter.*#\1#p' "$work/rust.out" | tr -d ,)"
rust_eval_ns_iter="$(sed -n 's#^test eval/evaluate \.\.\. bench: *\([0-9,]*\) ns/iter.*#\1#p' "$work/rust.out" | tr -d ,)"
[[ -n "$rust_n" && -n "$rust_ns_iter" ]] || { cat "$work/rust.out" "$work/rust.err" >&2; exit 1; }

"$venv/bin/python" - "$vectors" "$rust_n" "$rust_ns_iter" "$rust_eval_ns_iter" "$rust_median" <<'PY'
import json, sys, time
from stix2matcher.matcher import Pattern

path, rust_n, rust_ns_iter, rust_eval_ns_iter = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rust_median = int(sys.argv[5])
cases = []
for v in json.load(open(path)):
    try:
        p = Pattern(v["pattern"], v["stix_version"])
        p.match(v["observed_data"])
    except Exception:
        continue
    cases.append((p, v["observed_data"]))

def one_pass():
    t = time.perf_counter()
    for p, o in cases:
        p.match(o)
    return time.perf_counter() - t

one_pass()  # warm-up
best = min(one_pass() for _ in range(5))
per_vector = []
for p, o in cases:
    t = time.perf_counter()
    p.match(o)
    per_vector.append(time.perf_counter() - t)
per_vector.sort()
median_ns = per_vector[len(per_vector) // 2] * 1e9
ref_ns = best / len(cases) * 1e9
rust_ns = rust_ns_iter / rust_n
rust_eval_ns = rust_eval_ns_iter / rust_n
print(f"vectors: entente {rust_n}, reference {len(cases)}")
print(f"entente  load+evaluate: {rust_ns:12.0f} ns/eval")
print(f"entente  evaluate only: {rust_eval_ns:12.0f} ns/eval")
print(f"stix2-matcher 3.0.0:    {ref_ns:12.0f} ns/eval (best of 5 passes)")
print(f"entente  median vector: {rust_median:12.0f} ns (load+evaluate)")
print(f"stix2-matcher median:   {median_ns:12.0f} ns")
print(f"ratio of means   (reference / entente load+evaluate): {ref_ns / rust_ns:.0f}x"
      "  (dominated by the combinatorial-explosion vectors)")
print(f"ratio of medians (reference / entente load+evaluate): {median_ns / rust_median:.0f}x")
PY
