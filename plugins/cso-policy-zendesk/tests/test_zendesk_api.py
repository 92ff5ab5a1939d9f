"""The live API against a local server (pytest-httpserver) answering with the real API's
shapes: cursor pagination of the ticket export, time-based pagination of the metric events,
HTTP 429 with Retry-After (the sleep is injected: the test does not wait), audits, errors.
Nothing here reaches the network."""

from __future__ import annotations

import base64
import json

import pytest
from werkzeug import Response

from cso_policy import ConfigError

TOKEN = "zd-s3cr3t-T0KEN-9f8e7d"
EMAIL = "audit@acme.example"
START = 1772323200  # 2026-03-01T00:00:00Z
TICKETS = "/api/v2/incremental/tickets/cursor.json"
EVENTS = "/api/v2/incremental/ticket_metric_events"
TICKET_EVENTS = "/api/v2/incremental/ticket_events"
AUTH = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()


@pytest.fixture
def env():
    return {"ZENDESK_API_TOKEN": TOKEN, "ZENDESK_EMAIL": EMAIL}


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def options(httpserver):
    return {"contract": "NW-2026", "lob": "retail", "url": httpserver.url_for("/").rstrip("/"),
            "start_time": START}


@pytest.fixture
def live(read_all, env, sleeps):
    def run(options, **kw):
        return read_all(None, options, sleep=sleeps.append, env=kw.pop("env", env), **kw)

    return run


def _ticket(ticket, id, created, **kw):
    return ticket(id, created_at=created, updated_at="2026-03-10T00:00:00Z", **kw)


def serve_export(httpserver, ticket, *, rate_limit: bool = True):
    """Two ticket pages (cursor), a 429 on the second, two metric event pages (next_page)."""
    old = _ticket(ticket, 1, "2026-02-20T10:00:00Z")  # created before start_time, updated since
    t2 = _ticket(ticket, 2, "2026-03-02T14:00:00Z", priority="urgent", status="solved")
    t3 = _ticket(ticket, 3, "2026-03-03T09:00:00Z", priority="high", via={"channel": "voice", "source": {}})
    t2_again = dict(t2, updated_at="2026-03-11T00:00:00Z", subject="updated while exporting")
    base = httpserver.url_for("/").rstrip("/")
    page1 = {
        "tickets": [old, t2],
        "metric_sets": [{"id": 92, "ticket_id": 2, "solved_at": "2026-03-02T20:00:00Z", "reopens": 0}],
        "after_url": f"{base}{TICKETS}?cursor=MTc3MjQ0MDAwMC4wfHwyfA%3D%3D",
        "after_cursor": "MTc3MjQ0MDAwMC4wfHwyfA==",
        "before_url": None, "before_cursor": None,
        "end_of_stream": False,
    }
    page2 = {
        "tickets": [t3, t2_again],
        "metric_sets": [{"id": 93, "ticket_id": 3, "solved_at": None}],
        "after_url": f"{base}{TICKETS}?cursor=MTc3MjUyODQwMC4wfHwzfA%3D%3D",
        "after_cursor": "MTc3MjUyODQwMC4wfHwzfA==",
        "before_url": None, "before_cursor": None,
        "end_of_stream": True,
    }
    events1 = {
        "ticket_metric_events": [
            {"id": 1, "ticket_id": 2, "metric": "reply_time", "instance_id": 1, "type": "activate", "time": "2026-03-02T14:00:00Z"},
            {"id": 2, "ticket_id": 2, "metric": "reply_time", "instance_id": 1, "type": "fulfill", "time": "2026-03-02T14:20:00Z"},
        ],
        "next_page": f"{base}{EVENTS}.json?start_time=1772445600",
        "count": 2, "end_time": 1772445600, "end_of_stream": False,
    }
    events2 = {
        "ticket_metric_events": [
            {"id": 3, "ticket_id": 2, "metric": "periodic_update_time", "instance_id": 1, "type": "fulfill", "time": "2026-03-02T16:00:00Z"},
            {"id": 4, "ticket_id": 3, "metric": "reply_time", "instance_id": 1, "type": "fulfill", "time": "2026-03-03T09:40:00Z"},
            {"id": 5, "ticket_id": 1, "metric": "reply_time", "instance_id": 2, "type": "fulfill", "time": "2026-03-03T10:00:00Z"},
        ],
        "next_page": f"{base}{EVENTS}.json?start_time=1772531000",
        "count": 3, "end_time": 1772531000, "end_of_stream": True,
    }
    # the incremental ticket event export (without comments here): each ticket's Create events
    history = {
        "ticket_events": [
            {"id": 71, "ticket_id": 2, "timestamp": 1772460000, "created_at": "2026-03-02T14:00:00Z", "updater_id": 9001,
             "via": "Web form", "event_type": "Audit", "merged_ticket_ids": [], "child_events": [
                 {"id": 711, "via": "Web form", "via_reference_id": None, "priority": "urgent", "event_type": "Create"}]},
            {"id": 72, "ticket_id": 3, "timestamp": 1772528400, "created_at": "2026-03-03T09:00:00Z", "updater_id": 9001,
             "via": "Voice", "event_type": "Audit", "merged_ticket_ids": [], "child_events": [
                 {"id": 721, "via": "Voice", "via_reference_id": None, "priority": "high", "event_type": "Create"}]},
        ],
        "next_page": f"{base}{TICKET_EVENTS}.json?start_time=1772528400", "count": 2, "end_time": 1772528400,
        "end_of_stream": True,
    }
    auth = {"Authorization": AUTH}
    httpserver.expect_request(TICKET_EVENTS, query_string={"start_time": str(START), "include": "comment_events"},
                              headers=auth).respond_with_json(history)
    httpserver.expect_request(TICKETS, query_string={"start_time": str(START), "include": "metric_sets"},
                              headers=auth).respond_with_json(page1)
    cursor_q = {"cursor": page1["after_cursor"], "include": "metric_sets"}
    if rate_limit:
        httpserver.expect_oneshot_request(TICKETS, query_string=cursor_q, headers=auth).respond_with_response(
            Response(json.dumps({"error": "APIRateLimitExceeded"}), status=429, headers={"Retry-After": "7"},
                     content_type="application/json"))
    httpserver.expect_request(TICKETS, query_string=cursor_q, headers=auth).respond_with_json(page2)
    httpserver.expect_request(EVENTS, query_string={"start_time": str(START)}, headers=auth).respond_with_json(events1)
    httpserver.expect_request(f"{EVENTS}.json", query_string={"start_time": "1772445600"},
                              headers=auth).respond_with_json(events2)


