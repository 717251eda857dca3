"""Build balanced, ERP-neutral journal entries from classified settlement lines.

The journal is the one place where settlement money becomes debits and credits, so its
invariants are the accounting rules of ARCHITECTURE.md:

* every entry balances to the cent;
* over all entries the clearing (bank) side equals the deposit exactly once;
* every report line lands on exactly one journal line (``source_ranges`` keeps the file line
  numbers for audit, e.g. ``"2-9,12,15-16"``, ``line_count`` their number);
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
from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from mlc_assets.domain.categories import Category
from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.mapping import (
    CLEARING,
    IN_TRANSIT,
    PAYABLE,
    AccountConfig,
    DeltekAccountRef,
    GlMapping,
    MappingError,
    UnmappedTypesError,
    WorkdayAccountRef,
    settlement_marketplace,
    unmapped_types,
)
from mlc_assets.domain.money import MONEY_DTYPE, ZERO, money_str, to_money
from mlc_assets.domain.settlement_schema import SettlementHeader

__all__ = [
    "JOURNALS_SCHEMA",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalLine",
    "UnmappedTypesError",
    "build_journal",
    "ranges_stored_apart",
    "stored_frames",
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
    # The report line numbers (file lines) this line sums, as sorted ranges: "2-9,12,15-16".
    # Text rather than a list of numbers: a million-line settlement's journal line refers to
    # hundreds of thousands of lines, and text is one object to validate, dump and store.
    # A number repeats when one file row holds several amounts (V1 files): "7,7".
    source_ranges: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_source_lines(cls, data: Any) -> Any:
        """Journals stored before ranges listed every number in ``source_lines``."""
        if isinstance(data, dict) and "source_lines" in data:
            data = dict(data)
            listed = data.pop("source_lines") or ()
            data.setdefault("source_ranges", _ranges(listed))
        return data

    @property
    def source_lines(self) -> tuple[int, ...]:
        """``source_ranges`` expanded (for audits and tests; builds one int per line)."""
        return _expand(self.source_ranges)

    @property
    def is_zero(self) -> bool:
        return self.debit == ZERO and self.credit == ZERO

    @property
    def net(self) -> Decimal:
        """Seller-positive net (credit − debit)."""
        return self.credit - self.debit


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
        """sha256 of the journal's content: a posted journal that later changes is detectable.

        The hash of ``json.dumps(self.model_dump(mode="json"), sort_keys=True,
        separators=(",", ":"), default=str)`` — the value stored journals and posting rows
        carry — computed without making that text: long ranges texts (a million-line
        settlement's are megabytes) are hashed as they are, between the pieces of the
        dumped rest, since JSON writes ranges text (digits, ``,`` and ``-``) verbatim."""
        doc = self.model_dump(mode="json")
        apart: list[str] = []
        for entry in doc["entries"]:
            for line in entry["lines"]:
                text = line["source_ranges"]
                if len(text) >= _HASH_APART and _verbatim_in_json(text):
                    line["source_ranges"] = f"\x00{len(apart)}"
                    apart.append(text)
        payload = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256()
        rest = payload
        for i, text in enumerate(apart):
            before, mark, after = rest.partition(f'"\\u0000{i}"')
            if not mark or f'"\\u0000{i}"' in after:  # e.g. a memo "\x000"
                return hashlib.sha256(_dumped(self).encode("utf-8")).hexdigest()
            digest.update(before.encode("utf-8"))
            digest.update(f'"{text}"'.encode("ascii"))
            rest = after
        digest.update(rest.encode("utf-8"))
        return digest.hexdigest()

    def stored_json(self) -> str:
        """The journal as ``journals.journal_json`` keeps it: everything but the lines'
        ``source_ranges``, which ``journal_lines.source_ranges`` holds (a million-line
        settlement's ranges are megabytes: stored once). :meth:`from_stored` puts them back."""
        return self.model_dump_json(exclude=_WITHOUT_RANGES)

    @classmethod
    def from_stored(cls, journal_json: str, lines: pl.DataFrame | None) -> Journal:
        """The journal from ``journals.journal_json`` and, when the ranges are kept apart
        (:func:`ranges_stored_apart`), the partition's ``journal_lines`` rows.

        Journals stored with their ranges (or listed ``source_lines``) in the JSON load from
        the JSON alone, as before. A journal line without its ``journal_lines`` row is an
        error, never an empty audit trail."""
        if not ranges_stored_apart(journal_json):
            return cls.model_validate_json(journal_json)
        doc = json.loads(journal_json)
        rows: dict[tuple[int, int], tuple[str, str]] = {}
        if lines is not None and lines.height:
            for entry_no, line_no, key, text in lines.select(
                "entry_no", "line_no", "account_key", "source_ranges"
            ).iter_rows():
                rows[(entry_no, line_no)] = (key, text)
        for entry in doc["entries"]:
            for line_no, line in enumerate(entry["lines"], start=1):
                at = (entry["entry_no"], line_no)
                key, text = rows.get(at, (None, None))
                if key != line["account_key"] or text is None:
                    raise JournalError(
                        f"settlement {doc['settlement_id']}: journal line {at[0]}.{at[1]} "
                        f"({line['account_key']}) has no journal_lines row holding its "
                        "source ranges"
                    )
                line["source_ranges"] = text
        return cls.model_validate(doc)

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
                    "source_ranges": ln.source_ranges,
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


# Ranges texts at least this long are hashed apart from the dumped journal (fingerprint).
_HASH_APART = 4096
_RANGES_CHARS = b"0123456789,-"
_WITHOUT_RANGES: Any = {"entries": {"__all__": {"lines": {"__all__": {"source_ranges"}}}}}


def _verbatim_in_json(text: str) -> bool:
    """Whether ``json.dumps`` writes ``text`` as it is (ranges characters only)."""
    return text.isascii() and not text.encode("ascii").translate(None, _RANGES_CHARS)


def _dumped(journal: Journal) -> str:
    return json.dumps(
        journal.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), default=str
    )


def ranges_stored_apart(journal_json: str) -> bool:
    """Whether a stored ``journal_json`` left the ranges to ``journal_lines``
    (:meth:`Journal.stored_json`). Inside JSON strings quotes are escaped, so the quoted
    key with its colon can only be a key."""
    return '"source_ranges":' not in journal_json and '"source_lines":' not in journal_json


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
    "source_ranges": pl.Utf8(),
}


