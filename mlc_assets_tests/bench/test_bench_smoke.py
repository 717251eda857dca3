"""The benchmark machinery at tiny sizes: it does the work it claims to measure.

No timing is asserted (a shared machine makes that meaningless); what is asserted is that
each path processed the whole file, the numbers it reports are consistent, and the backfill
made exactly the calls it counts.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlc_assets.bench.backfill_bench import minimum_calls, minimum_seconds, run_backfill_bench
from mlc_assets.bench.report_bench import run_report_bench
from mlc_assets.bench.report_data import settlement_with_lines, write_reports
from mlc_assets.cli.main import app
from mlc_assets.domain.settlement_report import parse_settlement_report


def test_generated_report_has_exactly_n_lines_and_balances(tmp_path: Path) -> None:
    settlement = settlement_with_lines(2_000)
    assert settlement.line_count == 2_000
    assert sum((c.amount for _, c in settlement.charges()), Decimal("0.00")) == settlement.total
    files = write_reports(2_000, tmp_path)
    us = parse_settlement_report(files["US"].read_bytes(), file_name="us")
    de = parse_settlement_report(files["DE"].read_bytes(), file_name="de", charset="iso-8859-1")
    assert us.lines.height == de.lines.height == 2_000
    assert us.header.total_amount == de.header.total_amount == settlement.total
    assert (us.header.currency, de.header.currency) == ("USD", "EUR")
    assert de.detected["decimal"] == ","
    assert not files["DE"].read_bytes().isascii()  # "für" in ISO-8859-1: the decode is measured
    assert de.lines["promotion_id"].drop_nulls().str.contains("für").all()
    assert de.detected["date:posted-date"].startswith("dd.mm.yyyy")


def test_report_bench_runs_every_path_on_the_whole_file(tmp_path: Path) -> None:
    out = run_report_bench(2_000, tmp_path, repeat=1)
    for loc in ("US", "DE"):
        res = out["locales"][loc]
        paths = res["paths"]
        connector = paths["connector"]["result"]
        assert connector["lines"] == connector["landed_lines"] == 2_000
        assert connector["reconciled"] is True
        assert connector["journal_entries"] >= 1
        assert set(connector["stages"]) == {
            "parse", "land_lines", "classify", "reconcile", "journal", "land_journal",
        }  # fmt: skip
        assert paths["rowwise"]["result"]["rows"] == 2_000
        assert paths["rowwise"]["result"]["total_amount"] == connector["total_amount"]
        assert paths["polars"]["result"]["rows"] == 2_001  # + the summary row
        for p in paths.values():
            assert p["seconds_best"] > 0
            assert 10 < p["peak_rss_mb"] < 4096
        assert res["connector_vs_polars"] == pytest.approx(
            paths["connector"]["seconds_best"] / paths["polars"]["seconds_best"], rel=0.02
        )
        assert res["land_lines_vs_polars"] == pytest.approx(
            connector["stages"]["land_lines"] / paths["polars"]["seconds_best"], rel=0.02
        )
        land = connector["stages"]["land_lines"]
        assert res["connector_vs_polars_plus_landing"] == pytest.approx(
            paths["connector"]["seconds_best"] / (paths["polars"]["seconds_best"] + land), rel=0.02
        )
        assert set(res["targets_met"]) == {
            "at_most_2x_polars", "at_least_10x_rowwise", "peak_rss_under_1_5_gb",
        }  # fmt: skip


def test_backfill_minimums() -> None:
    assert minimum_calls(100, 200.0) == {
        "lwa_token": 2,  # 85 document calls at one a minute outlive an hour-long token
        "getReports": 1,
        "getReportDocument": 100,
        "download": 100,
    }
    assert minimum_calls(5, 1.0)["lwa_token"] == 1
    assert minimum_calls(101, 1.0)["getReports"] == 2
    assert minimum_seconds(15, 1.0) == 0
    assert minimum_seconds(100, 1.0) == pytest.approx(85 / 0.0167)
    assert minimum_seconds(100, 200.0) == pytest.approx(85 / 0.0167 / 200)


def test_backfill_bench_lands_each_report_once_without_429s(tmp_path: Path) -> None:
    out = run_backfill_bench(tmp_path, settlements=5, speed=1000.0)
    assert out["landed"] == 5
    assert out["calls"] == out["minimum_calls"]
    assert out["throttled_429"] == 0
    assert out["rerun_calls"] == {
        "lwa_token": 0,
        "getReports": 1,
        "getReportDocument": 0,
        "download": 0,
    }
    # The rerun lists from its cursor (minus an overlap): what it sees is already landed.
    assert out["rerun_downloaded"] == 0 and out["rerun_already_known"] >= 1
    assert len(list((tmp_path / "backfill-state" / "reports").glob("*.json"))) == 5


def test_cli_json_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "bench", "--lines", "500", "--locales", "US", "--settlements", "3",
            "--speed", "1000", "--workdir", str(tmp_path), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"machine", "report", "backfill"}
    assert out["report"]["locales"]["US"]["paths"]["connector"]["result"]["lines"] == 500
    assert out["backfill"]["landed"] == 3
    table = CliRunner().invoke(
        app, ["bench", "--only", "backfill", "--settlements", "2", "--speed", "1000"]
    )
    assert table.exit_code == 0, table.output
    assert "429 responses" in table.output


def test_backfill_bench_starts_from_nothing_in_a_reused_workdir(tmp_path: Path) -> None:
    run_backfill_bench(tmp_path, settlements=2, speed=1000.0)
    again = run_backfill_bench(tmp_path, settlements=2, speed=1000.0)
    assert again["landed"] == 2
    assert again["calls"]["getReportDocument"] == 2
