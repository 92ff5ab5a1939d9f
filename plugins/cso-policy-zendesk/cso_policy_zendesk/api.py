"""The live Zendesk API, over cso-policy's HttpClient.

- tickets: ``GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>&include=metric_sets``,
  then ``?cursor=<after_cursor>`` until ``end_of_stream: true``;
- metric events: ``GET /api/v2/incremental/ticket_metric_events?start_time=<unix>``, following
  ``next_page`` (or ``links.next`` while ``meta.has_more``) until ``end_of_stream: true``;
- the severity history and comments (``history = "ticket_events"``, the default):
  ``GET /api/v2/incremental/ticket_events?start_time=<unix>&include=comment_events``, following
  ``next_page`` until ``end_of_stream: true``;
- or (``history = "audits"``, or ``fetch_audits = true``):
  ``GET /api/v2/tickets/<id>/audits.json?include=users`` per ticket.

HTTP goes through cso-policy's :class:`~cso_policy.HttpClient`: 429/503 wait ``Retry-After``
up to ``max_retry_wait`` seconds, 429/5xx without it and connection errors back off 1, 2, 4...
s, at most ``max_retries`` retries in all. Basic auth ``<email>/token:<token>``; the token is
read from the environment variable named by ``token_env`` and never appears in a message.
Next-page URLs and redirects to another origin than ``url`` are refused, so the credentials go
nowhere else. This module only knows Zendesk's paging rules.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from cso_policy import ConfigError, HttpClient, Response, credentials_from_env, redact

from .mapping import Dataset, Unmappable, parse_ts
from .options import ZendeskOptions

NAME = "zendesk"
TICKETS = "/api/v2/incremental/tickets/cursor.json"
METRIC_EVENTS = "/api/v2/incremental/ticket_metric_events"
TICKET_EVENTS = "/api/v2/incremental/ticket_events"


class Client:
    """The Zendesk exports over one :class:`~cso_policy.HttpClient`."""

    def __init__(
        self,
        cfg: ZendeskOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
        env: dict | None = None,
    ):
        self.cfg = cfg
        try:
            (token,) = credentials_from_env(NAME, cfg.token_env, environ=env)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (option token_env; it holds the API token)") from None
        user = cfg.email
        if not user:
            try:
                (user,) = credentials_from_env(NAME, cfg.email_env, environ=env)
            except ConfigError:
                raise ConfigError(
                    f"{NAME}: no API user: set the email option or the environment variable {cfg.email_env} (option email_env)"
                ) from None
        self.http = HttpClient(
            cfg.base_url,
            name=NAME,
            basic=(f"{user}/token", token),
            retries=cfg.max_retries,
            max_retry_wait=cfg.max_retry_wait,
            timeout=cfg.timeout,
            sleep=sleep,
            auth_hint=f"the API token in ${cfg.token_env} and the API user's email",
        )

    # -- the exports -------------------------------------------------------------------

    def ticket_pages(self, start_time: int) -> Iterator[dict]:
        """The cursor-based ticket export: ``after_cursor`` (else ``after_url``) until
        ``end_of_stream``."""

        def next_url(page: Response) -> str | None:
            doc = page.json
            if doc.get("end_of_stream") is True:
                return None
            cursor = doc.get("after_cursor")
            if cursor:
                nxt = self.http.url(TICKETS, {"cursor": str(cursor), "include": "metric_sets"})
            elif doc.get("after_url"):
                nxt = urllib.parse.urljoin(page.url, str(doc["after_url"]))
            else:
                raise ConfigError(
                    f"{NAME}: GET {redact(page.url)}: end_of_stream is not true but there is no after_cursor to go on"
                )
            if nxt == page.url and not doc.get("tickets"):
                raise ConfigError(f"{NAME}: GET {redact(page.url)}: the export does not advance (same cursor, no tickets)")
            return nxt

        return self._pages(TICKETS, {"start_time": start_time, "include": "metric_sets"}, next_url)

    def metric_event_pages(self, start_time: int) -> Iterator[dict]:
        return self._follow(METRIC_EVENTS, {"start_time": start_time}, "ticket_metric_events")

    def ticket_event_pages(self, start_time: int) -> Iterator[dict]:
        return self._follow(TICKET_EVENTS, {"start_time": start_time, "include": "comment_events"}, "ticket_events")

    def audit_pages(self, ticket_id) -> Iterator[dict]:
        tid = urllib.parse.quote(str(ticket_id), safe="")
        return self._follow(f"/api/v2/tickets/{tid}/audits.json", {"include": "users"}, "audits")

    def _follow(self, path: str, params: dict, key: str) -> Iterator[dict]:
        """Time-based (next_page, end_of_stream) or cursor (links.next, meta.has_more) pages;
        a page without *key* items, or pointing at itself, is the last."""

        def next_url(page: Response) -> str | None:
            doc = page.json
            if doc.get("end_of_stream") is True:
                return None
            meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else None
            links = doc.get("links") if isinstance(doc.get("links"), dict) else {}
            if meta is not None and "has_more" in meta:
                nxt = links.get("next") if meta.get("has_more") else None
            else:
                nxt = doc.get("next_page") or doc.get("after_url")
            if not nxt or not isinstance(nxt, str) or not doc.get(key):
                return None
            if urllib.parse.urljoin(page.url, nxt) == page.url:
                return None
            return nxt

        return self._pages(path, params, next_url)

    def _pages(self, path: str, params: dict, next_url: Callable[[Response], str | None]) -> Iterator[dict]:
        for page in self.http.pages(path, params, next_url=next_url):
            if not isinstance(page.json, dict):
                raise ConfigError(f"{NAME}: GET {redact(page.url)}: expected a JSON object, got {type(page.json).__name__}")
            yield page.json


def load(cfg: ZendeskOptions, *, sleep=time.sleep, env=None) -> tuple[Dataset, str]:
    """Fetch tickets created at or after start_time (with metric sets), their metric events and
    their history (the ticket event export, or each ticket's audits); return the joined
    dataset and the source label. Tickets created before start_time are left out (LeftOut)."""
    client = Client(cfg, sleep=sleep, env=env)
    since = datetime.fromtimestamp(cfg.start_unix, timezone.utc)
    ds = Dataset()
    for page in client.ticket_pages(cfg.start_unix):
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
        for page in client.metric_event_pages(cfg.start_unix):
            for event in page.get("ticket_metric_events") or []:
                ds.add_event(event)
    if ds.tickets and cfg.history_from == "ticket_events":
        ds.has_comments = True
        for page in client.ticket_event_pages(cfg.start_unix):
            ds.add_page({"ticket_events": page.get("ticket_events") or []})
    if cfg.history_from == "audits":
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

