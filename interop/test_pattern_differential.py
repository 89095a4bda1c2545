"""Differential test: entente's pattern evaluator against the OASIS stix2-matcher.

Thousands of seeded random cases from `pattern_gen` are evaluated twice: in-process
with `stix2matcher.matcher.match(pattern, observed_data, stix_version=...)` and with
`entente pattern match --stix-version V PATTERN FILE` (exit 0 = match, 1 = no match,
2 = error). Every case ends up in one class:

* agree            -- same verdict (both matched, both did not, or both raised an error);
* disagree         -- both gave a verdict, and the verdicts differ;
* reference-error  -- the reference raised, entente gave a verdict;
* our-error        -- entente reported an error (or crashed), the reference gave a verdict.

Anything but `agree` fails the test unless a known deviation explains it. Known
deviations live in `data/pattern_deviations.json` (id, spec section, why, predicate);
each id has a recogniser in `DEVIATION_RECOGNISERS` below and a section in
`crates/pattern/DEVIATIONS.md`. The non-agreeing cases are written to
`target/pattern-differential-disagreements.json` for inspection.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pattern_gen  # noqa: E402  (a sibling module, not an installed package)

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parent
DEVIATIONS_JSON = INTEROP_DIR / "data" / "pattern_deviations.json"
DEVIATIONS_MD = REPO_ROOT / "crates" / "pattern" / "DEVIATIONS.md"
DISAGREEMENTS_OUT = REPO_ROOT / "target" / "pattern-differential-disagreements.json"

SEED = 20261126
CASE_COUNT = 5000
WORKERS = 3
PROCESS_TIMEOUT_S = 30

# Minimum number of generated cases that must use each feature, so that a generator
# regression (an operator or qualifier silently no longer produced) fails the test.
REQUIRED_FEATURES: dict[str, int] = {
    **{f"op:{op}": 60 for op in ("=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES",
                                 "ISSUBSET", "ISSUPERSET", "EXISTS")},
    **{f"op:NOT {op}": 10 for op in ("=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES",
                                     "ISSUBSET", "ISSUPERSET", "EXISTS")},
    "op:==": 30, "op:<>": 30,
    "cmp:AND": 300, "cmp:OR": 300, "cmp:paren": 100,
    "obs:AND": 300, "obs:OR": 300, "obs:FOLLOWEDBY": 300, "obs:unparenthesised": 20,
    "qual:WITHIN": 300, "qual:REPEATS": 300, "qual:START-STOP": 300, "qual:nested": 50,
    "lit:string": 300, "lit:string-escape": 100, "lit:int": 300, "lit:float": 300,
    "lit:bool": 100, "lit:timestamp": 300, "lit:hex": 100, "lit:binary": 100,
    "lit:empty-set": 30, "lit:type-mismatch": 100, "lit:string-vs-binary": 30,
    "path:index": 200, "path:star": 200, "path:ref": 200, "path:refs": 100,
    "path:hash": 100, "path:quoted-key": 200, "path:extension": 100,
    "version:2.0": 400, "version:2.1": 3000,
}
OPERATOR_FEATURES = sorted(f for f in REQUIRED_FEATURES if f.startswith(("op:", "qual:", "obs:")))


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One evaluator's answer for a case: True/False, or None with an error text."""

    matched: bool | None
    error: str = ""

    def describe(self) -> str:
        """Short text for summaries and the disagreement dump."""
        if self.matched is None:
            return f"error: {self.error}"
        return "match" if self.matched else "no match"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """Both verdicts for a case and the resulting class."""

    case: pattern_gen.Case
    reference: Verdict
    ours: Verdict

    @property
    def klass(self) -> str:
        """agree, disagree, reference-error or our-error."""
        ref, ours = self.reference.matched, self.ours.matched
        if ref is None and ours is None:
            return "agree"
        if ref is None:
            return "reference-error"
        if ours is None:
            return "our-error"
        return "agree" if ref == ours else "disagree"


# ---------------------------------------------------------------------------------------
# Known deviations: id -> recogniser. Each must also be declared in pattern_deviations.json
# and have a section in crates/pattern/DEVIATIONS.md.
# ---------------------------------------------------------------------------------------


def _reference_raised(outcome: Outcome, text: str) -> bool:
    """The reference raised an error mentioning `text` while entente gave a verdict."""
    return outcome.klass == "reference-error" and text in outcome.reference.error


