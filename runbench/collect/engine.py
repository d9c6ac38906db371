"""One inventory pass over the Engine API, then the host's /proc: the only code that talks to Docker."""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from runbench import __version__, daemonconfig
from runbench.collect import parse
from runbench.collect.host import DaemonJson, daemon_facts, files_facts, host_facts
from runbench.collect.proc import ProcessTable, container_processes
from runbench.secrets import SecretScanner
from runbench.semantics import unix_socket_path
from runbench.snapshot import (
    CollectionError,
    CollectOptions,
    ContainerFacts,
    ContainerSummary,
    DaemonFacts,
    EngineFacts,
    ExecFacts,
    Fact,
    HostFacts,
    ImageFacts,
    Snapshot,
)

Progress = Callable[[str, int, int], None]
FilePaths = Callable[[Snapshot], Iterable[str]]  # the host paths the selected file checks declare
RUNNING_STATES = frozenset({"running", "paused", "restarting"})


class CollectFailure(Exception):
    """The engine cannot be reached or refused us: nothing can be scanned (exit code 3)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class CollectRequest:
    docker_host: str | None = None  # None: DOCKER_HOST or the default socket
    timeout: float = 10.0
    all_containers: bool = False
    container_globs: tuple[str, ...] = ()
    exclude_globs: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    workers: int = 8
    read_host: bool = True  # read /proc and the daemon's files when the engine is local
    id_prefix_min: int = 4  # a --container value of this many hex digits or more also matches id prefixes


def _effective_host(req: CollectRequest) -> str:
    return req.docker_host or os.environ.get("DOCKER_HOST", "")


def connect(req: CollectRequest) -> Any:
    """A docker APIClient with a timeout on every call; raises CollectFailure with what to do."""
    import docker
    from docker.errors import DockerException

    env = dict(os.environ)
    if req.docker_host:
        env["DOCKER_HOST"] = req.docker_host
    try:
        client = docker.from_env(timeout=int(max(1, req.timeout)), environment=env)
        return client.api
    except DockerException as exc:
        raise _failure(exc, _effective_host(req)) from None


def _failure(exc: BaseException, docker_host: str) -> CollectFailure:
    text = str(exc)
    where = docker_host or f"unix://{unix_socket_path('')}"
    if "Permission denied" in text or "PermissionError" in text:
        return CollectFailure(
            f"permission denied on the Docker socket ({where})",
            "run runbench as root (sudo), or as a member of the socket's group (usually `docker`); "
            "note that membership of that group is root-equivalent",
        )
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return CollectFailure(
            f"the Docker engine at {where} did not answer in time",
            "check that dockerd is healthy (systemctl status docker), or raise --timeout",
        )
    if (
        "No such file" in text
        or "Connection refused" in text
        or "ConnectionError" in text
        or "Connection aborted" in text
    ):
        return CollectFailure(
            f"cannot connect to the Docker engine at {where}",
            "is dockerd running? Point runbench at it with DOCKER_HOST or --host "
            "(e.g. unix:///run/user/1000/docker.sock for rootless, tcp://HOST:2376 with DOCKER_TLS_VERIFY=1)",
        )
    return CollectFailure(
        f"cannot talk to the Docker engine at {where}: {text}", "check DOCKER_HOST and the engine's logs"
    )


def matches_container(pattern: str, name: str, container_id: str, id_prefix_min: int = 4) -> bool:
    """A --container / --exclude-container value matches a name glob, or an id prefix (hex digits only)."""
    if fnmatch.fnmatchcase(name, pattern):
        return True
    return (
        len(pattern) >= id_prefix_min
        and all(ch in "0123456789abcdef" for ch in pattern)
        and (container_id.startswith(pattern))
    )


def _matches(s: ContainerSummary, req: CollectRequest) -> bool:
    def hit(pattern: str) -> bool:
        return matches_container(pattern, s.name, s.id, req.id_prefix_min)

    if req.container_globs and not any(hit(g) for g in req.container_globs):
        return False
    return not any(hit(g) for g in req.exclude_globs)


def _name(row: Mapping[str, Any]) -> str:
    names = row.get("Names") or []
    return str(names[0]).lstrip("/") if names else str(row.get("Id", ""))[:12]


def collect(
    req: CollectRequest, progress: Progress | None = None, api: Any = None, file_paths: FilePaths | None = None
) -> Snapshot:
    """Build a Snapshot. Raises CollectFailure only when the engine itself cannot be used.

    `api` is a docker APIClient (or a stand-in with the same methods); by default one is connected per `req`.
    """
    from docker.errors import APIError, DockerException, NotFound
    from requests.exceptions import RequestException

    started = time.monotonic()
    collected_at = datetime.now(UTC).isoformat(timespec="seconds")
    report = progress or (lambda stage, done, total: None)
    docker_host = _effective_host(req)
    api = api if api is not None else connect(req)
    errors: list[CollectionError] = []

    def call(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (DockerException, RequestException, OSError) as exc:
            raise _failure(exc, docker_host) from None

    report("engine", 0, 1)
    version = call(api.version)
    info = call(api.info)
    engine: EngineFacts = parse.engine_facts(info, version)
    label_filters = list(req.labels)
    rows = call(lambda: api.containers(all=True, filters={"label": label_filters} if label_filters else None))
    inventory = tuple(
        ContainerSummary(
            id=str(r.get("Id", "")), name=_name(r), image=str(r.get("Image", "")), state=str(r.get("State", ""))
        )
        for r in rows
    )
    in_scope = [s for s in inventory if _matches(s, req) and (req.all_containers or s.state in RUNNING_STATES)]
    images_rows = call(api.images)
    image_tags = {
        str(tag): str(row.get("Id", ""))
        for row in images_rows
        for tag in (row.get("RepoTags") or [])
        if tag and tag != "<none>:<none>"
    }
    networks = tuple(parse.network_facts(n) for n in call(api.networks))

    scanner = SecretScanner()
    total = len(in_scope)
    done = 0
    report("containers", 0, total)

    def inspect(summary: ContainerSummary) -> ContainerFacts | CollectionError | None:
        try:
            data = api.inspect_container(summary.id)
        except NotFound:
            return CollectionError(
                Fact.CONTAINER_GONE, summary.id, f"{summary.name} disappeared between listing and inspection"
            )
        except (APIError, DockerException, RequestException, OSError) as exc:
            return CollectionError(Fact.CONTAINER, summary.id, f"{summary.name}: {_short(exc)}")
        execs: list[ExecFacts] = []
        probe = parse.probe_of(data)
        for exec_id in data.get("ExecIDs") or []:
            try:
                execs.append(parse.exec_facts(api.exec_inspect(exec_id), probe))
            except NotFound:
                continue  # the exec ended and was cleaned up meanwhile
            except (APIError, DockerException, RequestException, OSError) as exc:
                return CollectionError(Fact.EXEC, summary.id, f"exec {exec_id[:12]}: {_short(exc)}")
        return parse.container_facts(data, tuple(execs), scanner)

    containers: list[ContainerFacts] = []
    with ThreadPoolExecutor(max_workers=max(1, req.workers)) as pool:
        for result in pool.map(inspect, in_scope):
            done += 1
            report("containers", done, total)
            if isinstance(result, CollectionError):
                errors.append(result)
            elif result is not None:
                containers.append(result)

    image_ids = sorted({c.image_id for c in containers if c.image_id})
    report("images", 0, len(image_ids))

    def inspect_image(image_id: str) -> ImageFacts | CollectionError:
        try:
            data = api.inspect_image(image_id)
        except (APIError, DockerException, RequestException, OSError) as exc:
            return CollectionError(Fact.IMAGE, image_id, _short(exc))
        try:
            history = api.history(image_id)
        except (APIError, DockerException, RequestException, OSError) as exc:
            errors.append(CollectionError(Fact.HISTORY, image_id, _short(exc)))
            history = None
        return parse.image_facts(data, history, scanner)

    images: list[ImageFacts] = []
    with ThreadPoolExecutor(max_workers=max(1, req.workers)) as pool:
        for i, image in enumerate(pool.map(inspect_image, image_ids), 1):
            report("images", i, len(image_ids))
            if isinstance(image, CollectionError):
                errors.append(image)
            else:
                images.append(image)

    host: HostFacts | None = None
    daemon: DaemonFacts | None = None
    daemon_why = "host facts not read (--no-host)"
    daemon_json = DaemonJson()
    if req.read_host:
        report("host", 0, 1)
        table = ProcessTable.read(cmdline_of=frozenset({"dockerd", "containerd"}))
        daemon, daemon_why, daemon_json = daemon_facts(table, docker_host)
        host = host_facts(engine.hostname, docker_host, daemon is not None)
        if not host.local:
            daemon, daemon_why, daemon_json = None, host.local_reason, DaemonJson()
            errors.append(CollectionError(Fact.HOST, "", host.local_reason))
        containers = [_with_processes(c, table, host, errors) for c in containers]
        report("host", 1, 1)
    else:
        errors.append(CollectionError(Fact.HOST, "", daemon_why))
    if daemon is None:
        errors.append(CollectionError(Fact.DAEMON, "", daemon_why))
    config = daemonconfig.build(
        argv=daemon.argv if daemon is not None else None,
        argv_why=daemon_why,
        daemon_json=daemon_json.text,
        daemon_json_path=daemon_json.path,
        daemon_json_why=daemon_json.why,
        info=info,
    )
    if "daemon.json" in config.unread:
        errors.append(CollectionError(Fact.DAEMON_CONFIG, daemon_json.path, config.unread["daemon.json"]))

    scanner.close()
    snapshot = Snapshot(
        runbench_version=__version__,
        collected_at=collected_at,
        duration_s=0.0,
        options=CollectOptions(
            docker_host=docker_host,
            all_containers=req.all_containers,
            container_globs=req.container_globs,
            exclude_globs=req.exclude_globs,
            labels=req.labels,
        ),
        engine=engine,
        daemon=daemon,
        host=host,
        containers=tuple(sorted(containers, key=lambda c: c.name)),
        images=tuple(sorted(images, key=lambda i: i.id)),
        networks=networks,
        inventory=inventory,
        image_tags=image_tags,
        daemon_config=config,
        swarm=parse.swarm_facts(info),
    )
    if host is not None and host.local and file_paths is not None:
        report("files", 0, 1)
        snapshot = replace(snapshot, files=files_facts(file_paths(snapshot)))
        report("files", 1, 1)
    elif file_paths is not None:
        errors.append(CollectionError(Fact.FILES, "", host.local_reason if host is not None else daemon_why))
    return replace(
        snapshot,
        duration_s=round(time.monotonic() - started, 3),
        errors=tuple(sorted(errors, key=lambda e: e.sort_key)),
    )


def _with_processes(
    c: ContainerFacts, table: ProcessTable, host: HostFacts, errors: list[CollectionError]
) -> ContainerFacts:
    if not c.running:
        return replace(c, processes=())
    if not host.local:
        errors.append(CollectionError(Fact.PROCESSES, c.id, host.local_reason))
        return c
    procs, why = container_processes(table, c.pid, c.id, c.pid_mode == "host")
    if procs is None:
        errors.append(CollectionError(Fact.PROCESSES, c.id, why))
        return c
    return replace(c, processes=procs)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
