"""Deterministic, fast YAML text for rendered manifests.

``dump(documents)`` writes plain data (dict / list / tuple / str / int / float / bool / None)
as block-style YAML: 2-space indentation, a sequence under a key indented by 2 with its
mappings inline after the dash (``- name: x``, as ruamel's ``indent(mapping=2, sequence=4,
offset=2)`` and fleet.yaml itself), ``{}``/``[]`` for empty collections, and dict keys in
insertion order.

Every scalar must read back as the same value under YAML 1.1 (PyYAML, Go yaml.v2, which
Kubernetes, Argo CD and Helm use) and YAML 1.2 (ruamel.yaml, Go yaml.v3). So a string is
left plain only when no parser of either version resolves it to something else: the
"looks like a number / bool / null / timestamp" tests below are the union of both
versions' implicit resolvers, widened where that keeps the patterns short.

Speed comes from rendering each distinct string once (manifests repeat the same keys and
values thousands of times), one ``fullmatch`` to accept most plain strings, and appending
whole lines to one list that is joined once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# Characters a plain or single-quoted scalar may hold as-is: printable, not white space,
# not a line break in YAML 1.1 (U+0085, U+2028, U+2029) and not a byte order mark, i.e.
# "!-~\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff". The classes below
# spell it as the complement, the characters it leaves out: a class of wide ranges compiles
# into a 64K-entry table (20 ms of every run's start-up for these three patterns), its
# complement in a few comparisons (tests/test_emit.py holds the two spellings to each other).
_UNSAFE = "\x00-\x20\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
_UNSAFE_BUT_SPACE = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
_UNSAFE_BUT_SPACE_AND_NEWLINE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
# Leading characters that start YAML syntax (indicators) rather than a plain scalar.
_INDICATORS = "-?:,\\[\\]{}#&*!|>'\"%@`"
# First char not an indicator ("-x" is fine: "-" is only an indicator before a space),
# last char neither a space nor ":" (a trailing ":" would start a mapping).
_PLAIN_SHAPE = re.compile(
    f"(?:(?![{_INDICATORS}])[^{_UNSAFE}]|-(?=[^{_UNSAFE}]))(?:[^{_UNSAFE_BUT_SPACE}]*(?![:])[^{_UNSAFE}])?"
)
_ONE_LINE = re.compile(f"[^{_UNSAFE_BUT_SPACE}]*")
_BLOCK_TEXT = re.compile(f"[^{_UNSAFE_BUT_SPACE_AND_NEWLINE}]*")

# Words read as bool or null by some parser (YAML 1.1 has y/n/yes/no/on/off), in any case.
_RESERVED_WORDS = frozenset(["", "~", "null", "y", "n", "yes", "no", "true", "false", "on", "off", "<<", "="])
# Union of the int and float resolvers of YAML 1.1, 1.2 and Go's strconv (base prefixes in
# either case, "_" anywhere, sexagesimal "1:20"), loosened to "digits, colons, at most
# one dot, optional exponent" so no parser can see a number where this sees none.
_NUMBER = re.compile(
    r"[-+]?(?:\.(?:inf|nan)|0[xob][0-9a-f_]*|(?=\.?[0-9_])[0-9_:]*\.?[0-9_]*(?:e[-+]?[0-9_]+)?)",
    re.IGNORECASE,
)
_NUMBER_START = frozenset("-+.0123456789_")
_DIGITS = frozenset("0123456789")
# YAML 1.1 timestamps and Go yaml.v2's looser "2006-1-2" forms, with anything after a
# date-time separator treated as a time.
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt \t].*)?")

# Double-quoted escapes: short forms for common controls, \xXX / \uXXXX for the rest of
# what YAML forbids raw or treats as a line break.
_SHORT_ESCAPES = {"\0": "\\0", "\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_ESCAPE_CODES = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF]
_ESCAPES = {
    **{code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _ESCAPE_CODES},
    **{code: f"\\u{code:04x}" for code in range(0xD800, 0xE000)},
    **{ord(char): escaped for char, escaped in _SHORT_ESCAPES.items()},
}

# PyYAML and ruamel give up on implicit keys longer than 1024 characters; longer keys are
# written as explicit "? key" entries.
_MAX_IMPLICIT_KEY = 1000
# Memos of string -> text: keys always one-line (plain, '...' or "..."), values one-line or
# None for a literal block. Rendering is a pure function of the string, so the memos never
# change output; the bound keeps memory flat when one process renders many fleets.
_CACHE_LIMIT = 100_000
_KEY_TEXTS: dict[str, str] = {}
_TEXTS: dict[str, str | None] = {}
_PADS = [" " * width for width in range(64)]


def dump(documents: Sequence[Any]) -> str:
    """YAML text of ``documents``, separated by ``---`` lines; empty input gives ``""``."""
    out: list[str] = []
    for number, document in enumerate(documents):
        if number:
            out.append("---\n")
        _emit_item(document, 0, "", out)
    return "".join(out)


def is_plain_safe(text: str) -> bool:
    """True when ``text`` reads back as this same string when written without quotes."""
    return (
        _PLAIN_SHAPE.fullmatch(text) is not None
        and text.lower() not in _RESERVED_WORDS
        and ": " not in text
        and " #" not in text
        and not text.startswith(("---", "..."))
        and not (text[0] in _NUMBER_START and _NUMBER.fullmatch(text))
        and not (text[0] in _DIGITS and _TIMESTAMP.fullmatch(text))
    )


def quote(text: str) -> str:
    """``text`` on one line: plain when safe, else single-quoted, else double-quoted."""
    if is_plain_safe(text):
        return text
    if _ONE_LINE.fullmatch(text):
        return "'" + text.replace("'", "''") + "'"
    return '"' + text.translate(_ESCAPES) + '"'


def _block_safe(text: str) -> bool:
    """Literal ``|`` keeps ``text`` exactly: several lines, printable, no trailing spaces,
    and a first content line that does not start with a space (it sets the indentation)."""
    first = text.lstrip("\n")[:1]
    return (
        "\n" in text
        and first not in ("", " ")
        and " \n" not in text
        and not text.endswith(" ")
        and _BLOCK_TEXT.fullmatch(text) is not None
    )


def _memo_text(text: str) -> str | None:
    """One-line form of a string value, or None when it goes into a literal block; memoised."""
    if len(_TEXTS) >= _CACHE_LIMIT:
        _TEXTS.clear()
    rendered = None if _block_safe(text) else quote(text)
    _TEXTS[text] = rendered
    return rendered


def _literal(text: str, indent: int) -> str:
    """Literal block scalar (header and indented lines, no final newline) for ``text``."""
    if not text.endswith("\n"):
        header, body = "|-", text
    else:
        header, body = ("|+" if text.endswith("\n\n") else "|"), text[:-1]
    pad = " " * (indent + 2)
    return header + "".join(f"\n{pad}{line}" if line else "\n" for line in body.split("\n"))


def _string_text(text: str, indent: int) -> str:
    """A string value whose parent line is at ``indent``, inline or as a literal block."""
    rendered = _TEXTS.get(text) or _memo_text(text)
    return rendered if rendered is not None else _literal(text, indent)


def _float_text(number: float) -> str:
    """Canonical float that YAML 1.1 also reads as float (it needs a "." before "e")."""
    if number != number:
        return ".nan"
    if number in (float("inf"), float("-inf")):
        return ".inf" if number > 0 else "-.inf"
    text = repr(number)
    return text.replace("e", ".0e") if "e" in text and "." not in text else text


def _scalar_text(value: Any) -> str:
    """Text of a non-string scalar: None, bool, int or float."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return _float_text(value)
    if type(value) is str:
        return quote(value)
    raise TypeError(f"cannot emit {type(value).__name__} as YAML: {value!r}")


