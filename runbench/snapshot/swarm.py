"""Swarm facts: the node's membership as `docker info` reports it and, on a manager, the swarm endpoints
(GET /swarm, /nodes, /services, /secrets, /swarm/unlockkey)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SwarmNode:
    """One node of the swarm (GET /nodes)."""

    id: str
    hostname: str = ""
    role: str = ""  # manager | worker
    state: str = ""  # Status.State: ready | down | unknown | disconnected
    availability: str = ""  # active | pause | drain
    addr: str = ""  # Status.Addr: the address the node is reached at
    manager_addr: str = ""  # ManagerStatus.Addr: the manager's advertised address (host:2377)
    leader: bool = False
    reachability: str = ""  # ManagerStatus.Reachability: reachable | unreachable | unknown


@dataclass(frozen=True, slots=True)
class SwarmFacts:
    state: str  # LocalNodeState: inactive | pending | active | error | locked
    node_id: str = ""
    node_addr: str = ""
    cluster_id: str = ""
    manager: bool = False  # ControlAvailable: this node is a manager
    managers: int | None = None
    nodes: int | None = None
    # --- a manager's view of the swarm; None: not read (a worker, an older snapshot, or see errors) ---
    node_list: tuple[SwarmNode, ...] | None = None
    autolock: bool | None = None  # Spec.EncryptionConfig.AutoLockManagers
    unlock_key_set: bool | None = None  # GET /swarm/unlockkey answered a key (its value is never kept)
    node_cert_expiry_s: int | None = None  # Spec.CAConfig.NodeCertExpiry, in seconds
    ca_cert_expiry: str | None = None  # notAfter of the swarm's root CA certificate (TLSInfo.TrustRoot), ISO 8601
    external_cas: int | None = None  # Spec.CAConfig.ExternalCAs configured
    root_rotation_in_progress: bool | None = None
    data_path_port: int | None = None  # VXLAN port (4789 by default)
    services: int | None = None
    services_with_secrets: int | None = None  # services that mount swarm secrets
    services_with_env_secrets: int | None = None  # services whose environment holds a secret (runbench.secrets)
    secrets: int | None = None  # swarm secrets defined
    manager_why: str | None = None  # why the manager's view is missing ("this node is a worker", a failed call)

    @property
    def active(self) -> bool:
        return self.state not in ("inactive", "")
