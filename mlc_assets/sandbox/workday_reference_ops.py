"""The reference-data Get operations on the sandbox tenant: account sets, companies, spend
categories, suppliers."""

from __future__ import annotations

import copy

from lxml import etree

from mlc_assets.sandbox.workday_soap import (
    _SUPPLIER_ID_TYPES,
    B,
    _requested,
    add_filter,
    add_results,
    child,
    paging,
    response_root,
    w,
)


class ReferenceOperations:
    """The reference Get operations of WorkdayTenant."""

    # ---- reference data ------------------------------------------------------------------------
    def op_Get_Account_Sets(self, req: etree._Element) -> etree._Element:
        version = req.get(w("version"), "v46.1")
        refs = child(req, "Request_References")
        asked = _requested(
            req, "Get_Account_Sets", "Account_Set_Reference", self.accounts, ("Account_Set_ID",)
        )
        names = list(self.accounts) if asked is None else asked
        page = paging(req, names, "Get_Account_Sets")
        env, root = response_root("Get_Account_Sets_Response", version)
        if refs is not None:
            root.append(copy.deepcopy(refs))
        add_filter(root, page)
        add_results(root, page)
        data_el = B.el(root, "Response_Data")
        for name in page.current():
            item = B.el(data_el, "Account_Set")
            B.ref(item, "Account_Set_Reference", [("Account_Set_ID", name)])
            asd = B.el(item, "Account_Set_Data")
            B.el(asd, "Account_Set_ID", name)
            B.el(asd, "Account_Set_Name", f"{name} account set")
            B.el(asd, "Chart_of_Accounts", True)
            for account, retired in sorted(self.accounts[name].items()):
                la = B.el(asd, "Ledger_Account_Data")
                B.el(la, "Ledger_Account_Identifier", account)
                B.el(la, "Ledger_Account_Name", f"Account {account}")
                kind = {"1": "Asset", "2": "Liability", "3": "Equity", "4": "Revenue"}.get(
                    account[:1], "Expense"
                )
                B.ref(la, "Ledger_Account_Type_Reference", [("Ledger_Account_Type_ID", kind)])
                B.el(la, "Retired", retired)
        return env

    def op_Get_Workday_Companies(self, req: etree._Element) -> etree._Element:
        version = req.get(w("version"), "v46.1")
        asked = _requested(req, "Get_Workday_Companies", "Company_Reference", self.companies, None)
        names = sorted(self.companies) if asked is None else asked
        page = paging(req, names, "Get_Workday_Companies")
        env, root = response_root("Get_Workday_Companies_Response", version)
        add_filter(root, page)
        add_results(root, page)
        data_el = B.el(root, "Response_Data")
        for name in page.current():
            _, active = self.companies[name]
            item = B.el(data_el, "Company")
            B.ref(item, "Company_Reference", [("Company_Reference_ID", name)])
            org = B.el(B.el(item, "Company_Data"), "Organization_Data")
            B.el(org, "ID", name)
            B.el(org, "Organization_Name", f"Company {name}")
            B.el(org, "Organization_Active", active)
        return env

    def op_Get_Resource_Categories(self, req: etree._Element) -> etree._Element:
        version = req.get(w("version"), "v46.1")
        names = sorted(self.spend_categories)
        page = paging(req, names, "Get_Resource_Categories")
        env, root = response_root("Get_Resource_Categories_Response", version)
        add_filter(root, page)
        add_results(root, page)
        data_el = B.el(root, "Response_Data")
        for name in page.current():
            item = B.el(data_el, "Resource_Category")
            B.ref(item, "Resource_Category_Reference", [("Spend_Category_ID", name)])
            rcd = B.el(item, "Resource_Category_Data")
            B.el(rcd, "Resource_Category_ID", name)
            B.el(rcd, "Resource_Category_Name", name.removeprefix("SC_").replace("_", " ").title())
            B.el(rcd, "Inactive", not self.spend_categories[name])
        return env

    def op_Get_Suppliers(self, req: etree._Element) -> etree._Element:
        version = req.get(w("version"), "v46.1")
        refs = child(req, "Request_References")
        asked = _requested(
            req, "Get_Suppliers", "Supplier_Reference", self.suppliers, _SUPPLIER_ID_TYPES
        )
        names = sorted(self.suppliers) if asked is None else asked
        page = paging(req, names, "Get_Suppliers")
        env, root = response_root("Get_Suppliers_Response", version)
        if refs is not None:
            root.append(copy.deepcopy(refs))
        add_filter(root, page)
        add_results(root, page)
        data_el = B.el(root, "Response_Data")
        for name in page.current():
            label, active = self.suppliers[name]
            item = B.el(data_el, "Supplier")
            B.ref(item, "Supplier_Reference", [("Supplier_ID", name)])
            sd = B.el(item, "Supplier_Data")
            B.el(sd, "Supplier_ID", name)
            B.el(sd, "Supplier_Name", label)
            status = "ACTIVE" if active else "INACTIVE"
            B.ref(sd, "Supplier_Status_Reference", [("Business_Entity_Status_Value_ID", status)])
        return env
