"""Dates a post cannot have: kept as NULL with the value as written and why; nothing crashes on them."""

from __future__ import annotations

import json

from conftest import FIXTURES, counts

from flows.export.dataset import export_dataset
from flows.export.selection import ExportOptions
from flows.report.build import build_report
from flows.report.settings import ReportSettings
from flows.store.status import status

DATES = FIXTURES / "ingest" / "dates"


def test_a_bluesky_post_dated_in_year_0_is_kept_undated(ingest_files, con):
    [report] = ingest_files(DATES / "bluesky_year_zero.json").values()
    assert counts(report) == (2, 2, 0, 0)
    rows = con.execute("SELECT text, created_at IS NULL, created_at_raw, date_issue FROM posts "
                       "ORDER BY text").fetchall()
    assert rows == [("le post il daaaaaaate", True, "0000-10-14T15:06:10.730Z", "before_platform"),
                    ("un post bien daté", False, None, None)]


def test_twarc2_dates_after_retrieval_before_twitter_or_unreadable(ingest_files, con):
    [report] = ingest_files(DATES / "twarc2_implausible.jsonl").values()
    assert counts(report) == (5, 5, 0, 0)
    issues = dict(con.execute("SELECT right(post_id, 1), date_issue FROM posts "
                              "WHERE date_issue IS NOT NULL").fetchall())
    assert issues == {"2": "after_retrieval", "3": "before_platform", "4": "unreadable"}
    raw = con.execute("SELECT created_at_raw FROM posts WHERE right(post_id, 1) = '4'").fetchone()[0]
    assert raw == "yesterday at noon"
    assert con.execute("SELECT created_at FROM authors").fetchone()[0] is None  # 1999: before Twitter


def test_status_counts_the_undated_posts(ingest_files, con):
    ingest_files(DATES / "bluesky_year_zero.json", DATES / "twarc2_implausible.jsonl")
    found = status(con)
    assert found["undated"] == 4 and found["posts"] == 7
    assert found["date_issues"] == {"after_retrieval": 1, "before_platform": 2, "unreadable": 1}
    assert found["first"] == "2020-12-30T09:00:00Z" and found["last"] == "2023-10-14T15:06:10.730000Z"


def test_reparse_sets_the_same_dates_aside(ingest_files, con):
    from flows.ingest.reparse import reparse

    ingest_files(DATES / "twarc2_implausible.jsonl")
    before = con.execute("SELECT * FROM posts ORDER BY post_id").fetchall()
    reparse(con)
    assert con.execute("SELECT * FROM posts ORDER BY post_id").fetchall() == before


def test_report_and_exports_run_on_undated_posts_and_honour_the_window(ingest_files, con, tmp_path):
    ingest_files(DATES / "bluesky_year_zero.json", DATES / "twarc2_implausible.jsonl")
    study = {"name": "dates", "inclusion": {"since": "2020-12-31", "until": "2022-12-31"}, "data_dir": str(tmp_path)}
    build_report(con, tmp_path / "all", ReportSettings(pseudonymise=False, n_boot=0))
    build_report(con, tmp_path / "window", ReportSettings(pseudonymise=False, n_boot=0), study=study)
    months = (tmp_path / "window" / "tables" / "corpus_months.csv").read_text().splitlines()
    assert [m.split(",")[0] for m in months[1:]] == ["2020-12"]  # one post on 2020-12-31; 2023 is outside
    everything = (tmp_path / "all" / "tables" / "corpus_months.csv").read_text().splitlines()
    assert [m.split(",")[0] for m in everything[1:]] == ["2020-12", "2023-10"]  # months with posts only
    for fmt in ("csv", "qdpx", "ids"):
        out = tmp_path / ("ids" if fmt == "ids" else f"x.{fmt}")
        export_dataset(con, out, ExportOptions(fmt=fmt, force=True))
    windowed = export_dataset(con, tmp_path / "w.csv", ExportOptions(fmt="csv", since="2020-12-31",
                                                                     until="2022-12-31"))
    assert windowed["rows"] == 1
    assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == 7  # the window was only a view
    manifests = sorted(tmp_path.glob("ids*.json"))
    assert manifests and all(json.loads(m.read_text()) for m in manifests)
