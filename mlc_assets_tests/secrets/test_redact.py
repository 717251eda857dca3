"""Redaction of credential patterns and known secret values, in text, bytes and log records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from lxml import etree
from pydantic import SecretStr
from zeep.wsse.username import UsernameToken

from mlc_assets.config import AmazonSettings, DeltekSettings, Settings, WorkdaySettings
from mlc_assets.secrets.redact import (
    RedactingFilter,
    Redactor,
    install_log_redaction,
    secret_values,
    uninstall_log_redaction,
)

WD_PASSWORD = "Wd&Pa<ss>\"w0rd'"
DELTEK_SECRET = "dk-secret/+=?&%42"
LWA_SECRET = "amzn1.oa2-cs.v1.5e5e5e5e"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        amazon=AmazonSettings(
            lwa_client_id="amzn1.application-oa2-client.public",
            lwa_client_secret=SecretStr(LWA_SECRET),
            refresh_token=SecretStr("Atzr|IwEBrefresh"),
        ),
        workday=WorkdaySettings(isu_username="ISU_AMZ", isu_password=SecretStr(WD_PASSWORD)),
        deltek=DeltekSettings(username="api", client_secret=SecretStr(DELTEK_SECRET)),
    )


@pytest.fixture
def redactor(settings: Settings) -> Redactor:
    return Redactor.from_settings(settings)


def test_secret_values_walks_nested_settings(settings: Settings) -> None:
    assert sorted(secret_values(settings)) == sorted(
        [LWA_SECRET, "Atzr|IwEBrefresh", WD_PASSWORD, DELTEK_SECRET]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\nHost: x", "Authorization: ***\r"),
        ("headers: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig-_x", "headers: Bearer ***"),
        ("x-amz-access-token: Atza|IwEBIJabc-def_123", "x-amz-access-token: ***"),
        ("token Atza|IwEBIJabc-def_123 expired", "token Atza|*** expired"),
        ("refresh Atzr|IwEBIJxyz-0 used", "refresh Atzr|*** used"),
        ("body refresh_token=Atzr%7CIwEBxyz&x=1", "body refresh_token=***&x=1"),
        ("access_token=abc.def&token_type=bearer", "access_token=***&token_type=bearer"),
        ("grant_type=password&password=hunter22&user=a", "password=***&user=a"),
        ("client_id=abc&client_secret=s3cr3t", "client_id=abc&client_secret=***"),
        ('{"password": "hu\\"nter2", "user": "a"}', '{"password": "***", "user": "a"}'),
        ('{"access_token":"eyJ0","expires_in":3600}', '{"access_token":"***","expires_in":3600}'),
        ("{'client_secret': 'abc', 'id': 1}", "{'client_secret': '***', 'id': 1}"),
        ('{"isu_password": "x1"}', '{"isu_password": "***"}'),
        ("{'authorization': 'Bearer abc'}", "{'authorization': '***'}"),
        (
            '<wsse:Password Type="urn:x#PasswordText">p&amp;w</wsse:Password>',
            '<wsse:Password Type="urn:x#PasswordText">***</wsse:Password>',
        ),
        ("<Password>plain</Password>", "<Password>***</Password>"),
    ],
)
def test_patterns(text: str, expected: str) -> None:
    redacted = Redactor().redact_text(text)
    assert expected in redacted
    assert Redactor().redact_bytes(text.encode()) == redacted.encode()


def test_non_secrets_survive() -> None:
    text = (
        "NextToken=abc123&settlementId=12345678901&amount=-12.34 "
        '{"NextToken": "xyz", "token_type": "bearer", "username": "api"} '
        "<wsse:Username>ISU_AMZ</wsse:Username><wsse:Password/>"
    )
    assert Redactor(["unrelated-secret"]).redact_text(text) == text


def test_known_values_in_json(redactor: Redactor) -> None:
    payload = json.dumps({"note": f"pw {WD_PASSWORD}", "nested": [DELTEK_SECRET]})
    assert WD_PASSWORD not in json.loads(payload)["note"][:2]  # sanity: escaped in JSON
    redacted = redactor.redact_text(payload)
    assert json.loads(redacted) == {"note": "pw ***", "nested": ["***"]}


def test_known_values_in_form_bodies(redactor: Redactor) -> None:
    body = urlencode({"grant_type": "x", "assertion": DELTEK_SECRET, "secret2": LWA_SECRET})
    redacted = redactor.redact_text(body)
    assert DELTEK_SECRET not in redacted and "dk-secret" not in redacted
    assert LWA_SECRET not in redacted
    assert redacted == "grant_type=x&assertion=***&secret2=***"


def test_wsse_password_in_real_soap_envelope(redactor: Redactor) -> None:
    envelope = etree.fromstring(
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Header/><soapenv:Body><Note/></soapenv:Body></soapenv:Envelope>"
    )
    envelope.find("{*}Body/Note").text = f"echo {WD_PASSWORD}"  # value also outside the slot
    envelope, _ = UsernameToken("ISU_AMZ@acme", WD_PASSWORD).apply(envelope, {})
    raw = etree.tostring(envelope)
    escaped = b"Wd&amp;Pa&lt;ss&gt;"
    assert escaped in raw

    for scrubbed in (redactor.redact_bytes(raw), Redactor().redact_bytes(raw)):
        tree = etree.fromstring(scrubbed)  # still well-formed XML
        assert tree.find(".//{*}Password").text == "***"
        assert tree.find(".//{*}Username").text == "ISU_AMZ@acme"
    assert escaped not in redactor.redact_bytes(raw)  # known value: gone from the Body too
    assert b"<Note>echo ***</Note>" in redactor.redact_bytes(raw)


def test_values_added_at_run_time() -> None:
    redactor = Redactor()
    assert redactor.redact_text("minted tok-98765") == "minted tok-98765"
    redactor.add(SecretStr("tok-98765"), None, "ab")  # too short values are ignored
    assert redactor.redact_text("minted tok-98765 ab") == "minted *** ab"
    assert redactor.redact_bytes("é tok-98765".encode()) == "é ***".encode()


def test_longer_secret_wins_over_contained_one() -> None:
    redactor = Redactor(["abcd", "abcdefgh"])
    assert redactor.redact_text("abcdefgh abcd") == "*** ***"


# -- logging ------------------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A stream handler on the root logger, formatted like production logs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        uninstall_log_redaction()
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_filter_redacts_percent_args(redactor: Redactor) -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "login %s with %r", (WD_PASSWORD, LWA_SECRET), None
    )
    assert RedactingFilter(redactor).filter(record) is True
    assert record.args is None
    assert record.getMessage() == "login *** with '***'"


def test_installed_redaction_covers_child_and_standalone_loggers(
    redactor: Redactor, captured: io.StringIO
) -> None:
    install_log_redaction(redactor)
    install_log_redaction(redactor)  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in logging.getLogger().filters) == 1

    logging.getLogger("mlc_assets.clients.deltek").info("token body %s", {"x": DELTEK_SECRET})
    logging.getLogger("httpx").debug("Authorization: Bearer %s", "abc.def")
    # Dagster's per-run log manager is a Logger outside the hierarchy, like this one.
    standalone = logging.Logger("dagster")
    standalone.addHandler(
        next(h for h in logging.getLogger().handlers if getattr(h, "stream", None) is captured)
    )
    standalone.warning("isu %s", WD_PASSWORD)

    out = captured.getvalue()
    assert DELTEK_SECRET not in out and WD_PASSWORD not in out and "abc.def" not in out
    assert "mlc_assets.clients.deltek INFO token body {'x': '***'}" in out
    assert "httpx DEBUG Authorization: ***" in out
    assert "dagster WARNING isu ***" in out


def test_dagster_logger_is_redacted(redactor: Redactor, captured: io.StringIO) -> None:
    from dagster import get_dagster_logger

    install_log_redaction(redactor)
    get_dagster_logger("mlc").info("posting with client_secret=%s", DELTEK_SECRET)
    out = captured.getvalue()
    assert DELTEK_SECRET not in out
    assert "posting with client_secret=***" in out


def test_exception_text_is_redacted(redactor: Redactor, captured: io.StringIO) -> None:
    install_log_redaction(redactor)
    try:
        raise ValueError(f"server echoed {LWA_SECRET}")
    except ValueError:
        logging.getLogger("mlc_assets").exception("refresh failed")
    out = captured.getvalue()
    assert LWA_SECRET not in out
    assert "ValueError: server echoed ***" in out


def test_uninstall_restores_plain_logging(redactor: Redactor, captured: io.StringIO) -> None:
    install_log_redaction(redactor)
    uninstall_log_redaction()
    logging.getLogger("mlc_assets").info("plain %s", "visible-value")
    assert "plain visible-value" in captured.getvalue()
    assert not any(isinstance(f, RedactingFilter) for f in logging.getLogger().filters)


def test_dagster_run_log_manager_is_redacted(redactor: Redactor) -> None:
    """``context.log`` is a per-run DagsterLogManager: a Logger outside the hierarchy."""
    from dagster._core.log_manager import DagsterLogManager

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    install_log_redaction(redactor)
    try:
        log_manager = DagsterLogManager.create(loggers=[], handlers=[handler])
        log_manager.info("posting with %s", WD_PASSWORD)
        log_manager.warning(f"server said Bearer abc.def and {DELTEK_SECRET}")
    finally:
        uninstall_log_redaction()
    out = stream.getvalue()
    assert WD_PASSWORD not in out and DELTEK_SECRET not in out and "abc.def" not in out
    assert "posting with ***" in out
    assert "server said Bearer *** and ***" in out
