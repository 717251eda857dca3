"""``mlc mapping check``: which settlement types a GL mapping does not cover yet.

Run it on the settlement files of a new seller before the first posting: every unmapped
(transaction-type, amount-type, amount-description) is listed with its count and the YAML to
add, so the mapping can be completed up front instead of settlements stopping one by one.
Exit code 1 when something is unmapped, 2 when a file or the mapping cannot be read.

``journal_payload`` is the journal half of ``mlc preview --mapping`` (money as strings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.journal import Journal, build_journal
from mlc_assets.domain.mapping import (
    GlMapping,
    UnmappedType,
    classify_lines,
    load_mapping,
    settlement_marketplace,
    suggest_yaml,
    unmapped_types,
)
from mlc_assets.domain.money import money_str
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.domain.settlement_schema import ParsedSettlement

MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        "-m",
        help="GL mapping YAML (default: $MLC_MAPPING_FILE, else the shipped default).",
        envvar="MLC_MAPPING_FILE",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]


def classify_parsed(parsed: ParsedSettlement, mapping: GlMapping) -> Any:
    """Classified lines of a parsed settlement (marketplace and currency from the file)."""
    return classify_lines(
        parsed.lines,
        mapping,
        marketplace=settlement_marketplace(parsed.lines),
        currency=parsed.header.currency,
    )


def _unmapped_dict(u: UnmappedType) -> dict[str, Any]:
    return {
        "transaction_type": u.transaction_type,
        "amount_type": u.amount_type,
        "amount_description": u.amount_description,
        "count": u.count,
        "line_nos": u.line_nos,
        "yaml": u.yaml_snippet(),
    }


def journal_dict(journal: Journal) -> dict[str, Any]:
    return {
        "entries": [
            {
                "date": e.posting_date.isoformat(),
                "reference": e.reference,
                "memo": e.memo,
                "lines": [
                    {
                        "account": ln.account_key,
                        "workday_account": ln.workday.ledger_account if ln.workday else None,
                        "deltek_account": ln.deltek.account if ln.deltek else None,
                        "debit": money_str(ln.debit),
                        "credit": money_str(ln.credit),
                        "memo": ln.memo,
                        "line_count": ln.line_count,
                    }
                    for ln in e.lines
                ],
            }
            for e in journal.entries
        ],
        "debits": money_str(journal.total_debits),
        "credits": money_str(journal.total_credits),
        "fingerprint": journal.fingerprint(),
    }


def journal_payload(parsed: ParsedSettlement, mapping: GlMapping) -> dict[str, Any]:
    """``{"unmapped": [...], "journal": {...} | None}`` for ``mlc preview --mapping``.

    The journal is None when something is unmapped: it would not be postable."""
    classified = classify_parsed(parsed, mapping)
    missing = unmapped_types(classified)
    if missing:
        return {"unmapped": [_unmapped_dict(u) for u in missing], "journal": None}
    return {
        "unmapped": [],
        "journal": journal_dict(build_journal(parsed.header, classified, mapping)),
    }


def journal_table(payload: dict[str, Any], currency: str = "") -> Table:
    """The journal half of a preview as a rich table (non-JSON output)."""
    table = Table(title=f"Journal {currency}".strip())
    for col in ("Reference", "Date", "Account", "Workday", "Deltek", "Debit", "Credit"):
        table.add_column(col, justify="right" if col in ("Debit", "Credit") else "left")
    journal = payload.get("journal") or {"entries": [], "debits": "", "credits": ""}
    for e in journal["entries"]:
        for ln in e["lines"]:
            table.add_row(
                e["reference"],
                e["date"],
                ln["account"],
                ln.get("workday_account") or "",
                ln.get("deltek_account") or "",
                ln["debit"] if ln["debit"] != "0.00" else "",
                ln["credit"] if ln["credit"] != "0.00" else "",
            )
    table.add_row("Total", "", "", "", "", journal["debits"], journal["credits"])
    return table


def _check(files: list[Path], mapping_path: Path | None) -> tuple[dict[str, Any], int]:
    try:
        mapping = load_mapping(mapping_path)
    except MlcError as exc:
        return {"error": str(exc)}, 2
    result: dict[str, Any] = {"files": [], "unmapped": [], "errors": []}
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in files:
        try:
            parsed = parse_settlement_report(path.read_bytes(), file_name=str(path))
        except (MlcError, OSError) as exc:
            result["errors"].append({"file": str(path), "error": str(exc)})
            continue
        missing = unmapped_types(classify_parsed(parsed, mapping))
        result["files"].append(
            {
                "file": str(path),
                "settlement_id": parsed.header.settlement_id,
                "lines": parsed.lines.height,
                "unmapped_lines": sum(u.count for u in missing),
            }
        )
        for u in missing:
            key = (u.transaction_type, u.amount_type, u.amount_description)
            entry = merged.setdefault(key, {"type": u, "count": 0, "files": []})
            entry["count"] += u.count
            entry["files"].append(f"{path}:{u.line_nos[0]}" if u.line_nos else str(path))
    ordered = sorted(merged.values(), key=lambda e: (-e["count"], str(e["type"].label)))
    for e in ordered:
        d = _unmapped_dict(e["type"])
        d.update(count=e["count"], files=e["files"])
        d.pop("line_nos")
        result["unmapped"].append(d)
    result["yaml"] = suggest_yaml(e["type"] for e in ordered) if ordered else ""
    code = 2 if result["errors"] else (1 if ordered else 0)
    return result, code


def register(app: typer.Typer) -> None:
    """Add ``mlc mapping …`` to the ``mlc`` app."""
    mapping_app = typer.Typer(help="GL mapping: check coverage of settlement types.")
    app.add_typer(mapping_app, name="mapping")

    @mapping_app.command("check")
    def check(
        files: Annotated[
            list[Path], typer.Argument(help="Settlement report files (V2 or V1 flat files).")
        ],
        mapping: MappingOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """List the settlement types the mapping does not cover, with the YAML to add."""
        result, code = _check(files, mapping)
        if as_json:
            typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
            raise typer.Exit(code)
        console = Console()
        if "error" in result:
            console.print(f"[red]{result['error']}[/red]", highlight=False)
            raise typer.Exit(code)
        for err in result["errors"]:
            console.print(f"[red]{err['error']}[/red]", highlight=False)
        for f in result["files"]:
            status = "ok" if not f["unmapped_lines"] else f"{f['unmapped_lines']} unmapped line(s)"
            console.print(
                f"{f['file']}: settlement {f['settlement_id']}, {f['lines']} lines, {status}",
                highlight=False,
            )
        if result["unmapped"]:
            table = Table(title="Unmapped settlement types")
            for col in ("transaction-type", "amount-type", "amount-description", "lines", "where"):
                table.add_column(col)
            for u in result["unmapped"]:
                table.add_row(
                    u["transaction_type"],
                    u["amount_type"],
                    u["amount_description"],
                    str(u["count"]),
                    ", ".join(u["files"][:3]),
                )
            console.print(table)
            console.print("Add to the mapping's rules (choose the category):")
            console.print(result["yaml"], markup=False, highlight=False)
        elif not result["errors"]:
            console.print("Every settlement type is mapped.")
        raise typer.Exit(code)
