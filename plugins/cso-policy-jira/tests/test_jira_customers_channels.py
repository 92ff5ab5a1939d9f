"""The request channel, truncated changelogs, who is a customer, and the accounting of every issue read."""

from __future__ import annotations

import re

import pytest

import cso_policy_jira
from cso_policy import BadLine, Incomplete
from cso_policy_jira import read_jira
from cso_policy_jira.reader import BASE_FIELDS, channel_jql

SEARCH = "/rest/api/3/search/jql"
PARTICIPANT_PATH = re.compile(r"^/rest/servicedeskapi/request/[^/]+/participant$")


def participant_page(users=(), start=0, last=True) -> dict:
    """A page of GET /rest/servicedeskapi/request/{issueIdOrKey}/participant (PagedDTO of UserDTO)."""
    return {"_expands": [], "size": len(users), "start": start, "limit": 50, "isLastPage": last,
            "_links": {"base": "https://northwind.atlassian.net/rest/servicedeskapi", "context": ""},
            "values": list(users)}

JQL = 'project = "SUP" ORDER BY created ASC'
PLUGIN = ("jira", cso_policy_jira)

# A JSM user as /rest/api/3 and /rest/servicedeskapi give it (UserDTO / User: accountId, accountType...).
PARTICIPANT = {"accountId": "5d5f8a7e2c1b9f0c8e6a4b21", "displayName": "Lee Store-Manager",
               "emailAddress": "lee@northwind.example", "active": True, "timeZone": "America/New_York",
               "accountType": "atlassian",
               "_links": {"jiraRest": "https://northwind.atlassian.net/rest/api/3/user?accountId=5d5f8a7e2c1b9f0c8e6a4b21"}}


def participant_comment(created: str) -> dict:
    """A public JSM comment (jsdPublic true) by the participant, shaped like GET /rest/api/3/issue/{key}/comment."""
    return {"self": "https://northwind.atlassian.net/rest/api/3/issue/10101/comment/20009", "id": "20009",
            "author": {k: v for k, v in PARTICIPANT.items() if k != "_links"},
            "body": {"type": "doc", "version": 1,
                     "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Any news?"}]}]},
            "created": created, "updated": created, "jsdPublic": True}


def by_id(triples):
    return {obj["id"]: obj for _, _, obj in triples if isinstance(obj, dict)}


@pytest.fixture
def issues(load):
    return {i["key"]: i for page in load("search-pages.json") for i in page["issues"]}


def key_page(*keys) -> dict:
    """A search/jql response to a key-only query (fields: created, no expand)."""
    return {"issues": [{"expand": "", "id": str(10000 + n), "self": f"https://northwind.atlassian.net/rest/api/3/issue/{k}",
                        "key": k, "fields": {"created": "2026-02-02T09:00:00.000+0000"}}
                       for n, k in enumerate(keys)], "isLast": True}


def channel_body(value: str) -> dict:
    return {"jql": channel_jql(JQL, value), "fields": ["created"], "maxResults": 100}


# ------------------------------------------------------------------ 1. the request channel


def test_channel_jql_drops_the_order_by_and_quotes_the_value():
    assert channel_jql(JQL, "email") == '(project = "SUP") AND request-channel-type = "email"'
    assert channel_jql("project = SUP", "anonymousportal") == '(project = SUP) AND request-channel-type = "anonymousportal"'


def test_live_request_channel_from_request_channel_type(httpserver, credentials, live_options, issues,
                                                       no_participants):
    """JSM exposes the channel a request came through as the JQL field ``request-channel-type``
    ("Request channel type"; Atlassian's CustomerRequestChannelSource: portal, anonymousportal, email,
    api, jira — "Backing Issues then can be queried via JQL like request-channel-type = "api""). It is
    neither an issue field of /rest/api/3 nor a field of the servicedeskapi CustomerRequestDTO
    (issueId, issueKey, requestTypeId, currentStatus, requestFieldValues, reporter, participants...),
    so it is read with one search/jql query per mapped value."""
    options = {**live_options, "request_channel": True, "first_response_field": "customfield_10030",
               "resolution_field": "customfield_10031", "request_channel_map": {"jira": "phone"}}
    httpserver.expect_oneshot_request(SEARCH, method="POST", json=channel_body("portal")).respond_with_json(
        key_page("SUP-102"))
    httpserver.expect_oneshot_request(SEARCH, method="POST", json=channel_body("anonymousportal")) \
        .respond_with_json(key_page())
    httpserver.expect_oneshot_request(SEARCH, method="POST", json=channel_body("email")).respond_with_json(
        key_page("SUP-101"))
    httpserver.expect_oneshot_request(SEARCH, method="POST", json=channel_body("jira")).respond_with_json(
        key_page("SUP-105"))
    httpserver.expect_oneshot_request(SEARCH, method="POST", json={
        "jql": JQL, "fields": [*BASE_FIELDS, "customfield_10030", "customfield_10031"], "maxResults": 100,
        "expand": "changelog"}).respond_with_json(
        {"issues": [issues["SUP-101"], issues["SUP-102"], issues["SUP-105"]], "isLast": True})
    tickets = by_id(read_jira(None, options))
    httpserver.check_assertions()
    # emailed -> email (was web before: the channel was never read); portal -> web;
    # raised in Jira by an agent -> phone through the override
    assert {k: t["channel"] for k, t in tickets.items()} == {"SUP-101": "email", "SUP-102": "web", "SUP-105": "phone"}


