"""Zendesk's Rails time-zone names -> IANA."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from cso_policy_zendesk.options import ZendeskOptions
from cso_policy_zendesk.timezones import RAILS_TO_IANA, UnknownTimeZone, to_iana, zone


def test_every_zone_in_the_table_exists():
    for rails, iana in RAILS_TO_IANA.items():
        assert ZoneInfo(iana) is not None, rails


@pytest.mark.parametrize("rails, iana", [
    ("Eastern Time (US & Canada)", "America/New_York"),
    ("Central Time (US & Canada)", "America/Chicago"),
    ("Mountain Time (US & Canada)", "America/Denver"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("Arizona", "America/Phoenix"),
    ("London", "Europe/London"),
    ("Edinburgh", "Europe/London"),
    ("Berlin", "Europe/Berlin"),
    ("Bern", "Europe/Zurich"),
    ("Tokyo", "Asia/Tokyo"),
    ("Osaka", "Asia/Tokyo"),
    ("New Delhi", "Asia/Kolkata"),
    ("Beijing", "Asia/Shanghai"),
    ("Sydney", "Australia/Sydney"),
    ("Brasilia", "America/Sao_Paulo"),
    ("UTC", "Etc/UTC"),
])
def test_common_zendesk_names(rails, iana):
    assert to_iana(rails) == iana


def test_iana_names_pass_through():
    assert to_iana("America/New_York") == "America/New_York"
    assert zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("name", ["Eastern Time", "eastern time (us & canada)", "Mars/Olympus_Mons", "", "EST5EDT-ish"])
def test_an_unknown_name_is_an_error_naming_it(name):
    with pytest.raises(UnknownTimeZone) as info:
        to_iana(name)
    assert repr(name) in str(info.value)


def test_the_timezone_option_names_the_zone():
    bad = ZendeskOptions(contract="C", lob="a", timezone="Hawaii Time")
    assert [(field, message.split(":")[0]) for field, message in bad.problems("tickets.json")] == [
        ("$.timezone", "unknown time zone 'Hawaii Time'")]
    assert ZendeskOptions(contract="C", lob="a", timezone="Hawaii").tz == ZoneInfo("Pacific/Honolulu")


def test_start_time_date_is_midnight_in_the_timezone():
    cfg = ZendeskOptions(contract="C", lob="a", timezone="Tokyo", start_time="2026-01-01", subdomain="acme")
    assert cfg.problems(None) == []
    assert cfg.start_unix == 1767193200  # 2025-12-31T15:00:00Z
    assert cfg.base_url == "https://acme.zendesk.com"
