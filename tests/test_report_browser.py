"""The report in a real browser: headless Chromium loads it with no console error and no network
request, and a screenshot is saved. Skips, saying why, where Chromium is not installed."""

from __future__ import annotations

import pytest
from fixtures.report.study import build_hostile_store, build_sample_store

from flows.report.browser import check_report, find_chromium
from flows.report.build import build_report
from flows.report.settings import ReportSettings
from flows.store.db import connect

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not found ($CHROMIUM, /usr/bin/chromium): install Debian's chromium "
                             "(apt-get install -y chromium) to run the browser tests; CI installs it")


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("ETHNOFLOW_SECRET", "test-secret-for-reports")


def test_sample_report_loads_offline_without_errors_and_is_captured(tmp_path):
    db = tmp_path / "study.duckdb"
    build_sample_store(db, tmp_path)
    con = connect(db, read_only=True)
    try:
        result = build_report(con, tmp_path / "report", ReportSettings(n_boot=20))
    finally:
        con.close()
    loaded = check_report(result.html, tmp_path / "report.png", screenshot_height=1600)
    assert loaded.console_errors == []
    assert loaded.network_requests(result.html.resolve().as_uri()) == []
    assert loaded.facts["sections"] == 6 and loaded.facts["scripts"] == 0 and loaded.facts["svgs"] >= 6
    assert "Inter-rater agreement among ana, ben" in loaded.facts["text"]
    png = (tmp_path / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_hostile_text_stays_text_in_the_browser(con, tmp_path):
    build_hostile_store(con)
    result = build_report(con, tmp_path / "report", ReportSettings(pseudonymise=False, n_boot=0))
    loaded = check_report(result.html)
    assert loaded.console_errors == []
    assert loaded.network_requests(result.html.resolve().as_uri()) == []  # <img src=x> would request x
    assert loaded.facts["scripts"] == 0 and loaded.facts["images"] == 0
    text = loaded.facts["text"]
    assert "<script>alert(1)</script> any advice on rounds?" in text
    assert "@<svg/onload=alert(3)>" in text and "<b onmouseover=alert(5)>Advice</b>" in text
