"""The TCP exposure probe (runbench.collect.probe) against servers this test starts on 127.0.0.1: a plain engine
API, a TLS server that requires a client certificate (openssl-made CA), a TLS server that does not, one that
wants TLS, one that denies, one that is not Docker, one that never answers, and a closed port. Listener
discovery on a fake /proc."""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runbench import daemonconfig
from runbench.collect import probe
from runbench.snapshot import ProbeOutcome, TcpListener
from tests.support.tlscerts import CertSet, make_ca

Out = ProbeOutcome
PING_HEADERS = {"Api-Version": "1.41", "Docker-Experimental": "false", "Ostype": "linux", "Server": "Docker/20.10"}
VERSION = {"Version": "20.10.24", "ApiVersion": "1.41", "MinAPIVersion": "1.12", "Os": "linux"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertSet:
    return make_ca(tmp_path_factory.mktemp("ca"))


class Engine(BaseHTTPRequestHandler):
    """A minimal engine API: /_ping and /version; records every request line it gets."""

    requests: list[str]
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.requests.append(f"{self.command} {self.path}")
        if self.path == "/_ping":
            self._answer(self.status, b"OK", PING_HEADERS)
        elif self.path == "/version":
            self._answer(self.status, json.dumps(VERSION).encode(), {"Content-Type": "application/json"})
        else:
            self._answer(404, b'{"message":"page not found"}', {})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _handler(status: int = 200) -> tuple[type[Engine], list[str]]:
    seen: list[str] = []
    return type("Handler", (Engine,), {"requests": seen, "status": status}), seen


def _serve(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _http(status: int = 200, tls: ssl.SSLContext | None = None) -> tuple[ThreadingHTTPServer, list[str]]:
    handler, seen = _handler(status)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    return server, seen


def _server_tls(certs: CertSet, require_client: bool) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs.server_cert, certs.server_key)
    if require_client:
        ctx.load_verify_locations(certs.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _at(port: int, address: str = "127.0.0.1") -> TcpListener:
    return TcpListener(address, port, "dockerd", 4242, 4242, "test")


def outcomes(listener: TcpListener) -> tuple[ProbeOutcome, ...]:
    return tuple(a.outcome for a in listener.attempts)


# --- the probe ------------------------------------------------------------------------------------


def test_a_plain_engine_answers_and_tls_is_not_tried() -> None:
    server, seen = _http()
    for port in _serve(server):
        result = probe.probe_listener(_at(port))
        assert outcomes(result) == (Out.ANSWERED, Out.NOT_TRIED)
        answered = result.answered
        assert answered is not None and not answered.tls
        assert (answered.api_version, answered.server_version) == ("1.41", "20.10.24")
        assert result.probed == f"127.0.0.1:{port}"
    assert seen == ["GET /_ping", "GET /version"]  # nothing else is ever sent


def test_a_tls_server_requiring_a_client_certificate_refuses_the_probe(certs: CertSet) -> None:
    server, seen = _http(tls=_server_tls(certs, require_client=True))
    for port in _serve(server):
        result = probe.probe_listener(_at(port))
        assert result.answered is None
        assert outcomes(result)[1] is Out.CERT_REQUIRED, result.attempts
        assert outcomes(result)[0] in (Out.FAILED, Out.TLS_REQUIRED)
        # the server itself works: a client with the CA-signed certificate gets in
        client = ssl.create_default_context(cafile=str(certs.ca))
        client.load_cert_chain(certs.client_cert, certs.client_key)
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client.wrap_socket(raw, server_hostname="127.0.0.1") as conn,
        ):
            conn.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert conn.recv(4096).startswith(b"HTTP/1.0 200")
    assert seen == ["GET /_ping"]  # only the certified client's request reached the API


def test_a_tls_server_without_client_verification_answers_over_tls(certs: CertSet) -> None:
    server, seen = _http(tls=_server_tls(certs, require_client=False))
    for port in _serve(server):
        result = probe.probe_listener(_at(port))
        answered = result.answered
        assert answered is not None and answered.tls
        assert outcomes(result)[0] is not Out.ANSWERED
    assert seen == ["GET /_ping", "GET /version"]


class _Raw:
    """A TCP server answering every connection with `reply` (None: accept and say nothing)."""

    def __init__(self, reply: bytes | None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.held: list[socket.socket] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.reply is None:
                self.held.append(conn)
                continue
            conn.recv(4096)
            conn.sendall(self.reply)
            conn.close()

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize(
    ("reply", "plain", "tls"),
    [
        (b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n", Out.TLS_REQUIRED, None),
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", Out.DENIED, Out.NOT_TRIED),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", Out.NOT_DOCKER, Out.NOT_TRIED),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", Out.NOT_DOCKER, Out.NOT_TRIED),
        (b"SSH-2.0-OpenSSH_9.2\r\n", Out.FAILED, None),
    ],
)
def test_answers_that_are_not_the_api(reply: bytes, plain: ProbeOutcome, tls: ProbeOutcome | None) -> None:
    server = _Raw(reply)
    try:
        result = probe.probe_listener(_at(server.port))
    finally:
        server.close()
    assert outcomes(result)[0] is plain
    assert result.answered is None
    # a plain HTTP answer ends the probe; otherwise TLS is tried, and none of these speaks it
    assert outcomes(result)[1] in ((tls,) if tls else (Out.NOT_TLS, Out.FAILED))


def test_a_closed_port_is_refused_and_tls_not_tried() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    assert outcomes(probe.probe_listener(_at(port))) == (Out.REFUSED, Out.NOT_TRIED)


def test_a_silent_listener_times_out_within_the_budget() -> None:
    server = _Raw(None)
    started = time.monotonic()
    try:
        result = probe.probe_listener(_at(server.port), seconds=0.4)
    finally:
        server.close()
    assert time.monotonic() - started < 1.5
    assert outcomes(result)[0] is Out.TIMEOUT
    assert result.answered is None


def test_a_wildcard_listener_is_probed_on_the_loopback() -> None:
    server, _ = _http()
    for port in _serve(server):
        result = probe.probe_listener(_at(port, "0.0.0.0"))
        assert result.probed == f"127.0.0.1:{port}" and result.answered is not None
    assert probe.probe_address("::") == "::1"
    assert probe.probe_address("::ffff:127.0.0.1") == "127.0.0.1"
    assert probe.probe_address("10.0.0.5") == "10.0.0.5"


def test_probe_all_runs_in_parallel() -> None:
    silent = [_Raw(None) for _ in range(4)]
    started = time.monotonic()
    try:
        results = probe.probe_all([_at(s.port) for s in silent], seconds=0.5)
    finally:
        for s in silent:
            s.close()
    assert len(results) == 4
    assert time.monotonic() - started < 1.6  # four 0.5 s probes at once, not one after another


# --- discovery on a fake /proc --------------------------------------------------------------------


def _hex4(address: str, port: int) -> str:
    packed = socket.inet_aton(address)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"


def _fake_proc(tmp_path: Path, rows: list[tuple[str, int, str, int]], fds: dict[int, list[int] | None]) -> Path:
    """/proc with net/tcp rows (address, port, state, inode) and pids holding socket inodes (None: unreadable)."""
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    lines = [
        f"   {i}: {_hex4(a, p)} 00000000:0000 {st} 00000000:00000000 00:00000000 00000000     0        0 {ino} 1"
        for i, (a, p, st, ino) in enumerate(rows)
    ]
    (proc / "net" / "tcp").write_text(head + "\n".join(lines) + "\n")
    for pid, inodes in fds.items():
        fd_dir = proc / str(pid) / "fd"
        if inodes is None:
            fd_dir.parent.mkdir(parents=True)
            fd_dir.write_text("not a directory")  # unreadable like another user's fds
            continue
        fd_dir.mkdir(parents=True)
        for n, inode in enumerate(inodes):
            os.symlink(f"socket:[{inode}]", fd_dir / str(n + 3))
        os.symlink("/dev/null", fd_dir / "0")
    return proc


def _procs(engine: dict[int, str], parent: dict[int, int]) -> probe._Processes:
    return probe._Processes(engine=engine, parent=parent)


def test_discover_finds_engine_listeners_and_the_well_known_ports(tmp_path: Path) -> None:
    rows = [
        ("0.0.0.0", 2375, "0A", 100),  # dockerd's -H tcp://0.0.0.0:2375
        ("127.0.0.1", 8080, "0A", 101),  # docker-proxy, a published port
        ("127.0.0.1", 2376, "0A", 102),  # a socat relay nobody of the engine holds
        ("10.0.0.5", 2375, "0A", 103),  # not the loopback, no engine process: not taken
        ("127.0.0.1", 2375, "01", 104),  # an established connection, not a listener
        ("127.0.0.1", 5432, "0A", 105),  # someone else's service
    ]
    proc = _fake_proc(tmp_path, rows, {10: [100, 104], 11: [101], 12: [105]})
    found = probe.discover(str(proc), _procs({10: "dockerd", 11: "docker-proxy"}, {10: 1, 11: 10, 12: 1}))
    got = {(x.endpoint, x.process, x.pid, x.daemon_pid) for x in found.listeners}
    assert got == {
        ("0.0.0.0:2375", "dockerd", 10, 10),
        ("127.0.0.1:8080", "docker-proxy", 11, 10),
        ("127.0.0.1:2376", "", None, None),
    }
    assert found.complete and not found.notes


def test_discover_says_when_an_engine_process_cannot_be_read(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, [("0.0.0.0", 2375, "0A", 100)], {10: None})
    found = probe.discover(str(proc), _procs({10: "dockerd"}, {10: 1}))
    assert not found.complete
    assert "dockerd pid 10" in found.notes[0]


def test_discover_without_a_tcp_table(tmp_path: Path) -> None:
    found = probe.discover(str(tmp_path), _procs({}, {}))
    assert not found.complete and "cannot read" in found.notes[0]


def test_rootlesskit_listeners_belong_to_the_dockerd_it_started() -> None:
    procs = _procs({5: "rootlesskit", 9: "dockerd"}, {5: 1, 7: 5, 9: 7})
    assert procs.daemon_of(5) == 9
    assert procs.daemon_of(9) == 9
    assert _procs({5: "containerd"}, {5: 1}).daemon_of(5) is None


# --- configured endpoints -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "tls", "expected"),
    [
        ("tcp://127.0.0.1:2375", False, ("127.0.0.1", 2375)),
        ("tcp://0.0.0.0", False, ("0.0.0.0", 2375)),
        ("tcp://0.0.0.0", True, ("0.0.0.0", 2376)),
        ("tcp://:2376", False, ("", 2376)),
        ("tcp://[::1]:2375", False, ("::1", 2375)),
        ("tcp://localhost:2375", False, ("127.0.0.1", 2375)),
        ("unix:///var/run/docker.sock", False, None),
        ("fd://", False, None),
        ("tcp://host:99999", False, None),
    ],
)
def test_parse_tcp_host(value: str, tls: bool, expected: tuple[str, int] | None) -> None:
    assert probe.parse_tcp_host(value, tls) == expected


def test_configured_endpoints_come_from_hosts_with_their_source() -> None:
    argv = ["/usr/bin/dockerd", "-H", "fd://", "-H", "tcp://127.0.0.1:2375", "--tlsverify"]
    config = daemonconfig.build(argv, "", '{"hosts": ["tcp://0.0.0.0"]}', "/etc/docker/daemon.json", "", None)
    got = [(c.address, c.port, c.where) for c in probe.configured_endpoints(config, [("2377", "docker.socket:5")])]
    assert got == [
        ("127.0.0.1", 2375, "tcp://127.0.0.1:2375 (argv)"),
        ("0.0.0.0", 2376, "tcp://0.0.0.0 (daemon.json:1)"),  # TLS on: dockerd's default port is 2376
        ("", 2377, "ListenStream=2377 (docker.socket:5)"),
    ]


@pytest.mark.parametrize(
    ("docker_host", "local"),
    [
        ("", True),
        ("unix:///run/user/1000/docker.sock", True),
        ("tcp://127.0.0.1:2376", True),
        ("tcp://[::1]:2375", True),
        ("tcp://10.0.0.5:2376", False),
        ("tcp://0.0.0.0:2375", False),
        ("ssh://admin@host", False),
    ],
)
def test_may_be_local(docker_host: str, local: bool) -> None:
    assert probe.may_be_local(docker_host) is local


def _finished(found: probe.Discovery, configured: list[probe.Configured]) -> tuple[TcpListener, ...]:
    pending = probe.PendingProbe()
    pending._result = found  # as if the background discovery had run
    pending._thread = threading.Thread(target=lambda: None)
    pending._thread.start()
    return pending.finish(configured, daemon_pid=10).listeners


def test_a_configured_endpoint_not_seen_is_probed_only_when_listeners_could_not_all_be_seen() -> None:
    server, _ = _http()
    for port in _serve(server):
        configured = [probe.Configured("127.0.0.1", port, f"tcp://127.0.0.1:{port} (argv)")]
        (seen,) = _finished(probe.Discovery((), (), complete=True), configured)
        assert seen.attempts[0].outcome is Out.NOT_TRIED and not seen.probed
        (blind,) = _finished(probe.Discovery((), ("not root",), complete=False), configured)
        assert blind.answered is not None and blind.daemon_pid == 10
        assert blind.found_by == f"configured: tcp://127.0.0.1:{port} (argv)"


def test_a_configured_endpoint_a_seen_listener_covers_is_not_added_twice() -> None:
    listener = _at(2375, "0.0.0.0")
    covered = [probe.Configured("", 2375, "tcp://:2375 (argv)"), probe.Configured("0.0.0.0", 2375, "x")]
    assert _finished(probe.Discovery((listener,), (), True), covered) == (listener,)


def test_the_background_probe_joins(monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = _http()
    for port in _serve(server):
        found = probe.Discovery((_at(port),), (), True)
        monkeypatch.setattr(probe, "discover", lambda proc, found=found: found)
        exposure = probe.start().finish()
        assert exposure.complete and exposure.listeners[0].answered is not None


# --- in a scan: alongside the container inspects ------------------------------------------------------


class _SlowEngine:
    """A stand-in engine whose container inspects take a while, noting when each ran."""

    def __init__(self, n: int, seconds: float) -> None:
        self.ids = [f"{i:064x}" for i in range(1, n + 1)]
        self.seconds = seconds
        self.inspects: list[tuple[float, float]] = []

    def version(self) -> dict[str, object]:
        return {"Version": "24.0.7", "ApiVersion": "1.43"}

    def info(self) -> dict[str, object]:
        return {"Name": socket.gethostname(), "ServerVersion": "24.0.7", "Swarm": {"LocalNodeState": "inactive"}}

    def containers(self, labels: tuple[str, ...] = ()) -> list[dict[str, object]]:
        return [{"Id": i, "Names": [f"/c{n}"], "Image": "app:1", "State": "running"} for n, i in enumerate(self.ids)]

    def images(self) -> list[dict[str, object]]:
        return []

    def networks(self) -> list[dict[str, object]]:
        return []

    def inspect_container(self, cid: str) -> dict[str, object]:
        start = time.monotonic()
        time.sleep(self.seconds)
        self.inspects.append((start, time.monotonic()))
        return {
            "Id": cid,
            "Name": "/c",
            "Image": "",
            "State": {"Status": "exited", "Pid": 0},
            "Config": {},
            "HostConfig": {},
            "Mounts": [],
        }


def test_the_probe_runs_while_the_containers_are_inspected(monkeypatch: pytest.MonkeyPatch) -> None:
    from runbench.collect import engine as collector
    from runbench.collect.host import DaemonJson
    from runbench.collect.proc import ProcessTable

    window: list[float] = []

    def slow_discover(proc: str = probe.PROC) -> probe.Discovery:
        window.append(time.monotonic())
        time.sleep(0.3)
        window.append(time.monotonic())
        return probe.Discovery((), (), True)

    monkeypatch.setattr(probe, "discover", slow_discover)
    monkeypatch.setattr(collector.ProcessTable, "read", classmethod(lambda cls, *a, **k: ProcessTable()))
    monkeypatch.setattr(collector, "daemon_facts", lambda *a, **k: (None, "no dockerd here", DaemonJson()))
    monkeypatch.setattr(collector, "host_details", lambda host, *a, **k: host)
    api = _SlowEngine(3, 0.1)
    started = time.monotonic()
    snap = collector.collect(collector.CollectRequest(workers=1, all_containers=True), api=api)
    took = time.monotonic() - started
    assert snap.tcp is not None and snap.tcp.complete and snap.tcp.listeners == ()
    first_inspect = min(start for start, _ in api.inspects)
    assert window[0] <= first_inspect < window[1], "discovery started before the inspects and overlapped them"
    assert took < 0.3 + 0.3 + 0.15, f"probe and inspects ran one after the other ({took:.2f} s)"


def test_the_tcp_fact_round_trips_through_the_snapshot_json() -> None:
    import builders

    from runbench.snapshot import ProbeAttempt, Snapshot

    attempts = (ProbeAttempt(False, Out.TLS_REQUIRED, "plain"), ProbeAttempt(True, Out.CERT_REQUIRED, "tls"))
    listener = TcpListener(
        "::", 2376, "dockerd", 10, 10, "listening socket held by dockerd pid 10", "[::1]:2376", attempts
    )
    exposure = builders.tcp(listener, complete=False, notes=("cannot read the open files of containerd pid 11",))
    snap = builders.snapshot(tcp=exposure)
    back = Snapshot.loads(snap.dumps())
    assert back.tcp == exposure
    assert back.tcp.listeners[0].endpoint == "[::]:2376"
    older = snap.to_json()
    del older["tcp"]  # a snapshot of a runbench before the probe: not collected, never "no listener"
    assert Snapshot.from_json(older).tcp is None
