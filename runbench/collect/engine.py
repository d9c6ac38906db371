"""One inventory pass over the Engine API, then the host's /proc: the only code that talks to Docker."""

from __future__ import annotations

import fnmatch
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote

from runbench import __version__, daemonconfig, split
from runbench.collect import parse, resolve
from runbench.collect import probe as tcp_probe
from runbench.collect import shape as shape_of
from runbench.collect.api import (
    DEFAULT_MAX_BYTES,
    EngineAPI,
    EngineBadAnswer,
    EngineDown,
    EngineError,
    EngineNotFound,
    EngineTimeout,
    parse_host,
)
from runbench.collect.host import DaemonJson, HostRoot, daemon_facts, files_elsewhere, files_facts, host_facts
from runbench.collect.hostinfo import host_details
from runbench.collect.images import ImageJob, deep_scan
from runbench.collect.images import resolve as resolve_images
from runbench.collect.proc import ProcessTable, attach_processes
from runbench.collect.swarm import collect_swarm
from runbench.collect.values import only_list as _list
from runbench.collect.values import only_text as _str
from runbench.secrets import SecretScanner, redact_argv
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
    NetworkFacts,
    Snapshot,
)
from runbench.split import Forked

Progress = Callable[[str, int, int], None]
FilePaths = Callable[[Snapshot], Iterable[str]]  # the host paths the selected file checks declare
RUNNING_STATES = frozenset({"running", "paused", "restarting"})
# The forked collector's share of the containers: this process reads the host meanwhile and takes in the
# child's results (runbench.split); 0.6 makes both end together on 2 CPUs with 1,000 containers.
CHILD_SHARE = 0.6


class CollectFailure(Exception):
    """The engine cannot be reached or refused us: nothing can be scanned (exit code 3)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


DEFAULT_DEADLINE = 120.0


@dataclass(frozen=True, slots=True)
class CollectRequest:
    docker_host: str | None = None  # None: DOCKER_HOST or the default socket
    timeout: float = 10.0  # wall-clock limit of every API call (the whole answer)
    deadline: float = DEFAULT_DEADLINE  # wall-clock limit of the whole collection
    max_response_bytes: int = DEFAULT_MAX_BYTES
    all_containers: bool = False
    container_globs: tuple[str, ...] = ()
    exclude_globs: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    workers: int = 8
    read_host: bool = True  # read /proc and the daemon's files when the engine is local
    id_prefix_min: int = 4  # a --container value of this many hex digits or more also matches id prefixes
    images: str = "in-use"  # "in-use": the images of the containers in scope; "all": every local image too
    image_refs: tuple[str, ...] = ()  # `runbench image REF...`: only these local images, no container
    deep: bool = False  # --deep: read each image's files (GET /images/{id}/get, streamed)
    deep_timeout: float = 600.0  # wall-clock limit of one image export (the collection deadline holds too)
    host_root: str | None = None  # --host-root: the engine host's / is mounted here; its files are read below it
    split: bool | None = None  # fork a second collector for a share of the containers; None: when it pays


def _effective_host(req: CollectRequest) -> str:
    return req.docker_host if req.docker_host is not None else os.environ.get("DOCKER_HOST", "")


class EngineClient:
    """The Engine API calls of one inventory pass, each bounded (runbench.collect.api) and each answer checked
    against the shape the parsers expect (runbench.collect.shape): a wrong type is an EngineBadAnswer naming
    the endpoint and the field, never a default guessed by a parser."""

    def __init__(self, api: EngineAPI) -> None:
        self.api = api

    def _get(self, path: str, shape: Any, params: Mapping[str, str] | None = None) -> Any:
        data = self.api.get(path, params, expect=list if isinstance(shape, list) else dict)
        problem = shape_of.first_problem(path, data, shape)
        if problem:
            raise EngineBadAnswer(problem)
        return data

    def version(self) -> dict[str, Any]:
        return dict(self._get("/version", shape_of.VERSION))

    def info(self) -> dict[str, Any]:
        return dict(self._get("/info", shape_of.INFO))

    def containers(self, labels: tuple[str, ...]) -> list[Any]:
        params = {"all": "1"}
        if labels:
            params["filters"] = json.dumps({"label": list(labels)})
        return list(self._get("/containers/json", [shape_of.CONTAINER_ROW], params))

    def images(self) -> list[Any]:
        return list(self._get("/images/json", shape_of.IMAGE_ROWS))

    def networks(self) -> list[Any]:
        return list(self._get("/networks", shape_of.NETWORKS))

    def inspect_container(self, cid: str) -> dict[str, Any]:
        return dict(self._get(f"/containers/{cid}/json", shape_of.CONTAINER))

    def exec_inspect(self, eid: str) -> dict[str, Any]:
        return dict(self._get(f"/exec/{eid}/json", shape_of.EXEC))

    def inspect_volume(self, name: str) -> dict[str, Any]:
        return dict(self._get(f"/volumes/{quote(name, safe='')}", shape_of.VOLUME))

    def inspect_image(self, iid: str) -> dict[str, Any]:
        return dict(self._get(f"/images/{iid}/json", shape_of.IMAGE))

    def history(self, iid: str) -> list[Any]:
        return list(self._get(f"/images/{iid}/history", shape_of.HISTORY))

    def export_image(self, iid: str, timeout: float | None = None) -> Iterator[bytes]:
        """The image's export (a tar of its layers), streamed: never held whole (runbench.collect.layers)."""
        return self.api.stream(f"/images/{iid}/get", timeout=timeout)

    def swarm(self) -> dict[str, Any]:
        return dict(self._get("/swarm", shape_of.SWARM))

    def nodes(self) -> list[Any]:
        return list(self._get("/nodes", shape_of.NODES))

    def services(self) -> list[Any]:
        return list(self._get("/services", shape_of.SERVICES))

    def secrets(self) -> list[Any]:
        return list(self._get("/secrets", shape_of.SECRETS))

    def unlock_key(self) -> dict[str, Any]:
        return dict(self._get("/swarm/unlockkey", shape_of.UNLOCK_KEY))

    def close(self) -> None:
        self.api.close()


