"""No secret ends up in anything the connector writes or prints.

``mlc demo`` runs as a subprocess, with faults that force token refreshes and error paths
(where secrets like to slip into messages), and then every byte it left behind is searched:
every file under the data home (raw archive, JSON state, logs, Dagster's run storage and
compute logs), the text of every column of every table of the DuckDB warehouse and of every
SQLite database (Dagster's run and event-log storage), gzip members decompressed, and the
demo's own stdout and stderr.

What is searched for: the sandbox's credentials (Workday ISU password, OAuth client secret and
refresh token; Deltek password and client secret; LWA client secret and refresh token), in the
encodings a payload would carry them in, plus credential *shapes* whose values we never see:
LWA access tokens (``Atza|``), ``Authorization: Bearer <token>``, and ``access_token`` /
``refresh_token`` / ``client_secret`` / ``password`` fields holding a value.

One file is exempt: ``state/sandbox.json``, where the sandbox publishes its own (public, demo)
credentials so other local processes can reach it; it is written with mode 0600, which this
test checks. The ERP sandbox state files ``sandbox/*.json`` are NOT exempt: the sandbox keeps
tokens in memory only, so they must be clean too.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import pytest

from mlc_assets.sandbox import deltek_app, lwa_app, workday_app
from mlc_assets_tests.reliability.harness import run_demo, write_figures

CHAOS = (
    "expire_token:1,reset:1,500:1,"
    "workday.500:1,workday.commit_drop:1,"
    "deltek.expire_token:1,deltek.500:1,deltek.html502:1,deltek.commit_drop:1"
)

KNOWN_SECRETS = {
    "workday password": workday_app.DEMO_PASSWORD,
    "workday client secret": workday_app.DEMO_CLIENT_SECRET,
    "workday refresh token": workday_app.DEMO_REFRESH_TOKEN,
    "deltek password": deltek_app.DEMO_PASSWORD,
    "deltek client secret": deltek_app.DEMO_CLIENT_SECRET,
    "lwa client secret": lwa_app.DEMO_CLIENT_SECRET,
    "lwa refresh token": lwa_app.DEMO_REFRESH_TOKEN,
}

_VALUE = r"(?!\*\*\*|null\b|None\b|REDACTED|<redacted>)[A-Za-z0-9_\-.|~+/=%]{8,}"
SHAPES = {
    "lwa access token": re.compile(r"Atza\|[A-Za-z0-9_\-]{8,}"),
    "lwa refresh token": re.compile(r"Atzr\|[A-Za-z0-9_\-]{8,}"),
    "bearer token": re.compile(r"Bearer\s+" + _VALUE, re.IGNORECASE),
    "credential field": re.compile(
        r"(?:access_token|refresh_token|client_secret|password)[\"']?\s*[:=]\s*[\"']?" + _VALUE,
        re.IGNORECASE,
    ),
}


def _encodings(value: str) -> set[str]:
    return {
        value,
        quote(value, safe=""),
        quote_plus(value),
        html.escape(value),
        json.dumps(value)[1:-1],
    }


def find_leaks(text: str, where: str) -> list[str]:
    leaks = []
    for name, value in KNOWN_SECRETS.items():
        for form in _encodings(value):
            if form in text:
                at = text.index(form)
                leaks.append(f"{where}: {name} …{text[max(0, at - 60) : at + 20]!r}")
                break
    for name, pattern in SHAPES.items():
        for match in pattern.finditer(text):
            lo = max(0, match.start() - 60)
            leaks.append(f"{where}: {name} …{text[lo : match.end()]!r}")
    return leaks


def _sqlite_text(path: Path) -> Iterator[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if value is not None:
                        yield str(value)
    finally:
        con.close()


def _duckdb_text(path: Path) -> Iterator[tuple[str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'JSON', 'BLOB') OR data_type LIKE '%STRUCT%' "
            "OR data_type LIKE '%[]' OR data_type LIKE 'MAP%'"
        ).fetchall()
        for schema, table, column in columns:
            rows = con.execute(
                f'SELECT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}" '
                f'WHERE "{column}" IS NOT NULL'
            ).fetchall()
            yield f"{table}.{column}", "\n".join(r[0] for r in rows)
    finally:
        con.close()


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def scan_data_home(home: Path) -> tuple[list[str], dict[str, int]]:
    """Every leak under ``home``, and how much was searched."""
    leaks: list[str] = []
    counts = {"files": 0, "sqlite_databases": 0, "duckdb_columns": 0, "gzip_members": 0}
    exempt = home / "state" / "sandbox.json"
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        if path == exempt:
            continue
        counts["files"] += 1
        rel = str(path.relative_to(home))
        data = path.read_bytes()
        leaks += find_leaks(data.decode("utf-8", "replace"), rel)
        if data[:2] == b"\x1f\x8b":
            counts["gzip_members"] += 1
            leaks += find_leaks(gzip.decompress(data).decode("utf-8", "replace"), rel + "|gunzip")
        if path.suffix == ".duckdb":
            for column, text in _duckdb_text(path):
                counts["duckdb_columns"] += 1
                leaks += find_leaks(text, f"{rel}:{column}")
        elif _is_sqlite(path):
            counts["sqlite_databases"] += 1
            leaks += find_leaks("\n".join(_sqlite_text(path)), rel)
    return leaks, counts


@pytest.mark.timeout(600)
def test_demo_leaves_no_secret_in_files_databases_or_output(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = run_demo(home, settlements=1, chaos=CHAOS)
    assert run.rows, f"demo printed no summary (rc={run.returncode}):\n{run.stderr[-3000:]}"

    published = home / "state" / "sandbox.json"
    assert published.exists()
    assert stat.S_IMODE(published.stat().st_mode) == 0o600

    leaks, counts = scan_data_home(home)
    leaks += find_leaks(run.stdout, "stdout")
    leaks += find_leaks(run.stderr, "stderr")
    # The scan must have had something to chew on, or a clean result means nothing.
    assert counts["duckdb_columns"] > 10 and counts["sqlite_databases"] >= 1, counts
    assert any((home / "raw").rglob("*")), "no raw archive written"
    write_figures(
        "secret_scan",
        {"chaos_spec": CHAOS, "leaks": len(leaks), "searched": counts, "detail": leaks[:50]},
    )
    assert leaks == [], "\n".join(leaks[:50])


def test_scanner_finds_planted_secrets(tmp_path: Path) -> None:
    """The scan itself works: each secret shape planted in each kind of store is found."""
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "x.log").write_text(f"login with {quote_plus(deltek_app.DEMO_PASSWORD)}\n")
    (home / "raw").mkdir()
    (home / "raw" / "blob").write_bytes(gzip.compress(b"Authorization: Bearer abcdefghijkl"))
    con = sqlite3.connect(home / "events.db")
    con.execute("CREATE TABLE e (body TEXT)")
    con.execute("INSERT INTO e VALUES (?)", ('{"access_token": "Atza|IwEBIabcdefgh"}',))
    con.commit()
    con.close()
    wh = duckdb.connect(str(home / "warehouse.duckdb"))
    wh.execute("CREATE TABLE t (detail VARCHAR)")
    wh.execute("INSERT INTO t VALUES (?)", [f"auth failed for {workday_app.DEMO_PASSWORD}"])
    wh.close()
    (home / "state").mkdir()
    (home / "state" / "sandbox.json").write_text(json.dumps({"p": lwa_app.DEMO_CLIENT_SECRET}))
    leaks, _ = scan_data_home(home)
    joined = "\n".join(leaks)
    assert "logs/x.log: deltek password" in joined
    assert "raw/blob|gunzip: bearer token" in joined
    assert "events.db: lwa access token" in joined
    assert "warehouse.duckdb:t.detail: workday password" in joined
    assert "sandbox.json" not in joined  # the one exempt file
    assert find_leaks('"password": "***" Bearer *** access_token=***', "redacted") == []
