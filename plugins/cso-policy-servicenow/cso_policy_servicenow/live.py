"""Reading the live Table API through the core's :class:`cso_policy.HttpClient`.

``GET /api/now/table/incident?sysparm_query=<query>^ORDERBYsys_created_on&sysparm_limit=&sysparm_offset=``
page by page, following the ``Link`` header's ``rel="next"`` (``X-Total-Count`` is the
fallback when a response has no ``Link``); for each page of incidents, their
``sys_journal_field`` comments and ``sys_audit`` priority rows (``element_idIN`` /
``documentkeyIN`` queries of at most ``ids_per_request`` sys_ids), and the ``sys_user`` rows of
their callers, openers and comment authors (``sys_idIN`` / ``user_nameIN``). Retries, the
``Retry-After`` wait up to ``max_retry_wait`` seconds (an hour by default: ServiceNow's rate
limits are per hour) with its progress line, redirects (same origin only) and credential
redaction are the client's. ``sleep``, ``now`` and ``progress`` are injectable for tests.

Credentials come from environment variables named in the options; the client puts them
only in the ``Authorization`` header and sends it only to the origin of ``base_url``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from cso_policy import ConfigError, HttpClient, Response, credentials_from_env, link_next, redact

from .mapping import Users, field
from .options import NAME, ServiceNowOptions
from .stream import IncidentStream, group_audit, group_journal, map_row, user_refs

JOURNAL_FIELDS = "element_id,element,name,sys_created_on,sys_created_by"
AUDIT_FIELDS = "documentkey,tablename,fieldname,oldvalue,newvalue,sys_created_on,record_checkpoint"
USER_FIELDS = "sys_id,user_name,company"


def make_client(cfg: ServiceNowOptions, environ=None, *, sleep: Callable[[float], None] | None = None,
                now: Callable[[], datetime] | None = None,
                progress: Callable[[str], None] | None = None) -> HttpClient:
    """The core HTTP client for ``base_url`` with the credentials of the options: Bearer from
    ``token_env`` if set, else Basic from ``user``/``user_env`` and ``password_env``. Missing
    variables are named, values never."""
    if cfg.token_env:
        (token,) = credentials_from_env(NAME, cfg.token_env, environ=environ)
        auth = {"bearer": token}
        where = f"${cfg.token_env}"
    else:
        user = cfg.user
        if not user:
            try:
                (user,) = credentials_from_env(NAME, cfg.user_env, environ=environ)
            except ConfigError:
                raise ConfigError(f"{NAME}: no user: set option user or the environment variable "
                                  f"{cfg.user_env} (user_env)") from None
        (password,) = credentials_from_env(NAME, cfg.password_env, environ=environ)
        auth = {"basic": (user, password)}
        where = f"user/${cfg.user_env} and ${cfg.password_env}"
    extra = {"sleep": sleep} if sleep is not None else {}
    return HttpClient(
        cfg.api_url, name=NAME, **auth, max_retry_wait=cfg.max_retry_wait, retries=cfg.max_retries,
        timeout=cfg.timeout, progress=progress, now=now,
        auth_hint=f"the credentials in {where} and the user's read access to the table", **extra,
    )


def _rows(page: Response) -> list:
    doc = page.json
    if not isinstance(doc, dict) or not isinstance(doc.get("result"), list):
        raise ConfigError(f"{NAME}: GET {redact(page.url)}: expected a Table API response {{\"result\": [...]}}")
    return doc["result"]


def table_pages(client: HttpClient, cfg: ServiceNowOptions, table: str, query: str, fields: str | None = None
                ) -> Iterator[list]:
    """Every page of rows of *table* matching the encoded *query*: the ``Link`` header's
    ``rel="next"`` while there is one; without a ``Link`` header, the next offset while
    ``X-Total-Count`` (or a full page) says there are more; an empty page ends it."""
    path = f"/api/now/table/{table}"
    params = {"sysparm_query": query, "sysparm_display_value": "false",
              "sysparm_limit": cfg.page_size, "sysparm_offset": 0}
    if fields:
        params["sysparm_fields"] = fields
    offset = 0

    def next_url(page: Response) -> str | None:
        nonlocal offset
        rows = _rows(page)
        if not rows:
            return None
        offset += len(rows)
        if "Link" in page.headers:
            return link_next(page.headers["Link"])
        total = page.headers.get("X-Total-Count", "").strip()
        more = offset < int(total) if total.isdigit() else len(rows) >= cfg.page_size
        return client.url(path, {**params, "sysparm_offset": offset}) if more else None

    for page in client.pages(path, params, next_url=next_url):
        rows = _rows(page)
        if not rows:
            return
        yield rows


def incident_query(cfg: ServiceNowOptions) -> str:
    query = cfg.query or ""
    if "ORDERBY" in query:
        return query
    return f"{query}^ORDERBYsys_created_on" if query else "ORDERBYsys_created_on"


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def read_live(cfg: ServiceNowOptions, *, sleep: Callable[[float], None] | None = None, environ=None,
              now: Callable[[], datetime] | None = None, progress: Callable[[str], None] | None = None
              ) -> IncidentStream:
    client = make_client(cfg, environ, sleep=sleep, now=now, progress=progress)
    label = f"{NAME}:{cfg.api_url}/api/now/table/incident"
    users = Users()
    asked: set[tuple[str, str]] = set()  # (field, value) already looked up in sys_user

    def fetch_users(name: str, values: set[str]) -> None:
        wanted = sorted(v for v in values if (name, v) not in asked)
        asked.update((name, v) for v in wanted)
        for chunk in _chunks(wanted, cfg.ids_per_request):
            for rows in table_pages(client, cfg, "sys_user", f"{name}IN{','.join(chunk)}", USER_FIELDS):
                users.add(rows)

    def make(stream: IncidentStream):
        line = 0
        for page in table_pages(client, cfg, "incident", incident_query(cfg)):
            ids = list(dict.fromkeys(
                row["sys_id"] for row in page if isinstance(row, dict) and isinstance(row.get("sys_id"), str)
            ))
            journal_rows, audit_rows = [], []
            for chunk in _chunks(ids, cfg.ids_per_request):
                joined = ",".join(chunk)
                if cfg.reads_journal:
                    query = (f"name=incident^elementIN{','.join(cfg.comment_elements)}^element_idIN{joined}"
                             "^ORDERBYsys_created_on")
                    for rows in table_pages(client, cfg, "sys_journal_field", query, JOURNAL_FIELDS):
                        journal_rows.extend(rows)
                if cfg.priority_history:
                    query = f"tablename=incident^fieldname=priority^documentkeyIN{joined}^ORDERBYsys_created_on"
                    for rows in table_pages(client, cfg, "sys_audit", query, AUDIT_FIELDS):
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
