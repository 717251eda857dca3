"""Settings resolved once, carried by a Dagster resource every other resource depends on.

Plain settings (data home, targets, sandbox size, posting modes, companies…) are resolved when
the code location loads and travel as this resource's config, so the Dagster UI shows them and
a run uses exactly what its definitions were built with (``mlc demo`` passes its own instead of
editing the environment). Secrets never enter Dagster config: they come from the environment or
the encrypted store of the *same* data home, resolved once per process and again only when the
store file changes (a rotated credential reaches a long-lived code server without a restart).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel, Field

from mlc_assets.config import Settings
from mlc_assets.secrets.process_redaction import learn_secrets
from mlc_assets.secrets.redact import secret_values
from mlc_assets.secrets.store import credentials_path, is_secret, overlay_stored_credentials

_lock = threading.Lock()
_resolved: dict[tuple[Any, ...], Settings] = {}
# How many times settings were actually resolved (env + store read) in this process.
resolutions = 0


def plain_settings(settings: Settings) -> dict[str, Any]:
    """What was set explicitly, minus every secret: safe to show as Dagster config."""

    def strip(model: BaseModel) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in model.model_fields_set:
            if is_secret(type(model), name):
                continue
            value = getattr(model, name)
            out[name] = strip(value) if isinstance(value, BaseModel) else value
        return out

    return json.loads(json.dumps(strip(settings), default=str))


def _store_stamp(data_home: Path) -> tuple[int, int] | None:
    try:
        st = credentials_path(data_home).stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _key(home: Path, plain: dict[str, Any] | None) -> tuple[Any, ...]:
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("MLC_")))
    return (str(home), json.dumps(plain or {}, sort_keys=True), env, _store_stamp(home))


def resolve_settings(data_home: str | Path, plain: dict[str, Any] | None = None) -> Settings:
    """Settings for ``data_home``: ``plain`` over the environment, credentials the environment
    leaves unset from that data home's store. Cached per process until the inputs change."""
    global resolutions
    home = Path(data_home)
    key = _key(home, plain)
    with _lock:
        cached = _resolved.get(key)
        if cached is not None:
            return cached
        settings = overlay_stored_credentials(Settings(**{**(plain or {}), "data_home": home}))
        resolutions += 1
        # Secrets read from the store join the process's log redaction.
        learn_secrets(*secret_values(settings))
        if len(_resolved) > 8:  # a changed store or env replaces entries, never grows
            _resolved.clear()
        _resolved[key] = settings
        return settings


class SettingsResource(dg.ConfigurableResource):
    """The connector's settings: plain values as config, secrets from env or the store."""

    data_home: str = Field(description="The connector's data home.")
    plain: dict[str, Any] = Field(
        default_factory=dict,
        description="Plain (non-secret) settings resolved when the code location loaded.",
    )

    @classmethod
    def of(cls, settings: Settings) -> SettingsResource:
        """The resource for settings already resolved (they are what it hands out until the
        environment or the store changes: no second resolution)."""
        plain = plain_settings(settings)
        plain.pop("data_home", None)
        home = Path(settings.data_home).resolve()
        with _lock:
            _resolved[_key(home, plain)] = settings.model_copy(update={"data_home": home})
        return cls(data_home=str(home), plain=plain)

    def get(self) -> Settings:
        return resolve_settings(self.data_home, self.plain)
