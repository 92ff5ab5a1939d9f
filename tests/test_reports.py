"""Report formats of `cso-policy audit` (SPEC §3, README "Reports, waivers and baselines"): SARIF 2.1.0,
JUnit XML, CSV, Markdown, the self-contained HTML page, and several formats in one run.

The report workspace (``ws`` under tmp_path; tests run from tmp_path so every source is
``ws/records/records.jsonl:<line>``), as of 2026-12-31T00:00:00Z:

- C-1 (overage agreed at USD 240/h, SOW-114): package p1 Premier for LOB a (113 h/quarter, Section 1),
  package p2 Fundamentals for LOB b (65 h/quarter).
- C-2: package p1 Expert for LOB x (246 h/quarter).

records.jsonl, in date order (line: record):
  1 w1  C-1 a 2026-01-05 100 h
  2 w3  C-1 b 2026-01-20  10 h            p2 Q1 = 10 h <= 65
  3 x1  C-2 x 2026-02-01  30 h            C-2 Q1 = 30 h <= 246
  4 w2  C-1 a 2026-02-05  20 h            p1 Q1 = 100 + 20 = 120 h > 113: crossed by w2, 7 h over
  5 t1  C-1 a P3 ticket, response 1 h, resolved after 24 h   (Premier P3: 2 d / 3 d / 5 d) -> met
  6 t2  C-1 a P3 ticket, response 72 h > 48 h                -> sla.response, 24 h over
  7 w4  C-1 b 2026-04-06   5 h            p2 Q2 = 5 h

Findings: billing.overage_unbilled w2 (error; 7 h x USD 240 = USD 1,680, nothing invoiced),
entitlement.quarterly_hours w2 (warning, 7 h; waived by waivers.toml in most tests) and
sla.response t2 (error, PT24H). With the waiver: 2 findings (2 error, 0 warning) + 1 waived.
SLA attainment: C-1 premier P3, 2 measured, 1 met = 50 %.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from cso_policy.cli import main
from tests.conftest import assert_exit_2, make_contract, ticket, work

AS_OF = "2026-12-31T00:00:00Z"
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
SOURCE = "ws/records/records.jsonl"
REASON = "Q1 launch support <agreed> & minuted"

CONTRACTS = [
    make_contract("C-1", packages=[("p1", "premier", ["a"]), ("p2", "fundamentals", ["b"])]),
    make_contract("C-2", tier="expert", lobs=["x"]),
]
T1 = ticket("t1", "2026-02-10T09:00:00-05:00", first_response_at="2026-02-10T10:00:00-05:00",
            resolved_at="2026-02-11T09:00:00-05:00")
T2 = ticket("t2", "2026-03-02T09:00:00-05:00", first_response_at="2026-03-05T09:00:00-05:00",
            resolved_at="2026-03-05T10:00:00-05:00")
WORK = [
    work("w1", "2026-01-05", 100),
    work("w3", "2026-01-20", 10, lob="b"),
    work("x1", "2026-02-01", 30, lob="x", contract="C-2"),
    work("w2", "2026-02-05", 20),
]
RECORDS = WORK + [T1, T2, work("w4", "2026-04-06", 5, lob="b")]
NO_TICKETS = WORK + [work("w4", "2026-04-06", 5, lob="b")]


@pytest.fixture
def ws(make_workspace, tmp_path, monkeypatch):
    """The report workspace and its waivers file; the cwd is tmp_path."""
    make_workspace(CONTRACTS, RECORDS)
    (tmp_path / "waivers.toml").write_text(
        "[[waiver]]\n"
        'rule = "entitlement.quarterly_hours"\n'
        'contract = "C-1"\n'
        'record = "w2"\n'
        f"reason = {json.dumps(REASON)}\n"
        'approved_by = "finance@example.com"\n'
        "expires = 2026-12-31\n"
    )
    monkeypatch.chdir(tmp_path)
    return "ws"


def audit(runner, *args, waivers=True):
    extra = ["--waivers", "waivers.toml"] if waivers else []
    return runner.invoke(main, ["audit", "ws", "--as-of", AS_OF, *extra, *map(str, args)])


def report(runner, fmt, **kwargs):
    result = audit(runner, "--format", fmt, **kwargs)
    assert result.exit_code == 1, result.output  # two unwaived errors
    return result


def json_report(runner, **kwargs) -> dict:
    return json.loads(report(runner, "json", **kwargs).stdout)


def catalogue_rules(runner) -> dict[str, dict]:
    result = runner.invoke(main, ["rules", "--format", "json"])
    assert result.exit_code == 0
    return {r["id"]: r for r in json.loads(result.stdout)}


def test_the_report_workspace_has_the_findings_worked_out_above(runner, ws):
    document = json_report(runner)
    assert [(f["rule"], f["record"], f["source"], f["waiver"] is not None) for f in document["findings"]] == [
        ("billing.overage_unbilled", "w2", f"{SOURCE}:4", False),
        ("entitlement.quarterly_hours", "w2", f"{SOURCE}:4", True),
        ("sla.response", "t2", f"{SOURCE}:6", False),
    ]
    summary = document["summary"]
    assert (summary["findings"], summary["waived"], summary["by_level"]) == (2, 1, {"error": 2, "warning": 0, "info": 0})
    assert [(p["contract"], p["package"], [(q["period"], q["hours"], q["cap"]) for q in p["quarters"]])
            for p in summary["hours"]] == [
        ("C-1", "p1", [("2026-Q1", 120.0, 113.0)]),
        ("C-1", "p2", [("2026-Q1", 10.0, 65.0), ("2026-Q2", 5.0, 65.0)]),
        ("C-2", "p1", [("2026-Q1", 30.0, 246.0)]),
    ]
    [sla] = summary["sla_attainment"]
    assert (sla["contract"], sla["tier"], sla["severity"], sla["measured"], sla["met"]) == ("C-1", "premier", "P3", 2, 1)


# ---------------------------------------------------------------- SARIF


def validate_sarif(log: dict) -> None:
    validator_cls = jsonschema.validators.validator_for(SARIF_SCHEMA)
    validator_cls.check_schema(SARIF_SCHEMA)
    validator_cls(SARIF_SCHEMA, format_checker=validator_cls.FORMAT_CHECKER).validate(log)


def test_sarif_validates_against_the_official_schema(runner, ws):
    log = json.loads(report(runner, "sarif").stdout)
    validate_sarif(log)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_sarif_has_one_rule_entry_per_rule_id_with_its_clause_in_help(runner, ws):
    run = json.loads(report(runner, "sarif").stdout)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    catalogue = catalogue_rules(runner)
    assert len(ids) == len(set(ids))  # one entry per id
    assert set(ids) == set(catalogue)
    for r in rules:
        # e.g. entitlement.quarterly_hours: "... Clause: Section 1 of the CSO terms. ..."
        assert f"Clause: {catalogue[r['id']]['clause']} " in r["help"]["text"], r
    by_id = {r["id"]: r for r in rules}
    assert "Clause: Section 1 " in by_id["entitlement.quarterly_hours"]["help"]["text"]
    assert "Clause: Table 8 " in by_id["sla.response"]["help"]["text"]
    assert by_id["billing.overage_unbilled"]["defaultConfiguration"]["level"] == "error"


def test_sarif_results_carry_the_record_file_line_and_fingerprint(runner, ws):
    findings = json_report(runner)["findings"]
    run = json.loads(report(runner, "sarif").stdout)["runs"][0]
    results = run["results"]
    assert len(results) == len(findings) == 3
    rules = run["tool"]["driver"]["rules"]
    for result, finding in zip(results, findings):
        assert result["ruleId"] == finding["rule"] == rules[result["ruleIndex"]]["id"]
        [location] = result["locations"]
        line = int(finding["source"].rpartition(":")[2])
        # w2 is line 4 of records.jsonl, t2 line 6
        assert location["physicalLocation"] == {"artifactLocation": {"uri": SOURCE}, "region": {"startLine": line}}
        assert result["partialFingerprints"] == {"csoPolicy/v1": finding["fingerprint"]}
        assert result["properties"]["record"] == finding["record"]
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("billing.overage_unbilled", "error", 4), ("entitlement.quarterly_hours", "warning", 4), ("sla.response", "error", 6)]


def test_sarif_waived_findings_carry_suppressions(runner, ws):
    results = json.loads(report(runner, "sarif").stdout)["runs"][0]["results"]
    suppressed = {r["ruleId"]: r["suppressions"] for r in results if "suppressions" in r}
    # only the waived quarterly-hours finding of w2, justified by the waiver's reason
    assert suppressed == {"entitlement.quarterly_hours": [{"kind": "external", "justification": REASON}]}
    # without the waivers file nothing is suppressed (and the log is still valid)
    log = json.loads(report(runner, "sarif", waivers=False).stdout)
    validate_sarif(log)
    assert not any("suppressions" in r for r in log["runs"][0]["results"])


# ---------------------------------------------------------------- JUnit


def test_junit_has_one_testcase_per_contract_and_rule_and_failures_carry_the_findings(runner, ws):
    rule_ids = sorted(catalogue_rules(runner))
    root = ET.fromstring(report(runner, "junit").stdout_bytes)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["C-1", "C-2"]
    lines = []
    for suite in suites:
        cases = suite.findall("testcase")
        # one test case per contract x rule: the whole catalogue, once each
        assert [c.get("name") for c in cases] == rule_ids
        assert {c.get("classname") for c in cases} == {suite.get("name")}
        failed = [c for c in cases if c.find("failure") is not None]
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(len(failed))
        assert suite.get("errors") == "0"
        for case in failed:
            [failure] = case.findall("failure")
            assert failure.get("type") == case.get("name")
            found = failure.text.splitlines()
            assert failure.get("message").startswith(f"{len(found)} finding(s): ")
            lines += [(case.get("name"), line) for line in found]
    # C-1: overage unbilled (w2, line 4) and the late response (t2, line 6) fail; the waived
    # quarterly-hours finding does not; C-2 (30 h <= 246) passes every case.
    assert [(s.get("name"), s.get("failures")) for s in suites] == [("C-1", "2"), ("C-2", "0")]
    assert [(rule, line.split(": ")[:3]) for rule, line in lines] == [
        ("billing.overage_unbilled", [f"{SOURCE}:4", "error", "w2"]),
        ("sla.response", [f"{SOURCE}:6", "error", "t2"]),
    ]
    # the failure lines are the unwaived findings: 3 findings - 1 waived = 2
    assert len(lines) == json_report(runner)["summary"]["findings"] == 2


def test_junit_without_the_waiver_fails_the_quarterly_hours_case(runner, ws):
    root = ET.fromstring(report(runner, "junit", waivers=False).stdout_bytes)
    c1 = root.find("testsuite[@name='C-1']")
    assert c1.get("failures") == "3"
    failure = c1.find("testcase[@name='entitlement.quarterly_hours']/failure")
    assert failure.get("message").startswith("1 finding(s): package p1 (premier; a): 120 h worked in 2026-Q1")
    assert failure.text.startswith(f"{SOURCE}:4: warning: w2: ")


# ---------------------------------------------------------------- CSV


def test_csv_round_trips_one_row_per_finding_with_the_json_impact(runner, ws):
    findings = json_report(runner)["findings"]
    rows = list(csv.DictReader(io.StringIO(report(runner, "csv").stdout)))
    assert len(rows) == len(findings) == 3
    for row, f in zip(rows, findings):
        for key in ("rule", "level", "contract", "lob", "record", "source", "clause", "policy", "message", "fingerprint"):
            assert row[key] == (f[key] or ""), key
        impact = f["impact"]
        for key in ("hours", "amount", "duration_seconds"):
            assert (float(row[key]) if row[key] else None) == impact.get(key), key
        assert row["currency"] == impact.get("currency", "")
        assert row["waived"] == ("yes" if f["waiver"] else "")
    by_rule = {r["rule"]: r for r in rows}
    # 7 h over x USD 240 = USD 1,680 on both hours findings; the late response has only a duration (24 h = 86400 s)
    assert [(by_rule[r]["hours"], by_rule[r]["amount"], by_rule[r]["currency"])
            for r in ("billing.overage_unbilled", "entitlement.quarterly_hours")] == [("7.0", "1680.00", "USD")] * 2
    assert (by_rule["sla.response"]["hours"], by_rule["sla.response"]["duration_seconds"]) == ("", "86400.0")
    assert by_rule["entitlement.quarterly_hours"]["waiver_reason"] == REASON


# ---------------------------------------------------------------- Markdown


def test_markdown_has_the_summary_and_the_findings_table(runner, ws):
    out = report(runner, "markdown").stdout
    assert out.startswith("# cso-policy audit\n")
    assert "2 finding(s) in 7 record(s) over 2 contract(s); 2 error, 0 warning, 0 info; 1 waived." in out
    assert "| billing.overage_unbilled | 1 | 7 | USD 1,680.00 |" in out
    table = out.split("## Findings\n", 1)[1].strip().splitlines()
    assert table[0] == "| level | rule | contract | lob | record | source | impact | message |"
    assert set(table[1].replace(" ", "").split("|")) == {"", "---"}
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table[2:]]
    assert [row[:6] for row in rows] == [
        ["error", "billing.overage_unbilled", "C-1", "a", "w2", f"{SOURCE}:4"],
        ["warning (waived)", "entitlement.quarterly_hours", "C-1", "a", "w2", f"{SOURCE}:4"],
        ["error", "sla.response", "C-1", "a", "t2", f"{SOURCE}:6"],
    ]
    assert [row[6] for row in rows] == ["7 h, USD 1,680.00", "7 h, USD 1,680.00", "24 h over"]


# ---------------------------------------------------------------- HTML

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None = None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def iter(self, tag: str | None = None):
        for child in self.children:
            if isinstance(child, Node):
                if tag is None or child.tag == tag:
                    yield child
                yield from child.iter(tag)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find(self, tag: str, **attrs) -> Node | None:
        return next((n for n in self.iter(tag) if all(n.attrs.get(k) == v for k, v in attrs.items())), None)


class Tree(HTMLParser):
    """A small DOM from the stdlib parser: enough to query tags, attributes and text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {})
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