def _exact(value: Any) -> Any:
    """``value`` as its exact builtin type: subclasses (enums, OrderedDict, ...) emit like
    their base; ``str.__str__`` because ``str()`` of a (str, Enum) member is its name."""
    if type(value) in _EXACT_TYPES or isinstance(value, bool):
        return value
    for base, convert in _BASES:
        if isinstance(value, base):
            return convert(value)
    return value


_EXACT_TYPES = frozenset([str, int, float, bool, dict, list, tuple, type(None)])
_BASES: tuple[tuple[Any, Any], ...] = (
    (str, str.__str__),
    (int, int),
    (float, float),
    (dict, dict),
    ((list, tuple), list),
)


def _key_text(key: Any) -> str:
    """A mapping key: never a block scalar, so multi-line keys are double-quoted; memoised."""
    if type(key) is not str:
        return _scalar_text(_exact(key))
    if len(_KEY_TEXTS) >= _CACHE_LIMIT:
        _KEY_TEXTS.clear()
    rendered = _KEY_TEXTS[key] = quote(key)
    return rendered


def _emit_mapping(mapping: dict, indent: int, out: list[str]) -> None:
    """Block mapping at column ``indent``; every appended string starts a new line."""
    pad = _PADS[indent] if indent < 64 else " " * indent
    texts_get = _TEXTS.get
    keys_get = _KEY_TEXTS.get
    for key, value in mapping.items():
        key_text = keys_get(key) or _key_text(key)
        if len(key_text) > _MAX_IMPLICIT_KEY:
            out.append(f"{pad}? {key_text}\n")
            _emit_item(value, indent, f"{pad}: ", out)
            continue
        kind = type(value)
        if kind is str:
            text = texts_get(value) or _string_text(value, indent)
            out.append(f"{pad}{key_text}: {text}\n")
        elif kind is dict and value:
            out.append(f"{pad}{key_text}:\n")
            _emit_mapping(value, indent + 2, out)
        elif (kind is list or kind is tuple) and value:
            out.append(f"{pad}{key_text}:\n")
            _emit_sequence(value, indent + 2, out)
        else:
            _emit_value(f"{pad}{key_text}:", value, indent, out)