def _is_issuperset_on_plain_address(o: Outcome) -> bool:
    """Reference treats a plain IPv4 address on the left of ISSUPERSET as an invalid CIDR."""
    return "ISSUPERSET" in o.case.pattern and _reference_raised(o, "Invalid CIDR subnet")


def _is_subset_on_non_ipv4(o: Outcome) -> bool:
    """Reference raises on ISSUBSET/ISSUPERSET when some value of that path is not IPv4."""
    return ("ISSUBSET" in o.case.pattern or "ISSUPERSET" in o.case.pattern) and \
        _reference_raised(o, "Invalid IPv4 address")


def _is_not_exists_ignored(o: Outcome) -> bool:
    """Reference has no EXISTS handler: `NOT EXISTS p` evaluates like `EXISTS p`.

    Recognised only when dropping the NOT leaves the reference's verdict unchanged,
    which shows the reference ignored it.
    """
    if o.klass != "disagree" or "NOT EXISTS" not in o.case.pattern:
        return False
    without_not = dataclasses.replace(o.case, pattern=o.case.pattern.replace("NOT EXISTS", "EXISTS"))
    return reference_verdict(without_not).matched == o.reference.matched


DEVIATION_RECOGNISERS: dict[str, Callable[[Outcome], bool]] = {
    "reference-issuperset-plain-address": _is_issuperset_on_plain_address,
    "reference-ip-operators-non-ipv4": _is_subset_on_non_ipv4,
    "reference-not-exists-ignored": _is_not_exists_ignored,
}


def load_deviations() -> list[dict[str, str]]:
    """The declared known deviations (data/pattern_deviations.json)."""
    return json.loads(DEVIATIONS_JSON.read_text(encoding="utf-8"))


def classify_deviation(outcome: Outcome) -> str | None:
    """The id of the known deviation that explains a non-agreeing outcome, if any."""
    for dev_id, recognise in DEVIATION_RECOGNISERS.items():
        if recognise(outcome):
            return dev_id
    return None


# ---------------------------------------------------------------------------------------
# Running the two evaluators
# ---------------------------------------------------------------------------------------


@functools.cache
def generated_cases() -> list[pattern_gen.Case]:
    """The fixed, seeded case set (generated once per session)."""
    return pattern_gen.generate_cases(SEED, CASE_COUNT)


def reference_verdict(case: pattern_gen.Case) -> Verdict:
    """Evaluate a case with stix2-matcher; any exception is the reference's error."""
    from stix2matcher.matcher import match

    try:
        return Verdict(bool(match(case.pattern, case.observed_data, stix_version=case.stix_version)))
    except Exception as exc:  # the reference raises MatcherException and also plain crashes
        return Verdict(None, f"{type(exc).__name__}: {exc}")


