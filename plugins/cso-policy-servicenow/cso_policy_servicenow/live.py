"""Reading the live Table API with the standard library (``urllib.request``).

``GET /api/now/table/incident?sysparm_query=<query>^ORDERBYsys_created_on&sysparm_limit=&sysparm_offset=``
page by page, following the ``Link`` header's ``rel="next"`` (``X-Total-Count`` is the
fallback when a response has no ``Link``); for each page of incidents, their
``sys_journal_field`` comments and ``sys_audit`` priority rows (``element_idIN`` /
``documentkeyIN`` queries of at most ``ids_per_request`` sys_ids), and the ``sys_user`` rows of
their callers, openers and comment authors (``sys_idIN`` / ``user_nameIN``). HTTP 429 and 503
are retried after ``Retry-After`` up to ``max_retry_wait`` seconds (an hour by default:
ServiceNow's rate limits are per hour), with a progress line on stderr while waiting; a
longer wait stops the run with one line. ``sleep``, ``now`` and ``progress`` are injectable
for tests.

Credentials come from environment variables named in the options; they are only ever
put in the ``Authorization`` header, never in a message, and redirects are refused so
the header cannot follow one to another host.
"""

from __future__ import annotations

import base64
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import orjson

from cso_policy import ConfigError

from .mapping import Users, field
from .options import NAME, Config
from .stream import IncidentStream, group_audit, group_journal, map_row, user_refs

JOURNAL_FIELDS = "element_id,element,name,sys_created_on,sys_created_by"
AUDIT_FIELDS = "documentkey,tablename,fieldname,oldvalue,newvalue,sys_created_on,record_checkpoint"
USER_FIELDS = "sys_id,user_name,company"
MAX_BACKOFF = 300.0  # without Retry-After: 1, 2, 4... s, at most this
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^",;]+)"?')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect refused ({msg})", headers, fp)


