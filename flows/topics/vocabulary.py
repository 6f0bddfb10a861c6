"""The words a topic is described by: no stop word of any language in the corpus, no handle, URL
or number, phrases of one or two words seen in enough posts.

Stop words come from stopwords-iso (``stopwordsiso``, one well-kept list per ISO 639-1 language),
for every language the corpus's posts are in: the platform's language tag where it names one,
else the language whose stop words the post uses most. Each post loses its own language's stop
words and those of the corpus's main languages, not every language's: German's "die" and
"gut" and French's "rare" are content words of English posts.

The text counted is the modelled text (:mod:`flows.topics.corpus`) with handles, links, numbers
and HTML entities taken out; embeddings are not affected (they read the text as it is). The
same counts serve every backend, so keywords and labels do not depend on which clustering ran.

A word in more than half of the posts (``MAX_DF``) says what the corpus is, not what a topic is
about: a chat's hashtag (#hcldr in an #hcldr export, "celiac" in 79 % of the five chat CSVs'
posts). It is treated as a stop word of the corpus for keywords and labels, and the run records it
(``corpus_words``); ``keep_words`` keeps it all the same.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np

MAIN_SHARE = 0.2               # a language whose stop words every post loses: this share of the posts
MAX_DF = 0.5                   # a word in more than this share of the posts is the corpus's own: a stop word
MAX_DF_MIN_POSTS = 50          # ...in a corpus of at least this many posts
GUESS_MIN_HITS = 2             # stop words a post needs before its language is guessed from them
# Twitter's language tags that are not ISO 639-1, and tags that name no language.
TAG_ALIASES = {"in": "id", "iw": "he", "ji": "yi", "zh-cn": "zh", "zh-tw": "zh", "nb": "no", "nn": "no"}
NOT_LANGUAGES = {"und", "zxx", "qme", "qht", "qam", "qct", "qst", "art", "mis", ""}
# Platform tokens that are no language's word (retweet marker, entity leftovers, link stubs).
PLATFORM_TOKENS = frozenset({"rt", "via", "http", "https", "www", "amp", "gt", "lt", "quot", "nbsp",
                             "tco", "bit", "ly", "pic", "twitter", "com"})

MENTION_RE = re.compile(r"[@＠][\w.\-]*\w")  # also "at@handle" and e-mail addresses
URL_RE = re.compile(r"(?:https?:/?/?|www\.)\S*|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|ly|co|io|me|be|gl|"
                    r"uk|us|ca|au|de|fr|es|it|info|social)\b(?:/\S*)?", re.IGNORECASE)
# A word starts with a letter; apostrophes inside it are kept ("don't" is one stop word).
TOKEN_RE = r"(?u)\b[^\W\d_](?:[^\W_]|'(?=[^\W\d_]))+"
_TOKEN = re.compile(TOKEN_RE)


def clean(text: str) -> str:
    """The text as the vectoriser reads it: entities decoded, handles and links out, lower case."""
    text = html.unescape(text or "").replace("\u2019", "'").replace("\u2018", "'")
    text = URL_RE.sub(" ", MENTION_RE.sub(" ", text))
    return text.lower()


@cache
def stop_words(language: str) -> frozenset[str]:
    """stopwords-iso's list for an ISO 639-1 code (empty when it has none), lower case."""
    import stopwordsiso

    code = TAG_ALIASES.get(language.lower(), language.lower())
    if not stopwordsiso.has_lang(code):
        return frozenset()
    return frozenset(w.lower().replace("\u2019", "'") for w in stopwordsiso.stopwords(code))


@lru_cache(maxsize=1)
def _word_languages() -> dict[str, tuple[str, ...]]:
    """Every stop word of every stopwords-iso language -> the languages listing it."""
    import stopwordsiso

    found: dict[str, list[str]] = {}
    for code in sorted(stopwordsiso.langs()):
        for word in stop_words(code):
            found.setdefault(word, []).append(code)
    return {w: tuple(c) for w, c in found.items()}


def guess_language(text: str) -> str | None:
    """The language whose stop words the text uses most (ties: alphabetical), if it uses enough."""
    hits: Counter[str] = Counter()
    index = _word_languages()
    for token in _TOKEN.findall(clean(text)):
        hits.update(index.get(token, ()))
    if not hits:
        return None
    language, n = min(hits.items(), key=lambda kv: (-kv[1], kv[0]))
    return language if n >= GUESS_MIN_HITS else None


def doc_language(text: str, tag: str | None) -> str:
    """A post's language for its stop words: its tag (region dropped: en-gb is en) when
    stopwords-iso has the language, else the guess from its text, else ''."""
    code = (tag or "").lower()
    code = TAG_ALIASES.get(code, code.split("-")[0])
    if code in NOT_LANGUAGES or not stop_words(code):
        code = guess_language(text) or ""
    return code


def min_df(n_docs: int) -> int:
    """Posts a phrase must appear in: 2, and one per 2,000 posts beyond that (BERTopic's advice
    for large corpora: the vocabulary stays small and rare spellings drop out)."""
    return max(2, math.ceil(n_docs / 2000))


