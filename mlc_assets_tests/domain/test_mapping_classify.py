"""classify_lines at scale and on awkward cells: the joined-key lookup equals a plain join.

classify_lines looks rules up once per distinct (type triple, marketplace) key and gathers the
answers back by key index; a cell holding the key separator takes the four-column join
instead. Both must give exactly what a per-line ``rule_for`` gives.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain.mapping import _KEY_SEP, classify_lines, load_mapping
from mlc_assets.domain.settlement_schema import LINE_SCHEMA

MAPPING = load_mapping()
CELLS = [
    None,
    "",
    "Order",
    "Refund",
    "ItemPrice",
    "ItemFees",
    "Principal",
    "Commission",
    "other-transaction",
    "Storage Fee",
    f"Order{_KEY_SEP}ItemPrice",  # would collide with ("Order", "ItemPrice", ...) if unchecked
    f"{_KEY_SEP}",
]
MARKETPLACES = [None, "", "Amazon.com", "Amazon.de", "Non-Amazon US"]


def frame(rows: list[tuple]) -> pl.DataFrame:
    n = len(rows)
    data: dict[str, list] = {c: [None] * n for c in LINE_SCHEMA}
    data["settlement_id"] = ["1"] * n
    data["line_no"] = list(range(2, n + 2))
    for i, name in enumerate(("transaction_type", "amount_type", "amount_description")):
        data[name] = [r[i] for r in rows]
    data["marketplace_name"] = [r[3] for r in rows]
    data["amount"] = [Decimal("1.00")] * n
    return pl.DataFrame(data, schema=LINE_SCHEMA)


def expected(rows: list[tuple], marketplace: str | None, currency: str) -> list[tuple]:
    out = []
    for tt, at, ad, mp in rows:
        rule = MAPPING.rule_for(
            tt or "", at or "", ad or "", marketplace=mp or marketplace or "", currency=currency
        )
        out.append((rule.category.value, rule.key) if rule else (None, None))
    return out


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(CELLS),
            st.sampled_from(CELLS),
            st.sampled_from(CELLS),
            st.sampled_from(MARKETPLACES),
        ),
        max_size=30,
    ),
    marketplace=st.sampled_from([None, "Amazon.de"]),
    currency=st.sampled_from(["USD", "EUR"]),
)
def test_every_line_gets_what_its_own_rule_lookup_gives(rows, marketplace, currency) -> None:
    out = classify_lines(frame(rows), MAPPING, marketplace=marketplace, currency=currency)
    assert out.columns == [*LINE_SCHEMA, "category", "account_key"]
    assert out["line_no"].to_list() == list(range(2, len(rows) + 2))
    assert list(out.select("category", "account_key").iter_rows()) == expected(
        rows, marketplace, currency
    )


def test_separator_in_a_cell_does_not_merge_keys() -> None:
    # ("Order\x1fItemPrice", "Principal", "") and ("Order", "ItemPrice\x1fPrincipal", "")
    # join to the same text; the classifier must still tell them apart.
    rows = [
        ("Order", "ItemPrice", "Principal", "Amazon.com"),
        (f"Order{_KEY_SEP}ItemPrice", "Principal", "", "Amazon.com"),
        ("Order", f"ItemPrice{_KEY_SEP}Principal", "", "Amazon.com"),
    ]
    out = classify_lines(frame(rows), MAPPING, currency="USD")
    assert out["account_key"].to_list() == ["principal", None, None]


def test_a_million_lines_keep_order_and_reclassify_existing_columns() -> None:
    base = [
        ("Order", "ItemPrice", "Principal", "Amazon.com"),
        ("Order", "ItemFees", "Commission", "Amazon.com"),
        ("Refund", "ItemPrice", "Principal", ""),
        ("Mystery", "Thing", "Whatever", "Amazon.com"),
    ]
    small = frame(base)
    big = pl.concat([small] * 250_000).with_columns(
        pl.int_range(2, 1_000_002, dtype=pl.Int64).alias("line_no")
    )
    # Already classified frames (the CLI re-runs classification) are classified afresh.
    stale = big.with_columns(pl.lit("x").alias("category"), pl.lit("y").alias("account_key"))
    out = classify_lines(stale, MAPPING, marketplace="Amazon.com", currency="USD")
    assert out.height == 1_000_000 and out["line_no"].is_sorted()
    want = expected(base, "Amazon.com", "USD")
    assert list(out.slice(400_000, 4).select("category", "account_key").iter_rows()) == want
    assert out["account_key"].null_count() == 250_000
