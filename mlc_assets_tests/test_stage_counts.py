"""Each stage's work is done once per run: counted for real settlement runs on the sandbox.

For one settlement run through every stage this counts DuckDB opens, settings resolutions,
mapping parses, line classifications and the ERP calls per document. Before the architecture
work the same run opened the DuckDB file 27 times, resolved settings 5 times, parsed the
mapping 4 times, classified the report lines twice, asked Workday Get_Journals 3 times per
journal and read Deltek's ledger 5 times per batch. Figures go to
``test-artifacts/stage_counts.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import pytest

from mlc_assets.build import SETTLEMENT_JOB, build_definitions
from mlc_assets.domain import mapping as mapping_module
from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources import settings as settings_module
from mlc_assets.resources.settings import resolve_settings
from mlc_assets.sandbox import deltek_app
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets.services import classification
from mlc_assets.storage.journals import read_journal
from mlc_assets.storage.warehouse import Warehouse

ARTIFACT = Path(__file__).resolve().parents[1] / "test-artifacts" / "stage_counts.json"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    connect, parse = duckdb.connect, mapping_module.parse_mapping

    def counting_connect(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        counts["duckdb_opens"] += 1
        return connect(*args, **kwargs)

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        counts["mapping_parses"] += 1
        return parse(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting_connect)
    monkeypatch.setattr(mapping_module, "parse_mapping", counting_parse)
    yield counts


def _erp_stats(stack: SandboxStack) -> Counter[str]:
    ep = stack.endpoints
    workday = httpx.get(ep["workday"] + "/_sandbox/stats", timeout=10).json()["stats"]
    deltek_admin = ep["deltek"].removesuffix(deltek_app.DEFAULT_PREFIX) + "/_sandbox/stats"
    deltek = httpx.get(deltek_admin, timeout=10).json()["stats"]
    out: Counter[str] = Counter({f"workday {k}": v for k, v in workday.items()})
    out.update({f"deltek {k}": v for k, v in deltek.items()})
    return out


def _run(
    stack: SandboxStack,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    key: str,
    counts: Counter[str],
) -> dict[str, int]:
    before, erp_before = Counter(counts), _erp_stats(stack)
    settings_before = settings_module.resolutions
    classified_before = classification.classifications
    run = defs.resolve_job_def(SETTLEMENT_JOB).execute_in_process(
        instance=instance, partition_key=key
    )
    assert run.success
    erp = _erp_stats(stack)
    erp.subtract(erp_before)
    ref_gets = [k for k in erp if k.startswith("workday op:Get_") and "Journals" not in k]
    ref_reads = [f"deltek route:{r}" for r in ("accounts", "projects", "project", "orgs")]
    return {
        "duckdb_opens": counts["duckdb_opens"] - before["duckdb_opens"],
        "mapping_parses": counts["mapping_parses"] - before["mapping_parses"],
        "settings_resolutions": settings_module.resolutions - settings_before,
        "line_classifications": classification.classifications - classified_before,
        "workday_get_journals": erp["workday op:Get_Journals"],
        "workday_submits": erp["workday op:Submit_Accounting_Journal"],
        "workday_reference_gets": sum(erp[k] for k in ref_gets),
        "deltek_ledger_reads": erp["deltek route:ledger"],
        "deltek_writes": erp["deltek route:create"] + erp["deltek route:post"],
        "deltek_reference_reads": sum(erp[k] for k in ref_reads),
    }


def test_one_settlement_run_does_each_stage_once(
    tmp_path: Path, sandbox_home: SandboxStack, counted: Counter[str]
) -> None:
    stack = sandbox_home
    settings = resolve_settings(tmp_path, {"sandbox": "on"})
    defs = build_definitions(settings)
    resolved_before_runs = settings_module.resolutions
    with dg.instance_for_test() as instance:
        with dg.build_sensor_context(
            instance=instance, definitions=defs, resources=dict(defs.resources or {})
        ) as context:
            result = defs.resolve_sensor_def("settlement_sensor")(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(settlement_partitions.name, request.partition_keys)
        usd, eur = (
            next(s.settlement_id for s in stack.seller.settlements if s.currency == c)
            for c in ("USD", "EUR")
        )
        first = _run(stack, defs, instance, usd, counted)
        second = _run(stack, defs, instance, eur, counted)

    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    figures = {}
    for name, key, figs in (("first", usd, first), ("second", eur, second)):
        journal = read_journal(warehouse, key)
        assert journal is not None
        entries = len(journal.entries)
        figs["journal_entries"] = entries
        figures[name] = figs
        # Exactly-once has one owner: a lookup and a read-back per document, one write.
        assert figs["workday_get_journals"] == 2 * entries, figs
        assert figs["workday_submits"] == entries, figs
        assert figs["deltek_ledger_reads"] == 2 * entries, figs
        assert figs["deltek_writes"] == 2 * entries, figs  # create + post
        # Reconciliation classifies the lines; the journal reuses that classification.
        assert figs["line_classifications"] == 1, figs
        # Settings were resolved when the definitions were built, not again in a run.
        assert figs["settings_resolutions"] == 0, figs
        # Each asset opens the warehouse once for its reads and writes; never across an API
        # call: the events stage twice, a posting once to read and twice per document
        # (intent, outcome), plus once to keep ERP reference data on a new install.
        assert figs["duckdb_opens"] <= 5 + 2 * (1 + 2 * entries) + 2, figs
    assert settings_module.resolutions == resolved_before_runs
    # The mapping is parsed at most once in this process, and not again for a second run.
    assert first["mapping_parses"] <= 1 and second["mapping_parses"] == 0, figures
    # The first run on a new install fetches ERP reference data once and keeps it; later
    # runs read it from the warehouse.
    assert second["workday_reference_gets"] == second["deltek_reference_reads"] == 0, figures
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(json.dumps(figures, sort_keys=True))
