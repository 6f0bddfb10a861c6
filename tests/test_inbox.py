"""The inbox as researchers fill it: stray files, files still being copied, copies that grew."""

from __future__ import annotations

import os
import time

import pytest
from conftest import FIXTURES, settled_copy

from flows.run.stages import Context, ingest_stage, settled
from flows.store.db import connect
from flows.study.model import load_study
from flows.study.scaffold import create_study

PAGE = FIXTURES / "ingest" / "cross" / "page.jsonl"
MIXED = FIXTURES / "ingest" / "cross" / "flat.jsonl"  # three flattened tweets, one a line


@pytest.fixture
def inbox_study(tmp_path):
    path = create_study(tmp_path / "study", title="Inbox test")
    return load_study(path)


def _run(study) -> dict:
    return ingest_stage(Context(study))


def _aged(path, seconds: float = 3600) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_files_that_are_not_corpora_are_skipped_once_with_a_warning(inbox_study):
    inbox = inbox_study.path("data/inbox")
    settled_copy(PAGE, inbox / "page.jsonl")
    (inbox / "paper.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + b"\x00" * 64)
    (inbox / "notes.txt").write_text("Ideas for the codebook: mentorship, sponsorship\n", encoding="utf-8")
    for name in ("paper.pdf", "notes.txt"):
        _aged(inbox / name)
    first = _run(inbox_study)
    assert (first["ingested"], first["not_corpus"], first["new_files"]) == (3, 2, 1)
    assert len(first["warnings"]) == 2
    assert any("paper.pdf" in w and "PDF" in w for w in first["warnings"])
    again = _run(inbox_study)
    assert (again["not_corpus"], again["new_files"], "warnings" in again) == (2, 0, False)  # not retried
    (inbox / "notes.txt").write_text("Ideas, edited\n", encoding="utf-8")
    _aged(inbox / "notes.txt")
    changed = _run(inbox_study)
    assert [w for w in changed["warnings"] if "notes.txt" in w] and len(changed["warnings"]) == 1


def test_a_file_still_being_written_waits_for_the_next_run(inbox_study):
    inbox = inbox_study.path("data/inbox")
    (inbox / "fresh.jsonl").write_bytes(PAGE.read_bytes())
    first = _run(inbox_study)
    assert (first["settling"], first["ingested"]) == (1, 0) and "waits for the next run" in first["warnings"][0]
    _aged(inbox / "fresh.jsonl", 61)
    assert _run(inbox_study)["ingested"] == 3


def test_the_settle_window_is_configurable(inbox_study, tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text("{}\n")
    _aged(f, 30)
    assert settled([f], 60) == ([], [f]) and settled([f], 10) == ([f], []) and settled([f], 0) == ([f], [])


def test_a_partial_copy_is_superseded_when_the_copy_completes(inbox_study):
    inbox = inbox_study.path("data/inbox")
    whole = MIXED.read_bytes()
    cut = whole.rindex(b"\n", 0, len(whole) - 2) + 40  # the last line cut off mid-JSON
    (inbox / "flat.jsonl").write_bytes(whole[:cut])
    _aged(inbox / "flat.jsonl")
    from flows.ingest.files import ingest

    fresh = connect(":memory:")
    [alone] = ingest(fresh, [MIXED])  # the whole file in a store of its own
    partial = _run(inbox_study)
    assert partial["rejected"] == alone.rejected + 1  # its cut-off last line
    (inbox / "flat.jsonl").write_bytes(whole)
    _aged(inbox / "flat.jsonl")
    grown = _run(inbox_study)
    assert grown["superseded"] == 1 and grown["rejected"] == alone.rejected
    with connect(inbox_study.path(inbox_study.database), read_only=True) as con:
        sources = con.execute("SELECT name, supersedes IS NOT NULL, records_read FROM sources").fetchall()
        assert sources == [("flat.jsonl", True, whole.count(b"\n"))]
        assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == alone.rejected  # none left by the cut
        orphans = con.execute("SELECT count(*) FROM posts WHERE source_sha256 NOT IN "
                              "(SELECT sha256 FROM sources)").fetchone()[0]
        assert orphans == 0
        kept = con.execute("SELECT * EXCLUDE (source_sha256) FROM posts ORDER BY ALL").fetchall()
    assert kept == fresh.execute("SELECT * EXCLUDE (source_sha256) FROM posts ORDER BY ALL").fetchall()
