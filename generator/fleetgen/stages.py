"""Per-stage timing (``--profile``) and terminal progress for long runs.

Progress appears only on an interactive terminal, never in CI logs or pipes, and only once a
run has taken more than a second: short runs stay silent.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

PROGRESS_AFTER = 1.0  # seconds before the first progress line
PROGRESS_EVERY = 0.2


class Stages:
    """Collects wall time per stage; optionally draws ``stage done/total`` on a terminal."""

    def __init__(self, progress: bool = False):
        self.times: dict[str, float] = {}
        self.notes: list[str] = []  # lines --profile prints under the table (e.g. units reused and why not)
        self.current = ""
        self.done = 0
        self.total = 0
        self._start = time.perf_counter()
        self._stop = threading.Event()
        self._drawn = False
        self._thread = threading.Thread(target=self._draw_loop, daemon=True) if progress else None
        if self._thread:
            self._thread.start()

    @contextmanager
    def stage(self, name: str, total: int = 0) -> Iterator[Stages]:
        self.current, self.done, self.total = name, 0, total
        started = time.perf_counter()
        try:
            yield self
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - started

    def advance(self, count: int = 1) -> None:
        self.done += count

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
            if self._drawn:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()

    def table(self) -> str:
        rows = [f"{name:<10} {seconds:8.3f} s" for name, seconds in self.times.items()]
        total = sum(self.times.values())
        return "\n".join(["stage         seconds", *rows, f"{'total':<10} {total:8.3f} s"]) + "\n" + "".join(self.notes)

    def _draw_loop(self) -> None:
        while not self._stop.wait(PROGRESS_EVERY):
            if time.perf_counter() - self._start < PROGRESS_AFTER:
                continue
            count = f" {self.done}/{self.total}" if self.total else ""
            sys.stderr.write(f"\r\x1b[Kfleetgen: {self.current}{count}")
            sys.stderr.flush()
            self._drawn = True


def wants_progress(stream=None) -> bool:
    stream = stream or sys.stderr
    return hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("CI")
