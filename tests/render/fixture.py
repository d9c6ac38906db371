"""The one fixed Report every renderer's golden file is made from, its hostile twin, and a previous report.

Five containers (one exited), five images, the daemon, the host and a file; a critical failure capping the
grade, a fold that covers all containers but one, a host-wide skip reason, errors, an incomplete part.
Scores come from runbench.scoring and the policy from runbench.engine.judge, as a real run's would.
"""

from __future__ import annotations

from dataclasses import replace

from runbench.engine import judge
from runbench.model import (
    CheckMeta,
    Finding,
    HostInfo,
    Report,
    ReportError,
    Scope,
    Severity,
    Status,
    Subject,
)
from runbench.policy import Policy
from runbench.render import json as json_render
from runbench.render.changes import Changes, compare, parse_previous
from runbench.scoring import score


def meta(id: str, severity: Severity, cis: str | None, title: str, *, references: tuple[str, ...] = ()) -> CheckMeta:
    return CheckMeta(
        id=id,
        title=title,
        scope=Scope(id.split(".")[0]),
        severity=severity,
        cis={"1.8.0": cis, "1.6.0": cis} if cis else {},
        level=1,
        rationale=f"Why {id} matters, in a sentence.",
        remediation=f"Fix {id}: do this (compose: that).",
        references=references,
    )


PRIV = meta("container.privileged", Severity.CRITICAL, "5.5", "Container is not privileged")
SOCK = meta("container.docker_socket", Severity.CRITICAL, "5.32", "No container engine socket is mounted")
MEM = meta("container.memory_limit", Severity.MEDIUM, "5.11", "Container memory is limited")
USER = meta("container.user", Severity.MEDIUM, None, "Container runs as a non-root user")
PORTS = meta("container.open_ports", Severity.LOW, "5.9", "Only needed ports are published")
SSHD = meta("container.sshd", Severity.MEDIUM, "5.7", "No SSH daemon runs in the container")
APPARMOR = meta("container.apparmor", Severity.HIGH, "5.2", "Container runs under an AppArmor profile")
IMG_USER = meta("image.user", Severity.MEDIUM, "4.1", "Image sets a non-root user")
ICC = meta(
    "daemon.icc",
    Severity.MEDIUM,
    "2.2",
    "Containers on the default bridge cannot talk to each other",
    references=("https://docs.docker.com/engine/network/drivers/bridge/",),
)
AUDIT = meta("host.audit_dockerd", Severity.LOW, "1.1.3", "An audit rule watches dockerd")
SOCK_MODE = meta("file.docker_sock_mode", Severity.HIGH, "3.16", "The engine socket is mode 0660 or stricter")
CHECKS = (AUDIT, ICC, SOCK_MODE, IMG_USER, APPARMOR, PRIV, SSHD, PORTS, MEM, USER, SOCK)


def container(name: str, image: str, state: str = "running", n: int = 0) -> Subject:
    return Subject(Scope.CONTAINER, f"{n:02d}23456789ab", name, name, (("image", image), ("state", state)))


def image(tag: str, n: int) -> Subject:
    return Subject(Scope.IMAGE, f"{n:02x}" * 6, tag, tag)


WEB = container("web", "nginx:1.27", n=1)
DB = container("db", "postgres:16", n=2)
CACHE = container("cache", "redis:7", n=3)
WORKER = container("worker", "registry.example/app:1.2", n=4)
LEGACY = container("legacy", "registry.example/legacy:0.9", "exited", n=5)
CONTAINERS = (WEB, DB, CACHE, WORKER, LEGACY)
IMAGES = tuple(image(c.attr("image"), i + 1) for i, c in enumerate(CONTAINERS))
HOST = Subject(Scope.HOST, "", "host1", "host")
DAEMON = Subject(Scope.DAEMON, "", "dockerd", "daemon")
SOCKET = Subject(Scope.FILE, "/var/run/docker.sock", "/var/run/docker.sock", "/var/run/docker.sock")


def finding(m: CheckMeta, s: Subject, status: Status, detail: str = "", **ev: str) -> Finding:
    return Finding(m, s, status, detail, tuple(ev.items()), m.severity)


def _findings(memory_ok: tuple[Subject, ...] = (WORKER,), root: tuple[Subject, ...] = (DB, LEGACY)) -> list[Finding]:
    out = [
        finding(AUDIT, HOST, Status.ERROR, "auditctl not found and no audit rules file is readable"),
        finding(ICC, DAEMON, Status.FAIL, "inter-container communication is on", icc="true (default)"),
        finding(SOCK_MODE, SOCKET, Status.PASS, "mode 0660", mode="0660"),
    ]
    for img in IMAGES:
        if img.name in ("postgres:16", "registry.example/legacy:0.9"):
            out.append(finding(IMG_USER, img, Status.FAIL, "no USER: runs as root", **{"Config.User": "''"}))
        else:
            out.append(finding(IMG_USER, img, Status.PASS, "user 101", **{"Config.User": "101"}))
    for c in CONTAINERS:
        out.append(finding(APPARMOR, c, Status.SKIP, "no AppArmor on this host"))
        if c is LEGACY:
            out.append(finding(PRIV, c, Status.FAIL, "runs with --privileged", **{"HostConfig.Privileged": "true"}))
        else:
            out.append(finding(PRIV, c, Status.PASS))
        if c is WEB:
            out.append(finding(SSHD, c, Status.ERROR, "processes not collected: State.Pid 42 is not visible"))
        elif c is LEGACY:
            out.append(finding(SSHD, c, Status.SKIP, "container is exited: no processes to inspect"))
        else:
            out.append(finding(SSHD, c, Status.PASS, "no sshd process"))
        if c is WEB:
            out.append(finding(PORTS, c, Status.MANUAL, "review 1 published port(s)", ports="[127.0.0.1:8080->80/tcp]"))
        else:
            out.append(finding(PORTS, c, Status.PASS, "no published ports"))
        if c in memory_ok:
            out.append(finding(MEM, c, Status.PASS, "512 MiB", **{"HostConfig.Memory": "536870912"}))
        else:
            out.append(finding(MEM, c, Status.FAIL, "no memory limit", **{"HostConfig.Memory": "0"}))
        if c in root:
            out.append(finding(USER, c, Status.FAIL, "runs as root", **{"Config.User": "''"}))
        else:
            out.append(finding(USER, c, Status.PASS, "user 1000", **{"Config.User": "1000"}))
        out.append(finding(SOCK, c, Status.PASS, "no engine socket in 1 mount(s)" if c is DB else ""))
    return out


