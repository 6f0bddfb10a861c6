"""Withdrawal: remove everything of one account from the store, and keep it out afterwards.

``forget(con, "DrMaya")`` (a handle, with or without '@', or an account id / DID):

1. **Finds the account** under every id and handle the store knows it by, and its posts,
   plus other people's posts that carry its words: reposts of them, manual retweets
   (``RT @handle: ...``) and posts that open with the same words as one of its posts.
2. **Sweeps every table** — discovered from the catalogue, not from a list, so a table added
   by a later migration is covered: a row is deleted when a NOT NULL id column (``id`` or
   ``*_id``) holds the account's id or one of its post ids (also inside a composite id such
   as a chat id), or a NOT NULL handle column holds its handle; a nullable such column is set
   to NULL instead (another person's reply keeps its text but no longer points at the
   account); an @mention entity of the account is deleted. Embeddings of the account's texts
   are deleted unless another row still uses the same text.
3. **Masks** the account's handle, id and post ids wherever they remain in text (other
   people's posts that @mention it, bios, topic labels, file names, JSON evidence), with
   ``•`` characters of the same length so entity offsets stay right.
4. **Redacts raw records** (:mod:`flows.privacy.redact`): the account's objects are cut out
   of the stored API pages and other people's objects are kept; a record left with nothing
   is dropped. Re-parsing the store afterwards cannot bring the account back.
5. **Blocklists** the account (keyed hashes of its ids and handles) and **audits** the
   removal: keyed hash of the account, time, reason (masked), row counts per table — never a
   handle, id or content. ``--dry-run`` does all of it in a transaction and rolls it back.

Later ingests call :func:`honour_blocklist`, which removes a blocked account again when it
comes back. A handle on the blocklist is honoured only for posts whose author has no id (a
handle can pass to someone else; an id cannot). Files written before the withdrawal (exports,
reports, network files, saved topic models, the original corpus files) are outside the store:
the report lists the outputs ethnoflow wrote that still exist (:mod:`flows.privacy.outputs`),
for the researcher to delete or write again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from flows.errors import UserError
from flows.privacy.pseudonym import keyed_hash, remember_key, secret_for
from flows.privacy.redact import Target, distinctive, redact_payload
from flows.store.db import sql_text

SKIP_TABLES = {"_migrations", "withdrawal_blocklist", "withdrawal_audit", "study_key", "post_deletions"}
RAW_COLUMNS = {"payload", "raw"}  # whole records as collected: redacted, not just masked
TEXT_TYPES = ("VARCHAR", "VARCHAR[]", "JSON")
MASK_FUNCTION = "ef_forget_mask"


class ForgetError(UserError):
    """A withdrawal that cannot be done, explained with the fix."""


@dataclass(frozen=True)
class Account:
    """One account on one platform: its id (None when only a handle is known) and handles."""

    platform: str
    author_id: str | None
    handles: tuple[str, ...]

    def keys(self) -> list[tuple[str, str]]:
        """(kind, key) pairs the blocklist stores, hashed."""
        out = [("account", f"account:{self.platform}:{self.author_id}")] if self.author_id else []
        return out + [("handle", f"handle:{self.platform}:{h}") for h in self.handles]


@dataclass
class ForgetReport:
    """What a withdrawal removed (or, with ``dry_run``, would remove)."""

    account_hash: str
    accounts: int
    posts: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    dry_run: bool = False
    earlier_outputs: list[dict] = field(default_factory=list)  # files written before, that still exist
    scrubbed_models: list[str] = field(default_factory=list)  # saved topic models the account was masked in

    def as_dict(self) -> dict:
        return {"account_hash": self.account_hash, "accounts": self.accounts, "posts": self.posts,
                "counts": self.counts, "dry_run": self.dry_run, "earlier_outputs": self.earlier_outputs,
                "scrubbed_models": self.scrubbed_models}


def _norm(who: str) -> str:
    return who.strip().lstrip("@＠").lower()


def find_accounts(con: duckdb.DuckDBPyConnection, who: str) -> list[Account]:
    """Every account the store knows by the id or handle ``who``, with all its handles."""
    rows = con.execute("""
        WITH names AS (
            SELECT platform, author_id, lower(author_handle) AS handle FROM posts
            UNION SELECT platform, author_id, lower(handle) FROM authors
            UNION SELECT platform, target_id, lower(value) FROM entities WHERE kind = 'mention'
            UNION SELECT platform, author_id, lower(handle) FROM author_roles
        ), hit AS (
            SELECT DISTINCT platform, author_id FROM names
            WHERE author_id = $who OR handle = $h OR author_id = '@' || $h
        )
        SELECT n.platform, n.author_id, list(DISTINCT n.handle ORDER BY n.handle) FILTER (WHERE n.handle IS NOT NULL)
        FROM names AS n JOIN hit AS h ON h.platform = n.platform
            AND (n.author_id = h.author_id OR (h.author_id IS NULL AND n.author_id IS NULL))
        WHERE n.author_id IS NOT NULL OR n.handle = $h
        GROUP BY ALL ORDER BY ALL""", {"who": who.strip(), "h": _norm(who)}).fetchall()
    accounts = [Account(p, i, tuple(hs or ())) for p, i, hs in rows]
    return accounts or _unseen(who)


def _unseen(who: str) -> list[Account]:
    """An account the store does not hold yet: blocklisted so later ingests drop it."""
    who = who.strip()
    if who.startswith("did:"):
        return [Account("bluesky", who, ())]
    if who.isdigit():
        return [Account("twitter", who, ())]
    return [Account(p, None, (_norm(who),)) for p in ("bluesky", "twitter")]


def account_hash(secret: bytes, accounts: list[Account]) -> str:
    """The keyed hash naming one withdrawal in the audit (never the handle or id itself)."""
    return keyed_hash(secret, ";".join(sorted(k for a in accounts for _, k in a.keys()[:1])))


def _target(con: duckdb.DuckDBPyConnection, accounts: list[Account]) -> Target:
    """The account's ids, handles and posts: its own, other people's reposts of them, and other
    people's posts that carry its words (``flows/privacy/sql/forget_posts.sql``)."""
    ids = {a.author_id for a in accounts if a.author_id}
    handles = {h for a in accounts for h in a.handles}
    ids |= {"@" + h for h in handles}
    keys = pa.table({"platform": [a.platform for a in accounts for _ in (a.handles or (None,))],
                     "author_id": [a.author_id for a in accounts for _ in (a.handles or (None,))],
                     "handle": [h for a in accounts for h in (a.handles or (None,))]})
    con.register("_forget_keys", keys)
    con.execute(sql_text("privacy/forget_posts.sql"))
    con.unregister("_forget_keys")
    posts = {r[0] for r in con.execute("SELECT post_id FROM _forget_posts").fetchall()}
    written = {r[0] for r in con.execute("""
        SELECT author_handle FROM posts WHERE lower(author_handle) IN (SELECT unnest(?))
        UNION SELECT handle FROM authors WHERE lower(handle) IN (SELECT unnest(?))""",
        [sorted(handles), sorted(handles)]).fetchall()}  # as written: 'DrMaya' is distinctive, 'doctor' is not
    bare = {h for h in handles if distinctive(h) or any(distinctive(w) for w in written if w.lower() == h)}
    return Target(ids, handles, posts, bare)


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str, bool]]]:
    """Every base table of the store: its (column, type, nullable) list, from the catalogue."""
    rows = con.execute("""
        SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
        FROM duckdb_columns() AS c JOIN duckdb_tables() AS t
          ON t.database_name = c.database_name AND t.schema_name = c.schema_name AND t.table_name = c.table_name
        WHERE c.database_name = current_database() AND c.schema_name = 'main' AND NOT t.temporary
        ORDER BY c.table_name, c.column_index""").fetchall()
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    for table, column, dtype, nullable in rows:
        if table not in SKIP_TABLES:
            tables.setdefault(table, []).append((column, dtype, nullable))
    return tables


