"""The request documents Workday's Submit operations take, built from our models (zeep turns them
into the envelope the WSDL describes)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from mlc_assets.clients.workday.models import (
    WorkdayClientConfig,
    WorkdayJournal,
    WorkdaySupplierInvoice,
)

log = logging.getLogger(__name__)


def id_ref(id_type: str, value: str, **attrs: str) -> dict[str, Any]:
    return {"ID": [{"_value_1": value, "type": id_type, **attrs}]}


def decimal_text(value: Decimal) -> str:
    # Fixed-point text: str(Decimal("1E+2")) would not be a valid xsd:decimal.
    return format(value, "f")


def journal_request(journal: WorkdayJournal, cfg: WorkdayClientConfig) -> dict[str, Any]:
    """The keyword arguments of ``Submit_Accounting_Journal`` for ``journal``."""
    account_set = journal.account_set or cfg.account_set
    lines = []
    for number, line in enumerate(journal.lines, start=1):
        item: dict[str, Any] = {
            "Line_Order": str(number),
            "Ledger_Account_Reference": id_ref(
                "Ledger_Account_ID",
                line.account,
                parent_id=account_set,
                parent_type="Account_Set_ID",
            ),
        }
        if line.credit:
            item["Credit_Amount"] = decimal_text(line.credit)
        else:
            item["Debit_Amount"] = decimal_text(line.debit)
        if line.memo:
            item["Memo"] = line.memo
        if line.external_reference_id:
            item["External_Reference_ID"] = line.external_reference_id
        if line.worktags:
            item["Worktags_Reference"] = [id_ref(w.type, w.id) for w in line.worktags]
        lines.append(item)
    data: dict[str, Any] = {
        "Accounting_Journal_ID": journal.reference,
        "Submit": cfg.submit,
        "Locked_in_Workday": cfg.locked_in_workday,
        "Company_Reference": id_ref("Company_Reference_ID", journal.company),
        "Currency_Reference": id_ref("Currency_ID", journal.currency),
        "Ledger_Type_Reference": id_ref("Ledger_Type_ID", journal.ledger_type),
        "Accounting_Date": journal.accounting_date,
        "Journal_Source_Reference": id_ref(
            "Journal_Source_ID", journal.journal_source or cfg.journal_source
        ),
        "External_Reference_ID": journal.external_reference_id or journal.reference,
        "Journal_Entry_Line_Replacement_Data": lines,
    }
    if journal.memo:
        data["Journal_Entry_Memo"] = journal.memo
    return {
        "Add_Only": True,
        "Business_Process_Parameters": {"Auto_Complete": cfg.auto_complete},
        "Accounting_Journal_Data": data,
    }


def supplier_invoice_request(
    invoice: WorkdaySupplierInvoice, cfg: WorkdayClientConfig
) -> dict[str, Any]:
    lines = []
    for number, line in enumerate(invoice.lines, start=1):
        item: dict[str, Any] = {
            "Line_Order": str(number),
            "Spend_Category_Reference": id_ref("Spend_Category_ID", line.spend_category),
            "Quantity": "1",
            "Unit_Cost": decimal_text(line.amount),
            "Extended_Amount": decimal_text(line.amount),
        }
        if line.description:
            item["Item_Description"] = line.description
        if line.memo:
            item["Memo"] = line.memo
        if line.worktags:
            item["Worktags_Reference"] = [id_ref(w.type, w.id) for w in line.worktags]
        lines.append(item)
    control = (
        invoice.control_amount_total if invoice.control_amount_total is not None else invoice.total
    )
    data: dict[str, Any] = {
        "Supplier_Invoice_ID": invoice.reference,
        "Submit": cfg.submit,
        "Locked_in_Workday": cfg.locked_in_workday,
        "Company_Reference": id_ref("Company_Reference_ID", invoice.company),
        "Currency_Reference": id_ref("Currency_ID", invoice.currency),
        "Supplier_Reference": id_ref("Supplier_ID", invoice.supplier_id or cfg.supplier_id),
        "Invoice_Date": invoice.invoice_date,
        "Control_Amount_Total": decimal_text(control),
        "Suppliers_Invoice_Number": invoice.suppliers_invoice_number,
        "Invoice_Line_Replacement_Data": lines,
    }
    if invoice.memo:
        data["Memo"] = invoice.memo
    return {
        "Add_Only": True,
        "Business_Process_Parameters": {"Auto_Complete": cfg.auto_complete},
        "Supplier_Invoice_Data": data,
    }
