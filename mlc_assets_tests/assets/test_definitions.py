"""The Dagster code location: it loads, every asset is documented and owned, only configured
targets post, and one settlement runs end to end through sensor and job against the sandbox."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlc_assets.build import SETTLEMENT_JOB, build_definitions
from mlc_assets.config import Settings
from mlc_assets.partitions import settlement_partitions
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets.storage.warehouse import Warehouse

SPEED = 200.0

LANDING_CHECKS = {
    ("amazon_settlement_report", "lines_sum_to_deposit"),
    ("amazon_financial_events", "group_matched"),
    ("reconciled_settlement", "categories_within_tolerance"),
    ("reconciled_settlement", "events_total_equals_deposit"),
    ("journal_entries", "all_lines_mapped"),
    ("journal_entries", "entries_balance"),
    ("journal_entries", "clearing_equals_deposit"),
}
TARGET_CHECKS = {
    "workday": {
        ("workday_posting", "workday_amounts_match_journal"),
        ("workday_posting", "workday_one_document_per_reference"),
        ("workday_reference_data", "mapping_references_exist"),
    },
    "deltek": {
        ("deltek_posting", "deltek_amounts_match_journal"),
        ("deltek_posting", "deltek_one_document_per_reference"),
        ("deltek_reference_data", "mapping_references_exist"),
    },
}
LANDING_ASSETS = {
    "amazon_settlement_report",
    "amazon_financial_events",
    "reconciled_settlement",
    "journal_entries",
}


def _defs(tmp_path: Path, targets: list[str] | None = None) -> dg.Definitions:
    kwargs: dict[str, object] = {"data_home": tmp_path, "sandbox": "on"}
    if targets is not None:
        kwargs["targets"] = targets
    return build_definitions(Settings(**kwargs))  # type: ignore[arg-type]


def test_definitions_load_and_every_asset_is_documented(tmp_path: Path) -> None:
    defs = _defs(tmp_path)
    dg.Definitions.validate_loadable(defs)
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {SETTLEMENT_JOB, "reference_data_job"} <= jobs
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == LANDING_ASSETS | {
        "workday_posting",
        "deltek_posting",
        "workday_reference_data",
        "deltek_reference_data",
    }
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.description and len(node.description) > 40, name
        assert node.group_name and node.group_name != "default", name
        assert node.owners, name
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert checks == LANDING_CHECKS | TARGET_CHECKS["workday"] | TARGET_CHECKS["deltek"]
    sensor = defs.resolve_sensor_def("settlement_sensor")
    assert sensor.description
    assert sensor.job_name == SETTLEMENT_JOB
    # Nothing was started or written just by loading the code location.
    assert not (tmp_path / "warehouse.duckdb").exists()
    assert not (tmp_path / "state" / "sandbox.json").exists()


@pytest.mark.parametrize("targets", [[], ["workday"], ["deltek"]])
def test_only_configured_targets_post(tmp_path: Path, targets: list[str]) -> None:
    defs = _defs(tmp_path, targets)
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    expected = set(LANDING_ASSETS)
    checks = set(LANDING_CHECKS)
    for t in targets:
        expected |= {f"{t}_posting", f"{t}_reference_data"}
        checks |= TARGET_CHECKS[t]
    assert keys == expected
    assert {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys} == checks
    job_assets = {
        k.to_user_string()
        for k in defs.resolve_job_def(SETTLEMENT_JOB).asset_layer.executable_asset_keys
    }
    assert job_assets == LANDING_ASSETS | {f"{t}_posting" for t in targets}


def _postings(warehouse: Warehouse, key: str) -> pl.DataFrame:
    """The latest posting action per document of one settlement, from the one ledger."""
    return warehouse.query(
        'SELECT target, reference, arg_max(action, "at") AS action FROM posting_log '
        "WHERE settlement_id = ? AND action IN ('submitted', 'adopted', 'already_posted') "
        "GROUP BY target, reference",
        [key],
    )


def _submitted(warehouse: Warehouse) -> int:
    rows = warehouse.query("SELECT count(*) AS n FROM posting_log WHERE action = 'submitted'")
    return int(rows["n"][0]) if rows.height else 0


def test_sensor_adds_partitions_and_one_settlement_runs_exactly_once(
    tmp_path: Path, sandbox_home: SandboxStack
) -> None:
    stack = sandbox_home
    defs = _defs(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    sensor = defs.resolve_sensor_def("settlement_sensor")
    with dg.build_sensor_context(
        instance=instance, definitions=defs, resources=dict(defs.resources or {})
    ) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    expected = {s.settlement_id for s in stack.seller.settlements}
    requests = result.run_requests or []
    assert {r.partition_key for r in requests} == expected
    assert {r.run_key for r in requests} == {f"settlement-{sid}" for sid in expected}
    (add,) = result.dynamic_partitions_requests or []
    assert isinstance(add, dg.AddDynamicPartitionsRequest)
    assert sorted(add.partition_keys) == sorted(expected)
    assert result.cursor
    instance.add_dynamic_partitions(settlement_partitions.name, list(add.partition_keys))

    # A second tick lands nothing new and requests nothing.
    with dg.build_sensor_context(
        instance=instance,
        cursor=result.cursor,
        definitions=defs,
        resources=dict(defs.resources or {}),
    ) as context:
        again = sensor(context)
    assert isinstance(again, dg.SensorResult)
    assert not again.run_requests
    assert not again.dynamic_partitions_requests
    # The tick says what it did, e.g. "listed 3 reports: 0 downloaded, 3 already landed; ...".
    assert again.skip_reason is not None
    assert "0 new settlements" in again.skip_reason.skip_message
    assert "already landed" in again.skip_reason.skip_message

    key = next(s.settlement_id for s in stack.seller.settlements if s.currency == "USD")
    job = defs.resolve_job_def(SETTLEMENT_JOB)
    run = job.execute_in_process(instance=instance, partition_key=key)
    assert run.success
    evaluations = run.get_asset_check_evaluations()
    names = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations}
    assert names == LANDING_CHECKS | {
        c for t in ("workday", "deltek") for c in TARGET_CHECKS[t] if "posting" in c[0]
    }
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
    assert failed == []
    # Every check result says which settlement and currency it is about (not "Partition —").
    for e in evaluations:
        assert (e.description or "").startswith(f"settlement {key} ("), e
        assert "USD" in (e.description or "")
        assert e.metadata["settlement_id"].value == key
        assert e.metadata["currency"].value == "USD"

    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    submitted = _submitted(warehouse)
    postings = _postings(warehouse, key)
    assert set(postings["target"]) == {"workday", "deltek"}
    assert submitted == postings.height >= 2
    assert set(postings["action"]) == {"submitted"}

    rerun = job.execute_in_process(instance=instance, partition_key=key)
    assert rerun.success
    assert _submitted(warehouse) == submitted  # nothing posted again
    again_postings = _postings(warehouse, key)
    assert set(again_postings["action"]) == {"already_posted"}
    assert again_postings.height == postings.height
    assert all(e.passed for e in rerun.get_asset_check_evaluations())
