"""Reading an export file: a Table API response ``{"result": [incident, ...]}`` with optional
``"sys_journal_field": [...]``, ``"sys_audit": [...]`` and ``"sys_user": [...]`` arrays, or those in
their own files (options ``journal_path`` / ``audit_path`` / ``user_path``, relative to the
export's folder)."""

from __future__ import annotations

from pathlib import Path

import orjson

from cso_policy import ConfigError
from cso_policy import BadLine

from .mapping import Users
from .options import NAME, ServiceNowOptions
from .stream import IncidentStream, group_audit, group_journal, map_row

_ROW_KEYS = ("result", "records")  # Table API response; the JSONv2 processor's {"records": [...]}


def _load(path: Path):
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return orjson.loads(data)


def _rows(doc) -> list | None:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in _ROW_KEYS:
            if isinstance(doc.get(key), list):
                return doc[key]
    return None


def _side_rows(option: str, value: str, base: Path, table: str) -> list:
    path = Path(value) if Path(value).is_absolute() else base / value
    if not path.is_file():
        raise ConfigError(f"{NAME}: option {option}: no such file {path}")
    try:
        doc = _load(path)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    rows = _rows(doc)
    if rows is None and isinstance(doc, dict) and isinstance(doc.get(table), list):
        rows = doc[table]
    if rows is None:
        raise ConfigError(f"{path}: expected a Table API response {{\"result\": [...]}} of {table} rows")
    return rows


def read_export(path: Path, cfg: ServiceNowOptions) -> IncidentStream:
    label = str(path)

    def make(stream: IncidentStream):
        try:
            doc = _load(path)
        except orjson.JSONDecodeError as exc:
            yield label, exc.lineno, BadLine(f"invalid JSON ({exc.msg}); no incident could be read")
            return
        incidents = _rows(doc)
        if incidents is None:
            yield label, 1, BadLine(
                "expected a Table API response {\"result\": [incident, ...]} (optionally with "
                "\"sys_journal_field\" and \"sys_audit\" arrays)"
            )
            return
        embedded = doc if isinstance(doc, dict) else {}
        journal_rows = _embedded(embedded, "sys_journal_field", label)
        audit_rows = _embedded(embedded, "sys_audit", label)
        if cfg.journal_path:
            journal_rows = (journal_rows or []) + _side_rows("journal_path", cfg.journal_path, path.parent,
                                                             "sys_journal_field")
        if cfg.audit_path:
            audit_rows = (audit_rows or []) + _side_rows("audit_path", cfg.audit_path, path.parent, "sys_audit")
        if journal_rows is None and cfg.reads_journal:
            raise ConfigError(
                f"{label}: no \"sys_journal_field\" array and no journal_path, so first responses and updates "
                "cannot be read; add the comments (an empty array if there are none), or set comment_elements = [] "
                "with first_response_from = \"field\" or \"none\""
            )
        user_rows = _embedded(embedded, "sys_user", label)
        if cfg.user_path:
            user_rows = (user_rows or []) + _side_rows("user_path", cfg.user_path, path.parent, "sys_user")
        if user_rows is None and cfg.reads_users and journal_rows:
            raise ConfigError(
                f"{label}: no \"sys_user\" array and no user_path, so the customer's own comments cannot be told "
                "from responses; add the sys_user rows (sys_id, user_name, company) of the callers and of the "
                "customer's company, or set exclude_customer_comments = false to count every comment"
            )
        if audit_rows is None and cfg.priority_history:
            raise ConfigError(
                f"{label}: no \"sys_audit\" array and no audit_path, so priority changes cannot be read; add the "
                "sys_audit priority rows (an empty array if there are none), or set priority_history = false "
                "to take each incident's current priority as its severity"
            )
        journals = group_journal(journal_rows or [], cfg)
        audits = group_audit(audit_rows or [])
        users = Users(user_rows or [])
        for line, row in enumerate(incidents, start=1):
            yield map_row(label, line, row, cfg, journals, audits, stream, users)

    return IncidentStream(label, make)


def _embedded(doc: dict, table: str, label: str) -> list | None:
    if table not in doc:
        return None
    rows = doc[table]
    if not isinstance(rows, list):
        raise ConfigError(f"{label}: \"{table}\" must be an array of rows, got {type(rows).__name__}")
    return rows
