"""GitHub Actions workflow commands: each finding annotates its line in the pull request."""

from __future__ import annotations

from ..findings import Finding


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def line(f: Finding) -> str:
    level = "error" if f.severity == "error" else "warning"
    props = f"file={_escape_property(f.file)},line={f.line},col={f.column},title={_escape_property(f.rule)}"
    message = f.message + (f" — fix: {f.hint}" if f.hint else "")
    return f"::{level} {props}::{_escape_data(message)}"


def render(findings: list[Finding], **_) -> str:
    return "".join(line(f) + "\n" for f in findings)
