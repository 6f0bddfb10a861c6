"""The leak scan: a pseudonymised study names nobody in anything it writes.

One study is built from the sample corpus, the project's own fixtures and (where present) the
real third-party corpora of ``../shared/fixtures``; ``ethnoflow run`` (the Prefect pipeline, fake
embeddings and the k-means topic stand-in) runs it once, keeping Prefect's database under the
study (``data/prefect``), with ``ETHNOFLOW_SECRET`` set to a distinctive value; then every other
output is written (network exports, the report and exports again from the CLI, CLI listings).
Every file under the study except its inputs, its store and the id lists (which carry real ids,
and say so) is scanned for every handle, display name, user id and DID the store holds
(:mod:`leakscan`), and every file, the store included, for the secret. The run collects too
(study.yaml `collect:`, from a replay server): a Bluesky account and search, logged in with an app
password, and an X timeline with a bearer token; neither secret, nor the session's tokens, may be
in any file but the session file kept for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, SHARED, settled_copy
from leakscan import scan, store_names
from replay import Replay, World
from replay_x import tweet, user

from flows.store.db import connect

pytestmark = pytest.mark.slow  # `ethnoflow run` on a real Prefect server, in a subprocess

SECRET = "leak-scan-Zq8vXw3-secret-of-the-study"
OWN = [FIXTURES / "privacy" / "mention_forms.jsonl", FIXTURES / "ingest" / "cross" / "page.jsonl",
       FIXTURES / "ingest" / "bluesky" / "thread.json", FIXTURES / "ingest" / "bluesky" / "author_feed.json",
       FIXTURES / "ingest" / "bluesky" / "feed_pages.jsonl", FIXTURES / "ingest" / "v1" / "timeline_mixed_items.json",
       FIXTURES / "ingest" / "twarc2" / "errors_only.jsonl", FIXTURES / "ingest" / "csv" / "topsy_sample.csv",
       FIXTURES / "report" / "hostile.jsonl"]
REAL = ["twarc-csv/test-data/2sets.jsonl", "twarc-csv/test-data/entities_test.jsonl",
        "twarc-csv/test-data/withheld.jsonl", "twarc-csv/test-data/users.jsonl",
        "twarc-csv/test-data/mentions_tweet.jsonl", "twitwi/test/resources/bluesky-posts.json",
        "twitwi/test/resources/tweet-export.csv",
        "twitwi/test/resources/alternative-payload-v2.json",
        "atproto/tests/test_atproto_client/models/test_data/thread_view_post_with_embed_media.json",
        "healthcare_twitter_analysis/files/Tweets_CancerChat_full.csv",
        "healthcare_twitter_analysis/files/Tweets_RareDiseaseDay_full.csv",
        "python-twitter/testdata/get_search_raw.json", "python-twitter/testdata/streaming/lines.json",
        "twitter-to-sqlite/tests/tweets.json"]
NOT_OUTPUTS = (".duckdb", ".duckdb.wal", ".lock", ".ethnoflow_secret", ".ethnoflow_bluesky_session", ".db-wal",
               ".db-shm")
APP_PASSWORD = "leak-scan-app-pass-7Hq2"
BEARER = "AAAAAAAAAAAAAAAAAAAAAleakscan%2Bbearer%3DZk4pQ"
COLLECT = """
collect:
  bluesky:
    accounts: [kofi.medsky.example]
    queries: ["#MedSky"]
  x:
    accounts: [DrLeakScan]
"""


def _collected_world() -> World:
    """What the replay server serves the leak study's collection."""
    world = World(password=APP_PASSWORD, bearer=BEARER)
    did = "did:plc:leakkofi000000000000000"
    world.add(did, "kofi.medsky.example", "3leak0001", "Night float tips for new interns #MedSky",
              "2025-03-02T08:00:00.000Z", tags=("MedSky",))
    world.add(did, "kofi.medsky.example", "3leak0002", "Ask your seniors early, always #MedSky",
              "2025-03-03T08:00:00.000Z", tags=("MedSky",))
    x = world.users["DrLeakScan"] = user("4242424242", "DrLeakScan")
    world.tweets["DrLeakScan"] = [tweet("1600000000000000001", x, "Morning report: a case of fever #MedTwitter",
                                        "2025-03-04T09:00:00.000Z")]
    return world

