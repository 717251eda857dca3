"""Pydantic models at the Deltek boundary: what we send, what we read back.

Money is Decimal with two places (floats are refused). Length limits follow the research
notes, which mark them as provisional [INF]: Batch ≤ 32, RefNo/Invoice ≤ 12.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlc_assets.domain.money import ZERO, to_money

# [INF] docs/reference/deltek/NOTES.md §4.1: one integration cuts Batch to 32 chars;
# RefNo/Invoice in Deltek examples are ≤ 12 chars.
BATCH_MAX_LEN = 32
REF_MAX_LEN = 12
_BATCH_RE = re.compile(r"^[A-Za-z0-9_-]+$")

TransType = Literal["JE", "IN"]


def batch_name(settlement_id: str, *, part: int | None = None, prefix: str = "AMZ") -> str:
    """Deterministic Batch name for a settlement document, e.g. ``AMZ12345678901`` or
    ``AMZ12345678901-2`` for its second document. The same input always gives the same
    name, which is what lets a rerun find what an earlier (crashed) run wrote."""
    clean = re.sub(r"[^A-Za-z0-9]", "", settlement_id)
    if not clean:
        raise ValueError(f"settlement id {settlement_id!r} has no letters or digits")
    name = f"{prefix}{clean}" + (f"-{part}" if part is not None else "")
    if len(name) > BATCH_MAX_LEN or not _BATCH_RE.match(name):
        raise ValueError(f"batch name {name!r} exceeds {BATCH_MAX_LEN} chars or has bad chars")
    return name


def _check_batch(value: str) -> str:
    if not value or len(value) > BATCH_MAX_LEN or not _BATCH_RE.match(value):
        raise ValueError(f"batch {value!r} must be 1-{BATCH_MAX_LEN} letters, digits, '-' or '_'")
    return value


def _check_ref(value: str, field: str) -> str:
    if not value or len(value) > REF_MAX_LEN:
        raise ValueError(f"{field} {value!r} must be 1-{REF_MAX_LEN} characters")
    return value


def _check_period(value: int | None) -> int | None:
    if value is not None and not (190001 <= value <= 999999 and 1 <= value % 100 <= 99):
        raise ValueError(f"period {value} is not YYYYPP")
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- what we write ----------------------------------------------------------------------
class DeltekJournalLine(_Frozen):
    account: str = Field(min_length=1)
    wbs1: str = ""
    wbs2: str = ""
    wbs3: str = ""
    # Org is not sent on create in any Deltek example; it comes from the project [INF].
    # Kept so the read-back can be checked against it when the caller knows it.
    org: str = ""
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    description: str = ""
    transaction_date: date | None = None

    @field_validator("debit", "credit", mode="before")
    @classmethod
    def _money(cls, v: object) -> Decimal:
        return to_money(v)

    @model_validator(mode="after")
    def _one_side(self) -> DeltekJournalLine:
        # [DOC: H-JE] debit and credit are separate non-negative columns, one per line.
        if self.debit < 0 or self.credit < 0:
            raise ValueError(f"account {self.account}: debit/credit must not be negative")
        if (self.debit > 0) == (self.credit > 0):
            raise ValueError(
                f"account {self.account}: exactly one of debit ({self.debit}) or credit "
                f"({self.credit}) must be positive"
            )
        return self


class _Batch(_Frozen):
    """What a journal batch and an AR invoice batch share, checked alike."""

    batch: str
    period: int | None = None  # YYYYPP; None: resolve from posting_date
    posting_date: date
    description: str
    company: str | None = None
    currency: str = "USD"

    @field_validator("batch")
    @classmethod
    def _batch(cls, v: str) -> str:
        return _check_batch(v)

    @field_validator("period")
    @classmethod
    def _period(cls, v: int | None) -> int | None:
        return _check_period(v)


class DeltekJournalBatch(_Batch):
    ref_no: str | None = None  # default: the batch name without its letter prefix, ≤ 12
    lines: list[DeltekJournalLine] = Field(min_length=1)

    @field_validator("ref_no")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        return None if v is None else _check_ref(v, "ref_no")

    @property
    def document_ref(self) -> str:
        return self.ref_no or (re.sub(r"^[A-Za-z]+", "", self.batch) or self.batch)[-REF_MAX_LEN:]

    @property
    def total_debits(self) -> Decimal:
        return sum((ln.debit for ln in self.lines), ZERO)

    @property
    def total_credits(self) -> Decimal:
        return sum((ln.credit for ln in self.lines), ZERO)

    @property
    def is_balanced(self) -> bool:
        return self.total_debits == self.total_credits


class DeltekInvoiceLine(_Frozen):
    account: str = Field(min_length=1)
    amount: Decimal  # signed: fees and refunds reduce the invoice
    description: str = ""
    wbs1: str | None = None  # None: the invoice's project
    wbs2: str | None = None
    wbs3: str | None = None
    invoice_section: str = "A"  # codes A/C/T seen in examples; meaning not found [INF]
    tax_code: str = ""

    @field_validator("amount", mode="before")
    @classmethod
    def _money(cls, v: object) -> Decimal:
        return to_money(v)

    @model_validator(mode="after")
    def _nonzero(self) -> DeltekInvoiceLine:
        if self.amount == 0:
            raise ValueError(f"account {self.account}: invoice line amount must not be zero")
        return self


class DeltekInvoiceBatch(_Batch):
    """AR invoice file (``inControl``), the alternative to JEs when the Amazon receivable
    must go through AR [DOC: PM-INCtl; docs/reference/deltek/NOTES.md §4.4, §8 of the
    examples]."""

    invoice: str
    due_date: date | None = None
    wbs1: str
    wbs2: str = ""
    wbs3: str = ""
    lines: list[DeltekInvoiceLine] = Field(min_length=1)

    @field_validator("invoice")
    @classmethod
    def _invoice(cls, v: str) -> str:
        return _check_ref(v, "invoice")

    @property
    def total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), ZERO)


# ---- what we read -----------------------------------------------------------------------
class AccountingPeriod(_Frozen):
    period: int
    label: str = ""
    start: date
    end: date
    closed: bool

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


class DeltekProject(_Frozen):
    wbs1: str
    wbs2: str = ""
    wbs3: str = ""
    name: str = ""
    status: str = ""  # A active, I inactive, D dormant [DOC: PM-Project]
    charge_type: str = ""
    sub_level: bool = False
    org: str = ""

    @property
    def active(self) -> bool:
        return self.status == "A"


class DeltekAccount(_Frozen):
    account: str
    name: str = ""
    type: str = ""
    status: str = ""

    @property
    def active(self) -> bool:
        return self.status in ("A", "")


class DeltekOrganization(_Frozen):
    org: str
    name: str = ""
    status: str = ""


class BatchLineRecord(_Frozen):
    account: str
    wbs1: str = ""
    wbs2: str = ""
    wbs3: str = ""
    org: str = ""
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    amount: Decimal = ZERO  # JE: debit - credit; IN: the invoice line amount
    description: str = ""
    pkey: str = ""
    ref_no: str = ""
    invoice: str = ""


class BatchRecord(_Frozen):
    """A transaction file as Deltek holds it: unposted (DataEntry) or posted (PSALedger)."""

    batch: str
    trans_type: TransType
    posted: bool
    period: int | None = None
    posting_sequence: int | None = None
    # Posting sequences the ledger shows the batch under: more than one is a double posting.
    sequences: int = 1
    description: str = ""
    lines: list[BatchLineRecord] = Field(default_factory=list)

    @property
    def total_debits(self) -> Decimal:
        return sum((ln.debit for ln in self.lines), ZERO)

    @property
    def total_credits(self) -> Decimal:
        return sum((ln.credit for ln in self.lines), ZERO)

    @property
    def total_amount(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), ZERO)

    def differences(self, expected: DeltekJournalBatch | DeltekInvoiceBatch) -> list[str]:
        """What differs between this record and the document we meant to write: the
        read-back verification of exactly-once posting. Empty list = same money, same
        accounts, same projects (line order and descriptions are not compared)."""
        problems: list[str] = []
        if self.batch != expected.batch:
            problems.append(f"batch {self.batch!r} != {expected.batch!r}")
        if expected.period is not None and self.period is not None:
            if self.period != expected.period:
                problems.append(f"period {self.period} != {expected.period}")
        want: Counter[tuple[str, ...]] = Counter()
        have: Counter[tuple[str, ...]] = Counter()
        if isinstance(expected, DeltekJournalBatch):
            for ln in expected.lines:
                want[_key(ln.account, ln.wbs1, ln.wbs2, ln.wbs3, ln.debit - ln.credit)] += 1
        else:
            for il in expected.lines:
                want[
                    _key(
                        il.account,
                        il.wbs1 if il.wbs1 is not None else expected.wbs1,
                        il.wbs2 if il.wbs2 is not None else expected.wbs2,
                        il.wbs3 if il.wbs3 is not None else expected.wbs3,
                        il.amount,
                    )
                ] += 1
        for rl in self.lines:
            have[_key(rl.account, rl.wbs1, rl.wbs2, rl.wbs3, rl.amount)] += 1
        for k, n in (want - have).items():
            problems.append(f"missing in Deltek ({n}x): {_fmt(k)}")
        for k, n in (have - want).items():
            problems.append(f"unexpected in Deltek ({n}x): {_fmt(k)}")
        return problems


def _key(account: str, wbs1: str, wbs2: str, wbs3: str, amount: Decimal) -> tuple[str, ...]:
    return (account.strip(), wbs1.strip(), wbs2.strip(), wbs3.strip(), str(to_money(amount)))


def _fmt(k: tuple[str, ...]) -> str:
    wbs = "/".join(p for p in k[1:4] if p) or "-"
    return f"account {k[0]} project {wbs} amount {k[4]}"


class PostResult(_Frozen):
    batch: str
    trans_type: TransType
    period: int
    posting_sequence: int
    records_posted: int | None = None
    records_total: int | None = None
    message: str = ""
    # True when the post call's response was lost and the result was read from the ledger.
