#!/usr/bin/env bash
# `entente hunt` beside the OASIS stix2-matcher on one pattern_bench_gen.py workload, and the
# alerts checked against the workload's ground truth (expected.json).
#
#   scripts/bench-hunt.sh                        # I=10000 E=200000 SEED=11 HIT=0.01
#   I=100000 E=1000000 scripts/bench-hunt.sh
#   GEN=hunt I=1000000 E=1000000 scripts/bench-hunt.sh
#
# GEN=pattern (default) runs ../shared/bench/pattern_bench_gen.py, whose IPv4 indicators each
# own a /24 and which stops near 600,000 indicators; GEN=hunt runs scripts/hunt_bench_gen.py,
# the equality-heavy mix of issue 4's target at any size (same files, same shapes).
#
# ENTENTE_BIN picks a binary (default: cargo build --release); BEFORE_BIN, when set, is run
# alternately with it on the same files and its alerts compared. Each binary runs twice: on
# one event (startup: loading and compiling the indicators) and on the whole input. The
# reference runs from a venv holding stix2-matcher ($VENV, default target/interop-venv as
# made by .ci/run, else /tmp/ref) on a slice of the workload (the first REF_I indicators,
# default 10,000, and REF_E events, default 2,000): its evaluations per CPU-second do not
# depend on how many indicators there are, and one evaluation is one (event, indicator) pair,
# so against I indicators it does rate / I events per CPU-second. The reference evaluates a
# sampled grid and extrapolates (pattern_bench_ref.py says so in its output).
#
# Measured 2026-11-26 (release build, I=10000 E=200000, 2-core machine, the reference running
# on the other core): entente 127,843 events/s end to end (203 MB of NDJSON read and parsed,
# 1.86 s CPU, peak RSS 53 MB); stix2-matcher 12,467 evaluations per CPU-second, i.e. 1.25
# events per CPU-second against 10,000 indicators: about 100,000x. Alerts equal expected.json:
# 2074/2074 single-event pairs, 163/163 multi-observation indicators, nothing unexpected.
# Re-measured 17:20 after the matcher's flat table, address reader and Bloom filter (same
# workload and commands): 1.76+0.10 s CPU, peak RSS 52 MB, i.e. 107,500 events per CPU-second,
# unchanged: at 10,000 indicators the end-to-end cost is parsing each line into JSON and the
# evaluator's model, not matching. stix2-matcher 13,378 evaluations per CPU-second (1.34
# events per CPU-second against 10,000 indicators): about 80,000x per CPU-second. Alerts
# again equal expected.json (2074/2074, 163/163).
# Re-measured 19:45-19:57 after the quiet filter (a STIX line that no indicator can match is
# scanned, never parsed into JSON; `matcher::compiled::CompiledMatcher::quiet_text`), same
# workload, load average 10-14 from other builds on the 2 cores, so CPU time is the figure
# to read: entente 1.19+0.17 s CPU (1.39+0.20 s in a second run), peak RSS 53 MB, of which
# ~0.6 s is loading and compiling the 10,000 indicators (a one-line input costs 0.56+0.05 s):
# 147,000 events per CPU-second end to end, ~200,000 for the event loop alone; the binary
# before the change, run beside it on the same files, 3.62+0.13 s (53,000 per CPU-second
# under that load): 2.4-2.8x. Alerts byte-identical to the old binary's and equal to
# expected.json (2074/2074, 163/163). stix2-matcher under the same load: 4,604 evaluations
# per CPU-second, i.e. 0.46 events per CPU-second against 10,000 indicators: ~320,000x.
# I=1000000 cannot be generated: pattern_bench_gen.py stops with "IOC IPv4 space exhausted".
# I=500000 E=1000000 (1.0 GB of NDJSON; run by hand with the script's commands, load 2-7):
# entente 38.24+3.02 s CPU, peak RSS 2.36 GB, of which loading and compiling the indicators
# is 31.37+4.21 s and the 2.36 GB (a one-line input); the event loop 6.95 s wall, ~5.7 s
# CPU: ~175,000 events per CPU-second. The previous binary on the same files: 58.96+3.06 s
# CPU, loop 28.2 s wall (~38,000 per CPU-second): 4.6x on the loop. Alerts identical
# (sorted md5) and equal to expected.json (10478/10478 pairs, 849/849 multi-observation).
# Not met here: 1,000,000 events/s, <= 1 KiB per indicator (4.7 KB, hunt::indicators::load
# holds whole parsed indicators), compile <= 10 s. The reference was not run at this size;
# at its 4,604-13,378 evaluations per CPU-second above, 0.009-0.027 events per CPU-second
# against 500,000 indicators.
# Re-measured 23:21-23:25 after indicators are read in two borrowing passes and compiled one
# by one into the index (release, load 5-7 on the 2 shared cores; the binary before the
# change, built from its commit, alternated with it on the same files). Startup (one-line
# input: loading + compiling the indicators):
#   pattern_bench_gen I=500000:                 36.04+3.55 s CPU, 2.36 GB -> 13.93+1.02 s, 504 MB
#   GEN=hunt I=1000000 (92 % single equalities): 28.27+8.98 s CPU, 4.60 GB -> 10.40+1.68 s,
#   915 MB peak = 915 bytes per indicator, of which 410 MB is the input file held while it
#   is read (the compiled matcher keeps ~500 bytes per indicator).
# Whole runs over 1,000,000 events (1.0 GB of NDJSON): I=500000 19.15 s CPU, i.e. ~4.2 s for
# the event loop, ~240,000 events and ~240 MB per CPU-second; GEN=hunt I=1000000 16.23 s CPU,
# loop ~4.2 s, ~240,000 events per CPU-second (old binary: 42.7 s, loop ~5.5 s). Alerts
# byte-identical (sorted) to the old binary's and equal to expected.json (10478/10478 and
# 849/849; 10000/10000 and 921/921). stix2-matcher on the GEN=hunt workload's first 10,000
# indicators and 2,000 events: 6,249 evaluations per CPU-second, i.e. 0.0062 events per
# CPU-second against 1,000,000 indicators: entente ~38,000,000x per CPU-second.
# Still not met: 1,000,000 events/s (the loop scans every line's text and walks its SCOs'
# indexed paths, ~4 us per 1 KB line), and compile of 1,000,000 indicators at 12 s CPU
# (10.4 s user) is just over 10 s.
# Re-measured 2026-11-27 02:20-02:47 UTC after the event loop's changes (07effff, 3cb4a5d:
# lines read in place with memchr; the scanner's one-pass backslash/control check and quote
# bitmap, branch-light member reading; a line's equality look-ups made together),
# GEN=hunt I=1000000 E=1000000 WORK=/tmp/hw, release, load 4-7 on the 2 cores (other
# helpers' servers and builds), HEAD 51dc22b's binary alternated with the new one. Whole
# runs minus startup are too noisy here to tell a 20 % change: 2.45 -> 1.80 s CPU at load 6-7,
# 1.82 -> 1.88 s at load 5, as startup alone varies by +-0.3 s. The loop alone, timed in
# thread CPU time (`cargo run --release -p entente-hunt --example hunt_loop --
# indicators.json observations.ndjson 2`), 4 alternations of 2 passes at load 4.3-5.4:
# old 1.97-2.20 s (median 2.07), new 1.71-1.88 s (median 1.79) per 1,000,000 events, i.e.
# ~483,000 -> ~559,000 events (and MB) per CPU-second, 1.16x; at load 6-7 the minima were
# 2.49 -> 1.88 s. Startup and peak RSS unchanged (916 MB). Alerts byte-identical (sorted)
# to the old binary's and equal to expected.json (10000/10000, 933/933). Not met: 1,000,000
# events/s. perf of the loop now: the scanner ~32 % (a chain of dependent loads per member:
# key end, ':', value end, ','), the equality filter reads ~8 %, the walk of the indexed
# paths ~10 %, the kernel's copy of the file ~7 %, UTF-8 checks ~3 %, and the 1 % of lines
# parsed whole and matched ~8 % (mostly allocation).
# Startup (loading and compiling the indicators) re-measured 02:46-02:47 UTC after 8e0301b
# and 9166742 (one-pass reading on a second thread, regexes without a full DFA):
# GEN=hunt I=1000000 E=1000000 WORK=/tmp/hc, release, the one-event run of this script
# (`run ... one.ndjson`) 3 times alternated with the binary of 51dc22b, load 4.1-4.3:
#   old 6.29-6.60 user + 0.90-0.93 sys s CPU, 7.41-7.71 s wall, peak RSS 914 MB
#   new 4.90-4.99 user + 0.83-0.91 sys s CPU, 3.56-3.67 s wall, peak RSS 705 MB
# i.e. compile of 1,000,000 indicators in ~3.6 s wall (target <= 10 s met; 5.8 s CPU on two
# threads, 7.3 s before on one) and 705 bytes per indicator resident at its peak, of which
# 410 bytes are the input file held while it is read. Alerts of the whole run identical to
# the old binary's (10933) and equal to expected.json (10000/10000, 933/933). callgrind of
# the startup over the first 100,000 indicators: 5.10 G instructions at 51dc22b, 3.15 G
# before the reading thread. What is left (perf, callgrind): JSON scanning of the objects
# ~15 %, parsing patterns ~11 %, building the 20,000 LIKE/MATCHES regexes ~19 % (most of it
# regex-automata's per-regex set-up: NFA and reverse NFA, UTF-8 caches), adding to the index
# ~12 % (anchors, keys), the kernel's copy and page faults of the 410 MB file ~8 %,
# allocation and freeing of each pattern's AST and compiled form ~10 %.
# Event loop re-measured 2026-11-27 05:40-05:57 UTC after 91cd7aa and 89e710a (the
# scanner's compact "key":"value" members read from one window of the quote bitmap, names
# compared as two 64-bit words, an observed-data timestamp on the day of the one before read
# as a time of day) and 1ba7145 (hunt_loop on mimalloc, the binary's allocator since
# 21b1924). GEN=hunt I=1000000 E=1000000 WORK=/tmp/hw, `hunt_loop indicators.json
# observations.ndjson 2` in thread CPU time, load 6-8 on the 2 cores, 511daa0's example
# alternated with the new ones (7 alternations for glibc, 3 with mimalloc), seconds of CPU
# per 1,000,000 events over both passes:
#   511daa0                1.33-1.57 s, median 1.406  (~711,000 events per CPU-second)
#   89e710a, glibc         1.29-1.44 s, median 1.335  (~749,000)
#   1ba7145, mimalloc      1.24-1.44 s, median 1.283  (~779,000)
# i.e. 1.05x from the scanner, 1.10x with the allocator. callgrind over the first 20,000
# lines (hunt loop alone, glibc): 13,580 -> 12,680 instructions per line. Whole runs of the
# entente binary (05:55, load 6-7; new = 89e710a, which has mimalloc): alerts byte-identical
# (sorted) to 511daa0's (10933 lines) and equal to expected.json (10000/10000, 933/933);
# new 3.94-4.00 user + 1.80-3.60 sys s CPU, peak RSS 810-922 MB; old 4.57-4.70 + 1.23-1.31 s,
# 703-704 MB: 100-220 MB more at the peak (up to ~940 bytes per indicator, the 1 KiB target
# nearly used up) and more system time, most likely mimalloc's (nothing else on hunt's path
# allocates differently); to be looked at with the allocator's settings. Still
# not met: 1,000,000 events per CPU-second (~1.28x to go). perf of hunt_loop now: the
# scanner's member reading ~17 % and its prescan ~7 %, the equality filter's reads ~11 % (a
# cache miss per probe into the 2 MB Bloom filter; a 1 MB filter was no faster, its false
# positives probe the 16 MB slots), the kernel's copy of the file ~12 %, the indexed paths'
# walk and look-ups ~10 %, UTF-8 checks ~3 %, `memcmp` ~2 %. Tried and not kept: the 1 MB
# filter (1.35-1.41 s vs 1.33-1.39 s, alternated). Not possible without `unsafe` in our crates:
# a memory map of the input (memmap2's map is an unsafe fn) and prefetch or movemask
# intrinsics (target-feature functions need an unsafe call).
# Re-run 06:14-06:15 UTC at f08a996 (mimalloc with `no_thp` since 45bdc3b), load 6.4-7.1:
# whole runs alternated twice with 511daa0's binary: 4.16+0.96 / 3.95+0.81 s CPU, peak RSS
# 845 / 775 MB, against 4.48+0.90 / 4.57+0.76 s, 703 / 704 MB (system time back to the old
# binary's; the peak still 70-140 MB higher, ~780-850 bytes per indicator); alerts
# byte-identical (sorted, 10933) and equal to expected.json (10000/10000, 933/933).
# hunt_loop, 3 alternations of 2 passes: old 1.39-1.54 s (median 1.46), new 1.28-1.39 s
# (median 1.35) per 1,000,000 events: ~683,000 -> ~742,000 events per CPU-second, 1.09x.
# Re-measured 2026-11-27 after a8b7625 (input read, and gzip inflated, on a reading thread
# of its own, 1 MiB chunks up to 4 ahead; the kernel's copy was ~12 % of the loop) and the
# allocator without transparent huge pages (45bdc3b). hunt_loop, thread CPU of the matching
# thread, 45bdc3b's example vs a8b7625's alternated: at load 8-11 1.417 / 1.261 / 1.385 /
# 1.292 -> 1.188 / 1.148 / 1.158 / 1.123 s per 1,000,000 events; quiet (06:45 UTC, load
# 1.1) 1.632 / 1.560 / 1.699 / 1.684 -> 1.443 / 1.383 / 1.411 / 1.339 s (the same VM's CPU
# second was slower quiet than loaded, for both binaries; the ratio, ~1.17x, is the
# figure). Whole runs quiet, release build of 20f160f, GEN=hunt I=1000000 E=1000000
# WORK=/tmp/hw: summary 763,111 / 738,157 events/s (1.31 / 1.35 s), 3.58 / 3.54 s wall,
# 4.21+1.30 / 4.42+0.95 s CPU, peak RSS 915 / 902 MB; startup alone (one-line input) 2.29
# s wall, 3.21+0.68 s CPU, 888 MB. Alerts identical (sorted) to the previous binaries' and
# 511daa0's (10,933). Still not met: 1,000,000 events per second on one core.
# Event loop re-measured 2026-11-27 08:17-08:33 UTC after 1dac1c3..c7614d2 (an address is
# looked up only in a /16 block some indicator on its path names; the quiet filter scans a
# line's bytes before UTF-8 is known, its prescan telling ASCII; scanned values looked up as
# bytes, never made &str; nested members read by the quote bitmap; an alert explained by the
# stream's compiled pattern instead of compiling it again; time of day, dotted quads,
# number_observed and hash case read without a branch or a call per byte). GEN=hunt
# I=1000000 E=1000000 WORK=/tmp/hw, release, load 3.3-3.9 on the 2 cores (other sessions'
# builds and servers), 3359f9f's example and binary alternated with c7614d2's:
#   hunt_loop indicators.json observations.ndjson 2, 4 alternations, thread CPU per
#   1,000,000 events: 3359f9f 1.067-1.159 s (median 1.142), c7614d2 0.914-0.987 s (median
#   0.952): 1.20x, ~875,000 -> ~1,050,000 events per CPU-second.
#   callgrind of the loop alone (valgrind --tool=callgrind --collect-atstart=no
#   --toggle-collect='hunt::reader::Reader::next_item'
#   --toggle-collect='hunt::hunt::Hunter::event' hunt_loop IND LINES 1): the first 20,000
#   lines with the first 20,000 indicators 11,269 -> 9,864 instructions per line; the first
#   5,000 lines with all 1,000,000 indicators 12,273 -> 10,792 (both 1.14x).
#   whole runs (`run` above on observations.ndjson), twice each: summary 670,292 / 858,664
#   -> 975,925 / 974,196 events/s, 3.85+0.90 / 3.78+0.78 -> 3.63+0.82 / 3.69+0.78 s CPU,
#   peak RSS 880 / 879 -> 860 / 860 MB. Alerts byte-identical (sorted) to 3359f9f's
#   (10,933) and equal to expected.json (10000/10000, 933/933).
# Of the 1.20x, ~1.04x is the /16 sets (an address look-up was a cache miss in the 2 MB
# filter), and it is this workload's best case: the generator draws indicator addresses
# from first octets benign traffic never uses, so every benign address skips the table; a
# real feed spreads over most public /16 blocks and saves mostly the private ranges. The
# rest is instructions. Not met: the 1.3x asked; 1,000,000 events per CPU-second is reached
# in the loop's thread CPU time here, not yet in whole runs' wall time under load. Tried
# and not kept: the compact members read by a function of their own (10,590 -> 10,773
# instructions per line: its call and spills), name masks made by shifts instead of loaded
# (-> 10,882), the members of observed-data and bundles not kept (-35 per line, not worth
# its bail case); the quote bitmap gathered by psadbw- or shift-friendly loops (LLVM makes
# no movemask of them: 38-300 instructions per 16-64 bytes against 61 per 64 now). Left
# (callgrind, first 20,000 lines): the objects' reading ~55 % (observed-data checks and
# timestamps included), the prescan ~18 %, the walk of the indexed paths and the look-ups
# ~20 %, the reader's newline search ~3 %; with all 1,000,000 indicators the 1 % of lines
# that hit cost ~10 % more (serde_json parse ~35,000 instructions a line, the model loaded
# three times, the pattern compiled again on a cache miss).
# Re-measured 08:37-08:42 UTC at 0bed059 (whitespace skipped after one comparison when there
# is none), same workload and commands, load 1.2-1.3 then 2.3-3.5: hunt_loop, 8 alternations
# of 2 passes with 3359f9f's example: 3359f9f 0.998-1.150 s (median 1.090), 0bed059
# 0.882-0.963 s (median 0.923) CPU per 1,000,000 events: 1.18x (1.15x in the quieter
# half, 1.22x in the other), ~1,080,000 events per CPU-second. callgrind 11,269 -> 9,617
# instructions per line (first 20,000 lines and indicators, 1.17x) and 12,273 -> 10,571
# (first 5,000 lines, all 1,000,000 indicators, 1.16x). Whole runs, twice each (a callgrind
# on the other core): summary 621,050 / 779,739 -> 927,857 / 907,730 events/s, 4.70+2.50 /
# 4.54+1.08 -> 4.44+1.51 / 4.35+0.94 s CPU, peak RSS 772 / 872 -> 781 / 830 MB; alerts
# byte-identical (sorted, 10,933) to 3359f9f's and equal to expected.json (10000/10000,
# 933/933).
# Quiet re-measure 2026-11-27 08:54-08:55 UTC (nothing else running, load ~1), release
# build of 0062fd8 (the matcher as of 0bed059), this script GEN=hunt I=1000000 E=1000000
# WORK=/tmp/hw BEFORE_BIN=<3359f9f's build>: new 1,048,116 / 1,060,383 events/s (the
# summary's loop rate, 0.954 / 0.943 s), 3.18 / 2.83 s wall, peak RSS 891 / 873 MB (~890
# bytes per indicator); before 879,740 / 862,770 events/s, 907 / 895 MB: 1.20-1.23x.
# Startup (one-line input, loading and compiling 1,000,000 indicators) 1.96 s wall.
# Alerts identical (sorted, 10,933) and equal to expected.json (10000/10000, 933/933).
# stix2-matcher in the same run: 18,306 evaluations per CPU-second, 0.0183 events per
# CPU-second against 1,000,000 indicators. The whole process pinned to one core
# (`taskset -c 0`, so the reading thread shares it): 928,316 / 916,734 events/s.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${ENTENTE_SHARED:-$root/../shared}"
indicators="${I:-10000}"
events="${E:-200000}"
seed="${SEED:-11}"
hit="${HIT:-0.01}"
gen="${GEN:-pattern}"
venv="${VENV:-$root/target/interop-venv}"
[[ -x "$venv/bin/python" ]] || venv=/tmp/ref
work="${WORK:-$(mktemp -d)}"
ref_i="${REF_I:-10000}"
ref_e="${REF_E:-2000}"

