"""`ethnoflow init`: a new study folder that runs the whole pipeline as it is."""

from __future__ import annotations

import json
import os
from pathlib import Path

TEMPLATE = Path(__file__).parent / "templates" / "study.yaml"
SAMPLE_WRITTEN = 1435708800  # 2015-07-01: the sample corpus's mtime (a finished file, not one being copied)
SCHEMES_NOTE = """\
# Codebooks of this study

Put codebook YAML files here (see the shipped ones with `ethnoflow codebook list`). A file
here with the id of a shipped codebook overrides it for this study; new ids add to them.
"""


def create_study(folder: Path, *, title: str | None = None, sample: bool = False) -> Path:
    """Write study.yaml, coding_schemes/, data/inbox/ and reports/ into `folder`.

    Args:
        folder: the study folder (created; it must not hold a study.yaml already).
        title: the study's title; default: the folder's name.
        sample: also write the fictional sample corpus into data/inbox/.

    Returns:
        The path of the new study.yaml.

    Raises:
        FileExistsError: the folder already holds a study.
    """
    folder = Path(folder)
    study_file = folder / "study.yaml"
    if study_file.exists():
        raise FileExistsError(f"{study_file}: a study is already here; edit it, or pick another folder")
    for sub in ("coding_schemes", "data/inbox", "reports"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "coding_schemes" / "README.md").write_text(SCHEMES_NOTE, encoding="utf-8")
    name = title or folder.resolve().name.replace("-", " ").replace("_", " ")
    # A JSON string is a YAML double-quoted scalar: backslashes, quotes and '#' stay as typed.
    text = TEMPLATE.read_text(encoding="utf-8").replace('"{title}"', json.dumps(name, ensure_ascii=False))
    if sample:
        from flows.sample.generate import generate

        generate(folder / "data" / "sample")
        corpus = folder / "data" / "inbox" / "medtwitter_sample.jsonl"
        (folder / "data" / "sample" / "corpus" / "medtwitter_sample.jsonl").replace(corpus)
        os.utime(corpus, (SAMPLE_WRITTEN, SAMPLE_WRITTEN))  # complete: the first run need not wait for it
    study_file.write_text(text, encoding="utf-8")
    from flows.privacy.pseudonym import load_secret

    load_secret(folder / "data")  # the study's secret is made now: later, a missing one is an error
    return study_file