def test_pages_are_followed_and_a_429_waits_retry_after(httpserver, ticket, live, options, sleeps, by_id):
    serve_export(httpserver, ticket)
    out = live(options)
    assert sleeps == [7.0]  # Retry-After: 7, then the same page again
    records = by_id(out)
    assert sorted(records) == ["2", "3"]  # ticket 1 was created before start_time
    t2, t3 = records["2"], records["3"]
    assert (t2["severity"], t2["first_response_at"], t2["updates"], t2["resolved_at"]) == (
        "P1", "2026-03-02T14:20:00+00:00", ["2026-03-02T16:00:00+00:00"], "2026-03-02T20:00:00+00:00")
    assert t2["subject"] == "updated while exporting"  # the latest copy of a repeated ticket
    assert (t3["severity"], t3["channel"], t3["first_response_at"], t3["resolved_at"]) == (
        "P2", "phone", "2026-03-03T09:40:00+00:00", None)
    label = f"zendesk:{options['url']}{TICKETS}"
    # running numbers of the tickets read (1: ticket 2's first copy, replaced by its later one)
    assert [(f, n, o["id"]) for f, n, o in out if isinstance(o, dict)] == [(label, 2, "3"), (label, 3, "2")]
    httpserver.check_assertions()


def test_requests_carry_basic_auth_with_the_api_token(httpserver, ticket, live, options):
    serve_export(httpserver, ticket, rate_limit=False)
    live(options)
    assert all(req.headers.get("Authorization") == AUTH for req, _ in httpserver.log)
    assert len(httpserver.log) == 5  # 2 ticket pages, 2 metric event pages, 1 ticket event page


def test_email_option_instead_of_email_env(httpserver, ticket, live, options):
    serve_export(httpserver, ticket, rate_limit=False)
    out = live({**options, "email": EMAIL}, env={"ZENDESK_API_TOKEN": TOKEN})
    assert len([o for _, _, o in out if isinstance(o, dict)]) == 2


def test_custom_token_env_name(httpserver, ticket, live, options):
    serve_export(httpserver, ticket, rate_limit=False)
    out = live({**options, "token_env": "ACME_ZD_TOKEN"}, env={"ACME_ZD_TOKEN": TOKEN, "ZENDESK_EMAIL": EMAIL})
    assert len([o for _, _, o in out if isinstance(o, dict)]) == 2


def test_rate_limit_that_never_ends_stops_after_max_retries(httpserver, live, options, sleeps):
    httpserver.expect_request(TICKETS).respond_with_response(
        Response("{}", status=429, headers={"Retry-After": "30"}, content_type="application/json"))
    with pytest.raises(ConfigError, match=r"HTTP 429 .* after 2 retries"):
        live({**options, "max_retries": 2})
    assert sleeps == [30.0, 30.0]


