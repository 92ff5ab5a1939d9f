"""The live API against a local server (pytest-httpserver) serving Jira Cloud's JSON shapes."""

from __future__ import annotations

import base64
import re
import socket

import pytest
from werkzeug import Response

from cso_policy import BadLine, ConfigError
from cso_policy_jira import read_jira
from cso_policy_jira.reader import BASE_FIELDS

SEARCH = "/rest/api/3/search/jql"
JQL = 'project = "SUP" ORDER BY created ASC'
SLA_FIELDS = ["customfield_10030", "customfield_10031"]


def basic(email, token) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


def search_body(fields, token=None, jql=JQL, page_size=100):
    body = {"jql": jql, "fields": [*BASE_FIELDS, *fields], "maxResults": page_size, "expand": "changelog"}
    if token:
        body["nextPageToken"] = token
    return body


class Sleeps(list):
    """An injectable sleep that records the delays instead of waiting."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def issues(load):
    """SUP-101, SUP-102, SUP-105 of the export fixture, as the search API returns them."""
    pages = load("search-pages.json")
    by_key = {i["key"]: i for page in pages for i in page["issues"]}
    return by_key


def test_pages_through_search_and_completes_changelog_and_comments(httpserver, credentials, live_options, load, issues,
                                                                    no_participants):
    sup101 = issues["SUP-101"]
    # the search embeds a truncated changelog and comment list: both are read in full
    sup101["changelog"] = {"startAt": 0, "maxResults": 0, "total": 7, "histories": []}
    sup101["fields"]["comment"] = {"comments": sup101["fields"]["comment"]["comments"][:1],
                                   "maxResults": 1, "total": 4, "startAt": 0}
    httpserver.expect_oneshot_request("/rest/api/3/field", method="GET").respond_with_json(load("field-list.json"))
    httpserver.expect_oneshot_request(SEARCH, method="POST", json=search_body(SLA_FIELDS)).respond_with_json(
        {"issues": [sup101, issues["SUP-102"]], "nextPageToken": "CAEaAggD", "isLast": False})
    httpserver.expect_oneshot_request(SEARCH, method="POST", json=search_body(SLA_FIELDS, "CAEaAggD")).respond_with_json(
        {"issues": [issues["SUP-105"]], "isLast": True})
    changelog = "/rest/api/3/issue/SUP-101/changelog"
    httpserver.expect_oneshot_request(changelog, method="GET", query_string={"startAt": "0", "maxResults": "100"}) \
        .respond_with_json(load("changelog-SUP-101-page1.json"))
    httpserver.expect_oneshot_request(changelog, method="GET", query_string={"startAt": "4", "maxResults": "100"}) \
        .respond_with_json(load("changelog-SUP-101-page2.json"))
    httpserver.expect_oneshot_request("/rest/api/3/issue/SUP-101/comment", method="GET",
                                      query_string={"orderBy": "created", "startAt": "0", "maxResults": "100"}) \
        .respond_with_json(load("comments-SUP-101.json"))

    triples = list(read_jira(None, live_options, sleep=Sleeps()))

    httpserver.check_assertions()
    where = f"jira:{live_options['base_url']}{SEARCH}"
    assert [(file, line, obj["id"]) for file, line, obj in triples] == [
        (where, 1, "SUP-101"), (where, 2, "SUP-102"), (where, 3, "SUP-105")]
    sup101 = triples[0][2]
    assert sup101["severity"] == "P2"  # High at opening (from the full changelog)
    assert sup101["severity_changes"] == [
        {"at": "2026-02-02T09:10:00.000+00:00", "severity": "P1"},
        {"at": "2026-02-02T11:00:00.000+00:00", "severity": "P3"},
    ]
    assert sup101["updates"] == ["2026-02-02T09:20:00.000+00:00", "2026-02-02T11:00:00.000+00:00",
                                 "2026-02-02T12:00:00.000+00:00", "2026-02-02T13:00:00.000+00:00"]
    assert sup101["first_response_at"] == "2026-02-02T09:20:00+00:00"
    assert triples[1][2]["resolved_at"] is None
    # every request carried basic auth with the email and token from the environment
    # 2 searches, the field list, 2 changelog pages, 1 comment page, and each request's participants (3)
    assert len(httpserver.log) == 9
    assert {request.headers.get("Authorization") for request, _ in httpserver.log} == {basic(*credentials)}


def test_429_is_retried_after_retry_after(httpserver, credentials, live_options, issues, no_participants):
    options = {**live_options, "first_response_field": "customfield_10030", "resolution_field": "customfield_10031"}
    httpserver.expect_ordered_request(SEARCH, method="POST").respond_with_response(
        Response('{"errorMessages": ["Rate limit exceeded."]}', status=429,
                 headers={"Retry-After": "7", "Content-Type": "application/json"}))
    httpserver.expect_ordered_request(SEARCH, method="POST", json=search_body(SLA_FIELDS)).respond_with_json(
        {"issues": [issues["SUP-102"]]})
    sleeps, lines = Sleeps(), []
    triples = list(read_jira(None, options, sleep=sleeps, progress=lines.append))
    httpserver.check_assertions()
    assert sleeps == [7.0]
    assert len(lines) == 1 and lines[0].startswith("jira: rate limited, waiting 7 s")
    assert [obj["id"] for _, _, obj in triples] == ["SUP-102"]


def test_429_gives_up_after_max_retries(httpserver, credentials, live_options):
    options = {**live_options, "first_response_from": "comment", "resolved_from": "resolutiondate", "max_retries": 2}
    httpserver.expect_request(SEARCH, method="POST").respond_with_response(
        Response("", status=429, headers={"Retry-After": "30"}))
    sleeps = Sleeps()
    with pytest.raises(ConfigError, match=r"HTTP 429 .* after 2 retries"):
        list(read_jira(None, options, sleep=sleeps, progress=lambda line: None))
    assert sleeps == [30.0, 30.0]


def test_429_without_retry_after_and_5xx_back_off(httpserver, credentials, live_options, issues):
    # the search is read-only: its POST is retried like a GET (1, 2, 4... s without Retry-After)
    options = {**live_options, "first_response_from": "comment", "resolved_from": "resolutiondate"}
    httpserver.expect_ordered_request(SEARCH, method="POST").respond_with_response(Response("", status=429))
    httpserver.expect_ordered_request(SEARCH, method="POST").respond_with_response(Response("", status=502))
    httpserver.expect_ordered_request(SEARCH, method="POST").respond_with_json({"issues": []})
    sleeps = Sleeps()
    assert list(read_jira(None, options, sleep=sleeps, progress=lambda line: None)) == []
    httpserver.check_assertions()
    assert sleeps == [1.0, 2.0]


def test_a_retry_after_beyond_max_retry_wait_stops_the_run(httpserver, credentials, live_options):
    options = {**live_options, "first_response_from": "comment", "resolved_from": "resolutiondate",
               "max_retry_wait": 60}
    httpserver.expect_request(SEARCH, method="POST").respond_with_response(
        Response("", status=429, headers={"Retry-After": "600"}))
    sleeps = Sleeps()
    with pytest.raises(ConfigError, match=r"^jira: POST .*/rest/api/3/search/jql: rate limited; the server asks "
                                          r"to wait 600 s .* more than max_retry_wait = 60 s"):
        list(read_jira(None, options, sleep=sleeps))
    assert sleeps == []


def test_an_issue_that_is_no_service_request_has_no_participants(httpserver, credentials, live_options, issues):
    # agent_comments_only without participants_field: each issue's participants are read; 404 means none
    options = {**live_options, "first_response_from": "comment", "resolved_from": "resolutiondate"}
    sup101 = issues["SUP-101"]
    httpserver.expect_request(SEARCH, method="POST").respond_with_json({"issues": [sup101]})
    httpserver.expect_request(re.compile(r"^/rest/servicedeskapi/request/SUP-101/participant$")).respond_with_json(
        {"errorMessages": ["Request does not exist"]}, status=404)
    for path in ("/rest/api/3/issue/SUP-101/changelog", "/rest/api/3/issue/SUP-101/comment"):
        httpserver.expect_request(path).respond_with_json({"values": [], "comments": [], "isLast": True})
    triples = list(read_jira(None, options))
    assert [obj["id"] for _, _, obj in triples] == ["SUP-101"]
    assert any(r.path.endswith("/participant") for r, _ in httpserver.log)


def test_jql_option_is_sent_as_is_and_an_empty_result_is_fine(httpserver, credentials, live_options):
    jql = 'project = SUP AND created >= "2026-01-01" ORDER BY created ASC'
    options = {**live_options, "jql": jql, "first_response_from": "comment", "resolved_from": "resolutiondate",
               "page_size": 50}
    httpserver.expect_oneshot_request(SEARCH, method="POST", json=search_body([], jql=jql, page_size=50)) \
        .respond_with_json({"issues": []})
    assert list(read_jira(None, options)) == []
    httpserver.check_assertions()


def test_repeated_page_token_stops_instead_of_looping(httpserver, credentials, live_options, issues, no_participants):
    options = {**live_options, "first_response_field": "customfield_10030", "resolution_field": "customfield_10031"}
    httpserver.expect_request(SEARCH, method="POST").respond_with_json(
        {"issues": [issues["SUP-102"]], "nextPageToken": "same"})
    with pytest.raises(ConfigError, match="same nextPageToken came back twice"):
        list(read_jira(None, options))


def test_site_without_the_first_response_sla(httpserver, credentials, live_options, load):
    fields = [f for f in load("field-list.json") if f["name"] != "Time to first response"]
    httpserver.expect_request("/rest/api/3/field").respond_with_json(fields)
    with pytest.raises(ConfigError, match="has no field named 'Time to first response'; set first_response_field"):
        list(read_jira(None, live_options))


def test_missing_token_is_a_config_error_naming_the_variable(monkeypatch, httpserver, live_options):
    monkeypatch.delenv("JIRA_API_TOKEN", raising=False)
    monkeypatch.setenv("JIRA_EMAIL", "auditor@northwind.example")
    with pytest.raises(ConfigError, match="environment variable JIRA_API_TOKEN"):
        read_jira(None, live_options)
    monkeypatch.setenv("SUP_TOKEN", "x")
    monkeypatch.delenv("JIRA_EMAIL")
    with pytest.raises(ConfigError, match="JIRA_EMAIL"):
        read_jira(None, {**live_options, "token_env": "SUP_TOKEN"})
    assert httpserver.log == []


def test_email_option_and_custom_token_variable(httpserver, monkeypatch, live_options):
    monkeypatch.setenv("SUP_TOKEN", "tok-123")
    options = {**live_options, "email": "ops@northwind.example", "token_env": "SUP_TOKEN",
               "first_response_from": "comment", "resolved_from": "resolutiondate"}
    httpserver.expect_request(SEARCH, method="POST",
                              headers={"Authorization": basic("ops@northwind.example", "tok-123")}) \
        .respond_with_json({"issues": []})
    assert list(read_jira(None, options)) == []
    httpserver.check_assertions()


def test_connection_refused_is_a_config_error(credentials, options):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    live = {**options, "base_url": f"http://127.0.0.1:{port}", "project": "SUP", "first_response_from": "comment",
            "resolved_from": "resolutiondate", "timeout": 5, "max_retries": 2}
    sleeps = Sleeps()
    with pytest.raises(ConfigError, match=rf"^jira: POST http://127\.0\.0\.1:{port}/rest/api/3/search/jql failed "
                                          r"after 2 retries: NewConnectionError"):
        list(read_jira(None, live, sleep=sleeps, progress=lambda line: None))
    assert sleeps == [1.0, 2.0]


def test_the_credentials_never_appear_in_errors_records_or_output(httpserver, credentials, live_options, issues,
                                                                   capsys, caplog, no_participants):
    email, token = credentials
    secrets = [token, f"{email}:{token}", base64.b64encode(f"{email}:{token}".encode()).decode()]
    options = {**live_options, "first_response_field": "customfield_10030", "resolution_field": "customfield_10031"}
    bad = issues["SUP-103"]  # an unknown priority: a BadLine
    httpserver.expect_ordered_request(SEARCH, method="POST").respond_with_json({"issues": [issues["SUP-101"], bad]})
    triples = list(read_jira(None, options))
    assert isinstance(triples[1][2], BadLine)
    text = repr(triples)

    # an error response that echoes the credentials back
    httpserver.clear()
    httpserver.expect_request(SEARCH, method="POST").respond_with_json(
        {"errorMessages": [f"Bad token {token} for {email}:{token}", f"header Basic {secrets[2]}"]}, status=401)
    with pytest.raises(ConfigError) as info:
        list(read_jira(None, options))
    message = str(info.value)
    assert "HTTP 401" in message and "check $JIRA_API_TOKEN and $JIRA_EMAIL" in message and "***" in message
    out, err = capsys.readouterr()
    for secret in secrets:
        assert secret not in text
        assert secret not in message
        assert secret not in out + err + caplog.text
