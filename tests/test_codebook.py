"""Codebook format, validation messages, content hash, discovery and the shipped codebooks."""

import re
from pathlib import Path

import pytest

from flows.coding.codebook import (
    CodebookError,
    assignable_codes,
    discover,
    iter_codes,
    leaf_codes,
    load_codebook,
    rule_hits,
    shipped_dir,
    validate_path,
)

FIXTURES = Path(__file__).parent / "fixtures" / "codebooks"
SHIPPED = sorted(shipped_dir().glob("*.yaml"))
TINY_HASH = "8193b4208e05c38068a2d974677b827eefad4b979e515f8432477433b483d3f3"

# Leaf ids that machine coders, exports and the sample corpus rely on.
EXPECTED_LEAVES = {
    "chretien2015": {"information", "collaboration", "perspectives", "community",
                     "advocacy", "digital_footprint", "equalization"},
    "mentorship_medtwitter": {"mentorship", "coaching", "sponsorship", "community_campaigns",
                              "trolling"},
    "micromentorship": {"advice_seeking", "reassurance", "harassment_gender_bias",
                        "burnout_work_life", "resource_sharing"},
    "dermtwitter_mentorship": {"urim_outreach", "research_collaboration",
                               "specialty_information", "peer_mentorship"},
    "twitter_as_a_tool": {"follow", "participate", "establish", "professionalism_lapse"},
}

# One fixture per error: (file, the field path as printed, pieces of message and fix).
BAD_CASES = [
    ("bad_unknown_key.yaml", "[codes -> access -> information -> defintion]",
     "unknown key 'defintion'; did you mean 'definition'?"),
    ("bad_duplicate_id.yaml", "[codes -> advice -> id]",
     "duplicate code id 'advice' (first at codes -> support -> advice)", "unique id"),
    ("bad_empty_definition.yaml", "[codes -> advice -> definition]",
     "definition is empty", "write in a sentence or two"),
    ("bad_regex.yaml", "[codes -> advice -> patterns -> 1]",
     "pattern '(unclosed advice' does not compile", "fix the regex"),
    ("bad_yaml_syntax.yaml", "[line 12, column 4]", "invalid YAML", "check the indentation"),
    ("bad_not_mapping.yaml", "[top level]", "is a list, not a mapping", "start it with"),
    ("bad_empty_file.yaml", "[top level]", "the document is empty", "'id: bad_empty_file'"),
    ("bad_duplicate_key.yaml", "[line 14, column 5]",
     "duplicate key 'definition' (first at line 12)", "keep only one"),
    ("bad_slug_id.yaml", "[codes -> Advice Seeking -> id]",
     "'Advice Seeking' is not valid here", "e.g. 'advice_seeking'"),
    ("bad_too_deep.yaml", "[codes -> support -> advice -> career_advice -> children]",
     "at most 3 levels", "move these sub-codes up a level"),
    ("bad_unquoted_version.yaml", "[version]", "expected text, got 1.0 (a number)",
     "put the value in quotes"),
    ("bad_leaf_not_assignable.yaml", "[codes -> advice]", "must be assignable",
     "remove 'assignable: false'"),
    ("bad_missing_examples.yaml", "[codes -> advice]", "lacks examples", "add them"),
    ("bad_id_mismatch.yaml", "[id]", "differs from the file name",
     "rename the file to advice_codebook.yaml or set id: bad_id_mismatch"),
    ("bad_citation_source.yaml", "[citation -> 0]", "neither doi nor url", "add the doi"),
    ("bad_hashtag.yaml", "[codes -> advice -> hashtags -> 0]", "'AskMedTwitter'",
     "write the hashtag as #Word"),
    ("bad_rule_coverage.yaml", "[codes -> advice -> examples -> positive -> 1]",
     "matches none of the code's keywords", "set rule_coverage: partial"),
]


def _shipped(codebook_id: str):
    return load_codebook(shipped_dir() / f"{codebook_id}.yaml")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_codebook_validates(path):
    assert validate_path(path) == []


def test_the_five_codebooks_are_shipped():
    assert {p.stem for p in SHIPPED} == set(EXPECTED_LEAVES)


@pytest.mark.parametrize("codebook_id", sorted(EXPECTED_LEAVES))
def test_shipped_leaf_ids_are_the_ones_coders_use(codebook_id):
    leaves = {code.id for code in leaf_codes(_shipped(codebook_id))}
    assert leaves == EXPECTED_LEAVES[codebook_id]


def test_chretien_ids_are_fixed_under_their_domains():
    tree = {c.id: [k.id for k in c.children] for c in _shipped("chretien2015").codes}
    assert tree == {
        "access": ["information", "collaboration", "perspectives", "community"],
        "voice": ["advocacy", "digital_footprint", "equalization"],
    }


def test_domains_are_not_assignable_by_default():
    codebook = _shipped("chretien2015")
    assert [c.id for c in assignable_codes(codebook)] == [c.id for c in leaf_codes(codebook)]


