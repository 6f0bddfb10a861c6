"""Human coding rounds on a three-post corpus and the tiny codebook: sheets in, sheets out."""

from __future__ import annotations

import csv

import pytest
from conftest import FIXTURES

from flows.coding.codebook import load_codebook
from flows.coding.importing import import_codes
from flows.coding.rounds import allocate, reconcile, sample
from flows.coding.sheets import read_sheet, write_sheet
from flows.coding.store import CodingError
from flows.privacy.spreadsheet import neutralise, restore

SHEETS = FIXTURES / "coding"
TINY = FIXTURES / "codebooks" / "tiny.yaml"
TABLES = ("code_assignments", "coding_batches", "codebook_versions", "codebook_current",
          "memos", "coding_rounds", "coders")


@pytest.fixture
def tiny():
    return load_codebook(TINY)


@pytest.fixture
def store(con, ingest_files):
    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl")
    return con


def _snapshot(con):
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def _problems(store, tiny, name, coder="ana"):
    before = _snapshot(store)
    with pytest.raises(CodingError) as caught:
        import_codes(store, SHEETS / name, coder, tiny)
    assert _snapshot(store) == before, "a refused sheet must leave the database unchanged"
    assert caught.value.problems[-1].endswith("nothing was imported")
    return caught.value.problems[:-1]


def test_good_sheet_imports_every_row_with_yes_no_spellings(store, tiny):
    result = import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    assert result["posts"] == 2 and result["assignments"] == 6
    rows = store.execute("""SELECT post_id, code, value, score FROM code_values
        WHERE coder = 'ana' ORDER BY post_id, code""").fetchall()
    assert rows == [("1300000000000000001", "advice", 0, None), ("1300000000000000001", "greeting", 1, None),
                    ("1300000000000000001", "thanks", 0, None), ("1300000000000000002", "advice", 0, None),
                    ("1300000000000000002", "greeting", 0, None), ("1300000000000000002", "thanks", 1, None)]


def test_unknown_post_id_is_refused(store, tiny):
    [problem] = _problems(store, tiny, "bad_unknown_post.csv")
    assert "row 3, column A (post_id): unknown post id '999'" in problem


def test_repost_is_not_a_codable_post(store, tiny):
    [problem] = _problems(store, tiny, "bad_repost.csv")
    assert "unknown post id '1300000000000000003'" in problem and "reposts are not coded" in problem


def test_a_misspelt_code_column_is_named_and_other_unknown_columns_are_not_refused(store, tiny):
    problems = _problems(store, tiny, "bad_unknown_column.csv")
    assert problems == [f"{SHEETS / 'bad_unknown_column.csv'}: row 1, column F: 'advise' is not a code; "
                        "code column 'advice' is missing: rename the column to advice"]


def test_values_that_are_not_yes_no_are_refused(store, tiny):
    problems = _problems(store, tiny, "bad_value.csv")
    assert len(problems) == 2
    assert "row 2, column F (advice): 'maybe' is not yes/no" in problems[0]
    assert "row 3, column G (thanks): '2' is not yes/no" in problems[1]


def test_duplicate_rows_are_refused(store, tiny):
    [problem] = _problems(store, tiny, "bad_duplicate_row.csv")
    assert "row 4, column A (post_id): duplicate row for post '1300000000000000001' (first at row 2)" in problem


def test_missing_code_column_is_refused(store, tiny):
    [problem] = _problems(store, tiny, "bad_missing_column.csv")
    assert "code column 'greeting' is missing" in problem


def test_every_problem_of_a_sheet_is_listed_at_once(store, tiny):
    problems = _problems(store, tiny, "bad_everything.csv")
    joined = "\n".join(problems)
    for piece in ("'advise' is not a code; code column 'advice' is missing",
                  "row 3, column A (post_id): unknown post id '999'",
                  "row 4, column G (thanks): 'maybe' is not yes/no",
                  "row 5, column A (post_id): duplicate row"):
        assert piece in joined
    assert len(problems) == 4


def test_a_coder_cannot_overwrite_another_and_replaces_own_codes_only_on_request(store, tiny):
    import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    import_codes(store, SHEETS / "good_ben.csv", "ben", tiny)
    assert import_codes(store, SHEETS / "good_ben.csv", "ben", tiny)["unchanged"] is True
    [problem] = _problems(store, tiny, "good_ben.csv", coder="ana")
    assert "2 post(s) are already coded by ana under this codebook version, with other values (rows 2, 3)" in problem
    assert problem.endswith("or remove those rows")
    import_codes(store, SHEETS / "good_ben.csv", "ana", tiny, replace=True)
    counts = dict(store.execute("SELECT coder, sum(value) FROM code_values GROUP BY coder").fetchall())
    assert counts == {"ana": 1, "ben": 1}


def test_machine_coder_names_are_reserved(store, tiny):
    with pytest.raises(CodingError, match="reserved for machine coders"):
        import_codes(store, SHEETS / "good_ana.csv", "auto:rules", tiny)


