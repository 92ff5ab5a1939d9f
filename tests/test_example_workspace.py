"""The bundled example workspace examples/northwind: the audit finds exactly its planted deviations.

examples/northwind/expected-findings.json lists 24 expected findings for the 20 planted deviations
D1..D20 (README of the example: e.g. D1 nw-expert Q2 251.5 h > 246 h -> 5.5 h over, crossed by
w-0184; D2 Q3 254.0 h > 246 h -> 8.0 h over, w-0319, of which 8.0 h x USD 240 = USD 1,920.00 unbilled;
D3 nw-fund Q3 68.5 h > 65 h -> 3.5 h, invoiced 5.0 h -> 1.5 h x USD 240 = USD 360.00 overbilled).
Every ticket is resolved, so --as-of 2026-12-31 changes nothing. The test runs from the repository
root with the repo-relative path, so sources read examples/northwind/records/<file>:<line>.
The contracts pin liveperson-cso@1.1, whose I-7 makes D4 (a Table 2 deliverable beyond its
frequency: 3 Fundamentals account plans in contract month 2026-07, Monthly = 1) two warnings, which
were errors under 1.0: 16 errors and 8 warnings in all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cso_policy.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = Path("examples") / "northwind"
AS_OF = "2026-12-31T00:00:00Z"


@pytest.fixture
def run(runner, monkeypatch):
    monkeypatch.chdir(REPO)

    def audit():
        return runner.invoke(main, ["audit", str(EXAMPLE), "--as-of", AS_OF, "--format", "json"])

    return audit


def expected() -> list[dict]:
    return json.loads((REPO / EXAMPLE / "expected-findings.json").read_text(encoding="utf-8"))["findings"]


def test_audit_finds_exactly_the_planted_deviations(run):
    result = run()
    assert result.exit_code == 1  # planted errors
    found = json.loads(result.stdout)["findings"]
    got = {(f["rule"], f["record"]) for f in found}
    want = {(f["rule"], f["record"]) for f in expected()}
    assert len(want) == len(expected()) == 24
    assert (sorted(got - want), sorted(want - got)) == ([], []), "(extra, missing) (rule, record) pairs"
    assert len(found) == len(got)  # and no pair twice
    assert all(f["source"].startswith("examples/northwind/records/") for f in found)


def test_planted_deviations_name_their_contract_and_line_of_business(run):
    # an expansion scope names a package; ct-broadband has one LOB, so xs-005's finding is "broadband"
    found = {(f["rule"], f["record"]): (f["contract"], f["lob"]) for f in json.loads(run().stdout)["findings"]}
    want = {(f["rule"], f["record"]): (f["contract"], f["lob"]) for f in expected()}
    assert found == want


def test_planted_amounts(run):
    # D2: 8.0 h x USD 240 unbilled; D3: 1.5 h x USD 240 overbilled; D17: 5.0 h without agreement
    found = {(f["rule"], f["record"]): f["impact"] for f in json.loads(run().stdout)["findings"]}
    assert found[("billing.overage_unbilled", "w-0319")] == {"hours": 8.0, "amount": 1920.0, "currency": "USD"}
    assert found[("billing.overage_overbilled", "il-005")] == {"hours": 1.5, "amount": 360.0, "currency": "USD"}
    assert found[("billing.overage_without_agreement", "il-016")]["hours"] == 5.0
    # quarterly hours over: D1 5.5 + D2 8.0 + D3 3.5 + D17 5.0 = 22.0 h
    assert sum(i["hours"] for (rule, _), i in found.items() if rule == "entitlement.quarterly_hours") == 22.0


def test_two_runs_are_byte_identical(run):
    first, second = run(), run()
    assert first.exit_code == second.exit_code == 1
    assert first.stdout_bytes == second.stdout_bytes


def test_contracts_pin_the_reviewed_policy_version():
    for path in sorted((REPO / EXAMPLE / "contracts").glob("*.toml")):
        assert 'policy = "liveperson-cso@1.1"' in path.read_text(encoding="utf-8"), path.name


def test_planted_levels(run):
    # every finding has the level expected-findings.json gives it; D4 (Table 2, I-7) is a warning
    report = json.loads(run().stdout)
    found = {(f["rule"], f["record"]): f["level"] for f in report["findings"]}
    assert found == {(f["rule"], f["record"]): f["level"] for f in expected()}
    assert found[("entitlement.frequency", "d-0066")] == found[("entitlement.frequency", "d-0072")] == "warning"
    assert report["summary"]["by_level"] == {"error": 16, "warning": 8, "info": 0}
