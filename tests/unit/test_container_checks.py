"""Every container check, case by case, through the loaded catalog.

A case states the check, the facts (a compliant container with the field under test changed), the status
expected and, where it matters, the context, the finding's severity and a fragment of the detail.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass

import pytest
from builders import (
    CONTAINER_ID,
    HEALTHCHECK,
    IMAGE_ID,
    IMAGE_REF,
    OTHER_IMAGE_ID,
    SECCOMP_DEFAULT,
    bind_volume,
    container,
    context,
    daemon,
    device,
    engine,
    engine_socket,
    env,
    exec_session,
    image,
    kernel_status,
    mount,
    namespace,
    namespaces,
    port,
    process,
    recorded_inspect,
    recorded_status,
    resolved_mount,
    running_process,
    runtime_host,
    ulimit,
    volume,
)

from runbench.authoring import Context, container_check, failed, passed
from runbench.catalog import Catalog
from runbench.model import Scope, Severity, Status, Verdict
from runbench.policy import Params
from runbench.semantics import DEFAULT_CAPS
from runbench.snapshot import CollectionError, ContainerFacts, ExecFacts, Fact, FileType, Healthcheck


@dataclass(frozen=True)
class Case:
    check_id: str
    facts: ContainerFacts
    expected: Status
    ctx: Context | None
    label: str
    severity: Severity | None  # the finding's severity, when the case is about it
    detail: str  # a fragment the verdict's detail must contain

    def __str__(self) -> str:
        return f"{self.check_id.removeprefix('container.')}-{self.expected.value}-{self.label}"


def case(
    check_id: str,
    facts: ContainerFacts,
    expected_status: Status,
    ctx: Context | None = None,
    *,
    label: str,
    severity: Severity | None = None,
    detail: str = "",
) -> Case:
    return Case(check_id, facts, expected_status, ctx, label, severity, detail)


PASS, FAIL, MANUAL, SKIP, ERROR = Status.PASS, Status.FAIL, Status.MANUAL, Status.SKIP, Status.ERROR
C = container

# contexts
NO_ENGINE = context(engine=None)
NO_DAEMON = context(daemon=None)
APPARMOR = context(engine=engine(security_options=(SECCOMP_DEFAULT, "name=apparmor")))
SELINUX = context(engine=engine(security_options=(SECCOMP_DEFAULT, "name=selinux")))
USERNS = context(engine=engine(security_options=(SECCOMP_DEFAULT, "name=userns")))
ROOTLESS = context(engine=engine(security_options=(SECCOMP_DEFAULT, "name=rootless")))
NO_SECCOMP = context(engine=engine(security_options=()))
SECCOMP_UNCONFINED = context(engine=engine(security_options=("name=seccomp,profile=unconfined",)))
SECCOMP_CUSTOM_DAEMON = context(engine=engine(security_options=("name=seccomp,profile=/etc/docker/seccomp.json",)))
ALLOW_SYS_NICE = context(params=Params(allowed_capabilities=frozenset({"SYS_NICE"})))
ALLOW_DANGEROUS = context(params=Params(allowed_capabilities=frozenset({"SYS_ADMIN", "CAP_NET_ADMIN", "SYS_NICE"})))
NNP_FLAG = context(daemon=daemon(argv=("/usr/bin/dockerd", "--no-new-privileges", "-H", "fd://")))
NNP_FLAG_EQ_FALSE = context(daemon=daemon(argv=("/usr/bin/dockerd", "--no-new-privileges=false")))
DAEMON_JSON = daemon(config_file="/etc/docker/daemon.json")
NNP_JSON = context(daemon=DAEMON_JSON, daemon_json='{"no-new-privileges": true}')
NNP_JSON_FALSE = context(daemon=DAEMON_JSON, daemon_json='{"log-level": "info"}')
# as runbench.collect records them: the subject of a daemon.json error is the file's path
NNP_JSON_UNREADABLE = context(
    daemon=DAEMON_JSON,
    daemon_json_why="cannot read: Permission denied",
    errors=(CollectionError(Fact.DAEMON_CONFIG, "/etc/docker/daemon.json", "cannot read: Permission denied"),),
)
NNP_JSON_BROKEN = context(daemon=DAEMON_JSON, daemon_json='{"no-new-privileges": true,')
NNP_NO_PID = context(daemon=daemon(pid=None))
CUSTOM_SOCKET = context(daemon=daemon(sockets=("/srv/engine/api.sock",)))
NO_NNP = ("no-new-privileges=false",)  # container opt-out, for checks that need no-new-privileges off

ROOT_USERS = ("", "0", "root", "0:0", "root:root", "0:1000", "00", "+0", "000:app", "root:0")


def CREATED(**overrides: object) -> ContainerFacts:  # noqa: N802 - reads like C(...)
    """A created (never started) container: no process, so the configuration alone decides."""
    return container(**{"state": "created", "pid": 0, "processes": (), **overrides})


COMPLIANT_INIT = container().processes or ()
ROOT_STATUS = recorded_status("rbr-bridge")  # a root process with Docker's default capabilities, seccomp on
ROOT_INIT = (running_process(ROOT_STATUS, name="sleep"),)
REMAPPED = kernel_status(uid=100000, caps=tuple(sorted(DEFAULT_CAPS)), cap_eff=())  # root remapped to 100000
REMAPPED_INIT = (running_process(REMAPPED, name="sleep"),)
SYSADMIN_INIT = (running_process(recorded_status("rbr-sysadmin"), name="sleep"),)
UNCONFINED_INIT = (running_process(recorded_status("rbr-unconfined"), name="sleep"),)
ALLOW_ALL = recorded_inspect("rbr-allow-all")["HostConfig"]["SecurityOpt"][0]
RUNTIME = context(runtime_host=runtime_host())
MANAGED_CONTAINERD = engine_socket(  # the containerd dockerd starts and supervises itself
    "/var/run/docker/containerd/containerd.sock", "containerd", "/run/docker/containerd/containerd.sock"
)

BLOCKS_MOUNT = 'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ERRNO"}]}'
JOIN = "container:" + "3f2a" + "0" * 60  # a joined container's full id, as inspect records it
NNP_OFF = (running_process(kernel_status(no_new_privs=False)),)


def _exec(pid: int, user: str = "1000") -> ExecFacts:
    return dataclasses.replace(exec_session(user=user), pid=pid)


# What a container really gets (runbench.collect.resolve): namespace joins, real mount sources, engine sockets
# that exist, CPU quotas against the host's CPUs, custom seccomp profiles, users from the kernel.
RESOLVED_CASES: list[Case] = [
    # namespace joins: the chain's end decides, the kernel when it was read
    case(
        "container.host_pid",
        C(pid_mode=JOIN, namespaces=namespaces(pid=namespace("pid", JOIN, "host", via=("rbf-x",)))),
        FAIL,
        label="joined-to-host-pid-container",
        detail="joined through rbf-x",
    ),
    case(
        "container.host_pid",
        C(pid_mode=JOIN, namespaces=namespaces(pid=namespace("pid", JOIN, "", via=("rbf-x",), kernel_host=False))),
        PASS,
        label="joined-to-private-pid-container",
    ),
    case(
        "container.host_network",
        C(network_mode=JOIN, networks=(), namespaces=namespaces(net=namespace("net", JOIN, "host", via=("a", "b")))),
        FAIL,
        label="two-hop-chain-to-host-network",
        detail="a → b",
    ),
    case(
        "container.host_network",
        C(namespaces=namespaces(net=namespace("net", "app", kernel_host=True))),
        FAIL,
        label="kernel-says-host-configuration-does-not",
        detail="disagree",
    ),
    case(
        "container.host_network",
        C(network_mode="host", namespaces=namespaces(net=namespace("net", "host", kernel_host=False))),
        PASS,
        label="configured-host-kernel-says-not",
        detail="disagree",
    ),
    case(
        "container.host_ipc",
        C(ipc_mode=JOIN, namespaces=namespaces(ipc=namespace("ipc", JOIN, "host", via=("x",), kernel_host=True))),
        FAIL,
        label="joined-to-host-ipc-kernel-agrees",
    ),
    case(
        "container.host_ipc",
        C(ipc_mode=JOIN, namespaces=namespaces(ipc=namespace("ipc", JOIN, "", why="container 3f2a… not found"))),
        ERROR,
        label="chain-to-a-missing-container",
        detail="not found",
    ),
    case(
        "container.host_uts",
        C(namespaces=namespaces(uts=namespace("uts", "", kernel_host=True))),
        FAIL,
        label="kernel-says-host-uts",
    ),
    case(
        "container.host_pid",
        C(pid_mode=JOIN),
        PASS,
        label="unresolved-snapshot-judges-configuration",
    ),
    case(
        "container.default_bridge",
        C(
            network_mode=JOIN,
            networks=(),
            namespaces=namespaces(net=namespace("net", JOIN, "default", via=("web",), networks=("bridge",))),
        ),
        FAIL,
        label="joined-to-a-default-bridge-container",
        detail="through web",
    ),
    case(
        "container.default_bridge",
        C(
            network_mode=JOIN,
            networks=(),
            namespaces=namespaces(net=namespace("net", JOIN, "app", via=("web",), networks=("app",))),
        ),
        PASS,
        label="joined-to-a-user-network-container",
    ),
    case(
        "container.default_bridge",
        C(network_mode=JOIN, networks=(), namespaces=namespaces(net=namespace("net", JOIN, "", why="a loop"))),
        ERROR,
        label="join-chain-loops",
    ),
    # mount sources: the host path the kernel mounts
    case(
        "container.sensitive_mounts",
        C(mounts=(resolved_mount("/srv/link", "/etc"),)),
        FAIL,
        label="symlink-to-etc",
        detail="/srv/link → /etc",
        severity=Severity.CRITICAL,
    ),
    case(
        "container.sensitive_mounts",
        C(mounts=(bind_volume("etcvol", "/etc", rw=False),)),
        FAIL,
        label="bind-backed-volume-of-etc",
        detail="volume etcvol → /etc",
        severity=Severity.HIGH,
    ),
    case(
        "container.sensitive_mounts",
        C(mounts=(resolved_mount("/srv/docker-data", "/data/docker"),)),
        FAIL,
        context(runtime_host=runtime_host(real_paths={"/var/lib/docker": "/data/docker"})),
        label="docker-root-behind-a-symlink",
    ),
    case(
        "container.sensitive_mounts",
        C(mounts=(resolved_mount("/srv/docker/volumes", "/srv/docker/volumes"),)),
        FAIL,
        context(engine=engine(root_dir="/srv/docker"), runtime_host=runtime_host()),
        label="mount-below-a-moved-docker-root",
    ),
    case(
        "container.sensitive_mounts",
        C(mounts=(resolved_mount("/srv/link", "/srv/app"),)),
        PASS,
        label="symlink-to-an-app-dir",
    ),
    case(
        "container.sensitive_mounts",
        C(
            mounts=(
                dataclasses.replace(volume("data", "/data"), resolution="volume data could not be inspected: gone"),
            )
        ),
        ERROR,
        label="volume-not-inspected",
        detail="could not be inspected",
    ),
    case(
        "container.rw_host_mounts",
        C(mounts=(bind_volume("srvvol", "/srv/data"),)),
        FAIL,
        label="rw-bind-backed-volume",
        detail="volume srvvol → /srv/data",
    ),
    case(
        "container.rw_host_mounts",
        C(mounts=(bind_volume("srvvol", "/srv/data", rw=False),)),
        PASS,
        label="ro-bind-volume",
    ),
    case(
        "container.rw_host_mounts",
        C(mounts=(dataclasses.replace(volume("data", "/data"), volume_bind=False, resolution="its own directory"),)),
        PASS,
        label="plain-local-volume",
    ),
    # engine sockets: only those that exist, at or below the mount's real source
    case(
        "container.docker_socket",
        C(mounts=(resolved_mount("/", "/", rw=False),)),
        FAIL,
        RUNTIME,
        label="host-root-contains-the-existing-socket",
        detail="contains /run/docker.sock",
    ),
    case(
        "container.docker_socket",
        C(mounts=(resolved_mount("/run/containerd", "/run/containerd"),)),
        PASS,
        RUNTIME,
        label="containerd-dir-without-a-socket",
    ),
    case(
        "container.docker_socket",
        C(mounts=(resolved_mount("/var/run/docker/containerd", "/run/docker/containerd", rw=False),)),
        FAIL,
        context(runtime_host=runtime_host(MANAGED_CONTAINERD)),
        label="dockerd-managed-containerd-dir",
        detail="/run/docker/containerd/containerd.sock",
    ),
    case(
        "container.docker_socket",
        C(mounts=(resolved_mount("/srv/api", "/run/docker.sock", host_type=FileType.SOCKET),)),
        FAIL,
        RUNTIME,
        label="symlink-to-the-socket",
        detail="engine socket",
    ),
    case(
        "container.docker_socket",
        C(mounts=(resolved_mount("/srv/x/docker.sock", "/srv/x/docker.sock", host_type=FileType.DIRECTORY),)),
        PASS,
        RUNTIME,
        label="a-directory-named-docker-sock",
    ),
    case(
        "container.docker_socket",
        C(mounts=(resolved_mount("/home/u/podman.sock", "/home/u/podman.sock", host_type=FileType.SOCKET),)),
        FAIL,
        RUNTIME,
        label="an-unlisted-socket-named-like-an-engines",
    ),
    case(
        "container.docker_socket",
        C(mounts=(mount("/var/run", rw=False),)),
        FAIL,
        context(runtime_host=runtime_host(local=False, sockets=(engine_socket("/run/docker.sock"),))),
        label="remote-engine-well-known-list",
        detail="well-known",
    ),
    # CPU limits against the host's CPUs
    case(
        "container.cpu_limit",
        C(nano_cpus=8_000_000_000),
        FAIL,
        RUNTIME,
        label="cpus-as-many-as-the-host",
        detail="limits nothing",
    ),
    case("container.cpu_limit", C(nano_cpus=12_000_000_000), FAIL, RUNTIME, label="cpus-above-the-host"),
    case(
        "container.cpu_limit", C(nano_cpus=0, cpu_quota=900_000, cpu_period=100_000), FAIL, RUNTIME, label="quota-above"
    ),
    case(
        "container.cpu_limit",
        C(nano_cpus=0, cpu_quota=900_000, cpu_period=0),
        FAIL,
        RUNTIME,
        label="quota-default-period",
    ),
    case("container.cpu_limit", C(nano_cpus=0, cpu_quota=200_000, cpu_period=100_000), PASS, RUNTIME, label="2-of-8"),
    case(
        "container.cpu_limit",
        C(nano_cpus=12_000_000_000, cpu_shares=512),
        PASS,
        RUNTIME,
        label="quota-useless-shares-set",
    ),
    case("container.cpu_limit", C(nano_cpus=12_000_000_000), PASS, label="host-cpus-unknown"),
    # custom seccomp profiles: what they stop
    case("container.seccomp", C(security_opt=(ALLOW_ALL,)), FAIL, label="allow-all-profile", detail="all but name"),
    case(
        "container.seccomp",
        C(security_opt=(BLOCKS_MOUNT,)),
        PASS,
        label="allow-default-blocks-mount",
    ),
    case(
        "container.seccomp",
        C(security_opt=('seccomp={"defaultAction":"SCMP_ACT_LOG"}',)),
        FAIL,
        label="log-default-blocks-nothing",
    ),
    case("container.seccomp", C(security_opt=("seccomp={broken",)), PASS, label="profile-not-json", detail="not read"),
    case("container.seccomp", C(security_opt=("seccomp=builtin",)), PASS, label="builtin-profile"),
    # exec sessions: the host uid of a running session's process
    case(
        "container.exec_root",
        C(execs=(_exec(77),), processes=(*COMPLIANT_INIT, running_process(ROOT_STATUS, pid=77, name="sh"))),
        FAIL,
        label="exec-process-is-root-on-the-host",
        detail="pid 77 runs as uid 0",
    ),
    case(
        "container.exec_root",
        C(user="", execs=(_exec(77, user=""),), processes=(running_process(kernel_status(uid=100000), pid=77),)),
        PASS,
        label="root-exec-remapped",
    ),
    case(
        "container.exec_root",
        C(user="", execs=(_exec(77, user=""),), processes=()),
        FAIL,
        label="exec-process-not-seen-configuration-decides",
    ),
]

# The kernel's view of every process (/proc/<pid>/status).
RUNTIME_CASES: list[Case] = [
    case("container.runtime_capabilities", C(), PASS, label="none-held"),
    case(
        "container.runtime_capabilities",
        C(cap_drop=(), cap_add=("SYS_ADMIN",), processes=SYSADMIN_INIT),
        FAIL,
        label="sys-admin-in-capeff",
        detail="CapEff SYS_ADMIN",
    ),
    case(
        "container.runtime_capabilities",
        C(cap_drop=(), processes=ROOT_INIT),
        PASS,
        label="docker-defaults-as-configured",
    ),
    case(
        "container.runtime_capabilities",
        C(processes=ROOT_INIT),
        FAIL,
        label="defaults-held-though-all-dropped",
        detail="disagree",
    ),
    case(
        "container.runtime_capabilities",
        C(cap_drop=(), cap_add=("SYS_PTRACE",), processes=(running_process(kernel_status(caps=("SYS_PTRACE",))),)),
        FAIL,
        label="dangerous-in-the-bounding-set-only",
        detail="CapBnd SYS_PTRACE",
    ),
    case("container.runtime_capabilities", C(state="exited", processes=()), SKIP, label="not-running"),
    case("container.runtime_capabilities", C(processes=None), ERROR, label="processes-not-read"),
    case(
        "container.runtime_capabilities",
        C(processes=(running_process(None, status_why="cannot read /proc/4242/status: Permission denied"),)),
        ERROR,
        label="status-unreadable",
        detail="Permission denied",
    ),
    case(
        "container.runtime_capabilities",
        C(processes=(running_process(None),)),
        ERROR,
        label="older-snapshot",
        detail="older runbench",
    ),
    case("container.runtime_seccomp", C(), PASS, label="filtered"),
    case(
        "container.runtime_seccomp",
        C(security_opt=("seccomp=unconfined", "no-new-privileges"), processes=UNCONFINED_INIT),
        FAIL,
        label="unconfined-as-configured",
        detail="as configured",
    ),
    case(
        "container.runtime_seccomp",
        C(processes=UNCONFINED_INIT),
        FAIL,
        label="configured-profile-kernel-off",
        detail="disagree",
    ),
    case(
        "container.runtime_seccomp",
        C(),
        SKIP,
        context(runtime_host=runtime_host(seccomp=False)),
        label="kernel-without-seccomp",
    ),
    case(
        "container.runtime_seccomp",
        C(processes=(running_process(kernel_status(seccomp=None)),)),
        SKIP,
        label="no-seccomp-field",
    ),
    case("container.runtime_nnp", C(), PASS, label="configured-and-set"),
    case("container.runtime_nnp", C(processes=NNP_OFF), FAIL, label="configured-not-set", detail="disagree"),
    case(
        "container.runtime_nnp", C(security_opt=(), processes=NNP_OFF), FAIL, NNP_FLAG, label="daemon-default-not-set"
    ),
    case("container.runtime_nnp", C(security_opt=NO_NNP, processes=NNP_OFF), SKIP, label="not-asked-not-set"),
    case("container.runtime_nnp", C(security_opt=NO_NNP), PASS, label="not-asked-but-set"),
    case(
        "container.runtime_nnp",
        C(security_opt=(), processes=NNP_OFF),
        ERROR,
        NNP_JSON_UNREADABLE,
        label="daemon-default-unknown",
    ),
    case("container.runtime_root", C(), PASS, label="uid-1000"),
    case("container.runtime_root", C(processes=ROOT_INIT), FAIL, label="uid-0", detail="uid 0 on the host"),
    case("container.runtime_root", C(user="", processes=REMAPPED_INIT), PASS, label="remapped-root"),
    case(
        "container.runtime_root",
        C(processes=(*COMPLIANT_INIT, running_process(ROOT_STATUS, pid=77, name="sh"))),
        FAIL,
        label="an-exec-as-root",
        detail="pid 77",
    ),
]

CASES: list[Case] = [
    # --- 5.2 apparmor -------------------------------------------------------------------------
    case("container.apparmor", C(), SKIP, label="host-without-apparmor", detail="AppArmor"),
    case("container.apparmor", C(), ERROR, NO_ENGINE, label="no-engine-facts"),
    case("container.apparmor", C(apparmor_profile="docker-default"), PASS, APPARMOR, label="docker-default"),
    case("container.apparmor", C(apparmor_profile="my-profile"), PASS, APPARMOR, label="custom-profile"),
    case("container.apparmor", C(apparmor_profile=""), FAIL, APPARMOR, label="no-profile"),
    case("container.apparmor", C(apparmor_profile="unconfined"), FAIL, APPARMOR, label="unconfined"),
    case(
        "container.apparmor",
        C(apparmor_profile="docker-default", security_opt=("apparmor=unconfined",)),
        FAIL,
        APPARMOR,
        label="opt-unconfined",
    ),
    case("container.apparmor", C(privileged=True), FAIL, APPARMOR, label="privileged"),
    # --- 5.3 selinux --------------------------------------------------------------------------
    case("container.selinux", C(), SKIP, label="selinux-off", detail="SELinux"),
    case("container.selinux", C(), ERROR, NO_ENGINE, label="no-engine-facts"),
    case("container.selinux", C(), PASS, SELINUX, label="labelled"),
    case(
        "container.selinux",
        C(security_opt=("label=type:svirt_apache_t", "no-new-privileges")),
        PASS,
        SELINUX,
        label="custom-type",
    ),
    case("container.selinux", C(security_opt=("label=disable",)), FAIL, SELINUX, label="label-disable"),
    case("container.selinux", C(security_opt=("label:disable",)), FAIL, SELINUX, label="label-colon-disable"),
    case("container.selinux", C(privileged=True), FAIL, SELINUX, label="privileged"),
    case("container.selinux", C(process_label=""), FAIL, SELINUX, label="no-process-label"),
    # --- 5.4 capabilities ---------------------------------------------------------------------
    case("container.capabilities", C(), PASS, label="drop-all"),
    case("container.capabilities", C(cap_drop=()), PASS, label="docker-defaults"),
    case("container.capabilities", C(cap_add=("NET_BIND_SERVICE",)), PASS, label="drop-all-add-default"),
    case("container.capabilities", C(cap_drop=(), cap_add=("CHOWN",)), PASS, label="add-a-default-cap"),
    case("container.capabilities", C(cap_drop=("ALL",), cap_add=("CAP_KILL",)), PASS, label="cap-prefix-default"),
    case("container.capabilities", C(cap_add=("SYS_ADMIN",)), FAIL, label="sys-admin", detail="dangerous"),
    case("container.capabilities", C(cap_add=("CAP_SYS_ADMIN",)), FAIL, label="cap-prefix-sys-admin"),
    case("container.capabilities", C(cap_add=("sys_ptrace",)), FAIL, label="lowercase-sys-ptrace"),
    case("container.capabilities", C(cap_add=("cap_net_admin",)), FAIL, label="lowercase-cap-prefix"),
    case("container.capabilities", C(cap_drop=(), cap_add=("ALL",)), FAIL, label="add-all"),
    case("container.capabilities", C(cap_drop=("SYS_ADMIN",), cap_add=("ALL",)), FAIL, label="add-all-drop-one"),
    case("container.capabilities", C(cap_add=("SYS_NICE",)), FAIL, label="non-default", detail="beyond the defaults"),
    case("container.capabilities", C(cap_add=("SYS_NICE",)), PASS, ALLOW_SYS_NICE, label="allowed-by-policy"),
    case("container.capabilities", C(cap_add=("CAP_SYS_NICE",)), PASS, ALLOW_SYS_NICE, label="allowed-cap-prefix"),
    case("container.capabilities", C(cap_add=("SYS_ADMIN",)), FAIL, ALLOW_DANGEROUS, label="dangerous-allowed"),
    case("container.capabilities", C(cap_add=("NET_ADMIN",)), FAIL, ALLOW_DANGEROUS, label="dangerous-allowed-prefix"),
    case("container.capabilities", C(privileged=True), FAIL, label="privileged", detail="privileged"),
    # --- 5.5 privileged -----------------------------------------------------------------------
    case("container.privileged", C(), PASS, label="unprivileged"),
    case("container.privileged", C(privileged=True), FAIL, label="privileged", severity=Severity.CRITICAL),
    # --- 5.6 sensitive mounts -----------------------------------------------------------------
    case("container.sensitive_mounts", C(), PASS, label="no-mounts"),
    case("container.sensitive_mounts", C(mounts=(mount("/srv/app/data"),)), PASS, label="app-dir-rw"),
    case("container.sensitive_mounts", C(mounts=(mount("/etcfoo"),)), PASS, label="etcfoo-is-not-etc"),
    case("container.sensitive_mounts", C(mounts=(mount("/usrlocal", rw=False),)), PASS, label="usrlocal-not-usr"),
    case("container.sensitive_mounts", C(mounts=(volume("etc", "/etc"),)), PASS, label="named-volume-on-etc"),
    case("container.sensitive_mounts", C(mounts=(mount("/var/run"),)), PASS, label="var-run-not-sensitive"),
    case(
        "container.sensitive_mounts",
        C(mounts=(mount("/etc"),)),
        FAIL,
        label="etc-rw",
        severity=Severity.CRITICAL,
        detail="writable",
    ),
    case(
        "container.sensitive_mounts",
        C(mounts=(mount("/etc", rw=False),)),
        FAIL,
        label="etc-ro",
        severity=Severity.HIGH,
        detail="read-only",
    ),
    case("container.sensitive_mounts", C(mounts=(mount("/"),)), FAIL, label="root-rw", severity=Severity.CRITICAL),
    case(
        "container.sensitive_mounts", C(mounts=(mount("/", rw=False),)), FAIL, label="root-ro", severity=Severity.HIGH
    ),
    case("container.sensitive_mounts", C(mounts=(mount("/etc/nginx", rw=False),)), FAIL, label="below-etc-ro"),
    case("container.sensitive_mounts", C(mounts=(mount("/etc/"),)), FAIL, label="etc-trailing-slash"),
    case("container.sensitive_mounts", C(mounts=(mount("/proc"),)), FAIL, label="proc"),
    case("container.sensitive_mounts", C(mounts=(mount("/sys/fs/cgroup", rw=False),)), FAIL, label="sys-cgroup"),
    case("container.sensitive_mounts", C(mounts=(mount("/boot"),)), FAIL, label="boot"),
    case("container.sensitive_mounts", C(mounts=(mount("/dev"),)), FAIL, label="dev"),
    case("container.sensitive_mounts", C(mounts=(mount("/lib/modules", rw=False),)), FAIL, label="lib-modules"),
    case("container.sensitive_mounts", C(mounts=(mount("/usr"),)), FAIL, label="usr"),
    case("container.sensitive_mounts", C(mounts=(mount("/var/lib/docker"),)), FAIL, label="var-lib-docker"),
    case(
        "container.sensitive_mounts",
        C(mounts=(mount("/var/lib/docker/volumes", rw=False), mount("/etc"))),
        FAIL,
        label="rw-wins-over-ro",
        severity=Severity.CRITICAL,
    ),
    # --- 5.7 sshd -----------------------------------------------------------------------------
    case("container.sshd", C(processes=(process("app"), process("sh"))), PASS, label="no-sshd"),
    case("container.sshd", C(processes=(process("app"), process("sshd", uid=0))), FAIL, label="sshd"),
    case("container.sshd", C(processes=(process("dropbear"),)), FAIL, label="dropbear"),
    case("container.sshd", C(processes=(process("ssh-wrapper", exe="sshd"),)), FAIL, label="sshd-by-exe"),
    case("container.sshd", C(state="exited", processes=()), SKIP, label="exited"),
    case("container.sshd", C(state="created", processes=None), SKIP, label="created"),
    case("container.sshd", C(processes=None), ERROR, label="processes-not-read"),
    # --- 5.8 privileged ports -----------------------------------------------------------------
    case("container.privileged_ports", C(), PASS, label="no-ports"),
    case("container.privileged_ports", C(port_bindings=(port("8080"),)), PASS, label="8080"),
    case("container.privileged_ports", C(port_bindings=(port("1024"),)), PASS, label="1024"),
    case("container.privileged_ports", C(port_bindings=(port(""),)), PASS, label="ephemeral"),
    case("container.privileged_ports", C(port_bindings=(port("1023"),)), FAIL, label="1023"),
    case("container.privileged_ports", C(port_bindings=(port("80"),)), FAIL, label="80"),
    case("container.privileged_ports", C(port_bindings=(port("443-444"),)), FAIL, label="range-below-1024"),
    case("container.privileged_ports", C(port_bindings=(port("8000-8010"),)), PASS, label="range-above-1024"),
    # --- 5.9 open ports (manual review) -------------------------------------------------------
    case("container.open_ports", C(), PASS, label="none-published"),
    case("container.open_ports", C(port_bindings=(port("8080"),)), MANUAL, label="published", detail="1 published"),
    case(
        "container.open_ports",
        C(publish_all_ports=True, exposed_ports=("80/tcp", "443/tcp")),
        MANUAL,
        label="publish-all",
        detail="2 published",
    ),
    # --- 5.10 / 5.16 / 5.17 / 5.21 / 5.31 namespaces ------------------------------------------
    case("container.host_network", C(), PASS, label="user-network"),
    case("container.host_network", C(network_mode="host", networks=("host",)), FAIL, label="host"),
    case("container.host_pid", C(), PASS, label="private"),
    case("container.host_pid", C(pid_mode="container:db"), PASS, label="other-container"),
    case("container.host_pid", C(pid_mode="host"), FAIL, label="host"),
    case("container.host_ipc", C(), PASS, label="private"),
    case("container.host_ipc", C(ipc_mode="shareable"), PASS, label="shareable"),
    case("container.host_ipc", C(ipc_mode="host"), FAIL, label="host"),
    case("container.host_uts", C(), PASS, label="private"),
    case("container.host_uts", C(uts_mode="host"), FAIL, label="host"),
    case("container.host_userns", C(), PASS, label="daemon-default"),
    case("container.host_userns", C(userns_mode="host"), FAIL, label="host"),
    # --- 5.11 / 5.12 / 5.29 resources ---------------------------------------------------------
    case("container.memory_limit", C(), PASS, label="256m"),
    case("container.memory_limit", C(memory=0), FAIL, label="unlimited"),
    case("container.cpu_limit", C(), PASS, label="nano-cpus"),
    case("container.cpu_limit", C(nano_cpus=0, cpu_quota=50_000), PASS, label="cfs-quota"),
    case("container.cpu_limit", C(nano_cpus=0, cpu_shares=512), PASS, label="shares-512"),
    case("container.cpu_limit", C(nano_cpus=0, cpu_shares=1024), FAIL, label="shares-1024-default"),
    case("container.cpu_limit", C(nano_cpus=0, cpu_shares=0), FAIL, label="shares-0"),
    case("container.cpu_limit", C(nano_cpus=0, cpu_quota=-1), FAIL, label="quota-minus-1"),
    case("container.pids_limit", C(pids_limit=100), PASS, label="100"),
    case("container.pids_limit", C(pids_limit=1), PASS, label="1"),
    case("container.pids_limit", C(pids_limit=None), FAIL, label="null"),
    case("container.pids_limit", C(pids_limit=-1), FAIL, label="minus-1-unlimited"),
    case("container.pids_limit", C(pids_limit=0), FAIL, label="0-unlimited"),
    # --- 5.13 read-only rootfs ----------------------------------------------------------------
    case("container.read_only_rootfs", C(), PASS, label="read-only"),
    case("container.read_only_rootfs", C(readonly_rootfs=False), FAIL, label="writable"),
    # --- 5.14 ports on all interfaces ---------------------------------------------------------
    case("container.ports_all_interfaces", C(), PASS, label="no-ports"),
    case("container.ports_all_interfaces", C(port_bindings=(port("8080"),)), PASS, label="loopback"),
    case("container.ports_all_interfaces", C(port_bindings=(port(host_ip="10.0.0.5"),)), PASS, label="one-address"),
    case("container.ports_all_interfaces", C(port_bindings=(port(host_ip="::1"),)), PASS, label="ipv6-loopback"),
    case("container.ports_all_interfaces", C(port_bindings=(port(host_ip="0.0.0.0"),)), FAIL, label="0.0.0.0"),
    case("container.ports_all_interfaces", C(port_bindings=(port(host_ip=""),)), FAIL, label="no-host-ip"),
    case("container.ports_all_interfaces", C(port_bindings=(port(host_ip="::"),)), FAIL, label="ipv6-any"),
    case(
        "container.ports_all_interfaces",
        C(port_bindings=(port("8080"), port("9000-9001", host_ip=""))),
        FAIL,
        label="one-of-two-wide",
        detail="9000-9001",
    ),
    case(
        "container.ports_all_interfaces",
        C(publish_all_ports=True, exposed_ports=("80/tcp",)),
        FAIL,
        label="publish-all",
        detail="-P 0.0.0.0:80/tcp",
    ),
    case("container.ports_all_interfaces", C(publish_all_ports=True), PASS, label="publish-all-nothing-exposed"),
    case(
        "container.ports_all_interfaces",
        C(port_bindings=(port(host_ip=""),)),
        FAIL,
        NNP_JSON_UNREADABLE,
        label="unreadable-daemon-json-default-ip-unknown",
        detail="its --ip is unknown",
    ),
    case(
        "container.ports_all_interfaces",
        C(port_bindings=(port(host_ip=""),)),
        PASS,
        context(daemon=DAEMON_JSON, daemon_json='{"ip": "127.0.0.1"}'),
        label="daemon-json-ip-loopback",
    ),
    # --- 5.15 restart policy ------------------------------------------------------------------
    case("container.restart_policy", C(), PASS, label="on-failure-5"),
    case("container.restart_policy", C(restart_max_retries=1), PASS, label="on-failure-1"),
    case("container.restart_policy", C(restart_policy="no", restart_max_retries=0), PASS, label="no"),
    case("container.restart_policy", C(restart_policy="", restart_max_retries=0), PASS, label="empty-means-no"),
    case("container.restart_policy", C(restart_max_retries=0), FAIL, label="on-failure-unlimited"),
    case("container.restart_policy", C(restart_max_retries=6), FAIL, label="on-failure-6"),
    case("container.restart_policy", C(restart_policy="always", restart_max_retries=0), FAIL, label="always"),
    case("container.restart_policy", C(restart_policy="unless-stopped"), FAIL, label="unless-stopped"),
    # --- 5.18 devices -------------------------------------------------------------------------
    case("container.devices", C(), PASS, label="none"),
    case("container.devices", C(devices=(device("/dev/fuse"),)), FAIL, label="device"),
    case("container.devices", C(devices=(device("/dev/sda", permissions="r"),)), FAIL, label="device-read-only"),
    case("container.devices", C(device_cgroup_rules=("c 1:3 mr",)), FAIL, label="cgroup-rule"),
    case(
        "container.devices",
        C(device_requests=("nvidia count=-1 ids= caps=gpu",)),
        FAIL,
        label="device-request",
        detail="device request",
    ),
    case("container.devices", C(privileged=True), FAIL, label="privileged"),
    # --- 5.19 ulimits (manual) ----------------------------------------------------------------
    case("container.ulimit_override", C(), PASS, label="none"),
    case(
        "container.ulimit_override", C(ulimits=(ulimit("nofile", 1024, 2048),)), MANUAL, label="nofile", detail="1024"
    ),
    # --- 5.20 mount propagation ---------------------------------------------------------------
    case("container.mount_propagation", C(mounts=(mount("/srv/data"),)), PASS, label="rprivate"),
    case("container.mount_propagation", C(mounts=(mount("/srv/data", propagation="rslave"),)), PASS, label="rslave"),
    case("container.mount_propagation", C(mounts=(mount("/srv/data", propagation="shared"),)), FAIL, label="shared"),
    case("container.mount_propagation", C(mounts=(mount("/srv/data", propagation="rshared"),)), FAIL, label="rshared"),
    # --- 5.22 seccomp -------------------------------------------------------------------------
    case("container.seccomp", C(), PASS, label="daemon-default", detail="default"),
    case("container.seccomp", C(), PASS, SECCOMP_CUSTOM_DAEMON, label="daemon-custom-profile"),
    case("container.seccomp", C(security_opt=('seccomp={"defaultAction":"SCMP_ACT_ERRNO"}',)), PASS, label="custom"),
    case("container.seccomp", C(security_opt=("seccomp=unconfined",)), FAIL, label="opt-eq-unconfined"),
    case("container.seccomp", C(security_opt=("seccomp:unconfined",)), FAIL, label="opt-colon-unconfined"),
    case("container.seccomp", C(privileged=True), FAIL, label="privileged"),
    case("container.seccomp", C(), FAIL, SECCOMP_UNCONFINED, label="daemon-unconfined"),
    case("container.seccomp", C(), FAIL, NO_SECCOMP, label="engine-without-seccomp"),
    case("container.seccomp", C(), ERROR, NO_ENGINE, label="no-engine-facts"),
    # --- 5.23 / 5.24 exec sessions ------------------------------------------------------------
    case("container.exec_privileged", C(), PASS, label="no-execs"),
    case("container.exec_privileged", C(execs=(exec_session(),)), PASS, label="plain-exec"),
    case("container.exec_privileged", C(execs=(exec_session(privileged=True),)), FAIL, label="privileged-exec"),
    case(
        "container.exec_privileged",
        C(execs=(exec_session(running=False, privileged=True),)),
        FAIL,
        label="finished-privileged-exec-still-listed",
    ),
    case("container.exec_root", C(), PASS, label="no-execs"),
    case("container.exec_root", C(execs=(exec_session(user="1000"),)), PASS, label="exec-as-1000"),
    case("container.exec_root", C(execs=(exec_session(user=""),)), PASS, label="inherits-non-root"),
    case("container.exec_root", C(execs=(exec_session(user="0"),)), FAIL, label="exec-as-0"),
    case("container.exec_root", C(execs=(exec_session(user="root"),)), FAIL, label="exec-as-root"),
    case("container.exec_root", C(user="", execs=(exec_session(user=""),)), FAIL, label="inherits-root"),
    case(
        "container.exec_root",
        C(user="", execs=(exec_session(user="", entrypoint="/bin/sh", healthcheck=True),)),
        PASS,
        label="engine-healthcheck-probe-ignored",
        detail="0 exec session(s)",
    ),
    case(
        "container.exec_root",
        C(user="", execs=(exec_session(user="", healthcheck=True), exec_session(user="0", id="f" * 64))),
        FAIL,
        label="probe-beside-a-root-exec",
        detail="ffffffffffff",
    ),
    # --- 5.25 cgroup parent (manual) ----------------------------------------------------------
    case("container.cgroup_parent", C(), PASS, label="default"),
    case("container.cgroup_parent", C(cgroup_parent="/custom"), MANUAL, label="custom", detail="custom"),
    # --- 5.26 no-new-privileges ---------------------------------------------------------------
    case("container.no_new_privileges", C(), PASS, label="bare-opt"),
    case("container.no_new_privileges", C(security_opt=("no-new-privileges=true",)), PASS, label="opt-eq-true"),
    case("container.no_new_privileges", C(security_opt=("no-new-privileges:true",)), PASS, label="opt-colon-true"),
    case("container.no_new_privileges", C(security_opt=("no-new-privileges",)), PASS, NO_DAEMON, label="opt-no-daemon"),
    case("container.no_new_privileges", C(security_opt=()), PASS, NNP_FLAG, label="daemon-flag"),
    case("container.no_new_privileges", C(security_opt=()), PASS, NNP_JSON, label="daemon-json-true"),
    case("container.no_new_privileges", C(security_opt=()), FAIL, label="unset-daemon-default-off"),
    case("container.no_new_privileges", C(security_opt=()), FAIL, NNP_JSON_FALSE, label="daemon-json-without-key"),
    case("container.no_new_privileges", C(security_opt=()), FAIL, NNP_FLAG_EQ_FALSE, label="daemon-flag-false"),
    case("container.no_new_privileges", C(security_opt=NO_NNP), FAIL, label="opt-false"),
    case("container.no_new_privileges", C(security_opt=NO_NNP), FAIL, NNP_JSON, label="opt-false-beats-daemon-json"),
    case("container.no_new_privileges", C(security_opt=NO_NNP), FAIL, NNP_FLAG, label="opt-false-beats-daemon-flag"),
    case(
        "container.no_new_privileges",
        C(security_opt=("no-new-privileges", "no-new-privileges=false")),
        FAIL,
        label="last-opt-wins",
    ),
    case(
        "container.no_new_privileges",
        C(security_opt=()),
        ERROR,
        NNP_JSON_UNREADABLE,
        label="daemon-json-unreadable",
        detail="daemon.json",
    ),
    case("container.no_new_privileges", C(security_opt=()), ERROR, NO_DAEMON, label="no-daemon-facts"),
    case("container.no_new_privileges", C(security_opt=()), ERROR, NNP_NO_PID, label="daemon-process-not-found"),
    # --- 5.27 healthcheck ---------------------------------------------------------------------
    case("container.healthcheck", C(), PASS, label="healthy"),
    case("container.healthcheck", C(health_status="starting"), PASS, label="starting"),
    case("container.healthcheck", C(state="exited", health_status=""), PASS, label="stopped-with-healthcheck"),
    case(
        "container.healthcheck",
        C(healthcheck=None, health_status="healthy"),
        PASS,
        context(images={IMAGE_ID: image(healthcheck=HEALTHCHECK)}),
        label="image-healthcheck",
    ),
    case("container.healthcheck", C(healthcheck=None, health_status=""), FAIL, label="none"),
    case(
        "container.healthcheck",
        C(healthcheck=None, health_status=""),
        FAIL,
        context(images={IMAGE_ID: image(healthcheck=Healthcheck(test=("NONE",)))}),
        label="image-healthcheck-none",
    ),
    case(
        "container.healthcheck",
        C(healthcheck=Healthcheck(test=("NONE",)), health_status=""),
        FAIL,
        context(images={IMAGE_ID: image(healthcheck=HEALTHCHECK)}),
        label="no-healthcheck-overrides-image",
    ),
    case("container.healthcheck", C(healthcheck=Healthcheck(test=())), FAIL, label="empty-test"),
    case("container.healthcheck", C(health_status="unhealthy"), FAIL, label="unhealthy", detail="unhealthy"),
    # --- 5.28 image current -------------------------------------------------------------------
    case("container.image_current", C(), PASS, label="tag-points-here"),
    case(
        "container.image_current", C(image_ref="app@sha256:" + "c" * 64), PASS, context(image_tags={}), label="digest"
    ),
    case("container.image_current", C(image_ref=IMAGE_ID), PASS, context(image_tags={}), label="by-image-id"),
    case(
        "container.image_current",
        C(),
        FAIL,
        context(image_tags={IMAGE_REF: OTHER_IMAGE_ID}),
        label="tag-moved",
        detail="bbbbbbbbbbbb",
    ),
    case("container.image_current", C(), MANUAL, context(image_tags={}), label="tag-missing"),
    case(
        "container.image_current",
        C(image_ref="nginx"),
        PASS,
        context(image_tags={"nginx:latest": IMAGE_ID}),
        label="implicit-latest",
    ),
    case(
        "container.image_current",
        C(image_ref="nginx"),
        FAIL,
        context(image_tags={"nginx:latest": OTHER_IMAGE_ID}),
        label="implicit-latest-moved",
    ),
    case(
        "container.image_current",
        C(image_ref="docker.io/library/nginx:1.25"),
        PASS,
        context(image_tags={"nginx:1.25": IMAGE_ID}),
        label="docker-hub-prefix",
    ),
    case(
        "container.image_current",
        C(image_ref="localhost:5000/app"),
        FAIL,
        context(image_tags={"localhost:5000/app:latest": OTHER_IMAGE_ID}),
        label="registry-port-implicit-latest",
    ),
    # --- 5.30 default bridge ------------------------------------------------------------------
    case("container.default_bridge", C(), PASS, label="user-network"),
    case("container.default_bridge", C(network_mode="none", networks=("none",)), PASS, label="none"),
    case("container.default_bridge", C(network_mode="default", networks=("bridge",)), FAIL, label="default"),
    case("container.default_bridge", C(network_mode="bridge", networks=("bridge",)), FAIL, label="bridge"),
    case("container.default_bridge", C(networks=("app", "bridge")), FAIL, label="also-on-bridge"),
    # --- 5.32 engine socket -------------------------------------------------------------------
    case("container.docker_socket", C(), PASS, label="no-mounts"),
    case("container.docker_socket", C(mounts=(mount("/srv/data"),)), PASS, label="data-dir"),
    case("container.docker_socket", C(mounts=(mount("/srv/engine/api.sock"),)), PASS, label="unknown-socket-path"),
    case("container.docker_socket", C(mounts=(mount("/var/run/docker.sock"),)), FAIL, label="docker-sock-rw"),
    case(
        "container.docker_socket",
        C(mounts=(mount("/var/run/docker.sock", rw=False),)),
        FAIL,
        label="docker-sock-ro",
        severity=Severity.CRITICAL,
    ),
    case("container.docker_socket", C(mounts=(mount("/run/docker.sock"),)), FAIL, label="run-docker-sock"),
    case(
        "container.docker_socket",
        C(mounts=(mount("/var/run", rw=False),)),
        FAIL,
        label="parent-var-run",
        detail="/run/docker.sock",
    ),
    case("container.docker_socket", C(mounts=(mount("/run"),)), FAIL, label="parent-run"),
    case("container.docker_socket", C(mounts=(mount("/", rw=False),)), FAIL, label="host-root"),
    case(
        "container.docker_socket",
        C(mounts=(mount("/srv/engine/api.sock"),)),
        FAIL,
        CUSTOM_SOCKET,
        label="daemon-socket-nonstandard-path",
    ),
    case("container.docker_socket", C(mounts=(mount("/srv/engine"),)), FAIL, CUSTOM_SOCKET, label="daemon-socket-dir"),
    case(
        "container.docker_socket",
        C(mounts=(mount("/run/containerd/containerd.sock"),)),
        FAIL,
        label="containerd-sock",
    ),
    case("container.docker_socket", C(mounts=(mount("/run/containerd", rw=False),)), FAIL, label="containerd-dir"),
    case(
        "container.docker_socket",
        C(mounts=(mount("/run/user/1000/podman/podman.sock"),)),
        FAIL,
        label="podman-sock",
    ),
    case(
        "container.docker_socket",
        C(mounts=(mount("/home/u/.docker/run/docker.sock"),)),
        FAIL,
        label="docker-sock-any-dir",
    ),
    # --- beyond CIS: rw host mounts, user, env secrets, oom killer ----------------------------
    case("container.rw_host_mounts", C(), PASS, label="no-mounts"),
    case("container.rw_host_mounts", C(mounts=(mount("/srv/conf", rw=False),)), PASS, label="ro-bind"),
    case("container.rw_host_mounts", C(mounts=(volume("data", "/data"),)), PASS, label="rw-named-volume"),
    case("container.rw_host_mounts", C(mounts=(mount("/srv/data"),)), FAIL, label="rw-bind"),
    # not running: Config.User decides, parsed as runc does
    *[case("container.user", CREATED(user=u), FAIL, label=f"root-{u or 'empty'}") for u in ROOT_USERS],
    case("container.user", CREATED(user="1000"), PASS, label="1000"),
    case("container.user", CREATED(user="1000:1000"), PASS, label="1000-1000"),
    case("container.user", CREATED(user="app"), PASS, label="named-user"),
    case("container.user", CREATED(user="1000:0"), PASS, label="root-group-only"),
    case("container.user", CREATED(user="10"), PASS, label="uid-10-not-root"),
    case("container.user", CREATED(user=""), PASS, USERNS, label="root-userns-remap"),
    case("container.user", CREATED(user="0"), PASS, ROOTLESS, label="root-rootless"),
    case("container.user", CREATED(user="", userns_mode="host"), FAIL, USERNS, label="root-userns-opted-out"),
    case("container.user", CREATED(user=""), FAIL, NO_ENGINE, label="root-engine-unknown"),
    # running: the real uid of its init on the host decides
    case("container.user", C(user="1000"), PASS, label="running-1000"),
    case("container.user", C(user="", processes=ROOT_INIT), FAIL, label="running-root", detail="root on the host"),
    case("container.user", C(user="1000", processes=ROOT_INIT), FAIL, label="running-root-disagree", detail="disagree"),
    case("container.user", C(user="", processes=REMAPPED_INIT), PASS, USERNS, label="running-remapped", detail="remap"),
    case("container.user", C(user="root"), PASS, label="running-dropped-root", detail="dropped root"),
    case("container.user", C(user="1000", processes=None), PASS, label="running-processes-unread"),
    case("container.user", C(user="", processes=None), FAIL, label="running-root-processes-unread"),
    case("container.env_secrets", C(), PASS, label="no-env"),
    case(
        "container.env_secrets",
        C(
            env=(
                env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                env("HOME", "/home/app"),
                env("GPG_KEY", "B42F6819007F00F88E364FD4036A9C25BF357DD4"),
                env("PYTHON_SHA256", "3b3b5e2bf2b2e8a0c1d2e3f40123456789abcdef0123456789abcdef01234567"),
                env("DB_PASSWORD_FILE", "/run/secrets/db_password"),
                env("DB_PASSWORD", ""),
                env("LANG", "C.UTF-8"),
            )
        ),
        PASS,
        label="benign-env",
    ),
    case("container.env_secrets", C(env=(env("DB_PASSWORD", "fake-db-pw-0001"),)), FAIL, label="db-password"),
    case("container.env_secrets", C(env=(env("MYSQL_ROOT_PASSWORD", "x"),)), FAIL, label="short-password"),
    case("container.env_secrets", C(env=(env("PGPASSWORD", "fakefakefake42"),)), FAIL, label="pgpassword"),
    case(
        "container.env_secrets",
        C(env=(env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),)),
        FAIL,
        label="aws-key-id",
        detail="AWS_ACCESS_KEY_ID",
    ),
    case(
        "container.env_secrets",
        C(env=(env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),)),
        FAIL,
        label="aws-secret-key",
    ),
    case(
        "container.env_secrets",
        C(env=(env("CI_HELPER", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123"),)),
        FAIL,
        label="github-token-any-name",
    ),
    case(
        "container.env_secrets",
        C(env=(env("DATABASE_URL", "postgres://app:fakepw123@db:5432/app"),)),
        FAIL,
        label="url-with-credentials",
    ),
    case("container.oom_kill_disable", C(), PASS, label="enabled"),
    case("container.oom_kill_disable", C(oom_kill_disable=None, memory=0), PASS, label="unknown-no-limit"),
    case("container.oom_kill_disable", C(oom_kill_disable=True), PASS, label="disabled-with-limit"),
    case("container.oom_kill_disable", C(oom_kill_disable=True, memory=0), FAIL, label="disabled-no-limit"),
    *RESOLVED_CASES,
    *RUNTIME_CASES,
]

# Checks whose only non-pass outcome is manual: they gather evidence for a human and never fail.
MANUAL_ONLY = frozenset({"container.open_ports", "container.ulimit_override", "container.cgroup_parent"})


def _verdict(catalog: Catalog, c: Case) -> Verdict:
    return catalog[c.check_id].evaluate(c.facts, c.ctx if c.ctx is not None else context())


@pytest.mark.parametrize("c", CASES, ids=str)
def test_container_checks(catalog: Catalog, c: Case) -> None:
    verdict = _verdict(catalog, c)
    assert verdict.status is c.expected, verdict
    if c.severity is not None:
        assert (verdict.severity or catalog[c.check_id].meta.severity) is c.severity
    assert c.detail in verdict.detail
    if verdict.status in (Status.SKIP, Status.ERROR, Status.FAIL, Status.MANUAL):
        assert verdict.detail, "a non-pass verdict says why"


def test_case_ids_are_unique() -> None:
    ids = [str(c) for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_container_check_has_a_pass_and_a_fail_case(catalog: Catalog) -> None:
    statuses: dict[str, set[Status]] = defaultdict(set)
    for c in CASES:
        statuses[c.check_id].add(c.expected)
    container_ids = {c.id for c in catalog.of_scope(Scope.CONTAINER)}
    assert set(statuses) <= container_ids, "a case names a check that is not in the catalog"
    missing = {}
    for check_id in sorted(container_ids):
        bad_outcome = Status.MANUAL if check_id in MANUAL_ONLY else Status.FAIL
        lacking = {Status.PASS, bad_outcome} - statuses[check_id]
        if lacking:
            missing[check_id] = sorted(lacking)
    assert not missing


def test_manual_only_checks_really_never_fail(catalog: Catalog) -> None:
    """The meta-test's exemption is earned: these checks answer manual where others would fail."""
    noisy = C(
        port_bindings=(port("80", host_ip=""),),
        publish_all_ports=True,
        exposed_ports=("22/tcp",),
        ulimits=(ulimit(),),
        cgroup_parent="/x",
    )
    for check_id in MANUAL_ONLY:
        assert catalog[check_id].evaluate(noisy, context()).status is Status.MANUAL