FORMATS = "[csv, parquet, xlsx, qdpx, qdc, ids]"



def _inbox(folder: Path) -> list[Path]:
    from flows.sample.generate import generate

    inbox = folder / "data" / "inbox"
    files = [Path(generate(folder.parent / "sample", tweets=600)["corpus"]), *OWN]
    files += [SHARED / r for r in REAL if (SHARED / r).is_file()]
    for n, f in enumerate(files):
        settled_copy(f, inbox / f"{n:02d}_{f.name}")
    return files


@pytest.fixture(scope="module")
def leak_study(tmp_path_factory) -> Path:
    from flows.study.scaffold import create_study

    folder = tmp_path_factory.mktemp("leak") / "study"
    path = create_study(folder, title="Leak scan")
    path.write_text(path.read_text().replace("  model: minilm", "  model: fake\n  backend: kmeans")
                    .replace("  embedder: minilm", "  embedder: fake").replace("formats: []", f"formats: {FORMATS}")
                    + COLLECT)
    _inbox(folder)
    env = {**os.environ, "ETHNOFLOW_SECRET": SECRET, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
           "BLUESKY_HANDLE": "collector.example.org", "BLUESKY_APP_PASSWORD": APP_PASSWORD, "X_BEARER_TOKEN": BEARER}
    for name in ("PREFECT_API_URL", "PREFECT_HOME"):  # `ethnoflow run` then keeps Prefect's records in data/prefect
        env.pop(name, None)
    (folder / "logs").mkdir()
    with open(folder / "logs" / "run.log", "wb") as log, Replay(_collected_world()) as base:
        env |= {"ETHNOFLOW_BLUESKY_API": base, "ETHNOFLOW_X_API": base}
        done = subprocess.run([str(Path(sys.executable).with_name("ethnoflow")), "run", "--study", str(path)],
                              cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=600)
    assert done.returncode == 0, (folder / "logs" / "run.log").read_text()[-3000:]
    _more_outputs(folder, path)
    return folder


def _more_outputs(folder: Path, study: Path) -> None:
    """What a researcher writes by hand after a run: networks, and the report and exports again."""
    from typer.testing import CliRunner

    from flows.cli.app import app

    runner, out = CliRunner(), folder / "exports" / "by-hand"
    old = Path.cwd()
    os.environ["ETHNOFLOW_SECRET"] = SECRET
    try:
        os.chdir(folder)
        commands = [["export", "network", "--format", "gexf", "--out", out / "net.gexf", "--model", "none"],
                    ["report", "--out", out / "report"], ["roles", "--json", "--model", "none"],
                    ["superusers", "--model", "none"], ["chats"], ["network", "--json", "--model", "none"],
                    ["topics", "show"], ["topics", "show", "--json"],
                    ["export", "dataset", "--format", "qdpx", "--qdpx-unit", "post", "--out", out / "posts.qdpx"],
                    ["export", "dataset", "--format", "csv", "--remove-urls", "--out", out / "nourls.csv"]]
        for n, args in enumerate(commands):  # what each command printed is an output too
            result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
            assert result.exit_code == 0, (args, result.output)
            (out / f"{n:02d}-{args[0]}.out").write_text(result.output, encoding="utf-8")
        from flows.export.network import export_network

        con = connect(folder / "data" / "ethnoflow.duckdb", read_only=True)
        try:  # the network was built by the command above
            export_network(con, out / "net.graphml", "graphml")
        finally:
            con.close()
    finally:
        os.chdir(old)
        os.environ.pop("ETHNOFLOW_SECRET", None)


def outputs(folder: Path) -> list[Path]:
    """Every file the study wrote, but its inputs, its store and the id lists (real ids by design).
    SQLite's write-ahead log is read through its database (:func:`leakscan.file_texts`)."""
    skip = {folder / "study.yaml"}
    return sorted(p for p in folder.rglob("*") if p.is_file() and p not in skip
                  and "inbox" not in p.parts and "coding_schemes" not in p.parts
                  and "collected" not in p.parts  # pages as collected: inputs, like the inbox
                  and not p.name.endswith(NOT_OUTPUTS)
                  and not (p.name.endswith(".txt") and "-ids." in p.name))


