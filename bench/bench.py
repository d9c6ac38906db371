"""Benchmark runbench on a real engine: N running containers, whole-process wall time and peak RSS of
`runbench scan`, against the raw API floor (SDK list + inspect of every container) measured in the same run.

    python bench/bench.py [--containers 100] [--repeat 3] [--keep]

Containers carry the label runbench.bench=1 and are removed at the end (also on Ctrl-C). Figures are
printed as a table and, with --json FILE, written for comparison between runs. Not a test: nothing here
asserts a time; the targets are stated in the output for a human to read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.testimages import BASE_IMAGE, ensure_test_images  # noqa: E402

LABEL = {"runbench.bench": "1"}
TARGET_WALL_S = 1.7
TARGET_RATIO = 3.0
TARGET_RSS_MB = 150


def create_containers(client: docker.DockerClient, n: int) -> list[str]:
    def one(i: int) -> str:
        c = client.containers.run(
            BASE_IMAGE,
            ["sleep", "3600"],
            name=f"rbbench-{i:04d}",
            labels=LABEL,
            detach=True,
            environment={"APP_MODE": "bench", "DB_PASSWORD": f"bench-not-a-secret-{i:04d}"},
            mem_limit="32m" if i % 2 else None,
            read_only=bool(i % 3),
            cap_drop=["ALL"] if i % 4 == 0 else None,
        )
        return str(c.id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(n)))


def remove_containers(client: docker.DockerClient) -> None:
    def rm(c: docker.models.containers.Container) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            c.remove(force=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(rm, client.containers.list(all=True, filters={"label": "runbench.bench=1"})))


def floor_once() -> float:
    """The raw API floor in a fresh interpreter: import the SDK, list all, inspect each with 8 threads."""
    code = (
        "import time; t=time.perf_counter(); import docker; from concurrent.futures import ThreadPoolExecutor as P\n"
        "api=docker.from_env().api; ids=[c['Id'] for c in api.containers(all=True)]\n"
        "list(P(8).map(api.inspect_container, ids)); print(time.perf_counter()-t)"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t0


def interpreter_start() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


def scan_once(extra: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one `runbench scan` process."""
    cmd = [sys.executable, "-m", "runbench", "scan", "--format", "json", "-o", "-", *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"runbench scan failed with exit {proc.returncode}: {err}")
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--containers", type=int, default=100, help="containers to create (default 100)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median reported)")
    ap.add_argument("--keep", action="store_true", help="keep the containers afterwards")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()

    client = docker.from_env(timeout=60)
    ensure_test_images(client)
    remove_containers(client)
    try:
        t0 = time.perf_counter()
        create_containers(client, args.containers)
        print(f"created {args.containers} containers in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        running = len(client.containers.list())
        total = len(client.containers.list(all=True))
        scan_once([])  # warm the page cache
        start = statistics.median(interpreter_start() for _ in range(args.repeat))
        floors = [floor_once() for _ in range(args.repeat)]
        scans = [scan_once([]) for _ in range(args.repeat)]
        scans_all = [scan_once(["--all"]) for _ in range(args.repeat)]
    finally:
        if not args.keep:
            remove_containers(client)

    floor = statistics.median(floors)
    wall = statistics.median(s[0] for s in scans)
    wall_all = statistics.median(s[0] for s in scans_all)
    rss = max(s[1] for s in scans + scans_all)
    ratio = wall / floor if floor else float("inf")
    figures = {
        "containers_running": running,
        "containers_total": total,
        "cpus": os.cpu_count(),
        "interpreter_start_s": round(start, 3),
        "floor_s": round(floor, 3),
        "scan_s": round(wall, 3),
        "scan_all_s": round(wall_all, 3),
        "ratio_scan_to_floor": round(ratio, 2),
        "peak_rss_mb": round(rss, 1),
    }
    print(f"{'running containers':<34}{running}")
    print(f"{'all containers':<34}{total}")
    print(f"{'python start (median)':<34}{start:.3f} s")
    print(f"{'floor: SDK list+inspect (median)':<34}{floor:.3f} s  (fresh interpreter, 8 threads)")
    print(f"{'runbench scan (median)':<34}{wall:.3f} s   target <= {TARGET_WALL_S} s at ~130 containers")
    print(f"{'runbench scan --all (median)':<34}{wall_all:.3f} s")
    print(f"{'scan / floor':<34}{ratio:.2f}x   target <= {TARGET_RATIO}x (+ interpreter start)")
    print(f"{'peak RSS':<34}{rss:.1f} MB   target <= {TARGET_RSS_MB} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
