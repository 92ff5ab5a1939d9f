"""Fixtures for the servicenow source tests: the fixture export, base options, and a fake
ServiceNow instance (Table API over pytest-httpserver) serving the same rows.

The fake answers ``GET /api/now/table/<table>`` like the real Table API: ``{"result": [...]}``,
``sysparm_limit``/``sysparm_offset`` paging with a ``Link`` header (first/prev/next/last,
no ``next`` on the last page) and ``X-Total-Count``; it applies the encoded query's
``field=value``, ``fieldINa,b`` and ``ORDERBYfield`` terms and ``sysparm_fields``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from werkzeug.wrappers import Response

DATA = Path(__file__).resolve().parent / "data"
EXPORT = DATA / "incidents.json"
USER = "svc.cso-audit"
PASSWORD = "Tr1cky-Pa55w0rd!"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def export_doc() -> dict:
    return json.loads(EXPORT.read_text())


@pytest.fixture
def options() -> dict:
    """Options that read the fixture export: the custom fields of the fixture instance."""
    return {
        "contract": "NW-2026",
        "lob_field": "u_line_of_business",
        "bug_field": "u_is_bug",
        "rca_field": "u_rca_delivered",
    }


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("SERVICENOW_USER", USER)
    monkeypatch.setenv("SERVICENOW_PASSWORD", PASSWORD)
    return USER, PASSWORD


@pytest.fixture
def secrets() -> list[str]:
    """Every form of the credential that must never show up in output."""
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return [PASSWORD, basic]


def _matches(row: dict, term: str) -> bool:
    def value(name):
        v = row.get(name)
        return v.get("value") if isinstance(v, dict) else v

    if "IN" in term and "=" not in term:
        name, _, values = term.partition("IN")
        return value(name) in values.split(",")
    name, _, wanted = term.partition("=")
    return value(name) == wanted


class FakeInstance:
    """A ServiceNow instance's Table API: tables of rows, a request log, and optional
    responses to return first (e.g. a 429) for a table."""

    def __init__(self, httpserver, tables: dict[str, list[dict]]):
        self.server = httpserver
        self.tables = tables
        self.requests: list = []
        self.queued: dict[str, list[Response]] = {}
        self.link_header = True
        self.url = httpserver.url_for("/").rstrip("/")
        for table in ("incident", "sys_journal_field", "sys_audit", "sys_user"):
            httpserver.expect_request(f"/api/now/table/{table}", method="GET").respond_with_handler(
                lambda request, table=table: self.handle(table, request)
            )

    def queue(self, table: str, response: Response) -> None:
        self.queued.setdefault(table, []).append(response)

    def of(self, table: str) -> list:
        return [r for t, r in self.requests if t == table]

    def handle(self, table: str, request) -> Response:
        self.requests.append((table, request))
        if self.queued.get(table):
            return self.queued[table].pop(0)
        args = request.args
        rows = list(self.tables.get(table, []))
        order = None
        for term in filter(None, args.get("sysparm_query", "").split("^")):
            if term.startswith("ORDERBY"):
                order = term[len("ORDERBY"):]
            else:
                rows = [r for r in rows if _matches(r, term)]
        if order:
            rows.sort(key=lambda r: r.get(order) or "")
        limit = int(args.get("sysparm_limit", 10000))
        offset = int(args.get("sysparm_offset", 0))
        page = rows[offset:offset + limit]
        if args.get("sysparm_fields"):
            names = args["sysparm_fields"].split(",")
            page = [{k: r.get(k, "") for k in names} for r in page]
        headers = {"X-Total-Count": str(len(rows))}
        if self.link_header:
            base = {k: v for k, v in args.items()}

            def link(off, rel):
                return f'<{self.url}/api/now/table/{table}?{urlencode({**base, "sysparm_offset": off})}>;rel="{rel}"'

            links = [link(0, "first")]
            if offset > 0:
                links.append(link(max(0, offset - limit), "prev"))
            if offset + limit < len(rows):
                links.append(link(offset + limit, "next"))
            links.append(link(max(0, (len(rows) - 1) // limit * limit), "last"))
            headers["Link"] = ",".join(links)
        return Response(json.dumps({"result": page}), status=200, headers=headers, content_type="application/json")


@pytest.fixture
def instance(httpserver, export_doc) -> FakeInstance:
    """The fixture export's rows served by a fake instance."""
    return FakeInstance(httpserver, {
        "incident": export_doc["result"],
        "sys_journal_field": export_doc["sys_journal_field"],
        "sys_audit": export_doc["sys_audit"],
        "sys_user": export_doc["sys_user"],
    })


@pytest.fixture
def live_options(options, instance) -> dict:
    return {**options, "base_url": instance.url, "page_size": 2}


@pytest.fixture
def bare_options(options, httpserver) -> dict:
    """Live options against the local server with no fake instance behind it (set your own handlers)."""
    return {**options, "base_url": httpserver.url_for("/").rstrip("/"), "page_size": 2}


@pytest.fixture
def make_instance(httpserver):
    """A fake instance serving the tables given (``{table: rows}``)."""
    return lambda tables: FakeInstance(httpserver, tables)