def test_live_channel_field_wins_and_request_channel_can_be_switched_off(httpserver, credentials, live_options,
                                                                       issues, no_participants):
    """search/jql answers only the main query: with channel_field (or request_channel = false) no
    request-channel-type query is sent."""
    base = {**live_options, "first_response_field": "customfield_10030", "resolution_field": "customfield_10031"}
    httpserver.expect_request(SEARCH, method="POST").respond_with_json({"issues": [issues["SUP-102"]], "isLast": True})
    [(_, _, t)] = read_jira(None, {**base, "request_channel": True, "channel_field": "labels",
                                   "channel_map": {"via-phone": "phone"}})
    assert t["channel"] == "phone"
    [(_, _, t)] = read_jira(None, {**base, "request_channel": False})
    assert t["channel"] == "web"
    assert all("request-channel-type" not in (r.get_data(as_text=True)) for r, _ in httpserver.log)


def test_an_emailed_request_is_flagged_on_a_contract_without_email(cso_workspace, httpserver, credentials, data,
                                                                  issues_for_audit, no_participants):
    """Foundations has no email channel: the request raised by email (request-channel-type = email) is flagged."""
    cso_workspace.contract_file(data / "contract-foundations.toml")
    httpserver.expect_request(SEARCH, method="POST", json=channel_body("email")).respond_with_json(key_page("SUP-101"))
    for value in ("portal", "anonymousportal"):
        httpserver.expect_request(SEARCH, method="POST", json=channel_body(value)).respond_with_json(key_page())
    httpserver.expect_request(SEARCH, method="POST").respond_with_json({"issues": issues_for_audit, "isLast": True})
    cso_workspace.source("jira", base_url=httpserver.url_for("/").rstrip("/"), project="SUP", contract="NW-2026",
                         lob="retail", first_response_field="customfield_10030", resolution_field="customfield_10031")
    result = cso_workspace.audit(plugins=[PLUGIN], as_of=None)
    assert "SUP-101" in result.flagged("entitlement.channel_not_included")


# ------------------------------------------------------------------ 2. truncated changelogs in an export


def test_truncated_embedded_changelog_in_an_export_is_incomplete(load, write_json, options):
    """search/jql with expand=changelog embeds ``changelog: {startAt, maxResults, total, histories[]}``
    holding only the newest entries: total 7 with 2 histories is not the whole history, so the
    opening priority is not guessed."""
    issue = load("search-pages.json")[0]["issues"][0]
    issue["changelog"].update(maxResults=2, total=7)
    [(_, line, obj)] = read_jira(write_json({"issues": [issue]}), options)
    assert line == 1 and isinstance(obj, Incomplete)
    assert obj.record["id"] == "SUP-101" and obj.record["contract"] == "NW-2026" and obj.record["lob"] == "retail"
    assert obj.reason.startswith("Jira issue SUP-101: the changelog has 2 of 7 entries")


def test_truncated_comment_list_in_an_export_is_incomplete_unless_comments_are_unused(load, write_json, options):
    """fields.comment of a search result: ``{comments[], maxResults, total, startAt}``."""
    issue = load("search-pages.json")[0]["issues"][0]
    issue["fields"]["comment"]["total"] = 9
    path = write_json({"issues": [issue]})
    [(_, _, obj)] = read_jira(path, options)
    assert isinstance(obj, Incomplete) and "the comment list has 5 of 9 comments" in obj.reason
    [(_, _, obj)] = read_jira(path, {**options, "updates_from": "none"})
    assert isinstance(obj, dict)


def test_truncated_changelog_through_the_audit_is_an_incomplete_record(cso_workspace, data, load, write_json):
    cso_workspace.contract_file(data / "contract-foundations.toml")
    pages = load("search-pages.json")
    pages[0]["issues"][0]["changelog"]["total"] = 40
    cso_workspace.source("jira", write_json(pages), contract="NW-2026", lob="retail")
    result = cso_workspace.audit(plugins=[PLUGIN], as_of=None)
    assert result.flagged("input.incomplete_record") == ["SUP-101"]
    [inputs] = [i for i in result.report.summary()["inputs"] if i["source"] == "jira"]
    assert (inputs["read"], inputs["counted"], inputs["invalid"], inputs["incomplete"]) == (5, 2, 2, 1)


# ------------------------------------------------------------------ 3. request participants are customers


