"""The Vantagepoint sandbox on the wire, with plain httpx (no connector code)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlc_assets.sandbox.deltek_app import (
    DEFAULT_PREFIX,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_DATABASE,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    build_deltek_app,
)
from mlc_assets.sandbox.deltek_store import DEFAULT_ACCOUNTS
from mlc_assets.sandbox.faults import FaultPlan
from mlc_assets.sandbox.server import BackgroundServer


class Api:
    """A tiny authenticated caller for one sandbox tenant."""

    def __init__(self, server: BackgroundServer, app: Any) -> None:
        self.server = server
        self.app = app
        self.root = server.url
        self.base = server.url + DEFAULT_PREFIX
        self.http = httpx.Client(timeout=5)
        self.token = self.grant().json()["access_token"]

    def grant(self, **override: str) -> httpx.Response:
        form = {
            "Username": DEMO_USERNAME,  # capitalised as in Deltek's example
            "Password": DEMO_PASSWORD,
            "grant_type": "password",
            "Integrated": "N",
            "database": DEMO_DATABASE,
            "Client_Id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        }
        form.update(override)
        return self.http.post(f"{self.base}/token", data=form)

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, f"{self.base}{path}", headers=headers, **kw)


@pytest.fixture
def start() -> Iterator[Callable[..., Api]]:
    servers: list[BackgroundServer] = []
    apis: list[Api] = []

    def run(**kwargs: Any) -> Api:
        app = build_deltek_app(**kwargs)
        server = BackgroundServer(app, name="deltek-sandbox-test").start()
        servers.append(server)
        api = Api(server, app)
        apis.append(api)
        return api

    yield run
    for api in apis:
        api.http.close()
    for server in servers:
        server.stop()


@pytest.fixture
def api(start: Callable[..., Api]) -> Api:
    return start()


def je_body(batch: str, *, debit: str = "100.00", credit: str = "100.00", period: int = 202606):
    return {
        "Batch": batch,
        "Description": f"test {batch}",
        "Period": period,
        "jeMaster": [{"Batch": batch, "RefNo": "R1", "TransDate": "2026-06-15T00:00:00.000"}],
        "jeDetail": [
            {"RefNo": "R1", "PKey": f"{batch}1", "Account": "1210.00", "DebitAmount": debit},
            {
                "RefNo": "R1",
                "PKey": f"{batch}2",
                "Account": "4000.00",
                "WBS1": "AMZ-2026",
                "WBS2": "US",
                "WBS3": "SALES",
                "CreditAmount": credit,
            },
        ],
    }


def post(api: Api, batch: str, trans_type: str = "JE", period: str = "202606") -> httpx.Response:
    parms = {"batch": batch, "period": period, "transtype": trans_type}
    return api.call("PUT", "/DataEntry/PostTransFile", json={"parms": parms})


# ---- token --------------------------------------------------------------------------------------
def test_token_password_grant_shape(api: Api) -> None:
    body = api.grant().json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 1799


def test_token_refusals_are_oauth_shaped_and_never_echo(api: Api) -> None:
    bad = api.grant(Password="hunter2-secret")
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_grant"
    assert "hunter2-secret" not in bad.text
    assert api.grant(database="OTHER").json()["error"] == "invalid_grant"
    assert api.grant(client_secret="x").json()["error"] == "invalid_client"
    assert api.grant(grant_type="client_credentials").json()["error"] == "unsupported_grant_type"
    as_json = api.http.post(f"{api.base}/token", json={"grant_type": "password"})
    assert as_json.status_code == 400


def test_refresh_grant_rotates(api: Api) -> None:
    first = api.grant().json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    second = api.http.post(f"{api.base}/token", data=form)
    assert second.status_code == 200
    assert second.json()["access_token"] != first["access_token"]
    again = api.http.post(f"{api.base}/token", data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_bearer_required_and_expiry_with_speed(start: Callable[..., Api]) -> None:
    api = start(speed=1799 / 0.3)  # a 0.3 s token
    assert api.call("GET", "/Settings/Period").status_code == 200
    assert api.http.get(f"{api.base}/Settings/Period").status_code == 401
    bogus = api.http.get(f"{api.base}/Settings/Period", headers={"Authorization": "Bearer x"})
    assert bogus.status_code == 401
    time.sleep(0.4)
    assert api.call("GET", "/Settings/Period").status_code == 401


# ---- DataEntry ----------------------------------------------------------------------------------
def test_create_returns_201_array_with_sums(api: Api) -> None:
    r = api.call("POST", "/DataEntry/jeControl", json=je_body("B1"))
    assert r.status_code == 201
    assert r.headers["location"].endswith("/DataEntry/jeControl/B1")
    (control,) = json.loads(r.text, parse_float=Decimal)
    assert control["SumDebitsTotal"] == control["SumCreditsTotal"] == Decimal("100.00")
    assert control["DiffDebitsTotal"] == 0 and control["Posted"] == "N"
    got = api.call("GET", "/DataEntry/jeControl/B1").json()
    assert got[0]["Batch"] == "B1"
    detail = api.call("GET", "/DataEntry/jeDetail/B1").json()
    assert [d["Org"] for d in detail] == ["", "A0.10.00"]
    master = api.call("GET", "/DataEntry/jeMaster/B1|R1").json()
    assert master[0]["RefNo"] == "R1"
    landing = api.call(
        "GET",
        "/DataEntry/jeLanding",
        params={
            "page": 1,
            "pageSize": 10,
            "filterHash[0][name]": "Batch",
            "filterHash[0][value]": "B1",
            "filterHash[0][opp]": "=",
        },
    ).json()
    assert [row["Batch"] for row in landing] == ["B1"] and landing[0]["RawPeriod"] == 202606


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b["jeDetail"][0].update(DebitAmount="100.01"), "out of balance"),
        (lambda b: b["jeDetail"][0].update(CreditAmount="1"), "exactly one of"),
        (lambda b: b["jeDetail"][1].update(PKey="B11"), "PKey 'B11' is not unique"),
        (lambda b: b["jeDetail"][1].update(RefNo="R9"), "has no jeMaster row"),
        (lambda b: b["jeDetail"][1].update(WBS3=" "), "charge the lowest level"),
        (lambda b: b["jeDetail"][1].update(WBS1="AMZ-2025", WBS2="", WBS3=""), "not active"),
        (lambda b: b["jeDetail"][0].update(Account="1999.00"), "Account '1999.00' is not valid"),
        (lambda b: b.update(Period=202601), "Period 202601 is closed"),
        (lambda b: b.update(Batch="X" * 33), "longer than 32"),
        (lambda b: b["jeDetail"][0].update(DebitAmount="abc"), "not a valid amount"),
    ],
)
def test_create_validation(api: Api, mutate: Callable[[dict], Any], message: str) -> None:
    body = je_body("B1")
    mutate(body)
    r = api.call("POST", "/DataEntry/jeControl", json=body)
    assert r.status_code == 400
    assert message in r.json()["message"]
    assert api.app.state.sandbox.store.files == {}


def test_duplicate_batch_rejected(api: Api) -> None:
    assert api.call("POST", "/DataEntry/jeControl", json=je_body("B1")).status_code == 201
    dup = api.call("POST", "/DataEntry/jeControl", json=je_body("B1"))
    assert dup.status_code == 400 and "already exists" in dup.json()["message"]


def test_lenient_balance_mode_refuses_at_posting(start: Callable[..., Api]) -> None:
    api = start(strict_balance_on_create=False)
    body = dict(je_body("B1", debit="100.01"), Total="100.00", CreditsTotal="100.00")
    r = api.call("POST", "/DataEntry/jeControl", json=body)
    assert r.status_code == 201
    assert Decimal(str(r.json()[0]["DiffDebitsTotal"])) == Decimal("-0.01")
    refused = post(api, "B1")
    assert refused.status_code == 400 and "out of balance" in refused.json()["message"]


def test_delete_unposted_file(api: Api) -> None:
    api.call("POST", "/DataEntry/jeControl", json=je_body("B1"))
    assert api.call("DELETE", "/DataEntry/jeControl/B1").status_code == 200
    assert api.call("GET", "/DataEntry/jeControl/B1").status_code == 404


# ---- posting and ledger -------------------------------------------------------------------------
def test_post_two_files_in_one_call_double_encoded(api: Api) -> None:
    for b in ("B1", "B2"):
        api.call("POST", "/DataEntry/jeControl", json=je_body(b))
    parms = [{"batch": b, "period": "202606", "transtype": "JE"} for b in ("B1", "B2")]
    r = api.call("PUT", "/DataEntry/PostTransFile", json={"parms": parms})
    assert r.status_code == 200
    outer = json.loads(r.text)
    assert isinstance(outer, str)  # a JSON string holding JSON [DOC]
    assert '"postseqList": "101|102"\r\n  "msg"' in outer  # the missing comma, as documented
    assert "2 of 2 records posted; Posting sequence 102" in outer
    assert api.call("GET", "/DataEntry/jeControl/B1").status_code == 404  # left DataEntry
    again = post(api, "B1")
    assert again.status_code == 400 and "already been posted" in again.json()["message"]


def test_psaledger_filters_and_limits(api: Api) -> None:
    for b in ("B1", "B2", "B3"):
        api.call("POST", "/DataEntry/jeControl", json=je_body(b))
        assert post(api, b).status_code == 200

    def ledger(**params: Any) -> httpx.Response:
        return api.call("GET", "/PSALedger/JE", params=params)

    def fh(i: int, name: str, value: str, opp: str) -> dict[str, str]:
        return {
            f"filterHash[{i}][name]": name,
            f"filterHash[{i}][value]": value,
            f"filterHash[{i}][opp]": opp,
        }

    rows = json.loads(ledger(**fh(0, "Batch", "B2", "=")).text, parse_float=Decimal)
    assert {r["Batch"] for r in rows} == {"B2"} and {r["PostSeq"] for r in rows} == {102}
    assert sorted(r["Amount"] for r in rows) == [Decimal("-100.00"), Decimal("100.00")]
    seq = ledger(**fh(0, "PostSeq", "102", ">="), **fh(1, "Account", "4000.00", "=")).json()
    assert [(r["Batch"], r["Account"]) for r in seq] == [("B2", "4000.00"), ("B3", "4000.00")]
    like = ledger(**fh(0, "Desc2", "", "="), **{"q.maxrows": "2"}).json()
    assert len(like) == 2
    assert ledger(limit="5").status_code == 500  # [3P: GoVP-query]
    assert ledger(**fh(0, "Nope", "1", "=")).status_code == 400


def test_invoice_file_and_ledger(api: Api) -> None:
    body = {
        "Batch": "IN1",
        "Period": 202606,
        "Total": "90.00",
        "inMaster": [{"Batch": "IN1", "Invoice": "INV1", "WBS1": "AMZ-2026"}],
        "inDetail": [
            {
                "Invoice": "INV1",
                "PKey": "p1",
                "Account": "4000.00",
                "Amount": "100.00",
                "WBS1": "AMZ-2026",
                "WBS2": "US",
                "WBS3": "SALES",
            },
            {
                "Invoice": "INV1",
                "PKey": "p2",
                "Account": "6100.00",
                "Amount": "-10.00",
                "WBS1": "AMZ-2026",
                "WBS2": "US",
                "WBS3": "FEES",
            },
        ],
    }
    wrong_total = dict(body, Total="95.00")
    assert api.call("POST", "/DataEntry/inControl", json=wrong_total).status_code == 400
    r = api.call("POST", "/DataEntry/inControl", json=body)
    assert r.status_code == 201 and Decimal(str(r.json()[0]["DiffTotal"])) == 0
    assert post(api, "IN1", "IN").status_code == 200
    rows = api.call("GET", "/PSALedger/IN").json()
    assert {r["Invoice"] for r in rows} == {"INV1"}
    assert api.call("GET", "/PSALedger/JE").json() == []


# ---- reference ----------------------------------------------------------------------------------
def test_reference_endpoints(api: Api) -> None:
    periods = api.call("GET", "/Settings/Period").json()
    assert periods[0]["Period"] == 202601 and periods[0]["ActiveCompanyClosed"] == "Y"
    assert periods[1]["AccountPdEnd"] == "2026-02-28T00:00:00.000"
    active = api.call("GET", "/Settings/ActivePeriod").json()
    assert active[0]["Period"] == 202602
    assert api.call("PUT", "/Settings/ActivePeriod/202606").json()[0]["Period"] == 202606
    one = api.call("GET", "/project/AMZ-2026", params={"fieldFilter": "WBS1,Name"}).json()
    assert one == [{"WBS1": "AMZ-2026", "Name": "Amazon Marketplace 2026"}]
    tasks = api.call("GET", "/project", params={"wbstype": "wbs3"}).json()
    assert {t["WBS3"] for t in tasks} == {"SALES", "FEES"}
    accounts = api.call("GET", "/Accounts", params={"page": 2, "pageSize": 5}).json()
    assert [a["Account"] for a in accounts] == sorted(a[0] for a in DEFAULT_ACCOUNTS)[5:10]
    assert api.call("GET", "/organization/A0.00.00").json()[0]["Name"] == "Headquarters"
    assert api.call("GET", "/project/NOPE").status_code == 404


# ---- faults, admin, persistence -----------------------------------------------------------------
def test_faults_and_admin(api: Api) -> None:
    r = api.http.post(f"{api.root}/_sandbox/faults", json={"spec": "html502:1,429:1,500:1"})
    assert r.json()["armed"] == {"html502": "1", "429": "1", "500": "1"}
    codes = [api.call("GET", "/Settings/Period") for _ in range(4)]
    assert [c.status_code for c in codes] == [429, 500, 502, 200]
    assert codes[2].headers["content-type"].startswith("text/html")
    assert "<title>502 - Web server" in codes[2].text
    with pytest.raises(httpx.TransportError):  # reset: nothing processed
        api.http.post(f"{api.root}/_sandbox/faults", json={"spec": "reset:1"})
        api.call("POST", "/DataEntry/jeControl", json=je_body("B0"))
    assert api.app.state.sandbox.store.files == {}
    api.http.post(f"{api.root}/_sandbox/faults", json={"spec": "commit_drop:1"})
    with pytest.raises(httpx.TransportError):  # committed, then the answer is dropped
        api.call("POST", "/DataEntry/jeControl", json=je_body("B1"))
    batches = api.http.get(f"{api.root}/_sandbox/batches").json()
    assert [(b["batch"], b["posted"]) for b in batches] == [("B1", False)]
    closed = api.http.post(f"{api.root}/_sandbox/periods/202606", json={"closed": True})
    assert closed.json()[0]["ActiveCompanyClosed"] == "Y"
    assert "is closed" in post(api, "B1").json()["message"]
    stats = api.http.get(f"{api.root}/_sandbox/stats").json()
    assert stats["faults_fired"] == {"html502": 1, "429": 1, "500": 1, "reset": 1, "commit_drop": 1}
    assert stats["stats"]["commit_dropped"] == 1


def test_expire_token_fault(start: Callable[..., Api]) -> None:
    api = start(faults=FaultPlan.parse("expire_token:1"))
    assert api.call("GET", "/Settings/Period").status_code == 401
    assert api.call("GET", "/Settings/Period").status_code == 401  # that token stays dead
    api.token = api.grant().json()["access_token"]
    assert api.call("GET", "/Settings/Period").status_code == 200


def test_state_file_persists_without_secrets(start: Callable[..., Api], tmp_path: Path) -> None:
    state = tmp_path / "deltek.json"
    first = start(state_file=state)
    first.call("POST", "/DataEntry/jeControl", json=je_body("B1"))
    post(first, "B1")
    first.call("POST", "/DataEntry/jeControl", json=je_body("B2"))
    text = state.read_text()
    for secret in (DEMO_PASSWORD, DEMO_CLIENT_SECRET, first.token):
        assert secret not in text
    second = start(state_file=state)
    batches = {b["batch"]: b for b in second.http.get(f"{second.root}/_sandbox/batches").json()}
    assert batches["B1"]["posted"] and batches["B1"]["post_seq"] == 101
    assert not batches["B2"]["posted"]
    rows = json.loads(second.call("GET", "/PSALedger/JE").text, parse_float=Decimal)
    assert sorted(r["Amount"] for r in rows) == [Decimal("-100.00"), Decimal("100.00")]
    posted = post(second, "B2")
    assert posted.status_code == 200
    assert "Posting sequence 102" in json.loads(posted.text)  # the counter survived a restart


def test_reset_returns_to_the_seeded_tenant(api: Api) -> None:
    api.call("POST", "/DataEntry/jeControl", json=je_body("B1"))
    post(api, "B1")
    api.http.post(f"{api.root}/_sandbox/faults", json={"spec": "500:3"})
    assert api.http.post(f"{api.root}/_sandbox/reset").json() == {"reset": True}
    assert api.http.get(f"{api.root}/_sandbox/batches").json() == []
    stats = api.http.get(f"{api.root}/_sandbox/stats").json()
    assert stats["faults_armed"] == {} and stats["next_post_seq"] == 101
    assert api.call("GET", "/Settings/Period").status_code == 401  # tokens are gone too