def make_report(findings: list[Finding], **changes: object) -> Report:
    by_scope: dict[Scope, list[Finding]] = {}
    by_subject: dict[Scope, dict[str, list[Finding]]] = {Scope.CONTAINER: {}, Scope.IMAGE: {}}
    for f in findings:
        by_scope.setdefault(f.check.scope, []).append(f)
        if f.subject.kind in by_subject:
            by_subject[f.subject.kind].setdefault(f.subject.name, []).append(f)
    total = score(findings)
    report = Report(
        runbench_version="0.1.0",
        host=HostInfo("host1", "24.0.7", "1.43", "Debian GNU/Linux 12 (bookworm)", "6.1.0"),
        started_at="2026-11-22T03:30:00+00:00",
        duration_s=0.42,
        checks=CHECKS,
        findings=tuple(findings),
        total=total,
        sections={scope: score(by_scope[scope]) for scope in Scope if scope in by_scope},
        subjects={kind: {n: score(fs) for n, fs in names.items()} for kind, names in by_subject.items()},
        errors=(ReportError("container", "0123456789ab" * 5 + "cdef", "processes", "State.Pid 42 is not visible"),),
        notes=("scanned 5 of 6 container(s) listed (all containers)",),
        incomplete=("container ghost not inspected: no complete answer within 10 s (--timeout)",),
    )
    report = replace(report, policy=judge(report.findings, report.total.score, Policy()))
    return replace(report, **changes)  # type: ignore[arg-type]


def fixed_report() -> Report:
    return make_report(_findings())


def previous_json() -> str:
    """Yesterday's JSON report: web had a memory limit, worker ran as root, and old-job was privileged."""
    old = container("old-job", "busybox:1.36", n=9)
    findings = _findings(memory_ok=(WORKER, WEB), root=(DB, LEGACY, WORKER))
    findings.append(finding(PRIV, old, Status.FAIL, "runs with --privileged", **{"HostConfig.Privileged": "true"}))
    return json_render.render(make_report(findings, started_at="2026-11-21T03:30:00+00:00"))


def fixed_changes() -> Changes:
    return compare(fixed_report(), parse_previous(previous_json()))


# ---- hostile ----------------------------------------------------------------------------------------------

IMG_TAG = "<img src=x onerror=alert(1)>"
SCRIPT_END = "</script><script>alert(1)</script>"
JS_URL = "javascript:alert(1)"
ANSI = "\x1b[31mEVIL\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07"
HOSTILE = f"{IMG_TAG} {SCRIPT_END} \"q\" 'a' & {JS_URL} \u2028line\u2029para {ANSI} \u202eevil ]]> -- <!-- x"
NASTY = "\x00\x7f\x9b \ud800 \ufffe\uffff \U000e0041 \r\nFAKE: all good"


def hostile_report() -> Report:
    """Every string a host controls is hostile: names, labels, details, evidence, reasons, notes; and a
    check (from a broken catalog) references a javascript: URL."""
    evil = Subject(
        Scope.CONTAINER,
        "deadbeef0000",
        "evil" + HOSTILE,
        "evil" + HOSTILE,
        (("image", "img" + HOSTILE), ("state", "running" + NASTY)),
    )
    evil_image = Subject(Scope.IMAGE, "feedface0000", "tag" + HOSTILE, "tag" + HOSTILE)
    linked = replace(PORTS, id="container.links", references=(JS_URL, 'https://example.com/x" onmouseover="alert(1)'))
    extra = [
        finding(MEM, evil, Status.FAIL, "d" + HOSTILE + NASTY, **{"k" + HOSTILE: "v" + HOSTILE + NASTY}),
        finding(USER, evil, Status.PASS, HOSTILE, label=HOSTILE + "A" * 100_000),
        finding(linked, evil, Status.MANUAL, "review " + HOSTILE, ports=HOSTILE),
        finding(SSHD, evil, Status.ERROR, "why" + HOSTILE),
        finding(IMG_USER, evil_image, Status.FAIL, "img" + HOSTILE, **{"Config.User": HOSTILE}),
    ]
    base = make_report(_findings() + extra)
    return replace(
        base,
        host=HostInfo("h" + HOSTILE, "24" + HOSTILE, "1.43" + NASTY, "os" + HOSTILE, "k" + NASTY),
        runbench_version="0.1.0" + HOSTILE,
        errors=(ReportError("container" + HOSTILE, "s" + HOSTILE, "w" + HOSTILE, "y" + HOSTILE + NASTY),),
        notes=("note" + HOSTILE + NASTY,),
        incomplete=("gap" + HOSTILE + NASTY,),
        policy=replace(base.policy, reasons=("reason" + HOSTILE,)),
        started_at="2026-11-22T03:30:00+00:00",
    )
