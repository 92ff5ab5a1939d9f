"""Options: the core checks JiraOptions (types, unknown names, [plugins.jira]); its problems() the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

import cso_policy_jira
from cso_policy import ConfigError
from cso_policy.testing import catalogue
from cso_policy_jira import JiraOptions, read_jira
from cso_policy_jira.mapping import iso


PLUGIN = ("jira", cso_policy_jira)


def _audit(ws):
    return ws.audit(plugins=[PLUGIN], as_of=None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lob": "retail"}, "$.contract: required (the contract id the tickets belong to), "
                            "or contract_field with contract_map"),
        ({"contract": "NW-2026"}, "$.lob: required (a fixed line of business), or lob_field with lob_map"),
        ({"contract": "NW-2026", "lob": "retail", "priorty_map": {}}, "$: unknown field(s): priorty_map"),
        ({"contract": "NW-2026", "lob": "retail", "priority_map": {"Blocker": "P0"}},
         "$.priority_map['Blocker']: expected one of P1, P2, P3, got 'P0'"),
        ({"contract": "NW-2026", "lob": "retail", "channel": "fax"},
         "$.channel: expected one of web, chat, phone, messaging, email, got 'fax'"),
        ({"contract": "NW-2026", "lob": "retail", "channel_map": {"x": "pager"}},
         "$.channel_map['x']: expected one of web, chat, phone, messaging, email, got 'pager'"),
        ({"contract": "NW-2026", "lob": "retail", "first_response_from": "email"},
         "$.first_response_from: expected one of sla, comment, sla_or_comment, got 'email'"),
        ({"contract": "NW-2026", "lob": "retail", "bug_labels": "bug"}, "$.bug_labels: expected a list, got 'bug'"),
        ({"contract": "NW-2026", "lob": "retail", "lob_map": "x"}, "$.lob_map: expected a table, got 'x'"),
        ({"contract": "NW-2026", "lob": "retail", "rca_timezone": "Mars/Olympus"},
         "$.rca_timezone: unknown time zone 'Mars/Olympus' (expected an IANA name like America/New_York)"),
        ({"contract": "NW-2026", "lob": "retail", "rca_field": "custom field 1"},
         "$.rca_field: expected a field id or dotted path (customfield_10050, labels, project.key), "
         "got 'custom field 1'"),
        ({"contract": "NW-2026", "lob": "retail", "page_size": 0}, "$.page_size: expected a positive integer, got 0"),
        ({"contract": "NW-2026", "lob": "retail", "timeout": 0}, "$.timeout: expected a number above 0, got 0"),
        ({"contract": "NW-2026", "lob": "retail", "agent_comments_only": "yes"},
         "$.agent_comments_only: expected true or false, got 'yes'"),
        ({"contract": "", "lob": "retail", "contract_field": "project.key"},
         "$.contract: expected a non-empty string, got ''"),
        ({"contract": "NW-2026", "lob": "retail", "token_env": "JIRA TOKEN"},
         "$.token_env: expected an environment variable name, got 'JIRA TOKEN'"),
    ],
)
def test_bad_options_stop_the_run_before_reading(cso_workspace, export, options, message):
    cso_workspace.source("jira", export, **options)
    with pytest.raises(ConfigError) as info:
        _audit(cso_workspace)  # checked by the core when the inputs are set up, before any is read
    assert str(info.value) == f"records {export} (source jira) {message}"


def test_live_needs_base_url_and_a_query(cso_workspace, options):
    cso_workspace.source("jira", **options)
    with pytest.raises(ConfigError) as info:
        _audit(cso_workspace)
    assert str(info.value) == ("records jira (source jira) $.base_url: required to read the live API "
                               "(or give a path to an export file)")
    cso_workspace.record_entries.clear()
    cso_workspace.source("jira", **options, base_url="https://northwind.atlassian.net")
    with pytest.raises(ConfigError) as info:
        _audit(cso_workspace)
    assert str(info.value) == "records jira (source jira) $.jql: jql or project is required to read the live API"


def test_the_options_class_says_what_types_cannot():
    assert JiraOptions(contract="NW-2026", lob="retail").problems(Path("x.json")) == []
    assert [p for p, _ in JiraOptions().problems(Path("x.json"))] == ["$.contract", "$.lob"]
    assert [p for p, _ in JiraOptions(contract="NW-2026", lob="retail").problems(None)] == ["$.base_url", "$.jql"]
    live = JiraOptions(contract="NW-2026", lob="retail", base_url="https://x.atlassian.net/", project="SUP")
    assert live.problems(None) == [] and live.api_url == "https://x.atlassian.net"
    assert JiraOptions(base_url="acme.atlassian.net").problems(None) == [
        ("$.base_url", "expected an http(s) URL like https://acme.atlassian.net, got 'acme.atlassian.net'")]


def test_contract_field_replaces_contract(export):
    triples = list(read_jira(export, {"contract_field": "project.key", "lob": "retail"}))
    assert len(triples) == 5  # no ConfigError; the BadLines say the field is empty


def test_core_checks_the_plugins_table():
    cat = catalogue([PLUGIN])
    cat.configure({}, None)
    cat.configure({"jira": {"priority_map": {"Critical": "P1"}, "channel": "web"}}, None)
    with pytest.raises(ConfigError, match=r"^\[plugins\.jira\] \$: unknown field\(s\): tokn_env$"):
        cat.configure({"jira": {"channel": "web", "tokn_env": "X"}}, None)
    with pytest.raises(ConfigError, match=r"^\[plugins\.jira\] \$\.channel: expected one of web, .*, got 'fax'$"):
        cat.configure({"jira": {"channel": "fax"}}, None)
    with pytest.raises(ConfigError, match=r"^\[plugins\.jira\]: expected a table of options$"):
        cat.configure({"jira": "yes"}, None)


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