def test_a_domain_opting_in_as_assignable_needs_criteria_and_examples(tmp_path):
    text = (FIXTURES / "tiny.yaml").read_text(encoding="utf-8")
    opted_in = text.replace("    label: Support\n", "    label: Support\n    assignable: true\n")
    (tmp_path / "tiny.yaml").write_text(opted_in, encoding="utf-8")
    assert validate_path(tmp_path / "tiny.yaml") == [
        f"{tmp_path / 'tiny.yaml'}: [codes -> support] assignable code 'support' lacks inclusion, "
        "exclusion, examples; add them so coders can apply it consistently "
        "(or set 'assignable: false' on a domain)"
    ]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_codes_have_enough_examples_and_a_citation(path):
    codebook = load_codebook(path)
    for code in assignable_codes(codebook):
        # Examples double as the machine coders' prototypes and contrasts (flows.coding.semantic),
        # so a codebook may carry up to a dozen; fewer than three gives them nothing to go on.
        assert 3 <= len(code.examples.positive) <= 12, code.id
        assert 2 <= len(code.examples.negative) <= 6, code.id
    for source in codebook.citation:
        assert source.doi or source.note, "a source without a DOI must say why in its note"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_pattern_compiles(path):
    for node in iter_codes(load_codebook(path)):
        for pattern in node.code.patterns:
            re.compile(pattern)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_positive_examples_match_their_rules_or_say_why_not(path):
    for code in assignable_codes(load_codebook(path)):
        hits = [bool(rule_hits(code, text)) for text in code.examples.positive]
        if code.rule_coverage == "rules":
            assert all(hits), code.id
        elif code.rule_coverage == "partial":
            assert any(hits) and not all(hits), code.id


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda case: case[0].removesuffix(".yaml"))
def test_each_error_names_file_path_and_fix(case):
    name, *pieces = case
    problems = validate_path(FIXTURES / name)
    assert any(all(piece in line for piece in pieces) and line.startswith(str(FIXTURES / name))
               for line in problems), problems


def test_every_bad_fixture_has_a_case():
    assert {p.name for p in FIXTURES.glob("bad_*.yaml")} == {case[0] for case in BAD_CASES}


def test_misspelt_key_is_reported_once_not_also_as_missing():
    problems = validate_path(FIXTURES / "bad_unknown_key.yaml")
    assert len(problems) == 1


def test_load_raises_one_error_carrying_every_problem():
    with pytest.raises(CodebookError) as caught:
        load_codebook(FIXTURES / "bad_duplicate_id.yaml")
    assert caught.value.problems == validate_path(FIXTURES / "bad_duplicate_id.yaml")
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_hash_of_tiny_fixture_is_pinned():
    # Changing this value means every stored code assignment points at a "different" codebook.
    assert load_codebook(FIXTURES / "tiny.yaml").content_hash == TINY_HASH


def test_hash_ignores_comments_key_order_layout_and_written_out_defaults():
    reordered = load_codebook(FIXTURES / "reordered" / "tiny.yaml")
    assert reordered.content_hash == TINY_HASH


@pytest.mark.parametrize("old, new", [
    ("what to do about a concrete situation", "what to do about a specific situation"),
    ("between two residency programs", "between three residency programs"),
    ("'^\\s*hello\\b[^?]*$'", "'^\\s*(hello|hi)\\b[^?]*$'"),
])
def test_hash_changes_when_meaning_changes(tmp_path, old, new):
    text = (FIXTURES / "tiny.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "tiny.yaml").write_text(text.replace(old, new), encoding="utf-8")
    assert load_codebook(tmp_path / "tiny.yaml").content_hash != TINY_HASH


def test_iter_codes_gives_path_depth_and_parent():
    nodes = {n.code.id: n for n in iter_codes(load_codebook(FIXTURES / "tiny.yaml"))}
    assert list(nodes) == ["support", "advice", "thanks", "greeting"]
    assert (nodes["advice"].path, nodes["advice"].depth) == (("support", "advice"), 2)
    assert nodes["advice"].parent.id == "support"
    assert nodes["greeting"].parent is None and nodes["greeting"].depth == 1


def test_keywords_match_whole_words_and_capitals_make_them_case_sensitive():
    codebook = _shipped("dermtwitter_mentorship")
    urim = next(c for c in leaf_codes(codebook) if c.id == "urim_outreach")
    assert rule_hits(urim, "URiM students, DM me") == ["URiM"]
    assert rule_hits(urim, "the urim of the thread") == []
    assert rule_hits(urim, "URiMs") == []


def test_discover_later_directories_override_earlier_ones(tmp_path):
    shipped, study = tmp_path / "shipped", tmp_path / "study"
    shipped.mkdir(), study.mkdir()
    for path in (shipped / "alpha.yaml", shipped / "beta.yaml", study / "beta.yaml"):
        path.write_text("id: x\n", encoding="utf-8")
    found = discover([shipped, study, tmp_path / "missing"])
    assert found == {"alpha": shipped / "alpha.yaml", "beta": study / "beta.yaml"}


def test_discover_refuses_yml_files(tmp_path):
    (tmp_path / "mine.yml").write_text("id: mine\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="rename it to mine.yaml"):
        discover([tmp_path])


def test_shipped_codebooks_are_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert set(discover([shipped_dir()])) == set(EXPECTED_LEAVES)


def _trigrams(text: str) -> set[str]:
    words = re.sub(r"[^a-z0-9 ]", " ", re.sub(r"https?://\S+|@\w+", " ", text.lower())).split()
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


def test_shipped_chretien2015_examples_are_not_taken_from_the_dev_set(devset):
    """The examples were written for the codebook: none shares more than a few word triples with
    any hand-coded dev-set post (a paraphrase keeps most of them; the closest written example
    shares a fifth)."""
    import json

    posts = [_trigrams(json.loads(line)["text"]) for line in
             (devset / "dev_tweets.jsonl").read_text().splitlines() if line.strip()]
    codebook = load_codebook(shipped_dir() / "chretien2015.yaml")
    for code in assignable_codes(codebook):
        for text in [*code.examples.positive, *code.examples.negative, *code.inclusion]:
            mine = _trigrams(text)
            overlap = max(len(mine & post) / max(1, min(len(mine), len(post))) for post in posts)
            assert overlap < 0.3, f"{code.id}: {text!r} is too close to a dev-set post"