if [[ -z "${ENTENTE_BIN:-}" ]]; then
    (cd "$root" && cargo build --release --locked -p entente-cli)
    ENTENTE_BIN="${CARGO_TARGET_DIR:-$root/target}/release/entente"
fi

case "$gen" in
    pattern) generator="$shared/bench/pattern_bench_gen.py" ;;
    hunt) generator="$root/scripts/hunt_bench_gen.py" ;;
    *) echo "GEN must be pattern or hunt" >&2; exit 2 ;;
esac
if [[ ! -s "$work/observations.ndjson" ]]; then
    python3 "$generator" --indicators "$indicators" --events "$events" --seed "$seed" \
        --hit-rate "$hit" --out "$work" >/dev/null
fi
head -n 1 "$work/observations.ndjson" >"$work/one.ndjson"
mb=$(( $(stat -c %s "$work/observations.ndjson") / 1000000 ))

# run NAME BIN INPUT ALERTS: one hunt, its CPU time, peak RSS and summary
run() {
    echo "== $1 ($indicators indicators, $(wc -l <"$3") events, $mb MB)"
    /usr/bin/time -f "cpu %U+%S s, wall %e s, peak RSS %M KiB" "$2" hunt \
        --indicators "$work/indicators.json" --format stix --alerts "$4" "$3" 2>&1 |
        grep -v ': [0-9]* events, [0-9]* bad lines$'
}

