"""Which Docker Engine release lines are maintained: the table host.docker_version judges against.

Dated: it is true as of TABLE_DATE and goes stale. Sources: moby/moby project/BRANCHES-AND-TAGS.md (last
changed 2026-05-13: "docker-29.x Maintained, after docker-30.x"; "25.0 Maintained, expected end of
maintenance 2026-12-04 (Mirantis, Amazon)"; 28.x and every other line "Unmaintained") and the moby release
tags up to 2026-08-23 (the newest patch of each maintained line). Update both together.
"""

from __future__ import annotations

from dataclasses import dataclass

TABLE_DATE = "2026-08-23"
TABLE_SOURCE = "moby project/BRANCHES-AND-TAGS.md and release tags"
STALE_AFTER_DAYS = 180  # past this, a verdict from the table is only evidence (manual)


@dataclass(frozen=True, slots=True)
class ReleaseLine:
    """A maintained release line: engine versions `major.minor` (minor None: every minor of the major)."""

    major: int
    minor: int | None
    newest: tuple[int, int, int]  # the newest patch release of the line as of TABLE_DATE
    released: str  # date of that patch release
    end: str = ""  # expected end of maintenance ("" when the project gives none)
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.major}.x" if self.minor is None else f"{self.major}.{self.minor}"

    def holds(self, version: tuple[int, int, int]) -> bool:
        return version[0] == self.major and (self.minor is None or version[1] == self.minor)


MAINTAINED = (
    ReleaseLine(29, None, (29, 7, 2), "2026-08-05", note="Docker, Inc. and Microsoft"),
    ReleaseLine(25, 0, (25, 0, 17), "2026-07-14", end="2026-12-04", note="Mirantis and Amazon (AL2023)"),
)
# The newest line the table knows: a newer major than this is taken as maintained (the table predates it).
NEWEST_MAJOR = 29
