"""``mlc preview``: the installed command on the fixture files, as a controller runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from mlc_assets.cli.main import app

DATA = Path(__file__).parents[1] / "domain" / "data"
MLC = Path(sys.executable).parent / "mlc"


def test_json_preview_of_the_de_file_through_the_installed_command() -> None:
    done = subprocess.run(
        [str(MLC), "preview", "--json", str(DATA / "de_v2.txt")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout, parse_float=Decimal)  # exactly one JSON object
    assert payload["settlement_id"] == "19482314502"
    assert payload["currency"] == "EUR"
    assert payload["start"] == "2025-06-01T22:07:18+00:00"
    assert payload["end"] == "2025-06-15T22:07:18+00:00"
    assert payload["deposit_date"] == "2025-06-17T22:07:18+00:00"
    assert payload["total_amount"] == "357.82"
    assert payload["lines_sum"] == "357.82"
    assert payload["line_count"] == 12
    assert payload["detected"]["decimal"] == ","
    rows = {
        (r["transaction_type"], r["amount_type"], r["amount_description"]): (r["count"], r["total"])
        for r in payload["breakdown"]
    }
    assert len(rows) == 12
    assert rows[("Order", "ItemPrice", "Principal")] == (1, "1141.18")
    assert rows[("Refund", "ItemPrice", "Principal")] == (1, "-1234.56")
    assert rows[("other-transaction", "other-transaction", "Current Reserve Amount")] == (
        1,
        "-1800.50",
    )
    assert sum(Decimal(r["total"]) for r in payload["breakdown"]) == Decimal("357.82")


def test_breakdown_groups_lines_of_the_same_kind() -> None:
    result = CliRunner().invoke(app, ["preview", "--json", str(DATA / "us_v1_36.txt")])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    principal = [
        r
        for r in payload["breakdown"]
        if (r["transaction_type"], r["amount_description"]) == ("Order", "Principal")
    ]
    # price-amount Principal and promotion-amount Principal are different amount types
    assert {(r["amount_type"], r["count"], r["total"]) for r in principal} == {
        ("ItemPrice", 1, "59.98"),
        ("Promotion", 1, "-5.00"),
    }
    assert payload["line_count"] == 16
    assert payload["lines_sum"] == payload["total_amount"] == "-64.12"


def test_human_preview_shows_header_and_breakdown() -> None:
    result = CliRunner().invoke(app, ["preview", str(DATA / "uk_v2.txt")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Settlement 20118834015" in result.stdout
    assert "28.62 GBP" in result.stdout
    assert "REVERSAL_REIMBURSEMENT" in result.stdout


def test_parse_error_exits_non_zero_with_message_on_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    text = (DATA / "us_v2.txt").read_text().replace("\t-187.50\t", "\t-187.5x\t")
    bad.write_text(text)
    result = CliRunner().invoke(app, ["preview", "--json", str(bad)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "bad.txt, line 10, column 'amount'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
