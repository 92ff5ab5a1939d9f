"""The servicenow source on the live Table API, against a fake instance on a local server."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from werkzeug.wrappers import Response

import cso_policy_servicenow as plugin
from cso_policy import BadLine, ConfigError, LeftOut
from cso_policy_servicenow import live
from cso_policy_servicenow.options import ServiceNowOptions


def records_of(triples):
    return [obj for _, _, obj in triples]


# the first page of incidents as the core client shows it in messages (query included)
FIRST_PAGE = ("/api/now/table/incident?sysparm_query=ORDERBYsys_created_on&sysparm_display_value=false"
              "&sysparm_limit=2&sysparm_offset=0")


def read_live(options, sleep=None, environ=None):
    return list(live.read_live(ServiceNowOptions.of(options, None), sleep=sleep or (lambda s: None), environ=environ))


def test_live_read_gives_the_records_of_the_export(instance, live_options, options, data_dir, credentials):
    triples = list(plugin.read(None, live_options))
    exported = list(plugin.read(data_dir / "incidents.json", options))
    assert records_of(triples) == records_of(exported)
    label = f"servicenow:{instance.url}/api/now/table/incident"
    # line = the running number in the API stream (the canceled INC0010003, number 3, is left out)
    assert [(file, line) for file, line, _ in triples] == [(label, n) for n in range(1, 7)]
    assert isinstance(triples[2][2], LeftOut) and isinstance(triples[3][2], BadLine)


def test_paging_follows_the_link_header(instance, live_options, credentials):
    list(plugin.read(None, live_options))
    pages = instance.of("incident")
    assert [r.args["sysparm_offset"] for r in pages] == ["0", "2", "4"]  # 6 incidents, 2 a page
    first = pages[0].args
    assert first["sysparm_limit"] == "2"
    assert first["sysparm_query"] == "ORDERBYsys_created_on"
    assert first["sysparm_display_value"] == "false"
    expected = "Basic " + base64.b64encode(b"svc.cso-audit:Tr1cky-Pa55w0rd!").decode()
    assert all(r.headers["Authorization"] == expected for r in pages)
    # journal and audit queries per page of incidents, for that page's sys_ids only, paged too:
    # the first two incidents have 5 comments (3 pages of 2), the others 0 and 1
    journal = instance.of("sys_journal_field")
    assert [r.args["sysparm_offset"] for r in journal] == ["0", "2", "4", "0", "0"]
    assert journal[0].args["sysparm_query"].startswith("name=incident^elementINcomments^element_idIN")
    assert journal[0].args["sysparm_query"].endswith("^ORDERBYsys_created_on")
    assert journal[0].args["sysparm_fields"] == live.JOURNAL_FIELDS  # never the comment text
    audit = instance.of("sys_audit")
    assert audit[0].args["sysparm_query"].startswith("tablename=incident^fieldname=priority^documentkeyIN")


def test_query_option_and_id_chunks(instance, live_options, credentials, export_doc):
    company = export_doc["result"][0]["company"]["value"]
    opts = {**live_options, "query": f"company={company}^active=true", "ids_per_request": 1}
    records = [r for r in records_of(plugin.read(None, opts)) if isinstance(r, dict)]
    assert [r["id"] for r in records] == ["INC0010002"]  # the only active incident that maps cleanly
    query = instance.of("incident")[0].args["sysparm_query"]
    assert query == f"company={company}^active=true^ORDERBYsys_created_on"
    assert all(len(r.args["sysparm_query"].split("element_idIN")[1].split("^")[0].split(",")) == 1
               for r in instance.of("sys_journal_field"))


def test_without_link_header_pages_by_total_count(instance, live_options, credentials):
    instance.link_header = False
    triples = list(plugin.read(None, live_options))
    assert len(triples) == 6
    assert [r.args["sysparm_offset"] for r in instance.of("incident")] == ["0", "2", "4"]


def test_429_waits_for_retry_after(instance, live_options, credentials):
    instance.queue("incident", Response('{"error": {"message": "Too many requests"}}', status=429,
                                        headers={"Retry-After": "7"}, content_type="application/json"))
    instance.queue("sys_audit", Response("", status=503, headers={"Retry-After": "2"}))
    waits = []
    triples = read_live(live_options, sleep=waits.append)
    assert waits == [7.0, 2.0]
    assert len(triples) == 6


def test_429_without_retry_after_backs_off(instance, live_options, credentials):
    for _ in range(2):
        instance.queue("incident", Response("", status=429))
    waits = []
    read_live(live_options, sleep=waits.append)
    assert waits == [1.0, 2.0]


def test_retries_run_out(instance, live_options, credentials, secrets):
    for _ in range(3):
        instance.queue("incident", Response("", status=429, headers={"Retry-After": "1"}))
    waits = []
    with pytest.raises(ConfigError) as info:
        read_live({**live_options, "max_retries": 2}, sleep=waits.append)
    assert waits == [1.0, 1.0]
    assert str(info.value) == f"servicenow: GET {instance.url}{FIRST_PAGE} failed: HTTP 429 TOO MANY REQUESTS after 2 retries"


def test_bad_credentials_name_the_variables_never_the_values(instance, live_options, credentials, secrets, caplog,
                                                             capsys):
    instance.queue("incident", Response(json.dumps({"error": {"message": "User Not Authenticated",
                                                              "detail": "Required to provide Auth information"},
                                                    "status": "failure"}), status=401,
                                        content_type="application/json"))
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfigError) as info:
        list(plugin.read(None, live_options))
    message = str(info.value)
    assert message == (f"servicenow: GET {instance.url}{FIRST_PAGE} failed: HTTP 401 UNAUTHORIZED: User Not "
                       "Authenticated; Required to provide Auth information (check the credentials in user/$SERVICENOW_USER and $SERVICENOW_PASSWORD "
                       "and the user's read access to the table)")
    out = capsys.readouterr()
    for secret in secrets:
        assert secret not in message and secret not in caplog.text and secret not in out.out + out.err
    # no chained HTTP error to print
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)


def test_credential_never_in_records_bad_lines_or_logs(instance, live_options, credentials, secrets, caplog, capsys):
    with caplog.at_level(logging.DEBUG):
        stream = plugin.read(None, live_options)
        triples = list(stream)
    text = repr(triples) + repr(stream) + caplog.text + "".join(capsys.readouterr())
    assert any(isinstance(obj, BadLine) for _, _, obj in triples)
    for secret in secrets:
        assert secret not in text


def test_missing_credentials_are_named(instance, live_options, monkeypatch):
    monkeypatch.delenv("SERVICENOW_USER", raising=False)
    monkeypatch.delenv("SERVICENOW_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match=r"no user: set option user or the environment variable SERVICENOW_USER"):
        plugin.read(None, live_options)
    monkeypatch.setenv("SN_PW", "x")
    with pytest.raises(ConfigError, match=r"servicenow: the environment variable SERVICENOW_PASSWORD is not set"):
        plugin.read(None, {**live_options, "user": "svc"})
    assert instance.requests == []  # nothing was sent


def test_user_option_and_password_env(instance, live_options, monkeypatch):
    monkeypatch.setenv("SN_PW", "pw-from-env")
    list(plugin.read(None, {**live_options, "user": "svc", "password_env": "SN_PW"}))
    header = instance.of("incident")[0].headers["Authorization"]
    assert header == "Basic " + base64.b64encode(b"svc:pw-from-env").decode()


def test_bearer_token(instance, live_options, monkeypatch):
    monkeypatch.setenv("SN_TOKEN", "oauth-token-123")
    list(plugin.read(None, {**live_options, "token_env": "SN_TOKEN"}))
    assert instance.of("incident")[0].headers["Authorization"] == "Bearer oauth-token-123"


def test_next_link_to_another_host_is_not_followed(httpserver, bare_options, credentials, export_doc):
    httpserver.expect_request("/api/now/table/incident").respond_with_json(
        {"result": export_doc["result"][:2]},
        headers={"Link": '<https://evil.example.com/api/now/table/incident?sysparm_offset=2>;rel="next"'},
    )
    httpserver.expect_request("/api/now/table/sys_journal_field").respond_with_json({"result": []})
    httpserver.expect_request("/api/now/table/sys_audit").respond_with_json({"result": []})
    with pytest.raises(ConfigError, match="refusing to send the credentials to another origin than http://localhost:"
                                          r"\d+: URL https://evil.example.com/"):
        list(plugin.read(None, bare_options))
    assert all(r.url.startswith(bare_options["base_url"]) for r, _ in httpserver.log)


def test_redirects_to_another_origin_are_refused(httpserver, bare_options, credentials):
    httpserver.expect_request("/api/now/table/incident").respond_with_response(
        Response("", status=302, headers={"Location": "https://login.example.com/"})
    )
    with pytest.raises(ConfigError, match=r"redirect to another origin refused \(https://login.example.com/\)"):
        list(plugin.read(None, bare_options))
    assert len(httpserver.log) == 1


def test_same_origin_redirect_is_followed(instance, live_options, credentials):
    """The core client follows a redirect within the origin of base_url (the old client refused all)."""
    instance.queue("incident", Response("", status=307, headers={"Location": f"{instance.url}{FIRST_PAGE}"}))
    assert len(read_live(live_options)) == 6
    assert [r.args["sysparm_offset"] for r in instance.of("incident")] == ["0", "0", "2", "4"]


def test_html_answer_is_explained(httpserver, bare_options, credentials):
    httpserver.expect_request("/api/now/table/incident").respond_with_data("<html>Instance hibernating</html>",
                                                                           content_type="text/html")
    with pytest.raises(ConfigError, match="the response is not JSON"):
        list(plugin.read(None, bare_options))


def test_connection_refused(options, credentials):
    waits = []
    with pytest.raises(ConfigError, match=r"servicenow: GET http://127.0.0.1:9/api/now/table/incident\?.* failed after "
                                          "2 retries: NewConnectionError"):
        read_live({**options, "base_url": "http://127.0.0.1:9", "timeout": 5, "max_retries": 2}, sleep=waits.append)
    assert waits == [1.0, 2.0]  # connection errors are retried with backoff too


@pytest.mark.parametrize("url", ["http://acme.service-now.com", "ftp://acme", "acme.service-now.com"])
def test_base_url_must_be_https(options, url, credentials):
    with pytest.raises(ConfigError, match="expected an https URL"):
        plugin.read(None, {**options, "base_url": url})


def test_live_needs_base_url_and_no_export_options(options, credentials):
    with pytest.raises(ConfigError, match=r"\$\.base_url: required to read the live Table API"):
        plugin.read(None, options)
    with pytest.raises(ConfigError, match=r"\$\.journal_path: is for export files"):
        plugin.read(None, {**options, "base_url": "https://acme.service-now.com", "journal_path": "j.json"})


def test_link_and_retry_after_parsing():
    """ServiceNow's Link and Retry-After headers as the core's link_next / retry_after_seconds read them."""
    from datetime import UTC, datetime

    from cso_policy import link_next, retry_after_seconds

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = ('<https://a.service-now.com/api/now/table/incident?sysparm_limit=1&sysparm_offset=0>;rel="first",'
              '<https://a.service-now.com/api/now/table/incident?sysparm_limit=1&sysparm_offset=1>;rel="next",'
              '<https://a.service-now.com/api/now/table/incident?sysparm_limit=1&sysparm_offset=549>;rel="last"')
    assert link_next(header).endswith("sysparm_offset=1")
    assert link_next(header.replace('rel="next"', 'rel="prev"')) is None
    assert link_next(None) is None
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon", now) is None
