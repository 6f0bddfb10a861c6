"""The attack surface, one test per attack: hostile text in every output, formulas, hostile imports.

The hostile store holds posts and names that try to inject markup (``<script>``, event handlers,
Markdown links and images, a ``javascript:`` expanded link), to break XML (``]]>``, ``&``,
``\\x0b``, ``\\x1f``) and to run spreadsheet formulas (``=``, ``+``, ``-``, ``@``, tab, CR), and is
coded with codebooks whose text does the same. Imports are fed zip-slip names, zip bombs,
XXE and billion-laughs XML, ``!!python`` YAML tags, alias bombs and macro-enabled sheets.
(The study secret and the leak of names are the leak scan's: ``test_leak_scan.py``.)
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES

from flows.privacy.spreadsheet import FORMULA_STARTS
from flows.store.db import connect

PRIVACY = FIXTURES / "privacy"
SECRET = b"attack-test-secret"
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """A store of hostile posts, names and codebooks, with roles, network and codes."""
    from flows.coding.codebook import load_codebook
    from flows.coding.machine import code_corpus
    from flows.ingest.files import ingest
    from flows.people.network import build_network
    from flows.people.stage import prepare
    from flows.people.superusers import SuperuserCriteria, select_superusers

    db = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    con = connect(db)
    ingest(con, [PRIVACY / "mention_forms.jsonl", FIXTURES / "report" / "hostile.jsonl",
                 FIXTURES / "export" / "formulas.jsonl"])
    con.execute("UPDATE authors SET display_name = 'Tobias\x0b Quennell ]]> &amp; \x1f' WHERE author_id = '4100000002'")
    prepare(con)
    select_superusers(con, SuperuserCriteria(min_posts_per_month=0, min_professional_share=0, min_faculty=0,
                                             min_students=0, min_chats=0))
    for book in (PRIVACY / "xml_breaking.yaml", FIXTURES / "report" / "hostile.yaml"):
        code_corpus(con, load_codebook(book))
    build_network(con)
    con.close()
    return db


@pytest.fixture
def store(hostile):
    con = connect(hostile, read_only=True)
    yield con
    con.close()


def _report(store, folder: Path, **settings) -> Path:
    from flows.report.build import build_report
    from flows.report.settings import ReportSettings

    build_report(store, folder, ReportSettings(n_boot=0, accounts="all", **settings), study={"data_dir": str(folder)})
    return folder


def _export(store, out: Path, **options) -> dict:
    from flows.export.dataset import export_dataset
    from flows.export.selection import ExportOptions

    return export_dataset(store, out, ExportOptions(**options), secret=SECRET)


# -- hostile text in every output -----------------------------------------------------------------

@pytest.mark.parametrize("pseudonymise", [False, True])
def test_html_report_shows_hostile_text_as_text(store, tmp_path, pseudonymise):
    html = (_report(store, tmp_path / "r", pseudonymise=pseudonymise) / "report.html").read_text(encoding="utf-8")
    body = html.split("<body>", 1)[1]
    assert not re.search(r"<(script|img|iframe|object|embed|svg/|a\s+href=\"(?!#))", body, re.I)
    assert not re.search(r"<[^>]*\son\w+\s*=", body), "an event-handler attribute got through"
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", html, re.I)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html and "default-src 'none'" in html


def test_markdown_report_opens_no_tag_link_or_image(store, tmp_path):
    md = (_report(store, tmp_path / "r", pseudonymise=False) / "report.md").read_text(encoding="utf-8")
    assert "<" not in md  # raw HTML cannot open: every "<" of the data is an entity
    assert not re.search(r"(?<!\\)!\[", md), "a Markdown image (remote request) got through"
    assert not re.search(r"(?<!\\)\]\(", md), "a Markdown link got through"
    assert "\\[click here\\](javascript:alert(1))" in md and "!\\[img\\](https://evil.example/p.png)" in md


def test_a_javascript_expanded_link_is_never_a_link(store, tmp_path):
    folder = _report(store, tmp_path / "r", pseudonymise=False)
    for path in folder.rglob("*.*"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(href|src)\s*=\s*[\"']?javascript:", text, re.I), path.name


def _well_formed(data: bytes, what: str) -> ET.Element:
    root = ET.fromstring(data)  # raises on anything XML cannot hold
    assert not CONTROL.search(data.decode("utf-8")), f"{what}: a control character XML 1.0 forbids"
    return root


@pytest.mark.parametrize("pseudonymize", [False, True])
def test_qdpx_and_qdc_with_xml_breaking_text_stay_well_formed(store, tmp_path, pseudonymize):
    _export(store, tmp_path / "p.qdpx", fmt="qdpx", codebook="xml_breaking", pseudonymize=pseudonymize)
    _export(store, tmp_path / "c.qdc", fmt="qdc", codebook="xml_breaking")
    with zipfile.ZipFile(tmp_path / "p.qdpx") as archive:
        root = _well_formed(archive.read("project.qde"), "project.qde")
    names = [c.get("name") for c in root.iter("{urn:QDA-XML:project:1.0}Code")]
    assert any("]]> & <b>bold</b>" in n for n in names)  # the text itself, escaped by the writer
    book = _well_formed((tmp_path / "c.qdc").read_bytes(), "c.qdc")
    assert any("]]>" in (c.get("name") or "") for c in book.iter("{urn:QDA-XML:codebook:1.0}Code"))


def test_qdpx_and_qdc_with_xml_breaking_text_validate_against_the_refi_schemas(store, tmp_path, shared):
    import xmlschema

    project = xmlschema.XMLSchema(str(shared / "refi-tools/docs/schemas/project/v1.0/Project.xsd"))
    codebook = xmlschema.XMLSchema(str(shared / "refi-tools/docs/schemas/codebook/v1.0/Codebook.xsd"))
    _export(store, tmp_path / "p.qdpx", fmt="qdpx", codebook="xml_breaking", pseudonymize=True)
    _export(store, tmp_path / "c.qdc", fmt="qdc", codebook="xml_breaking")
    with zipfile.ZipFile(tmp_path / "p.qdpx") as archive:
        project.validate(ET.fromstring(archive.read("project.qde")))
    codebook.validate(ET.fromstring((tmp_path / "c.qdc").read_bytes()))


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_network_exports_with_hostile_handles_stay_well_formed(store, tmp_path, fmt):
    import networkx as nx

    from flows.export.network import export_network

    con = connect(store_path(store))
    try:
        con.execute("UPDATE authors SET handle = 'bad]]>&\x0bname\x1f' WHERE author_id = '4100000001'")
        export_network(con, tmp_path / f"n.{fmt}", fmt, pseudonymize=False)
    finally:
        con.close()
    _well_formed((tmp_path / f"n.{fmt}").read_bytes(), fmt)
    graph = nx.read_gexf(tmp_path / f"n.{fmt}") if fmt == "gexf" else nx.read_graphml(tmp_path / f"n.{fmt}")
    labels = {d["label"] for _, d in graph.nodes(data=True)}
    assert "bad]]>&\ufffdname\ufffd" in labels  # escaped by the writer, control characters replaced


def store_path(store) -> Path:
    """A writable copy of the module's store (the network test edits a handle)."""
    import shutil
    import tempfile

    source = Path(store.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
                  .fetchone()[0])
    copy = Path(tempfile.mkdtemp()) / "copy.duckdb"
    shutil.copy(source, copy)
    return copy


