"""What the export and live readers share: joining journal/audit rows to incidents,
turning each incident into a ``(file, line, record | BadLine)`` triple, and counting
the canceled incidents left out."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from cso_policy import BadLine, Incomplete, LeftOut, MappingError, RawRecord

from .mapping import Users, field, incident_id, is_canceled, to_record
from .options import ServiceNowOptions

log = logging.getLogger("cso_policy_servicenow")


class IncidentStream:
    """The iterator ``read`` returns: the records (a canceled incident left out with
    ``skip_canceled = true`` is a ``LeftOut`` in its place, counted by the core), plus
    ``canceled`` (their ids), logged as a warning once the stream ends."""

    def __init__(self, label: str, make: Callable[[IncidentStream], Iterable[RawRecord]]):
        self.label = label
        self.canceled: list[str] = []
        self._it: Iterator[RawRecord] | None = None
        self._make = make
        self._done = False

    def __iter__(self) -> IncidentStream:
        return self

    def __next__(self) -> RawRecord:
        if self._it is None:
            self._it = iter(self._make(self))
        try:
            return next(self._it)
        except StopIteration:
            if not self._done:
                self._done = True
                if self.canceled:
                    shown = ", ".join(self.canceled[:10]) + (", ..." if len(self.canceled) > 10 else "")
                    log.warning("servicenow: skipped %d canceled incident(s) from %s (skip_canceled = true): %s",
                                len(self.canceled), self.label, shown)
            raise


def group_journal(rows: Iterable, cfg: ServiceNowOptions, start: int = 0) -> dict[str, list[tuple[int, dict]]]:
    """sys_journal_field rows of incidents by ``element_id`` (the incident sys_id), with their index."""
    out: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for index, row in enumerate(rows, start):
        if not isinstance(row, dict) or field(row, "name") not in (None, "incident"):
            continue
        key = field(row, "element_id")
        if key is not None and field(row, "element") in cfg.comment_elements:
            out[key].append((index, row))
    return out


def group_audit(rows: Iterable, start: int = 0) -> dict[str, list[tuple[int, dict]]]:
    """sys_audit rows of incident priority changes by ``documentkey``, with their index."""
    out: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for index, row in enumerate(rows, start):
        if not isinstance(row, dict) or field(row, "tablename") not in (None, "incident"):
            continue
        if field(row, "fieldname") != "priority":
            continue
        key = field(row, "documentkey")
        if key is not None:
            out[key].append((index, row))
    return out


def map_row(
    file: str,
    line: int,
    row,
    cfg: ServiceNowOptions,
    journals: dict,
    audits: dict,
    stream: IncidentStream,
    users: Users | None = None,
) -> RawRecord:
    """The triple for one incident row: a record, a ``BadLine`` (cannot be mapped), a
    ``LeftOut`` (a canceled incident, with ``skip_canceled``) or an ``Incomplete`` (its
    severity history or its customer cannot be known from the rows given)."""
    if not isinstance(row, dict):
        return file, line, BadLine(f"expected an incident object, got {type(row).__name__}")
    key = incident_id(row, cfg)
    if cfg.skip_canceled and is_canceled(row, cfg):
        stream.canceled.append(key or f"#{line}")
        return file, line, LeftOut("cancelled incident")
    sys_id = field(row, "sys_id") or ""
    try:
        record, incomplete = to_record(row, cfg, journals=journals.get(sys_id, []), audits=audits.get(sys_id, []),
                                       users=users)
    except MappingError as exc:
        return file, line, BadLine(f"incident {key}: {exc}" if key else str(exc))
    if incomplete is not None:
        return file, line, Incomplete(record, f"incident {key}: {incomplete}")
    return file, line, record


def user_refs(rows) -> set[str]:
    """The sys_ids of the users an incident row names as caller and opener."""
    out = set()
    for row in rows:
        if isinstance(row, dict):
            for name in ("caller_id", "opened_by"):
                value = field(row, name)
                if value is not None:
                    out.add(value)
    return out
