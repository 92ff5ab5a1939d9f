"""Who answers, when updates end, rate limits, and what is left out or incomplete.

Every fixture here is built from ServiceNow's documented response shapes: Table API JSON
``{"result": [...]}`` with ``sysparm_display_value=false`` (date-times ``YYYY-MM-DD HH:MM:SS``
in UTC, reference fields ``{"link", "value"}``), ``sys_journal_field`` rows (``element_id`` =
the incident sys_id, ``element`` comments | work_notes, ``value``, ``sys_created_on``,
``sys_created_by`` = the author's user_name), ``sys_audit`` rows (``documentkey``,
``tablename``, ``fieldname``, ``oldvalue``, ``newvalue``, ``sys_created_on``) and ``sys_user``
rows (``sys_id``, ``user_name``, ``company``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from werkzeug.wrappers import Response

import cso_policy_servicenow as plugin
from cso_policy import ConfigError, Incomplete, LeftOut
from cso_policy_servicenow import live
from cso_policy_servicenow.options import ServiceNowOptions

BASE = "https://acme.service-now.com/api/now/table"
NORTHWIND = "34d3bab526de7c56e4775dab11aea797"  # core_company of the customer
CALLER = "6f1e27e47492f66e6cf45af27d383c34"     # abel.tuter, Northwind
COLLEAGUE = "5137153cc611227c000bbd1bd8cd2005"  # carla.keller, Northwind
AGENT = "11438cfa64af473ca604d70efc22b52f"      # beth.anglin, the support team
INC = "a9e30c7dc61122760116894de7bcc7bd"
AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
OPTIONS = {"contract": "NW-2026", "lob": "retail"}


def ref(table: str, sys_id: str) -> dict:
    """A reference field as the Table API gives it with sysparm_display_value=false."""
    return {"link": f"{BASE}/{table}/{sys_id}", "value": sys_id}


def user(sys_id: str, user_name: str, company: str | None) -> dict:
    """A sys_user row (GET /api/now/table/sys_user?sysparm_fields=sys_id,user_name,company)."""
    return {"sys_id": sys_id, "user_name": user_name, "company": ref("core_company", company) if company else ""}


USERS = [user(CALLER, "abel.tuter", NORTHWIND), user(COLLEAGUE, "carla.keller", NORTHWIND),
         user(AGENT, "beth.anglin", None)]


def incident(**changes) -> dict:
    """An incident row: a P1 created by the baseline inbound email action (contact_type email,
    caller_id and opened_by the sender, sys_created_by the sender's user_name)."""
    row = {
        "sys_id": INC, "number": "INC0020001", "priority": "1", "state": "2",
        "opened_at": "2026-02-03 09:00:00", "sys_created_on": "2026-02-03 09:00:00", "sys_created_by": "abel.tuter",
        "resolved_at": "", "closed_at": "", "contact_type": "email",
        "caller_id": ref("sys_user", CALLER), "opened_by": ref("sys_user", CALLER),
        "company": ref("core_company", NORTHWIND), "category": "software", "subcategory": "",
        "short_description": "Conversations do not load",
    }
    row.update(changes)
    return row


def journal(at: str, author: str, text: str, element: str = "comments") -> dict:
    """A sys_journal_field row of the incident."""
    return {"sys_id": f"{abs(hash((at, author, text))):032x}"[:32], "name": "incident", "element_id": INC,
            "element": element, "value": text, "sys_created_on": at, "sys_created_by": author}


def insert_audit(priority: str, at: str = "2026-02-03 09:00:00") -> dict:
    return {"documentkey": INC, "tablename": "incident", "fieldname": "priority", "oldvalue": "",
            "newvalue": priority, "sys_created_on": at, "record_checkpoint": "1"}


def export(tmp_path, rows, journals, audits=None, users=USERS, name="export.json"):
    doc = {"result": rows, "sys_journal_field": journals,
           "sys_audit": audits if audits is not None else [insert_audit(r["priority"]) for r in rows]}
    if users is not None:
        doc["sys_user"] = users
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def read(path, **options):
    return [obj for _, _, obj in plugin.read(path, {**OPTIONS, **options})]


def audit(ws, path, tier="premier", **options):
    ws.contract(id="NW-2026", customer="Northwind", holidays=None, overage=None,
                packages=[{"id": "nw", "tier": tier, "lines_of_business": ["retail"]}])
    ws.source("servicenow", path, **{**OPTIONS, **options})
    return ws.audit(plugins=[("servicenow", plugin)], as_of=AS_OF)


EMAIL_THREAD = [
    # the baseline inbound action writes the email body into comments, as the sender
    journal("2026-02-03 09:00:01", "abel.tuter", "received from: abel.tuter@northwind.example\n\nNothing loads."),
    journal("2026-02-03 10:00:00", "abel.tuter", "reply from: abel.tuter@northwind.example\n\nAny news?"),
    journal("2026-02-03 11:00:00", "carla.keller", "reply from: carla.keller@northwind.example\n\nSame here."),
    journal("2026-02-03 12:00:00", "beth.anglin", "Looking at the logs.", element="work_notes"),
    journal("2026-02-03 13:05:00", "beth.anglin", "We found the cause and are deploying a fix."),
]


# ------------------------------------------------------------------ 1. the customer's own comments


def test_callers_email_comment_is_not_the_first_response(tmp_path):
    """Shapes: incident (Table API, caller_id/opened_by reference fields), sys_journal_field
    comments whose sys_created_by is the caller's user_name (the baseline inbound email action
    "Create Incident" writes the email body into comments as the sender, and "Update Incident"
    adds replies), sys_user rows (sys_id, user_name, company)."""
    (record,) = read(export(tmp_path, [incident()], EMAIL_THREAD))
    # the caller (09:00:01, 10:00) and a colleague of the caller's company (11:00) are the customer
    assert record["first_response_at"] == "2026-02-03T13:05:00+00:00"
    assert record["updates"] == ["2026-02-03T13:05:00+00:00"]


def test_p1_answered_after_four_hours_is_a_response_finding(cso_workspace, tmp_path):
    """Shapes as above, through the whole pipeline: the P1's response is 4 h 5 min late."""
    result = audit(cso_workspace, export(tmp_path, [incident()], EMAIL_THREAD))
    assert result.flagged("sla.response") == ["INC0020001"]


def test_company_users_and_agent_users_options(tmp_path):
    """Shapes: sys_user rows with company references; sys_journal_field comments by a user of the
    customer's company (carla.keller) and by the support agent (beth.anglin)."""
    path = export(tmp_path, [incident()], EMAIL_THREAD)
    # only the caller: the colleague's comment counts as a response
    (record,) = read(path, customer_company_users=False)
    assert record["first_response_at"] == "2026-02-03T11:00:00+00:00"
    # an agent who is a user of the customer's company (an outsourced desk): name it in agent_users
    (record,) = read(path, agent_users=["carla.keller"])
    assert record["first_response_at"] == "2026-02-03T11:00:00+00:00"
    # the old behaviour, every comment a response
    (record,) = read(path, exclude_customer_comments=False)
    assert record["first_response_at"] == "2026-02-03T09:00:01+00:00"


def test_phone_incident_opened_by_the_agent_keeps_the_agents_comments(tmp_path):
    """Shapes: an incident logged by the service desk on a call (contact_type phone, opened_by the
    agent's sys_user reference, caller_id the customer's): the opener is not the customer."""
    row = incident(contact_type="phone", opened_by=ref("sys_user", AGENT), sys_created_by="beth.anglin")
    comments = [journal("2026-02-03 09:20:00", "beth.anglin", "Logged from your call; investigating.")]
    (record,) = read(export(tmp_path, [row], comments))
    assert record["first_response_at"] == "2026-02-03T09:20:00+00:00"


def test_caller_missing_from_sys_user_is_incomplete(tmp_path):
    """Shapes: sys_user rows that do not hold the incident's caller_id sys_id: the customer's
    comments cannot be told from responses, so the ticket is Incomplete, not guessed."""
    (obj,) = read(export(tmp_path, [incident()], EMAIL_THREAD, users=[user(AGENT, "beth.anglin", None)]))
    assert isinstance(obj, Incomplete)
    assert obj.record["id"] == "INC0020001"
    assert f"caller_id {CALLER} is not among the sys_user rows" in obj.reason


def test_export_without_sys_user_rows_is_a_config_error(tmp_path):
    """Shape: a Table API export with sys_journal_field rows but no sys_user array."""
    path = export(tmp_path, [incident()], EMAIL_THREAD, users=None)
    with pytest.raises(ConfigError, match='no "sys_user" array and no user_path'):
        read(path)
    assert read(path, exclude_customer_comments=False)[0]["first_response_at"] == "2026-02-03T09:00:01+00:00"


def test_live_reads_the_users_from_sys_user(make_instance, credentials):
    """Shapes: the Table API's sys_user table queried by sys_idIN (callers, openers) and
    user_nameIN (comment authors), with sysparm_fields=sys_id,user_name,company."""
    fake = make_instance({"incident": [incident()], "sys_journal_field": EMAIL_THREAD,
                                     "sys_audit": [insert_audit("1")], "sys_user": USERS})
    (record,) = [obj for _, _, obj in plugin.read(None, {**OPTIONS, "base_url": fake.url})]
    assert record["first_response_at"] == "2026-02-03T13:05:00+00:00"
    queries = [r.args["sysparm_query"] for r in fake.of("sys_user")]
    assert queries == [f"sys_idIN{CALLER}", "user_nameINabel.tuter,beth.anglin,carla.keller"]
    assert all(r.args["sysparm_fields"] == "sys_id,user_name,company" for r in fake.of("sys_user"))


# ------------------------------------------------------------------ 2. nothing after the resolution


RESOLVED_THREAD = [
    journal("2026-02-03 09:30:00", "beth.anglin", "Investigating."),
    journal("2026-02-03 10:30:00", "beth.anglin", "Fix deployed, please confirm."),
    # between Resolved (11:00) and Closed: the customer thanks, the agent acknowledges
    journal("2026-02-03 11:30:00", "abel.tuter", "reply from: abel.tuter@northwind.example\n\nThanks!"),
    journal("2026-02-03 12:00:00", "beth.anglin", "You're welcome, closing."),
]


def test_comments_after_resolution_are_not_updates(cso_workspace, tmp_path):
    """Shapes: an incident in state 6 (Resolved) with resolved_at, and sys_journal_field comments
    after it (the agent's "closing" note; the caller's "thanks" is the customer's anyway)."""
    path = export(tmp_path, [incident(state="6", resolved_at="2026-02-03 11:00:00")], RESOLVED_THREAD)
    (record,) = read(path)
    assert record["updates"] == ["2026-02-03T09:30:00+00:00", "2026-02-03T10:30:00+00:00"]
    result = audit(cso_workspace, path)
    assert not [f for f in result.findings if "is after $.resolved_at" in f.message]
    assert not result.of("input.invalid_record")


def test_reopened_incident_is_measured_to_its_last_resolution(cso_workspace, tmp_path):
    """Shapes: sys_audit state rows (6 Resolved -> 2 In Progress -> 6 Resolved: a reopened
    incident; the incident's resolved_at is set again at the second resolution and
    reopen_count is 1) with the comments of both rounds."""
    row = incident(state="6", resolved_at="2026-02-03 16:00:00", reopen_count="1",
                   reopened_time="2026-02-03 12:00:00")
    audits = [insert_audit("1"),
              {"documentkey": INC, "tablename": "incident", "fieldname": "state", "oldvalue": "2", "newvalue": "6",
               "sys_created_on": "2026-02-03 11:00:00", "record_checkpoint": "4"},
              {"documentkey": INC, "tablename": "incident", "fieldname": "state", "oldvalue": "6", "newvalue": "2",
               "sys_created_on": "2026-02-03 12:00:00", "record_checkpoint": "6"},
              {"documentkey": INC, "tablename": "incident", "fieldname": "state", "oldvalue": "2", "newvalue": "6",
               "sys_created_on": "2026-02-03 16:00:00", "record_checkpoint": "8"}]
    comments = RESOLVED_THREAD[:2] + [
        journal("2026-02-03 12:00:00", "abel.tuter", "reply from: abel.tuter@northwind.example\n\nStill broken."),
        journal("2026-02-03 12:30:00", "beth.anglin", "Reopened, looking again."),
        journal("2026-02-03 14:30:00", "beth.anglin", "Second fix deployed."),
        journal("2026-02-03 17:00:00", "beth.anglin", "Closing now."),
    ]
    path = export(tmp_path, [row], comments, audits)
    (record,) = read(path)
    assert record["resolved_at"] == "2026-02-03T16:00:00+00:00"  # the last resolution
    assert record["severity"] == "P1" and record["severity_changes"] == []  # state rows are no priority change
    assert record["updates"] == ["2026-02-03T09:30:00+00:00", "2026-02-03T10:30:00+00:00",
                                 "2026-02-03T12:30:00+00:00", "2026-02-03T14:30:00+00:00"]
    result = audit(cso_workspace, path)
    assert not [f for f in result.findings if "is after $.resolved_at" in f.message]
    assert not result.of("input.invalid_record")


# ------------------------------------------------------------------ 3. rate limits


def _limited(seconds: str) -> Response:
    return Response(json.dumps({"error": {"message": "Rate limit exceeded", "detail": "Too many requests"},
                                "status": "failure"}), status=429, headers={"Retry-After": seconds},
                    content_type="application/json")


NOW = datetime(2026, 2, 3, 13, 35, tzinfo=UTC)


def test_retry_after_of_half_an_hour_is_waited_with_a_progress_line(instance, live_options, credentials):
    """Shape: an HTTP 429 from the Table API with Retry-After in seconds (rate limit rules
    count requests per hour)."""
    instance.queue("incident", _limited("1800"))
    waits, lines = [], []
    triples = list(live.read_live(ServiceNowOptions.of(live_options, None), sleep=waits.append, now=lambda: NOW,
                                  progress=lines.append))
    assert waits == [1800.0] and len(triples) == 6
    assert lines == ["servicenow: rate limited, waiting 1800 s (until 14:05 UTC)"]


def test_progress_line_goes_to_stderr(instance, live_options, credentials, capsys):
    """Shape: HTTP 429 with Retry-After, default progress (stderr)."""
    instance.queue("incident", _limited("5"))
    list(live.read_live(ServiceNowOptions.of(live_options, None), sleep=lambda s: None))
    assert "servicenow: rate limited, waiting 5 s (until " in capsys.readouterr().err


def test_retry_after_beyond_the_ceiling_is_one_line(instance, live_options, credentials):
    """Shape: HTTP 429 with Retry-After as an HTTP date two hours ahead."""
    instance.queue("incident", _limited("Tue, 03 Feb 2026 15:35:00 GMT"))
    waits = []
    with pytest.raises(ConfigError) as info:
        list(live.read_live(ServiceNowOptions.of(live_options, None), sleep=waits.append, now=lambda: NOW,
                            progress=lambda line: None))
    assert waits == []
    first_page = ("/api/now/table/incident?sysparm_query=ORDERBYsys_created_on&sysparm_display_value=false"
                  "&sysparm_limit=2&sysparm_offset=0")
    assert str(info.value) == (f"servicenow: GET {instance.url}{first_page}: rate limited; the server "
                               "asks to wait 7200 s (until 15:35 UTC), more than max_retry_wait = 3600 s: run again "
                               "later or raise max_retry_wait")
    assert "\n" not in str(info.value)


def test_max_retry_wait_option(instance, live_options, credentials, cso_workspace):
    """Shape: HTTP 429 with Retry-After in seconds, against a lower and a higher ceiling."""
    instance.queue("incident", _limited("120"))
    with pytest.raises(ConfigError, match="asks to wait 120 s .* more than max_retry_wait = 60 s"):
        list(live.read_live(ServiceNowOptions.of({**live_options, "max_retry_wait": 60}, None), sleep=lambda s: None,
                            progress=lambda line: None))
    instance.queue("incident", _limited("5400"))
    waits = []
    list(live.read_live(ServiceNowOptions.of({**live_options, "max_retry_wait": 7200}, None), sleep=waits.append,
                        progress=lambda line: None))
    assert waits == [5400.0]
    cso_workspace.source("servicenow", **{**live_options, "max_retry_wait": 0})
    with pytest.raises(ConfigError, match=r"\(source servicenow\) \$\.max_retry_wait: expected a number above 0, got 0"):
        cso_workspace.audit(plugins=[("servicenow", plugin)])


# ------------------------------------------------------------------ 4. left out, incomplete


def test_canceled_incident_is_counted_by_the_core(cso_workspace, tmp_path):
    """Shape: an incident in state 8 (Canceled) with closed_at, beside one in state 2."""
    canceled = incident(sys_id="b" * 32, number="INC0020002", state="8", closed_at="2026-02-03 09:10:00")
    path = export(tmp_path, [incident(), canceled], EMAIL_THREAD)
    objs = read(path)
    assert objs[1] == LeftOut("cancelled incident")
    result = audit(cso_workspace, path)
    inputs = result.report.sections.get("inputs") or []
    assert any(c.get("left_out") == 1 and c.get("left_out_reasons") == {"cancelled incident": 1} for c in inputs), inputs


def test_gap_in_the_priority_history_is_incomplete(tmp_path):
    """Shapes: sys_audit priority rows that do not chain (3 -> 2, then a row changing 1 -> 2: the
    change to 1 is missing) and rows that end at another priority than the incident's."""
    row = incident(priority="2")
    gap = [insert_audit("3"),
           {"documentkey": INC, "tablename": "incident", "fieldname": "priority", "oldvalue": "3", "newvalue": "2",
            "sys_created_on": "2026-02-03 10:00:00", "record_checkpoint": "2"},
           {"documentkey": INC, "tablename": "incident", "fieldname": "priority", "oldvalue": "1", "newvalue": "2",
            "sys_created_on": "2026-02-03 12:00:00", "record_checkpoint": "5"}]
    (obj,) = read(export(tmp_path, [row], EMAIL_THREAD, gap))
    assert isinstance(obj, Incomplete) and "has a gap" in obj.reason and obj.record["id"] == "INC0020001"
    (obj,) = read(export(tmp_path, [row], EMAIL_THREAD, [insert_audit("3")]))
    assert isinstance(obj, Incomplete)
    assert "ends at priority '3' but the incident's priority is '2'" in obj.reason
    # a chained history is a record
    (record,) = read(export(tmp_path, [row], EMAIL_THREAD, gap[:2]))
    assert record["severity"] == "P3" and record["severity_changes"] == [
        {"at": "2026-02-03T10:00:00+00:00", "severity": "P2"}]
