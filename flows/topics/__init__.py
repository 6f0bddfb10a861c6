"""Topic models that are reproducible, cached and refreshable.

BERTopic over cached embeddings (``flows.embed``), seeded and fed posts in canonical order;
each fit is a ``topic_runs`` row whose id hashes what decided it; topics, representative
posts and per-post assignments are tables keyed by run. New posts join the current run's
topics without refitting (:mod:`flows.topics.refresh`); a refit is explicit and reports how
the old topics map onto the new.

Modules: ``settings`` (TopicSettings), ``corpus`` (which posts), ``backend`` (the fit step:
BERTopic or a fast k-means stand-in), ``guide`` (codebooks), ``fit``, ``refresh``, ``store``,
``views`` (show, over time, per class) and ``pipeline`` (run_topics). Importing this package
loads no model library; BERTopic is imported only when a fit runs.
"""
