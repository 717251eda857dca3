"""Submit_Supplier_Invoice and Get_Supplier_Invoices on the sandbox tenant (Resource_Management)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from mlc_assets.sandbox.workday_soap import (
    _SUPPLIER_ID_TYPES,
    ADD_ONLY_MESSAGE,
    B,
    Issue,
    child,
    children,
    flag,
    ids,
    invalid_id,
    money,
    response_root,
    text,
    validation_fault,
    w,
)
from mlc_assets.sandbox.workday_store import new_wid


class InvoiceOperations:
    """The supplier-invoice operations of WorkdayTenant."""

    # ---- supplier invoices --------------------------------------------------------------------
    def op_Submit_Supplier_Invoice(self, req: etree._Element) -> etree._Element:
        base = "/wd:Submit_Supplier_Invoice_Request[1]/wd:Supplier_Invoice_Data[1]"
        version = req.get(w("version"), "v46.1")
        add_only = req.get(w("Add_Only")) in ("true", "1")
        data = child(req, "Supplier_Invoice_Data")
        assert data is not None
        invoice_id = text(data, "Supplier_Invoice_ID") or ""
        submit = flag(data, "Submit")
        issues: list[Issue] = []
        company, more = self._company_issues(data, base)
        issues += more
        supplier = ""
        for id_type, value, _ in ids(child(data, "Supplier_Reference")):
            supplier = value
            if id_type not in _SUPPLIER_ID_TYPES or value not in self.suppliers:
                issues.append(invalid_id(value, id_type, f"{base}/wd:Supplier_Reference[1]"))
            elif not self.suppliers[value][1]:
                issues.append(
                    Issue(f"Supplier {value} is not active.", f"{base}/wd:Supplier_Reference[1]")
                )
        invoice_date = date.fromisoformat(text(data, "Invoice_Date") or "")
        period_issue = self._period_issue(invoice_date, company, f"{base}/wd:Invoice_Date[1]")
        if period_issue:
            issues.append(period_issue)
        total = Decimal("0")
        stored_lines = []
        for n, line in enumerate(children(data, "Invoice_Line_Replacement_Data"), start=1):
            lpath = f"{base}/wd:Invoice_Line_Replacement_Data[{n}]"
            category = None
            for id_type, value, _ in ids(child(line, "Spend_Category_Reference")):
                if id_type != "Spend_Category_ID" or value not in self.spend_categories:
                    issues.append(
                        invalid_id(value, id_type, f"{lpath}/wd:Spend_Category_Reference[1]")
                    )
                elif not self.spend_categories[value]:
                    issues.append(
                        Issue(
                            f"Spend Category {value} is inactive.",
                            f"{lpath}/wd:Spend_Category_Reference[1]",
                        )
                    )
                else:
                    category = value
            if category is None and not ids(child(line, "Spend_Category_Reference")):
                issues.append(
                    Issue("Spend Category is required on invoice lines without an item.", lpath)
                )
            amount = money(text(line, "Extended_Amount"))
            total += amount
            issues += self._worktag_issues(line, lpath)
            stored_lines.append(
                {
                    "line_order": text(line, "Line_Order") or str(n),
                    "spend_category": category,
                    "amount": str(amount),
                    "description": text(line, "Item_Description"),
                    "memo": text(line, "Memo"),
                }
            )
        control = money(text(data, "Control_Amount_Total"))
        tax = money(text(data, "Tax_Amount"))
        if submit and control and control != total + tax:
            issues.append(
                Issue(
                    f"Control Amount Total {control} must equal the total of the invoice lines "
                    f"plus tax ({total + tax}).",
                    f"{base}/wd:Control_Amount_Total[1]",
                )
            )
        suppliers_number = text(data, "Suppliers_Invoice_Number")
        with self.store.session(write=True) as store:
            if invoice_id and invoice_id in store.invoices:
                message = (
                    ADD_ONLY_MESSAGE if add_only else "Submitted invoices cannot be resubmitted."
                )
                issues.insert(0, Issue(message, f"{base}/wd:Supplier_Invoice_ID[1]"))
            elif suppliers_number and any(
                i["supplier_id"] == supplier and i["suppliers_invoice_number"] == suppliers_number
                for i in store.invoices.values()
            ):
                issues.insert(
                    0,
                    Issue(
                        "The supplier's invoice number entered is already in use.",
                        f"{base}/wd:Suppliers_Invoice_Number[1]",
                    ),
                )
            if issues:
                raise validation_fault(issues)
            wid = new_wid()
            invoice_id = invoice_id or wid
            number = store.next_number("SI")
            store.invoices[invoice_id] = {
                "wid": wid,
                "supplier_invoice_id": invoice_id,
                "invoice_number": number,
                "status": "Approved" if submit else "Draft",
                "company": company,
                "currency": ids(child(data, "Currency_Reference"))[0][1],
                "supplier_id": supplier,
                "invoice_date": invoice_date.isoformat(),
                "control_amount_total": str(control),
                "suppliers_invoice_number": suppliers_number,
                "memo": text(data, "Memo"),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "lines": stored_lines,
            }
            self.stats["supplier_invoices_committed"] += 1
        env, root = response_root("Submit_Supplier_Invoice_Response", version)
        B.ref(
            root,
            "Supplier_Invoice_Reference",
            [("WID", wid), ("Supplier_Invoice_Reference_ID", invoice_id)],
            descriptor=f"Supplier Invoice: {number}",
        )
        return env

    def op_Get_Supplier_Invoices(self, req: etree._Element) -> etree._Element:
        with self.store.session() as store:
            invoices = list(store.invoices.values())

        def matches(criteria: etree._Element) -> Callable[[dict[str, Any]], bool]:
            sups = {v for r in children(criteria, "Supplier_Reference") for _, v, _ in ids(r)}
            cos = {v for r in children(criteria, "Company_Reference") for _, v, _ in ids(r)}
            after = text(criteria, "Invoice_Date_On_or_After")
            before = text(criteria, "Invoice_Date_On_or_Before")
            return lambda i: (
                (not sups or i["supplier_id"] in sups)
                and (not cos or i["company"] in cos)
                and (not after or i["invoice_date"] >= after)
                and (not before or i["invoice_date"] <= before)
            )

        env, root, page = self._get(
            req,
            "Get_Supplier_Invoices",
            invoices,
            reference="Supplier_Invoice_Reference",
            id_keys={"WID": "wid", "Supplier_Invoice_Reference_ID": "supplier_invoice_id"},
            criteria_filter=matches,
            order_by="invoice_number",
        )
        if page.current():
            data_el = B.el(root, "Response_Data")
            for inv in page.current():
                item = B.el(data_el, "Supplier_Invoice")
                pairs = [
                    ("WID", inv["wid"]),
                    ("Supplier_Invoice_Reference_ID", inv["supplier_invoice_id"]),
                ]
                B.ref(
                    item,
                    "Supplier_Invoice_Reference",
                    pairs,
                    descriptor=f"Supplier Invoice: {inv['invoice_number']}",
                )
                sd = B.el(item, "Supplier_Invoice_Data")
                B.el(sd, "Supplier_Invoice_ID", inv["supplier_invoice_id"])
                B.el(sd, "Invoice_Number", inv["invoice_number"])
                B.ref(sd, "Company_Reference", [("Company_Reference_ID", inv["company"])])
                B.ref(sd, "Currency_Reference", [("Currency_ID", inv["currency"])])
                B.ref(sd, "Supplier_Reference", [("Supplier_ID", inv["supplier_id"])])
                B.el(sd, "Invoice_Date", inv["invoice_date"])
                B.el(sd, "Control_Amount_Total", inv["control_amount_total"])
                if inv.get("suppliers_invoice_number"):
                    B.el(sd, "Suppliers_Invoice_Number", inv["suppliers_invoice_number"])
                if inv.get("memo"):
                    B.el(sd, "Memo", inv["memo"])
                for line in inv["lines"]:
                    ld = B.el(sd, "Invoice_Line_Replacement_Data")
                    B.el(ld, "Line_Order", line["line_order"])
                    if line.get("description"):
                        B.el(ld, "Item_Description", line["description"])
                    if line.get("spend_category"):
                        B.ref(
                            ld,
                            "Spend_Category_Reference",
                            [("Spend_Category_ID", line["spend_category"])],
                        )
                    B.el(ld, "Extended_Amount", line["amount"])
                    if line.get("memo"):
                        B.el(ld, "Memo", line["memo"])
        return env
