"""`mlc replay`: a settlement rebuilt from the archived payloads alone equals the warehouse's."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from typer.testing import CliRunner

from mlc_assets.build import SETTLEMENT_JOB, build_definitions
from mlc_assets.cli.main import app
from mlc_assets.config import Settings
from mlc_assets.domain.mapping import DEFAULT_MAPPING_PATH
from mlc_assets.partitions import settlement_partitions
from mlc_assets.sandbox.stack import SandboxStack

runner = CliRunner()


def test_replay_from_the_archive_is_identical_and_a_changed_mapping_is_not(
    tmp_path: Path, sandbox_home: SandboxStack
) -> None:
    defs = build_definitions(Settings(data_home=tmp_path, sandbox="on"))  # type: ignore[call-arg]
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(
        instance=instance, definitions=defs, resources=dict(defs.resources or {})
    ) as context:
        defs.resolve_sensor_def("settlement_sensor")(context)  # lands (and names) the reports
    key = next(s.settlement_id for s in sandbox_home.seller.settlements if s.currency == "EUR")
    instance.add_dynamic_partitions(settlement_partitions.name, [key])
    run = defs.resolve_job_def(SETTLEMENT_JOB).execute_in_process(
        instance=instance, partition_key=key
    )
    assert run.success
    named = list((tmp_path / "raw" / "by-settlement" / key).glob("settlement-report-*.txt"))
    assert len(named) == 1  # the raw report is findable by settlement ID

    # Amazon is not asked again: the sandbox goes away before the replay.
    sandbox_home.stop()
    result = runner.invoke(app, ["replay", key, "--data-home", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"identical": true' in result.output
    assert '"finance_pages": 0' not in result.output

    changed = tmp_path / "changed.yaml"
    text = DEFAULT_MAPPING_PATH.read_text()
    changed.write_text(text.replace('account: "6100.00"', 'account: "6190.00"'))
    result = runner.invoke(
        app, ["replay", key, "--data-home", str(tmp_path), "--mapping", str(changed)]
    )
    assert result.exit_code == 1
    assert "journal         DIFFERENT" in result.output
