"""Coding commands: codebook validate/list, clean errors, export of codes, the real model (slow)."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import FIXTURES

from flows.coding.codebook import shipped_dir

PAGE = FIXTURES / "ingest" / "cross" / "page.jsonl"
TINY = FIXTURES / "codebooks" / "tiny.yaml"


def test_codebook_validate_passes_shipped_and_lists_every_problem(cli):
    assert "5 codebook(s) valid" in cli("codebook", "validate", *sorted(shipped_dir().glob("*.yaml"))).output
    result = cli("codebook", "validate", FIXTURES / "codebooks" / "bad_regex.yaml",
                 FIXTURES / "codebooks" / "bad_unknown_key.yaml", ok=False)
    assert result.exit_code == 1
    assert "[codes -> advice -> patterns -> 1]" in result.output
    assert "did you mean 'definition'?" in result.output


def test_codebook_list_includes_a_study_folder_that_overrides(cli, tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY.read_text(encoding="utf-8"), encoding="utf-8")
    listed = json.loads(cli("codebook", "list", "--schemes", tmp_path, "--json").output)
    ids = [row["id"] for row in listed]
    assert ids == sorted(ids) and {"chretien2015", "tiny"} <= set(ids)
    tiny = next(row for row in listed if row["id"] == "tiny")
    assert tiny["codes"] == ["advice", "thanks", "greeting"] and tiny["valid"]


def test_bad_sheet_is_refused_with_every_problem_and_exit_2(cli):
    cli("ingest", PAGE)
    result = cli("import-codes", FIXTURES / "coding" / "bad_everything.csv", "--coder", "ana",
                 "--codebook", TINY, ok=False)
    assert result.exit_code == 2
    assert result.output.count("bad_everything.csv: ") == 5 and "nothing was imported" in result.output


def test_unknown_codebook_names_the_known_ones(cli):
    cli("ingest", PAGE)
    result = cli("code", "--codebook", "nope", "--embedder", "none", ok=False)
    assert result.exit_code == 2 and "no codebook with id 'nope'; known: chretien2015" in result.output


def test_export_codes_long_table(cli, tmp_path):
    cli("ingest", PAGE)
    cli("import-codes", FIXTURES / "coding" / "good_ana.csv", "--coder", "ana", "--codebook", TINY)
    cli("code", "--codebook", TINY, "--embedder", "none")
    cli("export", "codes", "--out", tmp_path / "codes.csv", "--coder", "ana,auto")
    rows = list(csv.reader((tmp_path / "codes.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["post_id", "codebook", "code", "coder", "value", "score", "validation"]
    assert len(rows) == 1 + 2 * 3 * 2
    assert ["1300000000000000001", "tiny", "greeting", "ana", "1", "", "human"] in rows
    assert ["1300000000000000001", "tiny", "greeting", "auto", "0", "0.0", "not validated"] in rows


@pytest.mark.slow
def test_real_model_codes_the_sample_codebook_examples(con):
    """The bundled all-MiniLM-L6-v2: each code's own positive examples score above its negatives."""
    from flows.coding.codebook import assignable_codes, load_codebook
    from flows.coding.semantic import SemanticCoder
    from flows.embed.cache import embed_texts
    from flows.embed.models import load_embedder

    embedder = load_embedder("minilm")
    codebook = load_codebook(shipped_dir() / "chretien2015.yaml")
    codes = assignable_codes(codebook)
    coder = SemanticCoder(codebook, codes, lambda t: embed_texts(con, embedder, list(t)), embedder.model_id)
    wins = 0
    for code in codes:
        pos = coder.scores(embed_texts(con, embedder, code.examples.positive))[code.id]
        neg = coder.scores(embed_texts(con, embedder, code.examples.negative))[code.id]
        wins += pos.mean() > neg.mean()
    assert wins == len(codes)


@pytest.mark.slow
def test_real_model_round_trip_on_posts(cli):
    cli("ingest", FIXTURES / "ingest" / "twarc2" / "mixed.jsonl")
    out = json.loads(cli("code", "--codebook", "chretien2015", "--json").output)
    assert out["coded"] == out["posts"] > 0 and "auto:semantic" in out["coders"]
    assert json.loads(cli("code", "--codebook", "chretien2015", "--json").output)["coded"] == 0


def test_coders_list_rename_remove_through_the_cli(cli):
    cli("ingest", PAGE)
    cli("import-codes", FIXTURES / "coding" / "good_ana.csv", "--coder", "Ana", "--codebook", TINY)
    again = cli("import-codes", FIXTURES / "coding" / "good_ana.csv", "--coder", "Ana", "--codebook", TINY)
    assert again.output.strip().endswith("already imported for Ana (the same 2 posts and codes); nothing changed")
    empty = cli("import-codes", FIXTURES / "coding" / "nothing_coded.csv", "--coder", "dave", "--codebook", TINY)
    assert "warning: " in empty.output and "nothing is coded in this sheet" in empty.output
    cli("coders", "rename", "Ana", "ana")
    listed = json.loads(cli("coders", "list", "--json").output)
    assert [(r["coder"], r["kind"], r["posts"], r["sheets"]) for r in listed] == [
        ("ana", "person", 2, ["good_ana.csv"]), ("dave", "person", 2, ["nothing_coded.csv"])]
    assert "removed 6 codes and 0 memos of dave" in cli("coders", "remove", "dave").output
    assert "no coder 'dave'" in cli("coders", "remove", "dave", ok=False).output


def test_an_edited_codebook_keeps_agreement_and_diff_says_why(cli, tmp_path):
    cli("ingest", PAGE)
    for coder in ("ana", "ben"):
        cli("import-codes", FIXTURES / "coding" / f"good_{coder}.csv", "--coder", coder, "--codebook", TINY)
    edited = tmp_path / "tiny.yaml"
    edited.write_text(TINY.read_text(encoding="utf-8").replace("Greets the audience.", "Says hello to everyone."),
                      encoding="utf-8")
    result = cli("agreement", "--codebook", edited, "--n-boot", 20, "--json")
    report = json.loads(result.output[result.output.index("{"):])
    assert report["coders"] == ["ana", "ben"] and report["codes"]["greeting"]["n"] == 2
    assert "greeting: edited (inclusion); human codes kept" in result.output  # said on stderr
    assert "several versions match 'tiny@1'" in cli("codebook", "diff", "tiny@1", edited, ok=False).output
    diff = cli("codebook", "diff", "8193b4208e05", edited).output  # the labels match: a hash prefix tells them apart
    assert "the version label is still 1" in diff and "greeting: edited (inclusion)" in diff
    assert "version " in cli("codebook", "diff", TINY, FIXTURES / "codebooks" / "evolution" / "renamed" /
                             "tiny.yaml").output
