"""The interaction network: edges, reciprocity, sponsorship, centrality, export, sample study."""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import pytest
from fixtures.network.build import Corpus

from flows.export.network import export_network
from flows.ingest.files import ingest
from flows.people.network import NetworkSettings, betweenness_pivots, build_network, role_pairs
from flows.people.roles import assign_roles

BIOS = {"stu1": "MS3 at Example SOM", "stu2": "Med student, class of 2017", "fac": "Assistant Professor of Medicine",
        "res": "PGY-2 internal medicine", "jour": "Official account of the Journal of Examples"}


def mentoring_corpus() -> Corpus:
    """fac and stu1 reply both ways in Jan, Feb, Mar; res and stu2 in Jan and Feb only;
    stu1's paper is reposted by fac (sponsorship), quoted by res (sponsorship) and reposted
    by stu2 and the journal (not sponsorship); fac also reposts stu1's small talk and a reply."""
    c = Corpus()
    for handle, bio in BIOS.items():
        c.user(handle, bio)
    p1 = c.post("fac", "Presenting tip: lead with your assessment #MedEd", "2015-01-05T10:00")
    r1 = c.post("stu1", "@fac Thank you, trying it tomorrow", "2015-01-05T11:00", reply_to=p1)
    c.post("fac", "@stu1 Anytime, and loop in @stu2", "2015-01-05T12:00", reply_to=r1)
    p2 = c.post("stu1", "Question for @fac: how do you pick a specialty?", "2015-02-03T10:00")
    r3 = c.post("fac", "@stu1 Follow the patients you enjoy", "2015-02-03T11:00", reply_to=p2)
    c.post("stu1", "@fac That helps", "2015-02-03T12:00", reply_to=r3)
    r5 = c.post("stu1", "@fac Still thinking about this", "2015-03-02T10:00", reply_to=p1)
    c.post("fac", "@stu1 Good", "2015-03-02T11:00", reply_to=r5)
    q1 = c.post("res", "Night float done #MedTwitter", "2015-01-10T10:00")
    r7 = c.post("stu2", "@res congrats", "2015-01-10T11:00", reply_to=q1)
    c.post("res", "@stu2 thanks!", "2015-01-10T12:00", reply_to=r7)
    r9 = c.post("stu2", "@res still impressed", "2015-02-10T10:00", reply_to=q1)
    c.post("res", "@stu2 ha", "2015-02-10T11:00", reply_to=r9)
    w1 = c.post("stu1", "Our paper is out! Two years of work #MedEd", "2015-03-10T10:00")
    c.post("fac", "", "2015-03-10T12:00", repost=w1)
    c.post("res", "So proud of @stu1!", "2015-03-11T10:00", quote=w1)
    c.post("stu2", "", "2015-03-12T10:00", repost=w1)
    c.post("jour", "", "2015-03-12T11:00", repost=w1)
    coffee = c.post("stu1", "Third coffee of the day", "2015-03-13T10:00")
    c.post("fac", "", "2015-03-13T12:00", repost=coffee)
    r11 = c.post("stu1", "@fac I presented our poster today!", "2015-03-20T10:00", reply_to=p1)
    c.post("fac", "", "2015-03-20T12:00", repost=r11)
    c.post("stu1", "@stu1 and a note to self", "2015-03-21T10:00", reply_to=w1)
    c.post("stu2", "Reading @outsider on feedback", "2015-04-01T10:00")
    return c


@pytest.fixture
def built(con, tmp_path):
    ingest(con, [mentoring_corpus().write(tmp_path / "mentoring.jsonl")])
    assign_roles(con, None)
    build_network(con)
    return con


def edges(con) -> set[tuple]:
    return set(con.execute("""
        SELECT source_handle, target_handle, kind, posts, months, strftime(first_at, '%m-%dT%H'),
               strftime(last_at, '%m-%dT%H')
        FROM network_edges_v""").fetchall())