def auth_header(cfg: Config, environ=None) -> str:
    """The Authorization header value: Bearer from ``token_env`` if set, else Basic from
    ``user``/``user_env`` and ``password_env``. Missing variables are named, values never."""
    env = os.environ if environ is None else environ
    if cfg.token_env:
        token = env.get(cfg.token_env)
        if not token:
            raise ConfigError(f"{NAME}: environment variable {cfg.token_env} (token_env) is not set")
        return f"Bearer {token}"
    user = cfg.user or env.get(cfg.user_env)
    if not user:
        raise ConfigError(f"{NAME}: no user: set option user or the environment variable {cfg.user_env} (user_env)")
    password = env.get(cfg.password_env)
    if not password:
        raise ConfigError(f"{NAME}: environment variable {cfg.password_env} (password_env) is not set")
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header."""
    if not header:
        return None
    for url, rel in _LINK.findall(header):
        if rel.strip().lower() == "next":
            return url.strip()
    return None


def retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or (lambda: datetime.now(UTC)))()).total_seconds())


class Client:
    """GETs against one instance, with retries on 429/503 and no redirects."""

    def __init__(self, cfg: Config, authorization: str, *, sleep: Callable[[float], None] | None = None,
                 now: Callable[[], datetime] | None = None, progress: Callable[[str], None] | None = None):
        self.cfg = cfg
        self._now = now or (lambda: datetime.now(UTC))
        self._progress = progress or _to_stderr
        self.base = cfg.base_url
        origin = urlsplit(self.base)
        self._origin = (origin.scheme, origin.netloc.lower())
        self._authorization = authorization
        self._sleep = sleep or time.sleep
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:  # never show the header
        return f"Client({self.base!r})"

    def table_url(self, table: str, params: dict) -> str:
        return f"{self.base}/api/now/table/{table}?{urlencode(params)}"

    def get(self, url: str) -> tuple[dict, dict]:
        """The decoded JSON body and the headers (lower-case names) of a GET."""
        attempt = 0
        while True:
            request = urllib.request.Request(
                url, headers={"Accept": "application/json", "Authorization": self._authorization}
            )
            try:
                with self._opener.open(request, timeout=self.cfg.timeout) as response:
                    body = response.read()
                    headers = {k.lower(): v for k, v in response.headers.items()}
                break
            except urllib.error.HTTPError as exc:
                if exc.code in (429, 503) and attempt < self.cfg.max_retries:
                    self._wait(url, exc, attempt)
                    attempt += 1
                    continue
                raise ConfigError(self._http_problem(url, exc)) from None
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise ConfigError(f"{NAME}: GET {_shown(url)} failed: {reason}") from None
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ConfigError(f"{NAME}: GET {_shown(url)}: the response is not JSON "
                              "(is base_url the instance URL, e.g. https://acme.service-now.com?)") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("result"), list):
            raise ConfigError(f"{NAME}: GET {_shown(url)}: expected a Table API response {{\"result\": [...]}}")
        return doc, headers

    def _wait(self, url: str, exc: urllib.error.HTTPError, attempt: int) -> None:
        """Wait out a 429/503: ``Retry-After`` (seconds or an HTTP date), else 1, 2, 4... s;
        a wait over ``max_retry_wait`` stops the run with one line naming it."""
        delay = retry_after(exc.headers.get("Retry-After") if exc.headers else None, self._now)
        if delay is None:
            delay = min(MAX_BACKOFF, 2.0 ** attempt)
        until = (self._now() + timedelta(seconds=delay)).strftime("%H:%M UTC")
        what = "rate limited" if exc.code == 429 else "service unavailable (HTTP 503)"
        if delay > self.cfg.max_retry_wait:
            raise ConfigError(
                f"{NAME}: GET {_shown(url)}: {what}; the instance asks to wait {delay:.0f} s (until {until}), "
                f"more than max_retry_wait = {self.cfg.max_retry_wait:g} s: run again later or raise max_retry_wait"
            )
        self._progress(f"{NAME}: {what}, waiting {delay:g} s (until {until})")
        self._sleep(delay)

    def _http_problem(self, url: str, exc: urllib.error.HTTPError) -> str:
        detail = ""
        try:
            body = orjson.loads(exc.read() or b"{}")
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                detail = f": {error['message'][:200]}"
        except Exception:  # noqa: BLE001 - the body is only a hint
            pass
        hint = ""
        if exc.code in (401, 403):
            cfg = self.cfg
            where = f"${cfg.token_env}" if cfg.token_env else f"user/${cfg.user_env} and ${cfg.password_env}"
            hint = f" (check the credentials in {where} and the user's read access to the table)"
        elif 300 <= exc.code < 400:
            hint = " (redirects are not followed: set base_url to the instance URL)"
        return f"{NAME}: GET {_shown(url)} failed: HTTP {exc.code}{detail}{hint}"

    def pages(self, table: str, query: str, fields: str | None = None) -> Iterator[list]:
        """Every page of rows of *table* matching the encoded *query*: the ``Link`` header's
        ``rel="next"`` while there is one; without a ``Link`` header, the next offset while
        ``X-Total-Count`` (or a full page) says there are more."""
        params = {"sysparm_query": query, "sysparm_display_value": "false",
                  "sysparm_limit": self.cfg.page_size, "sysparm_offset": 0}
        if fields:
            params["sysparm_fields"] = fields
        url: str | None = self.table_url(table, params)
        seen: set[str] = set()
        offset = 0
        while url is not None and url not in seen:
            seen.add(url)
            doc, headers = self.get(url)
            rows = doc["result"]
            if not rows:
                return
            yield rows
            offset += len(rows)
            url = self._next(headers, rows, lambda: self.table_url(table, {**params, "sysparm_offset": offset}), offset)

    def _next(self, headers: dict, rows: list, by_offset: Callable[[], str], offset: int) -> str | None:
        if "link" in headers:
            url = next_link(headers["link"])
            if url is None:
                return None
            parts = urlsplit(url)
            if (parts.scheme, parts.netloc.lower()) != self._origin:
                raise ConfigError(f"{NAME}: the next-page link points to another host ({parts.netloc}); "
                                  "not following it with the credentials")
            return url
        total = headers.get("x-total-count", "").strip()
        more = offset < int(total) if total.isdigit() else len(rows) >= self.cfg.page_size
        return by_offset() if more else None


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _shown(url: str) -> str:
    """The URL as shown in messages: without its query (which can be long)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def incident_query(cfg: Config) -> str:
    query = cfg.query or ""
    if "ORDERBY" in query:
        return query
    return f"{query}^ORDERBYsys_created_on" if query else "ORDERBYsys_created_on"


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def read_live(cfg: Config, *, sleep: Callable[[float], None] | None = None, environ=None,
              now: Callable[[], datetime] | None = None, progress: Callable[[str], None] | None = None
              ) -> IncidentStream:
    client = Client(cfg, auth_header(cfg, environ), sleep=sleep, now=now, progress=progress)
    label = f"{NAME}:{cfg.base_url}/api/now/table/incident"
    users = Users()
    asked: set[tuple[str, str]] = set()  # (field, value) already looked up in sys_user

    def fetch_users(name: str, values: set[str]) -> None:
        wanted = sorted(v for v in values if (name, v) not in asked)
        asked.update((name, v) for v in wanted)
        for chunk in _chunks(wanted, cfg.ids_per_request):
            for rows in client.pages("sys_user", f"{name}IN{','.join(chunk)}", USER_FIELDS):
                users.add(rows)

    def make(stream: IncidentStream):
        line = 0
        for page in client.pages("incident", incident_query(cfg)):
            ids = list(dict.fromkeys(
                row["sys_id"] for row in page if isinstance(row, dict) and isinstance(row.get("sys_id"), str)
            ))
            journal_rows, audit_rows = [], []
            for chunk in _chunks(ids, cfg.ids_per_request):
                joined = ",".join(chunk)
                if cfg.reads_journal:
                    query = (f"name=incident^elementIN{','.join(cfg.comment_elements)}^element_idIN{joined}"
                             "^ORDERBYsys_created_on")
                    for rows in client.pages("sys_journal_field", query, JOURNAL_FIELDS):
                        journal_rows.extend(rows)
                if cfg.priority_history:
                    query = f"tablename=incident^fieldname=priority^documentkeyIN{joined}^ORDERBYsys_created_on"
                    for rows in client.pages("sys_audit", query, AUDIT_FIELDS):
                        audit_rows.extend(rows)
            journals = group_journal(journal_rows, cfg)
            audits = group_audit(audit_rows)
            if cfg.reads_users and journals:
                fetch_users("sys_id", user_refs(page))
                fetch_users("user_name", {a for entries in journals.values() for _, e in entries
                                          if (a := field(e, "sys_created_by")) is not None})
            for row in page:
                line += 1
                yield map_row(label, line, row, cfg, journals, audits, stream, users)

    return IncidentStream(label, make)
