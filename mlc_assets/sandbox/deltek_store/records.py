"""The Deltek sandbox's reference records (accounts, orgs, projects, periods), money, dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

DEFAULT_ACCOUNTS: tuple[tuple[str, str, int], ...] = (
    # (Account, Name, Type). Type codes are [INF]: 1 asset, 2 liability, 4 revenue, 6 expense.
    ("1210.00", "Amazon Clearing", 1),
    ("1220.00", "Amazon Reserve Held", 1),
    ("1250.00", "Accounts Receivable - Amazon", 1),
    ("2100.00", "Sales Tax Payable", 2),
    ("2200.00", "Marketplace Facilitator Tax", 2),
    ("2205.00", "VAT Collected - EU", 2),
    ("2206.00", "VAT Collected - UK", 2),
    ("2210.00", "Customer Refunds Payable", 2),
    ("4000.00", "Product Sales", 4),
    ("4010.00", "Shipping Income", 4),
    ("4050.00", "Promotions and Discounts", 4),
    ("4060.00", "Refunds and Returns", 4),
    ("4090.00", "Other Marketplace Income", 4),
    ("6100.00", "Amazon Referral Fees", 6),
    ("6110.00", "FBA Fulfillment Fees", 6),
    ("6120.00", "Amazon Advertising", 6),
    ("6130.00", "Amazon Service Fees", 6),
    ("6140.00", "Reimbursements", 6),
    ("6190.00", "Other Marketplace Fees", 6),
)

DEFAULT_ORGS: tuple[tuple[str, str], ...] = (
    ("A0.00.00", "Headquarters"),
    ("A0.10.00", "E-commerce"),
    # The orgs and project the shipped default mapping posts to.
    ("1:01:01", "Amazon channel - US"),
    ("1:01:02", "Amazon channel - EU/UK"),
)


def default_projects() -> list[dict[str, Any]]:
    """One Amazon channel project with phases and tasks, the shape GET /project returns."""
    org = "A0.10.00"
    rows: list[dict[str, Any]] = [
        _project("AMZ-2026", " ", " ", "Amazon Marketplace 2026", "Y", org),
        _project("AMZ-2026", "US", " ", "Amazon.com (US)", "Y", org),
        _project("AMZ-2026", "US", "SALES", "Sales", "N", org),
        _project("AMZ-2026", "US", "FEES", "Fees", "N", org),
        _project("AMZ-2026", "CA", " ", "Amazon.ca (CA)", "Y", org),
        _project("AMZ-2026", "CA", "SALES", "Sales", "N", org),
        _project("AMZ-2026", "CA", "FEES", "Fees", "N", org),
        _project("0000AMZ.00", " ", " ", "Amazon channel (default mapping)", "Y", "1:01:01"),
        _project("0000AMZ.00", "SALES", " ", "Sales and returns", "N", "1:01:01"),
        _project("0000AMZ.00", "ADS", " ", "Advertising", "N", "1:01:01"),
        _project("0000AMZ.00", "FBA", " ", "Fulfilment by Amazon", "N", "1:01:01"),
        _project("0000AMZ.00", "FEES", " ", "Amazon fees", "N", "1:01:01"),
        _project("ADMIN", " ", " ", "Overhead and Administration", "N", "A0.00.00", charge="H"),
        _project("AMZ-2025", " ", " ", "Amazon Marketplace 2025 (closed)", "N", org, status="I"),
    ]
    return rows


def _project(
    wbs1: str,
    wbs2: str,
    wbs3: str,
    name: str,
    sub_level: str,
    org: str,
    *,
    status: str = "A",
    charge: str = "R",
) -> dict[str, Any]:
    # Field names per [DOC: PM-Project]; Status A/D/I, ChargeType R/H/P, SubLevel Y/N.
    return {
        "WBS1": wbs1,
        "WBS2": wbs2,
        "WBS3": wbs3,
        "Name": name,
        "Status": status,
        "ChargeType": charge,
        "SubLevel": sub_level,
        "Org": org,
        "ClientID": "AMAZON",
    }


def monthly_periods(
    first: int, count: int, *, closed: set[int] | None = None
) -> list[dict[str, Any]]:
    """Calendar-month periods YYYYPP starting at ``first`` (e.g. 202601)."""
    closed = closed or set()
    year, month = divmod(first, 100)
    out = []
    for _ in range(count):
        period = year * 100 + month
        start = date(year, month, 1)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        end = date.fromordinal(nxt.toordinal() - 1)
        out.append(
            {
                "period": period,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "closed": period in closed,
            }
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def deltek_date(d: str | date) -> str:
    """Vantagepoint writes dates as ``YYYY-MM-DDTHH:MM:SS.mmm`` with no zone [DOC]."""
    iso = d.isoformat() if isinstance(d, date) else d
    return f"{iso[:10]}T00:00:00.000"


class SandboxRejection(Exception):
    """A business-rule refusal; the app turns it into a 400 with a JSON body."""

    def __init__(self, message: str, *, detail: str = "", status: int = 400) -> None:
        self.message = message
        self.detail = detail
        self.status = status
        super().__init__(message)


def _money(value: Any, where: str) -> Decimal:
    """Amounts arrive as JSON numbers or quoted strings; both are accepted [DOC vs DOC; INF]."""
    if value is None or value == "":
        return Decimal("0")
    try:
        dec = Decimal(str(value))
    except InvalidOperation as exc:
        raise SandboxRejection(f"{where}: '{value}' is not a valid amount.") from exc
    if not dec.is_finite():
        raise SandboxRejection(f"{where}: '{value}' is not a valid amount.")
    return dec


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


MONEY_KEYS = frozenset(
    {
        "Amount",
        "TransactionAmount",
        "DebitAmount",
        "CreditAmount",
        "Total",
        "CreditsTotal",
        "SumDebitsTotal",
        "SumCreditsTotal",
        "DiffDebitsTotal",
        "DiffCreditsTotal",
        "SumTotal",
        "DiffTotal",
        "RetTotal",
    }
)


def _revive(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (Decimal(str(v)) if k in MONEY_KEYS and v not in (None, "") else _revive(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value


# Which tiers each transaction type has. [DOC: PM-JECtl-create, PM-INCtl]
TIERS = {"JE": ("jeMaster", "jeDetail", "RefNo"), "IN": ("inMaster", "inDetail", "Invoice")}
MAX_BATCH = 32  # [INF] one integration cuts Batch to 32; Deltek's post example uses 32 hex.
MAX_REFNO = 12  # [INF] RefNo/Invoice values in Deltek examples are at most 12 chars.
