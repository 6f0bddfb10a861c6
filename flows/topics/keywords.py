"""Keywords and labels of fitted topics, the same for every backend.

c-TF-IDF as BERTopic computes it (term frequency per topic, L1-normalised, times
``log(1 + mean words per topic / corpus frequency)``), with its ``reduce_frequent_words``
option (square-rooted frequencies), over the corpus vocabulary of :mod:`flows.topics.vocabulary`.
With ``representation: mmr`` (the default) the best c-TF-IDF candidates are re-ranked by maximal
marginal relevance (Carbonell & Goldstein 1998, as BERTopic's ``MaximalMarginalRelevance``):
similar to the topic's centre in embedding space, unlike the words already picked. The topic's
centre is the mean of its posts' cached embeddings; only the candidate words are embedded.
MMR's candidates are phrases found in at least 5 % of the topic's posts (and 5 posts), so that a
keyword says what the topic's posts say, not what one post said; and it picks no phrase that
repeats a word or stem of one picked already, so that "cholera haiti" is not followed by
"haiti cholera" and "cholera". Topics may then have fewer than ``top_n_words`` keywords.

A label is 2-4 distinct words: keywords in order, skipping any that repeats a word already in
the label ("vaccine" after "vaccines", "cholera" after "cholera outbreak"). Labels are unique
across a run's topics: the larger topic (smaller id) keeps its label, and a later topic whose
label holds the same words swaps its last phrase for its next keyword with a new word, until the
label is one no other topic has (the topic number is added only when its keywords run out).
"""

from __future__ import annotations

import numpy as np

from flows.embed.models import Embedder

Keywords = dict[int, list[tuple[str, float]]]
CANDIDATES = 30       # c-TF-IDF words MMR chooses from
DIVERSITY = 0.3       # MMR: 0 = relevance only, 1 = difference only
SUPPORT = (0.05, 5)   # MMR's candidates: in this share of the topic's posts and at least this many...
MIN_SUPPORTED = 3     # ...unless fewer than this many are: then the best others too
LABEL_WORDS = (2, 4)  # words in a label, at least and at most


def class_tfidf(counts, labels: np.ndarray, words: np.ndarray, top_n: int, support: tuple[float, int] | None = None
                ) -> Keywords:
    """Per topic, its ``top_n`` phrases by c-TF-IDF (ties: alphabetical), best first; with
    ``support`` (share, posts), only those in that share of the topic's posts and that many
    posts (the others too when fewer than MIN_SUPPORTED are, after them)."""
    import scipy.sparse as sp

    topics = sorted(set(labels.tolist()))
    index = {t: i for i, t in enumerate(topics)}
    rows = np.array([index[t] for t in labels.tolist()])
    onehot = sp.csr_matrix((np.ones(len(labels)), (rows, np.arange(len(labels)))), shape=(len(topics), len(labels)))
    tf = (onehot @ counts).astype(np.float64).toarray()
    tf = np.sqrt(tf)  # reduce_frequent_words
    frequency = tf.sum(axis=0)
    idf = np.log(1 + tf.sum(axis=1).mean() / np.maximum(frequency, 1e-12))
    tf = tf / np.maximum(tf.sum(axis=1, keepdims=True), 1e-12)
    scores = tf * idf
    if support:
        sizes = np.bincount(rows, minlength=len(topics))
        posts = (onehot @ (counts > 0).astype(np.float64)).toarray()  # posts of each topic holding each phrase
        held = posts >= np.maximum(support[1], support[0] * sizes)[:, None]
    found: Keywords = {}
    for i, (t, row) in enumerate(zip(topics, scores)):
        order = [j for j in np.lexsort((words, -row))[:top_n] if row[j] > 0]
        if support:
            first = [j for j in order if held[i, j]]
            order = first if len(first) >= MIN_SUPPORTED else first + [j for j in order if not held[i, j]]
        found[t] = [(str(words[j]), float(row[j])) for j in order]
    return found


