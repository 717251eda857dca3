"""``mlc mapping check`` and the journal half of ``mlc preview --mapping``."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlc_assets.cli.main import app
from mlc_assets.cli.mapping_cmd import journal_payload
from mlc_assets.domain.mapping import DEFAULT_MAPPING_PATH, load_mapping
from mlc_assets.domain.settlement_report import parse_settlement_report

DATA = Path(__file__).resolve().parent.parent / "domain" / "data"
runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    us = tmp_path / "us_v2.txt"
    us.write_bytes((DATA / "us_v2.txt").read_bytes())
    # Same money, but Amazon renamed a type: the mapping must stop on it by name.
    renamed = tmp_path / "us_v2_new_type.txt"
    text = (DATA / "us_v2.txt").read_text(encoding="utf-8")
    assert "\tSubscription Fee\t" in text
    renamed.write_text(text.replace("\tSubscription Fee\t", "\tSubscription Fee 2027\t"))
    broken = tmp_path / "broken.txt"
    broken.write_text("not\ta\tsettlement\n")
    return {"us": us, "renamed": renamed, "broken": broken}


def test_all_mapped_exits_zero(files) -> None:
    result = runner.invoke(app, ["mapping", "check", str(files["us"])])
    assert result.exit_code == 0, result.output
    assert "Every settlement type is mapped." in result.output


def test_unmapped_type_is_listed_with_yaml_and_exit_one(files) -> None:
    result = runner.invoke(
        app, ["mapping", "check", str(files["us"]), str(files["renamed"]), "--json"]
    )
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert [f["unmapped_lines"] for f in payload["files"]] == [0, 1]
    (u,) = payload["unmapped"]
    assert (u["transaction_type"], u["amount_type"], u["amount_description"], u["count"]) == (
        "ServiceFee",
        "ServiceFee",
        "Subscription Fee 2027",
        1,
    )
    assert u["files"][0].startswith(str(files["renamed"]) + ":")
    assert 'amount_description: "Subscription Fee 2027"' in payload["yaml"]
    # Human output names the type and prints the YAML to add.
    text = runner.invoke(app, ["mapping", "check", str(files["renamed"])])
    assert text.exit_code == 1
    assert "Subscription Fee 2027" in text.output and "- match:" in text.output


def test_suggested_yaml_makes_check_pass(files, tmp_path: Path) -> None:
    out = json.loads(
        runner.invoke(app, ["mapping", "check", str(files["renamed"]), "--json"]).output
    )
    snippet = "\n".join("  " + ln for ln in out["yaml"].splitlines())
    base = DEFAULT_MAPPING_PATH.read_text(encoding="utf-8")
    custom = tmp_path / "mapping.yaml"
    custom.write_text(base.replace("\nrules:\n", f"\nrules:\n{snippet}\n", 1), encoding="utf-8")
    result = runner.invoke(
        app, ["mapping", "check", str(files["renamed"]), "--mapping", str(custom)]
    )
    assert result.exit_code == 0, result.output


def test_bad_mapping_and_bad_file_exit_two(files, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n  - match: {transaction_type: Order}\n    category: principal\naccounts: {}\n"
    )
    result = runner.invoke(app, ["mapping", "check", str(files["us"]), "-m", str(bad), "--json"])
    assert result.exit_code == 2
    err = json.loads(result.output)["error"]
    assert f"{bad}: rules[0].match.amount_type (line 2): Field required" in err
    result = runner.invoke(app, ["mapping", "check", str(files["broken"]), "--json"])
    assert result.exit_code == 2
    (e,) = json.loads(result.output)["errors"]
    assert e["file"] == str(files["broken"]) and "broken.txt" in e["error"]


def test_journal_payload(files) -> None:
    mapping = load_mapping()
    parsed = parse_settlement_report(files["us"].read_bytes(), file_name="us_v2.txt")
    payload = journal_payload(parsed, mapping)
    assert payload["unmapped"] == []
    journal = payload["journal"]
    assert journal["debits"] == journal["credits"]
    lines = [ln for e in journal["entries"] for ln in e["lines"]]
    assert all(isinstance(ln["debit"], str) and isinstance(ln["credit"], str) for ln in lines)
    clearing = next(ln for ln in lines if ln["account"] == "clearing")
    assert Decimal(clearing["debit"]) == parsed.header.total_amount
    assert journal["entries"][0]["reference"] == f"AMZ-{parsed.header.settlement_id}-1"

    renamed = parse_settlement_report(files["renamed"].read_bytes(), file_name="x.txt")
    payload = journal_payload(renamed, mapping)
    assert payload["journal"] is None
    assert payload["unmapped"][0]["amount_description"] == "Subscription Fee 2027"


def test_preview_with_mapping_adds_unmapped_and_journal(files) -> None:
    args = ["preview", str(files["us"]), "--mapping", str(DEFAULT_MAPPING_PATH), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["breakdown"] and payload["unmapped"] == []
    assert payload["journal"]["debits"] == payload["journal"]["credits"]
    human = runner.invoke(app, args[:-1])
    assert human.exit_code == 0 and "Journal USD" in human.output and "clearing" in human.output
    renamed = runner.invoke(
        app, ["preview", str(files["renamed"]), "--mapping", str(DEFAULT_MAPPING_PATH)]
    )
    assert renamed.exit_code == 0 and "unmapped" in renamed.output
    assert "Subscription Fee 2027" in renamed.output


def test_a_file_with_a_huge_cell_is_refused_by_check_and_preview(tmp_path: Path) -> None:
    src = (Path(__file__).resolve().parents[1] / "domain" / "data" / "us_v2.txt").read_text()
    lines = src.split("\n")
    cells = lines[3].split("\t")
    cells[13] = "X" * 20_000_000
    lines[3] = "\t".join(cells)
    big = tmp_path / "big.txt"
    big.write_text("\n".join(lines))
    for args in (["mapping", "check", str(big)], ["preview", str(big)]):
        result = runner.invoke(app, args)
        assert result.exit_code in (1, 2), (args, result.output)
        assert "20,000,000 characters" in result.output, result.output
        assert "line 4" in result.output and "amount-description" in result.output
