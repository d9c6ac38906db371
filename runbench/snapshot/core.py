"""The snapshot itself: every fact of one collection, and what could not be collected (and why)."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from runbench.snapshot.codec import SnapshotFormatError, decode, encode
from runbench.snapshot.container import ContainerFacts, ContainerSummary, RuntimeHost
from runbench.snapshot.daemon import DaemonConfig, DaemonFacts, EngineFacts, NetworkFacts, TcpExposure
from runbench.snapshot.host import FileFacts, HostFacts
from runbench.snapshot.image import ImageFacts
from runbench.snapshot.swarm import SwarmFacts

SNAPSHOT_SCHEMA = "runbench/snapshot@2"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class Fact(StrEnum):
    """The facts a collector can fail to read; checks ask `ctx.why(Fact.X)` for the recorded reason."""

    ENGINE = "engine"  # /version and /info
    NETWORKS = "networks"
    IMAGES = "images"  # the list of local images (tags -> ids)
    CONTAINER = "container"  # one container's inspect
    CONTAINER_GONE = "container.gone"  # removed between listing and inspection: churn, not a failure
    CONTAINER_EXITED = "container.exited"  # stopped after its inspect: judged as a stopped container, churn
    EXEC = "exec"  # a container's exec sessions
    PROCESSES = "processes"  # a running container's processes in the host's /proc
    IMAGE = "image"  # one image's inspect
    HISTORY = "history"  # one image's history
    DAEMON = "daemon"  # the dockerd process serving the socket
    DAEMON_CONFIG = "daemon.config"  # daemon.json and the other configuration sources
    HOST = "host"  # this host is (not) the engine's
    FILES = "files"  # the files the file checks declare
    SWARM = "swarm"

    @property
    def area(self) -> str:
        """The part of the scan the fact belongs to (container, image, daemon, host, engine, swarm)."""
        return _AREA.get(self, self.value.split(".", 1)[0])


# Facts whose absence means the engine failed to give what was in scope (timeout, reset, 5xx, a malformed
# answer): the run is incomplete. CONTAINER_GONE is churn, PROCESSES/DAEMON/HOST/FILES are host-side.
ENGINE_GAPS = frozenset({Fact.NETWORKS, Fact.IMAGES, Fact.CONTAINER, Fact.EXEC, Fact.IMAGE, Fact.HISTORY})

_AREA = {
    Fact.EXEC: "container",
    Fact.PROCESSES: "container",
    Fact.HISTORY: "image",
    Fact.NETWORKS: "engine",
    Fact.IMAGES: "engine",
    Fact.FILES: "host",
}


@dataclass(frozen=True, slots=True)
class CollectionError:
    fact: Fact
    subject: str  # container/image id, path, or "" for the whole fact
    why: str

    @property
    def area(self) -> str:
        return self.fact.area

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.fact.value, self.subject, self.why)


@dataclass(frozen=True, slots=True)
class CollectOptions:
    docker_host: str = ""
    all_containers: bool = False
    container_globs: tuple[str, ...] = ()
    exclude_globs: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every fact of one collection. Facts added from now on default to None: not collected, so an older
    snapshot never claims an empty list."""

    runbench_version: str
    collected_at: str
    duration_s: float
    options: CollectOptions
    engine: EngineFacts | None
    daemon: DaemonFacts | None
    host: HostFacts | None
    containers: tuple[ContainerFacts, ...] = ()
    images: tuple[ImageFacts, ...] = ()
    networks: tuple[NetworkFacts, ...] = ()
    inventory: tuple[ContainerSummary, ...] = ()
    image_tags: Mapping[str, str] = field(default_factory=dict)  # "repo:tag" -> image id, every local image
    errors: tuple[CollectionError, ...] = ()
    daemon_config: DaemonConfig | None = None
    swarm: SwarmFacts | None = None
    files: tuple[FileFacts, ...] | None = None
    tcp: TcpExposure | None = None  # TCP listeners of the engine's processes and the unauthenticated probe
    # the engine host as the container checks compare containers with it: CPUs, seccomp, namespaces, engine sockets
    runtime_host: RuntimeHost | None = None
    schema: str = SNAPSHOT_SCHEMA

    @property
    def incomplete(self) -> tuple[CollectionError, ...]:
        """What the engine failed to give: every subject in scope it should have described and did not."""
        return tuple(e for e in self.errors if e.fact in ENGINE_GAPS)

    def to_json(self) -> dict[str, Any]:
        return typing.cast(dict[str, Any], encode(self))

    @classmethod
    def from_json(cls, data: Any) -> Snapshot:
        if not isinstance(data, dict) or data.get("schema") != SNAPSHOT_SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else None
            if isinstance(found, str) and found.startswith("runbench/snapshot@"):
                raise SnapshotFormatError(
                    f"snapshot schema {found!r} is not {SNAPSHOT_SCHEMA!r}: collect it again with this runbench"
                )
            raise SnapshotFormatError(f"not a runbench snapshot (expected schema {SNAPSHOT_SCHEMA!r})")
        try:
            return typing.cast(Snapshot, decode(cls, data))
        except (TypeError, ValueError, KeyError) as exc:
            raise SnapshotFormatError(f"malformed snapshot: {exc}") from exc
        except RecursionError:
            raise SnapshotFormatError("malformed snapshot: a value nested too deeply") from None

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, sort_keys=False, ensure_ascii=True, allow_nan=False)

    @classmethod
    def loads(cls, text: str) -> Snapshot:
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except RecursionError:
            raise SnapshotFormatError("not a runbench snapshot: JSON nested too deeply") from None
        except ValueError as exc:
            raise SnapshotFormatError(f"not JSON: {exc}") from exc
        return cls.from_json(data)
