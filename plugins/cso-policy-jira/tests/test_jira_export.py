"""Export files: search/jql pages -> ticket records (one per issue, BadLine for unmappable ones)."""

from __future__ import annotations

import pytest

from cso_policy import BadLine, ConfigError
from cso_policy.testing import structure_record
from cso_policy_jira import read_jira


def records(path, options):
    return list(read_jira(path, options))


def by_id(triples):
    return {obj["id"]: obj for _, _, obj in triples if isinstance(obj, dict)}


def test_every_issue_is_one_triple_numbered_across_pages(export, options):
    triples = records(export, options)
    assert [(file, line) for file, line, _ in triples] == [(str(export), n) for n in range(1, 6)]
    kinds = [type(obj).__name__ for _, _, obj in triples]
    assert kinds == ["dict", "dict", "BadLine", "BadLine", "dict"]


def test_incident_with_sla_fields_comments_and_a_priority_change(export, options):
    ticket = by_id(records(export, {**options, "rca_field": "customfield_10090"}))["SUP-101"]
    assert ticket == {
        "kind": "ticket",
        "id": "SUP-101",
        "contract": "NW-2026",
        "lob": "retail",
        # opened High, raised to Highest at 09:10 (expand=changelog lists the newest history first)
        "severity": "P2",
        "opened_at": "2026-02-02T09:00:00.000+00:00",
        # "Time to first response" completedCycles[0].stopTime.iso8601
        "first_response_at": "2026-02-02T09:20:00+00:00",
        # public agent comments only: not the internal note (jsdPublic false) nor the reporter's question
        "updates": ["2026-02-02T09:20:00.000+00:00", "2026-02-02T10:30:00.000+00:00", "2026-02-02T12:15:00.000+00:00"],
        # "Time to resolution" last completed stopTime, not resolutiondate (14:00:05)
        "resolved_at": "2026-02-02T14:00:00+00:00",
        "is_bug": False,
        "rca_delivered_at": "2026-02-04T16:30:00.000+00:00",
        "channel": "web",
        "security_incident": True,
        "tier2_direct": False,
        "severity_changes": [{"at": "2026-02-02T09:10:00.000+00:00", "severity": "P1"}],
        "subject": "Checkout chat widget down for all visitors",
    }
    assert list(ticket)[0] == "kind"


def test_open_bug_with_running_resolution_sla(export, options):
    ticket = by_id(records(export, options))["SUP-102"]
    assert ticket["is_bug"] is True  # issue type Bug
    assert ticket["resolved_at"] is None  # ongoingCycle on "Time to resolution"
    assert ticket["first_response_at"] == "2026-02-03T18:00:00+00:00"
    assert ticket["severity"] == "P3" and ticket["severity_changes"] == []


def test_done_without_resolutiondate_uses_status_category_change(export, options):
    ticket = by_id(records(export, options))["SUP-105"]
    assert ticket["resolved_at"] == "2026-02-06T10:00:00.000+00:00"
    assert ticket["tier2_direct"] is True
    # Low -> Lowest is no change of severity (both P3); the opening priority comes from the changelog
    assert ticket["severity"] == "P3" and ticket["severity_changes"] == []
    assert ticket["first_response_at"] is None  # no SLA field and first_response_from = "sla"


def test_unmappable_issues_are_bad_lines_naming_the_field(export, options):
    bad = {line: obj.reason for _, line, obj in records(export, options) if isinstance(obj, BadLine)}
    assert bad == {
        3: "Jira issue SUP-103: fields.priority.name 'Blocker' is not in priority_map "
           "(known: Highest, High, Medium, Low, Lowest)",
        4: "Jira issue SUP-104: fields.created is missing (the opening time)",
    }


def test_every_record_is_accepted_by_the_core(export, options):
    opts = {**options, "rca_field": "customfield_10090", "channel_field": "labels",
            "channel_map": {"via-phone": "phone"}, "priority_map": {"Blocker": "P1"}}
    for file, line, obj in records(export, opts):
        if isinstance(obj, dict):
            ticket = structure_record(obj)
            assert ticket.kind == "ticket" and ticket.opened_at.utcoffset() is not None


