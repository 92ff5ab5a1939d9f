"""The CSV record source (``source = "csv"``): a column map, constants, typed cells, the header
row, delimiters, encodings, and rows reported at the line they start on.

Worked case (the example contract, Premier, 113 h per contract quarter): w1 60 h on 2026-01-05
and w2 60 h on 2026-02-02 -> 120 h in 2026-Q1, w2 crosses the cap: entitlement.quarterly_hours
7 h over, and with no overage line on the draft invoice billing.overage_unbilled 7 h x USD 240.
The same rows as JSON Lines give the same findings.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cso_policy.inputs.csv as csv_source
from cso_policy.cli import main
from cso_policy.testing import EXAMPLE_AS_OF, Workspace, catalogue, contract_data, toml_text
from tests.conftest import assert_exit_2

QUARTERLY = "entitlement.quarterly_hours"
UNBILLED = "billing.overage_unbilled"
INVALID = "input.invalid_record"
PLUGINS = [csv_source]  # harmless once csv is a default plugin: a module registered twice is skipped

WORK_COLUMNS = {"id": "Entry ID", "date": "Date", "lob": "Team", "hours": "Hours", "service": "Service",
                "note": "Note"}
WORK_OPTIONS = {"kind": "work", "columns": WORK_COLUMNS, "set": {"contract": "EX-2026"},
                "decimal": ",", "date_format": "%d.%m.%Y"}
CRLF = "\r\n"


def work(id: str, day: str, hours: float, **extra) -> dict:
    return {"kind": "work", "id": id, "contract": "EX-2026", "date": day, "lob": "retail", "hours": hours,
            "service": "general_account_consulting", **extra}


def write(path: Path, text: str, *, bom: bool = False, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def timesheet(rows: list[str]) -> str:
    return CRLF.join(["Entry ID;Date;Team;Hours;Service;Note", *rows]) + CRLF


def csv_audit(tmp_path: Path, text: str, *, bom: bool = False, name: str = "hours.csv", **options):
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    write(ws.root / name, text, bom=bom)
    ws.source("csv", name, **{**WORK_OPTIONS, **options})
    return ws.audit(plugins=PLUGINS)


def jsonl_audit(tmp_path: Path, records: list) -> object:
    ws = Workspace(tmp_path / "ws-jsonl")
    ws.contract()
    ws.records(records)
    return ws.audit()


def findings(result) -> list[tuple]:
    """What a finding says, without where it was read."""
    return sorted((f.rule, f.record, f.contract, f.period, re.sub(r"\S*(/|\\)\S+\.(csv|jsonl)(:\d+)?\s*", "", f.message),
                   f.impact) for f in result.findings)


def counts(result) -> dict:
    (found,) = result.report.summary()["inputs"]
    return {k: v for k, v in found.items() if k != "input"}


# ---------------------------------------------------------------- the worked case


def test_timesheet_with_bom_crlf_decimal_comma_and_dates_gives_the_jsonl_findings(tmp_path):
    text = timesheet(['w1;05.01.2026;retail;60;general_account_consulting;"kick-off;\r\nworkshop"',
                      "w2;02.02.2026;retail;60,0;general_account_consulting;"])
    result = csv_audit(tmp_path, text, bom=True)
    assert [(f.record, f.impact.hours) for f in result.of(QUARTERLY)] == [("w2", 7.0)]
    assert [(f.record, f.impact.amount) for f in result.of(UNBILLED)] == [("w2", 1680.0)]
    # w2 starts on line 4: w1's note holds a newline
    assert result.of(QUARTERLY)[0].source.endswith("hours.csv:4")
    same = jsonl_audit(tmp_path, [work("w1", "2026-01-05", 60, note="kick-off;\r\nworkshop"),
                                  work("w2", "2026-02-02", 60)])
    assert findings(result) == findings(same)
    assert counts(result) == {"source": "csv", "read": 2, "counted": 2, "duplicate": 0, "conflicting": 0,
                              "invalid": 0, "unresolved": 0, "incomplete": 0, "left_out": 0}


def test_a_bad_row_after_a_quoted_newline_is_reported_at_the_line_it_starts_on(tmp_path):
    text = timesheet(['w1;05.01.2026;retail;7,5;general_account_consulting;"line one\r\nline two\r\nline three"',
                      "w2;06.01.2026;retail;abc;general_account_consulting;",
                      "w3;07.01.2026;retail;1,5;general_account_consulting;"])
    result = csv_audit(tmp_path, text)
    (bad,) = result.of(INVALID)
    assert bad.source.endswith("hours.csv:5")  # header 1, w1 lines 2-4, w2 line 5
    assert "column 'Hours' ($.hours): expected a number, got 'abc'" in bad.message
    assert counts(result)["read"] == 3 and counts(result)["counted"] == 2 and counts(result)["invalid"] == 1


def test_cells_that_do_not_convert_name_the_column_and_the_field(tmp_path):
    text = timesheet(["w1;2026-01-05;retail;1;general_account_consulting;",  # not %d.%m.%Y
                      "w2;05.01.2026;retail;1;general_account_consulting;",
                      "w3;05.01.2026;retail;-2;general_account_consulting;"])
    result = csv_audit(tmp_path, text)
    bad = {f.source.rsplit(":", 1)[1]: f.message for f in result.of(INVALID)}
    assert sorted(bad) == ["2", "4"]
    assert "column 'Date' ($.date): expected a date as %d.%m.%Y, got '2026-01-05'" in bad["2"]
    assert "$.hours: expected a number above 0" in bad["4"]  # converted, then checked as any record


def test_a_row_with_too_few_or_too_many_cells_is_invalid_and_blank_rows_are_skipped(tmp_path):
    text = timesheet(["w1;05.01.2026;retail;1;general_account_consulting;;extra", "", ";;;;;",
                      "w2;05.01.2026;retail;1", "w3;05.01.2026;retail;1;general_account_consulting;"])
    result = csv_audit(tmp_path, text)
    bad = sorted((f.source.rsplit(":", 1)[1], f.message.split(": ", 1)[1]) for f in result.of(INVALID))
    assert bad == [("2", "row has 7 cells, the header has 6"), ("5", "row has 4 cells, the header has 6")]
    assert counts(result)["read"] == 3 and counts(result)["counted"] == 1


def test_an_unclosed_quote_says_where_the_row_runs(tmp_path):
    text = timesheet(['w1;05.01.2026;retail;1;general_account_consulting;"open', "w2;05.01.2026;retail;1;x;"])
    (bad,) = csv_audit(tmp_path, text).of(INVALID)
    # the quote swallows w2: the row runs to the end of the file, and is one invalid row
    assert bad.source.endswith(":2") and "a quote not closed?; the row runs from line 2 to line 3" in bad.message


def test_every_row_read_is_accounted_for(tmp_path):
    text = timesheet(["w1;05.01.2026;retail;1;general_account_consulting;",
                      "w1;05.01.2026;retail;1;general_account_consulting;",  # duplicate
                      "w2;05.01.2026;retail;x;general_account_consulting;",  # invalid
                      "w3;05.01.2026;retail;1;general_account_consulting;"])
    result = csv_audit(tmp_path, text, set={"contract": "EX-2026"})
    found = counts(result)
    assert found["read"] == 4
    assert found["read"] == sum(found[k] for k in ("counted", "duplicate", "conflicting", "invalid", "unresolved",
                                                   "incomplete", "left_out"))
    assert (found["counted"], found["duplicate"], found["invalid"]) == (2, 1, 1)


# ---------------------------------------------------------------- tickets: naive timestamps, lists


def test_tickets_with_naive_timestamps_in_a_time_zone_and_updates_in_one_cell(tmp_path):
    # Premier P1 response "1 hour": no first response, first update 1 h 20 min after opening -> 20 min over
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    write(ws.root / "tickets.csv", "\n".join([
        "Ticket,Opened,Sev,Channel,Team,Updates,Resolved,Bug",
        "t1,02.03.2026 09:00,P1,web,retail,02.03.2026 10:20; 02.03.2026 12:00,02.03.2026 13:00,yes",
        "t2,02.03.2026 09:00,P1,web,retail,,,no",  # no update yet: open at as_of
    ]) + "\n")
    ws.source("csv", "tickets.csv", kind="ticket", set={"contract": "EX-2026"}, timezone="America/New_York",
              timestamp_format="%d.%m.%Y %H:%M",
              columns={"id": "Ticket", "opened_at": "Opened", "severity": "Sev", "channel": "Channel",
                       "lob": "Team", "updates": "Updates", "resolved_at": "Resolved", "is_bug": "Bug"})
    result = ws.audit(plugins=PLUGINS)
    assert "sla.response" in result.rules() and "t1" in result.flagged("sla.response")
    assert not result.of(INVALID)
    t1 = {"kind": "ticket", "id": "t1", "contract": "EX-2026", "lob": "retail", "severity": "P1", "channel": "web",
          "opened_at": "2026-03-02T09:00:00-05:00", "updates": ["2026-03-02T10:20:00-05:00", "2026-03-02T12:00:00-05:00"],
          "resolved_at": "2026-03-02T13:00:00-05:00", "is_bug": True}
    t2 = {"kind": "ticket", "id": "t2", "contract": "EX-2026", "lob": "retail", "severity": "P1", "channel": "web",
          "opened_at": "2026-03-02T09:00:00-05:00", "is_bug": False}
    assert findings(result) == findings(jsonl_audit(tmp_path, [t1, t2]))


def test_a_naive_timestamp_without_a_timezone_is_an_invalid_row(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    write(ws.root / "tickets.csv", "id,opened_at,severity,channel,lob\nt1,2026-03-02T09:00,P3,web,retail\n")
    ws.source("csv", "tickets.csv", kind="ticket", set={"contract": "EX-2026"})
    (bad,) = ws.audit(plugins=PLUGINS).of(INVALID)
    assert bad.source.endswith("tickets.csv:2") and "has no UTC offset: set the table's timezone" in bad.message


# ---------------------------------------------------------------- the header row, delimiters, encodings


def test_rows_above_the_header_row_are_skipped_and_the_delimiter_is_sniffed(tmp_path):
    text = ("Northwind timesheet export\n"
            "generated 2026-04-01\n"
            "\n"
            "Entry ID\tDate\tTeam\tHours\tService\tNote\n"
            "w1\t05.01.2026\tretail\t60\tgeneral_account_consulting\t\n"
            "w2\t02.02.2026\tretail\t60\tgeneral_account_consulting\t\n")
    result = csv_audit(tmp_path, text)
    assert [(f.record, f.source.rsplit(":", 1)[1]) for f in result.of(QUARTERLY)] == [("w2", "6")]


def test_a_file_without_a_header_row_names_columns_by_position(tmp_path):
    text = "w1,2026-01-05,retail,60,general_account_consulting\nw2,2026-02-02,retail,60,general_account_consulting\n"
    result = csv_audit(tmp_path, text, header=False, decimal=".", date_format=None,
                       columns={"id": "1", "date": "2", "lob": "3", "hours": "4", "service": "5"})
    assert result.flagged(QUARTERLY) == ["w2"]
    assert result.of(QUARTERLY)[0].source.endswith("hours.csv:2")


def test_without_a_header_row_a_column_past_the_last_one_stops_the_run(tmp_path):
    from cso_policy.errors import ConfigError

    with pytest.raises(ConfigError, match=r"hours.csv: no column '6': the file has no header row and its first "
                                          r"row has 5 cells"):
        csv_audit(tmp_path, "w1,2026-01-05,retail,60,general_account_consulting\n", header=False, decimal=".",
                  date_format=None, columns={"id": "1", "date": "2", "lob": "3", "hours": "4", "service": "5",
                                             "note": "6"})


def test_an_empty_file_or_a_header_alone_has_no_records(tmp_path):
    for number, text in enumerate(["", "Entry ID;Date;Team;Hours;Service;Note\r\n"]):
        result = csv_audit(tmp_path / str(number), text)
        assert result.findings == [] and counts(result)["read"] == 0


def test_an_entry_without_a_path_stops_the_run(tmp_path):
    from cso_policy.errors import ConfigError

    ws = Workspace(tmp_path / "ws")
    ws.contract()
    ws.source("csv", kind="work")
    with pytest.raises(ConfigError, match=r"\(source csv\) \$\.path: required: the csv source reads a file"):
        ws.audit(plugins=PLUGINS)


def test_fields_read_by_their_own_name_and_a_cp1252_file(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    write(ws.root / "hours.csv", "id,contract,date,lob,hours,service,note\n"
          "w1,EX-2026,2026-01-05,retail,60,general_account_consulting,Café\n"
          "w2,EX-2026,2026-02-02,retail,60,general_account_consulting,\n", encoding="cp1252")
    ws.source("csv", "hours.csv", kind="work", encoding="cp1252")
    result = ws.audit(plugins=PLUGINS)
    assert result.flagged(QUARTERLY) == ["w2"] and not result.of(INVALID)


def test_bytes_not_in_the_encoding_spoil_only_their_row(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    (ws.root).mkdir(parents=True, exist_ok=True)
    (ws.root / "hours.csv").write_bytes(
        b"id,date,lob,hours,service,note\r\n"
        b"w1,2026-01-05,retail,60,general_account_consulting,Caf\xe9\r\n"
        b"w2,2026-02-02,retail,60,general_account_consulting,\r\n")
    ws.source("csv", "hours.csv", kind="work", set={"contract": "EX-2026"})
    result = ws.audit(plugins=PLUGINS)
    (bad,) = result.of(INVALID)
    assert bad.source.endswith("hours.csv:2")
    assert "not utf-8-sig: byte 0xe9 at byte offset 86" in bad.message and "encoding" in bad.message
    assert counts(result)["read"] == 2 and counts(result)["counted"] == 1


def test_a_csv_file_is_read_by_its_suffix_with_the_plugins_csv_options(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    write(ws.root / "records" / "hours.csv", timesheet(["w1;05.01.2026;retail;60;general_account_consulting;",
                                                        "w2;02.02.2026;retail;60;general_account_consulting;"]))
    ws.record_files.append(ws.root / "records" / "hours.csv")
    ws.plugin_options("csv", **WORK_OPTIONS)
    assert ws.audit(plugins=PLUGINS).flagged(QUARTERLY) == ["w2"]


def test_registering_the_source_twice_is_harmless():
    cat = catalogue([csv_source, csv_source, "cso_policy.inputs.csv"])
    assert cat.sources["csv"] is csv_source.CSV and ".csv" in cat.suffixes()


# ---------------------------------------------------------------- what stops the run (CLI, exit 2)


def cli_workspace(tmp_path: Path, entry: str, text: str | None = None) -> Path:
    root = tmp_path / "cli"
    (root / "contracts").mkdir(parents=True)
    (root / "contracts" / "EX-2026.toml").write_text(toml_text(contract_data()), encoding="utf-8")
    write(root / "hours.csv", text if text is not None else timesheet(
        ["w1;05.01.2026;retail;60;general_account_consulting;", "w2;02.02.2026;retail;60;general_account_consulting;"]))
    (root / "cso-policy.toml").write_text('contracts = ["contracts"]\n\n[[records]]\npath = "hours.csv"\n'
                                          'source = "csv"\n' + entry, encoding="utf-8")
    return root


GOOD_ENTRY = ('kind = "work"\ndecimal = ","\ndate_format = "%d.%m.%Y"\nset = { contract = "EX-2026" }\n'
              'columns = { id = "Entry ID", date = "Date", lob = "Team", hours = "Hours", service = "Service" }\n')


def cli(runner, root: Path, *args: str):
    return runner.invoke(main, ["--plugin", "cso_policy.inputs.csv", "audit", str(root), "--as-of", EXAMPLE_AS_OF,
                                *args])


def test_cli_audit_of_a_csv_workspace(runner, tmp_path):
    result = cli(runner, cli_workspace(tmp_path, GOOD_ENTRY), "--format", "json")
    assert result.exit_code == 1, result.output  # billing.overage_unbilled is an error
    report = json.loads(result.stdout)
    assert sorted((f["rule"], f["record"]) for f in report["findings"]) == [(UNBILLED, "w2"), (QUARTERLY, "w2")]
    assert report["summary"]["inputs"][0]["source"] == "csv"


def test_cli_a_column_the_header_lacks_is_one_line(runner, tmp_path):
    root = cli_workspace(tmp_path, GOOD_ENTRY.replace('"Hours"', '"Stunden"'))
    assert_exit_2(cli(runner, root), "hours.csv:1: no column 'Stunden' for columns.hours",
                  "'Entry ID', 'Date', 'Team', 'Hours', 'Service', 'Note'", one_line=True)


def test_cli_a_required_field_without_a_column_is_one_line(runner, tmp_path):
    root = cli_workspace(tmp_path, GOOD_ENTRY.replace(' lob = "Team",', ""))
    assert_exit_2(cli(runner, root), "no column 'lob' for the required field lob", one_line=True)


@pytest.mark.parametrize("table", ["columns", "set"])
def test_cli_an_unknown_field_in_the_map_or_the_constants_is_one_line(runner, tmp_path, table):
    entry = GOOD_ENTRY
    if table == "columns":
        entry = entry.replace('service = "Service"', 'service = "Service", hrs = "Hours"')
    else:
        entry = entry.replace('set = { contract = "EX-2026" }', 'set = { contract = "EX-2026", customer = "x" }')
    field = "hrs" if table == "columns" else "customer"
    assert_exit_2(cli(runner, cli_workspace(tmp_path, entry)),
                  f"(source csv) $.{table}.{field}: work records have no field {field!r}", one_line=True)


@pytest.mark.parametrize(("entry", "expected"), [
    (GOOD_ENTRY.replace('kind = "work"\n', ""), "(source csv) $.kind: required"),
    (GOOD_ENTRY.replace('kind = "work"', 'kind = "hours"'), "(source csv) $.kind: expected one of"),
    (GOOD_ENTRY + 'delimiter = ";;"\n', "(source csv) $.delimiter: expected one character"),
    (GOOD_ENTRY + 'encoding = "klingon"\n', "(source csv) $.encoding: unknown encoding 'klingon'"),
    # lines are split on b"\n": a bytes codec, UTF-16/32 or EBCDIC cannot be read line by line
    *((GOOD_ENTRY + f'encoding = "{name}"\n', f"(source csv) $.encoding: '{name}' is not an encoding a CSV file "
       "can be read in") for name in ("hex", "rot13", "utf-16", "utf-32-le", "cp037")),
    (GOOD_ENTRY + 'header = "auto"\n', "(source csv) $.header: expected true or false"),
    (GOOD_ENTRY + 'timezone = "Mars/Olympus"\n', "(source csv) $.timezone: unknown time zone"),
    (GOOD_ENTRY.replace('decimal = ","', 'decimal = ";"'), "(source csv) $.decimal: expected one of ., ,"),
])
def test_cli_wrong_options_are_one_line(runner, tmp_path, entry, expected):
    assert_exit_2(cli(runner, cli_workspace(tmp_path, entry)), "cso-policy.toml $.records[0]", expected,
                  one_line=True)


def test_cli_a_header_row_in_another_encoding_is_one_line(runner, tmp_path):
    root = cli_workspace(tmp_path, GOOD_ENTRY)
    (root / "hours.csv").write_bytes(b"Entr\xe9e ID;Date\r\nw1;05.01.2026\r\n")
    assert_exit_2(cli(runner, root), "hours.csv:1: not utf-8-sig: byte 0xe9", one_line=True)


# ---------------------------------------------------------------- property: CSV and JSONL agree


@st.composite
def work_records(draw) -> list[dict]:
    """Up to 20 work records with distinct ids over two contract quarters, hours in quarters of
    an hour, notes with delimiters, quotes and newlines."""
    count = draw(st.integers(min_value=1, max_value=20))
    from datetime import date, timedelta

    out = []
    for i in range(count):
        day = date(2026, 1, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=180)))
        hours = draw(st.integers(min_value=1, max_value=240)) / 4
        note = draw(st.sampled_from(["", "plain", 'a "quoted" word', "semi;colon, comma", "two\nlines", "crlf\r\nend"]))
        record = work(f"w{i:02d}", day.isoformat(), hours)
        if note:
            record["note"] = note
        out.append(record)
    return out


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=work_records(), delimiter=st.sampled_from([",", ";", "\t"]), comma=st.booleans())
def test_records_written_as_csv_give_the_findings_of_the_same_records_as_jsonl(records, delimiter, comma):
    with tempfile.TemporaryDirectory() as tmp:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(["ID", "Day", "LOB", "Hours", "Service", "Note"])
        for r in records:
            hours = f"{r['hours']:.2f}".replace(".", ",") if comma else str(r["hours"])
            writer.writerow([r["id"], r["date"], r["lob"], hours, r["service"], r.get("note", "")])
        ws = Workspace(Path(tmp) / "csv")
        ws.contract()
        write(ws.root / "work.csv", buffer.getvalue(), bom=True)
        ws.source("csv", "work.csv", kind="work", set={"contract": "EX-2026"}, decimal="," if comma else ".",
                  columns={"id": "ID", "date": "Day", "lob": "LOB", "hours": "Hours", "service": "Service",
                           "note": "Note"})
        from_csv = ws.audit(plugins=PLUGINS)
        assert not from_csv.of(INVALID), [f.message for f in from_csv.of(INVALID)]
        from_jsonl = jsonl_audit(Path(tmp), records)
        assert findings(from_csv) == findings(from_jsonl)
        assert counts(from_csv)["counted"] == len(records)
