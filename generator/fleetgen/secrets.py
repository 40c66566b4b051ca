"""Credential detection: the ``secret-material`` lint rule and the final scan of rendered bytes.

``scan_data`` walks loaded data (fleet.yaml, or rendered documents) and knows which key each
value stands under; ``scan_text`` reads text a line at a time. Both report a masked value only.

What comes from Yelp's detect-secrets (1.5) and what is ours:

* Token shapes are detect-secrets' plugin classes, read straight from their compiled
  ``denylist`` patterns: ``AWSKeyDetector`` (access key ids; and its ``aws…key = "<40 chars>"``
  pattern, reported as "AWS secret access key"), ``PrivateKeyDetector`` (PEM, OpenSSH, PGP,
  PuTTY headers), ``GitHubTokenDetector``, ``GitLabTokenDetector``, ``SlackDetector`` (tokens
  and webhook URLs), ``JwtTokenDetector`` (pattern plus its ``is_formally_valid`` check that
  header and payload decode to JSON) and ``BasicAuthDetector`` (``scheme://user:password@``).
  We run the patterns with ``finditer`` rather than the plugins' ``analyze_line``, which reads
  detect-secrets' global settings (baseline and verification machinery), or ``analyze_string``,
  which returns ``findall`` groups: for GitHub and GitLab only the token prefix. Nothing here
  touches detect-secrets' settings, baselines or network verification.
* One change to a detect-secrets pattern: the JWT pattern only starts where a token can start
  (not inside a longer base64 run). Unchanged, it is quadratic on a run full of ``eyJ``.
* Entropy limits are detect-secrets' own defaults: ``Base64HighEntropyString`` (4.5 bits/char)
  and ``HexHighEntropyString`` (3.0, with its penalty for all-digit strings, which keeps AWS
  account ids quiet). They apply ONLY to values under a secret-named key: applied everywhere,
  they flag every sha256 image digest, and EKS endpoint ids sit right at the hex limit.
* Secret-named keys are detect-secrets' ``KeywordDetector`` list (``password``, ``secret``,
  ``api_key``, ``private_key`` …) plus ``token``, ``credential``, ``bearer``, ``accesskey`` and
  ``keydata`` (Argo CD's cluster-Secret field). We do not use ``KeywordDetector`` itself: it
  reports every value under such a key, so ``objectStorageSecret: thanos-objstore`` (a Secret's
  NAME, as the fleet format asks) would be an error.
* Ours, because detect-secrets' limits are tuned for source code and miss short credentials: a
  value under a secret-named key is also reported when it mixes three of lower case, upper
  case, digits and symbols (``-``, ``.``, ``_`` do not count: names are made of them) — a
  password's shape, not a name's. Under such a key, references are never material: file
  paths, URLs (userinfo is the basic-auth detector's job), ``${…}``/``{{…}}``/``$(…)``, prose
  (has spaces), anything shorter than 8 characters. So a low-entropy literal such as
  ``password: changeme`` is deliberately not reported: it cannot be told from a Secret's name.
  Also ours: GitHub fine-grained tokens (``github_pat_…``, unknown to detect-secrets 1.5); in
  data, ``{name: DB_PASSWORD, value: …}`` (env vars, Helm parameters) and JSON patches
  ``{path: …/password, value: …}`` put the value under the name or the path's last segment.
* ``scan_text`` sees one line at a time: it finds ``key: value``, ``"key": "value"`` (JSON in
  YAML) and ``--key=value``, but not a value on the line after its key (block scalars,
  ``- name: X`` / ``value: Y``). For rendered documents, ``scan_data`` is the exact check.

Speed: each detector names literals every match contains (``AKIA``, ``ghp_``, ``eyJ``, ``@`` …)
and runs only on strings holding one. ``scan_text`` finds those anchors in the whole text at
once (one regex over the raw bytes for the case-sensitive ones, ``bytes.find`` over the
ASCII-lowered bytes for the rest) and decodes and examines only the lines they hit: 52 MB of
rendered manifests (1.56 M lines, 96 k candidates) take ~1.8 s of CPU. ``LineScan`` scans each
distinct line of many texts once (a rendered tree at 5,000 clusters: 5.4 M lines, 185 k distinct;
1.5 s of CPU instead of 4.1). ``scan_data`` caches per distinct string: a 5,000-cluster fleet
(~220 k keys and scalars) takes ~0.3 s.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from typing import Any

from .deferred import deferred

with deferred("requests", "multiprocessing"):  # detect-secrets needs them only to verify secrets, and scan files
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.slack import SlackDetector

MASK_KEEP = 4  # characters of a long secret shown so a reviewer can find it; a token prefix at most
MASK_MIN_LENGTH = 16  # shorter values are starred out entirely
MIN_MATERIAL_LENGTH = 8  # shorter values under a secret-named key are flags, sizes or placeholders


@dataclass(frozen=True)
class Hit:
    """A credential-looking value at ``path`` (keys/indices into the scanned data)."""

    path: tuple
    kind: str
    masked: str


@dataclass(frozen=True)
class _PatternDetector:
    """One kind of credential recognised by its shape, wherever it appears.

    ``anchors`` are literals every match contains, in the case the patterns require: a
    string without any of them is skipped without running the patterns.
    """

    kind: str
    patterns: tuple[re.Pattern, ...]
    anchors: tuple[str, ...]
    secret_group: int = 0  # which group of a match is the secret itself
    is_valid: Callable[[str], bool] = bool

    @property
    def ignores_case(self) -> bool:
        return all(pattern.flags & re.IGNORECASE for pattern in self.patterns)

    @cached_property
    def lowered_anchors(self) -> tuple[str, ...]:
        return tuple(anchor.lower() for anchor in self.anchors)

    def may_match(self, lowered: str) -> bool:
        return any(anchor in lowered for anchor in self.lowered_anchors)

    def secrets(self, text: str) -> Iterator[str]:
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                secret = match.group(self.secret_group)
                if self.is_valid(secret):
                    yield secret


# detect-secrets lists the key-id pattern, then aws…key="<40 chars>"; unpacking fails loudly if that changes.
_AWS_KEY_ID, _AWS_SECRET_KEY = AWSKeyDetector.denylist
# detect-secrets' JWT pattern, started only where a token can start: tried at every "eyJ" inside one long
# base64 run it is quadratic (a 60 KB run took a second).
(_JWT_ANYWHERE,) = JwtTokenDetector.denylist
_JWT = re.compile(r"(?<![A-Za-z0-9_=-])" + _JWT_ANYWHERE.pattern, _JWT_ANYWHERE.flags)
# github_pat_<22>_<59>: GitHub's fine-grained personal access token, unknown to detect-secrets 1.5.
_GITHUB_FINE_GRAINED = re.compile(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}")

_PATTERN_DETECTORS = (
    _PatternDetector("AWS access key", (_AWS_KEY_ID,), ("A3T", "ABIA", "ACCA", "AKIA", "ASIA")),
    _PatternDetector("AWS secret access key", (_AWS_SECRET_KEY,), ("aws",)),
    _PatternDetector("PEM private key", tuple(PrivateKeyDetector.denylist), ("PRIVATE KEY", "PuTTY-User-Key-File-2")),
    _PatternDetector(
        "GitHub token",
        (*GitHubTokenDetector.denylist, _GITHUB_FINE_GRAINED),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _PatternDetector(
        "GitLab token",
        tuple(GitLabTokenDetector.denylist),
        tuple("glpat- gldt- glft- glsoat- glrt- GR1348941 glcbt- glimt- glptt- glagent- gloas-".split()),
    ),
    _PatternDetector("Slack token", tuple(SlackDetector.denylist), ("xox", "hooks.slack.com")),
    _PatternDetector("JWT", (_JWT,), ("eyJ",), is_valid=JwtTokenDetector.is_formally_valid),
    _PatternDetector("password in URL", tuple(BasicAuthDetector.denylist), ("@",), secret_group=1),
)

_SECRET_KEY_TERMS = (
    *(term.replace("_?", "") for term in keyword.DENYLIST),  # "api_?key" -> "apikey"
    *("token", "credential", "bearer", "accesskey", "keydata"),
)
# Every spelling of a _SECRET_KEY_TERMS key ("api_key", "DB-PASS", "clientSecret") contains one of these.
_SECRET_KEY_ANCHORS = ("key", "pass", "pwd", "secret", "token", "credential", "bearer", "contrase")
_KEY_SEPARATORS = str.maketrans("", "", "-_. /")

# Whole-text prefilter: one regex for the case-sensitive anchors over the raw bytes, substring
# finds for the rest over the lowered bytes (faster than any case-insensitive regex over 50 MB).
_CASED_ANCHOR_BYTES = re.compile(
    b"|".join(re.escape(a.encode()) for d in _PATTERN_DETECTORS if not d.ignores_case for a in d.anchors)
)
_LOWERED_ANCHOR_BYTES = tuple(
    a.lower().encode() for d in _PATTERN_DETECTORS if d.ignores_case for a in d.anchors
) + tuple(a.encode() for a in _SECRET_KEY_ANCHORS)

# Every detector's anchors, lowered: a string without any of them cannot match a detector.
_ANY_ANCHOR = re.compile("|".join(re.escape(a) for d in _PATTERN_DETECTORS for a in d.lowered_anchors))

_BASE64 = Base64HighEntropyString()
_HEX = HexHighEntropyString()
_BASE64_CHARS = frozenset(_BASE64.charset)
_HEX_CHARS = frozenset(_HEX.charset)
_NAME_SEPARATORS = frozenset("-._")
_REFERENCE_MARKERS = ("${", "{{", "$(", "://")

# key: value / "key": "value" / --key=value, as written in YAML, JSON-in-YAML and args. The
# lookbehind makes a key start where a word starts, which keeps the search linear in long runs.
_KEY_VALUE = re.compile(r"""(?<![\w.\-/])([\w.\-/]+)["']?[ \t]*[:=][ \t]*["']?([^\s"',{}\[\]]*)""")


def mask(value: str) -> str:
    """``value`` made safe to print: its first 4 characters and its length, or all stars when short."""
    if len(value) < MASK_MIN_LENGTH:
        return "*" * len(value)
    return f"{value[:MASK_KEEP]}…({len(value)} chars)"


def scan_data(data: Any) -> list[Hit]:
    """Credential-looking keys and string values in plain loaded data, in document order."""
    scan = _DataScan()
    scan.walk(data, (), None)
    return scan.hits


def scan_text(text: str) -> list[tuple[int, str, str]]:
    """``(line, kind, masked)`` for every credential-looking value in ``text``; lines are 1-based."""
    return [
        (number, kind, mask(secret)) for number, line in _candidate_lines(text) for kind, secret in _line_findings(line)
    ]


def scan_text_since(text: str, before: str, hit_lines: Iterable[int]) -> list[tuple[int, str, str]]:
    """:func:`scan_text` of ``text``, given ``before``, a text whose scan found hits on the lines ``hit_lines`` only.

    A line's findings are its own text's (the scan cuts the text at its newlines and reads nothing across one), so a
    line of ``text`` that ``before`` holds on a line without a hit has none: only the other lines are scanned. A
    fleet-wide file rendered again changes in a few of its lines; the README's 30,000 took 0.1 s to scan whole at
    5,000 clusters. A hit line outside ``before`` means the two do not belong together: ``text`` is scanned whole."""
    old = before.split("\n")
    hit = set(hit_lines)
    if not all(1 <= number <= len(old) for number in hit):
        return scan_text(text)
    clean = set(old).difference(old[number - 1] for number in hit)
    return [
        (number, kind, masked)
        for number, line in enumerate(text.split("\n"), 1)
        if line not in clean
        for _, kind, masked in scan_text(line)
    ]


class LineScan:
    """:func:`scan_text` of many texts that share most of their lines, each distinct line scanned once.

    A line's findings are its own text's (see :func:`scan_text_since`), so a line seen before is looked up: a
    rendered tree repeats the same lines in every cluster's files (5,000 clusters: 5.4 M lines, 185 k distinct;
    scanning them all took 4.1 s of CPU, as much as rendering them). Only lines not seen yet are scanned, joined into
    one text. Past ``limit`` lines remembered, the memory starts again before the next text (correct, only slower)."""

    def __init__(self, limit: int = 1 << 21) -> None:
        self.limit = limit
        self.clean: set[str] = set()
        self.hits: dict[str, list[tuple[str, str]]] = {}  # line -> its (kind, masked), in scan order

    def __call__(self, text: str) -> list[tuple[int, str, str]]:
        lines = text.split("\n")
        if len(self.clean) + len(self.hits) > self.limit:
            self.clean, self.hits = set(), {}
        new = set(lines).difference(self.clean)
        if new:
            new.difference_update(self.hits)
            if new:
                self._learn(sorted(new))  # sorted: the same joined text, and scan, whatever the set's order
        hits = self.hits
        if not hits or hits.keys().isdisjoint(lines):
            return []
        return [(number, kind, masked) for number, line in enumerate(lines, 1) for kind, masked in hits.get(line, ())]

    def _learn(self, lines: list[str]) -> None:
        found: dict[str, list[tuple[str, str]]] = {}
        for number, kind, masked in scan_text("\n".join(lines)):
            found.setdefault(lines[number - 1], []).append((kind, masked))
        self.hits.update(found)
        self.clean.update(line for line in lines if line not in found)


RENDERED = LineScan()  # the process's scan of rendered files: a render's files share their lines across clusters


_CONTAINERS = (dict, list)  # a tuple: ``dict | list`` would build a union object at every test


class _DataScan:
    """One walk over loaded data. A fleet repeats most of its keys and values: a string no detector
    matched (``clean``) is not looked at again where the key it stands under is not secret-named
    (``plain``, with None for no key). A mapping whose keys are all ``quiet`` (clean, not
    secret-named, not ``value``) has only its values looked at. Paths are built only for containers
    and hits."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.clean: set[str] = set()
        self.plain: set[str | None] = {None}
        self.quiet: set[str] = set()

    def walk(self, node: Any, path: tuple, key: str | None) -> None:
        if isinstance(node, dict):
            self.mapping(node, path)
        elif isinstance(node, list):
            clean, plain = self.clean, self.plain
            for index, item in enumerate(node):
                if isinstance(item, str):
                    if item not in clean or key not in plain:
                        self.string(item, key, path, index)
                else:
                    self.walk(item, (*path, index), key)
        elif isinstance(node, str):
            self.hits.extend(Hit(path, kind, mask(secret)) for kind, secret in _value_findings(node, key))

    def mapping(self, node: dict, path: tuple) -> None:
        clean = self.clean
        if node.keys() <= self.quiet:  # most mappings of a fleet, after the first of their kind
            for key, value in node.items():
                if isinstance(value, str):
                    if value in clean:
                        continue
                    if _ANY_ANCHOR.search(value.lower()) is None:  # _pattern_findings' first test, inline:
                        clean.add(value)  # most values are new (names, CIDRs) and hold no detector's anchor
                    else:
                        self.string(value, key, path, key)
                elif isinstance(value, dict):
                    self.mapping(value, (*path, key))
                elif isinstance(value, list):
                    self.walk(value, (*path, key), key)
            return
        plain = self.plain
        for key, value in node.items():
            if isinstance(key, str):
                if key not in clean:
                    self.string(key, None, path, key)
                governing = _governing_key(node, key) if key == "value" else key
            else:
                governing = None
            if isinstance(value, str):
                if value not in clean or governing not in plain:
                    self.string(value, governing, path, key)
            elif isinstance(value, _CONTAINERS):
                self.walk(value, (*path, key), governing)
        self.quiet.update(k for k in node if k in clean and k != "value" and not _is_secret_key(k))

    def string(self, value: str, key: str | None, path: tuple, last: Any) -> None:
        """The findings for ``value`` under ``key``, at ``(*path, last)``."""
        found = _value_findings(value, key)
        if found:
            self.hits.extend(Hit((*path, last), kind, mask(secret)) for kind, secret in found)
        else:
            self.clean.add(value)  # no detector matched it: only a secret-named key can make it a finding
        if key is not None and not _is_secret_key(key):
            self.plain.add(key)


