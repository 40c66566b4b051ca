"""A YAML parser's error -> position, message and a hint that says how to fix the common mistakes.

The parsers (libyaml, ruamel.yaml) say what they found ("mapping values are not allowed here");
a person editing fleet.yaml needs to know what to change: quote a value holding ': ', align a
line with its siblings, replace a tab, close a quote or a bracket.
"""

from __future__ import annotations

import re
from typing import Any

GENERIC = "fix the YAML at this position"
_QUOTE = "quote the value"
_KEY_VALUE = re.compile(r"^(\s*(?:- )*)([^\s#'\"][^:#]*?):\s+(.*?)\s*(?:#.*)?$")


def syntax_message(exc: Any, text: str) -> tuple[int, int, str, str]:
    """(line, column, message, hint) for a parser exception, 1-based."""
    problem = getattr(exc, "problem", None) or ""
    context = getattr(exc, "context", None) or ""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if not problem and not context:
        return 1, 1, f"cannot parse YAML: {_oneline(str(exc))}", GENERIC
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    context_mark = getattr(exc, "context_mark", None)
    opened = (context_mark.line + 1, context_mark.column + 1) if context_mark else None
    problem = problem.replace("character '\\t'", "a tab")
    message = _oneline(problem or context)
    if context and problem:
        where = f" at line {opened[0]}" if opened and opened[0] != line else ""
        message = _oneline(f"{problem} ({context}{where})")
    return line, col, message, _hint(problem, context, source, col, opened)


def _hint(problem: str, context: str, source: str, col: int, opened: tuple[int, int] | None) -> str:
    if "\t" in source[: max(col, 1)] and ("cannot start any token" in problem or "tab" in problem.lower()):
        return "replace the tab with spaces: YAML forbids tabs in indentation"
    if problem.startswith("mapping values are not allowed"):
        return _colon_hint(source, col)
    if "cannot start any token" in problem:
        char = source[col - 1] if 0 < col <= len(source) else ""
        return f"{_QUOTE}: {char!r} cannot start a plain value" if char.strip() else GENERIC
    if "undefined alias" in problem:
        return f"a value starting with '*' refers to an &anchor; {_QUOTE} if it is text"
    if "end of stream" in problem and "quoted scalar" in context and opened:
        return f"close the quote opened at line {opened[0]}, column {opened[1]}"
    if "flow sequence" in context or "flow mapping" in context:
        closing = "]" if "sequence" in context else "}"
        at = f" opened at line {opened[0]}" if opened else ""
        return f"close the {'[' if closing == ']' else '{'}{at} with '{closing}', and separate items with ','"
    if "could not find expected ':'" in problem:
        return "every line of a mapping is 'key: value': add the ':' or indent the line to continue the value above"
    if "single document" in problem or "single document" in context:
        return "fleet.yaml holds one document: remove the second '---' and what follows it"
    if "block end" in problem or "expected key" in problem or "expected '-'" in problem:
        return _indent_hint(source, col, opened)
    return GENERIC


def _colon_hint(source: str, col: int) -> str:
    """': ' where a mapping cannot start: inside a plain value, or a line indented too deep."""
    match = _KEY_VALUE.match(source)
    if match and col - 1 == match.end(2):
        return "this line is indented more than the key above it: align it with its siblings (spaces only)"
    if match:
        value = match.group(3).replace("\\", "\\\\").replace('"', '\\"')
        return f'{_QUOTE}: a ": " inside a plain value starts a mapping; write {match.group(2)}: "{value}"'
    return f'{_QUOTE}: a ": " inside a plain value starts a mapping'


def _indent_hint(source: str, col: int, opened: tuple[int, int] | None) -> str:
    stripped = source[: col - 1].rstrip()
    if stripped.endswith(("'", '"')):
        return "text follows a closing quote: put the whole value inside the quotes"
    indent = len(source) - len(source.lstrip(" ")) + 1
    if not opened:
        return f"check the indentation of this line (column {indent}); use spaces only"
    if indent == opened[1]:
        return (
            f"this line is at the indentation of the block that starts at line {opened[0]} but is not the "
            "same kind of entry (a key among '- ' items, or an item among keys): indent it under the entry "
            "above, or write it like its siblings"
        )
    return (
        f"check the indentation: this line starts at column {indent}, the block that starts at line "
        f"{opened[0]} has its entries at column {opened[1]}"
    )


def _oneline(text: str) -> str:
    return " ".join(text.split())[:300]
