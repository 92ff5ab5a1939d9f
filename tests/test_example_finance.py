"""The README's finance example: Northwind's first quarter from a PSA timesheet and a draft
invoice, both CSV in German number format (semicolons, decimal comma, dd.mm.yyyy, a BOM, CRLF,
a quoted cell over two lines), audited as printed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cso_policy.cli import main

REPO = Path(__file__).parent.parent
AS_OF = "2026-03-31T23:59:59Z"


def test_the_finance_example_finds_what_the_readme_says(monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, ["audit", "examples/finance", "--as-of", AS_OF, "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    found = [(f["rule"], f["record"], f["source"].rsplit("/", 1)[-1], f["impact"].get("hours"), f["impact"].get("amount"))
             for f in report["findings"]]
    assert found == [
        ("input.invalid_record", None, "timesheet-2026-q1.csv:42", None, None),
        ("billing.overage_overbilled", "INV-1", "draft-invoice-2026-q1.csv:2", 6.0, 1440.0),
        ("entitlement.not_included", "T-0060", "timesheet-2026-q1.csv:63", 3.0, 720.0),
        ("entitlement.not_included", "T-0123", "timesheet-2026-q1.csv:126", 3.0, 720.0),
        ("billing.overage_unbilled", "T-0174", "timesheet-2026-q1.csv:177", 0.5, 120.0),
        ("entitlement.quarterly_hours", "T-0174", "timesheet-2026-q1.csv:177", 2.5, 600.0),
        ("entitlement.quarterly_hours", "T-0178", "timesheet-2026-q1.csv:181", 4.0, 960.0),
    ]
    assert report["findings"][0]["message"].endswith(
        "timesheet-2026-q1.csv:42 $: column 'Date' ($.date): expected a date as %d.%m.%Y, got '31.02.2026'")
    inputs = {i["input"].rsplit("/", 1)[-1]: (i["read"], i["counted"], i["invalid"]) for i in report["summary"]["inputs"]}
    assert inputs == {"timesheet-2026-q1.csv": (181, 180, 1), "draft-invoice-2026-q1.csv": (2, 2, 0)}
