"""What the sandbox tenant checks in a submitted document, as Workday does, and the shared half
of its document Get operations."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from lxml import etree

from mlc_assets.sandbox.workday_soap import (
    Issue,
    Page,
    add_filter,
    add_results,
    child,
    children,
    ids,
    invalid_id,
    paging,
    response_root,
    validation_fault,
    w,
)


class TenantChecks:
    """Validation and lookups the operation mixins share (state lives on WorkdayTenant)."""

    # ---- Submit_Accounting_Journal ---------------------------------------------------------
    def _period_issue(self, when: date, company: str, xpath: str) -> Issue | None:
        period = f"{when.year:04d}-{when.month:02d}"
        if period in self.closed_periods:
            return Issue(
                f"Accounting Date {when.isoformat()} is in period {period}, which is not open "
                f"for company {company}. Open the period or choose a date in an open period.",
                xpath,
            )
        return None

    def _company_issues(
        self, data: etree._Element, base: str, field_name: str = "Currency_Reference"
    ) -> tuple[str, list[Issue]]:
        issues: list[Issue] = []
        company = ""
        cref = ids(child(data, "Company_Reference"))
        cur = ids(child(data, field_name))
        if cref:
            id_type, company, _ = cref[0]
            if (
                id_type not in ("Company_Reference_ID", "Organization_Reference_ID")
                or company not in self.companies
            ):
                issues.append(
                    invalid_id(
                        company,
                        id_type or "Company_Reference_ID",
                        f"{base}/wd:Company_Reference[1]",
                    )
                )
            elif not self.companies[company][1]:
                issues.append(
                    Issue(f"Company {company} is inactive.", f"{base}/wd:Company_Reference[1]")
                )
            elif cur and cur[0][1] != self.companies[company][0]:
                issues.append(
                    Issue(
                        f"Currency {cur[0][1]} must be the default currency of company "
                        f"{company} ({self.companies[company][0]}).",
                        f"{base}/wd:{field_name}[1]",
                    )
                )
        return company, issues

    def _ref_issue(
        self,
        ref: etree._Element | None,
        known: Callable[[str, str], bool],
        default_type: str,
        xpath: str,
    ) -> Issue | None:
        for id_type, value, _ in ids(ref):
            if not known(id_type, value):
                return invalid_id(value, id_type or default_type, xpath)
        return None

    def _worktag_issues(self, line: etree._Element, xpath: str) -> list[Issue]:
        issues = []
        seen: set[str] = set()
        for n, tag in enumerate(children(line, "Worktags_Reference"), start=1):
            for id_type, value, _ in ids(tag):
                path = f"{xpath}/wd:Worktags_Reference[{n}]"
                if id_type in seen:
                    issues.append(
                        Issue(f"Only one worktag of type {id_type} is allowed per line.", path)
                    )
                seen.add(id_type)
                if id_type == "Cost_Center_Reference_ID" and value not in self.cost_centers:
                    issues.append(invalid_id(value, id_type, path))
                if id_type == "Spend_Category_ID" and value not in self.spend_categories:
                    issues.append(invalid_id(value, id_type, path))
        return issues

    # ---- the shared half of the document Get_ operations ------------------------------------
    def _get(
        self,
        req: etree._Element,
        op: str,
        items: list[dict[str, Any]],
        *,
        reference: str,
        id_keys: Mapping[str, str],
        criteria_filter: Callable[[etree._Element], Callable[[dict[str, Any]], bool]],
        order_by: str,
    ) -> tuple[etree._Element, etree._Element, Page]:
        """Select by Request_References (an unknown ID faults, as Workday does) or by criteria,
        sort, page, and echo the request's references, criteria and paging in the response."""
        refs = child(req, "Request_References")
        criteria = child(req, "Request_Criteria")
        selected: list[dict[str, Any]] = []
        if refs is not None:
            for n, ref in enumerate(children(refs, reference), start=1):
                for id_type, value, _ in ids(ref):
                    key = id_keys.get(id_type)
                    found = [i for i in items if key and i[key] == value]
                    if not found:
                        xpath = f"/wd:{op}_Request[1]/wd:Request_References[1]/wd:{reference}[{n}]"
                        raise validation_fault([invalid_id(value, id_type, xpath)])
                    selected += [i for i in found if i not in selected]
        elif criteria is not None:
            keep = criteria_filter(criteria)
            selected = [i for i in items if keep(i)]
        else:
            selected = list(items)
        selected.sort(key=lambda i: i[order_by])
        page = paging(req, selected, op)
        env, root = response_root(f"{op}_Response", req.get(w("version"), "v46.1"))
        if refs is not None:
            root.append(copy.deepcopy(refs))
        if criteria is not None:
            root.append(copy.deepcopy(criteria))
        add_filter(root, page)
        add_results(root, page)
        return env, root, page