EXTERNAL = re.compile(r"\s*(https?:)?//", re.IGNORECASE)
NETWORK = re.compile(r"fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon|import|\.src\b|href|https?:|//", re.IGNORECASE)


def assert_self_contained(dom: Node) -> None:
    for node in dom.iter():
        assert "src" not in node.attrs, (node.tag, node.attrs)  # no <script src>, <img src>, <iframe src>...
        for name in ("href", "xlink:href", "action", "srcset", "data", "poster"):
            value = node.attrs.get(name)
            assert value is None or not EXTERNAL.match(value), (node.tag, name, value)
        assert node.tag not in ("link", "iframe", "object", "embed"), node.tag
    for script in dom.iter("script"):  # the inline filter script only: it loads nothing
        assert not NETWORK.search(script.text()), script.text()
    for style in dom.iter("style"):
        assert "url(" not in style.text() and "@import" not in style.text()


def findings_trs(dom: Node) -> list[Node]:
    """The findings rows, over the contracts' groups (a table each) in the findings section."""
    section = dom.find("section", id="findings")
    assert section is not None
    tables = [t for t in section.iter("table") if "findings" in t.attrs.get("class", "").split()]
    return [tr for table in tables for tr in table.find("tbody").iter("tr")]


def findings_rows(dom: Node) -> list[list[str]]:
    return [[td.text() for td in tr.iter("td")] for tr in findings_trs(dom)]


