"""The two settlement flat-file layouts Amazon ships, and how to tell them apart by header.

Files are read by column NAME: real files drop optional columns (V2 ``promotion-id``, the
three V1 promotion columns) and tools re-order columns, so positions prove nothing. A header
that is neither layout is refused rather than guessed at, because an unknown column may hold
money that would otherwise be silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Summary-row fields; detail rows leave them empty (except settlement-id, which they repeat).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
)

V2_COLUMNS: tuple[str, ...] = (
    *SUMMARY_COLUMNS,
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)
V2_OPTIONAL: frozenset[str] = frozenset({"promotion-id"})

V1_COLUMNS: tuple[str, ...] = (
    *SUMMARY_COLUMNS,
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "shipment-fee-type",
    "shipment-fee-amount",
    "order-fee-type",
    "order-fee-amount",
    "fulfillment-id",
    "posted-date",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "price-type",
    "price-amount",
    "item-related-fee-type",
    "item-related-fee-amount",
    "misc-fee-amount",
    "other-fee-amount",
    "other-fee-reason-description",
    "promotion-id",
    "promotion-type",
    "promotion-amount",
    "direct-payment-type",
    "direct-payment-amount",
    "other-amount",
)
# Amazon drops these three together when a settlement has no promotions (36 -> 33 columns).
V1_PROMOTION_COLUMNS: frozenset[str] = frozenset(
    {"promotion-id", "promotion-type", "promotion-amount"}
)


@dataclass(frozen=True)
class V1AmountColumn:
    """How one V1 ``*-amount`` column becomes a canonical line.

    ``description_from`` is tried in order; the first non-empty cell is the description.
    """

    column: str
    amount_type: str
    description_from: tuple[str, ...]


# Order matters only for a stable line order within one physical row.
V1_AMOUNT_COLUMNS: tuple[V1AmountColumn, ...] = (
    V1AmountColumn("price-amount", "ItemPrice", ("price-type",)),
    V1AmountColumn("item-related-fee-amount", "ItemFees", ("item-related-fee-type",)),
    V1AmountColumn("shipment-fee-amount", "ShipmentFees", ("shipment-fee-type",)),
    V1AmountColumn("order-fee-amount", "OrderFees", ("order-fee-type",)),
    V1AmountColumn("promotion-amount", "Promotion", ("promotion-type",)),
    V1AmountColumn("direct-payment-amount", "DirectPayment", ("direct-payment-type",)),
    V1AmountColumn("misc-fee-amount", "MiscFee", ("transaction-type",)),
    V1AmountColumn(
        "other-fee-amount", "OtherFee", ("other-fee-reason-description", "transaction-type")
    ),
    V1AmountColumn("other-amount", "Other", ("transaction-type",)),
)

FileFormat = Literal["v2", "v1"]


@dataclass(frozen=True)
class Layout:
    """The layout a header matched, with each column's position in this file."""

    file_format: FileFormat
    positions: dict[str, int]

    @property
    def column_count(self) -> int:
        return len(self.positions)

    @property
    def amount_columns(self) -> tuple[str, ...]:
        """Columns holding money on detail rows (total-amount is the summary's)."""
        if self.file_format == "v2":
            return ("amount",)
        return tuple(c.column for c in V1_AMOUNT_COLUMNS if c.column in self.positions)


class LayoutMismatch(ValueError):
    """The header is not a known layout; the message says what is missing or extra."""


def _match(names: set[str], full: tuple[str, ...], optional: frozenset[str]) -> str | None:
    """None when ``names`` is ``full`` minus (all or none of) ``optional``, else the reason."""
    required = set(full) - optional
    missing = sorted(required - names)
    extra = sorted(names - set(full))
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        problems.append("unexpected " + ", ".join(extra))
    present_optional = names & optional
    if present_optional and present_optional != optional:
        problems.append(
            "partial optional group (has "
            + ", ".join(sorted(present_optional))
            + ", lacks "
            + ", ".join(sorted(optional - present_optional))
            + ")"
        )
    return "; ".join(problems) or None


def detect_layout(header: list[str]) -> Layout:
    """Match a header row (already trimmed) to the V2 or V1 layout by column names."""
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise LayoutMismatch(f"column '{name}' appears twice in the header")
        seen.add(name)
    positions = {name: i for i, name in enumerate(header)}
    if "amount" in seen or "posted-date-time" in seen or "amount-type" in seen:
        candidates: tuple[tuple[FileFormat, tuple[str, ...], frozenset[str]], ...] = (
            ("v2", V2_COLUMNS, V2_OPTIONAL),
            ("v1", V1_COLUMNS, V1_PROMOTION_COLUMNS),
        )
    else:
        candidates = (
            ("v1", V1_COLUMNS, V1_PROMOTION_COLUMNS),
            ("v2", V2_COLUMNS, V2_OPTIONAL),
        )
    reasons = []
    for file_format, full, optional in candidates:
        reason = _match(seen, full, optional)
        if reason is None:
            return Layout(file_format=file_format, positions=positions)
        distance = len(set(full) ^ seen)
        reasons.append((distance, f"not a {file_format.upper()} settlement flat file ({reason})"))
    # Report against the closest layout only: the other one's list of misses is noise.
    raise LayoutMismatch(min(reasons, key=lambda r: r[0])[1])
