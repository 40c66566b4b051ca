"""Credential detection: the ``secret-material`` lint rule and the final scan of rendered bytes.

What we take from Yelp's detect-secrets (1.5) and what we write ourselves:

* Token shapes come from detect-secrets' plugin classes, read straight from their
  compiled ``denylist`` patterns: ``AWSKeyDetector`` (access key ids, and its
  ``aws…key = "<40 chars>"`` secret-key pattern), ``PrivateKeyDetector`` (PEM/OpenSSH/
  PGP/PuTTY headers), ``GitHubTokenDetector``, ``GitLabTokenDetector``, ``SlackDetector``
  (tokens and webhook URLs), ``JwtTokenDetector`` (its pattern plus its
  ``is_formally_valid`` check that the header and payload decode to JSON) and
  ``BasicAuthDetector`` (``scheme://user:password@``). We run the patterns with
  ``finditer`` instead of calling ``analyze_line``: ``analyze_line`` consults
  detect-secrets' global settings (the baseline/verification machinery), and
  ``analyze_string`` returns ``findall`` groups, which for GitHub/GitLab are only the
  token prefix. Nothing here touches detect-secrets' settings, baseline or network
  verification.
* Entropy limits are detect-secrets' own: ``Base64HighEntropyString`` (4.5 bits/char) and
  ``HexHighEntropyString`` (3.0, with its penalty for all-digit strings, which is what
  keeps AWS account ids quiet). We apply them ONLY to values under a secret-named key:
  run unconditionally they flag every sha256 image digest, and the EKS endpoint ids sit
  right at the hex limit.
* Secret-named keys are detect-secrets' ``KeywordDetector`` list (``password``,
  ``secret``, ``api_key``, ``private_key`` …) plus ``token``, ``credential``, ``bearer``,
  ``accesskey`` and ``keydata`` (Argo CD's cluster-Secret field). We do NOT use
  ``KeywordDetector`` itself: it reports every value under such a key, so
  ``objectStorageSecret: thanos-objstore`` (the NAME of a Secret, as the fleet format
  asks) would be an error.
* Hand-written, because detect-secrets' limits are tuned for source code and miss short
  credentials: a value under a secret-named key is also reported when it mixes three of
  lower case, upper case, digits and symbols (``-``, ``.`` and ``_`` do not count:
  they are what names are made of), the shape of a password rather than a name. And
  GitHub fine-grained tokens (``github_pat_…``), which detect-secrets 1.5 does not know.
* Values under secret-named keys that are references, not material, are never reported
  by the key rule: file paths, URLs (their userinfo is the basic-auth detector's job),
  template or environment references (``${…}``, ``{{…}}``, ``$(…)``), prose (has
  spaces), anything shorter than 8 characters.

Speed: every detector has a literal anchor (``AKIA``, ``ghp_``, ``eyJ``, ``@`` …); one
case-insensitive regex of all anchors decides whether a string or line is worth the
real patterns. ``scan_text`` searches the anchors in the ASCII-lowered bytes of the
whole text and only decodes and examines the lines they hit.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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
    """One kind of credential recognised by its shape, wherever it appears."""

    kind: str
    patterns: tuple[re.Pattern, ...]
    secret_group: int = 0  # which group of a match is the secret itself
    is_valid: Callable[[str], bool] = bool

    def secrets(self, text: str) -> Iterator[str]:
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                secret = match.group(self.secret_group)
                if self.is_valid(secret):
                    yield secret


# github_pat_<22>_<59>: GitHub's fine-grained personal access token format.
_GITHUB_FINE_GRAINED = re.compile(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}")

_PATTERN_DETECTORS = (
    _PatternDetector("AWS access key", tuple(AWSKeyDetector.denylist)),
    _PatternDetector("PEM private key", tuple(PrivateKeyDetector.denylist)),
    _PatternDetector("GitHub token", (*GitHubTokenDetector.denylist, _GITHUB_FINE_GRAINED)),
    _PatternDetector("GitLab token", tuple(GitLabTokenDetector.denylist)),
    _PatternDetector("Slack token", tuple(SlackDetector.denylist)),
    _PatternDetector("JWT", tuple(JwtTokenDetector.denylist), is_valid=JwtTokenDetector.is_formally_valid),
    _PatternDetector("password in URL", tuple(BasicAuthDetector.denylist), secret_group=1),
)

# A literal every match of a _PATTERN_DETECTORS pattern contains (compared case-insensitively).
_PATTERN_ANCHORS = (
    "a3t", "abia", "acca", "akia", "asia", "aws",  # AWS key ids; the aws…key="…" pattern
    "private key", "putty-user-key-file",
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-", "glptt-",
    "glagent-", "gloas-",
    "xox", "hooks.slack.com",
    "eyj",  # base64 of '{"'
    "@",  # scheme://user:password@host
)

_SECRET_KEY_TERMS = tuple(term.replace("_?", "") for term in keyword.DENYLIST) + (
    "token", "credential", "bearer", "accesskey", "keydata",
)
# Every spelling of a _SECRET_KEY_TERMS key ("api_key", "DB-PASS", "clientSecret") contains one of these.
_SECRET_KEY_ANCHORS = ("key", "pass", "pwd", "secret", "token", "credential", "bearer", "contrase")
_KEY_SEPARATORS = str.maketrans("", "", "-_. /")


def _anchor_regex(anchors: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(re.escape(anchor) for anchor in anchors), re.IGNORECASE)


_PATTERN_ANCHOR = _anchor_regex(_PATTERN_ANCHORS)
_SECRET_KEY_ANCHOR = _anchor_regex(_SECRET_KEY_ANCHORS)
_LINE_ANCHOR = re.compile(b"|".join(re.escape(a.encode()) for a in _PATTERN_ANCHORS + _SECRET_KEY_ANCHORS))

_BASE64 = Base64HighEntropyString()
_HEX = HexHighEntropyString()
_BASE64_CHARS = frozenset(_BASE64.charset)
_HEX_CHARS = frozenset(_HEX.charset)
_NAME_SEPARATORS = frozenset("-._")
_REFERENCE_MARKERS = ("${", "{{", "$(", "://")

# key: value / "key": "value" / --key=value, as written in YAML, JSON-in-YAML and args.
_KEY_VALUE = re.compile(r"""([\w.\-/]+)["']?[ \t]*[:=][ \t]*["']?([^\s"',{}\[\]]*)""")


def mask(value: str) -> str:
    """``value`` made safe to print: its first 4 characters and its length, or all stars when short."""
    if len(value) < MASK_MIN_LENGTH:
        return "*" * len(value)
    return f"{value[:MASK_KEEP]}…({len(value)} chars)"


def scan_data(data: Any) -> list[Hit]:
    """Credential-looking keys and string values in plain loaded data, in document order."""
    return list(_walk(data, (), None))


def scan_text(text: str) -> list[tuple[int, str, str]]:
    """``(line, kind, masked)`` for every credential-looking value in ``text``; lines are 1-based."""
    return [
        (number, kind, mask(secret))
        for number, line in _candidate_lines(text)
        for kind, secret in _line_findings(line)
    ]


def _walk(node: Any, path: tuple, key: str | None) -> Iterator[Hit]:
    if isinstance(node, dict):
        yield from _walk_mapping(node, path)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*path, index), key)
    elif isinstance(node, str):
        for kind, secret in _value_findings(node, key):
            yield Hit(path, kind, mask(secret))


def _walk_mapping(node: dict, path: tuple) -> Iterator[Hit]:
    for key, value in node.items():
        child = (*path, key)
        if isinstance(key, str):
            for kind, secret in _value_findings(key, None):
                yield Hit(child, kind, mask(secret))
        yield from _walk(value, child, _governing_key(node, key))


def _governing_key(node: dict, key: Any) -> str | None:
    """The key that says what a value is; ``{name: DB_PASSWORD, value: …}`` (env, Helm parameters) counts."""
    name = node.get("name")
    if key == "value" and isinstance(name, str) and _is_secret_key(name):
        return name
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
    if not _PATTERN_ANCHOR.search(text):
        return ()
    found: dict[tuple[str, str], None] = {}
    for detector in _PATTERN_DETECTORS:
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
    raw = text.encode()
    lowered = raw.lower()  # bytes.lower() is ASCII-only, so offsets stay aligned with ``raw``
    number, counted, position = 1, 0, 0
    while match := _LINE_ANCHOR.search(lowered, position):
        start = lowered.rfind(b"\n", 0, match.start()) + 1
        end = lowered.find(b"\n", match.end())
        end = len(lowered) if end < 0 else end
        number += lowered.count(b"\n", counted, start)
        counted = start
        yield number, raw[start:end].decode()
        position = end + 1


def _line_findings(line: str) -> Iterator[tuple[str, str]]:
    found = _pattern_findings(line)
    yield from found
    if not _SECRET_KEY_ANCHOR.search(line):
        return
    reported = {secret for _, secret in found}
    for key, value in _KEY_VALUE.findall(line):
        if _is_secret_key(key) and not any(value in secret or secret in value for secret in reported):
            kind = _material_kind(value)
            if kind:
                yield f"{kind} under {key!r}", value