def connect(req: CollectRequest, deadline: float | None = None) -> EngineClient:
    """A client for the engine `req` names; raises CollectFailure (exit 3) or HostURLError (exit 2)."""
    endpoint = parse_host(_effective_host(req))
    return EngineClient(EngineAPI(endpoint, timeout=req.timeout, deadline=deadline, max_bytes=req.max_response_bytes))


def _failure(exc: EngineError, where: str) -> CollectFailure:
    """What to tell the user when the engine cannot be used at all."""
    text = exc.reason
    if "permission denied" in text.lower():
        return CollectFailure(
            f"permission denied on the Docker socket ({where})",
            "run runbench as root (sudo), or as a member of the socket's group (usually `docker`); "
            "note that membership of that group is root-equivalent",
        )
    if isinstance(exc, EngineTimeout):
        return CollectFailure(
            f"the Docker engine at {where} did not answer in time: {text}",
            "check that dockerd is healthy (systemctl status docker), or raise --timeout / --deadline",
        )
    if isinstance(exc, EngineDown):
        return CollectFailure(
            f"cannot connect to the Docker engine at {where}: {text}",
            "is dockerd running? Point runbench at it with DOCKER_HOST or --host "
            "(e.g. unix:///run/user/1000/docker.sock for rootless, tcp://HOST:2376 with DOCKER_TLS_VERIFY=1)",
        )
    return CollectFailure(
        f"the Docker engine at {where} gave an answer runbench cannot use: {text}",
        "check DOCKER_HOST (is it a Docker engine?) and the engine's logs",
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
    names = row.get("Names")
    first = names[0] if isinstance(names, list) and names else None
    return first.lstrip("/") if isinstance(first, str) and first else _str(row.get("Id"))[:12]


def collect(
    req: CollectRequest, progress: Progress | None = None, api: Any = None, file_paths: FilePaths | None = None
) -> Snapshot:
    """Build a Snapshot. Raises CollectFailure only when the engine itself cannot be used (no version, info
    or container list); every later failure is recorded in the snapshot and makes it incomplete.

    `api` is an EngineClient (or a stand-in with the same methods); by default one is connected per `req`.
    """
    started = time.monotonic()
    collected_at = datetime.now(UTC).isoformat(timespec="seconds")
    report = progress or (lambda stage, done, total: None)
    docker_host = _effective_host(req)
    client = api if api is not None else connect(req, deadline=started + req.deadline)
    where = client.api.endpoint.display if isinstance(client, EngineClient) else (docker_host or "the engine")
    errors: list[CollectionError] = []
    scanner = SecretScanner()
    children: list[Forked[ContainerSummary, Inspected]] = []
    scanner.preload()  # detect-secrets is imported while the engine answers the first calls
    try:
        return _collect(
            req, client, where, docker_host, report, errors, file_paths, started, collected_at, scanner, children
        )
    finally:
        for child in children:
            child.close()
        scanner.close()
        if api is None:
            client.close()


def _essential(fn: Callable[[], Any], where: str) -> Any:
    try:
        return fn()
    except EngineError as exc:
        raise _failure(exc, where) from None


def _collect(
    req: CollectRequest,
    api: Any,
    where: str,
    docker_host: str,
    report: Progress,
    errors: list[CollectionError],
    file_paths: FilePaths | None,
    started: float,
    collected_at: str,
    scanner: SecretScanner,
    children: list[Forked[ContainerSummary, Inspected]],
) -> Snapshot:
    report("engine", 0, 1)
    version = _essential(api.version, where)
    info = _essential(api.info, where)
    engine: EngineFacts = parse.engine_facts(info, version)
    rows = [] if req.image_refs else _essential(lambda: api.containers(req.labels), where)
    inventory = tuple(
        ContainerSummary(
            id=_str(r.get("Id")),
            name=_name(r),
            image=_str(r.get("Image")),
            state=_str(r.get("State")),
            image_id=_str(r.get("ImageID")) or None,
        )
        for r in rows
        if isinstance(r, dict)
    )
    in_scope = [s for s in inventory if _matches(s, req) and (req.all_containers or s.state in RUNNING_STATES)]
    # On a host with many containers and a second CPU, a forked copy of the collector inspects a share of them
    # (runbench.split): before any thread of ours starts, which a fork would not copy.
    mine: list[ContainerSummary] = in_scope
    forked: Forked[ContainerSummary, Inspected] | None = None
    if req.split is not False and len(in_scope) >= split.MIN_ITEMS:
        scanner.loaded()  # its thread ends here (loaded while the engine listed the containers): the child inherits it
    if split.worth_splitting(len(in_scope), req.split):
        share = in_scope[: round(len(in_scope) * CHILD_SHARE)]
        deadline = started + req.deadline
        forked = Forked.start(share, lambda: _child_inspect(req, api, scanner, deadline), req.workers, deadline)
        if forked is not None:
            children.append(forked)
            mine = in_scope[len(share) :]
    image_tags: dict[str, str] = {}
    local_images: list[str] = []
    try:
        for row in api.images():
            local_images.append(_str(row.get("Id")) if isinstance(row, dict) else "")
            tags = row.get("RepoTags") if isinstance(row, dict) else None
            for tag in tags if isinstance(tags, list) else []:
                if isinstance(tag, str) and tag and tag != "<none>:<none>":
                    image_tags[tag] = _str(row.get("Id"))
    except EngineError as exc:
        errors.append(CollectionError(Fact.IMAGES, "", exc.reason))
    networks: tuple[NetworkFacts, ...] = ()
    try:
        found = (parse.network_facts(n) for n in api.networks() if isinstance(n, dict))
        networks = tuple(sorted(found, key=lambda n: (n.name, n.id)))  # the engine answers in no fixed order
    except EngineError as exc:
        errors.append(CollectionError(Fact.NETWORKS, "", exc.reason))

    # The TCP listeners are found and probed in a thread of their own while the containers are inspected.
    pending = tcp_probe.start() if req.read_host and tcp_probe.may_be_local(docker_host) else None
    # Images are inspected once each, in a pool of their own, while the containers are (runbench.collect.images).
    named = _essential(lambda: resolve_images(api, req.image_refs), where) if req.image_refs else {}
    image_job = ImageJob(api, scanner, workers=max(1, min(4, req.workers)))
    image_job.add(named or sorted({s.image_id for s in in_scope if s.image_id}))  # ImageID of the container list
    if req.images == "all" and not req.image_refs:
        image_job.add(local_images)
    total = len(in_scope)
    report("containers", 0, total)

    containers: list[ContainerFacts] = []

    def take(results: Iterable[Inspected]) -> None:
        for facts, problems in results:
            errors.extend(problems)
            if facts is not None:
                containers.append(facts)

    inspect = partial(_inspect, api, scanner)
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, req.workers)) as pool:
        for result in pool.map(inspect, mine):
            take([result])
            if forked is not None:
                take(arrived := forked.poll())
                done += len(arrived)
            done += 1
            report("containers", done, total)
    # The host is read while the forked child still inspects its share: its /proc, the daemon, its files.
    host, daemon, daemon_why, daemon_json, table = _read_host(req, engine, docker_host, errors, report)
    if forked is not None:  # the child's share: what it delivered, and what it did not, done here
        arrived, undone = forked.finish()
        take(arrived)
        report("containers", done + len(arrived), total)
        with ThreadPoolExecutor(max_workers=max(1, req.workers)) as pool:
            take(pool.map(inspect, undone))
        report("containers", total, total)
    volumes = _inspect_volumes(api, resolve.volumes_in_use(containers), req.workers)

    references: dict[str, list[str]] = dict(named)
    for c in containers:
        references.setdefault(c.image_id, []).append(c.image_ref)
    image_job.add(sorted(i for i in references if i))  # an image that the container list did not name
    images, image_errors = image_job.finish(references, report)
    errors.extend(image_errors)
    if req.deep:
        images = deep_scan(api, images, req.deep_timeout, report)

    if host is not None and table is not None:
        attached = [attach_processes(c, table, host, daemon) for c in containers]
        containers = [c for c, _ in attached]
        errors.extend(e for _, e in attached if e is not None)
    # What each container really gets: namespace joins, real mount sources, the engine sockets that exist.
    local = host is not None and host.local
    root = HostRoot(host.host_root or req.host_root or "/") if host is not None and local else None
    remote_why = host.local_reason if host is not None else daemon_why
    runtime, host_inodes = resolve.runtime_host(
        local=local,
        local_why=remote_why,
        cpus=parse.host_cpus(info),
        table=table,
        daemon=daemon if daemon is not None and daemon.verified is True else None,
        root=root,
        docker_root=engine.root_dir,
    )
    directory = resolve.Directory((resolve.Joinable.of(c) for c in containers), lambda ref: _join_target(api, ref))
    containers = [resolve.resolve_container(c, directory, host_inodes, volumes, root, remote_why) for c in containers]
    if daemon is None:
        errors.append(CollectionError(Fact.DAEMON, "", daemon_why))
    elif daemon.verified is not True:
        errors.append(CollectionError(Fact.DAEMON, "", daemon.verified_by or daemon_why))
    trusted = daemon is not None and daemon.verified is True
    config = daemonconfig.build(
        # the argv (and the daemon.json it names) of a process not proven to serve the socket is not trusted
        argv=daemon.argv if daemon is not None and trusted else None,
        argv_why=daemon_why if daemon is None else (daemon.verified_by or daemon_why),
        daemon_json=daemon_json.text,
        daemon_json_path=daemon_json.path,
        daemon_json_why=daemon_json.why,
        info=info,
        service=host.unit("docker.service") if host is not None and host.local else None,
    )
    if daemon is not None:  # decided on the raw argv above; stored with secret values redacted
        daemon = replace(daemon, argv=redact_argv(daemon.argv))
    if "daemon.json" in config.unread:
        errors.append(CollectionError(Fact.DAEMON_CONFIG, daemon_json.path, config.unread["daemon.json"]))
    tcp = None
    if pending is not None and host is not None and host.local:  # joined here; the configured endpoints join it
        configured = tcp_probe.configured_endpoints(config, tcp_probe.socket_streams(host, config))
        tcp = pending.finish(configured, daemon.pid if daemon is not None and trusted else None)

    swarm = collect_swarm(api, info, scanner, errors)
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
        swarm=swarm,
        tcp=tcp,
        runtime_host=runtime,
    )
    if host is not None and host.local and file_paths is not None:
        report("files", 0, 1)
        snapshot = replace(snapshot, files=files_facts(file_paths(snapshot), host.host_root))
        report("files", 1, 1)
    elif file_paths is not None:
        errors.append(CollectionError(Fact.FILES, "", host.local_reason if host is not None else daemon_why))
        snapshot = replace(snapshot, files=files_elsewhere(file_paths(snapshot)))  # judged as skip: not this host
    return replace(
        snapshot,
        duration_s=round(time.monotonic() - started, 3),
        errors=tuple(sorted(errors, key=lambda e: e.sort_key)),
    )


