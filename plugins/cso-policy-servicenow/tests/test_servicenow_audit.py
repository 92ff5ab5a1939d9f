"""End to end: ServiceNow incidents through the real pipeline (the test kit's workspace and the CLI)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

import cso_policy_servicenow as plugin
from cso_policy.cli import main

AS_OF = datetime(2026, 4, 1, tzinfo=UTC)


def run(ws, tier, plugin_options=None):
    """Audit the workspace's [[records]] entries against Northwind's contract of *tier*
    (no holiday calendar, no overage agreement)."""
    ws.contract(id="NW-2026", customer="Northwind", holidays=None, overage=None,
                packages=[{"id": "nw", "tier": tier, "lines_of_business": ["retail", "outlet"]}])
    for name, values in (plugin_options or {}).items():
        ws.plugin_options(name, **values)
    result = ws.audit(plugins=[("servicenow", plugin)], as_of=AS_OF)
    return [(f.rule, f.record, f.source) for f in result.findings]


def test_phone_incident_on_foundations_is_a_channel_finding(cso_workspace, data_dir, options):
    export = data_dir / "incidents.json"
    cso_workspace.source("servicenow", export, **options)
    found = run(cso_workspace, "foundations")
    assert ("entitlement.channel_not_included", "INC0010002", f"{export}:2") in found
    # the unmappable rows are input.invalid_record findings at their place in the export
    invalid = [(rule, source) for rule, _, source in found if rule == "input.invalid_record"]
    assert invalid == [("input.invalid_record", f"{export}:4"), ("input.invalid_record", f"{export}:6")]
    # Foundations has no enhanced SLAs: no sla.* finding
    assert not [rule for rule, _, _ in found if rule.startswith("sla.")]


def test_premier_sla_findings_from_journal_and_audit(cso_workspace, data_dir, options):
    export = data_dir / "incidents.json"
    # options from [plugins.servicenow] are merged under the entry's own
    cso_workspace.source("servicenow", export, lob_field="u_line_of_business")
    found = run(cso_workspace, "premier", {"servicenow": {**options, "lob_field": "ignored_by_the_entry"}})
    rules = {(rule, record) for rule, record, _ in found}
    # INC0010001 (P2, Premier: update every 12 h): last comment 18:00, resolved 09:00 next day = 15 h
    assert ("sla.periodic_update", "INC0010001") in rules
    assert ("sla.response", "INC0010001") not in rules  # 40 min against 3 h
    # INC0010002 went P3 -> P1 at 10:30 and is still open: P1 update every 2 h, last comment 11:00
    assert ("sla.periodic_update", "INC0010002") in rules
    assert ("entitlement.channel_not_included", "INC0010002") not in rules  # phone is included from Fundamentals
    # INC0010005 is a security incident already at P1; is_bug, so no resolution clock
    assert not [r for r in rules if r[1] == "INC0010005" and r[0] in ("sla.severity_misclassified", "sla.resolution")]


def test_cli_workspace_with_a_servicenow_entry(tmp_path, data_dir):
    root = tmp_path / "ws"
    (root / "contracts").mkdir(parents=True)
    (root / "contracts" / "nw.toml").write_text(
        'id = "NW-2026"\ncustomer = "Northwind"\npolicy = "liveperson-cso@1.0"\n'
        'term = { start = 2026-01-01, end = 2026-12-31 }\ntimezone = "America/New_York"\n\n'
        '[[packages]]\nid = "nw"\ntier = "foundations"\nlines_of_business = ["retail", "outlet"]\n'
    )
    (root / "exports").mkdir()
    (root / "exports" / "incidents.json").write_text((data_dir / "incidents.json").read_text())
    (root / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\n\n'
        '[[records]]\npath = "exports/incidents.json"\nsource = "servicenow"\nlob_field = "u_line_of_business"\n\n'
        '[plugins.servicenow]\ncontract = "NW-2026"\nbug_field = "u_is_bug"\nrca_field = "u_rca_delivered"\n'
        'channel_map = { "walk-in" = "phone" }\npriority_map = { "6" = "P3" }\n'
    )
    result = CliRunner().invoke(main, ["audit", str(root), "--format", "json", "--as-of", "2026-04-01T00:00:00Z"])
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    channel = [(f["record"], f["source"]) for f in findings if f["rule"] == "entitlement.channel_not_included"]
    export = root / "exports" / "incidents.json"
    # Foundations includes web and chat only: email (1, 4), phone (2) and walk-in mapped to phone (6)
    assert channel == [(f"INC001000{n}", f"{export}:{n}") for n in (1, 2, 4, 6)]
    assert not [f for f in findings if f["rule"] == "input.invalid_record"]


def test_cli_rejects_a_typo_in_the_plugin_table(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "cso-policy.toml").write_text('contracts = []\n\n[plugins.servicenow]\npage_sise = 10\n')
    result = CliRunner().invoke(main, ["audit", str(root)])
    assert result.exit_code == 2
    assert "[plugins.servicenow] $: unknown field(s): page_sise" in result.output


def test_live_entry_without_path(cso_workspace, instance, options, credentials, secrets):
    cso_workspace.source("servicenow", **options, base_url=instance.url)
    found = run(cso_workspace, "foundations")
    label = f"servicenow:{instance.url}/api/now/table/incident"
    assert ("entitlement.channel_not_included", "INC0010002", f"{label}:2") in found
    assert not any(secret in repr(found) for secret in secrets)
