"""Build balanced, ERP-neutral journal entries from classified settlement lines.

The journal is the one place where settlement money becomes debits and credits, so its
invariants are the accounting rules of ARCHITECTURE.md:

* every entry balances to the cent;
* over all entries the clearing (bank) side equals the deposit exactly once;
* every report line lands on exactly one journal line (``source_lines`` keeps the file line
  numbers for audit, ``line_count`` their number);
* an unmapped type stops the settlement (:class:`UnmappedTypesError`), nothing is guessed.

Signs: report amounts are seller-positive. Per account key the lines are netted; a positive
net (money to the seller: sales, reimbursements, released reserve) is a **credit**, a negative
net (fees, refunds, newly held reserve) is a **debit**. A key whose lines net to exactly zero
still gets a 0/0 line so its source lines stay traceable; posting code may skip such lines
(:attr:`JournalLine.is_zero`). The balancing line: a positive deposit debits ``clearing``; a
negative one credits ``payable`` (Amazon charges the seller); a zero deposit has no clearing
line (the activity balances by itself).

Month split (``journal.split_by_month``, accrual): when a settlement's lines fall in more than
one calendar month (by ``posted_date``; a line without one belongs to the month of the
settlement end), the builder makes one entry per month, posting that month's activity and
balancing it against ``in_transit`` (net positive → debit in_transit), dated the last day of
the month (the settlement's last month: its end day). A final *deposit* entry, dated by
``journal.posting_date``, moves the whole in-transit balance (which equals the deposit) to
``clearing`` (or, when negative, to ``payable``). For a zero deposit the monthly in-transit
lines already cancel and there is no final entry. So clearing still sees the deposit once,
and in_transit nets to zero over the journal. A settlement inside one month is one entry.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, computed_field

from mlc_assets.domain.categories import Category
from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.mapping import (
    CLEARING,
    IN_TRANSIT,
    PAYABLE,
    AccountConfig,
    DeltekAccountRef,
    Mapping,
    MappingError,
    UnmappedTypesError,
    WorkdayAccountRef,
    settlement_marketplace,
    unmapped_types,
)
from mlc_assets.domain.money import MONEY_DTYPE, ZERO, money_str, to_money
from mlc_assets.domain.settlement_schema import SettlementHeader

__all__ = [
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalLine",
    "UnmappedTypesError",
    "build_journal",
]


class JournalError(MlcError):
    """The lines cannot make a correct journal (e.g. they do not sum to the deposit)."""


class JournalLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_key: str
    category: Category | None  # None for clearing / payable / in_transit
    memo: str
    debit: Decimal
    credit: Decimal
    workday: WorkdayAccountRef | None
    deltek: DeltekAccountRef | None
    line_count: int
    source_lines: tuple[int, ...] = ()  # report line numbers (file lines), sorted

    @property
    def is_zero(self) -> bool:
        return self.debit == ZERO and self.credit == ZERO

    @property
    def net(self) -> Decimal:
        """Seller-positive net (credit − debit)."""
        return self.credit - self.debit

    @property
    def source_ranges(self) -> str:
        """``source_lines`` compressed for humans: ``"2-9,12,15-16"``."""
        return _ranges(self.source_lines)


class JournalEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    settlement_id: str
    entry_no: int
    reference: str
    posting_date: date
    currency: str
    memo: str
    lines: tuple[JournalLine, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_debits(self) -> Decimal:
        return sum((ln.debit for ln in self.lines), ZERO)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_credits(self) -> Decimal:
        return sum((ln.credit for ln in self.lines), ZERO)

    @property
    def is_balanced(self) -> bool:
        return self.total_debits == self.total_credits

    def postable_lines(self) -> tuple[JournalLine, ...]:
        """Lines an ERP needs (zero-net lines dropped; they exist only for the audit trail)."""
        return tuple(ln for ln in self.lines if not ln.is_zero)


class Journal(BaseModel):
    model_config = ConfigDict(frozen=True)

    settlement_id: str
    currency: str
    deposit: Decimal
    marketplace: str | None = None
    entries: tuple[JournalEntry, ...]

    @property
    def is_balanced(self) -> bool:
        return all(e.is_balanced for e in self.entries)

    @property
    def total_debits(self) -> Decimal:
        return sum((e.total_debits for e in self.entries), ZERO)

    @property
    def total_credits(self) -> Decimal:
        return sum((e.total_credits for e in self.entries), ZERO)

    @property
    def clearing_total(self) -> Decimal:
        """What the bank side received: clearing debits − payable credits (= the deposit)."""
        total = ZERO
        for e in self.entries:
            for ln in e.lines:
                if ln.account_key == CLEARING:
                    total += ln.debit - ln.credit
                elif ln.account_key == PAYABLE:
                    total -= ln.credit - ln.debit
        return total

    def fingerprint(self) -> str:
        """sha256 of the journal's content: a posted journal that later changes is detectable."""
        payload = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), default=str
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_frame(self) -> pl.DataFrame:
        rows: dict[str, list[Any]] = {c: [] for c in JOURNAL_FRAME_SCHEMA}
        for e in self.entries:
            for i, ln in enumerate(e.lines, start=1):
                wd, dk = ln.workday, ln.deltek
                values = {
                    "settlement_id": e.settlement_id,
                    "entry_no": e.entry_no,
                    "reference": e.reference,
                    "posting_date": e.posting_date,
                    "currency": e.currency,
                    "entry_memo": e.memo,
                    "line_no": i,
                    "account_key": ln.account_key,
                    "category": ln.category.value if ln.category else None,
                    "memo": ln.memo,
                    "debit": ln.debit,
                    "credit": ln.credit,
                    "workday_ledger_account": wd.ledger_account if wd else None,
                    "workday_account_set": wd.account_set if wd else None,
                    "workday_spend_category": wd.spend_category if wd else None,
                    "workday_worktags": json.dumps(wd.worktags, sort_keys=True) if wd else None,
                    "deltek_account": dk.account if dk else None,
                    "deltek_wbs1": dk.wbs1 if dk else None,
                    "deltek_wbs2": dk.wbs2 if dk else None,
                    "deltek_wbs3": dk.wbs3 if dk else None,
                    "deltek_org": dk.org if dk else None,
                    "line_count": ln.line_count,
                    "source_lines": list(ln.source_lines),
                }
                for k, v in values.items():
                    rows[k].append(v)
        return pl.DataFrame(rows, schema=JOURNAL_FRAME_SCHEMA)

    def preview_markdown(self, *, max_rows: int = 60) -> str:
        """A markdown table (Dagster metadata, CLI): one row per journal line plus totals."""
        out = [
            f"Settlement {self.settlement_id}: deposit {money_str(self.deposit)} {self.currency}, "
            f"{len(self.entries)} entr{'y' if len(self.entries) == 1 else 'ies'}",
            "",
            "| Reference | Date | Account | Workday | Deltek | Debit | Credit | Lines |",
            "|---|---|---|---|---|---:|---:|---:|",
        ]
        shown = 0
        total_rows = sum(len(e.lines) for e in self.entries)
        for e in self.entries:
            for ln in e.lines:
                if shown >= max_rows:
                    break
                shown += 1
                out.append(
                    f"| {e.reference} | {e.posting_date.isoformat()} | {ln.account_key} | "
                    f"{ln.workday.ledger_account if ln.workday else ''} | "
                    f"{ln.deltek.account if ln.deltek else ''} | "
                    f"{_cell(ln.debit)} | {_cell(ln.credit)} | {ln.line_count} |"
                )
        if shown < total_rows:
            out.append(f"| … {total_rows - shown} more line(s) | | | | | | | |")
        out.append(
            f"| **Total** | | | | | **{money_str(self.total_debits)}** | "
            f"**{money_str(self.total_credits)}** | |"
        )
        return "\n".join(out)


