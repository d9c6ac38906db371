"""The shapes of the Engine API answers runbench reads, checked before they are parsed.

An answer whose field has an unexpected JSON type (a string where the engine sends a boolean, a number where
it sends a list) is not guessed at: the collector records a collection error naming the endpoint and the
field, so the subject gets `error` results instead of verdicts decided on a default. `null` is accepted
everywhere: the engine sends it for unset fields, and the parsers read it as unset. Only the fields the
parsers read are checked; unknown fields are the engine's business. Shapes hold for API 1.41 to 1.51.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A shape: a Python type (str, int, bool, dict, list), a list of one shape (every item), a dict of field ->
# shape (an object with those optional fields), or `MapOf(shape)` (an object whose every value has the shape).


class MapOf:
    __slots__ = ("item",)

    def __init__(self, item: Any) -> None:
        self.item = item


STRS = [str]
HEALTHCHECK = {"Test": STRS, "Interval": int, "Timeout": int, "Retries": int}

VERSION = {"Version": str, "ApiVersion": str, "MinAPIVersion": str}
INFO = {
    "Name": str,
    "ID": str,
    "ServerVersion": str,
    "OperatingSystem": str,
    "OSType": str,
    "KernelVersion": str,
    "Architecture": str,
    "DockerRootDir": str,
    "Driver": str,
    "LoggingDriver": str,
    "CgroupDriver": str,
    "CgroupVersion": str,
    "SecurityOptions": STRS,
    "ExperimentalBuild": bool,
    "LiveRestoreEnabled": bool,
    "Debug": bool,
    "Containers": int,
    "Images": int,
    "NCPU": int,
    "Labels": STRS,
    "DefaultRuntime": str,
    "RegistryConfig": {"InsecureRegistryCIDRs": STRS, "Mirrors": STRS, "IndexConfigs": MapOf({"Secure": bool})},
    "Swarm": {
        "LocalNodeState": str,
        "NodeID": str,
        "NodeAddr": str,
        "ControlAvailable": bool,
        "Managers": int,
        "Nodes": int,
        "Cluster": {"ID": str},
    },
}
CONTAINER_ROW = {"Id": str, "Names": STRS, "Image": str, "ImageID": str, "State": str}
CONTAINER = {
    "Id": str,
    "Name": str,
    "Image": str,
    "Created": str,
    "AppArmorProfile": str,
    "ProcessLabel": str,
    "ExecIDs": STRS,
    "State": {"Status": str, "Pid": int, "Health": {"Status": str}},
    "Config": {
        "Image": str,
        "User": str,
        "Env": STRS,
        "Labels": MapOf(str),
        "Healthcheck": HEALTHCHECK,
        "ExposedPorts": MapOf(dict),
        "Shell": STRS,
        "Cmd": STRS,
        "Entrypoint": STRS,
    },
    "HostConfig": {
        "Privileged": bool,
        "CapAdd": STRS,
        "CapDrop": STRS,
        "SecurityOpt": STRS,
        "ReadonlyRootfs": bool,
        "NetworkMode": str,
        "PidMode": str,
        "IpcMode": str,
        "UTSMode": str,
        "UsernsMode": str,
        "CgroupParent": str,
        "Memory": int,
        "NanoCpus": int,
        "CpuQuota": int,
        "CpuPeriod": int,
        "CpuShares": int,
        "CpusetCpus": str,
        "PidsLimit": int,
        "OomKillDisable": bool,
        "RestartPolicy": {"Name": str, "MaximumRetryCount": int},
        "PortBindings": MapOf([{"HostIp": str, "HostPort": str}]),
        "PublishAllPorts": bool,
        "Devices": [{"PathOnHost": str, "PathInContainer": str, "CgroupPermissions": str}],
        "DeviceCgroupRules": STRS,
        "DeviceRequests": [{"Driver": str, "Count": int, "DeviceIDs": STRS, "Capabilities": [STRS]}],
        "Ulimits": [{"Name": str, "Soft": int, "Hard": int}],
    },
    "NetworkSettings": {"Networks": MapOf(dict)},
    "Mounts": [
        {
            "Type": str,
            "Source": str,
            "Destination": str,
            "RW": bool,
            "Propagation": str,
            "Mode": str,
            "Name": str,
            "Driver": str,
        }
    ],
}
EXEC = {
    "ID": str,
    "Running": bool,
    "Privileged": bool,
    "ProcessConfig": {"entrypoint": str, "arguments": STRS, "user": str, "privileged": bool, "tty": bool},
    "Pid": int,
}
IMAGE = {
    "Id": str,
    "RepoTags": STRS,
    "RepoDigests": STRS,
    "Created": str,
    "Size": int,
    "Config": {
        "User": str,
        "Env": STRS,
        "Labels": MapOf(str),
        "Healthcheck": HEALTHCHECK,
        "ExposedPorts": MapOf(dict),
        "Entrypoint": STRS,
        "Cmd": STRS,
    },
    "RootFS": {"Layers": STRS},
}
# a volume in use (GET /volumes/{name}): only what the mount resolution reads; Options values stay unread
# but for a bind-backed volume of the local driver (type, o, device)
VOLUME = {"Name": str, "Driver": str, "Mountpoint": str, "Options": MapOf(str), "Scope": str}
HISTORY = [{"CreatedBy": str, "Created": int, "Size": int, "Tags": STRS, "Comment": str, "Id": str}]
IMAGE_ROWS = [{"Id": str, "RepoTags": STRS}]
# The swarm endpoints of a manager (runbench.collect.swarm). Only the fields read are checked; secrets in
# these answers (join tokens, the unlock key, services' environment) are never kept.
SWARM = {
    "Spec": {
        "CAConfig": {"NodeCertExpiry": int, "ExternalCAs": [dict]},
        "EncryptionConfig": {"AutoLockManagers": bool},
    },
    "TLSInfo": {"TrustRoot": str},
    "RootRotationInProgress": bool,
    "DataPathPort": int,
}
NODES = [
    {
        "ID": str,
        "Spec": {"Role": str, "Availability": str},
        "Description": {"Hostname": str},
        "Status": {"State": str, "Addr": str},
        "ManagerStatus": {"Leader": bool, "Reachability": str, "Addr": str},
    }
]
SERVICES = [{"ID": str, "Spec": {"TaskTemplate": {"ContainerSpec": {"Env": STRS, "Secrets": [dict]}}}}]
SECRETS = [{"ID": str}]
UNLOCK_KEY = {"UnlockKey": str}
NETWORKS = [{"Id": str, "Name": str, "Driver": str, "Scope": str, "Internal": bool, "Options": MapOf(str)}]

_NAMES = {str: "a string", int: "a number", bool: "a boolean", dict: "an object", list: "a list"}
MAX_PROBLEMS = 3


def problems(value: Any, shape: Any, where: str = "") -> list[str]:
    """Where `value` departs from `shape` (at most a few, each naming the field path)."""
    found: list[str] = []
    _check(value, shape, where, found)
    return found


def first_problem(endpoint: str, value: Any, shape: Any) -> str:
    """'' when the answer has the expected shape, else `GET endpoint: field: expected ..., got ...`."""
    if _fits(value, shape):  # the usual case, decided without building a field path per value
        return ""
    found = problems(value, shape)
    if not found:
        return ""
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"GET {endpoint}: unexpected answer: {found[0]}{more}"


def _check(value: Any, shape: Any, where: str, found: list[str]) -> None:
    if value is None or len(found) >= MAX_PROBLEMS:
        return
    if isinstance(shape, type):
        ok = isinstance(value, shape) and not (shape is int and isinstance(value, bool))
        if shape is int and isinstance(value, float) and value.is_integer():
            ok = True
        if not ok:
            found.append(f"{where or 'the answer'}: expected {_NAMES[shape]}, got {_kind(value)}")
        return
    if isinstance(shape, list):
        if not isinstance(value, list):
            found.append(f"{where or 'the answer'}: expected a list, got {_kind(value)}")
            return
        for i, item in enumerate(value):
            _check(item, shape[0], f"{where}[{i}]", found)
            if len(found) >= MAX_PROBLEMS:
                return
        return
    if not isinstance(value, dict):
        found.append(f"{where or 'the answer'}: expected an object, got {_kind(value)}")
        return
    if isinstance(shape, MapOf):
        for key, item in value.items():
            _check(item, shape.item, f"{where}[{_key(key)}]", found)
        return
    assert isinstance(shape, Mapping)
    for key, sub in shape.items():
        if key in value:
            _check(value[key], sub, f"{where}.{key}" if where else key, found)


def _fits(value: Any, shape: Any) -> bool:
    """Whether `_check` would find nothing: the same rules, without the field paths of its messages (plain
    loops: this runs for every answer of a thousand-container inventory)."""
    if value is None:
        return True
    if type(shape) is type:
        if shape is int:
            if type(value) is int:
                return True
            if isinstance(value, int):
                return not isinstance(value, bool)
            return isinstance(value, float) and value.is_integer()
        return isinstance(value, shape)
    if type(shape) is list:
        if not isinstance(value, list):
            return False
        item = shape[0]
        if item is str:
            for v in value:  # noqa: SIM110 - a loop, not all() over a generator: this is the hot path
                if v is not None and not isinstance(v, str):
                    return False
            return True
        for v in value:  # noqa: SIM110 - see above
            if not _fits(v, item):
                return False
        return True
    if not isinstance(value, dict):
        return False
    if isinstance(shape, MapOf):
        item = shape.item
        for v in value.values():  # noqa: SIM110 - see above
            if not _fits(v, item):
                return False
        return True
    for k, sub in shape.items():
        v = value.get(k)
        if v is not None and not _fits(v, sub):
            return False
    return True


def _kind(value: Any) -> str:
    return _NAMES.get(type(value), "a number" if isinstance(value, float) else type(value).__name__)


def _key(key: str) -> str:
    return repr(key[:40])
