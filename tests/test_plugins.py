"""The plugin API: every hook works as documented, failures are isolated, discovery works."""

from __future__ import annotations

import inspect
import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy import hookspecs
from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV, get_plugin_manager, load_local_plugins
from cso_policy.policy.registry import builtin_policy_root

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("cso_policy_"))

CONTRACT = """\
id = "NW-2026"
customer = "Northwind Retail"
policy = "{policy}"
term = {{ start = 2026-01-01, end = 2026-12-31 }}
timezone = "America/New_York"

[[packages]]
id = "nw-found"
tier = "foundations"
lines_of_business = ["retail"]
"""


def _work(i: int, day: str, hours: float, service: str = "general_account_consulting") -> str:
    return json.dumps({"kind": "work", "id": f"w{i}", "contract": "NW-2026", "date": day, "lob": "retail",
                       "hours": hours, "service": service})


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A workspace with one Foundations contract and two records: 2026-01-03 is a Saturday;
    industry_kpi_analysis is '–' for Foundations (Table 2), so w2 is entitlement.not_included."""
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "nw.toml").write_text(CONTRACT.format(policy="liveperson-cso@1.0"))
    (tmp_path / "records.jsonl").write_text(
        _work(1, "2026-01-03", 2) + "\n" + _work(2, "2026-01-05", 1, "industry_kpi_analysis") + "\n"
    )
    (tmp_path / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records.jsonl"]\n')
    return tmp_path


def _plugin(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text("from cso_policy import hookimpl\n" + textwrap.dedent(body))
    return path


WEEKEND_RULE = """
from cso_policy import Level, Violation, rule

@rule("acme.weekend_work", "Work on a weekend", "Addendum B", Level.WARNING, kinds=("work",))
def weekend(record, contract, pool, audit):
    if record.date.weekday() >= 5:
        yield Violation(record=record, message="weekend work")

@hookimpl
def cso_policy_rules():
    return [weekend]
