"""Money helpers: every amount is a Decimal with exactly two places.

Floats never enter the ledger; anything that is not already a Decimal is parsed from its
text form so that binary rounding cannot leak in.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import polars as pl

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# DuckDB DECIMAL(18,2) and polars Decimal(18, 2) are the one money type of the warehouse.
MONEY_DTYPE = pl.Decimal(18, 2)
MONEY_SQL = "DECIMAL(18,2)"


def to_money(value: object) -> Decimal:
    """Parse a money value; floats are refused because their decimal expansion is a guess."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    if isinstance(value, Decimal):
        dec = value
    else:
        try:
            dec = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a money amount: {value!r}") from exc
    if not dec.is_finite():
        raise ValueError(f"not a finite money amount: {value!r}")
    return dec.quantize(CENT, rounding=ROUND_HALF_EVEN)


def money_str(value: Decimal) -> str:
    """Render with two places and no exponent, as ERPs and JSON consumers expect."""
    return f"{to_money(value):.2f}"
