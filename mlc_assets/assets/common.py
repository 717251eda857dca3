"""Small pieces every asset shares: owners, retry policy, markdown rendering."""

from __future__ import annotations

import dagster as dg
import polars as pl

OWNERS = ["team:finance-systems"]

# Transient API failures are retried inside the clients; a step that still fails on one is
# worth a couple of later attempts (Amazon's buckets refill, an ERP comes back).
API_RETRY = dg.RetryPolicy(
    max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

# DuckDB allows one writer process per file: every asset that writes it is in this pool,
# whose limit is 1 (see dagster.yaml in the instance home).
DUCKDB_POOL = "duckdb"


def markdown_table(frame: pl.DataFrame, *, max_rows: int = 60) -> str:
    """A markdown table for Dagster metadata (money stays exact: rendered from Decimal)."""
    if frame.is_empty():
        return "_(empty)_"
    cols = frame.columns
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.head(max_rows).iter_rows():
        out.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    if frame.height > max_rows:
        out.append(f"\n_{frame.height - max_rows} more rows_")
    return "\n".join(out)
