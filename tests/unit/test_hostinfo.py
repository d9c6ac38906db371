"""The host collector (runbench.collect.hostinfo, runbench.collect.systemd): unit files with drop-ins, ExecStart
resets, EnvironmentFile and ListenStream; audit rules in both forms, from auditctl and from the rule files;
mountinfo; /etc/group and /etc/passwd; certs.d listings; everything read below a host root (--host-root), and
the whole collection through `collect` with a stand-in engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from builders import engine

from runbench.collect import hostinfo
from runbench.collect.engine import CollectRequest, collect
from runbench.collect.host import Accounts, HostRoot, parse_group, parse_passwd
from runbench.collect.hostinfo import (
    MountEntry,
    containerd_root_of,
    docker_root,
    engine_groups,
    list_files,
    parse_audit_rules,
    parse_mountinfo,
    path_mount,
)
from runbench.collect.systemd import expand_exec, load_unit, parse_env_file, parse_unit, split_exec
from runbench.hostfs import HostFile
from runbench.snapshot import Fact, FileType

SECRET = "s3cr3t-Value-that-must-not-leak-4242"


def write(root: Path, rel: str, text: str, mode: int | None = None) -> Path:
    path = root / rel.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


# --- systemd ---------------------------------------------------------------------------------------


def test_parse_unit_sections_comments_and_continuations() -> None:
    text = (
        "[Unit]\nDescription=Docker\n# ExecStart=/not/this\n[Service]\n"
        "ExecStart=/usr/bin/dockerd \\\n  -H fd:// \\\n# a comment inside is skipped\n  --debug\n"
        "; ExecStart=/nor/this\nEnvironment=A=1\n"
    )
    got = [(a.section, a.key, a.value, a.line) for a in parse_unit(text)]
    assert got == [
        ("Unit", "Description", "Docker", 2),
        ("Service", "ExecStart", "/usr/bin/dockerd  -H fd://  --debug", 5),
        ("Service", "Environment", "A=1", 10),
    ]


def test_split_exec_and_systemd_variable_expansion() -> None:
    assert split_exec("-/usr/bin/dockerd -H fd://") == ("-", "/usr/bin/dockerd -H fd://")
    assert split_exec("!!/usr/bin/x") == ("!!", "/usr/bin/x")
    env = {"DOCKER_OPTS": "--debug  --icc=false", "ROOT": "/srv/docker"}
    argv, undefined = expand_exec('/usr/bin/dockerd $DOCKER_OPTS --data-root=${ROOT} "$DOCKER_OPTS" $MISSING', env)
    # a bare $VAR splits into words; ${VAR} is replaced inside its word; a quoted word stays one word
    assert argv == ("/usr/bin/dockerd", "--debug", "--icc=false", "--data-root=/srv/docker", "$DOCKER_OPTS")
    assert undefined == ("MISSING",)
    assert expand_exec("/bin/x $$HOME ${NOPE}x", {})[0] == ("/bin/x", "$HOME", "x")


def test_parse_env_file() -> None:
    text = (
        '# comment\n; another\nDOCKER_OPTS="--dns 8.8.8.8 --icc=false"\nexport HTTP_PROXY=http://p:3128\n'
        "SINGLE='a $b \\n'\nBARE=plain value  # trailing comment\nCONT=one\\\ntwo\nEMPTY=\n1BAD=x\n"
    )
    assert parse_env_file(text) == [
        ("DOCKER_OPTS", "--dns 8.8.8.8 --icc=false", 3),
        ("SINGLE", "a $b \\n", 5),
        ("BARE", "plain value", 6),
        ("CONT", "onetwo", 7),
        ("EMPTY", "", 9),
    ]


@pytest.fixture
def units(tmp_path: Path) -> HostRoot:
    """docker.service in /lib and overridden in /etc; drop-ins in three directories; docker.socket in /lib."""
    root = tmp_path
    write(root, "/lib/systemd/system/docker.service", "[Service]\nExecStart=/lib/dockerd\n")
    write(
        root,
        "/etc/systemd/system/docker.service",
        "[Service]\nEnvironmentFile=-/etc/default/docker\nEnvironmentFile=-/etc/default/missing\n"
        'Environment="A=1 2" B=3\nExecStart=/usr/bin/dockerd -H fd:// $DOCKER_OPTS\n',
    )
    # 10-tls.conf in /etc hides the one in /lib; all survivors apply in file-name order
    write(root, "/lib/systemd/system/docker.service.d/10-tls.conf", "[Service]\nExecStart=\nExecStart=/hidden\n")
    write(
        root,
        "/etc/systemd/system/docker.service.d/10-tls.conf",
        f"[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --tlsverify $DOCKER_OPTS ${{B}}\n"
        f"Environment=REGISTRY_PASSWORD={SECRET}\n",
    )
    write(root, "/run/systemd/system/docker.service.d/20-env.conf", "[Service]\nEnvironment=\nEnvironment=C=4\n")
    write(root, "/run/systemd/system/docker.service.d/notes.txt", "[Service]\nExecStart=/ignored\n")
    write(root, "/etc/default/docker", f'DOCKER_OPTS="--icc=false --debug"\nDB_PASSWORD={SECRET}\n')
    write(
        root,
        "/lib/systemd/system/docker.socket",
        "[Socket]\nListenStream=/old.sock\nListenStream=\nListenStream=/run/docker.sock\n"
        "ListenStream=127.0.0.1:2375\nSocketMode=0660\nSocketUser=root\nSocketGroup=docker\n",
    )
    return HostRoot(str(root))


def test_a_unit_with_drop_ins_in_systemd_precedence_order(units: HostRoot) -> None:
    unit = load_unit(units, "docker.service")
    assert unit.fragment_path == "/etc/systemd/system/docker.service"
    assert unit.dropins == (
        "/etc/systemd/system/docker.service.d/10-tls.conf",
        "/run/systemd/system/docker.service.d/20-env.conf",
    )
    # the drop-in's empty ExecStart= reset the unit's: one command, from the drop-in
    (command,) = unit.exec_start
    assert command.setting.source == "/etc/systemd/system/docker.service.d/10-tls.conf:3"
    # Environment= was reset by 20-env.conf; the EnvironmentFile still applies (and wins over Environment=)
    assert [(a.name, a.value) for a in unit.environment] == [("C", "4")]
    # ${B} is a word of its own: one (empty) argument even when B is set nowhere
    assert command.argv == ("/usr/bin/dockerd", "--tlsverify", "--icc=false", "--debug", "")
    assert command.undefined == ("B",)
    default, missing = unit.environment_files
    assert default.read and default.path == "/etc/default/docker" and default.optional
    assert default.named_by is not None and default.named_by.source == "/etc/systemd/system/docker.service:2"
    assert missing.missing and not missing.read and missing.why == ""
    assert SECRET not in repr(unit)
    env = unit.env()
    assert env["DOCKER_OPTS"].source == "/etc/default/docker:1"
    assert env["DB_PASSWORD"].value.startswith("s3…(")


def test_a_socket_unit_listen_streams_and_modes(units: HostRoot) -> None:
    unit = load_unit(units, "docker.socket")
    assert [s.value for s in unit.listen_streams] == ["/run/docker.sock", "127.0.0.1:2375"]
    assert unit.socket_mode is not None and unit.socket_mode.value == "0660"
    assert unit.socket_group is not None and unit.socket_group.source == "/lib/systemd/system/docker.socket:8"
    assert unit.files == ("/lib/systemd/system/docker.socket",)


def test_no_unit_and_a_masked_unit(tmp_path: Path) -> None:
    root = HostRoot(str(tmp_path))
    assert not load_unit(root, "docker.service").exists
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    os.symlink("/dev/null", tmp_path / "etc/systemd/system/docker.service")
    write(tmp_path, "/lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/bin/dockerd\n")
    unit = load_unit(root, "docker.service")
    assert unit.masked and unit.fragment_path == "/etc/systemd/system/docker.service" and not unit.exec_start


def test_a_unit_file_linked_into_another_unit_dir_is_read_inside_the_host_root(tmp_path: Path) -> None:
    write(tmp_path, "/lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/bin/dockerd --from-lib\n")
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    os.symlink("/lib/systemd/system/docker.service", tmp_path / "etc/systemd/system/docker.service")  # absolute
    unit = load_unit(HostRoot(str(tmp_path)), "docker.service")
    assert unit.fragment_path == "/etc/systemd/system/docker.service"
    assert unit.command is not None and unit.command.argv == ("/usr/bin/dockerd", "--from-lib")
    # a link out of the unit directories is not followed
    os.remove(tmp_path / "etc/systemd/system/docker.service")
    write(tmp_path, "/srv/docker.service", "[Service]\nExecStart=/evil\n")
    os.symlink("/srv/docker.service", tmp_path / "etc/systemd/system/docker.service")
    unit = load_unit(HostRoot(str(tmp_path)), "docker.service")
    assert not unit.exec_start and "not followed" in unit.unread[0]


# --- audit rules -----------------------------------------------------------------------------------


def test_audit_rules_in_both_forms() -> None:
    rules = [
        "-D",
        "-b 8192",
        "-w /usr/bin/dockerd -p rwxa -k docker",
        "-w /etc/docker -k docker",
        "-a always,exit -F path=/usr/bin/runc -F perm=wa -F key=docker",
        "-a exit,always -F dir=/var/lib/docker -F perm=w -k docker",
        "-a never,exit -F path=/usr/bin/containerd",
        "-a always,exit -F arch=b64 -S mount",
        "-w /etc/default/docker -k docker",
        "-W /etc/default/docker",
        "## a comment",
        "-w /run/containerd -k docker # trailing comment",
    ]
    watches = parse_audit_rules((r, f"docker.rules:{i}") for i, r in enumerate(rules, 1))
    got = [(w.path, w.perms, w.key, w.tree, w.source) for w in watches]
    assert got == [
        ("/usr/bin/dockerd", "rwxa", "docker", False, "docker.rules:3"),
        ("/etc/docker", "", "docker", False, "docker.rules:4"),
        ("/usr/bin/runc", "wa", "docker", False, "docker.rules:5"),
        ("/var/lib/docker", "w", "docker", True, "docker.rules:6"),
        ("/run/containerd", "", "docker", False, "docker.rules:12"),
    ]
    # -D deletes every rule loaded before it
    assert parse_audit_rules([("-w /a -k x", "f:1"), ("-D", "f:2"), ("-w /b -k x", "f:3")])[0].path == "/b"


def _rules_tree(root: Path) -> None:
    write(root, "/etc/audit/rules.d/10-base.rules", "-D\n-w /etc/docker -k docker\n")
    write(root, "/etc/audit/rules.d/20-docker.rules", "-w /usr/bin/dockerd -k docker\n")
    write(root, "/etc/audit/rules.d/README", "-w /not/a/rules/file -k x\n")
    write(root, "/etc/audit/audit.rules", "-D\n-a always,exit -F path=/usr/bin/runc -F perm=wa -k docker\n")
    (root / "etc/docker").mkdir(parents=True, exist_ok=True)


def test_audit_rules_from_the_files_when_auditctl_cannot_tell(tmp_path: Path) -> None:
    _rules_tree(tmp_path)
    facts = hostinfo._audit(HostRoot(str(tmp_path)), hostinfo._Auditctl(None, "auditctl -l needs root"), 1000)
    assert facts.source == "rule files" and not facts.why
    assert facts.files == (
        "/etc/audit/rules.d/10-base.rules",
        "/etc/audit/rules.d/20-docker.rules",
        "/etc/audit/audit.rules",
    )
    assert [(w.path, w.source, w.tree) for w in facts.watches] == [
        ("/etc/docker", "/etc/audit/rules.d/10-base.rules:2", True),  # a directory on the host: a tree watch
        ("/usr/bin/dockerd", "/etc/audit/rules.d/20-docker.rules:1", False),
        ("/usr/bin/runc", "/etc/audit/audit.rules:2", False),
    ]
    assert facts.notes == ("auditctl -l needs root",)


class DeniedAudit(HostRoot):
    """A host root where /etc/audit cannot be read (as for a user other than root)."""

    __slots__ = ()

    def scandir(self, host_path: str) -> list[os.DirEntry[str]]:
        if host_path.startswith("/etc/audit"):
            raise PermissionError(13, "Permission denied")
        return super().scandir(host_path)

    def read(self, host_path: str, **kw: Any) -> HostFile:
        if host_path.startswith("/etc/audit"):
            return HostFile(host_path, None, "cannot read: Permission denied")
        return super().read(host_path, **kw)


def test_unreadable_rules_as_non_root_say_run_as_root(tmp_path: Path) -> None:
    _rules_tree(tmp_path)
    facts = hostinfo._audit(DeniedAudit(str(tmp_path)), hostinfo._Auditctl(None, "auditctl -l needs root"), 1000)
    assert facts.source == "" and facts.why.startswith("run as root to read /etc/audit")
    assert "Permission denied" in facts.why


def test_no_auditd_at_all_is_no_rules(tmp_path: Path) -> None:
    facts = hostinfo._audit(HostRoot(str(tmp_path)), hostinfo._Auditctl(None, "auditctl is not installed"), 0)
    assert facts.source == "rule files" and facts.watches == () and not facts.why
    assert "auditd is not installed" in "; ".join(facts.notes)


def test_the_kernels_rules_from_auditctl(tmp_path: Path) -> None:
    out = (
        "-w /usr/bin/dockerd -p rwxa -k docker\n"
        "-a always,exit -S all -F path=/usr/bin/runc -F perm=rwxa -F key=docker\n"
    )
    proc = subprocess.Popen(["printf", "%s", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    facts = hostinfo._audit(HostRoot(str(tmp_path)), hostinfo._Auditctl(proc, ""), 0)
    assert facts.source == "auditctl -l"
    assert [(w.path, w.source) for w in facts.watches] == [
        ("/usr/bin/dockerd", "auditctl -l"),
        ("/usr/bin/runc", "auditctl -l"),
    ]
    failing = subprocess.Popen(
        ["sh", "-c", "echo 'Error sending rule list data request (Operation not permitted)' >&2; exit 1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _rules_tree(tmp_path)
    facts = hostinfo._audit(HostRoot(str(tmp_path)), hostinfo._Auditctl(failing, ""), 0)
    assert facts.source == "rule files"  # EPERM is not an error of the rules: the files tell
    assert "Operation not permitted" in facts.notes[0]


def test_audit_targets_in_a_host_root(tmp_path: Path) -> None:
    for rel in ("/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/sbin/runc", "/etc/default/docker"):
        write(tmp_path, rel, "")
    (tmp_path / "run/containerd").mkdir(parents=True)
    root = HostRoot(str(tmp_path))
    targets = {
        t.name: t
        for t in hostinfo.audit_targets(root, engine(root_dir="/var/lib/docker"), None, (), hostinfo.Containerd())
    }
    assert len(targets) == 16
    assert (targets["dockerd"].path, targets["dockerd"].exists) == ("/usr/sbin/dockerd", True)
    assert (targets["runc"].path, targets["runc"].exists) == ("/usr/sbin/runc", True)
    assert (targets["containerd_shim"].path, targets["containerd_shim"].exists) == ("/usr/bin/containerd-shim", False)
    assert targets["run_containerd"].exists and not targets["var_lib_docker"].exists
    assert targets["docker_service"].path == "/lib/systemd/system/docker.service"
    assert targets["docker_service"].found_by == "no docker.service unit file found"


# --- mounts ----------------------------------------------------------------------------------------

MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
42 27 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw
43 27 253:3 / /var/lib/containerd rw,relatime shared:2 master:1 - xfs /dev/mapper/vg-containerd rw
44 27 253:4 / /srv/with\\040space rw - ext4 /dev/vdb rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw
"""


