"""cso_policy.toolkit.http against a real local server (pytest-httpserver): no network."""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from werkzeug import Response as WResponse

import cso_policy
from cso_policy import ConfigError, HttpClient, credentials_from_env, link_next, redact, retry_after_seconds

NOW = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)


class Recorder:
    def __init__(self):
        self.slept: list[float] = []
        self.lines: list[str] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def progress(self, line: str) -> None:
        self.lines.append(line)


@pytest.fixture
def rec():
    return Recorder()


def client(server, rec, **kw) -> HttpClient:
    kw.setdefault("basic", ("ann@example.com", "s3cr3t-token"))
    return HttpClient(server.url_for("/"), name="acme", sleep=rec.sleep, progress=rec.progress,
                      now=lambda: NOW, **kw)


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    assert "s3cr3t-token" not in text
    return text


# ---------------------------------------------------------------- requests


def test_get_json_sends_basic_auth_and_user_agent(httpserver, rec):
    expected = "Basic " + base64.b64encode(b"ann@example.com:s3cr3t-token").decode()
    httpserver.expect_oneshot_request(
        "/api/items", query_string="page=1",
        headers={"Authorization": expected, "User-Agent": f"cso-policy/{cso_policy.__version__} (acme)",
                 "Accept": "application/json"},
    ).respond_with_json({"items": [1, 2]}, headers={"X-Total-Count": "2"})
    got = client(httpserver, rec).get_json("/api/items", {"page": 1})
    assert got.status == 200
    assert got.json == {"items": [1, 2]}
    assert got.headers["x-total-count"] == "2" and got.headers["X-TOTAL-COUNT"] == "2"
    assert got.url == httpserver.url_for("/api/items?page=1")
    assert rec.slept == [] and rec.lines == []
    httpserver.check_assertions()


def test_bearer_token_goes_in_the_header(httpserver, rec):
    httpserver.expect_oneshot_request("/x", headers={"Authorization": "Bearer tok-123"}).respond_with_json([])
    assert client(httpserver, rec, basic=None, bearer="tok-123").get_json("x").json == []
    assert "tok-123" not in repr(client(httpserver, rec, basic=None, bearer="tok-123"))


# ---------------------------------------------------------------- retries


def test_429_waits_retry_after_then_succeeds(httpserver, rec):
    httpserver.expect_ordered_request("/t").respond_with_json({"error": "slow down"}, status=429,
                                                              headers={"Retry-After": "2"})
    httpserver.expect_ordered_request("/t").respond_with_json({"ok": True})
    got = client(httpserver, rec).get_json("/t")
    assert got.json == {"ok": True}
    assert rec.slept == [2.0]
    assert rec.lines == ["acme: rate limited, waiting 2 s (until 14:00 UTC)"]


def test_long_retry_after_is_reported_with_the_ceiling(httpserver, rec):
    httpserver.expect_request("/t").respond_with_data(
        "", status=429, headers={"Retry-After": format_datetime(NOW + timedelta(minutes=30), usegmt=True)})
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec, max_retry_wait=600).get_json("/t")
    text = one_line(exc)
    assert "1800 s (until 14:30 UTC)" in text
    assert "max_retry_wait = 600 s" in text
    assert rec.slept == []


def test_503_without_retry_after_backs_off_then_succeeds(httpserver, rec):
    for _ in range(2):
        httpserver.expect_ordered_request("/t").respond_with_data("down", status=503)
    httpserver.expect_ordered_request("/t").respond_with_json({"ok": 1})
    assert client(httpserver, rec).get_json("/t").json == {"ok": 1}
    assert rec.slept == [1.0, 2.0]
    assert rec.lines == ["acme: HTTP 503, retrying in 1 s (1 of 5)", "acme: HTTP 503, retrying in 2 s (2 of 5)"]


def test_retries_run_out_with_one_line(httpserver, rec):
    httpserver.expect_request("/t").respond_with_data("boom", status=500)
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec, retries=3).get_json("/t")
    assert re.fullmatch(r"acme: GET http://localhost:\d+/t failed: HTTP 500 INTERNAL SERVER ERROR after 3 retries",
                        one_line(exc))
    assert rec.slept == [1.0, 2.0, 4.0]


