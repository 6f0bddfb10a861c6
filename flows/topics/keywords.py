"""Keywords and labels of fitted topics, the same for every backend.

c-TF-IDF as BERTopic computes it (term frequency per topic, L1-normalised, times
``log(1 + mean words per topic / corpus frequency)``), with its ``reduce_frequent_words``
option (square-rooted frequencies), over the corpus vocabulary of :mod:`flows.topics.vocabulary`.
With ``representation: mmr`` (the default) the best c-TF-IDF candidates are re-ranked by maximal
marginal relevance (Carbonell & Goldstein 1998, as BERTopic's ``MaximalMarginalRelevance``):
similar to the topic's centre in embedding space, unlike the words already picked. The topic's
centre is the mean of its posts' cached embeddings; only the candidate words are embedded.

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
LABEL_WORDS = (2, 4)  # words in a label, at least and at most


def class_tfidf(counts, labels: np.ndarray, words: np.ndarray, top_n: int) -> Keywords:
    """Per topic, its ``top_n`` phrases by c-TF-IDF (ties: alphabetical), best first."""
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
    found: Keywords = {}
    for t, row in zip(topics, scores):
        order = np.lexsort((words, -row))
        found[t] = [(str(words[j]), float(row[j])) for j in order[:top_n] if row[j] > 0]
    return found


def mmr(centre: np.ndarray, vectors: np.ndarray, top_n: int, diversity: float = DIVERSITY) -> list[int]:
    """Indices of ``top_n`` rows chosen by maximal marginal relevance to ``centre`` (unit rows)."""
    relevance = vectors @ centre
    similarity = vectors @ vectors.T
    picked = [int(np.argmax(relevance))]
    rest = [i for i in range(len(vectors)) if i != picked[0]]
    while rest and len(picked) < top_n:
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
        picked = mmr(centres[topic], np.stack([vectors[w] for w, _ in words]), top_n)
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
    keywords = class_tfidf(counts, labels, words, max(wanted, top_n))
    if representation == "mmr":
        return rerank(keywords, centres, embedder, top_n)
    return {t: w[:top_n] for t, w in keywords.items()}
