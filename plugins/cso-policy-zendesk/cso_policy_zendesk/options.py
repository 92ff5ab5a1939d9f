"""The ``zendesk`` source's options: :class:`ZendeskOptions`, the defaults of its maps, and what
is derived from them (the time zone, the base URL, the start time, the flags).

Options come from ``[plugins.zendesk]`` in ``cso-policy.toml`` overlaid with the
``[[records]]`` entry's own keys; the core structures them into :class:`ZendeskOptions`
(types, unknown keys) and asks :meth:`ZendeskOptions.problems` for the rest. No message
ever holds a credential (only the *names* of the environment variables that hold them are
options).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from functools import cached_property
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from attrs import field, frozen

from cso_policy import Positive

from .timezones import UnknownTimeZone, to_iana, zone

NAME = "zendesk"
Severity = Literal["P1", "P2", "P3"]
Channel = Literal["web", "chat", "phone", "messaging", "email"]
UpdateMetric = Literal["periodic_update_time", "pausable_update_time", "reply_time"]
# A custom field or organization id: a number, or digits in a string. The core's types have no
# ``int | str``, so the value passes through as it is and problems() checks it.
FieldId = Any

# Zendesk priority -> ticket severity (the defaults follow Zendesk's priority names).
DEFAULT_SEVERITY_MAP = {"urgent": "P1", "high": "P2", "normal": "P3", "low": "P3"}

# Zendesk via.channel (a via type, see Zendesk's "Via types reference") -> ticket channel.
# Every via type by which a *customer* opens a ticket is mapped; what is left (rule,
# closed_ticket, merge, linked_problem, side_conversation, ...: tickets made by Zendesk
# itself or by an agent's action) says nothing about how the customer came in and stays a
# BadLine until mapped with channel_map (a "*" key maps every other value).
DEFAULT_CHANNEL_MAP = {
    # written requests through a form, a widget or an app, answered asynchronously: web
    "web": "web",
    "web_form": "web",          # via id 0: "Submit a request" / the agent interface
    "web_widget": "web",        # the Web Widget (Classic) contact form
    "help_center": "web",
    "dropbox": "web",           # via id 17: feedback tab
    "batch": "web",             # via id 20
    "mobile_sdk": "web",        # the Support SDK in the customer's mobile app (a request form)
    "mobile": "web",            # the Zendesk mobile apps
    "iphone": "web",            # via id 15: the old iPhone app
    "api": "web",               # a ticket created through the REST API (the customer's own form or integration)
    "web_service": "web",       # via id 5, omnichannel routing "api": the same as api
    # email
    "email": "email",
    "mail": "email",            # via id 4
    # live chat
    "chat": "chat",             # via id 29: Zendesk Chat
    "chat_transcript": "chat",
    # phone
    "voice": "phone",
    "voicemail": "phone",       # via id 33
    "phone_call_inbound": "phone",   # via id 34
    "phone_call_outbound": "phone",  # via id 35
    "api_voicemail": "phone",        # Talk Partner Edition
    "api_phone_call_inbound": "phone",
    "api_phone_call_outbound": "phone",
    # messaging: Zendesk messaging (Web Widget, mobile SDKs), SMS and the social messaging channels
    "native_messaging": "messaging",
    "messaging": "messaging",
    "sms": "messaging",
    "text": "messaging",
    "whatsapp": "messaging",
    "facebook": "messaging",
    "facebook_message": "messaging",
    "facebook_post": "messaging",
    "instagram_dm": "messaging",
    "twitter": "messaging",
    "twitter_dm": "messaging",
    "twitter_favorite": "messaging",
    "line": "messaging",
    "wechat": "messaging",
    "viber": "messaging",
    "telegram": "messaging",
    "kakaotalk": "messaging",
    "google_rcs": "messaging",
    "apple_business_chat": "messaging",
    "any_channel": "messaging",  # Channel framework integrations (social sources)
}

# Numeric via ids (the API may give "channel": 4) -> via type, for the unambiguous ones.
VIA_IDS = {
    0: "web_form",
    4: "mail",
    5: "web_service",
    8: "rule",
    15: "iphone",
    17: "dropbox",  # feedback tab
    20: "batch",
    27: "closed_ticket",
    29: "chat",
    33: "voicemail",
    34: "phone_call_inbound",
    35: "phone_call_outbound",
}


@frozen
class Flag:
    """How one boolean (is_bug, security_incident, tier2_direct) is derived."""

    tags: frozenset[str] = frozenset()
    field: str | None = None
    values: frozenset[str] | None = None  # None: a checkbox (true) or "true"/"yes"/"1"
    types: frozenset[str] = frozenset()  # ticket types (is_bug only)


@frozen(kw_only=True)
class ZendeskOptions:
    """The options of the ``zendesk`` source (README.md, "Options")."""

    # what the tickets are
    contract: str = ""
    organization_ids: list[FieldId] | None = None
    id_prefix: str = ""
    lob: str | None = None  # a fixed line of business wins over lob_from (tables merge)
    lob_from: Literal["tags", "custom_field", "brand_id", "organization_id", "group_id"] | None = None
    lob_field: FieldId = None
    lob_map: dict[str, str] | None = None
    severity_map: dict[str, Severity] | None = None
    severity_field: FieldId = None
    missing_priority: Severity | None = None
    channel_map: dict[str, Channel] = field(factory=dict)
    bug_tags: list[str] = field(factory=lambda: ["bug"])
    bug_types: list[str] = field(factory=list)
    bug_field: FieldId = None
    bug_field_values: list[str] | None = None
    security_tags: list[str] = field(factory=lambda: ["security_incident"])
    security_field: FieldId = None
    security_field_values: list[str] | None = None
    tier2_tags: list[str] = field(factory=lambda: ["tier2_direct"])
    tier2_field: FieldId = None
    tier2_field_values: list[str] | None = None
    rca_field: FieldId = None
    rca_tag_prefix: str | None = None
    timezone: str = "UTC"  # a Zendesk (Rails) or IANA name
    updates_from: Literal["auto", "metric_events", "comments"] = "auto"
    update_metrics: list[UpdateMetric] = field(
        factory=lambda: ["reply_time", "periodic_update_time", "pausable_update_time"])
    deleted: Literal["skip", "error"] = "skip"
    require_metric_events: bool = True
    # the live API
    url: str | None = None
    subdomain: str | None = None
    email: str | None = None
    email_env: str = "ZENDESK_EMAIL"
    token_env: str = "ZENDESK_API_TOKEN"
    start_time: Any = None  # a unix time, a date or an ISO 8601 timestamp (TOML or text): see start_unix
    history: Literal["ticket_events", "audits", "none"] | None = None
    fetch_audits: bool = False  # the older switch: true is history = "audits"
    max_retries: int = 5
    max_retry_wait: float = 3600.0
    timeout: Positive = 60.0

    def problems(self, path) -> list[tuple[str, str]]:
        """(field path, message) for what the types cannot say; *path* is None for the live API."""
        out: list[tuple[str, str]] = []

        def add(name: str, message: str) -> None:
            out.append((f"$.{name}", message))

        if not self.contract.strip():
            add("contract", "required: the contract id these tickets belong to")
        if self.organization_ids is not None:
            if not self.organization_ids:
                add("organization_ids", "expected a non-empty list of Zendesk organization ids")
            for n, value in enumerate(self.organization_ids):
                if not _is_id(value):
                    add(f"organization_ids[{n}]", f"expected a Zendesk organization id (a number), got {value!r}")
        for name in ("lob_field", "severity_field", "bug_field", "security_field", "tier2_field", "rca_field"):
            value = getattr(self, name)
            if value is not None and not _is_id(value):
                add(name, f"expected a custom field id (a number like 360001234567), got {value!r}")
        # ---- line of business
        if self.lob is not None and not self.lob.strip():
            add("lob", f"expected a line of business, got {self.lob!r}")
        for key, value in (self.lob_map or {}).items():
            if not value.strip():
                add(f"lob_map.{key}", f"expected a line of business, got {value!r}")
        if self.lob is None:
            if self.lob_from is None:
                add("lob", "required: a fixed line of business, or lob_from (with lob_map or lob_field)")
            elif self.lob_from == "custom_field" and self.lob_field is None:
                add("lob_field", 'required with lob_from = "custom_field"')
            elif self.lob_from != "custom_field" and self.lob_map is None:
                add("lob_map", f'required with lob_from = "{self.lob_from}" '
                               f"(which {self.lob_from} value is which line of business)")
        # ---- severity, flags, RCA
        if self.severity_field is not None and self.severity_map is None:
            add("severity_map", "required with severity_field (which field value is which severity)")
        for prefix in ("bug", "security", "tier2"):
            if getattr(self, f"{prefix}_field_values") is not None and getattr(self, f"{prefix}_field") is None:
                add(f"{prefix}_field_values", f"only with {prefix}_field")
        if self.rca_tag_prefix is not None and not self.rca_tag_prefix.strip():
            add("rca_tag_prefix", f"expected a tag prefix, got {self.rca_tag_prefix!r}")
        try:
            to_iana(self.timezone)
        except UnknownTimeZone as exc:
            add("timezone", str(exc))
        if not self.update_metrics:
            add("update_metrics", "expected a non-empty list of periodic_update_time, pausable_update_time, reply_time")
        # ---- the live API
        if self.url is not None and self.subdomain is not None:
            add("url", "give url or subdomain, not both")
        elif self.url is not None:
            problem = _url_problem(self.url)
            if problem:
                add("url", problem)
        elif self.subdomain is not None:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", self.subdomain):
                add("subdomain", f"expected a Zendesk subdomain like acme, got {self.subdomain!r}")
        elif path is None:
            add("url", "required (or subdomain) to read the live API (a [[records]] entry without path)")
        if self.email is not None and not self.email.strip():
            add("email", f"expected the API user's email address, got {self.email!r}")
        for key in ("email_env", "token_env"):
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", getattr(self, key)):
                # never echo it: it may be the secret itself, pasted by mistake
                add(key, "expected the NAME of an environment variable (upper case, like "
                         f"{'ZENDESK_API_TOKEN' if key == 'token_env' else 'ZENDESK_EMAIL'}), not its value")
        if self.start_time is not None:
            try:
                _start_time(self.start_time, ZoneInfo("UTC"))
            except ValueError as exc:
                add("start_time", str(exc))
        elif path is None:
            add("start_time", "required to read the live API (the earliest ticket creation time to read)")
        if self.fetch_audits and self.history not in (None, "audits"):
            add("fetch_audits", f"true contradicts history = {self.history!r}; give history only")
        if self.max_retries < 0:
            add("max_retries", f"expected a non-negative integer, got {self.max_retries!r}")
        if self.max_retry_wait < 0:
            add("max_retry_wait", f"expected a non-negative number of seconds, got {self.max_retry_wait!r}")
        return out

    # ---- what the mapping and the API read

    @cached_property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @cached_property
    def severities(self) -> dict[str, str]:
        """Priority (lower case) -> severity: the defaults with the option's keys added; with
        severity_field, only the option's keys."""
        if self.severity_map is None:
            return dict(DEFAULT_SEVERITY_MAP)
        base = {} if self.severity_field is not None else DEFAULT_SEVERITY_MAP
        return {**base, **{k.lower(): v for k, v in self.severity_map.items()}}

    @cached_property
    def channels(self) -> dict[str, str]:
        """via.channel -> ticket channel: the defaults with the option's keys added."""
        return {**DEFAULT_CHANNEL_MAP, **self.channel_map}

    @cached_property
    def organizations(self) -> frozenset[str] | None:
        return None if self.organization_ids is None else frozenset(field_id(v) for v in self.organization_ids)

    @cached_property
    def bug(self) -> Flag:
        return self._flag("bug", self.bug_types)

    @cached_property
    def security(self) -> Flag:
        return self._flag("security")

    @cached_property
    def tier2(self) -> Flag:
        return self._flag("tier2")

    def _flag(self, prefix: str, types: list[str] = ()) -> Flag:
        values = getattr(self, f"{prefix}_field_values")
        return Flag(tags=frozenset(t.lower() for t in getattr(self, f"{prefix}_tags")),
                    field=field_id(getattr(self, f"{prefix}_field")),
                    values=None if values is None else frozenset(values),
                    types=frozenset(t.lower() for t in types))

    @cached_property
    def base_url(self) -> str | None:
        if self.url is not None:
            return self.url.strip().rstrip("/")
        return None if self.subdomain is None else f"https://{self.subdomain}.zendesk.com"

    @cached_property
    def start_unix(self) -> int | None:
        """start_time as a unix time (a date: midnight in `timezone`; naive: in `timezone`)."""
        return None if self.start_time is None else _start_time(self.start_time, self.tz)

    @property
    def history_from(self) -> str:
        """Where the live API's severity history and comments come from."""
        return "audits" if self.fetch_audits else (self.history or "ticket_events")