def _read_host(
    req: CollectRequest, engine: EngineFacts, docker_host: str, errors: list[CollectionError], report: Progress
) -> tuple[HostFacts | None, DaemonFacts | None, str, DaemonJson, ProcessTable | None]:
    """The host's facts (None with --no-host, or its reason recorded), the dockerd serving the engine (or None
    and why), its daemon.json and the process table: what can be read of the engine's host from here."""
    if not req.read_host:
        why = "host facts not read (--no-host)"
        errors.append(CollectionError(Fact.HOST, "", why))
        return None, None, why, DaemonJson(), None
    report("host", 0, 1)
    table = ProcessTable.read(cmdline_of=frozenset({"dockerd", "containerd"}))
    daemon, daemon_why, daemon_json = daemon_facts(table, docker_host, host_root=req.host_root)
    host = host_facts(engine.hostname, docker_host, daemon is not None and daemon.verified is True, req.host_root)
    if not host.local:
        daemon, daemon_why, daemon_json = None, host.local_reason, DaemonJson()
        errors.append(CollectionError(Fact.HOST, "", host.local_reason))
    else:  # audit rules, systemd units, mounts, groups, LSMs, certs.d (runbench.collect.hostinfo)
        host = host_details(host, engine, daemon, daemon_json, table)
    report("host", 1, 1)
    return host, daemon, daemon_why, daemon_json, table


