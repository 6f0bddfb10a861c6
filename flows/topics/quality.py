"""How readable a topic run is, computed here from the store: NPMI coherence, topic diversity,
outlier share, stability across seeds, and stop words, handles or links among the top words.

* **NPMI** (Bouma 2009; as used by Röder et al. 2015 and OCTIS): for each pair of a topic's top
  ``n`` keywords, ``log(p(a, b) / (p(a) p(b))) / -log p(a, b)`` with probabilities over posts
  (a post is the co-occurrence window: tweets are short), -1 for a pair never seen together;
  averaged over pairs, then over topics. A phrase occurs in a post when all its words do. Every
  model is scored over the same reference tokens (lower-cased words of 2+ letters or digits,
  nothing removed), so a model that keeps stop words is not favoured by another tokeniser.
* **diversity** (Dieng et al. 2020): distinct words among all topics' top ``n`` keywords, over
  their number.
* **stability**: adjusted Rand index between the assignments of two fits (scikit-learn's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from itertools import combinations

import duckdb
import numpy as np

REFERENCE_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def reference_sets(texts: Iterable[str]) -> list[frozenset[str]]:
    """Each post's distinct reference tokens."""
    return [frozenset(REFERENCE_TOKEN.findall((t or "").lower())) for t in texts]


class Cooccurrence:
    """Post frequencies of words and word pairs over a reference corpus, computed as asked."""

    def __init__(self, posts: list[frozenset[str]]) -> None:
        self.n = len(posts)
        self.index: dict[str, set[int]] = {}
        for i, words in enumerate(posts):
            for w in words:
                self.index.setdefault(w, set()).add(i)

    def posts_with(self, phrase: str) -> set[int]:
        """Posts holding every word of the phrase."""
        sets = [self.index.get(w, set()) for w in REFERENCE_TOKEN.findall(phrase.lower())]
        if not sets:
            return set()
        found = set(min(sets, key=len))
        for s in sets:
            found &= s
        return found

    def npmi(self, a: str, b: str) -> float:
        pa, pb = self.posts_with(a), self.posts_with(b)
        joint = len(pa & pb)
        if not joint:
            return -1.0
        if joint == self.n:
            return 1.0
        p_ab, p_a, p_b = joint / self.n, len(pa) / self.n, len(pb) / self.n
        return math.log(p_ab / (p_a * p_b)) / -math.log(p_ab)


def npmi(topics: list[list[str]], co: Cooccurrence, top_n: int = 10) -> float | None:
    """Mean NPMI over topics of the mean over pairs of their top ``top_n`` keywords."""
    scores = []
    for words in topics:
        pairs = list(combinations(words[:top_n], 2))
        if pairs:
            scores.append(sum(co.npmi(a, b) for a, b in pairs) / len(pairs))
    return round(float(np.mean(scores)), 4) if scores else None


def diversity(topics: list[list[str]], top_n: int = 10) -> float | None:
    """Distinct words among the topics' top keywords (phrases split into words), over all of them."""
    words = [w for t in topics for phrase in t[:top_n] for w in phrase.split()]
    return round(len(set(words)) / len(words), 4) if words else None


def stability(assignments: list[np.ndarray]) -> float | None:
    """Mean adjusted Rand index over every pair of assignment vectors (same posts, same order)."""
    from sklearn.metrics import adjusted_rand_score

    pairs = list(combinations(assignments, 2))
    if not pairs:
        return None
    return round(float(np.mean([adjusted_rand_score(a, b) for a, b in pairs])), 4)


def unreadable(topics: list[list[str]], stop: set[str], handles: set[str], top_n: int = 5) -> list[str]:
    """Top words that are stop words, handles, links, numbers or platform tokens."""
    bad = []
    for words in topics:
        for phrase in words[:top_n]:
            for w in phrase.split():
                if (w in stop or w in handles or w.isdigit() or "http" in w or "/" in w or w.startswith("@")
                        or w in {"rt", "amp", "co", "www"}):
                    bad.append(w)
    return bad


def run_topics_words(con: duckdb.DuckDBPyConnection, run_id: str) -> list[list[str]]:
    """A stored run's keywords per topic (outliers left out), topic order."""
    return [list(k) for (k,) in con.execute(
        "SELECT keywords FROM topics WHERE run_id = ? AND topic <> -1 ORDER BY topic", [run_id]).fetchall()]


def run_assignments(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[list[tuple[str, str]], np.ndarray]:
    """A stored run's (platform, post id) keys and topics, in canonical order."""
    rows = con.execute("SELECT platform, post_id, topic FROM topic_assignments WHERE run_id = ? "
                       "ORDER BY platform, post_id", [run_id]).fetchall()
    return [(p, i) for p, i, _ in rows], np.array([t for *_, t in rows], dtype=np.int64)


def corpus_handles(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every author handle and mentioned handle in the store, lower case."""
    return {h.lower() for (h,) in con.execute(
        "SELECT handle FROM authors UNION SELECT value FROM entities WHERE kind = 'mention'").fetchall() if h}


MENTION = re.compile(r"[@＠][\w.]+")
WORD = re.compile(r"[a-z0-9_]+")


def bare_handles(con: duckdb.DuckDBPyConnection, texts: Iterable[str]) -> set[str]:
    """The corpus's handles that are never written as a word outside an @mention: a keyword
    equal to one of them can only have come from a handle (@cholera's "cholera" can not)."""
    written = {w for t in texts for w in WORD.findall(MENTION.sub(" ", (t or "").lower()))}
    return corpus_handles(con) - written
