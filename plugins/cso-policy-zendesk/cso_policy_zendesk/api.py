"""The live Zendesk API (stdlib urllib only).

- tickets: ``GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>&include=metric_sets``,
  then ``?cursor=<after_cursor>`` until ``end_of_stream: true``;
- metric events: ``GET /api/v2/incremental/ticket_metric_events?start_time=<unix>``, following
  ``next_page`` (or ``links.next`` while ``meta.has_more``) until ``end_of_stream: true``;
- the severity history and comments (``history = "ticket_events"``, the default):
  ``GET /api/v2/incremental/ticket_events?start_time=<unix>&include=comment_events``, following
  ``next_page`` until ``end_of_stream: true``;
- or (``history = "audits"``, or ``fetch_audits = true``):
  ``GET /api/v2/tickets/<id>/audits.json?include=users`` per ticket.

HTTP 429 (and 503 with Retry-After) waits ``Retry-After`` seconds and retries, up to
``max_retries`` times. Basic auth ``<email>/token:<token>``; the token is read from the
environment variable named by ``token_env`` and never appears in a message. Next-page URLs
and redirects to another host than ``url`` are refused, so the credentials go nowhere else.
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from cso_policy import ConfigError

from . import __version__
from .mapping import Dataset, Unmappable, parse_ts
from .options import Config

TICKETS = "/api/v2/incremental/tickets/cursor.json"
METRIC_EVENTS = "/api/v2/incremental/ticket_metric_events"
TICKET_EVENTS = "/api/v2/incremental/ticket_events"
DEFAULT_RETRY_AFTER = 60.0


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only within the origin of the request (the Authorization header would
    otherwise be sent on to the other host)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if _origin(newurl) != _origin(req.full_url):
            return None  # urllib then raises the 3xx as an HTTPError
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Client:
    def __init__(
        self,
        cfg: Config,
        *,
        sleep: Callable[[float], None] = time.sleep,
        env: dict | None = None,
    ):
        env = os.environ if env is None else env
        self.base = cfg.base_url
        self.cfg = cfg
        self.sleep = sleep
        token = env.get(cfg.token_env)
        if not token:
            raise ConfigError(f"zendesk: the environment variable {cfg.token_env} (option token_env) is not set: it holds the API token")
        user = cfg.email or env.get(cfg.email_env)
        if not user:
            raise ConfigError(
                f"zendesk: no API user: set the email option or the environment variable {cfg.email_env} (option email_env)"
            )
        encoded = base64.b64encode(f"{user}/token:{token}".encode()).decode("ascii")
        self._auth = f"Basic {encoded}"
        self._secrets = tuple(s for s in (token, encoded) if s)
        self._opener = urllib.request.build_opener(_SameOriginRedirects)

    # -- HTTP --------------------------------------------------------------------

    def get(self, url: str) -> dict:
        """GET *url* as JSON, waiting out 429s; any other failure is a ConfigError (exit 2)."""
        attempt = 0
        while True:
            request = urllib.request.Request(
                url,
                headers={
                    "Authorization": self._auth,
                    "Accept": "application/json",
                    "User-Agent": f"cso-policy-zendesk/{__version__}",
                },
            )
            try:
                with self._opener.open(request, timeout=self.cfg.timeout) as response:
                    body = response.read()
            except urllib.error.HTTPError as exc:
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if (exc.code == 429 or (exc.code == 503 and retry_after)) and attempt < self.cfg.max_retries:
                    attempt += 1
                    self.sleep(_retry_after(retry_after))
                    continue
                detail = self._detail(exc)
                if exc.code == 429:
                    raise ConfigError(
                        f"zendesk: GET {url}: still rate limited (HTTP 429) after {attempt} retries (option max_retries)"
                    ) from None
                raise ConfigError(f"zendesk: GET {url} failed: HTTP {exc.code} {self._scrub(str(exc.reason))}{detail}") from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ConfigError(f"zendesk: GET {url} failed: {self._scrub(str(reason))}") from None
            try:
                page = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ConfigError(f"zendesk: GET {url}: the response is not JSON") from None
            if not isinstance(page, dict):
                raise ConfigError(f"zendesk: GET {url}: expected a JSON object, got {type(page).__name__}")
            return page

    def _detail(self, exc: urllib.error.HTTPError) -> str:
        try:
            text = exc.read(300).decode("utf-8", "replace").strip()
        except Exception:
            return ""
        text = " ".join(self._scrub(text).split())
        return f" ({text[:200]})" if text else ""

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _next(self, url: str) -> str:
        if _origin(url) != _origin(self.base):
            raise ConfigError(f"zendesk: refusing to follow a next-page URL on another host than {self.base}: {_origin(url)}")
        return url

    # -- the exports -------------------------------------------------------------------

    def ticket_pages(self, start_time: int) -> Iterator[dict]:
        url = f"{self.base}{TICKETS}?start_time={start_time}&include=metric_sets"
        while True:
            page = self.get(url)
            yield page
            if page.get("end_of_stream") is True:
                return
            cursor = page.get("after_cursor")
            if cursor:
                nxt = f"{self.base}{TICKETS}?cursor={urllib.parse.quote(str(cursor), safe='')}&include=metric_sets"
            elif page.get("after_url"):
                nxt = self._next(page["after_url"])
            else:
                raise ConfigError(f"zendesk: GET {url}: end_of_stream is not true but there is no after_cursor to go on")
            if nxt == url and not page.get("tickets"):
                raise ConfigError(f"zendesk: GET {url}: the export does not advance (same cursor, no tickets)")
            url = nxt

    def metric_event_pages(self, start_time: int) -> Iterator[dict]:
        yield from self._follow(f"{self.base}{METRIC_EVENTS}?start_time={start_time}", "ticket_metric_events")

    def ticket_event_pages(self, start_time: int) -> Iterator[dict]:
        yield from self._follow(f"{self.base}{TICKET_EVENTS}?start_time={start_time}&include=comment_events",
                                "ticket_events")

    def audit_pages(self, ticket_id) -> Iterator[dict]:
        tid = urllib.parse.quote(str(ticket_id), safe="")
        yield from self._follow(f"{self.base}/api/v2/tickets/{tid}/audits.json?include=users", "audits")

    def _follow(self, url: str, key: str) -> Iterator[dict]:
        """Time-based (next_page, end_of_stream) or cursor (links.next, meta.has_more) pages."""
        while True:
            page = self.get(url)
            yield page
            if page.get("end_of_stream") is True:
                return
            meta = page.get("meta") if isinstance(page.get("meta"), dict) else None
            links = page.get("links") if isinstance(page.get("links"), dict) else {}
            if meta is not None and "has_more" in meta:
                nxt = links.get("next") if meta.get("has_more") else None
            else:
                nxt = page.get("next_page") or page.get("after_url")
            if not nxt or nxt == url or not page.get(key):
                return
            url = self._next(nxt)


def load(cfg: Config, *, sleep=time.sleep, env=None) -> tuple[Dataset, str]:
    """Fetch tickets created at or after start_time (with metric sets), their metric events and
    their history (the ticket event export, or each ticket's audits); return the joined
    dataset and the source label. Tickets created before start_time are left out (LeftOut)."""
    client = Client(cfg, sleep=sleep, env=env)
    since = datetime.fromtimestamp(cfg.start_time, timezone.utc)
    ds = Dataset()
    for page in client.ticket_pages(cfg.start_time):
        kept = []
        for t in page.get("tickets") or []:
            if _created_since(t, since):
                kept.append(t)
            else:
                ds.left_out.append((0, f"zendesk ticket {t.get('id')}: created {t.get('created_at')}, before start_time "
                                       f"{since.isoformat()} (an older ticket updated since)"))
        ds.add_page({**page, "tickets": kept})
    if ds.tickets:
        ds.has_events = True
        for page in client.metric_event_pages(cfg.start_time):
            for event in page.get("ticket_metric_events") or []:
                ds.add_event(event)
    if ds.tickets and cfg.history == "ticket_events":
        ds.has_comments = True
        for page in client.ticket_event_pages(cfg.start_time):
            ds.add_page({"ticket_events": page.get("ticket_events") or []})
    if cfg.history == "audits":
        ds.has_comments = True
        for _, ticket in ds.latest_tickets():
            if isinstance(ticket, dict) and ticket.get("id") is not None:
                ds.audits.setdefault(str(ticket["id"]), [])
                for page in client.audit_pages(ticket["id"]):
                    ds.add_page({"audits": [{"ticket_id": ticket["id"], **a} for a in page.get("audits") or [] if isinstance(a, dict)],
                                 "users": page.get("users") or []})
    return ds, f"zendesk:{cfg.base_url}{TICKETS}"


def _created_since(ticket, since: datetime) -> bool:
    """Tickets created before start_time (the export also returns old tickets updated since)
    are outside the window. A ticket whose created_at cannot be read is kept: its record
    becomes a BadLine naming the field."""
    if not isinstance(ticket, dict):
        return True
    try:
        return parse_ts(ticket.get("created_at"), "created_at") >= since
    except Unmappable:
        return True


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _retry_after(value: str | None) -> float:
    """Retry-After: seconds, or an HTTP date."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
