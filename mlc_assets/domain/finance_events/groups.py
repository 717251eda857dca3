"""Financial event groups (the payout behind a settlement) and events posted after one closed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from mlc_assets.domain.finance_events.schema import FinanceEventError, PageLike
from mlc_assets.domain.finance_events.v0 import _page_key, _payload
from mlc_assets.domain.finance_events.values import (
    _array,
    _show,
    _text,
    parse_money,
    parse_timestamp,
    pick,
)

# ---------------------------------------------------------------- groups


class FinancialEventGroup(BaseModel):
    """One v0 financial event group, normalised (amounts Decimal, dates UTC)."""

    model_config = ConfigDict(frozen=True)

    group_id: str
    processing_status: str | None = None  # "Open" | "Closed"
    fund_transfer_status: str | None = None
    original_total: Decimal | None = None
    original_currency: str | None = None
    converted_total: Decimal | None = None
    converted_currency: str | None = None
    beginning_balance: Decimal | None = None
    fund_transfer_date: datetime | None = None
    trace_id: str | None = None
    account_tail: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def closed(self) -> bool:
        return (self.processing_status or "").casefold() == "closed"

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], *, page: str = "?") -> FinancialEventGroup:
        if not isinstance(raw, Mapping):
            raise FinanceEventError(f"expected a group object, got {_show(raw)}", page=page)
        gid = _text(pick(raw, "FinancialEventGroupId"), "FinancialEventGroupId", page=page)
        if not gid:
            raise FinanceEventError("group without FinancialEventGroupId", page=page)
        ref = f"group {gid}"

        def text(name: str) -> str | None:
            return _text(pick(raw, name), name, page=page, ref=ref)

        def money(name: str) -> tuple[Decimal, str] | None:
            return parse_money(pick(raw, name), page=page, ref=f"{ref}.{name}")

        def when(name: str) -> datetime | None:
            return parse_timestamp(pick(raw, name), page=page, ref=f"{ref}.{name}")

        orig = money("OriginalTotal")
        conv = money("ConvertedTotal")
        begin = money("BeginningBalance")
        try:
            return cls(
                group_id=gid,
                processing_status=text("ProcessingStatus"),
                fund_transfer_status=text("FundTransferStatus"),
                original_total=orig[0] if orig else None,
                original_currency=orig[1] if orig else None,
                converted_total=conv[0] if conv else None,
                converted_currency=conv[1] if conv else None,
                beginning_balance=begin[0] if begin else None,
                fund_transfer_date=when("FundTransferDate"),
                trace_id=text("TraceId"),
                account_tail=text("AccountTail"),
                start=when("FinancialEventGroupStart"),
                end=when("FinancialEventGroupEnd"),
            )
        except ValidationError as exc:  # every field is checked above; kept as a backstop
            raise FinanceEventError(f"invalid group: {exc}", page=page, ref=ref) from exc


def groups_from_pages(pages: Iterable[PageLike | Mapping[str, Any]]) -> list[FinancialEventGroup]:
    out: list[FinancialEventGroup] = []
    for index, page in enumerate(pages):
        key = _page_key(page, index)
        groups = pick(_payload(page, key), "FinancialEventGroupList")
        for raw in _array(groups, "FinancialEventGroupList", page=key):
            out.append(FinancialEventGroup.from_api(raw, page=key))
    return out


def flag_late_events(lines: pl.DataFrame, group_end: datetime | None) -> pl.DataFrame:
    """Add ``late``: posted after the group closed but still returned for the group.

    Such events are easy to lose with a posted-date window; listing them lets a controller
    see why a group and its settlement report may differ."""
    if group_end is None:
        return lines.with_columns(pl.lit(False).alias("late"))
    return lines.with_columns(
        (pl.col("posted_date") > pl.lit(group_end).dt.convert_time_zone("UTC"))
        .fill_null(False)
        .alias("late")
    )


SourceApi = Literal["v0", "2024-06-19"]
