"""Random one-line edits of a fleet file's text, for the tests that cut fleet.yaml into parts
(tests/test_chunks.py, tests/test_sources.py): spacing, comments, indentation, digits, deleted lines, and
lines that open quotes, block scalars and flow collections across lines or add keys and items."""

from __future__ import annotations

import random

MUTATIONS = (
    lambda line, rng: line.replace(": ", ":  ", 1),
    lambda line, rng: line + "  # a comment",
    lambda line, rng: " " + line,
    lambda line, rng: line[1:],
    lambda line, rng: line[:-1] if line else line,
    lambda line, rng: line.replace("1", str(rng.randint(0, 9)), 1),
    lambda line, rng: "",
    lambda line, rng: "# " + line,
    lambda line, rng: line.replace("- ", "-   ", 1),
    lambda line, rng: line.replace("- ", "-\n    ", 1),
    lambda line, rng: line.replace(": ", ": |\n  ", 1),
    lambda line, rng: line.replace(": ", ": |+\n      kept\n\n", 1),
    lambda line, rng: line + ' "',
    lambda line, rng: line.replace(": ", ': "a\n- b"', 1),
    lambda line, rng: line.replace(": ", ": [a,\n- b]", 1),
    lambda line, rng: "clusters:",
    lambda line, rng: "- name: x",
    lambda line, rng: "workloads: []",
)


def random_line_edit(text: str, rng: random.Random) -> tuple[str, str]:
    """``text`` with one random line edited, and that line as edited (for assertion messages)."""
    lines = text.split("\n")
    at = rng.randrange(len(lines))
    lines[at] = rng.choice(MUTATIONS)(lines[at], rng)
    return "\n".join(lines), f"line {at + 1}: {lines[at]!r}"
