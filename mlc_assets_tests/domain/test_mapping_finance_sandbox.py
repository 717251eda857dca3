"""Report side and Finances side classify the same sandbox money into the same categories.

Reconciliation compares the two sides per category, so the default mapping's ``rules`` and
``finance_rules`` must agree: for every sandbox settlement the category totals of the report
lines equal those of the Finances lines (v0 events and 2024-06-19 transactions), through the
real renderers and the real flatteners."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import polars as pl

from mlc_assets.domain.finance_events import flatten_transactions, flatten_v0_events
from mlc_assets.domain.mapping import (
    classify_finance_lines,
    classify_lines,
    load_mapping,
    settlement_marketplace,
    unmapped_finance_types,
    unmapped_types,
)
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.sandbox import finances_routes as finances
from mlc_assets.sandbox import generator
from mlc_assets.sandbox import report_render as render


def totals(frame: pl.DataFrame) -> dict[str, Decimal]:
    out = frame.group_by("category").agg(pl.col("amount").sum())
    return {r["category"]: Decimal(r["amount"]) for r in out.iter_rows(named=True) if r["amount"]}


def test_report_and_finances_categories_agree_on_sandbox() -> None:
    mapping = load_mapping()
    seller = generator.generate_seller(5, 6)
    checked = 0
    for s in seller.settlements:
        parsed = parse_settlement_report(render.render_v2(s), file_name=f"{s.settlement_id}.txt")
        report = classify_lines(
            parsed.lines,
            mapping,
            marketplace=settlement_marketplace(parsed.lines),
            currency=parsed.header.currency,
        )
        assert unmapped_types(report) == []
        views = [finances.ViewEvent(e, e.posted, e.charges) for e in s.events]
        events: dict[str, list] = defaultdict(list)
        for v in views:
            lst, body = finances.v0_event(v, s.currency)
            events[lst].append(body)
        v0 = flatten_v0_events([{"payload": {"FinancialEvents": dict(events)}}], group_id="g")
        tx_page = {
            "payload": {
                "transactions": [finances.transaction_object(v, s, seller.seller_id) for v in views]
            }
        }
        v24 = flatten_transactions([tx_page], group_id="g")
        for side in (v0, v24):
            classified = classify_finance_lines(side, mapping)
            assert unmapped_finance_types(classified) == []
            assert totals(classified) == totals(report), s.settlement_id
        checked += 1
    assert checked >= 6
