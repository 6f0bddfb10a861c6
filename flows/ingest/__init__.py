"""Ingest: take every corpus file researchers hold, losslessly, into the store.

Modules: ``files`` (`ingest()`: check every file, then store each new one), ``detect`` (which
format a file is), ``readers`` (raw records out of JSON, JSONL, archives and CSV), ``tables``
and ``table_sql`` (CSV column mappings; presets in ``presets/``), ``normalize`` (raw records to
canonical rows in SQL, ``sql/``) and ``reparse`` (rebuild the canonical tables from raw).
"""