def _is_id(column: str) -> bool:
    return column == "id" or column.endswith("_id")


def _is_handle(column: str) -> bool:
    return "handle" in column or column in ("username", "screen_name")


def _hits(column: str) -> str:
    """SQL: the column holds one of the account's ids, post ids or handles."""
    c = f'"{column}"'
    if _is_handle(column):
        return f"lower({c}) IN (SELECT handle FROM _forget_handles)"
    return (f"({c} IN (SELECT value FROM _forget_values) OR ({c} LIKE '%:%' AND list_has_any("
            f"regexp_extract_all({c}, '[0-9]{{5,20}}|did:[a-z0-9]+:[A-Za-z0-9]+'), "
            f"(SELECT list(value) FROM _forget_values))))")


def _sweep_keys(con, table: str, columns: list[tuple[str, str, bool]]) -> dict[str, int]:
    """Delete the rows keyed by the account; null its ids in rows that only point at it."""
    names = {c for c, _, _ in columns}
    keyed = [(c, n) for c, t, n in columns if t == "VARCHAR" and (_is_id(c) or _is_handle(c))]
    counts = {"deleted": 0, "nulled": 0}
    required = [_hits(c) for c, nullable in keyed if not nullable]
    if {"kind", "value"} <= names:  # an @mention entity of the account is the account
        required.append("(kind = 'mention' AND lower(value) IN (SELECT handle FROM _forget_handles))")
    if required:
        counts["deleted"] = con.execute(f'DELETE FROM "{table}" WHERE {" OR ".join(required)}').fetchone()[0]
    for column, nullable in keyed:
        if nullable:
            counts["nulled"] += con.execute(
                f'UPDATE "{table}" SET "{column}" = NULL WHERE {_hits(column)}').fetchone()[0]
    return counts


