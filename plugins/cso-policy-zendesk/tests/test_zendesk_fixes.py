"""Severity history, updates after the solve, replies in metrics-only exports, the default
channel map and the accounting of tickets left out: each fixture follows a Zendesk API
document's response shape (named in each test)."""

from __future__ import annotations

import pytest

from cso_policy import Incomplete, LeftOut

OPTS = {"contract": "C", "lob": "a"}


def _records(out):
    return {o["id"]: o for _, _, o in out if isinstance(o, dict)}


def test_escalated_ticket_without_history_is_incomplete_not_a_false_p1(read_all, write_export, ticket):
    """Shape: Incremental Exports, "Incremental Ticket Export" (tickets with updated_at) and
    "Incremental Ticket Metric Event Export". A ticket opened normal and escalated to urgent
    after a 2.5 h reply: its priority is urgent now, the export has no audits or ticket events."""
    t = ticket(1, priority="urgent", created_at="2026-03-02T14:00:00Z", updated_at="2026-03-02T17:00:00Z")
    events = [{"id": 1, "ticket_id": 1, "metric": "reply_time", "instance_id": 1, "type": "fulfill",
               "time": "2026-03-02T16:30:00Z"}]
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": events}]), OPTS)
    [(_, line, obj)] = out
    assert isinstance(obj, Incomplete) and line == 1
    assert obj.record["id"] == "1" and "severity" not in obj.record
    assert "severity at opening unknown" in obj.reason and "'urgent'" in obj.reason


def test_ticket_events_export_gives_the_opening_priority_and_its_changes(read_all, write_export, ticket):
    """Shape: Incremental Exports, "Incremental Ticket Event Export" (ticket_events with
    child_events: Create/Change naming the field by its key, previous_value)."""
    t = ticket(1, priority="urgent", updated_at="2026-03-02T17:00:00Z")
    ticket_events = [
        {"id": 11, "ticket_id": 1, "timestamp": 1772460000, "created_at": "2026-03-02T14:00:00Z", "updater_id": 9001,
         "via": "Web form", "event_type": "Audit", "merged_ticket_ids": [], "child_events": [
             {"id": 111, "via": "Web form", "via_reference_id": None, "priority": "normal", "event_type": "Create"},
             {"id": 112, "via": "Web form", "via_reference_id": None, "status": "new", "event_type": "Create"}]},
        {"id": 12, "ticket_id": 1, "timestamp": 1772470800, "created_at": "2026-03-02T17:00:00Z", "updater_id": 7001,
         "via": "Web form", "event_type": "Audit", "merged_ticket_ids": [], "child_events": [
             {"id": 121, "via": "Web form", "via_reference_id": None, "priority": "urgent", "previous_value": "normal",
              "event_type": "Change"}]},
    ]
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": []}, {"ticket_events": ticket_events}]), OPTS)
    r = _records(out)["1"]
    assert (r["severity"], r["severity_changes"]) == ("P3", [{"at": "2026-03-02T17:00:00+00:00", "severity": "P1"}])


def test_ticket_events_that_miss_the_creation_cannot_tell_the_opening_priority(read_all, write_export, ticket):
    """Shape: "Incremental Ticket Event Export" started after the ticket was created: a Change
    only, no Create, so earlier changes may be missing."""
    t = ticket(1, priority="urgent", updated_at="2026-03-02T17:00:00Z")
    ev = {"id": 12, "ticket_id": 1, "timestamp": 1772470800, "updater_id": 7001, "via": "Web form",
          "event_type": "Audit", "child_events": [
              {"id": 121, "priority": "urgent", "previous_value": "high", "event_type": "Change"}]}
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": [], "ticket_events": [ev]}]), OPTS)
    assert isinstance(out[0][2], Incomplete)


