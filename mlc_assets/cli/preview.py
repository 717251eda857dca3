"""``mlc preview FILE``: parse a settlement report file and show what it contains.

A controller uses this before anything is posted: does the file parse, does it balance, and
which transaction/amount types does it hold. ``--json`` prints one JSON object for scripts;
money is rendered as strings so no consumer can turn it into a float by accident.
``preview_payload`` is the one place that JSON is built, so later options (e.g. a mapping
check adding ``unmapped`` and ``journal``) extend the same dict.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from mlc_assets.cli.mapping_cmd import journal_payload, journal_table
from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.mapping import load_mapping
from mlc_assets.domain.money import money_str
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.domain.settlement_schema import ParsedSettlement

_KEYS = ("transaction_type", "amount_type", "amount_description")


def breakdown(parsed: ParsedSettlement) -> pl.DataFrame:
    """Count and sum of lines per transaction-type / amount-type / amount-description."""
    return (
        parsed.lines.group_by(list(_KEYS))
        .agg(count=pl.len(), total=pl.col("amount").sum())
        .sort(list(_KEYS), nulls_last=True)
    )


def preview_payload(parsed: ParsedSettlement) -> dict[str, Any]:
    """The JSON-ready summary of a parsed settlement (strings for money and dates)."""
    h = parsed.header
    lines_sum = Decimal(parsed.lines["amount"].sum()) if parsed.lines.height else Decimal(0)
    return {
        "file": parsed.file_name,
        "settlement_id": h.settlement_id,
        "currency": h.currency,
        "start": h.start.isoformat(),
        "end": h.end.isoformat(),
        "deposit_date": h.deposit_date.isoformat(),
        "total_amount": money_str(h.total_amount),
        "file_format": h.file_format,
        "column_count": h.column_count,
        "line_count": parsed.lines.height,
        "lines_sum": money_str(lines_sum),
        "detected": dict(parsed.detected),
        "breakdown": [
            {
                "transaction_type": row["transaction_type"],
                "amount_type": row["amount_type"],
                "amount_description": row["amount_description"],
                "count": row["count"],
                "total": money_str(row["total"]),
            }
            for row in breakdown(parsed).iter_rows(named=True)
        ],
    }


def render(payload: dict[str, Any], console: Console) -> None:
    """Human view of ``preview_payload``: header facts, then the breakdown table."""
    console.print(
        f"[bold]Settlement {payload['settlement_id']}[/bold] ({payload['file']}, "
        f"{payload['file_format'].upper()}, {payload['column_count']} columns)"
    )
    console.print(f"Period      {payload['start']} → {payload['end']}")
    console.print(f"Deposit     {payload['deposit_date']}")
    console.print(f"Total       {payload['total_amount']} {payload['currency']}")
    console.print(f"Lines       {payload['line_count']}, sum {payload['lines_sum']} (balanced)")
    table = Table("transaction-type", "amount-type", "amount-description", "count", "total")
    for row in payload["breakdown"]:
        table.add_row(
            row["transaction_type"] or "",
            row["amount_type"] or "",
            row["amount_description"] or "",
            str(row["count"]),
            row["total"],
            style="red" if row["total"].startswith("-") else None,
        )
    console.print(table)


def preview(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Settlement report file"),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    charset: Annotated[
        str | None,
        typer.Option(help="Charset of the file (default: detect; UTF-8, else ISO-8859-1)"),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            exists=True,
            dir_okay=False,
            readable=True,
            help="GL mapping YAML: also show unmapped types and the journal it would post",
        ),
    ] = None,
) -> None:
    """Parse a settlement report file and show its header, balance and breakdown."""
    try:
        parsed = parse_settlement_report(file.read_bytes(), file_name=file.name, charset=charset)
    except MlcError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    payload = preview_payload(parsed)
    if mapping is not None:
        try:
            payload.update(journal_payload(parsed, load_mapping(mapping)))
        except MlcError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        console = Console()
        render(payload, console)
        if mapping is not None:
            for u in payload["unmapped"]:
                console.print(f"[red]unmapped[/red] {u['transaction_type']} / "
                              f"{u['amount_type']} / {u['amount_description']} ({u['count']})",
                              highlight=False)  # fmt: skip
            if payload["journal"] is not None:
                console.print(journal_table(payload, payload["currency"]))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``mlc`` app."""
    app.command("preview")(preview)
