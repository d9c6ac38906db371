"""A directory of runs for cron (`runbench scan --out-dir DIR`): the file names of a run, the previous run,
and which old runs to remove. Pure but for `list_runs` (one directory listing) and `prune` (unlinks).

A run writes `<host>-<UTC timestamp>.json` and `.html` (and `.prom` with --prom), e.g.
`web1-20261122T033000Z.json`, then replaces `latest.json` / `latest.html` (/ `latest.prom`). Every file is
written atomically (runbench.output.write_atomic: a temporary file in DIR, fsync, rename), so a reader of
latest.html never sees half a file. The previous run is the newest `<host>-*.json` already in DIR; the newest
`--keep N` runs of the host are kept and older ones removed. Only names of exactly this shape are ever
removed: nothing else in DIR is touched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

KINDS = ("json", "html", "prom")
LATEST = "latest"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STAMP = "%Y%m%dT%H%M%SZ"


def host_label(hostname: str) -> str:
    """A host name as a file name part: letters, digits, `.`, `_`, `-` (anything else `_`), at most 64."""
    label = _UNSAFE.sub("_", hostname).strip("._-")[:64]
    return label or "host"


def stamp(started_at: str) -> str:
    """`20261122T033000Z` for the run's start (UTC); now when `started_at` is not an ISO time."""
    try:
        when = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(_STAMP)


def _pattern(host: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(host)}-(\d{{8}}T\d{{6}}Z(?:-\d+)?)\.({'|'.join(KINDS)})$")


@dataclass(frozen=True, slots=True)
class Run:
    stamp: str  # `20261122T033000Z`, or `20261122T033000Z-2` for a second run in the same second
    files: tuple[str, ...]  # names in DIR

    @property
    def order(self) -> tuple[str, int]:
        base, _, n = self.stamp.partition("-")
        return base, int(n or 1)


def list_runs(directory: str, host: str) -> list[Run]:
    """The runs of `host` in `directory`, oldest first."""
    pattern = _pattern(host)
    by: dict[str, list[str]] = {}
    for name in os.listdir(directory):
        m = pattern.match(name)
        if m:
            by.setdefault(m.group(1), []).append(name)
    runs = [Run(s, tuple(sorted(files))) for s, files in by.items()]
    runs.sort(key=lambda r: r.order)
    return runs


def new_stamp(runs: Sequence[Run], base: str) -> str:
    """`base`, or `base-2`, `base-3`… when a run of that second is already there."""
    taken = {r.stamp for r in runs}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def previous_json(directory: str, runs: Sequence[Run]) -> str | None:
    """The newest run's JSON report, if any."""
    for run in reversed(runs):
        for name in run.files:
            if name.endswith(".json"):
                return os.path.join(directory, name)
    return None


def to_remove(runs: Sequence[Run], keep: int) -> list[str]:
    """File names of the runs beyond the newest `keep` (runs sorted oldest first)."""
    old = runs[: max(0, len(runs) - keep)]
    return [name for run in old for name in run.files]


def prune(directory: str, names: Sequence[str]) -> list[str]:
    """Remove these files of old runs; the reasons for those that could not be removed."""
    problems = []
    for name in names:
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(f"{name}: {exc.strerror or exc}")
    return problems
