"""Log redaction goes in when the code location loads, and learns secrets met at run time."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from mlc_assets.config import DeltekSettings, Settings
from mlc_assets.secrets.process_redaction import (
    learn_secrets,
    redact_this_process,
    stop_redacting_this_process,
)

PASSWORD = "Pw-7f3a9c1e-DELTEK"
LATE_SECRET = "late-secret-41b8d2"


@pytest.fixture
def redacting() -> Iterator[None]:
    settings = Settings(deltek=DeltekSettings(password=SecretStr(PASSWORD)))  # type: ignore[call-arg]
    redact_this_process(settings)
    try:
        yield
    finally:
        stop_redacting_this_process()


def test_dagster_and_other_loggers_are_redacted(
    redacting: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("dagster").info("connecting with %s", PASSWORD)
        logging.getLogger("mlc.anything").warning(f"inline {PASSWORD}")
    text = caplog.text
    assert PASSWORD not in text
    assert text.count("***") == 2


def test_secrets_learned_later_are_redacted_and_nothing_before_installation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    learn_secrets(LATE_SECRET)  # no redactor yet: a no-op, not an error
    with caplog.at_level(logging.INFO):
        logging.getLogger("dagster").info(LATE_SECRET)
    assert LATE_SECRET in caplog.text
    caplog.clear()
    redact_this_process(Settings())  # type: ignore[call-arg]
    try:
        learn_secrets(LATE_SECRET)
        with caplog.at_level(logging.INFO):
            logging.getLogger("dagster").info("token %s", LATE_SECRET)
        assert LATE_SECRET not in caplog.text
        assert "token ***" in caplog.text
    finally:
        stop_redacting_this_process()


def test_loading_the_code_location_installs_redaction(tmp_path: object) -> None:
    """A fresh interpreter, as Dagster's code server starts one: import the definitions, log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLC_")}
    env |= {"MLC_DATA_HOME": str(tmp_path), "MLC_DELTEK__PASSWORD": PASSWORD}
    code = (
        "import logging, sys\n"
        "logging.basicConfig(stream=sys.stderr, level=logging.INFO)\n"
        "import mlc_assets.definitions\n"
        f"logging.getLogger('dagster').error('login failed for password %s', {PASSWORD!r})\n"
        "try:\n"
        f"    raise RuntimeError('bad password {PASSWORD}')\n"
        "except RuntimeError:\n"
        "    logging.getLogger('dagster').exception('boom')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "login failed for password ***" in done.stderr
    assert "RuntimeError: bad password ***" in done.stderr
    assert PASSWORD not in done.stderr + done.stdout
