"""The HTML report in a real headless Chromium (Debian's chromium, driven by Playwright for Python): filters
change the visible rows, expanding shows the remediation, no network request is made, hostile strings show as
text and fire no dialog, the page reads without JavaScript, 1,000 containers open in under 3 s; screenshots
are saved as test artifacts (RUNBENCH_ARTIFACTS, default build/test-artifacts).

Skipped, with the reason, where Playwright's Python package or /usr/bin/chromium is missing
(`apt-get install chromium`; Playwright's own browser download is never used).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbench.model import Report
from runbench.render import html as html_render
from tests.render.fixture import IMG_TAG, SCRIPT_END, fixed_changes, fixed_report, hostile_report
from tests.render.generated import generated_report

CHROMIUM = os.environ.get("RUNBENCH_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("RUNBENCH_ARTIFACTS", ROOT / "build" / "test-artifacts"))

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page of a report file, recording every request, dialog and script error."""

    def __init__(self, browser: Any, path: Path, *, javascript: bool = True, width: int = 1280) -> None:
        self.context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": 1000})
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = path.as_uri()

    def _route(self, route: Any) -> None:
        self.requests.append(route.request.url)
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self) -> Any:
        self.page.goto(self.url, wait_until="load")
        return self.page

    def close(self) -> None:
        self.context.close()


def write(tmp_path: Path, report: Report, name: str, **kwargs: Any) -> Path:
    path = tmp_path / name
    path.write_text(html_render.render(report, **kwargs), encoding="utf-8")
    return path


def visible(page: Any, selector: str) -> int:
    return int(page.eval_on_selector_all(selector, "els => els.filter(e => e.offsetParent !== null).length"))


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_filters_change_the_visible_rows(browser: Any, tmp_path: Path) -> None:
    p = Page(browser, write(tmp_path, fixed_report(), "report.html", changes=fixed_changes()))
    page = p.open()
    try:
        form = page.locator("#filters")
        assert form.is_visible()
        all_groups = visible(page, "#fail-list details.group")
        assert all_groups == 5
        page.uncheck("input[name=status][value=fail]")
        assert visible(page, "#fail-list details.group") == 0
        assert "checks shown" in page.inner_text("#shown")
        page.check("input[name=status][value=fail]")
        page.select_option("select[name=severity]", "4")  # critical only
        assert visible(page, "#fail-list details.group") == 1
        page.select_option("select[name=severity]", "0")
        page.fill("input[name=subject]", "db")
        groups = page.eval_on_selector_all(
            "#fail-list details.group", "els => els.filter(e => !e.hidden).map(e => e.dataset.section + ':' + e.id)"
        )
        assert groups == ["container:fail-container.memory_limit", "container:fail-container.user"], groups
        assert page.locator("#pass-list").get_attribute("open") is not None  # opened: a subject is asked for
        rows = "#pass-container\\.docker_socket tr[data-s]"
        assert page.eval_on_selector_all(rows, "els => els.map(e => e.hidden)") == [True, False]  # db's row only
        page.fill("input[name=subject]", "")
        page.fill("input[name=q]", "memory")
        assert page.eval_on_selector_all("details.group", "els => els.filter(e => !e.hidden).length") == 2  # fail+pass
        page.click("button[type=reset]")
        page.wait_for_timeout(50)
        assert visible(page, "#fail-list details.group") == all_groups
        page.click("a.subj[data-subject=legacy]")
        assert page.input_value("input[name=subject]") == "legacy"
        assert not p.errors and not p.dialogs
    finally:
        p.close()


def test_expanding_a_finding_shows_the_remediation(browser: Any, tmp_path: Path) -> None:
    p = Page(browser, write(tmp_path, fixed_report(), "report.html", changes=fixed_changes()))
    page = p.open()
    try:
        group = page.locator("#fail-container\\.privileged")
        fix = group.locator(".fix pre")
        assert not fix.is_visible()
        group.locator("summary").click()
        assert fix.is_visible() and fix.inner_text() == "Fix container.privileged: do this (compose: that)."
        assert group.locator("button.copy").is_visible()
        assert group.locator(".why").inner_text().endswith("Why container.privileged matters, in a sentence.")
        assert "HostConfig.Privileged" in group.locator("table.folds").inner_text()
        shot = screenshot(page, "report-fixed.png")
        assert shot.stat().st_size > 10_000
    finally:
        p.close()


def test_no_network_request_is_made(browser: Any, tmp_path: Path) -> None:
    p = Page(browser, write(tmp_path, hostile_report(), "report.html"))
    page = p.open()
    try:
        for summary in page.locator("details.group > summary:visible").all()[:20]:
            summary.click()
        page.mouse.move(10, 10)
        page.wait_for_timeout(200)
        assert p.requests == [p.url], p.requests
    finally:
        p.close()


def test_hostile_strings_show_as_text_and_fire_no_dialog(browser: Any, tmp_path: Path) -> None:
    p = Page(browser, write(tmp_path, hostile_report(), "hostile.html"))
    page = p.open()
    try:
        page.locator("#skip-list > summary").click()
        page.locator("#pass-list > summary").click()
        for summary in page.locator("details.group > summary").all():
            summary.click()
        for cell in page.locator("table.heatmap td").all()[:10]:
            cell.hover()
        page.wait_for_timeout(200)
        assert p.dialogs == [] and p.errors == []
        assert page.eval_on_selector_all("img", "els => els.length") == 0
        assert page.eval_on_selector_all("script", "els => els.length") == 1 + page.eval_on_selector_all(
            "script[type='application/json']", "els => els.length"
        )
        text = page.eval_on_selector("body", "b => b.textContent")  # groups off screen are not laid out
        assert IMG_TAG in text and SCRIPT_END in text
        assert "\\u2028line" in text and "\\x1b[31mEVIL" in text
        screenshot(page, "report-hostile.png")
    finally:
        p.close()


def test_the_report_reads_without_javascript(browser: Any, tmp_path: Path) -> None:
    p = Page(browser, write(tmp_path, fixed_report(), "report.html", changes=fixed_changes()), javascript=False)
    page = p.open()
    try:
        assert not page.locator("#filters").is_visible()
        assert "Filters, search and copy buttons need JavaScript" in page.inner_text("body")
        assert visible(page, "#fail-list details.group") == 5
        page.locator("#fail-container\\.privileged summary").click()  # <details> opens without a script
        assert page.locator("#fail-container\\.privileged .fix pre").is_visible()
        assert visible(page, "table.heatmap tbody tr") == 5 + 5
    finally:
        p.close()


def test_1000_containers_open_in_under_3_seconds(browser: Any, tmp_path: Path) -> None:
    path = write(tmp_path, generated_report(1000), "report-1000.html")
    assert path.stat().st_size < 10_000_000
    p = Page(browser, path)
    try:
        page = p.open()
        page.wait_for_function("document.readyState === 'complete'")
        loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
        assert loaded < 3.0, f"{loaded:.2f} s from navigation to the load event"
        pager = page.locator("#heat-container .pager")
        assert pager.is_visible() and "page 1 of 20" in pager.inner_text()
        first = page.inner_text("#heat-container table.heatmap tbody tr th")
        pager.locator("button[data-step='1']").click()
        assert "page 2 of 20" in pager.inner_text()
        assert page.inner_text("#heat-container table.heatmap tbody tr th") != first
        start = time.perf_counter()
        page.fill("input[name=q]", "memory")
        assert time.perf_counter() - start < 2.0
        assert not p.errors
        screenshot(page, "report-1000.png")
    finally:
        p.close()
