"""Zendesk tickets (+ metric events, metric sets, audits, comments) -> cso-policy ticket records.

The same code serves the export file and the live API: both first gather a
:class:`Dataset` (what Zendesk returned, joined by ticket id), then
:func:`ticket_record` maps one ticket, returning a record dict or a
:class:`BadLine` naming the Zendesk field that could not be mapped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from cso_policy import BadLine, Incomplete, LeftOut, field_values, map_lookup

from .options import VIA_IDS, ZendeskOptions, field_id

UTC = timezone.utc
SOLVED = ("solved", "closed")
AGENT_ROLES = ("agent", "admin")
COMMENT_EVENTS = ("Comment", "VoiceComment")
# keys of a ticket event's child event that are not a ticket field
TICKET_EVENT_KEYS = frozenset({"id", "via", "via_reference_id", "event_type", "type", "previous_value", "comment_present",
                               "comment_public", "created_at", "timestamp", "author_id", "public", "body",
                               "html_body", "plain_body", "attachments", "audit_id", "system", "metadata"})
RCA_NOON = time(12, 0)  # a date-only RCA value: noon in `timezone` (see README)


@dataclass
class Dataset:
    """What an export (or the API) gave, joined by ticket id (a string)."""

    tickets: list[tuple[int, dict | BadLine]] = field(default_factory=list)  # (1-based index, ticket)
    events: dict[str, list[dict]] = field(default_factory=dict)
    metric_sets: dict[str, dict] = field(default_factory=dict)
    audits: dict[str, list[dict]] = field(default_factory=dict)
    comments: dict[str, list[dict]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    has_events: bool = False  # a ticket_metric_events array was given at all
    has_comments: bool = False  # audits or comments were given at all
    history: set[str] = field(default_factory=set)  # tickets whose whole field history is given
    left_out: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), e.g. before start_time
    count: int = 0  # tickets seen, duplicates included
    comment_tickets: set[str] = field(default_factory=set)  # tickets with comments in their ticket events

    def add_page(self, page: dict) -> None:
        """Take one page ({"tickets": [...], "ticket_metric_events": [...], ...})."""
        for ticket in _list(page.get("tickets")):
            self.add_ticket(ticket)
        if "ticket_metric_events" in page:
            self.has_events = True
            for event in _list(page.get("ticket_metric_events")):
                self.add_event(event)
        for key in ("metric_sets", "ticket_metrics"):
            for ms in _list(page.get(key)):
                if isinstance(ms, dict) and ms.get("ticket_id") is not None:
                    self.metric_sets[str(ms["ticket_id"])] = ms
        if "audits" in page:
            self.has_comments = True
            for audit in _list(page.get("audits")):
                if isinstance(audit, dict) and audit.get("ticket_id") is not None:
                    self.audits.setdefault(str(audit["ticket_id"]), []).append(audit)
                    self.history.add(str(audit["ticket_id"]))  # the Ticket Audits API lists every audit
        if "ticket_events" in page:
            self.has_comments = True
            for event in _list(page.get("ticket_events")):
                self.add_ticket_event(event)
        if "comments" in page:
            self.has_comments = True
            for comment in _list(page.get("comments")):
                if isinstance(comment, dict) and comment.get("ticket_id") is not None:
                    self.comments.setdefault(str(comment["ticket_id"]), []).append(comment)
        for user in _list(page.get("users")):
            if isinstance(user, dict) and user.get("id") is not None and isinstance(user.get("role"), str):
                self.roles[str(user["id"])] = user["role"]

    def add_ticket(self, ticket) -> None:
        self.count += 1
        if not isinstance(ticket, dict):
            self.tickets.append((self.count, BadLine(f"tickets[]: expected a ticket object, got {_kind(ticket)}")))
            return
        self.tickets.append((self.count, ticket))
        tid = ticket.get("id")
        key = str(tid) if tid is not None else None
        # ticket-embedded extras (some export tools nest them)
        if key is not None:
            if isinstance(ticket.get("metric_set"), dict):
                self.metric_sets[key] = ticket["metric_set"]
            embedded = ticket.get("metric_events")
            if isinstance(embedded, dict):  # show-ticket sideload: {"reply_time": [...], ...}
                embedded = [e for evs in embedded.values() for e in _list(evs)]
            if isinstance(embedded, list):
                self.has_events = True
                for event in embedded:
                    if isinstance(event, dict):
                        self.events.setdefault(key, []).append({"ticket_id": tid, **event})
            if isinstance(ticket.get("audits"), list):
                self.has_comments = True
                self.audits.setdefault(key, []).extend(a for a in ticket["audits"] if isinstance(a, dict))
                self.history.add(key)
            if isinstance(ticket.get("comments"), list):
                self.has_comments = True
                self.comments.setdefault(key, []).extend(c for c in ticket["comments"] if isinstance(c, dict))

    def add_ticket_event(self, event) -> None:
        """One item of the incremental ticket event export (``GET /api/v2/incremental/ticket_events``):
        ``{"ticket_id", "created_at"/"timestamp", "updater_id", "via", "event_type", "child_events": [...]}``.
        It is kept as an audit: child events ``Create``/``Change`` name the field by their key
        (``{"priority": "urgent", "previous_value": "normal", "event_type": "Change"}``);
        ``Comment`` children (the ``comment_events`` sideload) carry ``public`` and ``author_id``."""
        if not isinstance(event, dict) or event.get("ticket_id") is None:
            return
        key = str(event["ticket_id"])
        created = event.get("created_at")
        if not created and isinstance(event.get("timestamp"), (int, float)) and not isinstance(event.get("timestamp"), bool):
            created = datetime.fromtimestamp(event["timestamp"], UTC).isoformat()
        children = []
        for child in _list(event.get("child_events")):
            if not isinstance(child, dict):
                continue
            kind = child.get("event_type") or child.get("type")
            if kind in COMMENT_EVENTS:
                children.append({**child, "type": kind, "author_id": child.get("author_id", event.get("updater_id")),
                                 "public": child.get("public", child.get("comment_public"))})
                self.comment_tickets.add(key)
            elif kind in ("Create", "Change"):
                for name, value in child.items():
                    if name in TICKET_EVENT_KEYS:
                        continue
                    if name == "custom_ticket_fields" and isinstance(value, dict):
                        for fid, fvalue in value.items():
                            children.append({"type": kind, "field_name": str(fid), "value": fvalue,
                                             "previous_value": child.get("previous_value")})
                        continue
                    children.append({"type": kind, "field_name": name, "value": value,
                                     "previous_value": child.get("previous_value")})
        self.audits.setdefault(key, []).append(
            {"ticket_id": event["ticket_id"], "created_at": created, "author_id": event.get("updater_id"),
             "events": children, "from_ticket_events": True})
        if any(c["type"] == "Create" for c in children):
            self.history.add(key)  # the stream covers the ticket's creation: its whole history follows

    def add_event(self, event) -> None:
        if isinstance(event, dict) and event.get("ticket_id") is not None:
            self.events.setdefault(str(event["ticket_id"]), []).append(event)

    def latest_tickets(self) -> list[tuple[int, dict | BadLine]]:
        """Each ticket once, its last (latest) occurrence: the incremental export repeats a
        ticket updated while the export ran. In the order of those occurrences."""
        last: dict[str, int] = {}
        for n, t in self.tickets:
            if isinstance(t, dict) and t.get("id") is not None:
                last[str(t["id"])] = n
        return [
            (n, t) for n, t in self.tickets
            if not isinstance(t, dict) or t.get("id") is None or last[str(t["id"])] == n
        ]


# ------------------------------------------------------------------ one ticket


class Unmappable(Exception):
    """One ticket cannot be mapped; the message names the Zendesk field."""


def records(ds: Dataset, cfg: ZendeskOptions, file: str) -> Iterator[tuple[str, int, dict | BadLine | LeftOut | Incomplete]]:
    for line, reason in ds.left_out:
        yield file, line, LeftOut(reason)
    for line, ticket in ds.latest_tickets():
        if isinstance(ticket, BadLine):
            yield file, line, ticket
            continue
        if cfg.organizations is not None and str(ticket.get("organization_id")) not in cfg.organizations:
            # another customer's ticket: not a record of this contract
            yield file, line, LeftOut(
                f"zendesk ticket {ticket.get('id')}: organization_id {ticket.get('organization_id')} is not in organization_ids")
            continue
        if ticket.get("status") == "deleted":
            if cfg.deleted == "error":
                yield file, line, BadLine(f"zendesk ticket {ticket.get('id')}: status: the ticket was deleted")
            else:
                yield file, line, LeftOut(f"zendesk ticket {ticket.get('id')}: deleted (status deleted: spam or removed)")
            continue
        try:
            obj = ticket_record(ticket, ds, cfg)
        except Unmappable as exc:
            yield file, line, BadLine(f"zendesk ticket {ticket.get('id', '?')}: {exc}")
            continue
        except HistoryUnknown as exc:
            yield file, line, Incomplete(exc.record, f"zendesk ticket {ticket.get('id', '?')}: {exc.reason}")
            continue
        yield file, line, obj


class HistoryUnknown(Exception):
    """The severity at opening cannot be known: the record is Incomplete."""

    def __init__(self, record: dict, reason: str):
        super().__init__(reason)
        self.record = record
        self.reason = reason


def ticket_record(ticket: dict, ds: Dataset, cfg: ZendeskOptions) -> dict:
    tid = ticket.get("id")
    if isinstance(tid, bool) or not isinstance(tid, (int, str)) or str(tid) == "":
        raise Unmappable(f"id: expected the ticket id, got {tid!r}")
    key = str(tid)
    opened = parse_ts(ticket.get("created_at"), "created_at")
    fields = _custom_fields(ticket)

    history_known = key in ds.history or _never_updated(ticket, opened)
    severity, changes = _severities(ticket, ds.audits.get(key, []), fields, cfg, opened)
    channel = _channel(ticket, cfg)
    lob = _lob(ticket, fields, cfg)

    events = _events(ds.events.get(key, []))
    first_response = next(
        (t for t, e in events if e.get("metric") == "reply_time" and e.get("type") == "fulfill" and e.get("instance_id") == 1),
        None,
    )
    metric_updates = _unique(
        t for t, e in events
        if e.get("type") == "fulfill" and e.get("metric") in cfg.update_metrics
        and not (e.get("metric") == "reply_time" and e.get("instance_id") == 1)
    )
    has_comment_data = _has_comment_data(ds, key)
    agent_comments = _agent_comments(ticket, ds, key, opened) if has_comment_data else []
    if first_response is None and agent_comments:
        first_response = agent_comments[0]
    use_comments = cfg.updates_from == "comments" or (cfg.updates_from == "auto" and has_comment_data)
    updates = agent_comments if use_comments else metric_updates

    resolved = _resolved(ticket, ds.metric_sets.get(key), events)
    # Updates are the agent's public replies from the first response to the resolution: the
    # first response is not repeated, and a reply after the (last) solve, a closing note or a
    # follow-up on a solved ticket, is no periodic update of the resolved ticket. A reopened
    # ticket that is open again has no resolution yet, so all its replies count.
    updates = [t for t in updates if t != first_response and (resolved is None or t <= resolved)]
    tags = _tags(ticket)

    record = {
        "kind": "ticket",
        "id": f"{cfg.id_prefix}{key}",
        "contract": cfg.contract,
        "lob": lob,
        "severity": severity,
        "opened_at": iso(opened),
        "first_response_at": iso(first_response),
        "updates": [iso(t) for t in updates],
        "resolved_at": iso(resolved),
        "is_bug": _flag(cfg.bug, "bug", ticket, tags, fields),
        "rca_delivered_at": iso(_rca(tags, fields, cfg)),
        "channel": channel,
        "security_incident": _flag(cfg.security, "security", ticket, tags, fields),
        "tier2_direct": _flag(cfg.tier2, "tier2", ticket, tags, fields),
        "severity_changes": changes,
    }
    subject = ticket.get("subject") or ticket.get("raw_subject")
    if isinstance(subject, str) and subject:
        record["subject"] = subject
    if not history_known:
        what = "priority" if cfg.severity_field is None else f"custom field {field_id(cfg.severity_field)} (severity_field)"
        partial = {k: v for k, v in record.items() if k not in ("severity", "severity_changes")}
        raise HistoryUnknown(
            partial,
            f"severity at opening unknown: the export has no audits or ticket events for this ticket, and it was "
            f"updated after it was opened (updated_at {ticket.get('updated_at')}), so its {what} may have changed "
            f"(it is {severity_value(ticket, fields, cfg)!r} now); export its audits or the ticket event export",
        )
    return record


def severity_value(ticket: dict, fields: dict, cfg: ZendeskOptions):
    return ticket.get("priority") if cfg.severity_field is None else fields.get(field_id(cfg.severity_field))


def _never_updated(ticket: dict, opened: datetime) -> bool:
    """A ticket never updated since it was created still has the priority it was opened with."""
    try:
        return parse_ts(ticket.get("updated_at"), "updated_at") <= opened
    except Unmappable:
        return False


def _has_comment_data(ds: Dataset, key: str) -> bool:
    """Comments of this ticket are given: comments, Ticket Audits, or ticket events with their
    comment events (the ticket event export without the comment_events sideload has none)."""
    if key in ds.comments or key in ds.comment_tickets:
        return True
    return any(not a.get("from_ticket_events") for a in ds.audits.get(key, []))


# ------------------------------------------------------------------ fields


def parse_ts(value, where: str, *, tz=UTC) -> datetime:
    """A Zendesk timestamp (ISO 8601, UTC with Z); a naive one is taken in *tz* (UTC: the
    Zendesk convention)."""
    if not isinstance(value, str) or not value:
        raise Unmappable(f"{where}: expected an ISO 8601 timestamp, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Unmappable(f"{where}: expected an ISO 8601 timestamp, got {value!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _custom_fields(ticket: dict) -> dict[str, object]:
    found: dict[str, object] = {}
    for key in ("fields", "custom_fields"):  # custom_fields wins (same content)
        for f in _list(ticket.get(key)):
            if isinstance(f, dict) and f.get("id") is not None:
                found[str(f["id"])] = f.get("value")
    return found


def _field(fields: dict, fid: str, option: str):
    if fid not in fields:
        raise Unmappable(f"custom_fields: no field {fid} on the ticket ({option} names it)")
    return fields[fid]


def _tags(ticket: dict) -> list[str]:
    return [t.lower() for t in field_values(ticket, "tags")[0]]


def _severity(value, where: str, cfg: ZendeskOptions) -> str:
    if value is None or value == "":
        if cfg.missing_priority is not None:
            return cfg.missing_priority
        raise Unmappable(f"{where}: not set (null); set the missing_priority option to give such tickets a severity")
    severity = map_lookup(cfg.severities, str(value)) if not isinstance(value, (list, dict)) else None
    if severity is None:
        known = ", ".join(sorted(cfg.severities))
        raise Unmappable(f"{where}: {value!r} has no severity; add it to severity_map (mapped: {known})")
    return severity


def _severities(ticket, audits, fields, cfg: ZendeskOptions, opened: datetime) -> tuple[str, list[dict]]:
    """The severity at opening and the later changes, from the priority (or severity_field)
    and, when audits are given, its Create/Change events."""
    if cfg.severity_field is None:
        name, where = "priority", "priority"
        current = ticket.get("priority")
    else:
        name = field_id(cfg.severity_field)
        where = f"custom_fields[{name}] (severity_field)"
        current = _field(fields, name, "severity_field")
    history: list[tuple[datetime, int, str, object, object]] = []  # (at, order, type, value, previous)
    order = 0
    for a, audit in enumerate(audits):
        for e, event in enumerate(_list(audit.get("events"))):
            if not isinstance(event, dict) or str(event.get("field_name")) != name:
                continue
            if event.get("type") not in ("Create", "Change"):
                continue
            at = parse_ts(audit.get("created_at"), f"audits[{a}].created_at")
            history.append((at, order, event["type"], event.get("value"), event.get("previous_value")))
            order += 1
    history.sort(key=lambda h: (h[0], h[1]))
    creates = [h for h in history if h[2] == "Create"]
    changes = [h for h in history if h[2] == "Change"]
    if creates:
        initial = creates[0][3]
    elif changes:
        initial = changes[0][4]
    else:
        initial = current
    severity = _severity(initial, where if not history else f"audits: {where} at opening", cfg)
    out: list[dict] = []
    last = severity
    for at, _, _, value, _ in changes:
        sev = _severity(value, f"audits: {where} changed at {iso(at)}", cfg)
        if sev != last:
            out.append({"at": iso(max(at, opened)), "severity": sev})
            last = sev
    return severity, out


def _channel(ticket: dict, cfg: ZendeskOptions) -> str:
    via = ticket.get("via")
    raw = via.get("channel") if isinstance(via, dict) else None
    if raw is None or raw == "":
        raise Unmappable("via.channel: missing; cannot tell the support channel")
    candidates = [str(raw)]
    if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()):
        via_type = VIA_IDS.get(int(raw))
        if via_type is not None:
            candidates.append(via_type)
    for c in candidates + ["*"]:  # "*": every other value
        channel = map_lookup(cfg.channels, c)
        if channel is not None:
            return channel
    shown = repr(candidates[0]) if len(candidates) == 1 else f"{candidates[0]!r} (via type {candidates[1]})"
    raise Unmappable(
        f"via.channel: {shown} is not mapped to a support channel; add it to channel_map "
        "(web, chat, phone, messaging or email)"
    )


def _lob(ticket: dict, fields: dict, cfg: ZendeskOptions) -> str:
    if cfg.lob is not None:
        return cfg.lob
    how = cfg.lob_from
    lob_map = cfg.lob_map
    if how == "tags":
        found = sorted({lob for lob in (map_lookup(lob_map, t) for t in _tags(ticket)) if lob is not None})
        if not found:
            raise Unmappable(f"tags: none of the lob_map tags ({', '.join(sorted(lob_map))}) is on the ticket")
        if len(found) > 1:
            raise Unmappable(f"tags: tags of several lines of business ({', '.join(found)})")
        return found[0]
    if how == "custom_field":
        value = _field(fields, field_id(cfg.lob_field), "lob_field")
        where = f"custom_fields[{field_id(cfg.lob_field)}] (lob_field)"
    else:
        value = ticket.get(how)
        where = how
    if value is None or value == "" or isinstance(value, (list, dict, bool)):
        raise Unmappable(f"{where}: expected a value naming the line of business, got {value!r}")
    if lob_map is None:
        return str(value)
    lob = map_lookup(lob_map, str(value))
    if lob is None:
        raise Unmappable(f"{where}: {value!r} is not in lob_map ({', '.join(sorted(lob_map))})")
    return lob


def _events(raw: list[dict]) -> list[tuple[datetime, dict]]:
    """The ticket's metric events, deleted ones dropped, in time order."""
    out = []
    for event in raw:
        if event.get("deleted") is True:
            continue
        when = parse_ts(event.get("time"), f"ticket_metric_events[id={event.get('id')}].time")
        out.append((when, event))
    out.sort(key=lambda te: (te[0], _sortable(te[1].get("id"))))
    return out


