"""The export file: the fixture (real API JSON shapes) mapped field by field, and each way a
ticket or a page can fail to map (a BadLine naming the Zendesk field, never a silent skip)."""

from __future__ import annotations

import json

import pytest

from cso_policy import ConfigError

KEYS = ["kind", "id", "contract", "lob", "severity", "opened_at", "first_response_at", "updates", "resolved_at",
        "is_bug", "rca_delivered_at", "channel", "security_incident", "tier2_direct", "severity_changes", "subject"]


@pytest.fixture
def fixture_records(read_all, data_dir, base_options):
    return read_all(data_dir / "export.json", base_options)


def test_every_record_has_the_spec_keys_kind_first(fixture_records):
    records = [obj for _, _, obj in fixture_records if isinstance(obj, dict)]
    assert len(records) == 5  # 101, 102, 103, 106 (via api: web by default), 107
    for r in records:
        assert list(r) == KEYS


def test_urgent_web_problem_with_metric_events_and_solved_at(fixture_records, by_id, data_dir):
    r = by_id(fixture_records)["101"]
    assert r == {
        "kind": "ticket", "id": "101", "contract": "NW-2026", "lob": "retail",
        "severity": "P1",  # urgent -> P1
        "opened_at": "2026-03-02T14:00:00+00:00",
        "first_response_at": "2026-03-02T14:40:00+00:00",  # reply_time fulfill, instance 1
        # periodic + pausable fulfills at 16:00 (one update), then 19:30; the deleted breach is ignored
        "updates": ["2026-03-02T16:00:00+00:00", "2026-03-02T19:30:00+00:00"],
        "resolved_at": "2026-03-02T23:00:00+00:00",  # metric_sets solved_at
        "is_bug": True,  # tag "bug"
        "rca_delivered_at": "2026-03-05T12:00:00+00:00",  # date field: noon in `timezone` (UTC)
        "channel": "web", "security_incident": False, "tier2_direct": False,
        "severity_changes": [], "subject": "Chat widget down on checkout",
    }
    line = {obj["id"]: (f, n) for f, n, obj in fixture_records if isinstance(obj, dict)}["101"]
    assert line == (str(data_dir / "export.json"), 2)  # 2nd ticket of the export


def test_priority_change_from_audits_and_updates_from_agent_comments(fixture_records, by_id):
    r = by_id(fixture_records)["103"]
    assert r["severity"] == "P3"  # the Create event: normal at opening (the ticket says urgent now)
    assert r["severity_changes"] == [{"at": "2026-03-04T10:30:00+00:00", "severity": "P1"}]
    assert r["first_response_at"] == "2026-03-04T09:00:00+00:00"
    # public agent comments: 09:00 (= first response) and 11:45; the requester's and the
    # private note do not count
    assert r["updates"] == ["2026-03-04T11:45:00+00:00"]
    assert r["resolved_at"] is None  # open
    assert r["channel"] == "email"
    assert r["security_incident"] is True  # tag security_incident
    assert r["tier2_direct"] is True  # checkbox field 360000333


def test_resolution_from_the_last_resolution_fulfill_not_reactivated(fixture_records, by_id):
    r = by_id(fixture_records)["107"]
    assert (r["severity"], r["channel"], r["lob"]) == ("P3", "chat", "outlet")  # low -> P3
    assert r["resolved_at"] == "2026-03-08T10:00:00+00:00"


def test_duplicate_ticket_keeps_the_latest_version_and_deleted_reply_is_ignored(fixture_records, by_id):
    r = by_id(fixture_records)["102"]
    assert (r["severity"], r["channel"]) == ("P2", "phone")  # high, voice
    assert r["first_response_at"] == "2026-03-03T09:30:00+00:00"  # 09:10 fulfill is deleted
    lines = [n for _, n, obj in fixture_records if isinstance(obj, dict) and obj["id"] == "102"]
    assert lines == [8]  # its second (latest) occurrence, once


def test_unmapped_rows_are_bad_lines_naming_the_field(fixture_records, bad_lines):
    # (ticket 106, via api, was a BadLine before api had a default channel: it is web now)
    assert bad_lines(fixture_records) == [
        (4, "zendesk ticket 104: priority: 'critical' has no severity; add it to severity_map "
            "(mapped: high, low, normal, urgent)"),
    ]


def test_deleted_tickets_are_skipped_or_reported(read_all, data_dir, base_options, bad_lines):
    ids = [obj.get("id") for _, _, obj in read_all(data_dir / "export.json", base_options) if isinstance(obj, dict)]
    assert "105" not in ids
    found = bad_lines(read_all(data_dir / "export.json", {**base_options, "deleted": "error"}))
    assert (5, "zendesk ticket 105: status: the ticket was deleted") in found


