"""The journal as the ERPs receive it: entries of balanced lines, each knowing its source lines."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from mlc_assets.domain.categories import Category
from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.journal.ranges import _cell, _expand, _ranges
from mlc_assets.domain.journal.stored import (
    _HASH_APART,
    _WITHOUT_RANGES,
    JOURNAL_FRAME_SCHEMA,
    _dumped,
    _verbatim_in_json,
    ranges_stored_apart,
)
from mlc_assets.domain.mapping import (
    CLEARING,
    PAYABLE,
    DeltekAccountRef,
    WorkdayAccountRef,
)
from mlc_assets.domain.money import ZERO, money_str


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
