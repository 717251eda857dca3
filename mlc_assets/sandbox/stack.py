"""The whole sandbox as one object: a simulated seller behind real loopback HTTP servers.

Amazon is two hosts (LWA at api.amazon.com, SP-API per region), so the stack runs two
servers. SP-API operation families (Reports, Finances) are route factories mounted on the
one SP-API app (``SPAPI_ROUTE_FACTORIES``); the ERPs (Workday, Deltek) are separate servers,
as in real life (``erp_servers``); a test can add its own with :meth:`SandboxStack.add_server`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from mlc_assets.sandbox.erp_servers import deltek_server, workday_server
from mlc_assets.sandbox.faults import FaultPlan, check_fault_names
from mlc_assets.sandbox.finances_routes import finance_routes
from mlc_assets.sandbox.generator import SETTLEMENT_DAYS, generate_seller
from mlc_assets.sandbox.ledger import SimulatedSeller
from mlc_assets.sandbox.lwa_app import DEFAULT_TOKEN_TTL, LwaCredentials, TokenStore, build_lwa_app
from mlc_assets.sandbox.ratelimit import RateLimiter, SandboxCounters
from mlc_assets.sandbox.reports_routes import reports_routes
from mlc_assets.sandbox.server import BackgroundServer
from mlc_assets.sandbox.spapi_app import RouteFactory, SpApiContext, build_spapi_app

SPAPI_ROUTE_FACTORIES: list[RouteFactory] = [reports_routes, finance_routes]
DOCUMENT_URL_TTL = 300.0


class SandboxStack:
    """Build the seller, start LWA + SP-API (+ registered) servers, publish URLs/credentials.

    ``speed`` multiplies rate limits and divides the token and document-URL lifetimes, so a
    test at speed 1000 sees a 3.6 s token and a 0.3 s download URL.
    """

    def __init__(
        self,
        seed: int = 7,
        settlements: int = 6,
        speed: float = 1.0,
        faults: FaultPlan | str | None = None,
        *,
        seller: SimulatedSeller | None = None,
        token_ttl: float | None = None,
        url_ttl: float | None = None,
        slow_seconds: float = 3.0,
        lines_scale: int = 1,
        now: datetime | None = None,
        spapi_port: int = 0,
        lwa_port: int = 0,
        route_factories: Sequence[RouteFactory] | None = None,
        data_home: Path | str | None = None,
        erps: bool = True,
        settlement_days: int = SETTLEMENT_DAYS,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.seed = seed
        # Where stateful sandboxes (ERP stand-ins) keep what was posted across restarts.
        self.data_home = Path(data_home) if data_home is not None else None
        self.speed = speed
        self.seller = seller or generate_seller(
            seed, settlements, lines_scale=lines_scale, now=now, settlement_days=settlement_days
        )
        self.faults = (
            faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults, seed=seed)
        )
        check_fault_names(self.faults)
        self.counters = SandboxCounters()
        self.lwa_credentials = LwaCredentials()
        self.tokens = TokenStore(
            ttl=token_ttl if token_ttl is not None else DEFAULT_TOKEN_TTL / speed
        )
        self.context = SpApiContext(
            seller=self.seller,
            tokens=self.tokens,
            limiter=RateLimiter(speed=speed),
            faults=self.faults,
            counters=self.counters,
            speed=speed,
            slow_seconds=slow_seconds,
            url_ttl=url_ttl if url_ttl is not None else DOCUMENT_URL_TTL / speed,
        )
        if now is not None:
            fixed = now
            self.context.now = lambda: fixed
        factories = list(SPAPI_ROUTE_FACTORIES if route_factories is None else route_factories)
        self._servers: dict[str, BackgroundServer] = {
            "lwa": BackgroundServer(
                build_lwa_app(self.tokens, self.lwa_credentials, self.counters),
                port=lwa_port,
                name="sandbox-lwa",
            ),
            "spapi": BackgroundServer(
                build_spapi_app(self.context, factories), port=spapi_port, name="sandbox-spapi"
            ),
        }
        self._extra_endpoints: dict[str, Callable[[str], dict[str, str]]] = {}
        self._extra_credentials: dict[str, Any] = {}
        self._started = False
        if erps:
            for erp in (
                deltek_server(self.faults, speed=speed, data_home=self.data_home),
                workday_server(self.faults, data_home=self.data_home),
            ):
                self.add_server(
                    erp.name, erp.app, endpoints=erp.endpoints, credentials=erp.credentials
                )

    # -- servers beside SP-API and LWA --------------------------------------------------

    def add_server(
        self,
        name: str,
        app: Any,
        *,
        endpoints: Callable[[str], dict[str, str]] | None = None,
        credentials: dict[str, Any] | None = None,
        port: int = 0,
    ) -> None:
        """Register another sandbox server (e.g. Workday, Deltek) to start with the stack.

        ``endpoints(base_url)`` returns the entries to publish (default ``{name: base_url}``).
        """
        if self._started:
            raise RuntimeError("add servers before start()")
        if name in self._servers:
            raise ValueError(f"server {name!r} already registered")
        self._servers[name] = BackgroundServer(app, port=port, name=f"sandbox-{name}")
        self._extra_endpoints[name] = endpoints or (lambda url, n=name: {n: url})
        if credentials:
            self._extra_credentials[name] = credentials

    def app(self, name: str) -> Any:
        """The app of one server (tests reach a sandbox's state through it)."""
        return self._servers[name].app

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> SandboxStack:
        started: list[BackgroundServer] = []
        try:
            for server in self._servers.values():
                server.start()
                started.append(server)
        except BaseException:
            for server in reversed(started):
                server.stop()
            raise
        self.context.base_url = self._servers["spapi"].url
        self._started = True
        return self

    def stop(self) -> None:
        for server in reversed(list(self._servers.values())):
            if server.port is not None:
                server.stop()
        self._started = False

    def __enter__(self) -> SandboxStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need ------------------------------------------------------------

    def url(self, name: str) -> str:
        return self._servers[name].url

    @property
    def endpoints(self) -> dict[str, str]:
        spapi = self._servers["spapi"].url
        out = {
            "lwa": self._servers["lwa"].url + "/auth/o2/token",
            "spapi": spapi,
            "sandbox_admin": spapi + "/_sandbox",
        }
        for name, publish in self._extra_endpoints.items():
            out.update(publish(self._servers[name].url))
        return out

    @property
    def credentials(self) -> dict[str, Any]:
        c = self.lwa_credentials
        out: dict[str, Any] = {
            "lwa_client_id": c.client_id,
            "lwa_client_secret": c.client_secret,
            "refresh_token": c.refresh_token,
            "seller_id": self.seller.seller_id,
            "marketplace_ids": list(self.seller.marketplaces),
        }
        out.update(self._extra_credentials)
        return out
