"""Deltek REST as the sandbox speaks it: demo credentials, exact JSON, errors, filter queries."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlc_assets.sandbox.deltek_store import (
    SandboxRejection,
)

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