bins=("new:$ENTENTE_BIN")
[[ -n "${BEFORE_BIN:-}" ]] && bins+=("before:$BEFORE_BIN")
for b in "${bins[@]}"; do
    run "${b%%:*} startup" "${b#*:}" "$work/one.ndjson" "$work/alerts-one.ndjson"
done
for b in "${bins[@]}"; do
    run "${b%%:*}" "${b#*:}" "$work/observations.ndjson" "$work/alerts-${b%%:*}.ndjson"
done
if [[ -n "${BEFORE_BIN:-}" ]]; then
    if cmp -s <(sort "$work/alerts-new.ndjson") <(sort "$work/alerts-before.ndjson"); then
        echo "alerts identical to the before binary's ($(wc -l <"$work/alerts-new.ndjson") lines)"
    else
        echo "alerts DIFFER from the before binary's"
    fi
fi

echo "== alerts against expected.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
expected = json.load(open(f"{work}/expected.json"))
stream = {s["indicator"] for s in expected["stream"]}
want = {(int(event) + 1, ind) for event, inds in expected["per_event"].items() for ind in inds}
got, got_stream = set(), set()
for line in open(f"{work}/alerts-new.ndjson"):
    alert = json.loads(line)
    if alert["indicator"] in stream:
        got_stream.add(alert["indicator"])
    else:
        got.add((alert["source"]["line"], alert["indicator"]))
