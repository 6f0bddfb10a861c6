"""The interaction network: ties, directed edges, centrality, summaries and Gephi export.

``build_network`` rebuilds, in one transaction, from ``posts`` and ``entities``:

- ``interactions``: one row per tie a post makes (reply, mention, quote, repost; see
  ``flows/people/sql/interactions.sql`` for how targets are resolved and why a reply's
  or quote's target is not also counted as a mention);
- ``network_edges``: interactions counted per (source, target, kind), with the number of
  posts, of distinct months and the first and last dates;
- ``network_centrality``: in/out degree and weight (SQL), betweenness and PageRank
  (networkx, on the aggregated edge list only);
- ``mentorship_candidates`` and ``sponsorship_events`` (``flows.people.mentorship``), which need
  ``author_roles``.

The heavy work (a million posts) is DuckDB SQL; networkx only sees one weighted edge per
pair of accounts. Betweenness is exact while accounts x (accounts + edges) stays within
``betweenness_budget`` (5 million: about a thousand accounts) and estimated beyond it from
pivots drawn with ``seed`` (``betweenness_pivots``), so results are reproducible either way.
"""

from __future__ import annotations

from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from flows.store.db import sql_text, transaction

KINDS = ("reply", "mention", "quote", "repost")
# A trainee's post is about their own work or achievement when it matches this (lower-cased).
ACHIEVEMENT_CUES = (r"\b(paper|preprint|manuscript|publication|published|in print|first[- ]author|poster|"
                    r"abstract|present(ed|ing) (at|our|my)|award|awarded|won (a|an|the|best|first|top|our|my)|"
                    r"honou?red|grant|scholarship|matched|match day|accepted)\b|#match\d{4}")


class NetworkSettings(BaseModel):
    """How ties are read (the ``network:`` section of a study file)."""

    model_config = ConfigDict(extra="forbid")

    reciprocity_months: int = Field(3, ge=1, description="months with replies both ways for a mentorship candidate")
    sponsor_roles: list[Literal["faculty", "resident"]] = Field(
        default_factory=lambda: ["faculty", "resident"],
        description="roles whose reposts/quotes of a more junior trainee's work count as sponsorship")
    achievement_cues: str = Field(ACHIEVEMENT_CUES, description="regex (RE2) marking a post as the author's "
                                  "own work or achievement")
    betweenness_budget: int = Field(5_000_000, ge=1, description="work allowed for betweenness, in "
                                    "accounts x (accounts + edges); beyond it, pivots are sampled")
    seed: int = Field(2015, description="seed of the betweenness sample (the study seed)")


def build_network(con: duckdb.DuckDBPyConnection, settings: NetworkSettings | None = None) -> dict:
    """Rebuild interactions, edges, centrality, mentorship candidates and sponsorship events.

    Roles should be assigned first (``flows.people.roles.assign_roles``); accounts without a
    role count as 'other'. Returns the counts of what was written.
    """
    from flows.people.mentorship import find_mentorship, find_sponsorship

    settings = settings or NetworkSettings()
    with transaction(con):
        for table in ("interactions", "network_edges", "network_centrality"):
            con.execute(f"DELETE FROM {table}")
        con.execute(sql_text("people/interactions.sql"))
        con.execute(sql_text("people/edges.sql"))
        _centrality(con, settings)
        mentorship = find_mentorship(con, settings.reciprocity_months)
        sponsorship = find_sponsorship(con, settings)
    return {"interactions": _count(con, "interactions"), "edges": _count(con, "network_edges"),
            "accounts": _count(con, "network_centrality"), "mentorship_candidates": mentorship,
            "sponsorship_events": sponsorship}


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _centrality(con: duckdb.DuckDBPyConnection, settings: NetworkSettings) -> None:
    """Degrees from SQL; betweenness and PageRank from networkx on one edge per pair."""
    import networkx as nx
    import pyarrow as pa

    degrees = con.execute(sql_text("people/degrees.sql")).fetchall()  # sorted: a stable node order
    index = {(p, a): n for n, (p, a, *_) in enumerate(degrees)}
    pairs = con.execute("SELECT platform, source_id, target_id, sum(posts) FROM network_edges "
                        "GROUP BY ALL ORDER BY ALL").fetchall()
    graph = nx.DiGraph()  # integer nodes: faster searches than string keys
    graph.add_nodes_from(range(len(degrees)))
    graph.add_weighted_edges_from((index[(p, s)], index[(p, t)], w) for p, s, t, w in pairs)
    pagerank = nx.pagerank(graph, alpha=0.85, weight="weight") if len(graph) else {}
    k = betweenness_pivots(graph.number_of_nodes(), graph.number_of_edges(), settings.betweenness_budget)
    between = nx.betweenness_centrality(graph, k=k, normalized=True, seed=settings.seed) if len(graph) else {}
    rows = [(p, a, i, o, iw, ow, round(between[n], 12), round(pagerank[n], 12))
            for n, (p, a, i, o, iw, ow) in enumerate(degrees)]
    names = ["platform", "author_id", "in_degree", "out_degree", "in_weight", "out_weight", "betweenness", "pagerank"]
    if rows:
        centrality = pa.table(dict(zip(names, map(list, zip(*rows)))))  # noqa: F841 (read by the SQL)
        con.execute("INSERT INTO network_centrality SELECT * FROM centrality")


