"""Study reports: every section on the sample study, reproducibility, --verify, honest empty
sections, settings, and bounded size on a large synthetic store."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES
from fixtures.report.study import build_sample_store
from fixtures.report.synthetic import build_store
from pydantic import ValidationError

from flows.ingest.files import ingest
from flows.report.build import build_report, verify_report
from flows.report.settings import ReportError, ReportSettings
from flows.store.db import connect

SECTIONS = ["corpus", "accounts", "codes", "topics", "reliability", "methods"]
FAST = ReportSettings(n_boot=20)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    """The sample study through ingest, roles, superusers, coding (machine and human) and topics."""
    work = tmp_path_factory.mktemp("report_sample")
    build_sample_store(work / "study.duckdb", work)
    return work / "study.duckdb"


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("ETHNOFLOW_SECRET", "test-secret-for-reports")


def read_only(db: Path) -> duckdb.DuckDBPyConnection:
    return connect(db, read_only=True)


def build(db: Path, out: Path, settings: ReportSettings = FAST, **kw):
    con = read_only(db)
    try:
        return build_report(con, out, settings, **kw)
    finally:
        con.close()


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_section_has_data_on_the_sample_study(sample_db, tmp_path):
    result = build(sample_db, tmp_path / "r")
    assert result.sections == {s: "ok" for s in SECTIONS}
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    for n, section in enumerate(SECTIONS, start=1):
        assert f'<section id="{section}">' in html
        assert f"## {n}. " in md
    for table in ("corpus_sources", "corpus_months", "corpus_languages", "corpus_kinds", "accounts_studied",
                  "codes_chretien2015_results", "codes_chretien2015_months", "codes_chretien2015_accounts",
                  "codes_chretien2015_cooccurrence", "codes_chretien2015_examples", "topics", "topics_months",
                  "topics_chretien2015_codes", "reliability_chretien2015_agreement",
                  "reliability_chretien2015_machine", "reliability_chretien2015_coders"):
        assert f"tables/{table}.csv" in result.files, table
    assert html.count("<svg") >= 6 and "<script" not in html
    assert "We analysed" in html and "Provenance" in html


def test_results_table_counts_posts_and_accounts_like_the_paper(sample_db, tmp_path):
    build(sample_db, tmp_path / "r")
    rows = {r["code"]: r for r in read_csv(tmp_path / "r" / "tables" / "codes_chretien2015_results.csv")}
    con = read_only(sample_db)
    studied = "SELECT platform, author_id FROM superuser_candidates WHERE selected"
    coded = con.execute(f"""SELECT count(DISTINCT post_id), count(DISTINCT author_id) FROM code_values
        JOIN posts USING (platform, post_id) WHERE coder = 'auto'
        AND (platform, author_id) IN ({studied})""").fetchone()
    info = con.execute(f"""SELECT count(DISTINCT post_id), count(DISTINCT author_id) FROM code_values
        JOIN posts USING (platform, post_id) WHERE coder = 'auto' AND code = 'information' AND value = 1
        AND (platform, author_id) IN ({studied})""").fetchone()
    access = con.execute(f"""SELECT count(DISTINCT post_id) FROM code_values JOIN posts USING (platform, post_id)
        WHERE coder = 'auto' AND value = 1 AND code IN ('information', 'collaboration', 'perspectives', 'community')
        AND (platform, author_id) IN ({studied})""").fetchone()[0]
    con.close()
    assert int(rows["information"]["posts"]) == info[0] and int(rows["information"]["accounts"]) == info[1]
    assert float(rows["information"]["posts_pct"]) == pytest.approx(100 * info[0] / coded[0], abs=1e-4)
    assert float(rows["information"]["accounts_pct"]) == pytest.approx(100 * info[1] / coded[1], abs=1e-4)
    assert rows["access"]["level"] == "domain" and int(rows["access"]["posts"]) == access
    assert list(rows) == ["access", "information", "collaboration", "perspectives", "community", "voice",
                          "advocacy", "digital_footprint", "equalization"]  # codebook order


def test_reliability_matches_the_agreement_command(sample_db, tmp_path):
    from flows.coding.agreement import agreement
    from flows.coding.codebook import resolve_codebook

    build(sample_db, tmp_path / "r")
    rows = {r["code"]: r for r in read_csv(tmp_path / "r" / "tables" / "reliability_chretien2015_agreement.csv")}
    con = read_only(sample_db)
    expected = agreement(con, resolve_codebook("chretien2015"), n_boot=20, seed=0)
    con.close()
    for code, stats in expected["codes"].items():
        assert float(rows[code]["krippendorff_alpha"]) == pytest.approx(stats["krippendorff_alpha"], abs=1e-6)
        lo, hi = stats["ci95"]["krippendorff_alpha"]
        assert rows[code]["krippendorff_alpha_ci"] == f"[{lo:.2f}, {hi:.2f}]"
    machine = read_csv(tmp_path / "r" / "tables" / "reliability_chretien2015_machine.csv")
    assert {r["coder"] for r in machine} == {"auto", "auto:rules", "auto:semantic"}


def test_two_builds_from_one_store_are_byte_identical(sample_db, tmp_path):
    first, second = build(sample_db, tmp_path / "a"), build(sample_db, tmp_path / "b")
    assert first.files == second.files
    for rel in first.files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_ingest_order_does_not_change_a_byte(duckdb_default_threads, tmp_path):
    from flows.coding.codebook import resolve_codebook
    from flows.coding.machine import code_corpus
    from flows.people.stage import prepare
    from flows.people.superusers import SuperuserCriteria, select_superusers
    from flows.sample.generate import generate

    lines = Path(generate(tmp_path / "gen", tweets=600)["corpus"]).read_text(encoding="utf-8").splitlines(True)
    parts = [tmp_path / f"part{i}.jsonl" for i in range(2)]
    for i, part in enumerate(parts):
        part.write_text("".join(lines[i::2]), encoding="utf-8")
    for name, order in (("a", parts), ("b", parts[::-1])):
        con = connect(tmp_path / name / "study.duckdb")
        for part in order:
            ingest(con, [part])
        prepare(con)
        select_superusers(con, SuperuserCriteria(min_posts_per_month=2))
        code_corpus(con, resolve_codebook("chretien2015"))
        build_report(con, tmp_path / name / "report", FAST)
        con.close()
    a, b = tmp_path / "a" / "report", tmp_path / "b" / "report"
    assert sorted(p.relative_to(a) for p in a.rglob("*")) == sorted(p.relative_to(b) for p in b.rglob("*"))
    for path in a.rglob("*.*"):
        assert path.read_bytes() == (b / path.relative_to(a)).read_bytes(), path.name


def test_verify_passes_then_names_a_tampered_file(sample_db, tmp_path, cli):
    out = tmp_path / "r"
    cli("report", "--db", sample_db, "--out", out, "--coder", "auto", "--mask-quotes", "--n-boot", "20")
    assert "verified" in cli("report", "--db", sample_db, "--out", out, "--verify").output
    table = out / "tables" / "codes_chretien2015_results.csv"
    table.write_text(table.read_text(encoding="utf-8") + "tampered,1\n", encoding="utf-8")
    failed = cli("report", "--db", sample_db, "--out", out, "--verify", ok=False)
    assert failed.exit_code == 1 and "codes_chretien2015_results.csv: differs" in failed.output
    cli("report", "--db", sample_db, "--out", out, "--mask-quotes", "--n-boot", "20")
    (out / "tables" / "old_table.csv").write_text("x\n", encoding="utf-8")
    stale = cli("report", "--db", sample_db, "--out", out, "--verify", ok=False)
    assert stale.exit_code == 1 and "old_table.csv: not produced by a fresh build" in stale.output


def test_verify_uses_the_recorded_settings_and_refuses_a_missing_report(sample_db, tmp_path):
    con = read_only(sample_db)
    try:
        settings = ReportSettings(n_boot=20, coder="consensus", examples_per_code=1)
        build_report(con, tmp_path / "r", settings)
        recorded = json.loads((tmp_path / "r" / "run.json").read_text(encoding="utf-8"))
        assert ReportSettings.model_validate(recorded["settings"]) == settings
        assert verify_report(con, tmp_path / "r", settings).ok
        assert not verify_report(con, tmp_path / "r", FAST).ok
        with pytest.raises(ReportError, match="no report to verify"):
            verify_report(con, tmp_path / "nothing", FAST)
    finally:
        con.close()


def test_rebuilding_removes_tables_that_no_longer_exist(sample_db, tmp_path):
    build(sample_db, tmp_path / "r")
    (tmp_path / "r" / "tables" / "stale.csv").write_text("x\n", encoding="utf-8")
    (tmp_path / "r" / "notes.txt").write_text("mine", encoding="utf-8")
    result = build(sample_db, tmp_path / "r")
    assert not (tmp_path / "r" / "tables" / "stale.csv").exists()
    assert (tmp_path / "r" / "notes.txt").read_text(encoding="utf-8") == "mine"  # not the report's: kept
    assert sorted(str(p.relative_to(tmp_path / "r")) for p in (tmp_path / "r").rglob("*.*")
                  if p.name != "notes.txt") == sorted(result.files)


def test_run_json_records_what_the_report_was_built_from(sample_db, tmp_path):
    result = build(sample_db, tmp_path / "r", study={"name": "pilot", "title": "Pilot study", "hash": "abc",
                                                     "seed": 7, "inclusion": {"languages": ["en"]}})
    run = json.loads((tmp_path / "r" / "run.json").read_text(encoding="utf-8"))
    assert run["study"] == {"name": "pilot", "title": "Pilot study", "hash": "abc", "seed": 7,
                            "inclusion": {"languages": ["en"]}}
    assert run["database"] == "study.duckdb" and run["sections"] == result.sections
    assert [c["codebook_id"] for c in run["inputs"]["codebooks"]] == ["chretien2015"]
    assert run["inputs"]["sources"]["count"] == 1 and len(run["inputs"]["topic_runs"]) == 1
    assert run["software"]["duckdb"] == duckdb.__version__
    assert set(run["files"]) == set(result.files) - {"run.json"}
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<title>Pilot study</title>" in html and "languages: [&#34;en&#34;]" in html


def test_a_store_with_only_posts_says_what_is_missing(con, ingest_files, tmp_path):
    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl")
    result = build_report(con, tmp_path / "r", FAST)
    assert result.sections == {"corpus": "ok", "accounts": "ok", "codes": "empty", "topics": "empty",
                               "reliability": "empty", "methods": "ok"}
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    for says in ("No superuser selection yet", "No codes yet", "No topic model yet", "No human coding yet",
                 "Roles have not been assigned yet", "no data yet"):
        assert says in html, says


def test_an_empty_store_still_makes_a_report(con, tmp_path):
    result = build_report(con, tmp_path / "r", FAST)
    assert result.sections["corpus"] == "empty" and result.sections["accounts"] == "empty"
    assert "No posts yet" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")


def test_codes_of_a_coder_without_codes_are_reported_as_missing(sample_db, tmp_path):
    result = build(sample_db, tmp_path / "r", ReportSettings(n_boot=20, coder="nobody"))
    assert result.sections["codes"] == "empty"
    assert "No codes by coder &#39;nobody&#39;" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")


def test_settings_are_validated_with_a_fix():
    with pytest.raises(ValidationError, match="Extra inputs"):
        ReportSettings.model_validate({"pseudonymize": False, "max_row": 3})
    assert ReportSettings.model_validate({"pseudonymize": False}).pseudonymise is False
    with pytest.raises(ValidationError, match="listed twice"):
        ReportSettings(codebooks=["a", "a"])


def test_settings_naming_what_the_store_lacks_are_errors(sample_db, tmp_path):
    con = read_only(sample_db)
    try:
        with pytest.raises(ReportError, match="not in the store; codebooks with a version in the store: chretien2015"):
            build_report(con, tmp_path / "r", ReportSettings(codebooks=["chretien"]))
        with pytest.raises(ReportError, match="'zzz' is not a topic run"):
            build_report(con, tmp_path / "r", ReportSettings(topic_run="zzz"))
    finally:
        con.close()


def test_the_cli_settings_file_and_options(sample_db, tmp_path, cli):
    settings = tmp_path / "study.yaml"
    settings.write_text("report:\n  title: From the file\n  max_rows: 5\n  n_boot: 10\n", encoding="utf-8")
    out = json.loads(cli("report", "--db", sample_db, "--out", tmp_path / "r", "--settings", settings,
                         "--title", "From the option", "--json").output)
    assert out["sections"]["codes"] == "ok"
    run = json.loads((tmp_path / "r" / "run.json").read_text(encoding="utf-8"))
    assert run["settings"]["title"] == "From the option" and run["settings"]["max_rows"] == 5
    settings.write_text("report:\n  pseudonymize: true\n  colour: red\n", encoding="utf-8")
    bad = cli("report", "--db", sample_db, "--out", tmp_path / "r", "--settings", settings, ok=False)
    assert bad.exit_code == 2 and "[report -> colour] Extra inputs are not permitted" in bad.output


def test_every_table_and_figure_stays_bounded_on_a_large_store(tmp_path):
    build_store(tmp_path / "big.duckdb", posts=20_000, accounts=2_000, codes=60, topics=300, sources=400,
                reasons=3_000, candidates=1_500, selected=120, human=0)
    settings = ReportSettings(max_rows=25, n_boot=0)
    result = build(tmp_path / "big.duckdb", tmp_path / "r", settings)
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    for table in re.findall(r"<table id=\"t-([a-z0-9_]+)\">(.*?)</table>", html, flags=re.S):
        name, body = table
        rows = body.count("<tr") - 1
        header = body.split("</thead>")[0].count("<th ")
        limit = {"codes_synthetic_results": 80, "codes_synthetic_codebook": 80, "codes_synthetic_validation": 80,
                 "corpus_months": 240,
                 "codes_synthetic_months": 240, "topics_months": 240,
                 "topics_month_posts": 240}.get(name, 25 + 1)
        assert rows <= limit, (name, rows)
        assert header <= 44, (name, header)
    assert html.count("<blockquote") <= 60 * 3 + 10 * 2
    assert len(html.encode()) < 2_500_000  # posts do not enter the size: rows, columns and quotes are capped
    assert result.sections == {s: "ok" if s != "reliability" else "empty" for s in SECTIONS}
    rejects = read_csv(tmp_path / "r" / "tables" / "corpus_rejects.csv")
    assert len(rejects) == 3_000  # the CSV keeps what the page summarises


def test_rejects_are_counted_by_kind_of_reason_not_by_the_id_they_name(con, ingest_files, tmp_path):
    page = tmp_path / "errors.jsonl"
    errors = [{"value": str(n), "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{n}].",
               "title": "Authorization Error", "resource_type": "tweet", "parameter": "ids", "resource_id": str(n),
               "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}
              for n in (1400000000000000001, 1400000000000000002, 1400000000000000003)]
    page.write_text(json.dumps({"errors": errors}) + "\n" + json.dumps([{"a": 1}]) + "\n", encoding="utf-8")
    ingest_files(page)
    assert con.execute("SELECT count(DISTINCT reason) FROM rejects").fetchone()[0] == 4  # each record kept
    build_report(con, tmp_path / "r", FAST)
    rejects = read_csv(tmp_path / "r" / "tables" / "corpus_rejects.csv")
    counted = {r["reason"]: int(r["records"]) for r in rejects}
    assert len(counted) == 2 and 3 in counted.values()
    assert any(reason.endswith("[…].") for reason in counted)
    assert "not a post: a JSON array where a post object was expected" in counted