def test_edges_count_each_kind_once_per_post(built):
    assert edges(built) == {
        ("stu1", "fac", "reply", 4, 3, "01-05T11", "03-20T10"),
        ("fac", "stu1", "reply", 3, 3, "01-05T12", "03-02T11"),
        ("stu2", "res", "reply", 2, 2, "01-10T11", "02-10T10"),
        ("res", "stu2", "reply", 2, 2, "01-10T12", "02-10T11"),
        ("fac", "stu2", "mention", 1, 1, "01-05T12", "01-05T12"),
        ("stu1", "fac", "mention", 1, 1, "02-03T10", "02-03T10"),  # replies do not also mention
        ("stu2", "outsider", "mention", 1, 1, "04-01T10", "04-01T10"),  # an account with no profile
        ("fac", "stu1", "repost", 3, 1, "03-10T12", "03-20T12"),
        ("stu2", "stu1", "repost", 1, 1, "03-12T10", "03-12T10"),
        ("jour", "stu1", "repost", 1, 1, "03-12T11", "03-12T11"),
        ("res", "stu1", "quote", 1, 1, "03-11T10", "03-11T10"),  # the quote's @stu1 is not a mention
    }  # stu1's reply to itself makes no tie


def test_role_to_role_summaries(built):
    assert role_pairs(built, "reply", "student", "faculty") == 4
    assert role_pairs(built, "repost", "faculty", "student") == 3
    assert role_pairs(built, "quote", "resident", "student") == 1


def test_reciprocal_ties_that_last_are_mentorship_candidates(built):
    rows = built.execute("""SELECT a.handle, b.handle, m.tie, m.months_both_ways, m.mentor_replies, m.mentee_replies,
                                   m.first_month::VARCHAR, m.last_month::VARCHAR
                            FROM mentorship_candidates m JOIN accounts_v a ON a.author_id = m.mentor_id
                            JOIN accounts_v b ON b.author_id = m.mentee_id""").fetchall()
    assert rows == [("fac", "stu1", "hierarchical", 3, 3, 4, "2015-01-01", "2015-03-01")]


def test_reciprocity_threshold_is_configurable(built):
    build_network(built, NetworkSettings(reciprocity_months=2))
    pairs = built.execute("""SELECT a.handle, b.handle, m.months_both_ways FROM mentorship_candidates m
                             JOIN accounts_v a ON a.author_id = m.mentor_id
                             JOIN accounts_v b ON b.author_id = m.mentee_id
                             ORDER BY 1""").fetchall()
    assert pairs == [("fac", "stu1", 3), ("res", "stu2", 2)]


def test_sponsorship_is_a_senior_amplifying_a_trainees_own_work(built):
    rows = built.execute("""SELECT a.handle, b.handle, s.kind, s.cue FROM sponsorship_events s
                            JOIN accounts_v a ON a.author_id = s.sponsor_id
                            JOIN accounts_v b ON b.author_id = s.trainee_id
                            ORDER BY s.created_at""").fetchall()
    # not: a student's or the journal's repost, small talk, a reply mentioning a poster
    assert rows == [("fac", "stu1", "repost", "paper"), ("res", "stu1", "quote", "paper")]


def test_centrality_degrees_weights_and_pagerank(built):
    rows = {h: r for h, *r in built.execute("""
        SELECT coalesce(a.handle, c.author_id), in_degree, out_degree, in_weight, out_weight, betweenness, pagerank
        FROM network_centrality c LEFT JOIN accounts_v a USING (platform, author_id)""").fetchall()}
    assert set(rows) == {"stu1", "stu2", "fac", "res", "jour", "@outsider"}
    assert rows["stu1"][:4] == [4, 1, 9, 5]  # from fac, stu2, res, jour; to fac (4 replies, 1 mention)
    assert rows["fac"][:4] == [1, 2, 5, 7]  # from stu1; to stu1 (3 replies, 3 reposts) and stu2
    assert sum(r[5] for r in rows.values()) == pytest.approx(1.0)
    assert max(rows, key=lambda h: rows[h][5]) == "stu1"  # everyone amplifies the paper
    assert rows["stu2"][4] > 0 and rows["jour"][4] == 0  # stu2 links res to the rest; jour links no one