def test_comments_after_the_solve_are_not_updates_and_reopenings_keep_theirs(read_all, write_export, ticket):
    """Shape: Ticket Audits ("List Audits for a Ticket": audits with created_at, author_id and
    events of type Comment with public/author_id, Change with field_name/previous_value) and
    Ticket Metrics (solved_at). Solved at 18:00, reopened by the customer at 19:00, agent
    replies 20:00, solved again 21:00, a public thank-you note by the agent at 22:00."""
    def audit(i, at, author, *events):
        return {"id": i, "ticket_id": 1, "created_at": at, "author_id": author, "via": {"channel": "web", "source": {}},
                "metadata": {"system": {}, "custom": {}}, "events": list(events)}

    def comment(i, author, public=True):
        return {"id": i, "type": "Comment", "author_id": author, "body": "…", "public": public}

    audits = [
        audit(1, "2026-03-02T14:00:00Z", 9001, comment(10, 9001),
              {"id": 11, "type": "Create", "field_name": "priority", "value": "normal"}),
        audit(2, "2026-03-02T15:00:00Z", 7001, comment(20, 7001)),
        audit(3, "2026-03-02T17:00:00Z", 7001, comment(30, 7001)),
        audit(4, "2026-03-02T18:00:00Z", 7001, {"id": 40, "type": "Change", "field_name": "status", "value": "solved",
                                                 "previous_value": "open"}),
        audit(5, "2026-03-02T19:00:00Z", 9001, comment(50, 9001),
              {"id": 51, "type": "Change", "field_name": "status", "value": "open", "previous_value": "solved"}),
        audit(6, "2026-03-02T20:00:00Z", 7001, comment(60, 7001)),
        audit(7, "2026-03-02T21:00:00Z", 7001, {"id": 70, "type": "Change", "field_name": "status", "value": "solved",
                                                 "previous_value": "open"}),
        audit(8, "2026-03-02T22:00:00Z", 7001, comment(80, 7001)),
    ]
    t = ticket(1, status="solved", updated_at="2026-03-02T22:00:00Z")
    metric_sets = [{"id": 91, "ticket_id": 1, "solved_at": "2026-03-02T21:00:00Z", "reopens": 1}]
    out = read_all(write_export([{"tickets": [t], "metric_sets": metric_sets, "audits": audits,
                                  "ticket_metric_events": []}]), OPTS)
    r = _records(out)["1"]
    assert r["first_response_at"] == "2026-03-02T15:00:00+00:00"
    assert r["resolved_at"] == "2026-03-02T21:00:00+00:00"
    # 17:00 and the reply after the reopening (20:00) count; the 22:00 note after the last solve does not
    assert r["updates"] == ["2026-03-02T17:00:00+00:00", "2026-03-02T20:00:00+00:00"]
    # reopened and still open: every reply counts
    out = read_all(write_export([{"tickets": [dict(t, status="open")], "audits": audits[:6],
                                  "ticket_metric_events": []}]), OPTS)
    assert _records(out)["1"]["updates"] == ["2026-03-02T17:00:00+00:00", "2026-03-02T20:00:00+00:00"]


def test_update_after_resolution_is_dropped_through_the_audit(cso_workspace, make_contract, write_export, ticket):
    """Shape: Ticket Comments ("List Comments": public, author_id, created_at, with ticket_id)
    and Ticket Metrics (solved_at): the core measures the update clock instead of reporting
    '$.updates[n] is after $.resolved_at'."""
    import cso_policy_zendesk

    make_contract("premier")
    t = ticket(1, status="solved", tags=["lob_retail"], updated_at="2026-03-02T14:00:00Z")
    comments = [{"id": i, "ticket_id": 1, "type": "Comment", "author_id": a, "public": True, "body": "…",
                 "created_at": at} for i, a, at in [(1, 9001, "2026-03-02T14:00:00Z"), (2, 7001, "2026-03-02T14:30:00Z"),
                                                   (3, 7001, "2026-03-02T15:30:00Z"), (4, 7001, "2026-03-03T09:00:00Z")]]
    path = write_export([{"tickets": [t], "comments": comments, "ticket_metric_events": [],
                          "metric_sets": [{"id": 9, "ticket_id": 1, "solved_at": "2026-03-02T16:00:00Z"}]}])
    cso_workspace.source("zendesk", path, contract="NW-2026", lob="retail")
    result = cso_workspace.audit(plugins=[("zendesk", cso_policy_zendesk)])
    assert not [f for f in result.findings if f.rule.startswith("input.")], [f.message for f in result.findings]


def test_metrics_only_export_takes_updates_from_reply_events(read_all, write_export, ticket):
    """Shape: Incremental Exports, "Incremental Ticket Metric Event Export" without any SLA
    policy: reply_time activate/fulfill only (no periodic_update_time events). A reply at
    20:00 is an update, not a 19 h 20 min gap."""
    t = ticket(1)
    events = [
        {"id": 1, "ticket_id": 1, "metric": "reply_time", "instance_id": 1, "type": "activate", "time": "2026-03-02T14:00:00Z"},
        {"id": 2, "ticket_id": 1, "metric": "reply_time", "instance_id": 1, "type": "fulfill", "time": "2026-03-02T14:40:00Z"},
        {"id": 3, "ticket_id": 1, "metric": "reply_time", "instance_id": 2, "type": "activate", "time": "2026-03-02T16:00:00Z"},
        {"id": 4, "ticket_id": 1, "metric": "reply_time", "instance_id": 2, "type": "fulfill", "time": "2026-03-02T20:00:00Z"},
    ]
    r = _records(read_all(write_export([{"tickets": [t], "ticket_metric_events": events}]), OPTS))["1"]
    assert (r["first_response_at"], r["updates"]) == ("2026-03-02T14:40:00+00:00", ["2026-03-02T20:00:00+00:00"])


