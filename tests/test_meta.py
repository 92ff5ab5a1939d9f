"""Tests about the project itself: every rule is tested, every hook is documented with an
example, every default plugin registers."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

from cso_policy import hookspecs
from cso_policy.cli import main
from cso_policy.plugins import DEFAULT_PLUGINS, get_plugin_manager
from tests.conftest import catalogue

TESTS = Path(__file__).resolve().parent
HOOKS = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("cso_policy_"))


def listed_rule_ids(runner) -> list[str]:
    result = runner.invoke(main, ["rules", "--format", "json"])
    assert result.exit_code == 0, result.output
    return [row["id"] for row in json.loads(result.stdout)]


def test_every_rule_listed_by_the_cli_is_mentioned_in_a_test(runner):
    # The test files' text (not this file, which would mention them all trivially).
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(TESTS.rglob("test_*.py")) if p.name != "test_meta.py")
    ids = listed_rule_ids(runner)
    assert ids, "cso-policy rules lists no rule"
    untested = [rule_id for rule_id in ids if not re.search(rf"(?<![\w.]){re.escape(rule_id)}(?![\w])", text)]
    assert untested == []


def test_the_cli_lists_the_catalogue_of_the_default_plugins(runner):
    assert listed_rule_ids(runner) == [r.id for r in catalogue().rules]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring_with_an_example(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Example" in doc, f"{hook}: docstring has no Example"
    assert "@hookimpl" in doc, f"{hook}: the example shows no @hookimpl implementation"


def test_hookspecs_declare_the_hooks():
    assert {"cso_policy_rules", "cso_policy_record_sources", "cso_policy_report_formats",
            "cso_policy_policy_paths"} <= set(HOOKS)


@pytest.mark.parametrize("name", DEFAULT_PLUGINS)
def test_every_default_plugin_registers(name):
    pm = get_plugin_manager()
    assert pm.has_plugin(name)
    plugin = pm.get_plugin(name)
    assert plugin is importlib.import_module(name)
    hooks = [caller.name for caller in pm.get_hookcallers(plugin) or ()]
    assert hooks, f"{name} implements no hook"
    assert set(hooks) <= set(HOOKS)
    # and what it returns from its hooks is collected without a problem
    for hook in hooks:
        impl = getattr(plugin, hook)
        if not inspect.signature(impl).parameters:
            assert list(impl() or ()) != [], f"{name}.{hook} returns nothing"


def test_default_plugins_load_without_problems():
    cat = catalogue()
    assert list(getattr(cat.pm, "problems", [])) == []
    assert {"text", "json"} <= set(cat.formats)
    assert "jsonl" in cat.sources
    assert cat.policy_roots


def test_every_rule_has_a_title_a_clause_and_a_unique_id():
    rules = catalogue().rules
    assert len({r.id for r in rules}) == len(rules)
    for r in rules:
        assert re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", r.id), r.id
        assert r.title and r.clause, r.id
        assert r.check is None or r.kinds, r.id
