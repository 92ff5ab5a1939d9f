"""``read(path, options)`` of the ``jira`` source: an export file, or the live API when path is None."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
from attrs import evolve

from cso_policy import BadLine, ConfigError, HttpClient, Incomplete, MappingError, RawRecord, credentials_from_env

from . import __version__
from .client import SEARCH, Client
from .mapping import issue_key, root_field, to_record
from .options import JiraOptions

# Fields asked of the search API besides the configured ones.
BASE_FIELDS = (
    "summary", "issuetype", "priority", "created", "resolutiondate", "status",
    "statuscategorychangedate", "labels", "comment", "reporter",
)


def read_jira(
    path: Path | str | None,
    options: JiraOptions | dict | None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] | None = None,
) -> Iterator[RawRecord]:
    """Ticket records from a Jira export file (*path*) or from the live API (*path* None).

    *options* is the :class:`JiraOptions` the core structured and checked; a dict (a direct
    call) becomes one unchecked. Credentials are checked now (a ConfigError before the audit
    starts); the records are read lazily. *sleep* and *progress* (the waiting lines, default
    stderr) are for tests.
    """
    cfg = options if isinstance(options, JiraOptions) else JiraOptions(**(options or {}))
    if path is not None:
        return _read_export(Path(path), cfg)
    return _read_live(cfg, _client(cfg, sleep, progress))


def _record(issue, cfg: JiraOptions, histories=None, comments=None, participants=None, request_channel=None,
            missing: str | None = None) -> dict | BadLine | Incomplete:
    """The ticket record, a BadLine naming the field that cannot be mapped, or (*missing* says what
    the issue lacks) an Incomplete record."""
    try:
        record = to_record(issue, cfg, histories=histories, comments=comments, participants=participants,
                           request_channel=request_channel)
    except MappingError as exc:
        key = issue_key(issue)
        return BadLine(f"Jira issue {key}: {exc}" if key else f"Jira issue: {exc}")
    return Incomplete(record, f"Jira issue {record['id']}: {missing}") if missing else record


PARTICIPANTS_NAME = "Request participants"
PARTICIPANTS_TYPE = "com.atlassian.servicedesk:sd-request-participants"


def _needs_comments(cfg: JiraOptions) -> bool:
    return cfg.updates_from == "public_comments" or cfg.first_response_from != "sla"


def truncation(issue, cfg: JiraOptions) -> str | None:
    """What an exported issue lacks: its embedded changelog (or comment list, when comments are
    used) holds fewer entries than its ``total``."""
    if not isinstance(issue, dict):
        return None
    found = []
    changelog = issue.get("changelog")
    if isinstance(changelog, dict) and isinstance(changelog.get("histories"), list) \
            and isinstance(changelog.get("total"), int) and changelog["total"] > len(changelog["histories"]):
        found.append(f"the changelog has {len(changelog['histories'])} of {changelog['total']} entries "
                     "(search results embed only the newest), so the priority at opening is not known; "
                     "export the full changelog (GET /rest/api/3/issue/{key}/changelog) or read the live API")
    fields = issue.get("fields")
    comment = fields.get("comment") if isinstance(fields, dict) else None
    if _needs_comments(cfg) and isinstance(comment, dict) and isinstance(comment.get("comments"), list) \
            and isinstance(comment.get("total"), int) and comment["total"] > len(comment["comments"]):
        found.append(f"the comment list has {len(comment['comments'])} of {comment['total']} comments, so "
                     "the updates are not known; export every comment or read the live API")
    return "; ".join(found) or None


def participants_field_of(doc, cfg: JiraOptions) -> str | None:
    """The Request participants field: the ``participants_field`` option, else the field a search page
    names "Request participants" (``expand=names``) or types ``sd-request-participants`` (``expand=schema``)."""
    if cfg.participants_field:
        return cfg.participants_field
    pages = [doc] if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    for page in pages:
        if not isinstance(page, dict):
            continue
        for fid, schema in (page.get("schema") or {}).items() if isinstance(page.get("schema"), dict) else ():
            if isinstance(schema, dict) and schema.get("custom") == PARTICIPANTS_TYPE:
                return fid
        for fid, name in (page.get("names") or {}).items() if isinstance(page.get("names"), dict) else ():
            if isinstance(name, str) and name.casefold() == PARTICIPANTS_NAME.casefold():
                return fid
    return None


# ------------------------------------------------------------------ export files


def export_issues(doc, where: str) -> list:
    """The issues of a search response ``{"issues": [...]}`` or of a list of such pages."""
    pages = [doc] if isinstance(doc, dict) else doc
    if not isinstance(pages, list):
        raise ConfigError(f"{where}: expected a Jira search response {{\"issues\": [...]}} or a list of them")
    issues = []
    for n, page in enumerate(pages, start=1):
        if isinstance(page, dict) and isinstance(page.get("issues"), list):
            issues.extend(page["issues"])
        elif isinstance(page, dict) and "fields" in page and isinstance(doc, list):
            issues.append(page)  # a list of bare issues
        else:
            what = "the document" if page is doc else f"page {n}"
            raise ConfigError(f"{where}: {what} is not a Jira search response (expected an object with an issues list)")
    return issues


def _read_export(path: Path, cfg: JiraOptions) -> Iterator[RawRecord]:
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not a JSON document ({exc})") from None
    participants = participants_field_of(doc, cfg)
    if participants != cfg.participants_field:
        cfg = evolve(cfg, participants_field=participants)
    for number, issue in enumerate(export_issues(doc, name), start=1):
        yield name, number, _record(issue, cfg, missing=truncation(issue, cfg))


# ------------------------------------------------------------------ the live API


def _client(cfg: JiraOptions, sleep, progress) -> Client:
    (token,) = credentials_from_env("jira", cfg.token_env)
    email = cfg.email or os.environ.get(cfg.email_env)
    if not email:
        raise ConfigError(f"jira: set the option email or the environment variable {cfg.email_env} "
                          "(the Jira account's email)")
    hint = f"${cfg.token_env}" + ("" if cfg.email else f" and ${cfg.email_env}")
    http = HttpClient(cfg.api_url, name="jira", basic=(email, token), auth_hint=hint,
                      headers={"User-Agent": f"cso-policy-jira/{__version__}"},
                      retries=cfg.max_retries, max_retry_wait=cfg.max_retry_wait, timeout=cfg.timeout,
                      sleep=sleep, progress=progress)
    return Client(http)


def _sla_field_id(catalog: list, name: str) -> str | None:
    wanted = name.casefold()
    named = [f for f in catalog if isinstance(f, dict) and isinstance(f.get("id"), str)
             and str(f.get("name", "")).casefold() == wanted]
    sla = [f for f in named if isinstance(f.get("schema"), dict)
           and f["schema"].get("type") == "sd-servicelevelagreement"]
    chosen = sla or named
    return chosen[0]["id"] if chosen else None


def discover_sla_fields(cfg: JiraOptions, client: Client) -> JiraOptions:
    """Field ids of the SLAs named first_response_sla / resolution_sla (``GET /rest/api/3/field``)
    when they are not configured."""
    need_response = cfg.first_response_from != "comment" and not cfg.first_response_field
    need_resolution = cfg.resolved_from == "sla" and not cfg.resolution_field
    if not (need_response or need_resolution):
        return cfg
    catalog = client.fields()
    changes = {}
    if need_response:
        found = _sla_field_id(catalog, cfg.first_response_sla)
        if found is None and cfg.first_response_from == "sla":
            raise ConfigError(f"jira: {client.base_url} has no field named {cfg.first_response_sla!r}; set "
                              "first_response_field (or first_response_sla, or first_response_from = \"comment\")")
        changes["first_response_field"] = found
    if need_resolution:
        # none found: resolved_at comes from resolutiondate
        changes["resolution_field"] = _sla_field_id(catalog, cfg.resolution_sla)
    return evolve(cfg, **changes)


def search_fields(cfg: JiraOptions) -> list[str]:
    configured = (cfg.first_response_field, cfg.resolution_field, cfg.rca_field,
                  cfg.contract_field, cfg.lob_field, cfg.channel_field, cfg.participants_field)
    extra = [root_field(f) for f in configured if f]
    return list(dict.fromkeys([*BASE_FIELDS, *extra]))


def jql_of(cfg: JiraOptions) -> str:
    if cfg.jql:
        return cfg.jql
    project = cfg.project.replace("\\", "\\\\").replace('"', '\\"')
    return f'project = "{project}" ORDER BY created ASC'


_ORDER_BY = re.compile(r"\s+order\s+by\s+[^()\"']*$", re.IGNORECASE)


def channel_jql(jql: str, value: str) -> str:
    """*jql* (without its ORDER BY) narrowed to the requests raised through JSM channel *value*."""
    base = _ORDER_BY.sub("", jql.strip())
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'({base}) AND request-channel-type = "{escaped}"'


def request_channels(cfg: JiraOptions, client: Client) -> dict[str, str]:
    """Issue key -> JSM request channel, for the channels in ``request_channel_map``.

    The channel is no issue field in the REST API: JSM exposes it to JQL as
    ``request-channel-type`` only, so each mapped value is one key-only search of the
    same query. Needed only when no ``channel_field`` is configured."""
    if cfg.channel_field or not cfg.request_channel:
        return {}
    found: dict[str, str] = {}
    jql = jql_of(cfg)
    for value in cfg.request_channels:
        for issue in client.search(channel_jql(jql, value), ["created"], cfg.page_size, expand=None):
            key = issue_key(issue)
            if key is not None:
                found.setdefault(key, value)
    return found


def _complete(container, key: str) -> bool:
    """Whether an embedded page (changelog, comments) holds all its items."""
    if not isinstance(container, dict) or not isinstance(container.get(key), list):
        return False
    total = container.get("total")
    return not isinstance(total, int) or total <= len(container[key])


def _read_live(cfg: JiraOptions, client: Client) -> Iterator[RawRecord]:
    cfg = discover_sla_fields(cfg, client)
    where = f"jira:{client.base_url}{SEARCH}"
    need_comments = _needs_comments(cfg)
    channels = request_channels(cfg, client)
    for number, issue in enumerate(client.search(jql_of(cfg), search_fields(cfg), cfg.page_size), start=1):
        key = issue_key(issue)
        histories = comments = participants = None
        if key is not None and isinstance(issue.get("fields"), dict):
            if not _complete(issue.get("changelog"), "histories"):
                histories = client.changelog(key)
            if need_comments and not _complete(issue["fields"].get("comment"), "comments"):
                comments = client.comments(key)
            if need_comments and cfg.agent_comments_only and not cfg.participants_field:
                participants = client.participants(key)
        yield where, number, _record(issue, cfg, histories, comments, participants, channels.get(key))
