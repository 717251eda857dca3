"""The demo's table stays readable when stdout is a file: IDs and amounts are never folded."""

from __future__ import annotations

import io

from mlc_assets.cli.demo import _print_table, demo_console


def test_table_written_to_a_file_keeps_every_id_whole() -> None:
    row = {
        "settlement_id": "41088981763",
        "marketplace": "Amazon.co.uk",
        "period": "2026-11-16..2026-11-30",
        "deposit": "1167.18 GBP",
        "lines": 163,
        "reconciled": "reconciled",
        "workday": "AMZ-41088981763-1 (JE-000003) wid=0f3c",
        "workday_actions": "submitted",
        "deltek": "AMZ41088981763#103@202611",
        "deltek_actions": "already_posted",
        "status": "ok",
    }
    out = io.StringIO()
    console = demo_console(file=out)
    assert not console.is_terminal
    _print_table([row], console)
    text = out.getvalue()
    for whole in ("41088981763", "AMZ41088981763#103@202611 (already posted)", "1167.18 GBP"):
        assert whole in text, text
    assert "2026-11-16..2026-11-30" in text
