"""Swarm checks: CIS Docker Benchmark section 7 (7.1–7.9). Every check skips, saying so, when swarm mode is
not active on the engine; a check that needs a manager's view skips on a worker and errors when a manager's
swarm endpoint failed (the collection error says which).

Facts: `docker info` Swarm, and on a manager GET /swarm, /nodes, /services, /secrets and /swarm/unlockkey
(runbench.collect.swarm); the overlay networks come from the network list, the listening ports from the TCP
listeners of the engine's processes when runbench runs on the engine's host.
"""

from __future__ import annotations

from typing import TypeVar

from runbench.authoring import (
    Context,
    Fact,
    Severity,
    errored,
    failed,
    manual,
    passed,
    skipped,
    swarm_check,
)
from runbench.model import Verdict
from runbench.snapshot import SwarmFacts

SWARM_TCP_PORTS = (2377, 7946)  # cluster management, node gossip (7946 is also UDP; 4789/udp carries VXLAN)
WILDCARDS = frozenset({"0.0.0.0", "::", "::ffff:0.0.0.0", ""})
MAX_MANAGERS = 7  # beyond seven, raft's consensus gets slower without a useful gain in fault tolerance
DAY = 86_400

T = TypeVar("T")


def _inactive(s: SwarmFacts) -> Verdict | None:
    if not s.active:
        return skipped(f"swarm mode is not active on this engine (LocalNodeState {s.state or 'inactive'})")
    return None


def _manager_fact(s: SwarmFacts, ctx: Context, value: T | None, endpoint: str) -> T | Verdict:
    """A fact only a manager can read, or the skip (a worker) / error (the call failed) to give instead."""
    if value is not None:
        return value
    if not s.manager:
        return skipped(s.manager_why or "this node is a worker: run runbench on a manager")
    return errored(ctx.why(Fact.SWARM, endpoint) if ctx.errors_of(Fact.SWARM) else s.manager_why or "not collected")


def _days(seconds: int) -> str:
    return f"{seconds / DAY:g} days"


