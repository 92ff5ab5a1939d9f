"""Issue 17, item 3: every usage, option and environment problem is one stderr line and exit 2,
never click's usage block nor an "internal error"; ``--as-of`` and a workspace's ``as_of`` lie
in the supported range; ``--output-dir`` never writes two formats to one file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV
from cso_policy.testing import Workspace
from tests.conftest import assert_exit_2

RANGE = "expected a date between 1900-01-01 and 2199-12-31"


@pytest.fixture
def ws(tmp_path, monkeypatch) -> Workspace:
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    workspace = Workspace(tmp_path / "ws")
    workspace.contract()
    records = workspace.records([{"kind": "work", "id": "w1", "date": "2026-01-05", "lob": "retail", "hours": 2,
                                  "service": "general_account_consulting"}])
    (workspace.root / "cso-policy.toml").write_text(
        f'contracts = ["contracts"]\nrecords = ["{records.relative_to(workspace.root).as_posix()}"]\n', encoding="utf-8")
    return workspace


def invoke(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="cso-policy")


@pytest.mark.parametrize("args, says", [
    (["audit", "--bogus"], "No such option '--bogus'"),
    (["nope"], "No such command 'nope'"),
    (["audit", "--jobs", "0"], "Invalid value for '--jobs'"),
    (["audit", "--fail-on", "x"], "Invalid value for '--fail-on'"),
    (["audit", "--as-of", "garbage"], "'garbage' is not an ISO 8601 date or timestamp"),
    (["audit", "--as-of", "2026-13-01"], "'2026-13-01' is not an ISO 8601 date or timestamp"),
    (["audit", "--output", "x", "--output-dir", "d"], "give --output or --output-dir, not both"),
    (["lint", "--format", "bogus"], "Invalid value for '--format'"),
    (["explain"], "Missing argument 'RULE-OR-RECORD'"),
])
def test_a_usage_error_is_one_line_with_the_help_to_read(ws, args, says):
    result = invoke(*args[:1], *([ws.root] if args[0] == "audit" else []), *args[1:])
    assert_exit_2(result, says, one_line=True)
    command = "cso-policy" if args[0] == "nope" else f"cso-policy {args[0]}"
    assert result.stderr.rstrip().endswith(f"(see '{command} --help')"), result.stderr
    assert "Usage:" not in result.output


def test_no_command_prints_the_help_and_exits_0():
    result = invoke()
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: cso-policy [OPTIONS] COMMAND [ARGS]...")
    assert "audit" in result.stdout and result.stderr == ""


@pytest.mark.parametrize("as_of", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2200-01-01"])
@pytest.mark.parametrize("command", ["audit", "entitlements"])
def test_an_as_of_outside_the_supported_range_is_a_usage_error(ws, as_of, command):
    """9999-12-31T23:59:59-14:00 is 10000-01-01 in UTC: it once overflowed ``entitlements``."""
    target = [ws.root] if command == "audit" else [ws.contract_files[0]]
    result = invoke(command, *target, "--as-of", as_of)
    assert_exit_2(result, f"'{as_of}': {RANGE}", one_line=True)


def test_the_edges_of_the_supported_range_are_accepted(ws):
    for as_of in ("1900-01-01T00:00:00+14:00", "2199-12-31T23:59:59-14:00"):
        result = invoke("audit", ws.root, "--as-of", as_of, "--format", "json")
        assert result.exit_code in (0, 1), result.output
        assert json.loads(result.stdout)["summary"]["records"] == 1


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01", '"2300-01-01"'])
def test_a_workspace_as_of_outside_the_supported_range_is_a_one_line_error(ws, value):
    config = ws.root / "cso-policy.toml"
    config.write_text(config.read_text(encoding="utf-8") + f"as_of = {value}\n", encoding="utf-8")
    result = invoke("audit", ws.root)
    assert_exit_2(result, "cso-policy.toml $.as_of: " + RANGE, one_line=True)


def test_an_error_message_with_line_breaks_is_printed_on_one_line(ws, tmp_path):
    plugin = tmp_path / "breaks.py"
    plugin.write_text(textwrap.dedent("""\
        from cso_policy import hookimpl

        @hookimpl
        def cso_policy_configure(options, root):
            return ["first\\nsecond"]
        """))
    result = invoke("--plugin", plugin, "audit", ws.root)
    assert_exit_2(result, "first second", one_line=True)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("command", [["rules"], ["plugins"], ["schema", "work"]])
def test_a_full_disk_on_stdout_is_one_line_not_an_internal_error(command):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", "from cso_policy.cli import main; main()", *command],
                              stdout=full, stderr=subprocess.PIPE, text=True, env={**_env(), DISABLE_AUTOLOAD_ENV: "1"})
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("cso-policy: error: ") and "No space left on device" in line
    assert "internal error" not in line


def _env() -> dict:
    import os

    return dict(os.environ)


FORMAT_PLUGIN = """\
from cso_policy import ReportFormat, hookimpl

@hookimpl
def cso_policy_report_formats():
    return [ReportFormat(name="zz", extension="json", write=lambda report, stream: stream.write("zz"))]
"""


def test_two_formats_with_one_extension_write_two_files(ws, tmp_path):
    plugin = tmp_path / "zz_format.py"
    plugin.write_text(FORMAT_PLUGIN)
    out = tmp_path / "out"
    result = invoke("--plugin", plugin, "audit", ws.root, "--format", "json", "--format", "zz", "--output-dir", out)
    assert result.exit_code in (0, 1), result.output
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.zz.json"]
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]["records"] == 1
    assert (out / "report.zz.json").read_text(encoding="utf-8") == "zz"
    assert f"wrote {out / 'report.json'}, {out / 'report.zz.json'}" in result.stdout


def test_explain_with_an_output_is_a_usage_error_not_a_report_silently_dropped(ws, tmp_path):
    result = invoke("audit", ws.root, "--explain", "entitlement.*", "--output", tmp_path / "x.json")
    assert_exit_2(result, "--explain prints an explanation instead of a report", one_line=True)
    assert not (tmp_path / "x.json").exists()


def test_a_file_named_twice_is_read_once_with_any_number_of_jobs(ws):
    records = ws.record_files[0]
    reports = []
    for jobs in ("1", "2"):
        result = invoke("audit", "--contracts", ws.contract_files[0], "--records", records, "--records", records,
                        "--records", records.parent / ".." / records.parent.name / records.name, "--jobs", jobs,
                        "--format", "json", "--as-of", "2026-12-31T00:00:00Z")
        assert result.exit_code in (0, 1), result.output
        report = json.loads(result.stdout)
        (read,) = report["summary"]["inputs"]
        assert (read["read"], read["counted"], read["duplicate"]) == (1, 1, 0)
        report.pop("run", None)
        report.pop("elapsed", None)
        reports.append(report)
    assert reports[0] == reports[1]

