"""Differential test: entente's pattern evaluator against the OASIS stix2-matcher.

Thousands of seeded random cases from `pattern_gen` are evaluated twice: in-process
with `stix2matcher.matcher.match(pattern, observed_data, stix_version=...)` and with
`entente pattern match --stix-version V PATTERN FILE` (exit 0 = match, 1 = no match,
2 = error). Every case ends up in one class:

* agree            -- same verdict (both matched, both did not, or both raised an error);
* disagree         -- both gave a verdict, and the verdicts differ;
* reference-error  -- the reference raised, entente gave a verdict;
* our-error        -- entente reported an error (or crashed), the reference gave a verdict.

Anything but `agree` fails the test unless a known deviation of the reference from the
spec explains it. Known deviations are declared in `data/pattern_deviations.json` (id,
spec section, why, predicate, and the entry of `crates/pattern/DEVIATIONS.md` that
documents it); each id is recognised below, mostly by re-running the reference with that
deviation corrected. The non-agreeing cases are written to
`target/pattern-differential-disagreements.json` for inspection.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import decimal
import functools
import ipaddress
import json
import re
import subprocess
import sys
import tempfile
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from unittest import mock

import pytest
import stix2matcher.matcher as refmatcher

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
    # probes aimed at known reference/spec differences and lexer corners
    "cmp:mixed-precedence": 150, "qual:chained": 400, "lex:whitespace": 200, "lit:regex": 400,
    "lit:hash-case": 15, "lit:int-float": 50, "lit:bool-vs-number": 20, "lit:unicode-normalization": 10,
    "lit:bare-address": 10, "lit:cidr-prefix-zero": 15, "lit:ipv4-leading-zeros": 10, "lit:ipv6-cidr": 10,
    "path:dangling-ref": 8,
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
# Known deviations. Each is declared in data/pattern_deviations.json and documented in
# crates/pattern/DEVIATIONS.md. Most are recognised by a counterfactual: the reference is
# re-run with that one departure from the spec corrected (a patch of stix2-matcher's
# internals, or a rewrite of the pattern), and the deviation explains the case when the
# corrected reference then gives entente's verdict.
# ---------------------------------------------------------------------------------------


class _Latin1Bytes(bytes):
    """Binary values whose `.decode()` maps octets to U+0000-U+00FF (as `=` and MATCHES do)."""

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Ignore the requested codec: the spec's octet <-> code point mapping is Latin-1."""
        return bytes.decode(self, "latin-1", errors)


def _patch_single_address_is_cidr() -> contextlib.AbstractContextManager[object]:
    """M7 and F1: a single IPv4 address where the reference demands a CIDR is a /32."""
    original = refmatcher._cidr_subnet_to_ints

    def cidr_or_address(text: str) -> tuple[int, int]:
        """The reference's CIDR parser, given '/32' where no prefix is written."""
        return original(text if "/" in text else text + "/32")

    return mock.patch.object(refmatcher, "_cidr_subnet_to_ints", cidr_or_address)


def _patch_cidr_prefix_zero() -> contextlib.AbstractContextManager[object]:
    """F8: '/0' is a valid prefix length (the whole address space)."""
    original = refmatcher._cidr_subnet_to_ints

    def with_zero_prefix(text: str) -> tuple[int, int]:
        """The reference's CIDR parser, accepting the prefix length 0."""
        if text.endswith("/0"):
            return refmatcher._ip_addr_to_int(text[:-2]), 0
        return original(text)

    return mock.patch.object(refmatcher, "_cidr_subnet_to_ints", with_zero_prefix)


def _patch_decimal_octets() -> contextlib.AbstractContextManager[object]:
    """F7: dotted-quad octets are decimal, also with leading zeros ('010' is ten, not eight)."""
    original = refmatcher._ip_addr_to_int

    def decimal_quad(text: str) -> int:
        """A dotted quad read as decimal octets; anything else as the reference reads it."""
        octets = text.split(".")
        if len(octets) == 4 and all(o.isdigit() and int(o) < 256 for o in octets):
            return int.from_bytes(bytes(int(o) for o in octets), "big")
        return original(text)

    return mock.patch.object(refmatcher, "_ip_addr_to_int", decimal_quad)