@dataclass
class Vocabulary:
    """The corpus's phrases: each post loses the stop words of its own language and of the
    corpus's main languages (those of at least MAIN_SHARE of the posts, for posts that mix
    them), so "rare" stays in English posts though it is a French stop word."""

    languages: dict[str, int]            # every language of the posts (tag, else guessed) -> posts
    main: list[str]
    ngram_max: int = 2
    extra: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()
    min_df: int = 2
    corpus_words: frozenset[str] = frozenset()  # in more than MAX_DF of the posts
    _stops: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def stops(self, language: str) -> frozenset[str]:
        """The stop words a post in ``language`` loses."""
        if language not in self._stops:
            words = set(PLATFORM_TOKENS) | self.extra | self.corpus_words
            for code in {*self.main, language} - {""}:
                words |= stop_words(code)
            words |= {t for w in words for t in _TOKEN.findall(w)}  # as the token pattern cuts them
            self._stops[language] = frozenset(words - self.keep)
        return self._stops[language]

    def analyse(self, text: str, language: str) -> list[str]:
        """The phrases (1..ngram_max distinct words, stop words out before joining) of one post."""
        stopped = self.stops(language)
        words = [w for w in _TOKEN.findall(clean(text)) if w not in stopped]
        grams = list(words)
        for n in range(2, self.ngram_max + 1):
            grams += [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)
                      if len(set(words[i:i + n])) == n]  # not "gluten gluten"
        return grams

    def counts(self, texts: list[str], languages: list[str]):
        """(post x phrase counts as a CSR matrix, phrases sorted): phrases in at least min_df
        posts (1 when none is)."""
        import scipy.sparse as sp

        docs = [Counter(self.analyse(t, lang)) for t, lang in zip(texts, languages)]
        df = Counter(w for d in docs for w in d)
        floor = self.min_df if any(n >= self.min_df for n in df.values()) else 1
        words = sorted(w for w, n in df.items() if n >= floor)
        index = {w: i for i, w in enumerate(words)}
        rows, cols, vals = [], [], []
        for r, d in enumerate(docs):
            for w, n in d.items():
                if w in index:
                    rows.append(r)
                    cols.append(index[w])
                    vals.append(n)
        matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(words)), dtype=np.float64)
        return matrix, np.array(words, dtype=object)

    def all_stop_words(self) -> list[str]:
        """Every language's stop words at once (BERTopic's vectoriser sees topics, not posts)."""
        words = set()
        for code in self.languages:
            words |= self.stops(code)
        return sorted(words)

    def vectorizer(self):
        """A scikit-learn CountVectorizer with the same tokens for BERTopic (its outlier strategies and
        saved model), with every corpus language's stop words."""
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(preprocessor=clean, token_pattern=TOKEN_RE, stop_words=self.all_stop_words(),
                               ngram_range=(1, self.ngram_max))  # min_df would count topics, not posts

    def describe(self) -> dict:
        """What the run records of it."""
        return {"languages": dict(sorted(self.languages.items())), "main_languages": self.main,
                "corpus_words": sorted(self.corpus_words), "max_df": MAX_DF, "min_df": self.min_df,
                "ngram_range": [1, self.ngram_max],
                "stop_words": {code: len(self.stops(code)) for code in sorted(self.languages)}}


def make_vocabulary(texts: list[str], tags: Iterable[str | None], ngram_max: int, *,
                    extra: Iterable[str] = (), keep: Iterable[str] = ()) -> tuple[Vocabulary, list[str]]:
    """The corpus's vocabulary, and each post's language."""
    languages = [doc_language(t, tag) for t, tag in zip(texts, tags)]
    counted = Counter(lang for lang in languages if lang)
    main = sorted(c for c, n in counted.items() if n >= MAIN_SHARE * len(texts)) or ["en"]
    vocabulary = Vocabulary(dict(counted), main, ngram_max, frozenset(w.lower() for w in extra),
                            frozenset(w.lower() for w in keep), min_df(len(texts)))
    common = corpus_words(vocabulary, texts, languages)
    if common:
        vocabulary = Vocabulary(vocabulary.languages, main, ngram_max, vocabulary.extra, vocabulary.keep,
                                vocabulary.min_df, common)
    return vocabulary, languages


def corpus_words(vocabulary: Vocabulary, texts: list[str], languages: list[str]) -> frozenset[str]:
    """Words (not stop words already) in more than MAX_DF of the posts, when there are
    MAX_DF_MIN_POSTS or more; ``keep_words`` stay."""
    if len(texts) < MAX_DF_MIN_POSTS:
        return frozenset()
    df: Counter[str] = Counter()
    for text, language in zip(texts, languages):
        stopped = vocabulary.stops(language)
        df.update({w for w in _TOKEN.findall(clean(text)) if w not in stopped})
    return frozenset(w for w, n in df.items() if n > MAX_DF * len(texts)) - vocabulary.keep


def tokens(text: str) -> list[str]:
    """The words of a text as :func:`clean` and the token pattern see them (no stop-word removal)."""
    return _TOKEN.findall(clean(text))
