"""A share of CPU-bound work done by a forked copy of runbench, on another CPU.

The collector and the renderers are CPU-bound in one interpreter: parsing each inspect answer and scanning
its environment for secrets costs more than the engine spends answering, and Python's threads share one CPU
(the GIL). On a host with a second CPU, runbench forks once, while it runs no other thread, and the child
does the same work on its share: the containers it inspects over a connection of its own
(runbench.collect.engine), the report formats it writes (runbench.cli). The child sends its results back as
they come, in length-prefixed pickled batches over a pipe; the parent takes them between its own (`poll`)
and at the end (`finish`), by the deadline given.

Nothing depends on the child: whatever it did not deliver (it died, was killed, sent something broken, ran
out of time) is returned by `finish` as undone, and the parent does it itself. The results are those the
parent would have computed: the same function on the same input, pickled (plain data).
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 64  # fewer containers than this: a fork (~10 ms) does not pay
BATCH = 32  # results per frame: the parent's progress moves in steps of this
_HEAD = struct.Struct("!Q")
_READ = 1 << 20


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, e.g. a container's --cpuset-cpus)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worth_splitting(items: int, requested: bool | None, minimum: int = MIN_ITEMS) -> bool:
    """Whether to fork: `requested` True/False decides; None (auto) forks on a host with a second usable CPU
    when there are at least `minimum` items and this process runs no other thread (a fork copies only the
    calling thread: a lock another one held would stay locked in the child)."""
    if not hasattr(os, "fork"):
        return False
    if requested is not None:
        return requested
    return items >= minimum and threading.active_count() == 1 and usable_cpus() >= 2


class Forked(Generic[T, R]):
    """A child process computing `work(item)` for each of `items` (its share), `workers` at a time."""

    def __init__(self, pid: int, fd: int, items: Sequence[T], deadline: float | None) -> None:
        self.pid = pid
        self.items = items
        self.deadline = deadline
        self._fd: int | None = fd
        self._buffer = bytearray()
        self._got: dict[int, R] = {}
        self._fresh: list[R] = []  # arrived since the last poll
        self._exit: int | None = None

    @classmethod
    def start(
        cls,
        items: Sequence[T],
        make_work: Callable[[], Callable[[T], R]],
        workers: int,
        deadline: float | None,
    ) -> Forked[T, R] | None:
        """Fork the child; None when the system will not (the caller then does everything itself).

        Call it before the calling process starts any thread: a fork copies only the calling thread, and a
        lock another thread held would stay locked in the child."""
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return None
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            _die_with(parent)
            _child(items, make_work, workers, write_fd)
        os.close(write_fd)
        return cls(pid, read_fd, items, deadline)

    @property
    def delivered(self) -> int:
        return len(self._got)

    def poll(self) -> list[R]:
        """The results that arrived since the last call, without waiting."""
        self._pump(wait=False)
        fresh, self._fresh = self._fresh, []
        return fresh

    def finish(self) -> tuple[list[R], list[T]]:
        """Wait for the rest (until the child ends or the deadline passes; a child still running then is
        killed): the results not returned by `poll` yet, and the items whose results never came."""
        while self._fd is not None:
            self._pump(wait=True)
        self._reap()
        fresh, self._fresh = self._fresh, []
        undone = [item for i, item in enumerate(self.items) if i not in self._got]
        return fresh, undone

    def _pump(self, wait: bool) -> None:
        fd = self._fd
        if fd is None:
            return
        while True:
            if wait:
                left = None if self.deadline is None else self.deadline - time.monotonic()
                if left is not None and left <= 0:
                    self._stop()
                    return
                ready, _, _ = select.select([fd], [], [], left)
            else:
                ready, _, _ = select.select([fd], [], [], 0)
            if not ready:
                if wait:
                    continue
                return
            try:
                chunk = os.read(fd, _READ)
            except OSError:
                chunk = b""
            if not chunk:  # the child is done (or dead)
                self._close()
                return
            self._buffer += chunk
            self._frames()
            if wait:
                return

    def _frames(self) -> None:
        buf = self._buffer
        while len(buf) >= _HEAD.size:
            (size,) = _HEAD.unpack_from(buf)
            if len(buf) < _HEAD.size + size:
                return
            payload = bytes(buf[_HEAD.size : _HEAD.size + size])
            del buf[: _HEAD.size + size]
            try:
                batch = _pickle().loads(payload)  # noqa: S301 - our own forked child, over our own pipe
                for index, result in batch:
                    if isinstance(index, int) and 0 <= index < len(self.items) and index not in self._got:
                        self._got[index] = result
                        self._fresh.append(result)
            except Exception:  # noqa: BLE001 - a broken frame: its items are done again by the parent
                self._stop()
                return

    def _stop(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _reap(self) -> None:
        if self._exit is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self._exit = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                self._exit = -1

    def close(self) -> None:
        """Stop the child if it still runs (the collection ended early) and reap it."""
        if self._exit is None:
            if self._fd is not None:
                self._stop()
            self._reap()


def _die_with(parent: int) -> None:
    """Have the kernel kill this child when the parent dies (cron's `timeout`, kill -9), not only at its next
    write to the closed pipe (Linux prctl PR_SET_PDEATHSIG; elsewhere the pipe alone ends it)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, ImportError):
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _child(items: Sequence[T], make_work: Callable[[], Callable[[T], R]], workers: int, fd: int) -> None:
    """The forked process: results in frames of BATCH, then exit without running the parent's cleanup (its
    atexit handlers, buffered output and connections are the parent's)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it with the parent, quietly
        gc.disable()  # short-lived: a collection would touch (and copy) every page it shares with the parent
        work = make_work()
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for batch in _batches(enumerate(pool.map(work, items)), BATCH):
                _write_all(fd, _pickle().dumps(batch, protocol=-1))
        code = 0
    except BaseException:  # noqa: BLE001, S110 - the parent does whatever was not delivered
        pass
    finally:
        os._exit(code)


def _pickle() -> Any:
    import pickle  # loaded only by a run that forks

    return pickle


def _batches(results: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for pair in results:
        batch.append(pair)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(_HEAD.pack(len(payload)) + payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]
