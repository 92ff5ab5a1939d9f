"""The Jira Cloud REST endpoints the source reads, on the core :class:`cso_policy.HttpClient`.

The HTTP itself (basic auth, retries, ``Retry-After``, redirects, one-line errors that never
carry the token) is the core client's; this module knows Jira's paths and paging.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

from cso_policy import ConfigError, HttpClient

SEARCH = "/rest/api/3/search/jql"
FIELDS = "/rest/api/3/field"


def changelog_path(key: str) -> str:
    return f"/rest/api/3/issue/{urllib.parse.quote(key, safe='')}/changelog"


def participants_path(key: str) -> str:
    return f"/rest/servicedeskapi/request/{urllib.parse.quote(key, safe='')}/participant"


def comments_path(key: str) -> str:
    return f"/rest/api/3/issue/{urllib.parse.quote(key, safe='')}/comment"


class Client:
    """Jira's search, field, changelog, comment and participant endpoints over *http*."""

    def __init__(self, http: HttpClient):
        self.http = http
        self.base_url = http.base_url

    def _fail(self, message: str) -> ConfigError:
        return ConfigError(f"jira: {message}")

    # -- paged endpoints -------------------------------------------------------------

    def search(self, jql: str, fields: list[str], page_size: int, expand: str | None = "changelog") -> Iterator[dict]:
        """Every issue of ``POST /rest/api/3/search/jql``, following ``nextPageToken``.

        The search is read-only, so its POST is retried like a GET (``idempotent``)."""
        token = None
        seen: set[str] = set()
        while True:
            body = {"jql": jql, "fields": fields, "maxResults": page_size}
            if expand:
                body["expand"] = expand
            if token:
                body["nextPageToken"] = token
            page = self.http.post_json(SEARCH, body, idempotent=True).json
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
            page = self.http.get_json(path, {**params, "startAt": start, "maxResults": 100}).json
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
            response = self.http.get_json(path, {"start": start, "limit": 50}, missing_ok=True)
            if response is None:
                return None if not out else out
            page = response.json
            values = page.get("values") if isinstance(page, dict) else None
            if not isinstance(values, list):
                raise self._fail(f"GET {self.base_url}{path}: expected an object with a values list")
            out.extend(values)
            start += len(values)
            if not values or page.get("isLastPage") is not False:
                return out

    def fields(self) -> list:
        found = self.http.get_json(FIELDS).json
        if not isinstance(found, list):
            raise self._fail(f"GET {self.base_url}{FIELDS}: expected a list of fields")
        return found