def test_parse_mountinfo() -> None:
    mounts = parse_mountinfo(MOUNTINFO + "garbage line\n")
    assert len(mounts) == 5
    assert mounts[2] == MountEntry(43, 27, "253:3", "/", "/var/lib/containerd", "xfs", "/dev/mapper/vg-containerd")
    assert mounts[3].mount_point == "/srv/with space"
    assert hostinfo.cgroup_version(mounts) == "2"
    hybrid = parse_mountinfo(
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    )
    assert hostinfo.cgroup_version(hybrid) == "hybrid"


def test_which_mount_holds_a_data_root(tmp_path: Path) -> None:
    for d in ("var/lib/docker", "var/lib/containerd/io", "srv/data"):
        (tmp_path / d).mkdir(parents=True)
    # mountinfo as seen with the host's / at tmp_path (a recursive bind mount)
    lines = [line.split(" ") for line in MOUNTINFO.splitlines()]
    for fields in lines:
        fields[4] = str(tmp_path) + ("" if fields[4] == "/" else fields[4])
    mounts = parse_mountinfo("\n".join(" ".join(f) for f in lines))
    root = HostRoot(str(tmp_path))
    bind = path_mount(root, mounts, "Docker root", "/var/lib/docker", "test")
    assert bind.mount_point == "/var/lib/docker" and bind.root == "/var/lib/docker"
    assert not bind.own_filesystem  # a bind mount of the root filesystem's own directory
    own = path_mount(root, mounts, "containerd root", "/var/lib/containerd", "test")
    assert own.own_filesystem and own.fs_type == "xfs" and own.parent_device == "254:0"
    below = path_mount(root, mounts, "Docker root", "/srv/data", "test")
    assert below.mount_point == "/" and not below.own_filesystem
    assert not path_mount(root, mounts, "Docker root", "/nowhere", "test").exists


