"""Read Workday responses from the XML itself, tolerating elements we do not know.

Why not zeep's parsed objects: the bundled WSDL declares only what the connector uses, and a
real v46.1 tenant returns many more elements. zeep in strict mode rejects such a response and
in lenient mode silently drops everything after the first unknown element of a sequence (seen
with zeep 4.3), which would hide journal lines from verification. So zeep serialises requests
and raises SOAP faults, and the response body is read here by element name; unknown elements
are simply ignored, whatever their position.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from mlc_assets.clients.workday.models import (
    JournalRecord,
    JournalRecordLine,
    LedgerAccount,
    ReferenceItem,
    SupplierInvoiceRecord,
    SupplierInvoiceRecordLine,
    Worktag,
)

WD = "urn:com.workday/bsvc"
Element = etree._Element


def q(name: str) -> str:
    return f"{{{WD}}}{name}"


def one(el: Element | None, name: str) -> Element | None:
    return None if el is None else el.find(q(name))


def many(el: Element | None, name: str) -> list[Element]:
    return [] if el is None else el.findall(q(name))


def text(el: Element | None, name: str) -> str | None:
    found = one(el, name)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def flag(el: Element | None, name: str) -> bool | None:
    value = text(el, name)
    return None if value is None else value in ("true", "1")


def decimal(el: Element | None, name: str) -> Decimal | None:
    value = text(el, name)
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"Workday sent a non-decimal {name}: {value[:40]!r}") from None


def day(el: Element | None, name: str) -> date | None:
    value = text(el, name)
    # xsd:date may carry a zone suffix ("2024-05-31-07:00"); the calendar day is what counts.
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"Workday sent a non-date {name}: {value[:40]!r}") from None


def ref_ids(ref: Element | None) -> list[tuple[str, str, str | None]]:
    """(type, value, parent_id) of each wd:ID of a reference element."""
    return [
        (i.get(q("type"), ""), (i.text or "").strip(), i.get(q("parent_id")))
        for i in many(ref, "ID")
    ]


def ref_id(ref: Element | None, id_type: str) -> str | None:
    for kind, value, _ in ref_ids(ref):
        if kind == id_type:
            return value
    return None


def descriptor(ref: Element | None) -> str | None:
    return None if ref is None else ref.get(q("Descriptor"))


# Far beyond any real result set; a larger (or fractional, NaN) count would make the pager
# request pages for ever.
MAX_PAGES = 100_000


def total_pages(body: Element) -> int:
    results = one(body, "Response_Results")
    value = decimal(results, "Total_Pages")
    if value is None:
        return 0
    if not value.is_finite() or value != value.to_integral_value() or not 0 <= value <= MAX_PAGES:
        raise ValueError(f"Workday sent an impossible Total_Pages: {value}")
    return int(value)


def data_items(body: Element, item: str) -> list[Element]:
    return [node for block in many(body, "Response_Data") for node in many(block, item)]


def warnings(body: Element) -> tuple[str, ...]:
    out = []
    for exc in body.iter(q("Exception_Data")):
        words = [text(exc, "Classification"), text(exc, "Message")]
        line = " ".join(w for w in words if w)
        if line:
            out.append(line)
    return tuple(out)


def worktags(line: Element) -> tuple[Worktag, ...]:
    return tuple(
        Worktag(type=kind, id=value)
        for ref in many(line, "Worktags_Reference")
        for kind, value, _ in ref_ids(ref)
        if kind != "WID"
    )


def journal_record(entry: Element, reference: str) -> JournalRecord:
    data = one(entry, "Journal_Entry_Data")
    ref = one(entry, "Journal_Entry_Reference")
    if ref is None:
        ref = one(data, "Journal_Entry_Reference")
    lines = []
    for line in many(data, "Journal_Entry_Line_Data"):
        account, account_set = None, None
        for kind, value, parent in ref_ids(one(line, "Ledger_Account_Reference")):
            if kind == "Ledger_Account_ID":
                account, account_set = value, parent
        lines.append(
            JournalRecordLine(
                line_order=text(line, "Line_Order"),
                account=account,
                account_set=account_set,
                debit=decimal(line, "Debit_Amount") or Decimal("0"),
                credit=decimal(line, "Credit_Amount") or Decimal("0"),
                memo=text(line, "Memo"),
                worktags=worktags(line),
            )
        )
    status = one(data, "Journal_Status_Reference")
    return JournalRecord(
        wid=ref_id(ref, "WID"),
        reference_id=ref_id(ref, "Accounting_Journal_ID") or reference,
        journal_number=text(data, "Journal_Number"),
        status=ref_id(status, "Journal_Entry_Status_ID") or descriptor(status),
        company=ref_id(one(data, "Company_Reference"), "Company_Reference_ID"),
        currency=ref_id(one(data, "Currency_Reference"), "Currency_ID"),
        accounting_date=day(data, "Accounting_Date"),
        journal_source=ref_id(one(data, "Journal_Source_Reference"), "Journal_Source_ID"),
        memo=text(data, "Memo"),
        external_reference_id=text(data, "External_Reference_ID"),
        total_debits=decimal(data, "Total_Ledger_Debits"),
        total_credits=decimal(data, "Total_Ledger_Credits"),
        lines=tuple(lines),
    )


def invoice_record(item: Element, reference: str) -> SupplierInvoiceRecord:
    data = one(item, "Supplier_Invoice_Data")
    ref = one(item, "Supplier_Invoice_Reference")
    lines = [
        SupplierInvoiceRecordLine(
            line_order=text(line, "Line_Order"),
            spend_category=ref_id(one(line, "Spend_Category_Reference"), "Spend_Category_ID"),
            amount=decimal(line, "Extended_Amount") or Decimal("0"),
            description=text(line, "Item_Description"),
            memo=text(line, "Memo"),
        )
        for line in many(data, "Invoice_Line_Replacement_Data")
    ]
    return SupplierInvoiceRecord(
        wid=ref_id(ref, "WID"),
        reference_id=ref_id(ref, "Supplier_Invoice_Reference_ID")
        or text(data, "Supplier_Invoice_ID")
        or reference,
        invoice_number=text(data, "Invoice_Number"),
        supplier_id=ref_id(one(data, "Supplier_Reference"), "Supplier_ID"),
        company=ref_id(one(data, "Company_Reference"), "Company_Reference_ID"),
        currency=ref_id(one(data, "Currency_Reference"), "Currency_ID"),
        invoice_date=day(data, "Invoice_Date"),
        control_amount_total=decimal(data, "Control_Amount_Total"),
        suppliers_invoice_number=text(data, "Suppliers_Invoice_Number"),
        memo=text(data, "Memo"),
        lines=tuple(lines),
    )


def ledger_accounts(account_set_item: Element, account_set: str) -> list[LedgerAccount]:
    out = []
    for data in many(account_set_item, "Account_Set_Data"):
        for acct in many(data, "Ledger_Account_Data"):
            identifier = text(acct, "Ledger_Account_Identifier")
            if not identifier:
                continue
            out.append(
                LedgerAccount(
                    id=identifier,
                    name=text(acct, "Ledger_Account_Name"),
                    active=not flag(acct, "Retired"),
                    account_set=text(data, "Account_Set_ID") or account_set,
                    account_type=ref_id(
                        one(acct, "Ledger_Account_Type_Reference"), "Ledger_Account_Type_ID"
                    ),
                )
            )
    return out


def company(item: Element) -> ReferenceItem | None:
    ref = one(item, "Company_Reference")
    org = one(one(item, "Company_Data"), "Organization_Data")
    company_id = ref_id(ref, "Company_Reference_ID") or text(org, "ID")
    if not company_id:
        return None
    active = flag(org, "Organization_Active")
    return ReferenceItem(
        id=company_id,
        name=text(org, "Organization_Name"),
        active=True if active is None else active,
        wid=ref_id(ref, "WID"),
    )


def spend_category(item: Element) -> ReferenceItem | None:
    ref = one(item, "Resource_Category_Reference")
    data = one(item, "Resource_Category_Data")
    category_id = text(data, "Resource_Category_ID") or ref_id(ref, "Spend_Category_ID")
    if not category_id:
        return None
    return ReferenceItem(
        id=category_id,
        name=text(data, "Resource_Category_Name"),
        active=not flag(data, "Inactive"),
        wid=ref_id(ref, "WID"),
    )


def supplier(item: Element, supplier_id: str) -> ReferenceItem:
    data = one(item, "Supplier_Data")
    status = ref_id(one(data, "Supplier_Status_Reference"), "Business_Entity_Status_Value_ID")
    return ReferenceItem(
        id=text(data, "Supplier_ID") or supplier_id,
        name=text(data, "Supplier_Name"),
        active=(status or "ACTIVE").upper() != "INACTIVE",
        wid=ref_id(one(item, "Supplier_Reference"), "WID"),
    )
