"""The two yardsticks the connector's report path is measured against.

* ``polars_floor``: ``polars.read_csv`` of the file with every cell as text and nothing
  else — no validation, no decimal or date parsing, no warehouse. No correct parser that
  reads every cell can be faster, so it is the floor.
* ``rowwise``: what a typical reconciliation script does — ``csv.DictReader`` over the
  file, ``Decimal`` per amount, ``datetime.strptime`` per posted date, one dict lookup of the
  GL mapping per line, per-account totals and a balance check. It writes no database, so
  it is a lower bound on such a script's cost.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from mlc_assets.domain.mapping import GlMapping


def polars_floor(path: Path, *, charset: str | None = None) -> dict[str, Any]:
    import polars as pl

    frame = pl.read_csv(
        path,
        separator="\t",
        quote_char=None,
        infer_schema=False,
        # The reader only knows UTF-8; the floor does not care what ISO-8859-1 letters
        # become, so the lossy mode stands in for a decode.
        encoding="utf8" if (charset or "utf-8").lower() in ("utf-8", "utf8") else "utf8-lossy",
    )
    return {"rows": frame.height, "columns": frame.width}


def _date_format(sample: str) -> str:
    return "%d.%m.%Y %H:%M:%S UTC" if "." in sample[:6] else "%Y-%m-%d %H:%M:%S UTC"


def rowwise(path: Path, mapping: GlMapping, *, charset: str | None = None) -> dict[str, Any]:
    """Row-by-row parse, classify and total; raises when the file does not balance."""
    total: Decimal | None = None
    currency = ""
    comma = False
    date_format = ""
    lines: list[tuple[Any, ...]] = []
    per_account: dict[str, Decimal] = defaultdict(Decimal)
    rules: dict[tuple[str, str, str, str], str | None] = {}
    with path.open(encoding=charset or "utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("total-amount"):
                currency = row["currency"]
                raw = row["total-amount"]
                comma = "," in raw[-3:]
                total = Decimal(_plain(raw, comma))
                continue
            amount = Decimal(_plain(row["amount"], comma))
            stamp = row["posted-date-time"]
            if not date_format:
                date_format = _date_format(stamp)
            posted = datetime.strptime(stamp, date_format)
            quantity = int(row["quantity-purchased"]) if row["quantity-purchased"] else None
            key = (
                row["transaction-type"],
                row["amount-type"],
                row["amount-description"],
                row["marketplace-name"],
            )
            if key not in rules:
                rule = mapping.rule_for(*key[:3], marketplace=key[3], currency=currency)
                rules[key] = rule.key if rule else None
            account = rules[key]
            if account is None:
                raise ValueError(f"unmapped type {key}")
            per_account[account] += amount
            lines.append((row["order-id"], row["sku"], amount, posted, quantity, account))
    lines_sum = sum(per_account.values(), Decimal("0.00"))
    if total is None or lines_sum != total:
        raise ValueError(f"lines sum to {lines_sum}, total-amount is {total}")
    return {"rows": len(lines), "accounts": len(per_account), "total_amount": f"{total:.2f}"}


def _plain(value: str, comma: bool) -> str:
    return value.replace(".", "").replace(",", ".") if comma else value.replace(",", "")
