"""The Deltek sandbox as an ASGI app: its routes and admin endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from mlc_assets.sandbox.deltek_app.tenant import DeltekSandbox
from mlc_assets.sandbox.deltek_app.wire import (
    DEFAULT_PREFIX,
    DEFAULT_TOKEN_TTL,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_DATABASE,
    DEMO_PASSWORD,
    DEMO_USERNAME,
)
from mlc_assets.sandbox.deltek_store import (
    DeltekStore,
    seeded_store,
)
from mlc_assets.sandbox.faults import FaultPlan


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
