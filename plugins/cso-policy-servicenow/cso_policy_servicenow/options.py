"""The options of the ``servicenow`` source: defaults, checking, and the parsed :class:`Config`.

Options come from a ``[[records]]`` entry of ``cso-policy.toml`` with
``[plugins.servicenow]`` merged under it by the core. Every problem is a
:class:`cso_policy.errors.ConfigError` naming the option, never a credential
(only the *names* of the environment variables that hold them are options).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import frozen

from cso_policy import ConfigError

NAME = "servicenow"

SEVERITIES = ("P1", "P2", "P3")
CHANNELS = ("web", "chat", "phone", "messaging", "email")

# incident.priority: 1 Critical, 2 High, 3 Moderate, 4 Low, 5 Planning.
DEFAULT_PRIORITY_MAP = {"1": "P1", "2": "P2", "3": "P3", "4": "P3", "5": "P3"}
# incident.contact_type choices (base system and common additions) -> cso-policy ticket channels.
# Walk-in, monitoring, integration... have no ticket channel: map them explicitly if you use them.
DEFAULT_CHANNEL_MAP = {c: c for c in CHANNELS} | {
    "self-service": "web",
    "portal": "web",
    "virtual_agent": "chat",
    "sms": "messaging",
}

FIRST_RESPONSE_FROM = ("comments", "field", "none")
TRUE_VALUES = ["true", "1", "yes"]

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# name -> (kind, default); kind drives the type check below.
OPTIONS: dict[str, tuple[object, object]] = {
    # where each record belongs
    "contract": ("str", None),
    "contract_field": ("field", None),
    "contract_map": ("map", None),
    "lob": ("str", None),
    "lob_field": ("field", None),
    "lob_map": ("map", None),
    # which incident row fields to read
    "id_field": ("field", "number"),
    "state_field": ("field", "state"),
    # severity
    "priority_map": ("severity_map", None),
    "priority_history": ("bool", True),
    # states
    "resolved_states": ("list", ["6", "7"]),
    "canceled_states": ("list", ["8"]),
    "skip_canceled": ("bool", True),
    # SLA clocks
    "first_response_from": (FIRST_RESPONSE_FROM, "comments"),
    "first_response_field": ("field", None),
    "comment_elements": ("list", ["comments"]),
    "ignore_comment_authors": ("list", []),
    "ignore_creator_comments": ("bool", False),
    "exclude_customer_comments": ("bool", True),
    "customer_company_users": ("bool", True),
    "agent_users": ("list", []),
    # flags: a field (or several) and the values that set the flag
    "bug_field": ("fields", None),
    "bug_values": ("list", TRUE_VALUES),
    "security_field": ("fields", ["category", "subcategory"]),
    "security_values": ("list", ["security"]),
    "tier2_field": ("fields", None),
    "tier2_values": ("list", TRUE_VALUES),
    "rca_field": ("field", None),
    "rca_timezone": ("timezone", None),
    # channel
    "channel": (CHANNELS, "web"),
    "channel_field": ("field", "contact_type"),
    "channel_map": ("channel_map", None),
    # the YYYY-MM-DD HH:MM:SS values (UTC with sysparm_display_value=false)
    "datetime_timezone": ("timezone", "UTC"),
    # export files
    "journal_path": ("str", None),
    "audit_path": ("str", None),
    "user_path": ("str", None),
    # live API
    "base_url": ("url", None),
    "query": ("str", None),
    "user": ("str", None),
    "user_env": ("env", "SERVICENOW_USER"),
    "password_env": ("env", "SERVICENOW_PASSWORD"),
    "token_env": ("env", None),
    "page_size": ("int", 1000),
    "ids_per_request": ("int", 50),
    "max_retries": ("count", 5),
    "max_retry_wait": ("number", 3600),
    "timeout": ("number", 60),
}


@frozen(kw_only=True)
class Config:
    contract: str | None
    contract_field: str | None
    contract_map: dict | None
    lob: str | None
    lob_field: str | None
    lob_map: dict | None
    id_field: str
    state_field: str
    priority_map: dict
    priority_history: bool
    resolved_states: frozenset
    canceled_states: frozenset
    skip_canceled: bool
    first_response_from: str
    first_response_field: str | None
    comment_elements: tuple
    ignore_comment_authors: frozenset
    ignore_creator_comments: bool
    exclude_customer_comments: bool
    customer_company_users: bool
    agent_users: frozenset
    bug_field: tuple
    bug_values: frozenset
    security_field: tuple
    security_values: frozenset
    tier2_field: tuple
    tier2_values: frozenset
    rca_field: str | None
    rca_timezone: ZoneInfo | None
    channel: str
    channel_field: str | None
    channel_map: dict
    datetime_timezone: ZoneInfo
    journal_path: str | None
    audit_path: str | None
    user_path: str | None
    base_url: str | None
    query: str | None
    user: str | None
    user_env: str
    password_env: str
    token_env: str | None
    page_size: int
    ids_per_request: int
    max_retries: int
    max_retry_wait: float
    timeout: float

    @property
    def reads_journal(self) -> bool:
        """Whether sys_journal_field rows are needed (first response or updates from comments)."""
        return bool(self.comment_elements)

    @property
    def reads_users(self) -> bool:
        """Whether sys_user rows are needed (to tell the customer's own comments from responses)."""
        return self.reads_journal and self.exclude_customer_comments


def check(options: dict, where: str = NAME) -> list[str]:
    """Problems with the types and values of *options* (no check of what is required)."""
    problems = []
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        problems.append(f"{where}: unknown option(s) {', '.join(unknown)} (known: {', '.join(sorted(OPTIONS))})")
    for name, value in options.items():
        if name not in OPTIONS:
            continue
        problem = _check_value(OPTIONS[name][0], value)
        if problem:
            problems.append(f"{where}: option {name}: {problem}")
    return problems


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_value(kind, value) -> str | None:  # noqa: C901 - one branch per kind
    if isinstance(kind, tuple):
        return None if value in kind else f"expected one of {', '.join(kind)}, got {value!r}"
    if kind == "str":
        return None if isinstance(value, str) and value.strip() else f"expected a non-empty string, got {value!r}"
    if kind == "env":
        if isinstance(value, str) and _ENV.match(value):
            return None
        return f"expected the name of an environment variable, got {value!r}"
    if kind == "url":
        if not isinstance(value, str):
            return f"expected an https URL like https://acme.service-now.com, got {value!r}"
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return None
        if parts.scheme == "http" and _is_loopback(parts.hostname):
            return None  # a local test server; credentials never cross the network in clear
        return f"expected an https URL like https://acme.service-now.com (credentials are sent to it), got {value!r}"
    if kind == "field":
        if isinstance(value, str) and _FIELD.match(value):
            return None
        return f"expected a field name like u_line_of_business or company, got {value!r}"
    if kind == "fields":
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list) and values and all(isinstance(v, str) and _FIELD.match(v) for v in values):
            return None
        return f"expected a field name or a list of field names, got {value!r}"
    if kind == "bool":
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if kind == "int":
        return None if type(value) is int and value > 0 else f"expected a positive integer, got {value!r}"
    if kind == "count":
        return None if type(value) is int and value >= 0 else f"expected an integer >= 0, got {value!r}"
    if kind == "number":
        ok = type(value) in (int, float) and value > 0
        return None if ok else f"expected a positive number, got {value!r}"
    if kind == "list":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return None
        return f"expected a list of strings, got {value!r}"
    if kind == "timezone":
        if not isinstance(value, str):
            return f"expected an IANA time zone name, got {value!r}"
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return f"unknown time zone {value!r} (expected an IANA name like America/New_York)"
        return None
    if kind in ("map", "severity_map", "channel_map"):
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return f"expected a table of strings, got {value!r}"
        allowed = {"severity_map": SEVERITIES, "channel_map": CHANNELS}.get(kind)
        if allowed:
            for k, v in value.items():
                if v not in allowed:
                    return f"{k!r} maps to {v!r}; expected one of {', '.join(allowed)}"
        return None
    raise AssertionError(kind)  # pragma: no cover


