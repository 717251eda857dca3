"""The Dagster code location (``dg dev``, ``dagster-webserver``, the daemon load this module).

Settings are resolved once, here, from the environment and the encrypted store; everything
else is wired in ``build.py``.
"""

from __future__ import annotations

from mlc_assets.build import REFERENCE_JOB, SETTLEMENT_JOB, build_definitions
from mlc_assets.config import Settings
from mlc_assets.resources.settings import plain_settings, resolve_settings
from mlc_assets.secrets.process_redaction import redact_this_process

__all__ = ["REFERENCE_JOB", "SETTLEMENT_JOB", "build_definitions", "defs"]

_from_env = Settings()
_settings = resolve_settings(_from_env.data_home, plain_settings(_from_env))
# Before anything logs: every process that loads the code location redacts its log records.
redact_this_process(_settings)
defs = build_definitions(_settings)
