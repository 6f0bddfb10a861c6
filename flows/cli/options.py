"""Options the commands share, each spelled once, and `settings_options`, which turns fields of a
settings model into options (after sqlite-utils' ``output_options``).

A command that overrides a stage's settings (``topics``, ``report``) declares no option by hand:

    @settings_options(TopicSettings, "seed", "min_topic_size", lang="languages")
    def topics(..., overrides: dict) -> None:

adds ``--seed`` and ``--min-topic-size`` (and ``--lang`` for ``languages``) with the help the
model's field descriptions give, and passes the values given as ``overrides`` (options left
out are not in it). Lists are comma lists on the command line; dates are YYYY-MM-DD.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", help="DuckDB file (default: $ETHNOFLOW_DB, else the study's, else data/ethnoflow.duckdb).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (a stable interface for scripts).")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace files that exist.")]
SeedOption = Annotated[Optional[int], typer.Option(
    "--seed", help="Seed: the same store and options give the same result (default: the study's, else 0).",
    show_default=False)]
CodebookOption = Annotated[str, typer.Option(
    "--codebook", help="Codebook id (shipped or in --schemes) or a .yaml path.", show_default=False)]
SchemesOption = Annotated[Optional[Path], typer.Option(
    "--schemes", help="A study's own coding_schemes/ folder (its codebooks override shipped ones).",
    show_default=False)]
PseudonymizeOption = Annotated[Optional[bool], typer.Option(
    "--pseudonymize/--show-handles",
    help="Keyed pseudonyms instead of handles, ids and @mentions (default: the study's `pseudonymize`).",
    show_default=False)]
ModelsDirOption = Annotated[Path, typer.Option("--models-dir", help="Where built models are kept.")]


def names(value: Optional[str]) -> list[str]:
    """A comma list from the command line: ``"a, b"`` -> ``["a", "b"]``."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def settings_options(model: type, *fields: str, **renamed: str) -> Callable:
    """Add one option per settings field to a command, collected into its ``overrides`` argument.

    Args:
        model: a pydantic settings model whose field descriptions are the options' help.
        *fields: field names, each an option of the same name (``min_topic_size`` -> ``--min-topic-size``).
        **renamed: option name -> field name, where the command line says it otherwise.
    """
    spec = {name: name for name in fields} | renamed

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command)
        hints = typing.get_type_hints(command, include_extras=True)  # the command's module resolves them
        kept = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
                if p.name != "overrides"]
        added = [_parameter(option, model.model_fields[field]) for option, field in spec.items()]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            given = {spec[o]: _value(kwargs.pop(o), model.model_fields[spec[o]]) for o in spec}
            return command(**kwargs, overrides={k: v for k, v in given.items() if v is not None})

        wrapper.__signature__ = signature.replace(parameters=[*kept, *added], return_annotation=None)
        wrapper.__annotations__ = {p.name: p.annotation for p in wrapper.__signature__.parameters.values()}
        return wrapper

    return decorate


def _parameter(option: str, field: Any) -> inspect.Parameter:
    kind = _cli_type(field.annotation)
    extra = {"formats": ["%Y-%m-%d"]} if kind is datetime else {}
    flag = "--" + option.replace("_", "-")
    decls = (f"{flag}/--no-{flag[2:]}",) if kind is bool else (flag,)
    help_text = (field.description or option.replace("_", " ")).rstrip(".")
    choices = _choices(field.annotation)
    help_text = help_text[0].upper() + help_text[1:] + (f" (one of: {', '.join(choices)})" if choices else "") \
        + (" (comma list)" if _is_list(field.annotation) else "") + "."
    annotation = Annotated[Optional[kind], typer.Option(*decls, help=help_text, show_default=False, **extra)]
    return inspect.Parameter(option, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def _cli_type(annotation: Any) -> type:
    """What the command line reads for a field: lists as comma text, dates as datetimes."""
    inner = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = inner[0] if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union \
        else annotation
    if _is_list(annotation) or typing.get_origin(base) is typing.Literal:
        return str
    return {date: datetime}.get(base, base)


def _choices(annotation: Any) -> list[str]:
    """The values a Literal field (or a list of them) allows."""
    inner = typing.get_args(annotation)[0] if _is_list(annotation) else annotation
    literals = [inner] if typing.get_origin(inner) is typing.Literal else \
        [a for a in typing.get_args(inner) if typing.get_origin(a) is typing.Literal]
    return [str(v) for a in literals for v in typing.get_args(a)]


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _value(value: Any, field: Any) -> Any:
    if value is None:
        return None
    if _is_list(field.annotation):
        return names(value)
    if isinstance(value, datetime):
        return value.date()
    return value


def option(*decls: str, help: str, **kwargs: Any) -> Any:
    """``typer.Option`` with no default shown (the help says what the default is, in words)."""
    return typer.Option(*decls, help=help, show_default=False, **kwargs)
