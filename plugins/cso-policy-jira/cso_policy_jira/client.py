"""A minimal Jira Cloud REST client on ``urllib.request``: basic auth, JSON, paging, 429 retries.

No error message ever carries the API token, the ``email:token`` pair or the
encoded Authorization header: every message goes through :meth:`Client.scrub`.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from datetime import UTC, datetime

from cso_policy import ConfigError

from . import __version__

SEARCH = "/rest/api/3/search/jql"
FIELDS = "/rest/api/3/field"
RETRY_STATUS = (429, 503)


def changelog_path(key: str) -> str:
    return f"/rest/api/3/issue/{urllib.parse.quote(key, safe='')}/changelog"


def participants_path(key: str) -> str:
    return f"/rest/servicedeskapi/request/{urllib.parse.quote(key, safe='')}/participant"


def comments_path(key: str) -> str:
    return f"/rest/api/3/issue/{urllib.parse.quote(key, safe='')}/comment"


def retry_delay(header: str | None, attempt: int, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float:
    """Seconds to wait: ``Retry-After`` (seconds or an HTTP date), else 1, 2, 4... up to 60."""
    if header:
        header = header.strip()
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
        try:
            return max(0.0, (parsedate_to_datetime(header) - now()).total_seconds())
        except (TypeError, ValueError, IndexError):
            pass
    return float(min(60, 2**attempt))


class Client:
    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        credential_hint: str,
        max_retries: int = 5,
        timeout: float = 60,
        sleep: Callable[[float], None] = time.sleep,
        urlopen: Callable = urllib.request.urlopen,
    ):
        self.base_url = base_url.rstrip("/")
        pair = f"{email}:{token}"
        encoded = base64.b64encode(pair.encode()).decode("ascii")
        self._authorization = f"Basic {encoded}"
        self._secrets = sorted({s for s in (token, pair, encoded) if s}, key=len, reverse=True)
        self.credential_hint = credential_hint
        self.max_retries = max_retries
        self.timeout = timeout
        self.sleep = sleep
        self.urlopen = urlopen

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _fail(self, message: str) -> ConfigError:
        return ConfigError(self.scrub(f"jira: {message}"))

    def call(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
             missing_ok: bool = False):
        """One request; JSON in and out. Retries 429/503 after ``Retry-After``; any other
        failure is a ConfigError (the run cannot go on without its records). With
        *missing_ok*, a 404 answers None (an issue that is no service request)."""
        url = self.base_url + path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {
            "Authorization": self._authorization,
            "Accept": "application/json",
            "User-Agent": f"cso-policy-jira/{__version__}",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with self.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                break
            except urllib.error.HTTPError as exc:
                retry = exc.code in RETRY_STATUS and attempt < self.max_retries
                retry_after = exc.headers.get("Retry-After") if exc.headers is not None else None
                detail = "" if retry else _error_detail(exc)
                exc.close()
                if retry:
                    self.sleep(retry_delay(retry_after, attempt))
                    attempt += 1
                    continue
                if missing_ok and exc.code == 404:
                    return None
                retried = f" after {attempt} retries" if attempt else ""
                hint = f" (check {self.credential_hint})" if exc.code in (401, 403) else ""
                raise self._fail(f"{method} {url} failed: HTTP {exc.code} {exc.reason}{retried}{detail}{hint}") from None
            except urllib.error.URLError as exc:
                raise self._fail(f"{method} {url}: cannot connect ({exc.reason})") from None
            except (TimeoutError, OSError) as exc:
                raise self._fail(f"{method} {url}: {type(exc).__name__}: {exc}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise self._fail(f"{method} {url}: the response is not JSON") from None

    # -- paged endpoints -------------------------------------------------------------

    def search(self, jql: str, fields: list[str], page_size: int, expand: str | None = "changelog") -> Iterator[dict]:
        """Every issue of ``POST /rest/api/3/search/jql``, following ``nextPageToken``."""
        token = None
        seen: set[str] = set()
        while True:
            body = {"jql": jql, "fields": fields, "maxResults": page_size}
            if expand:
                body["expand"] = expand
            if token:
                body["nextPageToken"] = token
            page = self.call("POST", SEARCH, body=body)
            if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
                raise self._fail(f"POST {self.base_url}{SEARCH}: expected an object with an issues list")
            yield from page["issues"]
            token = page.get("nextPageToken")
            if not token or page.get("isLast") is True:
                return
            if token in seen:
                raise self._fail(f"POST {self.base_url}{SEARCH}: the same nextPageToken came back twice")
            seen.add(token)

    def _offset_pages(self, path: str, items_key: str, params: dict) -> list:
        """All items of a startAt/maxResults endpoint (stops at isLast, total, or an empty page)."""
        out: list = []
        start = 0
        while True:
            page = self.call("GET", path, params={**params, "startAt": start, "maxResults": 100})
            items = page.get(items_key) if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise self._fail(f"GET {self.base_url}{path}: expected an object with a {items_key} list")
            out.extend(items)
            start += len(items)
            total = page.get("total")
            if not items or page.get("isLast") is True:
                return out
            if page.get("isLast") is not False and isinstance(total, int) and start >= total:
                return out

    def changelog(self, key: str) -> list:
        """The full changelog of *key*, oldest first (``GET /rest/api/3/issue/{key}/changelog``)."""
        return self._offset_pages(changelog_path(key), "values", {})

    def comments(self, key: str) -> list:
        """All comments of *key*, oldest first (``GET /rest/api/3/issue/{key}/comment``)."""
        return self._offset_pages(comments_path(key), "comments", {"orderBy": "created"})

    def participants(self, key: str) -> list | None:
        """The request participants of *key* (``GET /rest/servicedeskapi/request/{key}/participant``,
        paged with ``start``/``limit`` until ``isLastPage``); None when *key* is no service request (404)."""
        path = participants_path(key)
        out: list = []
        start = 0
        while True:
            page = self.call("GET", path, params={"start": start, "limit": 50}, missing_ok=True)
            if page is None:
                return None if not out else out
            values = page.get("values") if isinstance(page, dict) else None
            if not isinstance(values, list):
                raise self._fail(f"GET {self.base_url}{path}: expected an object with a values list")
            out.extend(values)
            start += len(values)
            if not values or page.get("isLastPage") is not False:
                return out

    def fields(self) -> list:
        found = self.call("GET", FIELDS)
        if not isinstance(found, list):
            raise self._fail(f"GET {self.base_url}{FIELDS}: expected a list of fields")
        return found


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """Jira's ``errorMessages`` / ``errors`` from an error response, if any."""
    try:
        payload = json.loads(exc.read() or b"null")
    except (ValueError, OSError):
        return ""
    if not isinstance(payload, dict):
        return ""
    messages = [m for m in payload.get("errorMessages") or [] if isinstance(m, str)]
    errors = payload.get("errors")
    if isinstance(errors, dict):
        messages += [f"{k}: {v}" for k, v in errors.items() if isinstance(v, str)]
    return f": {'; '.join(messages)[:500]}" if messages else ""
