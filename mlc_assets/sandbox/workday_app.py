"""A local Workday tenant speaking Workday Web Services SOAP (Financial_Management and
Resource_Management), for the demo and the tests.

It behaves like the documented tenant (docs/reference/workday/NOTES.md): serves its WSDL at
``/ccx/service/{tenant}/{Service}/{version}?wsdl``; takes SOAP 1.1 POSTs at the same path and
routes on the first Body element (Workday declares no SOAPAction); authenticates every request
with a WS-Security UsernameToken (``ISU@tenant`` + PasswordText, with or without Nonce/Created)
or an OAuth bearer token from its own ``/ccx/oauth2/{tenant}/token``; validates the payload
against the project's schema; and answers faults the way Workday does - HTTP 500 with
``SOAP-ENV:Client.validationError`` (one ``wd:Validation_Error`` per problem, each with its
XPath), ``Client.authenticationError`` or ``Server.processingError``.

Business rules enforced: Add_Only duplicates, unbalanced journals, unknown or retired ledger
accounts and other reference IDs ("Invalid ID value"), closed accounting periods, one worktag
per type, supplier-invoice control totals and duplicate supplier's invoice numbers, and
per-ISU missing permissions. Lookups of an unknown reference ID answer with the "Invalid ID
value" validation fault, as Workday does.

Fault injection (``FaultPlan``): ``500``, ``503``, ``429``, ``reset`` (connection dropped before
processing), ``slow``, ``commit_drop`` (the document is stored, then the connection is dropped
without a response). Admin: ``POST /_sandbox/faults`` (spec string), ``GET /_sandbox/journals``,
``GET /_sandbox/supplier_invoices``, ``GET /_sandbox/stats``.

It does not import the connector's code; it reads the project's published WSDL/XSD files as
the tenant's contract.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mlc_assets.sandbox.dropped import DroppedResponse
from mlc_assets.sandbox.faults import FaultPlan
from mlc_assets.sandbox.workday_checks import TenantChecks
from mlc_assets.sandbox.workday_invoice_ops import InvoiceOperations
from mlc_assets.sandbox.workday_journal_ops import JournalOperations
from mlc_assets.sandbox.workday_reference_ops import ReferenceOperations
from mlc_assets.sandbox.workday_seed import (
    DEFAULT_ACCOUNT_SET,
    DEFAULT_ACCOUNTS,
    DEFAULT_COMPANIES,
    DEFAULT_COST_CENTERS,
    DEFAULT_JOURNAL_SOURCES,
    DEFAULT_SPEND_CATEGORIES,
    DEFAULT_SUPPLIERS,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_READONLY_USERNAME,
    DEMO_REFRESH_TOKEN,
    DEMO_TENANT,
    DEMO_USERNAME,
    INACTIVE_COMPANIES,
    INACTIVE_SPEND_CATEGORIES,
    INACTIVE_SUPPLIERS,
    WRITE_OPERATIONS,
)
from mlc_assets.sandbox.workday_soap import (
    _PARSER,
    AUTH_FAULT,
    CONTRACT_DIR,
    NOT_AUTHORIZED,
    PLAIN_TYPE_SUFFIX,
    SERVICES,
    SOAP_ENV,
    SOAPBIND,
    WD,
    WSDL_NS,
    WSSE,
    Issue,
    SoapFault,
    _xml,
    fault_response,
    parse_envelope,
    validation_fault,
)
from mlc_assets.sandbox.workday_store import WorkdayStore


# ---- the tenant ---------------------------------------------------------------------------------
@dataclass
class WorkdayTenant(JournalOperations, InvoiceOperations, ReferenceOperations, TenantChecks):
    tenant: str = DEMO_TENANT
    users: dict[str, str] = field(default_factory=dict)  # ISU name -> password
    denied: dict[str, set[str]] = field(default_factory=dict)  # ISU name -> operations
    accounts: dict[str, dict[str, bool]] = field(default_factory=dict)  # set -> {id: retired}
    companies: dict[str, tuple[str, bool]] = field(default_factory=dict)  # id -> (ccy, active)
    spend_categories: dict[str, bool] = field(default_factory=dict)  # id -> active
    cost_centers: set[str] = field(default_factory=set)
    journal_sources: set[str] = field(default_factory=set)
    suppliers: dict[str, tuple[str, bool]] = field(default_factory=dict)  # id -> (name, active)
    closed_periods: set[str] = field(default_factory=set)  # "YYYY-MM"
    oauth_client_id: str = DEMO_CLIENT_ID
    oauth_client_secret: str = DEMO_CLIENT_SECRET
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> ISU
    token_lifetime: float = 3600.0
    slow_seconds: float = 2.0
    faults: FaultPlan = field(default_factory=FaultPlan)
    store: WorkdayStore = field(default_factory=WorkdayStore)
    stats: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}  # access token -> (ISU, expiry)
        self._lock = threading.Lock()
        xsd = etree.parse(str(CONTRACT_DIR / "workday_bsvc.xsd"), _PARSER)
        self._xsd_doc = xsd
        self._schema = etree.XMLSchema(xsd)
        self._wsdl: dict[str, bytes] = {}
        for service in SERVICES:
            self._wsdl[service] = (CONTRACT_DIR / f"{service}.wsdl").read_bytes()

    # ---- WSDL --------------------------------------------------------------------------
    def wsdl(self, service: str, address: str) -> bytes:
        """The service WSDL, self-contained (schema inlined) and pointing at ``address``."""
        doc = etree.fromstring(self._wsdl[service], _PARSER)
        types = doc.find(f"{{{WSDL_NS}}}types")
        assert types is not None
        for schema in list(types):
            types.remove(schema)
        types.append(copy.deepcopy(self._xsd_doc.getroot()))
        for addr in doc.iter(f"{{{SOAPBIND}}}address"):
            addr.set("location", address)
        return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")

    # ---- authentication ------------------------------------------------------------------
    def issue_token(self, user: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (user, time.monotonic() + self.token_lifetime)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self.token_lifetime),
        }

    def revoke_tokens(self) -> None:
        """Forget every access token (as a tenant admin revoking sessions would)."""
        with self._lock:
            self._tokens.clear()

    def authenticate(self, request: Request, envelope: etree._Element) -> str:
        """The ISU name the request authenticates as, or the authentication fault."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            with self._lock:
                entry = self._tokens.get(token.strip())
            if entry is None or entry[1] < time.monotonic():
                raise AUTH_FAULT
            return entry[0]
        token_el = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token_el is None:
            raise AUTH_FAULT
        username = (token_el.findtext(f"{{{WSSE}}}Username") or "").strip()
        password_el = token_el.find(f"{{{WSSE}}}Password")
        if password_el is None:
            raise AUTH_FAULT
        password_type = password_el.get("Type", PLAIN_TYPE_SUFFIX)
        user, _, tenant = username.partition("@")
        expected = self.users.get(user)
        if (
            tenant != self.tenant
            or expected is None
            or not password_type.endswith(PLAIN_TYPE_SUFFIX)
            or not secrets.compare_digest((password_el.text or "").encode(), expected.encode())
        ):
            raise AUTH_FAULT
        return user

    # ---- SOAP dispatch -------------------------------------------------------------------
    def handle(self, service: str, request: Request, raw: bytes) -> tuple[Response, bool]:
        """Process one SOAP request; returns (response, committed_write)."""
        try:
            envelope = parse_envelope(raw)
            user = self.authenticate(request, envelope)
            body = envelope.find(f"{{{SOAP_ENV}}}Body")
            element = body[0] if body is not None and len(body) else None
            if element is None or not element.tag.startswith(f"{{{WD}}}"):
                raise SoapFault("SOAP-ENV:Client", "The SOAP Body has no Workday request element")
            op = etree.QName(element).localname.removesuffix("_Request")
            if op not in SERVICES[service]:
                raise SoapFault(
                    "SOAP-ENV:Client", f"Operation {op} is not part of the {service} service"
                )
            self.stats[f"op:{op}"] += 1
            self._validate_schema(element, op)
            if op in self.denied.get(user, set()):
                self.stats["not_authorized"] += 1
                raise NOT_AUTHORIZED
            handler: Callable[[etree._Element], etree._Element] = getattr(self, f"op_{op}")
            return _xml(handler(element)), op in WRITE_OPERATIONS
        except SoapFault as fault:
            self.stats["faults"] += 1
            self.stats[f"fault:{fault.code}"] += 1
            return fault_response(fault), False

    def _validate_schema(self, element: etree._Element, op: str) -> None:
        doc = etree.ElementTree(copy.deepcopy(element))
        if self._schema.validate(doc):
            return
        issues = []
        for err in self._schema.error_log:
            path = (err.path or "").replace("{" + WD + "}", "wd:")
            issues.append(
                Issue(f"Schema validation failed: {err.message}", path or f"/wd:{op}_Request")
            )
        raise validation_fault(issues[:10])