def test_options_override_the_maps(read_all, data_dir, base_options, by_id, bad_lines):
    options = {**base_options, "severity_map": {"critical": "P1", "low": "P2"}, "channel_map": {"api": "web"},
               "id_prefix": "ZD-"}
    out = read_all(data_dir / "export.json", options)
    assert bad_lines(out) == []
    records = by_id(out)
    assert records["ZD-104"]["severity"] == "P1"
    assert records["ZD-107"]["severity"] == "P2"
    assert records["ZD-101"]["severity"] == "P1"  # defaults kept for keys not given
    assert records["ZD-106"]["channel"] == "web"


def test_json_lines_of_pages_and_arrays_of_pages(read_all, data_dir, base_options, write_export, by_id):
    doc = json.loads((data_dir / "export.json").read_text())
    tickets, events = doc["tickets"], doc["ticket_metric_events"]
    pages = [
        {"tickets": tickets[:4], "after_cursor": "abc", "end_of_stream": False},
        {"tickets": tickets[4:], "metric_sets": doc["metric_sets"], "audits": doc["audits"], "end_of_stream": True},
        {"ticket_metric_events": events[:10], "next_page": "https://acme.zendesk.com/...", "count": 10},
        {"ticket_metric_events": events[10:], "count": len(events) - 10, "end_of_stream": True},
        {"ticket_events": doc["ticket_events"], "count": len(doc["ticket_events"]), "end_of_stream": True},
    ]
    expected = by_id(read_all(data_dir / "export.json", base_options))
    assert by_id(read_all(write_export(pages), base_options)) == expected
    assert by_id(read_all(write_export(pages, "pages.json", jsonl=False), base_options)) == expected


def test_broken_page_line_is_a_bad_line_and_the_rest_is_read(read_all, write_export, ticket):
    path = write_export([{"tickets": [ticket(1)], "ticket_metric_events": []}])
    with path.open("a") as fh:
        fh.write('{"tickets": [ broken\n')
        fh.write('[1, 2]\n')
    out = read_all(path, {"contract": "C", "lob": "retail"})
    assert [(n, getattr(o, "reason", None)) for _, n, o in out if not isinstance(o, dict)] == [
        (0, "line 2: invalid JSON (Expecting value at column 15)"),
        (0, "line 3: expected an export page ({\"tickets\": [...], ...}), got a list"),
    ]
    assert [o["id"] for _, _, o in out if isinstance(o, dict)] == ["1"]


def test_non_object_ticket_is_a_bad_line(read_all, write_export, ticket):
    out = read_all(write_export([{"tickets": [ticket(1), "oops"], "ticket_metric_events": []}]),
                   {"contract": "C", "lob": "retail"})
    assert [(n, o.reason) for _, n, o in out if not isinstance(o, dict)] == [
        (2, "tickets[]: expected a ticket object, got a string")
    ]


@pytest.mark.parametrize("change, message", [
    ({"created_at": None}, "created_at: expected an ISO 8601 timestamp, got None"),
    ({"created_at": "yesterday"}, "created_at: expected an ISO 8601 timestamp, got 'yesterday'"),
    ({"priority": None}, "priority: not set (null); set the missing_priority option"),
    ({"via": {}}, "via.channel: missing"),
    ({"via": {"channel": 99}}, "via.channel: '99' is not mapped"),
    ({"status": "solved"}, "status: 'solved' but no solve time"),
    ({"tags": ["lob_retail", "lob_outlet"]}, "tags: tags of several lines of business (outlet, retail)"),
    ({"tags": []}, "tags: none of the lob_map tags (lob_outlet, lob_retail) is on the ticket"),
])
def test_a_ticket_that_cannot_be_mapped_names_the_field(read_all, write_export, ticket, change, message):
    options = {"contract": "NW-2026", "lob_from": "tags", "lob_map": {"lob_retail": "retail", "lob_outlet": "outlet"}}
    t = ticket(7, tags=["lob_retail"]) | change
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": []}]), options)
    assert len(out) == 1
    assert out[0][1] == 1
    assert out[0][2].reason.startswith("zendesk ticket 7: ")
    assert message in out[0][2].reason


