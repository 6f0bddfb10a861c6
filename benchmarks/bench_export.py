"""Dataset export speed: CSV and Parquet of 1,000,000 coded posts against DuckDB's own COPY.

    .venv/bin/python benchmarks/bench_export.py [--posts 1000000] [--repeat 3]

The store is the sample study (6,000 tweets, coded by the rules coder, roles, a k-means topic
run) replicated in SQL up to ``--posts`` posts, each copy with its own post ids, codes, topic
assignments and mentions. Measured in the same run, best of ``--repeat``:

- **ethnoflow**: ``export_dataset(--format csv|parquet)``: the dataset query (codes pivoted
  from ``code_values``, roles, topic labels, mentions; CSV cells neutralised) written by COPY,
  plus the data dictionary;
- **baseline**: ``COPY posts TO ...`` in the same format: DuckDB writing the table the export
  reads, with no joins at all (the issue's "COPY ... TO of the same table");
- **result copy**: ``COPY`` of a table already holding the export's exact rows, i.e. the cost of
  the output alone (for reading the figures; not the target).

Target: ethnoflow rows/s >= 0.5 x baseline rows/s, for CSV and for Parquet. Also timed: the
CSV export pseudonymised (``--pseudonymize``), as a ratio to the plain CSV export's time. Ends with
one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(folder: Path, posts: int):
    """The sample study scaled to ``posts`` coded posts."""
    from flows.coding.codebook import resolve_codebook
    from flows.coding.machine import code_corpus
    from flows.embed.models import FakeEmbedder
    from flows.ingest.files import ingest
    from flows.people.roles import assign_roles
    from flows.sample.generate import generate
    from flows.store.db import DEFAULT_MEMORY, ENV_MEMORY, connect
    from flows.topics.pipeline import run_topics
    from flows.topics.settings import TopicSettings

    manifest = generate(folder / "sample", tweets=6000)
    con = connect(folder / "bench.duckdb")
    # Building: millions of rows into tables with primary-key indexes need more than the default.
    con.execute("SET memory_limit = '6GB'")
    ingest(con, [manifest["corpus"]])
    code_corpus(con, resolve_codebook("chretien2015"))  # rules only: `auto` = `auto:rules`
    assign_roles(con, None)
    run_topics(con, TopicSettings(), embedder=FakeEmbedder(), backend="kmeans", models_dir=folder / "models")
    copies = math.ceil(posts / con.execute("SELECT count(*) FROM posts").fetchone()[0])
    con.execute(f"""
        CREATE TEMP TABLE id_map AS
        SELECT platform, post_id, post_id || lpad(k::VARCHAR, 4, '0') AS new_id
        FROM posts, range({copies}) AS r(k)
        QUALIFY row_number() OVER (ORDER BY k, platform, post_id) <= {posts}""")
    con.execute("DELETE FROM code_assignments WHERE coder <> 'auto'")
    for table in ("posts", "entities", "code_assignments", "topic_assignments"):
        con.execute(f"""CREATE TEMP TABLE scaled AS SELECT t.* REPLACE (m.new_id AS post_id)
                        FROM {table} AS t JOIN id_map AS m USING (platform, post_id)""")
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} SELECT * FROM scaled")
        con.execute("DROP TABLE scaled")
    con.execute("CHECKPOINT")
    con.execute("SET memory_limit = ?", [os.environ.get(ENV_MEMORY, DEFAULT_MEMORY)])  # measure as users run
    return con


def best_of(runs: dict, repeat: int) -> dict[str, float]:
    """The fastest of ``repeat`` timings of each function, the functions taking turns so that a
    machine busy with something else slows them alike."""
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from flows.export.dataset import export_dataset
    from flows.export.selection import ExportOptions, select
    from flows.export.table import dataset_query

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        t0 = time.perf_counter()
        con = build(folder, args.posts)
        rows = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        coded = con.execute("SELECT count(DISTINCT post_id) FROM code_assignments").fetchone()[0]
        print(f"store: {rows:,} posts ({coded:,} coded) built in {time.perf_counter() - t0:.1f}s", flush=True)
        figures = {"posts": rows, "coded_posts": coded}
        for fmt, how in (("csv", "FORMAT csv, HEADER"), ("parquet", "FORMAT parquet, COMPRESSION zstd")):
            out = folder / f"export.{fmt}"
            options = ExportOptions(fmt=fmt, force=True)
            query = dataset_query(con, select(con, options), options, spreadsheet=fmt == "csv")
            con.execute(f"CREATE OR REPLACE TEMP TABLE result_rows AS {query}")
            times = best_of({
                "ours": lambda out=out, options=options: export_dataset(con, out, options),
                "base": lambda fmt=fmt, how=how: con.execute(f"COPY posts TO '{folder / ('base.' + fmt)}' ({how})"),
                "result": lambda fmt=fmt, how=how: con.execute(
                    f"COPY result_rows TO '{folder / ('result.' + fmt)}' ({how})"),
            }, args.repeat)
            con.execute("DROP TABLE result_rows")
            ours, base, result = times["ours"], times["base"], times["result"]
            ratio = base / ours
            figures[fmt] = {"ethnoflow_rows_per_s": round(rows / ours), "baseline_rows_per_s": round(rows / base),
                            "result_copy_rows_per_s": round(rows / result), "ratio_vs_baseline": round(ratio, 3),
                            "target": 0.5, "meets_target": ratio >= 0.5,
                            "seconds": {"ethnoflow": round(ours, 3), "baseline": round(base, 3),
                                        "result_copy": round(result, 3)}}
            print(f"{fmt:8} ethnoflow {rows / ours:>12,.0f} rows/s  COPY posts {rows / base:>12,.0f} rows/s  "
                  f"ratio {ratio:.2f} (target >= 0.5)  [COPY of the finished rows {rows / result:,.0f} rows/s]",
                  flush=True)
        figures["csv_pseudonymized"] = _pseudonymized(con, folder, rows, figures["csv"]["seconds"]["ethnoflow"],
                                                      args.repeat)
        con.close()
    print(json.dumps(figures, sort_keys=True))


def _pseudonymized(con, folder: Path, rows: int, plain: float, repeat: int) -> dict:
    """The same CSV export through the redaction layer (every post id, author, text and label
    pseudonymised), against the plain export timed above in the same run."""
    from flows.export.dataset import export_dataset
    from flows.export.selection import ExportOptions

    options = ExportOptions(fmt="csv", force=True, pseudonymize=True)
    seconds = best_of({"p": lambda: export_dataset(con, folder / "p.csv", options, secret=b"bench")}, repeat)["p"]
    print(f"csv pseudonymised {rows / seconds:>12,.0f} rows/s  {seconds / plain:.2f} x the plain export's time",
          flush=True)
    return {"rows_per_s": round(rows / seconds), "seconds": round(seconds, 3),
            "ratio_to_plain_time": round(seconds / plain, 3)}


if __name__ == "__main__":
    main()
