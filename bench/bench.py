"""Benchmark runbench on a real engine against the raw Engine API floor, phase by phase, with peak RSS.

    python bench/bench.py [--containers 130,1000] [--repeat 3] [--keep] [--json bench/results.json]

For each N in --containers, the bench makes sure N running containers labelled runbench.bench=1 exist (it
creates and, unless --keep, removes its own), then measures in fresh processes:

- floor: the stdlib HTTP client over the unix socket, 8 threads, list + inspect every container, json.loads
  each answer: what any tool must at least spend to see N containers;
- scan: `runbench scan -q -o r.json` as a whole process (wall, peak RSS), and printing the terminal report;
- all formats: one scan writing every report format runbench knows;
- phases of one scan in one process: interpreter + imports, catalog, collect, evaluate, each renderer.

Not a test: nothing here asserts a time; the targets are printed beside the figures for a human to read.
Child processes run with bytecode caching on (PYTHONDONTWRITEBYTECODE unset), as an installed runbench does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.scenarios import remove_container  # noqa: E402
from tests.support.testimages import BASE_IMAGE, ensure_test_images  # noqa: E402

LABEL = {"runbench.bench": "1"}
TARGETS = {  # at 1,000 running containers on 2 cores (issue: 1,000 containers in 1.5 s)
    "growth_vs_half": 2.1,  # 2,000 containers against 1,000
    "scan_json_s": 1.5,
    "ratio_to_floor": 2.0,
    "peak_rss_mb": 120,
    "scan_terminal_s": 2.0,
    "all_formats_s": 2.5,
}

FLOOR = r"""
import http.client, json, os, socket, sys, time
from concurrent.futures import ThreadPoolExecutor
path = sys.argv[1]
class Conn(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("localhost")
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
import threading
local = threading.local()
def get(url):
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = Conn()
    conn.request("GET", url)
    return json.loads(conn.getresponse().read())
ids = [c["Id"] for c in get("/containers/json?all=1")]
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda i: get(f"/containers/{i}/json"), ids))
"""

PHASES = r"""
import time
t0 = time.perf_counter()
import sys, io
from runbench.catalog import load_catalog
from runbench.collect.engine import CollectRequest, collect
from runbench.engine import evaluate
from runbench.policy import Policy
from runbench.render import OutputFormat, RenderOptions, renderer
from runbench.authoring import Context
from runbench.cli import _tune_gc
_tune_gc()  # what the command does before it runs
t1 = time.perf_counter()
catalog = load_catalog()
t2 = time.perf_counter()
snap = collect(CollectRequest(), file_paths=lambda s: catalog.file_paths(Context(s)))
t3 = time.perf_counter()
report = evaluate(catalog, snap, Policy())
t4 = time.perf_counter()
out = {"imports_s": t1 - t0, "catalog_s": t2 - t1, "collect_s": t3 - t2, "evaluate_s": t4 - t3}
for fmt in OutputFormat:
    t = time.perf_counter()
    renderer(fmt).render(report, RenderOptions(width=100))
    out[f"render_{fmt.value}_s"] = time.perf_counter() - t
print(__import__("json").dumps(out))
"""


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    return env


TIME = "/usr/bin/time"  # GNU time: the peak RSS of the measured process alone


def run_timed(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MB) and exit code of one fresh process, and its stdout.

    The peak RSS comes from GNU time, which starts the process: a process this (large) bench forks itself
    inherits the bench's high-water mark (Linux keeps ru_maxrss across exec), so wait4's figure would be the
    bench's, not the scan's. Without GNU time, wait4's figure is used, an upper bound."""
    with tempfile.NamedTemporaryFile("r", prefix="rbbench-rss-") as rss:
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *cmd] if os.access(TIME, os.X_OK) else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=child_env())
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"{' '.join(cmd)} failed with exit {code}: {err[-2000:]}")
        kb = rss.read().strip().splitlines()[-1:] if wrapped is not cmd else []
    peak = int(kb[0]) / 1024 if kb and kb[0].isdigit() else usage.ru_maxrss / 1024
    return wall, peak, code, out.decode()


PER_BRIDGE = 1000  # a Linux bridge takes at most 1,024 ports: each further thousand gets a network of its own


def _network_name(block: int) -> str:
    return "default" if block == 0 else f"rbbench-{block}"


def _network(client: docker.DockerClient, block: int) -> str | None:
    """The network of the `block`-th thousand containers: the default bridge, then rbbench-<block>
    (a user-defined bridge on 10.230+block.0.0/20, labelled like the containers)."""
    if block == 0:
        return None
    name = _network_name(block)
    if not client.networks.list(names=[name]):
        pool = docker.types.IPAMPool(subnet=f"10.{230 + block}.0.0/20")
        client.networks.create(name, driver="bridge", labels=LABEL, ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    return name


def ensure_containers(client: docker.DockerClient, n: int) -> None:
    for stale in client.containers.list(all=True, filters={"label": "runbench.bench=1", "status": "created"}):
        stale.remove(force=True)  # an earlier run that could not start it
    have = client.containers.list(filters={"label": "runbench.bench=1"})
    missing = n - len(have)
    if missing < 0:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(remove_container, have[n:]))  # waits out a slow DELETE on a busy engine
        return
    start = len(have)
    load: dict[str, int] = {}  # containers per network already, by network name ("default": the bridge)
    for c in have:
        mode = c.attrs.get("HostConfig", {}).get("NetworkMode") or "default"
        name = "default" if mode == "bridge" else mode
        load[name] = load.get(name, 0) + 1
    placed: list[str | None] = []
    for _ in range(missing):  # each new container on the first network with a free port
        block = 0
        while load.get(_network_name(block), 0) >= PER_BRIDGE:
            block += 1
        load[_network_name(block)] = load.get(_network_name(block), 0) + 1
        placed.append(_network(client, block))

    def one(i: int) -> None:
        client.containers.run(
            BASE_IMAGE,
            ["sleep", "86400"],
            labels=LABEL,
            detach=True,
            environment={"APP_MODE": "bench", "DB_PASSWORD": f"bench-not-a-secret-{i:04d}"},
            mem_limit="32m" if i % 2 else None,
            read_only=bool(i % 3),
            cap_drop=["ALL"] if i % 4 == 0 else None,
            network=placed[i - start],
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(start, n)))


