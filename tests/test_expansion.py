"""Expansion packs (SPEC §1 "Expansion packs", §2 expansion_scope; seed Section 9, Table 9).

Table 9: Foundations –; Fundamentals 1 Basic deployment (36 h); Premier and Expert 2x
Intermediate (60 h); Strategic 2x Advanced (120 h); the hours are inside the Section 1 hours.
I-6 reads the hours as per deployment. Unless a case says otherwise the contract is C-1: one
Expert package p1 for LOB "a", term 2026-01-01..2026-12-31, America/New_York, overage USD 240/h.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from attrs import evolve

from cso_policy.core import pipeline as app
from cso_policy.cli.entitlements import package_sections
from cso_policy.domains.expansion.terms import expansion_terms
from cso_policy.core.model import ExpansionPurchase
from cso_policy.policy.registry import builtin_policy_root, load_policy
from cso_policy.inputs.workspace import RecordInput
from tests.conftest import CONTRACT, audit_records, catalogue, make_contract, of, only, work, write_records

NOT_ELIGIBLE = "expansion.not_eligible"
EXCEEDED = "expansion.deployments_exceeded"
OVER = "expansion.over_scope"
BEFORE = "expansion.before_approval"
AFTER = "expansion.after_term"
DISALLOWED = "expansion.disallowed_use"
INVALID = "input.invalid_record"
UNKNOWN = "input.unknown_reference"
OUTSIDE = "entitlement.outside_term"
QUARTERLY = "entitlement.quarterly_hours"

APPROVED = "2026-02-02T10:00:00-05:00"  # local date 2026-02-02 in America/New_York
RENEWAL_START = date(2026, 1, 1)


def scope(id, hours, *, pack="intermediate", use="new_line_of_business", package="p1", approved_at=APPROVED):
    return {"kind": "expansion_scope", "id": id, "contract": CONTRACT, "package": package, "pack": pack,
            "use": use, "hours": hours, "approved_at": approved_at}


def xwork(id, day, hours, scope_id="xs-1", **extra):
    return work(id, day, hours, service="expansion", expansion=scope_id, **extra)


def contract(tier="expert", *, purchases=(), renewal_of="C-0", **kw):
    """C-1 with one *tier* package p1; purchases = [(hours, kind, purchased_on), ...] for p1."""
    bought = [ExpansionPurchase(package="p1", kind=k, hours=h, purchased_on=d) for h, k, d in purchases]
    return evolve(make_contract(tier=tier, **kw), renewal_of=renewal_of, expansion_purchases=bought)


def audit_views(c, records, *, as_of=None, policy_roots=()):
    cat = catalogue()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_records(Path(tmp) / "records.jsonl", records)
        return app.audit(cat, [c], [RecordInput(path=path)], as_of=as_of, policy_roots=policy_roots)


def expansion_rules(findings):
    return {f.rule for f in findings if f.rule.startswith("expansion.")}


# ------------------------------------------------------------------ policy data


def test_policy_module_holds_table_9_and_section_9():
    terms = expansion_terms(load_policy(builtin_policy_root() / "liveperson-cso" / "1.0"))
    assert {k: p.hours for k, p in terms.packs.items()} == {"basic": 36, "intermediate": 60, "advanced": 120}
    assert terms.tier("foundations") is None  # Table 9: '–'
    assert [(terms.tier(t).deployments, terms.tier(t).pack) for t in ("fundamentals", "premier", "expert", "strategic")] == [
        (1, "basic"), (2, "intermediate"), (2, "intermediate"), (2, "advanced")]
    assert terms.hours_per == "deployment"  # I-6
    assert set(terms.uses.allowed) == {
        "new_line_of_business", "update_line_of_business", "new_product_deployment",
        "standard_integration_configuration", "plugin_taglet_development", "brand_development_support",
        "deployment_optimization"}
    assert set(terms.uses.disallowed) == {"operational_tuning", "training", "custom_development", "insights_deployment"}
    assert terms.inside_section_1_hours and not terms.carry_forward and terms.purchase_only_at_renewal


def test_policy_module_is_structured_once_per_policy():
    policy = load_policy(builtin_policy_root() / "liveperson-cso" / "1.0")
    assert expansion_terms(policy) is expansion_terms(policy)


def test_reading_i6_names_the_parameter():
    policy = load_policy(builtin_policy_root() / "liveperson-cso" / "1.0")
    i6 = next(r for r in policy.manifest.readings if r.id == "I-6")
    module, _, key = i6.parameter.partition(".")
    assert key in policy.modules[module]


def test_every_rule_is_in_the_catalogue():
    ids = {r.id for r in catalogue().rules}
    assert {NOT_ELIGIBLE, EXCEEDED, OVER, BEFORE, AFTER, DISALLOWED} <= ids


# ------------------------------------------------------------------ not eligible


@pytest.mark.parametrize(
    ("tier", "pack", "eligible"),
    [
        ("foundations", "basic", False),  # Table 9: Foundations '–'
        ("fundamentals", "basic", True),  # 1 Basic
        ("fundamentals", "intermediate", False),
        ("premier", "intermediate", True),  # 2x Intermediate
        ("premier", "basic", False),
        ("expert", "intermediate", True),  # 2x Intermediate
        ("expert", "advanced", False),
        ("strategic", "advanced", True),  # 2x Advanced
        ("strategic", "intermediate", False),
    ],
)
def test_scope_pack_kind_against_the_tier(tier, pack, eligible):
    findings = audit_records(contract(tier), [scope("xs-1", 30, pack=pack), xwork("w1", "2026-02-03", 5)])
    if eligible:
        assert not of(findings, NOT_ELIGIBLE)
    else:
        f = only(findings, NOT_ELIGIBLE)
        assert f.record == "xs-1" and f.clause == "Table 9"
        assert f.impact.hours == 5  # the hours worked on the scope
        assert f.impact.amount == 5 * 240  # 5 h at the agreed USD 240/h


def test_foundations_scope_is_one_finding_not_also_deployments_or_hours():
    # Foundations has no deployment to count or hours to hold: only not_eligible.
    findings = audit_records(contract("foundations"), [scope("xs-1", 200, pack="basic")])
    assert expansion_rules(findings) == {NOT_ELIGIBLE}


def test_purchase_at_renewal_start_is_valid():
    c = contract(purchases=[(40, "intermediate", RENEWAL_START)])
    assert not of(audit_records(c, []), NOT_ELIGIBLE)


@pytest.mark.parametrize(
    ("purchase", "renewal_of", "why"),
    [
        ((40, "intermediate", date(2026, 3, 1)), "C-0", "not the renewal term start 2026-01-01"),  # mid-term
        ((40, "intermediate", RENEWAL_START), None, "names no renewal_of"),  # first term, not a renewal
        ((40, "advanced", RENEWAL_START), "C-0", "has intermediate deployments, not advanced"),  # Expert: intermediate
    ],
)
def test_invalid_purchase_names_the_contract(purchase, renewal_of, why):
    c = evolve(contract(purchases=[purchase], renewal_of=renewal_of), path="contracts/c-1.toml")
    f = only(audit_records(c, []), NOT_ELIGIBLE)
    assert f.record is None and f.contract == CONTRACT and f.source == "contracts/c-1.toml"
    assert "expansion_purchases[0]" in f.message and why in f.message
    assert f.impact.hours == 40


def test_purchase_for_a_foundations_package_is_not_eligible():
    c = contract("foundations", purchases=[(36, "basic", RENEWAL_START)])
    assert "includes no expansion packs" in only(audit_records(c, []), NOT_ELIGIBLE).message


# ------------------------------------------------------------------ deployments


def test_expert_two_intermediate_deployments_are_within():
    # Table 9: Expert 2x Intermediate.
    findings = audit_records(contract(), [scope("xs-1", 60), scope("xs-2", 60)])
    assert not of(findings, EXCEEDED)


def test_third_deployment_is_named_by_approval_order_not_file_order():
    # Expert 2 deployments: the scope approved third (xs-late, though first in the file) is beyond.
    records = [
        scope("xs-late", 20, approved_at="2026-06-01T09:00:00-04:00"),
        scope("xs-1", 60, approved_at="2026-02-01T09:00:00-05:00"),
        scope("xs-2", 60, approved_at="2026-03-01T09:00:00-05:00"),
        xwork("w1", "2026-06-02", 7, "xs-late"),
    ]
    f = only(audit_records(contract(), records), EXCEEDED)
    assert f.record == "xs-late" and "deployment 3" in f.message and "entitled to 2" in f.message
    assert f.impact.hours == 7


def test_fundamentals_second_basic_deployment_is_beyond():
    # Table 9: Fundamentals 1 Basic deployment.
    records = [scope("xs-1", 36, pack="basic"), scope("xs-2", 10, pack="basic", approved_at="2026-05-01T09:00:00-04:00")]
    assert only(audit_records(contract("fundamentals"), records), EXCEEDED).record == "xs-2"


def test_renewal_purchase_adds_a_deployment_mid_term_purchase_does_not():
    three = [scope("xs-1", 60), scope("xs-2", 60), scope("xs-3", 40, approved_at="2026-07-01T09:00:00-04:00")]
    # Expert 2 included + 1 purchased at the renewal start = 3 deployments.
    at_renewal = contract(purchases=[(40, "intermediate", RENEWAL_START)])
    assert not expansion_rules(audit_records(at_renewal, three))
    # Bought on 2026-03-01 it adds nothing: 2 deployments, xs-3 is beyond (and the purchase is reported).
    mid_term = contract(purchases=[(40, "intermediate", date(2026, 3, 1))])
    findings = audit_records(mid_term, three)
    assert only(findings, EXCEEDED).record == "xs-3"
    assert only(findings, NOT_ELIGIBLE).record is None


def test_a_disallowed_scope_does_not_take_a_deployment():
    # 2 allowed scopes + 1 for training on Expert (2 deployments): the training scope is one finding.
    records = [scope("xs-1", 60), scope("xs-2", 60), scope("xs-t", 10, use="training", approved_at="2026-01-15T09:00:00-05:00")]
    assert expansion_rules(audit_records(contract(), records)) == {DISALLOWED}


# ------------------------------------------------------------------ over scope: approved hours


@pytest.mark.parametrize(
    ("tier", "pack", "hours"),
    [("fundamentals", "basic", 36), ("premier", "intermediate", 60), ("expert", "intermediate", 60),
     ("strategic", "advanced", 120)],
)
def test_approved_hours_up_to_the_deployment_hours(tier, pack, hours):
    # Table 9 (I-6: per deployment): approving exactly the deployment's hours is fine, 1 h more is not.
    assert not of(audit_records(contract(tier), [scope("xs-1", hours, pack=pack)]), OVER)
    f = only(audit_records(contract(tier), [scope("xs-1", hours + 1, pack=pack)]), OVER)
    assert f.record == "xs-1" and f.impact.hours == 1 and f.impact.amount == 240  # 1 h x USD 240


def test_renewal_purchase_tops_up_approved_hours():
    # Expert intermediate 60 h + 40 h purchased at renewal = 100 h for one scope.
    c = contract(purchases=[(40, "intermediate", RENEWAL_START)])
    assert not of(audit_records(c, [scope("xs-1", 100)]), OVER)
    assert only(audit_records(c, [scope("xs-1", 101)]), OVER).impact.hours == 1  # 101 - (60 + 40)


def test_mid_term_purchase_does_not_top_up():
    # Bought 2026-03-01 (not the renewal start): 100 h approved against 60 h is 40 h beyond.
    c = contract(purchases=[(40, "intermediate", date(2026, 3, 1))])
    assert only(audit_records(c, [scope("xs-1", 100)]), OVER).impact.hours == 40


def test_purchased_hours_are_used_once_in_approval_order():
    # 40 h purchased; xs-1 needs 30 h of it (90 - 60), xs-2 the other 10 h and 5 h more (75 - 60 = 15).
    c = contract(purchases=[(40, "intermediate", RENEWAL_START)])
    records = [scope("xs-2", 75, approved_at="2026-04-01T09:00:00-04:00"), scope("xs-1", 90)]
    f = only(audit_records(c, records), OVER)
    assert f.record == "xs-2" and f.impact.hours == 5


def _policy_with(tmp_path: Path, old: str, new: str) -> Path:
    root = tmp_path / "policies"
    folder = root / "liveperson-cso" / "1.0"
    shutil.copytree(builtin_policy_root() / "liveperson-cso" / "1.0", folder)
    text = (folder / "expansion.toml").read_text()
    assert old in text
    (folder / "expansion.toml").write_text(text.replace(old, new))
    return root


def test_i6_hours_per_pack_makes_deployments_share_the_hours(tmp_path):
    records = [scope("xs-1", 40), scope("xs-2", 30, approved_at="2026-03-01T09:00:00-05:00")]
    # Per deployment (I-6 as chosen): 40 <= 60 and 30 <= 60.
    result, _ = audit_views(contract(), records)
    assert not of(result.findings, OVER)
    # Per pack: the 2 Expert deployments share 60 h: 40 + 30 = 70, xs-2 is 10 h beyond.
    root = _policy_with(tmp_path, 'hours_per = "deployment"', 'hours_per = "pack"')
    result, _ = audit_views(contract(), records, policy_roots=[root])
    f = only(result.findings, OVER)
    assert f.record == "xs-2" and f.impact.hours == 10


# ------------------------------------------------------------------ over scope: work


def test_work_up_to_the_approved_hours_is_fine():
    records = [scope("xs-1", 50), xwork("w1", "2026-02-03", 30), xwork("w2", "2026-02-04", 20)]  # 30 + 20 = 50
    assert not expansion_rules(audit_records(contract(), records))


def test_work_beyond_the_approved_hours_names_the_crossing_record():
    # 30 + 20 = 50 h approved, then 4.5 h more: w3 crosses, 4.5 h over (USD 1,080 at 240/h).
    records = [scope("xs-1", 50), xwork("w1", "2026-02-03", 30), xwork("w2", "2026-02-04", 20),
               xwork("w3", "2026-02-05", 4.5), xwork("w4", "2026-02-06", 1)]
    f = only(audit_records(contract(), records), OVER)
    assert f.record == "w3" and f.impact.hours == 5.5 and f.impact.amount == 5.5 * 240  # 55.5 - 50
    assert "55.5 h worked" in f.message


def test_work_before_its_scope_in_the_file_is_counted():
    # The scope record comes last; the crossing is still the second work record (40 + 25 > 60).
    records = [xwork("w1", "2026-02-03", 40), xwork("w2", "2026-02-04", 25), scope("xs-1", 60)]
    f = only(audit_records(contract(), records), OVER)
    assert f.record == "w2" and f.impact.hours == 5


def test_scope_in_a_later_file_than_its_work():
    records = [[xwork("w1", "2026-02-03", 61)], [scope("xs-1", 60)]]
    findings = audit_records(contract(), records, files=True)
    assert only(findings, OVER).record == "w1"
    assert not of(findings, UNKNOWN)


# ------------------------------------------------------------------ before approval


SPAN = "2026-03-10T23:30:00-04:00"  # local date 2026-03-10 in New York (UTC: 2026-03-11 03:30)


def test_work_spanning_the_approval_date():
    records = [scope("xs-1", 60, approved_at=SPAN), xwork("w-09", "2026-03-09", 2), xwork("w-10", "2026-03-10", 3),
               xwork("w-11", "2026-03-11", 4)]
    f = only(audit_records(contract(), records), BEFORE)
    assert f.record == "w-09" and f.impact.hours == 2  # the approval day itself (w-10) is fine
    assert "approved on 2026-03-10" in f.message


def test_approval_date_is_local_to_the_contract_time_zone():
    # 2026-03-11T02:00Z is still 2026-03-10 in New York: work on 03-10 is on the approval day.
    records = [scope("xs-1", 60, approved_at="2026-03-11T02:00:00+00:00"), xwork("w-10", "2026-03-10", 3)]
    assert not of(audit_records(contract(), records), BEFORE)


def test_before_approval_when_the_scope_comes_after_the_work():
    records = [xwork("w-09", "2026-03-09", 2), xwork("w-10", "2026-03-10", 3), scope("xs-1", 60, approved_at=SPAN),
               xwork("w-08", "2026-03-08", 1)]
    assert sorted(f.record for f in of(audit_records(contract(), records), BEFORE)) == ["w-08", "w-09"]


# ------------------------------------------------------------------ after term


def test_work_on_the_last_day_of_the_term_and_the_day_after():
    records = [scope("xs-1", 60), xwork("w-last", "2026-12-31", 3), xwork("w-after", "2027-01-01", 2)]
    findings = audit_records(contract(), records)
    f = only(findings, AFTER)
    assert f.record == "w-after" and f.impact.hours == 2 and f.impact.amount == 480  # 2 h x 240
    assert not of(findings, OUTSIDE)  # one deviation, one finding


def test_after_term_work_uses_no_scope_hours():
    # 60 h in the term, 5 h after it: the scope is not over (after_term reports the 5 h).
    records = [scope("xs-1", 60), xwork("w1", "2026-12-30", 60), xwork("w2", "2027-01-02", 5)]
    assert expansion_rules(audit_records(contract(), records)) == {AFTER}


def test_other_work_after_the_term_is_still_outside_term():
    findings = audit_records(contract(), [work("w1", "2027-01-01", 2)])
    assert only(findings, OUTSIDE).record == "w1" and not of(findings, AFTER)


def test_expansion_work_before_the_term_start_is_outside_term():
    findings = audit_records(contract(), [scope("xs-1", 60, approved_at="2025-12-01T09:00:00-05:00"),
                                          xwork("w0", "2025-12-31", 2)])
    assert only(findings, OUTSIDE).record == "w0" and not expansion_rules(findings)


# ------------------------------------------------------------------ uses


@pytest.mark.parametrize("use", ["operational_tuning", "training", "custom_development", "insights_deployment"])
def test_disallowed_uses(use):
    records = [scope("xs-1", 20, use=use), xwork("w1", "2026-02-03", 16)]
    f = only(audit_records(contract(), records), DISALLOWED)
    assert f.record == "xs-1" and f.impact.hours == 16 and f.clause == "Section 9"


@pytest.mark.parametrize(
    "use",
    ["new_line_of_business", "update_line_of_business", "new_product_deployment",
     "standard_integration_configuration", "plugin_taglet_development", "brand_development_support",
     "deployment_optimization"],
)
def test_allowed_uses(use):
    assert not audit_records(contract(), [scope("xs-1", 20, use=use), xwork("w1", "2026-02-03", 16)])


def test_unknown_use_is_an_invalid_record():
    f = only(audit_records(contract(), [scope("xs-1", 20, use="marketing")]), INVALID)
    assert "$.use" in f.message


# ------------------------------------------------------------------ inputs


def test_expansion_service_without_a_scope_is_invalid():
    f = only(audit_records(contract(), [work("w1", "2026-02-03", 2, service="expansion")]), INVALID)
    assert "$.expansion" in f.message


def test_scope_on_another_service_is_invalid():
    records = [scope("xs-1", 20), work("w1", "2026-02-03", 2, expansion="xs-1")]
    f = only(audit_records(contract(), records), INVALID)
    assert "$.service" in f.message


def test_work_naming_no_scope_is_an_unknown_reference():
    f = only(audit_records(contract(), [xwork("w1", "2026-02-03", 2, "xs-9")]), UNKNOWN)
    assert f.record == "w1" and "'xs-9'" in f.message


def test_work_on_a_scope_of_another_package_is_an_unknown_reference():
    c = evolve(contract(), packages=make_contract(packages=[("p1", "expert", ["a"]), ("p2", "premier", ["b"])]).packages)
    records = [scope("xs-1", 20, package="p2"), xwork("w1", "2026-02-03", 2, lob="a")]
    f = only(audit_records(c, records), UNKNOWN)
    assert f.record == "w1" and "belongs to package p2" in f.message


def test_a_scope_id_read_twice_with_other_hours_is_a_conflict_and_the_first_counts():
    records = [scope("xs-1", 20), scope("xs-1", 30)]
    found = audit_records(contract(), records)
    conflict = only(found, "input.conflicting_record")
    assert conflict.record == "xs-1" and conflict.source.endswith("records.jsonl:2")
    assert "records.jsonl:1" in conflict.message
    assert of(found, INVALID) == []


# ------------------------------------------------------------------ Section 1 caps


def test_expansion_hours_count_toward_the_quarterly_cap():
    # Fundamentals 65 h/quarter (Section 1): 36 h of expansion (the whole basic deployment) + 30 h
    # of consulting = 66 h, 1 h over; the scope itself is within its 36 h.
    records = [scope("xs-1", 36, pack="basic"), xwork("w1", "2026-02-03", 36),
               work("w2", "2026-02-10", 30)]
    findings = audit_records(contract("fundamentals"), records)
    f = only(findings, QUARTERLY)
    assert f.record == "w2" and f.impact.hours == 1
    assert not expansion_rules(findings)  # one computation of the hours: no second finding here


# ------------------------------------------------------------------ entitlements


def test_entitlements_show_deployments_scopes_and_days_left():
    c = contract(purchases=[(40, "intermediate", RENEWAL_START)])
    records = [scope("xs-1", 60), scope("xs-2", 50, approved_at="2026-05-04T09:00:00-04:00"),
               xwork("w1", "2026-02-03", 20), xwork("w2", "2026-05-05", 12.5, "xs-2"), xwork("w3", "2026-05-06", 4, "xs-2")]
    moment = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    _, views = audit_views(c, records, as_of=moment)
    x = package_sections(catalogue(), views[CONTRACT], moment)[0][0]["expansion"]
    # Expert: 2 intermediate deployments of 60 h, plus 1 purchase of 40 h at renewal.
    assert x["pack"] == "intermediate"
    assert x["deployments"] == {"included": 2, "purchased": 1, "used": 2}
    assert x["hours"] == {"per": "deployment", "pack": 60, "included": 120, "purchased": 40}
    assert [(s["id"], s["hours"], s["used"], s["left"]) for s in x["scopes"]] == [
        ("xs-1", 60, 20, 40), ("xs-2", 50, 16.5, 33.5)]  # 12.5 + 4 = 16.5 of 50
    assert x["lapse"]["days_left"] == 30  # 2026-12-01 -> 2026-12-31


@pytest.mark.parametrize(
    ("moment", "days"),
    [(datetime(2026, 12, 31, 12, tzinfo=timezone.utc), 0), (datetime(2027, 2, 1, tzinfo=timezone.utc), 0),
     (datetime(2026, 1, 1, 4, tzinfo=timezone.utc), 365)],  # 2025-12-31 23:00 in New York: 365 days to 12-31
)
def test_days_left_before_expansion_hours_lapse(moment, days):
    _, views = audit_views(contract(), [], as_of=moment)
    assert package_sections(catalogue(), views[CONTRACT], moment)[0][0]["expansion"]["lapse"]["days_left"] == days


def test_entitlements_cli_prints_expansion(runner, tmp_path):
    from cso_policy.cli import main
    from tests.conftest import contract_toml

    text = contract_toml(make_contract(tier="fundamentals"))
    (tmp_path / "c.toml").write_text(text)
    records = write_records(tmp_path / "r.jsonl", [scope("xs-1", 30, pack="basic"), xwork("w1", "2026-02-03", 6)])
    out = runner.invoke(main, ["entitlements", str(tmp_path / "c.toml"), "--records", str(records),
                               "--as-of", "2026-06-30T12:00:00-04:00"])
    assert out.exit_code == 0, out.output
    assert "1 basic deployment(s) of 36 h per deployment" in out.output
    assert "scope xs-1 basic new_line_of_business approved 2026-02-02: used 6 of 30 h, left 24" in out.output
    assert "lapse at the term end 2026-12-31: 184 days left" in out.output  # 2026-06-30 -> 12-31
