"""Ingest: take every corpus file researchers hold, losslessly, into the store.

`ingest()` checks every file before writing anything (a file that cannot be a corpus
stops the command with the database untouched), then stores each new file's raw
records and canonical rows in one transaction. Every record read ends up stored,
counted as a duplicate, or in `rejects` with its reason.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from flows.ingest.detect import sniff
from flows.ingest.formats import FORMATS, NotACorpus, Sniff
from flows.ingest.normalize import PARSER_VERSION, BatchCounts, Normalizer, Parse, honour_withdrawals
from flows.ingest.readers import archive_json, archive_kind, batches, file_sha256, utf8_copy, wide_encoding
from flows.store.db import transaction

__all__ = ["FORMATS", "FileReport", "NotACorpus", "ingest", "expand_paths"]
# Archive files whose items are {"tweet": {...}} posts of the account.
ARCHIVE_POST_KINDS = {"tweets", "tweet", "community_tweet"}
# Why the other post-like archive files are not ingested as posts.
ARCHIVE_REFUSALS = {
    "deleted_tweets": "tweets the account holder deleted: not ingested (their deletion is respected)",
    "deleted_tweet": "tweets the account holder deleted: not ingested (their deletion is respected)",
    "note_tweet": "note tweets: their full text already comes with the matching posts of tweets.js",
}


@dataclass
class FileReport:
    """The outcome for one file: read = ingested + duplicates + rejected + withdrawn."""

    path: str
    sha256: str
    format: str
    read: int = 0
    ingested: int = 0
    duplicates: int = 0
    rejected: int = 0
    withdrawn: int = 0  # posts of a withdrawn account, removed again as they came in
    skipped: bool = False  # already ingested (same sha256), or not a corpus: nothing changed
    refused: str | None = None  # why the file was left out (only with ``skip_refused``)
    refused_before: bool = False  # refused by an earlier run, and unchanged since
    supersedes: str | None = None  # sha256 of the shorter, earlier version of this file it replaced
    other_facets: int = 0  # Bluesky facet features kept as written in `other_facets`, not read as entities
    parse: Parse | None = field(default=None, repr=False)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the files inside folders named (recursively, sorted, hidden ones skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file()
                              and not any(part.startswith(".") for part in f.relative_to(p).parts)))
        elif p.exists():
            out.append(p)
        else:
            raise NotACorpus(f"{p}: no such file or folder")
    return out


def ingest(con: duckdb.DuckDBPyConnection, paths: Iterable[str | Path], *, fmt: str = "auto",
           mapping: Path | None = None, progress: Callable[[str, int, int], None] | None = None,
           skip_refused: bool = False) -> list[FileReport]:
    """Ingest files (or folders of files) into the store.

    A file that grew since it was ingested (a partial copy completed later: the old bytes are a
    prefix of the new) supersedes its old version: the posts it brought stay, the new version's
    provenance replaces the old, and the old version's rejects (its cut-off last line) go.

    Args:
        con: a writable connection.
        paths: files or folders.
        fmt: "auto" or one of FORMATS, applied to every file.
        mapping: a column mapping (YAML) for generic CSV files.
        progress: called as progress(file name, bytes done, bytes total).
        skip_refused: leave out (and report, with ``refused``) files that cannot be a corpus
            instead of refusing the whole call: an inbox with one bad file still ingests the rest.
            Such a file is recorded in `skipped_files`, so it is not looked at again until it changes.

    Returns:
        One report per file, in the order given.

    Raises:
        NotACorpus: some file cannot be a corpus (and not ``skip_refused``); nothing was written.
    """
    if fmt != "auto" and fmt not in FORMATS:
        raise NotACorpus(f"unknown --format {fmt!r}; use auto or one of {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="ethnoflow-") as copies:
        return _ingest(con, expand_paths(paths), fmt, mapping, progress, skip_refused, Path(copies))


def _plans(con, files: list[Path], fmt: str, mapping, skip_refused: bool, copies: Path):
    """(file, the file to read, how, sha256) for every new file; known and refused files as reports."""
    known = _known(con)
    plans, others = [], []
    for p in files:
        sha = file_sha256(p)
        if sha in known:
            state, what = known[sha]
            others.append(FileReport(str(p), sha, what if state == "done" else "refused", skipped=True,
                                     refused=what if state == "refused" else None, refused_before=state == "refused"))
            continue
        try:
            encoding = wide_encoding(p)
            read = utf8_copy(p, encoding, copies) if encoding else p
            plans.append((p, read, sniff(read, fmt, mapping), sha))
        except NotACorpus as exc:
            if not skip_refused:
                raise
            others.append(FileReport(str(p), sha, "refused", skipped=True, refused=str(exc)))
    return plans, others


def _known(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """Files seen before, by sha256: ("done", format label) or ("refused", why it is not a corpus)."""
    known = {sha: ("done", label) for sha, label in con.execute(
        "SELECT sha256, CASE WHEN format = 'csv' THEN 'csv:' || preset ELSE format END FROM sources").fetchall()}
    known |= {sha: ("refused", reason) for sha, reason in con.execute(
        "SELECT sha256, reason FROM skipped_files").fetchall() if sha not in known}
    return known


def _ingest(con, files: list[Path], fmt: str, mapping, progress, skip_refused: bool, copies: Path) -> list[FileReport]:
    plans, others = _plans(con, files, fmt, mapping, skip_refused, copies)
    normalizer = Normalizer(con)
    try:
        normalizer.discard()  # whatever a killed run left behind
        reports = _parse_all(normalizer, plans, progress, skip_refused) + others
        normalizer.finish()  # before the transaction: it must see the raw records the workers stored
        new = [r for r in reports if not r.skipped]
        with transaction(con):
            for report in new:
                report.supersedes = _supersede(con, report)
            counts = normalizer.merge([r.sha256 for r in new])
            kept = _kept(con, new)
            honour_withdrawals(con)  # accounts withdrawn from the study never come back
            after = _kept(con, new) if kept else kept
            for report in new:
                _record_source(con, report, counts[report.sha256],
                               kept.get(report.sha256, 0) - after.get(report.sha256, 0))
            _record_refusals(con, [r for r in reports if r.refused and not r.refused_before])
    finally:
        normalizer.discard()
        normalizer.close()
    return reports


def _parse_all(normalizer: Normalizer, plans, progress, skip_refused: bool = False) -> list[FileReport]:
    """Phase one: parse every new file into the staging tables (nothing visible yet)."""
    done: set[str] = set()
    reports = []
    for path, read, how, sha in plans:
        if sha in done:  # the same bytes twice in one call
            reports.append(FileReport(str(path), sha, "duplicate file", skipped=True))
            continue
        try:
            parse = parse_for(path, how)
            normalizer.parse(sha, parse, _records(read, how, _ticker(path, progress)))
        except NotACorpus as exc:
            if not skip_refused:
                raise
            reports.append(FileReport(str(path), sha, "refused", skipped=True, refused=str(exc)))
            continue
        done.add(sha)
        reports.append(FileReport(str(path), sha, _format_label(parse), parse=parse))
    return reports


def _ticker(path: Path, progress):
    total, seen = path.stat().st_size, 0

    def tick(n: int) -> None:
        nonlocal seen
        seen += n
        if progress:
            progress(path.name, seen, total)

    return tick


def _supersede(con: duckdb.DuckDBPyConnection, report: FileReport) -> str | None:
    """Replace an earlier, shorter version of this file (same name, its bytes a prefix of these).

    The posts and authors the old version brought now come from the new one (they are the same
    records at the same record numbers); its raw records, its rejects (the cut-off last line of
    a partial copy) and its `sources` row go. Returns the old version's sha256, or None.
    """
    path = Path(report.path)
    size = path.stat().st_size
    for old, old_size in con.execute("SELECT sha256, size_bytes FROM sources WHERE name = ? AND size_bytes < ? "
                                     "ORDER BY size_bytes DESC, sha256", [path.name, size]).fetchall():
        if old_size and file_sha256(path, limit=old_size) == old:
            for sql in ("UPDATE posts SET source_sha256 = $new WHERE source_sha256 = $old",
                        "UPDATE authors SET source_sha256 = $new WHERE source_sha256 = $old",
                        "DELETE FROM rejects WHERE source_sha256 = $old",
                        "DELETE FROM raw_records WHERE source_sha256 = $old",
                        "DELETE FROM sources WHERE sha256 = $old"):
                con.execute(sql, {"new": report.sha256, "old": old} if "$new" in sql else {"old": old})
            return old
    return None


def _record_refusals(con: duckdb.DuckDBPyConnection, reports: list[FileReport]) -> None:
    """Files that are not corpora, so they are not looked at again until their bytes change."""
    for r in reports:
        con.execute("INSERT INTO skipped_files VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [r.sha256, r.path, Path(r.path).name, r.refused])


def _kept(con, reports: list[FileReport]) -> dict[str, int]:
    """Posts per new file in the store (only counted when the study has withdrawn anyone)."""
    if not reports or not con.execute("SELECT count(*) FROM withdrawal_blocklist").fetchone()[0]:
        return {}
    return dict(con.execute("SELECT source_sha256, count(*) FROM posts WHERE list_contains(?, source_sha256) "
                            "GROUP BY ALL", [[r.sha256 for r in reports]]).fetchall())


def _record_source(con, report: FileReport, counts: BatchCounts, withdrawn: int = 0) -> None:
    report.read = counts.posts + counts.rejected
    withdrawn = min(withdrawn, counts.new)
    report.ingested, report.duplicates = counts.new - withdrawn, counts.posts - counts.new
    report.rejected = counts.rejected
    report.withdrawn = withdrawn
    report.other_facets = counts.other_facets
    path, parse = Path(report.path), report.parse
    con.execute("INSERT INTO sources BY NAME SELECT ? AS sha256, ? AS path, ? AS name, ? AS size_bytes, "
                "? AS format, ? AS preset, ? AS context, ? AS parser_version, ? AS records_read, "
                "? AS ingested, ? AS duplicates, ? AS rejected, ? AS withdrawn, ? AS supersedes",
                [report.sha256, report.path, path.name, path.stat().st_size, parse.format, parse.preset,
                 parse.context, PARSER_VERSION, report.read, report.ingested, report.duplicates,
                 report.rejected, report.withdrawn, report.supersedes])


def parse_for(path: Path, how: Sniff) -> Parse:
    """What re-parsing this source will need: the preset, a custom mapping's text, the archive's account."""
    if how.format == "csv" and how.preset and how.preset.startswith("file:"):
        text = Path(how.preset[5:]).read_text(encoding="utf-8")
        from flows.ingest.tables import mapping_from_text

        name = mapping_from_text(text).name
        return Parse("csv", f"custom:{name}", json.dumps({"mapping": text}))
    if how.format == "archive":
        account = _archive_account(path)
        return Parse("archive", None, json.dumps({"archive_account": account}) if account else None)
    return Parse(how.format, how.preset)


def _records(path: Path, how: Sniff, tick):
    """Batches of records; whole-file refusals (empty file, non-post archive) as one record."""
    if how.format == "empty":
        yield [(0, "", "empty file: no records")]
        return
    if how.format == "archive":
        kind = archive_kind(path.read_text(encoding="utf-8-sig")[:200])
        if kind not in ARCHIVE_POST_KINDS:
            text = path.read_text(encoding="utf-8-sig")
            tick(len(text.encode("utf-8")))
            yield [(1, text, ARCHIVE_REFUSALS.get(kind, f"X archive '{kind}' data, not posts"))]
            return
    yield from batches(path, how, tick)


def _archive_account(path: Path) -> str | None:
    """The `account` object of the archive's account.js beside tweets.js: archive tweets
    do not name their author."""
    account = path.with_name("account.js")
    if not account.exists():
        return None
    try:
        data = json.loads(archive_json(account.read_text(encoding="utf-8-sig")))
        return data[0]["account"]
    except (ValueError, LookupError, TypeError) as exc:
        raise NotACorpus(f"{account}: cannot read the archive's account ({exc}); it names the author of "
                         f"{path.name}: restore it from the archive, or move {path.name} away from it") from exc


def _format_label(parse: Parse) -> str:
    return f"csv:{parse.preset}" if parse.format == "csv" else parse.format

