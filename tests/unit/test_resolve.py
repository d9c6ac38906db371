"""The resolutions of runbench.collect.resolve and runbench.collect.proc, each on recorded answers: namespace
chains over real inspect answers, the kernel's namespace inodes and a host's engine sockets over a fake /proc
built from recorded links, mount sources over a fake host root, a container's processes over a process tree."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from builders import RUNTIME_FIXTURES, container, mount, recorded_inspect, volume

from runbench.collect.host import HostRoot
from runbench.collect.proc import ProcessTable, container_pids
from runbench.collect.resolve import (
    Directory,
    Joinable,
    VolumeAnswer,
    engine_sockets,
    follow,
    host_namespaces,
    listening_unix_sockets,
    ns_inodes,
    real_paths,
    remote_sockets,
    resolve_mount,
    resolve_namespaces,
    volume_source,
    volumes_in_use,
)
from runbench.snapshot import DaemonFacts, FileType, ProcessFacts

RECORDED = (
    "rbr-hostnet",
    "rbr-bridge",
    "rbr-join-hostnet",
    "rbr-join-bridge",
    "rbr-sysadmin",
    "rbr-unconfined",
    "rbr-nnp",
    "rbr-allow-all",
)


def recorded(name: str) -> Joinable:
    return Joinable.of_inspect(recorded_inspect(name))


def directory(*names: str, fetch: Any = None) -> Directory:
    return Directory((recorded(n) for n in names or RECORDED), fetch)


def load_json(name: str) -> Any:
    return json.loads((RUNTIME_FIXTURES / name).read_text())


# --- namespace chains ---------------------------------------------------------------------------------


def test_a_join_to_a_host_network_container_is_the_host_network() -> None:
    ns = follow("net", recorded("rbr-join-hostnet"), directory())
    assert (ns.resolved, ns.via, ns.why) == ("host", ("rbr-hostnet",), "")
    assert ns.configured == "container:" + recorded("rbr-hostnet").id  # the engine records the full id


def test_a_join_to_a_default_bridge_container_is_on_the_default_bridge() -> None:
    ns = follow("net", recorded("rbr-join-bridge"), directory())
    assert ns.resolved in ("default", "bridge") and ns.via == ("rbr-bridge",)
    assert ns.networks == ("bridge",)
    assert recorded("rbr-join-bridge").networks == ()  # inspect shows no network of its own


def test_pid_join_to_a_private_container_and_modes_without_joins() -> None:
    assert follow("pid", recorded("rbr-join-bridge"), directory()).resolved == ""  # rbr-bridge's own namespace
    ipc = follow("ipc", recorded("rbr-join-hostnet"), directory())
    assert (ipc.configured, ipc.resolved, ipc.via) == ("host", "host", ())
    assert follow("uts", recorded("rbr-bridge"), directory()).resolved == ""


def test_a_target_out_of_scope_is_fetched_once() -> None:
    calls: list[str] = []

    def fetch(ref: str) -> tuple[Joinable | None, str]:
        calls.append(ref)
        return recorded("rbr-hostnet"), ""

    known = directory("rbr-join-hostnet", "rbr-bridge", fetch=fetch)
    for _ in range(2):
        assert follow("net", recorded("rbr-join-hostnet"), known).resolved == "host"
    assert calls == [recorded("rbr-hostnet").id]


def test_a_missing_target_and_a_loop_say_why() -> None:
    gone = follow("net", recorded("rbr-join-hostnet"), directory("rbr-join-hostnet"))
    assert (gone.resolved, gone.followed) == ("", False) and "not known to this scan" in gone.why
    fetched = follow("net", recorded("rbr-join-hostnet"), Directory((), lambda ref: (None, f"container {ref} is gone")))
    assert "is gone" in fetched.why
    a = Joinable("a" * 64, "a", {"net": "container:b"})
    b = Joinable("b" * 64, "b", {"net": "container:" + "a" * 64})
    loop = follow("net", a, Directory((a, b)))
    assert not loop.followed and "loop (a -> b -> a)" in loop.why


def test_targets_are_found_by_name_and_by_a_unique_id_prefix() -> None:
    target = recorded("rbr-hostnet")
    for ref in ("rbr-hostnet", "/rbr-hostnet", target.id[:12]):
        start = Joinable("s" * 64, "s", {"net": f"container:{ref}"})
        assert follow("net", start, directory()).resolved == "host", ref


# --- the kernel's namespace inodes --------------------------------------------------------------------


def fake_ns(proc: Path, pid: int | str, links: Mapping[str, str]) -> None:
    ns = proc / str(pid) / "ns"
    ns.mkdir(parents=True, exist_ok=True)
    for kind, target in links.items():
        os.symlink(target, ns / kind)


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    """A /proc with the recorded namespace links: the host's as pid 1, each container's init as 100 + n."""
    root = tmp_path / "proc"
    fake_ns(root, 1, load_json("ns-host.json"))
    for n, name in enumerate(RECORDED):
        fake_ns(root, 100 + n, load_json(f"ns-{name}.json"))
    return root


def test_ns_inodes_read_the_links(proc: Path) -> None:
    assert ns_inodes(1, str(proc)) == {"net": 4026531833, "pid": 4026531836, "ipc": 4026531839, "uts": 4026531838}
    assert ns_inodes(99, str(proc)) is None  # no such process


def test_the_kernel_says_which_namespaces_are_the_hosts(proc: Path) -> None:
    host, whose, _ = host_namespaces(None, None, str(proc))
    assert whose == "pid 1" and host is not None
    every = directory()
    for n, name in enumerate(RECORDED):
        data = recorded_inspect(name)
        c = container(
            id=data["Id"],
            name=name,
            pid=100 + n,
            network_mode=data["HostConfig"]["NetworkMode"],
            ipc_mode=data["HostConfig"]["IpcMode"],
            pid_mode=data["HostConfig"]["PidMode"],
            uts_mode=data["HostConfig"]["UTSMode"],
        )
        shared = {ns.kind for ns in resolve_namespaces(c, every, host, str(proc)) if ns.shares_host}
        expected = {"rbr-hostnet": {"net"}, "rbr-join-hostnet": {"net", "ipc"}}.get(name, set())
        assert shared == expected, name


def test_no_kernel_view_for_a_container_not_running_here(proc: Path) -> None:
    host, _, _ = host_namespaces(None, None, str(proc))
    stopped = container(state="exited", pid=0, processes=())
    assert all(ns.shares_host is None for ns in resolve_namespaces(stopped, directory(), host, str(proc)))
    unread = container(pid=100, processes=None)  # its processes were not attached: not this host's
    assert all(ns.inode is None for ns in resolve_namespaces(unread, directory(), host, str(proc)))


def test_without_pid_1_the_proven_dockerd_stands_for_the_host(tmp_path: Path) -> None:
    root = tmp_path / "proc"
    fake_ns(root, 812, load_json("ns-host.json"))
    table = ProcessTable(procs={812: ProcessFacts(pid=812, name="dockerd", exe="dockerd", uid=0)})
    proven = DaemonFacts(pid=812, uid=0, verified=True)
    inodes, whose, why = host_namespaces(table, proven, str(root))
    assert inodes is not None and whose.startswith("dockerd pid 812") and not why
    unproven = DaemonFacts(pid=812, uid=0, verified=False)
    assert host_namespaces(table, unproven, str(root))[0] is None
    assert "neither pid 1 nor the engine's proven dockerd" in host_namespaces(table, unproven, str(root))[2]


# --- mount sources ------------------------------------------------------------------------------------


def test_a_bind_backed_local_volume_binds_its_device() -> None:
    assert volume_source(load_json("volume-rbr-etc.json")) == (
        "/etc",
        "volume rbr-etc of the local driver binds /etc (o=bind)",
    )
    device, what = volume_source(load_json("volume-rbr-plain.json"))
    assert device is None and "its own directory" in what
    rbind = {"Name": "v", "Driver": "local", "Options": {"type": "none", "o": "ro,rbind", "device": "/srv"}}
    assert volume_source(rbind)[0] == "/srv"
    assert volume_source({"Name": "v", "Driver": "local", "Options": {"o": "bind", "device": "rel"}})[0] is None


def test_the_options_of_other_volumes_are_never_shown() -> None:
    cifs = {"type": "cifs", "o": "addr=nas,username=u,password=hunter2-Fake", "device": "//nas/share"}
    for driver in ("local", "netshare"):
        device, what = volume_source({"Name": "share", "Driver": driver, "Options": cifs})
        assert device is None and "hunter2" not in what and "//nas" not in what


@pytest.fixture
def host_root(tmp_path: Path) -> HostRoot:
    """A host's / (as --host-root sees it): /etc, /run with docker.sock, /srv/link -> /etc, /var/run -> /run."""
    root = tmp_path / "host"
    for d in ("etc", "run/docker/containerd", "srv/app", "var", "usr/lib"):
        (root / d).mkdir(parents=True)
    os.symlink("/etc", root / "srv/link")
    os.symlink("/run/docker.sock", root / "srv/api.sock")
    os.symlink("../run", root / "var/run")
    os.symlink("usr/lib", root / "lib")
    os.symlink("/srv/loop", root / "srv/loop")
    for sock in ("run/docker.sock", "run/docker/containerd/containerd.sock"):
        os.mknod(root / sock, stat.S_IFSOCK | 0o660)
    return HostRoot(str(root))


