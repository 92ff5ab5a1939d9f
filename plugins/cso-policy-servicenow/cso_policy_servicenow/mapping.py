"""One ServiceNow incident (+ its journal and audit rows) -> one cso-policy ticket record.

Everything here is pure: rows are dicts of the Table API's JSON shape with
``sysparm_display_value=false`` (datetimes ``"YYYY-MM-DD HH:MM:SS"`` in UTC,
reference fields ``{"link": ..., "value": sys_id}``). A value that cannot be
mapped raises :class:`cso_policy.MappingError` with a message naming the source field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time

from cso_policy import MappingError, derive_field, field_at, map_lookup

from .options import ServiceNowOptions

_GLIDE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$")
_CHOICE_LABEL = re.compile(r"^\s*(\d+)\s*-")  # "1 - Critical" (a display value)

STATE_NAMES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}


class Users:
    """``sys_user`` rows (``sys_id``, ``user_name``, ``company``) by sys_id and by user_name:
    what resolves an incident's ``caller_id`` / ``opened_by`` references and a journal
    entry's ``sys_created_by`` (a user_name) to a person and their company."""

    def __init__(self, rows: Iterable = ()):
        self.by_id: dict[str, dict] = {}
        self.by_name: dict[str, dict] = {}
        self.add(rows)

    def add(self, rows: Iterable) -> None:
        for row in rows:
            if not isinstance(row, dict):
                continue
            sys_id, name = field(row, "sys_id"), field(row, "user_name")
            if sys_id is not None:
                self.by_id[sys_id] = row
            if name is not None:
                self.by_name[name] = row


# ------------------------------------------------------------------ values