def test_formula_cells_are_neutralised_and_read_back(tmp_path):
    cells = ["=1+1", "+1", "-1", "@SUM(A1)", "'quoted", "plain", "\tx"]
    assert [restore(neutralise(c)) for c in cells] == cells
    for suffix in (".csv", ".xlsx"):
        path = write_sheet(tmp_path / f"s{suffix}", ["post_id", "text"], [["1", c] for c in cells])
        header, rows = read_sheet(path)
        assert header == ["post_id", "text"] and [r[1] for r in rows] == cells
    raw = list(csv.reader((tmp_path / "s.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [r[1] for r in raw[1:5]] == ["'=1+1", "'+1", "'-1", "'@SUM(A1)"]
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "s.xlsx").active
    assert sheet["B2"].value == "'=1+1" and sheet["B2"].data_type == "s"


def test_xlsx_sheet_round_trip(store, tiny, tmp_path):
    out = tmp_path / "round.xlsx"
    sample(store, tiny, 5, out, seed=1)
    header, rows = read_sheet(out)
    assert header == ["post_id", "author", "date", "text", "in_reply_to", "advice", "thanks",
                      "greeting", "memo"]
    assert sorted(r[0] for r in rows) == ["1300000000000000001", "1300000000000000002"]
    reply = next(r for r in rows if r[0] == "1300000000000000002")
    assert reply[4].startswith("@ms3_avery: Great #MedEd thread")
    from openpyxl import load_workbook

    book = load_workbook(out)
    for i, row in enumerate(book.active.iter_rows(min_row=2)):
        row[5].value = "x" if i == 0 else None
        row[8].value = "=cmd|' /C calc'!A0"
    book.save(out)
    import_codes(store, out, "ana", tiny)
    memo = store.execute("SELECT DISTINCT memo FROM memos").fetchall()
    assert memo == [("=cmd|' /C calc'!A0",)]
    assert store.execute("SELECT sum(value) FROM code_values WHERE coder = 'ana'").fetchall() == [(1,)]


def test_sample_is_reproducible_and_excludes_coded_posts(store, tiny, tmp_path):
    first = sample(store, tiny, 1, tmp_path / "a.csv", seed=3, strata=["author"])
    again = sample(store, tiny, 1, tmp_path / "b.csv", seed=3, strata=["author"])
    assert first["round_id"] == again["round_id"]
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    with pytest.raises(CodingError, match="already coded by ana"):
        sample(store, tiny, 1, tmp_path / "c.csv", coders=["ana"])
    with pytest.raises(CodingError, match="cannot stratify by colour"):
        sample(store, tiny, 1, tmp_path / "c.csv", strata=["colour"])


def test_proportional_allocation_by_largest_remainder():
    import pandas as pd

    sizes = pd.Series({"a": 50, "b": 30, "c": 20})
    assert allocate(sizes, 10) == {"a": 5, "b": 3, "c": 2}
    assert allocate(sizes, 7) == {"a": 4, "b": 2, "c": 1}
    assert sum(allocate(pd.Series({"x": 1, "y": 1, "z": 1}), 2).values()) == 2


def test_reconcile_writes_disputes_that_import_refuses_until_resolved(store, tiny, tmp_path):
    import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    import_codes(store, SHEETS / "good_ben.csv", "ben", tiny)
    out = tmp_path / "disputes.csv"
    result = reconcile(store, tiny, ["ana", "ben"], out)
    assert result == {"sheet": str(out), "posts": 2, "posts_in_dispute": 2, "cells_in_dispute": 3}
    header, rows = read_sheet(out)
    assert header[-1] == "disagreements" and rows[0][-1] in {"advice greeting", "thanks"}
    assert "ana:0 ben:1" in rows[0] or "ana:1 ben:0" in rows[0]
    assert any("ana: =HYPERLINK" in r[8] for r in rows)  # memos joined, neutralised on disk
    with pytest.raises(CodingError, match="is not yes/no"):
        import_codes(store, out, "consensus", tiny)
    resolved = [[("1" if c.startswith("ana:1") else "0") if c.startswith("ana:") else c for c in r]
                for r in rows]
    write_sheet(out, header, resolved)
    assert import_codes(store, out, "consensus", tiny)["posts"] == 2


def test_agreement_after_a_codebook_edit_explains_where_the_codes_are(store, tiny, tmp_path):
    from flows.coding.agreement import agreement

    import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    import_codes(store, SHEETS / "good_ben.csv", "ben", tiny)
    report = agreement(store, tiny, n_boot=20)
    assert report["codes"]["greeting"]["n"] == 2 and report["coders"] == ["ana", "ben"]
    edited = tmp_path / "tiny.yaml"
    edited.write_text(TINY.read_text(encoding="utf-8").replace("Greets the audience.", "Says hi."))
    with pytest.raises(CodingError, match=r"codes exist under 8193b4208e05 \(2 coders\)"):
        agreement(store, load_codebook(edited), n_boot=20)