def test_compliant_builder_passes_every_container_check(catalog: Catalog) -> None:
    statuses = {c.id: c.evaluate(container(), context()).status for c in catalog.of_scope(Scope.CONTAINER)}
    not_passing = {k: v for k, v in statuses.items() if v is not Status.PASS}
    assert not_passing == {"container.apparmor": Status.SKIP, "container.selinux": Status.SKIP}


def test_compliant_builder_passes_apparmor_and_selinux_where_the_engine_has_them(catalog: Catalog) -> None:
    both = context(engine=engine(security_options=(SECCOMP_DEFAULT, "name=apparmor", "name=selinux")))
    for check_id in ("container.apparmor", "container.selinux"):
        assert catalog[check_id].evaluate(container(), both).status is Status.PASS


def test_a_privileged_container_fails_every_check_privilege_implies(catalog: Catalog) -> None:
    priv = container(privileged=True)
    ctx = context(engine=engine(security_options=(SECCOMP_DEFAULT, "name=apparmor", "name=selinux")))
    for check_id in (
        "container.privileged",
        "container.capabilities",
        "container.devices",
        "container.seccomp",
        "container.apparmor",
        "container.selinux",
    ):
        assert catalog[check_id].evaluate(priv, ctx).status is Status.FAIL, check_id


