"""Dehydrated datasets: post ids only, one per line, one file per platform, and what they are.

The X developer terms let researchers share post ids (not texts or profiles) so that others
can rehydrate what is still public (``twarc2 hydrate ids.twitter.txt``); a post deleted since,
or by someone who withdrew, then stays gone. ``--out share/ids.txt`` writes
``share/ids.twitter.txt`` (and ``share/ids.bluesky.txt`` when there are Bluesky posts: at://
URIs) and ``share/ids.manifest.json``: the selection, the time window, counts per platform and
kind, the collection queries found in the raw records, the source files' hashes, and how many
accounts were withdrawn before the export.

The id files are the one output that carries **real ids**, pseudonymised or not: that is what
they are for. A Bluesky post id holds its author's DID. The manifest says so (``real_ids``);
pseudonymising leaves the source file names out of it and the handles out of its queries.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb

from flows.export.dictionary import provenance
from flows.export.paths import atomic_outputs, sidecar
from flows.export.selection import ExportOptions
from flows.export.table import sql_literal

# Search operators that name an account: from:x, to:x, retweets_of:x, @x.
QUERY_HANDLE_RE = re.compile(r"(?i)(\b(?:from|to|retweets_of|mentions):|(?<![\w@])@)([A-Za-z0-9_]{1,15})\b")


def id_files(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, Path]:
    """The id file of each platform with posts in the store."""
    platforms = [r[0] for r in con.execute("SELECT DISTINCT platform FROM posts ORDER BY 1").fetchall()]
    return {p: sidecar(out, f".{p}.txt") for p in platforms}


def write_ids(con: duckdb.DuckDBPyConnection, out: Path, options: ExportOptions,
              redactor=None) -> dict:
    """Write the id files and the manifest; return ``{"files": [...], "posts": {platform: n}}``."""
    files = id_files(con, out)
    manifest_path = sidecar(out, ".manifest.json")
    targets = [*files.values(), manifest_path]
    counts = {}
    with atomic_outputs(targets, force=options.force) as temps:
        for (platform, _), tmp in zip(files.items(), temps):
            # Tweet ids sort as numbers (shorter first), which is also the order they were made in.
            counts[platform] = int(con.execute(
                f"COPY (SELECT post_id FROM posts WHERE platform = {sql_literal(platform)} "
                f"ORDER BY length(post_id), post_id) TO {sql_literal(str(tmp))} "
                "(FORMAT csv, HEADER false, QUOTE '')").fetchone()[0])
        doc = manifest(con, files, counts, redactor if options.pseudonymize else None)
        temps[-1].write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {"files": [str(p) for p in targets], "posts": counts}


def manifest(con: duckdb.DuckDBPyConnection, files: dict[str, Path], counts: dict[str, int],
             redactor=None) -> dict:
    """What the id files hold and where they came from (no clock time, no texts)."""
    first, last = con.execute("SELECT min(created_at), max(created_at) FROM posts").fetchone()
    kinds: dict[str, dict[str, int]] = {}
    per_kind = con.execute("SELECT platform, kind, count(*) FROM posts GROUP BY ALL ORDER BY ALL").fetchall()
    for platform, kind, n in per_kind:
        kinds.setdefault(platform, {})[kind] = n
    sources = [{"sha256": sha, "format": fmt, "records": read, **({} if redactor else {"name": name})}
               for sha, fmt, read, name in con.execute(
                   "SELECT sha256, format, records_read, name FROM sources ORDER BY sha256").fetchall()]
    withdrawn = None  # a store made before withdrawals existed (opened read-only, not migrated)
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                   "AND table_name = 'withdrawal_audit'").fetchone()[0]:
        withdrawn = con.execute("SELECT count(DISTINCT account_hash) FROM withdrawal_audit").fetchone()[0]
    return {
        "what": "Post ids only, one per line; rehydrate them through the platform's API "
                "(e.g. twarc2 hydrate). Posts deleted since, or withdrawn, will not come back.",
        "real_ids": True,
        "privacy": "These files carry the posts' real ids, also when the rest of the study is "
                   "pseudonymised: anyone can look a post and its author up from its id, and a Bluesky "
                   "id (at://did:...) names its author's DID. Share them as the platform's terms allow.",
        "selection": "every post in the store at export time, reposts included; accounts withdrawn "
                     "with `ethnoflow forget` are not in it",
        "files": {p: {"file": f.name, "posts": counts[p]} for p, f in files.items()},
        "window": {"first": _iso(first), "last": _iso(last)},
        "counts": kinds,
        "queries": collection_queries(con, redactor),
        "sources": sources,
        "withdrawn_accounts": withdrawn,
        "provenance": provenance(con),
    }


def _iso(value) -> str | None:
    if value is None or isinstance(value, str):  # a date before year 1 comes as text
        return value
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def collection_queries(con: duckdb.DuckDBPyConnection, redactor=None) -> list[dict]:
    """The distinct search queries twarc recorded with its pages (``__twarc.url``)."""
    urls = [r[0] for r in con.execute("""
        SELECT DISTINCT try(json_extract_string(r.payload, '$.__twarc.url')) AS url
        FROM raw_records AS r JOIN sources AS s ON s.sha256 = r.source_sha256
        WHERE s.format IN ('twarc2', 'v2') AND r.payload LIKE '%"__twarc"%' AND url IS NOT NULL
        ORDER BY url""").fetchall()]
    found = {}
    for url in urls:
        parts = urlsplit(url)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        endpoint = parts.path if redactor is None else redactor.text(  # a user timeline names its account
            re.sub(r"/users/([0-9]+)", lambda m: "/users/" + redactor.author(m.group(1)), parts.path))
        entry = {"endpoint": endpoint, "query": params.get("query"),
                 "start_time": params.get("start_time"), "end_time": params.get("end_time")}
        if redactor is not None and entry["query"]:
            entry["query"] = redactor.text(QUERY_HANDLE_RE.sub(
                lambda m: m.group(1) + redactor.handle(m.group(2)).lstrip("@"), entry["query"]))
        found[json.dumps(entry, sort_keys=True)] = entry
    return [found[k] for k in sorted(found)]
