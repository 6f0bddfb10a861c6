"""The audit of outlier reduction in the topics section: how many outlier posts were moved into
topics, by which strategy and threshold, and per topic how many and how similar they were."""

from __future__ import annotations

import json

from flows.report.context import Context
from flows.report.doc import Column, Paragraph, Table, pct
from flows.report.reads import rows


def threshold_text(settings: dict, settled: dict) -> str:
    """How similar a post had to be to move: the fixed threshold, or the per-topic rule."""
    from flows.topics.settings import OUTLIER_PERCENTILE, OUTLIER_THRESHOLD

    fixed = settings.get("outlier_threshold")
    if fixed is not None:
        return f"at least {fixed}"
    if settings.get("reduce_outliers") != "embeddings":
        return f"at least {OUTLIER_THRESHOLD}"
    spread = settled.get("outlier_thresholds") or {}
    text = f"at least that of the topic's own {OUTLIER_PERCENTILE}% least similar posts"
    if spread:
        text += f" (from {spread['min']:.2f} to {spread['max']:.2f} by topic, median {spread['median']:.2f})"
    return text


def blocks(ctx: Context, run: dict, topics: list[dict]) -> list:
    """A paragraph on what moved and why, a table per topic, and every moved post in the CSV."""
    settled = json.loads(run.get("resolved") or "{}")
    settings = json.loads(run["settings"])
    strategy = settings.get("reduce_outliers", "off")
    before = round(run["cluster_outlier_share"] * run["docs"])
    left = round(run["outlier_share"] * run["docs"])
    if strategy == "off" or not before:
        return [Paragraph(f"Clustering left {before:,} of the {run['docs']:,} fitted posts "
                          f"({pct(before, run['docs']):.1f}%) in no topic; outlier reduction is off.")]
    moved = before - left
    why = {"embeddings": "the topic whose centre (mean embedding) is most similar to the post's embedding",
           "c-tf-idf": "the topic whose c-TF-IDF words the post's words match best",
           "distributions": "the topic its words' topic distribution points to"}[strategy]
    text = (f"Clustering left {before:,} of the {run['docs']:,} fitted posts ({pct(before, run['docs']):.1f}%) in "
            f"no topic (topic -1). Outlier reduction ('{strategy}') moved {moved:,} of them to {why}, when that "
            f"similarity was {threshold_text(settings, settled)}; {left:,} "
            f"({pct(left, run['docs']):.1f}%) stay in topic -1, which posts added later can join too.")
    if settled.get("selected_posts", 0) > settled.get("fitted_posts", 0):
        text += " Posts beyond the fit's sample were not moved: they take their nearest fitted posts' topic."
    per_topic = [t for t in topics if t.get("moved")]
    columns = [Column("topic", "Topic", "int"), Column("label", "Label"), Column("moved", "Posts moved in", "int"),
               Column("share", "% of the topic's fitted posts", "pct"),
               Column("min", "Lowest similarity", "num"), Column("median", "Median similarity", "num")]
    data = [[t["topic"], t["label"], t["moved"], pct(t["moved"], t["fitted"]),
             round(t["moved_min_similarity"], 4), round(t["moved_median_similarity"], 4)] for t in per_topic]
    return [Paragraph(text),
            Table("topics_outliers_moved", "Outliers moved into each topic, and how similar they were", columns,
                  data, total=len(data), limit=10), _moved_posts(ctx, run)]


def _moved_posts(ctx: Context, run: dict) -> Table:
    found = rows(ctx.con, """SELECT platform, post_id, topic, probability FROM topic_assignments
                             WHERE run_id = ? AND method = 'reduced' ORDER BY platform, post_id""", [run["run_id"]])
    columns = [Column("post", "Post"), Column("from", "From topic", "int"), Column("topic", "To topic", "int"),
               Column("similarity", "Similarity", "num")]
    data = [[ctx.privacy.post(r["platform"], r["post_id"]), -1, r["topic"], round(r["probability"], 4)]
            for r in found]
    return Table("topics_outliers_moved_posts", "Every post moved out of topic -1", columns, data, csv_only=True)
