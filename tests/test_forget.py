"""Withdrawal: nothing of the account is left anywhere, everyone else is kept, it stays out."""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from test_export import study  # noqa: F401 (fixture)

from flows.ingest.files import ingest
from flows.ingest.reparse import reparse
from flows.privacy.forget import audit, find_accounts, forget, honour_blocklist
from flows.store.db import connect, transaction

SECRET = b"forget-test-secret"
HANDLE, ACCOUNT_ID = "DrMaybeMaya", "339428177"


@pytest.fixture
def store(study, tmp_path):  # noqa: F811
    db = tmp_path / "study.duckdb"
    shutil.copy(study, db)
    con = connect(db)
    yield con
    con.close()


def tables(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = "
                                      "current_database() AND NOT temporary ORDER BY 1").fetchall()]


def residue(con, handle: str = HANDLE, account_id: str = ACCOUNT_ID) -> list[tuple[str, str, int]]:
    """Every (table, column, rows) whose text still holds the handle or the id, in any table."""
    found = []
    for table, column, dtype in con.execute("""
            SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() AS c
            JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name)
            WHERE c.database_name = current_database() AND NOT t.temporary
              AND c.data_type IN ('VARCHAR', 'VARCHAR[]', 'JSON')""").fetchall():
        expr = f'"{column}"' if dtype != "VARCHAR[]" else f"""array_to_string("{column}", ' ')"""
        n = con.execute(f'SELECT count(*) FROM "{table}" WHERE regexp_matches({expr}, ?)',
                        [rf"(?i){re.escape(handle)}|(^|[^0-9]){account_id}([^0-9]|$)"]).fetchone()[0]
        if n:
            found.append((table, column, n))
    return found


def snapshot(con) -> dict:
    return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables(con)}


def test_the_account_is_everywhere_before(store):
    assert {t for t, _, _ in residue(store)} >= {"posts", "authors", "entities", "raw_records", "author_roles",
                                                 "interactions", "network_edges", "chat_participation"}


def test_nothing_of_the_account_remains_anywhere_after(store):
    before = store.execute("SELECT count(*) FROM posts WHERE author_id <> ?", [ACCOUNT_ID]).fetchone()[0]
    report = forget(store, "@" + HANDLE, reason=f"{HANDLE} ({ACCOUNT_ID}) withdrew by email", secret=SECRET)
    assert residue(store) == []
    kept = store.execute("SELECT count(*) FROM posts").fetchone()[0]
    reposts_of_theirs = report.posts - 33
    assert kept == before - reposts_of_theirs and report.posts == 600 - kept
    counts = report.counts
    for table in ("posts", "authors", "entities", "code_assignments", "topic_assignments", "author_roles",
                  "interactions", "network_edges", "network_centrality", "chat_participation", "embeddings"):
        assert counts[table]["deleted"] > 0, table
    assert counts["raw_records"]["redacted"] == 6  # every page held their posts among others'
    assert store.execute("SELECT count(*) FROM raw_records").fetchone()[0] == 6


def test_other_people_keep_their_posts_with_the_account_masked(store):
    mentions = dict(store.execute("SELECT post_id, text FROM posts WHERE author_id <> ? AND text ILIKE ?",
                                  [ACCOUNT_ID, f"%@{HANDLE}%"]).fetchall())
    assert mentions
    forget(store, HANDLE, secret=SECRET)
    after = dict(store.execute("SELECT post_id, text FROM posts WHERE post_id IN (SELECT unnest(?))",
                               [list(mentions)]).fetchall())
    kept = [p for p in mentions if p in after]
    assert kept and all(len(after[p]) == len(mentions[p]) and "@" + "•" * len(HANDLE) in after[p] for p in kept)
    bad = store.execute("""SELECT count(*) FROM entities e JOIN posts p USING (platform, post_id)
                           WHERE e.start_pos IS NOT NULL AND e.kind = 'hashtag'
                             AND lower(substr(p.text, e.start_pos + 2, e.end_pos - e.start_pos - 1))
                                 <> lower(e.value)""")
    assert bad.fetchone()[0] == 0  # same-length masks: entity offsets into others' texts still hold


def test_id_and_handle_find_the_same_account(store):
    assert find_accounts(store, ACCOUNT_ID) == find_accounts(store, "@drmaybemaya") == find_accounts(store, HANDLE)
    assert find_accounts(store, ACCOUNT_ID)[0].handles == ("drmaybemaya",)


def test_dry_run_changes_nothing_and_counts_the_same(store):
    before = snapshot(store)
    dry = forget(store, HANDLE, dry_run=True, secret=SECRET)
    assert snapshot(store) == before and dry.dry_run
    real = forget(store, HANDLE, secret=SECRET)
    assert dry.counts == real.counts and dry.posts == real.posts and dry.account_hash == real.account_hash


