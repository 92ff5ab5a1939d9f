"""Issue 17: plugins cannot silently change the outcome, and a workspace is code only when the
user says so. Plugins are written as files and loaded with ``--plugin path.py``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV, TRUST_WORKSPACE_ENV

CONTRACT = """\
id = "NW-2026"
customer = "Northwind Retail"
policy = "liveperson-cso@1.0"
term = { start = 2026-01-01, end = 2026-12-31 }
timezone = "America/New_York"

[[packages]]
id = "nw-found"
tier = "foundations"
lines_of_business = ["retail"]
"""

WORK = {"kind": "work", "id": "w1", "contract": "NW-2026", "date": "2026-01-03", "lob": "retail",
        "hours": 2, "service": "general_account_consulting"}

GOOD_RULE = """
from cso_policy import Level, Violation, rule

@rule("acme.weekend_work", "Work on a weekend", "Addendum B", Level.WARNING, kinds=("work",))
def weekend(record, contract, pool, audit):
    if record.date.weekday() >= 5:
        yield Violation(record=record, message="weekend work")
"""


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    monkeypatch.delenv(TRUST_WORKSPACE_ENV, raising=False)
    ws = tmp_path / "ws"
    (ws / "contracts").mkdir(parents=True)
    (ws / "contracts" / "nw.toml").write_text(CONTRACT)
    (ws / "records.jsonl").write_text(json.dumps(WORK) + "\n")
    (ws / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records.jsonl"]\n')
    return ws


def _plugin(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text("from cso_policy import hookimpl\n" + textwrap.dedent(body))
    return path


def _run(args) -> tuple:
    result = CliRunner().invoke(main, [str(a) for a in args])
    report = json.loads(result.stdout) if result.stdout.startswith("{") else None
    return result, report


def _audit(workspace: Path, *plugins: Path, extra=()):
    args = [a for p in plugins for a in ("--plugin", p)]
    return _run([*extra, *args, "audit", workspace, "--format", "json"])


def _errors(report) -> list[str]:
    return [f["message"] for f in report["findings"] if f["rule"] == "plugin.error"]


def _rules(report) -> set[str]:
    return {f["rule"] for f in report["findings"]}


# -- item 2: every hook result is validated -----------------------------------------------

@pytest.mark.parametrize("returned, shown", [
    ("[42, weekend]", "returned 42, not a Rule"),
    ('"abc"', "returned 'abc', not a list"),
    ("42", "returned 42, not a list"),
])
def test_a_wrong_rules_result_is_a_plugin_error_and_the_good_rules_stay(workspace, returned, shown):
    path = _plugin(workspace.parent, "acme", GOOD_RULE + f"\n@hookimpl\ndef cso_policy_rules():\n    return {returned}\n")
    result, report = _audit(workspace, path)
    assert result.exit_code == 1, result.output
    assert any(m.startswith(f"plugin acme: cso_policy_rules failed: {shown}") for m in _errors(report)), _errors(report)
    assert ("acme.weekend_work" in _rules(report)) == returned.startswith("[")
    assert "Traceback" not in result.output


def test_a_rule_with_id_none_is_a_plugin_error(workspace):
    path = _plugin(workspace.parent, "acme", GOOD_RULE + """
import attrs

@hookimpl
def cso_policy_rules():
    return [attrs.evolve(weekend, id=None), weekend]
""")
    result, report = _audit(workspace, path)
    assert result.exit_code == 1, result.output
    assert "plugin acme: cso_policy_rules failed: returned Rule with id None, not a non-empty str; it was left out" \
        in _errors(report)
    assert "acme.weekend_work" in _rules(report)


@pytest.mark.parametrize("hook, wrong, shown", [
    ("cso_policy_record_kinds", "[42]", "returned 42, not a RecordKind or KindObserver"),
    ("cso_policy_record_sources", "['x']", "returned 'x', not a RecordSource"),
    ("cso_policy_report_formats", "[None]", "returned None, not a ReportFormat"),
    ("cso_policy_policy_modules", "[1.5]", "returned 1.5, not a PolicyModule"),
    ("cso_policy_lint_rules", "[{}]", "returned {}, not a LintRule"),
    ("cso_policy_policy_paths", "[42]", "returned 42, not a path"),
])
def test_every_list_hook_checks_its_items(workspace, hook, wrong, shown):
    path = _plugin(workspace.parent, "acme", f"\n@hookimpl\ndef {hook}():\n    return {wrong}\n")
    result, report = _audit(workspace, path)
    assert result.exit_code == 1, result.output
    assert f"plugin acme: {hook} failed: {shown}; it was left out" in _errors(report)


def test_configure_problems_must_be_strings(workspace):
    path = _plugin(workspace.parent, "acme", "\n@hookimpl\ndef cso_policy_configure(options, root):\n    return [42]\n")
    result, report = _audit(workspace, path)
    assert result.exit_code == 1, result.output
    assert "plugin acme: cso_policy_configure failed: returned 42, not a str (a problem); it was left out" \
        in _errors(report)


def test_a_summary_section_that_is_not_serialisable_is_left_out(workspace):
    path = _plugin(workspace.parent, "acme", """