JOURNAL_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "entry_no": pl.Int64(),
    "reference": pl.Utf8(),
    "posting_date": pl.Date(),
    "currency": pl.Utf8(),
    "entry_memo": pl.Utf8(),
    "line_no": pl.Int64(),
    "account_key": pl.Utf8(),
    "category": pl.Utf8(),
    "memo": pl.Utf8(),
    "debit": MONEY_DTYPE,
    "credit": MONEY_DTYPE,
    "workday_ledger_account": pl.Utf8(),
    "workday_account_set": pl.Utf8(),
    "workday_spend_category": pl.Utf8(),
    "workday_worktags": pl.Utf8(),  # JSON object
    "deltek_account": pl.Utf8(),
    "deltek_wbs1": pl.Utf8(),
    "deltek_wbs2": pl.Utf8(),
    "deltek_wbs3": pl.Utf8(),
    "deltek_org": pl.Utf8(),
    "line_count": pl.Int64(),
    "source_lines": pl.List(pl.Int64()),
}


# --------------------------------------------------------------------------------------
# Builder


class _Ctx:
    """Per-settlement resolution: accounts with overrides applied, memo text."""

    def __init__(
        self, header: SettlementHeader, mapping: Mapping, marketplace: str | None, strict: bool
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
        self, key: str, net: Decimal, *, memo: str, sources: Sequence[int] = (), count: int = 0
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
            source_lines=tuple(sorted(sources)),
        )


def build_journal(
    header: SettlementHeader,
    classified_lines: pl.DataFrame,
    mapping: Mapping,
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
    lines = lines.with_columns(month_of.alias("month"))
    months = sorted(lines["month"].unique().to_list()) if lines.height else []

    def prefix(entry_no: int) -> str:
        return f"{settings.reference_prefix}-{header.settlement_id}-{entry_no}"

    def activity(part: pl.DataFrame, suffix: str) -> list[JournalLine]:
        group_keys = ["account_key"] if settings.summarise else ["account_key", "line_no"]
        grouped = part.group_by(group_keys).agg(
            pl.col("amount").sum().alias("net"),
            pl.col("line_no").sort().alias("sources"),
            pl.len().alias("count"),
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
                    sources=row["sources"],
                    count=row["count"],
                )
            )
        out.sort(key=lambda ln: (ctx.order.get(ln.account_key, 1 << 30), ln.source_lines))
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
    used = sorted(n for e in journal.entries for ln in e.lines for n in ln.source_lines)
    if used != sorted(lines["line_no"].to_list()):
        raise JournalError(f"settlement {journal.settlement_id}: not every line is journalled once")


def _part_date(month: date, end_day: date) -> date:
    """Last day of the month; the settlement's last month posts on its end day instead."""
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    return last if last < end_day else max(end_day, month)


def _cell(value: Decimal) -> str:
    return money_str(value) if value else ""


def _ranges(numbers: Sequence[int]) -> str:
    parts: list[str] = []
    nums = sorted(numbers)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ",".join(parts)