def mmr(centre: np.ndarray, vectors: np.ndarray, top_n: int, diversity: float = DIVERSITY,
        phrases: list[str] | None = None) -> list[int]:
    """Indices of ``top_n`` rows chosen by maximal marginal relevance to ``centre`` (unit rows).

    With ``phrases`` (one per row), a phrase that shares a word or a word's stem with one
    already picked is not picked ("haiti cholera" or "cholera" after "cholera haiti"): a
    keyword list then says ten things, not one thing ten ways."""
    relevance = vectors @ centre
    similarity = vectors @ vectors.T
    picked = [int(np.argmax(relevance))]
    rest = [i for i in range(len(vectors)) if i != picked[0]]
    while rest and len(picked) < top_n:
        if phrases is not None:
            taken = [phrases[i] for i in picked]
            rest = [i for i in rest if not _repeats(phrases[i], taken)]
            if not rest:
                break
        redundancy = similarity[np.ix_(rest, picked)].max(axis=1)
        score = (1 - diversity) * relevance[rest] - diversity * redundancy
        best = rest[int(np.argmax(score))]
        picked.append(best)
        rest.remove(best)
    return picked


def rerank(keywords: Keywords, centres: dict[int, np.ndarray], embedder: Embedder, top_n: int) -> Keywords:
    """c-TF-IDF candidates re-ranked by MMR around each topic's centre; scores stay c-TF-IDF."""
    vocabulary = sorted({w for words in keywords.values() for w, _ in words})
    if not vocabulary:
        return keywords
    vectors = dict(zip(vocabulary, embedder.encode(vocabulary)))
    found: Keywords = {}
    for topic, words in keywords.items():
        if topic not in centres or len(words) <= 1:
            found[topic] = words[:top_n]
            continue
        picked = mmr(centres[topic], np.stack([vectors[w] for w, _ in words]), top_n,
                     phrases=[w for w, _ in words])
        found[topic] = [words[i] for i in picked]
    return found


def _repeats(phrase: str, chosen: list[str]) -> bool:
    """The phrase shares a word, or a word's stem (one is a prefix of the other), with the label."""
    taken = [w for c in chosen for w in c.split()]
    for word in phrase.split():
        for other in taken:
            short, long = sorted((word, other), key=len)
            if short == long or (len(short) >= 4 and long.startswith(short)):
                return True
    return False


def label(words: list[str]) -> str:
    """2-4 distinct words from the keywords, in order, comma-separated ('' when there are none)."""
    low, high = LABEL_WORDS
    chosen: list[str] = []
    count = 0
    for phrase in words:
        n = len(phrase.split())
        if count + n > high or _repeats(phrase, chosen):
            continue
        chosen.append(phrase)
        count += n
        if count >= high - 1 and len(chosen) >= 2 or count >= high:
            break
    if count < low:  # too few distinct words: take the first phrases as they come
        chosen = list(dict.fromkeys(chosen + [w for w in words if w not in chosen]))[:low]
    return ", ".join(chosen)


def _words(phrases: list[str]) -> int:
    return sum(len(p.split()) for p in phrases)


def unique_labels(keywords: dict[int, list[str]]) -> dict[int, str]:
    """Every topic's label (:func:`label`), no two with the same words, decided in topic order."""
    low, high = LABEL_WORDS
    found: dict[int, str] = {}
    taken: set[frozenset[str]] = set()

    def key(text: str) -> frozenset[str]:
        return frozenset(text.replace(",", " ").split())

    for topic in sorted(keywords):
        words = keywords[topic]
        chosen = label(words)
        if chosen and key(chosen) in taken:
            head = chosen.split(", ")
            for extra in (w for w in words if w not in head):
                stem = list(head)
                while stem and (_words(stem) + len(extra.split()) > high or _repeats(extra, stem)):
                    stem.pop()
                candidate = ", ".join(stem + [extra])
                if stem and _words(stem) + len(extra.split()) >= low and key(candidate) not in taken:
                    chosen = candidate
                    break
            else:
                chosen = f"{chosen} ({topic})"
        found[topic] = chosen
        if chosen:
            taken.add(key(chosen))
    return found


def describe(texts: list[str], languages: list[str], labels: np.ndarray, vocabulary, *, top_n: int,
             representation: str, centres: dict[int, np.ndarray], embedder: Embedder) -> Keywords:
    """Keywords of every topic (the outliers' too): c-TF-IDF, re-ranked by MMR if asked."""
    counts, words = vocabulary.counts(texts, languages)
    if not len(words):
        return {int(t): [] for t in set(labels.tolist())}
    wanted = CANDIDATES if representation == "mmr" else top_n
    keywords = class_tfidf(counts, labels, words, max(wanted, top_n),
                           SUPPORT if representation == "mmr" else None)
    if representation == "mmr":
        return rerank(keywords, centres, embedder, top_n)
    return {t: w[:top_n] for t, w in keywords.items()}