# --- evidence ---------------------------------------------------------------------------------


def test_secret_values_never_reach_a_verdict(catalog: Catalog) -> None:
    value = "fake-db-password-do-not-leak-0001"
    verdict = catalog["container.env_secrets"].evaluate(container(env=(env("DB_PASSWORD", value),)), context())
    assert verdict.status is Status.FAIL
    assert "DB_PASSWORD" in verdict.detail
    text = repr(verdict)
    assert value not in text and value[2:10] not in text
    assert "fa…(33 chars)" in text


def test_evidence_names_the_deciding_fact(catalog: Catalog) -> None:
    verdict = catalog["container.privileged"].evaluate(container(privileged=True), context())
    assert ("HostConfig.Privileged", "true") in verdict.evidence
    caps = catalog["container.capabilities"].evaluate(container(cap_add=("SYS_ADMIN",)), context())
    assert ("HostConfig.CapAdd", "[SYS_ADMIN]") in caps.evidence


def test_sensitive_mount_rw_failure_lists_ro_hits_too(catalog: Catalog) -> None:
    facts = container(mounts=(mount("/etc", "/host/etc"), mount("/boot", "/host/boot", rw=False)))
    verdict = catalog["container.sensitive_mounts"].evaluate(facts, context())
    assert verdict.severity is None  # the check's own (critical) severity
    assert dict(verdict.evidence)["mounts"] == "[/etc:/host/etc:rw, /boot:/host/boot:ro]"


