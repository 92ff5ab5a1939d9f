"""Options: required ones, types, unknown names, and the [plugins.jira] check of the configure hook."""

from __future__ import annotations

import pytest

import cso_policy_jira
from cso_policy import ConfigError
from cso_policy_jira import read_jira
from cso_policy_jira.mapping import iso


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lob": "retail"}, "option contract is required"),
        ({"contract": "NW-2026"}, "option lob is required"),
        ({"contract": "NW-2026", "lob": "retail", "priorty_map": {}}, "unknown option(s) priorty_map"),
        ({"contract": "NW-2026", "lob": "retail", "priority_map": {"Blocker": "P0"}},
         "option priority_map: 'Blocker' maps to 'P0'; expected one of P1, P2, P3"),
        ({"contract": "NW-2026", "lob": "retail", "channel": "fax"}, "option channel: expected one of web"),
        ({"contract": "NW-2026", "lob": "retail", "channel_map": {"x": "pager"}}, "option channel_map"),
        ({"contract": "NW-2026", "lob": "retail", "first_response_from": "email"}, "option first_response_from"),
        ({"contract": "NW-2026", "lob": "retail", "bug_labels": "bug"}, "option bug_labels: expected a list"),
        ({"contract": "NW-2026", "lob": "retail", "rca_timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"contract": "NW-2026", "lob": "retail", "rca_field": "custom field 1"}, "option rca_field"),
        ({"contract": "NW-2026", "lob": "retail", "page_size": 0}, "option page_size"),
        ({"contract": "NW-2026", "lob": "retail", "agent_comments_only": "yes"}, "option agent_comments_only"),
    ],
)
def test_bad_options_stop_the_run_before_reading(export, options, message):
    with pytest.raises(ConfigError) as info:
        read_jira(export, options)  # checked eagerly, not on the first record
    assert message in str(info.value)


def test_live_needs_base_url_and_a_query(options):
    with pytest.raises(ConfigError) as info:
        read_jira(None, options)
    assert "option base_url is required" in str(info.value)
    assert "option jql or project is required" in str(info.value)


def test_contract_field_replaces_contract(export):
    triples = list(read_jira(export, {"contract_field": "project.key", "lob": "retail"}))
    assert len(triples) == 5  # no ConfigError; the BadLines say the field is empty


def test_configure_hook_checks_the_plugins_table():
    check = cso_policy_jira.cso_policy_configure
    assert check({}, None) == []
    assert check({"jira": {"priority_map": {"Critical": "P1"}, "channel": "web"}}, None) == []
    problems = check({"jira": {"channel": "fax", "tokn_env": "X"}}, None)
    assert any("unknown option(s) tokn_env" in p for p in problems)
    assert any("option channel" in p for p in problems)
    assert all(p.startswith("[plugins.jira]") for p in problems)
    assert check({"jira": "yes"}, None) == ["[plugins.jira]: expected a table of options"]


@pytest.mark.parametrize(
    ("jira", "expected"),
    [
        ("2024-01-15T10:23:45.123+0000", "2024-01-15T10:23:45.123+00:00"),
        ("2024-01-15T10:23:45+0530", "2024-01-15T10:23:45+05:30"),
        ("2024-01-15T10:23:45.123-0800", "2024-01-15T10:23:45.123-08:00"),
        ("2024-01-15T10:23:45.123+00:00", "2024-01-15T10:23:45.123+00:00"),
        ("2024-01-15T10:23:45Z", "2024-01-15T10:23:45Z"),
    ],
)
def test_jira_dates_become_iso_with_a_colon_offset(jira, expected):
    assert iso(jira, "fields.created") == expected