Inspected = tuple[ContainerFacts | None, list[CollectionError]]


def _child_inspect(
    req: CollectRequest, api: Any, scanner: SecretScanner, deadline: float
) -> Callable[[ContainerSummary], Inspected]:
    """The forked collector's work: `_inspect` over a connection of its own (never the parent's: a TLS
    session cannot be shared), with the secret scanner it inherited (its plugins loaded before the fork)."""
    own = connect(req, deadline=deadline) if isinstance(api, EngineClient) else api
    return lambda summary: _inspect(own, scanner, summary)


def _inspect(api: Any, scanner: SecretScanner, summary: ContainerSummary) -> Inspected:
    """One container's facts (its inspect and exec sessions, parsed), or None; and what could not be read."""
    try:
        data = api.inspect_container(summary.id)
    except EngineNotFound:
        gone = f"{summary.name} was removed between listing and inspection"
        return None, [CollectionError(Fact.CONTAINER_GONE, summary.id, gone)]
    except EngineError as exc:
        return None, [CollectionError(Fact.CONTAINER, summary.id, f"{summary.name}: {exc.reason}")]
    problems: list[CollectionError] = []
    execs: list[ExecFacts] = []
    try:
        probe = parse.probe_of(data)
        for exec_id in _list(data.get("ExecIDs")):
            try:
                execs.append(parse.exec_facts(api.exec_inspect(_str(exec_id)), probe))
            except EngineNotFound:
                continue  # the exec ended and was cleaned up meanwhile
            except EngineError as exc:
                why = f"exec {_str(exec_id)[:12]}: {exc.reason}"
                problems.append(CollectionError(Fact.EXEC, summary.id, why))
                break
        facts = parse.container_facts(data, tuple(execs), scanner)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        why = f"{summary.name}: GET /containers/{summary.id[:12]}/json: unexpected answer ({exc})"
        return None, [CollectionError(Fact.CONTAINER, summary.id, why[:400])]
    if problems:  # the exec sessions are unknown, not "none"
        facts = replace(facts, execs=None)
    return facts, problems


def _inspect_volumes(api: Any, names: list[str], workers: int) -> dict[str, resolve.VolumeAnswer]:
    """One inspect per volume in use (its driver and options decide what it mounts), in a small pool."""

    def one(name: str) -> tuple[str, resolve.VolumeAnswer]:
        try:
            return name, resolve.VolumeAnswer(api.inspect_volume(name))
        except EngineError as exc:
            return name, resolve.VolumeAnswer(None, exc.reason)

    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names)))) as pool:
        return dict(pool.map(one, names))


def _join_target(api: Any, ref: str) -> tuple[resolve.Joinable | None, str]:
    """A container another one joins (`--network container:<ref>`) that is not in scope: inspected once."""
    try:
        return resolve.Joinable.of_inspect(api.inspect_container(ref)), ""
    except EngineNotFound:
        return None, f"container {resolve.short(ref)} does not exist"
    except EngineError as exc:
        return None, f"container {resolve.short(ref)} could not be inspected: {exc.reason}"
