"""Tests about the project itself: every rule is tested, every hook is documented with an
example, every default plugin registers, the bundled plugins use only the public API."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pytest

import cso_policy
from cso_policy import domains, hookspecs
from cso_policy.cli import main
from cso_policy.plugins import DEFAULT_PLUGINS, get_plugin_manager
from tests.conftest import catalogue

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BUNDLED = ROOT / "plugins"
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
    assert {"cso_policy_rules", "cso_policy_record_kinds", "cso_policy_record_sources", "cso_policy_report_formats",
            "cso_policy_policy_paths", "cso_policy_policy_modules", "cso_policy_lint_rules",
            "cso_policy_lint_contract", "cso_policy_entitlements", "cso_policy_explain_terms",
            "cso_policy_report_sections", "cso_policy_configure", "cso_policy_adjust_finding"} <= set(HOOKS)


def test_default_plugins_are_the_domains_the_jsonl_source_the_report_formats_and_the_policy_data():
    assert len(set(DEFAULT_PLUGINS)) == len(DEFAULT_PLUGINS)
    # every package under cso_policy/domains is a default plugin (none is left out unnoticed)
    packages = {f"{domains.__name__}.{info.name}" for info in pkgutil.iter_modules(domains.__path__) if info.ispkg}
    assert packages == {name for name in DEFAULT_PLUGINS if name.startswith(f"{domains.__name__}.")}
    assert {"cso_policy.inputs.jsonl", "cso_policy.policy"} <= set(DEFAULT_PLUGINS)
    # one module per report format, named after it
    cat = catalogue()
    assert set(cat.formats) == {"text", "json", "sarif", "junit", "csv", "markdown", "html"}
    assert {name: cat.origins[("format", name)] for name in cat.formats} == {
        name: f"cso_policy.reports.{name}" for name in cat.formats}
    assert sorted(name for name in DEFAULT_PLUGINS if name.startswith("cso_policy.reports.")) == sorted(
        f"cso_policy.reports.{name}" for name in cat.formats)
    assert cat.origins[("source", "jsonl")] == "cso_policy.inputs.jsonl"
    assert cat.policy_roots and all(root.is_dir() for root in cat.policy_roots)


@pytest.mark.parametrize("name", DEFAULT_PLUGINS)
def test_every_default_plugin_registers(name):
    pm = get_plugin_manager()
    assert [str(p) for p in pm.problems] == []
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


# ---------------------------------------------------------------- the bundled plugins use the public API
# A bundled plugin is written as a partner would write one: its code imports from cso_policy only
# the names of ``cso_policy.__all__``; its tests add the test kit (cso_policy.testing) and the
# command line entry point (cso_policy.cli.main). Anything else of cso_policy may change.

PUBLIC = set(cso_policy.__all__)
FOR_TESTS = {"cso_policy": {"testing"}, "cso_policy.testing": None, "cso_policy.cli": {"main"}}


def _cso_policy_imports(path: Path):
    """(line, module, names) of every import of cso_policy or a module of it in *path*
    (names None for ``import cso_policy.x``); cso_policy_jira and the like are not cso_policy."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "cso_policy" or alias.name.startswith("cso_policy."):
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            if node.module == "cso_policy" or node.module.startswith("cso_policy."):
                yield node.lineno, node.module, [alias.name for alias in node.names]


def _not_public(path: Path, allowed: dict) -> list[str]:
    """``file:line: what`` for each import of *path* outside the public API and *allowed*
    (module -> the names it may give, None for any; ``"cso_policy"`` -> extra names, e.g. the
    ``testing`` submodule)."""
    bad = []
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for line, module, names in sorted(_cso_policy_imports(path), key=lambda found: found[0]):
        if module == "cso_policy":
            wrong = [n for n in names or () if n not in PUBLIC and n not in allowed.get(module, ())]
            if wrong:
                bad.append(f"{where}:{line}: from cso_policy import {', '.join(wrong)} (not in cso_policy.__all__)")
        elif module in allowed:
            only = allowed[module]
            if only is not None and names is None:
                bad.append(f"{where}:{line}: import {module} (only from {module} import {', '.join(sorted(only))})")
            wrong = [n for n in names or () if only is not None and n not in only]
            if wrong:
                bad.append(f"{where}:{line}: from {module} import {', '.join(wrong)} (only {', '.join(sorted(only))})")
        else:
            bad.append(f"{where}:{line}: {module} is not public (import from cso_policy)")
    return bad


def _bundled(pattern: str) -> list[Path]:
    found = sorted(BUNDLED.glob(pattern))
    assert found, f"no file matches plugins/{pattern}"
    return found


def test_bundled_plugins_import_only_the_public_api():
    bad = [problem for path in _bundled("*/cso_policy_*/**/*.py") for problem in _not_public(path, {})]
    assert bad == []


def test_bundled_plugins_tests_import_only_the_public_api_the_test_kit_and_the_cli():
    bad = [problem for path in _bundled("*/tests/**/*.py") for problem in _not_public(path, FOR_TESTS)]
    assert bad == []


def test_the_import_check_sees_what_it_forbids(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import cso_policy\n"
        "from cso_policy import Level, testing\n"
        "from cso_policy import Catalogue\n"
        "from cso_policy.core.pipeline import audit\n"
        "import cso_policy.plugins\n"
        "from cso_policy.cli import main, catalogue\n"
        "def f():\n"
        "    from cso_policy.errors import ConfigError\n"
        "from cso_policy_jira import read_jira\n"
        "from cso_policy.testing import Workspace\n"
        "import cso_policy.testing\n"
        "import cso_policy.cli\n"
    )
    # plugin code: everything but the public names (lines 1 and 9 are not reported)
    plugin_code = [problem.split(": ", 1)[0].rsplit(":", 1)[1] for problem in _not_public(probe, {})]
    assert plugin_code == ["2", "3", "4", "5", "6", "8", "10", "11", "12"]
    # tests: also the test kit and cso_policy.cli's main
    tests = [problem.split(": ", 1)[0].rsplit(":", 1)[1] for problem in _not_public(probe, FOR_TESTS)]
    assert tests == ["3", "4", "5", "6", "8", "12"]
