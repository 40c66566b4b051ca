"""Reporters: one module per output format, each a pure function from findings to text."""

from __future__ import annotations

from . import github, json_report, sarif, text

LINT_FORMATS = {"text": text.render, "json": json_report.render, "github": github.render, "sarif": sarif.render}
