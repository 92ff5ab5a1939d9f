"""End to end: the audit (the test kit's workspace) and the CLI on a contract + a Zendesk
export (and the live API) through the zendesk source give ticket findings."""

from __future__ import annotations

import importlib.metadata
import json

import pytest
from click.testing import CliRunner

import cso_policy_zendesk
from cso_policy import ConfigError
from cso_policy.cli import main
from cso_policy.testing import catalogue

TOKEN = "e2e-zd-token-5b4a"
PLUGIN = ("zendesk", cso_policy_zendesk)  # registered under its entry-point name, as when installed


def _catalogue():
    return catalogue([PLUGIN])


def _audit(ws, as_of=None):
    """The workspace's audit with the zendesk plugin; without *as_of* open items are not measured."""
    return ws.audit(plugins=[PLUGIN], as_of=as_of)


def test_the_entry_point_names_the_source_module():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="cso_policy")}
    assert eps.get("zendesk") == "cso_policy_zendesk"
    assert [s.name for s in cso_policy_zendesk.cso_policy_record_sources()] == ["zendesk"]


def test_audit_of_the_export_reports_the_phone_ticket_on_foundations(cso_workspace, make_contract, data_dir,
                                                                    base_options):
    make_contract("foundations")
    path = data_dir / "export.json"
    cso_workspace.source("zendesk", path, **base_options)
    result = _audit(cso_workspace)
    found = {(f.rule, f.record) for f in result.findings}
    # ticket 102 came in by voice: phone is Fundamentals and up (Tables 5-6)
    assert ("entitlement.channel_not_included", "102") in found
    phone = next(f for f in result.findings if f.rule == "entitlement.channel_not_included" and f.record == "102")
    assert "phone" in phone.message and phone.source == f"{path}:8" and phone.lob == "retail"
    # web (101) and chat (107) are in every tier
    assert ("entitlement.channel_not_included", "101") not in found
    assert ("entitlement.channel_not_included", "107") not in found
    # the rows that could not be mapped are input findings at their place, not dropped
    invalid = sorted(f.message for f in result.findings if f.rule == "input.invalid_record")
    # (106, via api, was invalid before api had a default channel: web now)
    assert invalid == [
        f"{path}:4 $: zendesk ticket 104: priority: 'critical' has no severity; add it to severity_map "
        "(mapped: high, low, normal, urgent)",
    ]
    assert result.report.records == 7  # 5 tickets + 1 bad line + the deleted ticket 105 (LeftOut)


def test_phone_is_included_from_fundamentals(cso_workspace, make_contract, data_dir, base_options):
    make_contract("fundamentals")
    cso_workspace.source("zendesk", data_dir / "export.json", **base_options)
    result = _audit(cso_workspace)
    assert ("entitlement.channel_not_included", "102") not in {(f.rule, f.record) for f in result.findings}


def _workspace(tmp_path, contract_toml: str, records: str, plugin_table: str):
    ws = tmp_path / "ws"
    (ws / "contracts").mkdir(parents=True)
    (ws / "contracts" / "nw.toml").write_text(contract_toml)
    (ws / "cso-policy.toml").write_text(f'contracts = ["contracts"]\n\n{records}\n\n{plugin_table}\n')
    return ws


CONTRACT = """id = "NW-2026"
customer = "Northwind Retail"
policy = "liveperson-cso@1.0"
term = { start = 2026-01-01, end = 2026-12-31 }
timezone = "America/New_York"

[[packages]]
id = "nw-found"
tier = "foundations"
lines_of_business = ["retail", "outlet"]
"""

PLUGIN_TABLE = """[plugins.zendesk]
contract = "NW-2026"
lob_from = "tags"
lob_map = { lob_retail = "retail", lob_outlet = "outlet" }
severity_map = { critical = "P1" }
channel_map = { api = "web" }
timezone = "Eastern Time (US & Canada)"
"""


def _run(ws, monkeypatch, *args):
    monkeypatch.setenv("CSO_POLICY_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = CliRunner().invoke(main, ["--plugin", "cso_policy_zendesk", "audit", str(ws), "--format", "json",
                                       "--as-of", "2026-03-31T00:00:00Z", "-q", *args])
    return result


def test_cli_workspace_with_an_export_entry(tmp_path, data_dir, monkeypatch):
    records = f'[[records]]\npath = "{data_dir / "export.json"}"\nsource = "zendesk"\nrca_field = 360000111\n'
    ws = _workspace(tmp_path, CONTRACT, records, PLUGIN_TABLE)
    result = _run(ws, monkeypatch)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    found = {(f["rule"], f["record"]) for f in report["findings"]}
    assert ("entitlement.channel_not_included", "102") in found
    assert not [f for f in report["findings"] if f["rule"] in ("input.invalid_record", "plugin.error")]


def test_cli_a_bad_plugin_option_is_exit_2_naming_it(tmp_path, data_dir, monkeypatch):
    records = f'[[records]]\npath = "{data_dir / "export.json"}"\nsource = "zendesk"\n'
    ws = _workspace(tmp_path, CONTRACT, records, PLUGIN_TABLE.replace("Eastern Time (US & Canada)", "Eastern"))
    result = _run(ws, monkeypatch)
    assert result.exit_code == 2
    # the table's types are checked before the run; the time zone when the entry is read
    assert result.stderr.startswith(f"cso-policy: error: {ws / 'cso-policy.toml'} $.records[0] (source zendesk) "
                                    "$.timezone: unknown time zone 'Eastern'")
    mistyped = _workspace(tmp_path / "mistyped", CONTRACT, records, PLUGIN_TABLE + "max_retries = \"5\"\n")
    result = _run(mistyped, monkeypatch)
    assert result.exit_code == 2
    assert result.stderr == "cso-policy: error: [plugins.zendesk] $.max_retries: expected an integer, got '5'\n"


