"""SOAP as the Workday sandbox speaks it: faults, reading requests, writing responses, paging."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree
from starlette.responses import Response

WD = "urn:com.workday/bsvc"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAPBIND = "http://schemas.xmlsoap.org/wsdl/soap/"
PLAIN_TYPE_SUFFIX = "#Password" + "Text"
# The tenant's contract: the project's published WSDL/XSD (data files, not connector code).
CONTRACT_DIR = Path(__file__).resolve().parent.parent / "clients" / "workday" / "wsdl"
SERVICES = {
    "Financial_Management": {
        "Submit_Accounting_Journal",
        "Get_Journals",
        "Get_Account_Sets",
        "Get_Workday_Companies",
        "Get_Resource_Categories",
    },
    "Resource_Management": {"Submit_Supplier_Invoice", "Get_Supplier_Invoices", "Get_Suppliers"},
}
MAX_LINES = 1000
ADD_ONLY_MESSAGE = "The Web Service is set to Add Only; documents cannot be resubmitted."


def w(name: str) -> str:
    return f"{{{WD}}}{name}"


# ---- faults ---------------------------------------------------------------------------------
@dataclass
class Issue:
    message: str
    xpath: str


class SoapFault(Exception):
    def __init__(self, code: str, message: str, detail: etree._Element | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


def validation_fault(issues: list[Issue]) -> SoapFault:
    fault = etree.Element(w("Validation_Fault"), nsmap={"wd": WD})
    for issue in issues:
        err = etree.SubElement(fault, w("Validation_Error"))
        etree.SubElement(err, w("Message")).text = issue.message
        etree.SubElement(err, w("Detail_Message")).text = issue.message
        etree.SubElement(err, w("Xpath")).text = issue.xpath
    return SoapFault(
        "SOAP-ENV:Client.validationError",
        f"Validation error occurred. {issues[0].message}",
        fault,
    )


def invalid_id(value: str, id_type: str, xpath: str) -> Issue:
    return Issue(
        f"Invalid ID value.  '{value}' is not a valid ID value for type = '{id_type}'", xpath
    )


AUTH_FAULT = SoapFault("SOAP-ENV:Client.authenticationError", "invalid username or password")
NOT_AUTHORIZED = SoapFault(
    "SOAP-ENV:Server.processingError",
    "Processing error occurred. The task submitted is not authorized.",
)


def fault_response(fault: SoapFault) -> Response:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"SOAP-ENV": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    node = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault", nsmap={"wd": WD})
    etree.SubElement(node, "faultcode").text = fault.code
    etree.SubElement(node, "faultstring").text = fault.message
    if fault.detail is not None:
        etree.SubElement(node, "detail").append(fault.detail)
    return _xml(env, status=500)


def _xml(env: etree._Element, status: int = 200) -> Response:
    return Response(
        etree.tostring(env, xml_declaration=True, encoding="UTF-8"),
        status_code=status,
        media_type="text/xml; charset=utf-8",
    )


# ---- request reading --------------------------------------------------------------------------
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def parse_envelope(raw: bytes) -> etree._Element:
    """Parse without DTDs, entities or network access (the hardened settings defusedxml uses)."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise SoapFault("SOAP-ENV:Client", "DTDs are not allowed")
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapFault("SOAP-ENV:Client", f"Malformed request: {exc}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("SOAP-ENV:Client", "Not a SOAP 1.1 envelope")
    return root


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    return None if el is None else el.find(w(name))


def children(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if el is None else el.findall(w(name))


def text(el: etree._Element | None, name: str) -> str | None:
    found = child(el, name)
    return found.text.strip() if found is not None and found.text else None


def flag(el: etree._Element | None, name: str, default: bool = False) -> bool:
    value = text(el, name)
    return default if value is None else value in ("true", "1")


def ids(ref: etree._Element | None) -> list[tuple[str, str, str | None]]:
    """(type, value, parent_id) of each ``wd:ID`` in a reference element."""
    return [
        (i.get(w("type"), ""), (i.text or "").strip(), i.get(w("parent_id")))
        for i in children(ref, "ID")
    ]


def money(value: str | None) -> Decimal:
    try:
        return Decimal(value) if value else Decimal("0")
    except InvalidOperation:
        return Decimal("0")  # schema validation already rejected non-decimals


# ---- response writing -------------------------------------------------------------------------
class B:
    """Tiny builder for wd: elements."""

    @staticmethod
    def el(parent: etree._Element, name: str, value: object = None, **attrs: str) -> etree._Element:
        node = etree.SubElement(parent, w(name), {w(k): v for k, v in attrs.items()})
        if value is not None:
            node.text = str(value).lower() if isinstance(value, bool) else str(value)
        return node

    @staticmethod
    def ref(
        parent: etree._Element,
        name: str,
        pairs: Iterable[tuple[str, str]],
        descriptor: str | None = None,
        **attrs: str,
    ) -> etree._Element:
        node = etree.SubElement(parent, w(name))
        if descriptor:
            node.set(w("Descriptor"), descriptor)
        for id_type, value in pairs:
            B.el(node, "ID", value, type=id_type, **attrs)
        return node


def response_root(name: str, version: str) -> tuple[etree._Element, etree._Element]:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"env": SOAP_ENV, "wd": WD})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    root = etree.SubElement(body, w(name), {w("version"): version})
    return env, root


@dataclass
class Page:
    items: list[Any]
    page: int
    count: int

    @property
    def total_pages(self) -> int:
        return (len(self.items) + self.count - 1) // self.count if self.items else 0

    def current(self) -> list[Any]:
        start = (self.page - 1) * self.count
        return self.items[start : start + self.count]


def paging(request_el: etree._Element, items: list[Any], op: str) -> Page:
    rf = child(request_el, "Response_Filter")
    page = int(money(text(rf, "Page")) or 1)
    count = int(money(text(rf, "Count")) or 100)
    if page < 1:
        raise validation_fault(
            [
                Issue(
                    "Page Number cannot be zero",
                    f"/wd:{op}_Request[1]/wd:Response_Filter[1]/wd:Page[1]",
                )
            ]
        )
    return Page(items, page, max(1, min(count, 999)))


def add_results(root: etree._Element, page: Page) -> None:
    rr = B.el(root, "Response_Results")
    B.el(rr, "Total_Results", len(page.items))
    B.el(rr, "Total_Pages", page.total_pages)
    B.el(rr, "Page_Results", len(page.current()))
    B.el(rr, "Page", page.page)


def add_filter(root: etree._Element, page: Page) -> None:
    rf = B.el(root, "Response_Filter")
    B.el(rf, "Page", page.page)
    B.el(rf, "Count", page.count)


_SUPPLIER_ID_TYPES = ("Supplier_ID", "Supplier_Reference_ID")


def _requested(
    req: etree._Element,
    op: str,
    ref_element: str,
    known: Mapping[str, Any],
    id_types: tuple[str, ...] | None,
) -> list[str] | None:
    """The ids a Get request's Request_References names, in request order (None: it names
    none, so the whole set is asked for). One unknown id faults the request, as in Workday."""
    refs = child(req, "Request_References")
    if refs is None:
        return None
    names = []
    for n, ref in enumerate(children(refs, ref_element), start=1):
        for id_type, value, _ in ids(ref):
            if (id_types is not None and id_type not in id_types) or value not in known:
                xpath = f"/wd:{op}_Request[1]/wd:Request_References[1]/wd:{ref_element}[{n}]"
                raise validation_fault([invalid_id(value, id_type, xpath)])
            names.append(value)
    return names
