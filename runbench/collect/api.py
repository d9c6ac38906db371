"""A small, bounded Engine API client: GET requests over a unix socket or TCP (optionally TLS), JSON answers.

Every call has a wall-clock deadline for the whole answer (connect, headers and body), the earlier of
`timeout` after it starts and the collection's own deadline; every answer has a size cap and a nesting cap.
A trickling, silent, oversized or dying engine ends a call with an EngineError, never a hang or an OOM.
Once the engine stops answering (timeout, connection refused or lost), later calls fail at once with the
first reason instead of each waiting for its own timeout.

The docker SDK cannot bound a call as a whole (its timeout is per socket read), so runbench speaks the
little HTTP/1.1 it needs itself: GET, keep-alive, Content-Length or chunked bodies.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from runbench import __version__
from runbench.semantics import DEFAULT_DOCKER_SOCKET

MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_RECV = 256 * 1024


class EngineError(Exception):
    """A call to the engine failed; `reason` says how, in words fit for a report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EngineDown(EngineError):
    """The engine cannot be reached or stopped answering: timeout, refused, reset, permission denied."""


class EngineTimeout(EngineDown):
    pass


class EngineHTTPError(EngineError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class EngineNotFound(EngineHTTPError):
    pass


class EngineBadAnswer(EngineError):
    """The engine answered something runbench will not take: too large, too deep, not JSON, wrong shape."""


class HostURLError(ValueError):
    """A DOCKER_HOST / --host value that is not an engine address runbench can use."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the engine listens: a unix socket path, or a TCP host and port (with TLS settings)."""

    display: str  # as the user should read it: unix:///var/run/docker.sock, tcp://10.0.0.5:2376
    unix_path: str = ""
    host: str = ""
    port: int = 0
    tls: bool = False
    tls_verify: bool = False
    cert_path: str = ""

    @property
    def is_unix(self) -> bool:
        return bool(self.unix_path)


def parse_host(value: str, environ: Mapping[str, str] | None = None) -> Endpoint:
    """The endpoint of a DOCKER_HOST value ("" is the default socket), as the docker CLI reads it:
    unix://PATH, tcp://HOST:PORT (http:// and https:// too), TLS from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH."""
    env = os.environ if environ is None else environ
    raw = value.strip()
    if not raw:
        return Endpoint(display=f"unix://{DEFAULT_DOCKER_SOCKET}", unix_path=DEFAULT_DOCKER_SOCKET)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise HostURLError("the engine address contains control characters")
    if raw.startswith(("unix://", "http+unix://")):
        path = raw.split("://", 1)[1] or DEFAULT_DOCKER_SOCKET
        if not path.startswith("/"):
            raise HostURLError(f"{raw!r}: a unix socket address needs an absolute path (unix:///run/docker.sock)")
        return Endpoint(display=f"unix://{path}", unix_path=path)
    if raw.startswith("/"):
        return Endpoint(display=f"unix://{raw}", unix_path=raw)
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme in ("ssh", "npipe", "fd"):
        hint = {
            "ssh": "forward the remote socket first (ssh -nNT -L /tmp/remote-docker.sock:/var/run/docker.sock "
            "HOST) and use --host unix:///tmp/remote-docker.sock",
            "npipe": "named pipes exist only on Windows",
            "fd": "fd:// is a dockerd listener (socket activation), not an address a client can dial",
        }[scheme]
        raise HostURLError(f"{raw!r}: {scheme}:// engines are not supported: {hint}")
    if scheme not in ("tcp", "http", "https", ""):
        raise HostURLError(f"{raw!r}: unknown scheme {scheme!r} (use unix:// or tcp://)")
    parts = urlsplit(raw if "://" in raw else f"tcp://{raw}")
    try:
        port = parts.port
    except ValueError:
        raise HostURLError(f"{raw!r}: the port is not a number from 1 to 65535") from None
    host = parts.hostname or ""
    if not host:
        raise HostURLError(f"{raw!r}: no host name (tcp://HOST:PORT)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise HostURLError(f"{raw!r}: an engine address is scheme://host:port and nothing more")
    verify = env.get("DOCKER_TLS_VERIFY", "") not in ("", "0", "false")
    cert_path = env.get("DOCKER_CERT_PATH", "")
    tls = scheme == "https" or verify or bool(cert_path)
    port = port or (2376 if tls else 2375)
    shown = f"[{host}]" if ":" in host else host
    return Endpoint(
        display=f"tcp://{shown}:{port}",
        host=host,
        port=port,
        tls=tls,
        tls_verify=verify,
        cert_path=cert_path or os.path.join(os.path.expanduser("~"), ".docker"),
    )


def check_seconds(value: float, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive number of seconds")
    return float(value)


class _Conn(threading.local):
    sock: socket.socket | None = None
    buffer: bytes = b""


class EngineAPI:
    """GET JSON from the engine with bounded calls. Thread-safe: one keep-alive connection per thread."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout: float = 10.0,
        deadline: float | None = None,  # time.monotonic() by which the whole collection must end
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.endpoint = endpoint
        self.timeout = check_seconds(timeout, "timeout")
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.down: EngineDown | None = None  # the first reason the engine stopped answering
        self._local = _Conn()
        self._ssl: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._ping_lock = threading.Lock()
        self._ping_at = -math.inf
        self._ping_ok = True
        self._socks: list[socket.socket] = []

    # --- public ---------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str] | None = None, *, expect: type | None = None) -> Any:
        """The JSON answer of GET `path`; `expect` (dict or list) is the top-level type the endpoint must give."""
        target, end, whole_run = self._begin(path, params, self.timeout)
        try:
            status, body = self._request(target, end, whole_run)
        except EngineError as exc:
            self._judge(exc)
            raise
        if status >= 400:
            raise self._http_error(status, body, path)
        data = loads(body, f"GET {path}")
        if expect is not None and not isinstance(data, expect):
            want = "an object" if expect is dict else "a list"
            raise EngineBadAnswer(f"GET {path} answered {_json_kind(data)}, not {want}")
        return data

    def stream(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        timeout: float | None = None,
        max_bytes: int | None = None,
    ) -> Iterator[bytes]:
        """The body of GET `path` in pieces as they arrive, for the one answer too large to hold (an image
        export, GET /images/{id}/get). Bounded like `get`: the whole answer within `timeout` (default: this
        client's timeout) and the collection's deadline, every read within what is left of both; at most
        `max_bytes` bytes when given. Its own connection, closed when the iteration ends or is abandoned."""
        limit = check_seconds(timeout, "timeout") if timeout is not None else self.timeout
        target, end, whole_run = self._begin(path, params, limit)
        sock: socket.socket | None = None
        try:
            sock = self._connect(end, whole_run)
            request = self._request_line(target, "Accept: application/x-tar\r\nConnection: close")
            try:
                _sendall(sock, request, end, whole_run, limit)
            except _StaleConnection:
                raise EngineDown("the engine closed the connection without answering") from None
            reader = _Reader(sock, b"", end, whole_run, limit)
            try:
                status, headers = _head(reader)
                if status >= 400:
                    raise self._http_error(status, _small_body(reader, headers), path)
                yield from _body_pieces(reader, headers, max_bytes)
            except _StaleConnection:
                raise EngineDown("the engine closed the connection without answering") from None
        except EngineError as exc:
            self._judge(exc)
            raise
        finally:
            if sock is not None:
                _close(sock)

    def _begin(self, path: str, params: Mapping[str, str] | None, limit: float) -> tuple[str, float, bool]:
        """The request target, when the call must end (`limit` after now, or the collection's deadline if that
        comes first) and whether the deadline decides it; EngineDown at once when the engine is down."""
        if self.down is not None:
            raise EngineDown(f"not attempted: {self.down.reason}")
        target = quote(path, safe="/:@") + (f"?{urlencode(params)}" if params else "")
        end = time.monotonic() + limit
        whole_run = self.deadline is not None and self.deadline < end
        if self.deadline is not None:
            end = min(end, self.deadline)
        return target, end, whole_run

    def _request_line(self, target: str, headers: str) -> bytes:
        return (
            f"GET {target} HTTP/1.1\r\nHost: {self._host_header()}\r\nUser-Agent: runbench/{__version__}\r\n"
            f"{headers}\r\n\r\n"
        ).encode("ascii")

    def _judge(self, exc: EngineError) -> None:
        """One slow answer (a container whose runtime hangs) is that call's failure; an engine that no longer
        answers a ping, refuses or drops connections, or a passed collection deadline, is down for every call
        after it."""
        if isinstance(exc, EngineTimeout):
            if time.monotonic() >= (self.deadline or math.inf) or not self._alive():
                self._trip(exc)
        elif isinstance(exc, EngineDown):
            self._trip(exc)

    def _trip(self, exc: EngineDown) -> None:
        with self._lock:
            if self.down is None:
                self.down = exc

    def _alive(self) -> bool:
        """Whether the engine still answers GET /_ping within a short bound (checked at most once a second)."""
        with self._ping_lock:
            now = time.monotonic()
            if now - self._ping_at < 1.0:
                return self._ping_ok
            end = now + min(2.0, self.timeout)
            if self.deadline is not None:
                end = min(end, self.deadline)
            try:
                status, _ = self._request("/_ping", end, False)
                ok = status == 200
            except EngineError:
                ok = False
            self._ping_at, self._ping_ok = time.monotonic(), ok
            return ok

    def close(self) -> None:
        with self._lock:
            for sock in self._socks:
                _close(sock)
            self._socks.clear()

    # --- HTTP -----------------------------------------------------------------------------------

    def _request(self, target: str, end: float, whole_run: bool) -> tuple[int, bytes]:
        request = self._request_line(target, "Accept: application/json")
        for attempt in (1, 2):
            reused = self._local.sock is not None
            sock = self._socket(end, whole_run)
            try:
                _sendall(sock, request, end, whole_run, self.timeout)
                return self._response(sock, end, whole_run)
            except _StaleConnection:
                self._drop()
                if not reused or attempt == 2:
                    raise EngineDown("the engine closed the connection without answering") from None
            except BaseException:
                self._drop()
                raise
        raise AssertionError("unreachable")

    def _response(self, sock: socket.socket, end: float, whole_run: bool) -> tuple[int, bytes]:
        reader = _Reader(sock, self._local.buffer, end, whole_run, self.timeout)
        head = reader.until(b"\r\n\r\n", MAX_HEADER_BYTES)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise EngineBadAnswer(f"not an HTTP answer: {lines[0][:60]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, val = line.partition(":")
            if sep:
                headers[name.strip().lower()] = val.strip()
        keep = headers.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = reader.chunked(self.max_bytes)
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise EngineBadAnswer(f"bad Content-Length {length[:20]!r}")
            if int(length) > self.max_bytes:
                raise EngineBadAnswer(f"answer of {int(length):,} bytes is over the {_mb(self.max_bytes)} cap")
            body = reader.exactly(int(length))
        else:
            body, keep = reader.to_eof(self.max_bytes), False
        if keep:
            self._local.buffer = reader.rest
        else:
            self._drop()
        return status, body

    def _socket(self, end: float, whole_run: bool) -> socket.socket:
        if self._local.sock is not None:
            return self._local.sock
        sock = self._connect(end, whole_run)
        self._local.sock = sock
        self._local.buffer = b""
        with self._lock:
            self._socks.append(sock)
        return sock

    def _connect(self, end: float, whole_run: bool) -> socket.socket:
        """A new connection to the engine, within what is left of `end`."""
        ep = self.endpoint
        remaining = _remaining(end, whole_run, self.timeout)
        try:
            if ep.is_unix:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(remaining)
                sock.connect(ep.unix_path)
            else:
                sock = socket.create_connection((ep.host, ep.port), timeout=remaining)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if ep.tls:
                    sock = self._tls().wrap_socket(sock, server_hostname=ep.host)
        except TimeoutError:
            raise EngineTimeout(f"no connection to {ep.display} within {self.timeout:g} s") from None
        except PermissionError:
            raise EngineDown(f"permission denied on {ep.display}") from None
        except FileNotFoundError:
            raise EngineDown(f"no socket at {ep.unix_path}") from None
        except ConnectionRefusedError:
            raise EngineDown(f"connection refused by {ep.display}") from None
        except ssl.SSLError as exc:
            raise EngineDown(f"TLS handshake with {ep.display} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise EngineDown(f"cannot connect to {ep.display}: {exc.strerror or exc}") from None
        return sock

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            ep = self.endpoint
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if ep.tls_verify:
                ca = os.path.join(ep.cert_path, "ca.pem")
                try:
                    ctx.load_verify_locations(ca)
                except (OSError, ssl.SSLError) as exc:
                    raise EngineDown(f"cannot load the CA {ca}: {exc}") from None
            else:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            cert, key = os.path.join(ep.cert_path, "cert.pem"), os.path.join(ep.cert_path, "key.pem")
            if os.path.isfile(cert) and os.path.isfile(key):
                try:
                    ctx.load_cert_chain(cert, key)
                except (OSError, ssl.SSLError) as exc:
                    raise EngineDown(f"cannot load the client certificate {cert}: {exc}") from None
            self._ssl = ctx
        return self._ssl

    def _drop(self) -> None:
        sock = self._local.sock
        self._local.sock = None
        self._local.buffer = b""
        if sock is not None:
            with self._lock:
                if sock in self._socks:
                    self._socks.remove(sock)
            _close(sock)

    def _host_header(self) -> str:
        return "docker" if self.endpoint.is_unix else f"{self.endpoint.host}:{self.endpoint.port}"

    def _http_error(self, status: int, body: bytes, path: str) -> EngineHTTPError:
        message = ""
        try:
            data = json.loads(body[:4096])
            if isinstance(data, dict) and isinstance(data.get("message"), str):
                message = data["message"]
        except ValueError:
            message = body[:200].decode("utf-8", "replace")
        text = f"GET {path}: HTTP {status}" + (f": {message.strip()[:300]}" if message.strip() else "")
        return (EngineNotFound if status == 404 else EngineHTTPError)(status, text)


# --- reading with a deadline ---------------------------------------------------------------------


class _StaleConnection(Exception):
    """A reused keep-alive connection was closed by the engine before any byte of the answer."""


def _remaining(end: float, whole_run: bool, timeout: float) -> float:
    left = end - time.monotonic()
    if left <= 0:
        if whole_run:
            raise EngineTimeout("the collection deadline passed (--deadline)")
        raise EngineTimeout(f"no complete answer within {timeout:g} s (--timeout)")
    return left


def _sendall(sock: socket.socket, data: bytes, end: float, whole_run: bool, timeout: float) -> None:
    try:
        sock.settimeout(_remaining(end, whole_run, timeout))
        sock.sendall(data)
    except TimeoutError:
        _remaining(end, whole_run, timeout)
        raise EngineTimeout(f"the engine did not take the request within {timeout:g} s") from None
    except (BrokenPipeError, ConnectionResetError):
        raise _StaleConnection() from None
    except OSError as exc:
        raise EngineDown(f"connection lost: {exc.strerror or exc}") from None


class _Reader:
    def __init__(self, sock: socket.socket, buffered: bytes, end: float, whole_run: bool, timeout: float) -> None:
        self.sock = sock
        self.buf = bytearray(buffered)
        self.end = end
        self.whole_run = whole_run
        self.timeout = timeout
        self.got_any = bool(buffered)
        self.rest = b""

    def _more(self) -> bool:
        """Read what the socket has (within the deadline); False at EOF."""
        self.sock.settimeout(_remaining(self.end, self.whole_run, self.timeout))
        try:
            chunk = self.sock.recv(_RECV)
        except TimeoutError:
            _remaining(self.end, self.whole_run, self.timeout)  # raises when the deadline is the cause
            raise EngineTimeout(f"no complete answer within {self.timeout:g} s (--timeout)") from None
        except ConnectionResetError:
            if not self.got_any:
                raise _StaleConnection() from None
            raise EngineDown("the engine reset the connection mid-answer") from None
        except ssl.SSLError as exc:
            raise EngineDown(f"TLS error: {exc.reason or exc}") from None
        except OSError as exc:
            raise EngineDown(f"connection lost: {exc.strerror or exc}") from None
        if not chunk:
            if not self.got_any:
                raise _StaleConnection()
            return False
        self.got_any = True
        self.buf += chunk
        return True

    def until(self, marker: bytes, cap: int) -> bytes:
        start = 0
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                head = bytes(self.buf[:i])
                del self.buf[: i + len(marker)]
                return head
            if len(self.buf) > cap:
                raise EngineBadAnswer(f"HTTP headers over {cap // 1024} KiB")
            start = max(0, len(self.buf) - len(marker))
            if not self._more():
                raise EngineDown("the engine closed the connection mid-answer")

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._more():
                raise EngineDown(f"the engine closed the connection after {len(self.buf):,} of {n:,} bytes")
        body = bytes(self.buf[:n])
        self.rest = bytes(self.buf[n:])
        return body

    def chunked(self, cap: int) -> bytes:
        out = bytearray()
        while True:
            line = self.until(b"\r\n", 1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise EngineBadAnswer(f"bad chunk size {line[:20]!r}") from None
            if size == 0:
                self.until(b"\r\n", MAX_HEADER_BYTES)  # trailers end with an empty line
                self.rest = bytes(self.buf)
                return bytes(out)
            if len(out) + size > cap:
                raise EngineBadAnswer(f"answer over the {_mb(cap)} cap")
            out += self.exactly(size)
            self.buf = bytearray(self.rest)
            self.rest = b""
            self.until(b"\r\n", 2)

    def to_eof(self, cap: int) -> bytes:
        while self._more():
            if len(self.buf) > cap:
                raise EngineBadAnswer(f"answer over the {_mb(cap)} cap")
        return bytes(self.buf)


def _head(reader: _Reader) -> tuple[int, dict[str, str]]:
    """The status and headers (lower-case names) of an answer."""
    head = reader.until(b"\r\n\r\n", MAX_HEADER_BYTES)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise EngineBadAnswer(f"not an HTTP answer: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, val = line.partition(":")
        if sep:
            headers[name.strip().lower()] = val.strip()
    return int(parts[1]), headers


def _small_body(reader: _Reader, headers: Mapping[str, str], cap: int = 64 * 1024) -> bytes:
    """An error answer's body (its start), for the message."""
    try:
        return b"".join(_body_pieces(reader, headers, cap))
    except EngineError:
        return bytes(reader.buf[:cap])


def _body_pieces(reader: _Reader, headers: Mapping[str, str], cap: int | None) -> Iterator[bytes]:
    """A body as it arrives: Content-Length, chunked, or to the end of the connection; at most `cap` bytes."""
    sent = 0

    def take(n: int) -> bytes:
        nonlocal sent
        if cap is not None and sent + n > cap:
            raise EngineBadAnswer(f"answer over the {_mb(cap)} cap")
        sent += n
        piece = bytes(reader.buf[:n])
        del reader.buf[:n]
        return piece

    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            line = reader.until(b"\r\n", 1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise EngineBadAnswer(f"bad chunk size {line[:20]!r}") from None
            if size == 0:
                reader.until(b"\r\n", MAX_HEADER_BYTES)  # trailers end with an empty line
                return
            while size:
                if not reader.buf and not reader._more():
                    raise EngineDown("the engine closed the connection mid-answer")
                piece = take(min(size, len(reader.buf)))
                size -= len(piece)
                yield piece
            reader.until(b"\r\n", 2)
    elif "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise EngineBadAnswer(f"bad Content-Length {length[:20]!r}")
        left = int(length)
        while left:
            if not reader.buf and not reader._more():
                raise EngineDown(f"the engine closed the connection with {left:,} bytes of the answer left")
            piece = take(min(left, len(reader.buf)))
            left -= len(piece)
            yield piece
    else:
        while reader.buf or reader._more():
            yield take(len(reader.buf))


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


# --- bounded JSON --------------------------------------------------------------------------------


def loads(data: bytes | str, what: str) -> Any:
    """JSON with bounded nesting: deeper than the interpreter can take is an EngineBadAnswer, not a crash."""
    try:
        return json.loads(data)
    except RecursionError:
        raise EngineBadAnswer(f"{what}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise EngineBadAnswer(f"{what}: not JSON ({str(exc)[:80]})") from None


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
