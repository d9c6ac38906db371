"""The kernel's view of container processes: /proc/<pid>/status parsed (recorded from a real engine), Docker's
rules the runtime checks lean on (runbench.semantics), and recorded containers carried through the collector's
process and resolution passes into the catalog's verdicts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from builders import (
    RUNTIME_FIXTURES,
    SCANNER,
    bind_volume,
    container,
    context,
    exec_session,
    host,
    namespace,
    namespaces,
    recorded_inspect,
    recorded_status,
    resolved_mount,
    running_process,
    runtime_host,
    snapshot,
)

from runbench.catalog import Catalog
from runbench.collect import parse
from runbench.collect.proc import ProcessTable, attach_processes, parse_status, read_status
from runbench.collect.resolve import Directory, Joinable, VolumeAnswer, resolve_container
from runbench.model import Status
from runbench.semantics import (
    ALL_CAPS,
    CAPABILITY_BITS,
    DEFAULT_CAPS,
    ESCAPE_SYSCALLS,
    capability_names,
    cpu_limit_cpus,
    is_root_user,
    joined_container,
    seccomp_profile,
    user_uid,
)
from runbench.snapshot import ContainerFacts, DaemonFacts, FileType, ProcessFacts, Snapshot

# --- /proc/<pid>/status ---------------------------------------------------------------------------------


def test_a_default_container_holds_dockers_default_capabilities() -> None:
    st = recorded_status("rbr-bridge")
    assert set(st.cap_eff) == set(st.cap_prm) == set(st.cap_bnd) == DEFAULT_CAPS
    assert (st.uid, st.seccomp, st.no_new_privs, st.root) == ((0, 0, 0, 0), 2, False, True)


def test_cap_add_sys_admin_is_seen_in_capeff() -> None:
    assert set(recorded_status("rbr-sysadmin").cap_eff) == DEFAULT_CAPS | {"SYS_ADMIN"}


def test_seccomp_unconfined_is_seen_as_seccomp_0() -> None:
    assert recorded_status("rbr-unconfined").seccomp == 0
    assert recorded_status("rbr-allow-all").seccomp == 2  # an allow-all profile is still a filter to the kernel


def test_no_new_privileges_as_a_user_without_capabilities() -> None:
    st = recorded_status("rbr-nnp")
    assert (st.uid, st.gid, st.no_new_privs, st.cap_eff, st.cap_bnd, st.root) == (
        (1000,) * 4,
        (1000,) * 4,
        True,
        (),
        (),
        False,
    )


def test_a_kernel_without_seccomp_or_nnp_fields() -> None:
    text = (RUNTIME_FIXTURES / "status-rbr-bridge.txt").read_text()
    old = "\n".join(line for line in text.splitlines() if not line.startswith(("Seccomp", "NoNewPrivs")))
    st, why = parse_status(old)
    assert st is not None and (st.seccomp, st.no_new_privs) == (None, None) and not why


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Name:\tx\n", "no Uid, Gid, CapPrm, CapEff, CapBnd in it"),
        ("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapPrm:\tzz\nCapEff:\t0\nCapBnd:\t0\n", "a malformed field"),
        ("Uid:\t0\t0\nGid:\t0\t0\t0\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n", "a malformed Uid or Gid line"),
    ],
)
def test_a_broken_status_says_why(text: str, why: str) -> None:
    st, got = parse_status(text)
    assert st is None and got.startswith(why)


def test_reading_a_status_through_the_bounded_reader(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42/status").write_text((RUNTIME_FIXTURES / "status-rbr-nnp.txt").read_text())
    assert read_status(42, str(tmp_path)) == (recorded_status("rbr-nnp"), "")
    assert read_status(43, str(tmp_path)) == (None, "pid 43 exited during the scan")
    (tmp_path / "44").mkdir()
    (tmp_path / "44/status").symlink_to(tmp_path / "42/status")
    st, why = read_status(44, str(tmp_path))
    assert st is None and "symlink" in why  # never followed


# --- Docker's rules ---------------------------------------------------------------------------------------


def test_capability_bits() -> None:
    assert set(CAPABILITY_BITS) == ALL_CAPS
    assert set(capability_names(0xA80425FB)) == DEFAULT_CAPS
    assert capability_names(1 << 21) == ("SYS_ADMIN",)
    assert capability_names((1 << 41) | 1) == ("CHOWN", "BIT_41")
    assert capability_names(0) == ()


@pytest.mark.parametrize(
    ("user", "uid"),
    [
        ("", 0),
        ("root", 0),
        ("0", 0),
        ("00", 0),
        ("+0", 0),
        ("-0", 0),
        ("0:0", 0),
        ("root:app", 0),
        (" 0 ", 0),
        ("1000", 1000),
        ("1000:0", 1000),
        ("app", None),
        ("0x0", None),
        ("٠", None),  # an Arabic-Indic zero: Go's Atoi takes ASCII digits only
    ],
)
def test_user_uid_spellings(user: str, uid: int | None) -> None:
    assert user_uid(user) == uid
    assert is_root_user(user) is (uid == 0)


def test_joined_container() -> None:
    assert joined_container("container:web") == "web"
    assert joined_container("container:") is None
    assert joined_container("host") is None


@pytest.mark.parametrize(
    ("nano", "quota", "period", "cpus"),
    [(1_500_000_000, 0, None, 1.5), (0, 50_000, 0, 0.5), (0, 300_000, 200_000, 1.5), (0, -1, 0, None), (0, 0, 0, None)],
)
def test_cpu_limit_cpus(nano: int, quota: int, period: int | None, cpus: float | None) -> None:
    assert cpu_limit_cpus(nano, quota, period) == cpus


def _profile(default: str, *rules: dict[str, object]) -> str:
    return json.dumps({"defaultAction": default, "syscalls": list(rules)})


def test_seccomp_profiles() -> None:
    recorded = recorded_inspect("rbr-allow-all")["HostConfig"]["SecurityOpt"][0].removeprefix("seccomp=")
    allow_all, _ = seccomp_profile(recorded)
    assert allow_all is not None and allow_all.allows_by_default and not allow_all.confines
    blocks, _ = seccomp_profile(_profile("SCMP_ACT_ALLOW", {"names": ["ptrace"], "action": "SCMP_ACT_KILL"}))
    assert blocks is not None and blocks.confines and blocks.blocked_escapes == {"ptrace"}
    legacy, _ = seccomp_profile(_profile("SCMP_ACT_ALLOW", {"name": "bpf", "action": "SCMP_ACT_ERRNO"}))
    assert legacy is not None and legacy.blocked_escapes == {"bpf"}
    deny, _ = seccomp_profile(_profile("SCMP_ACT_ERRNO", {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}))
    assert deny is not None and deny.confines and not deny.open_escapes
    every = sorted(ESCAPE_SYSCALLS)
    opened, _ = seccomp_profile(_profile("SCMP_ACT_ERRNO", {"names": every, "action": "SCMP_ACT_ALLOW"}))
    assert opened is not None and not opened.confines  # an allow-list that opens every escape syscall
    conditional = {"names": every, "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
    gated, _ = seccomp_profile(_profile("SCMP_ACT_ERRNO", conditional))
    assert gated is not None and gated.confines  # Docker's default profile opens them only to SYS_ADMIN


@pytest.mark.parametrize(
    ("text", "why"),
    [("{", "not JSON"), ("[]", "not a JSON object"), ("{}", "no defaultAction"), ("[" * 100_000, "nested too deeply")],
)
def test_seccomp_profiles_that_are_not(text: str, why: str) -> None:
    profile, got = seccomp_profile(text)
    assert profile is None and why in got


# --- recorded containers through the collector's passes into verdicts ------------------------------------------


def _collected(tmp_path: Path, name: str, n: int, every: Directory) -> ContainerFacts:
    """The recorded container as the collector builds it on its host: parsed, its init attached from a /proc
    holding the recorded status and a cgroup naming it, resolved (inodes from the recorded links)."""
    data = recorded_inspect(name)
    pid = 4000 + n
    proc = tmp_path / "proc"
    (proc / str(pid) / "ns").mkdir(parents=True)
    (proc / str(pid) / "status").write_text((RUNTIME_FIXTURES / f"status-{name}.txt").read_text())
    (proc / str(pid) / "cgroup").write_text(f"0::/docker/{data['Id']}\n")
    for kind, link in json.loads((RUNTIME_FIXTURES / f"ns-{name}.json").read_text()).items():
        (proc / str(pid) / "ns" / kind).symlink_to(link)
    c = replace(parse.container_facts(data, (), SCANNER), pid=pid)
    table = ProcessTable(procs={pid: ProcessFacts(pid=pid, name="sleep", exe="sleep", uid=0)})
    c, error = attach_processes(c, table, host(), DaemonFacts(pid=1, verified=True), str(proc))
    assert error is None and c.processes is not None and c.processes[0].status is not None
    host_ns = {
        k: int(v.split("[")[1][:-1]) for k, v in json.loads((RUNTIME_FIXTURES / "ns-host.json").read_text()).items()
    }
    volumes = {"rbr-etc": VolumeAnswer(json.loads((RUNTIME_FIXTURES / "volume-rbr-etc.json").read_text()))}
    return resolve_container(c, every, host_ns, volumes, None, "recorded", str(proc))


NAMES = (
    "rbr-hostnet",
    "rbr-bridge",
    "rbr-join-hostnet",
    "rbr-join-bridge",
    "rbr-sysadmin",
    "rbr-unconfined",
    "rbr-nnp",
    "rbr-allow-all",
)
# what the examples must give on the recorded engine; every check not named passes
RECORDED_VERDICTS: dict[str, dict[str, Status]] = {
    "rbr-hostnet": {"container.host_network": Status.FAIL},
    "rbr-join-hostnet": {"container.host_network": Status.FAIL, "container.host_ipc": Status.FAIL},
    "rbr-bridge": {"container.default_bridge": Status.FAIL},
    "rbr-join-bridge": {"container.default_bridge": Status.FAIL, "container.sensitive_mounts": Status.FAIL},
    "rbr-sysadmin": {"container.runtime_capabilities": Status.FAIL, "container.capabilities": Status.FAIL},
    "rbr-unconfined": {"container.runtime_seccomp": Status.FAIL, "container.seccomp": Status.FAIL},
    "rbr-nnp": {"container.runtime_root": Status.PASS, "container.runtime_nnp": Status.PASS},
    "rbr-allow-all": {"container.seccomp": Status.FAIL, "container.runtime_seccomp": Status.PASS},
}
for _name in ("rbr-sysadmin", "rbr-unconfined", "rbr-nnp", "rbr-allow-all"):  # started on the default bridge
    RECORDED_VERDICTS[_name]["container.default_bridge"] = Status.FAIL
JUDGED = (
    "container.host_network",
    "container.host_pid",
    "container.host_ipc",
    "container.host_uts",
    "container.default_bridge",
    "container.sensitive_mounts",
    "container.capabilities",
    "container.seccomp",
    "container.runtime_capabilities",
    "container.runtime_seccomp",
)


@pytest.mark.parametrize("name", NAMES)
def test_recorded_containers_really_get(catalog: Catalog, tmp_path: Path, name: str) -> None:
    every = Directory(Joinable.of_inspect(recorded_inspect(n)) for n in NAMES)
    c = _collected(tmp_path, name, NAMES.index(name), every)
    ctx = context(runtime_host=runtime_host())
    got = {i: catalog[i].evaluate(c, ctx).status for i in (*JUDGED, *RECORDED_VERDICTS[name])}
    expected = dict.fromkeys(got, Status.PASS) | RECORDED_VERDICTS[name]
    assert got == expected


def test_the_evidence_shows_configuration_and_reality(catalog: Catalog, tmp_path: Path) -> None:
    every = Directory(Joinable.of_inspect(recorded_inspect(n)) for n in NAMES)
    c = _collected(tmp_path, "rbr-join-hostnet", 2, every)
    verdict = catalog["container.host_network"].evaluate(c, context(runtime_host=runtime_host()))
    evidence = dict(verdict.evidence)
    target = recorded_inspect("rbr-hostnet")["Id"]
    assert evidence["HostConfig.NetworkMode"] == f"container:{target[:12]}… → host (via rbr-hostnet)"
    assert evidence["kernel"] == "/proc/4002/ns/net: net:[4026531833], the host's (pid 1)"
    assert verdict.detail == "uses the host network namespace (joined through rbr-hostnet)"
    caps = catalog["container.runtime_capabilities"].evaluate(
        _collected(tmp_path / "b", "rbr-sysadmin", 4, every), context()
    )
    assert "pid 4004 (sleep) CapEff SYS_ADMIN" in caps.detail


def test_resolved_facts_round_trip_through_a_snapshot() -> None:
    c = container(
        namespaces=namespaces(pid=namespace("pid", "container:x", "host", via=("x",), kernel_host=True)),
        mounts=(
            bind_volume("etcvol", "/etc"),
            resolved_mount("/srv/api", "/run/docker.sock", host_type=FileType.SOCKET),
        ),
        processes=(running_process(recorded_status("rbr-sysadmin")), running_process(None, pid=7, status_why="gone")),
        execs=(replace(exec_session(), pid=7),),
        cpu_period=100_000,
    )
    snap = snapshot(c, runtime_host=runtime_host(real_paths={"/lib": "/usr/lib"}, notes=("a note",)))
    assert Snapshot.loads(snap.dumps()) == snap


def test_an_older_snapshot_claims_no_resolution() -> None:
    data = snapshot(container()).to_json()
    del data["runtime_host"]
    for field in ("namespaces", "cpu_period"):
        del data["containers"][0][field]
    for p in data["containers"][0]["processes"]:
        del p["status"], p["status_why"]
    old = Snapshot.from_json(data)
    assert old.runtime_host is None
    assert old.containers[0].namespaces is None and old.containers[0].processes[0].status is None
