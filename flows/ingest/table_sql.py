"""Compile a column mapping into the SQL that normalises one batch of table rows.

Rows arrive in `raw_batch` as JSON objects (a CSV row is stored as {header: cell}), so
one compiled statement serves CSV files and JSON lists of flat records alike.
"""

from __future__ import annotations

from flows.ingest.tables import Column, EntityColumn, Mapping

NEWLINE = "chr(10)"
KIND_FLAGS = ("is_repost", "is_reply", "is_quote")  # yes/no columns that say a post's kind when no id does
PARSERS = {
    "text": "{c}",
    "int": "TRY_CAST(TRY_CAST({c} AS DOUBLE) AS BIGINT)",
    "bool": "CASE WHEN lower({c}) IN ('true', '1', 'yes', 't') THEN true "
            "WHEN lower({c}) IN ('false', '0', 'no', 'f') THEN false END",
    "iso": "TRY_CAST({c} AS TIMESTAMPTZ)",
    "epoch": "to_timestamp(TRY_CAST({c} AS DOUBLE))",
    # Tweet ids since 2010 are snowflakes: milliseconds since Twitter's epoch in the top bits.
    "snowflake": "make_timestamp(((TRY_CAST({c} AS HUGEINT) >> 22) + 1288834974657)::BIGINT * 1000)::TIMESTAMPTZ",
    "v1date": "TRY_STRPTIME({c}, '%a %b %d %H:%M:%S %z %Y')",
    "strptime": "TRY_STRPTIME({c}, {fmt})::TIMESTAMPTZ",
    # 4CAT and other exports say what a post is in yes/no, true/false columns
    "flag": "coalesce(lower({c}) IN ('yes', 'true', '1', 't', 'y'), false)",
}
# Entities for columns a mapping does not name are read from the text itself.
TEXT_PATTERNS = {
    "hashtag": r"(?:^|[^\w&/])[#＃](\w*[^\W\d_]\w*)",
    "mention": r"(?:^|[^\w@])@(\w{1,15})\b",
    "url": r"(https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'])",
    "cashtag": r"(?:^|\s)\$([A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?)\b",
}


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def cell(column: str) -> str:
    """The trimmed text of a column, NULL when blank. A column written as a JSON path (``$.user.id``)
    reads inside nested records (JSON lines such as snscrape's)."""
    if column.startswith("$."):
        if "'" in column:
            raise ValueError(f"JSON paths with single quotes are not supported: {column!r}")
        return f"nullif(trim(json_extract_string(r, {quote(column)})), '')"
    if '"' in column:
        raise ValueError(f"column names with double quotes are not supported: {column!r}")
    path = quote('$."' + column + '"')
    return f"nullif(trim(json_extract_string(r, {path})), '')"


def expr(spec: str | Column | None) -> str:
    """The SQL for one mapped field."""
    if spec is None:
        return "NULL"
    spec = Column(column=spec) if isinstance(spec, str) else spec
    c = cell(spec.column)
    if spec.newlines == "escaped":
        c = f"replace({c}, '\\n', {NEWLINE})"
    return PARSERS[spec.parse].format(c=c, fmt=quote(spec.format or ""))


def entity_list(spec: str | EntityColumn) -> str:
    """SQL for a list of entity values from a joined or JSON-list column."""
    spec = EntityColumn(column=spec) if isinstance(spec, str) else spec
    c = cell(spec.column)
    path = f"'$[*].{spec.key}'" if spec.key else "'$[*]'"
    if spec.path:
        items = f"CASE WHEN json_valid({c}) THEN json_extract_string({c}, {quote(spec.path)}) END"
    else:
        items = (f"CASE WHEN json_valid({c}) AND json_type({c}) = 'ARRAY' "
                 f"THEN json_extract_string({c}, {path}) ELSE string_split({c}, {quote(spec.sep)}) END")
    stripped = f"list_transform({items}, lambda v: ltrim(trim(v), {quote(spec.strip)}))" if spec.strip \
        else f"list_transform({items}, lambda v: trim(v))"
    return f"list_filter({stripped}, lambda v: v IS NOT NULL AND v <> '')"


def compile_mapping(m: Mapping) -> str:
    """All statements that normalise `raw_batch` under mapping `m`."""
    rows = _rows_sql(m)
    if m.not_posts:
        return rows + _rejects_sql(quote(m.not_posts), "true")
    return "\n".join([rows, _posts_sql(m), _authors_sql(m), _entities_sql(m),
                      _rejects_sql(f"'no post id in column ' || {quote(_column(m.fields['post_id']))}",
                                   "post_id IS NULL")])


def _column(spec: str | Column) -> str:
    return spec if isinstance(spec, str) else spec.column


def _rows_sql(m: Mapping) -> str:
    # With a root, the row is the object under it laid over the outer record, so columns
    # of either (Elasticsearch's `_id` and `_source.text`) can be mapped.
    root = (f"json_merge_patch(payload, coalesce(json_extract(payload, {quote('$.' + m.root)}), '{{}}'))"
            if m.root else "payload::JSON")
    cols = "" if m.not_posts else f", {expr(m.fields['post_id'])} AS post_id"
    return (
        "CREATE OR REPLACE TEMP TABLE tbl_rows AS\n"
        f"SELECT source_sha256, record_no, payload, r{cols}\n"
        f"FROM (SELECT *, CASE WHEN json_valid(payload) AND json_type(payload) = 'OBJECT' THEN {root} END AS r\n"
        "      FROM raw_batch);\n"
        "INSERT INTO stg_rejects BY NAME SELECT source_sha256, record_no, 0 AS item_no,\n"
        "    'malformed row (unbalanced quotes or a broken line)' AS reason, payload AS raw\n"
        "FROM tbl_rows WHERE r IS NULL;\n"
    )


