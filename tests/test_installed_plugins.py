"""Installing a plugin never changes a result by itself: the example workspaces give the same
findings with every bundled plugin installed (entry points loaded) as with autoload off."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV
from cso_policy.testing import catalogue

REPO = Path(__file__).resolve().parent.parent


def test_the_bundled_plugins_are_installed_and_add_a_rule():
    rules = {r.id: r.plugin for r in catalogue(autoload=True).rules}
    assert rules["addendum.long_entry"] == "example_rule"


ARGS = ["--as-of", "2026-12-31T00:00:00Z", "--format", "json"]


def test_installed_plugins_change_no_finding_of_the_example_workspace(monkeypatch):
    monkeypatch.chdir(REPO)
    installed = CliRunner(env={DISABLE_AUTOLOAD_ENV: ""}).invoke(main, ["audit", "examples/northwind", *ARGS])
    autoload_off = CliRunner(env={DISABLE_AUTOLOAD_ENV: "1"}).invoke(main, ["audit", "examples/northwind", *ARGS])
    assert installed.exit_code == autoload_off.exit_code == 1, installed.output
    with_plugins, without = json.loads(installed.stdout), json.loads(autoload_off.stdout)
    # the run record names the plugins that were loaded; nothing else differs
    loaded = {p["name"] for p in with_plugins["run"].pop("plugins")} - {p["name"] for p in without["run"].pop("plugins")}
    assert loaded >= {"example_rule"}
    assert with_plugins == without


def test_the_zendesk_example_gives_no_finding_of_a_plugin_rule(monkeypatch):
    # it needs the zendesk source, so it runs with the bundled plugins installed
    monkeypatch.chdir(REPO)
    result = CliRunner(env={DISABLE_AUTOLOAD_ENV: ""}).invoke(main, ["audit", "examples/zendesk", *ARGS])
    assert result.exit_code == 1, result.output
    assert '"rule": "addendum.' not in result.stdout
