"""Finances event lines to categories, through the mapping's finance rules."""

from __future__ import annotations

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
)

from mlc_assets.domain.mapping.classify import _yaml_scalar
from mlc_assets.domain.mapping.model import GlMapping, _categories

# --------------------------------------------------------------------------------------
# Finances side

FINANCE_KEY_COLUMNS = ("event_family", "charge_list", "charge_type")


def classify_finance_lines(frame: pl.DataFrame, mapping: GlMapping) -> pl.DataFrame:
    """Add ``category`` (null when unmapped) to Finances lines.

    Expects the Finances helper's columns ``event_family`` (v0 list name without
    ``EventList``, e.g. ``Shipment``; the suffixed form is accepted too), ``charge_list``
    (``ItemChargeList``, ``ItemFeeList``, ``PromotionList``, ``ItemTaxWithheldList``,
    ``FeeList``, or the amount field of single-amount events such as ``AdjustmentAmount``),
    ``charge_type`` (ChargeType / FeeType / AdjustmentType / breakdownType) and ``amount``."""
    tmp = [f"__{c}" for c in FINANCE_KEY_COLUMNS]
    keyed = frame.with_columns(
        *(pl.col(c).fill_null("").alias(t) for c, t in zip(FINANCE_KEY_COLUMNS, tmp, strict=True))
    )
    distinct = keyed.select(tmp).unique()
    cats = []
    for fam, lst, typ in distinct.iter_rows():
        rule = mapping.finance_rule_for(fam, lst, typ)
        cats.append(rule.category.value if rule else None)
    resolved = distinct.with_columns(pl.Series("category", cats, dtype=pl.Utf8))
    base = keyed.drop([c for c in ("category",) if c in keyed.columns])
    return base.join(resolved, on=tmp, how="left", maintain_order="left").drop(tmp)


class UnmappedFinanceType(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_family: str
    charge_list: str
    charge_type: str
    count: int

    def yaml_snippet(self) -> str:
        return (
            "- match:\n"
            f"    event_family: {_yaml_scalar(self.event_family)}\n"
            f"    list: {_yaml_scalar(self.charge_list)}\n"
            f"    type: {_yaml_scalar(self.charge_type)}\n"
            f"  category: other  # choose one of: {_categories()}"
        )


def unmapped_finance_types(classified: pl.DataFrame) -> list[UnmappedFinanceType]:
    missing = classified.filter(pl.col("category").is_null())
    if missing.height == 0:
        return []
    cols = list(FINANCE_KEY_COLUMNS)
    grouped = (
        missing.with_columns(*(pl.col(c).fill_null("") for c in cols))
        .group_by(cols)
        .len()
        .sort(["len", *cols], descending=[True, False, False, False])
    )
    return [
        UnmappedFinanceType(
            event_family=r["event_family"],
            charge_list=r["charge_list"],
            charge_type=r["charge_type"],
            count=r["len"],
        )
        for r in grouped.iter_rows(named=True)
    ]