def test_priority_map_adds_to_the_defaults_and_ignores_case(export, options):
    tickets = by_id(records(export, {**options, "priority_map": {"blocker": "P1", "High": "P1"}}))
    assert tickets["SUP-103"]["severity"] == "P1"
    # High is now P1 like Highest: the change High -> Highest is no severity change
    assert tickets["SUP-101"]["severity"] == "P1" and tickets["SUP-101"]["severity_changes"] == []
    assert tickets["SUP-102"]["severity"] == "P3"  # Medium keeps its default


def test_single_page_document_and_bare_issue_list(load, write_json, options):
    pages = load("search-pages.json")
    single = write_json({"issues": pages[1]["issues"]}, "single.json")
    assert [line for _, line, _ in records(single, options)] == [1, 2, 3]
    bare = write_json(pages[0]["issues"], "bare.json")
    assert sorted(by_id(records(bare, options))) == ["SUP-101", "SUP-102"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON document"),
        ('{"values": []}', "is not a Jira search response"),
        ('"issues"', "expected a Jira search response"),
        ('[{"issues": []}, {"total": 3}]', "page 2 is not a Jira search response"),
    ],
)
def test_a_file_that_is_no_search_response_stops_the_run(tmp_path, options, content, message):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        records(path, options)


def test_missing_file_is_a_config_error(tmp_path, options):
    with pytest.raises(ConfigError, match="cannot read"):
        records(tmp_path / "nope.json", options)


def test_first_response_from_the_first_public_agent_comment(export, options):
    tickets = by_id(records(export, {**options, "first_response_from": "comment"}))
    assert tickets["SUP-101"]["first_response_at"] == "2026-02-02T09:20:00.000+00:00"
    assert tickets["SUP-105"]["first_response_at"] == "2026-02-05T13:00:00.000+00:00"


def test_first_response_sla_or_comment_falls_back_to_the_comment(export, options):
    tickets = by_id(records(export, {**options, "first_response_from": "sla_or_comment"}))
    assert tickets["SUP-101"]["first_response_at"] == "2026-02-02T09:20:00+00:00"  # the SLA
    assert tickets["SUP-105"]["first_response_at"] == "2026-02-05T13:00:00.000+00:00"  # no SLA: the comment


def test_reporter_comments_count_when_agent_comments_only_is_off(export, options):
    tickets = by_id(records(export, {**options, "agent_comments_only": False}))
    assert "2026-02-02T10:05:00.000+00:00" in tickets["SUP-101"]["updates"]


def test_updates_none(export, options):
    tickets = by_id(records(export, {**options, "updates_from": "none"}))
    assert all(t["updates"] == [] for t in tickets.values())


def test_resolved_from_resolutiondate(export, options):
    tickets = by_id(records(export, {**options, "resolved_from": "resolutiondate"}))
    assert tickets["SUP-101"]["resolved_at"] == "2026-02-02T14:00:05.000+00:00"


def test_sla_fields_by_configured_id(load, write_json, options):
    pages = load("search-pages.json")
    issue = pages[0]["issues"][0]
    # renamed SLAs: found by id, not by name
    issue["fields"]["customfield_10030"]["name"] = "Erste Antwort"
    issue["fields"]["customfield_10031"]["name"] = "Lösung"
    path = write_json({"issues": [issue]})
    by_name = by_id(records(path, options))["SUP-101"]
    assert by_name["first_response_at"] is None
    assert by_name["resolved_at"] == "2026-02-02T14:00:05.000+00:00"  # resolutiondate
    by_field = by_id(records(path, {**options, "first_response_field": "customfield_10030",
                                    "resolution_field": "customfield_10031"}))["SUP-101"]
    assert by_field["first_response_at"] == "2026-02-02T09:20:00+00:00"
    assert by_field["resolved_at"] == "2026-02-02T14:00:00+00:00"
    also_by_name = by_id(records(path, {**options, "first_response_sla": "erste antwort"}))["SUP-101"]
    assert also_by_name["first_response_at"] == "2026-02-02T09:20:00+00:00"


