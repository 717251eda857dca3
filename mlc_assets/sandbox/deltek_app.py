"""A local Deltek Vantagepoint tenant speaking the REST wire format the connector uses.

Served by ``BackgroundServer`` on 127.0.0.1. It follows the test-double checklist of the
research notes (docs/reference/deltek/NOTES.md §10) and tags every behaviour:

* [DOC]  documented by Deltek (api.deltek.com, help.deltek.com, Deltek's Postman docs);
* [3P]   seen in third-party code that runs against real tenants;
* [INF]  inferred; the real behaviour is unknown. Tighten these against a real tenant.

Business rules (balance, periods, references, duplicates, posting) live in ``deltek_store``;
this module is HTTP: the tenant path prefix, the token endpoint, the Bearer check, paging
and ``filterHash`` filtering, fault injection and the admin endpoints under ``/_sandbox``.

Faults (``FaultPlan`` names): ``429``, ``500``, ``html502`` (an IIS-style HTML gateway page),
``reset`` (connection dropped before anything is processed), ``slow`` (delay, then process),
``commit_drop`` (a write is committed, then the response is dropped), ``expire_token`` (the
presented access token expires on the spot, so the call gets a 401).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from mlc_assets.sandbox.deltek_store import (
    TIERS,
    DeltekStore,
    SandboxRejection,
    seeded_store,
)
from mlc_assets.sandbox.faults import FaultPlan

# Demo tenant credentials: the sandbox is a product feature that works with no real account.
DEMO_USERNAME = "api.amazon"
DEMO_PASSWORD = "vp-sandbox-password"  # noqa: S105 - public demo credential of the local fake
DEMO_DATABASE = "VP_SANDBOX"
DEMO_CLIENT_ID = "mlc-sandbox-client"
DEMO_CLIENT_SECRET = "vp-sandbox-client-secret"  # noqa: S105 - public demo credential
DEFAULT_PREFIX = "/vantagepoint/api"  # on-prem shape [3P: Script-Gresham]
DEFAULT_TOKEN_TTL = 1799.0  # seconds [DOC: DPS-Token example expires_in 1799]

Handler = Callable[[Request], Awaitable[Response]]

# IIS / ARR gateway page, as cloud tenants' front ends return on 502 [3P: GoVP-errors_test].
HTML_502 = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
<title>502 - Web server received an invalid response while acting as a gateway or proxy
 server.</title></head><body><div id="header"><h1>Server Error</h1></div>
<div id="content"><div class="content-container"><fieldset>
<h2>502 - Web server received an invalid response while acting as a gateway or proxy server.</h2>
<h3>There is a problem with the page you are looking for, and it cannot be displayed. When the
 Web server (while acting as a gateway or proxy) contacted the upstream content server, it
 received an invalid response from the content server.</h3>
</fieldset></div></div></body></html>"""


