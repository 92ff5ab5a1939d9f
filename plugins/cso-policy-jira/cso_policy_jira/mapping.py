"""One Jira Service Management issue -> one cso-policy ticket record.

Everything here is pure: the issue is a dict of the REST API's shape (as in the
``issues`` of a ``/rest/api/3/search/jql`` response); a value that cannot be
mapped raises :class:`cso_policy.MappingError` with a message naming the source field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from cso_policy import MappingError, derive_field, field_at, map_lookup

from .options import JiraOptions

# 2024-01-15T10:23:45.123+0000, 2024-01-15T10:23:45+00:00, 2024-01-15T10:23Z
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ------------------------------------------------------------------ timestamps


def iso(value, where: str) -> str:
    """Jira's ``2024-01-15T10:23:45.123+0000`` -> ``2024-01-15T10:23:45.123+00:00`` (ISO 8601, colon offset)."""
    if not isinstance(value, str):
        raise MappingError(f"{where}: expected a timestamp like 2024-01-15T10:23:45.123+0000, got {value!r}")
    m = _TIMESTAMP.match(value.strip())
    if m is None:
        raise MappingError(f"{where}: expected a timestamp with a UTC offset like 2024-01-15T10:23:45.123+0000, "
                           f"got {value!r}")
    body, fraction, offset = m.groups()
    if offset != "Z" and ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    text = f"{body}{(fraction or '')[:7]}{offset}"  # at most microseconds
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise MappingError(f"{where}: not a valid date-time: {value!r}") from None
    return text


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def date_object(value, where: str) -> str:
    """A JSM SLA date object ``{iso8601, jira, friendly, epochMillis}`` -> ISO 8601."""
    if isinstance(value, dict):
        for key in ("iso8601", "jira"):
            if isinstance(value.get(key), str):
                return iso(value[key], f"{where}.{key}")
        millis = value.get("epochMillis")
        if type(millis) is int:
            return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds")
    raise MappingError(f"{where}: expected a date object with iso8601 or epochMillis, got {value!r}")


# ------------------------------------------------------------------ field access


def _path(field: str) -> list[str]:
    parts = field.split(".")
    return parts[1:] if parts[0] == "fields" and len(parts) > 1 else parts


def root_field(field: str) -> str:
    """The top-level field a *field* path reads (``customfield_10010.requestType.name`` -> ``customfield_10010``)."""
    return _path(field)[0]


def get(fields: dict, field: str):
    """The raw value at a dotted *field* path (``customfield_10050``, ``project.key``)."""
    return field_at(fields, ".".join(_path(field)))


def derive(fields: dict, field: str | None, mapping: dict | None, fallback: str | None, option: str) -> str:
    """A value from *field* through *mapping* (or as is), else *fallback* (:func:`cso_policy.derive_field`)."""
    return derive_field(fields, ".".join(_path(field)) if field else field, mapping, fallback, option,
                        label=f"fields.{field}" if field else None)


# ------------------------------------------------------------------ SLA fields


def find_sla(fields: dict, field_id: str | None, name: str) -> tuple[str, dict] | None:
    """The SLA field (id, value): the configured id, else the field whose SLA ``name`` matches."""
    if field_id:
        value = get(fields, field_id)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise MappingError(f"fields.{field_id}: expected an SLA object {{name, completedCycles, ...}}, "
                               f"got {value!r}")
        return field_id, value
    wanted = name.casefold()
    for fid, value in fields.items():
        if isinstance(value, dict) and "completedCycles" in value and str(value.get("name", "")).casefold() == wanted:
            return fid, value
    return None


def _cycles(fid: str, sla: dict) -> list:
    cycles = sla.get("completedCycles") or []
    if not isinstance(cycles, list):
        raise MappingError(f"fields.{fid}.completedCycles: expected a list, got {cycles!r}")
    return cycles


