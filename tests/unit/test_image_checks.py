"""Every image check, case by case, through the loaded catalog, on images built the way the collector builds
them (tests/unit/builders.py `built_image`: inspect and history answers through runbench.collect.images and
the real secret scanner); plus the history parsing the checks rely on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from builders import (
    COMPLIANT_HISTORY,
    IMAGE_ID,
    SCANNER,
    built_image,
    context,
    file_finding,
    history_rows,
    image_contents,
)

from runbench.authoring import Context
from runbench.catalog import Catalog
from runbench.collect.images import image_facts, pairs, split_step
from runbench.model import Scope, Severity, Status, Verdict
from runbench.policy import Params
from runbench.snapshot import DaemonFacts, ImageFacts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "image"
PASS, FAIL, MANUAL, ERROR = Status.PASS, Status.FAIL, Status.MANUAL, Status.ERROR

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GH_TOKEN = "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123"
BUILD_TOKEN = "build-Fake-Tk4Wq8Zr2Lm6"
VALUES = (AWS_SECRET, GH_TOKEN, BUILD_TOKEN, "Fake-curl-pw-77")


@dataclass(frozen=True)
class Case:
    check_id: str
    facts: ImageFacts
    expected: Status
    ctx: Context | None
    label: str
    severity: Severity | None
    detail: str

    def __str__(self) -> str:
        return f"{self.check_id.removeprefix('image.')}-{self.expected.value}-{self.label}"


def case(
    check_id: str,
    facts: ImageFacts,
    expected: Status,
    ctx: Context | None = None,
    *,
    label: str = "",
    severity: Severity | None = None,
    detail: str = "",
) -> Case:
    return Case(check_id, facts, expected, ctx, label or "case", severity, detail)


I = built_image  # noqa: E741
DEEP = image_contents()
STEPS = COMPLIANT_HISTORY


def with_steps(*extra: str) -> tuple[str, ...]:
    return (*STEPS, *extra)


def remote_add_history() -> list[dict[str, object]]:
    return list(json.loads((FIXTURES / "buildkit-remote-add-history.json").read_text()))


CASES = [
    # 4.1
    case("image.user", I(), PASS, label="numeric"),
    case("image.user", I(user="app"), PASS, label="named"),
    case("image.user", I(user=""), FAIL, label="unset", detail="no USER"),
    case("image.user", I(user="0:0"), FAIL, label="uid0-gid0"),
    case("image.user", I(user="root"), FAIL, label="root"),
    # 4.2
    case("image.trusted_base", I(), MANUAL, label="no-policy"),
    case(
        "image.trusted_base",
        I(),
        PASS,
        context(params=Params(trusted_registries=("registry.example",))),
        label="trusted",
    ),
    case(
        "image.trusted_base",
        I(tags=("docker.io/someone/app:1",), references=("someone/app:1",)),
        FAIL,
        context(params=Params(trusted_registries=("registry.example",))),
        label="outside",
        detail="someone/app",
    ),
    case(
        "image.trusted_base",
        I(tags=(), references=()),
        MANUAL,
        context(params=Params(trusted_registries=("registry.example",))),
        label="local-only",
    ),
    # 4.3
    case("image.minimal", I(), MANUAL, label="evidence"),
    case("image.minimal", I(contents=DEEP), MANUAL, label="deep-evidence"),
    # 4.4
    case("image.rebuilt_recently", I(), PASS, label="a-month"),
    case("image.rebuilt_recently", I(created="2025-06-01T00:00:00Z"), FAIL, label="seven-months", detail="214 days"),
    case(
        "image.rebuilt_recently",
        I(created="2025-06-01T00:00:00Z"),
        PASS,
        context(params=Params(max_image_age_days=365)),
        label="policy",
    ),
    case("image.rebuilt_recently", I(created="1970-01-01T00:00:00Z"), MANUAL, label="reproducible"),
    case("image.rebuilt_recently", I(created=""), ERROR, label="unknown"),
    # 4.5
    case("image.content_trust", I(), MANUAL, label="retired", detail="Notary v1"),
    # 4.6
    case("image.healthcheck", I(), PASS, label="cmd"),
    case("image.healthcheck", I(healthcheck={}), FAIL, label="none", detail="no HEALTHCHECK"),
    case("image.healthcheck", I(healthcheck={"Test": ["NONE"]}), FAIL, label="disabled", detail="NONE"),
    # 4.7
    case("image.update_alone", I(), PASS, label="with-install"),
    case("image.update_alone", I(history=with_steps("/bin/sh -c apt-get update")), FAIL, label="apt", detail="1 step"),
    case("image.update_alone", I(history=with_steps("RUN /bin/sh -c apk update # buildkit")), FAIL, label="apk"),
    case("image.update_alone", I(history=with_steps("/bin/sh -c apk add --no-cache curl")), PASS, label="apk-add"),
    case("image.update_alone", I(history=with_steps("/bin/sh -c dnf -y makecache")), FAIL, label="dnf"),
    case("image.update_alone", I(history=None), ERROR, label="no-history"),
    # 4.8 and the deep scan
    case("image.setuid_files", I(), MANUAL, label="no-deep", detail="--deep"),
    case("image.setuid_files", I(contents=DEEP), PASS, label="clean"),
    case(
        "image.setuid_files",
        I(contents=image_contents(setuid=(file_finding("/usr/bin/passwd", 0o4755),))),
        FAIL,
        label="passwd",
    ),
    case("image.setuid_files", I(contents=image_contents(complete=False, why="cut")), ERROR, label="incomplete"),
    case(
        "image.setuid_files",
        I(contents=image_contents(complete=False, why="cut", setuid=(file_finding("/bin/su", 0o4755),))),
        FAIL,
        label="incomplete-but-found",
    ),
    case("image.world_writable", I(), MANUAL, label="no-deep"),
    case("image.world_writable", I(contents=DEEP), PASS, label="clean"),
    case(
        "image.world_writable",
        I(contents=image_contents(world_writable=(file_finding("/app/config.yml", 0o666),))),
        FAIL,
        label="file",
    ),
    case("image.sensitive_files", I(), MANUAL, label="no-deep"),
    case("image.sensitive_files", I(contents=DEEP), PASS, label="clean"),
    case(
        "image.sensitive_files",
        I(contents=image_contents(sensitive=(file_finding("/root/.ssh/id_rsa", 0o600, "SSH private key"),))),
        FAIL,
        label="key",
        detail="1 credential",
    ),
    # 4.9
    case("image.add_instruction", I(), PASS, label="rootfs-exempt"),
    case(
        "image.add_instruction",
        I(history=with_steps("/bin/sh -c #(nop) ADD file:89ab in /app/conf ")),
        FAIL,
        label="local",
        severity=Severity.LOW,
    ),
    case("image.add_instruction", I(history=remote_add_history()), FAIL, label="remote-url", severity=Severity.MEDIUM),
    # 4.10
    case("image.secrets", I(), PASS, label="clean"),
    case("image.secrets", I(env=(f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}",)), FAIL, label="env-aws"),
    case(
        "image.secrets",
        I(
            history=with_steps(
                f"/bin/sh -c #(nop)  ARG BUILD_TOKEN={BUILD_TOKEN}", f"|1 BUILD_TOKEN={BUILD_TOKEN} /bin/sh -c make"
            )
        ),
        FAIL,
        label="arg",
        detail="2 secret",
    ),
    case("image.secrets", I(labels={"com.example.note": GH_TOKEN}), FAIL, label="label-innocent-key"),
    case(
        "image.secrets",
        I(history=with_steps("/bin/sh -c curl -fsS -u ci:Fake-curl-pw-77 https://repo.example/x -o /x")),
        FAIL,
        label="run-curl",
    ),
    case(
        "image.secrets",
        I(
            env=("TOKEN_TTL=3600", "DB_PASSWORD_FILE=/run/secrets/db"),
            history=with_steps("/bin/sh -c #(nop)  ARG SECRET_KEY="),
        ),
        PASS,
        label="not-secrets",
    ),
    case("image.secrets", I(history=None), PASS, label="env-only-without-history"),
    # 4.11 / 4.12
    case("image.verified_packages", I(), MANUAL, label="evidence"),
    case("image.verified_packages", I(history=None), ERROR, label="no-history"),
    case("image.signed_artifacts", I(digests=("registry.example/app@sha256:" + "c" * 64,)), MANUAL, label="evidence"),
    # beyond
    case("image.tag_pinning", I(), PASS, label="version-tag"),
    case("image.tag_pinning", I(references=("registry.example/app:latest",)), FAIL, label="latest"),
    case("image.tag_pinning", I(references=("registry.example/app",)), FAIL, label="no-tag", detail="no tag"),
    case("image.tag_pinning", I(references=("localhost:5000/app",)), FAIL, label="registry-port-no-tag"),
    case("image.tag_pinning", I(references=("registry.example/app:stable",)), FAIL, label="stable"),
    case("image.tag_pinning", I(references=("registry.example/app@sha256:" + "d" * 64,)), PASS, label="digest"),
    case("image.tag_pinning", I(references=(IMAGE_ID,)), PASS, label="image-id"),
    case("image.tag_pinning", I(references=(), tags=("app:2.0",)), PASS, label="unused-tagged"),
    case("image.tag_pinning", I(references=(), tags=()), FAIL, label="dangling"),
    case("image.labels", I(), PASS, label="oci"),
    case("image.labels", I(labels={}), FAIL, label="none", detail="missing 3"),
    case(
        "image.labels",
        I(labels={"org.opencontainers.image.source": "https://x", "org.opencontainers.image.version": "1"}),
        FAIL,
        label="no-contact",
        detail="missing 1",
    ),
    case(
        "image.labels",
        I(
            labels={
                "org.opencontainers.image.source": "https://x",
                "org.opencontainers.image.version": "1",
                "securitytxt": "https://example.com/.well-known/security.txt",
            }
        ),
        PASS,
        label="securitytxt",
    ),
    case("image.exposed_ssh", I(exposed=("8080/tcp",)), PASS, label="http"),
    case("image.exposed_ssh", I(exposed=("22/tcp", "8080/tcp")), FAIL, label="ssh"),
]

# Checks that gather evidence for a human and never fail.
MANUAL_ONLY = frozenset({"image.minimal", "image.content_trust", "image.verified_packages", "image.signed_artifacts"})


def _verdict(catalog: Catalog, c: Case) -> Verdict:
    return catalog[c.check_id].evaluate(c.facts, c.ctx if c.ctx is not None else context())


@pytest.mark.parametrize("c", CASES, ids=str)
def test_image_checks(catalog: Catalog, c: Case) -> None:
    verdict = _verdict(catalog, c)
    assert verdict.status is c.expected, verdict
    if c.severity is not None:
        assert (verdict.severity or catalog[c.check_id].meta.severity) is c.severity
    assert c.detail in verdict.detail, verdict
    if verdict.status is not Status.PASS:
        assert verdict.detail, "a non-pass verdict says why"
    shown = verdict.detail + json.dumps(verdict.evidence)
    for value in VALUES:
        for i in range(len(value) - 7):
            assert value[i : i + 8] not in shown, f"a secret fragment in {c}: {shown}"


def test_case_ids_are_unique() -> None:
    ids = [str(c) for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_image_check_has_a_pass_and_a_fail_case(catalog: Catalog) -> None:
    statuses: dict[str, set[Status]] = defaultdict(set)
    for c in CASES:
        statuses[c.check_id].add(c.expected)
    ids = {c.id for c in catalog.of_scope(Scope.IMAGE)}
    assert set(statuses) <= ids
    missing = {}
    for check_id in sorted(ids):
        wanted = {Status.MANUAL} if check_id in MANUAL_ONLY else {Status.PASS, Status.FAIL}
        if wanted - statuses[check_id]:
            missing[check_id] = sorted(wanted - statuses[check_id])
    assert not missing


def test_compliant_image_passes_every_evaluated_check(catalog: Catalog) -> None:
    image = I(contents=DEEP)
    statuses = {c.id: c.evaluate(image, context()).status for c in catalog.of_scope(Scope.IMAGE)}
    assert {k for k, v in statuses.items() if v is not Status.PASS} == MANUAL_ONLY | {"image.trusted_base"}


def test_every_image_check_has_both_cis_numbers_or_none(catalog: Catalog) -> None:
    for check in catalog.of_scope(Scope.IMAGE):
        cis = check.meta.cis
        assert not cis or cis["1.8.0"] == cis["1.6.0"], check.id  # section 4 did not shift
    numbered = sorted(c.meta.cis["1.8.0"] for c in catalog.of_scope(Scope.IMAGE) if c.meta.cis)
    assert numbered == sorted(f"4.{i}" for i in range(1, 13))


def test_explain_4_5_tells_of_the_notary_retirement(catalog: Catalog) -> None:
    from runbench.render.catalog import explain

    (check_id,) = catalog.resolve("4.5")
    text = explain(catalog[check_id].meta)
    assert "Notary v1" in text and "August 2025" in text and "cosign" in text and "Notation" in text


def test_content_trust_evidence_reads_the_daemon_environment(catalog: Catalog) -> None:
    ctx = context(daemon=DaemonFacts(pid=1, uid=0, environment_content_trust=True))
    verdict = catalog["image.content_trust"].evaluate(I(), ctx)
    assert ("DOCKER_CONTENT_TRUST in dockerd's environment", "set") in verdict.evidence


def test_secret_evidence_names_the_key_and_the_place(catalog: Catalog) -> None:
    image = I(
        env=(f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}",),
        labels={"com.example.note": GH_TOKEN},
        history=with_steps(
            f"/bin/sh -c #(nop)  ARG BUILD_TOKEN={BUILD_TOKEN}", f"|1 BUILD_TOKEN={BUILD_TOKEN} /bin/sh -c make"
        ),
    )
    verdict = catalog["image.secrets"].evaluate(image, context())
    (shown,) = [v for k, v in verdict.evidence if k == "secrets"]
    assert "Config.Env AWS_SECRET_ACCESS_KEY=wJ…(40 chars)" in shown
    assert "label com.example.note=gh…(40 chars) [GitHub Token]" in shown
    assert "history step 6: ARG BUILD_TOKEN=bu…(23 chars) [secret-like name]" in shown
    assert "history step 7: RUN build arg BUILD_TOKEN" in shown


def test_an_image_check_on_a_failed_history_says_why(catalog: Catalog) -> None:
    from runbench.snapshot import CollectionError, Fact

    ctx = context(errors=(CollectionError(Fact.HISTORY, IMAGE_ID, "GET /images/x/history: HTTP 500"),))
    verdict = catalog["image.update_alone"].evaluate(I(history=None), ctx)
    assert verdict.status is Status.ERROR and "HTTP 500" in verdict.detail


# --- the history as the collector reads it -----------------------------------------------------------


@pytest.mark.parametrize(
    ("created_by", "instruction", "arguments", "build_args"),
    [
        ("/bin/sh -c #(nop)  ENV A=1 B=two words", "ENV", "A=1 B=two words", ()),
        ("|2 A=1 TOKEN=x /bin/sh -c make all", "RUN", "make all", (("A", "1"), ("TOKEN", "x"))),
        ("/bin/sh -c apt-get update", "RUN", "apt-get update", ()),
        ("/bin/bash -o pipefail -c curl -fsS x | sh", "RUN", "curl -fsS x | sh", ()),
        ("RUN |1 V=2 /bin/sh -c make # buildkit", "RUN", "make", (("V", "2"),)),
        ("ADD https://x.example/a.tgz /opt/ # buildkit", "ADD", "https://x.example/a.tgz /opt/", ()),
        ("/bin/sh -c #(nop) ADD file:abc in /app ", "ADD", "file:abc in /app", ()),
        ("EXPOSE map[22/tcp:{}]", "EXPOSE", "map[22/tcp:{}]", ()),
        ('/bin/sh -c #(nop)  CMD ["sh"]', "CMD", '["sh"]', ()),
        ("", "", "", ()),
    ],
)
def test_split_step(created_by: str, instruction: str, arguments: str, build_args: tuple[tuple[str, str], ...]) -> None:
    step = split_step(created_by)
    assert (step.instruction, step.arguments, step.build_args) == (instruction, arguments, build_args)


def test_pairs_survive_the_classic_builders_lost_quotes() -> None:
    assert pairs("A=1 B=two words") == [("A", "1"), ("B", "two words")]
    assert pairs('"c d"="e f" x=1') == [("c d", "e f"), ("x", "1")]
    assert pairs("NAME") == []


def test_facts_from_a_recorded_buildkit_history() -> None:
    image = built_image(history=remote_add_history())
    steps = [(n, s.instruction) for n, s in image.steps()]
    assert steps[0] == (1, "ADD") and steps[-1] == (8, "CMD")
    assert image.steps()[0][1].adds_root_filesystem
    assert image.secrets == ()  # APP_VERSION is no secret


def test_base_hints_from_labels_and_tagged_ancestors() -> None:
    rows = history_rows(*STEPS, tags={2: ("debian:12",), 5: ("registry.example/app:1.2",)})
    labels = {
        "org.opencontainers.image.base.name": "docker.io/library/debian:12",
        "org.opencontainers.image.base.digest": "sha256:" + "e" * 64,
    }
    image = built_image(history=rows, labels=labels)
    assert image.base is not None
    assert [(h.source, h.name, h.step) for h in image.base] == [
        ("label", "docker.io/library/debian:12@sha256:" + "e" * 64, None),
        ("history", "debian:12", 2),
        ("history", "a root filesystem added FROM scratch", 1),
    ]


def test_no_secret_value_enters_the_image_facts() -> None:
    data = {
        "Id": IMAGE_ID,
        "Config": {"Env": [f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}"], "Labels": {"com.example.note": GH_TOKEN}},
    }
    rows = history_rows(
        f"/bin/sh -c #(nop)  ARG BUILD_TOKEN={BUILD_TOKEN}", f"|1 BUILD_TOKEN={BUILD_TOKEN} /bin/sh -c make"
    )
    facts = image_facts(data, rows, SCANNER, ("x:1",))
    text = repr(facts)
    for value in (AWS_SECRET, GH_TOKEN, BUILD_TOKEN):
        assert value[:8] not in text and value[-8:] not in text
    assert facts.secrets is not None and {s.key for s in facts.secrets} == {"com.example.note", "BUILD_TOKEN"}


def test_sightings_are_capped(catalog: Catalog) -> None:
    steps = tuple(f"/bin/sh -c #(nop)  ENV TOKEN_{i}=Fake-token-value-{i:04d}" for i in range(150))
    image = built_image(history=steps)
    assert image.secrets is not None and len(image.secrets) == 101
    assert image.secrets[-1].place == "and 50 more"
    verdict = catalog["image.secrets"].evaluate(replace(image, history=image.history), context())
    assert verdict.status is Status.FAIL


# --- the collector: images once each, beside the container inspects; named images; --images all ----------


class CollectAPI:
    """A stand-in engine client: containers of two images, a third image nobody uses."""

    def __init__(self, containers: int = 4, delay: float = 0.0) -> None:
        import threading

        self.delay = delay
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.rows = [
            {
                "Id": f"{i:064x}",
                "Names": [f"/c{i}"],
                "Image": "app:1",
                "ImageID": IMAGE_ID if i % 2 else OTHER,
                "State": "running",
            }
            for i in range(1, containers + 1)
        ]

    def _call(self, what: str) -> None:
        with self.lock:
            self.calls.append(what)

    def version(self) -> dict[str, object]:
        return {"Version": "24.0.7", "ApiVersion": "1.43"}

    def info(self) -> dict[str, object]:
        return {"Name": "h", "Swarm": {"LocalNodeState": "inactive"}}

    def containers(self, labels: tuple[str, ...] = ()) -> list[dict[str, object]]:
        self._call("containers")
        return self.rows

    def images(self) -> list[dict[str, object]]:
        return [
            {"Id": IMAGE_ID, "RepoTags": ["app:1"]},
            {"Id": OTHER, "RepoTags": ["app:2"]},
            {"Id": UNUSED, "RepoTags": ["old:1"]},
        ]

    def networks(self) -> list[dict[str, object]]:
        return []

    def inspect_container(self, cid: str) -> dict[str, object]:
        import time

        self._call("inspect_container")
        time.sleep(self.delay)
        row = next(r for r in self.rows if r["Id"] == cid)
        return {
            "Id": cid,
            "Name": row["Names"][0],  # type: ignore[index]
            "Image": row["ImageID"],
            "State": {"Status": "running"},
            "Config": {"Image": "app:1" if row["ImageID"] == IMAGE_ID else "app:latest"},
            "HostConfig": {},
        }

    def inspect_image(self, ref: str) -> dict[str, object]:
        from runbench.collect.api import EngineNotFound

        self._call(f"inspect_image {ref}")
        known = {IMAGE_ID: IMAGE_ID, OTHER: OTHER, UNUSED: UNUSED, "app:1": IMAGE_ID, "old:1": UNUSED}
        if ref not in known:
            raise EngineNotFound(404, f"No such image: {ref}")
        return {"Id": known[ref], "RepoTags": [], "Config": {"User": "1000"}, "Created": "2025-12-01T00:00:00Z"}

    def history(self, iid: str) -> list[object]:
        self._call(f"history {iid}")
        return history_rows(*STEPS)


OTHER = "sha256:" + "b" * 64
UNUSED = "sha256:" + "c" * 64


def _collect(api: CollectAPI, **kw: object) -> object:
    from runbench.collect.engine import CollectRequest, collect

    return collect(CollectRequest(read_host=False, **kw), api=api)  # type: ignore[arg-type]


def test_each_image_is_inspected_once_while_the_containers_are() -> None:
    api = CollectAPI(containers=6, delay=0.05)
    snap = _collect(api, workers=2)
    image_calls = [c for c in api.calls if c.startswith("inspect_image")]
    assert sorted(image_calls) == [f"inspect_image {IMAGE_ID}", f"inspect_image {OTHER}"]
    last_container = max(i for i, c in enumerate(api.calls) if c == "inspect_container")
    assert all(api.calls.index(c) < last_container for c in image_calls), api.calls
    refs = {i.id: i.references for i in snap.images}  # type: ignore[attr-defined]
    assert refs == {IMAGE_ID: ("app:1",), OTHER: ("app:latest",)}


def test_images_all_adds_every_local_image() -> None:
    snap = _collect(CollectAPI(), images="all")
    assert {i.id: i.references for i in snap.images} == {  # type: ignore[attr-defined]
        IMAGE_ID: ("app:1",),
        OTHER: ("app:latest",),
        UNUSED: (),
    }


def test_named_images_are_checked_alone() -> None:
    from runbench.collect.images import ImageRefError

    api = CollectAPI()
    snap = _collect(api, image_refs=("old:1", "app:1"))
    assert "containers" not in api.calls and "inspect_container" not in api.calls
    assert {i.id: i.references for i in snap.images} == {UNUSED: ("old:1",), IMAGE_ID: ("app:1",)}  # type: ignore[attr-defined]
    assert snap.containers == () and snap.inventory == ()  # type: ignore[attr-defined]
    with pytest.raises(ImageRefError, match="no local image 'nope:1'"):
        _collect(CollectAPI(), image_refs=("nope:1",))


# --- the command line ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["image", "--all", "app:1"], "select containers"),
        (["image", "--label", "x=1", "app:1"], "select containers"),
        (["scan", "--image", "app:1", "--images", "all"], "exclude each other"),
        (["image", "--check", "container.*", "app:1"], "no image check is selected"),
    ],
)
def test_image_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    from runbench.cli import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_image_needs_a_reference(capsys: pytest.CaptureFixture[str]) -> None:
    from runbench.cli import main

    assert main(["image"]) == 2
    assert "REF" in capsys.readouterr().err


def test_explain_4_5_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from runbench.cli import main

    assert main(["explain", "4.5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("image.content_trust:") and "Notary v1" in out and "cosign" in out