def remove_containers(client: docker.DockerClient) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(remove_container, client.containers.list(all=True, filters={"label": "runbench.bench=1"})))
    for network in client.networks.list(filters={"label": "runbench.bench=1"}):
        with contextlib.suppress(docker.errors.APIError):
            network.remove()


def socket_path() -> str:
    host = os.environ.get("DOCKER_HOST", "")
    return host[len("unix://") :] if host.startswith("unix://") else "/var/run/docker.sock"


def measure(n: int, repeat: int, workdir: Path) -> dict[str, Any]:
    py = sys.executable
    median = statistics.median
    run_timed([py, "-m", "runbench", "scan", "-q", "-o", str(workdir / "warm.json")])  # warm caches
    floors = [run_timed([py, "-c", FLOOR, socket_path()]) for _ in range(repeat)]
    scans = [run_timed([py, "-m", "runbench", "scan", "-q", "-o", str(workdir / "r.json")]) for _ in range(repeat)]
    terms = [run_timed([py, "-m", "runbench", "scan", "--no-color"]) for _ in range(repeat)]
    from runbench.render import OutputFormat

    outs = [a for f in OutputFormat for e in f.extensions[:1] for a in ("-o", str(workdir / f"all.{e}"))]
    alls = [run_timed([py, "-m", "runbench", "scan", "-q", *outs]) for _ in range(repeat)]
    phases = [json.loads(run_timed([py, "-c", PHASES])[3]) for _ in range(repeat)]
    floor = median(w for w, _, _, _ in floors)
    scan = median(w for w, _, _, _ in scans)
    figures: dict[str, Any] = {
        "containers_running": n,
        "floor_s": round(floor, 3),
        "floor_rss_mb": round(max(r for _, r, _, _ in floors), 1),
        "scan_json_s": round(scan, 3),
        "ratio_to_floor": round(scan / floor, 2) if floor else None,
        "peak_rss_mb": round(max(r for _, r, _, _ in scans), 1),
        "scan_terminal_s": round(median(w for w, _, _, _ in terms), 3),
        "all_formats_s": round(median(w for w, _, _, _ in alls), 3),
        "all_formats_rss_mb": round(max(r for _, r, _, _ in alls), 1),
        "phases_s": {k: round(median(p[k] for p in phases), 3) for k in phases[0]},
    }
    return figures


def growth(results: list[dict[str, Any]]) -> None:
    """Each count's scan time against that of half as many containers, when both were measured (linear
    growth gives 2.0)."""
    by_n = {r["containers_running"]: r for r in results}
    for n, r in by_n.items():
        half = by_n.get(n // 2) if n % 2 == 0 else None
        if half is not None and half["scan_json_s"]:
            r["growth_vs_half"] = round(r["scan_json_s"] / half["scan_json_s"], 2)


def print_table(results: list[dict[str, Any]]) -> None:
    keys = ["floor_s", "scan_json_s", "ratio_to_floor", "peak_rss_mb", "scan_terminal_s", "all_formats_s"]
    if any("growth_vs_half" in r for r in results):
        keys.append("growth_vs_half")
    head = f"{'figure':<28}" + "".join(f"{r['containers_running']:>12}" for r in results) + "   target@1000"
    print(head)
    for k in keys:
        row = f"{k:<28}" + "".join(f"{r.get(k, '-')!s:>12}" for r in results)
        print(row + (f"   {TARGETS[k]}" if k in TARGETS else ""))
    for phase in results[0]["phases_s"]:
        print(f"  {phase:<26}" + "".join(f"{r['phases_s'][phase]!s:>12}" for r in results))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--containers", default="130,1000", help="comma-separated container counts (default 130,1000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median reported)")
    ap.add_argument("--keep", action="store_true", help="keep the containers afterwards")
    ap.add_argument("--json", metavar="FILE", default=str(ROOT / "bench" / "results.json"), help="write figures")
    args = ap.parse_args()
    counts = sorted(int(x) for x in args.containers.split(",") if x.strip())

    client = docker.from_env(timeout=120)
    ensure_test_images(client)
    info = client.version()
    results: list[dict[str, Any]] = []

    def save() -> None:  # after each count: a later failure keeps what was measured
        results.sort(key=lambda r: r["containers_running"])
        growth(results)
        doc = {
            "taken": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "cpus": os.cpu_count(),
            "engine": f"{info.get('Version')} (API {info.get('ApiVersion')})",
            "repeat": args.repeat,
            "targets_at_1000": TARGETS,
            "results": results,
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")

    try:
        with tempfile.TemporaryDirectory(prefix="rbbench-") as tmp:
            for n in sorted(counts, reverse=True):  # the largest first: going down removes, never recreates
                t0 = time.perf_counter()
                ensure_containers(client, n)
                print(f"{n} containers ready in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
                results.append(measure(n, args.repeat, Path(tmp)))
                save()
    finally:
        if not args.keep:
            remove_containers(client)
    print_table(results)
    print(f"written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
