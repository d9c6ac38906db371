"""Host facts: whether this host is the engine's, and the files the file checks declare."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class HostFacts:
    hostname: str
    local: bool  # the engine runs on this host, so its /proc and files are the engine's
    local_reason: str = ""
    kernel: str = ""
    os: str = ""


class FileType(StrEnum):
    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    SOCKET = "socket"
    FIFO = "fifo"
    CHAR_DEVICE = "char-device"
    BLOCK_DEVICE = "block-device"
    MISSING = "missing"
    UNKNOWN = "unknown"  # could not be stat'ed: see `error`


@dataclass(frozen=True, slots=True)
class FileFacts:
    """lstat of one host path: never followed through a symlink."""

    path: str
    type: FileType
    uid: int | None = None
    gid: int | None = None
    owner: str = ""  # user name of uid ("" when it has none)
    group: str = ""  # group name of gid
    mode: int | None = None  # permission bits, 0o7777 mask
    target: str = ""  # a symlink's target
    error: str = ""  # why it could not be read (type UNKNOWN)

    @property
    def exists(self) -> bool:
        return self.type not in (FileType.MISSING, FileType.UNKNOWN)

    @property
    def mode_text(self) -> str:
        return "?" if self.mode is None else f"{self.mode:04o}"
