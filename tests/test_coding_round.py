"""The whole coding loop on the sample study, through the CLI: sample -> two coders' sheets ->
import -> agreement -> reconcile -> consensus -> supervised training -> machine vs consensus."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from flows.coding.codebook import shipped_dir
from flows.coding.sheets import read_sheet, write_sheet
from flows.sample.generate import generate

CONTEXT = {"post_id", "author", "date", "text", "in_reply_to", "memo", "disagreements"}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A small sample study (about 1,500 posts): corpus file and per-post ground truth."""
    manifest = generate(tmp_path_factory.mktemp("study"), tweets=1500)
    truth = json.loads(Path(manifest["truth"]).read_text(encoding="utf-8"))["codes"]
    return manifest["corpus"], truth


def _fill(sheet, out, truth, codebook, seed, noise=0.05):
    """A simulated coder: the ground truth with each cell flipped with probability ``noise``."""
    header, rows = read_sheet(sheet)
    rng = random.Random(seed)
    for row in rows:
        true = set(truth[row[0]][codebook])
        for i, name in enumerate(header):
            if name not in CONTEXT:
                row[i] = "x" if (name in true) != (rng.random() < noise) else ""
    write_sheet(out, header, rows)


def _resolve(sheet, truth, codebook):
    """The reconciliation meeting: every disputed cell settled by the ground truth."""
    header, rows = read_sheet(sheet)
    for row in rows:
        for i, name in enumerate(header):
            if name not in CONTEXT and ":" in row[i]:
                row[i] = "1" if name in truth[row[0]][codebook] else "0"
    write_sheet(sheet, header, rows)


def test_whole_coding_round_on_the_sample_study(cli, study, tmp_path):
    corpus, truth = study
    cli("ingest", corpus)
    cli("sample", "--codebook", "chretien2015", "--n", 120, "--stratify", "author,month",
        "--seed", 7, "--coders", "ana,ben", "--out", tmp_path / "round1.xlsx")
    for coder, seed in (("ana", 1), ("ben", 2)):
        _fill(tmp_path / "round1.xlsx", tmp_path / f"{coder}.xlsx", truth, "chretien2015", seed)
        assert "imported 120 posts (840 codes)" in cli(
            "import-codes", tmp_path / f"{coder}.xlsx", "--coder", coder, "--codebook", "chretien2015").output

    report = json.loads(cli("agreement", "--codebook", "chretien2015", "--n-boot", 100, "--json").output)
    assert report["coders"] == ["ana", "ben"] and set(report["codes"]) == {
        "information", "collaboration", "perspectives", "community", "advocacy",
        "digital_footprint", "equalization"}
    info = report["codes"]["information"]
    assert info["n"] == 120 and 0.5 < info["cohen_kappa"] <= 1 and 0.8 < info["percent_agreement"] < 1
    assert set(info["ci95"]) == {"percent_agreement", "cohen_kappa", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha"}
    assert report["overall"]["n"] == 840 and report["machine"] == {"against": None, "coders": {}}

    out = cli("reconcile", "--coders", "ana,ben", "--out", tmp_path / "disputes.csv").output
    assert "with disagreements" in out
    _resolve(tmp_path / "disputes.csv", truth, "chretien2015")
    cli("import-codes", tmp_path / "disputes.csv", "--coder", "consensus", "--codebook", "chretien2015")

    coded = json.loads(cli("code", "--codebook", "chretien2015", "--embedder", "fake",
                           "--train-from", "consensus", "--json").output)
    assert coded["trained_on"] == ["consensus"] and "auto:supervised" in coded["coders"]
    trained = {c: m for c, m in coded["models"].items() if m}
    assert "community" in trained and trained["community"]["grouped_by"] == "author"

    report = json.loads(cli("agreement", "--codebook", "chretien2015", "--coders", "ana,ben",
                            "--n-boot", 100, "--json").output)
    machine = report["machine"]
    assert machine["against"] == "consensus"
    assert set(machine["coders"]) == {"auto", "auto:rules", "auto:semantic", "auto:supervised"}
    auto = machine["coders"]["auto"]
    assert auto["in_sample"] is True and auto["trained_on"] == ["consensus"]
    assert set(auto["codes"]["community"]) >= {"kappa", "precision", "recall", "f1"}
    assert auto["codes"]["community"]["n"] == 120
    assert machine["coders"]["auto:rules"]["in_sample"] is False
    assert "community" in machine["coders"]["auto:supervised"]["cross_validated"]

    again = json.loads(cli("code", "--codebook", "chretien2015", "--embedder", "fake", "--json").output)
    assert again["coded"] == 0 and again["trained_on"] == ["consensus"]  # consensus by default

    # the researcher rewords one definition: agreement and training carry on under the new version
    edited = tmp_path / "schemes" / "chretien2015.yaml"
    edited.parent.mkdir()
    edited.write_text((shipped_dir() / "chretien2015.yaml").read_text(encoding="utf-8").replace(
        "clinical pearls, tweetorials,", "clinical pearls and tweetorials,"), encoding="utf-8")
    reworded = cli("agreement", "--codebook", edited, "--coders", "ana,ben", "--n-boot", 100, "--json").output
    assert "information: edited (definition); human codes kept" in reworded
    after = json.loads(reworded[reworded.index("{"):])
    assert after["codes"] == report["codes"] and after["version"] != report["version"]
    assert {m["how"] for m in after["made_under"]["ana"]} == {"kept", "reworded"}
    retrained = json.loads(cli("code", "--codebook", edited, "--embedder", "fake", "--json").output)
    assert retrained["trained_on"] == ["consensus"] and "auto:supervised" in retrained["coders"]
    assert retrained["coded"] > 0  # a definition changed: the machine coders re-code and retrain

    cli("export", "codes", "--out", tmp_path / "codes.csv")
    rows = list(csv.DictReader((tmp_path / "codes.csv").read_text(encoding="utf-8").splitlines()))
    assert list(rows[0]) == ["post_id", "codebook", "code", "coder", "value", "score", "validation"]
    people = [r for r in rows if r["coder"] in {"ana", "ben", "consensus"}]
    assert len(people) == 3 * 840 and all(r["score"] == "" for r in people)
    assert {r["coder"] for r in rows} >= {"auto", "auto:rules", "consensus"}


def test_agreement_summaries_are_cached_by_content(tmp_path):
    import numpy as np

    from flows.coding.agreement import cached_summary
    from flows.store.db import connect

    con = connect(tmp_path / "a.duckdb")
    ratings = np.array([[1, 0, 1, 1, 0, 1, 0, 0], [1, 0, 0, 1, 0, 1, 1, 0]], dtype=float)
    first = cached_summary(con, ratings, n_boot=200, seed=3)
    assert con.execute("SELECT count(*) FROM agreement_cache").fetchone() == (1,)
    assert cached_summary(con, ratings, n_boot=200, seed=3) == first
    other = ratings.copy()
    other[1, 0] = 0
    assert cached_summary(con, other, n_boot=200, seed=3) != first
    assert con.execute("SELECT count(*) FROM agreement_cache").fetchone() == (2,)
