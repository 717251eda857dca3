"""The JE and AR invoice file bodies Deltek's DataEntry endpoints take, shaped as its own
examples [DOC: PM-JECtl-create, PM-INCtl]."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import httpx

from mlc_assets.clients.deltek.models import (
    REF_MAX_LEN,
    DeltekInvoiceBatch,
    DeltekJournalBatch,
)
from mlc_assets.clients.deltek.wire import deltek_datetime

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)
_LEDGER_MAX_ROWS = 10_000  # PSALedger needs q.maxrows, not limit [3P: GoVP-query]


def je_body(b: DeltekJournalBatch, *, creator: str, company: str | None) -> dict[str, Any]:
    """Body shape of Deltek's own example [DOC: PM-JECtl-create]; values are ours."""
    groups: dict[date, list[int]] = {}
    for i, ln in enumerate(b.lines):
        groups.setdefault(ln.transaction_date or b.posting_date, []).append(i)
    ref = b.document_ref
    refs = {
        d: ref if len(groups) == 1 else f"{ref[: REF_MAX_LEN - 3]}-{n:02d}"
        for n, d in enumerate(sorted(groups), start=1)
    }
    masters = [
        {
            "Batch": b.batch,
            "RefNo": refs[d],
            "TransDate": deltek_datetime(d),
            "Description": b.description,
            "Type": "3",  # as in every Deltek example; meaning not found [INF]
            "UpdateBilled": "N",
            "Posted": "N",
            "Seq": n,
            "CurrencyCode": b.currency,
            "CurrencyExchangeOverrideMethod": "N",
            "CurrencyExchangeOverrideRate": 0,
            "Status": "N",  # In Progress [DOC]
        }
        for n, d in enumerate(sorted(groups), start=1)
    ]
    details = []
    for seq, ln in enumerate(b.lines, start=1):
        has_project = bool(ln.wbs1.strip())
        detail: dict[str, Any] = {
            "Batch": b.batch,
            "RefNo": refs[ln.transaction_date or b.posting_date],
            "PKey": f"{b.batch}L{seq}",  # client-chosen unique line key [DOC]
            "Seq": seq,
            "Description": ln.description,
            "WBS1": ln.wbs1,
            # " " for "none" under a project, as Deltek's example does [DOC; INF].
            "WBS2": ln.wbs2 or (" " if has_project else ""),
            "WBS3": ln.wbs3 or (" " if has_project else ""),
            "Account": ln.account,
            "DebitAmount": ln.debit,
            "CreditAmount": ln.credit,
            "SuppressBill": "N",
            "LinkCompany": "",
            "CurrencyExchangeOverrideRate": 0,
        }
        if ln.org:
            # No Deltek example sends Org on create (it comes from the project), but
            # lines without a project may need one; sent only when the caller set it [INF].
            detail["Org"] = ln.org
        details.append(detail)
    body: dict[str, Any] = {
        "Batch": b.batch,
        "Description": b.description,
        "Recurring": "N",
        "EndDate": deltek_datetime(b.posting_date),
        "DefaultCurrencyCode": b.currency,
        "Total": b.total_debits,
        "CreditsTotal": b.total_credits,
        "AllowTaxEntries": "N",
        "Selected": "N",
        "Posted": "N",
        "Creator": creator,
        "Period": b.period,
        "jeMaster": masters,
        "jeDetail": details,
    }
    company = b.company or company
    if company:
        body["Company"] = company
    return body


def in_body(inv: DeltekInvoiceBatch, *, creator: str, company: str | None) -> dict[str, Any]:
    """AR invoice file [DOC field names: PM-INCtl; InvoiceSection meaning INF]."""
    body: dict[str, Any] = {
        "Batch": inv.batch,
        "Description": inv.description,
        "Recurring": "N",
        "EndDate": deltek_datetime(inv.posting_date),
        "Total": inv.total,
        "RetTotal": 0,
        "Selected": "N",
        "Posted": "N",
        "Creator": creator,
        "Period": inv.period,
        "inMaster": [
            {
                "Batch": inv.batch,
                "Invoice": inv.invoice,
                "WBS1": inv.wbs1,
                "WBS2": inv.wbs2 or " ",
                "WBS3": inv.wbs3 or " ",
                "TransDate": deltek_datetime(inv.posting_date),
                "DueDate": deltek_datetime(inv.due_date) if inv.due_date else "",
                "TransComment": inv.description,
                "Seq": 1,
                "CurrencyExchangeOverrideMethod": "N",
                "Status": "N",
            }
        ],
        "inDetail": [
            {
                "Batch": inv.batch,
                "Invoice": inv.invoice,
                "WBS1": ln.wbs1 if ln.wbs1 is not None else inv.wbs1,
                "WBS2": (ln.wbs2 if ln.wbs2 is not None else inv.wbs2) or " ",
                "WBS3": (ln.wbs3 if ln.wbs3 is not None else inv.wbs3) or " ",
                "PKey": f"{inv.batch}L{seq}",
                "Seq": seq,
                "Description": ln.description,
                "InvoiceSection": ln.invoice_section,
                "TaxCode": ln.tax_code,
                "Account": ln.account,
                "Amount": ln.amount,
                "RetAmount": 0,
                "TaxBasis": 0,
                "Retainer": "N",
            }
            for seq, ln in enumerate(inv.lines, start=1)
        ],
    }
    company = inv.company or company
    if company:
        body["Company"] = company
    return body
