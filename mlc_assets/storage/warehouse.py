"""The DuckDB warehouse: one file, every stage's partition written in one transaction.

Each asset replaces its partition with ``BEGIN; DELETE … WHERE settlement_id = ?; INSERT …
BY NAME; COMMIT`` so a rerun never leaves half a settlement or a duplicate. Connections are
short-lived because DuckDB allows one writing process per file: the sensor, the CLI and runs
take turns, and a process that finds the file locked waits and tries again.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential

log = logging.getLogger(__name__)


def _is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


_on_lock = retry(
    retry=retry_if_exception(_is_lock_conflict),
    wait=wait_random_exponential(multiplier=0.05, max=2.0),
    stop=stop_after_delay(120),
    reraise=True,
)


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def ident(name: str) -> str:
    """Quote a table/column name after checking it is one of ours (names are never user input)."""
    if not _IDENT.match(name):
        raise ValueError(f"not a valid warehouse identifier: {name!r}")
    return f'"{name}"'


def polars_to_sql_type(dtype: pl.DataType) -> str:
    """DuckDB column type for a polars dtype; money stays DECIMAL(18,2)."""
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision or 18},{dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    mapping: dict[type[pl.DataType], str] = {
        pl.Utf8: "VARCHAR",
        pl.String: "VARCHAR",
        pl.Int64: "BIGINT",
        pl.Int32: "INTEGER",
        pl.Int16: "SMALLINT",
        pl.Int8: "TINYINT",
        pl.UInt32: "UINTEGER",
        pl.UInt64: "UBIGINT",
        pl.Boolean: "BOOLEAN",
        pl.Date: "DATE",
        pl.Float64: "DOUBLE",
        pl.Binary: "BLOB",
    }
    for cls, sql in mapping.items():
        if isinstance(dtype, cls):
            return sql
    if isinstance(dtype, pl.List):
        return f"{polars_to_sql_type(dtype.inner)}[]"
    raise TypeError(f"no DuckDB type for polars dtype {dtype}")


def create_table_sql(table: str, schema: Mapping[str, pl.DataType]) -> str:
    cols = ", ".join(f"{ident(name)} {polars_to_sql_type(dt)}" for name, dt in schema.items())
    return f"CREATE TABLE IF NOT EXISTS {ident(table)} ({cols})"


# Rows per Arrow record batch handed to DuckDB: its Arrow scan runs one batch per thread,
# and polars hands a freshly parsed frame over as one chunk.
_BATCH_ROWS = 122_880


def to_arrow(frame: pl.DataFrame) -> pa.Table:
    """The frame as Arrow without a copy, in batches DuckDB can insert in parallel.

    ``CompatLevel.newest()`` exports polars' own string-view and Decimal128 buffers as they
    are; the default (oldest) level rewrites every string column into a new large-string
    buffer first (≈0.35 s and the size of the text per million report lines).
    """
    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    if frame.height <= _BATCH_ROWS:
        return table
    return pa.Table.from_batches(table.to_batches(max_chunksize=_BATCH_ROWS), table.schema)


def _add_missing_columns(
    con: duckdb.DuckDBPyConnection, table: str, schema: Mapping[str, pl.DataType]
) -> None:
    """Columns a newer version of a frame brings are added to an existing table (as NULL
    for old rows); columns it no longer writes stay and read as NULL for new rows."""
    existing = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "AND schema_name = current_schema() AND database_name = current_database()",
            [table],
        ).fetchall()
    }
    for name, dtype in schema.items():
        if name not in existing:
            con.execute(
                f"ALTER TABLE {ident(table)} ADD COLUMN {ident(name)} {polars_to_sql_type(dtype)}"
            )


def _prepare_table(
    con: duckdb.DuckDBPyConnection, table: str, schema: Mapping[str, pl.DataType]
) -> None:
    con.execute(create_table_sql(table, schema))
    _add_missing_columns(con, table, schema)


def _normalise_zones(frame: pl.DataFrame) -> pl.DataFrame:
    """DuckDB hands TIMESTAMPTZ back as 'Etc/UTC'; the connector's frames say 'UTC'."""
    fixes = [
        pl.col(name).dt.convert_time_zone("UTC")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone not in (None, "UTC")
    ]
    return frame.with_columns(fixes) if fixes else frame