def test_connection_errors_back_off_then_fail(rec):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = HttpClient(f"http://127.0.0.1:{port}", name="acme", retries=2, sleep=rec.sleep, progress=rec.progress,
                   bearer="s3cr3t-token")
    with pytest.raises(ConfigError) as exc:
        c.get_json("/t")
    assert one_line(exc).startswith(f"acme: GET http://127.0.0.1:{port}/t failed after 2 retries: ")
    assert rec.slept == [1.0, 2.0]


# ---------------------------------------------------------------- failures


def test_404_is_one_line_with_status_detail_and_redacted_url(httpserver, rec):
    httpserver.expect_request("/api/issue").respond_with_json(
        {"errorMessages": ["Issue does not exist"]}, status=404)
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec).get_json("/api/issue?api_token=secret&x=1")
    text = one_line(exc)
    assert "secret" not in text
    assert re.fullmatch(r"acme: GET http://localhost:\d+/api/issue\?api_token=\*\*\*&x=1 failed: "
                        r"HTTP 404 NOT FOUND: Issue does not exist", text), text


def test_401_names_the_hint_never_the_secret(httpserver, rec):
    httpserver.expect_request("/t").respond_with_json({"error": {"message": "bad s3cr3t-token"}}, status=401)
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec, auth_hint="$ACME_TOKEN").get_json("/t")
    assert one_line(exc).endswith("HTTP 401 UNAUTHORIZED: bad *** (check $ACME_TOKEN)")


def test_non_json_is_one_line(httpserver, rec):
    httpserver.expect_request("/t").respond_with_data("<html>login</html>", content_type="text/html")
    with pytest.raises(ConfigError, match=r"acme: GET .*/t: the response is not JSON$"):
        client(httpserver, rec).get_json("/t")


# ---------------------------------------------------------------- origins


def test_redirect_to_another_origin_is_refused(httpserver, rec):
    httpserver.expect_request("/t").respond_with_response(
        WResponse(status=302, headers={"Location": "http://127.0.0.1:1/steal?token=x"}))
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec).get_json("/t")
    text = one_line(exc)
    assert "redirect to another origin refused (http://127.0.0.1:1/steal?token=***)" in text


def test_redirect_within_the_origin_is_followed(httpserver, rec):
    httpserver.expect_request("/old").respond_with_response(WResponse(status=301, headers={"Location": "/new"}))
    httpserver.expect_request("/new", headers={"Authorization": "Bearer t"}).respond_with_json({"moved": True})
    got = client(httpserver, rec, basic=None, bearer="t").get_json("/old")
    assert got.json == {"moved": True} and got.url.endswith("/new")


def test_absolute_url_on_another_origin_is_refused(httpserver, rec):
    with pytest.raises(ConfigError, match="refusing to send the credentials to another origin"):
        client(httpserver, rec).get_json("https://evil.example/api")


# ---------------------------------------------------------------- POST and missing_ok


def test_post_json_sends_the_body_as_json_with_auth(httpserver, rec):
    expected = "Basic " + base64.b64encode(b"ann@example.com:s3cr3t-token").decode()
    httpserver.expect_oneshot_request(
        "/search", method="POST", query_string="v=2", json={"jql": "project = X", "max": 5},
        headers={"Authorization": expected, "Content-Type": "application/json", "Accept": "application/json"},
    ).respond_with_json({"issues": []})
    got = client(httpserver, rec).post_json("/search", {"jql": "project = X", "max": 5}, {"v": 2})
    assert got.json == {"issues": []} and got.status == 200
    httpserver.check_assertions()


def test_post_is_retried_on_429_with_retry_after(httpserver, rec):
    httpserver.expect_ordered_request("/s", method="POST").respond_with_json(
        {"errorMessages": ["Rate limit exceeded."]}, status=429, headers={"Retry-After": "3"})
    httpserver.expect_ordered_request("/s", method="POST", json={"q": 1}).respond_with_json({"ok": True})
    assert client(httpserver, rec).post_json("/s", {"q": 1}).json == {"ok": True}
    assert rec.slept == [3.0]
    assert rec.lines == ["acme: rate limited, waiting 3 s (until 14:00 UTC)"]