def test_503_with_retry_after_is_retried(httpserver, live, options, sleeps):
    httpserver.expect_oneshot_request(TICKETS).respond_with_response(
        Response("maintenance", status=503, headers={"Retry-After": "2"}))
    httpserver.expect_request(TICKETS).respond_with_json({"tickets": [], "after_cursor": None, "end_of_stream": True})
    assert live(options) == []
    assert sleeps == [2.0]


def test_429_without_retry_after_backs_off(httpserver, live, options, sleeps):
    # (Retry-After as seconds or an HTTP date is read by cso-policy's HttpClient, tested there)
    httpserver.expect_oneshot_request(TICKETS).respond_with_response(Response("{}", status=429))
    httpserver.expect_request(TICKETS).respond_with_json({"tickets": [], "after_cursor": None, "end_of_stream": True})
    assert live(options) == []
    assert sleeps == [1.0]


def test_a_retry_after_longer_than_max_retry_wait_stops(httpserver, live, options, sleeps):
    httpserver.expect_request(TICKETS).respond_with_response(
        Response("{}", status=429, headers={"Retry-After": "600"}, content_type="application/json"))
    with pytest.raises(ConfigError, match=r"wait 600 s .*more than max_retry_wait = 120 s"):
        live({**options, "max_retry_wait": 120})
    assert sleeps == []


def test_the_credential_never_appears_in_errors_or_output(httpserver, live, options, ticket, capsys):
    # a server that echoes what it got, credentials included, in a 401
    def echo(request):
        return Response(json.dumps({"error": "Couldn't authenticate you", "got": request.headers.get("Authorization"),
                                    "token": TOKEN}), status=401, content_type="application/json")

    httpserver.expect_request(TICKETS).respond_with_handler(echo)
    with pytest.raises(ConfigError) as info:
        live(options)
    message = str(info.value)
    assert "HTTP 401" in message and "Couldn't authenticate you" in message
    encoded = AUTH.split()[1]
    assert TOKEN not in message and encoded not in message
    assert TOKEN not in repr(info.value.__cause__) and info.value.__cause__ is None
    httpserver.clear()
    # ...and not in records or BadLines either (a ticket that cannot be mapped)
    bad = _ticket(ticket, 5, "2026-03-05T00:00:00Z", priority="blocker")
    httpserver.expect_request(TICKETS).respond_with_json({"tickets": [bad], "end_of_stream": True})
    httpserver.expect_request(EVENTS).respond_with_json({"ticket_metric_events": [], "end_of_stream": True})
    httpserver.expect_request(TICKET_EVENTS).respond_with_json({"ticket_events": [], "end_of_stream": True})
    out = live(options)
    assert len(out) == 1 and "blocker" in out[0][2].reason
    captured = capsys.readouterr()
    for text in (repr(out), captured.out, captured.err):
        assert TOKEN not in text and encoded not in text


def test_a_missing_token_names_the_variable_not_a_value(live, options):
    with pytest.raises(ConfigError, match="environment variable ZENDESK_API_TOKEN is not set"):
        live(options, env={"ZENDESK_EMAIL": EMAIL})
    with pytest.raises(ConfigError, match="no API user: set the email option or the environment variable ZENDESK_EMAIL"):
        live(options, env={"ZENDESK_API_TOKEN": TOKEN})


@pytest.mark.parametrize("change, message", [
    ({"url": None, "start_time": START},
     "$.url: required (or subdomain) to read the live API (a [[records]] entry without path)"),
    ({"start_time": None}, "$.start_time: required to read the live API (the earliest ticket creation time to read)"),
    ({"url": "http://acme.zendesk.com"},
     "$.url: expected https (the credentials must not travel in clear), got 'http://acme.zendesk.com'"),
    ({"subdomain": "acme"}, "$.url: give url or subdomain, not both"),
    ({"start_time": "last week"}, "$.start_time: expected a unix time, a date or an ISO 8601 timestamp, got 'last week'"),
    ({"token_env": "my token"},
     "$.token_env: expected the NAME of an environment variable (upper case, like ZENDESK_API_TOKEN), not its value"),
    ({"history": "comments"}, "$.history: expected one of ticket_events, audits, none, got 'comments'"),
    ({"max_retries": -1}, "$.max_retries: expected a non-negative integer, got -1"),
])
def test_live_options_are_checked(option_error, options, change, message):
    opts = {k: v for k, v in {**options, **change}.items() if v is not None}
    assert option_error(None, opts) == f"records zendesk (source zendesk) {message}"


@pytest.mark.parametrize("change", [
    {"token_env": TOKEN},  # the token pasted where its variable's name goes
    {"url": f"https://audit%40acme.example:{TOKEN}@acme.zendesk.com"},
])
def test_a_secret_in_the_options_is_refused_without_echoing_it(option_error, options, change):
    message = option_error(None, {**options, **change})
    assert TOKEN not in message
    assert ("$.token_env: expected the NAME" in message) or ("$.url: must not hold a user or password" in message)


