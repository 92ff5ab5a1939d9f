"""The options of the ``jira`` source: defaults, checking, and the parsed :class:`Config`.

Options come from a ``[[records]]`` entry of ``cso-policy.toml`` with
``[plugins.jira]`` merged under it by the core. Every problem is a
:class:`cso_policy.errors.ConfigError` naming the option (never a credential).
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import frozen

from cso_policy import ConfigError

NAME = "jira"

SEVERITIES = ("P1", "P2", "P3")
CHANNELS = ("web", "chat", "phone", "messaging", "email")

# Jira's default priority scheme (Highest/High/Medium/Low/Lowest).
DEFAULT_PRIORITY_MAP = {"Highest": "P1", "High": "P2", "Medium": "P3", "Low": "P3", "Lowest": "P3"}
# Channel names map to themselves; "portal" is the JSM customer portal.
DEFAULT_CHANNEL_MAP = {c: c for c in CHANNELS} | {"portal": "web"}
# JSM's request channel (the JQL field ``request-channel-type``, "Request channel type"): the values
# Atlassian documents (CustomerRequestChannelSource: portal, anonymousportal, email, api, jira) that
# name a customer channel. ``api`` and ``jira`` (raised by an integration / by an agent in Jira) say
# nothing of how the customer reached support: they are left to the ``channel`` option unless mapped.
DEFAULT_REQUEST_CHANNEL_MAP = {"portal": "web", "anonymousportal": "web", "email": "email"}

FIRST_RESPONSE_FROM = ("sla", "comment", "sla_or_comment")
RESOLVED_FROM = ("sla", "resolutiondate")
UPDATES_FROM = ("public_comments", "none")

_FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

# name -> (kind, default); kind drives the type check below.
OPTIONS: dict[str, tuple[str, object]] = {
    # where each record belongs
    "contract": ("str", None),
    "contract_field": ("field", None),
    "contract_map": ("map", None),
    "lob": ("str", None),
    "lob_field": ("field", None),
    "lob_map": ("map", None),
    # severity
    "priority_map": ("severity_map", None),
    # SLA clocks
    "first_response_field": ("field", None),
    "first_response_sla": ("str", "Time to first response"),
    "first_response_from": (FIRST_RESPONSE_FROM, "sla"),
    "resolution_field": ("field", None),
    "resolution_sla": ("str", "Time to resolution"),
    "resolved_from": (RESOLVED_FROM, "sla"),
    "updates_from": (UPDATES_FROM, "public_comments"),
    "agent_comments_only": ("bool", True),
    # flags
    "bug_issue_types": ("list", ["Bug"]),
    "bug_labels": ("list", ["bug"]),
    "rca_field": ("field", None),
    "rca_timezone": ("timezone", None),
    "security_labels": ("list", ["security-incident"]),
    "security_issue_types": ("list", []),
    "tier2_labels": ("list", ["tier2-direct"]),
    # channel
    "channel": (CHANNELS, "web"),
    "channel_field": ("field", None),
    "channel_map": ("channel_map", None),
    "request_channel": ("bool", True),
    "request_channel_map": ("channel_map", None),
    # customers (their comments are no agent updates)
    "participants_field": ("field", None),
    # live API
    "base_url": ("url", None),
    "jql": ("str", None),
    "project": ("str", None),
    "email": ("str", None),
    "email_env": ("str", "JIRA_EMAIL"),
    "token_env": ("str", "JIRA_API_TOKEN"),
    "page_size": ("int", 100),
    "max_retries": ("int", 5),
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
    priority_map: dict
    first_response_field: str | None
    first_response_sla: str
    first_response_from: str
    resolution_field: str | None
    resolution_sla: str
    resolved_from: str
    updates_from: str
    agent_comments_only: bool
    bug_issue_types: frozenset
    bug_labels: frozenset
    rca_field: str | None
    rca_timezone: ZoneInfo | None
    security_labels: frozenset
    security_issue_types: frozenset
    tier2_labels: frozenset
    channel: str
    channel_field: str | None
    channel_map: dict
    request_channel: bool
    request_channel_map: dict
    participants_field: str | None
    base_url: str | None
    jql: str | None
    project: str | None
    email: str | None
    email_env: str
    token_env: str
    page_size: int
    max_retries: int
    max_retry_wait: float
    timeout: float


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


def _check_value(kind, value) -> str | None:
    if isinstance(kind, tuple):
        return None if value in kind else f"expected one of {', '.join(kind)}, got {value!r}"
    if kind == "str":
        return None if isinstance(value, str) and value else f"expected a non-empty string, got {value!r}"
    if kind == "url":
        if isinstance(value, str) and re.match(r"^https?://[^/\s]+", value):
            return None
        return f"expected an http(s) URL like https://acme.atlassian.net, got {value!r}"
    if kind == "field":
        if isinstance(value, str) and _FIELD_PATH.match(value):
            return None
        return f"expected a field id or dotted path (customfield_10050, labels, project.key), got {value!r}"
    if kind == "bool":
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if kind == "int":
        ok = type(value) is int and value > 0
        return None if ok else f"expected a positive integer, got {value!r}"
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
            bad = {k: v for k, v in value.items() if v not in allowed}
            if bad:
                k, v = next(iter(bad.items()))
                return f"{k!r} maps to {v!r}; expected one of {', '.join(allowed)}"
        return None
    raise AssertionError(kind)  # pragma: no cover


def parse(options: dict | None, *, live: bool) -> Config:
    """The checked :class:`Config`; raises ConfigError listing every problem."""
    options = dict(options or {})
    problems = check(options)
    if not problems:
        if not options.get("contract") and not options.get("contract_field"):
            problems.append(f"{NAME}: option contract is required (the contract id the tickets belong to), "
                            "or contract_field with contract_map")
        if not options.get("lob") and not options.get("lob_field"):
            problems.append(f"{NAME}: option lob is required (a fixed line of business), or lob_field with lob_map")
        if live:
            if not options.get("base_url"):
                problems.append(f"{NAME}: option base_url is required to read the live API "
                                "(or give a path to an export file)")
            if not options.get("jql") and not options.get("project"):
                problems.append(f"{NAME}: option jql or project is required to read the live API")
    if problems:
        raise ConfigError("; ".join(problems))
    values = {name: options.get(name, default) for name, (_, default) in OPTIONS.items()}
    values["priority_map"] = DEFAULT_PRIORITY_MAP | (options.get("priority_map") or {})
    values["channel_map"] = DEFAULT_CHANNEL_MAP | (options.get("channel_map") or {})
    values["request_channel_map"] = DEFAULT_REQUEST_CHANNEL_MAP | (options.get("request_channel_map") or {})
    for name in ("bug_issue_types", "bug_labels", "security_labels", "security_issue_types", "tier2_labels"):
        values[name] = frozenset(values[name])
    if values["rca_timezone"] is not None:
        values["rca_timezone"] = ZoneInfo(values["rca_timezone"])
    if values["base_url"]:
        values["base_url"] = values["base_url"].rstrip("/")
    values["timeout"] = float(values["timeout"])
    values["max_retry_wait"] = float(values["max_retry_wait"])
    return Config(**values)
