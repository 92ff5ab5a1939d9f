"""The SQL record source: the same workspace read from JSON Lines, SQLite and a real PostgreSQL
server (started by the session: tests/postgres.py) gives the same findings.

Worked case (seed Section 1, as in test_record_order.py): Premier, 113 h per contract quarter;
w1 60 h on 2026-01-05 and w2 60 h on 2026-02-02 make 120 h, and w2 crosses (7 h over). The
tables hold typed columns: NUMERIC hours and amounts, DATE, TIMESTAMP WITH TIME ZONE, a naive
TIMESTAMP in the table's ``timezone`` (America/New_York), BOOLEAN.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import tracemalloc
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.inputs.sql import SqlOptions, read_sql
from cso_policy.testing import EXAMPLE_AS_OF, EXAMPLE_CONTRACT_ID, catalogue, contract_data, toml_text
from tests.conftest import CLI_ENV, assert_exit_2
from tests.postgres import PASSWORD

QUARTERLY = "entitlement.quarterly_hours"
NEW_YORK = ZoneInfo("America/New_York")
C = EXAMPLE_CONTRACT_ID

# ------------------------------------------------------------------ the workspace, as records

WORK = [  # id, date, hours
    ("w1", date(2026, 1, 5), Decimal("60.00")),
    ("w2", date(2026, 2, 2), Decimal("60.00")),
    ("w3", date(2026, 4, 14), Decimal("2.50")),
]
EXPENSES = [  # id, date, amount, approved_at
    ("e1", date(2026, 3, 3), Decimal("420.50"), datetime(2026, 2, 20, 15, 0, tzinfo=timezone.utc)),
    ("e2", date(2026, 3, 9), Decimal("99.90"), datetime(2026, 3, 12, 9, 30, tzinfo=timezone.utc)),
]
TICKETS = [  # id, severity, opened_at (naive, New York), first_response_at, resolved_at, is_bug
    ("t1", "P1", datetime(2026, 5, 4, 9, 0), datetime(2026, 5, 4, 16, 0, tzinfo=timezone.utc),
     datetime(2026, 5, 9, 13, 0, tzinfo=timezone.utc), True),
    ("t2", "P3", datetime(2026, 11, 2, 10, 15), datetime(2026, 11, 2, 15, 30, tzinfo=timezone.utc), None, False),
]


def jsonl_records() -> list[dict]:
    out = [{"kind": "work", "id": i, "contract": C, "date": d.isoformat(), "lob": "retail", "hours": float(h),
            "service": "general_account_consulting"} for i, d, h in WORK]
    out += [{"kind": "expense", "id": i, "contract": C, "date": d.isoformat(), "amount": float(a), "currency": "USD",
             "lob": "retail", "approved_at": at.isoformat().replace("+00:00", "Z")} for i, d, a, at in EXPENSES]
    for i, sev, opened, response, resolved, bug in TICKETS:
        ticket = {"kind": "ticket", "id": i, "contract": C, "lob": "retail", "severity": sev, "channel": "web",
                  "opened_at": opened.replace(tzinfo=NEW_YORK).isoformat(),
                  "first_response_at": response.isoformat(), "is_bug": bug}
        if resolved is not None:
            ticket["resolved_at"] = resolved.isoformat()
        out.append(ticket)
    return out


# ------------------------------------------------------------------ the workspace, as tables

DDL = [
    "CREATE TABLE time_entries (id TEXT, contract TEXT, date DATE, lob TEXT, hours NUMERIC(8,2), service TEXT)",
    "CREATE TABLE expenses (id TEXT, contract TEXT, spent_on DATE, amount NUMERIC(10,2), currency TEXT, "
    "lob TEXT, approved_at {tstz})",
    "CREATE TABLE tickets (id TEXT, contract TEXT, lob TEXT, severity TEXT, channel TEXT, opened_at TIMESTAMP, "
    "first_response_at {tstz}, resolved_at {tstz}, is_bug BOOLEAN)",
]


def table_rows(sqlite: bool = False) -> dict[str, list[tuple]]:
    """The rows of each table; SQLite stores dates and timestamps as ISO text, numbers as REAL."""

    def v(value):
        if not sqlite:
            return value
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, (date, datetime)):
            return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    return {
        "time_entries": [tuple(v(x) for x in (i, C, d, "retail", h, "general_account_consulting"))
                         for i, d, h in WORK],
        "expenses": [tuple(v(x) for x in (i, C, d, a, "USD", "retail", at)) for i, d, a, at in EXPENSES],
        "tickets": [tuple(v(x) for x in (i, C, "retail", sev, "web", opened, response, resolved, bug))
                    for i, sev, opened, response, resolved, bug in TICKETS],
    }


def fill(execute, sqlite: bool, paramstyle: str) -> None:
    for statement in DDL:
        execute(statement.format(tstz="TEXT" if sqlite else "TIMESTAMPTZ"), None)
    for name, rows in table_rows(sqlite).items():
        marks = ", ".join([paramstyle] * len(rows[0]))
        for row in rows:
            execute(f"INSERT INTO {name} VALUES ({marks})", row)


def make_sqlite(path: Path, extra: list[str] = ()) -> str:
    conn = sqlite3.connect(path)
    with conn:
        fill(lambda sql, args: conn.execute(sql, args or ()), sqlite=True, paramstyle="?")
        for statement in extra:
            conn.execute(statement)
    conn.close()
    return f"sqlite:///{path}"


def make_postgres(conn: psycopg.Connection, extra: list[str] = ()) -> None:
    with conn.transaction():
        fill(lambda sql, args: conn.execute(sql, args), sqlite=False, paramstyle="%s")
        for statement in extra:
            conn.execute(statement)


def pg_url(conn: psycopg.Connection, password: str = PASSWORD) -> str:
    info = conn.info
    return f"postgresql+psycopg://{info.user}:{password}@{info.host}:{info.port}/{info.dbname}"


TABLE_ENTRIES = [
    {"kind": "work", "table": "time_entries"},
    {"kind": "expense", "table": "expenses", "columns": {"date": "spent_on"}},
    {"kind": "ticket", "table": "tickets", "timezone": "America/New_York"},
]
QUERY_ENTRIES = [
    {"kind": "work", "query": "SELECT id, date AS day, hours, lob, service FROM time_entries ORDER BY id",
     "columns": {"date": "day"}, "set": {"contract": C}},
    {"kind": "expense", "query": "SELECT * FROM expenses", "columns": {"date": "spent_on"}},
    {"kind": "ticket", "query": "SELECT * FROM tickets WHERE severity IN ('P1', 'P3')", "timezone": "America/New_York"},
]


# ------------------------------------------------------------------ running the CLI


def workspace(root: Path, records: list, options: dict | None = None,
              load: tuple[str, ...] = ("cso_policy.inputs.sql",)) -> Path:
    """A workspace folder: the example contract, ``[[records]]`` *records* (a path or a table),
    the sql source loaded as a plugin (a no-op once it is a built-in one)."""
    (root / "contracts").mkdir(parents=True, exist_ok=True)
    (root / "contracts" / f"{C}.toml").write_text(toml_text(contract_data()), encoding="utf-8")
    lines = ['contracts = ["contracts"]', ""]
    lines += ["[plugins]", f"load = {json.dumps(list(load))}", ""]
    for name, table in (options or {}).items():
        lines += [f"[plugins.{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()] + [""]
    for entry in records:
        lines.append("[[records]]")
        if isinstance(entry, str):
            lines.append(f"path = {json.dumps(entry)}")
        else:
            for key, value in entry.items():
                if isinstance(value, dict):
                    value = "{ " + ", ".join(f"{k} = {json.dumps(x)}" for k, x in value.items()) + " }"
                else:
                    value = json.dumps(value)
                lines.append(f"{key} = {value}")
        lines.append("")
    (root / "cso-policy.toml").write_text("\n".join(lines), encoding="utf-8")
    return root


def sql_workspace(root: Path, entries: list[dict], **common) -> Path:
    return workspace(root, [{"source": "sql", **common, **e} for e in entries])


def audit(root: Path, *, code: int | None = None):
    result = CliRunner(env=CLI_ENV).invoke(main, ["audit", str(root), "--as-of", EXAMPLE_AS_OF, "--format", "json"])
    if code is not None:
        assert result.exit_code == code, result.output
    return result


def report(root: Path) -> dict:
    result = audit(root)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def findings(data: dict) -> list[tuple]:
    """What a finding says, without where it was read (each input names itself; the report
    sorts findings by where they were read among others, so they are compared sorted)."""
    return sorted([(f["rule"], f["record"], f["level"], f["message"], json.dumps(f["impact"], sort_keys=True))
            for f in data["findings"]])


@pytest.fixture
def jsonl_report(tmp_path) -> dict:
    root = tmp_path / "jsonl"
    (root / "records").mkdir(parents=True)
    (root / "records" / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in jsonl_records()))
    return report(workspace(root, ["records/records.jsonl"]))


# ------------------------------------------------------------------ same findings, every source


def test_the_jsonl_workspace_has_the_worked_case(jsonl_report):
    found = [f for f in jsonl_report["findings"] if f["rule"] == QUARTERLY]
    assert [(f["record"], f["impact"]["hours"]) for f in found] == [("w2", 7.0)]
    assert not [f for f in jsonl_report["findings"] if f["rule"].startswith("input.")]
    assert len(jsonl_report["findings"]) >= 3  # the cap, and more from expenses and tickets


@pytest.mark.parametrize("entries", [TABLE_ENTRIES, QUERY_ENTRIES], ids=["table", "query"])
def test_sqlite_gives_the_findings_of_jsonl(tmp_path, jsonl_report, entries):
    url = make_sqlite(tmp_path / "cso.db")
    data = report(sql_workspace(tmp_path / "ws", entries, url=url))
    assert findings(data) == findings(jsonl_report)
    summary = {k: v for k, v in data["summary"].items() if k != "inputs"}
    assert summary == {k: v for k, v in jsonl_report["summary"].items() if k != "inputs"}


@pytest.mark.parametrize("entries", [TABLE_ENTRIES, QUERY_ENTRIES], ids=["table", "query"])
def test_postgresql_gives_the_findings_of_jsonl(tmp_path, monkeypatch, postgresql, jsonl_report, entries):
    make_postgres(postgresql)
    monkeypatch.setenv("CSO_TEST_PG_URL", pg_url(postgresql))
    result = audit(sql_workspace(tmp_path / "ws", entries, url_env="CSO_TEST_PG_URL"))
    assert result.exit_code == 1, result.output
    assert PASSWORD not in result.output
    data = json.loads(result.stdout)
    assert findings(data) == findings(jsonl_report)
    summary = {k: v for k, v in data["summary"].items() if k != "inputs"}
    assert summary == {k: v for k, v in jsonl_report["summary"].items() if k != "inputs"}


def test_csv_gives_the_findings_of_jsonl_too_when_there_is_a_csv_source(tmp_path, jsonl_report):
    if importlib.util.find_spec("cso_policy.inputs.csv") is None:
        return  # no CSV source in this tree yet
    folder = tmp_path / "ws" / "records"
    folder.mkdir(parents=True)
    rows = table_rows(sqlite=True)
    heads = {"time_entries": "id,contract,date,lob,hours,service",
             "expenses": "id,contract,spent_on,amount,currency,lob,approved_at",
             "tickets": "id,contract,lob,severity,channel,opened_at,first_response_at,resolved_at,is_bug"}
    for name, head in heads.items():
        text = head + "\n" + "".join(",".join("" if x is None else str(x) for x in row) + "\n" for row in rows[name])
        (folder / f"{name}.csv").write_text(text)
    entries = [{"source": "csv", "path": f"records/{e['table']}.csv", **{k: v for k, v in e.items() if k != "table"}}
               for e in TABLE_ENTRIES]
    data = report(workspace(tmp_path / "ws", entries, load=("cso_policy.inputs.csv",)))
    assert findings(data) == findings(jsonl_report)


# ------------------------------------------------------------------ naming and accounting


def test_the_summary_names_each_entry_and_accounts_for_every_row(tmp_path, monkeypatch, postgresql):
    make_postgres(postgresql)
    monkeypatch.setenv("CSO_TEST_PG_URL", pg_url(postgresql))
    # two entries of one database and table, told apart by their kind... and by query
    entries = TABLE_ENTRIES + [{"kind": "work", "query": "SELECT * FROM time_entries WHERE hours < 10"}]
    data = report(sql_workspace(tmp_path / "ws", entries, url_env="CSO_TEST_PG_URL"))
    info = postgresql.info
    database = f"postgresql+psycopg://{info.host}:{info.port}/{info.dbname}"
    inputs = {i["input"]: i for i in data["summary"]["inputs"]}
    assert sorted(inputs) == sorted([
        f"sql {database} (table time_entries, kind work)",
        f"sql {database} (table expenses, kind expense)",
        f"sql {database} (table tickets, kind ticket)",
        f"sql {database} (query SELECT * FROM time_entries WHERE hours < 10, kind work)",
    ])
    reads = [(i["source"], i["read"], i["counted"], i["duplicate"]) for _, i in sorted(inputs.items())]
    # the query's row is also a row of the table: one of the two reads is counted, the same one
    # whatever the order of the entries (equal content: the smaller input name, "(query" here)
    assert reads == [("sql", 1, 1, 0), ("sql", 2, 2, 0), ("sql", 2, 2, 0), ("sql", 3, 2, 1)]
    assert info.user not in json.dumps(data) and PASSWORD not in json.dumps(data)
    crossing = [f for f in data["findings"] if f["rule"] == QUARTERLY]
    assert [f["source"] for f in crossing] == [f"sql {database} (table time_entries, kind work):2"]


def test_a_bad_cell_is_an_invalid_record_naming_the_column(tmp_path):
    url = make_sqlite(tmp_path / "cso.db", extra=[
        "INSERT INTO time_entries VALUES ('w4', 'EX-2026', '2026-06-01', 'retail', 'abc', 'general_account_consulting')",
        "INSERT INTO time_entries VALUES ('w5', 'EX-2026', '2026-06-02', 'retail', -3, 'general_account_consulting')",
        "INSERT INTO expenses VALUES ('e3', 'EX-2026', 'June 3rd', 9.5, 'USD', 'retail', '2026-06-01T00:00:00Z')",
    ])
    data = report(sql_workspace(tmp_path / "ws", TABLE_ENTRIES, url=url))
    invalid = {f["source"]: f["message"] for f in data["findings"] if f["rule"] == "input.invalid_record"}
    location = f"sql sqlite:///{tmp_path / 'cso.db'} (table time_entries, kind work)"
    expenses = f"sql sqlite:///{tmp_path / 'cso.db'} (table expenses, kind expense)"
    # the row's number is its "line"; a cell that cannot be converted names its column
    assert "column 'hours' ($.hours): expected a number, got 'abc'" in invalid.pop(f"{location}:4")
    assert "$.hours: expected a number above 0, got -3" in invalid.pop(f"{location}:5")
    assert "$.date: expected a date (YYYY-MM-DD), got 'June 3rd'" in invalid.pop(f"{expenses}:3")
    assert invalid == {}
    counts = {i["input"]: i for i in data["summary"]["inputs"]}
    assert (counts[location]["read"], counts[location]["counted"], counts[location]["invalid"]) == (5, 3, 2)


def test_a_text_cell_in_a_typed_postgresql_query_names_the_column(tmp_path, monkeypatch, postgresql):
    make_postgres(postgresql)
    monkeypatch.setenv("CSO_TEST_PG_URL", pg_url(postgresql))
    entry = {"kind": "work", "query": "SELECT id, contract, date, lob, 'abc'::text AS hours, service FROM time_entries"}
    data = report(sql_workspace(tmp_path / "ws", [entry], url_env="CSO_TEST_PG_URL"))
    messages = [f["message"] for f in data["findings"] if f["rule"] == "input.invalid_record"]
    assert len(messages) == 3
    assert all("column 'hours' ($.hours): expected a number, got 'abc'" in m for m in messages)


def test_a_naive_timestamp_without_a_timezone_is_an_invalid_record(tmp_path):
    url = make_sqlite(tmp_path / "cso.db")
    data = report(sql_workspace(tmp_path / "ws", [{"kind": "ticket", "table": "tickets"}], url=url))
    messages = [f["message"] for f in data["findings"] if f["rule"] == "input.invalid_record"]
    assert len(messages) == 2 and all("column 'opened_at'" in m and "set the table's timezone" in m for m in messages)


# ------------------------------------------------------------------ configuration errors: exit 2, one line


def test_url_env_unset_is_exit_2(tmp_path, monkeypatch):
    monkeypatch.delenv("CSO_TEST_NO_SUCH_URL", raising=False)
    result = audit(sql_workspace(tmp_path / "ws", TABLE_ENTRIES[:1], url_env="CSO_TEST_NO_SUCH_URL"))
    assert_exit_2(result, "$.url_env", "the environment variable CSO_TEST_NO_SUCH_URL is not set", one_line=True)


def test_a_wrong_password_is_exit_2_without_the_password(tmp_path, monkeypatch, postgresql):
    make_postgres(postgresql)
    monkeypatch.setenv("CSO_TEST_PG_URL", pg_url(postgresql, password="Wr0ng-Secret"))
    result = audit(sql_workspace(tmp_path / "ws", TABLE_ENTRIES[:1], url_env="CSO_TEST_PG_URL"))
    assert_exit_2(result, "password authentication failed", one_line=True)
    assert "Wr0ng-Secret" not in result.output and PASSWORD not in result.output
    assert f"sql postgresql+psycopg://{postgresql.info.host}:{postgresql.info.port}/" in result.stderr


def test_a_password_in_the_workspace_file_is_refused_and_not_printed(tmp_path):
    url = "postgresql+psycopg://auditor:Hunter2-pw@db.example.com/cso"
    result = audit(sql_workspace(tmp_path / "ws", TABLE_ENTRIES[:1], url=url))
    assert_exit_2(result, "$.url: holds a password", "url_env", one_line=True)
    assert "Hunter2-pw" not in result.output


@pytest.mark.parametrize("entry, says", [
    ({"kind": "work", "table": "no_such_table"}, "no table 'no_such_table'"),
    ({"kind": "work", "query": "SELEKT * FROM time_entries"}, "syntax error"),
    ({"kind": "work", "table": "time_entries", "columns": {"hours": "effort"}}, "no column 'effort'"),
    ({"kind": "work", "query": "SELECT * FROM time_entries", "columns": {"hours": "effort"}}, "no column 'effort'"),
    ({"kind": "work", "table": "time_entries", "query": "SELECT 1"}, "exactly one of query"),
    ({"kind": "work"}, "exactly one of query"),
    ({"table": "time_entries"}, "$.kind: required"),
    ({"kind": "work", "table": "time_entries", "batch": 0}, "$.batch"),
    ({"kind": "work", "table": "time_entries", "batch": "many"}, "$.batch"),
], ids=["table", "syntax", "table-column", "query-column", "both", "neither", "kind", "batch", "batch-type"])
def test_an_unusable_entry_is_exit_2_one_line(tmp_path, monkeypatch, postgresql, entry, says):
    make_postgres(postgresql)
    monkeypatch.setenv("CSO_TEST_PG_URL", pg_url(postgresql))
    result = audit(sql_workspace(tmp_path / "ws", [entry], url_env="CSO_TEST_PG_URL"))
    assert_exit_2(result, says, one_line=True)
    assert PASSWORD not in result.output


def test_a_bad_url_is_exit_2_one_line(tmp_path):
    for url, says in (("not a url", "not a database URL"), ("nosuchdb://host/db", "nosuchdb"),
                      (f"sqlite:///{tmp_path}/missing/folder/cso.db", "unable to open database file")):
        result = audit(sql_workspace(tmp_path / "ws", TABLE_ENTRIES[:1], url=url))
        assert_exit_2(result, says, one_line=True)


def test_both_url_and_url_env_is_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("CSO_TEST_PG_URL", "sqlite://")
    result = audit(sql_workspace(tmp_path / "ws", TABLE_ENTRIES[:1], url="sqlite://", url_env="CSO_TEST_PG_URL"))
    assert_exit_2(result, "exactly one of url", one_line=True)


def test_options_from_the_plugins_table_are_overlaid_by_the_entry(tmp_path):
    url = make_sqlite(tmp_path / "cso.db")
    root = workspace(tmp_path / "ws", [{"source": "sql", **e} for e in TABLE_ENTRIES],
                     options={"sql": {"url": url, "timezone": "UTC"}})
    data = report(root)  # the tickets entry's own America/New_York wins over [plugins.sql]
    assert not [f for f in data["findings"] if f["rule"].startswith("input.")]
    assert [f["record"] for f in data["findings"] if f["rule"] == QUARTERLY] == ["w2"]


# ------------------------------------------------------------------ streaming


def bound(url: str | None, **values) -> SqlOptions:
    options = SqlOptions(url=url, **values)
    assert options.problems(None) == []
    assert options.bind(catalogue().kinds) == []
    return options


def test_a_large_query_is_streamed_in_batches(tmp_path):
    path = tmp_path / "large.db"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE w (id TEXT, contract TEXT, date TEXT, lob TEXT, hours REAL, service TEXT, "
                     "note TEXT)")
        conn.executemany("INSERT INTO w VALUES (?, ?, ?, ?, ?, ?, ?)",
                         ((f"w{n:05d}", C, "2026-03-01", "retail", 0.25, "general_account_consulting", "x" * 200)
                          for n in range(20_000)))
    conn.close()
    options = bound(f"sqlite:///{path}", kind="work", table="w", batch=500)
    tracemalloc.start()
    try:
        count, last = 0, None
        for file, line, obj in read_sql(None, options):
            count, last = count + 1, (file, line, obj["id"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000 and last == (options.location(None), 20_000, "w19999")
    assert peak < 4_000_000, peak  # 20,000 rows of 200+ bytes are not all held at once


def test_postgresql_rows_come_through_a_server_side_cursor_batch_rows_at_a_time(monkeypatch, postgresql):
    with postgresql.transaction():
        postgresql.execute("CREATE TABLE w AS SELECT 'w' || n AS id, 'EX-2026' AS contract, DATE '2026-03-01' AS date, "
                           "'retail' AS lob, 0.25::numeric AS hours, 'general_account_consulting' AS service "
                           "FROM generate_series(1, 5000) AS n")
    monkeypatch.setenv("CSO_TEST_PG_URL", pg_url(postgresql))
    options = bound(None, url_env="CSO_TEST_PG_URL", kind="work", table="w", batch=700)
    rows = read_sql(None, options)
    try:
        first = next(rows)
        assert first[1] == 1 and first[2]["hours"] == 0.25 and first[2]["date"] == date(2026, 3, 1)  # a typed DATE, no text
        # SQLAlchemy fetches the first row on its own when it executes, then batch rows at a time
        second = next(rows)
        assert second[1] == 2
        # the reading connection is idle in its transaction, after fetching one batch from a cursor
        activity = postgresql.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state = 'idle in transaction'").fetchall()
        assert len(activity) == 1 and activity[0][0].startswith("FETCH FORWARD 700 FROM"), activity
        assert sum(1 for _ in rows) == 4998
    finally:
        rows.close()


def test_a_failure_after_the_first_rows_is_that_inputs_failure(tmp_path, monkeypatch, postgresql):
    # the query fails on its 1500th row, after the first row and the first batch (1000 rows) were
    # delivered (SQLAlchemy fetches one row when it executes, then batch rows at a time)
    make_postgres(postgresql, extra=[
        "CREATE TABLE w AS SELECT 'x' || n AS id, 'EX-2026' AS contract, DATE '2026-03-01' AS date, 'retail' AS lob, "
        "0.01::numeric AS hours, 'general_account_consulting' AS service FROM generate_series(1, 2000) AS n"])
    monkeypatch.setenv("CSO_TEST_PG_URL", pg_url(postgresql))
    entry = {"kind": "work", "query": "SELECT id, contract, date, lob, service, "
                                      "hours / (1500 - row_number() OVER ()) * (1500 - row_number() OVER ()) AS hours "
                                      "FROM w", "batch": 1000}
    result = audit(sql_workspace(tmp_path / "ws", TABLE_ENTRIES + [entry], url_env="CSO_TEST_PG_URL"))
    assert result.exit_code == 1, result.output
    assert PASSWORD not in result.output
    data = json.loads(result.stdout)
    assert [f for f in data["findings"] if "division by zero" in f["message"] and f["level"] == "error"]
    (failed,) = [i for i in data["summary"]["inputs"] if "failed" in i]
    assert failed["read"] == 1001 and failed["counted"] == 1001 and "division by zero" in failed["failed"], failed
    assert [f["record"] for f in data["findings"] if f["rule"] == QUARTERLY] == ["w2"]