def test_audit_and_blocklist_hold_keyed_hashes_and_counts_only(store):
    report = forget(store, HANDLE, reason=f"{HANDLE} asked, see ticket 12", secret=SECRET)
    (entry,) = audit(store)
    assert entry["account_hash"] == report.account_hash and len(report.account_hash) == 64
    assert entry["trigger"] == "forget" and HANDLE.lower() not in entry["reason"].lower()
    assert entry["reason"].endswith("asked, see ticket 12") and entry["counts"] == report.counts
    keys = store.execute("SELECT kind, key_hash FROM withdrawal_blocklist ORDER BY kind").fetchall()
    assert [k for k, _ in keys] == ["account", "handle"] and all(len(h) == 64 for _, h in keys)
    assert forget(store, HANDLE, secret=b"another secret").account_hash != report.account_hash


def test_a_table_added_later_is_swept_too(store):
    store.execute("CREATE TABLE later_notes (platform VARCHAR, author_id VARCHAR NOT NULL, note VARCHAR)")
    store.execute("CREATE TABLE later_pairs (mentor_handle VARCHAR NOT NULL, post_id VARCHAR, score DOUBLE)")
    own_post = store.execute("SELECT post_id FROM posts WHERE author_id = ? LIMIT 1", [ACCOUNT_ID]).fetchone()[0]
    store.execute("INSERT INTO later_notes VALUES ('twitter', ?, 'theirs'), ('twitter', '1', ?), "
                  "('twitter', '2', 'kept')",
                  [ACCOUNT_ID, f"talked to @{HANDLE} today"])
    store.execute("INSERT INTO later_pairs VALUES (?, NULL, 1), ('someone', ?, 2), ('someone', '5', 3)",
                  [HANDLE, own_post])
    store.execute("CREATE TABLE later_json (author_id VARCHAR NOT NULL, details JSON)")
    store.execute("INSERT INTO later_json VALUES ('1', ?)", [json.dumps(
        {"cc": {"id_str": ACCOUNT_ID, "screen_name": HANDLE}, "n": int(ACCOUNT_ID), "note": "kept"})])
    counts = forget(store, HANDLE, secret=SECRET).counts
    assert store.execute("SELECT author_id, note FROM later_notes ORDER BY 1").fetchall() == [
        ("1", "talked to @" + "•" * len(HANDLE) + " today"), ("2", "kept")]
    assert store.execute("SELECT * FROM later_pairs ORDER BY 3").fetchall() == [("someone", None, 2.0),
                                                                                  ("someone", "5", 3.0)]
    assert counts["later_notes"] == {"deleted": 1, "masked": 1} and counts["later_pairs"]["deleted"] == 1
    assert json.loads(store.execute("SELECT details FROM later_json").fetchone()[0]) == {
        "cc": None, "n": None, "note": "kept"}
    assert residue(store) == []


def test_reparsing_afterwards_cannot_bring_the_account_back(store, monkeypatch):
    monkeypatch.setenv("ETHNOFLOW_SECRET", SECRET.decode())  # the store's own secret, as a reparse reads it
    forget(store, HANDLE, secret=SECRET)
    before = store.execute("SELECT count(*), count(in_reply_to_author_id) FROM posts").fetchone()
    reparse(store)
    assert residue(store) == []
    assert store.execute("SELECT count(*), count(in_reply_to_author_id) FROM posts").fetchone() == before


def _recollected(study_dir: Path, tmp_path: Path) -> Path:
    """The sample corpus fetched again later: the same pages, a new retrieval time (a new file)."""
    corpus = next(study_dir.glob("**/medtwitter_sample.jsonl"))
    out = tmp_path / "recollected.jsonl"
    pages = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    for page in pages:
        page["__twarc"]["retrieved_at"] = "2015-06-01T00:00:00+00:00"
    out.write_text("".join(json.dumps(p) + "\n" for p in pages), encoding="utf-8")
    return out


