"""Fixtures of the cso-policy-jira tests: the data folder, base options, a live Jira on a local server.

No ``__init__.py`` here: the test modules import only installed packages, so the
tests run from any root (``pytest plugins/cso-policy-jira/tests``).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
TOKEN = "ATATT3xFfGF0-s3cr3t-t0ken-value-1234567890"
EMAIL = "auditor@northwind.example"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """urllib honours *_proxy variables: keep the local test server's requests local."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture
def load():
    """``load("name.json")`` -> a fresh copy of a fixture document."""

    def read(name: str):
        return copy.deepcopy(json.loads((DATA / name).read_text(encoding="utf-8")))

    return read


@pytest.fixture
def export(data) -> Path:
    """Two search/jql pages, five issues (SUP-101..105)."""
    return data / "search-pages.json"


@pytest.fixture
def options() -> dict:
    return {"contract": "NW-2026", "lob": "retail"}


@pytest.fixture
def write_json(tmp_path):
    def write(doc, name: str = "export.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    return write


@pytest.fixture
def credentials(monkeypatch):
    """The Jira credentials in the environment (the token is a fake)."""
    monkeypatch.setenv("JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    return EMAIL, TOKEN


@pytest.fixture
def live_options(httpserver, options) -> dict:
    # The request-channel searches (request-channel-type) have their own tests (test_jira_customers_channels.py);
    # the other live tests serve only the main search.
    return {**options, "base_url": httpserver.url_for("/").rstrip("/"), "project": "SUP", "request_channel": False}


PARTICIPANT_PATH = re.compile(r"^/rest/servicedeskapi/request/[^/]+/participant$")


def participant_page(users=(), start=0, last=True) -> dict:
    """A page of ``GET /rest/servicedeskapi/request/{issueIdOrKey}/participant`` (JSM Cloud REST:
    PagedDTO of UserDTO: size, start, limit, isLastPage, _links, values)."""
    return {"_expands": [], "size": len(users), "start": start, "limit": 50, "isLastPage": last,
            "_links": {"base": "https://northwind.atlassian.net/rest/servicedeskapi", "context": ""},
            "values": list(users)}


@pytest.fixture
def no_participants(httpserver):
    """Every request answers ``/participant`` with an empty page (a request nobody was added to)."""
    httpserver.expect_request(PARTICIPANT_PATH, method="GET").respond_with_json(participant_page())


@pytest.fixture
def issues_for_audit(load) -> list:
    """The first search page of the export fixture (SUP-101, SUP-102)."""
    return load("search-pages.json")[0]["issues"]