def test_bind_sources_resolve_on_the_host(host_root: HostRoot) -> None:
    link = resolve_mount(mount("/srv/link", "/x"), host_root, {}, "")
    assert (link.host_path, link.host_type) == ("/etc", FileType.DIRECTORY)
    assert link.resolution == "/srv/link is /etc on the host"
    sock = resolve_mount(mount("/srv/api.sock", "/x"), host_root, {}, "")
    assert (sock.host_path, sock.host_type) == ("/run/docker.sock", FileType.SOCKET)
    plain = resolve_mount(mount("/srv/app", "/x"), host_root, {}, "")
    assert (plain.host_path, plain.resolution) == ("/srv/app", "resolved on the host")
    missing = resolve_mount(mount("/srv/nothing", "/x"), host_root, {}, "")
    assert (missing.host_path, missing.host_type) == ("/srv/nothing", FileType.MISSING)
    loop = resolve_mount(mount("/srv/loop", "/x"), host_root, {}, "")
    assert loop.host_path is None and "loop" in (loop.resolution or "")


def test_volumes_resolve_through_their_inspect(host_root: HostRoot) -> None:
    etc = {"rbr-etc": VolumeAnswer(load_json("volume-rbr-etc.json"))}
    m = resolve_mount(volume("rbr-etc", "/hostetc", rw=False), host_root, etc, "")
    assert (m.volume_bind, m.binds_host, m.host_path, m.real_source) == (True, True, "/etc", "/etc")
    plain = resolve_mount(volume("rbr-plain", "/data"), host_root, {"rbr-plain": VolumeAnswer(None, "HTTP 404")}, "")
    assert plain.volume_bind is None and not plain.binds_host and "HTTP 404" in (plain.resolution or "")
    other = resolve_mount(MountFactsWithDriver(volume("nfs", "/data"), "netshare"), host_root, {}, "")
    assert other.volume_bind is False and "netshare driver" in (other.resolution or "")
    tmpfs = mount("", "/tmp", type="tmpfs")
    assert resolve_mount(tmpfs, host_root, {}, "") == tmpfs