def _text_expr(m: Mapping) -> str:
    text = expr(m.fields.get("text"))
    if m.platform == "twitter":
        text = f"html_unescape({text})"
    if m.repost_handle:
        handle = cell(m.repost_handle)
        rt = expr(m.fields.get("reposted_post_id"))
        text = f"CASE WHEN {rt} IS NOT NULL AND {handle} IS NOT NULL AND NOT starts_with({text}, 'RT @') " \
               f"THEN 'RT @' || {handle} || ': ' || {text} ELSE {text} END"
    return text


def _posts_sql(m: Mapping) -> str:
    f = {name: expr(m.fields.get(name)) for name in (
        "author_id", "author_handle", "created_at", "lang", "in_reply_to_post_id", "in_reply_to_author_id",
        "quoted_post_id", "reposted_post_id", "conversation_id", "like_count", "repost_count",
        "reply_count", "quote_count", "impression_count", "source", "withheld", "retrieved_at")}
    author = f"coalesce({f['author_id']}, '@' || lower({f['author_handle']}))"
    flags = {name: expr(m.fields[name]) if name in m.fields else "false" for name in KIND_FLAGS}
    date = m.fields.get("created_at")
    raw_date = cell(_column(date)) if date else "NULL"
    return f"""
CREATE OR REPLACE TEMP TABLE tbl_posts AS
SELECT *, {_text_expr(m)} AS text, {author} AS author_id, {f['reposted_post_id']} AS reposted_post_id,
    {f['in_reply_to_post_id']} AS in_reply_to_post_id, {f['quoted_post_id']} AS quoted_post_id
FROM tbl_rows WHERE r IS NOT NULL AND post_id IS NOT NULL;
INSERT INTO stg_posts BY NAME
SELECT {quote(m.platform)} AS platform, post_id, author_id, {f['author_handle']} AS author_handle,
    {f['created_at']}::TIMESTAMPTZ AS created_at, {raw_date} AS created_at_raw, text, {f['lang']} AS lang,
    CASE WHEN reposted_post_id IS NOT NULL OR regexp_matches(coalesce(text, ''), '^RT @\\w+: ') OR {flags['is_repost']}
         THEN 'repost'
         WHEN in_reply_to_post_id IS NOT NULL OR {flags['is_reply']} THEN 'reply'
         WHEN quoted_post_id IS NOT NULL OR {flags['is_quote']} THEN 'quote' ELSE 'original' END AS kind,
    in_reply_to_post_id, {f['in_reply_to_author_id']} AS in_reply_to_author_id, quoted_post_id, reposted_post_id,
    {f['conversation_id']} AS conversation_id, {f['like_count']} AS like_count,
    {f['repost_count']} AS repost_count, {f['reply_count']} AS reply_count, {f['quote_count']} AS quote_count,
    {f['impression_count']} AS impression_count, {f['source']} AS source, {f['withheld']} AS withheld,
    TRY_CAST({f['retrieved_at']} AS TIMESTAMPTZ) AS retrieved_at, source_sha256, record_no, 0 AS item_no,
    getvariable('parser_version') AS parser_version
FROM tbl_posts;
"""


def _authors_sql(m: Mapping) -> str:
    a = {name: expr(spec) for name, spec in m.author.items()}
    cols = ", ".join(f"{sql}{'::TIMESTAMPTZ' if name == 'created_at' else ''} AS {name}" for name, sql in a.items())
    return f"""
INSERT INTO stg_authors BY NAME
SELECT platform, author_id, author_handle AS handle{', ' + cols if cols else ''},
    retrieved_at, source_sha256, record_no
FROM (SELECT p.*, t.r FROM stg_posts p JOIN tbl_posts t USING (source_sha256, record_no))
WHERE author_id IS NOT NULL;
"""


def _entities_sql(m: Mapping) -> str:
    parts = []
    for kind in ("hashtag", "mention", "url", "cashtag"):
        spec = m.entities.get(kind)
        values = entity_list(spec) if spec else f"regexp_extract_all(text, {quote(TEXT_PATTERNS[kind])}, 1)"
        parts.append(f"SELECT *, {quote(kind)} AS kind, unnest({values}) AS v FROM tbl_posts")
    if m.repost_handle:
        parts.append(f"SELECT *, 'mention' AS kind, {cell(m.repost_handle)} AS v FROM tbl_posts "
                     f"WHERE reposted_post_id IS NOT NULL AND {cell(m.repost_handle)} IS NOT NULL")
    union = "\n    UNION ALL BY NAME ".join(parts)
    return f"""
INSERT INTO stg_entities BY NAME
SELECT {quote(m.platform)} AS platform, post_id, kind, v AS value,
    CASE WHEN kind = 'url' THEN v ELSE lower(v) END AS normalized,
    -- Tables carry no offsets: point at the first occurrence of "#tag"/"@name"/"$TAG" in the text.
    nullif(strpos(lower(text), sigil || lower(v)), 0) - 1 AS start_pos,
    start_pos + length(sigil || v) AS end_pos, source_sha256, record_no, 0 AS item_no
FROM (SELECT *, CASE kind WHEN 'hashtag' THEN '#' WHEN 'mention' THEN '@' WHEN 'cashtag' THEN '$' END AS sigil
      FROM ({union}))
WHERE v IS NOT NULL AND v <> '';
"""


def _rejects_sql(reason: str, where: str) -> str:
    return f"""
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, 0 AS item_no, {reason} AS reason, payload AS raw
FROM tbl_rows WHERE r IS NOT NULL AND ({where});
"""