def field_id(value) -> str | None:
    """A custom field (or organization) id as the text the ticket's keys are compared with."""
    return None if value is None else str(value).strip()


def _is_id(value) -> bool:
    return not isinstance(value, bool) and (
        (isinstance(value, int) and value > 0) or (isinstance(value, str) and value.strip().isdigit()))


def _url_problem(url: str) -> str | None:
    url = url.strip().rstrip("/")
    if "@" in (urlsplit(url).netloc if "://" in url else url.split("/")[0]):
        # never echo it: it holds credentials
        return "must not hold a user or password; give the API token with token_env"
    if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", url):
        return f"expected a base URL like https://acme.zendesk.com, got {url!r}"
    host = (urlsplit(url).hostname or "").lower()
    if url.startswith("http://") and host not in ("localhost", "127.0.0.1", "::1"):
        return f"expected https (the credentials must not travel in clear), got {url!r}"
    return None


START_TIME = "a unix time, a date or an ISO 8601 timestamp"


def _start_time(value, tz: ZoneInfo) -> int:
    """A unix time (int), a date (midnight in `timezone`) or an ISO timestamp (naive: in
    `timezone`); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected {START_TIME}, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"expected a unix time >= 0, got {value!r}")
        return value
    if isinstance(value, datetime):  # TOML datetime
        moment = value if value.tzinfo else value.replace(tzinfo=tz)
        return int(moment.timestamp())
    if isinstance(value, date):  # TOML date
        return int(datetime.combine(value, time(), tz).timestamp())
    if isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return int(datetime.combine(date.fromisoformat(text), time(), tz).timestamp())
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected {START_TIME}, got {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return int(moment.astimezone(timezone.utc).timestamp())
    raise ValueError(f"expected {START_TIME}, got {value!r}")