@hookimpl
def cso_policy_report_sections(audit):
    return {"acme_bad": object(), "acme_good": {"n": 1}}
""")
    result, report = _audit(workspace, path)
    assert result.exit_code == 1, result.output
    assert report["summary"]["acme_good"] == {"n": 1}
    assert "acme_bad" not in report["summary"]
    assert any(m.startswith("plugin acme: cso_policy_report_sections failed: returned section 'acme_bad' that is "
                            "not JSON-serialisable") for m in _errors(report)), _errors(report)


def test_report_sections_must_be_a_dict(workspace):
    path = _plugin(workspace.parent, "acme", "\n@hookimpl\ndef cso_policy_report_sections(audit):\n    return [1]\n")
    result, report = _audit(workspace, path)
    assert result.exit_code == 1, result.output
    assert "plugin acme: cso_policy_report_sections failed: returned [1], not a dict" in _errors(report)


@pytest.mark.parametrize("code", [0, 3, None])
def test_sys_exit_at_import_is_a_plugin_error_not_an_exit(workspace, code):
    path = _plugin(workspace.parent, "acme", f"import sys\nsys.exit({code!r})\n")
    result, report = _audit(workspace, path)
    assert result.exit_code == 1, result.output
    assert f"plugin acme: import failed: SystemExit: the plugin called sys.exit({code!r})" in _errors(report)


def test_sys_exit_in_a_hook_is_a_plugin_error(workspace):
    path = _plugin(workspace.parent, "acme", "import sys\n@hookimpl\ndef cso_policy_rules():\n    sys.exit(3)\n")
    result, report = _audit(workspace, path)
    assert result.exit_code == 1, result.output
    assert "plugin acme: cso_policy_rules failed: SystemExit: the plugin called sys.exit(3)" in _errors(report)


def test_an_interrupt_in_a_plugin_is_exit_130_with_no_report(workspace, tmp_path):
    path = _plugin(workspace.parent, "acme", "@hookimpl\ndef cso_policy_rules():\n    raise KeyboardInterrupt\n")
    out = tmp_path / "report.json"
    result, report = _run(["--plugin", path, "audit", workspace, "--format", "json", "--output", out])
    assert result.exit_code == 130
    assert result.stdout == ""
    assert result.stderr == "cso-policy: interrupted\n"
    assert not out.exists()


def test_an_interrupt_at_import_is_exit_130(workspace):
    path = _plugin(workspace.parent, "acme", "raise KeyboardInterrupt\n")
    result, report = _audit(workspace, path)
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "cso-policy: interrupted\n")


def test_an_unexpected_exception_is_an_internal_error_exit_2(workspace):
    # a rule's check that breaks the report writer's assumptions: a format that calls sys.exit(5)
    path = _plugin(workspace.parent, "acme", """
import sys
from cso_policy import ReportFormat

def write(report, stream):
    sys.exit(5)

@hookimpl
def cso_policy_report_formats():
    return [ReportFormat(name="acme", extension="txt", write=write)]
