"""Security operations: CIS Docker Benchmark section 6 (6.1, 6.2). Judged on the engine's inventory: every
container the engine lists and every tagged local image, against the policy's thresholds."""

from __future__ import annotations

from runbench.authoring import Context, Fact, Inventory, Severity, errored, failed, ops_check, passed
from runbench.model import Verdict

SHOWN = 20
RUNNING_STATES = frozenset({"running", "paused", "restarting"})


def _listed(items: list[str]) -> list[str]:
    return items if len(items) <= SHOWN else [*items[:SHOWN], f"... and {len(items) - SHOWN} more"]


def _ref_forms(ref: str) -> list[str]:
    """A reference as the image list may name it: Docker Hub's prefixes are implicit, no tag means :latest."""
    prefixes = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/", "library/")
    forms = [ref, *(ref[len(p) :] for p in prefixes if ref.startswith(p))]
    name = forms[-1].split("@", 1)[0]
    if ":" not in name.rsplit("/", 1)[-1]:
        forms.append(f"{name}:latest")
    return forms


def _in_use(inv: Inventory) -> set[str]:
    """The image ids the listed containers were created from (the list's ImageID; else their reference)."""
    used: set[str] = set()
    ids = set(inv.image_tags.values())
    for c in inv.containers:
        if c.image_id:
            used.add(c.image_id)
            continue
        if c.image in ids or f"sha256:{c.image}" in ids:
            used.add(c.image if c.image in ids else f"sha256:{c.image}")
            continue
        used.update(inv.image_tags[f] for f in _ref_forms(c.image) if f in inv.image_tags)
    return used


@ops_check(
    id="ops.image_sprawl",
    cis={"1.8.0": "6.1", "1.6.0": "6.1"},
    level=1,
    severity=Severity.LOW,
    title="Few images are left unused on the engine",
    rationale="Images nobody runs still hold old, unpatched software that anyone with access to the engine "
    "can start, fill the disk, and hide the images that matter among the rest.",
    remediation="Remove what no container uses, on a schedule: docker image prune -a --filter "
    "'until=720h' (keep what you roll back to by tag); set max_unused_images to your tolerance.",
)
def ops_image_sprawl(inv: Inventory, ctx: Context) -> Verdict:
    if ctx.errors_of(Fact.IMAGES):
        return errored(ctx.why(Fact.IMAGES))
    used = _in_use(inv)
    by_id: dict[str, list[str]] = {}
    for tag, image_id in inv.image_tags.items():
        by_id.setdefault(image_id, []).append(tag)
    unused = sorted(min(tags) for image_id, tags in by_id.items() if image_id not in used)
    limit = ctx.params.max_unused_images
    evidence: dict[str, object] = {
        "tagged images": len(by_id),
        "in use": len(used & set(by_id)),
        "unused": len(unused),
        "max_unused_images": limit,
    }
    if ctx.engine is not None:
        evidence["images on the engine (docker info, untagged included)"] = ctx.engine.images_total
    if len(unused) > limit:
        return failed(
            f"{len(unused)} tagged images unused, more than {limit}", unused_images=_listed(unused), **evidence
        )
    return passed(f"{len(unused)} tagged image(s) unused (at most {limit})", **evidence)


@ops_check(
    id="ops.container_sprawl",
    cis={"1.8.0": "6.2", "1.6.0": "6.2"},
    level=1,
    severity=Severity.LOW,
    title="Few stopped containers are left on the engine",
    rationale="Stopped containers keep their configuration, environment (secrets included) and writable "
    "layer, can be started again as they were, and make the containers that run hard to review.",
    remediation="Remove containers once they are done (docker run --rm for one-off jobs; docker container "
    "prune --filter 'until=24h'); set max_stopped_containers to your tolerance.",
)
def ops_container_sprawl(inv: Inventory, ctx: Context) -> Verdict:
    stopped = sorted(c.name for c in inv.containers if c.state not in RUNNING_STATES)
    limit = ctx.params.max_stopped_containers
    evidence: dict[str, object] = {
        "containers": len(inv.containers),
        "stopped, created or dead": len(stopped),
        "max_stopped_containers": limit,
    }
    if ctx.snapshot.options.labels:
        evidence["listed"] = f"only containers with label(s) {', '.join(ctx.snapshot.options.labels)}"
    if len(stopped) > limit:
        return failed(f"{len(stopped)} containers not running, more than {limit}", stopped=_listed(stopped), **evidence)
    return passed(f"{len(stopped)} container(s) not running (at most {limit})", **evidence)
