"""Reports escape everything they quote and name nobody when asked not to."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fixtures.report.study import build_hostile_store, build_sample_store

from flows.report.build import build_report
from flows.report.doc import Column, Table
from flows.report.render import csv_text, md_escape
from flows.report.settings import ReportSettings
from flows.store.db import connect


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("ETHNOFLOW_SECRET", "test-secret-for-reports")


def test_post_text_handles_names_and_codebook_text_render_as_text(con, tmp_path):
    build_hostile_store(con)
    build_report(con, tmp_path / "r", ReportSettings(pseudonymise=False, n_boot=0))
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    body = html.split("<body>", 1)[1]
    assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<svg/" not in html
    assert not re.search(r"<[^>]*\son\w+=", body), "an event-handler attribute got through"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    assert "&lt;svg/onload=alert(3)&gt;" in html  # the handle
    assert "&#34;&gt;&lt;img src=x onerror=alert(&#39;name&#39;)&gt;" in html  # the display name
    assert "&lt;b onmouseover=alert(5)&gt;Advice&lt;/b&gt;" in html  # a code's label
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(6)&lt;/script&gt;" in html  # its definition
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_markdown_and_csv_keep_hostile_text_inert(con, tmp_path):
    build_hostile_store(con)
    build_report(con, tmp_path / "r", ReportSettings(pseudonymise=False, n_boot=0))
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "<" not in md  # no tag can open: every "<" from the data is an entity
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "\\[click\\](javascript:alert(4))" in md and "](javascript" not in md.replace("\\](javascript", "")
    examples = (tmp_path / "r" / "tables" / "codes_hostile_examples.csv").read_text(encoding="utf-8")
    assert ",'@<svg/onload=alert(3)>," in examples  # "@..." would run as a formula: neutralised
    assert "<script>alert(1)</script>" in examples  # CSV is data: the text itself, unchanged


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    table = Table("t", "t", [Column("text", "Text"), Column("n", "N", "int"), Column("x", "X", "num")],
                  [['=HYPERLINK("http://evil.example","x")', -3, -0.5], ["+1", 2, None]])
    assert csv_text(table) == 'text,n,x\n"\'=HYPERLINK(""http://evil.example"",""x"")",-3,-0.5\n\'+1,2,\n'


def test_markdown_escaping():
    assert md_escape("a | b") == "a \\| b"
    assert md_escape("# not a heading") == "\\# not a heading"
    assert md_escape("1. not a list") == "1\\. not a list"
    assert md_escape("45.0%") == "45.0%"
    assert md_escape("<b>x</b> & [y](z)") == "&lt;b&gt;x&lt;/b&gt; &amp; \\[y\\](z)"
    assert md_escape("line\nbreak") == "line break"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("privacy_sample")
    build_sample_store(work / "study.duckdb", work, tweets=800, topics=True, human=False)
    return work / "study.duckdb"


def studied_handles(db: Path) -> list[tuple[str, str]]:
    con = connect(db, read_only=True)
    try:
        return con.execute("""SELECT s.handle, coalesce(a.display_name, '') FROM superuser_candidates s
            LEFT JOIN authors a USING (platform, author_id) WHERE s.selected ORDER BY s.handle""").fetchall()
    finally:
        con.close()


def report_texts(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in folder.rglob("*.*")}


def test_pseudonymised_reports_name_no_studied_account(sample_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ETHNOFLOW_SECRET", "another-secret")
    studied = studied_handles(sample_db)
    assert len(studied) >= 3
    con = connect(sample_db, read_only=True)
    try:
        build_report(con, tmp_path / "r", ReportSettings(n_boot=0, examples_per_code=3))
    finally:
        con.close()
    texts = report_texts(tmp_path / "r")
    for name, text in texts.items():
        lowered = text.lower()
        for handle, display_name in studied:
            assert not re.search(rf"(?<![a-z0-9_]){re.escape(handle.lower())}(?![a-z0-9_])", lowered), (name, handle)
            assert not display_name or display_name.lower() not in lowered, (name, display_name)
    assert "user_" in texts["report.html"] and "handles pseudonymised" in texts["report.html"]
    assert "another-secret" not in "".join(texts.values())


def test_pseudonyms_are_stable_and_handles_show_when_asked(sample_db, tmp_path):
    con = connect(sample_db, read_only=True)
    try:
        build_report(con, tmp_path / "a", ReportSettings(n_boot=0))
        build_report(con, tmp_path / "b", ReportSettings(n_boot=0))
        build_report(con, tmp_path / "shown", ReportSettings(n_boot=0, pseudonymise=False))
    finally:
        con.close()
    assert report_texts(tmp_path / "a") == report_texts(tmp_path / "b")
    shown = (tmp_path / "shown" / "tables" / "accounts_studied.csv").read_text(encoding="utf-8")
    assert all(f"@{handle}" in shown for handle, _ in studied_handles(sample_db))


def test_masked_quotes_carry_no_handle_or_link(sample_db, tmp_path):
    con = connect(sample_db, read_only=True)
    try:
        build_report(con, tmp_path / "r", ReportSettings(n_boot=0, pseudonymise=False, mask_quotes=True))
    finally:
        con.close()
    for table in ("codes_chretien2015_examples.csv", "topics_representatives.csv"):
        text = (tmp_path / "r" / "tables" / table).read_text(encoding="utf-8")
        assert "https://" not in text and "t.co/" not in text, table
        assert not re.search(r"@(?!user\b)\w", text), table
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    quotes = re.findall(r"<blockquote>(.*?)</blockquote>", html, flags=re.S)
    assert quotes and not any(re.search(r"@(?!user\b)\w|https?://", q) for q in quotes)
    run = json.loads((tmp_path / "r" / "run.json").read_text(encoding="utf-8"))
    assert run["settings"]["mask_quotes"] is True


def test_role_evidence_redacts_the_accounts_words_and_keeps_ethnoflows_own():
    """A real corpus has an account whose display name is "Unknown": the role word in "below the minimum 0.4:
    unknown" must stay a word, while the bio words a rule quotes still go through the layer."""
    from types import SimpleNamespace

    from flows.report.accounts import evidence

    class Layer:
        def text(self, text):
            return text.replace("unknown", "user_1").replace("maya_lab", "user_2").replace("Maya", "user_3")

    ctx = SimpleNamespace(privacy=Layer())
    embedding = ("embedding: nearest prototype 'other' ('Journalist and writer.'), cosine 0.150, "
                 "below the minimum 0.4: unknown, model all-MiniLM-L6-v2@53aa5117")
    assert evidence(ctx, embedding) == "model: nearest 'other', cosine 0.150, below 0.4"
    placed = "embedding: nearest prototype 'other' ('Views are my own.'), cosine 0.485, model all-MiniLM-L6-v2@53aa5117"
    assert evidence(ctx, placed) == "model: like 'Views are my own.' (cosine 0.485)"
    assert evidence(ctx, "default: no rule matched and no bio") == "default: no rule matched and no bio"
    assert evidence(ctx, "rule: bio 'maya_lab Journal' (organisation name) -> organization") == (
        "rule: bio 'user_2 Journal' (organisation name) -> organization")
    assert evidence(ctx, "override: roles.csv line 2: Maya graduated") == "override: roles.csv line 2: user_3 graduated"
