"""The rendered tree as the last render left it, surveyed on a second core while the fleet file is validated,
modelled and linted.

An incremental ``check`` or ``render`` needs, besides the fleet, things about the disk that do not depend on the
fleet: the unit cache the last render wrote, which of the files it recorded still have the recorded ``lstat``
(device, inode, size, mtime), the tree's listing (``check``: files the fleet does not render are strays;
``render``: what the new tree keeps) and, for ``render``, the standby tree's listing (what it already holds).
At 5,000 clusters those are 25,000 ``lstat``s and one or two 10,000-directory ``scandir`` walks: 0.3-0.8 s
that used to come after the model was built. The output directory is known as soon as fleet.yaml is loaded
(``repo.renderedDir``), so the survey starts there, in a forked child (``fleetgen.fork``), and runs while this
process validates the schema and builds the model; the lint rules start on the second core after that. The
child sends the stat check first (the units are planned with it), then the listings, which only the compare
or the write needs: they are taken while this process plans the units.

The child reads the cache file itself, and this process reads it again when it plans the units, after the lint
rules' child is forked: objects made before a fork are shared with the child until written, and the unit pass,
which touches every one of the cache's 55,000 entries, took a page fault (a copy) for each page of them (0.05-0.08 s
of every run at 5,000 clusters). The child reports which cache it read (``units.identity``): when that is not the
one read here (a ``check`` beside a ``render`` that saved its cache in between), the stat check is taken again here,
so the records used are the ones checked. The child only reports: which recorded files no longer match their
record, and the listings. Nothing it says is trusted beyond what the serial code trusted: a file it reports as
matching is one whose ``lstat`` matched when surveyed, as before when it was taken a moment later; a child that
fails means the same work is done here. ``render`` takes its lock before the survey starts and holds it until the
tree is written, so its listings are taken under the lock, as ``tree.write`` took them: only a render holding
the lock changes the tree or its standby. Without a cache (a first render) nothing is surveyed and the lock is
taken when the tree is written, as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import cachedir, fork, pipeline, swap, units
from .swap import Listing, listing
from .units import moved_files, read_body

Trees = tuple[Listing, "Listing | None"]  # the tree's listing, and the standby tree's when taken


class Survey:
    """What the disk held when surveyed: the unit cache file's body, the recorded files whose ``lstat`` differs from
    their record or failed, and (asked for later: they come later) the tree's listing and the standby tree's (None:
    not taken, outside ``render``)."""

    def __init__(self, out: Path, body: Any, moved: frozenset[str], trees: Callable[[], Trees]):
        self.out, self.body, self.moved = out, body, moved
        self._trees = trees
        self._taken: Trees | None = None

    def _listed(self) -> Trees:
        if self._taken is None:
            self._taken = self._trees()
        return self._taken

    @property
    def live(self) -> Listing:
        return self._listed()[0]

    @property
    def standby(self) -> Listing | None:
        return self._listed()[1]

    @property
    def listings(self) -> tuple[Listing, Listing] | None:
        """Both trees' listings, for ``tree.write`` (None unless the standby's was taken, under the render lock)."""
        live, standby = self._listed()
        return (live, standby) if standby is not None else None


def _stats(body: Any) -> Mapping[str, list]:
    """The stat records of a cache body, or none when it is not the shape fleetgen writes (the caller checks
    the body's format and salt before using any of it)."""
    stats = body.get("stats") if isinstance(body, dict) else None
    return stats if isinstance(stats, dict) else {}


def _moved(out: Path, body: Any) -> frozenset[str]:
    return moved_files(out, _stats(body))


def _moved_as_read(out: Path) -> tuple[Any, frozenset[str]]:
    """The child's first stage: the cache as it reads it (its ``units.identity``), and its files that moved."""
    body = read_body(out)
    return units.identity(body), _moved(out, body)


LISTING_FORMAT = f"1 {cachedir.PYTHON}"


def _trees(out: Path, standby: bool) -> Trees:
    """Both trees' listings (render's, ``standby``: with the tree's unwritable directories, which tree.write refuses
    to replace), each directory as recorded where it is as it was (``swap.Reuse``). ``render`` records them again
    for the next command; ``check`` writes nothing."""
    reuse = swap.Reuse(_recorded_listings(out), units.now_ns(out) - units.RACY_NS if standby else 0)
    live = listing(out, writable=standby, reuse=reuse)
    trees = live, listing(cachedir.standby(out), reuse=reuse) if standby else None
    if standby:
        body = {"format": LISTING_FORMAT, "generator": "fleetgen", "reader": _reader(), "records": reuse.records}
        cachedir.write(cachedir.listing_cache(out), cachedir.encode(body), out)
    return trees


def _recorded_listings(out: Path) -> Mapping[tuple[int, int], tuple]:
    """The directories ``render``'s last survey recorded; none when the file is missing or of another format, or
    was written by another user or group (a directory it could read and this one cannot is skipped by a walk)."""
    body = cachedir.read(cachedir.listing_cache(out))
    try:
        records = body["records"] if body["format"] == LISTING_FORMAT and body["reader"] == _reader() else None
    except (KeyError, TypeError):
        return {}
    return records if isinstance(records, dict) else {}


def _reader() -> tuple[int, int, tuple[int, ...]]:
    """Who reads the directories: what decides which of them a walk may read."""
    return os.geteuid(), os.getegid(), tuple(sorted(os.getgroups()))


class Pending:
    """A survey of one output directory, started once fleet.yaml is loaded (:meth:`start`), collected when the
    units are planned (:meth:`result`; its listings when the tree is compared or written). Not started (a full
    render, no cache of an earlier render): :meth:`result` is None and the caller surveys nothing in advance."""

    def __init__(self) -> None:
        self._out: Path | None = None
        self._child: fork.Child[tuple[Any, frozenset[str]]] | None = None
        self._body: Any = None
        self._done: Survey | None = None
        self.hold: swap.Hold | None = None  # render's lock, when the survey lists the trees it will write

    def start(self, out: Path, *, alongside: bool, locked: bool = False) -> None:
        """Read ``out``'s unit cache and survey it: in a forked child when ``alongside`` (a second core and a fleet
        big enough to pay for the fork), else here, each part when it is first asked for. ``locked`` (``render``):
        take the render lock first and list the standby tree too, so the listings are what ``tree.write`` would
        take under the lock. No cache (a first render): nothing is started.

        The child sends the stat check as soon as it has it (the units are planned with it) and the listings after
        (0.3 s at 5,000 clusters, taken while the units are planned: only the write needs them). It reads the cache
        itself; this process reads it when the units are planned (:meth:`result`)."""
        if alongside:
            if not units.cache_path(out).is_file():
                return
            self._start(out, locked)
            self._child = fork.Child(lambda: _moved_as_read(out), lambda: _trees(out, locked))
            return
        body = read_body(out)
        if body is not None:
            self._start(out, locked)
            self._body = body

    def _start(self, out: Path, locked: bool) -> None:
        if locked:
            self.hold = swap.Hold(out)
        self._out = out

    def result(self, out: Path) -> Survey | None:
        """The survey of ``out``; None when none was started for that directory."""
        if self._out is None or self._out != out:
            return None
        if self._done is None:
            child, locked = self._child, self.hold is not None
            if child is not None:
                read, moved = child.result()
                self._body = read_body(out)  # (after the lint rules' fork: see the module's docstring)
                if units.identity(self._body) != read:  # saved in between: the records read here are checked here
                    moved = _moved(out, self._body)
                trees: Callable[[], Trees] = lambda: child.stage(1)  # noqa: E731 - the child's second stage
            else:
                moved = _moved(out, self._body)
                trees = lambda: _trees(out, locked)  # noqa: E731 - taken here, when first asked for
            self._done = Survey(out, self._body, moved, trees)
        return self._done

    def note(self) -> str:
        """What ``--profile`` says of the survey: empty unless it ran in a child."""
        if self._child is None:
            return ""
        seconds = self._child.seconds
        return f"survey of the tree: {seconds:.3f} s in a forked process, alongside the stages it precedes\n"

    def close(self) -> None:
        """End a child whose results were not all asked for (the fleet had errors, the command was interrupted, or
        it needed no listing), and release the render lock (once the tree is written)."""
        if self._child is not None:
            self._child.stop()
        if self.hold is not None:
            self.hold.release()
            self.hold = None


def starter(pending: Pending, out: Path | None, fleet: Path, *, locked: bool = False) -> Callable[[Any], None]:
    """The hook :func:`fleetgen.pipeline.load_lint_and` calls with the loaded document's data: start ``pending`` on
    the output directory (``out``, else the one the data names beside ``fleet``; none: nothing is started), on a
    second core when the fleet is big enough to pay for the fork (as the lint rules)."""

    def start(data: Any) -> None:
        target = out or pipeline.output_dir_of(fleet, data)
        if target is not None:
            pending.start(target, alongside=pipeline.alongside(data), locked=locked)

    return start
