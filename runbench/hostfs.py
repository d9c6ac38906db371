"""Bounded reads of files nobody vouches for.

`read_host_file` is how the collector reads a host file (daemon.json, /etc/os-release, /proc/<pid>/cgroup,
/proc/net/unix): never through a symlink unless it resolves inside the directory the caller expects, regular
files only (a FIFO would hang the run, /dev/zero would eat memory), a size cap, strict UTF-8, and the
owner and mode of what was actually opened. It never raises: what went wrong is the result's `why`.

`read_user_file` is how a file the user names (a snapshot given to `runbench report`) is read: symlinks are
followed (the user may mean them), but a FIFO or a device is refused at once and the size is capped.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

MIB = 1024 * 1024
HOST_FILE_CAP = 1 * MIB
USER_FILE_CAP = 256 * MIB
_CHUNK = 64 * 1024
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a FIFO"),
    (stat.S_ISCHR, "is a character device"),
    (stat.S_ISBLK, "is a block device"),
    (stat.S_ISSOCK, "is a socket"),
    (stat.S_ISLNK, "is a symlink"),
)


@dataclass(frozen=True, slots=True)
class HostFile:
    """One host file as read: its text, or why not (`missing` when there is no such file)."""

    path: str  # the path asked for
    text: str | None = None  # None: not read (see `why`)
    why: str = ""  # "" when read; otherwise why not, for evidence
    missing: bool = False  # no such file (for a symlink: its target does not exist)
    link: str = ""  # `path` is a symlink: its target as readlink gives it
    followed: str = ""  # the real path read through that symlink ("" when not followed)
    uid: int | None = None  # owner, group and permission bits of the file opened (fstat)
    gid: int | None = None
    mode: int | None = None

    @property
    def ok(self) -> bool:
        return self.text is not None


class UserFileError(Exception):
    """A user-given file that cannot be read; the message says why (`path: is a FIFO`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def kind_of(mode: int) -> str:
    """`is a FIFO`, `is a directory`, ... for a non-regular file ("" for a regular one)."""
    if stat.S_ISREG(mode):
        return ""
    return next((text for test, text in _KINDS if test(mode)), "is not a regular file")


def _errtext(exc: OSError) -> str:
    return exc.strerror or str(exc)


class _Refused(Exception):
    def __init__(self, why: str, *, missing: bool = False, symlink: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.missing = missing
        self.symlink = symlink


def _open_regular(name: str, dir_fd: int | None) -> tuple[int, os.stat_result]:
    """Open `name` (relative to `dir_fd` when given) read-only without following a final symlink and without
    opening anything but a regular file: lstat first (so a device is never opened), then fstat the fd."""
    try:
        pre = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise _Refused("no such file", missing=True) from None
    except OSError as exc:
        raise _Refused(f"cannot read: {_errtext(exc)}") from None
    if stat.S_ISLNK(pre.st_mode):
        raise _Refused("is a symlink", symlink=True)
    if not stat.S_ISREG(pre.st_mode):
        raise _Refused(kind_of(pre.st_mode))
    try:
        fd = os.open(name, _READ_FLAGS | os.O_NOFOLLOW, dir_fd=dir_fd)
    except FileNotFoundError:
        raise _Refused("no such file", missing=True) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since the lstat
            raise _Refused("is a symlink", symlink=True) from None
        raise _Refused(f"cannot read: {_errtext(exc)}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (pre.st_dev, pre.st_ino):
        os.close(fd)
        raise _Refused(kind_of(st.st_mode) or "changed while being opened")
    return fd, st


def _read_capped(fd: int, st: os.stat_result, max_bytes: int) -> bytes:
    """At most `max_bytes` from `fd`; refused when fstat says more or the file turns out longer."""
    if st.st_size > max_bytes:
        raise _Refused(f"is {st.st_size} bytes, over the {max_bytes}-byte cap")
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
        except BlockingIOError:
            raise _Refused("would block") from None
        except OSError as exc:
            raise _Refused(f"cannot read: {_errtext(exc)}") from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise _Refused(f"is over the {max_bytes}-byte cap")


def _decode(data: bytes, errors: str) -> str:
    try:
        return data.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise _Refused(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def _open_beneath(base: str, rel: str) -> tuple[int, os.stat_result]:
    """Open `base`/`rel` walking one component at a time from `base`, following no symlink on the way."""
    parts = [p for p in rel.split("/") if p]
    if not parts or ".." in parts:
        raise _Refused("does not name a file inside the expected directory")
    try:
        dir_fd = os.open(base, _DIR_FLAGS & ~os.O_NOFOLLOW)
    except OSError as exc:
        raise _Refused(f"cannot open {base}: {_errtext(exc)}", missing=isinstance(exc, FileNotFoundError)) from None
    try:
        for part in parts[:-1]:
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
            except FileNotFoundError:
                raise _Refused("no such file", missing=True) from None
            except OSError as exc:
                raise _Refused(f"cannot open {part}/: {_errtext(exc)}") from None
            os.close(dir_fd)
            dir_fd = next_fd
        return _open_regular(parts[-1], dir_fd)
    finally:
        os.close(dir_fd)


def _through_link(path: str, target: str, within: str | None) -> tuple[int, os.stat_result, str]:
    """The file a symlink leads to, when it resolves inside `within`: (fd, fstat, resolved path)."""
    if within is None:
        raise _Refused(f"is a symlink to {target}: not followed")
    resolved = os.path.realpath(path)
    base = os.path.realpath(within)
    if not resolved.startswith(base.rstrip("/") + "/"):
        raise _Refused(f"is a symlink to {target} (resolving to {resolved}), outside {within}: not followed")
    fd, st = _open_beneath(base, os.path.relpath(resolved, base))
    try:
        now = os.stat(resolved, follow_symlinks=False)
    except OSError:
        now = None
    if now is None or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise _Refused(f"is a symlink to {target} that changed while being followed")
    return fd, st, resolved


def read_host_file(
    path: str, *, max_bytes: int = HOST_FILE_CAP, within: str | None = None, errors: str = "strict"
) -> HostFile:
    """Read a host file: a regular file of at most `max_bytes`, UTF-8. A symlink is followed only when its
    real path lies inside `within` (and then opened component by component, following nothing more).
    `errors` is the UTF-8 decoding policy: strict (not UTF-8 is a `why`), or "surrogateescape" for kernel
    tables that print names as raw bytes."""
    link = followed = ""
    try:
        try:
            fd, st = _open_regular(path, None)
        except _Refused as refused:
            if not refused.symlink:
                raise
            try:
                link = os.readlink(path)
            except OSError as exc:
                raise _Refused(f"is a symlink that cannot be read: {_errtext(exc)}") from None
            try:
                fd, st, followed = _through_link(path, link, within)
            except _Refused as inner:
                prefix = f"is a symlink to {link}"
                why = inner.why if inner.why.startswith(prefix) else f"{prefix}: {inner.why}"
                raise _Refused(why, missing=inner.missing) from None
    except _Refused as refused:
        return HostFile(path, None, refused.why, missing=refused.missing, link=link)
    try:
        text = _decode(_read_capped(fd, st, max_bytes), errors)
        why = ""
    except _Refused as refused:
        text, why = None, refused.why
    finally:
        os.close(fd)
    return HostFile(
        path, text, why, link=link, followed=followed, uid=st.st_uid, gid=st.st_gid, mode=stat.S_IMODE(st.st_mode)
    )


def read_user_file(path: str, max_bytes: int = USER_FILE_CAP) -> bytes:
    """The bytes of a file the user named (symlinks followed); raises UserFileError for a FIFO, a device, a
    directory, a missing or unreadable file, or one over `max_bytes`."""
    if "\0" in path:
        raise UserFileError(path.replace("\0", "\\0"), "a file name cannot contain a NUL character")
    try:
        before = os.stat(path)  # never open a device or FIFO: opening one can block or have effects
        if not stat.S_ISREG(before.st_mode):
            raise UserFileError(path, kind_of(before.st_mode))
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        raise UserFileError(path, _errtext(exc)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserFileError(path, kind_of(st.st_mode))
        try:
            return _read_capped(fd, st, max_bytes)
        except _Refused as refused:
            raise UserFileError(path, refused.why) from None
    finally:
        os.close(fd)
