"""Embeddings: sentence models behind one small interface (`models`), cached in DuckDB by content
hash (`cache`), and batches sent to a Dask cluster (`distributed`)."""
