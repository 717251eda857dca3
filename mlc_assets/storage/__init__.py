"""Everything the connector keeps: the DuckDB warehouse, the raw archive, the report index."""