def MountFactsWithDriver(m: Any, driver: str) -> Any:  # noqa: N802 - a builder
    from dataclasses import replace

    return replace(m, driver=driver)


def test_a_remote_engine_judges_recorded_paths_lexically() -> None:
    m = resolve_mount(mount("/var/run//docker.sock", "/x"), None, {}, "the engine is remote (tcp://10.0.0.5:2376)")
    assert m.host_path == "/run/docker.sock" and m.host_type is None
    assert "symlinks not resolved: the engine is remote" in (m.resolution or "")


def test_real_paths_of_the_compared_directories(host_root: HostRoot) -> None:
    # /var/run -> /run is no news: paths are compared normalised, and norm_path maps it anyway
    assert real_paths(host_root, ("/etc", "/lib", "/var/run")) == {"/lib": "/usr/lib"}


def test_volumes_in_use_are_those_of_the_local_driver() -> None:
    c = container(mounts=(volume("a", "/a"), MountFactsWithDriver(volume("b", "/b"), "local"), mount("/srv", "/s")))
    d = container(mounts=(MountFactsWithDriver(volume("c", "/c"), "netshare"), volume("a", "/x")))
    assert volumes_in_use([c, d]) == ["a", "b"]


# --- engine sockets -----------------------------------------------------------------------------------

