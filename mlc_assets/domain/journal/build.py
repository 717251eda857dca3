"""Building the journal from classified lines: one line per account, balanced, every line once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from mlc_assets.domain.journal.model import Journal, JournalEntry, JournalError, JournalLine
from mlc_assets.domain.journal.ranges import (
    _part_date,
    _range_bounds,
    _same_numbers,
    _source_ranges,
)
from mlc_assets.domain.mapping import (
    CLEARING,
    IN_TRANSIT,
    PAYABLE,
    AccountConfig,
    GlMapping,
    MappingError,
    UnmappedTypesError,
    settlement_marketplace,
    unmapped_types,
)
from mlc_assets.domain.money import ZERO, money_str, to_money
from mlc_assets.domain.settlement_schema import SettlementHeader

# --------------------------------------------------------------------------------------
# Builder


class _Ctx:
    """Per-settlement resolution: accounts with overrides applied, memo text."""

    def __init__(
        self, header: SettlementHeader, mapping: GlMapping, marketplace: str | None, strict: bool
    ) -> None:
        self.header = header
        self.mapping = mapping
        self.marketplace = marketplace
        self.strict = strict
        self._cache: dict[str, AccountConfig] = {}
        self.order = {k: i for i, k in enumerate(mapping.accounts)}

    def account(self, key: str) -> AccountConfig:
        if key not in self._cache:
            acc = self.mapping.account(
                key, marketplace=self.marketplace, currency=self.header.currency
            )
            if self.strict and (acc.workday is None or acc.deltek is None):
                raise MappingError(
                    f"accounts.{key}: needs both 'workday' and 'deltek' (target_neutral=False)"
                )
            self._cache[key] = acc
        return self._cache[key]

    def line(
        self, key: str, net: Decimal, *, memo: str, sources: str = "", count: int = 0
    ) -> JournalLine:
        acc = self.account(key)
        return JournalLine(
            account_key=key,
            category=acc.category,
            memo=memo,
            debit=-net if net < 0 else ZERO,
            credit=net if net > 0 else ZERO,
            workday=acc.workday,
            deltek=acc.deltek,
            line_count=count,
            source_ranges=sources,
        )


def build_journal(
    header: SettlementHeader,
    classified_lines: pl.DataFrame,
    mapping: GlMapping,
    *,
    target_neutral: bool = True,
) -> Journal:
    """Journal entries for one settlement (see module docstring for the scheme).

    ``classified_lines`` is the output of :func:`mlc_assets.domain.mapping.classify_lines`.
    With ``target_neutral=False`` every account used must name both a Workday and a Deltek
    account (for setups posting to both ERPs); by default a missing side is allowed."""
    missing = unmapped_types(classified_lines)
    if missing:
        raise UnmappedTypesError(header.settlement_id, missing)
    deposit = to_money(header.total_amount)
    lines = classified_lines.select("line_no", "account_key", "amount", "posted_date")
    if not lines["line_no"].is_sorted():
        lines = lines.sort("line_no")  # source ranges are read off consecutive line numbers
    total = lines["amount"].sum() if lines.height else ZERO
    total = to_money(total if total is not None else ZERO)
    if total != deposit:
        raise JournalError(
            f"settlement {header.settlement_id}: lines sum to {money_str(total)} but the "
            f"deposit (total-amount) is {money_str(deposit)}"
        )
    marketplace = settlement_marketplace(classified_lines)
    ctx = _Ctx(header, mapping, marketplace, strict=not target_neutral)
    settings = mapping.journal
    end_day = header.end.date()
    final_date = (
        end_day if settings.posting_date == "settlement_end" else header.deposit_date.date()
    )
    base_memo = (
        f"Amazon settlement {header.settlement_id} "
        f"{header.start.date().isoformat()}..{end_day.isoformat()}"
        + (f" ({marketplace})" if marketplace else "")
    )

    month_of = pl.coalesce(
        pl.col("posted_date").dt.truncate("1mo"), pl.lit(end_day.replace(day=1), dtype=pl.Date)
    )
    months: list[date] = []
    if settings.split_by_month:  # a month per line only when the entries split by it
        lines = lines.with_columns(month_of.alias("month"))
        months = sorted(lines["month"].unique().to_list()) if lines.height else []

    def prefix(entry_no: int) -> str:
        return f"{settings.reference_prefix}-{header.settlement_id}-{entry_no}"

    def activity(part: pl.DataFrame, suffix: str) -> list[JournalLine]:
        group_keys = ["account_key"] if settings.summarise else ["account_key", "line_no"]
        grouped = (
            part.lazy()
            .group_by(group_keys)
            .agg(
                pl.col("amount").sum().alias("net"),
                pl.col("line_no").min().alias("first"),
                pl.len().alias("count"),
            )
            .join(_source_ranges(part, group_keys), on=group_keys, how="left")
            .with_columns(
                pl.col("account_key")
                .replace_strict(ctx.order, default=1 << 30, return_dtype=pl.Int64)
                .alias("rank")
            )
            .sort("rank", "first")
            .collect()
        )
        out = []
        for row in grouped.iter_rows(named=True):
            key = row["account_key"]
            acc = ctx.account(key)
            out.append(
                ctx.line(
                    key,
                    to_money(row["net"]),
                    memo=f"{acc.name or key}: settlement {header.settlement_id}{suffix}",
                    sources=row["source_ranges"],
                    count=row["count"],
                )
            )
        return out

    def settle(net: Decimal, memo: str) -> list[JournalLine]:
        # A positive net of activity is owed to the seller: debit the bank/clearing side.
        if net > 0:
            return [ctx.line(CLEARING, -net, memo=f"{memo}: deposit")]
        if net < 0:
            return [ctx.line(PAYABLE, -net, memo=f"{memo}: payable to Amazon")]
        return []

    entries: list[JournalEntry] = []
    if not settings.split_by_month or len(months) <= 1:
        act = activity(lines, "")
        entries.append(
            JournalEntry(
                settlement_id=header.settlement_id,
                entry_no=1,
                reference=prefix(1),
                posting_date=final_date,
                currency=header.currency,
                memo=base_memo,
                lines=(*act, *settle(deposit, base_memo)),
            )
        )
    else:
        for n, month in enumerate(months, start=1):
            part = lines.filter(pl.col("month") == month)
            label = f"{month.year:04d}-{month.month:02d}"
            act = activity(part, f" ({label})")
            net = to_money(part["amount"].sum())
            memo = f"{base_memo} part {n}/{len(months)} {label}"
            transit = ctx.line(IN_TRANSIT, -net, memo=f"{memo}: in transit") if net else None
            entries.append(
                JournalEntry(
                    settlement_id=header.settlement_id,
                    entry_no=n,
                    reference=prefix(n),
                    posting_date=_part_date(month, end_day),
                    currency=header.currency,
                    memo=memo,
                    lines=(*act, *((transit,) if transit else ())),
                )
            )
        if deposit != ZERO:
            n = len(months) + 1
            memo = f"{base_memo} deposit"
            entries.append(
                JournalEntry(
                    settlement_id=header.settlement_id,
                    entry_no=n,
                    reference=prefix(n),
                    posting_date=final_date,
                    currency=header.currency,
                    memo=memo,
                    lines=(
                        ctx.line(IN_TRANSIT, deposit, memo=f"{memo}: release in transit"),
                        *settle(deposit, memo),
                    ),
                )
            )
    journal = Journal(
        settlement_id=header.settlement_id,
        currency=header.currency,
        deposit=deposit,
        marketplace=marketplace,
        entries=tuple(entries),
    )
    _assert_invariants(journal, lines)
    return journal


def _assert_invariants(journal: Journal, lines: pl.DataFrame) -> None:
    """Fail loudly rather than hand an ERP a wrong journal (cheap; runs on every build)."""
    for e in journal.entries:
        if not e.is_balanced:
            raise JournalError(
                f"{e.reference}: debits {e.total_debits} != credits {e.total_credits}"
            )
    if journal.clearing_total != journal.deposit:
        raise JournalError(
            f"settlement {journal.settlement_id}: clearing {journal.clearing_total} != deposit "
            f"{journal.deposit}"
        )
    journal_lines = [ln for e in journal.entries for ln in e.lines]
    try:
        bounds = _range_bounds([ln.source_ranges for ln in journal_lines])
    except ValueError as exc:
        raise JournalError(f"settlement {journal.settlement_id}: {exc}") from None
    counts = (
        bounds.group_by("journal_line")
        .agg((pl.col("last") - pl.col("first") + 1).sum().alias("len"))
        .join(
            pl.DataFrame(
                {
                    "journal_line": range(len(journal_lines)),
                    "line_count": [ln.line_count for ln in journal_lines],
                },
                schema={"journal_line": pl.UInt32, "line_count": pl.Int64},
            ),
            on="journal_line",
            how="full",
            coalesce=True,
        )
        .filter(pl.col("len").fill_null(0) != pl.col("line_count").fill_null(-1))
        .sort("journal_line")
    )
    if counts.height:
        bad = journal_lines[int(counts["journal_line"][0])]
        named = int(counts["len"].fill_null(0)[0])
        raise JournalError(
            f"settlement {journal.settlement_id}: journal line {bad.account_key} counts "
            f"{bad.line_count} line(s) but its source ranges name {named}"
        )
    # Every report line exactly once: the multisets of line numbers are equal.
    if not _same_numbers(bounds, lines["line_no"]):
        raise JournalError(f"settlement {journal.settlement_id}: not every line is journalled once")


# One range: a number, or two joined by "-"; no sign, no leading zero (the text is ours).
