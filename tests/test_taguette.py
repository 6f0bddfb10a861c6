"""Taguette 1.5.2's own codebook import reads `ethnoflow export codebook --format taguette-csv`.

Taguette's pins clash with Prefect's, so it lives in ``.venv-interop/taguette`` (``make
interop``, from ``tests/interop/taguette.txt``); ``tests/interop/taguette_import.py`` runs its
import there, into a real Taguette database. Without that environment the test skips, saying so.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import FIXTURES, ROOT

from flows.coding.codebook import iter_codes, load_codebook, resolve_codebook
from flows.export.codebooks import taguette_rows, write_codebook
from flows.export.paths import ExportError
from flows.export.refiqda.codebook_xml import parse_description

PYTHON = ROOT / ".venv-interop" / "taguette" / "bin" / "python"
HARNESS = ROOT / "tests" / "interop" / "taguette_import.py"


def taguette_import(csv_path, tmp_path) -> dict:
    if not PYTHON.is_file():
        pytest.skip(f"no Taguette environment at {PYTHON}; run `make interop` (tests/interop/taguette.txt)")
    done = subprocess.run([PYTHON, HARNESS, csv_path, tmp_path / "taguette.sqlite3"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("codebook_id", ["chretien2015", "mentorship_medtwitter"])
def test_taguette_imports_every_assignable_code_with_its_description(codebook_id, tmp_path):
    codebook = resolve_codebook(codebook_id)
    out = tmp_path / f"{codebook_id}.csv"
    result = write_codebook(codebook, out, "taguette-csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbftag,description")
    imported = taguette_import(out, tmp_path)
    assignable = [n for n in iter_codes(codebook) if n.code.assignable]
    assert imported["read"] == result["codes"] == len(assignable) == len(imported["tags"])
    assert imported["duplicates"] == 0
    labels = {n.code.id: n.code.label for n in iter_codes(codebook)}
    for node, tag in zip(assignable, imported["tags"]):
        assert tag["path"] == ".".join(" ".join(labels[i].split()) for i in node.path)
        described = parse_description(tag["description"])
        assert described["id"] == node.code.id
        assert described["definition"] == " ".join(node.code.definition.split())


def test_taguette_csv_tells_codes_with_one_label_apart_and_refuses_overlong_paths(tmp_path):
    codebook = load_codebook(FIXTURES / "codebooks" / "tiny.yaml")
    twin = codebook.codes[0].children[1].model_copy(update={"id": "thanks_again"})
    codebook.codes[0].children.append(twin)
    paths = [p for p, _ in taguette_rows(codebook)]
    assert paths[:3] == ["Support.Advice", "Support.Thanks", "Support.Thanks (thanks_again)"]
    assert len(set(paths)) == len(paths)
    imported = taguette_import(_csv(codebook, tmp_path), tmp_path)
    assert [t["path"] for t in imported["tags"]] == paths
    codebook.codes[0].children[0].label = "A very long label " * 12
    with pytest.raises(ExportError, match="code 'advice'.*at most 200"):
        taguette_rows(codebook)


def _csv(codebook, tmp_path):
    out = tmp_path / "c.csv"
    write_codebook(codebook, out, "taguette-csv")
    return out


def test_cli_export_codebook_with_and_without_a_store(cli, tmp_path):
    out = cli("export", "codebook", "--codebook", "chretien2015", "--format", "taguette-csv",
              "--out", tmp_path / "t.csv").output  # no store yet: the shipped file
    assert "7 tags of chretien2015" in out and (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbftag,")
    out = cli("export", "codebook", "--codebook", "chretien2015", "--out", tmp_path / "c.qdc").output
    assert "9 codes of chretien2015" in out and (tmp_path / "c.qdc").read_text(encoding="utf-8").count("<Code ") == 9
    again = cli("export", "codebook", "--codebook", "chretien2015", "--out", tmp_path / "c.qdc", ok=False)
    assert again.exit_code == 2 and "--force" in again.output
    bad = cli("export", "codebook", "--codebook", "chretien2015", "--format", "nvivo", "--out", tmp_path / "x",
              ok=False)
    assert bad.exit_code == 2 and "taguette-csv" in bad.output
