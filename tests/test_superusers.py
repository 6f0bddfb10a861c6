"""Superuser selection: every criterion measured, thresholds, ranking, the CLI, the sample study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.network.build import Corpus
from pydantic import ValidationError

from flows.ingest.files import ingest
from flows.people.stage import prepare
from flows.people.superusers import SuperuserCriteria, select_superusers

CRITERIA = SuperuserCriteria(min_posts_per_month=2, min_professional_share=0.5, min_faculty=1, min_students=1,
                             min_chats=1)


def students_corpus() -> Corpus:
    """Jan-Mar 2015. amy and zoe pass everything alike; ben skips the chat; cat posts small
    talk; dan posts too little; res is a resident; fac and the society are not students."""
    c = Corpus()
    for handle, bio in {"amy": "MS3", "zoe": "MS3", "ben": "MS2", "cat": "MS1", "dan": "MS4", "res": "PGY-1",
                        "fac": "Professor of Medicine", "soc": "Society for Example Education"}.items():
        c.user(handle, bio)
    tip = c.post("fac", "Feedback tip: ask early #MedEd", "2015-01-05T10:00")
    c.post("soc", "Q1: What helps you learn? #SuChat", "2015-02-04T02:05")
    c.post("soc", "Q2: Best resource? #SuChat", "2015-02-04T02:15")
    for n, (me, friend) in enumerate((("amy", "zoe"), ("zoe", "amy"))):
        c.post(me, "Studying for the shelf exam #MedEd", f"2015-01-06T1{n}:00")
        c.post(me, "@fac thanks for this", f"2015-01-07T1{n}:00", reply_to=tip)
        c.post(me, f"Rounds with @{friend} today", f"2015-02-01T1{n}:00")
        c.post(me, "A1: spaced repetition #SuChat", f"2015-02-04T02:0{8 + n}")
        c.post(me, "Coffee time", f"2015-03-01T1{n}:00")
        c.post(me, "Reading a great paper on sepsis", f"2015-03-02T1{n}:00")
    c.post("ben", "Anatomy lab again #MedEd", "2015-01-08T10:00")
    c.post("ben", "@fac great tip for rounds", "2015-01-09T10:00", reply_to=tip)
    c.post("ben", "Studying with @cat", "2015-02-02T10:00")
    c.post("ben", "Patients teach me every day", "2015-02-10T10:00")
    c.post("ben", "Weekend!", "2015-03-03T10:00")
    c.post("ben", "Step 1 done #MedStudentTwitter", "2015-03-04T10:00")
    c.post("cat", "Coffee", "2015-01-10T10:00")
    c.post("cat", "Weekend vibes", "2015-01-11T10:00")
    c.post("cat", "@fac lol same", "2015-02-05T10:00", reply_to=tip)
    c.post("cat", "A1: naps #SuChat", "2015-02-04T02:12")
    c.post("cat", "New glasses", "2015-03-05T10:00")
    c.post("cat", "Snow day", "2015-03-06T10:00")
    c.post("dan", "@fac great feedback, thanks @ben", "2015-01-12T10:00", reply_to=tip)
    c.post("dan", "A2: the library #SuChat", "2015-02-04T02:18")
    c.post("res", "Night float #MedTwitter", "2015-01-15T10:00")
    return c


@pytest.fixture
def prepared(con, tmp_path):
    ingest(con, [students_corpus().write(tmp_path / "students.jsonl")])
    prepare(con)
    return con


def values(row: dict) -> dict:
    return {name: c["value"] for name, c in row["criteria"].items()}


def test_every_criterion_is_measured(prepared):
    rows = {r["handle"]: r for r in select_superusers(prepared, CRITERIA)}
    assert values(rows["amy"]) == {"role": "student", "posts_per_month": 2.0, "professional_share": 0.667,
                                   "faculty_interacted": 1, "students_interacted": 1, "chats": 1}
    assert values(rows["ben"]) == {"role": "student", "posts_per_month": 2.0, "professional_share": 0.667,
                                   "faculty_interacted": 1, "students_interacted": 2, "chats": 0}
    assert values(rows["cat"]) == {"role": "student", "posts_per_month": 2.0, "professional_share": 0.167,
                                   "faculty_interacted": 1, "students_interacted": 1, "chats": 1}
    assert values(rows["dan"]) == {"role": "student", "posts_per_month": 0.667, "professional_share": 1.0,
                                   "faculty_interacted": 1, "students_interacted": 1, "chats": 1}
    amy = rows["amy"]["criteria"]
    assert amy["posts_per_month"] == {"value": 2.0, "threshold": 2, "pass": True, "posts": 6, "months": 3}
    assert amy["professional_share"]["professional_posts"] == 4 and amy["professional_share"]["own_posts"] == 6


def test_each_account_fails_exactly_its_criterion(prepared):
    failed = {r["handle"]: [n for n, c in r["criteria"].items() if not c["pass"]]
              for r in select_superusers(prepared, CRITERIA)}
    assert failed == {"amy": [], "zoe": [], "ben": ["chats"], "cat": ["professional_share"],
                      "dan": ["posts_per_month"]}


def test_ranking_is_deterministic_with_ties_broken_by_handle(prepared):
    rows = select_superusers(prepared, CRITERIA)
    assert [(r["rank"], r["handle"], r["selected"]) for r in rows] == [
        (1, "amy", True), (2, "zoe", True), (3, "ben", False), (4, "cat", False), (5, "dan", False)]
    stored = prepared.execute("SELECT handle, rank, selected FROM superuser_candidates ORDER BY rank").fetchall()
    assert stored == [(r["handle"], r["rank"], r["selected"]) for r in rows]


def test_eligible_roles_and_listing_everyone(prepared):
    everyone = {r["handle"]: r for r in select_superusers(prepared, CRITERIA, include_all=True)}
    assert set(everyone) == {"amy", "zoe", "ben", "cat", "dan", "res", "fac", "soc"}
    assert not everyone["res"]["criteria"]["role"]["pass"] and not everyone["res"]["selected"]
    with_residents = CRITERIA.model_copy(update={"roles": ["student", "resident"]})
    assert "res" in {r["handle"] for r in select_superusers(prepared, with_residents)}


def test_thresholds_and_reposts_are_configurable(prepared):
    strict = CRITERIA.model_copy(update={"min_students": 2})
    assert [r["handle"] for r in select_superusers(prepared, strict) if r["selected"]] == []
    outgoing = CRITERIA.model_copy(update={"direction": "outgoing"})
    cat = next(r for r in select_superusers(prepared, outgoing) if r["handle"] == "cat")
    assert values(cat)["students_interacted"] == 0  # ben mentioned cat, not the other way
    months = CRITERIA.model_copy(update={"months": 6})
    assert values(select_superusers(prepared, months)[0])["posts_per_month"] == 1.0


def test_coded_posts_count_as_professional(prepared):
    cols = prepared.execute("SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
                            "WHERE table_name = 'code_assignments' AND schema_name = 'main'").fetchall()
    if not cols:
        prepared.execute("CREATE TABLE code_assignments (platform VARCHAR, post_id VARCHAR, value TINYINT)")
        cols = [("platform", "VARCHAR", True), ("post_id", "VARCHAR", True), ("value", "TINYINT", True)]
    coffee = prepared.execute("SELECT platform, post_id FROM posts WHERE text = 'Coffee'").fetchone()
    given = {"platform": coffee[0], "post_id": coffee[1], "value": 1}
    row = {c: given.get(c, 0 if t in ("TINYINT", "INTEGER", "BIGINT", "DOUBLE") else "x") for c, t, _ in cols}
    prepared.execute(f"INSERT INTO code_assignments ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
    cat = next(r for r in select_superusers(prepared, CRITERIA) if r["handle"] == "cat")
    assert cat["criteria"]["professional_share"]["professional_posts"] == 2
    no_codes = CRITERIA.model_copy(update={"use_codes": False})
    cat = next(r for r in select_superusers(prepared, no_codes) if r["handle"] == "cat")
    assert cat["criteria"]["professional_share"]["professional_posts"] == 1


def test_criteria_refuse_unknown_keys_and_bad_values():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SuperuserCriteria.model_validate({"min_post_per_month": 3})
    with pytest.raises(ValidationError):
        SuperuserCriteria(min_professional_share=1.5)
    with pytest.raises(ValidationError, match="not a valid regex"):
        SuperuserCriteria(professional_terms=["rotation("])
    assert SuperuserCriteria(professional_hashtags=["#MedEd"]).professional_hashtags == ["meded"]


def test_cli_superusers_json_from_a_study_file(cli, tmp_path):
    cli("ingest", students_corpus().write(tmp_path / "students.jsonl"))
    study = tmp_path / "study.yaml"
    study.write_text("title: test\nsuperusers:\n  min_posts_per_month: 2\n  min_professional_share: 0.5\n")
    rows = json.loads(cli("superusers", "--json", "--model", "none", "--criteria", study).output)
    assert [set(r) for r in rows] == [{"handle", "rank", "selected", "criteria"}] * 5
    assert [(r["handle"], r["selected"]) for r in rows][:2] == [("amy", True), ("zoe", True)]
    study.write_text("superusers:\n  min_post_per_month: 2\n")
    result = cli("superusers", "--model", "none", "--criteria", study, ok=False)
    assert result.exit_code == 2 and "[superusers -> min_post_per_month] Extra inputs" in result.output
    assert f"{study}: " in result.output and "did you mean 'min_posts_per_month'?" in result.output


def test_sample_study_selection_is_defensible(tmp_path):
    from flows.embed.models import FakeEmbedder
    from flows.sample.generate import generate
    from flows.store.db import connect

    manifest = generate(tmp_path)
    truth = {a["handle"]: a for a in json.loads(Path(manifest["truth"]).read_text(encoding="utf-8"))["accounts"]}
    con = connect(tmp_path / "s.duckdb")
    ingest(con, [manifest["corpus"]])
    prepare(con, FakeEmbedder())
    rows = select_superusers(con)
    selected = {r["handle"] for r in rows if r["selected"]}
    planted = {h for h, a in truth.items() if a["superuser"] and a["role"] == "student"}
    assert selected <= planted and len(selected) >= 0.75 * len(planted)
    lurkers = [r for r in rows if truth[r["handle"]]["role"] == "student" and not truth[r["handle"]]["superuser"]]
    assert lurkers and all(not r["criteria"]["posts_per_month"]["pass"] for r in lurkers)