def _prefilter(column: str, target: Target, dtype: str) -> str:
    c = {"VARCHAR": f'"{column}"', "JSON": f'"{column}"::VARCHAR'}.get(dtype, f"""array_to_string("{column}", ' ')""")
    terms = [f"{c} ILIKE {_lit('%' + h + '%')}" for h in sorted(target.handles)]
    terms += [f"contains({c}, {_lit(i)})" for i in sorted(target.ids) if not i.startswith("@")]
    return " OR ".join(terms) or "false"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sweep_text(con, table: str, columns: list[tuple[str, str, bool]], target: Target) -> dict[str, int]:
    """Mask the account wherever it is still written; redact raw records."""
    counts = {"masked": 0}
    for column, dtype, _ in columns:
        if dtype not in TEXT_TYPES:
            continue
        where = _prefilter(column, target, dtype)
        if (column in RAW_COLUMNS and dtype == "VARCHAR") or dtype == "JSON":
            for key, n in _redact_raw(con, table, column, where, target).items():
                counts[key] = counts.get(key, 0) + n
            continue
        value = f'{MASK_FUNCTION}("{column}")' if dtype == "VARCHAR" else \
            f'list_transform("{column}", lambda x: {MASK_FUNCTION}(x))'
        counts["masked"] += con.execute(f'UPDATE "{table}" SET "{column}" = {value} '
                                        f'WHERE ({where}) AND {value} IS DISTINCT FROM "{column}"').fetchone()[0]
    return counts


def _redact_raw(con, table: str, column: str, where: str, target: Target) -> dict[str, int]:
    """Redact whole records (raw payloads, JSON columns); drop those left with nothing."""
    rows = con.execute(f'SELECT rowid, "{column}"::VARCHAR FROM "{table}" WHERE {where}').fetchall()
    redacted = [(rowid, redact_payload(text, target)) for rowid, text in rows]
    drop = [rowid for rowid, text in redacted if text is None]
    keep = [(rowid, text) for rowid, text in redacted if text is not None]
    if drop:
        con.execute(f'DELETE FROM "{table}" WHERE rowid IN (SELECT unnest(?))', [drop])
    if keep:
        con.register("_forget_raw", pa.table({"rid": [r for r, _ in keep], "text": [t for _, t in keep]}))
        con.execute(f'UPDATE "{table}" SET "{column}" = n.text FROM _forget_raw AS n WHERE "{table}".rowid = n.rid')
        con.unregister("_forget_raw")
    return {"deleted": len(drop), "redacted": len(keep)}


def _embedding_texts(con, tables: dict, accounts: list[Account]) -> set[str]:
    """sha256 of every text of the account that may have been embedded (before it goes)."""
    from flows.embed.cache import post_docs

    owned = "(platform, post_id) IN (SELECT platform, post_id FROM _forget_posts)"
    shas = {r[0] for r in post_docs(con, owned).select("text_sha256").fetchall()}
    shas |= {r[0] for r in con.execute(f"SELECT sha256(coalesce(text, '')) FROM posts WHERE {owned}").fetchall()}
    for table, columns in tables.items():
        names = {c for c, _, _ in columns}
        if {"platform", "post_id", "text_sha256"} <= names:
            shas |= {r[0] for r in con.execute(f'SELECT text_sha256 FROM "{table}" WHERE {owned}').fetchall()}
    for a in accounts:
        for name, bio in con.execute("SELECT display_name, bio FROM authors WHERE platform = ? AND author_id = ?",
                                     [a.platform, a.author_id]).fetchall():
            texts = [" ".join(t for t in (name, bio) if t), name, bio]
            shas |= {r[0] for t in texts if t for r in con.execute("SELECT sha256(?)", [t]).fetchall()}
    return shas


