"""The example plugin: its rule fires above max_hours, not at it, and its options are checked."""

import pytest

import cso_policy_example_rule as plugin
from cso_policy import ConfigError
from cso_policy.testing import catalogue

# registered under its entry-point name, as when installed: findings name the plugin by it
PLUGIN = (plugin.NAME, plugin)


def _run(ws, hours: list[float], options=None):
    ws.contract(id="NW-2026", customer="Northwind", holidays=None, overage=None,
                packages=[{"id": "p", "tier": "expert", "lines_of_business": ["retail"]}])
    ws.records([{"kind": "work", "id": f"w{i}", "contract": "NW-2026", "date": f"2026-02-0{i + 1}", "lob": "retail",
                 "hours": h, "service": "general_account_consulting"} for i, h in enumerate(hours)])
    for name, values in (options or {}).items():
        ws.plugin_options(name, **values)
    return ws.audit(plugins=[PLUGIN], as_of=None).of("addendum.long_entry")


ADDENDUM = {"example_rule": {"contracts": ["NW-2026"]}}


def test_entry_over_default_limit_is_a_warning_naming_the_plugin(cso_workspace):
    # default limit 8 h: 8 h is allowed, 9.5 h is 1.5 h over
    found = _run(cso_workspace, [8, 9.5], ADDENDUM)
    assert [(f.record, f.impact.hours, f.plugin) for f in found] == [("w1", 1.5, "example_rule")]
    assert found[0].clause == "Addendum A §2"


def test_option_lowers_the_limit(cso_workspace):
    found = _run(cso_workspace, [6, 6.25], {"example_rule": {"contracts": ["NW-2026"], "max_hours": 6}})
    assert [f.record for f in found] == ["w1"]


def test_option_limits_contracts(cso_workspace):
    assert _run(cso_workspace, [12], {"example_rule": {"contracts": ["OTHER"]}}) == []


def test_without_options_the_installed_plugin_checks_nothing(cso_workspace):
    # installing a plugin never changes a result by itself: no contract has the addendum
    assert _run(cso_workspace, [12, 30]) == []


@pytest.mark.parametrize("options, message", [
    ({"max_hours": "six"}, "max_hours: expected a positive number"),
    ({"max_hour": 6}, "unknown option(s): max_hour"),
    ({"contracts": "NW-2026"}, "contracts: expected a list of contract ids"),
])
def test_bad_options_stop_the_run(options, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        catalogue([PLUGIN]).configure({"example_rule": options}, None)