def test_missing_priority_option_and_numeric_via_ids(read_all, write_export, ticket, by_id):
    t1 = ticket(1, priority=None, via={"channel": 4, "source": {}})  # via id 4 = mail
    t2 = ticket(2, via={"channel": "34", "source": {}})  # phone_call_inbound
    out = read_all(write_export([{"tickets": [t1, t2], "ticket_metric_events": []}]),
                   {"contract": "C", "lob": "a", "missing_priority": "P3"})
    records = by_id(out)
    assert (records["1"]["severity"], records["1"]["channel"]) == ("P3", "email")
    assert records["2"]["channel"] == "phone"


def test_catch_all_channel(read_all, write_export, ticket, by_id):
    t = ticket(1, via={"channel": "rule", "source": {}})
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": []}]),
                   {"contract": "C", "lob": "a", "channel_map": {"*": "web"}})
    assert by_id(out)["1"]["channel"] == "web"


@pytest.mark.parametrize("options, expected", [
    ({"lob_from": "custom_field", "lob_field": 360000999}, "retail_web"),
    ({"lob_from": "custom_field", "lob_field": "360000999", "lob_map": {"retail_web": "retail"}}, "retail"),
    ({"lob_from": "brand_id", "lob_map": {"1": "retail"}}, "retail"),
    ({"lob_from": "organization_id", "lob_map": {"555": "outlet"}}, "outlet"),
    ({"lob_from": "group_id", "lob_map": {"20": "retail"}}, "retail"),
])
def test_line_of_business_from_fields_and_ids(read_all, write_export, ticket, by_id, options, expected):
    t = ticket(1, custom_fields=[{"id": 360000999, "value": "retail_web"}])
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": []}]), {"contract": "C", **options})
    assert by_id(out)["1"]["lob"] == expected


def test_line_of_business_value_outside_the_map(read_all, write_export, ticket):
    out = read_all(write_export([{"tickets": [ticket(1, brand_id=2)], "ticket_metric_events": []}]),
                   {"contract": "C", "lob_from": "brand_id", "lob_map": {"1": "retail"}})
    assert out[0][2].reason == "zendesk ticket 1: brand_id: 2 is not in lob_map (1)"


def test_organization_filter_reads_only_this_customers_tickets(read_all, data_dir, base_options, by_id):
    out = read_all(data_dir / "export.json", {**base_options, "organization_ids": [777]})
    assert [obj["id"] for _, _, obj in out if isinstance(obj, dict)] == ["107"]


def test_flags_from_fields_values_and_types(read_all, write_export, ticket, by_id):
    fields = [{"id": 11, "value": "sev_bug"}, {"id": 12, "value": ["dos", "other"]}, {"id": 13, "value": "yes"}]
    t1 = ticket(1, custom_fields=fields)
    t2 = ticket(2, type="problem", custom_fields=[{"id": 11, "value": "no_bug"}, {"id": 12, "value": None},
                                                  {"id": 13, "value": False}])
    options = {"contract": "C", "lob": "a", "bug_field": 11, "bug_field_values": ["sev_bug"], "bug_types": ["problem"],
               "security_field": 12, "security_field_values": ["dos", "data_breach"], "tier2_field": 13}
    records = by_id(read_all(write_export([{"tickets": [t1, t2], "ticket_metric_events": []}]), options))
    assert [records["1"][k] for k in ("is_bug", "security_incident", "tier2_direct")] == [True, True, True]
    assert [records["2"][k] for k in ("is_bug", "security_incident", "tier2_direct")] == [True, False, False]


def test_a_configured_field_missing_from_the_ticket_is_named(read_all, write_export, ticket):
    out = read_all(write_export([{"tickets": [ticket(1)], "ticket_metric_events": []}]),
                   {"contract": "C", "lob": "a", "bug_field": 4242})
    assert out[0][2].reason == "zendesk ticket 1: custom_fields: no field 4242 on the ticket (bug_field names it)"


@pytest.mark.parametrize("tz, value, expected", [
    ("UTC", "2026-03-05", "2026-03-05T12:00:00+00:00"),
    ("Tokyo", "2026-03-05", "2026-03-05T03:00:00+00:00"),  # noon JST
    ("Eastern Time (US & Canada)", "2026-03-05", "2026-03-05T17:00:00+00:00"),  # noon EST
    ("America/Chicago", "2026-03-05T09:30:00", "2026-03-05T15:30:00+00:00"),  # naive: in timezone
    ("Tokyo", "2026-03-05T09:30:00Z", "2026-03-05T09:30:00+00:00"),  # with offset: as is
])
def test_rca_field_dates_use_the_timezone_option(read_all, write_export, ticket, by_id, tz, value, expected):
    t = ticket(1, custom_fields=[{"id": 5, "value": value}])
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": []}]),
                   {"contract": "C", "lob": "a", "rca_field": 5, "timezone": tz})
    assert by_id(out)["1"]["rca_delivered_at"] == expected