def test_docker_root_under_userns_remap_is_its_parent() -> None:
    remapped = engine(root_dir="/var/lib/docker/100000.100000", security_options=("name=userns",))
    assert docker_root(remapped)[0] == "/var/lib/docker"
    assert docker_root(engine(root_dir="/var/lib/docker"))[0] == "/var/lib/docker"
    assert docker_root(engine(root_dir="/srv/100000.100000"))[0] == "/srv/100000.100000"  # no userns: as is


def test_containerd_root_of_its_config() -> None:
    assert containerd_root_of('version = 2\nroot = "/srv/containerd"\n[plugins]\nroot = "/x"\n') == "/srv/containerd"
    assert containerd_root_of("version = 2\n[grpc]\n  root = '/x'\n") == ""
    assert containerd_root_of("root = '/single'\n") == "/single"


# --- groups ----------------------------------------------------------------------------------------


def test_group_members_listed_and_primary(tmp_path: Path) -> None:
    passwd = parse_passwd(
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/h:/bin/sh\nci:x:1001:999::/h:/bin/sh\n+nis\nbad:x:y:1\n"
    )
    groups = parse_group("root:x:0:\ndocker:x:999:alice,bob, alice\nadm:x:4:eve\ndockerusers:x:998:dave\n#x:1:2:\n")
    assert [a.name for a in passwd] == ["root", "alice", "ci"]
    assert [(g.name, g.members) for g in groups][1] == ("docker", ("alice", "bob", "alice"))
    sock = tmp_path / "run/docker.sock"
    sock.parent.mkdir()
    sock.write_text("")
    if os.geteuid() == 0:
        os.chown(sock, 0, 4)
    found = engine_groups(HostRoot(str(tmp_path)), Accounts(passwd, groups), "dockerusers", ["/run/docker.sock"])
    by_name = {g.name: g for g in found}
    assert by_name["docker"].members == ("alice", "bob") and by_name["docker"].primary == ("ci",)
    assert by_name["docker"].everyone == ("alice", "bob", "ci")
    assert by_name["dockerusers"].reasons == ("the daemon's socket group (--group dockerusers)",)
    if os.geteuid() == 0:
        assert by_name["adm"].reasons == ("group of /run/docker.sock",)
    assert found[0].name == "docker"