NET_UNIX = """Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 5001 /var/run/docker.sock
0000000000000000: 00000002 00000000 00010000 0001 01 5002 /var/run/docker/containerd/containerd.sock
0000000000000000: 00000002 00000000 00010000 0001 01 5003 /run/old/gone.sock
0000000000000000: 00000003 00000000 00000000 0001 03 5004 /var/run/docker.sock
0000000000000000: 00000002 00000000 00010000 0001 01 5005 @/containerd-shim/abstract.sock
0000000000000000: 00000002 00000000 00010000 0001 01 5006 /run/user/1000/app.sock
"""


def test_listening_unix_sockets() -> None:
    assert listening_unix_sockets(NET_UNIX) == {
        5001: "/var/run/docker.sock",
        5002: "/var/run/docker/containerd/containerd.sock",
        5003: "/run/old/gone.sock",
        5006: "/run/user/1000/app.sock",
    }  # not the connected one (St 03) nor the abstract name


def fake_fds(proc: Path, pid: int, *inodes: int) -> None:
    fd = proc / str(pid) / "fd"
    fd.mkdir(parents=True)
    for n, inode in enumerate(inodes, 3):
        os.symlink(f"socket:[{inode}]", fd / str(n))


def test_engine_sockets_are_the_listeners_that_exist(tmp_path: Path, host_root: HostRoot) -> None:
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "net/unix").write_text(NET_UNIX)
    fake_fds(proc, 812, 5001, 5003)  # dockerd: its API socket, and a socket whose file is gone
    fake_fds(proc, 813, 5002)  # its managed containerd
    fake_fds(proc, 900, 5006)  # an application: not an engine
    table = ProcessTable(
        procs={
            812: ProcessFacts(pid=812, name="dockerd", exe="dockerd", uid=0),
            813: ProcessFacts(pid=813, name="containerd", exe="containerd", uid=0),
            900: ProcessFacts(pid=900, name="app", exe="app", uid=1000),
        }
    )
    sockets, complete, notes = engine_sockets(table, host_root, None, str(proc))
    assert complete and not notes
    assert [(s.path, s.real, s.process, s.pid) for s in sockets] == [
        ("/var/run/docker.sock", "/run/docker.sock", "dockerd", 812),
        ("/var/run/docker/containerd/containerd.sock", "/run/docker/containerd/containerd.sock", "containerd", 813),
    ]  # /run/containerd/containerd.sock, /run/podman/podman.sock ...: well-known, but not there


def test_engine_sockets_without_the_listeners_fds(tmp_path: Path, host_root: HostRoot) -> None:
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "net/unix").write_text(NET_UNIX)
    (proc / "812/fd").mkdir(parents=True)
    os.chmod(proc / "812/fd", 0)
    table = ProcessTable(procs={812: ProcessFacts(pid=812, name="dockerd", exe="dockerd", uid=0)})
    try:
        sockets, complete, notes = engine_sockets(table, host_root, None, str(proc))
    finally:
        os.chmod(proc / "812/fd", 0o755)
    if os.geteuid() == 0:  # root reads the directory anyway: nothing held is listed
        assert complete
    else:
        assert not complete and "cannot be told" in notes[0]
    # the well-known paths that exist stand in: found_by says so
    assert ("/run/docker.sock", "a well-known engine socket path that exists") in [
        (s.real, s.found_by) for s in sockets
    ]


def test_a_remote_engine_falls_back_to_the_well_known_list() -> None:
    remote = remote_sockets("the engine is remote (tcp://10.0.0.5:2376)")
    assert not remote.local and not remote.sockets_complete
    assert "/run/docker.sock" in {s.real for s in remote.sockets}
    assert all("not known to exist" in s.found_by for s in remote.sockets)
    assert "well-known socket paths stand in" in remote.notes[0]


# --- a container's processes ----------------------------------------------------------------------------

CID = "c0ffee" + "0" * 58


def tree(proc: Path, procs: Mapping[int, tuple[str, int, str]]) -> ProcessTable:
    """pid -> (name, parent, cgroup text) as a ProcessTable and a /proc of cgroup files."""
    table = ProcessTable()
    for pid, (name, parent, cgroup) in procs.items():
        table.procs[pid] = ProcessFacts(pid=pid, name=name, exe=name, uid=0)
        table.parent[pid] = parent
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "cgroup").write_text(cgroup)
    return table