@pytest.fixture(scope="module")
def names(leak_study):
    con = connect(leak_study / "data" / "ethnoflow.duckdb", read_only=True)
    try:
        return store_names(con)
    finally:
        con.close()


def test_the_study_exercises_every_output(leak_study, names):
    written = {p.relative_to(leak_study).as_posix() for p in outputs(leak_study)}
    for expected in ("reports/study/report.html", "reports/study/report.md", "reports/study/run.json",
                     "exports/study.csv", "exports/study.parquet", "exports/study.xlsx", "exports/study.qdpx",
                     "exports/study.qdc", "exports/study-ids.manifest.json", "exports/by-hand/net.gexf",
                     "exports/by-hand/net.graphml", "data/prefect/prefect.db", "logs/run.log"):
        assert expected in written, expected
    assert any(w.startswith("reports/study/tables/") for w in written)
    assert len(names.handles) > (1000 if SHARED.is_dir() else 40) and names.dids and names.ids


def test_a_pseudonymised_study_names_nobody_in_any_output(leak_study, names):
    found = scan(outputs(leak_study), names)
    assert found == {}


def test_the_scan_finds_names_where_they_are(leak_study, names):
    """The scan is not blind: the store's inputs and a report with handles shown are full of hits."""
    inputs = sorted((leak_study / "data" / "inbox").iterdir())
    assert len(scan(inputs, names)) >= len(OWN)
    con = connect(leak_study / "data" / "ethnoflow.duckdb", read_only=True)
    try:
        from flows.report.build import build_report
        from flows.report.settings import ReportSettings

        build_report(con, leak_study.parent / "shown", ReportSettings(pseudonymise=False, n_boot=0))
    finally:
        con.close()
    assert scan([leak_study.parent / "shown" / "report.html"], names)


def test_ordinary_words_kept_in_prose_are_few(names):
    assert len(names.ordinary) <= max(5, len(names.words) // 50), sorted(names.ordinary)


def test_the_study_secret_is_in_no_file_the_study_writes(leak_study):
    everything = [p for p in leak_study.rglob("*") if p.is_file() and "inbox" not in p.parts]
    assert any(p.name.endswith(".duckdb") for p in everything)
    needles = [SECRET.encode(), SECRET.encode().hex().encode(), SECRET.encode("utf-16-le")]
    leaked = [str(p) for p in everything if any(n in p.read_bytes() for n in needles)]
    assert leaked == []


def test_the_ids_export_says_it_carries_real_ids(leak_study):
    manifest = json.loads((leak_study / "exports" / "study-ids.manifest.json").read_text(encoding="utf-8"))
    assert manifest["real_ids"] is True and "real ids" in manifest["privacy"]


def test_the_collectors_secrets_are_in_no_file_the_study_writes(leak_study):
    """The app password, the bearer token and the session's tokens: only in the session file."""
    session = leak_study / "data" / ".ethnoflow_bluesky_session"
    assert session.is_file(), "the run did not log in to search"
    con = connect(leak_study / "data" / "ethnoflow.duckdb", read_only=True)
    try:
        assert con.execute("SELECT status FROM collect_runs").fetchall() == [("completed",)]
        assert con.execute("SELECT count(*) FROM collect_flags").fetchone()[0] >= 0
        collected = con.execute("SELECT count(*) FROM posts WHERE post_id LIKE '%leak%' OR post_id = "
                                "'1600000000000000001'").fetchone()[0]
    finally:
        con.close()
    assert collected == 3
    from atproto_client.client.session import Session

    tokens = Session.decode(session.read_text().strip())
    needles = [APP_PASSWORD, BEARER, tokens.access_jwt, tokens.refresh_jwt]
    needles = [form for n in needles for form in (n.encode(), n.encode("utf-16-le"))]
    everything = [p for p in leak_study.rglob("*") if p.is_file() and p != session]
    assert any(p.name.endswith(".duckdb") for p in everything) and any(p.name == "prefect.db" for p in everything)
    leaked = [str(p) for p in everything if any(n in p.read_bytes() for n in needles)]
    assert leaked == []
