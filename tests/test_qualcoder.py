"""QualCoder's own REFI-QDA import, run headless on ethnoflow's project, gets it all right.

QualCoder's sources and a headless harness live in ``../shared/tools/qualcoder-import``;
QualCoder needs PyQt6, which ``make interop`` installs into ``.venv-interop/qualcoder`` from
``tests/interop/qualcoder.txt`` (``.ci/run`` does it before ``make test``). Without either,
these tests skip and say why. What QualCoder stored (its sqlite ``data.qda``) is read here
with ``sqlite3``: the code tree, every coding's owner and span, and the text it selects.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter

import pytest
from conftest import ROOT, SHARED
from test_export import export, study  # noqa: F401 (fixtures)
from test_refiqda import NS, human_study  # noqa: F401 (fixtures)

from flows.coding.codebook import iter_codes
from flows.export.refiqda.codebook_xml import code_names
from flows.export.refiqda.codes_import import import_qdpx_codes
from flows.export.refiqda.xml import clean
from flows.export.selection import stored_codebook
from flows.store.db import connect

TOOL = SHARED.parent / "tools" / "qualcoder-import"
PYTHON = ROOT / ".venv-interop" / "qualcoder" / "bin" / "python"
CODERS = ("ana", "ben", "consensus")


@pytest.fixture(scope="module")
def qualcoder(tmp_path_factory):
    """qualcoder(qdpx, export=False) -> (QualCoder's project folder, its re-export or None)."""
    if not (TOOL / "qc_harness.py").is_file():
        pytest.skip(f"QualCoder's sources and harness are not at {TOOL} (only in the project workspace)")
    if not PYTHON.is_file():
        pytest.skip(f"no QualCoder environment at {PYTHON}; run `make interop` (tests/interop/qualcoder.txt)")
    home = tmp_path_factory.mktemp("qualcoder-home")
    (home / ".qualcoder").mkdir()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home)}
    # QualCoder imports QtMultimedia at start-up (it links libpulse: Debian's libpulse0, .ci/run installs it)
    probe = [PYTHON, "-c", "from PyQt6 import QtWidgets, QtMultimedia"]
    probe = subprocess.run(probe, env=env, capture_output=True, text=True)
    if probe.returncode:
        pytest.skip("PyQt6 does not load here, so QualCoder cannot run: " + probe.stderr.strip().splitlines()[-1])

    def run(qdpx, export_too=False):
        work = tmp_path_factory.mktemp("qualcoder")
        args = [PYTHON, TOOL / "qc_harness.py", "import", qdpx, work / "project"]
        if export_too:
            args += ["--export", work / "export"]
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        log = (work / "project" / "import_log.txt").read_text(encoding="utf-8")
        assert done.returncode == 0 and "IMPORT ERROR" not in done.stdout, done.stdout + done.stderr + log
        assert "Traceback" not in log, log
        again = next((work / "export").glob("*.qdpx"), None) if export_too else None
        return work / "project", again

    return run


@pytest.fixture(scope="module")
def imported(qualcoder, human_study, tmp_path_factory):  # noqa: F811  (qualcoder first: it may skip)
    """The human study exported --for qualcoder, imported by QualCoder and exported back by it:
    (ethnoflow's project, its export result, QualCoder's project folder, QualCoder's .qdpx)."""
    out = tmp_path_factory.mktemp("export") / "study.qdpx"
    con = connect(human_study, read_only=True)
    result = export(con, out, fmt="qdpx", qdpx_for="qualcoder", coders=CODERS)
    con.close()
    project, again = qualcoder(out, export_too=True)
    return out, result, project, again


def spans_of(qdpx) -> dict[tuple[str, int, int], str]:
    """(source name, start, end) -> post id, from the project ethnoflow wrote."""
    root = ET.fromstring(zipfile.ZipFile(qdpx).read("project.qde"))
    return {(s.get("name"), int(sel.get("startPosition")), int(sel.get("endPosition"))):
            sel.get("name").split("/", 1)[1]
            for s in root.iter(NS + "TextSource") for sel in s.iter(NS + "PlainTextSelection")}


