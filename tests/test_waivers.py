"""Waivers (README "Reports, waivers and baselines"; SPEC §5 `--waivers`): accepted exceptions with a
reason, an approver and an expiry date, matched by rule (id or glob), contract, and record or LOB.

The standard workspace: contract C-1 (Premier package p1 for LOB "a", time zone America/New_York,
overage agreed at USD 240/h) and OVER = w1 100 h (2026-01-05) + w2 20 h (2026-02-05) = 120 h in
2026-Q1 > 113 h/quarter (Section 1). Findings, both at w2 (the crossing record):
  billing.overage_unbilled     error    7 h x USD 240 = USD 1,680 due, nothing on the draft invoice
  entitlement.quarterly_hours  warning  120 - 113 = 7 h over
So without waivers the run exits 1 (one error at the default --fail-on error).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cso_policy.cli import main
from tests.conftest import assert_exit_2, make_contract, work

AS_OF = "2026-12-31T00:00:00Z"  # 2026-12-30 19:00 in New York
OVER = [work("w1", "2026-01-05", 100), work("w2", "2026-02-05", 20)]
REASON = "Q1 launch support agreed in the steering meeting"


def waiver(rule="billing.overage_unbilled", *, record="w2", lob=None, expires="2026-12-31", contract="C-1",
           reason=REASON, approved_by="finance@example.com") -> dict:
    return {"rule": rule, "contract": contract, "record": record, "lob": lob, "reason": reason,
            "approved_by": approved_by, "expires": expires}


def waivers_toml(*waivers: dict) -> str:
    """TOML text: strings quoted, ``expires`` a bare TOML date; None values left out."""
    out = []
    for w in waivers:
        out.append("[[waiver]]")
        for key, value in w.items():
            if value is not None:
                out.append(f"{key} = {value if key == 'expires' else json.dumps(value)}")
    return "\n".join(out) + "\n"


@pytest.fixture
def ws(make_workspace):
    return make_workspace([make_contract()], OVER)


def audit(runner, root, waivers_file=None, *args, as_of=AS_OF):
    extra = ["--waivers", str(waivers_file)] if waivers_file is not None else []
    return runner.invoke(main, ["audit", str(root), "--as-of", as_of, "--format", "json", *extra, *map(str, args)])


def write_waivers(tmp_path, *waivers: dict):
    path = tmp_path / "waivers.toml"
    path.write_text(waivers_toml(*waivers), encoding="utf-8")
    return path


def by_rule(result) -> dict[str, dict]:
    findings = json.loads(result.stdout)["findings"]
    out = {f["rule"]: f for f in findings}
    assert len(out) == len(findings), findings  # one finding per rule in these workspaces
    return out


def test_without_waivers_the_overage_error_fails_the_run(runner, ws):
    result = audit(runner, ws)
    assert result.exit_code == 1
    found = by_rule(result)
    assert set(found) == {"billing.overage_unbilled", "entitlement.quarterly_hours"}
    assert all(f["waiver"] is None for f in found.values())


def test_active_waiver_marks_the_finding_waived_and_it_no_longer_fails(runner, ws, tmp_path):
    # The only error (billing.overage_unbilled, w2) is waived: exit 0 at --fail-on error; the
    # quarterly-hours warning stays as it was.
    result = audit(runner, ws, write_waivers(tmp_path, waiver()))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    found = {f["rule"]: f for f in document["findings"]}
    assert set(found) == {"billing.overage_unbilled", "entitlement.quarterly_hours"}  # listed, not dropped
    assert found["billing.overage_unbilled"]["waiver"] == {
        "reason": REASON, "approved_by": "finance@example.com", "expires": "2026-12-31"}
    assert found["billing.overage_unbilled"]["impact"] == {"hours": 7.0, "amount": 1680.0, "currency": "USD"}
    assert found["entitlement.quarterly_hours"]["waiver"] is None
    summary = document["summary"]
    # 2 findings, 1 waived: counted under "waived", not in by_level / by_rule / by_contract
    assert summary["waived"] == 1
    assert summary["findings"] == 1
    assert summary["by_level"] == {"error": 0, "warning": 1, "info": 0}
    assert list(summary["by_rule"]) == ["entitlement.quarterly_hours"]
    assert summary["by_contract"] == {"C-1": 1}
    # the warning is still there for --fail-on warning
    assert audit(runner, ws, tmp_path / "waivers.toml", "--fail-on", "warning").exit_code == 1


def test_expired_waiver_is_a_finding_and_waives_nothing(runner, ws, tmp_path):
    # expires 2026-06-30; as of 2026-12-30 (New York) it expired half a year ago
    result = audit(runner, ws, write_waivers(tmp_path, waiver(expires="2026-06-30")))
    assert result.exit_code == 1
    found = by_rule(result)
    assert set(found) == {"billing.overage_unbilled", "entitlement.quarterly_hours", "waiver.expired"}
    assert found["billing.overage_unbilled"]["waiver"] is None
    expired = found["waiver.expired"]
    assert (expired["level"], expired["contract"], expired["record"]) == ("error", "C-1", "w2")
    assert expired["source"] == f"{tmp_path / 'waivers.toml'} $.waiver[0]"
    assert "expired on 2026-06-30" in expired["message"] and REASON in expired["message"]
    assert json.loads(result.stdout)["summary"]["waived"] == 0


def test_waiver_matching_no_finding_is_unused(runner, ws, tmp_path):
    # w1 (100 h <= 113) crossed nothing, so a waiver for it matches no finding
    result = audit(runner, ws, write_waivers(tmp_path, waiver(record="w1")))
    assert result.exit_code == 1  # the overage error is not waived
    found = by_rule(result)
    assert set(found) == {"billing.overage_unbilled", "entitlement.quarterly_hours", "waiver.unused"}
    assert all(found[r]["waiver"] is None for r in ("billing.overage_unbilled", "entitlement.quarterly_hours"))
    unused = found["waiver.unused"]
    assert (unused["level"], unused["record"]) == ("warning", "w1")
    assert "matches no finding" in unused["message"]


@pytest.mark.parametrize(
    ("as_of", "active"),
    [
        # New York is on EDT (UTC-4) in July: 03:59:59Z = 2026-06-30 23:59:59 local, still the expires day
        ("2026-07-01T03:59:59Z", True),
        # 04:00:00Z = 2026-07-01 00:00:00 local: the next local day, expired (in UTC both are July 1)
        ("2026-07-01T04:00:00Z", False),
    ],
)
def test_expiry_is_inclusive_of_its_day_in_the_contract_time_zone(runner, ws, tmp_path, as_of, active):
    result = audit(runner, ws, write_waivers(tmp_path, waiver(expires="2026-06-30")), as_of=as_of)
    found = by_rule(result)
    if active:
        assert result.exit_code == 0, result.output
        assert set(found) == {"billing.overage_unbilled", "entitlement.quarterly_hours"}
        assert found["billing.overage_unbilled"]["waiver"]["expires"] == "2026-06-30"
    else:
        assert result.exit_code == 1
        assert set(found) == {"billing.overage_unbilled", "entitlement.quarterly_hours", "waiver.expired"}
        assert found["billing.overage_unbilled"]["waiver"] is None


def test_waiver_by_lob(runner, make_workspace, tmp_path):
    # Two Premier packages, one LOB each, each 100 + 20 = 120 h > 113 h in 2026-Q1: a quarterly-hours
    # finding crossed by w2 (LOB a) and by v2 (LOB b). A waiver for lob "a" waives only w2's.
    contract = make_contract(packages=[("p1", "premier", ["a"]), ("p2", "premier", ["b"])])
    root = make_workspace([contract], [work("w1", "2026-01-05", 100), work("v1", "2026-01-06", 100, lob="b"),
                                       work("w2", "2026-02-05", 20), work("v2", "2026-02-06", 20, lob="b")])
    result = audit(runner, root, write_waivers(tmp_path, waiver("entitlement.quarterly_hours", record=None, lob="a")))
    findings = json.loads(result.stdout)["findings"]
    waived = {(f["rule"], f["lob"], f["record"]): f["waiver"] is not None for f in findings}
    assert waived == {
        ("billing.overage_unbilled", "a", "w2"): False,
        ("billing.overage_unbilled", "b", "v2"): False,
        ("entitlement.quarterly_hours", "a", "w2"): True,
        ("entitlement.quarterly_hours", "b", "v2"): False,
    }
    assert result.exit_code == 1  # the overage errors are not waived


@pytest.mark.parametrize(
    ("rule", "waived"),
    [
        ("billing.overage_*", {"billing.overage_unbilled"}),
        ("*_hours", {"entitlement.quarterly_hours"}),
        ("entitlement.*", {"entitlement.quarterly_hours"}),
        ("*", {"billing.overage_unbilled", "entitlement.quarterly_hours"}),  # one waiver, two findings
        ("sla.*", set()),  # matches no finding of w2: waiver.unused
    ],
)
def test_waiver_rule_glob(runner, ws, tmp_path, rule, waived):
    result = audit(runner, ws, write_waivers(tmp_path, waiver(rule)))
    found = by_rule(result)
    assert {r for r, f in found.items() if f["waiver"] is not None} == waived
    assert ("waiver.unused" in found) == (not waived)
    assert result.exit_code == (0 if "billing.overage_unbilled" in waived else 1)


@pytest.mark.parametrize(
    ("drop", "extra", "message"),
    [
        ("reason", {}, "waivers.toml $.waiver[0].reason: required field missing"),
        ("expires", {}, "waivers.toml $.waiver[0].expires: required field missing"),
        (None, {"expires": '"soon"'}, "waivers.toml $.waiver[0].expires: expected a date"),
        (None, {"record": None}, "waivers.toml $.waiver[0]: a waiver names a record or a lob"),
    ],
)
def test_bad_waivers_file_exits_2_with_one_line(runner, ws, tmp_path, drop, extra, message):
    w = {k: v for k, v in {**waiver(), **extra}.items() if k != drop}
    result = audit(runner, ws, write_waivers(tmp_path, w))
    assert_exit_2(result, message, one_line=True)
    assert result.stdout == ""


def test_workspace_waivers_setting(runner, ws, tmp_path, monkeypatch):
    # cso-policy.toml: waivers = "waivers.toml", relative to the workspace, whatever the cwd
    (ws / "waivers.toml").write_text(waivers_toml(waiver()), encoding="utf-8")
    (ws / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = ["records/*.jsonl"]\nwaivers = "waivers.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = audit(runner, "../ws")
    assert result.exit_code == 0, result.output
    found = by_rule(result)
    assert found["billing.overage_unbilled"]["waiver"]["reason"] == REASON
    assert json.loads(result.stdout)["summary"]["waived"] == 1
    # --waivers replaces the workspace's file: this one waives only the warning
    other = tmp_path / "other.toml"
    other.write_text(waivers_toml(waiver("entitlement.quarterly_hours")), encoding="utf-8")
    found = by_rule(audit(runner, "../ws", other))
    assert {r for r, f in found.items() if f["waiver"]} == {"entitlement.quarterly_hours"}


def test_waiver_applies_to_its_contract_only(runner, make_workspace, tmp_path):
    # C-2 has the same records (ids w1, w2) under another contract: the C-1 waiver leaves C-2's finding alone
    c2 = [dict(r, contract="C-2") for r in OVER]
    root = make_workspace([make_contract(), make_contract("C-2")], OVER[:1] + c2[:1] + OVER[1:] + c2[1:])
    result = audit(runner, root, write_waivers(tmp_path, waiver()))
    findings = json.loads(result.stdout)["findings"]
    assert {(f["contract"], f["rule"]): f["waiver"] is not None for f in findings} == {
        ("C-1", "billing.overage_unbilled"): True, ("C-1", "entitlement.quarterly_hours"): False,
        ("C-2", "billing.overage_unbilled"): False, ("C-2", "entitlement.quarterly_hours"): False,
    }


def test_text_report_marks_a_waived_finding_with_its_reason(tmp_path):
    # the waived finding keeps its line in the text report, marked, and does not fail the run
    from click.testing import CliRunner

    example = Path(__file__).resolve().parents[1] / "examples" / "northwind"
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(
        '[[waiver]]\nrule = "entitlement.channel_not_included"\ncontract = "FB-2026"\nrecord = "t-0018"\n'
        'reason = "phone support side letter"\napproved_by = "cfo@fabrikam.example"\nexpires = 2027-03-31\n'
    )
    result = CliRunner().invoke(main, ["audit", str(example), "--as-of", "2026-12-31T00:00:00Z",
                                       "--waivers", str(waivers)])
    line = next(l for l in result.stdout.splitlines() if "t-0018" in l)
    assert "warning (waived: phone support side letter): entitlement.channel_not_included" in line
    assert "  waived: 1" in result.stdout


def test_the_workspace_waivers_file_is_read_without_being_named(tmp_path):
    """A waivers.toml in the workspace is used although cso-policy.toml does not name it: the
    README says waivers are read from it, and ignoring it silently would fail a run it accepts."""
    import json

    from click.testing import CliRunner

    from cso_policy.cli import main
    from cso_policy.testing import Workspace

    ws = Workspace(tmp_path)
    ws.contract()
    ws.records([{"kind": "work", "id": "w1", "date": "2026-01-05", "lob": "retail", "hours": 60,
                 "service": "general_account_consulting"},
                {"kind": "work", "id": "w2", "date": "2026-02-02", "lob": "retail", "hours": 60,
                 "service": "general_account_consulting"}])
    (tmp_path / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records"]\n', encoding="utf-8")
    (tmp_path / "waivers.toml").write_text(
        '[[waiver]]\nrule = "*"\ncontract = "EX-2026"\nrecord = "w2"\nreason = "agreed"\napproved_by = "cfo"\n'
        'expires = 2030-01-01\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(tmp_path), "--as-of", "2027-01-01T00:00:00Z", "--format", "json"])
    assert result.exit_code == 0, result.output  # both findings of w2 waived
    summary = json.loads(result.stdout)["summary"]
    assert (summary["findings"], summary["waived"]) == (0, 2)