def _patch_ip_families() -> contextlib.AbstractContextManager[object]:
    """M6 and F4: ISSUBSET/ISSUPERSET over IPv4 and IPv6, false for values that are not IPs.

    What the reference's IPv4 routine (with any other active correction) answers stands;
    where it raises, Python's ipaddress decides: single addresses are /32 or /128, and
    values of another family or no address at all are not contained.
    """
    original = refmatcher._ip_or_cidr_in_subnet

    def in_network(containee: str, container: str) -> bool:
        """The reference's containment test, with ipaddress where it raises."""
        try:
            return original(containee, container)
        except refmatcher.MatcherException:
            pass
        try:
            inner = ipaddress.ip_network(containee, strict=False)
            outer = ipaddress.ip_network(container, strict=False)
        except ValueError:
            return False
        return inner.version == outer.version and inner.subnet_of(outer)

    return mock.patch.object(refmatcher, "_ip_or_cidr_in_subnet", in_network)


def _patch_like_line_breaks() -> contextlib.AbstractContextManager[object]:
    """M3: LIKE's '%' and '_' also cover line breaks, and the match ends at the value's end."""
    original = refmatcher._like_to_regex

    def like_to_regex(like: str) -> str:
        """The reference's LIKE regex with DOTALL and an absolute end anchor."""
        return "(?s)" + original(like).removesuffix("$") + r"\Z"

    return mock.patch.object(refmatcher, "_like_to_regex", like_to_regex)


def _patch_matches_dotall() -> contextlib.AbstractContextManager[object]:
    """M4: MATCHES regexes are compiled with DOTALL."""
    shim = types.SimpleNamespace(compile=lambda regex, flags=0: re.compile(regex, flags | re.DOTALL))
    return mock.patch.object(refmatcher, "re", shim)


def _patch_positional_refs() -> contextlib.AbstractContextManager[object]:
    """M8: `*_refs[n]` indexes the list as written; a dangling item stays in place, matching nothing."""
    original = refmatcher._dereference_cyber_obs_objs

    def dereference(objs: object, refs: list[str], prop: str, *args: object) -> list[object]:
        """The reference's dereferencing, keeping each *_refs item's position."""
        if not prop.endswith("_refs"):
            return original(objs, refs, prop, *args)
        out: list[object] = []
        for ref in refs:
            out.extend(original(objs, [ref], prop, *args) or [{}])
        return out

    return mock.patch.object(refmatcher, "_dereference_cyber_obs_objs", dereference)


@contextlib.contextmanager
def _patch_latin1_like_on_binary() -> Iterator[None]:
    """M9: LIKE sees binary values as octets U+0000-U+00FF, not as UTF-8 text.

    Binary values become `_Latin1Bytes`; the type tables of `=` and ordering are looked
    up as for plain bytes.
    """
    process_original = refmatcher._process_prop_suffix
    lookup_original = refmatcher._get_table_symmetric

    def process(prop: str, value: object) -> object:
        """The reference's suffix conversion, with binary values as `_Latin1Bytes`."""
        result = process_original(prop, value)
        return _Latin1Bytes(result) if isinstance(result, bytes) else result

    def lookup(table: dict[type, dict[type, object]], t1: type, t2: type) -> object:
        """Type-table lookup that treats `_Latin1Bytes` as bytes."""
        return lookup_original(table, bytes if t1 is _Latin1Bytes else t1, bytes if t2 is _Latin1Bytes else t2)

    with mock.patch.object(refmatcher, "_process_prop_suffix", process), \
            mock.patch.object(refmatcher, "_get_table_symmetric", lookup):
        yield


def _patch_not_on_ordering_mismatch() -> contextlib.AbstractContextManager[object]:
    """F3: NOT also negates an ordering comparison whose operand types cannot be ordered.

    The reference returns false early when no order function exists for the two types,
    skipping its NOT; an order function that signals 'not comparable' (ValueError) takes
    the path on which it does apply NOT.
    """
    original = refmatcher._get_table_symmetric

    def not_comparable(a: object, b: object) -> int:
        """An order function for types that cannot be ordered."""
        raise ValueError("not comparable")

    def lookup(table: dict[type, dict[type, object]], t1: type, t2: type) -> object:
        """Type-table lookup; no order function becomes `not_comparable`."""
        found = original(table, t1, t2)
        if found is None and table is refmatcher._COMPARE_ORDER_FUNCS:
            return not_comparable
        return found

    return mock.patch.object(refmatcher, "_get_table_symmetric", lookup)