def test_rca_from_a_tag_prefix(read_all, write_export, ticket, by_id):
    t = ticket(1, tags=["rca_sent_2026-03-09", "other"])
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": []}]),
                   {"contract": "C", "lob": "a", "rca_tag_prefix": "rca_sent_"})
    assert by_id(out)["1"]["rca_delivered_at"] == "2026-03-09T12:00:00+00:00"
    bad = ticket(1, tags=["rca_sent_2026-02-30"])
    out = read_all(write_export([{"tickets": [bad], "ticket_metric_events": []}]),
                   {"contract": "C", "lob": "a", "rca_tag_prefix": "rca_sent_"})
    assert out[0][2].reason == "zendesk ticket 1: tags: rca_sent_2026-02-30: '2026-02-30' is not a date"


def test_updates_from_embedded_comments_with_user_roles(read_all, write_export, ticket, by_id):
    # an agent created the ticket for the customer (requester 9001); a light agent's public
    # comment counts (role agent), an end user CC's does not
    t = ticket(1, comments=[
        {"id": 1, "type": "Comment", "author_id": 7001, "public": True, "created_at": "2026-03-02T14:00:00Z"},
        {"id": 2, "type": "Comment", "author_id": 7001, "public": True, "created_at": "2026-03-02T15:00:00Z"},
        {"id": 3, "type": "Comment", "author_id": 9500, "public": True, "created_at": "2026-03-02T15:30:00Z"},
        {"id": 4, "type": "Comment", "author_id": 7002, "public": True, "created_at": "2026-03-02T17:00:00Z"},
        {"id": 5, "type": "VoiceComment", "author_id": 7001, "public": True, "created_at": "2026-03-02T18:00:00Z"},
    ])
    users = [{"id": 7001, "role": "agent"}, {"id": 7002, "role": "admin"}, {"id": 9500, "role": "end-user"}]
    events = [{"id": 1, "ticket_id": 1, "metric": "periodic_update_time", "instance_id": 1, "type": "fulfill",
               "time": "2026-03-02T16:00:00Z"}]
    out = read_all(write_export([{"tickets": [t], "users": users, "ticket_metric_events": events}]),
                   {"contract": "C", "lob": "a"})
    r = by_id(out)["1"]
    assert r["first_response_at"] == "2026-03-02T15:00:00+00:00"  # no reply_time event: first agent comment
    assert r["updates"] == ["2026-03-02T17:00:00+00:00", "2026-03-02T18:00:00+00:00"]
    out = read_all(write_export([{"tickets": [t], "users": users, "ticket_metric_events": events}]),
                   {"contract": "C", "lob": "a", "updates_from": "metric_events"})
    assert by_id(out)["1"]["updates"] == ["2026-03-02T16:00:00+00:00"]


def test_reply_time_next_replies_count_as_updates_when_asked(read_all, write_export, ticket, by_id):
    events = [
        {"id": 1, "ticket_id": 1, "metric": "reply_time", "instance_id": 1, "type": "fulfill", "time": "2026-03-02T14:30:00Z"},
        {"id": 2, "ticket_id": 1, "metric": "reply_time", "instance_id": 2, "type": "fulfill", "time": "2026-03-02T16:30:00Z"},
    ]
    out = read_all(write_export([{"tickets": [ticket(1)], "ticket_metric_events": events}]),
                   {"contract": "C", "lob": "a", "update_metrics": ["reply_time"]})
    r = by_id(out)["1"]
    assert (r["first_response_at"], r["updates"]) == ("2026-03-02T14:30:00+00:00", ["2026-03-02T16:30:00+00:00"])


def test_severity_field_with_audit_changes(read_all, write_export, ticket, by_id):
    t = ticket(1, custom_fields=[{"id": 77, "value": "sev_1"}], audits=[
        {"id": 1, "created_at": "2026-03-02T14:00:00Z", "author_id": 9001,
         "events": [{"id": 10, "type": "Create", "field_name": "77", "value": "sev_3"}]},
        {"id": 2, "created_at": "2026-03-02T16:00:00Z", "author_id": 7001,
         "events": [{"id": 20, "type": "Change", "field_name": "77", "value": "sev_2", "previous_value": "sev_3"}]},
        {"id": 3, "created_at": "2026-03-02T18:00:00Z", "author_id": 7001,
         "events": [{"id": 30, "type": "Change", "field_name": "77", "value": "sev_1", "previous_value": "sev_2"}]},
    ])
    options = {"contract": "C", "lob": "a", "severity_field": 77,
               "severity_map": {"sev_1": "P1", "sev_2": "P2", "sev_3": "P3"}}
    r = by_id(read_all(write_export([{"tickets": [t], "ticket_metric_events": []}]), options))["1"]
    assert r["severity"] == "P3"
    assert r["severity_changes"] == [{"at": "2026-03-02T16:00:00+00:00", "severity": "P2"},
                                     {"at": "2026-03-02T18:00:00+00:00", "severity": "P1"}]


