"""Reliability holes an attack on the sample study found (issue 22), one test each.

Withdrawals that a changed key would undo, outputs overwritten without --force, a failed command
that changed the store, rows lost to an unterminated quote, input that crashed a reader, bombs,
locks a symlink bypassed, processes left behind, and messages that were tracebacks. Each test
has its own fixture under ``tests/fixtures/attacks/`` (or builds it in a few lines).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES

from flows.store.db import connect

ATTACKS = FIXTURES / "attacks"


def _rounds(db: Path) -> list:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT round_id FROM coding_rounds ORDER BY ALL").fetchall()
    finally:
        con.close()


# -- 2. outputs are not overwritten without --force -------------------------------------------------

@pytest.fixture
def coded(cli, tmp_path) -> Path:
    """A store of the control-character posts, machine-coded with the tiny codebook."""
    cli("ingest", ATTACKS / "control_chars.jsonl")
    cli("code", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--embedder", "none")
    return tmp_path / "cli.duckdb"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_sample_refuses_to_overwrite_a_sheet_without_force(cli, coded, tmp_path, suffix):
    sheet = tmp_path / f"round1{suffix}"
    sheet.write_bytes(b"a filled coding sheet")
    result = cli("sample", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--n", 3, "--out", sheet, ok=False)
    assert result.exit_code != 0 and "--force" in result.output
    assert sheet.read_bytes() == b"a filled coding sheet"
    assert _rounds(coded) == []  # refused before anything was recorded
    cli("sample", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--n", 3, "--out", sheet, "--force")
    assert sheet.read_bytes() != b"a filled coding sheet"


def test_export_codes_refuses_to_overwrite_without_force(cli, coded, tmp_path):
    out = tmp_path / "codes.csv"
    out.write_text("kept\n")
    result = cli("export", "codes", "--out", out, ok=False)
    assert result.exit_code != 0 and "--force" in result.output
    assert out.read_text() == "kept\n"
    cli("export", "codes", "--out", out, "--force")
    assert out.read_text().startswith("post_id,codebook")


def test_export_network_refuses_to_overwrite_without_force(cli, coded, tmp_path):
    out = tmp_path / "network.gexf"
    out.write_text("kept")
    result = cli("export", "network", "--out", out, "--model", "none", ok=False)
    assert result.exit_code != 0 and "--force" in result.output
    assert out.read_text() == "kept"
    cli("export", "network", "--out", out, "--model", "none", "--force")
    assert out.read_text().startswith("<?xml")


# -- 3. a failed command leaves the store as it was ----------------------------------------------

def test_an_xlsx_sheet_of_posts_with_control_characters_is_written_and_read_back(cli, coded, tmp_path):
    from flows.coding.sheets import read_sheet

    sheet = tmp_path / "round1.xlsx"
    cli("sample", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--n", 6, "--out", sheet)
    header, rows = read_sheet(sheet)
    texts = [r[header.index("text")] for r in rows]
    assert len(texts) == 6 and all("vertical\ufffdtab" in t for t in texts)
    assert len(_rounds(coded)) == 1


def test_a_sample_whose_sheet_cannot_be_written_records_no_round(cli, coded, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the sheet's folder should be")
    result = cli("sample", "--codebook", FIXTURES / "codebooks" / "tiny.yaml", "--n", 3,
                 "--out", blocker / "round1.xlsx", ok=False)
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1, result.output
    assert _rounds(coded) == []


# -- 9. messages -------------------------------------------------------------------------------

def test_init_with_a_windows_path_as_title_writes_valid_yaml(cli, tmp_path):
    title = "C:\\new\\qstudy \"quoted\" # not a comment: {x}"
    cli("init", tmp_path / "s", "--title", title)
    assert yaml.safe_load((tmp_path / "s" / "study.yaml").read_text())["title"] == title
