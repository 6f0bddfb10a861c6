"""People and ties: roles, superusers, tweet chats, the interaction network and its export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.app import app, defaults, export_app, fail, redactor, store
from flows.cli.app import embedder as load_model
from flows.cli.options import DbOption, ForceOption, JsonOption, PseudonymizeOption

ModelOption = Annotated[str, typer.Option(
    "--model", help="Embedding model for bios no rule covers: minilm, static, a model folder, or none.")]
OverridesOption = Annotated[Optional[Path], typer.Option(
    "--overrides", help="Researcher's roles CSV (handle,role[,note]); default data/roles.csv if present.",
    show_default=False)]


def _embedder(model: str):
    """A loader for the embedding model (called only when a bio needs it), or None."""
    return load_model(model, lazy=True)


def _prepare(con, model: str, overrides: Optional[Path], *, roles_only: bool = False, force_roles: bool = False):
    """Roles (reassigned when stale or forced), then chats and the network, from the corpus."""
    from flows.people.roles import RoleOverrideError, assign_roles, roles_stale
    from flows.people.stage import prepare

    try:
        if force_roles or roles_only:
            if force_roles or roles_stale(con, overrides):
                assign_roles(con, _embedder(model), overrides)
            return
        settings = defaults()
        prepare(con, _embedder(model), overrides, network=settings.network(), chats=settings.chats())
    except RoleOverrideError as exc:
        fail(str(exc))


@app.command()
def roles(db: DbOption = None, json_: JsonOption = False, model: ModelOption = "minilm",
          overrides: OverridesOption = None, pseudonymize: PseudonymizeOption = None) -> None:
    """Assign each account a role (student, resident, faculty, health_professional,
    organization, other) and list them with the evidence.

    Rules read bios and display names ("MS3", "PGY-2", "Assistant Professor", "Official
    account of the Journal ..."); bios no rule covers go to the embedding model (nearest role
    prototype, cosine score kept as evidence); the override file always wins. Roles are
    stored in the author_roles table. JSON: [{"handle", "role", "evidence": [...]}].

    Example:
        ethnoflow roles --db study.duckdb --overrides data/roles.csv --json
    """
    from flows.people.roles import list_roles
    from flows.privacy.redactor import redact_document

    with store(db) as con:
        _prepare(con, model, overrides, force_roles=True)
        rows = redact_document(list_roles(con), redactor(con, pseudonymize))
    if json_:
        typer.echo(json.dumps([{"handle": r["handle"], "role": r["role"], "evidence": r["evidence"]} for r in rows],
                              indent=2, ensure_ascii=False))
        return
    width = max((len(r["handle"]) for r in rows), default=6)
    for r in rows:
        typer.echo(f"{r['handle']:<{width}}  {r['role']:<19}  {r['evidence'][0] if r['evidence'] else ''}")


@app.command()
def superusers(
    db: DbOption = None, json_: JsonOption = False,
    criteria: Annotated[Optional[Path], typer.Option(
        "--criteria", help="YAML with the criteria (a study file's `superusers:` section, or the whole file).",
        show_default=False)] = None,
    all_roles: Annotated[bool, typer.Option(
        "--all", help="List accounts of every role, not only eligible ones.")] = False,
    model: ModelOption = "minilm", overrides: OverridesOption = None, pseudonymize: PseudonymizeOption = None,
) -> None:
    """Rank superuser candidates with every criterion's value and pass/fail.

    Criteria follow Chretien et al. (2015): posts per month, share of professional posts,
    distinct faculty and students interacted with, tweet chats taken part in, and an
    eligible role (students by default). Roles, chats and the network are brought up to
    date first. JSON: [{"handle", "rank", "selected", "criteria": {name: {value, threshold,
    pass}}}].

    Example:
        ethnoflow superusers --db study.duckdb --criteria study.yaml --json
    """
    from flows.people.superusers import select_superusers
    from flows.privacy.redactor import redact_document

    rules = _criteria(criteria)
    with store(db) as con:
        _prepare(con, model, overrides)
        rows = redact_document(select_superusers(con, rules, include_all=all_roles), redactor(con, pseudonymize))
    if json_:
        typer.echo(json.dumps([{k: r[k] for k in ("handle", "rank", "selected", "criteria")} for r in rows],
                              indent=2, ensure_ascii=False))
        return
    for r in rows:
        checks = "  ".join(f"{name}={c['value']}{'' if c['pass'] else ' (fail)'}" for name, c in r["criteria"].items())
        typer.echo(f"{r['rank']:>3}. {'*' if r['selected'] else ' '} {r['handle']}  {checks}")


def _criteria(path: Optional[Path]):
    from flows.people.superusers import SuperuserCriteria
    from flows.study.config import SectionError, load_section

    if path is None:
        return defaults().superusers()
    try:
        return load_section(path, "superusers", SuperuserCriteria)
    except SectionError as exc:
        fail(str(exc))


@app.command()
def chats(db: DbOption = None, json_: JsonOption = False, pseudonymize: PseudonymizeOption = None) -> None:
    """Detect tweet chats (hashtag, Q1/A1 questions and answers, time window) and list them.

    A chat is a run of numbered questions ("Q1: ... #MedEdChat") with one hashtag, each
    within 30 minutes of the last, answered ("A1: ...") by others; its window runs from 30
    minutes before the first question to an hour after the last. Stored in the chats and
    chat_participation tables.

    Example:
        ethnoflow chats --db study.duckdb --json
    """
    from flows.people.chats import detect_chats
    from flows.privacy.redactor import redact_document

    with store(db) as con:
        found = redact_document(detect_chats(con), redactor(con, pseudonymize))
    if json_:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    for c in found:
        typer.echo(f"{c['started_at']}  #{c['hashtag']}  host {c['host']}  {c['questions']} questions, "
                   f"{c['answers']} answers, {len(c['participants'])} participants")
    typer.echo(f"{len(found)} chats")


@app.command()
def network(
    db: DbOption = None, json_: JsonOption = False,
    months: Annotated[int, typer.Option("--months", help="Months with replies both ways for a mentorship tie.")] = 3,
    model: ModelOption = "minilm", overrides: OverridesOption = None, pseudonymize: PseudonymizeOption = None,
) -> None:
    """Build the interaction network and summarise it: edges by type, the role-to-role
    table, mentorship candidates and sponsorship events.

    Edges are replies, mentions, quotes and reposts between accounts, with counts and
    first/last dates (tables interactions, network_edges, network_centrality). Mentorship
    candidates replied to each other both ways in at least --months distinct months.

    Example:
        ethnoflow network --db study.duckdb --months 3
    """
    from flows.people.network import NetworkSettings, build_network, network_summary
    from flows.privacy.redactor import redact_document

    with store(db) as con:
        _prepare(con, model, overrides, roles_only=True)
        build_network(con, NetworkSettings(reciprocity_months=months))
        summary = redact_document(network_summary(con), redactor(con, pseudonymize))
    if json_:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
        return
    _print_summary(summary)


def _print_summary(summary: dict) -> None:
    typer.echo("edges by type")
    for kind, n in summary["edges"].items():
        typer.echo(f"  {kind:<8} {n['edges']:>7} edges {n['posts']:>8} posts")
    typer.echo("role to role (posts)")
    for r in summary["role_to_role"]:
        typer.echo(f"  {r['source_role']:>19} -> {r['target_role']:<19} {r['kind']:<8} {r['posts']:>7}")
    typer.echo(f"mentorship candidates ({len(summary['mentorship_candidates'])})")
    for m in summary["mentorship_candidates"]:
        typer.echo(f"  {m['mentor']} ({m['mentor_role']}) -> {m['mentee']} ({m['mentee_role']}): "
                   f"{m['months_both_ways']} months both ways, {m['tie']}")
    typer.echo(f"sponsorship events: {len(summary['sponsorship_events'])}")


@export_app.command("network")
def export_network(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    format: Annotated[str, typer.Option("--format", help="gexf or graphml (both open in Gephi).")] = "gexf",
    kind: Annotated[Optional[list[str]], typer.Option(
        "--kind", help="Only these edge kinds (reply, mention, quote, repost); repeat the option.")] = None,
    db: DbOption = None, model: ModelOption = "minilm", overrides: OverridesOption = None,
    show_handles: Annotated[bool, typer.Option(
        "--show-handles", help="Label nodes with handles and real ids (default: keyed pseudonyms).")] = False,
    force: ForceOption = False,
) -> None:
    """Export the interaction network for Gephi as GEXF or GraphML.

    Nodes are accounts (label = handle) with role; in_/out_accounts (distinct accounts),
    in_/out_edges (edges in the file: Gephi's In/Out-Degree) and in_/out_posts (their weights:
    Gephi's weighted degrees), over the kinds exported; betweenness and PageRank. Edges are one
    per (source, target, kind), the kind as GEXF's edge kind, weight = posts (a real number),
    months and first/last dates. Every attribute is described inside the file. Node ids and
    labels are keyed pseudonyms unless --show-handles, whatever the study says: a network file
    is easily shared, and it maps everyone's ties.

    Example:
        ethnoflow export network --format gexf --out reports/network.gexf
    """
    from flows.export.network import export_network as run_export
    from flows.export.paths import ExportError
    from flows.people.network import build_network

    with store(db) as con:
        _prepare(con, model, overrides, roles_only=True)
        build_network(con)
        try:
            result = run_export(con, out, format.lower(), kind, pseudonymize=not show_handles, force=force)
        except (ValueError, ExportError) as exc:
            fail(str(exc))
    typer.echo(f"wrote {result['nodes']} accounts and {result['edges']} edges to {result['path']}"
               + ("; pseudonymised" if result["pseudonymized"] else "; real handles and ids"))
