"""Submit_Accounting_Journal and Get_Journals on the sandbox tenant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from mlc_assets.sandbox.workday_soap import (
    ADD_ONLY_MESSAGE,
    MAX_LINES,
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


class JournalOperations:
    """The journal operations of WorkdayTenant."""

    def op_Submit_Accounting_Journal(self, req: etree._Element) -> etree._Element:
        base = "/wd:Submit_Accounting_Journal_Request[1]/wd:Accounting_Journal_Data[1]"
        version = req.get(w("version"), "v46.1")
        add_only = req.get(w("Add_Only")) in ("true", "1")
        auto_complete = flag(child(req, "Business_Process_Parameters"), "Auto_Complete")
        data = child(req, "Accounting_Journal_Data")
        assert data is not None  # schema-validated
        journal_id = text(data, "Accounting_Journal_ID") or ""
        submit = flag(data, "Submit")
        issues: list[Issue] = []
        company, more = self._company_issues(data, base)
        issues += more
        issue = self._ref_issue(
            child(data, "Ledger_Type_Reference"),
            lambda t, v: t == "Ledger_Type_ID" and v == "Actuals",
            "Ledger_Type_ID",
            f"{base}/wd:Ledger_Type_Reference[1]",
        )
        if issue:
            issues.append(issue)
        issue = self._ref_issue(
            child(data, "Journal_Source_Reference"),
            lambda t, v: t == "Journal_Source_ID" and v in self.journal_sources,
            "Journal_Source_ID",
            f"{base}/wd:Journal_Source_Reference[1]",
        )
        if issue:
            issues.append(issue)
        accounting_date = date.fromisoformat(text(data, "Accounting_Date") or "")
        period_issue = self._period_issue(accounting_date, company, f"{base}/wd:Accounting_Date[1]")
        if period_issue:
            issues.append(period_issue)
        lines = children(data, "Journal_Entry_Line_Replacement_Data")
        if not lines:
            issues.append(Issue("Journal must have at least one line.", base))
        if len(lines) > MAX_LINES:
            issues.append(Issue(f"A journal may have at most {MAX_LINES} lines.", base))
        debits = credits = Decimal("0")
        stored_lines = []
        for n, line in enumerate(lines, start=1):
            lpath = f"{base}/wd:Journal_Entry_Line_Replacement_Data[{n}]"
            apath = f"{lpath}/wd:Ledger_Account_Reference[1]"
            account, account_set = None, None
            for id_type, value, parent in ids(child(line, "Ledger_Account_Reference")):
                if id_type != "Ledger_Account_ID":
                    issues.append(invalid_id(value, id_type, apath))
                elif parent not in self.accounts:
                    issues.append(invalid_id(parent or "", "Account_Set_ID", apath))
                elif value not in self.accounts[parent]:
                    issues.append(invalid_id(value, "Ledger_Account_ID", apath))
                elif self.accounts[parent][value]:
                    issues.append(
                        Issue(f"Ledger Account {value} is retired and cannot be used.", apath)
                    )
                else:
                    account, account_set = value, parent
            debit, credit = money(text(line, "Debit_Amount")), money(text(line, "Credit_Amount"))
            if debit and credit:
                issues.append(
                    Issue("A journal line cannot have both a debit and a credit amount.", lpath)
                )
            if debit < 0 or credit < 0:
                issues.append(Issue("Debit and credit amounts cannot be negative.", lpath))
            debits += debit
            credits += credit
            issues += self._worktag_issues(line, lpath)
            stored_lines.append(
                {
                    "line_order": text(line, "Line_Order") or str(n),
                    "account": account,
                    "account_set": account_set,
                    "debit": str(debit),
                    "credit": str(credit),
                    "memo": text(line, "Memo"),
                    "external_reference_id": text(line, "External_Reference_ID"),
                    "worktags": [
                        [t, v]
                        for tag in children(line, "Worktags_Reference")
                        for t, v, _ in ids(tag)
                    ],
                }
            )
        if submit and debits != credits:
            issues.append(Issue("Journal may not be submitted unless it is balanced", base))
        with self.store.session(write=True) as store:
            existing = store.journals.get(journal_id) if journal_id else None
            if existing is not None:
                message = (
                    ADD_ONLY_MESSAGE
                    if add_only
                    else "Posted or canceled journals cannot be resubmitted."
                )
                issues.insert(0, Issue(message, f"{base}/wd:Accounting_Journal_ID[1]"))
            if issues:
                raise validation_fault(issues)
            wid = new_wid()
            journal_id = journal_id or wid
            number = store.next_number("JE")
            status = "Posted" if submit and auto_complete else ("Submitted" if submit else "Draft")
            store.journals[journal_id] = {
                "wid": wid,
                "accounting_journal_id": journal_id,
                "journal_number": number,
                "status": status,
                "company": company,
                "currency": ids(child(data, "Currency_Reference"))[0][1],
                "accounting_date": accounting_date.isoformat(),
                "journal_source": ids(child(data, "Journal_Source_Reference"))[0][1],
                "memo": text(data, "Journal_Entry_Memo"),
                "external_reference_id": text(data, "External_Reference_ID"),
                "total_debits": str(debits),
                "total_credits": str(credits),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "lines": stored_lines,
            }
            self.stats["journals_committed"] += 1
        env, root = response_root("Submit_Accounting_Journal_Response", version)
        B.ref(
            root,
            "Accounting_Journal_Reference",
            [("WID", wid), ("Accounting_Journal_ID", journal_id)],
            descriptor=f"Journal: {number}",
        )
        return env

    # ---- Get_Journals ------------------------------------------------------------------------
    def op_Get_Journals(self, req: etree._Element) -> etree._Element:
        with self.store.session() as store:
            journals = list(store.journals.values())

        def matches(criteria: etree._Element) -> Callable[[dict[str, Any]], bool]:
            orgs = {v for r in children(criteria, "Organization_Reference") for _, v, _ in ids(r)}
            sources = {
                v for r in children(criteria, "Journal_Source_Reference") for _, v, _ in ids(r)
            }
            date_from = text(criteria, "Accounting_From_Date")
            date_to = text(criteria, "Accounting_To_Date")
            number = text(criteria, "Journal_Number")
            return lambda j: (
                (not orgs or j["company"] in orgs)
                and (not sources or j["journal_source"] in sources)
                and (not date_from or j["accounting_date"] >= date_from)
                and (not date_to or j["accounting_date"] <= date_to)
                and (not number or j["journal_number"] == number)
            )

        env, root, page = self._get(
            req,
            "Get_Journals",
            journals,
            reference="JournalEntryReference",
            id_keys={"WID": "wid", "Accounting_Journal_ID": "accounting_journal_id"},
            criteria_filter=matches,
            order_by="journal_number",
        )
        if page.current():
            data_el = B.el(root, "Response_Data")
            for j in page.current():
                entry = B.el(data_el, "Journal_Entry")
                pairs = [("WID", j["wid"]), ("Accounting_Journal_ID", j["accounting_journal_id"])]
                B.ref(
                    entry,
                    "Journal_Entry_Reference",
                    pairs,
                    descriptor=f"Journal: {j['journal_number']}",
                )
                jd = B.el(entry, "Journal_Entry_Data")
                B.el(jd, "Journal_Number", j["journal_number"])
                B.ref(jd, "Journal_Status_Reference", [("Journal_Entry_Status_ID", j["status"])])
                B.ref(jd, "Company_Reference", [("Company_Reference_ID", j["company"])])
                B.ref(jd, "Currency_Reference", [("Currency_ID", j["currency"])])
                B.el(jd, "Accounting_Date", j["accounting_date"])
                B.ref(jd, "Journal_Source_Reference", [("Journal_Source_ID", j["journal_source"])])
                # Real Workday returns many more elements than the connector's minimal WSDL
                # declares; a few of them here keep the client honest about tolerating them.
                B.el(jd, "Transaction_Date", j["accounting_date"])
                B.el(jd, "Record_Quantity", False)
                if j.get("memo"):
                    B.el(jd, "Memo", j["memo"])
                if j.get("external_reference_id"):
                    B.el(jd, "External_Reference_ID", j["external_reference_id"])
                B.el(jd, "Total_Ledger_Debits", j["total_debits"])
                B.el(jd, "Total_Ledger_Credits", j["total_credits"])
                B.el(jd, "Creation_Date", j["created"])
                for line in j["lines"]:
                    ld = B.el(jd, "Journal_Entry_Line_Data")
                    B.el(ld, "Line_Order", line["line_order"])
                    B.ref(
                        ld,
                        "Ledger_Account_Reference",
                        [("Ledger_Account_ID", line["account"])],
                        parent_id=line["account_set"],
                        parent_type="Account_Set_ID",
                    )
                    if Decimal(line["debit"]):
                        B.el(ld, "Debit_Amount", line["debit"])
                    if Decimal(line["credit"]):
                        B.el(ld, "Credit_Amount", line["credit"])
                    B.ref(ld, "Currency_Reference", [("Currency_ID", j["currency"])])
                    B.el(ld, "Currency_Rate", "1")
                    if Decimal(line["debit"]):
                        B.el(ld, "Ledger_Debit_Amount", line["debit"])
                    if Decimal(line["credit"]):
                        B.el(ld, "Ledger_Credit_Amount", line["credit"])
                    if line.get("memo"):
                        B.el(ld, "Memo", line["memo"])
                    if line.get("external_reference_id"):
                        B.el(ld, "External_Reference_ID", line["external_reference_id"])
                    for id_type, value in line["worktags"]:
                        B.ref(ld, "Worktags_Reference", [(id_type, value)])
        return env
