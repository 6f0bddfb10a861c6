"""Saved topic models scrubbed of a withdrawn account.

``ethnoflow topics`` saves each BERTopic model in BERTopic's own folder format under
``data/models/topics/<run>/``. Besides the matrices, the folder keeps words as JSON: the c-TF-IDF
vocabulary (``ctfidf_config.json``: word -> column), topic words and labels (``topics.json``) and
the settings (``config.json``). An @mention is a word like any other, so a withdrawn account's
handle can sit in a saved model long after the store forgot it. A withdrawal masks the account's
handles and ids in every JSON file of every saved model the store records (``topic_runs``), with
``•`` characters, keeping each vocabulary word's column (the c-TF-IDF matrix holds only counts),
so the model still loads.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb

from flows.privacy.redact import Target


def scrub_saved_models(con: duckdb.DuckDBPyConnection, target: Target) -> list[str]:
    """Mask the target's handles and ids in the saved models the store records; return the folders changed."""
    paths = [r[0] for r in con.execute("SELECT DISTINCT model_path FROM topic_runs WHERE model_path IS NOT NULL "
                                       "ORDER BY 1").fetchall()]
    names = set(target.bare) | {i.lower() for i in target.ids if not i.startswith("@")}
    # as a word, or between underscores as BERTopic writes labels ("0_drmaya_rounds")
    longest = sorted(names, key=len, reverse=True)
    words = re.compile("|".join(f"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])" for n in longest) or "(?!)", re.IGNORECASE)
    changed = []
    for folder in (Path(p) for p in paths):
        if not folder.is_dir():
            continue
        touched = False
        for file in sorted(folder.glob("*.json")):
            data = json.loads(file.read_text(encoding="utf-8"))
            clean = _scrub(data, words, target)
            if clean != data:
                temp = file.with_name(f".{file.name}.{os.getpid()}.partial")
                temp.write_text(json.dumps(clean, ensure_ascii=False), encoding="utf-8")
                os.replace(temp, file)
                touched = True
        if touched:
            changed.append(str(folder))
    return changed


def _scrub(value, words: re.Pattern, target: Target):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = _mask(key, words, target) if isinstance(key, str) else key
            while key in out:  # two masked words stay two entries, each with its own column
                key += "•"
            out[key] = _scrub(item, words, target)
        return out
    if isinstance(value, list):
        return [_scrub(v, words, target) for v in value]
    return _mask(value, words, target) if isinstance(value, str) else value


def _mask(text: str, words: re.Pattern, target: Target) -> str:
    """The handles and ids as written (``@DrMaya``) and as the vectorizer lowercased them (``drmaya``)."""
    return words.sub(lambda m: "•" * len(m.group()), target.mask(text))