def _governing_key(node: dict, key: Any) -> str | None:
    """The key that says what a value is.

    In ``{name: DB_PASSWORD, value: …}`` (env vars, Helm parameters) it is the name, and in a JSON
    patch ``{op: add, path: /data/password, value: …}`` the last segment of the path.
    """
    if key == "value":
        path = node.get("path")
        for sibling in (node.get("name"), path.rsplit("/", 1)[-1] if isinstance(path, str) else None):
            if isinstance(sibling, str) and _is_secret_key(sibling):
                return sibling
    return key if isinstance(key, str) else None


@lru_cache(maxsize=1 << 16)
def _value_findings(value: str, key: str | None) -> tuple[tuple[str, str], ...]:
    """``(kind, secret)`` pairs for one string under ``key``; a fleet repeats most of its strings."""
    found = _pattern_findings(value)
    if found or key is None or not _is_secret_key(key):
        return found
    kind = _material_kind(value)
    return ((f"{kind} under {key!r}", value),) if kind else ()


def _pattern_findings(text: str) -> tuple[tuple[str, str], ...]:
    lowered = text.lower()
    if not _ANY_ANCHOR.search(lowered):
        return ()  # most values: no detector's anchor, one search instead of one per detector
    found: dict[tuple[str, str], None] = {}  # ordered set: one finding per distinct secret
    for detector in _PATTERN_DETECTORS:
        if detector.may_match(lowered):
            found.update(((detector.kind, secret), None) for secret in detector.secrets(text))
    return tuple(found)


