"""The store: one DuckDB file, its numbered migrations, the study's write lock and `status`."""
