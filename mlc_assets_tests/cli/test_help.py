"""The CLI's help reads as help: flags without a type, choices listed, no markup, nothing cut."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mlc_assets.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [["demo"], ["dev"], ["preview"], ["mapping", "check"], ["sandbox", "serve"], ["bench"]],
)
def test_help_has_no_bool_metavar_no_markup_and_no_cut_text(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "<bool>" not in text
    assert "[bold" not in text and "[/" not in text and "``" not in text
    assert "…" not in text  # wrapped, never cut at the terminal's edge


def test_choices_are_listed_and_the_sandbox_says_what_it_serves() -> None:
    region = runner.invoke(app, ["credentials", "set", "amazon", "--help"]).output
    assert "<na|eu|fe>" in region
    sandbox = runner.invoke(app, ["sandbox", "--help"]).output
    assert "Workday" in sandbox and "Deltek" in sandbox and "SP-API" in sandbox
