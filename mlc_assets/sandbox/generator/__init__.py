"""Deterministic generator of a simulated Amazon seller.

Determinism contract: identifiers, amounts, line composition and ordering depend only on
``seed`` (and ``settlements``/``lines_scale``/``marketplaces``). Dates depend on ``start``
when given; otherwise they are anchored to ``now`` floored to the UTC day, so that the
newest settlement ended a few days ago and every report was created within the last 90
days — which is what a real account looks like whenever the demo is started. Hence the
same seed gives byte-identical reports for the same ``start`` (or the same UTC day).

Report-side (transaction-type, amount-type, amount-description) triples are the real ones
seen in V2 settlement files (see docs/reference/amazon/NOTES.md §6); every component
also carries its Finances v0 naming so the Finances sandbox can render the same money.
"""

from __future__ import annotations

from mlc_assets.sandbox.generator.ids import (
    _FEES,
    _ITEM_PRICE,
    _ORDER_PREFIX,
    _PROMO_NAMES,
    _SUBSCRIPTION,
    _TAX,
    _WITHHELD,
    CENT,
    DEFAULT_MARKETPLACES,
    DEPOSIT_LAG,
    MARKETPLACES,
    SETTLEMENT_DAYS,
    ZERO,
    _digits,
    _document_id,
    _group_id,
    _money,
    _order_id,
    _Product,
    _q,
    _shipment_id,
)
from mlc_assets.sandbox.generator.seller import (
    _default_start,
    _products,
    generate_seller,
)
from mlc_assets.sandbox.generator.settlement import (
    _SettlementBuilder,
)

__all__ = [
    "CENT",
    "DEFAULT_MARKETPLACES",
    "DEPOSIT_LAG",
    "MARKETPLACES",
    "SETTLEMENT_DAYS",
    "ZERO",
    "_FEES",
    "_ITEM_PRICE",
    "_ORDER_PREFIX",
    "_PROMO_NAMES",
    "_SUBSCRIPTION",
    "_TAX",
    "_WITHHELD",
    "_Product",
    "_SettlementBuilder",
    "_default_start",
    "_digits",
    "_document_id",
    "_group_id",
    "_money",
    "_order_id",
    "_products",
    "_q",
    "_shipment_id",
    "generate_seller",
]
