"""Generated reports of many containers, through the real catalog and engine: what a 30- or 1,000-container
host gives, for the line-count targets of the terminal report and the size and speed of every format.

The containers are the unit tests' compliant builder with deterministic faults (one in ten privileged, one in
three without a memory limit, …), spread over a dozen images, some stopped; names like `svc-0042`.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_UNIT = Path(__file__).resolve().parents[1] / "unit"
if str(_UNIT) not in sys.path:
    sys.path.insert(0, str(_UNIT))

from runbench.catalog import load_catalog  # noqa: E402
from runbench.engine import evaluate  # noqa: E402
from runbench.model import Report  # noqa: E402
from runbench.policy import Policy  # noqa: E402
from runbench.snapshot import CollectOptions, ContainerFacts  # noqa: E402

IMAGES = 12


def _image_id(n: int) -> str:
    return "sha256:" + f"{n:02x}" * 32


def _container(i: int) -> ContainerFacts:
    from builders import container, mount, port  # the unit tests' compliant builder (tests/unit)

    n = i % IMAGES
    faults: dict[str, object] = {
        "id": f"{i:012x}" + "c" * 52,
        "name": f"svc-{i:04d}",
        "image_ref": f"registry.example/team{n}/app:{n}.0",
        "image_id": _image_id(n),
        "pid": 10_000 + i,
    }
    if i % 10 == 3:
        faults["privileged"] = True
    if i % 3 == 1:
        faults["memory"] = 0
    if i % 4 == 2:
        faults["user"] = ""
    if i % 5 == 4:
        faults["port_bindings"] = (port(str(8000 + i), host_ip="0.0.0.0"),)
    if i % 29 == 7:
        faults["mounts"] = (mount("/var/run/docker.sock", "/var/run/docker.sock"),)
    if i % 2:
        faults["readonly_rootfs"] = False
    if i % 6 == 5:
        faults["cap_add"] = ("NET_ADMIN",) if i % 12 == 5 else ("SYS_PTRACE",)
        faults["cap_drop"] = ()
    if i % 8 == 6:
        faults["pids_limit"] = None
    if i % 9 == 8:
        faults["restart_policy"] = "always"
    if i % 11 == 10:
        faults["state"] = "exited"
        faults["pid"] = 0
    if i % 13 == 12:
        faults["healthcheck"] = None
        faults["health_status"] = ""
    return container(**faults)


@cache
def generated_report(n: int) -> Report:
    """The report of a host with `n` containers (cached: the same Report for every test that asks)."""
    from builders import image, snapshot

    containers = tuple(_container(i) for i in range(n))
    images = tuple(
        image(id=_image_id(k), tags=(f"registry.example/team{k}/app:{k}.0",), user="" if k % 3 == 0 else "1000")
        for k in range(IMAGES)
    )
    snap = snapshot(
        *containers,
        images=images,
        image_tags={f"registry.example/team{k}/app:{k}.0": _image_id(k) for k in range(IMAGES)},
        options=CollectOptions(all_containers=True),
    )
    return evaluate(load_catalog(), snap, Policy(), started_at="2026-11-22T03:30:00+00:00")