# --- a broken check is an error naming it, not a crash ----------------------------------------


def test_a_raising_check_becomes_an_error_verdict_naming_the_check() -> None:
    @container_check(
        id="container.boom",
        title="Explodes",
        severity=Severity.LOW,
        rationale="Tests the engine's guard.",
        remediation="None.",
    )
    def container_boom(c: ContainerFacts, ctx: Context) -> Verdict:
        raise KeyError("Config.Missing")

    verdict = container_boom.evaluate(container(), context())
    assert verdict.status is Status.ERROR
    assert "container.boom" in verdict.detail
    assert "KeyError" in verdict.detail and "Config.Missing" in verdict.detail


def test_a_check_returning_a_non_verdict_becomes_an_error() -> None:
    @container_check(id="container.sloppy", title="t", severity=Severity.LOW, rationale="r", remediation="m")
    def container_sloppy(c: ContainerFacts, ctx: Context) -> Verdict:
        return "pass"  # type: ignore[return-value]

    verdict = container_sloppy.evaluate(container())
    assert verdict.status is Status.ERROR
    assert "container.sloppy" in verdict.detail and "str" in verdict.detail


def test_verdict_helpers_format_evidence() -> None:
    assert passed("ok", flag=True, items=["a", "b"]).evidence == (("flag", "true"), ("items", "[a, b]"))
    v = failed("bad", n=3).at(Severity.HIGH)
    assert (v.status, v.detail, v.evidence, v.severity) == (Status.FAIL, "bad", (("n", "3"),), Severity.HIGH)