class _EqualitySet:
    """An IN set whose membership uses the reference's own `=` rules, not Python's `in`."""

    def __init__(self, items: Iterable[object]) -> None:
        """Keep the literal values of the set."""
        self.items = list(items)

    def __iter__(self) -> Iterator[object]:
        """The literal values (the reference peeks at one to spot timestamp sets)."""
        return iter(self.items)

    def __len__(self) -> int:
        """How many literal values the set holds."""
        return len(self.items)

    def __contains__(self, value: object) -> bool:
        """True when `value = item` holds for some item, by the reference's equality table."""
        for item in self.items:
            eq = refmatcher._get_table_symmetric(refmatcher._COMPARE_EQ_FUNCS, type(item), type(value))
            if eq is not None and eq(value, item):
                return True
        return False


def _patch_in_uses_equality() -> contextlib.AbstractContextManager[object]:
    """F5: `IN` is membership by the rules of `=` (no True == 1, binary equals string)."""
    original = refmatcher.MatchListener.exitSetLiteral

    def exit_set_literal(listener: refmatcher.MatchListener, ctx: object) -> None:
        """The reference's set literal, wrapped so membership follows `=`."""
        original(listener, ctx)
        stack = listener._MatchListener__compute_stack  # the reference's private value stack
        stack.append(_EqualitySet(stack.pop()))

    return mock.patch.object(refmatcher.MatchListener, "exitSetLiteral", exit_set_literal)


def _patch_exists_handler() -> contextlib.AbstractContextManager[object]:
    """F2: EXISTS as a property test (3.0.0 has none): the root SCOs for which the path
    selects something; with NOT, the SCOs of that type for which it selects nothing."""

    def exit_prop_test_exists(listener: refmatcher.MatchListener, ctx: Any) -> None:
        """Replace the selected path values by the root SCOs that pass EXISTS."""
        stack = listener._MatchListener__compute_stack  # the reference's private value stack
        found = {obs: set(roots) for obs, roots in stack.pop().items() if roots}
        if ctx.NOT():
            listener.exitObjectType(ctx.objectPath().objectType())
            every = stack.pop()
            found = {obs: set(roots) - found.get(obs, set()) for obs, roots in every.items()}
            found = {obs: roots for obs, roots in found.items() if roots}
        stack.append(found)

    return mock.patch.object(refmatcher.MatchListener, "exitPropTestExists", exit_prop_test_exists, create=True)


def _strict_within(pattern: str) -> str:
    """M1: `WITHIN x` excludes a span of exactly x; shrink x by 0.1 ms (below the data's 1 ms grain)."""
    return re.sub(r"WITHIN\s+(\d*\.?\d+)\s+SECONDS",
                  lambda m: f"WITHIN {decimal.Decimal(m[1]) - decimal.Decimal('0.0001')} SECONDS", pattern)


def _unchanged(pattern: str) -> str:
    """The identity rewrite, for corrections that only patch the reference."""
    return pattern


@dataclasses.dataclass(frozen=True)
class Counterfactual:
    """One correction of the reference: patches of its internals and/or a pattern rewrite."""

    patches: tuple[Callable[[], contextlib.AbstractContextManager[object]], ...] = ()
    rewrite: Callable[[str], str] = _unchanged


COUNTERFACTUALS: dict[str, Counterfactual] = {  # tried in this order: the broadest fix last
    "within-boundary-exclusive": Counterfactual(rewrite=_strict_within),
    "like-line-breaks": Counterfactual(patches=(_patch_like_line_breaks,)),
    "matches-dotall": Counterfactual(patches=(_patch_matches_dotall,)),
    "ip-single-address": Counterfactual(patches=(_patch_single_address_is_cidr,)),
    "cidr-prefix-zero": Counterfactual(patches=(_patch_cidr_prefix_zero,)),
    "ipv4-decimal-octets": Counterfactual(patches=(_patch_decimal_octets,)),
    "refs-index-as-written": Counterfactual(patches=(_patch_positional_refs,)),
    "exists-unimplemented": Counterfactual(patches=(_patch_exists_handler,)),
    "like-binary-octets": Counterfactual(patches=(_patch_latin1_like_on_binary,)),
    "not-ordering-type-mismatch": Counterfactual(patches=(_patch_not_on_ordering_mismatch,)),
    "in-membership-equality": Counterfactual(patches=(_patch_in_uses_equality,)),
    "ip-families": Counterfactual(patches=(_patch_ip_families,)),
}


