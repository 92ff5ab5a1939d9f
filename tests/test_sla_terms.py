"""SLA policy data (policies/liveperson-cso/1.0/sla.toml), its loader, business-day calendars,
and the SLA targets `cso-policy entitlements` shows (seed Sections 6-8, Tables 6-8)."""

from __future__ import annotations

import io
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cso_policy.core.context import build_view
from cso_policy.cli.entitlements import write_entitlements
from cso_policy.domains.sla.show import targets_table
from cso_policy.errors import ConfigError
from cso_policy.policy.registry import PolicyRegistry, load_policy
from cso_policy.domains.sla.business_days import BusinessCalendar, holiday_dates
from cso_policy.domains.sla.terms import sla_problems, sla_terms
from tests.conftest import catalogue, POLICY, POLICY_ROOT, make_contract

H = timedelta(hours=1)
FOLDER = POLICY_ROOT / "liveperson-cso" / "1.0"


@pytest.fixture(scope="module")
def policy():
    return PolicyRegistry([POLICY_ROOT]).get(POLICY)


def edited_policy(tmp_path: Path, old: str, new: str, file: str = "sla.toml"):
    """liveperson-cso@1.0 with one edit to one of its files."""
    folder = tmp_path / "liveperson-cso" / "1.0"
    shutil.copytree(FOLDER, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_table8_targets_are_loaded_with_their_units(policy):
    terms = sla_terms(policy)
    assert set(terms.by_tier) == {"premier", "expert", "strategic"}  # Table 6: enhanced SLAs Premier+
    assert terms.targets("foundations") is None and terms.targets("fundamentals") is None
    expert = terms.targets("expert")
    assert expert["P1"].response.delta == 0.5 * H  # "0.5 hour"
    assert expert["P2"].resolution.delta == 24 * H  # "1 day" = 24 h (I-3)
    assert terms.targets("premier")["P2"].resolution.delta == 72 * H  # "3 days"
    assert terms.targets("strategic")["P1"].rca.business_days == 2  # "2 days" RCA: business days
    assert all(terms.targets(t)["P3"].rca is None for t in terms.by_tier)  # RCA "N/A" for P3
    assert terms.mode == "restart" and terms.security_severity == "P1"
    assert terms.weekend == frozenset({5, 6})  # Saturday, Sunday
    assert terms.clause == "Table 8" and terms.severity_clause == "Table 7"


def test_terms_are_structured_once_per_policy(policy):
    assert sla_terms(policy) is sla_terms(policy)


def test_manifest_readings_name_sla_parameters_that_exist(policy):
    # I-3, I-4, I-5 name sla.* parameters; each must be a key path of sla.toml
    readings = {r.id: r.parameter for r in policy.manifest.readings if r.parameter.startswith("sla.")}
    assert set(readings) == {"I-3", "I-4", "I-5"}
    for parameter in readings.values():
        node = policy.modules
        for key in parameter.split("."):
            node = node[key]
    assert policy.modules["sla"]["units"]["day_hours"] == 24


def test_day_hours_is_a_policy_parameter(tmp_path):
    # with day_hours = 8, Premier P2 resolution "3 days" becomes 24 h
    folder = edited_policy(tmp_path, "day_hours = 24", "day_hours = 8")
    assert sla_terms(load_policy(folder)).targets("premier")["P2"].resolution.delta == 24 * H


def test_enhanced_tiers_must_agree_with_entitlement_support(tmp_path):
    # Table 6 in entitlement.toml gives Fundamentals enhanced SLAs, sla.toml does not
    folder = edited_policy(tmp_path, 'enhanced_sla = { foundations = "–", fundamentals = "–"',
                      'enhanced_sla = { foundations = "–", fundamentals = "Included"', file="entitlement.toml")
    with pytest.raises(ConfigError, match=r"sla\.toml \$\.enhanced_tiers: .* differs from entitlement\.toml"):
        load_policy(folder)  # a policy's modules are checked when it is loaded


def test_enhanced_tiers_and_targets_must_name_the_same_tiers(tmp_path):
    folder = edited_policy(tmp_path, 'enhanced_tiers = ["premier", "expert", "strategic"]',
                      'enhanced_tiers = ["expert", "strategic"]')
    with pytest.raises(ConfigError, match=r"\$\.targets: expected targets for exactly the enhanced tiers"):
        load_policy(folder)  # a policy's modules are checked when it is loaded


def test_sla_problems_for_lint(policy):
    raw = policy.modules["sla"]
    assert sla_problems(raw, policy.tiers) == []
    broken = {**raw, "targets": {**raw["targets"], "expert": {**raw["targets"]["expert"],
                                                               "P1": {"response": {"hours": 0}}}}}
    assert sla_problems(broken, policy.tiers) == [("$.targets.expert.P1.response.hours", "expected a number above 0")]


def test_a_target_needs_exactly_one_unit(tmp_path):
    folder = edited_policy(tmp_path, "response = { hours = 1 }", "response = { hours = 1, days = 1 }")
    with pytest.raises(ConfigError, match=r"\$\.targets\.premier\.P1\.response: expected exactly one of hours, days"):
        load_policy(folder)  # a policy's modules are checked when it is loaded


def test_unknown_severity_change_mode_is_rejected(tmp_path):
    folder = edited_policy(tmp_path, 'mode = "restart"', 'mode = "sometimes"')
    with pytest.raises(ConfigError, match=r"severity_change"):
        load_policy(folder)  # a policy's modules are checked when it is loaded


def test_holiday_calendars_are_cached_per_country_subdivision_and_year():
    us = holiday_dates("US", None, 2026)
    assert date(2026, 7, 3) in us  # Independence Day (observed): 4 July 2026 is a Saturday
    assert holiday_dates("US", None, 2026) is us
    assert date(2026, 12, 28) in holiday_dates("GB", "ENG", 2026)  # Boxing Day (substitute)
    assert holiday_dates(None, None, 2026) == frozenset()
    with pytest.raises(ConfigError):
        holiday_dates("XX", None, 2026)


def test_business_days_cross_the_year_end():
    # Resolved Wed 2026-12-30 in New York: Thu 31 (1), Fri 1 Jan New Year's Day off, Sat/Sun off,
    # Mon 4 Jan (2), Tue 5 (3) -> end of Tue 2027-01-05
    cal = BusinessCalendar(ZoneInfo("America/New_York"), frozenset({5, 6}), "US")
    moment = datetime(2026, 12, 30, 12, 0, tzinfo=timezone.utc)
    assert cal.end_of_business_day_after(moment, 3) == datetime(2027, 1, 6, tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.parametrize("n", [1, 2, 5, 260, 520, 600])
def test_nth_business_day_matches_a_day_by_day_count(n):
    # The calendar looks business days up in a table of two years and walks on past it; either
    # way it must agree with counting weekdays that are not US holidays one day at a time.
    cal = BusinessCalendar(ZoneInfo("America/New_York"), frozenset({5, 6}), "US")
    for start in (date(2026, 1, 1), date(2026, 7, 2), date(2026, 12, 31), date(2027, 6, 30)):
        day, left = start, n
        while left:
            day += timedelta(days=1)
            left -= day.weekday() < 5 and day not in holiday_dates("US", None, day.year)
        assert cal.nth_business_day_after(start, n) == day, (start, n)


def test_entitlements_show_the_sla_targets_of_each_package(policy):
    contract = make_contract(packages=[("px", "expert", ["a"]), ("pf", "fundamentals", ["f"])])
    view = build_view(contract, policy)
    moment = datetime(2026, 3, 1, tzinfo=timezone.utc)
    expert = targets_table(policy, view.pools["px"].tier)
    assert expert["enhanced"] is True and expert["clause"] == "Table 8"
    p1 = expert["targets"][0]
    assert p1["severity"] == "P1" and p1["response"]["hours"] == 0.5 and p1["rca"]["business_days"] == 3
    assert targets_table(policy, view.pools["pf"].tier)["enhanced"] is False

    out = io.StringIO()
    write_entitlements(catalogue(), view, moment, out)
    text = out.getvalue()
    assert "P1: response 0.5 h, update every 1 h, non-bug resolution 6 h, RCA 3 business days" in text
    assert "P3: response 1 d (24 h), update every 2 d (48 h), non-bug resolution 4 d (96 h), RCA N/A" in text
    assert "SLA targets (Table 8): none (no enhanced SLA)" in text


def test_elapsed_targets_are_elapsed_time_across_dst(policy):
    # Expert P2 resolution "1 day" = 24 h of elapsed time (I-3). From Sat 2026-03-07 12:00 EST
    # (a zoneinfo time, as an adapter might give) 24 h later is Sun 2026-03-08 13:00 EDT, since
    # the clocks went forward at 02:00 -- not 12:00 wall-clock time.
    ny = ZoneInfo("America/New_York")
    due = sla_terms(policy).targets("expert")["P2"].resolution.due(datetime(2026, 3, 7, 12, 0, tzinfo=ny), None)
    assert due == datetime(2026, 3, 8, 13, 0, tzinfo=ny)
    assert due.timestamp() - datetime(2026, 3, 7, 12, 0, tzinfo=ny).timestamp() == 24 * 3600
