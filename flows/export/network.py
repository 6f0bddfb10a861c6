"""The interaction network for Gephi (GEXF, GraphML), pseudonymised unless asked otherwise.

The graph itself is :func:`flows.people.network.network_graph`; this module writes it as an
export: through the redaction layer (node ids ``platform:user_…`` and labels the pseudonyms),
aside then renamed, never over an existing file without ``force``, and recorded in the store's
ledger of outputs (:mod:`flows.privacy.outputs`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.export.paths import ExportError, atomic_outputs
from flows.people.network import KINDS, network_graph
from flows.privacy.outputs import record
from flows.privacy.redactor import RedactionError, Redactor


def export_network(con: duckdb.DuckDBPyConnection, path: str | Path, fmt: str = "gexf",
                   kinds: list[str] | None = None, *, pseudonymize: bool = True, secret: bytes | None = None,
                   force: bool = False) -> dict:
    """Write the network for Gephi as GEXF or GraphML; returns {"nodes", "edges", "path", "pseudonymized"}.

    Pseudonymised by default: node ids are ``platform:<pseudonym>`` and labels the pseudonyms
    (:mod:`flows.privacy.redactor`), so the file names no handle, user id or DID. The file is
    written aside and renamed, and an existing one is replaced only with ``force``.

    Raises:
        ValueError: an unknown format or kind.
        ExportError: the file exists (without ``force``), or the study secret cannot be read.
    """
    import networkx as nx

    if fmt not in ("gexf", "graphml"):
        raise ValueError(f"format {fmt!r} is not gexf or graphml")
    unknown = sorted(set(kinds or ()) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown edge kind {', '.join(unknown)}; use {', '.join(KINDS)}")
    try:
        redactor = Redactor.for_store(con, on=pseudonymize, secret=secret)
    except RedactionError as exc:
        raise ExportError(str(exc)) from None
    graph = network_graph(con, kinds, redactor.author if redactor.on else None)
    path = Path(path)
    with atomic_outputs([path], force=force) as (tmp,):
        if fmt == "gexf":
            _write_gexf(con, graph, tmp)
        else:
            nx.write_graphml(graph, tmp, edge_id_from_attribute="id")
    record(con, [path], f"export network {fmt}", pseudonymized=redactor.on)
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "path": str(path),
            "pseudonymized": redactor.on}


def _write_gexf(con: duckdb.DuckDBPyConnection, graph, path: Path) -> None:
    """GEXF whose "last modified" is the newest tie's date, not today's: same data, same bytes."""
    import networkx as nx
    from networkx.readwrite.gexf import GEXFWriter

    newest = con.execute("SELECT strftime(max(last_at), '%Y-%m-%d') FROM network_edges").fetchone()[0]
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.2draft")
    meta = writer.xml.find("meta")
    meta.set("lastmodifieddate", newest or "1970-01-01")
    meta.find("creator").text = f"ethnoflow (NetworkX {nx.__version__})"
    writer.add_graph(graph)
    writer.write(path)
