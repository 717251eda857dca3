"""Property tests: whatever a Vantagepoint tenant answers, the client raises a typed DeltekError
naming the endpoint, and never repeats the password, client secret or tokens.

A real DeltekClient talks over a loopback socket to a tiny starlette app (one server per
module) whose answer per endpoint is set per example: documented answers as seeds for the
token grant, period list, active period, PSALedger and DataEntry lookups and the double
encoded PostTransFile answer, then one of them damaged (JSON mutated, truncated, replaced by
HTML, plain text, random bytes, deep nesting, an echo of the credentials; any status code and
content type).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mlc_assets.clients.deltek import DeltekClient, DeltekCredentials
from mlc_assets.clients.deltek.errors import DeltekError
from mlc_assets.clients.retry import RetryPolicy
from mlc_assets.sandbox.server import BackgroundServer

PASSWORD = "pw-Sup3rSecret!"
CLIENT_SECRET = "cs-An0therSecret"
TOKEN = "at-T0kenValue123"
REFRESH = "rt-Refr3shValue456"
SECRETS = (PASSWORD, CLIENT_SECRET, TOKEN, REFRESH)
# Fuzzed 5xx answers are retried: keep that cheap.
QUICK = RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.002, max_total=5.0)

POST_ANSWER = {
    "typeList": "JE",
    "batchList": "B1",
    "retList": "1",
    "periodList": "202601",
    "postseqList": "7",
    "msg": "1 of 1 records posted for B1",
}
SEEDS: dict[str, Any] = {
    "/token": {
        "access_token": TOKEN,
        "token_type": "bearer",
        "expires_in": 1799,
        "refresh_token": REFRESH,
    },
    "/Settings/Period": [
        {
            "Period": 202601,
            "FmtPeriod": "01/2026",
            "AccountPdStart": "2026-01-01T00:00:00",
            "AccountPdEnd": "2026-01-31T00:00:00",
            "ActiveCompanyClosed": "N",
        }
    ],
    "/Settings/ActivePeriod": [{"Period": 202601}],
    "/PSALedger/JE": [
        {
            "Batch": "B1",
            "PostSeq": 7,
            "Period": 202601,
            "Account": "4000.00",
            "Amount": Decimal("-10.00"),
            "Desc1": "AMZ",
            "PKey": "k1",
        }
    ],
    "/DataEntry/jeControl/B1": [{"Batch": "B1", "Posted": "N", "Period": 202601}],
    "/DataEntry/jeDetail/B1": [
        {"Account": "4000.00", "DebitAmount": Decimal("10.00"), "CreditAmount": 0}
    ],
    # A JSON string holding JSON [DOC: PM-Post].
    "/DataEntry/PostTransFile": json.dumps(json.dumps(POST_ANSWER)),
}
# What each operation reads, and a word its errors must contain to name the endpoint.
OPERATIONS: dict[str, tuple[Callable[[DeltekClient], Any], tuple[str, ...]]] = {
    "token": (lambda c: c.tokens.access_token(), ("token",)),
    "list_periods": (lambda c: c.list_periods(), ("period", "token")),
    "active_period": (lambda c: c.active_period(), ("period", "token")),
    "find_batch": (lambda c: c.find_batch("B1"), ("ledger", "lookup", "token")),
    "post_batch": (
        lambda c: c.post_batch("B1", period=202601),
        ("posting", "post", "ledger", "lookup", "token"),
    ),
}


@dataclass
class Answer:
    status: int = 200
    content_type: str = "application/json"
    body: bytes = b""


@dataclass
class Script:
    """What the fake tenant answers: seeds, except ``damaged`` for one endpoint."""

    damaged_path: str = ""
    damaged: Answer = field(default_factory=Answer)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> Answer:
        with self.lock:
            if path == self.damaged_path:
                return self.damaged
        seed = SEEDS.get(path)
        if seed is None:
            return Answer(404, "application/json", b'{"Message": "not found"}')
        text = seed if isinstance(seed, str) else json.dumps(seed, default=str)
        # Money as JSON numbers, as Deltek sends it.
        return Answer(200, "application/json", text.replace('"-10.00"', "-10.00").encode())


SCRIPT = Script()


async def _handle(request: Request) -> Response:
    path = "/" + request.path_params["path"].removeprefix("api/")
    a = SCRIPT.answer(path)
    return Response(a.body, status_code=a.status, headers={"content-type": a.content_type})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = Starlette(
        routes=[Route("/{path:path}", _handle, methods=["GET", "POST", "PUT", "DELETE"])]
    )
    server = BackgroundServer(app, name="deltek-fuzz").start()
    yield server.url + "/api"
    server.stop()


def make_client(base_url: str) -> DeltekClient:
    creds = DeltekCredentials(
        username="api-user",
        password=SecretStr(PASSWORD),
        database="DB",
        client_id="cid",
        client_secret=SecretStr(CLIENT_SECRET),
    )
    return DeltekClient(base_url, creds, retry=QUICK)


# ---------------------------------------------------------------- damage

junk_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.decimals(allow_nan=False, allow_infinity=False, places=None)
    | st.text(max_size=10)
    | st.sampled_from(["", "Y", "N", "B1", "NaN", "1e400", "2026-13-01", TOKEN, PASSWORD]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["Period", "Batch", "msg", "x", "Amount"]), children, max_size=3
        )
    ),
    max_leaves=6,
)


def _mutate(draw: st.DrawFn, value: Any) -> Any:
    """Replace or drop one node of a JSON value."""
    nodes: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            nodes += [(node, k) for k in node]
            stack += list(node.values())
        elif isinstance(node, list):
            nodes += [(node, i) for i in range(len(node))]
            stack += node
    if not nodes:
        return draw(junk_json)
    parent, key = draw(st.sampled_from(nodes))
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[key]
    else:
        parent[key] = draw(junk_json)
    return value


def _json_text(value: Any) -> str:
    return json.dumps(value, default=str)


@st.composite
def damaged_answers(draw: st.DrawFn) -> tuple[str, Answer]:
    path = draw(st.sampled_from(sorted(SEEDS)))
    seed = SEEDS[path]
    kind = draw(st.sampled_from(["mutate", "mutate", "truncate", "raw", "post_inner"]))
    if kind == "mutate" and not isinstance(seed, str):
        body = _json_text(_mutate(draw, json.loads(_json_text(seed))))
    elif kind == "post_inner" or (kind == "mutate" and isinstance(seed, str)):
        inner = _mutate(draw, dict(POST_ANSWER))
        body = draw(
            st.sampled_from(
                [json.dumps(json.dumps(inner, default=str)), json.dumps(inner, default=str)]
            )
        )
    elif kind == "truncate":
        text = seed if isinstance(seed, str) else _json_text(seed)
        body = text[: draw(st.integers(0, len(text)))]
    else:
        body = draw(
            st.sampled_from(
                [
                    "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                    "<html><body><h1>Login</h1><form>password="
                    + PASSWORD
                    + "</form></body></html>",
                    f'{{"Message": "invalid password {PASSWORD} for Bearer {TOKEN}"}}',
                    f'{{"error": "invalid_grant", "error_description": "refresh_token={REFRESH}"}}',
                    f"client_secret={CLIENT_SECRET}&access_token={TOKEN}",
                    "[" * 100_000,
                    '"' + "\\x" * 3 + '"',
                    '"{\\"batchList\\": \\"B1\\", \\"msg\\": \\"\\\\q\\"}"',
                    "null",
                    "",
                    "Period 202601 is closed",
                    "already exists",
                ]
            )
            | st.text(max_size=60)
        )
    status = draw(
        st.sampled_from([200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502])
    )
    ctype = draw(
        st.sampled_from(
            [
                "application/json",
                "text/html",
                "text/plain",
                "application/json; charset=latin-1",
                "application/xml",
                "application/json; charset=nonsense",
            ]
        )
    )
    raw = body.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        raw = draw(st.binary(max_size=40))
    if status == 204:
        raw = b""  # HTTP forbids a 204 body; the server would cut the connection instead
    return path, Answer(status, ctype, raw)


def assert_typed(base_url: str, operation: str, path: str, answer: Answer) -> None:
    with SCRIPT.lock:
        SCRIPT.damaged_path, SCRIPT.damaged = path, answer
    call, names = OPERATIONS[operation]
    with make_client(base_url) as client:
        try:
            call(client)
        except DeltekError as exc:
            message = str(exc)
            for secret in SECRETS:
                assert secret not in message, f"{operation}: secret leaked: {message}"
                assert secret not in repr(exc)
            assert message.startswith("Deltek") or any(n in message.lower() for n in names), message
            assert any(n in message.lower() for n in names), f"{operation}: {message}"
        # Anything else (KeyError, ValueError, TypeError, RecursionError...) fails the test.


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(sorted(OPERATIONS)), damaged_answers())
@example(
    "list_periods", ("/Settings/Period", Answer(200, "application/json", b'[{"Period": null}]'))
)
@example(
    "active_period",
    ("/Settings/ActivePeriod", Answer(200, "application/json", b'[{"Period": "x"}]')),
)
@example(
    "find_batch",
    ("/PSALedger/JE", Answer(200, "application/json", b'[{"Batch": "B1", "PostSeq": "seven"}]')),
)
@example(
    "find_batch",
    ("/PSALedger/JE", Answer(200, "application/json", b'[{"Batch": "B1", "Amount": 1e400}]')),
)
@example(
    "post_batch",
    (
        "/DataEntry/PostTransFile",
        Answer(200, "application/json", b'"{\\"batchList\\": \\"B1\\", \\"msg\\": \\"\\\\q\\"}"'),
    ),
)
@example("list_periods", ("/Settings/Period", Answer(200, "application/json", b"[" * 100_000)))
@example("token", ("/token", Answer(200, "application/json", b'{"access_token": null}')))
@example(  # a token answer with an unexpected status: its refresh token was echoed in the error
    "token", ("/token", Answer(201, "application/json", json.dumps(SEEDS["/token"]).encode()))
)
@example(
    "token",
    ("/token", Answer(200, "application/json", b'{"access_token": "a", "expires_in": "NaN"}')),
)
def test_any_answer_gives_a_typed_error_naming_the_endpoint(
    base_url: str, operation: str, damaged: tuple[str, Answer]
) -> None:
    assert_typed(base_url, operation, *damaged)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_seed_answers_work(base_url: str, operation: str) -> None:
    with SCRIPT.lock:
        SCRIPT.damaged_path = ""
    call, _ = OPERATIONS[operation]
    with make_client(base_url) as client:
        result = call(client)
    if operation == "post_batch":
        assert (result.batch, result.period, result.posting_sequence) == ("B1", 202601, 7)
    elif operation == "find_batch":
        assert result.posted and result.lines[0].amount == Decimal("-10.00")
    elif operation == "token":
        assert result == TOKEN
    else:
        assert result