def test_ticket_events_comment_events_give_the_public_agent_replies(read_all, write_export, ticket):
    """Shape: "Incremental Ticket Event Export" with include=comment_events: Comment child
    events with author_id and public. The requester's comment and a private note do not count."""
    t = ticket(1, requester_id=9001)
    def ev(i, at, who, **child):
        return {"id": i, "ticket_id": 1, "created_at": at, "updater_id": who, "via": "Web form", "event_type": "Audit",
                "child_events": [{"id": i * 10, "event_type": "Comment", "author_id": who, "body": "…", **child}]}
    tev = [ev(1, "2026-03-02T14:00:00Z", 9001, public=True), ev(2, "2026-03-02T15:00:00Z", 7001, public=True),
           ev(3, "2026-03-02T16:00:00Z", 7001, public=False), ev(4, "2026-03-02T17:00:00Z", 9001, public=True),
           ev(5, "2026-03-02T18:00:00Z", 7001, public=True)]
    tev[0]["child_events"].append({"id": 11, "priority": "normal", "event_type": "Create"})
    r = _records(read_all(write_export([{"tickets": [t], "ticket_events": tev, "ticket_metric_events": []}]), OPTS))["1"]
    assert (r["first_response_at"], r["updates"]) == ("2026-03-02T15:00:00+00:00", ["2026-03-02T18:00:00+00:00"])


@pytest.mark.parametrize("via, channel", [
    ("web", "web"), ("web_form", "web"), ("web_widget", "web"), ("mobile_sdk", "web"), ("mobile", "web"),
    ("api", "web"), (5, "web"), ("email", "email"), (4, "email"), ("chat", "chat"), (29, "chat"),
    ("voice", "phone"), ("native_messaging", "messaging"), ("sms", "messaging"), ("whatsapp", "messaging"),
])
def test_documented_via_channels_map_by_default(read_all, write_export, ticket, via, channel):
    """Shape: the Via object reference and Via types reference (via.channel as a via type or
    a via id)."""
    t = ticket(1, via={"channel": via, "source": {"from": {}, "to": {}, "rel": None}})
    r = _records(read_all(write_export([{"tickets": [t], "ticket_metric_events": []}]), OPTS))["1"]
    assert r["channel"] == channel


def test_rule_made_tickets_stay_a_bad_line(read_all, write_export, ticket):
    """Shape: Via types reference, via type rule (8): made by a trigger, not by the customer."""
    t = ticket(1, via={"channel": "rule", "source": {"from": {"id": 1, "title": "x"}, "to": {}, "rel": "trigger"}})
    out = read_all(write_export([{"tickets": [t], "ticket_metric_events": []}]), OPTS)
    assert "via.channel: 'rule' is not mapped" in out[0][2].reason


def test_deleted_and_other_organizations_tickets_are_left_out_not_silent(read_all, write_export, ticket):
    """Shape: Incremental Ticket Export (status "deleted" for deleted and spam tickets;
    organization_id)."""
    tickets = [ticket(1), ticket(2, status="deleted"), ticket(3, organization_id=777)]
    out = read_all(write_export([{"tickets": tickets, "ticket_metric_events": []}]), {**OPTS, "organization_ids": [555]})
    assert [(n, type(o).__name__) for _, n, o in out] == [(1, "dict"), (2, "LeftOut"), (3, "LeftOut")]
    assert "deleted" in out[1][2].reason and "organization_id 777" in out[2][2].reason


def test_left_out_tickets_are_counted_by_the_core(cso_workspace, make_contract, write_export, ticket):
    """Shape: Incremental Ticket Export with a deleted (spam) ticket."""
    import cso_policy_zendesk

    make_contract()
    path = write_export([{"tickets": [ticket(1, tags=["lob_retail"]), ticket(2, status="deleted")],
                          "ticket_metric_events": []}])
    cso_workspace.source("zendesk", path, contract="NW-2026", lob="retail")
    result = cso_workspace.audit(plugins=[("zendesk", cso_policy_zendesk)])
    assert result.report.records == 2  # the deleted ticket is read and accounted (left_out), not lost
    assert result.flagged("input.invalid_record") == []
