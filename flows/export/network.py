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
from flows.people.network import ABOUT, EDGE_ATTRIBUTES, KINDS, NODE_ATTRIBUTES, network_graph
from flows.privacy.outputs import record
from flows.privacy.redactor import RedactionError, Redactor


def export_network(con: duckdb.DuckDBPyConnection, path: str | Path, fmt: str = "gexf",
                   kinds: list[str] | None = None, *, pseudonymize: bool = True, secret: bytes | None = None,
                   force: bool = False) -> dict:
    """Write the network for Gephi as GEXF 1.3 or GraphML; returns {"nodes", "edges", "path", "pseudonymized"}.

    Pseudonymised by default: node ids are ``platform:<pseudonym>`` and labels the pseudonyms
    (:mod:`flows.privacy.redactor`), so the file names no handle, user id or DID. The file is
    written aside and renamed, and an existing one is replaced only with ``force``.

    Raises:
        ValueError: an unknown format or kind.
        ExportError: the file exists (without ``force``), or the study secret cannot be read.
    """
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
            _write_graphml(graph, tmp)
    record(con, [path], f"export network {fmt}", pseudonymized=redactor.on)
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "path": str(path),
            "pseudonymized": redactor.on}


def _about() -> str:
    lines = [ABOUT, "Node attributes:"] + [f"  {k}: {v}" for k, v in NODE_ATTRIBUTES.items()]
    return "\n".join(lines + ["Edge attributes:"] + [f"  {k}: {v}" for k, v in EDGE_ATTRIBUTES.items()])


def _write_gexf(con: duckdb.DuckDBPyConnection, graph, path: Path) -> None:
    """GEXF 1.3 whose edges carry their ``kind`` (Gephi keeps parallel edges of different kinds
    apart as edge types) and whose "last modified" is the newest tie's date, not today's."""
    import networkx as nx
    from networkx.readwrite.gexf import GEXFWriter

    newest = con.execute("SELECT strftime(max(last_at), '%Y-%m-%d') FROM network_edges").fetchone()[0]
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.3")
    meta = writer.xml.find("meta")
    meta.set("lastmodifieddate", newest or "1970-01-01")
    meta.find("creator").text = f"ethnoflow (NetworkX {nx.__version__})"
    meta.append(writer.xml.makeelement("description", {}))
    meta.find("description").text = _about()
    kinds = {str(d["id"]): d["kind"] for _, _, d in graph.edges(data=True)}
    writer.add_graph(graph)
    for edge in writer.xml.iter("edge"):
        edge.set("kind", kinds[edge.get("id")])
    writer.write(path)


def _write_graphml(graph, path: Path) -> None:
    """GraphML with a ``<desc>`` on the graph and on every attribute key."""
    import xml.etree.ElementTree as ET

    from networkx.readwrite.graphml import GraphMLWriter

    writer = GraphMLWriter(encoding="utf-8", prettyprint=True, edge_id_from_attribute="id")
    writer.add_graph_element(graph)
    described = {**{("node", k): v for k, v in NODE_ATTRIBUTES.items()},
                 **{("edge", k): v for k, v in EDGE_ATTRIBUTES.items()}}
    for key in list(writer.xml.iter("key")):  # (the writer's tags carry no namespace: xmlns is an attribute)
        if (key.get("for"), key.get("attr.name")) == ("edge", "id"):  # already each edge's id attribute
            writer.xml.remove(key)
            for edge in writer.xml.iter("edge"):
                edge.remove(next(d for d in edge.iter("data") if d.get("key") == key.get("id")))
            continue
        text = described.get((key.get("for"), key.get("attr.name")))
        if text:
            key.insert(0, ET.Element("desc"))
            key[0].text = text
    for element in writer.xml.iter("graph"):
        element.insert(0, ET.Element("desc"))
        element[0].text = ABOUT
    writer.dump(path)