def test_qualcoder_imports_codes_owners_and_spans_exactly(human_study, imported):  # noqa: F811
    out, result, project, _ = imported
    con = connect(human_study, read_only=True)
    qc = sqlite3.connect(project / "data.qda")
    codebook, _ = stored_codebook(con, "chretien2015")
    names = code_names(codebook.codes)

    # the code tree: domains are categories, codes sit in them, named as exported
    categories = dict(qc.execute("SELECT catid, name FROM code_cat"))
    tree = sorted((name, categories.get(cat)) for name, cat in qc.execute("SELECT name, catid FROM code_name"))
    expected = sorted((names[n.code.id], names[n.parent.id] if n.parent else None)
                      for n in iter_codes(codebook) if n.code.assignable)
    assert tree == expected and sorted(categories.values()) == ["Access", "Voice"]

    # every coding, with its owner: exactly the codes each coder applied, none lost or merged
    want = Counter((p, names[c], coder) for p, c, coder in con.execute(
        "SELECT post_id, code, coder FROM code_values WHERE value = 1 AND list_contains(?, coder)",
        [list(CODERS)]).fetchall())
    spans = spans_of(out)
    rows = qc.execute("""SELECT s.name, t.pos0, t.pos1, c.name, t.owner, t.seltext, substr(s.fulltext, t.pos0 + 1,
                                t.pos1 - t.pos0)
                         FROM code_text t JOIN source s ON s.id = t.fid JOIN code_name c ON c.cid = t.cid""").fetchall()
    got = Counter((spans[(src, a, b)], code, owner) for src, a, b, code, owner, _, _ in rows)
    assert got == want and len(rows) == result["codings"] == sum(want.values()) > 300
    assert {owner for *_, owner, _, _ in rows} == set(CODERS)

    # the text of every coded span, as QualCoder selects it, is the post's text: 100%
    texts = dict(con.execute("SELECT post_id, text FROM posts").fetchall())
    assert all(clean(t) == t for t in texts.values())  # nothing for the export to normalise here
    wrong = [(spans[(src, a, b)], seltext) for src, a, b, _, _, seltext, in_source in rows
             if seltext != texts[spans[(src, a, b)]] or in_source != seltext]
    assert wrong == []
    assert any(ord(ch) > 0xFFFF for *_, seltext, _ in rows for ch in seltext)  # emoji before and inside spans

    # memos on posts arrive as annotations on the post's text, owned by their author; a memo on a
    # code as a journal entry; nothing else (no annotations from empty selections)
    memos = Counter(con.execute("""SELECT coder, text FROM memos JOIN posts USING (platform, post_id)
        WHERE post_id <> ''""").fetchall())
    notes = qc.execute("""SELECT a.owner, a.memo, substr(s.fulltext, a.pos0 + 1, a.pos1 - a.pos0)
        FROM annotation a JOIN source s ON s.id = a.fid ORDER BY 1, 2, 3""").fetchall()
    assert Counter((owner, text) for owner, memo, text in notes for _ in memo.split("\n\n")) == memos
    assert len(notes) == 16 and all(memo.strip() for _, memo, _ in notes)
    assert qc.execute("SELECT owner, jentry FROM journal").fetchall() == [
        ("ana", "Community posts cluster around the weekly chat.")]
    assert qc.execute("SELECT count(*), count(DISTINCT name) FROM source").fetchone() == (40, 40)
    assert qc.execute("SELECT count(*) FROM cases").fetchone()[0] == 40
    con.close()


def test_round_trip_through_qualcoder_keeps_who_coded_what(human_study, imported, tmp_path):  # noqa: F811
    db = tmp_path / "rt.duckdb"
    shutil.copy(human_study, db)
    con = connect(db)
    again = imported[3]
    codebook, _ = stored_codebook(con, "chretien2015")
    result = import_qdpx_codes(con, again, codebook, coders={c: f"{c}_qc" for c in CODERS})
    assert result["positions"] == "qualcoder" and result["posts"] == 120
    for coder in CODERS:
        before, after = (set(con.execute("SELECT post_id, code, value FROM code_values WHERE coder = ?",
                                         [c]).fetchall()) for c in (coder, f"{coder}_qc"))
        assert before == after and len(before) == 120 * 7  # the 0s too: "coded, no code applies" came back
    con.close()