"""


def _audit(args, workspace: Path):
    result = CliRunner().invoke(main, [*args, "audit", str(workspace), "--format", "json"])
    return result, (json.loads(result.output) if result.output.startswith("{") else None)


# ---------------------------------------------------------------- documentation


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook):
    spec = getattr(hookspecs, hook)
    signature = f"def {hook}{inspect.signature(spec)}"
    assert signature in (ROOT / "docs" / "plugins.md").read_text()
    assert "Example::" in spec.__doc__ and ("firstresult" in spec.__doc__)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_here(hook):
    source = Path(__file__).read_text()
    assert source.count(f"def {hook}(") >= 1, f"no test plugin implements {hook}"


# ---------------------------------------------------------------- each hook


def test_cso_policy_rules_plugin_rule_reports_and_names_its_plugin(workspace):
    _plugin(workspace, "acme", WEEKEND_RULE)
    result, report = _audit(["--plugin", str(workspace / "acme.py")], workspace)
    found = {(f["rule"], f["record"], f["plugin"]) for f in report["findings"]}
    assert ("acme.weekend_work", "w1", "acme") in found
    assert ("entitlement.not_included", "w2", None) in found
    assert result.exit_code == 1


def test_cso_policy_record_sources_reads_its_own_format(workspace):
    _plugin(workspace, "tsv_source", """
        from cso_policy.inputs.sources import RecordSource

        def read(path, options):
            for n, row in enumerate(path.read_text().splitlines(), start=1):
                rid, day, hours = row.split("\\t")
                yield str(path), n, {"kind": "work", "id": rid, "contract": options["contract"], "date": day,
                                     "lob": "retail", "hours": float(hours), "service": "integrations"}

        @hookimpl
        def cso_policy_record_sources():
            return [RecordSource(name="tsv", read=read, suffixes=(".tsv",))]
    """)
    (workspace / "work.tsv").write_text("t1\t2026-02-02\t3\n")
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = [{ path = "work.tsv", source = "tsv" }]\n'
        '[plugins]\nload = ["tsv_source.py"]\n[plugins.tsv]\ncontract = "NW-2026"\n'
    )
    result, report = _audit([], workspace)
    # integrations is '–' for Foundations (Table 4)
    assert [(f["rule"], f["record"], f["source"]) for f in report["findings"]] == [
        ("entitlement.not_included", "t1", f"{workspace / 'work.tsv'}:1")
    ]


def test_cso_policy_report_formats_adds_a_format(workspace):
    _plugin(workspace, "tsvfmt", """
        from cso_policy.reports import ReportFormat

        def write(report, stream):
            for f in report.findings:
                stream.write(f"{f.rule}\\t{f.record}\\n")

        @hookimpl
        def cso_policy_report_formats():
            return [ReportFormat(name="tsv", write=write)]
    """)
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "tsvfmt.py"), "audit", str(workspace), "--format", "tsv"])
    assert result.exit_code == 1
    assert result.output == "entitlement.not_included\tw2\n"


def test_cso_policy_policy_paths_ships_a_policy_version(workspace):
    shipped = workspace / "shipped"
    shutil.copytree(builtin_policy_root() / "liveperson-cso" / "1.0", shipped / "acme-terms" / "2.0")
    manifest = shipped / "acme-terms" / "2.0" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace('id = "liveperson-cso"', 'id = "acme-terms"').replace('version = "1.0"', 'version = "2.0"'))
    _plugin(workspace, "acme_policies", f"""
        from pathlib import Path

        @hookimpl
        def cso_policy_policy_paths():
            return [Path({str(shipped)!r})]
    """)
    (workspace / "contracts" / "nw.toml").write_text(CONTRACT.format(policy="acme-terms@2.0"))
    result, report = _audit(["--plugin", str(workspace / "acme_policies.py")], workspace)
    assert {f["policy"] for f in report["findings"]} == {"acme-terms@2.0"}


def test_cso_policy_configure_problem_stops_with_exit_2(workspace):
    _plugin(workspace, "strict", """
        @hookimpl
        def cso_policy_configure(options, root):
            return [] if "strict" in options else ["[plugins.strict] is required"]
    """)
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "strict.py"), "audit", str(workspace)])
    assert result.exit_code == 2
    assert "[plugins.strict] is required" in result.output


def test_cso_policy_adjust_finding_suppresses_and_replaces(workspace):
    _plugin(workspace, "acme", WEEKEND_RULE)
    _plugin(workspace, "adjust", """
        import attrs
        from cso_policy import Level

        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            if finding.rule == "acme.weekend_work":
                return False
            if finding.rule == "entitlement.not_included":
                return attrs.evolve(finding, level=Level.INFO)
            return None
    """)
    result, report = _audit(["-p", str(workspace / "acme.py"), "-p", str(workspace / "adjust.py")], workspace)
    assert [(f["rule"], f["level"]) for f in report["findings"]] == [("entitlement.not_included", "info")]
    assert result.exit_code == 0  # nothing at or above error remains


# ---------------------------------------------------------------- failures are isolated


def test_plugin_that_fails_to_import_is_reported_and_other_findings_kept(workspace):
    _plugin(workspace, "broken", "raise RuntimeError('missing licence key')\n")
    result, report = _audit(["--plugin", str(workspace / "broken.py")], workspace)
    rules = [(f["rule"], f["message"]) for f in report["findings"]]
    assert ("plugin.error", "plugin broken: import failed: RuntimeError: missing licence key") in rules
    assert any(rule == "entitlement.not_included" for rule, _ in rules)


def test_rule_that_raises_is_reported_once_and_skipped(workspace):
    _plugin(workspace, "buggy", """
        from cso_policy import Level
        from cso_policy.core.rule import rule

        @rule("buggy.crash", "Crashes", "-", Level.ERROR, kinds=("work",))
        def crash(record, contract, pool, audit):
            raise KeyError("hours_per_day")

        @hookimpl
        def cso_policy_rules():
            return [crash]
    """)
    result, report = _audit(["--plugin", str(workspace / "buggy.py")], workspace)
    errors = [f for f in report["findings"] if f["rule"] == "plugin.error"]
    assert len(errors) == 1  # two work records, reported once
    assert "plugin buggy: rule buggy.crash check raised KeyError" in errors[0]["message"]
    assert any(f["rule"] == "entitlement.not_included" for f in report["findings"])


GATED_RULES = """
from cso_policy import Level, Violation, rule

def long_entry(record, contract, pool, audit):
    GATE_BODY

@rule("acme.long_a", "Long entry A", "-", Level.INFO, kinds=("work",), gate=long_entry)
def long_a(record, contract, pool, audit):
    yield Violation(record=record, message="a")

@rule("acme.long_b", "Long entry B", "-", Level.INFO, kinds=("work",), gate=long_entry)
def long_b(record, contract, pool, audit):
    yield Violation(record=record, message="b")