def corrected_reference_verdict(case: pattern_gen.Case, ids: Iterable[str]) -> Verdict:
    """The reference's verdict with the given deviations corrected."""
    with contextlib.ExitStack() as stack:
        pattern = case.pattern
        for dev_id in ids:
            fix = COUNTERFACTUALS[dev_id]
            pattern = fix.rewrite(pattern)
            for patch in fix.patches:
                stack.enter_context(patch())
        return reference_verdict(dataclasses.replace(case, pattern=pattern))


_LONG_FRACTION = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})\d+Z")


def _truncated_to_microseconds(case: pattern_gen.Case) -> pattern_gen.Case | None:
    """The case with every timestamp (literals and data) cut to microseconds, as the
    reference reads them; None when no timestamp is finer than that."""
    data_text = json.dumps(case.observed_data, ensure_ascii=False)
    if not (_LONG_FRACTION.search(case.pattern) or _LONG_FRACTION.search(data_text)):
        return None
    return dataclasses.replace(case, pattern=_LONG_FRACTION.sub(r"\1Z", case.pattern),
                               observed_data=json.loads(_LONG_FRACTION.sub(r"\1Z", data_text)))


def _sub_microsecond_truncated(o: Outcome, ours_on: Callable[[pattern_gen.Case], Verdict]) -> bool:
    """F6: the reference truncates timestamps to microseconds; recognised when entente,
    given the truncated timestamps, gives the reference's verdict."""
    truncated = _truncated_to_microseconds(o.case)
    return truncated is not None and ours_on(truncated) == o.reference


def load_deviations() -> list[dict[str, str]]:
    """The declared known deviations (data/pattern_deviations.json)."""
    return json.loads(DEVIATIONS_JSON.read_text(encoding="utf-8"))


def classify_deviation(outcome: Outcome,
                       ours_on: Callable[[pattern_gen.Case], Verdict]) -> tuple[str, ...] | None:
    """The known deviation(s) that explain a non-agreeing outcome, or None.

    `ours_on` evaluates a (modified) case with entente. One correction at a time first;
    then all reference corrections together, reduced to those whose removal breaks the
    explanation (a case can hit two deviations at once).
    """
    if outcome.klass == "our-error":
        return None
    if _sub_microsecond_truncated(outcome, ours_on):
        return ("timestamp-sub-microsecond",)
    target = outcome.ours.matched
    for dev_id in COUNTERFACTUALS:
        if corrected_reference_verdict(outcome.case, [dev_id]).matched == target:
            return (dev_id,)
    # Several deviations at once: with sub-microsecond timestamps in play, compare on the
    # truncated case (entente re-run on it) instead.
    case, extra = outcome.case, ()
    truncated = _truncated_to_microseconds(case)
    if truncated is not None:
        case, target, extra = truncated, ours_on(truncated).matched, ("timestamp-sub-microsecond",)
    needed = list(COUNTERFACTUALS)
    if target is None or corrected_reference_verdict(case, needed).matched != target:
        return None
    for dev_id in reversed(needed):  # drop the broadest fixes first
        rest = [d for d in needed if d != dev_id]
        if corrected_reference_verdict(case, rest).matched == target:
            needed = rest
    if extra and corrected_reference_verdict(outcome.case, needed).matched == outcome.ours.matched:
        extra = ()  # the truncation was not needed after all
    return extra + tuple(needed)


# ---------------------------------------------------------------------------------------
# Running the two evaluators
# ---------------------------------------------------------------------------------------


@functools.cache
def generated_cases() -> list[pattern_gen.Case]:
    """The fixed, seeded case set (generated once per session)."""
    return pattern_gen.generate_cases(SEED, CASE_COUNT)


def reference_verdict(case: pattern_gen.Case) -> Verdict:
    """Evaluate a case with stix2-matcher; any exception is the reference's error."""
    try:
        return Verdict(bool(refmatcher.match(case.pattern, case.observed_data, stix_version=case.stix_version)))
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


Explanations = dict[str, tuple[str, ...] | None]


