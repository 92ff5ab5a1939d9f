"""One HTTP client for live record sources, on urllib3.

``HttpClient`` GETs (and POSTs) JSON on one origin: credentials in headers only (never in a message),
redirects and next-page links only within the origin, ``Retry-After`` honoured for 429/503 up
to a ceiling (a progress line while waiting), exponential backoff for 429/5xx and connection
errors without one, and every failure a one-line :class:`~cso_policy.ConfigError`. The
retrying is urllib3's :class:`~urllib3.util.Retry`, subclassed for the ceiling, the progress
line and an injectable sleep.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Literal, overload
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import attrs
import orjson
import urllib3
from urllib3.exceptions import HTTPError as _Urllib3Error
from urllib3.exceptions import MaxRetryError
from urllib3.util import Retry

from .._version import __version__
from ..errors import ConfigError

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
"""Statuses retried: after ``Retry-After`` when the response has one, else with backoff."""
BACKOFF_MAX = 60.0
"""Without ``Retry-After``: 1, 2, 4... seconds, at most this."""
MAX_REDIRECTS = 5
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_SECRET_PARAM = re.compile(r"token|key|secret|passw|signature|^sig$|credential", re.I)
_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]*)*)')
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))', re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@attrs.frozen
class Response:
    """A decoded JSON response."""

    status: int
    headers: Mapping[str, str]  # case-insensitive
    json: object
    url: str


def redact(url: str) -> str:
    """*url* fit for a message: no userinfo, no fragment, and the values of query parameters
    named like token/key/secret/password/signature replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    pieces = []
    for piece in parts.query.split("&") if parts.query else []:
        name, eq, _ = piece.partition("=")
        pieces.append(f"{name}=***" if eq and _SECRET_PARAM.search(name) else piece)
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(pieces), ""))


def link_next(header: str | None) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header, or None."""
    if not header:
        return None
    for url, params in _LINK.findall(header):
        for quoted, bare in _REL.findall(params):
            if "next" in (quoted or bare).lower().split():
                return url.strip()
    return None


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date, counted
    from *now*, never negative); None when there is none or it cannot be read."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def credentials_from_env(name: str, *variables: str, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The values of the environment variables *variables*, in order; a missing or empty one is
    a ConfigError naming the variable (never a value). *name* starts the message."""
    env = os.environ if environ is None else environ
    values = []
    for variable in variables:
        value = env.get(variable)
        if not value:
            raise ConfigError(f"{name}: the environment variable {variable} is not set")
        values.append(value)
    return tuple(values)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Retry(Retry):
    """urllib3's Retry with a ceiling on ``Retry-After`` (a longer wait is a ConfigError), a
    progress line before each wait, an injectable sleep and clock, and backoff 1, 2, 4... s."""

    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})

    def __init__(self, *args, context: _Context, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = context

    def new(self, **kw):
        kw.setdefault("context", self.context)
        new = super().new(**kw)
        self.context.attempts = len(new.history)  # the tries so far (MaxRetryError drops the Retry)
        return new

    def get_retry_after(self, response) -> float | None:
        return retry_after_seconds(response.headers.get("Retry-After"), self.context.now())

    def get_backoff_time(self) -> float:
        errors = 0
        for entry in reversed(self.history):
            if entry.redirect_location is not None:
                break
            errors += 1
        if errors == 0:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (errors - 1)))

    def sleep_for_retry(self, response) -> bool:
        delay = self.get_retry_after(response)
        if delay is None:
            return False
        ctx = self.context
        what = "rate limited" if response.status == 429 else f"service unavailable (HTTP {response.status})"
        until = (ctx.now() + timedelta(seconds=delay)).strftime("%H:%M UTC")
        if delay > ctx.max_wait:
            raise ConfigError(
                f"{ctx.name}: {ctx.method} {ctx.shown}: {what}; the server asks to wait {delay:.0f} s (until {until}), "
                f"more than max_retry_wait = {ctx.max_wait:g} s: run again later or raise max_retry_wait"
            )
        ctx.progress(f"{ctx.name}: {what}, waiting {delay:.0f} s (until {until})")
        if delay > 0:
            ctx.sleep(delay)
        return True

    def sleep(self, response=None) -> None:
        if response is not None and self.respect_retry_after_header and self.sleep_for_retry(response):
            return
        delay = self.get_backoff_time()
        if delay <= 0:
            return
        last = self.history[-1] if self.history else None
        why = f"HTTP {last.status}" if last is not None and last.status else "connection failed"
        ctx = self.context
        ctx.progress(f"{ctx.name}: {why}, retrying in {delay:g} s ({len(self.history)} of {ctx.retries})")
        ctx.sleep(delay)


@attrs.define
class _Context:
    """What a request's Retry needs to know (carried across ``Retry.new``)."""

    name: str
    method: str
    shown: str
    max_wait: float
    retries: int
    sleep: Callable[[float], None]
    progress: Callable[[str], None]
    now: Callable[[], datetime]
    attempts: int = 0


