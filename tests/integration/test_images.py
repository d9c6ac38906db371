"""The image checks on a real engine, on images built offline FROM the busybox base (tests/support/testimages.py
IMAGE_CHECK_IMAGES): `runbench image [--deep] REF...` alone (the pipeline use), and the images of containers
created with a moving tag, no tag, a fixed tag and an image id (`scan --all`, `--images all`). Each image
asserts the verdict its name promises; no fake secret appears in any output.

A digest reference (`name@sha256:…`) needs a registry to give an image a RepoDigest, and none is reachable
here: that case is covered by the unit tests (tests/unit/test_image_checks.py), as is ADD of a remote URL
(a recorded BuildKit history: the classic builder cannot fetch offline and records no URL anyway).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from tests.support.runner import Run, explain, run_runbench
from tests.support.scenarios import remove_named
from tests.support.testimages import IMAGE_CHECK_IMAGES, IMAGE_CHECK_SECRETS, IMG, ensure_image_check_images

pytestmark = pytest.mark.integration

JSON = ["--format", "json", "-o", "-", "--no-color"]
IMAGES = sorted(IMAGE_CHECK_IMAGES)
LABELS = {"runbench.test": "1", "runbench.test.images": "1"}
# container name -> the reference it is created with (the id one is filled in from the build)
REFERENCES = {
    "rbt-img-latest": f"{IMG}-latest:latest",
    "rbt-img-notag": f"{IMG}-notag",
    "rbt-img-pinned": f"{IMG}-pinned:1.0",
    "rbt-img-byid": "",
}


def leaks(text: str) -> list[str]:
    found = []
    variants = (text, text.replace("\\/", "/"))
    for value in IMAGE_CHECK_SECRETS.values():
        for i in range(len(value) - 7):
            fragment = value[i : i + 8]
            if any(fragment in v for v in variants):
                found.append(fragment)
    return found


def image_result(report: dict[str, Any], image: str, check_id: str) -> dict[str, Any]:
    matches = [
        r
        for r in report["results"]
        if r["check"] == check_id and r["subject"]["kind"] == "image" and r["subject"]["name"] == image
    ]
    names = sorted({r["subject"]["name"] for r in report["results"] if r["subject"]["kind"] == "image"})
    assert len(matches) == 1, f"{len(matches)} {check_id} results for image {image}; images: {names}"
    return matches[0]


def verdict(report: dict[str, Any], image: str, check_id: str) -> str:
    return str(image_result(report, image, check_id)["status"])


@pytest.fixture(scope="module")
def built(docker_client: docker.DockerClient) -> dict[str, str]:
    return ensure_image_check_images(docker_client)


@pytest.fixture(scope="module")
def deep(built: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict[str, Any], str]:
    """`runbench image --deep` over every test image, JSON on stdout, the facts kept with --snapshot."""
    snapshot = tmp_path_factory.mktemp("images") / "snapshot.json"
    run = run_runbench("image", "--deep", *IMAGES, *JSON, "--snapshot", str(snapshot), timeout=300)
    assert run.returncode == 1, run.describe()  # high failures: the planted secrets
    return run, run.json(), snapshot.read_text(encoding="utf-8")


EXPECTED = [
    ("nouser:1", "image.user", "fail"),
    ("root:1", "image.user", "fail"),
    ("good:1", "image.user", "pass"),
    ("nouser:1", "image.healthcheck", "fail"),
    ("nohealth:1", "image.healthcheck", "fail"),
    ("good:1", "image.healthcheck", "pass"),
    ("add:1", "image.add_instruction", "fail"),
    ("good:1", "image.add_instruction", "pass"),
    ("envkey:1", "image.secrets", "fail"),
    ("argtoken:1", "image.secrets", "fail"),
    ("labeltoken:1", "image.secrets", "fail"),
    ("good:1", "image.secrets", "pass"),
    ("ssh:1", "image.exposed_ssh", "fail"),
    ("good:1", "image.exposed_ssh", "pass"),
    ("update:1", "image.update_alone", "fail"),
    ("good:1", "image.update_alone", "pass"),
    ("setuid:1", "image.setuid_files", "fail"),
    ("whiteout:1", "image.setuid_files", "pass"),
    ("good:1", "image.setuid_files", "pass"),
    ("creds:1", "image.sensitive_files", "fail"),
    ("whiteout:1", "image.sensitive_files", "pass"),
    ("good:1", "image.sensitive_files", "pass"),
    ("creds:1", "image.world_writable", "fail"),
    ("good:1", "image.world_writable", "pass"),
    ("good:1", "image.labels", "pass"),
    ("nouser:1", "image.labels", "fail"),
    ("good:1", "image.rebuilt_recently", "pass"),
    ("latest:latest", "image.tag_pinning", "fail"),
    ("pinned:1.0", "image.tag_pinning", "pass"),
    ("good:1", "image.content_trust", "manual"),
    ("good:1", "image.minimal", "manual"),
]


@pytest.mark.parametrize(("image", "check_id", "status"), EXPECTED, ids=[f"{i}-{c}" for i, c, _ in EXPECTED])
def test_image_verdicts(deep: tuple[Run, dict[str, Any], str], image: str, check_id: str, status: str) -> None:
    result = image_result(deep[1], f"{IMG}-{image}", check_id)
    assert result["status"] == status, explain(result)


def test_setuid_and_credential_files_are_named(deep: tuple[Run, dict[str, Any], str]) -> None:
    setuid = image_result(deep[1], f"{IMG}-setuid:1", "image.setuid_files")
    assert "/usr/bin/suidtool (4755)" in json.dumps(setuid["evidence"]), explain(setuid)
    creds = json.dumps(image_result(deep[1], f"{IMG}-creds:1", "image.sensitive_files")["evidence"])
    assert "/app/.env (.env file)" in creds and "/root/.ssh/id_rsa (SSH private key)" in creds
    world = json.dumps(image_result(deep[1], f"{IMG}-creds:1", "image.world_writable")["evidence"])
    assert "/app/shared.conf (0666)" in world


def test_secret_evidence_names_key_and_place_never_the_value(deep: tuple[Run, dict[str, Any], str]) -> None:
    report = deep[1]
    shown = {
        image: json.dumps(image_result(report, f"{IMG}-{image}", "image.secrets")["evidence"])
        for image in ("envkey:1", "argtoken:1", "labeltoken:1")
    }
    assert "Config.Env AWS_SECRET_ACCESS_KEY=" in shown["envkey:1"]
    assert ": ENV AWS_SECRET_ACCESS_KEY=" in shown["envkey:1"]  # and its history step
    assert ": ARG BUILD_TOKEN=" in shown["argtoken:1"] and "RUN build arg BUILD_TOKEN=" in shown["argtoken:1"]
    assert "label com.example.note=gh" in shown["labeltoken:1"] and "[GitHub Token]" in shown["labeltoken:1"]


def test_add_of_a_local_file_is_low(deep: tuple[Run, dict[str, Any], str]) -> None:
    result = image_result(deep[1], f"{IMG}-add:1", "image.add_instruction")
    assert result["severity"] == "low" and "ADD file:" in json.dumps(result["evidence"]), explain(result)


def test_content_trust_says_notary_v1_is_retired(deep: tuple[Run, dict[str, Any], str]) -> None:
    result = image_result(deep[1], f"{IMG}-good:1", "image.content_trust")
    assert "Notary v1" in result["detail"] and "cosign" in result["detail"]


def test_named_images_are_judged_alone(deep: tuple[Run, dict[str, Any], str]) -> None:
    report = deep[1]
    assert {r["subject"]["kind"] for r in report["results"]} == {"image"}
    assert {r["check"].split(".")[0] for r in report["results"]} == {"image"}
    assert set(report["score"]["images"]) >= {f"{IMG}-{i}" for i in ("good:1", "envkey:1", "setuid:1")}


def test_no_secret_value_in_any_output(deep: tuple[Run, dict[str, Any], str], built: dict[str, str]) -> None:
    run, _, snapshot = deep
    assert not leaks(run.stdout + run.stderr), leaks(run.stdout)
    assert not leaks(snapshot), leaks(snapshot)
    terminal = run_runbench("image", "-v", "--color", *[i for i in IMAGES if "token" in i or "key" in i])
    assert terminal.returncode == 1, terminal.describe()
    assert "AWS_SECRET_ACCESS_KEY" in terminal.stdout
    assert not leaks(terminal.stdout + terminal.stderr)


def test_without_deep_the_file_checks_are_manual(built: dict[str, str]) -> None:
    run = run_runbench("image", f"{IMG}-setuid:1", *JSON)
    assert run.returncode in (0, 1), run.describe()
    for check_id in ("image.setuid_files", "image.sensitive_files", "image.world_writable"):
        result = image_result(run.json(), f"{IMG}-setuid:1", check_id)
        assert result["status"] == "manual" and "--deep" in result["detail"], explain(result)


def test_the_exit_code_gates_a_pipeline(built: dict[str, str]) -> None:
    good = run_runbench("image", "--deep", "--fail-on", "medium", "-q", f"{IMG}-good:1")
    assert good.returncode == 0, good.describe()
    bad = run_runbench("image", "-q", f"{IMG}-envkey:1")
    assert bad.returncode == 1, bad.describe()
    assert not leaks(bad.stdout + bad.stderr)


def test_an_unknown_image_is_a_usage_error(built: dict[str, str]) -> None:
    run = run_runbench("image", "runbench-test/no-such-image:404")
    assert run.returncode == 2, run.describe()
    assert "no local image 'runbench-test/no-such-image:404'" in run.stderr


def test_an_image_named_by_id_is_pinned(built: dict[str, str]) -> None:
    image_id = built[f"{IMG}-good:1"]
    run = run_runbench("image", image_id, *JSON)
    result = image_result(run.json(), f"{IMG}-good:1", "image.tag_pinning")
    assert result["status"] == "pass" and "an image id" in result["detail"], explain(result)


# --- the images of containers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def containers(docker_client: docker.DockerClient, built: dict[str, str]) -> Iterator[dict[str, str]]:
    refs = {**REFERENCES, "rbt-img-byid": built[f"{IMG}-good:1"]}
    for name in refs:
        remove_named(docker_client, name)
    for name, ref in refs.items():
        docker_client.containers.create(ref, ["sleep", "3600"], name=name, labels=LABELS)
    try:
        yield refs
    finally:
        for name in refs:
            remove_named(docker_client, name)


@pytest.fixture(scope="module")
def in_use(containers: dict[str, str]) -> dict[str, Any]:
    run = run_runbench(
        "scan", "--all", "--label", "runbench.test.images=1", "--images", "all",
        "--check", "image.*", "--check", "ops.*", *JSON,
    )  # fmt: skip
    assert run.returncode in (0, 1), run.describe()
    return run.json()


@pytest.mark.parametrize(
    ("image", "status", "detail"),
    [
        ("latest:latest", "fail", ":latest moves"),
        ("notag:latest", "fail", "no tag"),
        ("pinned:1.0", "pass", "tag 1.0"),
        ("good:1", "pass", "an image id"),
    ],
)
def test_the_reference_each_container_was_created_with(
    in_use: dict[str, Any], image: str, status: str, detail: str
) -> None:
    result = image_result(in_use, f"{IMG}-{image}", "image.tag_pinning")
    assert result["status"] == status and detail in result["detail"], explain(result)


def test_images_all_adds_the_unused_images(in_use: dict[str, Any]) -> None:
    assert verdict(in_use, f"{IMG}-root:1", "image.user") == "fail"  # no container runs it
    pinning = image_result(in_use, f"{IMG}-root:1", "image.tag_pinning")
    assert pinning["status"] == "pass" and "RepoTags" in pinning["evidence"], explain(pinning)


def test_container_sprawl_counts_the_listed_containers(in_use: dict[str, Any]) -> None:
    (result,) = [r for r in in_use["results"] if r["check"] == "ops.container_sprawl"]
    assert result["status"] == "pass", explain(result)
    assert result["evidence"]["stopped, created or dead"] == "4"


def test_images_are_inspected_once_however_many_containers_use_them(
    docker_client: docker.DockerClient, containers: dict[str, str], tmp_path: Path
) -> None:
    extra = [f"rbt-img-twin{i}" for i in range(3)]
    try:
        for name in extra:
            docker_client.containers.create(f"{IMG}-pinned:1.0", ["sleep", "1"], name=name, labels=LABELS)
        snap = tmp_path / "snap.json"
        run = run_runbench("collect", "--all", "--label", "runbench.test.images=1", "-o", str(snap))
        assert run.returncode == 0, run.describe()
        data = json.loads(snap.read_text())
        pinned = [i for i in data["images"] if f"{IMG}-pinned:1.0" in i["tags"]]
        assert len(pinned) == 1 and pinned[0]["references"] == [f"{IMG}-pinned:1.0"]
        assert len(data["images"]) == 4  # latest, notag, pinned, good (by id)
    finally:
        for name in extra:
            remove_named(docker_client, name)