def text(value) -> str | None:
    """A field's raw value as a string: reference ``{link, value}`` -> the sys_id; blank -> None."""
    if isinstance(value, dict):
        value = value.get("value", value.get("display_value"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def field(row: dict, name: str) -> str | None:
    """The value of field *name* as :func:`text`: a dot-walked name is a key of its own in a
    Table API row (``sysparm_fields=caller_id.company``), else a path into nested objects."""
    return text(row[name] if name in row else field_at(row, name))


def timestamp(value, where: str, cfg: ServiceNowOptions) -> str:
    """``"2024-01-15 10:23:45"`` (UTC, or ``datetime_timezone``) -> ``"2024-01-15T10:23:45+00:00"``.

    An ISO 8601 value with an offset is accepted as is (normalised to UTC)."""
    raw = text(value)
    if raw is None:
        raise MappingError(f"{where}: expected a date-time like 2024-01-15 10:23:45, got {value!r}")
    m = _GLIDE.match(raw)
    try:
        if m is not None:
            local = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}").replace(tzinfo=cfg.datetime_zone)
            return local.astimezone(UTC).isoformat()
        if _ISO_WITH_OFFSET.match(raw):
            return datetime.fromisoformat(raw).astimezone(UTC).isoformat()
    except ValueError:
        raise MappingError(f"{where}: not a valid date-time: {raw!r}") from None
    raise MappingError(
        f"{where}: expected a date-time like 2024-01-15 10:23:45 (export with sysparm_display_value=false), "
        f"got {raw!r}"
    )


def _instant(text_: str) -> datetime:
    return datetime.fromisoformat(text_)


def optional_timestamp(row: dict, name: str, cfg: ServiceNowOptions) -> str | None:
    if field(row, name) is None:
        return None
    return timestamp(row.get(name), name, cfg)


def derive(row: dict, name: str | None, mapping: dict | None, fallback: str | None, option: str) -> str:
    """A record field from field *name* through *mapping* (:func:`cso_policy.derive_field`),
    the field read as :func:`field` reads it."""
    return derive_field({"value": field(row, name)} if name else {}, "value" if name else None, mapping,
                        fallback, option, label=name)


def flag(row: dict, names: Iterable[str], accepted: frozenset) -> bool:
    """Whether any of the fields *names* holds one of the *accepted* values (case-insensitive;
    ``*`` accepts any non-empty value, e.g. a problem_id reference)."""
    for name in names:
        value = field(row, name)
        if value is not None and ("*" in accepted or value.casefold() in accepted):
            return True
    return False


# ------------------------------------------------------------------ severity


def severity_of(value, cfg: ServiceNowOptions, where: str) -> str:
    raw = text(value)
    if raw is None:
        raise MappingError(f"{where}: no priority (expected one of {', '.join(cfg.priorities)})")
    severity = map_lookup(cfg.priorities, raw)
    if severity is None:
        m = _CHOICE_LABEL.match(raw)
        if m is not None:
            severity = map_lookup(cfg.priorities, m.group(1))
    if severity is None:
        raise MappingError(f"{where} {raw!r} is not in priority_map (known: {', '.join(cfg.priorities)})")
    return severity


def _checkpoint(row: dict) -> int:
    value = field(row, "record_checkpoint")
    return int(value) if value is not None and value.isdigit() else 0


def _priority_key(value) -> str | None:
    """A priority value as compared along a history: ``"1 - Critical"`` -> ``"1"``."""
    raw = text(value)
    if raw is None:
        return None
    m = _CHOICE_LABEL.match(raw)
    return m.group(1) if m is not None else raw


def severities(row: dict, audits: list[tuple[int, dict]], cfg: ServiceNowOptions) -> tuple[str, list[dict], str | None]:
    """The severity at opening, the later severity changes, from sys_audit priority rows, and
    the reason the history is incomplete (else None).

    *audits* are ``(index, row)`` pairs (the index names the row in messages). The
    opening priority is the ``oldvalue`` of the first change; a first row with an empty
    ``oldvalue`` is the value set at insert (not a change). Without audit rows it is the
    incident's current ``priority``. A change between priorities of one severity
    (4 Low -> 5 Planning) is no severity change.

    The rows must chain: each change's ``oldvalue`` is the previous ``newvalue``, and the last
    ``newvalue`` is the incident's current ``priority``. A gap (rows missing from the export,
    an audit history cut by retention) means the severity at some time is not known: the
    reason says so, and the ticket is reported incomplete rather than measured on a guess.
    """
    changes = []
    for index, audit in audits:
        where = f"sys_audit[{index}]"
        at = timestamp(audit.get("sys_created_on"), f"{where}.sys_created_on", cfg)
        changes.append((_instant(at), _checkpoint(audit), at, audit, where))
    changes.sort(key=lambda c: (c[0], c[1]))
    gap = None
    if changes and field(changes[0][3], "oldvalue") is None:
        _, _, _, first, where = changes.pop(0)
        opening = severity_of(first.get("newvalue"), cfg, f"{where}.newvalue")
        previous = _priority_key(first.get("newvalue"))
    elif changes:
        opening = severity_of(changes[0][3].get("oldvalue"), cfg, f"{changes[0][4]}.oldvalue")
        previous = _priority_key(changes[0][3].get("oldvalue"))
    else:
        opening = severity_of(row.get("priority"), cfg, "priority")
        previous = None
    current, out = opening, []
    for _, _, at, audit, where in changes:
        old = _priority_key(audit.get("oldvalue"))
        if gap is None and old != previous:
            gap = (f"the sys_audit priority history has a gap: {where} changes priority from {old!r} at {at}, "
                   f"but the row before left it at {previous!r}")
        previous = _priority_key(audit.get("newvalue"))
        severity = severity_of(audit.get("newvalue"), cfg, f"{where}.newvalue")
        if severity != current:
            out.append({"at": at, "severity": severity})
            current = severity
    now = _priority_key(row.get("priority"))
    if gap is None and previous is not None and now is not None and now != previous:
        gap = (f"the sys_audit priority history ends at priority {previous!r} but the incident's priority is "
               f"{now!r}: a change is missing from the export")
    return opening, out, gap


# ------------------------------------------------------------------ clocks


def requester(row: dict, users: Users | None, cfg: ServiceNowOptions) -> tuple[Callable[[str | None], bool], str | None]:
    """Who is the customer on incident *row*: a predicate on a journal entry's
    ``sys_created_by`` (a user_name) that is true for the customer's own entries, and the
    reason it cannot be told (the caller is not among the ``sys_user`` rows), else None.

    The customer is the caller (``caller_id``); the user who opened the incident
    (``opened_by``) when there is no caller, when it is the caller, or when it belongs to the
    customer's company (self-service, inbound email: the baseline inbound action opens the
    incident as the sender and writes the email into ``comments``); and, with
    ``customer_company_users``, every user of the customer's company (the caller's
    ``company``, else the incident's). ``agent_users`` are never the customer;
    ``ignore_comment_authors`` (and, with ``ignore_creator_comments``, the incident's
    ``sys_created_by``) always are."""
    ignored = set(cfg.ignored_authors)
    if cfg.ignore_creator_comments and field(row, "sys_created_by"):
        ignored.add(field(row, "sys_created_by"))
    names: set[str] = set()
    companies: set[str] = set()
    problem = None
    if cfg.exclude_customer_comments:
        users = users or Users()
        caller_id, opener_id = field(row, "caller_id"), field(row, "opened_by")
        caller = users.by_id.get(caller_id) if caller_id else None
        opener = users.by_id.get(opener_id) if opener_id else None
        if caller_id and caller is None:
            problem = (f"caller_id {caller_id} is not among the sys_user rows, so the customer's own comments "
                       "cannot be told from responses")
        elif not caller_id and opener_id and opener is None:
            problem = (f"opened_by {opener_id} (no caller_id) is not among the sys_user rows, so the customer's "
                       "own comments cannot be told from responses")
        for company in (field(caller, "company") if caller else None, field(row, "company")):
            if company:
                companies.add(company)
        if caller is not None and field(caller, "user_name"):
            names.add(field(caller, "user_name"))
        if opener is not None and field(opener, "user_name"):
            if not caller_id or opener_id == caller_id or field(opener, "company") in companies:
                names.add(field(opener, "user_name"))
        if not cfg.customer_company_users:
            companies = set()

    def is_customer(author: str | None) -> bool:
        if author is None:
            return False
        if author in cfg.agents:
            return False
        if author in ignored or author in names:
            return True
        if companies and users is not None:
            user = users.by_name.get(author)
            return user is not None and field(user, "company") in companies
        return False

    return is_customer, problem


def comment_times(journals: list[tuple[int, dict]], cfg: ServiceNowOptions,
                  is_customer: Callable[[str | None], bool] = lambda author: False) -> list[str]:
    """Creation times of the customer-visible journal entries (``comment_elements``, default
    ``comments``; ``work_notes`` are internal) written by someone other than the customer
    (see :func:`requester`), oldest first."""
    found = []
    for index, entry in journals:
        if field(entry, "element") not in cfg.comment_elements:
            continue
        if is_customer(field(entry, "sys_created_by")):
            continue
        at = timestamp(entry.get("sys_created_on"), f"sys_journal_field[{index}].sys_created_on", cfg)
        found.append((_instant(at), index, at))
    found.sort()
    return [at for _, _, at in found]


def until(times: list[str], resolved_at: str | None) -> list[str]:
    """The updates of a ticket: the entries up to its resolution. A comment after
    ``resolved_at`` (a "thanks" between Resolved and Closed, a note on a closed incident) is
    no periodic update of the resolved ticket."""
    if resolved_at is None:
        return times
    end = _instant(resolved_at)
    return [t for t in times if _instant(t) <= end]


def first_response(row: dict, comments: list[str], cfg: ServiceNowOptions) -> str | None:
    if cfg.first_response_from == "comments":
        return comments[0] if comments else None
    if cfg.first_response_from == "field":
        return optional_timestamp(row, cfg.first_response_field, cfg)
    return None


def state_of(row: dict, cfg: ServiceNowOptions) -> str | None:
    return field(row, cfg.state_field)


def is_canceled(row: dict, cfg: ServiceNowOptions) -> bool:
    return state_of(row, cfg) in cfg.canceled


def resolved(row: dict, cfg: ServiceNowOptions) -> str | None:
    """``resolved_at`` (``closed_at`` as fallback) of an incident in a resolved, closed or
    (kept) canceled state; None while it is open. Without a state field, whatever is set."""
    state = state_of(row, cfg)
    ended = state in cfg.resolved or state in cfg.canceled
    if state is not None and not ended:
        return None
    for name in ("resolved_at", "closed_at"):
        if field(row, name) is not None:
            return timestamp(row.get(name), name, cfg)
    if state is None:
        return None
    label = STATE_NAMES.get(state, "")
    raise MappingError(f"{cfg.state_field} is {state!r}{f' ({label})' if label else ''} but resolved_at and "
                     "closed_at are empty")


def rca(row: dict, cfg: ServiceNowOptions) -> str | None:
    if not cfg.rca_field:
        return None
    raw = field(row, cfg.rca_field)
    if raw is None:
        return None
    if _DATE.match(raw):
        if cfg.rca_zone is None:
            raise MappingError(f"{cfg.rca_field}: {raw!r} is a date without a time; set rca_timezone "
                             "(the contract's time zone) to read date fields")
        return datetime.combine(date.fromisoformat(raw), time(0), cfg.rca_zone).isoformat()
    return timestamp(raw, cfg.rca_field, cfg)


def channel(row: dict, cfg: ServiceNowOptions) -> str:
    if cfg.channel_field:
        value = field(row, cfg.channel_field)
        if value is not None:
            hit = map_lookup(cfg.channels, value)
            if hit is None:
                raise MappingError(f"{cfg.channel_field} value {value!r} has no channel; add it to channel_map "
                                 "(web, chat, phone, messaging or email)")
            return hit
    return cfg.channel


# ------------------------------------------------------------------ the record


def incident_id(row, cfg: ServiceNowOptions) -> str | None:
    if not isinstance(row, dict):
        return None
    return field(row, cfg.id_field) or field(row, "sys_id")


def to_record(row, cfg: ServiceNowOptions, *, journals: list | None = None, audits: list | None = None,
              users: Users | None = None) -> tuple[dict, str | None]:
    """The ticket record of incident *row* and the reason it is incomplete (else None);
    *journals* / *audits* are its ``(index, row)`` sys_journal_field and sys_audit (priority)
    rows, *users* the ``sys_user`` rows that tell the customer's comments from responses."""
    if not isinstance(row, dict):
        raise MappingError(f"expected an incident object, got {type(row).__name__}")
    key = incident_id(row, cfg)
    if key is None:
        raise MappingError(f"the incident has no {cfg.id_field} and no sys_id")
    if field(row, "sys_id") is None and (cfg.reads_journal or cfg.priority_history):
        raise MappingError("sys_id is missing (it joins the incident to sys_journal_field and sys_audit)")
    if field(row, "opened_at") is not None:
        opened_at = timestamp(row["opened_at"], "opened_at", cfg)
    elif field(row, "sys_created_on") is not None:
        opened_at = timestamp(row["sys_created_on"], "sys_created_on", cfg)
    else:
        raise MappingError("opened_at is missing (and sys_created_on too): no opening time")
    severity, changes, gap = severities(row, (audits or []) if cfg.priority_history else [], cfg)
    is_customer, unknown_customer = requester(row, users, cfg)
    comments = comment_times(journals or [], cfg, is_customer)
    resolved_at = resolved(row, cfg)
    record = {
        "kind": "ticket",
        "id": key,
        "contract": derive(row, cfg.contract_field, cfg.contract_map, cfg.contract, "contract"),
        "lob": derive(row, cfg.lob_field, cfg.lob_map, cfg.lob, "lob"),
        "severity": severity,
        "opened_at": opened_at,
        "first_response_at": first_response(row, comments, cfg),
        "updates": until(comments, resolved_at),
        "resolved_at": resolved_at,
        "is_bug": flag(row, *cfg.flags["bug"]),
        "rca_delivered_at": rca(row, cfg),
        "channel": channel(row, cfg),
        "security_incident": flag(row, *cfg.flags["security"]),
        "tier2_direct": flag(row, *cfg.flags["tier2"]),
        "severity_changes": changes,
    }
    subject = field(row, "short_description")
    if subject is not None:
        record["subject"] = subject
    incomplete = gap or (unknown_customer if journals else None)
    return record, incomplete