print(f"single-event pairs: expected {len(want)}, missing {len(want - got)}, unexpected {len(got - want)}")
print(f"multi-observation indicators: expected {len(stream)}, hit {len(got_stream & stream)}")
sys.exit(0 if want == got and stream <= got_stream else 1)
PY

echo "== stix2-matcher (reference) on the first $ref_i indicators and $ref_e events"
python3 - "$work" "$ref_i" "$ref_e" <<'PY'
import json, os, sys
work, ni, ne = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = os.path.join(work, "ref")
os.makedirs(out, exist_ok=True)
bundle = json.load(open(os.path.join(work, "indicators.json")))
bundle["objects"] = bundle["objects"][:ni]
json.dump(bundle, open(os.path.join(out, "indicators.json"), "w"))
ids = {o["id"] for o in bundle["objects"]}
with open(os.path.join(work, "observations.ndjson")) as f, \
        open(os.path.join(out, "observations.ndjson"), "w") as g:
    for n, line in enumerate(f):
        if n >= ne:
            break
        g.write(line)
expected = json.load(open(os.path.join(work, "expected.json")))
per_event = {e: [i for i in v if i in ids] for e, v in expected["per_event"].items()
             if int(e) < ne}
json.dump({"per_event": {e: v for e, v in per_event.items() if v}, "stream": []},
          open(os.path.join(out, "expected.json"), "w"))
PY
"$venv/bin/python" "$shared/bench/pattern_bench_ref.py" "$work/ref" --max-evals 200000 \
    | tee "$work/ref.json"
python3 - "$work/ref.json" "$indicators" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rate = r["evaluations_per_cpu_s"]
print(f"reference: {rate:.0f} evaluations per CPU-second = "
      f"{rate / int(sys.argv[2]):.4f} events per CPU-second against {sys.argv[2]} indicators")
PY
