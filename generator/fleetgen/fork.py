"""Work run in a forked child process while this process goes on; its results come back through a pipe.

For work that reads what the parent holds (the model: never pickled, it arrives with the fork) and returns
little. The child is never trusted: if it dies, raises, or sends anything that is not whole, the parent runs
the work itself, so a result is always what running it here would give.

The work may come in stages (``Child(first, second, ...)``): the child runs them in order and sends each result
as soon as it has it, so the parent can go on with the first (the survey's stat check, needed to plan the
units) while the child works on the next (the trees' listings, needed only to write them). Each result is one
message: its length, then its pickle; one that arrives whole (its length, and a pickle that reads) is the stage's
result even if the child fails later, since every stage is a function of what the fork gave the child. From the
first message that does not, this process runs that stage and every later one itself.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import time
from collections.abc import Callable
from typing import Any, BinaryIO, Generic, TypeVar

T = TypeVar("T")
_LENGTH = struct.Struct(">Q")


class Child(Generic[T]):
    """``work()`` (then each of ``later``) started in a forked child; :meth:`result` waits for the first,
    :meth:`stage` for any."""

    def __init__(self, work: Callable[[], T], *later: Callable[[], Any]):
        self._works: tuple[Callable[[], Any], ...] = (work, *later)
        self._results: list[Any] = []
        self.seconds = 0.0  # how long the stages collected so far took (in the child, or here when run again)
        read, write = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            os.close(read)
            _serve(write, self._works)
        os.close(write)
        self._pipe: BinaryIO | None = os.fdopen(read, "rb")

    def result(self) -> T:
        """The first stage's result."""
        return self.stage(0)

    def stage(self, index: int) -> Any:
        """Stage ``index``'s result: from the child when it sent it whole, else from running it here."""
        while len(self._results) <= index:
            received = self._receive()
            if received is None:  # the child failed: this stage and every later one run here
                started = time.perf_counter()
                value = self._works[len(self._results)]()
                received = time.perf_counter() - started, value
            seconds, value = received
            self.seconds += seconds
            self._results.append(value)
        if len(self._results) == len(self._works):
            self._end()
        return self._results[index]

    def _receive(self) -> tuple[float, Any] | None:
        """The child's next message, whole; None (and the child ended) when it is not."""
        if self._pipe is not None:
            try:
                header = self._pipe.read(_LENGTH.size)  # the child blocks on a full pipe until this reads
                if len(header) == _LENGTH.size:
                    (length,) = _LENGTH.unpack(header)
                    data = self._pipe.read(length)
                    if len(data) == length:
                        seconds, value = pickle.loads(data)
                        return float(seconds), value
            except Exception:  # noqa: BLE001 - a short or garbled message: run the stage here instead
                pass
        self._end()
        return None

    def _end(self) -> None:
        """Close the pipe and reap the child (it has sent everything, or is not trusted for more)."""
        if self._pipe is None:
            return
        pipe, self._pipe = self._pipe, None
        try:
            if len(self._results) < len(self._works):  # not done: it may still be running (or sent garbage)
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
        except OSError:
            pass
        pipe.close()

    def stop(self) -> None:
        """End the child without the results not collected yet (this process is being interrupted, or needs no
        more)."""
        self._end()


def _serve(fd: int, works: tuple[Callable[[], Any], ...]) -> None:
    """The child's whole life: run each stage and send ``(seconds, result)`` as soon as it has it, then exit without
    the parent's exit handlers or buffered output (``os._exit``). Any failure exits 1: the parent runs that stage,
    and the later ones, itself."""
    code = 1
    try:
        with os.fdopen(fd, "wb") as pipe:
            for work in works:
                started = time.perf_counter()
                value = work()
                data = pickle.dumps((time.perf_counter() - started, value), protocol=pickle.HIGHEST_PROTOCOL)
                pipe.write(_LENGTH.pack(len(data)) + data)
                pipe.flush()
        code = 0
    except BaseException:  # noqa: BLE001 - Ctrl-C reaches the child too; the parent decides what happens
        pass
    finally:
        os._exit(code)
