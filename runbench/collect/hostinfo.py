"""What the host says about Docker, for the host and file checks (CIS sections 1 and 3): audit rules, the
systemd units, /etc/default/docker and /etc/sysconfig/docker, the mounts holding the Docker and containerd
roots, who is in the groups that can drive the engine, the active kernel security modules, the cgroup version,
and the files under /etc/docker/certs.d.

Reads only. Every host file goes through runbench.hostfs (HostRoot: below --host-root when given; each file
once); the only command run is `auditctl -l` (as root, with a timeout), started first and collected last.
What could not be read is said in the facts (`HostFacts.unread`, `AuditFacts.why`), never guessed.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from runbench import daemonconfig
from runbench.collect.host import (
    Accounts,
    DaemonJson,
    HostRoot,
    read_accounts,
)
from runbench.collect.proc import ProcessTable, exe_path
from runbench.collect.systemd import load_unit, read_env_file
from runbench.hostfs import MIB
from runbench.semantics import DEFAULT_DAEMON_JSON, DEFAULT_DOCKER_SOCKET, norm_path
from runbench.snapshot import (
    AuditFacts,
    AuditTarget,
    AuditWatch,
    DaemonFacts,
    DirListing,
    EngineFacts,
    GroupFacts,
    HostFacts,
    PathMount,
    SystemdUnit,
)

AUDITCTL_TIMEOUT = 3.0
AUDIT_DIR = "/etc/audit"
AUDIT_RULES_D = "/etc/audit/rules.d"
AUDIT_RULES = "/etc/audit/audit.rules"
RULES_CAP = 4 * MIB
MOUNTINFO_CAP = 64 * MIB
SMALL_CAP = 64 * 1024
CERTS_D = "/etc/docker/certs.d"
CERTS_MAX_FILES = 1000
CERTS_MAX_DEPTH = 3
DEFAULT_FILES = ("/etc/default/docker", "/etc/sysconfig/docker")
UNITS = ("docker.service", "docker.socket")
DEFAULT_CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
DEFAULT_CONTAINERD_CONFIG = "/etc/containerd/config.toml"
DEFAULT_CONTAINERD_ROOT = "/var/lib/containerd"
DEFAULT_UNIT_DIR = "/lib/systemd/system"
BIN_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin")
_USERNS_SUFFIX = re.compile(r"\d+\.\d+\Z")


def host_details(
    host: HostFacts,
    engine: EngineFacts,
    daemon: DaemonFacts | None,
    daemon_json: DaemonJson,
    table: ProcessTable,
) -> HostFacts:
    """`host` with everything the host and file checks read (the engine's host; below `host.host_root`)."""
    root = HostRoot(host.host_root or "/")
    euid = os.geteuid()
    unread: dict[str, str] = {}
    auditctl = _start_auditctl(euid)
    units = tuple(load_unit(root, name) for name in UNITS)
    defaults = tuple(read_env_file(root, path, optional=True, named_by=None) for path in DEFAULT_FILES)
    mounts, mount_why = read_mountinfo()
    containerd = _containerd(table, root)
    data_mounts: tuple[PathMount, ...] | None = None
    cgroup = cgroup_version(mounts) if mounts is not None else None
    if mounts is None:
        unread["data_mounts"] = unread["cgroup_version"] = mount_why
    else:
        data_mounts = tuple(_data_mounts(root, mounts, engine, containerd))
    accounts = read_accounts(root)
    groups: tuple[GroupFacts, ...] | None = None
    if accounts.why:
        unread["groups"] = accounts.why
    else:
        groups = engine_groups(root, accounts, _group_setting(daemon, daemon_json), _sockets(daemon, units))
    lsms, lsm_why = _lsms(root)
    if lsm_why:
        unread["lsms"] = lsm_why  # None: unknown; a tuple with a note: only part of the modules can be told
    targets = tuple(audit_targets(root, engine, daemon, units, containerd))
    audit = _audit(root, auditctl, euid)
    return replace(
        host,
        host_root=root.path,
        euid=euid,
        lsms=lsms,
        cgroup_version=cgroup,
        systemd=units,
        default_files=defaults,
        audit=audit,
        audit_targets=targets,
        data_mounts=data_mounts,
        groups=groups,
        registry_certs=list_files(root, CERTS_D),
        unread=unread,
    )


# --- audit rules ------------------------------------------------------------------------------------


def parse_audit_rules(lines: Iterable[tuple[str, str]]) -> list[AuditWatch]:
    """The file and directory watches of audit rules, given as (rule, source) pairs in load order: `-w PATH
    [-p PERMS] [-k KEY]` and `-a always,exit ... -F path=PATH | -F dir=PATH [-F perm=...] [-F key=... | -k
    KEY]`. `-D` deletes what came before, `-W PATH` a watch of PATH; `never` rules and other rules are no
    watches."""
    watches: list[AuditWatch] = []
    for rule, source in lines:
        text = rule.strip()
        if not text or text.startswith("#"):
            continue
        words = _audit_words(text)
        if not words:
            continue
        head = words[0]
        if head == "-D":
            watches.clear()
            continue
        if head in ("-W", "-d"):
            gone = _watch_of(words, text, source)
            if gone is not None:
                watches = [w for w in watches if w.path != gone.path]
            continue
        watch = _watch_of(words, text, source)
        if watch is not None:
            watches.append(watch)
    return watches


def _audit_words(text: str) -> list[str]:
    words = []
    for word in text.split():
        if word.startswith("#"):
            break
        words.append(word.strip("\"'"))
    return words


def _options(words: list[str]) -> Iterator[tuple[str, str]]:
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-") and len(word) == 2 and i + 1 < len(words):
            yield word, words[i + 1]
            i += 2
        elif word.startswith("-") and len(word) > 2 and not word.startswith("--"):
            yield word[:2], word[2:]
            i += 1
        else:
            i += 1


def _watch_of(words: list[str], text: str, source: str) -> AuditWatch | None:
    opts = list(_options(words))
    kind = words[0][:2]
    key = next((v for o, v in opts if o == "-k"), "")
    perms = next((v for o, v in opts if o == "-p"), "")
    if kind in ("-w", "-W"):
        path = next((v for o, v in opts if o in ("-w", "-W")), "")
        return AuditWatch(path=path, perms=perms, key=key, rule=text, source=source) if path else None
    if kind not in ("-a", "-A", "-d"):
        return None
    action = next((v for o, v in opts if o in ("-a", "-A", "-d")), "")
    if "never" in action.split(",") or "exit" not in action.split(","):
        return None
    fields = dict(v.split("=", 1) for o, v in opts if o == "-F" and "=" in v)
    path, tree = fields.get("path", ""), False
    if not path and fields.get("dir"):
        path, tree = fields["dir"], True
    if not path:
        return None
    return AuditWatch(
        path=path,
        perms=fields.get("perm", perms),
        key=fields.get("key", key),
        rule=text,
        source=source,
        tree=tree,
    )


def _auditctl_binary() -> str | None:
    search = os.pathsep.join(["/usr/sbin", "/sbin", os.environ.get("PATH", ""), "/usr/bin", "/bin"])
    return shutil.which("auditctl", path=search)


@dataclass(slots=True)
class _Auditctl:
    proc: subprocess.Popen[str] | None
    why: str  # why it was not run, or ""


def _start_auditctl(euid: int) -> _Auditctl:
    """Start `auditctl -l` (the kernel's rules; it needs root) without waiting for it."""
    if euid != 0:
        return _Auditctl(None, "auditctl -l needs root")
    binary = _auditctl_binary()
    if binary is None:
        return _Auditctl(None, "auditctl is not installed")
    try:
        proc = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell
            [binary, "-l"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env={"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    except OSError as exc:
        return _Auditctl(None, f"auditctl -l could not be run: {exc.strerror or exc}")
    return _Auditctl(proc, "")


def _finish_auditctl(run: _Auditctl) -> tuple[str | None, str]:
    """auditctl's output, or why there is none."""
    if run.proc is None:
        return None, run.why
    try:
        out, err = run.proc.communicate(timeout=AUDITCTL_TIMEOUT)
    except subprocess.TimeoutExpired:
        run.proc.kill()
        run.proc.communicate()
        return None, f"auditctl -l did not answer within {AUDITCTL_TIMEOUT:g} s"
    if run.proc.returncode != 0:
        first = next((line.strip() for line in (err or out).splitlines() if line.strip()), "")
        return None, f"auditctl -l failed (exit {run.proc.returncode}){': ' + first[:200] if first else ''}"
    return out[:RULES_CAP], ""


def _audit(root: HostRoot, auditctl: _Auditctl, euid: int) -> AuditFacts:
    """The kernel's rules when auditctl can tell them; else the rule files (augenrules' rules.d in file-name
    order, and audit.rules)."""
    out, why = _finish_auditctl(auditctl)
    if out is not None:
        lines = [(line, "auditctl -l") for line in out.splitlines() if line.strip() != "No rules"]
        return AuditFacts(source="auditctl -l", watches=_resolved(root, parse_audit_rules(lines)))
    notes = [why]
    files: list[str] = []
    unreadable: list[str] = []
    rules_d: list[str] = []
    try:
        rules_d = sorted(f"{AUDIT_RULES_D}/{e.name}" for e in root.scandir(AUDIT_RULES_D) if e.name.endswith(".rules"))
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as exc:
        unreadable.append(f"{AUDIT_RULES_D}: {exc.strerror or exc}")
    watches: list[AuditWatch] = []
    stream: list[tuple[str, str]] = []
    for path in rules_d:  # augenrules concatenates them into one rule set
        found = root.read(path, max_bytes=RULES_CAP, errors="replace")
        if found.text is None:
            if not found.missing:
                unreadable.append(f"{path}: {found.why}")
            continue
        files.append(path)
        stream.extend((line, f"{path}:{n}") for n, line in enumerate(found.text.splitlines(), 1))
    watches.extend(parse_audit_rules(stream))
    found = root.read(AUDIT_RULES, max_bytes=RULES_CAP, errors="replace")
    if found.text is not None:
        files.append(AUDIT_RULES)
        numbered = [(line, f"{AUDIT_RULES}:{n}") for n, line in enumerate(found.text.splitlines(), 1)]
        watches.extend(parse_audit_rules(numbered))
    elif not found.missing:
        unreadable.append(f"{AUDIT_RULES}: {found.why}")
    if unreadable and not files:
        denied = any("ermission denied" in u for u in unreadable)
        hint = f"run as root to read {AUDIT_DIR}" if denied or euid != 0 else f"cannot read {AUDIT_DIR}"
        return AuditFacts(source="", notes=tuple(notes), why=f"{hint} ({'; '.join(unreadable)}; {why})")
    if not files and not _exists(root, AUDIT_DIR):
        notes.append(f"no {AUDIT_DIR}: auditd is not installed")
    notes.extend(unreadable)
    return AuditFacts(
        source="rule files", watches=_resolved(root, watches), files=tuple(files), notes=tuple(n for n in notes if n)
    )


def _resolved(root: HostRoot, watches: Iterable[AuditWatch]) -> tuple[AuditWatch, ...]:
    """Each watch with its real path on the host, and whether it covers a whole tree (a -w on a directory)."""
    out = []
    for w in watches:
        real = root.resolve(w.path) if w.path.startswith("/") else None
        tree = w.tree
        if not tree and w.rule.startswith("-w") and real:
            tree = _is_dir(root, real)
        out.append(replace(w, real=real or "", tree=tree))
    return tuple(out)


def _exists(root: HostRoot, path: str) -> bool:
    try:
        root.lstat(path)
    except OSError:
        return False
    return True


def _is_dir(root: HostRoot, path: str) -> bool:
    try:
        return stat.S_ISDIR(root.lstat(path).st_mode)
    except OSError:
        return False


# --- what the audit rules should watch (CIS 1.1.3-1.1.18) -------------------------------------------


@dataclass(frozen=True, slots=True)
class Containerd:
    """The containerd serving the engine, as far as it is visible: its executable, config file and root."""

    exe: str = ""
    config: str = DEFAULT_CONTAINERD_CONFIG
    root: str = DEFAULT_CONTAINERD_ROOT
    found_by: str = "containerd's default"


def _flag(argv: tuple[str, ...], *names: str) -> str:
    value = ""
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                value = argv[i + 1]
            elif arg.startswith(name + "="):
                value = arg.split("=", 1)[1]
    return value


_TOML_ROOT = re.compile(r"""^\s*root\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def containerd_root_of(config_text: str) -> str:
    """The top-level `root = "..."` of a containerd config.toml ("" when it sets none)."""
    for line in config_text.splitlines():
        if line.lstrip().startswith("["):
            break
        m = _TOML_ROOT.match(line)
        if m:
            return m.group(1) if m.group(1) is not None else m.group(2)
    return ""


def _containerd(table: ProcessTable, root: HostRoot) -> Containerd:
    """The system containerd (not one a dockerd starts and supervises itself, whose config dockerd writes at
    each start under its exec root): argv --root / --config, else its config file's root, else the defaults."""
    pids = sorted(pid for pid, p in table.procs.items() if p.name == "containerd" or p.exe == "containerd")
    dockerds = {pid for pid, p in table.procs.items() if p.name == "dockerd" or p.exe == "dockerd"}
    system = [pid for pid in pids if table.parent.get(pid) not in dockerds]
    pid = system[0] if system else None
    argv = table.cmdline.get(pid, ()) if pid is not None else ()
    config = _flag(argv, "--config", "-c") or DEFAULT_CONTAINERD_CONFIG
    exe = exe_path(pid if pid is not None else pids[0]) if pids else ""
    if flag_root := _flag(argv, "--root"):
        return Containerd(exe, config, flag_root, f"containerd pid {pid} --root")
    found = root.read(config, max_bytes=SMALL_CAP * 4, within=os.path.dirname(config), errors="replace")
    if found.text is not None and (configured := containerd_root_of(found.text)):
        return Containerd(exe, config, configured, f"root in {config}")
    return Containerd(exe, config)


def _binary(root: HostRoot, name: str, exe: str = "", how: str = "") -> tuple[str, str]:
    """Where the binary `name` is on the host: the running process's executable when it exists there, else the
    first of the usual directories holding it, else /usr/bin/NAME (missing)."""
    if exe and _exists(root, exe):
        return exe, how
    seen: set[str] = set()
    for directory in BIN_DIRS:
        path = f"{directory}/{name}"
        real = root.resolve(path) or path
        if real in seen:
            continue
        seen.add(real)
        if _exists(root, path):
            return path, f"found in {directory}"
    return f"/usr/bin/{name}", "not found in " + ", ".join(BIN_DIRS)


def docker_root(engine: EngineFacts) -> tuple[str, str]:
    """Docker's data root and how it was found: DockerRootDir, or its parent under userns-remap (where the
    engine reports /var/lib/docker/<uid>.<gid>)."""
    path = engine.root_dir
    if not path:
        return "", ""
    base = os.path.basename(path.rstrip("/"))
    if engine.userns_remap and _USERNS_SUFFIX.match(base):
        return os.path.dirname(path.rstrip("/")), f"docker info DockerRootDir {path} (userns-remap: its parent)"
    return path, "docker info DockerRootDir"


def _unit_path(units: Iterable[SystemdUnit], name: str) -> tuple[str, str]:
    unit = next((u for u in units if u.name == name), None)
    if unit is not None and unit.fragment_path:
        return unit.fragment_path, f"{name} FragmentPath"
    return f"{DEFAULT_UNIT_DIR}/{name}", f"no {name} unit file found"


def _containerd_socket(daemon: DaemonFacts | None) -> str:
    if daemon is not None and daemon.verified is True:
        return _flag(daemon.argv, "--containerd") or DEFAULT_CONTAINERD_SOCKET
    return DEFAULT_CONTAINERD_SOCKET


def audit_targets(
    root: HostRoot,
    engine: EngineFacts,
    daemon: DaemonFacts | None,
    units: Iterable[SystemdUnit],
    containerd: Containerd,
) -> Iterator[AuditTarget]:
    """The files and directories CIS 1.1.3-1.1.18 want watched, where they are on this host."""
    units = tuple(units)
    dockerd_exe = exe_path(daemon.pid) if daemon is not None and daemon.verified is True and daemon.pid else ""
    data_root, data_how = docker_root(engine)
    daemon_json = daemon.config_file if daemon is not None and daemon.config_file else DEFAULT_DAEMON_JSON
    pid_how = f"dockerd pid {daemon.pid}'s executable" if daemon is not None else ""
    wanted: list[tuple[str, tuple[str, str]]] = [
        ("dockerd", _binary(root, "dockerd", dockerd_exe, pid_how)),
        ("run_containerd", ("/run/containerd", "containerd's state directory")),
        ("var_lib_docker", (data_root or "/var/lib/docker", data_how or "Docker's default data root")),
        ("etc_docker", ("/etc/docker", "Docker's configuration directory")),
        ("docker_service", _unit_path(units, "docker.service")),
        ("containerd_sock", (_containerd_socket(daemon), "dockerd --containerd, or containerd's default")),
        ("docker_sock", _unit_path(units, "docker.socket")),
        ("etc_default_docker", ("/etc/default/docker", "")),
        ("daemon_json", (daemon_json, "the daemon's --config-file" if daemon_json != DEFAULT_DAEMON_JSON else "")),
        ("containerd_config", (containerd.config, "")),
        ("etc_sysconfig_docker", ("/etc/sysconfig/docker", "")),
        ("containerd_bin", _binary(root, "containerd", containerd.exe, "the running containerd's executable")),
        ("containerd_shim", _binary(root, "containerd-shim")),
        ("containerd_shim_runc_v1", _binary(root, "containerd-shim-runc-v1")),
        ("containerd_shim_runc_v2", _binary(root, "containerd-shim-runc-v2")),
        ("runc", _binary(root, "runc")),
    ]
    for name, (path, how) in wanted:
        try:
            root.lstat(path)
            exists: bool | None = True
            why = ""
        except (FileNotFoundError, NotADirectoryError):
            exists, why = False, ""
        except OSError as exc:
            exists, why = None, f"cannot tell whether {path} exists: {exc.strerror or exc}"
        yield AuditTarget(name=name, path=path, exists=exists, real=root.resolve(path) or "", found_by=how, why=why)


# --- mounts -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MountEntry:
    """One line of /proc/self/mountinfo."""

    mount_id: int
    parent_id: int
    device: str  # major:minor
    root: str  # the mount's root inside its filesystem
    mount_point: str
    fs_type: str
    source: str


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(text: str) -> str:
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), text)


def parse_mountinfo(text: str) -> list[MountEntry]:
    """/proc/<pid>/mountinfo (proc(5)): `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
    SUPEROPTIONS`, octal escapes (\\040) decoded; malformed lines skipped."""
    out = []
    for line in text.splitlines():
        fields = line.split(" ")
        try:
            sep = fields.index("-", 6)
            out.append(
                MountEntry(
                    mount_id=int(fields[0]),
                    parent_id=int(fields[1]),
                    device=fields[2],
                    root=_unescape(fields[3]),
                    mount_point=_unescape(fields[4]),
                    fs_type=fields[sep + 1],
                    source=_unescape(fields[sep + 2]) if len(fields) > sep + 2 else "",
                )
            )
        except (ValueError, IndexError):
            continue
    return out


def read_mountinfo(path: str = "/proc/self/mountinfo") -> tuple[list[MountEntry] | None, str]:
    """This process's mount table: with --host-root the host's mounts appear below the host root (a recursive
    bind mount of the host's /)."""
    from runbench.hostfs import read_host_file

    found = read_host_file(path, max_bytes=MOUNTINFO_CAP, errors="surrogateescape")
    if found.text is None:
        return None, f"cannot read {path}: {found.why}"
    return parse_mountinfo(found.text), ""


def _under(path: str, mount_point: str) -> bool:
    return mount_point == "/" or path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def mount_of(mounts: list[MountEntry], path: str) -> MountEntry | None:
    """The mount holding local path `path`: the longest mount point above it, the last mounted when stacked."""
    best: MountEntry | None = None
    for m in mounts:
        if _under(path, m.mount_point) and (best is None or len(m.mount_point) >= len(best.mount_point)):
            best = m
    return best


def path_mount(root: HostRoot, mounts: list[MountEntry], role: str, path: str, how: str) -> PathMount:
    """Which mount holds host path `path` (resolved inside the host root), and the device below it."""
    real = root.resolve(path) or path
    if not _exists(root, real):
        return PathMount(role=role, path=path, found_by=how, exists=False)
    local = root.local(real)
    holder = mount_of(mounts, local)
    if holder is None:
        return PathMount(role=role, path=path, found_by=how)
    mount_point = _host_path(root, holder.mount_point)
    parent_device = ""
    if mount_point != "/":
        below = mount_of([m for m in mounts if m.mount_id != holder.mount_id], os.path.dirname(holder.mount_point))
        parent_device = below.device if below is not None else ""
    return PathMount(
        role=role,
        path=real,
        found_by=how if real == path else f"{how}; {path} resolves to {real}",
        mount_point=mount_point,
        fs_type=holder.fs_type,
        source=holder.source,
        device=holder.device,
        root=holder.root,
        parent_device=parent_device,
    )


def _host_path(root: HostRoot, local: str) -> str:
    if root.is_host:
        return local
    if local == root.path or not local.startswith(root.path.rstrip("/") + "/"):
        return "/"  # the host root itself, or a mount above it: the host's /
    return local[len(root.path.rstrip("/")) :]


def _data_mounts(
    root: HostRoot, mounts: list[MountEntry], engine: EngineFacts, containerd: Containerd
) -> Iterator[PathMount]:
    data_root, how = docker_root(engine)
    if data_root:
        yield path_mount(root, mounts, "Docker root", data_root, how)
    yield path_mount(root, mounts, "containerd root", containerd.root, containerd.found_by)


def cgroup_version(mounts: list[MountEntry]) -> str:
    """ "2" (cgroup2 at /sys/fs/cgroup), "hybrid" (v1 with the unified v2 hierarchy) or "1"."""
    by_point = {m.mount_point: m.fs_type for m in mounts}
    top = by_point.get("/sys/fs/cgroup", "")
    if top == "cgroup2":
        return "2"
    if by_point.get("/sys/fs/cgroup/unified") == "cgroup2":
        return "hybrid"
    if top or any(m.fs_type == "cgroup" for m in mounts):
        return "1"
    return "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"


# --- kernel security modules ------------------------------------------------------------------------


def _lsms(root: HostRoot) -> tuple[tuple[str, ...] | None, str]:
    """The active LSMs (/sys/kernel/security/lsm; the kernel is shared, so this system's /sys tells when the
    host root's does not); without securityfs, what /sys/module and selinuxfs show."""
    roots = [root] if root.is_host else [root, HostRoot()]
    why = ""
    for r in roots:
        found = r.read("/sys/kernel/security/lsm", max_bytes=SMALL_CAP)
        if found.text is not None:
            return tuple(x for x in found.text.strip().split(",") if x), ""
        why = why or f"/sys/kernel/security/lsm: {found.why}"
    modules: list[str] = []
    apparmor = HostRoot().read("/sys/module/apparmor/parameters/enabled", max_bytes=SMALL_CAP)
    if apparmor.text is not None and apparmor.text.strip().upper().startswith("Y"):
        modules.append("apparmor")
    if os.path.exists("/sys/fs/selinux/enforce"):
        modules.append("selinux")
    if modules or os.path.isdir("/sys/module"):
        return tuple(modules), f"{why}: only AppArmor and SELinux can be told (from /sys/module and selinuxfs)"
    return None, why


# --- groups -----------------------------------------------------------------------------------------


def _group_setting(daemon: DaemonFacts | None, daemon_json: DaemonJson) -> str:
    """The group dockerd gives its unix sockets (-G / --group / "group"; default docker)."""
    if daemon is None or daemon.verified is not True:
        return "docker"
    config = daemonconfig.build(
        argv=daemon.argv,
        argv_why="",
        daemon_json=daemon_json.text,
        daemon_json_path=daemon_json.path,
        daemon_json_why=daemon_json.why,
        info=None,
    )
    value = daemonconfig.lookup(config, "group").value
    return value if isinstance(value, str) and value else "docker"


def _sockets(daemon: DaemonFacts | None, units: Iterable[SystemdUnit]) -> list[str]:
    """The engine's unix sockets: the daemon's (-H, hosts, the one we use) and docker.socket's ListenStream."""
    found = list(daemon.sockets) if daemon is not None else []
    for unit in units:
        if unit.name == "docker.socket":
            found += [s.value for s in unit.listen_streams if s.value.startswith("/")]
    return sorted({norm_path(s) for s in found} or {norm_path(DEFAULT_DOCKER_SOCKET)})


def engine_groups(
    root: HostRoot, accounts: Accounts, daemon_group: str, sockets: Iterable[str]
) -> tuple[GroupFacts, ...]:
    """The groups whose members can drive the engine: `docker`, the daemon's socket group, and the group owning
    each engine socket; each with its listed members and the users whose primary group it is."""
    reasons: dict[int, list[str]] = {}
    by_name = {g.name: g for g in reversed(accounts.groups)}  # the first entry of a name wins
    wanted = [("docker", "the docker group")]
    if daemon_group != "docker":
        wanted.append((daemon_group, f"the daemon's socket group (--group {daemon_group})"))
    for name, reason in wanted:
        group = by_name.get(name)
        if group is not None:
            reasons.setdefault(group.gid, []).append(reason)
    for sock in sockets:
        try:
            st = root.lstat(sock)
        except OSError:
            continue
        reasons.setdefault(st.st_gid, []).append(f"group of {sock}")
    out = []
    for gid, why_list in reasons.items():
        group = next((g for g in accounts.groups if g.gid == gid), None)
        primary = tuple(sorted(a.name for a in accounts.users if a.gid == gid))
        out.append(
            GroupFacts(
                name=group.name if group is not None else "",
                gid=gid,
                members=tuple(sorted(set(group.members))) if group is not None else (),
                primary=primary,
                reasons=tuple(dict.fromkeys(why_list)),
            )
        )
    return tuple(sorted(out, key=lambda g: (g.name != "docker", g.gid)))


# --- listings ---------------------------------------------------------------------------------------


def list_files(
    root: HostRoot, path: str, max_depth: int = CERTS_MAX_DEPTH, max_files: int = CERTS_MAX_FILES
) -> DirListing:
    """Every entry below `path` that is not a directory (symlinks are listed, never followed)."""
    try:
        st = root.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return DirListing(path=path, exists=False)
    except OSError as exc:
        return DirListing(path=path, exists=True, why=f"cannot read {path}: {exc.strerror or exc}")
    if not stat.S_ISDIR(st.st_mode):
        return DirListing(path=path, exists=True, why=f"{path} is not a directory")
    files: list[str] = []
    problems: list[str] = []
    todo = [(path, 0)]
    truncated = False
    while todo and not truncated:
        directory, depth = todo.pop()
        try:
            entries = root.scandir(directory)
        except OSError as exc:
            problems.append(f"{directory}: {exc.strerror or exc}")
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            full = f"{directory.rstrip('/')}/{entry.name}"
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if depth + 1 < max_depth:
                    todo.append((full, depth + 1))
                else:
                    problems.append(f"{full}: deeper than {max_depth} levels, not listed")
                continue
            if len(files) >= max_files:
                truncated = True
                break
            files.append(full)
    why = "; ".join(problems)
    if truncated:
        why = f"more than {max_files} files: the first {max_files} are listed" + (f"; {why}" if why else "")
    return DirListing(path=path, exists=True, files=tuple(sorted(files)), why=why, truncated=truncated)
