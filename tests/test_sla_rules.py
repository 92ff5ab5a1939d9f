"""SLA rules (SPEC §1 SLA; seed Sections 7-8, Tables 7-8).

Unless a case says otherwise the contract is C-1: one package p1 for LOB "a", term
2026-01-01..2026-12-31, time zone America/New_York, no holiday calendar. Tickets open on
Monday 2026-03-02 09:00 EST (-05:00). Every expected number is worked out from Table 8 in
the comment next to it; I-3: "d" = 24 h of elapsed time, only the RCA is in business days.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from attrs import evolve

from cso_policy.core import pipeline as app
from cso_policy.core.model import Contract
from cso_policy.domains.sla.rules import invalid_timeline
from cso_policy.inputs.workspace import RecordInput
from tests.conftest import POLICY_ROOT, audit_records, catalogue, make_contract, of, only, ticket, write_records

RESPONSE = "sla.response"
UPDATE = "sla.periodic_update"
RESOLUTION = "sla.resolution"
RCA = "sla.rca"
MISCLASSIFIED = "sla.severity_misclassified"
INVALID = "input.invalid_record"

H = 3600
D = 24 * H  # I-3: a Table 8 "day" is 24 h of elapsed time
EST = timezone(timedelta(hours=-5))
EDT = timezone(timedelta(hours=-4))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=EST)  # Monday


def at(seconds: float, base: datetime = T0) -> str:
    return (base + timedelta(seconds=seconds)).isoformat()


def sla_findings(contract, records, as_of=None, select=("sla.*",)):
    return audit_records(contract, records, as_of=as_of, select=list(select))


def seconds_over(finding) -> float:
    return finding.impact.duration_seconds


# ---------------------------------------------------------------- Table 8, every cell

# (tier, severity, clock, target in seconds) -- one row per Table 8 cell with an elapsed target.
ELAPSED = [
    ("premier", "P1", "response", 1 * H),  # "1 hour"
    ("premier", "P1", "periodic_update", 2 * H),  # "2 hours"
    ("premier", "P1", "resolution", 12 * H),  # "12 hours"
    ("expert", "P1", "response", H // 2),  # "0.5 hour" = 30 min
    ("expert", "P1", "periodic_update", 1 * H),  # "1 hour"
    ("expert", "P1", "resolution", 6 * H),  # "6 hours"
    ("strategic", "P1", "response", H // 2),  # "0.5 hour" = 30 min
    ("strategic", "P1", "periodic_update", 1 * H),  # "1 hour"
    ("strategic", "P1", "resolution", 6 * H),  # "6 hours"
    ("premier", "P2", "response", 3 * H),  # "3 hour"
    ("premier", "P2", "periodic_update", 12 * H),  # "12 hour"
    ("premier", "P2", "resolution", 3 * D),  # "3 days" = 72 h
    ("expert", "P2", "response", 1 * H),  # "1 hour"
    ("expert", "P2", "periodic_update", 6 * H),  # "6 hour"
    ("expert", "P2", "resolution", 1 * D),  # "1 day" = 24 h
    ("strategic", "P2", "response", 1 * H),  # "1 hour"
    ("strategic", "P2", "periodic_update", 4 * H),  # "4 hour"
    ("strategic", "P2", "resolution", 1 * D),  # "1 day" = 24 h
    ("premier", "P3", "response", 2 * D),  # "2 days" = 48 h
    ("premier", "P3", "periodic_update", 3 * D),  # "3 days" = 72 h
    ("premier", "P3", "resolution", 5 * D),  # "5 days" = 120 h
    ("expert", "P3", "response", 1 * D),  # "1 day" = 24 h
    ("expert", "P3", "periodic_update", 2 * D),  # "2 days" = 48 h
    ("expert", "P3", "resolution", 4 * D),  # "4 days" = 96 h
    ("strategic", "P3", "response", 1 * D),  # "1 day" = 24 h
    ("strategic", "P3", "periodic_update", 2 * D),  # "2 days" = 48 h
    ("strategic", "P3", "resolution", 3 * D),  # "3 day" = 72 h
]


def clock_ticket(clock: str, severity: str, elapsed: float) -> dict:
    """A ticket whose *clock* takes *elapsed* seconds; the other clocks are not measured
    (no --as-of, bug fix, no resolution) or met."""
    if clock == "response":
        return ticket("t1", at(0), severity=severity, first_response_at=at(elapsed), is_bug=True)
    if clock == "periodic_update":
        # first response after 60 s, then one update *elapsed* later; still open
        return ticket("t1", at(0), severity=severity, first_response_at=at(60), updates=[at(60 + elapsed)], is_bug=True)
    return ticket("t1", at(0), severity=severity, first_response_at=at(60), resolved_at=at(elapsed), is_bug=False)


RULE_OF = {"response": RESPONSE, "periodic_update": UPDATE, "resolution": RESOLUTION}


@pytest.mark.parametrize("tier,severity,clock,target", ELAPSED, ids=lambda v: str(v))
def test_table8_elapsed_target_met_exactly_is_met(tier, severity, clock, target):
    # actual = target exactly: met (a breach is actual > target)
    found = sla_findings(make_contract(tier=tier), [clock_ticket(clock, severity, target)], select=[RULE_OF[clock]])
    assert found == []


@pytest.mark.parametrize("tier,severity,clock,target", ELAPSED, ids=lambda v: str(v))
def test_table8_elapsed_target_one_second_over_is_breach(tier, severity, clock, target):
    # actual = target + 1 s: breach, impact 1 s over target
    found = sla_findings(make_contract(tier=tier), [clock_ticket(clock, severity, target + 1)], select=[RULE_OF[clock]])
    f = only(found, RULE_OF[clock])
    assert seconds_over(f) == 1
    assert f.clause == "Table 8" and str(f.level) == "error" and f.record == "t1"
    assert f"{tier} {severity}" in f.message and "1 s over target (Table 8)" in f.message


# (tier, severity, business days, due) for a resolution on Monday 2026-03-02 10:00 EST;
# no holiday calendar. The RCA is due by the end (next local midnight) of the Nth
# business day after the local resolution date.
RCA_CELLS = [
    # Premier P1 "3 days": Tue 3, Wed 4, Thu 5 -> end of Thu 2026-03-05
    ("premier", "P1", 3, datetime(2026, 3, 6, tzinfo=EST)),
    # Expert P1 "3 days": same as above
    ("expert", "P1", 3, datetime(2026, 3, 6, tzinfo=EST)),
    # Strategic P1 "2 days": Tue 3, Wed 4 -> end of Wed 2026-03-04
    ("strategic", "P1", 2, datetime(2026, 3, 5, tzinfo=EST)),
    # Premier P2 "5 days": Tue 3, Wed 4, Thu 5, Fri 6, (weekend) Mon 9 -> end of Mon 2026-03-09,
    # which is after the DST start of Sun 2026-03-08: midnight is -04:00
    ("premier", "P2", 5, datetime(2026, 3, 10, tzinfo=EDT)),
    # Expert P2 "3 days" -> end of Thu 2026-03-05
    ("expert", "P2", 3, datetime(2026, 3, 6, tzinfo=EST)),
    # Strategic P2 "3 days" -> end of Thu 2026-03-05
    ("strategic", "P2", 3, datetime(2026, 3, 6, tzinfo=EST)),
]
RESOLVED = datetime(2026, 3, 2, 10, 0, tzinfo=EST)


def rca_ticket(severity: str, delivered: datetime, resolved: datetime = RESOLVED, **extra) -> dict:
    return ticket(
        "t1",
        at(0, resolved - timedelta(hours=1)),
        severity=severity,
        first_response_at=at(0, resolved - timedelta(minutes=30)),
        resolved_at=resolved.isoformat(),
        is_bug=True,
        rca_delivered_at=delivered.isoformat(),
        **extra,
    )


@pytest.mark.parametrize("tier,severity,days,due", RCA_CELLS, ids=lambda v: str(v))
def test_table8_rca_delivered_exactly_at_due_is_met(tier, severity, days, due):
    assert sla_findings(make_contract(tier=tier), [rca_ticket(severity, due)], select=[RCA]) == []


@pytest.mark.parametrize("tier,severity,days,due", RCA_CELLS, ids=lambda v: str(v))
def test_table8_rca_one_second_after_due_is_breach(tier, severity, days, due):
    found = sla_findings(make_contract(tier=tier), [rca_ticket(severity, due + timedelta(seconds=1))], select=[RCA])
    f = only(found, RCA)
    assert seconds_over(f) == 1
    assert f"target {days} business days" in f.message
    assert f"due by the end of {(due - timedelta(days=1)).date()}" in f.message


@pytest.mark.parametrize("tier", ["premier", "expert", "strategic"])
def test_table8_p3_has_no_rca(tier):
    # P3 RCA is "N/A": an RCA a year late is no finding
    late = RESOLVED + timedelta(days=365)
    assert sla_findings(make_contract(tier=tier), [rca_ticket("P3", late)], select=[RCA]) == []


# ---------------------------------------------------------------- RCA calendar (I-4)


def test_rca_skips_the_weekend():
    # Expert P1, 3 business days. Resolved Thu 2026-02-05 10:00 EST: Fri 6 (1), Sat/Sun off,
    # Mon 9 (2), Tue 10 (3) -> due end of Tue 2026-02-10 = 2026-02-11T00:00-05:00.
    resolved = datetime(2026, 2, 5, 10, 0, tzinfo=EST)
    due = datetime(2026, 2, 11, tzinfo=EST)
    contract = make_contract(tier="expert")
    assert sla_findings(contract, [rca_ticket("P1", due, resolved)], select=[RCA]) == []
    late = sla_findings(contract, [rca_ticket("P1", due + timedelta(seconds=1), resolved)], select=[RCA])
    assert seconds_over(only(late, RCA)) == 1


def test_rca_skips_a_us_public_holiday():
    # Expert P1, 3 business days, contract holidays = "US". Resolved Wed 2026-07-01 12:00 EDT:
    # Thu 2 (1), Fri 3 is the observed Independence Day (Sat 4 July), Sat/Sun off, Mon 6 (2),
    # Tue 7 (3) -> due end of Tue 2026-07-07 = 2026-07-08T00:00-04:00.
    resolved = datetime(2026, 7, 1, 12, 0, tzinfo=EDT)
    due = datetime(2026, 7, 8, tzinfo=EDT)
    us = make_contract(tier="expert", holidays="US")
    assert sla_findings(us, [rca_ticket("P1", due, resolved)], select=[RCA]) == []
    late = only(sla_findings(us, [rca_ticket("P1", due + timedelta(seconds=1), resolved)], select=[RCA]), RCA)
    assert seconds_over(late) == 1
    # Without a holiday calendar Fri 3 July is business day 2: due end of Mon 6 July
    # = 2026-07-07T00:00-04:00, so the same delivery is 24 h + 1 s late.
    plain = make_contract(tier="expert")
    f = only(sla_findings(plain, [rca_ticket("P1", due + timedelta(seconds=1), resolved)], select=[RCA]), RCA)
    assert seconds_over(f) == 24 * H + 1


def test_rca_across_the_dst_change():
    # Strategic P1, 2 business days. Resolved Fri 2026-03-06 15:00 EST; DST starts Sun
    # 2026-03-08. Mon 9 (1), Tue 10 (2) -> due end of Tue 2026-03-10 = local midnight
    # 2026-03-11T00:00-04:00 = 04:00Z (a fixed -05:00 would wrongly give 05:00Z).
    resolved = datetime(2026, 3, 6, 15, 0, tzinfo=EST)
    due = datetime(2026, 3, 11, 4, 0, tzinfo=timezone.utc)
    contract = make_contract(tier="strategic")
    assert sla_findings(contract, [rca_ticket("P1", due, resolved)], select=[RCA]) == []
    f = only(sla_findings(contract, [rca_ticket("P1", due + timedelta(seconds=1), resolved)], select=[RCA]), RCA)
    assert seconds_over(f) == 1
    assert "(2026-03-11T00:00:00-04:00)" in f.message


def test_rca_counts_from_the_local_date_not_the_utc_date():
    # Expert P1, 3 business days. Resolved 2026-03-04T03:30Z = Tue 2026-03-03 22:30 EST:
    # local date Tue 3 -> Wed 4, Thu 5, Fri 6 -> due end of Fri 2026-03-06 = 2026-03-07T00:00-05:00.
    # (Counting from the UTC date Wed 4 would give end of Mon 9, and no breach below.)
    resolved = datetime(2026, 3, 4, 3, 30, tzinfo=timezone.utc)
    due = datetime(2026, 3, 7, tzinfo=EST)
    contract = make_contract(tier="expert")
    assert sla_findings(contract, [rca_ticket("P1", due, resolved)], select=[RCA]) == []
    f = only(sla_findings(contract, [rca_ticket("P1", due + timedelta(seconds=1), resolved)], select=[RCA]), RCA)
    assert seconds_over(f) == 1
    assert "local date 2026-03-03" in f.message


def test_rca_not_delivered_is_breached_at_as_of():
    # Expert P2, 3 business days: resolved Mon 2026-03-02 10:00 EST, due 2026-03-06T00:00-05:00;
    # no RCA yet and --as-of 2026-03-06T02:00-05:00 -> 2 h over.
    record = ticket("t1", at(0), severity="P2", first_response_at=at(60), resolved_at=RESOLVED.isoformat(),
                    is_bug=True)
    contract = make_contract(tier="expert")
    f = only(sla_findings(contract, [record], as_of=datetime(2026, 3, 6, 2, 0, tzinfo=EST), select=[RCA]), RCA)
    assert seconds_over(f) == 2 * H and "still open" in f.message
    assert sla_findings(contract, [record], as_of=datetime(2026, 3, 6, 0, 0, tzinfo=EST), select=[RCA]) == []


def test_rca_with_an_unknown_holiday_country_is_one_warning():
    contract = make_contract(tier="expert", holidays="XX")
    records = [rca_ticket("P1", RESOLVED), {**rca_ticket("P1", RESOLVED), "id": "t2"}]
    f = only(sla_findings(contract, records, select=[RCA]), RCA)
    assert str(f.level) == "warning" and "$.holidays" in f.message and "XX" in f.message


# ---------------------------------------------------------------- messages and examples


def test_response_message_says_target_actual_and_clause():
    # Expert P1 response "0.5 hour": first response after 45 min -> 15 min over (the Northwind D11 case)
    record = ticket("t1", at(0), severity="P1", first_response_at=at(45 * 60), is_bug=True)
    f = only(sla_findings(make_contract(tier="expert"), [record], select=[RESPONSE]), RESPONSE)
    assert f.message == (
        "expert P1 response: target 0.5 h, actual 45 min from $.opened_at 2026-03-02T09:00:00-05:00 "
        "to $.first_response_at 2026-03-02T09:45:00-05:00: 15 min over target (Table 8)"
    )
    assert f.impact.as_dict() == {"duration": "PT15M", "duration_seconds": 900.0}


def test_resolution_days_are_24_hours_and_bugs_have_no_resolution_target():
    # Premier P2 resolution "3 days" = 72 h (I-3); resolved after 79.5 h -> 7.5 h over (Northwind D12)
    done = {"first_response_at": at(60), "resolved_at": at(79.5 * H)}
    contract = make_contract(tier="premier")
    f = only(sla_findings(contract, [ticket("t1", at(0), severity="P2", is_bug=False, **done)], select=[RESOLUTION]),
             RESOLUTION)
    assert seconds_over(f) == 7.5 * H and "target 3 d (72 h)" in f.message
    # "Resolution for Non-Bug Issue": a bug has no resolution target
    assert sla_findings(contract, [ticket("t1", at(0), severity="P2", is_bug=True, **done)], select=[RESOLUTION]) == []


def test_periodic_update_reports_each_gap_too_long():
    # Expert P2 periodic update "6 hour". Events: first response 0:10, updates 7:10 (gap 7 h,
    # 1 h over), 12:00 (4 h 50 min), resolved 18:30 (6 h 30 min, 30 min over).
    record = ticket("t1", at(0), severity="P2", first_response_at=at(600), updates=[at(7 * H + 600), at(12 * H)],
                    resolved_at=at(18.5 * H), is_bug=True)
    found = of(sla_findings(make_contract(tier="expert"), [record], select=[UPDATE]), UPDATE)
    assert sorted(seconds_over(f) for f in found) == [30 * 60, 1 * H]
    assert any("from $.first_response_at" in f.message and "to $.updates[0]" in f.message for f in found)
    assert any("from $.updates[1]" in f.message and "to $.resolved_at" in f.message for f in found)


def test_no_first_response_counts_the_first_update_as_the_response():
    # Premier P1 response "1 hour": no first_response_at, first update at 1 h 20 min -> 20 min over
    record = ticket("t1", at(0), severity="P1", updates=[at(80 * 60)], is_bug=True)
    f = only(sla_findings(make_contract(tier="premier"), [record], select=[RESPONSE]), RESPONSE)
    assert seconds_over(f) == 20 * 60 and "$.updates[0]" in f.message


# ---------------------------------------------------------------- open tickets (--as-of)


def test_open_ticket_clocks_run_to_as_of():
    # Premier P2: response "3 hour", periodic update "12 hour", resolution "3 days" = 72 h.
    # Opened 09:00, first response 09:30 (30 min: met), nothing since.
    record = ticket("t1", at(0), severity="P2", first_response_at=at(30 * 60))
    contract = make_contract(tier="premier")
    # --as-of 21:30:01 the same day: the update gap 09:30 -> 21:30:01 is 12 h + 1 s -> 1 s over;
    # the resolution clock (12.5 h of 72 h) is still within target.
    as_of = datetime(2026, 3, 2, 21, 30, 1, tzinfo=EST)
    found = sla_findings(contract, [record], as_of=as_of)
    f = only(found, UPDATE)
    assert seconds_over(f) == 1 and "--as-of 2026-03-02T21:30:01-05:00 (still open)" in f.message
    assert of(found, RESPONSE) == [] and of(found, RESOLUTION) == []
    # At exactly 12 h after the first response nothing is breached yet.
    assert sla_findings(contract, [record], as_of=datetime(2026, 3, 2, 21, 30, tzinfo=EST)) == []
    # --as-of 2026-03-05T09:00:01-05:00 = 72 h + 1 s after opening: resolution 1 s over, and the
    # update gap (71.5 h + 1 s) 59.5 h + 1 s over.
    later = sla_findings(contract, [record], as_of=datetime(2026, 3, 5, 9, 0, 1, tzinfo=EST))
    assert seconds_over(only(later, RESOLUTION)) == 1
    assert seconds_over(only(later, UPDATE)) == 59.5 * H + 1


def test_open_ticket_without_as_of_is_not_measured():
    # Expert P1, opened and never answered: without --as-of the open clocks are not measured.
    record = ticket("t1", at(0), severity="P1")
    assert sla_findings(make_contract(tier="expert"), [record], as_of=None) == []
    # with --as-of a day later the response clock (0.5 h) is 23.5 h over
    found = sla_findings(make_contract(tier="expert"), [record], as_of=datetime(2026, 3, 3, 9, 0, tzinfo=EST))
    assert seconds_over(only(found, RESPONSE)) == 23.5 * H
    assert seconds_over(only(found, RESOLUTION)) == 18 * H  # "6 hours": 24 h - 6 h


# ---------------------------------------------------------------- severity changes (I-5)


def _mode_policy_root(tmp_path: Path, mode: str) -> Path:
    """A copy of liveperson-cso@1.0 whose [severity_change] mode is *mode*."""
    root = tmp_path / f"policies-{mode}"
    shutil.copytree(POLICY_ROOT / "liveperson-cso", root / "liveperson-cso")
    sla = root / "liveperson-cso" / "1.0" / "sla.toml"
    text = sla.read_text(encoding="utf-8")
    sla.write_text(text.replace('mode = "restart"', f'mode = "{mode}"'), encoding="utf-8")
    return root


def audit_with(contract: Contract, records, *, policy_roots=(), as_of=None, rules=None):
    """The real pipeline with extra policy roots; returns (findings, audit)."""
    cat = catalogue()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_records(Path(tmp) / "records.jsonl", records)
        result, _ = app.audit(
            cat, [contract], [RecordInput(path=path)], rules=rules if rules is not None else cat.select(["sla.*"]),
            as_of=as_of, policy_roots=policy_roots,
        )
    return result.findings, result.audit


# Expert, opened P3 09:00, raised to P1 at 12:00.
# P3: response "1 day", periodic update "2 days", resolution "4 days"; P1: "0.5 hour", "1 hour", "6 hours".
UPGRADE = ticket(
    "t1", at(0), severity="P3", first_response_at=at(10 * 60),  # 09:10: met before the change, settled
    severity_changes=[{"at": at(3 * H), "severity": "P1"}],  # 12:00
    updates=[at(3 * H + 50 * 60), at(4 * H + 45 * 60), at(5 * H + 40 * 60)],  # 12:50, 13:45, 14:40
    resolved_at=at(6.5 * H), is_bug=False,  # 15:30
    rca_delivered_at="2026-03-04T12:00:00-05:00",  # P1 RCA 3 business days: due end of Thu 5 -> met
)


@pytest.mark.parametrize("mode", ["restart", "retroactive"])
def test_p3_to_p1_upgrade(tmp_path, mode):
    found, _ = audit_with(make_contract(tier="expert"), [UPGRADE], policy_roots=[_mode_policy_root(tmp_path, mode)])
    if mode == "restart":
        # every clock not yet met restarts at 12:00 with the P1 target:
        # update gap 12:00 -> 12:50 = 50 min <= 1 h; resolution 12:00 -> 15:30 = 3.5 h <= 6 h
        assert found == []
        return
    # retroactive: from the clock's own start with the P1 target:
    # update gap 09:10 -> 12:50 = 3 h 40 min > 1 h -> 2 h 40 min over;
    # resolution 09:00 -> 15:30 = 6.5 h > 6 h -> 30 min over. The response (09:10) was met before.
    assert seconds_over(only(found, UPDATE)) == 2 * H + 40 * 60
    assert seconds_over(only(found, RESOLUTION)) == 30 * 60
    assert of(found, RESPONSE) == []


@pytest.mark.parametrize("mode,over", [("restart", 15 * 60), ("retroactive", 3 * H + 15 * 60)])
def test_upgrade_before_the_first_response(tmp_path, mode, over):
    # Expert, opened P3 09:00, raised to P1 at 12:00, first response 12:45.
    # restart: 12:00 -> 12:45 = 45 min > 0.5 h -> 15 min over;
    # retroactive: 09:00 -> 12:45 = 3 h 45 min > 0.5 h -> 3 h 15 min over.
    record = ticket("t1", at(0), severity="P3", first_response_at=at(3 * H + 45 * 60), is_bug=True,
                    severity_changes=[{"at": at(3 * H), "severity": "P1"}])
    found, _ = audit_with(make_contract(tier="expert"), [record], policy_roots=[_mode_policy_root(tmp_path, mode)])
    f = only(found, RESPONSE)
    assert seconds_over(f) == over
    assert ("I-5 restart" in f.message) == (mode == "restart")


def test_downgrade_does_not_undo_a_breach():
    # Expert, opened P1 09:00 ("0.5 hour" response), lowered to P3 at 11:00 with no response yet:
    # the P1 target had passed at 09:30, so the clock is breached at the change: 1.5 h over.
    record = ticket("t1", at(0), severity="P1", first_response_at=at(3 * H), is_bug=True,
                    severity_changes=[{"at": at(2 * H), "severity": "P3"}])
    f = only(sla_findings(make_contract(tier="expert"), [record], select=[RESPONSE]), RESPONSE)
    assert seconds_over(f) == 1.5 * H and "severity change to P3" in f.message


# ---------------------------------------------------------------- tiers without enhanced SLAs


@pytest.mark.parametrize("tier", ["foundations", "fundamentals"])
def test_foundations_and_fundamentals_have_no_sla_findings(tier):
    # Table 8: every cell '–' for Foundations and Fundamentals (Table 6: no enhanced SLA).
    records = [
        ticket("t1", at(0), severity="P1", first_response_at=at(5 * D), resolved_at=at(9 * D), is_bug=False,
               rca_delivered_at=at(60 * D)),
        ticket("t2", at(0), severity="P2", security_incident=True),
    ]
    findings, audit = audit_with(make_contract(tier=tier), records, as_of=datetime(2026, 12, 1, tzinfo=EST))
    assert [f for f in findings if f.rule.startswith("sla.")] == []
    assert audit.summary["sla_attainment"] == []


# ---------------------------------------------------------------- sla.severity_misclassified


def test_security_incident_below_p1_is_misclassified():
    # Table 7: security incidents (DoS/DDoS, suspected or actual data compromise) are P1.
    contract = make_contract(tier="expert")
    f = only(sla_findings(contract, [ticket("t1", at(0), severity="P2", security_incident=True)],
                          select=[MISCLASSIFIED]), MISCLASSIFIED)
    assert f.clause == "Table 7" and "classified P2" in f.message and "are P1" in f.message
    assert sla_findings(contract, [ticket("t1", at(0), severity="P1", security_incident=True)],
                        select=[MISCLASSIFIED]) == []
    assert sla_findings(contract, [ticket("t1", at(0), severity="P2")], select=[MISCLASSIFIED]) == []


def test_security_incident_raised_to_p1_late_is_still_reported():
    record = ticket("t1", at(0), severity="P3", security_incident=True,
                    severity_changes=[{"at": at(H), "severity": "P1"}])
    f = only(sla_findings(make_contract(tier="expert"), [record], select=[MISCLASSIFIED]), MISCLASSIFIED)
    assert "P3 from 2026-03-02T09:00:00-05:00 ($.opened_at)" in f.message


# ---------------------------------------------------------------- timeline problems


def _with_timeline_check(cat):
    """input.invalid_record with the SLA timeline check plugged in (see rules/sla.invalid_timeline)."""
    rules = [r for r in cat.select(["sla.*", INVALID])]
    return [evolve(r, kinds=("ticket",), check=invalid_timeline) if r.id == INVALID else r for r in rules]


def test_updates_out_of_order_are_reported_and_skip_the_update_clock():
    # Premier P2, resolved 23:00: updates[1] (10:00) is before updates[0] (20:00), and updates[2]
    # (next day 01:00) is after the resolution. Both are reported; the update clock is not measured.
    # The response (10 min of "3 hour") and resolution (14 h of "3 days" = 72 h) are measured and met.
    record = ticket("t1", at(0), severity="P2", first_response_at=at(600), updates=[at(11 * H), at(H), at(40 * H)],
                    resolved_at=at(14 * H), is_bug=False)
    findings, audit = audit_with(make_contract(tier="premier"), [record], rules=_with_timeline_check(catalogue()))
    problems = of(findings, INVALID)
    messages = sorted(f.message for f in problems)
    assert any("$.updates[1]: ticket t1: is before $.updates[0]" in m for m in messages)
    assert any("$.updates[2]: ticket t1: is after $.resolved_at" in m for m in messages)
    assert all(f.record == "t1" and f.source.endswith("records.jsonl:1") for f in problems)
    assert [f for f in findings if f.rule.startswith("sla.")] == []
    row = only_row(audit, "premier", "P2")
    assert "periodic_update" not in row["clocks"] and row["clocks"]["response"]["met"] == 1


def test_timestamps_before_opened_at_are_reported():
    record = ticket("t1", at(0), severity="P1", first_response_at=at(-60), resolved_at=at(-30), is_bug=False,
                    severity_changes=[{"at": at(-1), "severity": "P2"}])
    findings, _ = audit_with(make_contract(tier="expert"), [record], rules=_with_timeline_check(catalogue()))
    paths = sorted(f.message.split(" ")[1] for f in of(findings, INVALID))
    assert paths == ["$.first_response_at:", "$.resolved_at:", "$.severity_changes[0].at:"]
    assert [f for f in findings if f.rule.startswith("sla.")] == []


# ---------------------------------------------------------------- attainment summary


def only_row(audit, tier, severity) -> dict:
    rows = [r for r in audit.summary["sla_attainment"] if r["tier"] == tier and r["severity"] == severity]
    assert len(rows) == 1, audit.summary["sla_attainment"]
    return rows[0]


def test_attainment_per_contract_tier_and_severity():
    # Expert P1 (response "0.5 hour"): t1 responds in 20 min (met), t2 in 31 min (breach).
    # Expert P3 t3: response 2 h of "1 day", resolved 3 h (met), bug -> no resolution clock.
    contract = make_contract(packages=[("px", "expert", ["a"]), ("pf", "fundamentals", ["f"])])
    records = [
        ticket("t1", at(0), severity="P1", first_response_at=at(20 * 60), is_bug=True),
        ticket("t2", at(0), severity="P1", first_response_at=at(31 * 60), is_bug=True),
        ticket("t3", at(0), severity="P3", first_response_at=at(2 * H), resolved_at=at(3 * H), is_bug=True),
        ticket("t4", at(0), severity="P1", lob="f", first_response_at=at(9 * H)),  # Fundamentals: not measured
    ]
    _, audit = audit_with(contract, records)
    rows = audit.summary["sla_attainment"]
    keys = [(r["contract"], r["tier"], r["severity"]) for r in rows]
    assert keys == [("C-1", "expert", "P1"), ("C-1", "expert", "P3")]
    p1 = rows[0]
    assert (p1["tickets"], p1["measured"], p1["met"], p1["breached"], p1["percent_met"]) == (2, 2, 1, 1, 50.0)
    assert p1["clocks"] == {"response": {"measured": 2, "met": 1, "breached": 1, "percent_met": 50.0}}
    p3 = rows[1]
    assert (p3["measured"], p3["met"], p3["breached"], p3["percent_met"]) == (1, 1, 0, 100.0)
    assert set(p3["clocks"]) == {"response", "periodic_update"}
    json.dumps(rows)  # JSON-serialisable


def test_attainment_groups_by_the_final_severity_and_is_published_for_any_sla_rule():
    # UPGRADE ends as P1; with only sla.rca selected the attainment is still published.
    cat = catalogue()
    _, audit = audit_with(make_contract(tier="expert"), [UPGRADE], rules=cat.select(["sla.rca"]))
    row = only_row(audit, "expert", "P1")
    assert (row["measured"], row["met"]) == (1, 1)