def cards(dom: Node) -> dict[str, str]:
    out = {}
    for card in dom.iter("div"):
        if card.attrs.get("class") == "card":
            value = card.find("b").text()
            out[card.text()[len(value):].strip()] = value
    return out


def svg_labels(dom: Node) -> list[str]:
    return [svg.attrs.get("aria-label", "") for svg in dom.iter("svg")]


def test_html_is_one_self_contained_page(runner, ws):
    text = report(runner, "html").stdout
    assert text.startswith("<!DOCTYPE html>")
    dom = Tree(text).root
    assert [n.tag for n in dom.children if isinstance(n, Node)] == ["html"]
    assert_self_contained(dom)


def test_html_has_the_summary_and_one_findings_row_per_finding(runner, ws):
    document = json_report(runner)
    summary = document["summary"]
    dom = Tree(report(runner, "html").stdout).root
    # summary cards: 2 findings (2 error, 0 warning, 0 info), 1 waived, 7 records, 2 contracts,
    # USD 1,680.00 overage unbilled (7 h x USD 240)
    assert cards(dom) == {
        "findings": str(summary["findings"]), "error": "2", "warning": "0", "info": "0",
        "waived": str(summary["waived"]), "records": "7", "contracts": "2", "overage unbilled": "USD 1,680.00",
    }
    rows = findings_rows(dom)
    assert len(rows) == len(document["findings"]) == 3  # the waived one is listed too
    assert [(r[1], r[4], r[5]) for r in rows] == [(f["rule"], f["record"], f["source"]) for f in document["findings"]]
    assert [tr.attrs.get("class") for tr in findings_trs(dom)] == [None, "waived", None]
    assert f"waived: {REASON} (finance@example.com, until 2026-12-31)" in rows[1][8]