@rule("acme.gate_calls", "Gate calls", "-", Level.INFO, finish=True)
def gate_calls(audit):
    yield Violation(message=f"gate called {audit.state.get('gate_calls', 0)} times")

@hookimpl
def cso_policy_rules():
    return [long_a, long_b, gate_calls]
"""


COUNTING_GATE = 'audit.state["gate_calls"] = audit.state.get("gate_calls", 0) + 1; return record.hours >= 2'


def test_rules_sharing_a_gate_run_only_when_it_opens_and_it_runs_once_per_record(workspace):
    # w1 is 2 h, w2 is 1 h: the gate is asked once for each record (2 calls, not 4) and only
    # w1 reaches the two rules behind it.
    _plugin(workspace, "gated", GATED_RULES.replace("GATE_BODY", COUNTING_GATE))
    result, report = _audit(["--plugin", str(workspace / "gated.py")], workspace)
    assert result.exit_code == 1, result.output
    found = sorted((f["rule"], f["record"]) for f in report["findings"] if f["rule"].startswith("acme."))
    assert found == [("acme.gate_calls", None), ("acme.long_a", "w1"), ("acme.long_b", "w1")]
    assert [f["message"] for f in report["findings"] if f["rule"] == "acme.gate_calls"] == ["gate called 2 times"]


def test_gate_that_raises_is_reported_for_each_of_its_rules_and_skips_them(workspace):
    _plugin(workspace, "badgate", GATED_RULES.replace("GATE_BODY", 'raise KeyError("hours")'))
    result, report = _audit(["--plugin", str(workspace / "badgate.py")], workspace)
    errors = sorted(f["message"] for f in report["findings"] if f["rule"] == "plugin.error")
    assert errors == [
        "plugin badgate: rule acme.long_a gate raised KeyError: 'hours' at record w1 (" + str(workspace / "records.jsonl") + ":1); "
        "the rule was skipped for the rest of the run",
        "plugin badgate: rule acme.long_b gate raised KeyError: 'hours' at record w1 (" + str(workspace / "records.jsonl") + ":1); "
        "the rule was skipped for the rest of the run",
    ]
    assert any(f["rule"] == "entitlement.not_included" for f in report["findings"])


def test_a_gate_needs_a_check_to_guard():
    from cso_policy import Level
    from cso_policy.core.rule import Rule

    with pytest.raises(ValueError, match="rule acme.x: a gate decides whether the per-record check runs"):
        Rule(id="acme.x", title="x", clause="-", level=Level.INFO, finish=lambda audit: (), gate=lambda *a: True)


def test_hook_that_raises_is_reported(workspace):
    _plugin(workspace, "badhook", """
        @hookimpl
        def cso_policy_rules():
            raise ValueError("no rules today")
    """)
    result, report = _audit(["--plugin", str(workspace / "badhook.py")], workspace)
    assert "plugin badhook: cso_policy_rules failed: ValueError: no rules today" in [f["message"] for f in report["findings"]]


# ---------------------------------------------------------------- discovery


def test_workspace_plugins_list_loads_local_plugin(workspace):
    _plugin(workspace, "acme", WEEKEND_RULE)
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = ["records.jsonl"]\nplugins = ["acme.py"]\n'
    )
    result, report = _audit([], workspace)
    assert any(f["rule"] == "acme.weekend_work" for f in report["findings"])


def test_entry_point_plugin_loads_unless_autoload_disabled(monkeypatch):
    pytest.importorskip("cso_policy_example_rule")  # installed by .ci/run and the README command
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    assert "addendum.long_entry" in CliRunner().invoke(main, ["rules"]).output
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    assert "addendum.long_entry" not in CliRunner().invoke(main, ["rules"]).output


def test_plugins_command_lists_origin_hooks_and_rules(workspace):
    _plugin(workspace, "acme", WEEKEND_RULE)
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "acme.py"), "plugins"])
    assert result.exit_code == 0
    block = result.output[result.output.index("acme ("):]
    assert re.search(r"acme \(.*acme\.py\)\n  hooks: cso_policy_rules\n  rule acme.weekend_work", block)


def test_fresh_managers_do_not_share_plugins(tmp_path):
    _plugin(tmp_path, "acme", WEEKEND_RULE)
    first = get_plugin_manager()
    load_local_plugins(first, [str(tmp_path / "acme.py")])
    assert first.has_plugin("acme")
    assert not get_plugin_manager().has_plugin("acme")
