"""The study a researcher really has: every real third-party file in ../shared/fixtures that holds
posts, in one inbox with a PDF, notes, a file still being copied and the licences and schemas
that came with them; the whole pipeline, status, the report and every export run on it.

The plain runner with fake embeddings and the k-means topic stand-in keeps it to seconds of
model work; what it checks is that real data never stops a stage.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import FIXTURES

from flows.run.runner import run_study
from flows.store.db import connect
from flows.store.status import status
from flows.study.model import load_study
from flows.study.scaffold import create_study

FORMATS = "[csv, parquet, xlsx, qdpx, qdc, ids]"


# Slow: it ingests every real corpus (about 10,000 posts from 100 files) and writes the report and
# every export over them: minutes on a shared two-core machine. `pytest -m slow tests/test_real_corpora.py`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_study(tmp_path_factory, request):
    shared = request.getfixturevalue("shared_module")
    folder = tmp_path_factory.mktemp("real") / "study"
    path = create_study(folder, title="Every real corpus")
    path.write_text(path.read_text().replace("  model: minilm", "  model: fake\n  backend: kmeans")
                    .replace("  embedder: minilm", "  embedder: fake").replace("formats: []", f"formats: {FORMATS}")
                    .replace("pseudonymize: true", "pseudonymize: false"))
    inbox = folder / "data" / "inbox"
    shutil.copytree(shared, inbox / "shared")  # folders kept: an archive's account.js stays beside tweets.js
    (inbox / "paper.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" + bytes(64))
    (inbox / "notes.txt").write_text("Interview themes: mentorship, sponsorship, belonging.\n", encoding="utf-8")
    old = time.time() - 3600
    for f in inbox.rglob("*"):
        os.utime(f, (old, old))
    # a copy still being written: half a file, modified just now
    page = (FIXTURES / "ingest" / "cross" / "flat.jsonl").read_bytes()
    (inbox / "copying.jsonl").write_bytes(page[: len(page) // 2])
    study = load_study(path)
    return study, run_study(study, embedder=_fake(), topic_backend="kmeans")


@pytest.fixture(scope="module")
def shared_module():
    from conftest import SHARED

    if not SHARED.is_dir():
        pytest.skip(f"shared third-party fixtures not present at {SHARED} (only in the project workspace)")
    return SHARED


def _fake():
    from flows.embed.models import FakeEmbedder

    return FakeEmbedder()


def test_every_stage_runs_and_says_what_it_skipped(real_study):
    study, result = real_study
    assert result["problems"] == []
    assert [s["stage"] for s in result["stages"]] == ["collect", "ingest", "embed", "topics", "code", "people",
                                                       "report", "export"]
    ingest = result["stages"][1]["counts"]
    assert ingest["settling"] == 1 and ingest["not_corpus"] >= 2  # the copy in progress; the PDF, the notes...
    warnings = ingest["warnings"]
    assert any("paper.pdf" in w for w in warnings) and any("notes.txt" in w for w in warnings)
    assert any("copying.jsonl" in w and "next run" in w for w in warnings)


def test_every_file_that_holds_posts_is_accounted_for(real_study):
    study, _ = real_study
    with connect(study.path(study.database), read_only=True) as con:
        sources = con.execute("SELECT name, records_read, ingested, duplicates, rejected FROM sources").fetchall()
        assert len(sources) >= 80
        assert all(read == new + dup + rej for _, read, new, dup, rej in sources)
        skipped = [r[0] for r in con.execute("SELECT name FROM skipped_files").fetchall()]
        assert {"paper.pdf", "notes.txt", "README.md", "LICENSE"} <= set(skipped)  # LICENSE: many folders
        facts = status(con)
    assert facts["posts"] > 9_000 and facts["undated"] >= 1 and facts["date_issues"]["before_platform"] >= 1
    assert facts["skipped_files"] == len(skipped)


def test_report_and_every_export_are_written(real_study):
    study, result = real_study
    report = study.path("reports") / study.name / "report.html"
    assert report.exists() and "<table" in report.read_text(encoding="utf-8")
    files = result["stages"][-1]["counts"]["files"]
    assert sorted(files) == ["csv", "ids", "parquet", "qdc", "qdpx", "xlsx"]
    assert all(os.path.exists(f) for written in files.values() for f in written)
    manifest = next(p for p in files["ids"] if p.endswith(".json"))
    assert json.loads(Path(manifest).read_text(encoding="utf-8"))
    with connect(study.path(study.database), read_only=True) as con:
        selected = con.execute("SELECT count(*) FILTER (WHERE selected) FROM superuser_candidates").fetchone()[0]
    assert selected == 0  # real hashtag corpora: nobody meets the superuser criteria
    # so the report lists who posts most, and why each has its role
    with open(report.with_name("tables") / "accounts_most_active.csv", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert "role_evidence" in header, header
