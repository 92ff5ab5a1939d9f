"""Reading an export file: one JSON page, a JSON array of pages, or JSON Lines of pages.

A page is what the incremental export API returns: ``{"tickets": [...],
"ticket_metric_events": [...], "metric_sets": [...], "audits": [...], ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from cso_policy import ConfigError
from cso_policy import BadLine

from .mapping import Dataset, _kind

PAGE_KEYS = ("tickets", "ticket_metric_events", "metric_sets", "ticket_metrics", "audits", "comments", "users",
             "ticket_events")


def load(path: Path) -> tuple[Dataset, list[BadLine]]:
    """The joined export and the pages that could not be read (each a BadLine naming its line)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    problems: list[BadLine] = []
    pages: list[dict] = []
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
        whole = False
    else:
        whole = True
    if whole and isinstance(doc, dict):
        pages.append(doc)
    elif whole and isinstance(doc, list):
        for n, page in enumerate(doc):
            if isinstance(page, dict) and any(k in page for k in PAGE_KEYS):
                pages.append(page)
            else:
                problems.append(BadLine(f"[{n}]: expected an export page ({{\"tickets\": [...], ...}}), got {_kind(page)}"))
    elif whole:
        raise ConfigError(f"{path}: expected a Zendesk export page (a JSON object with \"tickets\"), got {_kind(doc)}")
    else:  # JSON Lines, one page a line
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                page = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(BadLine(f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})"))
                continue
            if isinstance(page, dict) and any(k in page for k in PAGE_KEYS):
                pages.append(page)
            else:
                problems.append(BadLine(f"line {number}: expected an export page ({{\"tickets\": [...], ...}}), got {_kind(page)}"))
    ds = Dataset()
    for page in pages:
        ds.add_page(page)
    if not any("tickets" in p for p in pages) and not problems:
        raise ConfigError(f"{path}: no \"tickets\" in this file: not a Zendesk ticket export")
    return ds, problems


def pages_problems(file: str, problems: list[BadLine]) -> Iterator[tuple[str, int, BadLine]]:
    for problem in problems:
        yield file, 0, problem
