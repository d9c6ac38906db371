"""The facts a run collected: typed, frozen, and round-tripping through JSON.

A fact the collector could not read is None and a CollectionError in `Snapshot.errors` says why (keyed by
the `Fact` enum). Secret values never enter the snapshot: environment variables are stored as name, length,
a redacted stub and the secret detectors that matched (see runbench.secrets).

One module per area: container, image, daemon (engine, networks, dockerd, effective configuration), host
(host and files), swarm; core holds the Snapshot and its errors; codec the JSON mapping.
"""

from runbench.snapshot.codec import SnapshotFormatError
from runbench.snapshot.container import (
    ContainerFacts,
    ContainerSummary,
    DeviceMapping,
    EnvVar,
    ExecFacts,
    Healthcheck,
    MountFacts,
    PortBinding,
    ProcessFacts,
    Ulimit,
)
from runbench.snapshot.core import ENGINE_GAPS, SNAPSHOT_SCHEMA, CollectionError, CollectOptions, Fact, Snapshot
from runbench.snapshot.daemon import (
    ConfigValue,
    DaemonConfig,
    DaemonFacts,
    EngineFacts,
    NetworkFacts,
    Origin,
    Setting,
)
from runbench.snapshot.host import FileFacts, FileType, HostFacts
from runbench.snapshot.image import HistoryStep, ImageFacts
from runbench.snapshot.swarm import SwarmFacts

__all__ = [
    "ENGINE_GAPS",
    "SNAPSHOT_SCHEMA",
    "CollectOptions",
    "CollectionError",
    "ConfigValue",
    "ContainerFacts",
    "ContainerSummary",
    "DaemonConfig",
    "DaemonFacts",
    "DeviceMapping",
    "EngineFacts",
    "EnvVar",
    "ExecFacts",
    "Fact",
    "FileFacts",
    "FileType",
    "Healthcheck",
    "HistoryStep",
    "HostFacts",
    "ImageFacts",
    "MountFacts",
    "NetworkFacts",
    "Origin",
    "PortBinding",
    "ProcessFacts",
    "Setting",
    "Snapshot",
    "SnapshotFormatError",
    "SwarmFacts",
    "Ulimit",
]
