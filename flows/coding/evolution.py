"""A codebook that evolves while the study codes: versions linked by a change log, and people's
codes carried over wherever their meaning survives.

When a new version of a codebook becomes current (:func:`flows.coding.store.register_codebook`),
:func:`evolve` compares it with the version that was current (:func:`diff`), records the link in
``codebook_links`` and carries every person's codes (consensus included; machine coders re-code)
into the new version, noting in ``carried_codes`` the version and code each was made under:

- ``kept`` / ``reworded``: the same id (its label, definition, criteria, examples or rules
  edited): carried as they are. A wording change never loses a code;
- ``renamed`` (``changes: renamed: {old: new}``): carried to the new id;
- ``merged`` (``merged: {new: [old, ...]}``): present when any of the old codes was, for posts
  where the coder coded them all;
- ``split`` (``split: {old: [new, ...]}``): a post coded absent is absent for every part; one coded
  present is *not yet coded* for the parts (only a coder can say which part applies);
- ``redefined`` (``redefined: [id]``), ``added``: not yet coded on earlier posts;
- ``removed``: an old code mapped nowhere; its codes stay with the old version only.

A coder's codes are never overwritten: posts they already coded under the new version keep them.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from flows.coding.codebook import Code, Codebook, assignable_codes, iter_codes

WORDING = ("label", "definition", "inclusion", "exclusion", "examples")
RULES = ("keywords", "hashtags", "patterns", "rule_coverage")
CARRIED = ("kept", "reworded", "renamed", "merged", "split")


def _fields(old: Code, new: Code, old_parent: str | None, new_parent: str | None) -> list[str]:
    a, b = old.model_dump(mode="json", exclude={"children"}), new.model_dump(mode="json", exclude={"children"})
    keys = [*WORDING, *RULES, "assignable", *sorted((set(a) | set(b)) - {"id", *WORDING, *RULES, "assignable"})]
    changed = [k for k in keys if a.get(k) != b.get(k)]  # fields added to codes later count too
    return changed + (["parent"] if old_parent != new_parent else [])


def _parents(codebook: Codebook) -> dict[str, str | None]:
    return {n.code.id: (n.parent.id if n.parent else None) for n in iter_codes(codebook)}


def diff(old: Codebook, new: Codebook) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: per assignable code of ``new`` its change and sources,
    the old codes removed, and the codebook fields edited.

    Returns:
        ``{"from", "to", "codes": {id: {"change", "from": [old ids], "fields": [...]}},
        "removed": [ids], "metadata": [fields], "machine": bool}``; ``machine`` says whether the codes
        themselves changed (machine coders re-code) or only the codebook's description of itself.
    """
    old_codes = {n.code.id: n.code for n in iter_codes(old)}
    old_assignable = {c.id for c in assignable_codes(old)}
    ch = new.changes
    renamed = {v: k for k, v in (ch.renamed if ch else {}).items()}
    split_from = {part: o for o, parts in (ch.split if ch else {}).items() for part in parts}
    merged = dict(ch.merged) if ch else {}
    redefined = set(ch.redefined) if ch else set()
    po, pn = _parents(old), _parents(new)
    codes: dict[str, dict[str, Any]] = {}
    for code in assignable_codes(new):
        cid = code.id
        if cid in redefined:
            entry = {"change": "redefined", "from": [cid] if cid in old_codes else []}
        elif cid in merged:
            entry = {"change": "merged", "from": list(merged[cid])}
        elif cid in split_from:
            entry = {"change": "split", "from": [split_from[cid]]}
        elif cid in renamed:
            entry = {"change": "renamed", "from": [renamed[cid]]}
        elif cid in old_assignable:
            fields = _fields(old_codes[cid], code, po.get(cid), pn.get(cid))
            entry = {"change": "reworded" if fields else "kept", "from": [cid], "fields": fields}
        else:
            entry = {"change": "added", "from": []}
        if (entry["change"] in ("renamed", "merged", "split", "redefined") and cid in old_assignable
                and not any(o in old_assignable and o != cid for o in entry["from"])):
            # the mapping leads from another version (this one has the code already): compare as is
            fields = _fields(old_codes[cid], code, po.get(cid), pn.get(cid))
            entry = ({"change": "redefined", "from": [cid]} if entry["change"] == "redefined" and fields
                     else {"change": "reworded" if fields else "kept", "from": [cid], "fields": fields})
        if entry["change"] in ("renamed", "merged", "split") and entry["from"]:
            entry["fields"] = sorted({f for o in entry["from"] if o in old_codes
                                      for f in _fields(old_codes[o], code, po.get(o), pn.get(cid))})
        entry["missing"] = [o for o in entry["from"] if o not in old_assignable and entry["change"] != "redefined"]
        codes[cid] = entry
    used = {o for e in codes.values() for o in e["from"]}
    removed = [c for c in sorted(old_assignable) if c not in used]
    a, b = old.dump(), new.dump()
    metadata = [k for k in ("title", "version", "status", "citation", "description", "authors", "license", "changes")
                if a.get(k) != b.get(k)]
    machine = old.model_dump(mode="json")["codes"] != new.model_dump(mode="json")["codes"]
    return {"codebook": new.id, "from": {"hash": old.content_hash, "version": old.version},
            "to": {"hash": new.content_hash, "version": new.version}, "codes": codes, "removed": removed,
            "metadata": metadata, "machine": machine, "since": ch.since if ch else None}


