"""`cso-policy policies list|show|diff` (issue 5), run in the repository on the bundled
policies/ and on examples/policies (the fictional example-cso@2.0).

Numbers are the seed's Section 1 hours (per quarter / per year): foundations 25/100,
fundamentals 65/260, premier 113/455, expert 246/985, strategic 500/2000. The example
version changes premier to 115/460 and expert to 250/1000.
(`policies lock` is tested with the lint in test_lint.py, on a copy of policies/.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import cso_policy.cli as cli
from cso_policy.policy.registry import builtin_policy_root

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = "examples/policies"

SECTION_1_HOURS = {  # tier: (per quarter, per year), SPEC §1 from the seed
    "foundations": (25, 100),
    "fundamentals": (65, 260),
    "premier": (113, 455),
    "expert": (246, 985),
    "strategic": (500, 2000),
}

READINGS = {  # SPEC §1 I-n: the policy parameter that holds each reading
    "I-1": "entitlement.periods.anchor",
    "I-2": "entitlement.allowances.solutions_engineering.scope",
    "I-3": "sla.units.day_hours",
    "I-4": "sla.rca.due",
    "I-5": "sla.severity_change.mode",
    "I-6": "expansion.hours_per",
}


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # --policies examples/policies is relative to the repository


def policies(*args: str):
    return CliRunner().invoke(cli.main, ["policies", *args])


def listing(output: str) -> dict[str, str]:
    """ref -> the rest of its `policies list` line."""
    return {line.split("  ", 1)[0]: line.split("  ", 1)[1] for line in output.splitlines() if line}


def sections(diff: str) -> dict[str, list[str]]:
    """`policies diff` output: "[module] table" header -> its change lines."""
    out: dict[str, list[str]] = {}
    current = None
    for line in diff.splitlines()[1:]:
        if line.startswith("["):
            current = out.setdefault(line, [])
        elif line.strip():
            current.append(line.strip())
    return out


def test_list_shows_the_bundled_version():
    result = policies("list")
    assert result.exit_code == 0, result.output
    rows = listing(result.output)
    assert rows["liveperson-cso@1.0"] == str(builtin_policy_root() / "liveperson-cso" / "1.0")  # not an example
    assert "example-cso@2.0" not in rows
    assert policies().output == result.output  # list is the default action


def test_list_with_extra_policies_shows_both_and_marks_the_example():
    result = policies("list", "--policies", EXAMPLES)
    assert result.exit_code == 0, result.output
    rows = listing(result.output)
    assert rows["example-cso@2.0"] == "examples/policies/example-cso/2.0 [example]"
    assert rows["liveperson-cso@1.0"] == str(builtin_policy_root() / "liveperson-cso" / "1.0")
    assert result.output.count("[example]") == sum("example" in ref for ref in rows)


def test_show_lists_section_1_hours_and_every_reading():
    result = policies("show", "liveperson-cso@1.0")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("liveperson-cso@1.0: LivePerson Customer Success Offerings (CSO) Terms and Conditions "
                          "(effective 2026-01-01)\n")
    assert "[example" not in out
    assert "source terms.txt sha256 d7d4aafde75a96859d81322871d4fef347b540bb924017dd59d17349fa0b796d" in out
    for tier, (quarter, year) in SECTION_1_HOURS.items():
        assert re.search(rf"^  {tier}\s+{quarter} h/quarter\s+{year} h/year$", out, re.M), tier
    readings = out.split("Readings of ambiguous terms\n", 1)[1]
    found = re.findall(r"^  (I-\d) \(([\w.]+)\): \S", readings, re.M)
    assert dict(found) == READINGS
    assert [ref for ref, _ in found] == sorted(READINGS)


def test_show_the_example_version_is_marked_and_has_its_own_hours():
    result = policies("show", "example-cso@2.0", "--policies", EXAMPLES)
    assert result.exit_code == 0, result.output
    assert "[example, not LivePerson terms]" in result.output.splitlines()[0]
    assert re.search(r"^  premier\s+115 h/quarter\s+460 h/year$", result.output, re.M)


def test_diff_shows_the_premier_hours_change_under_hours_per_quarter():
    result = policies("diff", "liveperson-cso@1.0", "example-cso@2.0", "--policies", EXAMPLES)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("liveperson-cso@1.0 -> example-cso@2.0\n")
    table = sections(result.output)
    # Section 1: premier 113 -> 115 and expert 246 -> 250 h/quarter; 455 -> 460 and 985 -> 1000 h/year
    assert table["[entitlement] hours.per_quarter"] == [
        "~ hours.per_quarter.expert: 246 -> 250",
        "~ hours.per_quarter.premier: 113 -> 115",
    ]
    assert table["[entitlement] hours.per_year"] == [
        "~ hours.per_year.expert: 985 -> 1000",
        "~ hours.per_year.premier: 455 -> 460",
    ]
    # Table 4: premier Solutions Engineering hours 40 -> 60
    assert table["[entitlement] allowances.solutions_engineering"] == [
        "~ allowances.solutions_engineering.hours.premier: 40 -> 60"]
    # Table 2: premier customer account plan "Twice Monthly" -> "Monthly"
    assert table["[entitlement] items.customer_account_plan"] == [
        "~ items.customer_account_plan.cells.premier: 'Twice Monthly' -> 'Monthly'"]
    # unchanged tables are not listed
    assert "[entitlement] items.general_account_consulting" not in table


def test_diff_of_a_version_with_itself():
    result = policies("diff", "liveperson-cso@1.0", "liveperson-cso@1.0")
    assert result.exit_code == 0
    assert result.output == "liveperson-cso@1.0 -> liveperson-cso@1.0\nno differences in the terms\n"


@pytest.mark.parametrize("args,message", [
    (["show", "liveperson-cso@9.9"], "unknown policy 'liveperson-cso@9.9' (available: "),
    (["show"], "policies show needs one ID@VERSION"),
    (["diff", "liveperson-cso@1.0"], "policies diff needs two ID@VERSION"),
    (["diff", "liveperson-cso@1.0", "example-cso@2.0"], "unknown policy 'example-cso@2.0'"),  # without --policies
], ids=["unknown-version", "show-without-ref", "diff-one-ref", "example-without-policies"])
def test_usage_errors_exit_2(args, message):
    result = policies(*args)
    assert result.exit_code == 2
    assert message in result.output
