"""The dataset table, built in SQL: one row per post, the codes pivoted into columns.

Tabular exports never hold the table in Python: the query (``flows/export/sql/dataset.sql``) is
written straight to its file by DuckDB's ``COPY`` (CSV, Parquet) or streamed in batches
(XLSX). Pseudonymised columns come from DuckDB functions backed by the redaction layer
(:class:`flows.privacy.redactor.Redactor`), computed once per distinct value.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

import duckdb
import pyarrow as pa

from flows.export.selection import ExportOptions, Selection
from flows.privacy.spreadsheet import neutralise_sql
from flows.store.db import sql_text

# Column -> meaning, for the data dictionary (code columns are described from the codebook).
COLUMNS = {
    "post_id": "Post id on its platform (tweet id as text, or the Bluesky at:// URI); in pseudonymised "
               "exports its keyed pseudonym (post_...), which only the study secret maps back "
               "(`ethnoflow reveal`).",
    "platform": "twitter or bluesky.",
    "created_at": "When the post was made, UTC (ISO 8601 in CSV and XLSX).",
    "author_id": "The author's account id (user id or DID; '@handle' when the data had no id).",
    "author_handle": "The author's handle (without '@') as the post's data gave it.",
    "author": "The author's pseudonym: keyed HMAC-SHA256 of the account id under the study "
              "secret; the same account has the same pseudonym in every export.",
    "author_role": "The author's role from `ethnoflow roles` (student, resident, faculty, "
                   "health_professional, organization, other); empty when roles were not assigned.",
    "kind": "original, reply, repost or quote.",
    "in_reply_to_post_id": "For a reply: the id of the post replied to (pseudonymised exports: its pseudonym).",
    "in_reply_to_author_id": "For a reply: the id of the account replied to.",
    "in_reply_to_author": "For a reply: the pseudonym of the account replied to.",
    "text": "The full post text (pseudonymised exports: every @mention and profile link "
            "replaced by the account's pseudonym).",
    "topic": "Topic of the current topic run (-1: outliers); empty when the post has none.",
    "topic_label": "That topic's label (pseudonymised exports: without words that name someone).",
    "coder": "Whose codes fill the code columns ('auto' is the machine decision, "
             "'consensus' the reconciled human codes); empty when that coder did not code the post.",
}


# Text columns whose values cannot start a formula: fixed vocabularies and checked coder names.
SAFE_TEXT = {"platform", "kind", "author_role", "coder"}
# Real column -> (pseudonymised column, the SQL function computing it).
PSEUDONYMISED = {
    "post_id": ("post_id", "ef_pseudo_post(platform, {})"),
    "in_reply_to_post_id": ("in_reply_to_post_id", "ef_pseudo_post(platform, {})"),
    "author_id": ("author", "ef_pseudo_author({})"),
    "in_reply_to_author_id": ("in_reply_to_author", "ef_pseudo_author({})"),
    "text": ("text", "ef_pseudo_text({})"),
    "topic_label": ("topic_label", "ef_pseudo_label(topic, {})"),
}


def sql_literal(value: str | None) -> str:
    """A value as an SQL literal (NULL for None)."""
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def code_column(codebook_id: str, code_id: str) -> str:
    """The column name of one code: ``<codebook>.<code>``."""
    return f"{codebook_id}.{code_id}"


MASK_BITS = 62  # codes per pair of BIGINT bit masks


def base_query(selection: Selection) -> str:
    """The dataset query with real ids and handles (the shape every format starts from)."""
    cb = selection.codebook
    code_ids = [n.code.id for n in selection.codes]
    chunks = range((len(code_ids) + MASK_BITS - 1) // MASK_BITS)
    aggregates = "".join(  # (a FILTER per chunk only when one mask is not enough: it costs)
        f",\n           bit_or(1::BIGINT << ((i - 1) % {MASK_BITS})){_chunk(k, chunks)} AS seen{k}"
        f",\n           bit_or(value::BIGINT << ((i - 1) % {MASK_BITS})){_chunk(k, chunks)} AS vals{k}"
        for k in chunks)
    columns = "".join(
        f",\n           CASE WHEN c.seen{i // MASK_BITS} >> {i % MASK_BITS} & 1 = 1 "
        f"THEN (c.vals{i // MASK_BITS} >> {i % MASK_BITS} & 1)::TINYINT END AS \"{code_column(cb.id, code)}\""
        for i, code in enumerate(code_ids))
    coder = selection.coders[0] if selection.coders else None
    return sql_text("export/dataset.sql").format(
        content_hash=sql_literal(selection.content_hash if cb else None), coder=sql_literal(coder),
        run_id=sql_literal(selection.run_id), code_aggregates=aggregates, code_columns=columns,
        code_ids="[" + ", ".join(sql_literal(c) for c in code_ids) + "]::VARCHAR[]")


def _chunk(k: int, chunks: range) -> str:
    return f" FILTER (WHERE (i - 1) // {MASK_BITS} = {k})" if len(chunks) > 1 else ""


def dataset_query(con: duckdb.DuckDBPyConnection, selection: Selection, options: ExportOptions,
                  *, spreadsheet: bool, redactor=None) -> str:
    """The query a tabular export writes: pseudonymised, without text, neutralised, as asked.

    Args:
        spreadsheet: CSV or XLSX: times as ISO 8601 text and text cells neutralised against
            formula injection (:func:`flows.privacy.spreadsheet.neutralise_sql`).
        redactor: required when ``options.pseudonymize``; registers its SQL functions.
    """
    base = base_query(selection)
    types = dict(describe(con, base))
    exprs: list[tuple[str, str]] = []
    for name, dtype in types.items():
        expr, out = f'"{name}"', name
        if options.pseudonymize:
            if name == "author_handle":
                continue  # one pseudonym per person: `author` stands for id and handle
            if name in PSEUDONYMISED:
                out, fn = PSEUDONYMISED[name]
                expr = fn.format(expr)
        if name == "text" and options.no_text:
            continue
        if spreadsheet and name == "created_at":
            expr = f"strftime({expr}, '%Y-%m-%dT%H:%M:%SZ')"
        elif spreadsheet and dtype == "VARCHAR" and name not in SAFE_TEXT:
            expr = neutralise_sql(expr)
        exprs.append((out, expr))
    if options.pseudonymize:
        register_pseudonyms(con, redactor, labels=topic_labels(con, selection, redactor))
    select = ",\n       ".join(f'{expr} AS "{name}"' for name, expr in exprs)
    return f"SELECT {select}\nFROM ({base}\n)"


def _arrow_function(fn, arity: int = 1):
    """A vectorised DuckDB function over VARCHARs, calling ``fn`` once per distinct value (DuckDB
    reads the number of arguments from the signature, so there is one wrapper per arity)."""
    cached = lru_cache(maxsize=1 << 16)(fn)

    def one(values: pa.Array) -> pa.Array:
        return pa.array([None if v is None else cached(v) for v in values.to_pylist()], type=pa.string())

    def two(first: pa.Array, values: pa.Array) -> pa.Array:
        return pa.array([None if v is None else cached(f, v) for f, v in zip(first.to_pylist(), values.to_pylist())],
                        type=pa.string())

    return one if arity == 1 else two


def topic_labels(con: duckdb.DuckDBPyConnection, selection: Selection, redactor) -> dict[int, str]:
    """Topic -> label of the export's topic run, without words that name someone."""
    if selection.run_id is None:
        return {}
    return {topic: redactor.topic_label(topic, label, list(keywords or []))
            for topic, label, keywords in con.execute("SELECT topic, label, keywords FROM topics WHERE run_id = ? "
                                                      "ORDER BY topic", [selection.run_id]).fetchall()}


def register_pseudonyms(con: duckdb.DuckDBPyConnection, redactor, *, labels: dict[int, str] | None = None) -> None:
    """Define ``ef_pseudo_author``, ``ef_pseudo_text``, ``ef_pseudo_post`` and ``ef_pseudo_label`` on ``con``."""
    if redactor is None or not redactor.on:
        raise ValueError("pseudonymising needs a Redactor that is on")
    labels = labels or {}
    functions = {
        "ef_pseudo_author": (redactor.author, ["VARCHAR"]),
        "ef_pseudo_text": (redactor.text, ["VARCHAR"]),
        "ef_pseudo_post": (redactor.post, ["VARCHAR", "VARCHAR"]),
        "ef_pseudo_label": (lambda topic, label: labels.get(int(topic), label), ["BIGINT", "VARCHAR"]),
    }
    for name, (fn, args) in functions.items():
        with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
            con.remove_function(name)
        con.create_function(name, _arrow_function(fn, len(args)), args, "VARCHAR", type="arrow",
                            side_effects=False)


def describe(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a query, in order."""
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM ({query}\n)").fetchall()]