def test_a_later_ingest_is_cleaned_by_the_blocklist(store, study, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ETHNOFLOW_SECRET", SECRET.decode())  # the store's own secret, as an ingest reads it
    forget(store, HANDLE, secret=SECRET)
    ingest(store, [_recollected(study.parent, tmp_path)])  # its hook calls honour_blocklist
    assert residue(store) == [] and [a["trigger"] for a in audit(store)] == ["forget", "ingest"]
    assert json.loads(store.execute("SELECT counts FROM withdrawal_audit WHERE trigger = 'ingest'").fetchone()[0])
    with transaction(store):
        assert honour_blocklist(store, secret=SECRET) == []


def test_an_account_not_yet_in_the_store_is_blocklisted(con):
    report = forget(con, "@someone_new", reason="asked before collection", secret=SECRET)
    assert report.posts == 0 and report.counts == {}
    assert con.execute("SELECT count(*) FROM withdrawal_blocklist WHERE kind = 'handle'").fetchone()[0] == 2


def test_an_empty_blocklist_costs_nothing(con):
    assert honour_blocklist(con, secret=None) == []  # the secret is not even read


def test_ingest_itself_honours_the_blocklist(store, study, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ETHNOFLOW_SECRET", SECRET.decode())
    forget(store, HANDLE)
    ingest(store, [_recollected(study.parent, tmp_path)])
    assert residue(store) == []


def test_cli_forget_dry_run_then_real(cli, tmp_path, monkeypatch):
    from conftest import FIXTURES

    monkeypatch.setenv("ETHNOFLOW_SECRET", "cli-secret")
    cli("ingest", FIXTURES / "ingest" / "cross" / "page.jsonl")
    dry = cli("forget", "@ms3_avery", "--dry-run")
    assert "would remove 2 posts of 1 account(s)" in dry.output and "nothing changed" in dry.output
    done = json.loads(cli("forget", "ms3_avery", "--reason", "withdrew", "--json").output)
    assert done["posts"] == 2 and done["counts"]["posts"]["deleted"] == 2 and not done["dry_run"]


def test_a_handle_that_is_an_ordinary_word_is_masked_only_where_it_names_the_account():
    from flows.privacy.redact import Target

    target = Target({"42"}, {"doctor"})
    assert target.mask("Doctor said @doctor is in; see x.com/doctor or from%3Adoctor") == \
        "Doctor said @•••••• is in; see x.com/•••••• or from%3A••••••"
    assert target.mask("doctor") == "••••••" and target.mask("doctors and doctor_who") == "doctors and doctor_who"
    assert Target({"42"}, {"DrMaybeMaya"}).mask("thanks drmaybemaya!") == "thanks •••••••••••!"


def test_raw_payloads_lose_the_accounts_objects_and_keep_everyone_elses():
    from flows.privacy.redact import Target, redact_payload

    target = Target({"42"}, {"ann_md"}, {"900001"})
    v1 = {"id_str": "900002", "text": "RT @ann_md: hi", "user": {"id_str": "7", "screen_name": "bob"},
          "retweeted_status": {"id_str": "900001", "user": {"id_str": "42", "screen_name": "ann_md"}}}
    assert redact_payload(json.dumps([v1, {"id_str": "900003", "user": {"id_str": "7"}, "text": "mine",
                                           "in_reply_to_status_id_str": "900001"}]), target) == json.dumps(
        [{"id_str": "900003", "user": {"id_str": "7"}, "text": "mine", "in_reply_to_status_id_str": None}],
        separators=(",", ":"))
    archive = 'window.YTD.tweets.part0 = [{"tweet": {"id_str": "900001", "full_text": "mine"}}]'
    assert redact_payload(archive, target) is None  # nothing of anyone left: the record goes
    row = {"id": "900005", "user_id": "7", "user_screen_name": "bob", "text": "cc @ann_md", "to_userid": "42"}
    assert json.loads(redact_payload(json.dumps(row), target)) == dict(row, text="cc @••••••", to_userid=None)
    assert redact_payload(json.dumps({"id": "900001", "user_screen_name": "ann_md"}), target) is None


# -- what a withdrawal reaches beyond the store's own rows --------------------------------------------

def _theirs(con) -> tuple[list[str], str]:
    posts = [r[0] for r in con.execute("SELECT post_id FROM posts WHERE author_id = ? ORDER BY post_id",
                                       [ACCOUNT_ID]).fetchall()]
    text = con.execute("SELECT text FROM posts WHERE post_id = ?", [posts[0]]).fetchone()[0]
    return posts, text


def test_manual_retweets_and_verbatim_quotes_of_the_account_go_too(store):
    posts, text = _theirs(store)
    long = store.execute("SELECT text FROM posts WHERE author_id = ? AND length(text) > 60 ORDER BY post_id LIMIT 1",
                         [ACCOUNT_ID]).fetchone()[0]
    other = store.execute("SELECT author_id, author_handle FROM posts WHERE author_id <> ? LIMIT 1",
                          [ACCOUNT_ID]).fetchone()
    rows = [("9900000000000000001", f"RT @{HANDLE}: {long[:90]}"),         # a manual retweet, as CSVs keep them
            ("9900000000000000002", f"RT @{HANDLE.lower()} this, everyone"),  # any case
            ("9900000000000000003", long.upper() + " https://t.co/x"),      # their words, as someone else's post
            ("9900000000000000004", f"RT @{HANDLE}x: not them")]            # another account: kept
    for post_id, body in rows:
        store.execute("INSERT INTO posts SELECT * REPLACE (? AS post_id, ? AS author_id, ? AS author_handle, "
                      "? AS text, 'original' AS kind, NULL AS reposted_post_id) FROM posts WHERE post_id = ?",
                      [post_id, other[0], other[1], body, posts[0]])
    forget(store, HANDLE, secret=SECRET)
    left = {r[0] for r in store.execute("SELECT post_id FROM posts WHERE post_id LIKE '99000000000000000%'").fetchall()}
    assert left == {"9900000000000000004"}


def test_memos_on_the_accounts_posts_go_and_others_stay(store):
    posts, _ = _theirs(store)
    kept = store.execute("SELECT post_id FROM posts WHERE author_id <> ? AND kind <> 'repost' LIMIT 1",
                         [ACCOUNT_ID]).fetchone()[0]
    for post_id in (posts[0], kept):
        store.execute("INSERT INTO memos VALUES (?, 'ana', 'cb', 'h', 'twitter', ?, NULL, 'memo', 'memo', ?, "
                      "'b', TIMESTAMP '2020-01-01')", [f"m{post_id}", post_id, f"ana's memo on {post_id}"])
    forget(store, HANDLE, secret=SECRET)
    assert store.execute("SELECT post_id FROM memos").fetchall() == [(kept,)]


def test_reports_and_exports_written_afterwards_hold_nothing_of_the_account(store, tmp_path):
    from flows.export.dataset import export_dataset
    from flows.export.network import export_network
    from flows.export.selection import ExportOptions
    from flows.report.build import build_report
    from flows.report.settings import ReportSettings

    posts, text = _theirs(store)
    forget(store, HANDLE, secret=SECRET)
    out = tmp_path / "after"
    build_report(store, out / "report", ReportSettings(pseudonymise=False, n_boot=0), study={"data_dir": str(out)})
    for fmt in ("csv", "qdpx", "ids"):
        export_dataset(store, out / f"after.{fmt}", ExportOptions(fmt=fmt), secret=SECRET)
    export_network(store, out / "after.gexf", pseudonymize=False)
    pattern = re.compile(rf"(?i){re.escape(HANDLE)}|(?<![0-9]){ACCOUNT_ID}(?![0-9])|"
                         + "|".join(rf"(?<![0-9]){p}(?![0-9])" for p in posts[:50]))
    for path in out.rglob("*.*"):
        data = path.read_bytes()
        texts = [data.decode("utf-8", "replace")]
        if data[:2] == b"PK":
            with zipfile.ZipFile(path) as archive:
                texts = [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
        assert not any(pattern.search(t) for t in texts), path.name
        assert not any(text[:60] in t for t in texts), path.name


def test_forget_lists_the_outputs_written_before_it(store, tmp_path):
    from flows.export.dataset import export_dataset
    from flows.export.selection import ExportOptions

    before = tmp_path / "before.csv"
    export_dataset(store, before, ExportOptions(fmt="csv"), secret=SECRET)
    gone = tmp_path / "deleted.csv"
    export_dataset(store, gone, ExportOptions(fmt="csv"), secret=SECRET)
    gone.unlink()
    listed = {Path(e["path"]).name: e for e in forget(store, HANDLE, secret=SECRET).earlier_outputs}
    assert "before.csv" in listed and "before.dictionary.md" in listed and "deleted.csv" not in listed
    assert listed["before.csv"]["kind"] == "export dataset csv" and listed["before.csv"]["pseudonymized"] is False


def test_cli_forget_names_the_earlier_outputs_and_reveal_maps_pseudonyms_back(cli, tmp_path, monkeypatch):
    from conftest import FIXTURES

    monkeypatch.setenv("ETHNOFLOW_SECRET", "cli-secret")
    cli("ingest", FIXTURES / "ingest" / "cross" / "page.jsonl")
    cli("export", "dataset", "--format", "csv", "--pseudonymize", "--out", tmp_path / "p.csv")
    with open(tmp_path / "p.csv", encoding="utf-8") as handle:
        hidden = next(csv.DictReader(handle))["post_id"]
    shown = cli("reveal", hidden).output
    assert hidden in shown and "twitter/1300000000000000001" in shown
    db = tmp_path / "cli.duckdb"
    assert b"ms3_avery" in db.read_bytes()
    out = cli("forget", "@ms3_avery").output
    assert "written before this withdrawal" in out and str(tmp_path / "p.csv") in out
    data = db.read_bytes()  # rewritten: no freed block still holds the deleted rows
    assert b"ms3_avery" not in data.lower() and b"Keep asking for feedback" in data
    assert cli("reveal", hidden, ok=False).exit_code == 1  # the post went with its author