# ---- JSON with exact decimals -------------------------------------------------------------
_DEC = "\x00DEC:"
_DEC_RE = re.compile(r'"\\u0000DEC:([-0-9.Ee+]+)"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_DEC}{value}"
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """JSON where Decimals are written as exact JSON numbers, as Deltek's examples show [DOC]."""
    return _DEC_RE.sub(lambda m: m.group(1), json.dumps(_mark(value)))


class DecimalJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def _error(message: str, status: int = 400, detail: str = "") -> Response:
    # REST error body shape {"message","detail"} is [3P: GoVP-errors], not documented [INF].
    body: dict[str, Any] = {"message": message}
    if detail:
        body["detail"] = detail
    return DecimalJSONResponse(body, status_code=status)


class _IntendedDropFilter(logging.Filter):
    """Silence uvicorn's error line for connections this sandbox drops on purpose (and only
    for those: each deliberate drop is counted and consumes one suppression)."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = 0
        self._lock = threading.Lock()

    def expect_one(self) -> None:
        with self._lock:
            self._pending += 1

    def filter(self, record: logging.LogRecord) -> bool:
        if "without completing response" not in record.getMessage():
            return True
        with self._lock:
            if self._pending > 0:
                self._pending -= 1
                return False
        return True


_DROP_FILTER = _IntendedDropFilter()
logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)


class _DroppedResponse(Response):
    """Promise a body, send a fragment, then return: uvicorn closes the connection, so the
    client sees a reset/truncated response and cannot tell whether the call took effect."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        _DROP_FILTER.expect_one()
        await send({"type": "http.response.body", "body": b"[{", "more_body": True})


# ---- query helpers ------------------------------------------------------------------------
_FH_RE = re.compile(r"^filterHash\[(\d+)\]\[(name|value|opp|tablename)\]$", re.IGNORECASE)


def parse_filter_hash(request: Request) -> list[dict[str, str]]:
    """``filterHash[i][name|value|opp]`` query params [DOC: PM-JEDetail; operators 3P]."""
    groups: dict[int, dict[str, str]] = {}
    for key, value in request.query_params.multi_items():
        m = _FH_RE.match(key)
        if m:
            groups.setdefault(int(m.group(1)), {})[m.group(2).lower()] = value
    return [groups[i] for i in sorted(groups)]


def _cmp_values(a: Any, b: str) -> tuple[Any, Any]:
    try:
        return Decimal(str(a)), Decimal(b)
    except (InvalidOperation, ValueError):
        return str(a).strip().lower(), b.strip().lower()


def _matches(row: dict[str, Any], flt: dict[str, str]) -> bool:
    name = flt.get("name", "")
    value = flt.get("value", "")
    op = (flt.get("opp") or "=").strip().lower()
    actual = next((v for k, v in row.items() if k.lower() == name.lower()), None)
    if actual is None:
        raise SandboxRejection(f"filterHash: unknown column '{name}'.")
    if op == "like":
        pattern = re.escape(value.lower()).replace("%", ".*")
        return re.fullmatch(pattern, str(actual).lower()) is not None
    a, b = _cmp_values(actual, value)
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda x, y: x == y,
        "eq": lambda x, y: x == y,
        "!=": lambda x, y: x != y,
        "<>": lambda x, y: x != y,
        "ne": lambda x, y: x != y,
        ">": lambda x, y: x > y,
        "gt": lambda x, y: x > y,
        "<": lambda x, y: x < y,
        "lt": lambda x, y: x < y,
        ">=": lambda x, y: x >= y,
        "ge": lambda x, y: x >= y,
        "<=": lambda x, y: x <= y,
        "le": lambda x, y: x <= y,
    }
    if op not in ops:
        raise SandboxRejection(f"filterHash: unsupported operator '{op}'.")
    try:
        return ops[op](a, b)
    except TypeError:
        return False


def apply_query(request: Request, rows: list[dict[str, Any]], *, ledger: bool = False) -> Any:
    """filterHash, fieldFilter and paging as documented [DOC: DPS-Page]."""
    for flt in parse_filter_hash(request):
        rows = [r for r in rows if _matches(r, flt)]
    q = request.query_params
    if ledger:
        if "limit" in q:
            # [3P: GoVP-query] PSALedger answers `limit` with HTTP 500; use q.maxrows.
            raise SandboxRejection("An error has occurred.", status=500)
        if "q.maxrows" in q:
            rows = rows[: int(q["q.maxrows"])]
    else:
        size = q.get("pageSize") or q.get("limit")
        if size:
            n = int(size)
            if "page" in q:
                start = (int(q["page"]) - 1) * n  # 1-based [DOC]
            else:
                start = int(q.get("offset", "0"))  # 0-based [DOC]
            rows = rows[start : start + n]
    if "fieldFilter" in q:
        wanted = [c.strip().lower() for c in q["fieldFilter"].split(",") if c.strip()]
        rows = [{k: v for k, v in r.items() if k.lower() in wanted} for r in rows]
    return rows