def test_cli_live_api_entry_without_path(tmp_path, httpserver, ticket, monkeypatch):
    t = ticket(41, created_at="2026-03-02T14:00:00Z", via={"channel": "voice", "source": {}}, tags=["lob_retail"],
               priority="high")
    httpserver.expect_request("/api/v2/incremental/tickets/cursor.json").respond_with_json(
        {"tickets": [t], "after_cursor": None, "end_of_stream": True})
    httpserver.expect_request("/api/v2/incremental/ticket_metric_events").respond_with_json(
        {"ticket_metric_events": [{"id": 1, "ticket_id": 41, "metric": "reply_time", "instance_id": 1,
                                   "type": "fulfill", "time": "2026-03-02T14:30:00Z"}], "end_of_stream": True})
    httpserver.expect_request("/api/v2/incremental/ticket_events").respond_with_json(
        {"ticket_events": [], "count": 0, "end_of_stream": True})
    monkeypatch.setenv("ZD_E2E_TOKEN", TOKEN)
    monkeypatch.setenv("ZENDESK_EMAIL", "audit@acme.example")
    records = '[[records]]\nsource = "zendesk"\nstart_time = 2026-01-01\n'
    table = PLUGIN_TABLE + f'url = "{httpserver.url_for("/").rstrip("/")}"\ntoken_env = "ZD_E2E_TOKEN"\n'
    ws = _workspace(tmp_path, CONTRACT, records, table)
    result = _run(ws, monkeypatch)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    phone = [f for f in report["findings"] if f["rule"] == "entitlement.channel_not_included"]
    assert [(f["record"], f["source"]) for f in phone] == [
        ("41", f"zendesk:{httpserver.url_for('/').rstrip('/')}/api/v2/incremental/tickets/cursor.json:1")
    ]
    assert TOKEN not in result.output and TOKEN not in result.stderr


@pytest.mark.parametrize("table, message", [
    ({"bogus": 1}, "[plugins.zendesk] $: unknown field(s): bogus"),
    ({"severity_map": {"urgent": "SEV1"}},
     "[plugins.zendesk] $.severity_map['urgent']: expected one of P1, P2, P3, got 'SEV1'"),
    ({"timeout": 0}, "[plugins.zendesk] $.timeout: expected a number above 0, got 0"),
    ("x", "[plugins.zendesk]: expected a table of options"),
])
def test_configure_checks_the_plugin_table(table, message):
    with pytest.raises(ConfigError) as info:
        _catalogue().configure({"zendesk": table}, None)
    assert str(info.value) == message


def test_configure_accepts_a_partial_table_that_entries_complete():
    _catalogue().configure({"zendesk": {"lob_from": "tags", "subdomain": "acme", "token_env": "ZD_TOKEN"}}, None)


def test_the_readme_example_configuration_is_valid():
    import re
    import tomllib
    from pathlib import Path

    from cso_policy_zendesk.options import ZendeskOptions

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    config = tomllib.loads(block)
    table = config["plugins"]["zendesk"]
    assert _catalogue().configure({"zendesk": table}, None) is None
    file_entry, live_entry = config["records"]
    file_options = {**table, **{k: v for k, v in file_entry.items() if k not in ("path", "source")}}
    live_options = {**table, **{k: v for k, v in live_entry.items() if k != "source"}}
    for options in (file_options, live_options):  # the merged options' types, as the core checks an entry's
        assert _catalogue().configure({"zendesk": options}, None) is None
    assert ZendeskOptions(**file_options).problems(Path(file_entry["path"])) == []
    cfg = ZendeskOptions(**live_options)
    assert cfg.problems(None) == []
    assert cfg.base_url == "https://acme.zendesk.com"
    assert cfg.start_unix == 1767243600  # 2026-01-01T00:00:00-05:00


def test_audit_on_premier_measures_the_sla_from_zendesk_events(cso_workspace, make_contract, data_dir, base_options):
    from datetime import datetime, timezone

    make_contract("premier")
    cso_workspace.source("zendesk", data_dir / "export.json", **base_options)
    result = _audit(cso_workspace, as_of=datetime(2026, 3, 4, 12, tzinfo=timezone.utc))
    sla = sorted((f.rule, f.record, f.impact.duration_seconds if f.impact else None)
                 for f in result.findings if f.rule.startswith("sla."))
    assert sla == [
        # 101, Premier P1 (update every 2 h): 16:00 -> 19:30 -> solved 23:00, two 3.5 h gaps
        ("sla.periodic_update", "101", 5400.0),
        ("sla.periodic_update", "101", 5400.0),
        # 102, P2 (12 h): first response 09:30 on 03-03, nothing since, open at --as-of: 26.5 h
        ("sla.periodic_update", "102", 52200.0),
        # 103: flagged security incident, opened P3 (raised to P1 later)
        ("sla.severity_misclassified", "103", None),
    ]
    # 101: response 40 min (1 h allowed); a bug, so no resolution target; RCA dated 03-05,
    # due by the 3rd business day after the 03-02 solve: on time
