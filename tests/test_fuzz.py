"""The fuzz suite (issue 17, item 7): hypothesis feeds the CLI records of every kind (valid-ish
and broken: wrong types, missing fields, huge and NaN numbers, far dates, unicode, control
characters, long strings), raw JSON lines (invalid JSON, non-UTF-8 bytes), contracts, workspace
``cso-policy.toml`` texts with odd option values and plugin hook results of the wrong type.

Properties, for every report format (text json sarif junit csv markdown html):

1. the exit code is 0, 1 or 2; on exit 2 stderr is one line starting ``cso-policy: error:``
   and never an internal error;
2. every report parses (json and sarif as strict JSON, junit as XML, csv with one row per
   finding plus the header, html without a parser error);
3. the findings of an untouched contract are unchanged by bad data of another contract;
4. the json report is byte-identical for any order of the record lines over 1-3 files;
5. a plugin whose ``cso_policy_rules`` or ``cso_policy_adjust_finding`` returns anything
   leaves the built-in findings and never makes an internal error.

CI runs a fixed, derandomised budget (``CSO_POLICY_FUZZ_EXAMPLES``, default 25 examples per
property, well under a minute). A release runs
``CSO_POLICY_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import textwrap
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV
from cso_policy.testing import EXAMPLE_AS_OF, contract_data, toml_text
from tests import fuzz_strategies as fz

FUZZ_EXAMPLES = int(os.environ.get("CSO_POLICY_FUZZ_EXAMPLES", "25"))
# shrinking a failure can take minutes; CSO_POLICY_FUZZ_SHRINK=0 reports the first failing example
PHASES = [p for p in Phase if os.environ.get("CSO_POLICY_FUZZ_SHRINK", "1") != "0" or p is not Phase.shrink]
FUZZ = settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, phases=PHASES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])
FORMATS = ("text", "json", "sarif", "junit", "csv", "markdown", "html")
EXT = {"text": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "csv": "csv", "markdown": "md", "html": "html"}


@pytest.fixture(autouse=True)
def _no_installed_plugins(monkeypatch):
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")


# ------------------------------------------------------------------ helpers


def run(args: list[str]):
    result = CliRunner().invoke(main, args)
    check_exit(result)
    return result


def check_exit(result) -> None:
    """Property 1: exit 0, 1 or 2; exit 2 is one line ``cso-policy: error: ...``; never an internal error."""
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr, result.stderr
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("cso-policy: error:"), result.stderr


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


class _StrictHTML(HTMLParser):
    def error(self, message):  # pragma: no cover - older Pythons only
        raise AssertionError(message)


def check_parses(fmt: str, text: str) -> None:
    """Property 2: the report parses."""
    if fmt in ("json", "sarif"):
        data = json.loads(text, parse_constant=_no_constant)
        if fmt == "json":
            return data
    elif fmt == "junit":
        ET.fromstring(text.encode("utf-8"))
    elif fmt == "html":
        parser = _StrictHTML()
        parser.feed(text)
        parser.close()
    elif fmt == "csv":
        return list(csv.reader(io.StringIO(text, newline="")))
    return None


def write_workspace(root: Path, contracts: dict[str, str], files: dict[str, bytes], config: str | None = None) -> Path:
    (root / "contracts").mkdir(parents=True, exist_ok=True)
    (root / "records").mkdir(parents=True, exist_ok=True)
    for name, text in contracts.items():
        (root / "contracts" / f"{name}.toml").write_text(text, encoding="utf-8")
    for name, data in files.items():
        (root / "records" / name).write_bytes(data)
    if config is not None:
        (root / "cso-policy.toml").write_text(config, encoding="utf-8")
    return root


def audit_args(root: Path, *extra: str) -> list[str]:
    return ["audit", "--contracts", str(root / "contracts"), "--records", str(root / "records"),
            "--as-of", EXAMPLE_AS_OF, "-q", *extra]


def lines_bytes(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def findings_of(report: dict, contract: str) -> list[tuple]:
    import re
    return sorted((f["rule"], f.get("record"), re.sub(r"\S*/records/\S+?:\d+", "FILE", f["message"]),
                   json.dumps(f.get("impact"), sort_keys=True))
                  for f in report["findings"] if f.get("contract") == contract)


# ------------------------------------------------------------------ properties 1 and 2


@FUZZ
@given(contract=fz.contract(), lines=st.lists(fz.raw_line(), max_size=12),
       bad_contract=st.one_of(st.none(), fz.bad_contract_text))
def test_any_records_give_exit_0_1_2_and_reports_that_parse(tmp_path_factory, contract, lines, bad_contract):
    root = tmp_path_factory.mktemp("fuzz")
    contracts = {"good": toml_text(contract)}
    if bad_contract is not None:
        contracts["bad"] = bad_contract
    write_workspace(root, contracts, {"export.jsonl": lines_bytes(lines)})
    out = root / "out"
    result = run(audit_args(root, *[a for f in FORMATS for a in ("--format", f)], "--output-dir", str(out)))
    if result.exit_code == 2:
        return
    reports = {fmt: (out / f"report.{EXT[fmt]}").read_text(encoding="utf-8") for fmt in FORMATS}
    data = check_parses("json", reports["json"])
    for fmt in FORMATS:
        rows = check_parses(fmt, reports[fmt])
        if fmt == "csv":
            assert len(rows) == len(data["findings"]) + 1
    # the same report on stdout, one format at a time
    for fmt in ("json", "csv"):
        single = run(audit_args(root, "--format", fmt))
        assert single.exit_code == result.exit_code
        assert single.stdout == reports[fmt]


@FUZZ
@given(config=fz.workspace_config(), lines=st.lists(fz.raw_line(), max_size=6), fmt=st.sampled_from(FORMATS))
def test_any_workspace_config_gives_exit_0_1_2_and_a_report_that_parses(tmp_path_factory, config, lines, fmt):
    root = write_workspace(tmp_path_factory.mktemp("cfg"), {"good": toml_text(contract_data())},
                           {"export.jsonl": lines_bytes(lines)}, config)
    result = run(["audit", str(root), "--format", fmt, "-q"])
    if result.exit_code != 2:
        rows = check_parses(fmt, result.stdout)
        if fmt == "csv":
            data = json.loads(run(["audit", str(root), "--format", "json", "-q"]).stdout)
            assert len(rows) == len(data["findings"]) + 1


# ------------------------------------------------------------------ property 3

A = "AAA-1"
A_RECORDS = [
    {"kind": "work", "id": "w1", "contract": A, "date": "2026-01-05", "lob": "retail", "hours": 60, "service": "general_account_consulting"},
    {"kind": "work", "id": "w2", "contract": A, "date": "2026-02-02", "lob": "retail", "hours": 60, "service": "general_account_consulting"},
    {"kind": "ticket", "id": "t1", "contract": A, "lob": "retail", "severity": "P1", "opened_at": "2026-03-02T09:00:00-05:00",
     "channel": "phone", "first_response_at": "2026-03-02T12:00:00-05:00", "resolved_at": "2026-03-09T09:00:00-05:00"},
    {"kind": "expense", "id": "e1", "contract": A, "date": "2026-04-01", "lob": "retail", "amount": 900.5, "currency": "USD",
     "approved_at": "2026-03-30T10:00:00-04:00"},
]


def _a_findings(root: Path, b_contract: str | None, b_lines: list[bytes], split: bool) -> list[tuple]:
    contracts = {"a": toml_text(contract_data(id=A))}
    if b_contract is not None:
        contracts["b"] = b_contract
    a_lines = [json.dumps(r).encode() for r in A_RECORDS]
    files = ({"a.jsonl": lines_bytes(a_lines), "b.jsonl": lines_bytes(b_lines)} if split
             else {"all.jsonl": lines_bytes(a_lines + b_lines)})
    write_workspace(root, contracts, files)
    result = run(audit_args(root, "--format", "json"))
    assert result.exit_code in (0, 1), result.stderr  # bad data is findings, not an error
    return findings_of(json.loads(result.stdout), A)


@pytest.fixture(scope="module")
def a_alone(tmp_path_factory):
    return _a_findings(tmp_path_factory.mktemp("a"), None, [], True)


def test_the_untouched_contract_has_findings(a_alone):
    assert a_alone  # the property below compares something


@FUZZ
# A contract file that does not load is a config error (exit 2, by design), so B's contract is
# valid and the bad data is B's records (and records of a contract no file defines).
@given(b=fz.contract(id="BBB-2").map(toml_text),
       b_lines=st.lists(st.one_of(fz.raw_line(contract="BBB-2"), fz.raw_line(contract="ZZ-UNKNOWN")), max_size=12),
       split=st.booleans())
def test_bad_data_elsewhere_leaves_the_findings_of_an_untouched_contract(tmp_path_factory, a_alone, b, b_lines, split):
    assert _a_findings(tmp_path_factory.mktemp("ab"), b, b_lines, split) == a_alone


# ------------------------------------------------------------------ property 4


@FUZZ
@given(contract=fz.contract(), lines=st.lists(fz.raw_line(), max_size=8), rereads=fz.reread_lines(), data=st.data())
def test_the_json_report_is_byte_identical_for_any_file_order(tmp_path_factory, contract, lines, rereads, data):
    lines = lines + rereads  # identities read more than once, with the same or other content
    reports = []
    nfiles = data.draw(st.integers(1, 3), label="files")  # the inputs list names each file
    for attempt in range(2):
        order = data.draw(st.permutations(lines), label=f"order{attempt}")
        root = tmp_path_factory.mktemp("order")
        files = {f"export-{n}.jsonl": lines_bytes(order[n::nfiles]) for n in range(nfiles)}
        write_workspace(root, {"c": toml_text(contract)}, files)
        result = run(audit_args(root, "--format", "json"))
        reports.append((result.exit_code, _normalise(result.stdout, root)))
    import difflib
    assert reports[0] == reports[1], "\n".join(difflib.unified_diff(reports[0][1].splitlines(), reports[1][1].splitlines(), lineterm="", n=0))


def _normalise(stdout: str, root: Path) -> str:
    """The report without where its records were read: the folder, and the file name and line
    (which move with the records)."""
    import re
    text = stdout.replace(str(root), "ROOT")
    data = json.loads(text)
    data["summary"].pop("inputs", None)  # per file: which file read how many lines
    for key in [k for k, v in data.items() if '"sha256"' in json.dumps(v)]:  # per file: digests
        data.pop(key)
    # input errors of lines that name no record are listed by file and line, which move with
    # the lines: once the place is taken out, compare the findings as a sorted list
    for f in data["findings"]:
        if f.get("record") is None:
            f.pop("fingerprint", None)  # a line without a record is fingerprinted by its place
    findings = [re.sub(r"export-\d\.jsonl(:\d+)?", "export", json.dumps(f, sort_keys=True)) for f in data.pop("findings")]
    return json.dumps(data, indent=2) + "\n".join(sorted(findings))


# ------------------------------------------------------------------ property 5

PLUGIN = """\
from cso_policy import hookimpl

