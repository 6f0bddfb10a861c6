"""Coded datasets out of the store: tables, REFI-QDA projects and codebooks, dehydrated ids.

``dataset.export_dataset(con, out, ExportOptions(fmt=...))`` is what ``ethnoflow export dataset``
calls. One module per format or concern:

- ``selection``: the options, and the codebook version, coders and topic run they resolve to;
- ``table`` (+ ``flows/export/sql/dataset.sql``): the one-row-per-post table, built in SQL;
- ``tabular``: CSV and Parquet through DuckDB ``COPY``, XLSX streamed (texts longer than an
  Excel cell split into continuation columns); ``dictionary``: the data dictionary beside them;
- ``ids``: post ids per platform and the manifest that says what they are;
- ``codebooks``: a codebook alone for another program (``.qdc``, Taguette's codebook CSV);
- ``paths``: no overwriting without ``force``; every file written aside, then renamed;

REFI-QDA lives in :mod:`flows.export.refiqda`. With ``pseudonymize`` every format goes through
the one redaction layer, :mod:`flows.privacy.redactor` (ids, handles, names, post ids, texts).
"""