# --- listings and the host root ---------------------------------------------------------------------


def test_certs_d_listing(tmp_path: Path) -> None:
    write(tmp_path, "/etc/docker/certs.d/reg:5000/ca.crt", "x")
    write(tmp_path, "/etc/docker/certs.d/reg:5000/client.key", "x")
    write(tmp_path, "/etc/docker/certs.d/deep/a/b/c/too-deep.crt", "x")
    os.symlink("/etc/ssl/ca.pem", tmp_path / "etc/docker/certs.d/reg:5000/link.crt")
    root = HostRoot(str(tmp_path))
    listing = list_files(root, "/etc/docker/certs.d")
    assert listing.exists and listing.files == (
        "/etc/docker/certs.d/reg:5000/ca.crt",
        "/etc/docker/certs.d/reg:5000/client.key",
        "/etc/docker/certs.d/reg:5000/link.crt",
    )
    assert "deeper than 3 levels" in listing.why
    capped = list_files(root, "/etc/docker/certs.d", max_files=1)
    assert capped.truncated and len(capped.files) == 1
    assert not list_files(root, "/etc/docker/nothing").exists


def test_host_root_resolves_absolute_links_inside_the_root(tmp_path: Path) -> None:
    write(tmp_path, "/run/docker.sock", "")
    write(tmp_path, "/usr/lib/os-release", 'PRETTY_NAME="Host OS 1"\n')
    (tmp_path / "var").mkdir()
    (tmp_path / "etc").mkdir()
    os.symlink("/run", tmp_path / "var/run")
    os.symlink("../usr/lib/os-release", tmp_path / "etc/os-release")
    os.symlink("/etc/shadow", tmp_path / "etc/escape")
    root = HostRoot(str(tmp_path))
    assert root.resolve("/var/run/docker.sock") == "/run/docker.sock"
    assert root.local("/var/run/docker.sock") == f"{tmp_path}/run/docker.sock"
    assert root.read("/etc/os-release", within="/usr/lib").text == 'PRETTY_NAME="Host OS 1"\n'
    escaped = root.read("/etc/escape", within="/usr/lib")
    assert escaped.text is None and "not followed" in escaped.why
    assert root.read("/etc/nothing").missing
    loop = tmp_path / "loop"
    os.symlink("/loop", loop)
    assert root.resolve("/loop/x") is None


