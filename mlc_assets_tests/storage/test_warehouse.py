"""The DuckDB warehouse on a real file: partitions are replaced atomically and money stays exact."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from mlc_assets.domain.money import MONEY_DTYPE
from mlc_assets.storage.warehouse import Warehouse

SCHEMA = {"settlement_id": pl.Utf8(), "line": pl.Int64(), "amount": MONEY_DTYPE}


def frame(settlement_id: str, amounts: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "settlement_id": [settlement_id] * len(amounts),
            "line": list(range(1, len(amounts) + 1)),
            "amount": [Decimal(a) for a in amounts],
        },
        schema=SCHEMA,
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "wh" / "warehouse.duckdb")


def test_foreign_settlement_row_rolls_back_every_table(warehouse: Warehouse) -> None:
    warehouse.replace_partition(
        {"lines": frame("S1", ["1.00", "2.00"]), "totals": frame("S1", ["3.00"])}, key="S1"
    )
    bad = pl.concat([frame("S1", ["9.99"]), frame("S2", ["5.00"])])
    with pytest.raises(ValueError, match="lines: 1 rows do not belong to settlement_id=S1"):
        # totals comes first so its DELETE + INSERT has happened before lines fails
        warehouse.replace_partition({"totals": frame("S1", ["7.00"]), "lines": bad}, key="S1")
    lines = warehouse.read_partition("lines", "S1").sort("line")
    totals = warehouse.read_partition("totals", "S1")
    assert lines["amount"].to_list() == [Decimal("1.00"), Decimal("2.00")]
    assert totals["amount"].to_list() == [Decimal("3.00")]


def test_rerun_replaces_instead_of_duplicating(warehouse: Warehouse) -> None:
    warehouse.replace_partition({"lines": frame("S1", ["1.00", "2.00"])}, key="S1")
    warehouse.replace_partition({"lines": frame("S2", ["4.00"])}, key="S2")
    written = warehouse.replace_partition({"lines": frame("S1", ["1.50"])}, key="S1")
    assert written == {"lines": 1}
    counts = warehouse.query("SELECT settlement_id, count(*) AS n FROM lines GROUP BY 1 ORDER BY 1")
    assert counts.rows() == [("S1", 1), ("S2", 1)]
    # An empty frame clears the partition (a settlement that lost all lines is not stale).
    warehouse.replace_partition({"lines": frame("S1", [])}, key="S1")
    assert warehouse.read_partition("lines", "S1").height == 0
    assert warehouse.read_partition("lines", "S2").height == 1


def test_decimal_18_2_round_trips_exactly(warehouse: Warehouse) -> None:
    amounts = ["0.01", "-0.10", "1234567890123456.78", "-9999999999999999.99", "0.00"]
    warehouse.replace_partition({"money": frame("S1", amounts)}, key="S1")
    back = warehouse.read_partition("money", "S1").sort("line")
    assert back.schema["amount"] == pl.Decimal(18, 2)
    assert back["amount"].to_list() == [Decimal(a) for a in amounts]
    total = warehouse.query("SELECT sum(amount) AS s FROM money")["s"][0]
    assert total == sum((Decimal(a) for a in amounts), Decimal("0"))
    column_type = warehouse.query(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'money' AND column_name = 'amount'"
    )["data_type"][0]
    assert column_type == "DECIMAL(18,2)"


def test_missing_table_and_missing_file_read_as_empty(warehouse: Warehouse) -> None:
    assert not warehouse.path.exists()
    assert warehouse.query("SELECT * FROM nothing_here").is_empty()
    warehouse.replace_partition({"lines": frame("S1", ["1.00"])}, key="S1")
    assert warehouse.query("SELECT * FROM nothing_here").is_empty()
    assert warehouse.read_partition("still_missing", "S1").is_empty()


def test_append_keeps_every_row(warehouse: Warehouse) -> None:
    assert warehouse.append("log", frame("S1", [])) == 0
    warehouse.append("log", frame("S1", ["1.00"]))
    warehouse.append("log", frame("S1", ["1.00"]))
    assert warehouse.read_partition("log", "S1").height == 2


def test_identifiers_are_checked(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="not a valid warehouse identifier"):
        warehouse.replace_partition({'lines"; DROP TABLE x; --': frame("S1", ["1"])}, key="S1")


def test_rows_without_a_key_are_rejected(warehouse: Warehouse) -> None:
    keyless = frame("S1", ["1.00", "2.00"]).with_columns(
        pl.when(pl.col("line") == 2)
        .then(None)
        .otherwise(pl.col("settlement_id"))
        .alias("settlement_id")
    )
    with pytest.raises(ValueError, match="lines: 1 rows do not belong"):
        warehouse.replace_partition({"lines": keyless}, key="S1")
    assert warehouse.read_partition("lines", "S1").height == 0


def test_a_frame_with_new_columns_extends_the_table(warehouse: Warehouse) -> None:
    # A newer version of the connector writes a column the table does not have yet and no
    # longer writes an old one: old rows keep their values, new ones read NULL there.
    old = frame("S1", ["1.00"]).with_columns(pl.lit("x").alias("retired"))
    warehouse.replace_partition({"lines": old}, key="S1")
    new = frame("S2", ["2.00"]).with_columns(pl.lit("2-9,12").alias("source_ranges"))
    assert warehouse.replace_partition({"lines": new}, key="S2") == {"lines": 1}
    rows = warehouse.query(
        "SELECT settlement_id, retired, source_ranges FROM lines ORDER BY settlement_id"
    )
    assert rows.rows() == [("S1", "x", None), ("S2", None, "2-9,12")]


def test_large_frames_land_in_order_and_exactly(warehouse: Warehouse) -> None:
    # More rows than one Arrow batch: the insert runs batch-parallel and must neither drop,
    # duplicate nor reorder rows, strings and decimals included.
    n = 300_000
    big = pl.DataFrame(
        {
            "settlement_id": ["S1"] * n,
            "line": pl.int_range(0, n, eager=True),
            "amount": pl.int_range(0, n, eager=True).cast(MONEY_DTYPE) / 100,
            "text": pl.int_range(0, n, eager=True).cast(pl.Utf8) + "-a-long-enough-string",
        }
    ).with_columns(pl.col("amount").cast(MONEY_DTYPE))
    assert warehouse.replace_partition({"lines": big}, key="S1") == {"lines": n}
    back = warehouse.read_partition("lines", "S1")
    assert back.equals(big)


def test_a_session_writes_and_reads_back_on_one_connection(warehouse: Warehouse) -> None:
    with warehouse.session() as s:
        s.replace_partition({"lines": frame("S1", ["1.00", "2.00"])}, key="S1")
        assert s.query("SELECT sum(amount) AS s FROM lines")["s"][0] == Decimal("3.00")
        # A failed replace inside the session rolls back and leaves the session usable.
        with pytest.raises(ValueError, match="do not belong"):
            s.replace_partition({"lines": frame("S2", ["5.00"])}, key="S1")
        assert s.read_partition("lines", "S1")["amount"].to_list() == [
            Decimal("1.00"),
            Decimal("2.00"),
        ]
        assert s.append("log", frame("S1", ["0.01"])) == 1
        assert s.read_partition("missing_table", "S1").is_empty()
    # Committed: another connection sees it.
    assert warehouse.read_partition("log", "S1")["amount"].to_list() == [Decimal("0.01")]