def test_html_has_an_hours_chart_per_package_and_an_sla_chart(runner, ws):
    dom = Tree(report(runner, "html").stdout).root
    labels = svg_labels(dom)
    hours = [label for label in labels if "hours per quarter against the cap" in label]
    # one chart per package with work: C-1 p1, C-1 p2, C-2 p1
    assert [h.split(":")[0] for h in hours] == [
        "C-1 · package p1 (premier)", "C-1 · package p2 (fundamentals)", "C-2 · package p1 (expert)"]
    charts = [svg for svg in dom.iter("svg") if "hours per quarter" in svg.attrs.get("aria-label", "")]
    # bars: p1 Q1 120 h over the 113 h cap; p2 Q1 10 h and Q2 5 h against 65 h; C-2 Q1 30 h against 246 h
    assert [[t.text() for t in svg.iter("title")] for svg in charts] == [
        ["2026-Q1: 120 h"], ["2026-Q1: 10 h", "2026-Q2: 5 h"], ["2026-Q1: 30 h"]]
    assert [len(list(svg.iter("line"))) for svg in charts] == [1, 2, 1]  # the cap line of each bar
    sla = [svg for svg in dom.iter("svg") if svg.attrs.get("aria-label", "").startswith("SLA attainment")]
    assert len(sla) == 1
    # C-1 premier P3: 1 of 2 measured tickets met every target = 50 %
    assert [t.text() for t in sla[0].iter("title")] == ["C-1 premier P3: 50 %"]