# The `journals` table: one summary row per settlement (`journal_json` is
# :meth:`Journal.stored_json`, the ranges are in `journal_lines`).
JOURNALS_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "fingerprint": pl.Utf8(),
    "currency": pl.Utf8(),
    "deposit": MONEY_DTYPE,
    "entries": pl.Int64(),
    "debits": MONEY_DTYPE,
    "credits": MONEY_DTYPE,
    "mapping_source": pl.Utf8(),
    "journal_json": pl.Utf8(),
}


def stored_frames(journal: Journal, *, mapping_source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows the ``journal_entries`` asset lands: the ``journals`` summary row and the
    ``journal_lines`` rows (one per journal line, with its ``source_ranges``). Shared with
    the benchmark so it measures what the asset writes."""
    summary = pl.DataFrame(
        [
            {
                "settlement_id": journal.settlement_id,
                "fingerprint": journal.fingerprint(),
                "currency": journal.currency,
                "deposit": journal.deposit,
                "entries": len(journal.entries),
                "debits": journal.total_debits,
                "credits": journal.total_credits,
                "mapping_source": mapping_source,
                "journal_json": journal.stored_json(),
            }
        ],
        schema=JOURNALS_SCHEMA,
    )
    return summary, journal.to_frame()


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
_NUMBER = r"(?:0|[1-9][0-9]*)"
_RANGE = rf"{_NUMBER}(?:-{_NUMBER})?"
_RANGES_TEXT = rf"^(?:{_RANGE}(?:,{_RANGE})*)?$"
_INT64_MAX = (1 << 63) - 1


def _bad_part(text: str) -> str | None:
    """The first part of ``text`` that is not a range (error path only: Python per part)."""
    for part in text.split(",") if text else ():
        first, dash, last = part.partition("-")
        numbers = (first, last) if dash else (first,)
        if not all(n.isascii() and n.isdigit() and (n == "0" or n[0] != "0") for n in numbers):
            return part
        if int(numbers[0]) > int(numbers[-1]) or int(numbers[-1]) > _INT64_MAX:
            return part
    return None


def _range_bounds(texts: list[str]) -> pl.DataFrame:
    """``journal_line`` (index into ``texts``), ``first`` and ``last`` of every range the
    texts name, column-wise and without expanding ranges into numbers; ValueError naming
    the part when a text is not ranges.

    The texts are checked against the ranges grammar first (one regex pass), so splitting at
    ``,`` and before ``-`` leaves only numbers, each range's last one marked by its ``-``."""
    series = pl.Series("text", texts, dtype=pl.Utf8)
    well_formed = series.str.contains(_RANGES_TEXT)
    if not well_formed.all():
        text = series.filter(~well_formed)[0]
        raise ValueError(f"source ranges hold {_bad_part(text)!r}, not a number or range")
    part, value, closes = pl.col("part"), pl.col("value"), pl.col("closes")
    bounds = (
        pl.DataFrame({"part": series})
        .with_row_index("journal_line")
        .lazy()
        .with_columns(part.str.replace_all("-", ",-", literal=True).str.split(","))
        .explode("part")
        .filter(part != "")
        .select(
            "journal_line",
            part.cast(pl.Int64, strict=False).alias("value"),
            part.str.starts_with("-").alias("closes"),
        )
        .select(
            "journal_line",
            closes,
            value.alias("first"),
            pl.when(closes.shift(-1)).then(-value.shift(-1)).otherwise(value).alias("last"),
        )
        .filter(~closes)
        .drop("closes")
        .collect()
    )
    bad = bounds.filter(
        pl.col("first").is_null() | pl.col("last").is_null() | (pl.col("first") > pl.col("last"))
    )
    if bad.height:
        text = texts[int(bad["journal_line"][0])]
        raise ValueError(f"source ranges hold {_bad_part(text)!r}, not a number or range")
    return bounds


def _same_numbers(bounds: pl.DataFrame, line_nos: pl.Series) -> bool:
    """Whether the ranges, expanded, are exactly the multiset ``line_nos`` — proved without
    expanding them.

    Unique line numbers (V2 files): the ranges' lengths sum to the number of lines and
    every line lies inside a range (the range starting at or before it, latest first). Then
    no range can reach outside the lines or overlap another: the lengths would sum to more.

    Repeated numbers (V1 rows with several amounts, ``"7,7"``): how many ranges cover a
    number, minus how often the number occurs, changes only where a range or a run of
    consecutive line numbers starts or ends; the two are equal everywhere exactly when the
    changes cancel at every such point."""
    numbers = line_nos if line_nos.is_sorted() else line_nos.sort()
    size = pl.col("last") - pl.col("first") + 1
    if (bounds.select(size.sum()).item() or 0) != numbers.len():
        return False
    if numbers.len() == 0:
        return True
    no = pl.col("line_no")
    lines = pl.DataFrame({"line_no": numbers}, schema={"line_no": pl.Int64})
    if bool((numbers.diff().drop_nulls() > 0).all()):
        inside = lines.lazy().join_asof(
            bounds.lazy().select("first", "last").sort("first"),
            left_on="line_no",
            right_on="first",
            strategy="backward",
        )
        return bool(inside.select((no <= pl.col("last")).fill_null(False).all()).collect().item())
    runs = lines.lazy().select(
        no,
        (no.diff() != 1).fill_null(True).alias("opens"),
        (no.diff(-1) != -1).fill_null(True).alias("closes"),
    )
    changes = pl.concat(
        [
            bounds.lazy().select(pl.col("first").alias("at"), pl.lit(1).alias("by")),
            bounds.lazy().select((pl.col("last") + 1).alias("at"), pl.lit(-1).alias("by")),
            runs.filter("opens").select(no.alias("at"), pl.lit(-1).alias("by")),
            runs.filter("closes").select((no + 1).alias("at"), pl.lit(1).alias("by")),
        ]
    )
    uncancelled = changes.group_by("at").agg(pl.col("by").sum()).filter(pl.col("by") != 0)
    return uncancelled.collect().height == 0


def source_ranges(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Per group of ``keys``: its ``line_no`` values as ranges text (as :func:`_ranges`).
    ``frame`` must be sorted by ``line_no``."""
    return _source_ranges(frame, keys).collect()


def _source_ranges(frame: pl.DataFrame, keys: list[str]) -> pl.LazyFrame:
    """:func:`source_ranges` as a lazy query (the builder runs it with the group sums).

    Column-wise, no Python per line: a number is *inside* a range on the left when it
    follows its group's previous number by one, on the right when its group's next number
    follows it by one; numbers inside on both sides are not rendered. ``frame`` must be
    sorted by ``line_no``.

    Two shortcuts, each taken only when it gives the same text:

    * Line numbers strictly increasing (V2 files, every line number once): a group's
      previous number is ``n - 1`` only if the frame's previous row is line ``n - 1``, so
      plain shifts over the frame replace the per-group windows.
    * Line numbers positive (file lines always are): a range's last number is rendered as
      its negative, the group's numbers are joined by ``,`` and ``,-`` becomes ``-``: one
      integer cast per number instead of a cast plus a two-piece concatenation.
    """
    no = pl.col("line_no")
    numbers = frame["line_no"]
    increasing = numbers.len() < 2 or bool((numbers.diff().drop_nulls() > 0).all())
    positive = numbers.len() == 0 or (numbers.min() or 0) > 0  # type: ignore[operator]
    if increasing:
        same_prev = pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(1)) for k in keys])
        same_next = pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(-1)) for k in keys])
        after = (same_prev & (no.diff() == 1)).fill_null(False)
        before = (same_next & (no.diff(-1) == -1)).fill_null(False)
    else:
        after = (no.diff().over(keys) == 1).fill_null(False)
        before = (no.diff(-1).over(keys) == -1).fill_null(False)
    if positive:
        text = (
            pl.when(pl.col("_after"))
            .then(-no)
            .otherwise(no)
            .cast(pl.Utf8)
            .str.join(",")
            .str.replace_all(",-", "-", literal=True)
        )
    else:
        token = pl.concat_str(
            [
                no.cast(pl.Utf8),
                pl.when(~pl.col("_after") & pl.col("_before"))
                .then(pl.lit("-"))
                .otherwise(pl.lit(",")),
            ]
        )
        text = token.str.join("").str.strip_suffix(",")
    return (
        frame.lazy()
        .select(*dict.fromkeys([*keys, "line_no"]), after.alias("_after"), before.alias("_before"))
        .filter(~(pl.col("_after") & pl.col("_before")))
        .group_by(keys)
        .agg(text.alias("source_ranges"))
    )


def _part_date(month: date, end_day: date) -> date:
    """Last day of the month; the settlement's last month posts on its end day instead."""
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    return last if last < end_day else max(end_day, month)


def _cell(value: Decimal) -> str:
    return money_str(value) if value else ""


def _expand(ranges: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in ranges.split(",") if ranges else ():
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return tuple(out)


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
