"""`entente export` checked by the sensors' own software: Suricata and a Zeek log parser.

Suricata (7, from Debian; `.ci/run` installs it and sets ENTENTE_SURICATA) loads the
exported directory: every rule must load, and every dataset must load exactly as many
records as its list file has lines (`suricata -T -vvvv` logs "loaded N records" per set).
Then Suricata reads a packet capture made here (a DNS query for an exported domain, a UDP
packet to an exported address) and must raise the two alerts of the exported rules.

The Zeek Intel output is read back with `parsezeeklogs` (a Zeek TSV parser from PyPI, pinned
in requirements.txt): every exported value comes back with its Intel type, escapes decoded.

Inputs: the `sensors` crate's golden input (every value kind) and indicators built from
maltrail trails of the shared data set.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
from pathlib import Path

import pytest
from parsezeeklogs import read_zeek

from conftest import INTEROP_DIR

GOLDEN_INPUT = INTEROP_DIR.parent / "crates/sensors/tests/golden/input.json"
SID_BASE = 1980000
DATASETS = {
    # list file -> (dataset name, type) for the sets the rules do not load themselves
    "ipv4.lst": ("entente-ipv4", "ipv4"),
    "ipv6.lst": ("entente-ipv6", "ip"),
    "md5.lst": ("entente-md5", "md5"),
    "sha256.lst": ("entente-sha256", "sha256"),
}


@pytest.fixture(scope="module")
def suricata() -> str:
    path = os.environ.get("ENTENTE_SURICATA", "")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("ENTENTE_SURICATA must name the suricata binary (.ci/run installs it)", pytrace=False)
    return path


def _lit(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _maltrail_bundle(shared: Path, out: Path) -> tuple[Path, str, str, set[tuple[str, str]]]:
    """Indicators from three maltrail trail files; returns the file, a domain, an IP, and
    the (Zeek indicator, Intel type) pairs an export must hold."""
    objects = []
    domain = ip = ""
    zeek: set[tuple[str, str]] = set()
    for family in ("1312.txt", "sinkhole_certpl.txt", "bianlian.txt"):
        text = (shared / "data/maltrail/static/malware" / family).read_text()
        for n, line in enumerate(text.splitlines()):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "://" in line:
                pattern = f"[url:value = {_lit(line)}]"
                zeek.add((line.split("://", 1)[1].split("#", 1)[0], "Intel::URL"))
            elif re.fullmatch(r"\d+\.\d+\.\d+\.\d+", line):
                pattern = f"[ipv4-addr:value = {_lit(line)}]"
                ip = ip or line
                zeek.add((line, "Intel::ADDR"))
            elif ":" in line or "/" in line:
                continue
            else:
                pattern = f"[domain-name:value = {_lit(line)}]"
                domain = domain or line.lower()
                zeek.add((line.lower().rstrip("."), "Intel::DOMAIN"))
            objects.append({
                "type": "indicator", "spec_version": "2.1",
                "id": f"indicator--{len(objects):08x}-0000-4000-8000-{n:012x}",
                "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z",
                "name": family.removesuffix(".txt"), "pattern": pattern, "pattern_type": "stix",
                "valid_from": "2025-01-01T00:00:00Z",
            })
    path = out / "maltrail.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001",
                                "objects": objects}))
    assert domain and ip
    return path, domain, ip, zeek


def _export(entente, source: Path, out: Path) -> None:
    r = entente("export", "suricata-dataset", "--file", source, "--out", out, "--sid-base", SID_BASE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("exported "), r.stdout


def _suricata_args(suricata: str, d: Path, logdir: Path) -> list[str]:
    args = [suricata, "-c", "/etc/suricata/suricata.yaml", "-S", str(d / "entente.rules"),
            "--set", f"default-rule-path={d}", "-l", str(logdir), "--init-errors-fatal"]
    for file, (name, kind) in DATASETS.items():
        args += ["--set", f"datasets.{name}.type={kind}", "--set", f"datasets.{name}.load={d / file}"]
    return args


@pytest.mark.parametrize("source", ["golden", "maltrail"])
def test_suricata_loads_every_rule_and_record(entente, shared_dir, suricata, tmp_path, source):
    if source == "golden":
        src = GOLDEN_INPUT
    else:
        src, _, _, _ = _maltrail_bundle(shared_dir, tmp_path)
    d = tmp_path / "suricata"
    _export(entente, src, d)
    logdir = tmp_path / "log"
    logdir.mkdir()
    r = subprocess.run([*_suricata_args(suricata, d, logdir), "-T", "-vvvv"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    rules = [l for l in (d / "entente.rules").read_text().splitlines() if l.startswith("alert ")]
    m = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", log)
    assert m, log[-3000:]
    assert (int(m.group(1)), int(m.group(2))) == (len(rules), 0)
    loaded = {name: int(n) for name, n in re.findall(r"dataset: (entente-[\w-]+) loaded (\d+) records", log)}
    for lst in sorted(d.glob("*.lst")):
        if lst.name == "sha1.lst":
            continue  # no dataset type; only the filesha1 rule reads it
        name = "entente-" + lst.stem
        lines = len(lst.read_text().splitlines())
        assert loaded.get(name) == lines, (name, loaded, lines)


def _ipv4_udp(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                         bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    header = header[:10] + struct.pack("!H", ~total & 0xFFFF) + header[12:]
    ether = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return ether + header + udp


def _dns_query(name: str) -> bytes:
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)


def _pcap(path: Path, packets: list[bytes]) -> None:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, p in enumerate(packets):
        out += struct.pack("<IIII", 1_700_000_000 + i, 0, len(p), len(p)) + p
    path.write_bytes(out)


def test_suricata_alerts_on_exported_values(entente, shared_dir, suricata, tmp_path):
    src, domain, ip, _ = _maltrail_bundle(shared_dir, tmp_path)
    d = tmp_path / "suricata"
    _export(entente, src, d)
    pcap = tmp_path / "traffic.pcap"
    _pcap(pcap, [
        _ipv4_udp("10.0.0.5", "10.0.0.53", 40000, 53, _dns_query(domain)),
        _ipv4_udp("10.0.0.5", ip, 40001, 9999, b"hello"),
        _ipv4_udp("10.0.0.5", "10.0.0.53", 40002, 53, _dns_query("not-listed.example")),
    ])
    logdir = tmp_path / "log"
    logdir.mkdir()
    r = subprocess.run([*_suricata_args(suricata, d, logdir), "-r", str(pcap), "-k", "none",
                        "--runmode", "single"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    alerts = []
    for line in (logdir / "eve.json").read_text().splitlines():
        event = json.loads(line)
        if event.get("event_type") == "alert":
            alerts.append(event)
    sids = sorted({a["alert"]["signature_id"] for a in alerts})
    dns = [a for a in alerts if a["alert"]["signature_id"] == SID_BASE + 1]
    assert len(dns) == 1, sids
    assert dns[0]["dest_ip"] == "10.0.0.53" and dns[0]["src_port"] == 40000
    to_ip = [a for a in alerts if a["alert"]["signature_id"] >= SID_BASE + 100]
    assert [a["dest_ip"] for a in to_ip] == [ip], sids


def test_zeek_intel_reads_back_with_a_zeek_parser(entente, shared_dir, tmp_path):
    src, _, _, expected = _maltrail_bundle(shared_dir, tmp_path)
    out = tmp_path / "intel.dat"
    r = entente("export", "zeek-intel", "--file", src, "--out", out)
    assert r.returncode == 0, r.stderr
    records = list(read_zeek(out))
    assert {(rec["indicator"], rec["indicator_type"]) for rec in records} == expected
    # One line per exported value of each indicator (one value may come from several).
    values = int(re.match(r"exported (\d+) values", r.stdout).group(1))
    assert len(records) == values
    assert {rec["meta.desc"] for rec in records} == {"1312", "sinkhole_certpl", "bianlian"}

    golden = tmp_path / "golden.dat"
    r = entente("export", "zeek-intel", "--file", GOLDEN_INPUT, "--out", golden)
    assert r.returncode == 0, r.stderr
    by_desc = {rec["meta.desc"]: rec for rec in read_zeek(golden)}
    # A tab in a name travels escaped (\x09) and comes back as a tab.
    assert by_desc["Payload URL\twith a tab"]["indicator"] == "dl.bad.example:8443/get.php?id=1,2"
    assert by_desc["C2 certificate"]["indicator_type"] == "Intel::CERT_HASH"


def test_import_then_export_gives_the_imported_value_set(entente, shared_dir, tmp_path):
    """maltrail trails through `entente import iocs` into a data directory, then `entente
    export csv` from it: every host, address and URL comes back; IP:port trails (an AND
    with the port) and host-less paths (a LIKE) are listed as not exportable."""
    import csv as csv_mod

    data = tmp_path / "data"
    r = entente("admin", "--data", data, "root", "create", "default")
    assert r.returncode == 0, r.stderr
    r = entente("admin", "--data", data, "collection", "create", "default", "Trails")
    assert r.returncode == 0, r.stderr
    collection = r.stdout.strip()
    files = [shared_dir / "data/maltrail/static/malware" / f
             for f in ("1312.txt", "sinkhole_certpl.txt", "bianlian.txt")]
    expected: set[tuple[str, str]] = set()
    refused: set[str] = set()  # one indicator per distinct trail (deterministic ids)
    for f in files:
        for line in f.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "://" in line:
                expected.add(("url", line))
            elif re.fullmatch(r"\d+\.\d+\.\d+\.\d+", line):
                expected.add(("ip", line))
            elif ":" in line or "/" in line:
                refused.add(line)
            else:
                expected.add(("domain", line.lower()))
    r = entente("import", "iocs", "--data", data, "--collection", collection, *files)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "values.csv"
    r = entente("export", "csv", "--data", data, "--collection", collection, "--out", out)
    assert r.returncode == 0, r.stderr
    with out.open(newline="") as fh:
        got = {(row["type"], row["value"]) for row in csv_mod.DictReader(fh)}
    assert got == expected
    m = re.search(r"not exportable (\d+),", r.stdout)
    assert m and int(m.group(1)) == len(refused), (r.stdout, len(refused))
