"""Operations (CIS 6.x) and swarm (CIS 7.x) checks case by case, and the swarm collector's manager view
(runbench.collect.swarm) against stand-in answers: no secret from them is kept."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from builders import (
    IMAGE_ID,
    OTHER_IMAGE_ID,
    SCANNER,
    context,
    engine,
    inventory,
    summary,
    swarm,
    tcp_exposure,
)

from runbench.authoring import Context
from runbench.catalog import Catalog
from runbench.collect.api import EngineHTTPError
from runbench.collect.swarm import cert_not_after, collect_swarm
from runbench.model import Scope, Status
from runbench.policy import Params
from runbench.snapshot import CollectionError, Fact, NetworkFacts, SwarmFacts

PASS, FAIL, MANUAL, SKIP, ERROR = Status.PASS, Status.FAIL, Status.MANUAL, Status.SKIP, Status.ERROR

CA_PEM = """-----BEGIN CERTIFICATE-----
MIIBezCCASGgAwIBAgIUDCMQikR4id7wNwCBmNjhgkIpw3kwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIc3dhcm0tY2EwHhcNMjYxMTIyMTc1NzI1WhcNNDYxMTE3MTc1
NzI1WjATMREwDwYDVQQDDAhzd2FybS1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABPErmyoyF6csEhnRLEenQp2/hpGjAcTKC9RRsZEjmpOhk39Nwcy8tWsFwDi4
155fxjbbu8ywLB7ciVI+T6pO4HejUzBRMB0GA1UdDgQWBBS6c9Zp0LS1yeGOx0q3
vXwdJlhzeTAfBgNVHSMEGDAWgBS6c9Zp0LS1yeGOx0q3vXwdJlhzeTAPBgNVHRMB
Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDi4pJZvrKMgzTpetPiXRVkffOS
gz35KwAA2RTlpma0VAIgNufIr4yAgWp9XY6/psJSd3sZmuu8ILzjFs0kwXw6JeY=
-----END CERTIFICATE-----
"""


@dataclass(frozen=True)
class Case:
    check_id: str
    facts: Any
    expected: Status
    ctx: Context | None
    label: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check_id}-{self.expected.value}-{self.label}"


def case(
    check_id: str, facts: Any, expected: Status, ctx: Context | None = None, *, label: str = "", detail: str = ""
) -> Case:
    return Case(check_id, facts, expected, ctx, label or "case", detail)


TAGS = {"app:1": IMAGE_ID, "old:1": OTHER_IMAGE_ID, **{f"junk:{i}": f"sha256:{i:064x}" for i in range(3)}}
STOPPED = tuple(summary(f"done-{i}", state="exited") for i in range(3))
OVERLAYS = (
    NetworkFacts(id="n1", name="ingress", driver="overlay", scope="swarm", options={"encrypted": ""}),
    NetworkFacts(id="n2", name="backend", driver="overlay", scope="swarm", options={"encrypted": ""}),
    NetworkFacts(id="n3", name="bridge", driver="bridge"),
)
PLAIN_OVERLAY = (*OVERLAYS, NetworkFacts(id="n4", name="frontend", driver="overlay", scope="swarm"))
OFF = SwarmFacts(state="inactive")
WORKER = SwarmFacts(
    state="active", node_id="w1", node_addr="10.0.0.4", manager=False, manager_why="this node is a worker"
)

CASES = [
    # 6.1
    case("ops.image_sprawl", inventory((summary("app"),), TAGS), PASS, label="few-unused"),
    case(
        "ops.image_sprawl",
        inventory((summary("app"),), TAGS),
        FAIL,
        context(params=Params(max_unused_images=2)),
        label="over-policy",
        detail="4 tagged images unused",
    ),
    case(
        "ops.image_sprawl",
        inventory(
            (
                summary("app", image="app:1", image_id=None),
                summary("x", image="docker.io/library/old:1", image_id=None),
            ),
            TAGS,
        ),
        FAIL,
        context(params=Params(max_unused_images=2)),
        label="by-reference",
        detail="3 tagged",  # the junk ones: app:1 and old:1 (Docker Hub's implicit prefix) are used
    ),
    case(
        "ops.image_sprawl",
        inventory((summary("app"),), TAGS),
        ERROR,
        context(errors=(CollectionError(Fact.IMAGES, "", "GET /images/json: HTTP 500"),)),
        label="no-list",
    ),
    # 6.2
    case("ops.container_sprawl", inventory((summary("app"), *STOPPED)), PASS, label="three-stopped"),
    case(
        "ops.container_sprawl",
        inventory((summary("app"), *STOPPED)),
        FAIL,
        context(params=Params(max_stopped_containers=2)),
        label="over-policy",
        detail="3 containers not running",
    ),
    # 7.x off
    *(
        case(f"swarm.{name}", OFF, SKIP, label="inactive", detail="not active")
        for name in (
            "managers",
            "bind_interface",
            "overlay_encrypted",
            "secrets",
            "autolock",
            "autolock_rotation",
            "node_cert_rotation",
            "ca_rotation",
            "plane_separation",
        )
    ),
    # 7.1
    case("swarm.managers", swarm(), PASS, label="three"),
    case("swarm.managers", swarm(managers=2), FAIL, label="even", detail="even"),
    case("swarm.managers", swarm(managers=9, nodes=20), FAIL, label="nine", detail="more than 7"),
    case("swarm.managers", WORKER, SKIP, label="worker"),
    # 7.2
    case("swarm.bind_interface", swarm(), MANUAL, label="no-listeners-read"),
    case(
        "swarm.bind_interface",
        swarm(),
        PASS,
        context(tcp=tcp_exposure(("10.0.0.1", 2377), ("10.0.0.1", 7946))),
        label="bound",
    ),
    case(
        "swarm.bind_interface",
        swarm(),
        FAIL,
        context(tcp=tcp_exposure(("::", 2377), ("::", 7946))),
        label="wildcard",
        detail="[::]:2377",
    ),
    # 7.3
    case("swarm.overlay_encrypted", swarm(), PASS, context(networks=OVERLAYS), label="encrypted"),
    case("swarm.overlay_encrypted", swarm(), PASS, context(networks=()), label="no-overlay"),
    case("swarm.overlay_encrypted", swarm(), FAIL, context(networks=PLAIN_OVERLAY), label="plain", detail="frontend"),
    case(
        "swarm.overlay_encrypted",
        swarm(),
        ERROR,
        context(errors=(CollectionError(Fact.NETWORKS, "", "GET /networks: timeout"),)),
        label="no-networks",
    ),
    # 7.4
    case("swarm.secrets", swarm(), MANUAL, label="counts"),
    case("swarm.secrets", swarm(services_with_env_secrets=1), FAIL, label="env-secret"),
    case("swarm.secrets", swarm(services=None), ERROR, label="not-read"),
    case("swarm.secrets", WORKER, SKIP, label="worker"),
    # 7.5
    case("swarm.autolock", swarm(), PASS, label="on"),
    case("swarm.autolock", swarm(autolock=False, unlock_key_set=False), FAIL, label="off"),
    case("swarm.autolock", SwarmFacts(state="locked"), PASS, label="locked"),
    # 7.6
    case("swarm.autolock_rotation", swarm(), MANUAL, label="manual"),
    # 7.7
    case("swarm.node_cert_rotation", swarm(), PASS, label="30-days"),
    case("swarm.node_cert_rotation", swarm(node_cert_expiry_s=90 * 86_400), PASS, label="90-days"),
    case("swarm.node_cert_rotation", swarm(node_cert_expiry_s=365 * 86_400), FAIL, label="a-year", detail="365 days"),
    case(
        "swarm.node_cert_rotation",
        swarm(node_cert_expiry_s=90 * 86_400),
        FAIL,
        context(params=Params(max_node_cert_days=30)),
        label="policy",
    ),
    # 7.8 / 7.9
    case("swarm.ca_rotation", swarm(), MANUAL, label="evidence"),
    case("swarm.ca_rotation", WORKER, SKIP, label="worker"),
    case("swarm.plane_separation", swarm(), MANUAL, label="evidence"),
]

MANUAL_ONLY = frozenset({"swarm.autolock_rotation", "swarm.ca_rotation", "swarm.plane_separation"})
# swarm.secrets fails on what the detector finds in services' environments and is manual otherwise
NEVER_PASSES = {"swarm.secrets": {MANUAL, FAIL}}


@pytest.mark.parametrize("c", CASES, ids=str)
def test_ops_and_swarm_checks(catalog: Catalog, c: Case) -> None:
    verdict = catalog[c.check_id].evaluate(c.facts, c.ctx if c.ctx is not None else context())
    assert verdict.status is c.expected, verdict
    assert c.detail in verdict.detail, verdict
    if verdict.status is not Status.PASS:
        assert verdict.detail


def test_case_ids_are_unique() -> None:
    ids = [str(c) for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_ops_and_swarm_check_has_its_cases(catalog: Catalog) -> None:
    statuses: dict[str, set[Status]] = defaultdict(set)
    for c in CASES:
        statuses[c.check_id].add(c.expected)
    ids = {c.id for scope in (Scope.OPS, Scope.SWARM) for c in catalog.of_scope(scope)}
    assert set(statuses) == ids
    for check_id in ids:
        wanted = {MANUAL, SKIP} if check_id in MANUAL_ONLY else NEVER_PASSES.get(check_id, {PASS, FAIL})
        assert wanted <= statuses[check_id], check_id


def test_cis_numbers_of_sections_6_and_7(catalog: Catalog) -> None:
    got = {c.meta.cis["1.8.0"]: c.meta.cis["1.6.0"] for s in (Scope.OPS, Scope.SWARM) for c in catalog.of_scope(s)}
    assert got == {n: n for n in ["6.1", "6.2", *(f"7.{i}" for i in range(1, 10))]}


def test_ops_evidence_counts_the_engine_images(catalog: Catalog) -> None:
    verdict = catalog["ops.image_sprawl"].evaluate(
        inventory((summary("app"),), TAGS), context(engine=engine(images_total=12))
    )
    assert ("images on the engine (docker info, untagged included)", "12") in verdict.evidence


def test_policy_defaults_of_the_issue() -> None:
    assert (Params().max_unused_images, Params().max_stopped_containers, Params().max_node_cert_days) == (50, 25, 90)


# --- the collector's manager view ------------------------------------------------------------------

TOKEN = "SWMTKN-1-fakefakefakefakefakefakefakefakefakefake-0123456789"
UNLOCK = "SWMKEY-1-FakeFakeFakeFakeFakeFakeFakeFakeFake0123"
INFO = {
    "Swarm": {
        "LocalNodeState": "active",
        "NodeID": "m1",
        "NodeAddr": "127.0.0.1",
        "ControlAvailable": True,
        "Managers": 1,
        "Nodes": 1,
        "Cluster": {"ID": "c1"},
    }
}


class FakeSwarmAPI:
    def __init__(self, fail: str = "") -> None:
        self.fail = fail

    def _maybe(self, what: str) -> None:
        if what == self.fail:
            raise EngineHTTPError(500, f"GET {what}: HTTP 500")

    def swarm(self) -> dict[str, Any]:
        self._maybe("/swarm")
        return {
            "JoinTokens": {"Worker": TOKEN, "Manager": TOKEN},
            "Spec": {
                "CAConfig": {"NodeCertExpiry": 7_776_000_000_000_000},
                "EncryptionConfig": {"AutoLockManagers": True},
            },
            "TLSInfo": {"TrustRoot": CA_PEM},
            "RootRotationInProgress": False,
            "DataPathPort": 4789,
        }

    def nodes(self) -> list[Any]:
        self._maybe("/nodes")
        return [
            {
                "ID": "m1",
                "Spec": {"Role": "manager", "Availability": "active"},
                "Description": {"Hostname": "h1"},
                "Status": {"State": "ready", "Addr": "127.0.0.1"},
                "ManagerStatus": {"Leader": True, "Reachability": "reachable", "Addr": "127.0.0.1:2377"},
            }
        ]

    def services(self) -> list[Any]:
        self._maybe("/services")
        spec = {"ContainerSpec": {"Env": ["DB_PASSWORD=Fake-service-pw-1", "MODE=prod"]}}
        return [
            {"ID": "s1", "Spec": {"TaskTemplate": spec}},
            {"ID": "s2", "Spec": {"TaskTemplate": {"ContainerSpec": {"Secrets": [{"SecretName": "db"}]}}}},
        ]

    def secrets(self) -> list[Any]:
        self._maybe("/secrets")
        return [{"ID": "x1"}]

    def unlock_key(self) -> dict[str, Any]:
        self._maybe("/swarm/unlockkey")
        return {"UnlockKey": UNLOCK}


def test_the_manager_view_keeps_facts_not_secrets() -> None:
    errors: list[CollectionError] = []
    facts = collect_swarm(FakeSwarmAPI(), INFO, SCANNER, errors)
    assert errors == []
    assert (facts.autolock, facts.unlock_key_set, facts.node_cert_expiry_s) == (True, True, 90 * 86_400)
    assert (facts.services, facts.services_with_secrets, facts.services_with_env_secrets, facts.secrets) == (2, 1, 1, 1)
    assert facts.ca_cert_expiry == "2046-11-17T17:57:25+00:00"
    assert facts.node_list is not None and facts.node_list[0].manager_addr == "127.0.0.1:2377"
    text = repr(facts)
    for secret in (TOKEN, UNLOCK, "Fake-service-pw-1"):
        assert secret[:12] not in text


def test_a_failed_swarm_endpoint_is_recorded_and_its_facts_stay_unknown(catalog: Catalog) -> None:
    errors: list[CollectionError] = []
    facts = collect_swarm(FakeSwarmAPI(fail="/swarm"), INFO, SCANNER, errors)
    assert [(e.fact, e.subject) for e in errors] == [(Fact.SWARM, "/swarm")]
    assert facts.autolock is None and facts.services == 2
    verdict = catalog["swarm.autolock"].evaluate(facts, context(errors=tuple(errors)))
    assert verdict.status is Status.ERROR and "HTTP 500" in verdict.detail


def test_inactive_and_worker_nodes_ask_nothing_more() -> None:
    class Refuses:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"called {name}")

    assert collect_swarm(Refuses(), {"Swarm": {"LocalNodeState": "inactive"}}, SCANNER, []).state == "inactive"
    worker = {"Swarm": {**INFO["Swarm"], "ControlAvailable": False}}
    facts = collect_swarm(Refuses(), worker, SCANNER, [])
    assert facts.manager_why and "worker" in facts.manager_why


@pytest.mark.parametrize(
    "pem", ["", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]
)
def test_cert_not_after_of_garbage_is_none(pem: str) -> None:
    assert cert_not_after(pem) is None


def test_a_locked_node_says_so(catalog: Catalog) -> None:
    locked = collect_swarm(object(), {"Swarm": {"LocalNodeState": "locked"}}, SCANNER, [])
    assert locked.manager_why is not None and "locked" in locked.manager_why
    assert catalog["swarm.autolock"].evaluate(locked, context()).status is Status.PASS
    verdict = catalog["swarm.node_cert_rotation"].evaluate(locked, context())
    assert verdict.status is Status.SKIP and "locked" in verdict.detail


def test_swarm_listeners_of_another_daemon_on_the_host_are_not_this_ones(catalog: Catalog) -> None:
    from dataclasses import replace

    from runbench.snapshot import DaemonFacts

    mine, other = tcp_exposure(("127.0.0.1", 2377)).listeners[0], tcp_exposure(("0.0.0.0", 2377)).listeners[0]
    exposure = replace(tcp_exposure(), listeners=(replace(mine, daemon_pid=100), replace(other, daemon_pid=200)))
    ctx = context(tcp=exposure, daemon=DaemonFacts(pid=100, uid=0, verified=True))
    assert catalog["swarm.bind_interface"].evaluate(swarm(), ctx).status is Status.PASS
    unknown = context(tcp=exposure, daemon=None)
    assert catalog["swarm.bind_interface"].evaluate(swarm(), unknown).status is Status.FAIL
