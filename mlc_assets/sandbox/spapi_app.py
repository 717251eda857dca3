"""The SP-API stand-in: shared request pipeline plus pluggable operation routes.

Every SP-API operation goes through :func:`operation`, which applies what Amazon applies to
all of them, in order: access-token check (403), injected faults, the operation's token
bucket (429), then the handler; and the header rules of docs/reference/amazon/NOTES.md §8
(``x-amzn-RequestId``
always, ``x-amzn-RateLimit-Limit`` on 2xx/400/404 only). Operation families (Reports here,
Finances later) are *route factories* ``(ctx) -> list[BaseRoute]`` so they all share one
app, one token store and one set of buckets, like one real seller account.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlc_assets.sandbox.faults import FaultPlan
from mlc_assets.sandbox.ledger import SimulatedSeller
from mlc_assets.sandbox.lwa_app import TokenStore
from mlc_assets.sandbox.ratelimit import RateLimiter, SandboxCounters

Handler = Callable[[Request], Awaitable[Response]]
RouteFactory = Callable[["SpApiContext"], list[BaseRoute]]


@dataclass
class SpApiContext:
    """Everything an operation handler may need; one per sandbox seller account."""

    seller: SimulatedSeller
    tokens: TokenStore
    limiter: RateLimiter
    faults: FaultPlan
    counters: SandboxCounters
    speed: float = 1.0
    slow_seconds: float = 3.0
    url_ttl: float = 300.0
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    base_url: str = ""  # filled in once the server knows its port
    extras: dict[str, Any] = field(default_factory=dict)  # per-family state


def error_body(code: str, message: str, details: str = "") -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def spapi_error(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def invalid_input(message: str) -> JSONResponse:
    return spapi_error(400, "InvalidInput", message)


def not_found(message: str) -> JSONResponse:
    return spapi_error(404, "NotFound", message)


class _ResetResponse(Response):
    """Starts a response, sends part of the body, then drops the connection.

    The declared Content-Length is never met, so the server closes the socket and an HTTP
    client sees a protocol/read error — the same thing a mid-response TCP reset causes.
    """

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"payload": {', "more_body": True})
        # Returning with the body incomplete makes uvicorn close the transport.


def _throttled() -> JSONResponse:
    return spapi_error(
        429,
        "QuotaExceeded",
        "You exceeded your quota for the requested resource.",
        headers={"x-amzn-ErrorType": "TooManyRequestsException"},
    )


def _denied(message: str) -> JSONResponse:
    return spapi_error(
        403, "Unauthorized", message, headers={"x-amzn-ErrorType": "AccessDeniedException"}
    )


async def apply_faults(ctx: SpApiContext, operation_name: str) -> Response | None:
    """Faults that can hit any SP-API operation; None when none fires."""
    faults = ctx.faults
    if faults.take("slow"):
        await asyncio.sleep(ctx.slow_seconds)
    if faults.take("reset"):
        return _ResetResponse()
    if faults.take("429"):
        ctx.counters.count_throttle(operation_name)
        return _throttled()
    if faults.take("500"):
        return spapi_error(
            500, "InternalFailure", "We encountered an internal error. Please try again."
        )
    if faults.take("503"):
        return spapi_error(
            503, "ServiceUnavailable", "Service temporarily unavailable. Please try again."
        )
    return None


def operation(ctx: SpApiContext, name: str) -> Callable[[Handler], Handler]:
    """Wrap a handler with the SP-API pipeline for operation ``name`` (see module doc)."""

    def decorate(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            ctx.counters.count_request(name)
            token = request.headers.get("x-amz-access-token")
            status = ctx.tokens.status(token)
            if status == "valid" and ctx.faults.take("expire_token"):
                ctx.tokens.expire_all()
                status = "expired"
            if status == "expired":
                return _denied("The access token you provided has expired.")
            if status != "valid":
                return _denied("Access to requested resource is denied.")
            fault = await apply_faults(ctx, name)
            if fault is not None:
                return fault
            if not ctx.limiter.try_acquire(name):
                ctx.counters.count_throttle(name)
                return _throttled()
            response = await handler(request)
            if response.status_code < 300 or response.status_code in (400, 404):
                response.headers["x-amzn-RateLimit-Limit"] = ctx.limiter.header_value(name)
            return response

        wrapped.__name__ = handler.__name__
        return wrapped

    return decorate


class RequestIdMiddleware:
    """Adds ``x-amzn-RequestId`` to every response and counts statuses."""

    def __init__(self, app: ASGIApp, counters: SandboxCounters) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-amzn-requestid" for k, _ in headers):
                    headers.append((b"x-amzn-RequestId", str(uuid.uuid4()).encode()))
                message = {**message, "headers": headers}
                self.counters.count_status(int(message["status"]))
            await send(message)

        await self.app(scope, receive, send_with_id)


def admin_routes(ctx: SpApiContext) -> list[BaseRoute]:
    """``/_sandbox/*``: not part of SP-API; lets tests and other processes steer the sandbox."""

    async def stats(request: Request) -> JSONResponse:
        snap = ctx.counters.snapshot()
        snap["faults_fired"] = dict(ctx.faults.fired)
        snap["faults_armed"] = ctx.faults.armed()
        snap["seller_id"] = ctx.seller.seller_id
        snap["speed"] = ctx.speed
        return JSONResponse(snap)

    async def arm_faults(request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", "replace").strip()
        if raw.startswith("{"):
            try:
                raw = str(json.loads(raw).get("spec", ""))
            except (ValueError, AttributeError):
                return PlainTextResponse('body must be a spec string or {"spec": ...}', 400)
        try:
            parsed = FaultPlan.parse(raw)
        except ValueError as exc:
            return PlainTextResponse(f"bad fault spec: {exc}", 400)
        for name, value in parsed.armed().items():
            if value.startswith("p="):
                ctx.faults.arm(name, probability=float(value[2:]))
            else:
                ctx.faults.arm(name, count=int(value))
        return JSONResponse({"armed": ctx.faults.armed()})

    return [
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/faults", arm_faults, methods=["POST"]),
    ]


def build_spapi_app(ctx: SpApiContext, factories: Sequence[RouteFactory]) -> ASGIApp:
    routes: list[BaseRoute] = admin_routes(ctx)
    for factory in factories:
        routes.extend(factory(ctx))

    async def unknown(request: Request, exc: Exception) -> Response:
        return spapi_error(404, "NotFound", "Resource not found.")

    app = Starlette(routes=routes, exception_handlers={404: unknown})
    return RequestIdMiddleware(app, ctx.counters)
