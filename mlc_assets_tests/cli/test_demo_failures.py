"""A failed settlement says why in the demo's row: the cause itself, not only its type, and a
document whose read-back failed never shows as "submitted"."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg

from mlc_assets.build import SETTLEMENT_JOB, build_definitions
from mlc_assets.cli.demo import _failure_message
from mlc_assets.config import Settings
from mlc_assets.domain.mapping import DEFAULT_MAPPING_PATH
from mlc_assets.partitions import settlement_partitions
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets.services.summary import settlement_summaries


def _usd(stack: SandboxStack) -> str:
    return next(s.settlement_id for s in stack.seller.settlements if s.currency == "USD")


def test_a_missing_erp_account_is_named_in_the_failure(
    tmp_path: Path, sandbox_home: SandboxStack
) -> None:
    mapping = tmp_path / "mapping.yaml"
    text = DEFAULT_MAPPING_PATH.read_text()
    assert 'account: "6100.00"' in text
    mapping.write_text(text.replace('account: "6100.00"', 'account: "6135.00"'))
    settings = Settings(data_home=tmp_path, sandbox="on", mapping_file=mapping)  # type: ignore[call-arg]
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    key = _usd(sandbox_home)
    instance.add_dynamic_partitions(settlement_partitions.name, [key])
    run = defs.resolve_job_def(SETTLEMENT_JOB).execute_in_process(
        instance=instance, partition_key=key, raise_on_error=False
    )
    assert not run.success
    message = _failure_message(run)
    assert "deltek_posting" in message and "6135.00" in message, message
    (row,) = settlement_summaries(settings, failures={key: message}, partition_keys=[key])
    assert row["status"] == "failed" and "6135.00" in row["error"]
    assert row["deltek"] == ""  # nothing was written to Deltek, so nothing is shown


def test_a_document_whose_read_back_failed_shows_as_failed(
    tmp_path: Path, sandbox_home: SandboxStack
) -> None:
    settings = Settings(data_home=tmp_path, sandbox="on")  # type: ignore[call-arg]
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    key = _usd(sandbox_home)
    instance.add_dynamic_partitions(settlement_partitions.name, [key])
    job = defs.resolve_job_def(SETTLEMENT_JOB)
    assert job.execute_in_process(instance=instance, partition_key=key).success
    store = sandbox_home.app("workday").state.workday.store
    with store.session(write=True) as held:
        (journal,) = [j for j in held.journals.values() if key in str(j)]
        line = next(ln for ln in journal["lines"] if Decimal(ln["debit"]) > 0)
        line["debit"] = str(Decimal(line["debit"]) + Decimal("1.00"))
    run = job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)
    assert not run.success
    message = _failure_message(run)
    assert "workday_amounts_match_journal failed" in message and f"AMZ-{key}-1" in message
    (row,) = settlement_summaries(settings, failures={key: message}, partition_keys=[key])
    assert row["workday_actions"] == "failed"
    assert row["deltek_actions"] == "already_posted"