def _drop_embeddings(con, tables: dict, shas: set[str]) -> dict[str, dict[str, int]]:
    """Delete cached vectors (tables keyed by text hash alone) of texts no remaining row uses."""
    users = [t for t, cols in tables.items() if "text_sha256" in {c for c, _, _ in cols}
             and "post_id" in {c for c, _, _ in cols}]
    caches = [t for t, cols in tables.items() if "text_sha256" in {c for c, _, _ in cols} and t not in users]
    still = " ".join(f'AND text_sha256 NOT IN (SELECT text_sha256 FROM "{t}")' for t in users)
    counts = {}
    for table in caches:
        n = con.execute(f'DELETE FROM "{table}" WHERE text_sha256 IN (SELECT unnest(?)) {still}',
                        [sorted(shas)]).fetchone()[0]
        counts[table] = {"deleted": n}
    return counts


def remove(con: duckdb.DuckDBPyConnection, accounts: list[Account],
           target: Target | None = None) -> tuple[int, dict[str, dict[str, int]]]:
    """Remove the accounts from every table (call inside a transaction); return posts and counts.

    ``target``: the accounts' :func:`_target`, when the caller computed it already.
    """
    target = target or _target(con, accounts)
    tables = _tables(con)
    shas = _embedding_texts(con, tables, accounts)
    con.execute("CREATE OR REPLACE TEMP TABLE _forget_values AS SELECT unnest(?::VARCHAR[]) AS value",
                [sorted(target.ids | target.posts)])
    con.execute("CREATE OR REPLACE TEMP TABLE _forget_handles AS SELECT unnest(?::VARCHAR[]) AS handle",
                [sorted(target.handles)])
    _register_mask(con, target)
    counts: dict[str, dict[str, int]] = {}
    try:
        for table, columns in tables.items():
            counts[table] = _sweep_keys(con, table, columns)
        for table, cached in _drop_embeddings(con, tables, shas).items():
            counts[table]["deleted"] += cached["deleted"]
        for table, columns in tables.items():
            for key, n in _sweep_text(con, table, columns, target).items():
                counts[table][key] = counts[table].get(key, 0) + n
    finally:
        con.remove_function(MASK_FUNCTION)
    return len(target.posts), {t: {k: n for k, n in c.items() if n} for t, c in sorted(counts.items())
                                if any(c.values())}


def _register_mask(con, target: Target) -> None:
    def mask(values: pa.Array) -> pa.Array:
        return pa.array([None if v is None else target.mask(v) for v in values.to_pylist()], type=pa.string())

    con.create_function(MASK_FUNCTION, mask, ["VARCHAR"], "VARCHAR", type="arrow", side_effects=False)


def _record(con, secret: bytes, accounts: list[Account], counts: dict, trigger: str, reason: str | None,
            target_mask) -> str:
    h = account_hash(secret, accounts)
    remember_key(con, secret)
    for a in accounts:
        for kind, key in a.keys():  # noqa: SIM118 (an Account, not a dict)
            con.execute("INSERT OR IGNORE INTO withdrawal_blocklist VALUES (?, ?, ?)",
                        [keyed_hash(secret, key), kind, h])
    con.execute("INSERT INTO withdrawal_audit VALUES (?, current_timestamp, ?, ?, ?)",
                [h, trigger, target_mask(reason) if reason else None, json.dumps(counts, sort_keys=True)])
    return h


