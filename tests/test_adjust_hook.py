"""The cso_policy_adjust_finding hook: False drops, a Finding replaces, None/True keep; a wrong
answer or a raise keeps every finding and is one plugin.error naming the plugin and the hook;
with several plugins the last registered is asked first and the first answer wins."""

from __future__ import annotations

import json
import textwrap
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy import hookimpl
from cso_policy.cli import main
from cso_policy.core.model import Level
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV
from cso_policy.testing import EXAMPLE_AS_OF, Workspace

HOOK = "cso_policy_adjust_finding"


@pytest.fixture(autouse=True)
def _no_installed_plugins(monkeypatch):
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")


@pytest.fixture
def ws(tmp_path) -> Workspace:
    """Three unapproved expenses (billing.expense_unapproved, error) and a record of an unknown
    contract (input.unknown_reference, error)."""
    ws = Workspace(tmp_path / "ws")
    ws.contract()
    ws.records([{"kind": "expense", "id": f"e{i}", "date": "2026-03-02", "amount": 10.0 + i, "currency": "USD",
                 "approved_at": None} for i in range(3)]
               + [{"kind": "expense", "id": "x1", "contract": "NOPE", "date": "2026-03-02", "amount": 1.0,
                   "currency": "USD", "approved_at": None}])
    return ws


BASE = [("billing.expense_unapproved", "e0"), ("billing.expense_unapproved", "e1"),
        ("billing.expense_unapproved", "e2"), ("input.unknown_reference", "x1")]


def _plugin(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text("from cso_policy import hookimpl\n" + textwrap.dedent(body), encoding="utf-8")
    return path


def _cli(ws: Workspace, *plugins: Path):
    args = [a for p in plugins for a in ("--plugin", str(p))]
    result = CliRunner().invoke(main, [*args, "audit", "--contracts", str(ws.contract_files[0]),
                                       "--records", str(ws.record_files[0]), "--as-of", EXAMPLE_AS_OF,
                                       "--format", "json"])
    assert result.output.startswith("{"), result.output
    return result, json.loads(result.output)


def _pairs(report: dict, rule_prefix: str = "") -> list[tuple[str, str]]:
    return [(f["rule"], f["record"]) for f in report["findings"]
            if f["rule"] != "plugin.error" and f["rule"].startswith(rule_prefix)]


def _errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == "plugin.error"]


def test_without_an_adjust_hook_the_workspace_gives_its_four_findings(ws):
    """The reference: four error findings, no plugin.error, exit code 1."""
    result, report = _cli(ws)
    assert result.exit_code == 1
    assert _pairs(report) == BASE
    assert _errors(report) == []


def test_false_drops_the_findings_of_one_rule_and_keeps_the_others(ws, tmp_path):
    """A hook answering False for input.unknown_reference: those findings are gone, the rest stay,
    and the summary counts what is left."""
    path = _plugin(tmp_path, "dropper", """
        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            return False if finding.rule == "input.unknown_reference" else None
    """)
    result, report = _cli(ws, path)
    assert result.exit_code == 1
    assert _pairs(report) == BASE[:3]
    assert _errors(report) == []
    assert report["summary"]["findings"] == 3
    assert "input.unknown_reference" not in report["summary"]["by_rule"]


def test_a_finding_returned_via_attrs_evolve_replaces_the_original(ws, tmp_path):
    """A hook lowering expense findings to info with a new message: those are replaced (level,
    message, summary by level) and the exit code follows what is left."""
    path = _plugin(tmp_path, "lowerer", """
        import attrs
        from cso_policy import Level

        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            if finding.rule == "billing.expense_unapproved":
                return attrs.evolve(finding, level=Level.INFO, message="accepted: " + finding.message)
            if finding.rule == "input.unknown_reference":
                return False
            return None
    """)
    result, report = _cli(ws, path)
    assert result.exit_code == 0  # nothing at or above error remains
    assert [(f["rule"], f["level"]) for f in report["findings"]] == [("billing.expense_unapproved", "info")] * 3
    assert all(f["message"].startswith("accepted: expense e") for f in report["findings"])
    assert report["summary"]["by_level"] == {"error": 0, "warning": 0, "info": 3}


@pytest.mark.parametrize("answer", ["None", "True"])
def test_none_or_true_leaves_every_finding_unchanged(ws, tmp_path, answer):
    """None and True are both 'leave it alone': the report is the one without the plugin."""
    _, reference = _cli(ws)
    path = _plugin(tmp_path, "keeper", f"""
        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            return {answer}
    """)
    result, report = _cli(ws, path)
    assert result.exit_code == 1
    assert report["findings"] == reference["findings"]
    assert report["summary"] == reference["summary"]


