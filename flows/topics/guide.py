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

from flows.coding.codebook import Code, Codebook, CodebookError, discover, leaf_codes, load_codebook, shipped_dir
from flows.topics.backend import Guide
from flows.topics.settings import TopicError, TopicSettings


def resolve_codebook(ref: str, search_dirs: list[Path] | None = None) -> Codebook:
    """A codebook by file path, or by id among the shipped ones and ``./coding_schemes``.

    Raises:
        TopicError: no such codebook, or it does not validate (every problem listed).
    """
    path = Path(ref)
    try:
        if path.suffix in (".yaml", ".yml") or path.exists():
            return load_codebook(path)
        found = discover(search_dirs or [shipped_dir(), Path("coding_schemes")])
        if ref not in found:
            known = ", ".join(sorted(found)) or "none"
            raise TopicError(f"codebook '{ref}' not found; give a file or one of: {known}")
        return load_codebook(found[ref])
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

