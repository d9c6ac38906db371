"""`--deep`: read an image's files from its export (GET /images/{id}/get), streamed through tarfile in
streaming mode: bounded memory, no temporary copy, each layer read once as it passes.

The export is a tar of tars (`docker save`): the classic layout (`<id>/layer.tar`, `manifest.json`) or the
OCI layout of Docker 25+ (`blobs/sha256/<digest>`, `index.json`, `manifest.json`). Layers may come in any
order and manifest.json usually comes last, so each layer is summarised as it streams by (its candidates:
setuid/setgid files, world-writable files, files that look like credentials, package managers; its
whiteouts; and 64-bit hashes of its paths), and the layer order from manifest.json is applied at the end:
a candidate is in the final filesystem only when no later layer replaces it, deletes it (`.wh.<name>`, on it
or a parent) or hides its directory (`.wh..wh..opq`).

Nothing of a file is kept but its path, its mode and, for credentials, what kind of credential it is: a few
KiB of a candidate credential file is read to tell (`-----BEGIN ... PRIVATE KEY-----`, `_authToken=`), never
stored. Hostile exports are bounded: a tar header's extended data is capped, findings per kind are capped,
the number of paths tracked is capped (beyond it the scan stops, incomplete), and the stream itself is bounded
in time by the API client.
"""

from __future__ import annotations

import functools
import io
import json
import lzma
import posixpath
import re
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from runbench.snapshot import FileFinding, ImageContents

MAX_FINDINGS = 200  # per kind; the rest are counted in a note
MAX_PATHS = 1_000_000  # entries tracked over all layers (a few tens of MB of hashes)
MAX_HEADER_DATA = 1024 * 1024  # pax / GNU long-name payload of one tar header
MAX_JSON = 4 * 1024 * 1024  # manifest.json
MAX_PEEK = 64 * 1024  # bytes of a candidate credential file read to tell what it holds
MAX_PEEK_FILE = 4 * 1024 * 1024  # larger candidate files are judged by name only

TMP_DIRS = ("tmp", "var/tmp", "dev/shm", "run/lock", "var/lock")
PACKAGE_MANAGERS = frozenset(
    f"{d}/{name}"
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin")
    for name in ("apt", "apt-get", "dpkg", "apk", "yum", "dnf", "microdnf", "rpm", "zypper", "pacman", "opkg")
)
SSH_KEY_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"})
ENV_FILE_SAMPLES = (".example", ".sample", ".template", ".dist", ".defaults", ".tmpl")
# Test keys shipped inside libraries (Python, Node, Go, Debian packages) are not the image's credentials.
_LIBRARY = re.compile(r"(^|/)(usr/(local/)?(lib|share)|site-packages|dist-packages|node_modules|go/pkg/mod|vendor)/")
_TEST_SEGMENT = re.compile(r"/(tests?|testdata|testing|fixtures?|examples?|samples?|test_data|docs?)/")

_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_NPM_AUTH = re.compile(rb"(?m)^\s*(?:[^\s=]*:)?_(?:authToken|auth|password)\s*=\s*(?!\$)\S")
_PYPI_PASSWORD = re.compile(rb"(?mi)^\s*password\s*[=:]\s*(?!\$)\S")
_DOCKER_AUTH = re.compile(rb'"(?:auth|identitytoken|registrytoken)"\s*:\s*"[^"$]')
_GIT_CREDENTIAL = re.compile(rb"(?m)^\s*[a-z][a-z0-9+.-]*://[^:/\s]*:[^@\s]+@")
_NETRC_PASSWORD = re.compile(rb"(?:^|\s)password\s+(?!\$)\S")
_AWS_SECRET = re.compile(rb"(?mi)^\s*aws_secret_access_key\s*=\s*\S")


class DeepScanError(Exception):
    """The export cannot be read as an image export (a usage of the result: the scan is incomplete)."""


# --- reading a stream of chunks as a file ------------------------------------------------------------