def test_a_next_page_on_another_host_is_refused(httpserver, live, options):
    httpserver.expect_request(TICKETS).respond_with_json(
        {"tickets": [], "after_url": "https://evil.example/api/v2/incremental/tickets/cursor.json?cursor=x",
         "after_cursor": None, "end_of_stream": False})
    with pytest.raises(ConfigError, match="refusing to send the credentials to another origin"):
        live(options)


def test_a_redirect_to_another_host_is_not_followed(httpserver, live, options):
    other = httpserver.url_for("/elsewhere").replace("localhost", "127.0.0.1")
    httpserver.expect_request(TICKETS).respond_with_response(Response("", status=302, headers={"Location": other}))
    httpserver.expect_request("/elsewhere").respond_with_json({"tickets": [], "end_of_stream": True})
    with pytest.raises(ConfigError, match="redirect to another origin refused"):
        live(options)
    assert [req.path for req, _ in httpserver.log] == [TICKETS]


def test_audits_fetched_per_ticket(httpserver, ticket, live, options, by_id):
    t = _ticket(ticket, 8, "2026-03-04T08:00:00Z", priority="urgent", requester_id=9002)
    httpserver.expect_request(TICKETS).respond_with_json({"tickets": [t], "end_of_stream": True})
    httpserver.expect_request(EVENTS).respond_with_json({"ticket_metric_events": [
        {"id": 1, "ticket_id": 8, "metric": "reply_time", "instance_id": 1, "type": "fulfill", "time": "2026-03-04T09:00:00Z"},
    ], "end_of_stream": True})
    audits_page1 = {
        "audits": [
            {"id": 1, "ticket_id": 8, "created_at": "2026-03-04T08:00:00Z", "author_id": 9002, "events": [
                {"id": 11, "type": "Comment", "author_id": 9002, "public": True, "body": "help"},
                {"id": 12, "type": "Create", "field_name": "priority", "value": "normal"}]},
            {"id": 2, "ticket_id": 8, "created_at": "2026-03-04T09:00:00Z", "author_id": 7002, "events": [
                {"id": 21, "type": "Comment", "author_id": 7002, "public": True, "body": "on it"}]},
        ],
        "users": [{"id": 9002, "role": "end-user"}, {"id": 7002, "role": "agent"}],
        "meta": {"has_more": True, "after_cursor": "xyz"},
        "links": {"next": httpserver.url_for("/api/v2/tickets/8/audits.json") + "?include=users&page%5Bafter%5D=xyz"},
    }
    audits_page2 = {
        "audits": [
            {"id": 3, "ticket_id": 8, "created_at": "2026-03-04T10:00:00Z", "author_id": 7002, "events": [
                {"id": 31, "type": "Change", "field_name": "priority", "value": "urgent", "previous_value": "normal"},
                {"id": 32, "type": "Comment", "author_id": 7002, "public": True, "body": "raised"}]},
        ],
        "users": [{"id": 7002, "role": "agent"}],
        "meta": {"has_more": False, "after_cursor": None},
        "links": {"next": None},
    }
    httpserver.expect_request("/api/v2/tickets/8/audits.json", query_string={"include": "users"}).respond_with_json(audits_page1)
    httpserver.expect_request("/api/v2/tickets/8/audits.json",
                              query_string={"include": "users", "page[after]": "xyz"}).respond_with_json(audits_page2)
    r = by_id(live({**options, "fetch_audits": True}))["8"]
    assert r["severity"] == "P3"
    assert r["severity_changes"] == [{"at": "2026-03-04T10:00:00+00:00", "severity": "P1"}]
    assert r["first_response_at"] == "2026-03-04T09:00:00+00:00"
    assert r["updates"] == ["2026-03-04T10:00:00+00:00"]


def test_no_tickets_means_no_metric_event_requests(httpserver, live, options):
    httpserver.expect_request(TICKETS).respond_with_json({"tickets": [], "end_of_stream": True})
    assert live(options) == []
    assert [req.path for req, _ in httpserver.log] == [TICKETS]


def test_an_export_that_does_not_end_is_an_error(httpserver, live, options):
    httpserver.expect_request(TICKETS).respond_with_json({"tickets": [], "end_of_stream": False})
    with pytest.raises(ConfigError, match="end_of_stream is not true but there is no after_cursor"):
        live(options)


def test_a_non_json_answer_is_an_error(httpserver, live, options):
    httpserver.expect_request(TICKETS).respond_with_data("<html>maintenance</html>", content_type="text/html")
    with pytest.raises(ConfigError, match="the response is not JSON"):
        live(options)