def test_network_is_the_same_when_rebuilt(built):
    before = built.execute("SELECT * FROM network_centrality ORDER BY ALL").fetchall()
    build_network(built)
    assert built.execute("SELECT * FROM network_centrality ORDER BY ALL").fetchall() == before


def test_targets_resolved_without_the_referenced_post(con):
    """Reply-to user, "RT @handle:", a quote's status link and Bluesky at:// URIs stand in."""
    con.execute("""INSERT INTO authors BY NAME SELECT * FROM (VALUES
        ('twitter', '100', 'alice', 's', 1), ('twitter', '201', 'Bob', 's', 2))
        t(platform, author_id, handle, source_sha256, record_no)""")
    con.execute("""INSERT INTO posts BY NAME
        SELECT *, 's' AS source_sha256, 1 AS record_no, 1 AS item_no, 'x' AS parser_version FROM (VALUES
        ('twitter', '1', '100', 'reply', '@zed hi', '900', '200', NULL, NULL),
        ('twitter', '2', '100', 'repost', 'RT @bob: hello', NULL, NULL, NULL, '901'),
        ('twitter', '3', '100', 'quote', 'look https://t.co/x', NULL, NULL, '555', NULL),
        ('bluesky', 'at://did:plc:aaa/app.bsky.feed.post/1', 'did:plc:aaa', 'reply', 'hi',
         'at://did:plc:bbb/app.bsky.feed.post/9', NULL, NULL, NULL))
        t(platform, post_id, author_id, kind, text, in_reply_to_post_id, in_reply_to_author_id, quoted_post_id,
          reposted_post_id)""")
    con.execute("""INSERT INTO entities BY NAME SELECT * FROM (VALUES
        ('twitter', '1', 'mention', 'zed', 'zed', 0, 4, '200'),
        ('twitter', '2', 'mention', 'bob', 'bob', 3, 7, NULL),
        ('twitter', '3', 'url', 'https://t.co/x', 'https://twitter.com/Carol/status/555', 5, 19, NULL))
        t(platform, post_id, kind, value, normalized, start_pos, end_pos, target_id)""")
    build_network(con)
    assert sorted(con.execute("SELECT post_id, kind, target_id FROM interactions").fetchall()) == [
        ("1", "reply", "200"), ("2", "repost", "201"), ("3", "quote", "@carol"),
        ("at://did:plc:aaa/app.bsky.feed.post/1", "reply", "did:plc:bbb")]


def test_betweenness_is_exact_for_small_networks_and_sampled_for_large():
    assert betweenness_pivots(40, 800, 5_000_000) is None
    assert betweenness_pivots(20_000, 600_000, 5_000_000) == 16
    assert betweenness_pivots(5_000, 60_000, 5_000_000) == 76


