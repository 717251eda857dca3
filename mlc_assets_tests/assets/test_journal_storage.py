"""The journal_entries asset on a real DuckDB warehouse: what it lands and what loads back.

The source ranges are stored once, in ``journal_lines.source_ranges``; ``journals`` keeps the
rest as JSON. ``read_journal`` (the read-back checks, and the posting assets) puts them
together again — and still reads journals stored before, with the ranges in the JSON.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlc_assets.assets.journal import journal_entries
from mlc_assets.bench.connector_path import run_connector_path
from mlc_assets.bench.report_data import write_reports
from mlc_assets.domain.journal import build_journal
from mlc_assets.domain.mapping import classify_lines, load_mapping
from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources.mapping import MappingResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.storage.journals import read_journal
from mlc_assets.storage.settlements import read_settlement
from mlc_assets.storage.tables import JOURNAL_LINES, JOURNALS
from mlc_assets.storage.warehouse import Warehouse


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[WarehouseResource, str]:
    """A generated 3,000-line settlement landed as amazon_settlement_report lands it."""
    tmp = tmp_path_factory.mktemp("journal_storage")
    report = write_reports(3_000, tmp)["US"]
    warehouse = Warehouse(tmp / "warehouse.duckdb")
    result = run_connector_path(report.read_bytes(), warehouse, file_name=report.name)
    return WarehouseResource(path=str(warehouse.path)), result.settlement_id


def _materialize(resource: WarehouseResource, sid: str) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(settlement_partitions.name, [sid])
    return dg.materialize(
        [journal_entries],
        partition_key=sid,
        instance=instance,
        resources={"warehouse": resource, "mapping": MappingResource()},
    )


def test_asset_stores_ranges_once_and_loads_the_whole_journal(landed) -> None:
    resource, sid = landed
    result = _materialize(resource, sid)
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)

    warehouse = resource.get()
    header, lines = read_settlement(warehouse, sid)
    gl = load_mapping()
    expected = build_journal(header, classify_lines(lines, gl, currency=header.currency), gl)

    row = warehouse.read_partition(JOURNALS.name, sid)
    assert "source_ranges" not in row["journal_json"][0]
    assert row["fingerprint"][0] == expected.fingerprint()
    stored = warehouse.read_partition(JOURNAL_LINES.name, sid)
    want = {ln.account_key: ln.source_ranges for ln in expected.entries[0].lines}
    assert dict(stored.select("account_key", "source_ranges").iter_rows()) == want
    assert sum(stored["line_count"]) == lines.height == 3_000

    back = read_journal(resource.get(), sid)
    assert back == expected and back.fingerprint() == expected.fingerprint()
    (mat,) = result.asset_materializations_for_node("journal_entries")
    assert mat.metadata["fingerprint"].value == expected.fingerprint()


def test_journals_stored_before_still_load(landed) -> None:
    # A row written by the previous version: ranges inside journal_json, whatever
    # journal_lines holds (here: nothing).
    resource, sid = landed
    warehouse = resource.get()
    header, lines = read_settlement(warehouse, sid)
    gl = load_mapping()
    journal = build_journal(header, classify_lines(lines, gl, currency=header.currency), gl)
    old = warehouse.read_partition(JOURNALS.name, sid)  # landed by the fixture's path
    assert old.height == 1
    old = old.with_columns(pl.lit(journal.model_dump_json()).alias("journal_json"))
    empty_lines = warehouse.read_partition(JOURNAL_LINES.name, sid).clear()
    warehouse.replace_partition({JOURNALS.name: old, JOURNAL_LINES.name: empty_lines}, key=sid)
    assert read_journal(resource.get(), sid) == journal
    # and the asset rewrites it in the current form
    assert _materialize(resource, sid).success
    assert "source_ranges" not in warehouse.read_partition(JOURNALS.name, sid)["journal_json"][0]
    assert read_journal(resource.get(), sid) == journal


def test_no_journal_is_none(tmp_path: Path) -> None:
    assert (
        read_journal(WarehouseResource(path=str(tmp_path / "w.duckdb")).get(), "123456789") is None
    )