def _agent_comments(ticket: dict, ds: Dataset, key: str, opened: datetime) -> list[datetime]:
    """Times of public comments by agents after the ticket was opened. An author is an agent
    when the users sideload says so (role agent/admin); without it, anyone but the requester."""
    requester = ticket.get("requester_id")
    times: list[datetime] = []

    def consider(comment: dict, at: datetime) -> None:
        if comment.get("public") is not True:
            return
        author = comment.get("author_id")
        role = ds.roles.get(str(author)) if author is not None else None
        if role is not None:
            if role not in AGENT_ROLES:
                return
        elif author is None or (requester is not None and str(author) == str(requester)):
            return
        if at > opened:
            times.append(at)

    for a, audit in enumerate(ds.audits.get(key, [])):
        events = [e for e in _list(audit.get("events")) if isinstance(e, dict) and e.get("type") in COMMENT_EVENTS]
        if not events:
            continue
        at = parse_ts(audit.get("created_at"), f"audits[{a}].created_at")
        for event in events:
            consider({"author_id": audit.get("author_id"), **event}, at)
    for c, comment in enumerate(ds.comments.get(key, [])):
        consider(comment, parse_ts(comment.get("created_at"), f"comments[{c}].created_at"))
    return _unique(sorted(times))


def _resolved(ticket: dict, metric_set: dict | None, events) -> datetime | None:
    """Solved/closed tickets only: metric set solved_at, else the last resolution_time fulfill
    not re-activated since."""
    status = ticket.get("status")
    if status not in SOLVED:
        return None
    if metric_set and metric_set.get("solved_at"):
        return parse_ts(metric_set["solved_at"], "metric_set.solved_at")
    resolved = None
    for when, e in events:
        if e.get("metric") == "resolution_time":
            if e.get("type") == "fulfill":
                resolved = when
            elif e.get("type") == "activate" and resolved is not None:
                resolved = None
    if resolved is None:
        raise Unmappable(
            f"status: {status!r} but no solve time: neither metric_sets solved_at nor a "
            "resolution_time fulfill event for this ticket"
        )
    return resolved