def forget(con: duckdb.DuckDBPyConnection, who: str, *, reason: str | None = None,
           dry_run: bool = False, secret: bytes | None = None) -> ForgetReport:
    """Withdraw an account (a handle or an id) from the store; see the module docstring.

    Args:
        who: ``@handle``, ``handle``, a user id or a DID.
        reason: why (kept in the audit, with the account's handles and ids masked).
        dry_run: count what would go, change nothing.
        secret: the study secret (default: :func:`flows.privacy.pseudonym.secret_for`).
    """
    if not who or not _norm(who):
        raise ForgetError("name the account to forget: a handle (with or without @) or an id")
    secret = secret if secret is not None else secret_for(con)
    con.execute("BEGIN TRANSACTION")
    try:
        accounts = find_accounts(con, who)
        names = _display_names(con, accounts)  # read before they go: the reason may use them
        target = _target(con, accounts)
        posts, counts = remove(con, accounts, target)
        everywhere = Target({a.author_id for a in accounts if a.author_id},
                            {h for a in accounts for h in a.handles}, bare={h for a in accounts for h in a.handles})
        h = _record(con, secret, accounts, counts, "forget", reason,
                    lambda text: _mask_words(everywhere.mask(text), names))
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("ROLLBACK" if dry_run else "COMMIT")
    from flows.privacy.outputs import written
    from flows.privacy.saved_models import scrub_saved_models

    report = ForgetReport(h, len(accounts), posts, counts, dry_run, written(con))
    if not dry_run:  # saved topic models keep words: the account's handle may be one of them
        report.scrubbed_models = scrub_saved_models(con, target)
    return report


def _display_names(con, accounts: list[Account]) -> set[str]:
    """The words of the accounts' display names (``Maya Patel`` -> Maya, Patel)."""
    ids = [[a.platform, a.author_id] for a in accounts if a.author_id]
    rows = con.execute("SELECT display_name FROM authors WHERE display_name IS NOT NULL "
                       "AND list_contains(?, [platform, author_id])", [ids]).fetchall() if ids else []
    return {w for (name,) in rows for w in re.findall(r"\w+", name) if len(w) > 1}


def _mask_words(text: str, words: set[str]) -> str:
    """``text`` with each of ``words`` (whole words, any case) overwritten, length kept."""
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?i)(?<!\w){re.escape(word)}(?!\w)", lambda m: "•" * len(m.group()), text)
    return text


def honour_blocklist(con: duckdb.DuckDBPyConnection, secret: bytes | None = None) -> list[ForgetReport]:
    """Remove blocklisted accounts that an ingest brought back; call inside the ingest's transaction.

    Costs one query when the blocklist is empty (the study secret is not even read).
    """
    if not con.execute("SELECT count(*) FROM withdrawal_blocklist").fetchone()[0]:
        return []
    secret = secret if secret is not None else secret_for(con)
    remember_key(con, secret)  # a store whose withdrawals predate the study_key table
    blocked = {r[0] for r in con.execute("SELECT key_hash FROM withdrawal_blocklist").fetchall()}
    found: list[Account] = []
    for platform, author_id in con.execute("""
            SELECT platform, author_id FROM posts WHERE author_id IS NOT NULL AND author_id NOT LIKE '@%'
            UNION SELECT platform, author_id FROM authors
            UNION SELECT platform, target_id FROM entities WHERE target_id IS NOT NULL
            UNION SELECT platform, in_reply_to_author_id FROM posts WHERE in_reply_to_author_id IS NOT NULL
            ORDER BY ALL""").fetchall():
        if keyed_hash(secret, f"account:{platform}:{author_id}") in blocked:
            found += [a for a in find_accounts(con, author_id) if a.platform == platform]
    for platform, handle in con.execute("""
            SELECT DISTINCT platform, lower(author_handle) FROM posts
            WHERE (author_id IS NULL OR author_id LIKE '@%') AND author_handle IS NOT NULL ORDER BY ALL""").fetchall():
        if keyed_hash(secret, f"handle:{platform}:{handle}") in blocked:
            found.append(Account(platform, "@" + handle, (handle,)))
    reports = []
    for account in dict.fromkeys(found):
        posts, counts = remove(con, [account])
        h = _record(con, secret, [account], counts, "ingest", "blocklisted account came back with an ingest",
                    lambda text: text)
        reports.append(ForgetReport(h, 1, posts, counts))
    return reports


def audit(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every recorded withdrawal, oldest first (keyed hashes and counts only)."""
    rows = con.execute("SELECT account_hash, removed_at, trigger, reason, counts FROM withdrawal_audit "
                       "ORDER BY removed_at, account_hash").fetchall()
    return [{"account_hash": h, "removed_at": t.isoformat(), "trigger": tr, "reason": r,
             "counts": json.loads(c)} for h, t, tr, r, c in rows]


__all__ = ["Account", "ForgetError", "ForgetReport", "audit", "find_accounts", "forget",
           "honour_blocklist", "remove"]