# --- the whole collection ---------------------------------------------------------------------------

INFO = {
    "Name": "enginehost",
    "ID": "X",
    "ServerVersion": "20.10.24+dfsg1",
    "DockerRootDir": "/var/lib/docker",
    "SecurityOptions": ["name=seccomp,profile=default"],
    "Swarm": {"LocalNodeState": "inactive"},
    "OperatingSystem": "FakeOS",
    "KernelVersion": "6.1",
}


class FakeAPI:
    def version(self) -> dict[str, Any]:
        return {"Version": "20.10.24+dfsg1", "ApiVersion": "1.41"}

    def info(self) -> dict[str, Any]:
        return INFO

    def containers(self, labels: tuple[str, ...] = ()) -> list[Any]:
        return []

    def images(self) -> list[Any]:
        return []

    def networks(self) -> list[Any]:
        return []


def _file_paths(snapshot: Any) -> list[str]:
    from runbench.authoring import Context
    from runbench.catalog import load_catalog

    return sorted(load_catalog().file_paths(Context(snapshot)))


def test_collect_with_a_host_root_reads_the_hosts_files_there(tmp_path: Path) -> None:
    write(tmp_path, "/usr/lib/os-release", 'PRETTY_NAME="The Host"\n')
    (tmp_path / "etc").mkdir(exist_ok=True)
    os.symlink("../usr/lib/os-release", tmp_path / "etc/os-release")
    write(tmp_path, "/etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:999::/h:/bin/sh\n")
    write(tmp_path, "/etc/group", "root:x:0:\ndocker:x:999:bob\n")
    write(tmp_path, "/lib/systemd/system/docker.socket", "[Socket]\nListenStream=/run/docker.sock\n")
    write(tmp_path, "/etc/docker/daemon.json", "{}\n", 0o646)
    write(tmp_path, "/etc/audit/rules.d/docker.rules", "-w /etc/docker -k docker\n")
    req = CollectRequest(docker_host="tcp://10.0.0.5:2376", host_root=str(tmp_path))
    snap = collect(req, api=FakeAPI(), file_paths=_file_paths)
    h = snap.host
    assert h is not None and h.local and h.host_root == str(tmp_path) and h.os == "The Host"
    assert h.systemd is not None and h.unit("docker.socket") is not None
    assert [g.everyone for g in h.groups or ()] == [("alice", "bob")]
    assert h.audit is not None and [w.path for w in h.audit.watches] == ["/etc/docker"]
    files = {f.path: f for f in snap.files or ()}
    assert files["/etc/docker/daemon.json"].mode == 0o646 and files["/etc/docker/daemon.json"].owner == "root"
    assert files["/run/docker.sock"].type is FileType.MISSING
    assert not [e for e in snap.errors if e.fact in (Fact.HOST, Fact.FILES)]


