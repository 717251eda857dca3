"""The Deltek sandbox tenant: credentials, tokens, the store, faults, a handler per route."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mlc_assets.sandbox.deltek_app.wire import (
    HTML_502,
    DecimalJSONResponse,
    Handler,
    _error,
    apply_query,
)
from mlc_assets.sandbox.deltek_store import (
    TIERS,
    DeltekStore,
    SandboxRejection,
)
from mlc_assets.sandbox.dropped import DroppedResponse
from mlc_assets.sandbox.faults import FaultPlan


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
                return DroppedResponse("application/json", b"[{")
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
                return DroppedResponse("application/json", b"[{")
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