def _stop(fid: str, cycles: list, index: int) -> str:
    n = index if index >= 0 else len(cycles) + index
    cycle = cycles[index]
    where = f"fields.{fid}.completedCycles[{n}].stopTime"
    if not isinstance(cycle, dict):
        raise MappingError(f"fields.{fid}.completedCycles[{n}]: expected a cycle object, got {cycle!r}")
    return date_object(cycle.get("stopTime"), where)


# ------------------------------------------------------------------ parts of a ticket


def _severity(name, cfg: JiraOptions, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise MappingError(f"{where}: no priority (expected one of {', '.join(cfg.priorities)})")
    severity = map_lookup(cfg.priorities, name)
    if severity is None:
        raise MappingError(f"{where} {name!r} is not in priority_map (known: {', '.join(cfg.priorities)})")
    return severity


def priority_changes(histories: Iterable) -> list[tuple[datetime, str, object, object, str]]:
    """(instant, at, fromString, toString, where) of every priority change, oldest first."""
    found = []
    for i, history in enumerate(histories):
        if not isinstance(history, dict):
            raise MappingError(f"changelog.histories[{i}]: expected an object, got {history!r}")
        items = history.get("items") or []
        for j, item in enumerate(items):
            if isinstance(item, dict) and (item.get("field") == "priority" or item.get("fieldId") == "priority"):
                at = iso(history.get("created"), f"changelog.histories[{i}].created")
                found.append((_instant(at), at, item.get("fromString"), item.get("toString"),
                              f"changelog.histories[{i}].items[{j}]"))
    found.sort(key=lambda c: c[0])  # expand=changelog lists the newest first; /changelog the oldest
    return found


def severities(fields: dict, histories: Iterable, cfg: JiraOptions) -> tuple[str, list[dict]]:
    """The severity at opening and the later changes of severity.

    The opening priority is the ``fromString`` of the first priority change (the
    current ``fields.priority`` when there is none). A change between two
    priorities of the same severity (Low -> Lowest) is no severity change.
    """
    changes = priority_changes(histories)
    if changes and changes[0][2] is None:  # the priority was first set after creation
        _, _, _, first, where = changes.pop(0)
        opening = _severity(first, cfg, f"{where}.toString")
    elif changes:
        opening = _severity(changes[0][2], cfg, f"{changes[0][4]}.fromString")
    else:
        priority = fields.get("priority")
        opening = _severity(priority.get("name") if isinstance(priority, dict) else None, cfg, "fields.priority.name")
    current, out = opening, []
    for _, at, _, to, where in changes:
        severity = _severity(to, cfg, f"{where}.toString")
        if severity != current:
            out.append({"at": at, "severity": severity})
            current = severity
    return opening, out


def account_ids(users, where: str) -> set[str]:
    """The ``accountId`` of each user object in *users* (a list, as the Request participants field
    and ``/rest/servicedeskapi/request/{key}/participant`` give them)."""
    if users is None:
        return set()
    if not isinstance(users, list):
        raise MappingError(f"{where}: expected a list of users, got {users!r}")
    return {u["accountId"] for u in users if isinstance(u, dict) and isinstance(u.get("accountId"), str)}


def customers(fields: dict, cfg: JiraOptions, participants: list | None = None) -> set[str]:
    """Account ids of the request's customers: the reporter and the request participants
    (*participants* when the caller read them, else the ``participants_field`` of the issue)."""
    reporter = fields.get("reporter")
    found = {reporter["accountId"]} if isinstance(reporter, dict) and isinstance(reporter.get("accountId"), str) \
        else set()
    if participants is not None:
        found |= account_ids(participants, "request participants")
    elif cfg.participants_field:
        found |= account_ids(get(fields, cfg.participants_field), f"fields.{cfg.participants_field}")
    return found


def public_comments(fields: dict, comments: Iterable, cfg: JiraOptions, participants: list | None = None) -> list[str]:
    """Creation times of the public comments (``jsdPublic``, no visibility restriction), in the
    order given. With ``agent_comments_only`` the customers' comments are left out: the
    reporter's, the request participants', and any author whose ``accountType`` is
    ``"customer"`` (a JSM portal-only account, never an agent)."""
    ids = customers(fields, cfg, participants) if cfg.agent_comments_only else set()
    out = []
    for i, comment in enumerate(comments):
        where = f"fields.comment.comments[{i}]"
        if not isinstance(comment, dict):
            raise MappingError(f"{where}: expected a comment object, got {comment!r}")
        if comment.get("jsdPublic", True) is not True or comment.get("visibility"):
            continue
        author = comment.get("author")
        if cfg.agent_comments_only and isinstance(author, dict) and (
                author.get("accountId") in ids or author.get("accountType") == "customer"):
            continue
        out.append(iso(comment.get("created"), f"{where}.created"))
    return out


def between(times: list[str], first_response_at: str | None, resolved_at: str | None) -> list[str]:
    """The comments that are periodic updates: from the first response to the resolution.

    A comment before the first response is no update (the response clock covers that
    time), nor is one after the resolution (a closing note, a follow-up): both are
    normal in Jira, and the ticket's chain [first response, updates..., resolution] has no
    room for them. Order is kept as Jira gives it.
    """
    start = _instant(first_response_at) if first_response_at else None
    end = _instant(resolved_at) if resolved_at else None
    return [t for t in times if (start is None or _instant(t) >= start) and (end is None or _instant(t) <= end)]


def first_response(fields: dict, comment_times: list[str], cfg: JiraOptions) -> str | None:
    if cfg.first_response_from in ("sla", "sla_or_comment"):
        found = find_sla(fields, cfg.first_response_field, cfg.first_response_sla)
        if found is not None:
            fid, sla = found
            cycles = _cycles(fid, sla)
            if cycles:
                return _stop(fid, cycles, 0)
    if cfg.first_response_from in ("comment", "sla_or_comment") and comment_times:
        return min(comment_times, key=_instant)
    return None


def resolved(fields: dict, cfg: JiraOptions) -> str | None:
    """The resolution SLA's last completed cycle (none while a cycle runs), else
    ``resolutiondate``, else ``statuscategorychangedate`` of an issue in a done status."""
    if cfg.resolved_from == "sla":
        found = find_sla(fields, cfg.resolution_field, cfg.resolution_sla)
        if found is not None:
            fid, sla = found
            if sla.get("ongoingCycle"):
                return None  # the clock still runs (reopened, or not yet resolved)
            cycles = _cycles(fid, sla)
            if cycles:
                return _stop(fid, cycles, -1)
    if fields.get("resolutiondate"):
        return iso(fields["resolutiondate"], "fields.resolutiondate")
    status = fields.get("status")
    category = status.get("statusCategory") if isinstance(status, dict) else None
    if isinstance(category, dict) and category.get("key") == "done" and fields.get("statuscategorychangedate"):
        return iso(fields["statuscategorychangedate"], "fields.statuscategorychangedate")
    return None


def rca(fields: dict, cfg: JiraOptions) -> str | None:
    if not cfg.rca_field:
        return None
    value = get(fields, cfg.rca_field)
    where = f"fields.{cfg.rca_field}"
    if value is None or value == "":
        return None
    if isinstance(value, dict) and "completedCycles" in value:  # an SLA ("Time to RCA")
        cycles = _cycles(cfg.rca_field, value)
        return _stop(cfg.rca_field, cycles, -1) if cycles else None
    if isinstance(value, dict):
        return date_object(value, where)
    if isinstance(value, str) and _DATE.match(value.strip()):
        if cfg.zone is None:
            raise MappingError(f"{where}: {value!r} is a date without a time; set rca_timezone "
                               "(the contract's time zone) to read date fields")
        day = date.fromisoformat(value.strip())
        return datetime.combine(day, time(0), cfg.zone).isoformat()
    return iso(value, where)


def _labels(fields: dict) -> set[str]:
    labels = fields.get("labels")
    if labels is None:
        return set()
    if not isinstance(labels, list):
        raise MappingError(f"fields.labels: expected a list of strings, got {labels!r}")
    return {label for label in labels if isinstance(label, str)}


def _issue_type(fields: dict) -> str | None:
    issuetype = fields.get("issuetype")
    return issuetype.get("name") if isinstance(issuetype, dict) else None


def _comments_of(fields: dict) -> list:
    comment = fields.get("comment")
    if isinstance(comment, dict):
        return comment.get("comments") or []
    if isinstance(comment, list):
        return comment
    return []


# ------------------------------------------------------------------ the record


def issue_key(issue) -> str | None:
    key = issue.get("key") if isinstance(issue, dict) else None
    return key if isinstance(key, str) and key else None


def channel(fields: dict, cfg: JiraOptions, request_channel: str | None) -> str:
    """``channel_field`` through ``channel_map`` when configured; else JSM's request channel
    (``request-channel-type``) through ``request_channel_map``; else the ``channel`` option."""
    if cfg.channel_field:
        return derive(fields, cfg.channel_field, cfg.channels, cfg.channel, "channel")
    if request_channel is not None:
        mapped = map_lookup(cfg.request_channels, request_channel)
        if mapped is not None:
            return mapped
    return cfg.channel


def to_record(issue, cfg: JiraOptions, *, histories: list | None = None, comments: list | None = None,
              participants: list | None = None, request_channel: str | None = None) -> dict:
    """The ticket record of *issue*. *histories* / *comments* replace the issue's own
    (truncated) changelog / comment list when the caller fetched them in full;
    *participants* are the request's participants (``/rest/servicedeskapi/request/{key}/participant``)
    and *request_channel* its JSM request channel, when the caller read them."""
    if not isinstance(issue, dict):
        raise MappingError(f"expected an issue object, got {type(issue).__name__}")
    key = issue_key(issue)
    if key is None:
        raise MappingError("the issue has no key")
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise MappingError("the issue has no fields object")
    if fields.get("created") in (None, ""):
        raise MappingError("fields.created is missing (the opening time)")
    opened_at = iso(fields["created"], "fields.created")

    if histories is None:
        changelog = issue.get("changelog")
        histories = (changelog.get("histories") if isinstance(changelog, dict) else None) or []
    severity, severity_changes = severities(fields, histories, cfg)

    comment_times: list[str] = []
    if cfg.updates_from == "public_comments" or cfg.first_response_from != "sla":
        comment_times = public_comments(fields, _comments_of(fields) if comments is None else comments, cfg,
                                        participants)

    first_response_at = first_response(fields, comment_times, cfg)
    resolved_at = resolved(fields, cfg)
    updates = (
        between(comment_times, first_response_at, resolved_at) if cfg.updates_from == "public_comments" else []
    )
    labels = _labels(fields)
    issue_type = _issue_type(fields)
    record = {
        "kind": "ticket",
        "id": key,
        "contract": derive(fields, cfg.contract_field, cfg.contract_map, cfg.contract, "contract"),
        "lob": derive(fields, cfg.lob_field, cfg.lob_map, cfg.lob, "lob"),
        "severity": severity,
        "opened_at": opened_at,
        "first_response_at": first_response_at,
        "updates": updates,
        "resolved_at": resolved_at,
        "is_bug": issue_type in cfg.bug_issue_types or not labels.isdisjoint(cfg.bug_labels),
        "rca_delivered_at": rca(fields, cfg),
        "channel": channel(fields, cfg, request_channel),
        "security_incident": issue_type in cfg.security_issue_types or not labels.isdisjoint(cfg.security_labels),
        "tier2_direct": not labels.isdisjoint(cfg.tier2_labels),
        "severity_changes": severity_changes,
    }
    summary = fields.get("summary")
    if isinstance(summary, str) and summary:
        record["subject"] = summary
    return record
