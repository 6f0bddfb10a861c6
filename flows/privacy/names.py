"""Every name the store knows people by, and which of them are also ordinary words of the corpus.

A pseudonymised output must not carry a handle, a display name or a user id even where the text
writes it without '@' (``thanks drmaybemaya!``, a topic keyword ``hemophiliafed``, a display
name quoted in another post). :func:`store_names` collects, for every account:

- its **handles** (profiles, posts, @mention entities, roles, superuser candidates);
- its **display names** of at least :data:`MIN_NAME` characters (shorter ones, such as "Ana",
  are too ambiguous to look for in prose);
- its **user id** when numeric and at least :data:`MIN_ID_DIGITS` digits long, and its DID.

A name written bare is replaced, except a one-word name that is also an ordinary word of the
corpus: the account ``@WHO`` must not turn every "who" into a pseudonym, nor ``@celiac`` every
"celiac". A one-word name counts as ordinary when posts of at least :data:`ORDINARY_ACCOUNTS`
other accounts use it outside @mentions, links and hashtags, and it is not *distinctive* as
written (a digit, '_', '.', or a capital inside it: ``DrMaya``) and not a studied account's name.
Such a word is still replaced after '@', in a link and as a whole value (a keyword, a label part).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

MIN_NAME = 6          # display names shorter than this are not looked for in prose
MIN_ID_DIGITS = 6     # numeric user ids shorter than this are not looked for in prose
ORDINARY_ACCOUNTS = 3  # other accounts whose prose uses a one-word name for it to be a word
WORD_RE = re.compile(r"\w+")
# Prose without what names people explicitly: @mentions, links, hashtags (DuckDB RE2 syntax).
STRIP_SQL = r"[@＠#＃][\w.-]+|https?://\S+|www\.\S+"


def distinctive(name: str) -> bool:
    """A name no one writes as an ordinary word: with a digit, '_', '.', or inner capitals."""
    return bool(re.search(r"[0-9_.]", name) or re.search(r"[a-z][A-Z]", name))


def tokens(text: str) -> tuple[str, ...]:
    """The lower-cased words of a name (``"Maya Patel, MD"`` -> ``("maya", "patel", "md")``)."""
    return tuple(WORD_RE.findall(text.lower()))


@dataclass
class StoreNames:
    """The names to look for, each with the key its pseudonym is made from (an id or '@handle')."""

    words: dict[str, str] = field(default_factory=dict)       # one word (lower) -> key
    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)  # first word -> names
    ordinary: set[str] = field(default_factory=set)           # one-word names kept in prose
    handles: dict[str, str] = field(default_factory=dict)     # handle (lower) -> account id

    def __post_init__(self) -> None:
        self.index()

    def index(self) -> None:
        """Sets for the fast path: a text none of whose words is in them names nobody bare."""
        self.prose = set(self.words) - self.ordinary
        self.firsts = set(self.phrases)

    def key(self, word: str) -> str | None:
        """The pseudonym key of a one-word name (any case), None when it is not a name."""
        return self.words.get(word.lower())

    def in_prose(self, word: str) -> str | None:
        """The key of a one-word name as written in running text (None for ordinary words)."""
        low = word.lower()
        return None if low in self.ordinary else self.words.get(low)


def _accounts(con: duckdb.DuckDBPyConnection) -> list[tuple[str | None, str | None, str | None, bool]]:
    """(author id, handle, display name, studied) for every name the store holds."""
    return con.execute("""
        WITH studied AS (SELECT platform, author_id FROM superuser_candidates WHERE selected),
        names AS (
            SELECT platform, author_id, handle, display_name FROM authors
            UNION ALL SELECT platform, author_id, author_handle, NULL FROM posts
            UNION ALL SELECT platform, target_id, value, NULL FROM entities WHERE kind = 'mention'
            UNION ALL SELECT platform, author_id, handle, NULL FROM author_roles
            UNION ALL SELECT platform, author_id, handle, NULL FROM superuser_candidates
        )
        SELECT DISTINCT n.author_id, n.handle, n.display_name,
               (n.platform, n.author_id) IN (SELECT (platform, author_id) FROM studied) AS studied
        FROM names AS n WHERE n.handle IS NOT NULL OR n.display_name IS NOT NULL OR n.author_id IS NOT NULL
        ORDER BY ALL""").fetchall()


def store_names(con: duckdb.DuckDBPyConnection) -> StoreNames:
    """Every handle, display name and user id of the store (see the module docstring)."""
    names = StoreNames()
    candidates: dict[str, set[str]] = {}  # one-word names that may be ordinary words -> their keys
    keep: set[str] = set()                # distinctive or studied: never ordinary
    for author_id, handle, display, studied in _accounts(con):
        real_id = author_id if author_id and not author_id.startswith("@") else None
        if handle:
            handle = handle.lstrip("@＠")
            key = real_id or "@" + handle.lower()
            if real_id:
                names.handles.setdefault(handle.lower(), real_id)
            names.words.setdefault(handle.lower(), key)
            if studied or distinctive(handle):
                keep.add(handle.lower())
            candidates.setdefault(handle.lower(), set()).add(key)
        if display and len(display.strip()) >= MIN_NAME and real_id:
            _add_display(names, display, real_id, studied, candidates, keep)
        if real_id and real_id.isdigit() and len(real_id) >= MIN_ID_DIGITS:
            names.words.setdefault(real_id, real_id)
            keep.add(real_id)
    names.ordinary = ordinary_words(con, {w: k for w, k in candidates.items() if w not in keep})
    names.index()
    return names


def _add_display(names: StoreNames, display: str, key: str, studied: bool,
                 candidates: dict[str, set[str]], keep: set[str]) -> None:
    words = tokens(display)
    if not words:
        return
    if len(words) == 1:
        names.words.setdefault(words[0], key)
        candidates.setdefault(words[0], set()).add(key)
        if studied:
            keep.add(words[0])
    else:
        entries = names.phrases.setdefault(words[0], [])
        if all(w != words for w, _ in entries):
            entries.append((words, key))
            entries.sort(key=lambda e: -len(e[0]))  # longest first


def ordinary_words(con: duckdb.DuckDBPyConnection, candidates: dict[str, set[str]]) -> set[str]:
    """The one-word names that posts of at least ORDINARY_ACCOUNTS other accounts use as words."""
    if not candidates:
        return set()
    pairs = [(w, k) for w, keys in sorted(candidates.items()) for k in sorted(keys)]
    import pyarrow as pa

    owners = pa.table({"word": [w for w, _ in pairs], "owner": [k for _, k in pairs]})  # noqa: F841
    con.execute("CREATE OR REPLACE TEMP TABLE _ef_name_owners AS SELECT * FROM owners")
    rows = con.execute(f"""
        WITH words AS (
            SELECT DISTINCT coalesce(author_id, '@' || lower(author_handle)) AS who,
                   unnest(regexp_extract_all(lower(regexp_replace(text, '{STRIP_SQL}', ' ', 'g')), '\\w+')) AS word
            FROM posts WHERE kind <> 'repost' AND text IS NOT NULL
        )
        SELECT w.word FROM words AS w SEMI JOIN (SELECT DISTINCT word FROM _ef_name_owners) AS n USING (word)
        WHERE NOT EXISTS (SELECT 1 FROM _ef_name_owners AS o WHERE o.word = w.word AND o.owner = w.who)
        GROUP BY w.word HAVING count(DISTINCT w.who) >= {ORDINARY_ACCOUNTS}""").fetchall()
    con.execute("DROP TABLE _ef_name_owners")
    return {r[0] for r in rows}
