"""Small pieces every asset shares: owners, retry policy, markdown rendering."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import dagster as dg
import polars as pl

from mlc_assets.errors import ApiError, MlcError, PermanentApiError
from mlc_assets.resources.archive import ArchiveResource
from mlc_assets.resources.spapi import SpapiResource
from mlc_assets.services.discovery import DiscoveryResult, discover_settlements

F = TypeVar("F", bound=Callable[..., Any])


def land_reports(
    spapi: SpapiResource, archive: ArchiveResource, cursor: datetime | None
) -> DiscoveryResult:
    """List the seller's settlement reports and land each one not in the index, once."""
    with spapi.client() as client:
        return discover_settlements(
            client.reports,
            archive.archive(),
            archive.report_index(),
            report_type=spapi.report_type(),
            marketplace_ids=spapi.marketplace_ids(),
            cursor=cursor,
        )


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


@contextlib.contextmanager
def fail_fast_on_permanent_errors() -> Iterator[None]:
    """A validation fault or bad input will fail the same way on every retry: stop at once,
    with the error's own message as the failure description."""
    try:
        yield
    except MlcError as exc:
        if isinstance(exc, ApiError) and not isinstance(exc, PermanentApiError):
            raise  # transient or unclassified: the step's retry policy gets another go
        raise dg.Failure(description=f"{type(exc).__name__}: {exc}", allow_retries=False) from exc


def fail_fast(fn: F) -> F:
    """Decorator form of :func:`fail_fast_on_permanent_errors` for asset functions."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with fail_fast_on_permanent_errors():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def about_settlement(result: dg.MaterializeResult, about: dict[str, str]) -> dg.MaterializeResult:
    """Every stage's metadata and every check result name the settlement, marketplace,
    period and currency (the UI lists check results by partition otherwise: "Partition —")."""
    head = ", ".join(v for k, v in about.items() if k != "settlement_id" and v)
    label = f"settlement {about['settlement_id']}" + (f" ({head})" if head else "")
    checks = [
        dg.AssetCheckResult(
            check_name=check.check_name,
            asset_key=check.asset_key,
            passed=check.passed,
            severity=check.severity,
            description=f"{label}: {check.description}" if check.description else label,
            metadata={**about, **(check.metadata or {})},
        )
        for check in result.check_results or []
    ]
    return dg.MaterializeResult(
        asset_key=result.asset_key,
        metadata={**about, **(result.metadata or {})},
        check_results=checks,
        data_version=result.data_version,
        tags=result.tags,
    )
