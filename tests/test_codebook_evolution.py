"""A codebook that changes mid-study, one fixture version per kind of change (tests/fixtures/
codebooks/evolution/<change>/tiny.yaml, each a later version of tiny.yaml): people's codes survive
a rewording and a rename, follow a stated split or merge, and an added code says it is not yet
coded; machine coders re-code only when the codes changed."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from flows.coding.agreement import agreement, format_report
from flows.coding.codebook import load_codebook
from flows.coding.evolution import describe, diff, made_under
from flows.coding.importing import import_codes
from flows.coding.machine import code_corpus
from flows.coding.store import use_codebook
from flows.embed.models import FakeEmbedder

SHEETS = FIXTURES / "coding"
TINY = FIXTURES / "codebooks" / "tiny.yaml"
EVOLUTION = FIXTURES / "codebooks" / "evolution"
P1, P2 = "1300000000000000001", "1300000000000000002"


def version(change: str):
    return load_codebook(EVOLUTION / change / "tiny.yaml")


@pytest.fixture
def store(con, ingest_files):
    """ana and ben coded both posts under version 1 of tiny."""
    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl")
    for coder in ("ana", "ben"):
        import_codes(con, SHEETS / f"good_{coder}.csv", coder, load_codebook(TINY))
    return con


def _codes(con, code):
    return con.execute("SELECT coder, post_id, value FROM code_values WHERE code = ? ORDER BY ALL", [code]).fetchall()


def test_a_reworded_definition_keeps_every_human_code_and_agreement(store):
    before = agreement(store, load_codebook(TINY), n_boot=20)
    new = version("reworded")
    change = use_codebook(store, new)
    assert change["codes"]["greeting"] == {"change": "reworded", "from": ["greeting"], "fields": ["definition"],
                                           "missing": []}
    assert change["carried"] == {"kept": 8, "reworded": 4} and change["not_yet_coded"] == {}
    after = agreement(store, new, n_boot=20)
    assert after["coders"] == ["ana", "ben"] and after["codes"] == before["codes"]
    assert after["made_under"]["ana"] == [{"hash": before["version"], "version": "1", "how": "kept", "codes": 4},
                                          {"hash": before["version"], "version": "1", "how": "reworded", "codes": 2}]
    assert "ana: 6 codes made under version 1" in format_report(after)


def test_a_rename_carries_the_codes_to_the_new_id(store):
    old = _codes(store, "thanks")
    change = use_codebook(store, version("renamed"))
    assert change["codes"]["gratitude"]["change"] == "renamed" and change["removed"] == []
    assert _codes(store, "gratitude") == old
    assert any("gratitude: renamed from thanks" in line for line in describe(change))


def test_a_split_keeps_absent_codes_and_leaves_present_ones_to_the_coders(store):
    change = use_codebook(store, version("split"))
    assert change["codes"]["advice_career"]["change"] == "split"
    # ben coded advice present on post 1: only a coder can say which kind of advice it was
    assert _codes(store, "advice_career") == [("ana", P1, 0), ("ana", P2, 0), ("ben", P2, 0)]
    assert change["not_yet_coded"] == {"advice_clinical": 1, "advice_career": 1}


def test_a_merge_is_present_where_any_merged_code_was(store):
    use_codebook(store, version("merged"))
    assert _codes(store, "help") == [("ana", P1, 0), ("ana", P2, 1), ("ben", P1, 1), ("ben", P2, 0)]
    made = made_under(store, version("merged").content_hash, ["ana"])["ana"]
    assert {m["how"] for m in made} == {"kept", "merged"}


def test_an_added_code_is_not_yet_coded_on_earlier_posts_and_says_so(store, tmp_path):
    new = version("added")
    change = use_codebook(store, new)
    assert change["codes"]["question"] == {"change": "added", "from": [], "missing": []}
    assert change["not_yet_coded"] == {"question": 4}
    assert _codes(store, "question") == []
    report = agreement(store, new, n_boot=20)
    assert report["codes"]["question"]["n"] == 0 and report["codes"]["greeting"]["n"] == 2
    assert report["not_yet_coded"] == {"question": {"ana": 2, "ben": 2}}
    assert "question: not yet coded on 4 post(s) people coded before (ana 2, ben 2)" in format_report(report)
    sheet = tmp_path / "ana2.csv"  # ana codes the new code on her posts: her sheet replaces what was carried
    sheet.write_text("post_id,advice,thanks,greeting,question\n" + f"{P1},0,0,1,0\n{P2},0,1,0,1\n", encoding="utf-8")
    import_codes(store, sheet, "ana", new)
    assert _codes(store, "question") == [("ana", P1, 0), ("ana", P2, 1)]
    assert made_under(store, new.content_hash, ["ana"])["ana"] == [
        {"hash": new.content_hash, "version": "2", "how": "made", "codes": 8}]


def test_a_redefined_code_is_not_carried(store):
    change = use_codebook(store, version("redefined"))
    assert change["codes"]["greeting"]["change"] == "redefined"
    assert _codes(store, "greeting") == [] and len(_codes(store, "advice")) == 4


def test_machine_coders_recode_only_when_the_codes_changed(store):
    assert code_corpus(store, load_codebook(TINY), embedder=FakeEmbedder())["coded"] == 2
    retitled = version("retitled")
    assert not diff(load_codebook(TINY), retitled)["machine"]
    assert code_corpus(store, retitled, embedder=FakeEmbedder())["coded"] == 0
    assert store.execute("SELECT count(*) FROM code_values WHERE coder = 'auto'").fetchone() == (6,)
    assert code_corpus(store, version("reworded"), embedder=FakeEmbedder())["coded"] == 2


def test_training_survives_a_reworded_definition(store):
    import_codes(store, SHEETS / "good_ana.csv", "consensus", load_codebook(TINY))
    first = code_corpus(store, load_codebook(TINY), embedder=FakeEmbedder())
    assert first["trained_on"] == ["consensus"]
    again = code_corpus(store, version("reworded"), embedder=FakeEmbedder())
    assert again["trained_on"] == ["consensus"] and again["coded"] == 2


def test_the_version_label_left_unchanged_is_pointed_out(tmp_path):
    edited = tmp_path / "tiny.yaml"
    edited.write_text(TINY.read_text(encoding="utf-8").replace("Greets the audience.", "Says hi."), encoding="utf-8")
    lines = describe(diff(load_codebook(TINY), load_codebook(edited)))
    assert lines[1] == ("  note: the content changed but the version label is still 1; raise it (version:) so "
                        "reports tell the versions apart")
    assert "  greeting: edited (inclusion); human codes kept" in lines


def test_changes_must_name_codes_of_the_new_version(tmp_path):
    from flows.coding.codebook import validate_path

    text = (EVOLUTION / "renamed" / "tiny.yaml").read_text(encoding="utf-8")
    (tmp_path / "tiny.yaml").write_text(text.replace("thanks: gratitude", "thanks: gratitud"), encoding="utf-8")
    [problem] = validate_path(tmp_path / "tiny.yaml")
    assert "changes: 'gratitud' is not a code of this codebook" in problem


def test_the_report_counts_the_study_coders_says_which_version_and_shows_memos(store, tmp_path):
    from flows.report.build import build_report
    from flows.report.settings import ReportSettings

    import_codes(store, SHEETS / "code_memos.csv", "dave", load_codebook(TINY))
    use_codebook(store, version("renamed"))
    out = tmp_path / "report"
    build_report(store, out, ReportSettings(n_boot=0, accounts="all", coder="ana", coders=["ana", "ben"], memos=True,
                                            pseudonymise=False), study={"data_dir": str(tmp_path)})
    tables = out / "tables"
    coders = (tables / "reliability_tiny_coders.csv").read_text(encoding="utf-8")
    assert "ana" in coders and "ben" in coders and "dave" not in coders
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Left out: dave, who coded tiny but are not among the study's coders (ana, ben" in md
    versions = (tables / "reliability_tiny_versions.csv").read_text(encoding="utf-8").splitlines()
    assert versions[0] == "coder,version,hash,how,codes" and "ana,1,8193b4208e05,renamed,2" in versions
    memos = (tables / "codes_tiny_memos.csv").read_text(encoding="utf-8")
    assert "=HYPERLINK" in memos and "hello as a greeting" not in memos  # ana's memo; dave is not a study coder
