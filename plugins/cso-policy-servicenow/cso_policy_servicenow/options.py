"""The options of the ``servicenow`` source: :class:`ServiceNowOptions`.

Options come from a ``[[records]]`` entry of ``cso-policy.toml`` with
``[plugins.servicenow]`` merged under it. The core structures them into
:class:`ServiceNowOptions` (``RecordSource(options=...)``): the field types are the type
checks, :meth:`ServiceNowOptions.problems` what types cannot say. Messages name the option,
never a credential (only the *names* of the environment variables that hold them are options).
"""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import Factory, fields, frozen

from cso_policy import ConfigError, Positive

NAME = "servicenow"

Severity = Literal["P1", "P2", "P3"]
Channel = Literal["web", "chat", "phone", "messaging", "email"]

# incident.priority: 1 Critical, 2 High, 3 Moderate, 4 Low, 5 Planning.
DEFAULT_PRIORITY_MAP = {"1": "P1", "2": "P2", "3": "P3", "4": "P3", "5": "P3"}
# incident.contact_type choices (base system and common additions) -> cso-policy ticket channels.
# Walk-in, monitoring, integration... have no ticket channel: map them explicitly if you use them.
DEFAULT_CHANNEL_MAP = {c: c for c in ("web", "chat", "phone", "messaging", "email")} | {
    "self-service": "web",
    "portal": "web",
    "virtual_agent": "chat",
    "sms": "messaging",
}

