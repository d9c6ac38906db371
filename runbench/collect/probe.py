"""Who can reach an engine API over TCP: every TCP listener of the engine's processes, probed without a client
certificate.

Listeners: the LISTEN entries of /proc/net/tcp and /proc/net/tcp6 (read once), matched by socket inode to the
open files of every dockerd, containerd, docker-proxy and rootlesskit process (found in /proc) — what
psutil's `Process.net_connections(kind="tcp")` gives, without re-reading both tables once per process (a host
with a few hundred published ports runs as many docker-proxy processes). Whatever listens on 2375 or 2376 of
the loopback is taken too, whoever holds it (a socat relay of the engine's socket is a classic). TCP endpoints
the daemon is configured with (`-H`, daemon.json `hosts`, a systemd ListenStream) join them after the
configuration is read (`PendingProbe.finish`); one that is configured but not seen listening is probed only
when the listeners could not all be seen (not root).

The probe: GET /_ping, and GET /version when the ping was answered, in plain HTTP and then over TLS with no
client certificate (the TLS attempt is left out when plain HTTP already reached the API or nothing accepted
the connection). Nothing else is ever sent, and only to an address the daemon listens on: a wildcard
listener is probed through 127.0.0.1 or ::1. Each listener's probe gets `PROBE_SECONDS` in all; the probes
run in a small pool, in a thread started before the container inspects (`start`), so that they overlap.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from runbench import __version__
from runbench.collect.proc import parent_pid, process_entries, read_proc_file
from runbench.daemonconfig import lookup
from runbench.hostfs import MIB, read_host_file
from runbench.semantics import unix_socket_path
from runbench.snapshot import DaemonConfig, HostFacts, ProbeAttempt, ProbeOutcome, TcpExposure, TcpListener

__all__ = [
    "ENGINE_PROCESSES",
    "PROBE_SECONDS",
    "WELL_KNOWN_PORTS",
    "PendingProbe",
    "configured_endpoints",
    "discover",
    "may_be_local",
    "probe_listener",
    "socket_streams",
    "start",
]

PROC = "/proc"
ENGINE_PROCESSES = frozenset({"dockerd", "containerd", "docker-proxy", "rootlesskit"})
WELL_KNOWN_PORTS = (2375, 2376)  # the engine's plain and TLS ports
PROBE_SECONDS = 2.0  # per listener, every attempt included
MAX_PROBES = 256  # listeners probed at most; the rest are listed as not probed
WORKERS = 8
MAX_ANSWER = 64 * 1024  # bytes read of one answer
ALERT_WAIT = 0.25  # how long a TLS 1.3 probe waits for a certificate_required alert before sending
CLOSED_AFTER_HANDSHAKE = (
    "TLS handshake: the listener closed the connection as soon as the handshake ended, without a request: "
    "it refused a client without a certificate"
)
NET_TCP_CAP = 64 * MIB
_TCP_LISTEN = "0A"
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "::ffff:0.0.0.0": "127.0.0.1"}


# --- listeners --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Socket:
    """One LISTEN entry of /proc/net/tcp{,6}."""

    address: str
    port: int
    inode: int


def _address(hex_text: str) -> str:
    """A /proc/net/tcp{,6} address (32-bit words in host byte order) as text; IPv4-mapped ones as ::ffff:a.b.c.d."""
    packed = b"".join(struct.pack("=I", int(hex_text[i : i + 8], 16)) for i in range(0, len(hex_text), 8))
    ip = ipaddress.ip_address(packed)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return f"::ffff:{ip.ipv4_mapped}"
    return str(ip)


def listening_sockets(proc: str = PROC) -> tuple[dict[int, _Socket] | None, str]:
    """Every listening TCP socket of this network namespace by inode; None and why when unreadable."""
    found: dict[int, _Socket] = {}
    for name in ("tcp", "tcp6"):
        table = read_host_file(f"{proc}/net/{name}", max_bytes=NET_TCP_CAP)
        if table.text is None:
            if table.missing and name == "tcp6":
                continue  # no IPv6 on this host
            return None, f"cannot read {proc}/net/{name}: {table.why}"
        for line in table.text.split("\n")[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _TCP_LISTEN:
                continue
            addr, _, port_hex = fields[1].partition(":")
            try:
                sock = _Socket(_address(addr), int(port_hex, 16), int(fields[9]))
            except ValueError:
                continue
            if sock.inode > 0:
                found[sock.inode] = sock
    return found, ""


def _held(pid: int, proc: str) -> tuple[set[int] | None, str]:
    """The socket inodes process `pid` holds open; None and why when its open files cannot be read."""
    fd_dir = f"{proc}/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except FileNotFoundError:
        return set(), ""  # exited meanwhile
    except OSError as exc:
        return None, exc.strerror or str(exc)
    inodes: set[int] = set()
    for fd in fds:
        try:
            link = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link.endswith("]") and link[8:-1].isdigit():
            inodes.add(int(link[8:-1]))
    return inodes, ""


@dataclass(slots=True)
class _Processes:
    """The engine's processes by pid (their names from /proc/PID/comm, one small read each: a host running
    many containers has many processes, and a full psutil pass over them costs several times more), and the
    parents of those looked at (their stat files, read when first asked)."""

    engine: dict[int, str] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)
    proc: str = PROC

    @classmethod
    def read(cls, proc: str = PROC) -> _Processes:
        found = cls(proc=proc)
        for entry in process_entries(proc):
            raw = read_proc_file(f"{proc}/{entry}/comm", 64)
            if raw is None:
                continue  # exited meanwhile
            name = raw.strip().decode("utf-8", "replace")
            if name in ENGINE_PROCESSES:
                found.engine[int(entry)] = name
        return found

    def _ppid(self, pid: int) -> int:
        if pid not in self.parent:
            self.parent[pid] = parent_pid(pid, self.proc)
        return self.parent[pid]

    def daemon_of(self, pid: int) -> int | None:
        """The dockerd `pid` belongs to: itself, the nearest dockerd above it, or (rootlesskit, which starts
        the daemon) the one dockerd below it."""
        seen: set[int] = set()
        current = pid
        while current > 0 and current not in seen:
            if self.engine.get(current) == "dockerd":
                return current
            seen.add(current)
            current = self._ppid(current)
        if self.engine.get(pid) == "rootlesskit":
            below = [d for d, name in self.engine.items() if name == "dockerd" and self._descends(d, pid)]
            return below[0] if len(below) == 1 else None
        return None

    def _descends(self, pid: int, ancestor: int) -> bool:
        seen: set[int] = set()
        while pid > 0 and pid not in seen:
            if pid == ancestor:
                return True
            seen.add(pid)
            pid = self._ppid(pid)
        return False


def _on_loopback(address: str) -> bool:
    """The address is, or covers, the loopback (127.0.0.0/8, ::1, or a wildcard)."""
    if address in _WILDCARDS:
        return True
    try:
        ip = ipaddress.ip_address(address.removeprefix("::ffff:"))
    except ValueError:
        return False
    return ip.is_loopback


@dataclass(frozen=True, slots=True)
class Discovery:
    """What `discover` saw: the listeners (not yet probed), what could not be seen, and whether that is all."""

    listeners: tuple[TcpListener, ...]
    notes: tuple[str, ...]
    complete: bool


def discover(proc: str = PROC, processes: _Processes | None = None) -> Discovery:
    """The TCP listeners of the engine's processes and whatever listens on the loopback's 2375/2376."""
    sockets, why = listening_sockets(proc)
    if sockets is None:
        return Discovery((), (f"TCP listeners unknown: {why}",), False)
    procs = processes if processes is not None else _Processes.read(proc)
    notes: list[str] = []
    complete = True
    out: list[TcpListener] = []
    claimed: set[int] = set()
    for pid, name in sorted(procs.engine.items()):
        held, why = _held(pid, proc)
        if held is None:
            notes.append(f"cannot read the open files of {name} pid {pid} ({why}): its TCP listeners are unknown")
            complete = False
            continue
        for inode in sorted(held & sockets.keys()):
            if inode in claimed:
                continue  # a socket shared by parent and child (socket activation): named once
            claimed.add(inode)
            s = sockets[inode]
            daemon = procs.daemon_of(pid)
            out.append(TcpListener(s.address, s.port, name, pid, daemon, f"listening socket held by {name} pid {pid}"))
    for inode, s in sorted(sockets.items(), key=lambda kv: (kv[1].port, kv[1].address)):
        if inode not in claimed and s.port in WELL_KNOWN_PORTS and _on_loopback(s.address):
            claimed.add(inode)
            found_by = f"listening on the engine's well-known port {s.port} (holder not among the engine's processes)"
            out.append(TcpListener(s.address, s.port, "", None, None, found_by))
    return Discovery(tuple(out), tuple(notes), complete)


# --- configured endpoints ---------------------------------------------------------------------------

_TCP_HOST = re.compile(r"^tcp://(?P<host>\[[^\]]*\]|[^:/]*)(?::(?P<port>\d{1,5}))?/?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Configured:
    """A TCP endpoint the daemon is configured to listen on, and where that was said."""

    address: str  # as configured; "" for "all interfaces"
    port: int
    where: str  # "tcp://127.0.0.1:2375 (argv)"


def parse_tcp_host(value: str, tls: bool = False) -> tuple[str, int] | None:
    """The address and port of a dockerd `-H tcp://HOST:PORT` value (dockerd's default port is 2375, or 2376
    with TLS); None for other schemes and for values dockerd would refuse."""
    m = _TCP_HOST.match(value.strip())
    if m is None:
        return None
    host = m["host"].strip("[]")
    port = int(m["port"]) if m["port"] else (2376 if tls else 2375)
    if not 0 < port < 65536:
        return None
    if host.lower() == "localhost":
        host = "127.0.0.1"
    return host, port


def configured_endpoints(config: DaemonConfig | None, extra: Iterable[tuple[str, str]] = ()) -> list[Configured]:
    """The TCP endpoints of the daemon's effective configuration (`hosts`, from argv or daemon.json) and of
    `extra` ((value, where) pairs: a systemd ListenStream)."""
    if config is None:
        return []
    hosts, tls = lookup(config, "hosts"), lookup(config, "tls")
    verify = lookup(config, "tlsverify")
    on_tls = (tls.known and tls.value is True) or (verify.known and verify.value is True)
    given = [(item, cv.source) for cv in hosts.values for item in _items(cv.value)]
    out = [
        Configured(parsed[0], parsed[1], f"{item} ({source})")
        for item, source in given
        if (parsed := parse_tcp_host(item, on_tls))
    ]
    for value, where in extra:
        text = value if "://" in value else f"tcp://{value}" if ":" in value else f"tcp://:{value}"
        if parsed := parse_tcp_host(text, on_tls):
            out.append(Configured(parsed[0], parsed[1], f"ListenStream={value} ({where})"))
    return out


def socket_streams(host: HostFacts | None, config: DaemonConfig | None) -> list[tuple[str, str]]:
    """The ListenStream= values of docker.socket, (value, where), when the daemon takes its sockets from
    systemd (a `fd://` host); none otherwise."""
    if host is None or config is None:
        return []
    hosts = lookup(config, "hosts")
    if not any(item.startswith("fd://") for cv in hosts.values for item in _items(cv.value)):
        return []
    unit = host.unit("docker.socket")
    return [(s.value, s.source) for s in unit.listen_streams] if unit is not None else []


def may_be_local(docker_host: str) -> bool:
    """Whether the engine at `docker_host` may run on this host (a unix socket, or TCP on the loopback): only
    then are the listeners seen here the engine's."""
    if unix_socket_path(docker_host) is not None:
        return True
    parsed = parse_tcp_host(docker_host)
    return parsed is not None and _on_loopback(parsed[0]) and parsed[0] not in _WILDCARDS


