"""Where reports and snapshots go, and where a snapshot comes from: checked first, written atomically.

- `check_target(path)` before anything is collected: the directory exists, is a directory and is writable;
  the target is not a directory nor any other non-regular file (a FIFO, a device). "-" is stdout.
- `write_atomic(path, data, mode)`: a temporary file in the same directory, created exclusively with its
  final mode, written, flushed and fsynced, renamed over the target, then the directory fsynced. On any
  failure the temporary file is removed and the previous file is left as it was. A symlink at the target is
  replaced, not followed. Reports are REPORT_MODE (0640, never world-readable), snapshots SNAPSHOT_MODE
  (0600); the umask can only narrow them.
- `write_stdout(text)`: a closed pipe raises BrokenPipeError after pointing stdout at /dev/null (so Python
  does not complain again at exit); any other failure (ENOSPC on /dev/full) is an OutputError.
- `read_stdin_bounded(cap)`: stdin, never more than `cap` bytes (a file the user names is read with
  runbench.hostfs.read_user_file: no FIFO, no device, capped).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import sys
from collections.abc import Iterable

from runbench.hostfs import USER_FILE_CAP, UserFileError, kind_of

REPORT_MODE = 0o640
SNAPSHOT_MODE = 0o600
SNAPSHOT_CAP = USER_FILE_CAP  # bytes of a snapshot given to `runbench report` (256 MiB)
STDOUT = "-"


class OutputError(Exception):
    """A report or snapshot that cannot be written where asked (exit code 2)."""

    def __init__(self, path: str, reason: str, *, checked: bool = False) -> None:
        self.path = path
        self.reason = reason
        where = "stdout" if path == STDOUT else path
        verb = "cannot write" if checked else "could not write"
        super().__init__(f"{verb} {where}: {reason}")


class WriteFailures(Exception):
    """Some outputs could not be written; the others were. `outcome` states the policy verdict (exit code 2)."""

    def __init__(self, failures: tuple[OutputError, ...], outcome: str) -> None:
        super().__init__(outcome)
        self.failures = failures
        self.outcome = outcome

    def __str__(self) -> str:
        return "; ".join([self.outcome, *(str(f) for f in self.failures)])


def check_target(path: str) -> None:
    """Raise OutputError unless a file can be written at `path` ("-" is stdout: always fine)."""
    if path == STDOUT:
        return
    if not path:
        raise OutputError(path, "an empty file name", checked=True)
    if "\x00" in path:
        raise OutputError(path, "a file name cannot hold a NUL character", checked=True)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # a new file; its directory is checked below
        pass
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc), checked=True) from None
    else:
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            raise OutputError(path, kind_of(st.st_mode), checked=True)
    try:
        dst = os.stat(directory)
    except FileNotFoundError:
        raise OutputError(path, f"the directory {directory} does not exist", checked=True) from None
    except OSError as exc:
        raise OutputError(path, f"the directory {directory}: {exc.strerror or exc}", checked=True) from None
    if not stat.S_ISDIR(dst.st_mode):
        raise OutputError(path, f"{directory} is not a directory", checked=True)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(path, f"the directory {directory} is not writable", checked=True)


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a directory: the rename is done either way
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EROFS):
            raise
    finally:
        os.close(fd)


def write_atomic(path: str, data: str | bytes | Iterable[str], mode: int) -> None:
    """Replace `path` with `data` (str is UTF-8; an iterable of str is written piece by piece as it is made)
    all at once, or leave it as it was and raise OutputError."""
    directory, name = os.path.split(os.path.abspath(path))
    tmp = ""
    try:
        for _ in range(100):
            tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
                break
            except FileExistsError:
                continue
        else:
            tmp = ""
            raise OutputError(path, "no free temporary file name in its directory")
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            elif isinstance(data, str):
                f.write(data.encode("utf-8"))
            else:
                for piece in data:
                    f.write(piece.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = ""
        _fsync_dir(directory)
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that what is still buffered goes nowhere, quietly, at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture): nothing to do
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def write_stdout(text: str) -> None:
    """Write and flush `text` to stdout: BrokenPipeError when the reader went away, else OutputError."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        raise
    except OSError as exc:
        silence_stdout()
        raise OutputError(STDOUT, exc.strerror or str(exc)) from None


def read_stdin_bounded(cap: int) -> bytes | str:
    """At most `cap` bytes of stdin (characters, when stdin is a text stream without a buffer); else
    UserFileError, as for a named file."""
    buffer = getattr(sys.stdin, "buffer", None)
    try:
        data: bytes | str = buffer.read(cap + 1) if buffer is not None else sys.stdin.read(cap + 1)
    except OSError as exc:
        raise UserFileError("stdin", exc.strerror or str(exc)) from None
    if len(data) > cap:
        raise UserFileError("stdin", f"is over the {cap}-byte cap")
    return data