@pytest.mark.parametrize("status, headers", [(500, {}), (502, {}), (503, {}), (429, {})])
def test_post_is_not_retried_blindly(httpserver, rec, status, headers):
    httpserver.expect_request("/s", method="POST").respond_with_json({"error": "no"}, status=status, headers=headers)
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec).post_json("/s", {"q": 1})
    assert re.fullmatch(rf"acme: POST http://localhost:\d+/s failed: HTTP {status} [A-Z ]+: no", one_line(exc))
    assert len(httpserver.log) == 1 and rec.slept == []


def test_post_retry_after_ceiling_names_the_method(httpserver, rec):
    httpserver.expect_request("/s", method="POST").respond_with_data("", status=503, headers={"Retry-After": "900"})
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec, max_retry_wait=60).post_json("/s", {})
    assert one_line(exc).startswith("acme: POST ") and "more than max_retry_wait = 60 s" in str(exc.value)


def test_idempotent_post_is_retried_like_a_get(httpserver, rec):
    httpserver.expect_ordered_request("/s", method="POST").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/s", method="POST").respond_with_data("", status=429)
    httpserver.expect_ordered_request("/s", method="POST", json=[1]).respond_with_json({"ok": 1})
    assert client(httpserver, rec).post_json("/s", [1], idempotent=True).json == {"ok": 1}
    assert rec.slept == [1.0, 2.0]
    assert rec.lines == ["acme: HTTP 500, retrying in 1 s (1 of 5)", "acme: HTTP 429, retrying in 2 s (2 of 5)"]


def test_idempotent_post_gives_up_after_retries(httpserver, rec):
    httpserver.expect_request("/s", method="POST").respond_with_data("", status=502)
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec, retries=2).post_json("/s", {}, idempotent=True)
    assert re.fullmatch(r"acme: POST http://localhost:\d+/s failed: HTTP 502 BAD GATEWAY after 2 retries",
                        one_line(exc))


def test_post_read_timeout_is_not_retried_unless_idempotent(httpserver, rec):
    calls = []

    def slow(request):
        calls.append(1)
        time.sleep(0.6)
        return WResponse("{}", content_type="application/json")

    httpserver.expect_request("/s", method="POST").respond_with_handler(slow)
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec, timeout=0.2).post_json("/s", {})
    assert re.match(r"acme: POST http://localhost:\d+/s failed: ReadTimeoutError", one_line(exc))
    assert calls == [1] and rec.slept == []
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec, timeout=0.2, retries=1).post_json("/s", {}, idempotent=True)
    assert "failed after 1 retries: ReadTimeoutError" in one_line(exc)
    assert rec.slept == [1.0]
    deadline = time.monotonic() + 5  # let the (single-threaded) server finish the slow answers
    while len(httpserver.log) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(calls) == 3


def test_post_connection_errors_are_retried(rec):
    with socket.socket() as s:  # a port nobody listens on: the request was never sent
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = HttpClient(f"http://127.0.0.1:{port}", name="acme", retries=2, sleep=rec.sleep, progress=rec.progress,
                   bearer="s3cr3t-token")
    with pytest.raises(ConfigError) as exc:
        c.post_json("/t", {"a": 1})
    assert one_line(exc).startswith(f"acme: POST http://127.0.0.1:{port}/t failed after 2 retries: ")
    assert rec.slept == [1.0, 2.0]


def test_post_307_repeats_the_post_and_303_continues_with_get(httpserver, rec):
    httpserver.expect_request("/a", method="POST").respond_with_response(
        WResponse(status=307, headers={"Location": "/b"}))
    httpserver.expect_request("/b", method="POST", json={"x": 1}).respond_with_response(
        WResponse(status=303, headers={"Location": "/c"}))
    httpserver.expect_request("/c", method="GET").respond_with_json({"done": True})
    got = client(httpserver, rec).post_json("/a", {"x": 1})
    assert got.json == {"done": True} and got.url.endswith("/c")
    assert [(r.method, r.path) for r, _ in httpserver.log] == [("POST", "/a"), ("POST", "/b"), ("GET", "/c")]


def test_post_redirect_to_another_origin_is_refused(httpserver, rec):
    httpserver.expect_request("/a", method="POST").respond_with_response(
        WResponse(status=308, headers={"Location": "http://127.0.0.1:1/steal"}))
    with pytest.raises(ConfigError) as exc:
        client(httpserver, rec).post_json("/a", {})
    assert "POST" in one_line(exc) and "redirect to another origin refused" in str(exc.value)


