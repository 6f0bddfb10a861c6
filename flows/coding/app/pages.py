"""The coding app's HTML: Jinja2 templates in ``templates/``, every value autoescaped.

Codes get keys in codebook order: ``1``-``9``, ``0``, then letters the navigation keys leave
free (``n`` next, ``p`` previous, ``s`` skip, ``u`` not available, ``m`` memo, ``t`` thread).
"""

from __future__ import annotations

import functools
import string
from pathlib import Path
from typing import Any

from flows.coding.app.access import Identity
from flows.coding.codebook import assignable_codes

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAVIGATION = {"n": "save and next", "p": "previous", "s": "skip", "u": "post not available", "m": "write a memo",
              "t": "show the thread"}
CODE_KEYS = [*"123456789", "0", *(c for c in string.ascii_lowercase if c not in NAVIGATION)]


@functools.cache
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["j2", "html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def _render(name: str, **values: Any) -> str:
    return _env().get_template(name).render(**values)


def code_keys(codebook) -> list[dict[str, Any]]:
    """Each assignable code with its key, label and the hover text (definition, criteria)."""
    out = []
    for i, code in enumerate(assignable_codes(codebook)):
        parts = [code.definition or ""]
        if code.inclusion:
            parts.append("Use when: " + "; ".join(code.inclusion))
        if code.exclusion:
            parts.append("Not when: " + "; ".join(code.exclusion))
        out.append({"id": code.id, "label": code.label, "key": CODE_KEYS[i] if i < len(CODE_KEYS) else "",
                    "help": "\n".join(p for p in parts if p)})
    return out


def login() -> str:
    """The sign-in page: its script posts the token from the link's fragment."""
    return _render("login.html.j2", who=None, csrf="")


def message(title: str, text: str, who: Identity | None) -> str:
    """A page with one message (errors, refusals)."""
    return _render("message.html.j2", title=title, text=text, who=who, csrf="")


def code(view: dict[str, Any], who: Identity, csrf: str) -> str:
    """The coding page of one post (or the round's end)."""
    rnd = view["round"]
    return _render("code.html.j2", view=view, who=who, csrf=csrf, codes=code_keys(rnd.codebook),
                   navigation=NAVIGATION, codebook=rnd.codebook, round_id=rnd.round_id[:12])


def review(view: dict[str, Any], who: Identity, csrf: str) -> str:
    """The adjudication page: one disagreement side by side, and agreement so far."""
    rnd = view["round"]
    codes = code_keys(rnd.codebook)
    return _render("review.html.j2", view=view, who=who, csrf=csrf, codes=codes, codebook=rnd.codebook,
                   round_id=rnd.round_id[:12], coders=list(rnd.coders),
                   labels={c["id"]: c["label"] for c in codes}, fmt=_fmt)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