def describe(change: dict[str, Any]) -> list[str]:
    """The diff as lines for people: one per code that changed, then the codebook's own fields."""
    f, t = change["from"], change["to"]
    lines = [f"{change['codebook']}: version {f['version']} ({f['hash'][:12]}) -> {t['version']} ({t['hash'][:12]})"]
    if change.get("since") and change["since"] != f["version"]:
        lines.append(f"  note: changes: says since {change['since']}, but the version coded before is "
                     f"{f['version']}; the mapping was applied to {f['version']}")
    if f["version"] == t["version"] and f["hash"] != t["hash"]:
        lines.append(f"  note: the content changed but the version label is still {t['version']}; raise it "
                     "(version:) so reports tell the versions apart")
    says = {"reworded": "edited ({fields}); human codes kept", "renamed": "renamed from {src}; human codes carried",
            "merged": "merged from {src}; carried where the coder coded them all (present if any was)",
            "split": "split from {src}; posts coded absent stay absent, posts coded present are not yet coded",
            "redefined": "redefined (changes: redefined); not yet coded on earlier posts",
            "added": "added; not yet coded on earlier posts"}
    for cid, entry in change["codes"].items():
        if entry["change"] == "kept":
            continue
        text = says[entry["change"]].format(fields=", ".join(entry.get("fields", [])), src=", ".join(entry["from"]))
        lines.append(f"  {cid}: {text}")
        if entry["missing"]:
            lines.append(f"    warning: {', '.join(entry['missing'])} not an assignable code of version "
                         f"{f['version']}; check changes: in the codebook")
    lines += [f"  {cid}: removed; its codes stay with version {f['version']} only (map it in changes: "
              "renamed/merged to carry them)" for cid in change["removed"]]
    if change["metadata"]:
        lines.append(f"  codebook fields edited: {', '.join(change['metadata'])}")
    if not change["machine"]:
        lines.append("  the codes themselves are unchanged: machine coders keep their codes and models")
    if len(lines) == 1:
        lines.append("  no change")
    return lines


def stored_version(con: duckdb.DuckDBPyConnection, content_hash: str) -> Codebook:
    """A version kept in the store, as a codebook (it validated when it was registered)."""
    row = con.execute("SELECT canonical FROM codebook_versions WHERE content_hash = ?", [content_hash]).fetchall()
    data = json.loads(row[0][0])
    return Codebook.model_validate(data, context={"draft": data.get("status") == "draft"})


def evolve(con: duckdb.DuckDBPyConnection, old_hash: str, codebook: Codebook) -> dict[str, Any]:
    """Link ``old_hash`` -> ``codebook`` and carry people's codes over; call in a transaction.

    Returns:
        The :func:`diff`, with ``carried`` (rows carried per change) and ``not_yet_coded`` (per code,
        posts people coded before that the new code still needs).
    """
    old = stored_version(con, old_hash)
    change = diff(old, codebook)
    frame = con.execute("""SELECT a.platform, a.post_id, a.code_id, a.coder, a.value, a.text_sha256, a.batch_id,
            coalesce(c.made_under, a.content_hash) AS made_under, coalesce(c.made_as, a.code_id) AS made_as
        FROM code_assignments AS a LEFT JOIN carried_codes AS c USING (platform, post_id, content_hash, code_id, coder)
        WHERE a.content_hash = ? AND a.coder NOT LIKE 'auto%'""", [old_hash]).df()
    done = con.execute("""SELECT DISTINCT platform, post_id, coder FROM code_assignments
        WHERE content_hash = ?""", [codebook.content_hash]).df()
    rows, counts, pending = _carry(frame, change, codebook, done)
    change["carried"], change["not_yet_coded"] = counts, pending
    if not rows.empty:
        con.register("_carried", rows)
        try:
            con.execute("""INSERT INTO code_assignments SELECT platform, post_id, ?, ?, code_id, coder, value,
                NULL, text_sha256, batch_id FROM _carried""", [codebook.id, codebook.content_hash])
            con.execute("""INSERT INTO carried_codes SELECT platform, post_id, ?, code_id, coder, made_under,
                made_as, change FROM _carried""", [codebook.content_hash])
        finally:
            con.unregister("_carried")
    _carry_machine(con, old_hash, codebook, change)
    con.execute("INSERT OR REPLACE INTO codebook_links VALUES (?, ?, ?, ?)",
                [codebook.id, old_hash, codebook.content_hash, json.dumps(change, sort_keys=True)])
    return change