class ChunkReader:
    """A read-only file over an iterator of byte chunks (the API client's stream) that can seek forward only:
    what tarfile needs to walk a tar of tars without a copy. Skipping a member's data drops whole chunks; a
    backward seek is an OSError. Counts what it consumed."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._view = memoryview(b"")
        self._pos = 0

    @property
    def bytes_read(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _fill(self) -> bool:
        while not self._view:
            try:
                self._view = memoryview(next(self._chunks))
            except StopIteration:
                return False
        return True

    def read(self, size: int | None = -1) -> bytes:
        pieces = []
        want = -1 if size is None else size
        while want != 0 and self._fill():
            n = len(self._view) if want < 0 else min(want, len(self._view))
            pieces.append(self._view[:n].tobytes())
            self._view = self._view[n:]
            self._pos += n
            if want > 0:
                want -= n
        return b"".join(pieces)

    def readinto(self, buffer: Any) -> int:
        if not self._fill():
            return 0
        n = min(len(buffer), len(self._view))
        buffer[:n] = self._view[:n]
        self._view = self._view[n:]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._pos:
            raise OSError("the image export is a stream: it cannot be read backwards")
        while self._pos < target and self._fill():
            n = min(target - self._pos, len(self._view))
            self._view = self._view[n:]
            self._pos += n
        return self._pos

    def close(self) -> None:
        self._view = memoryview(b"")


class _BoundedTarInfo(tarfile.TarInfo):
    """A tar header whose extended data (pax records, GNU long names) is capped: a hostile export cannot make
    tarfile read a gigabyte of header into memory."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        special = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE)
        if self.type in special and self.size > MAX_HEADER_DATA:
            raise tarfile.HeaderError(f"a tar header's extended data of {self.size:,} bytes")
        return super()._proc_member(tarfile_)  # type: ignore[misc, no-any-return]


