"""The posting checks compare what the ERP holds, as read back, with the journal: they fail.

A document changed in the ERP after it was posted (here: an amount edited in the Workday
sandbox's own store) makes the next run's read-back differ: the blocking checks fail, naming
the reference and both amounts, the run fails, and nothing is posted again.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg

from mlc_assets.build import SETTLEMENT_JOB, build_definitions
from mlc_assets.config import Settings
from mlc_assets.partitions import settlement_partitions
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets.storage.warehouse import Warehouse


def _checks(run: dg.ExecuteInProcessResult, asset: str) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.check_name: e
        for e in run.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == asset
    }


def test_a_document_changed_in_the_erp_fails_the_posting_checks(
    tmp_path: Path, sandbox_home: SandboxStack
) -> None:
    stack = sandbox_home
    defs = build_definitions(Settings(data_home=tmp_path, sandbox="on"))  # type: ignore[call-arg]
    instance = dg.DagsterInstance.ephemeral()
    key = next(s.settlement_id for s in stack.seller.settlements if s.currency == "USD")
    instance.add_dynamic_partitions(settlement_partitions.name, [key])
    job = defs.resolve_job_def(SETTLEMENT_JOB)
    first = job.execute_in_process(instance=instance, partition_key=key)
    assert first.success
    assert all(e.passed for e in _checks(first, "workday_posting").values())

    # Someone edits the posted journal in Workday: one line 1.00 higher.
    store = stack.app("workday").state.workday.store
    with store.session(write=True) as held:
        (journal,) = [j for j in held.journals.values() if key in str(j)]
        line = next(ln for ln in journal["lines"] if Decimal(ln["debit"]) > 0)
        line["debit"] = str(Decimal(line["debit"]) + Decimal("1.00"))

    again = job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)
    assert not again.success  # blocking checks: the run stops on them
    checks = _checks(again, "workday_posting")
    amounts = checks["workday_amounts_match_journal"]
    assert not amounts.passed
    text = amounts.description or ""
    assert f"AMZ-{key}-1" in text and "journal" in text and "USD" in text
    assert amounts.metadata["settlement_id"].value == key
    assert checks["workday_one_document_per_reference"].passed
    # Deltek was not touched and stays verified; nothing was submitted a second time.
    assert all(e.passed for e in _checks(again, "deltek_posting").values())
    rows = Warehouse(tmp_path / "warehouse.duckdb").query(
        "SELECT count(*) AS n FROM posting_log WHERE action = 'submitted'"
    )
    assert int(rows["n"][0]) == 2  # one Workday journal and one Deltek batch, once each