def read_back(path, fmt):
    return nx.read_gexf(path, version="1.3") if fmt == "gexf" else nx.read_graphml(path, force_multigraph=True)


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_export_for_gephi_reads_back_with_degrees_named_for_what_they_count(built, tmp_path, fmt):
    path = tmp_path / f"net.{fmt}"
    result = export_network(built, path, fmt, pseudonymize=False)
    graph = read_back(path, fmt)
    assert (result["nodes"], result["edges"]) == (6, 11) == (graph.number_of_nodes(), graph.number_of_edges())
    stu1 = next(n for n, d in graph.nodes(data=True) if d.get("label") == "stu1")
    assert graph.nodes[stu1]["role"] == "student"
    kinds = sorted(d["kind"] for _, _, d in graph.edges(data=True))
    assert kinds.count("reply") == 4 and kinds.count("repost") == 3
    assert all(isinstance(d["weight"], float) and d["weight"] >= 1 for _, _, d in graph.edges(data=True))
    for node, d in graph.nodes(data=True):  # what a multigraph program computes, as the attributes say
        assert (d["in_edges"], d["out_edges"]) == (graph.in_degree(node), graph.out_degree(node))
        assert (d["in_posts"], d["out_posts"]) == (graph.in_degree(node, weight="weight"),
                                                   graph.out_degree(node, weight="weight"))
        assert (d["in_accounts"], d["out_accounts"]) == (len(set(graph.predecessors(node))),
                                                         len(set(graph.successors(node))))
    assert (graph.nodes[stu1]["in_accounts"], graph.nodes[stu1]["in_edges"], graph.nodes[stu1]["in_posts"]) == (4, 5, 9)
    first = path.read_bytes()
    export_network(built, path, fmt, pseudonymize=False, force=True)
    assert path.read_bytes() == first  # same network, same bytes (no clock in the file)


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_export_is_pseudonymised_by_default(built, tmp_path, fmt):
    path = tmp_path / f"net.{fmt}"
    result = export_network(built, path, fmt, secret=b"network-secret")
    graph = read_back(path, fmt)
    assert result["pseudonymized"] and (graph.number_of_nodes(), graph.number_of_edges()) == (6, 11)
    assert all(re.fullmatch(r"user_[0-9a-f]{16}", d["label"]) for _, d in graph.nodes(data=True))
    assert all(re.fullmatch(r"twitter:user_[0-9a-f]{16}", n) for n in graph.nodes)
    text = path.read_text(encoding="utf-8").lower()
    for author_id, handle in built.execute("SELECT author_id, handle FROM accounts_v").fetchall():
        assert not re.search(rf"[^0-9a-z_]{re.escape(handle.lower())}[^0-9a-z_]", text), handle
        assert not re.search(rf"[^0-9]{author_id}[^0-9]", text), author_id
    again = tmp_path / f"again.{fmt}"
    export_network(built, again, fmt, secret=b"network-secret")
    assert again.read_bytes() == path.read_bytes()


def test_export_refuses_to_overwrite_without_force(built, tmp_path):
    from flows.export.paths import ExportError

    path = tmp_path / "net.gexf"
    path.write_text("precious", encoding="utf-8")
    with pytest.raises(ExportError, match="already exists; choose another --out or pass --force"):
        export_network(built, path, "gexf", secret=b"k")
    assert path.read_text(encoding="utf-8") == "precious"
    export_network(built, path, "gexf", secret=b"k", force=True)
    assert path.read_text(encoding="utf-8").startswith("<?xml")


def test_gexf_edges_carry_their_kind_and_both_files_document_every_attribute(built, tmp_path):
    import xml.etree.ElementTree as ET

    from flows.people.network import EDGE_ATTRIBUTES, NODE_ATTRIBUTES

    export_network(built, tmp_path / "n.gexf", "gexf", secret=b"k")
    gexf = ET.parse(tmp_path / "n.gexf").getroot()
    ns = {"g": "http://gexf.net/1.3"}
    edges = gexf.findall(".//g:edge", ns)
    assert len(edges) == 11 and all(e.get("kind") == e.get("label") == e.get("id").rsplit("|", 1)[1] for e in edges)
    about = gexf.find("g:meta/g:description", ns).text
    titles = {a.get("title") for a in gexf.iter("{http://gexf.net/1.3}attribute")}
    assert all(f"  {name}: " in about for name in titles | {"label", "weight"})
    export_network(built, tmp_path / "n.graphml", "graphml", secret=b"k")
    graphml = ET.parse(tmp_path / "n.graphml").getroot()
    keys = graphml.findall("{http://graphml.graphdrawing.org/xmlns}key")
    described = {**{("node", k): v for k, v in NODE_ATTRIBUTES.items()},
                 **{("edge", k): v for k, v in EDGE_ATTRIBUTES.items()}}
    assert keys and all(k.find("{http://graphml.graphdrawing.org/xmlns}desc").text
                        == described[(k.get("for"), k.get("attr.name"))] for k in keys)


