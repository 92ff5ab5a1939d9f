"""The example plugin: its rule fires above max_hours, not at it, and its options are checked."""

from datetime import date
from pathlib import Path

import pytest

import cso_policy_example_rule as plugin
from cso_policy.core.pipeline import Catalogue, audit
from cso_policy.errors import ConfigError
from cso_policy.core.model import Contract, Package, Term
from cso_policy.plugins import get_plugin_manager
from cso_policy.inputs.workspace import RecordInput


def _catalogue():
    pm = get_plugin_manager()
    pm.register(plugin, name=plugin.NAME)
    return Catalogue.from_plugins(pm)


def _run(tmp_path: Path, hours: list[float], options=None):
    contract = Contract(
        id="NW-2026", customer="Northwind", policy="liveperson-cso@1.0",
        term=Term(start=date(2026, 1, 1), end=date(2026, 12, 31)), timezone="America/New_York",
        packages=[Package(id="p", tier="expert", lines_of_business=["retail"])],
    )
    lines = [
        f'{{"kind": "work", "id": "w{i}", "contract": "NW-2026", "date": "2026-02-0{i + 1}", '
        f'"lob": "retail", "hours": {h}, "service": "general_account_consulting"}}'
        for i, h in enumerate(hours)
    ]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    result, _ = audit(_catalogue(), [contract], [RecordInput(path=tmp_path / "r.jsonl")],
                      plugin_options=options or {})
    return [f for f in result.findings if f.rule == "addendum.long_entry"]


def test_entry_over_default_limit_is_a_warning_naming_the_plugin(tmp_path):
    # default limit 8 h: 8 h is allowed, 9.5 h is 1.5 h over
    found = _run(tmp_path, [8, 9.5])
    assert [(f.record, f.impact.hours, f.plugin) for f in found] == [("w1", 1.5, "example_rule")]
    assert found[0].clause == "Addendum A §2"


def test_option_lowers_the_limit(tmp_path):
    found = _run(tmp_path, [6, 6.25], {"example_rule": {"max_hours": 6}})
    assert [f.record for f in found] == ["w1"]


def test_option_limits_contracts(tmp_path):
    assert _run(tmp_path, [12], {"example_rule": {"contracts": ["OTHER"]}}) == []


@pytest.mark.parametrize("options, message", [
    ({"max_hours": "six"}, "max_hours: expected a positive number"),
    ({"max_hour": 6}, "unknown option(s): max_hour"),
])
def test_bad_options_stop_the_run(options, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _catalogue().configure({"example_rule": options}, None)