@lru_cache(maxsize=1 << 12)
def _is_secret_key(key: str) -> bool:
    normalized = key.lower().translate(_KEY_SEPARATORS)
    return any(term in normalized for term in _SECRET_KEY_TERMS)


def _material_kind(value: str) -> str | None:
    """Why a value under a secret-named key looks like the secret itself, or None for names and references."""
    if _is_reference(value):
        return None
    if _is_high_entropy(value):
        return "high-entropy value"
    if _character_classes(value) >= 3:
        return "password-like value"
    return None


def _is_reference(value: str) -> bool:
    return (
        len(value) < MIN_MATERIAL_LENGTH
        or any(char.isspace() for char in value)
        or value.startswith(("/", "./", "~/"))
        or any(marker in value for marker in _REFERENCE_MARKERS)
    )


def _is_high_entropy(value: str) -> bool:
    """detect-secrets' verdict on the whole value, with its default limits."""
    chars = set(value)
    if chars <= _HEX_CHARS:
        return _HEX.calculate_shannon_entropy(value) > _HEX.entropy_limit
    return chars <= _BASE64_CHARS and _BASE64.calculate_shannon_entropy(value) > _BASE64.entropy_limit


def _character_classes(value: str) -> int:
    """How many of lower, upper, digit, symbol ``value`` uses; name separators are not symbols."""
    return (
        any(char.islower() for char in value)
        + any(char.isupper() for char in value)
        + any(char.isdigit() for char in value)
        + any(not char.isalnum() and char not in _NAME_SEPARATORS for char in value)
    )