def explain(outcomes: list[Outcome], binary: Path, workdir: Path) -> Explanations:
    """The known deviation(s) behind each non-agreeing outcome (None: unexplained), by case id."""

    def ours_on(case: pattern_gen.Case) -> Verdict:
        """entente's verdict on a variant of a case."""
        path = workdir / f"{case.id}-variant.json"
        path.write_text(json.dumps(case.observed_data, ensure_ascii=False), encoding="utf-8")
        return entente_verdict(binary, case, path)

    return {o.case.id: classify_deviation(o, ours_on) for o in outcomes if o.klass != "agree"}


def _label(explanation: tuple[str, ...] | None) -> str:
    """A deviation tuple as text for the summary."""
    return " + ".join(explanation) if explanation else "UNEXPLAINED"


def summarise(outcomes: list[Outcome], explanations: Explanations, elapsed: float) -> str:
    """A human-readable summary: totals, per-operator counts, non-agreements by class."""
    classes = collections.Counter(o.klass for o in outcomes)
    lines = [
        f"pattern differential: {len(outcomes)} cases (seed {SEED}) in {elapsed:.1f}s",
        "  " + ", ".join(f"{k}={classes.get(k, 0)}" for k in ("agree", "disagree", "reference-error", "our-error")),
        f"  matched: reference {sum(1 for o in outcomes if o.reference.matched)}, "
        f"entente {sum(1 for o in outcomes if o.ours.matched)} of {len(outcomes)}",
        "  per feature (cases / non-agreeing):",
    ]
    for feat in OPERATOR_FEATURES:
        using = [o for o in outcomes if feat in o.case.features]
        bad = sum(1 for o in using if o.klass != "agree")
        lines.append(f"    {feat:<20} {len(using):>5} / {bad}")
    by_class: collections.Counter[str] = collections.Counter()
    for o in outcomes:
        if o.klass != "agree":
            by_class[f"{o.klass}: {_label(explanations[o.case.id])}"] += 1
    lines.append("  non-agreeing by class and deviation:")
    lines += [f"    {n:>5}  {k}" for k, n in sorted(by_class.items())] or ["    none"]
    return "\n".join(lines)


def dump_disagreements(outcomes: list[Outcome], explanations: Explanations) -> None:
    """Write every non-agreeing case, with both verdicts, for inspection."""
    rows = [
        {**o.case.to_json(), "class": o.klass, "deviation": explanations[o.case.id],
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
    """Each recognised deviation is declared with a spec section and has a DEVIATIONS.md entry."""
    declared = {d["id"]: d for d in load_deviations()}
    assert set(declared) == set(COUNTERFACTUALS) | {"timestamp-sub-microsecond"}, \
        "pattern_deviations.json and the recognisers differ"
    doc = DEVIATIONS_MD.read_text(encoding="utf-8")
    for dev in declared.values():
        assert dev.get("section", "").startswith("STIX 2.1 §9"), f"{dev['id']}: no spec section"
        assert dev.get("why") and dev.get("predicate"), f"{dev['id']}: why/predicate missing"
        missing = [entry for entry in dev.get("doc", []) if f"| {entry} |" not in doc]
        assert dev.get("doc") and not missing, f"{dev['id']}: no entry {missing or dev.get('doc')} in {DEVIATIONS_MD}"


def test_pattern_differential_against_stix2_matcher(entente_bin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """entente and stix2-matcher agree on every case, except for declared deviations."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pattern-diff-") as tmp:
        outcomes = run_differential(entente_bin, Path(tmp))
        explanations = explain(outcomes, entente_bin, Path(tmp))
    summary = summarise(outcomes, explanations, time.monotonic() - start)
    dump_disagreements(outcomes, explanations)
    with capsys.disabled():
        print("\n" + summary)
    unexplained = [o for o in outcomes if o.klass != "agree" and explanations[o.case.id] is None]
    examples = "\n".join(
        f"  {o.case.id} [{o.case.stix_version}] {o.klass}: reference={o.reference.describe()} "
        f"ours={o.ours.describe()}\n    {o.case.pattern}"
        for o in unexplained[:10]
    )
    assert not unexplained, (
        f"{len(unexplained)} of {len(outcomes)} cases disagree without a known deviation "
        f"(all in {DISAGREEMENTS_OUT}):\n{examples}"
    )
