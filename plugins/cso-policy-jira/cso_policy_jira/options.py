"""The options of the ``jira`` source: :class:`JiraOptions`, which the core structures and checks.

Options come from a ``[[records]]`` entry of ``cso-policy.toml`` with ``[plugins.jira]`` merged
under it by the core. The field types say what each option takes (the core's strict converter
checks them, and unknown names); :meth:`JiraOptions.problems` says what types cannot (URLs,
field paths, time zones, the options an entry needs). Every problem is one line naming the entry
and the option (never a credential).
"""

import re
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import field, fields, frozen

from cso_policy import Positive

NAME = "jira"

Severity = Literal["P1", "P2", "P3"]
Channel = Literal["web", "chat", "phone", "messaging", "email"]

# Jira's default priority scheme (Highest/High/Medium/Low/Lowest).
DEFAULT_PRIORITY_MAP = {"Highest": "P1", "High": "P2", "Medium": "P3", "Low": "P3", "Lowest": "P3"}
# Channel names map to themselves; "portal" is the JSM customer portal.
DEFAULT_CHANNEL_MAP = {c: c for c in get_args(Channel)} | {"portal": "web"}
# JSM's request channel (the JQL field ``request-channel-type``, "Request channel type"): the values
# Atlassian documents (CustomerRequestChannelSource: portal, anonymousportal, email, api, jira) that
# name a customer channel. ``api`` and ``jira`` (raised by an integration / by an agent in Jira) say
# nothing of how the customer reached support: they are left to the ``channel`` option unless mapped.
DEFAULT_REQUEST_CHANNEL_MAP = {"portal": "web", "anonymousportal": "web", "email": "email"}

_FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_URL = re.compile(r"^https?://[^/\s]+")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# options naming a Jira field (an id or a dotted path into ``fields``)
FIELD_OPTIONS = ("contract_field", "lob_field", "first_response_field", "resolution_field", "rca_field",
                 "channel_field", "participants_field")


def _strings(*values: str):
    return field(factory=lambda: list(values))


@frozen(kw_only=True)
class JiraOptions:
    """The options of the source (README.md, "Options"); every one has a default."""

    # where each record belongs
    contract: str | None = None
    contract_field: str | None = None
    contract_map: dict[str, str] | None = None
    lob: str | None = None
    lob_field: str | None = None
    lob_map: dict[str, str] | None = None
    # severity (laid over DEFAULT_PRIORITY_MAP)
    priority_map: dict[str, Severity] = field(factory=dict)
    # SLA clocks
    first_response_field: str | None = None
    first_response_sla: str = "Time to first response"
    first_response_from: Literal["sla", "comment", "sla_or_comment"] = "sla"
    resolution_field: str | None = None
    resolution_sla: str = "Time to resolution"
    resolved_from: Literal["sla", "resolutiondate"] = "sla"
    updates_from: Literal["public_comments", "none"] = "public_comments"
    agent_comments_only: bool = True
    # flags
    bug_issue_types: list[str] = _strings("Bug")
    bug_labels: list[str] = _strings("bug")
    rca_field: str | None = None
    rca_timezone: str | None = None
    security_labels: list[str] = _strings("security-incident")
    security_issue_types: list[str] = _strings()
    tier2_labels: list[str] = _strings("tier2-direct")
    # channel (the maps are laid over DEFAULT_CHANNEL_MAP / DEFAULT_REQUEST_CHANNEL_MAP)
    channel: Channel = "web"
    channel_field: str | None = None
    channel_map: dict[str, Channel] = field(factory=dict)
    request_channel: bool = True
    request_channel_map: dict[str, Channel] = field(factory=dict)
    # customers (their comments are no agent updates)
    participants_field: str | None = None
    # live API
    base_url: str | None = None
    jql: str | None = None
    project: str | None = None
    email: str | None = None
    email_env: str = "JIRA_EMAIL"
    token_env: str = "JIRA_API_TOKEN"
    page_size: int = 100
    max_retries: int = 5
    max_retry_wait: Positive = 3600.0
    timeout: Positive = 60.0

    # -- what the reader uses ------------------------------------------------------------

    @property
    def priorities(self) -> dict[str, str]:
        return DEFAULT_PRIORITY_MAP | self.priority_map

    @property
    def channels(self) -> dict[str, str]:
        return DEFAULT_CHANNEL_MAP | self.channel_map

    @property
    def request_channels(self) -> dict[str, str]:
        return DEFAULT_REQUEST_CHANNEL_MAP | self.request_channel_map

    @property
    def zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.rca_timezone) if self.rca_timezone is not None else None

    @property
    def api_url(self) -> str | None:
        return self.base_url.rstrip("/") if self.base_url else self.base_url

    # -- what the types cannot say -------------------------------------------------------

    def problems(self, path) -> list[tuple[str, str]]:
        """(field path, message) of each problem; *path* is None for the live API."""
        found = [(f"$.{a.name}", f"expected a non-empty string, got {getattr(self, a.name)!r}")
                 for a in fields(type(self)) if getattr(self, a.name) == ""]
        for name in FIELD_OPTIONS:
            value = getattr(self, name)
            if value and not _FIELD_PATH.match(value):
                found.append((f"$.{name}", "expected a field id or dotted path (customfield_10050, labels, "
                                           f"project.key), got {value!r}"))
        if self.rca_timezone:
            try:
                ZoneInfo(self.rca_timezone)
            except (ZoneInfoNotFoundError, ValueError):
                found.append(("$.rca_timezone", f"unknown time zone {self.rca_timezone!r} "
                                                "(expected an IANA name like America/New_York)"))
        if self.base_url and not _URL.match(self.base_url):
            found.append(("$.base_url", f"expected an http(s) URL like https://acme.atlassian.net, "
                                        f"got {self.base_url!r}"))
        for name in ("email_env", "token_env"):
            value = getattr(self, name)
            if value and not _ENV_NAME.match(value):
                found.append((f"$.{name}", f"expected an environment variable name, got {value!r}"))
        for name in ("page_size", "max_retries"):
            if getattr(self, name) <= 0:
                found.append((f"$.{name}", f"expected a positive integer, got {getattr(self, name)!r}"))
        if found:
            return found
        if not self.contract and not self.contract_field:
            found.append(("$.contract", "required (the contract id the tickets belong to), "
                                        "or contract_field with contract_map"))
        if not self.lob and not self.lob_field:
            found.append(("$.lob", "required (a fixed line of business), or lob_field with lob_map"))
        if path is None:
            if not self.base_url:
                found.append(("$.base_url", "required to read the live API (or give a path to an export file)"))
            if not self.jql and not self.project:
                found.append(("$.jql", "jql or project is required to read the live API"))
        return found
