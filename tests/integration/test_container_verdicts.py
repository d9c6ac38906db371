"""Verdicts per container per check, from one real ``runbench scan`` of the scenario containers."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.support.runner import container_results, explain, find_result, verdict
from tests.support.scenarios import ScenarioSet

pytestmark = pytest.mark.integration

# shared/CATALOG.md, container section: every one of these must be evaluated once per container.
CONTAINER_CHECKS = (
    "container.apparmor",
    "container.selinux",
    "container.capabilities",
    "container.privileged",
    "container.sensitive_mounts",
    "container.sshd",
    "container.privileged_ports",
    "container.open_ports",
    "container.host_network",
    "container.memory_limit",
    "container.cpu_limit",
    "container.read_only_rootfs",
    "container.ports_all_interfaces",
    "container.restart_policy",
    "container.host_pid",
    "container.host_ipc",
    "container.devices",
    "container.ulimit_override",
    "container.mount_propagation",
    "container.host_uts",
    "container.seccomp",
    "container.exec_privileged",
    "container.exec_root",
    "container.cgroup_parent",
    "container.no_new_privileges",
    "container.healthcheck",
    "container.image_current",
    "container.pids_limit",
    "container.default_bridge",
    "container.host_userns",
    "container.docker_socket",
    "container.rw_host_mounts",
    "container.user",
    "container.env_secrets",
    "container.oom_kill_disable",
    "container.runtime_capabilities",
    "container.runtime_seccomp",
    "container.runtime_nnp",
    "container.runtime_root",
)

# (container, check, expected status)
EXPECTED = [
    ("rbt-nolimits", "container.memory_limit", "fail"),
    ("rbt-nolimits", "container.cpu_limit", "fail"),
    ("rbt-nolimits", "container.pids_limit", "fail"),
    ("rbt-nolimits", "container.default_bridge", "fail"),
    ("rbt-nolimits", "container.host_network", "pass"),
    ("rbt-nolimits", "container.host_pid", "pass"),
    ("rbt-nolimits", "container.host_ipc", "pass"),
    ("rbt-nolimits", "container.host_uts", "pass"),
    ("rbt-nolimits", "container.sshd", "pass"),
    # created only: --privileged cannot start here (no CAP_SYS_RESOURCE in the bounding set)
    ("rbt-privileged", "container.privileged", "fail"),
    ("rbt-privileged", "container.capabilities", "fail"),
    ("rbt-privileged", "container.seccomp", "fail"),
    ("rbt-privileged", "container.devices", "fail"),
    ("rbt-sysadmin", "container.capabilities", "fail"),
    ("rbt-netbind", "container.capabilities", "pass"),
    ("rbt-seccomp", "container.seccomp", "fail"),
    ("rbt-sock-rw", "container.docker_socket", "fail"),
    ("rbt-sock-ro", "container.docker_socket", "fail"),  # :ro does not stop API writes
    # rbt-varrun (a parent dir of the default socket) fails only where an engine socket exists below /run:
    # test_kernel_truth.py::test_socket_evidence_names_only_sockets_that_exist
    ("rbt-etc-rw", "container.sensitive_mounts", "fail"),
    ("rbt-etc-rw", "container.rw_host_mounts", "fail"),
    ("rbt-root-ro", "container.sensitive_mounts", "fail"),
    ("rbt-root-ro", "container.rw_host_mounts", "pass"),
    ("rbt-data-rw", "container.rw_host_mounts", "fail"),
    ("rbt-data-rw", "container.sensitive_mounts", "pass"),
    ("rbt-hostnet", "container.host_network", "fail"),
    ("rbt-hostpid", "container.host_pid", "fail"),
    ("rbt-hostipc", "container.host_ipc", "fail"),
    ("rbt-hostuts", "container.host_uts", "fail"),
    ("rbt-port80", "container.privileged_ports", "fail"),
    ("rbt-port80", "container.ports_all_interfaces", "fail"),
    ("rbt-port80", "container.open_ports", "manual"),
    ("rbt-port-local", "container.privileged_ports", "pass"),
    ("rbt-port-local", "container.ports_all_interfaces", "pass"),
    ("rbt-device", "container.devices", "fail"),
    ("rbt-ulimit", "container.ulimit_override", "manual"),
    ("rbt-envsecret", "container.env_secrets", "fail"),
    ("rbt-restart-always", "container.restart_policy", "fail"),
    ("rbt-sshd", "container.sshd", "fail"),
    ("rbt-root-user", "container.user", "fail"),
    ("rbt-nnp-false", "container.no_new_privileges", "fail"),
    # left created when the engine refuses rshared on a non-shared source (see test below)
    ("rbt-rshared", "container.mount_propagation", "fail"),
    ("rbt-unhealthy", "container.healthcheck", "fail"),
]


@pytest.mark.parametrize(
    ("container", "check", "expected"), EXPECTED, ids=[f"{c}:{k.split('.', 1)[1]}" for c, k, _ in EXPECTED]
)
def test_verdict(report: dict[str, Any], container: str, check: str, expected: str) -> None:
    result = find_result(report, container, check)
    assert result["status"] == expected, f"want {expected}; got {explain(result)}"


def test_hardened_container_passes_everything(report: dict[str, Any]) -> None:
    """rbt-hardened: every container.* check passes; only AppArmor/SELinux skip (neither is on here)."""
    results = container_results(report, "rbt-hardened")
    assert results, "no results for rbt-hardened"
    offenders = [
        r
        for r in results
        if r["check"].startswith("container.")
        and not (
            r["status"] == "pass"
            or (r["status"] == "skip" and r["check"] in ("container.apparmor", "container.selinux"))
        )
    ]
    assert not offenders, "rbt-hardened should pass every container check:\n" + "\n".join(explain(r) for r in offenders)


def test_skip_reasons_for_missing_lsms(report: dict[str, Any]) -> None:
    for check in ("container.apparmor", "container.selinux"):
        result = find_result(report, "rbt-hardened", check)
        assert result["status"] == "skip", explain(result)
        assert result.get("detail"), f"a skip must say why: {explain(result)}"


def test_every_container_check_once_per_container(report: dict[str, Any], scenarios: ScenarioSet) -> None:
    problems = []
    for name in scenarios.containers:
        counts = Counter(r["check"] for r in container_results(report, name))
        missing = [c for c in CONTAINER_CHECKS if counts[c] == 0]
        doubled = [c for c, n in counts.items() if n > 1]
        if missing or doubled:
            problems.append(f"{name}: missing {missing} duplicated {doubled}")
    assert not problems, "\n".join(problems)


def test_subjects_name_containers_by_short_id(report: dict[str, Any], scenarios: ScenarioSet) -> None:
    for name, container in scenarios.containers.items():
        for result in container_results(report, name):
            assert result["subject"]["id"] == container.id[:12], explain(result)


def test_oom_kill_disable_follows_what_the_engine_recorded(report: dict[str, Any], scenarios: ScenarioSet) -> None:
    # --oom-kill-disable without a memory limit. On cgroup v1 (these machines) the engine keeps it:
    # HostConfig.OomKillDisable is true and the verdict must be fail. An engine that drops the option
    # (cgroup v2, or a kernel without support: it warns and records false/null) makes the container
    # safe, and then the correct verdict is pass. Assert what inspect shows.
    recorded = scenarios.inspect("rbt-oomkill")["HostConfig"].get("OomKillDisable")
    expected = "fail" if recorded else "pass"
    result = find_result(report, "rbt-oomkill", "container.oom_kill_disable")
    assert result["status"] == expected, f"inspect says OomKillDisable={recorded!r}; got {explain(result)}"


def test_rshared_scenario_state(scenarios: ScenarioSet) -> None:
    """Document what the engine does with rshared: the mount is recorded whether or not it could start."""
    attrs = scenarios.inspect("rbt-rshared")
    mounts = [m for m in attrs["Mounts"] if m.get("Destination") == "/shared"]
    assert mounts and mounts[0].get("Propagation") == "rshared", attrs["Mounts"]
    assert attrs["State"]["Status"] in ("running", "created"), attrs["State"]


def test_privileged_scenario_is_created_not_running(report: dict[str, Any], scenarios: ScenarioSet) -> None:
    attrs = scenarios.inspect("rbt-privileged")
    assert attrs["State"]["Status"] == "created" and attrs["HostConfig"]["Privileged"] is True
    assert verdict(report, "rbt-privileged", "container.privileged") == "fail"


def test_env_secret_evidence_names_keys(report: dict[str, Any]) -> None:
    result = find_result(report, "rbt-envsecret", "container.env_secrets")
    text = json.dumps(result.get("evidence"))
    for key in ("DB_PASSWORD", "AWS_SECRET_ACCESS_KEY"):
        assert key in text, f"{key} not named in the evidence: {explain(result)}"


def test_unhealthy_fails_for_being_unhealthy(report: dict[str, Any], scenarios: ScenarioSet) -> None:
    # rbt-unhealthy has a healthcheck, so the fail must come from State.Health, not from a missing check.
    assert scenarios.inspect("rbt-unhealthy")["State"]["Health"]["Status"] == "unhealthy"
    result = find_result(report, "rbt-unhealthy", "container.healthcheck")
    assert result["status"] == "fail", explain(result)
    assert "unhealthy" in (str(result.get("detail")) + json.dumps(result.get("evidence"))), explain(result)