def betweenness_pivots(nodes: int, edges: int, budget: int) -> int | None:
    """None (exact) when one search per account fits the budget; else that many pivots (>= 16).

    One breadth-first search costs about accounts + edges; exact betweenness runs one per
    account. Beyond the budget, pivots are drawn with the seed, so results stay reproducible.
    """
    per_search = max(1, nodes + edges)
    if nodes * per_search <= budget:
        return None
    return min(nodes, max(16, budget // per_search))


def network_summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Edges by kind, the role-to-role table, mentorship candidates and sponsorship events.

    The keys are a stable interface (``ethnoflow network --json``).
    """
    by_kind = con.execute("SELECT kind, count(*), sum(posts)::BIGINT FROM network_edges GROUP BY kind "
                          "ORDER BY kind").fetchall()
    roles = con.execute("SELECT source_role, target_role, kind, edges, posts FROM role_edges_v "
                        "ORDER BY source_role, target_role, kind").fetchall()
    top = con.execute("""SELECT coalesce(a.handle, c.author_id), c.in_degree, c.out_degree, c.betweenness,
                                c.pagerank
                         FROM network_centrality c LEFT JOIN accounts_v a USING (platform, author_id)
                         ORDER BY c.pagerank DESC, 1 LIMIT 10""").fetchall()
    from flows.people.mentorship import list_mentorship, list_sponsorship

    return {
        "edges": {k: {"edges": e, "posts": p} for k, e, p in by_kind},
        "role_to_role": [{"source_role": s, "target_role": t, "kind": k, "edges": e, "posts": p}
                         for s, t, k, e, p in roles],
        "mentorship_candidates": list_mentorship(con),
        "sponsorship_events": list_sponsorship(con),
        "top_pagerank": [{"handle": h, "in_degree": i, "out_degree": o, "betweenness": b, "pagerank": r}
                         for h, i, o, b, r in top],
    }


def role_pairs(con: duckdb.DuckDBPyConnection, kind: str, source_role: str, target_role: str) -> int:
    """Interactions of one kind from one role to another, e.g. ("reply", "student", "faculty")."""
    row = con.execute("SELECT coalesce(sum(posts), 0) FROM role_edges_v WHERE kind = ? AND source_role = ? "
                      "AND target_role = ?", [kind, source_role, target_role]).fetchone()
    return int(row[0])


# What every attribute of an exported network means (written into the GEXF and GraphML files too).
NODE_ATTRIBUTES = {
    "label": "the account's handle (its id when the data had no handle)",
    "platform": "twitter or bluesky",
    "role": "the account's role from `ethnoflow roles` (other when none was assigned)",
    "in_accounts": "distinct accounts with an edge to this one in this file",
    "out_accounts": "distinct accounts this one has an edge to in this file",
    "in_edges": "edges to this account in this file, one per (source, kind): Gephi's In-Degree",
    "out_edges": "edges from this account in this file, one per (target, kind): Gephi's Out-Degree",
    "in_posts": "posts making the edges to this account (the sum of their weights): Gephi's weighted In-Degree",
    "out_posts": "posts this account made that tie it to others: Gephi's weighted Out-Degree",
    "betweenness": "betweenness centrality (normalised) on one edge per pair of accounts, all kinds",
    "pagerank": "PageRank (alpha 0.85) on one edge per pair of accounts weighted by posts, all kinds",
}
EDGE_ATTRIBUTES = {
    "id": "source|target|kind (the edge's id)",
    "label": "the kind, as the label Gephi shows",
    "kind": "reply, mention, quote or repost; in GEXF also the edge's kind (Gephi's edge type)",
    "weight": "posts making this tie (a real number, as Gephi reads edge weights)",
    "months": "distinct calendar months with such posts",
    "first": "the first such post (UTC, ISO 8601)",
    "last": "the last such post (UTC, ISO 8601)",
    "networkx_key": "GEXF only: the kind again, as networkx's key of a parallel edge (read_gexf uses it)",
}
ABOUT = ("Interaction network exported by ethnoflow: nodes are accounts, edges are directed, one per "
         "(source, target, kind), so two accounts can be joined by up to four parallel edges.")

NODES_SQL = """
WITH e AS (SELECT * FROM network_edges WHERE list_contains(?, kind)),
outgoing AS (SELECT platform, source_id AS author_id, count(DISTINCT target_id) AS accounts, count(*) AS edges,
                    sum(posts) AS posts FROM e GROUP BY ALL),
incoming AS (SELECT platform, target_id AS author_id, count(DISTINCT source_id) AS accounts, count(*) AS edges,
                    sum(posts) AS posts FROM e GROUP BY ALL)
SELECT c.platform || ':' || c.author_id, coalesce(a.handle, c.author_id), c.platform, coalesce(r.role, 'other'),
       coalesce(i.accounts, 0), coalesce(o.accounts, 0), coalesce(i.edges, 0), coalesce(o.edges, 0),
       coalesce(i.posts, 0)::BIGINT, coalesce(o.posts, 0)::BIGINT, c.betweenness, c.pagerank
FROM network_centrality c
LEFT JOIN accounts_v a USING (platform, author_id)
LEFT JOIN author_roles r USING (platform, author_id)
LEFT JOIN incoming i USING (platform, author_id)
LEFT JOIN outgoing o USING (platform, author_id)
ORDER BY 1"""


def network_graph(con: duckdb.DuckDBPyConnection, kinds: list[str] | None = None, name=None):
    """The network as a networkx ``MultiDiGraph``: one edge per (source, target, kind).

    Nodes are ``platform:author_id`` with the attributes of :data:`NODE_ATTRIBUTES` (degrees
    counted over the edges of ``kinds``); edges carry :data:`EDGE_ATTRIBUTES`. ``name`` (an
    author id -> what to show instead, e.g. its pseudonym) replaces the ids in node ids and
    labels. Text is cleaned of characters XML cannot hold (handles from CSVs can hold anything).
    """
    import networkx as nx

    from flows.export.refiqda.xml import clean

    def shown(node: str) -> str:
        platform, _, author = node.partition(":")  # a DID keeps its own colons
        return clean(f"{platform}:{name(author)}" if name else node)

    kinds = list(kinds or KINDS)
    graph = nx.MultiDiGraph()
    for node, *values in con.execute(NODES_SQL, [kinds]).fetchall():
        attrs = dict(zip(NODE_ATTRIBUTES, values))
        attrs["label"] = clean(name(node.partition(":")[2]) if name else attrs["label"])
        graph.add_node(shown(node), **{k: float(v) if k in ("betweenness", "pagerank") else v
                                       for k, v in attrs.items()})
    edges = con.execute("""
        SELECT platform || ':' || source_id, platform || ':' || target_id, kind, posts, months,
               strftime(first_at, '%Y-%m-%dT%H:%M:%SZ'), strftime(last_at, '%Y-%m-%dT%H:%M:%SZ')
        FROM network_edges WHERE list_contains(?, kind) ORDER BY 1, 2, 3""", [kinds]).fetchall()
    for s, t, kind, posts, months, first, last in edges:
        s, t = shown(s), shown(t)
        graph.add_edge(s, t, key=kind, id=f"{s}|{t}|{kind}", label=kind, kind=kind, weight=float(posts),
                       months=int(months), first=first or "", last=last or "")
    return graph