@pytest.mark.parametrize("answer", ["42", '"yes"', "{}", "0"])
def test_a_wrong_answer_keeps_every_finding_and_is_one_plugin_error(ws, tmp_path, answer):
    """42, "yes", {} and 0 are no Finding/True/False/None: every finding stays as it was, and
    exactly one plugin.error names the plugin and the hook; exit code 1."""
    _, reference = _cli(ws)
    path = _plugin(tmp_path, "wrongun", f"""
        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            return {answer}
    """)
    result, report = _cli(ws, path)
    assert result.exit_code == 1
    kept = [f for f in report["findings"] if f["rule"] != "plugin.error"]
    assert kept == reference["findings"]
    [error] = _errors(report)
    assert f"plugin wrongun: {HOOK} returned" in error["message"]
    assert error["plugin"] == "wrongun"
    assert error["level"] == "error"
    assert report["summary"]["by_rule"]["plugin.error"]["count"] == 1


def test_a_hook_that_raises_keeps_the_findings_and_is_one_plugin_error(ws, tmp_path):
    """A hook raising on every finding: all findings stay, one plugin.error says it raised."""
    _, reference = _cli(ws)
    path = _plugin(tmp_path, "raiser", """
        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            raise RuntimeError("adjuster broke")
    """)
    result, report = _cli(ws, path)
    assert result.exit_code == 1
    assert [f for f in report["findings"] if f["rule"] != "plugin.error"] == reference["findings"]
    [error] = _errors(report)
    assert f"plugin raiser: {HOOK} raised RuntimeError: adjuster broke" in error["message"]
    assert error["plugin"] == "raiser"


def _module(name: str, fn) -> types.ModuleType:
    module = types.ModuleType(name)
    module.cso_policy_adjust_finding = hookimpl(fn)
    return module


def test_the_last_registered_plugin_is_asked_first_and_the_first_answer_wins(ws):
    """Two plugins: the last registered answers first; a None passes the finding on to the
    other, any other answer decides and the other is not asked (pluggy firstresult)."""
    asked: list[tuple[str, str]] = []

    def first(finding, audit):
        asked.append(("first", finding.record))
        return False  # would drop everything it is asked about

    def last(finding, audit):
        asked.append(("last", finding.record))
        if finding.record == "e0":
            return None  # leave it to the first plugin: dropped
        if finding.record == "e1":
            import attrs
            return attrs.evolve(finding, level=Level.WARNING)
        return True  # kept as is, the first plugin is not asked

    result = ws.audit(plugins=[_module("first_plugin", first), _module("last_plugin", last)])
    assert [(f.rule, f.record, f.level) for f in result.findings] == [
        ("billing.expense_unapproved", "e1", Level.WARNING), ("billing.expense_unapproved", "e2", Level.ERROR),
        ("input.unknown_reference", "x1", Level.ERROR)]
    assert sorted(asked) == sorted([("last", "e0"), ("first", "e0"), ("last", "e1"), ("last", "e2"),
                                    ("last", "x1")])
    assert asked.index(("last", "e0")) < asked.index(("first", "e0"))


def test_a_wrong_answer_of_the_last_plugin_keeps_the_finding_without_asking_the_first(ws):
    """A wrong answer decides too: the finding is kept unchanged, the earlier plugin not asked,
    and the plugin.error names the plugin that answered wrongly."""
    asked: list[str] = []

    def dropper(finding, audit):
        asked.append(finding.rule)
        return False

    def wrong(finding, audit):
        return 42

    result = ws.audit(plugins=[_module("dropper_plugin", dropper), _module("wrong_plugin", wrong)])
    assert [(f.rule, f.record) for f in result.findings if f.rule != "plugin.error"] == BASE
    errors = [f for f in result.findings if f.rule == "plugin.error"]
    assert [e.plugin for e in errors] == ["wrong_plugin"] and f"plugin wrong_plugin: {HOOK} returned" in errors[0].message
    assert asked == []  # the first registered plugin was never asked


def test_an_adjuster_dropping_plugin_errors_cannot_hide_its_own_wrong_answer(ws):
    """The plugin.error about an adjuster does not go through the adjust hook, so an adjuster
    answering False for plugin.error findings cannot hide its own failure."""

    def sly(finding, audit):
        return False if finding.rule == "plugin.error" else "nope"

    result = ws.audit(plugins=[_module("sly_plugin", sly)])
    assert [(f.rule, f.record) for f in result.findings if f.rule != "plugin.error"] == BASE
    errors = [f.message for f in result.findings if f.rule == "plugin.error"]
    assert len(errors) == 1 and errors[0].startswith(f"plugin sly_plugin: {HOOK} returned 'nope'")


def test_a_hook_raising_per_finding_messages_does_not_feed_on_its_own_plugin_errors(ws):
    """A hook raising a different message for each call gives at most one plugin.error per
    finding it failed on, not a chain of plugin.errors about plugin.errors."""
    calls: list[str] = []

    def raising(finding, audit):
        calls.append(finding.rule)
        if len(calls) > 30:  # bound the chain
            return None
        raise RuntimeError(f"call {len(calls)}")

    result = ws.audit(plugins=[_module("chain_plugin", raising)])
    assert [(f.rule, f.record) for f in result.findings if f.rule != "plugin.error"] == BASE
    assert len([f for f in result.findings if f.rule == "plugin.error"]) <= 4
