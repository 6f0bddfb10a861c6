"""Reading YAML configuration (codebooks, study files) and turning pydantic errors into fixes.

Each problem reads ``[path -> to -> field] message; fix``. Code paths use ids where the data has
them (``codes -> access -> information`` rather than ``codes -> 0 -> children -> 0``).
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from flows.privacy.untrusted import SafeLoader

Loc = tuple[str | int, ...]


class UniqueKeyLoader(SafeLoader):
    """The safe loader (no tags, no aliases: :class:`flows.privacy.untrusted.SafeLoader`) that also
    rejects a repeated key, which PyYAML would otherwise silently overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in first_line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first at line {first_line[key]}); "
                    "keep only one", key_node.start_mark)
            if isinstance(key, str):
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> tuple[Any, list[str]]:
    """The YAML document in ``path`` and ``[]``, or ``None`` and the problem as ``path: [where] ...``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [f"{path}: no such file; check the path"]
    except UnicodeDecodeError:
        return None, [f"{path}: not UTF-8 text; save the file as UTF-8"]
    try:
        return yaml.load(text, Loader=UniqueKeyLoader), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        if "duplicate key" in str(exc.problem):
            return None, [f"{path}: [{where}] {exc.problem}"]
        if "alias bomb" in str(exc.problem):  # flows.privacy.untrusted.SafeLoader
            return None, [f"{path}: [{where}] {exc.problem}"]
        if "constructor for the tag" in str(exc.problem):
            return None, [f"{path}: [{where}] a YAML tag ({exc.problem.split('tag ', 1)[-1]}) is not allowed: "
                          "tags such as !!python/... could run code; remove the tag and write plain values"]
        return None, [f"{path}: [{where}] invalid YAML: {exc.problem}; check the indentation, "
                      "and quote text that contains ': ' or starts with # * & ! @ `"]
    except yaml.YAMLError as exc:
        return None, [f"{path}: invalid YAML: {exc}; check the file's syntax"]


def describe_value(value: Any) -> str:
    """What a YAML value is, for messages: ``1.0 (a number)``, ``a list``."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, (int, float, date)):
        return f"{value} (a {'date' if isinstance(value, date) else 'number'})"
    return {dict: "a mapping", list: "a list", str: "text"}.get(type(value), type(value).__name__)


_TYPE_FIXES = {
    "string_type": ("text", "put the value in quotes, e.g. \"1.0\""),
    "list_type": ("a list", "write each item on its own line starting with '- '"),
    "model_type": ("a mapping", "write 'key: value' lines indented under this key"),
    "bool_type": ("true or false", "write true or false"),
    "bool_parsing": ("true or false", "write true or false"),
}


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel]:
    model: type[BaseModel] = root
    for seg in loc:
        if isinstance(seg, str) and seg in model.model_fields:
            model = _inner_model(model.model_fields[seg].annotation) or model
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, (_inner_model(a) for a in get_args(annotation))), None)


def describe(error: dict[str, Any], root: type[BaseModel], pattern_fixes: dict[str, str],
             readme: str, slug_pattern: str | None = None) -> str:
    """One pydantic error of a ``root`` model as ``message; fix``.

    Args:
        error: One item of ``ValidationError.errors()``.
        root: The model validated, to name the valid keys of the mapping an unknown key is in.
        pattern_fixes: For each regex constraint of the model, how to write a matching value.
        readme: Where the format is described, for errors without a specific fix.
        slug_pattern: The identifier pattern; its errors suggest a slug made from the value.
    """
    kind, loc, value = error["type"], error["loc"], error.get("input")
    if kind == "extra_forbidden":
        valid = list(_model_at(root, loc[:-1]).model_fields)
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
        fix = f"did you mean '{close[0]}'?" if close else f"remove it (valid: {', '.join(valid)})"
        return f"unknown key '{loc[-1]}'; {fix}"
    if kind == "missing":
        return f"missing required key '{loc[-1]}'; add it"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "string_pattern_mismatch":
        fix = pattern_fixes[error["ctx"]["pattern"]]
        slug = re.sub(r"\W+", "_", value.lower()).strip("_")
        if error["ctx"]["pattern"] == slug_pattern and slug:
            fix += f", e.g. '{slug}'"
        return f"{value!r} is not valid here; {fix}"
    if kind == "too_short":
        return f"needs at least {error['ctx']['min_length']} item; add one"
    if kind in _TYPE_FIXES:
        wanted, fix = _TYPE_FIXES[kind]
        if value is None:
            return f"no value given; write {wanted} after the colon"
        return f"expected {wanted}, got {describe_value(value)}; {fix}"
    return f"{error['msg']}; see {readme} for the format"


def human_path(root: Any, loc: Loc) -> str:
    """``codes -> 0 -> children -> 2`` reads ``codes -> access -> information`` where ids exist."""
    parts: list[str] = []
    node, prev = root, None
    for seg in loc:
        if isinstance(node, dict):
            node = node.get(seg)
        else:
            in_range = isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)
            node = node[seg] if in_range else None
        code_id = node.get("id") if isinstance(node, dict) else None
        is_code = isinstance(seg, int) and prev in ("codes", "children")
        if is_code and code_id and isinstance(code_id, str):
            if prev == "children":
                parts.pop()  # the id says it is a child
            parts.append(code_id)
        else:
            parts.append(str(seg))
        prev = seg
    return " -> ".join(parts) or "top level"


M = TypeVar("M", bound=BaseModel)


class SectionError(ValueError):
    """A settings file that cannot be read or does not validate; one line per problem."""


def load_section(path: Path, key: str, model: type[M]) -> M:
    """Settings from ``path``: its ``key:`` section (a whole study file), or the whole file.

    Raises:
        SectionError: every problem as ``path: [key -> field] message (fix)``.
    """
    data, problems = read_yaml(path)
    if problems:
        raise SectionError("\n".join(problems))
    section = data.get(key, data) if isinstance(data, dict) else data
    try:
        return model.model_validate(section or {})
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            fix = describe(e, model, {}, "the comments in study.yaml (`ethnoflow init`)")
            where = " -> ".join(map(str, (key, *e["loc"])))
            lines.append(f"{path}: [{where}] {e['msg']}" + ("" if fix.startswith(e["msg"]) else f" ({fix})"))
        raise SectionError("\n".join(lines)) from None