def _fields(value) -> tuple:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def parse(options: dict | None, *, live: bool) -> Config:
    """The checked :class:`Config`; raises ConfigError listing every problem."""
    options = dict(options or {})
    problems = check(options)
    if not problems:
        if not options.get("contract") and not options.get("contract_field"):
            problems.append(f"{NAME}: option contract is required (the contract id the incidents belong to), "
                            "or contract_field with contract_map")
        if not options.get("lob") and not options.get("lob_field"):
            problems.append(f"{NAME}: option lob is required (a fixed line of business), or lob_field with lob_map")
        if options.get("first_response_from") == "field" and not options.get("first_response_field"):
            problems.append(f"{NAME}: first_response_from = \"field\" needs option first_response_field")
        if options.get("first_response_from", "comments") == "comments" and options.get("comment_elements") == []:
            problems.append(f"{NAME}: first_response_from = \"comments\" needs at least one comment_elements entry")
        if live:
            if not options.get("base_url"):
                problems.append(f"{NAME}: option base_url is required to read the live Table API "
                                "(or give a path to an export file)")
            for name in ("journal_path", "audit_path", "user_path"):
                if name in options:
                    problems.append(f"{NAME}: option {name} is for export files; the live API reads the table")
    if problems:
        raise ConfigError("; ".join(problems))
    values = {name: options.get(name, default) for name, (_, default) in OPTIONS.items()}
    values["priority_map"] = DEFAULT_PRIORITY_MAP | (options.get("priority_map") or {})
    channels = DEFAULT_CHANNEL_MAP | (options.get("channel_map") or {})
    values["channel_map"] = {k.casefold(): v for k, v in channels.items()}
    for name in ("resolved_states", "canceled_states", "ignore_comment_authors", "agent_users"):
        values[name] = frozenset(values[name])
    for name in ("bug_values", "security_values", "tier2_values"):
        values[name] = frozenset(v.casefold() for v in values[name])
    for name in ("bug_field", "security_field", "tier2_field"):
        values[name] = _fields(values[name])
    values["comment_elements"] = tuple(values["comment_elements"])
    if values["rca_timezone"] is not None:
        values["rca_timezone"] = ZoneInfo(values["rca_timezone"])
    values["datetime_timezone"] = ZoneInfo(values["datetime_timezone"])
    if values["base_url"]:
        values["base_url"] = values["base_url"].rstrip("/")
    values["timeout"] = float(values["timeout"])
    values["max_retry_wait"] = float(values["max_retry_wait"])
    return Config(**values)
