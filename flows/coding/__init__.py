"""Coding: codebook rules, machine coders, human coding rounds, agreement, export of codes.

One module per coder or concern; every stage reads and writes named tables (migration
``0002_coding.sql``) and reports read the ``code_values`` view:

- ``rules``: keyword/hashtag/regex matching and the ``auto:rules`` coder;
- ``semantic``: the ``auto:semantic`` coder (embedding similarity, calibrated thresholds);
- ``supervised``: the ``auto:supervised`` coder (per-code logistic regression);
- ``machine``: runs the machine coders incrementally and combines them into ``auto``;
- ``store``: codebook versions, code assignments and what reads them;
- ``sheets``: coding sheets (CSV/XLSX) written and read safely;
- ``rounds``: sampling a round into a coding sheet, reconciliation;
- ``importing``: importing a filled sheet as one coder's codes (all or nothing);
- ``messages``: readable validation messages for YAML and pydantic errors;
- ``agreement``: inter-rater and machine-vs-human agreement reports.

Nothing here imports torch, sentence-transformers or scikit-learn at import time.
"""