def test_post_to_another_origin_is_refused(httpserver, rec):
    with pytest.raises(ConfigError, match="refusing to send the credentials to another origin"):
        client(httpserver, rec).post_json("https://evil.example/api", {})
    assert httpserver.log == []


def test_missing_ok_answers_none_on_404_only(httpserver, rec):
    httpserver.expect_request("/gone").respond_with_json({"errorMessages": ["nope"]}, status=404)
    httpserver.expect_request("/old").respond_with_response(WResponse(status=301, headers={"Location": "/gone"}))
    httpserver.expect_request("/denied").respond_with_json({}, status=403)
    httpserver.expect_request("/there").respond_with_json({"v": 1})
    c = client(httpserver, rec)
    assert c.get_json("/gone", missing_ok=True) is None
    assert c.get_json("/old", missing_ok=True) is None  # after a redirect too
    assert c.get_json("/there", missing_ok=True).json == {"v": 1}
    with pytest.raises(ConfigError, match="HTTP 403"):
        c.get_json("/denied", missing_ok=True)
    with pytest.raises(ConfigError, match="HTTP 404 NOT FOUND: nope"):
        c.get_json("/gone")


# ---------------------------------------------------------------- paging


def test_pages_follow_the_link_header(httpserver, rec):
    base = httpserver.url_for("/api/now/table/incident")
    for n in (1, 2, 3):
        link = f'<{base}?offset={n * 2}>;rel="next", <{base}?offset=0>;rel="first"' if n < 3 else \
            f'<{base}?offset=0>;rel="first"'
        httpserver.expect_ordered_request("/api/now/table/incident", query_string=f"offset={(n - 1) * 2}") \
            .respond_with_json({"result": [n]}, headers={"Link": link})
    pages = list(client(httpserver, rec).pages("/api/now/table/incident", {"offset": 0},
                                               next_url=lambda r: link_next(r.headers.get("Link"))))
    assert [p.json["result"] for p in pages] == [[1], [2], [3]]


def test_pages_refuse_a_repeated_next_link(httpserver, rec):
    httpserver.expect_request("/p").respond_with_json({"next": "/p"})
    with pytest.raises(ConfigError, match="repeats"):
        list(client(httpserver, rec).pages("/p", next_url=lambda r: r.json["next"]))


# ---------------------------------------------------------------- units


@pytest.mark.parametrize("header, expected", [
    (None, None),
    ("", None),
    ('<https://x/a?p=2>; rel="next"', "https://x/a?p=2"),
    ('<https://x/a?p=1>;rel="prev", <https://x/a?p=3>;rel="next"', "https://x/a?p=3"),
    ("<https://x/a?p=3>; rel=next", "https://x/a?p=3"),
    ('<https://x/a?p=3>; title="x"; rel="last next"', "https://x/a?p=3"),
    ('<https://x/a?p=0>; rel="first"', None),
])
def test_link_next(header, expected):
    assert link_next(header) == expected


@pytest.mark.parametrize("value, expected", [
    (None, None),
    ("", None),
    ("120", 120.0),
    (" 7 ", 7.0),
    ("Mon, 01 Mar 2027 14:30:00 GMT", 1800.0),
    ("Mon, 01 Mar 2027 13:00:00 GMT", 0.0),
    ("soon", None),
])
def test_retry_after_seconds(value, expected):
    assert retry_after_seconds(value, NOW) == expected


def test_redact():
    assert redact("https://u:pw@h.example:8443/a?api_token=s&X=1&Signature=z&sig=q#frag") == \
        "https://h.example:8443/a?api_token=***&X=1&Signature=***&sig=***"
    assert redact("https://h.example/a?client_secret=s&password=p&apikey=k") == \
        "https://h.example/a?client_secret=***&password=***&apikey=***"


def test_credentials_from_env():
    env = {"ACME_USER": "ann", "ACME_TOKEN": "s3cr3t"}
    assert credentials_from_env("acme", "ACME_USER", "ACME_TOKEN", environ=env) == ("ann", "s3cr3t")
    with pytest.raises(ConfigError) as exc:
        credentials_from_env("acme", "ACME_USER", "ACME_PASSWORD", environ=env)
    assert str(exc.value) == "acme: the environment variable ACME_PASSWORD is not set"
    assert "ann" not in str(exc.value)
