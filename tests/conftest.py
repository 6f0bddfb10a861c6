"""Shared test fixtures: a temporary store, the shared third-party fixtures, a CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Two test workers on two cores: one BLAS/OpenMP thread each. More threads than cores make the many
# small fits (logistic regressions, bootstrap) wait on each other: 8x slower under load here.
# DuckDB too: scheduling its threads costs the tests' small queries more than it gains (-10 % on the
# ingest-heavy modules). Tests that check outputs do not depend on DuckDB's parallelism take
# `duckdb_default_threads`.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "ETHNOFLOW_DUCKDB_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a busy machine starts it slowly

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared" / "fixtures"
DEVSET = ROOT.parent / "shared" / "devset"


def split_sample(root: Path, tweets: int, parts: int = 3) -> list[Path]:
    """A sample corpus of ``tweets`` posts under ``root``, dealt round-robin into ``parts`` twarc2 files."""
    from flows.sample.generate import generate

    lines = Path(generate(root, tweets=tweets)["corpus"]).read_text(encoding="utf-8").splitlines(keepends=True)
    files = []
    for i in range(parts):
        part = root / f"part{i}.jsonl"
        part.write_text("".join(lines[i::parts]), encoding="utf-8")
        files.append(part)
    return files


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a slow test first, then the rest by number of tests, each module's tests
    together and in their order: `make test` deals modules to two workers (``--dist loadscope
    --no-loadscope-reorder``), and a long module dealt last would leave one worker idle."""
    modules: dict[Path, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.path, []).append(item)

    def key(tests: list[pytest.Item]) -> tuple[bool, int]:
        return not any(t.get_closest_marker("slow") for t in tests), -len(tests)

    items[:] = [item for tests in sorted(modules.values(), key=key) for item in tests]


@pytest.fixture
def duckdb_default_threads(monkeypatch) -> None:
    """Stores opened in this test use DuckDB's default threads (one per core), not the suite's one:
    for the tests that check outputs do not depend on how DuckDB parallelises."""
    monkeypatch.delenv("ETHNOFLOW_DUCKDB_THREADS", raising=False)


@pytest.fixture
def shared() -> Path:
    """`../shared/fixtures` (real third-party inputs); tests using it skip in a user's own clone."""
    if not SHARED.is_dir():
        pytest.skip(f"shared third-party fixtures not present at {SHARED} (only in the project workspace)")
    return SHARED


@pytest.fixture(scope="session")
def devset() -> Path:
    """`../shared/devset` (300 hand-coded posts); tests using it skip in a user's own clone."""
    if not (DEVSET / "dev_tweets.jsonl").is_file():
        pytest.skip(f"the hand-coded dev set is not present at {DEVSET} (only in the project workspace)")
    return DEVSET


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory) -> Path:
    """An empty store, migrated once per test worker; ``con`` copies it (migrating takes ~40 ms)."""
    from flows.store.db import connect

    path = tmp_path_factory.mktemp("template") / "migrated.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def con(tmp_path, migrated_store):
    """A fresh, migrated store in a temporary DuckDB file."""
    from flows.store.db import connect

    shutil.copyfile(migrated_store, tmp_path / "test.duckdb")
    connection = connect(tmp_path / "test.duckdb")
    yield connection
    connection.close()


@pytest.fixture
def ingest_files(con):
    """ingest_files(*paths, **kw) -> {file name: FileReport} into the temporary store."""
    from flows.ingest.files import ingest

    def run(*paths, **kwargs):
        return {Path(r.path).name: r for r in ingest(con, list(paths), **kwargs)}

    return run


@pytest.fixture
def cli(tmp_path, monkeypatch, migrated_store):
    """Run the CLI in-process against a temporary, empty, migrated database: cli("status", "--json")."""
    from typer.testing import CliRunner

    from flows.cli.app import app

    shutil.copyfile(migrated_store, tmp_path / "cli.duckdb")
    monkeypatch.setenv("ETHNOFLOW_DB", str(tmp_path / "cli.duckdb"))
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def counts(report) -> tuple[int, int, int, int]:
    """(read, ingested, duplicates, rejected) of a FileReport."""
    return report.read, report.ingested, report.duplicates, report.rejected


def assert_entities_select_their_text(con) -> None:
    """Every entity with a position spans exactly its text in posts.text: '#tag', '@name',
    '$TAG' (case-insensitive; full-width sigils too) or the URL as written."""
    bad = con.execute("""
        SELECT e.post_id, e.kind, e.value, substr(p.text, e.start_pos + 1, e.end_pos - e.start_pos) AS span
        FROM entities e JOIN posts p USING (platform, post_id)
        WHERE e.start_pos IS NOT NULL AND span IS DISTINCT FROM e.value
          AND (e.kind = 'url' OR lower(substr(span, 2)) <> lower(e.value)
               OR substr(span, 1, 1) NOT IN ('#', '＃', '@', '＠', '$'))
    """).fetchall()
    assert bad == []


def snapshot(con) -> dict:
    """Every user-facing ingest table's rows, sorted: equal snapshots mean equal tables."""
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("sources", "raw_records", "posts", "authors", "entities", "rejects")}


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole session (it takes 12-25 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):  # a busy 2-core machine starts it slowly
        yield


@pytest.fixture
def fast_models():
    """Fake embeddings and the k-means topic stand-in: the same stages, in seconds
    (tests/pipelines.py's counting fake, its counts cleared)."""
    from pipelines import CountingEmbedder

    CountingEmbedder.encoded = []
    return CountingEmbedder


@pytest.fixture(scope="session")
def sample_corpus(tmp_path_factory) -> Path:
    """A 600-tweet sample corpus, generated once for the session."""
    from flows.sample.generate import generate

    return generate(tmp_path_factory.mktemp("sample"), tweets=600)["corpus"]


def settled_copy(source: Path, target: Path) -> Path:
    """Copy a file into an inbox as a finished copy: modified an hour ago, so no run waits for it
    (a file modified within the study's ``settle_seconds`` may still be being written)."""
    import os
    import shutil
    import time

    shutil.copy(source, target)
    old = time.time() - 3600
    os.utime(target, (old, old))
    return target


@pytest.fixture
def study(tmp_path, sample_corpus):
    """A study made by `init`, with the 600-tweet sample corpus in its inbox."""
    from flows.study.scaffold import create_study

    path = create_study(tmp_path / "study", title="Pipeline test")
    settled_copy(sample_corpus, tmp_path / "study" / "data" / "inbox" / "sample.jsonl")
    return path
