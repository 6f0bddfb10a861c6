"""The people stage: roles, tweet chats and the interaction network, then the superuser selection,
in that order (each reads what the one before wrote)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.people.chats import ChatRules, detect_chats
from flows.people.network import NetworkSettings, build_network
from flows.people.roles import assign_roles, roles_stale
from flows.people.superusers import SuperuserCriteria, select_superusers


def prepare(con: duckdb.DuckDBPyConnection, embedder=None, overrides: Path | None = None,
            network: NetworkSettings | None = None, chats: ChatRules | None = None) -> None:
    """Bring what the selection reads up to date: roles (when stale), chats and the network.

    Args:
        embedder: an Embedder, or a function returning one (called only when a bio no rule
            covers must be placed); None leaves such bios 'unknown'.
        overrides: the researcher's roles CSV, if any.
        network: the network settings; chats: the tweet-chat rules (None: the defaults).
    """
    if roles_stale(con, overrides):
        assign_roles(con, embedder, overrides)
    detect_chats(con, chats)
    build_network(con, network)


def update_people(con: duckdb.DuckDBPyConnection, *, embedder=None, overrides: Path | None = None,
                  network: NetworkSettings | None = None, chats: ChatRules | None = None,
                  criteria: SuperuserCriteria | None = None) -> list[dict]:
    """`prepare`, then rank and store the superuser candidates (see `select_superusers`)."""
    prepare(con, embedder, overrides, network=network, chats=chats)
    return select_superusers(con, criteria)