def _open(fileobj: Any, head: bytes = b"") -> tarfile.TarFile:
    """A tar read front to back from a forward-only file (never the probing `r:*`, which seeks back); `head`,
    its first bytes, tells a compressed layer (containerd's image store exports them as pulled)."""
    if head.startswith(b"\x1f\x8b"):
        return tarfile.open(fileobj=fileobj, mode="r:gz", tarinfo=_BoundedTarInfo)
    if head.startswith(b"BZh"):
        return tarfile.open(fileobj=fileobj, mode="r:bz2", tarinfo=_BoundedTarInfo)
    if head.startswith(b"\xfd7zXZ\x00"):
        return tarfile.open(fileobj=fileobj, mode="r:xz", tarinfo=_BoundedTarInfo)
    return tarfile.open(fileobj=fileobj, mode="r:", tarinfo=_BoundedTarInfo)


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The members of a tar one by one, keeping none: TarFile.members would hold every header."""
    while True:
        member = tar.next()
        cast(Any, tar).members.clear()
        if member is None:
            return
        yield member


# --- one layer ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: str  # setuid | world | sensitive | pm
    path: str  # relative to the root, no leading slash
    mode: int
    what: str = ""


@dataclass(slots=True)
class LayerIndex:
    """What one layer holds, as far as the final filesystem needs: path hashes, whiteouts, candidates."""

    name: str
    dirs: set[int] = field(default_factory=set)
    others: set[int] = field(default_factory=set)
    whiteouts: set[str] = field(default_factory=set)  # paths deleted from the layers below
    opaque: set[str] = field(default_factory=set)  # directories whose lower content is hidden
    candidates: list[Candidate] = field(default_factory=list)
    entries: int = 0


def _norm(name: str) -> str:
    """A tar member's path relative to the root: `./usr/bin/x`, `/usr/bin/x` and `usr//bin/x` are `usr/bin/x`;
    `..` cannot climb above the root."""
    if not name:
        return ""
    path = posixpath.normpath("/" + name).lstrip("/")
    return "" if path in (".", "") else path


def _under(path: str, dirs: Iterable[str]) -> bool:
    return any(path == d or path.startswith(d + "/") for d in dirs)


def _ancestors(path: str) -> Iterator[str]:
    """`a/b/c` -> `a/b`, `a`."""
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path


def sensitive_kind(path: str, size: int, peek: Callable[[], bytes]) -> str:
    """What credential a file of the image looks like ("" for none). `peek` reads its first bytes."""
    base = posixpath.basename(path)
    lower = base.lower()
    if _LIBRARY.search(path) and _TEST_SEGMENT.search("/" + path):
        return ""
    if base in SSH_KEY_NAMES:
        return "SSH private key"
    if lower == ".env" or (lower.startswith(".env.") and not lower.endswith(ENV_FILE_SAMPLES)):
        return ".env file"
    content_rules: list[tuple[re.Pattern[bytes], str]] = []
    if lower.endswith((".pem", ".key")):
        content_rules = [(_PRIVATE_KEY, "PEM private key")]
    elif lower == ".npmrc":
        content_rules = [(_NPM_AUTH, "npm registry credentials in .npmrc")]
    elif lower == ".pypirc":
        content_rules = [(_PYPI_PASSWORD, "package index password in .pypirc")]
    elif lower == "config.json" and path.endswith(".docker/config.json"):
        content_rules = [(_DOCKER_AUTH, "registry credentials in .docker/config.json")]
    elif lower == ".git-credentials":
        content_rules = [(_GIT_CREDENTIAL, "git credentials")]
    elif lower in (".netrc", "_netrc"):
        content_rules = [(_NETRC_PASSWORD, "password in .netrc")]
    elif lower == "credentials" and path.endswith(".aws/credentials"):
        content_rules = [(_AWS_SECRET, "AWS secret access key in .aws/credentials")]
    if not content_rules or size <= 0 or size > MAX_PEEK_FILE:
        return ""
    head = peek()
    return next((what for rule, what in content_rules if rule.search(head)), "")


def index_layer(name: str, fileobj: Any, budget: list[int], head: bytes = b"") -> LayerIndex:
    """Summarise one layer tar (plain, or compressed as `head`, its first bytes, says), read front to back.
    `budget` holds the paths that may still be tracked; running out raises DeepScanError."""
    layer = LayerIndex(name)
    with _open(fileobj, head) as tar:
        for m in _members(tar):
            path = _norm(m.name)
            if not path:
                continue
            parent, base = posixpath.split(path)
            if base.startswith(".wh."):
                if base == ".wh..wh..opq":
                    layer.opaque.add(parent)
                else:
                    layer.whiteouts.add(posixpath.join(parent, base[4:]))
                continue
            budget[0] -= 1
            if budget[0] < 0:
                raise DeepScanError(f"more than {MAX_PATHS:,} files: the rest of the image was not read")
            layer.entries += 1
            (layer.dirs if m.isdir() else layer.others).add(hash(path))
            mode = m.mode & 0o7777
            if m.isdir():
                if mode & 0o002 and not mode & 0o1000 and not _under(path, TMP_DIRS):
                    layer.candidates.append(Candidate("world", path, mode))
                continue
            if not (m.isreg() or m.islnk()):
                continue
            if mode & 0o6000:
                layer.candidates.append(Candidate("setuid", path, mode))
            if mode & 0o002 and not _under(path, TMP_DIRS):
                layer.candidates.append(Candidate("world", path, mode))
            if path in PACKAGE_MANAGERS:
                layer.candidates.append(Candidate("pm", path, mode))
            if m.isreg():
                what = sensitive_kind(path, m.size, functools.partial(_peek, tar, m))
                if what:
                    layer.candidates.append(Candidate("sensitive", path, mode, what))
    return layer


def _peek(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    f = tar.extractfile(member)
    return f.read(MAX_PEEK) if f is not None else b""


# --- the export -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Export:
    layers: dict[str, LayerIndex] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # a layer.tar symlink -> its target
    manifest: Any = None
    unreadable: list[str] = field(default_factory=list)


def _is_layer_name(name: str) -> bool:
    return name.endswith("/layer.tar") or name.startswith("blobs/")


def scan_export(chunks: Iterable[bytes], image_id: str = "") -> ImageContents:
    """Read an image export from `chunks` and return what its final filesystem holds. A failure of the stream
    (the engine's EngineError) propagates; a malformed export gives an incomplete ImageContents."""
    reader = ChunkReader(chunks)
    export = _Export()
    budget = [MAX_PATHS]
    why = ""
    try:
        with _open(reader) as outer:
            for m in _members(outer):
                name = _norm(m.name)
                if m.issym() and _is_layer_name(name):
                    export.aliases[name] = _norm(posixpath.join(posixpath.dirname(name), m.linkname))
                    continue
                if not m.isreg():
                    continue
                if name == "manifest.json":
                    export.manifest = _json_member(outer, m)
                elif _is_layer_name(name):
                    _read_layer(outer, m, name, export, budget)
    except DeepScanError as exc:
        why = str(exc)
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error, lzma.LZMAError) as exc:
        why = f"the image export is not a readable tar: {exc}"
    return _contents(export, reader.bytes_read, why, image_id)