def _candidate_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(number, line)`` for each line holding an anchor; the rest of the text is never decoded."""
    raw = text.encode("utf-8", "surrogatepass")
    lowered = raw.lower()  # ASCII-only, so offsets stay aligned with ``raw``
    starts = set(_line_starts(raw, partial(_regex_find, _CASED_ANCHOR_BYTES, raw)))
    for anchor in _LOWERED_ANCHOR_BYTES:
        starts.update(_line_starts(lowered, partial(lowered.find, anchor)))
    number, counted = 1, 0
    for start in sorted(starts):
        number += raw.count(b"\n", counted, start)
        counted = start
        end = raw.find(b"\n", start)
        yield number, raw[start : len(raw) if end < 0 else end].decode("utf-8", "surrogatepass")


def _line_starts(buffer: bytes, find: Callable[[int], int]) -> Iterator[int]:
    """Where each line holding a ``find`` hit starts; each line is searched once, however many hits it has."""
    offset = find(0)
    while offset >= 0:
        yield buffer.rfind(b"\n", 0, offset) + 1
        end = buffer.find(b"\n", offset)
        offset = -1 if end < 0 else find(end + 1)


def _regex_find(pattern: re.Pattern, buffer: bytes, offset: int) -> int:
    match = pattern.search(buffer, offset)
    return match.start() if match else -1


def _line_findings(line: str) -> Iterator[tuple[str, str]]:
    found = _pattern_findings(line)
    yield from found
    if not any(anchor in line.lower() for anchor in _SECRET_KEY_ANCHORS):
        return
    reported = {secret for _, secret in found}
    for key, value in _KEY_VALUE.findall(line):
        if _is_secret_key(key) and not any(value in secret or secret in value for secret in reported):
            kind = _material_kind(value)
            if kind:
                yield f"{kind} under {key!r}", value
