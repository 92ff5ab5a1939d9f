"""A plugin that misbehaves while the audit runs (sys.exit, print, wrong values) is a plugin.error
naming it; the run goes on, the other findings stay, and stdout holds only the report."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV
from cso_policy.reports import Report
from cso_policy.testing import EXAMPLE_AS_OF, Workspace, catalogue

FORMATS = ("json", "text", "sarif", "junit", "csv", "markdown", "html")

BASE = [("billing.expense_unapproved", "e0"), ("billing.expense_unapproved", "e1"),
        ("billing.expense_unapproved", "e2"), ("input.unknown_reference", "x1")]
"""The workspace's findings without a plugin: four errors."""


@pytest.fixture(autouse=True)
def _no_installed_plugins(monkeypatch):
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")


@pytest.fixture
def ws(tmp_path) -> Workspace:
    """Three unapproved expenses and a record of an unknown contract: the four BASE errors."""
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    ws.records([{"kind": "expense", "id": f"e{i}", "date": "2026-03-02", "amount": 10.0 + i, "currency": "USD",
                 "approved_at": None} for i in range(3)]
               + [{"kind": "expense", "id": "x1", "contract": "NOPE", "date": "2026-03-02", "amount": 1.0,
                   "currency": "USD", "approved_at": None}])
    return ws


def _plugin(folder: Path, body: str, name: str = "acme") -> Path:
    path = folder / f"{name}.py"
    path.write_text("import math, os, sys\nimport attrs\n"
                    "from cso_policy import EntitlementSection, Impact, Level, ReportFormat, Violation, hookimpl, rule\n"
                    + textwrap.dedent(body), encoding="utf-8")
    return path


def _rule(folder: Path, check: str = "pass", finish: str = "return ()") -> Path:
    """A plugin whose rule acme.bad runs *check* on expense e0, and *finish* once."""
    return _plugin(folder, f"""
@rule("acme.bad", "A bad rule", "Addendum A", Level.WARNING, kinds=("expense",))
def bad(record, contract, pool, audit):
    if record.id == "e0":
        {check}
    return ()

def _finish(audit):
    {finish}

bad = attrs.evolve(bad, finish=_finish)

@hookimpl
def cso_policy_rules():
    return [bad]
""")


def _args(ws: Workspace, *plugins: Path, fmt: str = "json") -> list[str]:
    return [*(a for p in plugins for a in ("--plugin", str(p))), "audit", "--contracts", str(ws.contract_files[0]),
            "--records", str(ws.record_files[0]), "--as-of", EXAMPLE_AS_OF, "--format", fmt]


def _audit(ws: Workspace, *plugins: Path):
    result = CliRunner().invoke(main, _args(ws, *plugins))
    assert result.stdout.startswith("{"), (result.stdout, result.stderr)
    return result, json.loads(result.stdout)


def _pairs(report: dict) -> list[tuple[str, str]]:
    return [(f["rule"], f["record"]) for f in report["findings"] if f["rule"] != "plugin.error"]


def _errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == "plugin.error"]


def _one_error(result, report) -> str:
    """The run went on: exit 1, the BASE findings all there, one plugin.error naming acme."""
    assert result.exit_code == 1, result.output
    assert set(BASE) <= set(_pairs(report))
    [error] = _errors(report)
    assert error["plugin"] == "acme" and error["message"].startswith("plugin acme: ")
    return error["message"]


# -- 1: sys.exit in plugin code during the run ---------------------------------------------

@pytest.mark.parametrize("code", [0, 1, 2])
@pytest.mark.parametrize("where", ["check", "finish", "adjust"])
def test_sys_exit_during_the_run_is_a_plugin_error_and_the_run_goes_on(ws, tmp_path, where, code):
    exit_ = f"sys.exit({code})"
    if where == "adjust":
        path = _plugin(tmp_path, f"\n@hookimpl\ndef cso_policy_adjust_finding(finding, audit):\n    {exit_}\n")
    else:
        path = _rule(tmp_path, **{where: exit_})
    result, report = _audit(ws, path)
    assert f"SystemExit: the plugin called sys.exit({code})" in _one_error(result, report)
    assert _pairs(report) == BASE


def test_an_interrupt_in_a_rule_still_stops_the_run_with_130(ws, tmp_path):
    result = CliRunner().invoke(main, _args(ws, _rule(tmp_path, "raise KeyboardInterrupt")))
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "cso-policy: interrupted\n")


