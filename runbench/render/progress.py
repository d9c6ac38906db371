"""The progress bar of a collection on stderr (rich, loaded only when the bar is shown)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from runbench.textsafe import inert

REFRESH_S = 0.1  # at most ten redraws a second


@contextmanager
def progress(enabled: bool, no_color: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr while collecting; a no-op callback when stderr is not a terminal."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, color_system=None if no_color else "auto", markup=False, highlight=False)
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=False,  # no refresh thread: the collector may fork (runbench.split)
    )
    tasks: dict[str, TaskID] = {}
    shown = [0.0]

    def update(stage: str, done: int, total: int) -> None:
        new = stage not in tasks
        if new:
            tasks[stage] = bar.add_task(f"collecting {inert(stage, 60)}", total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))
        now = time.monotonic()
        if new or done >= total or now - shown[0] >= REFRESH_S:
            shown[0] = now
            bar.refresh()

    with bar:
        yield update
