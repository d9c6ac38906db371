"""Fake Engine API servers for hostile-engine tests: a small threaded HTTP server over a unix socket or
loopback TCP that answers like dockerd, or misbehaves on purpose (never answers, trickles, sends 100 MB,
nests JSON deeply, sends wrong types, answers the list and then dies).

    with FakeEngine(containers=5, behaviour={"/containers/json": DIE_AFTER}) as engine:
        run runbench with DOCKER_HOST=engine.url

Every server binds only to a private unix socket or 127.0.0.1 and stops by itself when the test ends.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[["FakeEngine", socket.socket, str], bool]  # returns False to close the connection

BASE_ID = "sha256:" + "b" * 64


def container_id(i: int) -> str:
    return f"{i:x}".rjust(64, "c")


def inspect_answer(i: int) -> dict[str, Any]:
    return {
        "Id": container_id(i),
        "Name": f"/fake-{i}",
        "Image": BASE_ID,
        "Created": "2026-01-01T00:00:00Z",
        "State": {"Status": "running", "Pid": 0},
        "Config": {"Image": "fake:1", "User": "", "Env": ["PATH=/bin"], "Labels": {}},
        "HostConfig": {"NetworkMode": "default", "RestartPolicy": {"Name": "no"}, "Privileged": False},
        "NetworkSettings": {"Networks": {"bridge": {}}},
        "Mounts": [],
        "ExecIDs": None,
    }


def normal_answers(n: int) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "/_ping": "OK",
        "/version": {"Version": "24.0.7", "ApiVersion": "1.43", "MinAPIVersion": "1.12"},
        "/info": {
            "Name": "fake-engine",
            "ID": "FAKE",
            "ServerVersion": "24.0.7",
            "SecurityOptions": ["name=seccomp,profile=default"],
            "Swarm": {"LocalNodeState": "inactive"},
        },
        "/containers/json": [
            {"Id": container_id(i), "Names": [f"/fake-{i}"], "Image": "fake:1", "State": "running"} for i in range(n)
        ],
        "/images/json": [{"Id": BASE_ID, "RepoTags": ["fake:1"]}],
        "/networks": [{"Id": "n1", "Name": "bridge", "Driver": "bridge"}],
        f"/images/{BASE_ID}/json": {"Id": BASE_ID, "RepoTags": ["fake:1"], "Config": {}, "RootFS": {"Layers": []}},
        f"/images/{BASE_ID}/history": [{"CreatedBy": '/bin/sh -c #(nop) CMD ["sh"]', "Size": 0}],
    }
    for i in range(n):
        answers[f"/containers/{container_id(i)}/json"] = inspect_answer(i)
    return answers


def send(sock: socket.socket, status: int, body: bytes, extra: str = "") -> None:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    sock.sendall(head.encode() + body)


def json_answer(value: Any) -> Handler:
    def handle(engine: FakeEngine, sock: socket.socket, path: str) -> bool:
        send(sock, 200, json.dumps(value).encode())
        return True

    return handle


def never_answer(engine: FakeEngine, sock: socket.socket, path: str) -> bool:
    engine.stopped.wait(60)
    return False


def trickle(engine: FakeEngine, sock: socket.socket, path: str) -> bool:
    """A valid answer, one byte every 0.5 s."""
    body = json.dumps(engine.answers.get(path, {})).encode()
    data = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    for b in data:
        if engine.stopped.wait(0.5):
            return False
        try:
            sock.sendall(bytes([b]))
        except OSError:
            return False
    return True


def huge(engine: FakeEngine, sock: socket.socket, path: str) -> bool:
    """100 MB of a JSON list, chunked, as fast as the client reads."""
    sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b'{"Id": "' + b"x" * 1000 + b'"},'
    chunk = b"[" + piece * 1000
    sent = 0
    try:
        while sent < 100 * 1024 * 1024 and not engine.stopped.is_set():
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
            chunk = piece * 1000
    except OSError:
        return False
    return False


def deep(engine: FakeEngine, sock: socket.socket, path: str) -> bool:
    body = b"[" * 100_000 + b"]" * 100_000
    send(sock, 200, body)
    return True


def die(engine: FakeEngine, sock: socket.socket, path: str) -> bool:
    """The engine is gone: close the connection at once without a byte."""
    return False


def status(code: int, message: str) -> Handler:
    def handle(engine: FakeEngine, sock: socket.socket, path: str) -> bool:
        send(sock, code, json.dumps({"message": message}).encode())
        return True

    return handle


@dataclass
class FakeEngine:
    containers: int = 3
    behaviour: dict[str, Handler] = field(default_factory=dict)  # path (no query) -> handler
    default: Handler | None = None  # for paths neither in behaviour nor in answers
    after_list: Handler | None = None  # every call after GET /containers/json gets this (engine died)
    tcp: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.answers = {**normal_answers(self.containers), **self.answers}
        self.stopped = threading.Event()
        self._listed = False
        self._threads: list[threading.Thread] = []
        self._dir = tempfile.mkdtemp(prefix="rbfake-")
        if self.tcp:
            self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._server.bind(("127.0.0.1", 0))
            self.url = f"tcp://127.0.0.1:{self._server.getsockname()[1]}"
        else:
            self.path = os.path.join(self._dir, "docker.sock")
            self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._server.bind(self.path)
            self.url = f"unix://{self.path}"
        self._server.listen(64)
        self._server.settimeout(0.2)

    def __enter__(self) -> FakeEngine:
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self._server.close()
        for t in self._threads:
            t.join(timeout=5)
        if not self.tcp and os.path.exists(self.path):
            os.unlink(self.path)
        os.rmdir(self._dir)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        buf = b""
        try:
            while not self.stopped.is_set():
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                target = head.split(b" ")[1].decode()
                path = target.split("?", 1)[0]
                self.calls.append(path)
                if not self._handler(path)(self, conn, path):
                    return
        except OSError:
            return
        finally:
            conn.close()

    def _handler(self, path: str) -> Handler:
        if self._listed and self.after_list is not None:
            return self.after_list
        if path == "/containers/json":
            self._listed = True
        if path in self.behaviour:
            return self.behaviour[path]
        if path in self.answers:
            return json_answer(self.answers[path])
        return self.default or status(404, f"no such object: {path}")


def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False