def test_html_without_tickets_has_no_sla_chart(runner, ws, make_workspace):
    shutil.rmtree("ws")
    make_workspace(CONTRACTS, NO_TICKETS)
    dom = Tree(report(runner, "html", waivers=False).stdout).root
    labels = svg_labels(dom)
    assert len(labels) == 3 and all("hours per quarter" in label for label in labels)
    assert "no tickets measured" in dom.text()


def find_browser() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


# CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
@pytest.mark.skipif(find_browser() is None and not os.environ.get("CI"),
                    reason="no headless browser (chromium, chromium-browser, google-chrome)")
def test_html_renders_in_a_headless_browser(runner, ws, tmp_path):
    assert find_browser() is not None, "no headless browser: .ci/run installs Debian's chromium"
    assert audit(runner, "--format", "html", "--output", "report.html").exit_code == 1
    page = (tmp_path / "report.html").resolve()
    profile = tmp_path / "browser-profile"
    done = subprocess.run(
        [find_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    dom = Tree(done.stdout).root
    rows = findings_rows(dom)  # the browser's DOM has the findings table with its 3 rows
    assert [(r[1], r[4]) for r in rows] == [
        ("billing.overage_unbilled", "w2"), ("entitlement.quarterly_hours", "w2"), ("sla.response", "t2")]
    assert len(svg_labels(dom)) == 4  # 3 hours charts + the SLA chart


# ---------------------------------------------------------------- several formats in one run


def test_several_formats_in_one_run_write_one_file_each(runner, ws, tmp_path):
    result = audit(runner, "--format", "json", "--format", "html", "--format", "csv", "--output-dir", "out/")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("wrote out/report.json, out/report.html, out/report.csv\n2 finding(s)")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.csv", "report.html", "report.json"]
    for fmt, ext in (("json", "json"), ("html", "html"), ("csv", "csv")):
        single = report(runner, fmt).stdout_bytes
        assert (tmp_path / "out" / f"report.{ext}").read_bytes() == single, fmt


def test_several_formats_without_output_dir_is_a_usage_error(runner, ws):
    result = audit(runner, "--format", "json", "--format", "html")
    assert_exit_2(result, "several --format values need --output-dir")
    assert result.stdout == ""


def test_progress_bar_shows_bytes_percentage_and_records_when_asked(tmp_path):
    """--progress forces the bar (tqdm, on stderr): the bytes of the files read to 100 %, and the
    records; the report on stdout is untouched."""
    from click.testing import CliRunner

    from cso_policy.cli import main

    example = Path(__file__).resolve().parents[1] / "examples" / "northwind"
    args = ["audit", str(example), "--as-of", "2026-12-31T00:00:00Z", "--format", "json"]
    shown = CliRunner().invoke(main, args + ["--progress", "--jobs", "1"])
    assert "reading records: 100%" in shown.stderr and "698 records" in shown.stderr
    assert shown.stdout == CliRunner().invoke(main, args + ["--jobs", "1"]).stdout
    shared = CliRunner().invoke(main, args + ["--progress", "--jobs", "2"])
    assert "reading records: 100%" in shared.stderr and "698 records" in shared.stderr
    assert "reading records" not in CliRunner().invoke(main, args + ["--progress", "--quiet", "--no-progress"]).stderr


def test_no_progress_when_not_on_a_terminal(tmp_path):
    # CliRunner's stderr is not a terminal: nothing but the report
    from click.testing import CliRunner

    from cso_policy.cli import main

    example = Path(__file__).resolve().parents[1] / "examples" / "northwind"
    result = CliRunner().invoke(main, ["audit", str(example), "--as-of", "2026-12-31T00:00:00Z", "--format", "json"])
    assert "auditing:" not in result.output and "auditing:" not in result.stderr


# ---------------------------------------------------------------- the text report, for a person


def test_text_report_folds_one_problem_repeated_into_one_line_naming_the_first_places(tmp_path):
    """21 records of a contract no file defines are one line with the count, the first three
    places and records; field paths read as words; durations as hours and minutes."""
    from click.testing import CliRunner

    from cso_policy.cli import main
    from cso_policy.testing import Workspace

    ws = Workspace(tmp_path)
    ws.contract()
    records = [{"kind": "work", "id": f"w{i}", "contract": "AC-2026", "date": "2026-01-05", "lob": "retail",
                "hours": 1, "service": "general_account_consulting"} for i in range(21)]
    records.append({"kind": "ticket", "id": "t1", "lob": "retail", "severity": "P9",
                    "opened_at": "2026-03-02T09:00:00-05:00", "channel": "web"})
    path = ws.records(records)
    result = CliRunner().invoke(main, ["audit", "--contracts", str(tmp_path / "contracts"), "--records", str(path),
                                       "--as-of", "2027-01-01T00:00:00Z"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "AC-2026",
        f"  {path}:1, {path}:2, {path}:3 and 18 more: error: input.unknown_reference [record format] "
        "w0, w1, w2 and 18 more: unknown contract 'AC-2026' (21 times)",
    ]
    assert f"  {path}:22: error: input.invalid_record [record format] -: field severity: expected one of P1, P2, P3, " \
           "got 'P9'" in lines


def test_an_impact_over_a_target_reads_in_hours_and_minutes():
    from cso_policy.core.model import Impact

    assert Impact(duration_seconds=27000).text() == "7 h 30 min over"
    assert Impact(duration_seconds=45).text() == "45 s over"
    assert Impact(duration_seconds=27000).as_dict() == {"duration": "PT7H30M", "duration_seconds": 27000.0}  # json keeps ISO 8601


def test_output_dir_says_where_the_files_went_and_what_they_say(tmp_path):
    from click.testing import CliRunner

    from cso_policy.cli import main
    from cso_policy.testing import Workspace

    ws = Workspace(tmp_path)
    ws.contract()
    path = ws.records([{"kind": "work", "id": "w1", "date": "2026-01-05", "lob": "retail", "hours": 60,
                        "service": "general_account_consulting"},
                       {"kind": "work", "id": "w2", "date": "2026-02-02", "lob": "retail", "hours": 60,
                        "service": "general_account_consulting"}])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["audit", "--contracts", str(tmp_path / "contracts"), "--records", str(path),
                                       "--as-of", "2027-01-01T00:00:00Z", "--format", "json", "--format", "csv",
                                       "--output-dir", str(out)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        f"wrote {out / 'report.json'}, {out / 'report.csv'}",
        "2 finding(s) (1 error, 1 warning, 0 info) in 2 record(s) over 1 contract(s)"]
    assert (out / "report.json").is_file() and (out / "report.csv").is_file()
