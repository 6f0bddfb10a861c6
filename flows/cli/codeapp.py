"""The coding app command: `ethnoflow code-app` serves a round for blind double coding and adjudication."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.app import app, defaults, fail, store, store_path
from flows.cli.coding import _codebook, _explained, _seed
from flows.cli.options import DbOption, SchemesOption, SeedOption, option
from flows.cli.options import names as _names


@app.command("code-app")
def code_app(
    round_: Annotated[Optional[str], option(
        "--round", help="The round to code: its id or first 6+ characters (default: the only round).")] = None,
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = 8765,
    host: Annotated[Optional[str], option(
        "--host", help="Listen on this address instead of 127.0.0.1 (a warning says what that exposes).")] = None,
    coders: Annotated[Optional[str], option(
        "--coders", help="The round's coders, e.g. ana,ben (default: the study's coders but consensus).")] = None,
    reviewer: Annotated[str, typer.Option(
        "--reviewer", help="Who adjudicates; their resolutions are stored as the coder consensus.")] = "reviewer",
    codebook: Annotated[Optional[str], option(
        "--codebook", help="The round's codebook file or id as the study has it now (default: the round's).")] = None,
    suggestions: Annotated[Optional[bool], typer.Option(
        "--suggestions/--no-suggestions", help="Show coders the machine's codes in this round (off unless turned "
        "on; kept per round, and the report then says so).", show_default=False)] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples for the reviewer's agreement "
                                                         "intervals (as ethnoflow agreement).")] = 1000,
    seed: SeedOption = None,
    schemes: SchemesOption = None,
    db: DbOption = None,
) -> None:
    """Serve a local web app to code a round: one post at a time, blind, then adjudication.

    Prints one link with a secret token for each coder and one for the reviewer; the tokens
    change every time the app starts (codes are saved as they are made, so closing the app and
    starting it again resumes the round). Coders never see each other's codes or, unless
    --suggestions, the machine's. Codes go into the tables `import-codes` fills: `agreement`,
    `reconcile`, the report and exports see them, and sheets can code the same round. Stop
    with Ctrl-C.

    Example:
        ethnoflow code-app --round 3f2a9c0d1e4b --coders ana,ben --port 8765
    """
    from flows.coding.app import work
    from flows.coding.app.access import Access, bind_address
    from flows.coding.app.server import Settings, Store, create_app, listening_socket, server
    from flows.coding.store import CONSENSUS, check_human_coder

    names = _names(coders) or [c for c in (defaults().coders() or []) if c != CONSENSUS]
    with _explained():
        check_human_coder(reviewer)
        for name in names:
            check_human_coder(name)
        if CONSENSUS in (*names, reviewer):
            fail(f"'{CONSENSUS}' is what the reviewer writes, not a coder or reviewer name: name the people")
        with store(db) as con:
            found = work.find_round(con, round_)
            rnd = work.load_round(con, found["round_id"], _codebook(codebook or found["codebook_id"], schemes),
                                  names, reviewer)
            if suggestions is not None:
                work.set_suggestions(con, rnd.round_id, suggestions)
            shown = work.suggestions_on(con, rnd.round_id)
    address, warning = bind_address(host)
    if warning:
        typer.echo(warning, err=True)
    try:
        sock = listening_socket(address, port)
    except OSError as exc:
        fail(f"cannot listen on {address}:{port} ({exc.strerror or exc}); choose another --port")
    access, tokens = Access.issue(list(rnd.coders), reviewer)
    base = f"http://{f'[{address}]' if ':' in address else address}:{sock.getsockname()[1]}"
    typer.echo(f"coding round {rnd.round_id[:12]} ({rnd.codebook.id}, {len(rnd.posts)} posts); machine suggestions "
               f"{'ON: coders see the machine codes (the report says so)' if shown else 'off'}")
    for name in rnd.coders:
        typer.echo(f"  {name}: {base}/login#{tokens[name]}")
    typer.echo(f"  {reviewer} (adjudication): {base}/login#{tokens[reviewer]}")
    typer.echo("send each person only their own link; Ctrl-C stops the app")
    hosts = ("*",) if address in ("0.0.0.0", "::") else tuple({address, "127.0.0.1", "localhost"})
    settings = Settings(rnd, Store(Path(store_path(db))), access, n_boot=n_boot, seed=_seed(seed),
                        allowed_hosts=hosts)
    server(create_app(settings), sock).run(sockets=[sock])