def test_priority_change_within_one_severity_is_no_severity_change(read_all, write_export, ticket, by_id):
    audits = [{"id": 2, "ticket_id": 1, "created_at": "2026-03-02T16:00:00Z", "author_id": 7001,
               "events": [{"id": 20, "type": "Change", "field_name": "priority", "value": "normal", "previous_value": "low"}]}]
    r = by_id(read_all(write_export([{"tickets": [ticket(1)], "audits": audits, "ticket_metric_events": []}]),
                       {"contract": "C", "lob": "a"}))["1"]
    assert (r["severity"], r["severity_changes"]) == ("P3", [])  # low (P3) -> normal (P3)


def test_an_export_without_metric_events_is_refused_unless_allowed(read_all, write_export, ticket, by_id):
    path = write_export([{"tickets": [ticket(1)]}])
    with pytest.raises(ConfigError, match="no ticket_metric_events .* require_metric_events = false"):
        read_all(path, {"contract": "C", "lob": "a"})
    out = read_all(path, {"contract": "C", "lob": "a", "require_metric_events": False})
    assert by_id(out)["1"]["first_response_at"] is None


def test_a_file_that_is_no_ticket_export_is_an_error(read_all, tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"users": []}')
    with pytest.raises(ConfigError, match='no "tickets" in this file'):
        read_all(path, {"contract": "C", "lob": "a"})
    path.write_text('"just a string"')
    with pytest.raises(ConfigError, match="expected a Zendesk export page"):
        read_all(path, {"contract": "C", "lob": "a"})


@pytest.mark.parametrize("options, message", [
    ({"lob": "a"}, "$.contract: required: the contract id these tickets belong to"),
    ({"contract": "C"}, "$.lob: required: a fixed line of business, or lob_from (with lob_map or lob_field)"),
    ({"contract": "C", "lob": "a", "priority_map": {}}, "$: unknown field(s): priority_map"),
    ({"contract": "C", "lob": "a", "severity_map": {"urgent": "P0"}},
     "$.severity_map['urgent']: expected one of P1, P2, P3, got 'P0'"),
    ({"contract": "C", "lob": "a", "channel_map": {"sms": "text"}},
     "$.channel_map['sms']: expected one of web, chat, phone, messaging, email, got 'text'"),
    ({"contract": "C", "lob_from": "tags"},
     '$.lob_map: required with lob_from = "tags" (which tags value is which line of business)'),
    ({"contract": "C", "lob_from": "custom_field"}, '$.lob_field: required with lob_from = "custom_field"'),
    ({"contract": "C", "lob_from": "labels", "lob_map": {}},
     "$.lob_from: expected one of tags, custom_field, brand_id, organization_id, group_id, got 'labels'"),
    ({"contract": "C", "lob": "a", "timezone": "Atlantis Standard Time"},
     "$.timezone: unknown time zone 'Atlantis Standard Time': not a Zendesk time-zone name"),
    ({"contract": "C", "lob": "a", "bug_field": "abc"},
     "$.bug_field: expected a custom field id (a number like 360001234567), got 'abc'"),
    ({"contract": "C", "lob": "a", "bug_field_values": ["x"]}, "$.bug_field_values: only with bug_field"),
    ({"contract": "C", "lob": "a", "bug_tags": "bug"}, "$.bug_tags: expected a list, got 'bug'"),
    ({"contract": "C", "lob": "a", "update_metrics": ["solve_time"]},
     "$.update_metrics[0]: expected one of periodic_update_time, pausable_update_time, reply_time, got 'solve_time'"),
    ({"contract": "C", "lob": "a", "require_metric_events": "no"},
     "$.require_metric_events: expected true or false, got 'no'"),
])
def test_bad_options_stop_the_run_naming_the_option(option_error, data_dir, options, message):
    path = data_dir / "export.json"
    assert option_error(path, options).startswith(f"records {path} (source zendesk) {message}")