def test_igraph_reads_the_graphml_with_weights_and_the_same_degrees(built, tmp_path):
    import igraph

    export_network(built, tmp_path / "n.graphml", "graphml", secret=b"k")
    graph = igraph.Graph.Read_GraphML(str(tmp_path / "n.graphml"))
    assert (graph.vcount(), graph.ecount()) == (6, 11) and graph.is_directed()
    assert all(isinstance(w, float) for w in graph.es["weight"])
    assert graph.degree(mode="in") == [int(x) for x in graph.vs["in_edges"]]
    assert graph.strength(mode="out", weights="weight") == [float(x) for x in graph.vs["out_posts"]]
    assert sorted(graph.es["kind"]).count("reply") == 4


def test_export_only_some_kinds_counts_degrees_over_them_and_refuses_unknown(built, tmp_path):
    assert export_network(built, tmp_path / "r.gexf", "gexf", ["reply"], secret=b"k")["edges"] == 4
    graph = read_back(tmp_path / "r.gexf", "gexf")
    assert sum(d["in_edges"] for _, d in graph.nodes(data=True)) == 4
    with pytest.raises(ValueError, match="unknown edge kind"):
        export_network(built, tmp_path / "x.gexf", "gexf", ["likes"], secret=b"k")


def test_cli_network_summary_and_export(cli, tmp_path):
    cli("ingest", mentoring_corpus().write(tmp_path / "mentoring.jsonl"))
    summary = json.loads(cli("network", "--json", "--model", "none").output)
    assert set(summary) >= {"edges", "role_to_role", "mentorship_candidates", "sponsorship_events"}
    assert summary["edges"]["reply"] == {"edges": 4, "posts": 11}
    assert [(m["mentor"], m["mentee"]) for m in summary["mentorship_candidates"]] == [("fac", "stu1")]
    out = cli("export", "network", "--format", "graphml", "--out", tmp_path / "n.graphml", "--model", "none").output
    assert "6 accounts and 11 edges" in out and (tmp_path / "n.graphml").exists()
    assert cli("export", "network", "--format", "pdf", "--out", tmp_path / "n.pdf", "--model", "none",
               ok=False).exit_code == 2


# -- the sample study ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from flows.embed.models import FakeEmbedder
    from flows.sample.generate import generate
    from flows.store.db import connect

    folder = tmp_path_factory.mktemp("sample")
    manifest = generate(folder)
    con = connect(folder / "sample.duckdb")
    ingest(con, [manifest["corpus"]])
    assign_roles(con, FakeEmbedder())
    build_network(con)
    yield con, json.loads(Path(manifest["truth"]).read_text(encoding="utf-8"))
    con.close()


def test_sample_study_mentorship_pairs_are_recovered(sample):
    con, truth = sample
    found = set(con.execute("""SELECT a.handle, b.handle FROM mentorship_candidates m
                               JOIN accounts_v a ON a.author_id = m.mentor_id
                               JOIN accounts_v b ON b.author_id = m.mentee_id""").fetchall())
    intended = {(p["mentor"], p["mentee"]) for p in truth["mentorship_pairs"]}
    assert intended <= found  # every intended pair, mentor and mentee the right way round
    assert len(found - intended) <= len(intended) // 5


def test_sample_study_sponsorship_events_are_found(sample):
    con, truth = sample
    found = set(con.execute("""SELECT a.handle, b.handle, s.post_id, s.work_post_id FROM sponsorship_events s
                               JOIN accounts_v a ON a.author_id = s.sponsor_id
                               JOIN accounts_v b ON b.author_id = s.trainee_id""").fetchall())
    planted = {(e["sponsor"], e["trainee"], e["post_id"], e["work_post_id"]) for e in truth["sponsorship_events"]}
    assert planted <= found