def test_live_participant_comments_are_no_agent_updates(httpserver, credentials, live_options, issues):
    """GET /rest/servicedeskapi/request/{key}/participant: a PagedDTO (start, limit, isLastPage,
    values[] of UserDTO accountId...); the participant's public comment (jsdPublic true) is a
    customer's, not an update."""
    sup101 = issues["SUP-101"]
    sup101["fields"]["comment"]["comments"].append(participant_comment("2026-02-02T11:30:00.000+0000"))
    sup101["fields"]["comment"]["total"] = 6
    options = {**live_options, "first_response_field": "customfield_10030", "resolution_field": "customfield_10031"}
    httpserver.expect_request(SEARCH, method="POST").respond_with_json({"issues": [sup101], "isLast": True})
    httpserver.expect_oneshot_request("/rest/servicedeskapi/request/SUP-101/participant",
                                      query_string={"start": "0", "limit": "50"}) \
        .respond_with_json(participant_page([PARTICIPANT], last=False))
    httpserver.expect_oneshot_request("/rest/servicedeskapi/request/SUP-101/participant",
                                      query_string={"start": "1", "limit": "50"}) \
        .respond_with_json(participant_page([], start=1))
    [(_, _, ticket)] = read_jira(None, options)
    httpserver.check_assertions()
    assert "2026-02-02T11:30:00.000+00:00" not in ticket["updates"]
    assert ticket["updates"] == ["2026-02-02T09:20:00.000+00:00", "2026-02-02T10:30:00.000+00:00",
                                 "2026-02-02T12:15:00.000+00:00"]


def test_live_issue_that_is_no_request_has_no_participants(httpserver, credentials, live_options, issues):
    """servicedeskapi answers 404 for an issue that is no customer request: no participants, no failure."""
    options = {**live_options, "first_response_field": "customfield_10030", "resolution_field": "customfield_10031"}
    httpserver.expect_request(SEARCH, method="POST").respond_with_json({"issues": [issues["SUP-102"]], "isLast": True})
    httpserver.expect_request(PARTICIPANT_PATH).respond_with_json(
        {"errorMessage": "The request could not be found", "i18nErrorMessage": {}}, status=404)
    [(_, _, ticket)] = read_jira(None, options)
    assert ticket["id"] == "SUP-102"


def test_export_participants_from_the_request_participants_field(load, write_json, options):
    """search/jql with expand=names adds ``names: {fieldId: name}`` to the response (expand=schema adds
    ``schema: {fieldId: {type: array, items: user, custom: com.atlassian.servicedesk:sd-request-participants}}``);
    the Request participants field holds a list of users."""
    page = load("search-pages.json")[0]
    issue = page["issues"][0]
    issue["fields"]["comment"]["comments"].append(participant_comment("2026-02-02T11:30:00.000+0000"))
    issue["fields"]["comment"]["total"] = 6
    issue["fields"]["customfield_10026"] = [{k: v for k, v in PARTICIPANT.items() if k != "_links"}]
    names = {"summary": "Summary", "customfield_10026": "Request participants", "customfield_10030": "Time to first response"}
    schema = {"customfield_10026": {"type": "array", "items": "user",
                                    "custom": "com.atlassian.servicedesk:sd-request-participants", "customId": 10026}}
    late = "2026-02-02T11:30:00.000+00:00"
    # found by name (expand=names), by type (expand=schema), or configured
    for doc, extra in (({"issues": [issue], "names": names}, {}), ({"issues": [issue], "schema": schema}, {}),
                       ({"issues": [issue]}, {"participants_field": "customfield_10026"})):
        [(_, _, ticket)] = read_jira(write_json(doc), {**options, **extra})
        assert late not in ticket["updates"]
    # nothing says which field holds the participants: the comment is counted (documented limitation)
    [(_, _, ticket)] = read_jira(write_json({"issues": [issue]}), options)
    assert late in ticket["updates"]


def test_customer_accounts_are_never_agents(load, write_json, options):
    """User.accountType "customer" is a JSM customer account (portal-only), never an agent."""
    issue = load("search-pages.json")[0]["issues"][0]
    comment = participant_comment("2026-02-02T11:30:00.000+0000")
    comment["author"].update(accountId="qm:77aa-other-customer", accountType="customer")
    issue["fields"]["comment"]["comments"].append(comment)
    issue["fields"]["comment"]["total"] = 6
    path = write_json({"issues": [issue]})
    [(_, _, ticket)] = read_jira(path, options)
    assert "2026-02-02T11:30:00.000+00:00" not in ticket["updates"]
    [(_, _, ticket)] = read_jira(path, {**options, "agent_comments_only": False})
    assert "2026-02-02T11:30:00.000+00:00" in ticket["updates"]


# ------------------------------------------------------------------ 4. every issue read is accounted for


def test_every_issue_read_is_a_record_a_bad_line_or_incomplete(export, options):
    """The adapter leaves no issue out: each issue of the search pages is yielded in its place, so
    the core's summary.inputs accounts for all of them (nothing needs LeftOut today)."""
    triples = list(read_jira(export, options))
    assert len(triples) == 5
    assert all(isinstance(obj, (dict, BadLine, Incomplete)) for _, _, obj in triples)