# --- regressions: product bugs found by these tests, fixed; each case states Docker's real behaviour ---

REGRESSIONS = [
    pytest.param(
        case("container.capabilities", C(cap_add=("ALL",), cap_drop=("ALL",)), FAIL, label="add-all-drop-all"),
        id="capabilities-add-all-drop-all-grants-everything",
    ),
    pytest.param(
        case("container.no_new_privileges", C(security_opt=("no-new-privileges=1",)), PASS, label="opt-eq-1"),
        id="no_new_privileges-opt-eq-1-is-on",
    ),
    pytest.param(
        case(
            "container.default_bridge",
            C(network_mode="default", networks=("app",)),
            PASS,
            label="moved-off-bridge",
        ),
        id="default_bridge-disconnected-from-bridge",
    ),
    pytest.param(
        case(
            "container.image_current",
            C(image_ref=IMAGE_ID.removeprefix("sha256:")[:12]),
            PASS,
            context(image_tags={}),
            label="short-image-id",
        ),
        id="image_current-short-image-id-is-immutable",
    ),
    pytest.param(
        case(
            "container.ports_all_interfaces",
            C(port_bindings=(port(host_ip=""),)),
            PASS,
            context(daemon=daemon(argv=("/usr/bin/dockerd", "--ip", "127.0.0.1"))),
            label="daemon-default-ip-loopback",
        ),
        id="ports_all_interfaces-daemon-ip-loopback",
    ),
    pytest.param(
        case(
            "container.no_new_privileges",
            C(security_opt=()),
            ERROR,
            NNP_JSON_BROKEN,
            label="daemon-json-does-not-parse",
        ),
        id="no_new_privileges-daemon-json-does-not-parse",
    ),
    pytest.param(
        case(
            "container.no_new_privileges",
            C(security_opt=()),
            ERROR,
            NNP_JSON_UNREADABLE,
            label="daemon-json-unreadable-says-why",
            detail="Permission denied",
        ),
        id="no_new_privileges-unreadable-daemon-json-reason",
    ),
]


@pytest.mark.parametrize("c", REGRESSIONS)
def test_regressions(catalog: Catalog, c: Case) -> None:
    verdict = _verdict(catalog, c)
    assert verdict.status is c.expected
    assert c.detail in verdict.detail


def test_container_id_builder_is_stable() -> None:
    assert container().short_id == CONTAINER_ID[:12]
