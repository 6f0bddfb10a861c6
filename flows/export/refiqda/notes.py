"""Memos as REFI-QDA ``<Note>`` elements, each with its author (``creatingUser``) and date.

- a coder's memos on a post (the sheet's ``memo`` column, notes from extra columns, memos on one
  code for that post) are one Note holding their texts (``PlainTextContent``; a memo on a code
  starts ``On <label>:``, a note ``<column>:``) and the post's span (``PlainTextSelection``),
  referred to by the post's source (``NoteRef``): QualCoder reads it as an annotation on the
  post's text, owned by the memo's author (it keeps one annotation per span and owner, hence one
  Note per post and coder). The codes it speaks of refer to it too;
- a memo on a code as a whole is a Note with its text in a file of its own (``plainTextPath``,
  which QualCoder imports as a journal entry), referred to by the code.

Notes are named ``memo by ana on twitter/<post>`` (``… on <code label>``); their GUIDs are uuid5
of the memo's key. Only the exported coders' memos of the exported codebook are written, their
texts through the redaction layer; dates come from the store (when each memo was first recorded;
1970-01-01 for memos kept before ethnoflow recorded dates), so the same store gives the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import duckdb

from flows.export.refiqda.guids import code_guid, guid, user_guid
from flows.export.refiqda.xml import clean, element


@dataclass
class Note:
    """One memo as it goes into the project."""

    guid: str
    name: str
    coder: str
    when: str  # xsd:dateTime, UTC
    text: str
    code_id: str | None
    span: tuple[str, int, int] | None = None  # (source guid, start, end) for a memo on a post
    refs: list[str] = field(default_factory=list)  # code ids whose Code element refers to it

    @property
    def path(self) -> str | None:
        """A code memo's text file in the archive (``sources/<guid>.txt``)."""
        return None if self.span else f"sources/{self.guid}.txt"


def collect(con: duckdb.DuckDBPyConnection, selection, sources: list, redactor=None) -> list[Note]:
    """The notes of the exported coders' memos on the exported codebook, in a stable order."""
    cb = selection.codebook
    if cb is None or not selection.coders:
        return []
    spans = {(b.platform, b.real_id): (s.guid, b.start, b.end, b.post_id) for s in sources for b in s.blocks}
    labels = {n.code.id: n.code.label for n in _codes(cb)}
    rows = con.execute("""SELECT memo_id, coder, platform, post_id, code_id, kind, label, memo, created_at
        FROM memos WHERE codebook_id = ? AND list_contains(?, coder)
        ORDER BY post_id = '', platform, post_id, code_id NULLS FIRST, coder, label, memo_id""",
                       [cb.id, selection.coders]).fetchall()
    notes: list[Note] = []
    on_post: dict[tuple[str, str, str], Note] = {}
    for memo_id, coder, platform, post_id, code_id, kind, label, text, created in rows:
        if code_id is not None and code_id not in labels:
            continue  # a code of an earlier version
        text = clean(redactor.text(text) if redactor is not None else text)
        about = labels.get(code_id)
        when = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        if not post_id:
            notes.append(Note(guid("note", memo_id), f"memo by {coder} on {about}", coder, when, text,
                              code_id, None, [code_id]))
            continue
        place = spans.get((platform, post_id))
        if place is None:
            continue  # a post the project does not hold (a repost, an empty text)
        part = f"On {about}: {text}" if about else text if kind == "memo" else f"{label}: {text}"
        note = on_post.get((platform, post_id, coder))
        if note is None:
            note = on_post[(platform, post_id, coder)] = Note(
                guid("note", "post", platform, post_id, coder), f"memos by {coder} on {platform}/{place[3]}",
                coder, when, part, None, place[:3], [])
            notes.append(note)
        else:
            note.text, note.when = f"{note.text}\n\n{part}", min(note.when, when)
        if code_id and code_id not in note.refs:
            note.refs.append(code_id)
    return notes


def _codes(codebook):
    from flows.coding.codebook import iter_codes

    return list(iter_codes(codebook))


def notes_element(root: ET.Element, notes: list[Note]) -> None:
    """Append ``<Notes>`` (after ``<Sources>``, as the schema orders a project)."""
    if not notes:
        return
    holder = element(root, "Notes")
    for note in notes:
        attrs = {"guid": note.guid, "name": note.name}
        if note.path:
            attrs["plainTextPath"] = f"internal://{note.guid}.txt"
        attrs.update({"creatingUser": user_guid(note.coder), "creationDateTime": note.when,
                      "modifyingUser": user_guid(note.coder), "modifiedDateTime": note.when})
        node = element(holder, "Note", attrs)
        element(node, "PlainTextContent", text=note.text)
        if note.span:
            element(node, "PlainTextSelection", {"guid": guid("note-selection", note.guid),
                                                 "startPosition": note.span[1], "endPosition": note.span[2]})


def source_refs(notes: list[Note]) -> dict[str, list[str]]:
    """Source GUID -> the notes on its posts."""
    out: dict[str, list[str]] = {}
    for note in notes:
        if note.span:
            out.setdefault(note.span[0], []).append(note.guid)
    return out


def code_refs(notes: list[Note], codebook_id: str) -> dict[str, list[str]]:
    """Code GUID -> the notes about that code."""
    out: dict[str, list[str]] = {}
    for note in notes:
        for code_id in note.refs:
            out.setdefault(code_guid(codebook_id, code_id), []).append(note.guid)
    return out
