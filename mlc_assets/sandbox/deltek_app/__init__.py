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

from mlc_assets.sandbox.deltek_app.app import (
    build_deltek_app,
)
from mlc_assets.sandbox.deltek_app.tenant import (
    _TYPE_NAMES,
    DeltekSandbox,
    _oauth_error,
    _post_response,
)
from mlc_assets.sandbox.deltek_app.wire import (
    _DEC,
    _DEC_RE,
    _FH_RE,
    DEFAULT_PREFIX,
    DEFAULT_TOKEN_TTL,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_DATABASE,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    HTML_502,
    DecimalJSONResponse,
    Handler,
    _cmp_values,
    _error,
    _mark,
    _matches,
    apply_query,
    dumps,
    parse_filter_hash,
)

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_TOKEN_TTL",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_DATABASE",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "HTML_502",
    "_DEC",
    "_DEC_RE",
    "_FH_RE",
    "_TYPE_NAMES",
    "DecimalJSONResponse",
    "DeltekSandbox",
    "Handler",
    "_cmp_values",
    "_error",
    "_mark",
    "_matches",
    "_oauth_error",
    "_post_response",
    "apply_query",
    "build_deltek_app",
    "dumps",
    "parse_filter_hash",
]
