"""One function run in a forked child process while this process goes on; its result comes back through a pipe.

For work that reads what the parent holds (the model: never pickled, it arrives with the fork) and returns
little. The child is never trusted: if it dies, raises, or sends anything that is not whole, the parent runs
the function itself, so the result is always what running it here would give.
"""

from __future__ import annotations

import os
import pickle
import signal
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Child(Generic[T]):
    """``work()`` started in a forked child; :meth:`result` waits for it."""

    def __init__(self, work: Callable[[], T]):
        self._work = work
        self.seconds = 0.0  # how long the work took (in the child, or here when it was run again)
        read, write = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            os.close(read)
            _serve(write, work)
        os.close(write)
        self._read = read

    def result(self) -> T:
        """The work's result, from the child when it sent one whole and exited 0; else from running it here."""
        try:
            with os.fdopen(self._read, "rb") as pipe:  # the child blocks on a full pipe until this reads
                data = pipe.read()
        finally:
            _, status = os.waitpid(self._pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            try:
                self.seconds, value = pickle.loads(data)
                return value
            except Exception:  # noqa: BLE001 - a short or garbled message: run the work here instead
                pass
        started = time.perf_counter()
        value = self._work()
        self.seconds = time.perf_counter() - started
        return value

    def stop(self) -> None:
        """End the child without its result (this process is being interrupted)."""
        try:
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
        except OSError:
            pass
        try:
            os.close(self._read)
        except OSError:
            pass


def _serve(fd: int, work: Callable[[], object]) -> None:
    """The child's whole life: run the work, send ``(seconds, result)``, exit without the parent's exit handlers
    or buffered output (``os._exit``). Any failure exits 1, and the parent runs the work itself."""
    code = 1
    try:
        started = time.perf_counter()
        value = work()
        data = pickle.dumps((time.perf_counter() - started, value), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
        code = 0
    except BaseException:  # noqa: BLE001 - Ctrl-C reaches the child too; the parent decides what happens
        pass
    finally:
        os._exit(code)
