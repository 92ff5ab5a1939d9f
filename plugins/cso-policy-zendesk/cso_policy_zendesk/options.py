"""The ``zendesk`` source's options: defaults, checks and the parsed configuration.

Options come from ``[plugins.zendesk]`` in ``cso-policy.toml`` overlaid with the
``[[records]]`` entry's own keys. Every problem names the option; no message
ever holds a credential (only the *names* of the environment variables that
hold them are options).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .timezones import UnknownTimeZone, zone

NAME = "zendesk"
SEVERITIES = ("P1", "P2", "P3")
CHANNELS = ("web", "chat", "phone", "messaging", "email")

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

LOB_FROM = ("tags", "custom_field", "brand_id", "organization_id", "group_id")
UPDATES_FROM = ("auto", "metric_events", "comments")
HISTORY = ("ticket_events", "audits", "none")
UPDATE_METRICS = ("periodic_update_time", "pausable_update_time", "reply_time")

# Every option the source knows; value: the option's kind, for the messages.
KNOWN = {
    # what the tickets are
    "contract": "a contract id (string)",
    "organization_ids": "a list of Zendesk organization ids",
    "id_prefix": "a string",
    "lob": "a line of business (string)",
    "lob_from": f"one of {', '.join(LOB_FROM)}",
    "lob_field": "a custom field id",
    "lob_map": "a table of value -> line of business",
    "severity_map": "a table of priority -> P1|P2|P3",
    "severity_field": "a custom field id",
    "missing_priority": "P1, P2 or P3",
    "channel_map": "a table of via.channel -> web|chat|phone|messaging|email",
    "bug_tags": "a list of tags",
    "bug_types": "a list of ticket types",
    "bug_field": "a custom field id",
    "bug_field_values": "a list of field values",
    "security_tags": "a list of tags",
    "security_field": "a custom field id",
    "security_field_values": "a list of field values",
    "tier2_tags": "a list of tags",
    "tier2_field": "a custom field id",
    "tier2_field_values": "a list of field values",
    "rca_field": "a custom field id",
    "rca_tag_prefix": "a tag prefix (string)",
    "timezone": "a Zendesk or IANA time-zone name",
    "updates_from": f"one of {', '.join(UPDATES_FROM)}",
    "update_metrics": f"a list of {', '.join(UPDATE_METRICS)}",
    "deleted": "skip or error",
    "require_metric_events": "true or false",
    # the live API
    "url": "the Zendesk base URL (https://acme.zendesk.com)",
    "subdomain": "the Zendesk subdomain (acme)",
    "email": "the API user's email address",
    "email_env": "an environment variable name",
    "token_env": "an environment variable name",
    "start_time": "a unix time, a date or an ISO 8601 timestamp",
    "fetch_audits": "true or false",
    "history": f"one of {', '.join(HISTORY)}",
    "max_retries": "a non-negative integer",
    "max_retry_wait": "a non-negative number of seconds",
    "timeout": "a positive number of seconds",
}


class OptionError(ValueError):
    """A bad option; the message names it."""


@dataclass(frozen=True)
class Flag:
    """How one boolean (is_bug, security_incident, tier2_direct) is derived."""

    tags: frozenset[str] = frozenset()
    field: str | None = None
    values: frozenset[str] | None = None  # None: a checkbox (true) or "true"/"yes"/"1"
    types: frozenset[str] = frozenset()  # ticket types (is_bug only)


@dataclass(frozen=True)
class Config:
    contract: str
    organization_ids: frozenset[str] | None = None
    id_prefix: str = ""
    lob: str | None = None
    lob_from: str | None = None
    lob_field: str | None = None
    lob_map: dict[str, str] | None = None
    severity_map: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))
    severity_field: str | None = None
    missing_priority: str | None = None
    channel_map: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_MAP))
    bug: Flag = Flag()
    security: Flag = Flag()
    tier2: Flag = Flag()
    rca_field: str | None = None
    rca_tag_prefix: str | None = None
    tz: ZoneInfo = ZoneInfo("UTC")
    updates_from: str = "auto"
    update_metrics: tuple[str, ...] = ("reply_time", "periodic_update_time", "pausable_update_time")
    deleted: str = "skip"
    require_metric_events: bool = True
    # live API
    base_url: str | None = None
    email: str | None = None
    email_env: str = "ZENDESK_EMAIL"
    token_env: str = "ZENDESK_API_TOKEN"
    start_time: int | None = None
    history: str = "ticket_events"
    max_retries: int = 5
    max_retry_wait: float = 3600.0
    timeout: float = 60.0


# ------------------------------------------------------------------ checks


def check(options: dict, *, partial: bool = False, live: bool = False) -> list[str]:
    """Problems with *options* (each naming the option). ``partial``: a
    ``[plugins.zendesk]`` table that entries complete, so required options may be missing."""
    try:
        parse(options, partial=partial, live=live)
    except OptionError as exc:
        return [str(exc)]
    return []


def parse(options: dict, *, partial: bool = False, live: bool = False) -> Config:
    """The configuration from *options*; raises OptionError naming the first bad option."""
    if not isinstance(options, dict):
        raise OptionError(f"expected a table of options, got {type(options).__name__}")
    unknown = sorted(set(options) - set(KNOWN))
    if unknown:
        raise OptionError(f"unknown option(s): {', '.join(unknown)} (known: {', '.join(sorted(KNOWN))})")
    o = options
    kw: dict = {}

    contract = o.get("contract")
    if contract is None:
        if not partial:
            raise OptionError("contract: required (the contract id these tickets belong to)")
        contract = ""
    kw["contract"] = _str(contract, "contract", allow_empty=partial)

    if "organization_ids" in o:
        kw["organization_ids"] = frozenset(_ids(o["organization_ids"], "organization_ids"))
    if "id_prefix" in o:
        kw["id_prefix"] = _str(o["id_prefix"], "id_prefix", allow_empty=True)

    # ---- line of business
    lob = o.get("lob")
    lob_from = o.get("lob_from")
    if lob is not None:  # a fixed line of business wins over lob_from (tables merge)
        kw["lob"] = _str(lob, "lob")
    if lob_from is not None:
        if lob_from not in LOB_FROM:
            raise OptionError(f"lob_from: expected one of {', '.join(LOB_FROM)}, got {lob_from!r}")
    if "lob_field" in o:
        kw["lob_field"] = _field_id(o["lob_field"], "lob_field")
    if "lob_map" in o:
        kw["lob_map"] = _str_map(o["lob_map"], "lob_map")
    if lob is None and lob_from is not None:
        kw["lob_from"] = lob_from
        if not partial:
            if lob_from == "custom_field" and "lob_field" not in o:
                raise OptionError('lob_field: required with lob_from = "custom_field"')
            if lob_from != "custom_field" and "lob_map" not in o:
                raise OptionError(
                    f'lob_map: required with lob_from = "{lob_from}" (which {lob_from} value is which line of business)'
                )
    elif lob is None and not partial:
        raise OptionError("lob: required (a fixed line of business), or lob_from (with lob_map or lob_field)")

    # ---- severity
    if "severity_map" in o:
        given = _str_map(o["severity_map"], "severity_map")
        for k, v in given.items():
            if v not in SEVERITIES:
                raise OptionError(f"severity_map.{k}: expected P1, P2 or P3, got {v!r}")
        base = {} if "severity_field" in o else dict(DEFAULT_SEVERITY_MAP)
        kw["severity_map"] = {**base, **{k.lower(): v for k, v in given.items()}}
    elif "severity_field" in o and not partial:
        raise OptionError("severity_map: required with severity_field (which field value is which severity)")
    if "severity_field" in o:
        kw["severity_field"] = _field_id(o["severity_field"], "severity_field")
    if "missing_priority" in o:
        if o["missing_priority"] not in SEVERITIES:
            raise OptionError(f"missing_priority: expected P1, P2 or P3, got {o['missing_priority']!r}")
        kw["missing_priority"] = o["missing_priority"]

    # ---- channel
    if "channel_map" in o:
        given = _str_map(o["channel_map"], "channel_map")
        for k, v in given.items():
            if v not in CHANNELS:
                raise OptionError(f"channel_map.{k}: expected one of {', '.join(CHANNELS)}, got {v!r}")
        kw["channel_map"] = {**DEFAULT_CHANNEL_MAP, **given}

    # ---- flags
    kw["bug"] = _flag(o, "bug", ["bug"], with_types=True)
    kw["security"] = _flag(o, "security", ["security_incident"])
    kw["tier2"] = _flag(o, "tier2", ["tier2_direct"])

    # ---- RCA
    if "rca_field" in o:
        kw["rca_field"] = _field_id(o["rca_field"], "rca_field")
    if "rca_tag_prefix" in o:
        kw["rca_tag_prefix"] = _str(o["rca_tag_prefix"], "rca_tag_prefix")

    # ---- time zone
    if "timezone" in o:
        try:
            kw["tz"] = zone(o["timezone"])
        except UnknownTimeZone as exc:
            raise OptionError(f"timezone: {exc}") from None
    tz = kw.get("tz", ZoneInfo("UTC"))

    # ---- updates and events
    if "updates_from" in o:
        if o["updates_from"] not in UPDATES_FROM:
            raise OptionError(f"updates_from: expected one of {', '.join(UPDATES_FROM)}, got {o['updates_from']!r}")
        kw["updates_from"] = o["updates_from"]
    if "update_metrics" in o:
        metrics = _str_list(o["update_metrics"], "update_metrics")
        bad = [m for m in metrics if m not in UPDATE_METRICS]
        if bad or not metrics:
            raise OptionError(f"update_metrics: expected a non-empty list of {', '.join(UPDATE_METRICS)}, got {metrics!r}")
        kw["update_metrics"] = tuple(metrics)
    if "deleted" in o:
        if o["deleted"] not in ("skip", "error"):
            raise OptionError(f"deleted: expected skip or error, got {o['deleted']!r}")
        kw["deleted"] = o["deleted"]
    if "require_metric_events" in o:
        kw["require_metric_events"] = _bool(o["require_metric_events"], "require_metric_events")

    # ---- live API
    if "url" in o and "subdomain" in o:
        raise OptionError("url and subdomain: give one")
    if "url" in o:
        if not isinstance(o["url"], str):
            raise OptionError(f"url: expected {KNOWN['url']}, got {type(o['url']).__name__}")
        url = o["url"].strip().rstrip("/")
        if "@" in (urlsplit(url).netloc if "://" in url else url.split("/")[0]):
            # never echo it: it holds credentials
            raise OptionError("url: must not hold a user or password; give the API token with token_env")
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", url):
            raise OptionError(f"url: expected a base URL like https://acme.zendesk.com, got {url!r}")
        host = (urlsplit(url).hostname or "").lower()
        if url.startswith("http://") and host not in ("localhost", "127.0.0.1", "::1"):
            raise OptionError(f"url: expected https (the credentials must not travel in clear), got {url!r}")
        kw["base_url"] = url
    elif "subdomain" in o:
        sub = _str(o["subdomain"], "subdomain")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", sub):
            raise OptionError(f"subdomain: expected a Zendesk subdomain like acme, got {sub!r}")
        kw["base_url"] = f"https://{sub}.zendesk.com"
    elif live and not partial:
        raise OptionError("url or subdomain: required to read the live API (a [[records]] entry without path)")
    if "email" in o:
        kw["email"] = _str(o["email"], "email")
    for key in ("email_env", "token_env"):
        if key in o:
            value = _str(o[key], key)
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
                # never echo it: it may be the secret itself, pasted by mistake
                raise OptionError(
                    f"{key}: expected the NAME of an environment variable (upper case, like "
                    f"{'ZENDESK_API_TOKEN' if key == 'token_env' else 'ZENDESK_EMAIL'}), not its value"
                )
            kw[key] = value
    if "start_time" in o:
        kw["start_time"] = _start_time(o["start_time"], tz)
    elif live and not partial:
        raise OptionError("start_time: required to read the live API (the earliest ticket creation time to read)")
    if "history" in o:
        if o["history"] not in HISTORY:
            raise OptionError(f"history: expected one of {', '.join(HISTORY)}, got {o['history']!r}")
        kw["history"] = o["history"]
    if "fetch_audits" in o:  # the older switch: true is history = "audits"
        if _bool(o["fetch_audits"], "fetch_audits"):
            if o.get("history", "audits") != "audits":
                raise OptionError(f"fetch_audits: true contradicts history = {o['history']!r}; give history only")
            kw["history"] = "audits"
    if "max_retries" in o:
        v = o["max_retries"]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise OptionError(f"max_retries: expected a non-negative integer, got {v!r}")
        kw["max_retries"] = v
    if "max_retry_wait" in o:
        v = o["max_retry_wait"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise OptionError(f"max_retry_wait: expected a non-negative number of seconds, got {v!r}")
        kw["max_retry_wait"] = float(v)
    if "timeout" in o:
        v = o["timeout"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise OptionError(f"timeout: expected a positive number of seconds, got {v!r}")
        kw["timeout"] = float(v)
    return Config(**kw)


# ------------------------------------------------------------------ helpers


def _str(value, name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise OptionError(f"{name}: expected {KNOWN.get(name, 'a string')}, got {value!r}")
    return value


def _bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise OptionError(f"{name}: expected true or false, got {value!r}")
    return value


def _field_id(value, name: str) -> str:
    """A custom field id: an integer, or digits in a string."""
    if isinstance(value, bool) or not (
        (isinstance(value, int) and value > 0) or (isinstance(value, str) and value.strip().isdigit())
    ):
        raise OptionError(f"{name}: expected a custom field id (a number like 360001234567), got {value!r}")
    return str(value).strip()


def _ids(value, name: str) -> list[str]:
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise OptionError(f"{name}: expected {KNOWN[name]}, got {value!r}")
    return [_field_id(v, name) for v in value]


def _str_list(value, name: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise OptionError(f"{name}: expected {KNOWN.get(name, 'a list of strings')}, got {value!r}")
    return [str(v) for v in value]


def _str_map(value, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
        raise OptionError(f"{name}: expected {KNOWN[name]}, got {value!r}")
    return {str(k): v for k, v in value.items()}


def _flag(o: dict, prefix: str, default_tags: list[str], *, with_types: bool = False) -> Flag:
    tags_key, field_key, values_key = f"{prefix}_tags", f"{prefix}_field", f"{prefix}_field_values"
    tags = _str_list(o[tags_key], tags_key) if tags_key in o else default_tags
    fid = _field_id(o[field_key], field_key) if field_key in o else None
    values = None
    if values_key in o:
        if fid is None:
            raise OptionError(f"{values_key}: only with {field_key}")
        values = frozenset(_str_list(o[values_key], values_key))
    types: frozenset[str] = frozenset()
    if with_types and f"{prefix}_types" in o:
        types = frozenset(t.lower() for t in _str_list(o[f"{prefix}_types"], f"{prefix}_types"))
    return Flag(tags=frozenset(t.lower() for t in tags), field=fid, values=values, types=types)


def _start_time(value, tz: ZoneInfo) -> int:
    """A unix time (int), a date (midnight in `timezone`) or an ISO timestamp (naive: in `timezone`)."""
    if isinstance(value, bool):
        raise OptionError(f"start_time: expected {KNOWN['start_time']}, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise OptionError(f"start_time: expected a unix time >= 0, got {value!r}")
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
            raise OptionError(f"start_time: expected {KNOWN['start_time']}, got {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return int(moment.astimezone(timezone.utc).timestamp())
    raise OptionError(f"start_time: expected {KNOWN['start_time']}, got {value!r}")