class HttpClient:
    """GETs (and POSTs) JSON on the origin of *base_url* for the record source *name*.

    *basic* ``(user, password)`` or *bearer* become the ``Authorization`` header (sent only to
    that origin); *headers* are added to every request. 429/503 wait ``Retry-After`` (seconds
    or an HTTP date) up to *max_retry_wait* seconds, calling *progress* with one line (default:
    stderr); without the header, 429/5xx and connection errors back off 1, 2, 4... s, at most
    *retries* times. Every failure is a one-line ConfigError; 401/403 add ``(check <auth_hint>)``.
    A POST (:meth:`post_json`) is retried only when it cannot have been processed (429/503 with
    ``Retry-After``, no connection), unless it is declared ``idempotent``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        headers: dict | None = None,
        basic: tuple[str, str] | None = None,
        bearer: str | None = None,
        max_retry_wait: float = 3600.0,
        retries: int = 5,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[str], None] | None = None,
        now: Callable[[], datetime] | None = None,
        auth_hint: str | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.max_retry_wait = max_retry_wait
        self.retries = retries
        self.timeout = timeout
        self.auth_hint = auth_hint
        self._sleep = sleep
        self._progress = progress or _to_stderr
        self._now = now or (lambda: datetime.now(UTC))
        self._origin = _origin(self.base_url)
        self._headers = {"Accept": "application/json", "User-Agent": f"cso-policy/{__version__} ({name})"}
        self._secrets: list[str] = []
        if basic is not None:
            auth = urllib3.util.make_headers(basic_auth=f"{basic[0]}:{basic[1]}")["authorization"]
            self._headers["Authorization"] = auth
            self._secrets += [basic[1], f"{basic[0]}:{basic[1]}", auth.split(" ", 1)[1]]
        if bearer is not None:
            self._headers["Authorization"] = f"Bearer {bearer}"
            self._secrets.append(bearer)
        self._headers.update(headers or {})
        self._secrets = sorted({s for s in self._secrets if s}, key=len, reverse=True)
        self._pool = urllib3.PoolManager()

    def __repr__(self) -> str:  # never the headers
        return f"HttpClient({self.base_url!r}, name={self.name!r})"

    def url(self, url_or_path: str, params: dict | None = None) -> str:
        """The absolute URL of *url_or_path* (a path is under base_url) with *params* added."""
        url = url_or_path if urlsplit(url_or_path).scheme else self.base_url + "/" + url_or_path.lstrip("/")
        if params:
            url += ("&" if urlsplit(url).query else "?") + urlencode(params)
        return url

    @overload
    def get_json(self, url_or_path: str, params: dict | None = None, *, missing_ok: Literal[False] = False) -> Response: ...
    @overload
    def get_json(self, url_or_path: str, params: dict | None = None, *, missing_ok: bool) -> Response | None: ...

    def get_json(self, url_or_path: str, params: dict | None = None, *, missing_ok: bool = False) -> Response | None:
        """GET and decode JSON; redirects are followed within the origin only. With *missing_ok*,
        a 404 answers None instead of a ConfigError."""
        return self._send("GET", self.url(url_or_path, params), None, missing_ok=missing_ok, idempotent=True)

    def post_json(self, url_or_path: str, body: object, params: dict | None = None, *,
                  idempotent: bool = False) -> Response:
        """POST *body* as JSON and decode the JSON answer; same origin, redirect and redaction rules
        as :meth:`get_json`. A POST is retried only when the server cannot have acted on it: 429/503
        with ``Retry-After`` (up to *max_retry_wait*) and connections that failed before sending.
        *idempotent* (a read-only query sent as a POST, e.g. a search) retries it like a GET: also
        429/5xx without ``Retry-After`` and read errors, with backoff. 307/308 redirects repeat the
        POST; 301/302/303 continue with a GET."""
        data = orjson.dumps(body)
        return self._send("POST", self.url(url_or_path, params), data, missing_ok=False, idempotent=idempotent)

    def pages(
        self,
        url_or_path: str,
        params: dict | None = None,
        *,
        next_url: Callable[[Response], str | None],
    ) -> Iterator[Response]:
        """Every page from *url_or_path*, then ``next_url(page)`` (relative URLs resolved against
        the page's) until it returns None. A next URL seen before is a ConfigError."""
        url = self.url(url_or_path, params)
        seen = {url}
        while True:
            page = self.get_json(url)
            yield page
            nxt = next_url(page)
            if not nxt:
                return
            url = urljoin(page.url, nxt)
            if url in seen:
                raise ConfigError(f"{self.name}: GET {redact(url)}: the next-page link repeats an earlier page")
            seen.add(url)

    # -- internals ---------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _same_origin(self, url: str, what: str) -> None:
        if _origin(url) != self._origin:
            raise ConfigError(
                f"{self.name}: refusing to send the credentials to another origin than {redact(self.base_url)}: "
                f"{what} {redact(url)}"
            )

    def _send(self, method: str, url: str, data: bytes | None, *, missing_ok: bool, idempotent: bool):
        """One request, following redirects within the origin; the decoded Response."""
        for _ in range(MAX_REDIRECTS + 1):
            self._same_origin(url, "URL")
            response = self._request(method, url, data, idempotent)
            location = response.headers.get("Location")
            if response.status not in _REDIRECT_STATUS or not location:
                if missing_ok and response.status == 404:
                    return None
                return self._decode(method, url, response)
            target = urljoin(url, location)
            if _origin(target) != self._origin:
                raise ConfigError(
                    f"{self.name}: {method} {redact(url)}: redirect to another origin refused "
                    f"({redact(target)}): set the base URL to where the API lives"
                )
            if method != "GET" and response.status not in (307, 308):
                method, data = "GET", None  # 301/302/303: the answer is at *target*
            url = target
        raise ConfigError(f"{self.name}: {method} {redact(url)}: more than {MAX_REDIRECTS} redirects")

    def _request(self, method: str, url: str, data: bytes | None, idempotent: bool):
        shown = redact(url)
        context = _Context(self.name, method, shown, self.max_retry_wait, self.retries, self._sleep, self._progress,
                           self._now)
        retry = _Retry(
            total=self.retries,
            # not idempotent: no retry after a read error (the server may have acted on the request)
            read=None if idempotent else 0,
            redirect=False,
            # not idempotent: no status is retried blindly; 429/503 only with Retry-After (is_retry)
            status_forcelist=RETRY_STATUS if idempotent else frozenset(),
            allowed_methods=frozenset({method}),
            backoff_factor=1.0,
            backoff_max=BACKOFF_MAX,
            raise_on_status=False,
            respect_retry_after_header=True,
            context=context,
        )
        headers = self._headers
        if data is not None:
            headers = {**headers, "Content-Type": "application/json"}
        try:
            return self._pool.urlopen(
                method, url, body=data, headers=headers, retries=retry, redirect=False,
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
            )
        except MaxRetryError as exc:
            reason = exc.reason
            detail = f"{type(reason).__name__}: {reason}" if reason is not None else "too many retries"
            retried = max(0, context.attempts - 1)
            after = f" after {retried} retries" if retried else ""
            raise ConfigError(self._scrub(
                f"{self.name}: {method} {shown} failed{after}: {_one_line(detail)}"
            )) from None
        except _Urllib3Error as exc:
            raise ConfigError(self._scrub(
                f"{self.name}: {method} {shown} failed: {type(exc).__name__}: {_one_line(str(exc))}")) from None

    def _decode(self, method: str, url: str, response) -> Response:
        shown = redact(url)
        body = response.data or b""
        if response.status >= 400 or response.status < 200 or response.status in _REDIRECT_STATUS:
            retried = len(response.retries.history) if response.retries is not None else 0
            after = f" after {retried} retries" if retried else ""
            detail = _error_detail(body)
            detail = f": {self._scrub(detail)}" if detail else ""
            hint = f" (check {self.auth_hint})" if self.auth_hint and response.status in (401, 403) else ""
            reason = response.reason or ""
            raise ConfigError(
                f"{self.name}: {method} {shown} failed: HTTP {response.status} {reason}".rstrip() + f"{after}{detail}{hint}"
            )
        try:
            doc = orjson.loads(body) if body.strip() else None
        except orjson.JSONDecodeError:
            raise ConfigError(f"{self.name}: {method} {shown}: the response is not JSON") from None
        headers = urllib3.HTTPHeaderDict(response.headers)
        return Response(response.status, headers, doc, url)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_detail(body: bytes) -> str:
    """A short error message from a JSON error body (Jira, Zendesk, ServiceNow and common
    shapes), or ''."""
    try:
        doc = orjson.loads(body)
    except (orjson.JSONDecodeError, TypeError):
        return ""
    if not isinstance(doc, dict):
        return ""
    messages: list[str] = []
    error = doc.get("error")
    if isinstance(error, str):
        messages.append(error)
    elif isinstance(error, dict):
        messages += [error[k] for k in ("message", "title", "detail") if isinstance(error.get(k), str)]
    messages += [m for m in doc.get("errorMessages") or [] if isinstance(m, str)]
    errors = doc.get("errors")
    if isinstance(errors, dict):
        messages += [f"{k}: {v}" for k, v in errors.items() if isinstance(v, str)]
    elif isinstance(errors, list):
        messages += [e if isinstance(e, str) else e.get("message") or e.get("detail") or ""
                     for e in errors if isinstance(e, (str, dict))]
    for key in ("message", "description", "detail", "error_description"):
        if isinstance(doc.get(key), str):
            messages.append(doc[key])
    messages = list(dict.fromkeys(m for m in messages if m))
    return _one_line("; ".join(messages)) if messages else ""