@swarm_check(
    id="swarm.managers",
    cis={"1.8.0": "7.1", "1.6.0": "7.1"},
    level=1,
    severity=Severity.LOW,
    title="The swarm has an odd, small number of managers",
    rationale="Managers keep the cluster state by raft consensus: an even count tolerates no more failures "
    "than one fewer, and every extra manager is one more node whose compromise gives the whole cluster.",
    remediation="Run 3 managers (5 for large clusters, at most 7) and demote the rest: docker node demote <node>.",
)
def swarm_managers(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    managers = _manager_fact(s, ctx, s.managers, "/info")
    if isinstance(managers, Verdict):
        return managers
    evidence: dict[str, object] = {"managers": managers, "nodes": s.nodes if s.nodes is not None else "unknown"}
    if s.node_list is not None:
        evidence["manager nodes"] = [
            f"{n.hostname or n.id[:12]} ({n.reachability or n.state})" for n in s.node_list if n.role == "manager"
        ]
    if managers % 2 == 0:
        return failed(f"{managers} managers: an even count", **evidence)
    if managers > MAX_MANAGERS:
        return failed(f"{managers} managers: more than {MAX_MANAGERS}", **evidence)
    return passed(f"{managers} manager(s)", **evidence)


@swarm_check(
    id="swarm.bind_interface",
    cis={"1.8.0": "7.2", "1.6.0": "7.2"},
    level=1,
    severity=Severity.MEDIUM,
    title="Swarm ports listen on one interface, not all",
    rationale="The cluster management (2377/tcp), gossip (7946) and overlay (4789/udp) ports should be "
    "reachable only on the network the nodes share; bound to every interface they face every network the "
    "host is on.",
    remediation="Initialise or join the swarm on a specific address: docker swarm init --listen-addr "
    "10.0.0.5:2377 --advertise-addr 10.0.0.5 (and firewall 2377, 7946 and 4789 to the cluster network).",
)
def swarm_bind_interface(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    tcp = ctx.snapshot.tcp
    evidence: dict[str, object] = {"NodeAddr": s.node_addr or "(unknown)"}
    if tcp is None:
        return manual("the engine's listening sockets were not read (not on the engine's host)", **evidence)
    # the dockerd serving the scanned socket, when known: another daemon's swarm on this host is not this one's
    own = ctx.daemon.pid if ctx.daemon is not None and ctx.daemon.verified is True else None
    ports = [
        listener
        for listener in tcp.listeners
        if listener.port in SWARM_TCP_PORTS
        and listener.process in ("dockerd", "")
        and (own is None or listener.daemon_pid in (None, own))
    ]
    evidence["listeners"] = [
        f"{listener.endpoint} ({listener.process or 'unknown'})" for listener in ports
    ] or "(none seen)"
    wide = [listener.endpoint for listener in ports if listener.address in WILDCARDS]
    if wide:
        return failed(f"swarm port(s) bound to every interface: {', '.join(wide)}", **evidence)
    if not ports and not tcp.complete:
        return manual(
            "no swarm listener seen, and some listeners could not be read: " + "; ".join(tcp.notes), **evidence
        )
    return passed("swarm ports bound to specific addresses", **evidence)


@swarm_check(
    id="swarm.overlay_encrypted",
    cis={"1.8.0": "7.3", "1.6.0": "7.3"},
    level=1,
    severity=Severity.MEDIUM,
    title="Overlay networks are encrypted",
    rationale="Traffic between containers on different nodes crosses the hosts' network in VXLAN; without "
    "the encrypted option anyone on that network can read and alter it.",
    remediation="Create overlay networks encrypted (IPsec between nodes): docker network create "
    "--driver overlay --opt encrypted <name>; recreate existing ones (and the ingress network) with it.",
)
def swarm_overlay_encrypted(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    if ctx.errors_of(Fact.NETWORKS):
        return errored(ctx.why(Fact.NETWORKS))
    overlays = [n for n in ctx.networks if n.driver == "overlay"]
    if not overlays:
        return passed("no overlay network")
    plain = sorted(n.name for n in overlays if "encrypted" not in n.options)
    encrypted = sorted(n.name for n in overlays if "encrypted" in n.options)
    evidence = {"encrypted": encrypted or "(none)", "not encrypted": plain or "(none)"}
    if plain:
        return failed(f"{len(plain)} overlay network(s) without encryption: {', '.join(plain)}", **evidence)
    return passed(f"{len(encrypted)} overlay network(s), all encrypted", **evidence)


@swarm_check(
    id="swarm.secrets",
    cis={"1.8.0": "7.4", "1.6.0": "7.4"},
    level=1,
    severity=Severity.HIGH,
    title="Services get their secrets from swarm secrets",
    rationale="Swarm secrets are encrypted in the raft log and given only to the tasks that need them, as "
    "files in memory; secrets in a service's environment are visible to anyone who can inspect it.",
    remediation="docker secret create db_password ./db_password.txt; docker service create --secret "
    "db_password -e DB_PASSWORD_FILE=/run/secrets/db_password ...; remove secrets from service environments.",
)
def swarm_secrets(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    services = _manager_fact(s, ctx, s.services, "/services")
    if isinstance(services, Verdict):
        return services
    evidence = {
        "services": services,
        "services mounting swarm secrets": s.services_with_secrets
        if s.services_with_secrets is not None
        else "unknown",
        "swarm secrets": s.secrets if s.secrets is not None else "unknown",
    }
    if s.services_with_env_secrets:
        return failed(
            f"{s.services_with_env_secrets} service(s) hold a secret in their environment",
            **evidence,
        )
    return manual("check that every secret the services use comes from a swarm secret", **evidence)


@swarm_check(
    id="swarm.autolock",
    cis={"1.8.0": "7.5", "1.6.0": "7.5"},
    level=1,
    severity=Severity.MEDIUM,
    title="Swarm managers are auto-locked",
    rationale="Without autolock the key that decrypts the raft log (and every swarm secret in it) is stored "
    "on the manager's disk: a stolen disk or backup gives them away. With autolock a restarted manager "
    "waits for the unlock key.",
    remediation="docker swarm update --autolock=true; keep the printed key in a password manager "
    "(docker swarm unlock-key shows it again).",
)
def swarm_autolock(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    if s.state == "locked":
        return passed("the node is locked: autolock is on", LocalNodeState="locked")
    autolock = _manager_fact(s, ctx, s.autolock, "/swarm")
    if isinstance(autolock, Verdict):
        return autolock
    key = {True: "set", False: "none", None: "unknown"}[s.unlock_key_set]
    evidence = {"AutoLockManagers": autolock, "unlock key": key}
    if not autolock:
        return failed("autolock is off", **evidence)
    return passed("autolock is on", **evidence)


@swarm_check(
    id="swarm.autolock_rotation",
    cis={"1.8.0": "7.6", "1.6.0": "7.6"},
    level=1,
    severity=Severity.LOW,
    title="The swarm unlock key is rotated",
    rationale="An unlock key that never changes stays valid for everyone who ever saw it.",
    remediation="Rotate it periodically: docker swarm unlock-key --rotate (and store the new key safely).",
)
def swarm_autolock_rotation(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    autolock = s.autolock if s.autolock is not None else ("unknown" if s.state != "locked" else True)
    key = {True: "set", False: "none", None: "unknown"}[s.unlock_key_set]
    return manual(
        "the engine does not record when the unlock key was last rotated",
        AutoLockManagers=autolock,
        **{"unlock key": key},
    )


@swarm_check(
    id="swarm.node_cert_rotation",
    cis={"1.8.0": "7.7", "1.6.0": "7.7"},
    level=1,
    severity=Severity.MEDIUM,
    title="Node certificates expire (and are rotated) within the policy",
    rationale="Node certificates identify nodes to each other; the shorter they live, the sooner a stolen "
    "one stops working.",
    remediation="docker swarm update --cert-expiry 720h (30 days), or at most max_node_cert_days; force a "
    "rotation with docker swarm ca --rotate when a node is compromised.",
)
def swarm_node_cert_rotation(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    expiry = _manager_fact(s, ctx, s.node_cert_expiry_s, "/swarm")
    if isinstance(expiry, Verdict):
        return expiry
    limit = ctx.params.max_node_cert_days
    evidence = {"NodeCertExpiry": _days(expiry), "max_node_cert_days": limit}
    if expiry > limit * DAY:
        return failed(f"node certificates live {_days(expiry)}, more than {limit} days", **evidence)
    return passed(f"node certificates live {_days(expiry)}", **evidence)


@swarm_check(
    id="swarm.ca_rotation",
    cis={"1.8.0": "7.8", "1.6.0": "7.8"},
    level=1,
    severity=Severity.LOW,
    title="The swarm's root CA is rotated",
    rationale="The root CA signs every node certificate; rotating it regularly (and at once after a "
    "compromise) limits how long a leaked CA key is useful.",
    remediation="docker swarm ca --rotate (the swarm re-issues node certificates under the new root).",
)
def swarm_ca_rotation(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    if s.ca_cert_expiry is None and not s.manager:
        return skipped(s.manager_why or "this node is a worker: run runbench on a manager")
    return manual(
        "the engine does not record when the root CA was last rotated",
        **{
            "root CA expires": s.ca_cert_expiry or "unknown",
            "external CAs": s.external_cas if s.external_cas is not None else "unknown",
            "rotation in progress": s.root_rotation_in_progress
            if s.root_rotation_in_progress is not None
            else "unknown",
        },
    )


@swarm_check(
    id="swarm.plane_separation",
    cis={"1.8.0": "7.9", "1.6.0": "7.9"},
    level=2,
    severity=Severity.LOW,
    title="Management and data plane traffic are separated",
    rationale="With one address for both, a flood of container traffic can starve cluster management and "
    "the management plane is exposed on the network containers talk on.",
    remediation="Initialise or join with separate interfaces: docker swarm init --advertise-addr "
    "<management ip> --data-path-addr <data ip>.",
)
def swarm_plane_separation(s: SwarmFacts, ctx: Context) -> Verdict:
    if off := _inactive(s):
        return off
    evidence: dict[str, object] = {
        "NodeAddr (advertised)": s.node_addr or "(unknown)",
        "data path port": s.data_path_port if s.data_path_port is not None else "unknown",
    }
    if s.node_list is not None:
        me = next((n for n in s.node_list if n.id == s.node_id), None)
        if me is not None:
            evidence["manager address"] = me.manager_addr or "(not a manager)"
            evidence["node address"] = me.addr or "(unknown)"
    return manual("compare the advertise address with the data path address given at swarm init", **evidence)