def test_a_containers_processes_are_those_it_started(tmp_path: Path) -> None:
    mine, other = f"0::/docker/{CID}\n", "0::/docker/" + "f" * 64 + "\n"
    table = tree(
        tmp_path,
        {
            1: ("init", 0, "0::/\n"),
            90: ("containerd-shim-runc-v2", 1, "0::/\n"),
            200: ("sleep", 90, mine),  # its init
            201: ("sh", 200, mine),
            300: ("sshd", 90, mine),  # an exec session's process: the shim's child
            301: ("bash", 300, mine),
            400: ("sleep", 90, other),  # another container of the same shim
            500: ("sshd", 1, "0::/system.slice/ssh.service\n"),  # the host's sshd (seen with --pid host)
        },
    )
    assert container_pids(table, 200, CID, (), str(tmp_path)) == [200, 201, 300, 301]
    assert container_pids(table, 201, CID, (), str(tmp_path)) == [201]  # parent not a supervisor: its subtree
    assert container_pids(table, 201, CID, (300,), str(tmp_path)) == [201, 300, 301]  # and its exec sessions


# --- the collector's resolution pass --------------------------------------------------------------------------


class RecordedEngine:
    """The recorded rbr-* containers as an engine answers them (an EngineClient stand-in)."""

    def __init__(self) -> None:
        self.inspected: list[str] = []
        self.volumes: list[str] = []

    def version(self) -> dict[str, Any]:
        return {"Version": "20.10.24", "ApiVersion": "1.41"}

    def info(self) -> dict[str, Any]:
        return {"Name": "recorded", "NCPU": 2, "SecurityOptions": ["name=seccomp,profile=default"]}

    def containers(self, labels: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        return [
            {"Id": recorded_inspect(n)["Id"], "Names": [f"/{n}"], "Image": "b", "State": "running"} for n in RECORDED
        ]

    def images(self) -> list[dict[str, Any]]:
        return []

    def networks(self) -> list[dict[str, Any]]:
        return []

    def inspect_container(self, ref: str) -> dict[str, Any]:
        self.inspected.append(ref)
        return next(recorded_inspect(n) for n in RECORDED if ref in (n, recorded_inspect(n)["Id"]))

    def exec_inspect(self, eid: str) -> dict[str, Any]:
        return dict(load_json("exec-rbr-join-bridge.json"))

    def inspect_volume(self, name: str) -> dict[str, Any]:
        self.volumes.append(name)
        return dict(load_json(f"volume-{name}.json"))

    def inspect_image(self, iid: str) -> dict[str, Any]:
        return {"Id": iid, "RepoTags": [], "Config": {}, "RootFS": {"Layers": []}}

    def history(self, iid: str) -> list[Any]:
        return []


def test_the_collector_resolves_joins_out_of_scope_and_volumes_in_use() -> None:
    from runbench.collect.engine import CollectRequest, collect

    api = RecordedEngine()
    req = CollectRequest(read_host=False, container_globs=("rbr-join-*",))
    snap = collect(req, api=api)
    joiners = {c.name: c for c in snap.containers}
    assert set(joiners) == {"rbr-join-hostnet", "rbr-join-bridge"}
    net = joiners["rbr-join-hostnet"].namespace("net")
    assert net is not None and (net.resolved, net.via) == ("host", ("rbr-hostnet",))
    assert api.inspected.count(recorded_inspect("rbr-hostnet")["Id"]) == 1  # out of scope: looked up once
    assert api.volumes == ["rbr-etc"]  # the volumes in use, each inspected once
    (etc,) = joiners["rbr-join-bridge"].mounts
    assert (etc.volume_bind, etc.host_path, etc.host_type) == (True, "/etc", None)  # not this host: lexical
    runtime = snap.runtime_host
    assert runtime is not None and not runtime.local and runtime.cpus == 2
    assert "well-known socket paths stand in" in runtime.notes[0]
    (exec_session,) = joiners["rbr-join-bridge"].execs or ()
    assert exec_session.pid == load_json("exec-rbr-join-bridge.json")["Pid"]