# ---- HTTP layer ------------------------------------------------------------------------
def _routes(t: WorkdayTenant) -> list[Route]:
    async def soap(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        service = request.path_params["service"]
        if tenant != t.tenant or service not in SERVICES:
            return PlainTextResponse("Not Found", status_code=404)
        if request.method == "GET":
            if "wsdl" not in {k.lower() for k in request.query_params}:
                return PlainTextResponse("Append ?wsdl to download the service WSDL.", 400)
            address = str(request.url.replace(query=""))
            return Response(t.wsdl(service, address), media_type="text/xml; charset=utf-8")
        t.stats["requests"] += 1
        # Read the whole request first: a slow server still processes what it received.
        raw = await request.body()
        if t.faults.take("slow"):
            await asyncio.sleep(t.slow_seconds)
        if t.faults.take("reset"):
            t.stats["injected:reset"] += 1
            return DroppedResponse("text/xml", b"<?xml ")
        if t.faults.take("503"):
            return Response(b"", status_code=503)
        if t.faults.take("429"):
            return PlainTextResponse("Too Many Requests", status_code=429)
        if t.faults.take("500"):
            return PlainTextResponse("Internal Server Error", status_code=500)
        response, committed = t.handle(service, request, raw)
        if committed and t.faults.take("commit_drop"):
            t.stats["injected:commit_drop"] += 1
            return DroppedResponse("text/xml", b"<?xml ")
        return response

    async def token(request: Request) -> Response:
        if request.path_params["tenant"] != t.tenant:
            return PlainTextResponse("Not Found", status_code=404)
        t.stats["token_requests"] += 1
        # Plain urlencoded form (python-multipart is not a dependency).
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client_id, client_secret = _basic(request)
        client_id = client_id or str(form.get("client_id") or "")
        client_secret = client_secret or str(form.get("client_secret") or "")
        if client_id != t.oauth_client_id or not secrets.compare_digest(
            client_secret.encode(), t.oauth_client_secret.encode()
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        user = t.refresh_tokens.get(str(form.get("refresh_token") or ""))
        if user is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse(t.issue_token(user))

    async def set_faults(request: Request) -> Response:
        spec = (await request.body()).decode().strip()
        parsed = FaultPlan.parse(spec)
        for name, arm in parsed._arms.items():
            t.faults.arm(name, count=arm.count, probability=arm.probability)
        return JSONResponse({"armed": t.faults.armed()})

    async def journals(request: Request) -> Response:
        with t.store.session() as store:
            return JSONResponse({"journals": list(store.journals.values())})

    async def invoices(request: Request) -> Response:
        with t.store.session() as store:
            return JSONResponse({"supplier_invoices": list(store.invoices.values())})

    async def stats(request: Request) -> Response:
        return JSONResponse({"stats": dict(t.stats), "faults_fired": dict(t.faults.fired)})

    return [
        Route("/ccx/service/{tenant}/{service}/{version}", soap, methods=["GET", "POST"]),
        Route("/ccx/oauth2/{tenant}/token", token, methods=["POST"]),
        Route("/_sandbox/faults", set_faults, methods=["POST"]),
        Route("/_sandbox/journals", journals, methods=["GET"]),
        Route("/_sandbox/supplier_invoices", invoices, methods=["GET"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
    ]


def _basic(request: Request) -> tuple[str, str]:

    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, pw = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return "", ""
    return user, pw


def build_workday_tenant(
    *,
    tenant: str = DEMO_TENANT,
    username: str = DEMO_USERNAME,
    password: str = DEMO_PASSWORD,
    accounts: Iterable[str] = DEFAULT_ACCOUNTS,
    retired_accounts: Iterable[str] = (),
    account_set: str = DEFAULT_ACCOUNT_SET,
    closed_periods: Iterable[str] = (),
    faults: FaultPlan | str | None = None,
    state_file: Path | str | None = None,
    denied_operations: Mapping[str, Iterable[str]] | None = None,
    extra_users: Mapping[str, str] | None = None,
    refresh_token: str = DEMO_REFRESH_TOKEN,
    token_lifetime: float = 3600.0,
    slow_seconds: float = 2.0,
) -> WorkdayTenant:
    users = {username: password, DEMO_READONLY_USERNAME: password, **(extra_users or {})}
    denied = {DEMO_READONLY_USERNAME: set(WRITE_OPERATIONS)}
    for user, ops in (denied_operations or {}).items():
        denied[user] = set(ops)
    book = {a: False for a in accounts}
    book.update({a: True for a in retired_accounts})
    plan = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults)
    return WorkdayTenant(
        tenant=tenant,
        users=users,
        denied=denied,
        accounts={account_set: book},
        companies={
            **{c: (ccy, True) for c, ccy in DEFAULT_COMPANIES.items()},
            **{c: (ccy, False) for c, ccy in INACTIVE_COMPANIES.items()},
        },
        spend_categories={
            **{c: True for c in DEFAULT_SPEND_CATEGORIES},
            **{c: False for c in INACTIVE_SPEND_CATEGORIES},
        },
        cost_centers=set(DEFAULT_COST_CENTERS),
        journal_sources=set(DEFAULT_JOURNAL_SOURCES),
        suppliers={
            **{s: (n, True) for s, n in DEFAULT_SUPPLIERS.items()},
            **{s: (n, False) for s, n in INACTIVE_SUPPLIERS.items()},
        },
        closed_periods=set(closed_periods),
        refresh_tokens={refresh_token: username},
        token_lifetime=token_lifetime,
        slow_seconds=slow_seconds,
        faults=plan,
        store=WorkdayStore(state_file),
    )


def build_workday_app(
    *,
    tenant: str = DEMO_TENANT,
    username: str = DEMO_USERNAME,
    password: str = DEMO_PASSWORD,
    accounts: Iterable[str] = DEFAULT_ACCOUNTS,
    closed_periods: Iterable[str] = (),
    faults: FaultPlan | str | None = None,
    state_file: Path | str | None = None,
    tenant_state: WorkdayTenant | None = None,
    **options: Any,
) -> Starlette:
    """The sandbox ASGI app. ``options`` go to ``build_workday_tenant`` (retired_accounts,
    denied_operations, extra_users, refresh_token, token_lifetime, slow_seconds, account_set).

    The ``WorkdayTenant`` is reachable as ``app.state.workday`` for tests and the demo.
    """
    t = tenant_state or build_workday_tenant(
        tenant=tenant,
        username=username,
        password=password,
        accounts=accounts,
        closed_periods=closed_periods,
        faults=faults,
        state_file=state_file,
        **options,
    )
    app = Starlette(routes=_routes(t))
    app.state.workday = t
    return app


# The demo credentials and reference data are part of this module's interface.
__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_COMPANIES",
    "DEFAULT_SPEND_CATEGORIES",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_PASSWORD",
    "DEMO_READONLY_USERNAME",
    "DEMO_REFRESH_TOKEN",
    "DEMO_TENANT",
    "DEMO_USERNAME",
    "INACTIVE_SPEND_CATEGORIES",
    "WorkdayTenant",
    "build_workday_app",
    "build_workday_tenant",
]