# -- formulas in spreadsheets ------------------------------------------------------------------------

@pytest.mark.parametrize("pseudonymize", [False, True])
def test_no_csv_or_xlsx_cell_starts_a_formula(store, tmp_path, pseudonymize):
    from openpyxl import load_workbook

    _export(store, tmp_path / "d.csv", fmt="csv", codebook="hostile", pseudonymize=pseudonymize)
    _export(store, tmp_path / "x.xlsx", fmt="xlsx", codebook="hostile", pseudonymize=pseudonymize)
    with open(tmp_path / "d.csv", newline="", encoding="utf-8") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    book = load_workbook(tmp_path / "x.xlsx", read_only=True)
    cells += [str(v) for row in book.worksheets[0].iter_rows(values_only=True) for v in row if isinstance(v, str)]
    dangerous = [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert dangerous == [] and any(c.startswith("'=HYPERLINK") for c in cells)
    assert any(c.startswith("'\t") for c in cells) and any(c.startswith("'\r") or c.startswith("'_x000D_")
                                                            for c in cells)


def test_no_report_table_cell_starts_a_formula(store, tmp_path):
    folder = _report(store, tmp_path / "r", pseudonymise=False)
    cells = []
    for path in (folder / "tables").glob("*.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            cells += [c for row in csv.reader(handle) for c in row[:]]
    text_cells = [c for c in cells if c and not re.fullmatch(r"-?[0-9.]+(e-?[0-9]+)?", c)]  # numbers are numbers
    assert [c for c in text_cells if c.startswith(FORMULA_STARTS)] == []
    assert any(c.startswith(("'=", "'+", "'@")) for c in cells)  # quoted posts that are formulas, disarmed


# -- hostile imports ------------------------------------------------------------------------------------

def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


QDE = b'<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="x"/>'


@pytest.mark.parametrize("name", ["../../evil.txt", "/etc/evil", "sources/../../evil.txt", "C:/evil.txt",
                                  "..\\..\\evil.txt"])
def test_a_qdpx_with_a_zip_slip_member_is_refused(tmp_path, name):
    from flows.export.refiqda.reader import RefiError, read_qdpx

    bad = _zip(tmp_path / "slip.qdpx", {"project.qde": QDE, name: b"x"})
    with pytest.raises(RefiError, match="points outside the archive"):
        read_qdpx(bad)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_a_qdpx_zip_bomb_is_refused_by_its_declared_size(tmp_path, monkeypatch):
    from flows.export.refiqda.reader import RefiError, read_qdpx
    from flows.privacy import untrusted

    monkeypatch.setattr(untrusted, "MAX_UNZIPPED", 1 << 20)  # the real bound is 1 GiB: same code, smaller file
    bomb = _zip(tmp_path / "bomb.qdpx", {"project.qde": QDE, "sources/a.txt": b"\0" * (2 << 20)})
    assert bomb.stat().st_size < 10_000
    with pytest.raises(RefiError, match="zip bomb"):
        read_qdpx(bomb)


def test_a_qdpx_member_that_inflates_past_its_limit_is_cut_off(tmp_path, monkeypatch):
    from flows.export.refiqda.reader import RefiError, read_qdpx
    from flows.privacy import untrusted

    monkeypatch.setattr(untrusted, "MAX_MEMBER", 1 << 20)
    qde = QDE.replace(b"/>", b"><Sources><TextSource guid='a' name='a' plainTextPath='internal://a.txt'/>"
                             b"</Sources></Project>")
    bomb = _zip(tmp_path / "bomb.qdpx", {"project.qde": qde, "sources/a.txt": b"\0" * (3 << 20)})
    with pytest.raises(RefiError, match="inflates past 1 MiB"):
        read_qdpx(bomb)


@pytest.mark.parametrize("name", ["xxe.qdc", "billion_laughs.qdc"])
def test_qdc_with_external_or_expanding_entities_is_refused(name):
    from flows.export.refiqda.reader import RefiError, read_refi

    with pytest.raises(RefiError, match="entities or external references"):
        read_refi(PRIVACY / name)


def test_qde_with_an_external_entity_is_refused(tmp_path):
    from flows.export.refiqda.reader import RefiError, read_qdpx

    bad = _zip(tmp_path / "xxe.qdpx", {"project.qde": (PRIVACY / "xxe_project.qde").read_bytes()})
    with pytest.raises(RefiError, match="entities or external references"):
        read_qdpx(bad)


def test_a_codebook_with_a_python_tag_is_refused_and_runs_nothing(tmp_path):
    from flows.coding.codebook import CodebookError, load_codebook

    with pytest.raises(CodebookError, match="tag .* is not allowed"):
        load_codebook(PRIVACY / "python_tag.yaml")
    assert not Path("/tmp/ethnoflow-pwned").exists()


def test_a_study_file_alias_bomb_is_refused_at_once(tmp_path):
    from flows.study.model import StudyError, load_study

    study = tmp_path / "study.yaml"
    study.write_bytes((PRIVACY / "alias_bomb.yaml").read_bytes())
    with pytest.raises(StudyError, match=r"aliases \(\*name\) expand it to more than 1,000,000 values"):
        load_study(study)


def test_aliases_that_expand_to_little_are_fine(tmp_path):
    import yaml

    from flows.privacy.untrusted import SafeLoader

    shared = {"inclusion": ["x"], "exclusion": ["y"]}  # safe_dump writes &id001 / *id001 for it
    text = yaml.safe_dump({"a": shared, "b": shared})
    assert "*id001" in text and yaml.load(text, Loader=SafeLoader) == {"a": shared, "b": shared}


def test_a_column_mapping_with_tags_or_aliases_is_refused(tmp_path):
    from flows.ingest.detect import NotACorpus
    from flows.ingest.tables import mapping_from_text

    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdef", "bcdefg"))
    for text in ("fields: !!python/object/apply:os.system ['true']", bomb):
        with pytest.raises(NotACorpus, match="not valid YAML"):
            mapping_from_text(text, tmp_path / "m.yaml")


def _sheet(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["post_id", "advice"])
    book.active.append(["5100000000000000001", 1])
    book.save(path)
    if extra:
        with zipfile.ZipFile(path, "a") as archive:
            for name, data in extra.items():
                archive.writestr(name, data)
    return path


def test_a_macro_enabled_sheet_is_refused(tmp_path):
    from flows.coding.sheets import SheetError, read_sheet

    with pytest.raises(SheetError, match="macros"):
        read_sheet(_sheet(tmp_path / "codes.xlsx", {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"}))
    with pytest.raises(SheetError, match="a coding sheet is a .csv or .xlsx file"):
        read_sheet(tmp_path / "codes.xlsm")


def test_a_sheet_with_a_zip_slip_or_bomb_is_refused(tmp_path, monkeypatch):
    from flows.coding.sheets import SheetError, read_sheet
    from flows.privacy import untrusted

    with pytest.raises(SheetError, match="points outside the archive"):
        read_sheet(_sheet(tmp_path / "slip.xlsx", {"../evil.xml": b"x"}))
    monkeypatch.setattr(untrusted, "MAX_UNZIPPED", 1 << 20)
    with pytest.raises(SheetError, match="zip bomb"):
        read_sheet(_sheet(tmp_path / "bomb.xlsx", {"xl/media/pad.bin": b"\0" * (2 << 20)}))


def test_an_oversized_sheet_is_refused(tmp_path, monkeypatch):
    from flows.coding import sheets

    monkeypatch.setattr(sheets, "MAX_ROWS", 10)
    path = tmp_path / "long.csv"
    path.write_text("post_id,advice\n" + "".join(f"{n},1\n" for n in range(20)), encoding="utf-8")
    with pytest.raises(sheets.SheetError, match="more than 10 rows"):
        sheets.read_sheet(path)
