"""``mlc replay SETTLEMENT``: rebuild a settlement from its archived raw payloads, no Amazon call.

For an auditor: the report file and the Finances pages are read back from the archive (each
checked against its content hash), parsed, flattened and journalled by the pipeline's own
code, and compared with what the warehouse holds. Exit 0 when the journal and the events total
are identical, 1 when they differ or the settlement cannot be replayed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlc_assets.errors import MlcError


def replay(
    settlement_id: Annotated[str, typer.Argument(help="The settlement ID to rebuild.")],
    data_home: Annotated[Path, typer.Option(help="The connector's data home.")] = Path(".mlc"),
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="GL mapping YAML (default: $MLC_MAPPING_FILE, else the shipped default).",
            envvar="MLC_MAPPING_FILE",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Rebuild a settlement's journal from the archived report and Finances pages alone."""
    from mlc_assets.domain.mapping import load_mapping
    from mlc_assets.services.replay import replay_settlement
    from mlc_assets.storage.archive import RawArchive
    from mlc_assets.storage.layout import DataHome
    from mlc_assets.storage.report_index import ReportIndex
    from mlc_assets.storage.warehouse import Warehouse

    home = DataHome(data_home.resolve())
    try:
        result = replay_settlement(
            Warehouse(home.warehouse),
            RawArchive(home.raw),
            ReportIndex(home.report_index),
            load_mapping(mapping),
            settlement_id,
        )
    except (MlcError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    ok = result.journal_identical and result.events_identical
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "settlement_id": result.settlement_id,
                    "report_sha256": result.report_sha256,
                    "finance_pages": result.finance_pages,
                    "journal_fingerprint": result.journal_fingerprint,
                    "stored_fingerprint": result.stored_fingerprint,
                    "events_total": str(result.events_total),
                    "stored_events_total": str(result.stored_events_total),
                    "identical": ok,
                }
            )
        )
    else:
        typer.echo(f"settlement {result.settlement_id}, from the archive only:")
        typer.echo(f"  report file     sha256 {result.report_sha256}")
        typer.echo(f"  finances pages  {result.finance_pages} (events total {result.events_total})")
        same = "identical" if result.journal_identical else "DIFFERENT"
        typer.echo(f"  journal         {same} (fingerprint {result.journal_fingerprint[:16]}…)")
        if not result.events_identical:
            typer.echo(f"  events total    DIFFERENT: warehouse holds {result.stored_events_total}")
    if not ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
