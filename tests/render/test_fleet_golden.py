"""`runbench report` on a recorded 1,000-container snapshot gives the golden JSON report byte for byte.

The golden file was written before the evaluation and rendering were optimised for fleet-sized hosts; this
test keeps every later change honest (see tests/fixtures/fleet/README.md). UPDATE_GOLDEN=1 rewrites it.
"""

from __future__ import annotations

import lzma
import os
import subprocess
import sys
from pathlib import Path

FLEET = Path(__file__).resolve().parents[1] / "fixtures" / "fleet"
ROOT = Path(__file__).resolve().parents[2]


def test_report_on_the_recorded_fleet_is_byte_identical(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_bytes(lzma.decompress((FLEET / "snapshot-1000.json.xz").read_bytes()))
    out = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNBENCH_")} | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "runbench", "report", str(snapshot), "-q", "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    actual = out.read_bytes()
    golden = FLEET / "report-1000.json.xz"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_bytes(lzma.compress(actual, preset=9 | lzma.PRESET_EXTREME))
    expected = lzma.decompress(golden.read_bytes())
    if actual != expected:
        at = _first_difference(actual, expected)
        raise AssertionError(
            f"report differs from the golden at byte {at:,} of {len(expected):,}: "
            f"got {actual[max(0, at - 120) : at + 120]!r}, want {expected[max(0, at - 120) : at + 120]!r}"
        )


def _first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