def _items(value: object) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _covers(listener: TcpListener, c: Configured) -> bool:
    if listener.port != c.port:
        return False
    wanted = c.address or "0.0.0.0"
    same = {listener.address, listener.address.removeprefix("::ffff:")}
    return wanted in same or (wanted in _WILDCARDS and listener.address in _WILDCARDS)


# --- the probe --------------------------------------------------------------------------------------


def probe_address(address: str) -> str:
    """Where a listener bound at `address` is probed: itself, or the loopback for a wildcard."""
    if address in _WILDCARDS:
        return _WILDCARDS[address]
    return address.removeprefix("::ffff:") if address.startswith("::ffff:") else address


def _tls_context() -> ssl.SSLContext:
    """TLS without a client certificate and without checking the server's (we ask whether it lets us in)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


_TLS = _tls_context()


class _Failed(Exception):
    def __init__(self, outcome: ProbeOutcome, why: str) -> None:
        super().__init__(why)
        self.outcome = outcome
        self.why = why


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _left(end: float) -> float:
    left = end - time.monotonic()
    if left <= 0:
        raise _Failed(ProbeOutcome.TIMEOUT, f"no complete answer within {PROBE_SECONDS:g} s")
    return left


_CERT_ALERTS = ("CERTIFICATE_REQUIRED", "BAD_CERTIFICATE", "PEER_DID_NOT_RETURN_A_CERTIFICATE")
_NOT_TLS = ("WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "RECORD_LAYER_FAILURE", "PACKET_LENGTH")


def _tls_failure(exc: ssl.SSLError, when: str) -> _Failed:
    reason = str(exc.reason or exc)
    if any(a in reason.upper() for a in _CERT_ALERTS):
        return _Failed(ProbeOutcome.CERT_REQUIRED, f"TLS {when}: {reason} (a client certificate is required)")
    if any(a in reason.upper() for a in _NOT_TLS):
        return _Failed(ProbeOutcome.NOT_TLS, f"TLS {when}: {reason} (the listener does not speak TLS)")
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return _Failed(ProbeOutcome.FAILED, f"TLS {when}: the listener closed the connection")
    return _Failed(ProbeOutcome.FAILED, f"TLS {when}: {reason}")


def _connect(address: str, port: int, tls: bool, end: float) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(_left(end))
        sock.connect((address, port))
        if tls:
            sock.settimeout(_left(end))
            sock = _TLS.wrap_socket(sock)
            _refused_after_handshake(sock, end)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            sock.close()
        raise _failure(exc, "handshake") from None
    return sock


def _refused_after_handshake(sock: ssl.SSLSocket, end: float) -> None:
    """In TLS 1.3 a server checks the client's certificate after the client considers the handshake done, and
    answers a missing one with an alert (certificate_required). Wait briefly for that alert before sending
    anything: a request already on its way would make the server reset the connection and lose the alert."""
    if sock.version() != "TLSv1.3":
        return  # in TLS 1.2 the certificate check fails the handshake itself
    sock.settimeout(min(ALERT_WAIT, _left(end)))
    try:
        data = sock.recv(1)
    except TimeoutError:
        return  # nothing to say: the server waits for the request
    except ssl.SSLError as exc:
        raise _tls_failure(exc, "handshake") from None
    except ConnectionResetError:
        raise _Failed(ProbeOutcome.CERT_REQUIRED, CLOSED_AFTER_HANDSHAKE) from None
    if not data:
        raise _Failed(ProbeOutcome.CERT_REQUIRED, CLOSED_AFTER_HANDSHAKE)
    raise _Failed(ProbeOutcome.FAILED, "the listener spoke before any request: not the engine API")


def _failure(exc: BaseException, when: str) -> _Failed | BaseException:
    if isinstance(exc, _Failed):
        return exc
    if isinstance(exc, ssl.SSLError):
        return _tls_failure(exc, when)
    if isinstance(exc, TimeoutError):
        return _Failed(ProbeOutcome.TIMEOUT, f"no complete answer within {PROBE_SECONDS:g} s")
    if isinstance(exc, ConnectionRefusedError):
        return _Failed(ProbeOutcome.REFUSED, "connection refused")
    if isinstance(exc, ConnectionResetError):
        return _Failed(ProbeOutcome.FAILED, "the listener reset the connection")
    if isinstance(exc, OSError):
        return _Failed(ProbeOutcome.FAILED, exc.strerror or str(exc))
    return exc


def _get(address: str, port: int, path: str, tls: bool, end: float) -> _Answer:
    """One GET with `Connection: close`, its answer read up to MAX_ANSWER bytes; raises _Failed."""
    sock = _connect(address, port, tls, end)
    host = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: runbench/{__version__} (tcp exposure probe)\r\n"
        "Accept: application/json\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    data = bytearray()
    try:
        sock.settimeout(_left(end))
        sock.sendall(request)
        while len(data) < MAX_ANSWER:
            sock.settimeout(_left(end))
            chunk = sock.recv(MAX_ANSWER - len(data))
            if not chunk:
                break
            data += chunk
            if _complete(data):
                break
    except BaseException as exc:
        if not data:
            raise _failure(exc, "read") from None
    finally:
        with contextlib.suppress(OSError):
            sock.close()
    return _parse(bytes(data))


def _complete(data: bytearray) -> bool:
    head, sep, body = bytes(data).partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return m is not None and len(body) >= int(m.group(1))


def _parse(data: bytes) -> _Answer:
    if not data:
        raise _Failed(ProbeOutcome.FAILED, "the listener closed the connection without answering")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise _Failed(ProbeOutcome.FAILED, f"not an HTTP answer ({lines[0][:40]!r})")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()[:200]
    return _Answer(int(parts[1]), headers, body)


_HTTPS_ONLY = b"HTTP request to an HTTPS server"


def _attempt(address: str, port: int, tls: bool, end: float) -> ProbeAttempt:
    """GET /_ping, then /version when the ping was answered, over one transport."""
    mode = "TLS without a client certificate" if tls else "plain HTTP"
    try:
        ping = _get(address, port, "/_ping", tls, end)
    except _Failed as exc:
        return ProbeAttempt(tls, exc.outcome, f"{mode}: GET /_ping: {exc.why}")
    status = f"HTTP {ping.status}"
    if ping.status == 400 and _HTTPS_ONLY in ping.body:
        return ProbeAttempt(tls, ProbeOutcome.TLS_REQUIRED, f"{mode}: GET /_ping: {status}: the listener wants TLS")
    if ping.status in (401, 403, 407):
        return ProbeAttempt(tls, ProbeOutcome.DENIED, f"{mode}: GET /_ping: {status} (denied)")
    api = ping.headers.get("api-version", "")
    if ping.status != 200 or not (api or ping.body.strip() == b"OK"):
        return ProbeAttempt(tls, ProbeOutcome.NOT_DOCKER, f"{mode}: GET /_ping: {status}, not the Docker Engine API")
    seen = f"{mode}: GET /_ping: {status}" + (f" (Api-Version {api})" if api else "")
    try:
        version = _get(address, port, "/version", tls, end)
    except _Failed as exc:
        return ProbeAttempt(tls, ProbeOutcome.ANSWERED, f"{seen}; GET /version: {exc.why}", api)
    if version.status in (401, 403):
        why = f"{seen}; GET /version: HTTP {version.status} (denied: an authorization plugin?)"
        return ProbeAttempt(tls, ProbeOutcome.DENIED, why, api)
    info = _json_object(version.body) if version.status == 200 else {}
    api = _text(info.get("ApiVersion")) or api
    server = _text(info.get("Version"))
    shown = f"; GET /version: HTTP {version.status}" + (f" (Docker {server}, API {api})" if server else "")
    return ProbeAttempt(tls, ProbeOutcome.ANSWERED, seen + shown, api, server)


def _json_object(body: bytes) -> dict[str, object]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: object) -> str:
    return value[:40] if isinstance(value, str) else ""


# Plain-HTTP outcomes after which a TLS attempt can tell nothing more.
_NO_TLS_AFTER = {
    ProbeOutcome.ANSWERED: "the API answered in plain HTTP",
    ProbeOutcome.REFUSED: "connection refused",
    ProbeOutcome.DENIED: "the listener speaks plain HTTP",
    ProbeOutcome.NOT_DOCKER: "the listener speaks plain HTTP",
}


def probe_listener(listener: TcpListener, seconds: float = PROBE_SECONDS) -> TcpListener:
    """`listener` with what an unauthenticated client gets from it: plain HTTP first, then TLS (left out when
    plain HTTP got an HTTP answer or nothing accepted the connection), all within `seconds`."""
    target = probe_address(listener.address)
    end = time.monotonic() + seconds
    plain = _attempt(target, listener.port, False, end)
    attempts = [plain]
    if plain.outcome in _NO_TLS_AFTER:
        why = _NO_TLS_AFTER[plain.outcome]
        attempts.append(ProbeAttempt(True, ProbeOutcome.NOT_TRIED, f"TLS not tried: {why}"))
    elif time.monotonic() >= end:
        attempts.append(ProbeAttempt(True, ProbeOutcome.TIMEOUT, f"TLS not tried: the {seconds:g} s were used up"))
    else:
        attempts.append(_attempt(target, listener.port, True, end))
    host = f"[{target}]" if ":" in target else target
    return replace(listener, probed=f"{host}:{listener.port}", attempts=tuple(attempts))


def probe_all(listeners: Sequence[TcpListener], seconds: float = PROBE_SECONDS) -> tuple[TcpListener, ...]:
    """Every listener probed (at most MAX_PROBES, WORKERS at a time); the rest marked not probed."""
    head, rest = list(listeners[:MAX_PROBES]), listeners[MAX_PROBES:]
    if not head:
        return ()
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(head)), thread_name_prefix="runbench-probe") as pool:
        probed = list(pool.map(lambda item: probe_listener(item, seconds), head))
    skipped = ProbeAttempt(False, ProbeOutcome.NOT_TRIED, f"not probed: more than {MAX_PROBES} listeners")
    return (*probed, *(replace(item, attempts=(skipped,)) for item in rest))


# --- in the background of a scan --------------------------------------------------------------------


class PendingProbe:
    """Discovery and probes running in a thread of their own; `finish` joins them."""

    def __init__(self, proc: str = PROC, seconds: float = PROBE_SECONDS) -> None:
        self.proc = proc
        self.seconds = seconds
        self._result: Discovery | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="runbench-tcp-probe", daemon=True)

    def start(self) -> PendingProbe:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            found = discover(self.proc)
            self._result = replace(found, listeners=probe_all(found.listeners, self.seconds))
        except Exception as exc:  # noqa: BLE001 - recorded as a note, never raised past the collector
            self._error = exc

    def finish(self, configured: Sequence[Configured] = (), daemon_pid: int | None = None) -> TcpExposure:
        """The exposure: the probed listeners, and each configured endpoint no seen listener covers (probed
        only when the listeners could not all be seen; else listed as configured, not listening)."""
        self._thread.join(timeout=self.seconds * (1 + MAX_PROBES // WORKERS) + 5)
        if self._thread.is_alive():
            return TcpExposure((), ("the TCP probe did not finish in time",), complete=False)
        if self._error is not None or self._result is None:
            why = f"{type(self._error).__name__}: {self._error}" if self._error else "no result"
            return TcpExposure((), (f"TCP listeners unknown: {why}",), complete=False)
        found = self._result
        listeners = list(found.listeners)
        extra: list[TcpListener] = []
        for c in configured:
            if any(_covers(item, c) for item in (*listeners, *extra)):
                continue
            address = c.address or "0.0.0.0"
            item = TcpListener(address, c.port, "dockerd", None, daemon_pid, f"configured: {c.where}")
            try:
                ipaddress.ip_address(address)
            except ValueError:
                why = "not probed: a host name, not an address the daemon was seen listening on"
                extra.append(replace(item, attempts=(ProbeAttempt(False, ProbeOutcome.NOT_TRIED, why),)))
                continue
            if found.complete:
                why = "not probed: no listening socket of the engine's processes has this address"
                extra.append(replace(item, attempts=(ProbeAttempt(False, ProbeOutcome.NOT_TRIED, why),)))
            else:
                extra.append(item)
        to_probe = [e for e in extra if not e.attempts]
        probed = {id(e): p for e, p in zip(to_probe, probe_all(to_probe, self.seconds), strict=True)}
        listeners += [probed.get(id(e), e) for e in extra]
        return TcpExposure(tuple(listeners), found.notes, found.complete)


def start(proc: str = PROC, seconds: float = PROBE_SECONDS) -> PendingProbe:
    """Begin discovery and probing in the background (before the container inspects)."""
    return PendingProbe(proc, seconds).start()
