"""The servicenow source on export files: mapping of every field, the options, and bad rows."""

from __future__ import annotations

import copy
import json
import logging

import pytest

import cso_policy_servicenow as plugin
from cso_policy import BadLine, ConfigError, Incomplete, LeftOut
from cso_policy.testing import catalogue, structure_record

def read_all(path, options):
    return list(plugin.read(path, options))


def by_id(triples):
    return {obj["id"]: obj for _, _, obj in triples if isinstance(obj, dict)}


def bad(triples):
    return {line: obj.reason for _, line, obj in triples if isinstance(obj, BadLine)}


def write(tmp_path, doc, name="export.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def incident(doc, number):
    return next(r for r in doc["result"] if r["number"] == number)


# ------------------------------------------------------------------ the fixture export


def test_resolved_email_incident_maps_every_field(data_dir, options):
    triples = read_all(data_dir / "incidents.json", options)
    file, line, record = triples[0]
    assert (file, line) == (str(data_dir / "incidents.json"), 1)
    assert record == {
        "kind": "ticket",
        "id": "INC0010001",
        "contract": "NW-2026",
        "lob": "retail",
        "severity": "P2",
        "opened_at": "2026-02-03T14:00:00+00:00",
        # the work note at 14:10 is internal; the first customer-visible comment is the response;
        # the caller's own "Any news?" at 15:00 (abel.tuter, the caller_id) is no update
        "first_response_at": "2026-02-03T14:40:00+00:00",
        "updates": ["2026-02-03T14:40:00+00:00", "2026-02-03T18:00:00+00:00"],
        "resolved_at": "2026-02-04T09:00:00+00:00",
        "is_bug": False,
        "rca_delivered_at": None,
        "channel": "email",
        "security_incident": False,
        "tier2_direct": False,
        "severity_changes": [],
        "subject": "Agent workspace does not load conversations",
    }


def test_every_record_is_valid_spec_input(data_dir, options):
    records = [obj for _, _, obj in read_all(data_dir / "incidents.json", options) if isinstance(obj, dict)]
    assert len(records) == 3
    for obj in records:
        assert next(iter(obj)) == "kind"
        structure_record(dict(obj))  # the core's own structuring: no unknown key, every type right


def test_priority_raised_in_sys_audit_is_a_severity_change(data_dir, options):
    record = by_id(read_all(data_dir / "incidents.json", options))["INC0010002"]
    # sys_audit: insert row "" -> "3" (the opening priority), then "3" -> "1" at 10:30
    assert record["severity"] == "P3"
    assert record["severity_changes"] == [{"at": "2026-02-10T10:30:00+00:00", "severity": "P1"}]
    # the journal rows come out of order in the export; updates are in time order
    assert record["updates"] == ["2026-02-10T09:00:00+00:00", "2026-02-10T11:00:00+00:00"]
    assert record["resolved_at"] is None  # state 2 In Progress
    assert record["channel"] == "phone"
    assert record["lob"] == "outlet"


def test_closed_incident_without_resolved_at_uses_closed_at_and_flags(data_dir, options):
    record = by_id(read_all(data_dir / "incidents.json", options))["INC0010005"]
    assert record["resolved_at"] == "2026-03-03T04:00:00+00:00"  # state 7, resolved_at empty
    assert record["channel"] == "web"  # contact_type self-service
    assert record["security_incident"] is True  # category "security"
    assert record["is_bug"] is True  # u_is_bug "true"
    assert record["rca_delivered_at"] == "2026-03-05T16:00:00+00:00"
    assert record["severity"] == "P1" and record["severity_changes"] == []


def test_canceled_incident_is_left_out_in_its_place(data_dir, options, caplog):
    """A canceled incident (state 8) is a LeftOut at its place, for the core's accounting."""
    stream = plugin.read(data_dir / "incidents.json", options)
    with caplog.at_level(logging.WARNING, logger="cso_policy_servicenow"):
        triples = list(stream)
    assert "INC0010003" not in by_id(triples)
    assert [(line, obj) for _, line, obj in triples if isinstance(obj, LeftOut)] == [(3, LeftOut("cancelled incident"))]
    assert stream.canceled == ["INC0010003"]
    assert "skipped 1 canceled incident(s)" in caplog.text and "INC0010003" in caplog.text


def test_canceled_incident_kept_when_asked(data_dir, options):
    stream = plugin.read(data_dir / "incidents.json", {**options, "skip_canceled": False})
    record = by_id(list(stream))["INC0010003"]
    assert stream.canceled == []
    assert record["resolved_at"] == "2026-02-11T12:30:00+00:00"  # closed_at of the canceled incident
    assert record["severity"] == "P3"  # priority 4 Low


def test_unmappable_rows_are_bad_lines_naming_the_field(data_dir, options):
    found = bad(read_all(data_dir / "incidents.json", options))
    assert found == {
        4: "incident INC0010004: priority '6' is not in priority_map (known: 1, 2, 3, 4, 5)",
        6: "incident INC0010006: contact_type value 'walk-in' has no channel; add it to channel_map "
           "(web, chat, phone, messaging or email)",
    }


def test_priority_and_channel_maps_fix_them(data_dir, options):
    opts = {**options, "priority_map": {"6": "P2"}, "channel_map": {"walk-in": "phone"}}
    triples = read_all(data_dir / "incidents.json", opts)
    assert bad(triples) == {}
    records = by_id(triples)
    assert records["INC0010004"]["severity"] == "P2"
    assert records["INC0010006"]["channel"] == "phone"


def test_separate_journal_and_audit_files(data_dir, options):
    split = data_dir / "split"
    opts = {**options, "journal_path": "sys_journal_field.json", "audit_path": "sys_audit.json",
            "user_path": "sys_user.json"}
    from_split = by_id(read_all(split / "incident.json", opts))
    embedded = by_id(read_all(data_dir / "incidents.json", options))
    assert list(from_split) == ["INC0010001", "INC0010002"]
    for key, record in from_split.items():
        assert record == embedded[key]


# ------------------------------------------------------------------ options


def test_bug_from_category(data_dir, options):
    opts = {**options, "bug_field": "category", "bug_values": ["Software"]}
    records = by_id(read_all(data_dir / "incidents.json", opts))
    assert records["INC0010001"]["is_bug"] is True  # category software
    assert records["INC0010005"]["is_bug"] is False  # category security


def test_any_value_flag_and_tier2(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    incident(doc, "INC0010001")["problem_id"] = {"link": "https://acme.service-now.com/x", "value": "abc"}
    incident(doc, "INC0010001")["u_tier2_direct"] = True
    opts = {**options, "bug_field": ["u_is_bug", "problem_id"], "bug_values": ["*"], "tier2_field": "u_tier2_direct"}
    records = by_id(read_all(write(tmp_path, doc), opts))
    assert records["INC0010001"]["is_bug"] is True and records["INC0010001"]["tier2_direct"] is True
    assert records["INC0010002"]["is_bug"] is True  # "*" accepts any non-empty value: u_is_bug "false" too
    assert records["INC0010002"]["tier2_direct"] is False


def test_contract_and_lob_from_reference_fields(data_dir, export_doc, options):
    company = incident(export_doc, "INC0010001")["company"]["value"]
    service = incident(export_doc, "INC0010001")["business_service"]["value"]
    opts = {**options, "contract": None, "contract_field": "company", "contract_map": {company: "NW-2026"},
            "lob_field": "business_service", "lob_map": {service: "retail"}}
    del opts["contract"]
    records = by_id(read_all(data_dir / "incidents.json", opts))
    assert {(r["contract"], r["lob"]) for r in records.values()} == {("NW-2026", "retail")}


def test_value_missing_from_a_map_is_a_bad_line(data_dir, options):
    opts = {**options, "lob_map": {"retail": "retail"}}
    found = bad(read_all(data_dir / "incidents.json", opts))
    assert found[2] == "incident INC0010002: u_line_of_business value 'outlet' is not in lob_map (known: retail)"


def test_datetime_timezone_for_exports_in_local_time(data_dir, options):
    opts = {**options, "datetime_timezone": "America/New_York"}
    record = by_id(read_all(data_dir / "incidents.json", opts))["INC0010001"]
    assert record["opened_at"] == "2026-02-03T19:00:00+00:00"  # 14:00 EST = 19:00 UTC


def test_display_values_are_rejected_with_the_field(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    incident(doc, "INC0010001")["opened_at"] = "02/03/2026 09:00:00 AM"
    found = bad(read_all(write(tmp_path, doc), options))
    assert found[1].startswith("incident INC0010001: opened_at: expected a date-time like 2024-01-15 10:23:45 "
                               "(export with sysparm_display_value=false), got '02/03/2026 09:00:00 AM'")


def test_priority_display_value_is_accepted(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    incident(doc, "INC0010001")["priority"] = "1 - Critical"
    doc["sys_audit"] = []
    assert by_id(read_all(write(tmp_path, doc), options))["INC0010001"]["severity"] == "P1"


def test_change_within_one_severity_is_no_change(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    sys_id = incident(doc, "INC0010001")["sys_id"]
    doc["sys_audit"] = [{"documentkey": sys_id, "tablename": "incident", "fieldname": "priority",
                         "oldvalue": "4", "newvalue": "5", "sys_created_on": "2026-02-03 15:00:00"},
                        {"documentkey": sys_id, "tablename": "incident", "fieldname": "priority",
                         "oldvalue": "5", "newvalue": "2", "sys_created_on": "2026-02-03 16:00:00"}]
    record = by_id(read_all(write(tmp_path, doc), options))["INC0010001"]
    assert record["severity"] == "P3"
    assert record["severity_changes"] == [{"at": "2026-02-03T16:00:00+00:00", "severity": "P2"}]


def test_priority_history_off_takes_the_current_priority(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    del doc["sys_audit"]
    path = write(tmp_path, doc)
    with pytest.raises(ConfigError, match="no \"sys_audit\" array and no audit_path"):
        read_all(path, options)
    record = by_id(read_all(path, {**options, "priority_history": False}))["INC0010002"]
    assert record["severity"] == "P1" and record["severity_changes"] == []


def test_missing_journal_is_an_error_unless_declared(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    del doc["sys_journal_field"]
    incident(doc, "INC0010001")["u_first_response"] = "2026-02-03 14:30:00"
    path = write(tmp_path, doc)
    with pytest.raises(ConfigError, match="no \"sys_journal_field\" array and no journal_path"):
        read_all(path, options)
    opts = {**options, "comment_elements": [], "first_response_from": "field",
            "first_response_field": "u_first_response"}
    record = by_id(read_all(path, opts))["INC0010001"]
    assert record["first_response_at"] == "2026-02-03T14:30:00+00:00" and record["updates"] == []


def test_comment_authors_can_be_ignored(data_dir, options):
    """``ignore_comment_authors`` / ``ignore_creator_comments`` still work, now on top of the
    caller rule (and alone with ``exclude_customer_comments = false``)."""
    counted = {**options, "exclude_customer_comments": False}
    every = by_id(read_all(data_dir / "incidents.json", counted))
    assert every["INC0010001"]["updates"] == [
        "2026-02-03T14:40:00+00:00", "2026-02-03T15:00:00+00:00", "2026-02-03T18:00:00+00:00"]
    record = by_id(read_all(data_dir / "incidents.json", {**counted, "ignore_comment_authors": ["abel.tuter"]}))
    assert record["INC0010001"]["updates"] == ["2026-02-03T14:40:00+00:00", "2026-02-03T18:00:00+00:00"]
    # abel.tuter created the incidents (self-service): the same with ignore_creator_comments
    again = by_id(read_all(data_dir / "incidents.json", {**counted, "ignore_creator_comments": True}))
    assert again["INC0010001"]["updates"] == record["INC0010001"]["updates"]
    # the default (the caller's own comments are not responses) gives the same here
    assert by_id(read_all(data_dir / "incidents.json", options))["INC0010001"]["updates"] == record["INC0010001"]["updates"]


def test_rca_date_field_needs_a_time_zone(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    incident(doc, "INC0010005")["u_rca_delivered"] = "2026-03-05"
    path = write(tmp_path, doc)
    assert "set rca_timezone" in bad(read_all(path, options))[5]
    record = by_id(read_all(path, {**options, "rca_timezone": "America/New_York"}))["INC0010005"]
    assert record["rca_delivered_at"] == "2026-03-05T00:00:00-05:00"


def test_resolved_state_without_a_time_is_a_bad_line(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    incident(doc, "INC0010001")["resolved_at"] = ""
    found = bad(read_all(write(tmp_path, doc), options))
    assert found[1] == "incident INC0010001: state is '6' (Resolved) but resolved_at and closed_at are empty"


def test_missing_opening_time_is_a_bad_line(tmp_path, export_doc, options):
    doc = copy.deepcopy(export_doc)
    incident(doc, "INC0010001").update(opened_at="", sys_created_on="")
    found = bad(read_all(write(tmp_path, doc), options))
    assert found[1] == "incident INC0010001: opened_at is missing (and sys_created_on too): no opening time"


# ------------------------------------------------------------------ broken files


def test_invalid_json_is_one_bad_line_with_its_line(tmp_path, options):
    path = tmp_path / "broken.json"
    path.write_text('{"result": [\n  {"number": "INC1"},\n  {"number": \n')
    triples = read_all(path, options)
    assert len(triples) == 1
    file, line, obj = triples[0]
    assert (file, line) == (str(path), 4) and obj.reason.startswith("invalid JSON")


def test_wrong_shape_is_a_bad_line(tmp_path, options):
    triples = read_all(write(tmp_path, {"records_of": []}), options)
    assert [(line, obj.reason[:40]) for _, line, obj in triples] == [
        (1, 'expected a Table API response {"result":')
    ]


def test_row_that_is_not_an_object(tmp_path, options):
    triples = read_all(write(tmp_path, {"result": ["INC1"], "sys_journal_field": [], "sys_audit": []}), options)
    assert bad(triples) == {1: "expected an incident object, got str"}


def test_missing_side_file_is_a_config_error(data_dir, options):
    with pytest.raises(ConfigError, match="option journal_path: no such file"):
        read_all(data_dir / "split" / "incident.json", {**options, "journal_path": "nope.json", "audit_path": "x"})


@pytest.mark.parametrize("opts, message", [
    ({"lob": "retail"},
     "$.contract: required (the contract id the incidents belong to), or contract_field with contract_map"),
    ({"contract": "C"}, "$.lob: required (a fixed line of business), or lob_field with lob_map"),
    ({"contract": "C", "lob": "a", "priority_map": {"1": "Sev1"}},
     "$.priority_map['1']: expected one of P1, P2, P3, got 'Sev1'"),
    ({"contract": "C", "lob": "a", "channel_map": {"walk-in": "desk"}},
     "$.channel_map['walk-in']: expected one of web, chat, phone, messaging, email, got 'desk'"),
    ({"contract": "C", "lob": "a", "skip_canceled": "yes"}, "$.skip_canceled: expected true or false, got 'yes'"),
    ({"contract": "C", "lob": "a", "pasword_env": "X"}, "$: unknown field(s): pasword_env"),
    ({"contract": "C", "lob": "a", "first_response_from": "field"},
     '$.first_response_field: required with first_response_from = "field"'),
    ({"contract": "C", "lob": "a", "datetime_timezone": "Mars/Base"},
     "$.datetime_timezone: unknown time zone 'Mars/Base' (expected an IANA name like America/New_York)"),
    ({"contract": "C", "lob": "a", "bug_field": ["u_is_bug", 3]},
     "$.bug_field: expected a field name or a list of field names, got ['u_is_bug', 3]"),
])
def test_bad_options_stop_before_reading(cso_workspace, data_dir, opts, message):
    """The core structures the entry's options into ServiceNowOptions and asks its problems()."""
    export = data_dir / "incidents.json"
    cso_workspace.source("servicenow", export, **opts)
    with pytest.raises(ConfigError) as info:
        cso_workspace.audit(plugins=[("servicenow", plugin)])
    assert str(info.value) == f"records {export} (source servicenow) {message}"


def test_the_core_checks_the_plugin_table():
    cat = catalogue([("servicenow", plugin)])
    with pytest.raises(ConfigError) as info:
        cat.configure({"servicenow": {"page_size": "10"}}, None)
    assert str(info.value) == "[plugins.servicenow] $.page_size: expected an integer, got '10'"
    cat.configure({"servicenow": {"contract": "C", "lob": "a"}}, None)
    cat.configure({}, None)
