"""Swarm facts: the node's membership from /info and, on a manager, the swarm endpoints: GET /swarm (autolock,
certificate expiry, the root CA), /nodes, /services, /secrets and /swarm/unlockkey.

Several of these answers hold secrets (the join tokens of GET /swarm, the unlock key, services' environment):
only facts derived from them are kept (whether an unlock key exists, how many services hold a secret in
their environment), never a value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from runbench.collect.api import EngineError
from runbench.collect.parse import swarm_facts as info_swarm_facts
from runbench.collect.values import obj as _d
from runbench.collect.values import only_list as _l
from runbench.collect.values import only_text as _s
from runbench.secrets import SecretScanner, is_secret
from runbench.snapshot import CollectionError, Fact, SwarmFacts, SwarmNode

__all__ = ["SwarmAPI", "cert_not_after", "collect_swarm", "manager_view"]

NANOSECONDS = 1_000_000_000


class SwarmAPI(Protocol):
    def swarm(self) -> dict[str, Any]: ...

    def nodes(self) -> list[Any]: ...

    def services(self) -> list[Any]: ...

    def secrets(self) -> list[Any]: ...

    def unlock_key(self) -> dict[str, Any]: ...


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def collect_swarm(
    api: Any, info: Mapping[str, Any], scanner: SecretScanner, errors: list[CollectionError]
) -> SwarmFacts:
    """The swarm facts: /info's view, and on an active manager the swarm endpoints (each failure recorded as a
    swarm CollectionError naming the endpoint; its facts stay None)."""
    facts = info_swarm_facts(info)
    if facts.state == "locked":
        why = "the swarm is locked on this node: unlock it (docker swarm unlock) to read the manager's view"
        return SwarmFacts(**{**_fields(facts), "manager_why": why})
    if facts.state != "active":
        return (
            facts if not facts.active else SwarmFacts(**{**_fields(facts), "manager_why": f"swarm state {facts.state}"})
        )
    if not facts.manager:
        return SwarmFacts(**{**_fields(facts), "manager_why": "this node is a worker: run runbench on a manager"})
    missing = [m for m in ("swarm", "nodes", "services", "secrets", "unlock_key") if not hasattr(api, m)]
    if missing:
        return SwarmFacts(**{**_fields(facts), "manager_why": "the engine client cannot read the swarm endpoints"})
    return manager_view(facts, api, scanner, errors)


def _fields(facts: SwarmFacts) -> dict[str, Any]:
    return {name: getattr(facts, name) for name in SwarmFacts.__dataclass_fields__}


def manager_view(facts: SwarmFacts, api: SwarmAPI, scanner: SecretScanner, errors: list[CollectionError]) -> SwarmFacts:
    values = _fields(facts)
    failed: list[str] = []

    def call(endpoint: str, fn: Any) -> Any:
        try:
            return fn()
        except EngineError as exc:
            errors.append(CollectionError(Fact.SWARM, endpoint, exc.reason))
            failed.append(endpoint)
            return None

    swarm = call("/swarm", api.swarm)
    if swarm is not None:
        spec = _d(swarm.get("Spec"))
        ca = _d(spec.get("CAConfig"))
        expiry = _int(ca.get("NodeCertExpiry"))
        autolock = _d(spec.get("EncryptionConfig")).get("AutoLockManagers")
        rotation = swarm.get("RootRotationInProgress")
        values.update(
            autolock=autolock if isinstance(autolock, bool) else False,
            node_cert_expiry_s=None if expiry is None else expiry // NANOSECONDS,
            external_cas=len(_l(ca.get("ExternalCAs"))),
            ca_cert_expiry=cert_not_after(_s(_d(swarm.get("TLSInfo")).get("TrustRoot"))),
            root_rotation_in_progress=rotation if isinstance(rotation, bool) else None,
            data_path_port=_int(swarm.get("DataPathPort")),
        )
    nodes = call("/nodes", api.nodes)
    if nodes is not None:
        values["node_list"] = tuple(sorted((_node(n) for n in nodes if isinstance(n, Mapping)), key=lambda n: n.id))
    services = call("/services", api.services)
    if services is not None:
        specs = [_d(_d(_d(s).get("Spec")).get("TaskTemplate")).get("ContainerSpec") for s in services]
        values["services"] = len(services)
        values["services_with_secrets"] = sum(1 for c in specs if _l(_d(c).get("Secrets")))
        values["services_with_env_secrets"] = sum(1 for c in specs if _env_holds_secret(_d(c), scanner))
    secrets = call("/secrets", api.secrets)
    if secrets is not None:
        values["secrets"] = len(secrets)
    key = call("/swarm/unlockkey", api.unlock_key)
    if key is not None:
        values["unlock_key_set"] = bool(_s(key.get("UnlockKey")))
    if failed:
        values["manager_why"] = f"could not read {', '.join(failed)} (see the collection errors)"
    return SwarmFacts(**values)


def _node(n: Mapping[str, Any]) -> SwarmNode:
    spec, status, manager = _d(n.get("Spec")), _d(n.get("Status")), _d(n.get("ManagerStatus"))
    return SwarmNode(
        id=_s(n.get("ID")),
        hostname=_s(_d(n.get("Description")).get("Hostname")),
        role=_s(spec.get("Role")),
        state=_s(status.get("State")),
        availability=_s(spec.get("Availability")),
        addr=_s(status.get("Addr")),
        manager_addr=_s(manager.get("Addr")),
        leader=manager.get("Leader") is True,
        reachability=_s(manager.get("Reachability")),
    )


def _env_holds_secret(container_spec: Mapping[str, Any], scanner: SecretScanner) -> bool:
    env = [e for e in _l(container_spec.get("Env")) if isinstance(e, str)]
    return any(is_secret(var)[0] for var in scanner.scan_env(env))


# --- the root CA's expiry: a certificate's notAfter, from DER, without a crypto library ---------------

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]{1,65536}?)\s*-----END CERTIFICATE-----")


def cert_not_after(pem: str) -> str | None:
    """notAfter of the first certificate in `pem`, ISO 8601 (UTC); None when there is none or it is malformed."""
    m = _PEM.search(pem)
    if not m:
        return None
    try:
        der = base64.b64decode("".join(m.group(1).split()), validate=True)
        return _not_after(der)
    except (ValueError, IndexError, binascii.Error):
        return None


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at `pos`."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if not 0 < n <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("DER element runs past the end")
    return tag, pos, pos + length


def _not_after(der: bytes) -> str:
    _, cert, _ = _tlv(der, 0)  # Certificate ::= SEQUENCE
    _, tbs, _ = _tlv(der, cert)  # tbsCertificate ::= SEQUENCE
    pos = tbs
    tag, _, end = _tlv(der, pos)
    if tag == 0xA0:  # [0] version
        pos = end
    for _ in range(3):  # serialNumber, signature, issuer
        pos = _tlv(der, pos)[2]
    tag, validity, _ = _tlv(der, pos)
    if tag != 0x30:
        raise ValueError("no validity")
    not_before_end = _tlv(der, validity)[2]
    tag, start, end = _tlv(der, not_before_end)
    text = der[start:end].decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError("no notAfter time")
    when = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return when.isoformat()