TRUE_VALUES = ["true", "1", "yes"]

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@frozen(kw_only=True)
class ServiceNowOptions:
    """The options of the source (README.md, "Options"); every one has a default."""

    # where each record belongs
    contract: str | None = None
    contract_field: str | None = None
    contract_map: dict[str, str] | None = None
    lob: str | None = None
    lob_field: str | None = None
    lob_map: dict[str, str] | None = None
    # which incident row fields to read
    id_field: str = "number"
    state_field: str = "state"
    # severity
    priority_map: dict[str, Severity] | None = None
    priority_history: bool = True
    # states
    resolved_states: list[str] = Factory(lambda: ["6", "7"])
    canceled_states: list[str] = Factory(lambda: ["8"])
    skip_canceled: bool = True
    # SLA clocks
    first_response_from: Literal["comments", "field", "none"] = "comments"
    first_response_field: str | None = None
    comment_elements: list[str] = Factory(lambda: ["comments"])
    ignore_comment_authors: list[str] = Factory(list)
    ignore_creator_comments: bool = False
    exclude_customer_comments: bool = True
    customer_company_users: bool = True
    agent_users: list[str] = Factory(list)
    # flags: a field name or a list of them (checked in problems(): the converter has no
    # ``str | list[str]``), and the values that set the flag
    bug_field: Any = None
    bug_values: list[str] = Factory(lambda: list(TRUE_VALUES))
    security_field: Any = Factory(lambda: ["category", "subcategory"])
    security_values: list[str] = Factory(lambda: ["security"])
    tier2_field: Any = None
    tier2_values: list[str] = Factory(lambda: list(TRUE_VALUES))
    rca_field: str | None = None
    rca_timezone: str | None = None
    # channel
    channel: Channel = "web"
    channel_field: str | None = "contact_type"
    channel_map: dict[str, Channel] | None = None
    # the YYYY-MM-DD HH:MM:SS values (UTC with sysparm_display_value=false)
    datetime_timezone: str = "UTC"
    # export files
    journal_path: str | None = None
    audit_path: str | None = None
    user_path: str | None = None
    # live API
    base_url: str | None = None
    query: str | None = None
    user: str | None = None
    user_env: str = "SERVICENOW_USER"
    password_env: str = "SERVICENOW_PASSWORD"
    token_env: str | None = None
    page_size: int = 1000
    ids_per_request: int = 50
    max_retries: int = 5
    max_retry_wait: Positive = 3600.0
    timeout: Positive = 60.0

    @classmethod
    def of(cls, options: dict | None, path: Path | None) -> ServiceNowOptions:
        """The options of a dict, for a caller that does not go through the core (which checks the
        types): unknown names and :meth:`problems` are a ConfigError, the types are not checked."""
        options = dict(options or {})
        unknown = sorted(set(options) - {a.name for a in fields(cls)})
        if unknown:
            raise ConfigError(f"{NAME}: unknown option(s) {', '.join(unknown)}")
        instance = cls(**options)
        found = instance.problems(path)
        if found:
            field_path, message = found[0]
            raise ConfigError(f"{NAME}: {field_path}: {message}")
        return instance

    def problems(self, path: Path | None) -> list[tuple[str, str]]:
        """What the types cannot say: field names, time zones, the URL and the environment
        variable names, and the options that are required; *path* is None for the live API."""
        found = []
        for name in ("contract", "lob", "journal_path", "audit_path", "user_path", "query", "user"):
            if getattr(self, name) is not None and not getattr(self, name).strip():
                found.append((f"$.{name}", "expected a non-empty string, got ''"))
        for name in ("contract_field", "lob_field", "id_field", "state_field", "first_response_field",
                     "rca_field", "channel_field"):
            value = getattr(self, name)
            if value is not None and not _FIELD.match(value):
                found.append((f"$.{name}", f"expected a field name like u_line_of_business or company, got {value!r}"))
        for name in ("bug_field", "security_field", "tier2_field"):
            value = getattr(self, name)
            values = [value] if isinstance(value, str) else value
            if value is not None and not (isinstance(values, list) and values
                                          and all(isinstance(v, str) and _FIELD.match(v) for v in values)):
                found.append((f"$.{name}", f"expected a field name or a list of field names, got {value!r}"))
        for name in ("rca_timezone", "datetime_timezone"):
            value = getattr(self, name)
            if value is not None and _zone(value) is None:
                found.append((f"$.{name}", f"unknown time zone {value!r} (expected an IANA name like America/New_York)"))
        for name in ("user_env", "password_env", "token_env"):
            value = getattr(self, name)
            if value is not None and not _ENV.match(value):
                found.append((f"$.{name}", f"expected the name of an environment variable, got {value!r}"))
        if self.base_url is not None and not _https(self.base_url):
            found.append(("$.base_url", "expected an https URL like https://acme.service-now.com "
                                        f"(credentials are sent to it), got {self.base_url!r}"))
        for name in ("page_size", "ids_per_request"):
            if getattr(self, name) <= 0:
                found.append((f"$.{name}", f"expected a positive integer, got {getattr(self, name)!r}"))
        if self.max_retries < 0:
            found.append(("$.max_retries", f"expected an integer >= 0, got {self.max_retries!r}"))
        if not self.contract and not self.contract_field:
            found.append(("$.contract", "required (the contract id the incidents belong to), "
                                        "or contract_field with contract_map"))
        if not self.lob and not self.lob_field:
            found.append(("$.lob", "required (a fixed line of business), or lob_field with lob_map"))
        if self.first_response_from == "field" and not self.first_response_field:
            found.append(("$.first_response_field", 'required with first_response_from = "field"'))
        if self.first_response_from == "comments" and not self.comment_elements:
            found.append(("$.comment_elements", 'first_response_from = "comments" needs at least one entry'))
        if path is None:
            if not self.base_url:
                found.append(("$.base_url", "required to read the live Table API (or give a path to an export file)"))
            for name in ("journal_path", "audit_path", "user_path"):
                if getattr(self, name) is not None:
                    found.append((f"$.{name}", "is for export files; the live API reads the table"))
        return found

    # ---------------------------------------------------------------- what the mapping reads

    @cached_property
    def priorities(self) -> dict[str, str]:
        """incident.priority -> severity: the defaults with ``priority_map`` over them."""
        return DEFAULT_PRIORITY_MAP | (self.priority_map or {})

    @cached_property
    def channels(self) -> dict[str, str]:
        """contact_type (casefolded) -> channel: the defaults with ``channel_map`` over them."""
        return {k.casefold(): v for k, v in (DEFAULT_CHANNEL_MAP | (self.channel_map or {})).items()}

    @cached_property
    def resolved(self) -> frozenset:
        return frozenset(self.resolved_states)

    @cached_property
    def canceled(self) -> frozenset:
        return frozenset(self.canceled_states)

    @cached_property
    def ignored_authors(self) -> frozenset:
        return frozenset(self.ignore_comment_authors)

    @cached_property
    def agents(self) -> frozenset:
        return frozenset(self.agent_users)

    @cached_property
    def flags(self) -> dict[str, tuple[tuple[str, ...], frozenset]]:
        """flag -> (the fields, the values that set it, casefolded)."""
        return {name: (_names(getattr(self, f"{name}_field")),
                       frozenset(v.casefold() for v in getattr(self, f"{name}_values")))
                for name in ("bug", "security", "tier2")}

    @cached_property
    def rca_zone(self) -> ZoneInfo | None:
        return None if self.rca_timezone is None else ZoneInfo(self.rca_timezone)

    @cached_property
    def datetime_zone(self) -> ZoneInfo:
        return ZoneInfo(self.datetime_timezone)

    @property
    def api_url(self) -> str | None:
        return self.base_url.rstrip("/") if self.base_url else None

    @property
    def reads_journal(self) -> bool:
        """Whether sys_journal_field rows are needed (first response or updates from comments)."""
        return bool(self.comment_elements)

    @property
    def reads_users(self) -> bool:
        """Whether sys_user rows are needed (to tell the customer's own comments from responses)."""
        return self.reads_journal and self.exclude_customer_comments


def _names(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _https(url: str) -> bool:
    """An https URL, or http to a loopback host (a local test server: credentials never cross
    the network in clear)."""
    parts = urlsplit(url)
    return (parts.scheme == "https" and bool(parts.hostname)) or (parts.scheme == "http" and _is_loopback(parts.hostname))