@pytest.mark.parametrize("code", [0, 1, 2, None])
def test_sys_exit_in_a_report_format_is_one_line_exit_2_naming_it(ws, tmp_path, code):
    path = _plugin(tmp_path, f"""
def write(report, stream):
    sys.exit({code!r})

@hookimpl
def cso_policy_report_formats():
    return [ReportFormat(name="zz", extension="zz", write=write)]
""")
    result = CliRunner().invoke(main, _args(ws, path, fmt="zz"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr == (f"cso-policy: error: report format zz of plugin acme called sys.exit({code!r}) while "
                             "writing the report; no report was written\n")


# -- 2: what plugins print never reaches the report -----------------------------------------

def test_print_in_a_rule_goes_to_stderr(ws, tmp_path):
    path = _rule(tmp_path, 'print("hello")')
    result, report = _audit(ws, path)
    assert result.exit_code == 1 and _pairs(report) == BASE and _errors(report) == []
    assert "hello" in result.stderr


def test_writes_to_file_descriptor_1_go_to_stderr(ws, tmp_path):
    """At import, in a rule and in a format: the process's own stdout, so not in CliRunner."""
    path = _plugin(tmp_path, """
os.write(1, b"at-import ")

@rule("acme.noisy", "Noisy", "Addendum A", Level.WARNING, kinds=("expense",))
def noisy(record, contract, pool, audit):
    os.write(1, b"in-check ")
    print("printed", flush=True)
    return ()

@hookimpl
def cso_policy_rules():
    return [noisy]
""")
    done = subprocess.run([sys.executable, "-c", "from cso_policy.cli import main; main()", *_args(ws, path)],
                          capture_output=True, text=True, timeout=60, env={**os.environ, DISABLE_AUTOLOAD_ENV: "1"})
    assert done.returncode == 1, done.stderr
    assert _pairs(json.loads(done.stdout)) == BASE
    assert "at-import" in done.stderr and "in-check" in done.stderr and "printed" in done.stderr


# -- 3: wrong violations and adjusted findings ------------------------------------------------

@pytest.mark.parametrize("given, shown", [
    ("message=5", "message must be text, got 5"),
    ('impact="big"', "impact must be an Impact or None, got 'big'"),
    ("period=5", "period must be text or None, got 5"),
    ("contract=5", "contract must be text or None, got 5"),
    ("contract=[1]", "contract must be text or None, got a list"),
    ("lob=5", "lob must be text or None, got 5"),
    ('level="x"', "level must be a Level or None, got 'x'"),
    ("clause=5", "clause must be text or None, got 5"),
    ("source=5", "source must be text or None, got 5"),
    ("record=object()", "record must be a Record (with a text id and contract) or None, got an object"),
    ("impact=Impact(hours=-math.inf)", "impact.hours must be a finite number or None, got -inf"),
    ("impact=Impact(hours=math.nan)", "impact.hours must be a finite number or None, got nan"),
    ('impact=Impact(amount="3", currency="USD")', "impact.amount must be a finite number or None, got '3'"),
    ("impact=Impact(duration_seconds=True)", "impact.duration_seconds must be a finite number or None, got True"),
    ("impact=Impact(amount=1.0, currency=5)", "impact.currency must be text or None, got 5"),
])
def test_a_wrong_violation_is_left_out_and_one_plugin_error(ws, tmp_path, given, shown):
    path = _rule(tmp_path, f'yield Violation(**{{"record": record, "message": "m", **dict({given})}})')
    result, report = _audit(ws, path)
    assert _one_error(result, report) == f"plugin acme: rule acme.bad: a violation's {shown}; it was left out"
    assert _pairs(report) == BASE


def test_a_rule_yielding_something_else_is_a_plugin_error(ws, tmp_path):
    result, report = _audit(ws, _rule(tmp_path, "yield 42"))
    assert _one_error(result, report) == "plugin acme: rule acme.bad: yielded 42, not a Violation; it was left out"


def test_lone_surrogates_become_replacement_characters(ws, tmp_path):
    result, report = _audit(ws, _rule(tmp_path, r'yield Violation(record=record, message="a\ud800b", lob="r\udfff")'))
    assert result.exit_code == 1 and _errors(report) == []
    [found] = [f for f in report["findings"] if f["rule"] == "acme.bad"]
    assert (found["message"], found["lob"]) == ("a\ufffdb", "r\ufffd")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_source_whose_line_is_not_ascii_digits_is_written_by_every_format(ws, tmp_path, fmt):
    path = _rule(tmp_path, 'yield Violation(record=record, message="m", source="f.jsonl:\u00b2")')
    result = CliRunner().invoke(main, _args(ws, path, fmt=fmt))
    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""
    if fmt in ("json", "sarif"):
        document = json.loads(result.stdout)
        if fmt == "sarif":
            [found] = [r for r in document["runs"][0]["results"] if r["ruleId"] == "acme.bad"]
            assert found["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "f.jsonl%3A%C2%B2"}}
    elif fmt == "junit":
        ElementTree.fromstring(result.stdout)
    elif fmt == "csv":
        assert "f.jsonl:\u00b2" in [row["source"] for row in csv.DictReader(io.StringIO(result.stdout))]
    else:
        assert "f.jsonl:\u00b2" in result.stdout


@pytest.mark.parametrize("change, shown", [
    ("rule=None", "rule None, not a non-empty text"),
    ("message=5", "message 5, not text"),
    ("contract=5", "contract 5, not text or None"),
    ('impact="x"', "impact 'x', not an Impact or None"),
    ("impact=Impact(hours=math.inf)", "impact.hours inf, not a finite number or None"),
    ('level="error"', "level 'error', not a Level"),
    ('waiver={"reason": 1}', "waiver a dict, not None or a dict of reason, approved_by and expires"),
])
def test_a_wrong_adjusted_finding_keeps_the_original_and_is_one_plugin_error(ws, tmp_path, change, shown):
    path = _plugin(tmp_path, f"""
@hookimpl
def cso_policy_adjust_finding(finding, audit):
    return attrs.evolve(finding, {change})
""")
    result, report = _audit(ws, path)
    assert _one_error(result, report) == (f"plugin acme: cso_policy_adjust_finding returned a Finding with {shown}; "
                                          "the findings it was given are reported unchanged")
    assert _pairs(report) == BASE


# -- 4: summary sections ------------------------------------------------------------------------

@pytest.mark.parametrize("sections, shown", [
    ('{1: "a"}', "returned section 1, whose name is not a non-empty str"),
    ('{"acme": {1: "a"}}', "returned section 'acme' that is not JSON-serialisable (the key 1 is not text)"),
    ('{"acme": [math.nan]}', "returned section 'acme' that is not JSON-serialisable (the number nan is not finite)"),
    ('{"acme": "\\ud800"}', "returned section 'acme' that is not JSON-serialisable"),
    ('{"hours": "x"}', "returned section 'hours', which plugin cso_policy.domains.entitlement already has"),
    ('{"by_level": "x"}', "returned section 'by_level', which the report already has"),
    ('{"inputs": []}', "returned section 'inputs', which the report already has"),
])
def test_a_wrong_summary_section_is_left_out(ws, tmp_path, sections, shown):
    path = _plugin(tmp_path, f"\n@hookimpl\ndef cso_policy_report_sections(audit):\n    return {sections}\n")
    result, report = _audit(ws, path)
    assert _one_error(result, report).startswith(f"plugin acme: cso_policy_report_sections failed: {shown}")
    assert _pairs(report) == BASE
    assert isinstance(report["summary"]["hours"], list) and isinstance(report["summary"]["by_level"], dict)
    assert "acme" not in report["summary"]


@pytest.mark.parametrize("sections", [
    {"hours": "x"},
    {"hours": [1, "a", {"quarters": "x"}, {"quarters": [{"hours": "x"}, 5, {"period": 1, "hours": 2, "cap": "y"}]}]},
    {"hours": [{"contract": "C", "package": "p", "tier": "t", "quarters": [{"period": "Q1", "hours": -1, "cap": 0}]}]},
    {"sla_attainment": "x"},
    {"sla_attainment": [5, {"measured": "x"}, {"measured": 2, "met": "y"}, {"measured": 2, "percent_met": "z"}]},
    {"acme": {"nested": [{"a": [None, True, 1.5]}]}, "zz": None},
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_any_json_section(fmt, sections):
    stream = io.StringIO()
    catalogue().formats[fmt].write(Report(findings=[], rules=[], sections=sections), stream)
    assert stream.getvalue()


# -- 5: entitlements ----------------------------------------------------------------------------

def test_a_wrong_entitlement_section_is_a_warning_and_the_good_ones_are_shown(ws, tmp_path):
    path = _plugin(tmp_path, """
@hookimpl
def cso_policy_entitlements(pool, moment):
    print("noise")
    return [42, EntitlementSection(key="acme", data=object()), EntitlementSection(key="tier", data=1),
            EntitlementSection(key="ok", data={"n": 1}, text=["  ok: 1"])]
""")
    args = ["--plugin", str(path), "entitlements", str(ws.contract_files[0]), "--records", str(ws.record_files[0]),
            "--as-of", EXAMPLE_AS_OF]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    [package] = json.loads(result.stdout)["packages"]
    assert package["ok"] == {"n": 1} and "acme" not in package and package["tier"] == "premier"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("cso-policy: warning:")]
    assert warnings == [
        "cso-policy: warning: plugin acme: cso_policy_entitlements failed: returned 42, not an EntitlementSection; "
        "it was left out",
        "cso-policy: warning: plugin acme: cso_policy_entitlements failed: returned section 'acme' whose data is not "
        "JSON-serialisable (an object is not a JSON value); it was left out",
        "cso-policy: warning: plugin acme: cso_policy_entitlements failed: returned section 'tier', which the command "
        "already shows; it was left out",
    ]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0 and "  ok: 1\n" in text.stdout and "noise" not in text.stdout


# -- record sources and record kinds of a plugin ------------------------------------------

SOURCE = """
from cso_policy import RecordSource

def read(path, options):
    yield str(path), 1, {{"kind": "expense", "id": "s1", "contract": "EX-2026", "date": "2026-03-02",
                         "amount": 5.0, "currency": "USD", "approved_at": None}}
    {fail}

@hookimpl
def cso_policy_record_sources():
    return [RecordSource(name="acme-src", read=read, suffixes=(".acme",))]
"""


@pytest.mark.parametrize("fail, says", [("sys.exit(0)", "SystemExit: the source called sys.exit(0)"),
                                        ("raise OSError('line\\nbroken')", "OSError: line broken")])
def test_a_source_that_exits_or_raises_loses_only_its_own_records(ws, tmp_path, fail, says):
    plugin = _plugin(tmp_path, SOURCE.format(fail=fail))
    extra = tmp_path / "more.acme"
    extra.write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, [*_args(ws, plugin), "--records", str(extra)])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert set(BASE) | {("billing.expense_unapproved", "s1")} <= set(_pairs(report))
    (failed,) = [i for i in report["summary"]["inputs"] if i["input"].endswith("more.acme")]
    assert failed["failed"] == says and failed["read"] == 1


KIND_OBSERVER = """
from cso_policy import KindObserver

def observe(record, view, pool):
    if record.id == "e0":
        {observe}

def check(record, view):
    if record.id == "e1":
        {check}
    return None

@hookimpl
def cso_policy_record_kinds():
    return [KindObserver(kind="expense", observe=observe, check=check)]
"""


@pytest.mark.parametrize("observe, check, says", [
    ("raise ValueError('boom')", "pass", ["the expense record observer raised ValueError: boom at record e0"]),
    ("sys.exit(3)", "return 42", ["the expense record observer raised SystemExit: the plugin called sys.exit(3) at record e0",
                                  "the expense record check raised TypeError: a check returns None or (path, message) "
                                  "as text, got 42 at record e1"]),
])
def test_a_record_kind_plugin_that_raises_is_a_plugin_error_for_that_record(ws, tmp_path, observe, check, says):
    plugin = _plugin(tmp_path, KIND_OBSERVER.format(observe=observe, check=check))
    result = CliRunner().invoke(main, _args(ws, plugin))
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    errors = sorted(e["message"] for e in _errors(report))
    assert len(errors) == len(says) and all(part in error for part, error in zip(sorted(says), errors)), errors
    assert all(e["plugin"] == "acme" for e in _errors(report))
    # e0 was observed in part, still audited; e1 failed its check, so it is not audited
    expected = set(BASE) - ({("billing.expense_unapproved", "e1")} if check != "pass" else set())
    assert set(_pairs(report)) == expected