def _emit_sequence(sequence: Sequence[Any], indent: int, out: list[str]) -> None:
    """Block sequence with its dashes at column ``indent``."""
    pad = _PADS[indent] if indent < 64 else " " * indent
    dash = pad + "- "
    texts_get = _TEXTS.get
    for item in sequence:
        if type(item) is str:
            text = texts_get(item) or _string_text(item, indent)
            out.append(f"{dash}{text}\n")
        else:
            _emit_item(item, indent, dash, out)


def _emit_item(value: Any, indent: int, lead: str, out: list[str]) -> None:
    """A node after ``lead`` ("- ", ": " or "" at the document root), whose first line
    shares ``lead``'s line and whose other lines sit at ``indent + 2`` (or 0 at the root)."""
    value = _exact(value)
    kind = type(value)
    inner = indent + 2 if lead else 0
    if (kind is dict or kind is list or kind is tuple) and value:
        start = len(out)
        if kind is dict:
            _emit_mapping(value, inner, out)
        else:
            _emit_sequence(value, inner, out)
        out[start] = lead + out[start][inner:]
    elif kind is str:
        out.append(f"{lead}{_string_text(value, indent)}\n")
    else:
        out.append(f"{lead}{_collection_or_scalar(value)}\n")


def _emit_value(head: str, value: Any, indent: int, out: list[str]) -> None:
    """The rarer mapping values after ``head`` ("key:"): non-string scalars, empty
    collections and subclassed types."""
    value = _exact(value)
    kind = type(value)
    if (kind is dict or kind is list or kind is tuple) and value:
        out.append(f"{head}\n")
        if kind is dict:
            _emit_mapping(value, indent + 2, out)
        else:
            _emit_sequence(value, indent + 2, out)
    elif kind is str:
        out.append(f"{head} {_string_text(value, indent)}\n")
    else:
        out.append(f"{head} {_collection_or_scalar(value)}\n")


def _collection_or_scalar(value: Any) -> str:
    """Text of a scalar or of an empty collection (``{}`` / ``[]``)."""
    if type(value) is dict:
        return "{}"
    if type(value) is list or type(value) is tuple:
        return "[]"
    return _scalar_text(value)
