"""Run an ASGI app as a real HTTP server on 127.0.0.1 in a background thread.

Every sandbox (SP-API, Workday, Deltek) is served this way, so tests and the demo talk to
real sockets. The sandboxes never listen on anything but loopback.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

LOOPBACK = "127.0.0.1"


class _QuietServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the host process owns signals
        pass


class BackgroundServer:
    """A uvicorn server on an ephemeral (or given) loopback port."""

    def __init__(self, app: object, *, port: int = 0, name: str = "sandbox") -> None:
        self.name = name
        self.app = app
        config = uvicorn.Config(
            app,  # type: ignore[arg-type]
            host=LOOPBACK,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=5,
        )
        self._server = _QuietServer(config)
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{self.name} server is not started")
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} server did not start")
            time.sleep(0.01)
        sock = self._server.servers[0].sockets[0]
        self.port = sock.getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
