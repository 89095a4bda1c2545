"""`entente validate` beside the OASIS reference validator (stix2-validator, pinned).

Two questions, asked of both tools:

(a) Real STIX 2.1 published by third parties (OASIS examples, MITRE ATT&CK, Attack Flow,
    the TLP 2.0 markings) is valid: both must accept every file.
(b) Deliberately broken objects (`data/broken/NN-<family>.json`, one per rule family) are
    invalid: entente must exit 1 naming the rule the file records, and the reference must
    reject too, except where the file records a defect of the reference
    (`reference_agrees: false`, with the reference's actual outcome and the spec section
    that decides the question). Valid-but-tricky objects (`data/tricky/`) must be accepted
    by both. Where entente itself is known to be wrong, the file says so in `entente_gap`
    and the case is a strict xfail (see `cases`).

The reference runs with its default options for STIX 2.1. Its warnings (SHOULD rules) are
not compared: entente reports a different set of SHOULDs, and neither affects validity.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from stix2validator import ValidationError, ValidationOptions, validate_file, validate_instance

from conftest import INTEROP_DIR, shared_dir_from_env

# STIX 2.1 content in the shared data set, with the least number of files each pattern must
# match: a renamed or missing folder then fails loudly instead of shrinking the suite.
# cti-stix2-json-schemas/interop/*.json is deliberately absent: those files are JSON
# Schemas (interop profiles), not STIX objects.
CORPUS = [
    ("oasis-stix21/cti-stix2-json-schemas/examples/*.json", 6),
    ("oasis-stix21/cti-stix2-json-schemas/examples/threat-reports/*.json", 2),
    ("oasis-stix21/cti-documentation/examples/example_json/*.json", 11),
    ("attack-stix21/*-attack-*.json.gz", 2),
    ("attack-flow-stix21/attack-flow-example.json", 1),
    ("attack-flow-stix21/attack-flow-extension-*.json", 1),
    ("stix21-tlp2-markings/tlp-*.json", 5),
]

BROKEN_DIR = INTEROP_DIR / "data" / "broken"
TRICKY_DIR = INTEROP_DIR / "data" / "tricky"
MIN_BROKEN = 60


def corpus_files() -> list[str]:
    shared = shared_dir_from_env()
    if shared is None:
        # Collected anyway so the test runs and fails through the `shared_dir` fixture.
        return ["<ENTENTE_SHARED unset>"]
    data = shared / "data"
    return [str(p.relative_to(data)) for pattern, _ in CORPUS for p in sorted(data.glob(pattern))]


def reference_options() -> ValidationOptions:
    return ValidationOptions(version="2.1")


def reference_outcome(obj: dict) -> tuple[str, str]:
    """How the reference judges one object: ("accepts"|"rejects"|"crashes", detail)."""
    try:
        result = validate_instance(obj, reference_options())
    except ValidationError as error:
        # The reference signals some structural problems (e.g. no id) by raising.
        return "rejects", str(error)
    except Exception as error:  # noqa: BLE001 - a crash is an outcome we record, not a bug here
        return "crashes", repr(error)
    if result.is_valid:
        return "accepts", ""
    return "rejects", "; ".join(str(e) for e in result.errors)


def plain_copy(path: Path, tmp_path: Path) -> Path:
    """The reference reads only plain JSON files; entente reads the .gz itself."""
    if path.suffix != ".gz":
        return path
    plain = tmp_path / path.with_suffix("").name
    with gzip.open(path, "rb") as src, plain.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return plain


def entente_report(entente, *args) -> tuple[int, dict, str]:
    """Runs `entente validate --format json ARGS` and returns (status, report, stderr)."""
    proc = entente("validate", "--format", "json", *args)
    assert proc.returncode in (0, 1), (
        f"entente validate exited {proc.returncode} (usage or I/O error)\n{proc.stderr}"
    )
    return proc.returncode, json.loads(proc.stdout), proc.stderr


# (a) real-world STIX 2.1: both accept ---------------------------------------------------------


def test_corpus_is_complete(shared_dir: Path) -> None:
    data = shared_dir / "data"
    for pattern, minimum in CORPUS:
        found = sorted(data.glob(pattern))
        assert len(found) >= minimum, f"{pattern}: expected at least {minimum} files, found {found}"


@pytest.mark.parametrize("relative", corpus_files())
def test_shared_file_is_valid_for_both(relative: str, shared_dir: Path, entente, tmp_path: Path):
    path = shared_dir / "data" / relative
    reference = validate_file(str(plain_copy(path, tmp_path)), reference_options())
    reference_errors = [
        str(e) for result in (reference.object_results or []) for e in result.errors
    ]
    status, report, stderr = entente_report(entente, path)
    ours = [f"{e['object_id']}: {e['pointer']}: {e['message']} [{e['rule']}]" for e in report["errors"]]

    assert (status == 0) == reference.is_valid, (
        f"disagreement on {relative}: entente exit {status}, reference valid={reference.is_valid}\n"
        f"entente errors: {ours[:20]}\nreference errors: {reference_errors[:20]}"
    )
    assert status == 0, f"{relative} should be valid STIX 2.1:\n" + "\n".join(ours[:50])
    assert report["summary"]["objects"] > 0, f"entente found no objects in {relative}\n{stderr}"


def test_whole_corpus_in_one_run(shared_dir: Path, entente) -> None:
    """Many inputs in one invocation: one summary, exit 0, every file counted."""
    data = shared_dir / "data"
    paths = [data / p for p in corpus_files()]
    proc = entente("validate", *paths)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = proc.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"{len(paths)} files, "), summary
    assert ": 0 errors, " in summary, summary


# (b) broken objects: both reject; tricky objects: both accept --------------------------------


def cases(directory: Path) -> list:
    """One pytest param per data file. A file recording an `entente_gap` (a rule crates/stix
    does not yet get right) is a strict xfail: reported in every run, never hidden, and it
    fails the suite as soon as the gap closes, so the record cannot go stale."""
    params = []
    for path in sorted(directory.glob("*.json")):
        gap = json.loads(path.read_text()).get("entente_gap")
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def broken_files() -> list[Path]:
    return sorted(BROKEN_DIR.glob("*.json"))


def tricky_files() -> list[Path]:
    return sorted(TRICKY_DIR.glob("*.json"))


def test_enough_broken_objects() -> None:
    files = broken_files()
    assert len(files) >= MIN_BROKEN, f"only {len(files)} broken objects in {BROKEN_DIR}"
    families = [p.stem.split("-", 1)[1] for p in files]
    assert len(families) == len(set(families)), "family names must be unique"
    assert tricky_files(), f"no valid-but-tricky objects in {TRICKY_DIR}"


@pytest.mark.parametrize("case", cases(BROKEN_DIR))
def test_broken_object_is_rejected(case: Path, entente, tmp_path: Path) -> None:
    doc = json.loads(case.read_text())
    obj, rule = doc["object"], doc["rule"]
    target = tmp_path / "object.json"
    target.write_text(json.dumps(obj, indent=2))

    status, report, _ = entente_report(entente, target)
    rules = sorted({e["rule"] for e in report["errors"]})
    assert status == 1, f"entente accepted {case.name} ({doc['why']})"
    assert rule in rules, f"{case.name}: expected rule {rule!r}, entente reported {rules}"
    for error in report["errors"]:
        assert error["file"] == str(target) and error["line"] >= 1, error

    outcome, detail = reference_outcome(obj)
    if doc["reference_agrees"]:
        assert outcome == "rejects", (
            f"{case.name}: the reference {outcome} it ({detail}); if the reference is wrong, "
            "record reference_agrees: false with the spec section that decides"
        )
    else:
        assert doc.get("spec") and doc.get("reference_defect"), (
            f"{case.name}: a reference defect needs the deciding spec section and an explanation"
        )
        assert outcome == doc["reference_outcome"], (
            f"{case.name}: recorded reference defect changed: it now {outcome} ({detail})"
        )


@pytest.mark.parametrize("case", cases(TRICKY_DIR))
def test_tricky_object_is_accepted(case: Path, entente, tmp_path: Path) -> None:
    doc = json.loads(case.read_text())
    obj = doc["object"]
    target = tmp_path / "object.json"
    target.write_text(json.dumps(obj, indent=2))

    status, report, _ = entente_report(entente, target)
    assert status == 0, f"entente rejected {case.name} ({doc['why']}): {report['errors']}"
    warned = {w["rule"] for w in report["warnings"]}
    for rule in doc.get("entente_warns", []):
        assert rule in warned, f"{case.name}: expected a {rule!r} warning, got {sorted(warned)}"

    outcome, detail = reference_outcome(obj)
    assert outcome == "accepts", f"{case.name}: the reference {outcome} it ({detail})"
