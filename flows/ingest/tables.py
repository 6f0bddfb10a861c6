"""Tabular exports (CSV, or JSON lists of flat records) mapped onto posts by a column mapping.

A mapping is a small YAML file: which column holds the post id, the text, the date and
so on, how to parse each, and where hashtags, mentions and links are. Shipped presets
(`flows/ingest/presets/*.yaml`) cover twarc-csv, twitwi/minet/gazouilloire, twitwi's Bluesky
export and Topsy; a researcher's own CSV needs a mapping of its own (`--mapping`).
"""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from flows.ingest.formats import NotACorpus
from flows.privacy.untrusted import SafeLoader

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
Parse = Literal["text", "int", "bool", "iso", "epoch", "snowflake", "v1date", "strptime", "flag"]


class Column(BaseModel):
    """One source column and how to read it."""

    model_config = ConfigDict(extra="forbid")
    column: str
    parse: Parse = "text"
    format: str | None = None  # for parse: strptime
    newlines: Literal["raw", "escaped"] = "raw"  # twarc-csv writes newlines as a literal \n


class EntityColumn(BaseModel):
    """A column listing entities: joined by `sep`, or a JSON list (of objects with `key`)."""

    model_config = ConfigDict(extra="forbid")
    column: str
    sep: str = "|"
    key: str | None = None
    path: str | None = None  # a cell holding a JSON object: the JSON path of its values, e.g. $.hashtags[*].text
    strip: str = ""  # leading characters to drop, e.g. "#" or "@"


class Mapping(BaseModel):
    """How the columns of one kind of export become canonical posts and authors."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    platform: Literal["twitter", "bluesky"] = "twitter"
    detect: list[str] = []
    not_posts: str | None = None  # a reason: every row is refused with it (user/profile exports)
    root: str | None = None  # JSON records nest the row under this key (Elasticsearch `_source`)
    fields: dict[str, str | Column] = {}
    author: dict[str, str | Column] = {}
    entities: dict[Literal["hashtag", "mention", "url", "cashtag"], str | EntityColumn] = {}
    repost_handle: str | None = None  # the text of a repost is the original's: prefix "RT @h: "


POST_FIELDS = {
    "post_id", "author_id", "author_handle", "created_at", "text", "lang", "in_reply_to_post_id",
    "in_reply_to_author_id", "quoted_post_id", "reposted_post_id", "conversation_id", "like_count",
    "repost_count", "reply_count", "quote_count", "impression_count", "source", "withheld", "retrieved_at",
    "is_repost", "is_reply", "is_quote",  # yes/no columns (parse: flag), for exports that name no referenced id
}
AUTHOR_FIELDS = {
    "display_name", "bio", "location", "url", "followers_count", "following_count", "post_count",
    "listed_count", "verified", "protected", "created_at", "profile_image_url",
}


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; errors name the file, the field and the fix."""
    return mapping_from_text(Path(path).read_text(encoding="utf-8"), path)


def mapping_from_text(text: str, path: Path | str = "<mapping>") -> Mapping:
    """Validate a mapping given as YAML text (as stored with a source for re-parsing)."""
    try:
        data = yaml.load(text, Loader=SafeLoader)  # no tags, no aliases (flows.privacy.untrusted)
        mapping = Mapping.model_validate(data)
    except yaml.YAMLError as exc:
        raise NotACorpus(f"{path}: mapping is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        lines = [f"{path}: [{' -> '.join(map(str, e['loc']))}] {e['msg']}" for e in exc.errors()]
        raise NotACorpus("\n".join(lines)) from exc
    _check_names(path, mapping.fields, POST_FIELDS, "fields")
    _check_names(path, mapping.author, AUTHOR_FIELDS, "author")
    if not mapping.not_posts and "post_id" not in mapping.fields:
        raise NotACorpus(f"{path}: [fields] needs post_id: the column with each post's id")
    return mapping


def _check_names(path: Path, given: dict, valid: set[str], where: str) -> None:
    for name in given:
        if name not in valid:
            hint = difflib.get_close_matches(name, sorted(valid), n=1)
            fix = f"; did you mean '{hint[0]}'?" if hint else f"; valid: {', '.join(sorted(valid))}"
            raise NotACorpus(f"{path}: [{where} -> {name}] unknown field{fix}")


@cache
def presets() -> dict[str, Mapping]:
    """The shipped presets by name."""
    return {p.stem: load_mapping(p) for p in sorted(PRESETS_DIR.glob("*.yaml"))}


def preset_for_header(header: list[str], path: Path, mapping: Path | None = None) -> str:
    """The preset (or the mapping file, as "file:PATH") that reads a CSV with this header."""
    if mapping:
        m = load_mapping(mapping)
        missing = [c for c in _mapped_columns(m) if c not in header]
        if missing:
            raise NotACorpus(f"{path}: columns named in {mapping} are missing: {', '.join(missing)}")
        return f"file:{Path(mapping).resolve()}"
    return preset_for_keys(header, path)


def _mapped_columns(m: Mapping) -> list[str]:
    specs = [*m.fields.values(), *m.author.values(), *m.entities.values()]
    return [s if isinstance(s, str) else s.column for s in specs]


def preset_for_keys(keys: list[str], path: Path) -> str:
    """The shipped preset whose `detect` columns all appear among `keys`."""
    have = set(keys)
    matches = [name for name, m in presets().items() if m.detect and set(m.detect) <= have]
    if matches:
        return max(matches, key=lambda n: len(presets()[n].detect))
    shown = ", ".join(keys[:12]) + (" ..." if len(keys) > 12 else "")
    raise NotACorpus(
        f"{path}: columns not recognised ({shown}); write a column mapping "
        "(see flows/ingest/presets/*.yaml for examples) and pass --mapping MAPPING.yaml"
    )