# ---- the sandbox --------------------------------------------------------------------------
class DeltekSandbox:
    """One in-memory tenant: credentials, tokens, store, faults and counters."""

    def __init__(
        self,
        *,
        username: str,
        password: str,
        database: str,
        client_id: str,
        client_secret: str,
        store_factory: Callable[[], DeltekStore],
        token_ttl: float,
        speed: float,
        faults: FaultPlan,
        slow_seconds: float,
        missing_record: str,
    ) -> None:
        self.username = username
        self._password = password
        self.database = database
        self.client_id = client_id
        self._client_secret = client_secret
        self._store_factory = store_factory
        self.store = store_factory()
        self.token_ttl = token_ttl / max(speed, 1e-9)
        self.faults = faults
        self.slow_seconds = slow_seconds / max(speed, 1e-9)
        self.missing_record = missing_record
        self._tokens: dict[str, float] = {}  # access token -> monotonic expiry
        self._refresh: set[str] = set()
        self._lock = threading.Lock()
        self.stats: Counter[str] = Counter()

    # ---- tokens -----------------------------------------------------------------------
    def _issue(self) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access] = time.monotonic() + self.token_ttl
            self._refresh.add(refresh)
        # Exactly these four fields are documented [DOC: DPS-Token].
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": max(1, int(self.token_ttl)),
            "refresh_token": refresh,
        }

    def reset(self) -> None:
        """Back to the freshly seeded tenant: no files, no ledger, no tokens, no faults.
        A persisted state file is discarded too."""
        with self._lock:
            if self.store.state_file is not None:
                Path(self.store.state_file).unlink(missing_ok=True)
            self.store = self._store_factory()
            self._tokens.clear()
            self._refresh.clear()
            for name in list(self.faults.armed()):
                self.faults.disarm(name)
            self.faults.fired.clear()
            self.stats.clear()

    def expire_all_tokens(self) -> None:
        """Test hook: every access token in circulation expires now (refresh tokens stay)."""
        with self._lock:
            for k in self._tokens:
                self._tokens[k] = 0.0

    async def token(self, request: Request) -> Response:
        self.stats["token_requests"] += 1
        ctype = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            return _oauth_error("invalid_request", "The request must be form-encoded.")
        raw = (await request.body()).decode("utf-8", "replace")
        # Keys are matched case-insensitively [INF from DOC vs 3P spellings].
        form = {k.lower(): v for k, v in parse_qsl(raw, keep_blank_values=True)}
        grant = form.get("grant_type", "")
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self._client_secret
        ):
            return _oauth_error("invalid_client", "The client credentials are invalid.")
        if grant == "password":
            ok = (
                form.get("username", "").lower() == self.username.lower()
                and secrets.compare_digest(form.get("password", ""), self._password)
                and form.get("database", "") == self.database
            )
            if not ok:
                # Status 400 + OAuth body [3P: GoVP-errors_test]; wording [INF].
                self.stats["token_denied"] += 1
                return _oauth_error("invalid_grant", "The user name or password is incorrect.")
            if form.get("integrated", "N").upper() not in ("N", ""):
                return _oauth_error("invalid_grant", "Integrated login is not enabled.")
            self.stats["grant_password"] += 1
            return DecimalJSONResponse(self._issue())
        if grant == "refresh_token":
            rt = form.get("refresh_token", "")
            with self._lock:
                known = rt in self._refresh
                # Rotation is undocumented [INF]: the used refresh token is retired.
                self._refresh.discard(rt)
            if not known:
                self.stats["token_denied"] += 1
                return _oauth_error("invalid_grant", "The refresh token is invalid or expired.")
            self.stats["grant_refresh"] += 1
            return DecimalJSONResponse(self._issue())
        return _oauth_error("unsupported_grant_type", f"Grant type '{grant}' is not supported.")

    def _bearer_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        with self._lock:
            expiry = self._tokens.get(token.strip())
            if expiry is not None and self.faults.take("expire_token"):
                self._tokens[token.strip()] = expiry = 0.0
        return expiry is not None and expiry > time.monotonic()

    # ---- the wrapper every API route goes through --------------------------------------
    def api(self, handler: Handler, *, name: str, auth: bool = True, mutates: bool = False):
        async def endpoint(request: Request) -> Response:
            self.stats["requests"] += 1
            self.stats[f"route:{name}"] += 1
            if self.faults.take("slow"):
                await asyncio.sleep(self.slow_seconds)
            if self.faults.take("reset"):
                return _DroppedResponse()
            if self.faults.take("429"):
                # 429 is not documented for Vantagepoint [INF: docs/reference/deltek/NOTES.md §9];
                # load balancers send it.
                return _error("Too many requests.", 429)
            if self.faults.take("500"):
                return _error("An error has occurred.", 500)
            if self.faults.take("html502"):
                return HTMLResponse(HTML_502, status_code=502)
            if auth and not self._bearer_ok(request):
                self.stats["unauthorized"] += 1
                # 401 status [DOC: DPS-Resp]; body is the ASP.NET Web API default [INF].
                return _error("Authorization has been denied for this request.", 401)
            try:
                response = await handler(request)
            except SandboxRejection as rej:
                self.stats["rejected"] += 1
                return _error(rej.message, rej.status, rej.detail)
            if mutates and response.status_code < 300 and self.faults.take("commit_drop"):
                self.stats["commit_dropped"] += 1
                return _DroppedResponse()
            return response

        return endpoint

    # ---- settings / reference -----------------------------------------------------------
    async def periods(self, request: Request) -> Response:
        return DecimalJSONResponse(apply_query(request, self.store.period_rows()))  # [DOC]

    async def active_period(self, request: Request) -> Response:
        rows = [r for r in self.store.period_rows() if r["Period"] == self.store.active_period]
        return DecimalJSONResponse(rows)  # array even for one row [DOC: PM-ActivePeriod]

    async def set_active_period(self, request: Request) -> Response:
        number = int(request.path_params["period"])
        if self.store.period(number) is None:
            raise SandboxRejection(f"Period {number} is not set up.")
        self.store.active_period = number
        return await self.active_period(request)

    async def projects(self, request: Request) -> Response:
        level = request.query_params.get("wbstype", "wbs1").lower()  # [3P: GoVP-projects]

        def lvl(r: dict[str, Any]) -> str:
            if r["WBS3"].strip():
                return "wbs3"
            return "wbs2" if r["WBS2"].strip() else "wbs1"

        rows = [r for r in self.store.projects if lvl(r) == level]
        return DecimalJSONResponse(apply_query(request, rows))

    async def project(self, request: Request) -> Response:
        row = self.store.project_row(request.path_params["wbs1"])
        if row is None:
            return self._missing(f"Project '{request.path_params['wbs1']}' was not found.")
        return DecimalJSONResponse(apply_query(request, [row]))  # [DOC: PM-Project]

    async def accounts(self, request: Request) -> Response:
        # Path [INF]: third-party comments say POST /Accounts; no Deltek doc was found.
        rows = sorted(self.store.accounts.values(), key=lambda a: a["Account"])
        return DecimalJSONResponse(apply_query(request, rows))

    async def organizations(self, request: Request) -> Response:
        # GET /organization/{org} is [DOC: DPS-Config]; the list form is [INF].
        org = request.path_params.get("org")
        rows = [o for o in self.store.orgs if org is None or o["Org"] == org]
        if org is not None and not rows:
            return self._missing(f"Organization '{org}' was not found.")
        return DecimalJSONResponse(apply_query(request, rows))

    def _missing(self, message: str) -> Response:
        # 404 vs [] for an unknown key is undocumented [INF]; configurable so clients are
        # tested against both.
        if self.missing_record == "empty":
            return DecimalJSONResponse([])
        return _error(message, 404)

    # ---- DataEntry ------------------------------------------------------------------------
    @staticmethod
    def _table(name: str) -> tuple[str, str]:
        m = re.fullmatch(r"(je|in)(Control|Master|Detail|Landing)", name)
        if not m:
            raise SandboxRejection(f"No HTTP resource was found for '{name}'.", status=404)
        return m.group(1).upper(), m.group(2)

    async def create_file(self, request: Request) -> Response:
        trans_type, tier = self._table(request.path_params["table"])
        if tier != "Control":
            raise SandboxRejection(f"POST is not supported on {request.path_params['table']}.")
        try:
            body = json.loads(await request.body(), parse_float=Decimal)
        except ValueError as exc:
            raise SandboxRejection("The request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            raise SandboxRejection("The request body must be a JSON object.")
        control = self.store.create_file(trans_type, body)
        self.stats[f"created:{trans_type}"] += 1
        # 201 + array with the control and computed sums [DOC: PM-JECtl-update, PM-INCtl].
        location = f"{request.url.path}/{control['Batch']}"
        return DecimalJSONResponse([control], status_code=201, headers={"Location": location})

    async def landing(self, request: Request) -> Response:
        # jeLanding is [INF] by analogy with the documented unLanding/upLanding pages.
        trans_type, _ = self._table(request.path_params["table"])
        rows = []
        for key, f in self.store.files.items():
            tt, batch = key.split("|", 1)
            if tt != trans_type:
                continue
            c = f["control"]
            rows.append(
                {
                    "Batch": batch,
                    "Description": c.get("Description", ""),
                    "Creator": c.get("Creator", ""),
                    "TransType": tt,
                    "Period": f"{c['Period'] % 100}/{c['Period'] // 100}",
                    "RawPeriod": c["Period"],
                    "ApprovalStatus": "N",
                    "PostStatus": "",
                    "PostSeq": 0,
                    "Recurring": c.get("Recurring", "N"),
                }
            )
        return DecimalJSONResponse(apply_query(request, rows))

    async def read_file(self, request: Request) -> Response:
        trans_type, tier = self._table(request.path_params["table"])
        batch = request.path_params["batch"].split("|", 1)[0]  # Batch|RefNo keys [DOC]
        f = self.store.get_file(trans_type, batch)
        if f is None:
            # Posted files leave DataEntry and live in the ledger [INF].
            return self._missing(f"Batch '{batch}' was not found.")
        if tier == "Control":
            rows = [f["control"]]
        elif tier == "Master":
            rows = f["master"]
        else:
            rows = f["detail"]
        return DecimalJSONResponse(apply_query(request, rows))

    async def delete_file(self, request: Request) -> Response:
        trans_type, tier = self._table(request.path_params["table"])
        if tier != "Control":
            raise SandboxRejection("DELETE is supported on the control record only.")
        batch = request.path_params["batch"]
        if not self.store.delete_file(trans_type, batch):
            return _error(f"Batch '{batch}' was not found.", 404)
        return DecimalJSONResponse([])  # [INF: GoVP-invoices by analogy]

    async def post_trans_file(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body(), parse_float=Decimal)
        except ValueError as exc:
            raise SandboxRejection("The request body is not valid JSON.") from exc
        parms = body.get("parms") if isinstance(body, dict) else None
        # An object [DOC: PM-Post] or a list of objects [3P: Rail-XeroCR] are both accepted.
        items = parms if isinstance(parms, list) else [parms]
        if not items or not all(isinstance(p, dict) for p in items):
            raise SandboxRejection("parms is required.")
        results = []
        for p in items:
            trans_type = str(p.get("transtype") or "").upper()
            if trans_type not in TIERS:
                raise SandboxRejection(f"Transaction type '{trans_type}' is not supported.")
            results.append(
                self.store.post_file(trans_type, str(p.get("batch") or ""), p.get("period"))
            )
        self.stats["posted"] += len(results)
        return Response(_post_response(results), media_type="application/json")

    async def ledger(self, request: Request) -> Response:
        trans_type = request.path_params["trans_type"].upper()  # [3P: GoVP-gl]
        rows = list(self.store.ledger.get(trans_type, []))
        return DecimalJSONResponse(apply_query(request, rows, ledger=True))

    # ---- admin ------------------------------------------------------------------------------
    async def admin_faults(self, request: Request) -> Response:
        body = await request.json()
        spec = body.get("spec", "")
        for name, arm in FaultPlan.parse(spec)._arms.items():
            self.faults.arm(name, count=arm.count, probability=arm.probability)
        for name in body.get("disarm", []):
            self.faults.disarm(name)
        return DecimalJSONResponse({"armed": self.faults.armed()})

    async def admin_reset(self, request: Request) -> Response:
        self.reset()
        return DecimalJSONResponse({"reset": True})

    async def admin_batches(self, request: Request) -> Response:
        return DecimalJSONResponse(self.store.dump_batches())

    async def admin_stats(self, request: Request) -> Response:
        return DecimalJSONResponse(
            {
                "stats": dict(self.stats),
                "faults_fired": dict(self.faults.fired),
                "faults_armed": self.faults.armed(),
                "next_post_seq": self.store.next_post_seq,
            }
        )

    async def admin_period(self, request: Request) -> Response:
        body = await request.json()
        number = int(request.path_params["period"])
        try:
            self.store.set_closed(number, bool(body.get("closed")))
        except SandboxRejection as rej:
            return _error(rej.message, rej.status)
        return DecimalJSONResponse([r for r in self.store.period_rows() if r["Period"] == number])


def _oauth_error(error: str, description: str) -> Response:
    # OAuth error shape, HTTP 400 [3P: GoVP-errors, GoVP-errors_test]. Never echoes the form.
    return DecimalJSONResponse({"error": error, "error_description": description}, 400)


def _post_response(results: list[dict[str, Any]]) -> str:
    """The double-encoded PostTransFile body [DOC: PM-Post]: a JSON string holding JSON with
    pipe-joined lists, CRLF line breaks and, as in Deltek's own example, one missing comma."""
    msgs = [
        f"{_TYPE_NAMES[r['type']]} file {r['description']}; {r['count']} of {r['count']} "
        f"records posted; Posting sequence {r['postseq']}"
        for r in results
    ]
    inner = (
        "{\r\n"
        f'  "typeList": "{"|".join(r["type"] for r in results)}",\r\n'
        f'  "batchList": "{"|".join(r["batch"] for r in results)}",\r\n'
        f'  "retList": "{"|".join("1" for _ in results)}",\r\n'
        f'  "periodList": "{"|".join(str(r["period"]) for r in results)}",\r\n'
        # No comma after postseqList: Deltek's example lacks one too [DOC: PM-Post].
        f'  "postseqList": "{"|".join(str(r["postseq"]) for r in results)}"\r\n'
        f'  "msg": {json.dumps("[CRLF]".join(msgs))}\r\n'
        "}"
    )
    return json.dumps(inner)


_TYPE_NAMES = {"JE": "Journal Entries", "IN": "Invoices"}


def build_deltek_app(
    *,
    username: str = DEMO_USERNAME,
    password: str = DEMO_PASSWORD,
    database: str = DEMO_DATABASE,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    periods: list[dict[str, Any]] | None = None,
    token_ttl: float = DEFAULT_TOKEN_TTL,
    speed: float = 1.0,
    faults: FaultPlan | None = None,
    state_file: Path | str | None = None,
    prefix: str = DEFAULT_PREFIX,
    slow_seconds: float = 3.0,
    missing_record: str = "404",
    strict_balance_on_create: bool = True,
) -> Starlette:
    """The sandbox tenant as an ASGI app; ``app.state.sandbox`` gives tests the store.

    ``periods`` are dicts ``{"period": 202606, "start": "2026-06-01", "end": "2026-06-30",
    "closed": False}`` (see ``deltek_store.monthly_periods``). ``speed`` divides the token
    lifetime and the slow-response delay. ``missing_record`` is ``"404"`` or ``"empty"``:
    how an unknown key answers (undocumented, so both are testable).
    """

    if speed <= 0 or token_ttl <= 0:
        raise ValueError("speed and token_ttl must be > 0")
    if missing_record not in ("404", "empty"):
        raise ValueError("missing_record must be '404' or 'empty'")

    def store_factory() -> DeltekStore:
        return seeded_store(
            periods=periods,
            state_file=Path(state_file) if state_file else None,
            strict_balance_on_create=strict_balance_on_create,
        )

    sb = DeltekSandbox(
        username=username,
        password=password,
        database=database,
        client_id=client_id,
        client_secret=client_secret,
        store_factory=store_factory,
        token_ttl=token_ttl,
        speed=speed,
        faults=faults or FaultPlan(),
        slow_seconds=slow_seconds,
        missing_record=missing_record,
    )
    api = sb.api
    tenant = [
        Route("/token", api(sb.token, name="token", auth=False), methods=["POST"]),
        Route("/Settings/Period", api(sb.periods, name="periods"), methods=["GET"]),
        Route("/Settings/ActivePeriod", api(sb.active_period, name="active"), methods=["GET"]),
        Route(
            "/Settings/ActivePeriod/{period:int}",
            api(sb.set_active_period, name="set_active", mutates=True),
            methods=["PUT"],
        ),
        Route("/project", api(sb.projects, name="projects"), methods=["GET"]),
        Route("/project/{wbs1}", api(sb.project, name="project"), methods=["GET"]),
        Route("/Accounts", api(sb.accounts, name="accounts"), methods=["GET"]),
        Route("/organization", api(sb.organizations, name="orgs"), methods=["GET"]),
        Route("/organization/{org}", api(sb.organizations, name="org"), methods=["GET"]),
        Route(
            "/DataEntry/PostTransFile",
            api(sb.post_trans_file, name="post", mutates=True),
            methods=["PUT"],
        ),
        Route(
            "/DataEntry/{table}",
            api(sb.create_file, name="create", mutates=True),
            methods=["POST"],
        ),
        Route("/DataEntry/{table}", api(sb.landing, name="landing"), methods=["GET"]),
        Route("/DataEntry/{table}/{batch}", api(sb.read_file, name="read"), methods=["GET"]),
        Route(
            "/DataEntry/{table}/{batch}",
            api(sb.delete_file, name="delete", mutates=True),
            methods=["DELETE"],
        ),
        Route("/PSALedger/{trans_type}", api(sb.ledger, name="ledger"), methods=["GET"]),
    ]
    admin = [
        Route("/faults", sb.admin_faults, methods=["POST"]),
        Route("/reset", sb.admin_reset, methods=["POST"]),
        Route("/batches", sb.admin_batches, methods=["GET"]),
        Route("/stats", sb.admin_stats, methods=["GET"]),
        Route("/periods/{period:int}", sb.admin_period, methods=["POST"]),
    ]
    app = Starlette(
        routes=[Mount(prefix.rstrip("/"), routes=tenant), Mount("/_sandbox", routes=admin)]
    )
    app.state.sandbox = sb
    return app
