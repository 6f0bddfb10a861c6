"""Ordinary habits of real coders, one fixture sheet each: Excel's CSV dialects, headers typed by
hand, numbers typed as text, extra columns, unfilled sheets, names that differ by case, sheets
imported twice, a wrong import renamed or removed."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from flows.coding.codebook import load_codebook
from flows.coding.coders import audit_rows, list_coders, remove_coder, rename_coder
from flows.coding.importing import import_codes, parse_value
from flows.coding.sheets import load_sheet
from flows.coding.store import CodingError

SHEETS = FIXTURES / "coding"
TINY = FIXTURES / "codebooks" / "tiny.yaml"
ANA = {("1300000000000000001", "advice", 0), ("1300000000000000001", "greeting", 1),
       ("1300000000000000001", "thanks", 0), ("1300000000000000002", "advice", 0),
       ("1300000000000000002", "greeting", 0), ("1300000000000000002", "thanks", 1)}


@pytest.fixture
def tiny():
    return load_codebook(TINY)


@pytest.fixture
def store(con, ingest_files):
    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl")
    return con


def _codes(store, coder="ana"):
    return set(store.execute("SELECT post_id, code, value FROM code_values WHERE coder = ?", [coder]).fetchall())


@pytest.mark.parametrize("name", ["excel_bom_semicolon.csv", "excel_sep_line.csv", "headers_case_space.csv",
                                  "numeric_text.csv", "utf16_tab.csv", "windows1252.csv"])
def test_sheets_as_spreadsheet_programs_save_them_import(store, tiny, name):
    result = import_codes(store, SHEETS / name, "ana", tiny)
    assert result["posts"] == 2 and _codes(store) == ANA


def test_how_a_sheet_was_read_is_said(store, tiny):
    assert load_sheet(SHEETS / "excel_bom_semicolon.csv").notes == ["delimiter ';' (sniffed from the header)"]
    assert load_sheet(SHEETS / "excel_sep_line.csv").notes == ["delimiter ';' (the file's sep= line)"]
    assert "Windows-1252" in load_sheet(SHEETS / "windows1252.csv").notes[0]
    result = import_codes(store, SHEETS / "windows1252.csv", "ana", tiny)
    assert any("Windows-1252" in w for w in result["warnings"])
    assert store.execute("SELECT memo FROM memos").fetchall() == [("café résumé",)]


@pytest.mark.parametrize("cell,value", [("1", 1), ("1.0", 1), ("'1.0'", 1), ('"0"', 0), ("0,0", 0), (" X ", 1),
                                        ("TRUE", 1), ("", 0), ("2", None), ("maybe", None), ("0.5", None)])
def test_yes_no_cells_typed_as_numbers_or_text(cell, value):
    assert parse_value(cell) == value


def test_an_extra_column_is_kept_as_notes_with_a_warning(store, tiny):
    result = import_codes(store, SHEETS / "extra_column.csv", "ana", tiny)
    assert _codes(store) == ANA
    [warning] = result["warnings"]
    assert "'coder_notes' (column J) are not codes of this codebook; their cells are kept as notes" in warning
    assert store.execute("SELECT post_id, kind, label, memo FROM memos").fetchall() == [
        ("1300000000000000001", "note", "coder_notes", "unsure about greeting")]


def test_each_bad_cell_is_listed_once_with_its_fix(store, tiny):
    with pytest.raises(CodingError) as caught:
        import_codes(store, SHEETS / "bad_values_once_per_cell.csv", "ana", tiny)
    problems = caught.value.problems
    assert problems[:-1] == [
        f"{SHEETS / 'bad_values_once_per_cell.csv'}: row {r}, column {c} ({code}): {v!r} is not yes/no; write 1, "
        "x or yes for present, 0 or leave blank for absent"
        for r, c, code, v in ((2, "F", "advice", "maybe"), (2, "G", "thanks", "2"), (3, "H", "greeting", "?"))]
    assert problems[-1].endswith("3 problem(s); nothing was imported")


def test_importing_the_same_sheet_again_is_a_no_op(store, tiny):
    import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    before = store.execute("SELECT count(*) FROM coder_audit").fetchone()
    again = import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    assert again["unchanged"] is True
    resaved = import_codes(store, SHEETS / "good_ana_resaved.csv", "ana", tiny)  # Excel's dialect, same codes
    assert resaved["unchanged"] is True
    assert store.execute("SELECT count(*) FROM coder_audit").fetchone() == before


def test_per_post_and_per_code_memos_come_from_the_sheet(store, tiny):
    result = import_codes(store, SHEETS / "code_memos.csv", "ana", tiny)
    assert result["memos"] == 3 and not result["warnings"]
    rows = store.execute("SELECT post_id, code_id, label, memo FROM memos ORDER BY post_id, label").fetchall()
    assert rows == [("1300000000000000001", None, "memo", "a post memo"),
                    ("1300000000000000001", "greeting", "memo:greeting", "hello as a greeting"),
                    ("1300000000000000002", "thanks", "memo:thanks", "thanks for the thread")]


def test_a_sheet_with_nothing_coded_warns(store, tiny):
    result = import_codes(store, SHEETS / "nothing_coded.csv", "dave", tiny)
    [warning] = result["warnings"]
    assert "nothing is coded in this sheet" in warning and "ethnoflow coders remove dave" in warning


def test_a_name_that_differs_only_by_case_warns_and_can_be_renamed(store, tiny):
    import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    result = import_codes(store, SHEETS / "good_ben.csv", "Ana", tiny)
    assert any("'Ana' differs from the existing coder 'ana' only by case" in w for w in result["warnings"])
    with pytest.raises(CodingError, match="both coded 2 of the same posts"):
        rename_coder(store, "Ana", "ana")
    rename_coder(store, "Ana", "ben")
    assert [c["coder"] for c in list_coders(store)] == ["ana", "ben"]
    assert _codes(store, "ben") and not _codes(store, "Ana")
    [rename] = [r for r in audit_rows(store) if r["action"] == "rename"]
    assert rename["coder"] == "Ana" and rename["detail"]["to"] == "ben" and rename["detail"]["code_assignments"] == 6


def test_a_wrong_import_is_removed_with_an_audit_row(store, tiny, tmp_path):
    from flows.coding.rounds import sample

    import_codes(store, SHEETS / "good_ana.csv", "ana", tiny)
    import_codes(store, SHEETS / "code_memos.csv", "dave", tiny)
    before = set(store.execute("SELECT * FROM code_assignments WHERE coder = 'ana'").fetchall())
    result = remove_coder(store, "dave")
    assert result["assignments"] == 6 and result["memos"] == 3 and result["left"] == 0
    assert store.execute("SELECT coder FROM memos").fetchall() == [("ana",)]
    assert set(store.execute("SELECT * FROM code_assignments").fetchall()) == before
    assert [c["coder"] for c in list_coders(store)] == ["ana"]
    assert audit_rows(store)[-1]["action"] == "remove"
    with pytest.raises(CodingError, match="no coder 'dave'; coders: ana"):
        remove_coder(store, "dave")
    drawn = sample(store, tiny, 2, tmp_path / "round.csv", seed=1)
    (tmp_path / "ben.csv").write_bytes((SHEETS / "good_ben.csv").read_bytes())
    assert import_codes(store, tmp_path / "ben.csv", "ben", tiny)["round_id"] == drawn["round_id"]
    with pytest.raises(CodingError, match="ben has no sheet of round 'ffffff'"):
        remove_coder(store, "ben", "ffffff")
    assert remove_coder(store, "ben", drawn["round_id"][:8])["assignments"] == 6