""")
    result, _ = _run(["--plugin", path, "audit", workspace, "--format", "acme"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("cso-policy: error: report format acme of plugin ") and "called sys.exit(5)" in result.stderr


def test_handle_errors_turns_any_exception_into_one_line_exit_2():
    import click

    from cso_policy.cli import handle_errors

    @click.command()
    @handle_errors
    def boom():
        raise ValueError("bad\nthing")

    result = CliRunner().invoke(boom, [])
    assert result.exit_code == 2
    assert result.stderr.startswith("cso-policy: error: internal error: ValueError: bad thing (")
    assert "report it" in result.stderr and len(result.stderr.splitlines()) == 1


# -- item 6: a workspace is code only when the user says so ---------------------------------

def _workspace_plugin(workspace: Path, spec: str = "p.py") -> None:
    _plugin(workspace, "p", GOOD_RULE + "\n@hookimpl\ndef cso_policy_rules():\n    return [weekend]\n")
    with open(workspace / "cso-policy.toml", "a") as fh:
        fh.write(f"plugins = [{json.dumps(spec)}]\n")


def test_workspace_plugins_do_not_run_unless_allowed(workspace):
    _workspace_plugin(workspace)
    (workspace / "p.py").write_text((workspace / "p.py").read_text() + "\nprint('I ran')\n")
    result, report = _audit(workspace)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (f"cso-policy: error: {workspace / 'cso-policy.toml'} names workspace plugin p.py, which "
                             f"would run as code: pass --allow-workspace-plugins (or set {TRUST_WORKSPACE_ENV}=1) "
                             "if you trust this workspace\n")


def test_the_plugins_command_refuses_too(workspace):
    _workspace_plugin(workspace)
    result = CliRunner().invoke(main, ["plugins", str(workspace)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("cso-policy: error: ") and "names workspace plugin p.py" in result.stderr


def test_allowed_with_the_flag_runs_with_one_notice(workspace):
    _workspace_plugin(workspace)
    (workspace / "p.py").write_text((workspace / "p.py").read_text() + "\nprint('I ran')\n")
    result, report = _audit(workspace, extra=["--allow-workspace-plugins"])
    assert result.exit_code == 0, result.output
    assert "acme.weekend_work" in _rules(report)  # the print went to stderr, the report parses
    assert "cso-policy: running workspace plugin p.py\n" in result.stderr
    assert "I ran" in result.stderr and "I ran" not in result.stdout


def test_allowed_with_the_users_environment(workspace, monkeypatch):
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV)
    monkeypatch.setenv(TRUST_WORKSPACE_ENV, "1")
    _workspace_plugin(workspace)
    result, report = _audit(workspace)
    assert result.exit_code == 0, result.output
    assert "acme.weekend_work" in _rules(report)
    assert "cso-policy: running workspace plugin p.py" in result.stderr


def test_disable_autoload_wins_over_the_environment_trust(workspace, monkeypatch):
    monkeypatch.setenv(TRUST_WORKSPACE_ENV, "1")
    _workspace_plugin(workspace)
    result, _ = _audit(workspace)
    assert result.exit_code == 2 and "--allow-workspace-plugins" in result.stderr
    assert result.stdout == ""


def test_a_workspace_plugin_path_must_stay_inside_the_workspace(workspace):
    _plugin(workspace.parent, "outside", GOOD_RULE + "\n@hookimpl\ndef cso_policy_rules():\n    return [weekend]\n")
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = ["records.jsonl"]\nplugins = ["../outside.py"]\n')
    result, report = _audit(workspace, extra=["--allow-workspace-plugins"])
    assert result.exit_code == 1, result.output
    assert "acme.weekend_work" not in _rules(report)
    assert any(m.startswith("plugin outside: import failed: ../outside.py is outside the workspace folder")
               for m in _errors(report)), _errors(report)


def test_a_module_name_must_be_a_plugin(workspace):
    result, report = _audit(workspace, extra=["--plugin", "this"])
    assert result.exit_code == 1, result.output
    assert report is not None  # `import this` printed the Zen on stderr, not into the report
    assert "plugin this: import failed: this is not a cso-policy plugin (it defines no cso_policy_* hook); " \
           "the plugin was left out" in _errors(report)


def test_the_test_kit_loads_plugins_by_path_without_the_flag(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUST_WORKSPACE_ENV, raising=False)
    from cso_policy import testing

    path = _plugin(tmp_path, "acme", GOOD_RULE + "\n@hookimpl\ndef cso_policy_rules():\n    return [weekend]\n")
    assert "acme.weekend_work" in {r.id for r in testing.catalogue([path]).rules}


def test_a_workspace_naming_a_built_in_plugin_needs_no_trust(workspace):
    with open(workspace / "cso-policy.toml", "a") as fh:
        fh.write('plugins = ["cso_policy.inputs.csv"]\n')
    result, report = _audit(workspace)
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and report["summary"]["records"] == 1