def entente_verdict(binary: Path, case: pattern_gen.Case, data_file: Path) -> Verdict:
    """Evaluate a case with `entente pattern match`; exit codes other than 0/1 are errors."""
    cmd = [str(binary), "pattern", "match", "--stix-version", case.stix_version, case.pattern, str(data_file)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Verdict(None, f"timeout after {PROCESS_TIMEOUT_S}s")
    if proc.returncode == 0:
        return Verdict(True)
    if proc.returncode == 1:
        return Verdict(False)
    detail = (proc.stderr.strip().splitlines() or [""])[0]
    kind = "error" if proc.returncode == 2 else f"exit {proc.returncode}"
    return Verdict(None, f"{kind}: {detail}")


def run_differential(binary: Path, workdir: Path) -> list[Outcome]:
    """Evaluate every case with both evaluators (entente in a small thread pool)."""
    cases = generated_cases()
    files = []
    for case in cases:
        path = workdir / f"{case.id}.json"
        path.write_text(json.dumps(case.observed_data, ensure_ascii=False), encoding="utf-8")
        files.append(path)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        ours_futures = [pool.submit(entente_verdict, binary, c, f) for c, f in zip(cases, files)]
        references = [reference_verdict(c) for c in cases]
        ours = [f.result() for f in ours_futures]
    return [Outcome(c, r, o) for c, r, o in zip(cases, references, ours)]


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------


def summarise(outcomes: list[Outcome], elapsed: float) -> str:
    """A human-readable summary: totals, per-operator counts, non-agreements by class."""
    classes = collections.Counter(o.klass for o in outcomes)
    lines = [
        f"pattern differential: {len(outcomes)} cases (seed {SEED}) in {elapsed:.1f}s",
        "  " + ", ".join(f"{k}={classes.get(k, 0)}" for k in ("agree", "disagree", "reference-error", "our-error")),
        f"  reference matched {sum(1 for o in outcomes if o.reference.matched)} of {len(outcomes)}",
        "  per feature (cases / non-agreeing):",
    ]
    for feat in OPERATOR_FEATURES:
        using = [o for o in outcomes if feat in o.case.features]
        bad = sum(1 for o in using if o.klass != "agree")
        lines.append(f"    {feat:<20} {len(using):>5} / {bad}")
    by_class: collections.Counter[str] = collections.Counter()
    for o in outcomes:
        if o.klass != "agree":
            by_class[f"{o.klass}: {classify_deviation(o) or 'UNEXPLAINED'}"] += 1
    lines.append("  non-agreeing by class and deviation:")
    lines += [f"    {n:>5}  {k}" for k, n in sorted(by_class.items())] or ["    none"]
    return "\n".join(lines)


def dump_disagreements(outcomes: list[Outcome]) -> None:
    """Write every non-agreeing case, with both verdicts, for inspection."""
    rows = [
        {**o.case.to_json(), "class": o.klass, "deviation": classify_deviation(o),
         "reference": o.reference.describe(), "ours": o.ours.describe()}
        for o in outcomes if o.klass != "agree"
    ]
    DISAGREEMENTS_OUT.parent.mkdir(parents=True, exist_ok=True)
    DISAGREEMENTS_OUT.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------


def test_generator_covers_every_operator_and_qualifier() -> None:
    """The seeded case set uses every operator, qualifier and literal kind often enough."""
    counts = collections.Counter(f for c in generated_cases() for f in c.features)
    short = {f: (counts.get(f, 0), n) for f, n in REQUIRED_FEATURES.items() if counts.get(f, 0) < n}
    assert not short, f"generator coverage below the minimum (feature: (got, need)): {short}"


def test_generated_patterns_are_valid() -> None:
    """Every generated pattern passes the OASIS validator for its STIX version."""
    from stix2patterns.validator import run_validator

    invalid = {c.id: (c.pattern, run_validator(c.pattern, stix_version=c.stix_version))
               for c in generated_cases()}
    invalid = {k: v for k, v in invalid.items() if v[1]}
    assert not invalid, f"{len(invalid)} generated patterns are invalid, e.g. {list(invalid.items())[:3]}"


def test_known_deviations_are_declared_and_documented() -> None:
    """Each recogniser has a JSON declaration with a section, and a DEVIATIONS.md entry."""
    declared = {d["id"]: d for d in load_deviations()}
    assert set(declared) == set(DEVIATION_RECOGNISERS), "pattern_deviations.json and the recognisers differ"
    for dev in declared.values():
        assert dev.get("section", "").startswith("STIX 2.1 §9"), f"{dev['id']}: no spec section"
        assert dev.get("why") and dev.get("predicate"), f"{dev['id']}: why/predicate missing"
    doc = DEVIATIONS_MD.read_text(encoding="utf-8") if DEVIATIONS_MD.is_file() else ""
    missing = [d for d in declared if f"`{d}`" not in doc]
    assert not missing, f"deviations without a section in {DEVIATIONS_MD}: {missing}"


def test_pattern_differential_against_stix2_matcher(entente_bin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """entente and stix2-matcher agree on every case, except for declared deviations."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pattern-diff-") as tmp:
        outcomes = run_differential(entente_bin, Path(tmp))
    summary = summarise(outcomes, time.monotonic() - start)
    dump_disagreements(outcomes)
    with capsys.disabled():
        print("\n" + summary)
    unexplained = [o for o in outcomes if o.klass != "agree" and classify_deviation(o) is None]
    examples = "\n".join(
        f"  {o.case.id} [{o.case.stix_version}] {o.klass}: reference={o.reference.describe()} "
        f"ours={o.ours.describe()}\n    {o.case.pattern}"
        for o in unexplained[:10]
    )
    assert not unexplained, (
        f"{len(unexplained)} of {len(outcomes)} cases disagree without a known deviation "
        f"(all in {DISAGREEMENTS_OUT}):\n{examples}"
    )
