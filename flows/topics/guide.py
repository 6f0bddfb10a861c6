"""Reading topics beside a codebook: guided and zero-shot topics, and each topic's nearest code.

* **guided**: each leaf code with keywords or hashtags becomes a BERTopic seed topic (its
  keywords, and its hashtags without '#', lower-cased); posts close to a seed are pulled
  towards it before clustering.
* **zeroshot**: each leaf code's "label: definition" is embedded; a post whose similarity to a
  code reaches ``zeroshot_min_similarity`` joins that code's topic, the rest are clustered.
* every run with a codebook (any guidance) records, per topic, the leaf code whose
  "label: definition" is nearest to the topic's centroid, with the cosine similarity.
"""

from __future__ import annotations

from pathlib import Path

from flows.coding.codebook import Code, Codebook, CodebookError, leaf_codes
from flows.topics.backend import Guide
from flows.topics.settings import TopicError, TopicSettings


def topic_codebook(ref: str) -> Codebook:
    """The codebook a topic run reads beside (by id, shipped or in ./coding_schemes, or by file).

    Raises:
        TopicError: no such codebook, or it does not validate (every problem listed).
    """
    from flows.coding.codebook import resolve_codebook as resolve

    try:
        return resolve(ref, schemes=Path("coding_schemes"))
    except CodebookError as exc:
        raise TopicError(str(exc)) from exc


def code_text(code: Code) -> str:
    """What a code is embedded as: ``label: definition``."""
    definition = " ".join((code.definition or "").split())
    return f"{code.label}: {definition}" if definition else code.label


def seed_words(code: Code) -> list[str]:
    """A code's keywords and hashtags (without '#'), lower-cased, first occurrence kept."""
    words = [k.lower() for k in code.keywords] + [h.lstrip("#").lower() for h in code.hashtags]
    return list(dict.fromkeys(words))


def make_guide(codebook: Codebook, settings: TopicSettings) -> Guide | None:
    """The seed topics (guided) or code descriptions (zeroshot) that ``settings`` ask for."""
    codes = leaf_codes(codebook)
    if settings.guidance == "guided":
        seeded = [(c.id, seed_words(c)) for c in codes if seed_words(c)]
        if not seeded:
            raise TopicError(f"codebook '{codebook.id}' has no keywords or hashtags to seed topics with; "
                             "use guidance: zeroshot, or add keywords to its codes")
        return Guide("guided", [i for i, _ in seeded], [w for _, w in seeded], [], 0.0)
    if settings.guidance == "zeroshot":
        return Guide("zeroshot", [c.id for c in codes], [], [code_text(c) for c in codes],
                     settings.zeroshot_min_similarity)
    return None