@hookimpl
def {hook}({params}):
    return {value}
"""


@FUZZ
@given(hook=st.sampled_from(["cso_policy_rules", "cso_policy_adjust_finding", "cso_policy_report_sections"]),
       value=fz.hook_result, fmt=st.sampled_from(FORMATS))
def test_a_plugin_returning_anything_keeps_the_built_in_findings(tmp_path_factory, a_alone, hook, value, fmt):
    if hook == "cso_policy_adjust_finding" and value is False:
        value = 0  # False is the documented way to suppress a finding; 0 is a wrong answer
    root = tmp_path_factory.mktemp("plugin")
    params = {"cso_policy_rules": "", "cso_policy_adjust_finding": "finding, audit",
              "cso_policy_report_sections": "audit"}[hook]
    plugin = root / "fuzz_plugin.py"
    plugin.write_text(PLUGIN.format(hook=hook, params=params, value=fz.python_literal(value)), encoding="utf-8")
    write_workspace(root, {"a": toml_text(contract_data(id=A))},
                    {"a.jsonl": lines_bytes([json.dumps(r).encode() for r in A_RECORDS])})
    result = run(["--plugin", str(plugin), *audit_args(root, "--format", fmt)])
    assert result.exit_code in (0, 1), result.stderr
    check_parses(fmt, result.stdout)
    if fmt != "json":
        result = run(["--plugin", str(plugin), *audit_args(root, "--format", "json")])
    report = json.loads(result.stdout, parse_constant=_no_constant)
    assert set(a_alone) <= set(findings_of(report, A))