def _flag(flag, option: str, ticket: dict, tags: list[str], fields: dict) -> bool:
    if any(t in flag.tags for t in tags):
        return True
    if flag.types and str(ticket.get("type") or "").lower() in flag.types:
        return True
    if flag.field is not None:
        value = _field(fields, flag.field, f"{option}_field")
        values = value if isinstance(value, list) else [value]
        if flag.values is not None:
            return any(v is not None and str(v) in flag.values for v in values)
        return any(v is True or (isinstance(v, str) and v.strip().lower() in ("true", "yes", "1")) for v in values)
    return False


def _rca(tags: list[str], fields: dict, cfg: ZendeskOptions) -> datetime | None:
    found: list[datetime] = []
    if cfg.rca_field is not None:
        rca_field = field_id(cfg.rca_field)
        value = _field(fields, rca_field, "rca_field")
        if value not in (None, ""):
            found.append(_rca_value(value, f"custom_fields[{rca_field}] (rca_field)", cfg))
    if cfg.rca_tag_prefix:
        prefix = cfg.rca_tag_prefix.lower()
        for t in tags:
            if t.startswith(prefix):
                found.append(_rca_value(t[len(prefix):], f"tags: {t}", cfg))
    return min(found) if found else None


def _rca_value(value, where: str, cfg: ZendeskOptions) -> datetime:
    """A date (Zendesk date fields: YYYY-MM-DD) is noon of that day in `timezone`; a timestamp
    is taken as is (naive: in `timezone`)."""
    if not isinstance(value, str):
        raise Unmappable(f"{where}: expected a date or timestamp, got {value!r}")
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return datetime.combine(date.fromisoformat(text), RCA_NOON, cfg.tz)
        except ValueError:
            raise Unmappable(f"{where}: {value!r} is not a date") from None
    return parse_ts(text, where, tz=cfg.tz)


# ------------------------------------------------------------------ helpers


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(type(value), type(value).__name__)


def _unique(times: Iterable[datetime]) -> list[datetime]:
    out: list[datetime] = []
    seen = set()
    for t in sorted(times):
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _sortable(value) -> tuple:
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))