def test_sla_date_without_iso8601_uses_epoch_millis(load, write_json, options):
    issue = load("search-pages.json")[0]["issues"][0]
    stop = issue["fields"]["customfield_10030"]["completedCycles"][0]["stopTime"]
    del stop["iso8601"], stop["jira"]
    ticket = by_id(records(write_json({"issues": [issue]}), options))["SUP-101"]
    assert ticket["first_response_at"] == "2026-02-02T09:20:00.000+00:00"


def test_channel_from_labels_and_from_a_select_field(load, write_json, export, options):
    tickets = by_id(records(export, {**options, "channel_field": "labels", "channel_map": {"via-phone": "phone"}}))
    assert tickets["SUP-102"]["channel"] == "phone"
    assert tickets["SUP-101"]["channel"] == "web"  # no channel label: the default

    issue = load("search-pages.json")[0]["issues"][1]
    issue["fields"]["customfield_10200"] = {"self": "https://x/rest/api/3/customFieldOption/1", "value": "Chat", "id": "1"}
    path = write_json({"issues": [issue]})
    [(_, _, ticket)] = records(path, {**options, "channel_field": "customfield_10200"})
    assert ticket["channel"] == "chat"  # default map, case ignored
    issue["fields"]["customfield_10200"]["value"] = "Fax"
    [(_, _, bad)] = records(write_json({"issues": [issue]}), {**options, "channel_field": "customfield_10200"})
    assert isinstance(bad, BadLine)
    assert "fields.customfield_10200 value 'Fax' is not in channel_map" in bad.reason


def test_contract_and_lob_from_fields_through_maps(load, write_json):
    issue = load("search-pages.json")[0]["issues"][0]
    issue["fields"]["customfield_10002"] = [{"id": "3", "name": "Northwind Retail"}, {"id": "9", "name": "Partners"}]
    issue["fields"]["components"] = [{"self": "https://x/rest/api/3/component/1", "id": "1", "name": "Outlet"}]
    issue["fields"]["project"] = {"id": "10000", "key": "SUP", "name": "Support"}
    path = write_json({"issues": [issue]})
    opts = {"contract_field": "customfield_10002", "contract_map": {"Northwind Retail": "NW-2026"},
            "lob_field": "components", "lob_map": {"Outlet": "outlet"}}
    [(_, _, ticket)] = records(path, opts)
    assert (ticket["contract"], ticket["lob"]) == ("NW-2026", "outlet")
    # a dotted path, used as is without a map
    [(_, _, ticket)] = records(path, {"contract": "NW-2026", "lob_field": "project.key"})
    assert ticket["lob"] == "SUP"
    # nothing mapped and no fallback: a BadLine naming the field
    [(_, _, bad)] = records(path, {**opts, "lob_map": {"Retail": "retail"}})
    assert isinstance(bad, BadLine) and "fields.components" in bad.reason and "lob" in bad.reason
    # the fixed lob is the fallback
    [(_, _, ticket)] = records(path, {**opts, "lob_map": {"Retail": "retail"}, "lob": "retail"})
    assert ticket["lob"] == "retail"


def test_bug_and_security_from_labels_and_types(load, write_json, options):
    issue = load("search-pages.json")[0]["issues"][0]
    issue["fields"]["labels"] = ["defect", "ddos"]
    path = write_json({"issues": [issue]})
    [(_, _, ticket)] = records(path, options)
    assert (ticket["is_bug"], ticket["security_incident"]) == (False, False)
    [(_, _, ticket)] = records(path, {**options, "bug_labels": ["defect"], "security_labels": ["ddos"]})
    assert (ticket["is_bug"], ticket["security_incident"]) == (True, True)
    [(_, _, ticket)] = records(path, {**options, "security_issue_types": ["[System] Incident"]})
    assert ticket["security_incident"] is True


