"""Kubernetes version strings: "1.30", "1.30.2", "v1.30.2"."""

from __future__ import annotations

import re
from functools import lru_cache

# "MAJOR.MINOR" or "MAJOR.MINOR.PATCH", an optional "v"; fleet.schema.json's kubernetesVersion pattern
# (a test keeps the two equal).
PATTERN = r"^v?[0-9]+\.[0-9]+(\.[0-9]+)?$"
_VERSION = re.compile(PATTERN)


def is_version(text: str) -> bool:
    return _VERSION.match(text) is not None


@lru_cache(maxsize=1024)  # a fleet has a handful of distinct versions and asks about them per cluster
def parse(version: str) -> tuple[int, ...]:
    """``"v1.30.2"`` -> ``(1, 30, 2)``; ``"1.30"`` -> ``(1, 30)``."""
    return tuple(int(part) for part in version.lstrip("v").split("."))


def minor(version: str) -> tuple[int, int]:
    major, minor_, *_ = parse(version)
    return major, minor_


def minors_between(old: str, new: str) -> int:
    """How many minor releases ``new`` is ahead of ``old`` (negative: behind). Majors count as 100."""
    (a, b), (c, d) = minor(old), minor(new)
    return (c - a) * 100 + (d - b)


def older(a: str, b: str) -> bool:
    """``a`` is an older release than ``b``; a bare minor compares equal to any patch of it."""
    pa, pb = parse(a), parse(b)
    width = min(len(pa), len(pb))
    return pa[:width] < pb[:width]


def image_version(image: str) -> str | None:
    """``quay.io/thanos/thanos:v0.36.1`` -> ``v0.36.1``; None for digests or untagged refs."""
    match = re.search(r":(v?\d+\.\d+\.\d+[^:/@]*)$", image.split("@")[0])
    return match.group(1) if match else None


def release(version: str) -> tuple[int, int, int]:
    """``v0.38.0-rc.1`` -> ``(0, 38, 0)``: the numbers of a release tag, its suffix dropped."""
    major, minor_, patch = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version).groups()  # type: ignore[union-attr]
    return int(major), int(minor_), int(patch)