def _json_member(outer: tarfile.TarFile, m: tarfile.TarInfo) -> Any:
    if m.size > MAX_JSON:
        raise DeepScanError(f"{m.name} of {m.size:,} bytes is over the {MAX_JSON // (1024 * 1024)} MB cap")
    f = outer.extractfile(m)
    try:
        return json.loads(f.read() if f is not None else b"")
    except (ValueError, RecursionError) as exc:
        raise DeepScanError(f"{m.name} is not JSON: {str(exc)[:80]}") from None


def _read_layer(outer: tarfile.TarFile, m: tarfile.TarInfo, name: str, export: _Export, budget: list[int]) -> None:
    f = outer.extractfile(m)
    if f is None:
        return
    head = f.peek(16)[:16] if isinstance(f, io.BufferedReader) else b""
    if name.startswith("blobs/") and head[:1] in (b"{", b"["):
        return  # an OCI config, manifest or index blob, not a layer
    if head[:4] == b"\x28\xb5\x2f\xfd":
        export.unreadable.append(f"{name}: zstd-compressed layer (not readable here)")
        return
    try:
        export.layers[name] = index_layer(name, f, budget, head)
    except tarfile.ReadError as exc:
        if name.startswith("blobs/") and m.size < 512:
            return  # a small blob that is no tar
        export.unreadable.append(f"{name}: not a readable tar ({exc})")
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as exc:
        export.unreadable.append(f"{name}: unreadable from {f.tell():,} bytes on ({exc})")


def _layer_order(export: _Export, image_id: str) -> tuple[list[str], str]:
    manifest = export.manifest
    if not isinstance(manifest, list) or not manifest:
        return [], "the export has no manifest.json: the layer order is unknown"
    entries = [e for e in manifest if isinstance(e, dict)]
    want = image_id.removeprefix("sha256:")
    entry = next((e for e in entries if want and want in str(e.get("Config", ""))), entries[0] if entries else None)
    layers = entry.get("Layers") if isinstance(entry, dict) else None
    if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        return [], "manifest.json lists no layers"
    return [_norm(x) for x in layers], ""


def _contents(export: _Export, bytes_read: int, why: str, image_id: str) -> ImageContents:
    order, order_why = _layer_order(export, image_id)
    names = [export.aliases.get(n, n) for n in order]
    missing = [n for n in names if n not in export.layers]
    problems = [p for p in (why, order_why) if p] + export.unreadable
    if missing and not why and not order_why:
        problems.append(f"{len(missing)} layer(s) named in manifest.json were not in the export")
    if not names:  # no order: judge each layer alone, in the order they came (incomplete anyway)
        names = list(export.layers)
    stack = [export.layers[n] for n in names if n in export.layers]
    found: dict[str, list[FileFinding]] = {"setuid": [], "world": [], "sensitive": [], "pm": []}
    seen: set[tuple[str, str]] = set()
    for position, layer in enumerate(stack):
        later = stack[position + 1 :]
        for c in layer.candidates:
            if (c.kind, c.path) in seen or later_hides(c.path, later):
                continue
            seen.add((c.kind, c.path))
            found[c.kind].append(FileFinding(path="/" + c.path, mode=c.mode, what=c.what, layer=position + 1))
    notes = []
    capped: dict[str, tuple[FileFinding, ...]] = {}
    for kind, items in found.items():
        items.sort(key=lambda f: f.path)
        if len(items) > MAX_FINDINGS:
            notes.append(f"{len(items)} {kind} files: the first {MAX_FINDINGS} kept")
        capped[kind] = tuple(items[:MAX_FINDINGS])
    return ImageContents(
        complete=not problems,
        why="; ".join(problems)[:600],
        layers=len(stack),
        files=sum(layer.entries for layer in stack),
        bytes_read=bytes_read,
        setuid=capped["setuid"],
        world_writable=capped["world"],
        sensitive=capped["sensitive"],
        package_managers=tuple(f.path for f in capped["pm"]),
        notes=tuple(notes),
    )


def later_hides(path: str, later: list[LayerIndex]) -> bool:
    """Whether a layer above replaces `path`, deletes it (or a parent), hides a parent directory's lower
    content, or puts a non-directory where a parent directory was."""
    h = hash(path)
    parents = list(_ancestors(path))
    for layer in later:
        if h in layer.others or h in layer.dirs:
            return True
        if path in layer.whiteouts or any(p in layer.whiteouts for p in parents):
            return True
        if any(p in layer.opaque for p in parents):
            return True
        if any(hash(p) in layer.others for p in parents):
            return True
    return False