def _partition_query(table: str, key_column: str) -> str:
    return f"SELECT * FROM {ident(table)} WHERE {ident(key_column)} = ?"


class WarehouseSession:
    """Operations on one open connection: a write and its read-back, or several reads, pay
    for opening (and closing, which checkpoints) the file once instead of once each."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def replace_partition(
        self,
        tables: Mapping[str, pl.DataFrame],
        *,
        key_column: str = "settlement_id",
        key: str,
    ) -> dict[str, int]:
        """Replace one partition in several tables atomically; returns rows written per table."""
        con = self.con
        written: dict[str, int] = {}
        for table, frame in tables.items():
            _prepare_table(con, table, frame.schema)
        con.execute("BEGIN TRANSACTION")
        try:
            for table, frame in tables.items():
                con.execute(f"DELETE FROM {ident(table)} WHERE {ident(key_column)} = ?", [key])
                if frame.height:
                    bad = frame.select(pl.col(key_column).ne_missing(key).sum()).item()
                    if bad:
                        raise ValueError(f"{table}: {bad} rows do not belong to {key_column}={key}")
                    con.register("_incoming", to_arrow(frame))
                    con.execute(f"INSERT INTO {ident(table)} BY NAME SELECT * FROM _incoming")
                    con.unregister("_incoming")
                written[table] = frame.height
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return written

    def append(self, table: str, frame: pl.DataFrame) -> int:
        """Append rows (audit and intent records, which are never rewritten)."""
        if frame.is_empty():
            return 0
        _prepare_table(self.con, table, frame.schema)
        self.con.register("_incoming", to_arrow(frame))
        self.con.execute(f"INSERT INTO {ident(table)} BY NAME SELECT * FROM _incoming")
        self.con.unregister("_incoming")
        return frame.height

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """Run a read query; a table that does not exist yet reads as empty."""
        try:
            rel = self.con.sql(sql, params=list(params or []))
            if rel is None:
                return pl.DataFrame()
            return _normalise_zones(pl.DataFrame(pl.from_arrow(rel.to_arrow_table())))
        except duckdb.CatalogException:
            return pl.DataFrame()

    def read_partition(
        self, table: str, key: str, *, key_column: str = "settlement_id"
    ) -> pl.DataFrame:
        return self.query(_partition_query(table, key_column), [key])


class Warehouse:
    """Plain (non-Dagster) access to the warehouse file, shared by resources, CLI and tests.

    Each method opens the file for its own work; ``session()`` keeps it open across several.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = _on_lock(duckdb.connect)(str(self.path), read_only=read_only and self.path.exists())
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def session(self) -> Iterator[WarehouseSession]:
        """One connection for several operations (waits for another writer like the rest)."""
        with self.connect() as con:
            yield WarehouseSession(con)

    @_on_lock
    def replace_partition(
        self,
        tables: Mapping[str, pl.DataFrame],
        *,
        key_column: str = "settlement_id",
        key: str,
    ) -> dict[str, int]:
        """Replace one partition in several tables atomically; returns rows written per table."""
        with self.session() as s:
            return s.replace_partition(tables, key_column=key_column, key=key)

    @_on_lock
    def append(self, table: str, frame: pl.DataFrame) -> int:
        """Append rows (audit and intent records, which are never rewritten)."""
        if frame.is_empty():
            return 0
        with self.session() as s:
            return s.append(table, frame)

    @_on_lock
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """Run a read query; a table that does not exist yet reads as empty."""
        if not self.path.exists():
            return pl.DataFrame()
        with self.session() as s:
            return s.query(sql, params)

    def read_partition(
        self, table: str, key: str, *, key_column: str = "settlement_id"
    ) -> pl.DataFrame:
        return self.query(_partition_query(table, key_column), [key])
