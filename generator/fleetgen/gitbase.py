"""Which commit ``fleetgen diff --base REF`` compares against.

By default the merge base of REF and HEAD (``git merge-base REF HEAD``), which is what GitHub's
pull-request view compares: when ``main`` moved on after the branch was cut, the commits that
landed there since are not part of this change and must not show up as removed. With
``--no-merge-base`` the comparison is against REF's own commit (two-dot, ``git diff REF``).

The git invocation itself (``run``) is passed in, so error reporting for git stays in one place.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import FleetgenError

Runner = Callable[[list[str], Path], subprocess.CompletedProcess]
SHORT = 12  # characters of a commit id shown to people


@dataclass(frozen=True)
class Base:
    ref: str  # as the user gave it, e.g. origin/main
    tip: str  # the commit REF names
    commit: str  # the commit whose fleet and rendered tree are compared: the merge base, or tip
    merge_base: bool  # True when ``commit`` is ``git merge-base REF HEAD``

    def describe(self) -> str:
        """One line for reports, naming the commit compared against and how it was chosen."""
        if self.merge_base:
            return f"merge base {self.commit[:SHORT]} of {self.ref} ({self.tip[:SHORT]}) and HEAD"
        return f"{self.ref} ({self.commit[:SHORT]})"


def merge_base(run: Runner, tip: str, root: Path) -> str:
    """``git merge-base TIP HEAD``; no common ancestor (unrelated or shallow history) is a usage error."""
    done = run(["merge-base", tip, "HEAD"], root)
    if done.returncode != 0:
        raise FleetgenError(
            f"no merge base between {tip[:SHORT]} and HEAD in {root}: the histories are unrelated or the clone "
            "is too shallow (in CI: actions/checkout with fetch-depth: 0); --no-merge-base compares with the ref "
            "itself"
        )
    return done.stdout.decode().strip()


def choose(run: Runner, ref: str, tip: str, root: Path, exact: bool) -> Base:
    """The base to compare with: REF's commit ``tip`` itself when ``exact``, else its merge base with HEAD."""
    if exact:
        return Base(ref, tip, tip, merge_base=False)
    return Base(ref, tip, merge_base(run, tip, root), merge_base=True)