def test_collect_of_a_remote_engine_skips_the_host_and_its_files() -> None:
    from runbench.catalog import load_catalog
    from runbench.engine import evaluate
    from runbench.policy import Policy

    snap = collect(CollectRequest(docker_host="tcp://10.0.0.5:2376"), api=FakeAPI(), file_paths=_file_paths)
    assert snap.host is not None and not snap.host.local and snap.host.systemd is None
    report = evaluate(load_catalog(), snap, Policy())
    for f in report.findings:
        if f.check.scope.value in ("host", "file") and f.check.id != "host.docker_version":
            assert f.status.value == "skip", (f.check.id, f.status, f.detail)
            assert f.detail.startswith("not this machine"), f.detail
    version = next(f for f in report.findings if f.check.id == "host.docker_version")
    assert version.status.value == "fail"  # judged from what the engine reports, wherever it runs


def test_host_facts_round_trip_through_a_snapshot() -> None:
    from builders import hardened_host, snapshot

    from runbench.snapshot import Snapshot

    snap = snapshot(host=hardened_host())
    again = Snapshot.loads(snap.dumps())
    assert again.host == snap.host
    old = Snapshot.loads(snapshot().dumps())  # an older snapshot: the new host facts are None, not empty
    assert old.host is not None and old.host.audit is None and old.host.systemd is None
    assert "not collected" in old.host.why("audit")


def test_secrets_in_units_are_redacted(tmp_path: Path) -> None:
    write(
        tmp_path,
        "/lib/systemd/system/docker.service",
        f"[Service]\nEnvironment=HTTPS_PROXY=http://bob:{SECRET}@proxy:3128 API_TOKEN={SECRET}\n"
        f"ExecStart=/usr/bin/dockerd --registry-mirror=https://bob:{SECRET}@mirror.example\n",
    )
    unit = load_unit(HostRoot(str(tmp_path)), "docker.service")
    text = repr(unit)
    assert SECRET not in text and SECRET[:8] not in text
    assert unit.command is not None and unit.command.argv[1].startswith("--registry-mirror=https://bob:")
    assert {a.name: a.value for a in unit.environment}["HTTPS_PROXY"] == "http://bob:***@proxy:3128"


def test_the_host_root_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runbench.cli import build_parser, main

    args = build_parser().parse_args(["scan", "--host-root", str(tmp_path / ".")])
    assert args.host_root == str(tmp_path)
    assert build_parser().parse_args(["collect"]).host_root is None
    assert main(["scan", "--host-root", str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err