def _carry(frame: pd.DataFrame, change: dict[str, Any], codebook: Codebook,
           done: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """The rows to write under the new version, counts per change and posts left per code."""
    columns = ["platform", "post_id", "code_id", "coder", "value", "text_sha256", "batch_id", "made_under",
               "made_as", "change"]
    if frame.empty:
        return pd.DataFrame(columns=columns), {}, {}
    skip = set(zip(done["platform"], done["post_id"], done["coder"]))
    frame = frame[[k not in skip for k in zip(frame["platform"], frame["post_id"], frame["coder"])]]
    posts = frame[["platform", "post_id", "coder"]].drop_duplicates()
    by_code = {c: part.set_index(["platform", "post_id", "coder"]) for c, part in frame.groupby("code_id")}
    parts, counts, pending = [], {}, {}
    for cid, entry in change["codes"].items():
        kind, sources = entry["change"], [s for s in entry["from"] if s in by_code]
        if kind not in CARRIED or not sources or len(sources) < len(entry["from"]):
            pending[cid] = len(posts)
            continue
        if kind == "merged":
            joined = pd.concat([by_code[s][["value"]].rename(columns={"value": s}) for s in sources], axis=1).dropna()
            first = by_code[sources[0]].loc[joined.index]
            part = first.assign(value=joined.max(axis=1).astype("int8"),
                                made_as=",".join(sources)).reset_index()
        else:
            part = by_code[sources[0]].reset_index()
            if kind == "split":
                part = part[part["value"] == 0]
        part = part.assign(code_id=cid, change=kind)[columns]
        pending[cid] = len(posts) - len(part)
        counts[kind] = counts.get(kind, 0) + len(part)
        parts.append(part)
    pending = {c: n for c, n in pending.items() if n}
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return rows.astype({"value": "int8"}) if not rows.empty else rows, counts, pending


def _carry_machine(con: duckdb.DuckDBPyConnection, old_hash: str, codebook: Codebook, change: dict[str, Any]) -> None:
    """When only the codebook's description of itself changed, machine codes hold as they are."""
    if change["machine"]:
        return
    con.execute("""INSERT OR IGNORE INTO code_assignments SELECT platform, post_id, codebook_id, ?, code_id,
            coder, value, score, text_sha256, batch_id
        FROM code_assignments WHERE content_hash = ? AND coder LIKE 'auto%'""", [codebook.content_hash, old_hash])


def made_under(con: duckdb.DuckDBPyConnection, content_hash: str, coders: list[str]) -> dict[str, list[dict]]:
    """Per coder, how many of their codes under this version were made under which version."""
    rows = con.execute("""
        WITH codes AS (
            SELECT a.coder, coalesce(c.made_under, a.content_hash) AS made, coalesce(c.change, 'made') AS how
            FROM code_assignments AS a
            LEFT JOIN carried_codes AS c USING (platform, post_id, content_hash, code_id, coder)
            WHERE a.content_hash = ? AND list_contains(?, a.coder))
        SELECT coder, made, how, v.version, count(*) AS n
        FROM codes LEFT JOIN codebook_versions AS v ON v.content_hash = codes.made
        GROUP BY coder, made, how, v.version
        ORDER BY coder, how <> 'made', v.version, made, how""", [content_hash, coders]).fetchall()
    out: dict[str, list[dict]] = {}
    for coder, made, how, version, n in rows:
        out.setdefault(coder, []).append({"hash": made, "version": version, "how": how, "codes": int(n)})
    return out


def links(con: duckdb.DuckDBPyConnection, codebook_id: str) -> list[dict[str, Any]]:
    """Every recorded change of a codebook, as :func:`diff` dicts (with what was carried)."""
    rows = con.execute("SELECT changes FROM codebook_links WHERE codebook_id = ? ORDER BY from_hash, to_hash",
                       [codebook_id]).fetchall()
    return [json.loads(r[0]) for r in rows]