@pytest.mark.parametrize(
    ("value", "extra", "expected"),
    [
        ("2026-02-04T16:30:00.000-0500", {}, "2026-02-04T16:30:00.000-05:00"),
        ("2026-02-04", {"rca_timezone": "America/New_York"}, "2026-02-04T00:00:00-05:00"),
        (None, {}, None),
        ({"id": "4", "name": "Time to RCA", "completedCycles": [
            {"stopTime": {"iso8601": "2026-02-05T10:00:00+0000", "epochMillis": 1770285600000}}]}, {},
         "2026-02-05T10:00:00+00:00"),
    ],
)
def test_rca_field_values(load, write_json, options, value, extra, expected):
    issue = load("search-pages.json")[0]["issues"][0]
    issue["fields"]["customfield_10090"] = value
    [(_, _, ticket)] = records(write_json({"issues": [issue]}), {**options, "rca_field": "customfield_10090", **extra})
    assert ticket["rca_delivered_at"] == expected


def test_date_only_rca_needs_a_timezone(load, write_json, options):
    issue = load("search-pages.json")[0]["issues"][0]
    issue["fields"]["customfield_10090"] = "2026-02-04"
    [(_, _, bad)] = records(write_json({"issues": [issue]}), {**options, "rca_field": "customfield_10090"})
    assert isinstance(bad, BadLine) and "fields.customfield_10090" in bad.reason and "rca_timezone" in bad.reason


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda f: f.update(created="15/Jan/24 10:23 AM"), "fields.created"),
        (lambda f: f.update(created="2026-02-02T09:00:00.000"), "fields.created"),  # no offset
        (lambda f: f.update(priority=None), "fields.priority.name"),
        (lambda f: f["comment"]["comments"][0].update(created=None), "fields.comment.comments[0].created"),
        (lambda f: f["customfield_10030"]["completedCycles"][0].update(stopTime={}),
         "fields.customfield_10030.completedCycles[0].stopTime"),
    ],
)
def test_broken_values_name_the_jira_field(load, write_json, options, mutate, field):
    issue = load("search-pages.json")[0]["issues"][0]
    issue["changelog"]["histories"] = []
    mutate(issue["fields"])
    [(_, _, bad)] = records(write_json({"issues": [issue]}), options)
    assert isinstance(bad, BadLine)
    assert bad.reason.startswith("Jira issue SUP-101: ") and field in bad.reason


def test_unknown_priority_in_the_changelog_names_the_history_item(load, write_json, options):
    issue = load("search-pages.json")[0]["issues"][0]
    issue["changelog"]["histories"][1]["items"][0]["fromString"] = "Critical"
    [(_, _, bad)] = records(write_json({"issues": [issue]}), options)
    assert isinstance(bad, BadLine)
    assert "changelog.histories[1].items[0].fromString 'Critical' is not in priority_map" in bad.reason


def test_an_issue_that_is_not_an_object_is_a_bad_line(write_json, options):
    [(_, line, bad)] = records(write_json({"issues": ["SUP-1"]}), options)
    assert line == 1 and isinstance(bad, BadLine) and "expected an issue object" in bad.reason


def test_comments_before_the_first_response_or_after_the_resolution_are_no_updates(load, write_json, options):
    issue = load("search-pages.json")[0]["issues"][0]
    comments = issue["fields"]["comment"]["comments"]
    early, late = dict(comments[0], id="1", created="2026-02-02T09:05:00.000+0000"), \
        dict(comments[0], id="2", created="2026-02-02T15:00:00.000+0000")
    issue["fields"]["comment"]["comments"] = [early, *comments, late]
    [(_, _, ticket)] = records(write_json({"issues": [issue]}), options)
    # SLA first response 09:20, resolution 14:00: the 09:05 and 15:00 comments are left out
    assert ticket["updates"] == ["2026-02-02T09:20:00.000+00:00", "2026-02-02T10:30:00.000+00:00",
                                 "2026-02-02T12:15:00.000+00:00"]
    # with the first response taken from the comments, the 09:05 comment is the response
    [(_, _, ticket)] = records(write_json({"issues": [issue]}), {**options, "first_response_from": "comment"})
    assert ticket["first_response_at"] == "2026-02-02T09:05:00.000+00:00"
    assert ticket["updates"][0] == "2026-02-02T09:05:00.000+00:00" and len(ticket["updates"]) == 4
