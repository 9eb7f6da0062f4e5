"""The HTML report in a real headless browser: charts drawn, top reason shown, nothing fetched.

Chromium is Debian's `chromium` package (`make test` installs it when missing); Playwright drives
it through `executable_path`, since Playwright's own browser download needs the internet.
"""

import shutil
from pathlib import Path

import pytest

from contact_reasons.cli import main
from tests.report_fixtures import TOP_LABEL, build

LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def html_report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    db = build(folder / "r.duckdb")
    out = folder / "weekly.html"
    assert main(["report", "--db", str(db), "--format", "html", "--output", str(out)]) == 0
    return out


def test_report_renders_offline_in_chromium(chromium, html_report):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html_report.as_uri())
            page.wait_for_selector("#trend-chart svg.main-svg .scatterlayer .trace", timeout=30_000)
            lines = page.locator("#trend-chart .scatterlayer path.js-line").count()
            points = page.locator("#trend-chart .scatterlayer .point").count()
            first_row = page.locator("#top-reasons tr").nth(1).inner_text()
            alerts = page.locator("#alerts").inner_text()
        finally:
            browser.close()
    assert lines >= 4  # one line per top reason
    assert points >= 4 * 10  # and a marker per week
    assert TOP_LABEL in first_row
    assert "rising" in alerts
    assert errors == []
    remote = [url for url in requests if not url.startswith(LOCAL_SCHEMES)]
    assert remote == [], f"the report fetched {remote}"
    assert requests  # the recorder saw the page itself, so it was listening
