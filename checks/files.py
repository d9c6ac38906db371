"""File checks: CIS Docker Benchmark section 3 (owner and permissions of Docker's files).

One table, one family: each row judges the owner or the mode of the paths it declares with `paths=` (a pure
function of the Context: the unit files systemd would load, the daemon's TLS files and sockets, the files
under /etc/docker/certs.d as listed by the collector). Modes are bit masks: a mode passes when it grants no
bit beyond the allowed ones (`mode & ~allowed == 0`): 0600 passes against 0644, 0646 fails against 0660.
A missing path is `skip` with the path; one that could not be stat'ed is `error`; a path of the wrong type
(a directory where a file belongs, a symlink) fails with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from runbench.authoring import (
    Context,
    Declare,
    Row,
    Severity,
    errored,
    failed,
    family,
    passed,
    skipped,
)
from runbench.model import Scope, Verdict
from runbench.semantics import DEFAULT_DAEMON_JSON, DEFAULT_DOCKER_SOCKET, norm_path, unix_socket_path
from runbench.snapshot import FileFacts, FileType

CERTS_D = "/etc/docker/certs.d"
UNIT_DIR = "/lib/systemd/system"  # where a missing unit is looked for in the report (Debian, merged /usr)
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
ROOT, DOCKER, DAEMON_USER = "root", "docker", "the daemon's user"

PathsFn = Callable[[Context], Iterable[str]]


# --- the paths each row judges (pure functions of the facts) -----------------------------------------


def _unit_files(name: str) -> PathsFn:
    """The unit file systemd loads for `name` (FragmentPath) and its drop-ins; the usual path when none."""

    def paths(ctx: Context) -> tuple[str, ...]:
        unit = ctx.host.unit(name) if ctx.host is not None else None
        if unit is not None and unit.files:
            return unit.files
        return (f"{UNIT_DIR}/{name}",)

    return paths


def _fixed(*fixed: str) -> PathsFn:
    def paths(ctx: Context) -> tuple[str, ...]:
        return fixed

    return paths


def registry_cert_paths(ctx: Context) -> tuple[str, ...]:
    """Every file under /etc/docker/certs.d the collector listed; the directory itself when it listed none (the
    check then says why there is nothing to judge)."""
    listing = ctx.host.registry_certs if ctx.host is not None else None
    if listing is not None and listing.files:
        return listing.files
    return (CERTS_D,)


def _daemon_home(ctx: Context) -> str | None:
    uid = ctx.daemon.uid if ctx.daemon is not None else None
    return "/root" if uid in (0, None) else None


def _tls_file(key: str) -> PathsFn:
    """The daemon's TLS file `key` (tlscacert, tlscert, tlskey) from its effective configuration; dockerd's
    default under ~/.docker when unset."""

    def paths(ctx: Context) -> tuple[str, ...]:
        value = ctx.setting(key).value
        path = value if isinstance(value, str) else ""
        if path.startswith("~/"):
            home = _daemon_home(ctx)
            path = f"{home}/{path[2:]}" if home else ""
        return (path,) if path.startswith("/") else ()

    return paths


def engine_sockets(ctx: Context) -> tuple[str, ...]:
    """Every engine socket in use: the daemon's unix listeners (-H, hosts), docker.socket's ListenStream, the
    socket runbench reached the engine on; /var/run/docker.sock when nothing names one."""
    found: set[str] = set()
    if ctx.daemon is not None:
        found.update(ctx.daemon.sockets)
    unit = ctx.host.unit("docker.socket") if ctx.host is not None else None
    if unit is not None:
        found.update(s.value for s in unit.listen_streams if s.value.startswith("/"))
    ours = unix_socket_path(ctx.snapshot.options.docker_host)
    if ours:
        found.add(ours)
    hosts = ctx.setting("hosts").value
    for h in hosts if isinstance(hosts, list | tuple) else ():
        sock = unix_socket_path(h) if isinstance(h, str) and h.startswith("unix://") else None
        if sock:
            found.add(sock)
    return tuple(sorted({norm_path(s) for s in found if s.startswith("/")} or {norm_path(DEFAULT_DOCKER_SOCKET)}))


def daemon_json_paths(ctx: Context) -> tuple[str, ...]:
    if ctx.daemon is not None and ctx.daemon.config_file:
        return (ctx.daemon.config_file,)
    return (DEFAULT_DAEMON_JSON,)


def containerd_sockets(ctx: Context) -> tuple[str, ...]:
    """containerd's socket: dockerd's --containerd; without one, the system containerd's (which dockerd uses
    when it runs) and the one dockerd starts under its exec root."""
    named = ctx.setting("containerd").value
    if isinstance(named, str) and named.startswith("/"):
        return (norm_path(named),)
    exec_root = ctx.setting("exec-root").value
    own = f"{exec_root}/containerd/containerd.sock" if isinstance(exec_root, str) and exec_root else ""
    return tuple(sorted({norm_path(p) for p in (CONTAINERD_SOCKET, own) if p.startswith("/")}))


# --- the rules -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    """What one row wants of its paths: an owner (`user`, `group`) or a mode (`allowed` bits)."""

    what: str  # the file in words
    kind: FileType  # the type the paths must have
    allowed: int | None = None  # mode rows: the bits that may be set
    user: str | None = None  # owner rows: ROOT, or DAEMON_USER (root, or a rootless daemon's own user)
    group: str | None = None  # owner rows: ROOT, or DOCKER (the daemon's socket group)
    listing: bool = False  # the paths come from a directory listing (certs.d)
    tls: bool = False  # a daemon TLS file: only judged when the daemon uses TLS
    socket: bool = False  # an engine API socket: a too-open mode hands out root


_BITS = (
    (0o4000, "setuid"),
    (0o2000, "setgid"),
    (0o1000, "sticky"),
    (0o400, "owner read"),
    (0o200, "owner write"),
    (0o100, "owner execute"),
    (0o040, "group read"),
    (0o020, "group write"),
    (0o010, "group execute"),
    (0o004, "others read"),
    (0o002, "others write"),
    (0o001, "others execute"),
)


def bits_text(bits: int) -> str:
    return ", ".join(name for bit, name in _BITS if bits & bit)


def _elsewhere(ctx: Context) -> str | None:
    h = ctx.host
    if h is None:
        return "the host's files were not read (--no-host)"
    if not h.local:
        return f"not this machine: {h.local_reason or 'the engine runs elsewhere'}"
    return None


def _tls_in_use(ctx: Context) -> bool | None:
    tls, verify = ctx.setting("tls"), ctx.setting("tlsverify")
    if not tls.known and not verify.known:
        return None
    return tls.value is True or verify.value is True


def _judge(rule: _Rule, f: FileFacts, ctx: Context) -> Verdict:
    if f.type is FileType.UNKNOWN:
        elsewhere = _elsewhere(ctx)
        if elsewhere is not None:
            return skipped(elsewhere)
        return errored(f"{f.path} could not be stat'ed: {f.error or 'unknown error'}")
    if rule.tls and _tls_in_use(ctx) is False:
        return skipped(f"the daemon does not use TLS (tls and tlsverify are off): {f.path} is not in use")
    if f.type is FileType.MISSING:
        return skipped(f"{f.path} does not exist")
    if rule.listing and f.path == CERTS_D:
        return _no_certs(f, ctx)
    if f.type is not rule.kind:
        if f.type is FileType.SYMLINK:
            return failed(
                f"{f.path} is a symlink to {f.target}, not the {rule.kind.value} itself: its own owner and mode "
                "decide nothing; point the configuration at the real file",
                type="symlink",
                target=f.target,
            )
        return failed(f"{f.path} is a {f.type.value}, where a {rule.kind.value} is expected", type=f.type.value)
    if rule.allowed is not None:
        return _mode(rule, rule.allowed, f)
    return _owner(rule, f, ctx)


def _no_certs(f: FileFacts, ctx: Context) -> Verdict:
    listing = ctx.host.registry_certs if ctx.host is not None else None
    if listing is None:
        return errored(ctx.host.why("registry_certs") if ctx.host is not None else "certs.d was not listed")
    if listing.why:
        return errored(f"{CERTS_D} could not be listed: {listing.why}")
    if f.type is not FileType.DIRECTORY:
        return failed(f"{f.path} is a {f.type.value}, where a directory is expected", type=f.type.value)
    return skipped(f"no registry certificates under {f.path}")


def _mode(rule: _Rule, allowed: int, f: FileFacts) -> Verdict:
    mode = f.mode if f.mode is not None else 0
    extra = mode & ~allowed
    evidence = {"mode": f.mode_text, "allowed": f"{allowed:04o}"}
    if not extra:
        return passed(**evidence)
    detail = f"mode {f.mode_text} grants {extra:04o} beyond {allowed:04o} ({bits_text(extra)})"
    if rule.socket:
        if extra & 0o002:
            return failed(
                f"{detail}: any local user can run a privileged container, which is root on this host", **evidence
            )
        return failed(f"{detail}; no write for others, so only the owner and group can connect", **evidence).at(
            Severity.MEDIUM
        )
    if extra & 0o022:
        return failed(f"{detail}: users other than root can change the {rule.what}", **evidence).at(Severity.HIGH)
    return failed(detail, **evidence)


def _owner(rule: _Rule, f: FileFacts, ctx: Context) -> Verdict:
    owner = f"{f.owner or f.uid}:{f.group or f.gid}"
    evidence = {"owner": owner, "uid:gid": f"{f.uid}:{f.gid}"}
    problems: list[str] = []
    higher = False
    want_uid = 0
    if rule.user == DAEMON_USER and ctx.daemon is not None and ctx.daemon.uid not in (0, None):
        want_uid = ctx.daemon.uid  # a rootless daemon owns its files
        evidence["daemon uid"] = str(want_uid)
    if f.uid != want_uid:
        who = f"{f.owner} (uid {f.uid})" if f.owner else f"uid {f.uid}"
        want = "root" if want_uid == 0 else f"the daemon's user (uid {want_uid})"
        problems.append(f"owned by {who}, not {want}: that user can change it")
        higher = True
    if want_uid != 0:
        evidence["group"] = "not judged: a rootless daemon's files belong to its user and that user's group"
    elif rule.group == DOCKER:
        group = _socket_group(ctx)
        if f.gid != 0 and f.group != group:
            shown = f.group or f"gid {f.gid} (no name on this host)"
            problems.append(f"group {shown}, not {group}: {_members(ctx, f.gid)} can use it")
            higher = True
    elif rule.group == ROOT and f.gid != 0:
        shown = f"{f.group} (gid {f.gid})" if f.group else f"gid {f.gid}"
        problems.append(f"group {shown}, not root")
    if problems:
        verdict = failed(f"{f.path}: " + "; ".join(problems), **evidence)
        return verdict.at(Severity.HIGH) if higher and not rule.socket else verdict
    note = f"group root is stricter than {_socket_group(ctx)}" if rule.group == DOCKER and f.gid == 0 else ""
    return passed(note, **evidence)


def _socket_group(ctx: Context) -> str:
    value = ctx.setting("group").value
    return value if isinstance(value, str) and value else DOCKER


def _members(ctx: Context, gid: int | None) -> str:
    groups = ctx.host.groups if ctx.host is not None else None
    group = next((g for g in groups or () if g.gid == gid), None)
    if group is None:
        return "every member of that group"
    who = [u for u in group.everyone if u != "root"]
    return f"its members ({', '.join(who)})" if who else "its members (none today)"


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _File:
    stem: str  # file.<stem>_owner / file.<stem>_mode
    cis_owner: str
    cis_mode: str
    what: str
    paths: PathsFn
    kind: FileType
    allowed: int
    user: str
    group: str
    why: str  # what someone who can change it gets
    fix_path: str  # the path in the remediation commands
    severity_owner: Severity = Severity.MEDIUM
    severity_mode: Severity = Severity.MEDIUM
    listing: bool = False
    tls: bool = False
    socket: bool = False


FILES: Final = (
    _File(
        "docker_service", "3.1", "3.2", "docker.service unit", _unit_files("docker.service"), FileType.FILE,
        0o644, ROOT, ROOT, "whoever can edit the unit or its drop-ins chooses dockerd's command line, run as root",
        "/lib/systemd/system/docker.service",
    ),
    _File(
        "docker_socket_unit", "3.3", "3.4", "docker.socket unit", _unit_files("docker.socket"), FileType.FILE,
        0o644, ROOT, ROOT, "whoever can edit the socket unit chooses where the API listens and who may connect",
        "/lib/systemd/system/docker.socket",
    ),
    _File(
        "etc_docker", "3.5", "3.6", "/etc/docker directory", _fixed("/etc/docker"), FileType.DIRECTORY,
        0o755, ROOT, ROOT, "whoever can write into /etc/docker can drop a daemon.json or TLS files the daemon trusts",
        "/etc/docker",
    ),
    _File(
        "registry_certs", "3.7", "3.8", "registry certificate", registry_cert_paths, FileType.FILE,
        0o444, ROOT, ROOT, "whoever can change a registry's certificates can make the daemon trust another registry",
        "/etc/docker/certs.d/<registry>/*", listing=True,
    ),
    _File(
        "tls_ca", "3.9", "3.10", "TLS CA certificate", _tls_file("tlscacert"), FileType.FILE,
        0o444, ROOT, ROOT, "whoever can replace the CA certificate can mint client certificates the daemon accepts",
        "<tlscacert>", tls=True,
    ),
    _File(
        "tls_cert", "3.11", "3.12", "TLS server certificate", _tls_file("tlscert"), FileType.FILE,
        0o444, ROOT, ROOT, "whoever can replace the server certificate can impersonate the daemon to its clients",
        "<tlscert>", tls=True,
    ),
    _File(
        "tls_key", "3.13", "3.14", "TLS server key", _tls_file("tlskey"), FileType.FILE,
        0o400, ROOT, ROOT, "whoever can read the server key can impersonate the daemon and read its TLS traffic",
        "<tlskey>", severity_owner=Severity.HIGH, severity_mode=Severity.HIGH, tls=True,
    ),
    _File(
        "docker_sock", "3.15", "3.16", "engine socket", engine_sockets, FileType.SOCKET,
        0o660, DAEMON_USER, DOCKER, "whoever can connect to the socket drives the engine: root on this host",
        "/var/run/docker.sock", severity_owner=Severity.HIGH, severity_mode=Severity.CRITICAL, socket=True,
    ),
    _File(
        "daemon_json", "3.17", "3.18", "daemon.json", daemon_json_paths, FileType.FILE,
        0o644, DAEMON_USER, ROOT, "whoever can edit daemon.json reconfigures the daemon at its next (re)start",
        "/etc/docker/daemon.json",
    ),
    _File(
        "etc_default_docker", "3.19", "3.20", "/etc/default/docker", _fixed("/etc/default/docker"), FileType.FILE,
        0o644, ROOT, ROOT, "whoever can edit it sets DOCKER_OPTS, dockerd's flags, at the next start",
        "/etc/default/docker",
    ),
    _File(
        "etc_sysconfig_docker", "3.22", "3.21", "/etc/sysconfig/docker", _fixed("/etc/sysconfig/docker"),
        FileType.FILE, 0o644, ROOT, ROOT, "whoever can edit it sets OPTIONS, dockerd's flags, at the next start",
        "/etc/sysconfig/docker",
    ),
    _File(
        "containerd_sock", "3.23", "3.24", "containerd socket", containerd_sockets, FileType.SOCKET,
        0o660, ROOT, ROOT, "whoever can connect to containerd's socket can run any container as root (ctr run)",
        "/run/containerd/containerd.sock", severity_owner=Severity.HIGH, severity_mode=Severity.CRITICAL,
        socket=True,
    ),
)  # fmt: skip


def _rule(spec: _File, *, owner: bool) -> _Rule:
    return _Rule(
        what=spec.what,
        kind=spec.kind,
        allowed=None if owner else spec.allowed,
        user=spec.user if owner else None,
        group=spec.group if owner else None,
        listing=spec.listing,
        tls=spec.tls,
        socket=spec.socket,
    )


TITLES: Final = {
    "docker_service": "docker.service and its drop-ins are",
    "docker_socket_unit": "docker.socket and its drop-ins are",
    "etc_docker": "/etc/docker is",
    "registry_certs": "Registry certificates under /etc/docker/certs.d are",
    "tls_ca": "The daemon's TLS CA certificate is",
    "tls_cert": "The daemon's TLS certificate is",
    "tls_key": "The daemon's TLS key is",
    "docker_sock": "Engine sockets are",
    "daemon_json": "daemon.json is",
    "etc_default_docker": "/etc/default/docker is",
    "etc_sysconfig_docker": "/etc/sysconfig/docker is",
    "containerd_sock": "containerd's socket is",
}


def _rows(spec: _File) -> Iterator[Row[_Rule]]:
    group = "docker" if spec.group == DOCKER else "root"
    rootless = " (a rootless daemon's: its own user)" if spec.user == DAEMON_USER else ""
    sock_group = " (or the group the daemon's --group names)" if spec.group == DOCKER else ""
    yield Row(
        id=f"file.{spec.stem}_owner",
        cis={"1.8.0": spec.cis_owner, "1.6.0": spec.cis_owner},
        severity=spec.severity_owner,
        title=f"{TITLES[spec.stem]} owned by root:{group}",
        rationale=f"Its owner can change it at will: {spec.why}. Expected owner: root{rootless}; group: "
        f"{group}{sock_group}.",
        remediation=f"chown root:{'docker' if spec.group == DOCKER else 'root'} {spec.fix_path}",
        data=_rule(spec, owner=True),
        paths=spec.paths,
    )
    yield Row(
        id=f"file.{spec.stem}_mode",
        cis={"1.8.0": spec.cis_mode, "1.6.0": spec.cis_mode},
        severity=spec.severity_mode,
        title=f"{TITLES[spec.stem]} no more open than {spec.allowed:04o}",
        rationale=(
            f"Connecting to a unix socket takes its write bit: bits beyond {spec.allowed:04o} let users outside its "
            f"owner and group connect, and {spec.why}."
            if spec.socket
            else f"Permission bits beyond {spec.allowed:04o} let others than its owner read or change it: {spec.why}."
        ),
        remediation=f"chmod {spec.allowed:o} {spec.fix_path}",
        data=_rule(spec, owner=False),
        paths=spec.paths,
    )


FILE_CHECKS: Final = family(Declare[FileFacts](Scope.FILE), [row for spec in FILES for row in _rows(spec)], _judge)
